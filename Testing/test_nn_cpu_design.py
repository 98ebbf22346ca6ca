"""The shipped configuration's design: motion reaches the decoder, spatial-only sees none, the 2D
U-Net baseline trains through the same trainer, and the training schedule (plan, decay, warm start)."""
from __future__ import annotations

import math
from itertools import pairwise

import numpy as np
import pytest
import torch
from test_training_trainer import synthetic_arrays

from pscgan.nn.cascade import build_generators
from pscgan.nn.config import get_config
from pscgan.nn.generator import skip_channels, skip_sizes
from pscgan.nn.summary import CinePath, CineSkip, TemporalSummary, TimeWeighting
from training.config import configs, get_training_config
from training.export import export_run
from training.phases import phases_for
from training.trainer import (
    Trainer,
    TrainOptions,
    fitting_epochs,
    phase_budgets,
    phase_learning_rate,
    scheduled_lr,
    warm_start,
)


def _cine(b=2, t=8, s=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(b, t, s, s, generator=g) * 2 - 1


def test_temporal_summary_sees_frame_order_where_a_mean_does_not():
    torch.manual_seed(0)
    x = torch.randn(2, 8, 3, 6, 6)
    shuffled = x[:, torch.randperm(8)]
    mean = TimeWeighting(8)  # at initialisation: the plain mean over frames
    assert torch.allclose(mean(x), mean(shuffled), atol=1e-5)
    summary = TemporalSummary(8, 3, 5)
    assert summary(x).shape == (2, 5, 6, 6)
    assert not torch.allclose(summary(x), summary(shuffled), atol=1e-3)


def test_cine_skip_without_motion_reads_only_the_mean_frame():
    torch.manual_seed(0)
    cine = _cine()
    shuffled = cine[:, torch.randperm(cine.shape[1])]
    still = CineSkip(8, 4, motion=False)
    assert torch.allclose(still(cine), still(shuffled), atol=1e-5)
    moving = CineSkip(8, 4, motion=True)
    assert not torch.allclose(moving(cine), moving(shuffled), atol=1e-3)


def test_cine_path_levels_halve():
    out = CinePath(8, (4, 6))(_cine(s=16))
    assert [tuple(o.shape[1:]) for o in out] == [(4, 16, 16), (6, 8, 8)]


@pytest.mark.parametrize("changes", [{}, {"temporal_pathway": False}, {"spatial_pathway": False}, {"progressive": False}])
def test_cpu_skips_match_what_the_decoder_expects(changes):
    cfg = get_config("cpu").with_changes(**changes)
    model = build_generators(cfg)
    gen = model.joint if not cfg.progressive else model.pri
    cine = torch.rand(1, cfg.frames, cfg.size, cfg.size) * 2 - 1
    with torch.no_grad():
        skips, deepest = gen.encode(cine)
        assert [s.shape[1] for s in skips] == skip_channels(cfg)
        assert deepest.shape[-1] == 4  # a 4 x 4 code
        out = model(cine)
    assert out.seg_logits.shape == (1, 4, cfg.size, cfg.size)


def test_spatial_only_cpu_model_has_no_motion_input():
    cfg = get_config("cpu").with_changes(temporal_pathway=False)
    gen = build_generators(cfg).pri
    assert gen.cine_path.skip.motion is False
    assert all(isinstance(m, TimeWeighting) for m in gen.skip_weights)


def test_fitting_epochs_and_linear_decay():
    assert fitting_epochs(600.0, 60.0, 1, 200) == 10
    assert fitting_epochs(600.0, 60.0, 1, 4) == 4  # never more than asked for
    assert fitting_epochs(30.0, 60.0, 1, 200) == 1  # the epoch already run counts
    # re-planned after a slow first epoch (120 s) from the median epoch time (60 s): 1 + 480 / 60
    assert fitting_epochs(600.0, 60.0, 1, 200, elapsed_s=120.0) == 9
    assert fitting_epochs(600.0, 50.0, 3, 200, elapsed_s=200.0) == 11  # a faster machine: more epochs
    assert fitting_epochs(600.0, 50.0, 3, 200, elapsed_s=700.0) == 3  # past the budget: stop now
    training = get_training_config("cpu")
    lrs = [scheduled_lr(training, e, 4) for e in range(4)]
    assert lrs[0] == training.learning_rate and all(a > b for a, b in pairwise(lrs)) and lrs[-1] > 0
    assert scheduled_lr(get_training_config("paper"), 3, 4) == get_training_config("paper").learning_rate


def test_warm_start_copies_what_matches_and_zeroes_the_condition_inputs():
    model = build_generators(get_config("tiny"))
    before = {k: v.clone() for k, v in model.seg.state_dict().items()}
    copied = warm_start(model.seg, model.pri)
    after, src = model.seg.state_dict(), model.pri.state_dict()
    assert copied > 0
    same_shape = [k for k in after if k in src and src[k].shape == after[k].shape]
    assert all(torch.equal(after[k], src[k]) for k in same_shape)
    widened = [k for k in after if k in src and after[k].dim() >= 2 and after[k].shape[1] > src[k].shape[1]]
    assert widened, "the layers the condition enters take more input channels"
    for k in widened:
        n = src[k].shape[1]
        assert torch.equal(after[k][:, :n], src[k]) and not after[k][:, n:].any()
    assert copied == len(same_shape) + len(widened)
    untouched = [k for k in after if k not in same_shape and k not in widened]
    assert all(torch.equal(after[k], before[k]) for k in untouched)


@pytest.mark.parametrize("name", ["tiny", "cpu"])
def test_a_warm_started_segmentation_generator_starts_as_the_first_phase(name):
    """Whatever the condition, G_Seg starts computing what the trained G_Pri computes."""
    cfg = get_config(name)
    model = build_generators(cfg).eval()
    warm_start(model.seg, model.pri)
    cine = torch.rand(2, cfg.frames, cfg.size, cfg.size) * 2 - 1
    condition = torch.rand(2, 1, cfg.size, cfg.size) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(model.seg(cine, condition), model.pri(cine, None), atol=1e-5)


def test_phase_learning_rates_scale_each_phase_and_its_schedule():
    paper = get_training_config("paper")
    assert [phase_learning_rate(paper, i, 3) for i in range(3)] == [paper.learning_rate] * 3
    scaled = paper.with_changes(phase_lr_scales=(1.0, 0.5, 0.1))
    assert [phase_learning_rate(scaled, i, 3) for i in range(3)] == pytest.approx([1e-3, 5e-4, 1e-4])
    assert phase_learning_rate(scaled, 0, 1) == paper.learning_rate  # one joint phase: the scales are for three
    linear = scaled.with_changes(lr_schedule="linear")
    assert scheduled_lr(linear, 2, 4, phase_learning_rate(linear, 2, 3)) == pytest.approx(1e-4 * 0.5)
    with pytest.raises(ValueError, match="phase_lr_scales"):
        phase_learning_rate(paper.with_changes(phase_lr_scales=(1.0, 0.0, 1.0)), 0, 3)


def test_budget_shares_split_the_minutes():
    cpu = get_training_config("cpu")
    budgets = phase_budgets(cpu, 60.0, 3, 0)
    assert sum(budgets) == pytest.approx(60.0)
    assert budgets[0] > budgets[2] > budgets[1]  # pri, seg, sys: as cpu.budget_shares
    assert phase_budgets(get_training_config("tiny"), 30.0, 3, 1) == [None, 15.0, 15.0]  # equal, phases left
    assert phase_budgets(cpu, None, 3, 0) == [None] * 3
    with pytest.raises(ValueError, match="budget_shares"):
        phase_budgets(cpu.with_changes(budget_shares=(1.0, 0.0, 1.0)), 60.0, 3, 0)


def test_cine_path_and_encoder_maps_of_one_resolution_are_joined():
    cfg = get_config("cpu")
    assert cfg.cine_path[-1] and (cfg.size >> (len(cfg.cine_path) - 1)) == 16  # both reach 16 x 16
    sides = [side for side, _ in skip_sizes(cfg)]
    assert sorted(set(sides), reverse=True) == [64, 32, 16, 8]
    gen = build_generators(cfg).pri
    with torch.no_grad():
        skips, _ = gen.encode(torch.rand(1, cfg.frames, cfg.size, cfg.size))
    assert [s.shape[-1] for s in skips] == [64, 32, 16, 8]
    assert skips[2].shape[1] == cfg.cine_path[2] + cfg.skip_summaries


def test_cine_path_with_two_convolutions_per_level():
    path = CinePath(8, (4, 6), convs=2)
    out = path(_cine(s=16))
    assert [tuple(o.shape[1:]) for o in out] == [(4, 16, 16), (6, 8, 8)]
    assert len(path.refine) == 2 and CinePath(8, (4, 6)).refine is None


def test_unet2d_trains_through_the_same_trainer(tmp_path):
    torch.manual_seed(0)
    cfg, training = configs("unet2d")
    cfg, training = cfg.with_changes(frames=8, size=32, unet_widths=(8, 16)), training.with_changes(batch_size=4)
    assert phases_for(cfg) == ("unet",)
    data = synthetic_arrays(12, cfg)
    trainer = Trainer(cfg, training, data.subset(range(8)), data.subset(range(8, 12)), tmp_path, TrainOptions(epochs=3, quiet=True, tensorboard=False))
    result = trainer.run()
    assert result.status == "finished" and result.epochs_run == 3
    m = result.last_metrics
    assert m["seg_dice_blood"] > 0.3 and not math.isnan(m["seg_accuracy"])
    out = result.model(torch.from_numpy(data.centred()[0][:2]))
    assert torch.all(out.lge == -1.0)  # no LGE synthesis: a blank image


def test_time_budget_plans_epochs_and_a_resumed_run_keeps_the_plan(tmp_path):
    cfg, training = configs("tiny")
    data = synthetic_arrays(8, cfg)
    opts = dict(epochs=50, quiet=True, tensorboard=False, max_minutes=1e-4)
    first = Trainer(cfg, training, data.subset(range(6)), data.subset(range(6, 8)), tmp_path, TrainOptions(**opts)).run()
    assert first.status == "budget"
    rows = np.genfromtxt(tmp_path / "metrics.csv", delimiter=",", names=True, dtype=None, encoding=None)
    assert len(rows) == 3  # one planned epoch per phase fits a budget shorter than an epoch
    ck = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert ck["planned_epochs"] == 1
    export_run(tmp_path, tmp_path / "model.safetensors")  # the plan is finished: no --allow-unfinished needed
    assert (tmp_path / "model.safetensors").is_file()


def test_frozen_generators_keep_their_batch_statistics_while_later_phases_train(tmp_path, monkeypatch):
    """With batch normalisation, G_Pri's running statistics must not drift while G_Sys and G_Seg
    train (it runs frozen, in inference mode): what phase I learned is what phase III reads."""
    import training.trainer as trainer_module

    torch.manual_seed(0)
    cfg = get_config("tiny").with_changes(norm2d="batch", cine_path=(4, 6), cine_path_convs=2)
    training = get_training_config("tiny").with_changes(warm_start=True)
    data = synthetic_arrays(8, cfg)
    built: list = []
    real_build = trainer_module.build_generators
    monkeypatch.setattr(trainer_module, "build_generators", lambda c: built.append(real_build(c)) or built[-1])
    after: dict[str, dict] = {}

    def running_stats(phase, epoch, metrics):
        after[phase] = {k: v.clone() for k, v in built[0].pri.state_dict().items() if "running" in k}

    trainer = Trainer(cfg, training, data.subset(range(6)), data.subset(range(6, 8)), tmp_path, TrainOptions(epochs=1, quiet=True, tensorboard=False))
    assert trainer.run(on_epoch_end=running_stats).status == "finished"
    assert set(after) == {"pri", "sys", "seg"} and after["pri"], "batch-normalised layers in every phase"
    for k, v in after["pri"].items():
        assert torch.equal(after["seg"][k], v), k


def test_each_phase_trains_its_generator_and_discriminator_at_its_own_rate(tmp_path):
    """phase_lr_scales reach the optimisers: read back from the checkpoint written after each phase's epoch."""
    cfg, training = configs("tiny")
    training = training.with_changes(phase_lr_scales=(1.0, 0.5, 0.1))
    data = synthetic_arrays(8, cfg)
    seen: dict[str, tuple[float, float]] = {}

    def rates(phase, epoch, metrics):
        saved = torch.load(tmp_path / "checkpoint.pt", weights_only=True)["optimizers"]
        seen[phase] = (saved["g"]["param_groups"][0]["lr"], saved["d"]["param_groups"][0]["lr"])

    trainer = Trainer(cfg, training, data.subset(range(6)), data.subset(range(6, 8)), tmp_path,
                      TrainOptions(epochs=1, quiet=True, tensorboard=False))
    assert trainer.run(on_epoch_end=rates).status == "finished"
    base = training.learning_rate
    assert set(seen) == {"pri", "sys", "seg"}
    for phase, scale in (("pri", 1.0), ("sys", 0.5), ("seg", 0.1)):  # tiny: constant schedule, one epoch
        assert seen[phase] == pytest.approx((scale * base, scale * base)), phase
