"""Matplotlib figures the library writes as PNGs: loss curves, rows of images, the synthetic gallery.

Figures are built with ``matplotlib.figure.Figure`` (no pyplot state), so they
work under any backend and in any thread. In notebooks,
:mod:`posgen_lib.course.display` makes a returned figure draw itself.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from ..data.labels import colorize
from ..data.synthetic import SyntheticStreets
from ..records import save_figure
from .images import as_rgb


def plot_losses(rows: list[dict], path: str | Path | None = None, title: str = "training losses"):
    """Loss curves (one panel for G terms, one for D terms) from log rows; saves a PNG if ``path``."""
    steps = [r["step"] for r in rows]
    fig = Figure(figsize=(10, 3.2))
    axes = fig.subplots(1, 2)
    for ax, prefix in zip(axes, ("G_", "D_")):
        for key in sorted({k for r in rows for k in r if k.startswith(prefix)}):
            ax.plot(steps, [r.get(key, np.nan) for r in rows], label=key, lw=1.2)
        ax.set_xlabel("step")
        ax.set_title(("generator" if prefix == "G_" else "discriminator") + " losses")
        if ax.get_legend_handles_labels()[0]:  # a frozen-trunk run may train no discriminator
            ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    if path is not None:
        save_figure(fig, path, dpi=110)
    return fig


def figure_png(fig: Figure, dpi: int = 100) -> bytes:
    """PNG file contents of a figure (tight bounding box), losslessly compacted (:func:`compact_png`)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return compact_png(buffer.getvalue())


def compact_png(png: bytes) -> bytes:
    """The same pixels in fewer bytes: an alpha channel that is opaque everywhere is dropped and the
    file is re-encoded with Pillow's ``optimize`` (about 15% smaller for matplotlib figures; this keeps
    the committed notebooks within their size budget)."""
    image = Image.open(io.BytesIO(png))
    if image.mode == "RGBA" and image.getchannel("A").getextrema() == (255, 255):
        image = image.convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="png", optimize=True)
    return buffer.getvalue() if buffer.tell() < len(png) else png


def show_image(ax, image: np.ndarray, title: str) -> None:
    """``image`` on ``ax`` with pixels visible (nearest), a small title and no axes."""
    ax.imshow(image, interpolation="nearest")
    ax.set_title(title, fontsize=9)
    ax.set_axis_off()


def row_figure(images: dict, label_set="synthetic", height: float = 2.2) -> Figure:
    """``{title: image}`` side by side (see :func:`as_rgb` for the accepted images)."""
    arrays = {title: as_rgb(image, label_set) for title, image in images.items()}
    widths = [a.shape[1] / a.shape[0] * height for a in arrays.values()]
    fig = Figure(figsize=(sum(widths) + 0.2 * len(arrays), height + 0.4))
    for ax, (title, image) in zip(fig.subplots(1, len(arrays), squeeze=False)[0], arrays.items()):
        show_image(ax, image, title)
    fig.tight_layout()
    return fig


def save_gallery(path, n: int = 6, seed: int = 0) -> Path:
    """Write a PNG: n rows of (colourised label | photo) at 64x128, then photos of one scene at 1x and 4x."""
    if n < 1:
        raise ValueError(f"n={n}: the gallery needs at least one scene")
    dataset = SyntheticStreets(size=(64, 128), length=n, seed=seed)
    figure = Figure(figsize=(8, 2.1 * (n + 1)))
    FigureCanvasAgg(figure)
    axes = figure.subplots(n + 1, 2, squeeze=False)
    unit_rgb = lambda image: (image.permute(1, 2, 0).numpy() + 1) / 2  # noqa: E731
    for row in range(n):
        item = dataset[row]
        axes[row, 0].imshow(colorize(item["label"]), interpolation="nearest")
        axes[row, 1].imshow(unit_rgb(item["image"]), interpolation="nearest")
        axes[row, 0].set_title(f"scene {row}: labels", fontsize=8)
        axes[row, 1].set_title(f"scene {row}: photo", fontsize=8)
    axes[n, 0].imshow(unit_rgb(dataset[0]["image"]), interpolation="nearest")
    axes[n, 1].imshow(unit_rgb(dataset.render(0, size=(256, 512))["image"]), interpolation="nearest")
    axes[n, 0].set_title("scene 0 at 64x128 (1x)", fontsize=8)
    axes[n, 1].set_title("scene 0 at 256x512 (4x)", fontsize=8)
    for ax in axes.ravel():
        ax.set_axis_off()
    figure.tight_layout()
    return save_figure(figure, path, dpi=150)


def true_size_figure(image: np.ndarray, title: str, dpi: int = 80) -> Figure:
    """``image`` (H, W[, 3]) drawn at its true pixel size at ``dpi`` (nearest neighbour), with a
    one-line title above it."""
    h, w = image.shape[:2]
    top = 0.3  # inches for the title
    fig = Figure(figsize=(w / dpi, h / dpi + top))
    ax = fig.add_axes((0, 0, 1, h / (h + top * dpi)))
    ax.imshow(image, interpolation="nearest")
    ax.set_axis_off()
    fig.text(0.5, 1 - 0.5 * top / (h / dpi + top), title, ha="center", va="center", fontsize=9)
    return fig
