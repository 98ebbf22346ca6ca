"""End-to-end benchmark: `pscgan infer` on a phantom study, per-slice model latency, and a plain 3D U-Net.

    python -m evaluation.bench_e2e [--bundle PATH] [--config cpu] [--slices 12] [--repeats 5] [--threads 2]
                                   [--out bench_e2e.json]

1. A `--slices`-slice phantom study (pscgan.phantom.generate_study + write_study) in a temporary folder.
2. End-to-end: `pscgan.commands.infer.infer(...)` from reading the study to every output file written
   (model loading, preprocessing, three generators per slice, paste-back, metrics, report.png):
   median, min and max over `--repeats` runs.
3. Per-slice model latency: `Predictor.predict` on one (1, frames, size, size) ROI of that study,
   median over `--latency-repeats` runs after `--warmup` runs, torch threads = `--threads`.
3b. Where the end-to-end time goes: the stages of `pscgan infer` timed one by one, in its order, over
   `--repeats` runs (medians): loading the bundle, reading the study, `run_study` (LV localisation,
   preprocessing, the three generators, paste-back, metrics), writing the volumes, MRML files and metrics
   (`write_outputs` without the report) and drawing report.png.
4. The same latency for `pscgan.nn.baselines.UNet3D` (4-class logits) whose width is chosen so that its
   parameter count is closest to the bundle's three generators together (both counts reported),
   and the ratio PSCGAN / U-Net.
Without `--bundle` the shipped model is used; when none is shipped, a random-weight bundle of `--config`
is built and the output says so (timings do not depend on the weights' values).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class BenchSettings:
    bundle: Path | None = None
    config: str = "cpu"
    slices: int = 12
    repeats: int = 5
    threads: int = 2
    warmup: int = 3
    latency_repeats: int = 20
    device: str = "cpu"
    seed: int = 7


def _stats(values: list[float], digits: int = 4) -> dict:
    return {"median": round(statistics.median(values), digits), "min": round(min(values), digits),
            "max": round(max(values), digits), "runs": len(values)}


def _timed(fn: Callable[[], object], warmup: int, repeats: int, sync: Callable[[], None]) -> list[float]:
    """Wall-clock milliseconds of `repeats` calls after `warmup` untimed ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        sync()
        t = time.perf_counter()
        fn()
        sync()
        times.append((time.perf_counter() - t) * 1000.0)
    return times


def resolve_bundle(settings: BenchSettings, workdir: Path) -> tuple[Path, str]:
    """(bundle path, note): the given one, the shipped one, or a random-weight one of settings.config."""
    from pscgan.inference import default_bundle_path

    if settings.bundle is not None:
        return Path(settings.bundle), "given bundle"
    shipped = default_bundle_path()
    if shipped.is_file():
        return shipped, "shipped bundle"
    import torch

    from pscgan.checkpoint import save_bundle
    from pscgan.nn.cascade import build_generators
    from pscgan.nn.config import get_config

    torch.manual_seed(settings.seed)
    cfg = get_config(settings.config)
    path = workdir / f"random_{cfg.name}.safetensors"
    save_bundle(path, build_generators(cfg).eval(), cfg, {"frames": cfg.frames, "roi_size": cfg.size},
                {"trained": False, "note": "random weights for benchmarking"})
    return path, f"no shipped bundle: random-weight bundle of the '{cfg.name}' configuration (timings only)"


STAGES = ("load bundle", "read study", "run_study", "write files", "report.png")


def stage_seconds(study_dir: Path, bundle: Path, device: str, out: Path) -> dict[str, float]:
    """One pass of `pscgan infer`'s stages (`STAGES`), each timed on its own (seconds)."""
    from pscgan.inference import Predictor
    from pscgan.io.readers import read_cine
    from pscgan.outputs import write_outputs, write_report
    from pscgan.pipeline import run_study

    times: dict[str, float] = {}

    def timed(stage: str, fn: Callable[[], object]):
        t = time.perf_counter()
        value = fn()
        times[stage] = time.perf_counter() - t
        return value

    predictor = timed("load bundle", lambda: Predictor.load(bundle, device=device))
    study = timed("read study", lambda: read_cine(study_dir))
    result = timed("run_study", lambda: run_study(study, predictor))
    timed("write files", lambda: write_outputs(result, out, report=False))
    timed("report.png", lambda: write_report(result, out / "report_bench.png"))
    return times


def make_study(folder: Path, slices: int, seed: int) -> Path:
    from pscgan.phantom import generate_study, write_study

    return write_study(generate_study(seed, slices), folder)


def run_benchmark(settings: BenchSettings) -> dict:
    import torch

    from pscgan.commands.infer import infer
    from pscgan.inference import Predictor
    from pscgan.io.readers import read_cine
    from pscgan.nn.baselines import UNet3D, matching_base, parameter_count
    from pscgan.preprocess import prepare

    threads_before = torch.get_num_threads()
    torch.set_num_threads(settings.threads)
    try:
        with tempfile.TemporaryDirectory(prefix="pscgan-bench-e2e-") as tmp:
            work = Path(tmp)
            bundle, bundle_note = resolve_bundle(settings, work)
            study_dir = make_study(work / "study", settings.slices, settings.seed)

            e2e = []
            for i in range(settings.repeats):
                _, written, seconds = infer(study_dir, work / f"out{i}", checkpoint=bundle, device=settings.device, quiet=True)
                e2e.append(seconds)
            passes = [stage_seconds(study_dir, bundle, settings.device, work / f"stages{i}") for i in range(settings.repeats)]
            stages = {stage: round(statistics.median(p[stage] for p in passes), 4) for stage in STAGES}

            predictor = Predictor.load(bundle, device=settings.device)
            cfg = predictor.cfg
            study = read_cine(study_dir)
            roi = prepare(study, predictor.preprocess).cine[:1]  # (1, frames, size, size)
            dev = predictor.device
            sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
            pscgan_ms = _timed(lambda: predictor.predict(roi, batch_size=1), settings.warmup, settings.latency_repeats, sync)

            pscgan_params = parameter_count(predictor.model)
            linear_params = sum(parameter_count(m) for m in predictor.model.modules() if isinstance(m, torch.nn.Linear))
            base = matching_base(cfg, pscgan_params, out_channels=4)
            unet = UNet3D(cfg, 4, base).eval().to(dev)
            x = torch.from_numpy(np.ascontiguousarray(roi)).to(dev)

            def unet_forward():
                with torch.inference_mode():
                    torch.softmax(unet(x), dim=1).cpu()

            unet_ms = _timed(unet_forward, settings.warmup, settings.latency_repeats, sync)
    finally:
        torch.set_num_threads(threads_before)

    e2e_stats = _stats(e2e, 3)
    p_stats, u_stats = _stats(pscgan_ms, 2), _stats(unet_ms, 2)
    return {
        "bundle": str(bundle) if settings.bundle is not None or bundle_note == "shipped bundle" else None,
        "bundle_note": bundle_note,
        "config": cfg.name,
        "device": str(dev),
        "threads": settings.threads,
        "slices": settings.slices,
        "frames_in": study.num_frames,
        "roi_shape": list(roi.shape),
        "files_written": sorted(written),
        "e2e_seconds": e2e_stats,
        "e2e_seconds_per_slice": round(e2e_stats["median"] / settings.slices, 4),
        "e2e_stage_seconds": stages,
        "pscgan_ms_per_slice": p_stats,
        "pscgan_params": pscgan_params,
        "pscgan_linear_param_fraction": round(linear_params / max(pscgan_params, 1), 4),
        "unet_base_width": base,
        "unet_params": parameter_count(unet),
        "unet_ms_per_slice": u_stats,
        "ratio_pscgan_to_unet": round(p_stats["median"] / u_stats["median"], 3),
        "torch": torch.__version__,
        "cpu_count": os.cpu_count(),
        "machine": platform.processor() or platform.machine(),
    }


def format_table(r: dict) -> str:
    e, p, u = r["e2e_seconds"], r["pscgan_ms_per_slice"], r["unet_ms_per_slice"]
    lines = [
        f"bundle: {r['bundle_note']}  (config {r['config']}, device {r['device']}, {r['threads']} threads)",
        f"{'measure':<40}{'median':>10}{'min':>10}{'max':>10}",
        f"{'pscgan infer, ' + str(r['slices']) + ' slices (s)':<40}{e['median']:>10.3f}{e['min']:>10.3f}{e['max']:>10.3f}",
        *(f"{'  ' + stage + ' (s)':<40}{r['e2e_stage_seconds'][stage]:>10.3f}" for stage in STAGES),
        f"{'PSCGAN 3 generators, ms/slice':<40}{p['median']:>10.2f}{p['min']:>10.2f}{p['max']:>10.2f}",
        f"{'3D U-Net, ms/slice':<40}{u['median']:>10.2f}{u['min']:>10.2f}{u['max']:>10.2f}",
        f"parameters: PSCGAN {r['pscgan_params']:,} ({100 * r['pscgan_linear_param_fraction']:.1f} % in fully connected layers)  U-Net {r['unet_params']:,} (base width {r['unet_base_width']})",
        f"latency ratio PSCGAN / U-Net: {r['ratio_pscgan_to_unet']:.2f}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m evaluation.bench_e2e", description=__doc__.split("\n")[0])
    p.add_argument("--bundle", type=Path, default=None, help="model bundle (default: shipped, else random weights)")
    p.add_argument("--config", default="cpu", help="configuration of the random-weight bundle when none is shipped")
    p.add_argument("--slices", type=int, default=12)
    p.add_argument("--repeats", type=int, default=5, help="end-to-end runs")
    p.add_argument("--latency-repeats", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"))
    p.add_argument("--out", type=Path, default=Path("bench_e2e.json"))
    args = p.parse_args(argv)
    if args.slices < 1 or args.repeats < 1 or args.latency_repeats < 1 or args.threads < 1 or args.warmup < 0:
        print("error: --slices, --repeats, --latency-repeats and --threads must be at least 1", file=sys.stderr)
        return 2
    from pscgan.errors import PSCGANError

    settings = BenchSettings(bundle=args.bundle, config=args.config, slices=args.slices, repeats=args.repeats,
                             threads=args.threads, warmup=args.warmup, latency_repeats=args.latency_repeats,
                             device=args.device)
    try:
        result = run_benchmark(settings)
    except (PSCGANError, KeyError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(format_table(result))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
