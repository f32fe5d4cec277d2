"""``posgen experiment``: the upscaling experiment behind docs/results.md (synthetic) and docs/results_camvid.md
(real CamVid photos), in one command.

1. Train the 1x generators, PosGen and the SPADE baseline, with the preset's recipe for
   :attr:`ExperimentConfig.steps` steps (EMA, the same data order), once per seed.
2. Train any-resolution PosGen (:mod:`posgen_lib.models.anyres`, :mod:`posgen_lib.train.anyres`) from each
   seed's PosGen: a faithful base trained with L1 plus a texture branch trained by the patch discriminator,
   one arm per patch-GAN weight of :attr:`ExperimentConfig.tradeoff`; on the first seeds the ablations
   (the head without a texture branch, trained as before; no consistency term). Every trained model is
   cached under ``--cache`` by its recipe, so a rerun only scores.
3. Score on held-out scenes with ground truth at every scale (:func:`posgen_lib.eval.evaluate.evaluate`):
   every upscaling method of ``pg.rendering.METHODS`` at 4x (CamVid: at 2x and 4x), the core methods at
   the other scales, and the front: every arm at every texture amplitude of :attr:`ExperimentConfig.knobs`
   at 4x (band PSNR against patch-KID, the distortion-perception plane).
4. Time and measure the working memory of every method at 4x, side by side.
5. Write the report (means and spread over seeds, the targets, the front), its JSON and the pictures (crops of
   real or procedural scenes at 4x and 8x, the front, the power spectra).

**One seed at a time** (``--merge FILE``): the rows of the seeds that an earlier run of the same design wrote
into its results JSON are reported beside this run's seeds without training them again (:func:`merged_seeds`),
so a study longer than one sitting can run a seed per sitting, each writing the report of every seed so far.

With ``POSGEN_FAST=1``: tiny widths, 2 steps, one seed, 2 scenes, one patch-GAN weight at texture 0 and the
operating amplitude, no FID/KID: a smoke run of the whole pipeline whose numbers mean nothing.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import platform
import statistics
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch

from ..config import SPADE_TRUNK, Config, budget, fast_mode, preset
from ..data.transforms import to_semantics
from ..errors import UserError
from ..models.registry import GENERATOR_CLASSES, count_parameters
from ..models.texture import TEXTURE_STEPS
from ..perf.memory import PeakTensorMemory
from ..records import atomic_write_text, save_figure
from ..runtime import default_device
from .comparison import comparison_figure, front_figure, pick_scene, spectrum_figure
from .evaluate import evaluate, generate, ground_truth_rows, runs_at
from .fid import inception_available
from .runs import cached_run, run_folder, train_runs
from .report import aggregate, write_report
from .scenes import enlarged, held_out_scenes_at
from .segmenter import load_segmenter
from .shipped import RECIPES

ARM_SCALE = 4.0  # where every method, the arms and the front are compared
CROP_SCALES = (4.0, 8.0)  # the crop pictures (beyond the data's ground truth: its largest photo enlarged)
UNTEXTURED = {"model.anyres_texture_hidden": 0}  # the any-resolution head as before, without a texture branch


@dataclass(frozen=True)
class PresetPlan:
    """What the experiment does on one dataset: its scales (with ground truth), held-out scenes and budgets."""

    scales: tuple[float, ...]  # above 1x
    count: int  # held-out scenes
    steps: int  # 1x generators
    anyres_steps: int
    every_method_at: tuple[float, ...]  # scales where every method of METHODS is scored
    ablations: bool  # train the ablation arms
    report: str  # file name of the report in --out


PLANS = {"synthetic": PresetPlan((2.0, 3.3, 4.0, 8.0), 64, 2000, 1500, (4.0,), True, "results.md"),
         # CamVid's native photos are 4x ground truth; the 1x generators train 4,000 steps (about 20 minutes
         # each), less than half of the shipped model's 9,000 (docs/model_card_camvid.md).
         "camvid": PresetPlan((2.0, 4.0), 101, 4000, 1500, (2.0, 4.0), False, "results_camvid.md")}


# The widget's amplitudes and 0.875: on CamVid, 0.75 beat joint bilateral upsampling on band PSNR and 1.0 had the
# best patch-KID (docs/results_camvid.md), so the front is scored between them too.
FRONT_KNOBS = tuple(sorted({*TEXTURE_STEPS, 0.875}))


@dataclass
class ExperimentConfig:
    """Budget and design of ``posgen experiment`` (None: the preset's plan, FAST-aware, see :meth:`resolved`)."""

    preset: str = "synthetic"  # synthetic | camvid
    data: str | None = None  # the CamVid folder
    steps: int | None = None  # 1x generators
    anyres_steps: int | None = None  # any-resolution fine-tuning
    seeds: tuple[int, ...] | None = None
    ablation_seeds: int = 1  # the ablation arms train on this many of the first seeds
    # the other patch-GAN weights of the front train (and are scored) on this many of the first seeds; the
    # operating point's weight, the point a report claims, trains on every seed
    front_seeds: int = 1
    count: int | None = None  # held-out scenes per scale
    batch_size: int = 8
    inception: bool | None = None  # FID/KID; None: when installed and not in FAST mode
    scales: tuple[float, ...] | None = None
    tradeoff: tuple[float, ...] = (0.03, 0.1, 0.3)  # patch-GAN weights of the textured arms
    knobs: tuple[float, ...] = FRONT_KNOBS  # texture amplitudes scored at 4x
    # The operating point compared everywhere: None is the shipped any-resolution model's recipe (RECIPES of
    # posgen_lib.eval.shipped: its patch-GAN weight, and the texture amplitude it renders with)
    operating_point: float | None = None
    operating_texture: float | None = None
    anyres_lr: float = 2e-3  # base learning rate of the fine-tuned arms (the new heads alone: G lr 1e-3)

    def plan(self) -> PresetPlan:
        if self.preset not in PLANS:
            raise ValueError(f"the experiment runs on {' or '.join(PLANS)}, not {self.preset!r}")
        return PLANS[self.preset]

    def resolved(self) -> "ExperimentConfig":
        plan = self.plan()
        shipped = RECIPES[f"{self.preset}_anyres"]
        point = shipped.patch_gan if self.operating_point is None else self.operating_point
        texture = shipped.texture if self.operating_texture is None else self.operating_texture
        if point not in self.tradeoff:
            raise ValueError(f"--gan-weights must hold {point:g}, the patch-GAN weight of the operating point every "
                             f"table compares (the shipped {self.preset}_anyres model's); got "
                             f"{' '.join(f'{w:g}' for w in self.tradeoff)}")
        if texture not in self.knobs:
            raise ValueError(f"operating point's texture {texture:g} must be one of the knobs {self.knobs}")
        smoke = {"tradeoff": (point,), "knobs": (0.0, texture)} if fast_mode() else {}
        out = replace(self, **smoke, operating_point=point, operating_texture=texture,
                      steps=self.steps if self.steps is not None else budget(plan.steps, 2),
                      anyres_steps=self.anyres_steps if self.anyres_steps is not None else budget(plan.anyres_steps, 2),
                      seeds=tuple(self.seeds) if self.seeds is not None else tuple(range(budget(3, 1))),
                      count=self.count if self.count is not None else budget(plan.count, 2),
                      inception=self.inception if self.inception is not None else
                      (not fast_mode() and inception_available()),
                      scales=tuple(self.scales) if self.scales is not None else plan.scales)
        if (out.steps < 1 or out.anyres_steps < 1 or out.count < 2 or not out.seeds or out.ablation_seeds < 1
                or out.front_seeds < 1):
            raise ValueError(f"steps={out.steps}, anyres_steps={out.anyres_steps}, ablation_seeds="
                             f"{out.ablation_seeds} and front_seeds={out.front_seeds} must be >= 1, "
                             f"count={out.count} >= 2, and seeds not empty")
        if self.preset == "camvid" and not self.data:
            raise ValueError("the CamVid experiment needs data=DIR (--data), the CamVid folder")
        return out


FAST_TEXTURE_HIDDEN = 8  # the texture branch's width in a FAST smoke run (the tiny preset has none)


def experiment_preset(exp: ExperimentConfig) -> Config:
    """The preset the arms start from. In FAST mode a smoke run: the tiny preset for the synthetic streets,
    CamVid's preset with the tiny preset's widths."""
    cfg = preset("tiny" if fast_mode() and exp.preset == "synthetic" else exp.preset)
    if exp.data:
        cfg.data.root = str(exp.data)
    if fast_mode() and exp.preset != "synthetic":
        tiny = preset("tiny")
        cfg.train.batch_size = tiny.train.batch_size
        cfg.model = dataclasses.replace(
            cfg.model, **{f.name: getattr(tiny.model, f.name) for f in dataclasses.fields(tiny.model) if f.name not in (
                "label_nc", "contain_dontcare_label", "use_instance", "image_size", "num_upsampling_layers")})
    if fast_mode():  # the arms must keep their texture branch (a small one), or they have no knob to score
        cfg.model = dataclasses.replace(cfg.model, anyres_texture_hidden=FAST_TEXTURE_HIDDEN)
    return cfg


@dataclass(frozen=True)
class Arm:
    """One trained method: a name, how its config differs, and whether it starts from the seed's PosGen."""

    name: str
    generator: str
    changes: dict = field(default_factory=dict)  # "model.x" / "train.y" -> value
    from_posgen: bool = False
    ablation: bool = False  # trained on the first ablation_seeds seeds only
    explores: bool = False  # a front weight other than the operating point's: the first front_seeds seeds only


def tradeoff_name(weight: float) -> str:
    return f"AnyRes GAN {weight:g}"


def at_amplitude(arm_name: str, texture: float) -> str:
    """The generator key of a textured arm rendered at texture amplitude ``texture``."""
    return f"{arm_name} t={texture:g}"


def arm_of(generator_key: str) -> str:
    """The trained arm behind a generator key: the inverse of :func:`at_amplitude` (an arm name stays)."""
    return generator_key.rsplit(" t=", 1)[0]


def operating_name(exp: ExperimentConfig) -> str:
    return at_amplitude(tradeoff_name(exp.operating_point), exp.operating_texture)


def base_name(exp: ExperimentConfig) -> str:
    """The operating arm's faithful base (texture 0)."""
    return at_amplitude(tradeoff_name(exp.operating_point), 0.0)


def arms(exp: ExperimentConfig) -> list[Arm]:
    """Every trained method of the experiment, baselines first."""
    spade_as_published = {f"model.{key}": value for key, value in SPADE_TRUNK.items()}  # whatever PosGen's trunk
    out = [Arm("PosGen", "posgen"), Arm("SPADE", "spade", spade_as_published)]
    out += [Arm(tradeoff_name(w), "anyres", {"train.lambda_patch_gan": w}, True, explores=w != exp.operating_point)
            for w in exp.tradeoff]
    if exp.plan().ablations:  # the operating point with one part removed
        point = {"train.lambda_patch_gan": exp.operating_point}
        out += [Arm("AnyRes without texture branch", "anyres", {**point, **UNTEXTURED}, True, ablation=True),
                Arm("AnyRes no consistency", "anyres", {**point, "train.lambda_consistency": 0.0}, True, ablation=True)]
    return out


def arms_of_seed(exp: ExperimentConfig, seed: int) -> list[Arm]:
    """The arms trained (and scored) on ``seed``: the ablations on the first ``exp.ablation_seeds`` seeds, the
    front's other weights on the first ``exp.front_seeds``, the rest on all."""
    index = exp.seeds.index(seed)
    return [a for a in arms(exp) if (index < exp.ablation_seeds or not a.ablation)
            and (index < exp.front_seeds or not a.explores)]


def arm_config(arm: Arm, exp: ExperimentConfig, seed: int, posgen_file: Path | None) -> Config:
    cfg = experiment_preset(exp)
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


def train_arms(exp: ExperimentConfig, cache: Path, device, progress: bool, jobs: int = 1,
               seeds: tuple[int, ...] | None = None) -> tuple[dict, dict]:
    """({(generator key, seed): G}, {(arm name, seed): training facts}) for every arm and seed of ``seeds``
    (default: all of ``exp.seeds``); a textured arm appears once per texture amplitude of ``exp.knobs``
    (:func:`at_amplitude`), its weights shared. The 1x generators train first, then the arms that start from
    their seed's PosGen; ``jobs`` runs side by side (:func:`posgen_lib.eval.runs.train_runs`)."""
    seeds = exp.seeds if seeds is None else seeds
    plans, seconds = {}, {}
    for from_posgen in (False, True):
        stage = []
        for seed in seeds:
            posgen = plans.get(("PosGen", seed))
            posgen_file = run_folder(posgen[0], cache, posgen[1]) / "model.pt" if posgen else None
            for arm in arms_of_seed(exp, seed):
                if arm.from_posgen == from_posgen:
                    slug = f"{exp.preset}-{arm.name.lower().replace(' ', '-')}"
                    plans[arm.name, seed] = (arm_config(arm, exp, seed, posgen_file), f"{slug}-s{seed}")
                    stage.append(plans[arm.name, seed])
        seconds.update(train_runs(stage, cache, device, jobs, progress))
    models, facts = {}, {}
    for seed in seeds:
        for arm in arms_of_seed(exp, seed):
            cfg, name = plans[arm.name, seed]
            G, folder, _ = cached_run(cfg, cache, name, device, progress)
            if G.textured:
                models.update({(at_amplitude(arm.name, t), seed): G.at_texture(t) for t in exp.knobs})
            else:
                models[arm.name, seed] = G
            trained = sum(p.numel() for n, p in G.named_parameters() if n.startswith(("detail.", "texture.")))
            facts[arm.name, seed] = {"folder": str(folder), "parameters": count_parameters(G),
                                     "trainable": trained if arm.from_posgen else None, "steps": cfg.train.steps,
                                     "train_seconds": round(seconds[name], 1) if name in seconds else None}
    return models, facts


def core_runs(exp: ExperimentConfig) -> list[tuple[str, str]]:
    """(generator, method) pairs scored at every scale: the any-resolution operating point and its faithful
    base, bicubic of its 1x output, PosGen's coordinates and SPADE's trunk on the high-resolution labels."""
    point = operating_name(exp)
    return [(point, "coordinates_hr"), (base_name(exp), "coordinates_hr"), (point, "bicubic"),
            ("PosGen", "coordinates"), ("SPADE", "trunk_hr")]


def main_runs(exp: ExperimentConfig) -> list[tuple[str, str]]:
    """Every method of ``pg.rendering.METHODS`` once: on the operating point when it applies to it, on
    PosGen or SPADE otherwise (the three kinds of generator it can run on)."""
    point = operating_name(exp)
    return core_runs(exp) + [
        (point, "lanczos"), (point, "joint_bilateral_hr"), (point, "coordinates"),
        ("PosGen", "bicubic"), ("SPADE", "bicubic"), ("SPADE", "features_bilinear"), ("SPADE", "trunk_nearest")]


def front_runs(exp: ExperimentConfig) -> list[tuple[str, str]]:
    """Every textured arm at every texture amplitude, and the ablations at the operating amplitude (4x)."""
    runs = [(at_amplitude(tradeoff_name(w), t), "coordinates_hr") for w in exp.tradeoff for t in exp.knobs]
    for arm in arms(exp):
        if arm.ablation:
            textured = not UNTEXTURED.items() <= arm.changes.items()
            runs.append((at_amplitude(arm.name, exp.operating_texture) if textured else arm.name, "coordinates_hr"))
    main = set(main_runs(exp))
    return [r for r in runs if r not in main]


def passes(exp: ExperimentConfig) -> list[tuple[tuple[float, ...], list[tuple[str, str]]]]:
    """(scales, runs) of every evaluation pass; 1x scores each generator of the pass once. 8x costs 16x
    the pixels of 2x, so only the core runs go everywhere; every method runs where the plan says."""
    every = tuple(s for s in exp.scales if s in exp.plan().every_method_at)
    others = tuple(s for s in exp.scales if s not in every)
    out = [((1.0, *every), main_runs(exp)), ((ARM_SCALE,), front_runs(exp))]
    if others:
        out.append((others, core_runs(exp)))
    return out


def row_file(cache: Path, facts: dict, seed: int, run: tuple[str, str], scale: float, exp) -> Path:
    """Where the score row of ``run`` (generator key, method) at ``scale`` is cached: named by what it
    depends on, the trained model (its run folder, whose name holds its config's hash), the texture amplitude
    and method it renders with, the scale and the held-out set. A row does not depend on the other runs
    scored beside it (every KID draws its subsets with a fixed seed), so adding an arm or moving the
    operating point scores only the rows that are new."""
    key, method = run
    folder = Path(facts[arm_of(key), seed]["folder"]).name
    spec = {"model": folder, "generator": key, "method": method if scale != 1 else "1x", "scale": scale,
            "count": exp.count, "inception": exp.inception, "version": 4}  # 4: one file per row
    return cache / "scores" / (hashlib.sha1(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:12] + ".json")


def scored(generators: dict, facts: dict, seed: int, scales, runs, exp, cfg, cache: Path, device, segmenter,
           scenes_at, progress: bool) -> list[dict]:
    """The rows of one evaluation pass of one seed: read from ``cache/scores`` (:func:`row_file`) where
    present, the others scored, one call of :func:`evaluate` per scale, and cached as they come."""
    rows, missing = {}, {}  # (run, scale) -> row, in the pass's order; scale -> [(run, its file)] not yet scored
    for scale in scales:
        for run in runs_at(runs, scale):
            path = row_file(cache, facts, seed, run, scale, exp)
            rows[run, scale] = json.loads(path.read_text()) if path.is_file() else None
            if rows[run, scale] is None:
                missing.setdefault(scale, []).append((run, path))
    for scale, todo in missing.items():
        new = evaluate(generators, [run for run, _ in todo], scenes_at, (scale,), cfg, device, segmenter=segmenter,
                       inception=exp.inception, batch_size=exp.batch_size, progress=progress)
        for (run, path), row in zip(todo, new):
            rows[run, scale] = {**row, "seed": seed}
            atomic_write_text(path, json.dumps(rows[run, scale]))
    return list(rows.values())


@torch.no_grad()
def cost_rows(models: dict, runs: list[tuple[str, str]], cfg, scenes_1x, scenes_hr, device, repeats: int) -> list[dict]:
    """Median seconds and peak working memory (live tensors beyond the output) to make one image at
    ``scenes_hr``'s size by each run, the runs timed in turn (A, B, C, A, B, C ...). The memory pass comes
    first and is each run's warm-up."""
    label_set, use_instance = cfg.data.label_set, cfg.model.use_instance
    sem = to_semantics(scenes_1x.label[:1], scenes_1x.instance[:1], label_set, use_instance).to(device)
    sem_hr = to_semantics(scenes_hr.label[:1], scenes_hr.instance[:1], label_set, use_instance).to(device)
    size = tuple(scenes_hr.label.shape[-2:])
    calls = {run: (lambda run=run: generate(models[run[0]], run[1], sem, size, sem_hr)) for run in runs}
    working_mib = {}
    for run, call in calls.items():
        with PeakTensorMemory() as mem:
            out = call()
        working_mib[run] = (mem.peak_bytes - out.numel() * out.element_size()) / 2**20
    times = {run: [] for run in runs}
    for _ in range(repeats):
        for run, call in calls.items():
            start = time.perf_counter()
            call()
            times[run].append(time.perf_counter() - start)
    scale = scenes_hr.label.shape[-2] / scenes_1x.label.shape[-2]
    return [{"generator": run[0], "method": run[1], "scale": scale, "seconds": statistics.median(times[run]),
             "working_mib": working_mib[run]} for run in runs]


def front_curves(tradeoff, knobs) -> dict[str, list[tuple[float, str]]]:
    """One curve of the front per patch-GAN weight: (texture amplitude, generator key) from t = 0 up."""
    return {f"any-res, GAN {w:g}": [(t, at_amplitude(tradeoff_name(w), t)) for t in knobs] for w in tradeoff}


def reference_points(operating: str) -> dict[str, tuple[str, str]]:
    """The fixed methods drawn on the front: upscaling the 1x output of the ``operating`` generator (its
    key), PosGen, SPADE."""
    return {"bicubic": (operating, "bicubic"), "joint bilateral (HR labels)": (operating, "joint_bilateral_hr"),
            "PosGen coordinates": ("PosGen", "coordinates"), "SPADE trunk at output size": ("SPADE", "trunk_hr")}


def output_names(exp: ExperimentConfig) -> dict[str, str]:
    """The report, its JSON and the prefix of its pictures in ``--out`` (synthetic: results.md, img/upscaling_4x.png;
    CamVid: results_camvid.md, img/camvid_upscaling_4x.png)."""
    report = exp.plan().report
    return {"report": report, "json": report.replace(".md", ".json"),
            "prefix": "" if exp.preset == "synthetic" else f"{exp.preset}_"}


def command_line(exp: ExperimentConfig) -> str:
    """The ``posgen experiment`` command that reproduces ``exp`` (its options that differ from the defaults)."""
    default = ExperimentConfig(preset=exp.preset, data=exp.data).resolved()
    words = ["posgen experiment --out docs"] + (["--preset", exp.preset, "--data DIR"] if exp.data else [])
    for option, name in (("--steps", "steps"), ("--anyres-steps", "anyres_steps"), ("--count", "count"),
                         ("--ablation-seeds", "ablation_seeds"), ("--front-seeds", "front_seeds")):
        if getattr(exp, name) != getattr(default, name):
            words += [option, str(getattr(exp, name))]
    for option, name in (("--seeds", "seeds"), ("--gan-weights", "tradeoff")):
        if tuple(getattr(exp, name)) != tuple(getattr(default, name)):
            words += [option] + [f"{v:g}" for v in getattr(exp, name)]
    if exp.inception != default.inception:
        words.append("--no-fid")
    return " ".join(words)


DESIGN_FREE = ("seeds", "data")  # what may differ between the runs that --merge puts in one report


def merged_seeds(exp: ExperimentConfig, results_file: Path) -> tuple[ExperimentConfig, dict]:
    """``(exp with the file's seeds added, {"rows", "training", "seeds"} of the file's seeds)``: the seeds that
    an earlier run of the same design (every field of :class:`ExperimentConfig` but its seeds and data folder,
    and the same FAST mode) scored into ``results_file``, to report beside this run's. A seed in both is
    taken from the file, not trained again. The merged seeds keep their order (sorted), so "the first seeds"
    that train the ablations and the front's other weights are the same whichever sitting trains them."""
    if not results_file.is_file():
        raise UserError(f"--merge {results_file}: no such file; give the results JSON of an earlier run of this "
                        "study (e.g. docs/results_camvid.json), or drop --merge")
    try:
        earlier = json.loads(results_file.read_text())
        theirs, rows, training = earlier["meta"]["experiment"], earlier["rows"], earlier["meta"]["training"]
        their_fast = earlier["meta"]["fast_mode"]
    except (ValueError, KeyError, TypeError) as error:
        raise UserError(f"--merge {results_file}: not a results file of posgen experiment ({error!r})") from None
    ours = json.loads(json.dumps(asdict(exp)))  # tuples as lists, as the file holds them
    differ = [f"{key} {theirs.get(key)} there, {value} here" for key, value in ours.items()
              if key not in DESIGN_FREE and theirs.get(key) != value]
    if their_fast != fast_mode():
        differ.append(f"FAST mode {their_fast} there, {fast_mode()} here")
    if differ:
        raise UserError(f"--merge {results_file}: another design of the study ({'; '.join(differ)}); only the "
                        "seeds may differ: run with the file's options, or drop --merge")
    seeds = tuple(theirs["seeds"])
    return replace(exp, seeds=tuple(sorted({*exp.seeds, *seeds}))), {
        "seeds": seeds, "rows": [r for r in rows if r["seed"] in seeds],
        "training": {key: facts for key, facts in training.items() if int(key.rsplit(" s", 1)[1]) in seeds}}


def check_same_metrics(rows: list[dict], merged: list[dict], results_file: Path) -> None:
    """Refuse to report rows of an earlier run that this package version's metrics would not write alike."""
    if not merged:
        return
    differ = set().union(*map(set, rows)) ^ set().union(*map(set, merged))
    if differ:
        raise UserError(f"--merge {results_file}: its rows were written by another version of the metrics "
                        f"(columns {', '.join(sorted(differ))} differ): rerun those seeds without --merge")


def run_experiment(out: str | Path = "docs", cache: str | Path = "outputs/experiment",
                   exp: ExperimentConfig | None = None, device=None, progress: bool = True, jobs: int = 1,
                   merge: str | Path | None = None) -> dict:
    """Train, score and report ``exp`` into ``out`` (models and scores cached in ``cache``). With ``merge``, an
    earlier run's results JSON: its seeds are reported with this run's and not trained (:func:`merged_seeds`);
    the pictures and timings come from the first seed this run trains."""
    exp = (exp or ExperimentConfig()).resolved()
    out, cache, device = Path(out), Path(cache), default_device(device)
    earlier = {"seeds": (), "rows": [], "training": {}}
    if merge is not None:
        exp, earlier = merged_seeds(exp, Path(merge))
    fresh = tuple(s for s in exp.seeds if s not in earlier["seeds"])
    if not fresh:
        raise UserError(f"--merge {merge}: it already holds seeds {', '.join(map(str, exp.seeds))}, every seed "
                        "asked for; name a seed it lacks with --seeds")
    names = output_names(exp)
    start = time.perf_counter()
    models, facts = train_arms(exp, cache, device, progress, jobs, fresh)
    cfg = experiment_preset(exp)
    segmenter = load_segmenter(device=device, dataset=exp.preset)
    scenes_at = held_out_scenes_at(cfg, exp.count)

    eval_start = time.perf_counter()
    rows = []
    for seed in fresh:
        generators = {name: G for (name, s), G in models.items() if s == seed}
        for scales, runs in passes(exp):
            runs = [run for run in runs if run[0] in generators]
            rows += scored(generators, facts, seed, scales, runs, exp, cfg, cache, device, segmenter, scenes_at,
                           progress)
    if merge is not None:
        check_same_metrics(rows, earlier["rows"], Path(merge))
    rows = sorted(_unique(earlier["rows"] + rows), key=lambda r: exp.seeds.index(r["seed"]))
    ceiling = ground_truth_rows(scenes_at, tuple(sorted({1.0, *exp.scales})), segmenter)
    eval_seconds = time.perf_counter() - eval_start

    first = {name: G for (name, s), G in models.items() if s == fresh[0]}
    scale4 = ARM_SCALE if ARM_SCALE in exp.scales else max(exp.scales)
    costs = cost_rows(first, main_runs(exp), cfg, scenes_at(1.0), scenes_at(scale4), device, repeats=budget(5, 1))
    index = pick_scene(scenes_at(1.0), cfg.data.label_set)
    img = out / "img"
    figures = {}
    top = max(exp.scales)  # the largest scale with ground truth
    for scale in sorted({scale4, *CROP_SCALES}):
        runs = main_runs(exp) if scale == scale4 else core_runs(exp)
        beyond = scale > top  # CamVid at 8x: the native photo enlarged, to look at
        figures[f"crops_{scale:g}x"] = comparison_figure(
            first, runs, cfg, scenes_at(1.0), enlarged(scenes_at(top), round(scale / top)) if beyond else
            scenes_at(scale), index, img / f"{names['prefix']}upscaling_{scale:g}x.png", device=device,
            truth=f"photo at {top:g}x, bicubic" if beyond else "ground truth")
    figures["front"] = save_figure(front_figure(aggregate(rows), front_curves(exp.tradeoff, exp.knobs),
                                                reference_points(operating_name(exp))),
                                   img / f"{names['prefix']}anyres_front.png", dpi=110)
    figures["spectra"] = spectrum_figure(first, operating_name(exp), cfg, scenes_at, exp.scales,
                                         img / f"{names['prefix']}spectra.png", device)
    meta = {"experiment": asdict(exp), "command": command_line(exp),
            "training": {**earlier["training"], **{f"{n} s{s}": f for (n, s), f in facts.items()}},
            "merged": {"file": str(merge), "seeds": list(earlier["seeds"])} if merge is not None else None,
            "pictures_seed": fresh[0],
            "eval_seconds": round(eval_seconds, 1), "total_seconds": round(time.perf_counter() - start, 1),
            "figure_scene": index, "image_size": list(cfg.model.image_size), "trunk_step": 2 ** cfg.model.num_up,
            "segmenter_card": getattr(segmenter, "card", {}),
            "machine": f"{platform.processor() or platform.machine()}, torch {torch.__version__}, "
                       f"{torch.get_num_threads()} threads, device {device}",
            "fast_mode": fast_mode(), "operating_point": operating_name(exp), "base": base_name(exp),
            "front": [at_amplitude(tradeoff_name(w), t) for w in exp.tradeoff for t in exp.knobs],
            "figures": {k: v.relative_to(out).as_posix() for k, v in figures.items()}}
    results = {"meta": meta, "rows": rows, "ground_truth": ceiling, "costs": costs}
    out.mkdir(parents=True, exist_ok=True)
    (out / names["json"]).write_text(json.dumps(results, indent=1))
    write_report(results, out / names["report"])
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
