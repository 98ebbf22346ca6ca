"""End-to-end benchmark: runs on a tiny random-weight model and writes every documented key (no timing assertion)."""
from __future__ import annotations

import json

import pytest
import torch

from evaluation.bench_e2e import main

KEYS = {
    "bundle", "bundle_note", "config", "device", "threads", "slices", "roi_shape", "files_written", "e2e_seconds",
    "e2e_seconds_per_slice", "pscgan_ms_per_slice", "pscgan_params", "pscgan_linear_param_fraction", "unet_base_width", "unet_params",
    "unet_ms_per_slice", "ratio_pscgan_to_unet", "e2e_stage_seconds",
}


def test_bench_e2e_tiny_writes_json_with_all_keys(tmp_path, capsys, monkeypatch):
    import pscgan.inference

    monkeypatch.setattr(pscgan.inference, "default_bundle_path", lambda: tmp_path / "absent.safetensors")
    threads = torch.get_num_threads()
    out = tmp_path / "bench_e2e.json"
    rc = main(["--config", "tiny", "--slices", "2", "--repeats", "1", "--latency-repeats", "2", "--warmup", "1",
               "--threads", "1", "--out", str(out)])
    assert rc == 0
    assert torch.get_num_threads() == threads  # the thread setting is restored
    r = json.loads(out.read_text())
    assert KEYS <= set(r)
    assert r["config"] == "tiny" and r["slices"] == 2 and "random-weight" in r["bundle_note"]
    assert r["roi_shape"] == [1, 8, 32, 32]  # the tiny configuration's input
    assert {"labels.nii.gz", "lge.nii.gz", "metrics.json"} <= set(r["files_written"])
    for key in ("e2e_seconds", "pscgan_ms_per_slice", "unet_ms_per_slice"):
        s = r[key]
        assert 0 < s["min"] <= s["median"] <= s["max"]
    # parameter counts: the U-Net is the closest width to the generators' total
    from pscgan.nn.baselines import UNet3D, parameter_count
    from pscgan.nn.cascade import build_generators
    from pscgan.nn.config import get_config

    cfg = get_config("tiny")
    assert r["pscgan_params"] == parameter_count(build_generators(cfg))
    assert r["unet_params"] == parameter_count(UNet3D(cfg, 4, r["unet_base_width"]))
    gap = abs(r["unet_params"] - r["pscgan_params"])
    for other in (r["unet_base_width"] - 1, r["unet_base_width"] + 1):
        if other >= 1:
            assert gap <= abs(parameter_count(UNet3D(cfg, 4, other)) - r["pscgan_params"])
    from evaluation.bench_e2e import STAGES

    stages = r["e2e_stage_seconds"]
    assert list(stages) == list(STAGES) and all(v > 0 for v in stages.values())
    assert sum(stages.values()) < 3 * r["e2e_seconds"]["max"]  # the stages are parts of one infer, not more
    assert r["ratio_pscgan_to_unet"] == pytest.approx(r["pscgan_ms_per_slice"]["median"] / r["unet_ms_per_slice"]["median"], rel=0.02)
    printed = capsys.readouterr().out
    assert "PSCGAN / U-Net" in printed and "report.png (s)" in printed


def test_bench_e2e_rejects_bad_arguments(tmp_path, capsys):
    assert main(["--slices", "0", "--out", str(tmp_path / "x.json")]) == 2
    assert "at least 1" in capsys.readouterr().err
