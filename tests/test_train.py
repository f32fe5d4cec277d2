"""Training that loses nothing: exact resume, atomic writes, signals, NaN guard, DDP."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import torch

import posgen_lib as pg
from posgen_lib.cli import main as cli_main
from posgen_lib import checkpoint as ckpt
from posgen_lib.train.loop import Trainer, TrainingDiverged, ema_decay_at, lr_scale, train

from conftest import ROOT


def tiny(steps: int = 4, **train_overrides) -> pg.Config:
    cfg = pg.preset("tiny")
    cfg.data.synthetic_length = 6  # 3 steps per epoch at batch 2: runs cross epoch boundaries
    cfg.train.steps = steps
    cfg.train.ckpt_every = 2
    cfg.train.sample_every = 1000
    for k, v in train_overrides.items():
        setattr(cfg.train, k, v)
    return cfg


def assert_same_state(a: dict, b: dict) -> None:
    for key in ("generator", "discriminator"):
        for name, tensor in a[key].items():
            assert torch.equal(tensor, b[key][name]), f"{key}.{name} differs"
    for key in ("opt_G", "opt_D"):
        for pid, st in a[key]["state"].items():
            for name, value in st.items():
                assert torch.equal(value, b[key]["state"][pid][name]), f"{key}[{pid}].{name} differs"
    assert (a["step"], a["epoch"], a["position"]) == (b["step"], b["epoch"], b["position"])


def test_lr_schedule_is_constant_then_linear_to_zero():
    assert [lr_scale(s, 10, 0.5) for s in (0, 4, 5, 6, 10)] == [1.0, 1.0, 1.0, 0.8, 0.0]


def test_ema_warms_up_instead_of_averaging_the_initial_weights(tmp_path):
    assert ema_decay_at(0, 0.999) == 0.1 and ema_decay_at(10**6, 0.999) == 0.999
    trainer = Trainer(tiny(steps=4, ema_decay=0.999), tmp_path, progress=False)
    initial = {k: v.clone() for k, v in trainer.G.state_dict().items()}
    trainer.fit()
    G, ema = trainer.G.state_dict(), trainer.ema.state_dict()
    moved = [k for k in G if G[k].is_floating_point() and not torch.equal(G[k], initial[k])]
    assert moved
    # After 4 steps the average is mostly trained weights: plain decay 0.999 would leave it
    # at 99.6% of the initial ones.
    for k in moved:
        assert (ema[k] - G[k]).norm() < (ema[k] - initial[k]).norm(), k


def test_resume_is_bit_exact(tmp_path):
    """2N steps in one run == N steps, then resume, then N more (crossing an epoch boundary)."""
    straight = train(tiny(steps=4, ema_decay=0.9), tmp_path / "a", progress=False)
    resumed_dir = tmp_path / "b" / "checkpoints"
    resumed_dir.mkdir(parents=True)
    shutil.copy(ckpt.step_path(tmp_path / "a" / "checkpoints", 2), resumed_dir)
    resumed = train(tiny(steps=4, ema_decay=0.9), tmp_path / "b", resume=True, progress=False)
    assert straight.step == resumed.step == 4
    a = ckpt.load_checkpoint(straight.checkpoint)
    b = ckpt.load_checkpoint(resumed.checkpoint)
    assert_same_state(a, b)
    for name, tensor in a["ema"].items():
        assert torch.equal(tensor, b["ema"][name])


def test_outputs_of_a_run(tmp_path):
    result = train(tiny(steps=2), tmp_path, progress=False)
    rows = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2]
    assert {"G_GAN", "G_feat", "D_fake", "D_real", "lr_G", "sec_per_step"} <= rows[0].keys()
    for name in ("loss_curve.png", "samples/final.png", "model.pt", "run.json"):
        assert (tmp_path / name).is_file(), name
    G, cfg, card = pg.load_generator(tmp_path / "model.pt")
    assert card["steps"] == 2 and not G.training
    for p_saved, p_live in zip(G.parameters(), result.generator.parameters()):
        assert torch.equal(p_saved, p_live)


def test_keep_prunes_old_checkpoints(tmp_path):
    train(tiny(steps=6, keep=2), tmp_path, progress=False)
    assert [p.name for p in ckpt.list_checkpoints(tmp_path / "checkpoints")] == \
        ["step_0000004.pt", "step_0000006.pt"]


def test_resume_with_another_model_names_the_fields(tmp_path):
    train(tiny(steps=2), tmp_path, progress=False)
    other = tiny(steps=4)
    other.model.ngf = 8
    with pytest.raises(ckpt.CheckpointError, match=r"model\.ngf: 4 != 8"):
        train(other, tmp_path, resume=True, progress=False)


def test_resume_ignores_model_fields_only_other_generator_kinds_read(tmp_path):
    train(tiny(steps=2), tmp_path, progress=False)  # a PosGen run
    other = tiny(steps=4)
    other.model.anyres_texture_hidden = 24  # the any-resolution texture branch's width: PosGen has none
    assert train(other, tmp_path, resume=True, progress=False).step == 4
    assert pg.load_or_train(other, tmp_path, progress=False) is not None


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path):
    trainer = Trainer(tiny(steps=6), tmp_path, progress=False)
    original = trainer.objective.generator_losses

    def poisoned(*args, **kwargs):
        losses, fake = original(*args, **kwargs)
        if trainer.step == 3:
            losses["G_GAN"] = losses["G_GAN"] * float("nan")
        return losses, fake

    trainer.objective.generator_losses = poisoned
    with pytest.raises(TrainingDiverged, match="step 3.*step_0000002.pt"):
        trainer.fit()
    assert all(torch.isfinite(p).all() for p in trainer.G.parameters())
    kept = ckpt.load_checkpoint(ckpt.latest_checkpoint(tmp_path / "checkpoints"))
    assert kept["step"] == 2


def test_atomic_write_survives_kill_during_write(tmp_path):
    """kill -9 while a checkpoint is half written: the previous file is intact."""
    target = tmp_path / "step_0000001.pt"
    ckpt.save_checkpoint(target, {"format": ckpt.FORMAT, "value": torch.arange(10)})
    writer = textwrap.dedent(f"""
        import io, time, torch
        from posgen_lib import checkpoint as ckpt
        real_save = torch.save
        def slow_save(obj, f):  # write half of the bytes, then hang: a kill lands mid-write
            buf = io.BytesIO(); real_save(obj, buf); data = buf.getvalue()
            f.write(data[: len(data) // 2]); f.flush(); print("half", flush=True); time.sleep(60)
        torch.save = slow_save
        ckpt.save_checkpoint({str(target)!r}, {{"format": ckpt.FORMAT, "value": torch.zeros(10**6)}})
    """)
    proc = subprocess.Popen([sys.executable, "-c", writer], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "half"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert list(tmp_path.glob(".*.tmp")), "the interrupted write should have left its temp file"
    assert torch.equal(ckpt.load_checkpoint(target)["value"], torch.arange(10))
    assert ckpt.list_checkpoints(tmp_path) == [target]
    ckpt.prune_checkpoints(tmp_path, keep=5)
    assert not list(tmp_path.glob(".*.tmp"))


def test_truncated_checkpoint_is_a_clear_error(tmp_path):
    path = ckpt.save_checkpoint(tmp_path / "x.pt", {"format": ckpt.FORMAT})
    path.write_bytes(path.read_bytes()[:50])
    with pytest.raises(ckpt.CheckpointError, match="truncated"):
        ckpt.load_checkpoint(path)
    (tmp_path / "y.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ckpt.CheckpointError, match="is not a PyTorch file, not a PosGen checkpoint"):
        ckpt.load_checkpoint(tmp_path / "y.pt")


def _env():
    return {**os.environ, "POSGEN_FAST": "1", "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}


def test_sigterm_saves_a_resumable_checkpoint(tmp_path):
    cmd = [sys.executable, "-m", "posgen_lib.cli", "train", "--preset", "tiny", "--steps", "500",
           "--out", str(tmp_path), "--quiet"]
    proc = subprocess.Popen(cmd, env=_env(), stderr=subprocess.PIPE, text=True)
    log = tmp_path / "log.jsonl"
    deadline = time.time() + 120
    while not (log.is_file() and log.read_text().count("\n") >= 2):
        assert proc.poll() is None and time.time() < deadline, "training did not start"
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "SIGTERM" in err and "--resume" in err
    saved = ckpt.load_checkpoint(ckpt.latest_checkpoint(tmp_path / "checkpoints"))
    assert 2 <= saved["step"] < 500
    assert cli_main(cmd[3:7] + [str(saved["step"] + 1)] + cmd[8:] + ["--resume"]) == 0  # resumed in this process
    assert ckpt.load_checkpoint(ckpt.latest_checkpoint(tmp_path / "checkpoints"))["step"] == saved["step"] + 1


DDP_SCRIPT = """
import sys, torch, torch.distributed as dist, posgen_lib as pg
from posgen_lib.train import train
# float64: Adam's first steps are lr * sign(gradient), so in float32 the rounding noise of a
# different reduction order (2 half batches vs 1 batch) flips the sign of near-zero
# gradients and moves those weights by 2 lr; in float64 that noise is 1e-16, not 1e-7.
torch.set_default_dtype(torch.float64)
cfg = pg.preset("tiny")
# Per-sample normalization: with BatchNorm each rank would normalize its half batch
# separately (SyncBatchNorm needs CUDA), and the runs could not be compared exactly.
cfg.model.spade_norm = "instance"
cfg.data.synthetic_length = 16
cfg.train.batch_size, cfg.train.steps, cfg.train.sample_every = 4, 3, 1000
out = sys.argv[1]
result = train(cfg, out, device="cpu", progress=False)
rank = dist.get_rank() if dist.is_initialized() else 0
from posgen_lib.data.synthetic import SyntheticStreets
scenes = SyntheticStreets(size=cfg.model.image_size, length=2, split="test")
sem = pg.data.to_semantics(torch.stack([scenes[i]["label"] for i in range(2)]), None, "synthetic")
with torch.no_grad():
    image = result.generator(sem)
torch.save({"weights": result.generator.state_dict(), "image": image}, f"{out}/G_rank{rank}.pt")
"""


def test_ddp_two_processes_match_single_process(tmp_path):
    script = tmp_path / "ddp_train.py"
    script.write_text(DDP_SCRIPT)
    single = subprocess.run([sys.executable, str(script), str(tmp_path / "single")], env=_env(),
                            capture_output=True, text=True, timeout=300)
    assert single.returncode == 0, single.stderr
    multi = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                            "--nproc-per-node", "2", str(script), str(tmp_path / "ddp")],
                           env=_env(), capture_output=True, text=True, timeout=300)
    assert multi.returncode == 0, multi.stderr[-3000:]
    ranks = [torch.load(tmp_path / "ddp" / f"G_rank{r}.pt", weights_only=True) for r in (0, 1)]
    reference = torch.load(tmp_path / "single" / "G_rank0.pt", weights_only=True)
    for name, tensor in ranks[0]["weights"].items():
        assert torch.equal(tensor, ranks[1]["weights"][name]), f"ranks differ in {name}"
    # Compare what the generators compute, not raw weights: conv biases right before an
    # instance norm get mathematically zero gradients, and Adam turns their rounding noise
    # into full-size steps of random sign that change no output.
    assert ranks[0]["image"].dtype == torch.float64
    torch.testing.assert_close(ranks[0]["image"], reference["image"], atol=1e-9, rtol=0)
