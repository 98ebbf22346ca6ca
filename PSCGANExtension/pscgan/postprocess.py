"""Post-processing of the model's labels in the ROI, before they are pasted back into the study.

One rule, nnU-Net's "keep the main foreground component" (Isensee et al., Nature Methods 18, 2021) with the
LV as the foreground: the ROI is centred on the LV (`pscgan.preprocess.roi`), so the heart the measurements
are about is the labelled region (blood pool, healthy myocardium and scar together, 8-connected) at or nearest
the ROI's centre. Every labelled region not connected to it is a detached blob (on the shared Sunnybrook studies:
right-ventricular blood, tissue below the heart) and becomes "other". Labels inside the kept
region never change: a blood pool split by a papillary muscle stays, scar stays where the model put it.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

from .labels import OTHER

EIGHT_CONNECTED = np.ones((3, 3), bool)


def keep_lv_region(labels: np.ndarray) -> np.ndarray:
    """(H, W) labels -> a copy in which only the labelled region at or nearest the centre keeps its labels."""
    labels = np.asarray(labels)
    regions, count = ndimage.label(labels != OTHER, structure=EIGHT_CONNECTED)
    if count <= 1:
        return labels.copy()
    center = (labels.shape[0] // 2, labels.shape[1] // 2)
    keep = regions[center]
    if keep == 0:  # the centre itself is unlabelled: the region with the pixel nearest to it (ties: the larger)
        rows, cols = np.nonzero(regions)
        dist2 = (rows - center[0]) ** 2 + (cols - center[1]) ** 2
        nearest = regions[rows, cols][dist2 == dist2.min()]
        sizes = np.bincount(regions.ravel(), minlength=count + 1)
        keep = max(np.unique(nearest), key=lambda r: sizes[r])
    return np.where(regions == keep, labels, OTHER).astype(labels.dtype)


def keep_lv_regions(labels: np.ndarray) -> np.ndarray:
    """(S, H, W) ROI labels of a study -> `keep_lv_region` of every slice."""
    labels = np.asarray(labels)
    return np.stack([keep_lv_region(s) for s in labels]) if len(labels) else labels.copy()
