"""Sunnybrook expert contours: read the "x y" text files and rasterise them on the DICOM pixel grid.

A contour file holds one "x y" pair per line in pixel coordinates (x = column, y = row, origin at the
centre of the top-left pixel); the polygon closes implicitly. File names are
`IM-0001-<NNNN>-{i,o}contour-manual.txt` where NNNN is the InstanceNumber N of `<N>.dcm`
(slice = (N-1)//20 + 1, phase = (N-1)%20 + 1 for the 20-phase studies).
Rasterisation: a pixel belongs to the mask when its centre lies inside the polygon
(matplotlib.path.Path.contains_points). Needs numpy and matplotlib only.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError

CONTOUR_NAME = re.compile(r"IM-\d+-(\d+)-([io])contour-manual\.txt$", re.IGNORECASE)


@dataclass(frozen=True)
class ContourFile:
    """One expert contour: which image it belongs to and its polygon."""

    path: Path
    instance: int  # InstanceNumber of the DICOM image it was drawn on
    kind: str  # "i" endocardium | "o" epicardium
    xy: np.ndarray  # (N, 2) float, x = column, y = row


def read_contour(path: str | Path) -> np.ndarray:
    """One contour file -> (N, 2) float64 polygon, x = column, y = row (N >= 3)."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as err:
        raise InputError(f"{path}: cannot read contour file ({err.strerror or type(err).__name__})") from None
    points = []
    for lineno, line in enumerate(text.splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        try:
            x, y = (float(v) for v in parts)
        except ValueError:
            raise InputError(f"{path}: line {lineno} is not an 'x y' pair: {line.strip()!r}") from None
        points.append((x, y))
    xy = np.asarray(points, dtype=float).reshape(-1, 2)
    if len(xy) < 3:
        raise InputError(f"{path}: a contour needs at least 3 points, found {len(xy)}")
    if not np.isfinite(xy).all():
        raise InputError(f"{path}: contour holds NaN or infinite coordinates")
    return xy


def list_contours(folder: str | Path) -> list[ContourFile]:
    """Every i-/o-contour file under `folder` (searched recursively), sorted by instance then kind."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: contour folder not found")
    found = []
    for p in sorted(folder.rglob("*contour-manual.txt")):
        m = CONTOUR_NAME.search(p.name)
        if m is None:
            continue
        found.append(ContourFile(path=p, instance=int(m.group(1)), kind=m.group(2).lower(), xy=read_contour(p)))
    return sorted(found, key=lambda c: (c.instance, c.kind))


def rasterise(xy: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Polygon (N, 2) in (x = column, y = row) -> (R, C) bool mask of the pixels whose centre is inside."""
    from matplotlib.path import Path as PolygonPath

    rows, cols = int(shape[0]), int(shape[1])
    rr, cc = np.mgrid[0:rows, 0:cols]  # (R, C) each
    centres = np.column_stack([cc.ravel(), rr.ravel()]).astype(float)  # (R*C, 2) as (x, y)
    inside = PolygonPath(np.asarray(xy, float)).contains_points(centres)
    return inside.reshape(rows, cols)


def reference_masks(endo_xy: np.ndarray, epi_xy: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(blood pool, myocardium) (R, C) bool masks: inside endo; inside epi and not inside endo."""
    endo = rasterise(endo_xy, shape)
    epi = rasterise(epi_xy, shape)
    return endo, epi & ~endo
