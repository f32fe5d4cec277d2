"""SPADE normalization and the SPADE residual block.

Park et al., "Semantic Image Synthesis with Spatially-Adaptive Normalization"
(CVPR 2019). Module and parameter names match the official NVlabs/SPADE code,
so its state dicts load directly (see :mod:`posgen_lib.models.compat`).

SPADE (paper Eq. 1; Fig. 2)::

    out = norm(x) * (1 + gamma(m)) + beta(m)

``norm`` is a parameter-free BatchNorm / SyncBatchNorm / InstanceNorm; ``gamma``
and ``beta`` are 3x3 convs over a shared 3x3 conv + ReLU of the segmentation
map ``m`` resized (nearest) to the resolution of ``x``. The official code adds
the ``1 +`` so that a zero-initialized gamma means "no modulation".

CLADE (Tan et al., "Efficient Semantic Image Synthesis via Class-Adaptive
Normalization", TPAMI 2021, Eq. 4): the same form with ``gamma`` and ``beta``
looked up per class instead of computed by convolutions over the label map:
``gamma(m)_p = Gamma[class(p)]``. On a one-hot ``m`` that lookup is a 1x1 conv
(the edge channel adds a learned offset at instance edges), so its cost per
pixel is ``semantic_nc x C`` multiply-adds instead of SPADE's
``9 x semantic_nc x hidden + 2 x 9 x hidden x C``. The ``modulation`` argument
of :class:`SPADEResnetBlock` chooses ("spade", the default, or "clade").

SPADE residual block (paper Fig. 4)::

    x_s = conv_s(norm_s(x, m))  if fin != fout else x          (learned shortcut, no activation)
    dx  = conv_0(lrelu(norm_0(x, m)))
    dx  = conv_1(lrelu(norm_1(dx, m)))
    out = x_s + dx

with ``fmiddle = min(fin, fout)`` channels between the two convs, LeakyReLU
slope 0.2, and spectral norm on conv_0 / conv_1 / conv_s (PyTorch's hook-based
``torch.nn.utils.spectral_norm``, whose ``weight_orig/_u/_v`` keys SPADE uses).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def spectral(module: nn.Module, enabled: bool = True) -> nn.Module:
    """Wrap ``module`` in spectral normalization (Miyato et al. 2018) when ``enabled``."""
    return nn.utils.spectral_norm(module) if enabled else module


def param_free_norm(kind: str, channels: int) -> nn.Module:
    """The normalization inside SPADE, without learned affine parameters."""
    if kind == "batch":
        return nn.BatchNorm2d(channels, affine=False)
    if kind == "syncbatch":
        # On one process (and on CPU) torch's SyncBatchNorm computes plain batch
        # norm; the trainer keeps it only when running distributed on CUDA.
        return nn.SyncBatchNorm(channels, affine=False)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=False)
    raise ValueError(f"unknown SPADE norm {kind!r}: choose batch, syncbatch or instance")


def converge_spectral_norm(module: nn.Module, iterations: int = 15) -> None:
    """Run power iterations on every spectral-normed layer's ``weight_u``/``weight_v``.

    Fresh random u, v make the eval-mode sigma estimate meaningless (an untrained
    model in eval mode would produce activations of 1e12); the parametrization
    version of spectral norm in PyTorch runs 15 iterations at init for this reason.
    """
    for m in module.modules():
        if not hasattr(m, "weight_orig"):
            continue
        w = m.weight_orig.detach().flatten(1)  # (out, in * k * k)
        u, v = m.weight_u, m.weight_v
        with torch.no_grad():
            for _ in range(iterations):
                v.copy_(F.normalize(w.t() @ u, dim=0, eps=1e-12))
                u.copy_(F.normalize(w @ v, dim=0, eps=1e-12))


def init_weights(module: nn.Module, init_type: str = "xavier", gain: float = 0.02) -> None:
    """SPADE's initialization: every Conv/Linear weight re-drawn, biases zero.

    For spectral-normed layers the raw ``weight_orig`` is initialized (as in the
    official code, whose init writes through ``weight.data``, which shares
    storage with ``weight_orig``), then its u/v are converged.
    """
    for m in module.modules():
        if not isinstance(m, (nn.Conv2d, nn.Linear)):
            continue
        weight = m.weight_orig if hasattr(m, "weight_orig") else m.weight
        with torch.no_grad():
            if init_type == "normal":
                nn.init.normal_(weight, 0.0, gain)
            elif init_type == "xavier":
                nn.init.xavier_normal_(weight, gain=gain)
            elif init_type == "xavier_uniform":
                nn.init.xavier_uniform_(weight, gain=1.0)
            elif init_type == "kaiming":
                nn.init.kaiming_normal_(weight, a=0, mode="fan_in")
            elif init_type == "orthogonal":
                nn.init.orthogonal_(weight, gain=gain)
            elif init_type != "none":
                raise ValueError(f"unknown init_type {init_type!r}")
            if m.bias is not None:
                m.bias.zero_()
    converge_spectral_norm(module)


class SPADE(nn.Module):
    """Spatially-adaptive normalization: norm(x) * (1 + gamma(m)) + beta(m)."""

    def __init__(self, norm_nc: int, label_nc: int, hidden: int = 128, kernel: int = 3,
                 norm: str = "batch"):
        super().__init__()
        pad = kernel // 2
        self.param_free_norm = param_free_norm(norm, norm_nc)
        self.mlp_shared = nn.Sequential(nn.Conv2d(label_nc, hidden, kernel, padding=pad), nn.ReLU())
        self.mlp_gamma = nn.Conv2d(hidden, norm_nc, kernel, padding=pad)
        self.mlp_beta = nn.Conv2d(hidden, norm_nc, kernel, padding=pad)

    def forward(self, x: torch.Tensor, segmap: torch.Tensor) -> torch.Tensor:
        normalized = self.param_free_norm(x)  # (B, C, H, W)
        segmap = F.interpolate(segmap, size=x.shape[2:], mode="nearest")  # (B, semantic_nc, H, W)
        actv = self.mlp_shared(segmap)  # (B, hidden, H, W)
        return normalized * (1 + self.mlp_gamma(actv)) + self.mlp_beta(actv)


class CLADE(nn.Module):
    """Class-adaptive normalization: norm(x) * (1 + Gamma[m]) + Beta[m], a per-class scale and bias."""

    def __init__(self, norm_nc: int, label_nc: int, norm: str = "batch"):
        super().__init__()
        self.param_free_norm = param_free_norm(norm, norm_nc)
        self.mlp_gamma = nn.Conv2d(label_nc, norm_nc, 1)  # column k = Gamma of class k
        self.mlp_beta = nn.Conv2d(label_nc, norm_nc, 1)

    def forward(self, x: torch.Tensor, segmap: torch.Tensor) -> torch.Tensor:
        normalized = self.param_free_norm(x)  # (B, C, H, W)
        segmap = F.interpolate(segmap, size=x.shape[2:], mode="nearest")  # (B, semantic_nc, H, W)
        return normalized * (1 + self.mlp_gamma(segmap)) + self.mlp_beta(segmap)


def modulated_norm(modulation: str, norm_nc: int, label_nc: int, hidden: int, kernel: int,
                   norm: str) -> nn.Module:
    """SPADE (the default) or CLADE normalization of ``norm_nc`` channels by ``label_nc`` semantic channels."""
    if modulation == "spade":
        return SPADE(norm_nc, label_nc, hidden, kernel, norm)
    if modulation == "clade":
        return CLADE(norm_nc, label_nc, norm)
    raise ValueError(f"unknown modulation {modulation!r}: choose spade or clade")


class SPADEResnetBlock(nn.Module):
    """Two SPADE-conv units and a (learned when fin != fout) shortcut, Fig. 4 of the paper."""

    def __init__(self, fin: int, fout: int, semantic_nc: int, hidden: int = 128,
                 kernel: int = 3, norm: str = "batch", use_spectral: bool = True, modulation: str = "spade"):
        super().__init__()
        self.learned_shortcut = fin != fout
        fmiddle = min(fin, fout)
        self.conv_0 = spectral(nn.Conv2d(fin, fmiddle, 3, padding=1), use_spectral)
        self.conv_1 = spectral(nn.Conv2d(fmiddle, fout, 3, padding=1), use_spectral)
        if self.learned_shortcut:
            self.conv_s = spectral(nn.Conv2d(fin, fout, 1, bias=False), use_spectral)
        self.norm_0 = modulated_norm(modulation, fin, semantic_nc, hidden, kernel, norm)
        self.norm_1 = modulated_norm(modulation, fmiddle, semantic_nc, hidden, kernel, norm)
        if self.learned_shortcut:
            self.norm_s = modulated_norm(modulation, fin, semantic_nc, hidden, kernel, norm)

    def forward(self, x: torch.Tensor, seg: torch.Tensor) -> torch.Tensor:
        x_s = self.conv_s(self.norm_s(x, seg)) if self.learned_shortcut else x
        dx = self.conv_0(F.leaky_relu(self.norm_0(x, seg), 0.2))
        dx = self.conv_1(F.leaky_relu(self.norm_1(dx, seg), 0.2))
        return x_s + dx
