"""pscgan.io.atomic: the one atomic write of a file and of a folder, and its one permission policy."""
from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from pscgan.io.atomic import new_staging_folder, write_bytes, write_file, write_folder, write_text

ROOT = Path(__file__).resolve().parents[1]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_file_and_folder_get_normal_permissions_not_private_ones(tmp_path):
    path = write_text(tmp_path / "a.json", "{}")
    assert _mode(path) == 0o666 & ~_umask()
    assert _mode(new_staging_folder(tmp_path / "out")) == 0o777 & ~_umask()
    with write_folder(tmp_path / "case") as tmp:
        (tmp / "x").write_text("1")
    assert _mode(tmp_path / "case") == 0o777 & ~_umask()


def test_replacing_a_file_keeps_its_permissions(tmp_path):
    path = tmp_path / "shared.csv"
    path.write_text("old")
    path.chmod(0o640)
    write_bytes(path, b"new")
    assert path.read_bytes() == b"new"
    assert _mode(path) == 0o640


def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "lge.nii.gz"
    path.write_bytes(b"old")

    def half(tmp: Path) -> None:
        assert tmp.name.endswith(".nii.gz") and tmp.name.startswith(".lge.nii.gz.")
        tmp.write_bytes(b"ha")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_file(path, half, suffix=".nii.gz")
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lge.nii.gz"]


def test_text_is_written_exactly_as_given(tmp_path):
    text = "a,b\r\nc,\u00e9\n"
    assert write_text(tmp_path / "t.csv", text).read_bytes() == text.encode("utf-8")


def test_failed_folder_write_leaves_the_old_folder_and_no_staging(tmp_path):
    folder = tmp_path / "case"
    folder.mkdir()
    (folder / "meta.json").write_text("old")
    with pytest.raises(ValueError):
        with write_folder(folder, replace=True) as tmp:
            (tmp / "meta.json").write_text("new")
            raise ValueError("stop")
    assert (folder / "meta.json").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case"]


def test_folder_replace_and_refuse(tmp_path):
    folder = tmp_path / "case"
    folder.mkdir()
    (folder / "old.txt").write_text("old")
    with write_folder(folder, replace=True) as tmp:
        (tmp / "new.txt").write_text("new")
    assert sorted(p.name for p in folder.iterdir()) == ["new.txt"]

    def refuse(target: Path) -> None:
        raise FileExistsError(target)

    with pytest.raises(FileExistsError):
        with write_folder(folder, before_move=refuse) as tmp:
            (tmp / "newer.txt").write_text("x")
    assert sorted(p.name for p in folder.iterdir()) == ["new.txt"]
    with pytest.raises(OSError):  # without replace, a non-empty folder is never overwritten
        with write_folder(folder) as tmp:
            (tmp / "newer.txt").write_text("x")
    assert sorted(p.name for p in folder.iterdir()) == ["new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case"]


def test_no_other_module_writes_files_atomically_on_its_own():
    """One owner: temporary files / folders and the rename over a destination live in pscgan.io.atomic only."""
    pattern = re.compile(r"mkstemp|mkdtemp|os\.replace\(|os\.fsync\(|os\.umask\(")
    owners = []
    for folder in ("PSCGANExtension", "training", "evaluation"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name == "atomic.py" or ".venv" in path.parts:
                continue
            if pattern.search(path.read_text()):
                owners.append(str(path.relative_to(ROOT)))
    assert owners == []
