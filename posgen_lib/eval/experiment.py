"""``posgen experiment``: the upscaling experiment behind docs/results.md, in one command.

1. Train PosGen and the SPADE baseline with the same budget: preset
   ``synthetic``, the same steps (default: the preset's, read at run time),
   seed and data order, through :func:`posgen_lib.train.loop.train`. Trained models
   are cached under ``--cache`` in a folder named by a hash of their config,
   and reused by later runs.
2. Score every upscaling method (:data:`RUNS`) at 1x, 2x, 3.3x and 4x on
   held-out test scenes with ground truth at each scale
   (:func:`posgen_lib.eval.evaluate.evaluate`).
3. Write ``results.md`` (tables, win/loss findings derived from the numbers),
   ``results.json`` and ``img/upscaling_comparison.png`` to ``--out``.

With ``POSGEN_FAST=1``: the ``tiny`` preset (32x64), 2 training steps, 2 scenes and
no FID/KID: a smoke run of the whole pipeline whose numbers mean nothing.
"""
from __future__ import annotations

import hashlib
import json
import platform
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from ..config import budget, fast_mode, preset
from ..models.registry import count_parameters, load_generator
from ..runtime import default_device
from ..train.loop import train
from .comparison import comparison_figure, pick_scene
from .evaluate import evaluate, ground_truth_rows
from .fid import inception_available
from .report import write_report
from .scenes import synthetic_scenes_at
from .segmenter import load_segmenter

SCALES = (1.0, 2.0, 3.3, 4.0)
RUNS = [("SPADE", "trunk_nearest"), ("SPADE", "bicubic"), ("SPADE", "features_bilinear"),
        ("PosGen", "bicubic"), ("PosGen", "coordinates"), ("SPADE", "trunk_hr"), ("PosGen", "joint_bilateral_hr")]
TITLES = {("SPADE", "trunk_nearest"): "SPADE, labels", ("SPADE", "bicubic"): "SPADE + bicubic",
          ("SPADE", "features_bilinear"): "SPADE features",
          ("PosGen", "bicubic"): "PosGen + bicubic", ("PosGen", "coordinates"): "PosGen coords",
          ("SPADE", "trunk_hr"): "SPADE, HR labels*", ("PosGen", "joint_bilateral_hr"): "PosGen JBU HR*"}


@dataclass
class ExperimentConfig:
    """Budget of ``posgen experiment`` (None: the preset's steps / FAST-aware defaults)."""

    steps: int | None = None
    count: int | None = None  # held-out scenes per scale
    seed: int = 0
    batch_size: int = 8
    inception: bool | None = None  # FID/KID; None: when installed and not in FAST mode
    scales: tuple[float, ...] = SCALES
    preset: str | None = None  # generators' preset; None: "synthetic" ("tiny" in FAST mode)

    def resolved(self) -> "ExperimentConfig":
        name = self.preset or ("tiny" if fast_mode() else "synthetic")
        steps = self.steps if self.steps is not None else budget(preset(name).train.steps, 2)
        count = self.count if self.count is not None else budget(100, 2)
        inception = self.inception if self.inception is not None else (not fast_mode() and inception_available())
        if steps < 1 or count < 2:
            raise ValueError(f"steps={steps} must be >= 1 and count={count} >= 2")
        return ExperimentConfig(steps, count, self.seed, self.batch_size, inception, tuple(self.scales), name)


def training_config(kind: str, exp: ExperimentConfig):
    cfg = preset(exp.preset)
    if cfg.data.dataset != "synthetic":
        raise ValueError(f"the experiment needs a preset on the synthetic streets, not {exp.preset!r}")
    cfg.model.generator, cfg.train.steps, cfg.train.seed = kind, exp.steps, exp.seed
    if exp.steps < cfg.train.sample_every:  # short runs: log every step, one checkpoint at the end
        cfg.train.log_every, cfg.train.sample_every = 1, exp.steps
        cfg.train.ckpt_every = exp.steps
    return cfg.validate()


def trained_generator(kind: str, exp: ExperimentConfig, cache: Path, device, progress: bool):
    """(G, folder, seconds) from ``cache/<kind>-<config hash>/model.pt``, training it if absent."""
    cfg = training_config(kind, exp)
    digest = hashlib.sha1(json.dumps(cfg.to_dict(), sort_keys=True).encode()).hexdigest()[:10]
    folder = cache / f"{kind}-{digest}"
    if (folder / "model.pt").is_file():
        G, _, _ = load_generator(folder / "model.pt", device)
        return G, folder, None
    start = time.perf_counter()
    result = train(cfg, folder, resume="auto", device=device, progress=progress)
    return result.generator.eval(), folder, time.perf_counter() - start


def run_experiment(out: str | Path = "docs", cache: str | Path = "outputs/experiment",
                   exp: ExperimentConfig | None = None, device=None, progress: bool = True) -> dict:
    exp = (exp or ExperimentConfig()).resolved()
    out, cache, device = Path(out), Path(cache), default_device(device)
    start = time.perf_counter()
    generators, training = {}, {}
    for name, kind in (("PosGen", "posgen"), ("SPADE", "spade")):
        G, folder, seconds = trained_generator(kind, exp, cache, device, progress)
        generators[name] = G
        training[name] = {"folder": str(folder), "parameters": count_parameters(G),
                          "train_seconds": None if seconds is None else round(seconds, 1)}
    cfg = training_config("posgen", exp)
    segmenter = load_segmenter(device=device)
    scenes_at = synthetic_scenes_at(cfg, exp.count)

    eval_start = time.perf_counter()
    rows = evaluate(generators, RUNS, scenes_at, exp.scales, cfg, device, segmenter=segmenter,
                    inception=exp.inception, batch_size=exp.batch_size, progress=progress)
    ceiling = ground_truth_rows(scenes_at, exp.scales, segmenter)
    eval_seconds = time.perf_counter() - eval_start
    top = max(exp.scales)
    index = pick_scene(scenes_at(1.0))
    figure = comparison_figure(generators, RUNS, TITLES, cfg, scenes_at(1.0), scenes_at(top), index,
                               out / "img" / "upscaling_comparison.png", device=device)
    meta = {"experiment": asdict(exp), "training": training, "eval_seconds": round(eval_seconds, 1),
            "total_seconds": round(time.perf_counter() - start, 1), "figure_scene": index,
            "figure_scale": top, "image_size": list(cfg.model.image_size),
            "trunk_step": 2 ** cfg.model.num_up, "segmenter_card": getattr(segmenter, "card", {}),
            "machine": f"{platform.processor() or platform.machine()}, torch {torch.__version__}, "
                       f"{torch.get_num_threads()} threads, device {device}",
            "fast_mode": fast_mode()}
    results = {"meta": meta, "rows": rows, "ground_truth": ceiling}
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2))
    write_report(results, out / "results.md", figure.relative_to(out).as_posix(), TITLES)
    return results
