"""Everything `pscgan infer` writes for one study, written so that nothing half-made is left.

All files are first written into a hidden staging folder beside the output folder; only when every
file is complete are they moved into place (each move is an atomic rename on the same file
system). A failure or a cancel before that leaves the output folder exactly as it was.
"""
from __future__ import annotations

import csv
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

from .errors import InputError
from .io.writers import write_volume
from .pipeline import ROW_KEYS, StudyResult

OUTPUT_FILES = (
    "lge.nrrd",
    "segmentation.seg.nrrd",
    "lge.nii.gz",
    "labels.nii.gz",
    "metrics.json",
    "metrics.csv",
    "report.png",
)


def write_metrics_json(result: StudyResult, path: Path, extra: dict | None = None) -> Path:
    data = {
        "source": result.study.source,
        "summary": result.summary,
        "slices": [None if q is None else q.to_dict() for q in result.quantification],
        "roi_centers_rc": np.asarray(result.centers_rc).round(2).tolist(),
        "notes": list(result.notes),
    }
    if extra:
        data.update(extra)
    path.write_text(json.dumps(data, indent=2))
    return path


def write_metrics_csv(rows: list[dict], path: Path) -> Path:
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(ROW_KEYS))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in ROW_KEYS})
    return path


def write_report(result: StudyResult, path: Path) -> Path:
    from .pipeline import lge_from_display
    from .report import draw_study_report

    return draw_study_report(path, result.study, lge_from_display(result.lge), result.labels, result.quantification)


def write_outputs(result: StudyResult, out_dir: Path, *, report: bool = True, extra: dict | None = None) -> dict[str, Path]:
    """Write all outputs of `result` into `out_dir` (created if needed); returns name -> path."""
    from .mrml.files import write_mrml_outputs

    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"{out_dir}: exists and is not a folder")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    try:
        write_mrml_outputs(result.lge, result.labels, result.study, staging)
        write_volume(result.lge, result.study, staging / "lge.nii.gz")
        write_volume(result.labels.astype(np.uint8), result.study, staging / "labels.nii.gz")
        write_metrics_json(result, staging / "metrics.json", extra)
        write_metrics_csv(result.table_rows, staging / "metrics.csv")
        if report:
            write_report(result, staging / "report.png")
        out_dir.mkdir(exist_ok=True)
        written = {}
        for f in sorted(staging.iterdir()):
            target = out_dir / f.name
            f.replace(target)
            written[f.name] = target
        return written
    finally:
        shutil.rmtree(staging, ignore_errors=True)
