"""What one training step of each phase computes: inputs, generator outputs, and the losses.

Phases of the progressive cascade (paper section 5, Fig. 7), in order:
  pri: G_Pri(cine) -> mask logits;                 target: labels (mce) ; D_Pri sees softmax or its one-hot arg max (pri_disc_input) / one-hot
  sys: G_Sys(cine | softmax(G_Pri(cine))) -> LGE;  target: LGE           ; D_Sys sees the image
  seg: G_Seg(cine | G_Sys(...)) -> seg logits;     target: labels (mce) ; D_Seg sees softmax or its one-hot arg max (seg_disc_input) / one-hot
Earlier generators are frozen (evaluated under no_grad) while a later phase trains. The
non-progressive ablation has one phase, `joint`: the parallel generator's three outputs are trained
together with the sum of the three phases' losses.

Losses per output (weights and switches from training.config.TrainingConfig):
  pri/seg G: seg_ce_weight * mce (+ dice_weight * soft Dice) + adv_weight * adversarial_g  (+ seg: aux_weight * |D_aux(real) - D_aux(fake)|_1, eq. 17)
             (+ systole_weight * mce of the systole head against the end-systolic labels, when the batch has them)
  sys G:     recon_weight * L1 (0 in the paper config) + synthetic regularisation (eq. 11-13, if on) + adv_weight * adversarial_g
             + content_weight * content loss on D_Sys's conv 2-4 features (eq. 15)
  D:         adversarial_d (+ gp_weight * gradient penalty for wgan-gp)
             (+ seg: aux_weight * |D_aux(real) - true class fractions|_1 (losses.size_regression_loss),
             which teaches D_aux to count pixels; eq. 17 alone only compares two predictions)
With `adversarial` off there is no discriminator and only the supervised terms remain.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from pscgan.nn.cascade import STAGES

from . import losses

PROGRESSIVE_PHASES = STAGES
SYSTOLE_PHASES = ("pri", "seg", "unet")  # the phases whose generator has a systole head (ModelConfig.systole_head)
JOINT_PHASES = ("joint",)
BASELINE_PHASES = ("unet",)  # the 2D U-Net baseline: one segmentation phase, trained like G_Seg
OUTPUTS = {"pri": ("pri",), "sys": ("sys",), "seg": ("seg",), "joint": ("pri", "sys", "seg"), "unet": ("seg",)}


def phases_for(cfg) -> tuple[str, ...]:
    if cfg.model == "unet2d":
        return BASELINE_PHASES
    return PROGRESSIVE_PHASES if cfg.progressive else JOINT_PHASES


def trainable_generator(model: nn.Module, phase: str) -> nn.Module:
    return getattr(model, phase)


@dataclass
class Batch:
    cine: Tensor  # (B, T, H, W) in [-1, 1]
    lge: Tensor  # (B, 1, H, W) in [-1, 1]
    labels: Tensor  # (B, H, W) int64
    systole: Tensor | None = None  # (B, H, W) int64 end-systolic labels, arrays.UNKNOWN_LABEL where unknown

    @property
    def onehot(self) -> Tensor:  # (B, K, H, W) float
        return F.one_hot(self.labels, 4).permute(0, 3, 1, 2).float()


def generator_outputs(model: nn.Module, phase: str, batch: Batch, gen: nn.Module | None = None) -> dict[str, Tensor]:
    """Outputs of the trained generator(s) of `phase`, with gradients: {'pri': logits, 'sys': image, 'seg': logits}.

    `gen` is the (possibly DistributedDataParallel-wrapped) trainable generator; earlier phases run frozen.
    """
    gen = gen if gen is not None else trainable_generator(model, phase)
    if phase == "joint":
        out = gen(batch.cine)
        return {"pri": out.mask_logits, "sys": out.lge, "seg": out.seg_logits}
    if phase == "unet":
        inputs: tuple = (batch.cine,)
    else:
        condition = None
        if phase != "pri":
            with torch.no_grad():
                condition = model.condition(phase, batch.cine)  # from the frozen earlier generators
        inputs = (batch.cine, condition)
    key = OUTPUTS[phase][0]
    if phase in SYSTOLE_PHASES and batch.systole is not None:  # with the auxiliary end-systole task
        out, systole = gen(*inputs, systole=True)
        return {key: out, "systole": systole}
    return {key: gen(*inputs)}


MASK_DISC_INPUTS = ("softmax", "onehot")


def disc_input(key: str, output: Tensor, mask_input: str = "softmax") -> Tensor:
    """What D sees of a generator output: the image itself for the LGE; for a mask (B, K, H, W) the class
    probabilities ("softmax", the paper) or the one-hot of their arg max carrying the probabilities' gradient
    ("onehot", a straight-through estimator). Real masks are one-hot, so with "softmax" D can tell a generated
    mask by its soft values alone, whatever its shape; with "onehot" both look alike and only shape is left."""
    if key == "sys":
        return output
    prob = torch.softmax(output, dim=1)
    if mask_input == "softmax":
        return prob
    hard = F.one_hot(prob.argmax(dim=1), prob.shape[1]).permute(0, 3, 1, 2).to(prob.dtype)  # (B, K, H, W)
    return hard + (prob - prob.detach())  # exactly `hard` in value


def real_input(key: str, batch: Batch) -> Tensor:
    return batch.lge if key == "sys" else batch.onehot


def _split(out, n: int):
    """D output (score | (score, extra)) of a concatenated [real; fake] batch -> (real part, fake part)."""
    if isinstance(out, (tuple, list)):
        score, extra = out
        if isinstance(extra, (tuple, list)):
            return (score[:n], [e[:n] for e in extra]), (score[n:], [e[n:] for e in extra])
        return (score[:n], extra[:n]), (score[n:], extra[n:])
    return out[:n], out[n:]


def _score(out) -> Tensor:
    return out[0] if isinstance(out, (tuple, list)) else out


class LossSet:
    """The adversarial / auxiliary / regularisation loss functions of one TrainingConfig (training.losses)."""

    def __init__(self, training):
        self.training = training
        self.losses = losses
        if training.adversarial_loss not in losses.ADVERSARIAL_LOSSES:
            raise ValueError(f"unknown adversarial loss {training.adversarial_loss!r}")
        for option in ("seg_disc_input", "pri_disc_input"):
            if getattr(training, option) not in MASK_DISC_INPUTS:
                raise ValueError(f"unknown {option} {getattr(training, option)!r}; choose one of {', '.join(MASK_DISC_INPUTS)}")
        kind = training.adversarial_loss
        self.adv_d = lambda real, fake: losses.adversarial_d(kind, real, fake)
        self.adv_g = lambda fake: losses.adversarial_g(kind, fake)

    def mask_input(self, key: str) -> str:
        """How D of output `key` sees a generated mask (disc_input): D_Seg and D_Pri as the configuration says."""
        return {"seg": self.training.seg_disc_input, "pri": self.training.pri_disc_input}.get(key, "softmax")

    # -- discriminator ------------------------------------------------------------------------
    def discriminator_loss(self, key: str, disc: nn.Module, batch: Batch, fake_out: Tensor) -> Tensor:
        """One D loss; real and fake go through D in ONE forward (DistributedDataParallel-friendly)."""
        training = self.training
        real = real_input(key, batch)
        fake = disc_input(key, fake_out, self.mask_input(key)).detach()
        n = real.shape[0]
        out = disc(torch.cat([real, fake], dim=0))
        real_o, fake_o = _split(out, n)
        loss = self.adv_d(_score(real_o), _score(fake_o))
        if training.adversarial_loss == "wgan-gp":
            base = disc.module if hasattr(disc, "module") else disc
            loss = loss + training.gp_weight * self.losses.gradient_penalty(lambda x: _score(base(x)), real, fake)
        if key == "seg" and training.auxiliary_loss:
            loss = loss + training.aux_weight * self.losses.size_regression_loss(real_o[1], batch.labels)
        return loss

    def systole_loss(self, logits: Tensor, batch: Batch) -> tuple[Tensor, dict]:
        """The auxiliary end-systole term: systole_weight * mce of the systole head's logits (losses.systole_mce)."""
        from .arrays import UNKNOWN_LABEL

        term = self.training.systole_weight * self.losses.systole_mce(logits, batch.systole, UNKNOWN_LABEL)
        return term, {"systole_mce": float(term.detach())}

    # -- generator ----------------------------------------------------------------------------
    def generator_loss(self, key: str, disc: nn.Module | None, batch: Batch, fake_out: Tensor) -> tuple[Tensor, dict]:
        """G loss of one output; `disc` is the plain (unwrapped) D or None without adversarial training."""
        training = self.training
        parts: dict[str, Tensor] = {}
        if key in ("pri", "seg"):
            weights = None if training.class_weights is None else torch.tensor(training.class_weights)
            parts["mce"] = training.seg_ce_weight * self.losses.mce(fake_out, batch.labels, class_weights=weights)
            if training.dice_weight:
                parts["dice"] = training.dice_weight * self.losses.soft_dice(fake_out, batch.labels)
        else:
            if training.recon_weight:
                parts["l1"] = training.recon_weight * self.losses.reconstruction_l1(fake_out, batch.lge)
            if training.synthetic_regularization:
                parts["synreg"] = self.losses.synthetic_regularisation(fake_out, training.tv_weight, training.ogs_group_size)
        if disc is not None and training.adversarial:
            fake_o = disc(disc_input(key, fake_out, self.mask_input(key)))
            parts["adv"] = training.adv_weight * self.adv_g(_score(fake_o))
            if key == "sys" and training.content_weight:
                with torch.no_grad():
                    real_feats = disc(batch.lge)[1]
                parts["content"] = training.content_weight * self.losses.content_loss(real_feats, fake_o[1])
            if key == "seg" and training.auxiliary_loss:
                with torch.no_grad():
                    real_sizes = disc(batch.onehot)[1]
                parts["aux"] = training.aux_weight * self.losses.auxiliary_size_loss(real_sizes, fake_o[1])
        total = sum(parts.values()) if parts else fake_out.sum() * 0.0
        return total, {f"{key}_{k}": float(v.detach()) for k, v in parts.items()}
