"""CineStudy: one short-axis cine study, whatever file it came from."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class CineStudy:
    """A short-axis cine stack in physical space.

    pixels: float32 array (slices, frames, rows, cols).
    Geometry follows ITK / DICOM conventions in LPS millimetres:
      spacing   = (col spacing, row spacing, slice spacing)  i.e. along index axes (i, j, k)
      origin    = position of pixel [k=0, j=0, i=0] (centre of the first voxel)
      direction = 3x3 matrix whose COLUMNS are the unit vectors of the i (column), j (row) and
                  k (slice) index axes, as in SimpleITK's GetDirection() reshaped to 3x3.
    So the LPS position of pixels[k, t, j, i] is origin + direction @ (spacing * (i, j, k)).
    frame_interval_ms: time between frames (cardiac cycle / frames).
    source: where it came from (a path or a short description), for messages.
    """

    pixels: np.ndarray
    spacing: tuple[float, float, float] = (1.0, 1.0, 1.0)
    origin: tuple[float, float, float] = (0.0, 0.0, 0.0)
    direction: np.ndarray = field(default_factory=lambda: np.eye(3))
    frame_interval_ms: float = 40.0
    source: str = "<array>"

    @property
    def num_slices(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def num_frames(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def slice_shape(self) -> tuple[int, int]:
        return int(self.pixels.shape[2]), int(self.pixels.shape[3])

    def index_to_lps(self, i: float, j: float, k: float) -> np.ndarray:
        """Physical LPS position of a (continuous) voxel index (column i, row j, slice k)."""
        d = np.asarray(self.direction, dtype=float).reshape(3, 3)
        return np.asarray(self.origin, float) + d @ (np.asarray(self.spacing, float) * np.array([i, j, k], float))


def validated_study(
    pixels: np.ndarray,
    spacing,
    origin,
    direction,
    frame_interval_ms: float,
    source: str,
    min_frames: int = 8,
) -> CineStudy:
    """Build a CineStudy after the shared input checks (io/validate.py); raises InputError naming `source`."""
    from .validate import validate_cine_pixels

    arr = validate_cine_pixels(pixels, source, min_frames)  # contiguous float32
    return _with_checked_geometry(arr, spacing, origin, direction, frame_interval_ms, source)


def study_with_geometry(study: CineStudy, spacing, frame_interval_ms: float, source: str) -> CineStudy:
    """A validated `study` with another spacing, frame interval and source (those checked as validated_study
    does); its pixels, already checked, are not checked again."""
    return _with_checked_geometry(study.pixels, spacing, study.origin, study.direction, frame_interval_ms, source)


def _with_checked_geometry(pixels: np.ndarray, spacing, origin, direction, frame_interval_ms: float, source: str) -> CineStudy:
    """A CineStudy of checked pixels, its geometry and frame interval checked here (io/validate.py)."""
    from .validate import validate_frame_interval, validate_geometry

    sp, org, d = validate_geometry(spacing, origin, direction, source)
    return CineStudy(pixels=pixels, spacing=sp, origin=org, direction=d,
                     frame_interval_ms=validate_frame_interval(frame_interval_ms, source), source=str(source))


def study_with_pixels(study: CineStudy, pixels: np.ndarray) -> CineStudy:
    """A copy of `study`'s geometry holding other pixels (same slices, rows and cols; any frame count)."""
    pixels = np.asarray(pixels, dtype=np.float32)
    if pixels.ndim != 4 or pixels.shape[0] != study.pixels.shape[0] or pixels.shape[2:] != study.pixels.shape[2:]:
        raise ValueError(f"pixels of shape {pixels.shape} do not fit the study's {study.pixels.shape}")
    return CineStudy(
        pixels=pixels,
        spacing=tuple(study.spacing),
        origin=tuple(study.origin),
        direction=np.array(study.direction, dtype=float).reshape(3, 3),
        frame_interval_ms=study.frame_interval_ms,
        source=study.source,
    )
