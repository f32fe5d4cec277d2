"""Image-quality metrics that need no downloads.

* :func:`psnr` / :func:`ssim` against ground truth (torchmetrics), for the
  synthetic streets, whose ground truth exists at every resolution.
* :func:`class_color_error`: for every class present, the mean colour of the
  generated pixels of that class vs the mean colour of the ground-truth
  pixels; the mean absolute difference over classes (0..2 on the [-1, 1] scale).
  A cheap check that a generator paints each class roughly the right colour.
"""
from __future__ import annotations

import torch
from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure


def psnr(fake: torch.Tensor, real: torch.Tensor) -> float:
    """PSNR in dB of (B, 3, H, W) images in [-1, 1]."""
    return float(peak_signal_noise_ratio(fake.float(), real.float(), data_range=2.0))


def ssim(fake: torch.Tensor, real: torch.Tensor) -> float:
    """Mean SSIM (Gaussian window 11, sigma 1.5) of (B, 3, H, W) images in [-1, 1]."""
    return float(structural_similarity_index_measure(fake.float(), real.float(), data_range=2.0))


def class_color_error(fake: torch.Tensor, real: torch.Tensor, label: torch.Tensor) -> float:
    """Mean over (image, class) of |mean colour of fake - mean colour of real| on that class's pixels.

    ``fake``, ``real`` (B, 3, H, W) in [-1, 1]; ``label`` (B, H, W) ids.
    """
    errors = []
    for f, r, lab in zip(fake.float(), real.float(), label):
        for cls in torch.unique(lab):
            mask = lab == cls  # (H, W)
            errors.append((f[:, mask].mean(1) - r[:, mask].mean(1)).abs().mean())
    return float(torch.stack(errors).mean())
