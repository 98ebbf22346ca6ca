"""Image-similarity metrics of the LGE-equivalent image against the reference LGE.

All three take (reference, prediction) 2-D arrays of the same shape (the 64x64 ROI) and an
explicit `data_range`. The paper's images are normalised to [-1, 1], so the data range is 2
(`PAPER_DATA_RANGE`).

  * SSIM: Wang et al. 2004 — Gaussian-weighted local statistics (sigma 1.5, truncated at 3.5
    sigma: an 11-tap window), population (co)variances, K1 = 0.01, K2 = 0.03,
    C1 = (K1 L)^2, C2 = (K2 L)^2 with L = data_range; edges handled by mirror reflection and the
    mean taken over the pixels at least 5 pixels (half a window) from the border. Equivalent to
    scikit-image's `structural_similarity(gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False, data_range=L)`.
  * PSNR = 10 log10(L^2 / MSE) in dB; +inf for identical images.
  * NRMSE = sqrt(MSE) / normaliser, with normalisation
      "euclidean" (default, scikit-image's default): sqrt(mean(reference^2)),
      "min-max": max(reference) - min(reference),
      "mean": mean(reference).
"""
from __future__ import annotations

import math
from typing import Literal

import numpy as np
from scipy import ndimage

from ..errors import InputError

PAPER_DATA_RANGE = 2.0
SSIM_SIGMA = 1.5
SSIM_TRUNCATE = 3.5
SSIM_K1 = 0.01
SSIM_K2 = 0.03
Normalisation = Literal["euclidean", "min-max", "mean"]


def _pair(reference: np.ndarray, prediction: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray]:
    ref = np.asarray(reference, dtype=np.float64)
    pred = np.asarray(prediction, dtype=np.float64)
    if ref.shape != pred.shape:
        raise InputError(f"{what}: reference shape {ref.shape} and prediction shape {pred.shape} disagree")
    if ref.ndim != 2:
        raise InputError(f"{what}: expected 2-D images, got shape {ref.shape}")
    if not (np.all(np.isfinite(ref)) and np.all(np.isfinite(pred))):
        raise InputError(f"{what}: images contain NaN or infinite values")
    return ref, pred


def _check_range(data_range: float, what: str) -> float:
    value = float(data_range)
    if not (math.isfinite(value) and value > 0):
        raise InputError(f"{what}: data_range must be a positive number, got {data_range!r}")
    return value


def ssim(reference: np.ndarray, prediction: np.ndarray, data_range: float = PAPER_DATA_RANGE) -> float:
    """Mean structural similarity (Wang et al. 2004) of two 2-D images, in [-1, 1]."""
    ref, pred = _pair(reference, prediction, "SSIM")
    L = _check_range(data_range, "SSIM")
    radius = int(SSIM_TRUNCATE * SSIM_SIGMA + 0.5)  # 5 -> 11-tap window
    if min(ref.shape) < 2 * radius + 1:
        raise InputError(f"SSIM: images of shape {ref.shape} are smaller than the {2 * radius + 1}-pixel window")

    def blur(x: np.ndarray) -> np.ndarray:
        return ndimage.gaussian_filter(x, sigma=SSIM_SIGMA, truncate=SSIM_TRUNCATE, mode="reflect")

    mu_x, mu_y = blur(ref), blur(pred)
    var_x = blur(ref * ref) - mu_x * mu_x
    var_y = blur(pred * pred) - mu_y * mu_y
    cov = blur(ref * pred) - mu_x * mu_y
    c1, c2 = (SSIM_K1 * L) ** 2, (SSIM_K2 * L) ** 2
    s_map = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x ** 2 + mu_y ** 2 + c1) * (var_x + var_y + c2))
    return float(s_map[radius:-radius, radius:-radius].mean())


def mse(reference: np.ndarray, prediction: np.ndarray) -> float:
    """Mean squared error."""
    ref, pred = _pair(reference, prediction, "MSE")
    return float(np.mean((ref - pred) ** 2))


def psnr(reference: np.ndarray, prediction: np.ndarray, data_range: float = PAPER_DATA_RANGE) -> float:
    """Peak signal-to-noise ratio in dB, 10 log10(data_range^2 / MSE); +inf when the images are identical."""
    L = _check_range(data_range, "PSNR")
    err = mse(reference, prediction)
    if err == 0.0:
        return math.inf
    return float(10.0 * math.log10(L * L / err))


def nrmse(reference: np.ndarray, prediction: np.ndarray, normalisation: Normalisation = "euclidean") -> float:
    """Root-mean-squared error divided by the reference's norm (see the module docstring)."""
    ref, pred = _pair(reference, prediction, "NRMSE")
    if normalisation == "euclidean":
        denom = float(np.sqrt(np.mean(ref * ref)))
    elif normalisation == "min-max":
        denom = float(ref.max() - ref.min())
    elif normalisation == "mean":
        denom = float(ref.mean())
    else:
        raise InputError(f"NRMSE normalisation {normalisation!r}: must be euclidean, min-max or mean")
    if denom == 0.0:
        raise InputError(f"NRMSE: the reference image has zero {normalisation} norm, so NRMSE is undefined")
    return float(np.sqrt(np.mean((ref - pred) ** 2)) / denom)


def to_symmetric_unit_range(image: np.ndarray, what: str = "image") -> np.ndarray:
    """Min-max rescale to [-1, 1] (the paper's normalisation); a constant image raises InputError."""
    arr = np.asarray(image, dtype=np.float64)
    lo, hi = float(arr.min()), float(arr.max())
    if not hi > lo:
        raise InputError(f"{what}: constant image, cannot be normalised to [-1, 1]")
    return 2.0 * (arr - lo) / (hi - lo) - 1.0
