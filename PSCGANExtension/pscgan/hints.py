"""What a case folder may tell us beyond the pixels: AHA level and RV insertion per slice.

Phantom cases and studies (and users' own cases in the same layout) carry a meta.json; when it
names the slice level and the anterior RV insertion point, the clinical figures use them instead of
the defaults.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError


@dataclass
class StudyHints:
    levels: list | None = None  # per slice "basal" | "mid" | "apical" | None
    rv_insertion_rc: list | None = None  # per slice [row, col] of the anterior RV insertion
    rv_inferior_rc: list | None = None  # per slice [row, col] of the inferior RV insertion (None rows: not given)


def read_hints(source: Path, num_slices: int) -> StudyHints:
    meta_path = Path(source) / "meta.json" if Path(source).is_dir() else None
    if meta_path is None or not meta_path.is_file():
        return StudyHints()
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError) as err:
        raise InputError(f"{meta_path}: not readable JSON ({err})") from None
    per_slice = meta.get("slices") or [meta]
    if len(per_slice) != num_slices:
        return StudyHints()
    levels = [s.get("level") for s in per_slice]
    rv = [s.get("rv_insertion_anterior_rc") for s in per_slice]
    inferior = [s.get("rv_insertion_inferior_rc") for s in per_slice]
    given = all(v is not None for v in rv)
    return StudyHints(
        levels=levels if all(isinstance(v, str) for v in levels) else None,
        rv_insertion_rc=rv if given else None,
        rv_inferior_rc=inferior if given and any(v is not None for v in inferior) else None,
    )
