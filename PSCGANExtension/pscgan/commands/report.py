"""`pscgan report CASE_DIR [--ref REF_CASE_DIR] --out report.png`: the report picture of one case folder.

The case folder holds labels.nii.gz, optionally lge.nii.gz, meta.json (level, RV insertion points)
and the cine `cine.nii.gz` (X, Y, S, T) (multi-slice cases: one row per slice); without a cine the ED / ES panels are left out. The ES
frame is --es, else meta.json's "es_frame" (the case's, else the reference's), else the frame with
the darkest blood pool. --ref adds
the reference LGE (its lge.nii.gz) beside the synthesised one; its meta.json supplies the level and
insertion points when the case has none. Without insertion points in either meta.json they are
detected automatically (`pscgan.metrics.rv_insertion`), else the documented default is used.
"""
from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("case", type=Path, help="case folder (labels.nii.gz, lge.nii.gz, meta.json, cine.nii.gz)")
    p.add_argument("--ref", type=Path, default=None, help="reference case folder with the real LGE")
    p.add_argument("--out", type=Path, required=True, help="PNG file to write")
    p.add_argument("--es", type=int, default=None, help="end-systolic frame (0-based); default: darkest blood pool")


def case_cine_frames(folder: Path, n_slices: int, shape_rc: tuple[int, int]):
    """(S, T, R, C) cine frames of a case folder (pscgan.io.case_folder's cine.nii.gz), or None without one."""
    from ..errors import InputError
    from ..io.case_folder import CINE_FILE, read_case_cine

    if not (Path(folder) / CINE_FILE).is_file():
        return None
    study = read_case_cine(folder, min_frames=2)
    if study.num_slices != n_slices or study.slice_shape != tuple(shape_rc):
        raise InputError(f"{Path(folder) / CINE_FILE}: expected {n_slices} slice(s) of {tuple(shape_rc)} pixels, got "
                         f"{study.num_slices} of {study.slice_shape}")
    return study.pixels


def _quantify(case, source, image):
    """SliceQuantification of one slice: level and insertion from `source`'s meta, else detected on `image`."""
    from ..metrics.clinical import quantify_slice
    from ..metrics.rv_insertion import detect_rv_insertion

    if not (case.labels > 0).any():
        return None, False
    anterior = source.insertion("rv_insertion_anterior_rc")
    inferior = source.insertion("rv_insertion_inferior_rc")
    detected = False
    if anterior is None and image is not None:
        found = detect_rv_insertion(image, case.labels, case.spacing_rc)
        if found is not None:
            anterior, inferior, detected = found.anterior_rc, found.inferior_rc, True
    q = quantify_slice(case.labels, case.spacing_rc, source.level or "mid", anterior, inferior)
    q.insertion_source = "detected" if detected else ("meta" if anterior is not None else "default")
    return q, detected


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from ..errors import InputError
    from ..metrics.cases import read_case_slices
    from ..report import draw_case_report

    if args.out.suffix.lower() != ".png":
        raise InputError(f"--out {args.out}: must name a .png file")
    cases = read_case_slices(args.case)
    refs = read_case_slices(args.ref) if args.ref is not None else None
    if refs is not None and (len(refs) != len(cases) or refs[0].labels.shape != cases[0].labels.shape):
        raise InputError(f"--ref {args.ref}: {len(refs)} slice(s) of {refs[0].labels.shape} do not match the case's "
                         f"{len(cases)} of {cases[0].labels.shape}")
    cine = case_cine_frames(args.case, len(cases), cases[0].labels.shape)
    quant, detected = [], False
    for k, case in enumerate(cases):
        has_meta = case.level is not None or case.insertion("rv_insertion_anterior_rc") is not None
        source = case if has_meta or refs is None else refs[k]
        image = cine[k, 0] if cine is not None else case.lge  # bright blood: the ED frame, else the LGE
        q, found = _quantify(case, source, image)
        quant.append(q)
        detected |= found
    if detected:
        print("RV insertion points detected automatically (check them on the picture)")
    ref_lge = None
    if refs is not None and all(r.lge is not None for r in refs):
        ref_lge = np.stack([r.lge for r in refs])
    lge = np.stack([c.lge for c in cases]) if all(c.lge is not None for c in cases) else None
    es = args.es
    if es is None and cine is not None:
        es = cases[0].meta.get("es_frame", refs[0].meta.get("es_frame") if refs is not None else None)
    path = draw_case_report(args.out, cine, np.stack([c.labels for c in cases]), lge, ref_lge, quant, es_index=es,
                            title=f"PSCGAN report: {args.case.name}")
    print(f"report: {path}")
    return 0
