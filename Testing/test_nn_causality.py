"""Causality of the temporal pathway, the attention and the whole SCLN encoder: changing frames
after t must leave every output at frames <= t unchanged; changing a frame <= t must not."""
from __future__ import annotations

import pytest
import torch

from pscgan.nn.attention import SelfAttention
from pscgan.nn.config import get_config
from pscgan.nn.dilated import CausalTemporalConv, temporal_pathway
from pscgan.nn.encoders import build_encoder

TINY = get_config("tiny")
T_CUT = 3  # frames 0..3 are "the past"


def perturbed(x: torch.Tensor, frames: slice) -> torch.Tensor:
    y = x.clone()
    y[:, frames] += torch.randn_like(y[:, frames])
    return y


def past_unchanged(a: torch.Tensor, b: torch.Tensor, t: int) -> bool:
    """a, b (B, T, ...) agree on frames 0..t."""
    return torch.allclose(a[:, : t + 1], b[:, : t + 1], atol=1e-6, rtol=0)


def randomise_gammas(module: torch.nn.Module) -> None:
    """Attention starts as the identity (gamma = 0); make it act so that the test covers it."""
    for m in module.modules():
        if isinstance(m, SelfAttention):
            m.gamma.data.fill_(0.7)


@torch.no_grad()
def test_temporal_pathway_is_causal():
    torch.manual_seed(0)
    path = temporal_pathway(channels=3, dilations=(1, 2, 4), blocks=2, kernel=3)
    x = torch.randn(2, 10, 3, 5, 5)  # (B, T, C, H, W)
    y = path(x)
    assert past_unchanged(y, path(perturbed(x, slice(T_CUT + 1, None))), T_CUT)
    assert not past_unchanged(y, path(perturbed(x, slice(T_CUT, T_CUT + 1))), T_CUT)


@torch.no_grad()
def test_temporal_conv_sees_the_past_it_should():
    """A 3-tap conv of dilation 2 at frame t reads frames t, t-2, t-4 and nothing else."""
    torch.manual_seed(1)
    conv = CausalTemporalConv(2, 2, dilation=2, kernel=3)
    x = torch.randn(1, 9, 2, 3, 3)
    y = conv(x)
    for frame, should_change in ((8, True), (7, False), (6, True), (5, False), (4, True), (3, False)):
        y2 = conv(perturbed(x, slice(frame, frame + 1)))
        # frame 8's output reads 8, 6, 4 only. The norm is per frame, so other frames are unaffected.
        assert (not torch.allclose(y[:, 8], y2[:, 8], atol=1e-6)) == should_change, frame


@pytest.mark.parametrize("time_mode", ["pixel", "frame"])
@torch.no_grad()
def test_attention_is_causal(time_mode):
    torch.manual_seed(2)
    att = SelfAttention(8, reduction=4, pool=2, time_mode=time_mode)
    randomise_gammas(att)
    x = torch.randn(2, 7, 8, 6, 6)
    y = att(x)
    assert past_unchanged(y, att(perturbed(x, slice(T_CUT + 1, None))), T_CUT)
    assert not past_unchanged(y, att(perturbed(x, slice(0, 1))), T_CUT)


@pytest.mark.parametrize("changes", [{}, {"attention_time": "pixel"}, {"spatial_pathway": False}, {"multi_attention": False}])
@torch.no_grad()
def test_whole_scln_encoder_is_causal(changes):
    torch.manual_seed(3)
    enc = build_encoder(TINY.with_changes(**changes)).eval()
    randomise_gammas(enc)
    x = torch.rand(2, TINY.frames, TINY.size, TINY.size) * 2 - 1
    ref = enc(x)
    later = enc(perturbed(x, slice(T_CUT + 1, None)))
    earlier = enc(perturbed(x, slice(T_CUT, T_CUT + 1)))
    for a, b, c in zip(ref, later, earlier):
        assert past_unchanged(a, b, T_CUT)
        assert not past_unchanged(a, c, T_CUT)


@torch.no_grad()
def test_conv3d_ablation_is_not_causal():
    """The same check flags the (symmetric-padded) 3D convolution encoder: the test can fail."""
    torch.manual_seed(4)
    enc = build_encoder(TINY.with_changes(encoder="conv3d")).eval()
    x = torch.rand(1, TINY.frames, TINY.size, TINY.size)
    ref = enc(x)
    later = enc(perturbed(x, slice(T_CUT + 1, None)))
    assert not past_unchanged(ref[0], later[0], T_CUT)
