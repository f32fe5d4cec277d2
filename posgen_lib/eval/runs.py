"""The trained runs of a study: each in its own cache folder, found again or trained, several at a time.

A run of ``posgen experiment`` (the upscaling study or ``--recipes``) lives in
``<cache>/<name>-<hash>``, the hash of what it trains (:func:`cache_key`): a
rerun finds it (:func:`cached_run`), so does another study that trains the same
recipe under another name (:func:`run_folder`), an interrupted one resumes, and
a changed recipe trains into a new folder.

**Side by side** (``--jobs N``, :func:`train_runs`).
On a small CPU most of a training step is too small to keep two threads busy:
on the 2-core development machine a step on two threads is 1.5x a step on
one (docs/benchmarks.md), so two runs on one thread each train about 1.2x the
steps per minute of one run on two (150-step runs of the `synthetic` preset:
79 s for two side by side against 2 x 51 s one after the other). A study's
runs are independent of each other except where one starts from another (the
any-resolution arms from their PosGen), so they can share the machine that way.

Each run is trained by :func:`cached_run` in a
child process (:func:`train_plan`, the plan pickled
into the cache folder and deleted when the child ends), with
``OMP_NUM_THREADS`` set to the parent's threads divided by the jobs. The
children train exactly what ``--jobs 1`` trains (same config, same cache
folder, resumable); only the order of floating-point sums inside an operation
can differ with the thread count. SIGINT and SIGTERM reach the children,
which save their resumable checkpoints, and the same command continues.
"""
from __future__ import annotations

import hashlib
import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch

from ..config import Config
from ..errors import Interrupted
from ..models.registry import load_generator
from ..train.loop import TrainingInterrupted, train
from ..train.objectives import recipe

CHILD = "import sys; from posgen_lib.eval.runs import train_plan; sys.exit(train_plan(sys.argv[1]))"


def cache_key(cfg: Config) -> dict:
    """What identifies a trained model in the cache: its :func:`recipe` without the fields that hold their
    dataclass defaults, so that a field added to the configs later (with a default that keeps the old
    behaviour) leaves every cached model valid."""
    key, defaults = recipe(cfg), Config().to_dict()
    key = {section: {k: v for k, v in values.items() if v != defaults[section].get(k, object())}
           if isinstance(values, dict) else values for section, values in key.items()}
    if cfg.train.anyres_init:  # the file's place does not matter, the model in it does: its recipe folder
        key["train"]["anyres_init"] = Path(cfg.train.anyres_init).parent.name
    return key


def recipe_digest(cfg: Config) -> str:
    """Ten hex digits of the SHA-1 of :func:`cache_key`: the name of what ``cfg`` trains."""
    return hashlib.sha1(json.dumps(cache_key(cfg), sort_keys=True, default=str).encode()).hexdigest()[:10]


def run_folder(cfg: Config, cache: Path, name: str) -> Path:
    """Where the run ``cfg`` is trained and found again: ``cache/<name>-<recipe_digest>``, or the
    folder of the same hash under another name that already holds the trained model (or else its
    checkpoints). The name only labels a folder; the hash says what is in it, so a study finds what another
    study trained with the same recipe (the upscaling study's PosGen of seed 1 is the recipe comparison's
    chosen arm of seed 1 once the preset holds that recipe)."""
    digest = recipe_digest(cfg)
    own = cache / f"{name}-{digest}"
    for done in ("model.pt", "checkpoints"):
        if (own / done).exists():
            return own
        found = sorted(folder for folder in cache.glob(f"*-{digest}") if (folder / done).exists())
        if found:
            return found[0]
    return own


def cached_run(cfg: Config, cache: Path, name: str, device, progress: bool):
    """(G, folder, seconds) of the run ``cfg`` from ``cache/<name>-<hash of its cache_key>/model.pt``, training
    it (resumably) when it is not there. ``seconds`` is None for a model found in the cache."""
    folder = run_folder(cfg, cache, name)
    if (folder / "model.pt").is_file():
        G, _, _ = load_generator(folder / "model.pt", device)
        return G, folder, None
    start = time.perf_counter()
    result = train(cfg, folder, resume="auto", device=device, progress=progress)
    return result.generator.eval(), folder, time.perf_counter() - start


def train_runs(plans: list[tuple[Config, str]], cache: Path, device, jobs: int, progress: bool) -> dict[str, float]:
    """Train every (config, name) of ``plans`` that the cache does not hold yet, ``jobs`` at a time; returns
    {name: wall-clock seconds} of the runs trained (side by side, each run's own start to end)."""
    todo = [(cfg, name) for cfg, name in plans if not (run_folder(cfg, cache, name) / "model.pt").is_file()]
    seconds: dict[str, float] = {}
    if jobs <= 1 or len(todo) <= 1:
        for cfg, name in todo:
            seconds[name] = cached_run(cfg, cache, name, device, progress)[2]
        return seconds
    threads = max(1, torch.get_num_threads() // jobs)
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    cache.mkdir(parents=True, exist_ok=True)
    running: dict[str, tuple[subprocess.Popen, Path]] = {}
    started: dict[str, float] = {}
    print(f"training {len(todo)} runs, {jobs} at a time on {threads} thread(s) each", file=sys.stderr)
    stopping: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, _: stopping.append(signum))
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        queue, done = list(todo), 0
        while (queue and not stopping) or running:
            while queue and len(running) < jobs and not stopping:
                cfg, name = queue.pop(0)
                plan = cache / f".{name}.plan.pkl"
                plan.write_bytes(pickle.dumps((cfg, cache, name, str(device))))
                # A session of its own: a Ctrl-C at the terminal reaches the children once, from here, as
                # SIGTERM (a second signal would make a trainer stop without saving).
                child = subprocess.Popen([sys.executable, "-c", CHILD, str(plan)], env=env, start_new_session=True)
                running[name], started[name] = (child, plan), time.perf_counter()
            if stopping:
                _stop(running)
            time.sleep(0.5)
            for name, (child, plan) in list(running.items()):
                if child.poll() is None:
                    continue
                plan.unlink(missing_ok=True)
                del running[name]
                if child.returncode != 0 and not stopping:
                    _stop(running)
                    raise RuntimeError(f"training {name} failed (exit code {child.returncode}; its message is "
                                       "above); the runs that were training saved their checkpoints")
                if child.returncode == 0:
                    seconds[name], done = time.perf_counter() - started[name], done + 1
                    print(f"trained {name} ({done} of {len(todo)})", file=sys.stderr)
        if stopping:
            raise Interrupted(f"stopped by {signal.Signals(stopping[0]).name}; the runs in training saved their "
                              "resumable checkpoints", stopping[0])
    finally:
        _stop(running)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return seconds


def _stop(running: dict[str, tuple[subprocess.Popen, Path]]) -> None:
    """SIGTERM to every child once (each saves a checkpoint), then wait for them all."""
    for name, (child, plan) in list(running.items()):
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for name, (child, plan) in list(running.items()):
        child.wait()
        plan.unlink(missing_ok=True)
        del running[name]


def train_plan(plan: str) -> int:
    """A child of :func:`train_runs`: train the pickled (config, cache, name, device) of ``plan``; the exit code."""
    cfg, cache, name, device = pickle.loads(Path(plan).read_bytes())
    try:
        cached_run(cfg, cache, name, device, progress=False)
    except TrainingInterrupted as stop:
        print(f"{name}: {stop}", file=sys.stderr)
        return 130
    return 0

