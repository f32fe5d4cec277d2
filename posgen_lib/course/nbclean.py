"""Strip notebooks to their committed form: ``posgen nbclean [--check] PATH...``.

The course commits notebooks without outputs, so diffs show only what an
author changed and the rendered state of a previous run never pretends to be
current. Exceptions and rules:

* a code cell marked ``# NBVAL_CHECK_OUTPUT`` keeps its outputs
  (``pytest --nbval-lax`` compares them), but only their text: images and
  other non-text data are dropped with a warning. Its execution count becomes
  1 (nbval refuses a cell with outputs but no execution count as "unrun"), or
  None when it has no outputs;
* every other code cell loses its outputs and execution count;
* volatile metadata goes: ``metadata.widgets`` (saved widget state), the
  kernel's ``language_info`` apart from its name, and per-cell UI state
  (``execution`` timings, ``collapsed``, ``scrolled``, ``jupyter``, ...);
  cell tags, nbgrader metadata and everything else stay.

``--check`` writes nothing and exits 1 listing the notebooks that would
change (``make test`` runs it); without it the notebooks are rewritten in
place (``make clean-notebooks``). PATH may be a notebook or a folder, which
is searched recursively (``.ipynb_checkpoints`` folders are skipped).
"""
from __future__ import annotations

from pathlib import Path

import nbformat

CHECK_MARKER = "NBVAL_CHECK_OUTPUT"
CHECK_TAG = "nbval-check-output"
VOLATILE_NOTEBOOK_KEYS = ("widgets", "celltoolbar", "toc", "varInspector")
VOLATILE_CELL_KEYS = ("execution", "collapsed", "scrolled", "jupyter", "ExecuteTime",
                      "heading_collapsed", "hidden")


def is_checked(cell) -> bool:
    """True for a code cell whose outputs ``nbval --nbval-lax`` compares.

    As nbval decides: a comment line ``# NBVAL_CHECK_OUTPUT`` anywhere in the
    cell (the course puts it first) or the cell tag ``nbval-check-output``.
    """
    if cell.cell_type != "code":
        return False
    comments = (line.strip().lstrip("#").strip() for line in cell.source.splitlines()
                if line.strip().startswith("#"))
    return CHECK_MARKER in comments or CHECK_TAG in cell.metadata.get("tags", [])


def _text_only(output, where: str, warnings: list[str]):
    """``output`` with non-text mime data removed, or None if nothing textual is left."""
    if output.output_type not in ("display_data", "execute_result"):
        return output  # stream and error outputs are text already
    dropped = sorted(m for m in output.get("data", {}) if not m.startswith("text/"))
    if dropped:
        warnings.append(f"{where}: dropped {', '.join(dropped)} output of a checked cell "
                        "(print text there, show pictures in another cell)")
        for mime in dropped:
            del output.data[mime]
            output.get("metadata", {}).pop(mime, None)
    if not output.data:
        return None
    if output.output_type == "execute_result":
        output.execution_count = None
    return output


def clean_notebook(nb, name: str = "notebook") -> list[str]:
    """Clean ``nb`` (a NotebookNode) in place; returns warnings naming ``name`` and the cell."""
    warnings: list[str] = []
    for key in VOLATILE_NOTEBOOK_KEYS:
        nb.metadata.pop(key, None)
    if "language_info" in nb.metadata:
        nb.metadata.language_info = {"name": nb.metadata.language_info.get("name", "python")}
    for index, cell in enumerate(nb.cells):
        for key in VOLATILE_CELL_KEYS:
            cell.metadata.pop(key, None)
        if cell.cell_type != "code":
            continue
        cell.execution_count = None
        if is_checked(cell):
            where = f"{name} cell {index}"
            kept = (_text_only(out, where, warnings) for out in cell.outputs)
            cell.outputs = [out for out in kept if out is not None]
            cell.execution_count = 1 if cell.outputs else None  # a constant: diffs stay quiet
        else:
            cell.outputs = []
    return warnings


def find_notebooks(paths: list[str | Path]) -> list[Path]:
    """The .ipynb files named by ``paths`` (files, or folders searched recursively)."""
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
        elif path.suffix == ".ipynb" and path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"{path}: not a notebook (.ipynb) or a folder of notebooks")
    return found


def clean_file(path: Path, write: bool = True) -> tuple[bool, list[str]]:
    """(whether ``path`` is not clean, warnings); rewrites it clean when ``write``."""
    original = path.read_text(encoding="utf-8")
    try:
        nb = nbformat.reads(original, as_version=4)
    except Exception as err:  # nbformat raises several unrelated types for bad JSON
        raise ValueError(f"{path}: not a readable notebook ({err}); fix or delete the file") from None
    warnings = clean_notebook(nb, str(path))
    cleaned = nbformat.writes(nb) + "\n"
    changed = cleaned != original
    if changed and write:
        path.write_text(cleaned, encoding="utf-8")
    return changed, warnings
