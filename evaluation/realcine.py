"""Real-cine check on Sunnybrook (CC0): Dice of `pscgan infer`'s labels against the experts' ED contours.

    python -m evaluation sunnybrook DATA_DIR --out DIR [--checkpoint BUNDLE] [--pred-root DIR] [--study ID]

DATA_DIR is any folder laid out like /work/shared/data/sunnybrook (link.csv, dicoms/<PatientID>/,
contours/<OriginalID>/{i,o}-contours/, manifest.csv optional). Predictions are read from
--pred-root (default DIR/predictions), one `pscgan infer` output folder per study,
<PatientID>/labels.nii.gz (and metrics.json for the ROI centres); a study without one is inferred
first with --checkpoint (default: the shipped model). Prints one line per contoured slice and a summary
per study.
For every contoured slice with both an endocardial (i) and an epicardial (o) contour on the same image
(the ED phase):
  reference blood pool = pixels whose centre is inside the endo polygon,
  reference myocardium = inside epi and not inside endo,
  predicted blood pool = label 1, predicted myocardium = label 2 or 3,
after the predicted label volume is resampled (nearest neighbour) onto that DICOM image's pixel grid by
geometry (ImagePositionPatient / ImageOrientationPatient / PixelSpacing against the NIfTI's origin,
spacing and direction), never by assuming slice order. The ROI centre the pipeline used (metrics.json
"roi_centers_rc") is mapped the same way and checked to lie inside the endocardium.
Phase: the model's tissue output is for cine frame 0 (the first DICOM phase, just after the R wave);
the experts' ED contours are on the phase recorded in each row ("phase"), the last or next-to-last of 20.
Writes sunnybrook.json, sunnybrook.md and sunnybrook_overlay.png into --out.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pscgan.errors import InputError
from pscgan.io.contours import ContourFile, list_contours, reference_masks
from pscgan.labels import BLOOD_POOL, COLORS, HEALTHY_MYOCARDIUM, SCAR
from pscgan.metrics.segmentation import dice

PLANE_TOLERANCE_FRACTION = 0.25  # a DICOM plane further than this x slice spacing from every predicted slice is "not covered"


@dataclass
class DicomPlane:
    """Where one DICOM image lies: pixel (r, c) is at position + c*spacing_rc[1]*col_axis + r*spacing_rc[0]*row_axis."""

    instance: int
    position: np.ndarray  # (3,) LPS, ImagePositionPatient
    col_axis: np.ndarray  # (3,) direction of increasing column index, IOP[0:3]
    row_axis: np.ndarray  # (3,) direction of increasing row index, IOP[3:6]
    spacing_rc: tuple[float, float]  # (row spacing, column spacing) mm
    shape: tuple[int, int]  # (R, C)
    pixels: np.ndarray  # (R, C) float32

    def lps_of(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """(..., 3) LPS of pixel coordinates (continuous)."""
        r = np.asarray(rows, float)[..., None] * self.spacing_rc[0]
        c = np.asarray(cols, float)[..., None] * self.spacing_rc[1]
        return self.position + c * self.col_axis + r * self.row_axis

    def pixel_of(self, lps: np.ndarray) -> tuple[float, float]:
        """(row, col) of an LPS point projected on this plane."""
        d = np.asarray(lps, float) - self.position
        return float(d @ self.row_axis / self.spacing_rc[0]), float(d @ self.col_axis / self.spacing_rc[1])


@dataclass
class LabelVolume:
    """A predicted label volume (S, R, C) with its ITK geometry (as in CineStudy)."""

    labels: np.ndarray  # (S, R, C) uint8
    spacing: np.ndarray  # (3,) along (i, j, k)
    origin: np.ndarray  # (3,)
    direction: np.ndarray  # (3, 3), columns = index axes
    source: str

    def continuous_index(self, lps: np.ndarray) -> np.ndarray:
        """(..., 3) LPS -> (..., 3) continuous (i = col, j = row, k = slice) index."""
        m = self.direction @ np.diag(self.spacing)
        return (np.asarray(lps, float) - self.origin) @ np.linalg.inv(m).T

    def lps_of(self, i: float, j: float, k: float) -> np.ndarray:
        return self.origin + self.direction @ (self.spacing * np.array([i, j, k], float))


@dataclass
class SliceResult:
    """Everything measured on one contoured image, plus what the overlay picture needs."""

    row: dict
    image: np.ndarray  # (R, C) the contoured DICOM image
    endo_xy: np.ndarray
    epi_xy: np.ndarray
    predicted: np.ndarray  # (R, C) uint8 labels on the DICOM grid
    centre_rc: tuple[float, float] | None


# ---------------------------------------------------------------------------------------------- reading


def study_links(data_dir: Path) -> dict[str, str]:
    """PatientID -> OriginalID (contour folder name) from link.csv."""
    path = Path(data_dir) / "link.csv"
    if not path.is_file():
        raise InputError(f"{path}: link.csv not found (is this the Sunnybrook folder?)")
    with open(path, newline="") as fh:
        return {r["patient_id"]: r["original_id"] for r in csv.DictReader(fh)}


def _manifest_phases(data_dir: Path, study_id: str) -> dict[int, tuple[int, int]]:
    """instance -> (slice_index, phase) from manifest.csv (empty when there is none)."""
    path = Path(data_dir) / "manifest.csv"
    if not path.is_file():
        return {}
    with open(path, newline="") as fh:
        return {int(r["instance"]): (int(r["slice_index"]), int(r["phase"])) for r in csv.DictReader(fh) if r["patient_id"] == study_id}


def read_plane(path: Path, instance: int) -> DicomPlane:
    import pydicom

    try:
        ds = pydicom.dcmread(str(path))
        iop = np.array([float(v) for v in ds.ImageOrientationPatient], float)
        ipp = np.array([float(v) for v in ds.ImagePositionPatient], float)
        sr, sc = (float(v) for v in ds.PixelSpacing)
        pixels = ds.pixel_array.astype(np.float32)  # (R, C)
    except FileNotFoundError:
        raise InputError(f"{path}: DICOM image of contour instance {instance} not found") from None
    except Exception as err:
        raise InputError(f"{path}: cannot read its geometry or pixels ({type(err).__name__})") from None
    return DicomPlane(instance, ipp, iop[:3], iop[3:], (sr, sc), pixels.shape, pixels)


def read_label_volume(pred_dir: Path) -> LabelVolume:
    import SimpleITK as sitk

    path = Path(pred_dir) / "labels.nii.gz"
    if not path.is_file():
        raise InputError(f"{path}: no predicted labels (run `pscgan infer` into {pred_dir} first)")
    try:
        image = sitk.ReadImage(str(path))
    except RuntimeError:
        raise InputError(f"{path}: not a readable NIfTI label volume") from None
    if image.GetDimension() != 3:
        raise InputError(f"{path}: expected a 3D label volume, got {image.GetDimension()}D")
    arr = sitk.GetArrayFromImage(image)  # (S, R, C)
    return LabelVolume(
        labels=np.asarray(arr).astype(np.uint8),
        spacing=np.array(image.GetSpacing(), float),
        origin=np.array(image.GetOrigin(), float),
        direction=np.array(image.GetDirection(), float).reshape(3, 3),
        source=str(path),
    )


def read_roi_centres(pred_dir: Path) -> np.ndarray | None:
    """(S, 2) ROI centres (row, col) in the prediction's geometry, or None without metrics.json."""
    path = Path(pred_dir) / "metrics.json"
    if not path.is_file():
        return None
    centres = json.loads(path.read_text()).get("roi_centers_rc")
    return None if centres is None else np.asarray(centres, float).reshape(-1, 2)


# ------------------------------------------------------------------------------------------- geometry


def labels_on_plane(volume: LabelVolume, plane: DicomPlane) -> tuple[np.ndarray, int | None, float]:
    """Nearest-neighbour resampling of the label volume onto the DICOM image's grid.

    Returns ((R, C) uint8 labels, predicted slice index k nearest to the plane centre or None when the
    plane is not covered, distance in mm from the plane centre to that slice).
    """
    rows, cols = plane.shape
    rr, cc = np.mgrid[0:rows, 0:cols]
    idx = volume.continuous_index(plane.lps_of(rr, cc))  # (R, C, 3) as (i, j, k)
    centre_k = volume.continuous_index(plane.lps_of(np.array((rows - 1) / 2), np.array((cols - 1) / 2)))[2]
    k_near = int(np.rint(centre_k))
    distance_mm = abs(centre_k - k_near) * volume.spacing[2]
    out = np.zeros((rows, cols), np.uint8)
    n_slices, n_rows, n_cols = volume.labels.shape
    if not (0 <= k_near < n_slices) or distance_mm > PLANE_TOLERANCE_FRACTION * volume.spacing[2]:
        return out, None, float(distance_mm)
    ii, jj, kk = (np.rint(idx[..., a]).astype(int) for a in range(3))
    inside = (ii >= 0) & (ii < n_cols) & (jj >= 0) & (jj < n_rows) & (kk >= 0) & (kk < n_slices)
    out[inside] = volume.labels[kk[inside], jj[inside], ii[inside]]
    return out, k_near, float(distance_mm)


# ------------------------------------------------------------------------------------------ evaluation


def ed_pairs(contours: list[ContourFile]) -> list[tuple[int, ContourFile, ContourFile]]:
    """(instance, endo, epi) for every image holding both contours: the ED images."""
    by_instance: dict[int, dict[str, ContourFile]] = {}
    for c in contours:
        by_instance.setdefault(c.instance, {})[c.kind] = c
    return [(n, d["i"], d["o"]) for n, d in sorted(by_instance.items()) if "i" in d and "o" in d]


def mask_dice(reference: np.ndarray, prediction: np.ndarray) -> float | None:
    """Dice of two bool masks (pscgan.metrics.segmentation.dice); None when both are empty."""
    return dice(reference.astype(np.uint8), prediction.astype(np.uint8), 1)


def _centre_inside(endo_xy: np.ndarray, centre_rc: tuple[float, float]) -> bool:
    from matplotlib.path import Path as PolygonPath

    return bool(PolygonPath(endo_xy).contains_point((centre_rc[1], centre_rc[0])))


def evaluate_slices(study_id: str, pred_dir: Path, data_dir: Path) -> list[SliceResult]:
    data_dir = Path(data_dir)
    links = study_links(data_dir)
    if study_id not in links:
        raise InputError(f"{data_dir / 'link.csv'}: study {study_id} not listed (known: {', '.join(sorted(links))})")
    pairs = ed_pairs(list_contours(data_dir / "contours" / links[study_id]))
    if not pairs:
        raise InputError(f"{data_dir / 'contours' / links[study_id]}: no image with both an i- and an o-contour")
    volume = read_label_volume(pred_dir)
    centres = read_roi_centres(pred_dir)
    phases = _manifest_phases(data_dir, study_id)
    results = []
    for instance, endo, epi in pairs:
        plane = read_plane(data_dir / "dicoms" / study_id / f"{instance}.dcm", instance)
        ref_bp, ref_myo = reference_masks(endo.xy, epi.xy, plane.shape)  # (R, C) bool each
        predicted, k, distance = labels_on_plane(volume, plane)
        pred_bp = predicted == BLOOD_POOL
        pred_myo = np.isin(predicted, (HEALTHY_MYOCARDIUM, SCAR))
        dicom_slice, phase = phases.get(instance, ((instance - 1) // 20 + 1, (instance - 1) % 20 + 1))
        centre_rc, hit = None, None
        if k is not None and centres is not None and k < len(centres):
            r, c = centres[k]
            centre_rc = plane.pixel_of(volume.lps_of(c, r, k))
            hit = _centre_inside(endo.xy, centre_rc)
        row = {
            "study": study_id,
            "instance": instance,
            "dicom_slice": dicom_slice,
            "phase": phase,
            "predicted_slice": k,
            "plane_distance_mm": round(distance, 3),
            "dice_blood_pool": mask_dice(ref_bp, pred_bp) if k is not None else None,
            "dice_myocardium": mask_dice(ref_myo, pred_myo) if k is not None else None,
            "ref_blood_pool_px": int(ref_bp.sum()),
            "pred_blood_pool_px": int(pred_bp.sum()),
            "ref_myocardium_px": int(ref_myo.sum()),
            "pred_myocardium_px": int(pred_myo.sum()),
            "pred_scar_px": int((predicted == SCAR).sum()),
            "roi_centre_rc": None if centre_rc is None else [round(centre_rc[0], 2), round(centre_rc[1], 2)],
            "centre_in_endocardium": hit,
        }
        results.append(SliceResult(row, plane.pixels, endo.xy, epi.xy, predicted, centre_rc))
    return results


def evaluate_sunnybrook(study_id: str, pred_dir: Path, data_dir: Path) -> list[dict]:
    """One dict per ED-contoured slice (see the module docstring); Dice None when the slice is not covered."""
    return [s.row for s in evaluate_slices(study_id, pred_dir, data_dir)]


def _mean(values: list) -> float | None:
    defined = [float(v) for v in values if v is not None]
    return round(float(np.mean(defined)), 4) if defined else None


def summarise(rows: list[dict]) -> dict:
    hits = [r["centre_in_endocardium"] for r in rows if r["centre_in_endocardium"] is not None]
    return {
        "slices": len(rows),
        "slices_covered": sum(r["predicted_slice"] is not None for r in rows),
        "mean_dice_blood_pool": _mean([r["dice_blood_pool"] for r in rows]),
        "mean_dice_myocardium": _mean([r["dice_myocardium"] for r in rows]),
        "centre_hit_rate": round(sum(hits) / len(hits), 4) if hits else None,
        "ed_phases": sorted({r["phase"] for r in rows}),
    }


# ---------------------------------------------------------------------------------------------- output


def _fmt(v) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)


def write_markdown(report: dict, path: Path) -> Path:
    lines = ["# Sunnybrook real cine: predicted labels vs expert ED contours", "", report["phase_note"], ""]
    for sid, block in report["studies"].items():
        s = block["summary"]
        lines += [
            f"## {sid} ({block['original_id']})", "",
            (f"Mean Dice blood pool {_fmt(s['mean_dice_blood_pool'])}, myocardium {_fmt(s['mean_dice_myocardium'])}; "
            f"ROI centre inside endocardium on {_fmt(s['centre_hit_rate'])} of slices; "
            f"{s['slices_covered']} of {s['slices']} contoured slices covered; expert ED phase(s) {s['ed_phases']}."), "",
            "| DICOM slice | instance | phase | pred. slice | Dice blood pool | Dice myocardium | ref/pred BP px | ref/pred myo px | pred scar px | centre in endo |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in block["slices"]:
            lines.append(
                f"| {r['dicom_slice']} | {r['instance']} | {r['phase']} | {_fmt(r['predicted_slice'])} | {_fmt(r['dice_blood_pool'])} | "
                f"{_fmt(r['dice_myocardium'])} | {r['ref_blood_pool_px']}/{r['pred_blood_pool_px']} | "
                f"{r['ref_myocardium_px']}/{r['pred_myocardium_px']} | {r['pred_scar_px']} | {_fmt(r['centre_in_endocardium'])} |",
            )
        lines.append("")
    path = Path(path)
    path.write_text("\n".join(lines))
    return path


def _picked(results: list[SliceResult], count: int) -> list[SliceResult]:
    if len(results) <= count:
        return results
    return [results[int(i)] for i in np.linspace(0, len(results) - 1, count).round()]


def draw_overlay(per_study: dict[str, list[SliceResult]], path: Path, per_study_count: int = 4) -> Path:
    """Contoured ED image, expert endo (red) / epi (green) lines, prediction as a translucent overlay."""
    from pscgan.report.canvas import new_figure, save_png

    chosen = {sid: _picked(r, per_study_count) for sid, r in per_study.items() if r}
    ncols = max((len(v) for v in chosen.values()), default=1)
    nrows = max(len(chosen), 1)
    fig = new_figure(2.6 * ncols, 2.9 * nrows + 0.4)
    for a, (sid, results) in enumerate(chosen.items()):
        for b, res in enumerate(results):
            ax = fig.add_subplot(nrows, ncols, a * ncols + b + 1)
            epi = res.epi_xy
            c0, r0 = np.floor(epi.min(0)).astype(int) - 18
            c1, r1 = np.ceil(epi.max(0)).astype(int) + 18
            r0, c0 = max(r0, 0), max(c0, 0)
            img = res.image[r0:r1, c0:c1]
            lo, hi = np.percentile(img, (1, 99.5))
            extent = (c0 - 0.5, c0 + img.shape[1] - 0.5, r0 + img.shape[0] - 0.5, r0 - 0.5)
            ax.imshow(img, cmap="gray", vmin=lo, vmax=hi, extent=extent, interpolation="nearest")
            rgba = np.zeros(img.shape + (4,), np.float32)  # (r, c, 4)
            crop = res.predicted[r0:r1, c0:c1]
            for label, colour in COLORS.items():
                rgba[crop == label] = (*colour, 0.45)
            ax.imshow(rgba, extent=extent, interpolation="nearest")
            for xy, colour in ((res.endo_xy, "red"), (res.epi_xy, "lime")):
                closed = np.vstack([xy, xy[:1]])
                ax.plot(closed[:, 0], closed[:, 1], color=colour, lw=1.0)
            if res.centre_rc is not None:
                ax.plot(res.centre_rc[1], res.centre_rc[0], "+", color="yellow", ms=8, mew=1.5)
            r = res.row
            ax.set_title(f"{sid} slice {r['dicom_slice']} ph {r['phase']}\nDice BP {_fmt(r['dice_blood_pool'])}  "
                         f"myo {_fmt(r['dice_myocardium'])}", fontsize=7)
            ax.set_axis_off()
    fig.suptitle("Expert ED contours (red endo, green epi) vs predicted labels (orange blood pool, purple myocardium, "
                  "cyan scar); + ROI centre", fontsize=8)
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=0.86, wspace=0.05, hspace=0.3)
    return save_png(fig, path)


PHASE_NOTE = (
    "Phase compared: the model's segmentation describes cine frame 0 (the first of the 20 DICOM phases, "
    "resampled to 25 frames; the phantom's end-diastole). The expert contours are at the ED phase listed per row "
    "(the last or next-to-last of 20, i.e. one or two phases before frame 0 in the cardiac cycle), drawn on that "
    "phase's image. The picture shows that contoured image."
)


def run_infer(data_dir: Path, study_id: str, pred_dir: Path, checkpoint: Path | None, device: str) -> float:
    from pscgan.commands.infer import infer

    _, _, seconds = infer(Path(data_dir) / "dicoms" / study_id, pred_dir, checkpoint=checkpoint, device=device,
                          report=False, quiet=True)
    return seconds


def evaluate_all(pred_root: Path, data_dir: Path, out_dir: Path, study_ids: list[str] | None = None,
                 infer_missing: bool = False, checkpoint: Path | None = None, device: str = "auto") -> dict:
    """Evaluate every study (all of link.csv by default); write the three outputs; return the report dict."""
    links = study_links(data_dir)
    study_ids = study_ids or sorted(links)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = {"data": str(data_dir), "pred_root": str(pred_root), "phase_note": PHASE_NOTE, "studies": {}}
    per_study = {}
    for sid in study_ids:
        pred_dir = Path(pred_root) / sid
        seconds = None
        if infer_missing and not (pred_dir / "labels.nii.gz").is_file():
            seconds = round(run_infer(data_dir, sid, pred_dir, checkpoint, device), 2)
        results = evaluate_slices(sid, pred_dir, data_dir)
        per_study[sid] = results
        rows = [r.row for r in results]
        model = None
        if (pred_dir / "metrics.json").is_file():
            model = json.loads((pred_dir / "metrics.json").read_text()).get("model")
        report["studies"][sid] = {"original_id": links[sid], "summary": summarise(rows), "slices": rows,
                                  "infer_seconds": seconds, "model": model}
    (out_dir / "sunnybrook.json").write_text(json.dumps(report, indent=2))
    write_markdown(report, out_dir / "sunnybrook.md")
    draw_overlay(per_study, out_dir / "sunnybrook_overlay.png")
    return report


def slice_line(row: dict) -> str:
    """One printed line per contoured slice."""
    return (f"{row['study']} slice {row['dicom_slice']:>2} (instance {row['instance']}, phase {row['phase']}): "
            f"Dice blood pool {_fmt(row['dice_blood_pool'])}, myocardium {_fmt(row['dice_myocardium'])}, "
            f"centre in endocardium {_fmt(row['centre_in_endocardium'])}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m evaluation sunnybrook", description=__doc__.split("\n")[0])
    p.add_argument("data", type=Path, metavar="DATA_DIR", help="folder laid out like ../shared/data/sunnybrook")
    p.add_argument("--out", type=Path, required=True, help="writes sunnybrook.json, .md and _overlay.png here")
    p.add_argument("--checkpoint", type=Path, default=None, help="model bundle for inference (default: shipped model)")
    p.add_argument("--pred-root", type=Path, default=None,
                   help="folder holding <PatientID>/labels.nii.gz from `pscgan infer` (default: OUT/predictions)")
    p.add_argument("--study", action="append", help="PatientID (repeatable; default all in link.csv)")
    p.add_argument("--device", default="auto")
    args = p.parse_args(argv)
    pred_root = args.pred_root if args.pred_root is not None else args.out / "predictions"
    try:
        if not args.data.is_dir():
            raise InputError(f"{args.data}: Sunnybrook data folder not found")
        report = evaluate_all(pred_root, args.data, args.out, args.study, True, args.checkpoint, args.device)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for block in report["studies"].values():
        for row in block["slices"]:
            print(slice_line(row))
    for sid, block in report["studies"].items():
        s = block["summary"]
        print(f"{sid}: {s['slices_covered']}/{s['slices']} slices, Dice blood pool {_fmt(s['mean_dice_blood_pool'])}, "
              f"myocardium {_fmt(s['mean_dice_myocardium'])}, centre hit {_fmt(s['centre_hit_rate'])}, ED phases {s['ed_phases']}")
    print(f"wrote {args.out / 'sunnybrook.json'}, sunnybrook.md, sunnybrook_overlay.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
