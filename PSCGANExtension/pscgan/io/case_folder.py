"""THE case folder: file names, reading, the one meta.json policy, writing.

A case folder (phantom case or study, training data, an export from the Slicer module, an evaluation case):
  cine.nii.gz         (X, Y, S, T) float32 short-axis cine, pixdim[4] = frame interval (ms)
  cine_labels.nii.gz  (X, Y, S, T) uint8 labels of every cine frame (phantom only)
  lge.nii.gz          (X, Y, S) float32 LGE (or LGE-equivalent) image, optional
  labels.nii.gz       (X, Y, S) uint8: 0 other, 1 blood pool, 2 healthy myocardium, 3 scar
  meta.json           optional JSON object (see below)
Readers take a single slice (S = 1) or a stack; a 2-D labels / LGE file is one slice.

meta.json policy (every reader of a case folder applies it through this module):
- it must be a JSON object; anything else (unreadable, invalid JSON, a list) is an InputError naming the file.
- "pixel_spacing_mm" [row, col] (or one number) in mm, positive. The image header is the geometry; a
  meta.json spacing that disagrees with the header of the image being read by more than 0.1 % is an
  InputError naming both values; when they agree, meta.json's value is used (written at full precision,
  where the NIfTI header stores float32).
- "frame_interval_ms": the same, against the cine header's pixdim[4]; when the header sets none (0 or 1),
  meta.json's is used. An interval the caller gives explicitly (read_cine(frame_interval_ms=...)) wins.
- per-slice keys ("level", "rv_insertion_anterior_rc", "rv_insertion_inferior_rc", "lv_center_rc",
  "es_frame", ...): the top level applies to every slice; a "slices" list, when present, must hold one
  object per slice of the images (else an InputError) and overrides the top level slice by slice.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from ..errors import InputError, plain
from ..labels import checked_label_values
from .atomic import write_folder
from .nifti import frame_interval_from_pixdim, read_nifti_cine
from .study import CineStudy, study_with_geometry
from .volume import Volume, read_volume

CINE_FILE = "cine.nii.gz"
CINE_LABELS_FILE = "cine_labels.nii.gz"
LGE_FILE = "lge.nii.gz"
LABELS_FILE = "labels.nii.gz"
META_FILE = "meta.json"
CASE_FILES = (CINE_FILE, CINE_LABELS_FILE, LGE_FILE, LABELS_FILE, META_FILE)
RTOL = 1e-3  # how far meta.json's spacing / frame interval may be from the header's


# ---------------------------------------------------------------------------------------------
# finding case folders
# ---------------------------------------------------------------------------------------------
def is_case_folder(path: Path) -> bool:
    """A folder holding cine.nii.gz (meta.json optional)."""
    path = Path(path)
    return path.is_dir() and (path / CINE_FILE).is_file()


def case_folders(path: Path) -> list[Path]:
    """The case folders (non-hidden sub-folders holding cine.nii.gz) inside `path`, sorted by name;
    [] when `path` is itself a case folder or not a folder."""
    path = Path(path)
    if not path.is_dir() or is_case_folder(path):
        return []
    return sorted(p for p in path.iterdir() if not p.name.startswith(".") and is_case_folder(p))


# ---------------------------------------------------------------------------------------------
# meta.json
# ---------------------------------------------------------------------------------------------
def read_meta(folder: Path) -> dict:
    """meta.json of a case folder as a dict ({} when there is none); InputError when it is not a JSON object."""
    path = Path(folder) / META_FILE
    if not path.is_file():
        return {}
    try:
        meta = json.loads(path.read_text())
    except OSError as err:
        raise InputError(f"{path}: cannot be read ({err.strerror})") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not valid JSON (not UTF-8 text)") from None
    except json.JSONDecodeError as err:
        raise InputError(f"{path}: not valid JSON ({err.msg} at line {err.lineno})") from None
    if not isinstance(meta, dict):
        raise InputError(f"{path}: expected a JSON object")
    return meta


def meta_spacing_rc(meta: dict, folder: Path) -> tuple[float, float] | None:
    """meta.json's "pixel_spacing_mm" as (row, col) mm, None when absent; InputError when malformed."""
    value = meta.get("pixel_spacing_mm")
    if value is None:
        return None
    where = Path(folder) / META_FILE
    try:
        values = [float(v) for v in (value if isinstance(value, (list, tuple)) else (value, value))]
    except (TypeError, ValueError):
        raise InputError(f"{where}: pixel_spacing_mm must be [row, col] in mm, got {value}") from None
    if len(values) != 2:
        raise InputError(f"{where}: pixel_spacing_mm must be [row, col] in mm, got {value}")
    if not all(math.isfinite(v) and v > 0 for v in values):
        raise InputError(f"{where}: pixel_spacing_mm must be positive, got {value}")
    return values[0], values[1]


def checked_spacing_rc(meta: dict, spacing_rc: tuple[float, float], folder: Path, image: str) -> tuple[float, float]:
    """The (row, col) spacing of `image`: its header's `spacing_rc`, or meta.json's pixel_spacing_mm when that agrees
    with it (full precision); InputError naming both values when they disagree."""
    rc = meta_spacing_rc(meta, folder)
    if rc is None:
        return spacing_rc
    if not np.allclose(rc, spacing_rc, rtol=RTOL, atol=0.0):
        raise InputError(f"{Path(folder)}: meta.json pixel_spacing_mm {plain(rc)} disagrees with the {image} header "
                         f"spacing {plain(tuple(float(v) for v in spacing_rc))} (row, col)")
    return rc


def meta_frame_interval(meta: dict, folder: Path) -> float | None:
    value = meta.get("frame_interval_ms")
    if value is None:
        return None
    try:
        interval = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{Path(folder) / META_FILE}: frame_interval_ms must be a number of ms, got {value!r}") from None
    if not (math.isfinite(interval) and interval > 0):
        raise InputError(f"{Path(folder) / META_FILE}: frame_interval_ms must be positive, got {value!r}")
    return interval


def slice_meta(meta: dict, n: int, folder: Path) -> list[dict]:
    """One dict per slice: the top level of meta.json, overridden by meta["slices"][k] when that list is given;
    InputError when "slices" does not hold one object per slice (n)."""
    per_slice = meta.get("slices")
    top = {key: value for key, value in meta.items() if key != "slices"}
    if per_slice is None:
        return [dict(top) for _ in range(n)]
    if not isinstance(per_slice, list) or not all(isinstance(m, dict) for m in per_slice):
        raise InputError(f"{Path(folder) / META_FILE}: \"slices\" must list one object per slice ({n})")
    if len(per_slice) != n:
        raise InputError(f"{Path(folder) / META_FILE}: \"slices\" lists {len(per_slice)} slice(s), the images have {n}")
    return [{**top, **m} for m in per_slice]


# ---------------------------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------------------------
def _header_frame_interval(path: Path) -> float | None:
    import SimpleITK as sitk

    reader = sitk.ImageFileReader()
    reader.SetFileName(str(path))
    reader.ReadImageInformation()
    spacing = reader.GetSpacing()
    return frame_interval_from_pixdim(spacing[3]) if len(spacing) > 3 else None


def read_case_cine(folder: str | Path, *, frame_interval_ms: float | None = None, min_frames: int = 8) -> CineStudy:
    """cine.nii.gz of a case folder as a CineStudy, meta.json checked against it (module docstring)."""
    folder = Path(folder)
    meta = read_meta(folder)
    study = read_nifti_cine(folder / CINE_FILE, frame_interval_ms=frame_interval_ms, min_frames=min_frames)
    row, col = checked_spacing_rc(meta, (study.spacing[1], study.spacing[0]), folder, CINE_FILE)
    slice_meta(meta, study.num_slices, folder)
    interval = study.frame_interval_ms
    meta_interval = meta_frame_interval(meta, folder)
    if frame_interval_ms is None and meta_interval is not None:
        header = _header_frame_interval(folder / CINE_FILE)
        if header is not None and not math.isclose(header, meta_interval, rel_tol=RTOL):
            raise InputError(f"{folder}: meta.json frame_interval_ms {plain(meta_interval)} disagrees with the "
                             f"{CINE_FILE} header's {plain(header)} ms")
        interval = meta_interval
    spacing = (col, row, study.spacing[2])
    return study_with_geometry(study, spacing, interval, str(folder))  # its pixels were checked by read_nifti_cine


def read_case_volume(folder: str | Path, name: str, what: str) -> Volume:
    """lge.nii.gz / labels.nii.gz of a case folder, meta.json's spacing checked against its header."""
    folder = Path(folder)
    vol = read_volume(folder / name, what=what)
    row, col = checked_spacing_rc(read_meta(folder), (vol.spacing[1], vol.spacing[0]), folder, name)
    vol.spacing = (col, row, vol.spacing[2])
    return vol


def read_case_cine_labels(folder: str | Path, frames: int, slice_shape: tuple[int, int]) -> np.ndarray | None:
    """cine_labels.nii.gz of a case folder (phantom only) as (T, S, R, C) uint8 labels 0-3, None without the
    file; InputError unless it has the cine's `frames` and (rows, cols) `slice_shape`."""
    from .nifti import read_image_array

    path = Path(folder) / CINE_LABELS_FILE
    if not path.is_file():
        return None
    image = read_image_array(path)
    pixels = image.pixels if image.dimension == 4 else None  # (T, S, R, C)
    if pixels is None or pixels.shape[0] != frames or pixels.shape[2:] != tuple(slice_shape):
        raise InputError(f"{path}: size {image.size} does not match the cine ({frames} frames of {slice_shape[1]} x "
                         f"{slice_shape[0]} pixels)")
    return checked_label_values(pixels, str(path)).astype(np.uint8)


def check_labels(vol: Volume) -> Volume:
    """Labels must be whole numbers 0-3 (labels.checked_label_values)."""
    vol.pixels = checked_label_values(vol.pixels, str(vol.source)).astype(np.uint8)
    return vol


# ---------------------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------------------
def case_image(array: np.ndarray, spacing_xyz, origin_xyz=(0.0, 0.0, 0.0), direction=None,
               frame_interval_ms: float | None = None):
    """A SimpleITK image of (S, R, C) or, with a frame interval, (T, S, R, C) (time as the 4th axis)."""
    import SimpleITK as sitk

    d3 = np.eye(3) if direction is None else np.asarray(direction, float).reshape(3, 3)
    spacing, origin, d = tuple(map(float, spacing_xyz)), tuple(map(float, origin_xyz)), d3
    if array.ndim == 4:
        spacing, origin = (*spacing, float(frame_interval_ms)), (*origin, 0.0)
        d = np.eye(4)
        d[:3, :3] = d3
    image = sitk.GetImageFromArray(np.ascontiguousarray(array), isVector=False)
    image.SetSpacing(spacing)
    image.SetOrigin(origin)
    image.SetDirection(tuple(d.ravel().tolist()))
    return image


def write_case_folder(folder: Path, *, cine: np.ndarray, labels: np.ndarray, meta: dict, spacing_xyz,
                      frame_interval_ms: float, lge: np.ndarray | None = None, cine_labels: np.ndarray | None = None,
                      origin_xyz=(0.0, 0.0, 0.0), direction=None, replace: bool = False, before_move=None) -> Path:
    """Write a case folder atomically (pscgan.io.atomic.write_folder): cine / cine_labels (T, S, R, C),
    labels / lge (S, R, C) in one geometry, meta.json. replace / before_move: as write_folder's."""
    import SimpleITK as sitk

    geometry = dict(spacing_xyz=spacing_xyz, origin_xyz=origin_xyz, direction=direction)
    images = {CINE_FILE: case_image(np.asarray(cine, np.float32), frame_interval_ms=frame_interval_ms, **geometry)}
    if cine_labels is not None:
        images[CINE_LABELS_FILE] = case_image(np.asarray(cine_labels).astype(np.uint8),
                                              frame_interval_ms=frame_interval_ms, **geometry)
    if lge is not None:
        images[LGE_FILE] = case_image(np.asarray(lge, np.float32), **geometry)
    images[LABELS_FILE] = case_image(np.asarray(labels).astype(np.uint8), **geometry)
    with write_folder(Path(folder), before_move=before_move, replace=replace) as tmp:
        for name, image in images.items():
            sitk.WriteImage(image, str(tmp / name), useCompression=True)
        (tmp / META_FILE).write_text(json.dumps(meta, indent=1))
    return Path(folder)
