"""`pscgan infer INPUT --out DIR`: LGE-equivalent image, segmentation and metrics for one study."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", type=Path, help="DICOM folder, 4D NIfTI, NRRD / .seq.nrrd, a phantom case folder, "
                   "or a folder of case folders (each case is written to OUT/<case name>)")
    p.add_argument("--out", type=Path, required=True, help="output folder: new, empty, or an earlier result, which is "
                   "replaced as a whole; locked while this run writes it")
    p.add_argument("--series", action="append", metavar="UID", help="the DICOM series to read when a folder holds "
                   "several (SeriesInstanceUID; give it again to merge series, e.g. one series per slice)")
    p.add_argument("--checkpoint", type=Path, default=None, help="model bundle (.safetensors); default: the model shipped with the module")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--center", type=float, nargs=2, metavar=("ROW", "COL"), help="LV centre in pixels for every slice (default: automatic)")
    p.add_argument("--rv-insertion", type=float, nargs=2, metavar=("ROW", "COL"), help="anterior RV insertion point in pixels for every slice (default: meta.json, else "
                   "detected on the cine and the predicted segmentation, else the documented 120-degree default)")
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


class ProgressLine:
    """A progress line on stderr rewritten in place; end() closes it so that what follows starts a new line."""

    def __init__(self, quiet: bool):
        self.quiet, self.open = quiet, False

    def show(self, text: str) -> None:
        if not self.quiet:
            print(f"\r  {text}", end="", file=sys.stderr, flush=True)
            self.open = True

    def end(self) -> None:
        if self.open:
            print(file=sys.stderr, flush=True)
            self.open = False


def infer(input_path: Path, out: Path, *, checkpoint=None, device="auto", center=None, rv_insertion=None,
          report=True, quiet=False, series=None):
    from ..inference import Predictor
    from ..outfolder import reserve
    from ..outputs import OUTPUT_FILES

    t0 = time.perf_counter()
    with reserve(out, OUTPUT_FILES):  # an unusable or busy --out is refused before the work starts
        predictor = Predictor.load(checkpoint, device=device)
        result, written = _infer_study(input_path, out, predictor, center=center, rv_insertion=rv_insertion,
                                       report=report, quiet=quiet, series=series)
    return result, written, time.perf_counter() - t0


def _infer_study(input_path: Path, out: Path, predictor, *, center, rv_insertion, report, quiet, series=None):
    from ..hints import read_hints
    from ..io.readers import read_cine
    from ..outfolder import reserve
    from ..outputs import OUTPUT_FILES, write_outputs
    from ..pipeline import run_study

    line = ProgressLine(quiet)
    with reserve(out, OUTPUT_FILES):
        study = read_cine(input_path, series_uid=series)
        hints = read_hints(input_path, study.num_slices)
        try:
            result = run_study(
                study,
                predictor,
                centers_rc=center,
                rv_insertion_rc=rv_insertion if rv_insertion is not None else hints.rv_insertion_rc,
                rv_inferior_rc=None if rv_insertion is not None else hints.rv_inferior_rc,
                rv_source="markup" if rv_insertion is not None else "meta",
                levels=hints.levels,
                progress=lambda done, total, message: line.show(f"{message:<24} [{done}/{total}]"),
            )
        finally:
            line.end()
        written = write_outputs(result, out, report=report, extra={"model": predictor.info, "device": str(predictor.device)})
    for note in result.notes:
        print(f"note ({Path(input_path).name}): {note}", file=sys.stderr)
    return result, written


def infer_cases(cases: list[Path], out: Path, *, checkpoint=None, device="auto", report=True, quiet=False):
    """Run every case folder into out/<case name>, loading the model once. A case that cannot be used is
    skipped with its one-line reason. Returns (done: list of names, skipped: {name: reason})."""
    from ..errors import PSCGANError
    from ..inference import Predictor
    from ..outfolder import clean_inside, os_error, reserve

    line = ProgressLine(quiet)
    done, skipped = [], {}
    with reserve(out):  # the folder of results: locked, never swapped
        clean_inside(out)
        predictor = Predictor.load(checkpoint, device=device)
        for i, case in enumerate(cases, 1):
            try:
                try:
                    _infer_study(case, Path(out) / case.name, predictor, center=None, rv_insertion=None,
                                 report=report, quiet=True)
                except OSError as err:
                    raise os_error(err, Path(out) / case.name) from None
                done.append(case.name)
            except PSCGANError as exc:  # this case only: the next one still runs
                skipped[case.name] = str(exc)
                line.end()
                print(f"skipped {case.name}: {exc}", file=sys.stderr)
            line.show(f"cases [{i}/{len(cases)}]")
        line.end()
    return done, skipped


def run(args: argparse.Namespace) -> int:
    from ..io.case_folder import case_folders

    cases = case_folders(args.input)
    if cases:
        if args.center is not None or args.rv_insertion is not None:
            print("note: --center and --rv-insertion apply to one study; each case uses its own meta.json / detection",
                  file=sys.stderr)
        t0 = time.perf_counter()
        done, skipped = infer_cases(cases, args.out, checkpoint=args.checkpoint, device=args.device,
                                    report=not args.no_report, quiet=args.quiet)
        print(f"{args.input}: {len(done)} of {len(cases)} cases in {time.perf_counter() - t0:.1f} s -> {args.out}")
        if skipped:
            print(f"skipped {len(skipped)}: {', '.join(sorted(skipped))}")
        return 0 if done else 2
    result, written, seconds = infer(
        args.input, args.out, checkpoint=args.checkpoint, device=args.device, center=args.center,
        rv_insertion=args.rv_insertion, report=not args.no_report, quiet=args.quiet, series=args.series,
    )
    print(f"{args.input}: {result.study.num_slices} slices x {result.study.num_frames} frames in {seconds:.1f} s")
    print_summary(result.summary)
    print(f"wrote {len(written)} files to {args.out}")
    return 0
