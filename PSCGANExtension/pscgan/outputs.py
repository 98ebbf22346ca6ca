"""Everything `pscgan infer` writes for one study, written so that nothing half-made is left.

All files are first written into a hidden staging folder beside the output folder; only when every
file is complete does the staging folder replace the output folder, in one swap (pscgan.outfolder).
A failure, a cancel or a kill before that leaves the output folder exactly as it was.
"""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np

from .io.writers import write_volume
from .outfolder import fault_point, os_error, reserve
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

    lge = None if result.lge is None else lge_from_display(result.lge)
    return draw_study_report(path, result.study, lge, result.labels, result.quantification)


def write_outputs(result: StudyResult, out_dir: Path, *, report: bool = True, extra: dict | None = None) -> dict[str, Path]:
    """Write all outputs of `result` as the folder `out_dir` (see pscgan.outfolder); returns name -> path.

    Takes the folder's lock unless the caller already holds it (`reserve(out_dir, OUTPUT_FILES)` before the
    work, as `pscgan infer` does, so that an unusable --out is refused before the model runs)."""
    from .mrml.files import write_mrml_outputs

    with reserve(out_dir, OUTPUT_FILES) as folder:
        staging = folder.new_staging()
        try:
            write_mrml_outputs(result.lge, result.labels, result.study, staging)
            if result.lge is not None:  # a segmentation-only model writes no LGE (StudyResult.lge)
                write_volume(result.lge, result.study, staging / "lge.nii.gz")
            write_volume(result.labels.astype(np.uint8), result.study, staging / "labels.nii.gz")
            write_metrics_json(result, staging / "metrics.json", extra)
            write_metrics_csv(result.table_rows, staging / "metrics.csv")
            if report:
                write_report(result, staging / "report.png")
            fault_point("staged")
            names = sorted(f.name for f in staging.iterdir())
            folder.publish(staging)
        except OSError as err:
            raise os_error(err, folder.out) from None
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
        return {name: folder.out / name for name in names}
