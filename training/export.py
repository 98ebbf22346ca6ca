"""`python -m training export RUN --out FILE`: the inference bundle (all generators) of a finished run."""
from __future__ import annotations

from pathlib import Path

from pscgan.checkpoint import load_checkpoint, save_bundle
from pscgan.errors import CheckpointError, InputError
from pscgan.nn.config import ModelConfig

from .phases import phases_for
from .trainer import CHECKPOINT_NAME


def export_run(run_dir: Path, out: Path, allow_unfinished: bool = False, half: bool = False) -> str:
    """Write the bundle of `run_dir`'s checkpoint to `out`; returns the bundle's SHA-256.

    half: store floating-point weights as float16 (half the file; inference casts them back to the
    device's float32), recorded in the bundle's info as stored_dtype."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputError(f"{run_dir}: run folder not found")
    path = run_dir / CHECKPOINT_NAME
    ck = load_checkpoint(path)
    cfg = ModelConfig.from_dict(ck["config"])
    info = dict(ck["train_info"])
    phases = phases_for(cfg)
    finished = int(ck["phase_index"]) == len(phases) - 1 and int(ck["epoch"]) >= int(info.get("epochs_per_phase", 0))
    if not finished and not allow_unfinished:
        raise CheckpointError(
            f"{path}: training is not finished (phase {ck['phase']}, epoch {ck['epoch']}); "
            "resume it or pass --allow-unfinished"
        )
    info.update({"source_run": str(run_dir), "finished": finished, "phase": ck["phase"], "epoch": int(ck["epoch"]),
                 "stored_dtype": "float16" if half else "float32"})
    state = ck["generators"]
    if half:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    return save_bundle(Path(out), state, cfg, ck["preprocess"], info)


def run_export(args) -> int:
    digest = export_run(Path(args.run), Path(args.out), args.allow_unfinished, half=args.half)
    print(f"wrote {args.out} (sha256 {digest})")
    return 0
