"""Write phantom cases and studies as case folders (pscgan.io.case_folder: all five files), atomically.

A single case has Z = 1. Spacing (col, row, slice, frame ms), origin 0, identity direction.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError
from ..io.case_folder import META_FILE, write_case_folder


def _write_folder(folder: Path, cine: np.ndarray, cine_labels: np.ndarray, lge: np.ndarray, labels: np.ndarray,
                  meta: dict, spacing_xyz: tuple[float, float, float], frame_ms: float) -> Path:
    """Arrays: cine / cine_labels (T, Z, Y, X), lge / labels (Z, Y, X). Atomic replace of `folder`."""
    def not_a_case_folder(folder: Path) -> None:
        if folder.exists():
            if not folder.is_dir() or (any(folder.iterdir()) and not (folder / META_FILE).is_file()):
                raise InputError(f"{folder}: exists and is not a phantom case folder; not overwriting it")

    return write_case_folder(folder, cine=cine, cine_labels=cine_labels, lge=lge, labels=labels, meta=meta,
                             spacing_xyz=spacing_xyz, frame_interval_ms=frame_ms, replace=True,
                             before_move=not_a_case_folder)


def write_case(case, folder: Path) -> Path:
    """Write one PhantomCase (the five files, Z = 1); returns the folder."""
    sr, sc = case.meta["pixel_spacing_mm"]
    return _write_folder(folder, case.cine[:, None], case.cine_labels[:, None], case.lge[None], case.labels[None],
                         case.meta, (sc, sr, float(case.meta.get("slice_thickness_mm", 8.0))),
                         float(case.meta["frame_interval_ms"]))


def _combined_segments(cases: list) -> dict:
    """Per AHA segment over all slices (pscgan.metrics.clinical.combine_segments), JSON-ready."""
    from ..metrics.clinical import combine_segments, quantify_slice

    quantified = [quantify_slice(c.labels, c.meta["pixel_spacing_mm"], c.meta["level"], c.meta["rv_insertion_anterior_rc"],
                                 c.meta["rv_insertion_inferior_rc"], c.meta["lv_center_rc"]) for c in cases]
    return {str(n): {"name": f.name, "scar_fraction": f.scar_fraction, "transmurality_pct": f.transmurality_pct,
                     "has_scar": bool(f.has_scar)} for n, f in combine_segments(quantified).items()}


def write_study(cases: list, folder: Path, slice_spacing_mm: float = 10.0) -> Path:
    """Write a multi-slice study (base -> apex along Z); meta.json has "slices": [per-slice meta]."""
    if not cases:
        raise InputError(f"{folder}: no slices to write")
    first = cases[0].meta
    for c in cases[1:]:
        if c.cine.shape != cases[0].cine.shape or c.meta["pixel_spacing_mm"] != first["pixel_spacing_mm"]:
            raise InputError(f"{folder}: study slices differ in image size or spacing")
    meta = {key: first[key] for key in ("generator_version", "seed", "pixel_spacing_mm", "image_size", "frames",
                                         "frame_interval_ms", "territory", "snr", "lge_shift_mm", "es_frame")}
    meta["has_scar"] = any(c.meta["has_scar"] for c in cases)
    meta["territory"] = next((c.meta["territory"] for c in cases if c.meta["territory"]), None)
    meta["n_slices"] = len(cases)
    meta["slice_spacing_mm"] = float(slice_spacing_mm)
    meta["scar_area_cm2"] = float(sum(c.meta["scar_area_cm2"] for c in cases))
    scar = sum(c.meta["scar_area_cm2"] for c in cases)
    myo = sum(c.meta.get("myocardium_area_cm2", 0.0) for c in cases)
    meta["scar_ratio"] = float(scar / myo) if myo > 0 else None
    meta["segments"] = _combined_segments(cases)
    meta["slices"] = [c.meta for c in cases]
    sr, sc = first["pixel_spacing_mm"]
    cine = np.stack([c.cine for c in cases], axis=1)  # (T, S, Y, X)
    cine_labels = np.stack([c.cine_labels for c in cases], axis=1)
    lge = np.stack([c.lge for c in cases])  # (S, Y, X)
    labels = np.stack([c.labels for c in cases])
    return _write_folder(folder, cine, cine_labels, lge, labels, meta, (sc, sr, float(slice_spacing_mm)),
                         float(first["frame_interval_ms"]))
