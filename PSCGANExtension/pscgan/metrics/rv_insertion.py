"""Automatic RV insertion points from an image with bright blood (cine bSSFP or LGE) and the LV labels.

A heuristic, used only when neither the case's meta nor the user gives the insertion points:
  1. along 360 radial rays from the LV centre, the epicardial radius is the outer end of the first
     myocardial wall crossing (as in `pscgan.metrics.clinical`);
  2. the image is sampled in a band `band_mm` outside the epicardium on each ray; a ray "touches
     the RV" when the band's median lies above  myocardium + `threshold_fraction` x (LV blood -
     myocardium), the medians of the image inside the labelled LV myocardium and blood pool;
  3. gaps of up to `max_gap_deg` are closed, and the longest contiguous arc of touching rays is the
     RV contact. Going counter-clockwise on screen (`pscgan.metrics.aha` convention, image not
     mirrored) the arc begins at the anterior insertion and ends at the inferior one; the points lie
     on the epicardium at those angles. The inferior end is the more reliable one: when the arc is
     longer than `max_septal_arc_deg` (140), a bright anterior neighbour (outflow tract, pulmonary
     artery, fat) is taken to be joined to it, and the anterior insertion is placed
     `septal_arc_deg` (120, the AHA model's two 60-degree septal segments) before the inferior one.
No detection (None) when the arc is shorter than `min_arc_deg` or longer than `max_arc_deg` (no
clear RV, or bright tissue all around), or without LV blood pool and myocardium. Check the result
on the picture: epicardial fat or a bright neighbouring structure can mislead it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..errors import InputError
from ..labels import BLOOD_POOL, HEALTHY_MYOCARDIUM, SCAR
from .clinical import check_labels, check_spacing, lv_center


@dataclass(frozen=True)
class RVDetectionSettings:
    band_mm: tuple[float, float] = (2.0, 7.0)
    threshold_fraction: float = 0.5
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
    r0, c0 = center
    max_radius = math.hypot(*myo.shape)
    dist = np.arange(0.0, max_radius, step)  # (S,)
    theta = np.radians(np.arange(360) + 0.5)[:, None]
    rows = np.rint(r0 - dist * np.sin(theta)).astype(np.int64)  # (360, S)
    cols = np.rint(c0 + dist * np.cos(theta)).astype(np.int64)
    inside = (rows >= 0) & (rows < myo.shape[0]) & (cols >= 0) & (cols < myo.shape[1])
    hit = inside & myo[np.clip(rows, 0, myo.shape[0] - 1), np.clip(cols, 0, myo.shape[1] - 1)]
    radius = np.full(360, np.nan)
    gap = int(math.ceil(2.0 / step))
    for k in range(360):
        idx = np.flatnonzero(hit[k])
        if idx.size:
            breaks = np.flatnonzero(np.diff(idx) > gap + 1)
            radius[k] = dist[idx[breaks[0]] if breaks.size else idx[-1]]
    return radius


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
    known = ~np.isnan(radius)
    radius = np.interp(angles, angles[known], radius[known], period=360)  # fill rays without wall

    px = math.sqrt(spacing[0] * spacing[1])
    band = np.arange(settings.band_mm[0], settings.band_mm[1] + 1e-9, px * 0.5) / px  # px beyond the epicardium
    theta = np.radians(angles)[:, None]
    dist = radius[:, None] + band[None, :]  # (360, B)
    rows = np.rint(center[0] - dist * np.sin(theta)).astype(np.int64)
    cols = np.rint(center[1] + dist * np.cos(theta)).astype(np.int64)
    inside = (rows >= 0) & (rows < img.shape[0]) & (cols >= 0) & (cols < img.shape[1])
    bright = (img > threshold) & ~ndimage.binary_dilation(myo | blood)
    components, _ = ndimage.label(bright)  # 4-connected bright regions outside the LV
    ids = np.where(inside, components[np.clip(rows, 0, img.shape[0] - 1), np.clip(cols, 0, img.shape[1] - 1)], 0)
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
    touching = ray_component == rv_component
    touching = _close_gaps(touching, settings.max_gap_deg)
    run = _longest_circular_run(touching)
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
