"""The module installs what it needs: every third-party import of the backend is in Slicer's Python, the
PyTorch extension or Resources/requirements.txt; the installer asks once, installs, checks, and says why not."""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

MODULE_DIR = Path(__file__).resolve().parents[1] / "PSCGANExtension"
sys.path.insert(0, str(MODULE_DIR))

from PSCGANLib.install import (  # noqa: E402
    PYTORCH_EXTENSION_PROVIDES,
    REQUIREMENTS_FILE,
    SLICER_PROVIDES,
    DependencyInstaller,
    distribution_name,
    import_name,
    read_requirements,
)

OWN = {"pscgan", "PSCGANLib", "PSCGAN"}


def third_party_imports(files) -> dict[str, set[str]]:
    """Top-level module name -> files importing it (anywhere in the file, also inside functions)."""
    found: dict[str, set[str]] = {}
    for path in files:
        for node in ast.walk(ast.parse(Path(path).read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in OWN and top != "__future__":
                    found.setdefault(top, set()).add(Path(path).name)
    return found


def backend_files() -> list[Path]:
    return sorted([*MODULE_DIR.glob("pscgan/**/*.py"), *MODULE_DIR.glob("PSCGANLib/*.py"), MODULE_DIR / "PSCGAN.py"])


def unprovided(imports: dict[str, set[str]]) -> dict[str, set[str]]:
    allowed = SLICER_PROVIDES | PYTORCH_EXTENSION_PROVIDES | {import_name(r) for r in read_requirements()}
    return {name: files for name, files in imports.items() if name not in allowed}


def test_every_third_party_import_is_provided():
    imports = third_party_imports(backend_files())
    assert "safetensors" in imports and "torch" in imports  # the scan sees the backend's real imports
    missing = unprovided(imports)
    assert not missing, f"add to {REQUIREMENTS_FILE.relative_to(MODULE_DIR.parent)}: {missing}"


def test_a_new_dependency_cannot_slip_through(tmp_path):
    extra = tmp_path / "new_feature.py"
    extra.write_text("def f():\n    import pandas\n    from sklearn.metrics import auc\n")
    assert set(unprovided(third_party_imports([*backend_files(), extra]))) == {"pandas", "sklearn"}


def test_module_requirements_are_pinned_as_the_project_pins_them():
    project = {distribution_name(r).lower(): r for r in read_requirements(MODULE_DIR.parent / "requirements.txt")}
    module = read_requirements()
    assert module and all("==" in r for r in module)
    for requirement in module:
        assert project.get(distribution_name(requirement).lower()) == requirement
    assert not any(distribution_name(r).lower() == "torch" for r in module)  # torch comes through PyTorchUtils


class Fakes:
    def __init__(self, *, installed=(), torch=True, agree=True, torch_installs=True, pip_works=True):
        self.installed, self.torch, self.agree = set(installed), torch, agree
        self.torch_installs, self.pip_works = torch_installs, pip_works
        self.asked, self.pip_calls, self.torch_calls = [], [], 0

    def installer(self, requirements) -> DependencyInstaller:
        return DependencyInstaller(requirements, confirm=self.confirm, install=self.install, install_torch=self.install_torch,
                                   torch_available=lambda: self.torch, satisfied=lambda r: distribution_name(r) in self.installed)

    def confirm(self, message):
        self.asked.append(message)
        return self.agree

    def install(self, requirements):
        self.pip_calls.append(list(requirements))
        if self.pip_works:
            self.installed |= {distribution_name(r) for r in requirements}

    def install_torch(self):
        self.torch_calls += 1
        self.torch = self.torch_installs
        return self.torch_installs


REQS = ["safetensors==0.8.0", "tqdm==4.70.1"]


def test_installs_only_what_is_missing_after_one_confirmation():
    fakes = Fakes(installed={"tqdm"})
    installer = fakes.installer(REQS)
    assert installer.ensure()
    assert fakes.pip_calls == [["safetensors==0.8.0"]] and len(fakes.asked) == 1 and "safetensors" in fakes.asked[0]
    assert installer.ensure() and len(fakes.asked) == 1  # nothing missing: no second question


def test_declined_or_failed_install_says_why_in_one_line():
    fakes = Fakes(agree=False)
    installer = fakes.installer(REQS)
    assert not installer.ensure() and fakes.pip_calls == []
    assert installer.message == "PSCGAN cannot run without safetensors, tqdm"
    fakes = Fakes(pip_works=False)
    installer = fakes.installer(REQS)
    assert not installer.ensure() and "failed" in installer.message and "\n" not in installer.message


def test_torch_comes_first_through_pytorchutils():
    fakes = Fakes(torch=False, torch_installs=False)
    installer = fakes.installer(REQS)
    assert not installer.ensure()
    assert fakes.torch_calls == 1 and fakes.pip_calls == [] and "PyTorch extension" in installer.message
    fakes = Fakes(torch=False, installed={"safetensors", "tqdm"})
    assert fakes.installer(REQS).ensure() and fakes.torch_calls == 1


def test_requirements_file_is_read_without_comments(tmp_path):
    path = tmp_path / "requirements.txt"
    path.write_text("# comment\n\nsafetensors==0.8.0  # bundles\nscikit-image==0.26.0\n")
    assert read_requirements(path) == ["safetensors==0.8.0", "scikit-image==0.26.0"]
    assert import_name("scikit-image==0.26.0") == "skimage"
    with pytest.raises(ValueError):
        distribution_name("==1.0")


def test_missing_torch_message_points_to_what_exists(monkeypatch):
    from pscgan.errors import CheckpointError
    from pscgan.inference import _import_torch

    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(CheckpointError) as err:
        _import_torch()
    assert "Install dependencies" not in str(err.value) and "PyTorchUtils" in str(err.value)
