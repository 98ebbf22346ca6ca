"""Segmentation metrics against SimpleITK's LabelOverlapMeasuresImageFilter and direct counting."""
from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from pscgan.errors import InputError
from pscgan.metrics.segmentation import segmentation_metrics


def disc_labels(center, inner, outer, scar_rows=None, shape=(64, 64)):
    r, c = np.mgrid[0:shape[0], 0:shape[1]]
    d = np.hypot(r - center[0], c - center[1])
    lab = np.zeros(shape, np.uint8)
    lab[d < inner] = 1
    lab[(d >= inner) & (d < outer)] = 2
    if scar_rows is not None:
        lab[(lab == 2) & (r < scar_rows)] = 3
    return lab


def sitk_dice(ref, pred, label):
    f = sitk.LabelOverlapMeasuresImageFilter()
    f.Execute(sitk.GetImageFromArray(ref.astype(np.uint8)), sitk.GetImageFromArray(pred.astype(np.uint8)))
    return f.GetDiceCoefficient(label)


@pytest.mark.parametrize("shift", [(0, 0), (1, 2), (3, -1)])
def test_dice_matches_simpleitk(shift):
    ref = disc_labels((32, 32), 9, 15, scar_rows=24)
    pred = disc_labels((32 + shift[0], 32 + shift[1]), 10, 15, scar_rows=26)
    m = segmentation_metrics(ref, pred)
    for name, label in [("blood_pool", 1), ("healthy_myocardium", 2), ("scar", 3)]:
        assert m[name]["dice"] == pytest.approx(sitk_dice(ref, pred, label), abs=1e-9)
    assert m["overall"]["dice"] == pytest.approx(np.mean([sitk_dice(ref, pred, k) for k in (1, 2, 3)]))


def test_counts_against_direct_definition():
    rng = np.random.default_rng(0)
    ref = rng.integers(0, 4, (40, 40))
    pred = np.where(rng.random((40, 40)) < 0.7, ref, rng.integers(0, 4, (40, 40)))
    m = segmentation_metrics(ref, pred)
    for name, label in [("blood_pool", 1), ("healthy_myocardium", 2), ("scar", 3)]:
        tp = np.sum((ref == label) & (pred == label))
        tn = np.sum((ref != label) & (pred != label))
        assert m[name]["sensitivity"] == pytest.approx(tp / np.sum(ref == label))
        assert m[name]["specificity"] == pytest.approx(tn / np.sum(ref != label))
        assert m[name]["accuracy"] == pytest.approx((tp + tn) / ref.size)
    assert m["pixel_accuracy"] == pytest.approx(np.mean(ref == pred))


def test_case_without_scar_has_undefined_scar_dice():
    ref = disc_labels((32, 32), 9, 15)
    pred = disc_labels((33, 32), 9, 15)
    m = segmentation_metrics(ref, pred)
    assert m["scar"]["dice"] is None and m["scar"]["sensitivity"] is None
    assert m["scar"]["specificity"] == 1.0
    assert m["overall"]["dice"] == pytest.approx(np.mean([m["blood_pool"]["dice"], m["healthy_myocardium"]["dice"]]))
    # scar predicted where the reference has none: Dice 0, not undefined
    pred_scar = disc_labels((32, 32), 9, 15, scar_rows=22)
    assert segmentation_metrics(ref, pred_scar)["scar"]["dice"] == 0.0


def test_bad_labels():
    ref = disc_labels((32, 32), 9, 15)
    with pytest.raises(InputError, match="disagree"):
        segmentation_metrics(ref, ref[:-1])
    with pytest.raises(InputError, match="outside 0-3"):
        segmentation_metrics(ref, ref * 2)
