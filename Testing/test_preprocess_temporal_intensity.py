"""Temporal resampling over one periodic cycle and [-1, 1] normalisation."""
from __future__ import annotations

import numpy as np
import pytest

from pscgan.preprocess import normalise, resample_frames


def _sinusoid(n: int, phase: float = 0.4) -> np.ndarray:
    t = np.arange(n) / n
    pattern = np.random.default_rng(0).random((6, 5))
    return (np.sin(2 * np.pi * t + phase)[:, None, None] * pattern + 3.0).astype(np.float32)  # (n, 6, 5)


def test_20_to_25_keeps_frame_zero():
    frames = np.random.default_rng(1).random((20, 8, 7)).astype(np.float32)
    out = resample_frames(frames, 25)
    assert out.shape == (25, 8, 7) and out.dtype == np.float32
    np.testing.assert_array_equal(out[0], frames[0])


@pytest.mark.parametrize("t_in,t_out", [(20, 25), (30, 25), (12, 25)])
def test_sinusoid_stays_a_sinusoid(t_in, t_out):
    out = resample_frames(_sinusoid(t_in), t_out)
    np.testing.assert_allclose(out, _sinusoid(t_out), atol=2e-3)


def test_same_count_is_identity_and_input_checked():
    frames = _sinusoid(25)
    np.testing.assert_array_equal(resample_frames(frames, 25), frames)
    with pytest.raises(ValueError):
        resample_frames(frames[:1], 25)


def test_normalise_range_and_percentiles():
    x = np.arange(1000, dtype=np.float64).reshape(10, 10, 10)
    out = normalise(x, (0.5, 99.5))
    assert out.dtype == np.float32
    assert out.min() == -1.0 and out.max() == 1.0
    lo, hi = np.percentile(x, [0.5, 99.5])
    mid = x.ravel()[500]
    assert out.ravel()[500] == pytest.approx(2 * (mid - lo) / (hi - lo) - 1, abs=1e-6)
    assert np.all(np.diff(out.ravel()) >= 0)  # monotonic


def test_normalise_clips_outliers_and_handles_constant():
    x = np.random.default_rng(3).normal(size=(25, 32, 32))
    x[0, 0, 0] = 1e6
    out = normalise(x)
    assert out.max() == 1.0 and out.min() == -1.0
    assert np.median(out) == pytest.approx(0.0, abs=0.05)  # the outlier did not squash the range
    np.testing.assert_array_equal(normalise(np.full((4, 4), 5.0)), np.zeros((4, 4), np.float32))
