"""Post-processing of the model's labels in the ROI, before they are pasted back into the study.

Two rules in the spirit of nnU-Net's "keep the main component" (Isensee et al., Nature Methods 18, 2021), both
anchored on the ROI's centre, which sits on the LV (`pscgan.preprocess.roi`):
1. the heart the measurements are about is the labelled region (blood pool, healthy myocardium and scar
   together, 8-connected) at or nearest the centre; every labelled region not connected to it becomes "other"
   (on the shared Sunnybrook studies: right-ventricular blood, tissue below the heart);
2. the LV blood pool is one region: the blood-pool region (4-connected) at or nearest the centre keeps its
   label, other blood-pool regions become "other" (on the shared studies: right-ventricular or outflow-tract
   blood joined to the LV by predicted wall).
Myocardium and scar inside the kept region never change, so scar stays where the model put it. When the ROI
centre itself sits on the wrong chamber (a localisation failure), the rules keep that chamber.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

from .labels import BLOOD_POOL, OTHER

EIGHT_CONNECTED = np.ones((3, 3), bool)
FOUR_CONNECTED = ndimage.generate_binary_structure(2, 1)


def central_region(mask: np.ndarray, structure: np.ndarray) -> np.ndarray:
    """(H, W) bool -> the connected region of `mask` holding the centre pixel, else the one with the pixel
    nearest to it (ties: the larger); all of `mask` when it is one region or empty."""
    regions, count = ndimage.label(mask, structure=structure)
    if count <= 1:
        return mask.copy()
    center = (mask.shape[0] // 2, mask.shape[1] // 2)
    keep = regions[center]
    if keep == 0:
        rows, cols = np.nonzero(regions)
        dist2 = (rows - center[0]) ** 2 + (cols - center[1]) ** 2
        nearest = regions[rows, cols][dist2 == dist2.min()]
        sizes = np.bincount(regions.ravel(), minlength=count + 1)
        keep = max(np.unique(nearest), key=lambda r: sizes[r])
    return regions == keep


def keep_lv_region(labels: np.ndarray) -> np.ndarray:
    """(H, W) labels -> a copy with rules 1 and 2 applied (see the module)."""
    labels = np.asarray(labels)
    heart = central_region(labels != OTHER, EIGHT_CONNECTED)
    kept = np.where(heart, labels, OTHER)
    blood = kept == BLOOD_POOL
    kept[blood & ~central_region(blood, FOUR_CONNECTED)] = OTHER
    return kept.astype(labels.dtype)


def keep_lv_regions(labels: np.ndarray) -> np.ndarray:
    """(S, H, W) ROI labels of a study -> `keep_lv_region` of every slice."""
    labels = np.asarray(labels)
    return np.stack([keep_lv_region(s) for s in labels]) if len(labels) else labels.copy()
