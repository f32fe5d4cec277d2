"""``posgen experiment``: the upscaling experiment behind docs/results.md, in one command.

1. Train the 1x generators, PosGen and the SPADE baseline, with the same budget
   (preset ``synthetic``, :attr:`ExperimentConfig.steps` steps, EMA, the same
   data order), once per seed.
2. Train the any-resolution arms (:mod:`posgen_lib.train.anyres`) from each
   seed's PosGen: the trade-off between reconstruction and the patch GAN
   (:attr:`ExperimentConfig.tradeoff`), and the ablations (LIIF's feature
   unfolding, no consistency term, no residual form, trained from scratch with
   the trunk). Every trained model is cached under ``--cache`` by its recipe,
   so a rerun only scores.
3. Score on held-out test scenes with ground truth at every scale
   (:func:`posgen_lib.eval.evaluate.evaluate`): the main comparison at all
   scales, the arms at 4x.
4. Time and measure the working memory of every method at 4x, side by side.
5. Write ``results.md`` (means and spread over seeds, the targets, the
   trade-off), ``results.json`` and the pictures (crops at 4x and 8x, the
   trade-off curve, the power spectra).

With ``POSGEN_FAST=1``: the ``tiny`` preset, 2 steps, one seed, 2 scenes, no
FID/KID: a smoke run of the whole pipeline whose numbers mean nothing.
"""
from __future__ import annotations

import hashlib
import json
import platform
import statistics
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch

from ..config import Config, budget, fast_mode, preset
from ..data.transforms import to_semantics
from ..models.registry import GENERATOR_CLASSES, count_parameters, load_generator
from ..perf.memory import PeakTensorMemory
from ..runtime import default_device
from ..train.loop import train
from ..train.objectives import recipe
from .comparison import comparison_figure, pick_scene, spectrum_figure, tradeoff_figure
from .evaluate import evaluate, generate, ground_truth_rows
from .fid import inception_available
from .report import aggregate, tradeoff_points, write_report
from .scenes import held_out_scenes_at
from .segmenter import load_segmenter

SCALES = (2.0, 3.3, 4.0, 8.0)
ARM_SCALE = 4.0  # where the any-resolution arms are compared


@dataclass
class ExperimentConfig:
    """Budget and design of ``posgen experiment`` (None: FAST-aware defaults, see :meth:`resolved`)."""

    steps: int | None = None  # 1x generators (and the from-scratch arm)
    anyres_steps: int | None = None  # any-resolution fine-tuning
    seeds: tuple[int, ...] | None = None
    ablation_seeds: int = 1  # the trade-off and ablation arms train on this many of the first seeds
    count: int | None = None  # held-out scenes per scale
    batch_size: int = 8
    inception: bool | None = None  # FID/KID; None: when installed and not in FAST mode
    scales: tuple[float, ...] = SCALES
    tradeoff: tuple[float, ...] = (0.0, 0.01, 0.03, 0.1)  # lambda_patch_gan of the trade-off arms
    operating_point: float = 0.03  # the lambda_patch_gan of the ablations
    anyres_lr: float = 2e-3  # base learning rate of the fine-tuned arms (the detail head alone: G lr 1e-3)
    preset: str | None = None  # None: "synthetic" ("tiny" in FAST mode)

    def resolved(self) -> "ExperimentConfig":
        name = self.preset or ("tiny" if fast_mode() else "synthetic")
        out = replace(self, preset=name,
                      steps=self.steps if self.steps is not None else budget(2000, 2),
                      anyres_steps=self.anyres_steps if self.anyres_steps is not None else budget(1500, 2),
                      seeds=tuple(self.seeds) if self.seeds is not None else tuple(range(budget(3, 1))),
                      count=self.count if self.count is not None else budget(64, 2),
                      inception=self.inception if self.inception is not None else
                      (not fast_mode() and inception_available()),
                      scales=tuple(self.scales))
        if out.steps < 1 or out.anyres_steps < 1 or out.count < 2 or not out.seeds or out.ablation_seeds < 1:
            raise ValueError(f"steps={out.steps}, anyres_steps={out.anyres_steps} and ablation_seeds="
                             f"{out.ablation_seeds} must be >= 1, count={out.count} >= 2, and seeds not empty")
        if out.operating_point not in out.tradeoff:
            raise ValueError(f"operating_point {out.operating_point} must be one of tradeoff {out.tradeoff}")
        return out


@dataclass(frozen=True)
class Arm:
    """One trained method: a name, how its config differs, and whether it starts from the seed's PosGen."""

    name: str
    generator: str
    changes: dict = field(default_factory=dict)  # "model.x" / "train.y" -> value
    from_posgen: bool = False


def arms(exp: ExperimentConfig) -> list[Arm]:
    """Every trained method of the experiment, baselines first."""
    point = {"train.lambda_patch_gan": exp.operating_point}
    out = [Arm("PosGen", "posgen"), Arm("SPADE", "spade")]
    out += [Arm(tradeoff_name(w), "anyres", {"train.lambda_patch_gan": w}, True) for w in exp.tradeoff]
    out += [Arm("AnyRes unfold", "anyres", {**point, "model.anyres_sampling": "unfold"}, True),
            Arm("AnyRes with cell offset", "anyres", {**point, "model.anyres_offset": True}, True),
            Arm("AnyRes residual", "anyres", {**point, "model.anyres_residual": True}, True),
            Arm("AnyRes no consistency", "anyres", {**point, "train.lambda_consistency": 0.0}, True),
            Arm("AnyRes from scratch", "anyres", point, False)]
    return out


def core_arms(exp: ExperimentConfig) -> set[str]:
    """The arms trained on every seed: the two 1x generators and the any-resolution operating point."""
    return {"PosGen", "SPADE", operating_name(exp)}


def arms_of_seed(exp: ExperimentConfig, seed: int) -> list[Arm]:
    """The arms trained on ``seed``: all of them on the first ``exp.ablation_seeds`` seeds, the core arms
    on the others (each any-resolution arm costs as much as the core; the ablations are read at one seed)."""
    every = exp.seeds.index(seed) < exp.ablation_seeds
    return [a for a in arms(exp) if every or a.name in core_arms(exp)]


def tradeoff_name(weight: float) -> str:
    return f"AnyRes GAN {weight:g}"


def operating_name(exp: ExperimentConfig) -> str:
    return tradeoff_name(exp.operating_point)


def tradeoff_keys(exp: ExperimentConfig) -> dict:
    """The points of the trade-off figure: every patch-GAN weight, and bicubic of the operating point's 1x."""
    keys = {f"GAN weight {w:g}": (tradeoff_name(w), "coordinates_hr", ARM_SCALE) for w in exp.tradeoff}
    keys["bicubic (of the 1x output)"] = (operating_name(exp), "bicubic", ARM_SCALE)
    return keys


def arm_config(arm: Arm, exp: ExperimentConfig, seed: int, posgen_file: Path | None) -> Config:
    cfg = preset(exp.preset)
    if cfg.data.dataset != "synthetic":
        raise ValueError(f"the experiment needs a preset on the synthetic streets, not {exp.preset!r}")
    cfg.model.generator = arm.generator
    cfg.train.seed, cfg.train.ema_decay = seed, 0.999
    cfg.train.steps = exp.anyres_steps if arm.from_posgen else exp.steps
    for key, value in arm.changes.items():
        section, name = key.split(".")
        setattr(getattr(cfg, section), name, value)
    if arm.from_posgen:
        cfg.train.anyres_init, cfg.train.anyres_freeze = str(posgen_file), True
        cfg.train.lr = exp.anyres_lr
    if cfg.train.steps < cfg.train.sample_every:  # short runs: log every step, one checkpoint at the end
        cfg.train.log_every, cfg.train.sample_every = 1, cfg.train.steps
        cfg.train.ckpt_every = cfg.train.steps
    return cfg.validate()


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


def cached_run(cfg: Config, cache: Path, name: str, device, progress: bool):
    """(G, folder, seconds) of the run ``cfg`` from ``cache/<name>-<hash of its cache_key>/model.pt``, training
    it (resumably) when it is not there. ``seconds`` is None for a model found in the cache."""
    key = cache_key(cfg)
    digest = hashlib.sha1(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:10]
    folder = cache / f"{name}-{digest}"
    if (folder / "model.pt").is_file():
        G, _, _ = load_generator(folder / "model.pt", device)
        return G, folder, None
    start = time.perf_counter()
    result = train(cfg, folder, resume="auto", device=device, progress=progress)
    return result.generator.eval(), folder, time.perf_counter() - start


def train_arms(exp: ExperimentConfig, cache: Path, device, progress: bool) -> tuple[dict, dict]:
    """({(arm name, seed): G}, {(arm name, seed): training facts}) for every arm and seed."""
    models, facts = {}, {}
    for seed in exp.seeds:
        posgen_file = None
        for arm in arms_of_seed(exp, seed):
            cfg = arm_config(arm, exp, seed, posgen_file)
            slug = arm.name.lower().replace(" ", "-")
            G, folder, seconds = cached_run(cfg, cache, f"{slug}-s{seed}", device, progress)
            if arm.name == "PosGen":
                posgen_file = folder / "model.pt"
            models[arm.name, seed] = G
            facts[arm.name, seed] = {"folder": str(folder), "parameters": count_parameters(G),
                                     "trainable": count_parameters(G.detail) if arm.from_posgen else None,
                                     "steps": cfg.train.steps,
                                     "train_seconds": None if seconds is None else round(seconds, 1)}
    return models, facts


def core_runs(exp: ExperimentConfig) -> list[tuple[str, str]]:
    """(arm, method) pairs scored at every scale: the any-resolution model, bicubic of its own 1x output,
    PosGen's coordinates and SPADE's trunk on the high-resolution labels."""
    point = operating_name(exp)
    return [(point, "coordinates_hr"), (point, "bicubic"), ("PosGen", "coordinates"), ("SPADE", "trunk_hr")]


def main_runs(exp: ExperimentConfig) -> list[tuple[str, str]]:
    """Every method of the main comparison, scored at :data:`ARM_SCALE`."""
    point = operating_name(exp)
    return core_runs(exp) + [
        (point, "lanczos"), (point, "joint_bilateral_hr"), (point, "coordinates"),
        ("PosGen", "bicubic"), ("SPADE", "bicubic"), ("SPADE", "features_bilinear"), ("SPADE", "trunk_nearest")]


def arm_runs(exp: ExperimentConfig) -> list[tuple[str, str]]:
    """The other any-resolution arms, each with its own method, scored at :data:`ARM_SCALE`."""
    point = operating_name(exp)
    return [(a.name, "coordinates_hr") for a in arms(exp)
            if GENERATOR_CLASSES[a.generator].reads_labels and a.name != point]


def passes(exp: ExperimentConfig) -> list[tuple[tuple[float, ...], list[tuple[str, str]]]]:
    """(scales, runs) of every evaluation pass; 1x scores each generator of the pass once. 8x costs 16x
    the pixels of 2x, so only the core runs go everywhere; the full comparison is at 4x."""
    others = tuple(s for s in exp.scales if s != ARM_SCALE)
    out = [((1.0, ARM_SCALE), main_runs(exp) + arm_runs(exp))]
    if others:
        out.append((others, core_runs(exp)))
    return out


def scored(generators: dict, facts: dict, seed: int, scales, runs, exp, cfg, cache: Path, device, segmenter,
           scenes_at, progress: bool) -> list[dict]:
    """The rows of one evaluation pass of one seed, cached in ``cache/scores`` by what they depend on."""
    key = {"models": sorted(f["folder"] for (name, s), f in facts.items() if s == seed), "scales": list(scales),
           "runs": runs, "count": exp.count, "inception": exp.inception, "version": 1}
    path = cache / "scores" / (hashlib.sha1(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12] + ".json")
    if path.is_file():
        return json.loads(path.read_text())
    rows = evaluate(generators, runs, scenes_at, scales, cfg, device, segmenter=segmenter,
                    inception=exp.inception, batch_size=exp.batch_size, progress=progress)
    rows = [{**r, "seed": seed} for r in rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rows))
    return rows


@torch.no_grad()
def cost_rows(models: dict, runs: list[tuple[str, str]], cfg, scenes_1x, scenes_hr, device, repeats: int) -> list[dict]:
    """Median seconds and peak working memory (live tensors beyond the output) to make one image at
    ``scenes_hr``'s size by each run, the runs timed in turn (A, B, C, A, B, C ...)."""
    label_set, use_instance = cfg.data.label_set, cfg.model.use_instance
    sem = to_semantics(scenes_1x.label[:1], scenes_1x.instance[:1], label_set, use_instance).to(device)
    sem_hr = to_semantics(scenes_hr.label[:1], scenes_hr.instance[:1], label_set, use_instance).to(device)
    size = tuple(scenes_hr.label.shape[-2:])
    calls = {run: (lambda run=run: generate(models[run[0]], run[1], sem, size, sem_hr)) for run in runs}
    times = {run: [] for run in runs}
    for call in calls.values():
        call()  # warm-up
    for _ in range(repeats):
        for run, call in calls.items():
            start = time.perf_counter()
            call()
            times[run].append(time.perf_counter() - start)
    rows = []
    for run, call in calls.items():
        with PeakTensorMemory() as mem:
            out = call()
        rows.append({"generator": run[0], "method": run[1], "scale": scenes_hr.label.shape[-2] / scenes_1x.label.shape[-2],
                     "seconds": statistics.median(times[run]),
                     "working_mib": (mem.peak_bytes - out.numel() * out.element_size()) / 2**20})
    return rows


def run_experiment(out: str | Path = "docs", cache: str | Path = "outputs/experiment",
                   exp: ExperimentConfig | None = None, device=None, progress: bool = True) -> dict:
    exp = (exp or ExperimentConfig()).resolved()
    out, cache, device = Path(out), Path(cache), default_device(device)
    start = time.perf_counter()
    models, facts = train_arms(exp, cache, device, progress)
    cfg = preset(exp.preset)
    segmenter = load_segmenter(device=device)
    scenes_at = held_out_scenes_at(cfg, exp.count)

    eval_start = time.perf_counter()
    rows = []
    for seed in exp.seeds:
        generators = {name: G for (name, s), G in models.items() if s == seed}
        for scales, runs in passes(exp):
            runs = [run for run in runs if run[0] in generators]
            rows += scored(generators, facts, seed, scales, runs, exp, cfg, cache, device, segmenter, scenes_at,
                           progress)
    rows = _unique(rows)
    ceiling = ground_truth_rows(scenes_at, tuple(sorted({1.0, *exp.scales})), segmenter)
    eval_seconds = time.perf_counter() - eval_start

    first = {name: G for (name, s), G in models.items() if s == exp.seeds[0]}
    scale4 = ARM_SCALE if ARM_SCALE in exp.scales else max(exp.scales)
    costs = cost_rows(first, main_runs(exp), cfg, scenes_at(1.0), scenes_at(scale4), device, repeats=budget(5, 1))
    index = pick_scene(scenes_at(1.0))
    figures = {}
    for scale in sorted({scale4, max(exp.scales)}):
        runs = main_runs(exp) if scale == scale4 else core_runs(exp)
        figures[f"crops_{scale:g}x"] = comparison_figure(
            first, runs, cfg, scenes_at(1.0), scenes_at(scale), index, out / "img" / f"upscaling_{scale:g}x.png",
            device=device)
    figures["tradeoff"] = tradeoff_figure(tradeoff_points(aggregate(rows), tradeoff_keys(exp)),
                                          out / "img" / "anyres_tradeoff.png")
    figures["spectra"] = spectrum_figure(first, operating_name(exp), cfg, scenes_at, exp.scales,
                                         out / "img" / "spectra.png", device)
    meta = {"experiment": asdict(exp), "training": {f"{n} s{s}": f for (n, s), f in facts.items()},
            "eval_seconds": round(eval_seconds, 1), "total_seconds": round(time.perf_counter() - start, 1),
            "figure_scene": index, "image_size": list(cfg.model.image_size), "trunk_step": 2 ** cfg.model.num_up,
            "segmenter_card": getattr(segmenter, "card", {}),
            "machine": f"{platform.processor() or platform.machine()}, torch {torch.__version__}, "
                       f"{torch.get_num_threads()} threads, device {device}",
            "fast_mode": fast_mode(), "operating_point": operating_name(exp),
            "l1_arm": tradeoff_name(0.0) if 0.0 in exp.tradeoff else None,
            "figures": {k: v.relative_to(out).as_posix() for k, v in figures.items()}}
    results = {"meta": meta, "rows": rows, "ground_truth": ceiling, "costs": costs}
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=1))
    write_report(results, out / "results.md")
    return results


def _unique(rows: list[dict]) -> list[dict]:
    """Drop repeated 1x rows (a generator's 1x output is scored in both evaluation passes)."""
    seen, out = set(), []
    for r in rows:
        key = (r["generator"], r["method"], r["scale"], r["seed"])
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out
