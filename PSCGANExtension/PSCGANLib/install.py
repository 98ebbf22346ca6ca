"""What the module needs inside Slicer: torch through PyTorchUtils, the rest from Resources/requirements.txt.

`DependencyInstaller` decides (what is missing, ask, install, check again); the installing itself is
injected, so it is tested with fakes. `slicer_installer()` binds it to Slicer: the user confirms once,
then `slicer.pydeps.pip_ensure` (Slicer 5.11 and later) or `slicer.util.pip_install` installs the pinned
requirements, and PyTorchUtils installs torch as the PyTorch extension does for every module.
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
import re
from collections.abc import Callable, Iterable
from pathlib import Path

REQUIREMENTS_FILE = Path(__file__).resolve().parents[1] / "Resources" / "requirements.txt"

# Import names that Slicer's own Python provides (Slicer's SuperBuild python-* packages and its modules),
# and torch, which the PyTorch extension provides. Everything else the backend imports must be in
# REQUIREMENTS_FILE (Testing/test_install.py reads the imports).
SLICER_PROVIDES = frozenset({"numpy", "scipy", "SimpleITK", "pydicom", "vtk", "qt", "ctk", "slicer", "PIL", "requests",
                             "packaging", "SampleData", "PythonQt", "mrml", "vtkAddon"})
PYTORCH_EXTENSION_PROVIDES = frozenset({"torch", "PyTorchUtils"})
IMPORT_NAME = {"scikit-image": "skimage", "pillow": "PIL"}  # distribution -> import name, where they differ


def read_requirements(path: Path = REQUIREMENTS_FILE) -> list[str]:
    """The requirement lines of a requirements file (comments and blank lines left out)."""
    lines = (line.split("#", 1)[0].strip() for line in Path(path).read_text().splitlines())
    return [line for line in lines if line]


def distribution_name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement.strip())
    if match is None:
        raise ValueError(f"not a requirement: {requirement!r}")
    return match.group(0)


def import_name(requirement: str) -> str:
    name = distribution_name(requirement)
    return IMPORT_NAME.get(name.lower(), name.replace("-", "_"))


def installed_version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def is_satisfied(requirement: str) -> bool:
    """Installed, and at a version the requirement allows (without `packaging`: installed at all)."""
    version = installed_version(distribution_name(requirement))
    if version is None:
        return False
    try:
        from packaging.requirements import Requirement
    except ImportError:
        return True
    return Requirement(requirement).specifier.contains(version, prereleases=True)


def has_torch() -> bool:
    return importlib.util.find_spec("torch") is not None


class DependencyInstaller:
    """ensure(): torch first (PyTorchUtils), then the missing requirements, after one confirmation."""

    def __init__(
        self,
        requirements: Iterable[str] | None = None,
        *,
        confirm: Callable[[str], bool],
        install: Callable[[list[str]], None],
        install_torch: Callable[[], bool],
        torch_available: Callable[[], bool] = has_torch,
        satisfied: Callable[[str], bool] = is_satisfied,
    ) -> None:
        self.requirements = list(read_requirements() if requirements is None else requirements)
        self.confirm, self.install, self.install_torch = confirm, install, install_torch
        self.torch_available, self.satisfied = torch_available, satisfied
        self.message = ""  # why ensure() returned False, one line

    def missing(self) -> list[str]:
        return [r for r in self.requirements if not self.satisfied(r)]

    def ensure(self) -> bool:
        """True when everything is there (installing what is missing if the user agrees)."""
        self.message = ""
        if not self.torch_available() and not self.install_torch():
            self.message = "PSCGAN needs PyTorch: install it with the PyTorch extension (PyTorchUtils)"
            return False
        missing = self.missing()
        if not missing:
            return True
        names = ", ".join(distribution_name(r) for r in missing)
        if not self.confirm(f"PSCGAN needs these Python packages, not installed yet: {names}. Install them now?"):
            self.message = f"PSCGAN cannot run without {names}"
            return False
        self.install(missing)
        still = self.missing()
        if still:
            self.message = f"installing {', '.join(still)} failed: see the Python console"
            return False
        return True


def _slicer_install(requirements: list[str]) -> None:
    import slicer

    try:
        from packaging.requirements import Requirement
        from slicer import pydeps  # Slicer 5.11 and later
    except ImportError:
        slicer.util.pip_install(requirements)
        return
    pydeps.pip_ensure([Requirement(r) for r in requirements], prompt_install=False, requester="PSCGAN")


def _slicer_install_torch(confirm: Callable[[str], bool]) -> bool:
    try:
        import PyTorchUtils
    except ImportError:
        return False  # no PyTorch extension: ensure() says what to install
    if not confirm("PSCGAN needs PyTorch, which is not installed yet. Install it now through the PyTorch extension "
                   "(large download)?"):
        return False
    return PyTorchUtils.PyTorchUtilsLogic().installTorch(askConfirmation=False) is not None


def slicer_installer() -> DependencyInstaller:
    """The installer bound to the Slicer application (confirmation dialogs, pip, PyTorchUtils)."""
    import slicer

    confirm = slicer.util.confirmOkCancelDisplay
    return DependencyInstaller(confirm=confirm, install=_slicer_install, install_torch=lambda: _slicer_install_torch(confirm))
