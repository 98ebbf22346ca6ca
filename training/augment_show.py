"""`python -m training.augment --show DATA --out augment.png | --cost DATA`: look at and time the randomisation.

--show: one training sample and 8 randomisations of it, as a grid (rows: cine end-diastole, cine frame T/3
(systole), LGE with the label outlines). --cost: the mean time of `augment_batch` on batches of 16 crops,
to compare with a training step (one line on stdout: wall and CPU time, the latter
less disturbed by other processes on a busy machine).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from pscgan.errors import InputError

from .augment import AugmentOptions, augment_batch


def _load(data: str):
    from pscgan.nn.config import get_config

    from .cli_train import preprocess_config
    from .data import load_dataset

    return load_dataset(Path(data), preprocess_config(get_config("cpu")), margin=2)


def show(data: str, out: Path, seed: int, sample: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    arrays = _load(data)
    if not 0 <= sample < len(arrays):
        raise InputError(f"--sample {sample}: {data} has {len(arrays)} samples")
    cine, lge, lab = arrays.crops([sample] * 9)
    rng = np.random.default_rng(seed)
    a_cine, a_lge, a_lab = augment_batch(cine[1:], lge[1:], lab[1:], rng, AugmentOptions())
    cine, lge, lab = (np.concatenate([o[:1], a]) for o, a in ((cine, a_cine), (lge, a_lge), (lab, a_lab)))
    t3 = cine.shape[1] // 3
    fig, axes = plt.subplots(3, 9, figsize=(18, 6.4))
    for j in range(9):
        axes[0, j].imshow(cine[j, 0], cmap="gray", vmin=-1, vmax=1)
        axes[1, j].imshow(cine[j, t3], cmap="gray", vmin=-1, vmax=1)
        axes[2, j].imshow(lge[j], cmap="gray", vmin=-1, vmax=1)
        axes[2, j].contour(lab[j], levels=[0.5, 1.5, 2.5], colors=["r", "y", "c"], linewidths=0.6)
        axes[0, j].set_title("original" if j == 0 else f"random {j}", fontsize=9)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    for i, name in enumerate(("cine ED", f"cine frame {t3}", "LGE + labels")):
        axes[i, 0].set_ylabel(name, fontsize=9)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=80)
    plt.close(fig)
    print(f"wrote {out} (sample {arrays.names[sample] if arrays.names else sample}, seed {seed})")


def cost(data: str, seed: int, repeats: int) -> None:
    arrays = _load(data)
    rng = np.random.default_rng(seed)
    batches = [arrays.crops(rng.integers(0, len(arrays), 16)) for _ in range(repeats)]
    augment_batch(*batches[0], rng, AugmentOptions())  # warm-up (imports, caches)
    t0, c0 = time.perf_counter(), time.process_time()
    for b in batches:
        augment_batch(*b, rng, AugmentOptions())
    wall = (time.perf_counter() - t0) / repeats * 1e3
    cpu = (time.process_time() - c0) / repeats * 1e3
    shape = "x".join(str(v) for v in batches[0][0].shape)
    import torch

    print(f"augment_batch: {wall:.1f} ms wall, {cpu:.1f} ms CPU per batch of {shape} "
          f"(mean of {repeats}, {torch.get_num_threads()} torch thread(s))")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.augment", description=__doc__.splitlines()[0])
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--show", metavar="DATA", help="training data folder (case folders)")
    g.add_argument("--cost", metavar="DATA", help="training data folder: time augment_batch")
    p.add_argument("--out", type=Path, default=Path("augment.png"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--sample", type=int, default=0, help="which sample to show")
    p.add_argument("--repeats", type=int, default=20)
    args = p.parse_args(argv)
    try:
        if args.show:
            show(args.show, args.out, args.seed, args.sample)
        else:
            cost(args.cost, args.seed, args.repeats)
    except InputError as err:
        print(f"training.augment: error: {err}", file=sys.stderr)
        return 2
    return 0
