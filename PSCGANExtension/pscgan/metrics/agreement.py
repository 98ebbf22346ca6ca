"""Agreement over a set of cases: Pearson r, Bland-Altman, ROC AUC, sensitivity / specificity.

* Pearson r with the two-sided p-value of H0 "r = 0" from Student's t with n - 2 degrees of
freedom (t = r sqrt((n - 2) / (1 - r^2)), via the regularised incomplete beta function).
Needs n >= 3 and neither series constant; otherwise r and p are None.
* Bland-Altman: differences d = prediction - reference; bias = mean(d); SD = sample standard
deviation of d (n - 1); 95 % limits of agreement = bias -+ 1.96 SD. Needs n >= 2.
* ROC AUC by ranks (Mann-Whitney): AUC = (sum of the positives' ranks - n1 (n1 + 1) / 2)
/ (n1 n0), ties given their average rank (so a tied positive/negative pair counts 1/2).
None when either class is absent.
* sensitivity = TP / (TP + FN), specificity = TN / (TN + FP) of binary decisions; None when
undefined (no positives / no negatives in the truth).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from ..errors import InputError

LOA_Z = 1.96


@dataclass
class Correlation:
    r: float | None
    p: float | None
    n: int


@dataclass
class BlandAltman:
    bias: float | None
    sd: float | None
    loa_low: float | None
    loa_high: float | None
    n: int


@dataclass
class Detection:
    sensitivity: float | None
    specificity: float | None
    auc: float | None
    positives: int
    negatives: int


def _paired(x, y, what: str) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(x, dtype=np.float64).ravel()
    b = np.asarray(y, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise InputError(f"{what}: the two series have different lengths ({a.size} and {b.size})")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise InputError(f"{what}: values must be finite numbers")
    return a, b


def pearson(x, y) -> Correlation:
    """Pearson correlation coefficient and its two-sided p-value."""
    a, b = _paired(x, y, "Pearson correlation")
    n = a.size
    if n < 3:
        return Correlation(None, None, n)
    da, db = a - a.mean(), b - b.mean()
    den = math.sqrt(float(np.sum(da * da)) * float(np.sum(db * db)))
    if den == 0.0:
        return Correlation(None, None, n)
    r = max(-1.0, min(1.0, float(np.sum(da * db)) / den))
    df = n - 2
    if abs(r) >= 1.0:
        return Correlation(r, 0.0, n)
    t2 = r * r * df / (1.0 - r * r)
    p = float(special.betainc(df / 2.0, 0.5, df / (df + t2)))
    return Correlation(r, p, n)


def bland_altman(prediction, reference) -> BlandAltman:
    """Bias (mean of prediction - reference) and 95 % limits of agreement (bias -+ 1.96 SD)."""
    a, b = _paired(prediction, reference, "Bland-Altman")
    n = a.size
    if n < 2:
        return BlandAltman(float(np.mean(a - b)) if n else None, None, None, None, n)
    d = a - b
    bias = float(d.mean())
    sd = float(d.std(ddof=1))
    return BlandAltman(bias, sd, bias - LOA_Z * sd, bias + LOA_Z * sd, n)


def average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks, ties sharing their average rank."""
    v = np.asarray(values, dtype=np.float64).ravel()
    order = np.argsort(v, kind="mergesort")
    sorted_v = v[order]
    ranks = np.empty(v.size, dtype=np.float64)
    start = 0
    while start < v.size:
        stop = start
        while stop + 1 < v.size and sorted_v[stop + 1] == sorted_v[start]:
            stop += 1
        ranks[order[start:stop + 1]] = (start + stop) / 2.0 + 1.0
        start = stop + 1
    return ranks


def roc_auc(scores, truth) -> float | None:
    """Area under the ROC curve of `scores` for the binary `truth`, by ranks; None without both classes."""
    s = np.asarray(scores, dtype=np.float64).ravel()
    t = np.asarray(truth).astype(bool).ravel()
    if s.shape != t.shape:
        raise InputError(f"ROC AUC: {s.size} scores but {t.size} truth values")
    if not np.all(np.isfinite(s)):
        raise InputError("ROC AUC: scores must be finite numbers")
    n1, n0 = int(t.sum()), int((~t).sum())
    if n1 == 0 or n0 == 0:
        return None
    ranks = average_ranks(s)
    return float((ranks[t].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))


def sensitivity_specificity(decision, truth) -> tuple[float | None, float | None]:
    """(TP / (TP + FN), TN / (TN + FP)) of binary decisions against binary truth."""
    d = np.asarray(decision).astype(bool).ravel()
    t = np.asarray(truth).astype(bool).ravel()
    if d.shape != t.shape:
        raise InputError(f"sensitivity/specificity: {d.size} decisions but {t.size} truth values")
    tp, fn = int(np.sum(d & t)), int(np.sum(~d & t))
    tn, fp = int(np.sum(~d & ~t)), int(np.sum(d & ~t))
    return (tp / (tp + fn) if tp + fn else None, tn / (tn + fp) if tn + fp else None)


def detection(scores, decision, truth) -> Detection:
    """Sensitivity and specificity of `decision` and AUC of `scores` against `truth`."""
    sens, spec = sensitivity_specificity(decision, truth)
    t = np.asarray(truth).astype(bool).ravel()
    return Detection(sens, spec, roc_auc(scores, truth), int(t.sum()), int((~t).sum()))
