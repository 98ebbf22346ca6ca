"""Compare a folder of predicted cases with a folder of reference cases (paper Tables 1-2).

Each case is a sub-folder with the same name in both folders (see `pscgan.metrics.cases`); each
slice of a multi-slice case is evaluated as a case of its own ("<case>/slice_<k>").
Per case, on a 64x64 ROI centred on the reference LV centre (rounded to a pixel; the window is
shifted to stay inside the image, and an image smaller than 64 pixels keeps its full extent):
  * image: SSIM, PSNR, NRMSE (euclidean) of the predicted LGE against the reference LGE. With the
    default intensity mode "minmax" each image is min-max rescaled to [-1, 1] over the ROI (the
    paper's normalisation) and the data range is 2; with "asis" the stored values are used with
    the given data range. Left out (None) when either case has no lge.nii.gz.
  * segmentation: `pscgan.metrics.segmentation.segmentation_metrics`.
  * clinical: `quantify_slice` of the reference and of the prediction with the SAME geometry (the
    reference LV centre and the reference meta's RV insertion points and level), so that
    differences come from the labels only. Without insertion points in the reference meta they are
    detected on the reference LGE (`pscgan.metrics.rv_insertion`), else the documented default is
    used; without a level, "mid" (each noted in the case's notes). Scar ratio is reported in percent.
Over the cases:
  * mean and sample SD (n - 1) of every per-case scalar, over the cases where it is defined,
    with the count n;
  * Pearson r (p) and Bland-Altman (prediction - reference) for scar area (cm2) and scar ratio (%),
    over the cases where both are defined;
  * segment-level scar localisation: every AHA segment of every case where the reference segment
    has myocardium; truth = reference has_scar, decision = predicted has_scar, AUC score =
    predicted scar fraction (0 where the prediction has no myocardium in the segment);
  * transmurality > 50 %: segments with a measured reference transmurality; truth = reference
    > 50 %, decision = predicted > 50 %, AUC score = predicted transmurality (0 if not measured).
A case missing from either folder, or one whose files cannot be used (shapes, spacings or
orientations that disagree, labels outside 0-3, unreadable files), is skipped; the result lists it with the reason.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from ..errors import InputError, plain
from .agreement import bland_altman, detection, pearson
from .cases import CaseData, list_cases, read_case_slices
from .clinical import SliceQuantification, lv_center, quantify_slice
from .image import PAPER_DATA_RANGE, nrmse, psnr, ssim, to_symmetric_unit_range
from .rv_insertion import detect_rv_insertion
from .segmentation import TISSUE_CLASSES, segmentation_metrics

ROI_SIZE = 64
DEFAULT_LEVEL = "mid"
TRANSMURAL_THRESHOLD_PCT = 50.0


@dataclass(frozen=True)
class EvaluationSettings:
    roi_size: int = ROI_SIZE
    intensity: Literal["minmax", "asis"] = "minmax"
    data_range: float = PAPER_DATA_RANGE


@dataclass
class CaseResult:
    case: str
    image: dict | None
    segmentation: dict
    pred: SliceQuantification
    ref: SliceQuantification
    roi_origin_rc: tuple[int, int]
    notes: list[str] = field(default_factory=list)

    def scalars(self) -> dict[str, float | None]:
        """Flat per-case figures (the CSV columns and the mean (SD) table)."""
        out: dict[str, float | None] = {}
        for key in ("ssim", "psnr", "nrmse"):
            value = None if self.image is None else self.image[key]
            out[key] = None if value is None or not math.isfinite(value) else value
        for cls in (*TISSUE_CLASSES, "overall"):
            for key, value in self.segmentation[cls].items():
                out[f"{cls}_{key}"] = value
        out["pixel_accuracy"] = self.segmentation["pixel_accuracy"]
        for side, q in (("pred", self.pred), ("ref", self.ref)):
            out[f"{side}_scar_area_cm2"] = q.scar_area_cm2
            out[f"{side}_scar_ratio_pct"] = None if q.scar_ratio is None else 100.0 * q.scar_ratio
            out[f"{side}_myocardium_area_cm2"] = q.myocardium_area_cm2
            out[f"{side}_blood_pool_area_cm2"] = q.blood_pool_area_cm2
        return out

    def to_dict(self) -> dict:
        return {
            "case": self.case,
            "roi_origin_rc": list(self.roi_origin_rc),
            "metrics": self.scalars(),
            "segmentation": self.segmentation,
            "pred_clinical": self.pred.to_dict(),
            "ref_clinical": self.ref.to_dict(),
            "notes": self.notes,
        }


@dataclass
class Evaluation:
    cases: list[CaseResult]
    skipped: dict[str, str]  # case -> reason
    settings: EvaluationSettings

    def aggregates(self) -> dict:
        return aggregate(self.cases)

    def to_dict(self) -> dict:
        return {
            "settings": asdict(self.settings),
            "definitions": __doc__,
            "n_cases": len(self.cases),
            "skipped": self.skipped,
            "aggregates": self.aggregates(),
            "cases": [c.to_dict() for c in self.cases],
        }


def roi_window(shape: tuple[int, int], center_rc: tuple[float, float], size: int) -> tuple[slice, slice]:
    """(rows, cols) slices of a size x size window centred on `center_rc`, kept inside the image."""
    out = []
    for extent, centre in zip(shape, center_rc):
        if extent <= size:
            out.append(slice(0, extent))
            continue
        start = int(round(centre)) - size // 2
        start = min(max(start, 0), extent - size)
        out.append(slice(start, start + size))
    return out[0], out[1]


def _shift(point: tuple[float, float] | None, origin: tuple[int, int]) -> tuple[float, float] | None:
    return None if point is None else (point[0] - origin[0], point[1] - origin[1])


def _image_metrics(ref: np.ndarray, pred: np.ndarray, settings: EvaluationSettings, name: str) -> dict:
    if settings.intensity == "minmax":
        ref = to_symmetric_unit_range(ref, f"{name}: reference lge")
        pred = to_symmetric_unit_range(pred, f"{name}: predicted lge")
        data_range = PAPER_DATA_RANGE
    else:
        data_range = settings.data_range
    return {"ssim": ssim(ref, pred, data_range), "psnr": psnr(ref, pred, data_range), "nrmse": nrmse(ref, pred)}


def evaluate_case(pred: CaseData, ref: CaseData, settings: EvaluationSettings = EvaluationSettings()) -> CaseResult:
    """All per-case figures of one predicted case against its reference."""
    if pred.labels.shape != ref.labels.shape:
        raise InputError(f"{pred.name}: predicted shape {pred.labels.shape} and reference shape "
                         f"{ref.labels.shape} (rows, cols) disagree")
    if not np.allclose(pred.spacing_rc, ref.spacing_rc, rtol=1e-3):
        raise InputError(f"{pred.name}: predicted pixel spacing {plain(pred.spacing_rc)} and reference "
                         f"{plain(ref.spacing_rc)} mm (row, col) disagree")
    if not np.allclose(pred.direction, ref.direction, atol=1e-3):
        raise InputError(f"{pred.name}: predicted and reference image orientations (header direction) disagree, "
                         "so their pixels do not correspond")
    notes: list[str] = []
    center = lv_center(ref.labels)
    rows, cols = roi_window(ref.labels.shape, center, settings.roi_size)
    origin = (rows.start, cols.start)
    ref_lab, pred_lab = ref.labels[rows, cols], pred.labels[rows, cols]  # (64, 64)
    center_roi = (center[0] - origin[0], center[1] - origin[1])

    image = None
    if ref.lge is not None and pred.lge is not None:
        image = _image_metrics(ref.lge[rows, cols], pred.lge[rows, cols], settings, pred.name)
        if math.isinf(image["psnr"]):
            notes.append("PSNR infinite (identical images): left out of the PSNR mean")
    else:
        notes.append("no image metrics: " + ("reference" if ref.lge is None else "prediction") + " has no lge.nii.gz")

    level = ref.level
    if level is None:
        level = DEFAULT_LEVEL
        notes.append(f"reference has no level in meta.json: '{DEFAULT_LEVEL}' assumed")
    anterior = ref.insertion("rv_insertion_anterior_rc")
    inferior = ref.insertion("rv_insertion_inferior_rc")
    if anterior is None:
        detected = None if ref.lge is None else detect_rv_insertion(ref.lge, ref.labels, ref.spacing_rc, center)
        if detected is not None:
            anterior, inferior = detected.anterior_rc, detected.inferior_rc
            notes.append("RV insertion points detected automatically on the reference LGE")
        else:
            notes.append("no RV insertion in the reference meta.json and none detected: default 120 degrees assumed")
    geometry = dict(anterior_insertion_rc=_shift(anterior, origin), inferior_insertion_rc=_shift(inferior, origin),
                    center_rc=center_roi)
    ref_q = quantify_slice(ref_lab, ref.spacing_rc, level, **geometry)
    pred_q = quantify_slice(pred_lab, ref.spacing_rc, level, **geometry)
    if ref_q.scar_ratio is None:
        notes.append("reference has no myocardium: scar ratio undefined")
    if pred_q.scar_ratio is None:
        notes.append("prediction has no myocardium: scar ratio undefined")
    return CaseResult(pred.name, image, segmentation_metrics(ref_lab, pred_lab), pred_q, ref_q, origin, notes)


def evaluate_folders(pred_dir: Path, ref_dir: Path, settings: EvaluationSettings = EvaluationSettings()) -> Evaluation:
    """Evaluate every case of `pred_dir` against the same-named case of `ref_dir`."""
    pred_cases = list_cases(pred_dir, "prediction")
    ref_cases = list_cases(ref_dir, "reference")
    skipped: dict[str, str] = {}
    results: list[CaseResult] = []
    for name in sorted(set(pred_cases) | set(ref_cases)):
        if name not in ref_cases:
            skipped[name] = f"missing from the reference folder {ref_dir}"
            continue
        if name not in pred_cases:
            skipped[name] = f"missing from the prediction folder {pred_dir}"
            continue
        try:
            pred_slices, ref_slices = read_case_slices(pred_cases[name]), read_case_slices(ref_cases[name])
        except InputError as err:
            skipped[name] = str(err)
            continue
        if len(pred_slices) != len(ref_slices):
            skipped[name] = f"{len(pred_slices)} predicted slices but {len(ref_slices)} reference slices"
            continue
        for pred_case, ref_case in zip(pred_slices, ref_slices):
            try:
                results.append(evaluate_case(pred_case, ref_case, settings))
            except InputError as err:
                skipped[pred_case.name] = str(err)
    if not results:
        reasons = "; ".join(f"{k}: {v}" for k, v in list(skipped.items())[:3])
        raise InputError(f"no case could be evaluated between {pred_dir} and {ref_dir}"
                         + (f" ({reasons})" if reasons else " (no case folders)"))
    return Evaluation(results, skipped, settings)


def mean_sd(values: list[float | None]) -> dict:
    """{"mean", "sd" (n - 1), "n"} over the defined values; None where not computable."""
    defined = np.array([v for v in values if v is not None and math.isfinite(v)], dtype=np.float64)
    n = int(defined.size)
    return {"mean": float(defined.mean()) if n else None, "sd": float(defined.std(ddof=1)) if n >= 2 else None, "n": n}


def _paired_figures(cases: list[CaseResult], key: str) -> dict:
    pairs = [(c.scalars()[f"pred_{key}"], c.scalars()[f"ref_{key}"]) for c in cases]
    pairs = [(p, r) for p, r in pairs if p is not None and r is not None]
    pred = [p for p, _ in pairs]
    ref = [r for _, r in pairs]
    return {
        "pred": mean_sd(pred),
        "ref": mean_sd(ref),
        "pearson": asdict(pearson(pred, ref)),
        "bland_altman": asdict(bland_altman(pred, ref)),
        "pairs": [[p, r] for p, r in pairs],
    }


def segment_table(cases: list[CaseResult]) -> list[dict]:
    """One row per (case, AHA segment) with reference and predicted figures."""
    rows = []
    for c in cases:
        for ref_seg in c.ref.segments:
            pred_seg = c.pred.segment(ref_seg.segment)
            rows.append({
                "case": c.case, "segment": ref_seg.segment,
                "ref_has_scar": ref_seg.has_scar, "pred_has_scar": pred_seg.has_scar,
                "ref_scar_fraction": ref_seg.scar_fraction, "pred_scar_fraction": pred_seg.scar_fraction,
                "ref_transmurality_pct": ref_seg.transmurality_pct, "pred_transmurality_pct": pred_seg.transmurality_pct,
            })
    return rows


def _detections(cases: list[CaseResult]) -> dict:
    rows = segment_table(cases)
    loc = [r for r in rows if r["ref_scar_fraction"] is not None]
    trans = [r for r in rows if r["ref_transmurality_pct"] is not None]

    def score(value):
        return 0.0 if value is None else float(value)

    return {
        "segment_localisation": asdict(detection(
            [score(r["pred_scar_fraction"]) for r in loc], [r["pred_has_scar"] for r in loc],
            [r["ref_has_scar"] for r in loc])),
        "transmurality_over_50": asdict(detection(
            [score(r["pred_transmurality_pct"]) for r in trans],
            [score(r["pred_transmurality_pct"]) > TRANSMURAL_THRESHOLD_PCT for r in trans],
            [r["ref_transmurality_pct"] > TRANSMURAL_THRESHOLD_PCT for r in trans])),
    }


def aggregate(cases: list[CaseResult]) -> dict:
    """Mean (SD) of every per-case scalar, agreement of scar area and ratio, segment-level detection."""
    if not cases:
        return {}
    keys = list(cases[0].scalars())
    per_case = [c.scalars() for c in cases]
    out = {"mean_sd": {k: mean_sd([row[k] for row in per_case]) for k in keys}}
    out["scar_area_cm2"] = _paired_figures(cases, "scar_area_cm2")
    out["scar_ratio_pct"] = _paired_figures(cases, "scar_ratio_pct")
    out.update(_detections(cases))
    return out
