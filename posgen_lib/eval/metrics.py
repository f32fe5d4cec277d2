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
