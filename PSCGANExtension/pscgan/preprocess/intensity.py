"""Intensity normalisation to [-1, 1] by robust percentiles."""
from __future__ import annotations

import numpy as np


def normalise(frames: np.ndarray, clip_percentiles: tuple[float, float] = (0.5, 99.5)) -> np.ndarray:
    """Any shape -> float32 in [-1, 1]: the low/high percentiles of all values map to -1/1, beyond is clipped.

    Falls back to min/max when the percentiles coincide; a constant input gives zeros.
    """
    x = np.asarray(frames, dtype=np.float32)
    if x.size == 0:
        return x.copy()
    lo, hi = np.percentile(x, [float(clip_percentiles[0]), float(clip_percentiles[1])])
    if not hi > lo:
        lo, hi = float(x.min()), float(x.max())
    if not hi > lo:
        return np.zeros_like(x)
    out = (np.clip(x.astype(np.float64), lo, hi) - lo) / (hi - lo) * 2.0 - 1.0  # float64: the ends are exactly +-1
    return np.clip(out, -1.0, 1.0).astype(np.float32)
