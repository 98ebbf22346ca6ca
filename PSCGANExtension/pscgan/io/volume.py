"""3D volumes that accompany a cine (LGE image, label map): pixels (S, R, C) + the same geometry fields as CineStudy."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from .validate import validate_geometry


@dataclass
class Volume:
    """pixels (slices, rows, cols); spacing/origin/direction as in CineStudy (LPS, columns = i, j, k axes)."""

    pixels: np.ndarray
    spacing: tuple[float, float, float] = (1.0, 1.0, 1.0)
    origin: tuple[float, float, float] = (0.0, 0.0, 0.0)
    direction: np.ndarray = field(default_factory=lambda: np.eye(3))
    source: str = "<array>"

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.pixels, dtype=dtype)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.pixels.shape)


def read_volume(path: str | Path, *, what: str = "volume") -> Volume:
    """A 3D image file (NIfTI, NRRD, ... anything SimpleITK reads) as a Volume; (X, Y, Z) -> pixels (Z, Y, X).

    A 4D file whose 4th axis has length 1 is accepted as 3D.
    """
    from .nifti import read_image_array

    path = Path(path)
    image = read_image_array(path)
    if image.components != 1:
        raise InputError(f"{path}: a {what} must have one value per voxel, this has {image.components}")
    arr = image.pixels
    dim = image.dimension
    if dim == 4 and arr.shape[0] == 1:
        arr = arr[0]
        spacing, origin = image.spacing[:3], image.origin[:3]
        direction = np.asarray(image.direction, float).reshape(4, 4)[:3, :3]
    elif dim == 3:
        spacing, origin = image.spacing, image.origin
        direction = np.asarray(image.direction, float).reshape(3, 3)
    elif dim == 2:
        arr = arr[None]
        spacing = image.spacing + (1.0,)
        origin = image.origin + (0.0,)
        d2 = np.asarray(image.direction, float).reshape(2, 2)
        direction = np.eye(3)
        direction[:2, :2] = d2
    else:
        raise InputError(f"{path}: a {dim}D image of size {image.size}; a {what} must be 3D (X, Y, Z)")
    if not np.isfinite(arr).all():
        raise InputError(f"{path}: the {what} contains NaN or infinite values")
    sp, org, d = validate_geometry(spacing, origin, direction, str(path))
    return Volume(pixels=np.ascontiguousarray(arr), spacing=sp, origin=org, direction=d, source=str(path))
