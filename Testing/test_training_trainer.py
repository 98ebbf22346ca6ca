"""Trainer: the loss falls, checkpoints load safely, and a killed + resumed run ends bit-identical."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch

from pscgan.nn.cascade import build_discriminators, build_generators
from pscgan.nn.config import get_config
from training.arrays import RoiArrays, split_indices
from training.config import get_training_config
from training.phases import Batch, LossSet
from training.trainer import CHECKPOINT_NAME, METRICS_NAME, Trainer, TrainOptions, train_step


def synthetic_arrays(n: int, cfg, margin: int = 1, seed: int = 0) -> RoiArrays:
    """Discs of blood pool in a ring of myocardium with a scar sector; cine pulses, LGE bright in scar."""
    rng = np.random.default_rng(seed)
    s = cfg.size + 2 * margin
    yy, xx = np.mgrid[:s, :s].astype(np.float32)
    cine = np.empty((n, cfg.frames, s, s), np.float32)
    lge = np.empty((n, s, s), np.float32)
    labels = np.zeros((n, s, s), np.uint8)
    for i in range(n):
        cy, cx = s / 2 + rng.uniform(-2, 2, 2)
        r = np.hypot(yy - cy, xx - cx)
        ang = np.arctan2(yy - cy, xx - cx)
        inner, outer = rng.uniform(4, 6), rng.uniform(8, 10)
        labels[i][r < inner] = 1
        labels[i][(r >= inner) & (r < outer)] = 2
        labels[i][(r >= inner) & (r < outer) & (np.abs(ang - rng.uniform(-3, 3)) < 0.8)] = 3
        for t in range(cfg.frames):
            scale = 1 + 0.2 * np.sin(2 * np.pi * t / cfg.frames)
            cine[i, t] = np.where(r < inner * scale, 0.8, np.where(r < outer, -0.3, -0.8))
        lge[i] = np.select([labels[i] == 3, labels[i] == 1, labels[i] == 2], [0.9, 0.3, -0.9], -0.5)
    cine += rng.normal(0, 0.05, cine.shape).astype(np.float32)
    return RoiArrays(cine=cine, lge=lge, labels=labels, margin=margin)


@pytest.fixture(scope="module")
def tiny_cfg():
    return get_config("tiny")


@pytest.fixture(scope="module")
def tiny_training():
    return get_training_config("tiny")


def test_a_few_steps_lower_the_supervised_losses(tiny_cfg, tiny_training):
    torch.manual_seed(0)
    cfg, training = tiny_cfg, tiny_training
    data = synthetic_arrays(4, cfg)
    cine, lge, lab = data.centred()
    b = Batch(cine=torch.from_numpy(cine), lge=torch.from_numpy(lge)[:, None], labels=torch.from_numpy(lab))
    model = build_generators(cfg)
    discs = build_discriminators(cfg)
    losses = LossSet(training)
    for phase, key in (("pri", "pri_mce"), ("sys", "sys_l1")):
        gen = getattr(model, phase)
        model.requires_grad_(False)
        gen.requires_grad_(True)
        opt_g = torch.optim.Adam(gen.parameters(), lr=training.learning_rate)
        d = {phase: discs[phase]}
        opt_d = torch.optim.Adam(discs[phase].parameters(), lr=training.learning_rate)
        history = [train_step(model, discs, gen, d, opt_g, opt_d, phase, b, losses, training)[key] for _ in range(12)]
        assert np.isfinite(history).all()
        assert np.mean(history[-3:]) < 0.9 * np.mean(history[:2]), f"{phase}: {history}"


def _state(model) -> dict:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


class Killed(RuntimeError):
    pass


def test_kill_and_resume_equals_an_uninterrupted_run(tmp_path: Path, tiny_cfg, tiny_training):
    cfg, training = tiny_cfg, tiny_training.with_changes(batch_size=2)
    data = synthetic_arrays(8, cfg)
    tr, va = split_indices(len(data), 0.25, seed=0)
    train, val = data.subset(tr), data.subset(va)
    opts = dict(epochs=2, seed=3, jitter=1, quiet=True, tensorboard=False)

    full = Trainer(cfg, training, train, val, tmp_path / "full", TrainOptions(**opts)).run()
    assert full.status == "finished" and full.epochs_run == 6

    def kill_after_third(phase: str, epoch: int, metrics: dict) -> None:
        if (phase, epoch) == ("sys", 1):  # the checkpoint of this epoch is already on disk
            raise Killed

    run = tmp_path / "resumed"
    with pytest.raises(Killed):
        Trainer(cfg, training, train, val, run, TrainOptions(**opts)).run(on_epoch_end=kill_after_third)
    raw = torch.load(run / CHECKPOINT_NAME, weights_only=True)  # the safe loader reads it
    assert (raw["phase"], raw["epoch"]) == ("sys", 1)
    resumed = Trainer(cfg, training, train, val, run, TrainOptions(**opts, resume=True)).run()
    assert resumed.status == "finished" and resumed.epochs_run == 3
    a, b = _state(full.model), _state(resumed.model)
    assert a.keys() == b.keys()
    diff = [k for k in a if not torch.equal(a[k], b[k])]
    assert not diff, f"weights differ after resume: {diff[:5]}"
    ck_full = torch.load(tmp_path / "full" / CHECKPOINT_NAME, weights_only=True)
    ck_res = torch.load(run / CHECKPOINT_NAME, weights_only=True)
    assert ck_full["weights_sha256"] == ck_res["weights_sha256"]
    assert all(torch.equal(ck_full["discriminators"][k], ck_res["discriminators"][k]) for k in ck_full["discriminators"])
    with open(run / METRICS_NAME) as f:
        rows = list(csv.DictReader(f))
    assert [(r["phase"], r["epoch"]) for r in rows] == [(p, str(e)) for p in ("pri", "sys", "seg") for e in (1, 2)]
    assert all(0.0 <= float(r["mask_accuracy"]) <= 1.0 for r in rows)
    # each phase validates only the generators trained so far: G_Seg's figures from phase III on, the LGE's from II on
    assert [r["seg_accuracy"] == "" for r in rows] == [True, True, True, True, False, False]
    assert [r["lge_ssim"] == "" for r in rows] == [True, True, False, False, False, False]
    assert all(0.0 <= float(r["seg_accuracy"]) <= 1.0 for r in rows if r["phase"] == "seg")


def test_validating_every_few_epochs_keeps_the_first_and_last_and_changes_no_weight(tmp_path: Path, tiny_cfg, tiny_training):
    cfg, training = tiny_cfg, tiny_training.with_changes(batch_size=2)
    data = synthetic_arrays(6, cfg)
    train, val = data.subset([0, 1, 2, 3, 4]), data.subset([5])
    opts = dict(epochs=5, seed=1, jitter=1, quiet=True, tensorboard=False)
    every = Trainer(cfg, training, train, val, tmp_path / "every", TrainOptions(**opts)).run()
    sparse = Trainer(cfg, training, train, val, tmp_path / "sparse", TrainOptions(**opts, validate_every=3)).run()
    a, b = _state(every.model), _state(sparse.model)
    assert all(torch.equal(a[k], b[k]) for k in a), "validation must not change what is trained"
    with open(tmp_path / "sparse" / METRICS_NAME) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 15 and all(r["loss_g"] != "" for r in rows)
    # epochs 1 (the first), 3 (every third) and 5 (the last) of every phase carry the validation figures
    assert [int(r["epoch"]) for r in rows if r["mask_accuracy"] != ""] == [1, 3, 5] * 3
    assert sparse.last_metrics["seg_accuracy"] == every.last_metrics["seg_accuracy"]


def test_stop_after_epochs_and_non_adversarial_joint_training(tmp_path: Path, tiny_cfg, tiny_training):
    cfg = tiny_cfg.with_changes(progressive=False)
    training = tiny_training.with_changes(adversarial=False, batch_size=2)
    data = synthetic_arrays(4, cfg)
    res = Trainer(cfg, training, data.subset([0, 1, 2]), data.subset([3]), tmp_path,
                  TrainOptions(epochs=3, stop_after_epochs=1, quiet=True, tensorboard=True)).run()
    assert res.status == "stopped" and res.epochs_run == 1
    assert list((tmp_path / "tb").glob("events.out.tfevents.*")), "TensorBoard events written"
    ck = torch.load(tmp_path / CHECKPOINT_NAME, weights_only=True)
    assert ck["phase"] == "joint" and ck["discriminators"] == {}


@pytest.mark.parametrize("changes", [{"adversarial_loss": "wgan-gp"}, {"adversarial_loss": "lsgan"},
                                     {"auxiliary_loss": False, "synthetic_regularization": False}])
def test_every_loss_variant_takes_finite_steps_in_every_phase(tiny_cfg, tiny_training, changes):
    torch.manual_seed(0)
    cfg, training = tiny_cfg, tiny_training.with_changes(**changes)
    cine, lge, lab = synthetic_arrays(2, cfg).centred()
    b = Batch(cine=torch.from_numpy(cine), lge=torch.from_numpy(lge)[:, None], labels=torch.from_numpy(lab))
    model, discs, losses = build_generators(cfg), build_discriminators(cfg), LossSet(training)
    for phase in ("pri", "sys", "seg"):
        gen = getattr(model, phase)
        model.requires_grad_(False)
        gen.requires_grad_(True)
        discs.requires_grad_(True)
        before = [p.detach().clone() for p in discs[phase].parameters()]
        stats = train_step(model, discs, gen, {phase: discs[phase]}, torch.optim.Adam(gen.parameters()),
                           torch.optim.Adam(discs[phase].parameters()), phase, b, losses, training)
        assert all(np.isfinite(v) for v in stats.values()), stats
        assert any(not torch.equal(a, p) for a, p in zip(before, discs[phase].parameters())), "D did not step"
        assert (f"{phase}_aux" in stats) == (phase == "seg" and training.auxiliary_loss)
        assert (f"{phase}_synreg" in stats) == (phase == "sys" and training.synthetic_regularization)


def test_a_step_without_discriminator_steps_trains_the_generator_only(tiny_cfg, tiny_training):
    """disc_steps_per_gen_step 0: the discriminator keeps its weights, loss_d is reported as 0."""
    torch.manual_seed(0)
    cfg, training = tiny_cfg, tiny_training.with_changes(disc_steps_per_gen_step=0)
    cine, lge, lab = synthetic_arrays(2, cfg).centred()
    b = Batch(cine=torch.from_numpy(cine), lge=torch.from_numpy(lge)[:, None], labels=torch.from_numpy(lab))
    model, discs, losses = build_generators(cfg), build_discriminators(cfg), LossSet(training)
    gen = model.pri
    model.requires_grad_(False)
    gen.requires_grad_(True)
    d_before = [p.detach().clone() for p in discs["pri"].parameters()]
    g_before = [p.detach().clone() for p in gen.parameters()]
    stats = train_step(model, discs, gen, {"pri": discs["pri"]}, torch.optim.Adam(gen.parameters()),
                       torch.optim.Adam(discs["pri"].parameters()), "pri", b, losses, training)
    assert stats["loss_d"] == 0.0 and np.isfinite(stats["loss_g"])
    assert all(torch.equal(a, p) for a, p in zip(d_before, discs["pri"].parameters()))
    assert any(not torch.equal(a, p) for a, p in zip(g_before, gen.parameters()))


def test_time_budget_is_shared_by_the_phases_so_every_phase_trains(tiny_cfg, tiny_training, tmp_path):
    """A budget smaller than one epoch still trains every phase for one epoch (not only the first)."""
    data = synthetic_arrays(6, tiny_cfg)
    tr, va = split_indices(len(data), 0.34, 0)
    opts = TrainOptions(epochs=5, batch_size=2, seed=0, max_minutes=1e-6, quiet=True)
    result = Trainer(tiny_cfg, tiny_training, data.subset(tr), data.subset(va), tmp_path / "run", opts).run()
    assert result.status == "budget"
    with open(tmp_path / "run" / METRICS_NAME) as fh:
        rows = list(csv.DictReader(fh))
    assert [r["phase"] for r in rows] == ["pri", "sys", "seg"]
    assert result.epochs_run == 3


def test_seg_discriminator_sees_one_hot_masks_with_the_softmax_gradient(tiny_training):
    """seg_disc_input="onehot": D_Seg sees exactly the one-hot arg max (like a real mask), and G still gets a gradient."""
    from training.phases import disc_input

    torch.manual_seed(0)
    logits = torch.randn(2, 4, 8, 8, requires_grad=True)
    soft = disc_input("seg", logits)
    assert torch.allclose(soft, torch.softmax(logits, dim=1))  # the paper's default
    hard = disc_input("seg", logits, "onehot")
    assert set(hard.unique().tolist()) == {0.0, 1.0} and torch.equal(hard.argmax(1), logits.argmax(1))
    assert torch.equal(hard.sum(1), torch.ones(2, 8, 8))
    (hard * torch.randn_like(hard)).sum().backward()
    assert logits.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="seg_disc_input"):
        LossSet(tiny_training.with_changes(seg_disc_input="argmax"))
    losses = LossSet(tiny_training.with_changes(seg_disc_input="onehot"))
    assert (losses.mask_input("seg"), losses.mask_input("pri")) == ("onehot", "softmax")
    with pytest.raises(ValueError, match="pri_disc_input"):
        LossSet(tiny_training.with_changes(pri_disc_input="argmax"))
    both = LossSet(tiny_training.with_changes(seg_disc_input="onehot", pri_disc_input="onehot"))
    assert (both.mask_input("seg"), both.mask_input("pri"), both.mask_input("sys")) == ("onehot", "onehot", "softmax")
