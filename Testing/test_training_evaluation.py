"""training.evaluation computes its Dice and Pearson through pscgan.metrics, with the figures it had before."""
from __future__ import annotations

import math

import numpy as np
import pytest

from training.evaluation import CLASS_KEYS, pearson_r, segmentation_scores


def _pooled_dice(pred: np.ndarray, ref: np.ndarray, c: int) -> float:
    """The definition the trainer has always logged: 2 |P & R| / (|P| + |R|) over the whole set, NaN if both empty."""
    p, r = pred == c, ref == c
    denom = int(p.sum()) + int(r.sum())
    return 2.0 * float(np.logical_and(p, r).sum()) / denom if denom else math.nan


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dice_per_class_is_the_pooled_dice(seed):
    rng = np.random.default_rng(seed)
    ref = rng.integers(0, 4, (5, 16, 16)).astype(np.uint8)
    pred = np.where(rng.random(ref.shape) < 0.7, ref, rng.integers(0, 4, ref.shape)).astype(np.uint8)
    pred[pred == 3] = 2 if seed == 2 else 3  # seed 2: no scar predicted
    if seed == 2:
        ref[ref == 3] = 1  # ... nor in the reference: the scar Dice is undefined
    scores = segmentation_scores(pred, ref, "seg")
    for c, name in CLASS_KEYS.items():
        expected = _pooled_dice(pred, ref, c)
        got = scores[f"seg_dice_{name}"]
        assert (math.isnan(got) and math.isnan(expected)) or got == expected
    assert scores["seg_accuracy"] == float((pred == ref).mean())
    defined = [scores[f"seg_dice_{n}"] for c, n in CLASS_KEYS.items() if c != 0 and not math.isnan(scores[f"seg_dice_{n}"])]
    assert scores["seg_dice_mean"] == pytest.approx(float(np.mean(defined)))
    assert math.isnan(scores["seg_dice_scar"]) == (seed == 2)


def test_pearson_is_numpys_correlation_and_nan_when_undefined():
    rng = np.random.default_rng(4)
    x = rng.integers(0, 50, 12)
    y = x + rng.integers(-10, 10, 12)
    assert pearson_r(x, y) == pytest.approx(float(np.corrcoef(x, y)[0, 1]), abs=1e-12)
    assert math.isnan(pearson_r(x, np.full(12, 3)))  # one side constant
    assert math.isnan(pearson_r([1, 2], [2, 4]))  # fewer than 3 slices: no correlation to speak of
