"""Fuzzing the readers (hypothesis, bounded): header fields and truncations of NIfTI, NRRD and DICOM inputs.

Whatever the input, read_cine ends in a CineStudy or in ONE InputError line naming the file, never another
exception; messages show numbers plainly (no numpy reprs). Each strategy runs a fixed, small number of examples
with no database, so the suite stays fast and repeatable.
"""
from __future__ import annotations

import gzip
import shutil
import struct
import tempfile
from pathlib import Path

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from test_io_formats import _write_dicom_series  # noqa: E402

from pscgan.errors import InputError  # noqa: E402
from pscgan.io.readers import read_cine  # noqa: E402
from pscgan.io.study import CineStudy  # noqa: E402

FUZZ = settings(max_examples=40, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


OUTCOMES: list[str] = []  # for a look at what the examples reached: pytest -s prints them at the end


def _outcome(path: Path) -> str:
    """'ok' or the InputError line; any other exception fails the test."""
    try:
        study = read_cine(path)
    except InputError as err:
        msg = str(err)
        assert "\n" not in msg and msg.strip(), repr(msg)
        assert "np.float" not in msg and "np.int" not in msg and "array(" not in msg, msg
        OUTCOMES.append(msg.replace(str(path), "FILE"))
        return msg
    assert isinstance(study, CineStudy) and np.isfinite(study.pixels).all()
    OUTCOMES.append("ok")
    return "ok"


CUTS = st.one_of(st.none(), st.none(), st.none(), st.floats(0.0, 0.999))  # a quarter of the files truncated


def _truncate(data: bytes, cut: float | None) -> bytes:
    return data if cut is None else data[: int(len(data) * cut)]


# ------------------------------------------------------------------ NIfTI-1
@st.composite
def nifti_files(draw):
    ndim = draw(st.sampled_from([4, 4, 4, 3, 2, 5, 0, -1, 8]))
    sizes = [draw(st.integers(16, 24)), draw(st.integers(16, 24)), draw(st.integers(1, 3)), draw(st.integers(1, 10))]
    if draw(st.booleans()):
        sizes[draw(st.integers(0, 3))] = draw(st.sampled_from([0, -3, 30000, 32767]))
    datatype, bitpix = draw(st.sampled_from([(16, 32), (64, 64), (4, 16), (2, 8), (512, 16), (16, 16), (9999, 32),
                                             (32, 64), (16, 0)]))
    offset = draw(st.sampled_from([352.0, 352.0, 0.0, 100.0, 1e9, float("nan"), -4.0]))
    pixdim = [draw(st.sampled_from([1.0, 1.5, 0.0, -2.0, float("nan"), float("inf"), 1e30])) for _ in range(5)]
    header = bytearray(352)
    struct.pack_into("<i", header, 0, draw(st.sampled_from([348] * 8 + [540, 0, 12345])))
    struct.pack_into("<8h", header, 40, ndim, *[max(-32768, min(32767, v)) for v in sizes], 1, 1, 1)
    struct.pack_into("<hh", header, 70, datatype, bitpix)
    struct.pack_into("<6f", header, 76, 1.0, *pixdim)
    struct.pack_into("<f", header, 108, offset)
    struct.pack_into("<hh", header, 252, draw(st.sampled_from([0, 1, 2])), draw(st.sampled_from([0, 1, 4])))
    header[344:348] = draw(st.sampled_from([b"n+1\0", b"n+1\0", b"ni1\0", b"xxxx"]))
    n = int(np.prod([max(v, 1) for v in sizes[:max(1, min(ndim, 4))]]))
    dtype = {16: "<f4", 64: "<f8", 4: "<i2", 2: "u1", 512: "<u2", 32: "<f4", 9999: "<f4"}[datatype]
    values = np.random.default_rng(draw(st.integers(0, 3))).uniform(0, 300, min(n, 500_000) * (2 if datatype == 32 else 1))
    values = values.astype(dtype)
    non_finite = draw(st.booleans()) and values.dtype.kind == "f"
    if non_finite:
        values[draw(st.integers(0, len(values) - 1))] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    data = bytes(header) + values.tobytes()
    data = _truncate(data, draw(CUTS))
    return data, draw(st.booleans()), non_finite


@FUZZ
@given(case=nifti_files())
def test_nifti_fuzz(case):
    data, compress, non_finite = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("cine.nii.gz" if compress else "cine.nii")
        path.write_bytes(gzip.compress(data, compresslevel=1) if compress else data)
        msg = _outcome(path)
        assert msg == "ok" or msg.startswith(f"{path}"), msg
        assert not (non_finite and msg == "ok"), "a NaN / Inf voxel was read as a number"


# ------------------------------------------------------------------ NRRD
@st.composite
def nrrd_files(draw):
    sizes = [draw(st.integers(16, 22)), draw(st.integers(16, 22)), draw(st.integers(1, 3)), draw(st.integers(1, 10))]
    dim = draw(st.sampled_from([4, 4, 4, 3, 5, 0]))
    ntype = draw(st.sampled_from(["float", "double", "short", "uchar", "int64", "half", "float"]))
    encoding = draw(st.sampled_from(["raw", "gzip", "bzip2", "ascii", "lzma", "raw"]))
    sizes_text = " ".join(str(v) for v in sizes[:max(dim, 0)]) if draw(st.integers(0, 5)) else \
        draw(st.sampled_from(["0 0 0 0", "-1 20 20 9", "a b c d", "99999 99999 999 999", ""]))
    vec = draw(st.sampled_from(["(1,0,0) (0,1,0) (0,0,8) none", "(1,0,0) (0,1,0) (0,0,0) none",
                                "none (1,0,0) (0,1,0) (0,0,8)", "(nan,0,0) (0,1,0) (0,0,8) none", "(1,0) (0,1) none",
                                "garbage", "(1,0,0) (0,1,0) (0,0,8) (0,0,0)"]))
    lines = ["NRRD0004", f"type: {ntype}", f"dimension: {dim}", f"sizes: {sizes_text}", f"encoding: {encoding}",
             f"endian: {draw(st.sampled_from(['little', 'big']))}"]
    if draw(st.booleans()):
        lines.append(f"space directions: {vec}")
        lines.append(f"space: {draw(st.sampled_from(['left-posterior-superior', 'right-anterior-superior', 'weird']))}")
    if draw(st.booleans()):
        lines.append(f"space origin: {draw(st.sampled_from(['(0,0,0)', '(nan,0,0)', '(1,2)', 'none']))}")
    if draw(st.booleans()):
        lines.append(f"kinds: {draw(st.sampled_from(['domain domain domain time', 'list domain domain domain', 'x']))}")
    if draw(st.booleans()):
        lines.append(f"axis 3 index values:={draw(st.sampled_from(['0 40 80', '0 0 0', 'a b', '']))}")
    if draw(st.integers(0, 4)) == 0:
        lines.append(draw(st.sampled_from(["no separator line", "data file: missing.raw", "data file: LIST"])))
    n = int(np.prod(sizes[:4]))
    np_type = {"float": "f4", "double": "f8", "short": "i2", "uchar": "u1", "int64": "i8", "half": "f4"}[ntype]
    values = np.random.default_rng(draw(st.integers(0, 3))).uniform(0, 200, n).astype(np_type)
    non_finite = draw(st.booleans()) and values.dtype.kind == "f"
    if non_finite:
        values[draw(st.integers(0, n - 1))] = draw(st.sampled_from([np.nan, np.inf]))
    if encoding == "ascii":
        payload = " ".join(str(v) for v in values.tolist()).encode()
    else:
        payload = values.tobytes()
        if encoding == "gzip":
            payload = gzip.compress(payload, compresslevel=1)
        elif encoding == "bzip2":
            import bz2

            payload = bz2.compress(payload, compresslevel=1)
    data = ("\n".join(lines) + "\n\n").encode() + payload
    return _truncate(data, draw(CUTS)), non_finite


@FUZZ
@given(case=nrrd_files())
def test_nrrd_fuzz(case):
    data, non_finite = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cine.nrrd"
        path.write_bytes(data)
        msg = _outcome(path)
        assert msg == "ok" or msg.startswith(tmp), msg  # the file, or its detached data file
        assert not (non_finite and msg == "ok"), "a NaN / Inf voxel was read as a number"


# ------------------------------------------------------------------ DICOM
@pytest.fixture(scope="module")
def dicom_series(tmp_path_factory) -> Path:
    rng = np.random.default_rng(3)
    study = CineStudy(pixels=rng.integers(0, 400, (2, 8, 16, 18)).astype(np.float32), spacing=(1.4, 1.5, 8.0))
    folder = tmp_path_factory.mktemp("dicom") / "series"
    _write_dicom_series(study, folder)
    return folder


FIELDS = {
    "Rows": st.sampled_from([0, 1, 15, 17, 60000, 65535]),
    "Columns": st.sampled_from([0, 19, 60000]),
    "NumberOfFrames": st.sampled_from(["2", "0", "-1", "abc", "100000"]),
    "PixelSpacing": st.sampled_from([["0", "1"], ["nan", "1"], ["1"], ["-1", "-1"], ["1e308", "1e308"]]),
    "ImagePositionPatient": st.sampled_from([["0", "0"], ["nan", "0", "0"], ["1e308", "0", "0"], ["0", "0", "999"]]),
    "ImageOrientationPatient": st.sampled_from([["1", "0", "0", "1", "0", "0"], ["0"] * 6, ["1", "0", "0"]]),
    "RescaleSlope": st.sampled_from(["0", "nan", "inf", "1e40", "-1"]),
    "RescaleIntercept": st.sampled_from(["nan", "1e40"]),
    "BitsAllocated": st.sampled_from([0, 1, 8, 32, 64]),
    "SamplesPerPixel": st.sampled_from([0, 3]),
    "TriggerTime": st.sampled_from(["nan", "-5", "1e30"]),
    "SeriesInstanceUID": st.sampled_from(["1.2.3.4", ""]),
    "PixelRepresentation": st.sampled_from([0, 1, 7]),
    "InstanceNumber": st.sampled_from(["x", "-1"]),
}


@FUZZ
@given(victim=st.integers(0, 15), changes=st.dictionaries(st.sampled_from(sorted(FIELDS)), st.just(None), max_size=3),
       data=st.data(), cut=CUTS, delete=st.booleans())
def test_dicom_fuzz(dicom_series, victim, changes, data, cut, delete):
    import warnings

    import pydicom

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "series"
        shutil.copytree(dicom_series, folder)
        path = sorted(folder.glob("*.dcm"))[victim]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(path)
            for key in changes:
                value = data.draw(FIELDS[key], label=key)
                try:
                    setattr(ds, key, value)
                except Exception:  # pydicom refuses to even store it: nothing to test
                    continue
            if delete:
                for key in list(changes)[:1]:
                    if key in ds:
                        delattr(ds, key)
            try:
                ds.save_as(path)
            except Exception:
                return
        path.write_bytes(_truncate(path.read_bytes(), cut))
        msg = _outcome(folder)
        assert msg == "ok" or str(folder) in msg, msg
