"""Rasterise the phantom scene into a supersampled internal tissue map, frame by frame.

The body (static) is rendered once per case over the whole image; the heart (moving) only inside
a window around it, on top of the body. Grids are supersampled `ss` times per axis; the caller
block-averages signals and takes the majority label (partial volume).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .anatomy import BodyParams, HeartParams
from .motion import ANGLE_BINS, BIN_ANGLES_DEG
from .tissues import Tissue


@dataclass(frozen=True)
class Grid:
    """Output image geometry: shape (rows, cols), spacing (row, col) mm, supersampling factor."""

    rows: int
    cols: int
    spacing_rc: tuple[float, float]
    ss: int


def _inside_ellipse(x: np.ndarray, y: np.ndarray, centre: tuple[float, float], axes: tuple[float, float]) -> np.ndarray:
    return ((x - centre[0]) / axes[0]) ** 2 + ((y - centre[1]) / axes[1]) ** 2 < 1.0


def _box(x: np.ndarray, y: np.ndarray, centre: tuple[float, float], radius: float) -> tuple[slice, slice]:
    """Index box of the (affine) sample grid x, y that contains the disc (centre, radius)."""
    (dx_i, dx_j), (dy_i, dy_j) = (x[1, 0] - x[0, 0], x[0, 1] - x[0, 0]), (y[1, 0] - y[0, 0], y[0, 1] - y[0, 0])
    det = dx_i * dy_j - dx_j * dy_i
    px, py = centre[0] - x[0, 0], centre[1] - y[0, 0]
    i = (px * dy_j - py * dx_j) / det
    j = (dx_i * py - dy_i * px) / det
    half = radius / min(np.hypot(dx_i, dy_i), np.hypot(dx_j, dy_j)) + 2
    return (slice(int(max(i - half, 0)), int(max(i + half + 1, 0))),
            slice(int(max(j - half, 0)), int(max(j + half + 1, 0))))


def render_body(x: np.ndarray, y: np.ndarray, body: BodyParams) -> np.ndarray:
    """Static tissues (uint8, same shape as x) from heart-frame coordinates x, y (mm)."""
    wx, wy = x, y  # organ coordinates: smoothly displaced (no more perfect ellipses); the torso keeps its outline
    if body.warp:
        wx, wy = x.copy(), y.copy()
        for ax_, ay_, kx, ky, ph in body.warp:
            wave = np.sin(kx * x + ky * y + ph)
            wx += ax_ * wave
            wy += ay_ * wave
    t = np.full(x.shape, Tissue.AIR, dtype=np.uint8)
    ax, ay = body.torso_axes
    sub, mus = body.subcutaneous_mm, body.chest_muscle_mm
    # Torso outline: an ellipse with a few low-order harmonics (x, y scaled by the local radius).
    phi = np.arctan2((y - body.torso_centre[1]) / ay, (x - body.torso_centre[0]) / ax)
    radius = np.ones_like(phi)
    for order, (amp, ph) in enumerate(body.torso_harmonics, start=2):
        radius += amp * np.cos(order * phi + ph)
    xs = body.torso_centre[0] + (x - body.torso_centre[0]) / radius
    ys = body.torso_centre[1] + (y - body.torso_centre[1]) / radius
    t[_inside_ellipse(xs, ys, body.torso_centre, (ax, ay))] = Tissue.SUBCUTANEOUS_FAT
    t[_inside_ellipse(xs, ys, body.torso_centre, (ax - sub, ay - sub))] = Tissue.MUSCLE
    thorax = _inside_ellipse(xs, ys, body.torso_centre, (ax - sub - mus, ay - sub - mus))
    t[thorax] = Tissue.LUNG
    back = body.torso_centre[1] - 0.55 * (ay - sub)
    t[thorax & (y < back)] = Tissue.MUSCLE  # paraspinal muscles
    spine = (body.torso_centre[0] + 10.0, back + 8.0)
    t[_inside_ellipse(wx, wy, spine, (16.0, 14.0))] = Tissue.BONE
    liver_axes = body.liver_axes
    t[thorax & _inside_ellipse(wx, wy, body.liver_centre, (liver_axes[0] + 3, liver_axes[1] + 3))] = Tissue.MUSCLE  # diaphragm
    t[thorax & _inside_ellipse(wx, wy, body.liver_centre, liver_axes)] = Tissue.LIVER
    if min(body.stomach_axes) > 0:
        big = (body.stomach_axes[0] + 3, body.stomach_axes[1] + 3)
        t[thorax & _inside_ellipse(wx, wy, body.stomach_centre, big)] = Tissue.MUSCLE  # stomach wall
        t[thorax & _inside_ellipse(wx, wy, body.stomach_centre, body.stomach_axes)] = Tissue.STOMACH
    lung = t == Tissue.LUNG
    for vx, vy, vr in body.lung_vessels:
        box = _box(x, y, (vx, vy), vr)
        sub = t[box]
        sub[lung[box] & _inside_ellipse(x[box], y[box], (vx, vy), (vr, vr))] = Tissue.VESSEL_BLOOD
    t[_inside_ellipse(wx, wy, body.aorta_centre, (body.aorta_radius_mm, body.aorta_radius_mm))] = Tissue.VESSEL_BLOOD
    t[thorax & _inside_ellipse(wx, wy, body.fat_pad_centre, body.fat_pad_axes)] = Tissue.EPICARDIAL_FAT
    return t


def _angular_noise(seed: int, correlation_deg: float) -> np.ndarray:
    """(ANGLE_BINS,) smooth periodic Gaussian noise, SD 1, correlation length `correlation_deg`."""
    from scipy.ndimage import gaussian_filter1d

    noise = gaussian_filter1d(np.random.default_rng(seed).standard_normal(ANGLE_BINS),
                              correlation_deg * ANGLE_BINS / 360.0, mode="wrap")
    return noise / max(float(noise.std()), 1e-9)


class HeartRasteriser:
    """Polar lookup of the heart around the LV centre inside a fixed window of heart-frame samples."""

    def __init__(self, x: np.ndarray, y: np.ndarray, heart: HeartParams, tau: np.ndarray,
                 r_endo: np.ndarray, r_epi: np.ndarray, curve: np.ndarray, slab_scale: np.ndarray | None = None,
                 texture: np.ndarray | None = None):
        """slab_scale (same shape as x): heart size at each sample's depth in the slice relative to the
        slice centre (through-plane partial volume once blocks are averaged); texture (2, bins): the wall's
        own texture, value a[bin] + b[bin] (2 depth - 1), so it moves and thickens with the wall."""
        self.heart = heart
        self.tau = tau
        self.r_endo, self.r_epi, self.curve = r_endo, r_epi, curve
        self.inv_scale = None if slab_scale is None else (1.0 / slab_scale).astype(np.float32)
        self.texture_profiles = texture
        self.texture = None  # (window samples) float32 of the last frame, 0 outside the myocardium
        self.x0, self.y0 = x.astype(np.float32), y.astype(np.float32)  # window samples, heart frame at ED
        self._shift = None
        self._move_to(0.0, 0.0)
        a = BIN_ANGLES_DEG
        lo, hi = heart.rv_insertion_deg
        u = np.clip((a - lo) / (hi - lo), 0.0, 1.0) ** heart.rv_skew
        self.in_rv = (a > lo) & (a < hi)
        self.rv_profile = np.where(self.in_rv, np.sin(np.pi * u) ** 0.6, 0.0)  # (bins,)
        outside = np.maximum(lo - a, a - hi)  # degrees outside the RV span
        self.rv_wall_profile = np.where(self.in_rv, 1.0, np.clip(1.0 - outside / 8.0, 0.0, 1.0))
        groove = sum(g * np.exp(-0.5 * ((a - c) / 12.0) ** 2) for g, c in zip(heart.groove_fat_mm, (lo, hi)))
        ar = np.radians(a)
        p = heart.trabeculation_phases
        if heart.pattern_seed is None:  # phantom-1.2: regular trabeculation, fat all around
            self.fat = heart.fat_mm * (1.0 + 0.5 * np.cos(np.radians(3 * a) + p[0])) + groove
            pattern = np.clip(np.sin(13 * ar + p[0]) + 0.7 * np.sin(23 * ar + p[1]) + 0.5 * np.sin(37 * ar + p[2]), 0, None)
        else:  # irregular trabeculae of varied width; epicardial fat in patches (absent over ~30 % of the wall)
            self.fat = heart.fat_mm * np.clip(1.0 + 1.2 * _angular_noise(heart.pattern_seed, 25.0), 0.0, 3.0) + groove
            pattern = 1.1 * np.clip(_angular_noise(heart.pattern_seed + 1, 2.0), 0, None)
        lateral = 0.35 + 0.65 * (1.0 + np.cos(ar - np.radians(300.0))) / 2.0  # more trabeculation inferolaterally
        self.trabeculation = heart.trabeculation_mm * heart.size_scale * pattern / 2.2 * lateral

    def _move_to(self, dx: float, dy: float) -> None:
        """Polar lookup around the heart displaced by (dx, dy) mm (translation during the cycle)."""
        if (dx, dy) == self._shift:
            return
        self._shift = (dx, dy)
        self.x, self.y = self.x0 - dx, self.y0 - dy
        angle = np.degrees(np.arctan2(self.y, self.x)) % 360.0
        if self.inv_scale is not None:  # a smaller heart at this depth: the sample lies relatively further out
            self.x, self.y = self.x * self.inv_scale, self.y * self.inv_scale
        self.rho = np.hypot(self.x, self.y)
        self.bin = np.minimum((angle * ANGLE_BINS / 360.0).astype(np.int32), ANGLE_BINS - 1)

    @staticmethod
    def window_radius(heart: HeartParams, r_epi_ed: np.ndarray) -> float:
        """Radius (mm) that contains the heart in every frame."""
        return float(r_epi_ed.max() + heart.rv_depth_mm + heart.rv_wall_mm * 1.5 + heart.fat_mm * 1.5
                     + max(heart.groove_fat_mm) + float(np.hypot(*heart.translation_mm)) + 8.0)

    def frame(self, t: int, background: np.ndarray) -> np.ndarray:
        """Tissue values of the window samples at frame t, painted over `background`."""
        h = self.heart
        c = self.curve[t]
        self._move_to(float(c * h.translation_mm[0]), float(c * h.translation_mm[1]))
        b = self.bin
        rho = self.rho
        re = self.r_endo[t][b]
        rp = self.r_epi[t][b]
        u = rho - rp
        tissue = background.copy()
        rv_depth = h.rv_depth_mm * (1.0 - 0.7 * h.position) * (1.0 - h.rv_contraction * c)
        rv_outer = rv_depth * self.rv_profile[b]
        rv_wall = h.rv_wall_mm * (1.0 + 0.3 * c) * self.rv_wall_profile[b]
        fat = self.fat[b]
        in_rv = self.in_rv[b]
        rv_fat_start = rv_outer + rv_wall
        fat_mask = (u > 0) & np.where(in_rv, (u >= rv_fat_start) & (u < rv_fat_start + 0.6 * fat),
                                      (u < fat + rv_wall))
        tissue[fat_mask] = Tissue.EPICARDIAL_FAT
        tissue[(u > 0) & (u >= rv_outer) & (u < rv_outer + rv_wall)] = Tissue.RV_WALL
        tissue[in_rv & (u > 0) & (u < rv_outer)] = Tissue.RV_BLOOD
        myo = (rho >= re) & (u <= 0)
        tissue[myo] = Tissue.MYOCARDIUM
        depth = (rho ** 2 - re ** 2) / np.maximum(rp ** 2 - re ** 2, 1e-6)  # wall area fraction 0-1
        tissue[myo & (depth < self.tau[b])] = Tissue.SCAR
        if self.texture_profiles is not None:
            a, slope = self.texture_profiles
            self.texture = np.zeros(rho.shape, dtype=np.float32)
            self.texture[myo] = a[b[myo]] + slope[b[myo]] * (2.0 * depth[myo] - 1.0)
        tissue[rho < re] = Tissue.LV_BLOOD
        trab = self.trabeculation[b] * (1.0 - 0.5 * c)
        tissue[(rho < re) & (rho >= re - trab)] = Tissue.TRABECULAE
        for ang, depth, radius in h.trabecular_islands:  # muscle bundles in the pool, following the wall
            k = min(int(ang * ANGLE_BINS / 360.0), ANGLE_BINS - 1)
            r = radius * h.size_scale * (1.0 + 0.3 * c)
            dist = self.r_endo[t][k] - (depth * (1.0 - 0.4 * c) + r) * h.size_scale
            if dist > 2 * r:  # depth < 0: the bundle merges with the wall (ragged endocardial border)
                px, py = dist * np.cos(np.radians(ang)), dist * np.sin(np.radians(ang))
                tissue[((self.x - px) ** 2 + (self.y - py) ** 2 < r ** 2) & (rho < re)] = Tissue.TRABECULAE
        if h.has_papillary:
            for ang in h.papillary_angles_deg:
                k = min(int(ang * ANGLE_BINS / 360.0), ANGLE_BINS - 1)
                radius = min(h.papillary_radius_mm * h.size_scale, 0.25 * self.r_endo[0][k]) * (1.0 + 0.35 * c)
                dist = self.r_endo[t][k] - 0.6 * radius
                px, py = dist * np.cos(np.radians(ang)), dist * np.sin(np.radians(ang))
                tissue[(self.x - px) ** 2 + (self.y - py) ** 2 < radius ** 2] = Tissue.PAPILLARY
        return tissue


def block_mean(a: np.ndarray, ss: int) -> np.ndarray:
    """(H*ss, W*ss) -> (H, W) mean of each ss x ss block."""
    h, w = a.shape[0] // ss, a.shape[1] // ss
    return a.reshape(h, ss, w * ss).sum(axis=1).reshape(h, w, ss).sum(axis=2) / (ss * ss)


def block_majority(a: np.ndarray, ss: int, n_values: int) -> np.ndarray:
    """(H*ss, W*ss) integer map -> (H, W) uint8 most frequent value per block (ties: lowest value)."""
    h, w = a.shape[0] // ss, a.shape[1] // ss
    block = (np.arange(h)[:, None, None, None] * w + np.arange(w)[None, None, :, None])  # (h, 1, w, 1)
    keys = (np.broadcast_to(block, (h, ss, w, ss)).reshape(-1) * n_values + a.reshape(-1))
    counts = np.bincount(keys, minlength=h * w * n_values).reshape(h, w, n_values)
    return counts.argmax(axis=2).astype(np.uint8)
