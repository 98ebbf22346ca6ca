"""NIfTI (.nii / .nii.gz) readers through SimpleITK: 4D cines (X, Y, Z, T) and 3D volumes (X, Y, Z).

SimpleITK returns LPS geometry (it converts NIfTI's RAS qform/sform). pixdim[4] is taken as the frame
interval in milliseconds (values below 1 are taken as seconds; 0 or exactly 1 mean "not set" and give the
default, DEFAULT_FRAME_INTERVAL_MS).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError
from .study import CineStudy, validated_study

DEFAULT_FRAME_INTERVAL_MS = 40.0


def read_sitk_image(path: Path):
    """SimpleITK image or InputError naming the file (missing, truncated, not an image)."""
    import SimpleITK as sitk

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    if path.name.lower().endswith((".nii", ".nii.gz")):
        check_nifti_complete(path)
    try:
        return sitk.ReadImage(str(path))
    except Exception as err:  # RuntimeError from ITK: truncated gzip, bad header, ...
        detail = " ".join(str(err).split())
        detail = detail.split("Exception thrown in SimpleITK")[0][-160:].strip() or type(err).__name__
        raise InputError(f"{path}: unreadable or truncated image file ({detail})") from None


def check_nifti_complete(path: Path) -> None:
    """ITK silently zero-fills a truncated .nii.gz: check the data really is all there (InputError if not)."""
    import struct
    import zlib

    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise InputError(f"{path}: cannot be read ({err.strerror})") from None
    if raw[:2] == b"\x1f\x8b":
        d = zlib.decompressobj(zlib.MAX_WBITS | 16)
        try:
            data = d.decompress(raw)
        except zlib.error as err:
            raise InputError(f"{path}: unreadable or truncated gzip data ({err})") from None
        if not d.eof:
            raise InputError(f"{path}: truncated file (the gzip stream ends early)")
    else:
        data = raw
    if len(data) < 348:
        raise InputError(f"{path}: truncated file (shorter than a NIfTI header)")
    endian = "<" if struct.unpack("<i", data[:4])[0] in (348, 540) else ">"
    if struct.unpack(endian + "i", data[:4])[0] == 540:  # NIfTI-2
        dims = struct.unpack(endian + "8q", data[16:80])
        bitpix = struct.unpack(endian + "h", data[14:16])[0]
        offset = struct.unpack(endian + "q", data[168:176])[0]
    elif struct.unpack(endian + "i", data[:4])[0] == 348:
        dims = struct.unpack(endian + "8h", data[40:56])
        bitpix = struct.unpack(endian + "h", data[72:74])[0]
        offset = int(struct.unpack(endian + "f", data[108:112])[0])
    else:
        raise InputError(f"{path}: not a NIfTI file (bad header size)")
    n = int(dims[0])
    if not 1 <= n <= 7:
        raise InputError(f"{path}: corrupt NIfTI header (dim[0] = {n})")
    expected = offset + int(np.prod([max(int(v), 1) for v in dims[1 : n + 1]])) * max(int(bitpix), 8) // 8
    if path.name.lower().endswith((".nii", ".nii.gz")) and len(data) < expected:
        raise InputError(f"{path}: truncated file ({len(data)} of {expected} bytes of image data)")


def frame_interval_from_pixdim(value: float) -> float | None:
    """Frame interval in ms from a 4th-axis spacing, or None when it is unset (0 or 1)."""
    value = float(value)
    if not np.isfinite(value) or value <= 0 or value == 1.0:
        return None
    return value * 1000.0 if value < 1.0 else value


def read_nifti_cine(
    path: str | Path,
    *,
    frame_interval_ms: float | None = None,
    min_frames: int = 8,
    time_axis_3d: bool = False,
) -> CineStudy:
    """A 4D NIfTI (X, Y, Z, T) as a CineStudy (Z slices x T frames).

    A 3D file (X, Y, Z) is a volume, not a cine, by the NIfTI standard (the 4th axis is time): it is
    refused unless time_axis_3d=True, which reads it as one slice (X, Y, T).
    """
    path = Path(path)
    image = read_sitk_image(path)
    if image.GetNumberOfComponentsPerPixel() != 1:
        raise InputError(
            f"{path}: a vector image with {image.GetNumberOfComponentsPerPixel()} components per voxel, not a 4D cine "
            "(written from a 4D array without isVector=False?)"
        )
    size = image.GetSize()
    dim = image.GetDimension()
    arr = np.asarray(_array(image, path))
    if dim == 4:
        pixels = arr.transpose(1, 0, 2, 3)  # (T, Z, Y, X) -> (Z, T, Y, X)
        spacing = image.GetSpacing()[:3]
        origin = image.GetOrigin()[:3]
        direction = np.asarray(image.GetDirection(), float).reshape(4, 4)[:3, :3]
        interval = frame_interval_from_pixdim(image.GetSpacing()[3])
    elif dim == 3 and time_axis_3d:
        pixels = arr[None]  # (T, Y, X) -> (1, T, Y, X)
        spacing = (image.GetSpacing()[0], image.GetSpacing()[1], 1.0)
        origin = image.GetOrigin()
        direction = np.asarray(image.GetDirection(), float).reshape(3, 3)
        interval = None
    elif dim == 3:
        raise InputError(
            f"{path}: a 3D volume of size {size}, not a cine; a cine needs 4 dimensions (X, Y, Z, T), "
            "e.g. (X, Y, 1, T) for one slice"
        )
    else:
        raise InputError(f"{path}: a {dim}D image of size {size}; a cine needs 4 dimensions (X, Y, Z, T)")
    if frame_interval_ms is not None:
        interval = frame_interval_ms
    return validated_study(pixels, spacing, origin, direction, interval or DEFAULT_FRAME_INTERVAL_MS, str(path), min_frames)


def _array(image, path: Path) -> np.ndarray:
    import SimpleITK as sitk

    try:
        return sitk.GetArrayFromImage(image)
    except Exception as err:
        raise InputError(f"{path}: pixel data cannot be read ({type(err).__name__})") from None
