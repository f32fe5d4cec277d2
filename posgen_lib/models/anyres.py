"""Any-resolution PosGen: a per-pixel head that knows how large the pixel is and which class the label map
gives it at the output resolution.

PosGen's head (:mod:`.pixel_head`) only ever saw 1x pixels: at 4x it paints the
bilinear blend of 1x features, so upscaled renders tie bicubic interpolation.
Two findings from the literature say what a head needs to do better:

* LIIF (Chen, Liu, Wang, "Learning Continuous Image Representation with Local
  Implicit Image Function", CVPR 2021, Sec. 3.2-3.3 and Table 1): a per-pixel
  MLP on the feature of the pixel's cell, the pixel's offset from that cell's
  centre and the output pixel size ("cell decoding"), trained at random scales
  against high-resolution targets, beats bicubic by 2-4 dB; its ablation
  (Table 3) shows that the high-resolution supervision, not the decoder tricks,
  brings most of the gain. Its "feature unfolding" (the 3x3 neighbourhood of
  the cell) is ``anyres_sampling="unfold"`` here.
* ASAP-Net (Rott Shaham et al., "Spatially-Adaptive Pixelwise Networks for Fast
  Image Translation", CVPR 2021, Sec. 3): per-pixel MLPs that read the label map
  at the full output resolution, so edges land where the labels put them.

For an output pixel p with centre c_p (the coordinates of
docs/architecture.md), in label pixels u_p = (c_p + 1) / 2 * (size - 1)::

    f_p = f sampled at c_p (bilinear), or the 3x3 features of the nearest cell (unfold)
    e_p = W_e s_p                              embedding of the semantics at p (one-hot + edge)
    d_p = output pixel spacing in label pixels  (1 at 1x, 1/4 at 4x)
    g_p = sin(W_g c_p + b_g)                   coordinate Fourier features, finer than the head's
    y_p = tanh(L3(lrelu(L2(lrelu(L1([f_p, e_p, d_p, c_p, g_p]))))))

Two variants are switches of :class:`~posgen_lib.config.ModelConfig`, each an
ablation arm of the experiment (docs/results.md):

* ``anyres_offset``: also read LIIF's offset from the cell's centre, as the
  phase o_p = [sin 2 pi u_p, cos 2 pi u_p] (the same information as
  u_p - round(u_p), but continuous where a pixel crosses into the next cell, so
  no seam runs along cell boundaries and a window reproduces the pixels of a
  full render). Off by default: with a patch discriminator, a head that knows
  the phase in its cell paints a grid with the cell's period (a pattern at the
  same place in every image, which the stripes measure catches).
* ``anyres_residual``: add the detail to PosGen's own head instead,
  y_p = tanh(PosGen_logits_p + delta_p) with L3 zero-initialised, so training
  starts exactly at the PosGen it fine-tunes. Off by default: the head alone
  fitted the high-resolution targets better. Only this form has PosGen's head
  (``pixel_head``): a model carries only the parameters it reads.

With ``anyres_texture_hidden`` > 0 the generator also has a texture branch
(:mod:`.texture`): ``decode`` returns ``tanh(detail_p + t * tau_p)``, the head
above as a faithful base plus a zero-mean, label-modulated texture from
per-pixel noise, with the amplitude ``t`` of the query (``pg.render(...,
texture=t)``; default ``anyres_texture``).

Every pixel is still computed on its own: given the feature map and the label
map, a pixel depends only on its inputs (the pixel-independence test covers
this generator too). Training: :mod:`posgen_lib.train.anyres`, through the
generator interface alone (``features``, then ``decode`` of any
:class:`~posgen_lib.models.interface.PixelQuery`).
"""
from __future__ import annotations

import copy
import dataclasses
import math

import torch
import torch.nn.functional as F
from torch import nn

from ..config import ModelConfig
from ..grid import label_positions, sample_at
from .fourier import LearnedFourierFeatures
from .generator import SPADETrunk
from .interface import NoiseSeed, PixelQuery, features_at, label_grid_query, noise_seeds
from .pixel_head import PixelHead
from .spade import init_weights
from .texture import TextureHead, value_noise

UNREAD_KEYS = "pixel_head."  # in files written when every any-resolution model carried PosGen's head
TRAINED_WITH_A_FROZEN_BASE = ("detail", "texture")  # the modules that learn on a frozen trunk


def cell_phase(coords: torch.Tensor, label_size: tuple[int, int]) -> torch.Tensor:
    """[sin 2 pi u, cos 2 pi u] of the positions u in label pixels: the offset in the cell as a phase,
    (2, r, W) or (B, 2, r, W) -> (4, r, W) or (B, 4, r, W)."""
    angle = 2 * math.pi * label_positions(coords, label_size)
    return torch.cat([torch.sin(angle), torch.cos(angle)], dim=-3)


class AnyResHead(nn.Module):
    """The head: 3 Linear layers on [cell feature, semantic embedding, (offset phase), spacing, coordinates,
    coordinate Fourier features]; in the residual form its last layer starts at zero."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        feat = cfg.trunk_channels * (9 if cfg.anyres_sampling == "unfold" else 1)
        self.embed = nn.Linear(cfg.semantic_nc, cfg.anyres_embed)
        self.coord_fourier = LearnedFourierFeatures(2, cfg.anyres_coord_fourier, cfg.anyres_coord_scale)
        self.offset = cfg.anyres_offset
        self.fc1 = nn.Linear(feat + cfg.anyres_embed + 4 * self.offset + 4 + cfg.anyres_coord_fourier,
                             cfg.anyres_hidden)
        self.fc2 = nn.Linear(cfg.anyres_hidden, cfg.anyres_hidden)
        self.fc3 = nn.Linear(cfg.anyres_hidden, 3)
        if cfg.anyres_residual:
            nn.init.zeros_(self.fc3.weight)
            nn.init.zeros_(self.fc3.bias)

    def forward_pixels(self, feat: torch.Tensor, semantics: torch.Tensor, offset: torch.Tensor | None,
                       spacing: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
        """The head on N pixels: feat (N, F), semantics (N, S), offset phase (N, 4) (read only with
        ``anyres_offset``), spacing and coords (N, 2) -> (N, 3)."""
        inputs = [feat, self.embed(semantics)] + ([offset] if self.offset else [])
        x = torch.cat(inputs + [spacing, coords, self.coord_fourier(coords)], -1)
        h = F.leaky_relu(self.fc1(x), 0.2)
        return self.fc3(F.leaky_relu(self.fc2(h), 0.2))


def _per_pixel(t: torch.Tensor, batch: int) -> torch.Tensor:
    """(B, C, r, W), or (C, r, W) shared by the batch, -> (B, r, W, C): one row of inputs per pixel."""
    t = t.permute(0, 2, 3, 1) if t.dim() == 4 else t.permute(1, 2, 0).unsqueeze(0)
    return t.expand(batch, -1, -1, -1)


class AnyResGenerator(SPADETrunk):
    """PosGen's trunk plus :class:`AnyResHead` (and, in the residual form, PosGen's head); renders above the
    labels' resolution from the label map there."""

    kind = "anyres"
    any_size = True
    reads_labels = True

    def __init__(self, cfg: ModelConfig):
        super().__init__(cfg)
        init_weights(self, cfg.init_type, cfg.init_gain)  # the trunk gets SPADE's init, as PosGen's
        if cfg.anyres_residual:
            self.pixel_head = PixelHead(cfg.trunk_channels, cfg.head_feat_fourier, cfg.head_coord_fourier,
                                        cfg.head_hidden, cfg.head_coord_scale)
        self.detail = AnyResHead(cfg)
        if cfg.anyres_texture_hidden:
            self.texture = TextureHead(cfg.semantic_nc, cfg.anyres_noise_octaves, cfg.anyres_texture_embed,
                                       cfg.anyres_texture_hidden)
        self.textured = bool(cfg.anyres_texture_hidden)
        self.base_frozen = False

    def load_state_dict(self, state_dict, *args, **kwargs):
        """``nn.Module.load_state_dict``, reading files written before the non-residual form stopped
        carrying PosGen's head: their ``pixel_head.*`` entries, which its ``decode`` never read, are
        dropped (the rule :data:`UNREAD_KEYS`); every other key must match as usual."""
        if not self.cfg.anyres_residual:
            state_dict = {k: v for k, v in state_dict.items() if not k.startswith(UNREAD_KEYS)}
        return super().load_state_dict(state_dict, *args, **kwargs)

    def freeze_base(self) -> "AnyResGenerator":
        """Fix everything but the detail and texture heads (the trunk, and PosGen's head in the residual form):
        no gradients, eval-mode normalization."""
        self.base_frozen = True
        for name, p in self.named_parameters():
            p.requires_grad_(name.startswith(TRAINED_WITH_A_FROZEN_BASE))
        return self.train(self.training)

    def train(self, mode: bool = True) -> "AnyResGenerator":
        super().train(mode)
        if self.base_frozen:  # a frozen trunk normalizes with its running statistics, as at inference
            for name, module in self.named_children():
                if not name.startswith(TRAINED_WITH_A_FROZEN_BASE):
                    module.eval()
        return self

    def at_texture(self, amplitude: float) -> "AnyResGenerator":
        """This generator rendering with texture amplitude ``amplitude`` when a render does not say: a view
        whose config differs, every weight shared (``posgen eval --texture``, the experiment's front)."""
        cfg = dataclasses.replace(self.cfg, anyres_texture=amplitude)
        cfg.validate()  # an amplitude outside [0, 1] is refused
        view = copy.copy(self)
        view.cfg = cfg
        return view

    def cell_features(self, feat: torch.Tensor, query: PixelQuery) -> torch.Tensor:
        """The trunk feature(s) each queried pixel reads: (B, C, r, W), or (B, 9C, r, W) when unfolding."""
        if self.cfg.anyres_sampling == "bilinear":
            return features_at(feat, query)
        b, c, h, w = feat.shape
        neighbourhood = F.unfold(feat, 3, padding=1).view(b, 9 * c, h, w)  # the 3x3 features of each cell
        if query.label_rows is not None:
            return neighbourhood[:, :, query.label_rows]
        return sample_at(neighbourhood, query.coords, mode="nearest")

    def decode_parts(self, feat: torch.Tensor, query: PixelQuery,
                     with_texture: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(base logits, texture residual or None), each (B, 3, r, W): the detail head (over PosGen's logits
        in the residual form) and the texture branch at the query's pixels (None without a branch, or when
        ``with_texture`` is False: the base alone costs no noise)."""
        if query.semantics is None:
            raise ValueError("the anyres generator reads the semantics at the output pixels: give the query "
                             "semantics (pg.render does, from labels= or the nearest-upsampled sem)")
        b = feat.shape[0]
        coords = query.coords  # (2, r, W), or per image (B, 2, r, W)
        spacing = torch.as_tensor(query.spacing, dtype=coords.dtype, device=coords.device)
        spacing = spacing.view(-1, 1, 1, 2).expand(b, *coords.shape[-2:], 2)  # (B, r, W, 2)
        semantics = _per_pixel(query.semantics.to(feat.dtype), b)  # (B, r, W, S)
        base = self.detail.forward_pixels(
            _per_pixel(self.cell_features(feat, query), b), semantics,
            _per_pixel(cell_phase(coords, tuple(feat.shape[-2:])), b) if self.cfg.anyres_offset else None, spacing,
            _per_pixel(coords, b)).permute(0, 3, 1, 2)  # (B, 3, r, W)
        if self.cfg.anyres_residual:
            base = self.pixel_head.logits(features_at(feat, query), coords) + base
        if not (self.textured and with_texture):
            return base, None
        position = _per_pixel(label_positions(coords, tuple(feat.shape[-2:])), b) / spacing  # (B, r, W, 2): pixels
        seeds = noise_seeds(query.noise_seed, b).to(position.device).view(b, 1, 1)  # (B, 1, 1)
        noise = value_noise(position, seeds, self.cfg.anyres_noise_octaves)  # (B, r, W, octaves)
        return base, self.texture.forward_pixels(noise, semantics).permute(0, 3, 1, 2)

    def decode(self, feat: torch.Tensor, query: PixelQuery) -> torch.Tensor:
        amount = self.cfg.anyres_texture if query.texture is None else query.texture
        base, texture = self.decode_parts(feat, query, with_texture=amount != 0)
        if texture is None:
            return torch.tanh(base)
        return torch.tanh(base + amount * texture)

    def forward(self, seg: torch.Tensor, z: torch.Tensor | None = None,
                noise_seed: NoiseSeed = None) -> torch.Tensor:
        """seg (B, semantic_nc, H, W) -> image (B, 3, H, W) at the labels' size (spacing 1, the labels there)."""
        feat = self.features(seg, z, noise_seed)
        return self.decode(feat, label_grid_query(feat, seg))
