"""Training data from case folders: parallel preprocessing builds the same arrays as serial."""
from __future__ import annotations

import shutil

import numpy as np

from pscgan.phantom import generate_dataset
from pscgan.preprocess import PreprocessConfig
from training.data import CACHE_DIR, load_dataset


def test_parallel_preprocessing_equals_serial_and_is_cached(tmp_path):
    generate_dataset(tmp_path / "data", cases=3, seed=4, progress=False)
    pre = PreprocessConfig()
    serial = load_dataset(tmp_path / "data", pre, margin=2)
    caches = list((tmp_path / "data" / CACHE_DIR).glob("roi_*.npz"))
    assert len(caches) == 1
    shutil.rmtree(tmp_path / "data" / CACHE_DIR)
    parallel = load_dataset(tmp_path / "data", pre, margin=2, workers=2)
    assert parallel.names == serial.names and len(serial) == 3
    for key in ("cine", "lge", "labels", "scar_area_cm2"):
        np.testing.assert_array_equal(getattr(parallel, key), getattr(serial, key), err_msg=key)
    assert serial.cine.shape[1:] == (25, 68, 68)
    assert set(np.unique(serial.labels)) <= {0, 1, 2, 3} and (serial.labels == 2).any()


def test_a_nan_in_a_training_cine_is_refused_not_zeroed(tmp_path):
    """SimpleITK reads a NaN voxel as 0; training data must refuse the case instead of learning from it."""
    import pytest
    import SimpleITK as sitk

    from pscgan.errors import InputError

    generate_dataset(tmp_path / "data", cases=1, seed=4, progress=False)
    case = next(p for p in (tmp_path / "data").iterdir() if p.is_dir())
    image = sitk.ReadImage(str(case / "cine.nii.gz"))
    pixels = sitk.GetArrayFromImage(image).astype(np.float32)  # (T, S, R, C)
    pixels[3, 0, 30, 30] = np.nan
    broken = sitk.GetImageFromArray(pixels, isVector=False)
    broken.CopyInformation(image)
    sitk.WriteImage(broken, str(case / "cine.nii.gz"))
    with pytest.raises(InputError, match=r"cine.nii.gz: 1 NaN or infinite voxel values \(first in slice 1, frame 4\)"):
        load_dataset(tmp_path / "data", PreprocessConfig(), margin=2)
