"""Any-resolution, any-window, chunked rendering with PosGen.

The trunk runs once, at the labels' resolution. Its feature map is then
sampled bilinearly at the centres of the requested output pixels (the
``align_corners=True`` convention of :func:`posgen_lib.fourier.coordinate_grid`)
and the per-pixel head is evaluated there, a band of rows at a time::

    f     = G.features(sem)                          (B, C, h, w), once
    for each band of output rows:
        c   = coordinate_grid(size, window)[rows]    (2, r, W)
        f_c = sample_at(f, c)                        (B, C, r, W)
        out[..., rows, :] = head(f_c, c)             (B, 3, r, W)

Working memory is bounded by ``max_chunk_pixels`` (pixels of one band, batch
included), so it does not grow with the output size beyond the output buffer.
At the labels' own size and the full window no resampling happens, so
``render(G, sem)`` equals ``G(sem)`` exactly.

Window ``(x0, y0, x1, y1)``: the first/last output pixel centres in the
labels' coordinate frame ([-1, 1] spans the label map's pixel centres).
Rendering a window at the same pixel spacing as a full render reproduces that
region of the full render.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .fourier import FULL_WINDOW, coordinate_grid, sample_at

DEFAULT_CHUNK_PIXELS = 1 << 13  # pixels per band: one 64x128 image; ~13 MB of head activations for the synthetic preset
DEFAULT_MAX_OUTPUT_PIXELS = 1 << 28  # ~1 GiB of float32 RGB per image


def output_size(label_size: tuple[int, int], scale: float | None = None,
                size: tuple[int, int] | None = None) -> tuple[int, int]:
    """The (H, W) of a render: ``size`` itself, or the label size times ``scale`` (rounded)."""
    if (scale is None) == (size is None):
        raise ValueError("give exactly one of scale= or size=")
    if size is not None:
        h, w = (int(v) for v in size)
    else:
        if not scale > 0:
            raise ValueError(f"scale={scale}: must be positive")
        h, w = round(label_size[0] * scale), round(label_size[1] * scale)
    if h < 1 or w < 1:
        raise ValueError(f"output size {h}x{w} is empty; use a larger scale or size")
    return h, w


@torch.no_grad()
def render(G, sem: torch.Tensor, scale: float | None = None, size: tuple[int, int] | None = None,
           window=FULL_WINDOW, z: torch.Tensor | None = None,
           max_chunk_pixels: int = DEFAULT_CHUNK_PIXELS,
           max_output_pixels: int = DEFAULT_MAX_OUTPUT_PIXELS) -> torch.Tensor:
    """Render PosGen ``G`` on semantics ``sem`` (B, C, h, w) at any size -> (B, 3, H, W) in [-1, 1].

    Give ``scale`` (e.g. 2.5, or 0.5) or ``size=(H, W)``; default scale 1.
    ``window`` selects a sub-rectangle; ``max_chunk_pixels`` bounds the band
    size; requests above ``max_output_pixels`` (per image) are refused.
    """
    if not hasattr(G, "pixel_head"):
        raise TypeError(f"render() needs a PosGenGenerator (per-pixel head), got {type(G).__name__}; "
                        "for the SPADE baseline use posgen_lib.render.upscale")
    if scale is None and size is None:
        scale = 1.0
    label_size = tuple(sem.shape[-2:])
    height, width = output_size(label_size, scale, size)
    if height * width > max_output_pixels:
        raise ValueError(
            f"requested output {height}x{width} = {height * width:,} pixels per image exceeds "
            f"max_output_pixels={max_output_pixels:,}; render a window instead, or raise the limit")
    if max_chunk_pixels < 1:
        raise ValueError(f"max_chunk_pixels={max_chunk_pixels}: must be positive")

    feat = G.features(sem, z)  # (B, C, h, w)
    batch = feat.shape[0]
    head = G.pixel_head
    dtype = torch.promote_types(feat.dtype, torch.float32)
    out = torch.empty(batch, 3, height, width, device=feat.device, dtype=feat.dtype)
    identity = (height, width) == label_size and tuple(window) == FULL_WINDOW
    rows_per_band = max(1, max_chunk_pixels // (batch * width))
    for top in range(0, height, rows_per_band):
        rows = slice(top, min(top + rows_per_band, height))
        band_coords = coordinate_grid((height, width), window, feat.device, dtype, rows)  # (2, r, W)
        band_feat = feat[:, :, rows] if identity else sample_at(feat, band_coords)  # (B, C, r, W)
        out[:, :, rows] = head(band_feat, band_coords)
    return out


@torch.no_grad()
def upscale(G, sem: torch.Tensor, scale: float | None = None, size: tuple[int, int] | None = None,
            method: str = "coordinates", z: torch.Tensor | None = None, **render_kwargs) -> torch.Tensor:
    """Produce a (B, 3, H, W) image above the labels' resolution by one of the compared methods.

    ``method``:
      * ``"coordinates"`` -- PosGen's own: trunk at 1x, head on the enlarged grid (:func:`render`).
      * ``"bicubic"`` -- the generator's 1x output, bicubically resized (any generator).
      * ``"labels"`` -- the generator run on nearest-upsampled labels: its trunk works at
        the output resolution (SPADE's only way to a larger output; needs sizes divisible by 2^k).
      * ``"label_guided"`` -- PosGen with each output pixel sampling only features of its own
        class (:mod:`posgen_lib.guided`); ``guide=`` semantics at the output size, if given.
    """
    height, width = output_size(tuple(sem.shape[-2:]), scale, size)
    if method == "coordinates":
        return render(G, sem, size=(height, width), z=z, **render_kwargs)
    if method == "bicubic":
        return F.interpolate(G(sem, z), size=(height, width), mode="bicubic",
                             align_corners=True).clamp(-1, 1)
    if method == "labels":
        return G(F.interpolate(sem, size=(height, width), mode="nearest"), z)
    if method == "label_guided":
        from .guided import render_label_guided

        return render_label_guided(G, sem, (height, width), z=z, **render_kwargs)
    raise ValueError(f"unknown method {method!r}: choose coordinates, bicubic, labels or label_guided")
