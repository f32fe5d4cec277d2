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

``labels=``: the same scene's label map at a higher resolution than ``sem``,
for generators that read the label map at the output resolution
(``G.reads_labels``, the any-resolution PosGen): semantics through
:func:`posgen_lib.data.to_semantics`, or a :class:`LabelMap` (ids, for large
maps: the semantics of a band are built when the band needs them). It shows
the same frame as ``sem`` at a common scale s >= 1 (:func:`~posgen_lib.grid.is_scaled_size`:
128x256 or 106x211 for 32x64 labels, not a stretched 256x256), whatever the
output size and window: each output pixel takes the nearest label pixel.
Without it those generators read ``sem`` itself, nearest upsampled. Other
generators refuse it (they could not use it), and so does a label map of
another frame. (:func:`~posgen_lib.rendering.upscale`'s image-space methods
need it at the output size itself, the case s = the output's scale.)

Requests above :data:`MAX_OUTPUT_PIXELS` per image are refused before anything
is allocated; render a window instead, or pass a larger ``max_output_pixels``.
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import torch

from ..data.labels import get_label_set
from ..data.transforms import instance_edges, to_semantics
from ..grid import FULL_WINDOW, coordinate_grid, is_scaled_size, output_size, pixel_spacing, sample_at
from ..models.interface import Generator, NoiseSeed, PixelQuery, not_any_size

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


def check_semantics(G: Generator, sem) -> torch.Tensor:
    """``sem`` as float semantics in ``G``'s dtype, or a ValueError that names what it is instead
    (label ids, a wrong number of channels)."""
    if not isinstance(sem, torch.Tensor) or sem.dim() != 4:
        raise ValueError(f"sem must be semantics (B, S, H, W) from pg.data.to_semantics, got "
                         f"{tuple(sem.shape) if isinstance(sem, torch.Tensor) else type(sem).__name__}")
    if not sem.is_floating_point():
        raise ValueError(f"sem is a {sem.dtype} tensor, but semantics are float one-hot maps; pass label ids "
                         "through pg.data.to_semantics(label, instance, label_set) first")
    if sem.shape[1] != G.cfg.semantic_nc:
        raise ValueError(f"sem has {sem.shape[1]} channels, but the {G.kind} generator reads "
                         f"{G.cfg.semantic_nc}; build it with pg.data.to_semantics for the model's label set")
    return sem.to(next(G.parameters()).dtype)


@dataclass
class LabelMap:
    """A label map kept as ids, not one-hot semantics (``labels=`` of :func:`render`).

    The band loop builds the semantics of only the pixels it samples (:meth:`at`),
    so a 4096x4096 map costs a float plane of ids (and one of instance edges, when
    there is an instance map), 64 MiB each, instead of a one-hot plane per class
    (over 2 GiB for Cityscapes' 35 classes). ``ids`` (B, 1, H, W) float label ids
    (exact below 2^24); ``edges`` (B, 1, H, W) instance edges or None (then the
    edge channel is zero, as :func:`to_semantics` makes it without instances).
    """

    ids: torch.Tensor
    edges: torch.Tensor | None
    label_set: str
    use_instance: bool

    @classmethod
    def from_ids(cls, label: torch.Tensor, instance: torch.Tensor | None, label_set: str,
                 use_instance: bool) -> "LabelMap":
        """From (H, W) integer label ids and instance ids (or None), as :func:`to_semantics` takes them."""
        edges = instance_edges(instance[None, None]) if use_instance and instance is not None else None
        return cls(label[None, None].float(), edges, label_set, use_instance)

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """(B, S, H, W) of the semantics this map stands for."""
        b, _, h, w = self.ids.shape
        return b, get_label_set(self.label_set).semantic_channels + self.use_instance, h, w

    def at(self, coords: torch.Tensor) -> torch.Tensor:
        """The semantics (B, S, r, W) at pixel centres ``coords`` (2, r, W): the nearest label pixel's."""
        ids = sample_at(self.ids, coords.to(self.ids.dtype), mode="nearest").long()
        sem = to_semantics(ids, None, self.label_set, self.use_instance)
        if self.edges is not None:
            sem[:, -1:] = sample_at(self.edges, coords.to(self.edges.dtype), mode="nearest")
        return sem


def check_labels(labels, sem: torch.Tensor, name: str = "labels=") -> None:
    """ValueError unless ``labels`` (semantics or a :class:`LabelMap`) are semantics of ``sem``'s kind showing
    the same frame at a scale s >= 1 (the module docstring); ``name`` says where they came from."""
    shape = tuple(labels.shape)
    if len(shape) != 4 or shape[:2] != tuple(sem.shape[:2]):
        raise ValueError(f"{name} must be semantics {(sem.shape[0], sem.shape[1], 'H', 'W')} like sem, "
                         f"got {shape}")
    if not is_scaled_size(tuple(sem.shape[-2:]), shape[-2:]):
        (h, w), (height, width) = sem.shape[-2:], shape[-2:]
        raise ValueError(f"{name} is {height}x{width}, which is not the {h}x{w} label map's frame at a scale "
                         f">= 1 (e.g. {4 * h}x{4 * w} at 4x); give the same scene's label map at a higher "
                         "resolution, not a stretched or smaller one")


def labels_at(labels, coords: torch.Tensor) -> torch.Tensor:
    """Semantics of ``labels`` (semantics or a :class:`LabelMap`) at pixel centres ``coords``, nearest."""
    if isinstance(labels, LabelMap):
        return labels.at(coords)
    return sample_at(labels, coords, mode="nearest")


def bands(height: int, width: int, batch: int, max_chunk_pixels: int = DEFAULT_CHUNK_PIXELS) -> Iterator[slice]:
    """Row slices covering ``height`` rows, each band holding at most ``max_chunk_pixels`` pixels of the batch."""
    if max_chunk_pixels < 1:
        raise ValueError(f"max_chunk_pixels={max_chunk_pixels}: must be positive")
    rows_per_band = max(1, max_chunk_pixels // (batch * width))
    for top in range(0, height, rows_per_band):
        yield slice(top, min(top + rows_per_band, height))


@torch.no_grad()
def render(G: Generator, sem: torch.Tensor, scale: float | None = None, size: tuple[int, int] | None = None,
           window=FULL_WINDOW, z: torch.Tensor | None = None, labels: torch.Tensor | LabelMap | None = None,
           max_chunk_pixels: int = DEFAULT_CHUNK_PIXELS,
           max_output_pixels: int = MAX_OUTPUT_PIXELS, noise_seed: NoiseSeed = None,
           texture: float | None = None) -> torch.Tensor:
    """Render ``G`` on semantics ``sem`` (B, S, h, w) at any size -> (B, 3, H, W) in [-1, 1].

    Give ``scale`` (e.g. 2.5, or 0.5) or ``size=(H, W)``; default scale 1.
    ``window`` selects a sub-rectangle; ``labels`` (B, S, H', W') are finer
    semantics (or a :class:`LabelMap`) of the same frame for generators that read them; ``max_chunk_pixels`` bounds the
    band size; requests above ``max_output_pixels`` (per image) are refused.
    ``noise_seed`` picks the noise of a generator with noise inputs or a texture
    branch: one seed for the batch, or one per image (the same seed gives the same
    image at every size and window; default 0). ``texture``
    in [0, 1] is the amplitude of a textured generator's texture (0: its faithful
    base; default: the model's operating point, ``cfg.anyres_texture``).
    """
    if not G.any_size:
        raise TypeError(not_any_size(G))
    sem = check_semantics(G, sem)
    if scale is None and size is None:
        scale = 1.0
    label_size = tuple(sem.shape[-2:])
    height, width = output_size(label_size, scale, size)
    check_output_pixels(height, width, max_output_pixels)
    window = check_window(window)
    if texture is not None and not (G.textured and 0 <= texture <= 1):
        raise ValueError(f"texture={texture!r}: " + ("must be in [0, 1]" if G.textured else
                         f"the {G.kind} generator has no texture branch (an any-resolution model trained with "
                         "one has)"))
    if labels is not None:
        if not G.reads_labels:
            raise ValueError(f"labels=: the {G.kind} generator does not read the label map at the output "
                             "resolution; render without labels=, or use an any-resolution (anyres) model")
        check_labels(labels, sem)

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
            semantics = sem[:, :, rows] if on_label_grid and labels is None else labels_at(hr, coords)
        query = PixelQuery(coords, spacing, rows if on_label_grid else None, semantics, texture, noise_seed)
        out[:, :, rows] = G.decode(feat, query)
    return out
