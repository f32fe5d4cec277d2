"""Images as arrays: tensor -> uint8, PNG files, sample grids (numpy and PIL only, no matplotlib)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..data.labels import colorize
from ..records import atomic_write


def to_uint8(image: torch.Tensor) -> np.ndarray:
    """(3, H, W) in [-1, 1] -> (H, W, 3) uint8."""
    arr = ((image.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().byte()
    return arr.permute(1, 2, 0).numpy()


def image_format(path: str | Path) -> str:
    """PIL's format name for the suffix of ``path`` (``.png`` -> ``PNG``); ValueError for an unknown suffix."""
    suffix = Path(path).suffix.lower()
    formats = Image.registered_extensions()
    if suffix not in formats:
        raise ValueError(f"{path}: unknown image file type {suffix or '(no suffix)'!r}; name it like out.png")
    return formats[suffix]


def save_png(array: np.ndarray, path: str | Path) -> Path:
    """Write a uint8 image array atomically (:func:`~posgen_lib.records.atomic_write`), in the format its
    suffix names (PNG for ``.png``): an interrupted write never leaves a partial or empty file."""
    image, fmt = Image.fromarray(array), image_format(path)
    return atomic_write(path, lambda f: image.save(f, format=fmt))


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


def as_rgb(image, label_set="synthetic") -> np.ndarray:
    """(H, W, 3) uint8 from a uint8 array, a (3, H, W) or (1, 3, H, W) tensor in [-1, 1],
    or an (H, W) integer label map (colourised)."""
    if isinstance(image, torch.Tensor):
        if image.dim() == 2:
            return colorize(image, label_set)
        return to_uint8(image[0] if image.dim() == 4 else image)
    return np.asarray(image)
