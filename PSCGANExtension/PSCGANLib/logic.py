"""PipelineLogic: cine sequence node -> LGE volume, segmentation and metrics table on an explicit scene.

Everything is computed and built off-scene first; nodes are added (or chosen nodes overwritten) only
after the whole run succeeded, so a failure or a cancel leaves the scene exactly as it was. The
logic is synchronous: the Widget runs it in a worker thread and polls its progress.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pscgan.errors import CheckpointError, InputError
from pscgan.io.study import CineStudy
from pscgan.mrml import nodes as mrml

from . import nodes as scene_nodes

ProgressFn = Callable[[int, int, str], None]
CancelFn = Callable[[], bool]
PredictorFactory = Callable[[Path | None, str], Any]  # (checkpoint or None for the bundled one, device) -> predictor

LGE_NAME = "PSCGAN LGE-equivalent"
SEGMENTATION_NAME = "PSCGAN segmentation"
TABLE_NAME = "PSCGAN metrics"
RV_ANTERIOR_NAME = "PSCGAN RV anterior insertion"
RV_INFERIOR_NAME = "PSCGAN RV inferior insertion"
DEVICES = ("auto", "cuda", "cpu")
TABLE_COLUMN_DESCRIPTIONS = {
    "slice": "slice number (1 = first slice of the stack) or 'study'",
    "level": "AHA level (basal, mid, apical)",
    "segment": "AHA segment number ('' = whole slice)",
    "segment_name": "AHA segment name",
    "scar_area_cm2": "scar area (cm2)",
    "myocardium_area_cm2": "myocardium area incl. scar (cm2)",
    "scar_ratio": "scar area / myocardium area",
    "transmurality_pct": "mean scar transmurality along radial chords (%)",
    "rv_insertion_source": "where the RV insertion points orienting the AHA segments came from: detected, markup, meta or "
                           "default (120 degrees, detection failed)",
    "rv_anterior_row": "anterior RV insertion used, pixel row", "rv_anterior_col": "anterior RV insertion used, pixel column",
    "rv_inferior_row": "inferior RV insertion used, pixel row", "rv_inferior_col": "inferior RV insertion used, pixel column",
}


def default_predictor_factory(checkpoint: Path | None, device: str):
    """Load the bundled (or given) checkpoint; a missing torch becomes a one-line CheckpointError."""
    try:
        from pscgan.inference import Predictor
    except ImportError as err:
        raise CheckpointError(f"PyTorch is not available ({err.name}): install it through the PyTorch extension") from None
    return Predictor.load(checkpoint, device=device)


def default_study_runner(study: CineStudy, predictor, **kwargs):
    from pscgan.pipeline import run_study

    return run_study(study, predictor, **kwargs)


@dataclass
class RunOptions:
    """What the panel's Options and Outputs sections hold."""

    device: str = "auto"  # auto | cuda | cpu
    checkpoint: Path | None = None  # None: the model bundled with the module
    overwrite: bool = False  # replace the chosen output nodes; else results go to new nodes


@dataclass
class PreparedRun:
    """Everything read from the scene before the (thread-safe) computation starts."""

    study: CineStudy
    predictor: Any
    options: RunOptions
    center_rc: tuple[float, float] | None = None
    rv_insertion_rc: list | None = None  # per slice anterior (row, col) from the user's markup (None: detect)
    rv_inferior_rc: list | None = None  # per slice inferior (row, col)


@dataclass
class OutputNodes:
    lge: Any  # vtkMRMLScalarVolumeNode
    segmentation: Any  # vtkMRMLSegmentationNode
    table: Any  # vtkMRMLTableNode
    result: Any = None  # pscgan.pipeline.StudyResult
    rv_anterior: Any = None  # vtkMRMLMarkupsFiducialNode: the anterior insertion used, one point per slice
    rv_inferior: Any = None  # vtkMRMLMarkupsFiducialNode: the inferior insertion used
    notes: list[str] = field(default_factory=list)


class PipelineLogic:
    """All module logic on `scene` (slicer.mrmlScene in Slicer, a vtkMRMLScene on slicer-core)."""

    def __init__(self, scene, predictor_factory: PredictorFactory | None = None, study_runner: Callable | None = None):
        self.scene = scene
        self.predictor_factory = predictor_factory or default_predictor_factory
        self.study_runner = study_runner or default_study_runner
        self._predictors: dict[tuple, Any] = {}

    # ------------------------------------------------------------------ inputs
    def study_from_input(self, cine_node) -> CineStudy:
        return mrml.study_from_volume_sequence(cine_node)

    def predictor(self, options: RunOptions):
        """Cached per (checkpoint, device); bad checkpoints raise CheckpointError before anything is built."""
        if options.device not in DEVICES:
            raise InputError(f"device {options.device!r}: choose one of {', '.join(DEVICES)}")
        checkpoint = Path(options.checkpoint) if options.checkpoint else None
        if checkpoint is not None and not checkpoint.is_file():
            raise CheckpointError(f"{checkpoint}: checkpoint file not found")
        key = (str(checkpoint), options.device)
        if key not in self._predictors:
            self._predictors[key] = self.predictor_factory(checkpoint, options.device)
        return self._predictors[key]

    def model_description(self, options: RunOptions) -> str:
        """What the panel's model label says: the loaded bundle's name, configuration, training data and
        SHA-256 prefix; before it is loaded (on Apply), which file will be used."""
        checkpoint = Path(options.checkpoint) if options.checkpoint else None
        predictor = self._predictors.get((str(checkpoint), options.device))
        if predictor is not None and hasattr(predictor, "describe"):
            return predictor.describe()
        name = checkpoint.name if checkpoint is not None else "bundled model"
        return f"{name} (details shown once it is loaded on Apply)"

    # ------------------------------------------------------------------ run
    def background_job(self, prepared: PreparedRun, **callbacks):
        """`compute` in a worker thread (PSCGANLib.job.BackgroundJob, not started); callbacks: on_progress,
        on_done(result), on_cancelled, on_error(line). Commit the result in on_done (main thread)."""
        from .job import BackgroundJob

        return BackgroundJob(lambda progress, cancel: self.compute(prepared, progress, cancel),
                             total=prepared.study.num_slices, **callbacks)

    @staticmethod
    def done_message(out: OutputNodes) -> str:
        """The status line after a run: figures, where the AHA orientation came from, notes."""
        summary = out.result.summary
        quant = [q for q in out.result.quantification if q is not None]
        sources = sorted({q.insertion_source for q in quant if q.insertion_source})
        orientation = f" RV insertion: {', '.join(sources)} (markups '{RV_ANTERIOR_NAME}' / '{RV_INFERIOR_NAME}')." \
            if sources else ""
        return (f"Done. Scar {summary.get('scar_area_cm2')} cm2, scar ratio {summary.get('scar_ratio')}.{orientation} "
                + " ".join(out.notes)).strip()

    def prepare(self, cine_node, options: RunOptions | None = None, roi_center_node=None, rv_insertion_node=None,
                rv_inferior_node=None) -> PreparedRun:
        """Main thread: read the input nodes and load the model. Raises before anything is computed.

        rv_insertion_node / rv_inferior_node: markups of the anterior / inferior RV insertion (one point for
        every slice, or one per slice); they override the detection on the slices they cover."""
        options = options or RunOptions()
        study = self.study_from_input(cine_node)
        center = scene_nodes.point_rc(roi_center_node, study, "ROI centre")
        anterior = scene_nodes.slice_points_rc(rv_insertion_node, study, "anterior RV insertion")
        inferior = scene_nodes.slice_points_rc(rv_inferior_node, study, "inferior RV insertion")
        return PreparedRun(study=study, predictor=self.predictor(options), options=options, center_rc=center,
                           rv_insertion_rc=anterior, rv_inferior_rc=inferior)

    def compute(self, prepared: PreparedRun, progress: ProgressFn | None = None, should_cancel: CancelFn | None = None):
        """Any thread: the model and the measurements; touches no node (so it may run in a worker thread)."""
        return self.study_runner(
            prepared.study,
            prepared.predictor,
            centers_rc=prepared.center_rc,
            rv_insertion_rc=prepared.rv_insertion_rc,
            rv_inferior_rc=prepared.rv_inferior_rc,
            rv_source="markup",
            progress=progress,
            should_cancel=should_cancel,
        )

    def commit(self, prepared: PreparedRun, result, lge_node=None, segmentation_node=None, table_node=None,
               rv_anterior_node=None, rv_inferior_node=None) -> OutputNodes:
        """Main thread: build the nodes off-scene, then add them (or overwrite the chosen ones) and show them.

        The RV insertion points used go into markups (the given nodes, else new ones), one control point per
        slice labelled with its source, so that the user sees them and can drag them before "Recompute metrics"."""
        study, overwrite = prepared.study, prepared.options.overwrite
        seg_new = mrml.segmentation_node_from_labels(None, result.labels, study, SEGMENTATION_NAME)
        table_new = mrml.table_node_from_rows(None, result.table_rows, TABLE_NAME)
        nodes = OutputNodes(lge=None, segmentation=None, table=None, result=result, notes=list(result.notes))
        if result.lge is not None:  # None: a segmentation-only model; no LGE node, the chosen one is left alone
            lge_new = mrml.volume_node_from_array(None, result.lge, study, LGE_NAME)
            nodes.lge = self._commit_volume(lge_new, lge_node, overwrite, LGE_NAME)
        nodes.segmentation = self._commit_segmentation(seg_new, segmentation_node, overwrite, nodes.lge, result.labels, study)
        nodes.table = self._commit_table(table_new, table_node, overwrite, TABLE_NAME)
        nodes.rv_anterior, nodes.rv_inferior = self._commit_insertions(result.quantification, study, rv_anterior_node,
                                                                       rv_inferior_node)
        if nodes.lge is not None:
            self._describe_lge(nodes.lge, prepared)
            mrml.ensure_display(self.scene, nodes.lge)
        scene_nodes.show_results(self.scene, nodes.lge, nodes.segmentation, nodes.table)
        return nodes

    def run(
        self,
        cine_node,
        *,
        options: RunOptions | None = None,
        lge_node=None,
        segmentation_node=None,
        table_node=None,
        roi_center_node=None,
        rv_insertion_node=None,
        rv_inferior_node=None,
        progress: ProgressFn | None = None,
        should_cancel: CancelFn | None = None,
    ) -> OutputNodes:
        """prepare + compute + commit in one call. A failure or cancel before commit leaves the scene unchanged."""
        prepared = self.prepare(cine_node, options, roi_center_node, rv_insertion_node, rv_inferior_node)
        result = self.compute(prepared, progress, should_cancel)
        return self.commit(prepared, result, lge_node, segmentation_node, table_node, rv_insertion_node, rv_inferior_node)

    # ------------------------------------------------------------------ commit (scene changes happen only here)
    def _commit_volume(self, built, chosen, overwrite: bool, name: str):
        target = scene_nodes.target_node(self.scene, chosen, overwrite)
        if target is None:
            built.SetName(scene_nodes.unique_name(self.scene, name))
            self.scene.AddNode(built)
            return built
        target.SetIJKToRASMatrix(_matrix(built))
        target.SetAndObserveImageData(built.GetImageData())
        return target

    def _commit_segmentation(self, built, chosen, overwrite: bool, source_volume, labels, study: CineStudy):
        target = scene_nodes.target_node(self.scene, chosen, overwrite)
        if target is None:
            built.SetName(scene_nodes.unique_name(self.scene, SEGMENTATION_NAME))
            self.scene.AddNode(built)
            target = built
        else:
            mrml.segmentation_node_from_labels(None, labels, study, target.GetName(), node=target)
        if target.GetDisplayNode() is None:
            target.CreateDefaultDisplayNodes()
        if source_volume is not None:  # else the study's geometry, set by segmentation_node_from_labels, stays
            target.SetReferenceImageGeometryParameterFromVolumeNode(source_volume)
        return target

    def _commit_insertions(self, quantification, study: CineStudy, anterior_node, inferior_node):
        """Markups of the insertion points used (given nodes updated, else new ones); (anterior, inferior)."""
        quant = list(quantification or [])
        labels = [f"slice {s + 1}: {q.insertion_source}" if q is not None else "" for s, q in enumerate(quant)]
        out = []
        for node, name, attr in ((anterior_node, RV_ANTERIOR_NAME, "anterior_insertion_rc"),
                                 (inferior_node, RV_INFERIOR_NAME, "inferior_insertion_rc")):
            points = [None if q is None else getattr(q, attr) for q in quant]
            if node is None:
                if not any(p is not None for p in points):
                    out.append(None)
                    continue
                node = self.scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", scene_nodes.unique_name(self.scene, name))
            scene_nodes.set_slice_points(node, points, labels, study)
            out.append(node)
        return tuple(out)

    def _describe_lge(self, lge_node, prepared: PreparedRun) -> None:
        """What the LGE-equivalent volume is: which part of it the model synthesised."""
        from pscgan.pipeline import lge_description

        lge_node.SetDescription(lge_description(getattr(prepared.predictor, "preprocess", None)))
        lge_node.SetAttribute("PSCGAN.output", "lge")  # export refuses it as a "real" LGE

    def _commit_table(self, built, chosen, overwrite: bool, name: str):
        target = scene_nodes.target_node(self.scene, chosen, overwrite)
        if target is None:
            built.SetName(scene_nodes.unique_name(self.scene, name))
            self.scene.AddNode(built)
            target = built
        else:
            target.SetLocked(False)
            target.SetAndObserveTable(built.GetTable())
            target.SetLocked(True)
        for column, text in TABLE_COLUMN_DESCRIPTIONS.items():
            if target.GetTable().GetColumnByName(column) is not None:
                target.SetColumnDescription(column, text)
        return target

    # ------------------------------------------------------------------ recompute metrics
    def recompute_metrics(self, segmentation_node, cine_node, table_node=None, overwrite: bool = True, rv_insertion_node=None,
                          rv_inferior_node=None):
        """Re-measure from a (corrected) segmentation and the (dragged) RV insertion markups, detecting the points
        on slices they do not cover; writes into table_node (overwrite) or a new table. Returns (table, rows)."""
        from pscgan.pipeline import quantify_study

        study = self.study_from_input(cine_node)
        labels = mrml.labels_from_segmentation_node(segmentation_node, study)
        anterior = scene_nodes.slice_points_rc(rv_insertion_node, study, "anterior RV insertion")
        inferior = scene_nodes.slice_points_rc(rv_inferior_node, study, "inferior RV insertion")
        _quant, _summary, rows = quantify_study(labels, study, rv_insertion_rc=anterior, rv_inferior_rc=inferior,
                                                rv_source="markup")
        built = mrml.table_node_from_rows(None, rows, TABLE_NAME)
        return self._commit_table(built, table_node, overwrite, TABLE_NAME), rows

    @staticmethod
    def recompute_message(rows: list[dict]) -> str:
        """The status line after "Recompute metrics", with a warning for slices on the default orientation."""
        default = [str(r["slice"]) for r in rows if r.get("segment") == "" and r.get("rv_insertion_source") == "default"]
        warning = (f" RV insertion not detected on slice(s) {', '.join(default)}: default 120-degree AHA orientation "
                   "used there; place the RV insertion markups.") if default else ""
        return "Metrics recomputed from the segmentation and the RV insertion markups." + warning

    # ------------------------------------------------------------------ export
    def export_case_for_training(self, cine_node, real_lge_node, segmentation_node, folder: Path) -> Path:
        """Write the cine, the (corrected) labels and, when the user has one, the patient's REAL LGE (resampled to
        the cine) as a training case folder; see PSCGANLib.export. The model's own LGE-equivalent image is
        refused: a case trained on it would teach the synthesis phase to copy itself."""
        from .export import export_case, resample_to_study

        study = self.study_from_input(cine_node)
        labels = mrml.labels_from_segmentation_node(segmentation_node, study)
        lge, source = None, None
        if real_lge_node is not None:
            name = real_lge_node.GetName()
            if name.startswith(LGE_NAME) or real_lge_node.GetAttribute("PSCGAN.output") == "lge":
                raise InputError(f"{name}: this is the model's own LGE-equivalent image, not a real LGE; select the "
                                 "patient's LGE volume or none")
            if real_lge_node.GetParentTransformNode() is not None:
                raise InputError(f"{name}: has a transform; harden it (Data module) before exporting")
            lge = resample_to_study(mrml.array_from_volume_node(real_lge_node), mrml.node_ijk_to_ras(real_lge_node),
                                    study, labels, name)
            source = f"real LGE '{name}', resampled to the cine geometry"
        return export_case(study, lge, labels, Path(folder), lge_source=source)


def _matrix(node):
    import vtk

    m = vtk.vtkMatrix4x4()
    node.GetIJKToRASMatrix(m)
    return m
