"""The upscaling comparison picture: one held-out scene, every method, zoomed where upscaling is hard.

Layout (``docs/img/upscaling_4x.png``, ``docs/img/camvid_upscaling_4x.png``)::

    input labels (1x)          ground truth at the scale, crop boxes drawn
    GT crop | method 1 crop | method 2 crop | ...        one row per crop
    ...

The crops are found in the ground truth: on the procedural streets the densest patch
of lane marks and the left edge of the largest car; on CamVid a car's left
edge, a pole, a pedestrian and a road marking (paint brighter than its road). The
scene is the held-out scene (among the first few) where most of them are
visible. :func:`front_figure` draws the distortion-perception plane of the
any-resolution arms; :func:`spectrum_figure` the power spectra.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ..data.labels import colorize, get_label_set
from ..data.transforms import to_semantics
from ..records import save_figure
from ..viz import to_uint8
from .evaluate import generate, scene_seeds
from .metrics import power_spectrum

MARK_CONTRAST = 0.4  # a road marking is this much brighter (in [-1, 1]) than the median of its road
Finder = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], "tuple[int, int] | None"]  # (label, instance, image)


def _marks(label: torch.Tensor, image: torch.Tensor, road: int) -> torch.Tensor:
    """(H, W) bool: road marking pixels, road brighter than the road's median by :data:`MARK_CONTRAST`. Relative,
    because a real photo's paint can be darker than a procedural scene's asphalt: CamVid's road has a median
    of -0.62 and its markings sit near -0.2."""
    on_road = label == road
    brightness = image.mean(0)  # (H, W)
    if not on_road.any():
        return on_road
    return on_road & (brightness > brightness[on_road].median() + MARK_CONTRAST)


def _densest_mark(road: int) -> Finder:
    """The centre of the window (1/24 of the image's height) holding the most road-marking pixels: a painted
    mark, not a lone bright pixel."""
    def find(label, instance, image):
        marks = _marks(label, image, road)
        if not marks.any():
            return None
        window = 2 * (label.shape[0] // 48) + 1
        density = F.avg_pool2d(marks[None, None].float(), window, stride=1, padding=window // 2)[0, 0]  # (H, W)
        row, col = divmod(int(density.argmax()), density.shape[1])
        return row, col
    return find


def _left_edge(cls: int) -> Finder:
    """The left edge of the largest instance of ``cls`` (the class's widest row where there are no instances)."""
    def find(label, instance, image):
        mask = label == cls
        if not mask.any():
            return None
        ids = instance[mask]
        if ids.max() > 0:
            mask = instance == torch.mode(ids).values
        rows = mask.sum(1)
        r = int(rows.argmax())
        return r, int(mask[r].nonzero().min())
    return find


def _centre_of(cls: int) -> Finder:
    """The pixel of ``cls`` nearest its median position."""
    def find(label, instance, image):
        where = (label == cls).nonzero()
        if not len(where):
            return None
        median = where.float().median(0).values
        return tuple(where[(where - median).pow(2).sum(1).argmin()].tolist())
    return find


def crop_finders(label_set: str) -> dict[str, Finder]:
    """What the comparison zooms on, per label set (tiny test presets use the synthetic set)."""
    ls = get_label_set(label_set)
    if ls.name == "camvid":
        return {"car edge": _left_edge(ls.id_of("car")), "pole": _centre_of(ls.id_of("pole")),
                "pedestrian": _centre_of(ls.id_of("pedestrian")), "road marking": _densest_mark(ls.id_of("road"))}
    road, car = ls.id_of("road"), ls.id_of("car")
    return {"lane marks": _densest_mark(road), "car edge": _left_edge(car)}


def pick_scene(scenes_1x, label_set: str = "synthetic", candidates: int = 24) -> int:
    """Index of the scene (among the first ``candidates``) where the most crop kinds are found, ties broken
    by the pixels of the rarest one."""
    finders = crop_finders(label_set)
    best, best_score = 0, -1.0
    for i in range(min(candidates, len(scenes_1x.label))):
        label, instance, image = scenes_1x.label[i], scenes_1x.instance[i], scenes_1x.image[i]
        found = sum(f(label, instance, image) is not None for f in finders.values())
        score = found + min(int((label == int(label.flatten().bincount().argmin())).sum()), 100) / 1000
        if score > best_score:
            best, best_score = i, score
    return best


def _box_around(row: int, col: int, size: int, shape) -> tuple[int, int]:
    """Top-left of a ``size`` square centred on (row, col), kept inside ``shape``."""
    top = min(max(0, row - size // 2), max(0, shape[0] - size))
    left = min(max(0, col - size // 2), max(0, shape[1] - size))
    return top, left


def crop_boxes(label: torch.Tensor, instance: torch.Tensor, image: torch.Tensor, size: int,
               label_set: str = "synthetic") -> dict:
    """``{crop name: (top, left)}`` for ``size`` x ``size`` crops of the ground truth at the output scale
    (a kind that is absent from the scene is centred on the image)."""
    shape = tuple(label.shape)
    boxes = {}
    for name, find in crop_finders(label_set).items():
        where = find(label, instance, image) or (shape[0] // 2, shape[1] // 2)
        boxes[name] = _box_around(*where, size, shape)
    return boxes


def run_title(name: str, method: str) -> str:
    """A short two-line caption for a (generator, method) pair."""
    return f"{name}\n{method.replace('_', ' ')}"


@torch.no_grad()
def comparison_figure(generators: dict, runs: list[tuple[str, str]], cfg, scenes_1x, scenes_hr,
                      index: int, path: str | Path, crop: int = 64, device="cpu",
                      truth: str = "ground truth") -> Path:
    """Render scene ``index`` with every (generator, method) of ``runs`` at ``scenes_hr``'s size; save a PNG.
    ``truth`` names ``scenes_hr``'s images (another name where they are an enlarged photo, not ground truth)."""
    label_set, use_instance = cfg.data.label_set, cfg.model.use_instance
    part = slice(index, index + 1)
    sem = to_semantics(scenes_1x.label[part], scenes_1x.instance[part], label_set, use_instance).to(device)
    sem_hr = to_semantics(scenes_hr.label[part], scenes_hr.instance[part], label_set, use_instance).to(device)
    size = tuple(scenes_hr.label.shape[-2:])
    images = {truth: to_uint8(scenes_hr.image[index])}
    for key, method in runs:
        images[run_title(key, method)] = to_uint8(generate(generators[key], method, sem, size, sem_hr,
                                                                  scene_seeds(index, 1))[0])
    crop = min(crop * max(1, size[0] // 256), size[0])  # the same field of view at 8x as at 4x
    boxes = crop_boxes(scenes_hr.label[index], scenes_hr.instance[index], scenes_hr.image[index], crop, label_set)

    columns = len(images)
    fig = Figure(figsize=(1.6 * columns, 1.6 * len(boxes) + 3.0))
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(1 + len(boxes), columns, height_ratios=[1.9] + [1] * len(boxes))  # top + a row per crop
    half = columns // 2
    top_left, top_right = fig.add_subplot(grid[0, :half]), fig.add_subplot(grid[0, half:])
    top_left.imshow(colorize(scenes_1x.label[index], label_set), interpolation="nearest")
    top_left.set_title(f"input labels, {scenes_1x.label.shape[-2]}x{scenes_1x.label.shape[-1]}", fontsize=9)
    top_right.imshow(images[truth], interpolation="nearest")
    top_right.set_title(f"{truth} at {size[0]}x{size[1]} (crop boxes)", fontsize=9)
    for name, (r, c) in boxes.items():
        top_right.add_patch(Rectangle((c - 0.5, r - 0.5), crop, crop, fill=False, lw=1.5, ec="yellow"))
        top_right.text(c, r - 2, name, color="yellow", fontsize=7, va="bottom")
    for ax in (top_left, top_right):
        ax.set_axis_off()
    for row, (name, (r, c)) in enumerate(boxes.items(), start=1):
        for col, (title, img) in enumerate(images.items()):
            ax = fig.add_subplot(grid[row, col])
            ax.imshow(np.ascontiguousarray(img[r:r + crop, c:c + crop]), interpolation="nearest")
            ax.set_xticks([]), ax.set_yticks([])
            if row == 1:
                ax.set_title(title, fontsize=7)
            if col == 0:
                ax.set_ylabel(name, fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path, dpi=110)


def label_amplitudes(ax, amplitudes: list[tuple[float, float, float]], apart: float = 0.04) -> None:
    """Write "t=..." beside each (t, x, y) point, except where an earlier label already sits within ``apart``
    of the axes' width and height (curves of several weights that coincide would stack their labels)."""
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    placed: list[tuple[float, float]] = []  # labelled points in axes fractions
    for t, x, y in amplitudes:
        u, v = (x - x0) / (x1 - x0), (y - y0) / (y1 - y0)
        if any(abs(u - pu) < apart and abs(v - pv) < apart for pu, pv in placed):
            continue
        placed.append((u, v))
        ax.annotate(f"t={t:g}", (x, y), textcoords="offset points", xytext=(4, 3), fontsize=6)


def front_figure(agg: dict, curves: dict[str, list[tuple[float, str]]], references: dict[str, tuple[str, str]],
                 scale: float = 4.0) -> Figure:
    """The distortion-perception plane at ``scale``: band PSNR against patch-KID (boundary and interior crops
    averaged). ``curves``: one line per label, through the generator keys of (texture amplitude, key) pairs
    rendered by their own method (coordinates_hr), from t = 0, the faithful base, up; ``references``: single
    points ``{label: (generator, method)}``. Bars are the spread over seeds; ``agg`` is
    :func:`posgen_lib.eval.report.aggregate` of the rows."""
    def point(stats: dict):
        if not {"psnr_band", "patch_kid_boundary", "patch_kid_interior"} <= set(stats):
            return None
        kid = [stats[f"patch_kid_{r}"] for r in ("boundary", "interior")]
        return (1000 * (kid[0][0] + kid[1][0]) / 2, 1000 * (kid[0][1] + kid[1][1]) / 2, *stats["psnr_band"])

    fig = Figure(figsize=(6.4, 4.2))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    amplitudes = []  # (t, x, y) of every point on a curve
    for label, keyed in curves.items():
        xs = [(t, point(agg.get((key, "coordinates_hr", scale), {}))) for t, key in keyed]
        xs = [(t, p) for t, p in xs if p is not None]
        if not xs:
            continue
        line = ax.plot([p[0] for _, p in xs], [p[2] for _, p in xs], "-o", ms=4, label=label)[0]
        for t, (x, dx, y, dy) in xs:
            ax.errorbar(x, y, xerr=dx, yerr=dy, fmt="none", ecolor=line.get_color(), capsize=2, lw=0.8)
            amplitudes.append((t, x, y))
    for (label, (name, method)), marker in zip(references.items(), "sD^v"):
        p = point(agg.get((name, method, scale), {}))
        if p is not None:
            ax.errorbar(p[0], p[2], xerr=p[1], yerr=p[3], fmt=marker, color="k", ms=5, capsize=2, label=label)
    label_amplitudes(ax, amplitudes)
    ax.set_xlabel("patch-KID x1e3 (boundary and interior crops; lower is more realistic)")
    ax.set_ylabel("band PSNR dB (higher is more faithful)")
    ax.set_title(f"{scale:g}x: the distortion-perception plane (Blau & Michaeli 2018)", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


SPECTRUM_BATCH = 8  # scenes rendered at a time: 64 scenes at 8x at once held about 12 GB


def mean_power_spectrum(render_batch: Callable[[slice], torch.Tensor], count: int,
                        batch_size: int = SPECTRUM_BATCH) -> torch.Tensor:
    """:func:`power_spectrum` (H, W) of ``count`` images made ``batch_size`` at a time by ``render_batch(slice)``
    ((b, 3, H, W) each): the mean over the batches weighted by their sizes, as if all were made at once."""
    total = None
    for start in range(0, count, batch_size):
        batch = slice(start, min(start + batch_size, count))
        part = power_spectrum(render_batch(batch).cpu()) * (batch.stop - batch.start)
        total = part if total is None else total + part
    return total / count


@torch.no_grad()
def spectrum_figure(generators: dict, name: str, cfg, scenes_at, scales, path: str | Path, device="cpu") -> Path:
    """Power on the horizontal-frequency axis (vertical stripes) of PosGen and the any-resolution model
    ``name`` at 1x and at the largest of ``scales``, against the ground truth's. The mean spectrum over the
    held-out scenes is accumulated :data:`SPECTRUM_BATCH` scenes at a time."""
    label_set, use_instance = cfg.data.label_set, cfg.model.use_instance
    base = scenes_at(1.0)
    count = len(base.label)
    fig = Figure(figsize=(9, 3.2))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 2)
    for ax, scale in zip(axes, (1.0, max(scales))):
        truth = scenes_at(scale)
        size = tuple(truth.label.shape[-2:])

        def semantics(scenes, batch: slice) -> torch.Tensor:  # (b, C, h, w)
            return to_semantics(scenes.label[batch], scenes.instance[batch], label_set, use_instance).to(device)

        seeds = lambda batch: scene_seeds(batch.start, batch.stop - batch.start)  # noqa: E731
        renders = {"ground truth": lambda batch: truth.image[batch],
                   "PosGen coordinates": lambda batch: generate(
                       generators["PosGen"], "coordinates", semantics(base, batch), size, None, seeds(batch)),
                   f"{name} coordinates_hr": lambda batch: generate(
                       generators[name], "coordinates_hr", semantics(base, batch), size, semantics(truth, batch),
                       seeds(batch))}
        for label, render_batch in renders.items():
            spectrum = mean_power_spectrum(render_batch, count)[0, 1:size[1] // 2 + 1]
            ax.semilogy(torch.arange(1, len(spectrum) + 1) / size[1], spectrum, label=label, lw=1)
        ax.set_title(f"{scale:g}x ({size[0]}x{size[1]}): power at zero vertical frequency", fontsize=8)
        ax.set_xlabel("horizontal frequency (cycles per pixel)")
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return save_figure(fig, path, dpi=110)
