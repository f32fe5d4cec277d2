"""Coordinate grids and Fourier features.

Coordinates follow the ``align_corners=True`` convention (docs/architecture.md, *The model contract*):
``x = linspace(-1, 1, W)``, ``y = linspace(-1, 1, H)``, so (-1, -1) is the centre
of the upper-left pixel and (1, 1) the centre of the lower-right one; channel 0
holds x, channel 1 holds y. A *window* ``(x0, y0, x1, y1)`` in the same units
names any sub-rectangle of the image, which :func:`coordinate_grid` samples at
any pixel size. Points outside [-1, 1] are allowed (they extrapolate).

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
import torch.nn.functional as F
from torch import nn

FULL_WINDOW = (-1.0, -1.0, 1.0, 1.0)


def coordinate_grid(size: tuple[int, int], window=FULL_WINDOW, device=None,
                    dtype=torch.float32, rows: slice | None = None) -> torch.Tensor:
    """Pixel-centre coordinates of an ``size=(H, W)`` image covering ``window``.

    Returns a (2, H, W) tensor: ``grid[0]`` is x (varies along W), ``grid[1]`` is y.
    A 1-pixel axis sits at the window's start coordinate. ``rows`` returns only
    that band of rows, (2, r, W), with the same values as the full grid.
    """
    height, width = size
    if height < 1 or width < 1:
        raise ValueError(f"size={size}: both sides must be at least 1 pixel")
    x0, y0, x1, y1 = (float(v) for v in window)
    xs = torch.linspace(x0, x1, width, device=device, dtype=dtype)  # (W,)
    ys = torch.linspace(y0, y1, height, device=device, dtype=dtype)  # (H,)
    if rows is not None:
        ys = ys[rows]  # (r,)
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")  # (H, W) each
    return torch.stack([grid_x, grid_y])  # (2, H, W)


def sample_at(feature: torch.Tensor, coords: torch.Tensor, mode: str = "bilinear") -> torch.Tensor:
    """Sample ``feature`` (B, C, h, w) at ``coords`` (2, H, W), or per image (B, 2, H, W) -> (B, C, H, W).

    Uses the same ``align_corners=True`` convention as :func:`coordinate_grid`,
    so sampling at ``coordinate_grid((h, w))`` reproduces ``feature`` (up to
    float rounding). Outside [-1, 1] the border value is repeated. ``mode``:
    ``"bilinear"`` (the trunk's features) or ``"nearest"`` (label maps).
    """
    if coords.dim() == 3:
        grid = coords.permute(1, 2, 0).unsqueeze(0).expand(feature.shape[0], -1, -1, -1)  # (B, H, W, 2)
    else:
        grid = coords.permute(0, 2, 3, 1)  # (B, H, W, 2)
    return F.grid_sample(feature, grid.to(feature.dtype), mode=mode, padding_mode="border", align_corners=True)


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
