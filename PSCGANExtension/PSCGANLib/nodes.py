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
    ras = [0.0, 0.0, 0.0]
    markups_node.GetNthControlPointPositionWorld(0, ras)
    lps = LPS_TO_RAS @ np.asarray(ras, float)
    d = np.asarray(study.direction, float).reshape(3, 3) * np.asarray(study.spacing, float)
    i, j, _k = np.linalg.solve(d, lps - np.asarray(study.origin, float))
    rows, cols = study.slice_shape
    if not (-0.5 <= j <= rows - 0.5 and -0.5 <= i <= cols - 0.5):
        raise InputError(f"{markups_node.GetName()}: {what} lies outside the cine's field of view")
    return float(j), float(i)


def show_results(scene, lge_node, segmentation_node, table_node) -> None:
    """LGE in the background, segmentation as overlay, table in the four-up-table layout (Slicer app only)."""
    if segmentation_node is not None and segmentation_node.GetDisplayNode() is not None:
        segmentation_node.GetDisplayNode().SetVisibility(True)
    try:
        import slicer

        app = slicer.app
    except AttributeError:
        return  # slicer-core: no views to update
    slicer.util.setSliceViewerLayers(background=lge_node, fit=True)
    layout_manager = app.layoutManager()
    if layout_manager is not None and table_node is not None:
        layout_manager.setLayout(FOUR_UP_TABLE_LAYOUT)
        app.applicationLogic().GetSelectionNode().SetActiveTableID(table_node.GetID())
        app.applicationLogic().PropagateTableSelection()
