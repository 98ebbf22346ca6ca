"""`pscgan phantom`: write a digital cine + LGE phantom data set (or one multi-slice study)."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from ..errors import InputError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, type=Path, help="output folder (new, empty or a previous phantom)")
    parser.add_argument("--cases", type=int, default=10, help="number of cases (default 10)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--frames", type=int, default=25, help="cine frames per cycle (default 25, at least 8)")
    parser.add_argument("--workers", type=int, default=1, help="parallel processes (default 1)")
    parser.add_argument("--study", type=int, default=None, metavar="N_SLICES",
                        help="write one multi-slice study with N_SLICES slices instead of single cases")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--generator-version", default=None, metavar="VERSION",
                        help="generator version: phantom-1.3 (the default) or phantom-1.4 (more realistic; the shipped model's training data)")


def run(args: argparse.Namespace) -> int:
    from ..phantom import generate_dataset, generate_study, phantom_config, write_study
    from ..phantom.dataset import check_output_folder

    if args.frames < 8:
        raise InputError(f"--frames {args.frames}: must be at least 8")
    if args.cases < 1:
        raise InputError(f"--cases {args.cases}: must be at least 1")
    if args.workers < 1:
        raise InputError(f"--workers {args.workers}: must be at least 1")
    if args.study is not None and args.study < 1:
        raise InputError(f"--study {args.study}: must be at least 1 slice")
    out = check_output_folder(args.out)
    cfg = phantom_config(args.generator_version, frames=int(args.frames))
    start = time.perf_counter()
    if args.study is not None:
        folder = write_study(generate_study(args.seed, args.study, cfg), out)
        print(f"wrote a {args.study}-slice phantom study to {folder} in {time.perf_counter() - start:.1f} s")
        return 0
    paths = generate_dataset(out, args.cases, args.seed, cfg, workers=args.workers, progress=not args.quiet)
    print(f"wrote {len(paths)} phantom cases to {out} in {time.perf_counter() - start:.1f} s")
    return 0
