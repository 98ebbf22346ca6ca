"""Reading back what a picture shows: the PNG's pixel under a point of a matplotlib Axes, and the figures that
the report code saved (captured on their way through `save_png`), so tests check content, not only size."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


def png_rgb(path: Path) -> np.ndarray:
    """(H, W, 3) float in [0, 1]."""
    from matplotlib import image

    return np.asarray(image.imread(str(path)), float)[..., :3]


@dataclass
class Saved:
    """One picture saved through save_png: the Figure (still live), the file and the dpi it was written at."""

    fig: object
    path: Path
    dpi: float

    def axes(self, title: str):
        found = [ax for ax in self.fig.axes if ax.get_title() == title]
        assert len(found) == 1, f"expected one axes titled {title!r}, found {[a.get_title() for a in self.fig.axes]}"
        return found[0]

    def pixel(self, ax, x: float, y: float) -> tuple[int, int]:
        """(row, col) in the PNG of the data point (x, y) of `ax`."""
        dx, dy = ax.transData.transform((x, y))  # display units at the figure's own dpi, origin bottom-left
        scale = self.dpi / self.fig.dpi
        height = int(round(self.fig.get_size_inches()[1] * self.dpi))
        return int(height - dy * scale), int(dx * scale)

    def region(self, ax) -> np.ndarray:
        """(h, w, 3) PNG pixels inside `ax`'s box."""
        box = ax.get_window_extent()
        scale = self.dpi / self.fig.dpi
        height = int(round(self.fig.get_size_inches()[1] * self.dpi))
        rows = slice(int(height - box.y1 * scale) + 1, int(height - box.y0 * scale) - 1)
        cols = slice(int(box.x0 * scale) + 1, int(box.x1 * scale) - 1)
        return png_rgb(self.path)[rows, cols]

    def colour(self, ax, x: float, y: float, half: int = 1) -> np.ndarray:
        """Median RGB of the (2 half + 1)^2 PNG pixels around the data point (x, y) of `ax`."""
        r, c = self.pixel(ax, x, y)
        patch = png_rgb(self.path)[r - half : r + half + 1, c - half : c + half + 1]
        return np.median(patch.reshape(-1, 3), axis=0)


@dataclass
class Capture:
    saved: list[Saved] = field(default_factory=list)

    def wrap(self, save_png):
        def capturing(fig, out_png, dpi: int = 110):
            path = save_png(fig, out_png, dpi=dpi)
            self.saved.append(Saved(fig, Path(path), float(dpi)))
            return path

        return capturing


def capture_saved_figures(monkeypatch, *modules) -> Capture:
    """Record every figure the given modules save through their `save_png`."""
    capture = Capture()
    for module in modules:
        monkeypatch.setattr(module, "save_png", capture.wrap(module.save_png))
    return capture


def wedge_point(segment: int) -> tuple[float, float]:
    """A point inside bullseye segment `segment`, away from its edges and from its centred label text."""
    import math

    from pscgan.report.bullseye import segment_wedge

    inner, outer, t1, t2 = segment_wedge(segment)
    radius, angle = inner + 0.3 * (outer - inner), math.radians(t1 + 0.22 * (t2 - t1))
    return radius * math.cos(angle), radius * math.sin(angle)


def bullseye_colour(value: float | None) -> np.ndarray:
    """The colour pscgan.report.bullseye gives a transmurality (None: not measured)."""
    import matplotlib

    from pscgan.report.bullseye import CMAP, NOT_MEASURED_COLOR

    if value is None:
        return np.asarray(NOT_MEASURED_COLOR, float)
    return np.asarray(matplotlib.colormaps[CMAP](value / 100.0)[:3], float)
