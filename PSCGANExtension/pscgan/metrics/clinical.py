"""Clinical scar figures of one short-axis slice: areas, scar ratio, AHA segments, transmurality.

Labels: 0 other, 1 blood pool, 2 healthy myocardium, 3 scar (`pscgan.labels`). Coordinates and
the AHA orientation convention are those of `pscgan.metrics.aha` ((row, col), rows downwards,
anterior up, RV on the viewer's left, angles counter-clockwise on screen).

Definitions:
  * areas in cm2 = pixel count * row spacing * col spacing / 100; myocardium = healthy + scar.
  * scar ratio = scar / (scar + healthy myocardium), 0-1. Undefined (None) when the slice has
    no myocardium; never reported as 0 or NaN.
  * LV centre: centroid of the blood pool; the myocardium's centroid when there is no blood pool.
  * per segment (pixels assigned to a segment by their angle about the LV centre):
      scar_fraction = scar pixels / myocardium pixels of the segment (None without myocardium);
      transmurality = mean over the segment's radial rays (`rays_per_degree` rays per degree,
      starting from the LV centre) of (scar length / myocardium length) along the ray, counting
      only the first wall crossing (the myocardium first met going outwards, gaps of up to
      `wall_gap_px` pixels bridged), sampled every `ray_step_px` pixels with nearest-pixel
      lookup. Rays that never meet myocardium are left out; a segment without any is
      "not measured" (transmurality None).
      category: the transmurality rounded to a whole percent, binned 0, 1-25, 26-50, 51-75,
      76-100 (Bulluck et al. 2017); "not measured" without myocardium.
      has_scar: at least `has_scar_min_pixels` (3) scar pixels AND at least
      `has_scar_min_fraction` (1 %) of the segment's myocardium.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from ..errors import InputError, plain
from ..labels import BLOOD_POOL, HEALTHY_MYOCARDIUM, SCAR, checked_label_values
from .aha import SEGMENT_NAMES, aha_segment_map, check_level, sector_start_deg, segment_of_angles, segments_for_level
from .rays import first_wall_run, ray_distances, sample_rays

TRANSMURALITY_CATEGORIES: tuple[str, ...] = ("0", "1-25", "26-50", "51-75", "76-100")
NOT_MEASURED = "not measured"


@dataclass(frozen=True)
class QuantificationSettings:
    """Tunable parts of the slice quantification (defaults are the documented ones)."""

    rays_per_degree: int = 1
    ray_step_px: float = 0.25
    wall_gap_px: float = 2.0
    has_scar_min_pixels: int = 3
    has_scar_min_fraction: float = 0.01


DEFAULT_SETTINGS = QuantificationSettings()


@dataclass
class SegmentFigures:
    """Scar figures of one AHA segment on one slice."""

    segment: int
    name: str
    myocardium_pixels: int
    scar_pixels: int
    scar_fraction: float | None  # 0-1; None without myocardium
    transmurality_pct: float | None  # 0-100; None when no ray crosses myocardium
    category: str  # one of TRANSMURALITY_CATEGORIES or NOT_MEASURED
    has_scar: bool


@dataclass
class SliceQuantification:
    """Clinical figures of one slice. `center_rc` is None only for a slice without LV tissue."""

    scar_area_cm2: float
    myocardium_area_cm2: float  # healthy + scar
    blood_pool_area_cm2: float
    scar_ratio: float | None  # scar / (scar + healthy); None = undefined (no myocardium)
    level: str
    center_rc: tuple[float, float] | None
    segments: list[SegmentFigures] = field(default_factory=list)
    healthy_myocardium_area_cm2: float = 0.0
    anterior_insertion_rc: tuple[float, float] | None = None  # None: the documented default was used
    inferior_insertion_rc: tuple[float, float] | None = None
    insertion_source: str | None = None  # detected | markup | meta | default (pscgan.metrics.rv_insertion.SOURCES)

    def to_dict(self) -> dict:
        """JSON-ready dict (plain floats, lists; None stays None). The insertion points used are
        `rv_insertion_anterior_rc` / `rv_insertion_inferior_rc` ([row, col] in the input's pixel grid,
        as in a phantom's meta.json) and their origin `rv_insertion_source`."""
        out = asdict(self)
        renamed = {"anterior_insertion_rc": "rv_insertion_anterior_rc", "inferior_insertion_rc": "rv_insertion_inferior_rc",
                   "insertion_source": "rv_insertion_source"}
        for old, new in renamed.items():
            out[new] = out.pop(old)
        for key in ("center_rc", "rv_insertion_anterior_rc", "rv_insertion_inferior_rc"):
            if out[key] is not None:
                out[key] = [float(v) for v in out[key]]
        return out

    def segment(self, number: int) -> SegmentFigures:
        """The figures of AHA segment `number` (KeyError if the slice's level does not have it)."""
        for seg in self.segments:
            if seg.segment == number:
                return seg
        raise KeyError(number)


def check_labels(labels: np.ndarray, what: str = "labels") -> np.ndarray:
    """Return `labels` as an int16 (R, C) array, or raise InputError (not 2-D, non-integer, outside 0-3)."""
    arr = np.asarray(labels)
    if arr.ndim != 2 or min(arr.shape) < 1:
        raise InputError(f"{what}: expected a 2-D (rows, cols) label image, got shape {arr.shape}")
    return checked_label_values(arr, what).astype(np.int16)


def check_spacing(pixel_spacing_rc: tuple[float, float], what: str = "pixel spacing") -> tuple[float, float]:
    """Return (row, col) spacing in mm as floats, or raise InputError unless two positive finite numbers."""
    try:
        values = tuple(float(v) for v in pixel_spacing_rc)
    except (TypeError, ValueError):
        raise InputError(f"{what} {pixel_spacing_rc!r}: must be two numbers (row, col) in mm") from None
    if len(values) != 2 or not all(math.isfinite(v) and v > 0 for v in values):
        raise InputError(f"{what} {plain(values)}: must be two positive numbers (row, col) in mm")
    return values  # type: ignore[return-value]


def lv_center(labels: np.ndarray) -> tuple[float, float]:
    """Centroid (row, col) of the blood pool, or of the myocardium when there is no blood pool."""
    lab = check_labels(labels)
    for mask in (lab == BLOOD_POOL, (lab == HEALTHY_MYOCARDIUM) | (lab == SCAR)):
        if mask.any():
            rows, cols = np.nonzero(mask)
            return float(rows.mean()), float(cols.mean())
    raise InputError("labels: no blood pool or myocardium, so the LV centre is undefined")


def transmurality_category(pct: float | None) -> str:
    """Bin a transmurality (0-100 %) rounded to a whole percent: 0, 1-25, 26-50, 51-75, 76-100."""
    if pct is None:
        return NOT_MEASURED
    value = int(math.floor(float(pct) + 0.5))
    if value <= 0:
        return "0"
    for upper, name in zip((25, 50, 75), TRANSMURALITY_CATEGORIES[1:4]):
        if value <= upper:
            return name
    return "76-100"


def ray_transmurality(labels: np.ndarray, center_rc: tuple[float, float],
                      settings: QuantificationSettings = DEFAULT_SETTINGS) -> tuple[np.ndarray, np.ndarray]:
    """Per-ray transmurality of a label image.

    Returns (angles_deg (N,), fraction (N,)) with N = 360 * rays_per_degree rays at
    (k + 0.5) / rays_per_degree degrees; fraction is scar / myocardium length of the first wall
    crossing along each ray, NaN for rays that meet no myocardium.
    """
    lab = check_labels(labels)
    n_rays = 360 * int(settings.rays_per_degree)
    angles = (np.arange(n_rays) + 0.5) / settings.rays_per_degree  # (N,)
    r0, c0 = float(center_rc[0]), float(center_rc[1])
    dist = ray_distances((lab == HEALTHY_MYOCARDIUM) | (lab == SCAR), (r0, c0), settings.ray_step_px)  # (S,)
    sampled = sample_rays(lab, (r0, c0), angles, dist)  # (N, S)
    is_myo = (sampled == HEALTHY_MYOCARDIUM) | (sampled == SCAR)
    has_wall, first, last = first_wall_run(is_myo, int(math.ceil(settings.wall_gap_px / settings.ray_step_px)))
    steps = np.arange(dist.size)[None, :]
    wall = (steps >= first[:, None]) & (steps <= last[:, None])  # (N, S): the first wall crossing
    myo = (is_myo & wall).sum(axis=1)
    scar = ((sampled == SCAR) & wall).sum(axis=1)
    fraction = np.where(has_wall, scar / np.maximum(myo, 1), np.nan)
    return angles, fraction


def _empty_segments(level: str) -> list[SegmentFigures]:
    return [SegmentFigures(s, SEGMENT_NAMES[s], 0, 0, None, None, NOT_MEASURED, False) for s in segments_for_level(level)]


def quantify_slice(labels: np.ndarray, pixel_spacing_rc: tuple[float, float], level: str,
                   anterior_insertion_rc: tuple[float, float] | None = None,
                   inferior_insertion_rc: tuple[float, float] | None = None,
                   center_rc: tuple[float, float] | None = None,
                   settings: QuantificationSettings = DEFAULT_SETTINGS) -> SliceQuantification:
    """Scar area, myocardium and blood-pool areas, scar ratio and per-AHA-segment figures of one slice.

    `labels` (R, C) with values 0-3; `pixel_spacing_rc` in mm; `level` basal | mid | apical.
    Without an anterior insertion point the documented default (120 degrees) is used; without a
    centre, `lv_center(labels)`. A slice without any LV tissue gives zero areas, scar_ratio None,
    center_rc None and every segment "not measured".
    """
    lab = check_labels(labels)
    spacing = check_spacing(pixel_spacing_rc)
    level = check_level(level)
    pixel_cm2 = spacing[0] * spacing[1] / 100.0
    n_blood = int((lab == BLOOD_POOL).sum())
    n_healthy = int((lab == HEALTHY_MYOCARDIUM).sum())
    n_scar = int((lab == SCAR).sum())
    n_myo = n_healthy + n_scar
    scar_ratio = n_scar / n_myo if n_myo > 0 else None

    if center_rc is None and n_blood + n_myo == 0:
        return SliceQuantification(0.0, 0.0, 0.0, None, level, None, _empty_segments(level), 0.0,
                                   anterior_insertion_rc, inferior_insertion_rc)
    center = lv_center(lab) if center_rc is None else (float(center_rc[0]), float(center_rc[1]))

    seg_map = aha_segment_map(lab.shape, center, anterior_insertion_rc, level, inferior_insertion_rc)
    start = sector_start_deg(center, anterior_insertion_rc, level, inferior_insertion_rc)
    angles, ray_fraction = ray_transmurality(lab, center, settings)
    ray_segment = segment_of_angles(angles, start, level)

    segments = []
    myo_mask = (lab == HEALTHY_MYOCARDIUM) | (lab == SCAR)
    for number in segments_for_level(level):
        in_seg = seg_map == number
        seg_myo = int((myo_mask & in_seg).sum())
        seg_scar = int(((lab == SCAR) & in_seg).sum())
        fraction = seg_scar / seg_myo if seg_myo > 0 else None
        rays = ray_fraction[(ray_segment == number) & np.isfinite(ray_fraction)]
        transmural = float(100.0 * rays.mean()) if rays.size else None
        has_scar = (fraction is not None and seg_scar >= settings.has_scar_min_pixels
                    and fraction >= settings.has_scar_min_fraction)
        segments.append(SegmentFigures(number, SEGMENT_NAMES[number], seg_myo, seg_scar, fraction, transmural,
                                       transmurality_category(transmural), bool(has_scar)))

    return SliceQuantification(
        scar_area_cm2=n_scar * pixel_cm2,
        myocardium_area_cm2=n_myo * pixel_cm2,
        blood_pool_area_cm2=n_blood * pixel_cm2,
        scar_ratio=scar_ratio,
        level=level,
        center_rc=center,
        segments=segments,
        healthy_myocardium_area_cm2=n_healthy * pixel_cm2,
        anterior_insertion_rc=None if anterior_insertion_rc is None else tuple(float(v) for v in anterior_insertion_rc),
        inferior_insertion_rc=None if inferior_insertion_rc is None else tuple(float(v) for v in inferior_insertion_rc),
    )


def combine_segments(quantifications: list[SliceQuantification]) -> dict[int, SegmentFigures]:
    """Per AHA segment over several slices (e.g. for a bullseye): pixel counts summed, transmurality
    averaged over the slices where it was measured, has_scar if any slice has scar there.
    Segments that no slice covers are absent."""
    grouped: dict[int, list[SegmentFigures]] = {}
    for q in quantifications:
        for seg in q.segments:
            grouped.setdefault(seg.segment, []).append(seg)
    combined = {}
    for number, figs in sorted(grouped.items()):
        myo = sum(f.myocardium_pixels for f in figs)
        scar = sum(f.scar_pixels for f in figs)
        measured = [f.transmurality_pct for f in figs if f.transmurality_pct is not None]
        transmural = float(np.mean(measured)) if measured else None
        combined[number] = SegmentFigures(number, SEGMENT_NAMES[number], myo, scar, scar / myo if myo else None,
                                          transmural, transmurality_category(transmural),
                                          any(f.has_scar for f in figs))
    return combined
