"""The module's background run (PSCGANLib.job.BackgroundJob) with injected logic, as the Widget drives it:
progress is polled, cancel mid-run leaves the scene unchanged, an error reaches the user as one line, and
results are committed on the polling (main) thread only."""
from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest

slicer = pytest.importorskip("slicer")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_slicer_logic import FakeRunner, S, fake_factory, node_ids, study  # noqa: E402, F401

from pscgan.errors import Cancelled, InputError  # noqa: E402
from pscgan.mrml import nodes as mrml  # noqa: E402
from PSCGANLib.job import BackgroundJob, one_line  # noqa: E402
from PSCGANLib.logic import PipelineLogic  # noqa: E402

TIMEOUT = 20.0


class SteppedRunner(FakeRunner):
    """FakeRunner that waits at each slice until the test lets it go on (so "mid-run" is exact)."""

    def __init__(self, fail_at: int | None = None):
        super().__init__()
        self.fail_at = fail_at
        self.reached = threading.Semaphore(0)
        self.proceed = threading.Semaphore(0)

    def __call__(self, study, predictor, *, progress=None, should_cancel=None, **kwargs):
        def gated_progress(done, total, message):
            if progress:
                progress(done, total, message)
            self.reached.release()
            assert self.proceed.acquire(timeout=TIMEOUT)
            if self.fail_at is not None and done == self.fail_at:
                raise RuntimeError("CUDA error: an illegal memory access\nwas encountered")

        return super().__call__(study, predictor, progress=gated_progress, should_cancel=should_cancel, **kwargs)


class Panel:
    """What the Widget does with the callbacks: remember them, commit on done (on the polling thread)."""

    def __init__(self, logic, prepared):
        self.logic, self.prepared = logic, prepared
        self.progress, self.errors, self.cancelled, self.out = [], [], 0, None
        self.commit_threads = []

    def callbacks(self):
        return dict(on_progress=lambda d, t, m: self.progress.append((d, t)), on_done=self.done,
                    on_cancelled=self.on_cancelled, on_error=self.errors.append)

    def done(self, result):
        self.commit_threads.append(threading.current_thread())
        self.out = self.logic.commit(self.prepared, result)

    def on_cancelled(self):
        self.cancelled += 1


def poll_until_finished(job: BackgroundJob) -> None:
    deadline = time.monotonic() + TIMEOUT
    while job.poll():
        assert time.monotonic() < deadline, "job did not finish"
        time.sleep(0.005)


@pytest.fixture()
def scene_logic(study):  # noqa: F811
    scene = slicer.vtkMRMLScene()
    browser = mrml.sequence_node_from_study(scene, study, "cine")
    return scene, browser


def start(scene, browser, runner):
    logic = PipelineLogic(scene, fake_factory, runner)
    prepared = logic.prepare(browser)
    panel = Panel(logic, prepared)
    return panel, logic.background_job(prepared, **panel.callbacks()).start()


def test_run_reports_progress_and_commits_on_the_polling_thread(scene_logic):
    scene, browser = scene_logic
    runner = SteppedRunner()
    panel, job = start(scene, browser, runner)
    for _ in range(S):
        assert runner.reached.acquire(timeout=TIMEOUT)
        assert job.poll() and job.running  # still running: nothing committed yet
        runner.proceed.release()
    poll_until_finished(job)
    assert panel.out is not None and panel.out.lge.GetScene() is scene
    assert panel.commit_threads == [threading.current_thread()]
    assert panel.progress[-1] == (S, S) and not panel.errors and panel.cancelled == 0
    assert not job.running and not job.poll()  # the outcome is reported once
    assert panel.commit_threads == [threading.current_thread()]


def test_cancel_mid_run_leaves_the_scene_unchanged(scene_logic):
    scene, browser = scene_logic
    before = node_ids(scene)
    runner = SteppedRunner()
    panel, job = start(scene, browser, runner)
    assert runner.reached.acquire(timeout=TIMEOUT)  # slice 1 done, the worker waits
    job.cancel()
    runner.proceed.release()
    for _ in range(S):  # let any further slices through; the runner stops at its next cancel check
        runner.proceed.release()
    poll_until_finished(job)
    assert panel.cancelled == 1 and panel.out is None and not panel.errors
    assert node_ids(scene) == before


def test_an_error_reaches_the_user_as_one_line(scene_logic):
    scene, browser = scene_logic
    before = node_ids(scene)
    runner = SteppedRunner(fail_at=2)
    panel, job = start(scene, browser, runner)
    for _ in range(S):
        runner.proceed.release()
    poll_until_finished(job)
    assert panel.errors == ["RuntimeError: CUDA error: an illegal memory access was encountered"]
    assert panel.out is None and panel.cancelled == 0 and node_ids(scene) == before


def test_one_line_messages():
    assert one_line(InputError("cine.nii.gz: has 3 frames; a cine needs at least 8")) == \
        "cine.nii.gz: has 3 frames; a cine needs at least 8"
    assert one_line(ValueError("a\n  b")) == "ValueError: a b"
    assert one_line(Cancelled()) == "Cancelled"


def test_a_failing_commit_is_an_error_line_not_a_traceback():
    def boom(result):
        raise InputError("PSCGAN segmentation: output node is not in this scene")

    errors = []
    job = BackgroundJob(lambda progress, cancel: 42, on_done=boom, on_error=errors.append).start()
    assert job.wait(TIMEOUT)
    assert not job.poll() and errors == ["PSCGAN segmentation: output node is not in this scene"]
    with pytest.raises(RuntimeError):
        job.start()


def test_widget_uses_the_job_and_recognises_cancel_by_type():
    text = (Path(__file__).resolve().parents[1] / "PSCGANExtension" / "PSCGAN.py").read_text()
    assert "BackgroundJob" in text or "background_job" in text
    assert "threading" not in text and "__name__ != \"Cancelled\"" not in text
    source = (Path(__file__).resolve().parents[1] / "PSCGANExtension" / "PSCGANLib" / "job.py").read_text()
    assert "except Cancelled" in source
