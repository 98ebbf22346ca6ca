"""The auxiliary end-systole task (`--systole-weight`): its labels from the phantom's per-frame labels, the
systole head, its loss, and a run that trains and exports it."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from pscgan.inference import Predictor
from pscgan.io.case_folder import CINE_LABELS_FILE
from pscgan.nn.config import get_config
from pscgan.nn.generator import Generator
from pscgan.preprocess import PreprocessConfig
from training.__main__ import main
from training.arrays import UNKNOWN_LABEL
from training.data import load_dataset, systole_labels
from training.losses import mce, systole_mce


@pytest.fixture(scope="module")
def phantom_dir(tmp_path_factory) -> Path:
    from pscgan.phantom.dataset import generate_dataset

    out = tmp_path_factory.mktemp("phantom") / "data"
    generate_dataset(out, 4, seed=5, progress=False)
    return out


def test_end_systole_is_the_frame_with_the_least_blood_and_scar_counts_as_myocardium():
    frames = np.zeros((3, 2, 4, 4), np.uint8)  # (T, S, R, C)
    frames[:, :, 1:3, 1:3] = 1  # 4 blood-pool pixels in every frame ...
    frames[1, 0, 1, 1] = 3  # ... but 3 in frame 1 of slice 0 (scar took one)
    frames[2, 1, 1:3, 1] = 2  # ... and 2 in frame 2 of slice 1
    es = systole_labels(frames)
    np.testing.assert_array_equal(es[0], np.minimum(frames[1, 0], 2))
    np.testing.assert_array_equal(es[1], frames[2, 1])
    assert es[0, 1, 1] == 2 and es.dtype == np.uint8


def test_phantom_cases_give_end_systolic_labels_with_less_blood_and_a_thicker_wall(phantom_dir: Path):
    data = load_dataset(phantom_dir, PreprocessConfig(frames=8, roi_size=32), margin=2)
    assert data.systole is not None and data.systole.shape == data.labels.shape
    assert set(np.unique(data.systole)) <= {0, 1, 2}
    ed_blood, es_blood = (data.labels == 1).sum(axis=(1, 2)), (data.systole == 1).sum(axis=(1, 2))
    ed_wall, es_wall = (data.labels >= 2).sum(axis=(1, 2)), (data.systole == 2).sum(axis=(1, 2))
    assert (es_blood < 0.9 * ed_blood).all(), (es_blood, ed_blood)  # the ventricle contracts
    assert (es_wall > ed_wall).all(), (es_wall, ed_wall)  # and its wall thickens
    crops = data.systole_crops([0, 1], np.array([[1, -2], [0, 0]]))
    np.testing.assert_array_equal(crops[0], data.systole[0, 3:35, 0:32])  # cropped as the other arrays are


def test_cases_without_per_frame_labels_have_none(phantom_dir: Path, tmp_path: Path):
    other = tmp_path / "data"
    for case in sorted(phantom_dir.glob("case_*"))[:2]:
        shutil.copytree(case, other / case.name)
    (other / sorted(phantom_dir.glob("case_*"))[0].name / CINE_LABELS_FILE).unlink()
    data = load_dataset(other, PreprocessConfig(frames=8, roi_size=32), margin=2)
    assert (data.systole[0] == UNKNOWN_LABEL).all() and (data.systole[1] != UNKNOWN_LABEL).all()
    (other / sorted(phantom_dir.glob("case_*"))[1].name / CINE_LABELS_FILE).unlink()
    assert load_dataset(other, PreprocessConfig(frames=8, roi_size=32), margin=2).systole is None
    assert (data.subset([0]).systole_crops([0]) == UNKNOWN_LABEL).all()


def test_the_loss_leaves_out_samples_without_end_systolic_labels():
    logits = torch.randn(3, 3, 8, 8, requires_grad=True)
    target = torch.randint(0, 3, (3, 8, 8))
    target[1] = UNKNOWN_LABEL
    torch.testing.assert_close(systole_mce(logits, target, UNKNOWN_LABEL), mce(logits[[0, 2]], target[[0, 2]]))
    none = systole_mce(logits, torch.full_like(target, UNKNOWN_LABEL), UNKNOWN_LABEL)
    none.backward()
    assert float(none.detach()) == 0.0 and logits.grad is not None and float(logits.grad.abs().sum()) == 0.0


def test_the_systole_head_is_a_second_output_of_the_segmentation_generators_only():
    cfg = get_config("tiny").with_changes(systole_head=True)
    pri = Generator(cfg, out_channels=4)
    x = torch.zeros(2, cfg.frames, cfg.size, cfg.size)
    out, systole = pri(x, None, systole=True)
    assert out.shape == (2, 4, cfg.size, cfg.size) and systole.shape == (2, 3, cfg.size, cfg.size)
    torch.testing.assert_close(pri(x), out)  # inference reads the main head, unchanged by the option
    sys_gen = Generator(cfg, out_channels=1, condition_channels=4, output="tanh")
    with pytest.raises(ValueError, match="no systole head"):
        sys_gen(x, torch.zeros(2, 4, cfg.size, cfg.size), systole=True)


def test_a_run_with_the_systole_task_trains_its_head_and_exports_a_usable_bundle(phantom_dir: Path, tmp_path: Path):
    run = tmp_path / "run"
    common = ["--config", "tiny", "--data", str(phantom_dir), "--out", str(run), "--epochs", "1", "--batch-size", "2",
              "--quiet", "--no-tensorboard", "--val-fraction", "0.25"]
    assert main(["train", *common, "--systole-weight", "0.5"]) == 0
    ck = torch.load(run / "checkpoint.pt", weights_only=True)
    assert ck["config"]["systole_head"] is True and ck["training_config"]["systole_weight"] == 0.5
    assert "--systole-weight 0.5" in ck["config"]["departures"][-1]  # the bundle says how it departs from the paper
    fresh = Generator(get_config("tiny").with_changes(systole_head=True), out_channels=4)
    trained = ck["generators"]["pri.decoder.systole_head.weight"]
    assert not torch.equal(trained, fresh.decoder.systole_head.weight.detach())  # it was trained, not left
    assert "seg.decoder.systole_head.weight" in ck["generators"] and not any("sys.decoder.systole" in k for k in ck["generators"])
    bundle = tmp_path / "b.safetensors"
    assert main(["export", str(run), "--out", str(bundle)]) == 0
    out = Predictor.load(bundle, device="cpu").predict(np.zeros((1, 8, 32, 32), np.float32))
    assert out.labels.shape == (1, 32, 32)


def test_bad_systole_weights_are_one_line(phantom_dir: Path, tmp_path: Path, capsys):
    common = ["train", "--config", "tiny", "--data", str(phantom_dir), "--epochs", "1", "--quiet", "--no-tensorboard"]
    assert main([*common, "--out", str(tmp_path / "a"), "--systole-weight", "-1"]) == 2
    assert "--systole-weight -1.0: give a weight of 0 or more" in capsys.readouterr().err
    other = tmp_path / "data"
    for case in sorted(phantom_dir.glob("case_*"))[:2]:
        shutil.copytree(case, other / case.name, ignore=shutil.ignore_patterns(CINE_LABELS_FILE))
    assert main(["train", "--config", "tiny", "--data", str(other), "--out", str(tmp_path / "b"), "--epochs", "1",
                 "--quiet", "--no-tensorboard", "--systole-weight", "1"]) == 2
    err = capsys.readouterr().err
    assert "no training case has per-frame labels" in err and err.count("\n") == 1
