"""'PSCGAN phantom cine' for the Sample Data module, generated locally by the phantom (no download).

`load_phantom_cine(scene)` makes a sequence browser + sequence of scalar volumes, exactly what loading a
4D NIfTI cine in Slicer gives, so the module and its self-test see the same kind of input as a user.
"""
from __future__ import annotations

import numpy as np

from pscgan.io.study import CineStudy

SAMPLE_NAME = "PSCGAN phantom cine"
CATEGORY = "Cardiac"


def phantom_study(seed: int = 2024, n_slices: int = 6) -> tuple[CineStudy, np.ndarray]:
    """A phantom short-axis stack: (CineStudy, reference labels (S, R, C))."""
    from pscgan.phantom.generate import generate_study

    cases = generate_study(seed, n_slices)
    meta = cases[0].meta
    rows_mm, cols_mm = (float(v) for v in meta["pixel_spacing_mm"])
    pixels = np.stack([c.cine for c in cases]).astype(np.float32)  # (S, T, R, C)
    study = CineStudy(pixels=pixels, spacing=(cols_mm, rows_mm, 10.0), origin=(0.0, 0.0, 0.0),
                      direction=np.eye(3), frame_interval_ms=float(meta["frame_interval_ms"]), source=SAMPLE_NAME)
    return study, np.stack([c.labels for c in cases]).astype(np.uint8)


def load_phantom_cine(scene, seed: int = 2024, n_slices: int = 6):
    """Add the phantom cine to `scene` as a sequence browser node; returns the browser node."""
    from pscgan.mrml.nodes import sequence_node_from_study

    study, _labels = phantom_study(seed, n_slices)
    return sequence_node_from_study(scene, study, SAMPLE_NAME)


def register_sample_data(icons_path: str) -> None:
    """Register with the Sample Data module (Slicer application only)."""
    import os

    import SampleData
    import slicer

    SampleData.SampleDataLogic.registerCustomSampleDataSource(
        category=CATEGORY,
        sampleName=SAMPLE_NAME,
        thumbnailFileName=os.path.join(icons_path, "PSCGAN.png"),
        loadFiles=False,
        customDownloader=lambda *args, **kwargs: load_phantom_cine(slicer.mrmlScene),
        nodeNames=SAMPLE_NAME,
    )
