"""OASIS's objective (Schonfeld et al., "You Only Need Adversarial Supervision for Semantic Image Synthesis",
ICLR 2021): a discriminator that segments, instead of one that judges patches.

The discriminator D (:class:`~posgen_lib.models.discriminator.SegmentationDiscriminator`)
labels every pixel of an image with one of the N semantic classes or "fake"
(class 0). With ``t_p`` the class of pixel p in the label map (1..N) and
``w_c`` = HW / (n_present * count_c) the class-balancing weight of the batch
(Sec. 3.1, Eq. 3: rare classes count as much as frequent ones)::

    L_D = - E[ sum_p w_{t_p} log D(real)_{p, t_p} ] - E[ sum_p log D(fake)_{p, 0} ]     (Eq. 2)
        + lambda_labelmix * || D(mix) - (M * D(real) + (1 - M) * D(fake)) ||^2        LabelMix (Eq. 4)
    L_G = - E[ sum_p w_{t_p} log D(fake)_{p, t_p} ]                                   (Eq. 5)
        [+ lambda_l1 * |fake - real|_1, + VGG, + KL]     kept where the recipe has them (not in OASIS)

LabelMix (Sec. 3.3): M is a binary map that gives every class of the image
either to the real or to the fake photo; ``mix = M * real + (1 - M) * fake``.
Asking D's logits on the mix to equal the same mix of its logits on the two
photos makes D judge content within a class, not the class boundaries that
the label map already fixes. OASIS also drops SPADE's feature matching (there
are no patch features to match) and its VGG loss; here the L1 term to the
photo stays where the recipe has it. OASIS's 3D noise is this project's
``model.noise`` (per-pixel noise in the trunk).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..data.labels import get_label_set
from ..models.discriminator import SegmentationDiscriminator
from .objective import GANObjective

FAKE = 0  # the discriminator's class of generated pixels; semantic class k is k + 1


def class_targets(sem: torch.Tensor, classes: int) -> torch.Tensor:
    """The class of every pixel, 1..N, from the one-hot label channels of ``sem`` (B, S, H, W) -> (B, H, W)."""
    return sem[:, :classes].argmax(1) + 1


def balancing_weights(targets: torch.Tensor, classes: int) -> torch.Tensor:
    """OASIS's per-pixel weights (Eq. 3): w_c = pixels / (classes present * pixels of class c) -> (B, H, W)."""
    counts = torch.bincount(targets.flatten(), minlength=classes + 1).float()  # (N + 1,)
    present = (counts > 0).sum().clamp(min=1)
    weights = targets.numel() / (present * counts.clamp(min=1))
    return weights[targets]


def labelmix_mask(targets: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """(B, 1, H, W) float: per image, every class goes wholly to the real (1) or the fake (0) photo."""
    b, classes = targets.shape[0], int(targets.max()) + 1
    coin = torch.randint(0, 2, (b, classes), generator=generator).to(targets.device)  # a coin per class
    return torch.gather(coin, 1, targets.flatten(1)).view_as(targets)[:, None].float()


class OASISObjective(GANObjective):
    """OASIS's segmentation-discriminator objective with LabelMix, for any generator SPADE's objective trains."""

    name = "oasis"
    fields = ("train.lambda_labelmix", "model.seg_ndf")

    def __init__(self, cfg):
        super().__init__(cfg)
        self.classes = get_label_set(cfg.data.label_set).semantic_channels  # N (with dontcare / void)

    def discriminator(self) -> nn.Module:
        return SegmentationDiscriminator(self.cfg.model, self.classes)

    def _cross_entropy(self, logits: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor | None):
        loss = F.cross_entropy(logits.float(), targets, reduction="none")  # (B, H, W)
        return (loss * weights).mean() if weights is not None else loss.mean()

    def losses_for_fake(self, D, sem: torch.Tensor, fake: torch.Tensor, real: torch.Tensor) -> dict:
        t = self.cfg.train
        targets = class_targets(sem, self.classes)
        losses = {"G_GAN": self._cross_entropy(D(fake), targets, balancing_weights(targets, self.classes))}
        if self.vgg is not None:
            losses["G_vgg"] = self.vgg(fake.float(), real.float()) * t.lambda_vgg
        if t.lambda_l1 > 0:
            losses["G_l1"] = F.l1_loss(fake.float(), real.float()) * t.lambda_l1
        return losses

    def discriminator_losses(self, D, sem: torch.Tensor, real: torch.Tensor, fake: torch.Tensor,
                             extra: dict | None = None) -> dict[str, torch.Tensor]:
        fake = fake.detach()
        targets = class_targets(sem, self.classes)
        logits_fake, logits_real = D(torch.cat([fake, real])).chunk(2)  # (B, N + 1, H, W) each
        losses = {"D_real": self._cross_entropy(logits_real, targets, balancing_weights(targets, self.classes)),
                  "D_fake": self._cross_entropy(logits_fake, torch.full_like(targets, FAKE), None)}
        if self.cfg.train.lambda_labelmix > 0:
            mask = labelmix_mask(targets)
            mixed = D(mask * real + (1 - mask) * fake)
            target = mask * logits_real + (1 - mask) * logits_fake
            losses["D_labelmix"] = F.mse_loss(mixed.float(), target.float()) * self.cfg.train.lambda_labelmix
        return {k: v.float() for k, v in losses.items()}
