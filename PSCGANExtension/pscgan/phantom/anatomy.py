"""Anatomy parameters of one case: heart (LV, RV, papillary muscles, trabeculae, fat) and body.

Everything is described in a heart frame in millimetres: origin at the LV centre, X to the
viewer's right (lateral), Y up (anterior), angles counter-clockwise from +X; the RV lies on the
viewer's left (septum near 180 degrees) with its insertion points nominally at 120 and 240 degrees
(each heart draws its own, 100-140 degrees apart, `HeartParams.rv_insertion_deg`). The case's
random rotation turns the whole scene (heart, body, insertion points) in the image.
Sizes are given at the base; `position` (0 base .. 1 apex) scales them to the slice.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RV_ANTERIOR_INSERTION_DEG = 120.0
RV_INFERIOR_INSERTION_DEG = 240.0
LEVEL_POSITION_RANGE = {"basal": (0.05, 0.30), "mid": (0.36, 0.62), "apical": (0.68, 0.90)}


def level_of_position(position: float) -> str:
    """basal / mid / apical for a position 0 (base) .. 1 (apex)."""
    if position < 1 / 3:
        return "basal"
    return "mid" if position < 2 / 3 else "apical"


@dataclass(frozen=True)
class HeartParams:
    """Heart shape and function (sizes at the base, ED; see the module docstring for the frame)."""

    position: float  # 0 base .. 1 apex
    rotation_deg: float
    centre_offset_mm: tuple[float, float]  # LV centre relative to the image centre, (down, right)
    r_endo_mm: float
    wall_mm: float
    ellipticity: float
    ellipse_angle_deg: float
    endo_harmonics: tuple[tuple[float, float], ...]  # (relative amplitude, phase) for orders 3..
    wall_harmonics: tuple[tuple[float, float], ...]  # orders 1..
    septal_thinning: float  # relative, the septum is slightly thinner
    scar_thinning: float  # relative thinning of fully transmural scar (chronic remodelling)
    trabeculation_mm: float
    trabeculation_phases: tuple[float, float, float]
    papillary_angles_deg: tuple[float, float]
    papillary_radius_mm: float
    rv_depth_mm: float
    rv_wall_mm: float
    rv_skew: float  # > 1: RV deeper towards the inferior insertion
    rv_contraction: float
    fat_mm: float
    groove_fat_mm: tuple[float, float]
    normal_thickening: float
    thickening_k: float
    tethering_deg: float
    longitudinal_shortening: float
    es_fraction: float
    rv_insertion_deg: tuple[float, float] = (RV_ANTERIOR_INSERTION_DEG, RV_INFERIOR_INSERTION_DEG)
    failing: bool = False  # dilated, thin-walled, hypokinetic heart
    trabecular_islands: tuple[tuple[float, float, float], ...] = ()  # (angle deg, depth mm, radius mm) in the pool
    translation_mm: tuple[float, float] = (0.0, 0.0)  # (x, y) heart displacement at ES, follows contraction
    pattern_seed: int | None = None  # phantom-1.3: seed of the irregular trabeculation and patchy fat (None: 1.2's)
    long_axis_mm: float = 90.0  # ED base-apex length spanned by position 0..1 (phantom-1.3, through-plane partial volume)

    @property
    def level(self) -> str:
        return level_of_position(self.position)

    @property
    def size_scale(self) -> float:
        """LV radius relative to the base at this position (apex tapers like an ellipsoid)."""
        return float(np.sqrt(max(1.0 - 0.8 * self.position ** 2.2, 0.05)))

    @property
    def has_papillary(self) -> bool:
        return 0.12 < self.position < 0.82

    def slab_scale(self, depth_mm: np.ndarray) -> np.ndarray:
        """Heart size at `depth_mm` through the slice (towards the apex positive) relative to its centre."""
        def scale(p):
            return np.sqrt(np.maximum(1.0 - 0.8 * np.clip(p, 0.0, None) ** 2.2, 0.0025))
        return scale(self.position + np.asarray(depth_mm, float) / self.long_axis_mm) / scale(self.position)


@dataclass(frozen=True)
class BodyParams:
    """Torso, lungs, liver, aorta and spine in the heart frame (mm)."""

    torso_centre: tuple[float, float]
    torso_axes: tuple[float, float]
    subcutaneous_mm: float
    chest_muscle_mm: float
    liver_centre: tuple[float, float]
    liver_axes: tuple[float, float]
    aorta_centre: tuple[float, float]
    aorta_radius_mm: float
    fat_pad_centre: tuple[float, float]
    fat_pad_axes: tuple[float, float]
    torso_harmonics: tuple[tuple[float, float], ...] = ()  # (relative amplitude, phase) for orders 2..
    stomach_centre: tuple[float, float] = (60.0, -80.0)
    stomach_axes: tuple[float, float] = (0.0, 0.0)  # (0, 0): no stomach in this slice
    lung_vessels: tuple[tuple[float, float, float], ...] = ()  # (x, y, radius) mm, drawn only inside lung
    warp: tuple[tuple[float, float, float, float, float], ...] = ()  # (amp x, amp y mm, kx, ky 1/mm, phase)


def _insertion_angles(rng: np.random.Generator, cfg) -> tuple[float, float]:
    """(anterior, inferior) RV insertion angles: a jittered septal centre and a gap from the config."""
    sd = cfg.septal_centre_sd_deg
    centre = 180.0 + float(np.clip(rng.normal(0.0, sd), -2 * sd, 2 * sd))
    gap = float(rng.uniform(*cfg.insertion_gap_range_deg))
    return centre - gap / 2, centre + gap / 2


def _trabecular_islands(rng: np.random.Generator, cfg) -> tuple[tuple[float, float, float], ...]:
    """Muscle bundles clustered around one angle (mostly inferolateral), touching or near the endocardium."""
    n = int(rng.integers(cfg.trabecular_islands_range[0], cfg.trabecular_islands_range[1] + 1))
    centre = rng.normal(300.0, 50.0)
    return tuple((float((centre + rng.normal(0.0, 45.0)) % 360.0), float(rng.uniform(-1.5, 2.5)),
                  float(rng.uniform(*cfg.island_radius_range_mm))) for _ in range(n))


def _translation(rng: np.random.Generator, cfg) -> tuple[float, float]:
    """(x, y) mm in-plane displacement of the whole heart at end-systole, random direction."""
    size, angle = rng.uniform(*cfg.translation_range_mm), rng.uniform(0, 2 * np.pi)
    return float(size * np.cos(angle)), float(size * np.sin(angle))


def sample_heart(rng: np.random.Generator, level: str, cfg) -> HeartParams:
    """Draw a heart for a slice at `level` (cfg: PhantomConfig); a share `cfg.failing_fraction` is
    dilated, thin-walled and hypokinetic like the Sunnybrook heart-failure patients."""
    lo, hi = LEVEL_POSITION_RANGE[level]
    failing = bool(rng.uniform() < cfg.failing_fraction)
    r_range = cfg.failing_r_endo_range_mm if failing else cfg.r_endo_range_mm
    wall_range = cfg.failing_wall_range_mm if failing else cfg.wall_range_mm
    thickening = float(rng.uniform(*cfg.normal_thickening_range))
    if failing:
        thickening *= float(rng.uniform(*cfg.failing_thickening_scale_range))
    irregular = cfg.endo_irregularity
    trab_lo, trab_hi = cfg.trabeculation_range_mm
    return HeartParams(
        position=float(rng.uniform(lo, hi)),
        rotation_deg=float(rng.uniform(*cfg.rotation_deg_range)),
        centre_offset_mm=(float(rng.uniform(-20, 20)), float(rng.uniform(-15, 25))),
        r_endo_mm=float(rng.uniform(*r_range)),
        wall_mm=float(rng.uniform(*wall_range)),
        ellipticity=float(rng.uniform(*cfg.ellipticity_range)),
        ellipse_angle_deg=float(rng.uniform(0, 180)),
        endo_harmonics=tuple((float(rng.uniform(0, irregular)) / (1 + 0.3 * k), float(rng.uniform(0, 2 * np.pi)))
                             for k in range(4)),
        wall_harmonics=tuple((float(rng.uniform(0, 0.12)), float(rng.uniform(0, 2 * np.pi))) for _ in range(3)),
        septal_thinning=float(rng.uniform(0.0, 0.15)),
        scar_thinning=float(rng.uniform(0.1, 0.35)),
        trabeculation_mm=float(rng.uniform(trab_lo + (0.3 * (trab_hi - trab_lo) if failing else 0.0), trab_hi)),
        trabeculation_phases=tuple(float(v) for v in rng.uniform(0, 2 * np.pi, 3)),
        papillary_angles_deg=(float(rng.uniform(10, 65)), float(rng.uniform(275, 330))),
        papillary_radius_mm=float(rng.uniform(*cfg.papillary_radius_range_mm)),
        rv_depth_mm=float(rng.uniform(*cfg.rv_depth_range_mm)),
        rv_wall_mm=float(rng.uniform(2.5, 4.0)),
        rv_skew=float(rng.uniform(0.75, 1.35)),
        rv_contraction=float(rng.uniform(0.15, 0.45) if failing else rng.uniform(0.25, 0.45)),
        fat_mm=float(rng.uniform(*cfg.epicardial_fat_range_mm)),
        groove_fat_mm=(float(rng.uniform(*cfg.groove_fat_range_mm)), float(rng.uniform(*cfg.groove_fat_range_mm))),
        normal_thickening=thickening,
        thickening_k=float(rng.uniform(*cfg.scar_thickening_k_range)),
        tethering_deg=float(rng.uniform(*cfg.tethering_deg_range)),
        longitudinal_shortening=float(rng.uniform(0.10, 0.18) * (0.6 if failing else 1.0)),
        es_fraction=float(rng.uniform(*cfg.es_fraction_range)),
        rv_insertion_deg=_insertion_angles(rng, cfg),
        failing=failing,
        trabecular_islands=_trabecular_islands(rng, cfg),
        translation_mm=_translation(rng, cfg),
        long_axis_mm=float(rng.uniform(*cfg.lv_long_axis_mm_range)),
        pattern_seed=int(rng.integers(0, 2 ** 31)),
    )


def sample_body(rng: np.random.Generator, cfg=None) -> BodyParams:
    """Draw the torso around a heart at the origin (cfg: PhantomConfig, for the organ warp)."""
    warp_lo, warp_hi = cfg.organ_warp_range_mm if cfg is not None else (0.0, 0.0)
    warp = []
    for _ in range(4):  # smooth sinusoidal displacement, wavelengths 70-220 mm: organs lose their ellipse look
        k = 2 * np.pi / rng.uniform(70.0, 220.0)
        d = rng.uniform(0, 2 * np.pi)
        amp = rng.uniform(warp_lo, warp_hi) / 2
        warp.append((float(amp * rng.normal()), float(amp * rng.normal()), float(k * np.cos(d)), float(k * np.sin(d)),
                     float(rng.uniform(0, 2 * np.pi))))
    return BodyParams(
        torso_centre=(float(rng.uniform(-40, -10)), float(rng.uniform(-45, -25))),
        torso_axes=(float(rng.uniform(165, 205)), float(rng.uniform(115, 145))),
        subcutaneous_mm=float(rng.uniform(8, 25)),
        chest_muscle_mm=float(rng.uniform(8, 16)),
        liver_centre=(float(rng.uniform(-85, -55)), float(rng.uniform(-85, -65))),
        liver_axes=(float(rng.uniform(85, 115)), float(rng.uniform(45, 65))),
        aorta_centre=(float(rng.uniform(-25, -5)), float(rng.uniform(-70, -58))),
        aorta_radius_mm=float(rng.uniform(9, 13)),
        fat_pad_centre=(float(rng.uniform(-45, -15)), float(rng.uniform(40, 55))),
        fat_pad_axes=(float(rng.uniform(20, 60)), float(rng.uniform(6, 24))),
        torso_harmonics=tuple((float(rng.uniform(0, 0.035)), float(rng.uniform(0, 2 * np.pi))) for _ in range(3)),
        stomach_centre=(float(rng.uniform(40, 80)), float(rng.uniform(-95, -70))),
        stomach_axes=(float(rng.uniform(25, 45)), float(rng.uniform(18, 30))) if rng.uniform() < 0.6 else (0.0, 0.0),
        lung_vessels=tuple((float(rng.uniform(-170, 170)), float(rng.uniform(-110, 110)), float(rng.uniform(1.5, 4.0)))
                           for _ in range(int(rng.integers(10, 25)))),
        warp=tuple(warp),
    )
