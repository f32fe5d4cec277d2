"""A run folder belongs to one run: its identity, its lock, and its log.

``posgen train --out DIR`` writes everything of one run into ``DIR``::

    run.json          run id, start time, and the config (written when the run starts)
    .lock             held (fcntl.flock) by the one process writing DIR; holds its pid and host
                      (a plain file: a symbolic link planted there is replaced, its target untouched)
    checkpoints/      step_XXXXXXX.pt, atomic, the newest ``keep`` of them
    log.jsonl         one JSON row per logged step
    loss_curve.png, samples/, model.pt, tb/

What this module enforces (each refusal is a one-line
:class:`~posgen_lib.errors.RunFolderError` naming the fix):

* a new run refuses a folder that holds another run with results (a
  checkpoint or a model); ``overwrite=True`` moves that run aside (to
  ``DIR.replaced-<time>``) instead of deleting it. A run that stopped before
  its first checkpoint has nothing to resume or lose: the same command starts
  it again;
* ``resume=True`` needs a checkpoint; ``resume="auto"`` resumes when there is
  one and starts fresh otherwise;
* a resumed run must have the same recipe (:data:`RESUME_FIELDS`, and the
  training fields its objective reads, e.g. the any-resolution loss weights)
  unless ``allow_change=True``;
* ``run.json`` may name the command that owns the run (``owner``, e.g. ``posgen
  demo``), so that command recognises its own run before replacing it;
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
from .objectives import objective_class

try:
    import fcntl
except ImportError:  # Windows: no flock; the pid written into .lock is still shown
    fcntl = None

RUN_FILE, LOCK_FILE, LOG_FILE = "run.json", ".lock", "log.jsonl"
RUN_ENTRIES = {RUN_FILE, LOCK_FILE, LOG_FILE, "checkpoints", "samples", "model.pt", "loss_curve.png", "tb"}
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
        handle = self._open()
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

    def _open(self):
        """``.lock`` opened for reading and writing, never through a symbolic link: a link planted in its
        place is removed (its target is not touched) and a plain file created."""
        if self.path.is_symlink():
            self.path.unlink()
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
        return os.fdopen(fd, "r+")

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


def has_results(folder: Path) -> bool:
    """Whether the run in ``folder`` got as far as a checkpoint or a model (something a new run would lose)."""
    folder = Path(folder)
    return (folder / "model.pt").is_file() or any((folder / "checkpoints").glob("step_*.pt"))


def is_run_of(folder: Path, owner: str) -> bool:
    """Whether ``folder`` holds nothing but a run that ``owner`` started (or only the lock of a run that
    stopped before starting), so that ``owner`` may delete it without losing anything of anyone else's."""
    names = {p.name for p in Path(folder).iterdir() if not (p.name.startswith(".") and p.name.endswith(".tmp"))}
    return names <= {LOCK_FILE} or (run_owner(folder) == owner and names <= RUN_ENTRIES)


def run_owner(folder: Path) -> str | None:
    """The command that owns the run in ``folder`` (``owner`` in its run.json), or None."""
    try:
        return json.loads((Path(folder) / RUN_FILE).read_text()).get("owner")
    except (OSError, ValueError, AttributeError):
        return None


def move_aside(folder: Path) -> Path:
    """Rename ``folder`` to ``folder.replaced-<time>`` (never deleting anything); returns the new path.

    The current folder (``--out .``), or one holding it, is refused: the process and the user's shell
    would go on in the moved folder."""
    folder = Path(os.path.abspath(folder))
    if Path.cwd().resolve().is_relative_to(folder.resolve()):
        raise RunFolderError(f"--overwrite cannot move {folder} aside: it is the current folder or holds it; "
                             "run from outside it, or train into a new --out")
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    target = folder.with_name(f"{folder.name}.replaced-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = folder.with_name(f"{folder.name}.replaced-{stamp}-{n}")
    folder.rename(target)
    return target


def start_run(folder: Path, cfg: Config, owner: str | None = None) -> str:
    """Write ``run.json`` (new run id, start time, config, and the ``owner`` command if any) into
    ``folder``; returns the run id."""
    run_id = uuid.uuid4().hex[:12]
    info = {"run_id": run_id, "started": _now(), "host": socket.gethostname(), "config": cfg.to_dict()}
    if owner:
        info["owner"] = owner
    folder.mkdir(parents=True, exist_ok=True)
    (folder / RUN_FILE).write_text(json.dumps(info, indent=2))
    return run_id


def resume_fields(cfg: Config) -> dict[str, tuple[str, ...]]:
    """The fields a resumed run must keep: :data:`RESUME_FIELDS` and the training fields that the run's
    objective alone reads (``--patch-gan``, ``--rec``, ``--consistency``, ``--scale-max`` ... of
    any-resolution training)."""
    objective = objective_class(cfg)
    own = tuple(name for name in cfg.to_dict()["train"] if objective.reads(f"train.{name}"))
    return {**RESUME_FIELDS, "train": RESUME_FIELDS["train"] + own}


def changed_fields(saved: Config, current: Config) -> list[str]:
    """``["train.lr: 0.0002 -> 0.001", ...]`` for the :func:`resume_fields` that differ."""
    a, b = saved.to_dict(), current.to_dict()
    return [f"{section}.{name}: {a[section].get(name)!r} -> {b[section].get(name)!r}"
            for section, names in resume_fields(current).items() for name in names
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
