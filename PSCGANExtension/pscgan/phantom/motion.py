"""Cardiac motion over one cycle: contraction curve and per-angle endo/epicardial radii per frame.

Wall thickening at each angle = normal (1 - k * transmurality), smoothed circumferentially
(tethering to neighbouring tissue), so transmural scar is akinetic or bulges slightly outwards.
Myocardial area per angle grows with longitudinal shortening in proportion to local function
(3-D incompressibility seen in one plane); radii follow from area and thickness.
"""
from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

from .anatomy import HeartParams

ANGLE_BINS = 1440  # 0.25 degree
BIN_ANGLES_DEG = (np.arange(ANGLE_BINS) + 0.5) * 360.0 / ANGLE_BINS


def es_frame_of(frames: int, es_fraction: float) -> int:
    """Index of end-systole."""
    return int(np.clip(round(es_fraction * frames), 1, frames - 2))


def contraction_curve(frames: int, es_frame: int) -> np.ndarray:
    """(T,) contraction 0 at ED (frame 0), 1 at ES, back towards 0: ejection, rapid filling, diastasis, atrial kick."""
    phase = np.arange(frames) / frames
    es = es_frame / frames
    c = np.empty(frames)
    fill_end, kick_start = min(es + 0.25, 0.8), 0.85
    for i, p in enumerate(phase):
        if p <= es:
            c[i] = 0.5 * (1 - np.cos(np.pi * p / es))
        elif p <= fill_end:
            c[i] = 0.2 + 0.8 * 0.5 * (1 + np.cos(np.pi * (p - es) / (fill_end - es)))
        elif p <= kick_start:
            c[i] = 0.2 - 0.08 * (p - fill_end) / (kick_start - fill_end)
        else:
            c[i] = 0.12 * 0.5 * (1 + np.cos(np.pi * (p - kick_start) / (1 - kick_start)))
    return c


def ed_radii(heart: HeartParams, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(r_endo, wall) at ED per angle bin (mm) at the heart's slice position."""
    a = np.radians(BIN_ANGLES_DEG)
    scale = heart.size_scale
    shape = 1.0 + heart.ellipticity * np.cos(2 * (a - np.radians(heart.ellipse_angle_deg)))
    for order, (amp, ph) in enumerate(heart.endo_harmonics, start=3):
        shape += amp * np.cos(order * a + ph)
    r_endo = heart.r_endo_mm * scale * shape
    wall_shape = 1.0 - heart.septal_thinning * np.clip(-np.cos(a), 0, None) ** 2
    for order, (amp, ph) in enumerate(heart.wall_harmonics, start=1):
        wall_shape += amp * np.cos(order * a + ph)
    wall = heart.wall_mm * (1.0 - 0.3 * heart.position) * wall_shape
    wall *= 1.0 - heart.scar_thinning * np.clip(tau - 0.5, 0, None) * 2.0  # thinning of transmural scar
    return r_endo, wall


def thickening_profile(heart: HeartParams, tau: np.ndarray) -> np.ndarray:
    """(bins,) fractional wall thickening at ES: normal (1 - k tau), smoothed circumferentially."""
    th = heart.normal_thickening * (1.0 - heart.thickening_k * tau)
    sigma_bins = heart.tethering_deg * ANGLE_BINS / 360.0
    return gaussian_filter1d(th, sigma_bins, mode="wrap")


def wall_tables(heart: HeartParams, tau: np.ndarray, curve: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(r_endo, r_epi), each (T, bins) in mm, for every frame."""
    r_endo_ed, wall_ed = ed_radii(heart, tau)
    area_ed = (r_endo_ed + wall_ed) ** 2 - r_endo_ed ** 2  # (bins,) twice the sector area per radian
    th = thickening_profile(heart, tau)
    c = curve[:, None]  # (T, 1)
    wall = wall_ed[None, :] * (1.0 + th[None, :] * c)  # (T, bins)
    rel = th / heart.normal_thickening
    area = area_ed[None, :] * (1.0 + heart.longitudinal_shortening * c * rel[None, :])
    r_endo = np.maximum((area / wall - wall) / 2.0, 1.5)
    return r_endo, r_endo + wall
