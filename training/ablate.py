"""`python -m training ablate`: every row of the paper's Tables 3, 4 and 5 as a configuration, trained
on the same split with the same budget, evaluated on the validation split, tabulated side by side.

Each row trains in OUT/<row>/ (a normal run folder, resumable); a finished row leaves
OUT/<row>/result.json and is skipped on the next call. OUT/ablation.md and OUT/ablation.csv are
rewritten after every row with all finished rows. The paper's own figures (where it gives them) are
listed beside ours for orientation; they come from 280 real patients, ours from the given data.
"""
from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path

from pscgan.errors import InputError
from pscgan.nn.config import ModelConfig

from .cli_train import parse_shares
from .config import configs
from .phases import phases_for


@dataclass(frozen=True)
class Row:
    """One ablation row: changes to the base configuration (or another named configuration), what it
    is, the paper's table, and a seed offset (the same row under a second seed shows seed noise).
    Each change goes to the dataclass that has its key: ModelConfig (the architecture's switches) or
    TrainingConfig (the losses' switches: adversarial, synthetic_regularization, ...)."""

    changes: dict
    description: str
    table: str
    seed_offset: int = 0
    config: str | None = None  # a named configuration instead of the base + changes


ROWS: dict[str, Row] = {
    "full": Row({}, "PSCGAN (all components, hinge loss)", "3-5"),
    "full_seed1": Row({}, "PSCGAN, second seed", "3-5", seed_offset=1),
    "spatial_only": Row({"temporal_pathway": False}, "spatial perceptual pathway only", "4"),
    "spatial_only_seed1": Row({"temporal_pathway": False}, "spatial perceptual pathway only, second seed", "4", seed_offset=1),
    "temporal_only": Row({"spatial_pathway": False}, "temporal perceptual pathway only", "4"),
    "temporal_only_seed1": Row({"spatial_pathway": False}, "temporal perceptual pathway only, second seed", "4", seed_offset=1),
    # Not a paper row: both pathways kept, the spatial one's dilated 3x3 convolutions depthwise-separable (cheaper).
    "separable_spatial": Row({"separable": True}, "depthwise-separable spatial pathway (both pathways kept)", "-"),
    "no_multi_attention": Row({"multi_attention": False}, "multi-attention weighing removed", "4"),
    "no_progressive": Row({"progressive": False}, "progressive framework removed (one generator, parallel outputs)", "3"),
    "conv3d": Row({"encoder": "conv3d"}, "SCLN replaced by 3D convolutions", "3"),
    "convlstm": Row({"encoder": "convlstm"}, "ConvLSTM encoder", "4"),
    "conv3d_lstm": Row({"encoder": "conv3d_lstm"}, "3DConv + LSTM encoder", "4"),
    "no_adversarial": Row({"adversarial": False}, "adversarial learning removed", "3"),
    "no_synthetic_regularization": Row({"synthetic_regularization": False}, "synthetic regularisation removed", "5"),
    "no_auxiliary_loss": Row({"auxiliary_loss": False}, "segmentation auxiliary loss removed", "5"),
    "wgan_gp": Row({"adversarial_loss": "wgan-gp"}, "WGAN-GP adversarial loss", "Fig. 12"),
    "lsgan": Row({"adversarial_loss": "lsgan"}, "LSGAN adversarial loss", "Fig. 12"),
    "unet2d": Row({}, "plain 2D U-Net baseline (frames as channels; segmentation only)", "-", config="unet2d"),
}

# The paper's figures: overall accuracy, SSIM, PSNR, scar-size Pearson r (None: not reported).
PAPER = {
    "full": (0.9717, 0.78, 23.03, 0.97),
    "no_adversarial": (0.9592, 0.55, None, 0.95),
    "no_progressive": (0.9491, 0.61, None, 0.93),
    "conv3d": (0.9513, 0.64, None, 0.96),
    "spatial_only": (0.7361, 0.48, None, 0.71),
    "temporal_only": (0.8942, 0.57, None, 0.83),
    "no_multi_attention": (0.9672, 0.74, None, 0.94),
    "convlstm": (0.9597, 0.71, None, 0.91),
    "conv3d_lstm": (0.9647, 0.70, None, 0.93),
    "no_synthetic_regularization": (None, 0.77, 21.50, None),
    "no_auxiliary_loss": (0.9704, None, None, None),
    "wgan_gp": (None, 0.76, None, None),
}

COLUMNS = ("row", "description", "table", "accuracy", "dice_blood", "dice_myo", "dice_scar", "dice_mean",
           "ssim", "psnr", "scar_size_r", "epochs_run", "minutes", "status",
           "paper_accuracy", "paper_ssim", "paper_psnr", "paper_scar_size_r")


def row_config(base, base_training, row: str):
    """(ModelConfig, TrainingConfig) of `row` on the base configuration (base, base_training)."""
    if row not in ROWS:
        raise InputError(f"--rows: unknown row {row!r}; choose from {', '.join(ROWS)}")
    spec = ROWS[row]
    if spec.config is not None:
        cfg, training = configs(spec.config)
        return cfg.with_changes(frames=base.frames, size=base.size), training  # the base's input
    arch = {k: v for k, v in spec.changes.items() if k in ModelConfig.__dataclass_fields__}
    losses = {k: v for k, v in spec.changes.items() if k not in arch}
    name = base.name if row == "full" else f"{base.name}-{row}"
    cfg, training = base.with_changes(name=name, **arch), base_training.with_changes(name=name, **losses)
    shares = training.budget_shares
    if shares is not None and len(shares) != len(phases_for(cfg)):  # no_progressive: one joint phase gets it all
        training = training.with_changes(budget_shares=None)
    return cfg, training


def result_row(row: str, metrics: dict, epochs: int, minutes: float) -> dict:
    """One table row; `epochs` is the number of epochs actually trained, summed over the phases."""
    paper = PAPER.get(row.removesuffix("_seed1"), (None, None, None, None))
    return {
        "row": row, "description": ROWS[row].description, "table": ROWS[row].table,
        "accuracy": metrics.get("seg_accuracy"), "dice_blood": metrics.get("seg_dice_blood"),
        "dice_myo": metrics.get("seg_dice_myo"), "dice_scar": metrics.get("seg_dice_scar"),
        "dice_mean": metrics.get("seg_dice_mean"), "ssim": metrics.get("lge_ssim"), "psnr": metrics.get("lge_psnr"),
        "scar_size_r": metrics.get("scar_size_r"), "epochs_run": epochs, "minutes": round(minutes, 2),
        "paper_accuracy": paper[0], "paper_ssim": paper[1], "paper_psnr": paper[2], "paper_scar_size_r": paper[3],
    }


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def write_tables(out: Path, rows: list[dict]) -> None:
    with open(out / "ablation.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows)
    lines = [
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
        *("| " + " | ".join(_fmt(r.get(c)) for c in COLUMNS) + " |" for r in rows),
    ]
    note = ("Accuracy and Dice: final (phase III) segmentation on the validation split, Dice pooled over it; "
            "SSIM/PSNR: LGE-equivalent image, data range 2; scar size r: Pearson r of scar pixels per slice. "
            "paper_*: the PSCGAN paper's Tables 3-5 (280 patients), for orientation only.")
    (out / "ablation.md").write_text("# Ablations\n\n" + note + "\n\n" + "\n".join(lines) + "\n")


def run_ablate(args) -> int:
    import time

    from pscgan.inference import resolve_device

    from .cli_train import load_split, named_configs
    from .distributed import setup
    from .trainer import Trainer, TrainOptions

    if args.list:
        for name, spec in ROWS.items():
            print(f"{name:<30} table {spec.table:<8} {spec.description}  {spec.changes or spec.config or ''}")
        return 0
    base, base_training = named_configs(args.config)
    if getattr(args, "budget_shares", None):
        base_training = base_training.with_changes(budget_shares=parse_shares(args.budget_shares))
    names = [r.strip() for r in args.rows.split(",") if r.strip()] if args.rows else list(ROWS)
    for r in names:
        row_config(base, base_training, r)  # validate all names before training anything
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    ctx = setup(resolve_device(args.device))
    try:
        train, val, pre = load_split(args, base, out)  # one split for every row (out/split.json)
        results: list[dict] = []
        for r in names:
            run_dir = out / r
            done = run_dir / "result.json"
            if done.is_file():
                results.append(json.loads(done.read_text()))
                continue
            cfg, training = row_config(base, base_training, r)
            t0 = time.perf_counter()
            opts = TrainOptions(epochs=args.epochs, batch_size=args.batch_size, seed=args.seed + ROWS[r].seed_offset, jitter=args.jitter,
                                max_minutes=args.max_minutes, resume=True, quiet=args.quiet)
            trainer = Trainer(cfg, training, train, val, run_dir, opts, ctx=ctx, preprocess=pre.to_dict(),
                              info={"data": str(args.data), "ablation_row": r})
            result = trainer.run()
            metrics = trainer.validate(result.model) if ctx.is_main else {}
            row = result_row(r, metrics, result.epochs_run, (time.perf_counter() - t0) / 60.0)
            row["status"] = result.status
            if ctx.is_main:
                done.write_text(json.dumps(row, indent=1, default=str))
                results.append(row)
                write_tables(out, results)
                if not args.quiet:
                    print(f"{r}: accuracy {_fmt(row['accuracy'])}, SSIM {_fmt(row['ssim'])}, "
                          f"PSNR {_fmt(row['psnr'])}, scar r {_fmt(row['scar_size_r'])}")
        if ctx.is_main:
            write_tables(out, results)
            if not args.quiet:
                print(f"wrote {out / 'ablation.md'} and {out / 'ablation.csv'}")
    finally:
        ctx.close()
    return 0
