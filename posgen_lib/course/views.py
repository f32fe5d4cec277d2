"""Pure functions behind the interactive widgets, and their static figures.

Everything here works on a *scene*: a dict with ``label`` (h, w) int64 label ids
and optionally ``instance`` (h, w) int64, e.g. an item of
:class:`~posgen_lib.data.SyntheticStreets`. Windows and boxes use the course's
coordinate frame (docs/architecture.md, *The model contract*): ``(x0, y0, x1, y1)`` in [-1, 1], where
-1 and 1 are the centres of the first and last label pixels.

* Any images in a row: :func:`row_figure` (label maps are colourised).
* Resolution: :func:`render_rgb` at any scale, :class:`ScaleCache` (an LRU of
  renders keyed by scale), :func:`resolution_figure`.
* Zoom: :func:`zoom_window` (centre + zoom factor -> window),
  :func:`label_window` (nearest-neighbour labels of a window at any size),
  :func:`zoom_figure`.
* Label editing: :func:`edit_labels`, :func:`edit_instances`, :func:`edit_figure`.

:mod:`posgen_lib.course.widgets` wraps these in ipywidgets; the figures are the
static fallbacks shown in rendered notebooks (matplotlib ``Figure``, no pyplot).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
from matplotlib.figure import Figure

from ..data.labels import colorize, get_label_set
from ..data.transforms import to_semantics
from ..models.fourier import FULL_WINDOW, coordinate_grid
from ..rendering.render import render
from ..viz import to_uint8
from ..viz.figures import show_image

SCALES = (0.5, 1, 1.5, 2, 3.3, 4)


def labels_at(G, dataset, index: int, label_set="synthetic"):
    """``scale -> semantics`` of scene ``index`` of a dataset that renders at any size (the synthetic streets)."""
    h, w = dataset.size

    def at(scale: float) -> torch.Tensor:
        scene = dataset.render(index, size=(round(h * scale), round(w * scale)))
        return semantics(G, scene, label_set)

    return at


def semantics(G, scene: dict, label_set="synthetic") -> torch.Tensor:
    """The generator input (1, C, h, w) for ``scene``, on ``G``'s device."""
    device = next(G.parameters()).device
    sem = to_semantics(scene["label"], scene.get("instance"), label_set, G.cfg.use_instance)
    return sem.to(device)


def render_rgb(G, sem: torch.Tensor, **render_kwargs) -> np.ndarray:
    """``render(G, sem, ...)`` of the first image as (H, W, 3) uint8."""
    return to_uint8(render(G, sem, **render_kwargs)[0])


class ScaleCache:
    """Renders of one scene keyed by scale (and texture amplitude), least recently used dropped first.

    ``cache(2.5)`` -> (H, W, 3) uint8; ``cache(4, texture=0.5)`` renders a
    textured any-resolution generator at that texture amplitude (None: its
    operating point); ``cache.info()`` gives hits and misses. ``labels_at(scale)``,
    when given, returns the scene's semantics at that scale for generators that
    read the label map at the output resolution (the any-resolution PosGen).
    """

    def __init__(self, G, sem: torch.Tensor, maxsize: int = 8, labels_at=None):
        def one(scale: float, texture: float | None) -> np.ndarray:
            labels = labels_at(scale) if labels_at is not None and G.reads_labels else None
            size = None if labels is None else tuple(labels.shape[-2:])
            return render_rgb(G, sem, scale=None if size else scale, size=size, labels=labels,
                              texture=texture if G.textured else None)

        self.get = lru_cache(maxsize=maxsize)(one)

    def __call__(self, scale: float, texture: float | None = None) -> np.ndarray:
        return self.get(float(scale), None if texture is None else float(texture))

    def info(self):
        return self.get.cache_info()


def resolution_figure(G, scene: dict, scales=SCALES, detail_centre=(0.0, 0.0), detail_zoom: float = 4,
                      label_set="synthetic") -> Figure:
    """One PosGen render per scale (top, titled with its pixel size) and, below, the
    window ``zoom_window(*detail_centre, detail_zoom)`` of it at that scale's own pixel density."""
    sem = semantics(G, scene, label_set)
    cache = ScaleCache(G, sem)
    window = zoom_window(*detail_centre, detail_zoom)
    fig = Figure(figsize=(2.6 * len(scales), 3.6))
    axes = fig.subplots(2, len(scales), squeeze=False)
    for col, scale in enumerate(scales):
        image = cache(scale)
        show_image(axes[0, col], image, f"{scale:g}x: {image.shape[0]}x{image.shape[1]} px")
        size = tuple(max(1, round(n / detail_zoom)) for n in image.shape[:2])
        show_image(axes[1, col], render_rgb(G, sem, size=size, window=window),
                f"detail: {size[0]}x{size[1]} px")
    fig.tight_layout()
    return fig


def zoom_window(cx: float, cy: float, zoom: float) -> tuple[float, float, float, float]:
    """The window of size 2/zoom around (cx, cy), moved inside [-1, 1] if it sticks out."""
    if not zoom >= 1:
        raise ValueError(f"zoom={zoom}: must be at least 1 (1 = the whole image)")
    half = 1.0 / zoom
    cx, cy = (min(max(float(c), -1 + half), 1 - half) for c in (cx, cy))
    return (cx - half, cy - half, cx + half, cy + half)


def label_window(label: torch.Tensor, window=FULL_WINDOW,
                 size: tuple[int, int] | None = None) -> torch.Tensor:
    """Labels (h, w) seen through ``window`` at ``size`` (H, W): nearest label pixel centre."""
    h, w = label.shape[-2:]
    grid = coordinate_grid(size or (h, w), window, dtype=torch.float64)  # (2, H, W)
    cols = ((grid[0] + 1) / 2 * (w - 1)).round().long().clamp(0, w - 1)
    rows = ((grid[1] + 1) / 2 * (h - 1)).round().long().clamp(0, h - 1)
    return label[rows, cols]


def zoom_pair(G, scene: dict, window, size: tuple[int, int], label_set="synthetic"):
    """(colourised labels, PosGen render) of ``window`` at ``size``, both (H, W, 3) uint8."""
    sem = semantics(G, scene, label_set)
    labels = colorize(label_window(scene["label"], window, size), label_set)
    return labels, render_rgb(G, sem, size=size, window=window)


def zoom_figure(G, scene: dict, centre=(0.0, 0.0), zooms=(1, 2, 4, 8), size=(64, 128),
                label_set="synthetic") -> Figure:
    """Labels (top) and PosGen (bottom) for windows ever smaller around ``centre``, all at ``size``."""
    fig = Figure(figsize=(2.6 * len(zooms), 3.4))
    axes = fig.subplots(2, len(zooms), squeeze=False)
    for col, zoom in enumerate(zooms):
        labels, image = zoom_pair(G, scene, zoom_window(*centre, zoom), size, label_set)
        show_image(axes[0, col], labels, f"zoom {zoom:g}x: labels (nearest)")
        show_image(axes[1, col], image, f"PosGen, {size[0]}x{size[1]} px")
    fig.tight_layout()
    return fig


def class_id(value, label_set="synthetic") -> int:
    """A label id from an id or a class name of ``label_set``; ValueError listing the names."""
    ls = get_label_set(label_set)
    if isinstance(value, str):
        if value not in ls.names:
            raise ValueError(f"unknown class {value!r} in label set {ls.name!r}; "
                             f"choose one of: {', '.join(ls.names)}")
        return ls.id_of(value)
    if int(value) not in ls.ids:
        raise ValueError(f"label id {value} is not in label set {ls.name!r} (ids {list(ls.ids)})")
    return int(value)


def box_mask(shape: tuple[int, int], box) -> torch.Tensor:
    """(h, w) bool: pixels whose centres lie in ``box = (x0, y0, x1, y1)`` (edges included)."""
    x0, y0, x1, y1 = (float(v) for v in box)
    grid = coordinate_grid(tuple(shape), dtype=torch.float64)
    eps = 1e-9
    return ((grid[0] >= x0 - eps) & (grid[0] <= x1 + eps)
            & (grid[1] >= y0 - eps) & (grid[1] <= y1 + eps))


def edit_labels(label: torch.Tensor, box, from_class, to_class, label_set="synthetic") -> torch.Tensor:
    """A copy of ``label`` (h, w) where the pixels of class ``from_class`` in ``box`` become ``to_class``.

    Classes are ids or names (``"road"``); ``from_class=None`` repaints every
    pixel of the box (e.g. paint a car rectangle).
    """
    mask = box_mask(label.shape[-2:], box)
    if from_class is not None:
        mask &= label == class_id(from_class, label_set)
    return torch.where(mask, torch.full_like(label, class_id(to_class, label_set)), label)


def edit_instances(instance: torch.Tensor, before: torch.Tensor, after: torch.Tensor,
                   label_set="synthetic") -> torch.Tensor:
    """Instance ids matching an edit: repainted pixels become one new object of their new class
    (id ``class * 1000 + 999``) if that class has instances, else stuff (0)."""
    changed = before != after
    has_instances = torch.isin(after, torch.tensor(get_label_set(label_set).instance_ids, dtype=after.dtype))
    new_ids = torch.where(has_instances, after * 1000 + 999, torch.zeros_like(after))
    return torch.where(changed, new_ids, instance)


def edited_scene(scene: dict, box, from_class, to_class, label_set="synthetic") -> dict:
    """``scene`` with :func:`edit_labels` applied (and its instance map kept consistent)."""
    label = edit_labels(scene["label"], box, from_class, to_class, label_set)
    out = {"label": label}
    if scene.get("instance") is not None:
        out["instance"] = edit_instances(scene["instance"], scene["label"], label, label_set)
    return out


def edit_figure(G, scene: dict, box, from_class, to_class, scale: float = 2,
                label_set="synthetic") -> Figure:
    """Labels and PosGen renders before and after an edit (2 x 2)."""
    after = edited_scene(scene, box, from_class, to_class, label_set)
    fig = Figure(figsize=(8, 4))
    axes = fig.subplots(2, 2)
    what = f"{from_class or 'all'} -> {to_class}"
    for col, (name, sc) in enumerate((("before", scene), (f"after ({what})", after))):
        show_image(axes[0, col], colorize(sc["label"], label_set), f"labels {name}")
        show_image(axes[1, col], render_rgb(G, semantics(G, sc, label_set), scale=scale),
                f"PosGen at {scale:g}x")
    fig.tight_layout()
    return fig
