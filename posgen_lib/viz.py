"""Pictures: image conversion, sample grids, loss curves.

Everything returns numpy arrays or matplotlib figures and can save a PNG, so
the same function serves the trainer (files on disk), the CLI and notebooks.
Figures are built with ``matplotlib.figure.Figure`` (no pyplot state), so they
work under any backend. A bare ``Figure`` has no image representation of its
own (pyplot's inline backend normally adds one), so importing posgen_lib in
IPython registers a PNG formatter for it (:func:`register_notebook_display`):
a figure returned as a cell's result, or passed to :func:`show`, is drawn.
"""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure
from PIL import Image

from .data.labels import colorize


def to_uint8(image: torch.Tensor) -> np.ndarray:
    """(3, H, W) in [-1, 1] -> (H, W, 3) uint8."""
    arr = ((image.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().byte()
    return arr.permute(1, 2, 0).numpy()


def save_png(array: np.ndarray, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return path


def _pad_to(arr: np.ndarray, height: int, width: int) -> np.ndarray:
    out = np.full((height, width, 3), 255, np.uint8)
    out[: arr.shape[0], : arr.shape[1]] = arr
    return out


def tile(rows: list[list[np.ndarray]], gap: int = 2) -> np.ndarray:
    """Arrange uint8 RGB arrays in a grid (white gaps); cells may differ in size."""
    heights = [max(a.shape[0] for a in row) for row in rows]
    widths = [max(row[c].shape[1] for row in rows if c < len(row))
              for c in range(max(len(r) for r in rows))]
    lines = []
    for row, h in zip(rows, heights):
        cells = [_pad_to(a, h, widths[c]) for c, a in enumerate(row)]
        cells += [_pad_to(np.zeros((0, 0, 3), np.uint8), h, w) for w in widths[len(row):]]
        spacer = np.full((h, gap, 3), 255, np.uint8)
        lines.append(np.concatenate([x for c in cells for x in (c, spacer)][:-1], axis=1))
    spacer = np.full((gap, lines[0].shape[1], 3), 255, np.uint8)
    return np.concatenate([x for line in lines for x in (line, spacer)][:-1], axis=0)


def sample_grid(labels: torch.Tensor, reals: torch.Tensor | None, fakes: list[torch.Tensor],
                label_set="synthetic") -> np.ndarray:
    """One row per sample: colourised label | real photo | each generated image.

    ``labels`` (B, H, W) ids; ``reals`` (B, 3, H, W) or None; ``fakes`` a list of
    (B, 3, h, w) batches (any size, e.g. 1x and 4x renders).
    """
    rows = []
    for i in range(labels.shape[0]):
        row = [colorize(labels[i], label_set)]
        if reals is not None:
            row.append(to_uint8(reals[i]))
        row += [to_uint8(f[i]) for f in fakes]
        rows.append(row)
    return tile(rows)


def read_log(path: str | Path) -> list[dict]:
    """Rows of a JSON-lines training log."""
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


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
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110)
    return fig


def figure_png(fig: Figure, dpi: int = 100) -> bytes:
    """PNG file contents of a figure (tight bounding box)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


def register_notebook_display() -> bool:
    """Make IPython draw ``Figure`` results as PNG; False outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    shell.display_formatter.formatters["image/png"].for_type(Figure, figure_png)
    return True


def show(*figures: Figure) -> None:
    """Display figures in a notebook (or do nothing outside IPython)."""
    if register_notebook_display():
        from IPython.display import display

        display(*figures)
