"""Cine encoders: the SCLN encoder of the paper and the ablation encoders of Tables 3-5.

Every encoder maps cine (B, T, H, W) to one feature map per scale, each
(B, T, C_i, H / 2^(i+1), W / 2^(i+1)) with C_i = cfg.channels[i] (the SCLN encoder's first stage
may stride 4: cfg.first_stride); the generator reduces the first
three over time for the U-Net skips and flattens the fourth into the bottleneck.

* `scln` - 4 SCLNs (spatial stride 2 each); the spatial-only / temporal-only / no-attention
  ablations are the SCLN encoder with `spatial_pathway`, `temporal_pathway` or `multi_attention`
  switched off.
* `conv3d` - SCLN replaced by 3D convolutions (stride-2 3x3x3 entry, then residual stacks of
  3x3x3 convolutions dilated in space and time, zero padded: not causal).
* `convlstm` - SCLN replaced by a per-frame stride-2 convolution followed by a ConvLSTM over time.
* `conv3d_lstm` - the conv3d stage followed by a ConvLSTM (3DConv + LSTM).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .config import ModelConfig
from .dilated import LEAK, FrameNorm, ResidualStack, framewise, spatial_down, usable_dilations
from .scln import SCLN

ENCODERS = ("scln", "conv3d", "convlstm", "conv3d_lstm")


def stage_input_sizes(cfg: ModelConfig) -> list[int]:
    """Spatial extent entering each encoder stage: size, size/first_stride, then halving."""
    sizes = [cfg.size]
    for i in range(len(cfg.channels) - 1):
        sizes.append(sizes[-1] // (cfg.first_stride if i == 0 else 2))
    return sizes


def deepest_size(cfg: ModelConfig) -> int:
    return stage_input_sizes(cfg)[-1] // 2


class SCLNEncoder(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        chans = (1,) + tuple(cfg.channels)
        sizes = stage_input_sizes(cfg)
        self.stages = nn.ModuleList(
            SCLN(cfg, chans[i], chans[i + 1], sizes[i], cfg.first_stride if i == 0 else 2) for i in range(len(cfg.channels))
        )

    def forward(self, cine: Tensor) -> list[Tensor]:
        x = cine.unsqueeze(2)  # (B, T, 1, H, W): both pathways start from a copy of the cine
        xs, xt = x, x
        feats = []
        for stage in self.stages:
            xs, xt, fused = stage(xs, xt)
            feats.append(fused)
        return feats


class Conv3dBlock(nn.Module):
    """3x3x3 convolution + FrameNorm + LeakyReLU."""

    def __init__(self, in_ch: int, out_ch: int, dilation: int = 1, stride: tuple[int, int, int] = (1, 1, 1)):
        super().__init__()
        self.conv = nn.Conv3d(in_ch, out_ch, 3, stride=stride, padding=dilation, dilation=dilation)
        self.norm = FrameNorm(out_ch)

    def forward(self, x: Tensor) -> Tensor:  # (B, T, Cin, H, W) -> (B, T, Cout, H', W')
        y = self.conv(x.transpose(1, 2)).transpose(1, 2)  # Conv3d works on (B, C, T, H, W)
        return F.leaky_relu(framewise(self.norm, y.contiguous()), LEAK)


def conv3d_stage(cfg: ModelConfig, in_ch: int, out_ch: int, size: int, stride: int = 2) -> nn.Sequential:
    rates = usable_dilations(cfg.dilations, min(size // stride, cfg.frames))
    blocks = [ResidualStack([Conv3dBlock(out_ch, out_ch, d) for d in rates]) for _ in range(cfg.residual_blocks)]
    return nn.Sequential(Conv3dBlock(in_ch, out_ch, 1, stride=(1, stride, stride)), *blocks)


class ConvLSTM(nn.Module):
    """ConvLSTM (Shi et al. 2015) over T: (B, T, C, H, W) -> hidden states (B, T, C, H, W)."""

    def __init__(self, channels: int, kernel: int = 3):
        super().__init__()
        self.gates = nn.Conv2d(2 * channels, 4 * channels, kernel, padding=kernel // 2)
        self.channels = channels

    def forward(self, x: Tensor) -> Tensor:
        b, t, c, h, w = x.shape
        hid = x.new_zeros(b, c, h, w)
        cell = x.new_zeros(b, c, h, w)
        outs = []
        for i in range(t):
            gi, gf, go, gg = self.gates(torch.cat([x[:, i], hid], dim=1)).chunk(4, dim=1)
            cell = torch.sigmoid(gf) * cell + torch.sigmoid(gi) * torch.tanh(gg)
            hid = torch.sigmoid(go) * torch.tanh(cell)
            outs.append(hid)
        return torch.stack(outs, dim=1)


class StageEncoder(nn.Module):
    """Four sequential stages, each halving H and W; the output of each stage is its feature map."""

    def __init__(self, stages: list[nn.Module]):
        super().__init__()
        self.stages = nn.ModuleList(stages)

    def forward(self, cine: Tensor) -> list[Tensor]:
        x = cine.unsqueeze(2)  # (B, T, 1, H, W)
        feats = []
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        return feats


def build_encoder(cfg: ModelConfig) -> nn.Module:
    if cfg.encoder == "scln":
        return SCLNEncoder(cfg)
    chans = (1,) + tuple(cfg.channels)
    sizes = stage_input_sizes(cfg)
    stages: list[nn.Module] = []
    for i in range(len(cfg.channels)):
        cin, cout, size = chans[i], chans[i + 1], sizes[i]
        stride = cfg.first_stride if i == 0 else 2
        if cfg.encoder == "conv3d":
            stages.append(conv3d_stage(cfg, cin, cout, size, stride))
        elif cfg.encoder == "convlstm":
            stages.append(nn.Sequential(spatial_down(cin, cout, stride), ConvLSTM(cout)))
        elif cfg.encoder == "conv3d_lstm":
            stages.append(nn.Sequential(conv3d_stage(cfg, cin, cout, size, stride), ConvLSTM(cout)))
        else:
            raise ValueError(f"unknown encoder {cfg.encoder!r}; choose one of {', '.join(ENCODERS)}")
    return StageEncoder(stages)
