"""Export for training: a node name cannot leave the chosen folder, nothing is deleted, normal permissions."""
from __future__ import annotations

import os

import numpy as np
import pytest

from pscgan.errors import InputError
from pscgan.io.study import CineStudy

pytest.importorskip("slicer")
from PSCGANLib.export import export_case, export_folder, safe_folder_name  # noqa: E402


@pytest.mark.parametrize(
    "name",
    ["/etc/cron.d", "../../home/user", "..", ".", "a/../../b", "C:\\Windows\\System32", "\x00evil", "",
     "  ...  ", "séries/ciné", ".hidden", "x" * 400],
)
def test_any_node_name_becomes_one_component_inside_the_base(tmp_path, name):
    base = tmp_path / "exports"
    folder = export_folder(base, name)
    assert folder.parent == base
    assert folder.name not in ("", ".", "..") and not folder.name.startswith(".")
    assert "/" not in folder.name and "\\" not in folder.name and "\x00" not in folder.name
    assert len(folder.name) <= 100
    assert folder.resolve().parent == base.resolve()


def test_ordinary_names_are_kept():
    assert safe_folder_name("SAX cine (4ch) 2-1") == "SAX cine (4ch) 2-1"


def _study() -> CineStudy:
    rng = np.random.default_rng(0)
    return CineStudy(pixels=rng.random((2, 8, 20, 20)).astype(np.float32), spacing=(1.5, 1.5, 8.0))


def test_export_never_deletes_an_existing_folder_and_picks_a_new_name(tmp_path):
    study = _study()
    lge = np.zeros((2, 20, 20), np.float32)
    labels = np.zeros((2, 20, 20), np.uint8)
    victim = tmp_path / "cine"
    victim.mkdir()
    (victim / "meta.json").write_text("{}")  # looks like a case folder: still not ours to delete
    (victim / "notes.txt").write_text("precious")
    with pytest.raises(InputError, match="not overwriting"):
        export_case(study, lge, labels, victim)
    assert (victim / "notes.txt").read_text() == "precious"
    folder = export_case(study, lge, labels, export_folder(tmp_path, "cine"))
    assert folder == tmp_path / "cine_2" and (folder / "meta.json").is_file()
    assert (victim / "notes.txt").read_text() == "precious"
    umask = os.umask(0)
    os.umask(umask)
    assert folder.stat().st_mode & 0o777 == 0o777 & ~umask
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cine", "cine_2"]
