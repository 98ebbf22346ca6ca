"""Signal physics and motion model of the phantom, checked against formulas computed here."""
from __future__ import annotations

import math

import numpy as np
import pytest

from pscgan.phantom.anatomy import sample_heart
from pscgan.phantom.config import PhantomConfig
from pscgan.phantom.contrast import SequenceConfig, cine_signal_table, inversion_time_ms, lge_signal_table, multicoil_magnitude, multicoil_magnitude_explicit, post_contrast_t1
from pscgan.phantom.motion import BIN_ANGLES_DEG, contraction_curve, es_frame_of, wall_tables
from pscgan.phantom.render import block_majority, block_mean
from pscgan.phantom.tissues import TISSUE_PROPERTIES, Tissue

SEQ = SequenceConfig()


def test_bssfp_matches_mrxcat_formula_for_blood():
    p = TISSUE_PROPERTIES[Tissue.LV_BLOOD]
    a = math.radians(60.0)
    expected = p.pd * math.sin(a) * math.exp(-1.5 / p.t2_ms) / ((p.t1_ms / p.t2_ms + 1) - math.cos(a) * (p.t1_ms / p.t2_ms - 1))
    assert cine_signal_table(SEQ)[Tissue.LV_BLOOD] == pytest.approx(expected)


def test_scar_and_healthy_myocardium_alike_in_cine_blood_brighter():
    table = cine_signal_table(SEQ)
    assert table[Tissue.SCAR] == pytest.approx(table[Tissue.MYOCARDIUM], rel=0.02)
    assert 2.0 < table[Tissue.LV_BLOOD] / table[Tissue.MYOCARDIUM] < 3.5
    assert table[Tissue.LUNG] < 0.1 * table[Tissue.MYOCARDIUM]


def test_gadolinium_uptake_and_inversion_time():
    t1 = post_contrast_t1(SEQ)
    assert t1[Tissue.MYOCARDIUM] == pytest.approx(426.0)
    # Reference sheet: blood 1550 -> about 265 ms, scar -> about 217 ms (ECV 0.685, Hct 0.42).
    assert t1[Tissue.LV_BLOOD] == pytest.approx(265.0, abs=8.0)
    assert t1[Tissue.SCAR] == pytest.approx(217.0, abs=10.0)
    assert inversion_time_ms(SEQ) == pytest.approx(426.0 * math.log(2))
    assert 250.0 <= inversion_time_ms(SEQ) <= 350.0


def test_lge_nulls_myocardium_scar_brightest():
    table = lge_signal_table(SEQ)
    assert table[Tissue.MYOCARDIUM] == pytest.approx(0.0, abs=1e-9)
    assert table[Tissue.SCAR] > table[Tissue.LV_BLOOD] > 0.2 > table[Tissue.MYOCARDIUM]
    off = lge_signal_table(SEQ, ti_scale=1.1)
    assert 0 < off[Tissue.MYOCARDIUM] < 0.2 * off[Tissue.SCAR]


def test_fast_multicoil_noise_has_the_explicit_distribution():
    rng = np.random.default_rng(1)
    sens = rng.uniform(0.3, 1.0, (6, 1, 1)).astype(np.float32) * np.ones((6, 200, 200), np.float32)
    for level in (0.0, 2.0):  # pure noise (non-central chi floor) and signal at twice the noise
        signal = np.full((200, 200), level, np.float32)
        explicit = multicoil_magnitude_explicit(signal, sens, 1.0, np.random.default_rng(2))
        fast = multicoil_magnitude(signal, sens, 1.0, np.random.default_rng(3))
        assert fast.mean() == pytest.approx(explicit.mean(), rel=0.01)
        assert fast.std() == pytest.approx(explicit.std(), rel=0.03)
    # Noise floor of 6 coils: E|chi_12| = sqrt(2) Gamma(6.5) / Gamma(6) ~ 3.39 sigma.
    assert explicit.mean() > 3.0


def test_contraction_curve_shape():
    for frames in (8, 20, 25, 30):
        es = es_frame_of(frames, 0.34)
        c = contraction_curve(frames, es)
        assert c[0] == 0 and c[es] == pytest.approx(1.0) and c.max() == pytest.approx(1.0)
        assert np.all(np.diff(c[:es + 1]) > 0) and np.all(np.diff(c[es:]) <= 1e-12)
        assert 0.2 * frames <= es <= 0.45 * frames


def test_wall_thickening_follows_transmurality():
    heart = sample_heart(np.random.default_rng(5), "mid", PhantomConfig())
    tau = np.where((BIN_ANGLES_DEG > 60) & (BIN_ANGLES_DEG < 160), 1.0, 0.0)  # transmural anterior scar
    curve = contraction_curve(25, 8)
    r_endo, r_epi = wall_tables(heart, tau, curve)
    wall = r_epi - r_endo
    thick = wall[8] / wall[0] - 1
    healthy = thick[(BIN_ANGLES_DEG > 220) & (BIN_ANGLES_DEG < 340)]
    scar = thick[(BIN_ANGLES_DEG > 90) & (BIN_ANGLES_DEG < 130)]
    assert np.allclose(healthy, heart.normal_thickening, atol=0.02)
    assert np.all(scar <= 0.05)  # akinetic (or thinning / bulging outwards)
    assert np.all(r_endo[8][(BIN_ANGLES_DEG > 220) & (BIN_ANGLES_DEG < 340)] < 0.85 * r_endo[0][(BIN_ANGLES_DEG > 220) & (BIN_ANGLES_DEG < 340)])
    assert np.all(r_endo[8][(BIN_ANGLES_DEG > 90) & (BIN_ANGLES_DEG < 130)] >= 0.97 * r_endo[0][(BIN_ANGLES_DEG > 90) & (BIN_ANGLES_DEG < 130)])


def test_block_reductions():
    rng = np.random.default_rng(0)
    values = rng.integers(0, 5, (30, 36)).astype(np.uint8)
    blocks = values.reshape(10, 3, 12, 3)
    expected = np.stack([(blocks == v).sum(axis=(1, 3)) for v in range(5)]).argmax(axis=0)
    np.testing.assert_array_equal(block_majority(values, 3, 5), expected)
    field = rng.random((30, 36))
    np.testing.assert_allclose(block_mean(field, 3), field.reshape(10, 3, 12, 3).mean(axis=(1, 3)))


def test_case_cine_tables_at_both_fields_and_flip_range():
    """3 T and 1.5 T tables differ, blood stays 2-4x myocardium over 40-80 degrees, scar is pinned."""
    from pscgan.phantom.contrast import case_cine_signal_table

    for field_t in (1.5, 3.0):
        for flip in (40.0, 60.0, 80.0):
            table = case_cine_signal_table(SEQ, field_t, flip)
            assert table[Tissue.SCAR] == table[Tissue.MYOCARDIUM]
            assert 2.0 < table[Tissue.LV_BLOOD] / table[Tissue.MYOCARDIUM] < 4.0
    t15, t3 = case_cine_signal_table(SEQ, 1.5, 60.0), case_cine_signal_table(SEQ, 3.0, 60.0)
    assert abs(t3[Tissue.LIVER] / t15[Tissue.LIVER] - 1) > 0.05
    # Away from 60 degrees the physical scar signal differs a little: the pin is doing work.
    physical = cine_signal_table(SequenceConfig(flip_deg=40.0))
    assert abs(physical[Tissue.SCAR] / physical[Tissue.MYOCARDIUM] - 1) > 0.02


def test_reduced_acquisition_matrix_blurs_and_noise_gain_is_right():
    """Low-pass of a lower acquisition matrix: white noise SD shrinks by the stated factor, edges widen."""
    from pscgan.phantom.generate import ScanParams, _acquisition_windows, _lowpass

    scan = ScanParams(rows=128, cols=96, spacing_mm=1.5, rr_interval_ms=900.0, snr=20.0, lge_snr=15.0, n_coils=4,
                      ti_scale=1.0, lge_shift_mm=(0.0, 0.0), blur_px=0.5, cine_blood_level=300.0,
                      lge_blood_level=200.0, acquisition_fraction=0.6, readout_fraction=0.8, phase_axis=0)
    window, gain = _acquisition_windows((128, 96), scan)
    noise = np.random.default_rng(0).standard_normal((6, 128, 96)).astype(np.float32)
    assert _lowpass(noise, window).std() == pytest.approx(gain, rel=0.03)
    assert 0.4 < gain < 0.85
    step = np.zeros((128, 96), np.float32)
    step[:, 48:] = 1.0
    edge = _lowpass(step, window)[64]
    assert 2 < np.sum((edge > 0.1) & (edge < 0.9)) < 8  # a few pixels wide, not a hard step
