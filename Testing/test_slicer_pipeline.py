"""End to end on slicer-core: phantom sample data as a sequence browser -> real pscgan.pipeline with a
stand-in predictor -> nodes; and pscgan.outputs files reloaded through slicer-core storage nodes."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

slicer = pytest.importorskip("slicer")

from pscgan import labels as L  # noqa: E402
from pscgan import preprocess  # noqa: E402
from pscgan.mrml import files as F  # noqa: E402
from pscgan.mrml import nodes as mrml  # noqa: E402
from pscgan.pipeline import quantify_study  # noqa: E402
from PSCGANLib.logic import PipelineLogic, RunOptions  # noqa: E402
from PSCGANLib.sampledata import SAMPLE_NAME, load_phantom_cine  # noqa: E402


class RingPredictor:
    """Predictor stand-in (same predict signature): a fixed ring with a scar sector in every 64x64 ROI."""

    def __init__(self):
        self.preprocess = preprocess.PreprocessConfig()
        n = self.preprocess.roi_size
        rr, cc = np.mgrid[:n, :n]
        d = np.hypot(rr - n / 2, cc - n / 2)
        angle = np.arctan2(rr - n / 2, cc - n / 2)
        self.labels = np.zeros((n, n), np.uint8)
        self.labels[d < 9] = L.BLOOD_POOL
        self.labels[(d >= 9) & (d < 15)] = L.HEALTHY_MYOCARDIUM
        self.labels[(d >= 9) & (d < 13) & (angle > 0) & (angle < 1.0)] = L.SCAR
        self.notes: list[str] = []
        self.calls = 0

    def predict(self, cine_roi, should_cancel=None, **kwargs):
        self.calls += 1
        n = cine_roi.shape[0]
        assert cine_roi.shape[1:] == (self.preprocess.frames, self.preprocess.roi_size, self.preprocess.roi_size)
        lge = np.choose(self.labels, [-1.0, 0.2, -0.9, 0.9]).astype(np.float32)
        return SimpleNamespace(lge=np.repeat(lge[None], n, 0), labels=np.repeat(self.labels[None], n, 0))


@pytest.fixture(scope="module")
def scene_with_phantom():
    scene = slicer.vtkMRMLScene()
    browser = load_phantom_cine(scene, seed=11, n_slices=3)
    return scene, browser


def test_phantom_sample_is_a_cine_sequence(scene_with_phantom):
    _scene, browser = scene_with_phantom
    assert browser.IsA("vtkMRMLSequenceBrowserNode") and browser.GetName() == SAMPLE_NAME
    study = mrml.study_from_volume_sequence(browser)
    assert study.num_slices == 3 and study.num_frames >= 8


def test_lib_with_real_pipeline(scene_with_phantom, tmp_path):
    from pscgan.outputs import write_outputs

    scene, browser = scene_with_phantom
    predictor = RingPredictor()
    logic = PipelineLogic(scene, lambda checkpoint, device: predictor)
    steps = []
    out = logic.run(browser, options=RunOptions(device="cpu"), progress=lambda d, t, m: steps.append((d, t)))
    assert predictor.calls == 1 and steps[-1] == (3, 3)  # the 3 slices in one step of SLICES_PER_STEP
    study = mrml.study_from_volume_sequence(browser)
    labels = mrml.labels_from_segmentation_node(out.segmentation, study)
    np.testing.assert_array_equal(labels, out.result.labels)
    assert (labels == L.SCAR).any() and (labels == L.BLOOD_POOL).any()
    _q, _s, expected = quantify_study(labels, study)
    got = mrml.rows_from_table_node(out.table)
    assert [r["segment_name"] for r in got] == [r["segment_name"] for r in expected]
    assert [r["scar_area_cm2"] for r in got] == pytest.approx([r["scar_area_cm2"] for r in expected])
    np.testing.assert_allclose(mrml.node_ijk_to_ras(out.lge), mrml.ijk_to_ras(study), atol=1e-9)

    written = write_outputs(out.result, tmp_path / "infer", report=False)
    assert {"lge.nrrd", "segmentation.seg.nrrd", "lge.nii.gz", "labels.nii.gz", "metrics.json", "metrics.csv"} <= set(written)
    back, infos, _geometry = F.read_segmentation_file(written["segmentation.seg.nrrd"], study)
    np.testing.assert_array_equal(back, out.result.labels)
    assert {i.name: i.color for i in infos}["Scar"] == pytest.approx(L.COLORS[L.SCAR])
    lge, m = F.read_volume_file(written["lge.nrrd"])
    np.testing.assert_allclose(lge, out.result.lge, rtol=1e-6)
    np.testing.assert_allclose(m, mrml.ijk_to_ras(study), atol=1e-6)
