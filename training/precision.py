"""The arithmetic of training steps: float32 (the paper) or bfloat16 autocast (TrainingConfig.precision).

Under "bfloat16", a training step's forward passes (generator and discriminators) run their convolutions and
matrix products in bfloat16 through `torch.autocast`; weights, optimiser state and the losses stay float32
(training.trainer.train_step casts the generator outputs back to float32 before any loss sees them).
bfloat16 keeps float32's exponent range, so no loss scaling is needed. Validation and inference stay float32: the figures a run reports are those of the model
as it will be used.

On a CPU without native bfloat16 instructions (AVX512-BF16 or AMX) autocast would emulate them and run
slower than float32, so `step_autocast` then gives no autocast, and `precision_note` the line the trainer
prints once at the start of a run.
"""
from __future__ import annotations

import contextlib
from functools import cache

import torch

PRECISIONS = ("float32", "bfloat16")


def check_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
    return precision


def native_bfloat16(device: torch.device) -> bool:
    """Whether `device` computes bfloat16 natively (CUDA: compute capability 8.0 and up; CPU: oneDNN's check)."""
    return _native_bfloat16(device.type)


@cache
def _native_bfloat16(device_type: str) -> bool:  # asked before every training step: the answer does not change
    if device_type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    if device_type == "cpu":
        return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    return False


def effective_precision(precision: str, device: torch.device) -> str:
    """The precision a run on `device` actually trains in: bfloat16 only where the device has it natively."""
    if check_precision(precision) == "bfloat16" and not native_bfloat16(device):
        return "float32"
    return precision


def precision_note(precision: str, device: torch.device) -> str | None:
    """One line for the console when the configured precision cannot be used on `device`, else None."""
    if effective_precision(precision, device) != precision:
        return f"precision {precision}: {device.type} has no native bfloat16 arithmetic; training in float32"
    return None


def step_autocast(precision: str, device: torch.device):
    """The context a training step's forward passes run in: autocast to bfloat16, or nothing."""
    if effective_precision(precision, device) == "bfloat16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()
