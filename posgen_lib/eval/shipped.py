"""The models shipped inside the package, rebuilt by one explicit release command: ``make pretrained``.

``posgen pretrained build [NAME ...] [--steps N] [--out DIR] [--runs DIR]`` trains
each named model with its recorded recipe (:data:`RECIPES`; resumable: an
interrupted run continues from its last checkpoint in ``--runs``), scores it on
100 held-out test scenes, and writes a trial into ``--out`` (default
``outputs/pretrained/``, runs in ``OUT/runs``):

* ``<file>``: float16 generator weights, config and a model card (command,
  recipe, seed, steps, training time, metrics, parameters);
* ``model_card_synthetic.md``: the cards of those models as a page.

Only ``posgen pretrained build --release [NAME ...]`` (``make pretrained``:
the recorded recipes, no ``--steps``, runs in ``runs/shipped``) writes the
shipped files themselves, ``posgen_lib/assets/<file>`` and
``docs/model_card_synthetic.md`` of the source checkout the package is
installed from (:func:`checkout_root`). A trial's any-resolution model starts
from the shipped ``synthetic`` model (its recipe's ``init``).

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

from ..checkpoint import MODEL_FORMAT, load_checkpoint, save_model
from ..config import Config, preset
from ..errors import UserError
from ..models.registry import GENERATOR_CLASSES, PRETRAINED, asset_path, build_generator, count_parameters
from ..records import atomic_write_text
from ..train.loop import train
from ..train.rundir import read_log
from .evaluate import native_method, scorecard

SCALES = (1.0, 2.0, 4.0)
EVAL_SCENES = 100
CARD_PAGE = Path("docs") / "model_card_synthetic.md"  # relative to the repository root
TRIAL_DIR = Path("outputs") / "pretrained"  # where `posgen pretrained build` writes without --release


@dataclass(frozen=True)
class Recipe:
    """How a shipped model is trained: the ``synthetic`` preset plus these changes."""

    generator: str
    summary: str
    steps: int = 2000
    ema_decay: float = 0.999
    seed: int = 0
    model_overrides: dict = field(default_factory=dict)
    lr: float | None = None  # None: the preset's
    init: str | None = None  # any-resolution: the PosGen whose trunk and head it starts from (frozen)
    patch_gan: float | None = None  # any-resolution: weight of the patch discriminator

    def train_command(self, run_dir: Path, steps: int | None = None) -> str | None:
        """The equivalent ``posgen train`` command line (None when the CLI cannot express the recipe)."""
        if self.model_overrides:
            return None
        extra = "".join(f" {flag} {value}" for flag, value in (("--lr", self.lr), ("--init", self.init),
                                                                  ("--patch-gan", self.patch_gan))
                        if value is not None)
        return (f"posgen train --preset synthetic --generator {self.generator} --steps {steps or self.steps} "
                f"--ema {self.ema_decay} --seed {self.seed}{extra} --out {run_dir}")

    def config(self, steps: int | None = None) -> Config:
        cfg = preset("synthetic")
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
        cfg.model = dataclasses.replace(cfg.model, **self.model_overrides)
        return cfg.validate()


RECIPES = {
    "synthetic": Recipe("posgen", "PosGen: SPADE trunk + per-pixel head"),
    "synthetic_anyres": Recipe(
        "anyres", "any-resolution PosGen: a detail head that reads the label map at the output resolution, "
        "trained at random scales in [1, 4] on the frozen trunk and head of `synthetic` (notebook 06)",
        steps=1500, lr=2e-3, init="pretrained:synthetic", patch_gan=0.03),
    "synthetic_pixelwise": Recipe(
        "pixelwise", "fully pixel-wise generator with a 1/16-resolution context code (notebook 08)"),
    "synthetic_pixelwise_nocontext": Recipe(
        "pixelwise", "fully pixel-wise generator without context: colour = f(class, edge, position)",
        model_overrides={"pixelwise_context": 0}),
}


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
          asset: Path, count: int = EVAL_SCENES, command: str | None = None) -> dict:
    """Train (or resume) the recipe ``name`` under ``runs/name``, score it on ``count`` scenes, write it to
    ``asset`` (the package's own file only in a release: :func:`model_file`); returns its card, whose
    ``command`` is ``command`` (default: the trial build of this model)."""
    recipe = RECIPES[name]
    cfg = recipe.config(steps)
    run_dir = runs / name
    result = train(cfg, run_dir, resume="auto", progress=progress)
    G = result.generator.eval()
    card = {
        "name": name,
        "summary": recipe.summary,
        "command": command or f"posgen pretrained build {name}" + (f" --steps {steps}" if steps else ""),
        "train_command": recipe.train_command(run_dir, steps),
        "generator": cfg.model.generator,
        "preset": "synthetic",
        "recipe": {"steps": cfg.train.steps, "batch_size": cfg.train.batch_size, "seed": cfg.train.seed,
                   "ema_decay": cfg.train.ema_decay, "lambda_feat": cfg.train.lambda_feat,
                   "lambda_l1": cfg.train.lambda_l1, "gan_mode": cfg.train.gan_mode, "lr": cfg.train.lr,
                   "model_overrides": recipe.model_overrides, "init": recipe.init,
                   "lambda_patch_gan": cfg.train.lambda_patch_gan if recipe.init else None},
        "parameters": count_parameters(G),
        "train_seconds": _train_seconds(run_dir),
        "machine": f"{platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}",
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


def card_page(cards: list[dict], trial: Path | None = None) -> str:
    """Markdown for ``docs/model_card_synthetic.md`` from the cards of the shipped generators (or of the
    models of a ``trial`` build in that folder)."""
    title, written = (("Shipped generators", "`make pretrained` (`posgen pretrained build --release`)") if trial is None
                      else (f"Trial generators in {trial.as_posix()}", "a trial `posgen pretrained build`"))
    lines = [f"# {title} (synthetic streets)", "",
             f"Written by {written} from the cards stored",
             "inside the model files; `pg.pretrained(NAME, with_card=True)` returns the same data.",
             "All are trained on CPU with the `synthetic` preset (64x128 procedural street scenes,",
             "SPADE's recipe: hinge loss + feature matching, TTUR Adam, spectral norm, instance edges,",
             "no VGG loss, no L1 term: docs/training.md shows it did not help) and an EMA of the",
             "generator weights (decay 0.999), which is",
             "what is shipped (float16). Metrics: 100 held-out `test` scenes, the shipped segmenter",
             "(docs/model_card_segmenter.md); higher is better except SegFD and the colour error.",
             "Training times are wall-clock and include any other jobs sharing the machine.",
             ""]
    for card in cards:
        m, r = card["metrics"], card["recipe"]
        lines += [f"## `{card['name']}`", "", card["summary"], "",
                  f"- command: `{card['command'] if trial else 'posgen pretrained build --release ' + card['name']}`"
                  + _train_command_note(card),
                  f"- generator `{card['generator']}`, {card['parameters']:,} parameters; "
                  f"{r['steps']} steps, batch {r['batch_size']}, seed {r['seed']}, EMA {r['ema_decay']}"
                  + (f", model changes {r['model_overrides']}" if r["model_overrides"] else "")
                  + (f", base learning rate {r['lr']:g}, started from `{r['init']}` (frozen), patch-GAN "
                     f"weight {r['lambda_patch_gan']:g}" if r.get("init") else ""),
                  f"- training time {card['train_seconds'] / 60:.0f} min on {card['machine']} ({card['date']})",
                  f"- per-class colour error at 1x: {m['class_color_error_1x']:.3f} "
                  f"(untrained: {m['class_color_error_1x_untrained']:.3f})", "",
                  "| scale | mIoU | pixel acc. | SegFD | PSNR (dB) | SSIM |", "| --- | --- | --- | --- | --- | --- |"]
        for scale in (f"{s:g}x" for s in SCALES):
            row = m[scale]
            lines.append(f"| {scale} | {row['miou']:.3f} | {row['pixel_accuracy']:.3f} | {row['segfd']:.2f} | "
                         f"{row['psnr']:.2f} | {row['ssim']:.3f} |")
        if native_method(GENERATOR_CLASSES[card["generator"]]) == "coordinates_hr":
            lines.append("\nAbove 1x it renders with the scenes' label maps at each scale (`coordinates_hr`).")
        lines.append("")
    lines += ["The segmenter's own mIoU on the ground-truth photos (the ceiling) is in",
              "docs/model_card_segmenter.md. Notebook 08 compares these models side by side.", ""]
    return "\n".join(lines)


def write_card_page(path: Path, folder: Path | None = None) -> Path:
    """The page of model cards at ``path``, from the cards inside the shipped model files (or inside the
    models of a trial in ``folder``)."""
    files = [model_file(n, folder) for n in RECIPES]
    cards = [load_checkpoint(f, formats=(MODEL_FORMAT,))["card"] for f in files if f.is_file()]
    return atomic_write_text(path, card_page(cards, folder))
