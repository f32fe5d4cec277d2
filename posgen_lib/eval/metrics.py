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
  above).
* Stripes, patterns constant along one image axis (docs/results.md):
  :func:`fixed_pattern_excess` gives the fine structure of the mean image over
  the ground truth's, in dB; :func:`fixed_pattern` the same pattern's amplitude
  in grey levels and its period in pixels, per axis; :func:`spectral_peaks` a
  phase-blind per-image measure, which also catches a pattern that moves from
  image to image. :func:`power_spectrum` is the mean 2-D spectrum.
* :func:`class_color_error`: for every class present, the mean colour of the
  generated pixels of that class vs the mean colour of the ground-truth
  pixels; the mean absolute difference over classes (0..2 on the [-1, 1] scale).
  A cheap check that a generator paints each class roughly the right colour.
"""
from __future__ import annotations

import math

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


GREY_LEVELS = 127.5  # grey levels (of 0..255) per unit of the [-1, 1] image scale


def axis_profiles(images: torch.Tensor, border: int = 2) -> dict[str, torch.Tensor]:
    """The grey level of (..., 3, H, W) images in [-1, 1] averaged along each axis, in grey levels:
    ``"x"`` (..., W - 2 border) across x (what vertical stripes change), ``"y"`` (..., H - 2 border)
    across y; ``border`` pixels at each end are left out."""
    grey = images.float().mean(-3) * GREY_LEVELS  # (..., H, W)
    return {"x": grey.mean(-2)[..., border:-border], "y": grey.mean(-1)[..., border:-border]}


def smooth_basis(length: int, count: int) -> torch.Tensor:
    """(length, count) orthonormal DCT-II cosines cos(pi k (n + 1/2) / length), k < count: profiles whose
    shortest period is 2 length / count (the scene's slow changes)."""
    n = torch.arange(length, dtype=torch.float64) + 0.5
    basis = torch.cos(math.pi * n[:, None] * torch.arange(count, dtype=torch.float64) / length)  # (L, K)
    return torch.linalg.qr(basis).Q


def sinusoid_fit(profile: torch.Tensor, frequencies: torch.Tensor, baseline: torch.Tensor):
    """Least squares of ``profile`` (L,) = baseline @ beta + a cos(2 pi f n) + b sin(2 pi f n) for every f of
    ``frequencies`` (F,) (cycles per pixel), the ``baseline`` (L, K) orthonormal. Returns the amplitude
    sqrt(a^2 + b^2) (F,) and the energy the sinusoid explains (F,). By the Frisch-Waugh-Lovell theorem the
    sinusoid's coefficients are those of the regression of the profile's residual on the sinusoid's, both
    with the baseline projected out."""
    def residual(v: torch.Tensor) -> torch.Tensor:  # (L, ...) minus its part in the baseline
        return v - baseline @ (baseline.T @ v)

    n = torch.arange(profile.numel(), dtype=torch.float64)
    angle = 2 * math.pi * n[:, None] * frequencies[None]  # (L, F)
    waves = torch.stack([residual(torch.cos(angle)), residual(torch.sin(angle))], -1)  # (L, F, 2)
    target = residual(profile.double()[:, None])[:, 0]  # (L,)
    gram = torch.einsum("lfi,lfj->fij", waves, waves)  # (F, 2, 2)
    moment = torch.einsum("lfi,l->fi", waves, target)  # (F, 2)
    coef = (torch.linalg.pinv(gram, rtol=1e-9, hermitian=True) @ moment[..., None])[..., 0]  # (F, 2): a, b
    return coef.norm(dim=-1), (coef * moment).sum(-1)


def longest_period(length: int) -> float:
    """The longest period (pixels) that counts as a fine pattern on an axis of ``length`` pixels: 8 pixels,
    or 1/16 of the axis on larger images (the band of :func:`fixed_pattern_excess`)."""
    return max(8.0, length / 16)


def strongest_sinusoid(profile: torch.Tensor) -> tuple[float, float]:
    """(amplitude, period in pixels) of the sinusoid that explains most of ``profile`` (L,) on top of its slow
    changes (periods of twice :func:`longest_period` and more), among periods from 2 pixels to
    :func:`longest_period`.

    A grid of frequencies 1 / (4 L) apart, then one 1 / (256 L) apart around the best. Just below the
    Nyquist frequency 1/2 a sinusoid is an alternation (-1)^n under a slow envelope, whose amplitude
    L samples cannot pin down, so the search skips (1/2 - 1/(2L), 1/2) and tries 1/2 itself: the
    alternation, period 2."""
    length = profile.numel()
    baseline = smooth_basis(length, max(1, round(length / longest_period(length))))
    low, high = 1 / longest_period(length), 0.5 - 1 / (2 * length)
    coarse = torch.cat([torch.arange(low, high, 1 / (4 * length), dtype=torch.float64),
                        torch.tensor([0.5], dtype=torch.float64)])
    best = float(coarse[sinusoid_fit(profile, coarse, baseline)[1].argmax()])
    if best == 0.5:
        fine = coarse[-1:]
    else:
        fine = torch.linspace(max(low, best - 1 / (4 * length)), min(high, best + 1 / (4 * length)), 129,
                              dtype=torch.float64)
    amplitude, explained = sinusoid_fit(profile, fine, baseline)
    k = int(explained.argmax())
    return float(amplitude[k]), float(1 / fine[k])


def fixed_pattern(mean_image: torch.Tensor, border: int = 2) -> dict[str, float]:
    """The pattern at the same place in every image, per axis, from the mean image (3, H, W) over a set
    (scene content differs from image to image and averages out; a pattern that depends on the position
    alone survives): ``pattern_x``, the amplitude in grey levels (0..255) of the strongest sinusoid across
    x (vertical stripes) with ``pattern_period_x`` its period in pixels, and ``pattern_y``,
    ``pattern_period_y`` across y. Periods from 2 pixels to :func:`longest_period`; the profile's slower
    changes are fitted alongside (:func:`strongest_sinusoid`). ``border`` pixels at each edge are left out."""
    out = {}
    for axis, profile in axis_profiles(mean_image, border).items():
        out[f"pattern_{axis}"], out[f"pattern_period_{axis}"] = strongest_sinusoid(profile)
    return out


def spectral_peaks(images: torch.Tensor, border: int = 2, pad: int = 8) -> dict[str, torch.Tensor]:
    """Phase-blind stripes, per image: on each axis, the highest peak of the amplitude spectrum of the
    image's axis profile (:func:`axis_profiles`) among periods from 2 pixels to :func:`longest_period` (DC
    and slow changes excluded), as a sinusoid's amplitude in grey levels. A pattern whose phase changes
    from image to image cancels in the mean image (:func:`fixed_pattern`) but not here; averaged over a
    set (:func:`posgen_lib.eval.evaluate.evaluate` does), it is read next to the ground truth's, whose
    own content also peaks. Returns ``spectral_peak_x``, ``spectral_peak_y`` (B,) in grey levels and
    ``spectral_peak_period_x``, ``_y`` (B,) in pixels, from (B, 3, H, W) ``images`` in [-1, 1]. Each
    profile has its mean removed, a Hann window and ``pad`` x zero padding (a sinusoid's amplitude is
    2 |X(f)| / sum(window) at its frequency)."""
    out = {}
    for axis, profile in axis_profiles(images, border).items():  # (B, L)
        length = profile.shape[-1]
        window = torch.hann_window(length, periodic=False, dtype=torch.float64)  # (L,)
        centred = (profile.double() - profile.double().mean(-1, keepdim=True)) * window
        amplitude = 2 * torch.fft.rfft(centred, n=pad * length).abs() / window.sum()  # (B, pad L / 2 + 1)
        frequency = torch.fft.rfftfreq(pad * length, dtype=torch.float64)  # cycles per pixel
        amplitude[:, frequency < 1 / longest_period(length)] = 0
        peak, at = amplitude.max(-1)  # (B,) each
        out[f"spectral_peak_{axis}"], out[f"spectral_peak_period_{axis}"] = peak.float(), (1 / frequency[at]).float()
    return out


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
