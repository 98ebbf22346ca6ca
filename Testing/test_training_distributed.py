"""DistributedDataParallel for real: two CPU processes (gloo) under torchrun train one tiny epoch per
phase and must end with identical weights; only rank 0 writes the checkpoint and metrics."""
from __future__ import annotations

import csv
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    import numpy as np
    import torch

    from pscgan.nn.config import get_config
    from training.arrays import RoiArrays
    from training.config import get_training_config
    from training.distributed import setup
    from training.trainer import TrainOptions, Trainer

    torch.set_num_threads(1)
    out = Path(sys.argv[1])
    ctx = setup(torch.device("cpu"))
    cfg, training = get_config("tiny"), get_training_config("tiny").with_changes(batch_size=2)
    rng = np.random.default_rng(0)  # same data on every rank; the sampler splits it
    n, s = 6, cfg.size + 2
    labels = rng.integers(0, 4, (n, s, s)).astype(np.uint8)
    data = RoiArrays(cine=rng.uniform(-1, 1, (n, cfg.frames, s, s)).astype(np.float32),
                     lge=np.where(labels == 3, 0.8, -0.5).astype(np.float32), labels=labels, margin=1)
    trainer = Trainer(cfg, training, data.subset(range(5)), data.subset([5]), out, TrainOptions(epochs=1, seed=1, quiet=True,
                      tensorboard=False), ctx=ctx)
    result = trainer.run()
    torch.save(result.model.state_dict(), out / f"rank{ctx.rank}.pt")
    # one file per rank: the ranks share stdout, where their lines can interleave
    (out / f"rank{ctx.rank}.txt").write_text(f"world {ctx.world_size} rank {ctx.rank} {result.status}")
    ctx.close()
    """,
)


def test_two_gloo_processes_end_with_identical_weights(tmp_path: Path):
    script = tmp_path / "ddp_train.py"
    script.write_text(SCRIPT)
    out = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", str(script), str(out)],
        check=False, capture_output=True, text=True, env=env, timeout=300, cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    for rank in (0, 1):
        assert (out / f"rank{rank}.txt").read_text() == f"world 2 rank {rank} finished"
    a = torch.load(out / "rank0.pt", weights_only=True)
    b = torch.load(out / "rank1.pt", weights_only=True)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a), "ranks disagree"
    ck = torch.load(out / "checkpoint.pt", weights_only=True)
    assert all(torch.equal(ck["generators"][k], a[k]) for k in a)
    with open(out / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["phase"] for r in rows] == ["pri", "sys", "seg"]  # one row per epoch: rank 0 only
    assert all(int(r["samples"]) == 6 for r in rows)  # 5 samples padded to 3 per rank by the sampler
