"""``posgen experiment --recipes``: which training options buy quality, compared at equal wall-clock time.

An option is only worth having if it makes a better model in the same time
on the same CPU. Every arm is the preset's recipe *before* the options of
docs/training.md ("Better images per CPU-minute") with one change, or the
two options aimed at the fixed pattern together; each gets the wall-clock budget of
:data:`STEPS` steps of the old recipe: its step count is scaled by the ratio
of step times measured side by side in this run
(:func:`posgen_lib.perf.bench.config_step`), and the counts are kept in the
cache so that a rerun trains nothing it has already trained. Every arm trains
with three seeds and is scored on the held-out scenes at 1x
(:func:`posgen_lib.eval.evaluate.evaluate`): the segmenter's mIoU, SegFD, KID
(when the Inception weights are installed), and the stripes in grey levels
(:func:`posgen_lib.eval.metrics.fixed_pattern`: the pattern at the same place
in every image, per axis). The photos' own rows say what each metric reads on
real images.

The table goes between markers into ``docs/training.md`` (or ``--out``), one
block per preset, with the command that reproduces it.
"""
from __future__ import annotations

import json
import platform
import statistics
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..config import Config, budget, fast_mode, preset
from ..perf.bench import config_step, interleaved
from ..records import write_record
from ..runtime import default_device
from .evaluate import evaluate, ground_truth_rows, native_method
from .runs import cached_run, train_runs
from .fid import inception_available
from .scenes import held_out_scenes_at
from .segmenter import load_segmenter

STEPS = {"synthetic": 2000, "camvid": 3000}  # the old recipe's budget per preset (synthetic: the demo's)
SEEDS = (0, 1, 2)
COUNT = {"synthetic": 100, "camvid": 101}  # held-out scenes: synthetic test scenes, all of CamVid val
# The recipe before this comparison: every option off.
OLD = {"model.modulation": "spade", "model.noise": False, "model.d_blur": False, "train.objective": None}
# The combination arm: the two options aimed at the fixed pattern (noise inputs, an anti-aliased D). The presets
# (config._synthetic, config._camvid) keep every option off until this table shows an arm better by more than
# the spreads; docs/training.md records which.
CHOSEN = {"model.noise": True, "model.d_blur": True}


@dataclass(frozen=True)
class Arm:
    """One row: the old recipe with ``changes`` ("section.field": value), for the presets it applies to."""

    name: str
    changes: dict = field(default_factory=dict)
    presets: tuple[str, ...] = ("synthetic", "camvid")

    @property
    def slug(self) -> str:
        return "".join(c if c.isalnum() else "-" for c in self.name.lower()).strip("-")


ARMS = (Arm("old recipe"),
        Arm("+ noise inputs", {"model.noise": True}),
        Arm("+ blurred discriminator", {"model.d_blur": True}),
        Arm("OASIS objective", {"train.objective": "oasis"}),
        Arm("CLADE trunk", {"model.modulation": "clade"}),
        Arm("noise + blurred discriminator", CHOSEN))
BEGIN, END = "<!-- posgen recipes {}: begin -->", "<!-- posgen recipes {}: end -->"


def arm_config(name: str, arm: Arm, steps: int, seed: int, data: str | None) -> Config:
    """The preset ``name`` with the old recipe, the arm's changes, ``steps`` and ``seed``."""
    cfg = preset(name)
    for key, value in {**OLD, **arm.changes}.items():
        section, attr = key.split(".")
        setattr(getattr(cfg, section), attr, value)
    cfg.train.steps, cfg.train.seed = steps, seed
    if data is not None:
        cfg.data.root = str(data)
    return cfg.validate()


def equal_time_steps(name: str, arms: list[Arm], data: str | None, cache: Path, repeats: int) -> dict[str, int]:
    """Steps per arm for the wall-clock time of the old recipe's :data:`STEPS`, measured side by side once per
    set of changes and kept in ``cache/recipes-<preset>-steps.json`` (so the trained arms stay valid on a
    rerun). Returns {arm name: steps}."""
    path = cache / f"recipes-{name}-steps.json"
    base_steps = budget(STEPS[name], 2)
    known = json.loads(path.read_text()) if path.is_file() and not fast_mode() else {}
    old = None
    for arm in arms:
        key = json.dumps(arm.changes, sort_keys=True)
        if key in known:
            continue
        if not arm.changes:
            known[key] = base_steps
            continue
        old = old or config_step(arm_config(name, arms[0], base_steps, 0, data))
        t_old, t_arm = interleaved(old, config_step(arm_config(name, arm, base_steps, 0, data)), repeats)
        known[key] = max(1, round(base_steps * t_old / t_arm))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(known, indent=1))
    return {arm.name: known[json.dumps(arm.changes, sort_keys=True)] for arm in arms}


def run_recipes(out: str | Path = "docs/training.md", cache: str | Path = "outputs/experiment",
                preset_name: str = "synthetic", data: str | None = None, device=None,
                progress: bool = True, jobs: int = 1) -> str:
    """Train and score every arm of ``preset_name`` (three seeds), write its table into ``out``; returns it.
    ``jobs`` runs train side by side (:mod:`posgen_lib.eval.parallel`)."""
    if preset_name not in STEPS:
        raise ValueError(f"--recipes compares arms on {' or '.join(STEPS)}, not {preset_name!r}")
    device, cache = default_device(device), Path(cache)
    arms = [arm for arm in ARMS if preset_name in arm.presets]
    steps = equal_time_steps(preset_name, arms, data, cache, repeats=budget(9, 1))
    count = budget(COUNT[preset_name], 2)
    probe = arm_config(preset_name, arms[0], 1, 0, data)
    scenes_at = held_out_scenes_at(probe, count)
    segmenter = load_segmenter(device=device, dataset=preset_name)
    inception = inception_available() and not fast_mode()
    runs = [(arm, arm_config(preset_name, arm, steps[arm.name], seed, data), f"recipes-{preset_name}-{arm.slug}-s{seed}")
            for arm in arms for seed in (SEEDS[:1] if fast_mode() else SEEDS)]
    train_runs([(cfg, name) for _, cfg, name in runs], cache, device, jobs, progress)
    scores: dict[str, list[dict]] = {}
    for arm, cfg, name in runs:
        G, _, _ = cached_run(cfg, cache, name, device, progress)
        row, = evaluate({arm.name: G}, [(arm.name, native_method(G))], scenes_at, (1.0,), cfg, device,
                        segmenter=segmenter, inception=inception, progress=False)
        scores.setdefault(arm.name, []).append(row)
    photos, = ground_truth_rows(scenes_at, (1.0,), segmenter)
    table = recipe_table(scores, steps, photos, count, preset_name)
    header = (f"Measured by `posgen experiment --recipes {Path(out).as_posix()} --preset {preset_name}"
              f"{' --data DIR' if data else ''}` on {platform.processor() or platform.machine()}, "
              f"{torch.get_num_threads()} torch threads, torch {torch.__version__}.\n")
    write_record(Path(out), header + "\n" + table, BEGIN.format(preset_name), END.format(preset_name))
    return table


def _mean_sd(values: list[float], scale: float = 1.0, digits: int = 1) -> str:
    if any(v is None for v in values):
        return "n/a"
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{scale * statistics.fmean(values):.{digits}f} ± {scale * sd:.{digits}f}"


def recipe_table(scores: dict, steps: dict, photos: dict, count: int, preset_name: str) -> str:
    """Markdown: one row per arm, mean ± sd over its seeds, and the photos' own row."""
    lines = ["| arm (equal wall-clock budget) | steps | mIoU % | SegFD | KID x1e3 | pattern x / y (grey levels) "
             "| seeds |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, rows in scores.items():
        get = lambda key: [r.get(key) for r in rows]  # noqa: E731
        lines.append(f"| {name} | {steps[name]} | {_mean_sd(get('miou'), 100)} | {_mean_sd(get('segfd'), 1, 2)} | "
                     f"{_mean_sd(get('kid'), 1000)} | {_mean_sd(get('pattern_x'), 1, 2)} / "
                     f"{_mean_sd(get('pattern_y'), 1, 2)} | {len(rows)} |")
    lines.append(f"| the photos themselves | | {100 * photos['miou']:.1f} | | | {photos['pattern_x']:.2f} / "
                 f"{photos['pattern_y']:.2f} | |")
    where = "synthetic test scenes" if preset_name == "synthetic" else "CamVid val photos"
    lines.append(f"\n{count} {where} at 1x; the segmenter of docs/model_card_segmenter"
                 f"{'' if preset_name == 'synthetic' else '_camvid'}.md. Pattern: the amplitude of the strongest "
                 "fine sinusoid (period 2 to 8 pixels) of the mean image over the set, across x and across y.")
    return "\n".join(lines)
