"""Multiscale patch discriminator and the VAE image encoder (SPADE's).

Discriminator: pix2pixHD's multiscale PatchGAN as SPADE uses it (Wang et al.
2018, Sec. 3.2; Park et al. 2019, Appendix A). ``num_D`` copies of an
``n_layers_D``-layer patch discriminator see the (semantics, image) pair at
full resolution and after 1, 2 ... average-pool downsamplings (3x3, stride 2,
padding 1, padding not counted). Per scale::

    model0 = conv k4 s2 p2 -> lrelu
    model_n = spectral conv k4 s2 p2 (s1 for the last) -> InstanceNorm -> lrelu   for n = 1 .. n_layers_D-1
    model_last = conv k4 s1 p2                                                  (patch logits)

Each scale returns every layer output (after its activation), which feature
matching compares between real and fake; the last one is the logit map.

With ``d_blur`` every stride-2 conv first blurs its input with a normalised
[1, 2, 1] x [1, 2, 1] kernel (Zhang, "Making Convolutional Networks
Shift-Invariant Again", ICML 2019, Sec. 3): a strided conv alone aliases, so
it is blind to some high-frequency patterns (the fixed patterns a generator can
then paint without being penalised).

:class:`SegmentationDiscriminator` is OASIS's discriminator (Schonfeld et al.,
"You Only Need Adversarial Supervision for Semantic Image Synthesis", ICLR
2021, Sec. 3.1), sized for a CPU: a U-Net that labels every pixel of an image
with one of the N semantic classes or "fake" (its objective is
:mod:`posgen_lib.train.oasis`).

Encoder: SPADE's ``ConvEncoder`` (Appendix A, Fig. 14): the image is resized to
256x256, six stride-2 spectral-norm convs with InstanceNorm shrink it to 4x4,
and two Linear layers give the mean and log-variance of the style code.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..config import ModelConfig
from .spade import init_weights, spectral


def spectral_instance(conv: nn.Conv2d, use_spectral: bool = True) -> nn.Sequential:
    """SPADE's ``spectralinstance`` norm: spectral-normed conv without bias, then InstanceNorm."""
    conv = spectral(conv, use_spectral)
    del conv.bias
    conv.register_parameter("bias", None)  # the norm removes any bias anyway
    return nn.Sequential(conv, nn.InstanceNorm2d(conv.out_channels, affine=False))


class Blur(nn.Module):
    """A fixed [1, 2, 1] x [1, 2, 1] / 16 low-pass filter per channel, same size out (reflected borders)."""

    def __init__(self, channels: int):
        super().__init__()
        k = torch.tensor([1.0, 2.0, 1.0])
        self.register_buffer("kernel", (k[:, None] * k[None, :] / 16).expand(channels, 1, 3, 3).clone(),
                             persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), self.kernel.to(x.dtype), groups=x.shape[1])


class NLayerDiscriminator(nn.Module):
    """One scale of the patch discriminator (``blur``: a :class:`Blur` before every stride-2 conv)."""

    def __init__(self, input_nc: int, ndf: int = 64, n_layers: int = 4, use_spectral: bool = True,
                 blur: bool = False):
        super().__init__()
        kw, pad = 4, math.ceil((4 - 1) / 2)
        nf = ndf
        first = [Blur(input_nc)] if blur else []
        layers = [first + [nn.Conv2d(input_nc, nf, kw, stride=2, padding=pad), nn.LeakyReLU(0.2)]]
        for n in range(1, n_layers):
            nf_prev, nf = nf, min(nf * 2, 512)
            stride = 1 if n == n_layers - 1 else 2
            conv = nn.Conv2d(nf_prev, nf, kw, stride=stride, padding=pad)
            before = [Blur(nf_prev)] if blur and stride == 2 else []
            layers.append(before + [spectral_instance(conv, use_spectral), nn.LeakyReLU(0.2)])
        layers.append([nn.Conv2d(nf, 1, kw, stride=1, padding=pad)])
        self.num_layers = len(layers)
        for i, layer in enumerate(layers):
            self.add_module(f"model{i}", nn.Sequential(*layer))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        outputs = []
        for i in range(self.num_layers):
            x = getattr(self, f"model{i}")(x)
            outputs.append(x)
        return outputs


class MultiscaleDiscriminator(nn.Module):
    """``num_D`` patch discriminators on an image pyramid; input = cat(semantics, image)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        input_nc = cfg.semantic_nc + 3
        for i in range(cfg.num_D):
            self.add_module(f"discriminator_{i}",
                            NLayerDiscriminator(input_nc, cfg.ndf, cfg.n_layers_D, cfg.spectral_norm_D,
                                                cfg.d_blur))
        init_weights(self, cfg.init_type, cfg.init_gain)

    def forward(self, x: torch.Tensor) -> list[list[torch.Tensor]]:
        """x (B, semantic_nc + 3, H, W) -> per scale, the list of layer outputs."""
        results = []
        for i in range(self.cfg.num_D):
            results.append(getattr(self, f"discriminator_{i}")(x))
            x = F.avg_pool2d(x, kernel_size=3, stride=2, padding=1, count_include_pad=False)
        return results


class SegmentationDiscriminator(nn.Module):
    """OASIS's discriminator, small: image (B, 3, H, W) -> logits (B, classes + 1, H, W); channel 0 is "fake".

    A U-Net (Ronneberger et al. 2015) of spectral-normed 3x3 convs: an encoder of ``depth`` stride-2 stages
    (widths ndf, 2 ndf, 4 ndf, 4 ndf ...) and a decoder that upsamples (nearest) and fuses each skip, so
    every output pixel sees both its neighbourhood and the whole scene. Any input size works.
    """

    def __init__(self, cfg: ModelConfig, classes: int, depth: int = 4):
        super().__init__()
        widths = [min(cfg.seg_ndf * 2**i, 4 * cfg.seg_ndf) for i in range(depth)]

        def unit(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
            return nn.Sequential(spectral(nn.Conv2d(cin, cout, 3, stride, 1), cfg.spectral_norm_D), nn.LeakyReLU(0.2))

        self.down = nn.ModuleList([unit(3 if i == 0 else widths[i - 1], w, 2) for i, w in enumerate(widths)])
        self.up = nn.ModuleList([unit(widths[i] + (widths[i - 1] if i else 3), widths[i - 1] if i else cfg.seg_ndf)
                                 for i in reversed(range(depth))])
        self.classify = nn.Conv2d(cfg.seg_ndf, classes + 1, 1)
        init_weights(self, cfg.init_type, cfg.init_gain)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        skips, x = [], image
        for stage in self.down:
            skips.append(x)
            x = stage(x)  # (B, w_i, H / 2^(i+1), W / 2^(i+1))
        for stage, skip in zip(self.up, reversed(skips)):
            x = stage(torch.cat([F.interpolate(x, size=skip.shape[-2:], mode="nearest"), skip], 1))
        return self.classify(x)  # (B, classes + 1, H, W)


class ImageEncoder(nn.Module):
    """SPADE's VAE style encoder: image (B, 3, H, W) -> (mu, logvar), each (B, z_dim)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        ndf = cfg.ngf
        channels = [3, ndf, 2 * ndf, 4 * ndf, 8 * ndf, 8 * ndf]
        if cfg.encoder_crop_size >= 256:
            channels.append(8 * ndf)
        self.num_layers = len(channels) - 1
        for i in range(self.num_layers):
            conv = nn.Conv2d(channels[i], channels[i + 1], 3, stride=2, padding=1)
            self.add_module(f"layer{i + 1}", spectral_instance(conv, True))
        self.input_size = 256
        side = self.input_size // 2**self.num_layers  # 4 with six layers
        self.fc_mu = nn.Linear(8 * ndf * side * side, cfg.z_dim)
        self.fc_var = nn.Linear(8 * ndf * side * side, cfg.z_dim)
        init_weights(self, cfg.init_type, cfg.init_gain)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if image.shape[-2:] != (self.input_size, self.input_size):
            image = F.interpolate(image, size=(self.input_size, self.input_size), mode="bilinear",
                                  align_corners=False)  # (B, 3, 256, 256)
        x = self.layer1(image)
        for i in range(2, self.num_layers + 1):
            x = getattr(self, f"layer{i}")(F.leaky_relu(x, 0.2))
        x = F.leaky_relu(x, 0.2).flatten(1)  # (B, 8ndf * side * side)
        return self.fc_mu(x), self.fc_var(x)


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor,
                   eps: torch.Tensor | None = None) -> torch.Tensor:
    """z = mu + eps * exp(logvar / 2), eps ~ N(0, I) (Kingma & Welling 2014, Sec. 2.4)."""
    if eps is None:
        eps = torch.randn_like(mu)
    return eps * torch.exp(0.5 * logvar) + mu
