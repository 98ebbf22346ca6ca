"""How a network is trained: optimiser, batch, loss weights and loss switches, and the named sets of them.

The architecture (what a bundle stores to rebuild the network) is `pscgan.nn.config.ModelConfig`; the
named training configurations here carry the same names (`paper`, `cpu`, `tiny`, `unet2d`), and
`configs(name)` gives both. `paper` follows the paper (section 6.3); the others depart from it only
where listed in `departures`. A run's checkpoint stores both (`config`, `training_config`); a bundle
stores the architecture only, so the shipped extension never needs this module.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from pscgan.nn.config import ConfigRecord, ModelConfig, get_config


@dataclass(frozen=True)
class TrainingConfig(ConfigRecord):
    KIND: ClassVar[str] = "training configuration"
    name: str = "paper"
    # Ablation switches of the losses (paper Tables 3 and 5); the full model has them all on. Without
    # `adversarial` no discriminator is built or trained: only the supervised terms remain.
    adversarial: bool = True
    synthetic_regularization: bool = True
    auxiliary_loss: bool = True
    adversarial_loss: str = "hinge"  # hinge | wgan-gp | lsgan
    # Training (section 6.3).
    learning_rate: float = 1e-3
    batch_size: int = 1
    disc_steps_per_gen_step: int = 2
    tv_weight: float = 1e-4  # nu of eq. 11 (the paper gives no value)
    ogs_group_size: int = 3  # K of eq. 12-13 (the paper gives no value)
    content_weight: float = 1.0
    adv_weight: float = 1.0
    aux_weight: float = 1.0
    # --- Additions (defaults = the paper; each non-default value is listed in `departures`). ---
    # Extra generator loss terms (0 = the paper). recon_weight: L1 between synthesised and real LGE
    # added to G_Sys's loss; seg_ce_weight scales the mce term of G_Pri / G_Seg.
    recon_weight: float = 0.0
    seg_ce_weight: float = 1.0
    # Per-class weights of the mce terms (other, blood pool, healthy myocardium, scar); None = equal (paper).
    class_weights: tuple[float, ...] | None = None
    # WGAN-GP penalty weight (Gulrajani et al. 2017) for adversarial_loss == "wgan-gp".
    gp_weight: float = 10.0
    # Soft Dice term added to the mce of G_Pri / G_Seg (0 = the paper: mce only).
    dice_weight: float = 0.0
    # Phases II and III start from phase I's trained weights wherever names and shapes agree
    # (paper: each generator starts from random weights).
    warm_start: bool = False
    # Optimiser: "adam" (paper) or "adamw" with this weight decay; learning-rate schedule over each
    # phase's epochs: "constant" (paper) or "linear" (decays to 0 at the last epoch).
    optimizer: str = "adam"
    weight_decay: float = 0.0
    lr_schedule: str = "constant"
    # How --max-minutes is shared by the phases (pri, sys, seg): None = equally; else relative shares.
    budget_shares: tuple[float, ...] | None = None
    # The learning rate of each phase (pri, sys, seg) as a multiple of learning_rate, for its generator (the
    # schedule applies within each phase) and its discriminator; None = learning_rate in every phase (paper).
    phase_lr_scales: tuple[float, ...] | None = None
    # What D_Seg / D_Pri see of a generated mask (training.phases.disc_input): "softmax" (paper: the class
    # probabilities) or "onehot" (the arg max, one-hot like the real masks, with the softmax's gradient).
    seg_disc_input: str = "softmax"
    pri_disc_input: str = "softmax"
    # Arithmetic of the training steps' forward passes (training.precision): "float32" (paper) or "bfloat16"
    # autocast (weights, optimiser and losses stay float32; validation and inference run in float32).
    precision: str = "float32"
    # Weight of the auxiliary end-systole loss (the systole head of ModelConfig; mce over other / blood pool /
    # myocardium at the end-systolic frame of training cases with per-frame labels, as the phantom writes);
    # 0 = none (the paper).
    systole_weight: float = 0.0
    departures: tuple[str, ...] = field(default_factory=tuple)


PAPER = TrainingConfig()

CPU = TrainingConfig(
    name="cpu",
    batch_size=16,
    recon_weight=10.0,
    adv_weight=0.1,
    class_weights=(1.0, 1.0, 1.0, 3.0),
    dice_weight=1.0,
    learning_rate=2e-3,
    lr_schedule="linear",
    warm_start=True,
    budget_shares=(0.45, 0.2, 0.35),
    seg_disc_input="onehot",
    precision="bfloat16",
    departures=(
        "phases II and III start as phase I's trained generator (every layer of the same name; the condition's input weights start at zero, so G_Seg starts computing G_Pri's segmentation): the three generators share an architecture, and a CPU budget cannot learn the same cine features three times from scratch",
        "phases share --max-minutes 45 / 20 / 35 % (pri / sys / seg) instead of equally: the segmentation phases carry the scar, G_Sys's SSIM levels off after a few epochs (50 / 10 / 40 % was tried once, on phantom-1.4, and did not pay: Resources/MODEL_CARD.md; 45 / 8 / 47 % gave more scar but a worse LGE image: Resources/results/candidate_seg_disc/README.md)",
        "D_Seg sees a generated segmentation as the one-hot of its arg max (straight-through, with the softmax's gradient) instead of the class probabilities: real segmentations are one-hot, so D_Seg could tell a generated one by its soft values alone, and once it did (loss below 1) the validation scar Dice stopped rising; with one-hot inputs, the same Pri, Sys, seed and minutes: 0.548 -> 0.604 (phantom-1.3), 0.528 -> 0.595 (phantom-1.4) (Resources/results/candidate_seg_disc/README.md)",
        "training steps' forward passes in bfloat16 autocast where the CPU or GPU computes bfloat16 natively (weights, optimiser and losses float32; validation and inference float32): whole training steps took 0.65 / 0.79 / 0.74 of float32's time (pri / sys / seg; batch 16, 2 threads, AVX512-BF16 CPU), so the same minutes train more epochs (it did not raise the converged scar Dice: Resources/results/candidate_bf16/README.md)",
        "batch 16 instead of 1, learning rate 2e-3 decaying linearly to 0 over each phase instead of a constant 1e-3: batch 1 is too slow per sample on CPU, and the decay lets a short run settle",
        "soft Dice term (weight 1) added to the mce of G_Pri and G_Seg, scar weighted 3x in the mce: scar is a few percent of the pixels",
        "L1 reconstruction term (recon_weight 10) added to G_Sys and adversarial weight 0.1 instead of 1: with little data and few epochs the adversarial + regulariser terms alone do not learn the target",
    ),
)

UNET2D = TrainingConfig(
    name="unet2d",
    adversarial=False,
    batch_size=16,
    learning_rate=2e-3,
    optimizer="adamw",
    weight_decay=1e-4,
    lr_schedule="linear",
    dice_weight=1.0,
    # the baseline's one departure names its architecture and its training: it stands in both configurations
    departures=get_config("unet2d").departures,
)

TINY = TrainingConfig(
    name="tiny",
    batch_size=2,
    recon_weight=1.0,
)

TRAINING_CONFIGS: dict[str, TrainingConfig] = {"paper": PAPER, "cpu": CPU, "tiny": TINY, "unet2d": UNET2D}


def get_training_config(name: str) -> TrainingConfig:
    try:
        return TRAINING_CONFIGS[name]
    except KeyError:
        raise KeyError(f"unknown configuration {name!r}; choose one of {', '.join(sorted(TRAINING_CONFIGS))}") from None


def configs(name: str) -> tuple[ModelConfig, TrainingConfig]:
    """The named configuration: (architecture, training options)."""
    return get_config(name), get_training_config(name)
