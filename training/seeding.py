"""Fixed seeds, deterministic algorithms, and RNG states as tensors (for checkpoints).

Every epoch re-seeds all generators from (run seed, phase index, epoch) via `epoch_seed`, so an
epoch's shuffling, augmentation and any stochastic layers depend only on those three numbers:
a run resumed after epoch k replays epoch k+1 exactly as an uninterrupted run would.
"""
from __future__ import annotations

import hashlib
import json
import os
import random

import numpy as np
import torch


def epoch_seed(seed: int, phase_index: int, epoch: int) -> int:
    """A 31-bit seed derived from the run seed, the phase and the epoch (stable across processes)."""
    digest = hashlib.sha256(f"{seed}:{phase_index}:{epoch}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def make_deterministic() -> None:
    """Deterministic kernels (warn where none exists) and no cuDNN autotuning."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS (read at first use)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True


def rng_state() -> dict:
    """All RNG states as tensors / strings, loadable with `torch.load(weights_only=True)`."""
    np_state = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": json.dumps([np_state[0], np_state[1].tolist(), *map(_plain, np_state[2:])]),
        "python": json.dumps(_plain(random.getstate())),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.stack(torch.cuda.get_rng_state_all())
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    name, keys, *rest = json.loads(state["numpy"])
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), *rest))
    random.setstate(_tuples(json.loads(state["python"])))
    if "cuda" in state and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(list(state["cuda"]))


def _plain(x):
    if isinstance(x, (tuple, list)):
        return [_plain(v) for v in x]
    if isinstance(x, np.generic):
        return x.item()
    return x


def _tuples(x):
    return tuple(_tuples(v) for v in x) if isinstance(x, list) else x
