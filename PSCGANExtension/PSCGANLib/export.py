"""Export a (corrected) case in the training data layout, so annotators' corrections become training data.

Folder: cine.nii.gz (X, Y, Z, T) float32 with pixdim[4] = frame interval (ms), lge.nii.gz (X, Y, Z)
float32, labels.nii.gz (X, Y, Z) uint8, meta.json. Geometry is the cine's. Written into a temporary
folder and renamed into place; an existing folder is never overwritten or deleted (export_folder picks a
new one), and a node name becomes one path component (safe_folder_name) so it cannot leave the chosen folder.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np

from pscgan.errors import InputError
from pscgan.io.study import CineStudy

EXPORT_FILES = ("cine.nii.gz", "lge.nii.gz", "labels.nii.gz", "meta.json")


def _image(array: np.ndarray, study: CineStudy, frame_ms: float | None = None):
    """SimpleITK image of (S, R, C) or (T, S, R, C) in the study's geometry (+ time axis if 4D)."""
    import SimpleITK as sitk

    d3 = np.asarray(study.direction, float).reshape(3, 3)
    if array.ndim == 4:  # (T, S, R, C): a 4D image, time as the 4th axis
        frames = [_image(frame, study) for frame in array]
        return sitk.JoinSeries(frames, 0.0, float(frame_ms))
    image = sitk.GetImageFromArray(np.ascontiguousarray(array))
    image.SetSpacing(tuple(map(float, study.spacing)))
    image.SetOrigin(tuple(map(float, study.origin)))
    image.SetDirection(tuple(d3.ravel()))
    return image


def safe_folder_name(name: str, default: str = "case") -> str:
    """`name` (a node name, perhaps from a DICOM SeriesDescription) as ONE harmless path component.

    Separators, "..", leading dots and anything but letters, digits, space and -_.() become "_"; empty -> default."""
    text = re.sub(r"[^\w \-.()]", "_", str(name), flags=re.ASCII).strip(" .")
    text = re.sub(r"\.{2,}", "_", text)[:100].strip(" .")
    return text or default


def export_folder(base: Path, name: str) -> Path:
    """A new folder for one export inside `base`: base/<safe name>, or base/<safe name>_2, _3, ... if taken."""
    base = Path(base)
    stem = safe_folder_name(name)
    folder, n = base / stem, 1
    while folder.exists() or folder.is_symlink():
        n += 1
        folder = base / f"{stem}_{n}"
    return folder


def _refuse_existing(folder: Path) -> None:
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise InputError(f"{folder}: exists and is not a case folder; not overwriting it")
    if folder.is_dir() and any(folder.iterdir()):
        what = "an earlier export" if (folder / "meta.json").is_file() else "not a case folder"
        raise InputError(f"{folder}: exists and holds files ({what}); not overwriting it, export into a new folder")


def _normal_permissions(path: Path) -> None:
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o777 & ~umask)


def export_case(study: CineStudy, lge: np.ndarray, labels: np.ndarray, folder: Path) -> Path:
    """study.pixels (S, T, R, C), lge (S, R, C), labels (S, R, C) -> training case folder; returns it."""
    import SimpleITK as sitk

    folder = Path(folder)
    _refuse_existing(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    labels = np.asarray(labels, np.uint8)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        _normal_permissions(tmp)  # mkdtemp's 0700 would keep the exported case from everyone else
        cine = np.transpose(study.pixels, (1, 0, 2, 3)).astype(np.float32)  # (T, S, R, C)
        sitk.WriteImage(_image(cine, study, study.frame_interval_ms), str(tmp / "cine.nii.gz"), useCompression=True)
        sitk.WriteImage(_image(np.asarray(lge, np.float32), study), str(tmp / "lge.nii.gz"), useCompression=True)
        sitk.WriteImage(_image(labels, study), str(tmp / "labels.nii.gz"), useCompression=True)
        meta = {
            "source": study.source,
            "origin": "3D Slicer PSCGAN module export (LGE-equivalent and corrected labels)",
            "pixel_spacing_mm": [round(float(study.spacing[1]), 6), round(float(study.spacing[0]), 6)],
            "image_size": list(study.slice_shape),
            "frames": study.num_frames,
            "frame_interval_ms": float(study.frame_interval_ms),
            "n_slices": study.num_slices,
            "slice_spacing_mm": round(float(study.spacing[2]), 6),
            "has_scar": bool((labels == 3).any()),
            "labels": {"0": "other", "1": "blood pool", "2": "healthy myocardium", "3": "scar"},
        }
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
        _refuse_existing(folder)  # nothing is ever deleted: an earlier export stays as it is
        os.rename(tmp, folder)  # (onto an empty folder at most: a non-empty one makes the rename fail)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return folder
