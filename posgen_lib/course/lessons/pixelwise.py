"""Figures and measurements for notebook 08 (the fully pixel-wise generator).

* :func:`influence_map` / :func:`influence_figure` -- change the class of ONE
  label pixel and mark every output pixel that changes: the generator's
  receptive field made visible (PosGen: the trunk's convolutions spread the
  change far; pixel-wise with context: the coarse context cells; pixel-wise
  without context: that one pixel).
* :func:`side_by_side` -- held-out scenes: labels | photo | each model, at any scale.
* :func:`cost_rows` / :func:`format_costs` -- parameters, spatial convolutions
  at the output resolution, and render time at several scales.
"""
from __future__ import annotations

import time

import torch
from matplotlib.figure import Figure

from ...data.labels import colorize
from ...data.transforms import to_semantics
from ...models.registry import count_parameters
from ...models.pixelwise import output_resolution_convolutions
from ...rendering.render import render
from ...viz import to_uint8


VISIBLE = 2 / 255  # one 8-bit grey level on the [-1, 1] scale


@torch.no_grad()
def change_magnitude(G, label: torch.Tensor, instance: torch.Tensor, pixel: tuple[int, int], to_class: int,
                     label_set: str = "synthetic") -> torch.Tensor:
    """(H, W): largest colour change of each output pixel when label ``pixel`` (row, col) becomes ``to_class``."""
    edited = label.clone()
    edited[pixel] = to_class
    before = G(to_semantics(label[None], instance[None], label_set, G.cfg.use_instance))
    after = G(to_semantics(edited[None], instance[None], label_set, G.cfg.use_instance))
    return (after - before).abs().amax(dim=1)[0]


def influence_map(G, label: torch.Tensor, instance: torch.Tensor, pixel: tuple[int, int], to_class: int,
                  label_set: str = "synthetic", tolerance: float = 1e-6) -> torch.Tensor:
    """(H, W) bool: output pixels whose colour changes by more than ``tolerance`` (float noise) after the edit."""
    return change_magnitude(G, label, instance, pixel, to_class, label_set) > tolerance


def influence_figure(models: dict, label: torch.Tensor, instance: torch.Tensor, pixel: tuple[int, int],
                     to_class: int, label_set: str = "synthetic", height: float = 2.0) -> Figure:
    """For each model: log10 of the colour change of every output pixel after one label-pixel edit.

    Titles count the pixels that change at all (above float noise) and those
    that change visibly (by at least one 8-bit grey level).
    """
    aspect = label.shape[-1] / label.shape[-2]
    fig = Figure(figsize=(len(models) * height * aspect + 1.2, height + 0.6))
    axes = fig.subplots(1, len(models), squeeze=False)[0]
    for ax, (name, G) in zip(axes, models.items()):
        change = change_magnitude(G, label, instance, pixel, to_class, label_set)
        shown = ax.imshow(torch.log10(change + 1e-7).numpy(), vmin=-7, vmax=0, cmap="magma",
                          interpolation="nearest")
        ax.plot(pixel[1], pixel[0], marker="+", color="cyan", markersize=10)
        ax.set_title(f"{name}: {int((change > 1e-6).sum()):,} change,\n"
                     f"{int((change >= VISIBLE).sum()):,} visibly", fontsize=9)
        ax.set_axis_off()
    fig.colorbar(shown, ax=list(axes), label="log10 colour change", shrink=0.8)
    return fig


@torch.no_grad()
def side_by_side(models: dict, scenes, indices, scale: float = 1, label_set: str = "synthetic",
                 height: float = 1.4) -> Figure:
    """One row per scene of ``scenes`` (1x :class:`~posgen_lib.eval.scenes.Scenes`): labels | photo | models.

    Models render at ``scale`` (``pg.render``); labels and photo are the 1x ones.
    """
    indices = list(indices)
    titles = ["labels", "photo"] + list(models)
    aspect = scenes.label.shape[-1] / scenes.label.shape[-2]
    fig = Figure(figsize=(len(titles) * height * aspect + 0.4, len(indices) * height + 0.4))
    axes = fig.subplots(len(indices), len(titles), squeeze=False)
    for r, i in enumerate(indices):
        sem = to_semantics(scenes.label[i:i + 1], scenes.instance[i:i + 1], label_set)
        images = [colorize(scenes.label[i], label_set), to_uint8(scenes.image[i])]
        images += [to_uint8(render(G, sem, scale=scale)[0]) for G in models.values()]
        for ax, image, title in zip(axes[r], images, titles):
            ax.imshow(image, interpolation="nearest" if title == "labels" else "antialiased")
            ax.set_axis_off()
            if r == 0:
                ax.set_title(title if title in ("labels", "photo") else f"{title} ({scale:g}x)", fontsize=9)
    fig.tight_layout()
    return fig


def _median_seconds(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def cost_rows(models: dict, sem: torch.Tensor, scales=(1, 4)) -> list[dict]:
    """Per model: parameters, spatial convs at the output resolution, median render seconds per scale."""
    rows = []
    for name, G in models.items():
        row = {"model": name, "parameters": count_parameters(G),
               "output_res_convs": len(output_resolution_convolutions(G, sem))}
        for scale in scales:
            row[f"render_{scale:g}x_s"] = _median_seconds(lambda: render(G, sem, scale=scale))
        rows.append(row)
    return rows


def format_costs(rows: list[dict]) -> str:
    """A text table of :func:`cost_rows`."""
    keys = [k for k in rows[0] if k != "model"]
    width = max(len(r["model"]) for r in rows)
    lines = [f"{'':<{width}}  " + "  ".join(f"{k:>16}" for k in keys)]
    for r in rows:
        cells = [f"{r[k]:>16,}" if isinstance(r[k], int) else f"{r[k]:>16.3f}" for k in keys]
        lines.append(f"{r['model']:<{width}}  " + "  ".join(cells))
    return "\n".join(lines)
