"""A notebook runs inside a bare assignment folder, and leaves nothing there but itself.

A student (or ``nbgrader autograde``) has one notebook in an otherwise empty folder: results, images
and models must come from the installed package, and whatever the notebook trains goes to the
checkpoint cache (``POSGEN_CKPT_DIR``), outside the folder that is handed in. Notebook 05 is the one
run here (it trains two models: the case that once left 91 MB of checkpoints in every student's
folder); the grading-loop test runs 04 in nbgrader's assignment folders, and ``make test``'s nbval
pass runs every notebook from notebooks/. The static checks below cover all of them: no code cell
names a path outside its folder, and notebook 06 reads the experiment's results from the package.
"""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
OUTSIDE = re.compile(r"""["'](\.\./|\.\.\\|checkpoints/|docs/|data/)""")  # a path literal that leaves the folder


def test_shipped_results_are_the_experiments():
    """The copy of docs/results.json that notebook 06 reads from the package is the repository's."""
    shipped = ROOT / "posgen_lib" / "course" / "assets" / "results.json"
    assert json.loads(shipped.read_text()) == json.loads((ROOT / "docs" / "results.json").read_text()), \
        "docs/results.json changed: copy it to posgen_lib/course/assets/results.json"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_code_names_no_path_outside_the_notebooks_folder(path):
    cells = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    found = [(i, m.group(0)) for i, c in enumerate(cells) for m in OUTSIDE.finditer(c.source)]
    assert not found, f"{path.name}: code cells name paths outside the notebook's folder: {found}; read them " \
                      "from the package and train into pg.course.checkpoint_folder(...)"


def test_notebook_05_runs_alone_in_an_empty_folder(tmp_path):
    nbclient = pytest.importorskip("nbclient")
    folder, cache = tmp_path / "05_training", tmp_path / "cache"
    folder.mkdir()
    notebook = folder / "05_training.ipynb"
    shutil.copy(ROOT / "notebooks" / notebook.name, notebook)
    nb = nbformat.read(notebook, as_version=4)
    env = {"POSGEN_FAST": "1", "POSGEN_CKPT_DIR": str(cache), "MPLBACKEND": "Agg"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the kernel inherits this process's environment
    try:
        client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                         resources={"metadata": {"path": str(folder)}})
        client.execute()  # raises CellExecutionError naming the cell if any cell fails
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    assert sorted(p.name for p in folder.iterdir()) == [notebook.name], "the notebook left files in its folder"
    trained = sorted(re.sub("-[0-9a-f]{10}$", "-<recipe>", p.parent.name) for p in cache.rglob("model.pt"))
    assert trained == ["05_synthetic-<recipe>", "05_synthetic_no_fm-<recipe>"], f"trained into POSGEN_CKPT_DIR: {trained}"


def test_a_notebooks_checkpoint_folder_is_named_by_its_recipe(monkeypatch, tmp_path):
    """A model trained with another budget or recipe (a FAST test run, an older package) is never reused."""
    from posgen_lib.config import preset
    from posgen_lib.course.cache import checkpoint_folder
    monkeypatch.setenv("POSGEN_CKPT_DIR", str(tmp_path))
    cfg = preset("synthetic")
    folder = checkpoint_folder("06_synthetic_spade", cfg)
    assert folder.parent == tmp_path and folder.name.startswith("06_synthetic_spade-")
    assert checkpoint_folder("06_synthetic_spade", preset("synthetic")) == folder  # the same recipe: found again
    for field, value in (("steps", cfg.train.steps + 1), ("lambda_feat", 0.0)):
        changed = preset("synthetic")
        setattr(changed.train, field, value)
        assert checkpoint_folder("06_synthetic_spade", changed) != folder, field
    changed = preset("synthetic")
    changed.model.modulation = "spade" if cfg.model.modulation != "spade" else "clade"
    assert checkpoint_folder("06_synthetic_spade", changed) != folder
    with pytest.raises(ValueError, match="one folder name"):
        checkpoint_folder("../elsewhere", cfg)
