"""The SPADE generator trunk, the SPADE baseline and PosGen.

Trunk (Park et al. 2019, Fig. 5 and Appendix A; layer names as in NVlabs/SPADE)::

    x = fc(nearest-resize(seg, H/2^k x W/2^k))     or, with a VAE, fc(z) reshaped
    x = head_0(x)  -> up -> G_middle_0(x)  -> [up, when num_upsampling_layers is
        "more" or "most"] -> G_middle_1(x) -> (up -> up_i(x)) for i = 0..3
        -> [up -> up_4(x), when "most"]
    f = lrelu(x, 0.2)                              the trunk feature

``k`` is the number of 2x upsamplings (5, 6 or 7). SPADE derives the starting
grid from the crop size and aspect ratio; here it is derived from the input's
own size (:func:`trunk_sizes`), which is the same at the training size and lets
the same weights run on label maps of other sizes (e.g. 4x labels for the
upscaling baseline). Sizes need not be multiples of 2^k: level ``j`` of the
trunk has ``ceil(H / 2^(k-j))`` rows, so each "up" doubles a size or doubles it
less one (CamVid's 90x120 runs 3x4 -> 6x8 -> 12x15 -> 23x30 -> 45x60 -> 90x120).
For multiples of 2^k this is exactly SPADE's 2x nearest upsampling.

* :class:`SPADEGenerator` -- the baseline: ``tanh(conv_img(f))``, a 3x3 conv.
* :class:`PosGenGenerator` -- the same trunk with the final conv replaced by
  :class:`~posgen_lib.models.pixel_head.PixelHead` evaluated at each pixel's
  coordinates (docs/architecture.md, "The model contract"). Its ``decode``
  samples ``f`` bilinearly at any pixel centres, which is what lets
  :func:`posgen_lib.rendering.render` produce any size.

Both implement :class:`~posgen_lib.models.interface.Generator`.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..config import ModelConfig
from .interface import Generator, NoiseSeed, PixelQuery, features_at, label_grid_query, noise_seeds
from .pixel_head import PixelHead
from .spade import SPADEResnetBlock, init_weights


def trunk_sizes(height: int, width: int, num_up: int) -> list[tuple[int, int]]:
    """(h, w) of the trunk's grid before its first block and after each of its ``num_up`` upsamplings:
    ``ceil(size / 2^(num_up - j))`` for j = 0..num_up, ending at (height, width)."""
    return [(-(-height // 2**(num_up - j)), -(-width // 2**(num_up - j))) for j in range(num_up + 1)]


class SPADETrunk(Generator):
    """Everything of SPADE's generator up to (and including) the final LeakyReLU."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        cfg.validate()
        self.cfg = cfg
        nf = cfg.ngf
        sh, sw = cfg.latent_size

        def block(fin: int, fout: int) -> SPADEResnetBlock:
            return SPADEResnetBlock(fin, fout, cfg.semantic_nc, cfg.spade_hidden, cfg.spade_kernel,
                                    cfg.spade_norm, cfg.spectral_norm_G, cfg.modulation)

        if cfg.use_vae:
            self.fc = nn.Linear(cfg.z_dim, 16 * nf * sh * sw)
        else:
            self.fc = nn.Conv2d(cfg.semantic_nc, 16 * nf, 3, padding=1)
        self.head_0 = block(16 * nf, 16 * nf)
        self.G_middle_0 = block(16 * nf, 16 * nf)
        self.G_middle_1 = block(16 * nf, 16 * nf)
        self.up_0 = block(16 * nf, 8 * nf)
        self.up_1 = block(8 * nf, 4 * nf)
        self.up_2 = block(4 * nf, 2 * nf)
        self.up_3 = block(2 * nf, nf)
        if cfg.num_upsampling_layers == "most":
            self.up_4 = block(nf, nf // 2)
        if cfg.noise:  # one learned strength per channel of each block's output, starting at cfg.noise_init
            self.noise_strength = nn.ParameterList(
                [nn.Parameter(torch.full((1, block.conv_1.out_channels, 1, 1), cfg.noise_init))
                 for block in self.blocks()])

    def blocks(self) -> list[SPADEResnetBlock]:
        """The residual blocks in the order they run."""
        names = ["head_0", "G_middle_0", "G_middle_1", "up_0", "up_1", "up_2", "up_3"]
        return [getattr(self, n) for n in names + ["up_4"] * (self.cfg.num_upsampling_layers == "most")]

    def noise_source(self, noise_seed: NoiseSeed, batch: int) -> list[torch.Generator] | None:
        """Where each image's noise maps come from: fresh draws of torch's global generator while training
        without a seed (a new sample every step), else one generator per image seeded with its seed
        (:func:`~posgen_lib.models.interface.noise_seeds`; 0 by default), so a render is deterministic and an
        image's maps are the same whatever batch it is in."""
        if self.training and noise_seed is None:
            return None
        return [torch.Generator().manual_seed(int(seed)) for seed in noise_seeds(noise_seed, batch)]

    def add_noise(self, x: torch.Tensor, index: int, source: list[torch.Generator] | None) -> torch.Tensor:
        """StyleGAN's noise input (Karras et al. 2019, Sec. 2, "B" in Fig. 1): x + s_c * n with one noise
        value n per pixel, shared by all channels and scaled per channel c by the learned s_c."""
        if not self.cfg.noise:
            return x
        b, _, h, w = x.shape
        if source is None:
            n = torch.randn(b, 1, h, w, device=x.device, dtype=x.dtype)
        else:
            n = torch.cat([torch.randn(1, 1, h, w, generator=g) for g in source]).to(x.device, x.dtype)  # (B, 1, h, w)
        return x + self.noise_strength[index] * n

    def features(self, seg: torch.Tensor, z: torch.Tensor | None = None,
                 noise_seed: NoiseSeed = None) -> torch.Tensor:
        """Trunk feature f: seg (B, semantic_nc, H, W) -> (B, trunk_channels, H, W).

        With ``cfg.noise`` every block's output gets per-pixel noise (:meth:`add_noise`);
        ``noise_seed`` picks the noise maps (:meth:`noise_source`)."""
        cfg = self.cfg
        if seg.dim() != 4 or seg.shape[1] != cfg.semantic_nc:
            raise ValueError(f"semantics must be (B, {cfg.semantic_nc}, H, W) "
                             f"(label_nc + dontcare + instance edge), got {tuple(seg.shape)}")
        sizes = iter(trunk_sizes(seg.shape[2], seg.shape[3], cfg.num_up))
        sh, sw = next(sizes)
        if cfg.use_vae:
            if z is None:
                z = torch.randn(seg.shape[0], cfg.z_dim, device=seg.device, dtype=seg.dtype)
            x = self.fc(z).view(-1, 16 * cfg.ngf, *cfg.latent_size)  # (B, 16ngf, sh0, sw0)
            if (sh, sw) != cfg.latent_size:
                x = F.interpolate(x, size=(sh, sw), mode="nearest")
        else:
            x = self.fc(F.interpolate(seg, size=(sh, sw), mode="nearest"))  # (B, 16ngf, sh, sw)

        up = lambda x: F.interpolate(x, size=next(sizes), mode="nearest")  # noqa: E731  SPADE's 2x "up"
        source = self.noise_source(noise_seed, seg.shape[0])
        for i, block in enumerate(self.blocks()):
            if i > 0 and (block is not self.G_middle_1 or cfg.num_upsampling_layers in ("more", "most")):
                x = up(x)  # every block but head_0 starts with an "up"; G_middle_1 only with "more"/"most"
            x = self.add_noise(block(x, seg), i, source)
        return F.leaky_relu(x, 0.2)  # (B, trunk_channels, H, W)


class SPADEGenerator(SPADETrunk):
    """The SPADE baseline: trunk + 3x3 conv + tanh."""

    kind = "spade"
    conv_output = True

    def __init__(self, cfg: ModelConfig):
        super().__init__(cfg)
        self.conv_img = nn.Conv2d(cfg.trunk_channels, 3, 3, padding=1)
        init_weights(self, cfg.init_type, cfg.init_gain)

    def forward(self, seg: torch.Tensor, z: torch.Tensor | None = None,
                noise_seed: NoiseSeed = None) -> torch.Tensor:
        """seg (B, semantic_nc, H, W) -> image (B, 3, H, W) in [-1, 1]."""
        return torch.tanh(self.conv_img(self.features(seg, z, noise_seed)))


class PosGenGenerator(SPADETrunk):
    """PosGen: the SPADE trunk + :class:`PixelHead` at every pixel's coordinates."""

    kind = "posgen"
    any_size = True

    def __init__(self, cfg: ModelConfig):
        super().__init__(cfg)
        init_weights(self, cfg.init_type, cfg.init_gain)  # the trunk gets SPADE's init
        self.pixel_head = PixelHead(cfg.trunk_channels, cfg.head_feat_fourier,
                                    cfg.head_coord_fourier, cfg.head_hidden, cfg.head_coord_scale)

    def decode(self, feat: torch.Tensor, query: PixelQuery) -> torch.Tensor:
        """The head at the query's pixels: f sampled there (bilinear), then PixelHead -> (B, 3, r, W)."""
        return self.pixel_head(features_at(feat, query), query.coords)

    def forward(self, seg: torch.Tensor, z: torch.Tensor | None = None,
                noise_seed: NoiseSeed = None) -> torch.Tensor:
        """seg (B, semantic_nc, H, W) -> image (B, 3, H, W) in [-1, 1], at the labels' size.

        Other sizes, windows and chunked rendering: :func:`posgen_lib.rendering.render`.
        """
        feat = self.features(seg, z, noise_seed)  # (B, C, H, W)
        return self.decode(feat, label_grid_query(feat))
