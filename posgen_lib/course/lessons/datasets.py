"""Figures and the widget of notebook 04 (datasets, label sets, the generator's input).

The notebook computes its tables and checks itself (one-hot maps, instance
edges, the 1x/4x label agreement); this module keeps the figures, each a
``matplotlib.figure.Figure`` displayed as a cell's result, and the scene
browser widget (:func:`item_browser`, static figure :func:`browse_figure`),
whose callback is the plain function :func:`browse_panels`. None of them
changes data. The datasets and transforms themselves live in
:mod:`posgen_lib.data`.
"""
from __future__ import annotations

import io

import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from PIL import Image

from ...config import DataConfig
from ...data.labels import colorize, get_label_set
from ...data.synthetic import SyntheticStreets
from ...data.transforms import PREPROCESS_MODES, instance_edges, plan_geometry
from ...viz.images import to_uint8


def _rgb(image: torch.Tensor) -> np.ndarray:
    """(3, H, W) in [-1, 1] -> (H, W, 3) float in [0, 1] for imshow."""
    return ((image.detach().float().cpu().clamp(-1, 1) + 1) / 2).permute(1, 2, 0).numpy()


def _off(axes) -> None:
    for ax in np.ravel(axes):
        ax.set_axis_off()


# --- label sets ---------------------------------------------------------------------

def palette_figure(label_set: str = "cityscapes", highlight: str | None = "synthetic",
                   columns: int = 4) -> Figure:
    """Colour swatch, id and name of every class; classes outside ``highlight`` are faded."""
    ls = get_label_set(label_set)
    keep = set(get_label_set(highlight).ids) if highlight else set(ls.ids)
    rows = -(-len(ls.ids) // columns)
    fig = Figure(figsize=(2.45 * columns, 0.3 * rows + 0.6))
    ax = fig.subplots()
    for k, (i, name, colour) in enumerate(zip(ls.ids, ls.names, ls.colors)):
        x, y = k // rows, rows - 1 - k % rows
        alpha = 1.0 if i in keep else 0.25
        ax.add_patch(_swatch(x, y, np.asarray(colour) / 255, alpha))
        ax.text(x + 0.17, y + 0.4, f"{i:3d} {name}", va="center", fontsize=7.5, alpha=max(alpha, 0.5),
                fontweight="bold" if i in keep else "normal")
    ax.set_xlim(0, columns)
    ax.set_ylim(0, rows)
    ax.set_axis_off()
    title = f"{ls.name} label ids" + (f" (bold: the {highlight} subset)" if highlight else "")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def _swatch(x: float, y: float, colour, alpha: float):
    return Rectangle((x + 0.02, y + 0.1), 0.12, 0.6, facecolor=colour, edgecolor="k", lw=0.3,
                     alpha=alpha)


# --- SPADE's preprocessing ------------------------------------------------------------

def preprocess_figure(item: dict, load_size: int = 128, crop_size: int = 64,
                      aspect_ratio: float = 2.0) -> Figure:
    """Each preprocessing mode on the photo of ``item``: the resized photo, the crop box in red.

    All panels share one pixel scale, so the sizes can be compared by eye.
    """
    photo = Image.fromarray((_rgb(item["image"]) * 255).round().astype(np.uint8))
    h, w = item["label"].shape
    fig = Figure(figsize=(6.4, 2.9))
    axes = fig.subplots(2, (len(PREPROCESS_MODES) + 2) // 2).ravel()
    axes[0].imshow(np.asarray(photo), extent=(0, w, h, 0))
    axes[0].set_title(f"original {w}x{h}", fontsize=8)
    for ax, mode in zip(axes[1:], PREPROCESS_MODES):
        cfg = DataConfig(preprocess_mode=mode, load_size=load_size, crop_size=crop_size,
                         aspect_ratio=aspect_ratio, flip=False)
        g = plan_geometry(photo.size, cfg, train=False)
        rw, rh = g.resize
        ax.imshow(np.asarray(photo.resize(g.resize, Image.Resampling.BICUBIC)), extent=(0, rw, rh, 0))
        x0, y0, x1, y1 = g.crop or (0, 0, rw, rh)
        ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor="red", lw=2))
        ax.set_title(f"{mode}:\nresize {rw}x{rh} -> {x1 - x0}x{y1 - y0}", fontsize=7.5)
    for ax in axes:
        ax.set_xlim(0, max(w, 2 * load_size))
        ax.set_ylim(max(h, load_size), 0)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"load_size {load_size}, crop_size {crop_size}, aspect_ratio {aspect_ratio} "
                 "(evaluation: centre crop, no flip)", fontsize=10)
    fig.tight_layout()
    return fig


# --- procedural street scenes ----------------------------------------------------------

def nearest_rows(n: int, factor: int) -> torch.Tensor:
    """For each of ``n`` pixels along an axis, the index of the pixel of a ``factor`` times finer grid
    whose centre is nearest (``align_corners=True``: pixel i of n sits at i (factor n - 1) / (n - 1)
    in the fine grid's index units)."""
    if n == 1:
        return torch.zeros(1, dtype=torch.long)
    return torch.round(torch.arange(n, dtype=torch.float64) * (factor * n - 1) / (n - 1)).long()


def resolution_figure(small: dict, large: dict, label_set: str = "synthetic") -> Figure:
    """Photos and labels of one scene rendered at two sizes, a crop of the large photo, and where the
    small label map differs from the large one at the nearest pixel centres."""
    h, w = small["label"].shape
    big_h, big_w = large["label"].shape
    factor = big_h // h
    at_small = large["label"][nearest_rows(h, factor)][:, nearest_rows(w, factor)]  # (h, w)
    differs = (at_small != small["label"]).numpy()
    ch, cw = big_h // 4, big_w // 4  # a quarter-size window of the large render
    fig = Figure(figsize=(8.4, 3.1))
    axes = fig.subplots(2, 3)
    panels = [(_rgb(small["image"]), f"photo {h}x{w} (1x)"),
              (_rgb(large["image"]), f"photo {big_h}x{big_w} ({factor}x), shown smaller"),
              (_rgb(large["image"][:, ch:2 * ch, 2 * cw:3 * cw]), f"{factor}x, a {ch}x{cw} crop (enlarged)"),
              (colorize(small["label"], label_set), "labels 1x"),
              (colorize(large["label"], label_set), f"labels {factor}x"),
              (differs, f"1x label != {factor}x label at its centre ({differs.mean():.1%})")]
    for ax, (img, title) in zip(axes.ravel(), panels):
        ax.imshow(img, cmap="gray_r" if img.ndim == 2 else None, interpolation="nearest")
        ax.set_title(title, fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig


# --- the scene browser (widget) --------------------------------------------------------------

SPLITS = ("train", "val", "test")
BROWSE_SCALES = (1, 2, 4)


def _enlarge(image: np.ndarray, k: int) -> np.ndarray:
    """Repeat every pixel k x k times (nearest neighbour: the pixels stay visible)."""
    return image.repeat(k, axis=0).repeat(k, axis=1)


def browse_panels(split: str = "train", index: int = 0, scale: int = 1, size: tuple[int, int] = (64, 128),
                  seed: int = 0, display_width: int = 512) -> dict:
    """What the scene browser shows: scene ``index`` of the ``split`` of ``SyntheticStreets(size, seed)``
    rendered at ``scale`` times ``size``, as three (H, W, 3) uint8 images ``labels`` (colourised),
    ``photo`` and ``edges`` (the instance-edge channel, white on black), each enlarged by an integer
    factor (pixel repetition) to ``display_width`` pixels when smaller; ``info``, a line of text."""
    h, w = size
    item = SyntheticStreets(size=size, length=index + 1, seed=seed, split=split).render(index, (scale * h, scale * w))
    edges = instance_edges(item["instance"][None, None])[0, 0]  # (H, W) float 0/1
    k = max(1, display_width // (scale * w))
    panels = {"labels": colorize(item["label"], "synthetic"), "photo": to_uint8(item["image"]),
              "edges": np.repeat((edges.numpy() * 255).astype(np.uint8)[..., None], 3, axis=2)}
    ls = get_label_set("synthetic")
    classes = [ls.name_of(int(i)) for i in item["label"].unique()]
    things = int((item["instance"].unique() > 0).sum())
    info = (f"{split} scene {index} at {scale}x ({scale * h}x{scale * w}, shown {k}x{k} per pixel): "
            f"{len(classes)} classes, {things} cars and people with instance ids, "
            f"{int(edges.sum())} edge pixels")
    return {**{name: _enlarge(image, k) for name, image in panels.items()}, "info": info}


def item_browser(length: int = 100, size: tuple[int, int] = (64, 128), seed: int = 0):
    """Browse the procedural street scenes: index slider, split, scale; labels, photo and instance edges.
    Static fallback: :func:`browse_figure`. Needs ipywidgets.

    The returned box has ``.index``, ``.split``, ``.scale`` (the controls), ``.images`` (dict of
    ``ipywidgets.Image``) and ``.info``; setting a control's ``.value`` redraws as using it would.
    """
    import ipywidgets as W
    from PIL import Image as PILImage

    def png(image: np.ndarray) -> bytes:
        buffer = io.BytesIO()
        PILImage.fromarray(image).save(buffer, format="PNG")
        return buffer.getvalue()

    index = W.IntSlider(value=0, min=0, max=length - 1, description="index", continuous_update=False)
    split = W.ToggleButtons(options=list(SPLITS), value="train", description="split")
    scale = W.ToggleButtons(options=[(f"{s}x", s) for s in BROWSE_SCALES], value=1, description="scale")
    info = W.Label()
    images = {name: W.Image(format="png", layout=W.Layout(max_width="none", object_fit="fill"))
              for name in ("labels", "photo", "edges")}

    def update(_=None) -> None:
        panels = browse_panels(split.value, index.value, scale.value, size, seed)
        for name, image in images.items():
            height, width = panels[name].shape[:2]  # shown at exactly this size: no browser rescaling
            image.layout.width, image.layout.height = f"{width}px", f"{height}px"
            image.value = png(panels[name])
        info.value = panels["info"]

    for control in (index, split, scale):
        control.observe(update, names="value")
    box = W.VBox([W.HBox([index, scale]), split, info] + [W.VBox([W.Label(name), images[name]]) for name in images])
    box.index, box.split, box.scale, box.images, box.info, box.update = index, split, scale, images, info, update
    update()
    return box


def browse_figure(items=(("train", 0, 1), ("val", 0, 1), ("test", 0, 1)), size: tuple[int, int] = (64, 128),
                  seed: int = 0) -> Figure:
    """Static version of :func:`item_browser`: one row per (split, index, scale), labels | photo |
    instance edges, nearest-neighbour."""
    fig = Figure(figsize=(8.4, 1.6 * len(items)))
    axes = fig.subplots(len(items), 3, squeeze=False)
    for row, (split, index, scale) in zip(axes, items):
        panels = browse_panels(split, index, scale, size, seed, display_width=1)  # true pixels
        for ax, name in zip(row, ("labels", "photo", "edges")):
            ax.imshow(panels[name], interpolation="nearest")
            ax.set_title(f"{split} {index}, {scale}x: {name}", fontsize=8)
            ax.set_axis_off()
    fig.tight_layout()
    return fig
