"""The notebook cleaner: what it strips, what it keeps, and its --check mode."""
from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from posgen_lib.cli import main as posgen
from posgen_lib.course import nbclean

PNG = "iVBORw0KGgo="


def dirty_notebook():
    plain = new_code_cell("x = 1\nx", execution_count=3, metadata={
        "tags": ["setup"], "execution": {"iopub.status.busy": "2024"}, "collapsed": True,
        "scrolled": True, "nbgrader": {"grade": False, "solution": True, "grade_id": "a"}})
    plain.outputs = [new_output("execute_result", {"text/plain": "1"}, execution_count=3)]
    checked = new_code_cell("# NBVAL_CHECK_OUTPUT\nprint(2)", execution_count=4)
    checked.outputs = [
        new_output("stream", name="stdout", text="2\n"),
        new_output("display_data", {"image/png": PNG, "text/plain": "<Figure>"}),
        new_output("display_data", {"image/png": PNG}),
        new_output("execute_result", {"text/plain": "3"}, execution_count=4),
    ]
    nb = new_notebook(cells=[new_markdown_cell("# title", metadata={"tags": ["intro"]}), plain, checked])
    nb.metadata.update(kernelspec={"name": "python3", "display_name": "Python 3", "language": "python"},
                       language_info={"name": "python", "version": "3.11.7"},
                       widgets={"application/vnd.jupyter.widget-state+json": {"state": {}}})
    return nb


def test_clean_notebook_strips_outputs_and_volatile_metadata():
    nb = dirty_notebook()
    warnings = nbclean.clean_notebook(nb, "demo.ipynb")
    md, plain, checked = nb.cells
    assert plain.outputs == [] and plain.execution_count is None
    assert plain.metadata == {"tags": ["setup"],
                              "nbgrader": {"grade": False, "solution": True, "grade_id": "a"}}
    assert md.metadata == {"tags": ["intro"]}
    assert "widgets" not in nb.metadata
    assert nb.metadata.language_info == {"name": "python"}
    assert nb.metadata.kernelspec.name == "python3"
    # the checked cell keeps its text outputs only; nbval needs an execution count on it
    assert checked.execution_count == 1
    assert [o.output_type for o in checked.outputs] == ["stream", "display_data", "execute_result"]
    assert checked.outputs[1].data == {"text/plain": "<Figure>"}
    assert checked.outputs[2].execution_count is None
    assert len(warnings) == 2 and all("demo.ipynb cell 2" in w and "image/png" in w for w in warnings)


@pytest.mark.parametrize("source, expected", [
    ("# NBVAL_CHECK_OUTPUT\nprint(1)", True),
    ("import torch\n#NBVAL_CHECK_OUTPUT", True),
    ("print('# NBVAL_CHECK_OUTPUT')", False),
    ("x = 1  # NBVAL_CHECK_OUTPUT is not a comment line", False),
])
def test_is_checked_mirrors_nbval_markers(source, expected):
    assert nbclean.is_checked(new_code_cell(source)) is expected


def test_is_checked_accepts_the_nbval_tag():
    assert nbclean.is_checked(new_code_cell("print(1)", metadata={"tags": ["nbval-check-output"]}))


def test_check_mode_reports_and_changes_nothing_then_clean_fixes(tmp_path, capsys):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    dirty = folder / "01_dirty.ipynb"
    nbformat.write(dirty_notebook(), dirty)
    clean_nb = dirty_notebook()
    nbclean.clean_notebook(clean_nb)
    nbformat.write(clean_nb, folder / "00_clean.ipynb")
    before = dirty.read_text()

    assert posgen(["nbclean", "--check", str(folder)]) == 1
    out = capsys.readouterr().out
    assert "01_dirty.ipynb" in out and "00_clean.ipynb" not in out
    assert dirty.read_text() == before

    assert posgen(["nbclean", str(folder)]) == 0
    assert posgen(["nbclean", "--check", str(folder)]) == 0
    cleaned = nbformat.read(dirty, as_version=4)
    assert cleaned.cells[1].outputs == []


def test_cleaning_is_idempotent(tmp_path):
    path = tmp_path / "nb.ipynb"
    nbformat.write(dirty_notebook(), path)
    assert nbclean.clean_file(path)[0] is True
    assert nbclean.clean_file(path)[0] is False


def test_bad_paths_and_files_give_clear_errors(tmp_path, capsys):
    assert posgen(["nbclean", str(tmp_path / "missing.ipynb")]) == 2
    assert "missing.ipynb: not a notebook" in capsys.readouterr().err
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{not json")
    assert posgen(["nbclean", str(broken)]) == 2
    assert "broken.ipynb: not a readable notebook" in capsys.readouterr().err


def test_checked_cell_without_outputs_has_no_execution_count():
    cell = new_code_cell("# NBVAL_CHECK_OUTPUT\nx = 1", execution_count=7)
    nb = new_notebook(cells=[cell])
    nbclean.clean_notebook(nb)
    assert cell.outputs == [] and cell.execution_count is None
