"""A plain 3D U-Net baseline for the benchmark comparison (no SCLN, no attention, no adversary).

UNet3D(cfg, out_channels, base, condition_channels): cine (B, T, H, W) -> (B, out, H, W).
Encoder: 4 levels of two 3x3x3 convolutions (LayerNorm per frame, LeakyReLU), spatial stride 2
between levels (time kept); decoder: nearest upsampling x2 in space, concatenation with the encoder
level, two 3x3x3 convolutions; the full-resolution output is averaged over time with learned
softmax weights and a 1x1 head gives logits or tanh. An optional condition (B, Cc, H, W) is
repeated over time and concatenated to the input, so the same class can stand in for any phase.
`matching_base(cfg, target_params, ...)` picks the width whose parameter count is closest to a
target (e.g. one PSCGAN generator of the same configuration).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .config import ModelConfig
from .dilated import LEAK, FrameNorm, framewise
from .generator import TimeWeighting


class DoubleConv3d(nn.Module):
    def __init__(self, in_ch: int, out_ch: int):
        super().__init__()
        self.c1 = nn.Conv3d(in_ch, out_ch, 3, padding=1)
        self.n1 = FrameNorm(out_ch)
        self.c2 = nn.Conv3d(out_ch, out_ch, 3, padding=1)
        self.n2 = FrameNorm(out_ch)

    def forward(self, x: Tensor) -> Tensor:  # (B, T, Cin, H, W) -> (B, T, Cout, H, W)
        for conv, norm in ((self.c1, self.n1), (self.c2, self.n2)):
            x = conv(x.transpose(1, 2)).transpose(1, 2).contiguous()
            x = F.leaky_relu(framewise(norm, x), LEAK)
        return x


class UNet3D(nn.Module):
    def __init__(
        self, cfg: ModelConfig, out_channels: int, base: int = 8, condition_channels: int = 0, output: str = "logits",
        levels: int = 4,
    ):
        super().__init__()
        if output not in ("logits", "tanh"):
            raise ValueError(f"unknown output {output!r}")
        self.output = output
        self.condition_channels = condition_channels
        widths = [base * 2**i for i in range(levels)]
        cin = 1 + condition_channels
        self.down = nn.ModuleList()
        for w in widths:
            self.down.append(DoubleConv3d(cin, w))
            cin = w
        self.up = nn.ModuleList(DoubleConv3d(widths[i + 1] + widths[i], widths[i]) for i in reversed(range(levels - 1)))
        self.time = TimeWeighting(cfg.frames)
        self.head = nn.Conv2d(widths[0], out_channels, 1)

    def forward(self, cine: Tensor, condition: Tensor | None = None) -> Tensor:
        x = cine.unsqueeze(2)  # (B, T, 1, H, W)
        if self.condition_channels:
            if condition is None:
                raise ValueError(f"this baseline expects a condition with {self.condition_channels} channels")
            x = torch.cat([x, condition.unsqueeze(1).expand(-1, x.shape[1], -1, -1, -1)], dim=2)
        skips = []
        for i, block in enumerate(self.down):
            if i > 0:
                x = framewise(lambda f: F.max_pool2d(f, 2), x)  # halve H, W; keep T
            x = block(x)
            skips.append(x)
        for block, skip in zip(self.up, reversed(skips[:-1])):
            x = framewise(lambda f: F.interpolate(f, scale_factor=2, mode="nearest"), x)
            x = block(torch.cat([x, skip], dim=2))
        y = self.head(self.time(x))  # (B, out, H, W)
        return torch.tanh(y) if self.output == "tanh" else y


def parameter_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def matching_base(cfg: ModelConfig, target_params: int, out_channels: int = 4, condition_channels: int = 0,
                  low: int = 1, high: int = 128) -> int:
    """The base width whose UNet3D parameter count is closest to `target_params` (the count grows
    monotonically with the width, so a bisection builds only a few models)."""
    def count(base: int) -> int:
        return parameter_count(UNet3D(cfg, out_channels, base, condition_channels))

    while high - low > 1:
        mid = (low + high) // 2
        if count(mid) < target_params:
            low = mid
        else:
            high = mid
    return min((low, high), key=lambda b: abs(count(b) - target_params))
