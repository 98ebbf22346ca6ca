"""Scene-specific helpers of the module: unique names, output-node choice, markups -> pixel points, display.

`pscgan.mrml.nodes` converts arrays and studies; this file decides which node receives a result and how
it is shown. Slicer-application calls (layout, slice viewers) are skipped on slicer-core.
"""
from __future__ import annotations

import numpy as np

from pscgan.errors import InputError
from pscgan.io.study import CineStudy
from pscgan.mrml.nodes import LPS_TO_RAS

# Layout "Four-Up Table" in Slicer (vtkMRMLLayoutNode.SlicerLayoutFourUpTableView).
FOUR_UP_TABLE_LAYOUT = 25


def unique_name(scene, base: str) -> str:
    """`base` if no node in the scene carries it, else Slicer's next unique variant ("base_1", ...)."""
    if scene.GetFirstNodeByName(base) is None:
        return base
    return scene.GenerateUniqueName(base)


def target_node(scene, chosen, overwrite: bool):
    """The node to overwrite, or None to create a new one: a chosen node is replaced only when overwrite is set."""
    if chosen is None or not overwrite:
        return None
    if chosen.GetScene() is not scene:
        raise InputError(f"{chosen.GetName()}: output node is not in this scene")
    return chosen


def point_rc(markups_node, study: CineStudy, what: str) -> tuple[float, float] | None:
    """(row, col) pixel position of the first control point of a markups node (None if no node).

    The point is projected along the slice axis: the same (row, col) holds for every slice of the stack.
    """
    if markups_node is None:
        return None
    if markups_node.GetNumberOfControlPoints() < 1:
        raise InputError(f"{markups_node.GetName()}: {what} has no control point")
    i, j, _k = _ijk(markups_node, 0, study)
    rows, cols = study.slice_shape
    if not (-0.5 <= j <= rows - 0.5 and -0.5 <= i <= cols - 0.5):
        raise InputError(f"{markups_node.GetName()}: {what} lies outside the cine's field of view")
    return float(j), float(i)


def _ijk(markups_node, n: int, study: CineStudy) -> np.ndarray:
    """(i, j, k) voxel indices of the control point `n` of a markups node."""
    ras = [0.0, 0.0, 0.0]
    markups_node.GetNthControlPointPositionWorld(n, ras)
    lps = LPS_TO_RAS @ np.asarray(ras, float)
    d = np.asarray(study.direction, float).reshape(3, 3) * np.asarray(study.spacing, float)
    return np.linalg.solve(d, lps - np.asarray(study.origin, float))


def slice_points_rc(markups_node, study: CineStudy, what: str) -> list | None:
    """Per-slice (row, col) points of a markups node: None without a node.

    One control point holds for every slice (projected along the slice axis); with several, each
    belongs to the slice it lies on (nearest slice index), and slices without one get None. A point
    outside the cine's field of view or between no slices is an InputError naming the node.
    """
    if markups_node is None:
        return None
    count = markups_node.GetNumberOfControlPoints()
    if count < 1:
        raise InputError(f"{markups_node.GetName()}: {what} has no control point")
    if count == 1:
        return [point_rc(markups_node, study, what)] * study.num_slices
    points: list = [None] * study.num_slices
    rows, cols = study.slice_shape
    for n in range(count):
        i, j, k = _ijk(markups_node, n, study)
        s = int(round(float(k)))
        if not (0 <= s < study.num_slices and -0.5 <= j <= rows - 0.5 and -0.5 <= i <= cols - 0.5):
            raise InputError(f"{markups_node.GetName()}: {what} point {n + 1} lies outside the cine's slices")
        points[s] = (float(j), float(i))
    return points


def set_slice_points(markups_node, points_rc: list, labels: list[str], study: CineStudy) -> None:
    """Replace the control points of a markups node by one per slice that has a point (row, col)."""
    markups_node.RemoveAllControlPoints()
    for s, (point, label) in enumerate(zip(points_rc, labels)):
        if point is None:
            continue
        lps = study.index_to_lps(float(point[1]), float(point[0]), float(s))
        markups_node.AddControlPoint([float(v) for v in LPS_TO_RAS @ lps], label)


def show_results(scene, lge_node, segmentation_node, table_node) -> None:
    """LGE in the background (kept as it is when lge_node is None), segmentation as overlay, table in the
    four-up-table layout (Slicer app only)."""
    if segmentation_node is not None and segmentation_node.GetDisplayNode() is not None:
        segmentation_node.GetDisplayNode().SetVisibility(True)
    try:
        import slicer

        app = slicer.app
    except AttributeError:
        return  # slicer-core: no views to update
    if lge_node is not None:
        slicer.util.setSliceViewerLayers(background=lge_node, fit=True)
    layout_manager = app.layoutManager()
    if layout_manager is not None and table_node is not None:
        layout_manager.setLayout(FOUR_UP_TABLE_LAYOUT)
        app.applicationLogic().GetSelectionNode().SetActiveTableID(table_node.GetID())
        app.applicationLogic().PropagateTableSelection()
