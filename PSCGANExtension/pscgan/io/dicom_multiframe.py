"""One multi-frame (enhanced) DICOM file holding a whole cine: frames placed by their functional groups.

Per frame (PerFrameFunctionalGroupsSequence, falling back to SharedFunctionalGroupsSequence, then the top level):
PlanePositionSequence/ImagePositionPatient, PlaneOrientationSequence/ImageOrientationPatient,
PixelMeasuresSequence/PixelSpacing, PixelValueTransformationSequence/RescaleSlope+Intercept, and the frame's
time from CardiacSynchronizationSequence/NominalCardiacTriggerDelayTime (else FrameContentSequence/
TemporalPositionIndex, else the frame number). The frames are then grouped and checked exactly like a folder
of single-frame images (dicom_frames.assemble); slices run along +normal (frame order in the file carries no meaning).
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ..errors import InputError
from .dicom_frames import Instance, assemble, dcmread, float_list, image_shape, number_of_frames
from .study import CineStudy


def _item(ds, sequence: str):
    seq = getattr(ds, sequence, None)
    return seq[0] if seq else None


def _lookup(groups: list, sequence: str, keyword: str):
    """The first value of `keyword` inside `sequence` among the given functional-group items (or datasets)."""
    for group in groups:
        if group is None:
            continue
        item = _item(group, sequence)
        if item is not None and keyword in item:
            return item
    return None


def read_multiframe_cine(path: str | Path, *, frame_interval_ms: float | None = None, min_frames: int = 8) -> CineStudy:
    path = Path(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = dcmread(path, header_only=False)
        if ds is None:
            raise InputError(f"{path}: not a DICOM file")
        n = number_of_frames(ds, path)
        rows, cols = image_shape(ds, path)  # checked against the size limit before decoding
        try:
            frames = np.asarray(ds.pixel_array, dtype=np.float32).reshape(n, rows, cols)  # (F, R, C)
        except Exception as err:
            raise InputError(f"{path}: pixel data cannot be decoded ({type(err).__name__}; truncated?)") from None
        per_frame = list(getattr(ds, "PerFrameFunctionalGroupsSequence", []) or [])
        shared = _item(ds, "SharedFunctionalGroupsSequence")
        if per_frame and len(per_frame) != n:
            raise InputError(f"{path}: {len(per_frame)} per-frame functional groups for {n} frames")
        instances = []
        has_times = True  # every frame has a trigger delay in ms
        for f in range(n):
            groups = [per_frame[f] if per_frame else None, shared]
            where = f"{path} frame {f + 1}"
            pos = _lookup(groups, "PlanePositionSequence", "ImagePositionPatient") or ds
            ori = _lookup(groups, "PlaneOrientationSequence", "ImageOrientationPatient") or ds
            meas = _lookup(groups, "PixelMeasuresSequence", "PixelSpacing") or ds
            rescale = _lookup(groups, "PixelValueTransformationSequence", "RescaleSlope") or ds
            cardiac = _lookup(groups, "CardiacSynchronizationSequence", "NominalCardiacTriggerDelayTime")
            content = _lookup(groups, "FrameContentSequence", "TemporalPositionIndex")
            position = float_list(pos, "ImagePositionPatient", 3, Path(where))
            orientation = float_list(ori, "ImageOrientationPatient", 6, Path(where))
            spacing = float_list(meas, "PixelSpacing", 2, Path(where))
            if cardiac is not None:
                trigger = float(cardiac.NominalCardiacTriggerDelayTime)
            elif content is not None:
                trigger = float(content.TemporalPositionIndex)
            else:
                trigger = None
            slope = float(getattr(rescale, "RescaleSlope", 1.0) or 1.0)
            intercept = float(getattr(rescale, "RescaleIntercept", 0.0) or 0.0)
            instances.append(
                Instance(
                    path=path,
                    dataset=ds,
                    series_uid=str(getattr(ds, "SeriesInstanceUID", "")),
                    position=position,
                    orientation=orientation,
                    pixel_spacing=(float(spacing[0]), float(spacing[1])),
                    shape=(rows, cols),
                    trigger_time=trigger,
                    instance_number=f + 1,
                    pixels=frames[f] * np.float32(slope) + np.float32(intercept),
                ),
            )
            has_times = has_times and cardiac is not None
        study = assemble(instances, str(path), frame_interval_ms, min_frames, acquisition_order=False)
        if not has_times and frame_interval_ms is None:  # index steps are not milliseconds
            rr = float(getattr(ds, "NominalInterval", 0) or 0)
            study.frame_interval_ms = rr / study.num_frames if rr > 0 else 40.0
        return study
