"""Scoring generators at several output scales: the engine behind ``posgen eval`` and the experiment.

For each (generator, upscaling method, scale) the generated images of the
held-out scenes are compared with:

* their label maps, through a segmenter: mIoU and pixel accuracy (SPADE's
  protocol, Park et al. CVPR 2019, Sec. 4), see :mod:`posgen_lib.segmenter`;
* the real photos as a distribution: SegFD (Frechet distance on the
  segmenter's features) and, with the ``metrics`` extra, FID and KID on
  pytorch-fid's Inception features, see :mod:`posgen_lib.fid`;
* the ground-truth photos of the same scenes, pixel by pixel: PSNR and SSIM
  (mean over images). Only the synthetic streets have ground truth at every
  scale (``SyntheticStreets.render``); real datasets are scored at 1x without it.

Methods (:data:`METHODS`; ``upscale`` is :func:`posgen_lib.render.upscale`):
``coordinates``, ``bicubic``, ``labels`` and ``label_guided`` as in ``upscale``;
``labels_hr`` and ``label_guided_hr`` use the ground-truth label map at the
output size (information the other methods do not get). At 1x every method of
a generator is its plain output, so it is scored once. The trunk of the
``labels*`` methods needs sizes divisible by 2^k: other sizes are rendered at
the nearest legal size and resized to the target (bicubic, antialiased).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from .data.transforms import to_semantics
from .metrics import SegmentationScore, psnr, ssim
from .render import upscale


@dataclass(frozen=True)
class Method:
    title: str
    posgen_only: bool = False
    uses_hr_labels: bool = False  # needs the ground-truth labels at the output size


METHODS = {
    "coordinates": Method("trunk at 1x, head on the enlarged coordinate grid", posgen_only=True),
    "bicubic": Method("1x output, bicubic upsampling"),
    "labels": Method("trunk at the output size on nearest-upsampled 1x labels"),
    "label_guided": Method("coordinates, features sampled within each pixel's class "
                           "(guide: nearest-upsampled 1x labels)", posgen_only=True),
    "labels_hr": Method("trunk at the output size on the ground-truth high-res labels",
                        uses_hr_labels=True),
    "label_guided_hr": Method("coordinates, features sampled within each pixel's class "
                              "(guide: ground-truth high-res labels)", posgen_only=True, uses_hr_labels=True),
}
METRICS = ("miou", "pixel_accuracy", "segfd", "fid", "kid", "psnr", "ssim")


@dataclass
class Scenes:
    """Held-out examples at one scale: label/instance (N, H, W), image (N, 3, H, W) in [-1, 1]."""

    label: torch.Tensor
    instance: torch.Tensor
    image: torch.Tensor


def synthetic_scenes(cfg, count: int, scale: float) -> Scenes:
    """The first ``count`` test-split synthetic scenes rendered at ``scale`` x the training size."""
    from .data.synthetic import SyntheticStreets

    h, w = cfg.model.image_size
    ds = SyntheticStreets(size=(h, w), length=count, seed=cfg.data.synthetic_seed, split="test")
    items = [ds.render(i, size=(round(h * scale), round(w * scale))) for i in range(count)]
    return Scenes(*(torch.stack([it[k] for it in items]) for k in ("label", "instance", "image")))


def synthetic_scenes_at(cfg, count: int):
    """``scenes_at(scale)`` for :func:`evaluate`: :func:`synthetic_scenes`, each scale rendered once."""
    cache: dict[float, Scenes] = {}

    def scenes_at(scale: float) -> Scenes:
        if scale not in cache:
            cache[scale] = synthetic_scenes(cfg, count, scale)
        return cache[scale]

    return scenes_at


def dataset_scenes(cfg, count: int) -> Scenes:
    """The first ``count`` validation examples of a real dataset (at its training size)."""
    from .data.build import build_dataset

    ds = build_dataset(cfg, "val")
    if len(ds) == 0:
        raise ValueError(f"the {cfg.data.dataset} validation split is empty")
    items = [ds[i] for i in range(min(count, len(ds)))]
    return Scenes(*(torch.stack([it[k] for it in items]) for k in ("label", "instance", "image")))


def _legal_size(G, size: tuple[int, int]) -> tuple[int, int]:
    step = 2 ** G.cfg.num_up
    return tuple(max(step, step * round(s / step)) for s in size)


def _run_trunk_at(G, sem: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """G on ``sem`` resized (nearest) to ``size``, or to the nearest size its trunk accepts and back."""
    legal = _legal_size(G, size)
    out = G(F.interpolate(sem, size=legal, mode="nearest"))
    if legal != tuple(size):
        out = F.interpolate(out, size=size, mode="bicubic", align_corners=False, antialias=True).clamp(-1, 1)
    return out


@torch.no_grad()
def generate(G, method: str, sem: torch.Tensor, size: tuple[int, int], sem_hr: torch.Tensor | None):
    """Images (B, 3, H, W) of ``G`` at ``size`` by ``method`` from 1x semantics ``sem`` (and ``sem_hr``)."""
    if tuple(sem.shape[-2:]) == tuple(size):
        return G(sem)
    if method == "labels":
        return _run_trunk_at(G, sem, size)
    if method == "labels_hr":
        return _run_trunk_at(G, sem_hr, size)
    if method == "label_guided_hr":
        return upscale(G, sem, size=size, method="label_guided", guide=sem_hr)
    return upscale(G, sem, size=size, method=method)


def check_runs(generators: dict, runs: list[tuple[str, str]], hr_labels: bool) -> None:
    for key, method in runs:
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}: choose from {', '.join(METHODS)}")
        if METHODS[method].posgen_only and not hasattr(generators[key], "pixel_head"):
            raise ValueError(f"method {method!r} needs a PosGen model; {key} is a SPADE generator "
                             "(use bicubic or labels)")
        if METHODS[method].uses_hr_labels and not hr_labels:
            raise ValueError(f"method {method!r} needs ground-truth labels at the output size, "
                             "which only the synthetic streets have")


@torch.no_grad()
def evaluate(generators: dict, runs: list[tuple[str, str]], scenes_at, scales, cfg, device="cpu",
             segmenter=None, segfd: bool = True, inception: bool = True, batch_size: int = 8,
             ground_truth: bool = True, progress: bool = True) -> list[dict]:
    """Score ``runs`` [(generator key, method)] at each scale; one dict per (run, scale).

    ``scenes_at(scale)`` returns the :class:`Scenes` at that scale (index 0 of
    ``scales`` must be 1). ``segmenter``: for mIoU (None: skipped); ``segfd``
    also uses its features; ``inception``: FID/KID; ``ground_truth``: PSNR/SSIM.
    """
    from .fid import DistributionScores, InceptionFeatures, SegmenterFeatures

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
                if METHODS[method].uses_hr_labels:
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
