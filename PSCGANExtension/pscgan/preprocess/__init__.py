"""What the model needs from a cine: 25 frames, intensities in [-1, 1], a 64x64 ROI around the LV per slice,
and the inverse mapping that puts a 64x64 result back into the slice's full geometry.

Order per slice (prepare / prepare_slice): crop the ROI from every native frame (roi.crop_roi, order 1) ->
resample the cycle to cfg.frames (temporal.resample_frames) -> normalise the slice's ROI cine to [-1, 1]
(intensity.normalise with cfg.clip_percentiles). Training must use prepare_slice so it sees the same thing.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..io.study import CineStudy
from .config import PreprocessConfig
from .intensity import normalise
from .localise import LocaliseConfig, locate_lv
from .roi import crop_roi, native_to_roi, paste_back, roi_to_native
from .temporal import resample_frames

__all__ = [
    "LocaliseConfig",
    "PreprocessConfig",
    "RoiBatch",
    "check_centers",
    "crop_roi",
    "locate_lv",
    "native_to_roi",
    "normalise",
    "paste_back",
    "prepare",
    "prepare_slice",
    "resample_frames",
    "roi_to_native",
]


@dataclass
class RoiBatch:
    """cine (S, frames, roi, roi) float32 in [-1, 1]; centers_rc (S, 2) native pixel (row, col) ROI centres;
    pixel_spacing_rc (2,) native mm (row, col); cfg used; source_shape (R, C) of the native slices."""

    cine: np.ndarray
    centers_rc: np.ndarray
    pixel_spacing_rc: np.ndarray
    cfg: PreprocessConfig
    source_shape: tuple[int, int]
    automatic: bool = True  # centres from locate_lv (False: given by the user)


def pixel_spacing_rc(study: CineStudy) -> np.ndarray:
    """(row spacing, col spacing) mm: CineStudy.spacing is (col, row, slice)."""
    return np.array([float(study.spacing[1]), float(study.spacing[0])])


def prepare_slice(frames: np.ndarray, center_rc, spacing_rc, cfg: PreprocessConfig = PreprocessConfig()) -> np.ndarray:
    """One slice's cine (T, R, C) -> (cfg.frames, roi, roi) float32 in [-1, 1]."""
    roi = crop_roi(frames, center_rc, spacing_rc, cfg, order=1)  # (T, roi, roi)
    roi = resample_frames(roi, cfg.frames)  # (frames, roi, roi)
    return normalise(roi, cfg.clip_percentiles)


def check_centers(centers_rc, study: CineStudy) -> np.ndarray:
    """User-given centres: (2,) for all slices or (S, 2), finite and inside the image, else InputError."""
    s = study.num_slices
    r, c = study.slice_shape
    try:
        arr = np.asarray(centers_rc, dtype=float)
        arr = np.broadcast_to(arr, (s, 2)).copy() if arr.shape in ((2,), (1, 2)) else arr
    except (TypeError, ValueError):
        raise InputError(f"ROI centre {centers_rc!r}: expected (row, col) numbers") from None
    if arr.shape != (s, 2):
        raise InputError(f"ROI centre: expected one (row, col) or one per slice ({s}, 2), got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise InputError("ROI centre: contains NaN or infinite values")
    outside = np.flatnonzero((arr[:, 0] < 0) | (arr[:, 0] > r - 1) | (arr[:, 1] < 0) | (arr[:, 1] > c - 1))
    if outside.size:
        k = int(outside[0])
        raise InputError(
            f"ROI centre {arr[k].round(1).tolist()} of slice {k + 1} lies outside the {r}x{c} image of {study.source}",
        )
    return arr


def prepare(study: CineStudy, cfg: PreprocessConfig | None = None, centers_rc=None) -> RoiBatch:
    """The model input for every slice; user-given centres override the automatic LV localisation."""
    cfg = cfg or PreprocessConfig()
    if isinstance(cfg, dict):
        cfg = PreprocessConfig.from_dict(cfg)
    automatic = centers_rc is None
    centers = locate_lv(study) if automatic else check_centers(centers_rc, study)
    spacing_rc = pixel_spacing_rc(study)
    cine = np.stack([prepare_slice(study.pixels[k], centers[k], spacing_rc, cfg) for k in range(study.num_slices)])
    return RoiBatch(
        cine=cine.astype(np.float32),  # (S, frames, roi, roi)
        centers_rc=np.asarray(centers, float),
        pixel_spacing_rc=spacing_rc,
        cfg=cfg,
        source_shape=study.slice_shape,
        automatic=automatic,
    )
