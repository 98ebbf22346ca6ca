"""The output folder: refused before the work when unusable, locked, swapped in whole, cleaned after kill -9.

A small StudyResult is built without a model (labels -> quantify_study), so these tests stay fast; the kill
tests run a real subprocess that kills itself (SIGKILL) at a chosen point through PSCGAN_FAULT_AFTER.
"""
from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from pscgan.errors import InputError
from pscgan.io.study import CineStudy
from pscgan.outfolder import reserve
from pscgan.outputs import OUTPUT_FILES, write_outputs
from pscgan.pipeline import StudyResult, quantify_study

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "PSCGANExtension"), str(ROOT)])}


@pytest.fixture(scope="module")
def result() -> StudyResult:
    yy, xx = np.mgrid[:48, :48]
    r = np.hypot(yy - 24, xx - 24)
    labels = np.zeros((2, 48, 48), np.uint8)
    labels[:, r < 14] = 2
    labels[:, r < 9] = 1
    labels[1, (r >= 9) & (r < 14) & (xx > 30)] = 3
    rng = np.random.default_rng(0)
    study = CineStudy(pixels=rng.random((2, 8, 48, 48)).astype(np.float32), spacing=(1.5, 1.5, 8.0))
    quant, summary, rows = quantify_study(labels, study)
    return StudyResult(study=study, lge=rng.random((2, 48, 48)).astype(np.float32) * 1000, labels=labels,
                       centers_rc=np.full((2, 2), 24.0), levels=["basal", "mid"], quantification=quant,
                       summary=summary, table_rows=rows)


@pytest.fixture(scope="module")
def pickled(result, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("result") / "result.pkl"
    path.write_bytes(pickle.dumps(result))
    return path


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _hidden(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def _write_in_subprocess(pickled: Path, out: Path, fault: str | None = None) -> subprocess.CompletedProcess:
    code = textwrap.dedent(f"""
        import pickle, sys
        from pscgan.outputs import write_outputs
        write_outputs(pickle.loads(open({str(pickled)!r}, "rb").read()), {str(out)!r}, report=False)
    """)
    env = dict(ENV)
    if fault:
        env["PSCGAN_FAULT_AFTER"] = fault
    return subprocess.run([sys.executable, "-c", code], env=env, check=False, capture_output=True, text=True, timeout=120)


# ------------------------------------------------------------------ refused before the work, one line
def test_out_that_is_a_file_is_refused_before_the_model_loads(tmp_path):
    """Both single and batch mode: the message names --out, not the (missing) checkpoint that comes later."""
    out = tmp_path / "out.txt"
    out.write_text("keep me")
    cases = tmp_path / "cases"
    for name in ("case_a", "case_b"):
        (cases / name).mkdir(parents=True)
        (cases / name / "cine.nii.gz").write_bytes(b"x")
    for source, target in ((tmp_path / "study.nii.gz", out), (cases, out), (cases, out / "sub")):
        proc = subprocess.run([sys.executable, "-m", "pscgan", "infer", str(source), "--out", str(target),
                               "--checkpoint", str(tmp_path / "missing.safetensors"), "--quiet"],
                              env=ENV, check=False, capture_output=True, text=True, timeout=120)
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        assert proc.returncode == 2 and len(lines) == 1, proc.stderr
        assert str(out) in lines[0] and "missing.safetensors" not in lines[0], lines[0]
    assert out.read_text() == "keep me"


def test_folder_with_foreign_files_is_refused_not_swapped_away(result, tmp_path):
    out = tmp_path / "study"
    out.mkdir()
    (out / "IM_0001.dcm").write_bytes(b"the user's input")
    with pytest.raises(InputError, match=r"did not write \(IM_0001\.dcm\)"):
        write_outputs(result, out, report=False)
    assert _snapshot(out) == {"IM_0001.dcm": b"the user's input"} and _hidden(tmp_path) == []


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_parent_is_one_line(result, tmp_path):
    parent = tmp_path / "ro"
    parent.mkdir()
    parent.chmod(0o555)
    try:
        with pytest.raises(InputError, match="cannot write the output folder here"):
            write_outputs(result, parent / "out", report=False)
    finally:
        parent.chmod(0o755)


def test_batch_goes_on_after_an_os_error_in_one_case(tmp_path, monkeypatch):
    import pscgan.commands.infer as infer_cmd
    from pscgan import inference

    monkeypatch.setattr(inference.Predictor, "load", classmethod(lambda cls, *a, **k: object()))
    seen = []

    def fake_study(case, out, predictor, **kwargs):
        seen.append(case.name)
        if case.name == "b":
            raise PermissionError(13, "Permission denied", str(out / "lge.nii.gz"))

    monkeypatch.setattr(infer_cmd, "_infer_study", fake_study)
    cases = [tmp_path / n for n in ("a", "b", "c")]
    done, skipped = infer_cmd.infer_cases(cases, tmp_path / "pred", quiet=True)
    assert seen == ["a", "b", "c"] and done == ["a", "c"]
    assert skipped == {"b": f"{tmp_path / 'pred' / 'b' / 'lge.nii.gz'}: Permission denied"}


# ------------------------------------------------------------------ whole folder or nothing
def test_failure_during_the_swap_leaves_the_old_result_exactly(result, tmp_path, monkeypatch):
    from pscgan import outfolder

    out = tmp_path / "out"
    write_outputs(result, out, report=False)
    (out / "metrics.json").write_text("old run")
    before = _snapshot(out)
    real_rename = os.rename
    calls = []

    def rename(src, dst):
        calls.append((Path(src).name, Path(dst).name))
        if len(calls) == 2:  # the new folder coming in, after the old one went aside
            raise OSError(28, "No space left on device", str(dst))
        return real_rename(src, dst)

    monkeypatch.setattr(outfolder.os, "rename", rename)
    with pytest.raises(InputError, match="No space left on device"):
        write_outputs(result, out, report=False)
    monkeypatch.setattr(outfolder.os, "rename", real_rename)
    assert _snapshot(out) == before
    assert _hidden(tmp_path) == []
    assert calls[0][0] == "out" and calls[1][1] == "out"


def test_new_result_folder_has_normal_permissions(result, tmp_path):
    out = tmp_path / "out"
    write_outputs(result, out, report=False)
    umask = os.umask(0)
    os.umask(umask)
    assert (out.stat().st_mode & 0o777) == (0o777 & ~umask)
    assert sorted(p.name for p in out.iterdir()) == sorted(set(OUTPUT_FILES) - {"report.png"})


# ------------------------------------------------------------------ kill -9 and the next run
def test_kill_after_staging_keeps_the_old_result_and_the_next_run_cleans_up(result, pickled, tmp_path):
    out = tmp_path / "out"
    write_outputs(result, out, report=False)
    (out / "metrics.json").write_text("old run")
    before = _snapshot(out)
    (tmp_path / ".other.partial-keep").mkdir()  # another result's debris name: not ours to touch
    proc = _write_in_subprocess(pickled, out, fault="staged")
    assert proc.returncode == -9, proc.stderr
    assert _snapshot(out) == before
    left = _hidden(tmp_path)
    assert any(n.startswith(".out.partial-") for n in left), left
    write_outputs(result, out, report=False)  # the next run
    assert _hidden(tmp_path) == [".other.partial-keep"]
    assert (out / "metrics.json").read_text() != "old run"


def test_kill_mid_swap_puts_the_old_result_back(result, pickled, tmp_path):
    out = tmp_path / "out"
    write_outputs(result, out, report=False)
    (out / "metrics.json").write_text("old run")
    before = _snapshot(out)
    proc = _write_in_subprocess(pickled, out, fault="set-aside")
    assert proc.returncode == -9, proc.stderr
    assert not out.exists() and any(n.startswith(".out.previous-") for n in _hidden(tmp_path))
    with reserve(out, OUTPUT_FILES):  # any later run into OUT
        pass
    assert _snapshot(out) == before and _hidden(tmp_path) == []


def test_kill_inside_a_batch_folder_is_cleaned_by_the_next_batch(result, pickled, tmp_path, monkeypatch):
    """Even when the next batch does not hold that case any more."""
    from pscgan import inference
    from pscgan.commands.infer import infer_cases

    pred = tmp_path / "pred"
    proc = _write_in_subprocess(pickled, pred / "case_00007", fault="staged")
    assert proc.returncode == -9, proc.stderr
    assert any(n.startswith(".case_00007.partial-") for n in _hidden(pred))
    (pred / ".case_00009.lock").touch()  # a run killed after its swap leaves only its (released) lock file
    monkeypatch.setattr(inference.Predictor, "load", classmethod(lambda cls, *a, **k: object()))
    infer_cases([], pred, quiet=True)
    assert _hidden(pred) == []


def test_killed_checkpoint_write_is_removed_by_the_next_write(tmp_path):
    from pscgan.checkpoint import atomic_write

    target = tmp_path / "checkpoint.pt"
    (tmp_path / ".other.pt.1.tmp").write_text("not ours")
    code = textwrap.dedent(f"""
        import os, signal
        from pathlib import Path
        from pscgan.checkpoint import atomic_write
        def write(tmp):
            Path(tmp).write_bytes(b"half a checkpoint")
            os.kill(os.getpid(), signal.SIGKILL)
        atomic_write(Path({str(target)!r}), write)
    """)
    proc = subprocess.run([sys.executable, "-c", code], env=ENV, check=False, capture_output=True, text=True, timeout=60)
    assert proc.returncode == -9, proc.stderr
    debris = [n for n in _hidden(tmp_path) if n.startswith(".checkpoint.pt.")]
    assert len(debris) == 1 and debris[0].endswith(".tmp")
    atomic_write(target, lambda tmp: Path(tmp).write_bytes(b"whole"))
    assert target.read_bytes() == b"whole"
    assert _hidden(tmp_path) == [".other.pt.1.tmp"]


# ------------------------------------------------------------------ one run at a time
def test_second_run_is_refused_while_the_first_holds_the_folder_and_not_after_a_kill(result, tmp_path):
    out = tmp_path / "out"
    code = textwrap.dedent(f"""
        import sys
        from pscgan.outfolder import reserve
        with reserve({str(out)!r}, ("metrics.json",)):
            print("locked", flush=True)
            sys.stdin.read()
    """)
    holder = subprocess.Popen([sys.executable, "-c", code], env=ENV, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(InputError) as err:
            write_outputs(result, out, report=False)
        assert str(err.value) == f"{out}: another run is writing this output folder now; wait for it or choose another --out"
        assert not out.exists()
    finally:
        holder.kill()  # SIGKILL: the lock must not stay stuck
        holder.wait(timeout=30)
    write_outputs(result, out, report=False)
    assert (out / "metrics.json").is_file() and _hidden(tmp_path) == []


def test_a_write_failure_inside_simpleitk_is_one_line_and_leaves_nothing(result, tmp_path, monkeypatch):
    import SimpleITK as sitk

    from pscgan.errors import PSCGANError

    def full_disk(*args, **kwargs):
        raise RuntimeError("Exception thrown in SimpleITK ImageFileWriter_Execute: x.cxx:2386:\nITK ERROR: "
                           "NiftiImageIO(0x55bde9ec27f0): ERROR: nifti library failed to write image: x.nii.gz")

    monkeypatch.setattr(sitk, "WriteImage", full_disk)
    with pytest.raises(PSCGANError) as err:
        write_outputs(result, tmp_path / "out", report=False)
    message = str(err.value)
    assert "\n" not in message
    assert message.endswith("lge.nii.gz: could not be written (nifti library failed to write image: x.nii.gz)")
    assert list(tmp_path.iterdir()) == []
