"""PhantomConfig: every tunable range of the phantom in one place."""
from __future__ import annotations

from dataclasses import dataclass, field

from .contrast import SequenceConfig

GENERATOR_VERSION = "phantom-1.1"
LEVELS = ("basal", "mid", "apical")


@dataclass(frozen=True)
class PhantomConfig:
    """Ranges the phantom draws each case from (uniform unless stated)."""

    frames: int = 25
    image_size_range: tuple[int, int] = (160, 256)  # pixels along the longer side
    spacing_range_mm: tuple[float, float] = (1.2, 1.8)
    fov_range_mm: tuple[float, float] = (280.0, 380.0)  # size = fov / spacing, clipped to image_size_range
    rectangular_fraction: float = 0.4  # share of cases with fewer rows than columns
    slice_thickness_mm: float = 8.0
    rr_interval_ms_range: tuple[float, float] = (700.0, 1100.0)
    es_fraction_range: tuple[float, float] = (0.30, 0.38)  # end-systole as a fraction of the cycle
    snr_range: tuple[float, float] = (12.0, 35.0)  # cine: mean heart signal / noise SD
    lge_snr_range: tuple[float, float] = (10.0, 25.0)  # LGE: mean blood signal / noise SD
    coils_range: tuple[int, int] = (4, 8)
    scar_free_fraction: float = 1.0 / 6.0
    level_weights: tuple[float, float, float] = (0.3, 0.4, 0.3)  # basal, mid, apical
    supersampling: int = 3  # rendered at this factor per axis, then block-averaged (partial volume)
    normal_thickening_range: tuple[float, float] = (0.38, 0.58)  # healthy radial wall thickening at ES
    scar_thickening_k_range: tuple[float, float] = (1.0, 1.15)  # thickening = normal (1 - k transmurality)
    tethering_deg_range: tuple[float, float] = (6.0, 12.0)  # circumferential smoothing of thickening
    rotation_deg_range: tuple[float, float] = (-35.0, 35.0)
    blur_px_range: tuple[float, float] = (0.3, 0.8)  # Gaussian PSF sigma (acquired resolution below the displayed)
    flow_inhomogeneity: float = 0.08  # relative SD of slowly changing blood-signal variation (inflow)
    lge_shift_sd_mm: float = 0.8  # residual cine-LGE misregistration (per axis), clipped to 2.5 mm
    ti_scale_sd: float = 0.04  # relative error of the chosen inversion time (imperfect nulling)
    sequence: SequenceConfig = field(default_factory=SequenceConfig)
