"""Notebook 06's experiments: upscaling methods side by side, and the memory of chunked renders.

Methods compared at ``scale`` x the labels' resolution (all from 1x labels;
:func:`posgen_lib.rendering.upscale` does the work, methods from its registry):

==================  ===========================================================
``PosGen coords``   PosGen's trunk at 1x, its head on the enlarged pixel grid
``PosGen bicubic``  PosGen's 1x output, bicubically resized
``SPADE bicubic``   SPADE's 1x output, bicubically resized
``SPADE labels``    SPADE run on nearest-upsampled labels (its trunk at full size)
==================  ===========================================================

The procedural street scenes render at any resolution, so each method is
scored against the scene's own high-resolution photo (PSNR, SSIM).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from matplotlib import ticker
from matplotlib.figure import Figure

from ...data.labels import colorize
from ...perf.memory import PeakTensorMemory
from ...eval.metrics import psnr, ssim
from ...rendering import render, upscale
from ..views import semantics
from ...viz import to_uint8

COMPARED = {"PosGen coords": ("posgen", "coordinates"), "PosGen bicubic": ("posgen", "bicubic"),
            "SPADE bicubic": ("spade", "bicubic"), "SPADE labels": ("spade", "trunk_nearest")}


def upscaled(models: dict, scene: dict, scale: float, methods=tuple(COMPARED)) -> dict:
    """``{method: (3, H, W) image}`` for one scene; ``models = {"posgen": G, "spade": B}``."""
    out = {}
    for name in methods:
        kind, method = COMPARED[name]
        G = models[kind]
        with torch.no_grad():
            out[name] = upscale(G, semantics(G, scene), scale=scale, method=method)[0].cpu()
    return out


def comparison_figure(models: dict, dataset, index: int, scale: float = 4,
                      crop: tuple[slice, slice] | None = None) -> Figure:
    """Labels, ground truth and every method for scene ``index`` at ``scale``, optionally cropped."""
    h, w = dataset.size
    size = (round(h * scale), round(w * scale))
    truth = dataset.render(index, size=size)
    images = {"labels (1x, nearest)": colorize(dataset[index]["label"]),
              f"ground truth {size[0]}x{size[1]}": to_uint8(truth["image"])}
    images.update({k: to_uint8(v) for k, v in upscaled(models, dataset[index], scale).items()})
    crop = crop or (slice(None), slice(None))
    fig = Figure(figsize=(12, 4.2))
    for ax, (title, image) in zip(fig.subplots(2, 3).ravel(), images.items()):
        if not title.startswith("labels"):
            image = image[crop]
        ax.imshow(image, interpolation="nearest")
        ax.set_title(title, fontsize=9)
        ax.set_axis_off()
    fig.tight_layout()
    return fig


def score_methods(models: dict, dataset, indices, scale: float = 4) -> dict:
    """Mean PSNR (dB) and SSIM of each method against the ground truth at ``scale``."""
    h, w = dataset.size
    size = (round(h * scale), round(w * scale))
    fakes = {name: [] for name in COMPARED}
    truths = []
    for i in indices:
        truths.append(dataset.render(i, size=size)["image"])
        for name, image in upscaled(models, dataset[i], scale).items():
            fakes[name].append(image)
    truth = torch.stack(truths)
    return {name: {"psnr": round(psnr(torch.stack(imgs), truth), 2),
                   "ssim": round(ssim(torch.stack(imgs), truth), 3)} for name, imgs in fakes.items()}


def format_scores(scores: dict) -> str:
    """A small text table of :func:`score_methods`' result."""
    lines = [f"{'method':<16} {'PSNR dB':>8} {'SSIM':>6}"]
    lines += [f"{name:<16} {s['psnr']:>8.2f} {s['ssim']:>6.3f}" for name, s in scores.items()]
    return "\n".join(lines)


@dataclass(frozen=True)
class MemoryRow:
    scale: float
    chunk_pixels: int
    output_mb: float  # the output buffer itself
    peak_mb: float  # peak live tensor memory of the whole render

    @property
    def working_mb(self) -> float:
        """Memory beyond the output buffer: trunk features plus one band of head activations."""
        return self.peak_mb - self.output_mb


def render_memory(G, sem: torch.Tensor, scales=(2, 4, 8),
                  chunks=(1 << 12, 1 << 16, 1 << 30)) -> list[MemoryRow]:
    """Peak tensor memory (:class:`~posgen_lib.perf.memory.PeakTensorMemory`) per scale and band size."""
    rows = []
    for scale in scales:
        for chunk in chunks:
            with PeakTensorMemory() as mem:
                out = render(G, sem, scale=scale, max_chunk_pixels=chunk)
            output = out.numel() * out.element_size()
            rows.append(MemoryRow(scale, chunk, output / 2**20, mem.peak_bytes / 2**20))
            del out
    return rows


def memory_figure(rows: list[MemoryRow]) -> Figure:
    """Working memory (peak minus output) against output size, one line per band size."""
    fig = Figure(figsize=(6, 3.2))
    ax = fig.subplots()
    for chunk in sorted({r.chunk_pixels for r in rows}):
        mine = [r for r in rows if r.chunk_pixels == chunk]
        label = "no chunking" if chunk >= 1 << 30 else f"bands of {chunk:,} pixels"
        ax.plot([r.output_mb for r in mine], [r.working_mb for r in mine], "o-", label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("output buffer (MiB)")
    ax.set_ylabel("working memory (MiB)")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(ticker.FormatStrFormatter("%g"))
        axis.set_minor_formatter(ticker.NullFormatter())
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
