"""The upscaling comparison picture: one held-out scene, every method, zoomed on lane marks and a car edge.

Layout (``docs/img/upscaling_4x.png``)::

    input labels (1x)          ground truth at the scale, crop boxes drawn
    GT crop | method 1 crop | method 2 crop | ...        lane marks
    GT crop | method 1 crop | method 2 crop | ...        car edge

The scene is the held-out scene (among the first few) with the most visible car
and lane-mark pixels; the crops are centred on the lane-mark pixel nearest the
camera and on the left edge of the largest car, found in the ground truth.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ..data.labels import colorize, get_label_set
from ..data.transforms import to_semantics
from ..viz import to_uint8
from .evaluate import generate
from .metrics import power_spectrum

MARK_BRIGHTNESS = 0.3  # road pixels brighter than this (in [-1, 1]) are lane marks
ROAD, CAR = (get_label_set("synthetic").id_of(name) for name in ("road", "car"))


def _marks(label: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
    """(H, W) bool: lane-mark pixels (bright road)."""
    return (label == ROAD) & (image.mean(0) > MARK_BRIGHTNESS)


def pick_scene(scenes_1x, candidates: int = 24) -> int:
    """Index of the scene with the most car pixels and lane-mark pixels (each capped)."""
    best, best_score = 0, -1.0
    for i in range(min(candidates, len(scenes_1x.label))):
        cars = int((scenes_1x.label[i] == CAR).sum())
        marks = int(_marks(scenes_1x.label[i], scenes_1x.image[i]).sum())
        score = min(cars, 300) / 300 + min(marks, 30) / 30
        if score > best_score:
            best, best_score = i, score
    return best


def _box_around(row: int, col: int, size: int, shape) -> tuple[int, int]:
    """Top-left of a ``size`` square centred on (row, col), kept inside ``shape``."""
    top = min(max(0, row - size // 2), max(0, shape[0] - size))
    left = min(max(0, col - size // 2), max(0, shape[1] - size))
    return top, left


def crop_boxes(label: torch.Tensor, instance: torch.Tensor, image: torch.Tensor, size: int) -> dict:
    """``{"lane marks": (top, left), "car edge": (top, left)}`` for ``size`` x ``size`` crops."""
    shape = tuple(label.shape)
    boxes = {}
    marks = _marks(label, image).nonzero()
    if len(marks):
        r, c = marks[marks[:, 0].argmax()].tolist()  # the mark nearest the camera (lowest row)
    else:
        r, c = shape[0] - size // 2, shape[1] // 2
    boxes["lane marks"] = _box_around(r, c, size, shape)
    cars = instance[label == CAR]
    if len(cars):
        biggest = torch.mode(cars).values
        rows, cols = (instance == biggest).nonzero(as_tuple=True)
        r, c = int((rows.min() + rows.max()) // 2), int(cols.min())
    else:
        r, c = shape[0] // 2, shape[1] // 2
    boxes["car edge"] = _box_around(r, c, size, shape)
    return boxes


def run_title(name: str, method: str) -> str:
    """A short two-line caption for a (generator, method) pair."""
    return f"{name}\n{method.replace('_', ' ')}"


@torch.no_grad()
def comparison_figure(generators: dict, runs: list[tuple[str, str]], cfg, scenes_1x, scenes_hr,
                      index: int, path: str | Path, crop: int = 64, device="cpu") -> Path:
    """Render scene ``index`` with every (generator, method) of ``runs`` at ``scenes_hr``'s size; save a PNG."""
    label_set, use_instance = cfg.data.label_set, cfg.model.use_instance
    part = slice(index, index + 1)
    sem = to_semantics(scenes_1x.label[part], scenes_1x.instance[part], label_set, use_instance).to(device)
    sem_hr = to_semantics(scenes_hr.label[part], scenes_hr.instance[part], label_set, use_instance).to(device)
    size = tuple(scenes_hr.label.shape[-2:])
    images = {"ground truth": to_uint8(scenes_hr.image[index])}
    for key, method in runs:
        images[run_title(key, method)] = to_uint8(generate(generators[key], method, sem, size, sem_hr)[0])
    crop = min(crop * max(1, size[0] // 256), size[0])  # the same field of view at 8x as at 4x
    boxes = crop_boxes(scenes_hr.label[index], scenes_hr.instance[index], scenes_hr.image[index], crop)

    columns = len(images)
    fig = Figure(figsize=(1.6 * columns, 1.6 * 2 + 3.0))
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(3, columns, height_ratios=[1.9, 1, 1])
    half = columns // 2
    top_left, top_right = fig.add_subplot(grid[0, :half]), fig.add_subplot(grid[0, half:])
    top_left.imshow(colorize(scenes_1x.label[index], label_set), interpolation="nearest")
    top_left.set_title(f"input labels, {scenes_1x.label.shape[-2]}x{scenes_1x.label.shape[-1]}", fontsize=9)
    top_right.imshow(images["ground truth"], interpolation="nearest")
    top_right.set_title(f"ground truth at {size[0]}x{size[1]} (crop boxes)", fontsize=9)
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
    return _save(fig, path, dpi=110)


def _save(fig: Figure, path: str | Path, dpi: int = 100) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    return path


def tradeoff_figure(points: dict, path: str | Path) -> Path:
    """Band PSNR against sharpness and against KID at 4x: ``points = {name: {metric: (mean, spread)}}``
    (the trade-off arms, and bicubic for reference; see :func:`posgen_lib.eval.report.tradeoff_points`)."""
    fig = Figure(figsize=(9, 3.4))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 2)
    for ax, metric, label in ((axes[0], "sharpness", "band sharpness ratio (1 = ground truth)"),
                              (axes[1], "kid", "KID x1e3 (lower is better)")):
        for name, stats in points.items():
            if metric not in stats or "psnr_band" not in stats:
                continue
            scale = 1000 if metric == "kid" else 1
            (x, dx), (y, dy) = stats[metric], stats["psnr_band"]
            marker = "s" if name.startswith("bicubic") else "o"
            ax.errorbar(x * scale, y, xerr=dx * scale, yerr=dy, fmt=marker, capsize=3)
            ax.annotate(name, (x * scale, y), textcoords="offset points", xytext=(5, 4), fontsize=7)
        ax.set_xlabel(label)
        ax.set_ylabel("band PSNR (dB)")
        ax.grid(alpha=0.3)
    fig.suptitle("Any-resolution PosGen at 4x: distortion against perception (Blau & Michaeli 2018)", fontsize=9)
    fig.tight_layout()
    return _save(fig, path, dpi=110)


@torch.no_grad()
def spectrum_figure(generators: dict, name: str, cfg, scenes_at, scales, path: str | Path, device="cpu") -> Path:
    """Power on the horizontal-frequency axis (vertical stripes) of PosGen and the any-resolution model
    ``name`` at 1x and at the largest of ``scales``, against the ground truth's."""
    label_set, use_instance = cfg.data.label_set, cfg.model.use_instance
    base = scenes_at(1.0)
    sem = to_semantics(base.label, base.instance, label_set, use_instance).to(device)
    fig = Figure(figsize=(9, 3.2))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 2)
    for ax, scale in zip(axes, (1.0, max(scales))):
        truth = scenes_at(scale)
        size = tuple(truth.label.shape[-2:])
        sem_hr = to_semantics(truth.label, truth.instance, label_set, use_instance).to(device)
        curves = {"ground truth": truth.image}
        curves["PosGen coordinates"] = generate(generators["PosGen"], "coordinates", sem, size, None).cpu()
        curves[f"{name} coordinates_hr"] = generate(generators[name], "coordinates_hr", sem, size, sem_hr).cpu()
        for label, images in curves.items():
            spectrum = power_spectrum(images)[0, 1:size[1] // 2 + 1]
            ax.semilogy(torch.arange(1, len(spectrum) + 1) / size[1], spectrum, label=label, lw=1)
        ax.set_title(f"{scale:g}x ({size[0]}x{size[1]}): power at zero vertical frequency", fontsize=8)
        ax.set_xlabel("horizontal frequency (cycles per pixel)")
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return _save(fig, path, dpi=110)
