"""`python -m training train`: load the data once, split it, train, report."""
from __future__ import annotations

import json
import math
from pathlib import Path

from pscgan.errors import InputError

from .arrays import split_indices


def named_configs(name: str):
    """(ModelConfig, TrainingConfig) of the named configuration; an unknown name is an InputError."""
    from .config import configs

    try:
        return configs(name)
    except KeyError as err:
        raise InputError(f"--config {name}: {err.args[0]}") from None


def parse_shares(text: str) -> tuple[float, ...]:
    """--budget-shares "0.45,0.2,0.35" -> (0.45, 0.2, 0.35); a one-line error for anything else."""
    try:
        shares = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise InputError(f"--budget-shares {text!r}: give one number per phase, e.g. 0.45,0.2,0.35") from None
    if not shares or any(not math.isfinite(v) or v <= 0 for v in shares):
        raise InputError(f"--budget-shares {text!r}: every share must be a positive number")
    return shares


def with_budget_shares(cfg, training, text: str | None):
    """The training configuration with --budget-shares in place of its own (unchanged without it): one
    positive share per phase of the architecture, else a one-line InputError."""
    if not text:
        return training
    from .phases import phases_for

    shares, phases = parse_shares(text), phases_for(cfg)
    if len(shares) != len(phases):
        raise InputError(f"--budget-shares {text!r}: configuration {cfg.name} trains {len(phases)} phase(s) "
                         f"({', '.join(phases)}); give one share each")
    return training.with_changes(budget_shares=shares)


def with_systole_weight(cfg, training, weight: float | None, train):
    """(cfg, training) with --systole-weight W: a systole head on the segmentation generators and W on its loss
    (unchanged without the option); a one-line InputError for a negative W, or when no training sample has the
    per-frame labels the task learns from."""
    if weight is None:
        return cfg, training
    if not (math.isfinite(weight) and weight >= 0):
        raise InputError(f"--systole-weight {weight}: give a weight of 0 or more")
    if weight > 0 and train.systole is None:
        raise InputError("--systole-weight: no training case has per-frame labels (cine_labels.nii.gz, written by "
                         "`pscgan phantom`), which the end-systole task learns from")
    if weight == 0:
        return cfg.with_changes(systole_head=False), training.with_changes(systole_weight=0.0)
    departure = (f"auxiliary task (--systole-weight {weight:g}): a second 1x1 head on the last decoder features of the "
                 "segmentation generators predicts the labels at end-systole (other / blood pool / myocardium), learnt "
                 f"with weight {weight:g} from the phantom's per-frame labels; inference reads the main head only. Where "
                 "the wall thickens less, as over scar, it is thinner at end-systole")
    return (cfg.with_changes(systole_head=True, departures=(*cfg.departures, departure)),
            training.with_changes(systole_weight=weight, departures=(*training.departures, departure)))


def preprocess_config(cfg):
    """The preprocessing the model expects (frames and ROI size from the model configuration)."""
    from pscgan.preprocess import PreprocessConfig

    return PreprocessConfig(frames=cfg.frames, roi_size=cfg.size)


def load_split(args, cfg, run_dir: Path):
    """(train RoiArrays, val RoiArrays, preprocess config). The split: --split FILE when given, else
    RUN/split.json when the run has one (a resumed run trains on the same samples), else a new random one
    (`split_indices`); it is saved to RUN/split.json with the samples' names."""
    from .data import load_dataset

    pre = preprocess_config(cfg)
    data = load_dataset(Path(args.data), pre, margin=max(0, args.jitter), limit=args.limit_cases, quiet=args.quiet)
    split_file = run_dir / "split.json"
    given = getattr(args, "split", None)
    if given:
        tr, va = read_split(Path(given), data.names)
        if split_file.is_file() and read_split(split_file, data.names) != (tr, va):
            raise InputError(f"{split_file}: this run was split differently from --split {given}; a run keeps its split (use a new --out)")
    elif split_file.is_file():
        tr, va = read_split(split_file, data.names)
    else:
        tr, va = split_indices(len(data), args.val_fraction, args.seed)
    if not split_file.is_file():
        run_dir.mkdir(parents=True, exist_ok=True)
        origin = {"split_file": str(given)} if given else {"seed": args.seed, "val_fraction": args.val_fraction}
        split_file.write_text(json.dumps({**origin, "train": tr, "val": va,
                                          "train_names": [data.names[i] for i in tr],
                                          "val_names": [data.names[i] for i in va]}, indent=1))
    if not tr:
        raise InputError(f"{args.data}: too few samples to train ({len(data)})")
    return data.subset(tr), data.subset(va), pre


def read_split(path: Path, names: list[str]) -> tuple[list[int], list[int]]:
    """(train, val) sample indices of a split.json (as a run folder holds) checked against the data's sample
    names: indices in range, no sample in both, and, where the file names its samples, the same names."""
    try:
        split = json.loads(path.read_text())
        tr, va = [int(i) for i in split["train"]], [int(i) for i in split["val"]]
    except FileNotFoundError:
        raise InputError(f"{path}: no such split file") from None
    except (OSError, ValueError, TypeError, KeyError) as err:
        raise InputError(f"{path}: not a split file with train and val sample indices ({type(err).__name__}: {err})") from None
    if min(tr + va, default=0) < 0 or max(tr + va, default=-1) >= len(names):
        raise InputError(f"{path}: split does not fit the data ({len(names)} samples)")
    both = set(tr) & set(va)
    if both:
        raise InputError(f"{path}: {len(both)} sample(s) in both train and val (first: {names[min(both)]})")
    for key, indices in (("train_names", tr), ("val_names", va)):
        listed = split.get(key)
        if listed is None:
            continue
        if len(listed) != len(indices):
            raise InputError(f"{path}: {key} names {len(listed)} samples for {len(indices)} indices")
        for i, name in zip(indices, listed):
            if names[i] != name:
                raise InputError(f"{path}: {key} does not match this data (sample {i} is {names[i]} here, {name} in the split)")
    return tr, va


def check_run_folder(run_dir: Path, resume: bool) -> None:
    """--resume needs RUN/checkpoint.pt; without --resume a folder holding one is not overwritten."""
    has_checkpoint = (run_dir / "checkpoint.pt").exists()
    if has_checkpoint and not resume:
        raise InputError(f"{run_dir}: already holds a training run; pass --resume to continue it or choose a new --out")
    if resume and not has_checkpoint:
        raise InputError(f"{run_dir}: no checkpoint.pt to resume from; start the run without --resume")


def run_train(args) -> int:
    import torch

    from pscgan.inference import resolve_device

    from .augment import AugmentOptions
    from .distributed import setup
    from .trainer import Trainer, TrainOptions

    cfg, training = named_configs(args.config)
    training = with_budget_shares(cfg, training, args.budget_shares)
    run_dir = Path(args.out)
    check_run_folder(run_dir, args.resume)
    if not 0.0 <= args.p_dihedral <= 1.0:
        raise InputError(f"--p-dihedral {args.p_dihedral}: give a probability between 0 and 1")
    if args.validate_every < 1:
        raise InputError(f"--validate-every {args.validate_every}: give a whole number of epochs, 1 or more")
    ctx = setup(resolve_device(args.device))
    try:
        train, val, pre = load_split(args, cfg, run_dir)
        cfg, training = with_systole_weight(cfg, training, args.systole_weight, train)
        if ctx.is_main:
            (run_dir / "config.json").write_text(json.dumps({"model": cfg.to_dict(), "training": training.to_dict()}, indent=1))
        opts = TrainOptions(epochs=args.epochs, batch_size=args.batch_size, seed=args.seed, jitter=args.jitter,
                            max_minutes=args.max_minutes, stop_after_epochs=args.stop_after_epochs,
                            resume=args.resume, quiet=args.quiet, tensorboard=not args.no_tensorboard,
                            validate_every=args.validate_every,
                            augment=AugmentOptions(enabled=not args.no_augment, p_dihedral=args.p_dihedral))
        # the compute behind a time budget: with --max-minutes, the threads decide how many epochs fit (the
        # invocation that finishes the run records its own; a resumed run may have had others before)
        compute = {"threads_per_process": torch.get_num_threads(), "processes": ctx.world_size}
        trainer = Trainer(cfg, training, train, val, run_dir, opts, ctx=ctx, preprocess=pre.to_dict(),
                          info={"data": str(args.data), "train_samples": len(train), "val_samples": len(val), **compute})
        result = trainer.run()
    finally:
        ctx.close()
    if ctx.is_main and not args.quiet:
        m = result.last_metrics
        print(f"{result.status}: {result.epochs_run} epoch(s) this run; last epoch: "
              + ", ".join(f"{k} {m[k]:.4g}" for k in ("loss_g", "lge_ssim", "seg_dice_mean", "seg_accuracy")
                          if isinstance(m.get(k), float)))
    return 0
