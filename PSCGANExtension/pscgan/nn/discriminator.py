"""The discriminators (section 4.2): 5 convolutions of stride 2 with self-attention between the
2nd and the 3rd, LayerNorm and LeakyReLU (section 6.3), and a linear score head.

head="score"    (D_Pri): x (B, 4, H, W) probabilities/one-hot -> score (B, 1)
head="features" (D_Sys): x (B, 1, H, W) image -> (score (B, 1), [conv2, conv3, conv4 activations])
                 for the synthetic content loss (eq. 15)
head="sizes"    (D_Seg): x (B, 4, H, W) -> (score (B, 1), class sizes (B, 4)); the extra linear
                 layer regresses the size of each class (eq. 17) as a FRACTION of the image's
                 pixels (multiply by H*W for pixel counts), which keeps the L1 size losses on the
                 same scale as the other loss terms.
Scores are unbounded (hinge / Wasserstein / least-squares losses take raw scores).
"""
from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from .attention import SelfAttention
from .config import ModelConfig
from .dilated import LEAK

HEADS = ("score", "features", "sizes")


class Discriminator(nn.Module):
    def __init__(self, cfg: ModelConfig, in_channels: int, head: str = "score"):
        super().__init__()
        if head not in HEADS:
            raise ValueError(f"unknown head {head!r}; choose one of {HEADS}")
        if len(cfg.disc_channels) != 5:
            raise ValueError("the discriminator has exactly 5 convolutions")
        self.head = head
        chans = (in_channels,) + tuple(cfg.disc_channels)
        self.convs = nn.ModuleList(nn.Conv2d(chans[i], chans[i + 1], 4, stride=2, padding=1) for i in range(5))
        # No normalisation on the first convolution (it sees the raw input), LayerNorm after the others.
        self.norms = nn.ModuleList([nn.Identity()] + [nn.GroupNorm(1, c) for c in cfg.disc_channels[1:]])
        self.attention = SelfAttention(cfg.disc_channels[1], cfg.attention_reduction, cfg.attention_pool)
        side = cfg.size // 32
        flat = cfg.disc_channels[-1] * side * side
        self.score = nn.Linear(flat, 1)
        self.sizes = nn.Linear(flat, cfg.num_classes) if head == "sizes" else None

    def forward(self, x: Tensor):
        feats = []
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms)):
            x = F.leaky_relu(norm(conv(x)), LEAK)  # (B, C_i, H / 2^(i+1), W / 2^(i+1))
            if i in (1, 2, 3):
                feats.append(x)
            if i == 1:  # self-attention between the 2nd and 3rd convolutions (a one-frame 2D+T map)
                x = self.attention(x.unsqueeze(1)).squeeze(1)
                feats[-1] = x
        flat = x.flatten(1)
        score = self.score(flat)  # (B, 1)
        if self.head == "features":
            return score, feats
        if self.head == "sizes":
            return score, self.sizes(flat)  # (B, 4)
        return score
