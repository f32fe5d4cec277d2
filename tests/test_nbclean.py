"""The notebook cleaner: what it strips, what it keeps, and its --check mode."""
from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from posgen_lib.cli import main as posgen
from posgen_lib.course import nbclean

PNG = "iVBORw0KGgo="
WIDGET_VIEW = {"model_id": "abc", "version_major": 2, "version_minor": 0}


def dirty_notebook():
    """A notebook as JupyterLab saves it after a run: outputs plus volatile state."""
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
    widget = new_code_cell("slider", execution_count=9)
    widget.outputs = [
        new_output("display_data", {"application/vnd.jupyter.widget-view+json": WIDGET_VIEW,
                                    "text/plain": "IntSlider(value=1)"}),
        new_output("display_data", {"application/vnd.jupyter.widget-view+json": WIDGET_VIEW}),
        new_output("display_data", {"image/png": PNG}),
    ]
    nb = new_notebook(cells=[new_markdown_cell("# title", metadata={"tags": ["intro"]}),
                             plain, checked, widget])
    nb.metadata.update(kernelspec={"name": "python3", "display_name": "Python 3", "language": "python"},
                       language_info={"name": "python", "version": "3.11.7"},
                       widgets={"application/vnd.jupyter.widget-state+json": {"state": {}}})
    return nb


def test_clean_notebook_keeps_outputs_and_strips_volatile_state():
    nb = dirty_notebook()
    warnings = nbclean.clean_notebook(nb, "demo.ipynb")
    md, plain, checked, widget = nb.cells
    # outputs of an ordinary cell stay; its execution count is renumbered from 1
    assert plain.execution_count == 1
    assert [o.data for o in plain.outputs] == [{"text/plain": "1"}]
    assert plain.outputs[0].execution_count == 1
    assert plain.metadata == {"tags": ["setup"],
                              "nbgrader": {"grade": False, "solution": True, "grade_id": "a"}}
    assert md.metadata == {"tags": ["intro"]}
    assert "widgets" not in nb.metadata
    assert nb.metadata.language_info == {"name": "python"}
    assert nb.metadata.kernelspec.name == "python3"
    # the checked cell keeps its text outputs only
    assert checked.execution_count == 2
    assert [o.output_type for o in checked.outputs] == ["stream", "display_data", "execute_result"]
    assert checked.outputs[1].data == {"text/plain": "<Figure>"}
    assert checked.outputs[2].execution_count == 2
    assert len(warnings) == 2 and all("demo.ipynb cell 2" in w and "image/png" in w for w in warnings)
    # outputs showing a live widget go with their text fallback (a raw repr); the static figure stays
    assert widget.execution_count == 3
    assert [o.data for o in widget.outputs] == [{"image/png": PNG}]


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
    assert cleaned.cells[1].outputs[0].data == {"text/plain": "1"}


def test_check_mode_flags_a_notebook_that_was_not_run(tmp_path, capsys):
    path = tmp_path / "02_unrun.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("x = 1", execution_count=1),
                                       new_code_cell("y = 2"), new_code_cell("   ")]), path)
    assert posgen(["nbclean", "--check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "02_unrun.ipynb: code cells [1] were never run" in out


@pytest.mark.parametrize("text, problem", [
    ("train:   0%|          | 0/2000 [00:00<?, ?step/s]", "a progress bar at 0%"),
    ("VBox(children=(IntSlider(value=1),))", "a raw widget repr"),
    ("ResolutionViewer(children=(ToggleButtons(description='model'),))", "a raw widget repr"),
    ("data: cityscapes  not found at /home/ada/course/notebooks/data", "an absolute path of this machine"),
    ("wrote /tmp/tmpq8n2gdka/cityscapes", "an absolute path of this machine"),
    ("C:\\Users\\ada\\posgen\\model.pt", "an absolute path of this machine"),
])
def test_check_mode_flags_outputs_no_reader_should_see(tmp_path, capsys, text, problem):
    cell = new_code_cell("run()", execution_count=1)
    cell.outputs = [new_output("stream", name="stderr", text=text)]
    path = tmp_path / "03_outputs.ipynb"
    nbformat.write(new_notebook(cells=[cell]), path)
    assert posgen(["nbclean", "--check", str(path)]) == 1
    assert f"cell 0: {problem}" in capsys.readouterr().out


@pytest.mark.parametrize("text", ["100%|##########| 200/200 [00:05<00:00]", "data/cityscapes: train 2, val 1",
                                  "see https://arxiv.org/abs/2006.10739", "~/.cache/posgen/checkpoints",
                                  "posgen_lib/assets/posgen_synthetic.pt", "ratio 1/10%"])
def test_check_mode_accepts_ordinary_text(text):
    cell = new_code_cell("run()", execution_count=1)
    cell.outputs = [new_output("stream", name="stdout", text=text)]
    assert nbclean.output_problems(new_notebook(cells=[cell])) == []


def test_check_mode_enforces_the_size_budget(tmp_path, capsys, monkeypatch):
    path = tmp_path / "big.ipynb"
    nb = dirty_notebook()
    nbclean.clean_notebook(nb)
    nbformat.write(nb, path)
    monkeypatch.setattr(nbclean, "SIZE_BUDGET", path.stat().st_size - 1)
    assert posgen(["nbclean", "--check", str(path)]) == 1
    assert "over the budget" in capsys.readouterr().out
    monkeypatch.setattr(nbclean, "SIZE_BUDGET", path.stat().st_size)
    assert posgen(["nbclean", "--check", str(path)]) == 0


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


def test_cells_that_were_not_run_keep_no_execution_count():
    ran, skipped = new_code_cell("x = 1", execution_count=7), new_code_cell("y = 2")
    nb = new_notebook(cells=[skipped, ran])
    nbclean.clean_notebook(nb)
    assert skipped.execution_count is None and ran.execution_count == 1
