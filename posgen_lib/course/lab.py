"""``make lab`` / ``posgen lab``: JupyterLab in this environment, for students or for instructors.

JupyterLab runs with the Python that runs this module (the project's .venv
under ``make lab``), so its kernel sees ``posgen_lib`` and the ipywidgets lab
extension installed there. ``--allow-root`` is passed only when running as
root (e.g. in a container), where Jupyter refuses to start without it.

Students (``posgen lab``, ``make lab``) work in **student copies**: the lab is
rooted at ``build/student/``, which holds a copy of every course notebook
without solutions and hidden tests (:func:`student_workspace`, made by the
same nbgrader preprocessors as ``posgen assign student``), so the instructor
notebooks are not reachable from the file browser. A copy is written only
when it is missing: a student's work in ``build/student/`` is never
overwritten (delete a copy to get a fresh one). nbgrader's instructor tools
are off: its lab extension (the *Create Assignment* toolbar, the formgrader
and course panels) is disabled through a page configuration in a private
Jupyter config folder, and its course server extensions are switched off.

Instructors (``posgen lab --instructor``, ``make lab-instructor``) get the
repository, opened on ``notebooks/`` (solutions, hidden tests), with every
nbgrader tool.

Extra arguments go to JupyterLab unchanged, e.g.
``posgen lab --no-browser --port 8890``.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import nbformat

from .assign import find_leaks, student_version

NOTEBOOKS = "notebooks"
STUDENT_FOLDER = Path("build") / "student"  # the student lab's root, inside the repository
NBGRADER_LAB_EXTENSION = "@jupyter/nbgrader"
NEWS_PLUGIN = "@jupyterlab/apputils-extension:announcements"  # the "official Jupyter news?" pop-up
NBGRADER_INSTRUCTOR_SERVER = ("nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.course_list",
                              "nbgrader.server_extensions.assignment_list")


def repository_root() -> Path:
    """The checkout that holds notebooks/: this package's parent (editable install), else the cwd."""
    for candidate in (Path(__file__).resolve().parents[2], Path.cwd()):
        if (candidate / NOTEBOOKS).is_dir():
            return candidate
    raise FileNotFoundError(f"no {NOTEBOOKS}/ folder next to {Path(__file__).resolve().parents[2]} "
                            f"or in {Path.cwd()}; run `make lab` from the course repository")


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def student_workspace(notebooks: Path | None = None, out: Path | None = None) -> Path:
    """``out`` (default ``build/student/`` of the repository) holding a student copy of every notebook in
    ``notebooks`` (default the repository's ``notebooks/``); writes only the copies that are missing,
    and checks each new copy for solution or hidden-test text (ValueError naming the leak)."""
    notebooks = Path(notebooks or repository_root() / NOTEBOOKS)
    out = Path(out or repository_root() / STUDENT_FOLDER)
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted(notebooks.glob("*.ipynb")):
        target = out / path.name
        if target.exists():
            continue  # the student's own copy, maybe with their work in it
        source = nbformat.read(path, as_version=4)
        copy = student_version(source, str(path))
        leaks = find_leaks(copy, source, str(target))
        if leaks:
            raise ValueError("a student copy would leak solution text:\n" + "\n".join(leaks))
        nbformat.write(copy, target)
    return out


def lab_command(root: Path | None = None, extra: list[str] | tuple[str, ...] = (),
                instructor: bool = False, open_path: str | None = None) -> list[str]:
    """The argv that starts JupyterLab rooted at ``root`` and opened on ``open_path``.

    Instructors: ``root`` defaults to the repository and ``open_path`` to ``notebooks``.
    Students: ``root`` defaults to :func:`student_workspace` (which it fills with any missing copy) and
    ``open_path`` to the root; nbgrader's course server extensions are off (see :func:`student_environment`).
    """
    if root is None:
        root = repository_root() if instructor else student_workspace()
    if open_path is None:
        open_path = NOTEBOOKS if instructor else ""
    argv = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={root}",
            f"--LabApp.default_url={f'/lab/tree/{open_path}' if open_path else '/lab'}"]
    if not instructor:
        switches = ", ".join(f"'{name}': False" for name in NBGRADER_INSTRUCTOR_SERVER)
        argv.append(f"--ServerApp.jpserver_extensions={{{switches}}}")
    if is_root():
        argv.append("--allow-root")
    return argv + list(extra)


def student_environment(base: dict | None = None, config_dir: Path | None = None) -> dict:
    """``base`` (default: this process's environment) with ``JUPYTER_CONFIG_DIR`` set to a folder whose
    page configuration disables nbgrader's lab extension (the instructor toolbar and panels) and the
    news pop-up."""
    env = dict(os.environ if base is None else base)
    folder = Path(config_dir or tempfile.mkdtemp(prefix="posgen-student-lab-"))
    (folder / "labconfig").mkdir(parents=True, exist_ok=True)
    page = {"disabledExtensions": {NBGRADER_LAB_EXTENSION: True, NEWS_PLUGIN: True}}
    (folder / "labconfig" / "page_config.json").write_text(json.dumps(page))
    env["JUPYTER_CONFIG_DIR"] = str(folder)
    return env
