"""NRRD cine reader: Slicer's sequence files (.seq.nrrd) and plain 4D NRRD, with a small header parser + numpy.

Slicer writes a volume sequence as one 4D NRRD in which three axes are spatial ("space directions" given)
and one axis is the sequence ("space directions" `none`, kind `list`, custom fields
`axis N index type:=numeric` and `axis N index values:=0 40 80 ...`; older Slicer versions put it first,
newer ones last). A plain 4D NRRD has the time axis last (kind `time`, or no space directions at all).
Either way the non-spatial axis is time. Geometry is converted to LPS (Slicer writes `space: left-posterior-
superior`; `right-anterior-superior` is flipped on its first two axes).
"""
from __future__ import annotations

import bz2
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from .limits import check_voxels
from .nifti import DEFAULT_FRAME_INTERVAL_MS
from .study import CineStudy, validated_study

_TYPES = {
    "i1": ("signed char", "int8", "int8_t"),
    "u1": ("uchar", "unsigned char", "uint8", "uint8_t"),
    "i2": ("short", "short int", "signed short", "signed short int", "int16", "int16_t"),
    "u2": ("ushort", "unsigned short", "unsigned short int", "uint16", "uint16_t"),
    "i4": ("int", "signed int", "int32", "int32_t"),
    "u4": ("uint", "unsigned int", "uint32", "uint32_t"),
    "i8": ("longlong", "long long", "long long int", "signed long long", "signed long long int", "int64", "int64_t"),
    "u8": ("ulonglong", "unsigned long long", "unsigned long long int", "uint64", "uint64_t"),
    "f4": ("float",),
    "f8": ("double",),
}
_DTYPE_OF = {name: code for code, names in _TYPES.items() for name in names}
_TO_LPS = {
    "left-posterior-superior": np.array([1.0, 1.0, 1.0]),
    "lps": np.array([1.0, 1.0, 1.0]),
    "right-anterior-superior": np.array([-1.0, -1.0, 1.0]),
    "ras": np.array([-1.0, -1.0, 1.0]),
    "left-anterior-superior": np.array([1.0, -1.0, 1.0]),
    "las": np.array([1.0, -1.0, 1.0]),
}
_TIME_UNITS_MS = {"ms": 1.0, "msec": 1.0, "millisecond": 1.0, "milliseconds": 1.0, "s": 1000.0, "sec": 1000.0, "second": 1000.0, "seconds": 1000.0}


@dataclass
class NrrdHeader:
    fields: dict[str, str]
    keyvalues: dict[str, str] = field(default_factory=dict)
    data_offset: int = 0


def _vector(text: str, path: Path) -> np.ndarray | None:
    text = text.strip()
    if text.lower() == "none":
        return None
    try:
        return np.array([float(v) for v in text.strip("()").split(",")], float)
    except ValueError:
        raise InputError(f"{path}: unreadable NRRD vector '{text}'") from None


def _split_vectors(text: str) -> list[str]:
    return re.findall(r"\([^)]*\)|none", text, flags=re.IGNORECASE)


def _quoted_list(text: str) -> list[str]:
    items = re.findall(r'"([^"]*)"', text)
    return items if items else text.split()


def read_header(path: Path, raw: bytes) -> NrrdHeader:
    if not raw.startswith(b"NRRD000"):
        raise InputError(f"{path}: not a NRRD file (no NRRD magic line)")
    end = raw.find(b"\n\n")
    if end < 0:
        end = raw.find(b"\r\n\r\n")
        if end < 0:
            raise InputError(f"{path}: NRRD header has no end (truncated file?)")
        offset = end + 4
    else:
        offset = end + 2
    header = NrrdHeader(fields={}, data_offset=offset)
    for line in raw[:end].decode("latin-1").splitlines()[1:]:
        if not line.strip() or line.startswith("#"):
            continue
        if ":=" in line:
            key, value = line.split(":=", 1)
            header.keyvalues[key.strip()] = value.strip()
        elif ": " in line:
            key, value = line.split(": ", 1)
            header.fields[key.strip().lower()] = value.strip()
        else:
            raise InputError(f"{path}: malformed NRRD header line '{line[:60]}'")
    return header


def _data_bytes(path: Path, raw: bytes, header: NrrdHeader, max_bytes: int) -> bytes:
    """The (decompressed) data; never more than max_bytes are decompressed (a "zip bomb" stops there)."""
    f = header.fields
    detached = f.get("data file") or f.get("datafile")
    if detached:
        if detached.upper().startswith("LIST") or "%" in detached:
            raise InputError(f"{path}: NRRD with a list of detached data files is not supported")
        data_path = (path.parent / detached) if not Path(detached).is_absolute() else Path(detached)
        try:
            payload = data_path.read_bytes()
        except OSError as err:
            raise InputError(f"{data_path}: detached NRRD data cannot be read ({err.strerror})") from None
    else:
        payload = raw[header.data_offset:]
    encoding = f.get("encoding", "raw").lower()
    try:
        if encoding in ("gzip", "gz"):
            return zlib.decompressobj(zlib.MAX_WBITS | 32).decompress(payload, max_bytes)  # gzip or zlib stream
        if encoding in ("bzip2", "bz2"):
            return bz2.BZ2Decompressor().decompress(payload, max_bytes)
        if encoding in ("raw", "ascii", "text", "txt"):
            return payload
    except (OSError, EOFError, zlib.error, ValueError) as err:
        raise InputError(f"{path}: compressed NRRD data is truncated or corrupt ({type(err).__name__})") from None
    raise InputError(f"{path}: NRRD encoding '{encoding}' is not supported")


def read_nrrd_array(path: Path) -> tuple[np.ndarray, NrrdHeader]:
    """The data array in numpy (C) order, i.e. shape = sizes reversed, and the parsed header."""
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise InputError(f"{path}: cannot be read ({err.strerror})") from None
    header = read_header(path, raw)
    f = header.fields
    try:
        sizes = [int(v) for v in f["sizes"].split()]
        dim = int(f["dimension"])
        code = _DTYPE_OF[f["type"].lower()]
    except KeyError as err:
        raise InputError(f"{path}: NRRD header lacks or has an unknown {err}") from None
    except ValueError:
        raise InputError(f"{path}: NRRD sizes/dimension are not integers") from None
    if dim < 1:
        raise InputError(f"{path}: NRRD dimension must be at least 1, got {dim}")
    if len(sizes) != dim:
        raise InputError(f"{path}: NRRD 'sizes' has {len(sizes)} values for dimension {dim}")
    if min(sizes, default=0) < 1:
        raise InputError(f"{path}: NRRD sizes must be positive, got {' '.join(map(str, sizes))}")
    count = check_voxels(int(np.prod(sizes, dtype=object)), path)
    ascii_text = f.get("encoding", "raw").lower() in ("ascii", "text", "txt")
    data = _data_bytes(path, raw, header, 0 if ascii_text else count * np.dtype(code).itemsize)
    endian = "<" if f.get("endian", "little").lower() == "little" else ">"
    if ascii_text:
        try:
            arr = np.array(data.decode("latin-1").split(), dtype=np.dtype(code))
        except ValueError:
            raise InputError(f"{path}: ASCII NRRD data holds non-numbers") from None
    else:
        dtype = np.dtype(endian + code)
        if len(data) < count * dtype.itemsize:
            raise InputError(f"{path}: NRRD data is truncated ({len(data)} bytes, {count * dtype.itemsize} expected)")
        arr = np.frombuffer(data, dtype=dtype, count=count, offset=len(data) - count * dtype.itemsize)
    if arr.size != count:
        raise InputError(f"{path}: NRRD data holds {arr.size} values, {count} expected")
    return arr.reshape(sizes[::-1]), header


def _time_axis(header: NrrdHeader, directions: list[np.ndarray | None], dim: int) -> int:
    kinds = _quoted_list(header.fields.get("kinds", "")) if "kinds" in header.fields else []
    if directions:
        nonspatial = [a for a, d in enumerate(directions) if d is None]
        if len(nonspatial) == 1:
            return nonspatial[0]
    for a, kind in enumerate(kinds):
        if kind.lower() in ("time", "list"):
            return a
    return dim - 1


def _frame_interval(header: NrrdHeader, axis: int) -> float | None:
    kv = header.keyvalues
    units = _quoted_list(header.fields.get("units", "")) if "units" in header.fields else []
    unit = (kv.get(f"axis {axis} index unit") or (units[axis] if axis < len(units) else "") or "ms").strip().lower()
    scale = _TIME_UNITS_MS.get(unit, 1.0)
    values = kv.get(f"axis {axis} index values")
    if values and kv.get(f"axis {axis} index type", "numeric").lower() == "numeric":
        try:
            times = np.array([float(v) for v in values.split()], float)
        except ValueError:
            times = np.array([])
        steps = np.diff(times)
        if steps.size and (steps > 0).all():
            return float(np.median(steps)) * scale
    spacings = header.fields.get("spacings", "").split()
    if axis < len(spacings):
        try:
            value = float(spacings[axis])
        except ValueError:
            value = float("nan")
        if np.isfinite(value) and value > 0:
            return value * scale
    return None


def read_nrrd_cine(path: str | Path, *, frame_interval_ms: float | None = None, min_frames: int = 8) -> CineStudy:
    """A 4D NRRD / Slicer .seq.nrrd as a CineStudy."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    arr, header = read_nrrd_array(path)
    f = header.fields
    dim = arr.ndim
    if dim == 3:
        raise InputError(f"{path}: a 3D volume of size {tuple(arr.shape[::-1])}, not a cine; a cine needs a 4D NRRD or a .seq.nrrd sequence")
    if dim != 4:
        raise InputError(f"{path}: a {dim}D NRRD; a cine needs 4 dimensions (3 spatial + time)")
    directions: list[np.ndarray | None] = []
    if "space directions" in f:
        directions = [_vector(v, path) for v in _split_vectors(f["space directions"])]
        if len(directions) != dim:
            raise InputError(f"{path}: NRRD 'space directions' has {len(directions)} entries for dimension {dim}")
    t_axis = _time_axis(header, directions, dim)
    spatial = [a for a in range(dim) if a != t_axis]  # NRRD axes i, j, k (fastest first)
    space = f.get("space", "left-posterior-superior").lower()
    if space not in _TO_LPS:
        raise InputError(f"{path}: NRRD space '{space}' is not supported (use left-posterior-superior or right-anterior-superior)")
    flip = _TO_LPS[space]
    if directions:
        vecs = [directions[a] for a in spatial]
        if any(v is None or v.shape != (3,) for v in vecs):
            raise InputError(f"{path}: NRRD needs exactly 3 spatial axes with 3D space directions")
        spacing = [float(np.linalg.norm(v)) for v in vecs]
        if min(spacing) <= 0:
            raise InputError(f"{path}: NRRD space direction of zero length")
        direction = np.stack([flip * v / s for v, s in zip(vecs, spacing)], axis=1)
    else:
        sp = f.get("spacings", "").split()
        spacing = [float(sp[a]) if a < len(sp) and sp[a].lower() != "nan" else 1.0 for a in spatial]
        direction = np.eye(3)
    origin = _vector(f["space origin"], path) if "space origin" in f else np.zeros(3)
    if origin is None or origin.shape != (3,):
        raise InputError(f"{path}: NRRD space origin must have 3 values")
    origin = flip * origin
    # numpy axis of NRRD axis a is dim-1-a; want (k, t, j, i)
    pixels = arr.transpose([dim - 1 - spatial[2], dim - 1 - t_axis, dim - 1 - spatial[1], dim - 1 - spatial[0]])
    interval = frame_interval_ms if frame_interval_ms is not None else _frame_interval(header, t_axis)
    return validated_study(pixels, spacing, origin, direction, interval or DEFAULT_FRAME_INTERVAL_MS, str(path), min_frames)
