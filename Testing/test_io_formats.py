"""Round trips: the same cine written as DICOM, NIfTI, Slicer .seq.nrrd, plain 4D NRRD, a phantom-layout folder
and a numpy array reads back as the same CineStudy (pixels and LPS geometry)."""
from __future__ import annotations

import gzip
import json

import numpy as np
import pytest

from pscgan.io.readers import read_cine, read_labels, read_lge
from pscgan.io.study import CineStudy

S, T, R, C = 3, 10, 20, 24


def _rotation(a: float, b: float, c: float) -> np.ndarray:
    rx = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    rz = np.array([[np.cos(c), -np.sin(c), 0], [np.sin(c), np.cos(c), 0], [0, 0, 1]])
    return rz @ ry @ rx


@pytest.fixture(scope="module")
def study() -> CineStudy:
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 1000, size=(S, T, R, C)).astype(np.float32)  # integers: exact in every format
    return CineStudy(
        pixels=pixels,
        spacing=(1.4, 1.5, 8.0),
        origin=(12.5, -30.0, 44.0),
        direction=_rotation(0.3, -0.5, 1.1),
        frame_interval_ms=32.0,
        source="synthetic",
    )


def _assert_same(got: CineStudy, want: CineStudy, atol_geom: float = 1e-4) -> None:
    assert got.pixels.shape == want.pixels.shape
    np.testing.assert_allclose(got.pixels, want.pixels, atol=1e-3)
    np.testing.assert_allclose(got.spacing, want.spacing, atol=atol_geom)
    np.testing.assert_allclose(got.origin, want.origin, atol=atol_geom * 10)
    np.testing.assert_allclose(np.asarray(got.direction).reshape(3, 3), want.direction, atol=atol_geom)
    assert got.frame_interval_ms == pytest.approx(want.frame_interval_ms, rel=1e-4)


def _sitk_4d(study: CineStudy):
    import SimpleITK as sitk

    image = sitk.GetImageFromArray(study.pixels.transpose(1, 0, 2, 3), isVector=False)  # (T, S, R, C) -> size (C, R, S, T)
    image.SetSpacing(tuple(study.spacing) + (study.frame_interval_ms,))
    image.SetOrigin(tuple(study.origin) + (0.0,))
    d4 = np.eye(4)
    d4[:3, :3] = study.direction
    image.SetDirection(tuple(d4.ravel()))
    return image


def test_nifti_round_trip(study, tmp_path):
    import SimpleITK as sitk

    path = tmp_path / "cine.nii.gz"
    sitk.WriteImage(_sitk_4d(study), str(path))
    _assert_same(read_cine(path), study)


@pytest.mark.parametrize("dtype", ["int16", "uint8", "float32", "float64"])
@pytest.mark.parametrize("scaling", [None, (2.5, -3.0), (0.0, 7.0)])
@pytest.mark.parametrize("suffix", [".nii", ".nii.gz"])
def test_nifti_pixels_are_what_simpleitk_reads(tmp_path, monkeypatch, dtype, scaling, suffix):
    """The NIfTI pixels come from the bytes the reader checked, not from SimpleITK's own reading: they must be
    SimpleITK's, values, type, shape and geometry, scl_slope / scl_inter included (ITK reads a slope of 0 as 1)."""
    import SimpleITK as sitk

    from pscgan.io import nifti
    from pscgan.io.nifti import read_image_array

    rng = np.random.default_rng(3)
    array = (rng.random((5, 2, 7, 9)) * 200).astype(dtype)  # (T, Z, Y, X)
    image = sitk.GetImageFromArray(array, isVector=False)
    image.SetSpacing((1.5, 1.25, 8.0, 40.0))
    image.SetOrigin((3.0, -2.0, 5.0, 0.0))
    plain = tmp_path / "plain.nii"
    sitk.WriteImage(image, str(plain))
    raw = bytearray(plain.read_bytes())
    if scaling is not None:
        raw[112:120] = np.array(scaling, "<f4").tobytes()  # NIfTI-1 scl_slope, scl_inter
    path = tmp_path / f"cine{suffix}"
    path.write_bytes(gzip.compress(bytes(raw)) if suffix == ".nii.gz" else bytes(raw))
    expected = sitk.ReadImage(str(path))
    monkeypatch.setattr(nifti, "_array", lambda *a: pytest.fail("SimpleITK read the pixels"))  # the other formats' path
    got = read_image_array(path)
    want = sitk.GetArrayFromImage(expected)
    assert got.pixels.dtype == want.dtype and got.pixels.shape == want.shape and got.pixels.flags.writeable
    np.testing.assert_array_equal(got.pixels, want)
    assert got.size == expected.GetSize() and got.spacing == expected.GetSpacing()
    assert got.origin == expected.GetOrigin() and got.direction == expected.GetDirection()
    if scaling == (2.5, -3.0):
        assert not np.array_equal(want, array)  # the scaling was applied, by both


def test_numpy_array(study):
    got = read_cine(study.pixels, spacing=study.spacing, frame_interval_ms=32.0)
    np.testing.assert_array_equal(got.pixels, study.pixels)
    assert got.spacing == pytest.approx(study.spacing)
    one = read_cine(study.pixels[0])  # (T, R, C) -> one slice
    assert one.pixels.shape == (1, T, R, C)
    np.testing.assert_array_equal(one.pixels[0], study.pixels[0])


def _write_dicom_series(study: CineStudy, folder, slope: float = 0.5, intercept: float = -20.0) -> None:
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid

    folder.mkdir(parents=True, exist_ok=True)
    series = generate_uid()
    d = study.direction
    n = 0
    for k in range(study.num_slices):
        ipp = study.index_to_lps(0, 0, k)
        for t in range(study.num_frames):
            n += 1
            meta = FileMetaDataset()
            meta.MediaStorageSOPClassUID = MRImageStorage
            meta.MediaStorageSOPInstanceUID = generate_uid()
            meta.TransferSyntaxUID = ExplicitVRLittleEndian
            ds = Dataset()
            ds.file_meta = meta
            ds.SOPClassUID = MRImageStorage
            ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
            ds.SeriesInstanceUID = series
            ds.StudyInstanceUID = "1.2.3"
            ds.Modality = "MR"
            ds.InstanceNumber = n
            ds.TriggerTime = t * study.frame_interval_ms + 3.0 * k  # trigger times differ between slices
            ds.SliceLocation = 6.72 * k  # wrong on purpose, as in Sunnybrook
            ds.ImagePositionPatient = [f"{v:.6f}" for v in ipp]
            ds.ImageOrientationPatient = [f"{v:.8f}" for v in np.r_[d[:, 0], d[:, 1]]]
            ds.PixelSpacing = [study.spacing[1], study.spacing[0]]  # (row, col)
            ds.SliceThickness = study.spacing[2]
            ds.Rows, ds.Columns = study.slice_shape
            ds.SamplesPerPixel = 1
            ds.PhotometricInterpretation = "MONOCHROME2"
            ds.BitsAllocated = ds.BitsStored = 16
            ds.HighBit = 15
            ds.PixelRepresentation = 1
            ds.RescaleSlope = slope
            ds.RescaleIntercept = intercept
            stored = np.round((study.pixels[k, t] - intercept) / slope).astype(np.int16)
            ds.PixelData = stored.tobytes()
            ds.save_as(folder / f"IM{n:04d}.dcm", enforce_file_format=True)


def test_dicom_round_trip(study, tmp_path):
    _write_dicom_series(study, tmp_path / "dcm")
    got = read_cine(tmp_path / "dcm")
    _assert_same(got, study, atol_geom=1e-5)
    one_file = read_cine(sorted((tmp_path / "dcm").glob("*.dcm"))[5])  # a file of the series: the series
    np.testing.assert_array_equal(one_file.pixels, got.pixels)


def test_dicom_reversed_files_same_study(study, tmp_path):
    """Instance numbers in reverse stack order: the first-acquired slice stays first, geometry follows."""
    flipped = CineStudy(
        pixels=study.pixels[::-1].copy(),
        spacing=study.spacing,
        origin=tuple(study.index_to_lps(0, 0, S - 1)),
        direction=study.direction * np.array([1, 1, -1]),
        frame_interval_ms=study.frame_interval_ms,
    )
    _write_dicom_series(flipped, tmp_path / "dcm")
    _assert_same(read_cine(tmp_path / "dcm"), flipped, atol_geom=1e-5)


def _write_slicer_sequence(study: CineStudy, path) -> None:
    """Through slicer-core's own storage node, as Slicer saves a volume sequence."""
    import vtk
    from slicer import vtkMRMLScalarVolumeNode, vtkMRMLScene, vtkMRMLSequenceNode, vtkMRMLVolumeSequenceStorageNode
    from vtk.util import numpy_support

    scene = vtkMRMLScene()
    seq = vtkMRMLSequenceNode()
    scene.AddNode(seq)
    seq.SetIndexName("time")
    seq.SetIndexUnit("ms")
    ijk_to_ras = vtk.vtkMatrix4x4()
    lps_to_ras = np.diag([-1.0, -1.0, 1.0])
    m = lps_to_ras @ study.direction @ np.diag(study.spacing)
    o = lps_to_ras @ np.asarray(study.origin)
    for i in range(3):
        for j in range(3):
            ijk_to_ras.SetElement(i, j, m[i, j])
        ijk_to_ras.SetElement(i, 3, o[i])
    for t in range(study.num_frames):
        node = vtkMRMLScalarVolumeNode()
        image = vtk.vtkImageData()
        image.SetDimensions(C, R, S)
        image.AllocateScalars(vtk.VTK_FLOAT, 1)
        image.GetPointData().GetScalars().DeepCopy(numpy_support.numpy_to_vtk(np.ascontiguousarray(study.pixels[:, t]).ravel()))
        node.SetAndObserveImageData(image)
        node.SetIJKToRASMatrix(ijk_to_ras)
        seq.SetDataNodeAtValue(node, f"{t * study.frame_interval_ms:g}")
    storage = vtkMRMLVolumeSequenceStorageNode()
    scene.AddNode(storage)
    storage.SetFileName(str(path))
    assert storage.WriteData(seq) == 1


def test_slicer_seq_nrrd_round_trip(study, tmp_path):
    path = tmp_path / "cine.seq.nrrd"
    _write_slicer_sequence(study, path)
    _assert_same(read_cine(path), study)


def _write_plain_nrrd(study: CineStudy, path, space: str = "right-anterior-superior") -> None:
    """A 4D NRRD with time last (X, Y, Z, T), gzip, written here by hand."""
    flip = np.array([-1.0, -1.0, 1.0]) if space == "right-anterior-superior" else np.ones(3)
    vecs = [flip * study.direction[:, a] * study.spacing[a] for a in range(3)]
    header = (
        "NRRD0004\n"
        "type: float\ndimension: 4\n"
        f"space: {space}\n"
        f"sizes: {C} {R} {S} {T}\n"
        "space directions: " + " ".join("(" + ",".join(f"{v:.10f}" for v in vec) + ")" for vec in vecs) + " none\n"
        "kinds: domain domain domain time\n"
        "endian: little\nencoding: gzip\n"
        "space origin: (" + ",".join(f"{v:.10f}" for v in flip * np.asarray(study.origin)) + ")\n"
        f"spacings: nan nan nan {study.frame_interval_ms}\n\n"
    )
    data = np.ascontiguousarray(study.pixels.transpose(1, 0, 2, 3)).astype("<f4").tobytes()  # (T, S, R, C)
    path.write_bytes(header.encode() + gzip.compress(data))


@pytest.mark.parametrize("space", ["right-anterior-superior", "left-posterior-superior"])
def test_plain_4d_nrrd_round_trip(study, tmp_path, space):
    path = tmp_path / "cine.nrrd"
    _write_plain_nrrd(study, path, space)
    _assert_same(read_cine(path), study)


def _write_phantom_case(folder, cine_trc: np.ndarray, spacing_rc, interval_ms: float, lge=None, labels=None) -> None:
    """The phantom layout: cine.nii.gz (X, Y, 1, T) from a (T, 1, Y, X) array, meta.json."""
    import SimpleITK as sitk

    folder.mkdir(parents=True)
    image = sitk.GetImageFromArray(cine_trc[:, None], isVector=False)  # (T, 1, Y, X) -> size (X, Y, 1, T)
    image.SetSpacing((spacing_rc[1], spacing_rc[0], 10.0, interval_ms))
    sitk.WriteImage(image, str(folder / "cine.nii.gz"))
    for name, arr in (("lge.nii.gz", lge), ("labels.nii.gz", labels)):
        if arr is not None:
            vol = sitk.GetImageFromArray(arr[None])  # (1, Y, X) -> size (X, Y, 1)
            vol.SetSpacing((spacing_rc[1], spacing_rc[0], 10.0))
            sitk.WriteImage(vol, str(folder / name))
    meta = {"pixel_spacing_mm": list(spacing_rc), "frame_interval_ms": interval_ms, "image_size": list(cine_trc.shape[1:])}
    (folder / "meta.json").write_text(json.dumps(meta))


def test_phantom_case_folder(study, tmp_path):
    cine = study.pixels[0]  # (T, R, C)
    labels = (np.arange(R * C).reshape(R, C) % 4).astype(np.uint8)
    lge = np.linspace(0, 1, R * C, dtype=np.float32).reshape(R, C)
    _write_phantom_case(tmp_path / "case_00000", cine, (1.5, 1.25), 36.0, lge=lge, labels=labels)
    got = read_cine(tmp_path / "case_00000")
    assert got.pixels.shape == (1, T, R, C)
    np.testing.assert_array_equal(got.pixels[0], cine)
    assert got.spacing[:2] == pytest.approx((1.25, 1.5))  # (col, row)
    assert got.frame_interval_ms == pytest.approx(36.0)
    vol = read_lge(tmp_path / "case_00000")
    assert vol.pixels.shape == (1, R, C)
    np.testing.assert_allclose(np.asarray(vol)[0], lge)
    lab = read_labels(tmp_path / "case_00000")
    assert lab.pixels.dtype == np.uint8
    np.testing.assert_array_equal(lab.pixels[0], labels)
    assert lab.spacing[:2] == pytest.approx((1.25, 1.5))


def test_frame_interval_override_and_default(study, tmp_path):
    import SimpleITK as sitk

    image = _sitk_4d(study)
    image.SetSpacing(tuple(study.spacing) + (1.0,))  # pixdim[4] = 1: unset
    path = tmp_path / "c.nii.gz"
    sitk.WriteImage(image, str(path))
    assert read_cine(path).frame_interval_ms == pytest.approx(40.0)
    assert read_cine(path, frame_interval_ms=28.5).frame_interval_ms == pytest.approx(28.5)


def _write_multiframe(study: CineStudy, path, shuffle_seed: int = 0) -> None:
    """An enhanced-MR-like multi-frame file: one item per frame in PerFrameFunctionalGroupsSequence, frames shuffled."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.sequence import Sequence
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    order = [(k, t) for k in range(study.num_slices) for t in range(study.num_frames)]
    order = [order[i] for i in np.random.default_rng(shuffle_seed).permutation(len(order))]
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.4.1"  # Enhanced MR Image Storage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "MR"
    ds.NumberOfFrames = len(order)
    ds.Rows, ds.Columns = study.slice_shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1
    shared = Dataset()
    measures = Dataset()
    measures.PixelSpacing = [study.spacing[1], study.spacing[0]]
    measures.SliceThickness = study.spacing[2]
    orient = Dataset()
    orient.ImageOrientationPatient = [f"{v:.8f}" for v in np.r_[study.direction[:, 0], study.direction[:, 1]]]
    rescale = Dataset()
    rescale.RescaleSlope, rescale.RescaleIntercept = 2.0, 5.0
    shared.PixelMeasuresSequence = Sequence([measures])
    shared.PlaneOrientationSequence = Sequence([orient])
    shared.PixelValueTransformationSequence = Sequence([rescale])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    items, planes = [], []
    for k, t in order:
        item = Dataset()
        pos = Dataset()
        pos.ImagePositionPatient = [f"{v:.6f}" for v in study.index_to_lps(0, 0, k)]
        cardiac = Dataset()
        cardiac.NominalCardiacTriggerDelayTime = t * study.frame_interval_ms
        item.PlanePositionSequence = Sequence([pos])
        item.CardiacSynchronizationSequence = Sequence([cardiac])
        items.append(item)
        planes.append(np.round((study.pixels[k, t] - 5.0) / 2.0).astype(np.int16))
    ds.PerFrameFunctionalGroupsSequence = Sequence(items)
    ds.PixelData = np.stack(planes).tobytes()
    ds.save_as(path, enforce_file_format=True)


def test_multiframe_dicom_round_trip(study, tmp_path):
    even = CineStudy(
        pixels=np.round(study.pixels / 2) * 2 + 1,  # odd integers: exact after slope 2, intercept 5
        spacing=study.spacing,
        origin=study.origin,
        direction=study.direction,
        frame_interval_ms=study.frame_interval_ms,
    )
    path = tmp_path / "enhanced.dcm"
    _write_multiframe(even, path)
    _assert_same(read_cine(path), even, atol_geom=1e-5)


def test_spacing_override_and_study_with_pixels(study, tmp_path):
    import SimpleITK as sitk

    from pscgan.io.study import study_with_pixels

    path = tmp_path / "cine.nii.gz"
    sitk.WriteImage(_sitk_4d(study), str(path))
    got = read_cine(path, spacing=(1.1, 1.2, 6.0))
    assert got.spacing == pytest.approx((1.1, 1.2, 6.0))
    np.testing.assert_allclose(got.origin, study.origin, atol=1e-3)
    resampled = study_with_pixels(got, np.zeros((S, 25, R, C), np.float32))
    assert resampled.pixels.shape == (S, 25, R, C) and resampled.spacing == got.spacing
    np.testing.assert_array_equal(resampled.direction, got.direction)
    with pytest.raises(ValueError):
        study_with_pixels(got, np.zeros((S + 1, 25, R, C), np.float32))


def test_sequence_nrrd_with_list_axis_first(study, tmp_path):
    """Older Slicer versions put the sequence axis first, with its index values as key/value pairs (in s)."""
    vecs = [np.array([-1.0, -1.0, 1.0]) * study.direction[:, a] * study.spacing[a] for a in range(3)]
    times = " ".join(f"{t * study.frame_interval_ms / 1000.0:g}" for t in range(T))
    header = (
        "NRRD0004\ntype: float\ndimension: 4\nspace: right-anterior-superior\n"
        f"sizes: {T} {C} {R} {S}\n"
        "space directions: none " + " ".join("(" + ",".join(f"{v:.10f}" for v in vec) + ")" for vec in vecs) + "\n"
        "kinds: list domain domain domain\nendian: big\nencoding: raw\n"
        "space origin: (" + ",".join(f"{v:.10f}" for v in np.array([-1.0, -1.0, 1.0]) * np.asarray(study.origin)) + ")\n"
        "axis 0 index type:=numeric\naxis 0 index unit:=s\n"
        f"axis 0 index values:={times}\n\n"
    )
    data = np.ascontiguousarray(study.pixels.transpose(0, 2, 3, 1)).astype(">f4").tobytes()  # (S, R, C, T)
    path = tmp_path / "old.seq.nrrd"
    path.write_bytes(header.encode() + data)
    _assert_same(read_cine(path), study)
