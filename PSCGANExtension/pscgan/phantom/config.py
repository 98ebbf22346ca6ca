"""PhantomConfig: every tunable range of the phantom in one place."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..errors import InputError
from .contrast import SequenceConfig

GENERATOR_VERSION = "phantom-1.3"  # the default (PhantomConfig()): stable, so old cases are made again bit for bit;
# the shipped model trained on phantom-1.4 (Resources/results/train_shipped.sh names it)
LEVELS = ("basal", "mid", "apical")


@dataclass(frozen=True)
class PhantomConfig:
    """Ranges the phantom draws each case from (uniform unless stated); other versions: phantom_config()."""

    version: str = GENERATOR_VERSION  # written into every case's meta.json
    frames: int = 25
    image_size_range: tuple[int, int] = (160, 256)  # pixels along the longer side
    spacing_range_mm: tuple[float, float] = (1.2, 1.8)
    fov_range_mm: tuple[float, float] = (280.0, 380.0)  # size = fov / spacing, clipped to image_size_range
    rectangular_fraction: float = 0.4  # share of cases with fewer rows than columns
    slice_thickness_range_mm: tuple[float, float] = (6.0, 10.0)  # SAX cine slices 6-8 mm in SCMR standardized
    # protocols (Kramer et al., JCMR 2020), 10 mm in the Sunnybrook studies; rendered as sub-samples at different
    # depths through the slab (through-plane partial volume)
    lv_long_axis_mm_range: tuple[float, float] = (80.0, 100.0)  # ED base-apex length spanned by position 0..1
    # (typical adult LV length 8-10 cm; a round figure, not taken from one source)
    rr_interval_ms_range: tuple[float, float] = (700.0, 1100.0)
    es_fraction_range: tuple[float, float] = (0.30, 0.38)  # end-systole as a fraction of the cycle
    snr_range: tuple[float, float] = (12.0, 80.0)  # cine: mean heart signal / noise SD (1.2: 8-45 gave 2.6x the
    # noise of the Sunnybrook scans, realism.md; MRXCAT default 20 lies inside)
    lge_snr_range: tuple[float, float] = (10.0, 25.0)  # LGE: mean blood signal / noise SD
    coils_range: tuple[int, int] = (4, 8)
    scar_free_fraction: float = 1.0 / 6.0
    level_weights: tuple[float, float, float] = (0.3, 0.4, 0.3)  # basal, mid, apical
    supersampling: int = 3  # rendered at this factor per axis, then block-averaged (partial volume)
    normal_thickening_range: tuple[float, float] = (0.38, 0.58)  # healthy radial wall thickening at ES
    scar_thickening_k_range: tuple[float, float] = (1.0, 1.15)  # thickening = normal (1 - k transmurality)
    tethering_deg_range: tuple[float, float] = (6.0, 12.0)  # circumferential smoothing of thickening
    rotation_deg_range: tuple[float, float] = (-35.0, 35.0)
    blur_px_range: tuple[float, float] = (0.3, 0.8)  # Gaussian PSF sigma (partial Fourier, filters; on top of the matrix)
    flow_inhomogeneity_range: tuple[float, float] = (0.05, 0.25)  # relative SD of drifting blood-signal variation
    inflow_pulsation_range: tuple[float, float] = (0.0, 0.15)  # whole-pool blood brightness swing over the cycle
    lge_shift_sd_mm: float = 0.8  # residual cine-LGE misregistration (per axis), clipped to 2.5 mm
    ti_scale_sd: float = 0.04  # relative error of the chosen inversion time (imperfect nulling)
    sequence: SequenceConfig = field(default_factory=SequenceConfig)  # LGE sequence and the cine's nominal one
    # --- variety of the cine acquisition (phantom-1.2) ---
    field_3t_fraction: float = 0.35  # share of cases with 3 T tissue values (else 1.5 T)
    flip_deg_range: tuple[float, float] = (40.0, 80.0)  # cine bSSFP flip angle
    cine_blood_level_range: tuple[float, float] = (120.0, 1200.0)  # global intensity scale (mean LV blood)
    bias_strength_range: tuple[float, float] = (0.0, 0.45)  # smooth multiplicative bias field, log amplitude
    acquisition_fraction_range: tuple[float, float] = (0.5, 0.9)  # acquired / displayed matrix, phase direction
    readout_fraction_range: tuple[float, float] = (0.75, 1.0)  # acquired / displayed matrix, read direction
    texture_amplitude_range: tuple[float, float] = (0.02, 0.09)  # relative SD of smooth tissue texture
    # --- phantom-1.3, from Resources/results/realism.md (Sunnybrook: myocardial IQR / median 0.4-0.9) ---
    inflow_gain_range: tuple[float, float] = (1.0, 1.25)  # cine blood over its steady-state bSSFP signal:
    # unsaturated spins flowing into the slice (1.2 gave blood / myocardium 2.6 against Sunnybrook's 3.1)
    myo_texture_range: tuple[float, float] = (0.12, 0.35)  # relative SD of the wall's own texture (moves with it)
    # --- variety of the anatomy (phantom-1.2) ---
    failing_fraction: float = 0.35  # share of dilated, thin-walled, hypokinetic hearts (heart failure)
    r_endo_range_mm: tuple[float, float] = (20.0, 30.0)  # basal ED endocardial radius, ordinary hearts
    failing_r_endo_range_mm: tuple[float, float] = (28.0, 38.0)  # ... failing hearts (ED diameter up to ~75 mm)
    wall_range_mm: tuple[float, float] = (7.0, 12.0)  # basal ED wall thickness, ordinary hearts
    failing_wall_range_mm: tuple[float, float] = (5.0, 8.5)
    failing_thickening_scale_range: tuple[float, float] = (0.55, 0.9)  # global hypokinesis of failing hearts
    ellipticity_range: tuple[float, float] = (0.0, 0.18)
    endo_irregularity: float = 0.05  # max relative amplitude of endocardial Fourier orders 3..6
    trabeculation_range_mm: tuple[float, float] = (1.0, 5.0)
    papillary_radius_range_mm: tuple[float, float] = (3.5, 9.0)
    translation_range_mm: tuple[float, float] = (0.0, 4.0)  # in-plane heart displacement at end-systole
    trabecular_islands_range: tuple[int, int] = (2, 14)  # small muscle bundles just inside the endocardium
    island_radius_range_mm: tuple[float, float] = (1.2, 3.5)
    rv_depth_range_mm: tuple[float, float] = (15.0, 48.0)
    insertion_gap_range_deg: tuple[float, float] = (100.0, 140.0)  # angle between the RV insertion points
    septal_centre_sd_deg: float = 6.0  # jitter of the septum's centre around 180 degrees (clipped to 2 SD)
    epicardial_fat_range_mm: tuple[float, float] = (0.2, 2.5)  # 1.3: thinner (realism.md: the ring around the
    # heart held 1.5x Sunnybrook's share of bright pixels, half of them epicardial fat)
    groove_fat_range_mm: tuple[float, float] = (0.5, 6.0)
    organ_warp_range_mm: tuple[float, float] = (2.0, 9.0)  # amplitude of the smooth warp of body organs
    # --- variety of the scars (phantom-1.2) ---
    scar_width_fraction_range: tuple[float, float] = (0.15, 1.0)  # of the usable territory
    border_crossing_fraction: float = 0.2  # share of scars centred on the border of two adjacent territories


# Newer versions, chosen by name: what each draws differently from PhantomConfig() (the rendering code is the
# same). phantom-1.4 moved towards the Sunnybrook scans in Resources/results/realism.md; the model shipped since
# stop 20 trained on it (Resources/MODEL_CARD.md). The default stays 1.3 so that old cases are made again bit for bit.
NEWER_VERSIONS: dict[str, dict] = {
    "phantom-1.4": {
        # The Sunnybrook Cardiac Data hold 24 heart-failure studies of 45 (Radau et al., MIDAS J 2009: 12 HF-I,
        # 12 HF-NI, 12 hypertrophy, 9 normal); 1.3's LV was 50 mm across against their 58 (realism.md)
        "failing_fraction": 0.5,
        "r_endo_range_mm": (21.0, 32.0),
        # the endocardial edge was 6.6 mm wide against Sunnybrook's 9.7, the myocardial IQR / median 0.26 against 0.63
        "blur_px_range": (0.4, 1.1),
        "trabeculation_range_mm": (2.0, 8.0),
        "myo_texture_range": (0.18, 0.45),
        "inflow_gain_range": (1.0, 1.35),  # blood / myocardium 2.9 against 3.1
    },
}
VERSIONS = (GENERATOR_VERSION, *NEWER_VERSIONS)


def phantom_config(version: str | None = None, **changes) -> PhantomConfig:
    """The PhantomConfig of generator `version` (one of VERSIONS; None: the default GENERATOR_VERSION), with
    `changes` on top."""
    version = version or GENERATOR_VERSION
    if version not in VERSIONS:
        raise InputError(f"phantom generator version {version!r}: choose one of {', '.join(VERSIONS)}")
    return replace(PhantomConfig(), version=version, **NEWER_VERSIONS.get(version, {}), **changes)
