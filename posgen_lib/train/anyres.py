"""Any-resolution training: supervision above the labels' resolution for :class:`~posgen_lib.models.anyres.AnyResGenerator`.

Each training image carries a scale ``s`` in [1, s_max] and K ground-truth
patches of P x P pixels at that scale (:class:`posgen_lib.data.patches.ScaledPatches`,
after Chai et al., ECCV 2022). A step::

    sem, real, patches          1x semantics and photo; per image K patches at its scale s
    q      = the K windows of an image side by side: coords (B, 2, P, K*P), spacing 1/s,
             semantics of the patches' own (high-resolution) label maps
    img, y = G(sem, query=q)    the 1x image and the patch pixels, in one forward
    L_G    = [SPADE's objective at 1x, when the trunk trains]
           + lambda_rec         * |y - y_true|_1                          reconstruction
           + lambda_patch_gan   * hinge_G(D_patch(patch semantics, y))    texture
           + lambda_consistency * |avgpool_k(y_sub) - img|_1             area averages = the 1x output
    L_D    = [SPADE's D loss at 1x] + hinge_D(D_patch(real patches), D_patch(y))

``y_sub`` renders, for each image, a block of 1x pixels at k x k sub-pixel
positions (k = 2..4, from s), so its k x k averages sit exactly on 1x pixels.
With ``anyres_init`` the run starts from a trained PosGen (its trunk and head),
and with ``anyres_freeze`` those stay fixed: only the detail head (and the
patch discriminator) learn, and the 1x image changes only through the detail
head. The perception-distortion trade-off (Blau & Michaeli, CVPR 2018) is the
choice of ``lambda_patch_gan`` against ``lambda_rec``; docs/results.md measures it.
"""
from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F
from torch import nn

from ..config import Config, ModelConfig
from ..data.labels import get_label_set
from ..data.patches import patch_coords
from ..data.transforms import to_semantics
from ..models.discriminator import MultiscaleDiscriminator
from ..models.fourier import coordinate_grid
from ..models.interface import PixelQuery
from .losses import gan_loss, split_pred
from .objective import GANObjective

CONSISTENCY_BLOCK = 8  # 1x pixels per side of the block rendered at sub-pixel positions


def patch_discriminator_config(cfg: ModelConfig) -> ModelConfig:
    """The conditional patch discriminator: one scale, ``patch_n_layers`` layers, ``patch_ndf`` filters."""
    return dataclasses.replace(cfg, ndf=cfg.patch_ndf, num_D=1, n_layers_D=cfg.patch_n_layers)


class AnyResDiscriminators(nn.Module):
    """SPADE's discriminator at 1x (when the trunk trains) and the discriminator of high-resolution patches.

    ``D(x)`` scores 1x pairs, ``D(x, patch=True)`` patch pairs; both are (semantics, image) concatenations.
    """

    def __init__(self, cfg: ModelConfig, image: bool):
        super().__init__()
        self.image = MultiscaleDiscriminator(cfg) if image else None
        self.patch = MultiscaleDiscriminator(patch_discriminator_config(cfg))

    def forward(self, x: torch.Tensor, patch: bool = False):
        return self.patch(x) if patch else self.image(x)


def side_by_side(t: torch.Tensor, count: int) -> torch.Tensor:
    """(B*K, C, P, P) -> (B, C, P, K*P): the K patches of each image next to each other."""
    bk, c, p, _ = t.shape
    return t.view(bk // count, count, c, p, p).permute(0, 2, 3, 1, 4).reshape(bk // count, c, p, count * p)


def one_by_one(t: torch.Tensor, count: int) -> torch.Tensor:
    """The inverse of :func:`side_by_side`: (B, C, P, K*P) -> (B*K, C, P, P)."""
    b, c, p, kp = t.shape
    return t.view(b, c, p, count, p).permute(0, 3, 1, 2, 4).reshape(b * count, c, p, p)


def subpixel_block(label_size: tuple[int, int], k: int, top: int, left: int, n: int) -> tuple[torch.Tensor, tuple]:
    """Pixel centres (2, n*k, n*k) of k x k sub-pixels of each 1x pixel of the n x n block at (top, left),
    and the spacing (1/k, 1/k) in label pixels."""
    h, w = label_size
    step_x, step_y = 2 / max(w - 1, 1), 2 / max(h - 1, 1)
    first = (1 / k - 1) / 2  # the first sub-pixel centre, in 1x pixels from the pixel's centre
    x0 = -1 + (left + first) * step_x
    y0 = -1 + (top + first) * step_y
    x1 = -1 + (left + n - 1 - first) * step_x
    y1 = -1 + (top + n - 1 - first) * step_y
    return coordinate_grid((n * k, n * k), (x0, y0, x1, y1)), (1 / k, 1 / k)


class AnyResObjective:
    """Loss terms of one any-resolution generator step and one discriminator step (module docstring)."""

    def __init__(self, cfg: Config):
        self.cfg, self.t = cfg, cfg.train
        self.base = GANObjective(cfg.train)
        self.label_set = get_label_set(cfg.data.label_set)
        self.trains_trunk = not (cfg.train.anyres_init and cfg.train.anyres_freeze)

    def to(self, device) -> "AnyResObjective":
        self.base.to(device)
        return self

    # ----- inputs ------------------------------------------------------------------------
    def patch_query(self, extra: dict, label_size: tuple[int, int]) -> tuple[PixelQuery, torch.Tensor]:
        """The query of every image's patches side by side, and their semantics (B*K, S, P, P)."""
        label, instance = extra["patch_label"], extra["patch_instance"]  # (B, K, P+2, P+2)
        b, k, p2, _ = label.shape
        p = p2 - 2
        sem = to_semantics(label.reshape(b * k, p2, p2), instance.reshape(b * k, p2, p2), self.label_set,
                           self.cfg.model.use_instance)[:, :, 1:-1, 1:-1]  # (B*K, S, P, P): halo cut off
        coords = torch.cat([patch_coords(w, p) for w in extra["patch_window"]])  # (B*K, 2, P, P)
        windows = extra["patch_window"][:, 0]  # (B, 4): the spacing is the same for an image's patches
        h, w = label_size
        spacing = torch.stack([(windows[:, 2] - windows[:, 0]) / (p - 1) * (w - 1) / 2,
                               (windows[:, 3] - windows[:, 1]) / (p - 1) * (h - 1) / 2], dim=1)  # (B, 2)
        query = PixelQuery(side_by_side(coords, k), spacing, None, side_by_side(sem, k))
        return query, sem

    def consistency_query(self, sem: torch.Tensor, scales: torch.Tensor, generator: torch.Generator):
        """Per image a block of 1x pixels at k x k sub-pixels (k from its scale), semantics nearest-upsampled.

        Returns (query, k, (top, left)) with one k for the batch (the batch's median scale, in 2..4).
        """
        h, w = sem.shape[-2:]
        k = int(min(4, max(2, round(float(scales.median())))))
        n = min(CONSISTENCY_BLOCK, h, w)
        top = int(torch.randint(h - n + 1, (), generator=generator))
        left = int(torch.randint(w - n + 1, (), generator=generator))
        coords, spacing = subpixel_block((h, w), k, top, left, n)
        coords = coords.to(sem.device)
        nearest = sem[:, :, top:top + n, left:left + n].repeat_interleave(k, 2).repeat_interleave(k, 3)
        return PixelQuery(coords, spacing, None, nearest), k, (top, left, n)

    # ----- the two steps -----------------------------------------------------------------
    def generator_losses(self, G, D, sem, real, E=None, extra: dict | None = None):
        t = self.t
        count = extra["patch_label"].shape[1]
        query, patch_sem = self.patch_query(extra, tuple(sem.shape[-2:]))
        queries = [query]
        if t.lambda_consistency > 0:
            generator = torch.Generator().manual_seed(int(extra["patch_scale"].sum() * 1e4))
            sub_query, k, (top, left, n) = self.consistency_query(sem, extra["patch_scale"], generator)
            queries.append(sub_query)
        fake, rendered = G(sem, queries=queries)  # one trunk pass: (B, 3, h, w) and the queried pixels
        losses = self.base.losses_for_fake(D, sem, fake, real) if self.trains_trunk else {}
        fake_patches = one_by_one(rendered[0], count)  # (B*K, 3, P, P)
        real_patches = extra["patch_image"].flatten(0, 1)
        if t.lambda_rec > 0:
            losses["G_rec"] = F.l1_loss(fake_patches.float(), real_patches.float()) * t.lambda_rec
        if t.lambda_patch_gan > 0:
            pred = D(torch.cat([patch_sem, fake_patches], 1), patch=True)
            losses["G_patch"] = gan_loss(pred, True, t.gan_mode, for_discriminator=False) * t.lambda_patch_gan
        if t.lambda_consistency > 0:
            averaged = F.avg_pool2d(rendered[1].float(), k)  # (B, 3, n, n): k x k averages on 1x pixels
            target = fake[:, :, top:top + n, left:left + n].float()
            losses["G_consistency"] = F.l1_loss(averaged, target) * t.lambda_consistency
        return {name: v.float() for name, v in losses.items()}, {
            "image": fake, "patches": fake_patches, "patch_sem": patch_sem, "real_patches": real_patches}

    def discriminator_losses(self, D, sem, real, fakes: dict, extra: dict | None = None) -> dict:
        losses = {}
        if self.trains_trunk:
            losses.update(self.base.discriminator_losses(D, sem, real, fakes["image"]))
        if self.t.lambda_patch_gan > 0:
            pairs = torch.cat([torch.cat([fakes["patch_sem"], fakes["patches"].detach()], 1),
                               torch.cat([fakes["patch_sem"], fakes["real_patches"]], 1)])
            pred_fake, pred_real = split_pred(D(pairs, patch=True))
            losses["D_patch_fake"] = gan_loss(pred_fake, False, self.t.gan_mode).float()
            losses["D_patch_real"] = gan_loss(pred_real, True, self.t.gan_mode).float()
        return losses
