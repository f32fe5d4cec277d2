"""Any-resolution, any-window, chunked rendering: the one band loop.

A generator with a per-pixel decoder (``G.any_size``, see
:class:`~posgen_lib.models.interface.Generator`) runs its trunk once, at the
labels' resolution, and then decodes the requested output pixels a band of
rows at a time::

    f     = G.features(sem)                          (B, C, h, w), once
    for rows in bands(H, W):                         the one band loop (:func:`bands`)
        c   = coordinate_grid((H, W), window)[rows]  (2, r, W) pixel centres in the labels' frame
        out[..., rows, :] = G.decode(f, PixelQuery(c, spacing, semantics at c))

Working memory is bounded by ``max_chunk_pixels`` (pixels of one band, batch
included), so it does not grow with the output size beyond the output buffer.
At the labels' own size and the full window no resampling happens, so
``render(G, sem)`` equals ``G(sem)`` exactly.

Window ``(x0, y0, x1, y1)``: the first/last output pixel centres in the
labels' coordinate frame ([-1, 1] spans the label map's pixel centres).
Rendering a window at the same pixel spacing as a full render reproduces that
region of the full render.

``labels=``: semantics at a higher resolution than ``sem`` (the same scene's
label map at, say, 4x, through :func:`posgen_lib.data.to_semantics`), for
generators that read the label map at the output resolution
(``G.reads_labels``, the any-resolution PosGen). Each output pixel takes the
nearest label pixel. Without it those generators read ``sem`` itself, nearest
upsampled. Other generators refuse it (they could not use it).

Requests above :data:`MAX_OUTPUT_PIXELS` per image are refused before anything
is allocated; render a window instead, or pass a larger ``max_output_pixels``.
"""
from __future__ import annotations

import math
from collections.abc import Iterator

import torch

from ..grid import FULL_WINDOW, coordinate_grid, output_size, pixel_spacing, sample_at
from ..models.interface import Generator, PixelQuery, not_any_size

DEFAULT_CHUNK_PIXELS = 1 << 13  # pixels per band: one 64x128 image; ~13 MB of head activations for the synthetic preset
MAX_OUTPUT_PIXELS = 1 << 26  # per image: 8192 x 8192, 768 MiB of float32 RGB


def check_window(window) -> tuple[float, float, float, float]:
    """``window`` as four floats, or ValueError: finite, inside [-1, 1], positive width and height."""
    try:
        x0, y0, x1, y1 = (float(v) for v in window)
    except (TypeError, ValueError):
        raise ValueError(f"window={window!r}: expected four numbers (x0, y0, x1, y1)") from None
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)):
        raise ValueError(f"window={window!r}: every coordinate must be finite")
    if not all(-1 <= v <= 1 for v in (x0, y0, x1, y1)):
        raise ValueError(f"window={window!r}: coordinates must lie in [-1, 1] (the label map's extent)")
    if not (x1 > x0 and y1 > y0):
        raise ValueError(f"window={window!r}: needs x1 > x0 and y1 > y0 (a region of positive size)")
    return x0, y0, x1, y1


def check_output_pixels(height: int, width: int, limit: int = MAX_OUTPUT_PIXELS) -> None:
    """Refuse an output of more than ``limit`` pixels per image, before anything is allocated."""
    if height * width > limit:
        raise ValueError(f"requested output {height}x{width} = {height * width:,} pixels per image exceeds "
                         f"the limit of {limit:,} (max_output_pixels); render a window instead, or raise "
                         "the limit")


def bands(height: int, width: int, batch: int, max_chunk_pixels: int = DEFAULT_CHUNK_PIXELS) -> Iterator[slice]:
    """Row slices covering ``height`` rows, each band holding at most ``max_chunk_pixels`` pixels of the batch."""
    if max_chunk_pixels < 1:
        raise ValueError(f"max_chunk_pixels={max_chunk_pixels}: must be positive")
    rows_per_band = max(1, max_chunk_pixels // (batch * width))
    for top in range(0, height, rows_per_band):
        yield slice(top, min(top + rows_per_band, height))


@torch.no_grad()
def render(G: Generator, sem: torch.Tensor, scale: float | None = None, size: tuple[int, int] | None = None,
           window=FULL_WINDOW, z: torch.Tensor | None = None, labels: torch.Tensor | None = None,
           max_chunk_pixels: int = DEFAULT_CHUNK_PIXELS,
           max_output_pixels: int = MAX_OUTPUT_PIXELS, noise_seed: int | None = None) -> torch.Tensor:
    """Render ``G`` on semantics ``sem`` (B, S, h, w) at any size -> (B, 3, H, W) in [-1, 1].

    Give ``scale`` (e.g. 2.5, or 0.5) or ``size=(H, W)``; default scale 1.
    ``window`` selects a sub-rectangle; ``labels`` (B, S, H', W') are finer
    semantics for generators that read them; ``max_chunk_pixels`` bounds the
    band size; requests above ``max_output_pixels`` (per image) are refused.
    ``noise_seed`` picks the noise maps of a generator with noise inputs (the same
    seed gives the same image at every size and window; default 0).
    """
    if not G.any_size:
        raise TypeError(not_any_size(G))
    if scale is None and size is None:
        scale = 1.0
    label_size = tuple(sem.shape[-2:])
    height, width = output_size(label_size, scale, size)
    check_output_pixels(height, width, max_output_pixels)
    window = check_window(window)
    if labels is not None:
        if not G.reads_labels:
            raise ValueError(f"labels=: the {G.kind} generator does not read the label map at the output "
                             "resolution; render without labels=, or use an any-resolution (anyres) model")
        if labels.dim() != 4 or labels.shape[:2] != sem.shape[:2]:
            raise ValueError(f"labels= must be semantics {(sem.shape[0], sem.shape[1], 'H', 'W')} like sem, "
                             f"got {tuple(labels.shape)}")

    feat = G.features(sem, z, noise_seed)  # (B, C, h, w)
    batch = feat.shape[0]
    dtype = torch.promote_types(feat.dtype, torch.float32)
    spacing = pixel_spacing(label_size, (height, width), window)
    on_label_grid = (height, width) == label_size and window == FULL_WINDOW
    hr = labels if labels is not None else sem
    out = torch.empty(batch, 3, height, width, device=feat.device, dtype=feat.dtype)
    for rows in bands(height, width, batch, max_chunk_pixels):
        coords = coordinate_grid((height, width), window, feat.device, dtype, rows)  # (2, r, W)
        semantics = None
        if G.reads_labels:
            semantics = sem[:, :, rows] if on_label_grid and labels is None else sample_at(hr, coords, mode="nearest")
        query = PixelQuery(coords, spacing, rows if on_label_grid else None, semantics)
        out[:, :, rows] = G.decode(feat, query)
    return out
