"""Inside PosGen's per-pixel head: parameters, cost, independence, coordinate ablations (notebook 03).

The head (:mod:`posgen_lib.models.pixel_head`, docs/architecture.md) maps each pixel's
trunk feature ``f`` (C values) and coordinate ``c`` in [-1, 1]^2 to RGB::

    y = tanh(L3(lrelu(L2(lrelu(L1([sin(W_f f + b_f), c, sin(W_c c + b_c)]))))))

With F feature-Fourier, G coordinate-Fourier and H hidden units it has
``(C+1)F + 3G + (F+2+G+1)H + (H+1)H + 3(H+1)`` parameters, and per pixel about
``CF + (F+2+G)H + H^2 + 3H`` multiply-adds plus ``F + G`` sines. The first
layer splits as ``L1([a, c, g]) = W_a a + (W_c c + W_g g + b_1)``: the bracket,
the *position term*, depends only on the pixel grid, so it is computed once
per output size and shared by the batch, leaving ``CF + FH + H^2 + 3H`` and F
sines per pixel and image.

The functions here count those numbers for real models, check pixel
independence at any output scale, and re-run the head with the coordinate
input zeroed, scrambled or mirrored to show what position contributes.
"""
from __future__ import annotations

import dataclasses

import torch
from matplotlib.figure import Figure

from ...config import ModelConfig, preset
from ...models.fourier import coordinate_grid, sample_at
from ...models.generator import PosGenGenerator, SPADEGenerator
from ...models.registry import count_parameters
from ...models.pixel_head import PixelHead
from ...rendering.render import output_size, render


def head_breakdown(head: PixelHead) -> list[tuple[str, int]]:
    """Parameters of each part of ``head``; the numbers sum to ``count_parameters(head)``."""
    n_feat = head.feat_fourier.out_features
    hidden = head.fc1.out_features
    return [("feature Fourier layer W_f, b_f", count_parameters(head.feat_fourier)),
            ("coordinate Fourier layer", count_parameters(head.coord_fourier)),
            ("fc1, feature part W_a", hidden * n_feat),
            ("fc1, position part W_c, W_g, bias", head.fc1.weight[:, n_feat:].numel() + hidden),
            ("fc2", count_parameters(head.fc2)),
            ("fc3 -> RGB", count_parameters(head.fc3))]


def head_widths(head: PixelHead) -> dict[str, int]:
    """C, F, G, H of ``head`` as the keyword arguments of :func:`head_cost`."""
    return dict(feat_nc=head.feat_fourier.in_features, feat_fourier=head.feat_fourier.out_features,
                coord_fourier=head.coord_fourier.linear.out_features, hidden=head.fc1.out_features)


def head_cost(feat_nc: int, feat_fourier: int, coord_fourier: int, hidden: int) -> dict[str, int]:
    """Parameters and per-pixel work of a head of these widths (formulas of the module docstring)."""
    params = (feat_nc + 1) * feat_fourier + 3 * coord_fourier + (feat_fourier + 2 + coord_fourier + 1) * hidden \
        + (hidden + 1) * hidden + 3 * (hidden + 1)
    cached = feat_nc * feat_fourier + feat_fourier * hidden + hidden * hidden + 3 * hidden
    return dict(params=params, macs=cached + 2 * coord_fourier + (2 + coord_fourier) * hidden,
                macs_cached=cached, sines=feat_fourier + coord_fourier, sines_cached=feat_fourier)


def width_table(feat_nc: int = 64, widths=(64, 128, 256, 512), total: int = 97_480_899) -> str:
    """Head cost for F = G = H = each width, next to SPADE's final 3x3 conv (27 C MACs per pixel)."""
    lines = [f"{'width':>6s} {'params':>10s} {'% of 97.5M':>10s} {'MACs/pixel':>11s} {'sines/pixel':>11s}"]
    for w in widths:
        cost = head_cost(feat_nc, w, w, w)
        lines.append(f"{w:6d} {cost['params']:10,d} {100 * cost['params'] / total:10.2f} "
                     f"{cost['macs_cached']:11,d} {cost['sines_cached']:11d}")
    lines.append(f"SPADE's conv_img: {3 * 9 * feat_nc + 3:,d} params, {3 * 9 * feat_nc:,d} MACs/pixel")
    return "\n".join(lines)


def model_counts(names=("cityscapes", "coco_stuff")) -> list[dict]:
    """Build SPADE and PosGen for each preset and count their parameters (a few seconds each)."""
    rows = []
    for name in names:
        cfg = preset(name).model
        spade, posgen = SPADEGenerator(cfg), PosGenGenerator(cfg)
        rows.append(dict(preset=name, spade=count_parameters(spade), posgen=count_parameters(posgen),
                         conv_img=count_parameters(spade.conv_img), head=count_parameters(posgen.pixel_head)))
    return rows


def counts_text(rows: list[dict]) -> str:
    lines = [f"{'preset':12s} {'SPADE':>12s} {'PosGen':>12s} {'conv_img':>9s} {'PixelHead':>10s}"]
    lines += [f"{r['preset']:12s} {r['spade']:12,d} {r['posgen']:12,d} {r['conv_img']:9,d} {r['head']:10,d}"
              for r in rows]
    return "\n".join(lines)


@torch.no_grad()
def subset_check(G: PosGenGenerator, sem: torch.Tensor, scale: float = 1.0, count: int = 64,
                 seed: int = 0) -> float:
    """Max |difference| between ``count`` random pixels of a full render at ``scale`` and the
    same pixels computed alone: their coordinates, features sampled there, head on that list."""
    full = render(G, sem, scale=scale)  # (B, 3, H, W)
    height, width = output_size(tuple(sem.shape[-2:]), scale)
    pick = torch.randperm(height * width, generator=torch.Generator().manual_seed(seed))[:count]  # (N,)
    coords = coordinate_grid((height, width)).flatten(1)[:, pick]  # (2, N)
    feat = sample_at(G.features(sem), coords.unsqueeze(1))  # (B, C, 1, N)
    alone = torch.stack([G.pixel_head.forward_pixels(f[:, 0].T, coords.T) for f in feat])  # (B, N, 3)
    return (alone - full.flatten(2)[:, :, pick].transpose(1, 2)).abs().max().item()


ABLATIONS = ("as trained", "zeroed", "scrambled", "x mirrored")


@torch.no_grad()
def coordinate_ablation(G: PosGenGenerator, sem: torch.Tensor, seed: int = 0) -> dict[str, torch.Tensor]:
    """The head on the same trunk features with the coordinate input changed -> {name: (B, 3, H, W)}.

    ``zeroed``: every pixel is told it sits at the centre (0, 0); ``scrambled``:
    the pixels' coordinates are randomly permuted; ``x mirrored``: x -> -x.
    The trunk feature is untouched, so any change comes from the position input.
    """
    feat = G.features(sem)  # (B, C, H, W)
    grid = coordinate_grid(feat.shape[-2:])  # (2, H, W)
    perm = torch.randperm(grid[0].numel(), generator=torch.Generator().manual_seed(seed))
    variants = {"as trained": grid, "zeroed": torch.zeros_like(grid),
                "scrambled": grid.flatten(1)[:, perm].reshape(grid.shape),
                "x mirrored": torch.stack([-grid[0], grid[1]])}
    return {name: G.pixel_head(feat, variants[name]) for name in ABLATIONS}


def ablation_text(images: dict[str, torch.Tensor]) -> str:
    """Mean |change| from the trained coordinates, per ablation (images in [-1, 1])."""
    ref = images["as trained"]
    return "\n".join(f"{name:11s} mean |change| {(img - ref).abs().mean().item():.3f}"
                     for name, img in images.items() if name != "as trained")


# --------------------------------------------------------------------------- figures

def _rgb(image: torch.Tensor):
    return ((image.clamp(-1, 1) + 1) / 2).permute(1, 2, 0).numpy()


def ablation_figure(label_rgb, images: dict[str, torch.Tensor], index: int = 0) -> Figure:
    """Top: the labels and each ablation's image; bottom: |change| from the trained coordinates
    (mean over RGB, one colour scale for all panels: its 99th percentile)."""
    names = list(images)
    ref = images["as trained"][index]
    changes = {n: (images[n][index] - ref).abs().mean(0) for n in names[1:]}  # (H, W) each
    top = torch.quantile(torch.stack(list(changes.values())).flatten(), 0.99).item() or 1.0
    fig = Figure(figsize=(2.9 * (len(names) + 1), 3.3))
    axes = fig.subplots(2, len(names) + 1)
    axes[0, 0].imshow(label_rgb, interpolation="nearest")
    axes[0, 0].set_title("labels", fontsize=8)
    for k, name in enumerate(names, start=1):
        axes[0, k].imshow(_rgb(images[name][index]), interpolation="nearest")
        axes[0, k].set_title(f"coordinates {name}", fontsize=8)
        if name in changes:
            axes[1, k].imshow(changes[name].numpy(), cmap="magma", vmin=0, vmax=top, interpolation="nearest")
            axes[1, k].set_title(f"|change|, mean {changes[name].mean().item():.3f}", fontsize=8)
    for ax in axes.ravel():
        ax.set_axis_off()
    fig.tight_layout()
    return fig


@torch.no_grad()
def position_term_figure(head: PixelHead, size: tuple[int, int], count: int = 4) -> Figure:
    """The ``count`` most varying channels of the position term W_c c + W_g g + b_1 on a grid."""
    term = head.position_term(coordinate_grid(size).permute(1, 2, 0))  # (H, W, hidden)
    channels = term.flatten(0, 1).std(0).argsort(descending=True)[:count].tolist()
    fig = Figure(figsize=(2.8 * count, 1.9))
    axes = fig.subplots(1, count, squeeze=False)[0]
    for ax, c in zip(axes, channels):
        ax.imshow(term[..., c].numpy(), cmap="RdBu_r", interpolation="nearest")
        ax.set_title(f"position term, unit {c}", fontsize=8)
        ax.set_axis_off()
    fig.tight_layout()
    return fig


@torch.no_grad()
def coord_scale_figure(cfg: ModelConfig, sem: torch.Tensor, scales=(0.5, 2.0, 30.0), seed: int = 0) -> Figure:
    """Untrained PosGen outputs for several ``head_coord_scale`` values (same seed, same labels).

    SPADE's init makes the trunk feature tiny, so at init the head paints a
    function of position alone; the scale sets its spatial frequencies. Each
    image is contrast-stretched (mean removed, divided by its max |value|).
    """
    fig = Figure(figsize=(3.4 * len(scales), 2.0))
    axes = fig.subplots(1, len(scales), squeeze=False)[0]
    for ax, scale in zip(axes, scales):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            G = PosGenGenerator(dataclasses.replace(cfg, head_coord_scale=scale)).eval()
        image = G(sem[:1])[0]  # (3, H, W)
        image = image - image.mean(dim=(1, 2), keepdim=True)
        ax.imshow(_rgb(image / image.abs().max()), interpolation="nearest")
        ax.set_title(f"head_coord_scale = {scale:g} (untrained)", fontsize=8)
        ax.set_axis_off()
    fig.tight_layout()
    return fig
