"""Where an upscaled render sits on the distortion-perception plane (Blau and Michaeli, CVPR 2018).

A faithful render and a realistic one are different targets: the L1-optimal
image is the conditional mean (or median), sharp where the labels fix the
answer and flat where they do not; a realistic one has the photo's grain, which
costs PSNR because the grain is not where the photo's is. One PSNR and one
sharpness number cannot tell the two apart, so the experiment reads, at each
scale (``docs/results.md``):

* **distortion, where it is decided** -- PSNR in the boundary band as a curve
  over the band's half-width (:func:`band_psnr_curve`; 1 output pixel is the
  edge itself, wider bands mix in interiors), in the interior, and after a
  low-pass filter that keeps only what a 1x pixel can say (:func:`lowpass_psnr`:
  is the base right under the texture?);
* **edges and texture apart** -- the gradient energy on the high-resolution
  label edges and in region interiors, each over the photo's
  (:func:`edge_and_texture_energy`): 1 is the photo, bicubic blur is far below;
* **whether edges land where the labels put them** -- the boundary F-score of
  the segmenter's prediction on the render against the label map
  (:func:`boundary_counts`, Csurka et al., "What is a good evaluation measure
  for semantic segmentation?", BMVC 2013);
* **perception, patch by patch** -- KID (Binkowski et al., ICLR 2018) between
  crops of the renders and the same crops of the photos, around class
  boundaries and in interiors (:class:`PatchKID`), on thousands of crops rather
  than a few dozen whole images. Inception-v3 needs 299x299 inputs (about 1 s
  per crop on this CPU), so the features are the dataset segmenter's, pooled
  at 1/2, 1/4 and 1/8 resolution: like SegFD, comparable only between runs
  scored with the same segmenter.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torchmetrics.image.kid import poly_mmd

from .metrics import boundary_band, gradient_energy

BAND_RADII = (1, 2, 4, 8)  # half-widths of the boundary band in output pixels
PATCH = 32  # side of a patch-KID crop in output pixels
PATCH_REGIONS = ("boundary", "interior")


def to_db(mse: torch.Tensor) -> torch.Tensor:
    """PSNR in dB of a mean squared error on the [-1, 1] scale (data range 2)."""
    return 10 * torch.log10(4.0 / mse.clamp(min=1e-12))


def band_psnr_curve(fake: torch.Tensor, real: torch.Tensor, label: torch.Tensor,
                    radii=BAND_RADII) -> dict[str, torch.Tensor]:
    """Per image, PSNR (B,) within r output pixels of a class boundary of ``label`` (B, H, W), for each r of
    ``radii``: ``psnr_band_r1``, ``psnr_band_r2`` ... (NaN for an image without boundaries)."""
    squared = (fake.float() - real.float()).pow(2).mean(1)  # (B, H, W)
    out = {}
    for r in radii:
        band = boundary_band(label, r).float()
        total = band.sum((1, 2))
        mse = (squared * band).sum((1, 2)) / total.clamp(min=1)
        out[f"psnr_band_r{r}"] = torch.where(total > 0, to_db(mse), torch.nan)
    return out


def gaussian_blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """(B, C, H, W) blurred by a separable Gaussian of ``sigma`` pixels (kernel 2 ceil(3 sigma) + 1, reflected
    borders)."""
    radius = max(1, math.ceil(3 * sigma))
    x = torch.arange(-radius, radius + 1, dtype=images.dtype, device=images.device)
    kernel = torch.exp(-x.pow(2) / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    c = images.shape[1]
    out = F.pad(images, (radius, radius, 0, 0), mode="reflect")
    out = F.conv2d(out, kernel.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    out = F.pad(out, (0, 0, radius, radius), mode="reflect")
    return F.conv2d(out, kernel.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def lowpass_psnr(fake: torch.Tensor, real: torch.Tensor, scale: float) -> torch.Tensor:
    """Per image (B,), PSNR of both images blurred by a Gaussian of sigma = scale / 2 output pixels: the
    frequencies a 1x pixel carries, where a zero-mean texture should change nothing."""
    sigma = max(scale, 1.0) / 2
    return to_db((gaussian_blur(fake.float(), sigma) - gaussian_blur(real.float(), sigma)).pow(2).mean((1, 2, 3)))


def edge_and_texture_energy(fake: torch.Tensor, real: torch.Tensor, label: torch.Tensor,
                            scale: float) -> dict[str, torch.Tensor]:
    """Per image (B,), the gradient energy of ``fake`` and ``real`` on the label edges (pixels with a
    4-neighbour of another class, and their neighbours) and in the interiors (pixels farther than two
    1x cells from every edge): ``edge_fake``, ``edge_real``, ``texture_fake``, ``texture_real``. A ratio
    fake / real over a set is 1 for the photo's own statistics."""
    edges = boundary_band(label, 1).float()
    interior = 1 - boundary_band(label, 2 * max(1, round(scale))).float()
    return {"edge_fake": gradient_energy(fake.float(), edges), "edge_real": gradient_energy(real.float(), edges),
            "texture_fake": gradient_energy(fake.float(), interior),
            "texture_real": gradient_energy(real.float(), interior)}


def boundary_counts(pred: torch.Tensor, target: torch.Tensor, tolerance: int,
                    ignore_index: int = 255) -> dict[str, torch.Tensor]:
    """The counts of the boundary F-score, per image (B,): predicted boundary pixels within ``tolerance``
    pixels of a true boundary (``bf_hits_pred``) of all predicted ones (``bf_pred``), and true boundary
    pixels within ``tolerance`` of a predicted one (``bf_hits_true``) of all true ones (``bf_true``).
    Precision = hits_pred / pred, recall = hits_true / true, F = their harmonic mean. Class-index maps
    (B, H, W); pixels near ``ignore_index`` count in neither."""
    known = ~boundary_band((target == ignore_index).long(), 1) & (target != ignore_index)
    pred_edge = boundary_band(pred, 0) & known
    true_edge = boundary_band(target, 0) & known
    near_true = boundary_band(target, tolerance) if tolerance > 0 else true_edge
    near_pred = boundary_band(pred, tolerance) if tolerance > 0 else pred_edge
    return {"bf_pred": pred_edge.sum((1, 2)).float(), "bf_hits_pred": (pred_edge & near_true).sum((1, 2)).float(),
            "bf_true": true_edge.sum((1, 2)).float(), "bf_hits_true": (true_edge & near_pred).sum((1, 2)).float()}


def boundary_fscore(counts: dict[str, torch.Tensor]) -> float:
    """F-score of summed :func:`boundary_counts` over a set."""
    precision = float(counts["bf_hits_pred"].sum() / counts["bf_pred"].sum().clamp(min=1))
    recall = float(counts["bf_hits_true"].sum() / counts["bf_true"].sum().clamp(min=1))
    return 2 * precision * recall / max(precision + recall, 1e-12)


def crop_positions(label: torch.Tensor, per_image: int, size: int = PATCH, seed: int = 0) -> dict[str, torch.Tensor]:
    """Crops of ``size`` x ``size`` pixels of the high-resolution label maps ``label`` (N, H, W), per image
    ``per_image // 2`` centred on random class-boundary pixels and as many on random pixels whose crop holds
    no boundary at all (or, where an image has no such place, the crops with the fewest boundary pixels):
    ``{"boundary": (M, 3), "interior": (M, 3)}`` rows of (image, top, left)."""
    rng = np.random.default_rng(seed)
    n, h, w = label.shape
    half = per_image // 2
    edges = boundary_band(label, 0)
    boundary_count = F.avg_pool2d(edges[:, None].float(), size, stride=1)[:, 0]  # (N, H-size+1, W-size+1)
    rows = {region: [] for region in PATCH_REGIONS}
    for i in range(n):
        centres = edges[i].nonzero()
        if len(centres):
            picks = centres[rng.integers(len(centres), size=half)]
            tops = (picks[:, 0] - size // 2).clamp(0, h - size)
            lefts = (picks[:, 1] - size // 2).clamp(0, w - size)
            rows["boundary"] += [(i, int(t), int(l)) for t, l in zip(tops, lefts)]
        flat = boundary_count[i].flatten()
        calm = (flat == flat.min()).nonzero()[:, 0]
        for k in calm[rng.integers(len(calm), size=half)].tolist():
            rows["interior"].append((i, k // boundary_count.shape[-1], k % boundary_count.shape[-1]))
    return {region: torch.tensor(r, dtype=torch.long).view(-1, 3) for region, r in rows.items()}


def pooled_segmenter_features(segmenter, crops: torch.Tensor) -> torch.Tensor:
    """(N, 3, P, P) crops in [-1, 1] -> (N, w2 + w4 + w8): the segmenter's encoder features at 1/2, 1/4 and
    1/8 resolution, each averaged over the crop."""
    return torch.cat([f.mean((2, 3)) for f in segmenter.encode(crops)], 1).float()


class PatchKID:
    """KID between crops of generated and real images at fixed positions (:func:`crop_positions`), per region.

    ``add(images, first)`` takes a batch of generated (or, with ``real=True``, real) images whose first
    image is number ``first`` of the set and keeps the features of its crops; :meth:`compute` gives
    ``{"patch_kid_boundary": ..., "patch_kid_interior": ...}``: the unbiased MMD^2 with the cubic kernel
    averaged over random subsets of ``subset`` crops (as torchmetrics' KID).
    """

    def __init__(self, segmenter, positions: dict[str, torch.Tensor], size: int = PATCH, subsets: int = 50,
                 subset: int = 1000):
        self.segmenter, self.positions, self.size = segmenter, positions, size
        self.subsets, self.subset = subsets, subset
        self.features = {(region, real): [] for region in positions for real in (True, False)}

    @torch.no_grad()
    def add(self, images: torch.Tensor, first: int, real: bool = False) -> None:
        device = next(self.segmenter.parameters()).device
        for region, rows in self.positions.items():
            mine = rows[(rows[:, 0] >= first) & (rows[:, 0] < first + len(images))]
            if not len(mine):
                continue
            crops = torch.stack([images[i - first, :, t:t + self.size, l:l + self.size] for i, t, l in mine.tolist()])
            self.features[region, real].append(pooled_segmenter_features(self.segmenter, crops.to(device)).cpu())

    def reset_fake(self) -> None:
        for region in self.positions:
            self.features[region, False] = []

    def compute(self, seed: int = 0) -> dict[str, float]:
        gen = torch.Generator().manual_seed(seed)
        out = {}
        for region in self.positions:
            real, fake = (torch.cat(self.features[region, r]).double() for r in (True, False))
            size = min(self.subset, len(real), len(fake))
            values = [poly_mmd(real[torch.randperm(len(real), generator=gen)[:size]],
                               fake[torch.randperm(len(fake), generator=gen)[:size]]) for _ in range(self.subsets)]
            out[f"patch_kid_{region}"] = float(torch.stack(values).mean())
        return out
