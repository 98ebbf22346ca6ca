"""Real cine DICOM (Sunnybrook, CC0): geometry from IPP/IOP, frame grouping, and the automatic LV centre
against the experts' endocardial contours."""
from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pytest
from matplotlib.path import Path as PolygonPath

from pscgan.io.readers import read_cine
from pscgan.preprocess import PreprocessConfig, locate_lv, prepare

STUDIES = {"SCD0000101": "SC-HF-I-1", "SCD0000201": "SC-HF-I-2"}


@pytest.fixture(scope="module")
def studies(sunnybrook_dir):
    return {pid: read_cine(sunnybrook_dir / "dicoms" / pid) for pid in STUDIES}


@pytest.fixture(scope="module")
def manifest(sunnybrook_dir):
    with open(sunnybrook_dir / "manifest.csv", newline="") as f:
        return list(csv.DictReader(f))


def _ipp(row) -> np.ndarray:
    return np.array([float(v) for v in row["image_position"].split("\\")])


def test_scd0000101_shape_and_geometry(studies, manifest):
    study = studies["SCD0000101"]
    assert study.pixels.shape == (12, 20, 256, 256)
    assert study.pixels.dtype == np.float32
    assert study.spacing[0] == pytest.approx(1.367188, abs=1e-6)
    assert study.spacing[1] == pytest.approx(1.367188, abs=1e-6)
    assert study.spacing[2] == pytest.approx(10.0, abs=0.01)  # not SliceLocation's 6.72 mm step
    rows = [r for r in manifest if r["patient_id"] == "SCD0000101"]
    first = min(rows, key=lambda r: int(r["instance"]))
    np.testing.assert_allclose(study.origin, _ipp(first), atol=1e-4)  # origin = IPP of the first slice
    # every slice's IPP is where the geometry puts voxel (0, 0, k)
    for k in range(12):
        row = next(r for r in rows if int(r["slice_index"]) == k + 1)
        np.testing.assert_allclose(study.index_to_lps(0, 0, k), _ipp(row), atol=0.05)
    d = study.direction
    np.testing.assert_allclose(d.T @ d, np.eye(3), atol=1e-6)
    assert 20.0 < study.frame_interval_ms < 60.0


def test_scd0000101_pixels_match_the_files(studies, sunnybrook_dir, manifest):
    import pydicom

    study = studies["SCD0000101"]
    for instance in (1, 37, 240):  # slice = (N-1)//20, phase = (N-1)%20
        ds = pydicom.dcmread(sunnybrook_dir / "dicoms" / "SCD0000101" / f"{instance}.dcm")
        expected = ds.pixel_array.astype(np.float32) * float(getattr(ds, "RescaleSlope", 1) or 1) + float(getattr(ds, "RescaleIntercept", 0) or 0)
        np.testing.assert_array_equal(study.pixels[(instance - 1) // 20, (instance - 1) % 20], expected)


def test_scd0000201_three_slices(studies):
    study = studies["SCD0000201"]
    assert study.pixels.shape == (3, 20, 256, 256)
    assert study.spacing[2] == pytest.approx(10.0, abs=0.01)


def _contours(sunnybrook_dir: Path, pid: str):
    """(slice index in the study, phase, polygon (N, 2) as (row, col)) for every i-contour."""
    first_slice = min((int(p.stem) - 1) // 20 for p in (sunnybrook_dir / "dicoms" / pid).glob("*.dcm"))
    for f in sorted((sunnybrook_dir / "contours" / STUDIES[pid] / "i-contours").glob("*-icontour-manual.txt")):
        n = int(re.search(r"IM-0001-(\d+)-", f.name).group(1))
        xy = np.loadtxt(f)  # x = column, y = row
        yield (n - 1) // 20 - first_slice, (n - 1) % 20, np.c_[xy[:, 1], xy[:, 0]]


@pytest.mark.parametrize("pid", sorted(STUDIES))
def test_automatic_lv_centre_inside_endocardium_on_every_contoured_slice(studies, sunnybrook_dir, pid):
    centers = locate_lv(studies[pid])
    assert centers.shape == (studies[pid].num_slices, 2)
    contours = list(_contours(sunnybrook_dir, pid))
    assert len({k for k, _, _ in contours}) >= 3
    for k, phase, polygon in contours:
        assert PolygonPath(polygon).contains_point(centers[k]), (
            f"{pid} slice {k + 1} phase {phase + 1}: centre {centers[k].round(1)} outside the endocardial contour"
        )


def test_prepare_on_real_study(studies):
    study = studies["SCD0000101"]
    batch = prepare(study, PreprocessConfig())
    assert batch.cine.shape == (12, 25, 64, 64)
    assert batch.cine.dtype == np.float32
    assert batch.cine.min() >= -1.0 and batch.cine.max() <= 1.0
    assert batch.cine.min() == -1.0 and batch.cine.max() == 1.0
    assert batch.source_shape == (256, 256)
    np.testing.assert_allclose(batch.pixel_spacing_rc, [1.367188, 1.367188])
    assert batch.automatic
    np.testing.assert_allclose(batch.centers_rc, locate_lv(study))
