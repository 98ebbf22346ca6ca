"""Checkpoints and bundles: round trips, safe loading, and one clear CheckpointError per fault."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from pscgan import checkpoint as ck
from pscgan.errors import CheckpointError
from pscgan.nn.cascade import build_generators
from pscgan.nn.config import get_config


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    cfg = get_config("tiny")
    return cfg, build_generators(cfg)


@pytest.fixture()
def bundle(tmp_path: Path, tiny) -> Path:
    cfg, model = tiny
    path = tmp_path / "m.safetensors"
    ck.save_bundle(path, model, cfg, {"frames": cfg.frames, "roi_size": cfg.size}, {"note": "test"})
    return path


def test_bundle_round_trip_gives_identical_weights_and_configs(bundle: Path, tiny):
    cfg, model = tiny
    state, cfg2, _pre, info = ck.load_bundle(bundle)
    assert cfg2 == cfg
    assert info["note"] == "test"
    ref = model.state_dict()
    assert set(state) == set(ref)
    assert all(torch.equal(state[k], ref[k]) for k in ref)
    # the sidecar holds the whole file's SHA-256, independently recomputed here
    import hashlib

    assert (bundle.parent / (bundle.name + ".sha256")).read_text().split()[0] == hashlib.sha256(bundle.read_bytes()).hexdigest()


@pytest.mark.skipif(__import__("shutil").which("sha256sum") is None, reason="needs coreutils' sha256sum")
def test_sidecar_passes_sha256sum_check_in_the_bundles_folder(bundle: Path):
    import subprocess

    proc = subprocess.run(["sha256sum", "-c", bundle.name + ".sha256"], cwd=bundle.parent, check=False, capture_output=True, text=True)
    assert proc.returncode == 0 and f"{bundle.name}: OK" in proc.stdout, proc.stdout + proc.stderr


def test_bundle_checksum_mismatch_names_the_file(bundle: Path):
    with pytest.raises(CheckpointError, match=rf"{bundle.name}: checksum mismatch \(expected 000000"):
        ck.load_bundle(bundle, expected_sha256="0" * 64)


def test_flipped_byte_is_caught_by_the_sidecar(bundle: Path):
    data = bytearray(bundle.read_bytes())
    data[-10] ^= 0xFF
    bundle.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="checksum mismatch"):
        ck.load_bundle(bundle)


def test_flipped_weight_byte_without_sidecar_is_caught_by_the_tensor_hash(bundle: Path):
    Path(str(bundle) + ".sha256").unlink()
    data = bytearray(bundle.read_bytes())
    data[-10] ^= 0xFF  # inside the last tensor's bytes
    bundle.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="checksum mismatch"):
        ck.load_bundle(bundle)


def test_truncated_bundle(bundle: Path):
    Path(str(bundle) + ".sha256").unlink()
    bundle.write_bytes(bundle.read_bytes()[: bundle.stat().st_size // 2])
    with pytest.raises(CheckpointError, match=rf"{bundle.name}: truncated or not a safetensors file"):
        ck.load_bundle(bundle)


def test_not_a_safetensors_file(tmp_path: Path):
    p = tmp_path / "x.safetensors"
    p.write_text("hello, I am text")
    with pytest.raises(CheckpointError, match=r"x.safetensors: truncated or not a safetensors file"):
        ck.load_bundle(p)


def test_foreign_safetensors_file(tmp_path: Path):
    from safetensors.torch import save_file

    p = tmp_path / "foreign.safetensors"
    save_file({"weight": torch.zeros(3)}, str(p), metadata={"format": "pt"})
    with pytest.raises(CheckpointError, match=r"foreign.safetensors: not a PSCGAN bundle"):
        ck.load_bundle(p)


def test_configuration_that_does_not_match_the_weights(tmp_path: Path, tiny):
    cfg, model = tiny
    other = cfg.with_changes(name="tiny-wide", channels=(8, 8, 16, 16))
    p = tmp_path / "wrong.safetensors"
    ck.save_bundle(p, model, other, {}, {})
    with pytest.raises(CheckpointError, match=r"wrong.safetensors: configuration 'tiny-wide' does not match the weights"):
        ck.load_bundle(p)


def test_load_model_builds_the_generators_once_with_the_bundles_weights(bundle: Path, tiny, monkeypatch):
    cfg, model = tiny
    from pscgan.nn import cascade

    builds = []
    real_build = cascade.build_generators
    monkeypatch.setattr(cascade, "build_generators", lambda c: builds.append(c) or real_build(c))
    loaded, cfg2, _pre, info = ck.load_model(bundle)
    assert builds == [cfg] and cfg2 == cfg and info["note"] == "test" and not loaded.training
    ref = model.state_dict()
    assert all(torch.equal(loaded.state_dict()[k], ref[k]) for k in ref)


def test_load_model_refuses_weights_of_another_configuration(tmp_path: Path, tiny):
    cfg, model = tiny
    p = tmp_path / "wrong.safetensors"
    ck.save_bundle(p, model, cfg.with_changes(name="tiny-wide", channels=(8, 8, 16, 16)), {}, {})
    with pytest.raises(CheckpointError, match=r"wrong.safetensors: configuration 'tiny-wide' does not match the weights"):
        ck.load_model(p)


def test_missing_bundle(tmp_path: Path):
    with pytest.raises(CheckpointError, match=r"nope.safetensors: model bundle not found"):
        ck.load_bundle(tmp_path / "nope.safetensors")


def _payload(cfg, model) -> dict:
    opt = torch.optim.Adam(model.pri.parameters(), lr=1e-3)
    model.pri(torch.zeros(1, cfg.frames, cfg.size, cfg.size), None).sum().backward()
    opt.step()
    return {"phase": "pri", "phase_index": 0, "epoch": 1, "generators": model.state_dict(), "discriminators": {},
            "optimizers": {"g": opt.state_dict(), "d": {}}, "rng": {"torch": torch.get_rng_state()},
            "config": cfg.to_dict(), "preprocess": {"frames": cfg.frames}, "train_info": {"epochs_per_phase": 2}}


def test_checkpoint_loads_with_weights_only_and_round_trips(tmp_path: Path):
    cfg = get_config("tiny")
    model = build_generators(cfg)
    p = tmp_path / "checkpoint.pt"
    ck.save_checkpoint(p, _payload(cfg, model))
    raw = torch.load(p, weights_only=True)  # the safe loader reads it as is
    assert raw["format"] == ck.CHECKPOINT_FORMAT and raw["epoch"] == 1
    data = ck.load_checkpoint(p, cfg)
    assert all(torch.equal(data["generators"][k], v) for k, v in model.state_dict().items())
    assert data["optimizers"]["g"]["state"], "optimizer state survives"
    with pytest.raises(CheckpointError, match=r"checkpoint.pt: configuration 'cpu' does not match the checkpoint's 'tiny'"):
        ck.load_checkpoint(p, get_config("cpu"))


def test_corrupted_and_foreign_checkpoints(tmp_path: Path):
    cfg = get_config("tiny")
    model = build_generators(cfg)
    p = tmp_path / "checkpoint.pt"
    ck.save_checkpoint(p, _payload(cfg, model))
    half = tmp_path / "half.pt"
    half.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
    with pytest.raises(CheckpointError, match=r"half.pt: truncated or not a PSCGAN checkpoint"):
        ck.load_checkpoint(half)
    foreign = tmp_path / "foreign.pt"
    torch.save(model.state_dict(), foreign)
    with pytest.raises(CheckpointError, match=r"foreign.pt: not a PSCGAN checkpoint"):
        ck.load_checkpoint(foreign)
    unsafe = tmp_path / "unsafe.pt"
    torch.save({"format": ck.CHECKPOINT_FORMAT, "obj": Path("x")}, unsafe)  # an arbitrary class: refused
    with pytest.raises(CheckpointError, match=r"unsafe.pt: holds objects that are not safe to load"):
        ck.load_checkpoint(unsafe)
    tampered = torch.load(p, weights_only=True)
    first = next(iter(tampered["generators"]))
    tampered["generators"][first] = tampered["generators"][first] + 1
    bad = tmp_path / "tampered.pt"
    torch.save(tampered, bad)
    with pytest.raises(CheckpointError, match=r"tampered.pt: checksum mismatch"):
        ck.load_checkpoint(bad)
