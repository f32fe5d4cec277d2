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
* outputs that show a live widget (``application/vnd.jupyter.widget-view+json``,
  meaningless without the saved state), together with their text fallback (a
  raw ``VBox(children=(...))`` repr, or a progress bar frozen at 0%); the
  widget's static figure, in the next cell, stays;
* execution counts are renumbered 1, 2, 3 ... in cell order, so a rerun that
  executes the same cells leaves them unchanged.

A code cell marked ``# NBVAL_CHECK_OUTPUT`` (compared by ``pytest
--nbval-lax`` in FAST mode) keeps text only: images and other non-text data
are dropped with a warning, because a FAST run cannot reproduce them.

``--check`` writes nothing and exits 1 listing the notebooks that would
change, that hold code cells never executed (not a full run), whose outputs
hold what no reader should see (:func:`output_problems`: a progress bar at 0%,
a raw widget repr, an absolute path of the machine that ran them), or that
together exceed :data:`SIZE_BUDGET` bytes; ``make test`` runs it. Without it the
notebooks are rewritten in place (``make clean-notebooks``). PATH may be a
notebook or a folder, which is searched recursively (``.ipynb_checkpoints``
folders are skipped).
"""
from __future__ import annotations

import re
import tempfile
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
    """``output``, or None if it shows a live widget (its text fallback is only the widget's repr)."""
    if output.output_type not in ("display_data", "execute_result"):
        return output
    return None if WIDGET_VIEW in output.get("data", {}) else output


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


def load_notebook(path: str | Path):
    """The notebook at ``path`` (nbformat 4); a ValueError naming the file when it is not a readable notebook."""
    try:
        return nbformat.read(path, as_version=4)
    except FileNotFoundError:
        raise
    except Exception as err:  # nbformat raises several unrelated types for bad JSON
        raise ValueError(f"{path}: not a readable notebook ({err}); fix or delete the file") from None


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


PROGRESS_AT_ZERO = re.compile(r"(^|[\s:])0%\|")  # tqdm's bar before its first step
WIDGET_REPR = re.compile(r"^\s*[A-Z]\w*\((children|value|description|layout|options|continuous_update)=", re.M)


def _machine_paths() -> re.Pattern:
    """Absolute paths that belong to one machine: home and temporary folders, this checkout."""
    prefixes = {"/tmp", "/home", "/Users", "/root", "/private/var", "/var/folders", tempfile.gettempdir(),
                str(Path.home()), str(Path(__file__).resolve().parents[2])}
    prefixes = sorted((p.rstrip("/\\") for p in prefixes if len(p.rstrip("/\\")) > 1), key=len, reverse=True)
    windows = r"[A-Za-z]:\\(Users|Windows|Temp)\\"
    return re.compile(r"(?<![\w.~/])(" + "|".join(map(re.escape, prefixes)) + r")(?=[/\\\s'\"):]|$)|" + windows)


def _output_texts(output) -> list[str]:
    texts = [output.get("text", "")] + [v for k, v in output.get("data", {}).items() if k.startswith("text/")]
    return [t if isinstance(t, str) else "".join(t) for t in texts]


def output_problems(nb, name: str = "notebook") -> list[str]:
    """What no reader of the committed outputs should see, one line per (cell, kind): a progress bar
    at 0%, a raw widget repr, an absolute path of the machine that ran the notebook."""
    paths = _machine_paths()
    problems = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        text = "\n".join(t for out in cell.get("outputs", []) for t in _output_texts(out))
        if PROGRESS_AT_ZERO.search(text):
            problems.append(f"{name} cell {index}: a progress bar at 0% in its output "
                            "(run `make clean-notebooks`, or pass progress=False)")
        if WIDGET_REPR.search(text):
            problems.append(f"{name} cell {index}: a raw widget repr in its output (run `make clean-notebooks`)")
        found = paths.search(text)
        if found:
            problems.append(f"{name} cell {index}: an absolute path of this machine in its output "
                            f"({found.group(0)!r}...); print paths relative to a folder the reader knows")
    return problems
