"""PreprocessConfig: everything that decides what the model sees (saved inside every checkpoint)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields


@dataclass(frozen=True)
class PreprocessConfig:
    """frames: cine frames after temporal resampling (the paper's 25).
    roi_size: ROI side in pixels (64).
    roi_spacing_mm: the ROI is a fixed physical window of roi_size * roi_spacing_mm mm resampled to
      roi_size x roi_size, so hearts imaged at 1.2-1.8 mm look the same to the model; None = crop
      roi_size native pixels.
    clip_percentiles: intensity percentiles mapped to -1 and 1 by `normalise` (values outside are clipped).
    """

    frames: int = 25
    roi_size: int = 64
    roi_spacing_mm: float | None = 1.6
    clip_percentiles: tuple[float, float] = (0.5, 99.5)

    def __post_init__(self) -> None:
        if int(self.frames) < 2:
            raise ValueError(f"frames must be at least 2, got {self.frames}")
        if int(self.roi_size) < 8:
            raise ValueError(f"roi_size must be at least 8, got {self.roi_size}")
        if self.roi_spacing_mm is not None and not float(self.roi_spacing_mm) > 0:
            raise ValueError(f"roi_spacing_mm must be positive or None, got {self.roi_spacing_mm}")
        lo, hi = (float(v) for v in self.clip_percentiles)
        if not 0.0 <= lo < hi <= 100.0:
            raise ValueError(f"clip_percentiles must satisfy 0 <= low < high <= 100, got {self.clip_percentiles}")
        object.__setattr__(self, "clip_percentiles", (lo, hi))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["clip_percentiles"] = list(self.clip_percentiles)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> PreprocessConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown preprocessing keys {sorted(unknown)}")
        kw = dict(d)
        if "clip_percentiles" in kw:
            kw["clip_percentiles"] = tuple(kw["clip_percentiles"])
        return cls(**kw)
