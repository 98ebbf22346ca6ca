"""What the generators of the cascade return."""
from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor


@dataclass
class CascadeOutput:
    mask_logits: Tensor  # (B, 4, H, W) phase I coarse tissue mask, logits
    # None where Cascade.forward(last=...) stopped before the generator:
    lge: Tensor | None  # (B, 1, H, W) phase II LGE-equivalent image, tanh, in [-1, 1]
    seg_logits: Tensor | None  # (B, 4, H, W) phase III diagnosis-related segmentation, logits
