"""Checks every reader applies before handing out a CineStudy: enough frames, finite, not constant, sane geometry."""
from __future__ import annotations

import numpy as np

from ..errors import InputError

MIN_IMAGE_SIZE = 16  # rows and cols; smaller than this cannot hold a 64 px ROI worth of heart


def validate_cine_pixels(pixels: np.ndarray, source: str, min_frames: int = 8) -> np.ndarray:
    """Return `pixels` as float32 (S, T, R, C) or raise InputError naming `source` and the problem."""
    arr = np.asarray(pixels)
    if arr.ndim != 4:
        raise InputError(f"{source}: expected a cine of shape (slices, frames, rows, cols), got shape {arr.shape}")
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise InputError(f"{source}: pixel type {arr.dtype} is not numeric")
    s, t, r, c = arr.shape
    if s < 1 or r < 1 or c < 1:
        raise InputError(f"{source}: empty image (shape {arr.shape})")
    if t < min_frames:
        raise InputError(f"{source}: only {t} frame{'s' if t != 1 else ''}; a cine needs at least {min_frames}")
    if r < MIN_IMAGE_SIZE or c < MIN_IMAGE_SIZE:
        raise InputError(f"{source}: images of {r}x{c} pixels are too small for a cine (at least {MIN_IMAGE_SIZE}x{MIN_IMAGE_SIZE})")
    whole_numbers = not np.issubdtype(arr.dtype, np.inexact)  # always finite
    arr = np.ascontiguousarray(arr, dtype=np.float32)  # one copy at most; the reshapes below are views
    if not whole_numbers:
        bad = ~np.isfinite(arr)
        if bad.any():
            k, f = np.argwhere(bad)[0][:2]
            raise InputError(
                f"{source}: {int(bad.sum())} NaN or infinite pixel values (first in slice {k + 1}, frame {f + 1})",
            )
    frames = arr.reshape(s, t, -1)
    frame_max, frame_min = frames.max(axis=2), frames.min(axis=2)  # (S, T)
    constant = np.flatnonzero(frame_max.max(axis=1) == frame_min.min(axis=1))
    if constant.size:
        which = ", ".join(str(int(k) + 1) for k in constant[:8])
        raise InputError(f"{source}: slice {which} is constant (every pixel {frames[constant[0], 0, 0]:g}); no image content")
    blank = np.argwhere(frame_max == frame_min)  # (n, 2) slice, frame
    if blank.size:
        k, f = (int(v) for v in blank[0])
        raise InputError(f"{source}: frame {f + 1} of slice {k + 1} is blank (constant {frames[k, f, 0]:g}); {len(blank)} blank frame(s) in all")
    return arr


def validate_geometry(spacing, origin, direction, source: str) -> tuple[tuple[float, float, float], tuple[float, float, float], np.ndarray]:
    """Spacing positive and finite, origin finite, direction a 3x3 orthonormal matrix."""
    try:
        sp = tuple(float(v) for v in spacing)
        org = tuple(float(v) for v in origin)
        d = np.asarray(direction, dtype=float).reshape(3, 3)
    except (TypeError, ValueError) as err:
        raise InputError(f"{source}: unusable geometry ({err})") from None
    if len(sp) != 3 or len(org) != 3:
        raise InputError(f"{source}: spacing and origin need 3 values each, got {sp} and {org}")
    if not all(np.isfinite(v) and v > 0 for v in sp):
        raise InputError(f"{source}: pixel/slice spacing must be positive, got {sp}")
    if not all(np.isfinite(v) for v in org) or not np.isfinite(d).all():
        raise InputError(f"{source}: origin or direction contains NaN/infinite values")
    if not np.allclose(d.T @ d, np.eye(3), atol=1e-3):
        raise InputError(f"{source}: direction cosines are not orthonormal; inconsistent slice geometry")
    return sp, org, d


def validate_frame_interval(frame_interval_ms: float, source: str) -> float:
    value = float(frame_interval_ms)
    if not np.isfinite(value) or value <= 0:
        raise InputError(f"{source}: frame interval must be a positive number of milliseconds, got {frame_interval_ms}")
    return value
