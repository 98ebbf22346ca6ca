"""read_cine: one CineStudy whatever the source (DICOM, NIfTI, NRRD / .seq.nrrd, phantom case folder, numpy).

Also read_lge / read_labels for the 3D companions of a case (phantom or user's own training data).
Every failure on a user-given input is an InputError naming the input and the problem.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import InputError, plain
from .study import CineStudy, study_with_geometry, validated_study
from .volume import Volume

NIFTI_SUFFIXES = (".nii", ".nii.gz")
NRRD_SUFFIXES = (".nrrd", ".nhdr")
DEFAULT_FRAME_INTERVAL_MS = 40.0


def _spacing3(spacing, source: str) -> tuple[float, float, float]:
    """spacing as (col, row, slice) mm, the CineStudy convention; a single number means isotropic."""
    try:
        values = [float(spacing)] * 3 if np.isscalar(spacing) else [float(v) for v in spacing]
    except (TypeError, ValueError):
        raise InputError(f"{source}: spacing must be a number or (col, row, slice) in mm, got {spacing!r}") from None
    if len(values) != 3:
        raise InputError(f"{source}: spacing must hold 3 values (col, row, slice) in mm, got {plain(spacing)}")
    return values[0], values[1], values[2]


def _from_array(array: np.ndarray, spacing, frame_interval_ms, min_frames: int) -> CineStudy:
    source = f"<array {tuple(np.shape(array))}>"
    arr = np.asarray(array)
    if arr.ndim == 3:
        arr = arr[None]  # (T, R, C) -> (1, T, R, C)
    elif arr.ndim != 4:
        raise InputError(f"{source}: a cine array must be (slices, frames, rows, cols) or (frames, rows, cols), got {arr.ndim} dimensions")
    sp = _spacing3(spacing, source) if spacing is not None else (1.0, 1.0, 1.0)
    interval = DEFAULT_FRAME_INTERVAL_MS if frame_interval_ms is None else frame_interval_ms
    return validated_study(np.array(arr, dtype=np.float32), sp, (0.0, 0.0, 0.0), np.eye(3), interval, source, min_frames)


def _kind(path: Path) -> str:
    name = path.name.lower()
    if path.is_dir():
        from .case_folder import is_case_folder

        return "case" if is_case_folder(path) else "dicom"
    if name.endswith(NIFTI_SUFFIXES):
        return "nifti"
    if name.endswith(NRRD_SUFFIXES):
        return "nrrd"
    return "dicom"  # .dcm, .ima, no suffix: a DICOM file (or its series)


def read_cine(
    source: str | Path | np.ndarray,
    *,
    spacing=None,
    frame_interval_ms: float | None = None,
    min_frames: int = 8,
    series_uid: str | Sequence[str] | None = None,
    time_axis_3d: bool = False,
) -> CineStudy:
    """Read a cine study into a CineStudy with pixels (S, T, R, C) float32 and LPS geometry.

    source: a DICOM folder (or one DICOM file: its series; or a multi-frame file), a 4D NIfTI (.nii/.nii.gz,
    (X, Y, Z, T)), a 4D NRRD or Slicer .seq.nrrd, a phantom/training case or study folder (cine.nii.gz +
    meta.json), or a numpy array (S, T, R, C) or (T, R, C).
    spacing: (col, row, slice) mm (or one number), overriding the file's; for arrays it defaults to 1 mm.
    frame_interval_ms: overrides the file's frame interval (default 40 ms when the file has none).
    series_uid: the DICOM series to read when a folder mixes several (a list merges them).
    time_axis_3d: read a 3D NIfTI (X, Y, T) as one slice (refused by default: a 3D file is a volume).
    Raises InputError for anything unusable (< min_frames frames, NaN, constant, inconsistent geometry, ...).
    """
    if isinstance(source, np.ndarray):
        return _from_array(source, spacing, frame_interval_ms, min_frames)
    if not isinstance(source, (str, Path)):
        raise InputError(f"{source!r}: expected a file or folder path or a numpy array")
    path = Path(source).expanduser()
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    kind = _kind(path)
    if kind == "case":
        from .case_folder import read_case_cine

        study = read_case_cine(path, frame_interval_ms=frame_interval_ms, min_frames=min_frames)
    elif kind == "nifti":
        from .nifti import read_nifti_cine

        study = read_nifti_cine(path, frame_interval_ms=frame_interval_ms, min_frames=min_frames, time_axis_3d=time_axis_3d)
    elif kind == "nrrd":
        from .nrrd import read_nrrd_cine

        study = read_nrrd_cine(path, frame_interval_ms=frame_interval_ms, min_frames=min_frames)
    else:
        from .dicom import read_dicom_cine

        study = read_dicom_cine(path, series_uid=series_uid, frame_interval_ms=frame_interval_ms, min_frames=min_frames)
    if spacing is not None:
        study = study_with_geometry(study, _spacing3(spacing, str(path)), study.frame_interval_ms, study.source)
    return study


def _volume_path(path: Path, name: str) -> Path:
    return path / name if path.is_dir() else path


def read_lge(path: str | Path) -> Volume:
    """An LGE image: a case folder (its lge.nii.gz) or a 3D image file -> Volume, pixels (S, R, C) float32."""
    from .case_folder import LGE_FILE, read_case_volume
    from .volume import read_volume

    path = Path(path)
    if path.is_dir():
        vol = read_case_volume(path, LGE_FILE, "LGE image")
    else:
        vol = read_volume(path, what="LGE image")
    vol.pixels = np.asarray(vol.pixels, dtype=np.float32)
    return vol


def read_labels(path: str | Path) -> Volume:
    """A label map: a case folder (its labels.nii.gz) or a 3D image file -> Volume, pixels (S, R, C) uint8 in 0-3."""
    from .case_folder import LABELS_FILE, check_labels, read_case_volume
    from .volume import read_volume

    path = Path(path)
    if path.is_dir():
        vol = read_case_volume(path, LABELS_FILE, "label map")
    else:
        vol = read_volume(path, what="label map")
    return check_labels(vol)
