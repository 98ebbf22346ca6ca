"""Rays from a centre through a label image, and the first wall each one crosses.

Shared by the transmurality (`clinical.ray_transmurality`) and the RV insertion detection
(`rv_insertion`): both read the myocardium along rays from the LV centre and take the first wall crossing,
where a wall ends at the first gap of more than `gap_samples` samples without myocardium.
"""
from __future__ import annotations

import numpy as np


def ray_distances(mask: np.ndarray, center_rc: tuple[float, float], step: float) -> np.ndarray:
    """Sample distances (S,) along rays from `center_rc`, every `step` px, just far enough to meet every True
    pixel of `mask`: a ray's sample takes its nearest pixel, whose centre lies within sqrt(2)/2 px of it, so
    beyond the farthest True pixel + 1 px no sample can meet one (rays across the whole image find the same walls)."""
    rows, cols = np.nonzero(mask)
    reach = float(np.hypot(rows - float(center_rc[0]), cols - float(center_rc[1])).max()) + 1.0 if rows.size else 0.0
    return np.arange(0.0, reach + step, step)


def sample_rays(image: np.ndarray, center_rc: tuple[float, float], angles_deg: np.ndarray, dist: np.ndarray,
                outside=0) -> np.ndarray:
    """(N, S) values of `image` at the nearest pixel to each point at `dist` (S,) along each ray at `angles_deg`
    (N,), counter-clockwise from +column with rows pointing down; `outside` where a point leaves the image."""
    r0, c0 = float(center_rc[0]), float(center_rc[1])
    theta = np.radians(np.asarray(angles_deg, float))[:, None]
    rows = np.rint(r0 - dist[None, :] * np.sin(theta)).astype(np.int64)  # (N, S)
    cols = np.rint(c0 + dist[None, :] * np.cos(theta)).astype(np.int64)
    inside = (rows >= 0) & (rows < image.shape[0]) & (cols >= 0) & (cols < image.shape[1])
    values = image[np.clip(rows, 0, image.shape[0] - 1), np.clip(cols, 0, image.shape[1] - 1)]
    return np.where(inside, values, outside)


def first_wall_run(hit: np.ndarray, gap_samples: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first run of wall along each ray: (has_wall (N,) bool, first (N,), last (N,) sample index).

    `hit` (N, S) bool marks wall samples. A run starts at the ray's first hit and ends at the first hit followed
    by more than `gap_samples` samples without a hit (or by the ray's end); first = last = 0 where no hit.
    """
    n, s = hit.shape
    position = np.where(hit, np.arange(s)[None, :], s + gap_samples + 2)  # (N, S); no hit: beyond any gap
    next_hit = np.minimum.accumulate(position[:, ::-1], axis=1)[:, ::-1]  # (N, S): first hit at or after s
    following = np.concatenate([next_hit[:, 1:], np.full((n, 1), s + gap_samples + 2)], axis=1)  # after s
    ends = hit & (following - np.arange(s)[None, :] > gap_samples + 1)
    has_wall = hit.any(axis=1)
    return has_wall, np.argmax(hit, axis=1), np.argmax(ends, axis=1)
