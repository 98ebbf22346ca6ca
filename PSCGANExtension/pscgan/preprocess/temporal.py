"""Temporal resampling of one periodic cardiac cycle to a fixed number of frames."""
from __future__ import annotations

import numpy as np


def resample_frames(frames: np.ndarray, n: int) -> np.ndarray:
    """(T, ...) -> (n, ...) float32 by a periodic cubic spline over one cycle.

    Frame t of the input sits at phase t/T of the cycle, frame k of the output at k/n, so output frame 0 is
    input frame 0 (end-diastole kept exactly) and the cycle wraps (frame T would be frame 0 again).
    """
    from scipy.interpolate import CubicSpline

    frames = np.asarray(frames, dtype=np.float32)
    if frames.ndim < 1 or frames.shape[0] < 2:
        raise ValueError(f"need at least 2 frames along axis 0, got shape {frames.shape}")
    n = int(n)
    if n < 1:
        raise ValueError(f"n must be positive, got {n}")
    t = frames.shape[0]
    if t == n:
        return frames.copy()
    closed = np.concatenate([frames, frames[:1]], axis=0).astype(np.float64)  # (T+1, ...)
    spline = CubicSpline(np.arange(t + 1, dtype=np.float64), closed, axis=0, bc_type="periodic")
    out = spline(np.arange(n, dtype=np.float64) * (t / n)).astype(np.float32)  # (n, ...)
    out[0] = frames[0]
    return out
