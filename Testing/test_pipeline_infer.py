"""`pscgan infer` end to end: files, geometry, metrics consistency, atomicity, cancel, bad input.

Uses a random-weight `tiny` bundle: these tests check the plumbing (read -> preprocess -> model ->
paste back -> metrics -> files), not model quality.
"""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from pscgan.errors import Cancelled, InputError
from pscgan.outputs import OUTPUT_FILES, write_outputs
from pscgan.pipeline import assign_levels, quantify_study, run_study

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def tiny_bundle(tmp_path_factory) -> Path:
    from pscgan.checkpoint import save_bundle
    from pscgan.nn.cascade import build_generators
    from pscgan.nn.config import get_config
    from pscgan.preprocess import PreprocessConfig

    cfg = get_config("tiny")
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("bundle") / "tiny.safetensors"
    save_bundle(path, build_generators(cfg), cfg, PreprocessConfig(frames=cfg.frames, roi_size=cfg.size), {"test": True})
    return path


@pytest.fixture(scope="module")
def study_dir(tmp_path_factory) -> Path:
    from pscgan.phantom import generate_study, write_study

    folder = tmp_path_factory.mktemp("study") / "study"
    write_study(generate_study(5, n_slices=3), folder)
    return folder


@pytest.fixture(scope="module")
def inferred(tiny_bundle, study_dir, tmp_path_factory):
    from pscgan.commands.infer import infer

    out = tmp_path_factory.mktemp("infer") / "out"
    result, written, _ = infer(study_dir, out, checkpoint=tiny_bundle, device="cpu", quiet=True)
    return result, written, out


def _pscgan(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pscgan", *args], check=False, capture_output=True, text=True, timeout=300)


def test_infer_writes_every_file_in_the_input_geometry(inferred, study_dir):
    _, written, out = inferred
    assert sorted(written) == sorted(OUTPUT_FILES)
    cine = sitk.ReadImage(str(study_dir / "cine.nii.gz"))
    for name in ("lge.nii.gz", "labels.nii.gz", "lge.nrrd"):
        img = sitk.ReadImage(str(out / name))
        assert img.GetSize() == cine.GetSize()[:3], name
        np.testing.assert_allclose(img.GetSpacing(), cine.GetSpacing()[:3], atol=1e-6, err_msg=name)
        np.testing.assert_allclose(img.GetOrigin(), cine.GetOrigin()[:3], atol=1e-4, err_msg=name)
        np.testing.assert_allclose(np.reshape(img.GetDirection(), (3, 3)),
                                   np.reshape(cine.GetDirection(), (4, 4))[:3, :3], atol=1e-6, err_msg=name)
    labels = sitk.GetArrayFromImage(sitk.ReadImage(str(out / "labels.nii.gz")))
    assert set(np.unique(labels)) <= {0, 1, 2, 3}
    assert not list(out.parent.glob(".out.partial-*")), "staging folder left behind"


def test_metrics_files_agree_with_an_independent_requantification(inferred, study_dir):
    result, _, out = inferred
    labels = sitk.GetArrayFromImage(sitk.ReadImage(str(out / "labels.nii.gz")))
    np.testing.assert_array_equal(labels, result.labels)
    meta = json.loads((study_dir / "meta.json").read_text())
    levels = [s["level"] for s in meta["slices"]]
    rv = [s["rv_insertion_anterior_rc"] for s in meta["slices"]]
    inferior = [s["rv_insertion_inferior_rc"] for s in meta["slices"]]
    _, summary, rows = quantify_study(labels, result.study, levels=levels, rv_insertion_rc=rv, rv_inferior_rc=inferior,
                                      rv_source="meta")
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["summary"] == json.loads(json.dumps(summary))
    with open(out / "metrics.csv") as fh:
        csv_rows = list(csv.DictReader(fh))
    assert len(csv_rows) == len(rows)
    for got, want in zip(csv_rows, rows):
        for key, value in want.items():
            if value is None or value == "":
                assert got[key] == ""
            elif isinstance(value, float):
                assert float(got[key]) == pytest.approx(value, abs=1e-9)
            else:
                assert got[key] == str(value)
    assert csv_rows[-1]["segment"] == "study"
    for entry, given in zip(saved["slices"], meta["slices"]):  # the insertion points used, from meta.json
        if entry is not None:
            assert entry["rv_insertion_source"] == "meta"
            assert entry["rv_insertion_anterior_rc"] == pytest.approx(given["rv_insertion_anterior_rc"])
            assert entry["rv_insertion_inferior_rc"] == pytest.approx(given["rv_insertion_inferior_rc"])


def test_cancel_raises_and_returns_nothing(tiny_bundle, study_dir):
    from pscgan.inference import Predictor
    from pscgan.io.readers import read_cine

    predictor = Predictor.load(tiny_bundle, device="cpu")
    calls = []

    def progress(done, total, message):
        calls.append(done)

    with pytest.raises(Cancelled):
        run_study(read_cine(study_dir), predictor, progress=progress, should_cancel=lambda: len(calls) >= 2,
                  slices_per_step=1)
    assert max(calls) < 3  # stopped before the last slice


def test_slices_in_steps_give_the_slice_by_slice_result(tiny_bundle, study_dir):
    """run_study batches `slices_per_step` slices: the same labels and LGE, progress after every step."""
    from pscgan.inference import Predictor
    from pscgan.io.readers import read_cine

    predictor = Predictor.load(tiny_bundle, device="cpu")
    study = read_cine(study_dir)
    steps = []
    one = run_study(study, predictor, slices_per_step=1)
    two = run_study(study, predictor, slices_per_step=2, progress=lambda done, total, message: steps.append((done, message)))
    np.testing.assert_array_equal(two.labels, one.labels)
    np.testing.assert_allclose(two.lge, one.lge, atol=0.05)  # display units 0..1000
    assert steps == [(0, "preprocessing"), (2, "slices 1-2 of 3"), (3, "slice 3 of 3")]


def test_failed_write_leaves_the_output_folder_as_it_was(inferred, tmp_path, monkeypatch):
    result, _, _ = inferred
    out = tmp_path / "existing"
    out.mkdir()
    (out / "metrics.json").write_text("previous run")
    from pscgan import outputs

    def broken_report(*args, **kwargs):
        raise RuntimeError("disk full while drawing")

    monkeypatch.setattr(outputs, "write_report", broken_report)
    with pytest.raises(RuntimeError):
        write_outputs(result, out)
    assert sorted(p.name for p in out.iterdir()) == ["metrics.json"]
    assert (out / "metrics.json").read_text() == "previous run"
    assert [p.name for p in tmp_path.iterdir()] == ["existing"], "staging folder left behind"


def test_levels_follow_lv_size_from_base_to_apex():
    labels = np.zeros((7, 40, 40), np.uint8)
    yy, xx = np.mgrid[:40, :40]
    for s, radius in enumerate([0, 16, 15, 13, 11, 8, 5]):  # slice 0: above the base, no LV
        r = np.hypot(yy - 20, xx - 20)
        labels[s][r < radius] = 2
        labels[s][r < radius - 3] = 1
    expected = [None, "basal", "basal", "mid", "mid", "apical", "apical"]  # thirds of the LV's slices
    assert assign_levels(labels) == expected
    assert assign_levels(labels[::-1]) == expected[::-1]


@pytest.mark.parametrize(
    "make_input, expected",
    [
        (lambda d: d / "missing.nii.gz", "missing.nii.gz"),
        (lambda d: _write_3d_nifti(d / "volume.nii.gz"), "volume.nii.gz"),
    ],
)
def test_cli_bad_input_is_one_line_and_leaves_no_output(tmp_path, tiny_bundle, make_input, expected):
    source = make_input(tmp_path)
    out = tmp_path / "out"
    proc = _pscgan("infer", str(source), "--out", str(out), "--checkpoint", str(tiny_bundle), "--quiet")
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("pscgan: error:") and expected in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()


def test_cli_rejects_a_bundle_that_fails_its_checksum(tmp_path, tiny_bundle, study_dir):
    damaged = tmp_path / "damaged.safetensors"
    data = bytearray(tiny_bundle.read_bytes())
    data[-10] ^= 0xFF  # flip bits inside the last tensor
    damaged.write_bytes(bytes(data))
    out = tmp_path / "out"
    proc = _pscgan("infer", str(study_dir), "--out", str(out), "--checkpoint", str(damaged), "--quiet")
    assert proc.returncode == 2
    assert "damaged.safetensors" in proc.stderr and "checksum" in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without a GPU")
def test_cli_cuda_without_gpu_is_a_clear_error(tmp_path, tiny_bundle, study_dir):
    out = tmp_path / "out"
    proc = _pscgan("infer", str(study_dir), "--out", str(out), "--checkpoint", str(tiny_bundle), "--device", "cuda")
    assert proc.returncode == 2 and "no CUDA GPU" in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()


def _write_3d_nifti(path: Path) -> Path:
    img = sitk.GetImageFromArray(np.random.default_rng(0).random((4, 32, 32)).astype(np.float32))
    sitk.WriteImage(img, str(path))
    return path


def test_run_study_rejects_wrong_centre_shape(tiny_bundle, study_dir):
    from pscgan.inference import Predictor
    from pscgan.io.readers import read_cine

    predictor = Predictor.load(tiny_bundle, device="cpu")
    with pytest.raises((InputError, ValueError)):
        run_study(read_cine(study_dir), predictor, centers_rc=np.zeros((7, 2)))


def test_infer_on_a_folder_of_cases_writes_one_output_per_case_and_skips_a_bad_one(tiny_bundle, tmp_path):
    """A folder of case folders (the phantom / training layout) runs case by case with one model load;
    a broken case is named with its reason and the others still get every file, evaluable as a set."""
    from pscgan.phantom import generate_dataset

    data = tmp_path / "cases"
    generate_dataset(data, cases=3, seed=11, progress=False)
    (data / "case_00001" / "cine.nii.gz").write_bytes(b"not a nifti")
    pred = tmp_path / "pred"
    proc = _pscgan("infer", str(data), "--out", str(pred), "--checkpoint", str(tiny_bundle), "--device", "cpu",
                   "--no-report", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert "2 of 3 cases" in proc.stdout
    assert "skipped case_00001:" in proc.stderr and "cine.nii.gz" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert sorted(p.name for p in pred.iterdir() if not p.name.startswith(".")) == ["case_00000", "case_00002"]
    for name in ("case_00000", "case_00002"):
        assert (pred / name / "labels.nii.gz").is_file() and (pred / name / "lge.nii.gz").is_file()
        assert not (pred / name / "report.png").exists()
    ev = _pscgan("evaluate", "--pred", str(pred), "--ref", str(data), "--out", str(tmp_path / "ev.json"), "--quiet")
    assert ev.returncode == 0, ev.stderr
    report = json.loads((tmp_path / "ev.json").read_text())
    assert "missing from the prediction folder" in report["skipped"]["case_00001"]


def test_without_meta_the_insertion_points_are_detected_and_written(tiny_bundle, study_dir, tmp_path):
    """A study without insertion points in meta.json: each measured slice says where its points came from."""
    from pscgan.inference import Predictor
    from pscgan.io.readers import read_cine
    from pscgan.metrics.rv_insertion import SOURCES

    result = run_study(read_cine(study_dir / "cine.nii.gz"), Predictor.load(tiny_bundle, device="cpu"))
    write_outputs(result, tmp_path / "out", report=False)
    saved = json.loads((tmp_path / "out" / "metrics.json").read_text())
    entries = [e for e in saved["slices"] if e is not None]
    assert entries, "the tiny model measured no slice"
    for entry in entries:
        assert entry["rv_insertion_source"] in ("detected", "default")
        assert len(entry["rv_insertion_anterior_rc"]) == 2 and len(entry["rv_insertion_inferior_rc"]) == 2
    defaults = [k + 1 for k, e in enumerate(saved["slices"]) if e is not None and e["rv_insertion_source"] == "default"]
    assert saved["summary"]["rv_insertion_default_slices"] == defaults
    assert any("RV insertion not detected" in n for n in saved["notes"]) == bool(defaults)
    with open(tmp_path / "out" / "metrics.csv") as fh:
        sources = {r["rv_insertion_source"] for r in csv.DictReader(fh)}
    assert sources - {""} <= set(SOURCES) and sources - {""}


def test_notes_of_one_study_are_not_reported_with_the_next(tiny_bundle, study_dir):
    from pscgan.inference import OOM_NOTE, Predictor
    from pscgan.io.readers import read_cine

    predictor = Predictor.load(tiny_bundle, device="cpu")
    study = read_cine(study_dir / "cine.nii.gz")
    predictor.notes.append(OOM_NOTE)  # as a GPU fallback during an earlier study leaves it
    assert OOM_NOTE not in run_study(study, predictor).notes
    assert predictor.notes == []


def test_a_segmentation_only_bundle_writes_no_lge(study_dir, tmp_path):
    """The 2D U-Net baseline makes no LGE-equivalent image: `pscgan infer` writes none (not a blank one)
    and says so, and still writes the segmentation, labels, metrics and report."""
    from pscgan.checkpoint import save_bundle
    from pscgan.commands.infer import infer
    from pscgan.nn.cascade import build_generators
    from pscgan.nn.config import get_config
    from pscgan.pipeline import NO_LGE_NOTE
    from pscgan.preprocess import PreprocessConfig

    cfg = get_config("unet2d").with_changes(unet_widths=(8, 16))
    torch.manual_seed(0)
    bundle = tmp_path / "unet2d.safetensors"
    save_bundle(bundle, build_generators(cfg), cfg, PreprocessConfig(frames=cfg.frames, roi_size=cfg.size), {"test": True})
    out = tmp_path / "out"
    result, written, _ = infer(study_dir, out, checkpoint=bundle, device="cpu", quiet=True)
    assert result.lge is None
    assert sorted(written) == sorted(set(OUTPUT_FILES) - {"lge.nii.gz", "lge.nrrd"})
    assert NO_LGE_NOTE in json.loads((out / "metrics.json").read_text())["notes"]
    cine = sitk.ReadImage(str(study_dir / "cine.nii.gz"))
    assert sitk.ReadImage(str(out / "segmentation.seg.nrrd")).GetSize()[:2] == cine.GetSize()[:2]
