"""GAN losses, feature matching, KL divergence and the VGG perceptual loss.

All adversarial losses take the multiscale discriminator's output (a list over
scales of lists of layer outputs) and use each scale's last output, the patch
logits; the per-scale losses are averaged over scales, as in SPADE.

* hinge (Lim & Ye 2017; Miyato et al. 2018 Eq. 17, SPADE's default):
  L_D = E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(s)))],  L_G = -E[D(G(s))]
* least squares (Mao et al. 2017): L_D = E[(D(x) - 1)^2] + E[D(G(s))^2], L_G = E[(D(G(s)) - 1)^2]
* original (Goodfellow et al. 2014, non-saturating G): binary cross-entropy on logits
* feature matching (pix2pixHD, Wang et al. 2018, Eq. 4): L1 between the
  discriminator's intermediate outputs on real and fake pairs, summed over layers,
  times lambda_feat / num_D
* KL divergence of the VAE posterior to N(0, I) (Kingma & Welling 2014, Appendix B)
* VGG19 perceptual loss (SPADE's weights 1/32 .. 1 on relu1_1 .. relu5_1), only
  from a local weights file: nothing is downloaded.

SPADE returns its GAN losses as shape-[1] tensors; these return scalars with
the same values.
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

Pyramid = list[list[torch.Tensor]]


def _logits(pred: Pyramid) -> list[torch.Tensor]:
    return [scale[-1] if isinstance(scale, (list, tuple)) else scale for scale in pred]


def _loss_one(x: torch.Tensor, real: bool, mode: str, for_discriminator: bool) -> torch.Tensor:
    if mode == "hinge":
        if not for_discriminator:
            return -x.mean()
        return F.relu(1 - x).mean() if real else F.relu(1 + x).mean()
    if mode == "ls":
        return F.mse_loss(x, torch.full_like(x, 1.0 if real else 0.0))
    if mode == "original":
        return F.binary_cross_entropy_with_logits(x, torch.full_like(x, 1.0 if real else 0.0))
    raise ValueError(f"unknown gan_mode {mode!r}: choose hinge, ls or original")


def gan_loss(pred: Pyramid, real: bool, mode: str = "hinge", for_discriminator: bool = True) -> torch.Tensor:
    """Adversarial loss averaged over scales.

    For the generator pass ``real=True, for_discriminator=False``.
    """
    logits = _logits(pred)
    return sum(_loss_one(x, real, mode, for_discriminator) for x in logits) / len(logits)


def feature_matching_loss(pred_fake: Pyramid, pred_real: Pyramid, lambda_feat: float = 10.0) -> torch.Tensor:
    """Sum over scales and intermediate layers of L1(fake, real.detach()) * lambda_feat / num_D."""
    num_d = len(pred_fake)
    loss = pred_fake[0][0].new_zeros(())
    for fake_scale, real_scale in zip(pred_fake, pred_real):
        for fake, real in zip(fake_scale[:-1], real_scale[:-1]):
            loss = loss + F.l1_loss(fake, real.detach()) * (lambda_feat / num_d)
    return loss


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) = -1/2 sum(1 + logvar - mu^2 - exp(logvar)), summed over all elements."""
    return -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())


def split_pred(pred: Pyramid) -> tuple[Pyramid, Pyramid]:
    """Split a discriminator output on cat([fake, real]) along the batch into (fake, real)."""
    fake = [[t[: t.shape[0] // 2] for t in scale] for scale in pred]
    real = [[t[t.shape[0] // 2:] for t in scale] for scale in pred]
    return fake, real


class VGGLoss(nn.Module):
    """SPADE's perceptual loss: sum_i w_i * L1(VGG_i(x), VGG_i(y).detach()).

    ``weights_path`` is a local torchvision VGG19 state dict (the file named
    ``vgg19-dcbb9e9d.pth`` that ``torchvision.models.vgg19(weights="IMAGENET1K_V1")``
    would download). Like SPADE, images in [-1, 1] are fed without ImageNet
    normalization.
    """

    LAYER_WEIGHTS = (1.0 / 32, 1.0 / 16, 1.0 / 8, 1.0 / 4, 1.0)
    SLICES = ((0, 2), (2, 7), (7, 12), (12, 21), (21, 30))  # relu1_1 .. relu5_1

    def __init__(self, weights_path: str | Path | None):
        super().__init__()
        if weights_path is None:
            raise ValueError(
                "VGGLoss needs a local VGG19 weights file: pass vgg_weights=PATH (torchvision's "
                "vgg19-dcbb9e9d.pth), or set lambda_vgg=0 to train without the perceptual loss")
        path = Path(weights_path)
        if not path.is_file():
            raise FileNotFoundError(f"VGG19 weights not found at {path}: download torchvision's "
                                    "vgg19-dcbb9e9d.pth yourself and pass its path")
        from torchvision.models import vgg19

        vgg = vgg19(weights=None)
        try:
            vgg.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        except Exception as err:  # not a weights file, another network's weights, a damaged file ...
            raise ValueError(f"VGG19 weights {path} (--vgg-weights) cannot be loaded: it is not torchvision's "
                             f"VGG19 state dict ({type(err).__name__}); pass vgg19-dcbb9e9d.pth") from None
        features = vgg.features
        self.slices = nn.ModuleList(nn.Sequential(*features[a:b]) for a, b in self.SLICES)
        self.requires_grad_(False)
        self.eval()

    def _features(self, x: torch.Tensor) -> list[torch.Tensor]:
        out = []
        for s in self.slices:
            x = s(x)
            out.append(x)
        return out

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        loss = x.new_zeros(())
        for w, fx, fy in zip(self.LAYER_WEIGHTS, self._features(x), self._features(y)):
            loss = loss + w * F.l1_loss(fx, fy.detach())
        return loss
