"""Correlation and Bland-Altman plots of predicted against reference values (one figure per quantity)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..metrics.agreement import bland_altman, pearson
from .canvas import new_figure, save_png


def draw_agreement_plots(pred, ref, quantity: str, unit: str, out_png: Path) -> Path:
    """Left: prediction vs reference with the identity line and r (p); right: Bland-Altman with bias
    and 95 % limits of agreement (bias -+ 1.96 SD of prediction - reference)."""
    p = np.asarray(pred, dtype=float)
    r = np.asarray(ref, dtype=float)
    corr = pearson(p, r)
    ba = bland_altman(p, r)
    fig = new_figure(9.0, 4.0)
    ax1, ax2 = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)

    ax1.scatter(r, p, s=18, color="tab:blue", alpha=0.8)
    if p.size:
        lo, hi = float(min(p.min(), r.min())), float(max(p.max(), r.max()))
        pad = 0.05 * (hi - lo or 1.0)
        ax1.plot([lo - pad, hi + pad], [lo - pad, hi + pad], "k--", lw=1, label="identity")
        if p.size >= 2 and np.ptp(r) > 0:
            slope, intercept = np.polyfit(r, p, 1)
            xs = np.array([lo - pad, hi + pad])
            ax1.plot(xs, slope * xs + intercept, color="tab:red", lw=1, label=f"fit y = {slope:.2f}x {'-' if intercept < 0 else '+'} {abs(intercept):.2f}")
        ax1.legend(fontsize=7, loc="upper left")
    r_text = "n/a" if corr.r is None else f"{corr.r:.3f}"
    p_text = "n/a" if corr.p is None else f"{corr.p:.3g}"
    ax1.set_title(f"{quantity}: r = {r_text} (p = {p_text}), n = {corr.n}", fontsize=9)
    ax1.set_xlabel(f"reference {quantity} ({unit})", fontsize=8)
    ax1.set_ylabel(f"predicted {quantity} ({unit})", fontsize=8)

    mean = (p + r) / 2
    diff = p - r
    ax2.scatter(mean, diff, s=18, color="tab:blue", alpha=0.8)
    if ba.bias is not None:
        ax2.axhline(ba.bias, color="tab:red", lw=1.2, label=f"bias {ba.bias:.2f}")
    if ba.loa_low is not None:
        ax2.axhline(ba.loa_low, color="gray", ls="--", lw=1, label=f"-1.96 SD {ba.loa_low:.2f}")
        ax2.axhline(ba.loa_high, color="gray", ls="--", lw=1, label=f"+1.96 SD {ba.loa_high:.2f}")
    ax2.axhline(0.0, color="black", lw=0.5)
    if ba.bias is not None:
        ax2.legend(fontsize=7, loc="best")
    ax2.set_title(f"Bland-Altman: {quantity}", fontsize=9)
    ax2.set_xlabel(f"mean of predicted and reference ({unit})", fontsize=8)
    ax2.set_ylabel(f"predicted - reference ({unit})", fontsize=8)
    for ax in (ax1, ax2):
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return save_png(fig, out_png)
