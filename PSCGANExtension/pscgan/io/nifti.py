"""NIfTI (.nii / .nii.gz) readers through SimpleITK: 4D cines (X, Y, Z, T) and 3D volumes (X, Y, Z).

Before SimpleITK reads a file, its header and raw data are checked here: the size against the limit
(io/limits.py), the data complete, and no NaN / Inf voxel (SimpleITK's reader turns them into 0 silently).
SimpleITK returns LPS geometry (it converts NIfTI's RAS qform/sform). pixdim[4] is taken as the frame
interval in milliseconds (values below 1 are taken as seconds; 0 or exactly 1 mean "not set" and give the
default, DEFAULT_FRAME_INTERVAL_MS).
"""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError, itk_detail
from .limits import check_voxels
from .study import CineStudy, validated_study

DEFAULT_FRAME_INTERVAL_MS = 40.0


def read_sitk_image(path: Path):
    """SimpleITK image or InputError naming the file (missing, truncated, too large, not an image, NaN in a NIfTI)."""
    import SimpleITK as sitk

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    if path.name.lower().endswith((".nii", ".nii.gz")):
        check_nifti_file(path)
    try:
        reader = sitk.ImageFileReader()
        reader.SetFileName(str(path))
        reader.ReadImageInformation()  # header only: the size is checked before the pixels are allocated
        check_voxels(int(np.prod(reader.GetSize(), dtype=np.int64)) * reader.GetNumberOfComponents(), path)
        return reader.Execute()
    except InputError:
        raise
    except MemoryError:
        raise InputError(f"{path}: not enough memory to read this image") from None
    except Exception as err:  # RuntimeError from ITK: truncated gzip, bad header, ...
        raise InputError(f"{path}: unreadable or truncated image file ({itk_detail(err)})") from None


@dataclass
class NiftiHeader:
    dims: tuple[int, ...]  # dim[1..dim[0]]: X, Y, Z, T, ...
    datatype: int
    bitpix: int
    offset: int  # vox_offset: where the pixel data starts
    endian: str  # "<" or ">"

    @property
    def voxels(self) -> int:
        return int(np.prod([max(v, 1) for v in self.dims], dtype=np.int64))

    @property
    def data_bytes(self) -> int:
        return self.voxels * max(self.bitpix, 8) // 8


# NIfTI datatype codes whose values can be NaN or infinite -> numpy type of one value (complex: of each part)
_FLOAT_TYPES = {16: "f4", 64: "f8", 32: "f4", 1792: "f8"}
_GZIP_MAGIC = b"\x1f\x8b"
_HEADER_BYTES = 544  # NIfTI-2 header (540) + extension flag


def _parse_header(path: Path, data: bytes) -> NiftiHeader:
    if len(data) < 348:
        raise InputError(f"{path}: truncated file (shorter than a NIfTI header)")
    endian = "<" if struct.unpack("<i", data[:4])[0] in (348, 540) else ">"
    size = struct.unpack(endian + "i", data[:4])[0]
    if size == 540 and len(data) >= 540:  # NIfTI-2
        dims = struct.unpack(endian + "8q", data[16:80])
        datatype, bitpix = struct.unpack(endian + "hh", data[12:16])
        offset = struct.unpack(endian + "q", data[168:176])[0]
    elif size == 348:
        dims = struct.unpack(endian + "8h", data[40:56])
        datatype, bitpix = struct.unpack(endian + "hh", data[70:74])
        offset = struct.unpack(endian + "f", data[108:112])[0]
        if not np.isfinite(offset):
            raise InputError(f"{path}: corrupt NIfTI header (vox_offset = {offset})")
        offset = int(offset)
    else:
        raise InputError(f"{path}: not a NIfTI file (bad header size)")
    n = int(dims[0])
    if not 1 <= n <= 7:
        raise InputError(f"{path}: corrupt NIfTI header (dim[0] = {n})")
    sizes = tuple(int(v) for v in dims[1 : n + 1])
    if min(sizes) < 0 or offset < 0 or bitpix < 0:
        raise InputError(f"{path}: corrupt NIfTI header (dimensions {list(sizes)}, bitpix {bitpix}, vox_offset {offset})")
    if offset < (352 if size == 348 else 544):  # SimpleITK would read the header bytes as pixels
        raise InputError(f"{path}: corrupt NIfTI header (vox_offset {offset} lies inside the header)")
    return NiftiHeader(dims=sizes, datatype=int(datatype), bitpix=int(bitpix), offset=offset, endian=endian)


def read_nifti_header(path: Path) -> NiftiHeader:
    """The NIfTI-1/-2 header of a .nii or .nii.gz (reads and decompresses only the header's bytes)."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            head = f.read(2)
            f.seek(0)
            if head == _GZIP_MAGIC:
                d = zlib.decompressobj(zlib.MAX_WBITS | 16)
                data = b""
                while len(data) < _HEADER_BYTES:
                    chunk = f.read(1 << 16)
                    if not chunk:
                        break
                    data += d.decompress(chunk, _HEADER_BYTES - len(data))
            else:
                data = f.read(_HEADER_BYTES)
    except zlib.error as err:
        raise InputError(f"{path}: unreadable or truncated gzip data ({err})") from None
    except OSError as err:
        raise InputError(f"{path}: cannot be read ({err.strerror})") from None
    return _parse_header(path, data)


def _read_data(path: Path, header: NiftiHeader) -> bytes:
    """The file's first offset + data_bytes bytes (decompressed), or InputError if the file ends early."""
    expected = header.offset + header.data_bytes
    try:
        raw = path.read_bytes()
        if raw[:2] == _GZIP_MAGIC:
            d = zlib.decompressobj(zlib.MAX_WBITS | 16)
            data = d.decompress(raw, expected)  # never more than the header announces (a "zip bomb" stops here)
        else:
            data = raw[:expected]
    except zlib.error as err:
        raise InputError(f"{path}: unreadable or truncated gzip data ({err})") from None
    except OSError as err:
        raise InputError(f"{path}: cannot be read ({err.strerror})") from None
    if len(data) < expected:
        raise InputError(f"{path}: truncated file ({len(data)} of {expected} bytes of image data)")
    return data


def _check_finite(path: Path, header: NiftiHeader, data: bytes) -> None:
    """NaN / Inf in float pixels, found in the raw bytes (SimpleITK's reader turns them into 0 silently)."""
    code = _FLOAT_TYPES.get(header.datatype)
    if code is None:
        return
    values = np.frombuffer(data, dtype=np.dtype(header.endian + code), offset=header.offset,
                           count=header.data_bytes // np.dtype(code).itemsize)
    bad = ~np.isfinite(values)
    if not bad.any():
        return
    first = int(np.argmax(bad))
    if header.datatype in (32, 1792):  # complex: two values per voxel
        first //= 2
    sizes = [max(v, 1) for v in header.dims]
    index = np.unravel_index(first, sizes, order="F")  # NIfTI stores X fastest
    if len(sizes) == 4:
        where = f"slice {index[2] + 1}, frame {index[3] + 1}"
    elif len(sizes) == 3:
        where = f"slice {index[2] + 1}, row {index[1] + 1}, column {index[0] + 1}"
    else:
        where = "voxel (" + ", ".join(str(int(i) + 1) for i in index) + ") counted from 1"
    raise InputError(f"{path}: {int(bad.sum())} NaN or infinite voxel values (first in {where})")


def check_nifti_file(path: Path) -> NiftiHeader:
    """Size within the limit (from the header), data complete, no NaN / Inf: InputError naming the file if not."""
    path = Path(path)
    header = read_nifti_header(path)
    check_voxels(header.voxels, path)
    _check_finite(path, header, _read_data(path, header))
    return header


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
            "(written from a 4D array without isVector=False?)",
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
    elif dim == 3 and len(read_nifti_header(path).dims) == 4:  # (X, Y, Z, 1): SimpleITK drops the time axis
        raise InputError(f"{path}: only 1 frame (size {size + (1,)}); a cine needs at least {min_frames} frames")
    elif dim == 3:
        raise InputError(
            f"{path}: a 3D volume of size {size}, not a cine; a cine needs 4 dimensions (X, Y, Z, T), "
            "e.g. (X, Y, 1, T) for one slice",
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
