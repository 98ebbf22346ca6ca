"""Read one evaluation case folder: `labels.nii.gz`, optional `lge.nii.gz`, optional `meta.json`.

A case folder holds NIfTI images of shape (X, Y, 1) (or 2-D (X, Y), or a stack (X, Y, S)):
  labels.nii.gz  uint8 labels 0-3 (required)
  lge.nii.gz     float LGE or LGE-equivalent image (optional; without it no image metrics)
  meta.json      optional: "pixel_spacing_mm" [row, col], "level" (basal | mid | apical),
                 "rv_insertion_anterior_rc" [row, col], "rv_insertion_inferior_rc" [row, col]
                 (pixel coordinates of the full image, see `pscgan.metrics.aha`); for a stack,
                 "slices": [one such object per slice] overrides the top level slice by slice.
Arrays are returned as (rows, cols) = SimpleITK's (Y, X). File names and the meta.json policy (spacing
against the header, one "slices" entry per slice) are pscgan.io.case_folder's.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..io.case_folder import LABELS_FILE, LGE_FILE, META_FILE, checked_spacing_rc, read_meta, slice_meta
from .aha import check_level
from .clinical import check_labels


@dataclass
class CaseData:
    """One case: labels (R, C) int16, lge (R, C) float64 or None, spacing (row, col) mm, meta."""

    name: str
    folder: Path
    labels: np.ndarray
    lge: np.ndarray | None
    spacing_rc: tuple[float, float]
    meta: dict = field(default_factory=dict)
    direction: tuple[float, ...] = (1.0, 0.0, 0.0, 1.0)  # in-plane 2x2 of the header's direction (row-major)

    @property
    def level(self) -> str | None:
        value = self.meta.get("level")
        return None if value is None else check_level(value)

    def insertion(self, key: str) -> tuple[float, float] | None:
        value = self.meta.get(key)
        if value is None:
            return None
        try:
            r, c = (float(v) for v in value)
        except (TypeError, ValueError):
            raise InputError(f"{self.folder / META_FILE}: {key} must be [row, col], got {value!r}") from None
        return r, c


def read_stack(path: Path) -> tuple[np.ndarray, tuple[float, float], tuple[float, ...]]:
    """(Z, R, C) array, (row, col) spacing and the in-plane 2x2 of the header's direction (row-major)
    of a 2-D or 3-D scalar image file; InputError otherwise."""
    import SimpleITK as sitk

    try:
        image = sitk.ReadImage(str(path))
    except RuntimeError as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else "unreadable"
        raise InputError(f"{path}: cannot be read as an image ({first[:120]})") from None
    if image.GetNumberOfComponentsPerPixel() != 1:
        raise InputError(f"{path}: expected a scalar image, got {image.GetNumberOfComponentsPerPixel()} components")
    array = sitk.GetArrayFromImage(image)  # (Z, Y, X) or (Y, X)
    if array.ndim == 2:
        array = array[None]
    elif array.ndim != 3:
        raise InputError(f"{path}: expected a 2-D image or a stack of slices (X, Y, Z), got size {image.GetSize()}")
    spacing = image.GetSpacing()
    dim = image.GetDimension()
    d = np.asarray(image.GetDirection(), float).reshape(dim, dim)
    return array, (float(spacing[1]), float(spacing[0])), tuple(float(v) for v in d[:2, :2].ravel())


def read_slice_image(path: Path) -> tuple[np.ndarray, tuple[float, float]]:
    """(R, C) array and (row, col) spacing of a single-slice image file; InputError otherwise."""
    array, spacing, _ = read_stack(path)
    if array.shape[0] != 1:
        raise InputError(f"{path}: expected a single slice (X, Y, 1), got {array.shape[0]} slices")
    return array[0], spacing


def read_case_slices(folder: Path) -> list[CaseData]:
    """Every slice of a case folder as a CaseData; a multi-slice case's slices are named
    "<case>/slice_<k>" (1-based) and take their level / insertion points from meta["slices"][k - 1]."""
    folder = Path(folder)
    labels_path = folder / LABELS_FILE
    if not labels_path.is_file():
        raise InputError(f"{folder}: no {LABELS_FILE}")
    raw_labels, spacing, direction = read_stack(labels_path)  # (Z, R, C)
    n = raw_labels.shape[0]
    labels = [check_labels(raw_labels[k], str(labels_path) + ("" if n == 1 else f" slice {k + 1}")) for k in range(n)]
    lge = None
    if (folder / LGE_FILE).is_file():
        lge_raw, lge_spacing, _ = read_stack(folder / LGE_FILE)
        if lge_raw.shape != raw_labels.shape:
            raise InputError(f"{folder}: {LGE_FILE} shape {lge_raw.shape} and {LABELS_FILE} shape {raw_labels.shape} "
                             "(slices, rows, cols) disagree")
        if not np.allclose(lge_spacing, spacing, rtol=1e-3):
            raise InputError(f"{folder}: {LGE_FILE} spacing {lge_spacing} and {LABELS_FILE} spacing {spacing} disagree")
        lge = lge_raw.astype(np.float64)
        if not np.all(np.isfinite(lge)):
            raise InputError(f"{folder / LGE_FILE}: contains NaN or infinite values")
    meta = read_meta(folder)
    spacing = checked_spacing_rc(meta, spacing, folder, LABELS_FILE)
    per_slice = slice_meta(meta, n, folder)
    cases = []
    for k in range(n):
        name = folder.name if n == 1 else f"{folder.name}/slice_{k + 1}"
        case = CaseData(name, folder, labels[k], None if lge is None else lge[k], spacing, per_slice[k], direction)
        _ = case.level  # validates the level early
        cases.append(case)
    return cases


def read_case(folder: Path) -> CaseData:
    """Read and check a single-slice case folder (see the module docstring)."""
    cases = read_case_slices(folder)
    if len(cases) != 1:
        raise InputError(f"{folder}: expected a single-slice case, got {len(cases)} slices")
    return cases[0]


def list_cases(root: Path, what: str) -> dict[str, Path]:
    """Case folders (non-hidden sub-folders) of `root` by name; InputError if `root` is not a folder."""
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"{what} folder {root}: does not exist or is not a folder")
    return {p.name: p for p in sorted(root.iterdir()) if p.is_dir() and not p.name.startswith(".")}
