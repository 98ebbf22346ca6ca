"""Realism and the scientific control of the cine + LGE phantom (pscgan.phantom).

One module-scoped set of small default cases (seed 2026) feeds every test here. Wall thickness,
AUC and segment membership are computed in this file, independently of the generator.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage
from scipy.stats import rankdata

from pictures import Saved
from pscgan import labels as L
from pscgan.phantom import case_scar_plan, generate_case, phantom_config
from pscgan.phantom.scar import TERRITORY_SPAN_DEG
from pscgan.phantom.tissues import Tissue

SEED = 2026
N_CASES = 24
TERRITORY_SEGMENTS = {  # AHA assignment (Cerqueira 2002), independent of the generator's table
    "LAD": {1, 2, 7, 8, 13, 14}, "RCA": {3, 4, 9, 10, 15}, "LCx": {5, 6, 11, 12, 16},
}
CCW_ORDER = {"basal": [2, 3, 4, 5, 6, 1], "mid": [8, 9, 10, 11, 12, 7], "apical": [14, 15, 16, 13]}


@pytest.fixture(scope="module")
def cases():
    return [generate_case(SEED, i) for i in range(N_CASES)]


def auc_by_ranks(positives: np.ndarray, negatives: np.ndarray) -> float:
    """Mann-Whitney AUC = P(positive > negative), ties counted half, from average ranks."""
    ranks = rankdata(np.concatenate([positives, negatives]))
    n_pos, n_neg = len(positives), len(negatives)
    return float((ranks[:n_pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def screen_angle(point_rc, centre_rc) -> float:
    return math.degrees(math.atan2(-(point_rc[0] - centre_rc[0]), point_rc[1] - centre_rc[1])) % 360.0


def ray_wall_thickness(labels: np.ndarray, centre_rc, step: float = 0.25) -> np.ndarray:
    """(360,) wall thickness in pixels along rays at 0.5, 1.5, ... degrees (first myocardial crossing)."""
    angles = np.radians(np.arange(360) + 0.5)
    dist = np.arange(0.0, 100.0, step)
    rows = np.rint(centre_rc[0] - dist[None] * np.sin(angles)[:, None]).astype(int)
    cols = np.rint(centre_rc[1] + dist[None] * np.cos(angles)[:, None]).astype(int)
    inside = (rows >= 0) & (rows < labels.shape[0]) & (cols >= 0) & (cols < labels.shape[1])
    sampled = np.where(inside, labels[rows.clip(0, labels.shape[0] - 1), cols.clip(0, labels.shape[1] - 1)], 0)
    myo = (sampled == L.HEALTHY_MYOCARDIUM) | (sampled == L.SCAR)
    out = np.full(360, np.nan)
    for k in range(360):
        hits = np.flatnonzero(myo[k])
        if hits.size:
            gaps = np.flatnonzero(np.diff(hits) > 9)
            end = hits[gaps[0]] if gaps.size else hits[-1]
            out[k] = myo[k, hits[0]:end + 1].sum() * step
    return out


def ray_segments(meta: dict) -> np.ndarray:
    """(360,) AHA segment of each ray, from the insertion points in meta (AHA convention, own code)."""
    centre = meta["lv_center_rc"]
    anterior = screen_angle(meta["rv_insertion_anterior_rc"], centre)
    order = CCW_ORDER[meta["level"]]
    if meta["level"] == "apical":
        inferior = screen_angle(meta["rv_insertion_inferior_rc"], centre)
        start = anterior + ((inferior - anterior) % 360) / 2 - 45
    else:
        start = anterior
    width = 360 / len(order)
    index = (((np.arange(360) + 0.5 - start) % 360) // width).astype(int)
    return np.asarray(order)[index]


def segment_thickening(case) -> dict[int, float]:
    """Fractional wall thickening (ES / ED mean thickness - 1) per AHA segment, from cine_labels."""
    meta = case.meta
    ed = ray_wall_thickness(case.cine_labels[0], meta["lv_center_rc"])
    es = ray_wall_thickness(case.cine_labels[meta["es_frame"]], meta["lv_center_rc"])
    seg = ray_segments(meta)
    return {int(s): float(np.nanmean(es[seg == s]) / np.nanmean(ed[seg == s]) - 1.0) for s in np.unique(seg)}


def test_scar_free_fraction_is_about_one_in_six():
    n = 600
    free = sum(not case_scar_plan(SEED, i).has_scar for i in range(n)) / n
    sd = math.sqrt((1 / 6) * (5 / 6) / n)
    assert abs(free - 1 / 6) < 4 * sd, free


def test_rendered_cases_follow_their_scar_plan(cases):
    for i, case in enumerate(cases):
        assert case.meta["has_scar"] == case_scar_plan(SEED, i).has_scar
        assert case.meta["has_scar"] == bool((case.labels == L.SCAR).any())
    assert any(not c.meta["has_scar"] for c in cases) and any(c.meta["has_scar"] for c in cases)


def test_anatomy_present_in_internal_tissue_map(cases):
    for case in cases:
        present = set(np.unique(case.tissue_map).tolist())
        for tissue in (Tissue.LV_BLOOD, Tissue.MYOCARDIUM, Tissue.RV_BLOOD, Tissue.RV_WALL, Tissue.EPICARDIAL_FAT,
                       Tissue.LUNG, Tissue.MUSCLE, Tissue.SUBCUTANEOUS_FAT):
            assert tissue in present, (case.meta["case_index"], tissue.name)
    with_liver = sum(Tissue.LIVER in np.unique(c.tissue_map) for c in cases)
    with_papillary = sum(Tissue.PAPILLARY in np.unique(c.tissue_map) for c in cases)
    assert with_liver >= len(cases) // 2
    assert with_papillary >= 3


def test_labels_four_classes_every_frame(cases):
    for case in cases:
        assert case.labels.dtype == np.uint8 and case.cine_labels.dtype == np.uint8
        assert case.cine_labels.max() <= 3
        np.testing.assert_array_equal(case.labels, case.cine_labels[0])
        for frame in case.cine_labels:
            assert (frame == L.BLOOD_POOL).any() and ((frame == L.HEALTHY_MYOCARDIUM) | (frame == L.SCAR)).any()
        es = case.meta["es_frame"]
        # The blood pool shrinks from ED to ES (ejection) and the myocardium keeps its area within 25 %.
        assert (case.cine_labels[es] == 1).sum() < 0.8 * (case.labels == 1).sum()
        myo = lambda lab: ((lab == 2) | (lab == 3)).sum()  # noqa: E731
        assert abs(myo(case.cine_labels[es]) / myo(case.labels) - 1) < 0.25


def test_scar_lies_in_its_territory_and_meta_matches_labels(cases):
    """A scar stays in its territory, or (plans with a second territory) in the two adjacent ones."""
    scarred = [c for c in cases if c.meta["has_scar"]]
    assert len(scarred) >= 10
    for case in scarred:
        meta = case.meta
        plan = case_scar_plan(SEED, meta["case_index"])
        territories = [meta["territory"]] + ([plan.second_territory] if plan.second_territory else [])
        allowed = set().union(*(TERRITORY_SEGMENTS[t] for t in territories))
        flagged = {int(s) for s, f in meta["segments"].items() if f["has_scar"]}
        assert flagged and flagged <= allowed, (meta["case_index"], territories, flagged)
        # Own count of scar pixels: the same area and ratio as meta (which comes from quantify_slice).
        sr, sc = meta["pixel_spacing_mm"]
        n_scar, n_healthy = int((case.labels == 3).sum()), int((case.labels == 2).sum())
        assert meta["scar_area_cm2"] == pytest.approx(n_scar * sr * sc / 100)
        assert meta["scar_ratio"] == pytest.approx(n_scar / (n_scar + n_healthy))
        # Own angular check: every scar pixel lies within the territories' angular span (+ 12 degrees),
        # the nominal spans (insertions at 120 / 240 degrees) turned with this heart's insertion points.
        rows, cols = np.nonzero(case.labels == 3)
        centre = meta["lv_center_rc"]
        anterior = screen_angle(meta["rv_insertion_anterior_rc"], centre)
        inferior = screen_angle(meta["rv_insertion_inferior_rc"], centre)
        if meta["level"] == "apical":
            offset = anterior + ((inferior - anterior) % 360) / 2 - 180.0
        else:
            offset = anterior - 120.0
        angles = (np.degrees(np.arctan2(-(rows - centre[0]), cols - centre[1])) - offset) % 360
        inside = np.zeros(angles.shape, dtype=bool)
        for territory in territories:
            lo, hi = TERRITORY_SPAN_DEG[meta["level"]][territory]
            inside |= ((angles - lo) % 360) <= (hi - lo) + 12
            inside |= ((angles - lo) % 360) >= 360 - 12
        assert inside.mean() > 0.98, (meta["case_index"], inside.mean())


def test_insertion_points_and_scar_sizes_vary(cases):
    """Angle between the RV insertion points spreads over 100-140 degrees; scars small to large."""
    gaps = []
    for case in cases:
        centre = case.meta["lv_center_rc"]
        a = screen_angle(case.meta["rv_insertion_anterior_rc"], centre)
        b = screen_angle(case.meta["rv_insertion_inferior_rc"], centre)
        gaps.append((b - a) % 360)
    assert 90 <= min(gaps) and max(gaps) <= 150 and np.ptp(gaps) > 15, gaps
    ratios = [c.meta["scar_ratio"] for c in cases if c.meta["has_scar"]]
    assert min(ratios) < 0.08 and max(ratios) > 0.2, ratios


def test_wall_thickening_healthy_and_scarred(cases):
    check_thickening(cases)


def check_thickening(cases):
    """Scarred segments (>= 50 % transmural) thicken at least 0.15 less than healthy ones (0.30-0.60)."""
    healthy, scarred = [], []
    for case in cases:
        thick = segment_thickening(case)
        segs = case.meta["segments"]
        order = CCW_ORDER[case.meta["level"]]
        for k, s in enumerate(order):
            neighbours = (order[k - 1], order[(k + 1) % len(order)])
            if all((segs[str(n)]["scar_fraction"] or 0) == 0 for n in (s, *neighbours)):
                healthy.append(thick[s])
            elif (segs[str(s)]["transmurality_pct"] or 0) >= 50:
                scarred.append(thick[s])
    assert len(healthy) >= 20 and len(scarred) >= 5, (len(healthy), len(scarred))
    mean_healthy, mean_scarred = float(np.mean(healthy)), float(np.mean(scarred))
    print(f"thickening healthy {mean_healthy:.3f} (n={len(healthy)}), scarred {mean_scarred:.3f} (n={len(scarred)})")
    assert 0.30 <= mean_healthy <= 0.60
    assert mean_healthy - mean_scarred >= 0.15


def test_cine_intensity_does_not_separate_scar_but_lge_does(cases):
    check_cine_auc(cases)


def test_scientific_control_holds_on_the_shipped_models_data():
    """The shipped model trained on phantom-1.4: there too scar is not seen in cine intensity, only in motion."""
    cases_14 = [generate_case(SEED, i, phantom_config("phantom-1.4")) for i in range(N_CASES)]
    check_thickening(cases_14)
    check_cine_auc(cases_14)


def check_cine_auc(cases):
    """Pooled per-pixel AUC over all scar / healthy-myocardium pixels at ED (borders included),
    intensities divided by each case's median myocardial intensity so cases pool fairly."""
    cine_pos, cine_neg, lge_pos, lge_neg = [], [], [], []
    for case in cases:
        if not case.meta["has_scar"]:
            continue
        lab = case.labels
        myo = (lab == 2) | (lab == 3)
        cine_ref, lge_ref = np.median(case.cine[0][myo]), np.median(case.lge[myo]) + 1e-6
        cine_pos.append(case.cine[0][lab == 3] / cine_ref)
        cine_neg.append(case.cine[0][lab == 2] / cine_ref)
        lge_pos.append(case.lge[lab == 3] / lge_ref)
        lge_neg.append(case.lge[lab == 2] / lge_ref)
    cine_auc = auc_by_ranks(np.concatenate(cine_pos), np.concatenate(cine_neg))
    lge_auc = auc_by_ranks(np.concatenate(lge_pos), np.concatenate(lge_neg))
    print(f"pooled AUC scar vs healthy: cine ED {cine_auc:.3f}, LGE {lge_auc:.3f}")
    assert 0.35 <= cine_auc <= 0.65
    assert lge_auc >= 0.85  # the same measurement does detect separation where it exists


def test_auc_formula_matches_pairwise_count():
    rng = np.random.default_rng(0)
    pos, neg = rng.normal(1, 1, 40).round(1), rng.normal(0, 1, 50).round(1)
    pairwise = np.mean((pos[:, None] > neg[None]) + 0.5 * (pos[:, None] == neg[None]))
    assert auc_by_ranks(pos, neg) == pytest.approx(pairwise)


def test_lge_contrast_scar_over_blood_over_myocardium(cases):
    means = []
    for case in cases:
        if case.meta["has_scar"]:
            lab = case.labels
            means.append([case.lge[lab == k].mean() for k in (L.SCAR, L.BLOOD_POOL, L.HEALTHY_MYOCARDIUM)])
            assert means[-1][0] > means[-1][2]
    scar, blood, healthy = np.mean(means, axis=0)
    print(f"LGE means relative to blood: scar {scar / blood:.2f}, healthy myocardium {healthy / blood:.2f}")
    assert scar > 1.1 * blood and blood > 2.0 * healthy


def test_cine_contrast_blood_brighter_than_myocardium(cases):
    for case in cases:
        lab, ed = case.labels, case.cine[0]
        ratio = ed[lab == 1].mean() / ed[(lab == 2) | (lab == 3)].mean()
        assert 1.5 < ratio < 4.0, ratio


def test_geometry_varies_between_cases(cases):
    sizes = {tuple(c.meta["image_size"]) for c in cases}
    spacings = [c.meta["pixel_spacing_mm"][0] for c in cases]
    assert len(sizes) > 3 and min(spacings) >= 1.2 and max(spacings) <= 1.8 and np.ptp(spacings) > 0.2
    assert all(160 <= min(c.meta["image_size"]) and max(c.meta["image_size"]) <= 256 for c in cases)
    assert {c.meta["level"] for c in cases} == {"basal", "mid", "apical"}
    assert np.std([c.meta["snr"] for c in cases]) > 2


def test_picture_for_visual_check(cases, artifacts_dir):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [c for c in cases if c.meta["has_scar"]][:3] + [c for c in cases if not c.meta["has_scar"]][:1]
    fig, axes = plt.subplots(len(shown), 5, figsize=(15, 3.2 * len(shown)))
    for row, case in zip(axes, shown):
        r, c = (int(round(v)) for v in case.meta["lv_center_rc"])
        crop = (slice(max(r - 45, 0), r + 45), slice(max(c - 45, 0), c + 45))
        top = np.percentile(case.cine[0], 99.5)
        row[0].imshow(case.cine[0], cmap="gray", vmax=top)
        row[0].set_title(f"case {case.meta['case_index']} {case.meta['level']} ED")
        row[1].imshow(case.cine[0][crop], cmap="gray", vmax=top)
        row[1].set_title("ED (crop)")
        row[2].imshow(case.cine[case.meta["es_frame"]][crop], cmap="gray", vmax=top)
        row[2].set_title(f"ES frame {case.meta['es_frame']}")
        row[3].imshow(case.lge[crop], cmap="gray", vmax=np.percentile(case.lge[crop], 99.5))
        row[3].set_title(f"LGE {case.meta['territory']}")
        row[4].imshow(case.labels[crop], vmin=0, vmax=3, cmap="viridis")
        row[4].set_title(f"labels, scar {100 * (case.meta['scar_ratio'] or 0):.0f} %")
        for ax in row:
            ax.axis("off")
    fig.tight_layout()
    path = artifacts_dir / "phantom_cases.png"
    fig.savefig(path, dpi=70)
    saved = Saved(fig, path, 70.0)
    viridis = matplotlib.colormaps["viridis"]
    for row, case in zip(axes, shown):
        r, c = (int(round(v)) for v in case.meta["lv_center_rc"])
        crop = (slice(max(r - 45, 0), r + 45), slice(max(c - 45, 0), c + 45))
        labels = case.labels[crop]
        scar = np.argwhere(ndimage.binary_erosion(labels == L.SCAR))
        myo = np.argwhere(ndimage.binary_erosion(labels == L.HEALTHY_MYOCARDIUM))
        if case.meta["has_scar"]:  # the labels panel shows the scar colour on the scar; the LGE panel shows it bright
            for y, x in scar[:: max(1, len(scar) // 5)]:
                assert np.allclose(saved.colour(row[4], x, y, half=0), viridis(1.0)[:3], atol=0.03)
            gray = {name: np.mean([saved.colour(row[3], x, y, half=0).mean() for y, x in where[:: max(1, len(where) // 20)]])
                    for name, where in (("scar", scar), ("myocardium", myo))}
            assert gray["scar"] > gray["myocardium"] + 0.2, gray
        else:  # no scar colour anywhere in its labels panel
            assert not np.all(np.isclose(saved.region(row[4]), viridis(1.0)[:3], atol=0.03), axis=-1).any()
    plt.close(fig)


ROI_SIZE, ROI_MM = 64, 1.6  # the model's input: 64 x 64 pixels of 1.6 mm around the LV


def roi_at_scale(image: np.ndarray, centre_rc, spacing_mm: float) -> np.ndarray:
    """(64, 64) bilinear resampling of `image` at 1.6 mm / pixel centred on `centre_rc`."""
    from scipy.ndimage import map_coordinates

    offsets = (np.arange(ROI_SIZE) - (ROI_SIZE - 1) / 2) * ROI_MM / spacing_mm
    rows = centre_rc[0] + offsets[:, None] + 0 * offsets[None, :]
    cols = centre_rc[1] + 0 * offsets[:, None] + offsets[None, :]
    return map_coordinates(image.astype(np.float64), [rows, cols], order=1, mode="nearest")


def sunnybrook_ed_slices(root) -> list[tuple[np.ndarray, tuple[float, float], float, float, float]]:
    """(image, LV centre rc, spacing, endocardial equivalent diameter mm, mean wall mm) per contoured ED slice."""
    import pydicom
    from matplotlib.path import Path as PolyPath

    out = []
    for epi_file in sorted((root / "contours" / "SC-HF-I-1" / "o-contours").glob("*-ocontour-manual.txt")):
        number = int(epi_file.name.split("-")[2])
        endo_file = root / "contours" / "SC-HF-I-1" / "i-contours" / epi_file.name.replace("ocontour", "icontour")
        if not endo_file.exists():
            continue
        ds = pydicom.dcmread(root / "dicoms" / "SCD0000101" / f"{number}.dcm")
        image = ds.pixel_array.astype(np.float64)
        spacing = float(ds.PixelSpacing[0])
        rr, cc = np.mgrid[0:image.shape[0], 0:image.shape[1]]
        points = np.column_stack([cc.ravel(), rr.ravel()])
        inside = [PolyPath(np.loadtxt(f)).contains_points(points).reshape(image.shape) for f in (endo_file, epi_file)]
        endo_area, epi_area = inside[0].sum() * spacing ** 2, inside[1].sum() * spacing ** 2
        r_endo, r_epi = math.sqrt(endo_area / math.pi), math.sqrt(epi_area / math.pi)
        rows, cols = np.nonzero(inside[0])
        out.append((image, (float(rows.mean()), float(cols.mean())), spacing, 2 * r_endo, r_epi - r_endo))
    return out


def phantom_ed_size(case) -> tuple[float, float]:
    """(endocardial equivalent diameter, mean wall) in mm of the ED labels."""
    area = float(np.prod(case.meta["pixel_spacing_mm"]))
    blood = (case.labels == L.BLOOD_POOL).sum() * area
    myo = ((case.labels == L.HEALTHY_MYOCARDIUM) | (case.labels == L.SCAR)).sum() * area
    r_endo, r_epi = math.sqrt(blood / math.pi), math.sqrt((blood + myo) / math.pi)
    return 2 * r_endo, r_epi - r_endo


def test_phantom_covers_sunnybrook_hearts_and_comparison_picture(cases, sunnybrook_dir, artifacts_dir):
    """The Sunnybrook heart-failure LV (dilated, thin wall) lies inside the phantom's range of sizes;
    a picture puts phantom ED frames next to Sunnybrook slices at the model's ROI scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    real = sunnybrook_ed_slices(sunnybrook_dir)
    assert len(real) >= 5
    real_mid = sorted(real, key=lambda s: -s[3])[: len(real) // 2]  # the larger (basal / mid) slices
    real_diameter = float(np.median([s[3] for s in real_mid]))
    real_wall = float(np.median([s[4] for s in real]))
    sizes = [phantom_ed_size(c) for c in cases if c.meta["level"] != "apical"]
    diameters, walls = [s[0] for s in sizes], [s[1] for s in sizes]
    print(f"Sunnybrook ED: LV diameter {real_diameter:.1f} mm, wall {real_wall:.1f} mm; phantom (basal/mid) "
          f"diameter {min(diameters):.1f}-{max(diameters):.1f} mm, wall {min(walls):.1f}-{max(walls):.1f} mm")
    assert min(diameters) < real_diameter < max(diameters)
    assert min(walls) < real_wall < max(walls)

    shown_real = real[:: max(1, len(real) // 6)][:6]
    shown_phantom = cases[:12]
    fig, axes = plt.subplots(3, 6, figsize=(12, 6.4))
    for ax, (image, centre, spacing, diameter, wall) in zip(axes[0], shown_real):
        roi = roi_at_scale(image, centre, spacing)
        ax.imshow(roi, cmap="gray", vmin=0, vmax=np.percentile(roi, 99.5))
        ax.set_title(f"Sunnybrook D{diameter:.0f} w{wall:.0f}", fontsize=8)
    for ax, case in zip(axes[1:].ravel(), shown_phantom):
        roi = roi_at_scale(case.cine[0], case.meta["lv_center_rc"], case.meta["pixel_spacing_mm"][0])
        ax.imshow(roi, cmap="gray", vmin=0, vmax=np.percentile(roi, 99.5))
        diameter, wall = phantom_ed_size(case)
        ax.set_title(f"phantom {case.meta['level'][:3]} D{diameter:.0f} w{wall:.0f}", fontsize=8)
    for ax in axes.ravel():
        ax.axis("off")
    fig.tight_layout()
    path = artifacts_dir / "phantom_vs_sunnybrook.png"
    fig.savefig(path, dpi=80)
    saved = Saved(fig, path, 80.0)
    centre = (ROI_SIZE - 1) / 2
    panels = [(ax, s[3], s[4]) for ax, s in zip(axes[0], shown_real)]
    panels += [(ax, *phantom_ed_size(case)) for ax, case in zip(axes[1:].ravel(), shown_phantom)]
    for ax, diameter, wall in panels:
        # every ROI is centred on its LV at the model's scale: bright blood pool in the middle, a darker
        # myocardial ring where the measured diameter and wall put it
        radius = (diameter / 2 + wall / 2) / ROI_MM
        ring = [saved.colour(ax, centre + radius * math.cos(a), centre + radius * math.sin(a), half=0).mean()
                for a in np.linspace(0, 2 * math.pi, 16, endpoint=False)]
        assert saved.colour(ax, centre, centre).mean() > np.median(ring) + 0.1, ax.get_title()
    plt.close(fig)
