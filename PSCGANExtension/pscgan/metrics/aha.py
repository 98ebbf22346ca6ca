"""AHA 17-segment model (Cerqueira et al., Circulation 2002) on one short-axis slice.

Coordinates and orientation (used by every function in `pscgan.metrics`):
  * pixels are addressed (row, col); rows increase DOWNWARDS, columns to the right; a pixel's
    centre is at its integer index.
  * the slice is shown in the standard short-axis view: anterior at the top, the right ventricle
    on the viewer's LEFT of the LV. The anterior RV insertion point therefore lies upper-left of
    the LV centre and the inferior insertion point lower-left.
  * angles are in degrees, measured COUNTER-CLOCKWISE AS SEEN ON SCREEN from the +col axis
    (pointing right): 0 = right (lateral), 90 = up (anterior), 180 = left (septal),
    270 = down (inferior). In (row, col) terms: angle = atan2(-(row - row0), col - col0).

Segments:
  * basal (1-6) and mid (7-12): six 60-degree sectors. Segment 2 / 8 (anteroseptal) begins at the
    anterior insertion and runs 60 degrees counter-clockwise (towards the septum), followed by
    3 / 9 inferoseptal, 4 / 10 inferior, 5 / 11 inferolateral, 6 / 12 anterolateral, and
    1 / 7 anterior, which ends at the anterior insertion. Only the anterior insertion is used
    for basal and mid slices (equal 60-degree sectors, as in the AHA model).
  * apical (13-16): four 90-degree sectors; the septal segment 14 is centred on the septal
    bisector, then 15 inferior, 16 lateral, 13 anterior counter-clockwise. The septal bisector is
    halfway (counter-clockwise) from the anterior to the inferior insertion when both are given,
    else the anterior insertion + 60 degrees.
  * DEFAULT when no insertion point is known: the anterior insertion is assumed at
    120 degrees (upper-left, `DEFAULT_ANTERIOR_INSERTION_DEG`), which puts the segment centres at
    the textbook positions (anterior straight up, septum straight left). It is a default, not a
    detection: pass the real insertion point (from the phantom's meta or the user) when known.
  * 17 (apical cap) has no short-axis sector and is never assigned by `aha_segment_map`.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import InputError, plain

SEGMENT_NAMES: dict[int, str] = {
    1: "basal anterior",
    2: "basal anteroseptal",
    3: "basal inferoseptal",
    4: "basal inferior",
    5: "basal inferolateral",
    6: "basal anterolateral",
    7: "mid anterior",
    8: "mid anteroseptal",
    9: "mid inferoseptal",
    10: "mid inferior",
    11: "mid inferolateral",
    12: "mid anterolateral",
    13: "apical anterior",
    14: "apical septal",
    15: "apical inferior",
    16: "apical lateral",
    17: "apex",
}

LEVELS: tuple[str, ...] = ("basal", "mid", "apical")
DEFAULT_ANTERIOR_INSERTION_DEG = 120.0
DEFAULT_SEPTAL_OFFSET_DEG = 60.0  # septal bisector = anterior insertion + this, without an inferior insertion

# Counter-clockwise order of the sectors, starting at the sector that begins at the start angle.
_CCW_ORDER = {
    "basal": (2, 3, 4, 5, 6, 1),
    "mid": (8, 9, 10, 11, 12, 7),
    "apical": (14, 15, 16, 13),
}


def check_level(level: str) -> str:
    """Return the level in lower case, or raise InputError naming it."""
    key = str(level).strip().lower()
    if key not in _CCW_ORDER:
        raise InputError(f"slice level {level!r}: must be one of {', '.join(LEVELS)}")
    return key


def segments_for_level(level: str) -> list[int]:
    """AHA segment numbers of a level in ascending order: basal 1-6, mid 7-12, apical 13-16."""
    return sorted(_CCW_ORDER[check_level(level)])


def level_of_segment(segment: int) -> str:
    """'basal', 'mid', 'apical' or 'apex' (17) for an AHA segment number."""
    if 1 <= segment <= 6:
        return "basal"
    if 7 <= segment <= 12:
        return "mid"
    if 13 <= segment <= 16:
        return "apical"
    if segment == 17:
        return "apex"
    raise InputError(f"AHA segment {segment}: must be 1-17")


def angle_deg(point_rc: tuple[float, float], center_rc: tuple[float, float], what: str = "point") -> float:
    """Screen counter-clockwise angle (0-360) of `point_rc` about `center_rc`; InputError if they coincide."""
    dr = float(point_rc[0]) - float(center_rc[0])
    dc = float(point_rc[1]) - float(center_rc[1])
    if not (math.isfinite(dr) and math.isfinite(dc)):
        raise InputError(f"{what} {plain(point_rc)}: coordinates must be finite numbers")
    if math.hypot(dr, dc) < 1e-6:
        raise InputError(f"{what} {plain(point_rc)}: coincides with the LV centre {plain(center_rc)}")
    return math.degrees(math.atan2(-dr, dc)) % 360.0


def sector_start_deg(center_rc: tuple[float, float], anterior_insertion_rc: tuple[float, float] | None,
                     level: str, inferior_insertion_rc: tuple[float, float] | None = None) -> float:
    """Angle at which the first sector of `_CCW_ORDER[level]` begins (see the module docstring)."""
    level = check_level(level)
    if anterior_insertion_rc is None:
        anterior = DEFAULT_ANTERIOR_INSERTION_DEG
    else:
        anterior = angle_deg(anterior_insertion_rc, center_rc, "anterior RV insertion")
    if level in ("basal", "mid"):
        return anterior
    if inferior_insertion_rc is not None and anterior_insertion_rc is not None:
        inferior = angle_deg(inferior_insertion_rc, center_rc, "inferior RV insertion")
        septal = anterior + ((inferior - anterior) % 360.0) / 2.0
    else:
        septal = anterior + DEFAULT_SEPTAL_OFFSET_DEG
    return (septal - 45.0) % 360.0


def segment_of_angles(angles_deg: np.ndarray, start_deg: float, level: str) -> np.ndarray:
    """AHA segment number (int16) for each screen angle, given the start angle of the level's first sector."""
    order = np.asarray(_CCW_ORDER[check_level(level)], dtype=np.int16)
    width = 360.0 / len(order)
    rel = np.mod(np.asarray(angles_deg, dtype=float) - start_deg, 360.0)
    index = np.minimum((rel // width).astype(np.int64), len(order) - 1)
    return order[index]


def aha_segment_map(shape: tuple[int, int], center_rc: tuple[float, float],
                    anterior_insertion_rc: tuple[float, float] | None, level: str,
                    inferior_insertion_rc: tuple[float, float] | None = None) -> np.ndarray:
    """AHA segment number of every pixel by its angle about `center_rc`.

    Returns int16 (R, C); 0 only at a pixel centre that coincides with `center_rc` (no angle).
    `anterior_insertion_rc=None` uses the documented default (120 degrees).
    """
    if len(shape) != 2 or min(shape) < 1:
        raise InputError(f"AHA map shape {tuple(shape)}: must be (rows, cols) with both > 0")
    start = sector_start_deg(center_rc, anterior_insertion_rc, level, inferior_insertion_rc)
    rows, cols = np.mgrid[0:shape[0], 0:shape[1]].astype(float)  # (R, C) each
    dr = rows - float(center_rc[0])
    dc = cols - float(center_rc[1])
    angles = np.degrees(np.arctan2(-dr, dc)) % 360.0
    seg = segment_of_angles(angles, start, level).astype(np.int16)
    seg[np.hypot(dr, dc) < 1e-9] = 0
    return seg
