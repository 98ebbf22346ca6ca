"""The whole job on one study: read -> preprocess -> model -> post-process -> paste back -> metrics.

`run_study` is what `pscgan infer`, the demo and the Slicer module call; it knows nothing of files
or nodes. `quantify_study` re-measures a (possibly corrected) label stack without the model, which
is what the Slicer "Recompute metrics" button does. Writing files lives in `pscgan.outputs`.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from . import labels as L
from .errors import Cancelled
from .io.study import CineStudy

ProgressFn = Callable[[int, int, str], None]
CancelFn = Callable[[], bool]

# The model's LGE is in [-1, 1]; volumes are shown in 0..1000 "arbitrary units" so that the
# usual window/level presets behave.
LGE_DISPLAY_SCALE = 500.0
LEVELS = ("basal", "mid", "apical")
# Slices per generator batch in run_study: with 4, run_study of bench-e2e's 12-slice study took 1.05-1.13 s
# instead of 1.68-1.81 s slice by slice (2 idle CPU cores, two back-to-back pairs), and a step stays well
# under a second, so progress and cancel stay fine-grained.
SLICES_PER_STEP = 4
NO_LGE_NOTE = "this model is segmentation-only (no LGE-equivalent image): no LGE volume is made"


@dataclass
class StudyResult:
    study: CineStudy
    lge: np.ndarray | None  # (S, R, C) float32, display units 0..1000; None: the model synthesises none
    labels: np.ndarray  # (S, R, C) uint8, 0 other, 1 blood pool, 2 healthy myocardium, 3 scar
    centers_rc: np.ndarray  # (S, 2) ROI centres in pixel coordinates
    levels: list[str | None]
    quantification: list  # SliceQuantification | None per slice
    summary: dict
    table_rows: list[dict]
    notes: list[str] = field(default_factory=list)


def synthesised_window_mm(preprocess) -> float | None:
    """Side (mm) of the square window around the LV that the model synthesises (None: native pixels)."""
    spacing = getattr(preprocess, "roi_spacing_mm", None)
    size = getattr(preprocess, "roi_size", None)
    return None if spacing is None or size is None else float(size) * float(spacing)


def lge_description(preprocess) -> str:
    """What an LGE-equivalent volume holds (the node's description in Slicer)."""
    side = synthesised_window_mm(preprocess)
    window = f"a {side:.0f} x {side:.0f} mm window" if side else "a window"
    return (f"PSCGAN LGE-equivalent image: synthesised only in {window} around the LV of each slice; the rest of "
            "the field of view is filled with that window's darkest value, not synthesised. Research use only.")


def lge_to_display(lge_model: np.ndarray) -> np.ndarray:
    return ((np.clip(lge_model, -1.0, 1.0) + 1.0) * LGE_DISPLAY_SCALE).astype(np.float32)


def lge_from_display(lge_display: np.ndarray) -> np.ndarray:
    return (np.asarray(lge_display, np.float32) / LGE_DISPLAY_SCALE - 1.0).astype(np.float32)


def _check_cancel(should_cancel: CancelFn | None) -> None:
    if should_cancel is not None and should_cancel():
        raise Cancelled("stopped by the user")


def run_study(
    study: CineStudy,
    predictor,
    *,
    centers_rc: np.ndarray | None = None,
    rv_insertion_rc: Sequence | None = None,
    rv_inferior_rc: Sequence | None = None,
    rv_source: str = "markup",
    levels: Sequence[str | None] | None = None,
    progress: ProgressFn | None = None,
    should_cancel: CancelFn | None = None,
    slices_per_step: int = SLICES_PER_STEP,
) -> StudyResult:
    """Run the three-phase model on every slice of `study` and measure the result.

    centers_rc: optional (S, 2) or (2,) ROI centres given by the user (else automatic LV localisation).
    rv_insertion_rc / rv_inferior_rc: optional anterior / inferior RV insertion, (2,) for all slices or
        (S, 2) per slice (None rows: not given), from `rv_source` ("markup": the user, "meta": meta.json);
        slices without them get detected points (`pscgan.metrics.rv_insertion.study_insertions`).
    levels: optional AHA level per slice ("basal" | "mid" | "apical" | None); else derived from the stack.
    progress(done, total, message) is called after every `slices_per_step` slices, which go through the
    generators as one batch; should_cancel() is polled between steps and raises `Cancelled` (nothing is
    returned, so the caller has nothing half-made to clean up).
    """
    from .postprocess import keep_lv_regions
    from .preprocess import paste_back, prepare

    notes: list[str] = []
    n = study.num_slices
    take_notes = getattr(predictor, "take_notes", None)
    if take_notes is not None:
        take_notes()  # notes of an earlier study (a GPU fallback) are not this study's
    report = progress or (lambda done, total, message: None)
    report(0, n, "preprocessing")
    _check_cancel(should_cancel)
    if centers_rc is not None:
        centers_rc = np.broadcast_to(np.asarray(centers_rc, float), (n, 2)).copy()
    batch = prepare(study, predictor.preprocess, centers_rc=centers_rc)

    lge_roi = np.empty((n, batch.cine.shape[-2], batch.cine.shape[-1]), np.float32)
    labels_roi = np.empty_like(lge_roi, dtype=np.uint8)
    step = max(1, int(slices_per_step))
    for s in range(0, n, step):  # a few slices per batch: faster than one, progress and cancel stay fine-grained
        _check_cancel(should_cancel)
        e = min(s + step, n)
        pred = predictor.predict(batch.cine[s:e], should_cancel=should_cancel)
        lge_roi[s:e], labels_roi[s:e] = pred.lge, pred.labels
        report(e, n, f"slice {e} of {n}" if e == s + 1 else f"slices {s + 1}-{e} of {n}")
    notes.extend(take_notes() if take_notes is not None else (getattr(predictor, "notes", []) or []))
    labels_roi = keep_lv_regions(labels_roi)  # the LV at the ROI centre only (pscgan.postprocess)

    spacing_rc = (study.spacing[1], study.spacing[0])
    lge = None
    if getattr(predictor, "synthesises_lge", True):
        background = float(lge_roi.min()) if lge_roi.size else -1.0
        lge = lge_to_display(np.stack(
            [
                paste_back(lge_roi[s], batch.centers_rc[s], spacing_rc, study.slice_shape, batch.cfg, order=1,
                           fill=background)
                for s in range(n)
            ],
        ))
    else:
        notes.append(NO_LGE_NOTE)
    labels = np.stack(
        [
            paste_back(labels_roi[s], batch.centers_rc[s], spacing_rc, study.slice_shape, batch.cfg, order=0, fill=0)
            for s in range(n)
        ],
    ).astype(np.uint8)
    quant, summary, rows = quantify_study(
        labels, study, centers_rc=None, rv_insertion_rc=rv_insertion_rc, rv_inferior_rc=rv_inferior_rc,
        rv_source=rv_source, levels=levels,
    )
    warning = insertion_warning(summary)
    if warning:
        notes.append(warning)
    return StudyResult(
        study=study,
        lge=lge,
        labels=labels,
        centers_rc=np.asarray(batch.centers_rc, float),
        levels=[q.level if q is not None else None for q in quant],
        quantification=quant,
        summary=summary,
        table_rows=rows,
        notes=notes,
    )


def assign_levels(labels: np.ndarray) -> list[str | None]:
    """AHA level per slice from the label stack alone.

    Slices without myocardium all around get None. The remaining run of slices is split into
    thirds, basal at the end where the LV (blood pool + myocardium) is largest, apical at the other.
    """
    lv = np.isin(labels, (L.BLOOD_POOL, L.HEALTHY_MYOCARDIUM, L.SCAR)).sum(axis=(1, 2))
    myo = np.isin(labels, (L.HEALTHY_MYOCARDIUM, L.SCAR)).sum(axis=(1, 2))
    idx = [s for s in range(labels.shape[0]) if myo[s] > 0]
    out: list[str | None] = [None] * labels.shape[0]
    if not idx:
        return out
    if len(idx) == 1:
        out[idx[0]] = "mid"
        return out
    first, last = idx[0], idx[-1]
    base_first = lv[first] >= lv[last]
    ordered = idx if base_first else idx[::-1]
    k = len(ordered)
    for rank, s in enumerate(ordered):
        out[s] = LEVELS[min(2, rank * 3 // k)]
    return out


def quantify_study(
    labels: np.ndarray,
    study: CineStudy,
    *,
    centers_rc: np.ndarray | None = None,
    rv_insertion_rc: Sequence | None = None,
    rv_inferior_rc: Sequence | None = None,
    rv_source: str = "markup",
    levels: Sequence[str | None] | None = None,
) -> tuple[list, dict, list[dict]]:
    """Clinical figures of a label stack (S, R, C) in the study's geometry.

    The AHA segments are oriented by the RV insertion points: the given ones (see `run_study`), else
    those detected on the cine's first frame and the labels, else the documented default; each
    slice's quantification records the points used and their source.

    Returns (per-slice SliceQuantification or None, study summary, table rows). The rows are what
    `metrics.csv` and the Slicer table hold: one per slice, one per AHA segment, one study summary.
    """
    from .metrics.clinical import quantify_slice
    from .metrics.rv_insertion import study_insertions

    labels = np.asarray(labels)
    n = labels.shape[0]
    levels = list(levels) if levels is not None else assign_levels(labels)
    spacing_rc = (float(study.spacing[1]), float(study.spacing[0]))
    insertions = study_insertions(np.asarray(study.pixels)[:, 0], labels, spacing_rc, anterior_rc=rv_insertion_rc, inferior_rc=rv_inferior_rc,
                                  given_source=rv_source)
    quant = []
    for s in range(n):
        has_myo = np.isin(labels[s], (L.HEALTHY_MYOCARDIUM, L.SCAR)).any()
        if levels[s] is None or not has_myo:
            quant.append(None)
            continue
        center = None if centers_rc is None else tuple(np.asarray(centers_rc, float)[s])
        ins = insertions[s]
        q = quantify_slice(labels[s], spacing_rc, levels[s], anterior_insertion_rc=ins.anterior_rc,
                           inferior_insertion_rc=ins.inferior_rc, center_rc=center)
        q.insertion_source = ins.source
        quant.append(q)
    summary = summarise(quant, slice_thickness_mm=float(study.spacing[2]))
    pixel_area_cm2 = spacing_rc[0] * spacing_rc[1] / 100.0
    return quant, summary, table_rows(quant, summary, pixel_area_cm2)


def summarise(quant: list, slice_thickness_mm: float) -> dict:
    measured = [q for q in quant if q is not None]
    scar = sum(q.scar_area_cm2 for q in measured)
    myo = sum(q.myocardium_area_cm2 for q in measured)
    segments_with_scar = sorted({f.segment for q in measured for f in q.segments if f.has_scar})
    return {
        "slices": len(quant),
        "slices_measured": len(measured),
        "scar_area_cm2": round(scar, 4),
        "myocardium_area_cm2": round(myo, 4),
        "scar_volume_ml": round(scar * slice_thickness_mm / 10.0, 4),
        "scar_ratio": round(scar / myo, 4) if myo > 0 else None,
        "segments_with_scar": segments_with_scar,
        "rv_insertion_default_slices": [s + 1 for s, q in enumerate(quant) if q is not None and q.insertion_source == "default"],
    }


def insertion_warning(summary: dict) -> str | None:
    """The one-line warning when some slices' AHA segments fell back to the default orientation."""
    slices = summary.get("rv_insertion_default_slices") or []
    if not slices:
        return None
    return (f"RV insertion not detected on slice(s) {', '.join(map(str, slices))}: their AHA segments use the default "
            "120-degree orientation; place the RV insertion markups and recompute the metrics")


ROW_KEYS = (
    "slice",
    "level",
    "segment",
    "segment_name",
    "scar_area_cm2",
    "myocardium_area_cm2",
    "scar_ratio",
    "transmurality_pct",
    "rv_insertion_source",
    "rv_anterior_row",
    "rv_anterior_col",
    "rv_inferior_row",
    "rv_inferior_col",
)


def _row(**values) -> dict:
    """A table row with every column of ROW_KEYS (None where a value does not apply)."""
    row = dict.fromkeys(ROW_KEYS)
    row.update(values)
    return row


def _insertion_columns(q) -> dict:
    """The RV insertion columns of a whole-slice row: source and the points used (pixel row, col)."""
    out = {"rv_insertion_source": q.insertion_source or ""}
    for name, point in (("anterior", q.anterior_insertion_rc), ("inferior", q.inferior_insertion_rc)):
        out[f"rv_{name}_row"] = None if point is None else round(float(point[0]), 2)
        out[f"rv_{name}_col"] = None if point is None else round(float(point[1]), 2)
    return out


def _rounded(value, digits: int):
    """None (segment not measured) stays None."""
    return None if value is None else round(float(value), digits)


def table_rows(quant: list, summary: dict, pixel_area_cm2: float) -> list[dict]:
    """Rows of metrics.csv and of the Slicer table: per slice, per AHA segment, and a study summary."""
    rows: list[dict] = []
    for s, q in enumerate(quant):
        if q is None:
            continue
        rows.append(
            _row(
                slice=s + 1,
                level=q.level,
                segment="",
                segment_name="whole slice",
                scar_area_cm2=round(q.scar_area_cm2, 4),
                myocardium_area_cm2=round(q.myocardium_area_cm2, 4),
                scar_ratio=None if q.scar_ratio is None else round(q.scar_ratio, 4),
                transmurality_pct=None,
                **_insertion_columns(q),
            ),
        )
        for f in q.segments:
            rows.append(
                _row(
                    slice=s + 1,
                    level=q.level,
                    segment=f.segment,
                    segment_name=f.name,
                    scar_area_cm2=round(f.scar_pixels * pixel_area_cm2, 4),
                    myocardium_area_cm2=round(f.myocardium_pixels * pixel_area_cm2, 4),
                    scar_ratio=_rounded(f.scar_fraction, 4),
                    transmurality_pct=_rounded(f.transmurality_pct, 2),
                    rv_insertion_source=q.insertion_source or "",
                ),
            )
    rows.append(
        _row(
            slice="study",
            level="",
            segment="study",
            segment_name="study summary",
            scar_area_cm2=summary["scar_area_cm2"],
            myocardium_area_cm2=summary["myocardium_area_cm2"],
            scar_ratio=summary["scar_ratio"],
            transmurality_pct=None,
            rv_insertion_source="",
        ),
    )
    return rows
