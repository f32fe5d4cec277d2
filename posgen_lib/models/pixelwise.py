"""A fully pixel-wise generator: no convolution at the output resolution.

PosGen keeps SPADE's convolutional trunk at every scale up to the output and
only makes the *last* layer per-pixel. The original PosGen report (Huang, CMU 16-726, 2021) named the next step as
future work: a generator in which every layer that runs at the output resolution is
per-pixel. :class:`PixelwiseGenerator` is one such design; it is SPADE with
the 3x3 convolutions that compute the modulation replaced by 1x1 ones, grafted
onto a coordinate MLP (CIPS, Anokhin et al. 2021, whose layers are modulated
fully connected layers on Fourier features of the coordinates).

For every output pixel p with coordinates c_p in [-1, 1]^2 and semantics s_p
(one-hot labels and instance edge, bilinearly sampled at c_p)::

    k   = ContextNet(avgpool_r(s))                  (B, K, H/r, W/r): the only convolutions,
                                                    r x r coarser than the labels
    e_p = W_e [s_p, k_p] + b_e                      per-pixel embedding; k_p bilinear from k
    h_0 = [c_p, sin(W_c c_p + b_c)]                 coordinate Fourier features (Tancik et al. 2020)
    h_l = lrelu((1 + gamma_l(e_p)) * (W_l h_(l-1) + b_l) + beta_l(e_p), 0.2),   l = 1..L
    y_p = tanh(W_out h_L + b_out)

``gamma_l, beta_l`` are linear in e_p: SPADE's modulation (Park et al. 2019,
Eq. 1) without the spatial kernel and without the normalization (a pixel
cannot normalize over its neighbours without seeing them). The context code
k is what a pixel knows about its surroundings (is this road pixel near a
sidewalk? how tall is this building?); with ``pixelwise_context=0`` it is
dropped and each pixel's colour is a function of its own class, edge flag
and position only, the strictest reading of "pixel-wise".

The generator implements the same interface as PosGen
(:class:`~posgen_lib.models.interface.Generator`: ``features(sem)`` at the
labels' resolution, then ``decode`` per pixel), so
:func:`posgen_lib.rendering.render`, the upscaling methods,
evaluation and training work on it unchanged. ``features`` is linear in the
semantics and the upsampled context, so sampling it bilinearly at new
coordinates equals embedding bilinearly sampled inputs.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..config import ModelConfig
from .fourier import LearnedFourierFeatures
from .interface import Generator, NoiseSeed, PixelQuery, features_at, label_grid_query


class ContextNet(nn.Module):
    """Coarse context code: class fractions pooled r x r, then 3x3 convs at that coarse grid."""

    def __init__(self, semantic_nc: int, channels: int, downsample: int):
        super().__init__()
        self.downsample = downsample
        self.convs = nn.Sequential(
            nn.Conv2d(semantic_nc, channels, 3, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(channels, channels, 3, padding=2, dilation=2), nn.LeakyReLU(0.2),
            nn.Conv2d(channels, channels, 3, padding=1))

    def forward(self, seg: torch.Tensor) -> torch.Tensor:
        """seg (B, S, H, W) -> context (B, K, H, W): computed at H/r x W/r, upsampled bilinearly."""
        h, w = seg.shape[-2:]
        r = self.downsample
        if h % r or w % r:
            raise ValueError(f"label map of size {h}x{w}: pixelwise_context={r} needs height and width "
                             f"divisible by {r}; resize the labels or change pixelwise_context")
        coarse = self.convs(F.avg_pool2d(seg, r))  # (B, K, H/r, W/r)
        return F.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False)


class ModulatedPixelMLP(nn.Module):
    """The per-pixel network: coordinate Fourier features -> L modulated Linear layers -> RGB."""

    def __init__(self, embed: int, coord_fourier: int, hidden: int, layers: int, coord_scale: float):
        super().__init__()
        self.coord_fourier = LearnedFourierFeatures(2, coord_fourier, init_scale=coord_scale)
        widths = [2 + coord_fourier] + [hidden] * layers
        self.linears = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.modulation = nn.Linear(embed, 2 * hidden * layers)  # all gamma_l, beta_l at once
        nn.init.zeros_(self.modulation.weight)  # start as a plain coordinate MLP
        nn.init.zeros_(self.modulation.bias)
        self.to_rgb = nn.Linear(hidden, 3)

    def position_term(self, coords: torch.Tensor) -> torch.Tensor:
        """W_1 h_0 + b_1 for coords (..., 2) -> (..., hidden): the first layer before modulation.

        It depends on the position only, so :meth:`forward` computes it once per
        grid and shares it across the batch (as ``PixelHead.position_term`` does).
        """
        return self.linears[0](torch.cat([coords, self.coord_fourier(coords)], dim=-1))

    def modulated(self, first: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        """RGB (..., 3) from :meth:`position_term` (broadcastable) and the embeddings (..., E)."""
        chunks = self.modulation(embedding).chunk(2 * len(self.linears), dim=-1)
        gammas, betas = chunks[0::2], chunks[1::2]  # (..., hidden) each, one per layer
        h = F.leaky_relu((1 + gammas[0]) * first + betas[0], 0.2)
        for linear, gamma, beta in zip(self.linears[1:], gammas[1:], betas[1:]):
            h = F.leaky_relu((1 + gamma) * linear(h) + beta, 0.2)
        return torch.tanh(self.to_rgb(h))

    def forward_pixels(self, embedding: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
        """N independent pixels: embedding (N, E), coords (N, 2) -> RGB (N, 3)."""
        return self.modulated(self.position_term(coords), embedding)

    def forward(self, feat: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
        """Image from an embedding map: feat (B, E, H, W), coords (2, H, W) -> (B, 3, H, W)."""
        b, _, h, w = feat.shape
        pixels = feat.permute(0, 2, 3, 1).reshape(b, h * w, -1)  # (B, HW, E)
        first = self.position_term(coords.permute(1, 2, 0).reshape(h * w, 2))  # (HW, hidden), once
        rgb = self.modulated(first, pixels)  # (B, HW, 3)
        return rgb.reshape(b, h, w, 3).permute(0, 3, 1, 2)


class PixelwiseGenerator(Generator):
    """Semantic synthesis with every output-resolution layer per pixel (see the module docstring)."""

    kind = "pixelwise"
    any_size = True

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        cfg.validate()
        self.cfg = cfg
        context = cfg.pixelwise_context_channels if cfg.pixelwise_context else 0
        self.context = ContextNet(cfg.semantic_nc, context, cfg.pixelwise_context) if context else None
        self.embed = nn.Linear(cfg.semantic_nc + context, cfg.pixelwise_embed)  # W_e, b_e
        self.pixel_head = ModulatedPixelMLP(cfg.pixelwise_embed, cfg.head_coord_fourier,
                                            cfg.pixelwise_hidden, cfg.pixelwise_layers,
                                            cfg.head_coord_scale)

    def features(self, seg: torch.Tensor, z: torch.Tensor | None = None,
                 noise_seed: NoiseSeed = None) -> torch.Tensor:
        """Per-pixel embedding e: seg (B, semantic_nc, H, W) -> (B, pixelwise_embed, H, W).

        ``z`` must be None (no VAE). There is no trunk, so the trunk's options (``ngf``, ``spade_*``,
        ``modulation``, ``noise``) build nothing here and ``noise_seed`` changes nothing.
        """
        if z is not None:
            raise ValueError("PixelwiseGenerator has no style input; pass z=None")
        if seg.dim() != 4 or seg.shape[1] != self.cfg.semantic_nc:
            raise ValueError(f"semantics must be (B, {self.cfg.semantic_nc}, H, W), got {tuple(seg.shape)}")
        inputs = seg if self.context is None else torch.cat([seg, self.context(seg)], dim=1)
        return F.conv2d(inputs, self.embed.weight[:, :, None, None], self.embed.bias)  # 1x1: per pixel

    def decode(self, feat: torch.Tensor, query: PixelQuery) -> torch.Tensor:
        """The modulated MLP at the query's pixels (embedding sampled bilinearly) -> (B, 3, r, W)."""
        return self.pixel_head(features_at(feat, query), query.coords)

    def forward(self, seg: torch.Tensor, z: torch.Tensor | None = None,
                noise_seed: NoiseSeed = None) -> torch.Tensor:
        """seg (B, semantic_nc, H, W) -> image (B, 3, H, W) in [-1, 1]; other sizes: ``pg.render``."""
        feat = self.features(seg, z)
        return self.decode(feat, label_grid_query(feat))


@torch.no_grad()
def output_resolution_convolutions(G: nn.Module, sem: torch.Tensor) -> list[str]:
    """Names of the spatial (kernel > 1) convolutions that run at the output resolution of ``G(sem)``.

    Measured, not declared: forward hooks record each Conv2d's input size
    during one forward pass. Empty for :class:`PixelwiseGenerator` (its 3x3
    convs run on the pooled context grid); PosGen's last SPADE blocks show up.
    """
    seen, hooks = [], []
    for name, module in G.named_modules():
        if isinstance(module, nn.Conv2d) and max(module.kernel_size) > 1:
            hooks.append(module.register_forward_hook(
                lambda mod, inputs, out, name=name: seen.append((name, tuple(inputs[0].shape[-2:])))))
    try:
        size = tuple(G(sem).shape[-2:])
    finally:
        for hook in hooks:
            hook.remove()
    return sorted({name for name, at in seen if at == size})
