"""How per-frame features reach the 2D decoder: reductions over time (the U-Net skips) and the
full-resolution cine skip.

The encoder keeps frames apart, (B, T, C, H, W); the decoder is 2D, (B, C', H, W). Something must
summarise the T frames of every skip.

* `TimeWeighting` (the paper's "dot layer"): ONE learned softmax weighting of the frames, shared by
  all channels: (B, T, C, H, W) -> (B, C, H, W). A weighted mean keeps what is constant over the
  cycle; motion (how a pixel changes between frames) largely averages away.
* `TemporalSummary`: K learned linear combinations of all T x C per-frame features at each pixel, a
  1x1 convolution over the (T*C) stacked channels: (B, T, C, H, W) -> (B, K, H, W). It can form
  differences between frames (wall thickening, where a pixel is blood at one phase and muscle at
  another), which is where scar shows in cine.
* `CineSkip`: the full-resolution (64 x 64) skip the paper's decoder lacks: the T cine frames and
  their deviation from the temporal mean as 2T channels -> 3x3 convolution -> LayerNorm ->
  LeakyReLU: (B, T, H, W) -> (B, K, H, W). A 6-pixel wall's motion is lost at 32 x 32 and below.
"""
from __future__ import annotations

from itertools import pairwise

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .dilated import LEAK
from .norm import norm2d


class TimeWeighting(nn.Module):
    """Learned softmax weighting over frames: (B, T, C, H, W) -> (B, C, H, W); starts as the mean."""

    def __init__(self, frames: int):
        super().__init__()
        self.logits = nn.Parameter(torch.zeros(frames))

    def forward(self, x: Tensor) -> Tensor:
        w = torch.softmax(self.logits, dim=0)  # (T,)
        return torch.einsum("btchw,t->bchw", x, w)


class TemporalSummary(nn.Module):
    """K learned summaries of T frames x C channels at each pixel: (B, T, C, H, W) -> (B, K, H, W),
    followed by LayerNorm and LeakyReLU."""

    def __init__(self, frames: int, channels: int, summaries: int):
        super().__init__()
        self.mix = nn.Conv2d(frames * channels, summaries, 1, bias=False)
        self.norm = nn.GroupNorm(1, summaries)

    def forward(self, x: Tensor) -> Tensor:
        b, t, c, h, w = x.shape
        y = self.mix(x.reshape(b, t * c, h, w))  # (B, K, H, W)
        return F.leaky_relu(self.norm(y), LEAK)


class CineSkip(nn.Module):
    """cine (B, T, H, W) -> [frames, frames - temporal mean] (B, 2T, H, W) -> 3x3 conv -> (B, K, H, W).

    With `motion=False` (the spatial-pathway-only ablation) it reads the temporal mean frame only,
    (B, 1, H, W): no frame-to-frame change.
    """

    def __init__(self, frames: int, channels: int, motion: bool = True, norm: str = "layer"):
        super().__init__()
        self.motion = motion
        self.conv = nn.Conv2d(2 * frames if motion else 1, channels, 3, padding=1, bias=False)
        self.norm = norm2d(norm, channels)

    def forward(self, cine: Tensor) -> Tensor:
        mean = cine.mean(dim=1, keepdim=True)  # (B, 1, H, W)
        x = torch.cat([cine, cine - mean], dim=1) if self.motion else mean  # (B, 2T or 1, H, W)
        return F.leaky_relu(self.norm(self.conv(x)), LEAK)


def conv_norm_act(cin: int, cout: int, stride: int = 1, norm: str = "layer") -> nn.Sequential:
    """3x3 convolution (stride 1 or 2) -> norm -> LeakyReLU: (B, cin, H, W) -> (B, cout, H/stride, W/stride)."""
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False), norm2d(norm, cout), nn.LeakyReLU(LEAK))


class CinePath(nn.Module):
    """A small 2D path on the cine for the decoder's finest levels: the CineSkip at full resolution,
    then per further level a 3x3 stride-2 convolution -> LayerNorm -> LeakyReLU; with `convs` > 1,
    each level adds convs - 1 further 3x3 convolutions at its resolution (a U-Net encoder level).
    cine (B, T, H, W) -> [(B, c_0, H, W), (B, c_1, H/2, W/2), ...] (finest first)."""

    def __init__(self, frames: int, channels: tuple[int, ...], motion: bool = True, convs: int = 1, norm: str = "layer"):
        super().__init__()
        self.skip = CineSkip(frames, channels[0], motion, norm)
        self.downs = nn.ModuleList(conv_norm_act(cin, cout, 2, norm) for cin, cout in pairwise(channels))
        # (named apart from `downs` so that bundles of one conv per level keep their parameter names)
        self.refine = nn.ModuleList(
            nn.Sequential(*(conv_norm_act(c, c, 1, norm) for _ in range(convs - 1))) for c in channels
        ) if convs > 1 else None

    def forward(self, cine: Tensor) -> list[Tensor]:
        out = [self._refined(0, self.skip(cine))]
        for i, down in enumerate(self.downs, start=1):
            out.append(self._refined(i, down(out[-1])))
        return out

    def _refined(self, level: int, x: Tensor) -> Tensor:
        return x if self.refine is None else self.refine[level](x)


def motion_summaries(cfg) -> int:
    """Temporal summaries per skip for this configuration: cfg.skip_summaries, but 0 (the weighted
    mean over frames) when the temporal pathway is ablated, so that spatial-only sees no motion."""
    return cfg.skip_summaries if cfg.temporal_pathway else 0


def skip_reducer(frames: int, channels: int, summaries: int) -> nn.Module:
    """The paper's TimeWeighting when `summaries` is 0, else a TemporalSummary of that many channels."""
    return TimeWeighting(frames) if summaries == 0 else TemporalSummary(frames, channels, summaries)


def reduced_channels(channels: int, summaries: int) -> int:
    """Channels a skip_reducer(…, channels, summaries) outputs."""
    return channels if summaries == 0 else summaries
