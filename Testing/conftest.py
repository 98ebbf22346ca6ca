"""Shared test set-up: offscreen Qt/VTK, few threads (2-core CI), paths to shared data."""
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkOSOpenGLRenderWindow")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest

REPO = Path(__file__).resolve().parents[1]
# The Slicer module's Lib (PSCGANLib) is imported as Slicer imports it: from the module folder.
sys.path.insert(0, str(REPO / "PSCGANExtension"))
SHARED = REPO.parent / "shared"
SUNNYBROOK = SHARED / "data" / "sunnybrook"
ARTIFACTS = REPO / "Testing" / "artifacts"

try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # torch-free suites still run
    pass


@pytest.fixture(scope="session")
def sunnybrook_dir() -> Path:
    if not SUNNYBROOK.is_dir():
        pytest.skip(f"Sunnybrook data not found at {SUNNYBROOK}")
    return SUNNYBROOK


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
