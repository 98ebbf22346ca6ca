"""`pscgan evaluate --pred DIR --ref DIR --out FILE.json [--plots DIR]`: paper Tables 1-2 for a set of cases."""
from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pred", required=True, type=Path, help="folder of predicted case folders (lge.nii.gz, labels.nii.gz)")
    p.add_argument("--ref", required=True, type=Path, help="folder of reference case folders (same names; meta.json)")
    p.add_argument("--out", required=True, type=Path, help="JSON file to write; the CSV and Markdown go beside it")
    p.add_argument("--plots", type=Path, default=None, help="folder for the correlation / Bland-Altman plots")
    p.add_argument("--intensity", choices=("minmax", "asis"), default="minmax",
                   help="image metrics on images min-max scaled to [-1, 1] (default) or as stored")
    p.add_argument("--data-range", type=float, default=2.0, help="data range for --intensity asis (default 2)")
    p.add_argument("--quiet", action="store_true", help="print only the output paths")


def run(args: argparse.Namespace) -> int:
    from ..errors import InputError
    from ..metrics.evaluate import EvaluationSettings, evaluate_folders
    from ..metrics.tables import markdown, write_all

    if args.out.suffix.lower() != ".json":
        raise InputError(f"--out {args.out}: must name a .json file")
    if args.data_range <= 0:
        raise InputError(f"--data-range {args.data_range}: must be positive")
    settings = EvaluationSettings(intensity=args.intensity, data_range=args.data_range)
    evaluation = evaluate_folders(args.pred, args.ref, settings)
    written = write_all(evaluation, args.out)
    if args.plots is not None:
        from ..report import draw_agreement_plots

        agg = evaluation.aggregates()
        for key, quantity, unit in (("scar_area_cm2", "scar area", "cm²"), ("scar_ratio_pct", "scar ratio", "%")):
            pairs = agg[key]["pairs"]
            written[f"plot {key}"] = draw_agreement_plots([p for p, _ in pairs], [r for _, r in pairs], quantity, unit,
                                                          args.plots / f"{key.rsplit('_', 1)[0]}_agreement.png")
    if not args.quiet:
        print(markdown(evaluation))
    for name, reason in evaluation.skipped.items():
        print(f"skipped {name}: {reason}")
    for name, path in written.items():
        print(f"{name}: {path}")
    return 0
