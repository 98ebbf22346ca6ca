"""The SCLN-based generator (section 4.2, Fig. 5) and the non-progressive parallel generator.

cine (B, T, H, W) -> encoder: 4 feature maps (B, T, C_i, H/2^(i+1), W/2^(i+1))
  skips: the first three reduced over T (summary.py): the paper's learned weighting ("dot layer")
         -> (B, C_i, h_i, w_i), or K learned temporal summaries -> (B, K, h_i, w_i);
         optionally a 2D cine path for the finest levels (cfg.cine_path)
  bottleneck "fc" (paper): flatten the fourth -> FC -> fc_features -> [concat the flattened condition]
              -> FC -> code_channels x (H/16) x (W/16)
  bottleneck "conv": temporal summary of the fourth [+ pooled condition] -> Conv3x3 -> code
  decoder: 4 x (Upsample x2 -> [concat skip] [concat condition] -> decoder_convs x (Conv3x3 ->
           LayerNorm -> LeakyReLU)) -> 1x1 conv head [+ a second 1x1 head, the end-systolic labels
           (cfg.systole_head; segmentation generators only, a training task)]
Output: logits (segmentation phases) or tanh (synthesis phase).
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import InputError
from .config import ModelConfig
from .dilated import LEAK
from .encoders import build_encoder, deepest_size, stage_input_sizes
from .norm import norm2d
from .output import CascadeOutput
from .summary import CinePath, motion_summaries, reduced_channels, skip_reducer

OUTPUTS = ("logits", "tanh")
SYSTOLE_CLASSES = 3  # the systole head's labels: 0 other, 1 blood pool, 2 myocardium (scar included)


def with_systole(out: Tensor, systole_head: nn.Module | None, features: Tensor) -> tuple[Tensor, Tensor]:
    """(out, the end-systolic logits (B, 3, H, W) of `systole_head` on the last features); ValueError without a head."""
    if systole_head is None:
        raise ValueError("this network has no systole head (ModelConfig.systole_head)")
    return out, systole_head(features)


def check_cine(cfg: ModelConfig, cine: Tensor) -> None:
    """Raise InputError unless cine is (B, frames, size, size) floating point."""
    expected = (cfg.frames, cfg.size, cfg.size)
    if cine.dim() != 4 or tuple(cine.shape[1:]) != expected or not cine.dtype.is_floating_point:
        raise InputError(
            f"cine tensor: expected a float (batch, {cfg.frames}, {cfg.size}, {cfg.size}) array for configuration "
            f"{cfg.name!r}, got {cine.dtype} {tuple(cine.shape)}",
        )


def check_condition(cfg: ModelConfig, condition: Tensor, channels: int) -> None:
    expected = (channels, cfg.size, cfg.size)
    if condition.dim() != 4 or tuple(condition.shape[1:]) != expected:
        raise InputError(f"condition tensor: expected (batch, {channels}, {cfg.size}, {cfg.size}), got {tuple(condition.shape)}")


class Bottleneck(nn.Module):
    """The paper's fully connected bottleneck: (B, T, C4, h, w) [+ condition (B, Cc, H, W)]
    -> code (B, code_channels, h, w)."""

    def __init__(self, cfg: ModelConfig, condition_channels: int):
        super().__init__()
        self.low = deepest_size(cfg)
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


class ConvBottleneck(nn.Module):
    """Convolutional bottleneck (no fully connected layer): (B, T, C4, h, w) -> reduced over time
    like the skips (B, K, h, w) [+ condition average-pooled to h x w] -> 3x3 conv -> LayerNorm ->
    LeakyReLU -> code (B, code_channels, h, w)."""

    def __init__(self, cfg: ModelConfig, condition_channels: int):
        super().__init__()
        k = motion_summaries(cfg)
        self.summary = skip_reducer(cfg.frames, cfg.channels[-1], k)
        self.conv = nn.Conv2d(reduced_channels(cfg.channels[-1], k) + condition_channels, cfg.code_channels, 3, padding=1)
        self.norm = norm2d(cfg.norm2d, cfg.code_channels)

    def forward(self, deepest: Tensor, condition: Tensor | None) -> Tensor:
        z = self.summary(deepest)  # (B, K, h, w)
        if condition is not None:
            z = torch.cat([z, F.adaptive_avg_pool2d(condition, z.shape[-1])], dim=1)
        return F.leaky_relu(self.norm(self.conv(z)), LEAK)


BOTTLENECKS = {"fc": Bottleneck, "conv": ConvBottleneck}


def build_bottleneck(cfg: ModelConfig, condition_channels: int) -> nn.Module:
    try:
        return BOTTLENECKS[cfg.bottleneck](cfg, condition_channels)
    except KeyError:
        raise ValueError(f"unknown bottleneck {cfg.bottleneck!r}; choose one of {', '.join(BOTTLENECKS)}") from None


class UpBlock(nn.Module):
    """Upsample x2 -> concat extras -> `convs` x (Conv3x3 -> LayerNorm -> LeakyReLU)."""

    def __init__(self, in_ch: int, out_ch: int, convs: int = 1, norm: str = "layer"):
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, 3, padding=1)
        self.norm = norm2d(norm, out_ch)  # "layer": one group = layer normalisation over (C, H, W)
        more: list[nn.Module] = []
        for _ in range(convs - 1):
            more += [nn.Conv2d(out_ch, out_ch, 3, padding=1), norm2d(norm, out_ch), nn.LeakyReLU(LEAK)]
        self.more = nn.Sequential(*more)

    def forward(self, x: Tensor, extras: Sequence[Tensor]) -> Tensor:
        x = F.interpolate(x, scale_factor=2, mode="nearest")
        x = torch.cat([x, *extras], dim=1) if extras else x
        return self.more(F.leaky_relu(self.norm(self.conv(x)), LEAK))


class Decoder(nn.Module):
    """Code + skips (+ condition per block when cfg.condition_in_decoder) -> (B, out, H, W).

    Blocks 0..n-2 join the encoder skips (deepest first); the last, full-resolution block joins the
    cine path's maps when cfg.cine_path is given (the paper: nothing).
    """

    def __init__(self, cfg: ModelConfig, out_channels: int, condition_channels: int, output: str):
        super().__init__()
        if output not in OUTPUTS:
            raise ValueError(f"unknown output {output!r}; choose one of {OUTPUTS}")
        self.output = output
        self.cond_in_blocks = cfg.condition_in_decoder and condition_channels > 0
        skips = list(reversed(skip_channels(cfg)))  # channels joining blocks 0.. (deepest first)
        skips += [0] * (len(cfg.decoder_channels) - len(skips))
        cin = cfg.code_channels
        blocks = []
        for cout, skip in zip(cfg.decoder_channels, skips):
            blocks.append(UpBlock(cin + skip + (condition_channels if self.cond_in_blocks else 0), cout, cfg.decoder_convs, cfg.norm2d))
            cin = cout
        self.blocks = nn.ModuleList(blocks)
        self.head = nn.Conv2d(cin, out_channels, 1)
        self.systole_head = nn.Conv2d(cin, SYSTOLE_CLASSES, 1) if cfg.systole_head and output == "logits" else None

    def forward(self, code: Tensor, skips: Sequence[Tensor], condition: Tensor | None,
                systole: bool = False) -> Tensor | tuple[Tensor, Tensor]:
        """skips: finest first, as the encoder gives them; a full-resolution cine skip last, if any.
        With `systole` (a decoder with a systole head): (output, end-systolic logits (B, 3, H, W))."""
        x = code
        skips_deep_first = list(reversed(skips))
        for i, block in enumerate(self.blocks):
            extras = [skips_deep_first[i]] if i < len(skips_deep_first) else []
            if self.cond_in_blocks and condition is not None:
                side = x.shape[-1] * 2
                extras.append(F.adaptive_avg_pool2d(condition, side) if side < condition.shape[-1] else condition)
            x = block(x, extras)
        y = self.head(x)  # (B, out, H, W)
        y = torch.tanh(y) if self.output == "tanh" else y
        return with_systole(y, self.systole_head, x) if systole else y


def skip_sizes(cfg: ModelConfig) -> list[tuple[int, int]]:
    """(spatial size, channels) of every map the trunk hands the decoder, finest first: the cine
    path's levels (size, size/2, ...), then the encoder's maps but the deepest, reduced over time."""
    cine = [(cfg.size >> level, c) for level, c in enumerate(cfg.cine_path)]
    stages = stage_input_sizes(cfg)
    encoder = [
        (stages[i] // (cfg.first_stride if i == 0 else 2), reduced_channels(c, motion_summaries(cfg)))
        for i, c in enumerate(cfg.channels[:-1])
    ]
    return cine + encoder


def skip_channels(cfg: ModelConfig) -> list[int]:
    """Channels of the skips Trunk.encode returns, finest first, one per resolution: where the cine
    path and the encoder both reach a resolution, their maps are concatenated (cine path first)."""
    by_size: dict[int, int] = {}
    for side, c in skip_sizes(cfg):
        by_size[side] = by_size.get(side, 0) + c
    return [by_size[side] for side in sorted(by_size, reverse=True)]


def merge_by_size(maps: Sequence[Tensor]) -> list[Tensor]:
    """Maps in the order of skip_sizes -> one map per resolution, finest first (channels concatenated)."""
    groups: dict[int, list[Tensor]] = {}
    for m in maps:
        groups.setdefault(m.shape[-1], []).append(m)
    return [torch.cat(groups[side], dim=1) if len(groups[side]) > 1 else groups[side][0] for side in sorted(groups, reverse=True)]


class Trunk(nn.Module):
    """What every decoder of a generator reads: cine (B, T, H, W) -> (skips finest first, deepest map).

    skips: one map per resolution, finest first: the cine path's maps when configured ((B, c_0, H, W),
    (B, c_1, H/2, W/2), ...) and the encoder's maps but the deepest, reduced over time (B, K_i, h_i,
    w_i), concatenated where both reach the same resolution; deepest: the last encoder map,
    (B, T, C_last, H/16, W/16).
    A base class (not a submodule) so that the parameter names stay those of earlier bundles
    (`encoder.*`, `skip_weights.*`).
    """

    def _build_trunk(self, cfg: ModelConfig) -> None:
        self.encoder = build_encoder(cfg)
        k = motion_summaries(cfg)
        self.skip_weights = nn.ModuleList(skip_reducer(cfg.frames, c, k) for c in cfg.channels[:-1])
        self.cine_path = (
            CinePath(cfg.frames, tuple(cfg.cine_path), motion=cfg.temporal_pathway, convs=cfg.cine_path_convs, norm=cfg.norm2d)
            if cfg.cine_path else None
        )

    def encode(self, cine: Tensor) -> tuple[list[Tensor], Tensor]:
        feats = self.encoder(cine)
        skips = [reduce(f) for reduce, f in zip(self.skip_weights, feats[:-1])]
        if self.cine_path is not None:
            skips = merge_by_size(self.cine_path(cine) + skips)
        return skips, feats[-1]


class Generator(Trunk):
    """forward(cine (B, T, H, W), condition (B, Cc, H, W) | None) -> (B, out_channels, H, W)."""

    def __init__(self, cfg: ModelConfig, out_channels: int, condition_channels: int = 0, output: str = "logits"):
        super().__init__()
        self.cfg = cfg
        self.condition_channels = condition_channels
        self._build_trunk(cfg)
        self.bottleneck = build_bottleneck(cfg, condition_channels)
        self.decoder = Decoder(cfg, out_channels, condition_channels, output)

    def forward(self, cine: Tensor, condition: Tensor | None = None, systole: bool = False) -> Tensor | tuple[Tensor, Tensor]:
        """With `systole` also the end-systolic logits (training's auxiliary task; Decoder.forward)."""
        if (condition is None) != (self.condition_channels == 0):
            raise ValueError(f"this generator expects a condition with {self.condition_channels} channels")
        check_cine(self.cfg, cine)
        if condition is not None:
            check_condition(self.cfg, condition, self.condition_channels)
        skips, deepest = self.encode(cine)
        code = self.bottleneck(deepest, condition)
        return self.decoder(code, skips, condition, systole=systole)


class ParallelGenerator(Trunk):
    """Progressive framework removed: one encoder and bottleneck, three parallel decoders
    (mask logits, LGE, segmentation logits), no condition between them."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        k = cfg.num_classes
        self.cfg = cfg
        self._build_trunk(cfg)
        self.bottleneck = build_bottleneck(cfg, 0)
        self.mask_head = Decoder(cfg, k, 0, "logits")
        self.lge_head = Decoder(cfg, 1, 0, "tanh")
        self.seg_head = Decoder(cfg, k, 0, "logits")

    def forward(self, cine: Tensor) -> CascadeOutput:
        check_cine(self.cfg, cine)
        skips, deepest = self.encode(cine)
        code = self.bottleneck(deepest, None)
        return CascadeOutput(
            mask_logits=self.mask_head(code, skips, None),
            lge=self.lge_head(code, skips, None),
            seg_logits=self.seg_head(code, skips, None),
        )
