"""The SCLN-based generator (section 4.2, Fig. 5) and the non-progressive parallel generator.

cine (B, T, H, W) -> encoder: 4 feature maps (B, T, C_i, H/2^(i+1), W/2^(i+1))
  skips: the first three reduced over T by a learned weighting ("dot layer")  -> (B, C_i, h_i, w_i)
  bottleneck: flatten the fourth -> FC -> fc_features -> [concat the flattened condition] -> FC
              -> code_channels x (H/16) x (W/16)
  decoder: 4 x (Upsample x2 -> [concat skip] -> Conv3x3 -> LayerNorm -> LeakyReLU) -> 1x1 conv head
Output: logits (segmentation phases) or tanh (synthesis phase).
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import InputError
from .config import ModelConfig
from .dilated import LEAK
from .encoders import build_encoder
from .output import CascadeOutput

OUTPUTS = ("logits", "tanh")


def check_cine(cfg: ModelConfig, cine: Tensor) -> None:
    """Raise InputError unless cine is (B, frames, size, size) floating point."""
    expected = (cfg.frames, cfg.size, cfg.size)
    if cine.dim() != 4 or tuple(cine.shape[1:]) != expected or not cine.dtype.is_floating_point:
        raise InputError(
            f"cine tensor: expected a float (batch, {cfg.frames}, {cfg.size}, {cfg.size}) array for configuration "
            f"{cfg.name!r}, got {cine.dtype} {tuple(cine.shape)}"
        )


def check_condition(cfg: ModelConfig, condition: Tensor, channels: int) -> None:
    expected = (channels, cfg.size, cfg.size)
    if condition.dim() != 4 or tuple(condition.shape[1:]) != expected:
        raise InputError(f"condition tensor: expected (batch, {channels}, {cfg.size}, {cfg.size}), got {tuple(condition.shape)}")


class TimeWeighting(nn.Module):
    """Learned softmax weighting over frames: (B, T, C, H, W) -> (B, C, H, W); starts as the mean."""

    def __init__(self, frames: int):
        super().__init__()
        self.logits = nn.Parameter(torch.zeros(frames))

    def forward(self, x: Tensor) -> Tensor:
        w = torch.softmax(self.logits, dim=0)  # (T,)
        return torch.einsum("btchw,t->bchw", x, w)


class Bottleneck(nn.Module):
    """(B, T, C4, h, w) [+ condition (B, Cc, H, W)] -> code (B, code_channels, h, w)."""

    def __init__(self, cfg: ModelConfig, condition_channels: int):
        super().__init__()
        self.low = cfg.size // 2 ** len(cfg.channels)
        flat = cfg.channels[-1] * cfg.frames * self.low**2
        cond_flat = condition_channels * cfg.size**2
        self.reduce = nn.Linear(flat, cfg.fc_features)
        self.expand = nn.Linear(cfg.fc_features + cond_flat, cfg.code_channels * self.low**2)
        self.code_channels = cfg.code_channels

    def forward(self, deepest: Tensor, condition: Tensor | None) -> Tensor:
        z = F.leaky_relu(self.reduce(deepest.flatten(1)), LEAK)  # (B, fc_features)
        if condition is not None:
            z = torch.cat([z, condition.flatten(1)], dim=1)  # (B, fc + Cc*H*W)
        z = F.leaky_relu(self.expand(z), LEAK)
        return z.view(-1, self.code_channels, self.low, self.low)


class UpBlock(nn.Module):
    """Upsample x2 -> concat extras -> Conv3x3 -> LayerNorm -> LeakyReLU."""

    def __init__(self, in_ch: int, out_ch: int):
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, 3, padding=1)
        self.norm = nn.GroupNorm(1, out_ch)  # one group = layer normalisation over (C, H, W)

    def forward(self, x: Tensor, extras: Sequence[Tensor]) -> Tensor:
        x = F.interpolate(x, scale_factor=2, mode="nearest")
        x = torch.cat([x, *extras], dim=1) if extras else x
        return F.leaky_relu(self.norm(self.conv(x)), LEAK)


class Decoder(nn.Module):
    """Code + skips (+ condition per block when cfg.condition_in_decoder) -> (B, out, H, W)."""

    def __init__(self, cfg: ModelConfig, out_channels: int, condition_channels: int, output: str):
        super().__init__()
        if output not in OUTPUTS:
            raise ValueError(f"unknown output {output!r}; choose one of {OUTPUTS}")
        self.output = output
        self.cond_in_blocks = cfg.condition_in_decoder and condition_channels > 0
        skips = list(reversed(cfg.channels[:-1])) + [0]  # channels joining blocks 0..3
        cin = cfg.code_channels
        blocks = []
        for cout, skip in zip(cfg.decoder_channels, skips):
            blocks.append(UpBlock(cin + skip + (condition_channels if self.cond_in_blocks else 0), cout))
            cin = cout
        self.blocks = nn.ModuleList(blocks)
        self.head = nn.Conv2d(cin, out_channels, 1)

    def forward(self, code: Tensor, skips: Sequence[Tensor], condition: Tensor | None) -> Tensor:
        x = code
        skips_deep_first = list(reversed(skips))
        for i, block in enumerate(self.blocks):
            extras = [skips_deep_first[i]] if i < len(skips_deep_first) else []
            if self.cond_in_blocks and condition is not None:
                side = x.shape[-1] * 2
                extras.append(F.adaptive_avg_pool2d(condition, side) if side < condition.shape[-1] else condition)
            x = block(x, extras)
        y = self.head(x)  # (B, out, H, W)
        return torch.tanh(y) if self.output == "tanh" else y


class Generator(nn.Module):
    """forward(cine (B, T, H, W), condition (B, Cc, H, W) | None) -> (B, out_channels, H, W)."""

    def __init__(self, cfg: ModelConfig, out_channels: int, condition_channels: int = 0, output: str = "logits"):
        super().__init__()
        self.cfg = cfg
        self.condition_channels = condition_channels
        self.encoder = build_encoder(cfg)
        self.skip_weights = nn.ModuleList(TimeWeighting(cfg.frames) for _ in cfg.channels[:-1])
        self.bottleneck = Bottleneck(cfg, condition_channels)
        self.decoder = Decoder(cfg, out_channels, condition_channels, output)

    def forward(self, cine: Tensor, condition: Tensor | None = None) -> Tensor:
        if (condition is None) != (self.condition_channels == 0):
            raise ValueError(f"this generator expects a condition with {self.condition_channels} channels")
        check_cine(self.cfg, cine)
        if condition is not None:
            check_condition(self.cfg, condition, self.condition_channels)
        feats = self.encoder(cine)
        skips = [tw(f) for tw, f in zip(self.skip_weights, feats[:-1])]  # (B, C_i, h_i, w_i)
        code = self.bottleneck(feats[-1], condition)
        return self.decoder(code, skips, condition)


class ParallelGenerator(nn.Module):
    """Progressive framework removed: one encoder and bottleneck, three parallel decoders
    (mask logits, LGE, segmentation logits), no condition between them."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        k = cfg.num_classes
        self.cfg = cfg
        self.encoder = build_encoder(cfg)
        self.skip_weights = nn.ModuleList(TimeWeighting(cfg.frames) for _ in cfg.channels[:-1])
        self.bottleneck = Bottleneck(cfg, 0)
        self.mask_head = Decoder(cfg, k, 0, "logits")
        self.lge_head = Decoder(cfg, 1, 0, "tanh")
        self.seg_head = Decoder(cfg, k, 0, "logits")

    def forward(self, cine: Tensor) -> CascadeOutput:
        check_cine(self.cfg, cine)
        feats = self.encoder(cine)
        skips = [tw(f) for tw, f in zip(self.skip_weights, feats[:-1])]
        code = self.bottleneck(feats[-1], None)
        return CascadeOutput(
            mask_logits=self.mask_head(code, skips, None),
            lge=self.lge_head(code, skips, None),
            seg_logits=self.seg_head(code, skips, None),
        )
