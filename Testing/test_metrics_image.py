"""SSIM, PSNR and NRMSE against scikit-image, on random and real (Sunnybrook cine) images."""
from __future__ import annotations

import math

import numpy as np
import pydicom
import pytest
from skimage import metrics as skm

from pscgan.errors import InputError
from pscgan.metrics.image import nrmse, psnr, ssim, to_symmetric_unit_range


def random_pair(seed: int, shape=(64, 64)):
    rng = np.random.default_rng(seed)
    ref = np.clip(rng.normal(0, 0.4, shape), -1, 1)
    pred = np.clip(ref + rng.normal(0, 0.2, shape), -1, 1)
    return ref, pred


def sunnybrook_pair(root):
    """Frames 1 and 8 (ED-ish, ES) of one slice, 64x64 around the image centre, scaled to [-1, 1]."""
    frames = []
    for number in (41, 48):
        pixels = pydicom.dcmread(root / "dicoms" / "SCD0000101" / f"{number}.dcm").pixel_array.astype(float)
        r, c = pixels.shape[0] // 2, pixels.shape[1] // 2
        frames.append(to_symmetric_unit_range(pixels[r - 32:r + 32, c - 32:c + 32]))
    return frames


def skimage_ssim(ref, pred, data_range):
    return skm.structural_similarity(ref, pred, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                     data_range=data_range)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("data_range", [2.0, 1.0])
def test_random_images_match_scikit_image(seed, data_range):
    ref, pred = random_pair(seed)
    assert ssim(ref, pred, data_range) == pytest.approx(skimage_ssim(ref, pred, data_range), abs=1e-6)
    assert psnr(ref, pred, data_range) == pytest.approx(skm.peak_signal_noise_ratio(ref, pred, data_range=data_range),
                                                        abs=1e-6)
    for norm, sk_norm in [("euclidean", "euclidean"), ("min-max", "min-max"), ("mean", "mean")]:
        ref_shift = ref + 1.5  # mean normalisation needs a non-zero mean
        assert nrmse(ref_shift, pred, norm) == pytest.approx(
            skm.normalized_root_mse(ref_shift, pred, normalization=sk_norm), abs=1e-6)


def test_real_cine_frames_match_scikit_image(sunnybrook_dir):
    ref, pred = sunnybrook_pair(sunnybrook_dir)
    value = ssim(ref, pred, 2.0)
    assert value == pytest.approx(skimage_ssim(ref, pred, 2.0), abs=1e-6)
    assert 0.0 < value < 0.99  # two different cardiac phases: similar, not identical
    assert psnr(ref, pred) == pytest.approx(skm.peak_signal_noise_ratio(ref, pred, data_range=2.0), abs=1e-6)
    assert nrmse(ref, pred) == pytest.approx(skm.normalized_root_mse(ref, pred), abs=1e-6)


def test_identity_and_definitions():
    ref, pred = random_pair(5)
    assert ssim(ref, ref) == pytest.approx(1.0)
    assert psnr(ref, ref) == math.inf
    mse = np.mean((ref - pred) ** 2)
    assert psnr(ref, pred, 2.0) == pytest.approx(10 * math.log10(4.0 / mse))
    assert nrmse(ref, pred) == pytest.approx(math.sqrt(mse) / math.sqrt(np.mean(ref ** 2)))


def test_bad_inputs():
    ref, pred = random_pair(3)
    with pytest.raises(InputError, match="disagree"):
        ssim(ref, pred[:-1])
    with pytest.raises(InputError, match="data_range"):
        psnr(ref, pred, 0.0)
    with pytest.raises(InputError, match="normalisation"):
        nrmse(ref, pred, "max")
    with pytest.raises(InputError, match="smaller"):
        ssim(ref[:8, :8], pred[:8, :8])
    with pytest.raises(InputError, match="constant"):
        to_symmetric_unit_range(np.ones((4, 4)))
