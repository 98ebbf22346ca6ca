"""What a case folder may tell us beyond the pixels: AHA level and RV insertion per slice.

Phantom cases and studies (and users' own cases in the same layout) carry a meta.json; when it
names the slice level and the anterior RV insertion point, the clinical figures use them instead of
the defaults.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .io.case_folder import read_meta, slice_meta


@dataclass
class StudyHints:
    levels: list | None = None  # per slice "basal" | "mid" | "apical" | None
    rv_insertion_rc: list | None = None  # per slice [row, col] of the anterior RV insertion
    rv_inferior_rc: list | None = None  # per slice [row, col] of the inferior RV insertion (None rows: not given)


def read_hints(source: Path, num_slices: int) -> StudyHints:
    """The hints in a case folder's meta.json (pscgan.io.case_folder's policy: top level for every slice,
    "slices" one entry a slice); no hints for a source without meta.json."""
    if not Path(source).is_dir():
        return StudyHints()
    meta = read_meta(source)
    if not meta:
        return StudyHints()
    per_slice = slice_meta(meta, num_slices, source)
    levels = [s.get("level") for s in per_slice]
    rv = [s.get("rv_insertion_anterior_rc") for s in per_slice]
    inferior = [s.get("rv_insertion_inferior_rc") for s in per_slice]
    given = all(v is not None for v in rv)
    return StudyHints(
        levels=levels if all(isinstance(v, str) for v in levels) else None,
        rv_insertion_rc=rv if given else None,
        rv_inferior_rc=inferior if given and any(v is not None for v in inferior) else None,
    )
