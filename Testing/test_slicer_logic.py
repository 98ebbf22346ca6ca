"""PipelineLogic on a real slicer-core MRML scene: nodes, names, colours, geometry, table, cancel, overwrite, export."""
from __future__ import annotations

import json
import math
import sys

import numpy as np
import pytest

slicer = pytest.importorskip("slicer")


from pscgan import labels as L  # noqa: E402
from pscgan.errors import Cancelled, CheckpointError, InputError  # noqa: E402
from pscgan.io.study import CineStudy  # noqa: E402
from pscgan.mrml import nodes as mrml  # noqa: E402
from pscgan.pipeline import StudyResult, quantify_study  # noqa: E402
from PSCGANLib.logic import PipelineLogic, RunOptions  # noqa: E402

S, T, R, C = 3, 8, 48, 52


def ring_labels(shape=(R, C), center=(24.0, 26.0), r_blood=8.0, r_epi=13.0, scar_sector=(0.0, 1.2)) -> np.ndarray:
    rr, cc = np.mgrid[: shape[0], : shape[1]]
    d = np.hypot(rr - center[0], cc - center[1])
    angle = np.mod(np.arctan2(rr - center[0], cc - center[1]), 2 * np.pi)
    lab = np.zeros(shape, np.uint8)
    lab[d <= r_blood] = L.BLOOD_POOL
    myo = (d > r_blood) & (d <= r_epi)
    lab[myo] = L.HEALTHY_MYOCARDIUM
    lab[myo & (angle >= scar_sector[0]) & (angle < scar_sector[1])] = L.SCAR
    return lab


@pytest.fixture()
def study() -> CineStudy:
    rng = np.random.default_rng(3)
    direction = np.linalg.qr(rng.normal(size=(3, 3)))[0]
    labels = np.stack([ring_labels(r_epi=13.0 - s) for s in range(S)])
    base = np.where(labels == L.BLOOD_POOL, 300.0, np.where(labels > 1, 120.0, 40.0))
    pixels = np.stack([base * (1 + 0.05 * np.sin(2 * np.pi * t / T)) for t in range(T)], axis=1)
    pixels = (pixels + rng.normal(0, 3, pixels.shape)).astype(np.float32)
    return CineStudy(pixels=pixels, spacing=(1.4, 1.5, 8.0), origin=(12.0, -30.0, 55.0), direction=direction,
                     frame_interval_ms=35.0, source="synthetic")


def truth_labels() -> np.ndarray:
    return np.stack([ring_labels(r_epi=13.0 - s) for s in range(S)])


class FakeRunner:
    """Stands in for pscgan.pipeline.run_study: labels = the known rings, LGE = a function of them."""

    def __init__(self, cancel_after: int | None = None, lge: bool = True):
        self.cancel_after = cancel_after
        self.calls = 0
        self.lge = lge  # False: a segmentation-only model (StudyResult.lge None)

    def __call__(self, study, predictor, *, centers_rc=None, rv_insertion_rc=None, rv_inferior_rc=None, rv_source="markup",
                 progress=None, should_cancel=None):
        self.calls += 1
        labels = truth_labels()
        for s in range(study.num_slices):
            if should_cancel is not None and should_cancel():
                raise Cancelled("stopped by the user")
            if progress:
                progress(s + 1, study.num_slices, f"slice {s + 1}")
        lge = np.choose(labels, [50.0, 500.0, 10.0, 900.0]).astype(np.float32) + self.calls
        quant, summary, rows = quantify_study(labels, study, rv_insertion_rc=rv_insertion_rc, rv_inferior_rc=rv_inferior_rc,
                                              rv_source=rv_source)
        return StudyResult(study=study, lge=lge if self.lge else None, labels=labels, centers_rc=np.full((S, 2), 24.0), levels=[q.level for q in quant],
                           quantification=quant, summary=summary, table_rows=rows, notes=[])


def fake_factory(checkpoint, device):
    return object()


@pytest.fixture()
def scene_and_cine(study):
    scene = slicer.vtkMRMLScene()
    browser = mrml.sequence_node_from_study(scene, study, "cine")
    return scene, browser


def node_ids(scene) -> list[str]:
    return [scene.GetNthNode(i).GetID() for i in range(scene.GetNumberOfNodes())]


def test_run_creates_named_coloured_nodes_in_input_geometry(scene_and_cine, study):
    scene, browser = scene_and_cine
    out = PipelineLogic(scene, fake_factory, FakeRunner()).run(browser)
    assert out.lge.GetScene() is scene and out.segmentation.GetScene() is scene and out.table.GetScene() is scene
    np.testing.assert_allclose(mrml.node_ijk_to_ras(out.lge), mrml.ijk_to_ras(study), atol=1e-9)
    # LPS -> RAS by hand: flip x and y of direction*spacing and origin
    expected = np.eye(4)
    expected[:3, :3] = np.diag([-1, -1, 1]) @ study.direction @ np.diag(study.spacing)
    expected[:3, 3] = [-12.0, 30.0, 55.0]
    np.testing.assert_allclose(mrml.node_ijk_to_ras(out.lge), expected, atol=1e-9)
    assert mrml.array_from_volume_node(out.lge).shape == (S, R, C)
    segmentation = out.segmentation.GetSegmentation()
    names = {segmentation.GetNthSegment(i).GetName(): segmentation.GetNthSegment(i) for i in range(segmentation.GetNumberOfSegments())}
    assert set(names) == {"Scar", "Healthy myocardium", "Blood pool"}
    assert names["Scar"].GetColor() == pytest.approx(L.COLORS[L.SCAR])
    assert names["Healthy myocardium"].GetColor() == pytest.approx(L.COLORS[L.HEALTHY_MYOCARDIUM])
    assert names["Blood pool"].GetColor() == pytest.approx(L.COLORS[L.BLOOD_POOL])
    assert "SCT^12402003^Scar" in mrml.segment_terminology(names["Scar"])
    assert "SCT^74281007^Myocardium" in mrml.segment_terminology(names["Healthy myocardium"])
    ref = out.segmentation.GetNodeReference(out.segmentation.GetReferenceImageGeometryReferenceRole())
    assert ref is not None and ref.GetID() == out.lge.GetID()
    assert out.lge.GetDisplayNode() is not None and out.segmentation.GetDisplayNode() is not None
    lge = mrml.array_from_volume_node(out.lge)
    display = out.lge.GetDisplayNode()
    assert 0 < display.GetWindow() <= lge.max() - lge.min() and lge.min() <= display.GetLevel() <= lge.max()
    np.testing.assert_array_equal(mrml.labels_from_segmentation_node(out.segmentation, study), truth_labels())


def test_segmentation_only_model_makes_no_lge_node(scene_and_cine, study):
    """The 2D U-Net baseline synthesises no LGE: no LGE node (not a blank one), the segmentation still
    lies in the cine's geometry, and nothing else is left in the scene."""
    scene, browser = scene_and_cine

    def volumes() -> int:
        return sum(scene.GetNthNode(i).IsA("vtkMRMLScalarVolumeNode") for i in range(scene.GetNumberOfNodes()))

    before = volumes()
    out = PipelineLogic(scene, fake_factory, FakeRunner(lge=False)).run(browser)
    assert out.lge is None and volumes() == before
    assert out.segmentation.GetScene() is scene and out.table.GetScene() is scene
    np.testing.assert_array_equal(mrml.labels_from_segmentation_node(out.segmentation, study), truth_labels())


def test_table_equals_quantify_study(scene_and_cine, study):
    scene, browser = scene_and_cine
    out = PipelineLogic(scene, fake_factory, FakeRunner()).run(browser)
    _q, summary, expected = quantify_study(truth_labels(), study)
    got = mrml.rows_from_table_node(out.table)
    assert len(got) == len(expected) and len(got) > S
    for g, e in zip(got, expected):
        for key, value in e.items():
            if key in mrml.TEXT_COLUMNS:
                assert g[key] == ("" if value is None else str(value)), key
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                assert g[key] == pytest.approx(float(value)), key
            elif value is None:
                assert g[key] in (None, ""), key
            else:
                assert g[key] == str(value), key
    study_row = got[-1]
    assert study_row["slice"] == "study" and study_row["scar_area_cm2"] == pytest.approx(summary["scar_area_cm2"])
    # independent figure: scar pixels x pixel area
    assert summary["scar_area_cm2"] == pytest.approx((truth_labels() == L.SCAR).sum() * 1.4 * 1.5 / 100, abs=1e-3)


def test_cancel_leaves_scene_unchanged(scene_and_cine):
    scene, browser = scene_and_cine
    before = node_ids(scene)
    logic = PipelineLogic(scene, fake_factory, FakeRunner())
    calls = []

    def cancel_on_second_poll() -> bool:
        calls.append(1)
        return len(calls) >= 2

    with pytest.raises(Cancelled):
        logic.run(browser, should_cancel=cancel_on_second_poll)
    assert node_ids(scene) == before


def test_bad_checkpoint_and_3d_input_leave_scene_unchanged(scene_and_cine, study, tmp_path):
    scene, browser = scene_and_cine
    volume = mrml.volume_node_from_array(scene, study.pixels[:, 0], study, "single frame")
    before = node_ids(scene)

    def failing_factory(checkpoint, device):
        raise CheckpointError(f"{checkpoint}: SHA-256 mismatch")

    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"junk")
    with pytest.raises(CheckpointError, match=r"bad.safetensors"):
        PipelineLogic(scene, failing_factory, FakeRunner()).run(browser, options=RunOptions(checkpoint=bad))
    with pytest.raises(InputError, match="is a 3D volume; a cine needs a time sequence"):
        PipelineLogic(scene, fake_factory, FakeRunner()).run(volume)
    with pytest.raises(InputError, match="device"):
        PipelineLogic(scene, fake_factory, FakeRunner()).run(browser, options=RunOptions(device="tpu"))
    assert node_ids(scene) == before


def test_short_cine_is_rejected(study):
    scene = slicer.vtkMRMLScene()
    short = CineStudy(pixels=study.pixels[:, :3].copy(), spacing=study.spacing, origin=study.origin, direction=study.direction)
    browser = mrml.sequence_node_from_study(scene, short, "short")
    with pytest.raises(InputError, match="frame"):
        PipelineLogic(scene, fake_factory, FakeRunner()).run(browser)


def test_overwrite_replaces_without_duplicates_and_no_overwrite_makes_new(scene_and_cine):
    scene, browser = scene_and_cine
    runner = FakeRunner()
    logic = PipelineLogic(scene, fake_factory, runner)
    first = logic.run(browser)
    count = scene.GetNumberOfNodesByClass("vtkMRMLScalarVolumeNode")
    second = logic.run(browser, options=RunOptions(overwrite=True), lge_node=first.lge,
                       segmentation_node=first.segmentation, table_node=first.table)
    assert second.lge is first.lge and second.segmentation is first.segmentation and second.table is first.table
    assert scene.GetNumberOfNodesByClass("vtkMRMLScalarVolumeNode") == count
    assert scene.GetNumberOfNodesByClass("vtkMRMLSegmentationNode") == 1
    assert scene.GetNumberOfNodesByClass("vtkMRMLTableNode") == 1
    assert mrml.array_from_volume_node(first.lge).min() == pytest.approx(10.0 + 2)  # second run's values
    assert first.segmentation.GetSegmentation().GetNumberOfSegments() == 3
    third = logic.run(browser, lge_node=first.lge, segmentation_node=first.segmentation, table_node=first.table)
    assert third.lge is not first.lge and third.table is not first.table
    assert third.lge.GetName() != first.lge.GetName()
    assert scene.GetNumberOfNodesByClass("vtkMRMLSegmentationNode") == 2


def test_recompute_metrics_after_correction(scene_and_cine, study):
    scene, browser = scene_and_cine
    logic = PipelineLogic(scene, fake_factory, FakeRunner())
    out = logic.run(browser)
    corrected = truth_labels()
    corrected[corrected == L.SCAR] = L.HEALTHY_MYOCARDIUM  # annotator removes all scar
    mrml.segmentation_node_from_labels(scene, corrected, study, "x", node=out.segmentation)
    table, rows = logic.recompute_metrics(out.segmentation, browser, out.table)
    assert table is out.table
    _q, summary, expected = quantify_study(corrected, study)
    assert mrml.rows_from_table_node(table)[-1]["scar_area_cm2"] == pytest.approx(0.0)
    assert rows == expected and summary["scar_area_cm2"] == 0


def test_export_case_for_training_without_lge_never_writes_the_models_own(scene_and_cine, study, tmp_path):
    import SimpleITK as sitk

    scene, browser = scene_and_cine
    logic = PipelineLogic(scene, fake_factory, FakeRunner())
    out = logic.run(browser)
    with pytest.raises(InputError, match="model's own LGE-equivalent image"):
        logic.export_case_for_training(browser, out.lge, out.segmentation, tmp_path / "case")
    folder = logic.export_case_for_training(browser, None, out.segmentation, tmp_path / "case")
    assert sorted(p.name for p in folder.iterdir()) == ["cine.nii.gz", "labels.nii.gz", "meta.json"]
    cine = sitk.ReadImage(str(folder / "cine.nii.gz"))
    assert cine.GetSize() == (C, R, S, T) and cine.GetSpacing()[3] == pytest.approx(35.0)
    np.testing.assert_allclose(sitk.GetArrayFromImage(cine), np.transpose(study.pixels, (1, 0, 2, 3)))
    labels = sitk.ReadImage(str(folder / "labels.nii.gz"))
    np.testing.assert_array_equal(sitk.GetArrayFromImage(labels), truth_labels())
    np.testing.assert_allclose(labels.GetOrigin(), study.origin, atol=1e-4)
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["pixel_spacing_mm"] == [1.5, 1.4] and meta["frames"] == T and meta["has_scar"]
    assert meta["has_lge"] is False and meta["lge_source"] is None
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "keep.txt").write_text("x")
    with pytest.raises(InputError, match="not a case folder"):
        logic.export_case_for_training(browser, None, out.segmentation, tmp_path / "other")


def real_lge_node(scene, study, shift_mm=0.0, name="patient LGE"):
    """A real LGE on its own finer grid (0.7 x 0.75 mm, 2 slices per cine slice) whose values are a linear
    function of the physical (LPS) position, so that linear resampling onto the cine is exact."""
    fine = CineStudy(pixels=np.zeros((2 * S, 1, 2 * R + 1, 2 * C + 1), np.float32),
                     spacing=(study.spacing[0] / 2, study.spacing[1] / 2, study.spacing[2] / 2),
                     origin=tuple(np.asarray(study.origin) + study.index_to_lps(-0.5, -0.5, -0.5) - study.origin
                                  + shift_mm),
                     direction=study.direction, frame_interval_ms=35.0, source="fine")
    k, j, i = np.meshgrid(*(np.arange(n) for n in (2 * S, 2 * R + 1, 2 * C + 1)), indexing="ij")
    lps = np.asarray(fine.origin)[:, None] + (np.asarray(fine.direction).reshape(3, 3) * fine.spacing) @ np.stack(
        [i.ravel(), j.ravel(), k.ravel()])
    values = (3.0 * lps[0] - 2.0 * lps[1] + 0.5 * lps[2] + 400.0).reshape(k.shape).astype(np.float32)
    return mrml.volume_node_from_array(scene, values, fine, name), lambda p: 3.0 * p[0] - 2.0 * p[1] + 0.5 * p[2] + 400.0


def test_export_with_the_real_lge_resamples_it_to_the_cine(scene_and_cine, study, tmp_path):
    import SimpleITK as sitk

    scene, browser = scene_and_cine
    logic = PipelineLogic(scene, fake_factory, FakeRunner())
    out = logic.run(browser)
    node, truth = real_lge_node(scene, study)
    folder = logic.export_case_for_training(browser, node, out.segmentation, tmp_path / "case")
    assert sorted(p.name for p in folder.iterdir()) == ["cine.nii.gz", "labels.nii.gz", "lge.nii.gz", "meta.json"]
    lge = sitk.ReadImage(str(folder / "lge.nii.gz"))
    assert lge.GetSize() == (C, R, S)
    got = sitk.GetArrayFromImage(lge)  # (S, R, C)
    heart = truth_labels() > 0
    expected = np.array([[[truth(study.index_to_lps(c, r, s)) for c in range(C)] for r in range(R)] for s in range(S)])
    np.testing.assert_allclose(got[heart], expected[heart], rtol=1e-4, atol=0.05)
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["has_lge"] is True and "patient LGE" in meta["lge_source"]


def test_export_refuses_an_lge_of_other_slices(scene_and_cine, study, tmp_path):
    scene, browser = scene_and_cine
    logic = PipelineLogic(scene, fake_factory, FakeRunner())
    out = logic.run(browser)
    node, _ = real_lge_node(scene, study, shift_mm=300.0, name="other study LGE")
    with pytest.raises(InputError, match=r"other study LGE: covers 0 % of the labelled heart"):
        logic.export_case_for_training(browser, node, out.segmentation, tmp_path / "case")
    assert not (tmp_path / "case").exists()


def test_markups_points_become_pixel_positions(scene_and_cine, study):
    scene, browser = scene_and_cine
    markups = scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode")
    lps = study.index_to_lps(20.0, 30.0, 1.0)  # (i, j, k) = (col 20, row 30)
    markups.AddControlPoint([-lps[0], -lps[1], lps[2]])
    from PSCGANLib.nodes import point_rc

    assert point_rc(markups, study, "ROI centre") == pytest.approx((30.0, 20.0), abs=1e-6)
    seen = {}

    def runner(study_, predictor, **kwargs):
        seen.update(kwargs)
        return FakeRunner()(study_, predictor, **kwargs)

    PipelineLogic(scene, fake_factory, runner).run(browser, roi_center_node=markups, rv_insertion_node=markups)
    assert seen["centers_rc"] == pytest.approx((30.0, 20.0))
    assert seen["rv_insertion_rc"] == [pytest.approx((30.0, 20.0))] * S and seen["rv_source"] == "markup"
    assert not math.isnan(seen["centers_rc"][0])


def test_default_factory_without_torch_or_gpu_gives_one_line_errors(scene_and_cine, tmp_path, monkeypatch):
    from PSCGANLib.logic import default_predictor_factory

    scene, browser = scene_and_cine
    before = node_ids(scene)
    junk = tmp_path / "model.safetensors"
    junk.write_bytes(b"not a model")
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="no CUDA GPU"):
            PipelineLogic(scene, default_predictor_factory, FakeRunner()).run(browser, options=RunOptions(device="cuda", checkpoint=junk))
    with pytest.raises(CheckpointError) as err:
        PipelineLogic(scene, default_predictor_factory, FakeRunner()).run(browser, options=RunOptions(device="cpu", checkpoint=junk))
    assert "\n" not in str(err.value) and "model.safetensors" in str(err.value)
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch -> ImportError
    with pytest.raises(CheckpointError, match="PyTorch"):
        PipelineLogic(scene, default_predictor_factory, FakeRunner()).run(browser, options=RunOptions(device="cpu", checkpoint=junk))
    assert node_ids(scene) == before


def test_insertion_points_used_are_markups_the_user_can_drag(scene_and_cine, study):
    """After a run, one markups node per insertion point holds the points used (one per slice, labelled with
    their source); moving one and recomputing uses it, with source "markup", on that slice only."""
    from PSCGANLib.nodes import slice_points_rc

    scene, browser = scene_and_cine
    logic = PipelineLogic(scene, fake_factory, FakeRunner())
    out = logic.run(browser)
    assert out.rv_anterior is not None and out.rv_inferior is not None and out.rv_anterior.GetScene() is scene
    assert out.rv_anterior.GetNumberOfControlPoints() == S
    quant = out.result.quantification
    np.testing.assert_allclose(slice_points_rc(out.rv_anterior, study, "a"), [q.anterior_insertion_rc for q in quant],
                               atol=1e-6)
    np.testing.assert_allclose(slice_points_rc(out.rv_inferior, study, "i"), [q.inferior_insertion_rc for q in quant],
                               atol=1e-6)
    sources = {q.insertion_source for q in quant}
    assert sources <= {"detected", "default"}
    assert out.rv_anterior.GetNthControlPointLabel(0) == f"slice 1: {quant[0].insertion_source}"
    rows = mrml.rows_from_table_node(out.table)
    assert rows[0]["rv_insertion_source"] == quant[0].insertion_source
    assert rows[0]["rv_anterior_row"] == pytest.approx(quant[0].anterior_insertion_rc[0], abs=0.01)

    # the user drags slice 2's anterior point to straight above the LV centre (90 degrees) and recomputes
    center = quant[1].center_rc
    lps = study.index_to_lps(center[1], center[0] - 12.0, 1.0)
    out.rv_anterior.SetNthControlPointPositionWorld(1, -lps[0], -lps[1], lps[2])
    _table, rows = logic.recompute_metrics(out.segmentation, browser, out.table, rv_insertion_node=out.rv_anterior,
                                           rv_inferior_node=out.rv_inferior)
    slice_rows = [r for r in rows if r["segment"] == ""]
    assert [r["rv_insertion_source"] for r in slice_rows] == ["markup"] * S
    assert "not detected" not in logic.recompute_message(rows)
    _table, rows_default = logic.recompute_metrics(out.segmentation, browser, out.table)  # no markups, no RV in the image
    assert "not detected on slice(s) 1, 2, 3" in logic.recompute_message(rows_default)
    assert slice_rows[1]["rv_anterior_row"] == pytest.approx(center[0] - 12.0, abs=0.01)
    assert slice_rows[1]["rv_anterior_col"] == pytest.approx(center[1], abs=0.01)


def test_insertion_markup_off_the_slices_is_a_one_line_error(scene_and_cine, study):
    scene, browser = scene_and_cine
    markups = scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", "my RV points")
    for k in (0.0, 7.0):  # the second lies on no slice of a 3-slice stack
        lps = study.index_to_lps(20.0, 30.0, k)
        markups.AddControlPoint([-lps[0], -lps[1], lps[2]])
    before = node_ids(scene)
    with pytest.raises(InputError, match="my RV points: anterior RV insertion point 2 lies outside"):
        PipelineLogic(scene, fake_factory, FakeRunner()).run(browser, rv_insertion_node=markups)
    assert node_ids(scene) == before


def test_lge_node_says_which_part_is_synthesised(scene_and_cine):
    from pscgan.preprocess import PreprocessConfig

    scene, browser = scene_and_cine

    class Predictor:
        preprocess = PreprocessConfig(roi_size=64, roi_spacing_mm=1.6)

    out = PipelineLogic(scene, lambda checkpoint, device: Predictor(), FakeRunner()).run(browser)
    assert "102 x 102 mm window" in out.lge.GetDescription() and "not synthesised" in out.lge.GetDescription()


def test_model_label_shows_the_loaded_bundle(scene_and_cine, tmp_path):
    scene, browser = scene_and_cine

    class Described:
        def describe(self):
            return "my.safetensors; configuration tiny; trained on phantom; SHA-256 0123456789ab"

    logic = PipelineLogic(scene, lambda checkpoint, device: Described(), FakeRunner())
    custom = tmp_path / "my.safetensors"
    custom.write_bytes(b"x")
    assert logic.model_description(RunOptions()) == "bundled model (details shown once it is loaded on Apply)"
    assert logic.model_description(RunOptions(checkpoint=custom)).startswith("my.safetensors (details")
    logic.prepare(browser, RunOptions(checkpoint=custom))
    assert logic.model_description(RunOptions(checkpoint=custom)) == Described().describe()
