"""Predictor: loads a checked bundle, gives the documented shapes and ranges, cancels, and matches the model."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from pscgan.checkpoint import save_bundle
from pscgan.errors import Cancelled, CheckpointError, InputError
from pscgan.inference import Predictor, resolve_device
from pscgan.nn.cascade import build_generators
from pscgan.nn.config import get_config


@pytest.fixture(scope="module")
def tiny_bundle(tmp_path_factory) -> tuple[Path, torch.nn.Module]:
    torch.manual_seed(1)
    cfg = get_config("tiny")
    model = build_generators(cfg).eval()
    path = tmp_path_factory.mktemp("bundle") / "tiny.safetensors"
    save_bundle(path, model, cfg, {"frames": cfg.frames, "roi_size": cfg.size}, {"trained": False})
    return path, model


def _cine(n: int, cfg, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, (n, cfg.frames, cfg.size, cfg.size)).astype(np.float32)


def test_prediction_shapes_ranges_and_consistency(tiny_bundle):
    path, model = tiny_bundle
    pred_obj = Predictor.load(path, device="cpu")
    cfg = pred_obj.cfg
    x = _cine(3, cfg)
    calls = []
    p = pred_obj.predict(x, batch_size=2, on_batch=lambda done, total: calls.append((done, total)))
    s = cfg.size
    assert p.mask_probs.shape == (3, 4, s, s) and p.seg_probs.shape == (3, 4, s, s)
    assert p.lge.shape == (3, s, s) and p.labels.shape == (3, s, s) and p.labels.dtype == np.uint8
    assert p.lge.dtype == np.float32 and p.lge.min() >= -1 and p.lge.max() <= 1
    np.testing.assert_allclose(p.mask_probs.sum(1), 1.0, atol=1e-5)
    np.testing.assert_allclose(p.seg_probs.sum(1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(p.labels, p.seg_probs.argmax(1))
    assert calls == [(2, 3), (3, 3)]
    # bundle round trip: same numbers as the in-memory model that was saved
    with torch.no_grad():
        out = model(torch.from_numpy(x))
    np.testing.assert_allclose(p.lge, out.lge[:, 0].numpy(), atol=1e-4)
    np.testing.assert_allclose(p.seg_probs, torch.softmax(out.seg_logits, 1).numpy(), atol=1e-4)
    # batch size does not change the result
    p1 = pred_obj.predict(x, batch_size=1)
    np.testing.assert_allclose(p1.lge, p.lge, atol=1e-5)


def test_cancel_between_batches(tiny_bundle):
    path, _ = tiny_bundle
    pred = Predictor.load(path, device="cpu")
    seen = []

    def cancel() -> bool:
        seen.append(1)
        return len(seen) > 1  # let the first batch through, stop before the second

    with pytest.raises(Cancelled):
        pred.predict(_cine(4, pred.cfg), batch_size=2, should_cancel=cancel)
    assert len(seen) == 2


def test_bad_input_and_missing_bundle(tiny_bundle, tmp_path: Path):
    path, _ = tiny_bundle
    pred = Predictor.load(path, device="cpu")
    with pytest.raises(InputError, match="cine ROI array: expected shape"):
        pred.predict(np.zeros((2, 3, 4), np.float32))
    bad = _cine(1, pred.cfg)
    bad[0, 0, 0, 0] = np.nan
    with pytest.raises(InputError, match="NaN"):
        pred.predict(bad)
    with pytest.raises(CheckpointError, match=r"missing.safetensors: model bundle not found"):
        Predictor.load(tmp_path / "missing.safetensors")
    with pytest.raises(CheckpointError, match="checksum mismatch"):
        Predictor.load(path, expected_sha256="f" * 64)


def test_resolve_device():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="no CUDA GPU available"):
            resolve_device("cuda")
    with pytest.raises(InputError, match="choose auto, cpu or cuda"):
        resolve_device("tpu")


def test_gpu_out_of_memory_falls_back_to_cpu(tiny_bundle, monkeypatch, caplog):
    path, _ = tiny_bundle
    pred = Predictor.load(path, device="cpu")
    pred.device = torch.device("cuda")  # pretend: the first batch "runs out of GPU memory"
    real_run = Predictor._run_batch
    calls = []

    def flaky(self, x):
        calls.append(self.device.type)
        if self.device.type == "cuda":
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
        return real_run(self, x)

    monkeypatch.setattr(Predictor, "_run_batch", flaky)
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: None)
    with caplog.at_level("WARNING"):
        out = pred.predict(_cine(3, pred.cfg), batch_size=2)
    assert calls == ["cuda", "cpu", "cpu"] and pred.device.type == "cpu"
    assert pred.notes == ["GPU ran out of memory; continuing on CPU"]
    assert "GPU ran out of memory" in caplog.text
    assert out.labels.shape[0] == 3


def test_describe_names_bundle_configuration_training_data_and_checksum(tmp_path: Path):
    """The panel's model label: the same one-line description for the shipped bundle and a user's checkpoint."""
    from pscgan.checkpoint import file_sha256
    from pscgan.inference import default_bundle_path

    cfg = get_config("tiny")
    path = tmp_path / "my_model.safetensors"
    save_bundle(path, build_generators(cfg), cfg, {"frames": cfg.frames, "roi_size": cfg.size},
                {"data": "/data/phantom_train_750", "phase": "seg", "epoch": 12, "finetuned_from": "models/base.safetensors"})
    text = Predictor.load(path, device="cpu").describe()
    assert text.startswith("my_model.safetensors; configuration tiny; trained on phantom_train_750 (last phase seg, epoch 12)")
    assert "fine-tuned from base.safetensors" in text and f"SHA-256 {file_sha256(path)[:12]}" in text
    save_bundle(path, build_generators(cfg), cfg, {"frames": cfg.frames, "roi_size": cfg.size}, {})
    assert "training data not recorded" in Predictor.load(path, device="cpu").describe()
    if default_bundle_path().is_file():
        shipped = Predictor.load(device="cpu")
        sidecar = Path(str(default_bundle_path()) + ".sha256").read_text().split()[0]
        text = shipped.describe()
        assert text.startswith(default_bundle_path().name) and f"SHA-256 {sidecar[:12]}" in text
        assert f"configuration {shipped.cfg.name}" in text
