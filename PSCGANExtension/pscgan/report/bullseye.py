"""AHA 16(+1)-segment bullseye coloured by transmurality.

Layout as in Cerqueira et al. 2002: basal ring outside, mid ring, apical ring, apex (17) in the
centre; anterior at the top, septum on the left (the short-axis view of `pscgan.metrics.aha`).
Basal / mid segment k (1-6, 7-12) spans 60 + 60 (k - 1) .. 120 + 60 (k - 1) degrees counter-clockwise
from the right; apical 13 anterior (45-135), 14 septal (135-225), 15 inferior, 16 lateral.
Colour: transmurality 0-100 % on a white-to-red scale; light grey = not measured (no slice there,
or no myocardium).
"""
from __future__ import annotations

from pathlib import Path

from ..metrics.clinical import SegmentFigures
from .canvas import new_figure, save_png

NOT_MEASURED_COLOR = (0.82, 0.82, 0.82)
CMAP = "Reds"
RING_RADII = {"basal": (2.0, 3.0), "mid": (1.0, 2.0), "apical": (0.35, 1.0)}


def segment_wedge(segment: int) -> tuple[float, float, float, float]:
    """(inner radius, outer radius, theta1, theta2) in degrees of a segment's wedge."""
    if 1 <= segment <= 12:
        k = (segment - 1) % 6
        inner, outer = RING_RADII["basal" if segment <= 6 else "mid"]
        return inner, outer, 60.0 + 60.0 * k, 120.0 + 60.0 * k
    if 13 <= segment <= 16:
        k = segment - 13
        inner, outer = RING_RADII["apical"]
        return inner, outer, 45.0 + 90.0 * k, 135.0 + 90.0 * k
    raise ValueError(f"segment {segment} has no wedge")


def _value(item) -> float | None:
    if isinstance(item, SegmentFigures):
        return item.transmurality_pct
    return None if item is None else float(item)


def draw_bullseye(ax, values: dict, title: str = "Transmurality (%)", show_colorbar: bool = True) -> None:
    """Draw the bullseye on `ax`. `values`: segment number -> transmurality % (or SegmentFigures, or None)."""
    import matplotlib
    from matplotlib.colors import Normalize
    from matplotlib.patches import Circle, Wedge

    cmap = matplotlib.colormaps[CMAP]
    norm = Normalize(0.0, 100.0)
    import math

    for segment in range(1, 17):
        value = _value(values.get(segment))
        inner, outer, t1, t2 = segment_wedge(segment)
        color = NOT_MEASURED_COLOR if value is None else cmap(norm(value))
        ax.add_patch(Wedge((0, 0), outer, t1, t2, width=outer - inner, facecolor=color, edgecolor="black", lw=1.0))
        mid = math.radians((t1 + t2) / 2)
        radius = (inner + outer) / 2
        text = f"{segment}\n" + ("–" if value is None else f"{value:.0f}%")  # noqa: RUF001 (an en dash: not measured)
        dark = value is not None and value > 60
        ax.text(radius * math.cos(mid), radius * math.sin(mid), text, ha="center", va="center", fontsize=7,
                color="white" if dark else "black")
    apex = _value(values.get(17))
    ax.add_patch(Circle((0, 0), RING_RADII["apical"][0], facecolor=NOT_MEASURED_COLOR if apex is None else cmap(norm(apex)),
                        edgecolor="black", lw=1.0))
    ax.text(0, 0, "17", ha="center", va="center", fontsize=6)
    ax.set_xlim(-3.2, 3.2)
    ax.set_ylim(-3.2, 3.2)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, fontsize=9, pad=14)
    ax.text(0, 3.15, "anterior", ha="center", va="bottom", fontsize=7)
    ax.text(-3.15, 0, "septal", ha="right", va="center", fontsize=7, rotation=90)
    ax.text(0, -3.15, "inferior", ha="center", va="top", fontsize=7)
    ax.text(3.15, 0, "lateral", ha="left", va="center", fontsize=7, rotation=270)
    if show_colorbar:
        from matplotlib.cm import ScalarMappable

        mappable = ScalarMappable(norm=norm, cmap=cmap)
        cbar = ax.figure.colorbar(mappable, ax=ax, fraction=0.046, pad=0.08)
        cbar.set_label("transmurality (%)", fontsize=7)
        cbar.ax.tick_params(labelsize=7)


def save_bullseye(out_png: Path, values: dict, title: str = "Transmurality (%)") -> Path:
    """A stand-alone bullseye picture."""
    fig = new_figure(4.2, 3.8)
    draw_bullseye(fig.add_subplot(1, 1, 1), values, title)
    fig.tight_layout()
    return save_png(fig, out_png)
