"""`pscgan evaluate` on constructed case folders: figures against independent computations, bad cases skipped."""
from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
import SimpleITK as sitk
from scipy import stats
from skimage import metrics as skm

from pscgan.cli import main
from pscgan.errors import InputError
from pscgan.metrics.cases import read_case
from pscgan.metrics.evaluate import evaluate_folders

SIZE = 80  # larger than the 64x64 ROI: evaluate must crop
SPACING = (1.5, 1.25)  # row, col mm
ANTERIOR_DEG = 115.0


def polar(center):
    r, c = np.mgrid[0:SIZE, 0:SIZE].astype(float)
    return np.hypot(r - center[0], c - center[1]), np.degrees(np.arctan2(-(r - center[0]), c - center[1])) % 360


def labels_for(center, scar_start_deg, scar_width_deg, scar_depth, inner=9.0, outer=15.0):
    rad, ang = polar(center)
    lab = np.zeros((SIZE, SIZE), np.uint8)
    lab[rad < inner] = 1
    lab[(rad >= inner) & (rad < outer)] = 2
    wedge = np.mod(ang - scar_start_deg, 360) < scar_width_deg
    lab[(lab == 2) & wedge & (rad < inner + scar_depth)] = 3
    return lab


def lge_for(labels, rng, noise):
    intensity = np.choose(labels, [0.1, 0.35, 0.02, 0.5]).astype(np.float32)
    return intensity + rng.normal(0, noise, labels.shape).astype(np.float32)


def write_nifti(array, path, spacing_rc=SPACING, flip=False):
    image = sitk.GetImageFromArray(np.ascontiguousarray(array[None]))  # (1, R, C) -> size (C, R, 1)
    image.SetSpacing((spacing_rc[1], spacing_rc[0], 8.0))
    if flip:
        image.SetDirection((-1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0))
    sitk.WriteImage(image, str(path), useCompression=True)


def write_case(folder, labels, lge, meta=None, spacing_rc=SPACING, flip=False):
    folder.mkdir(parents=True)
    write_nifti(labels.astype(np.uint8), folder / "labels.nii.gz", spacing_rc, flip)
    if lge is not None:
        write_nifti(lge.astype(np.float32), folder / "lge.nii.gz", spacing_rc)
    if meta is not None:
        (folder / "meta.json").write_text(json.dumps(meta))


def insertion_point(center, deg=ANTERIOR_DEG, radius=15.0):
    a = math.radians(deg)
    return [center[0] - radius * math.sin(a), center[1] + radius * math.cos(a)]


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """Six reference / prediction pairs plus bad cases; returns (pred_dir, ref_dir, truth)."""
    root = tmp_path_factory.mktemp("eval")
    pred_dir, ref_dir = root / "pred", root / "ref"
    rng = np.random.default_rng(7)
    truth = {}
    specs = [  # (center, scar start, width, depth ref, depth pred, width pred)
        ((40.0, 41.0), 200, 50, 3, 4, 60), ((38.5, 44.0), 20, 80, 6, 5, 70), ((42.0, 37.5), 100, 30, 2, 2, 20),
        ((40.0, 40.0), 250, 100, 5, 6, 90), ((36.0, 42.0), 300, 40, 4, 1, 40), ((41.0, 39.0), 0, 0, 0, 2, 30),
    ]
    for i, (center, start, width, depth, depth_pred, width_pred) in enumerate(specs):
        name = f"case{i}"
        ref_lab = labels_for(center, start, width, depth)
        pred_lab = labels_for((center[0] + 1, center[1]), start, width_pred, depth_pred)
        ref_lge, pred_lge = lge_for(ref_lab, rng, 0.02), 100 * lge_for(pred_lab, rng, 0.04)  # other scale
        meta = {"pixel_spacing_mm": list(SPACING), "level": "mid",
                "rv_insertion_anterior_rc": insertion_point(center)}
        write_case(ref_dir / name, ref_lab, ref_lge, meta)
        write_case(pred_dir / name, pred_lab, pred_lge)
        truth[name] = (ref_lab, pred_lab, ref_lge, pred_lge, center)
    ring = labels_for((40.0, 40.0), 0, 0, 0)
    write_case(pred_dir / "only_in_pred", ring, None)
    write_case(ref_dir / "only_in_ref", ring, None)
    write_case(ref_dir / "bad_shape", ring, None)
    write_case(pred_dir / "bad_shape", ring[:-2], None)
    write_case(ref_dir / "bad_spacing", ring, None)
    write_case(pred_dir / "bad_spacing", ring, None, spacing_rc=(1.0, 1.0))
    write_case(ref_dir / "bad_direction", ring, None)
    write_case(pred_dir / "bad_direction", ring, None, flip=True)
    bad_values = ring.copy()
    bad_values[0, 0] = 7
    write_case(ref_dir / "bad_labels", ring, None)
    write_case(pred_dir / "bad_labels", bad_values, None)
    blood_only = np.where(ring == 1, 1, 0).astype(np.uint8)
    write_case(ref_dir / "no_myocardium", blood_only, None)
    write_case(pred_dir / "no_myocardium", blood_only, None)
    return pred_dir, ref_dir, truth


def roi(array, center):
    r0 = min(max(int(round(center[0])) - 32, 0), SIZE - 64)
    c0 = min(max(int(round(center[1])) - 32, 0), SIZE - 64)
    return array[r0:r0 + 64, c0:c0 + 64]


def to_unit(x):
    return 2 * (x - x.min()) / (x.max() - x.min()) - 1


def test_evaluate_command_writes_json_csv_markdown_and_plots(folders, tmp_path, capsys):
    pred_dir, ref_dir, truth = folders
    out = tmp_path / "eval.json"
    rc = main(["evaluate", "--pred", str(pred_dir), "--ref", str(ref_dir), "--out", str(out),
               "--plots", str(tmp_path / "plots"), "--quiet"])
    assert rc == 0
    data = json.loads(out.read_text())  # strict JSON (no NaN)
    assert set(data["skipped"]) == {"only_in_pred", "only_in_ref", "bad_shape", "bad_spacing", "bad_labels",
                                     "bad_direction"}
    assert "reference folder" in data["skipped"]["only_in_pred"] and "prediction folder" in data["skipped"]["only_in_ref"]
    assert "disagree" in data["skipped"]["bad_shape"] and "spacing" in data["skipped"]["bad_spacing"]
    assert "outside 0-3" in data["skipped"]["bad_labels"] and "orientation" in data["skipped"]["bad_direction"]
    assert data["n_cases"] == len(truth) + 1
    cases = {c["case"]: c for c in data["cases"]}
    assert cases["no_myocardium"]["metrics"]["ref_scar_ratio_pct"] is None
    assert any("scar ratio undefined" in note for note in cases["no_myocardium"]["notes"])

    # per-case figures against independent computations on the 64x64 ROI
    px_cm2 = SPACING[0] * SPACING[1] / 100
    for name, (ref_lab, pred_lab, ref_lge, pred_lge, center) in truth.items():
        m = cases[name]["metrics"]
        r_roi, p_roi = roi(ref_lab, center), roi(pred_lab, center)
        f = sitk.LabelOverlapMeasuresImageFilter()
        f.Execute(sitk.GetImageFromArray(r_roi), sitk.GetImageFromArray(p_roi))
        assert m["blood_pool_dice"] == pytest.approx(f.GetDiceCoefficient(1))
        assert m["healthy_myocardium_dice"] == pytest.approx(f.GetDiceCoefficient(2))
        a, b = to_unit(roi(ref_lge, center).astype(float)), to_unit(roi(pred_lge, center).astype(float))
        assert m["ssim"] == pytest.approx(skm.structural_similarity(a, b, gaussian_weights=True, sigma=1.5,
                                                                    use_sample_covariance=False, data_range=2), abs=1e-6)
        assert m["psnr"] == pytest.approx(skm.peak_signal_noise_ratio(a, b, data_range=2), abs=1e-6)
        assert m["nrmse"] == pytest.approx(skm.normalized_root_mse(a, b), abs=1e-6)
        assert m["ref_scar_area_cm2"] == pytest.approx((ref_lab == 3).sum() * px_cm2)
        assert m["pred_scar_area_cm2"] == pytest.approx((pred_lab == 3).sum() * px_cm2)

    # aggregates: Pearson with scipy, Bland-Altman by definition (an area is defined in every case)
    names = list(cases)
    pred_area = [cases[n]["metrics"]["pred_scar_area_cm2"] for n in names]
    ref_area = [cases[n]["metrics"]["ref_scar_area_cm2"] for n in names]
    agg = data["aggregates"]["scar_area_cm2"]
    expected = stats.pearsonr(pred_area, ref_area)
    assert agg["pearson"]["r"] == pytest.approx(expected.statistic, abs=1e-9)
    assert agg["pearson"]["p"] == pytest.approx(expected.pvalue, rel=1e-6)
    diffs = np.subtract(pred_area, ref_area)
    assert agg["bland_altman"]["bias"] == pytest.approx(diffs.mean())
    assert agg["bland_altman"]["loa_high"] == pytest.approx(diffs.mean() + 1.96 * diffs.std(ddof=1))
    ratio_pairs = [(c["metrics"]["pred_scar_ratio_pct"], c["metrics"]["ref_scar_ratio_pct"]) for c in data["cases"]]
    ratio_pairs = [p for p in ratio_pairs if None not in p]
    assert data["aggregates"]["scar_ratio_pct"]["pearson"]["n"] == len(ratio_pairs) == len(cases) - 1
    assert data["aggregates"]["scar_ratio_pct"]["pearson"]["r"] == pytest.approx(
        stats.pearsonr(*zip(*ratio_pairs)).statistic, abs=1e-9)
    ssims = [c["metrics"]["ssim"] for c in data["cases"] if c["metrics"]["ssim"] is not None]
    assert data["aggregates"]["mean_sd"]["ssim"]["mean"] == pytest.approx(np.mean(ssims))
    assert data["aggregates"]["mean_sd"]["ssim"]["n"] == len(truth)
    loc = data["aggregates"]["segment_localisation"]
    assert loc["positives"] + loc["negatives"] == 6 * (len(cases) - 1)  # no_myocardium has no segment
    assert 0.0 <= loc["auc"] <= 1.0 and loc["sensitivity"] is not None

    with open(out.with_suffix(".csv")) as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(cases) + len(data["skipped"])
    assert {r["status"] for r in rows} == {"ok", "skipped"}
    md = out.with_suffix(".md").read_text()
    assert "Table 1" in md and "Scar segment-level localization" in md and "bad_labels" in md
    for png in ("scar_area_agreement.png", "scar_ratio_agreement.png"):
        assert (tmp_path / "plots" / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_scar_free_segment_truth_from_reference(folders):
    pred_dir, ref_dir, _truth = folders
    evaluation = evaluate_folders(pred_dir, ref_dir)
    case0 = next(c for c in evaluation.cases if c.case == "case0")
    # case0's reference scar wedge spans 200-250 deg; anterior insertion at 115 -> mid segments 9 (175-235), 10 (235-295)
    assert [s.segment for s in case0.ref.segments if s.has_scar] == [9, 10]


def test_missing_folder_and_nothing_to_evaluate(tmp_path, capsys):
    rc = main(["evaluate", "--pred", str(tmp_path / "nope"), "--ref", str(tmp_path), "--out", str(tmp_path / "e.json")])
    err = capsys.readouterr().err
    assert rc == 2 and "nope" in err and len(err.strip().splitlines()) == 1
    (tmp_path / "p" / "a").mkdir(parents=True)
    (tmp_path / "r" / "b").mkdir(parents=True)
    with pytest.raises(InputError, match="no case could be evaluated"):
        evaluate_folders(tmp_path / "p", tmp_path / "r")


def test_meta_spacing_disagreeing_with_header_is_an_error(tmp_path):
    ring = labels_for((40.0, 40.0), 0, 0, 0)
    write_case(tmp_path / "c", ring, None, {"pixel_spacing_mm": [2.0, 2.0]})
    with pytest.raises(InputError, match="disagrees"):
        read_case(tmp_path / "c")


def write_stack(folder, labels, meta):
    folder.mkdir(parents=True)
    image = sitk.GetImageFromArray(np.ascontiguousarray(labels.astype(np.uint8)))  # (S, R, C)
    image.SetSpacing((SPACING[1], SPACING[0], 10.0))
    sitk.WriteImage(image, str(folder / "labels.nii.gz"))
    (folder / "meta.json").write_text(json.dumps(meta))


def test_multi_slice_case_is_evaluated_slice_by_slice(tmp_path):
    center = (40.0, 40.0)
    ref = np.stack([labels_for(center, 60, 60, 3), labels_for(center, 60, 60, 5)])
    pred = np.stack([labels_for(center, 60, 60, 3), labels_for(center, 60, 40, 5)])
    slices_meta = [{"level": "basal", "rv_insertion_anterior_rc": insertion_point(center)},
                   {"level": "apical", "rv_insertion_anterior_rc": insertion_point(center)}]
    write_stack(tmp_path / "ref" / "study", ref, {"pixel_spacing_mm": list(SPACING), "slices": slices_meta})
    write_stack(tmp_path / "pred" / "study", pred, {})
    write_stack(tmp_path / "ref" / "short", ref, {"slices": slices_meta})
    write_stack(tmp_path / "pred" / "short", pred[:1], {})
    evaluation = evaluate_folders(tmp_path / "pred", tmp_path / "ref")
    by_name = {c.case: c for c in evaluation.cases}
    assert sorted(by_name) == ["study/slice_1", "study/slice_2"]
    assert [s.segment for s in by_name["study/slice_1"].ref.segments] == [1, 2, 3, 4, 5, 6]
    assert [s.segment for s in by_name["study/slice_2"].ref.segments] == [13, 14, 15, 16]
    assert by_name["study/slice_1"].segmentation["scar"]["dice"] == 1.0
    assert by_name["study/slice_2"].pred.scar_area_cm2 < by_name["study/slice_2"].ref.scar_area_cm2
    assert "1 predicted slices but 2 reference slices" in evaluation.skipped["short"]
