"""report.png of one case or a multi-slice study.

Layout: one row per slice (at most `MAX_ROWS`; with more, evenly spaced slices among those with
LV tissue), columns: cine at ED, cine at ES, synthesised LGE, reference LGE (only when given),
segmentation over the synthesised LGE (or the ED frame) in the Slicer segment colours
(`pscgan.labels.COLORS`); on the right the AHA bullseye of transmurality over all slices and the
figures. Large images are cropped around the LV so that the heart fills the panels: one window size for
all rows (the largest LV's), each around its own slice's LV, so every row has the same scale. Each panel
column is one image (a tile per row) in one Axes, not an Axes per panel: matplotlib's cost is per Axes
(a 12-slice report took about 1.3 s with 51 Axes).
ES, when not given, is the frame in which the blood pool (labels == 1) is darkest on average: the
bright blood pool is smallest at end-systole (a heuristic; pass es_index when it is known).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..io.case_folder import META_FILE
from ..labels import BLOOD_POOL, COLORS, HEALTHY_MYOCARDIUM, NAMES, SCAR
from ..metrics.clinical import SliceQuantification, combine_segments
from .bullseye import draw_bullseye
from .canvas import new_figure, save_png

MAX_ROWS = 12
MIN_HALF_WIDTH = 24  # crop half width in pixels (at least)
OVERLAY_ALPHA = 0.55


def _as_stack(array, ndim_single: int, what: str) -> np.ndarray | None:
    if array is None:
        return None
    arr = np.asarray(array)
    if arr.ndim == ndim_single:
        arr = arr[None]
    if arr.ndim != ndim_single + 1:
        raise InputError(f"report: {what} has shape {arr.shape}, expected {ndim_single} or {ndim_single + 1} dimensions")
    return arr


def choose_es_index(cine: np.ndarray, labels: np.ndarray) -> int:
    """Frame whose mean intensity inside the blood pool is lowest; T // 3 without a blood pool.
    cine (S, T, R, C), labels (S, R, C)."""
    mask = labels == BLOOD_POOL  # (S, R, C)
    frames = cine.shape[1]
    if not mask.any():
        return frames // 3
    means = [float(cine[:, t][mask].mean()) for t in range(frames)]
    return int(np.argmin(means))


def pick_slices(labels: np.ndarray, max_rows: int = MAX_ROWS) -> list[int]:
    """All slices if few; else evenly spaced among those with LV tissue."""
    n = labels.shape[0]
    if n <= max_rows:
        return list(range(n))
    with_lv = [s for s in range(n) if np.isin(labels[s], (BLOOD_POOL, HEALTHY_MYOCARDIUM, SCAR)).any()] or list(range(n))
    if len(with_lv) <= max_rows:
        return with_lv
    picks = np.linspace(0, len(with_lv) - 1, max_rows).round().astype(int)
    return [with_lv[i] for i in sorted(set(picks))]


def lv_center_and_half_width(labels: np.ndarray, center_rc: tuple[float, float] | None) -> tuple[tuple[float, float] | None, int]:
    """Centre (row, col) of the LV (`center_rc` when given, else the mean of its pixels; None without LV) and the
    half width of a square window that holds it (about 1.6 x its radius, at least `MIN_HALF_WIDTH`)."""
    lv = np.isin(labels, (BLOOD_POOL, HEALTHY_MYOCARDIUM, SCAR))
    if not lv.any():
        return center_rc, MIN_HALF_WIDTH
    rr, cc = np.nonzero(lv)
    if center_rc is None:
        center_rc = (rr.mean(), cc.mean())
    return center_rc, max(MIN_HALF_WIDTH, int(1.6 * np.hypot(rr - center_rc[0], cc - center_rc[1]).max()) + 4)


def crop_box(shape: tuple[int, int], center_rc: tuple[float, float] | None, half: int) -> tuple[slice, slice]:
    """The square window of half width `half` around `center_rc`, moved inside the image; the whole image when
    it is small or there is no centre."""
    rows, cols = shape
    if max(rows, cols) <= 2 * MIN_HALF_WIDTH + 16 or center_rc is None:
        return slice(0, rows), slice(0, cols)
    out = []
    for extent, centre in zip((rows, cols), center_rc):
        size = min(2 * half, extent)
        start = min(max(int(round(centre)) - half, 0), extent - size)
        out.append(slice(start, start + size))
    return out[0], out[1]


def overlay_rgba(labels: np.ndarray) -> np.ndarray:
    """(R, C, 4) RGBA: class colours of `pscgan.labels.COLORS`, transparent for class 0."""
    rgba = np.zeros((*labels.shape, 4), dtype=np.float32)
    for label, color in COLORS.items():
        mask = labels == label
        rgba[mask, :3] = color
        rgba[mask, 3] = OVERLAY_ALPHA
    return rgba


def window_01(image: np.ndarray) -> np.ndarray:
    """Grey values in [0, 1]: the image's 1st to 99.5th percentile stretched over the grey scale, clipped."""
    lo, hi = np.percentile(image, [1, 99.5])
    hi = hi if hi > lo else lo + 1
    return np.clip((np.asarray(image, np.float32) - lo) / (hi - lo), 0.0, 1.0)


def stack_tiles(tiles: Sequence[np.ndarray], gap: int) -> np.ndarray:
    """Tiles of one shape ((H, W) grey or (H, W, 4) RGBA), top to bottom, `gap` rows apart; the gaps are NaN
    (grey: drawn in the figure's colour) or transparent (RGBA)."""
    first = tiles[0]
    fill = np.nan if first.ndim == 2 else 0.0
    out = np.full((len(tiles) * (first.shape[0] + gap) - gap, *first.shape[1:]), fill, np.float32)
    for i, tile in enumerate(tiles):
        top = i * (first.shape[0] + gap)
        out[top : top + first.shape[0]] = tile
    return out


def _show_column(ax, tiles: Sequence[np.ndarray] | None, title: str, gap: int, overlay: Sequence[np.ndarray] | None = None) -> None:
    """One panel column: its tiles (one per shown slice) in one image, the overlay's RGBA tiles drawn over them."""
    import matplotlib

    if tiles is None:
        ax.text(0.5, 0.5, "not available", ha="center", va="center", fontsize=8, transform=ax.transAxes)
        ax.set_facecolor((0.15, 0.15, 0.15))
    else:
        cmap = matplotlib.colormaps["gray"].with_extremes(bad=(1.0, 1.0, 1.0, 0.0))
        ax.imshow(stack_tiles([window_01(t) for t in tiles], gap), cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
        if overlay is not None:
            ax.imshow(stack_tiles(overlay, gap), interpolation="nearest")
        ax.set_anchor("N")  # a column shorter than its box sits under its title
        for side in ax.spines.values():
            side.set_visible(False)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=8)


def _quant_list(quantification, n: int) -> list[SliceQuantification | None]:
    if quantification is None:
        return [None] * n
    if isinstance(quantification, SliceQuantification):
        quantification = [quantification]
    quant = list(quantification)
    if len(quant) != n:
        raise InputError(f"report: {len(quant)} slice quantifications for {n} slices")
    return quant


INSERTION_WORDS = {"detected": "detected", "markup": "user markup", "meta": META_FILE, "default": "default 120°",
                   None: "given"}


def _insertion_text(quant: list[SliceQuantification | None]) -> str:
    """Which RV insertion points oriented the AHA segments, e.g. "RV insertion: detected (1-5), default 120° (6)"."""
    by_source: dict[str, list[int]] = {}
    for s, q in enumerate(quant):
        if q is None:
            continue
        source = q.insertion_source if q.insertion_source is not None or q.anterior_insertion_rc is not None else "default"
        by_source.setdefault(INSERTION_WORDS.get(source, str(source)), []).append(s + 1)
    if len(by_source) == 1:
        return f"RV insertion: {next(iter(by_source))}"
    parts = [f"{word} ({', '.join(map(str, slices))})" for word, slices in by_source.items()]
    return "RV insertion: " + ", ".join(parts)


def _summary_text(quant: list[SliceQuantification | None]) -> str:
    measured = [q for q in quant if q is not None]
    if not measured:
        return "No LV tissue measured."
    scar = sum(q.scar_area_cm2 for q in measured)
    myo = sum(q.myocardium_area_cm2 for q in measured)
    blood = sum(q.blood_pool_area_cm2 for q in measured)
    ratio = "undefined (no myocardium)" if myo <= 0 else f"{100 * scar / myo:.1f} %"
    with_scar = sorted({f.segment for q in measured for f in q.segments if f.has_scar})
    lines = [f"Scar area: {scar:.2f} cm²", f"Myocardium area: {myo:.2f} cm²", f"Blood pool area: {blood:.2f} cm²",
             f"Scar ratio: {ratio}", "Segments with scar: " + (", ".join(map(str, with_scar)) or "none")]
    lines.append(_insertion_text(quant))
    lines.append("Research use only.")
    return "\n".join(lines)


def draw_case_report(out_png: Path, cine_frames: np.ndarray | None, labels: np.ndarray, lge: np.ndarray | None = None,
                     ref_lge: np.ndarray | None = None,
                     quantification: SliceQuantification | Sequence[SliceQuantification | None] | None = None,
                     ed_index: int = 0, es_index: int | None = None, title: str = "PSCGAN report") -> Path:
    """Write report.png. Single slice: cine (T, R, C), labels / lge / ref_lge (R, C); a study:
    cine (S, T, R, C), labels / lge / ref_lge (S, R, C) and one quantification (or None) per slice."""
    lab = _as_stack(labels, 2, "labels")
    cine = _as_stack(cine_frames, 3, "cine frames")
    syn = _as_stack(lge, 2, "lge")
    ref = _as_stack(ref_lge, 2, "reference lge")
    n = lab.shape[0]
    for arr, what in ((syn, "lge"), (ref, "reference lge")):
        if arr is not None and arr.shape != lab.shape:
            raise InputError(f"report: {what} shape {arr.shape} and labels shape {lab.shape} disagree")
    if cine is not None and (cine.shape[0] != n or cine.shape[2:] != lab.shape[1:]):
        raise InputError(f"report: cine shape {cine.shape} does not match labels shape {lab.shape}")
    from matplotlib.patches import Patch

    quant = _quant_list(quantification, n)
    if cine is not None:
        frames = cine.shape[1]
        if not 0 <= ed_index < frames:
            raise InputError(f"report: ED index {ed_index} outside 0-{frames - 1}")
        es_index = choose_es_index(cine, lab) if es_index is None else int(es_index)
        if not 0 <= es_index < frames:
            raise InputError(f"report: ES index {es_index} outside 0-{frames - 1}")

    rows = pick_slices(lab)
    n_img = (2 if cine is not None else 0) + (3 if ref is not None else 2)
    single = len(rows) == 1
    per_row = math.ceil(n_img / 2) if single else n_img  # one slice: its panels wrap onto two rows
    n_rows = 2 if single else len(rows)
    panel = 2.4 if single else 1.7
    width, height = panel * per_row + 4.6, max(panel * n_rows + 0.7, 5.0)
    fig = new_figure(width, height)
    # fixed margins in inches (room for the heading, the panel titles and the slice labels) instead of
    # tight_layout, which took about a quarter of the drawing time of a 12-slice report
    grid = fig.add_gridspec(n_rows, per_row + 2, width_ratios=[1] * per_row + [1.3, 1.3],
                            left=0.3 / width, right=1 - 0.6 / width, bottom=0.1 / height, top=1 - 0.55 / height,
                            wspace=0.06, hspace=0.3 if single else 0.06)

    def place(k: int):  # panel column k: one slice wraps its panels onto two rows, a study's columns span all rows
        return grid[k // per_row, k % per_row] if single else grid[:, k]

    has_lv = [bool(np.isin(lab[s], (BLOOD_POOL, HEALTHY_MYOCARDIUM, SCAR)).any()) for s in range(n)]
    lv_slices = [s for s in range(n) if has_lv[s]]
    # every row shows the same window size around its own LV centre (one scale for the study); a slice
    # without LV shares the window of the nearest slice with LV, so all rows show the same region
    def window_source(s: int) -> int:
        return s if has_lv[s] or not lv_slices else min(lv_slices, key=lambda k: abs(k - s))

    centres = {s: lv_center_and_half_width(lab[s], None if quant[s] is None else quant[s].center_rc)
               for s in set(lv_slices) | {window_source(s) for s in rows}}
    half = max((centres[s][1] for s in lv_slices), default=MIN_HALF_WIDTH)
    boxes = [crop_box(lab.shape[1:], centres[window_source(s)][0], half) for s in rows]
    # one image per panel column (a tile per shown slice) instead of an Axes per panel: matplotlib's cost is per Axes
    columns: list[tuple[str, list[np.ndarray] | None]] = []
    if cine is not None:
        columns += [(f"ED (frame {ed_index + 1})", [cine[s, ed_index] for s in rows]),
                    (f"ES (frame {es_index + 1})", [cine[s, es_index] for s in rows])]
    columns.append(("LGE-equivalent", None if syn is None else [syn[s] for s in rows]))
    if ref is not None:
        columns.append(("reference LGE", [ref[s] for s in rows]))
    background = syn if syn is not None else (cine[:, ed_index] if cine is not None else np.zeros(lab.shape))
    gap = max(1, round(0.06 * 2 * half))
    axes = []
    for k, (name, images) in enumerate(columns):
        ax = fig.add_subplot(place(k))
        _show_column(ax, None if images is None else [im[box] for im, box in zip(images, boxes)], name, gap)
        axes.append(ax)
    ax = fig.add_subplot(place(len(columns)))
    _show_column(ax, [background[s][box] for s, box in zip(rows, boxes)], "segmentation", gap,
                 overlay=[overlay_rgba(lab[s][box]) for s, box in zip(rows, boxes)])
    tile = boxes[0][0].stop - boxes[0][0].start
    axes[0].set_yticks([i * (tile + gap) + (tile - 1) / 2 for i in range(len(rows))],
                       [f"slice {s + 1}" + ("" if quant[s] is None else f" ({quant[s].level})") for s in rows], fontsize=8, rotation=90, va="center")
    axes[0].tick_params(axis="y", length=0, pad=2)

    split = max(1, math.ceil(n_rows * 0.6)) if n_rows > 2 else 1
    bull_ax = fig.add_subplot(grid[:split, per_row:])
    measured = [q for q in quant if q is not None]
    draw_bullseye(bull_ax, combine_segments(measured) if measured else {}, "AHA transmurality (%)")
    text_ax = fig.add_subplot(grid[split:, per_row:])
    text_ax.axis("off")
    text_ax.text(0.02, 0.98, _summary_text(quant), va="top", ha="left", fontsize=8, transform=text_ax.transAxes)
    handles = [Patch(facecolor=COLORS[k], label=NAMES[k]) for k in (SCAR, HEALTHY_MYOCARDIUM, BLOOD_POOL)]
    text_ax.legend(handles=handles, loc="lower left", fontsize=8, frameon=False)
    fig.suptitle(title, fontsize=10, y=1 - 0.08 / height, va="top")
    return save_png(fig, out_png)


def draw_study_report(out_png: Path, study, lge: np.ndarray | None, labels: np.ndarray,
                      quantification: Sequence[SliceQuantification | None] | None,
                      ref_lge: np.ndarray | None = None, ed_index: int = 0, es_index: int | None = None) -> Path:
    """report.png of a CineStudy (pixels (S, T, R, C)) with its LGE and labels (S, R, C)."""
    title = f"PSCGAN report: {Path(str(study.source)).name}"
    return draw_case_report(out_png, study.pixels, labels, lge, ref_lge, quantification, ed_index, es_index, title)
