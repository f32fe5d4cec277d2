"""Figures, a widget and small demonstrations for notebook 05 (losses, discriminator, training).

The training itself is :mod:`posgen_lib.train` (and :func:`posgen_lib.train.load_or_train`);
the notebook writes the losses and one training step out in its own cells and
checks them against the library. This module only draws:

* :func:`hinge_figure` -- the three hinge terms as functions of one logit;
* :func:`training_step_diagram` -- one training step: the G step and the D step,
  the losses of each and which network each one updates;
* :func:`samples_figure` -- held-out scenes rendered by one or several generators;
* :func:`sample_stepper` (widget) and :func:`training_progress_figure` (its
  static figure) -- the sample grids ``samples/step_*.png`` a run wrote while
  it trained; :func:`sample_frames` and :func:`frame_at` are the widget's logic;
* :func:`recipe_table` -- the settings of SPADE's recipe in a preset.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from PIL import Image
from torch import nn

from ...config import Config, preset
from ...data.synthetic import SyntheticStreets
from ...data.transforms import to_semantics
from ...train.loop import base_learning_rates
from ...viz import sample_grid
from ...viz.figures import true_size_figure
from ...viz.images import tile

# --- losses ---------------------------------------------------------------------------------


def hinge_figure() -> Figure:
    """The three hinge terms as functions of one discriminator logit."""
    x = np.linspace(-3, 3, 301)
    fig = Figure(figsize=(6, 3.2))
    ax = fig.subplots()
    ax.plot(x, np.maximum(0, 1 - x), label=r"$D$ on real: $\max(0, 1 - x)$")
    ax.plot(x, np.maximum(0, 1 + x), label=r"$D$ on fake: $\max(0, 1 + x)$")
    ax.plot(x, -x, "--", label=r"$G$ on fake: $-x$")
    ax.axvspan(-1, 1, color="0.9", zorder=0)
    ax.set_xlabel("discriminator logit $x$ of one patch")
    ax.set_ylabel("loss")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    ax.set_title("hinge loss: D is pushed only inside the grey margin", fontsize=10)
    fig.tight_layout()
    return fig


# --- one training step, as a diagram ------------------------------------------------------------

G_COLOUR, D_COLOUR, LOSS_COLOUR, DATA_COLOUR = "#cfe2f3", "#fce5cd", "#f4cccc", "#eeeeee"


def _box(ax, xy, text, colour, width=0.2, height=0.11, **kw):
    x, y = xy
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                boxstyle="round,pad=0.01", fc=colour, ec="0.3", lw=1, **kw))
    ax.text(x, y, text, ha="center", va="center", fontsize=8)
    return {"left": (x - width / 2, y), "right": (x + width / 2, y), "top": (x, y + height / 2),
            "bottom": (x, y - height / 2)}


def _arrow(ax, start, end, colour="0.25", style="-|>", dashed=False, text="", rad=0.0):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=10, color=colour, lw=1.3,
                                 linestyle="--" if dashed else "-", connectionstyle=f"arc3,rad={rad}",
                                 shrinkA=2, shrinkB=2))
    if text:
        ax.text((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + 0.03, text, ha="center", fontsize=7,
                color=colour)


def training_step_diagram() -> Figure:
    """One training step: the G step (left) and the D step (right).

    Solid arrows carry tensors forward; dashed red arrows are the gradients of
    each step's loss, drawn only to the network that step's optimizer updates.
    """
    fig = Figure(figsize=(10, 3.9))
    ax_g, ax_d = fig.subplots(1, 2)
    for ax, title in ((ax_g, "1. G step: update G, D fixed"), (ax_d, "2. D step: update D, fake detached")):
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_axis_off()
        ax.set_title(title, fontsize=10)

    # G step
    s = _box(ax_g, (0.12, 0.8), "semantics $s$\n(B, C, H, W)", DATA_COLOUR)
    g = _box(ax_g, (0.12, 0.5), "G", G_COLOUR, width=0.12)
    x = _box(ax_g, (0.12, 0.18), "photo $x$\n(B, 3, H, W)", DATA_COLOUR)
    d = _box(ax_g, (0.47, 0.5), "D on\ncat($s$, $G(s)$),\ncat($s$, $x$)", D_COLOUR, width=0.22, height=0.2)
    gan = _box(ax_g, (0.84, 0.72), r"$-\mathbb{E}[D(s, G(s))]$" + "\nhinge, G_GAN", LOSS_COLOUR, width=0.27)
    fm = _box(ax_g, (0.84, 0.3), "paired L1 of D's\nfeatures: G_feat", LOSS_COLOUR, width=0.27)
    _arrow(ax_g, s["bottom"], g["top"])
    _arrow(ax_g, g["right"], (d["left"][0], d["left"][1] + 0.04), text="fake")
    _arrow(ax_g, x["right"], (d["left"][0], d["left"][1] - 0.06))
    _arrow(ax_g, s["right"], (d["left"][0] + 0.03, d["top"][1]))
    _arrow(ax_g, (d["right"][0], d["right"][1] + 0.05), gan["left"], text="logits")
    _arrow(ax_g, (d["right"][0], d["right"][1] - 0.05), fm["left"])
    ax_g.text(0.59, 0.3, "features", fontsize=7, color="0.25", ha="center")
    _arrow(ax_g, (gan["bottom"][0] - 0.08, gan["bottom"][1]), (g["right"][0], g["right"][1] - 0.02),
           colour="tab:red", dashed=True, rad=-0.3)
    _arrow(ax_g, (fm["bottom"][0] - 0.08, fm["bottom"][1]), (g["bottom"][0], g["bottom"][1]),
           colour="tab:red", dashed=True, rad=-0.3)
    ax_g.text(0.5, 0.03, r"$\nabla\,\mathcal{L}_G$ flows back through D into G; only opt_G steps",
              ha="center", fontsize=8, color="tab:red")

    # D step
    s = _box(ax_d, (0.12, 0.8), "semantics $s$", DATA_COLOUR)
    f = _box(ax_d, (0.12, 0.5), "fake.detach()", G_COLOUR)
    x = _box(ax_d, (0.12, 0.2), "photo $x$", DATA_COLOUR)
    d = _box(ax_d, (0.47, 0.5), "D", D_COLOUR, width=0.14, height=0.2)
    real = _box(ax_d, (0.84, 0.72), r"$\mathbb{E}[\max(0, 1 - D(s, x))]$" + "\nD_real", LOSS_COLOUR,
                width=0.29)
    fake = _box(ax_d, (0.84, 0.3), r"$\mathbb{E}[\max(0, 1 + D(s, G(s)))]$" + "\nD_fake", LOSS_COLOUR,
                width=0.29)
    _arrow(ax_d, s["right"], (d["left"][0] + 0.02, d["top"][1]))
    _arrow(ax_d, f["right"], d["left"])
    _arrow(ax_d, x["right"], (d["left"][0] + 0.02, d["bottom"][1]))
    _arrow(ax_d, (d["right"][0], d["right"][1] + 0.05), real["left"])
    _arrow(ax_d, (d["right"][0], d["right"][1] - 0.05), fake["left"])
    _arrow(ax_d, (fake["bottom"][0], fake["bottom"][1]), (d["bottom"][0] + 0.03, d["bottom"][1]),
           colour="tab:red", dashed=True, rad=-0.4)
    _arrow(ax_d, (real["top"][0], real["top"][1]), (d["top"][0] + 0.03, d["top"][1]),
           colour="tab:red", dashed=True, rad=0.4)
    ax_d.text(0.5, 0.03, r"$\nabla\,\mathcal{L}_D$ stops at the detached fake; only opt_D steps",
              ha="center", fontsize=8, color="tab:red")
    fig.tight_layout()
    return fig


# --- held-out samples ------------------------------------------------------------------------------

@torch.no_grad()
def samples_figure(generators, cfg: Config, n: int = 4, title: str = "") -> Figure:
    """Held-out (test split) scenes: labels | photo | each generator's image, one row per scene.

    ``generators``: one generator or ``{name: generator}``; every image is drawn at
    its true pixel size when the figure is shown at 80 dpi.
    """
    if isinstance(generators, nn.Module):
        generators = {"generated": generators}
    data = SyntheticStreets(size=cfg.model.image_size, length=n, seed=cfg.data.synthetic_seed, split="test")
    items = [data[i] for i in range(n)]
    label, instance = torch.stack([it["label"] for it in items]), torch.stack([it["instance"] for it in items])
    sem = to_semantics(label, instance, cfg.data.label_set, cfg.model.use_instance)  # (n, C, H, W)
    fakes = []
    for G in generators.values():
        device = next(G.parameters()).device
        fakes.append(G.eval()(sem.to(device)).cpu())  # (n, 3, H, W)
    grid = sample_grid(label, torch.stack([it["image"] for it in items]), fakes, cfg.data.label_set)
    return true_size_figure(grid, title or " | ".join(["labels", "photo", *generators]))


# --- the sample grids of a run: widget and static figure ------------------------------------------

_FRAME = re.compile(r"^step_(\d+)\.png$")


def sample_frames(folder: str | Path) -> list[tuple[int, Path]]:
    """``(step, path)`` of every ``samples/step_*.png`` of the run in ``folder``, by step."""
    found = []
    for path in (Path(folder) / "samples").glob("step_*.png"):
        match = _FRAME.match(path.name)
        if match:
            found.append((int(match.group(1)), path))
    return sorted(found)


def frame_at(frames: list[tuple[int, Path]], step: int) -> tuple[bytes, str]:
    """The widget's callback logic: (PNG bytes, caption) of the sample grid saved at ``step``."""
    steps = [s for s, _ in frames]
    if step not in steps:
        raise ValueError(f"no sample grid at step {step}; the run saved {steps}")
    path = frames[steps.index(step)][1]
    with Image.open(path) as image:
        size = image.size
    caption = (f"step {step} of {steps[-1]} ({size[0]} x {size[1]} pixels, true size): "
               "labels | photo | generator, held-out scenes")
    return path.read_bytes(), caption


def sample_stepper(folder: str | Path):
    """A slider over the sample grids of a run (static figure: :func:`training_progress_figure`)."""
    import ipywidgets as W

    frames = sample_frames(folder)
    if not frames:
        raise FileNotFoundError(f"{folder}/samples holds no step_*.png; train with a sample_every below the steps")
    slider = W.SelectionSlider(options=[(str(s), s) for s, _ in frames], value=frames[-1][0],
                               description="step", continuous_update=False)
    with Image.open(frames[-1][1]) as first:
        width, height = first.size  # every grid of a run has the same size: shown at exactly that size
    image = W.Image(format="png", layout=W.Layout(width=f"{width}px", height=f"{height}px", max_width="none",
                                                  object_fit="fill"))
    caption = W.Label()

    def update(_=None) -> None:
        image.value, caption.value = frame_at(frames, slider.value)

    slider.observe(update, names="value")
    update()
    box = W.VBox([slider, caption, image])
    box.slider, box.image, box.caption = slider, image, caption  # for code and tests
    return box


def generated_column(grid: np.ndarray, image_size: tuple[int, int], column: int = 2,
                     gap: int = 2) -> list[np.ndarray]:
    """Cut the images of one column out of a sample grid (labels | photo | generated, ``gap`` pixels apart)."""
    h, w = image_size
    rows = (grid.shape[0] + gap) // (h + gap)
    x0 = column * (w + gap)
    return [grid[r * (h + gap):r * (h + gap) + h, x0:x0 + w] for r in range(rows)]


def training_progress_figure(folder: str | Path, image_size: tuple[int, int], count: int = 4,
                             scenes: int = 4) -> Figure:
    """What :func:`sample_stepper` shows, on one page: labels | photo | the generated image of ``scenes``
    held-out scenes at ``count`` steps of the run (first, evenly spaced, last), true pixel size."""
    frames = sample_frames(folder)
    if not frames:
        raise FileNotFoundError(f"{folder}/samples holds no step_*.png")
    picks = sorted({round(i * (len(frames) - 1) / max(1, count - 1)) for i in range(count)})
    grids = [np.asarray(Image.open(frames[i][1]).convert("RGB")) for i in picks]
    labels, photos = generated_column(grids[0], image_size, 0), generated_column(grids[0], image_size, 1)
    columns = [labels, photos] + [generated_column(g, image_size, 2) for g in grids]
    rows = [[col[r] for col in columns] for r in range(min(scenes, len(labels)))]
    title = "labels | photo | " + " | ".join(f"step {frames[i][0]}" for i in picks)
    return true_size_figure(tile(rows), title)


# --- the GPU recipe ---------------------------------------------------------------------------------

def recipe_table(name: str, only: tuple[str, ...] = ()) -> str:
    """The settings of preset ``name`` that define SPADE's recipe, one per line.

    ``only`` keeps the rows whose description starts with one of its strings.
    """
    cfg = preset(name)
    m, d, t = cfg.model, cfg.data, cfg.train
    lr_g, lr_d = base_learning_rates(cfg)
    budget = f"{t.steps} steps" if t.steps is not None else f"{t.epochs} epochs"
    rows = [
        ("output size (H, W)", m.image_size),
        ("label channels + dontcare + edges", f"{m.label_nc} + {int(m.contain_dontcare_label)} + "
                                              f"{int(m.use_instance)} = {m.semantic_nc}"),
        ("upsampling layers", f"{m.num_upsampling_layers} ({m.num_up}), ngf {m.ngf}"),
        ("discriminator", f"{m.num_D} scales x {m.n_layers_D} layers, ndf {m.ndf}"),
        ("spectral norm G / D", f"{m.spectral_norm_G} / {m.spectral_norm_D}"),
        ("preprocessing", f"{d.preprocess_mode}, load {d.load_size}, crop {d.crop_size}, "
                          f"aspect {d.aspect_ratio}, flip {d.flip}"),
        ("budget, global batch", f"{budget}, {t.batch_size}"),
        ("Adam lr G / D, betas", f"{lr_g:g} / {lr_d:g}, ({t.beta1:g}, {t.beta2:g})"),
        ("lr decay", f"linear to 0 after {t.decay_start:.0%} of training"),
        ("GAN loss, lambda_feat", f"{t.gan_mode}, {t.lambda_feat:g}"),
        ("lambda_vgg", f"{t.lambda_vgg:g} (only with --vgg-weights FILE)"),
    ]
    rows = [(k, v) for k, v in rows if not only or k.startswith(only)]
    return "\n".join([f"preset {name!r}"] + [f"  {k:34s} {v}" for k, v in rows])
