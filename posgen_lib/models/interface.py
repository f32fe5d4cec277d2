"""The one generator interface that rendering, evaluation, training and the CLI rely on.

Every generator is a :class:`Generator`: a module with a ``cfg``
(:class:`~posgen_lib.config.ModelConfig`, whose ``generator`` field names the
kind) and two stages::

    feat = G.features(sem, z, noise_seed)  (B, C, h, w)   once per image, at the labels' resolution
    img  = G(sem, z)                (B, 3, h, w)   the image at the labels' resolution

Generators that compute every output pixel on its own (``any_size = True``:
PosGen, any-resolution PosGen, the pixel-wise generator) add a third::

    rgb  = G.decode(feat, query)    (B, 3, r, W)   any set of output pixels, described by a PixelQuery

which is all :func:`posgen_lib.rendering.render` needs to render any size,
window or band of rows. The SPADE baseline (a 3x3 conv at the end) has no
``decode``; the upscaling methods that apply to it live in
:mod:`posgen_lib.rendering.methods`.

A :class:`PixelQuery` says where the requested pixels are and what is known
about them: their centres in the labels' coordinate frame (:mod:`posgen_lib.grid`:
``align_corners=True``, -1 and 1 are the centres of the first and last label
pixels), the output pixel spacing in label pixels, and, for generators that
read the label map at the output resolution (``reads_labels = True``), the
semantics at those pixels. For every generator with ``decode``::

    G(sem, z) == G.decode(G.features(sem, z), label_grid_query(feat, sem))

so training may render the 1x image and any other pixels from one trunk pass
through this interface alone (:mod:`posgen_lib.train.anyres`).

The class flags say what a generator can do; callers read them instead of
asking which kind a generator is (docs/architecture.md, *One generator
interface*): ``any_size``, ``reads_labels`` and ``conv_output`` (its image is a
3x3 convolution of ``features``, which the upscaling method
``features_bilinear`` resamples first).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from ..config import ModelConfig
from ..grid import coordinate_grid, sample_at


NoiseSeed = int | Sequence[int] | torch.Tensor | None  # see noise_seeds


def noise_seeds(noise_seed: NoiseSeed, batch: int) -> torch.Tensor:
    """(B,) int64: the noise seed of each image of a batch of ``batch``. ``None`` (0) or an int gives every
    image the same seed, hence the same noise; a sequence or 1-D tensor of ``batch`` ints gives one seed per
    image, so that a set of scenes is rendered with independent noise, as in training (a noise map shared by
    every image would itself be a pattern at the same place in every image), and an image's noise does not
    depend on the batch it is rendered in."""
    if noise_seed is None or isinstance(noise_seed, int):
        return torch.full((batch,), int(noise_seed or 0), dtype=torch.int64)
    seeds = torch.as_tensor(noise_seed).to("cpu", torch.int64)
    if seeds.dim() != 1 or len(seeds) != batch:
        raise ValueError(f"noise_seed: give one int, or one seed per image ({batch}), not shape "
                         f"{tuple(seeds.shape)}")
    return seeds


@dataclass
class PixelQuery:
    """A band of output pixels to decode.

    ``coords`` (2, r, W): pixel centres (x, y) in the labels' frame.
    ``spacing`` (dx, dy): distance between neighbouring output pixels in label
    pixels (1 at the labels' resolution, 1/4 at 4x).
    ``label_rows``: when the pixels are exactly rows ``label_rows`` of the
    label grid (a render at the labels' own size), so no resampling is needed.
    ``semantics`` (B, S, r, W): the semantics at these pixels (one-hot labels and
    instance edges at the output resolution), for generators with ``reads_labels``.
    """

    coords: torch.Tensor
    spacing: tuple[float, float] = (1.0, 1.0)
    label_rows: slice | None = None
    semantics: torch.Tensor | None = None
    texture: float | None = None  # amplitude of a texture branch, in [0, 1] (None: the model's default)
    noise_seed: NoiseSeed = None  # the seed(s) of a texture branch's noise (:func:`noise_seeds`)


class Generator(nn.Module):
    """Base class of every generator; see the module docstring for the contract."""

    kind: ClassVar[str]  # the value of ModelConfig.generator that builds this class
    any_size: ClassVar[bool] = False  # has decode(): renders any size and window pixel by pixel
    reads_labels: ClassVar[bool] = False  # decode() reads the semantics at the output resolution
    conv_output: ClassVar[bool] = False  # the image is tanh(conv_img(features)), a 3x3 conv (the SPADE baseline)
    textured: bool = False  # decode_parts() splits the output into a faithful base and a texture residual

    cfg: ModelConfig

    def features(self, sem: torch.Tensor, z: torch.Tensor | None = None,
                 noise_seed: NoiseSeed = None) -> torch.Tensor:
        """(B, semantic_nc, h, w) semantics -> (B, C, h, w) features at the labels' resolution. A generator
        with noise inputs (``cfg.noise``) draws them from ``noise_seed``, one seed or one per image
        (:func:`noise_seeds`; random while training without one)."""
        raise NotImplementedError

    def decode(self, feat: torch.Tensor, query: PixelQuery) -> torch.Tensor:
        """RGB in [-1, 1] (B, 3, r, W) of the output pixels ``query`` describes."""
        raise TypeError(not_any_size(self))

    def decode_parts(self, feat: torch.Tensor, query: PixelQuery) -> tuple[torch.Tensor, torch.Tensor]:
        """For a ``textured`` generator: (base logits, texture residual), each (B, 3, r, W), with
        ``decode = tanh(base + t * texture)`` for the query's amplitude t."""
        raise TypeError(f"the {self.kind} generator has no texture branch")

    def forward(self, sem: torch.Tensor, z: torch.Tensor | None = None,
                noise_seed: NoiseSeed = None) -> torch.Tensor:
        """(B, semantic_nc, h, w) -> image (B, 3, h, w) in [-1, 1] at the labels' size."""
        raise NotImplementedError


def not_any_size(G: Generator) -> str:
    """Why a generator without a per-pixel decoder cannot render pixels, and what to use instead."""
    return (f"the {G.kind} generator computes its output with a convolution, so it cannot render single "
            "pixels, windows or other sizes; use pg.upscale(G, sem, scale, method=...) with one of the "
            "methods that apply to it (pg.rendering.METHODS)")


def label_grid_query(feat: torch.Tensor, semantics: torch.Tensor | None = None) -> PixelQuery:
    """The query for every pixel of the labels' own grid (what ``G(sem)`` renders), with the semantics
    ``sem`` (B, S, h, w) there for generators that read them."""
    dtype = torch.promote_types(feat.dtype, torch.float32)
    return PixelQuery(coordinate_grid(feat.shape[-2:], device=feat.device, dtype=dtype),
                      label_rows=slice(None), semantics=semantics)


def features_at(feat: torch.Tensor, query: PixelQuery) -> torch.Tensor:
    """``feat`` (B, C, h, w) at the query's pixels -> (B, C, r, W): sliced on the label grid,
    else sampled bilinearly (:func:`~posgen_lib.models.fourier.sample_at`)."""
    if query.label_rows is not None:
        return feat[:, :, query.label_rows]
    return sample_at(feat, query.coords)
