"""`python -m training curves`: validation curves read from the committed runs' metrics and drawn."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from pscgan.errors import InputError
from training.__main__ import main
from training.curves import draw_curves, read_curves, series

RESULTS = Path(__file__).resolve().parents[1] / "Resources" / "results"
PSCGAN_RUN = RESULTS / "train_cpu_metrics.csv"  # the shipped run: pri, sys, seg
UNET_RUN = RESULTS / "unet2d_two_cores" / "train_unet2d_metrics.csv"


def _rows(path: Path) -> list[dict]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_phases_in_order_and_x_summed_over_the_whole_run():
    rows = _rows(PSCGAN_RUN)
    run = read_curves(PSCGAN_RUN)
    assert [c.phase for c in run.phases] == ["pri", "sys", "seg"]
    assert sum(len(c.minutes) for c in run.phases) == len(rows)
    minutes = np.concatenate([c.minutes for c in run.phases])
    samples = np.concatenate([c.samples for c in run.phases])
    assert np.all(np.diff(minutes) > 0) and np.all(np.diff(samples) > 0)
    assert minutes[-1] == pytest.approx(sum(float(r["seconds"]) for r in rows) / 60.0)
    assert samples[-1] == pytest.approx(sum(float(r["samples"]) for r in rows))
    assert run.label == "train_cpu_metrics"


def test_each_figure_comes_from_the_phase_that_produces_it():
    run = read_curves(PSCGAN_RUN)
    scar = series(run, "scar Dice", "minutes")
    assert [(phase, output) for phase, output, _, _ in scar] == [("pri", "mask"), ("seg", "seg")]
    seg_rows = [r for r in _rows(PSCGAN_RUN) if r["phase"] == "seg"]
    np.testing.assert_allclose(scar[1][3], [float(r["seg_dice_scar"]) for r in seg_rows])
    assert [(phase, output) for phase, output, _, _ in series(run, "LGE SSIM", "samples")] == [("sys", "lge")]
    unet = read_curves(UNET_RUN, label="U-Net")
    assert [(p, o) for p, o, _, _ in series(unet, "scar Dice", "samples")] == [("unet", "seg")]
    assert series(unet, "LGE SSIM", "samples") == []  # the U-Net makes no LGE


def test_epochs_without_validation_are_left_out(tmp_path: Path):
    rows = _rows(UNET_RUN)[:6]
    for r in rows[1:5]:
        r["seg_dice_scar"] = ""  # --validate-every 5
    path = tmp_path / "metrics.csv"
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    (_, _, x, y), = series(read_curves(tmp_path), "scar Dice", "minutes")
    assert len(x) == len(y) == 2
    assert y[1] == pytest.approx(float(rows[5]["seg_dice_scar"]))


def test_draws_one_panel_per_figure_present(tmp_path: Path):
    import matplotlib.image

    out = draw_curves([read_curves(PSCGAN_RUN, "PSCGAN"), read_curves(UNET_RUN, "U-Net")], tmp_path / "c.png")
    image = matplotlib.image.imread(out)
    assert image.shape[1] == pytest.approx(4 * 4.2 * 110, abs=2)  # four panels (SSIM from the PSCGAN run)
    assert image[..., :3].std() > 0.05
    only_unet = draw_curves([read_curves(UNET_RUN)], tmp_path / "u.png", "samples")
    assert matplotlib.image.imread(only_unet).shape[1] == pytest.approx(3 * 4.2 * 110, abs=2)  # no SSIM panel


def test_command_writes_the_picture_and_bad_inputs_are_one_line(tmp_path: Path, capsys):
    out = tmp_path / "curves.png"
    assert main(["curves", str(PSCGAN_RUN), str(UNET_RUN), "--out", str(out), "--labels", "a,b", "--quiet"]) == 0
    assert out.stat().st_size > 10_000
    capsys.readouterr()
    assert main(["curves", str(tmp_path), "--out", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and str(tmp_path) in err and "metrics.csv" in err
    bad = tmp_path / "other.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="not a training metrics file"):
        read_curves(bad)
    assert main(["curves", str(PSCGAN_RUN), "--out", str(tmp_path / "y.png"), "--labels", "a,b"]) == 2
    assert "--labels gives 2 names for 1 runs" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists() and not (tmp_path / "y.png").exists()
