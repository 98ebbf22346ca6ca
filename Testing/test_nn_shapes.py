"""Shapes and output ranges of the PSCGAN networks for every configuration and ablation switch."""
from __future__ import annotations

import pytest
import torch

from pscgan.nn.cascade import Cascade, CascadeOutput, build_discriminators, build_generators
from pscgan.nn.config import CONFIGS, get_config
from pscgan.nn.encoders import ENCODERS, build_encoder
from pscgan.nn.generator import Generator

TINY = get_config("tiny")


def cine_batch(cfg, batch: int = 2, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(batch, cfg.frames, cfg.size, cfg.size, generator=g) * 2 - 1


def check_cascade_output(out: CascadeOutput, cfg, batch: int) -> None:
    s, k = cfg.size, cfg.num_classes
    assert out.mask_logits.shape == (batch, k, s, s)
    assert out.lge.shape == (batch, 1, s, s)
    assert out.seg_logits.shape == (batch, k, s, s)
    assert out.lge.min() >= -1 and out.lge.max() <= 1
    for logits in (out.mask_logits, out.seg_logits):
        assert torch.isfinite(logits).all()
        assert torch.allclose(torch.softmax(logits, 1).sum(1), torch.ones(batch, s, s), atol=1e-5)


def test_named_configs_document_their_departures():
    assert set(CONFIGS) >= {"paper", "cpu", "tiny"}
    paper = get_config("paper")
    assert paper.departures == ()
    assert paper.dilations == (1, 1, 2, 4, 6, 8) and paper.residual_blocks == 3 and paper.channels[-1] == 128
    assert paper.fc_features == 4096 and paper.code_channels == 256
    for name in ("cpu", "tiny"):
        assert len(get_config(name).departures) >= 1
    with pytest.raises(KeyError):
        get_config("nope")


def test_config_round_trips_through_dict():
    cfg = get_config("cpu")
    assert type(cfg).from_dict(cfg.to_dict()) == cfg


@pytest.mark.parametrize("name", ["tiny", "cpu"])
def test_cascade_shapes_and_ranges(name):
    cfg = get_config(name)
    gens = build_generators(cfg)
    with torch.no_grad():
        out = gens(cine_batch(cfg, 2) * 50)  # large inputs push tanh towards saturation
    check_cascade_output(out, cfg, 2)


def test_paper_cascade_shapes_on_meta_device():
    """The paper-sized cascade (about 1 G parameters) checked without allocating memory."""
    cfg = get_config("paper")
    with torch.device("meta"):
        gens = build_generators(cfg)
        out = gens(torch.empty(1, cfg.frames, cfg.size, cfg.size))
        discs = build_discriminators(cfg)
        score, feats = discs["sys"](out.lge)
        _, sizes = discs["seg"](out.seg_logits)
    assert out.mask_logits.shape == (1, 4, 64, 64) and out.lge.shape == (1, 1, 64, 64)
    assert out.seg_logits.shape == (1, 4, 64, 64)
    assert score.shape == (1, 1) and sizes.shape == (1, 4)
    assert [tuple(f.shape) for f in feats] == [(1, 128, 16, 16), (1, 256, 8, 8), (1, 512, 4, 4)]
    # The paper's bottleneck: the fourth SCLN's 25 x 4 x 4 x 128 feature -> 4096 (section 4.2).
    assert gens.pri.bottleneck.reduce.in_features == 25 * 4 * 4 * 128
    assert gens.pri.bottleneck.reduce.out_features == 4096


def test_paper_encoder_runs_for_real():
    cfg = get_config("paper")
    enc = build_encoder(cfg)
    with torch.no_grad():
        feats = enc(cine_batch(cfg, 1))
    assert [tuple(f.shape) for f in feats] == [
        (1, 25, 16, 32, 32), (1, 25, 32, 16, 16), (1, 25, 64, 8, 8), (1, 25, 128, 4, 4),
    ]
    assert all(torch.isfinite(f).all() for f in feats)


ABLATIONS = [
    {"encoder": e} for e in ENCODERS
] + [
    {"spatial_pathway": False},
    {"temporal_pathway": False},
    {"multi_attention": False},
    {"progressive": False},
    {"attention_time": "pixel"},
    {"condition_in_decoder": False},
    {"separable": False},
]


@pytest.mark.parametrize("changes", ABLATIONS, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()))
def test_ablation_forward_backward(changes):
    cfg = TINY.with_changes(**changes)
    gens = build_generators(cfg)
    if not cfg.progressive:
        assert hasattr(gens, "joint") and not hasattr(gens, "pri")
    out = gens(cine_batch(cfg, 2))
    check_cascade_output(out, cfg, 2)
    (out.mask_logits.mean() + out.lge.mean() + out.seg_logits.mean()).backward()
    grads = [p.grad for p in gens.parameters() if p.requires_grad]
    assert any(g is not None and g.abs().sum() > 0 for g in grads)


def test_no_pathway_is_rejected():
    with pytest.raises(ValueError):
        build_generators(TINY.with_changes(spatial_pathway=False, temporal_pathway=False))


def test_unknown_encoder_is_rejected():
    with pytest.raises(ValueError, match="unknown encoder"):
        build_generators(TINY.with_changes(encoder="transformer"))


def test_generator_condition_is_used_and_required():
    gen = Generator(TINY, out_channels=1, condition_channels=4, output="tanh")
    x = cine_batch(TINY, 2)
    c1 = torch.softmax(torch.randn(2, 4, TINY.size, TINY.size), 1)
    c2 = torch.softmax(torch.randn(2, 4, TINY.size, TINY.size), 1)
    with torch.no_grad():
        assert not torch.allclose(gen(x, c1), gen(x, c2))
    with pytest.raises(ValueError):
        gen(x, None)


def test_discriminator_heads_and_features():
    cfg = TINY
    discs = build_discriminators(cfg)
    s, b = cfg.size, 3
    probs = torch.softmax(torch.randn(b, 4, s, s), 1)
    img = torch.rand(b, 1, s, s) * 2 - 1
    assert discs["pri"](probs).shape == (b, 1)
    score, feats = discs["sys"](img)
    c = cfg.disc_channels
    assert score.shape == (b, 1)
    assert [tuple(f.shape) for f in feats] == [(b, c[1], s // 4, s // 4), (b, c[2], s // 8, s // 8), (b, c[3], s // 16, s // 16)]
    score, sizes = discs["seg"](probs)
    assert score.shape == (b, 1) and sizes.shape == (b, 4)
    # the size head is trainable towards true fractions
    sizes.sum().backward()
    assert discs["seg"].sizes.weight.grad is not None


def test_cascade_feeds_each_phase_the_previous_output():
    """Phase III must react to the LGE of phase II, phase II to the mask of phase I."""
    cfg = TINY
    gens: Cascade = build_generators(cfg).eval()
    x = cine_batch(cfg, 1)
    with torch.no_grad():
        ref = gens(x)
        torch.nn.init.constant_(gens.pri.decoder.head.bias, 3.0)  # change only phase I's output
        torch.nn.init.zeros_(gens.pri.decoder.head.weight)
        out = gens(x)
    assert not torch.allclose(ref.mask_logits, out.mask_logits)
    assert not torch.allclose(ref.lge, out.lge)
    assert not torch.allclose(ref.seg_logits, out.seg_logits)


def test_cascade_stops_after_the_last_stage_asked_for():
    """forward(last=...) runs the generators up to that stage (validation of phases I-II) with the same outputs."""
    gens: Cascade = build_generators(TINY).eval()
    x = cine_batch(TINY, 2)
    with torch.no_grad():
        full = gens(x)
        pri, sys_ = gens(x, last="pri"), gens(x, last="sys")
    assert pri.lge is None and pri.seg_logits is None and torch.equal(pri.mask_logits, full.mask_logits)
    assert sys_.seg_logits is None and torch.equal(sys_.lge, full.lge)
    with pytest.raises(ValueError, match="unknown last stage 'joint'"):
        gens(x, last="joint")


def test_each_stage_is_conditioned_on_the_earlier_generators_outputs():
    """condition(stage) is what the full cascade feeds that generator: nothing, G_Pri's class probabilities, G_Sys's
    LGE; a phase trained on it sees what inference will give it."""
    gens: Cascade = build_generators(TINY).eval()
    x = cine_batch(TINY, 2)
    with torch.no_grad():
        full = gens(x)
        assert gens.condition("pri", x) is None
        assert torch.equal(gens.condition("sys", x), torch.softmax(full.mask_logits, dim=1))
        assert torch.equal(gens.condition("seg", x), full.lge)
        assert torch.equal(gens.seg(x, gens.condition("seg", x)), full.seg_logits)
    with pytest.raises(ValueError, match="unknown stage 'joint'"):
        gens.condition("joint", x)


@pytest.mark.parametrize("progressive", [True, False])
def test_wrong_cine_shape_is_a_one_line_input_error(progressive):
    from pscgan.errors import InputError

    gens = build_generators(TINY.with_changes(progressive=progressive))
    bad = torch.zeros(1, TINY.frames + 1, TINY.size, TINY.size)
    with pytest.raises(InputError, match=r"cine tensor: expected .*\(batch, 8, 32, 32\)") as info:
        gens(bad)
    assert "\n" not in str(info.value)
    with pytest.raises(InputError):
        gens(torch.zeros(TINY.frames, TINY.size, TINY.size))
