"""The ROI mapping between a slice's native pixel grid and the model's roi_size x roi_size window.

One affine map, used both ways (scipy.ndimage.map_coordinates samples it):
    native_rc = center_rc + (roi_index - roi_size // 2) * step_rc,   step_rc = roi_spacing_mm / pixel_spacing_rc
(step = 1 native pixel when cfg.roi_spacing_mm is None). ROI pixel (roi_size//2, roi_size//2) sits exactly on
the centre, so with an integer centre and native cropping the ROI samples native pixels exactly.
crop_roi samples the image at native_rc(roi grid); paste_back samples the ROI at the inverse,
roi_index = (native_rc - center_rc) / step_rc + roi_size // 2, for every native pixel.
Labels use order 0 (nearest). For labels, crop(paste(x)) == x when the ROI lies inside the image and the native
pixels are not coarser than the ROI's (every ROI pixel is then the nearest ROI pixel of some native pixel).
"""
from __future__ import annotations

import numpy as np

from .config import PreprocessConfig


def roi_step_rc(pixel_spacing_rc, cfg: PreprocessConfig) -> np.ndarray:
    """Native pixels per ROI pixel along rows and cols, (2,)."""
    sp = np.asarray(pixel_spacing_rc, dtype=float).reshape(2)
    if cfg.roi_spacing_mm is None:
        return np.ones(2)
    return float(cfg.roi_spacing_mm) / sp


def roi_to_native(roi_rc: np.ndarray, center_rc, pixel_spacing_rc, cfg: PreprocessConfig) -> np.ndarray:
    """ROI index coordinates (..., 2) -> native (row, col) coordinates (..., 2)."""
    step = roi_step_rc(pixel_spacing_rc, cfg)
    return np.asarray(center_rc, float).reshape(2) + (np.asarray(roi_rc, float) - cfg.roi_size // 2) * step


def native_to_roi(native_rc: np.ndarray, center_rc, pixel_spacing_rc, cfg: PreprocessConfig) -> np.ndarray:
    """Inverse of roi_to_native."""
    step = roi_step_rc(pixel_spacing_rc, cfg)
    return (np.asarray(native_rc, float) - np.asarray(center_rc, float).reshape(2)) / step + cfg.roi_size // 2


def _sample(planes: np.ndarray, rows: np.ndarray, cols: np.ndarray, order: int, fill: float | None) -> np.ndarray:
    """planes (N, R, C) sampled at (rows, cols) grids (H, W) -> (N, H, W)."""
    from scipy.ndimage import map_coordinates

    mode = "nearest" if fill is None else "constant"
    cval = 0.0 if fill is None else float(fill)
    coords = np.stack([rows, cols])  # (2, H, W)
    out = np.empty((planes.shape[0],) + rows.shape, dtype=np.float32)
    for n, plane in enumerate(planes):
        out[n] = map_coordinates(plane, coords, order=order, mode=mode, cval=cval, prefilter=order > 1)
    return out


def crop_roi(
    image: np.ndarray,
    center_rc,
    pixel_spacing_rc,
    cfg: PreprocessConfig = PreprocessConfig(),
    order: int = 1,
    fill: float | None = None,
) -> np.ndarray:
    """(..., R, C) -> (..., roi_size, roi_size) float32 around center_rc (native pixel coordinates).

    order 1 for images, 0 for labels. Outside the image: edge values (fill=None) or `fill`.
    Images (order >= 1) sampled more coarsely than their native pixels are first smoothed with a Gaussian of
    sigma = (step - 1) / 2 native pixels per axis (anti-aliasing, e.g. 0.7 mm interpolated cine -> 1.6 mm ROI).
    """
    from scipy.ndimage import gaussian_filter

    image = np.asarray(image)
    lead, (r, c) = image.shape[:-2], image.shape[-2:]
    n = cfg.roi_size
    grid = np.stack(np.meshgrid(np.arange(n), np.arange(n), indexing="ij"), axis=-1)  # (n, n, 2) ROI indices
    native = roi_to_native(grid, center_rc, pixel_spacing_rc, cfg)  # (n, n, 2)
    planes = image.reshape((-1, r, c)).astype(np.float32, copy=False)
    sigma = np.maximum(roi_step_rc(pixel_spacing_rc, cfg) - 1.0, 0.0) / 2.0
    if order >= 1 and (sigma > 0.25).any():  # below a quarter pixel the blur is negligible: skip it
        planes = np.stack([gaussian_filter(p, sigma=sigma, mode="nearest") for p in planes])
    out = _sample(planes, native[..., 0], native[..., 1], order, fill)  # (N, n, n)
    return out.reshape(lead + (n, n))


def paste_back(
    roi: np.ndarray,
    center_rc,
    pixel_spacing_rc,
    source_shape,
    cfg: PreprocessConfig = PreprocessConfig(),
    order: int = 1,
    fill: float = 0.0,
) -> np.ndarray:
    """(..., roi_size, roi_size) -> (..., R, C) float32: the ROI put back at its place in the native slice.

    Native pixels outside the ROI window get `fill`. Exact inverse geometry of crop_roi.
    """
    roi = np.asarray(roi)
    n = cfg.roi_size
    if roi.shape[-2:] != (n, n):
        raise ValueError(f"ROI of shape {roi.shape[-2:]} does not match roi_size {n}")
    r, c = (int(v) for v in source_shape)
    lead = roi.shape[:-2]
    planes = roi.reshape((-1, n, n)).astype(np.float32, copy=False)
    out = np.full((planes.shape[0], r, c), fill, dtype=np.float32)
    # only the native pixels of the window's bounding box are sampled (the window is a small part of the slice)
    ends = roi_to_native(np.array([[-0.5, -0.5], [n - 0.5, n - 0.5]]), center_rc, pixel_spacing_rc, cfg)  # (2, 2)
    r0, c0 = (max(0, int(np.floor(v))) for v in ends.min(axis=0))
    # + 1: a pixel on the window's far edge, which rounding of the two maps could count as inside
    r1, c1 = min(r, int(np.ceil(ends[:, 0].max())) + 1), min(c, int(np.ceil(ends[:, 1].max())) + 1)
    if r0 < r1 and c0 < c1:  # else the window lies outside the slice
        grid = np.stack(np.meshgrid(np.arange(r0, r1), np.arange(c0, c1), indexing="ij"), axis=-1)  # (h, w, 2) native indices
        at = native_to_roi(grid, center_rc, pixel_spacing_rc, cfg)  # (h, w, 2) in ROI index coordinates
        box = _sample(planes, at[..., 0], at[..., 1], order, None)  # edge-extended, then masked below
        box[:, ~((at > -0.5) & (at < n - 0.5)).all(axis=-1)] = fill  # native pixels the window does not cover
        out[:, r0:r1, c0:c1] = box
    return out.reshape(lead + (r, c))
