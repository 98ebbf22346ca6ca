"""A matplotlib Figure on its own Agg canvas, saved atomically (no pyplot, no global backend)."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def new_figure(width_in: float, height_in: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def save_png(fig, out_png: Path, dpi: int = 110) -> Path:
    out_png = Path(out_png)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".png", dir=out_png.parent)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=dpi, format="png")
        os.chmod(tmp, 0o644)  # mkstemp makes 0600 files
        os.replace(tmp, out_png)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return out_png
