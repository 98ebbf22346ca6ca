"""Rays from the LV centre (`pscgan.metrics.rays`): sampling only as far as the myocardium reaches gives the
same first wall crossing as sampling across the whole image."""
from __future__ import annotations

import math

import numpy as np
import pytest

from pscgan.metrics.rays import first_wall_run, ray_distances, sample_rays


def _walls(mask: np.ndarray, center, dist: np.ndarray, step: float):
    hit = sample_rays(mask, center, np.arange(720) / 2 + 0.25, dist, outside=False)
    has_wall, first, last = first_wall_run(hit, int(math.ceil(2.0 / step)))
    return has_wall, np.where(has_wall, dist[first], np.nan), np.where(has_wall, dist[last], np.nan)


@pytest.mark.parametrize("seed", range(6))
def test_rays_to_the_farthest_wall_pixel_find_the_same_walls_as_rays_across_the_image(seed):
    rng = np.random.default_rng(seed)
    rr, cc = np.mgrid[0:90, 0:110]
    center = (rng.uniform(30, 60), rng.uniform(30, 80))
    radius = np.hypot(rr - center[0], cc - center[1])
    mask = (radius > 8) & (radius < 8 + rng.uniform(3, 9)) & (rng.random(rr.shape) > 0.1)  # a ring with holes
    mask |= rng.random(rr.shape) > 0.995  # specks anywhere, the image's corners included
    step = 0.25
    short = ray_distances(mask, center, step)
    whole = np.arange(0.0, math.hypot(*mask.shape), step)
    assert short.size < whole.size
    for got, want in zip(_walls(mask, center, short, step), _walls(mask, center, whole, step)):
        np.testing.assert_array_equal(got, want)


def test_no_wall_pixel_gives_one_sample_at_the_centre():
    assert ray_distances(np.zeros((5, 5), bool), (2.0, 2.0), 0.25).tolist() == [0.0]
