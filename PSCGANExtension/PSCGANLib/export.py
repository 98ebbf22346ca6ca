"""Export a (corrected) case in the training data layout, so annotators' corrections become training data.

Folder: cine.nii.gz (X, Y, Z, T) float32 with pixdim[4] = frame interval (ms), labels.nii.gz (X, Y, Z)
uint8, meta.json, and lge.nii.gz (X, Y, Z) float32 only when the user has a REAL LGE of the patient:
the model's own LGE-equivalent image is never exported (training the synthesis phase on it would
teach the model to copy itself). The real LGE is resampled to the cine's geometry (`resample_to_study`),
which must cover the labelled heart. Without an LGE the case trains the segmentation phases only
(training.data). Geometry is the cine's. Written into a temporary folder and renamed into place; an
existing folder is never overwritten or deleted (export_folder picks a new one), and a node name becomes
one path component (safe_folder_name) so it cannot leave the chosen folder.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from pscgan.errors import InputError
from pscgan.io.case_folder import CINE_FILE, LABELS_FILE, LGE_FILE, META_FILE, write_case_folder
from pscgan.io.study import CineStudy

EXPORT_FILES = (CINE_FILE, LGE_FILE, LABELS_FILE, META_FILE)  # lge.nii.gz only with a real LGE
MIN_HEART_COVERAGE = 0.95  # share of the labelled heart's voxels the real LGE must cover


def resample_to_study(array: np.ndarray, ijk_to_ras: np.ndarray, study: CineStudy, labels: np.ndarray,
                      what: str) -> np.ndarray:
    """A volume (K, J, I) with its 4x4 IJK -> RAS matrix, linearly resampled onto the cine's grid (S, R, C).

    InputError naming `what` when it covers less than MIN_HEART_COVERAGE of the labelled heart (labels > 0;
    of the whole grid when nothing is labelled), i.e. the LGE and the cine do not show the same slices.
    Voxels outside the volume are 0.
    """
    from scipy import ndimage

    from pscgan.mrml.nodes import ijk_to_ras as study_ijk_to_ras

    vol = np.asarray(array, np.float32)
    if vol.ndim != 3 or min(vol.shape) < 1:
        raise InputError(f"{what}: expected a 3D volume, got shape {vol.shape}")
    s, r, c = study.num_slices, *study.slice_shape
    kk, jj, ii = np.meshgrid(np.arange(s), np.arange(r), np.arange(c), indexing="ij")
    ijk1 = np.stack([ii.ravel(), jj.ravel(), kk.ravel(), np.ones(ii.size)])  # (4, N): cine voxel indices
    src = np.linalg.solve(np.asarray(ijk_to_ras, float), study_ijk_to_ras(study) @ ijk1)[:3]  # (3, N) i, j, k
    coords = src[::-1]  # (k, j, i) for the (K, J, I) array
    inside = np.all((coords >= -0.5) & (coords <= np.asarray(vol.shape)[:, None] - 0.5), axis=0).reshape(s, r, c)
    heart = np.asarray(labels) > 0
    region = heart if heart.any() else np.ones_like(inside)
    covered = float(inside[region].mean())
    if covered < MIN_HEART_COVERAGE:
        where = "the labelled heart" if heart.any() else "the cine"
        raise InputError(f"{what}: covers {100 * covered:.0f} % of {where} (needs {100 * MIN_HEART_COVERAGE:.0f} %); "
                         "the LGE must show the same slices as the cine")
    values = ndimage.map_coordinates(vol, coords, order=1, mode="nearest").reshape(s, r, c)
    return np.where(inside, values, 0.0).astype(np.float32)


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
        what = "an earlier export" if (folder / META_FILE).is_file() else "not a case folder"
        raise InputError(f"{folder}: exists and holds files ({what}); not overwriting it, export into a new folder")


def export_case(study: CineStudy, lge: np.ndarray | None, labels: np.ndarray, folder: Path,
                lge_source: str | None = None) -> Path:
    """study.pixels (S, T, R, C), a real lge (S, R, C) or None, labels (S, R, C) -> training case folder; returns it.

    lge_source says where the real LGE came from (kept in meta.json)."""
    folder = Path(folder)
    _refuse_existing(folder)
    labels = np.asarray(labels, np.uint8)
    meta = {
        "source": study.source,
        "origin": "3D Slicer PSCGAN module export (cine, corrected labels" + (", real LGE)" if lge is not None else
                                                                               "; no LGE: segmentation phases only)"),
        "has_lge": lge is not None,
        "lge_source": lge_source,
        "pixel_spacing_mm": [round(float(study.spacing[1]), 6), round(float(study.spacing[0]), 6)],
        "image_size": list(study.slice_shape),
        "frames": study.num_frames,
        "frame_interval_ms": float(study.frame_interval_ms),
        "n_slices": study.num_slices,
        "slice_spacing_mm": round(float(study.spacing[2]), 6),
        "has_scar": bool((labels == 3).any()),
        "labels": {"0": "other", "1": "blood pool", "2": "healthy myocardium", "3": "scar"},
    }
    # nothing is ever deleted: an earlier export stays as it is (checked again just before the move)
    write_case_folder(folder, cine=np.transpose(study.pixels, (1, 0, 2, 3)), labels=labels, meta=meta,
                      lge=None if lge is None else np.asarray(lge, np.float32), spacing_xyz=study.spacing,
                      origin_xyz=study.origin, direction=study.direction, frame_interval_ms=study.frame_interval_ms,
                      before_move=_refuse_existing)
    return folder
