"""``posgen experiment --recipes``: which CPU training settings buy quality, compared at equal wall-clock time.

A faster setting is only worth having if the steps it saves turn into a better
model in the same time. This compares PosGen trained with the project's
defaults (bfloat16 autocast where the CPU supports it, channels_last) for
:data:`STEPS` steps against the same recipe without one of them, each given the
*same wall-clock budget*: its step count is scaled by the ratio of step times
measured side by side in this run (:func:`posgen_lib.perf.bench.trainer_step`).
Every arm is trained with three seeds and scored on 100 held-out scenes at 1x by
the segmenter's mIoU and SegFD (:func:`posgen_lib.eval.evaluate.scorecard`);
the exponential moving average of the weights is compared with the raw weights
of the same runs. channels_last needs no arm of its own: it computes the same
numbers as the contiguous layout (tests/test_runtime.py checks G, D and the
losses), so at equal time it can only help through its speed, which
``posgen bench`` measures. ``torch.compile`` is not an arm: it changes no numbers, and on
2 CPU cores its compile time exceeds what it saves in a 10-minute run
(docs/training.md gives the measurement).

The table goes between markers into ``docs/training.md`` (or ``--out``), with the
commands that reproduce each arm.
"""
from __future__ import annotations

import platform
import statistics
from pathlib import Path

import torch

from ..checkpoint import latest_checkpoint, load_checkpoint
from ..config import Config, budget, fast_mode, preset
from ..models.registry import build_generator
from ..perf.bench import interleaved, trainer_step
from ..records import write_record
from ..runtime import default_device
from .evaluate import scorecard
from .experiment import cached_run

STEPS = 2000  # the demo's and the shipped model's budget, with the defaults
SEEDS = (0, 1, 2)
ARMS = {"defaults (bf16 autocast, channels_last)": dict(amp="auto", channels_last=True),
        "float32, contiguous (eager baseline)": dict(amp="off", channels_last=False)}
BEGIN, END = "<!-- posgen recipes: begin -->", "<!-- posgen recipes: end -->"


def equal_time_steps(cfg: Config, repeats: int) -> dict[str, int]:
    """Steps each arm gets for the wall-clock time the defaults need for :data:`STEPS` steps."""
    base = trainer_step(cfg, "posgen", **ARMS[next(iter(ARMS))])
    steps = {}
    for name, settings in ARMS.items():
        if name == next(iter(ARMS)):
            steps[name] = budget(STEPS, 2)
            continue
        t_base, t_arm = interleaved(base, trainer_step(cfg, "posgen", **settings), repeats)
        steps[name] = max(1, round(budget(STEPS, 2) * t_base / t_arm))
    return steps


def arm_config(settings: dict, steps: int, seed: int) -> Config:
    cfg = preset("synthetic")
    cfg.train.steps, cfg.train.seed, cfg.train.ema_decay = steps, seed, 0.999
    cfg.train.amp, cfg.train.channels_last = settings["amp"], settings["channels_last"]
    return cfg.validate()


def raw_weights(folder: Path, cfg: Config, device):
    """The generator of the run's last checkpoint without the moving average."""
    G = build_generator(cfg.model)
    G.load_state_dict(load_checkpoint(latest_checkpoint(folder / "checkpoints"))["generator"])
    return G.to(device).eval()


def run_recipes(out: str | Path = "docs/training.md", cache: str | Path = "outputs/experiment",
                device=None, progress: bool = True) -> str:
    device, cache = default_device(device), Path(cache)
    probe = preset("synthetic")
    steps = equal_time_steps(probe, repeats=budget(9, 1))
    count = budget(100, 2)
    scores: dict[str, list[dict]] = {}
    for name, settings in ARMS.items():
        for seed in SEEDS[:1] if fast_mode() else SEEDS:
            cfg = arm_config(settings, steps[name], seed)
            tag = "posgen" if name == next(iter(ARMS)) else f"posgen-{settings['amp']}-{int(settings['channels_last'])}"
            G, folder, _ = cached_run(cfg, cache, f"{tag}-s{seed}", device, progress)
            models = {name: G}
            if name == next(iter(ARMS)):
                models["defaults, raw weights (no EMA)"] = raw_weights(folder, cfg, device)
            for key, card in scorecard(models, cfg, count, (1.0,), device).items():
                scores.setdefault(key, []).append(card["1x"])
    table = recipe_table(scores, steps, count)
    header = (f"Measured by `posgen experiment --recipes {Path(out).as_posix()}` on "
              f"{platform.processor() or platform.machine()}, "
              f"{torch.get_num_threads()} torch threads, torch {torch.__version__}.\n")
    write_record(Path(out), header + "\n" + table, BEGIN, END)
    return table


def recipe_table(scores: dict, steps: dict, count: int) -> str:
    lines = ["| arm (equal wall-clock budget) | steps | mIoU % (mean ± sd) | SegFD (mean ± sd) | seeds |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for name, rows in scores.items():
        miou, segfd = [r["miou"] for r in rows], [r["segfd"] for r in rows]
        sd = (lambda xs: statistics.stdev(xs) if len(xs) > 1 else 0.0)  # noqa: E731
        arm_steps = steps.get(name, steps[next(iter(ARMS))])
        lines.append(f"| {name} | {arm_steps} | {100 * statistics.fmean(miou):.1f} ± {100 * sd(miou):.1f} | "
                     f"{statistics.fmean(segfd):.2f} ± {sd(segfd):.2f} | {len(rows)} |")
    lines.append(f"\n{count} held-out test scenes at 1x; the segmenter of docs/model_card_segmenter.md.")
    return "\n".join(lines)
