"""Phantom determinism, files (NIfTI layout, spacing, pixdim[4], meta.json), studies and `pscgan phantom`."""
from __future__ import annotations

import gzip
import json
import struct
from dataclasses import replace

import numpy as np
import pytest
import SimpleITK as sitk

from pscgan.cli import main
from pscgan.phantom import PhantomConfig, generate_case, generate_study, write_case, write_study

SMALL = replace(PhantomConfig(), frames=10, fov_range_mm=(260.0, 280.0), spacing_range_mm=(1.6, 1.8),
                image_size_range=(160, 176))
META_KEYS = {"generator_version", "seed", "case_index", "pixel_spacing_mm", "image_size", "frames", "frame_interval_ms",
             "level", "lv_center_rc", "rv_insertion_anterior_rc", "rv_insertion_inferior_rc", "territory", "has_scar",
             "scar_area_cm2", "scar_ratio", "snr", "lge_shift_mm", "segments", "es_frame"}


def nifti_pixdim(path) -> tuple[float, ...]:
    """pixdim[0..7] read straight from the NIfTI-1 header (independent of SimpleITK)."""
    header = gzip.open(path).read(348)
    return struct.unpack("<8f", header[76:108])


@pytest.fixture(scope="module")
def case():
    return generate_case(5, 3, SMALL)


def test_same_seed_same_case_and_different_seed_differs(case):
    again = generate_case(5, 3, SMALL)
    for name in ("cine", "cine_labels", "lge", "labels", "tissue_map"):
        np.testing.assert_array_equal(getattr(case, name), getattr(again, name))
    assert json.dumps(case.meta, sort_keys=True) == json.dumps(again.meta, sort_keys=True)
    other_seed, other_index = generate_case(6, 3, SMALL), generate_case(5, 4, SMALL)
    for other in (other_seed, other_index):
        assert other.cine.shape != case.cine.shape or not np.array_equal(other.cine, case.cine)


def test_arrays_shapes_and_types(case):
    t = SMALL.frames
    rows, cols = case.meta["image_size"]
    assert case.cine.shape == (t, rows, cols) and case.cine.dtype == np.float32
    assert case.cine_labels.shape == (t, rows, cols) and case.cine_labels.dtype == np.uint8
    assert case.lge.shape == (rows, cols) and case.lge.dtype == np.float32
    assert case.labels.shape == (rows, cols) and case.labels.dtype == np.uint8
    assert np.isfinite(case.cine).all() and case.cine.min() >= 0
    assert META_KEYS <= set(case.meta)
    assert 0 < case.meta["es_frame"] < t
    assert case.meta["frame_interval_ms"] * t == pytest.approx(case.meta["frame_interval_ms"] * case.meta["frames"])
    assert 700 / t <= case.meta["frame_interval_ms"] <= 1100 / t


def test_write_case_files_read_back(case, tmp_path):
    folder = write_case(case, tmp_path / "c0")
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["cine.nii.gz", "cine_labels.nii.gz", "lge.nii.gz", "labels.nii.gz", "meta.json"])
    rows, cols = case.meta["image_size"]
    sr, sc = case.meta["pixel_spacing_mm"]
    frame_ms = case.meta["frame_interval_ms"]
    cine = sitk.ReadImage(str(folder / "cine.nii.gz"))
    assert cine.GetSize() == (cols, rows, 1, SMALL.frames)
    assert cine.GetPixelID() == sitk.sitkFloat32
    assert cine.GetSpacing()[:2] == pytest.approx((sc, sr)) and cine.GetSpacing()[3] == pytest.approx(frame_ms)
    assert nifti_pixdim(folder / "cine.nii.gz")[4] == pytest.approx(frame_ms, rel=1e-6)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(cine)[:, 0], case.cine)
    cine_labels = sitk.ReadImage(str(folder / "cine_labels.nii.gz"))
    assert cine_labels.GetSize() == (cols, rows, 1, SMALL.frames) and cine_labels.GetPixelID() == sitk.sitkUInt8
    np.testing.assert_array_equal(sitk.GetArrayFromImage(cine_labels)[:, 0], case.cine_labels)
    for name, array, pixel in (("lge", case.lge, sitk.sitkFloat32), ("labels", case.labels, sitk.sitkUInt8)):
        image = sitk.ReadImage(str(folder / f"{name}.nii.gz"))
        assert image.GetSize() == (cols, rows, 1) and image.GetPixelID() == pixel
        assert image.GetSpacing()[:2] == pytest.approx((sc, sr))
        np.testing.assert_array_equal(sitk.GetArrayFromImage(image)[0], array)
    meta = json.loads((folder / "meta.json").read_text())
    assert meta == json.loads(json.dumps(case.meta))
    # Writing again replaces the folder atomically and leaves no temporary folders behind.
    write_case(case, tmp_path / "c0")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c0"]


def test_study_one_heart_base_to_apex(tmp_path):
    slices = generate_study(8, 3, SMALL)
    assert [s.meta["level"] for s in slices] == ["basal", "mid", "apical"]
    assert len({s.cine.shape for s in slices}) == 1
    assert len({s.meta["territory"] for s in slices if s.meta["has_scar"]}) == 1
    assert any(s.meta["has_scar"] for s in slices)
    blood = [(s.labels == 1).sum() for s in slices]
    assert blood[0] > blood[2]  # the LV tapers towards the apex
    folder = write_study(slices, tmp_path / "study", slice_spacing_mm=10.0)
    rows, cols = slices[0].meta["image_size"]
    cine = sitk.ReadImage(str(folder / "cine.nii.gz"))
    assert cine.GetSize() == (cols, rows, 3, SMALL.frames) and cine.GetSpacing()[2] == pytest.approx(10.0)
    labels = sitk.ReadImage(str(folder / "labels.nii.gz"))
    assert labels.GetSize() == (cols, rows, 3)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(labels)[2], slices[2].labels)
    meta = json.loads((folder / "meta.json").read_text())
    assert len(meta["slices"]) == 3 and meta["slices"][1]["level"] == "mid"
    assert meta["scar_area_cm2"] == pytest.approx(sum(s.meta["scar_area_cm2"] for s in slices))
    # Combined segments: every slice's segments appear once, scar flags carried over.
    per_slice = {k: v for s in slices for k, v in s.meta["segments"].items()}
    assert set(meta["segments"]) == set(per_slice)
    assert {k for k, v in meta["segments"].items() if v["has_scar"]} == {k for k, v in per_slice.items() if v["has_scar"]}


def test_cli_writes_dataset(tmp_path, capsys):
    out = tmp_path / "ds"
    assert main(["phantom", "--out", str(out), "--cases", "2", "--seed", "4", "--frames", "8", "--quiet"]) == 0
    assert "wrote 2 phantom cases" in capsys.readouterr().out
    info = json.loads((out / "dataset.json").read_text())
    assert info["count"] == 2 and info["seed"] == 4 and info["cases"] == ["case_00000", "case_00001"]
    image = sitk.ReadImage(str(out / "case_00001" / "cine.nii.gz"))
    assert image.GetSize()[3] == 8
    expected = generate_case(4, 1, replace(PhantomConfig(), frames=8))
    np.testing.assert_array_equal(sitk.GetArrayFromImage(image)[:, 0], expected.cine)
    # Re-running into the same phantom folder is allowed.
    assert main(["phantom", "--out", str(out), "--cases", "1", "--seed", "4", "--frames", "8", "--quiet"]) == 0


@pytest.mark.parametrize("args, message", [
    (["--cases", "0"], "--cases 0"),
    (["--frames", "5"], "--frames 5"),
    (["--workers", "0"], "--workers 0"),
    (["--study", "0"], "--study 0"),
])
def test_cli_rejects_bad_numbers(tmp_path, capsys, args, message):
    assert main(["phantom", "--out", str(tmp_path / "x"), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_cli_refuses_foreign_non_empty_folder(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["phantom", "--out", str(tmp_path), "--cases", "1"]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path) in err and "not empty" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_generate_case_rejects_unknown_level():
    from pscgan.errors import InputError

    with pytest.raises(InputError, match="level 'top'"):
        generate_case(1, 1, SMALL, level="top")
    with pytest.raises(InputError, match="frames 4"):
        generate_case(1, 1, replace(SMALL, frames=4))
