"""Training data: a folder of case folders -> RoiArrays, preprocessed once and cached.

Layout (pscgan.io.case_folder, with its meta.json policy; the phantom and the Slicer export write it):
  DATA/case_xxx/cine.nii.gz    (X, Y, S, T) short-axis cine, S slices x T frames (any T: resampled)
  DATA/case_xxx/lge.nii.gz     (X, Y, S) LGE of the same slices, registered to the cine; optional: a case
                               without one (e.g. exported from the Slicer module without a real LGE) trains
                               the segmentation phases only (RoiArrays.has_lge; the trainer skips it in the
                               synthesis phase and says how many it skipped)
  DATA/case_xxx/labels.nii.gz  (X, Y, S) uint8: 0 other, 1 blood pool, 2 healthy myocardium, 3 scar
  DATA/case_xxx/cine_labels.nii.gz  optional (X, Y, S, T) labels of every cine frame (the phantom writes them):
                               each slice's end-systolic labels (`systole_labels`) for the auxiliary task of
                               `--systole-weight` (RoiArrays.systole; unknown for a case without them)
  DATA/case_xxx/meta.json      optional keys: "pixel_spacing_mm" [row, col], "lv_center_rc" [row, col]
                               (or one per slice), "scar_area_cm2"
Each slice is one sample. The ROI is centred on the REFERENCE LV centre: meta "lv_center_rc", else
the centroid of the labels' classes 1-3 (blood pool + myocardium + scar). Training adds a random
shift of up to `jitter` pixels (RoiArrays margin) so the model tolerates the automatic centre's
error at inference. Cine ROIs go through the same `pscgan.preprocess.prepare` as inference; the
LGE ROI is scaled to [-1, 1] by the same `normalise` (so the model's LGE output is on that scale).
The preprocessed arrays are cached in DATA/.cache/roi_<hash>.npz (hash of the preprocessing
configuration, the margin and the case files' names, sizes and times), written atomically.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from pscgan.errors import InputError
from pscgan.io.case_folder import CINE_FILE, CINE_LABELS_FILE, LABELS_FILE, LGE_FILE, META_FILE, case_folders

from .arrays import UNKNOWN_LABEL, RoiArrays

CACHE_DIR = ".cache"
REQUIRED = (CINE_FILE, LABELS_FILE)
CASE_FILES = (CINE_FILE, CINE_LABELS_FILE, LGE_FILE, LABELS_FILE, META_FILE)  # what the cache key covers


def find_cases(data_dir: Path) -> list[Path]:
    """Case folders under data_dir (sorted by name); InputError if none or one is incomplete."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise InputError(f"{data_dir}: data folder not found")
    cases = case_folders(data_dir)
    if not cases:
        raise InputError(f"{data_dir}: no case folders (expected sub-folders with {', '.join(REQUIRED)})")
    for c in cases:
        missing = [f for f in REQUIRED if not (c / f).is_file()]
        if missing:
            raise InputError(f"{c}: missing {', '.join(missing)} (training needs the cine and its labels)")
    return cases


def _cache_key(cases: list[Path], pre_dict: dict, margin: int) -> str:
    h = hashlib.sha256(json.dumps({"pre": pre_dict, "margin": margin}, sort_keys=True, default=str).encode())
    for c in cases:
        for f in CASE_FILES:
            p = c / f
            if p.exists():
                st = p.stat()
                h.update(f"{c.name}/{f}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


def _reference_centre(labels_slice: np.ndarray, meta_centre, s: int, path: Path) -> np.ndarray:
    if meta_centre is not None:
        arr = np.asarray(meta_centre, float)
        return arr[s] if arr.ndim == 2 else arr
    rr, cc = np.nonzero(labels_slice > 0)
    if rr.size == 0:
        raise InputError(f"{path}: slice {s} has no labelled tissue and meta.json gives no lv_center_rc")
    return np.array([rr.mean(), cc.mean()])


def systole_labels(cine_labels: np.ndarray) -> np.ndarray:
    """Per-frame labels (T, S, R, C) 0-3 -> each slice's labels at end-systole (S, R, C): the frame with the
    fewest blood-pool pixels, as other 0 / blood pool 1 / myocardium 2 (healthy and scar alike)."""
    es = (cine_labels == 1).sum(axis=(2, 3)).argmin(axis=0)  # (S,) end-systolic frame of each slice
    frames = cine_labels[es, np.arange(cine_labels.shape[1])]  # (S, R, C)
    return np.minimum(frames, 2).astype(np.uint8)


def case_arrays(case: Path, pre, margin: int) -> dict[str, np.ndarray]:
    """One case folder -> dict of cine (S,T,R,R), lge (S,R,R), labels (S,R,R), systole (S,R,R), scar (S,),
    has_lge (S,) with R = roi + 2*margin. Without lge.nii.gz the LGE is zeros and has_lge False; without
    cine_labels.nii.gz the systole labels are UNKNOWN_LABEL."""
    from pscgan.io.case_folder import read_case_cine, read_case_cine_labels, read_case_volume, read_meta
    from pscgan.preprocess import crop_roi, normalise, prepare

    big = replace(pre, roi_size=pre.roi_size + 2 * margin)
    study = read_case_cine(case)
    meta = read_meta(case)
    lab = np.asarray(read_case_volume(case, LABELS_FILE, "label map").pixels)  # (S, R, C)
    has_lge = (case / LGE_FILE).is_file()
    lge = np.asarray(read_case_volume(case, LGE_FILE, "LGE image").pixels, np.float32) if has_lge \
        else np.zeros(lab.shape, np.float32)  # (S, R, C)
    if lge.shape != lab.shape or lge.shape[0] != study.num_slices or lge.shape[1:] != study.slice_shape:
        raise InputError(f"{case}: cine {study.pixels.shape}, LGE {lge.shape} and labels {lab.shape} do not match")
    if lab.min() < 0 or lab.max() > 3:
        raise InputError(f"{case / LABELS_FILE}: labels must be 0..3, found {lab.min()}..{lab.max()}")
    centres = np.stack([_reference_centre(lab[s], meta.get("lv_center_rc"), s, case) for s in range(study.num_slices)])
    batch = prepare(study, big, centers_rc=centres)  # cine (S, T, R, R) in [-1, 1]
    spacing_rc = (study.spacing[1], study.spacing[0])
    lge_roi = np.stack([normalise(crop_roi(lge[s], centres[s], spacing_rc, big, order=1), big.clip_percentiles)
                        if has_lge else np.zeros((big.roi_size, big.roi_size), np.float32) for s in range(len(centres))])
    lab_roi = np.stack([crop_roi(lab[s].astype(np.float32), centres[s], spacing_rc, big, order=0) for s in range(len(centres))])
    per_frame = read_case_cine_labels(case, study.pixels.shape[1], study.slice_shape)  # (T, S, R, C) or None
    if per_frame is None:
        sys_roi = np.full(lab_roi.shape, UNKNOWN_LABEL, np.uint8)
    else:
        es = systole_labels(per_frame)
        sys_roi = np.rint(np.stack([crop_roi(es[s].astype(np.float32), centres[s], spacing_rc, big, order=0)
                                    for s in range(len(centres))])).astype(np.uint8)
    area = float(spacing_rc[0] * spacing_rc[1]) / 100.0
    return {
        "cine": np.asarray(batch.cine, np.float32),
        "lge": lge_roi.astype(np.float32),
        "labels": np.rint(lab_roi).astype(np.uint8),
        "systole": sys_roi,
        "scar": (lab == 3).sum(axis=(1, 2)).astype(np.float32) * area,
        "has_lge": np.full(study.num_slices, has_lge),
    }


def load_dataset(data_dir: Path, pre, margin: int = 2, limit: int | None = None, quiet: bool = True,
                 workers: int = 1) -> RoiArrays:
    """All slices of all cases as RoiArrays (cached; see module docstring); `workers` processes build the cache."""
    from pscgan.io.atomic import write_file

    cases = find_cases(data_dir)[:limit] if limit else find_cases(data_dir)
    pre_dict = pre.to_dict() if hasattr(pre, "to_dict") else dict(pre)
    cache = Path(data_dir) / CACHE_DIR / f"roi_{_cache_key(cases, pre_dict, margin)}.npz"
    if cache.is_file():
        try:
            with np.load(cache) as z:
                return RoiArrays(cine=z["cine"].astype(np.float32), lge=z["lge"], labels=z["labels"], margin=margin,
                                 scar_area_cm2=z["scar"], names=[str(n) for n in z["names"]],
                                 has_lge=z["has_lge"], systole=_known(z["systole"]))
        except Exception:  # a damaged cache is rebuilt
            pass
    from tqdm import tqdm

    if workers > 1:
        from concurrent.futures import ProcessPoolExecutor
        from functools import partial

        with ProcessPoolExecutor(workers) as pool:
            parts = list(tqdm(pool.map(partial(case_arrays, pre=pre, margin=margin), cases, chunksize=8),
                              total=len(cases), desc="preprocessing", disable=quiet))
    else:
        parts = [case_arrays(c, pre, margin) for c in tqdm(cases, desc="preprocessing", disable=quiet)]
    names = [f"{c.name}/{s}" for c, p in zip(cases, parts) for s in range(len(p["cine"]))]
    arrays = {k: np.concatenate([p[k] for p in parts]) for k in ("cine", "lge", "labels", "systole", "scar", "has_lge")}
    # stored as float16: use the float16 values now too, so a first run and a cached run see the same data
    arrays["cine"] = arrays["cine"].astype(np.float16).astype(np.float32)

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            np.savez(f, cine=arrays["cine"].astype(np.float16), lge=arrays["lge"], labels=arrays["labels"],
                     scar=arrays["scar"], names=np.array(names), has_lge=arrays["has_lge"], systole=arrays["systole"])

    try:
        write_file(cache, write)
    except OSError:  # read-only data folder: go on without a cache
        pass
    return RoiArrays(cine=arrays["cine"], lge=arrays["lge"], labels=arrays["labels"], margin=margin,
                     scar_area_cm2=arrays["scar"], names=names, has_lge=arrays["has_lge"],
                     systole=_known(arrays["systole"]))


def _known(systole: np.ndarray) -> np.ndarray | None:
    """The systole labels, or None when no sample has them (RoiArrays.systole)."""
    return None if bool((systole == UNKNOWN_LABEL).all()) else systole
