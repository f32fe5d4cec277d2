"""Any-resolution training: supervision above the labels' resolution for :class:`~posgen_lib.models.anyres.AnyResGenerator`.

Each training image carries a scale ``s`` in [1, s_max] and K ground-truth
patches of P x P pixels at that scale (:class:`posgen_lib.data.patches.ScaledPatches`,
after Chai et al., ECCV 2022). A step::

    sem, real, patches          1x semantics and photo; per image K patches at its scale s
    q      = the K windows of an image side by side: coords (B, 2, P, K*P), spacing 1/s,
             semantics of the patches' own (high-resolution) label maps
    f      = G.features(sem)                           one trunk pass
    img, y = G.decode(f, 1x grid), G.decode(f, q)      the 1x image and the patch pixels
    L_G    = [SPADE's objective at 1x, when the trunk trains]
           + lambda_rec         * |y - y_true|_1                          reconstruction
           + lambda_patch_gan   * hinge_G(D_patch(patch semantics, y))    texture
           + lambda_consistency * |avgpool_k(y_sub) - img|_1             area averages = the 1x output

A textured generator (``anyres_texture_hidden`` > 0, :mod:`posgen_lib.models.texture`)
splits ``y`` into a faithful base ``b = tanh(base)`` and ``y_t = tanh(base + tau)``:
the reconstruction and consistency terms read ``b`` (so the base stays the
conditional median that L1 trains), the patch discriminator reads ``y_t`` with
the base detached (so the GAN trains the texture and nothing else), and the
noise of ``tau`` is drawn anew every step.
    L_D    = [SPADE's D loss at 1x] + hinge_D(D_patch(real patches), D_patch(y))

``y_sub`` renders, for each image, a block of 1x pixels at k x k sub-pixel
positions (k = 2..4, from s), so its k x k averages sit exactly on 1x pixels.
With ``anyres_init`` the run starts from a trained PosGen (its trunk, and its
head in the residual form), and with ``anyres_freeze`` those stay fixed: only
the detail head (and the patch discriminator) learn, and the 1x image changes
only through the detail head. The perception-distortion trade-off (Blau &
Michaeli, CVPR 2018) is the choice of ``lambda_patch_gan`` against
``lambda_rec``; docs/results.md measures it.

:class:`AnyResObjective` is the objective of the ``anyres`` generator kind
(:mod:`posgen_lib.train.objectives`): it uses the generator only through its
interface, ``features`` and ``decode`` (:class:`ImageAndPixels`).
"""
from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F
from torch import nn

from ..config import Config, ModelConfig, config_diff
from ..data.build import build_dataset
from ..data.labels import get_label_set
from ..data.patches import ScaledPatches, patch_coords
from ..data.transforms import to_semantics
from ..errors import CheckpointError
from ..grid import coordinate_grid, pixel_spacing, subpixel_window
from ..models.discriminator import MultiscaleDiscriminator
from ..models.interface import Generator, PixelQuery, label_grid_query
from ..models.registry import load_any
from .losses import gan_loss, split_pred
from .objective import GANObjective, Objective

CONSISTENCY_BLOCK = 8  # 1x pixels per side of the block rendered at sub-pixel positions
NEW_PARTS = ("detail.", "texture.")  # what an any-resolution model adds to the PosGen it starts from


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
    and the spacing (1/k, 1/k) in label pixels (:func:`posgen_lib.grid.subpixel_window`)."""
    return coordinate_grid((n * k, n * k), subpixel_window(label_size, k, top, left, n)), (1 / k, 1 / k)


class ImageAndPixels(nn.Module):
    """One trunk pass of ``G``, decoded at the labels' own pixels and at the pixels of each query.

    ``forward(sem, z, queries) -> (image (B, 3, h, w), [G.decode(feat, q) for q in queries])``, through
    the generator interface alone; for a textured generator the image is its base (texture 0) and each
    query gives ``G.decode_parts(feat, q)``, the base logits and the texture. It is a module so that the trainer can wrap it, as it wraps ``G``
    itself for other objectives: DistributedDataParallel synchronizes gradients only of what runs
    inside a wrapped module's ``forward``.
    """

    def __init__(self, G: Generator):
        super().__init__()
        self.G = G

    def forward(self, sem: torch.Tensor, z: torch.Tensor | None, queries: list[PixelQuery]):
        feat = self.G.features(sem, z)  # (B, C, h, w)
        grid = label_grid_query(feat, sem)
        if not self.G.textured:
            return self.G.decode(feat, grid), [self.G.decode(feat, q) for q in queries]  # image: G(sem, z)
        image = torch.tanh(self.G.decode_parts(feat, grid, with_texture=False)[0])  # (B, 3, h, w): base at 1x
        return image, [self.G.decode_parts(feat, q) for q in queries]  # (base logits, texture) per query


def faithful_and_judged(pixels) -> tuple[torch.Tensor, torch.Tensor]:
    """(what the reconstruction and consistency terms see, what the patch discriminator sees) of decoded
    pixels: the same image for a plain generator; for a textured one (base logits, texture), the base alone
    and the base with its texture added, the base detached, so that the L1 terms train the base and the
    discriminator trains the texture and nothing else."""
    if isinstance(pixels, torch.Tensor):
        return pixels, pixels
    base, texture = pixels
    return torch.tanh(base), torch.tanh(base.detach() + texture)


def start_from(G: Generator, spec: str, freeze: bool) -> None:
    """Initialise ``G``'s trunk (and PosGen's head, in the residual form) from a trained model
    (``model.pt``, a checkpoint or ``pretrained:NAME``); with ``freeze`` they stay fixed (in eval mode)
    and only the rest trains."""
    def may_differ(field: str) -> bool:  # the kind, and what only the any-resolution objective reads
        return field == "model.generator" or AnyResObjective.reads(field)

    source, source_cfg, _ = load_any(spec)
    diff = [d for d in config_diff(source_cfg, Config(model=G.cfg), ("model",)) if not may_differ(d.split(":")[0])]
    if diff:
        raise CheckpointError(f"anyres_init {spec}: its model differs from this one ({'; '.join(diff)})")
    weights = source.state_dict()
    missing = [k for k in G.state_dict() if k not in weights and not k.startswith(NEW_PARTS)]
    if missing:
        raise CheckpointError(f"anyres_init {spec} lacks {missing[:4]}: start from a PosGen model")
    G.load_state_dict({**G.state_dict(), **{k: v for k, v in weights.items() if k in G.state_dict()}})
    if freeze:
        G.freeze_base()


class AnyResObjective(Objective):
    """The objective of the any-resolution generator: SPADE's at 1x (while the trunk trains), plus
    reconstruction, a patch GAN and consistency above 1x (module docstring)."""

    name = "anyres"
    fields = ("model.anyres_*", "model.patch_*", "train.anyres_*", "train.lambda_rec", "train.lambda_patch_gan",
              "train.lambda_consistency")
    requires = ("any_size", "reads_labels")

    def __init__(self, cfg: Config):
        super().__init__(cfg)
        self.t = cfg.train
        self.base = GANObjective(cfg)
        self.label_set = get_label_set(cfg.data.label_set)
        self.trains_trunk = not (cfg.train.anyres_init and cfg.train.anyres_freeze)

    def to(self, device) -> "AnyResObjective":
        self.base.to(device)
        return self

    def training_set(self, dataset=None):
        """Every item with ground-truth patches at a random scale (:class:`~posgen_lib.data.patches.ScaledPatches`);
        the config's train split is read with its originals up to ``anyres_scale_max`` times the size."""
        t = self.t
        if dataset is None:
            dataset = build_dataset(self.cfg, "train", high_res=t.anyres_scale_max)
        return ScaledPatches(dataset, t.anyres_scale_max, t.anyres_patch, t.anyres_patches, t.anyres_boundary,
                             t.seed)

    def initialise(self, G: Generator) -> None:
        if self.t.anyres_init:
            start_from(G, self.t.anyres_init, freeze=self.t.anyres_freeze)

    def discriminator(self) -> nn.Module:
        return AnyResDiscriminators(self.cfg.model, image=self.trains_trunk)

    def generator_step(self, G: Generator) -> nn.Module:
        return ImageAndPixels(G)

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
        spacing = torch.stack(pixel_spacing(label_size, (p, p), windows.unbind(1)), dim=1)  # (B, 2)
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
        query.noise_seed = torch.randint(2**30, (sem.shape[0],))  # new texture per image and step (saved RNG)
        queries = [query]
        if t.lambda_consistency > 0:
            generator = torch.Generator().manual_seed(int(extra["patch_scale"].sum() * 1e4))
            sub_query, k, (top, left, n) = self.consistency_query(sem, extra["patch_scale"], generator)
            queries.append(sub_query)
        fake, rendered = G(sem, None, queries)  # ImageAndPixels: (B, 3, h, w) and the queried pixels
        rendered = [faithful_and_judged(r) for r in rendered]
        losses = self.base.losses_for_fake(D, sem, fake, real) if self.trains_trunk else {}
        fake_patches, judged = (one_by_one(x, count) for x in rendered[0])  # (B*K, 3, P, P) each
        real_patches = extra["patch_image"].flatten(0, 1)
        if t.lambda_rec > 0:
            losses["G_rec"] = F.l1_loss(fake_patches.float(), real_patches.float()) * t.lambda_rec
        if t.lambda_patch_gan > 0:
            pred = D(torch.cat([patch_sem, judged], 1), patch=True)
            losses["G_patch"] = gan_loss(pred, True, t.gan_mode, for_discriminator=False) * t.lambda_patch_gan
        if t.lambda_consistency > 0:
            averaged = F.avg_pool2d(rendered[1][0].float(), k)  # (B, 3, n, n): k x k averages on 1x pixels
            target = fake[:, :, top:top + n, left:left + n].float()
            losses["G_consistency"] = F.l1_loss(averaged, target) * t.lambda_consistency
        return {name: v.float() for name, v in losses.items()}, {
            "image": fake, "patches": judged, "patch_sem": patch_sem, "real_patches": real_patches}

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
