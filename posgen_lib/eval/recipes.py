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
in every image, its amplitude and period per axis; and the phase-blind
per-image spectral peak of :func:`posgen_lib.eval.metrics.spectral_peaks`).
The photos' own rows say what each metric reads on real images. A run's
scores are kept in its cache folder (``scores.json``), so a rerun scores only
what it has not scored.

The table goes between markers into ``docs/training.md`` (or the page given to
``--recipes``), one block per preset, with the command that reproduces it, and
:func:`arm_figure` draws every arm's first seed into ``img/recipes_<preset>.png``
beside the page.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..config import Config, budget, fast_mode, preset
from ..perf.bench import config_step, interleaved, machine_description
from ..data.labels import colorize
from ..data.transforms import to_semantics
from ..records import atomic_write_text, check_figure, save_figure, write_record
from ..runtime import default_device
from ..viz import to_uint8
from .comparison import crop_boxes, pick_scene
from .report import better, mean_sd
from .evaluate import evaluate, generate, ground_truth_rows, native_method, scene_seeds
from .runs import cached_run, train_runs
from .fid import inception_available
from .scenes import held_out_scenes_at
from .segmenter import load_segmenter

# The old recipe's budget per preset: synthetic, the demo's; CamVid, 1500 steps (about 10 minutes a run on one
# AVX-512 core), so that its 18 runs train and score in one session, two at a time on a 2-core machine (1 h 54 min
# measured, docs/training.md).
STEPS = {"synthetic": 2000, "camvid": 1500}
SEEDS = (0, 1, 2)
COUNT = {"synthetic": 100, "camvid": 101}  # held-out scenes: synthetic test scenes, all of CamVid val
# The recipe before this comparison: every option off.
OLD = {"model.modulation": "spade", "model.noise": False, "model.noise_init": 0.0, "model.d_blur": False,
       "train.objective": None}
# The combination arm, chosen from the single options' first seeds on the synthetic scenes (docs/training.md):
# CLADE (higher mIoU, lower KID) and noise inputs that start at 0.1 (lower KID, the fixed pattern under 1 grey
# level on both axes in both seeds); the blurred discriminator and OASIS's objective lost 8-10 mIoU points.
# Measured with three seeds it is not better than CLADE alone on the synthetic scenes (docs/training.md). The
# presets take the recipe the finished table shows better by more than the spreads: synthetic the CLADE trunk,
# CamVid the old recipe (no arm won there); docs/training.md records both.
CHOSEN = {"model.modulation": "clade", "model.noise": True, "model.noise_init": 0.1}


@dataclass(frozen=True)
class Arm:
    """One row: the old recipe with ``changes`` ("section.field": value), for the presets it applies to;
    a ``combination`` of options trains after every single option's seeds (it is chosen from them)."""

    name: str
    changes: dict = field(default_factory=dict)
    presets: tuple[str, ...] = ("synthetic", "camvid")
    combination: bool = False

    @property
    def slug(self) -> str:
        return "".join(c if c.isalnum() else "-" for c in self.name.lower()).strip("-")


ARMS = (Arm("old recipe"),
        # StyleGAN's noise strengths start at 0; in 1,840 steps they stayed near 0.003 (docs/training.md): the
        # arm is the old recipe with inert noise, so CamVid does not repeat it; the next arm starts them at 0.1,
        # 5-15% of the blocks' activations (std 0.7-2.2 in a trained model)
        Arm("+ noise inputs", {"model.noise": True}, presets=("synthetic",)),
        Arm("+ noise inputs, strength 0.1 at start", {"model.noise": True, "model.noise_init": 0.1}),
        Arm("+ blurred discriminator", {"model.d_blur": True}),
        Arm("OASIS objective", {"train.objective": "oasis"}),
        Arm("CLADE trunk", {"model.modulation": "clade"}),
        Arm("CLADE + noise inputs from 0.1", CHOSEN, combination=True))
MEASURED_ON = "measured on"  # the key of the machine's description in the cached step counts
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


def equal_time_steps(name: str, arms: list[Arm], data: str | None, cache: Path,
                     repeats: int) -> tuple[dict[str, int], str]:
    """Steps per arm for the wall-clock time of the old recipe's :data:`STEPS`, measured side by side once per
    set of changes and kept in ``cache/recipes-<preset>-steps.json`` (so the trained arms stay valid on a
    rerun) with the machine they were measured on. Returns ({arm name: steps}, that machine)."""
    path = cache / f"recipes-{name}-steps.json"
    base_steps = budget(STEPS[name], 2)
    known = json.loads(path.read_text()) if path.is_file() and not fast_mode() else {}
    known.setdefault(MEASURED_ON, machine_description())
    old = None
    for arm in arms:
        key = json.dumps(arm.changes, sort_keys=True)
        if key in known:
            continue
        if not arm.changes:
            known[key] = base_steps
            continue
        old = old or config_step(arm_config(name, arms[0], base_steps, 0, data))
        t_old, t_arm = interleaved(old, config_step(arm_config(name, arm, base_steps, 0, data)), repeats,
                                   warmup=budget(1, 0))
        known[key] = max(1, round(base_steps * t_old / t_arm))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(known, indent=1))
    return {arm.name: known[json.dumps(arm.changes, sort_keys=True)] for arm in arms}, known[MEASURED_ON]


def run_recipes(out: str | Path = "docs/training.md", cache: str | Path = "outputs/experiment",
                preset_name: str = "synthetic", data: str | None = None, device=None,
                progress: bool = True, jobs: int = 1) -> str:
    """Train and score every arm of ``preset_name`` (three seeds), write its table into ``out`` and its
    samples into ``img/recipes_<preset>.png`` beside it; returns the table. ``jobs`` runs train side by side
    (:func:`posgen_lib.eval.runs.train_runs`)."""
    if preset_name not in STEPS:
        raise ValueError(f"--recipes compares arms on {' or '.join(STEPS)}, not {preset_name!r}")
    device, cache = default_device(device), Path(cache)
    figure = figure_path(out, preset_name)
    check_figure(figure, "--recipes")
    arms = [arm for arm in ARMS if preset_name in arm.presets]
    steps, steps_machine = equal_time_steps(preset_name, arms, data, cache, repeats=budget(9, 1))
    count = budget(COUNT[preset_name], 2)
    probe = arm_config(preset_name, arms[0], 1, 0, data)
    scenes_at = held_out_scenes_at(probe, count)
    segmenter = load_segmenter(device=device, dataset=preset_name)
    inception = inception_available() and not fast_mode()
    runs = [(arm, arm_config(preset_name, arm, steps[arm.name], seed, data), f"recipes-{preset_name}-{arm.slug}-s{seed}")
            for arm in arms for seed in (SEEDS[:1] if fast_mode() else SEEDS)]
    # Seed by seed, the combination last: a study stopped part-way leaves every single option with the same
    # number of trained seeds, and the combination can still be changed before it trains.
    by_seed = sorted(runs, key=lambda run: (run[0].combination, run[1].train.seed))
    train_runs([(cfg, name) for _, cfg, name in by_seed], cache, device, jobs, progress)
    scores: dict[str, list[dict]] = {}
    first_seed: dict[str, torch.nn.Module] = {}
    protocol = {"scenes": count, "inception": inception, "scale": 1.0, "noise seeds": "scene index"}
    for arm, cfg, name in runs:
        G, folder, _ = cached_run(cfg, cache, name, device, progress)
        scores.setdefault(arm.name, []).append(
            run_scores(G, arm.name, folder, protocol, cfg, scenes_at, segmenter, device))
        first_seed.setdefault(arm.name, G)
    photos, = ground_truth_rows(scenes_at, (1.0,), segmenter)
    arm_figure(first_seed, probe, scenes_at(1.0), figure, device)
    table = recipe_table(scores, steps, photos, count, preset_name)
    header = (f"Measured by `posgen experiment --recipes {Path(out).as_posix()} --preset {preset_name}"
              f"{' --data DIR' if data else ''}` on {machine_description()}; the step counts come from step times "
              f"measured on {steps_machine}.\n")
    picture = (f"\n\n![Each arm's first seed at 1x](img/{figure.name})\n\n`img/{figure.name}`: each arm's "
               "first seed on two held-out scenes, crops at 4x zoom, and the fine detail of the mean image over "
               "all held-out scenes (the fixed pattern is what survives averaging).")
    write_record(Path(out), header + "\n" + table + picture, BEGIN.format(preset_name), END.format(preset_name))
    return table


def run_scores(G, arm_name: str, folder: Path, protocol: dict, cfg, scenes_at, segmenter, device) -> dict:
    """The 1x row of one trained run (:func:`~posgen_lib.eval.evaluate.evaluate`), kept in
    ``folder/scores.json`` with the ``protocol`` it was measured under, so a rerun scores only new runs."""
    path = folder / "scores.json"
    if path.is_file():
        saved = json.loads(path.read_text())
        if saved.get("protocol") == protocol:
            return saved["row"]
    row, = evaluate({arm_name: G}, [(arm_name, native_method(G))], scenes_at, (protocol["scale"],), cfg, device,
                    segmenter=segmenter, inception=protocol["inception"], progress=False)
    atomic_write_text(path, json.dumps({"protocol": protocol, "row": row}, indent=1))
    return row


def figure_path(out: str | Path, preset_name: str) -> Path:
    """Where the samples of ``--recipes out`` go: ``img/recipes_<preset>.png`` beside the page."""
    return Path(out).parent / "img" / f"recipes_{preset_name}.png"


def mean_detail(images: torch.Tensor, grey_range: float) -> np.ndarray:
    """(H, W) uint8: the fine detail of the mean of ``images`` (N, 3, H, W) in [-1, 1], i.e. the mean minus its
    9x9 box blur, averaged over the channels, with -``grey_range``..+``grey_range`` grey levels as 0..255.
    What survives the mean is at the same pixels of every image: the fixed pattern, and the scenes'
    shared layout."""
    mean = images.mean(0, keepdim=True)  # (1, 3, H, W)
    blurred = F.avg_pool2d(F.pad(mean, (4, 4, 4, 4), mode="replicate"), 9, stride=1)  # (1, 3, H, W)
    detail = (mean - blurred).mean(1)[0] * 127.5 / grey_range  # (H, W); +-1 is +-grey_range grey levels
    return ((detail.clamp(-1, 1) + 1) * 127.5).round().byte().numpy()


@torch.no_grad()
def arm_figure(models: dict, cfg, scenes, path: str | Path, device="cpu", shown: int = 2, crop: int = 32,
               grey_range: float = 12.0) -> Path:
    """A PNG with a column per arm (``models``: {arm name: generator}) next to the labels and the photos.

    Rows: ``shown`` held-out scenes whole, from the one with the most kinds of hard places
    (:func:`~posgen_lib.eval.comparison.pick_scene`); crops (``crop`` pixels) of that one where thin
    classes and edges are hard (:func:`~posgen_lib.eval.comparison.crop_boxes`); the fine detail of the
    mean image over all ``scenes`` (:func:`mean_detail`).
    """
    label_set = cfg.data.label_set
    sem = to_semantics(scenes.label, scenes.instance, label_set, cfg.model.use_instance)  # (N, C, H, W)
    size = tuple(scenes.label.shape[-2:])
    images = {"photo": scenes.image}  # each (N, 3, H, W) in [-1, 1]
    for name, G in models.items():
        images[name] = torch.cat([generate(G, native_method(G), sem[s:s + 16].to(device), size, None,
                                           scene_seeds(s, len(sem[s:s + 16]))).float().cpu()
                                  for s in range(0, len(sem), 16)])
    first = pick_scene(scenes, label_set)
    boxes = crop_boxes(scenes.label[first], scenes.instance[first], scenes.image[first], crop, label_set)
    scene_rows = [(first + i) % len(sem) for i in range(min(shown, len(sem)))]
    rows = [(f"scene {index}", index, None) for index in scene_rows]
    rows += [(name, first, (slice(top, top + crop), slice(left, left + crop))) for name, (top, left) in boxes.items()]

    def picture(column: str, index: int, window) -> np.ndarray:  # (h, w, 3) uint8
        full = colorize(scenes.label[index], label_set) if column == "labels" else to_uint8(images[column][index])
        return np.ascontiguousarray(full[window] if window else full)

    columns = ["labels", *images]
    fig = Figure(figsize=(1.5 * size[1] / size[0] * len(columns), 1.5 * (len(rows) + 1) + 0.4))
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(rows) + 1, len(columns), squeeze=False)
    for ax in axes.flat:
        ax.set_xticks([]), ax.set_yticks([])
    for r, (title, index, window) in enumerate(rows):
        axes[r, 0].set_ylabel(title, fontsize=8)
        for c, column in enumerate(columns):
            axes[r, c].imshow(picture(column, index, window), interpolation="nearest")
    axes[-1, 0].set_axis_off()  # the labels have no mean detail
    for c, column in enumerate(columns):
        axes[0, c].set_title(column, fontsize=8)
        if c:
            axes[-1, c].imshow(mean_detail(images[column], grey_range), cmap="gray", vmin=0, vmax=255,
                               interpolation="nearest")
    fig.text(0.01, 0.005, f"bottom row: fine detail of the mean over {len(sem)} held-out scenes, "
             f"black to white = -{grey_range:g} to +{grey_range:g} grey levels", fontsize=7)
    fig.tight_layout(rect=(0, 0.02, 1, 1))
    return save_figure(fig, path, dpi=110)


def _mean_sd(values: list[float], scale: float = 1.0, digits: int = 1) -> str:
    if any(v is None for v in values):
        return "n/a"
    mean, sd = mean_sd(values)
    return f"{scale * mean:.{digits}f} ± {scale * sd:.{digits}f}"


def _versus(metric: str, rows: list[dict], old: list[dict]) -> str:
    """"+", "-" or "=": ``rows`` against the ``old`` recipe's on ``metric``, by more than the spreads
    (:func:`~posgen_lib.eval.report.better`); "?" where a score is missing."""
    mine, theirs = [r.get(metric) for r in rows], [r.get(metric) for r in old]
    if None in mine or None in theirs:
        return "?"
    return {1: "+", 0: "=", -1: "-"}[better(metric, mean_sd(mine), mean_sd(theirs))]


def recipe_table(scores: dict, steps: dict, photos: dict, count: int, preset_name: str) -> str:
    """Markdown: one row per arm, mean ± sd over its seeds, and the photos' own row."""
    lines = ["| arm (equal wall-clock budget) | steps | mIoU % | SegFD | KID x1e3 | vs old: mIoU, SegFD, KID "
             "| pattern x / y (grey levels) | its period x / y (px) | per-image peak x / y (grey levels) | seeds |",
             "| --- | ---: | ---: | ---: | ---: | :---: | ---: | ---: | ---: | ---: |"]
    old = next(iter(scores.values()))  # the first arm is the old recipe

    def pair(rows: list[dict], key: str, digits: int) -> str:
        return " / ".join(_mean_sd([r.get(f"{key}_{axis}") for r in rows], 1, digits) for axis in "xy")

    for name, rows in scores.items():
        get = lambda key: [r.get(key) for r in rows]  # noqa: E731
        verdict = " ".join(_versus(metric, rows, old) for metric in ("miou", "segfd", "kid")) if rows is not old else ""
        lines.append(f"| {name} | {steps[name]} | {_mean_sd(get('miou'), 100)} | {_mean_sd(get('segfd'), 1, 2)} | "
                     f"{_mean_sd(get('kid'), 1000)} | {verdict} | {pair(rows, 'pattern', 2)} | "
                     f"{pair(rows, 'pattern_period', 1)} | {pair(rows, 'spectral_peak', 2)} | {len(rows)} |")
    lines.append(f"| the photos themselves | | {100 * photos['miou']:.1f} | | | | {photos['pattern_x']:.2f} / "
                 f"{photos['pattern_y']:.2f} | {photos['pattern_period_x']:.1f} / {photos['pattern_period_y']:.1f} "
                 f"| {photos['spectral_peak_x']:.2f} / {photos['spectral_peak_y']:.2f} | |")
    where = "synthetic test scenes" if preset_name == "synthetic" else "CamVid val photos"
    lines.append(f"\n{count} {where} at 1x; the segmenter of docs/model_card_segmenter"
                 f"{'' if preset_name == 'synthetic' else '_camvid'}.md. Pattern: the amplitude of the strongest "
                 "fine sinusoid (period 2 to 8 pixels) of the mean image over the set, across x and across y, and "
                 "its period; it is at the same pixels in every image. Per-image peak: the same sinusoid's "
                 "amplitude found in each image's own spectrum whatever its phase, averaged over the images (a "
                 "pattern that moves with the content is seen here and not in the mean). vs old: + better than the "
                 "old recipe by more than the two standard deviations together, - worse by that much, = within "
                 "them (one seed has no spread).")
    return "\n".join(lines)
