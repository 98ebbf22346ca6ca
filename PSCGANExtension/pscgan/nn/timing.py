"""Wall-clock timings of a configuration on this machine (used for sizing `cpu` and by benchmarks).

`inference_ms_per_slice`: the full three-generator cascade, no gradients, median over runs after a
warm-up. `phase_train_step_s`: one generator forward+backward of phase II (the widest: mask
condition) plus its discriminator's forward+backward on real and fake, at the given batch.
"""
from __future__ import annotations

import statistics
import time

import torch

from .cascade import build_discriminators, build_generators
from .config import ModelConfig


def _median_time(fn, runs: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def inference_ms_per_slice(cfg: ModelConfig, batch: int = 1, runs: int = 10, threads: int = 2) -> float:
    torch.set_num_threads(threads)
    gens = build_generators(cfg).eval()
    x = torch.rand(batch, cfg.frames, cfg.size, cfg.size) * 2 - 1
    with torch.inference_mode():
        return 1000.0 * _median_time(lambda: gens(x), runs) / batch


def phase_train_step_s(cfg: ModelConfig, batch: int = 16, runs: int = 10, threads: int = 2) -> dict[str, float]:
    """Seconds for one generator step (G fwd+bwd, D fwd on fake) and one discriminator step."""
    torch.set_num_threads(threads)
    gens = build_generators(cfg)
    gen = gens.sys if cfg.progressive else gens.joint
    disc = build_discriminators(cfg)["sys"]
    k = cfg.num_classes
    x = torch.rand(batch, cfg.frames, cfg.size, cfg.size) * 2 - 1
    cond = torch.softmax(torch.randn(batch, k, cfg.size, cfg.size), dim=1)
    real = torch.rand(batch, 1, cfg.size, cfg.size) * 2 - 1

    def g_step() -> None:
        fake = gen(x, cond) if cfg.progressive else gen(x).lge
        score, _ = disc(fake)
        (fake.mean() - score.mean()).backward()

    def d_step() -> None:
        with torch.no_grad():
            fake = gen(x, cond) if cfg.progressive else gen(x).lge
        s_real, _ = disc(real)
        s_fake, _ = disc(fake)
        (s_fake.mean() - s_real.mean()).backward()

    return {"generator_step_s": _median_time(g_step, runs, 1), "discriminator_step_s": _median_time(d_step, runs, 1)}


def parameter_count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def main(argv: list[str] | None = None) -> int:
    """python -m pscgan.nn.timing [config ...]: parameter counts and timings on 2 threads."""
    import argparse

    from .config import get_config

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("configs", nargs="*", default=["cpu"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args(argv)
    for name in args.configs:
        cfg = get_config(name)
        gens, discs = build_generators(cfg), build_discriminators(cfg)
        print(f"{name}: generators {parameter_count(gens):,} parameters, discriminators {parameter_count(discs):,}")
        for batch in (1, 16):
            ms = inference_ms_per_slice(cfg, batch, args.runs, args.threads)
            print(f"  inference, batch {batch}: {ms:.1f} ms per slice ({args.threads} threads, median of {args.runs})")
        steps = phase_train_step_s(cfg, 16, args.runs, args.threads)
        print(f"  phase II step at batch 16: generator {steps['generator_step_s']:.2f} s, "
              f"discriminator {steps['discriminator_step_s']:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
