"""The three-phase PSCGAN (section 5, Fig. 7) and the non-progressive ablation.

`Cascade` holds the generators only (what inference needs); `build_discriminators` gives the three
discriminators used during adversarial training. Phase II is conditioned on the softmax of the
phase-I mask logits, phase III on the synthesised LGE. `forward` does not detach between phases:
progressive training that freezes an earlier phase should call the generators one by one (or
detach) itself.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from .config import ModelConfig
from .discriminator import Discriminator
from .generator import Generator, ParallelGenerator
from .output import CascadeOutput

__all__ = ["STAGES", "Cascade", "CascadeOutput", "build_discriminators", "build_generators"]

STAGES = ("pri", "sys", "seg")  # the progressive cascade's generators, in order


class Cascade(nn.Module):
    """The generators of the cascade: `pri`, `sys`, `seg` (or one `joint` when not progressive)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        k = cfg.num_classes
        if cfg.progressive:
            self.pri = Generator(cfg, out_channels=k, condition_channels=0, output="logits")
            self.sys = Generator(cfg, out_channels=1, condition_channels=k, output="tanh")
            self.seg = Generator(cfg, out_channels=k, condition_channels=1, output="logits")
        else:
            self.joint = ParallelGenerator(cfg)

    def forward(self, cine: Tensor, last: str = "seg") -> CascadeOutput:
        """cine (B, T, H, W) in [-1, 1] -> CascadeOutput. `last` ("pri", "sys" or "seg") stops the progressive
        cascade after that generator; the outputs it did not compute are None (validation during phase I
        and II evaluates only the generators trained so far)."""
        if last not in STAGES:
            raise ValueError(f"unknown last stage {last!r}; choose one of {', '.join(STAGES)}")
        if not self.cfg.progressive:
            return self.joint(cine)
        mask_logits = self.pri(cine, None)  # (B, 4, H, W)
        if last == "pri":
            return CascadeOutput(mask_logits=mask_logits, lge=None, seg_logits=None)
        lge = self.sys(cine, sys_condition(mask_logits))  # (B, 1, H, W)
        if last == "sys":
            return CascadeOutput(mask_logits=mask_logits, lge=lge, seg_logits=None)
        seg_logits = self.seg(cine, lge)  # (B, 4, H, W)
        return CascadeOutput(mask_logits=mask_logits, lge=lge, seg_logits=seg_logits)

    def condition(self, stage: str, cine: Tensor) -> Tensor | None:
        """What the cascade gives `stage`'s generator besides the cine, computed by the generators before it:
        None for pri, the softmax of G_Pri's mask for sys (B, 4, H, W), G_Sys's LGE for seg (B, 1, H, W).
        A progressive phase trains its generator on this, the earlier ones frozen (training.phases)."""
        if stage not in STAGES:
            raise ValueError(f"unknown stage {stage!r}; choose one of {', '.join(STAGES)}")
        if stage == "pri":
            return None
        out = self.forward(cine, last=STAGES[STAGES.index(stage) - 1])
        return sys_condition(out.mask_logits) if stage == "sys" else out.lge


def sys_condition(mask_logits: Tensor) -> Tensor:
    """G_Sys's condition: the class probabilities of G_Pri's mask logits, (B, K, H, W) -> (B, K, H, W)."""
    return torch.softmax(mask_logits, dim=1)


def build_generators(cfg: ModelConfig) -> nn.Module:
    """The configuration's network: the PSCGAN cascade, or the 2D U-Net baseline (cfg.model)."""
    if cfg.model == "unet2d":
        from .baselines import UNet2DModel

        return UNet2DModel(cfg)
    if cfg.model != "pscgan":
        raise ValueError(f"unknown model {cfg.model!r}; choose pscgan or unet2d")
    return Cascade(cfg)


def build_discriminators(cfg: ModelConfig) -> nn.ModuleDict:
    """D_Pri (4-class mask -> score), D_Sys (image -> score, conv 2-4 features),
    D_Seg (4-class segmentation -> score, class sizes)."""
    k = cfg.num_classes
    return nn.ModuleDict(
        {
            "pri": Discriminator(cfg, in_channels=k, head="score"),
            "sys": Discriminator(cfg, in_channels=1, head="features"),
            "seg": Discriminator(cfg, in_channels=k, head="sizes"),
        },
    )
