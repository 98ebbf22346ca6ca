"""pscgan.io.case_folder: the one case-folder contract (names, meta.json policy, read, write)."""
from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pytest

from pscgan.errors import InputError
from pscgan.hints import read_hints
from pscgan.io.case_folder import CASE_FILES, CINE_FILE, META_FILE, case_folders, read_case_cine, read_case_volume, read_meta, slice_meta, write_case_folder
from pscgan.io.readers import read_cine
from pscgan.metrics.cases import read_case_slices

ROOT = Path(__file__).resolve().parents[1]
T, S, R, C = 10, 2, 24, 20
SPACING_XYZ = (1.25, 1.5, 8.0)  # (col, row, slice)
FRAME_MS = 36.0


def _case(folder: Path, meta: dict | None = None, **kw) -> Path:
    rng = np.random.default_rng(3)
    cine = rng.random((T, S, R, C)).astype(np.float32)
    labels = (np.arange(S * R * C).reshape(S, R, C) % 4).astype(np.uint8)
    lge = rng.random((S, R, C)).astype(np.float32)
    meta = {"pixel_spacing_mm": [1.5, 1.25], "frame_interval_ms": FRAME_MS} if meta is None else meta
    return write_case_folder(folder, cine=cine, labels=labels, lge=lge, meta=meta, spacing_xyz=kw.pop("spacing", SPACING_XYZ),
                             frame_interval_ms=kw.pop("frame_ms", FRAME_MS), **kw)


def test_written_case_reads_back(tmp_path):
    direction = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, -1.0]])
    folder = _case(tmp_path / "case", origin_xyz=(5.0, -3.0, 2.0), direction=direction)
    assert sorted(p.name for p in folder.iterdir()) == sorted(set(CASE_FILES) - {"cine_labels.nii.gz"})
    study = read_case_cine(folder)
    assert study.pixels.shape == (S, T, R, C)
    assert study.spacing == pytest.approx((1.25, 1.5, 8.0))
    assert study.origin == pytest.approx((5.0, -3.0, 2.0))
    np.testing.assert_allclose(study.direction, direction)
    assert study.frame_interval_ms == pytest.approx(FRAME_MS)
    labels = read_case_volume(folder, "labels.nii.gz", "label map")
    assert labels.pixels.shape == (S, R, C) and labels.pixels.max() == 3
    assert case_folders(tmp_path) == [folder]


def test_meta_spacing_disagreeing_with_the_cine_header_names_both_values(tmp_path):
    folder = _case(tmp_path / "case", {"pixel_spacing_mm": [2.0, 1.25]})
    with pytest.raises(InputError) as err:
        read_cine(folder)
    assert str(err.value) == (f"{folder}: meta.json pixel_spacing_mm (2, 1.25) disagrees with the cine.nii.gz header "
                              "spacing (1.5, 1.25) (row, col)")
    with pytest.raises(InputError, match=r"labels.nii.gz header spacing"):
        read_case_volume(folder, "labels.nii.gz", "label map")
    with pytest.raises(InputError, match="disagrees"):
        read_case_slices(folder)


def test_meta_spacing_that_agrees_is_used_at_full_precision(tmp_path):
    folder = _case(tmp_path / "case", {"pixel_spacing_mm": [1.5000004, 1.2500003]})
    study = read_case_cine(folder)
    assert study.spacing[:2] == (1.2500003, 1.5000004)


def test_meta_frame_interval_checked_against_the_header_and_used_when_the_header_has_none(tmp_path):
    folder = _case(tmp_path / "a", {"frame_interval_ms": 50.0})
    with pytest.raises(InputError, match=r"frame_interval_ms 50 disagrees with the cine.nii.gz header's 36 ms"):
        read_case_cine(folder)
    assert read_case_cine(folder, frame_interval_ms=50.0).frame_interval_ms == 50.0  # the caller's wins
    unset = _case(tmp_path / "b", {"frame_interval_ms": 50.0}, frame_ms=1.0)  # pixdim[4] = 1: not set
    assert read_case_cine(unset).frame_interval_ms == 50.0


def test_per_slice_list_of_the_wrong_length_is_an_error_for_every_reader(tmp_path):
    folder = _case(tmp_path / "case", {"slices": [{"level": "mid"}] * (S + 1)})
    expected = f"{folder / META_FILE}: \"slices\" lists {S + 1} slice(s), the images have {S}"
    for read in (read_case_cine, read_case_slices, lambda f: read_hints(f, S)):
        with pytest.raises(InputError) as err:
            read(folder)
        assert str(err.value) == expected


def test_top_level_applies_to_every_slice_and_slices_override(tmp_path):
    meta = {"level": "mid", "rv_insertion_anterior_rc": [3, 4],
            "slices": [{"level": "basal"}, {"rv_insertion_anterior_rc": [5, 6]}]}
    per_slice = slice_meta(meta, 2, tmp_path)
    assert per_slice == [{"level": "basal", "rv_insertion_anterior_rc": [3, 4]},
                         {"level": "mid", "rv_insertion_anterior_rc": [5, 6]}]
    folder = _case(tmp_path / "case", meta)
    hints = read_hints(folder, S)
    assert hints.levels == ["basal", "mid"] and hints.rv_insertion_rc == [[3, 4], [5, 6]]
    assert [c.level for c in read_case_slices(folder)] == ["basal", "mid"]


@pytest.mark.parametrize("text, why", [("[1, 2]", "expected a JSON object"), ("{", "not valid JSON")])
def test_meta_that_is_not_a_json_object_is_named(tmp_path, text, why):
    (tmp_path / META_FILE).write_text(text)
    with pytest.raises(InputError, match=why) as err:
        read_meta(tmp_path)
    assert str(err.value).startswith(str(tmp_path / META_FILE))


def test_phantom_study_and_export_write_through_the_contract(tmp_path):
    """The phantom writer and the Slicer export produce folders the readers accept as they are."""
    from pscgan.phantom import generate_study, write_study
    from PSCGANLib.export import export_case

    cases = generate_study(5, n_slices=2)
    study_dir = write_study(cases, tmp_path / "study")
    study = read_cine(study_dir)
    assert study.num_slices == 2
    assert json.loads((study_dir / META_FILE).read_text())["n_slices"] == 2
    labels = np.zeros((2, *study.slice_shape), np.uint8)
    exported = export_case(study, None, labels, tmp_path / "export")
    again = read_cine(exported)
    np.testing.assert_array_equal(again.pixels, study.pixels)
    assert again.spacing == pytest.approx(study.spacing)


def test_no_other_module_spells_the_case_file_names():
    """One owner: the exact names "cine.nii.gz" and "meta.json" appear as values only in pscgan.io.case_folder."""
    spelled = []
    for folder in ("PSCGANExtension", "training", "evaluation"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name == "case_folder.py" or ".venv" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Constant) and node.value in (CINE_FILE, META_FILE):
                    spelled.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert spelled == []
