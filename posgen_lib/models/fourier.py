"""Fourier features of coordinates.

The coordinates are the pixel centres of :mod:`posgen_lib.grid` (``x = linspace(-1, 1, W)``,
``align_corners=True``); :func:`coordinate_grid`, :func:`sample_at` and
:data:`FULL_WINDOW` are that module's, importable from here too.

Two Fourier feature maps are provided:

* :class:`GaussianFourierFeatures` -- Tancik et al., "Fourier Features Let
  Networks Learn High Frequency Functions in Low Dimensional Domains" (NeurIPS
  2020), Eq. 5 with Gaussian B:  gamma(v) = [cos(2 pi B v), sin(2 pi B v)],
  B_ij ~ N(0, sigma^2), fixed (not trained).
* :class:`LearnedFourierFeatures` -- the CIPS-style layer (Anokhin et al.,
  "Image Generators with Conditionally-Independent Pixel Synthesis", CVPR 2021,
  Sec. 3.2): e(v) = sin(W v + b) with W and b trained. PosGen uses it twice:
  on the coordinates and on the trunk's semantic feature.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ..grid import FULL_WINDOW, coordinate_grid, sample_at

__all__ = ["FULL_WINDOW", "coordinate_grid", "sample_at", "GaussianFourierFeatures", "LearnedFourierFeatures"]


class GaussianFourierFeatures(nn.Module):
    """gamma(v) = [cos(2 pi B v), sin(2 pi B v)], B ~ N(0, sigma^2) fixed (Tancik et al. 2020, Eq. 5).

    Maps (..., in_features) to (..., 2 * num_frequencies).
    """

    def __init__(self, in_features: int = 2, num_frequencies: int = 128, sigma: float = 10.0,
                 seed: int | None = 0):
        super().__init__()
        gen = torch.Generator().manual_seed(seed) if seed is not None else None
        self.sigma = sigma
        self.register_buffer("B", torch.randn(num_frequencies, in_features, generator=gen) * sigma)

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        proj = 2 * math.pi * v @ self.B.T  # (..., m)
        return torch.cat([torch.cos(proj), torch.sin(proj)], dim=-1)  # (..., 2m)


class LearnedFourierFeatures(nn.Module):
    """e(v) = sin(W v + b) with trainable W, b (CIPS, Sec. 3.2).

    ``W`` starts as N(0, init_scale^2) and ``b`` as U(-pi, pi) (random phases),
    so ``init_scale`` sets the initial spatial frequencies when ``v`` is a
    coordinate in [-1, 1]. Maps (..., in_features) to (..., out_features).
    """

    def __init__(self, in_features: int, out_features: int, init_scale: float = 1.0):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)
        with torch.no_grad():
            self.linear.weight.normal_(0.0, init_scale)
            self.linear.bias.uniform_(-math.pi, math.pi)

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        return torch.sin(self.linear(v))
