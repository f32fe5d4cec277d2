"""Figures, measurements and the widget of notebook 08 (the fully pixel-wise generator).

* :func:`architecture_figure` -- the pixel-wise generator as a diagram: the
  context net on the pooled labels (the only 3x3 convolutions, at 1/r of the
  label resolution), the per-pixel embedding, the modulated coordinate MLP.
* :func:`change_magnitude`, :func:`influence_map`, :func:`influence_radius` --
  change the class of ONE label pixel and measure how much every output pixel
  changes: the generator's receptive field made visible and measured.
* :func:`influence_panel` (the widget's callback logic, a plain function),
  :func:`influence_explorer` (the widget: x, y sliders and a class menu) and
  :func:`influence_figure` (its static figure).
* :func:`side_by_side` -- held-out scenes: labels | photo | each model.

Images are drawn at a whole multiple of their pixel size (``zoom``) with
nearest-neighbour scaling, at the notebooks' PNG resolution
(:data:`posgen_lib.course.display.NOTEBOOK_DPI`), so every pixel stays visible.
"""
from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from ...config import preset
from ...data.labels import colorize, get_label_set
from ...data.transforms import to_semantics
from ...rendering.render import render
from ...viz import to_uint8
from ..display import NOTEBOOK_DPI

VISIBLE = 2 / 255  # one 8-bit grey level on the [-1, 1] scale
NOISE = 1e-6  # changes below this are float rounding, not influence
LOG_RANGE = (-7.0, 0.0)  # log10 of the colour change shown by the maps


# --- the architecture --------------------------------------------------------------------------

def _box(ax, x, y, w, h, text, colour, fontsize=8):
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.3,rounding_size=0.8",
                                facecolor=colour, edgecolor="0.25", linewidth=0.8))
    ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=fontsize)


def _arrow(ax, start, end, text="", offset=(0, 1.2)):
    ax.annotate("", xy=end, xytext=start, arrowprops=dict(arrowstyle="-|>", color="0.2", lw=0.9,
                                                          shrinkA=0, shrinkB=0))
    if text:
        ax.text((start[0] + end[0]) / 2 + offset[0], (start[1] + end[1]) / 2 + offset[1], text,
                ha="center", va="bottom", fontsize=7, color="0.25")


def architecture_figure(model=None) -> Figure:
    """The pixel-wise generator as boxes and arrows, with the widths of ``model`` (a ModelConfig).

    Top band: what runs on the coarse grid (labels pooled r x r, ContextNet's
    3x3 convolutions). Bottom band: what runs once per output pixel, at any
    resolution, without looking at a neighbour.
    """
    if model is None:
        model = preset("synthetic").model
    r, k = model.pixelwise_context, model.pixelwise_context_channels
    s, e, hid, layers = model.semantic_nc, model.pixelwise_embed, model.pixelwise_hidden, model.pixelwise_layers
    fig = Figure(figsize=(10, 4.3))
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 43)
    ax.set_axis_off()
    coarse, pixel = "#dbe9f6", "#fde8cf"
    ax.add_patch(FancyBboxPatch((1, 29), 98, 13, boxstyle="round,pad=0,rounding_size=1", facecolor="#f2f7fc",
                                edgecolor="#9bbad8", linewidth=0.8, linestyle="--"))
    ax.text(2, 40.6, f"context code: the only spatial (3x3) convolutions, on an H/{r} x W/{r} grid",
            fontsize=8, color="#2a5d8f", va="center")
    ax.add_patch(FancyBboxPatch((1, 1), 98, 26, boxstyle="round,pad=0,rounding_size=1", facecolor="#fff8f0",
                                edgecolor="#e0b27a", linewidth=0.8, linestyle="--"))
    ax.text(2, 2.6, "per output pixel p, at any resolution: no layer looks at a neighbour",
            fontsize=8, color="#9a5b13", va="center")
    # the context branch
    _box(ax, 3, 31, 14, 7, f"labels $s$\n(B, {s}, H, W)", "white")
    _box(ax, 23, 31, 19, 7, f"avg-pool {r}x{r}:\nclass fractions\n(B, {s}, H/{r}, W/{r})", coarse)
    _box(ax, 48, 31, 21, 7, f"ContextNet: three 3x3 convs\n(B, {k}, H/{r}, W/{r})", coarse)
    _box(ax, 75, 31, 21, 7, f"bilinear at pixel $p$:\ncontext code $k_p$ ({k})", coarse)
    _arrow(ax, (17.6, 34.5), (22.4, 34.5))
    _arrow(ax, (42.6, 34.5), (47.4, 34.5))
    _arrow(ax, (69.6, 34.5), (74.4, 34.5))
    # the per-pixel embedding and modulation
    _box(ax, 3, 17, 14, 6, "$s_p$: one-hot\nclass + edge", pixel)
    _box(ax, 23, 17, 19, 6, f"$e_p = W_e\\,[s_p, k_p] + b_e$\n({e})", pixel)
    _box(ax, 48, 17, 21, 6, f"$\\gamma_\\ell(e_p),\\ \\beta_\\ell(e_p)$\nlinear, $\\ell$ = 1..{layers}", pixel)
    _arrow(ax, (10, 30.4), (10, 23.6))
    _arrow(ax, (17.6, 20), (22.4, 20))
    _arrow(ax, (80, 30.4), (36, 23.6))
    ax.text(62, 27.6, "$k_p$", fontsize=8, color="0.25")
    _arrow(ax, (42.6, 20), (47.4, 20))
    # the coordinate MLP
    _box(ax, 3, 6, 14, 6, "$c_p \\in [-1, 1]^2$\n(x, y)", "white")
    _box(ax, 23, 6, 19, 6, "$h_0 = [c_p,\\ \\sin(W_c c_p + b_c)]$\nFourier features", pixel)
    _box(ax, 48, 6, 21, 6, f"{layers} modulated FC layers ({hid}):\n"
         "$\\mathrm{lrelu}((1+\\gamma_\\ell)(W_\\ell h + b_\\ell) + \\beta_\\ell)$", pixel, fontsize=7.5)
    _box(ax, 75, 6, 21, 6, "$y_p = \\tanh(W_{out} h + b_{out})$\nRGB (3)", pixel)
    _arrow(ax, (17.6, 9), (22.4, 9))
    _arrow(ax, (42.6, 9), (47.4, 9))
    _arrow(ax, (58.5, 16.4), (58.5, 12.6))
    _arrow(ax, (69.6, 9), (74.4, 9))
    return fig


# --- one-pixel influence -----------------------------------------------------------------------

def _semantics(G, label, instance, label_set):
    return to_semantics(label[None], instance[None], label_set, G.cfg.use_instance)  # (1, S, H, W)


@torch.no_grad()
def change_magnitude(G, label: torch.Tensor, instance: torch.Tensor, pixel: tuple[int, int], to_class: int,
                     label_set: str = "synthetic", before: torch.Tensor | None = None) -> torch.Tensor:
    """(H, W): largest colour change (over R, G, B) of each output pixel when label ``pixel`` (row, col)
    becomes ``to_class``. ``before`` is ``G``'s image of the unedited labels, if already rendered."""
    edited = label.clone()
    edited[pixel] = to_class
    if before is None:
        before = G(_semantics(G, label, instance, label_set))
    after = G(_semantics(G, edited, instance, label_set))
    return (after - before).abs().amax(dim=1)[0]


def influence_map(G, label: torch.Tensor, instance: torch.Tensor, pixel: tuple[int, int], to_class: int,
                  label_set: str = "synthetic", tolerance: float = NOISE) -> torch.Tensor:
    """(H, W) bool: output pixels whose colour changes by more than ``tolerance`` (float noise) after the edit."""
    return change_magnitude(G, label, instance, pixel, to_class, label_set) > tolerance


def influence_radius(change: torch.Tensor, pixel: tuple[int, int], threshold: float) -> int:
    """Largest Chebyshev distance (pixels) from ``pixel`` to a pixel of ``change`` >= threshold; -1 if none."""
    rows, cols = torch.nonzero(change >= threshold, as_tuple=True)
    if rows.numel() == 0:
        return -1
    return int(torch.maximum((rows - pixel[0]).abs(), (cols - pixel[1]).abs()).max())


def png_bytes(image: np.ndarray) -> bytes:
    """(H, W, 3) uint8 -> PNG file contents (for an ipywidgets Image)."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def _zoomed(image: np.ndarray, zoom: int) -> np.ndarray:
    return np.repeat(np.repeat(image, zoom, axis=0), zoom, axis=1)


def _crosshair(image: np.ndarray, pixel: tuple[int, int], gap: int = 2, arm: int = 3) -> np.ndarray:
    """Cyan ticks around ``pixel`` (left free, so the pixel itself stays visible)."""
    out = image.copy()
    h, w = out.shape[:2]
    y, x = pixel
    for d in range(gap, gap + arm):
        for yy, xx in ((y, x - d), (y, x + d), (y - d, x), (y + d, x)):
            if 0 <= yy < h and 0 <= xx < w:
                out[yy, xx] = (0, 230, 255)
    return out


def change_rgb(change: torch.Tensor) -> np.ndarray:
    """(H, W) colour change -> (H, W, 3) uint8: log10 of it on the magma colour map over :data:`LOG_RANGE`."""
    low, high = LOG_RANGE
    scaled = ((torch.log10(change + 10 ** low) - low) / (high - low)).clamp(0, 1).numpy()
    return (colormaps["magma"](scaled)[..., :3] * 255).round().astype(np.uint8)


def labels_rgb(label: torch.Tensor, pixel: tuple[int, int], to_class: int, label_set: str = "synthetic",
               zoom: int = 2) -> np.ndarray:
    """The edited label map (the pixel already repainted) with a crosshair, ``zoom`` x with nearest scaling."""
    edited = label.clone()
    edited[pixel] = to_class
    return _zoomed(_crosshair(colorize(edited, label_set), pixel), zoom)


def influence_panel(G, label: torch.Tensor, instance: torch.Tensor, pixel: tuple[int, int], to_class: int,
                    label_set: str = "synthetic", zoom: int = 2, before: torch.Tensor | None = None):
    """The widget's callback logic for one model: (image, stats).

    image: (H * zoom, W * zoom, 3) uint8, log10 of each output pixel's colour
    change with a crosshair around the edited pixel; stats: pixels that change
    (above float noise) and visibly (by one 8-bit level or more), and the
    Chebyshev radius of each set (:func:`influence_radius`).
    """
    change = change_magnitude(G, label, instance, pixel, to_class, label_set, before)
    stats = {"changed": int((change >= NOISE).sum()), "visible": int((change >= VISIBLE).sum()),
             "radius": influence_radius(change, pixel, NOISE),
             "visible_radius": influence_radius(change, pixel, VISIBLE)}
    return _zoomed(_crosshair(change_rgb(change), pixel), zoom), stats


def describe(name: str, stats: dict) -> str:
    """One line of a panel's title: what changes, and how far."""
    return (f"{name}: {stats['changed']:,} px change (radius {stats['radius']}), "
            f"{stats['visible']:,} visibly (radius {stats['visible_radius']})")


def _pixel_grid(cells: list[list[tuple[np.ndarray, str]]], title_height: float = 0.36,
                colorbar: bool = False) -> Figure:
    """Images (already zoomed) in a grid, each drawn at exactly its pixel size at NOTEBOOK_DPI."""
    dpi, pad = NOTEBOOK_DPI, 0.12
    heights = [max(img.shape[0] for img, _ in row) / dpi for row in cells]
    widths = [max(row[c][0].shape[1] for row in cells if c < len(row)) / dpi
              for c in range(max(len(row) for row in cells))]
    bar = 0.9 if colorbar else 0.0
    fig_w = sum(widths) + pad * (len(widths) + 1) + bar
    titled = [title_height if any(title for _, title in row) else 0.0 for row in cells]
    fig_h = sum(heights) + sum(titled) + pad * (len(heights) + 1)
    fig = Figure(figsize=(fig_w, fig_h))
    top = fig_h - pad
    for r, row in enumerate(cells):
        top -= titled[r]
        left = pad
        for c, (image, title) in enumerate(row):
            h, w = image.shape[0] / dpi, image.shape[1] / dpi
            ax = fig.add_axes([left / fig_w, (top - h) / fig_h, w / fig_w, h / fig_h])
            ax.imshow(image, interpolation="nearest")
            ax.set_axis_off()
            ax.set_title(title, fontsize=7.5)
            left += widths[c] + pad
        top -= heights[r] + pad
    if colorbar:
        cax = fig.add_axes([(fig_w - bar + 0.15) / fig_w, 0.15, 0.12 / fig_w, 0.7])
        fig.colorbar(ScalarMappable(Normalize(*LOG_RANGE), cmap="magma"), cax=cax,
                     label="log10 colour change")
    return fig


def influence_figure(models: dict, label: torch.Tensor, instance: torch.Tensor, pixel: tuple[int, int],
                     to_class: int, label_set: str = "synthetic", zoom: int = 2, columns: int = 2) -> Figure:
    """The widget's static figure: the edited labels, then each model's change map (2x2 for three models).

    Every panel is drawn ``zoom`` times its pixel size, nearest-neighbour.
    """
    name = get_label_set(label_set).name_of(int(to_class))
    panels = [(labels_rgb(label, pixel, to_class, label_set, zoom),
               f"labels: pixel (row {pixel[0]}, col {pixel[1]}) -> {name}")]
    for model_name, G in models.items():
        image, stats = influence_panel(G, label, instance, pixel, to_class, label_set, zoom)
        panels.append((image, describe(model_name, stats)))
    rows = [panels[i:i + columns] for i in range(0, len(panels), columns)]
    return _pixel_grid(rows, colorbar=True)


class InfluenceExplorer:
    """x, y sliders and a class menu: which output pixels change when that one label pixel changes?

    The controls are attributes (``x``, ``y``, ``to_class``); setting their
    ``.value`` re-renders, as moving them would. ``stats`` holds the last
    :func:`influence_panel` statistics per model. Display it as a cell's result.
    """

    def __init__(self, models: dict, label: torch.Tensor, instance: torch.Tensor, pixel=(50, 40),
                 to_class: str = "car", label_set: str = "synthetic", zoom: int = 3):
        import ipywidgets as W

        self.models, self.label, self.instance = models, label, instance
        self.label_set, self.zoom = label_set, zoom
        h, w = label.shape
        with torch.no_grad():
            self.before = {name: G(_semantics(G, label, instance, label_set)) for name, G in models.items()}
        slider = dict(continuous_update=False)
        self.x = W.IntSlider(value=pixel[1], min=0, max=w - 1, description="x (col)", **slider)
        self.y = W.IntSlider(value=pixel[0], min=0, max=h - 1, description="y (row)", **slider)
        self.to_class = W.Dropdown(options=list(get_label_set(label_set).names), value=to_class,
                                   description="becomes")
        self.titles = {name: W.Label() for name in ["labels", *models]}
        self.images = {name: W.Image(format="png", layout=W.Layout(  # exactly the PNG's size: no smoothing
            width=f"{w * zoom}px", height=f"{h * zoom}px", max_width="none", object_fit="fill"))
            for name in ["labels", *models]}
        cells = [W.VBox([self.titles[n], self.images[n]]) for n in self.images]
        self.box = W.VBox([W.HBox([self.x, self.y, self.to_class]),
                           *[W.HBox(cells[i:i + 2]) for i in range(0, len(cells), 2)]])
        for control in (self.x, self.y, self.to_class):
            control.observe(lambda _: self.update(), names="value")
        self.update()

    @property
    def pixel(self) -> tuple[int, int]:
        return (self.y.value, self.x.value)

    def update(self) -> None:
        to_class = get_label_set(self.label_set).id_of(self.to_class.value)
        self.images["labels"].value = png_bytes(labels_rgb(self.label, self.pixel, to_class, self.label_set,
                                                           self.zoom))
        self.titles["labels"].value = f"labels: pixel (row {self.pixel[0]}, col {self.pixel[1]})"
        self.stats = {}
        for name, G in self.models.items():
            image, stats = influence_panel(G, self.label, self.instance, self.pixel, to_class, self.label_set,
                                           self.zoom, before=self.before[name])
            self.images[name].value = png_bytes(image)
            self.titles[name].value = describe(name, stats)
            self.stats[name] = stats

    def _ipython_display_(self):
        from IPython.display import display

        display(self.box)


def influence_explorer(models: dict, label: torch.Tensor, instance: torch.Tensor, pixel=(50, 40),
                       to_class: str = "car", label_set: str = "synthetic", zoom: int = 3) -> InfluenceExplorer:
    """The widget of notebook 08 (needs ipywidgets; static figure: :func:`influence_figure`).

    Every picture is ``zoom`` times its pixel size (nearest neighbour), shown at exactly that size.
    """
    return InfluenceExplorer(models, label, instance, pixel, to_class, label_set, zoom)


# --- pictures ------------------------------------------------------------------------------------

@torch.no_grad()
def side_by_side(models: dict, scenes, indices, scale: float = 1, label_set: str = "synthetic",
                 zoom: int = 1) -> Figure:
    """One row per scene of ``scenes`` (1x :class:`~posgen_lib.eval.scenes.Scenes`): labels | photo | models.

    Models render at ``scale`` (``pg.render``); labels and photo are the 1x
    ones, repeated ``scale`` times (nearest) so every panel has the same size.
    Each panel is drawn at ``zoom`` x its pixel size.
    """
    rows = []
    for r, i in enumerate(indices):
        sem = to_semantics(scenes.label[i:i + 1], scenes.instance[i:i + 1], label_set)
        up = max(1, round(scale)) * zoom
        images = [(_zoomed(colorize(scenes.label[i], label_set), up), "labels"),
                  (_zoomed(to_uint8(scenes.image[i]), up), "photo")]
        images += [(_zoomed(to_uint8(render(G, sem, scale=scale)[0]), zoom), f"{name} ({scale:g}x)")
                   for name, G in models.items()]
        rows.append([(img, title if r == 0 else "") for img, title in images])
    return _pixel_grid(rows, title_height=0.25)
