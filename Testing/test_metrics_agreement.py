"""Pearson r against scipy, Bland-Altman by definition, AUC against a direct pairwise count."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from pscgan.errors import InputError
from pscgan.metrics.agreement import average_ranks, bland_altman, detection, pearson, roc_auc


@pytest.mark.parametrize("seed,n", [(0, 5), (1, 30), (2, 200)])
def test_pearson_matches_scipy(seed, n):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = 0.5 * x + rng.normal(size=n)
    ours = pearson(x, y)
    ref = stats.pearsonr(x, y)
    assert ours.r == pytest.approx(ref.statistic, abs=1e-12)
    assert ours.p == pytest.approx(ref.pvalue, rel=1e-6, abs=1e-12)
    assert ours.n == n


def test_pearson_undefined_cases():
    assert pearson([1, 2], [2, 3]).r is None
    assert pearson([1, 1, 1], [1, 2, 3]).r is None
    with pytest.raises(InputError, match="lengths"):
        pearson([1, 2, 3], [1, 2])


def test_bland_altman_definition():
    pred = np.array([5.0, 7.5, 3.0, 9.0, 4.0])
    ref = np.array([4.0, 7.0, 3.5, 8.0, 4.5])
    ba = bland_altman(pred, ref)
    d = pred - ref
    assert ba.bias == pytest.approx(d.mean())
    assert ba.sd == pytest.approx(np.sqrt(np.sum((d - d.mean()) ** 2) / (len(d) - 1)))
    assert ba.loa_low == pytest.approx(d.mean() - 1.96 * ba.sd)
    assert ba.loa_high == pytest.approx(d.mean() + 1.96 * ba.sd)


def pairwise_auc(scores, truth):
    pos = scores[truth]
    neg = scores[~truth]
    wins = sum((p > q) + 0.5 * (p == q) for p in pos for q in neg)
    return wins / (len(pos) * len(neg))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auc_matches_direct_pairwise_count(seed):
    rng = np.random.default_rng(seed)
    truth = rng.random(60) < 0.3
    scores = np.round(rng.normal(size=60) + truth, 1)  # rounding makes ties
    assert roc_auc(scores, truth) == pytest.approx(pairwise_auc(scores, truth), abs=1e-12)
    assert roc_auc(truth.astype(float), truth) == 1.0
    assert roc_auc(np.zeros(60), truth) == 0.5
    assert roc_auc(scores, np.zeros(60, bool)) is None


def test_average_ranks_and_detection():
    assert average_ranks(np.array([3.0, 1.0, 3.0, 2.0])).tolist() == [3.5, 1.0, 3.5, 2.0]
    truth = np.array([1, 1, 0, 0, 0], bool)
    det = detection([0.9, 0.2, 0.1, 0.6, 0.0], [1, 0, 0, 1, 0], truth)
    assert det.sensitivity == 0.5 and det.specificity == pytest.approx(2 / 3)
    assert det.positives == 2 and det.negatives == 3
    assert det.auc == pytest.approx(pairwise_auc(np.array([0.9, 0.2, 0.1, 0.6, 0.0]), truth))
