"""Post-processing: only the labelled region at or nearest the ROI centre (the LV) keeps its labels, and within it
only the blood-pool region at or nearest the centre stays blood pool."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from pscgan.labels import BLOOD_POOL, HEALTHY_MYOCARDIUM, OTHER, SCAR
from pscgan.postprocess import keep_lv_region, keep_lv_regions


def _heart(size: int = 64) -> np.ndarray:
    """A blood pool disc in a wall ring with a scar sector, centred on the ROI centre."""
    rr, cc = np.mgrid[:size, :size] - size // 2
    radius = np.hypot(rr, cc)
    labels = np.zeros((size, size), np.uint8)
    labels[radius < 14] = HEALTHY_MYOCARDIUM
    labels[(radius < 14) & (cc > 6)] = SCAR
    labels[radius < 9] = BLOOD_POOL
    return labels


def test_detached_blobs_become_other_and_the_heart_is_untouched():
    heart = _heart()
    labels = heart.copy()
    labels[2:8, 2:10] = BLOOD_POOL  # a right-ventricle-like blob
    labels[55:60, 50:62] = SCAR  # scar-like tissue far from the wall
    labels[20, 50] = HEALTHY_MYOCARDIUM  # a single stray pixel
    kept = keep_lv_region(labels)
    np.testing.assert_array_equal(kept, heart)
    assert kept.dtype == labels.dtype and labels[3, 3] == BLOOD_POOL  # the input is not changed


def test_a_blob_touching_the_wall_even_diagonally_is_kept():
    labels = _heart()
    rows, cols = np.nonzero(labels)
    r, c = rows.max(), cols[rows == rows.max()].max()  # the ring's lowest-right pixel
    labels[r + 1, c + 1] = HEALTHY_MYOCARDIUM  # touches it at a corner only
    labels[r + 2, c + 2] = HEALTHY_MYOCARDIUM
    np.testing.assert_array_equal(keep_lv_region(labels), labels)


def test_a_second_blood_pool_joined_by_wall_becomes_other_and_the_wall_stays():
    """Rule 2: right-ventricular blood joined to the LV through predicted wall is not LV blood pool."""
    heart = _heart()
    labels = heart.copy()
    labels[26:38, 46:58] = HEALTHY_MYOCARDIUM  # wall reaching out of the ring (it touches the ring)
    labels[28:36, 48:56] = BLOOD_POOL  # a second blood pool inside it, not connected to the LV's
    kept = keep_lv_region(labels)
    expected = labels.copy()
    expected[28:36, 48:56] = OTHER
    np.testing.assert_array_equal(kept, expected)
    # a blood pool split by a one-pixel bridge of wall through the centre keeps the part at the centre only
    split = heart.copy()
    split[:, 33] = np.where(split[:, 33] == BLOOD_POOL, HEALTHY_MYOCARDIUM, split[:, 33])
    kept = keep_lv_region(split)
    assert (kept[:, 34:][heart[:, 34:] == BLOOD_POOL] == OTHER).all()
    assert (kept[:, :33][heart[:, :33] == BLOOD_POOL] == BLOOD_POOL).all()


def test_with_an_unlabelled_centre_the_nearest_region_is_kept():
    labels = np.zeros((64, 64), np.uint8)
    labels[30:34, 36:40] = HEALTHY_MYOCARDIUM  # 4 px right of the centre (32, 32)
    labels[0:20, 0:20] = BLOOD_POOL  # larger but farther
    kept = keep_lv_region(labels)
    assert (kept[30:34, 36:40] == HEALTHY_MYOCARDIUM).all() and (kept[0:20, 0:20] == OTHER).all()
    blank = np.zeros((64, 64), np.uint8)
    np.testing.assert_array_equal(keep_lv_region(blank), blank)


def test_a_stack_is_cleaned_slice_by_slice():
    one, two = _heart(), _heart()
    two[0:4, 0:4] = SCAR
    out = keep_lv_regions(np.stack([one, two]))
    np.testing.assert_array_equal(out, np.stack([one, _heart()]))
    assert keep_lv_regions(np.zeros((0, 64, 64), np.uint8)).shape == (0, 64, 64)


def test_run_study_pastes_back_the_cleaned_labels(tmp_path):
    """Through the pipeline: a predictor that labels a heart plus a detached blob in every ROI gets one
    labelled region per slice in the study's geometry, and the metrics are measured on it."""
    from scipy import ndimage

    from pscgan.io.readers import read_cine
    from pscgan.phantom import generate_study, write_study
    from pscgan.pipeline import run_study
    from pscgan.preprocess import PreprocessConfig

    write_study(generate_study(5, n_slices=2), tmp_path / "study")
    study = read_cine(tmp_path / "study" / "cine.nii.gz")

    class Predictor:
        preprocess = PreprocessConfig()
        synthesises_lge = True

        def predict(self, cine, should_cancel=None):
            labels = np.stack([_heart(cine.shape[-1]) for _ in range(len(cine))])
            labels[:, 4:12, 4:14] = BLOOD_POOL  # detached from the heart in every ROI
            return SimpleNamespace(lge=np.zeros(labels.shape, np.float32), labels=labels)

    result = run_study(study, Predictor())
    for s in range(result.labels.shape[0]):
        _, regions = ndimage.label(result.labels[s] != OTHER, structure=np.ones((3, 3)))
        assert regions == 1, f"slice {s}: {regions} labelled regions"
    assert all(q is not None for q in result.quantification)
