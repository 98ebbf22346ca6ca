"""The module's parameter node (`parameterNodeWrapper`), bound to the .ui with connectGui.

Importable only inside the Slicer application (slicer.parameterNodeWrapper is part of it); elsewhere
`PSCGANParameterNode` is None and `AVAILABLE` is False. Each field's name matches the
`SlicerParameterName` property of its widget in Resources/UI/PSCGAN.ui.
"""
from __future__ import annotations

AVAILABLE = False
PSCGANParameterNode = None

try:
    import pathlib
    from typing import Annotated

    from slicer import (
        vtkMRMLMarkupsFiducialNode,
        vtkMRMLScalarVolumeNode,
        vtkMRMLSegmentationNode,
        vtkMRMLSequenceBrowserNode,
        vtkMRMLTableNode,
    )
    from slicer.parameterNodeWrapper import Choice, parameterNodeWrapper
except ImportError:  # slicer-core or plain Python: no parameter node wrapper
    pass
else:

    @parameterNodeWrapper
    class _PSCGANParameterNode:
        """inputCine: cine sequence browser (4D NIfTI, .seq.nrrd or DICOM cine loaded in Slicer).
        roiCenter: optional markup (first control point used).
        rvInsertionAnterior / rvInsertionInferior: optional markups of the RV insertion points (one point for
        every slice, or one per slice); after a run they hold the points used, for the user to drag.
        device: auto | cuda | cpu. useCustomCheckpoint / checkpointPath: another model bundle.
        outputLGE / outputSegmentation / outputTable: chosen output nodes (None: create new).
        overwriteOutputs: replace the chosen nodes; unset, results always go to new nodes.
        exportFolder: where "Export case for training" writes (a new sub-folder per case).
        realLGE: the patient's real LGE volume, exported as the case's lge.nii.gz (else no LGE is exported).
        """

        inputCine: vtkMRMLSequenceBrowserNode
        roiCenter: vtkMRMLMarkupsFiducialNode
        rvInsertionAnterior: vtkMRMLMarkupsFiducialNode
        rvInsertionInferior: vtkMRMLMarkupsFiducialNode
        device: Annotated[str, Choice(["auto", "cuda", "cpu"])] = "auto"
        useCustomCheckpoint: bool = False
        checkpointPath: pathlib.Path
        outputLGE: vtkMRMLScalarVolumeNode
        outputSegmentation: vtkMRMLSegmentationNode
        outputTable: vtkMRMLTableNode
        overwriteOutputs: bool = False
        exportFolder: pathlib.Path
        realLGE: vtkMRMLScalarVolumeNode

    PSCGANParameterNode = _PSCGANParameterNode
    AVAILABLE = True
