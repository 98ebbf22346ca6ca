"""Phantom / training-layout case folders: cine.nii.gz (X, Y, S, T), lge.nii.gz and labels.nii.gz (X, Y, S), meta.json
(optional for reading the cine).

meta.json keys used here: "pixel_spacing_mm" [row, col] and "frame_interval_ms"; when present they override
the NIfTI header (the phantom writes both; meta.json is the documented source of truth).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import InputError
from .nifti import read_nifti_cine
from .study import CineStudy, validated_study
from .volume import Volume, read_volume

CINE_FILE = "cine.nii.gz"
LGE_FILE = "lge.nii.gz"
LABELS_FILE = "labels.nii.gz"
META_FILE = "meta.json"


def is_case_folder(path: Path) -> bool:
    """A folder holding cine.nii.gz (meta.json optional)."""
    path = Path(path)
    return path.is_dir() and (path / CINE_FILE).is_file()


def read_meta(folder: Path) -> dict:
    path = Path(folder) / META_FILE
    try:
        meta = json.loads(path.read_text())
    except OSError as err:
        raise InputError(f"{path}: cannot be read ({err.strerror})") from None
    except json.JSONDecodeError as err:
        raise InputError(f"{path}: not valid JSON ({err.msg} at line {err.lineno})") from None
    if not isinstance(meta, dict):
        raise InputError(f"{path}: expected a JSON object")
    return meta


def _meta_spacing_rc(meta: dict, folder: Path) -> tuple[float, float] | None:
    value = meta.get("pixel_spacing_mm")
    if value is None:
        return None
    try:
        r, c = (float(v) for v in (value if isinstance(value, (list, tuple)) else (value, value)))
    except (TypeError, ValueError):
        raise InputError(f"{Path(folder) / META_FILE}: pixel_spacing_mm must be [row, col] in mm, got {value}") from None
    if not (r > 0 and c > 0):
        raise InputError(f"{Path(folder) / META_FILE}: pixel_spacing_mm must be positive, got {value}")
    return r, c


def read_case_cine(folder: str | Path, *, frame_interval_ms: float | None = None, min_frames: int = 8) -> CineStudy:
    folder = Path(folder)
    meta = read_meta(folder) if (folder / META_FILE).is_file() else {}
    study = read_nifti_cine(folder / CINE_FILE, frame_interval_ms=frame_interval_ms, min_frames=min_frames)
    spacing = list(study.spacing)
    rc = _meta_spacing_rc(meta, folder)
    if rc is not None:
        spacing[0], spacing[1] = rc[1], rc[0]
    interval = study.frame_interval_ms
    if frame_interval_ms is None and meta.get("frame_interval_ms") is not None:
        interval = meta["frame_interval_ms"]
    return validated_study(study.pixels, spacing, study.origin, study.direction, interval, str(folder), min_frames)


def read_case_volume(folder: str | Path, name: str, what: str) -> Volume:
    """lge.nii.gz / labels.nii.gz of a case folder, spacing from meta.json when given."""
    folder = Path(folder)
    vol = read_volume(folder / name, what=what)
    if (folder / META_FILE).is_file():
        rc = _meta_spacing_rc(read_meta(folder), folder)
        if rc is not None:
            vol.spacing = (rc[1], rc[0], vol.spacing[2])
    return vol


def check_labels(vol: Volume) -> Volume:
    """Labels must be whole numbers 0-3."""
    arr = np.asarray(vol.pixels)
    if arr.size and (not np.all(np.equal(np.mod(arr, 1), 0)) or arr.min() < 0 or arr.max() > 3):
        bad = np.unique(arr[(arr < 0) | (arr > 3) | (np.mod(arr, 1) != 0)])[:6]
        raise InputError(f"{vol.source}: label values must be 0-3 (0 other, 1 blood pool, 2 myocardium, 3 scar), found {bad.tolist()}")
    vol.pixels = arr.astype(np.uint8)
    return vol
