"""Signal models: bSSFP cine, gadolinium uptake, inversion-recovery LGE, coils and noise.

bSSFP (MRXCAT, Wissmann et al. 2014): S = PD sin(a) exp(-TE/T2) / ((T1/T2 + 1) - cos(a) (T1/T2 - 1)).
Gadolinium: delta R1 of a tissue = lambda * delta R1 of blood, lambda = ECV / (1 - Hct); the blood
delta R1 is chosen so that healthy myocardium reaches `myocardium_post_t1_ms`.
LGE magnitude: S = PD |1 - 2 exp(-TI / T1_post)| with TI = T1_post(myocardium) ln 2 (nulled).
Multi-coil: smooth magnitude sensitivities, complex Gaussian noise per coil, root-sum-of-squares.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from .tissues import HAEMATOCRIT, Tissue, property_arrays


@dataclass(frozen=True)
class SequenceConfig:
    """Acquisition parameters of the simulated cine and LGE sequences."""

    tr_ms: float = 3.0
    te_ms: float = 1.5
    flip_deg: float = 60.0
    myocardium_post_t1_ms: float = 426.0  # 15 min after 0.2 mmol/kg (aus dem Siepen et al.)


def bssfp_signal(t1: np.ndarray, t2: np.ndarray, pd: np.ndarray, seq: SequenceConfig) -> np.ndarray:
    """Steady-state bSSFP magnitude (MRXCAT formula)."""
    a = math.radians(seq.flip_deg)
    ratio = t1 / t2
    return pd * math.sin(a) * np.exp(-seq.te_ms / t2) / ((ratio + 1.0) - math.cos(a) * (ratio - 1.0))


def post_contrast_t1(seq: SequenceConfig) -> np.ndarray:
    """Post-contrast T1 (ms) per tissue from ECV-based uptake, indexed by tissue value."""
    t1, _, _, ecv = property_arrays()
    lam = ecv / (1.0 - HAEMATOCRIT)
    myo = int(Tissue.MYOCARDIUM)
    delta_r1_blood = (1.0 / seq.myocardium_post_t1_ms - 1.0 / t1[myo]) / lam[myo]
    return 1.0 / (1.0 / t1 + lam * delta_r1_blood)


def inversion_time_ms(seq: SequenceConfig) -> float:
    """TI that nulls healthy myocardium: T1_post(myocardium) ln 2."""
    return float(post_contrast_t1(seq)[int(Tissue.MYOCARDIUM)] * math.log(2.0))


def cine_signal_table(seq: SequenceConfig) -> np.ndarray:
    """bSSFP signal per tissue value (float64, length NUM_TISSUES)."""
    t1, t2, pd, _ = property_arrays()
    return bssfp_signal(t1, t2, pd, seq)


def case_cine_signal_table(seq: SequenceConfig, field_t: float, flip_deg: float) -> np.ndarray:
    """bSSFP signal per tissue of one case's cine (field 1.5 / 3 T, its flip angle), scar pinned to myocardium.

    Physically scar differs from healthy myocardium by a few per cent at flip angles far from 60 degrees;
    the phantom keeps it at exactly the myocardial value so that wall motion stays the only cine cue of
    scar (the study's scientific control).
    """
    t1, t2, pd, _ = property_arrays(field_t)
    table = bssfp_signal(t1, t2, pd, replace(seq, flip_deg=flip_deg))
    table[int(Tissue.SCAR)] = table[int(Tissue.MYOCARDIUM)]
    return table


def lge_signal_table(seq: SequenceConfig, ti_scale: float = 1.0) -> np.ndarray:
    """Magnitude IR signal per tissue at TI = ti_scale * nulling TI (float64, length NUM_TISSUES)."""
    _, _, pd, _ = property_arrays()
    t1_post = post_contrast_t1(seq)
    ti = ti_scale * inversion_time_ms(seq)
    return pd * np.abs(1.0 - 2.0 * np.exp(-ti / t1_post))


def coil_sensitivities(shape: tuple[int, int], spacing_rc: tuple[float, float], centre_rc_mm: tuple[float, float],
                       radius_mm: tuple[float, float], n_coils: int, rng: np.random.Generator) -> np.ndarray:
    """(n_coils, R, C) smooth magnitude sensitivities of coils on an ellipse around the body,
    scaled so the root-sum-of-squares is 1 at `centre_rc_mm`."""
    rows = (np.arange(shape[0]) * spacing_rc[0])[:, None]  # (R, 1) mm
    cols = (np.arange(shape[1]) * spacing_rc[1])[None, :]  # (1, C) mm
    angles = 2 * np.pi * (np.arange(n_coils) + rng.uniform(0, 1)) / n_coils + rng.normal(0, 0.15, n_coils)
    width = rng.uniform(120.0, 200.0)
    maps = np.empty((n_coils, *shape), dtype=np.float32)
    at_centre = np.empty(n_coils)
    for k, ang in enumerate(angles):
        pr = centre_rc_mm[0] - 1.1 * radius_mm[0] * math.sin(ang)
        pc = centre_rc_mm[1] + 1.1 * radius_mm[1] * math.cos(ang)
        maps[k] = 1.0 / (1.0 + ((rows - pr) ** 2 + (cols - pc) ** 2) / width ** 2)
        at_centre[k] = 1.0 / (1.0 + ((centre_rc_mm[0] - pr) ** 2 + (centre_rc_mm[1] - pc) ** 2) / width ** 2)
    maps *= rng.uniform(0.8, 1.2, n_coils)[:, None, None].astype(np.float32)
    norm = math.sqrt(float(np.sum((at_centre * 1.0) ** 2)))
    return maps / np.float32(norm)


def multicoil_magnitude_explicit(signal: np.ndarray, sens: np.ndarray, sigma: float,
                                 rng: np.random.Generator) -> np.ndarray:
    """Root-sum-of-squares of coil images with complex Gaussian noise (SD `sigma` per channel), coil by coil.

    signal (..., R, C) float32, sens (K, R, C) -> (..., R, C) float32 (non-central chi noise).
    Reference implementation; `multicoil_magnitude` draws the same distribution faster.
    """
    total = np.zeros(signal.shape, dtype=np.float32)
    for k in range(sens.shape[0]):
        re = rng.standard_normal(signal.shape, dtype=np.float32) * np.float32(sigma) + signal * sens[k]
        im = rng.standard_normal(signal.shape, dtype=np.float32) * np.float32(sigma)
        total += re * re + im * im
    return np.sqrt(total)


def multicoil_magnitude(signal: np.ndarray, sens: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Same distribution as `multicoil_magnitude_explicit`, drawn with three variates per pixel.

    sum_k |s_k S + n_k|^2 = |S ||s|| + n'|^2 + sigma^2 chi2(2K - 2), where n' (complex, SD sigma) is the
    noise along the sensitivity vector and the chi-square collects the 2K - 2 orthogonal components.
    """
    k = sens.shape[0]
    rss = np.sqrt(np.sum(sens.astype(np.float32) ** 2, axis=0))  # (R, C) combined coil shading
    s32 = np.float32(sigma)
    re = rng.standard_normal(signal.shape, dtype=np.float32) * s32 + signal * rss
    im = rng.standard_normal(signal.shape, dtype=np.float32) * s32
    total = re * re + im * im
    if k > 1:
        total += np.float32(2.0 * sigma ** 2) * rng.standard_gamma(k - 1.0, signal.shape, dtype=np.float32)
    return np.sqrt(total)
