"""Normalisation of the generator's 2D maps (cine path, decoder, convolutional bottleneck).

"layer" (the paper's layer normalisation: GroupNorm with one group, over C x H x W of each sample)
or "batch" (BatchNorm2d: statistics over the batch while training, running averages at inference).
The SCLN encoder always normalises per frame (dilated.FrameNorm), which keeps it causal in time.
"""
from __future__ import annotations

from torch import nn

NORMS = ("layer", "batch")


def norm2d(kind: str, channels: int) -> nn.Module:
    if kind == "layer":
        return nn.GroupNorm(1, channels)
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    raise ValueError(f"unknown norm {kind!r}; choose one of {', '.join(NORMS)}")
