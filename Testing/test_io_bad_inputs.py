"""Every unusable input gives one InputError naming the input and the problem (never a deep traceback)."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from pscgan.errors import InputError
from pscgan.io.readers import read_cine, read_labels
from pscgan.io.study import CineStudy
from pscgan.preprocess import prepare

from test_io_formats import _sitk_4d, _write_dicom_series, _write_plain_nrrd

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
    with pytest.raises(InputError, match="junk.dcm: not a DICOM file"):
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
    with pytest.raises(InputError, match="label values must be 0-3"):
        read_labels(path)


def test_user_centre_outside_image(study):
    good = read_cine(study.pixels)
    with pytest.raises(InputError, match="outside"):
        prepare(good, centers_rc=(R + 10.0, 3.0))
    with pytest.raises(InputError, match="one per slice"):
        prepare(good, centers_rc=np.zeros((S + 1, 2)))
