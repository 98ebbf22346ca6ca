"""Report pictures: bullseye, one-case and multi-slice report.png, `pscgan report` on a case folder."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import SimpleITK as sitk

import pscgan.report.bullseye
import pscgan.report.case
from pictures import bullseye_colour, capture_saved_figures, wedge_point
from pscgan.cli import main
from pscgan.errors import InputError
from pscgan.labels import BLOOD_POOL, COLORS, HEALTHY_MYOCARDIUM, SCAR
from pscgan.metrics.clinical import combine_segments, quantify_slice
from pscgan.report import draw_case_report, save_bullseye
from pscgan.report.bullseye import segment_wedge
from pscgan.report.case import choose_es_index, overlay_rgba

PNG = b"\x89PNG\r\n\x1a\n"


def heart(size=64, center=(31.0, 33.0), scar_deg=(60, 140), depth=4.0, inner=9.0, outer=15.0):
    r, c = np.mgrid[0:size, 0:size].astype(float)
    rad = np.hypot(r - center[0], c - center[1])
    ang = np.degrees(np.arctan2(-(r - center[0]), c - center[1])) % 360
    lab = np.zeros((size, size), np.uint8)
    lab[rad < inner] = 1
    lab[(rad >= inner) & (rad < outer)] = 2
    lab[(lab == 2) & (ang >= scar_deg[0]) & (ang < scar_deg[1]) & (rad < inner + depth)] = 3
    return lab


def cine_for(labels, frames=12, darkest=5):
    """Blood pool brightness falls towards frame `darkest` (a stand-in for end-systole)."""
    base = np.choose(labels, [0.2, 1.0, 0.3, 0.3]).astype(np.float32)
    out = np.repeat(base[None], frames, axis=0)
    for t in range(frames):
        out[t][labels == 1] *= 1.0 - 0.5 * math.cos(math.pi * (t - darkest) / frames) ** 2
    return out


def read_png(path):
    from matplotlib import image

    return image.imread(str(path))


def assert_bullseye_shows(saved, ax, values: dict) -> None:
    """Every segment's wedge in the PNG has the colour of its transmurality (grey when not measured)."""
    for segment in range(1, 17):
        value = values.get(segment)
        value = getattr(value, "transmurality_pct", value)
        got = saved.colour(ax, *wedge_point(segment))
        assert np.allclose(got, bullseye_colour(value), atol=0.03), (segment, value, got)


def _first_tile(ax) -> tuple[np.ndarray, np.ndarray]:
    """The first (top) slice's tile of a panel column: (grey values, overlay alpha); tiles are stacked top to
    bottom with rows of NaN between them."""
    shown = np.ma.filled(np.asarray(ax.images[0].get_array(), float), np.nan)
    gaps = np.flatnonzero(np.isnan(shown).all(axis=1))
    height = gaps[0] if len(gaps) else shown.shape[0]
    alpha = np.asarray(ax.images[1].get_array(), float)[:height, :, 3]
    return shown[:height], alpha


def _window(labels: np.ndarray, alpha: np.ndarray) -> tuple[slice, slice]:
    """Where in `labels` the tile was cropped from: the window whose tissue (labels > 0) is where the overlay is drawn."""
    h, w = alpha.shape
    for r in range(labels.shape[0] - h + 1):
        for c in range(labels.shape[1] - w + 1):
            if np.array_equal(labels[r : r + h, c : c + w] > 0, alpha > 0):
                return slice(r, r + h), slice(c, c + w)
    raise AssertionError("the segmentation panel does not show the given labels")


def assert_overlay_shows_labels(saved, ax, labels: np.ndarray, image: np.ndarray) -> None:
    """The first slice of the segmentation column shows `image` in grey and, inside each class of `labels`, that
    class's colour blended over it."""
    from scipy import ndimage

    from pscgan.report.case import OVERLAY_ALPHA

    grey, alpha = _first_tile(ax)
    window = _window(labels, alpha)
    lab = labels[window]
    assert np.corrcoef(grey.ravel(), np.asarray(image, float)[window].ravel())[0, 1] > 0.9  # the image, windowed
    under = ax.images[0].to_rgba(grey)[..., :3]
    for label in (BLOOD_POOL, HEALTHY_MYOCARDIUM, SCAR):
        inside = np.argwhere(ndimage.binary_erosion(lab == label))
        assert len(inside) >= 3, f"label {label} is not in the panel"
        for r, c in inside[:: max(1, len(inside) // 5)]:
            expected = OVERLAY_ALPHA * np.asarray(COLORS[label]) + (1 - OVERLAY_ALPHA) * under[r, c]
            assert np.allclose(saved.colour(ax, c, r, half=0), expected, atol=0.03), (label, r, c)


def test_bullseye_artifact(artifacts_dir, monkeypatch):
    values = {s: (s * 6.0) % 100 for s in range(1, 17)}
    values[4] = None
    capture = capture_saved_figures(monkeypatch, pscgan.report.bullseye)
    path = save_bullseye(artifacts_dir / "bullseye.png", values)
    assert path.read_bytes()[:8] == PNG
    saved = capture.saved[0]
    assert_bullseye_shows(saved, saved.fig.axes[0], values)
    # wedge geometry: anterior segments centred at the top, septal ones on the left
    inner, outer, t1, t2 = segment_wedge(1)
    assert (t1 + t2) / 2 == 90.0 and (inner, outer) == (2.0, 3.0)
    assert (sum(segment_wedge(14)[2:]) / 2) == 180.0 and (sum(segment_wedge(9)[2:]) / 2) == 210.0


def test_es_is_darkest_blood_pool_frame():
    lab = heart()
    cine = cine_for(lab, darkest=5)
    assert choose_es_index(cine[None], lab[None]) == 5


def test_overlay_uses_label_colours():
    lab = heart()
    rgba = overlay_rgba(lab)
    r, c = np.argwhere(lab == SCAR)[0]
    assert tuple(rgba[r, c, :3]) == pytest.approx(COLORS[SCAR])
    assert rgba[0, 0, 3] == 0.0


def test_single_case_report_artifact(artifacts_dir, monkeypatch):
    capture = capture_saved_figures(monkeypatch, pscgan.report.case)
    lab = heart()
    cine = cine_for(lab)
    rng = np.random.default_rng(0)
    lge = np.choose(lab, [0.1, 0.4, 0.02, 0.6]) + rng.normal(0, 0.03, lab.shape)
    ref_lge = np.choose(heart(scar_deg=(55, 145)), [0.1, 0.4, 0.02, 0.6]) + rng.normal(0, 0.03, lab.shape)
    q = quantify_slice(lab, (1.5, 1.5), "mid")
    path = draw_case_report(artifacts_dir / "report_case.png", cine, lab, lge, ref_lge, q)
    img = read_png(path)
    assert img.shape[1] > img.shape[0] > 200
    saved = capture.saved[0]
    assert_overlay_shows_labels(saved, saved.axes("segmentation"), lab, lge)  # scar colour where the scar is, ...
    values = combine_segments([q])
    assert any(v.transmurality_pct for v in values.values())  # the scar reaches the bullseye
    assert_bullseye_shows(saved, saved.axes("AHA transmurality (%)"), values)
    with pytest.raises(InputError, match="disagree"):
        draw_case_report(artifacts_dir / "never.png", cine, lab, lge[:-1], None, q)
    assert not (artifacts_dir / "never.png").exists()


def test_study_report_artifact(artifacts_dir, monkeypatch):
    capture = capture_saved_figures(monkeypatch, pscgan.report.case)
    slices = [heart(size=96, center=(47.0, 50.0), inner=11 - k, outer=18 - k, scar_deg=(60 + 10 * k, 150))
              for k in range(4)]
    labels = np.stack(slices)  # (4, 96, 96)
    cine = np.stack([cine_for(s) for s in slices])  # (4, T, 96, 96)
    lge = np.stack([np.choose(s, [0.1, 0.4, 0.02, 0.6]) for s in slices])
    levels = ["basal", "mid", "mid", "apical"]
    quant = [quantify_slice(s, (1.4, 1.4), lv) for s, lv in zip(slices, levels)]
    path = draw_case_report(artifacts_dir / "report_study.png", cine, labels, lge, None, quant)
    assert read_png(path).shape[0] > 400
    saved = capture.saved[0]
    assert_overlay_shows_labels(saved, saved.axes("segmentation"), labels[0], lge[0])
    # one row per slice: four tiles in every column (three gaps), labelled with the slice and its level
    shown = np.ma.filled(np.asarray(saved.axes("segmentation").images[0].get_array(), float), np.nan)
    gap_rows = np.isnan(shown).all(axis=1)
    assert np.count_nonzero(np.diff(gap_rows.astype(int)) == 1) == 3
    first = saved.axes("ED (frame 1)")
    assert [t.get_text() for t in first.get_yticklabels()] == [f"slice {k + 1} ({lv})" for k, lv in enumerate(levels)]
    values = combine_segments(quant)
    assert {n for n, v in values.items() if v.transmurality_pct} & {1, 2, 13}  # basal and apical scar shown too
    assert_bullseye_shows(saved, saved.axes("AHA transmurality (%)"), values)


def test_study_report_from_cine_study(artifacts_dir, monkeypatch):
    from pscgan.io.study import CineStudy

    capture = capture_saved_figures(monkeypatch, pscgan.report.case)
    slices = [heart(size=160, center=(70.0, 90.0), scar_deg=(200, 260)), np.zeros((160, 160), np.uint8)]
    labels = np.stack(slices)  # second slice: beyond the apex, no LV
    study = CineStudy(np.stack([cine_for(s) for s in slices]), spacing=(1.3, 1.3, 8.0), source="/data/study_x")
    quant = [quantify_slice(slices[0], (1.3, 1.3), "mid"), None]
    lge = np.stack([np.choose(s, [-0.8, 0.2, -1.0, 0.9]) for s in slices]).astype(np.float32)
    from pscgan.report import draw_study_report

    path = draw_study_report(artifacts_dir / "report_study_x.png", study, lge, labels, quant)
    assert read_png(path).shape[0] > 300
    saved = capture.saved[0]
    assert_overlay_shows_labels(saved, saved.axes("segmentation"), labels[0], lge[0])
    assert_bullseye_shows(saved, saved.axes("AHA transmurality (%)"), combine_segments([quant[0]]))


def write_nifti(array, path, spacing=(1.5, 1.5, 8.0)):
    image = sitk.GetImageFromArray(np.ascontiguousarray(array), isVector=False)
    image.SetSpacing(spacing[: image.GetDimension()] + (40.0,) * (image.GetDimension() - 3))
    sitk.WriteImage(image, str(path))


def test_report_command_on_case_folder(tmp_path, artifacts_dir, capsys, monkeypatch):
    lab = heart()
    case = tmp_path / "case"
    case.mkdir()
    write_nifti(lab[None], case / "labels.nii.gz")
    write_nifti(np.choose(lab, [0.1, 0.4, 0.02, 0.6]).astype(np.float32)[None], case / "lge.nii.gz")
    write_nifti(cine_for(lab)[:, None], case / "cine.nii.gz")  # (T, 1, R, C) -> (X, Y, 1, T)
    (case / "meta.json").write_text(json.dumps({"level": "mid", "rv_insertion_anterior_rc": [20.0, 25.0]}))
    out = artifacts_dir / "report_cli.png"
    capture = capture_saved_figures(monkeypatch, pscgan.report.case)
    assert main(["report", str(case), "--ref", str(case), "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == PNG
    saved = capture.saved[0]
    assert saved.path == out and {"ED (frame 1)", "reference LGE"} <= {ax.get_title() for ax in saved.fig.axes}
    assert_overlay_shows_labels(saved, saved.axes("segmentation"), lab, np.choose(lab, [0.1, 0.4, 0.02, 0.6]))
    assert main(["report", str(tmp_path / "missing"), "--out", str(out)]) == 2
    assert "labels.nii.gz" in capsys.readouterr().err


def test_report_command_takes_the_es_frame_from_the_reference_meta(tmp_path, monkeypatch):
    """A prediction folder has no meta.json; its report shows the ES frame the reference recorded."""
    import pscgan.report

    lab = heart()
    pred, ref = tmp_path / "pred", tmp_path / "ref"
    for folder in (pred, ref):
        folder.mkdir()
        write_nifti(lab[None], folder / "labels.nii.gz")
        write_nifti(np.choose(lab, [0.1, 0.4, 0.02, 0.6]).astype(np.float32)[None], folder / "lge.nii.gz")
    write_nifti(cine_for(lab)[:, None], pred / "cine.nii.gz")
    (ref / "meta.json").write_text(json.dumps({"level": "mid", "rv_insertion_anterior_rc": [20.0, 25.0], "es_frame": 3}))
    seen = {}

    def capture(*args, es_index=None, **kwargs):
        seen["es"] = es_index
        return args[0]

    monkeypatch.setattr(pscgan.report, "draw_case_report", capture)
    assert main(["report", str(pred), "--ref", str(ref), "--out", str(tmp_path / "r.png")]) == 0
    assert seen["es"] == 3
    assert main(["report", str(pred), "--ref", str(ref), "--es", "5", "--out", str(tmp_path / "r.png")]) == 0
    assert seen["es"] == 5


def test_report_says_which_rv_insertion_oriented_the_segments():
    from pscgan.metrics.clinical import quantify_slice
    from pscgan.report.case import _summary_text

    lab = np.zeros((40, 40), np.uint8)
    rr, cc = np.mgrid[:40, :40]
    d = np.hypot(rr - 20, cc - 20)
    lab[d < 12] = 2
    lab[d < 7] = 1
    quant = []
    for source in ("detected", "detected", "default"):
        q = quantify_slice(lab, (1.5, 1.5), "mid", (10.0, 12.0), (30.0, 12.0))
        q.insertion_source = source
        quant.append(q)
    assert "RV insertion: detected (1, 2), default 120° (3)" in _summary_text(quant)
    assert "RV insertion: detected" in _summary_text(quant[:2])
    quant[2].insertion_source = "markup"
    assert "user markup (3)" in _summary_text(quant)
