"""A run folder belongs to one run: its identity, its lock, and its log.

``posgen train --out DIR`` writes everything of one run into ``DIR``::

    run.json          run id, start time, and the config (written when the run starts)
    .lock             held (fcntl.flock) by the one process writing DIR; holds its pid and host
    checkpoints/      step_XXXXXXX.pt, atomic, the newest ``keep`` of them
    log.jsonl         one JSON row per logged step
    loss_curve.png, samples/, model.pt, tb/

What this module enforces (each refusal is a one-line
:class:`~posgen_lib.errors.RunFolderError` naming the fix):

* a new run refuses a folder that holds another run; ``overwrite=True``
  moves that run aside (to ``DIR.replaced-<time>``) instead of deleting it;
* ``resume=True`` needs a checkpoint; ``resume="auto"`` resumes when there is
  one and starts fresh otherwise;
* a resumed run must have the same recipe (:data:`RESUME_FIELDS`) unless
  ``allow_change=True``;
* a second process cannot write a folder while the first is alive. The lock
  is an ``flock`` on ``.lock``, which the kernel releases when a process dies,
  so a lock left by a killed run is stale by construction and is taken over;
* on resume, ``log.jsonl`` is cut back to the resumed step, so rows of steps
  that were rolled back do not stay in the log (or the loss curve).
"""
from __future__ import annotations

import datetime
import json
import os
import socket
import uuid
from pathlib import Path

from ..config import Config
from ..errors import RunFolderError

try:
    import fcntl
except ImportError:  # Windows: no flock; the pid written into .lock is still shown
    fcntl = None

RUN_FILE, LOCK_FILE, LOG_FILE = "run.json", ".lock", "log.jsonl"
# Fields whose change would make a resumed run a different run than the one it continues.
RESUME_FIELDS = {"train": ("batch_size", "seed", "lr", "ttur", "beta1", "beta2", "gan_mode", "decay_start",
                           "lambda_feat", "lambda_vgg", "lambda_kld", "lambda_l1", "ema_decay", "vgg_weights"),
                 "data": ("dataset", "label_set", "preprocess_mode", "load_size", "crop_size",
                          "aspect_ratio", "flip", "synthetic_seed")}


def _now() -> str:
    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")


class RunLock:
    """``with RunLock(folder):`` -- exclusive writer of ``folder`` (see the module docstring)."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / LOCK_FILE
        self.handle = None

    def __enter__(self) -> "RunLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")
        if fcntl is not None:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.seek(0)
                holder = handle.read().strip() or "unknown process"
                handle.close()
                raise RunFolderError(f"{self.path.parent} is being written by another training process "
                                     f"({holder}); wait for it to finish, or train into another --out") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}, since {_now()}\n")
        handle.flush()
        self.handle = handle
        return self

    def __exit__(self, *exc) -> bool:
        if self.handle is not None:
            self.handle.close()  # releases the flock
            self.handle = None
        return False


def describe_run(folder: Path) -> str | None:
    """A short description of the run already in ``folder``, or None when it holds none."""
    folder = Path(folder)
    run_file = folder / RUN_FILE
    if run_file.is_file():
        try:
            info = json.loads(run_file.read_text())
            return f"run {info.get('run_id', '?')} started {info.get('started', '?')}"
        except (OSError, ValueError):
            return "a run whose run.json is unreadable"
    if (folder / "checkpoints").is_dir() or (folder / LOG_FILE).is_file() or (folder / "model.pt").is_file():
        return "a run from an older version of posgen (no run.json)"
    return None


def move_aside(folder: Path) -> Path:
    """Rename ``folder`` to ``folder.replaced-<time>`` (never deleting anything); returns the new path."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    target = folder.with_name(f"{folder.name}.replaced-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = folder.with_name(f"{folder.name}.replaced-{stamp}-{n}")
    folder.rename(target)
    return target


def start_run(folder: Path, cfg: Config) -> str:
    """Write ``run.json`` (new run id, start time, config) into ``folder``; returns the run id."""
    run_id = uuid.uuid4().hex[:12]
    info = {"run_id": run_id, "started": _now(), "host": socket.gethostname(), "config": cfg.to_dict()}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / RUN_FILE).write_text(json.dumps(info, indent=2))
    return run_id


def changed_fields(saved: Config, current: Config) -> list[str]:
    """``["train.lr: 0.0002 -> 0.001", ...]`` for the :data:`RESUME_FIELDS` that differ."""
    a, b = saved.to_dict(), current.to_dict()
    return [f"{section}.{name}: {a[section].get(name)!r} -> {b[section].get(name)!r}"
            for section, names in RESUME_FIELDS.items() for name in names
            if a[section].get(name) != b[section].get(name)]


def read_log(path: str | Path) -> list[dict]:
    """Rows of a JSON-lines training log (a cut-off last line, from a kill during a write, is skipped)."""
    rows = []
    for line in Path(path).read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            continue
    return rows


def truncate_log(folder: Path, step: int) -> list[dict]:
    """Keep only the log rows up to ``step`` (rewritten atomically); returns them."""
    path = Path(folder) / LOG_FILE
    if not path.is_file():
        return []
    rows = [r for r in read_log(path) if r.get("step", 0) <= step]
    tmp = path.with_name(f".{LOG_FILE}.{os.getpid()}.tmp")
    tmp.write_text("".join(json.dumps(r) + "\n" for r in rows))
    os.replace(tmp, path)
    return rows
