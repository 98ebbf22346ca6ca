"""lge.nrrd and segmentation.seg.nrrd written (and read back) through Slicer's own storage nodes.

Files written here load in Slicer with segment names, colours and terminology intact, because they
are written by the same code Slicer uses. Each file is written under a temporary name in the target
folder and moved into place (pscgan.io.atomic), so a failure leaves no half-written file behind.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError, PSCGANError
from ..io.atomic import write_file
from ..io.study import CineStudy
from . import nodes as N

LGE_FILE = "lge.nrrd"
SEGMENTATION_FILE = "segmentation.seg.nrrd"


@dataclass
class SegmentInfo:
    """What a reloaded segment carries besides its voxels."""

    segment_id: str
    name: str
    color: tuple[float, float, float]
    terminology: str


def _write_with_storage(node, storage, final: Path) -> Path:
    def write(tmp: Path) -> None:
        tmp.unlink()  # the storage node would report that it replaces the (empty) placeholder
        storage.SetFileName(str(tmp))
        if not storage.WriteData(node) or not tmp.is_file() or tmp.stat().st_size == 0:
            raise PSCGANError(f"{final}: could not be written")

    suffix = "".join(final.suffixes)  # keeps ".seg.nrrd" so the storage node picks the right writer
    return write_file(final, write, suffix=suffix)


def write_volume_nrrd(node, path: Path, compress: bool = True) -> Path:
    """A scalar volume node to .nrrd through vtkMRMLVolumeArchetypeStorageNode."""
    import slicer

    storage = slicer.vtkMRMLVolumeArchetypeStorageNode()
    storage.SetUseCompression(bool(compress))
    return _write_with_storage(node, storage, Path(path))


def write_segmentation_nrrd(node, path: Path, compress: bool = True) -> Path:
    """A segmentation node to .seg.nrrd through vtkMRMLSegmentationStorageNode (names, colours, terminology kept)."""
    import slicer

    storage = slicer.vtkMRMLSegmentationStorageNode()
    storage.SetUseCompression(bool(compress))
    return _write_with_storage(node, storage, Path(path))


def write_mrml_outputs(lge: np.ndarray | None, labels: np.ndarray, study: CineStudy, out_dir: Path) -> dict[str, Path]:
    """Write lge.nrrd (S, R, C float32; not when lge is None) and segmentation.seg.nrrd (labels (S, R, C)
    uint8) into out_dir. Without an LGE the segmentation takes its geometry from the labels themselves."""
    import slicer

    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise InputError(f"{out_dir}: output folder does not exist")
    scene = slicer.vtkMRMLScene()  # private scene: nothing leaks into a caller's scene
    volume = N.volume_node_from_array(scene, np.asarray(labels if lge is None else lge, np.float32), study,
                                      "geometry" if lge is None else "LGE-equivalent")
    segmentation = N.segmentation_node_from_labels(scene, labels, study, "Segmentation", source_volume_node=volume)
    written: dict[str, Path] = {}
    try:
        if lge is not None:
            written[LGE_FILE] = write_volume_nrrd(volume, out_dir / LGE_FILE)
        written[SEGMENTATION_FILE] = write_segmentation_nrrd(segmentation, out_dir / SEGMENTATION_FILE)
    except BaseException:
        for path in written.values():
            path.unlink(missing_ok=True)
        raise
    finally:
        scene.Clear(1)
    return written


def _reference_study(path: Path, image) -> CineStudy:
    """A 1-frame CineStudy carrying the geometry of an oriented image (for resampling labels onto it)."""
    import vtk

    m = vtk.vtkMatrix4x4()
    image.GetImageToWorldMatrix(m)
    extent = image.GetExtent()
    shape = (extent[5] - extent[4] + 1, extent[3] - extent[2] + 1, extent[1] - extent[0] + 1)
    ijk = N._numpy_matrix(m)
    ijk[:3, 3] = ijk[:3, :3] @ np.array([extent[0], extent[2], extent[4]], float) + ijk[:3, 3]
    spacing, origin, direction = N.geometry_from_ijk_to_ras(ijk)
    return CineStudy(pixels=np.zeros((shape[0], 1, shape[1], shape[2]), np.float32), spacing=spacing, origin=origin,
                     direction=direction, source=str(path))


def read_segmentation_file(path: Path, study: CineStudy | None = None) -> tuple[np.ndarray, list[SegmentInfo], CineStudy]:
    """Load a .seg.nrrd through vtkMRMLSegmentationStorageNode.

    Returns (labels (S, R, C) uint8 on `study`'s grid or the file's own reference grid, the segments'
    info, the geometry used as a 1-frame CineStudy).
    """
    import slicer

    path = Path(path)
    with _read_node(path, slicer.vtkMRMLSegmentationNode, slicer.vtkMRMLSegmentationStorageNode,
                    "segmentation") as node:
        segmentation = node.GetSegmentation()
        infos = []
        for i in range(segmentation.GetNumberOfSegments()):
            segment = segmentation.GetNthSegment(i)
            infos.append(
                SegmentInfo(
                    segment_id=segmentation.GetNthSegmentID(i),
                    name=segment.GetName(),
                    color=tuple(float(c) for c in segment.GetColor()),
                    terminology=N.segment_terminology(segment),
                ),
            )
        if study is None:
            geometry = slicer.vtkOrientedImageData()
            parameter = segmentation.GetConversionParameter(
                slicer.vtkSegmentationConverter.GetReferenceImageGeometryParameterName(),
            )
            if not parameter or not slicer.vtkSegmentationConverter.DeserializeImageGeometry(parameter, geometry, False):
                raise InputError(f"{path}: has no reference image geometry")
            study = _reference_study(path, geometry)
        labels = N.labels_from_segmentation_node(node, study)
        return labels, infos, study


def read_volume_file(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Load a scalar volume through vtkMRMLVolumeArchetypeStorageNode: ((S, R, C) array, 4x4 IJK->RAS)."""
    import slicer

    path = Path(path)
    with _read_node(path, slicer.vtkMRMLScalarVolumeNode, slicer.vtkMRMLVolumeArchetypeStorageNode, "volume") as node:
        return N.array_from_volume_node(node), N.node_ijk_to_ras(node)


@contextmanager
def _read_node(path: Path, node_class, storage_class, what: str):
    """A node of `node_class` read from `path` by a `storage_class` storage node, in a private scene that
    is cleared when the block ends; InputError when the file is missing or the storage node cannot read it."""
    import slicer

    if not path.is_file():
        raise InputError(f"{path}: file not found")
    scene = slicer.vtkMRMLScene()
    try:
        node = node_class()
        scene.AddNode(node)
        storage = storage_class()
        scene.AddNode(storage)
        storage.SetFileName(str(path))
        if not storage.ReadData(node):
            raise InputError(f"{path}: is not a readable {what} file")
        yield node
    finally:
        scene.Clear(1)
