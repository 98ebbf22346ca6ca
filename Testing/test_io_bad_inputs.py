"""Every unusable input gives one InputError naming the input and the problem (never a deep traceback)."""
from __future__ import annotations

import shutil

import numpy as np
import pytest
from test_io_formats import _sitk_4d, _write_dicom_series, _write_plain_nrrd

from pscgan.errors import InputError
from pscgan.io.readers import read_cine, read_labels
from pscgan.io.study import CineStudy
from pscgan.preprocess import prepare

S, T, R, C = 2, 9, 20, 24


@pytest.fixture(scope="module")
def study() -> CineStudy:
    rng = np.random.default_rng(5)
    return CineStudy(
        pixels=rng.integers(0, 500, size=(S, T, R, C)).astype(np.float32),
        spacing=(1.5, 1.5, 10.0),
        origin=(0.0, 0.0, 0.0),
        direction=np.eye(3),
        frame_interval_ms=40.0,
    )


def _one_line(err: pytest.ExceptionInfo) -> str:
    msg = str(err.value)
    assert "\n" not in msg
    return msg


def test_empty_folder(tmp_path):
    with pytest.raises(InputError) as err:
        read_cine(tmp_path)
    assert str(tmp_path) in _one_line(err) and "no DICOM images" in str(err.value)


def test_missing_path(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_cine(tmp_path / "nothing.nii.gz")


@pytest.mark.filterwarnings("ignore::UserWarning")  # pydicom: Sunnybrook's non-conforming UIDs
def test_mixed_series(sunnybrook_dir, tmp_path):
    import pydicom

    src = sunnybrook_dir / "dicoms" / "SCD0000101"
    shutil.copy(src / "1.dcm", tmp_path / "1.dcm")
    ds = pydicom.dcmread(src / "2.dcm")
    ds.SeriesInstanceUID = "1.2.826.0.1.3680043.9.9999.1"
    ds.save_as(tmp_path / "2.dcm")
    with pytest.raises(InputError) as err:
        read_cine(tmp_path)
    msg = _one_line(err)
    assert "2 different series" in msg and "1.2.826.0.1.3680043.9.9999.1" in msg and str(tmp_path) in msg
    # choosing one series gets past the mix (and then fails on its single frame: not a cine)
    with pytest.raises(InputError, match="only 1 frame; a cine needs at least 8"):
        read_cine(tmp_path, series_uid="1.2.826.0.1.3680043.9.9999.1")


def test_3d_nifti_is_not_a_cine(tmp_path):
    import SimpleITK as sitk

    path = tmp_path / "volume.nii.gz"
    sitk.WriteImage(sitk.GetImageFromArray(np.random.default_rng(0).random((12, R, C)).astype(np.float32)), str(path))
    with pytest.raises(InputError) as err:
        read_cine(path)
    assert str(path) in _one_line(err) and "3D volume" in str(err.value)
    # explicitly asked for: (X, Y, T) read as one slice
    assert read_cine(path, time_axis_3d=True).pixels.shape == (1, 12, R, C)


def test_3d_nrrd_is_not_a_cine(tmp_path):
    path = tmp_path / "volume.nrrd"
    header = f"NRRD0004\ntype: float\ndimension: 3\nsizes: {C} {R} 4\nencoding: raw\nendian: little\n\n"
    path.write_bytes(header.encode() + np.ones((4, R, C), "<f4").tobytes())
    with pytest.raises(InputError, match="3D volume"):
        read_cine(path)


def test_five_frames(study, tmp_path):
    import SimpleITK as sitk

    short = CineStudy(pixels=study.pixels[:, :5].copy(), spacing=study.spacing, frame_interval_ms=40.0)
    path = tmp_path / "short.nii.gz"
    sitk.WriteImage(_sitk_4d(short), str(path))
    with pytest.raises(InputError) as err:
        read_cine(path)
    assert _one_line(err) == f"{path}: only 5 frames; a cine needs at least 8"
    with pytest.raises(InputError, match="only 5 frames"):
        read_cine(study.pixels[:, :5])


def test_nan_volume(study):
    pixels = study.pixels.copy()
    pixels[1, 3, 4, 5] = np.nan
    with pytest.raises(InputError) as err:
        read_cine(pixels)
    assert "NaN" in _one_line(err) and "slice 2, frame 4" in str(err.value)


def test_constant_volume(study, tmp_path):
    pixels = study.pixels.copy()
    pixels[1] = 7.0
    with pytest.raises(InputError, match="slice 2 is constant"):
        read_cine(pixels)
    path = tmp_path / "const.nrrd"
    _write_plain_nrrd(CineStudy(pixels=np.zeros_like(study.pixels), spacing=study.spacing), path)
    with pytest.raises(InputError) as err:
        read_cine(path)
    assert str(path) in _one_line(err) and "constant" in str(err.value)


def test_blank_frame(study):
    pixels = study.pixels.copy()
    pixels[0, 6] = 0.0
    with pytest.raises(InputError, match="frame 7 of slice 1 is blank"):
        read_cine(pixels)


def test_uneven_slice_spacing(study, tmp_path):
    import pydicom

    three = CineStudy(pixels=np.concatenate([study.pixels, study.pixels[:1]]), spacing=study.spacing)
    _write_dicom_series(three, tmp_path)
    for f in tmp_path.glob("*.dcm"):  # move the last slice 4 mm further
        ds = pydicom.dcmread(f)
        if ds.ImagePositionPatient[2] > 15:
            ds.ImagePositionPatient = [0, 0, 24.0]
            ds.save_as(f)
    with pytest.raises(InputError) as err:
        read_cine(tmp_path)
    assert "not evenly spaced" in _one_line(err) and "inconsistent slice geometry" in str(err.value)


def test_orientation_differs_between_files(study, tmp_path):
    import pydicom

    _write_dicom_series(study, tmp_path)
    victim = sorted(tmp_path.glob("*.dcm"))[-1]
    ds = pydicom.dcmread(victim)
    ds.ImageOrientationPatient = [1, 0, 0, 0, 0.8, 0.6]
    ds.save_as(victim)
    with pytest.raises(InputError) as err:
        read_cine(tmp_path)
    assert victim.name in _one_line(err) and "ImageOrientationPatient" in str(err.value)


def test_in_plane_shift_at_same_position(study, tmp_path):
    import pydicom

    _write_dicom_series(study, tmp_path)
    victim = sorted(tmp_path.glob("*.dcm"))[3]
    ds = pydicom.dcmread(victim)
    ds.ImagePositionPatient = [5.0, 0.0, float(ds.ImagePositionPatient[2])]
    ds.save_as(victim)
    with pytest.raises(InputError, match="shifted in-plane"):
        read_cine(tmp_path)


def test_slices_with_different_frame_counts(study, tmp_path):
    _write_dicom_series(study, tmp_path)
    sorted(tmp_path.glob("*.dcm"))[-1].unlink()  # last slice loses a frame
    with pytest.raises(InputError) as err:
        read_cine(tmp_path)
    assert "slice 2 of 2" in _one_line(err) and f"has {T - 1} frames where the others have {T}" in str(err.value)


def test_truncated_dicom(study, tmp_path):
    _write_dicom_series(study, tmp_path)
    victim = sorted(tmp_path.glob("*.dcm"))[4]
    victim.write_bytes(victim.read_bytes()[:600])
    with pytest.raises(InputError) as err:
        read_cine(tmp_path)
    assert str(victim) in _one_line(err)


def test_not_a_dicom_file_with_dcm_suffix(study, tmp_path):
    _write_dicom_series(study, tmp_path)
    (tmp_path / "junk.dcm").write_text("hello")
    with pytest.raises(InputError, match=r"junk.dcm: not a DICOM file"):
        read_cine(tmp_path)


def test_truncated_nifti(study, tmp_path):
    import SimpleITK as sitk

    path = tmp_path / "cine.nii.gz"
    sitk.WriteImage(_sitk_4d(study), str(path))
    path.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(InputError) as err:
        read_cine(path)
    assert str(path) in _one_line(err) and "truncated" in str(err.value)


def test_truncated_nrrd(study, tmp_path):
    path = tmp_path / "cine.nrrd"
    _write_plain_nrrd(study, path)
    path.write_bytes(path.read_bytes()[:-300])
    with pytest.raises(InputError) as err:
        read_cine(path)
    assert str(path) in _one_line(err) and ("truncated" in str(err.value) or "corrupt" in str(err.value))


def test_labels_out_of_range(tmp_path):
    import SimpleITK as sitk

    path = tmp_path / "labels.nii.gz"
    sitk.WriteImage(sitk.GetImageFromArray(np.full((1, R, C), 5, np.uint8)), str(path))
    with pytest.raises(InputError, match=r"labels outside 0-3 found \(0 other, 1 blood pool.*\[5\]"):
        read_labels(path)


def test_user_centre_outside_image(study):
    good = read_cine(study.pixels)
    with pytest.raises(InputError, match="outside"):
        prepare(good, centers_rc=(R + 10.0, 3.0))
    with pytest.raises(InputError, match="one per slice"):
        prepare(good, centers_rc=np.zeros((S + 1, 2)))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_nifti_is_refused_not_zeroed(study, tmp_path, bad):
    """SimpleITK's reader turns NaN / Inf into 0: the raw data must be checked before it."""
    import SimpleITK as sitk

    pixels = study.pixels.copy()
    pixels[1, 3, 4, 5] = bad
    path = tmp_path / "cine.nii.gz"
    sitk.WriteImage(_sitk_4d(CineStudy(pixels=pixels, spacing=study.spacing, frame_interval_ms=40.0)), str(path))
    with pytest.raises(InputError) as err:
        read_cine(path)
    assert _one_line(err) == f"{path}: 1 NaN or infinite voxel values (first in slice 2, frame 4)"


def test_non_finite_training_volume_is_refused(tmp_path):
    """The LGE / label volumes of training cases go through the same check."""
    import SimpleITK as sitk

    from pscgan.io.readers import read_lge

    lge = np.random.default_rng(1).random((3, R, C)).astype(np.float32)
    lge[2, 1, 1] = np.nan
    path = tmp_path / "lge.nii.gz"
    sitk.WriteImage(sitk.GetImageFromArray(lge), str(path))
    with pytest.raises(InputError, match="NaN or infinite"):
        read_lge(path)


def test_one_frame_nifti_says_one_frame(study, tmp_path):
    import SimpleITK as sitk

    one = CineStudy(pixels=study.pixels[:, :1].copy(), spacing=study.spacing, frame_interval_ms=40.0)
    path = tmp_path / "one.nii.gz"
    sitk.WriteImage(_sitk_4d(one), str(path))
    with pytest.raises(InputError) as err:
        read_cine(path)
    assert "only 1 frame" in _one_line(err) and "3D volume" not in str(err.value)


def _gzip_nifti_bomb(path, shape):
    """A float32 NIfTI-1 .nii.gz of `shape` (X, Y, Z, T) full of zeros: tiny on disk, huge once expanded."""
    import gzip
    import struct

    header = bytearray(352)
    struct.pack_into("<i", header, 0, 348)
    struct.pack_into("<8h", header, 40, len(shape), *shape, *([1] * (7 - len(shape))))
    struct.pack_into("<hh", header, 70, 16, 32)  # float32
    struct.pack_into("<8f", header, 76, 1.0, *([1.0] * 7))
    struct.pack_into("<f", header, 108, 352.0)
    header[344:348] = b"n+1\0"
    n = int(np.prod(shape)) * 4
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(bytes(header))
        zeros = bytes(1 << 20)
        for _ in range(n // len(zeros)):
            f.write(zeros)
        f.write(bytes(n % len(zeros)))


def test_decompression_bomb_is_refused_from_the_header(tmp_path, monkeypatch):
    import tracemalloc

    path = tmp_path / "bomb.nii.gz"
    _gzip_nifti_bomb(path, (256, 256, 16, 32))  # 134 MB of zeros in ~130 KB
    assert path.stat().st_size < 1_000_000
    monkeypatch.setenv("PSCGAN_MAX_VOXELS", str(10_000_000))
    tracemalloc.start()
    try:
        with pytest.raises(InputError) as err:
            read_cine(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(path) in _one_line(err) and "33,554,432 voxels" in str(err.value) and "PSCGAN_MAX_VOXELS" in str(err.value)
    assert peak < 20_000_000, f"{peak} bytes allocated before refusing"


def test_nrrd_size_limit(tmp_path, monkeypatch):
    path = tmp_path / "big.nrrd"
    header = "NRRD0004\ntype: float\ndimension: 4\nsizes: 4000 4000 50 30\nencoding: gzip\nendian: little\n\n"
    path.write_bytes(header.encode() + b"\x1f\x8b")
    with pytest.raises(InputError) as err:
        read_cine(path)
    assert str(path) in _one_line(err) and "24,000,000,000 voxels" in str(err.value)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_dicom_huge_rows_columns_refused_before_allocating(study, tmp_path):
    import pydicom

    _write_dicom_series(study, tmp_path)
    victim = sorted(tmp_path.glob("*.dcm"))[3]
    ds = pydicom.dcmread(victim)
    ds.Rows, ds.Columns = 60000, 60000
    ds.save_as(victim)
    with pytest.raises(InputError) as err:
        read_cine(tmp_path)
    assert str(victim) in _one_line(err) and "3,600,000,000 voxels" in str(err.value)


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("keep", [132, 400, 1024])
def test_dicom_cut_to_1kb_is_named(sunnybrook_dir, tmp_path, keep):
    """A real file cut short keeps its file meta but loses Rows, IPP and pixel data: it is named, not skipped."""
    src = sunnybrook_dir / "dicoms" / "SCD0000201"
    for f in sorted(src.glob("*.dcm"))[:20]:
        shutil.copy(f, tmp_path / f.name)
    victim = sorted(tmp_path.glob("*.dcm"))[5]
    victim.write_bytes(victim.read_bytes()[:keep])
    with pytest.raises(InputError) as err:
        read_cine(tmp_path)
    assert _one_line(err).startswith(f"{victim}: ") and "truncated" in str(err.value)


def test_messages_show_numbers_plainly():
    from pscgan.metrics.aha import angle_deg

    with pytest.raises(InputError) as err:
        angle_deg(np.array([np.nan, 1.0]), np.array([2.0, 3.0]), "RV insertion")
    assert str(err.value) == "RV insertion (nan, 1): coordinates must be finite numbers"
    with pytest.raises(InputError) as err:
        angle_deg(np.array([2.0, 3.5]), np.array([2.0, 3.5]), "RV insertion")
    assert str(err.value) == "RV insertion (2, 3.5): coincides with the LV centre (2, 3.5)"


def test_default_limit_refuses_a_900_mb_nifti_from_its_header_alone(tmp_path, monkeypatch):
    """The issue's case (856 KB of gzip expanding to 900 MB of float32) under the default limit: only the
    header is needed to refuse it, so the test writes just the header."""
    import gzip
    import struct

    monkeypatch.delenv("PSCGAN_MAX_VOXELS", raising=False)
    shape = (256, 256, 120, 30)  # 235,929,600 float32 voxels = 900 MiB
    header = bytearray(352)
    struct.pack_into("<i", header, 0, 348)
    struct.pack_into("<8h", header, 40, 4, *shape, 1, 1, 1)
    struct.pack_into("<hh", header, 70, 16, 32)
    struct.pack_into("<f", header, 108, 352.0)
    header[344:348] = b"n+1\0"
    path = tmp_path / "bomb.nii.gz"
    path.write_bytes(gzip.compress(bytes(header) + bytes(1 << 16)))
    with pytest.raises(InputError) as err:
        read_cine(path)
    assert "235,929,600 voxels" in _one_line(err) and "limit of 134,217,728" in str(err.value)


def test_nifti_whose_data_offset_points_into_the_header_is_refused(study, tmp_path):
    """SimpleITK reads such a file from byte 0, header bytes as pixels: a silently wrong image."""
    import struct

    import SimpleITK as sitk

    path = tmp_path / "cine.nii"
    sitk.WriteImage(_sitk_4d(study), str(path))
    raw = bytearray(path.read_bytes())
    struct.pack_into("<f", raw, 108, 0.0)
    path.write_bytes(bytes(raw))
    with pytest.raises(InputError) as err:
        read_cine(path)
    assert _one_line(err) == f"{path}: corrupt NIfTI header (vox_offset 0 lies inside the header)"


def test_one_rule_for_label_values_in_files_and_arrays(tmp_path):
    """The case folder and the metrics reject the same label values with the same reason."""
    import SimpleITK as sitk

    from pscgan.metrics.clinical import check_labels

    path = tmp_path / "labels.nii.gz"
    sitk.WriteImage(sitk.GetImageFromArray(np.full((1, R, C), 1.5, np.float32)), str(path))
    with pytest.raises(InputError, match="whole numbers 0-3") as from_file:
        read_labels(path)
    with pytest.raises(InputError, match="whole numbers 0-3") as from_array:
        check_labels(np.full((R, C), 1.5, np.float32), "labels")
    assert str(path) in str(from_file.value) and "[1.5]" in str(from_array.value)
