"""Tissue classes shared by the phantom, the model, the metrics and the Slicer nodes, and the one
rule a label image must follow (whole numbers 0-3)."""
import numpy as np

from .errors import InputError

OTHER = 0
BLOOD_POOL = 1
HEALTHY_MYOCARDIUM = 2
SCAR = 3
NUM_CLASSES = 4

NAMES = {OTHER: "Other", BLOOD_POOL: "Blood pool", HEALTHY_MYOCARDIUM: "Healthy myocardium", SCAR: "Scar"}

# Colours as in the paper's figures (RGB 0-1): scar cyan, healthy myocardium purple, blood pool orange.
COLORS = {
    SCAR: (0.0, 0.85, 0.9),
    HEALTHY_MYOCARDIUM: (0.55, 0.25, 0.75),
    BLOOD_POOL: (1.0, 0.6, 0.1),
}


def checked_label_values(values, what: str) -> np.ndarray:
    """`values` as an array if every value is a whole number 0-3; else InputError naming `what` and
    the offending values (labels outside 0-3, or not whole numbers)."""
    arr = np.asarray(values)
    if arr.dtype.kind not in "fiub":
        raise InputError(f"{what}: label image has non-numeric type {arr.dtype}")
    if not arr.size:
        return arr
    legend = ", ".join(f"{k} {NAMES[k].lower()}" for k in sorted(NAMES))
    if arr.dtype.kind == "f" and not (np.all(np.isfinite(arr)) and np.all(arr == np.round(arr))):
        bad = np.unique(arr[~np.isfinite(arr) | (arr != np.round(arr))])[:5]
        raise InputError(f"{what}: label values must be whole numbers 0-{NUM_CLASSES - 1} ({legend}), found {bad.tolist()}")
    if arr.min() < 0 or arr.max() > NUM_CLASSES - 1:
        bad = np.unique(arr[(arr < 0) | (arr > NUM_CLASSES - 1)])[:5]
        raise InputError(f"{what}: labels outside 0-{NUM_CLASSES - 1} found ({legend}): {bad.tolist()}")
    return arr
