"""Notebook 06's figures and tables: upscaling methods side by side, training patches, measured results, memory.

* :func:`methods_table` -- the registry of upscaling methods (:data:`posgen_lib.rendering.METHODS`):
  what each does, what it needs, which generators it applies to.
* :func:`comparison_figure` -- one scene at a scale by several (generator, method) pairs next to the
  ground truth, optionally cropped.
* :func:`patches_figure` -- what any-resolution training sees: the 1x labels with the patch windows,
  and the ground-truth patches at the drawn scale.
* :func:`load_results`, :func:`results_table`, :func:`front_figure` -- the numbers of ``posgen experiment``
  (``docs/results.json``; the course reads the copy shipped in the package, ``course/assets/results.json``,
  so that notebook 06 runs in any folder): every metric of every method, mean and spread over seeds, and
  the distortion-perception front of the any-resolution arms over the texture knob. :func:`targets_table` lists the
  project's own targets (docs/results.md), not shown in the course.
* :class:`MemoryRow`, :func:`memory_figure` -- the working memory of banded renders (measured in the notebook).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import torch
from matplotlib import ticker
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ...data.labels import colorize
from ...data.transforms import to_semantics
from ...eval import comparison
from ...eval.evaluate import HEADERS
from ...eval.experiment import front_curves, reference_points
from ...eval.report import aggregate, fmt, targets
from ...rendering import METHODS, upscale
from ...viz import to_uint8
from ...viz.figures import show_image


def methods_table(generators: dict) -> str:
    """A text table: every upscaling method, what it needs, and which of ``generators`` ({name: G}) it fits."""
    names = list(generators)
    lines = [f"{'method':<20} {'needs':<24} " + " ".join(f"{n:>8}" for n in names)]
    for m in METHODS.values():
        fits = " ".join(f"{'yes' if m.applies_to(G) else '-':>8}" for G in generators.values())
        lines.append(f"{m.name:<20} {m.needs:<24} {fits}")
    return "\n".join(lines)


@torch.no_grad()
def comparison_figure(runs: dict, dataset, index: int, scale: float = 4,
                      crop: tuple[slice, slice] | None = None, columns: int = 4) -> Figure:
    """Scene ``index`` of ``dataset`` at ``scale``: the 1x labels, the ground truth, and ``runs =
    {title: (G, method)}``, each given the scene's labels at that scale; optionally cropped."""
    h, w = dataset.size
    size = (round(h * scale), round(w * scale))
    low, high = dataset[index], dataset.render(index, size=size)
    images = {"labels (1x)": colorize(low["label"]),
              f"ground truth {size[0]}x{size[1]}": to_uint8(high["image"])}
    for title, (G, method) in runs.items():
        device = next(G.parameters()).device
        sem = to_semantics(low["label"], low["instance"], "synthetic", G.cfg.use_instance).to(device)
        hr = to_semantics(high["label"], high["instance"], "synthetic", G.cfg.use_instance).to(device)
        images[title] = to_uint8(upscale(G, sem, size=size, method=method, labels=hr)[0])
    crop = crop or (slice(None), slice(None))
    rows = -(-len(images) // columns)
    fig = Figure(figsize=(2.6 * columns, 1.6 * rows + 0.3))
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for ax, (title, image) in zip(axes, images.items()):
        show_image(ax, image if title.startswith("labels") else image[crop], title)
    for ax in axes[len(images):]:
        ax.set_axis_off()
    fig.tight_layout()
    return fig


def patches_figure(item: dict, label_size: tuple[int, int]) -> Figure:
    """A :class:`~posgen_lib.data.patches.ScaledPatches` item: its 1x labels with the patch windows drawn,
    and each ground-truth patch at the drawn scale."""
    count = len(item["patch_window"])
    fig = Figure(figsize=(2.4 * (count + 2), 2.3))
    axes = fig.subplots(1, count + 2)
    h, w = label_size
    show_image(axes[0], colorize(item["label"]), f"1x labels {h}x{w}")
    axes[0].set_axis_off()
    axes[1].set_axis_off()
    for k, (x0, y0, x1, y1) in enumerate(item["patch_window"].tolist()):
        left, top = (x0 + 1) / 2 * (w - 1), (y0 + 1) / 2 * (h - 1)
        width, height = (x1 - x0) / 2 * (w - 1), (y1 - y0) / 2 * (h - 1)
        axes[0].add_patch(Rectangle((left, top), width, height, fill=False, ec="yellow", lw=1.2))
        axes[0].text(left, top, str(k), color="yellow", fontsize=7, va="bottom")
    show_image(axes[1], to_uint8(item["image"]), "1x photo")
    size = item["patch_image"].shape[-1]
    for k in range(count):
        show_image(axes[k + 2], to_uint8(item["patch_image"][k]),
                   f"patch {k}: {size}x{size} at {float(item['patch_scale']):.2f}x")
    fig.tight_layout()
    return fig


SHIPPED_RESULTS = "assets/results.json"  # inside posgen_lib/course: a copy of docs/results.json


def load_results(path: str | Path | None = None) -> dict:
    """The experiment's results: ``path`` (a ``results.json`` written by ``posgen experiment``), or by default
    the copy shipped with the package; FileNotFoundError saying how to make one."""
    if path is None:
        return json.loads(resources.files("posgen_lib.course").joinpath(SHIPPED_RESULTS).read_text())
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: run `posgen experiment --out docs` (hours on 2 CPU cores)")
    return json.loads(path.read_text())


def front_figure(results: dict, scale: float = 4.0) -> Figure:
    """The distortion-perception front of the experiment at ``scale``: band PSNR against patch-KID for every
    patch-GAN weight over the texture knob, with bicubic, joint bilateral upsampling, PosGen's coordinates
    and SPADE at the output size as single points (the report's own figure, :func:`posgen_lib.eval.comparison
    .front_figure`, drawn from the results)."""
    meta = results["meta"]
    return comparison.front_figure(aggregate(results["rows"]),
                                   front_curves(meta["experiment"]["tradeoff"], meta["experiment"]["knobs"]),
                                   reference_points(meta["operating_point"]), scale)


# The columns notebook 06 prints (docs/results.md has more): segmentation, realism, fidelity, texture.
TABLE_METRICS = ("miou", "kid", "patch_kid_boundary", "patch_kid_interior", "psnr_band", "psnr_interior",
                 "psnr_lowpass", "edge_energy", "texture_energy")


def results_table(results: dict, scale: float, generators: tuple[str, ...] | None = None,
                  metrics=TABLE_METRICS) -> str:
    """Every method at ``scale`` (mean ± sd over seeds) as a text table, best first by band PSNR."""
    agg = aggregate(results["rows"])
    keys = [k for k in agg if k[2] == scale and (generators is None or k[0] in generators)]
    keys.sort(key=lambda k: -agg[k].get("psnr_band", (float("-inf"), 0))[0])
    shown = [m for m in metrics if any(m in agg[k] for k in keys)]
    cells = [[f"{k[0]}, {k[1]}"] + [fmt(m, agg[k]) for m in shown] for k in keys]
    header = ["method"] + [HEADERS[m] for m in shown]
    widths = [max(len(x) for x in col) for col in zip(header, *cells)]
    line = lambda xs: "  ".join(x.ljust(w) if i == 0 else x.rjust(w) for i, (x, w) in enumerate(zip(xs, widths)))  # noqa: E731
    return "\n".join([line(header)] + [line(c) for c in cells])


def targets_table(results: dict) -> str:
    """The targets of the any-resolution work, met or not, with the measurement."""
    rows = targets(aggregate(results["rows"]), results["costs"], results["meta"], results["ground_truth"])
    return "\n".join(f"[{'met' if met else 'MISSED'}] {what}: {measured}" for what, met, measured in rows)


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
