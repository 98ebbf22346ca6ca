"""Architecture (pscgan.nn.config.ModelConfig) and training options (training.config.TrainingConfig):
named pairs, strict dicts, and old flat bundles and checkpoints that held both in one dict."""
from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import pytest
import torch

from pscgan import checkpoint as ck
from pscgan.errors import CheckpointError
from pscgan.inference import default_bundle_path
from pscgan.nn.cascade import build_generators
from pscgan.nn.config import CONFIGS, LEGACY_TRAINING_KEYS, ModelConfig, get_config, split_stored
from training.config import TRAINING_CONFIGS, TrainingConfig, configs, get_training_config
from training.export import export_run


def _flat(name: str) -> dict:
    """The one dict a bundle or checkpoint of `name` stored before the split (lists as JSON gives them)."""
    cfg, training = configs(name)
    legacy = {k: v for k, v in training.to_dict().items() if k in LEGACY_TRAINING_KEYS or k == "name"}  # options added later never were in one
    d = {**legacy, **cfg.to_dict(), "departures": [*cfg.departures, *training.departures]}
    d["cine_skip_channels"] = 0  # a retired key old bundles hold
    return json.loads(json.dumps(d))


def test_named_configurations_come_in_pairs_and_document_their_departures():
    assert set(CONFIGS) == set(TRAINING_CONFIGS) == {"paper", "cpu", "tiny", "unet2d"}
    for name in CONFIGS:
        cfg, training = configs(name)
        assert cfg.name == training.name == name
    paper = get_training_config("paper")
    assert paper.departures == () and paper.recon_weight == 0 and paper.learning_rate == 1e-3 and paper.adversarial
    assert len(get_training_config("cpu").departures) >= 1 and len(get_training_config("unet2d").departures) >= 1
    with pytest.raises(KeyError, match="unknown configuration 'nope'"):
        get_training_config("nope")


def test_the_two_dataclasses_share_only_name_and_departures():
    arch = {f.name for f in fields(ModelConfig)}
    train = {f.name for f in fields(TrainingConfig)}
    assert arch & train == {"name", "departures"}
    assert set(LEGACY_TRAINING_KEYS) <= train and not set(LEGACY_TRAINING_KEYS) & arch
    assert "adversarial" in train and "disc_channels" in arch


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_both_round_trip_through_json(name):
    cfg, training = configs(name)
    assert ModelConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    assert TrainingConfig.from_dict(json.loads(json.dumps(training.to_dict()))) == training


def test_unknown_keys_are_rejected_by_name():
    with pytest.raises(ValueError, match=r"unknown model configuration keys \['bogus'\]"):
        ModelConfig.from_dict({**get_config("tiny").to_dict(), "bogus": 1})
    with pytest.raises(ValueError, match=r"unknown model configuration keys \['learning_rate'\]"):
        ModelConfig.from_dict({**get_config("tiny").to_dict(), "learning_rate": 1e-3})  # a training key
    with pytest.raises(ValueError, match=r"unknown training configuration keys \['channels'\]"):
        TrainingConfig.from_dict({**get_training_config("tiny").to_dict(), "channels": [4]})
    with pytest.raises(ValueError, match=r"unknown model configuration keys \['bogus'\]"):
        ModelConfig.from_stored({**_flat("tiny"), "bogus": 1})  # an old flat dict: training keys only are dropped


def test_an_old_flat_dict_splits_into_architecture_and_training():
    for name in CONFIGS:
        arch, training = split_stored(_flat(name))
        assert set(training) == set(LEGACY_TRAINING_KEYS)
        cfg = ModelConfig.from_dict(arch)
        assert cfg.with_changes(departures=()) == get_config(name).with_changes(departures=())
        assert cfg.departures == get_config(name).departures + get_training_config(name).departures  # kept as stored
        read, named = TrainingConfig.from_dict({"name": name, **training}), get_training_config(name)
        assert {k: getattr(read, k) for k in LEGACY_TRAINING_KEYS} == {k: getattr(named, k) for k in LEGACY_TRAINING_KEYS}
        newer = {f.name for f in fields(TrainingConfig)} - set(LEGACY_TRAINING_KEYS) - {"name", "departures"}
        assert {k: getattr(read, k) for k in newer} == {k: getattr(TrainingConfig(), k) for k in newer}  # never stored: defaults
        assert ModelConfig.from_stored(_flat(name)) == cfg
    assert ModelConfig.from_stored(get_config("cpu").to_dict()) == get_config("cpu")  # a new dict as it is


def test_a_retired_key_loads_only_where_it_built_nothing():
    flat = _flat("tiny")
    assert ModelConfig.from_stored({**flat, "cine_skip_channels": 8, "cine_path": [4]}).cine_path == (4,)
    with pytest.raises(ValueError, match="'cine_skip_channels' = 8 is no longer supported"):
        ModelConfig.from_stored({**flat, "cine_skip_channels": 8})


def test_a_new_bundle_stores_the_architecture_only(tmp_path: Path):
    from safetensors import safe_open

    cfg = get_config("tiny")
    path = tmp_path / "m.safetensors"
    ck.save_bundle(path, build_generators(cfg), cfg, {"frames": cfg.frames, "roi_size": cfg.size})
    with safe_open(str(path), "pt") as f:
        stored = json.loads(f.metadata()["model_config"])
    assert set(stored) == {f.name for f in fields(ModelConfig)}


def test_an_old_flat_bundle_loads(tmp_path: Path):
    cfg = get_config("tiny")
    model = build_generators(cfg)
    path = tmp_path / "old.safetensors"
    ck.save_bundle(path, model, _flat("tiny"), {"frames": cfg.frames, "roi_size": cfg.size})
    state, loaded, _pre, _info = ck.load_bundle(path)
    assert loaded == ModelConfig.from_stored(_flat("tiny"))
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())
    ck.save_bundle(path, model, {**_flat("tiny"), "bogus": 1}, {})
    with pytest.raises(CheckpointError, match=r"old.safetensors: unreadable model configuration \(unknown model configuration keys \['bogus'\]\)"):
        ck.load_bundle(path)


def _payload(config: dict, model, **extra) -> dict:
    return {"phase": "seg", "phase_index": 2, "epoch": 1, "planned_epochs": 1, "generators": model.state_dict(),
            "discriminators": {}, "optimizers": {"g": {}, "d": {}}, "rng": {}, "config": config,
            "preprocess": {"frames": 8, "roi_size": 32}, "train_info": {"epochs_per_phase": 1}, **extra}


def test_an_old_flat_checkpoint_loads_split_and_exports_the_architecture(tmp_path: Path):
    cfg, training = configs("tiny")
    model = build_generators(cfg)
    run = tmp_path / "run"
    run.mkdir()
    ck.save_checkpoint(run / "checkpoint.pt", _payload(_flat("tiny"), model))
    data = ck.load_checkpoint(run / "checkpoint.pt", ModelConfig.from_stored(_flat("tiny")), training)
    assert set(data["config"]) == {f.name for f in fields(ModelConfig)}  # training and retired keys dropped
    assert TrainingConfig.from_dict(data["training_config"]) == training.with_changes(departures=())
    export_run(run, tmp_path / "m.safetensors")
    _state, exported, _pre, _info = ck.load_bundle(tmp_path / "m.safetensors")
    assert exported == ModelConfig.from_stored(_flat("tiny"))


def test_a_checkpoint_holds_both_and_a_resume_checks_both(tmp_path: Path):
    cfg, training = configs("tiny")
    p = tmp_path / "checkpoint.pt"
    ck.save_checkpoint(p, _payload(cfg.to_dict(), build_generators(cfg), training_config=training.to_dict()))
    data = ck.load_checkpoint(p, cfg, training)
    assert TrainingConfig.from_dict(data["training_config"]) == training
    with pytest.raises(CheckpointError, match=r"checkpoint.pt: training configuration 'tiny' does not match the checkpoint's 'tiny' \(differs in batch_size\)"):
        ck.load_checkpoint(p, cfg, training.with_changes(batch_size=3))
    ck.save_checkpoint(p, _payload(_flat("tiny"), build_generators(cfg), training_config=training.to_dict()))
    with pytest.raises(CheckpointError, match=r"checkpoint.pt: damaged checkpoint \(training options .*learning_rate.* in 'config'\)"):
        ck.load_checkpoint(p)


@pytest.mark.skipif(not default_bundle_path().is_file(), reason="no shipped model in this checkout")
def test_the_shipped_bundle_is_todays_cpu_architecture():
    """The shipped bundle stores the architecture only (no training options) and it is today's `cpu`
    configuration, departures included."""
    from safetensors import safe_open

    _state, cfg, _pre, _info = ck.load_bundle(default_bundle_path())
    with safe_open(str(default_bundle_path()), "pt") as f:
        stored = json.loads(f.metadata()["model_config"])
    arch, training = split_stored(stored)
    assert training == {} and arch == stored
    assert cfg == ModelConfig.from_dict(arch) == get_config("cpu")
