"""`python -m training train | export` on phantom case folders, the data cache, and the bundle it makes."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from pscgan.errors import CheckpointError
from pscgan.inference import Predictor
from training.__main__ import main


@pytest.fixture(scope="module")
def phantom_dir(tmp_path_factory) -> Path:
    from pscgan.phantom.dataset import generate_dataset

    out = tmp_path_factory.mktemp("phantom") / "data"
    generate_dataset(out, 4, seed=5, progress=False)
    return out


def test_dataset_cache_is_built_once_and_reused(phantom_dir: Path):
    from pscgan.preprocess import PreprocessConfig
    from training.data import load_dataset

    pre = PreprocessConfig(frames=8, roi_size=32)
    a = load_dataset(phantom_dir, pre, margin=2)
    caches = list((phantom_dir / ".cache").glob("roi_*.npz"))
    assert len(caches) == 1
    b = load_dataset(phantom_dir, pre, margin=2)
    assert len(a) == 4 and a.cine.shape == (4, 8, 36, 36) and a.labels.shape == (4, 36, 36)
    np.testing.assert_array_equal(a.cine, b.cine)
    assert a.cine.min() >= -1 and a.cine.max() <= 1 and a.lge.min() >= -1 and a.lge.max() <= 1
    # the reference ROI is centred on the LV: the centre pixel of every sample is labelled tissue (blood pool)
    centre = a.labels[:, 18, 18]
    assert (centre == 1).all(), centre
    # scar area as the labels give it (pixel count x pixel area of the native grid)
    meta = [json.loads((phantom_dir / n.split("/")[0] / "meta.json").read_text()) for n in a.names]
    np.testing.assert_allclose(a.scar_area_cm2, [m["scar_area_cm2"] for m in meta], rtol=1e-3, atol=1e-3)


def test_train_stop_resume_export_and_predict(phantom_dir: Path, tmp_path: Path, capsys):
    run = tmp_path / "run"
    common = ["--config", "tiny", "--data", str(phantom_dir), "--out", str(run), "--epochs", "1",
              "--batch-size", "2", "--quiet", "--no-tensorboard", "--val-fraction", "0.25"]
    assert main(["train", *common, "--stop-after-epochs", "1"]) == 0
    split = json.loads((run / "split.json").read_text())
    assert len(split["train"]) == 3 and len(split["val"]) == 1
    bundle = tmp_path / "tiny.safetensors"
    with pytest.raises(CheckpointError, match="training is not finished"):
        from training.export import export_run

        export_run(run, bundle)
    assert main(["train", *common, "--resume"]) == 0
    with open(run / "metrics.csv") as f:
        assert [r["phase"] for r in csv.DictReader(f)] == ["pri", "sys", "seg"]
    assert main(["export", str(run), "--out", str(bundle), "--description", "tiny test model"]) == 0
    pred = Predictor.load(bundle, device="cpu")
    assert pred.info["description"] == "tiny test model"
    leaked = [v for v in _strings(pred.info) if str(tmp_path) in v or str(phantom_dir) in v or v.startswith("/")]
    assert leaked == [], "training machine paths in the bundle's info (they reach every metrics.json)"
    assert f"trained on {phantom_dir.name} (last phase seg" in pred.describe()  # the folder's name, not its path
    ck = torch.load(run / "checkpoint.pt", weights_only=True)
    assert pred.preprocess.to_dict() == ck["preprocess"] and pred.cfg.name == "tiny"
    assert pred.info["finished"] is True
    # the compute behind the run (a time budget buys epochs by it): this process's threads, one process
    assert pred.info["threads_per_process"] == torch.get_num_threads() and pred.info["processes"] == 1
    x = np.zeros((2, 8, 32, 32), np.float32)
    out = pred.predict(x)
    assert out.labels.shape == (2, 32, 32) and out.lge.shape == (2, 32, 32)
    # float16 storage: about half the file, the same predictions to float16 precision
    half = tmp_path / "tiny_half.safetensors"
    assert main(["export", str(run), "--out", str(half), "--half"]) == 0
    assert half.stat().st_size < 0.6 * bundle.stat().st_size
    pred_half = Predictor.load(half, device="cpu")
    assert pred_half.info["stored_dtype"] == "float16"
    x = np.random.default_rng(0).uniform(-1, 1, (2, 8, 32, 32)).astype(np.float32)
    np.testing.assert_allclose(pred_half.predict(x).lge, pred.predict(x).lge, atol=0.05)


def _strings(value):
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def test_resume_without_a_checkpoint_is_refused(tmp_path: Path, phantom_dir: Path, capsys):
    run = tmp_path / "fresh"
    assert main(["train", "--config", "tiny", "--data", str(phantom_dir), "--out", str(run), "--resume", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith(f"{run}: no checkpoint.pt to resume from; start the run without --resume") and "\n" not in err
    assert not (run / "split.json").exists()


def test_user_errors_are_one_line(tmp_path: Path, phantom_dir: Path, capsys):
    assert main(["train", "--config", "nope", "--data", str(phantom_dir), "--out", str(tmp_path / "r")]) == 2
    assert "unknown configuration 'nope'" in capsys.readouterr().err
    assert main(["train", "--config", "tiny", "--data", str(tmp_path / "missing"), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("missing: data folder not found") and "\n" not in err
    (tmp_path / "bad.safetensors").write_bytes(b"\x00" * 10)
    assert main(["export", str(tmp_path / "nope-run"), "--out", str(tmp_path / "x.safetensors")]) == 2
    assert "run folder not found" in capsys.readouterr().err
    assert main(["train", "--config", "tiny", "--data", str(phantom_dir), "--out", str(tmp_path / "v"),
                 "--validate-every", "0"]) == 2
    assert "--validate-every 0" in capsys.readouterr().err


def test_a_finished_run_folder_is_not_overwritten_without_resume(phantom_dir: Path, tmp_path: Path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "checkpoint.pt").write_bytes(b"x")
    assert main(["train", "--config", "tiny", "--data", str(phantom_dir), "--out", str(run), "--quiet"]) == 2
    assert "already holds a training run; pass --resume" in capsys.readouterr().err
    assert (run / "checkpoint.pt").read_bytes() == b"x"
    # --resume on a damaged checkpoint: a one-line CheckpointError naming the file
    assert main(["train", "--config", "tiny", "--data", str(phantom_dir), "--out", str(run), "--quiet", "--resume",
                 "--epochs", "1", "--batch-size", "2", "--no-tensorboard"]) == 2
    assert "checkpoint.pt: truncated or not a PSCGAN checkpoint" in capsys.readouterr().err


def test_public_info_drops_paths_at_every_level_of_a_finetuned_bundle():
    from training.export import public_info

    shipped = {  # the shape of the shipped bundle's info: fine-tuned twice from an ablation candidate
        "data": "/tmp/ft/train1", "finetuned_from": "PSCGANExtension/pscgan/models/pscgan_cpu.safetensors",
        "source_run": "/tmp/ft/run2", "epoch": 57,
        "base_info": {"data": "/tmp/ft/train1", "source_run": "/tmp/ft/run", "note": "~/runs/x",
                      "base_info": {"data": "/tmp/w/train", "ablation_row": "no_adversarial", "phases": ["pri"]}},
    }
    clean = public_info(shipped)
    assert "/tmp" not in json.dumps(clean) and "~/" not in json.dumps(clean) and "models/" not in json.dumps(clean)
    assert clean["epoch"] == 57 and clean["base_info"]["base_info"]["ablation_row"] == "no_adversarial"
    assert clean["training_data"] == "train1" and clean["finetuned_from"] == "pscgan_cpu.safetensors"
    assert clean["base_info"]["base_info"]["training_data"] == "train" and "source_run" not in clean


def test_split_file_chooses_the_samples_and_bad_split_files_are_one_line(phantom_dir: Path, tmp_path: Path, capsys):
    names = sorted(f"{p.name}/0" for p in phantom_dir.glob("case_*"))  # one slice per case
    given = tmp_path / "given.json"
    given.write_text(json.dumps({"train": [3, 0, 1], "val": [2]}))
    run = tmp_path / "run"
    common = ["train", "--config", "tiny", "--data", str(phantom_dir), "--out", str(run), "--epochs", "1",
              "--batch-size", "2", "--quiet", "--no-tensorboard", "--stop-after-epochs", "1"]
    assert main([*common, "--split", str(given)]) == 0
    saved = json.loads((run / "split.json").read_text())
    assert (saved["train"], saved["val"]) == ([3, 0, 1], [2])  # not the --seed / --val-fraction split
    assert saved["val_names"] == [names[2]] and saved["train_names"] == [names[3], names[0], names[1]]
    assert saved["split_file"] == str(given) and "seed" not in saved
    # the run's own split.json (with names) works as --split for another run, and a resumed run keeps its split
    assert main([*common[:6], str(tmp_path / "second"), *common[7:], "--split", str(run / "split.json")]) == 0
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"train": [0, 1, 2], "val": [3]}))
    capsys.readouterr()
    assert main([*common[:-2], "--resume", "--split", str(other)]) == 2
    err = capsys.readouterr().err.strip()
    assert "split differently from --split" in err and "\n" not in err

    def refused(content: str) -> str:
        bad = tmp_path / "bad.json"
        bad.write_text(content)
        assert main([*common[:6], str(tmp_path / "never"), *common[7:], "--split", str(bad)]) == 2
        err = capsys.readouterr().err.strip()
        assert "\n" not in err and str(bad) in err
        return err

    assert "not a split file" in refused("{not json")
    assert "not a split file" in refused(json.dumps({"train": [0]}))
    assert "does not fit the data (4 samples)" in refused(json.dumps({"train": [0, 1], "val": [4]}))
    assert "in both train and val" in refused(json.dumps({"train": [0, 1], "val": [1]}))
    err = refused(json.dumps({"train": [0, 1], "val": [2], "train_names": [names[1], names[0]]}))
    assert f"sample 0 is {names[0]} here, {names[1]} in the split" in err
    assert not (tmp_path / "never").exists() or not (tmp_path / "never" / "split.json").exists()


def test_budget_shares_are_the_runs_and_bad_ones_are_one_line(phantom_dir: Path, tmp_path: Path, capsys):
    run = tmp_path / "run"
    common = ["train", "--config", "tiny", "--data", str(phantom_dir), "--out", str(run), "--epochs", "1",
              "--batch-size", "2", "--quiet", "--no-tensorboard", "--stop-after-epochs", "1", "--max-minutes", "30"]
    assert main([*common, "--budget-shares", "0.6,0.15,0.25"]) == 0
    recorded = json.loads((run / "config.json").read_text())["training"]["budget_shares"]
    assert recorded == [0.6, 0.15, 0.25]  # the tiny configuration's own is None (equal shares)
    capsys.readouterr()
    for shares, message in (("0.5,0.5", "tiny trains 3 phase(s)"), ("0.5,0,0.5", "every share must be a positive"),
                            ("a,b,c", "give one number per phase")):
        assert main([*common[:6], str(tmp_path / "never"), *common[7:], "--budget-shares", shares]) == 2
        err = capsys.readouterr().err.strip()
        assert message in err and "\n" not in err, err
    assert not (tmp_path / "never").exists()
    # a resumed run keeps the shares it started with: other shares are refused in one line
    assert main([*common, "--resume", "--budget-shares", "0.5,0.2,0.3"]) == 2
    err = capsys.readouterr().err.strip()
    assert "budget_shares" in err and "\n" not in err, err
    assert main([*common, "--resume", "--budget-shares", "0.6,0.15,0.25"]) == 0


def test_a_resumed_run_keeps_its_randomisation_options(phantom_dir: Path, tmp_path: Path, capsys):
    run = tmp_path / "run"
    common = ["train", "--config", "tiny", "--data", str(phantom_dir), "--out", str(run), "--epochs", "2",
              "--batch-size", "2", "--quiet", "--no-tensorboard", "--stop-after-epochs", "1"]
    assert main([*common, "--p-dihedral", "0.5"]) == 0
    capsys.readouterr()
    for other, changed in ((["--resume"], "p_dihedral"), (["--resume", "--p-dihedral", "0.5", "--no-augment"], "enabled")):
        assert main([*common, *other]) == 2
        err = capsys.readouterr().err.strip()
        assert "other randomisation options" in err and changed in err and "\n" not in err, err
    assert main([*common, "--resume", "--p-dihedral", "0.5"]) == 0
