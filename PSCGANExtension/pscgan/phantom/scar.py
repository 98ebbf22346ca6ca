"""Scar plan: territory, angular extent and transmurality profile of a myocardial infarct.

Angles are heart-frame screen angles before the random rotation (degrees counter-clockwise from
the viewer's right: 90 anterior, 180 septal, 270 inferior), with the RV insertion points at 120
(anterior) and 240 (inferior). Territories follow the AHA assignment (LAD 1, 2, 7, 8, 13, 14;
RCA 3, 4, 9, 10, 15; LCx 5, 6, 11, 12, 16).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TERRITORIES = ("LAD", "LCx", "RCA")
EDGE_MARGIN_DEG = 6.0  # keep the scar this far inside its territory

# (start, end) screen angles of each territory per level (end may exceed 360).
TERRITORY_SPAN_DEG: dict[str, dict[str, tuple[float, float]]] = {
    "basal": {"LAD": (60.0, 180.0), "RCA": (180.0, 300.0), "LCx": (300.0, 420.0)},
    "mid": {"LAD": (60.0, 180.0), "RCA": (180.0, 300.0), "LCx": (300.0, 420.0)},
    "apical": {"LAD": (45.0, 225.0), "RCA": (225.0, 315.0), "LCx": (315.0, 405.0)},
}


@dataclass(frozen=True)
class ScarPlan:
    """Level-independent description of one infarct (fractions are mapped onto each level's territory)."""

    has_scar: bool
    territory: str | None = None
    centre_fraction: float = 0.5  # position of the scar centre within the territory, 0-1
    width_fraction: float = 0.6  # angular width as a fraction of the usable territory
    transmurality: float = 0.0  # peak transmural extent, 0-1 of the wall (by area)
    edge_fraction: float = 0.3  # share of the width in the tapering flanks
    ripple_amplitude: float = 0.1
    ripple_phase: float = 0.0


def sample_scar_plan(rng: np.random.Generator, scar_free_fraction: float) -> ScarPlan:
    """Draw a scar plan: no scar with probability `scar_free_fraction`, else a territory infarct."""
    if rng.uniform() < scar_free_fraction:
        return ScarPlan(has_scar=False)
    transmural = rng.uniform() < 0.45
    return ScarPlan(
        has_scar=True,
        territory=str(rng.choice(TERRITORIES, p=(0.45, 0.25, 0.30))),
        centre_fraction=float(rng.uniform(0.2, 0.8)),
        width_fraction=float(rng.uniform(0.5, 1.0)),
        transmurality=float(rng.uniform(0.8, 1.0) if transmural else rng.uniform(0.3, 0.75)),
        edge_fraction=float(rng.uniform(0.15, 0.4)),
        ripple_amplitude=float(rng.uniform(0.0, 0.2)),
        ripple_phase=float(rng.uniform(0, 2 * np.pi)),
    )


def transmurality_profile(plan: ScarPlan, level: str, angles_deg: np.ndarray) -> np.ndarray:
    """Transmural extent (0-1, by wall area from the endocardium) at each heart-frame angle."""
    tau = np.zeros(angles_deg.shape, dtype=np.float64)
    if not plan.has_scar or plan.territory is None:
        return tau
    lo, hi = TERRITORY_SPAN_DEG[level][plan.territory]
    lo, hi = lo + EDGE_MARGIN_DEG, hi - EDGE_MARGIN_DEG
    width = max(20.0, plan.width_fraction * (hi - lo))
    centre = lo + width / 2 + plan.centre_fraction * (hi - lo - width)
    rel = (angles_deg - centre + 180.0) % 360.0 - 180.0  # signed distance from the centre, degrees
    half = width / 2
    flank = max(1.0, plan.edge_fraction * width)
    inner = np.abs(rel) <= half - flank
    taper = (np.abs(rel) > half - flank) & (np.abs(rel) < half)
    tau[inner] = 1.0
    tau[taper] = 0.5 * (1 + np.cos(np.pi * (np.abs(rel[taper]) - (half - flank)) / flank))
    ripple = 1.0 + plan.ripple_amplitude * np.sin(np.radians(rel) * 9.0 + plan.ripple_phase)
    tau = np.clip(tau * plan.transmurality * ripple, 0.0, 1.0)
    tau[tau < 0.06] = 0.0  # no hair-thin slivers at the flanks
    return tau
