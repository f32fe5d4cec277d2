"""The models shipped inside the package, rebuilt by one explicit release command: ``make pretrained``.

``posgen pretrained build [NAME ...] [--steps N] [--out DIR] [--runs DIR] [--data DIR]``
trains each named model with its recorded recipe (:data:`RECIPES`; resumable:
an interrupted run continues from its last checkpoint in ``--runs``), scores it
on the held-out scenes of its dataset (100 synthetic test scenes, or the 101
CamVid val photos of ``--data``), and writes a trial into ``--out`` (default
``outputs/pretrained/``, runs in ``OUT/runs``):

* ``<file>``: float16 generator weights, config and a model card (command,
  recipe, seed, steps, training time, metrics, parameters, the data's licence);
* ``model_card_<dataset>.md``: the cards of that dataset's models as a page.

Only ``posgen pretrained build --release [NAME ...]`` (``make pretrained``,
``make pretrained-camvid``: the recorded recipes, no ``--steps``, runs in
``runs/shipped``) writes the shipped files themselves,
``posgen_lib/assets/<file>`` and ``docs/model_card_<dataset>.md`` of the source
checkout the package is installed from (:func:`checkout_root`). An
any-resolution model starts from its dataset's shipped PosGen (its recipe's
``init``).

The metrics are the evaluation of notebook 07 (:mod:`posgen_lib.eval.evaluate`): the shipped
segmenter's mIoU / pixel accuracy, SegFD (Frechet distance on its features,
100 images) and PSNR / SSIM against the ground truth, at 1x, 2x and 4x (head on
the enlarged coordinate grid), plus the per-class colour error at 1x next to
that of the same architecture untrained.
"""
from __future__ import annotations

import dataclasses
import datetime
import platform
from dataclasses import dataclass, field
from pathlib import Path

import torch
from matplotlib.figure import Figure

from ..checkpoint import MODEL_FORMAT, load_checkpoint, save_model
from ..config import SPADE_TRUNK, Config, preset
from ..data.camvid import CamVid
from ..data.labels import colorize
from ..data.transforms import to_semantics
from ..errors import UserError
from ..models.registry import (GENERATOR_CLASSES, PRETRAINED, asset_path, build_generator, count_parameters,
                               load_generator)
from ..rendering import render
from ..viz.images import to_uint8
from ..records import atomic_write_text, save_figure
from ..train.loop import train
from ..train.rundir import read_log
from .evaluate import native_method, scorecard

SCALES = (1.0, 2.0, 4.0)
EVAL_SCENES = 100  # synthetic test scenes (CamVid: its whole val split)
CARD_PAGES = {"synthetic": Path("docs") / "model_card_synthetic.md",  # relative to the repository root
              "camvid": Path("docs") / "model_card_camvid.md"}
LICENCES = {"camvid": "trained on CamVid (Brostow et al. 2008/2009), which is for non-commercial research use "
                      "only (CC BY-NC 4.0 as the SegNet tutorial distributes it); this model inherits those terms"}
TRIAL_DIR = Path("outputs") / "pretrained"  # where `posgen pretrained build` writes without --release


# The model options `posgen train` has a flag for (docs/training.md): a recipe that changes only these has a
# command line.
OPTION_FLAGS = {"modulation": lambda value: f"--norm {value}",
                "noise": lambda value: f"--noise {'on' if value else 'off'}",
                "noise_init": lambda value: f"--noise-init {value:g}"}


@dataclass(frozen=True)
class Recipe:
    """How a shipped model is trained: its ``preset`` (with the chosen options) plus these changes."""

    generator: str
    summary: str
    preset: str = "synthetic"
    steps: int = 2000
    ema_decay: float = 0.999
    seed: int = 0
    model_overrides: dict = field(default_factory=dict)
    lr: float | None = None  # None: the preset's
    init: str | None = None  # any-resolution: the PosGen whose trunk and head it starts from (frozen)
    patch_gan: float | None = None  # any-resolution: weight of the patch discriminator
    texture: float | None = None  # any-resolution: the texture amplitude renders use by default

    def train_command(self, run_dir: Path, steps: int | None = None) -> str | None:
        """The equivalent ``posgen train`` command line (None when the CLI cannot express the recipe)."""
        if not set(self.model_overrides) <= set(OPTION_FLAGS):
            return None
        options = "".join(f" {OPTION_FLAGS[key](value)}" for key, value in self.model_overrides.items())
        extra = "".join(f" {flag} {value}" for flag, value in (("--lr", self.lr), ("--init", self.init),
                                                                  ("--patch-gan", self.patch_gan),
                                                                  ("--texture", self.texture)) if value is not None)
        extra = options + extra
        data = " --data DIR" if self.preset != "synthetic" else ""
        return (f"posgen train --preset {self.preset}{data} --generator {self.generator} --steps "
                f"{steps or self.steps} --ema {self.ema_decay} --seed {self.seed}{extra} --out {run_dir}")

    def config(self, steps: int | None = None, data: str | Path | None = None) -> Config:
        cfg = preset(self.preset)
        if data is not None:
            cfg.data.root = str(data)
        cfg.model.generator = self.generator
        cfg.train.steps = steps if steps is not None else self.steps
        cfg.train.ema_decay = self.ema_decay
        cfg.train.seed = self.seed
        if self.lr is not None:
            cfg.train.lr = self.lr
        if self.init is not None:
            cfg.train.anyres_init = self.init
        if self.patch_gan is not None:
            cfg.train.lambda_patch_gan = self.patch_gan
        if self.texture is not None:
            cfg.model.anyres_texture = self.texture
        cfg.model = dataclasses.replace(cfg.model, **self.model_overrides)
        return cfg.validate()


# The shipped PosGen trains 8,000 CLADE steps, about 2.7 times the demo's CPU time: in the demo's time CLADE
# reaches 64.5 +- 1.6% mIoU (docs/training.md); the shipped model aims at 70% (the photos score 73.9%)
SYNTHETIC_STEPS = 8000
CAMVID_STEPS = 9000  # 0.3 s per step on 2 CPU cores (bfloat16): about 48 minutes (docs/model_card_camvid.md)
# The synthetic operating point, from the 4x front of `posgen experiment` (docs/results.md, 3 seeds). Every
# point at t = 0.5 beats joint bilateral upsampling on boundary patch-KID and ties it on band PSNR and interior
# patch-KID, every point at t = 0.25 beats it on band PSNR and ties the patch-KIDs; none wins all three. At
# t = 0.5 the three weights tie; GAN 0.3's interior patch-KID holds on every seed (49.1 +- 4.1 x1e3, against
# 47.3 +- 16.2 at 0.03 and 60.5 +- 10.9 at 0.1), and the lowest boundary patch-KID is worth more than 0.45 dB here
SYNTHETIC_PATCH_GAN, SYNTHETIC_TEXTURE = 0.3, 0.5
# The CamVid operating point, from the 4x front of this recipe on the shipped trunk, 3 seeds, 100 val photos
# (docs/results_camvid.md, "The GAN weight and the shipped operating point"). At t = 0.75 and 0.875 weight 0.3
# beats joint bilateral upsampling of its own 1x output on band PSNR and on boundary and interior patch-KID, the
# means apart by more than the spreads; t = 1 only ties band PSNR. 0.875 is the more textured of the two. Weight
# 0.1 (shipped before, at t = 1) wins all three at 0.75 only: at 0.875 its band PSNR margin (0.11 dB) is inside the
# spreads (0.05 + 0.14), where 0.3's (0.12 dB) is outside them (0.03 + 0.03)
CAMVID_PATCH_GAN, CAMVID_TEXTURE = 0.3, 0.875
RECIPES = {
    "synthetic": Recipe("posgen", "PosGen: CLADE trunk + per-pixel head (the recipe docs/training.md chose at "
                        "equal CPU time)", steps=SYNTHETIC_STEPS),
    "synthetic_spade": Recipe("posgen", "PosGen with SPADE's modulation and no noise inputs: the trunk of SPADE "
                              "and of the original PosGen report, the recipe before docs/training.md's comparison "
                              "(notebook 02 opens its SPADE layers)", model_overrides=SPADE_TRUNK),
    "synthetic_anyres": Recipe(
        "anyres", "any-resolution PosGen: a detail head that reads the label map at the output resolution, "
        "trained at random scales in [1, 4] on the frozen trunk and head of `synthetic` (notebook 06)",
        steps=1500, lr=2e-3, init="pretrained:synthetic", patch_gan=SYNTHETIC_PATCH_GAN,
        texture=SYNTHETIC_TEXTURE),
    "synthetic_pixelwise": Recipe(
        "pixelwise", "fully pixel-wise generator with a 1/16-resolution context code (notebook 08)"),
    "synthetic_pixelwise_nocontext": Recipe(
        "pixelwise", "fully pixel-wise generator without context: colour = f(class, edge, position)",
        model_overrides={"pixelwise_context": 0}),
    "camvid": Recipe(
        "posgen", "PosGen on real CamVid street photos (120x90 labels; notebooks 04-07, README)", preset="camvid",
        steps=CAMVID_STEPS),
    "camvid_anyres": Recipe(
        "anyres", "any-resolution PosGen on CamVid: a faithful base plus a label-modulated texture, trained "
        "against the native photos (4x) on the frozen trunk and head of `camvid`", preset="camvid",
        steps=1500, lr=2e-3, init="pretrained:camvid", patch_gan=CAMVID_PATCH_GAN, texture=CAMVID_TEXTURE),
}


def recipes_of(dataset: str) -> list[str]:
    """The shipped models trained on ``dataset`` (a preset name: synthetic, camvid)."""
    return [name for name, r in RECIPES.items() if r.preset == dataset]


def _train_seconds(run_dir: Path) -> float:
    """Training time summed from the run's log (``sec_per_step`` x steps per logged row)."""
    rows = read_log(run_dir / "log.jsonl")
    total, previous = 0.0, 0
    for row in rows:
        if row["step"] > previous:
            total += row["sec_per_step"] * (row["step"] - previous)
        previous = row["step"]
    return round(total, 1)


@torch.no_grad()
def score(G, cfg: Config, count: int = EVAL_SCENES) -> dict:
    """Card metrics of ``G`` at :data:`SCALES` (its own way of rendering above 1x, see
    :func:`posgen_lib.eval.evaluate.native_method`), and the same architecture untrained for reference."""
    torch.manual_seed(cfg.train.seed)
    untrained = build_generator(cfg.model).eval()
    cards = scorecard({"model": G, "untrained": untrained}, cfg, count, SCALES)
    metrics = cards["model"]
    metrics["class_color_error_1x_untrained"] = cards["untrained"]["class_color_error_1x"]
    return metrics


def checkout_root() -> Path:
    """The source checkout the package is installed from (an editable install), where a release writes
    the shipped models and their page; a UserError anywhere else."""
    root = Path(__file__).resolve().parents[2]
    if not ((root / "pyproject.toml").is_file() and (root / "docs").is_dir()):
        raise UserError(f"--release rewrites the shipped models and docs/ of a source checkout, but posgen_lib "
                        f"is installed in {root.parent if root.name == 'site-packages' else root}; run it in the "
                        "checkout with an editable install (pip install -e .), or build a trial without --release")
    return root


def model_file(name: str, folder: Path | None) -> Path:
    """Where the model ``name`` is written: its file in ``folder`` (a trial), or in the package (a release)."""
    return asset_path(name) if folder is None else folder / PRETRAINED[name]


def build(name: str, runs: Path, steps: int | None = None, progress: bool = True, *,
          asset: Path, count: int = EVAL_SCENES, command: str | None = None, data: str | Path | None = None,
          shown_runs: Path | None = None) -> dict:
    """Train (or resume) the recipe ``name`` under ``runs/name`` (a real dataset's from ``data``), score it on
    ``count`` held-out scenes, write it to ``asset`` (the package's own file only in a release:
    :func:`model_file`); returns its card, whose ``command`` is ``command`` (default: the trial build) and
    whose training command writes to ``shown_runs/name`` (default ``runs``: a release names its default
    folder, not the one this machine used)."""
    recipe = RECIPES[name]
    if recipe.preset != "synthetic" and data is None:
        raise UserError(f"{name} trains on {recipe.preset}: give its folder with --data DIR")
    cfg = recipe.config(steps, data)
    run_dir = runs / name
    result = train(cfg, run_dir, resume="auto", progress=progress)
    threads = torch.get_num_threads()
    G = result.generator.eval()
    card = {
        "name": name,
        "summary": recipe.summary,
        "command": command or f"posgen pretrained build {name}" + (f" --steps {steps}" if steps else ""),
        "train_command": recipe.train_command((shown_runs or runs) / name, steps),
        "generator": cfg.model.generator,
        "preset": recipe.preset,
        "data_licence": LICENCES.get(recipe.preset),
        "recipe": {"steps": cfg.train.steps, "batch_size": cfg.train.batch_size, "seed": cfg.train.seed,
                   "ema_decay": cfg.train.ema_decay, "lambda_feat": cfg.train.lambda_feat,
                   "lambda_l1": cfg.train.lambda_l1, "gan_mode": cfg.train.gan_mode, "lr": cfg.train.lr,
                   "model_overrides": recipe.model_overrides, "init": recipe.init,
                   "lambda_patch_gan": cfg.train.lambda_patch_gan if recipe.init else None,
                   "options": {"modulation": cfg.model.modulation, "noise": cfg.model.noise,
                               "d_blur": cfg.model.d_blur, "objective": cfg.train.objective},
                   "texture": cfg.model.anyres_texture if G.textured else None},
        "parameters": count_parameters(G),
        "train_seconds": _train_seconds(run_dir),
        "machine": f"{platform.machine()}, {threads} thread{'s' * (threads != 1)}, torch {torch.__version__}",
        "date": datetime.date.today().isoformat(),
        "metrics": score(G, cfg, count),
    }
    save_model(asset, G, cfg, card=card, half=True)
    return card


def _train_command_note(card: dict) -> str:
    if "train_command" not in card:
        return ""
    if card["train_command"] is None:
        return " (trained through the Python API: `posgen train` has no flag for the model change)"
    return f" (its training step alone: `{card['train_command']}`)"


INTRO = {
    "synthetic": ["All are trained on CPU with the `synthetic` preset (64x128 procedural street scenes, SPADE's",
                  "recipe with the options its card lists; docs/training.md measures them) and an EMA of the",
                  "generator weights (decay 0.999), which is what is shipped (float16). Metrics: 100 held-out",
                  "`test` scenes, the shipped segmenter (docs/model_card_segmenter.md)."],
    "camvid": ["Trained on CPU with the `camvid` preset on the 367 real CamVid *train* photos (labels at",
               "120x90, a quarter of the 480x360 photos; docs/training.md has the recipe and what its",
               "options bought) and an EMA of the generator weights, shipped as float16. Metrics: the 101",
               "CamVid *val* photos at 1x (120x90), 2x and 4x (the native photo), the CamVid segmenter",
               "(docs/model_card_segmenter_camvid.md). **Licence:** CamVid (Brostow, Fauqueur and Cipolla",
               "2008/2009) is for non-commercial research use only (CC BY-NC 4.0 as the SegNet tutorial",
               "distributes it), and so are these models; the photos are not in the package."],
}


def card_page(cards: list[dict], dataset: str = "synthetic", trial: Path | None = None,
              showcase: bool = False) -> str:
    """Markdown for ``docs/model_card_<dataset>.md`` from the cards of the shipped generators of ``dataset`` (or
    of the models of a ``trial`` build in that folder); ``showcase``: link the picture :data:`SHOWCASE`."""
    title, written = (("Shipped generators", "`posgen pretrained build --release`") if trial is None
                      else (f"Trial generators in {trial.as_posix()}", "a trial `posgen pretrained build`"))
    where = "synthetic streets" if dataset == "synthetic" else "CamVid, real street photos"
    lines = [f"# {title} ({where})", "", f"Written by {written} from the cards stored inside the model files;",
             "`pg.pretrained(NAME, with_card=True)` returns the same data.", *INTRO[dataset],
             "Higher is better except SegFD and the colour error. Training times are wall-clock and include",
             "any other jobs sharing the machine.", ""]
    for card in cards:
        m, r = card["metrics"], card["recipe"]
        options = r.get("options") or {}
        chosen = [name for name, on in (("CLADE trunk", options.get("modulation") == "clade"),
                                        ("noise inputs", options.get("noise")),
                                        ("blurred discriminator", options.get("d_blur")),
                                        ("OASIS objective", options.get("objective") == "oasis")) if on]
        release = f"posgen pretrained build --release {card['name']}" + (" --data DIR" if dataset != "synthetic" else "")
        lines += [f"## `{card['name']}`", "", card["summary"], "",
                  f"- command: `{card['command'] if trial else release}`" + _train_command_note(card),
                  f"- generator `{card['generator']}`, {card['parameters']:,} parameters; "
                  f"{r['steps']} steps, batch {r['batch_size']}, seed {r['seed']}, EMA {r['ema_decay']}"
                  + (f", L1 to the photo {r['lambda_l1']:g}" if r.get("lambda_l1") else "")
                  + (f"; {', '.join(chosen)}" if chosen else "")
                  + (", model changes " + ", ".join(f"{key}={value}" for key, value in r["model_overrides"].items())
                     if r["model_overrides"] else "")
                  + (f", base learning rate {r['lr']:g}, started from `{r['init']}` (frozen), patch-GAN "
                     f"weight {r['lambda_patch_gan']:g}" if r.get("init") else "")
                  + (f", texture amplitude {r['texture']:g} by default" if r.get("texture") is not None else ""),
                  f"- training time {card['train_seconds'] / 60:.0f} min on {card['machine']} ({card['date']})",
                  f"- per-class colour error at 1x: {m['class_color_error_1x']:.3f} "
                  f"(untrained: {m['class_color_error_1x_untrained']:.3f})", ""]
        if card.get("data_licence"):
            lines += [f"- licence: {card['data_licence']}", ""]
        lines += ["| scale | mIoU | pixel acc. | SegFD | PSNR (dB) | SSIM |", "| --- | --- | --- | --- | --- | --- |"]
        for scale in (f"{s:g}x" for s in SCALES):
            row = m[scale]
            lines.append(f"| {scale} | {row['miou']:.3f} | {row['pixel_accuracy']:.3f} | {row['segfd']:.2f} | "
                         f"{row['psnr']:.2f} | {row['ssim']:.3f} |")
        if native_method(GENERATOR_CLASSES[card["generator"]]) == "coordinates_hr":
            lines.append("\nAbove 1x it renders with the scenes' label maps at each scale (`coordinates_hr`).")
        lines.append("")
    segmenter = "docs/model_card_segmenter.md" if dataset == "synthetic" else "docs/model_card_segmenter_camvid.md"
    if showcase:
        lines += [f"Val frames {', '.join(map(str, SHOWCASE_FRAMES))}: labels, `camvid` at 1x, `camvid_anyres` at 4x "
                  "with the native label map, the real photo:", "", f"![CamVid val renders]({SHOWCASE.as_posix()})", ""]
    lines += [f"The segmenter's own mIoU on the ground-truth photos (the ceiling) is in {segmenter}.", ""]
    return "\n".join(lines)


SHOWCASE = Path("img") / "camvid_showcase.png"  # beside the CamVid card page: docs/img/ in a release
SHOWCASE_FRAMES = (3, 30, 60)  # CamVid val frames: street with cyclists, a junction, a road with cars and trees


@torch.no_grad()
def showcase_figure(G, A, data: str | Path, frames=SHOWCASE_FRAMES):
    """Rows of CamVid val frames: the 90x120 label map, PosGen ``G``'s render at 1x, the any-resolution model
    ``A``'s render at 4x (360x480, with the native label map), and the real photo (native)."""
    ds = CamVid(data, "val")
    frames = [i for i in frames if i < len(ds)] or [0]  # a smaller val split (a fabricated tree): its first
    fig = Figure(figsize=(11, 2.1 * len(frames)))
    axes = fig.subplots(len(frames), 4, squeeze=False)
    titles = ("labels, 90x120", "PosGen at 1x (90x120)", "any-resolution PosGen at 4x (360x480)",
              "real photo (360x480)")
    for row, index in enumerate(frames):
        small, native = ds.at_scale(index, 1), ds.at_scale(index, 4)
        sem = to_semantics(small["label"], None, "camvid", G.cfg.use_instance)
        hr = to_semantics(native["label"], None, "camvid", A.cfg.use_instance)
        panels = (colorize(small["label"], "camvid"), to_uint8(render(G, sem)[0]),
                  to_uint8(render(A, sem, size=tuple(native["label"].shape), labels=hr)[0]),
                  to_uint8(native["image"]))
        for col, (ax, image) in enumerate(zip(axes[row], panels)):
            ax.imshow(image, interpolation="nearest", extent=(0, 480, 360, 0))  # every panel at the same size
            ax.set_axis_off()
            if row == 0:
                ax.set_title(titles[col], fontsize=9)
    fig.tight_layout()
    return fig


def write_showcase(page: Path, data: str | Path, folder: Path | None = None) -> Path:
    """:func:`showcase_figure` of the shipped (or trial) CamVid models as ``img/camvid_showcase.png`` beside
    the CamVid card ``page``."""
    G, _, _ = load_generator(model_file("camvid", folder))
    A, _, _ = load_generator(model_file("camvid_anyres", folder))
    fig = showcase_figure(G, A, data)
    return save_figure(fig, page.parent / SHOWCASE, dpi=100)


def write_card_page(path: Path, dataset: str = "synthetic", folder: Path | None = None) -> Path:
    """The page of model cards of ``dataset`` at ``path``, from the cards inside the shipped model files (or
    inside the models of a trial in ``folder``)."""
    files = [model_file(n, folder) for n in recipes_of(dataset)]
    cards = [load_checkpoint(f, formats=(MODEL_FORMAT,))["card"] for f in files if f.is_file()]
    showcase = dataset == "camvid" and (path.parent / SHOWCASE).is_file()  # the CamVid models' val renders
    return atomic_write_text(path, card_page(cards, dataset, folder, showcase))
