"""Tables and figures for notebook 04 (datasets, label sets, the generator's input).

Every function returns text (for checked notebook cells) or a
``matplotlib.figure.Figure`` (displayed as a cell's result); none of them
changes data. The datasets and transforms themselves live in
:mod:`posgen_lib.data`.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from PIL import Image

from ...config import DataConfig
from ...data.labels import colorize, get_label_set
from ...data.transforms import PREPROCESS_MODES, plan_geometry, to_semantics


def _rgb(image: torch.Tensor) -> np.ndarray:
    """(3, H, W) in [-1, 1] -> (H, W, 3) float in [0, 1] for imshow."""
    return ((image.detach().float().cpu().clamp(-1, 1) + 1) / 2).permute(1, 2, 0).numpy()


def _off(axes) -> None:
    for ax in np.ravel(axes):
        ax.set_axis_off()


# --- label sets ---------------------------------------------------------------------

def label_set_summary() -> str:
    """One line per label set: ids, one-hot channels, dontcare, generator input channels."""
    lines = []
    for name in ("cityscapes", "synthetic", "coco_stuff"):
        ls = get_label_set(name)
        dontcare = f"dontcare id {ls.dontcare_id} -> channel {ls.num_classes}" if ls.dontcare_id \
            is not None else "no dontcare"
        lines.append(f"{name:10s} {len(ls.ids):3d} classes in {ls.num_classes} id channels, "
                     f"{dontcare}; semantic_nc with edges = {ls.semantic_channels + 1}")
    return "\n".join(lines)


def train_id_table(names: tuple[str, ...] = ("unlabeled", "ego vehicle", "road", "parking",
                                             "sky", "car", "caravan", "license plate")) -> str:
    """Cityscapes label id, train id, category and instance flag of some classes (cityscapesscripts)."""
    from cityscapesscripts.helpers.labels import name2label

    rows = [f"{'name':14s} {'id':>3s} {'trainId':>7s}  {'category':12s} instances"]
    for name in names:
        lab = name2label[name]
        rows.append(f"{name:14s} {lab.id:3d} {lab.trainId:7d}  {lab.category:12s} {lab.hasInstances}")
    return "\n".join(rows)


def palette_figure(label_set: str = "cityscapes", highlight: str | None = "synthetic",
                   columns: int = 4) -> Figure:
    """Colour swatch, id and name of every class; classes outside ``highlight`` are faded."""
    ls = get_label_set(label_set)
    keep = set(get_label_set(highlight).ids) if highlight else set(ls.ids)
    rows = -(-len(ls.ids) // columns)
    fig = Figure(figsize=(3.0 * columns, 0.32 * rows + 0.6))
    ax = fig.subplots()
    for k, (i, name, colour) in enumerate(zip(ls.ids, ls.names, ls.colors)):
        x, y = k // rows, rows - 1 - k % rows
        alpha = 1.0 if i in keep else 0.25
        ax.add_patch(_swatch(x, y, np.asarray(colour) / 255, alpha))
        ax.text(x + 0.17, y + 0.4, f"{i:3d} {name}", va="center", fontsize=8, alpha=max(alpha, 0.5),
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


# --- the semantic input -------------------------------------------------------------

def semantics_figure(item: dict, label_set: str = "synthetic",
                     classes: tuple[str, ...] = ("road", "car", "person")) -> Figure:
    """Label colours, the one-hot channels of ``classes``, and the instance-edge channel."""
    ls = get_label_set(label_set)
    sem = to_semantics(item["label"], item["instance"], ls)[0]  # (C + 1, H, W)
    panels = [("labels", colorize(item["label"], ls), None)]
    panels += [(f"channel {ls.id_of(c)} ({c})", sem[ls.id_of(c)].numpy(), "gray") for c in classes]
    panels.append((f"channel {sem.shape[0] - 1} (instance edges)", sem[-1].numpy(), "gray"))
    fig = Figure(figsize=(3.2 * len(panels), 2.0))
    axes = fig.subplots(1, len(panels))
    for ax, (title, img, cmap) in zip(axes, panels):
        ax.imshow(img, cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(title, fontsize=9)
    _off(axes)
    fig.tight_layout()
    return fig


# --- SPADE's preprocessing ------------------------------------------------------------

def preprocess_table(size: tuple[int, int] = (2048, 1024), load_size: int = 512,
                     crop_size: int = 256, aspect_ratio: float = 2.0) -> str:
    """For a (width, height) photo: the size after each mode's resize and its output size."""
    lines = [f"photo {size[0]}x{size[1]}, load_size {load_size}, crop_size {crop_size}, "
             f"aspect_ratio {aspect_ratio} (sizes are WxH)"]
    for mode in PREPROCESS_MODES:
        cfg = DataConfig(preprocess_mode=mode, load_size=load_size, crop_size=crop_size,
                         aspect_ratio=aspect_ratio, flip=False)
        g = plan_geometry(size, cfg, train=False)
        out = (g.crop[2] - g.crop[0], g.crop[3] - g.crop[1]) if g.crop else g.resize
        resized = f"{g.resize[0]}x{g.resize[1]}"
        lines.append(f"{mode:25s} resize to {resized:10s} -> output {out[0]}x{out[1]}")
    return "\n".join(lines)


def preprocess_figure(item: dict, load_size: int = 128, crop_size: int = 64,
                      aspect_ratio: float = 2.0) -> Figure:
    """Each preprocessing mode on the photo of ``item``: the resized photo, the crop box in red.

    All panels share one pixel scale, so the sizes can be compared by eye.
    """
    photo = Image.fromarray((_rgb(item["image"]) * 255).round().astype(np.uint8))
    h, w = item["label"].shape
    fig = Figure(figsize=(10, 4.4))
    axes = fig.subplots(2, (len(PREPROCESS_MODES) + 2) // 2).ravel()
    axes[0].imshow(np.asarray(photo), extent=(0, w, h, 0))
    axes[0].set_title(f"original {w}x{h}", fontsize=9)
    for ax, mode in zip(axes[1:], PREPROCESS_MODES):
        cfg = DataConfig(preprocess_mode=mode, load_size=load_size, crop_size=crop_size,
                         aspect_ratio=aspect_ratio, flip=False)
        g = plan_geometry(photo.size, cfg, train=False)
        rw, rh = g.resize
        ax.imshow(np.asarray(photo.resize(g.resize, Image.Resampling.BICUBIC)), extent=(0, rw, rh, 0))
        x0, y0, x1, y1 = g.crop or (0, 0, rw, rh)
        ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor="red", lw=2))
        ax.set_title(f"{mode}\nresize {rw}x{rh} -> {x1 - x0}x{y1 - y0}", fontsize=9)
    for ax in axes:
        ax.set_xlim(0, max(w, 2 * load_size))
        ax.set_ylim(max(h, load_size), 0)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"load_size {load_size}, crop_size {crop_size}, aspect_ratio {aspect_ratio} "
                 "(evaluation: centre crop, no flip)", fontsize=10)
    fig.tight_layout()
    return fig


# --- folders ----------------------------------------------------------------------------

def tree_listing(root: str | Path) -> str:
    """The files under ``root``, one per line, relative to it and sorted."""
    root = Path(root)
    return "\n".join(p.relative_to(root).as_posix() for p in sorted(root.rglob("*")) if p.is_file())


# --- procedural street scenes ----------------------------------------------------------

def scene_gallery(dataset, n: int = 4, columns: int = 2) -> Figure:
    """``n`` scenes of ``dataset``, each as colourised labels above the photo."""
    rows = -(-n // columns)
    fig = Figure(figsize=(4.2 * columns, 4.0 * rows))
    axes = fig.subplots(2 * rows, columns, squeeze=False)
    for k in range(n):
        item, r, c = dataset[k], 2 * (k // columns), k % columns
        axes[r, c].imshow(colorize(item["label"], dataset_label_set(dataset)), interpolation="nearest")
        axes[r + 1, c].imshow(_rgb(item["image"]), interpolation="nearest")
        axes[r, c].set_title(f"scene {k}", fontsize=9)
    _off(axes)
    fig.tight_layout()
    return fig


def dataset_label_set(dataset) -> str:
    """The label set of a dataset object (the synthetic streets use ``synthetic``)."""
    return getattr(dataset, "label_set", "synthetic")


def block_mode(label: np.ndarray, factor: int) -> np.ndarray:
    """(H, W) ids -> (H / factor, W / factor): the most frequent id of each factor x factor block."""
    h, w = label.shape
    blocks = label.reshape(h // factor, factor, w // factor, factor).transpose(0, 2, 1, 3)
    blocks = blocks.reshape(h // factor, w // factor, factor * factor)  # (h', w', f*f)
    ids = np.unique(blocks)
    counts = (blocks[..., None] == ids).sum(axis=2)  # (h', w', distinct ids); ties -> smaller id
    return ids[counts.argmax(axis=-1)]


def label_agreement(dataset, indices, factor: int = 4) -> float:
    """Fraction of 1x pixels whose label is the mode of its block in the ``factor``x render."""
    agree = total = 0
    h, w = dataset.size
    for i in indices:
        small = dataset[i]["label"].numpy()
        large = dataset.render(i, size=(factor * h, factor * w))["label"].numpy()
        agree += int((block_mode(large, factor) == small).sum())
        total += small.size
    return agree / total


def resolution_figure(dataset, index: int = 0, factor: int = 4) -> Figure:
    """Scene ``index`` at 1x and ``factor``x (photo and labels) and where their labels disagree."""
    h, w = dataset.size
    small, large = dataset[index], dataset.render(index, size=(factor * h, factor * w))
    ls = dataset_label_set(dataset)
    differs = block_mode(large["label"].numpy(), factor) != small["label"].numpy()
    ch, cw = factor * h // 4, factor * w // 4  # a quarter-size window of the large render
    fig = Figure(figsize=(13, 4.4))
    axes = fig.subplots(2, 3)
    panels = [(_rgb(small["image"]), f"photo {h}x{w} (1x)"),
              (_rgb(large["image"]), f"photo {factor * h}x{factor * w} ({factor}x)"),
              (_rgb(large["image"][:, ch:2 * ch, 2 * cw:3 * cw]), f"{factor}x detail (a crop)"),
              (colorize(small["label"], ls), "labels 1x"),
              (colorize(large["label"], ls), f"labels {factor}x"),
              (differs, f"1x label != mode of {factor}x{factor} block ({differs.mean():.1%})")]
    for ax, (img, title) in zip(axes.ravel(), panels):
        ax.imshow(img, cmap="gray_r" if img.ndim == 2 else None, interpolation="nearest")
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig


def lane_marks(item: dict, threshold: float = 0.6) -> torch.Tensor:
    """(H, W) bool: road pixels brighter than ``threshold`` in every channel (the painted marks)."""
    road = item["label"] == get_label_set("synthetic").id_of("road")
    bright = ((item["image"] + 1) / 2).min(dim=0).values > threshold
    return road & bright


def lane_marks_figure(dataset, index: int = 0, factor: int = 4) -> Figure:
    """The lower half of a scene at ``factor``x: labels (one road class), photo, and the marks."""
    h, w = dataset.size
    item = dataset.render(index, size=(factor * h, factor * w))
    half = slice(factor * h // 2, None)
    marks = lane_marks(item)
    road = int((item["label"] == get_label_set("synthetic").id_of("road")).sum())
    fig = Figure(figsize=(13, 2.4))
    axes = fig.subplots(1, 3)
    axes[0].imshow(colorize(item["label"][half], dataset_label_set(dataset)), interpolation="nearest")
    axes[0].set_title("labels: the road is one class", fontsize=9)
    axes[1].imshow(_rgb(item["image"][:, half]), interpolation="nearest")
    axes[1].set_title("photo: dashed and solid lane marks", fontsize=9)
    axes[2].imshow(marks[half].numpy(), cmap="gray_r", interpolation="nearest")
    axes[2].set_title(f"bright road pixels ({int(marks.sum()) / max(1, road):.1%} of the road)",
                      fontsize=9)
    _off(axes)
    fig.tight_layout()
    return fig
