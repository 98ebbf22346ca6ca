"""A matplotlib Figure on its own Agg canvas, saved atomically (no pyplot, no global backend)."""
from __future__ import annotations

from pathlib import Path

from ..io.atomic import write_file


def new_figure(width_in: float, height_in: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def save_png(fig, out_png: Path, dpi: int = 110) -> Path:
    """Write `fig` as PNG; zlib level 1: about a quarter larger files than the default level 6, about a fifth less time."""
    return write_file(Path(out_png), lambda tmp: fig.savefig(str(tmp), dpi=dpi, format="png", pil_kwargs={"compress_level": 1}),
                      suffix=".png")
