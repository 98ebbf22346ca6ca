"""`pscgan demo`: the main job on an embedded default.

Generates a multi-slice phantom study (whose truth is known), runs the shipped model on it, and
prints the study summary next to the phantom's truth, with the path of the report picture.
"""
from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, default=Path("demo_out"))
    p.add_argument("--slices", type=int, default=8)
    p.add_argument("--seed", type=int, default=2024)
    p.add_argument("--checkpoint", type=Path, default=None)
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")


def run(args: argparse.Namespace) -> int:
    from ..io.case_folder import read_meta
    from ..phantom import generate_study, write_study
    from .infer import infer, print_summary

    study_dir = args.out / "phantom_study"
    cases = generate_study(args.seed, n_slices=args.slices)
    write_study(cases, study_dir)
    print(f"phantom study: {len(cases)} slices (seed {args.seed}) -> {study_dir}")
    result, written, seconds = infer(study_dir, args.out / "result", checkpoint=args.checkpoint, device=args.device)
    print(f"PSCGAN on {result.study.num_slices} slices x {result.study.num_frames} frames: {seconds:.1f} s")
    print("model result:")
    print_summary(result.summary)
    meta = read_meta(study_dir)
    truth_scar = sum(s.get("scar_area_cm2", 0.0) for s in meta.get("slices", []))
    truth_segments = sorted({int(k) for s in meta.get("slices", []) for k, v in s.get("segments", {}).items() if v.get("has_scar")})
    print("phantom truth:")
    print(f"  scar area            {truth_scar:.2f} cm2")
    print(f"  AHA segments w/ scar {', '.join(map(str, truth_segments)) if truth_segments else 'none'}")
    if "report.png" in written:
        print(f"report picture: {written['report.png'].resolve()}")
    print(f"all outputs:    {(args.out / 'result').resolve()}")
    return 0
