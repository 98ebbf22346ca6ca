"""pscgan.mrml: arrays <-> nodes and lge.nrrd / segmentation.seg.nrrd through slicer-core storage nodes."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

slicer = pytest.importorskip("slicer")

from pscgan import labels as L  # noqa: E402
from pscgan.errors import InputError  # noqa: E402
from pscgan.io.study import CineStudy  # noqa: E402
from pscgan.mrml import files as F  # noqa: E402
from pscgan.mrml import nodes as N  # noqa: E402
from pscgan.mrml import terminology as TERM  # noqa: E402

TERM_JSON = Path(__file__).resolve().parents[1] / "PSCGANExtension" / "Resources" / "PSCGAN.term.json"


@pytest.fixture()
def study() -> CineStudy:
    rng = np.random.default_rng(7)
    direction = np.linalg.qr(rng.normal(size=(3, 3)))[0]
    return CineStudy(pixels=rng.random((4, 8, 20, 26)).astype(np.float32) * 100 + 1, spacing=(1.25, 1.5, 10.0),
                     origin=(-5.0, 7.5, 40.0), direction=direction, frame_interval_ms=30.0, source="random")


def random_labels(shape, seed=1) -> np.ndarray:
    lab = np.random.default_rng(seed).integers(0, 4, shape).astype(np.uint8)
    lab[0] = 0  # an empty slice must survive too
    return lab


def test_volume_geometry_is_study_geometry_in_ras(study):
    node = N.volume_node_from_array(None, study.pixels[:, 0], study, "v")
    m = N.node_ijk_to_ras(node)
    for ijk in [(0, 0, 0), (5, 3, 2), (25, 19, 3)]:
        ras = m @ np.array([*ijk, 1.0])
        lps = study.index_to_lps(*ijk)
        np.testing.assert_allclose(ras[:3], [-lps[0], -lps[1], lps[2]], atol=1e-9)
    np.testing.assert_array_equal(N.array_from_volume_node(node), study.pixels[:, 0])
    with pytest.raises(InputError, match="does not match"):
        N.volume_node_from_array(None, study.pixels[:2, 0], study, "short")


def test_labels_round_trip_through_node(study):
    lab = random_labels((4, 20, 26))
    node = N.segmentation_node_from_labels(None, lab, study, "seg")
    np.testing.assert_array_equal(N.labels_from_segmentation_node(node, study), lab)
    with pytest.raises(InputError, match="not classes 0-3"):
        N.segmentation_node_from_labels(None, lab + 3, study, "bad")


def test_overlap_priority_scar_over_myocardium_over_blood(study):
    lab = np.zeros((4, 20, 26), np.uint8)
    lab[1, 5:10, 5:10] = L.BLOOD_POOL
    node = N.segmentation_node_from_labels(None, lab, study, "seg")
    segmentation = node.GetSegmentation()
    # make the scar and myocardium segments also cover the blood square (overlap, as Segment Editor allows)
    for label in (L.HEALTHY_MYOCARDIUM, L.SCAR):
        overlap = np.zeros_like(lab)
        overlap[1, 5:8, 5:10] = 1 if label == L.HEALTHY_MYOCARDIUM else 0
        overlap[1, 5:6, 5:10] = 1 if label == L.SCAR else overlap[1, 5:6, 5:10]
        segment = segmentation.GetSegment(TERM.TERM_BY_LABEL[label].segment_id)
        name = slicer.vtkSegmentationConverter.GetBinaryLabelmapRepresentationName()
        segment.RemoveRepresentation(name)
        segment.AddRepresentation(name, N._oriented_image(overlap, study))
    out = N.labels_from_segmentation_node(node, study)
    assert (out[1, 5:6, 5:10] == L.SCAR).all()
    assert (out[1, 6:8, 5:10] == L.HEALTHY_MYOCARDIUM).all()
    assert (out[1, 8:10, 5:10] == L.BLOOD_POOL).all()
    assert out.sum() == 5 * 3 + 10 * 2 + 10 * 1


def test_written_files_reload_with_segments_intact(study, tmp_path):
    lab = random_labels((4, 20, 26), seed=5)
    lge = np.random.default_rng(2).random((4, 20, 26)).astype(np.float32) * 1000
    written = F.write_mrml_outputs(lge, lab, study, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lge.nrrd", "segmentation.seg.nrrd"]
    assert set(written) == {"lge.nrrd", "segmentation.seg.nrrd"}
    array, m = F.read_volume_file(tmp_path / "lge.nrrd")
    np.testing.assert_allclose(array, lge, rtol=1e-6)
    np.testing.assert_allclose(m, N.ijk_to_ras(study), atol=1e-6)
    back, infos, geometry = F.read_segmentation_file(tmp_path / "segmentation.seg.nrrd")
    np.testing.assert_array_equal(back, lab)
    np.testing.assert_allclose(geometry.spacing, study.spacing, atol=1e-6)
    np.testing.assert_allclose(geometry.origin, study.origin, atol=1e-6)
    by_name = {i.name: i for i in infos}
    assert set(by_name) == {"Scar", "Healthy myocardium", "Blood pool"}
    for label, name in ((L.SCAR, "Scar"), (L.HEALTHY_MYOCARDIUM, "Healthy myocardium"), (L.BLOOD_POOL, "Blood pool")):
        assert by_name[name].color == pytest.approx(L.COLORS[label], abs=1e-6)
        assert TERM.parse_serialized(by_name[name].terminology)["type"] == TERM.TERM_BY_LABEL[label].type
    assert TERM.parse_serialized(by_name["Scar"].terminology)["type"].value == "12402003"
    assert TERM.parse_serialized(by_name["Healthy myocardium"].terminology)["type"].value == "74281007"


def test_failed_write_leaves_nothing(study, tmp_path):
    with pytest.raises(InputError):
        F.write_mrml_outputs(np.zeros((4, 20, 26)), np.full((4, 20, 26), 7, np.uint8), study, tmp_path)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(InputError, match="does not exist"):
        F.write_mrml_outputs(np.zeros((4, 20, 26)), np.zeros((4, 20, 26), np.uint8), study, tmp_path / "missing")


def test_sequence_round_trip_and_3d_volume_rejected(study):
    scene = slicer.vtkMRMLScene()
    browser = N.sequence_node_from_study(scene, study, "cine")
    back = N.study_from_volume_sequence(browser)
    np.testing.assert_allclose(back.pixels, study.pixels)
    np.testing.assert_allclose(back.direction, study.direction, atol=1e-9)
    np.testing.assert_allclose(back.origin, study.origin, atol=1e-9)
    assert back.frame_interval_ms == pytest.approx(30.0)
    volume = N.volume_node_from_array(scene, study.pixels[:, 0], study, "frame0")
    with pytest.raises(InputError, match="frame0: is a 3D volume; a cine needs a time sequence"):
        N.study_from_volume_sequence(volume)


def test_table_rows_round_trip():
    rows = [dict(slice=1, level="mid", segment=7, segment_name="anterior", scar_area_cm2=0.5, scar_ratio=None),
            dict(slice="study", level="", segment="study", segment_name="study summary", scar_area_cm2=2.25, scar_ratio=0.1)]
    node = N.table_node_from_rows(None, rows, "t")
    got = N.rows_from_table_node(node)
    assert got[0] == dict(slice="1", level="mid", segment="7", segment_name="anterior", scar_area_cm2=0.5, scar_ratio=None)
    assert got[1]["scar_ratio"] == pytest.approx(0.1) and got[1]["slice"] == "study"


def test_term_json_matches_codes_and_loads_in_slicer_terminology_logic():
    shipped = json.loads(TERM_JSON.read_text())
    assert shipped == TERM.term_json()
    codes = {t["CodeValue"]: t for c in shipped["SegmentationCodes"]["Category"] for t in c["Type"]}
    assert codes["74281007"]["CodeMeaning"] == "Myocardium" and codes["12402003"]["CodeMeaning"] == "Scar"
    assert codes["12402003"]["recommendedDisplayRGBValue"] == [round(255 * c) for c in L.COLORS[L.SCAR]]
    logic = slicer.vtkSlicerTerminologiesModuleLogic()
    name = logic.LoadTerminologyFromFile(str(TERM_JSON))
    assert name == TERM.CONTEXT_NAME
