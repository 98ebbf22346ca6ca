"""Phantom 1.3 realism features: through-plane partial volume of the slice slab, wall texture that the
scar shares, and papillary muscles / trabeculae labelled as blood pool (the experts' smooth contour)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from pscgan import labels as L
from pscgan.phantom import generate_case, sample_spec
from pscgan.phantom.generate import slab_depths_mm
from pscgan.phantom.tissues import Tissue


def test_slab_subsamples_cover_the_slice_evenly():
    depths = slab_depths_mm(3, 9.0)
    assert depths.shape == (3, 3)
    np.testing.assert_allclose(np.sort(depths.ravel()), (np.arange(9) + 0.5) - 4.5)  # 1 mm apart, centred
    assert abs(depths[0, 0] - depths[0, 1]) > 1.5  # neighbours sit at distant depths


def test_heart_shrinks_towards_the_apex_through_the_slab():
    heart = sample_spec(5, 0, level="apical").heart
    scale = heart.slab_scale(np.array([-5.0, 0.0, 5.0]))
    assert scale[1] == 1.0 and scale[0] > 1.0 > scale[2]


def _mixed_fraction(thickness_mm: float) -> float:
    """Share of heart pixels between the myocardium and blood levels of an apical slice, without noise,
    texture, flow, bias or in-plane blur (so only the slab mixes tissues beyond the pixel area)."""
    spec = sample_spec(5, 0, level="apical")
    scan = replace(spec.scan, slice_thickness_mm=thickness_mm, snr=1e6, myo_texture=0.0, flow_inhomogeneity=0.0,
                   inflow_pulsation=0.0, texture_amplitude=0.0, bias_strength=0.0, blur_px=0.01,
                   acquisition_fraction=1.0, readout_fraction=1.0)
    heart = replace(spec.heart, position=0.88)
    case = generate_case(5, 0, heart=replace(spec, scan=scan, heart=heart))
    image, lab = case.cine[0], case.labels
    blood, myo = np.median(image[lab == L.BLOOD_POOL]), np.median(image[lab == L.HEALTHY_MYOCARDIUM])
    inside = lab > 0
    lo, hi = myo + 0.2 * (blood - myo), blood - 0.2 * (blood - myo)
    return float(((image[inside] > lo) & (image[inside] < hi)).mean())


def test_thick_slice_blurs_the_apical_wall():
    thin, thick = _mixed_fraction(0.01), _mixed_fraction(10.0)
    print(f"mixed-intensity share of heart pixels: slice 0.01 mm {thin:.3f}, 10 mm {thick:.3f}")
    assert thick > thin + 0.02


def test_papillary_muscles_and_trabeculae_are_blood_pool_and_common():
    cases = [generate_case(3, i) for i in range(8)]
    muscle_in_pool = 0
    for case in cases:
        inside = np.isin(case.tissue_map, (Tissue.PAPILLARY, Tissue.TRABECULAE))
        assert (case.labels[inside] == L.BLOOD_POOL).mean() > 0.97
        muscle_in_pool += inside.sum() / max((case.labels == L.BLOOD_POOL).sum(), 1)
    assert muscle_in_pool / len(cases) > 0.05  # on average more than 5 % of the labelled pool is muscle


def test_wall_texture_widens_the_wall_spread_but_scar_stays_invisible():
    """Noise off: the wall texture widens the healthy wall's intensity spread; scar carries the same texture,
    so the pooled per-pixel AUC of scar against healthy wall stays near 0.5."""
    from test_phantom_realism import auc_by_ranks

    spread = {0.0: [], 0.3: []}
    scar_px, healthy_px = [], []
    for i in range(10):
        spec = sample_spec(11, i, level="mid")
        for amplitude, spreads in spread.items():
            case = generate_case(11, i, heart=replace(spec, scan=replace(spec.scan, snr=1e6, myo_texture=amplitude)))
            lab, image = case.labels, case.cine[0]
            wall = image[lab == L.HEALTHY_MYOCARDIUM]
            q1, q2, q3 = np.percentile(wall, [25, 50, 75])
            spreads.append((q3 - q1) / q2)
            if amplitude and (lab == L.SCAR).any():
                scar_px.append(image[lab == L.SCAR] / q2)
                healthy_px.append(wall / q2)
    auc = auc_by_ranks(np.concatenate(scar_px), np.concatenate(healthy_px))
    plain, textured = float(np.median(spread[0.0])), float(np.median(spread[0.3]))
    print(f"healthy wall IQR / median: no texture {plain:.3f}, texture 0.3 {textured:.3f}; scar AUC {auc:.3f}")
    assert textured > 1.5 * plain
    assert len(scar_px) >= 4 and 0.35 <= auc <= 0.65
