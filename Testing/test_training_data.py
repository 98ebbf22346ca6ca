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
