"""Where the Sunnybrook expert contours sit on their own images, and where a prediction sits against them.

    python -m evaluation contour-alignment DATA_DIR [--pred-root DIR] [--fixed-shift ROWS,COLS]

A diagnostic of the real-cine check (`python -m evaluation sunnybrook`), which it never changes: that check
uses the contours as given. For every image with both expert contours (ED), one line:
  edge shift (rows, cols): the shift of the endocardial polygon, in half pixels up to +-3 px, that puts it on
      the image's strongest edges (largest mean gradient magnitude of the image smoothed by a Gaussian of
      0.7 px, sampled bilinearly at 5 points per polygon edge). The endocardium is drawn smooth, outside the
      papillary muscles and trabeculae, so it need not lie on the strongest edge everywhere; a shift shared by
      most slices is an offset between contours and image, not anatomy.
  with --pred-root (folders of `pscgan infer`, as `sunnybrook` reads them): the integer shift of the predicted
      myocardium (up to +-4 px) that overlaps the experts' myocardium best, with that Dice, and the myocardial
      Dice of every prediction moved by one --fixed-shift (default 0,2), a mean per study.
Shifts are (rows down, columns right) in DICOM pixels.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter, map_coordinates, sobel

from pscgan.errors import InputError
from pscgan.io.contours import list_contours, reference_masks

from .realcine import ed_pairs, evaluate_slices, mask_dice, read_plane, study_links


def _densified(xy: np.ndarray, per_edge: int = 5) -> np.ndarray:
    """Closed polygon (N, 2) as (x, y) -> (N * per_edge, 2) points along its edges."""
    xy = np.asarray(xy, float)
    a, b = xy, np.roll(xy, -1, axis=0)
    t = np.arange(per_edge, dtype=float)[None, :, None] / per_edge  # (1, P, 1)
    return (a[:, None, :] + t * (b - a)[:, None, :]).reshape(-1, 2)


def edge_shift(image: np.ndarray, xy: np.ndarray, max_shift: float = 3.0, step: float = 0.5) -> tuple[float, float]:
    """(rows, cols) shift of polygon `xy` (x = column, y = row) that maximises the mean gradient magnitude along it."""
    smooth = gaussian_filter(np.asarray(image, float), 0.7)
    grad = np.hypot(sobel(smooth, 0), sobel(smooth, 1))
    pts = _densified(xy)
    offsets = np.arange(-max_shift, max_shift + step / 2, step)
    best, best_score = (0.0, 0.0), -np.inf
    for dy in offsets:
        for dx in offsets:
            score = map_coordinates(grad, [pts[:, 1] + dy, pts[:, 0] + dx], order=1, mode="nearest").mean()
            if score > best_score + 1e-12:
                best, best_score = (float(dy), float(dx)), score
    return best


def dice(a: np.ndarray, b: np.ndarray) -> float:
    """The real-cine check's Dice of two bool masks (realcine.mask_dice), 0 when both are empty."""
    d = mask_dice(a, b)
    return 0.0 if d is None else d


def shifted(mask: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """`mask` moved by (rows, cols) pixels, filled with False where it moved in from outside."""
    out = np.zeros_like(mask)
    r0, r1 = max(rows, 0), mask.shape[0] + min(rows, 0)
    c0, c1 = max(cols, 0), mask.shape[1] + min(cols, 0)
    out[r0:r1, c0:c1] = mask[r0 - rows : r1 - rows, c0 - cols : c1 - cols]
    return out


def best_overlap_shift(reference: np.ndarray, prediction: np.ndarray, max_shift: int = 4) -> tuple[int, int, float]:
    """Integer (rows, cols) shift of `prediction` with the highest Dice against `reference`, and that Dice
    (ties: the smallest shift)."""
    best = (0, 0, dice(reference, prediction))
    for dy in range(-max_shift, max_shift + 1):
        for dx in range(-max_shift, max_shift + 1):
            d = dice(reference, shifted(prediction, dy, dx))
            if d > best[2] + 1e-12 or (abs(d - best[2]) <= 1e-12 and abs(dy) + abs(dx) < abs(best[0]) + abs(best[1])):
                best = (dy, dx, d)
    return best


def contour_rows(data_dir: Path) -> list[dict]:
    """One row per image with both contours: study, instance, edge shift of the endocardium."""
    rows = []
    for study_id, original in sorted(study_links(data_dir).items()):
        for instance, endo, _epi in ed_pairs(list_contours(Path(data_dir) / "contours" / original)):
            plane = read_plane(Path(data_dir) / "dicoms" / study_id / f"{instance}.dcm", instance)
            rows.append({"study": study_id, "instance": instance, "endo_edge_shift": edge_shift(plane.pixels, endo.xy)})
    return rows


def prediction_rows(data_dir: Path, pred_root: Path, fixed: tuple[int, int]) -> dict[str, list[dict]]:
    """Per study, per contoured slice: the best shift of the predicted myocardium, and its Dice as is and at `fixed`."""
    out: dict[str, list[dict]] = {}
    for study_id in sorted(study_links(data_dir)):
        for r in evaluate_slices(study_id, Path(pred_root) / study_id, data_dir):
            _ref_bp, ref_myo = reference_masks(r.endo_xy, r.epi_xy, r.image.shape)
            pred_myo = np.isin(r.predicted, (2, 3))
            dy, dx, d = best_overlap_shift(ref_myo, pred_myo)
            out.setdefault(study_id, []).append({
                "instance": r.row["instance"], "myo_dice": dice(ref_myo, pred_myo), "best_shift": (dy, dx), "best_dice": d,
                "fixed_shift_dice": dice(ref_myo, shifted(pred_myo, *fixed)),
            })
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m evaluation contour-alignment", description=__doc__.split("\n")[0])
    p.add_argument("data", type=Path, metavar="DATA_DIR", help="folder laid out like ../shared/data/sunnybrook")
    p.add_argument("--pred-root", type=Path, default=None, help="folder of <PatientID>/ `pscgan infer` outputs")
    p.add_argument("--fixed-shift", default="0,2", metavar="ROWS,COLS", help="one shift for every prediction (default 0,2)")
    args = p.parse_args(argv)
    try:
        fixed = tuple(int(v) for v in args.fixed_shift.split(","))
        if len(fixed) != 2:
            raise ValueError
    except ValueError:
        print(f"error: --fixed-shift {args.fixed_shift!r}: expected two integers ROWS,COLS", file=sys.stderr)
        return 2
    try:
        if not args.data.is_dir():
            raise InputError(f"{args.data}: Sunnybrook data folder not found")
        for row in contour_rows(args.data):
            dy, dx = row["endo_edge_shift"]
            print(f"{row['study']} instance {row['instance']}: endocardium on the strongest edges when moved {dy:+.1f} rows, {dx:+.1f} columns")
        if args.pred_root is not None:
            for sid, rows in prediction_rows(args.data, args.pred_root, fixed).items():
                for r in rows:
                    print(f"{sid} instance {r['instance']}: myocardium Dice {r['myo_dice']:.3f}; best moved {r['best_shift']} "
                          f"-> {r['best_dice']:.3f}; moved {fixed} -> {r['fixed_shift_dice']:.3f}")
                print(f"{sid}: mean myocardium Dice {np.mean([r['myo_dice'] for r in rows]):.3f} as is, "
                      f"{np.mean([r['fixed_shift_dice'] for r in rows]):.3f} with every prediction moved {fixed}")
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
