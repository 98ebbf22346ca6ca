"""RoiArrays: the training/validation samples in memory, with jittered crops for augmentation.

Samples are stored with a margin of `margin` pixels on every side of the model's ROI, so that a
random shift of up to `margin` pixels (augmentation: the LV centre found at inference is never
exact) is a cheap slice instead of a new resampling. Validation takes the centred crop.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

UNKNOWN_LABEL = 255  # systole labels of a sample without per-frame labels (losses.systole_mce leaves it out)


@dataclass
class RoiArrays:
    cine: np.ndarray  # (N, T, S + 2m, S + 2m) float32 in [-1, 1]
    lge: np.ndarray  # (N, S + 2m, S + 2m) float32 in [-1, 1]
    labels: np.ndarray  # (N, S + 2m, S + 2m) uint8, 0..3
    margin: int = 0
    scar_area_cm2: np.ndarray | None = None  # (N,) reference scar area per sample, if known
    names: list[str] = field(default_factory=list)
    has_lge: np.ndarray | None = None  # (N,) bool: the sample has a real LGE (None: all have); zeros stand in otherwise
    # (N, S + 2m, S + 2m) uint8 labels at end-systole, 0 other, 1 blood pool, 2 myocardium; UNKNOWN_LABEL
    # everywhere for a sample without them; None: no sample has them
    systole: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.cine)
        self.has_lge = np.ones(n, bool) if self.has_lge is None else np.asarray(self.has_lge, bool).reshape(-1)
        if len(self.has_lge) != n:
            raise ValueError(f"RoiArrays: {n} samples but {len(self.has_lge)} has_lge flags")
        if not (len(self.lge) == len(self.labels) == n):
            raise ValueError(f"RoiArrays: {n} cine, {len(self.lge)} LGE and {len(self.labels)} label samples")
        if self.cine.shape[-2:] != self.lge.shape[-2:] or self.lge.shape[-2:] != self.labels.shape[-2:]:
            raise ValueError("RoiArrays: cine, LGE and label images differ in size")
        if self.systole is not None and self.systole.shape != self.labels.shape:
            raise ValueError(f"RoiArrays: systole labels {self.systole.shape} but labels {self.labels.shape}")

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
            has_lge=self.has_lge[idx], systole=None if self.systole is None else self.systole[idx],
        )

    def samples_for(self, outputs) -> np.ndarray:
        """Indices of the samples a phase training `outputs` can use: the LGE output ("sys") needs a real LGE."""
        return np.flatnonzero(self.has_lge) if "sys" in outputs else np.arange(len(self))

    def crops(self, idx, offsets_rc: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Samples `idx` cropped to S x S, shifted by offsets_rc (B, 2) integer pixels in [-m, m] (None: centred).

        Returns cine (B, T, S, S) float32, lge (B, S, S) float32, labels (B, S, S) int64.
        """
        return (self._window(self.cine, idx, offsets_rc, np.float32), self._window(self.lge, idx, offsets_rc, np.float32),
                self._window(self.labels, idx, offsets_rc, np.int64))

    def systole_crops(self, idx, offsets_rc: np.ndarray | None = None) -> np.ndarray:
        """The end-systolic labels of samples `idx`, cropped as `crops` does: (B, S, S) int64, UNKNOWN_LABEL where
        a sample has none."""
        if self.systole is None:
            return np.full((len(idx), self.size, self.size), UNKNOWN_LABEL, np.int64)
        return self._window(self.systole, idx, offsets_rc, np.int64)

    def _window(self, array: np.ndarray, idx, offsets_rc, dtype) -> np.ndarray:
        """array (N, ..., S + 2m, S + 2m) -> (B, ..., S, S) of samples idx, shifted by offsets_rc (None: centred)."""
        idx = np.asarray(idx, dtype=int)
        m, s = self.margin, self.size
        offsets = np.zeros((len(idx), 2), int) if offsets_rc is None else np.asarray(offsets_rc, int)
        out = np.empty((len(idx), *array.shape[1:-2], s, s), dtype)
        for b, (i, (dr, dc)) in enumerate(zip(idx, offsets)):
            r0, c0 = m + int(dr), m + int(dc)
            out[b] = array[i, ..., r0 : r0 + s, c0 : c0 + s]
        return out

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
