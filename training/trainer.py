"""The training loop: phases pri -> sys -> seg (or one joint phase), 2 D steps per G step, per-epoch
validation, atomic checkpoints and exact resume.

Optimiser: Adam at the training configuration's `learning_rate` (paper: 1e-3) with Kingma & Ba's default betas (0.9, 0.999),
since the paper names Adam without other settings; separate optimisers for the trained generator
and its discriminator(s), new for each phase. Every epoch re-seeds all RNGs from
(seed, phase index, epoch) (training.seeding), so `resume` after epoch k continues bit-identically.
Files in the run folder: checkpoint.pt (after every epoch), metrics.csv, tb/ (TensorBoard).
"""
from __future__ import annotations

import csv
import math
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import torch

from pscgan.checkpoint import load_checkpoint, save_checkpoint
from pscgan.errors import CheckpointError, InputError
from pscgan.nn.cascade import build_discriminators, build_generators

from .arrays import RoiArrays
from .augment import AugmentOptions, augment_batch
from .distributed import DistContext, sampler_indices
from .evaluation import evaluate
from .phases import OUTPUTS, PROGRESSIVE_PHASES, Batch, LossSet, generator_outputs, phases_for, trainable_generator
from .precision import check_precision, precision_note, step_autocast
from .seeding import epoch_seed, make_deterministic, rng_state, seed_everything, set_rng_state

CHECKPOINT_NAME = "checkpoint.pt"
METRICS_NAME = "metrics.csv"
EVAL_KEYS = (
    "mask_accuracy", "mask_dice_other", "mask_dice_blood", "mask_dice_myo", "mask_dice_scar", "mask_dice_mean",
    "lge_ssim", "lge_psnr",
    "seg_accuracy", "seg_dice_other", "seg_dice_blood", "seg_dice_myo", "seg_dice_scar", "seg_dice_mean",
    "scar_size_r",
)
CSV_KEYS = ("phase", "phase_index", "epoch", "samples", "seconds", "loss_g", "loss_d") + EVAL_KEYS


@dataclass
class TrainOptions:
    epochs: int = 10  # per phase
    batch_size: int | None = None  # None: the training configuration's batch size
    seed: int = 0
    jitter: int = 2  # maximum random ROI shift in pixels (<= the data's margin)
    betas: tuple[float, float] = (0.9, 0.999)
    max_minutes: float | None = None  # time budget, shared by the phases (phase_budgets; each stops after a checkpoint)
    stop_after_epochs: int | None = None  # stop after this many epochs in this invocation (tests, budgets)
    resume: bool = False
    quiet: bool = False
    tensorboard: bool = True
    eval_batch_size: int = 16
    # Validate after every this many epochs of a phase (and always after its first and last epoch): validation
    # runs the generators over the whole validation split, up to a sixth of an epoch's time on 2 CPU cores.
    validate_every: int = 1
    # Fine-tuning: start from these generator weights (e.g. a bundle's) and skip the phases before
    # `first_phase`. Ignored when resuming from a checkpoint of this run.
    init_generators: dict | None = None
    first_phase: str | None = None
    # Domain randomisation of every training batch (training.augment); AugmentOptions(enabled=False) turns it off.
    augment: AugmentOptions = field(default_factory=AugmentOptions)

    def __post_init__(self):
        if self.validate_every < 1:
            raise ValueError(f"validate_every {self.validate_every}: give a whole number of epochs, 1 or more")


@dataclass
class TrainResult:
    status: str  # finished | stopped | budget
    epochs_run: int
    last_metrics: dict = field(default_factory=dict)
    model: torch.nn.Module | None = None


EpochCallback = Callable[[str, int, dict], None]


def make_optimizer(training, params, betas) -> torch.optim.Optimizer:
    """The generator's optimiser (TrainingConfig `training`): Adam (paper) or AdamW with its weight_decay."""
    if training.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=training.learning_rate, betas=betas, weight_decay=training.weight_decay)
    if training.optimizer != "adam":
        raise ValueError(f"unknown optimizer {training.optimizer!r}; choose adam or adamw")
    return torch.optim.Adam(params, lr=training.learning_rate, betas=betas)


def phase_learning_rate(training, phase_index: int, phases: int) -> float:
    """The learning rate of phase `phase_index` of `phases` (its generator's starting rate, its discriminator's
    constant rate): learning_rate times the phase's entry of training.phase_lr_scales (all 1 when None, or when
    the scales are for another number of phases: a run without the progressive phases). Every scale is checked
    on each call, so bad scales stop a run at its first phase."""
    scales = training.phase_lr_scales
    if scales is None or len(scales) != phases:
        return training.learning_rate
    if any(s <= 0 for s in scales):
        raise ValueError(f"phase_lr_scales {scales} must be positive")
    return training.learning_rate * scales[phase_index]


def scheduled_lr(training, epoch: int, epochs: int, base_lr: float | None = None) -> float:
    """Generator learning rate of `epoch` (0-based) of a phase of `epochs` starting at `base_lr` (default
    training.learning_rate): constant (paper) or linear decay towards 0 (the last epoch runs at lr / epochs)."""
    lr = training.learning_rate if base_lr is None else base_lr
    if training.lr_schedule == "constant":
        return lr
    if training.lr_schedule != "linear":
        raise ValueError(f"unknown lr_schedule {training.lr_schedule!r}; choose constant or linear")
    return lr * (1.0 - epoch / max(epochs, 1))


def warm_start(dst: torch.nn.Module, src: torch.nn.Module) -> int:
    """Start `dst` as the function `src` computes, wherever their layers agree: every parameter and
    buffer of the same name and shape is copied (the encoder, the temporal summaries, the cine path,
    the decoder); a convolution the condition enters (same name, more input channels, the
    condition's appended last) gets `src`'s weights for its first input channels and zeros for the
    condition's, so that the condition starts with no effect and training decides how much it adds.
    Returns how many tensors were copied."""
    own = dst.state_dict()
    shared = {}
    for k, v in src.state_dict().items():
        if k not in own:
            continue
        mine = own[k]
        if mine.shape == v.shape:
            shared[k] = v
        elif mine.dim() == v.dim() >= 2 and mine.shape[0] == v.shape[0] and mine.shape[2:] == v.shape[2:] and mine.shape[1] > v.shape[1]:
            widened = torch.zeros_like(mine)
            widened[:, : v.shape[1]] = v  # (out, in_src + in_condition, kh, kw): condition weights 0
            shared[k] = widened
    dst.load_state_dict(shared, strict=False)
    return len(shared)


def phase_budgets(training, max_minutes: float | None, phases: int, start: int) -> list[float | None]:
    """Minutes of each phase: `max_minutes` shared by phases start.. (equally, or in proportion to
    training.budget_shares); None for every phase without a budget and for phases already done."""
    if max_minutes is None or start >= phases:
        return [None] * phases
    shares = list(training.budget_shares) if training.budget_shares is not None else [1.0] * phases
    if len(shares) != phases or any(s <= 0 for s in shares):
        raise ValueError(f"budget_shares {training.budget_shares} must give {phases} positive shares")
    total = sum(shares[start:])
    return [None if i < start else max_minutes * shares[i] / total for i in range(phases)]


def fitting_epochs(budget_s: float, epoch_s: float, done: int, most: int, elapsed_s: float | None = None) -> int:
    """Epochs of a phase that fit its time budget: the `done` epochs already run (which took
    `elapsed_s`, by default done x epoch_s) and as many more of `epoch_s` each as the rest of the
    budget holds; at least `done`, at most `most`."""
    elapsed_s = done * epoch_s if elapsed_s is None else elapsed_s
    more = int(max(budget_s - elapsed_s, 0.0) // max(epoch_s, 1e-6) + 1e-9)
    return max(done, min(most, done + more))


def set_learning_rate(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr


def train_step(model, discs, gen_w, d_w, opt_g, opt_d, phase: str, b: Batch, losses: LossSet, training) -> dict:
    """One generator step after `training.disc_steps_per_gen_step` discriminator steps on the same batch.

    gen_w / d_w: the trained generator and discriminators, possibly DistributedDataParallel-wrapped;
    the generator's loss uses the plain discriminators (their gradients are not needed).
    Returns the batch's losses as floats (loss_g, loss_d and the named terms).
    """
    keys = OUTPUTS[phase]
    forward = partial(step_autocast, training.precision, b.cine.device)  # bfloat16 forward passes, or float32
    with forward():  # the losses get float32 outputs whatever the forward's precision
        outs = {k: v.float() for k, v in generator_outputs(model, phase, b, gen_w).items()}  # with gradients into G
    loss_d = 0.0
    if discs is not None:
        discs.requires_grad_(True)
        for _ in range(training.disc_steps_per_gen_step):
            opt_d.zero_grad(set_to_none=True)
            with forward():
                ld = sum(losses.discriminator_loss(k, d_w[k], b, outs[k]) for k in keys)
            ld.backward()
            opt_d.step()
            loss_d = float(ld.detach())
        discs.requires_grad_(False)
    opt_g.zero_grad(set_to_none=True)
    lg = 0.0
    parts: dict[str, float] = {}
    with forward():
        for k in keys:
            term, p = losses.generator_loss(k, None if discs is None else discs[k], b, outs[k])
            lg = lg + term
            parts.update(p)
        if "systole" in outs:
            term, p = losses.systole_loss(outs["systole"], b)
            lg = lg + term
            parts.update(p)
    lg.backward()
    opt_g.step()
    return {"loss_g": float(lg.detach()), "loss_d": loss_d, **parts}


class Trainer:
    """Trains the network of `cfg` (ModelConfig) with the options of `training` (TrainingConfig)."""

    def __init__(self, cfg, training, train: RoiArrays, val: RoiArrays, run_dir: Path, options: TrainOptions,
                 ctx: DistContext | None = None, preprocess: dict | None = None, info: dict | None = None):
        self.cfg = cfg
        self.training = training
        self.train_data = train
        self.val_data = val
        self.run_dir = Path(run_dir)
        self.opt = options
        self.ctx = ctx or DistContext()
        self.device = self.ctx.device
        self.preprocess = dict(preprocess or {})
        self.info = dict(info or {})
        self.phases = phases_for(cfg)
        self.batch_size = int(options.batch_size or training.batch_size)
        self.jitter = min(int(options.jitter), int(train.margin))
        self.losses = LossSet(training)
        check_precision(training.precision)
        self._planned = options.epochs  # the running phase's epoch plan (see run)
        self._writer = None

    # ------------------------------------------------------------------------------------------
    def _log_enabled(self) -> bool:
        return self.ctx.is_main

    def _progress(self, total: int, desc: str):
        from tqdm import tqdm

        disable = self.opt.quiet or not self.ctx.is_main or not sys.stderr.isatty()
        return tqdm(total=total, desc=desc, disable=disable, leave=False, dynamic_ncols=True)

    def _tb(self):
        if self._writer is None and self.opt.tensorboard and self._log_enabled():
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(log_dir=str(self.run_dir / "tb"))
        return self._writer

    def _write_csv(self, row: dict) -> None:
        path = self.run_dir / METRICS_NAME
        new = not path.exists()
        with open(path, "a", newline="") as f:
            w = csv.DictWriter(f, fieldnames=CSV_KEYS, extrasaction="ignore")
            if new:
                w.writeheader()
            w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})

    def _trim_csv(self, phase_index: int, epoch: int) -> None:
        """Drop rows written after the checkpoint a resumed run starts from."""
        path = self.run_dir / METRICS_NAME
        if not path.exists():
            return
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        keep = [r for r in rows if (int(r["phase_index"]), int(r["epoch"])) <= (phase_index, epoch)]
        with open(path, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=CSV_KEYS, extrasaction="ignore")
            w.writeheader()
            w.writerows(keep)

    # ------------------------------------------------------------------------------------------
    def _save(self, model, discs, opt_g, opt_d, phase_index: int, epoch: int, planned: int | None = None) -> None:
        if self.ctx.is_main:
            payload = {
                "phase": self.phases[phase_index],
                "phase_index": phase_index,
                "epoch": epoch,
                "planned_epochs": int(planned or self.opt.epochs),
                "generators": {k: v.detach().cpu() for k, v in model.state_dict().items()},
                "discriminators": {} if discs is None else {k: v.detach().cpu() for k, v in discs.state_dict().items()},
                "optimizers": {"g": opt_g.state_dict(), "d": {} if opt_d is None else opt_d.state_dict()},
                "rng": rng_state(),
                "config": self.cfg.to_dict(),
                "training_config": self.training.to_dict(),
                "preprocess": self.preprocess,
                "train_info": {**self.info, "phases": list(self.phases), "epochs_per_phase": self.opt.epochs,
                               "batch_size": self.batch_size, "seed": self.opt.seed, "jitter": self.jitter,
                               "augment": self.opt.augment.to_dict(),
                               "betas": list(self.opt.betas)},
            }
            save_checkpoint(self.run_dir / CHECKPOINT_NAME, payload)
        self.ctx.barrier()

    def _batches(self, phase_index: int, epoch: int):
        """This epoch's batches of (indices, offsets, augmentation rng): shuffled and jittered from the
        epoch's seed; the randomisation draws from its own stream of the same seed."""
        es = epoch_seed(self.opt.seed, phase_index, epoch)
        pool = self.train_data.samples_for(OUTPUTS[self.phases[phase_index]])  # the LGE phase: samples with an LGE
        order = pool[sampler_indices(len(pool), self.ctx, seed=es, epoch=0)]
        gen = np.random.default_rng([es, self.ctx.rank])
        aug_rng = np.random.default_rng([es, self.ctx.rank, 1])
        for i in range(0, len(order), self.batch_size):
            idx = order[i : i + self.batch_size]
            offsets = gen.integers(-self.jitter, self.jitter + 1, size=(len(idx), 2))
            yield idx, offsets, aug_rng

    def _to_batch(self, idx, offsets, aug_rng) -> Batch:
        cine, lge, lab = self.train_data.crops(idx, offsets)
        if not self.training.systole_weight:
            cine, lge, lab = augment_batch(cine, lge, lab, aug_rng, self.opt.augment)
            systole = None
        else:  # the end-systolic labels move with the end-diastolic ones
            planes = np.stack([lab, self.train_data.systole_crops(idx, offsets)], axis=1)  # (B, 2, S, S)
            cine, lge, planes = augment_batch(cine, lge, planes, aug_rng, self.opt.augment)
            lab, systole = planes[:, 0], torch.from_numpy(np.ascontiguousarray(planes[:, 1])).to(self.device)
        d = self.device
        return Batch(cine=torch.from_numpy(cine).to(d), lge=torch.from_numpy(lge)[:, None].to(d),
                     labels=torch.from_numpy(np.ascontiguousarray(lab)).to(d), systole=systole)

    def validate(self, model, phase: str | None = None) -> dict:
        """Validation figures of the generators trained up to `phase` (None: all); the metrics CSV leaves the
        others empty (phase I's validation does not run the untrained G_Sys and G_Seg)."""
        cine, lge, lab = self.val_data.centred()
        if len(cine) == 0:
            return dict.fromkeys(EVAL_KEYS, math.nan)
        last = phase if phase in PROGRESSIVE_PHASES else "seg"
        return evaluate(model, cine, lge, lab, self.device, self.opt.eval_batch_size, has_lge=self.val_data.has_lge,
                        last=last)

    # ------------------------------------------------------------------------------------------
    def run(self, on_epoch_end: EpochCallback | None = None) -> TrainResult:
        cfg, training, opt = self.cfg, self.training, self.opt
        make_deterministic()
        seed_everything(opt.seed)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        model = build_generators(cfg).to(self.device)
        discs = build_discriminators(cfg).to(self.device) if training.adversarial else None
        note = precision_note(training.precision, self.device)
        if note and self._log_enabled():
            print(note, flush=True)

        start_phase, start_epoch, saved_opt, saved_plan = 0, 0, None, 0
        if opt.init_generators is not None:
            model.load_state_dict(opt.init_generators)
        if opt.first_phase is not None:
            if opt.first_phase not in self.phases:
                raise InputError(f"first phase {opt.first_phase!r}: choose one of {', '.join(self.phases)}")
            start_phase = self.phases.index(opt.first_phase)
        ckpt_path = self.run_dir / CHECKPOINT_NAME
        if opt.resume and ckpt_path.exists():
            ck = load_checkpoint(ckpt_path, cfg, training)
            changed = opt.augment.differences(ck["train_info"].get("augment", {}))
            if changed:  # the same run must go on with the same randomisation (--no-augment, --p-dihedral)
                raise CheckpointError(f"{ckpt_path}: the run was started with other randomisation options "
                                      f"(differs in {', '.join(changed)}); resume with the options it was started with")
            model.load_state_dict(ck["generators"])
            if discs is not None and ck["discriminators"]:
                discs.load_state_dict(ck["discriminators"])
            set_rng_state(ck["rng"])
            start_phase, start_epoch = int(ck["phase_index"]), int(ck["epoch"])
            saved_plan = int(ck.get("planned_epochs") or 0)
            saved_opt = ck["optimizers"]
            if self.ctx.is_main:
                self._trim_csv(start_phase, start_epoch)
            if start_epoch >= (saved_plan or opt.epochs):
                start_phase, start_epoch, saved_opt, saved_plan = start_phase + 1, 0, None, 0
        elif self.ctx.is_main and (self.run_dir / METRICS_NAME).exists():
            (self.run_dir / METRICS_NAME).unlink()

        # --max-minutes is shared by the phases still to train (equally, or by training.budget_shares), so
        # that every phase gets trained; a phase that ends early leaves its time to the phases after it.
        t_run = time.perf_counter()
        budget_hit = False
        epochs_run = 0
        last: dict = {}
        for pi in range(start_phase, len(self.phases)):
            phase = self.phases[pi]
            keys = OUTPUTS[phase]
            minutes_left = None if opt.max_minutes is None else max(opt.max_minutes - (time.perf_counter() - t_run) / 60.0, 0.0)
            phase_budget = phase_budgets(training, minutes_left, len(self.phases), pi)[pi]
            self._report_skipped(phase)
            t_phase = time.perf_counter()
            gen = trainable_generator(model, phase)
            if training.warm_start and phase in ("sys", "seg") and not (pi == start_phase and start_epoch > 0):
                copied = warm_start(gen, model.pri)
                if self._log_enabled() and not opt.quiet:
                    print(f"{phase}: {copied} parameter tensors initialised from the trained pri generator", flush=True)
            model.requires_grad_(False)
            gen.requires_grad_(True)
            opt_g = make_optimizer(training, gen.parameters(), opt.betas)
            phase_lr = phase_learning_rate(training, pi, len(self.phases))
            d_params = [p for k in keys for p in discs[k].parameters()] if discs is not None else []
            # the phase's discriminator learns at the phase's rate too (constant): both players of a phase at one
            # rate (a slower phase III with a full-rate D_Seg saw D out-learn G; slowing both did not pay either:
            # Resources/results/candidate_seg_lr/README.md)
            opt_d = torch.optim.Adam(d_params, lr=phase_lr, betas=opt.betas) if d_params else None
            first = start_epoch if pi == start_phase else 0
            if pi == start_phase and saved_opt is not None and start_epoch > 0:
                opt_g.load_state_dict(saved_opt["g"])
                if opt_d is not None and saved_opt["d"]:
                    opt_d.load_state_dict(saved_opt["d"])
            gen_w = self.ctx.wrap(gen)
            if discs is not None:
                discs.requires_grad_(True)
            # D_Seg's size head is unused by the D loss when the auxiliary loss is off
            unused = phase in ("seg", "joint") and not training.auxiliary_loss
            d_w = {k: self.ctx.wrap(discs[k], find_unused=unused) for k in keys} if discs is not None else {}
            # The phase's epoch plan: --epochs, or with a time budget as many as fit, re-planned after
            # every epoch from the median epoch time so far (machines are shared: the first epoch can be
            # twice the rest); the learning rate decays over the current plan; a resumed run keeps its plan.
            planned = saved_plan if (pi == start_phase and saved_plan) else opt.epochs
            replan = phase_budget is not None and not (pi == start_phase and saved_plan)
            epoch_times: list[float] = []
            val_times: list[float] = []
            ep = first
            self._planned = planned
            while ep < planned:
                set_learning_rate(opt_g, scheduled_lr(training, ep, planned, phase_lr))
                t_epoch = time.perf_counter()
                last = self._train_epoch(model, discs, gen_w, d_w, opt_g, opt_d, pi, ep)
                train_s = time.perf_counter() - t_epoch
                validated = (ep + 1 - first) % opt.validate_every == 0 or ep == first
                if validated:
                    val_times.append(self._validate_into(last, model, phase))
                # an epoch costs its training and, amortised, the validations that come every validate_every epochs
                epoch_times.append(train_s + (statistics.mean(val_times) / opt.validate_every if val_times else 0.0))
                if replan:
                    planned = self._planned = fitting_epochs(phase_budget * 60.0, statistics.median(epoch_times), ep + 1 - first,
                                                             opt.epochs - first, time.perf_counter() - t_phase) + first
                over_budget = phase_budget is not None and (time.perf_counter() - t_phase) / 60.0 >= phase_budget * 1.1
                stopping = opt.stop_after_epochs is not None and epochs_run + 1 >= opt.stop_after_epochs
                if not validated and (ep + 1 >= planned or over_budget or stopping):
                    self._validate_into(last, model, phase)  # a phase's (or an invocation's) last epoch is always validated
                last["seconds"] = time.perf_counter() - t_epoch
                self._record(last)
                self._save(model, discs, opt_g, opt_d, pi, ep + 1, planned)
                ep += 1
                epochs_run += 1
                if on_epoch_end is not None:
                    on_epoch_end(phase, ep, last)
                if stopping:
                    return self._finish("stopped", epochs_run, last, model)
                if over_budget:
                    budget_hit = True
                    break  # well past this phase's share of the budget: go on with the next phase
            budget_hit = budget_hit or planned < opt.epochs
        return self._finish("budget" if budget_hit else "finished", epochs_run, last, model)

    def _report_skipped(self, phase: str) -> None:
        """Samples without a real LGE are left out of a phase that trains the LGE output: count and say so."""
        used = len(self.train_data.samples_for(OUTPUTS[phase]))
        skipped = len(self.train_data) - used
        if not skipped:
            return
        if used == 0:
            raise InputError(f"phase {phase}: none of the {skipped} training samples has an LGE (lge.nii.gz), "
                             "so the synthesis phase cannot train; start from a later phase (fine-tuning) or add LGE")
        self.info.setdefault("samples_without_lge", {})[phase] = skipped
        if self._log_enabled() and not self.opt.quiet:
            print(f"{phase}: {skipped} of {len(self.train_data)} training samples have no LGE and are skipped in this phase")

    def _finish(self, status: str, epochs_run: int, last: dict, model) -> TrainResult:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        return TrainResult(status=status, epochs_run=epochs_run, last_metrics=last, model=model)

    def _train_epoch(self, model, discs, gen_w, d_w, opt_g, opt_d, pi: int, ep: int) -> dict:
        """One pass over the training batches of phase `pi`: the metrics row without the validation figures."""
        phase = self.phases[pi]
        seed_everything(epoch_seed(self.opt.seed, pi, ep))
        model.eval()  # the frozen earlier generators run in inference mode (BatchNorm's running statistics)
        trainable_generator(model, phase).train()
        if discs is not None:
            discs.train()
        sums: dict[str, float] = {}
        n_seen = 0
        batches = list(self._batches(pi, ep))
        bar = self._progress(len(batches), f"{phase} {ep + 1}/{self._planned}")
        for idx, offsets, aug_rng in batches:
            b = self._to_batch(idx, offsets, aug_rng)
            stats = train_step(model, discs, gen_w, d_w, opt_g, opt_d, phase, b, self.losses, self.training)
            for k, v in stats.items():
                sums[k] = sums.get(k, 0.0) + v * len(idx)
            n_seen += len(idx)
            bar.set_postfix({k: f"{v:.3g}" for k, v in stats.items() if k in ("loss_g", "loss_d")})
            bar.update(1)
        bar.close()
        means = {k: self.ctx.all_mean(v / max(n_seen, 1)) for k, v in sums.items()}
        return {"phase": phase, "phase_index": pi, "epoch": ep + 1, "samples": n_seen * self.ctx.world_size, **means}

    def _validate_into(self, row: dict, model, phase: str) -> float:
        """Adds the validation figures of the generators trained so far to `row` (main process); returns the seconds it took."""
        t0 = time.perf_counter()
        if self.ctx.is_main:
            row.update(self.validate(model, phase))
        return time.perf_counter() - t0

    def _record(self, row: dict) -> None:
        """The epoch's row: metrics CSV, console line and TensorBoard (main process); figures not computed stay empty."""
        if not self.ctx.is_main:
            return
        phase, ep, pi = row["phase"], row["epoch"] - 1, row["phase_index"]
        self._write_csv(row)
        if not self.opt.quiet:
            shown = {"phase": phase, "loss_g": row.get("loss_g"), "loss_d": row.get("loss_d"),
                     "mask_dice": row.get("mask_dice_mean"), "ssim": row.get("lge_ssim"),
                     "seg_dice": row.get("seg_dice_mean"), "seg_acc": row.get("seg_accuracy")}
            print(f"{phase} epoch {ep + 1}/{self._planned} ({row['seconds']:.0f} s): "
                  + ", ".join(f"{k} {v:.4g}" for k, v in shown.items() if isinstance(v, float)), flush=True)
        tb = self._tb()
        if tb is not None:
            step = pi * self.opt.epochs + ep + 1
            for k, v in row.items():
                if k not in ("phase", "phase_index", "epoch", "seconds") and isinstance(v, float) and math.isfinite(v):
                    tb.add_scalar(f"{phase}/{k}", v, step)
            tb.flush()
