"""`python -m training finetune`: starts from a bundle, trains only the chosen phase and later ones."""
from __future__ import annotations

import csv

import torch

from pscgan.checkpoint import load_checkpoint, save_bundle
from pscgan.nn.cascade import build_generators
from pscgan.nn.config import get_config
from pscgan.phantom import generate_dataset
from pscgan.preprocess import PreprocessConfig
from training.__main__ import main


def test_finetune_trains_seg_only_from_the_bundle(tmp_path):
    cfg = get_config("tiny")
    torch.manual_seed(1)
    model = build_generators(cfg)
    bundle = tmp_path / "base.safetensors"
    save_bundle(bundle, model, cfg, PreprocessConfig(frames=cfg.frames, roi_size=cfg.size), {"base": True})
    generate_dataset(tmp_path / "data", cases=4, seed=6, progress=False)
    run = tmp_path / "run"
    rc = main(["finetune", "--bundle", str(bundle), "--data", str(tmp_path / "data"), "--out", str(run),
               "--phase", "seg", "--epochs", "1", "--scar-weight", "5", "--device", "cpu", "--quiet", "--no-tensorboard"])
    assert rc == 0
    with open(run / "metrics.csv") as fh:
        assert [r["phase"] for r in csv.DictReader(fh)] == ["seg"]
    ck = load_checkpoint(run / "checkpoint.pt")
    before = model.state_dict()
    after = ck["generators"]
    unchanged = [k for k in before if k.startswith(("pri.", "sys."))]
    changed = [k for k in before if k.startswith("seg.") and not torch.equal(before[k], after[k])]
    assert unchanged and all(torch.equal(before[k], after[k]) for k in unchanged)
    assert changed, "the seg generator was not trained"
    assert ck["training_config"]["class_weights"][3] == 5.0 and ck["training_config"]["name"] == "tiny"


def test_finetune_rejects_an_unknown_phase(tmp_path, capsys):
    cfg = get_config("tiny")
    bundle = tmp_path / "base.safetensors"
    save_bundle(bundle, build_generators(cfg), cfg, PreprocessConfig(frames=cfg.frames, roi_size=cfg.size))
    generate_dataset(tmp_path / "data", cases=2, seed=6, progress=False)
    rc = main(["finetune", "--bundle", str(bundle), "--data", str(tmp_path / "data"), "--out", str(tmp_path / "r"),
               "--phase", "nope", "--epochs", "1", "--device", "cpu", "--quiet", "--no-tensorboard"])
    err = capsys.readouterr().err
    assert rc == 2 and "first phase 'nope'" in err and "Traceback" not in err
