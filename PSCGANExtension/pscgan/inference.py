"""Load a checked model bundle, pick the device and run the three phases on cine ROIs.

`Predictor.load(path)` verifies the bundle (SHA-256, format, configuration vs weights) and builds the
generators once through `pscgan.checkpoint.load_model`; `Predictor.predict(cine_roi)` maps (N, 25, 64, 64)
cine ROIs in [-1, 1] to mask probabilities, the LGE-equivalent image and the tissue segmentation.
torch is imported inside the functions: without torch, `Predictor.load` raises a one-line
CheckpointError that the Slicer module can show as is.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import Cancelled, CheckpointError, InputError

log = logging.getLogger(__name__)

MODELS_DIR = Path(__file__).resolve().parent / "models"
OOM_NOTE = "GPU ran out of memory; continuing on CPU"


def default_bundle_path() -> Path:
    """The model shipped with the module (may be absent in a source checkout)."""
    return MODELS_DIR / "pscgan_cpu.safetensors"


def _import_torch():
    try:
        import torch
    except ImportError:
        raise CheckpointError("PyTorch is not installed: install 'torch' (in Slicer: press Apply in the PSCGAN module, "
                              "which offers to install it through the PyTorch extension's PyTorchUtils)") from None
    return torch


def resolve_device(requested: str = "auto"):
    """'auto' -> cuda if available else cpu; 'cuda' without a GPU -> InputError; anything else -> InputError."""
    torch = _import_torch()
    requested = (requested or "auto").lower()
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if requested == "cpu":
        return torch.device("cpu")
    if requested.startswith("cuda"):
        if not torch.cuda.is_available():
            raise InputError(f"device {requested!r}: no CUDA GPU available")
        return torch.device(requested)
    raise InputError(f"device {requested!r}: choose auto, cpu or cuda")


@dataclass
class Prediction:
    mask_probs: np.ndarray  # (N, 4, H, W) float32, priori (pri) tissue probabilities
    lge: np.ndarray  # (N, H, W) float32 in [-1, 1], LGE-equivalent image (sys)
    seg_probs: np.ndarray  # (N, 4, H, W) float32, final (seg) tissue probabilities
    labels: np.ndarray  # (N, H, W) uint8, argmax of seg_probs: 0 other, 1 blood pool, 2 myocardium, 3 scar


@dataclass
class Predictor:
    model: Any  # pscgan.nn.cascade.Cascade (or the U-Net baseline) in eval mode
    cfg: Any  # ModelConfig
    preprocess: Any  # PreprocessConfig (or its dict when preprocessing is unavailable)
    device: Any  # torch.device
    info: dict = field(default_factory=dict)
    source: str = "<model>"
    notes: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path | None = None, device: str = "auto", expected_sha256: str | None = None) -> Predictor:
        _import_torch()  # first: a clear message when torch is missing
        from .checkpoint import load_model

        path = Path(path) if path is not None else default_bundle_path()
        if not path.is_file():
            hint = " (no model is shipped in this checkout: train one with `python -m training train` and `export`)" \
                if path == default_bundle_path() else ""
            raise CheckpointError(f"{path}: model bundle not found{hint}")
        dev = resolve_device(device)
        model, cfg, pre, info = load_model(path, expected_sha256=expected_sha256)
        model.to(dev)
        return cls(model=model, cfg=cfg, preprocess=pre, device=dev, info=info, source=str(path))

    @classmethod
    def from_model(cls, model, cfg, preprocess=None, device: str = "cpu", info: dict | None = None) -> Predictor:
        """Wrap an in-memory model (training evaluation, tests)."""
        dev = resolve_device(device)
        model.eval().to(dev)
        return cls(model=model, cfg=cfg, preprocess=preprocess, device=dev, info=dict(info or {}))

    @property
    def synthesises_lge(self) -> bool:
        """False for a segmentation-only model (the 2D U-Net baseline): its LGE output is a blank stand-in."""
        return bool(getattr(self.model, "synthesises_lge", True))

    def describe(self) -> str:
        """One line for the panel: bundle name, configuration, training data, SHA-256 prefix of the file."""
        from .checkpoint import file_sha256

        path = Path(self.source)
        info = self.info if isinstance(self.info, dict) else {}
        parts = [path.name if path.name else str(self.source), f"configuration {getattr(self.cfg, 'name', '?')}"]
        data = info.get("training_data") or info.get("data")
        if data:
            trained = f"trained on {Path(str(data)).name}"
            if info.get("phase") and info.get("epoch") is not None:
                trained += f" (last phase {info['phase']}, epoch {info['epoch']})"
            if info.get("finetuned_from"):
                trained += f", fine-tuned from {Path(str(info['finetuned_from'])).name}"
            parts.append(trained)
        else:
            parts.append("training data not recorded in the bundle")
        if path.is_file():
            parts.append(f"SHA-256 {file_sha256(path)[:12]}")
        return "; ".join(parts)

    def take_notes(self) -> list[str]:
        """The notes gathered since the last call (e.g. a GPU fallback), and forget them: one study's
        notes are not reported again with the next one."""
        notes, self.notes = list(self.notes), []
        return notes

    def _check_input(self, cine_roi: np.ndarray) -> np.ndarray:
        arr = np.asarray(cine_roi)
        shape = (self.cfg.frames, self.cfg.size, self.cfg.size)
        if arr.ndim != 4 or tuple(arr.shape[1:]) != shape:
            raise InputError(f"cine ROI array: expected shape (N, {shape[0]}, {shape[1]}, {shape[2]}), got {tuple(arr.shape)}")
        if not np.isfinite(arr).all():
            raise InputError("cine ROI array: contains NaN or infinite values")
        return arr.astype(np.float32, copy=False)

    def _run_batch(self, x: np.ndarray):
        torch = _import_torch()
        with torch.inference_mode():
            out = self.model(torch.from_numpy(np.ascontiguousarray(x)).to(self.device))
            mask = torch.softmax(out.mask_logits.float(), dim=1)
            lge = out.lge.float()[:, 0].clamp(-1.0, 1.0)
            seg = torch.softmax(out.seg_logits.float(), dim=1)
            return mask.cpu().numpy(), lge.cpu().numpy(), seg.cpu().numpy()

    def _fall_back_to_cpu(self) -> None:
        torch = _import_torch()
        log.warning(OOM_NOTE)
        self.notes.append(OOM_NOTE)
        self.model.to("cpu")
        self.device = torch.device("cpu")
        torch.cuda.empty_cache()

    def predict(
        self,
        cine_roi: np.ndarray,
        batch_size: int = 8,
        on_batch: Callable[[int, int], None] | None = None,
        should_cancel: Callable[[], bool] | None = None,
    ) -> Prediction:
        """cine_roi (N, 25, 64, 64) float32 in [-1, 1] -> Prediction.

        on_batch(done, total) after each batch; should_cancel() polled before each batch raises Cancelled.
        A CUDA out-of-memory error moves the model to the CPU, notes it in `self.notes` and goes on.
        """
        torch = _import_torch()
        x = self._check_input(cine_roi)
        n = x.shape[0]
        batch_size = max(1, int(batch_size))
        masks, lges, segs = [], [], []
        done = 0
        while done < n:
            if should_cancel is not None and should_cancel():
                raise Cancelled("stopped by the user")
            xb = x[done : done + batch_size]  # (B, 25, 64, 64)
            try:
                m, lge, s = self._run_batch(xb)
            except torch.cuda.OutOfMemoryError:
                if self.device.type != "cuda":
                    raise
                self._fall_back_to_cpu()
                m, lge, s = self._run_batch(xb)
            masks.append(m)
            lges.append(lge)
            segs.append(s)
            done += xb.shape[0]
            if on_batch is not None:
                on_batch(done, n)
        size = self.cfg.size
        mask_probs = np.concatenate(masks) if masks else np.zeros((0, 4, size, size), np.float32)
        lge = np.concatenate(lges) if lges else np.zeros((0, size, size), np.float32)
        seg_probs = np.concatenate(segs) if segs else np.zeros((0, 4, size, size), np.float32)
        return Prediction(
            mask_probs=mask_probs.astype(np.float32),
            lge=lge.astype(np.float32),
            seg_probs=seg_probs.astype(np.float32),
            labels=seg_probs.argmax(axis=1).astype(np.uint8),
        )
