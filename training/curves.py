"""`python -m training curves RUN [RUN ...] --out curves.png`: validation curves of training runs, side by side.

Each RUN is a run folder (its metrics.csv, written by the trainer: `trainer.METRICS_NAME`, columns
`trainer.CSV_KEYS`) or such a CSV itself. One panel per figure - scar, healthy myocardium and blood pool Dice,
LGE SSIM - against training minutes (summed over a run's phases in their order) or samples seen (summed
likewise), one colour per run. A figure is drawn from the phase that produces it (`phases.OUTPUTS`): the
segmentation (seg, joint, unet) solid, G_Pri's coarse mask dashed, G_Sys's LGE for SSIM. Epochs without
validation (`--validate-every`) leave gaps that the lines bridge.
"""
from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pscgan.errors import InputError

from .phases import OUTPUTS
from .trainer import METRICS_NAME

X_AXES = {"minutes": "training minutes", "samples": "training samples seen"}
# panel title -> metrics.csv column per generator output ('mask': G_Pri, 'seg': G_Seg or a baseline, 'lge': G_Sys)
PANELS = {
    "scar Dice": {"seg": "seg_dice_scar", "mask": "mask_dice_scar"},
    "healthy myocardium Dice": {"seg": "seg_dice_myo", "mask": "mask_dice_myo"},
    "blood pool Dice": {"seg": "seg_dice_blood", "mask": "mask_dice_blood"},
    "LGE SSIM": {"lge": "lge_ssim"},
}
OUTPUT_OF_STAGE = {"pri": "mask", "sys": "lge", "seg": "seg"}
NEEDED = ("phase", "epoch", "samples", "seconds")


@dataclass
class PhaseCurve:
    """One phase of a run: x positions (minutes and samples, both cumulative over the run) and its columns."""

    phase: str
    minutes: list[float] = field(default_factory=list)
    samples: list[float] = field(default_factory=list)
    values: dict[str, list[float]] = field(default_factory=dict)


@dataclass
class RunCurves:
    label: str
    source: Path
    phases: list[PhaseCurve]


def metrics_file(path: Path) -> Path:
    """A run folder's metrics.csv, or the CSV given; InputError when neither exists."""
    path = Path(path)
    if path.is_dir():
        path = path / METRICS_NAME
        if not path.is_file():
            raise InputError(f"{path.parent}: no {METRICS_NAME} (not a training run folder, or no epoch finished yet)")
    elif not path.is_file():
        raise InputError(f"{path}: no such run folder or metrics file")
    return path


def _number(text: str | None) -> float:
    try:
        return float(text) if text not in (None, "") else math.nan
    except ValueError:
        return math.nan


def read_curves(path: Path, label: str | None = None) -> RunCurves:
    """The run's rows grouped by phase in file order, x positions summed over the whole run."""
    source = metrics_file(path)
    with source.open(newline="") as f:
        reader = csv.DictReader(f)
        missing = [k for k in NEEDED if k not in (reader.fieldnames or ())]
        if missing:
            raise InputError(f"{source}: not a training metrics file (no column {', '.join(missing)})")
        rows = list(reader)
    if not rows:
        raise InputError(f"{source}: no epochs recorded yet")
    phases: list[PhaseCurve] = []
    minutes = samples = 0.0
    for row in rows:
        if not phases or phases[-1].phase != row["phase"]:
            phases.append(PhaseCurve(row["phase"]))
        curve = phases[-1]
        minutes += _number(row["seconds"]) / 60.0
        samples += _number(row["samples"])
        curve.minutes.append(minutes)
        curve.samples.append(samples)
        for key, text in row.items():
            if key not in NEEDED and key != "phase_index":
                curve.values.setdefault(key, []).append(_number(text))
    default = source.parent.name if source.name == METRICS_NAME else source.stem
    return RunCurves(label or default, source, phases)


def series(run: RunCurves, panel: str, x_axis: str) -> list[tuple[str, str, np.ndarray, np.ndarray]]:
    """(phase, output, x, y) for every phase of `run` that produces `panel`'s figure, validated epochs only."""
    out = []
    for curve in run.phases:
        stages = OUTPUTS.get(curve.phase, ())
        outputs = [OUTPUT_OF_STAGE[s] for s in stages if s in OUTPUT_OF_STAGE]
        for output in outputs:
            column = PANELS[panel].get(output)
            if column is None or column not in curve.values:
                continue
            x = np.asarray(getattr(curve, x_axis), dtype=float)
            y = np.asarray(curve.values[column], dtype=float)
            keep = np.isfinite(x) & np.isfinite(y)
            if keep.any():
                out.append((curve.phase, output, x[keep], y[keep]))
    return out


def draw_curves(runs: Sequence[RunCurves], out_png: Path, x_axis: str = "minutes") -> Path:
    """One panel per figure that some run has; report.canvas's atomic PNG write."""
    from pscgan.report.canvas import new_figure, save_png

    if x_axis not in X_AXES:
        raise InputError(f"--x {x_axis}: choose one of {', '.join(X_AXES)}")
    drawn = {p: [series(r, p, x_axis) for r in runs] for p in PANELS}  # per panel, per run
    panels = [p for p in PANELS if any(drawn[p])]
    if not panels:
        raise InputError("no validation figures in " + ", ".join(str(r.source) for r in runs))
    fig = new_figure(4.2 * len(panels), 3.6)
    colours = [f"C{i % 10}" for i in range(len(runs))]
    for k, panel in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), k + 1)
        for run, colour, lines in zip(runs, colours, drawn[panel]):
            for phase, output, x, y in lines:
                style = "--" if output == "mask" else "-"
                ax.plot(x, y, style, color=colour, lw=1.4, marker="." if len(x) < 30 else None,
                        label=f"{run.label} ({phase})")
        ax.set_title(panel, fontsize=10)
        ax.set_xlabel(X_AXES[x_axis], fontsize=9)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
        if k == 0:
            ax.legend(fontsize=7, loc="lower right")
    fig.suptitle("validation figures per epoch", fontsize=10)
    fig.tight_layout()
    return save_png(fig, out_png)


def run_curves(args) -> int:
    labels = args.labels.split(",") if args.labels else [None] * len(args.runs)
    if len(labels) != len(args.runs):
        raise InputError(f"--labels gives {len(labels)} names for {len(args.runs)} runs")
    runs = [read_curves(Path(p), label) for p, label in zip(args.runs, labels)]
    out = draw_curves(runs, Path(args.out), args.x)
    if not args.quiet:
        print(f"wrote {out}")
    return 0
