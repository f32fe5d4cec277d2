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
it is scored once.
"""
from __future__ import annotations

import math

import torch
from tqdm.auto import tqdm

from ..data.transforms import to_semantics
from ..rendering.methods import METHODS, check_method, upscale
from .fid import DistributionScores, InceptionFeatures, SegmenterFeatures
from .metrics import SegmentationScore, psnr, ssim


METRICS = ("miou", "pixel_accuracy", "segfd", "fid", "kid", "psnr", "ssim")


@torch.no_grad()
def generate(G, method: str, sem: torch.Tensor, size: tuple[int, int], sem_hr: torch.Tensor | None):
    """Images (B, 3, H, W) of ``G`` at ``size`` by ``method`` from 1x semantics ``sem`` (and ``sem_hr``)."""
    if tuple(sem.shape[-2:]) == tuple(size):
        return G(sem)
    return upscale(G, sem, size=size, method=method, labels=sem_hr)


def check_runs(generators: dict, runs: list[tuple[str, str]], hr_labels: bool) -> None:
    """ValueError unless every (generator key, method) of ``runs`` can run."""
    for key, method in runs:
        check_method(generators[key], method, hr_labels)


@torch.no_grad()
def evaluate(generators: dict, runs: list[tuple[str, str]], scenes_at, scales, cfg, device="cpu",
             segmenter=None, segfd: bool = True, inception: bool = True, batch_size: int = 8,
             ground_truth: bool = True, progress: bool = True) -> list[dict]:
    """Score ``runs`` [(generator key, method)] at each scale; one dict per (run, scale).

    ``scenes_at(scale)`` returns the :class:`Scenes` at that scale (index 0 of
    ``scales`` must be 1). ``segmenter``: for mIoU (None: skipped); ``segfd``
    also uses its features; ``inception``: FID/KID; ``ground_truth``: PSNR/SSIM.
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
        for start in range(0, len(truth.image), batch_size):
            real = truth.image[start:start + batch_size].to(device)
            for d in dists.values():
                d.add_real(real)
        # At 1x all methods of one generator coincide: score each generator once.
        todo = runs if scale != 1 else list({key: (key, m) for key, m in runs}.values())
        for key, method in tqdm(todo, desc=f"scale {scale:g}x", disable=not progress):
            G = generators[key]
            seg = SegmentationScore(len(segmenter.label_ids)) if segmenter is not None else None
            pixel = {"psnr": [], "ssim": []}
            for start in range(0, len(truth.image), batch_size):
                part = slice(start, start + batch_size)
                sem = to_semantics(base.label[part], base.instance[part], label_set, use_instance).to(device)
                sem_hr = None
                if METHODS[method].needs_hr_labels:
                    sem_hr = to_semantics(truth.label[part], truth.instance[part], label_set,
                                          use_instance).to(device)
                fake = generate(G, method, sem, size, sem_hr).float()
                for d in dists.values():
                    d.add_fake(fake)
                if seg is not None:
                    seg.update(segmenter.predict(fake), segmenter.class_index(truth.label[part]).to(device))
                if ground_truth:
                    for f, r in zip(fake.cpu(), truth.image[part]):
                        pixel["psnr"].append(psnr(f[None], r[None]))
                        pixel["ssim"].append(ssim(f[None], r[None]))
            row = {"generator": key, "method": method if scale != 1 else "1x", "scale": scale,
                   "images": len(truth.image)}
            if seg is not None:
                row.update(miou=seg.miou(), pixel_accuracy=seg.pixel_accuracy())
            for name, d in dists.items():
                scores = d.compute()
                row[name] = scores["fd"]
                if "kid" in scores:
                    row["kid"] = scores["kid"]
                d.reset_fake()
            row.update({k: sum(v) / len(v) for k, v in pixel.items() if v})
            rows.append(row)
    return rows


def ground_truth_rows(scenes_at, scales, segmenter) -> list[dict]:
    """The segmenter's mIoU on the real photos themselves: the ceiling for each scale."""
    rows = []
    for scale in scales:
        truth = scenes_at(scale)
        seg = SegmentationScore(len(segmenter.label_ids))
        for start in range(0, len(truth.image), 8):
            part = slice(start, start + 8)
            seg.update(segmenter.predict(truth.image[part]), segmenter.class_index(truth.label[part]))
        rows.append({"generator": "ground truth", "method": "photo", "scale": scale,
                     "images": len(truth.image), "miou": seg.miou(), "pixel_accuracy": seg.pixel_accuracy()})
    return rows


def format_value(metric: str, value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if metric in ("miou", "pixel_accuracy"):
        return f"{100 * value:.1f}"
    if metric == "kid":
        return f"{1000 * value:.1f}"
    if metric == "ssim":
        return f"{value:.3f}"
    return f"{value:.2f}"


HEADERS = {"miou": "mIoU %", "pixel_accuracy": "acc %", "segfd": "SegFD", "fid": "FID",
           "kid": "KID x1e3", "psnr": "PSNR dB", "ssim": "SSIM"}


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
