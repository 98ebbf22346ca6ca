"""Safe saving and loading of training checkpoints and of the inference bundle, with SHA-256 checks.

Two file kinds:
- training checkpoint (`RUN/checkpoint.pt`): a `torch.save` dict of tensors and plain Python types
  only, so `torch.load(path, weights_only=True)` reads it. Keys: see `CHECKPOINT_KEYS`, and
  `training_config` (the training options; absent in checkpoints written before it, whose flat
  `config` held them).
- bundle (`*.safetensors`): the three generators (or the joint one) in ONE safetensors file; its
  metadata holds JSON strings `pscgan_format`, `format_version`, `model_config` (the architecture),
  `preprocess_config`, `info` and `weights_sha256` (SHA-256 over the tensors, see `tensors_sha256`).
  A sidecar `<file>.sha256` holds the SHA-256 of the whole file.

Older files stored one flat configuration with the training options: they load through
`pscgan.nn.config.split_stored`, which drops those (`LEGACY_TRAINING_KEYS`) and nothing unknown.

Every fault raises `pscgan.errors.CheckpointError` with one line naming the file. torch is imported
inside the functions so that `pscgan` stays importable without it.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import CheckpointError
from .io.atomic import write_file

BUNDLE_FORMAT = "pscgan-bundle"
CHECKPOINT_FORMAT = "pscgan-checkpoint"
FORMAT_VERSION = 1
CHECKPOINT_KEYS = (
    "format", "format_version", "phase", "phase_index", "epoch", "generators", "discriminators",
    "optimizers", "rng", "config", "preprocess", "train_info", "weights_sha256",
)


# ---------------------------------------------------------------------------------------------
# hashing and atomic writes
# ---------------------------------------------------------------------------------------------
def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def tensors_sha256(state: dict) -> str:
    """SHA-256 over (name, dtype, shape, bytes) of every tensor, in sorted name order."""
    import torch

    h = hashlib.sha256()
    for name in sorted(state):
        t = state[name].detach().to("cpu").contiguous()
        h.update(name.encode())
        h.update(str(t.dtype).encode())
        h.update(str(tuple(t.shape)).encode())
        if t.numel():
            h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write through `write(tmp_path)` into a temporary file beside `path`, fsync, then rename over it
    (pscgan.io.atomic.write_file, durable): a process killed at any moment leaves the old file or the new one."""
    write_file(path, write, durable=True)


def _short(digest: str) -> str:
    return digest[:12] + ".."


def _check_expected(path: Path, expected_sha256: str | None) -> None:
    """Compare the whole-file SHA-256 with `expected_sha256`, else with the sidecar `<file>.sha256` if present."""
    expected = expected_sha256
    sidecar = Path(str(path) + ".sha256")
    if expected is None and sidecar.is_file():
        text = sidecar.read_text().split()
        expected = text[0] if text else ""
    if expected is None:
        return
    got = file_sha256(path)
    if got.lower() != expected.strip().lower():
        raise CheckpointError(f"{path}: checksum mismatch (expected {_short(expected.strip())}, got {_short(got)})")


# ---------------------------------------------------------------------------------------------
# weights <-> configuration
# ---------------------------------------------------------------------------------------------
def build_checked(path: Path, cfg):
    """`build_generators(cfg)`, or CheckpointError naming `path` when the model code cannot build it."""
    from .nn.cascade import build_generators

    try:
        return build_generators(cfg)
    except Exception as err:  # a config the model code cannot build
        raise CheckpointError(f"{path}: configuration {cfg.name!r} cannot be built ({err})") from None


def check_state_matches(path: Path, state: dict, cfg, model=None) -> None:
    """Raise CheckpointError if `state` (generator weights) does not fit `model`, by default `build_generators(cfg)`."""
    expected = (model if model is not None else build_checked(path, cfg)).state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(k for k in set(expected) & set(state) if tuple(expected[k].shape) != tuple(state[k].shape))
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append(f"missing keys {', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''}")
        if unexpected:
            parts.append(f"unexpected keys {', '.join(unexpected[:3])}{' ...' if len(unexpected) > 3 else ''}")
        if wrong:
            parts.append(f"wrong shapes {', '.join(wrong[:3])}{' ...' if len(wrong) > 3 else ''}")
        raise CheckpointError(f"{path}: configuration {cfg.name!r} does not match the weights ({'; '.join(parts)})")


def _model_config_from(path: Path, d: Any):
    """The ModelConfig of a stored dict, an old flat one (with training options) included."""
    from .nn.config import ModelConfig

    try:
        return ModelConfig.from_stored(d)
    except Exception as err:
        raise CheckpointError(f"{path}: unreadable model configuration ({err})") from None


def _split_from(path: Path, d: Any) -> tuple[dict, dict]:
    from .nn.config import split_stored

    try:
        return split_stored(d)
    except Exception as err:
        raise CheckpointError(f"{path}: unreadable model configuration ({err})") from None


def _preprocess_config_from(path: Path, d: Any):
    try:
        from .preprocess import PreprocessConfig
    except ImportError:  # preprocessing not available: hand back the plain dict
        return d
    try:
        return PreprocessConfig.from_dict(d)
    except Exception as err:
        raise CheckpointError(f"{path}: unreadable preprocessing configuration ({err})") from None


def _as_dict(cfg: Any) -> dict:
    if cfg is None:
        return {}
    if isinstance(cfg, dict):
        return dict(cfg)
    return cfg.to_dict()


# ---------------------------------------------------------------------------------------------
# bundle (inference)
# ---------------------------------------------------------------------------------------------
def save_bundle(path: Path, generators, cfg, preprocess, info: dict | None = None) -> str:
    """Write all generators of `generators` (a PSCGAN module or a state dict) to ONE safetensors file.

    Returns the SHA-256 of the written file, which is also written to `<path>.sha256`.
    """
    from safetensors.torch import save_file

    path = Path(path)
    state = generators if isinstance(generators, dict) else generators.state_dict()
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in state.items()}
    metadata = {
        "pscgan_format": BUNDLE_FORMAT,
        "format_version": str(FORMAT_VERSION),
        "model_config": json.dumps(_as_dict(cfg)),
        "preprocess_config": json.dumps(_as_dict(preprocess)),
        "info": json.dumps(info or {}, default=str),
        "weights_sha256": tensors_sha256(tensors),
    }
    atomic_write(path, lambda tmp: save_file(tensors, str(tmp), metadata=metadata))
    digest = file_sha256(path)
    atomic_write(Path(str(path) + ".sha256"), lambda tmp: tmp.write_text(f"{digest}  {path.name}\n"))
    return digest


def load_bundle(path: Path, expected_sha256: str | None = None):
    """Read and verify a bundle -> (state_dict, ModelConfig, PreprocessConfig, info dict).

    Checks, in order: file exists, whole-file SHA-256 (argument, else sidecar if present), safetensors
    structure, `pscgan_format` metadata, tensor SHA-256, weights vs configuration.
    """
    state, cfg, pre, info = _read_bundle(Path(path), expected_sha256)
    check_state_matches(path, state, cfg)
    return state, cfg, pre, info


def load_model(path: Path, expected_sha256: str | None = None):
    """A bundle's generators, built once and loaded -> (model in eval mode on the CPU, ModelConfig,
    PreprocessConfig, info dict); the checks of `load_bundle`."""
    state, cfg, pre, info = _read_bundle(Path(path), expected_sha256)
    model = build_checked(path, cfg)
    check_state_matches(path, state, cfg, model)
    model.load_state_dict(state)
    return model.eval(), cfg, pre, info


def _read_bundle(path: Path, expected_sha256: str | None):
    """`load_bundle` up to the weights-against-configuration check."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: model bundle not found")
    _check_expected(path, expected_sha256)
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            meta = f.metadata() or {}
            state = {k: f.get_tensor(k) for k in f.keys()}
    except Exception:
        raise CheckpointError(f"{path}: truncated or not a safetensors file") from None
    if meta.get("pscgan_format") != BUNDLE_FORMAT:
        raise CheckpointError(f"{path}: not a PSCGAN bundle (no metadata 'pscgan_format')")
    try:
        version = int(meta.get("format_version", "0"))
        cfg_d = json.loads(meta["model_config"])
        pre_d = json.loads(meta.get("preprocess_config", "{}"))
        info = json.loads(meta.get("info", "{}"))
    except (KeyError, ValueError) as err:
        raise CheckpointError(f"{path}: damaged bundle metadata ({err})") from None
    if version > FORMAT_VERSION:
        raise CheckpointError(f"{path}: bundle format {version} is newer than this version reads ({FORMAT_VERSION})")
    stored = meta.get("weights_sha256", "")
    got = tensors_sha256(state)
    if stored != got:
        raise CheckpointError(f"{path}: checksum mismatch (expected {_short(stored)}, got {_short(got)})")
    return state, _model_config_from(path, cfg_d), _preprocess_config_from(path, pre_d), info


# ---------------------------------------------------------------------------------------------
# training checkpoint
# ---------------------------------------------------------------------------------------------
def save_checkpoint(path: Path, payload: dict) -> None:
    """Atomically `torch.save` a training checkpoint; adds format keys and the generators' SHA-256."""
    import torch

    data = dict(payload)
    data["format"] = CHECKPOINT_FORMAT
    data["format_version"] = FORMAT_VERSION
    data["weights_sha256"] = tensors_sha256(data["generators"])
    atomic_write(Path(path), lambda tmp: torch.save(data, tmp))


def load_checkpoint(path: Path, cfg=None, training=None) -> dict:
    """Load a training checkpoint safely (`weights_only=True`) and verify it.

    If `cfg` (ModelConfig) is given, the stored configuration must equal it; so must the stored
    training options equal `training` (a TrainingConfig, read back through its class) if given.
    Returns the dict, `config` (the architecture) and `training_config` as dicts; an old flat
    `config` comes back split into the two.
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # UnpicklingError, RuntimeError (zip reader), EOFError, ...: all one message
        text = str(err)
        if "Unsupported global" in text:  # a pickled class or function: arbitrary code, refused
            what = text.split("Unsupported global:", 1)[1].strip().split(" was ")[0][:80]
            raise CheckpointError(f"{path}: holds objects that are not safe to load ({what})") from None
        raise CheckpointError(f"{path}: truncated or not a PSCGAN checkpoint") from None
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path}: not a PSCGAN checkpoint (no 'format': '{CHECKPOINT_FORMAT}')")
    missing = [k for k in CHECKPOINT_KEYS if k not in data]
    if missing:
        raise CheckpointError(f"{path}: damaged checkpoint (missing {', '.join(missing)})")
    if int(data["format_version"]) > FORMAT_VERSION:
        raise CheckpointError(f"{path}: checkpoint format {data['format_version']} is newer than this version reads")
    got = tensors_sha256(data["generators"])
    if got != data["weights_sha256"]:
        raise CheckpointError(f"{path}: checksum mismatch (expected {_short(data['weights_sha256'])}, got {_short(got)})")
    arch, legacy = _split_from(path, data["config"])
    if "training_config" in data and legacy:
        raise CheckpointError(f"{path}: damaged checkpoint (training options {', '.join(sorted(legacy))} in 'config')")
    data["config"] = arch
    data.setdefault("training_config", {"name": arch.get("name", "paper"), **legacy})
    stored_cfg = _model_config_from(path, arch)
    _check_same(path, "configuration", cfg, stored_cfg)
    if training is not None:
        try:
            stored_training = type(training).from_dict(data["training_config"])
        except Exception as err:
            raise CheckpointError(f"{path}: unreadable training configuration ({err})") from None
        _check_same(path, "training configuration", training, stored_training)
    check_state_matches(path, data["generators"], stored_cfg)
    return data


def _check_same(path: Path, what: str, given, stored) -> None:
    """CheckpointError naming the differing keys unless `given` (None: no check) equals `stored`."""
    if given is None or stored.to_dict() == given.to_dict():
        return
    changed = sorted(k for k, v in given.to_dict().items() if stored.to_dict().get(k) != v)
    raise CheckpointError(
        f"{path}: {what} {given.name!r} does not match the checkpoint's {stored.name!r} "
        f"(differs in {', '.join(changed[:5])})",
    )
