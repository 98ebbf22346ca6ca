"""What the two DICOM readers share: a header read, one frame's record, and frames -> CineStudy.

dicom.py (a folder of single-frame images) and dicom_multiframe.py (one enhanced multi-frame file) both
describe each frame as an `Instance` and hand the list to `assemble`, which groups, sorts and checks the
frames exactly the same way whatever file they came from (geometry rules: see dicom.py's docstring).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from .limits import check_voxels
from .study import CineStudy, validated_study

POSITION_TOLERANCE_MM = 0.1  # two IPPs closer than this along the normal are the same slice
SPACING_TOLERANCE = 0.01  # relative deviation allowed between successive slice steps


@dataclass
class Instance:
    path: Path
    dataset: object  # pydicom Dataset
    series_uid: str
    position: np.ndarray  # (3,) IPP
    orientation: np.ndarray  # (6,) IOP
    pixel_spacing: tuple[float, float]  # (row spacing, col spacing)
    shape: tuple[int, int]
    trigger_time: float | None
    instance_number: int
    pixels: np.ndarray | None = None  # (R, C) already rescaled (frames of a multi-frame file)


def dcmread(path: Path, *, header_only: bool):
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pydicom.dcmread(str(path), stop_before_pixels=header_only)
    except InvalidDicomError:
        return None
    except Exception as err:  # truncated or corrupt file
        raise InputError(f"{path}: unreadable DICOM file ({type(err).__name__}: {str(err).splitlines()[0] if str(err) else 'no detail'})") from None


def float_list(ds, keyword: str, n: int, path: Path) -> np.ndarray:
    value = getattr(ds, keyword, None)
    try:
        arr = np.array([float(v) for v in value], dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"{path}: missing or unreadable {keyword}; cannot place the image in space") from None
    if arr.shape != (n,) or not np.isfinite(arr).all():
        raise InputError(f"{path}: {keyword} must hold {n} numbers, got {value}")
    return arr


def frame_pixels(inst: Instance) -> np.ndarray:
    """(R, C) float32 with RescaleSlope/Intercept applied."""
    if inst.pixels is not None:
        return inst.pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            arr = np.asarray(inst.dataset.pixel_array, dtype=np.float32)
    except Exception as err:
        raise InputError(f"{inst.path}: pixel data cannot be decoded ({type(err).__name__}: {str(err).splitlines()[0] if str(err) else 'truncated?'})") from None
    if arr.shape != inst.shape:
        raise InputError(f"{inst.path}: pixel data has shape {arr.shape}, expected one {inst.shape[0]}x{inst.shape[1]} frame")
    slope = float(getattr(inst.dataset, "RescaleSlope", 1.0) or 1.0)
    intercept = float(getattr(inst.dataset, "RescaleIntercept", 0.0) or 0.0)
    return arr * np.float32(slope) + np.float32(intercept)


def whole_number(ds, keyword: str, path: Path) -> int:
    try:
        value = int(getattr(ds, keyword))
    except (AttributeError, TypeError, ValueError):
        raise InputError(f"{path}: missing or unreadable {keyword}") from None
    if value < 1:
        raise InputError(f"{path}: {keyword} must be positive, got {value}")
    return value


def number_of_frames(ds, path: Path) -> int:
    value = getattr(ds, "NumberOfFrames", None)
    if value in (None, ""):
        return 1
    return whole_number(ds, "NumberOfFrames", path)


def image_shape(ds, path: Path) -> tuple[int, int]:
    """(Rows, Columns) checked against the size limit before any pixel data is decoded."""
    shape = (whole_number(ds, "Rows", path), whole_number(ds, "Columns", path))
    check_voxels(shape[0] * shape[1] * number_of_frames(ds, path), path)
    return shape


def assemble(
    instances: list[Instance],
    source: str,
    frame_interval_ms: float | None,
    min_frames: int,
    acquisition_order: bool = True,
) -> CineStudy:
    """Group, sort and check instances (frames) into a CineStudy.

    acquisition_order: the slice holding the lowest InstanceNumber comes first (the k axis may then point
    along -normal); False: slices always run along +normal (right-handed direction).
    """
    first = instances[0]
    for inst in instances[1:]:
        if inst.shape != first.shape:
            raise InputError(f"{inst.path}: image size {inst.shape} differs from {first.path.name}'s {first.shape}; inconsistent slice geometry")
        if not np.allclose(inst.orientation, first.orientation, atol=1e-3):
            raise InputError(f"{inst.path}: ImageOrientationPatient differs from {first.path.name}'s; inconsistent slice geometry")
        if not np.allclose(inst.pixel_spacing, first.pixel_spacing, rtol=1e-4):
            raise InputError(f"{inst.path}: PixelSpacing {inst.pixel_spacing} differs from {first.path.name}'s {first.pixel_spacing}")
    row_vec = first.orientation[:3] / np.linalg.norm(first.orientation[:3])  # direction of increasing column index
    col_vec = first.orientation[3:] / np.linalg.norm(first.orientation[3:])  # direction of increasing row index
    if abs(float(row_vec @ col_vec)) > 1e-3:
        raise InputError(f"{first.path}: ImageOrientationPatient vectors are not perpendicular")
    normal = np.cross(row_vec, col_vec)

    # group by position along the normal, then check the in-plane position agrees within each group
    order = sorted(instances, key=lambda i: float(i.position @ normal))
    slices: list[list[Instance]] = []
    for inst in order:
        if slices and abs(float(inst.position @ normal) - float(slices[-1][0].position @ normal)) < POSITION_TOLERANCE_MM:
            slices[-1].append(inst)
        else:
            slices.append([inst])
    for k, group in enumerate(slices):
        for inst in group[1:]:
            if np.linalg.norm(inst.position - group[0].position) > POSITION_TOLERANCE_MM:
                raise InputError(
                    f"{inst.path}: ImagePositionPatient {inst.position.round(3).tolist()} is shifted in-plane from "
                    f"{group[0].path.name}'s {group[0].position.round(3).tolist()} at the same slice position; inconsistent slice geometry",
                )
    counts = [len(g) for g in slices]
    if len(set(counts)) > 1:
        common = max(set(counts), key=lambda n: (counts.count(n), n))  # ties: a slice lost frames
        k = next(i for i, c in enumerate(counts) if c != common)
        raise InputError(
            f"{slices[k][0].path}: slice {k + 1} of {len(slices)} (position {slices[k][0].position.round(2).tolist()}) "
            f"has {counts[k]} frames where the others have {common}",
        )

    # keep acquisition order: the slice holding the lowest InstanceNumber comes first (k axis = +-normal)
    if (
        acquisition_order
        and len(slices) > 1
        and min(i.instance_number for i in slices[-1]) < min(i.instance_number for i in slices[0])
    ):
        slices.reverse()
        normal = -normal
    # slice spacing from IPP steps along the (signed) normal, which must be uniform
    heights = np.array([float(g[0].position @ normal) for g in slices])
    if len(slices) > 1:
        steps = np.diff(heights)
        dz = float(np.median(steps))
        if np.abs(steps - dz).max() > SPACING_TOLERANCE * dz + 1e-3:
            raise InputError(
                f"{source}: slice positions are not evenly spaced (steps {np.round(steps, 2).tolist()} mm); inconsistent slice geometry",
            )
        # every slice must lie on the line origin + k*dz*normal (no in-plane drift between slices)
        for k, g in enumerate(slices):
            expected = slices[0][0].position + normal * (heights[k] - heights[0])
            if np.linalg.norm(g[0].position - expected) > 0.5:
                raise InputError(
                    f"{g[0].path}: slice {k + 1} is shifted in-plane by {np.linalg.norm(g[0].position - expected):.2f} mm "
                    "from the stack's axis; inconsistent slice geometry",
                )
    else:
        ds = first.dataset
        dz = float(getattr(ds, "SpacingBetweenSlices", 0) or getattr(ds, "SliceThickness", 0) or 1.0)
        dz = abs(dz) if dz else 1.0

    # frames within a slice: TriggerTime, then InstanceNumber
    def frame_key(i: Instance):
        return (i.trigger_time if i.trigger_time is not None else float("inf"), i.instance_number)

    check_voxels(len(slices) * counts[0] * first.shape[0] * first.shape[1], source, "cine")
    pixels = np.empty((len(slices), counts[0]) + first.shape, dtype=np.float32)  # (S, T, R, C)
    triggers = []
    for k, group in enumerate(slices):
        group.sort(key=frame_key)
        for t, inst in enumerate(group):
            pixels[k, t] = frame_pixels(inst)
        triggers.append([i.trigger_time for i in group])

    interval = frame_interval_ms if frame_interval_ms is not None else _frame_interval(triggers, first.dataset, counts[0])
    direction = np.stack([row_vec, col_vec, normal], axis=1)  # columns: i, j, k axes
    spacing = (first.pixel_spacing[1], first.pixel_spacing[0], dz)
    return validated_study(pixels, spacing, tuple(slices[0][0].position), direction, interval, source, min_frames)


def _frame_interval(triggers: list[list[float | None]], ds, n_frames: int) -> float:
    """Median TriggerTime step within slices; else NominalInterval / frames; else 40 ms."""
    steps = []
    for times in triggers:
        if all(t is not None for t in times) and len(times) > 1:
            steps.extend(np.diff(np.array(times, float)).tolist())
    steps = [s for s in steps if s > 0]
    if steps:
        return float(np.median(steps))
    try:
        rr = float(getattr(ds, "NominalInterval", 0) or 0)
    except (TypeError, ValueError):
        rr = 0.0
    return rr / n_frames if rr > 0 else 40.0
