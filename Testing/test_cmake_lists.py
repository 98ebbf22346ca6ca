"""The extension's CMake files: they run (under `cmake -P` with Slicer's macros stubbed) and list every module file."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MODULE_DIR = REPO / "PSCGANExtension"
TOP = REPO / "CMakeLists.txt"
MODULE = MODULE_DIR / "CMakeLists.txt"

# Stand-ins for Slicer's CMake API: each records what it was given, so the real files run unchanged.
STUB = r"""
set(BUILD_TESTING ON)
set(RECORD "${OUT_DIR}/record.txt")
file(WRITE "${RECORD}" "")
file(WRITE "${OUT_DIR}/empty.cmake" "")
set(Slicer_USE_FILE "${OUT_DIR}/empty.cmake")
set(Slicer_EXTENSION_GENERATE_CONFIG "${OUT_DIR}/empty.cmake")
set(Slicer_EXTENSION_CPACK "${OUT_DIR}/empty.cmake")
function(project name)
  file(APPEND "${RECORD}" "PROJECT=${name}\n")
endfunction()
function(find_package name)
  file(APPEND "${RECORD}" "FIND_PACKAGE=${name}\n")
endfunction()
function(add_subdirectory dir)
  file(APPEND "${RECORD}" "SUBDIRECTORY=${dir}\n")
  set(CMAKE_CURRENT_LIST_DIR_SAVED "${TOP_DIR}/${dir}")
  include("${TOP_DIR}/${dir}/CMakeLists.txt")
endfunction()
function(slicerMacroBuildScriptedModule)
  cmake_parse_arguments(M "WITH_GENERIC_TESTS;WITH_SUBDIR" "NAME" "SCRIPTS;RESOURCES" ${ARGN})
  file(APPEND "${RECORD}" "NAME=${M_NAME}\nGENERIC_TESTS=${M_WITH_GENERIC_TESTS}\n")
  foreach(s ${M_SCRIPTS})
    file(APPEND "${RECORD}" "SCRIPT=${s}\n")
  endforeach()
  foreach(r ${M_RESOURCES})
    file(APPEND "${RECORD}" "RESOURCE=${r}\n")
  endforeach()
endfunction()
function(slicer_add_python_unittest)
  cmake_parse_arguments(T "" "SCRIPT" "" ${ARGN})
  file(APPEND "${RECORD}" "UNITTEST=${T_SCRIPT}\n")
endfunction()
foreach(v EXTENSION_HOMEPAGE EXTENSION_CATEGORY EXTENSION_CONTRIBUTORS EXTENSION_DESCRIPTION EXTENSION_ICONURL EXTENSION_SCREENSHOTURLS EXTENSION_DEPENDS)
  unset(${v})
endforeach()
include("${TOP_DIR}/CMakeLists.txt")
foreach(v EXTENSION_HOMEPAGE EXTENSION_CATEGORY EXTENSION_CONTRIBUTORS EXTENSION_DESCRIPTION EXTENSION_ICONURL EXTENSION_SCREENSHOTURLS EXTENSION_DEPENDS)
  file(APPEND "${RECORD}" "${v}=${${v}}\n")
endforeach()
"""


def module_files_on_disk() -> tuple[set[str], set[str]]:
    """(.py files, resource files) under PSCGANExtension/, relative, excluding caches and CMakeLists.txt."""
    scripts, resources = set(), set()
    for path in MODULE_DIR.rglob("*"):
        if not path.is_file() or "__pycache__" in path.parts or path.name == "CMakeLists.txt" or path.suffix == ".pyc":
            continue
        (scripts if path.suffix == ".py" else resources).add(path.relative_to(MODULE_DIR).as_posix())
    return scripts, resources


@pytest.fixture(scope="module")
def record(tmp_path_factory) -> dict[str, list[str]]:
    cmake = shutil.which("cmake")
    if cmake is None:
        pytest.skip("cmake is not installed")
    out = tmp_path_factory.mktemp("cmake")
    stub = out / "stub.cmake"
    stub.write_text(STUB)
    proc = subprocess.run([cmake, f"-DOUT_DIR={out}", f"-DTOP_DIR={REPO}", "-P", str(stub)], check=False, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    rec: dict[str, list[str]] = {}
    for line in (out / "record.txt").read_text().splitlines():
        key, _, value = line.partition("=")
        rec.setdefault(key, []).append(value)
    return rec


def test_extension_metadata(record):
    assert record["PROJECT"] == ["PSCGAN"]
    assert record["FIND_PACKAGE"] == ["Slicer"]
    assert record["SUBDIRECTORY"] == ["PSCGANExtension"]
    assert record["EXTENSION_CATEGORY"] == ["Cardiac"]
    assert record["EXTENSION_DEPENDS"] == ["PyTorch"]
    assert record["EXTENSION_ICONURL"][0].startswith("https://") and record["EXTENSION_ICONURL"][0].endswith(".png")
    assert record["EXTENSION_SCREENSHOTURLS"][0].startswith("https://")
    assert "not for clinical decisions" in record["EXTENSION_DESCRIPTION"][0]


def test_module_builds_with_generic_tests_and_self_test(record):
    assert record["NAME"] == ["PSCGAN"]
    assert record["GENERIC_TESTS"] == ["TRUE"]
    assert record["UNITTEST"] == ["PSCGAN.py"]


def test_every_module_file_is_listed(record):
    scripts, resources = module_files_on_disk()
    listed_scripts, listed_resources = set(record.get("SCRIPT", [])), set(record.get("RESOURCE", []))
    missing = sorted(scripts - listed_scripts)
    assert not missing, f"add to MODULE_PYTHON_SCRIPTS in PSCGANExtension/CMakeLists.txt: {missing}"
    missing = sorted(resources - listed_resources)
    assert not missing, f"add to MODULE_PYTHON_RESOURCES in PSCGANExtension/CMakeLists.txt: {missing}"
    stale = sorted((listed_scripts - scripts) | (listed_resources - resources))
    assert not stale, f"listed in PSCGANExtension/CMakeLists.txt but not on disk: {stale}"
    assert "PSCGAN.py" in listed_scripts and "PSCGANLib/logic.py" in listed_scripts
    assert {"Resources/UI/PSCGAN.ui", "Resources/Icons/PSCGAN.png", "Resources/PSCGAN.term.json"} <= listed_resources


def test_parentheses_balance_and_only_known_commands():
    known = {"cmake_minimum_required", "project", "set", "find_package", "include", "add_subdirectory",
             "slicermacrobuildscriptedmodule", "if", "endif", "slicer_add_python_unittest"}
    for path in (TOP, MODULE):
        text = re.sub(r"#[^\n]*", "", path.read_text())
        text_no_strings = re.sub(r'"[^"]*"', '""', text)
        assert text_no_strings.count("(") == text_no_strings.count(")"), path
        commands = {m.lower() for m in re.findall(r"^\s*([A-Za-z_]+)\s*\(", text_no_strings, re.M)}
        assert commands <= known, (path, commands - known)


def rewrite_module_lists() -> None:
    """`python Testing/test_cmake_lists.py --update`: rewrite the two file lists of PSCGANExtension/CMakeLists.txt
    from what is on disk (run after adding or removing a module file)."""
    scripts, resources = module_files_on_disk()
    text = MODULE.read_text()
    scripts_block = "\n".join(["set(MODULE_PYTHON_SCRIPTS", "  ${MODULE_NAME}.py"]
                              + [f"  {s}" for s in sorted(scripts - {"PSCGAN.py"})] + ["  )"])
    resources_block = "\n".join(["set(MODULE_PYTHON_RESOURCES"] + [f"  {r}" for r in sorted(resources)] + ["  )"])
    text = re.sub(r"set\(MODULE_PYTHON_SCRIPTS\n.*?\n  \)", lambda m: scripts_block, text, flags=re.S)
    text = re.sub(r"set\(MODULE_PYTHON_RESOURCES\n.*?\n  \)", lambda m: resources_block, text, flags=re.S)
    MODULE.write_text(text)


if __name__ == "__main__":
    import sys

    if "--update" in sys.argv:
        rewrite_module_lists()
        print(f"updated {MODULE}")
