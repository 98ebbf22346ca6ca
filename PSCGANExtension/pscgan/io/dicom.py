"""DICOM cine reader: a folder of single-frame images (multi-slice, multi-phase) or one multi-frame file.

Geometry comes only from ImagePositionPatient (IPP) and ImageOrientationPatient (IOP):
  i (column) axis = IOP[0:3], j (row) axis = IOP[3:6], k (slice) axis = their cross product (the normal).
Frames are grouped per slice by IPP (never by exact TriggerTime, which differs between slices), slices are
sorted by the projection of IPP on the normal, frames within a slice by TriggerTime (InstanceNumber when
missing). SliceLocation is ignored (it is wrong in some vendors' files).
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

from ..errors import InputError
from .dicom_frames import Instance, assemble, dcmread, float_list, image_shape, number_of_frames
from .study import CineStudy

IGNORED_SUFFIXES = {".txt", ".csv", ".json", ".md", ".xml", ".png", ".jpg", ".jpeg", ".zip", ".html", ".pdf", ".py"}


def _instance(path: Path, ds) -> Instance:
    position = float_list(ds, "ImagePositionPatient", 3, path)
    orientation = float_list(ds, "ImageOrientationPatient", 6, path)
    spacing = float_list(ds, "PixelSpacing", 2, path)
    trigger = getattr(ds, "TriggerTime", None)
    try:
        trigger_time = float(trigger) if trigger not in (None, "") else None
    except (TypeError, ValueError):
        trigger_time = None
    try:
        number = int(getattr(ds, "InstanceNumber", 0) or 0)
    except (TypeError, ValueError):
        number = 0
    return Instance(
        path=path,
        dataset=ds,
        series_uid=str(getattr(ds, "SeriesInstanceUID", "")),
        position=position,
        orientation=orientation,
        pixel_spacing=(float(spacing[0]), float(spacing[1])),
        shape=image_shape(ds, path),
        trigger_time=trigger_time,
        instance_number=number,
    )


def _is_image_sop(ds) -> bool:
    """The file says it is an image (its SOP class, else its file meta's): then it must hold pixel data."""
    from pydicom.uid import UID

    uid = ds.get("SOPClassUID") or getattr(ds, "file_meta", {}).get("MediaStorageSOPClassUID")
    try:
        return bool(uid) and "Image Storage" in UID(str(uid)).name
    except Exception:
        return False


def _candidate_files(folder: Path) -> list[Path]:
    files = [
        p
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.startswith(".") and p.name.upper() != "DICOMDIR"
        and p.suffix.lower() not in IGNORED_SUFFIXES
    ]
    return files


def _series_summary(groups: dict[str, list[tuple[Path, object]]]) -> str:
    parts = []
    for uid, items in groups.items():
        desc = str(getattr(items[0][1], "SeriesDescription", "") or "").strip()
        parts.append(f"{uid}" + (f" '{desc}'" if desc else "") + f" ({len(items)} image{'s' if len(items) != 1 else ''})")
    return "; ".join(parts)


def read_dicom_cine(
    path: str | Path,
    *,
    series_uid: str | Sequence[str] | None = None,
    frame_interval_ms: float | None = None,
    min_frames: int = 8,
) -> CineStudy:
    """Read a cine from a DICOM folder (searched recursively) or a single DICOM file.

    series_uid: choose one series when the folder holds several (or a list of UIDs to merge, e.g. a
    vendor that stores each short-axis slice as its own series). A single-frame file reads the series it
    belongs to from its folder; a multi-frame (enhanced) file is read on its own.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom warns on every non-conforming value, lazily
        return _read(Path(path), series_uid, frame_interval_ms, min_frames)


def _read(path: Path, series_uid, frame_interval_ms: float | None, min_frames: int) -> CineStudy:
    if path.is_file():
        ds = dcmread(path, header_only=True)
        if ds is None:
            raise InputError(f"{path}: not a DICOM file")
        if number_of_frames(ds, path) > 1:
            from .dicom_multiframe import read_multiframe_cine

            return read_multiframe_cine(path, frame_interval_ms=frame_interval_ms, min_frames=min_frames)
        if series_uid is None:
            series_uid = str(getattr(ds, "SeriesInstanceUID", ""))
        path = path.parent
    if not path.is_dir():
        raise InputError(f"{path}: no such file or folder")

    images: list[tuple[Path, object]] = []
    for f in _candidate_files(path):
        ds = dcmread(f, header_only=False)
        if ds is None:
            if f.suffix.lower() in (".dcm", ".dicom", ".ima"):
                raise InputError(f"{f}: not a DICOM file (no DICOM header)")
            continue
        if "PixelData" not in ds:
            if "Rows" in ds or "ImagePositionPatient" in ds or _is_image_sop(ds):
                raise InputError(f"{f}: DICOM image without pixel data (truncated file?)")
            if len(ds) == 0:
                raise InputError(f"{f}: DICOM file holds no data elements (truncated file?)")
            continue  # reports, presentation states, ...
        images.append((f, ds))
    if not images:
        raise InputError(f"{path}: no DICOM images found in this folder")

    groups: dict[str, list[tuple[Path, object]]] = {}
    for f, ds in images:
        groups.setdefault(str(getattr(ds, "SeriesInstanceUID", "")), []).append((f, ds))
    if series_uid is not None:
        wanted = [series_uid] if isinstance(series_uid, str) else list(series_uid)
        missing = [u for u in wanted if u not in groups]
        if missing:
            raise InputError(f"{path}: series {', '.join(missing)} not found; it holds {_series_summary(groups)}")
        chosen = [item for u in wanted for item in groups[u]]
    elif len(groups) > 1:
        raise InputError(
            f"{path}: {len(groups)} different series mixed in one folder ({_series_summary(groups)}); "
            "choose one with --series UID (pscgan infer) or series_uid=... (Python)",
        )
    else:
        chosen = images
    for f, ds in chosen:
        if number_of_frames(ds, f) > 1:
            raise InputError(f"{f}: multi-frame DICOM file inside a folder of images; open the file on its own")
    instances = [_instance(f, ds) for f, ds in chosen]
    return assemble(instances, str(path), frame_interval_ms, min_frames)
