"""Files of an evaluation: JSON (everything), CSV (one row per case), Markdown (the paper's tables).

Percentages in the Markdown tables are the per-case values x 100; "mean (SD)" uses the sample SD;
"n/a" marks a value that is undefined for the set (e.g. no scar anywhere for a sensitivity).
"""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path

from ..io.atomic import write_text
from .evaluate import Evaluation

TISSUE_ROWS = (("Overall", "overall"), ("Scar", "scar"), ("Healthy myocardium", "healthy_myocardium"),
               ("Blood pool", "blood_pool"))


def json_safe(value):
    """Replace NaN / infinity by None and tuples by lists, recursively (strict JSON)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def write_json(evaluation: Evaluation, path: Path) -> Path:
    return write_text(path, json.dumps(json_safe(evaluation.to_dict()), indent=2, allow_nan=False))


def write_csv(evaluation: Evaluation, path: Path) -> Path:
    """One row per case (its scalars, its notes); skipped cases get a row with the reason."""
    import io

    keys = list(evaluation.cases[0].scalars()) if evaluation.cases else []
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["case", "status", *keys, "notes"])
    for case in evaluation.cases:
        values = case.scalars()
        writer.writerow([case.case, "ok", *["" if values[k] is None else f"{values[k]:.6g}" for k in keys],
                         "; ".join(case.notes)])
    for name, reason in evaluation.skipped.items():
        writer.writerow([name, "skipped", *[""] * len(keys), reason])
    return write_text(path, buffer.getvalue())


def _fmt(value, scale: float = 1.0, digits: int = 2, suffix: str = "") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{value * scale:.{digits}f}{suffix}"


def _mean_sd(stats: dict, scale: float = 1.0, digits: int = 2, suffix: str = "") -> str:
    if stats["mean"] is None:
        return "n/a"
    sd = "n/a" if stats["sd"] is None else f"{stats['sd'] * scale:.{digits}f}"
    return f"{stats['mean'] * scale:.{digits}f}({sd}){suffix}"


def markdown(evaluation: Evaluation) -> str:
    """Table 1 (segmentation, image) and Table 2 (clinical) of the paper for this evaluation."""
    agg = evaluation.aggregates()
    ms = agg["mean_sd"]
    lines = [f"# Evaluation: {len(evaluation.cases)} cases", "",
             "## Table 1: segmentation and LGE-equivalent image", "",
             "| | Accuracy | Sensitivity | Specificity | Dice coefficient |", "|---|---|---|---|---|"]
    for label, key in TISSUE_ROWS:
        lines.append(f"| {label} | {_mean_sd(ms[f'{key}_accuracy'], 100, 2, '%')} | "
                     f"{_fmt(ms[f'{key}_sensitivity']['mean'], 100, 2, '%')} | "
                     f"{_fmt(ms[f'{key}_specificity']['mean'], 100, 2, '%')} | "
                     f"{_mean_sd(ms[f'{key}_dice'], 1, 3)} (n={ms[f'{key}_dice']['n']}) |")
    lines += ["", "| SSIM | NRMSE | PSNR (dB) |", "|---|---|---|",
              f"| {_mean_sd(ms['ssim'], 1, 2)} | {_mean_sd(ms['nrmse'], 1, 2)} | {_mean_sd(ms['psnr'], 1, 2)} |",
              "", "## Table 2: clinical metrics", "",
              "| | Sensitivity | Specificity | AUC | positives / negatives |", "|---|---|---|---|---|"]
    for label, key in (("Scar segment-level localization", "segment_localisation"),
                       ("Scar transmural (> 50 %)", "transmurality_over_50")):
        d = agg[key]
        lines.append(f"| {label} | {_fmt(d['sensitivity'], 100, 2, '%')} | {_fmt(d['specificity'], 100, 2, '%')} | "
                     f"{_fmt(d['auc'], 1, 2)} | {d['positives']} / {d['negatives']} |")
    lines += ["", "| | PSCGAN | Ground truth | Pearson's r (P-value) | Bias (95 % limits of agreement) |",
              "|---|---|---|---|---|"]
    for label, key in (("Scar size (cm^2)", "scar_area_cm2"), ("Scar ratio (%)", "scar_ratio_pct")):
        f = agg[key]
        pr, ba = f["pearson"], f["bland_altman"]
        pred, ref = f["pred"], f["ref"]
        pm = "n/a" if pred["mean"] is None else f"{pred['mean']:.2f} ± {_fmt(pred['sd'])}"
        rm = "n/a" if ref["mean"] is None else f"{ref['mean']:.2f} ± {_fmt(ref['sd'])}"
        lines.append(f"| {label} | {pm} | {rm} | {_fmt(pr['r'], 1, 2)} ({_fmt(pr['p'], 1, 3)}), n={pr['n']} | "
                     f"{_fmt(ba['bias'])} ({_fmt(ba['loa_low'])}, {_fmt(ba['loa_high'])}) |")
    s = evaluation.settings
    intensity = ("min-max scaled to [-1, 1], data range 2" if s.intensity == "minmax"
                 else f"as stored, data range {s.data_range:g}")
    lines += ["", ("Notes: per-case values on the 64x64 ROI around the reference LV centre; mean(SD) over cases "
              "(sample SD). One-vs-rest per class; Overall = macro average over blood pool, healthy myocardium and "
              "scar; a Dice is undefined (left out, n shown) when neither image has the class. "
              f"Images {intensity}; NRMSE = RMSE / sqrt(mean(reference^2)). Scar ratio = scar / (scar + healthy "
              "myocardium). Localization: per AHA segment, scar present (>= 3 pixels and >= 1 % of the segment's "
              "myocardium); AUC from the predicted scar fraction. Transmural: reference transmurality > 50 %; AUC from "
              "the predicted transmurality. Bias = mean(predicted - reference), limits = bias -+ 1.96 SD.")]
    if evaluation.skipped:
        lines += ["", "## Skipped cases", ""] + [f"- {name}: {reason}" for name, reason in evaluation.skipped.items()]
    return "\n".join(lines) + "\n"


def write_markdown(evaluation: Evaluation, path: Path) -> Path:
    return write_text(path, markdown(evaluation))


def write_all(evaluation: Evaluation, json_path: Path) -> dict[str, Path]:
    """JSON at `json_path`, the CSV and the Markdown beside it (same stem)."""
    json_path = Path(json_path)
    return {
        "json": write_json(evaluation, json_path),
        "csv": write_csv(evaluation, json_path.with_suffix(".csv")),
        "markdown": write_markdown(evaluation, json_path.with_suffix(".md")),
    }
