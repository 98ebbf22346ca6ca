"""`make bench` / `python -m evaluation.bench`: inference latency, peak memory, FLOPs and training throughput.

For each configuration (default cpu, unet2d and paper) on the CPU with `--threads` threads (default 2):
  - per-slice inference latency of the three generators: median of repeated single-slice runs after warm-up;
  - peak resident memory of a fresh process that builds the model and runs it (ru_maxrss), and its
    increase over the same process before the model was built;
  - FLOPs per slice (torch.utils.flop_counter.FlopCounterMode; counts matmul/convolution FLOPs);
  - this machine's float32 matmul throughput (GFLOP/s, 1024^3 matmul) and the ratio
    achieved-FLOP/s / matmul-FLOP/s, i.e. how far the model is from the machine's matmul speed;
  - training throughput (samples per second) of each phase over a few steps (2 D steps + 1 G step each),
    the FLOPs of a step per sample, the achieved training GFLOP/s and its ratio to the matmul speed,
    and from it the epochs per phase that fit the target budget (1000 phantom slices, 90 minutes). The steps
    run in the training configuration's precision (`cpu`: bfloat16 autocast where the machine has it,
    training/precision.py) while the ratio's reference stays the float32 matmul, so a bfloat16 step can
    read above what float32 arithmetic could reach.
The same figures on CUDA when a GPU is present. Prints a table and writes bench.json.
Each configuration is measured in its own subprocess so that peak memory is per configuration.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET_MS = 50.0  # cpu config, per slice, 2 cores
TARGET_CASES = 1000
TARGET_MINUTES = 90.0


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def matmul_gflops(device: str = "cpu", n: int = 1024, repeats: int = 5) -> float:
    import torch

    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    times = []
    for i in range(repeats + 2):
        _sync(device)
        t = time.perf_counter()
        a @ b
        _sync(device)
        if i >= 2:
            times.append(time.perf_counter() - t)
    return 2 * n**3 / statistics.median(times) / 1e9


def _sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def flops_per_slice(model, cfg, device: str = "cpu") -> int:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    x = torch.zeros(1, cfg.frames, cfg.size, cfg.size, device=device)
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(x)
    return int(counter.get_total_flops())


def latency_ms(model, cfg, device: str, warmup: int, repeats: int) -> float:
    import torch

    x = torch.randn(1, cfg.frames, cfg.size, cfg.size, device=device)
    times = []
    with torch.inference_mode():
        for i in range(warmup + repeats):
            _sync(device)
            t = time.perf_counter()
            model(x)
            _sync(device)
            if i >= warmup:
                times.append((time.perf_counter() - t) * 1000.0)
    return statistics.median(times)


def training_throughput(cfg, training, device: str, steps: int) -> tuple[dict[str, float], dict[str, float]]:
    """Samples per second of each phase (random data, the training configuration's batch size), and the FLOPs
    of one of its steps per sample (every forward and backward counted: frozen earlier generators,
    the discriminator steps, the generator step)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from pscgan.nn.cascade import build_discriminators, build_generators
    from training.phases import OUTPUTS, Batch, LossSet, phases_for, trainable_generator
    from training.trainer import train_step

    torch.manual_seed(0)
    model = build_generators(cfg).to(device).train()
    discs = build_discriminators(cfg).to(device).train() if training.adversarial else None
    losses = LossSet(training)
    bs = training.batch_size
    b = Batch(cine=torch.rand(bs, cfg.frames, cfg.size, cfg.size, device=device) * 2 - 1,
              lge=torch.rand(bs, 1, cfg.size, cfg.size, device=device) * 2 - 1,
              labels=torch.randint(0, 4, (bs, cfg.size, cfg.size), device=device))
    out, flops = {}, {}
    for phase in phases_for(cfg):
        gen = trainable_generator(model, phase)
        model.requires_grad_(False)
        gen.requires_grad_(True)
        opt_g = torch.optim.Adam(gen.parameters(), lr=training.learning_rate)
        d = {k: discs[k] for k in OUTPUTS[phase]} if discs is not None else {}
        opt_d = torch.optim.Adam([p for m in d.values() for p in m.parameters()], lr=training.learning_rate) if d else None
        times = []
        for i in range(steps + 1):  # first step is warm-up
            _sync(device)
            t = time.perf_counter()
            train_step(model, discs, gen, d, opt_g, opt_d, phase, b, losses, training)
            _sync(device)
            if i >= 1:
                times.append(time.perf_counter() - t)
        out[phase] = bs / statistics.median(times)
        counter = FlopCounterMode(display=False)
        with counter:
            train_step(model, discs, gen, d, opt_g, opt_d, phase, b, losses, training)
        flops[phase] = counter.get_total_flops() / bs
    return out, flops


def measure_one(name: str, device: str, threads: int, quick: bool) -> dict:
    """All figures of one configuration on one device, in this process."""
    import torch

    from pscgan.nn.cascade import build_generators
    from training.config import configs

    torch.set_num_threads(threads)
    base_rss = _rss_mib()
    cfg, training = configs(name)
    model = build_generators(cfg).to(device).eval()
    params = sum(p.numel() for p in model.parameters())
    heavy = name == "paper"
    warmup, repeats = (1, 3) if (quick or heavy) and device == "cpu" else (3, 20)
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    ms = latency_ms(model, cfg, device, warmup, repeats)
    flops = flops_per_slice(model, cfg, device)
    gflops_machine = matmul_gflops(device)
    result = {
        "config": name, "device": device, "threads": threads if device == "cpu" else None,
        "parameters": params, "latency_ms_per_slice": round(ms, 3), "repeats": repeats,
        "gflop_per_slice": round(flops / 1e9, 4), "achieved_gflops": round(flops / (ms / 1000.0) / 1e9, 3),
        "matmul_gflops": round(gflops_machine, 2),
    }
    result["ratio_to_matmul"] = round(result["achieved_gflops"] / gflops_machine, 4)
    if device.startswith("cuda"):
        result["peak_gpu_memory_mib"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    steps = 1 if (quick or (heavy and device == "cpu")) else 3
    sps, train_flops = training_throughput(cfg, training, device, steps)
    result["train_samples_per_s"] = {k: round(v, 3) for k, v in sps.items()}
    result["train_gflop_per_sample"] = {k: round(v / 1e9, 3) for k, v in train_flops.items()}
    result["train_achieved_gflops"] = {k: round(sps[k] * train_flops[k] / 1e9, 2) for k in sps}
    result["train_ratio_to_matmul"] = {k: round(sps[k] * train_flops[k] / 1e9 / gflops_machine, 3) for k in sps}
    seconds_per_epoch_all = sum(TARGET_CASES / v for v in sps.values())
    result["epochs_per_phase_in_90_min_on_1000"] = round(TARGET_MINUTES * 60.0 / seconds_per_epoch_all, 2)
    result["peak_rss_mib"] = round(_rss_mib(), 1)
    result["rss_increase_mib"] = round(_rss_mib() - base_rss, 1)
    if name == "cpu" and device == "cpu":
        result["target_latency_ms"] = TARGET_MS
        result["meets_latency_target"] = ms <= TARGET_MS
    return result


def _run_child(name: str, device: str, threads: int, quick: bool) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    cmd = [sys.executable, "-m", "evaluation.bench", "--one", name, "--device", device, "--threads", str(threads)]
    if quick:
        cmd.append("--quick")
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        return {"config": name, "device": device, "error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def print_table(results: list[dict], out=None) -> None:
    out = out or sys.stdout
    head = f"{'config':<8}{'device':<8}{'params':>11}{'ms/slice':>10}{'GFLOP':>9}{'GFLOP/s':>9}{'matmul':>9}{'ratio':>7}{'RSS MiB':>9}  train samples/s"
    print(head, file=out)
    for r in results:
        if "error" in r:
            print(f"{r['config']:<8}{r['device']:<8}  error: {r['error']}", file=out)
            continue
        sps = ", ".join(f"{k} {v:.2f} ({r['train_ratio_to_matmul'][k]:.0%} of matmul)" for k, v in r["train_samples_per_s"].items())
        mem = r.get("peak_gpu_memory_mib", r["peak_rss_mib"])
        print(f"{r['config']:<8}{r['device']:<8}{r['parameters']:>11,}{r['latency_ms_per_slice']:>10.2f}"
              f"{r['gflop_per_slice']:>9.3f}{r['achieved_gflops']:>9.2f}{r['matmul_gflops']:>9.1f}"
              f"{r['ratio_to_matmul']:>7.3f}{mem:>9.0f}  {sps}", file=out)
    for r in results:
        if r.get("meets_latency_target") is not None:
            print(f"cpu config on CPU: {r['latency_ms_per_slice']:.1f} ms per slice (target <= {TARGET_MS:.0f} ms): "
                  f"{'met' if r['meets_latency_target'] else 'NOT met'}; "
                  f"{r['epochs_per_phase_in_90_min_on_1000']} epochs per phase fit in {TARGET_MINUTES:.0f} min on {TARGET_CASES} slices",
                  file=out)


def run_bench(args) -> int:
    import torch

    results = []
    for name in [c.strip() for c in args.configs.split(",") if c.strip()]:
        results.append(_run_child(name, "cpu", args.threads, args.quick))
        if torch.cuda.is_available():
            results.append(_run_child(name, "cuda", args.threads, args.quick))
    print_table(results)
    Path(args.out).write_text(json.dumps({"results": results, "torch": torch.__version__,
                                          "cpu_count": os.cpu_count()}, indent=1))
    print(f"wrote {args.out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m evaluation.bench", description=__doc__.splitlines()[0])
    p.add_argument("--out", default="bench.json")
    p.add_argument("--configs", default="cpu,unet2d,paper")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--one", default=None, help=argparse.SUPPRESS)
    p.add_argument("--device", default="cpu", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.one:
        print(json.dumps(measure_one(args.one, args.device, args.threads, args.quick)))
        return 0
    return run_bench(args)


if __name__ == "__main__":
    sys.exit(main())
