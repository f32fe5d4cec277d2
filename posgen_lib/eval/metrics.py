"""Image-quality metrics that need no downloads.

* :func:`psnr` / :func:`ssim` against ground truth (torchmetrics), for the
  synthetic streets, whose ground truth exists at every resolution.
* :class:`SegmentationScore`: mIoU and pixel accuracy of a segmenter's
  prediction on generated images against their label maps, the semantic
  image synthesis protocol (SPADE, Park et al. CVPR 2019, Sec. 4), accumulated
  over a dataset in one confusion matrix (IoU_k = TP_k / (TP_k + FP_k + FN_k),
  mean over the classes that occur in the labels or the predictions).
  Segmenters live in :mod:`posgen_lib.eval.segmenter`; Frechet distances and KID
  in :mod:`posgen_lib.eval.fid`.
* Upscaling against ground truth (docs/results.md): :func:`boundary_band` marks
  the output pixels within one trunk cell of a class boundary of the
  high-resolution labels, where upscaling is hard (elsewhere every method paints
  flat class interiors). :func:`pixel_scores` gives, per image, PSNR and SSIM
  over the whole image, the band and the interior, and the gradient energy in
  the band; the *sharpness ratio* is a method's band gradient energy over the
  ground truth's (1.0 matches the photo; bicubic blur is far below, noise
  above). :func:`power_spectrum` and :func:`axis_spectrum_excess` detect periodic
  stripes: power on the frequency axes (patterns constant along one image
  axis) above the ground truth's, in dB.
* :func:`class_color_error`: for every class present, the mean colour of the
  generated pixels of that class vs the mean colour of the ground-truth
  pixels; the mean absolute difference over classes (0..2 on the [-1, 1] scale).
  A cheap check that a generator paints each class roughly the right colour.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure


def psnr(fake: torch.Tensor, real: torch.Tensor) -> float:
    """PSNR in dB of (B, 3, H, W) images in [-1, 1]."""
    return float(peak_signal_noise_ratio(fake.float(), real.float(), data_range=2.0))


def ssim(fake: torch.Tensor, real: torch.Tensor) -> float:
    """Mean SSIM (Gaussian window 11, sigma 1.5) of (B, 3, H, W) images in [-1, 1]."""
    return float(structural_similarity_index_measure(fake.float(), real.float(), data_range=2.0))


def boundary_band(label: torch.Tensor, radius: int) -> torch.Tensor:
    """(B, H, W) bool: pixels within ``radius`` pixels (Chebyshev distance) of a class boundary of
    ``label`` (B, H, W), a boundary pixel being one with a 4-neighbour of another class."""
    edge = torch.zeros_like(label, dtype=torch.bool)
    dx = label[..., :, 1:] != label[..., :, :-1]
    dy = label[..., 1:, :] != label[..., :-1, :]
    edge[..., :, 1:] |= dx
    edge[..., :, :-1] |= dx
    edge[..., 1:, :] |= dy
    edge[..., :-1, :] |= dy
    if radius <= 0:
        return edge
    return F.max_pool2d(edge[:, None].float(), 2 * radius + 1, stride=1, padding=radius)[:, 0] > 0


def gradient_energy(images: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per image, the sum over ``mask`` (B, H, W) pixels of the squared forward differences
    (x and y, summed over channels) of ``images`` (B, 3, H, W) -> (B,)."""
    gx = F.pad(images[..., :, 1:] - images[..., :, :-1], (0, 1))  # (B, 3, H, W), 0 in the last column
    gy = F.pad(images[..., 1:, :] - images[..., :-1, :], (0, 0, 0, 1))
    energy = (gx.pow(2) + gy.pow(2)).sum(1)  # (B, H, W)
    return (energy * mask).sum((1, 2))


def pixel_scores(fake: torch.Tensor, real: torch.Tensor, band: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per-image scores (each (B,)) of ``fake`` against ``real`` (B, 3, H, W) in [-1, 1], with the boundary
    ``band`` (B, H, W): psnr/ssim over the image, ``_band`` and ``_interior``, and the band gradient
    energy of both (``energy_fake``, ``energy_real``). PSNR uses the data range 2; SSIM's map is
    torchmetrics' (Gaussian window 11, sigma 1.5), averaged over each region."""
    fake, real = fake.float(), real.float()
    band = band.to(fake.device).float()
    interior = 1 - band
    squared = (fake - real).pow(2).mean(1)  # (B, H, W)
    _, ssim_map = structural_similarity_index_measure(fake, real, data_range=2.0, reduction="none",
                                                      return_full_image=True)
    ssim_map = ssim_map.mean(1)  # (B, H, W)

    def region(values: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        total = weight.sum((1, 2))
        return torch.where(total > 0, (values * weight).sum((1, 2)) / total.clamp(min=1), torch.nan)

    def to_db(mse: torch.Tensor) -> torch.Tensor:
        return 10 * torch.log10(4.0 / mse.clamp(min=1e-12))

    full = torch.ones_like(band)
    return {"psnr": to_db(region(squared, full)), "psnr_band": to_db(region(squared, band)),
            "psnr_interior": to_db(region(squared, interior)), "ssim": region(ssim_map, full),
            "ssim_band": region(ssim_map, band), "ssim_interior": region(ssim_map, interior),
            "energy_fake": gradient_energy(fake, band), "energy_real": gradient_energy(real, band)}


def power_spectrum(images: torch.Tensor) -> torch.Tensor:
    """Mean 2-D power spectrum (H, W) of the grey levels of (B, 3, H, W) images, each image's mean removed."""
    grey = images.float().mean(1)
    grey = grey - grey.mean((1, 2), keepdim=True)
    return torch.fft.fft2(grey).abs().pow(2).mean(0)


def fixed_pattern_excess(fake_mean: torch.Tensor, real_mean: torch.Tensor, border: int = 2) -> float:
    """Stripes that sit at the same place in every image, in dB over the ground truth's.

    A generator that reads pixel coordinates can paint a pattern that depends
    on the position alone: it survives averaging over many images, while scene
    content (different in every image) averages out. From the mean image over
    the held-out set (3, H, W), the grey level is averaged along the rows (a
    profile across x: vertical stripes) and along the columns (across y:
    horizontal stripes); each profile's fine part (minus its moving average over
    1/16 of its length) is compared in energy with the ground truth's. The
    larger of the two, in dB: about 0 for the ground truth (-1 to -3 for another
    sample of it), +7 dB for stripes of amplitude 0.01 (on the [-1, 1] scale)
    added to the photos, +14 dB for 0.03. ``border`` pixels at each edge are left
    out.
    """
    def fine_energy(mean: torch.Tensor, dim: int) -> torch.Tensor:
        profile = mean.float().mean(0).mean(dim)[border:-border]  # (L,)
        k = max(3, profile.numel() // 16) | 1
        smooth = F.avg_pool1d(profile[None, None], k, 1, k // 2, count_include_pad=False)[0, 0]
        return (profile - smooth).pow(2).mean()

    ratios = [fine_energy(fake_mean, d) / fine_energy(real_mean, d).clamp(min=1e-12) for d in (0, 1)]
    return float(10 * torch.log10(max(ratios).clamp(min=1e-12)))


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


class SegmentationScore:
    """Confusion matrix over a dataset -> mIoU and pixel accuracy.

    ``update(pred, target)`` with class-index maps of equal shape; ``target``
    pixels equal to ``ignore_index`` are skipped.
    """

    def __init__(self, num_classes: int, ignore_index: int = 255):
        self.num_classes, self.ignore_index = num_classes, ignore_index
        self.confusion = torch.zeros(num_classes, num_classes, dtype=torch.long)  # (target, pred)

    def update(self, pred: torch.Tensor, target: torch.Tensor) -> None:
        if pred.shape != target.shape:
            raise ValueError(f"prediction {tuple(pred.shape)} and target {tuple(target.shape)} differ in shape")
        keep = target != self.ignore_index
        t, p = target[keep].long().cpu(), pred[keep].long().cpu()
        if t.numel() and (int(t.max()) >= self.num_classes or int(p.max()) >= self.num_classes):
            raise ValueError(f"class indices must be < num_classes={self.num_classes}")
        k = self.num_classes
        self.confusion += torch.bincount(t * k + p, minlength=k * k).reshape(k, k)

    @property
    def pixels(self) -> int:
        return int(self.confusion.sum())

    def per_class_iou(self) -> torch.Tensor:
        """(K,) IoU per class; NaN for classes absent from both labels and predictions."""
        c = self.confusion.double()
        tp = c.diag()
        union = c.sum(0) + c.sum(1) - tp
        return torch.where(union > 0, tp / union.clamp(min=1), torch.full_like(tp, float("nan")))

    def miou(self) -> float:
        """Mean IoU over the classes present (in labels or predictions), in [0, 1]."""
        if self.pixels == 0:
            raise ValueError("no labelled pixels were scored; call update() first")
        return float(self.per_class_iou().nanmean())

    def pixel_accuracy(self) -> float:
        if self.pixels == 0:
            raise ValueError("no labelled pixels were scored; call update() first")
        return float(self.confusion.diag().sum()) / self.pixels
