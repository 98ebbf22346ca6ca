"""Realism table: image statistics of phantom cine next to the real Sunnybrook cine (ED, expert contours).

    python -m evaluation realism [--data /work/shared/data/sunnybrook] [--cases 60] [--seed 7]
                                 [--json Resources/results/realism.json] [--out Resources/results/realism.md]

Every figure is measured the same way on both sides, on one end-diastolic image with its blood-pool and
myocardium masks (Sunnybrook: the experts' i/o contours rasterised on the DICOM grid; phantom: cine frame 0
and its labels, papillary muscles and trabeculae counted as blood pool like the experts' smooth contour).
The phantom column is labelled with its generator version (--generator-version); columns of other versions are kept
in the JSON file, so the table shows how each generator version moved towards the real scans.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
from scipy.ndimage import binary_erosion, convolve, distance_transform_edt, gaussian_filter, sobel

# name -> (description, unit). Order is the table's.
STATISTICS = {
    "contrast": ("blood / myocardium median intensity", ""),
    "myo_spread": ("myocardium intensity spread: IQR / median (eroded 1 px)", ""),
    "blood_spread": ("blood-pool intensity spread: IQR / median (eroded 1 px)", ""),
    "lv_diameter_mm": ("LV equivalent diameter 2 sqrt(blood-pool area / pi)", "mm"),
    "wall_mm": ("mean wall thickness, equivalent radii r_epi - r_endo", "mm"),
    "edge_width_mm": ("endocardial edge width: (blood - myo) / mean gradient magnitude on the border", "mm"),
    "noise": ("noise SD / blood median (Immerkaer Laplacian estimate in blood pool + myocardium)", ""),
    "noise_corr": ("lag-1 correlation of the high-pass residual (image - Gaussian 1.5 px) in the heart", ""),
    "surround_mean": ("surroundings 3-25 mm outside the epicardium: mean / blood median", ""),
    "surround_spread": ("surroundings: SD / blood median", ""),
    "surround_bright": ("surroundings: share of pixels brighter than (blood + myo) / 2", ""),
    "surround_dark": ("surroundings: share of pixels darker than myo / 2 (air, lung)", ""),
}
_LAPLACE = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], float)


def _iqr_ratio(values: np.ndarray) -> float:
    q1, q2, q3 = np.percentile(values, [25, 50, 75])
    return float((q3 - q1) / max(q2, 1e-9))


def slice_statistics(image: np.ndarray, blood: np.ndarray, myo: np.ndarray, spacing_mm: float) -> dict[str, float]:
    """The STATISTICS of one ED image (R, C) with bool masks blood pool and myocardium, pixel spacing mm."""
    image = np.asarray(image, float)
    blood_core = binary_erosion(blood, iterations=1)
    myo_core = binary_erosion(myo, iterations=1)
    blood_core = blood_core if blood_core.sum() >= 10 else blood
    myo_core = myo_core if myo_core.sum() >= 10 else myo
    b, m = float(np.median(image[blood_core])), float(np.median(image[myo_core]))
    area = spacing_mm ** 2
    r_endo = math.sqrt(blood.sum() * area / math.pi)
    r_epi = math.sqrt((blood.sum() + myo.sum()) * area / math.pi)
    grad = np.hypot(sobel(image, 0), sobel(image, 1)) / 8.0 / spacing_mm  # intensity per mm
    border = blood & ~binary_erosion(blood)  # inner ring of the blood pool, next to the wall or papillaries
    border |= binary_erosion(~blood) & ~binary_erosion(~blood, iterations=2) & myo  # first myocardial ring
    edge = (b - m) / max(float(grad[border].mean()), 1e-9)
    heart = blood | myo
    lap = np.abs(convolve(image, _LAPLACE, mode="nearest"))
    noise_mask = binary_erosion(heart, iterations=2)
    noise_mask = noise_mask if noise_mask.sum() >= 20 else heart
    noise = math.sqrt(math.pi / 2) / 6.0 * float(lap[noise_mask].mean())
    residual = image - gaussian_filter(image, 1.5)
    pair = noise_mask[:, :-1] & noise_mask[:, 1:]
    a_, b_ = residual[:, :-1][pair], residual[:, 1:][pair]
    corr_c = float(np.corrcoef(a_, b_)[0, 1])
    pair = noise_mask[:-1, :] & noise_mask[1:, :]
    corr_r = float(np.corrcoef(residual[:-1, :][pair], residual[1:, :][pair])[0, 1])
    outside = distance_transform_edt(~heart) * spacing_mm
    ring = (outside > 3.0) & (outside <= 25.0)
    around = image[ring]
    return {
        "contrast": b / max(m, 1e-9),
        "myo_spread": _iqr_ratio(image[myo_core]),
        "blood_spread": _iqr_ratio(image[blood_core]),
        "lv_diameter_mm": 2 * r_endo,
        "wall_mm": r_epi - r_endo,
        "edge_width_mm": edge,
        "noise": noise / max(b, 1e-9),
        "noise_corr": (corr_c + corr_r) / 2,
        "surround_mean": float(around.mean()) / max(b, 1e-9),
        "surround_spread": float(around.std()) / max(b, 1e-9),
        "surround_bright": float((around > (b + m) / 2).mean()),
        "surround_dark": float((around < m / 2).mean()),
    }


def sunnybrook_slices(data_dir: Path):
    """Yield (label, image, blood, myo, spacing) for every image with both expert contours (ED)."""
    from evaluation.realcine import ed_pairs, read_plane, study_links
    from pscgan.io.contours import list_contours, reference_masks

    for study_id, original in sorted(study_links(data_dir).items()):
        for instance, endo, epi in ed_pairs(list_contours(Path(data_dir) / "contours" / original)):
            plane = read_plane(Path(data_dir) / "dicoms" / study_id / f"{instance}.dcm", instance)
            blood, myo = reference_masks(endo.xy, epi.xy, plane.shape)
            yield f"{study_id}/{instance}", plane.pixels, blood, myo, float(plane.spacing_rc[0])


def phantom_slices(seed: int, n_cases: int, level: str | None = None, version: str | None = None):
    """Yield (label, cine ED frame, blood, myo, spacing) of phantom cases (seed, 0..n-1) of generator `version`
    (default: the default version)."""
    from pscgan import labels as L
    from pscgan.phantom import generate_case, phantom_config

    cfg = phantom_config(version)
    for index in range(n_cases):
        case = generate_case(seed, index, cfg, level=level)
        lab = case.labels
        yield (f"{seed}/{index}", case.cine[0], lab == L.BLOOD_POOL,
               (lab == L.HEALTHY_MYOCARDIUM) | (lab == L.SCAR), float(case.meta["pixel_spacing_mm"][0]))


def summarise(slices) -> dict:
    """{statistic: [q25, median, q75]} and n over the given slices (slices without blood or wall skipped)."""
    rows = [slice_statistics(img, b, m, sp) for _, img, b, m, sp in slices if b.sum() >= 10 and m.sum() >= 10]
    out = {"n": len(rows)}
    for key in STATISTICS:
        v = np.array([r[key] for r in rows], float)
        out[key] = [round(float(x), 4) for x in np.percentile(v, [25, 50, 75])]
    return out


def _cell(q) -> str:
    return f"{q[1]:.3g} [{q[0]:.3g}-{q[2]:.3g}]"


def write_markdown(columns: dict[str, dict], path: Path, reference: str = "sunnybrook") -> Path:
    """Table: one row per statistic, Sunnybrook first, then each phantom version (median [IQR])."""
    names = [reference] + sorted(k for k in columns if k != reference)
    lines = [
        "# Phantom realism: image statistics against real cine",
        "",
        "Written by `python -m evaluation realism` (see its docstring for how each figure is measured).",
        "Each cell: median [25th-75th percentile] over end-diastolic slices. Sunnybrook: every slice of",
        "the two shared studies with both expert contours; phantom: cine frame 0 of cases 0..n-1 of the",
        "seed given, blood pool = label 1 (papillary muscles and trabeculae included), myocardium = labels 2-3.",
        "Sunnybrook's masks are hand-drawn polygons: some pixels of blood and epicardial fat fall inside its",
        "myocardium, so part of its myocardial spread is the contour, not the tissue (phantom labels are exact).",
        "Columns of other generator versions are kept from the run that measured them (realism.json).",
        "",
        "| statistic | " + " | ".join(f"{n} (n={columns[n]['n']}{', seed ' + str(columns[n]['seed']) if 'seed' in columns[n] else ''})"
                                       for n in names) + " |",
        "|---" * (len(names) + 1) + "|",
    ]
    for key, (text, unit) in STATISTICS.items():
        label = f"{text}" + (f" ({unit})" if unit else "")
        lines.append(f"| {label} | " + " | ".join(_cell(columns[n][key]) for n in names) + " |")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    from pscgan.errors import InputError
    from pscgan.phantom import GENERATOR_VERSION

    p = argparse.ArgumentParser(prog="python -m evaluation realism", description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=Path("/work/shared/data/sunnybrook"))
    p.add_argument("--cases", type=int, default=60)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--generator-version", default=None, metavar="VERSION",
                   help="phantom generator version of the phantom column (default: the default version)")
    p.add_argument("--json", type=Path, default=Path("Resources/results/realism.json"))
    p.add_argument("--out", type=Path, default=Path("Resources/results/realism.md"))
    args = p.parse_args(argv)
    try:
        if args.cases < 1:
            raise InputError(f"--cases {args.cases}: must be at least 1")
        columns = json.loads(args.json.read_text()) if args.json.is_file() else {}
        columns["sunnybrook"] = summarise(sunnybrook_slices(args.data))
        version = args.generator_version or GENERATOR_VERSION
        columns[version] = dict(summarise(phantom_slices(args.seed, args.cases, version=version)), seed=args.seed)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(columns, indent=1) + "\n")
    print(write_markdown(columns, args.out).read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
