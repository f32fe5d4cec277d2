"""What a training objective is (:class:`Objective`), and SPADE's (Park et al. 2019, Sec. 4 and Appendix A).

An objective is everything that training a kind of generator means beyond the
loop itself: its losses for a generator step and a discriminator step, its
discriminator(s), the training data it needs, how the generator starts, and
the config fields only it reads. :mod:`posgen_lib.train.objectives` names the
objective of every generator kind; the trainer asks that registry and never
the kind.

SPADE's objective (:class:`GANObjective`), the one of PosGen, the SPADE
baseline and the pixel-wise generator. Generator step::

    [z = mu + eps * exp(logvar / 2),  (mu, logvar) = E(real)]        with a VAE
    fake = G(sem, z)
    D sees cat(sem, fake) and cat(sem, real) in one batch
    L_G = L_GAN(D(fake))                      hinge by default
        + lambda_feat * L_FM(D(fake), D(real))  feature matching over D's layers
        + lambda_vgg  * L_VGG(fake, real)       only with local VGG19 weights
        + lambda_kld  * KL(q(z|real) || N(0, I)) with a VAE
        + lambda_l1   * |fake - real|_1          not in SPADE; optional (synthetic preset)

Discriminator step::

    L_D = L_GAN(D(real), real) + L_GAN(D(fake.detach()), fake)

The discriminator has no batch statistics (instance norm), so scoring fake
and real in one concatenated batch is the same as two separate calls.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from fnmatch import fnmatchcase
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Dataset

from ..config import Config
from ..data.build import build_dataset
from ..models.discriminator import MultiscaleDiscriminator, reparameterize
from ..models.interface import Generator
from .losses import VGGLoss, feature_matching_loss, gan_loss, kl_divergence, split_pred


def discriminate(D, sem: torch.Tensor, fake: torch.Tensor, real: torch.Tensor):
    """D on the (semantics, image) pairs of fake and real; returns (pred_fake, pred_real)."""
    pairs = torch.cat([torch.cat([sem, fake], 1), torch.cat([sem, real], 1)], 0)  # (2B, C+3, H, W)
    return split_pred(D(pairs))


class Objective(ABC):
    """The contract of a training objective; subclass it and list the subclass in
    :data:`posgen_lib.train.objectives.OBJECTIVES`.

    The trainer calls, in this order::

        objective = build_objective(cfg)                 the kind's, from the registry (cheap: no data, no models)
        dataset   = objective.training_set(dataset)      the data it trains on (None: the config's train split)
        G = build_generator(cfg.model); objective.initialise(G)
        D = objective.discriminator()
        step = objective.generator_step(G)               the module the G step calls (wrapped in DDP, compiled)
        per batch:
            g_losses, fakes = objective.generator_losses(step, D, sem, real, E, extra)
            d_losses        = objective.discriminator_losses(D, sem, real, fakes, extra)

    ``extra`` holds the batch's other entries (e.g. ground-truth patches); ``fakes``
    is whatever the D step needs from the G step. An objective uses the
    generator only through :class:`~posgen_lib.models.interface.Generator`.
    """

    name: ClassVar[str]  # how the registry and the docs call it
    # Config fields ("section.name", shell patterns allowed) that only this objective reads: the recipe
    # of a run with another objective leaves them out (posgen_lib.train.objectives.recipe).
    fields: ClassVar[tuple[str, ...]] = ()
    # Generator flags (Generator.any_size, .reads_labels ...) that a generator trained this way must have.
    requires: ClassVar[tuple[str, ...]] = ()

    def __init__(self, cfg: Config):
        self.cfg = cfg

    @classmethod
    def reads(cls, field: str) -> bool:
        """Whether ``field`` ("train.lambda_rec") is one of :attr:`fields`."""
        return any(fnmatchcase(field, pattern) for pattern in cls.fields)

    def to(self, device) -> "Objective":
        """Move the objective's own modules (a loss network) to ``device``."""
        return self

    def training_set(self, dataset: Dataset | None = None) -> Dataset:
        """The dataset to train on: ``dataset``, or the config's train split, as this objective needs it."""
        return dataset if dataset is not None else build_dataset(self.cfg, "train")

    def initialise(self, G: Generator) -> None:
        """Prepare a freshly built generator (e.g. load and freeze parts of a trained one); by default nothing."""

    def generator_step(self, G: Generator) -> nn.Module:
        """The module :meth:`generator_losses` calls: ``G`` itself, unless one forward must do more."""
        return G

    @abstractmethod
    def discriminator(self) -> nn.Module:
        """A freshly initialised discriminator (or a module holding several)."""

    @abstractmethod
    def generator_losses(self, G, D, sem: torch.Tensor, real: torch.Tensor, E=None,
                         extra: dict | None = None) -> tuple[dict[str, torch.Tensor], object]:
        """({name: loss}, fakes) of a generator step; ``G`` is :meth:`generator_step`'s module."""

    @abstractmethod
    def discriminator_losses(self, D, sem: torch.Tensor, real: torch.Tensor, fakes,
                             extra: dict | None = None) -> dict[str, torch.Tensor]:
        """{name: loss} of a discriminator step (empty: no discriminator step)."""


class GANObjective(Objective):
    """SPADE's objective: the loss terms of one generator step and one discriminator step, with SPADE's
    multiscale patch discriminator."""

    name = "gan"

    def __init__(self, cfg: Config):
        super().__init__(cfg)
        t = cfg.train
        self.vgg = VGGLoss(t.vgg_weights) if t.lambda_vgg > 0 and t.vgg_weights is not None else None

    def to(self, device) -> "GANObjective":
        if self.vgg is not None:
            self.vgg.to(device)
        return self

    def discriminator(self) -> nn.Module:
        return MultiscaleDiscriminator(self.cfg.model)

    def generator_losses(self, G, D, sem: torch.Tensor, real: torch.Tensor, E=None,
                         extra: dict | None = None) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        cfg = self.cfg.train
        losses = {}
        z = None
        if E is not None:
            mu, logvar = E(real)  # (B, z_dim) each
            z = reparameterize(mu, logvar)
            losses["G_kld"] = kl_divergence(mu.float(), logvar.float()) * cfg.lambda_kld
        fake = G(sem, z)  # (B, 3, H, W)
        losses.update(self.losses_for_fake(D, sem, fake, real))
        return {k: v.float() for k, v in losses.items()}, fake

    def losses_for_fake(self, D, sem: torch.Tensor, fake: torch.Tensor, real: torch.Tensor) -> dict:
        """The generator's GAN, feature-matching, VGG and L1 terms for an already generated ``fake``."""
        cfg = self.cfg.train
        losses = {}
        pred_fake, pred_real = discriminate(D, sem, fake, real)
        losses["G_GAN"] = gan_loss(pred_fake, True, cfg.gan_mode, for_discriminator=False)
        if cfg.lambda_feat > 0:
            losses["G_feat"] = feature_matching_loss(pred_fake, pred_real, cfg.lambda_feat)
        if self.vgg is not None:
            losses["G_vgg"] = self.vgg(fake.float(), real.float()) * cfg.lambda_vgg
        if cfg.lambda_l1 > 0:
            losses["G_l1"] = F.l1_loss(fake.float(), real.float()) * cfg.lambda_l1
        return losses

    def discriminator_losses(self, D, sem: torch.Tensor, real: torch.Tensor,
                             fake: torch.Tensor, extra: dict | None = None) -> dict[str, torch.Tensor]:
        pred_fake, pred_real = discriminate(D, sem, fake.detach(), real)
        return {"D_fake": gan_loss(pred_fake, False, self.cfg.train.gan_mode).float(),
                "D_real": gan_loss(pred_real, True, self.cfg.train.gan_mode).float()}
