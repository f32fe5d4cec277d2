"""The per-pixel head that replaces SPADE's final 3x3 conv.

For every output pixel p, independently (docs/architecture.md, *The model contract*)::

    a_p = sin(W_f f_p + b_f)                 Fourier layer on the trunk feature f_p
    g_p = sin(W_c c_p + b_c)                 Fourier features of the coordinate c_p in [-1, 1]^2
    h_p = lrelu(L1([a_p, c_p, g_p]))         L1, L2: Linear, LeakyReLU slope 0.2
    h_p = lrelu(L2(h_p))
    y_p = tanh(L3(h_p))                      RGB in [-1, 1]

Three shared fully connected layers, no convolution and no normalization, so a
pixel's colour depends only on (f_p, c_p). That is what lets
:func:`posgen_lib.rendering.render` produce any resolution: sample f at the new
pixel centres and evaluate the head there.

Two equivalent ways to evaluate it:

* :meth:`PixelHead.forward_pixels` is the formula above, literally, on a list
  of pixels. It is the reference the tests compare against.
* :meth:`PixelHead.forward` is the fast path. L1's weight splits into
  ``[W_a | W_c | W_g]`` so that ``L1([a, c, g]) = W_a a + (W_c c + W_g g + bias)``;
  the bracket depends only on the pixel's position, so it is computed once
  per grid (:meth:`PixelHead.position_term`) and shared by the whole batch.
  Without autograd (rendering) the elementwise steps run in place.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .fourier import LearnedFourierFeatures


class PixelHead(nn.Module):
    """Per-pixel MLP head: 3 shared Linear layers on [Fourier(f), c, Fourier(c)]."""

    def __init__(self, feat_nc: int, feat_fourier: int = 256, coord_fourier: int = 256,
                 hidden: int = 256, coord_scale: float = 2.0):
        super().__init__()
        self.feat_fourier = nn.Linear(feat_nc, feat_fourier)  # W_f, b_f (sin applied in forward)
        self.coord_fourier = LearnedFourierFeatures(2, coord_fourier, init_scale=coord_scale)
        self.fc1 = nn.Linear(feat_fourier + 2 + coord_fourier, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.fc3 = nn.Linear(hidden, 3)

    # --- reference path -------------------------------------------------
    def forward_pixels(self, feat: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
        """The head on N independent pixels: feat (N, C), coords (N, 2) -> RGB (N, 3)."""
        x = torch.cat([torch.sin(self.feat_fourier(feat)), coords, self.coord_fourier(coords)], dim=-1)
        h = F.leaky_relu(self.fc1(x), 0.2)
        h = F.leaky_relu(self.fc2(h), 0.2)
        return torch.tanh(self.fc3(h))

    # --- fast path ------------------------------------------------------
    def position_term(self, coords: torch.Tensor) -> torch.Tensor:
        """W_c c + W_g sin(W_c' c + b_c') + b_1 for coords (..., 2) -> (..., hidden)."""
        n_feat = self.feat_fourier.out_features
        w_pos = self.fc1.weight[:, n_feat:]  # (hidden, 2 + coord_fourier)
        pos = torch.cat([coords, self.coord_fourier(coords)], dim=-1)  # (..., 2 + coord_fourier)
        return F.linear(pos, w_pos, self.fc1.bias)

    def logits_from_preactivation(self, feat_pre: torch.Tensor, pos_term: torch.Tensor) -> torch.Tensor:
        """``L3(h)`` (before tanh) from ``feat_pre = W_f f + b_f`` (..., feat_fourier) and
        :meth:`position_term` (..., hidden).

        Without autograd (rendering) the same maths runs in place, which halves
        the memory traffic of the elementwise steps; ``feat_pre`` is overwritten.
        """
        w_feat = self.fc1.weight[:, : self.feat_fourier.out_features]
        if torch.is_grad_enabled():
            h = F.leaky_relu(F.linear(torch.sin(feat_pre), w_feat) + pos_term, 0.2)
            return self.fc3(F.leaky_relu(self.fc2(h), 0.2))  # (..., 3)
        h = F.leaky_relu_(F.linear(feat_pre.sin_(), w_feat).add_(pos_term), 0.2)
        return self.fc3(F.leaky_relu_(self.fc2(h), 0.2))

    def logits(self, feat: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
        """The head before its tanh: feat (B, C, H, W), coords (2, H, W) or per image (B, 2, H, W) -> (B, 3, H, W)."""
        b, _, h, w = feat.shape
        pixels = feat.permute(0, 2, 3, 1).reshape(b, h * w, -1)  # (B, HW, C)
        if coords.dim() == 3:  # one grid for the batch: its position term is computed once
            pos_term = self.position_term(coords.permute(1, 2, 0).reshape(h * w, 2))  # (HW, hidden)
        else:
            pos_term = self.position_term(coords.permute(0, 2, 3, 1).reshape(b, h * w, 2))  # (B, HW, hidden)
        out = self.logits_from_preactivation(self.feat_fourier(pixels), pos_term)  # (B, HW, 3)
        return out.reshape(b, h, w, 3).permute(0, 3, 1, 2)

    def forward(self, feat: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
        """Image from a feature map: feat (B, C, H, W), coords (2, H, W) or (B, 2, H, W) -> (B, 3, H, W)."""
        out = self.logits(feat, coords)
        return torch.tanh(out) if torch.is_grad_enabled() else out.tanh_()
