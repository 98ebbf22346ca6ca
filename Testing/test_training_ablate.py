"""`python -m training ablate`: rows as configurations, one split, a side-by-side table, resumable."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch

from pscgan.errors import InputError
from pscgan.nn.cascade import build_generators
from pscgan.nn.config import get_config
from training import ablate, cli_train
from training.__main__ import main
from training.config import get_training_config


def test_every_row_is_a_buildable_configuration():
    base, base_training = get_config("tiny"), get_training_config("tiny")
    x = torch.zeros(1, base.frames, base.size, base.size)
    for row, spec in ablate.ROWS.items():  # rows are ablate.Row dataclasses
        cfg, training = ablate.row_config(base, base_training, row)
        if spec.config is not None:  # a named configuration (the unet2d baseline), at the base's input size
            assert cfg.model == get_config(spec.config).model, row
            assert training == get_training_config(spec.config), row
        for k, v in spec.changes.items():  # each change lands in the dataclass that has its key
            assert getattr(cfg if hasattr(cfg, k) else training, k) == v
        assert (cfg.frames, cfg.size) == (base.frames, base.size)
        with torch.no_grad():
            out = build_generators(cfg)(x)
        assert out.lge.shape == (1, 1, cfg.size, cfg.size), row
    expected = {"no_adversarial", "no_progressive", "conv3d", "convlstm", "conv3d_lstm", "spatial_only",
                "temporal_only", "no_multi_attention", "no_synthetic_regularization", "no_auxiliary_loss",
                "wgan_gp", "lsgan", "full", "full_seed1", "spatial_only_seed1", "temporal_only_seed1", "separable_spatial", "unet2d"}
    assert expected <= set(ablate.ROWS)


def test_every_cpu_row_can_share_its_budget_among_its_phases():
    """The cpu configuration shares the minutes 3 ways; a row with one joint phase (no_progressive) must
    still get a budget plan, and --budget-shares reaches every row of the base configuration."""
    from training.config import configs
    from training.phases import phases_for
    from training.trainer import phase_budgets

    base, base_training = configs("cpu")
    for row in ablate.ROWS:
        cfg, training = ablate.row_config(base, base_training.with_changes(budget_shares=(0.45, 0.2, 0.35)), row)
        n = len(phases_for(cfg))
        budgets = phase_budgets(training, 20.0, n, 0)
        assert sum(budgets) == pytest.approx(20.0), row
        if n == 3:
            assert budgets == pytest.approx([9.0, 4.0, 7.0]), row
    assert cli_train.parse_shares("0.45,0.2,0.35") == (0.45, 0.2, 0.35)
    for bad in ("0.5,x", "0.5,-1,0.5", ""):
        with pytest.raises(InputError, match="--budget-shares"):
            cli_train.parse_shares(bad)


@pytest.fixture(scope="module")
def phantom_dir(tmp_path_factory) -> Path:
    from pscgan.phantom.dataset import generate_dataset

    out = tmp_path_factory.mktemp("phantom") / "data"
    generate_dataset(out, 4, seed=7, progress=False)
    return out


def test_ablate_writes_a_table_and_skips_finished_rows(phantom_dir: Path, tmp_path: Path, monkeypatch, capsys):
    out = tmp_path / "abl"
    args = ["ablate", "--config", "tiny", "--data", str(phantom_dir), "--out", str(out), "--epochs", "1",
            "--batch-size", "2", "--quiet", "--rows", "full,no_adversarial,no_progressive"]
    assert main(args) == 0
    with open(out / "ablation.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["row"] for r in rows] == ["full", "no_adversarial", "no_progressive"]
    for r in rows:
        assert 0.0 <= float(r["accuracy"]) <= 1.0 and -1.0 <= float(r["ssim"]) <= 1.0
        assert r["paper_accuracy"]  # the paper's figure beside ours
    md = (out / "ablation.md").read_text()
    assert md.count("\n| ") == 4  # header + 3 rows
    assert not (out / "no_adversarial" / "checkpoint.pt").exists() or \
        torch.load(out / "no_adversarial" / "checkpoint.pt", weights_only=True)["discriminators"] == {}
    # a second call trains nothing: every row already has its result.json
    def boom(*a, **k):
        raise AssertionError("a finished row was trained again")

    monkeypatch.setattr("training.trainer.Trainer.run", boom)
    assert main(args) == 0
    assert json.loads((out / "full" / "result.json").read_text())["row"] == "full"


def test_unknown_row_is_a_one_line_error(phantom_dir: Path, tmp_path: Path, capsys):
    assert main(["ablate", "--config", "tiny", "--data", str(phantom_dir), "--out", str(tmp_path), "--rows", "full,bogus"]) == 2
    assert "unknown row 'bogus'" in capsys.readouterr().err
