"""CineStudy / arrays <-> MRML nodes (volume, segmentation, table, sequence) on an explicit scene.

Geometry: a CineStudy is LPS (ITK); MRML is RAS. IJKToRAS = diag(-1, -1, 1) @ [direction * spacing | origin].
Arrays are (slices, rows, cols) = VTK (k, j, i), so they map onto vtkImageData without transposing.
Nodes may be built with scene=None (off-scene); the caller adds them once everything succeeded.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import labels as L
from ..errors import InputError
from ..io.study import CineStudy, validated_study
from .terminology import TERM_BY_LABEL, TERMS

LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0])
TEXT_COLUMNS = ("slice", "level", "segment", "segment_name")


# ----------------------------------------------------------------------------------- geometry
def ijk_to_ras(study: CineStudy) -> np.ndarray:
    """4x4 IJK -> RAS matrix of the study's slice stack."""
    direction = np.asarray(study.direction, float).reshape(3, 3)
    m = np.eye(4)
    m[:3, :3] = LPS_TO_RAS @ direction @ np.diag(np.asarray(study.spacing, float))
    m[:3, 3] = LPS_TO_RAS @ np.asarray(study.origin, float)
    return m


def geometry_from_ijk_to_ras(m: np.ndarray) -> tuple[tuple, tuple, np.ndarray]:
    """(spacing, origin LPS, direction LPS columns) of a 4x4 IJK -> RAS matrix."""
    lps = LPS_TO_RAS @ np.asarray(m, float)[:3, :3]
    spacing = np.linalg.norm(lps, axis=0)
    if np.any(spacing <= 0):
        raise InputError("volume geometry: zero voxel spacing")
    direction = lps / spacing
    origin = LPS_TO_RAS @ np.asarray(m, float)[:3, 3]
    return tuple(float(s) for s in spacing), tuple(float(o) for o in origin), direction


def _vtk_matrix(m: np.ndarray):
    import vtk

    vm = vtk.vtkMatrix4x4()
    for r in range(4):
        for c in range(4):
            vm.SetElement(r, c, float(m[r, c]))
    return vm


def _numpy_matrix(vm) -> np.ndarray:
    return np.array([[vm.GetElement(r, c) for c in range(4)] for r in range(4)])


def node_ijk_to_ras(volume_node) -> np.ndarray:
    import vtk

    vm = vtk.vtkMatrix4x4()
    volume_node.GetIJKToRASMatrix(vm)
    return _numpy_matrix(vm)


def _image_data(array: np.ndarray):
    """vtkImageData (deep copy) of a (k, j, i) array, origin 0, spacing 1 (geometry lives in the node)."""
    import vtk
    from vtk.util import numpy_support

    array = np.ascontiguousarray(array)
    image = vtk.vtkImageData()
    image.SetDimensions(array.shape[2], array.shape[1], array.shape[0])
    vtk_array = numpy_support.numpy_to_vtk(array.ravel(), deep=True)
    image.GetPointData().SetScalars(vtk_array)
    return image


def _array_of(image) -> np.ndarray:
    """(k, j, i) numpy copy of a single-component vtkImageData."""
    from vtk.util import numpy_support

    dims = image.GetDimensions()
    scalars = image.GetPointData().GetScalars()
    if scalars is None:
        raise InputError("volume: has no voxel data")
    flat = numpy_support.vtk_to_numpy(scalars)
    if flat.ndim != 1:
        raise InputError(f"volume: has {flat.shape[1]} components per voxel; a scalar volume is needed")
    return flat.reshape(dims[2], dims[1], dims[0]).copy()


def _check_stack(array: np.ndarray, study: CineStudy, what: str) -> np.ndarray:
    array = np.asarray(array)
    expected = (study.num_slices, *study.slice_shape)
    if array.shape != expected:
        raise InputError(f"{what}: shape {array.shape} does not match the study's (slices, rows, cols) {expected}")
    return array


# ----------------------------------------------------------------------------------- volumes
def volume_node_from_array(scene, array: np.ndarray, study: CineStudy, name: str, node=None):
    """A vtkMRMLScalarVolumeNode holding `array` (S, R, C) in the study's geometry (all slices, full FOV).

    scene: the scene to add the node to, or None to keep it off-scene. node: an existing node to update.
    """
    import slicer

    array = _check_stack(array, study, name)
    if node is None:
        node = slicer.vtkMRMLScalarVolumeNode()
        node.SetName(name)
        if scene is not None:
            scene.AddNode(node)
    node.SetIJKToRASMatrix(_vtk_matrix(ijk_to_ras(study)))
    node.SetAndObserveImageData(_image_data(array))
    return node


def array_from_volume_node(volume_node) -> np.ndarray:
    """(S, R, C) copy of a scalar volume's voxels."""
    image = volume_node.GetImageData() if volume_node is not None else None
    if image is None:
        raise InputError(f"{_node_name(volume_node)}: has no image data")
    return _array_of(image)


def ensure_display(scene, volume_node, window: float | None = None, level: float | None = None) -> None:
    """Give an in-scene volume a grey display node with a window from its 1st-99th percentile (or as given)."""
    if scene is None or volume_node.GetScene() is None:
        return
    if volume_node.GetDisplayNode() is None:
        volume_node.CreateDefaultDisplayNodes()
    display = volume_node.GetDisplayNode()
    if display is None:
        return
    if window is None or level is None:
        values = array_from_volume_node(volume_node)
        lo, hi = np.percentile(values, [1, 99]) if values.size else (0.0, 1.0)
        hi = hi if hi > lo else lo + 1.0
        window, level = float(hi - lo), float((hi + lo) / 2)
    display.AutoWindowLevelOff()
    display.SetWindowLevel(window, level)
    grey = scene.GetNodeByID("vtkMRMLColorTableNodeGrey")
    if grey is not None:
        display.SetAndObserveColorNodeID(grey.GetID())


# ----------------------------------------------------------------------------------- segmentation
def _oriented_image(array: np.ndarray, study: CineStudy):
    import slicer

    image = slicer.vtkOrientedImageData()
    image.DeepCopy(_image_data(array))
    image.SetImageToWorldMatrix(_vtk_matrix(ijk_to_ras(study)))
    return image


def _reference_geometry_string(study: CineStudy) -> str:
    import slicer

    geometry = _oriented_image(np.zeros((study.num_slices, *study.slice_shape), np.uint8), study)
    return slicer.vtkSegmentationConverter.SerializeImageGeometry(geometry)


def segmentation_node_from_labels(scene, labels: np.ndarray, study: CineStudy, name: str, source_volume_node=None, node=None):
    """vtkMRMLSegmentationNode with segments Blood pool, Healthy myocardium, Scar (in this order).

    Colours from `pscgan.labels.COLORS`, terminology from `pscgan.mrml.terminology`, master
    representation binary labelmap in the study's geometry, reference geometry set to it.
    source_volume_node (in `scene`): set as the reference-geometry volume so Segment Editor opens on it.
    node: an existing segmentation node to replace the segments of.
    """
    import slicer

    labels = _check_stack(labels, study, name).astype(np.uint8)
    unknown = set(np.unique(labels).tolist()) - {L.OTHER, L.BLOOD_POOL, L.HEALTHY_MYOCARDIUM, L.SCAR}
    if unknown:
        raise InputError(f"{name}: label values {sorted(unknown)} are not classes 0-3")
    if node is None:
        node = slicer.vtkMRMLSegmentationNode()
        node.SetName(name)
        if scene is not None:
            scene.AddNode(node)
    segmentation = node.GetSegmentation()
    segmentation.RemoveAllSegments()
    labelmap_name = slicer.vtkSegmentationConverter.GetBinaryLabelmapRepresentationName()
    segmentation.SetSourceRepresentationName(labelmap_name)
    segmentation.SetConversionParameter(
        slicer.vtkSegmentationConverter.GetReferenceImageGeometryParameterName(), _reference_geometry_string(study),
    )
    for term in TERMS:
        segment = slicer.vtkSegment()
        segment.SetName(term.name)
        segment.SetColor(*L.COLORS[term.label])
        segment.SetNameAutoGenerated(False)
        segment.SetColorAutoGenerated(False)
        if hasattr(segment, "SetTerminology"):
            segment.SetTerminology(term.serialized())
        else:
            segment.SetTag(slicer.vtkSegment.GetTerminologyEntryTagName(), term.serialized())
        segment.AddRepresentation(labelmap_name, _oriented_image((labels == term.label).astype(np.uint8), study))
        segmentation.AddSegment(segment, term.segment_id)
    if source_volume_node is not None and node.GetScene() is not None and source_volume_node.GetScene() is not None:
        node.SetReferenceImageGeometryParameterFromVolumeNode(source_volume_node)
    return node


def segment_id_for_label(seg_node, label: int) -> str | None:
    """ID of the segment of class `label`: by our segment ID, else by type code, else by name."""
    segmentation = seg_node.GetSegmentation()
    term = TERM_BY_LABEL[label]
    if segmentation.GetSegment(term.segment_id) is not None:
        return term.segment_id
    for i in range(segmentation.GetNumberOfSegments()):
        segment = segmentation.GetNthSegment(i)
        value = segment_terminology(segment)
        if f"~{term.type.serialized()}~" in value or (segment.GetName() or "").strip().lower() == term.name.lower():
            return segmentation.GetNthSegmentID(i)
    return None


def segment_tag(segment, tag: str) -> str:
    """Value of a segment tag ('' when absent)."""
    import vtk

    holder = vtk.reference("")
    return str(holder) if segment.GetTag(tag, holder) else ""


def segment_terminology(segment) -> str:
    """The segment's serialized terminology entry ('' when none)."""
    import slicer

    if hasattr(segment, "GetTerminology"):
        return segment.GetTerminology() or ""
    return segment_tag(segment, slicer.vtkSegment.GetTerminologyEntryTagName())


def labels_from_segmentation_node(seg_node, study: CineStudy) -> np.ndarray:
    """(S, R, C) uint8 class labels of a (possibly Segment-Editor-corrected) segmentation node.

    Each of the three segments is resampled (nearest neighbour) onto the study's grid. Overlaps are
    resolved by priority scar > healthy myocardium > blood pool; other segments are ignored.
    A segmentation lacking all three segments is an InputError.
    """
    import slicer

    if seg_node is None or not seg_node.IsA("vtkMRMLSegmentationNode"):
        raise InputError(f"{_node_name(seg_node)}: is not a segmentation")
    labelmap_name = slicer.vtkSegmentationConverter.GetBinaryLabelmapRepresentationName()
    if not seg_node.GetSegmentation().ContainsRepresentation(labelmap_name):
        seg_node.GetSegmentation().CreateRepresentation(labelmap_name)
    reference = _oriented_image(np.zeros((study.num_slices, *study.slice_shape), np.uint8), study)
    out = np.zeros((study.num_slices, *study.slice_shape), np.uint8)
    found = 0
    for term in TERMS:  # low to high priority
        segment_id = segment_id_for_label(seg_node, term.label)
        if segment_id is None:
            continue
        found += 1
        segment = seg_node.GetSegmentation().GetSegment(segment_id)
        # Internal representation: possibly a layer shared with other segments, so keep our label value only.
        binary = segment.GetRepresentation(labelmap_name)
        if binary is None or binary.GetPointData().GetScalars() is None:
            continue
        extent = binary.GetExtent()
        if extent[1] < extent[0] or extent[3] < extent[2] or extent[5] < extent[4]:
            continue  # empty segment
        resampled = slicer.vtkOrientedImageData()
        slicer.vtkOrientedImageDataResample.ResampleOrientedImageToReferenceOrientedImage(binary, reference, resampled, False, True)
        mask = _array_of(resampled) == segment.GetLabelValue()
        out[mask] = term.label
    if found == 0:
        raise InputError(f"{seg_node.GetName()}: has none of the segments Blood pool, Healthy myocardium, Scar")
    return out


# ----------------------------------------------------------------------------------- table
def table_node_from_rows(scene, rows: list[dict], name: str, node=None, columns: tuple[str, ...] | None = None):
    """vtkMRMLTableNode with one row per dict: text columns for slice/level/segment, numbers (NaN = none) else."""
    import slicer
    import vtk

    if columns is None:
        columns = tuple(rows[0].keys()) if rows else TEXT_COLUMNS
    if node is None:
        node = slicer.vtkMRMLTableNode()
        node.SetName(name)
        if scene is not None:
            scene.AddNode(node)
    table = vtk.vtkTable()
    for key in columns:
        numeric = key not in TEXT_COLUMNS and all(_is_number(r.get(key)) for r in rows)
        array = vtk.vtkDoubleArray() if numeric else vtk.vtkStringArray()
        array.SetName(key)
        array.SetNumberOfValues(len(rows))
        for i, row in enumerate(rows):
            value = row.get(key)
            if numeric:
                array.SetValue(i, math.nan if value is None else float(value))
            else:
                array.SetValue(i, "" if value is None else str(value))
        table.AddColumn(array)
    node.SetAndObserveTable(table)
    node.SetUseColumnTitleAsColumnHeader(True) if hasattr(node, "SetUseColumnTitleAsColumnHeader") else None
    node.SetLocked(True)
    return node


def _is_number(value: Any) -> bool:
    return value is None or (isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool))


def rows_from_table_node(node) -> list[dict]:
    """Rows of a table node as dicts (numbers as float, NaN as None; text as str)."""
    table = node.GetTable()
    names = [table.GetColumn(c).GetName() for c in range(table.GetNumberOfColumns())]
    rows = []
    for r in range(table.GetNumberOfRows()):
        row = {}
        for c, key in enumerate(names):
            column = table.GetColumn(c)
            if column.IsA("vtkStringArray"):
                row[key] = column.GetValue(r)
            else:
                v = float(column.GetValue(r))
                row[key] = None if math.isnan(v) else v
        rows.append(row)
    return rows


# ----------------------------------------------------------------------------------- sequences
def _node_name(node) -> str:
    if node is None:
        return "<no node>"
    try:
        return node.GetName() or node.GetID() or node.GetClassName()
    except AttributeError:
        return str(node)


def _sequence_of(node):
    if node is None:
        raise InputError("cine input: no node selected")
    if node.IsA("vtkMRMLSequenceBrowserNode"):
        getter = getattr(node, "GetPrimarySequenceNode", None) or getattr(node, "GetMasterSequenceNode")
        sequence = getter()
        if sequence is None:
            raise InputError(f"{_node_name(node)}: the sequence browser has no sequence")
        return sequence
    if node.IsA("vtkMRMLSequenceNode"):
        return node
    if node.IsA("vtkMRMLVolumeNode"):
        raise InputError(f"{_node_name(node)}: is a 3D volume; a cine needs a time sequence")
    raise InputError(f"{_node_name(node)}: is a {node.GetClassName()}, not a cine sequence")


def _frame_interval_ms(sequence, n: int) -> float | None:
    try:
        values = [float(sequence.GetNthIndexValue(i)) for i in range(n)]
    except (ValueError, TypeError):
        return None
    if n < 2:
        return None
    step = float(np.median(np.diff(values)))
    if step <= 0:
        return None
    unit = (sequence.GetIndexUnit() or "").strip().lower()
    return step * 1000.0 if unit in ("s", "sec", "second", "seconds") else step


def study_from_volume_sequence(node, min_frames: int = 8) -> CineStudy:
    """CineStudy from a sequence browser / sequence node of scalar volumes (one volume per frame).

    Each frame is a (slices, rows, cols) volume; all frames must share geometry and shape. The shared input
    checks of `pscgan.io` apply (at least `min_frames` frames, sensible image size and geometry).
    A single 3D volume node raises InputError("... is a 3D volume; a cine needs a time sequence").
    """
    sequence = _sequence_of(node)
    name = _node_name(node)
    n = sequence.GetNumberOfDataNodes()
    if n < 1:
        raise InputError(f"{name}: the sequence is empty; a cine needs at least {min_frames} frames")
    frames, geometry = [], None
    for t in range(n):
        frame = sequence.GetNthDataNode(t)
        if frame is None or not frame.IsA("vtkMRMLScalarVolumeNode"):
            kind = "nothing" if frame is None else frame.GetClassName()
            raise InputError(f"{name}: frame {t} is {kind}, not a scalar volume")
        m = node_ijk_to_ras(frame)
        array = array_from_volume_node(frame)
        if geometry is None:
            geometry = m
            shape = array.shape
        elif array.shape != shape or not np.allclose(m, geometry, atol=1e-4):
            raise InputError(f"{name}: frame {t} has a different size or position from frame 0")
        frames.append(array.astype(np.float32))
    spacing, origin, direction = geometry_from_ijk_to_ras(geometry)
    pixels = np.stack(frames, axis=1)  # (S, T, R, C)
    interval = _frame_interval_ms(sequence, n)
    return validated_study(pixels, spacing, origin, direction, interval if interval is not None else 40.0, name, min_frames)


def sequence_node_from_study(scene, study: CineStudy, name: str, with_browser: bool = True):
    """Sequence (and browser) node of the study's frames, like a 4D NIfTI loaded in Slicer. Returns the browser
    node when with_browser, else the sequence node. Used by the sample data and the tests."""
    import slicer

    sequence = slicer.vtkMRMLSequenceNode()
    sequence.SetName(name)
    sequence.SetIndexName("time")
    sequence.SetIndexUnit("ms")
    for t in range(study.num_frames):
        frame = volume_node_from_array(None, study.pixels[:, t], study, f"{name}_{t:02d}")
        sequence.SetDataNodeAtValue(frame, f"{t * study.frame_interval_ms:g}")
    if scene is not None:
        scene.AddNode(sequence)
    if not with_browser:
        return sequence
    browser = slicer.vtkMRMLSequenceBrowserNode()
    browser.SetName(name)
    if scene is not None:
        scene.AddNode(browser)
        browser.SetAndObserveMasterSequenceNodeID(sequence.GetID()) if not hasattr(
            browser, "SetAndObservePrimarySequenceNodeID",
        ) else browser.SetAndObservePrimarySequenceNodeID(sequence.GetID())
    return browser
