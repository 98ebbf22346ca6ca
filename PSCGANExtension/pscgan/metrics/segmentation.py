"""Segmentation agreement of a predicted 4-class label image with the reference.

Per tissue class c (1 blood pool, 2 healthy myocardium, 3 scar), one-vs-rest over all pixels of
the ROI: TP = pred c & ref c, FP = pred c & ref not c, FN = pred not c & ref c, TN = the rest.
  accuracy    = (TP + TN) / N
  sensitivity = TP / (TP + FN)      None (undefined) when the reference has no pixel of c
  specificity = TN / (TN + FP)      None when every reference pixel is c
  dice        = 2 TP / (2 TP + FP + FN)
                None (undefined) when neither image has the class: a case without scar in both
                reference and prediction does not count in the scar Dice, and it is left out of
                the mean over cases (the number of cases that counted is reported beside it).
"overall" is the macro average over the three tissue classes of each value that is defined
in the case (class 0, "other", is the background and is not averaged). `pixel_accuracy` is
the plain 4-class agreement: the fraction of pixels whose label matches.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..errors import InputError
from ..labels import BLOOD_POOL, HEALTHY_MYOCARDIUM, SCAR
from .clinical import check_labels

TISSUE_CLASSES: dict[str, int] = {"blood_pool": BLOOD_POOL, "healthy_myocardium": HEALTHY_MYOCARDIUM, "scar": SCAR}


@dataclass
class ClassAgreement:
    """One-vs-rest agreement for one class (or their macro average for "overall")."""

    accuracy: float | None
    sensitivity: float | None
    specificity: float | None
    dice: float | None


def _ratio(num: int, den: int) -> float | None:
    return num / den if den > 0 else None


def class_agreement(reference: np.ndarray, prediction: np.ndarray, label: int) -> ClassAgreement:
    """One-vs-rest accuracy, sensitivity, specificity and Dice of `label`."""
    ref = np.asarray(reference) == label
    pred = np.asarray(prediction) == label
    tp = int(np.sum(ref & pred))
    fp = int(np.sum(~ref & pred))
    fn = int(np.sum(ref & ~pred))
    tn = int(np.sum(~ref & ~pred))
    return ClassAgreement(
        accuracy=_ratio(tp + tn, tp + tn + fp + fn),
        sensitivity=_ratio(tp, tp + fn),
        specificity=_ratio(tn, tn + fp),
        dice=_ratio(2 * tp, 2 * tp + fp + fn),
    )


def dice(reference: np.ndarray, prediction: np.ndarray, label: int) -> float | None:
    """Dice of one label; None when neither image has it."""
    return class_agreement(reference, prediction, label).dice


def _macro(values: list[float | None]) -> float | None:
    defined = [v for v in values if v is not None]
    return float(np.mean(defined)) if defined else None


def segmentation_metrics(reference: np.ndarray, prediction: np.ndarray) -> dict:
    """{"blood_pool"|"healthy_myocardium"|"scar"|"overall": {accuracy, sensitivity, specificity, dice},
    "pixel_accuracy": float}; undefined values are None (see the module docstring)."""
    ref = check_labels(reference, "reference labels")
    pred = check_labels(prediction, "predicted labels")
    if ref.shape != pred.shape:
        raise InputError(f"labels: reference shape {ref.shape} and prediction shape {pred.shape} disagree")
    per_class = {name: class_agreement(ref, pred, label) for name, label in TISSUE_CLASSES.items()}
    overall = ClassAgreement(**{key: _macro([getattr(a, key) for a in per_class.values()])
                                for key in ("accuracy", "sensitivity", "specificity", "dice")})
    out = {name: asdict(a) for name, a in per_class.items()}
    out["overall"] = asdict(overall)
    out["pixel_accuracy"] = float(np.mean(ref == pred))
    return out
