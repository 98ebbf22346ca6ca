"""Cases without an LGE (a Slicer export without a real LGE) train the segmentation phases only: the
synthesis phase skips them, says how many, and never sees a stand-in LGE."""
from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_training_trainer import synthetic_arrays  # noqa: E402

from pscgan.errors import InputError  # noqa: E402
from pscgan.nn.config import get_config  # noqa: E402
from training.arrays import RoiArrays  # noqa: E402
from training.config import get_training_config  # noqa: E402
from training.trainer import CHECKPOINT_NAME, METRICS_NAME, Trainer, TrainOptions  # noqa: E402


def test_case_folder_without_lge_loads_with_its_flag(tmp_path):
    from pscgan.phantom import generate_dataset
    from pscgan.preprocess import PreprocessConfig
    from training.data import load_dataset

    data = tmp_path / "data"
    generate_dataset(data, cases=2, seed=4, progress=False)
    cases = sorted(p for p in data.iterdir() if p.is_dir())
    (cases[1] / "lge.nii.gz").unlink()
    arrays = load_dataset(data, PreprocessConfig(), margin=2)
    assert arrays.has_lge.tolist() == [True, False]
    assert not arrays.lge[1].any() and arrays.lge[0].any()
    cached = load_dataset(data, PreprocessConfig(), margin=2)  # the cache keeps the flags
    assert cached.has_lge.tolist() == [True, False]
    assert arrays.subset([1, 0]).has_lge.tolist() == [False, True]


def test_synthesis_phase_skips_samples_without_lge_and_reports_them(tmp_path):
    cfg, training = get_config("tiny"), get_training_config("tiny").with_changes(batch_size=2)
    data = synthetic_arrays(6, cfg)
    train = RoiArrays(cine=data.cine[:4], lge=data.lge[:4], labels=data.labels[:4], margin=data.margin,
                      has_lge=[True, False, True, False])
    seen_sys = []
    trainer = Trainer(cfg, training, train, data.subset([4, 5]), tmp_path, TrainOptions(epochs=1, quiet=True))
    to_batch = trainer._to_batch

    def spy(idx, offsets, *rest):  # rest: the batch's augmentation generator (training.augment)
        if trainer._current_phase == "sys":
            seen_sys.extend(int(i) for i in idx)
        return to_batch(idx, offsets, *rest)

    epoch = trainer._train_epoch

    def track(model, discs, gen_w, d_w, opt_g, opt_d, pi, ep):
        trainer._current_phase = trainer.phases[pi]
        return epoch(model, discs, gen_w, d_w, opt_g, opt_d, pi, ep)

    trainer._to_batch, trainer._train_epoch = spy, track
    assert trainer.run().status == "finished"
    assert sorted(seen_sys) == [0, 2]  # only the samples with a real LGE
    with open(tmp_path / METRICS_NAME) as fh:
        samples = {r["phase"]: int(r["samples"]) for r in csv.DictReader(fh)}
    assert samples == {"pri": 4, "sys": 2, "seg": 4}
    ck = torch.load(tmp_path / CHECKPOINT_NAME, weights_only=False)
    assert ck["train_info"]["samples_without_lge"] == {"sys": 2}


def test_no_lge_at_all_is_a_clear_error_for_the_synthesis_phase(tmp_path):
    cfg, training = get_config("tiny"), get_training_config("tiny").with_changes(batch_size=2)
    data = synthetic_arrays(3, cfg)
    train = RoiArrays(cine=data.cine[:2], lge=data.lge[:2], labels=data.labels[:2], margin=data.margin,
                      has_lge=[False, False])
    with pytest.raises(InputError, match="synthesis phase cannot train"):
        Trainer(cfg, training, train, data.subset([2]), tmp_path, TrainOptions(epochs=1, quiet=True)).run()
