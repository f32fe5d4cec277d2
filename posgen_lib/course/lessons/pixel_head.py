"""Inside PosGen's per-pixel head: tables, figures and the widget of notebook 03.

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

The notebook writes the mechanisms out itself (the head, its parameter and
cost formulas, pixels decoded alone, the band loop, the coordinate ablation of
its exercise); this module keeps what only draws or tabulates: the head's
parameters part by part, the architecture diagram,
the position-term figure (and notebook 01's ``coord_scale_figure``), and the
coordinate-frequency widget (:func:`frequency_viewer`, static figure
:func:`frequency_figure`), whose callback is the plain function
:func:`frequency_views`.
"""
from __future__ import annotations

import copy
import dataclasses
import io
import math

import numpy as np
import torch
from matplotlib.figure import Figure

from ...config import ModelConfig
from ...models.generator import PosGenGenerator
from ...models.registry import count_parameters
from ...models.pixel_head import PixelHead
from ...rendering.render import render
from ...viz.images import to_uint8


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


# --------------------------------------------------------------------------- figures

def _rgb(image: torch.Tensor):
    return ((image.clamp(-1, 1) + 1) / 2).permute(1, 2, 0).numpy()


def position_term_figure(term: torch.Tensor, units) -> Figure:
    """Maps of the given hidden ``units`` of a position term ``term`` (H, W, hidden), blue-white-red."""
    units = list(units)
    fig = Figure(figsize=(2.4 * len(units), 1.6))
    axes = fig.subplots(1, len(units), squeeze=False)[0]
    for ax, unit in zip(axes, units):
        ax.imshow(term[..., unit].detach().numpy(), cmap="RdBu_r", interpolation="nearest")
        ax.set_title(f"position term, unit {unit}", fontsize=8)
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


# --------------------------------------------------------------------------- the architecture diagram

def architecture_figure() -> Figure:
    """PosGen in one picture: the trunk runs once at the labels' size; coordinates enter the per-pixel
    head (and pick where the feature is sampled); below, SPADE's final 3x3 conv for comparison."""
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    fig = Figure(figsize=(10, 3.9))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 20)
    ax.set_ylim(0, 7.8)
    ax.set_axis_off()

    def box(x, y, w, h, text, colour, size=8, style="round,pad=0.08", ls="-"):
        ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle=style, facecolor=colour, edgecolor="0.25",
                                    lw=0.9, ls=ls))
        ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=size)

    def arrow(a, b, text="", colour="0.2", ls="-", offset=(0, 0.18), rad=0.0):
        ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=10, lw=1.1, color=colour,
                                     ls=ls, connectionstyle=f"arc3,rad={rad}"))
        if text:
            ax.text((a[0] + b[0]) / 2 + offset[0], (a[1] + b[1]) / 2 + offset[1], text, ha="center",
                    va="bottom", fontsize=7, color=colour)

    trunk, feat, head, coord = "#dbe8f6", "#e6f2dd", "#fbe3c8", "#efe1f5"
    ax.text(0.2, 7.45, "PosGen", fontsize=10, fontweight="bold")
    box(0.2, 5.3, 2.4, 1.5, "semantics\none-hot labels\n+ instance edges\n(B, S, h, w)", trunk)
    box(3.2, 5.3, 3.0, 1.5, "SPADE trunk\nfc + 7 SPADE ResBlocks\n+ upsampling\nonce, at h x w", trunk)
    box(6.8, 5.3, 2.0, 1.5, "feature map f\n(B, C, h, w)", feat)
    box(9.4, 5.3, 2.2, 1.5, "f_p: f sampled\nbilinearly at\npixel centre c_p", feat)
    box(12.2, 4.95, 5.8, 2.2, "per-pixel head (the same weights at every pixel)\n"
        "[ sin(W_f f_p + b_f),  c_p,  sin(W_c c_p + b_c) ]\n-> FC -> LReLU -> FC -> LReLU -> FC(3) -> tanh",
        head, size=7.5)
    box(18.5, 5.5, 1.3, 1.1, "y_p\nRGB", head)
    box(8.4, 3.15, 5.0, 1.15, "pixel centres c_p in [-1, 1]^2\nany H x W, any window", coord)
    for a, b in (((2.6, 6.05), (3.2, 6.05)), ((6.2, 6.05), (6.8, 6.05)), ((8.8, 6.05), (9.4, 6.05)),
                 ((11.6, 6.05), (12.2, 6.05)), ((18.0, 6.05), (18.5, 6.05))):
        arrow(a, b)
    arrow((10.3, 4.3), (10.5, 5.3), "where", colour="#7a3d91", offset=(-0.55, -0.15))
    arrow((13.0, 4.3), (14.0, 4.95), "c_p itself", colour="#7a3d91", offset=(0.75, -0.3))
    ax.text(10.9, 2.7, "each output pixel p on its own: (f_p, c_p) -> y_p;  pg.render runs the head on bands "
            "of rows", fontsize=7.5, ha="center", style="italic")

    ax.plot([0.2, 19.8], [2.25, 2.25], color="0.7", lw=0.8, ls=":")
    ax.text(0.2, 1.75, "SPADE", fontsize=10, fontweight="bold")
    box(0.2, 0.25, 2.4, 1.2, "semantics\n(B, S, h, w)", trunk, ls="--")
    box(3.2, 0.25, 3.0, 1.2, "the same trunk", trunk, ls="--")
    box(6.8, 0.25, 2.0, 1.2, "f (B, C, h, w)", feat, ls="--")
    box(9.4, 0.25, 8.6, 1.2, "conv_img: 3x3 conv + tanh on the whole feature map\n"
        "each pixel reads its 8 neighbours' features at the output resolution", "#eeeeee", ls="--")
    box(18.5, 0.3, 1.3, 1.1, "RGB\n(B, 3, h, w)", "#eeeeee", size=6.5, ls="--")
    for a, b in (((2.6, 0.85), (3.2, 0.85)), ((6.2, 0.85), (6.8, 0.85)), ((8.8, 0.85), (9.4, 0.85)),
                 ((18.0, 0.85), (18.5, 0.85))):
        arrow(a, b, colour="0.45")
    return fig


# --------------------------------------------------------------------------- coordinate frequencies (widget)

FREQUENCY_FACTORS = (0, 0.5, 1, 2, 4, 8, 16, 32, 64)


def frequency_scaled(G: PosGenGenerator, factor: float) -> PosGenGenerator:
    """A copy of ``G`` whose learned coordinate frequencies W_c (not the phases b_c) are multiplied by
    ``factor``; ``G`` itself is not changed."""
    H = copy.deepcopy(G).eval()
    with torch.no_grad():
        H.pixel_head.coord_fourier.linear.weight.mul_(factor)
    return H


def aliased_frequencies(head: PixelHead, size: tuple[int, int], factor: float = 1.0) -> int:
    """How many of the head's coordinate frequencies, times ``factor``, are above the Nyquist limit of a
    full-frame grid of ``size=(H, W)`` pixels: sin(w . c + b) advances |w_x| 2/(W-1) radians per pixel
    along x (|w_y| 2/(H-1) along y); above pi per pixel the samples alias to a lower frequency."""
    w = head.coord_fourier.linear.weight.detach().abs() * factor  # (G, 2): x and y frequencies, rad per unit
    height, width = size
    per_pixel = torch.stack([w[:, 0] * 2 / max(width - 1, 1), w[:, 1] * 2 / max(height - 1, 1)], 1)
    return int((per_pixel.max(1).values > math.pi).sum())


def _enlarge(image: np.ndarray, k: int) -> np.ndarray:
    """(H, W, 3) -> (kH, kW, 3) by repeating pixels (nearest neighbour: pixels stay visible)."""
    return image.repeat(k, axis=0).repeat(k, axis=1)


def frequency_views(G: PosGenGenerator, sem: torch.Tensor, factor: float, scale: int = 4) -> dict:
    """What the frequency widget shows for one ``factor``: the render at 1x, enlarged ``scale`` times by
    pixel repetition, and the render at ``scale`` x, both (scale h, scale w, 3) uint8 of the first image,
    and a line of text (highest frequency, aliased frequencies at 1x and at ``scale`` x)."""
    H = frequency_scaled(G, factor)
    h, w = sem.shape[-2:]
    small = to_uint8(render(H, sem[:1], scale=1)[0])
    large = to_uint8(render(H, sem[:1], scale=scale)[0])
    top = float(H.pixel_head.coord_fourier.linear.weight.detach().norm(dim=1).max())
    count = H.pixel_head.coord_fourier.linear.out_features
    info = (f"factor {factor:g}: largest |W_c| row {top:.1f} rad per coordinate unit; aliased on the 1x grid: "
            f"{aliased_frequencies(H.pixel_head, (h, w))} of {count}, on the {scale}x grid: "
            f"{aliased_frequencies(H.pixel_head, (scale * h, scale * w))} of {count}")
    return {"1x": _enlarge(small, scale), f"{scale}x": large, "info": info}


def frequency_viewer(G: PosGenGenerator, sem: torch.Tensor, factors=FREQUENCY_FACTORS, scale: int = 4):
    """A slider over ``factors``: the shipped model with W_c times the factor, at 1x (pixels repeated) and
    at ``scale`` x, both shown at a fixed size of ``scale`` x the label map's pixels (the 1x render's pixels
    repeated, the ``scale`` x render one to one). Static fallback: :func:`frequency_figure`. Needs ipywidgets.

    The returned box has ``.slider``, ``.images`` (dict of two ``ipywidgets.Image``) and ``.info``;
    setting ``viewer.slider.value`` re-renders as dragging would.
    """
    import ipywidgets as W
    from PIL import Image as PILImage

    def png(image: np.ndarray) -> bytes:
        buffer = io.BytesIO()
        PILImage.fromarray(image).save(buffer, format="PNG")
        return buffer.getvalue()

    slider = W.SelectionSlider(options=[(f"{f:g}", f) for f in factors], value=1 if 1 in factors else factors[0],
                               description="W_c x", continuous_update=False)
    info = W.Label()
    h, w = scale * sem.shape[-2], scale * sem.shape[-1]  # both pictures are this size (the 1x one enlarged)
    fixed = dict(width=f"{w}px", height=f"{h}px", max_width="none", object_fit="fill")  # no browser rescaling
    images = {"1x": W.Image(format="png", layout=W.Layout(**fixed)),
              f"{scale}x": W.Image(format="png", layout=W.Layout(**fixed))}
    titles = {"1x": W.Label(f"1x ({sem.shape[-2]}x{sem.shape[-1]}), each pixel shown as {scale}x{scale}"),
              f"{scale}x": W.Label(f"{scale}x ({scale * sem.shape[-2]}x{scale * sem.shape[-1]}), true pixels")}

    def update(_=None) -> None:
        views = frequency_views(G, sem, slider.value, scale)
        for key, image in images.items():
            image.value = png(views[key])
        info.value = views["info"]

    slider.observe(update, names="value")
    box = W.VBox([W.HBox([slider, info])] + [W.VBox([titles[k], images[k]]) for k in images])
    box.slider, box.images, box.info, box.update = slider, images, info, update
    update()
    return box


def frequency_figure(G: PosGenGenerator, sem: torch.Tensor, factors=(1, 16, 64), scale: int = 4,
                     crop: tuple[slice, slice] = (slice(176, 248), slice(160, 352))) -> Figure:
    """Static version of :func:`frequency_viewer`: one row per factor, the 1x render (pixels repeated
    ``scale`` times) next to the ``scale`` x render, both cut to ``crop`` (rows, columns of the
    ``scale`` x image; default: 72 x 192 pixels of the lower middle). At the notebooks' 80 dpi the
    panels show the ``scale`` x pixels about one to one (nearest-neighbour interpolation)."""
    fig = Figure(figsize=(5.8, 1.4 * len(factors)))
    axes = fig.subplots(len(factors), 2, squeeze=False)
    for row, factor in zip(axes, factors):
        views = frequency_views(G, sem, factor, scale)
        aliased = [aliased_frequencies(frequency_scaled(G, factor).pixel_head, (s * sem.shape[-2], s * sem.shape[-1]))
                   for s in (1, scale)]
        for ax, key in zip(row, ("1x", f"{scale}x")):
            ax.imshow(views[key][crop], interpolation="nearest")
            ax.set_axis_off()
        row[0].set_title(f"W_c x {factor:g} at 1x: {aliased[0]} frequencies aliased", fontsize=8)
        row[1].set_title(f"W_c x {factor:g} at {scale}x: {aliased[1]} aliased", fontsize=8)
    fig.tight_layout()
    return fig
