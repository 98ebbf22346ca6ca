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
    # How the encoder's per-frame skips reach the 2D decoder (summary.py): 0 = the paper's one learned
    # softmax weighting of the frames; K > 0 = K learned temporal summaries (1x1 conv over T x C).
    skip_summaries: int = 0
    # Spatial stride of the first SCLN's entry (paper: 2, like every SCLN); 4 = 4x4 patches, so the
    # SCLNs run at H/4 and below and the finer decoder levels read the cine path instead.
    first_stride: int = 2
    # 2D path on the cine for the decoder's finest blocks: channels at full resolution (the cine skip,
    # frames and their deviation from the temporal mean), then at H/2 (3x3 stride-2 convolution), ...
    # () = none (the paper); one entry = only the full-resolution cine skip.
    cine_path: tuple[int, ...] = ()
    # 3x3 convolutions per cine-path level (1: the entry convolution only; 2: a U-Net encoder level).
    cine_path_convs: int = 1
    # "fc": the paper's fully connected bottleneck; "conv": temporal summary + 3x3 convolution.
    bottleneck: str = "fc"
    # Normalisation of the 2D maps (cine path, decoder, convolutional bottleneck): "layer" (the
    # paper's layer normalisation) or "batch" (BatchNorm2d); the SCLNs always normalise per frame.
    norm2d: str = "layer"
    # Convolutions per decoder block (paper: 1).
    decoder_convs: int = 1
    # Soft Dice term added to the mce of G_Pri / G_Seg (0 = the paper: mce only).
    dice_weight: float = 0.0
    # Phases II and III start from phase I's trained weights wherever names and shapes agree
    # (paper: each generator starts from random weights).
    warm_start: bool = False
    # Which network: "pscgan" (the cascade) or "unet2d" (the 2D U-Net baseline, baselines.py).
    model: str = "pscgan"
    unet_widths: tuple[int, ...] = (24, 48, 96, 192)
    # Optimiser: "adam" (paper) or "adamw" with this weight decay; learning-rate schedule over each
    # phase's epochs: "constant" (paper) or "linear" (decays to 0 at the last epoch).
    optimizer: str = "adam"
    weight_decay: float = 0.0
    lr_schedule: str = "constant"
    # How --max-minutes is shared by the phases (pri, sys, seg): None = equally; else relative shares.
    budget_shares: tuple[float, ...] | None = None
    departures: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        for k, v in known.items():
            if isinstance(v, list):
                known[k] = tuple(v)
        return cls(**known)

    def with_changes(self, **changes) -> ModelConfig:
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
    channels=(16, 32, 48),
    first_stride=4,
    dilations=(1, 2),
    temporal_kernel=3,
    residual_blocks=1,
    attention_reduction=8,
    skip_summaries=24,
    cine_path=(24, 48, 96),
    cine_path_convs=2,
    norm2d="batch",
    bottleneck="conv",
    code_channels=64,
    decoder_channels=(64, 96, 48, 24),
    decoder_convs=2,
    disc_channels=(16, 32, 64, 64, 64),
    attention_pool=4,
    attention_time="frame",
    condition_in_decoder=True,
    batch_size=16,
    recon_weight=10.0,
    adv_weight=0.1,
    class_weights=(1.0, 1.0, 1.0, 3.0),
    dice_weight=1.0,
    learning_rate=2e-3,
    lr_schedule="linear",
    warm_start=True,
    budget_shares=(0.45, 0.2, 0.35),
    departures=(
        "phases II and III start as phase I's trained generator (every layer of the same name; the condition's input weights start at zero, so G_Seg starts computing G_Pri's segmentation): the three generators share an architecture, and a CPU budget cannot learn the same cine features three times from scratch",
        "three SCLNs of (16, 32, 48) channels at 16 x 16, 8 x 8 and 4 x 4 (the first enters with 4 x 4 patches, stride 4) instead of four SCLNs of (16, 32, 64, 128) at 32 x 32 down to 4 x 4: every SCLN keeps all 25 frames apart, and at 32 x 32 that alone cost more than a whole 2D U-Net per training step on 2 CPU cores",
        "a 2D cine path, a U-Net encoder on the cine: its frames and their deviation from the temporal mean (50 channels) -> two 3x3 convolutions of 24 channels at 64 x 64, 48 at 32 x 32 and 96 at 16 x 16 (stride-2 between levels), joined with the SCLN features at 16 x 16; the paper's decoder gets no skip at 64 x 64, where the wall is 6 pixels thick, and a mean over frames hides the motion that shows scar",
        "batch normalisation in the 2D parts (cine path, decoder, bottleneck convolution) instead of layer normalisation: with the U-Net cine path it learned the myocardium and scar in fewer epochs in a 10-minute phase-I comparison on one shared core (validation myocardium / scar Dice after 4 epochs 0.83 / 0.12; the previous design, layer normalisation and a one-convolution cine path: 0.79 / 0.00; the U-Net cine path with layer normalisation: 0.68 after 3 epochs, stopped); the SCLNs keep their per-frame layer normalisation",
        "phases share --max-minutes 45 / 20 / 35 % (pri / sys / seg) instead of equally: the segmentation phases carry the scar, G_Sys's SSIM levels off after a few epochs",
        "skips carry 24 learned temporal summaries (a 1x1 convolution over the T x C per-frame features) instead of one softmax-weighted mean over the frames",
        "convolutional bottleneck (temporal summary of the 4 x 4 map + 3x3 convolution, 64 channels) instead of the fully connected 4096-feature layer: in the earlier cpu configuration 98.7 % of the parameters sat in the fully connected layers, with no spatial prior",
        "two convolutions per decoder block instead of one, decoder channels (64, 96, 48, 24) instead of (256, 128, 64, 32)",
        "dilation rates (1, 2) with 3-tap temporal kernels instead of (1, 1, 2, 4, 6, 8), 1 residual block per pathway instead of 3; discriminator channels (16, 32, 64, 64, 64) instead of (64, 128, 256, 512, 512); attention keys/values pooled to 4x4 per frame and frame-level causal temporal attention weights: compute budget",
        "condition also concatenated to every decoder block (paper: bottleneck only)",
        "batch 16 instead of 1, learning rate 2e-3 decaying linearly to 0 over each phase instead of a constant 1e-3: batch 1 is too slow per sample on CPU, and the decay lets a short run settle",
        "soft Dice term (weight 1) added to the mce of G_Pri and G_Seg, scar weighted 3x in the mce: scar is a few percent of the pixels",
        "L1 reconstruction term (recon_weight 10) added to G_Sys and adversarial weight 0.1 instead of 1: with little data and few epochs the adversarial + regulariser terms alone do not learn the target",
    ),
)

UNET2D = ModelConfig(
    name="unet2d",
    model="unet2d",
    adversarial=False,
    batch_size=16,
    learning_rate=2e-3,
    optimizer="adamw",
    weight_decay=1e-4,
    lr_schedule="linear",
    dice_weight=1.0,
    departures=(
        "not PSCGAN: the plain 2D U-Net baseline (frames and their deviation from the temporal mean as 50 input channels, widths 24-48-96-192, mce + soft Dice, AdamW 2e-3 decaying linearly), segmentation only, no LGE synthesis",
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

CONFIGS: dict[str, ModelConfig] = {"paper": PAPER, "cpu": CPU, "tiny": TINY, "unet2d": UNET2D}


def get_config(name: str) -> ModelConfig:
    try:
        return CONFIGS[name]
    except KeyError:
        raise KeyError(f"unknown configuration {name!r}; choose one of {', '.join(sorted(CONFIGS))}") from None
