"""evaluation.contour_alignment: the edge shift of a polygon and the best overlap shift of a mask are found
where they were put (synthetic images), and a bad --fixed-shift is a one-line error."""
from __future__ import annotations

import numpy as np
import pytest

from evaluation.contour_alignment import best_overlap_shift, dice, edge_shift, main, shifted


def _disc_image(centre_rc=(64.0, 64.0), radius=20.0, size=128) -> np.ndarray:
    rr, cc = np.mgrid[0:size, 0:size]
    return np.where(np.hypot(rr - centre_rc[0], cc - centre_rc[1]) < radius, 300.0, 80.0)


def _circle_xy(centre_rc, radius, n=60) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.column_stack([centre_rc[1] + radius * np.cos(t), centre_rc[0] + radius * np.sin(t)])  # (x, y)


@pytest.mark.parametrize("offset", [(0.0, 0.0), (1.5, -2.0), (-2.5, 1.0)])
def test_edge_shift_moves_a_displaced_contour_back_onto_the_edge(offset):
    image = _disc_image()
    xy = _circle_xy((64.0 + offset[0], 64.0 + offset[1]), 20.0)  # the contour drawn `offset` away from the edge
    assert edge_shift(image, xy) == pytest.approx((-offset[0], -offset[1]))


def test_best_overlap_shift_finds_the_displacement_and_shifted_fills_with_false():
    rr, cc = np.mgrid[0:80, 0:80]
    d = np.hypot(rr - 40, cc - 40)
    ring = (d >= 10) & (d < 15)
    moved = shifted(ring, -1, -2)  # a prediction 1 row up and 2 columns left of the reference
    assert dice(ring, moved) < 0.8
    assert best_overlap_shift(ring, moved) == (1, 2, pytest.approx(1.0))
    assert not shifted(np.ones((4, 4), bool), 0, 2)[:, :2].any()


def test_bad_fixed_shift_is_a_one_line_error(capsys, tmp_path):
    assert main([str(tmp_path), "--fixed-shift", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--fixed-shift '2'" in err
    assert main([str(tmp_path / "missing")]) == 2
    assert "Sunnybrook data folder not found" in capsys.readouterr().err
