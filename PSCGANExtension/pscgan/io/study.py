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
