"""The package's import structure: layers, no cycles, a light ``import posgen_lib``, one entry point.

docs/architecture.md describes the layers; this test is what keeps them true.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "posgen_lib"
# Lowest first. A module may import modules of its own layer and of the layers below it.
LAYERS = [("config", "errors", "checkpoint", "runtime", "records"), ("models",), ("data",), ("rendering",), ("viz",),
          ("train",), ("perf",), ("eval",), ("course",), ("cli",)]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_imports(path: Path) -> list[tuple[str, int, bool]]:
    """(imported posgen_lib module, line, inside a function) for every import in ``path``."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text())
    local = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
             for n in ast.walk(f)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
            targets = [target] if node.module else [f"{target}.{a.name}" for a in node.names]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("posgen_lib"):
            targets = [node.module]
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names if a.name.startswith("posgen_lib")]
        else:
            continue
        found += [(t, node.lineno, id(node) in local) for t in targets]
    return found


def layer_of(module: str) -> int:
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else ""
    if not top:
        return -1  # the package itself (its __init__)
    for rank, names in enumerate(LAYERS):
        if top in names:
            return rank
    raise AssertionError(f"{module}: posgen_lib/{top} is in no layer of this test; add it to LAYERS "
                         "and to docs/architecture.md")


SOURCES = sorted(p for p in PACKAGE.rglob("*.py"))


def test_every_import_goes_to_the_same_or_a_lower_layer():
    wrong = []
    for path in SOURCES:
        mine = module_name(path)
        if layer_of(mine) < 0:
            continue
        for target, line, _ in project_imports(path):
            if layer_of(target) > layer_of(mine):
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    assert not wrong, "imports from a higher layer:\n" + "\n".join(wrong)


def test_nothing_below_imports_course_or_cli():
    for path in SOURCES:
        mine = module_name(path)
        if mine.startswith(("posgen_lib.course", "posgen_lib.cli")) or mine == "posgen_lib":
            continue
        for target, line, _ in project_imports(path):
            assert not target.startswith(("posgen_lib.course", "posgen_lib.cli")), f"{path}:{line}: {target}"


def test_project_modules_are_imported_at_the_top_except_in_command_functions():
    """Function-local imports once hid import cycles; only cli/ keeps them, so that
    ``posgen --help`` does not load every library module."""
    hidden = [f"{path.relative_to(ROOT)}:{line} {target}" for path in SOURCES
              if not module_name(path).startswith("posgen_lib.cli")
              for target, line, local in project_imports(path) if local]
    assert not hidden, "project imports inside functions:\n" + "\n".join(hidden)


def test_no_import_cycles():
    graph: dict[str, set[str]] = {}
    modules = {module_name(p) for p in SOURCES}
    for path in SOURCES:
        edges = set()
        for target, _, local in project_imports(path):
            while target not in modules and "." in target:  # "from .x import name" names a module or a symbol
                target = target.rpartition(".")[0]
            if not local and target != module_name(path):
                edges.add(target)
        graph[module_name(path)] = edges
    parents = {m: {p for p in modules if m.startswith(p + ".")} for m in modules}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if nxt in parents[node]:
                continue  # a module importing its own package's __init__ is resolved by Python in order
            if state.get(nxt) == 1:
                cycle = trail[trail.index(nxt):] + [nxt] if nxt in trail else [node, nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


def test_import_posgen_lib_is_light():
    code = ("import sys, posgen_lib as pg; "
            "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'matplotlib', 'IPython', 'ipywidgets', "
            "'torchmetrics', 'nbformat', 'tensorboard'}); "
            "mine = sorted(m for m in sys.modules if m.startswith('posgen_lib.')); "
            "print(heavy); print(' '.join(mine))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    heavy, mine = out.splitlines()
    assert heavy == "[]", f"import posgen_lib loads {heavy}"
    assert not any(m.startswith(("posgen_lib.course", "posgen_lib.cli", "posgen_lib.train", "posgen_lib.eval"))
                   for m in mine.split()), mine


def test_public_api_names_resolve():
    import posgen_lib as pg

    for name in pg.__all__:
        assert getattr(pg, name) is not None, name
    for name in ("train", "eval", "perf", "viz", "course", "cli"):
        assert getattr(pg, name).__name__ == f"posgen_lib.{name}"


def test_every_command_is_a_posgen_subcommand_and_no_module_is_a_script():
    from posgen_lib.cli import build_parser

    commands = set(build_parser()._subparsers._group_actions[0].choices)
    assert {"train", "render", "eval", "demo", "data", "experiment", "bench", "segmenter", "pretrained",
            "assign", "lab", "nbclean"} <= commands
    scripts = [p for p in SOURCES if 'if __name__ == "__main__"' in p.read_text() and p.name != "__main__.py"]
    assert not scripts, f"python -m entry points outside posgen_lib/cli: {scripts}"
