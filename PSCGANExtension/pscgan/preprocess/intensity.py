"""Intensity normalisation to [-1, 1] by robust percentiles."""
from __future__ import annotations

import numpy as np


def normalise(frames: np.ndarray, clip_percentiles: tuple[float, float] = (0.5, 99.5), subsample: int = 1) -> np.ndarray:
    """Any shape -> float32 in [-1, 1]: the low/high percentiles of all values map to -1/1, beyond is clipped.

    Falls back to min/max when the percentiles coincide; a constant input gives zeros. `subsample` > 1 takes
    the percentiles from every subsample-th value along the last two axes only (a cheaper estimate, for the
    training-time randomisation of many batches; inference uses all values).
    """
    x = np.asarray(frames, dtype=np.float32)
    if x.size == 0:
        return x.copy()
    sample = x[..., ::subsample, ::subsample] if subsample > 1 and x.ndim >= 2 else x
    lo, hi = np.percentile(sample, [float(clip_percentiles[0]), float(clip_percentiles[1])])
    if not hi > lo:
        lo, hi = float(x.min()), float(x.max())
    if not hi > lo:
        return np.zeros_like(x)
    out = (np.clip(x.astype(np.float64), lo, hi) - lo) / (hi - lo) * 2.0 - 1.0  # float64: the ends are exactly +-1
    return np.clip(out, -1.0, 1.0).astype(np.float32)
