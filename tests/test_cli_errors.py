"""Careless and hostile input to the ``posgen`` command line: one line naming the problem, exit status 2.

Each row of :data:`BAD_ARGUMENTS` is a probe a user once ran (or could): the
command must refuse it before doing any work, in one line that names the
argument or file, with no traceback. Run folders, locks, resume checks and
full disks have their own tests below.
"""
from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from PIL import Image

import posgen_lib as pg
from posgen_lib import checkpoint as ckpt
from posgen_lib.cli import main
from posgen_lib.errors import CheckpointError
from posgen_lib.train.loop import train

from conftest import ROOT


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A trained tiny model, a matching label PNG, and damaged checkpoints."""
    root = tmp_path_factory.mktemp("cli")
    cfg = pg.preset("tiny")
    cfg.train.steps, cfg.train.ckpt_every = 2, 1
    train(cfg, root / "run", progress=False)
    label = pg.data.SyntheticStreets(size=(32, 64), length=1, split="test")[0]["label"]
    Image.fromarray(label.numpy().astype(np.uint8)).save(root / "label.png")
    Image.fromarray(np.zeros((8192, 4096), np.uint8)).save(root / "huge.png")  # 33.5M pixels, header only read
    Image.fromarray(np.full((32, 64), 200, np.uint8)).save(root / "wrong_ids.png")
    Image.fromarray(np.zeros((32, 64, 3), np.uint8)).save(root / "colour.png")
    (root / "empty.pt").write_bytes(b"")
    good = (root / "run" / "model.pt").read_bytes()
    (root / "cut.pt").write_bytes(good[: len(good) // 3])
    return root


def run_cli(argv, capsys) -> tuple[int, str]:
    try:
        code = main([str(a) for a in argv])
    except SystemExit as stop:  # argparse errors
        code = stop.code
    err = capsys.readouterr().err.strip()
    return code, err


BAD_ARGUMENTS = [
    # (argv with {root} for the fixture folder, text the one-line error must contain)
    (["train", "--preset", "tiny", "--out", "{root}/x", "--ema", "nan"], "argument --ema: must be a finite number"),
    (["train", "--preset", "tiny", "--out", "{root}/x", "--ema", "5"], "argument --ema: must be in [0, 1)"),
    (["train", "--preset", "tiny", "--out", "{root}/x", "--l1", "-3"], "argument --l1: must be in [0, 10000]"),
    (["train", "--preset", "tiny", "--out", "{root}/x", "--lr", "inf"], "argument --lr: must be a finite number"),
    (["train", "--preset", "tiny", "--out", "{root}/x", "--lr", "1e10"], "argument --lr: must be in (0, 1]"),
    (["train", "--preset", "tiny", "--out", "{root}/x", "--lr", "0"], "argument --lr: must be in (0, 1]"),
    (["train", "--preset", "tiny", "--out", "{root}/x", "--batch", "0"], "argument --batch: must be a positive integer"),
    (["train", "--preset", "tiny", "--out", "{root}/x", "--steps", "-1"], "argument --steps: must be >= 0"),
    (["train", "--preset", "tiny", "--out", "{root}/x", "--device", "banana"], "--device 'banana' is not a device"),
    (["train", "--preset", "tiny", "--out", "{root}/x", "--data", "{root}/nowhere"], "--data {root}/nowhere is not a folder"),
    (["train", "--preset", "tiny", "--out", "{root}/x", "--resume", "{root}/nothing.pt"], "no such checkpoint file"),
    (["render", "{root}/run/model.pt", "{root}/label.png", "--out", "{root}/o.png", "--scale", "inf"],
     "argument --scale: must be a finite number"),
    (["render", "{root}/run/model.pt", "{root}/label.png", "--out", "{root}/o.png", "--scale", "0"],
     "argument --scale: must be in [0.01, 64]"),
    (["render", "{root}/run/model.pt", "{root}/label.png", "--out", "{root}/o.png", "--window", "nan,-1,1,1"],
     "argument --window"),
    (["render", "{root}/run/model.pt", "{root}/label.png", "--out", "{root}/o.png", "--window", "-2,-1,1,1"],
     "must lie in [-1, 1]"),
    (["render", "{root}/run/model.pt", "{root}/label.png", "--out", "{root}/o.png", "--window", "0,-1,0,1"],
     "needs x1 > x0"),
    (["render", "{root}/run/model.pt", "{root}/label.png", "--out", "{root}/o.png", "--size", "0x10"],
     "size must be positive"),
    (["render", "{root}/run/model.pt", "{root}/label.png", "--out", "{root}/o.png", "--size", "20000x20000"],
     "exceeds the limit of 67,108,864"),
    (["render", "{root}/run/model.pt", "{root}/huge.png", "--out", "{root}/o.png"], "exceeds the limit of 16,777,216 pixels"),
    (["render", "{root}/run/model.pt", "{root}/wrong_ids.png", "--out", "{root}/o.png"], "label values [200]"),
    (["render", "{root}/run/model.pt", "{root}/colour.png", "--out", "{root}/o.png"], "colour image"),
    (["render", "{root}/run/model.pt", "{root}/missing.png", "--out", "{root}/o.png"], "missing.png"),
    (["render", "{root}/empty.pt", "{root}/label.png", "--out", "{root}/o.png"], "empty or cut short"),
    (["render", "{root}/cut.pt", "{root}/label.png", "--out", "{root}/o.png"], "truncated or damaged"),
    (["render", "{root}/run/model.pt", "{root}/label.png", "--out", "{root}/o.png", "--method", "sharpen"],
     "unknown upscaling method 'sharpen'"),
    (["render", "{root}/run/model.pt", "{root}/label.png", "--out", "{root}/o.png", "--method", "trunk_hr"],
     "needs the label map at the output resolution"),
    (["render", "pretrained:imagenet", "{root}/label.png", "--out", "{root}/o.png"], "no pretrained model 'imagenet'"),
    (["render", "{root}/run/model.pt", "{root}/label.png", "--out", "{root}/o.png", "--device", "cuda:7"],
     "--device 'cuda:7'"),
    (["eval", "{root}/run/model.pt", "--count", "1"], "argument --count: must be in [2, 100000]"),
    (["eval", "{root}/run/model.pt", "--scales", "1,inf"], "argument --scales"),
    (["eval", "{root}/run/model.pt", "--methods", "trunk_hr,blur", "--count", "2"], "unknown upscaling method 'blur'"),
    (["data", "check", "{root}/nowhere", "--dataset", "cityscapes"], "nowhere"),
    (["data", "gallery", "--scenes", "0"], "argument --scenes"),
    (["pretrained", "build", "imagenet"], "unknown model imagenet"),
    (["nbclean", "{root}/missing.ipynb"], "missing.ipynb: not a notebook"),
    (["segmenter", "train", "--out", "{root}/s.pt", "--steps", "0"], "argument --steps: must be a positive integer"),
    (["experiment", "--steps", "-5"], "argument --steps"),
    (["experiment", "--out", "{root}/exp", "--gan-weights", "0.7"], "--gan-weights must hold"),
    (["experiment", "--gan-weights", "-1"], "argument --gan-weights"),
    (["bench", "--preset", "huge"], "argument --preset: invalid choice"),
]


@pytest.mark.parametrize("argv,message", BAD_ARGUMENTS, ids=[" ".join(a[:2]) + f" #{i}"
                                                            for i, (a, _) in enumerate(BAD_ARGUMENTS)])
def test_bad_input_is_one_line_with_exit_status_2(files, capsys, argv, message):
    argv = [a.format(root=files) for a in argv]
    code, err = run_cli(argv, capsys)
    assert code == 2, err
    assert message.format(root=files) in err, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err


def test_debug_shows_the_traceback(files, capsys):
    with pytest.raises(CheckpointError, match="empty or cut short"):
        main(["--debug", "render", str(files / "empty.pt"), str(files / "label.png"), "--out", str(files / "o.png")])


def test_render_writes_the_requested_size_for_every_kind_of_request(files, capsys):
    out = files / "big.png"
    assert main(["render", str(files / "run" / "model.pt"), str(files / "label.png"), "--scale", "2.5",
                 "--out", str(out)]) == 0
    assert Image.open(out).size == (160, 80)
    assert main(["render", str(files / "run" / "model.pt"), str(files / "label.png"), "--size", "50x70",
                 "--window", "-1,-1,0,0", "--out", str(out)]) == 0
    assert Image.open(out).size == (70, 50)
    assert "wrote" in capsys.readouterr().out


# ----- run folders: one run, one writer, honest resumes ---------------------------------------

def tiny_args(out, *extra):
    return ["train", "--preset", "tiny", "--out", str(out), "--quiet", *map(str, extra)]


def test_a_second_run_into_a_used_folder_is_refused_and_overwrite_moves_it_aside(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(tiny_args(out, "--steps", 2)) == 0
    first = json.loads((out / "run.json").read_text())["run_id"]
    before = sorted(p.name for p in (out / "checkpoints").iterdir())
    code, err = run_cli(tiny_args(out, "--steps", 2), capsys)
    assert code == 2 and "already holds run " + first in err and "--overwrite" in err
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == before  # nothing touched
    assert main(tiny_args(out, "--steps", 2, "--overwrite")) == 0
    moved = [p for p in tmp_path.iterdir() if p.name.startswith("run.replaced-")]
    assert len(moved) == 1 and json.loads((moved[0] / "run.json").read_text())["run_id"] == first
    assert json.loads((out / "run.json").read_text())["run_id"] != first


def test_resume_needs_a_checkpoint_unless_auto(tmp_path, capsys):
    code, err = run_cli(tiny_args(tmp_path / "new", "--steps", 2, "--resume"), capsys)
    assert code == 2 and "--resume: no checkpoint in" in err and "--resume auto" in err
    assert main(tiny_args(tmp_path / "new", "--steps", 2, "--resume", "auto")) == 0
    assert main(tiny_args(tmp_path / "new", "--steps", 3, "--resume", "auto")) == 0  # continues to step 3
    assert ckpt.load_checkpoint(ckpt.latest_checkpoint(tmp_path / "new" / "checkpoints"))["step"] == 3


@pytest.mark.parametrize("change,field", [(("--batch", 4), "train.batch_size: 2 -> 4"),
                                          (("--seed", 3), "train.seed: 0 -> 3"),
                                          (("--lr", 0.001), "train.lr: 0.0002 -> 0.001")])
def test_resume_with_a_changed_recipe_is_refused_unless_allowed(tmp_path, capsys, change, field):
    out = tmp_path / "run"
    assert main(tiny_args(out, "--steps", 2)) == 0
    code, err = run_cli(tiny_args(out, "--steps", 4, "--resume", *change), capsys)
    assert code == 2 and field in err and "--allow-change" in err
    assert main(tiny_args(out, "--steps", 4, "--resume", "--allow-change", *change)) == 0


def test_resumed_log_drops_rolled_back_steps_and_the_curve_covers_the_whole_run(tmp_path):
    cfg = pg.preset("tiny")
    cfg.train.steps, cfg.train.ckpt_every, cfg.train.keep = 4, 2, 5
    train(cfg, tmp_path, progress=False)
    # roll back to the step-2 checkpoint: steps 3 and 4 will be trained again
    for late in ckpt.list_checkpoints(tmp_path / "checkpoints")[1:]:
        late.unlink()
    result = train(cfg, tmp_path, resume=True, progress=False)
    steps = [json.loads(line)["step"] for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4]
    assert [r["step"] for r in result.log] == [1, 2, 3, 4]  # what the loss curve is drawn from


def test_a_second_writer_is_refused_while_the_first_runs_and_a_killed_runs_lock_is_stale(tmp_path, capsys):
    env = {**os.environ, "POSGEN_FAST": "1", "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    first = subprocess.Popen([sys.executable, "-m", "posgen_lib.cli", *tiny_args(tmp_path, "--steps", 2000)],
                             env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        while not (tmp_path / "log.jsonl").is_file():
            assert first.poll() is None and time.time() < deadline, "training did not start"
            time.sleep(0.2)
        code, err = run_cli(tiny_args(tmp_path, "--steps", 2000, "--resume", "auto"), capsys)  # this process
        assert code == 2, err
        assert "is being written by another training process (pid" in err and len(err.splitlines()) == 1, err
    finally:
        first.kill()  # kill -9: no chance to release the lock by itself
        first.wait()
    code, err = run_cli(tiny_args(tmp_path, "--steps", 3, "--resume", "auto"), capsys)
    assert code == 0, err


# ----- damaged checkpoints on --resume ------------------------------------------------------------

def _damage(tmp_path, edit) -> None:
    cfg = pg.preset("tiny")
    cfg.train.steps, cfg.train.ckpt_every = 2, 2
    train(cfg, tmp_path, progress=False)
    path = ckpt.latest_checkpoint(tmp_path / "checkpoints")
    state = torch.load(path, weights_only=True)
    edit(state)
    torch.save(state, path)


@pytest.mark.parametrize("edit,message", [
    (lambda s: s.pop("opt_D"), "is damaged (missing entry 'opt_D')"),
    (lambda s: s["config"]["train"].update(warp_speed=9), "unknown train field(s) warp_speed"),
    (lambda s: s["generator"].pop(next(iter(s["generator"]))), "is damaged"),
])
def test_damaged_checkpoint_on_resume_is_one_line(tmp_path, capsys, edit, message):
    _damage(tmp_path, edit)
    code, err = run_cli(tiny_args(tmp_path, "--steps", 3, "--resume"), capsys)
    assert code == 2 and message in err and len(err.splitlines()) == 1, err


# ----- a full or read-only disk ---------------------------------------------------------------------

@pytest.mark.parametrize("failure,message", [  # a real full and read-only disk: tests/test_user_safety.py
    (OSError(errno.ENOSPC, "No space left on device"), "no space left on the disk"),
    (OSError(errno.EROFS, "Read-only file system"), "read-only file system"),
    (OSError(errno.EACCES, "Permission denied"), "no permission to write"),
])
def test_a_failing_disk_is_one_line_and_keeps_the_previous_checkpoint(tmp_path, capsys, monkeypatch,
                                                                       failure, message):
    out = tmp_path / "run"
    assert main(tiny_args(out, "--steps", 2)) == 0
    previous = ckpt.latest_checkpoint(out / "checkpoints")
    good = previous.read_bytes()
    real_save = torch.save

    def failing_save(obj, f, *args, **kwargs):
        real_save(obj, f, *args, **kwargs)  # bytes reach the temporary file, then the disk "fills"
        raise failure

    monkeypatch.setattr(torch, "save", failing_save)
    code, err = run_cli(tiny_args(out, "--steps", 4, "--resume"), capsys)
    assert code == 2 and message in err and len(err.splitlines()) == 1, err
    assert previous.read_bytes() == good
    assert not list((out / "checkpoints").glob(".*.tmp")), "the temporary file must be removed"
    assert ckpt.load_checkpoint(ckpt.latest_checkpoint(out / "checkpoints"))["step"] == 2
