"""A study's trained runs (eval/runs.py): found again in the cache, trained side by side with ``--jobs N``."""
from __future__ import annotations

import os
import signal
import threading
import time

import pytest

import posgen_lib as pg
from posgen_lib.errors import Interrupted
from posgen_lib.eval.runs import cached_run, run_folder, train_runs


def tiny(seed: int, steps: int = 2):
    cfg = pg.preset("tiny")
    cfg.train.steps, cfg.train.seed, cfg.train.ckpt_every = steps, seed, steps
    return cfg.validate()


def test_runs_train_side_by_side_a_failure_is_named_and_a_rerun_continues(tmp_path):
    broken = tiny(1)
    broken.data.dataset, broken.data.root = "camvid", str(tmp_path / "no_such_folder")
    plans = [(broken, "broken"), (tiny(0), "a"), (tiny(2), "c")]  # three runs, two at a time
    with pytest.raises(RuntimeError, match="training broken failed"):  # and the run beside it is stopped
        train_runs(plans, tmp_path, "cpu", jobs=2, progress=False)
    assert not list(tmp_path.glob("c-*")), "nothing more starts after a failure"
    seconds = train_runs(plans[1:], tmp_path, "cpu", jobs=2, progress=False)
    assert "c" in seconds and set(seconds) <= {"a", "c"} and all(s > 0 for s in seconds.values())
    for cfg, name in plans[1:]:
        assert (run_folder(cfg, tmp_path, name) / "model.pt").is_file()
        assert cached_run(cfg, tmp_path, name, "cpu", progress=False)[2] is None  # found, not trained again
    assert train_runs(plans[1:], tmp_path, "cpu", jobs=2, progress=False) == {}
    assert not list(tmp_path.glob(".*.plan.pkl")), "the plans handed to the children are deleted"


def test_sigterm_reaches_the_children_which_save_their_checkpoints(tmp_path):
    def stop_when_both_train():
        deadline = time.time() + 120
        while len(list(tmp_path.glob("*/log.jsonl"))) < 2 and time.time() < deadline:
            time.sleep(0.2)
        os.kill(os.getpid(), signal.SIGTERM)  # as `kill PID` of the posgen command would

    before = signal.getsignal(signal.SIGTERM)
    threading.Thread(target=stop_when_both_train, daemon=True).start()
    with pytest.raises(Interrupted, match="stopped by SIGTERM; the runs in training saved their resumable"):
        train_runs([(tiny(0, steps=5000), "a"), (tiny(1, steps=5000), "b"), (tiny(2), "c")], tmp_path, "cpu",
                   jobs=2, progress=False)
    assert not list(tmp_path.glob("c-*")), "a stopped study starts nothing more"
    for name in ("a", "b"):
        folder, = tmp_path.glob(f"{name}-*")
        assert list((folder / "checkpoints").glob("*.pt")), f"{name} saved no checkpoint"
    assert not list(tmp_path.glob(".*.plan.pkl"))
    assert signal.getsignal(signal.SIGTERM) is before, "the handler of before is back"


def test_a_run_is_found_by_what_it_trains_whatever_its_name(tmp_path):
    cfg = tiny(0)
    train_runs([(cfg, "recipes-arm")], tmp_path, "cpu", jobs=1, progress=False)
    trained = run_folder(cfg, tmp_path, "recipes-arm")
    assert run_folder(cfg, tmp_path, "experiment-posgen") == trained  # another study's name, the same recipe
    assert train_runs([(cfg, "experiment-posgen")], tmp_path, "cpu", jobs=1, progress=False) == {}
    other = tiny(1)
    assert run_folder(other, tmp_path, "experiment-posgen").name.startswith("experiment-posgen-")
