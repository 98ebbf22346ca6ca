"""`python -m training export RUN --out FILE --description TEXT`: the inference bundle (all generators) of a run.

The bundle's info travels into every metrics.json that `pscgan infer` writes, so it carries no paths of the
training machine (see `public_info`) and leads with `description`: what the model is, in words. Write the
bundle under the name it will ship as (`--out .../pscgan_cpu.safetensors`): the `.sha256` sidecar names that
file, and `sha256sum -c` in its folder fails after a rename.
"""
from __future__ import annotations

import os
from pathlib import Path

from pscgan.checkpoint import load_checkpoint, save_bundle
from pscgan.errors import CheckpointError, InputError
from pscgan.nn.config import ModelConfig

from .phases import phases_for
from .trainer import CHECKPOINT_NAME

PATH_KEYS = ("data", "source_run", "finetuned_from")  # where the run's inputs lay on the training machine
NAME_KEYS = {"data": "training_data", "finetuned_from": "finetuned_from"}  # kept as the last name only


def public_info(info: dict) -> dict:
    """`info` (and the info of the bundles it grew from, `base_info`) without paths of the training machine.

    Of the training data folder and the bundle fine-tuned from only the last name is kept (`training_data`,
    `finetuned_from`), which is what the module's model label shows (pscgan.inference.Predictor.describe)."""
    out = {}
    for key, value in info.items():
        if key in NAME_KEYS and isinstance(value, str) and Path(value).name not in ("", "~"):
            out[NAME_KEYS[key]] = Path(value).name
        if key in PATH_KEYS or (isinstance(value, str) and (os.path.isabs(value) or value.startswith("~"))):
            continue
        out[key] = public_info(value) if isinstance(value, dict) else value
    return out


def default_description(cfg, phases, finished: bool, phase: str, epoch: int) -> str:
    state = "all phases finished" if finished else f"stopped in phase {phase} at epoch {epoch}"
    return f"PSCGAN generators, configuration {cfg.name!r} ({', '.join(phases)}), {state}"


def export_run(run_dir: Path, out: Path, allow_unfinished: bool = False, half: bool = False,
               description: str | None = None) -> str:
    """Write the bundle of `run_dir`'s checkpoint to `out`; returns the bundle's SHA-256.

    half: store floating-point weights as float16 (half the file; inference casts them back to the
    device's float32), recorded in the bundle's info as stored_dtype."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputError(f"{run_dir}: run folder not found")
    path = run_dir / CHECKPOINT_NAME
    ck = load_checkpoint(path)
    cfg = ModelConfig.from_dict(ck["config"])  # the architecture: the bundle stores no training options
    info = dict(ck["train_info"])
    phases = phases_for(cfg)
    # the last phase has run its epoch plan (--epochs, or what its share of --max-minutes planned)
    planned = int(ck.get("planned_epochs") or info.get("epochs_per_phase", 0))
    finished = int(ck["phase_index"]) == len(phases) - 1 and int(ck["epoch"]) >= planned
    if not finished and not allow_unfinished:
        raise CheckpointError(
            f"{path}: training is not finished (phase {ck['phase']}, epoch {ck['epoch']}); "
            "resume it or pass --allow-unfinished",
        )
    info.update({"finished": finished, "phase": ck["phase"], "epoch": int(ck["epoch"]),
                 "stored_dtype": "float16" if half else "float32"})
    text = description or default_description(cfg, phases, finished, ck["phase"], int(ck["epoch"]))
    info = {"description": " ".join(str(text).split()), **public_info(info)}
    state = ck["generators"]
    if half:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    return save_bundle(Path(out), state, cfg, ck["preprocess"], info)


def run_export(args) -> int:
    digest = export_run(Path(args.run), Path(args.out), args.allow_unfinished, half=args.half,
                        description=getattr(args, "description", None))
    print(f"wrote {args.out} (sha256 {digest})")
    return 0
