"""The house's layout: no import circles inside the backend, and imports run one way between the rooms
(PSCGAN.py / PSCGANLib -> pscgan; training -> pscgan; evaluation -> training, pscgan; never back up)."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BACKEND = ROOT / "PSCGANExtension"


def _modules(folder: Path, base: Path) -> dict[str, Path]:
    mods = {}
    for path in folder.rglob("*.py"):
        rel = path.relative_to(base).with_suffix("")
        mods[".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)] = path
    return mods


def _imports(name: str, path: Path) -> set[str]:
    """Every module named by an import anywhere in the file (top level or inside a function), absolute."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                target = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{a.name}" for a in node.names)
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_no_import_circle_in_the_backend():
    mods = _modules(BACKEND / "pscgan", BACKEND)
    graph = {m: {t for t in _imports(m, p) if t in mods and t != m and not m.startswith(t + ".")}
             for m, p in mods.items()}
    assert graph["pscgan.io.dicom_multiframe"], "the import graph lost its edges"
    assert _cycles(graph) == []


def test_cycle_finder_finds_a_circle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_imports_run_one_way_between_rooms():
    rooms = {
        "PSCGANExtension/pscgan": ("PSCGANLib", "PSCGAN", "training", "evaluation", "slicer.util", "qt"),
        "PSCGANExtension/PSCGANLib": ("PSCGAN", "training", "evaluation"),
        "training": ("evaluation", "PSCGANLib"),
    }
    upward = []
    for room, forbidden in rooms.items():
        for path in (ROOT / room).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            for target in _imports(name, path):
                if target.split(".")[0] in forbidden or target in forbidden:
                    upward.append(f"{path.relative_to(ROOT)} imports {target}")
    assert upward == []


def _class_names(path: Path) -> set[str]:
    return {n.name for n in ast.parse(path.read_text()).body if isinstance(n, ast.ClassDef)}


def test_module_and_lib_name_their_classes_once():
    """Slicer's convention names the module's classes PSCGAN*; the Lib's must not take the same names."""
    module = _class_names(BACKEND / "PSCGAN.py")
    lib = set().union(*(_class_names(p) for p in (BACKEND / "PSCGANLib").glob("*.py")))
    assert "PSCGANLogic" in module
    assert module & lib == set()


def test_training_command_line_is_a_registry_of_runnable_commands():
    import importlib

    from training.__main__ import COMMANDS, build_parser

    parser = build_parser()
    for name, command in COMMANDS.items():
        module, function = command.run.split(":")
        assert callable(getattr(importlib.import_module(module), function)), name
        for alias in (name, *command.aliases):
            assert parser.parse_args(_minimal_args(alias))._run == command.run


def _minimal_args(name: str) -> list[str]:
    required = {"train": ["--data", "d", "--out", "o"], "ablate": ["--data", "d", "--out", "o"],
                "finetune": ["--data", "d", "--out", "o", "--bundle", "b"], "export": ["run", "--out", "o"],
                "bundle": ["run", "--out", "o"], "curves": ["run", "--out", "o.png"]}
    return [name, *required.get(name, [])]
