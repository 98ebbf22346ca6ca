"""Domain randomisation of training batches (training.augment): shapes, ranges, determinism, geometry kept
together, photometric changes on the cine only, off is the identity, the CLI switch and picture."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from pscgan.preprocess import normalise
from training.augment import OFF, AugmentOptions, _curve_coefficients, _normalise_batch, _symmetry, augment_batch

B, T, S = 6, 25, 64
NO_CHANGE = dict(p_geometric=0.0, p_frames=0.0, p_phase=0.0, p_curve=0.0, p_bias=0.0, p_resolution=0.0,
                 p_noise=0.0, p_blur=0.0)
ALWAYS = dict.fromkeys(NO_CHANGE, 1.0)
PHOTOMETRIC = dict(NO_CHANGE, p_curve=1.0, p_bias=1.0, p_resolution=1.0, p_noise=1.0, p_blur=1.0)


def _disc(centre_rc, radius):
    rr, cc = np.mgrid[:S, :S]
    return (rr - centre_rc[0]) ** 2 + (cc - centre_rc[1]) ** 2 <= radius**2


def _batch(seed=0, label_values=(0, 1, 2, 3)):
    """A bright off-centre disc (labelled 1 and bright in the cine and LGE) in a ring of label 2, beating."""
    rng = np.random.default_rng(seed)
    cine = np.empty((B, T, S, S), np.float32)
    lge = np.empty((B, S, S), np.float32)
    labels = np.zeros((B, S, S), np.int64)
    for b in range(B):
        centre = (22 + 2 * b, 40 - b)
        for t in range(T):
            r = 9 - 3 * np.sin(np.pi * t / T) ** 2
            cine[b, t] = np.where(_disc(centre, r), 0.8, -0.6) + rng.normal(0, 0.02, (S, S))
        lge[b] = np.where(_disc(centre, 9), 0.9, -0.8)
        labels[b][_disc(centre, 13)] = 2
        labels[b][_disc(centre, 9)] = 1
        labels[b][_disc((45, 20), 4)] = 3
    values = np.asarray(label_values)
    labels = values[np.searchsorted([0, 1, 2, 3], labels)]  # relabel onto the allowed set
    return normalise(cine), lge, labels.astype(np.int64)


def _centroid(mask):
    rr, cc = np.nonzero(mask)
    return np.array([rr.mean(), cc.mean()])


def test_shapes_dtypes_ranges_kept_with_every_transform_on():
    cine, lge, labels = _batch()
    out = augment_batch(cine, lge, labels, np.random.default_rng(1), replace(AugmentOptions(), **ALWAYS))
    for o, i in zip(out, (cine, lge, labels)):
        assert o.shape == i.shape and o.dtype == i.dtype
    c, g, lab = out
    assert np.isfinite(c).all() and c.min() >= -1.0 and c.max() <= 1.0
    assert c.min() == -1.0 and c.max() == 1.0  # normalised as at inference: the percentiles map to -1 and 1
    assert g.min() >= lge.min() - 1e-6 and g.max() <= lge.max() + 1e-6
    assert set(np.unique(lab)) <= {0, 1, 2, 3}
    assert not np.array_equal(c, cine)


def test_same_rng_state_same_output_and_the_rng_advances_the_same():
    cine, lge, labels = _batch()
    r1, r2 = np.random.default_rng(7), np.random.default_rng(7)
    a, b = augment_batch(cine, lge, labels, r1), augment_batch(cine, lge, labels, r2)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert r1.bit_generator.state == r2.bit_generator.state
    c = augment_batch(cine, lge, labels, np.random.default_rng(8))
    assert not np.array_equal(a[0], c[0])
    # the advance does not depend on which transforms were drawn (exact resume needs a fixed stream)
    r3, r4 = np.random.default_rng(7), np.random.default_rng(7)
    augment_batch(cine, lge, labels, r3, replace(AugmentOptions(), **ALWAYS))
    augment_batch(cine, lge, labels, r4, replace(AugmentOptions(), **NO_CHANGE))
    assert r3.bit_generator.state == r4.bit_generator.state


def test_labels_come_only_from_the_original_label_set():
    cine, lge, labels = _batch(label_values=(0, 1, 3, 3))  # no label 2 in the input
    assert set(np.unique(labels)) == {0, 1, 3}
    for seed in range(3):
        _, _, lab = augment_batch(cine, lge, labels, np.random.default_rng(seed), replace(AugmentOptions(), **ALWAYS))
        assert set(np.unique(lab)) <= {0, 1, 3}
        assert lab.dtype == np.int64


def test_geometric_changes_move_cine_lge_and_labels_together():
    cine, lge, labels = _batch()
    geo = replace(AugmentOptions(), **dict(NO_CHANGE, p_geometric=1.0))
    c, g, lab = augment_batch(cine, lge, labels, np.random.default_rng(3), geo)
    moved = 0
    for b in range(B):
        before = _centroid(labels[b] == 1)
        label_c = _centroid(lab[b] == 1)
        cine_c = _centroid(c[b, 0] > 0.0)  # the bright disc at end-diastole (same radius as the label)
        lge_c = _centroid(g[b] > 0.0)
        np.testing.assert_allclose(cine_c, label_c, atol=0.5, err_msg=f"sample {b}: cine vs labels")
        np.testing.assert_allclose(lge_c, label_c, atol=0.5, err_msg=f"sample {b}: LGE vs labels")
        moved += np.linalg.norm(label_c - before) > 1.0
    assert moved >= B // 2  # the disc is off-centre, so rotations and scalings move it


def test_symmetries_move_cine_lge_and_labels_together_and_reach_all_eight():
    cine, lge, labels = _batch()
    opts = replace(AugmentOptions(), **NO_CHANGE, p_dihedral=1.0)
    seen = set()
    for seed in range(6):
        c, g, lab = augment_batch(cine, lge, labels, np.random.default_rng(seed), opts)
        for b in range(B):
            # the same pixel-exact symmetry of the input for all three (no interpolation)
            code = next(k for k in range(8) if np.array_equal(lab[b], _symmetry(torch.from_numpy(labels[b]), k).numpy()))
            np.testing.assert_array_equal(g[b], _symmetry(torch.from_numpy(lge[b]), code).numpy())
            # the cine up to the final normalisation, whose percentiles come from every 4th pixel of the new grid
            np.testing.assert_allclose(c[b], _symmetry(torch.from_numpy(cine[b]), code).numpy(), atol=5e-3)
            seen.add(code)
    assert seen == set(range(8))  # the pattern (off-centre disc, scar blob) has no symmetry, so codes are told apart


def test_symmetries_and_rotations_together_keep_labels_on_the_images():
    # every sample takes a symmetry and a rotation/scaling: the labels must follow both (the geometric step once
    # resampled the labels as they were before the symmetry)
    cine, lge, labels = _batch()
    opts = replace(AugmentOptions(), **dict(NO_CHANGE, p_geometric=1.0), p_dihedral=1.0)
    for seed in range(3):
        c, g, lab = augment_batch(cine, lge, labels, np.random.default_rng(seed), opts)
        for b in range(B):
            label_c, lge_c = _centroid(lab[b] == 1), _centroid(g[b] > 0.0)
            np.testing.assert_allclose(lge_c, label_c, atol=0.5, err_msg=f"seed {seed}, sample {b}: LGE vs labels")
            np.testing.assert_allclose(_centroid(c[b, 0] > 0.0), label_c, atol=0.5, err_msg=f"seed {seed}, sample {b}")


def test_several_label_maps_move_alike():
    cine, lge, labels = _batch()
    planes = np.stack([labels, np.minimum(labels, 2)], axis=1)  # (B, 2, S, S): e.g. end-diastole and end-systole
    opts = replace(AugmentOptions(), p_dihedral=0.5)
    _, _, lab = augment_batch(cine, lge, planes, np.random.default_rng(2), opts)
    assert lab.shape == planes.shape and lab.dtype == planes.dtype
    np.testing.assert_array_equal(lab[:, 1], np.minimum(lab[:, 0], 2))  # the same resampling of both maps
    _, _, alone = augment_batch(cine, lge, labels, np.random.default_rng(2), opts)
    np.testing.assert_array_equal(lab[:, 0], alone)  # and the same as the single map's


def test_cli_dihedral_probability(tmp_path):
    from pscgan.errors import InputError
    from training.__main__ import build_parser
    from training.cli_train import run_train

    base = ["train", "--data", str(tmp_path), "--out", str(tmp_path / "run")]
    assert build_parser().parse_args(base).p_dihedral == 0.0
    assert build_parser().parse_args([*base, "--p-dihedral", "0.5"]).p_dihedral == 0.5
    with pytest.raises(InputError, match=r"--p-dihedral 1\.5: give a probability between 0 and 1"):
        run_train(build_parser().parse_args([*base, "--p-dihedral", "1.5"]))


@pytest.mark.parametrize("switch", ["p_curve", "p_bias", "p_resolution", "p_noise", "p_blur", "p_frames", "p_phase"])
def test_each_photometric_and_temporal_change_alters_the_cine_only(switch):
    cine, lge, labels = _batch()
    opts = replace(AugmentOptions(), **dict(NO_CHANGE, **{switch: 1.0}), frames_range=(16, 18))
    c, g, lab = augment_batch(cine, lge, labels, np.random.default_rng(4), opts)
    np.testing.assert_array_equal(g, lge)
    np.testing.assert_array_equal(lab, labels)
    changed = [np.abs(c[b] - cine[b]).mean() > 0.01 for b in range(B)]
    assert sum(changed) >= B // 2, f"{switch}: changed samples {changed}"


def test_phase_shift_is_a_circular_shift_of_at_most_two_frames():
    cine, lge, labels = _batch()
    opts = replace(AugmentOptions(), **dict(NO_CHANGE, p_phase=1.0))
    c, _, _ = augment_batch(cine, lge, labels, np.random.default_rng(5), opts)
    shifts = []
    for b in range(B):
        errors = [np.abs(c[b] - normalise(np.roll(cine[b], -k, axis=0))).max() for k in range(-2, 3)]
        best = int(np.argmin(errors))
        assert errors[best] < 0.05, f"sample {b} is no circular shift of -2..2 frames: {errors}"
        shifts.append(best - 2)
    assert any(k != 0 for k in shifts)


def test_frame_count_resampling_changes_motion_but_keeps_end_diastole_close():
    cine, lge, labels = _batch()
    opts = replace(AugmentOptions(), **dict(NO_CHANGE, p_frames=1.0, frames_range=(16, 16)))
    c, _, _ = augment_batch(cine, lge, labels, np.random.default_rng(6), opts)
    assert not np.allclose(c, cine, atol=1e-3)  # 25 -> 16 -> 25 frames loses temporal detail
    np.testing.assert_allclose(c[:, 0], cine[:, 0], atol=0.05)  # frame 0 is kept by resample_frames


def test_off_and_disabled_are_the_identity_and_leave_the_rng_alone():
    cine, lge, labels = _batch()
    rng = np.random.default_rng(9)
    state = rng.bit_generator.state
    out = augment_batch(cine, lge, labels, rng, OFF)
    assert out[0] is cine and out[1] is lge and out[2] is labels
    assert rng.bit_generator.state == state
    empty = augment_batch(cine[:0], lge[:0], labels[:0], rng, AugmentOptions())
    assert [e.shape for e in empty] == [(0, T, S, S), (0, S, S), (0, S, S)]


def test_intensity_curves_are_monotone_with_fixed_ends():
    rng = np.random.default_rng(10)
    m = np.linspace(0.0, 1.0, 2001)
    for _ in range(50):
        coef = _curve_coefficients(rng.uniform(-0.4, 0.4), np.exp(rng.uniform(-0.5, 0.5, 5)))
        y = np.polynomial.polynomial.polyval(m, coef)
        assert abs(y[0]) < 1e-9 and abs(y[-1] - 1.0) < 1e-9
        assert np.all(np.diff(y) >= -1e-9)


def test_batched_normalisation_is_the_inference_normalisation():
    import torch

    x = np.random.default_rng(11).gamma(2.0, 1.0, (4, 5, 16, 16)).astype(np.float32)
    x[2] = 3.0  # constant sample: zeros
    x[3, :, :8] = 1.0  # coinciding low percentile... still a spread: min/max or percentiles as normalise decides
    got = _normalise_batch(torch.from_numpy(x), (0.5, 99.5)).numpy()
    want = np.stack([normalise(v, (0.5, 99.5)) for v in x])
    np.testing.assert_allclose(got, want, atol=2e-6)


def test_cli_no_augment_switch():
    from training.__main__ import build_parser

    base = ["train", "--data", "d", "--out", "o"]
    assert build_parser().parse_args(base).no_augment is False
    assert build_parser().parse_args([*base, "--no-augment"]).no_augment is True


def test_show_picture_and_its_bad_input(tmp_path, capsys):
    from pscgan.phantom import generate_dataset
    from training.augment_show import main

    assert main(["--show", str(tmp_path / "missing"), "--out", str(tmp_path / "a.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert "missing" in err and len(err.splitlines()) == 1
    generate_dataset(tmp_path / "data", cases=1, seed=2, progress=False)
    assert main(["--show", str(tmp_path / "data"), "--out", str(tmp_path / "a.png")]) == 0
    assert (tmp_path / "a.png").stat().st_size > 10_000
    with pytest.raises(SystemExit):
        main([])
