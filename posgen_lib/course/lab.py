"""``make lab`` / ``posgen lab``: JupyterLab in this environment, opened on notebooks/.

JupyterLab runs with the Python that runs this module (the project's .venv
under ``make lab``), so its kernel sees ``posgen_lib`` and the ipywidgets lab
extension installed there. The server's root is the repository, so
``checkpoints/``, ``data/`` and ``docs/`` are reachable from the file browser,
and the browser opens ``notebooks/``. ``--allow-root`` is passed only when
running as root (e.g. in a container), where Jupyter refuses to start without it.

Students get a lab without nbgrader's instructor tools (``posgen lab``): its
lab extension (the *Create Assignment* toolbar, the formgrader and course
panels) is disabled through a page configuration in a private Jupyter config
folder, and its course server extensions are switched off. Instructors get
everything (``posgen lab --instructor``, ``make lab-instructor``).

Extra arguments go to JupyterLab unchanged, e.g.
``posgen lab --no-browser --port 8890``.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

NOTEBOOKS = "notebooks"
NBGRADER_LAB_EXTENSION = "@jupyter/nbgrader"
NEWS_PLUGIN = "@jupyterlab/apputils-extension:announcements"  # the "official Jupyter news?" pop-up
NBGRADER_INSTRUCTOR_SERVER = ("nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.course_list",
                              "nbgrader.server_extensions.assignment_list")


def repository_root() -> Path:
    """The checkout that holds notebooks/: this package's parent (editable install), else the cwd."""
    for candidate in (Path(__file__).resolve().parents[1], Path.cwd()):
        if (candidate / NOTEBOOKS).is_dir():
            return candidate
    raise FileNotFoundError(f"no {NOTEBOOKS}/ folder next to {Path(__file__).resolve().parents[1]} "
                            f"or in {Path.cwd()}; run `make lab` from the course repository")


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def lab_command(root: Path | None = None, extra: list[str] | tuple[str, ...] = (),
                instructor: bool = False) -> list[str]:
    """The argv that starts JupyterLab rooted at ``root`` with ``notebooks/`` open; without
    ``instructor`` nbgrader's course server extensions are off (see :func:`student_environment`)."""
    root = root or repository_root()
    argv = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={root}",
            f"--LabApp.default_url=/lab/tree/{NOTEBOOKS}"]
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
