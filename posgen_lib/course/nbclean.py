"""Keep notebooks in their committed form: ``posgen nbclean [--check] PATH...``.

The course is committed *with* the outputs of a full run (``POSGEN_FAST=0``:
every figure, table and printed result), so that a reader of the repository's
web page sees what each notebook shows. What the cleaner removes is what
changes from run to run without meaning anything:

* notebook metadata: saved widget state (``metadata.widgets``; a widget's
  static figure follows it in the notebook), toolbar and extension state, and
  the kernel's ``language_info`` apart from its name;
* cell metadata of the editor (``execution`` timings, ``collapsed``,
  ``scrolled``, ``jupyter``, ...); cell tags, nbgrader metadata and everything
  else stay;
* live widget views in outputs (``application/vnd.jupyter.widget-view+json``,
  meaningless without the saved state); their text fallback stays;
* execution counts are renumbered 1, 2, 3 ... in cell order, so a rerun that
  executes the same cells leaves them unchanged.

A code cell marked ``# NBVAL_CHECK_OUTPUT`` (compared by ``pytest
--nbval-lax`` in FAST mode) keeps text only: images and other non-text data
are dropped with a warning, because a FAST run cannot reproduce them.

``--check`` writes nothing and exits 1 listing the notebooks that would
change, or that hold code cells never executed (not a full run), or that
together exceed :data:`SIZE_BUDGET` bytes; ``make test`` runs it. Without it the
notebooks are rewritten in place (``make clean-notebooks``). PATH may be a
notebook or a folder, which is searched recursively (``.ipynb_checkpoints``
folders are skipped).
"""
from __future__ import annotations

from pathlib import Path

import nbformat

CHECK_MARKER = "NBVAL_CHECK_OUTPUT"
CHECK_TAG = "nbval-check-output"
VOLATILE_NOTEBOOK_KEYS = ("widgets", "celltoolbar", "toc", "varInspector")
VOLATILE_CELL_KEYS = ("execution", "collapsed", "scrolled", "jupyter", "ExecuteTime",
                      "heading_collapsed", "hidden")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
SIZE_BUDGET = 4_000_000  # bytes, all course notebooks together


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
    return output if output.data else None


def _without_widget_views(output):
    """``output`` without live widget views, or None if nothing else was in it."""
    if output.output_type not in ("display_data", "execute_result"):
        return output
    output.get("data", {}).pop(WIDGET_VIEW, None)
    return output if output.data else None


def clean_notebook(nb, name: str = "notebook") -> list[str]:
    """Clean ``nb`` (a NotebookNode) in place; returns warnings naming ``name`` and the cell."""
    warnings: list[str] = []
    for key in VOLATILE_NOTEBOOK_KEYS:
        nb.metadata.pop(key, None)
    if "language_info" in nb.metadata:
        nb.metadata.language_info = {"name": nb.metadata.language_info.get("name", "python")}
    count = 0
    for index, cell in enumerate(nb.cells):
        for key in VOLATILE_CELL_KEYS:
            cell.metadata.pop(key, None)
        if cell.cell_type != "code":
            continue
        outputs = [_without_widget_views(out) for out in cell.outputs]
        if is_checked(cell):
            outputs = [_text_only(out, f"{name} cell {index}", warnings) for out in outputs if out is not None]
        cell.outputs = [out for out in outputs if out is not None]
        if cell.execution_count is not None:
            count += 1
            cell.execution_count = count
        for out in cell.outputs:
            if out.output_type == "execute_result":
                out.execution_count = cell.execution_count
    return warnings


def unexecuted_cells(nb) -> list[int]:
    """Indices of code cells with code but no execution count: the notebook was not run top to bottom."""
    return [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip()
            and c.execution_count is None]


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
