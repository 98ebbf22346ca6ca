"""RoiArrays: the training/validation samples in memory, with jittered crops for augmentation.

Samples are stored with a margin of `margin` pixels on every side of the model's ROI, so that a
random shift of up to `margin` pixels (augmentation: the LV centre found at inference is never
exact) is a cheap slice instead of a new resampling. Validation takes the centred crop.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class RoiArrays:
    cine: np.ndarray  # (N, T, S + 2m, S + 2m) float32 in [-1, 1]
    lge: np.ndarray  # (N, S + 2m, S + 2m) float32 in [-1, 1]
    labels: np.ndarray  # (N, S + 2m, S + 2m) uint8, 0..3
    margin: int = 0
    scar_area_cm2: np.ndarray | None = None  # (N,) reference scar area per sample, if known
    names: list[str] = field(default_factory=list)
    has_lge: np.ndarray | None = None  # (N,) bool: the sample has a real LGE (None: all have); zeros stand in otherwise

    def __post_init__(self) -> None:
        n = len(self.cine)
        self.has_lge = np.ones(n, bool) if self.has_lge is None else np.asarray(self.has_lge, bool).reshape(-1)
        if len(self.has_lge) != n:
            raise ValueError(f"RoiArrays: {n} samples but {len(self.has_lge)} has_lge flags")
        if not (len(self.lge) == len(self.labels) == n):
            raise ValueError(f"RoiArrays: {n} cine, {len(self.lge)} LGE and {len(self.labels)} label samples")
        if self.cine.shape[-2:] != self.lge.shape[-2:] or self.lge.shape[-2:] != self.labels.shape[-2:]:
            raise ValueError("RoiArrays: cine, LGE and label images differ in size")

    def __len__(self) -> int:
        return len(self.cine)

    @property
    def size(self) -> int:
        """The model's ROI size S (stored size minus the margins)."""
        return self.cine.shape[-1] - 2 * self.margin

    def subset(self, idx) -> RoiArrays:
        idx = np.asarray(idx, dtype=int)
        return RoiArrays(
            cine=self.cine[idx], lge=self.lge[idx], labels=self.labels[idx], margin=self.margin,
            scar_area_cm2=None if self.scar_area_cm2 is None else self.scar_area_cm2[idx],
            names=[self.names[i] for i in idx] if self.names else [],
            has_lge=self.has_lge[idx],
        )

    def samples_for(self, outputs) -> np.ndarray:
        """Indices of the samples a phase training `outputs` can use: the LGE output ("sys") needs a real LGE."""
        return np.flatnonzero(self.has_lge) if "sys" in outputs else np.arange(len(self))

    def crops(self, idx, offsets_rc: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Samples `idx` cropped to S x S, shifted by offsets_rc (B, 2) integer pixels in [-m, m] (None: centred).

        Returns cine (B, T, S, S) float32, lge (B, S, S) float32, labels (B, S, S) int64.
        """
        idx = np.asarray(idx, dtype=int)
        m, s = self.margin, self.size
        offsets = np.zeros((len(idx), 2), int) if offsets_rc is None else np.asarray(offsets_rc, int)
        cine = np.empty((len(idx), self.cine.shape[1], s, s), np.float32)
        lge = np.empty((len(idx), s, s), np.float32)
        lab = np.empty((len(idx), s, s), np.int64)
        for b, (i, (dr, dc)) in enumerate(zip(idx, offsets)):
            r0, c0 = m + int(dr), m + int(dc)
            cine[b] = self.cine[i, :, r0 : r0 + s, c0 : c0 + s]
            lge[b] = self.lge[i, r0 : r0 + s, c0 : c0 + s]
            lab[b] = self.labels[i, r0 : r0 + s, c0 : c0 + s]
        return cine, lge, lab

    def centred(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.crops(np.arange(len(self)))


def split_indices(n: int, val_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """A fixed, seeded train/validation split of n samples (at least one of each when n >= 2)."""
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"validation fraction {val_fraction} is not in [0, 1)")
    order = np.random.default_rng(seed).permutation(n)
    n_val = int(round(n * val_fraction))
    if n >= 2 and val_fraction > 0:
        n_val = min(max(n_val, 1), n - 1)
    return sorted(order[n_val:].tolist()), sorted(order[:n_val].tolist())
