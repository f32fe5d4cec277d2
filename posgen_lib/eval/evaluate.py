"""Scoring generators at several output scales: the engine behind ``posgen eval`` and the experiment.

For each (generator, upscaling method, scale) the generated images of the
held-out scenes are compared with:

* their label maps, through a segmenter: mIoU and pixel accuracy (SPADE's
  protocol, Park et al. CVPR 2019, Sec. 4), see :mod:`posgen_lib.eval.segmenter`;
* the real photos as a distribution: SegFD (Frechet distance on the
  segmenter's features) and, with the ``metrics`` extra, FID and KID on
  pytorch-fid's Inception features, see :mod:`posgen_lib.eval.fid`;
* the ground-truth photos of the same scenes, pixel by pixel: PSNR and SSIM
  (mean over images). Only the synthetic streets have ground truth at every
  scale (``SyntheticStreets.render``); real datasets are scored at 1x without it.

Methods come from the one registry, :data:`posgen_lib.rendering.METHODS`; those
that need the label map at the output size get the ground-truth labels of the
synthetic streets. At 1x every method of a generator is its plain output, so
it is scored once. Held-out scene i is rendered with noise seed i
(:func:`~posgen_lib.models.interface.noise_seeds`): a generator with noise
inputs or a texture branch is scored on independent samples, as it trained,
and the same scene always gets the same noise.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from ..config import budget
from ..data.transforms import to_semantics
from ..models.interface import NoiseSeed
from ..rendering.methods import METHODS, check_method, upscale
from .fid import DistributionScores, InceptionFeatures, SegmenterFeatures
from .perception import (PATCH, PatchKID, band_psnr_curve, boundary_counts, boundary_fscore, crop_positions,
                         edge_and_texture_energy, lowpass_psnr)
from .metrics import (SegmentationScore, boundary_band, class_color_error, fixed_pattern, fixed_pattern_excess,
                      pixel_scores, spectral_peaks)
from .scenes import held_out_scenes_at
from .segmenter import load_segmenter


PATCH_KID_SCALE = 2.0  # patch-KID from this scale up (a 32-pixel crop is a large part of a 1x image)
PATCH_KID_CROPS = 5000  # crops per region (boundary, interior)
METRICS = ("miou", "pixel_accuracy", "boundary_f", "segfd", "fid", "kid", "patch_kid_boundary", "patch_kid_interior",
           "psnr", "ssim", "psnr_band", "psnr_band_r1", "psnr_band_r2", "psnr_band_r4", "psnr_band_r8",
           "psnr_interior", "psnr_lowpass", "ssim_band", "ssim_interior", "sharpness", "edge_energy",
           "texture_energy", "consistency", "stripes", "pattern_x", "pattern_y", "spectral_peak_x",
           "spectral_peak_y")


def scene_seeds(first: int, count: int) -> torch.Tensor:
    """(count,) the noise seeds of held-out scenes ``first`` .. ``first + count - 1``: scene i gets seed i
    (see the module docstring)."""
    return torch.arange(first, first + count)


@torch.no_grad()
def generate(G, method: str, sem: torch.Tensor, size: tuple[int, int], sem_hr: torch.Tensor | None,
             noise_seed: NoiseSeed = None):
    """Images (B, 3, H, W) of ``G`` at ``size`` by ``method`` from 1x semantics ``sem`` (and ``sem_hr``), with
    ``noise_seed`` (one seed, or one per image: :func:`~posgen_lib.models.interface.noise_seeds`)."""
    if tuple(sem.shape[-2:]) == tuple(size):
        return G(sem, None, noise_seed)
    return upscale(G, sem, size=size, method=method, labels=sem_hr, noise_seed=noise_seed)


def check_runs(generators: dict, runs: list[tuple[str, str]], hr_labels: bool) -> None:
    """ValueError unless every (generator key, method) of ``runs`` can run."""
    for key, method in runs:
        check_method(generators[key], method, hr_labels)


def band_radius(scale: float) -> int:
    """Output pixels in one trunk cell (a 1x pixel) at ``scale``: the half-width of the boundary band."""
    return max(1, round(scale))


class _RunScores:
    """What one (generator, method, scale) accumulates over the batches of held-out scenes."""

    def __init__(self, segmenter, ground_truth: bool):
        self.seg = SegmentationScore(len(segmenter.label_ids)) if segmenter is not None else None
        self.pixel: dict[str, list[torch.Tensor]] = {}
        self.consistency: list[torch.Tensor] = []
        self.peaks: dict[str, list[torch.Tensor]] = {}
        self.boundaries: dict[str, list[torch.Tensor]] = {}
        self.image_sum, self.images = None, 0
        self.ground_truth = ground_truth

    def add(self, fake, truth_image, truth_label, band, one_x, segmenter, device, scale: float = 1.0) -> None:
        if self.seg is not None:
            pred, target = segmenter.predict(fake), segmenter.class_index(truth_label).to(device)
            self.seg.update(pred, target)
            for name, values in boundary_counts(pred, target, band_radius(scale)).items():
                self.boundaries.setdefault(name, []).append(values.cpu())
        fake = fake.cpu()
        self.image_sum = fake.sum(0) if self.image_sum is None else self.image_sum + fake.sum(0)
        self.images += len(fake)
        for name, values in spectral_peaks(fake).items():
            self.peaks.setdefault(name, []).append(values)
        if not self.ground_truth:
            return
        measures = {**pixel_scores(fake, truth_image, band), **band_psnr_curve(fake, truth_image, truth_label),
                    "psnr_lowpass": lowpass_psnr(fake, truth_image, scale),
                    **edge_and_texture_energy(fake, truth_image, truth_label, scale)}
        for name, values in measures.items():
            self.pixel.setdefault(name, []).append(values)
        if one_x is not None:  # the area average of the upscaled image against the 1x output
            down = F.interpolate(fake, size=one_x.shape[-2:], mode="area")
            mse = (down - one_x.cpu().float()).pow(2).mean((1, 2, 3))
            self.consistency.append(10 * torch.log10(4.0 / mse.clamp(min=1e-12)))

    def row(self, real_mean) -> dict:
        out = {}
        if self.seg is not None:
            out.update(miou=self.seg.miou(), pixel_accuracy=self.seg.pixel_accuracy())
        if self.pixel:
            values = {k: torch.cat(v) for k, v in self.pixel.items()}
            sums = {k: v.sum() for k, v in values.items() if k.endswith(("_fake", "_real"))}
            out.update({k: float(v.nanmean()) for k, v in values.items() if k not in sums})
            for name in ("energy", "edge", "texture"):  # a ratio over the set: 1 is the photo's
                out["sharpness" if name == "energy" else f"{name}_energy"] = float(
                    sums[f"{name}_fake"] / sums[f"{name}_real"].clamp(min=1e-12))
            out["stripes"] = fixed_pattern_excess(self.image_sum / self.images, real_mean)
        if self.images:
            out.update(pattern_scores(self.image_sum / self.images, self.peaks))
        if self.boundaries:
            out["boundary_f"] = boundary_fscore({k: torch.cat(v) for k, v in self.boundaries.items()})
        if self.consistency:
            out["consistency"] = float(torch.cat(self.consistency).mean())
        return out


def runs_at(runs: list[tuple[str, str]], scale: float) -> list[tuple[str, str]]:
    """The runs :func:`evaluate` scores at ``scale``: all of them, except at 1x, where every method of one
    generator is its 1x output, so each generator is scored once (its row's method is "1x")."""
    return runs if scale != 1 else list({key: (key, m) for key, m in runs}.values())


@torch.no_grad()
def evaluate(generators: dict, runs: list[tuple[str, str]], scenes_at, scales, cfg, device="cpu",
             segmenter=None, segfd: bool = True, inception: bool = True, batch_size: int = 8,
             ground_truth: bool = True, progress: bool = True) -> list[dict]:
    """Score ``runs`` [(generator key, method)] at each scale; one dict per (run, scale).

    ``scenes_at(scale)`` returns the :class:`~posgen_lib.eval.scenes.Scenes` at that
    scale. ``segmenter``: for mIoU (None: skipped); ``segfd`` also uses its
    features; ``inception``: FID/KID; ``ground_truth``: the scores against the
    ground-truth photo at each scale (PSNR/SSIM overall, in the boundary band and
    the interior, sharpness ratio, consistency with the 1x output, stripes).
    """
    check_runs(generators, runs, hr_labels=ground_truth)
    extractors = {}
    if segmenter is not None and segfd:
        extractors["segfd"] = (SegmenterFeatures(segmenter), False)
    if inception:
        extractors["fid"] = (InceptionFeatures().to(device), True)
    base = scenes_at(1.0)
    label_set, use_instance = cfg.data.label_set, cfg.model.use_instance
    rows = []
    for scale in scales:
        truth = base if scale == 1 else scenes_at(scale)
        size = tuple(truth.label.shape[-2:])
        dists = {name: DistributionScores(ext, kid=kid) for name, (ext, kid) in extractors.items()}
        real_mean = truth.image.mean(0) if ground_truth else None
        band = boundary_band(truth.label, band_radius(scale))
        patches = None
        if segmenter is not None and ground_truth and scale >= PATCH_KID_SCALE:
            per_image = 2 * -(-budget(PATCH_KID_CROPS, 64) // len(truth.image))  # crops per region, at least
            patches = PatchKID(segmenter, crop_positions(truth.label, per_image, PATCH))
        for start in range(0, len(truth.image), batch_size):
            real = truth.image[start:start + batch_size].to(device)
            for d in dists.values():
                d.add_real(real)
            if patches is not None:
                patches.add(real, start, real=True)
        todo = runs_at(runs, scale)
        for key, method in tqdm(todo, desc=f"scale {scale:g}x", disable=not progress):
            G = generators[key]
            scores = _RunScores(segmenter, ground_truth)
            for start in range(0, len(truth.image), batch_size):
                part = slice(start, start + batch_size)
                sem = to_semantics(base.label[part], base.instance[part], label_set, use_instance).to(device)
                sem_hr = None
                if METHODS[method].needs_hr_labels:
                    sem_hr = to_semantics(truth.label[part], truth.instance[part], label_set,
                                          use_instance).to(device)
                seeds = scene_seeds(part.start, len(sem))
                fake = generate(G, method, sem, size, sem_hr, seeds).float()
                for d in dists.values():
                    d.add_fake(fake)
                if patches is not None:
                    patches.add(fake, start)
                one_x = G(sem, None, seeds) if scale != 1 and ground_truth else None
                scores.add(fake, truth.image[part], truth.label[part], band[part], one_x, segmenter, device, scale)
            row = {"generator": key, "method": method if scale != 1 else "1x", "scale": scale,
                   "images": len(truth.image), **scores.row(real_mean)}
            if patches is not None:
                row.update(patches.compute())
                patches.reset_fake()
            for name, d in dists.items():
                result = d.compute()
                row[name] = result["fd"]
                if "kid" in result:
                    row["kid"] = result["kid"]
                d.reset_fake()
            rows.append(row)
    return rows


def pattern_scores(mean_image: torch.Tensor, peaks: dict[str, list[torch.Tensor]]) -> dict[str, float]:
    """The stripes of a set of images in grey levels: the pattern at the same place in every image, from
    their ``mean_image`` (3, H, W) (:func:`~.metrics.fixed_pattern`: amplitude and period per axis), and
    the phase-blind per-image spectral peaks (:func:`~.metrics.spectral_peaks`, batches of them listed in
    ``peaks``): their mean amplitude and median period per axis."""
    out = fixed_pattern(mean_image)
    for axis in ("x", "y"):
        out[f"spectral_peak_{axis}"] = float(torch.cat(peaks[f"spectral_peak_{axis}"]).mean())
        out[f"spectral_peak_period_{axis}"] = float(torch.cat(peaks[f"spectral_peak_period_{axis}"]).median())
    return out


CARD_METRICS = ("miou", "pixel_accuracy", "segfd", "psnr", "ssim", "sharpness")


def native_method(G) -> str:
    """How a generator renders above its labels' resolution by itself: with the labels there when it
    reads them, on its enlarged pixel grid when it decodes pixels, else its trunk on upsampled labels."""
    return "coordinates_hr" if G.reads_labels else "coordinates" if G.any_size else "trunk_nearest"


@torch.no_grad()
def scorecard(models: dict, cfg, count: int, scales=(1.0, 4.0), device="cpu", segmenter=None) -> dict:
    """Model-card scores of each generator on ``count`` held-out scenes of its dataset (synthetic test
    scenes, CamVid val), each by its :func:`native_method`: ``{name: {"1x": {metric: value}, "4x": ...,
    "class_color_error_1x": e}}`` with the metrics of :data:`CARD_METRICS`."""
    scenes_at = held_out_scenes_at(cfg, count)
    if segmenter is None:
        segmenter = load_segmenter(device=device, dataset=cfg.data.dataset)
    rows = evaluate(models, [(name, native_method(G)) for name, G in models.items()], scenes_at, scales, cfg,
                    device, segmenter=segmenter,
                    inception=False, progress=False)
    base = scenes_at(1.0)
    sem = to_semantics(base.label, base.instance, cfg.data.label_set, cfg.model.use_instance).to(device)
    cards = {}
    for name, G in models.items():
        card = {f"{r['scale']:g}x": {k: round(r[k], 4) for k in CARD_METRICS if k in r}
                for r in rows if r["generator"] == name}
        fake = G(sem, None, scene_seeds(0, len(sem))).cpu()
        card["class_color_error_1x"] = round(class_color_error(fake, base.image, base.label), 4)
        card["images"] = len(base.image)  # what was scored (count may exceed the split)
        cards[name] = card
    return cards


def ground_truth_rows(scenes_at, scales, segmenter) -> list[dict]:
    """The segmenter's mIoU on the real photos themselves (the ceiling for each scale), and their own
    stripes in grey levels (:func:`pattern_scores`: what a generator's are read against)."""
    rows = []
    for scale in scales:
        truth = scenes_at(scale)
        seg = SegmentationScore(len(segmenter.label_ids))
        for start in range(0, len(truth.image), 8):
            part = slice(start, start + 8)
            seg.update(segmenter.predict(truth.image[part]), segmenter.class_index(truth.label[part]))
        stripes = pattern_scores(truth.image.mean(0), {k: [v] for k, v in spectral_peaks(truth.image).items()})
        rows.append({"generator": "ground truth", "method": "photo", "scale": scale,
                     "images": len(truth.image), "miou": seg.miou(), "pixel_accuracy": seg.pixel_accuracy(),
                     **stripes})
    return rows


def format_value(metric: str, value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if metric in ("miou", "pixel_accuracy"):
        return f"{100 * value:.1f}"
    if metric == "kid" or metric.startswith("patch_kid"):
        return f"{1000 * value:.1f}"
    if metric.startswith("ssim") or metric in ("sharpness", "edge_energy", "texture_energy", "boundary_f"):
        return f"{value:.3f}"
    if metric == "stripes":
        return f"{value:+.1f}"
    return f"{value:.2f}"


HEADERS = {"miou": "mIoU %", "pixel_accuracy": "acc %", "segfd": "SegFD", "fid": "FID",
           "kid": "KID x1e3", "psnr": "PSNR dB", "ssim": "SSIM", "psnr_band": "band PSNR",
           "psnr_interior": "inner PSNR", "ssim_band": "band SSIM", "ssim_interior": "inner SSIM",
           "sharpness": "sharpness", "consistency": "consist. dB", "stripes": "stripes dB",
           "pattern_x": "pattern x (grey)", "pattern_y": "pattern y (grey)", "spectral_peak_x": "peak x (grey)",
           "spectral_peak_y": "peak y (grey)", "boundary_f": "boundary F", "patch_kid_boundary": "patch-KID edge x1e3",
           "patch_kid_interior": "patch-KID inner x1e3", "psnr_band_r1": "band PSNR r1",
           "psnr_band_r2": "band PSNR r2", "psnr_band_r4": "band PSNR r4", "psnr_band_r8": "band PSNR r8",
           "psnr_lowpass": "low-pass PSNR", "edge_energy": "edge energy", "texture_energy": "texture energy"}


def table_rows(rows: list[dict], metrics=METRICS) -> tuple[list[str], list[list[str]]]:
    """(header, cells) with only the metrics some row has."""
    shown = [m for m in metrics if any(m in r for r in rows)]
    header = ["scale", "generator", "method", "images"] + [HEADERS[m] for m in shown]
    cells = [[f"{r['scale']:g}x", r["generator"], r["method"], str(r["images"])]
             + [format_value(m, r.get(m)) for m in shown] for r in rows]
    return header, cells


def text_table(rows: list[dict], metrics=METRICS) -> str:
    header, cells = table_rows(rows, metrics)
    widths = [max(len(x) for x in col) for col in zip(header, *cells)]
    line = lambda xs: "  ".join(x.rjust(w) for x, w in zip(xs, widths))  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(c) for c in cells])
