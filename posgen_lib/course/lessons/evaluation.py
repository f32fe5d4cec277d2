"""Figures and small experiments for notebook 07 (evaluation).

* :func:`segmentation_figure` -- what the mIoU protocol looks at: labels,
  photo, the segmenter's reading of the photo, a generated image and the
  segmenter's reading of it.
* :func:`frechet_bias` / :func:`frechet_bias_figure` -- the Frechet distance
  between two disjoint sets of *real* photos is not 0 and shrinks with the
  number of images (the estimate of the covariance square root is biased,
  Binkowski et al. 2018, Sec. 3.2 / Chong & Forsyth 2020); KID's unbiased
  estimate hovers around 0 at every size.
* :func:`pixel_metric_paradox` -- PSNR/SSIM reward the *average* image: a
  blurred photo and a flat "mean colour per class" painting score well on
  PSNR and badly on realism, which mIoU and SegFD see.
"""
from __future__ import annotations

import numpy as np
import torch
from matplotlib.figure import Figure
from torchvision.transforms.v2.functional import gaussian_blur as gaussian_blur_tv

from ...data.labels import colorize
from ...eval.fid import DistributionScores, SegmenterFeatures
from ...eval.metrics import SegmentationScore, psnr, ssim
from ...viz import to_uint8


def predicted_labels(segmenter, images: torch.Tensor) -> torch.Tensor:
    """The segmenter's prediction as dataset label ids: (B, 3, H, W) -> (B, H, W) int64."""
    ids = torch.tensor(segmenter.label_ids)
    return ids[segmenter.predict(images).cpu()]


def segmentation_figure(segmenter, labels: torch.Tensor, photos: torch.Tensor, generated: torch.Tensor,
                        label_set: str = "synthetic", height: float = 1.3) -> Figure:
    """One row per scene: labels | photo | segmenter(photo) | generated | segmenter(generated)."""
    columns = {"labels": lambda i: colorize(labels[i], label_set),
               "photo": lambda i: to_uint8(photos[i]),
               "segmenter on photo": lambda i: colorize(seg_photo[i], label_set),
               "generated": lambda i: to_uint8(generated[i]),
               "segmenter on generated": lambda i: colorize(seg_fake[i], label_set)}
    seg_photo, seg_fake = predicted_labels(segmenter, photos), predicted_labels(segmenter, generated)
    rows = labels.shape[0]
    aspect = labels.shape[-1] / labels.shape[-2]
    fig = Figure(figsize=(len(columns) * height * aspect + 0.5, rows * height + 0.4))
    axes = fig.subplots(rows, len(columns), squeeze=False)
    for r in range(rows):
        for ax, (title, draw) in zip(axes[r], columns.items()):
            ax.imshow(draw(r), interpolation="nearest")
            ax.set_axis_off()
            if r == 0:
                ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def frechet_bias(extractor, images: torch.Tensor, sizes=(8, 16, 32, 64), seed: int = 0) -> list[dict]:
    """Frechet distance and KID between two disjoint random halves of *real* ``images``, per set size.

    ``images`` (N, 3, H, W) in [-1, 1] with N >= 2 * max(sizes). Both halves
    come from the same distribution, so the true distance is 0: what is
    reported is the estimators' bias (and noise) at that size.
    """
    if images.shape[0] < 2 * max(sizes):
        raise ValueError(f"need at least {2 * max(sizes)} images for sets of {max(sizes)}, got {images.shape[0]}")
    order = torch.randperm(images.shape[0], generator=torch.Generator().manual_seed(seed))
    rows = []
    for n in sizes:
        scores = DistributionScores(extractor, kid=True)
        scores.add_real(images[order[:n]])
        scores.add_fake(images[order[n:2 * n]])
        result = scores.compute(kid_subset_size=n)
        rows.append({"images": n, "fd": result["fd"], "kid": result["kid"]})
    return rows


def frechet_bias_figure(rows: list[dict], feature_name: str = "segmenter features") -> Figure:
    """FD and KID of real-vs-real sets against the set size (log x axis)."""
    sizes = [r["images"] for r in rows]
    fig = Figure(figsize=(8, 3))
    ax_fd, ax_kid = fig.subplots(1, 2)
    ax_fd.plot(sizes, [r["fd"] for r in rows], "o-")
    ax_fd.set_title(f"Frechet distance, real vs real ({feature_name})", fontsize=9)
    ax_kid.plot(sizes, [r["kid"] for r in rows], "o-", color="tab:orange")
    ax_kid.axhline(0, color="grey", lw=0.8)
    ax_kid.set_title("KID, real vs real (unbiased)", fontsize=9)
    for ax in (ax_fd, ax_kid):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("images per set")
    ax_fd.set_ylim(bottom=0)
    fig.tight_layout()
    return fig


def class_mean_painting(photos: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Each pixel painted with the mean colour of its class in its own photo: (B, 3, H, W)."""
    out = torch.empty_like(photos)
    for b in range(photos.shape[0]):
        for cls in torch.unique(labels[b]):
            mask = labels[b] == cls  # (H, W)
            out[b][:, mask] = photos[b][:, mask].mean(dim=1, keepdim=True)
    return out


def gaussian_blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """torchvision's Gaussian blur (reflect padding) with a kernel reaching 3 sigma each side."""
    radius = max(1, int(3 * sigma))
    return gaussian_blur_tv(images, kernel_size=2 * radius + 1, sigma=sigma)


@torch.no_grad()
def pixel_metric_paradox(segmenter, labels: torch.Tensor, photos: torch.Tensor,
                         candidates: dict[str, torch.Tensor]) -> list[dict]:
    """PSNR, SSIM, mIoU and SegFD of each candidate image set against the same photos.

    ``candidates``: ``{name: images (N, 3, H, W)}``, e.g. a generator's output,
    a blurred copy of the photos and :func:`class_mean_painting`. SegFD uses
    the photos themselves as the real set (N images each: compare the rows,
    not with numbers computed on other set sizes).
    """
    target = segmenter.class_index(labels)
    scores = DistributionScores(SegmenterFeatures(segmenter), kid=False)
    scores.add_real(photos)
    rows = []
    for name, images in candidates.items():
        seg = SegmentationScore(len(segmenter.label_ids))
        seg.update(segmenter.predict(images), target)
        scores.add_fake(images)
        rows.append({"images": name, "psnr": psnr(images, photos), "ssim": ssim(images, photos),
                     "miou": seg.miou(), "segfd": scores.compute()["fd"]})
        scores.reset_fake()
    return rows


def format_rows(rows: list[dict], columns=("psnr", "ssim", "miou", "segfd")) -> str:
    """A fixed-width text table of :func:`pixel_metric_paradox` rows."""
    first = max(len(str(r["images"])) for r in rows)
    lines = [f"{'':<{first}}  " + "  ".join(f"{c:>7}" for c in columns)]
    for r in rows:
        lines.append(f"{r['images']:<{first}}  " + "  ".join(f"{r[c]:7.3f}" for c in columns))
    return "\n".join(lines)


def candidates_figure(candidates: dict[str, torch.Tensor], index: int = 0, height: float = 2.0) -> Figure:
    """Image ``index`` of every candidate set side by side."""
    first = next(iter(candidates.values()))
    aspect = first.shape[-1] / first.shape[-2]
    fig = Figure(figsize=(len(candidates) * height * aspect + 0.3, height + 0.4))
    for ax, (name, images) in zip(fig.subplots(1, len(candidates), squeeze=False)[0], candidates.items()):
        ax.imshow(np.asarray(to_uint8(images[index])), interpolation="nearest")
        ax.set_title(name, fontsize=9)
        ax.set_axis_off()
    fig.tight_layout()
    return fig
