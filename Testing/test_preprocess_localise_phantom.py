"""The automatic LV centre on the project's phantom (single basal/mid/apical slices and a multi-slice study):
it must fall inside the blood pool of the reference labels, read back through the phantom file layout."""
from __future__ import annotations

import numpy as np
import pytest

from pscgan.io.readers import read_cine, read_labels
from pscgan.labels import BLOOD_POOL
from pscgan.phantom import generate as phantom
from pscgan.preprocess import locate_lv, prepare


@pytest.mark.parametrize("index,level", [(0, "basal"), (1, "basal"), (2, "mid"), (3, "apical")])
def test_centre_in_blood_pool_single_slice(index, level):
    case = phantom.generate_case(21, index, level=level)
    sp = case.meta["pixel_spacing_mm"]
    study = read_cine(case.cine, spacing=(sp[1], sp[0], 10.0))  # identity direction: no anatomical prior
    center = locate_lv(study)[0]
    assert case.labels[int(round(center[0])), int(round(center[1]))] == BLOOD_POOL
    ref = np.asarray(case.meta["lv_center_rc"], float)
    assert np.hypot(*(center - ref)) * sp[0] < 15.0


def test_centre_in_blood_pool_study_folder(tmp_path):
    from pscgan.phantom.writer import write_study

    folder = write_study(phantom.generate_study(5, 5), tmp_path / "study")
    study = read_cine(folder)
    labels = read_labels(folder).pixels  # (S, R, C)
    assert study.pixels.shape[:2] == (5, 25) and labels.shape == (5,) + study.slice_shape
    batch = prepare(study)
    assert batch.cine.shape == (5, 25, 64, 64)
    for k, (r, c) in enumerate(batch.centers_rc):
        assert labels[k, int(round(r)), int(round(c))] == BLOOD_POOL, f"slice {k + 1}"


# Dilated hearts of the phantom test set (seed 2, phantom-1.3) where the single Otsu level joined LV and RV
# (and fat) into one region too large to be an LV: the centre fell on the RV blood (167), the septum (297)
# or the fluid-filled stomach (110). Found by running locate_lv on the 94 failing hearts of seed 2, 0..299.
@pytest.mark.parametrize("index", [110, 167, 297])
def test_centre_in_lv_not_rv_in_dilated_hearts(index):
    assert _centre_tissue(index) == BLOOD_POOL


@pytest.mark.xfail(strict=True, reason="known failure: once the oversized LV+RV region is split, the RV part "
                                       "(3400 mm2, convexity 0.76) outscores the LV (score 0.059 vs 0.057)")
def test_centre_in_lv_not_rv_basal_dilated_heart_270():
    assert _centre_tissue(270) == BLOOD_POOL


def _centre_tissue(index: int) -> int:
    """Reference label under the automatic centre of phantom case (seed 2, index), read without orientation."""
    case = phantom.generate_case(2, index)
    sp = case.meta["pixel_spacing_mm"]
    study = read_cine(case.cine, spacing=(sp[1], sp[0], 10.0))
    r, c = (int(round(v)) for v in locate_lv(study)[0])
    return int(case.labels[r, c])


def test_motion_map_is_the_first_fft_bin_over_time():
    from pscgan.preprocess.localise import _motion_map

    rng = np.random.default_rng(3)
    frames = rng.random((25, 30, 40)).astype(np.float32)
    h1 = np.abs(np.fft.rfft(frames.astype(np.float64), axis=0)[1])
    np.testing.assert_allclose(_motion_map(frames), np.minimum(h1 / np.percentile(h1, 99.0), 1.0), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("corner", ["top-left", "bottom-right"])
def test_heart_near_the_image_edge_is_found_where_it_lies(corner):
    """Candidates are searched in a window around the heart; at the image's edge the window is cut, not moved."""
    case = phantom.generate_case(21, 2, level="mid")
    sp = case.meta["pixel_spacing_mm"]
    ref = np.asarray(case.meta["lv_center_rc"], float)
    r, c = (int(v) for v in ref)
    keep = np.s_[r - 25:, c - 25:] if corner == "top-left" else np.s_[:r + 26, :c + 26]
    offset = np.array([r - 25, c - 25], float) if corner == "top-left" else np.zeros(2)
    study = read_cine(np.ascontiguousarray(case.cine[(slice(None), *keep)]), spacing=(sp[1], sp[0], 10.0))  # (T, R, C)
    center = locate_lv(study)[0]
    labels = case.labels[keep]
    assert labels[int(round(center[0])), int(round(center[1]))] == BLOOD_POOL
    assert np.hypot(*(center + offset - ref)) * sp[0] < 15.0


def test_convexity_from_row_extremes_equals_the_hull_of_every_pixel_corner():
    from scipy import ndimage as ndi
    from scipy.spatial import ConvexHull

    from pscgan.preprocess.localise import _convexity, _row_extremes

    rng = np.random.default_rng(3)
    corners = np.array([[-0.5, -0.5], [-0.5, 0.5], [0.5, -0.5], [0.5, 0.5]])
    for k in range(12):
        blob = ndi.gaussian_filter(rng.random((40, 50)), 3 + k % 4) > 0.5  # irregular regions, some in pieces
        pts = np.argwhere(blob).astype(float)
        rng.shuffle(pts)  # any order, not only argwhere's
        assert len(_row_extremes(pts)) <= 2 * len(np.unique(pts[:, 0]))
        full = ConvexHull((pts[:, None] + corners[None]).reshape(-1, 2)).volume
        assert _convexity(pts) == pytest.approx(min(1.0, len(pts) / full), rel=1e-12)
    crescent = np.argwhere((np.hypot(*np.mgrid[-20:21, -20:21]) < 20) & (np.hypot(*np.mgrid[-20:21, -12:29]) > 18)).astype(float)
    assert _convexity(crescent) < 0.6


def test_bridge_opening_separates_lv_from_rv_joined_by_a_thin_bridge():
    """Two cavities joined by a 3-pixel bridge split into two candidates; a crescent thinner than the disk
    is erased, leaving the round cavity; a lone cavity adds nothing (it is a candidate already)."""
    from pscgan.preprocess.localise import LocaliseConfig, _split_at_bridges

    rr, cc = np.mgrid[0:80, 0:120]
    lv = np.hypot(rr - 40, cc - 40) < 14
    rv = np.hypot(rr - 40, cc - 85) < 14
    bridge = (np.abs(rr - 40) <= 1) & (cc > 40) & (cc < 85)
    cfg, mm = LocaliseConfig(), 1.0  # 5 mm disk: radius 5 pixels
    parts = _split_at_bridges([lv | rv | bridge], mm, cfg)
    centres = sorted(tuple(np.round(np.argwhere(p).mean(axis=0))) for p in parts)
    assert centres == [(40.0, 40.0), (40.0, 85.0)]

    crescent = (np.hypot(rr - 40, cc - 40) < 20) & (np.hypot(rr - 40, cc - 40) >= 16) & (cc > 40)
    parts = _split_at_bridges([lv | crescent | ((np.abs(rr - 40) <= 1) & (cc > 40) & (cc < 57))], mm, cfg)
    assert len(parts) == 1
    assert (parts[0] & lv).sum() / (parts[0] | lv).sum() > 0.95  # the cavity, less a few digital corners
    np.testing.assert_allclose(np.argwhere(parts[0]).mean(axis=0), (40, 40), atol=0.5)
    assert _split_at_bridges([lv], mm, cfg) == []


# phantom-1.4, seed 11 (a development set): the first level joined the LV blood to the RV, a bright bridge or
# the chest wall, and the joined region's centroid fell 20-25 mm from the LV's (on the septum in 132). The
# centre of the region's widest part, and the parts a stronger opening cuts apart, keep it within 6 mm.
@pytest.mark.parametrize("index", [5, 95, 132, 142])
def test_centre_of_the_lv_cavity_not_of_the_joined_region(index):
    from pscgan.phantom.config import phantom_config

    case = phantom.generate_case(11, index, phantom_config("phantom-1.4"))
    sp = case.meta["pixel_spacing_mm"]
    study = read_cine(case.cine, spacing=(sp[1], sp[0], 10.0))
    center = locate_lv(study)[0]
    assert case.labels[int(round(center[0])), int(round(center[1]))] == BLOOD_POOL
    assert np.hypot(*(center - np.argwhere(case.labels == BLOOD_POOL).mean(axis=0))) * sp[0] < 6.0


def test_cavity_centre_is_the_widest_part_of_a_joined_region():
    from pscgan.preprocess.localise import _cavity_centre

    rr, cc = np.mgrid[0:80, 0:120]
    lv = np.hypot(rr - 40, cc - 40) < 16
    rv = (np.abs(rr - 40) < 7) & (cc >= 40) & (cc < 110)  # a thinner, longer part joined to the LV
    assert np.argwhere(lv | rv).mean(axis=0)[1] > 55  # the centroid lies outside the LV cavity
    np.testing.assert_allclose(_cavity_centre(lv | rv), (40, 40), atol=1.5)
