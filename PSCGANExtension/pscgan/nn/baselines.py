"""Baselines: a plain 3D U-Net (benchmark comparison) and a plain 2D U-Net on frames as channels
(trainable with `python -m training train --config unet2d`, evaluated by the same code).

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
from .generator import SYSTOLE_CLASSES, check_cine, with_systole
from .output import CascadeOutput
from .summary import TimeWeighting


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


class UNet2D(nn.Module):
    """A plain 2D U-Net on the cine's frames as channels (the peer reviewers ask about).

    cine (B, T, H, W) -> [frames, frames - temporal mean] (B, 2T, H, W) -> 4 levels of two 3x3
    convolutions (widths cfg.unet_widths, BatchNorm, ReLU; 2x2 max-pool between levels) -> decoder
    with transposed-free nearest upsampling, concatenated skips, two 3x3 convolutions -> 1x1 head:
    (B, K, H, W) logits. It synthesises no LGE: `forward` returns a CascadeOutput whose `lge` is a
    blank image (-1 everywhere) and whose phase-I mask is the segmentation itself, so the same
    evaluation code runs; its LGE figures mean nothing.
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        widths = tuple(cfg.unet_widths)
        cin = 2 * cfg.frames
        self.down = nn.ModuleList()
        for w in widths:
            self.down.append(_double_conv2d(cin, w))
            cin = w
        self.up = nn.ModuleList(_double_conv2d(widths[i + 1] + widths[i], widths[i]) for i in reversed(range(len(widths) - 1)))
        self.head = nn.Conv2d(widths[0], cfg.num_classes, 1)
        self.systole_head = nn.Conv2d(widths[0], SYSTOLE_CLASSES, 1) if cfg.systole_head else None

    def forward(self, cine: Tensor, systole: bool = False) -> Tensor | tuple[Tensor, Tensor]:
        """(B, T, H, W) -> logits (B, K, H, W); with `systole` also the end-systolic logits (B, 3, H, W), the
        training's auxiliary task (ModelConfig.systole_head)."""
        x = torch.cat([cine, cine - cine.mean(dim=1, keepdim=True)], dim=1)  # (B, 2T, H, W)
        skips = []
        for i, block in enumerate(self.down):
            x = block(F.max_pool2d(x, 2) if i else x)  # (B, w_i, H / 2^i, W / 2^i)
            skips.append(x)
        for block, skip in zip(self.up, reversed(skips[:-1])):
            x = block(torch.cat([F.interpolate(x, scale_factor=2, mode="nearest"), skip], dim=1))
        y = self.head(x)  # (B, K, H, W)
        return with_systole(y, self.systole_head, x) if systole else y


def _double_conv2d(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
    )


class UNet2DModel(nn.Module):
    """The U-Net in the cascade's interface: one trainable part `unet`, forward -> CascadeOutput."""

    synthesises_lge = False  # its CascadeOutput.lge is a blank stand-in: nothing downstream may show it

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.unet = UNet2D(cfg)

    def forward(self, cine: Tensor) -> CascadeOutput:
        check_cine(self.cfg, cine)
        seg = self.unet(cine)
        blank = seg.new_full((seg.shape[0], 1, *seg.shape[-2:]), -1.0)
        return CascadeOutput(mask_logits=seg, lge=blank, seg_logits=seg)
