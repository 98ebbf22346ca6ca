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


PAPER = ModelConfig()

CONFIGS: dict[str, ModelConfig] = {"paper": PAPER}


def get_config(name: str) -> ModelConfig:
    try:
        return CONFIGS[name]
    except KeyError:
        raise KeyError(f"unknown configuration {name!r}; choose one of {', '.join(sorted(CONFIGS))}") from None
