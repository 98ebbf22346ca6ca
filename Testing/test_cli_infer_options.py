"""`pscgan infer` command-line details: --series reaches the DICOM reader; an error never shares the progress line."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from pscgan.cli import build_parser, main
from pscgan.errors import InputError


def test_series_option_is_repeatable():
    args = build_parser().parse_args(["infer", "in", "--out", "o", "--series", "1.2.3", "--series", "1.2.4"])
    assert args.series == ["1.2.3", "1.2.4"]


@pytest.fixture()
def quick_predictor(monkeypatch):
    from pscgan import inference

    class Dummy:
        info, device = {}, "cpu"

    monkeypatch.setattr(inference.Predictor, "load", classmethod(lambda cls, *a, **k: Dummy()))


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_mixed_series_message_names_an_option_that_works(sunnybrook_dir, tmp_path, capsys, quick_predictor):
    import pydicom

    src = sunnybrook_dir / "dicoms" / "SCD0000101"
    shutil.copy(src / "1.dcm", tmp_path / "1.dcm")
    ds = pydicom.dcmread(src / "2.dcm")
    ds.SeriesInstanceUID = "1.2.826.0.1.3680043.9.9999.1"
    ds.save_as(tmp_path / "2.dcm")
    assert main(["infer", str(tmp_path), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "--series UID" in err
    # the option it names is accepted and reaches the reader (which then finds one frame: not a cine)
    assert main(["infer", str(tmp_path), "--out", str(tmp_path / "out"), "--quiet",
                 "--series", "1.2.826.0.1.3680043.9.9999.1"]) == 2
    assert "only 1 frame" in capsys.readouterr().err


def test_error_after_progress_starts_on_its_own_line(tmp_path, capsys, quick_predictor, monkeypatch):
    from pscgan import pipeline

    def failing_run(study, predictor, progress=None, **kwargs):
        progress(0, 3, "preprocessing")
        progress(1, 3, "slice 1 of 3")
        raise InputError("slice 2: something went wrong")

    monkeypatch.setattr(pipeline, "run_study", failing_run)
    rng = np.random.default_rng(0)
    cine = rng.random((3, 9, 24, 24)).astype(np.float32)
    import SimpleITK as sitk

    image = sitk.GetImageFromArray(cine.transpose(1, 0, 2, 3), isVector=False)
    sitk.WriteImage(image, str(tmp_path / "cine.nii.gz"))
    assert main(["infer", str(tmp_path / "cine.nii.gz"), "--out", str(tmp_path / "out")]) == 2
    lines = capsys.readouterr().err.split("\n")
    assert "pscgan: error: slice 2: something went wrong" in lines, lines
