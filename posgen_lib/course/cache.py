"""Where the notebooks keep the models they train: a cache folder outside the notebook's own folder.

A notebook that trains ("load the checkpoint if present, else train with the
budget") writes its run into ``checkpoint_folder(name)``::

    G = pg.load_or_train(cfg, pg.course.checkpoint_folder("05_synthetic", cfg))

The folder lives under ``$POSGEN_CKPT_DIR`` when that is set, else under the
user's cache folder (``$XDG_CACHE_HOME/posgen/checkpoints``, by default
``~/.cache/posgen/checkpoints``; ``%LOCALAPPDATA%\\posgen\\checkpoints`` on
Windows). Never in the folder the notebook runs in: a student's assignment
folder, which is what gets submitted, collected and returned as feedback,
holds the notebook and nothing the notebook trained (``nbgrader autograde``
copies every file of a submission). Relative values of ``POSGEN_CKPT_DIR``
are read from the folder the kernel runs in.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from ..config import Config
from ..eval.runs import recipe_digest

ENV = "POSGEN_CKPT_DIR"


def user_cache_dir() -> Path:
    """The user's cache folder for PosGen (not created)."""
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "posgen"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "posgen"


def checkpoint_dir() -> Path:
    """``$POSGEN_CKPT_DIR`` if set, else the user cache's ``checkpoints`` folder (not created)."""
    value = os.environ.get(ENV, "").strip()
    return Path(value).expanduser() if value else user_cache_dir() / "checkpoints"


def checkpoint_folder(name: str, cfg: Config) -> Path:
    """``checkpoint_dir() / f"{name}-{recipe_digest(cfg)}"``: the run folder a notebook trains ``cfg`` into
    (created by the trainer).

    ``name`` is one folder name (no separators), e.g. ``"05_synthetic"``. The hash names the recipe (every
    config field that shapes the model or its training, the step budget included; ``recipe_digest`` of
    :mod:`posgen_lib.eval.runs`, the study cache's names): a tiny model left by a ``POSGEN_FAST=1`` run, or
    one an older version of the package trained with another recipe, lives in another folder and is never
    picked up.
    """
    if not name or name in (".", "..") or "/" in name or "\\" in name:
        raise ValueError(f"checkpoint folder name {name!r}: give one folder name, e.g. '05_synthetic'")
    return checkpoint_dir() / f"{name}-{recipe_digest(cfg)}"


def shown(path: str | Path) -> str:
    """``path`` as a page may print it: relative to the working folder when inside it, ``~/...`` when
    inside the home folder, else as given (so committed outputs hold no absolute path of this machine)."""
    path = Path(path)
    absolute = path if path.is_absolute() else Path.cwd() / path
    for base, prefix in ((Path.cwd(), ""), (Path.home(), "~/")):
        try:
            relative = absolute.resolve().relative_to(base.resolve())
        except ValueError:
            continue
        if str(base.resolve()) != "/":
            return prefix + relative.as_posix() if str(relative) != "." else (prefix.rstrip("/") or ".")
    return str(path)
