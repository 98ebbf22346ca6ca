"""ROI crop / paste-back geometry, prepare(), and the LV localiser on a synthetic beating heart."""
from __future__ import annotations

import numpy as np
import pytest

from pscgan.errors import InputError
from pscgan.io.readers import read_cine
from pscgan.preprocess import PreprocessConfig, crop_roi, locate_lv, paste_back, prepare

NATIVE = PreprocessConfig(roi_spacing_mm=None)
PHYSICAL = PreprocessConfig(roi_spacing_mm=1.6)


def _random_labels(rng, n=64) -> np.ndarray:
    coarse = rng.integers(0, 4, size=(8, 8))
    return np.kron(coarse, np.ones((n // 8, n // 8), int)).astype(np.uint8)


@pytest.mark.parametrize("cfg,spacing_rc", [(NATIVE, (1.4, 1.4)), (PHYSICAL, (1.25, 1.1)), (PHYSICAL, (1.6, 1.6))])
def test_labels_crop_of_paste_is_identity(cfg, spacing_rc):
    rng = np.random.default_rng(1)
    roi = _random_labels(rng)
    center = (97.0, 88.0)
    pasted = paste_back(roi, center, spacing_rc, (200, 180), cfg, order=0, fill=0)
    assert pasted.shape == (200, 180)
    assert set(np.unique(pasted)) <= {0, 1, 2, 3}
    back = crop_roi(pasted, center, spacing_rc, cfg, order=0)
    np.testing.assert_array_equal(back, roi)


def test_native_crop_takes_native_pixels_exactly():
    image = np.arange(100 * 90, dtype=np.float32).reshape(100, 90)
    roi = crop_roi(image, (50, 40), (1.5, 1.5), NATIVE)
    np.testing.assert_array_equal(roi, image[50 - 32 : 50 + 32, 40 - 32 : 40 + 32])


def _blob(shape, center_rc, spacing_rc, sigma_mm=6.0) -> np.ndarray:
    rr, cc = np.mgrid[0 : shape[0], 0 : shape[1]].astype(float)
    d2 = ((rr - center_rc[0]) * spacing_rc[0]) ** 2 + ((cc - center_rc[1]) * spacing_rc[1]) ** 2
    return np.exp(-0.5 * d2 / sigma_mm**2).astype(np.float32)


def _centroid(img: np.ndarray) -> np.ndarray:
    rr, cc = np.mgrid[0 : img.shape[0], 0 : img.shape[1]]
    return np.array([(rr * img).sum(), (cc * img).sum()]) / img.sum()


def test_blob_keeps_its_physical_position_both_ways():
    spacing_rc = (1.3, 1.1)
    blob_rc = np.array([110.4, 77.8])
    roi_center = (100.0, 90.0)
    image = _blob((220, 200), blob_rc, spacing_rc)
    roi = crop_roi(image, roi_center, spacing_rc, PHYSICAL)
    assert roi.shape == (64, 64)
    # in the ROI (1.6 mm pixels, centre at index 32) the blob sits at its physical offset from the centre
    expected = 32 + (blob_rc - roi_center) * np.array(spacing_rc) / 1.6
    np.testing.assert_allclose(_centroid(roi), expected, atol=0.05)
    # ROI drawn independently at its own grid, pasted back: centroid at the blob's native position
    roi_blob = _blob((64, 64), expected, (1.6, 1.6))
    pasted = paste_back(roi_blob, roi_center, spacing_rc, (220, 200), PHYSICAL, order=1, fill=0.0)
    np.testing.assert_allclose(_centroid(pasted), blob_rc, atol=0.05)
    np.testing.assert_allclose(pasted, image, atol=0.02)  # the whole blob is inside the window


def test_paste_fills_outside_the_window():
    pasted = paste_back(np.ones((64, 64), np.float32), (100, 100), (1.0, 1.0), (200, 200), PHYSICAL, fill=-1.0)
    inside = pasted == 1.0
    assert pasted[~inside].min() == -1.0
    rows = np.flatnonzero(inside.any(axis=1))
    assert rows.size == pytest.approx(64 * 1.6, abs=2)  # the window covers 102.4 mm = ~102 native pixels


def test_leading_axes_are_kept():
    stack = np.random.default_rng(0).random((3, 5, 80, 70)).astype(np.float32)
    roi = crop_roi(stack, (40, 35), (1.2, 1.2), PHYSICAL)
    assert roi.shape == (3, 5, 64, 64)
    np.testing.assert_array_equal(roi[2, 4], crop_roi(stack[2, 4], (40, 35), (1.2, 1.2), PHYSICAL))


def _beating_heart(frames=20, size=128, lv_rc=(70.0, 58.0)) -> np.ndarray:
    """(1, T, R, C): a round LV blood pool (bright) in a moving myocardial ring, a moving RV crescent, a static
    bright blob (fat) and noise."""
    rng = np.random.default_rng(2)
    rr, cc = np.mgrid[0:size, 0:size].astype(float)
    out = np.empty((frames, size, size), np.float32)
    for t in range(frames):
        phase = 0.5 * (1 - np.cos(2 * np.pi * t / frames))  # 0 at ED, 1 at ES
        r_blood = 12.0 - 5.0 * phase
        d_lv = np.hypot(rr - lv_rc[0], cc - lv_rc[1])
        img = np.full((size, size), 0.15)
        img[d_lv < r_blood + 6] = 0.3  # myocardium
        img[d_lv < r_blood] = 1.0  # LV blood
        d_rv = np.hypot(rr - lv_rc[0] + 3, cc - lv_rc[1] + 16)
        crescent = (d_rv < 26 - 4 * phase) & (d_lv > 20) & (cc < lv_rc[1])
        img[crescent] = 0.95
        img[np.hypot(rr - 20, cc - 110) < 9] = 1.0  # static bright fat
        out[t] = img + rng.normal(0, 0.03, img.shape)
    return out[None]


def test_locate_lv_on_synthetic_heart():
    lv = (70.0, 58.0)
    study = read_cine(_beating_heart(lv_rc=lv), spacing=(1.5, 1.5, 10.0))
    center = locate_lv(study)[0]
    assert np.hypot(*(center - lv)) < 2.0


def test_prepare_with_user_centre_and_automatic():
    study = read_cine(np.repeat(_beating_heart(), 2, axis=0), spacing=(1.5, 1.5, 10.0))
    batch = prepare(study, PreprocessConfig(), centers_rc=(60.0, 50.0))
    assert batch.cine.shape == (2, 25, 64, 64)
    assert not batch.automatic
    np.testing.assert_array_equal(batch.centers_rc, [[60.0, 50.0], [60.0, 50.0]])
    assert batch.cine.min() >= -1 and batch.cine.max() <= 1
    auto = prepare(study)
    assert auto.automatic and np.hypot(*(auto.centers_rc[0] - (70.0, 58.0))) < 2.0
    with pytest.raises(InputError, match="NaN"):
        prepare(study, centers_rc=(np.nan, 3.0))


def test_config_round_trip_and_checks():
    cfg = PreprocessConfig(frames=20, roi_size=48, roi_spacing_mm=None, clip_percentiles=(1.0, 99.0))
    assert PreprocessConfig.from_dict(cfg.to_dict()) == cfg
    assert PreprocessConfig.from_dict(PreprocessConfig().to_dict()) == PreprocessConfig()
    with pytest.raises(ValueError):
        PreprocessConfig(clip_percentiles=(60.0, 40.0))
    with pytest.raises(ValueError):
        PreprocessConfig.from_dict({"frames": 25, "colour": "red"})


def test_stack_consistency_fills_a_slice_without_a_clear_lv():
    """A stack whose last (apical) slice shows no LV but a bright moving distractor far away: that slice takes
    the centre from its neighbours, not the distractor."""
    heart = _beating_heart()[0]  # (T, R, C), LV at (70, 58)
    rng = np.random.default_rng(9)
    apex = np.full_like(heart, 0.15) + rng.normal(0, 0.03, heart.shape).astype(np.float32)
    rr, cc = np.mgrid[0:128, 0:128]
    for t in range(apex.shape[0]):  # a round bright blob pulsing 45 px (67 mm) away from the LV
        apex[t][np.hypot(rr - 110, cc - 110) < 8 + 3 * np.sin(2 * np.pi * t / apex.shape[0])] = 1.0
    study = read_cine(np.stack([heart, heart, heart, apex]), spacing=(1.5, 1.5, 10.0))
    centers = locate_lv(study)
    for k in range(4):
        assert np.hypot(*(centers[k] - (70.0, 58.0))) < 3.0, f"slice {k + 1}: {centers[k]}"


def test_fine_native_pixels_are_antialiased():
    """A 0.5 mm checkerboard (finer than the 1.6 mm ROI can show) must not alias into a pattern."""
    rr, cc = np.mgrid[0:400, 0:400]
    checker = ((rr + cc) % 2).astype(np.float32)  # native 0.5 mm pixels
    roi = crop_roi(checker, (200, 200), (0.5, 0.5), PHYSICAL)
    assert roi.std() < 0.05 and abs(roi.mean() - 0.5) < 0.05
    labels = crop_roi(checker, (200, 200), (0.5, 0.5), PHYSICAL, order=0)  # labels are never blurred
    assert set(np.unique(labels)) == {0.0, 1.0}


def _paste_every_pixel(roi, center, spacing_rc, shape, cfg, order, fill):
    """paste_back's definition, sampling every native pixel of the slice (the oracle for its bounding box)."""
    from scipy.ndimage import map_coordinates

    from pscgan.preprocess.roi import native_to_roi

    n = cfg.roi_size
    grid = np.stack(np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij"), axis=-1)
    at = native_to_roi(grid, center, spacing_rc, cfg)
    out = map_coordinates(roi.astype(np.float32), [at[..., 0], at[..., 1]], order=order, mode="nearest").astype(np.float32)
    out[~((at > -0.5) & (at < n - 0.5)).all(axis=-1)] = fill
    return out


@pytest.mark.parametrize("seed", range(8))
def test_paste_back_samples_only_the_window_and_matches_every_pixel_sampling(seed):
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(40, 220)), int(rng.integers(40, 220)))
    spacing_rc = tuple(rng.uniform(0.7, 2.5, 2))
    center = (rng.uniform(-40, shape[0] + 40), rng.uniform(-40, shape[1] + 40))  # the window may leave the slice
    roi = rng.random((64, 64)).astype(np.float32)
    for cfg in (PHYSICAL, NATIVE):
        for order, data in ((0, (roi * 4).astype(np.uint8)), (1, roi)):
            got = paste_back(data, center, spacing_rc, shape, cfg, order=order, fill=-1.0)
            np.testing.assert_array_equal(got, _paste_every_pixel(data, center, spacing_rc, shape, cfg, order, -1.0))
