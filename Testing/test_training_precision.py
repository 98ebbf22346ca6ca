"""Training precision: bfloat16 autocast runs the step's convolutions in bfloat16, keeps the weights float32 and the
losses finite; unknown precisions are refused; a device without native bfloat16 trains in float32 and says so."""
from __future__ import annotations

import pytest
import torch
from test_training_trainer import synthetic_arrays

from pscgan.nn.cascade import build_discriminators, build_generators
from pscgan.nn.config import get_config
from training import precision
from training.arrays import split_indices
from training.config import get_training_config
from training.phases import Batch, LossSet
from training.trainer import Trainer, TrainOptions, train_step

CPU = torch.device("cpu")
needs_bf16 = pytest.mark.skipif(not precision.native_bfloat16(CPU), reason="this CPU has no native bfloat16")


def _conv_output_dtypes(module: torch.nn.Module) -> list[torch.dtype]:
    seen: list[torch.dtype] = []
    for m in module.modules():
        if isinstance(m, torch.nn.Conv2d):
            m.register_forward_hook(lambda _m, _i, out: seen.append(out.dtype))
    return seen


@needs_bf16
@pytest.mark.parametrize("phase", ["pri", "sys", "seg"])
def test_bfloat16_step_computes_in_bfloat16_and_keeps_float32_state(phase):
    torch.manual_seed(0)
    cfg = get_config("tiny")
    training = get_training_config("tiny").with_changes(precision="bfloat16")
    cine, lge, lab = synthetic_arrays(2, cfg).centred()
    b = Batch(cine=torch.from_numpy(cine), lge=torch.from_numpy(lge)[:, None], labels=torch.from_numpy(lab))
    model, discs = build_generators(cfg), build_discriminators(cfg)
    gen = getattr(model, phase)
    model.requires_grad_(False)
    gen.requires_grad_(True)
    gen_dtypes, disc_dtypes = _conv_output_dtypes(gen), _conv_output_dtypes(discs[phase])
    before = [p.detach().clone() for p in gen.parameters()]
    stats = train_step(model, discs, gen, {phase: discs[phase]}, torch.optim.Adam(gen.parameters()),
                       torch.optim.Adam(discs[phase].parameters()), phase, b, LossSet(training), training)
    assert gen_dtypes and set(gen_dtypes) == {torch.bfloat16}
    assert disc_dtypes and set(disc_dtypes) == {torch.bfloat16}
    assert all(torch.isfinite(torch.tensor(v)) for v in stats.values())
    assert all(p.dtype == torch.float32 for p in gen.parameters())
    assert any(not torch.equal(p, q) for p, q in zip(gen.parameters(), before, strict=True)), "the step moved G"


def test_float32_step_stays_float32():
    cfg = get_config("tiny")
    training = get_training_config("tiny")
    assert training.precision == "float32"  # the paper's arithmetic is the default
    cine, lge, lab = synthetic_arrays(2, cfg).centred()
    b = Batch(cine=torch.from_numpy(cine), lge=torch.from_numpy(lge)[:, None], labels=torch.from_numpy(lab))
    model, discs = build_generators(cfg), build_discriminators(cfg)
    model.requires_grad_(False)
    model.pri.requires_grad_(True)
    dtypes = _conv_output_dtypes(model.pri)
    train_step(model, discs, model.pri, {"pri": discs["pri"]}, torch.optim.Adam(model.pri.parameters()),
               torch.optim.Adam(discs["pri"].parameters()), "pri", b, LossSet(training), training)
    assert set(dtypes) == {torch.float32}


def test_without_native_bfloat16_training_falls_back_to_float32_with_a_note(monkeypatch):
    monkeypatch.setattr(precision, "native_bfloat16", lambda device: False)
    assert precision.effective_precision("bfloat16", CPU) == "float32"
    assert "training in float32" in precision.precision_note("bfloat16", CPU)
    assert precision.precision_note("float32", CPU) is None
    with precision.step_autocast("bfloat16", CPU):
        assert not torch.is_autocast_enabled("cpu")


def test_unknown_precision_is_refused(tmp_path):
    cfg = get_config("tiny")
    data = synthetic_arrays(3, cfg)
    tr, va = split_indices(len(data), 0.34, seed=0)
    training = get_training_config("tiny").with_changes(precision="float16")
    with pytest.raises(ValueError, match="unknown precision 'float16'; choose one of float32, bfloat16"):
        Trainer(cfg, training, data.subset(tr), data.subset(va), tmp_path, TrainOptions(epochs=1, quiet=True))


def test_shipped_cpu_recipe_trains_in_bfloat16_and_lists_it_as_a_departure():
    training = get_training_config("cpu")
    assert training.precision == "bfloat16"
    assert any("bfloat16" in d for d in training.departures)
