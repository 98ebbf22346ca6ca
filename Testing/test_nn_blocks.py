"""Building blocks checked against independent reference computations."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from pscgan.nn.attention import MultiAttentionUnit, SelfAttention
from pscgan.nn.baselines import UNet3D, matching_base, parameter_count
from pscgan.nn.config import get_config
from pscgan.nn.dilated import CausalTemporalConv, FrameDown, FrameNorm, Pointwise, SpatialConv, frame_patches, usable_dilations
from pscgan.nn.summary import TimeWeighting

TINY = get_config("tiny")


@torch.no_grad()
def test_pointwise_equals_1x1_convolution():
    torch.manual_seed(0)
    pw = Pointwise(5, 3)
    x = torch.randn(4, 5, 6, 7)
    ref = F.conv2d(x, pw.weight.view(3, 5, 1, 1), pw.bias.view(3))
    assert torch.allclose(pw(x), ref, atol=1e-5)


@torch.no_grad()
def test_frame_patches_equal_unfold():
    torch.manual_seed(0)
    for c, k, pad, stride, size in [(1, 3, 1, 2, 64), (2, 3, 1, 2, 63), (1, 4, 1, 4, 64), (1, 2, 0, 2, 33), (3, 3, 0, 1, 9)]:
        x = torch.randn(5, c, size, size + 2)
        expected = F.unfold(x, k, padding=pad, stride=stride)
        got = frame_patches(x, k, pad, stride)
        assert got.shape == expected.shape, (c, k, pad, stride, size)
        assert torch.equal(got, expected), (c, k, pad, stride, size)


def test_frame_down_as_matmul_equals_its_convolution_forward_and_backward():
    torch.manual_seed(0)
    for in_ch, kernel in [(1, 3), (2, 3), (1, 4), (1, 2)]:
        down = FrameDown(in_ch, 8, kernel, stride=kernel if kernel != 3 else 2)
        assert down.as_matmul
        x = torch.randn(2, 25, in_ch, 64, 64, requires_grad=True)
        y = down._conv(x.reshape(50, in_ch, 64, 64))
        ref = down.conv(x.reshape(50, in_ch, 64, 64))
        torch.testing.assert_close(y, ref, rtol=1e-4, atol=1e-5)
        gx, gw = torch.autograd.grad(y.square().sum(), (x, down.conv.weight))
        rx, rw = torch.autograd.grad(ref.square().sum(), (x, down.conv.weight))
        torch.testing.assert_close(gx, rx, rtol=1e-4, atol=1e-4)
        torch.testing.assert_close(gw, rw, rtol=1e-4, atol=1e-3)


def test_causal_temporal_conv_equals_left_padded_conv3d():
    torch.manual_seed(1)
    k, d, cin, cout = 3, 2, 2, 3
    conv = CausalTemporalConv(cin, cout, dilation=d, kernel=k)
    x = torch.randn(2, 9, cin, 4, 4)  # (B, T, C, H, W)
    taps = conv.taps.weight.view(k, cout, cin)  # W_j for tap j (x[t - j*d])
    w3 = torch.stack([taps[k - 1 - kk] for kk in range(k)], dim=2).view(cout, cin, k, 1, 1)
    xp = F.pad(x.transpose(1, 2), (0, 0, 0, 0, (k - 1) * d, 0))  # (B, C, T + pad, H, W)
    z = F.conv3d(xp, w3, dilation=(d, 1, 1)).transpose(1, 2)  # (B, T, Cout, H, W)
    ref = F.leaky_relu(F.group_norm(z.reshape(-1, cout, 4, 4), 1, conv.norm.norm.weight, conv.norm.norm.bias), 0.2)
    assert torch.allclose(conv(x), ref.view_as(z), atol=1e-5)


@torch.no_grad()
def test_spatial_conv_is_per_frame():
    torch.manual_seed(2)
    conv = SpatialConv(2, 2, dilation=2, separable=False)
    x = torch.randn(1, 5, 2, 8, 8)
    y = conv(x)
    x2 = x.clone()
    x2[:, 2] += 1.0
    diff = (conv(x2) - y).abs().amax(dim=(0, 2, 3, 4))
    assert diff[2] > 1e-3 and torch.all(diff[[0, 1, 3, 4]] == 0)


def test_frame_norm_normalises_each_frame():
    x = torch.randn(6, 3, 5, 5) * 4 + 2
    y = FrameNorm(3)(x)
    assert torch.allclose(y.mean(dim=(1, 2, 3)), torch.zeros(6), atol=1e-5)
    assert torch.allclose(y.var(dim=(1, 2, 3), unbiased=False), torch.ones(6), atol=1e-3)


def test_usable_dilations_drop_rates_beyond_the_extent():
    assert usable_dilations((1, 1, 2, 4, 6, 8), 32) == [1, 1, 2, 4, 6, 8]
    assert usable_dilations((1, 1, 2, 4, 6, 8), 4) == [1, 1, 2]
    assert usable_dilations((3, 5), 2) == [3]


def test_attention_gamma_starts_at_zero_and_learns():
    torch.manual_seed(3)
    att = SelfAttention(8, reduction=4, pool=2)
    assert att.gamma.item() == 0.0 and att.gamma.requires_grad
    x = torch.randn(2, 4, 8, 4, 4)
    y = att(x)
    assert torch.equal(y, x)  # identity at initialisation
    (y * torch.randn_like(y)).sum().backward()
    assert att.gamma.grad is not None and att.gamma.grad.abs() > 0
    opt = torch.optim.SGD([att.gamma], lr=0.1)
    opt.step()
    assert att.gamma.item() != 0.0


def reference_attention(att: SelfAttention, x: torch.Tensor) -> torch.Tensor:
    """Explicit loops over positions (numpy) of the factored attention described in attention.py."""
    b, t, c, h, w = x.shape
    ci = att.inner
    wf = att.fgh.weight.detach().numpy()
    bf = att.fgh.bias.detach().numpy().reshape(-1)
    xn = x.numpy()
    proj = np.einsum("oc,btchw->btohw", wf, xn) + bf[None, None, :, None, None]
    q, k, v = proj[:, :, :ci], proj[:, :, ci:2 * ci], proj[:, :, 2 * ci:]
    p = att.pool  # the test uses h, w divisible by the pool size
    kp = k.reshape(b, t, ci, p, h // p, p, w // p).max(axis=(4, 6)).reshape(b, t, ci, p * p)
    vp = v.reshape(b, t, ci, p, h // p, p, w // p).max(axis=(4, 6)).reshape(b, t, ci, p * p)
    o1 = np.zeros((b, t, ci, h * w))
    qf, kf = q.reshape(b, t, ci, h * w), k.reshape(b, t, ci, h * w)
    for bi in range(b):
        for ti in range(t):
            for n in range(h * w):
                s = qf[bi, ti, :, n] @ kp[bi, ti]
                a = np.exp(s - s.max())
                a /= a.sum()
                o1[bi, ti, :, n] = vp[bi, ti] @ a
    o2 = np.zeros_like(o1)
    for bi in range(b):
        for n in range(h * w):
            for ti in range(t):
                s = np.array([qf[bi, ti, :, n] @ kf[bi, si, :, n] for si in range(ti + 1)])
                a = np.exp(s - s.max())
                a /= a.sum()
                o2[bi, ti, :, n] = sum(a[si] * o1[bi, si, :, n] for si in range(ti + 1))
    wv = att.v.weight.detach().numpy()
    bv = att.v.bias.detach().numpy().reshape(-1)
    out = np.einsum("oc,btcn->bton", wv, o2) + bv[None, None, :, None]
    return torch.from_numpy(att.gamma.item() * out.reshape(b, t, c, h, w) + xn).float()


@torch.no_grad()
def test_attention_matches_explicit_loops():
    torch.manual_seed(4)
    att = SelfAttention(4, reduction=2, pool=2, time_mode="pixel")
    att.gamma.fill_(0.5)
    x = torch.randn(1, 3, 4, 4, 4)
    assert torch.allclose(att(x), reference_attention(att, x.double()), atol=1e-4)


@torch.no_grad()
def test_multi_attention_unit_is_the_sum_at_initialisation_and_without_attention():
    torch.manual_seed(5)
    fs, ft = torch.randn(1, 3, 8, 4, 4), torch.randn(1, 3, 8, 4, 4)
    for attention in (True, False):
        unit = MultiAttentionUnit(8, 4, 2, spatial=True, temporal=True, attention=attention)
        assert torch.allclose(unit(fs, ft), fs + ft)
    only_spatial = MultiAttentionUnit(8, 4, 2, spatial=True, temporal=False, attention=True)
    assert torch.allclose(only_spatial(fs, None), fs)


def test_time_weighting_starts_as_the_mean_and_is_learnable():
    tw = TimeWeighting(5)
    x = torch.randn(2, 5, 3, 4, 4)
    assert torch.allclose(tw(x), x.mean(dim=1), atol=1e-6)
    with torch.no_grad():
        tw.logits[2] = 50.0
    assert torch.allclose(tw(x), x[:, 2], atol=1e-5)


def test_unet3d_baseline_shapes_and_parameter_matching():
    cfg = TINY
    net = UNet3D(cfg, out_channels=1, base=4, condition_channels=4, output="tanh")
    y = net(torch.rand(2, cfg.frames, cfg.size, cfg.size), torch.rand(2, 4, cfg.size, cfg.size))
    assert y.shape == (2, 1, cfg.size, cfg.size) and y.abs().max() <= 1
    target = 60_000
    base = matching_base(cfg, target, out_channels=4)
    counts = {b: parameter_count(UNet3D(cfg, 4, b)) for b in (base - 1, base, base + 1)}
    assert all(abs(counts[base] - target) <= abs(n - target) for n in counts.values())
