"""`pscgan infer INPUT --out DIR`: LGE-equivalent image, segmentation and metrics for one study."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", type=Path, help="DICOM folder, 4D NIfTI, NRRD / .seq.nrrd, or a phantom case folder")
    p.add_argument("--out", type=Path, required=True, help="output folder (created; existing files of the same names are replaced)")
    p.add_argument("--checkpoint", type=Path, default=None, help="model bundle (.safetensors); default: the model shipped with the module")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--center", type=float, nargs=2, metavar=("ROW", "COL"), help="LV centre in pixels for every slice (default: automatic)")
    p.add_argument("--rv-insertion", type=float, nargs=2, metavar=("ROW", "COL"), help="anterior RV insertion point in pixels (default: meta.json or the documented default)")
    p.add_argument("--no-report", action="store_true", help="skip report.png")
    p.add_argument("--quiet", action="store_true")


def print_summary(summary: dict, out=sys.stdout) -> None:
    ratio = summary.get("scar_ratio")
    print(f"  slices measured      {summary['slices_measured']} of {summary['slices']}", file=out)
    print(f"  scar area            {summary['scar_area_cm2']:.2f} cm2 (volume {summary['scar_volume_ml']:.2f} ml)", file=out)
    print(f"  myocardium area      {summary['myocardium_area_cm2']:.2f} cm2", file=out)
    print(f"  scar ratio           {'undefined (no myocardium)' if ratio is None else f'{100 * ratio:.1f} %'}", file=out)
    segs = summary.get("segments_with_scar") or []
    print(f"  AHA segments w/ scar {', '.join(map(str, segs)) if segs else 'none'}", file=out)


def infer(input_path: Path, out: Path, *, checkpoint=None, device="auto", center=None, rv_insertion=None,
          report=True, quiet=False):
    from ..hints import read_hints
    from ..inference import Predictor
    from ..io.readers import read_cine
    from ..outputs import write_outputs
    from ..pipeline import run_study

    t0 = time.perf_counter()
    study = read_cine(input_path)
    hints = read_hints(input_path, study.num_slices)
    predictor = Predictor.load(checkpoint, device=device)

    def progress(done, total, message):
        if not quiet:
            print(f"\r  {message:<24} [{done}/{total}]", end="", file=sys.stderr, flush=True)

    result = run_study(
        study,
        predictor,
        centers_rc=center,
        rv_insertion_rc=rv_insertion if rv_insertion is not None else hints.rv_insertion_rc,
        levels=hints.levels,
        progress=progress,
    )
    if not quiet:
        print(file=sys.stderr)
    written = write_outputs(result, out, report=report, extra={"model": predictor.info, "device": str(predictor.device)})
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    return result, written, time.perf_counter() - t0


def run(args: argparse.Namespace) -> int:
    result, written, seconds = infer(
        args.input, args.out, checkpoint=args.checkpoint, device=args.device, center=args.center,
        rv_insertion=args.rv_insertion, report=not args.no_report, quiet=args.quiet,
    )
    print(f"{args.input}: {result.study.num_slices} slices x {result.study.num_frames} frames in {seconds:.1f} s")
    print_summary(result.summary)
    print(f"wrote {len(written)} files to {args.out}")
    return 0
