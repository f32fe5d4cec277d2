"""SPADE's training objective for one batch (Park et al. 2019, Sec. 4 and Appendix A).

Generator step::

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

import torch
import torch.nn.functional as F

from ..config import TrainConfig
from ..models.discriminator import reparameterize
from .losses import VGGLoss, feature_matching_loss, gan_loss, kl_divergence, split_pred


def discriminate(D, sem: torch.Tensor, fake: torch.Tensor, real: torch.Tensor):
    """D on the (semantics, image) pairs of fake and real; returns (pred_fake, pred_real)."""
    pairs = torch.cat([torch.cat([sem, fake], 1), torch.cat([sem, real], 1)], 0)  # (2B, C+3, H, W)
    return split_pred(D(pairs))


class GANObjective:
    """Loss terms of one generator step and one discriminator step."""

    def __init__(self, cfg: TrainConfig):
        self.cfg = cfg
        use_vgg = cfg.lambda_vgg > 0 and cfg.vgg_weights is not None
        self.vgg = VGGLoss(cfg.vgg_weights) if use_vgg else None

    def to(self, device) -> "GANObjective":
        if self.vgg is not None:
            self.vgg.to(device)
        return self

    def generator_losses(self, G, D, sem: torch.Tensor, real: torch.Tensor, E=None,
                         extra: dict | None = None) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        cfg = self.cfg
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
        cfg = self.cfg
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
        return {"D_fake": gan_loss(pred_fake, False, self.cfg.gan_mode).float(),
                "D_real": gan_loss(pred_real, True, self.cfg.gan_mode).float()}
