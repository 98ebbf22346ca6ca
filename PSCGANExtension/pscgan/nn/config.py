"""All model hyper-parameters in one dataclass, and the named configurations.

`paper` follows the paper (sections 4-6); `cpu` and `tiny` depart from it only where listed in
`departures`, so that every difference is documented next to the numbers.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace


@dataclass(frozen=True)
class ModelConfig:
    name: str = "paper"
    # Input: 25 frames of a 64x64 ROI, one channel, intensities in [-1, 1] (section 6.4).
    frames: int = 25
    size: int = 64
    num_classes: int = 4
    # SCLN encoder: channels of the four SCLNs (spatial stride 2 each); the paper's fourth SCLN
    # yields 25 x 4 x 4 x 128 (section 4.2).
    channels: tuple[int, ...] = (16, 32, 64, 128)
    dilations: tuple[int, ...] = (1, 1, 2, 4, 6, 8)  # per dilated stack (section 4.1.1)
    residual_blocks: int = 3  # stacks of dilated convolutions per pathway, with shortcuts
    attention_reduction: int = 8  # query/key channels C/8 (section 4.1.2)
    fc_features: int = 4096  # 1 x 1 x 4096 bottleneck (section 4.2)
    code_channels: int = 256  # reshaped to 4 x 4 x 256
    decoder_channels: tuple[int, ...] = (256, 128, 64, 32)
    disc_channels: tuple[int, ...] = (64, 128, 256, 512, 512)  # 5 stride-2 convolutions
    # Ablation switches (paper Tables 3-5); the full model has them all on.
    encoder: str = "scln"  # scln | conv3d | convlstm | conv3d_lstm
    spatial_pathway: bool = True
    temporal_pathway: bool = True
    multi_attention: bool = True
    progressive: bool = True
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
    # Spatial dilated convolutions: depthwise-separable (depthwise 3x3 + pointwise 1x1) instead of
    # full 3x3 convolutions (paper: full).
    separable: bool = False
    # Self-attention keys/values are max-pooled per frame to at most this many positions per side
    # (SAGAN-style); queries stay at full resolution. See attention.py for why.
    attention_pool: int = 8
    # Temporal step of the factored attention: "pixel" (each pixel has its own causal T x T weights)
    # or "frame" (one causal T x T weighting per slice, shared by its pixels; cheaper).
    attention_time: str = "pixel"
    # The condition (phase-I mask / phase-II LGE) is, as in the paper, flattened and concatenated
    # into the bottleneck fully connected layer. When True it is ALSO resized and concatenated to
    # every decoder block input (paper: bottleneck only).
    condition_in_decoder: bool = False
    # Kernel size of the causal temporal convolutions (the paper does not state it; 3 as in WaveNet).
    temporal_kernel: int = 3
    # Extra generator loss terms (0 = the paper). recon_weight: L1 between synthesised and real LGE
    # added to G_Sys's loss; seg_ce_weight scales the mce term of G_Pri / G_Seg.
    recon_weight: float = 0.0
    seg_ce_weight: float = 1.0
    # Per-class weights of the mce terms (other, blood pool, healthy myocardium, scar); None = equal (paper).
    class_weights: tuple[float, ...] | None = None
    # WGAN-GP penalty weight (Gulrajani et al. 2017) for adversarial_loss == "wgan-gp".
    gp_weight: float = 10.0
    departures: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        for k, v in known.items():
            if isinstance(v, list):
                known[k] = tuple(v)
        return cls(**known)

    def with_changes(self, **changes) -> "ModelConfig":
        return replace(self, **changes)


# Choices every configuration shares, including `paper`, where the paper is silent or infeasible.
IMPLEMENTATION_NOTES: tuple[str, ...] = (
    "self-attention factored into per-frame attention over pooled keys plus causal attention over time (attention.py): full attention over 25x32x32 positions does not fit in memory",
    "every self-attention layer returns gamma * O + input with gamma = 0 at start (SAGAN), not only the fused one",
    "the temporal pathway enters each SCLN through a per-frame 2x2 stride-2 projection (the paper's stride 4 along a frame read as a 1D vector)",
    "dilation rates larger than the feature map at a scale are dropped (the paper: the stack number varies with resolution)",
    "layer normalisation is per frame (over C, H, W) in the encoder so that it never mixes frames and keeps causality",
    "D_Seg's size head regresses class sizes as fractions of the image (x H*W for pixel counts)",
)

PAPER = ModelConfig()

CPU = ModelConfig(
    name="cpu",
    channels=(6, 12, 24, 32),
    dilations=(1, 5),
    temporal_kernel=5,
    residual_blocks=1,
    attention_reduction=8,
    fc_features=256,
    code_channels=32,
    decoder_channels=(32, 24, 16, 8),
    disc_channels=(16, 32, 64, 64, 64),
    attention_pool=4,
    attention_time="frame",
    condition_in_decoder=True,
    batch_size=16,
    recon_weight=10.0,
    adv_weight=0.1,
    class_weights=(1.0, 1.0, 1.0, 3.0),
    departures=(
        "channels (6, 12, 24, 32) instead of (16, 32, 64, 128): about 2 CPU cores must train all three phases in about an hour and infer a slice in about 50 ms",
        "dilation rates (1, 5) with 5-tap temporal kernels instead of (1, 1, 2, 4, 6, 8) with 3 taps: 2 layers per stack; the temporal receptive field (25 frames) still covers the whole cycle, the spatial one is 13 pixels per scale",
        "1 residual block of dilated convolutions per pathway instead of 3: compute budget",
        "bottleneck 256 features and a 4x4x32 code instead of 4096 and 4x4x256: the paper's 51200x4096 fully connected layer alone has 210 M parameters",
        "decoder channels (32, 24, 16, 8) instead of (256, 128, 64, 32) and discriminator channels (16, 32, 64, 64, 64) instead of (64, 128, 256, 512, 512): compute budget",
        "attention keys/values pooled to 4x4 per frame instead of 8x8, and frame-level (not per-pixel) causal temporal attention weights: compute budget",
        "condition also concatenated to every decoder block (paper: bottleneck only): a 4x4 code cannot carry a 64x64 mask's detail in a small network",
        "batch 16 instead of 1: batch 1 is too slow per sample on CPU (the learning rate stays the paper's 1e-3: in a probe run with 2e-4 the pri generator had not learned the myocardium after 100 steps, with 1e-3 it had)",
        "L1 reconstruction term (recon_weight 10) added to G_Sys: with little data and few epochs the adversarial + regulariser terms alone do not learn the target",
        "adversarial weight 0.1 instead of 1 and scar weighted 3x in the mce terms: a trial run (200 phantom cases, GPU) with weight 1 became unstable (segmentation accuracy fell from 0.83 to 0.74) and never predicted scar; these two values were set from that one observation, not tuned",
    ),
)

TINY = ModelConfig(
    name="tiny",
    frames=8,
    size=32,
    channels=(4, 4, 8, 8),
    dilations=(1, 2),
    residual_blocks=1,
    attention_reduction=4,
    fc_features=16,
    code_channels=8,
    decoder_channels=(8, 8, 4, 4),
    disc_channels=(4, 8, 8, 8, 8),
    separable=True,
    attention_pool=4,
    condition_in_decoder=True,
    batch_size=2,
    recon_weight=1.0,
    departures=(
        "for tests only: 8 frames of 32x32, a few channels, 2 dilation rates, 1 residual block, depthwise-separable spatial convolutions, condition in every decoder block; not a usable model",
    ),
)

CONFIGS: dict[str, ModelConfig] = {"paper": PAPER, "cpu": CPU, "tiny": TINY}


def get_config(name: str) -> ModelConfig:
    try:
        return CONFIGS[name]
    except KeyError:
        raise KeyError(f"unknown configuration {name!r}; choose one of {', '.join(sorted(CONFIGS))}") from None
