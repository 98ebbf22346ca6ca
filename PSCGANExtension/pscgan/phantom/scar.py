"""Scar plan: territory, angular extent and transmurality profile of a myocardial infarct.

Angles are heart-frame screen angles before the random rotation (degrees counter-clockwise from
the viewer's right: 90 anterior, 180 septal, 270 inferior). The table below holds the territories
for the nominal RV insertion points 120 (anterior) and 240 (inferior); a heart with other insertion
points turns them with the AHA reference (`territory_spans`): basal / mid segments start at the
anterior insertion, apical ones are centred on the septum (midway between the insertions). Territories follow the AHA assignment (LAD 1, 2, 7, 8, 13, 14;
RCA 3, 4, 9, 10, 15; LCx 5, 6, 11, 12, 16).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

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
    second_territory: str | None = None  # set: the scar is centred on the border with this adjacent territory


def adjacent_territory(rng: np.random.Generator, territory: str) -> str:
    """One of the two territories that share a border with `territory` (every pair is adjacent)."""
    others = [t for t in TERRITORIES if t != territory]
    return str(others[int(rng.integers(0, len(others)))])


def sample_scar_plan(rng: np.random.Generator, scar_free_fraction: float, cfg=None) -> ScarPlan:
    """Draw a scar plan: no scar with probability `scar_free_fraction`, else a territory infarct
    (cfg: PhantomConfig for the width range and the share of scars crossing a territory border)."""
    if rng.uniform() < scar_free_fraction:
        return ScarPlan(has_scar=False)
    width_range = cfg.scar_width_fraction_range if cfg is not None else (0.5, 1.0)
    crossing_share = cfg.border_crossing_fraction if cfg is not None else 0.0
    transmural = rng.uniform() < 0.45
    territory = str(rng.choice(TERRITORIES, p=(0.45, 0.25, 0.30)))
    plan = ScarPlan(
        has_scar=True,
        territory=territory,
        centre_fraction=float(rng.uniform(0.2, 0.8)),
        width_fraction=float(rng.uniform(*width_range)),
        transmurality=float(rng.uniform(0.8, 1.0) if transmural else rng.uniform(0.3, 0.75)),
        edge_fraction=float(rng.uniform(0.15, 0.4)),
        ripple_amplitude=float(rng.uniform(0.0, 0.2)),
        ripple_phase=float(rng.uniform(0, 2 * np.pi)),
    )
    if rng.uniform() < crossing_share:
        plan = replace(plan, second_territory=adjacent_territory(rng, territory),
                       width_fraction=float(max(plan.width_fraction, 0.5)))
    return plan


def territory_spans(level: str, insertion_deg: tuple[float, float] = (120.0, 240.0)) -> dict[str, tuple[float, float]]:
    """(start, end) heart-frame angles of each territory for a heart with these RV insertion points."""
    anterior, inferior = insertion_deg
    offset = anterior - 120.0 if level != "apical" else (anterior + inferior) / 2 - 180.0
    return {name: (lo + offset, hi + offset) for name, (lo, hi) in TERRITORY_SPAN_DEG[level].items()}


def _border_between(spans: dict[str, tuple[float, float]], first: str, second: str) -> float:
    """Angle of the border shared by two territories."""
    lo1, hi1 = spans[first]
    lo2, _ = spans[second]
    return hi1 if abs(((hi1 - lo2 + 180.0) % 360.0) - 180.0) < 1.0 else lo1


def transmurality_profile(plan: ScarPlan, level: str, angles_deg: np.ndarray,
                          insertion_deg: tuple[float, float] = (120.0, 240.0)) -> np.ndarray:
    """Transmural extent (0-1, by wall area from the endocardium) at each heart-frame angle."""
    tau = np.zeros(angles_deg.shape, dtype=np.float64)
    if not plan.has_scar or plan.territory is None:
        return tau
    spans = territory_spans(level, insertion_deg)
    lo, hi = spans[plan.territory]
    if plan.second_territory is not None:  # straddles the border; each side stays inside its territory
        border = _border_between(spans, plan.territory, plan.second_territory)
        lo2, hi2 = spans[plan.second_territory]
        reach = min(hi - lo, hi2 - lo2) - EDGE_MARGIN_DEG  # each side extends at most 0.625 width <= reach
        width = max(30.0, 1.5 * plan.width_fraction * reach)
        centre = border + (plan.centre_fraction - 0.5) * 0.25 * width
    else:
        lo, hi = lo + EDGE_MARGIN_DEG, hi - EDGE_MARGIN_DEG
        width = max(14.0, plan.width_fraction * (hi - lo))
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
