"""The package's structure: layers, no cycles, a light ``import posgen_lib``, one entry point, and
nothing outside the registries asking which kind a generator is.

docs/architecture.md describes the layers and the registries; this test is what keeps them true.
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
LAYERS = [("config", "errors", "checkpoint", "runtime", "records", "grid"), ("models",), ("data",), ("rendering",),
          ("viz",), ("train",), ("perf",), ("eval",), ("course",), ("cli",)]


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


# ----- nothing outside the registries asks which kind a generator is -------------------------------------

# Where a generator kind may be compared: the kind -> class and the kind -> objective registries.
REGISTRIES = {"posgen_lib.models.registry", "posgen_lib.train.objectives"}
KIND_SETS = {"GENERATORS", "GENERATOR_CLASSES", "KIND_OBJECTIVES"}  # "is it a known kind?" is a validation


def _kinds() -> tuple[set[str], set[str]]:
    """(the kind names, the generator class names and their bases)."""
    from posgen_lib.config import GENERATORS
    from posgen_lib.models.interface import Generator
    from posgen_lib.models.registry import GENERATOR_CLASSES

    classes = {base.__name__ for cls in GENERATOR_CLASSES.values() for base in cls.__mro__
               if issubclass(base, Generator) and base is not Generator}
    return set(GENERATORS), classes


def kind_questions(tree: ast.AST, kinds: set[str], classes: set[str]) -> list[tuple[int, str]]:
    """(line, what) of every place in ``tree`` that asks which kind a generator is: a comparison of a
    kind-like value (``x.generator``, ``x.kind``, ``d["generator"]``, ``kind``) with a kind name, a
    comparison of ``x.generator`` with anything but a set of all kinds, a ``case "anyres":``, a dict
    keyed by kind names, or ``isinstance`` / ``issubclass`` on a generator class."""
    def kind_like(node) -> bool:
        if isinstance(node, ast.Attribute):
            return node.attr in ("generator", "kind")
        if isinstance(node, ast.Subscript):
            return isinstance(node.slice, ast.Constant) and node.slice.value in ("generator", "kind")
        return isinstance(node, ast.Name) and node.id in ("generator", "kind")

    def names_a_kind(node) -> bool:
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return any(names_a_kind(e) for e in node.elts)
        return isinstance(node, ast.Constant) and node.value in kinds

    def a_generator_class(node) -> bool:
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return any(a_generator_class(e) for e in node.elts)
        return (isinstance(node, ast.Name) and node.id in classes) or \
            (isinstance(node, ast.Attribute) and node.attr in classes)

    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(map(kind_like, operands)) and any(map(names_a_kind, operands)):
                found.append((node.lineno, "compares a kind with a kind name"))
            elif any((isinstance(o, ast.Attribute) and o.attr == "generator") or
                     (isinstance(o, ast.Subscript) and kind_like(o) and not isinstance(o.value, ast.Name))
                     for o in operands) and \
                    all(isinstance(op, (ast.Eq, ast.NotEq, ast.In, ast.NotIn)) for op in node.ops) and \
                    not any(isinstance(o, ast.Name) and o.id in KIND_SETS for o in operands) and \
                    not any(isinstance(o, ast.Constant) and o.value is None for o in operands):
                found.append((node.lineno, "compares a generator kind"))
        elif isinstance(node, ast.MatchValue) and names_a_kind(node.value):
            found.append((node.lineno, "matches a kind name"))
        elif isinstance(node, ast.Dict) and any(k is not None and names_a_kind(k) for k in node.keys):
            found.append((node.lineno, "a table keyed by kind names"))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                node.func.id in ("isinstance", "issubclass") and len(node.args) == 2 and a_generator_class(node.args[1]):
            found.append((node.lineno, f"{node.func.id} on a generator class"))
    return found


def test_nothing_outside_the_registries_asks_which_kind_a_generator_is():
    """Code reads the Generator interface's flags (any_size, reads_labels, conv_output) or asks the
    registries (models/registry.py: kind -> class; train/objectives.py: kind -> objective)."""
    kinds, classes = _kinds()
    wrong = [f"{path.relative_to(ROOT)}:{line}: {what}" for path in SOURCES if module_name(path) not in REGISTRIES
             for line, what in kind_questions(ast.parse(path.read_text()), kinds, classes)]
    assert not wrong, "asks which kind a generator is (use the registries or the interface flags):\n" + \
        "\n".join(wrong)


@pytest.mark.parametrize("code", [
    'if cfg.model.generator == "anyres": pass',
    'x = G.kind != "spade"',
    'x = card["generator"] in ("posgen", "spade")',
    'x = arm.generator == ANYRES',
    'x = isinstance(G, PosGenGenerator)',
    'x = issubclass(cls, (pg.AnyResGenerator, int))',
    'x = {"anyres": 1}',
    'match kind:\n    case "pixelwise": pass',
])
def test_the_kind_check_finds_each_way_of_asking(code):
    kinds, classes = _kinds()
    assert kind_questions(ast.parse(code), kinds, classes), code


@pytest.mark.parametrize("code", [
    'x = cfg.model.generator not in GENERATORS',
    'x = pole.kind == "lamp"',
    'x = Path(argv[0]).name == "posgen"',
    'x = self.generator is None',
    'x = G.reads_labels and G.any_size',
    'cfg.model.generator = "anyres"',
])
def test_the_kind_check_lets_other_code_pass(code):
    kinds, classes = _kinds()
    assert not kind_questions(ast.parse(code), kinds, classes), code
