"""NIfTI (.nii / .nii.gz) readers: 4D cines (X, Y, Z, T) and 3D volumes (X, Y, Z); `read_image_array` reads
any image file SimpleITK reads (volume.py uses it for NRRD and MetaImage too).

A NIfTI's header and raw data are read and checked here first: the size against the limit (io/limits.py),
the data complete, and no NaN / Inf voxel (SimpleITK's reader turns them into 0 silently). Those checked
bytes are the pixels (scaled by scl_slope / scl_inter as ITK does), so the file is decompressed once;
SimpleITK reads the geometry, in LPS (it converts NIfTI's RAS qform/sform). pixdim[4] is taken as the frame
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


@dataclass
class ImageArray:
    """The pixels of an image file, in SimpleITK's array order (slowest axis first: [T,] Z, Y, X [, components]),
    and its geometry as SimpleITK reports it (LPS; `size` is GetSize(): X first; `direction` row-major)."""

    pixels: np.ndarray
    size: tuple[int, ...]
    spacing: tuple[float, ...]
    origin: tuple[float, ...]
    direction: tuple[float, ...]
    components: int = 1

    @property
    def dimension(self) -> int:
        return len(self.size)


def read_image_array(path: Path) -> ImageArray:
    """An image file's pixels and geometry, or InputError naming the file (missing, truncated, too large, not an
    image, NaN in a NIfTI). A NIfTI's pixels are those `read_checked_nifti` already read and checked (decompressed
    once); SimpleITK reads its geometry, and the pixels of every other format."""
    import SimpleITK as sitk

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    checked = read_checked_nifti(path) if path.name.lower().endswith((".nii", ".nii.gz")) else None
    try:
        reader = sitk.ImageFileReader()
        reader.SetFileName(str(path))
        reader.ReadImageInformation()  # header only: the size is checked before the pixels are allocated
        check_voxels(int(np.prod(reader.GetSize(), dtype=np.int64)) * reader.GetNumberOfComponents(), path)
        geometry = dict(size=tuple(reader.GetSize()), spacing=tuple(reader.GetSpacing()), origin=tuple(reader.GetOrigin()),
                        direction=tuple(reader.GetDirection()), components=int(reader.GetNumberOfComponents()))
        pixels = _nifti_pixels(*checked, geometry["size"]) if checked is not None and geometry["components"] == 1 else None
        if pixels is None:
            pixels = _array(reader.Execute(), path)
    except InputError:
        raise
    except MemoryError:
        raise InputError(f"{path}: not enough memory to read this image") from None
    except Exception as err:  # RuntimeError from ITK: truncated gzip, bad header, ...
        raise InputError(f"{path}: unreadable or truncated image file ({itk_detail(err)})") from None
    return ImageArray(pixels=pixels, **geometry)


@dataclass
class NiftiHeader:
    dims: tuple[int, ...]  # dim[1..dim[0]]: X, Y, Z, T, ...
    datatype: int
    bitpix: int
    offset: int  # vox_offset: where the pixel data starts
    endian: str  # "<" or ">"
    scl_slope: float = 0.0  # value = stored * scl_slope + scl_inter (see _nifti_pixels for how ITK reads them)
    scl_inter: float = 0.0

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
        slope, inter = struct.unpack(endian + "2d", data[176:192])
    elif size == 348:
        dims = struct.unpack(endian + "8h", data[40:56])
        datatype, bitpix = struct.unpack(endian + "hh", data[70:74])
        offset = struct.unpack(endian + "f", data[108:112])[0]
        slope, inter = struct.unpack(endian + "2f", data[112:120])
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
    return NiftiHeader(dims=sizes, datatype=int(datatype), bitpix=int(bitpix), offset=offset, endian=endian,
                       scl_slope=float(slope), scl_inter=float(inter))


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


def read_checked_nifti(path: Path) -> tuple[NiftiHeader, bytes]:
    """The header and the file's bytes up to the end of its pixel data (decompressed), after the checks: size
    within the limit (from the header), data complete, no NaN / Inf; InputError naming the file if not."""
    path = Path(path)
    header = read_nifti_header(path)
    check_voxels(header.voxels, path)
    data = _read_data(path, header)
    _check_finite(path, header, data)
    return header, data


# NIfTI datatype codes of one scalar per voxel -> numpy type (without byte order)
_SCALAR_TYPES = {2: "u1", 4: "i2", 8: "i4", 16: "f4", 64: "f8", 256: "i1", 512: "u2", 768: "u4", 1024: "i8", 1280: "u8"}


def _nifti_pixels(header: NiftiHeader, data: bytes, size: tuple[int, ...]) -> np.ndarray | None:
    """The voxels in `data` as SimpleITK would give them for an image of `size` (X first): the array (slowest
    axis first), scaled by scl_slope / scl_inter as ITK does (unless the slope is 1, or 0, with no intercept:
    float32, float64 for float64 data); None for what SimpleITK should read itself (vectors, complex, RGB, odd headers)."""
    code = _SCALAR_TYPES.get(header.datatype)
    if code is None or np.dtype(code).itemsize * 8 != header.bitpix or len(header.dims) > 4:
        return None
    count = header.data_bytes // np.dtype(code).itemsize
    if count != int(np.prod(size, dtype=np.int64)):
        return None
    values = np.frombuffer(data, dtype=np.dtype(header.endian + code), offset=header.offset, count=count)
    values = values.astype(np.dtype(code)).reshape(tuple(reversed(size)))  # a writeable copy, native byte order
    slope, inter = header.scl_slope, header.scl_inter
    if not (np.isfinite(slope) and np.isfinite(inter)):
        return None
    slope = slope or 1.0  # ITK reads a slope of 0 as 1 (and still adds the intercept), unlike the NIfTI standard
    if slope == 1 and inter == 0:
        return values
    out = np.float64 if values.dtype == np.float64 else np.float32  # ITK: double stays double, the rest float
    return (values.astype(np.float64) * slope + inter).astype(out)  # computed in double, as ITK does


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
    image = read_image_array(path)
    if image.components != 1:
        raise InputError(
            f"{path}: a vector image with {image.components} components per voxel, not a 4D cine "
            "(written from a 4D array without isVector=False?)",
        )
    size = image.size
    dim = image.dimension
    arr = image.pixels
    if dim == 4:
        pixels = arr.transpose(1, 0, 2, 3)  # (T, Z, Y, X) -> (Z, T, Y, X)
        spacing = image.spacing[:3]
        origin = image.origin[:3]
        direction = np.asarray(image.direction, float).reshape(4, 4)[:3, :3]
        interval = frame_interval_from_pixdim(image.spacing[3])
    elif dim == 3 and time_axis_3d:
        pixels = arr[None]  # (T, Y, X) -> (1, T, Y, X)
        spacing = (image.spacing[0], image.spacing[1], 1.0)
        origin = image.origin
        direction = np.asarray(image.direction, float).reshape(3, 3)
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
