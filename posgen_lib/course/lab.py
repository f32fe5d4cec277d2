"""``make lab`` / ``posgen lab``: JupyterLab in this environment, opened on notebooks/.

JupyterLab runs with the Python that runs this module (the project's .venv
under ``make lab``), so its kernel sees ``posgen_lib`` and the ipywidgets lab
extension installed there. The server's root is the repository, so
``checkpoints/``, ``data/`` and ``docs/`` are reachable from the file browser,
and the browser opens ``notebooks/``. ``--allow-root`` is passed only when
running as root (e.g. in a container), where Jupyter refuses to start without it.

Extra arguments go to JupyterLab unchanged, e.g.
``posgen lab --no-browser --port 8890``.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

NOTEBOOKS = "notebooks"


def repository_root() -> Path:
    """The checkout that holds notebooks/: this package's parent (editable install), else the cwd."""
    for candidate in (Path(__file__).resolve().parents[1], Path.cwd()):
        if (candidate / NOTEBOOKS).is_dir():
            return candidate
    raise FileNotFoundError(f"no {NOTEBOOKS}/ folder next to {Path(__file__).resolve().parents[1]} "
                            f"or in {Path.cwd()}; run `make lab` from the course repository")


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def lab_command(root: Path | None = None, extra: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The argv that starts JupyterLab rooted at ``root`` with ``notebooks/`` open."""
    root = root or repository_root()
    argv = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={root}",
            f"--LabApp.default_url=/lab/tree/{NOTEBOOKS}"]
    if is_root():
        argv.append("--allow-root")
    return argv + list(extra)
