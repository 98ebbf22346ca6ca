"""Logic of the PSCGAN Slicer module: runs on an explicit MRML scene (Slicer application or slicer-core).

Nothing here imports Qt or the Slicer application at import time; the Widget in PSCGAN.py is a thin
shell over `PipelineLogic`.
"""
from .logic import OutputNodes, PipelineLogic, PreparedRun, RunOptions

__all__ = ["OutputNodes", "PipelineLogic", "PreparedRun", "RunOptions"]
