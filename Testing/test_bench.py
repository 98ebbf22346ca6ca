"""Benchmark plumbing on the tiny configuration (figures are checked for sense, never for speed)."""
from __future__ import annotations

import torch

from evaluation.bench import flops_per_slice, measure_one, print_table
from pscgan.nn.cascade import build_generators
from pscgan.nn.config import get_config


def test_flop_count_is_the_sum_of_the_phases():
    cfg = get_config("tiny")
    model = build_generators(cfg).eval()
    total = flops_per_slice(model, cfg)
    from torch.utils.flop_counter import FlopCounterMode

    x = torch.zeros(1, cfg.frames, cfg.size, cfg.size)
    parts = 0
    with torch.no_grad():
        mask = model.pri(x, None)
        lge = model.sys(x, torch.softmax(mask, 1))
        for gen, cond in ((model.pri, None), (model.sys, torch.softmax(mask, 1)), (model.seg, lge)):
            c = FlopCounterMode(display=False)
            with c:
                gen(x, cond)
            parts += c.get_total_flops()
    assert total == parts > 0


def test_measure_one_reports_every_figure(capsys):
    r = measure_one("tiny", "cpu", threads=1, quick=True)
    assert r["latency_ms_per_slice"] > 0 and r["gflop_per_slice"] > 0 and r["matmul_gflops"] > 0
    assert abs(r["ratio_to_matmul"] - r["achieved_gflops"] / r["matmul_gflops"]) < 1e-3
    assert set(r["train_samples_per_s"]) == {"pri", "sys", "seg"}
    assert all(v > 0 for v in r["train_samples_per_s"].values())
    assert r["parameters"] == sum(p.numel() for p in build_generators(get_config("tiny")).parameters())
    print_table([r])
    assert "tiny" in capsys.readouterr().out
