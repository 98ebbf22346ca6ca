"""Automatic RV insertion points from an image with bright blood (cine bSSFP or LGE) and the LV labels.

A heuristic, used only when neither the case's meta nor the user gives the insertion points:
  1. along 360 radial rays from the LV centre, the epicardial radius is the outer end of the first
     myocardial wall crossing (as in `pscgan.metrics.clinical`);
  2. outside the LV, "bright" pixels lie above  myocardium + `threshold_fraction` x (LV blood -
     myocardium), the medians of the image inside the labelled LV myocardium and blood pool, and
     below  the blood pool's `upper_percentile` + `upper_fraction` x (LV blood - myocardium): tissue
     brighter than any LV blood (fat in some cines) does not count as RV. The blood pool label holds
     papillary muscles and trabeculae, so its median lies below pure blood: a limit from the median
     alone cut the brightest RV blood (inflow) out;
  3. the bright pixels are opened with a disk of radius `opening_mm` (2 mm): a thin layer of epicardial
     fat, as bright as blood in a bSSFP cine, vanishes, and with it the thin bridges that joined the RV
     to fat around the rest of the heart; the RV cavity, several mm deep, stays. While the contact arc
     (step 5) is longer than `max_arc_deg`, thicker fat still joins it to tissue all around: the next,
     larger radius (3, then 4 mm) is tried;
  4. on each ray, the opened bright region filling most of the band `band_mm` outside the epicardium
     is the one the ray touches; the region touching the most rays is the RV (a bright neighbour
     separated from it by a dark line is another region and does not count);
  5. gaps of up to `max_gap_deg` are closed, and the longest contiguous arc of touching rays is the
     RV contact. Going counter-clockwise on screen (`pscgan.metrics.aha` convention, image not
     mirrored) the arc begins at the anterior insertion and ends at the inferior one; the points lie
     on the epicardium at those angles. The inferior end is the more reliable one: when the arc is
     longer than `max_septal_arc_deg` (140), a bright anterior neighbour (outflow tract, pulmonary
     artery, fat) is taken to be joined to it, and the anterior insertion is placed
     `septal_arc_deg` (120, the AHA model's two 60-degree septal segments) before the inferior one.
No detection (None) when the arc is shorter than `min_arc_deg` or longer than `max_arc_deg` (no
clear RV, or bright tissue all around), or without LV blood pool and myocardium. Check the result
on the picture: epicardial fat or a bright neighbouring structure can mislead it.

`study_insertions` applies it to every slice of a stack (image: the cine's first frame, labels: the
model's segmentation) with cross-slice consistency, and says per slice where the points used came
from (`SOURCES`): given by the user ("markup"), by the case's meta.json ("meta"), "detected", or the
documented 120-degree "default" (points on the epicardium at 120 and 240 degrees).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..errors import InputError
from ..labels import BLOOD_POOL, HEALTHY_MYOCARDIUM, SCAR
from .aha import DEFAULT_ANTERIOR_INSERTION_DEG, DEFAULT_SEPTAL_OFFSET_DEG, angle_deg
from .clinical import check_labels, check_spacing, lv_center
from .rays import first_wall_run, ray_distances, sample_rays


@dataclass(frozen=True)
class RVDetectionSettings:
    band_mm: tuple[float, float] = (2.0, 7.0)
    threshold_fraction: float = 0.5
    upper_fraction: float | None = 0.5  # ... and below the blood pool's upper_percentile + this x (LV blood -
    upper_percentile: float = 95.0  # myocardium): brighter than any LV blood is not RV (None: no upper limit)
    opening_mm: tuple[float, ...] = (2.0, 3.0, 4.0)  # bright layers thinner than about twice this (epicardial
    # fat) are not RV; the next radius is tried while the contact arc is longer than max_arc_deg
    max_gap_deg: int = 10
    min_arc_deg: int = 50
    max_arc_deg: int = 220
    max_septal_arc_deg: float = 140.0  # a longer contact arc is taken to include a bright anterior neighbour
    septal_arc_deg: float = 120.0  # ... and the anterior insertion is put this far before the inferior one
    ray_step_px: float = 0.25


@dataclass
class RVInsertion:
    anterior_rc: tuple[float, float]
    inferior_rc: tuple[float, float]
    arc_deg: float  # counter-clockwise angle from the anterior to the inferior insertion
    center_rc: tuple[float, float]


def _epicardial_radius(myo: np.ndarray, center: tuple[float, float], step: float) -> np.ndarray:
    """Outer radius (px) of the first wall crossing on each of 360 rays at k + 0.5 degrees; NaN if none."""
    dist = ray_distances(myo, center, step)  # (S,)
    hit = sample_rays(myo, center, np.arange(360) + 0.5, dist, outside=False)  # (360, S)
    has_wall, _, last = first_wall_run(hit, int(math.ceil(2.0 / step)))
    return np.where(has_wall, dist[last], np.nan)


MIN_POINT_RADIUS_PX = 1.0  # an insertion point nearer the LV centre than this has no usable angle


def _point_radii(radius: np.ndarray) -> np.ndarray:
    """The 360 rays' radii (px) at which insertion points are placed: the epicardial radius, NaN rays filled
    from their neighbours; where that is under MIN_POINT_RADIUS_PX (the LV centre on a fragment of wall, as
    in a predicted basal slice of real cine) the slice's median usable radius, and at least that minimum.
    Only the angle of a point orients the AHA segments; the radius keeps it off the centre."""
    angles = np.arange(360) + 0.5
    known = ~np.isnan(radius)
    filled = np.interp(angles, angles[known], radius[known], period=360)  # (360,)
    usable = filled >= MIN_POINT_RADIUS_PX
    fallback = max(float(np.median(filled[usable])) if usable.any() else 0.0, MIN_POINT_RADIUS_PX)
    return np.where(usable, filled, fallback)


def _disk(radius_px: float) -> np.ndarray:
    """Boolean disk of radius `radius_px` (a single pixel below 1)."""
    n = int(math.floor(radius_px))
    yy, xx = np.mgrid[-n:n + 1, -n:n + 1]
    return yy ** 2 + xx ** 2 <= radius_px ** 2


def _longest_circular_run(flags: np.ndarray) -> tuple[int, int] | None:
    """(start, length) of the longest run of True in a circular boolean array; None if none."""
    n = flags.size
    if not flags.any():
        return None
    if flags.all():
        return 0, n
    doubled = np.concatenate([flags, flags])
    best, start, run_start = (0, 0), None, 0
    for i, value in enumerate(doubled):
        if value and start is None:
            run_start, start = i, i
        if (not value or i == doubled.size - 1) and start is not None:
            end = i if not value else i + 1
            length = min(end - run_start, n)
            if length > best[1]:
                best = (run_start % n, length)
            start = None
    return best


def _close_gaps(flags: np.ndarray, max_gap: int) -> np.ndarray:
    """Set circular runs of False no longer than `max_gap` to True."""
    out = flags.copy()
    n = flags.size
    if flags.all() or not flags.any():
        return out
    first_true = int(np.argmax(flags))
    rolled = np.roll(flags, -first_true)
    i = 0
    while i < n:
        if not rolled[i]:
            j = i
            while j < n and not rolled[j]:
                j += 1
            if j - i <= max_gap:
                rolled[i:j] = True
            i = j
        else:
            i += 1
    return np.roll(rolled, first_true) | out


def _contact_run(bright: np.ndarray, rows: np.ndarray, cols: np.ndarray, inside: np.ndarray,
                 max_gap: int) -> tuple[int, int] | None:
    """(start ray, length) of the RV contact arc in the (opened) bright mask, sampled at rows / cols (360, B)."""
    components, _ = ndimage.label(bright)  # 4-connected bright regions outside the LV
    ids = np.where(inside, components[np.clip(rows, 0, bright.shape[0] - 1), np.clip(cols, 0, bright.shape[1] - 1)], 0)
    # each ray touches the component that fills most of its band (0 = none); the RV is the component
    # touching the most rays, so a bright neighbour separated from it by a dark line is not counted
    ray_component = np.zeros(360, dtype=np.int64)
    for k in range(360):
        hits = ids[k][ids[k] > 0]
        if hits.size * 2 >= ids.shape[1]:
            ray_component[k] = np.bincount(hits).argmax()
    if not ray_component.any():
        return None
    rv_component = np.bincount(ray_component[ray_component > 0]).argmax()
    return _longest_circular_run(_close_gaps(ray_component == rv_component, max_gap))


def _circular_distance(a: float, b: float) -> float:
    return abs((a - b + 180.0) % 360.0 - 180.0)


def _consensus_angle(angles: list[float], tolerance: float) -> float:
    """The angle of `angles` that most of them agree with (within `tolerance`); among those, the one with the
    smallest summed circular distance to the others (the medoid)."""
    return min(angles, key=lambda a: (-sum(_circular_distance(a, b) <= tolerance for b in angles),
                                      sum(_circular_distance(a, b) for b in angles)))


def epicardial_point(labels: np.ndarray, center_rc: tuple[float, float], angle: float,
                     step: float = RVDetectionSettings.ray_step_px) -> tuple[float, float] | None:
    """(row, col) of the epicardium at screen angle `angle` about `center_rc`; None without myocardium."""
    lab = check_labels(labels)
    radius = _epicardial_radius((lab == HEALTHY_MYOCARDIUM) | (lab == SCAR), center_rc, step)
    if np.isnan(radius).all():
        return None
    r = float(np.interp(angle % 360.0, np.arange(360) + 0.5, _point_radii(radius), period=360))
    a = math.radians(angle)
    return center_rc[0] - r * math.sin(a), center_rc[1] + r * math.cos(a)


SOURCES = ("detected", "markup", "meta", "default")


@dataclass
class SliceInsertion:
    """The RV insertion points used on one slice and where they came from (one of `SOURCES`).
    inferior_rc is None only when the user or meta.json gave an anterior point alone."""

    anterior_rc: tuple[float, float]
    inferior_rc: tuple[float, float] | None
    source: str
    note: str = ""  # e.g. why the points are not this slice's own detection


def _given(points, n: int, what: str) -> list:
    """Per-slice points from None, (2,) for all slices or (S, 2) (rows may be None / NaN for "not given")."""
    if points is None:
        return [None] * n
    rows = list(points) if not np.isscalar(points[0]) else [points] * n
    if len(rows) != n:
        raise InputError(f"{what}: {len(rows)} points for {n} slices")
    out = []
    for p in rows:
        if p is None or not np.all(np.isfinite(np.asarray(p, float))):
            out.append(None)
        else:
            r, c = (float(v) for v in p)
            out.append((r, c))
    return out


def study_insertions(images: np.ndarray, labels: np.ndarray, pixel_spacing_rc: tuple[float, float], *,
                     anterior_rc=None, inferior_rc=None, given_source: str = "markup",
                     max_disagreement_deg: float = 30.0,
                     settings: RVDetectionSettings = RVDetectionSettings()) -> list[SliceInsertion | None]:
    """Insertion points of every slice of a stack (images, labels: (S, R, C)); None for slices without myocardium.

    Given points (`anterior_rc` / `inferior_rc`: (2,) for every slice or (S, 2), None rows = not given)
    win, with source `given_source`. The other slices are detected; with three or more detected
    slices, a slice whose anterior or inferior angle is more than `max_disagreement_deg` from the
    stack's (the angle most detected slices agree with), or one where nothing was detected, takes the
    stack's angles on its own epicardium (still "detected", with a note). Without any detection the
    documented default is used (source "default").
    """
    if given_source not in SOURCES:
        raise InputError(f"RV insertion source {given_source!r}: must be one of {', '.join(SOURCES)}")
    lab = np.asarray(labels)
    imgs = np.asarray(images)
    n = lab.shape[0]
    if imgs.shape != lab.shape:
        raise InputError(f"RV insertion detection: images {imgs.shape} and labels {lab.shape} disagree")
    ant, inf = _given(anterior_rc, n, "RV anterior insertion"), _given(inferior_rc, n, "RV inferior insertion")
    out: list[SliceInsertion | None] = [None] * n
    centers: dict[int, tuple[float, float]] = {}
    found: dict[int, tuple[float, float]] = {}  # slice -> (anterior angle, inferior angle)
    for s in range(n):
        if not np.isin(lab[s], (HEALTHY_MYOCARDIUM, SCAR)).any():
            continue
        centers[s] = lv_center(lab[s])
        if ant[s] is not None:
            out[s] = SliceInsertion(ant[s], inf[s], given_source)
            continue
        hit = detect_rv_insertion(imgs[s], lab[s], pixel_spacing_rc, centers[s], settings)
        if hit is not None:
            found[s] = (angle_deg(hit.anterior_rc, centers[s]), angle_deg(hit.inferior_rc, centers[s]))
            out[s] = SliceInsertion(hit.anterior_rc, hit.inferior_rc, "detected")
    consensus = None
    if found:
        consensus = tuple(_consensus_angle([f[i] for f in found.values()], max_disagreement_deg) for i in (0, 1))
    for s, center in centers.items():
        if out[s] is not None and out[s].source != "detected":
            continue
        if s in found:
            off = max(_circular_distance(found[s][0], consensus[0]), _circular_distance(found[s][1], consensus[1]))
            if len(found) < 3 or off <= max_disagreement_deg:
                continue
            note = f"detection {off:.0f} degrees off the other slices: the stack's insertion angles used"
        elif consensus is not None:
            note = "not detected on this slice: the other slices' insertion angles used"
        else:
            anterior = epicardial_point(lab[s], center, DEFAULT_ANTERIOR_INSERTION_DEG)
            inferior = epicardial_point(lab[s], center, DEFAULT_ANTERIOR_INSERTION_DEG + 2 * DEFAULT_SEPTAL_OFFSET_DEG)
            out[s] = SliceInsertion(anterior, inferior, "default", "RV insertion not detected: default 120 degrees used")
            continue
        out[s] = SliceInsertion(epicardial_point(lab[s], center, consensus[0]),
                                epicardial_point(lab[s], center, consensus[1]), "detected", note)
    return out


def detect_rv_insertion(image: np.ndarray, labels: np.ndarray, pixel_spacing_rc: tuple[float, float],
                        center_rc: tuple[float, float] | None = None,
                        settings: RVDetectionSettings = RVDetectionSettings()) -> RVInsertion | None:
    """Anterior and inferior RV insertion points (row, col) or None when no clear RV contact is found."""
    lab = check_labels(labels)
    img = np.asarray(image, dtype=np.float64)
    if img.shape != lab.shape:
        raise InputError(f"RV insertion detection: image shape {img.shape} and labels shape {lab.shape} disagree")
    spacing = check_spacing(pixel_spacing_rc)
    myo = (lab == HEALTHY_MYOCARDIUM) | (lab == SCAR)
    blood = lab == BLOOD_POOL
    if not myo.any() or not blood.any():
        return None
    center = lv_center(lab) if center_rc is None else (float(center_rc[0]), float(center_rc[1]))
    blood_level, myo_level = float(np.median(img[blood])), float(np.median(img[myo]))
    if not blood_level > myo_level:
        return None  # blood not brighter than myocardium: not a bright-blood image
    threshold = myo_level + settings.threshold_fraction * (blood_level - myo_level)

    radius = _epicardial_radius(myo, center, settings.ray_step_px)
    if np.isnan(radius).all():
        return None
    angles = np.arange(360) + 0.5
    radius = _point_radii(radius)  # (360,) rays without wall filled, none at the centre

    px = math.sqrt(spacing[0] * spacing[1])
    band = np.arange(settings.band_mm[0], settings.band_mm[1] + 1e-9, px * 0.5) / px  # px beyond the epicardium
    theta = np.radians(angles)[:, None]
    dist = radius[:, None] + band[None, :]  # (360, B)
    rows = np.rint(center[0] - dist * np.sin(theta)).astype(np.int64)
    cols = np.rint(center[1] + dist * np.cos(theta)).astype(np.int64)
    inside = (rows >= 0) & (rows < img.shape[0]) & (cols >= 0) & (cols < img.shape[1])
    bright = (img > threshold) & ~ndimage.binary_dilation(myo | blood)
    if settings.upper_fraction is not None:  # brighter than any LV blood: fat in some cines
        top = float(np.percentile(img[blood], settings.upper_percentile))
        bright &= img < top + settings.upper_fraction * (blood_level - myo_level)
    for opening_mm in settings.opening_mm:  # a stronger opening while thick fat joins the RV to tissue all around
        run = _contact_run(ndimage.binary_opening(bright, _disk(opening_mm / px)), rows, cols, inside,
                           settings.max_gap_deg)
        if run is None or run[1] <= settings.max_arc_deg:
            break
    if run is None or not settings.min_arc_deg <= run[1] <= settings.max_arc_deg:
        return None
    start, length = run
    end = (start + length - 1) % 360

    def point(k: int, edge: float) -> tuple[float, float]:
        a = math.radians(edge)
        return center[0] - radius[k] * math.sin(a), center[1] + radius[k] * math.cos(a)

    anterior_deg = float(start)
    if length > settings.max_septal_arc_deg:
        anterior_deg = (end + 1 - settings.septal_arc_deg) % 360.0
    k_anterior = int(anterior_deg) % 360
    return RVInsertion(point(k_anterior, anterior_deg), point(end, float(end + 1)),
                       float((end + 1 - anterior_deg) % 360.0), center)
