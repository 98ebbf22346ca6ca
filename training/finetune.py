"""`python -m training finetune`: continue training a bundle's generators on (new) data.

Starts from the bundle's weights and architecture, skips the phases before `--phase` (their
generators stay as they are and feed the later phases, as in a normal run), and trains the rest
with the usual checkpoints, metrics and `--resume`. A bundle holds no training options: they are
those of the named configuration `--config` (default: the one the bundle's configuration is named
after). `--scar-weight` raises the weight of the scar class in the mce terms (a change recorded in
the run's training configuration).
"""
from __future__ import annotations

from pathlib import Path

from pscgan.errors import InputError


def run_finetune(args) -> int:
    from pscgan.checkpoint import load_bundle
    from pscgan.inference import resolve_device

    from .cli_train import check_run_folder, load_split
    from .config import get_training_config
    from .distributed import setup
    from .trainer import Trainer, TrainOptions

    state, cfg, pre, info = load_bundle(Path(args.bundle))
    state = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
    name = args.config or cfg.name
    try:
        training = get_training_config(name)
    except KeyError as err:
        raise InputError(f"{args.bundle}: no training options for configuration {cfg.name!r}; pass --config NAME ({err.args[0]})") from None
    if args.scar_weight is not None:
        if args.scar_weight <= 0:
            raise InputError(f"--scar-weight {args.scar_weight}: must be positive")
        weights = list(training.class_weights or (1.0,) * cfg.num_classes)
        weights[3] = float(args.scar_weight)
        training = training.with_changes(class_weights=tuple(weights))
    run_dir = Path(args.out)
    check_run_folder(run_dir, args.resume)
    ctx = setup(resolve_device(args.device))
    try:
        train, val, _ = load_split(args, cfg, run_dir)
        opts = TrainOptions(epochs=args.epochs, batch_size=args.batch_size, seed=args.seed, jitter=args.jitter,
                            max_minutes=args.max_minutes, resume=args.resume, quiet=args.quiet,
                            tensorboard=not args.no_tensorboard, init_generators=state, first_phase=args.phase)
        trainer = Trainer(cfg, training, train, val, run_dir, opts, ctx=ctx, preprocess=pre.to_dict(),
                          info={"data": str(args.data), "finetuned_from": str(args.bundle), "base_info": info})
        result = trainer.run()
        if ctx.is_main and not args.quiet:
            print(f"{run_dir}: {result.status} after {result.epochs_run} epochs; last metrics {result.last_metrics}")
    finally:
        ctx.close()
    return 0
