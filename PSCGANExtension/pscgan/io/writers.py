"""Write arrays in a CineStudy's geometry to NIfTI (or any SimpleITK format), atomically."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import PSCGANError, itk_detail
from .atomic import write_file
from .study import CineStudy


def image_in_study_geometry(array: np.ndarray, study: CineStudy):
    """A SimpleITK image of a (S, R, C) array placed exactly where the study's slices are."""
    import SimpleITK as sitk

    image = sitk.GetImageFromArray(np.ascontiguousarray(array))  # (S, R, C) -> size (C, R, S)
    image.SetSpacing(tuple(float(v) for v in study.spacing))
    image.SetOrigin(tuple(float(v) for v in study.origin))
    image.SetDirection(tuple(float(v) for v in np.asarray(study.direction, float).reshape(9)))
    return image


def write_volume(array: np.ndarray, study: CineStudy, path: Path) -> Path:
    """Write (S, R, C) with the study's geometry; the suffix picks the format (.nii.gz, .nrrd, ...)."""
    import SimpleITK as sitk

    path = Path(path)
    suffix = "".join(path.suffixes[-2:]) if path.name.endswith(".nii.gz") else path.suffix

    def write(tmp: Path) -> None:
        try:
            sitk.WriteImage(image_in_study_geometry(array, study), str(tmp), useCompression=True)
        except RuntimeError as err:  # ITK's report of a full disk, a vanished folder, ...: one line naming the file
            raise PSCGANError(f"{path}: could not be written ({itk_detail(err)})") from None

    return write_file(path, write, suffix=suffix)
