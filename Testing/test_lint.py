"""The code stays clean under ruff with the project's configuration ([tool.ruff] in pyproject.toml)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _ruff(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ruff", *args], cwd=cwd, check=False, capture_output=True, text=True,
                          timeout=300)


def test_repository_is_clean_under_ruff():
    proc = _ruff("check", "--no-cache", "--output-format", "concise", ".")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_uses_the_project_configuration(tmp_path):
    """A file breaking a selected rule is reported with the repository's settings (so the check above can fail)."""
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nfrom typing import Callable\n\nx: Callable = print\n")
    proc = _ruff("check", "--no-cache", "--output-format", "concise", "--config", str(REPO / "pyproject.toml"), str(bad))
    assert proc.returncode == 1
    assert "F401" in proc.stdout and "UP035" in proc.stdout  # pyflakes and pyupgrade (py310) both selected
