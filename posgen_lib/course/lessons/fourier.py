"""Coordinate MLPs: fit one image as a function of pixel position (notebook 01).

A coordinate MLP maps a pixel centre ``v = (x, y)`` in [-1, 1]^2 (the
``align_corners=True`` grid of :func:`posgen_lib.models.fourier.coordinate_grid`) to
an RGB value, and is fitted to a single image by full-batch regression::

    rgb(v) = MLP(enc(v)),   loss = mean_p || rgb(v_p) - image_p ||^2

with one of three encodings ``enc``:

* ``"raw"``      -- enc(v) = v. Networks trained by gradient descent learn low
  frequencies first and high ones very slowly ("spectral bias", Rahaman et
  al. 2019), so the fit stays blurry within a small budget.
* ``"gaussian"`` -- enc(v) = [cos(2 pi B v), sin(2 pi B v)], B ~ N(0, sigma^2)
  fixed (Tancik et al. 2020, Eq. 5). ``sigma`` (cycles per unit of v) sets the
  bandwidth: too small is blurry; too large fits the training pixels but puts
  noise and stripes between them.
* ``"learned"``  -- enc(v) = sin(W v + b) with W, b trained (CIPS), W starting
  as N(0, (2 pi sigma)^2) so that it matches the Gaussian map's frequencies.
  PosGen's ``head_coord_scale`` is this init std: scale = 2 pi sigma.

Because the model is a function of continuous coordinates, :func:`render`
evaluates it on any grid, e.g. 4x the training resolution; comparing that with
a 4x ground truth (the procedural scenes have one) measures what the model
does *between* the training pixels.

The notebook's widget is :func:`feature_slider` (a sigma slider over the cosine
channels of a Gaussian map, with the count of waves beyond the grid's Nyquist
limits, :func:`nyquist`); its callback is :func:`feature_view` and its static
figure :func:`features_figure`.
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from PIL import Image as PILImage
from torch import nn

from ...models.fourier import FULL_WINDOW, GaussianFourierFeatures, LearnedFourierFeatures, coordinate_grid

ENCODINGS = ("raw", "gaussian", "learned")


class CoordinateMLP(nn.Module):
    """RGB(v) = MLP(enc(v)) for coordinates v (..., 2) -> (..., 3); ReLU hidden layers, linear output."""

    def __init__(self, encoding: str = "gaussian", sigma: float = 10.0, num_frequencies: int = 64,
                 hidden: int = 128, depth: int = 3, seed: int = 0):
        super().__init__()
        if encoding not in ENCODINGS:
            raise ValueError(f"encoding={encoding!r}: choose one of {ENCODINGS}")
        self.encoding, self.sigma = encoding, sigma
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            if encoding == "raw":
                self.encode, width = nn.Identity(), 2
            elif encoding == "gaussian":
                self.encode = GaussianFourierFeatures(2, num_frequencies, sigma, seed=seed)
                width = 2 * num_frequencies
            else:
                self.encode = LearnedFourierFeatures(2, 2 * num_frequencies, 2 * math.pi * sigma)
                width = 2 * num_frequencies
            layers = []
            for _ in range(depth - 1):
                layers += [nn.Linear(width, hidden), nn.ReLU()]
                width = hidden
            self.mlp = nn.Sequential(*layers, nn.Linear(width, 3))

    @property
    def label(self) -> str:
        return "raw (x, y)" if self.encoding == "raw" else f"{self.encoding}, sigma={self.sigma:g}"

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        return self.mlp(self.encode(v))  # (..., 3)


def render(model: nn.Module, size: tuple[int, int], window=FULL_WINDOW) -> torch.Tensor:
    """Evaluate a coordinate model on the ``size=(H, W)`` grid over ``window`` -> (3, H, W)."""
    coords = coordinate_grid(size, window).permute(1, 2, 0)  # (H, W, 2)
    with torch.no_grad():
        return model(coords).permute(2, 0, 1)  # (3, H, W)


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    """PSNR in dB of two images in [-1, 1] (after clamping), on the [0, 1] scale: 10 log10(1 / MSE)."""
    mse = F.mse_loss((a.clamp(-1, 1) + 1) / 2, (b.clamp(-1, 1) + 1) / 2).item()
    return 10 * math.log10(1.0 / max(mse, 1e-12))


@dataclass
class FitResult:
    """A fitted model and its PSNR curves (``test_psnr`` is empty without a test image)."""

    model: CoordinateMLP
    steps: list[int] = field(default_factory=list)
    train_psnr: list[float] = field(default_factory=list)
    test_psnr: list[float] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.model.label


def fit_image(model: CoordinateMLP, image: torch.Tensor, steps: int, lr: float = 1e-3,
              test_image: torch.Tensor | None = None, log_every: int = 10) -> FitResult:
    """Fit ``model`` to ``image`` (3, H, W) in [-1, 1] with full-batch Adam on MSE.

    Every ``log_every`` steps (and at the end) records the PSNR on the training
    pixels and, if given, against ``test_image`` (3, H', W') rendered by the
    model on its own grid (e.g. a 4x ground truth of the same scene).
    """
    coords = coordinate_grid(image.shape[-2:]).permute(1, 2, 0)  # (H, W, 2)
    target = image.permute(1, 2, 0)  # (H, W, 3)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    result = FitResult(model)
    for step in range(1, steps + 1):
        loss = F.mse_loss(model(coords), target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if step % log_every == 0 or step == steps:
            result.steps.append(step)
            result.train_psnr.append(psnr(render(model, image.shape[-2:]), image))
            if test_image is not None:
                result.test_psnr.append(psnr(render(model, test_image.shape[-2:]), test_image))
    return result


def fit_many(image: torch.Tensor, settings: list[tuple[str, float]], steps: int,
             test_image: torch.Tensor | None = None, log_every: int = 10, **model_kwargs) -> list[FitResult]:
    """One :func:`fit_image` per ``(encoding, sigma)`` in ``settings``, same budget and seed."""
    return [fit_image(CoordinateMLP(encoding, sigma, **model_kwargs), image, steps,
                      test_image=test_image, log_every=log_every)
            for encoding, sigma in settings]


def summary_text(results: list[FitResult]) -> str:
    """Final PSNRs, one line per fit."""
    return "\n".join(f"{r.label:22s} pixels {r.train_psnr[-1]:5.1f} dB"
                     + (f"   between pixels {r.test_psnr[-1]:5.1f} dB" if r.test_psnr else "") for r in results)


def stripes(size: tuple[int, int] = (64, 64), cycles: tuple[float, ...] = (1, 4, 12)) -> torch.Tensor:
    """A procedural test image (3, H, W) in [-1, 1]: sums of cosines along x, y and the diagonal.

    Channel k holds cos(pi * cycles[k] * (x, y, x + y)[k]); high ``cycles`` make a
    pattern that raw coordinates fit slowly and Fourier features fit quickly.
    """
    x, y = coordinate_grid(size)  # (H, W) each
    axes = (x, y, (x + y) / 2)
    return torch.stack([torch.cos(math.pi * c * a) for c, a in zip(cycles, axes)])  # (3, H, W)


# --------------------------------------------------------------------------- figures

def _show(ax, image: torch.Tensor, title: str) -> None:
    ax.imshow(((image.clamp(-1, 1) + 1) / 2).permute(1, 2, 0).numpy(), interpolation="nearest")
    ax.set_title(title, fontsize=7)
    ax.set_axis_off()


def grid_figure(size: tuple[int, int] = (3, 4), fine: tuple[int, int] = (6, 8),
                window=(-0.6, -0.2, 0.4, 1.0)) -> Figure:
    """Pixel centres of the ``align_corners=True`` grid at two sizes, and a window sampled by a 3x3 grid."""
    fig = Figure(figsize=(9, 4.4))
    axes = fig.subplots(1, 2)
    for (h, w), colour, dot in ((size, "C0", 60), (fine, "C1", 14)):
        x, y = coordinate_grid((h, w))
        axes[0].scatter(x.ravel(), y.ravel(), s=dot, c=colour, label=f"{h}x{w} image", zorder=3)
    x, y = coordinate_grid((3, 3), window)
    axes[1].scatter(x.ravel(), y.ravel(), s=60, c="C2", label="3x3 render of the window", zorder=3)
    axes[1].add_patch(_rect(window, "C2", f"window {tuple(window)}"))
    for ax in axes:
        ax.add_patch(_rect(FULL_WINDOW, "k", "[-1, 1] x [-1, 1]"))
        ax.set_xlim(-1.3, 1.3)
        ax.set_ylim(1.3, -1.3)  # y grows downwards, like image rows
        ax.set_aspect("equal")
        ax.set_xlabel("x (channel 0)")
        ax.set_ylabel("y (channel 1)")
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    axes[0].annotate("(-1, -1)", (-1, -1), (-0.95, -1.12), fontsize=8)
    axes[0].annotate("(1, 1)", (1, 1), (0.62, 1.22), fontsize=8)
    axes[0].set_title("pixel centres: same corners at every size", fontsize=9)
    axes[1].set_title("a window names the first and last centres", fontsize=9)
    fig.tight_layout()
    return fig


def _rect(window, colour: str, label: str):
    x0, y0, x1, y1 = window
    return Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ec=colour, lw=1.2, ls="--", label=label)


def nyquist(size: tuple[int, int]) -> tuple[float, float]:
    """(nu_x, nu_y): the fastest wave, in cycles per unit, that an ``size=(H, W)`` grid over
    [-1, 1]^2 represents without aliasing: half the sampling rate, 1 / (2 * spacing) = (side - 1) / 4."""
    height, width = size
    return (width - 1) / 4, (height - 1) / 4


@dataclass
class FeatureView:
    """What the sigma slider shows: the first ``count`` cosine channels of a Gaussian feature map."""

    sigma: float
    B: torch.Tensor  # (count, 2): the frequencies b_k, cycles per unit
    channels: torch.Tensor  # (count, H, W): cos(2 pi b_k . v) on the pixel grid
    aliased: list[bool]  # |b_x| > nu_x or |b_y| > nu_y: the grid shows a slower wave instead
    nyquist: tuple[float, float]  # (nu_x, nu_y)

    @property
    def caption(self) -> str:
        n = sum(self.aliased)
        text = (f"sigma = {self.sigma:.3g} cycles per unit: {n} of {len(self.aliased)} waves beyond the "
                f"Nyquist limits (|b_x| > {self.nyquist[0]:g} or |b_y| > {self.nyquist[1]:g})")
        return text + (": what you see of them are slower, aliased waves" if n else "")


def feature_view(sigma: float, count: int = 5, size: tuple[int, int] = (64, 128), seed: int = 0) -> FeatureView:
    """The widget's callback: the cosine channels of ``GaussianFourierFeatures(2, count, sigma, seed)``
    on the ``size`` pixel grid, and which of their frequencies alias there."""
    enc = GaussianFourierFeatures(2, count, sigma, seed=seed)
    coords = coordinate_grid(size).permute(1, 2, 0)  # (H, W, 2)
    with torch.no_grad():
        channels = enc(coords)[..., :count].permute(2, 0, 1)  # (count, H, W): the cosines
    nu_x, nu_y = nyquist(size)
    aliased = [bool(abs(bx) > nu_x or abs(by) > nu_y) for bx, by in enc.B.tolist()]
    return FeatureView(sigma, enc.B.clone(), channels, aliased, (nu_x, nu_y))


def colour_map(values: torch.Tensor, limit: float | None = None, cmap: str = "RdBu") -> np.ndarray:
    """(H, W) values -> (H, W, 3) uint8 through ``cmap``, symmetric around 0 (``limit``: |value| at the
    ends of the colour scale; default the largest |value|)."""
    lim = float(limit if limit is not None else values.abs().max()) or 1.0
    rgba = colormaps[cmap]((values.detach().float().numpy() / lim + 1) / 2)  # (H, W, 4)
    return (rgba[..., :3] * 255).round().astype(np.uint8)


def tile_row(images: list[np.ndarray], zoom: int = 2, gap: int = 4) -> np.ndarray:
    """(H, W, 3) uint8 images side by side, each enlarged ``zoom`` times by pixel repetition
    (nearest neighbour: every pixel stays visible as a zoom x zoom square), white gaps between."""
    big = [np.repeat(np.repeat(im, zoom, axis=0), zoom, axis=1) for im in images]
    height = max(b.shape[0] for b in big)
    parts = []
    for k, b in enumerate(big):
        if k:
            parts.append(np.full((height, gap, 3), 255, np.uint8))
        parts.append(np.pad(b, ((0, height - b.shape[0]), (0, 0), (0, 0)), constant_values=255))
    return np.concatenate(parts, axis=1)


def png_bytes(image: np.ndarray) -> bytes:
    """(H, W, 3) uint8 -> PNG file contents (what an ipywidgets ``Image`` shows)."""
    buffer = io.BytesIO()
    PILImage.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def feature_panel(view: FeatureView, zoom: int = 1) -> np.ndarray:
    """The view's channels as one RGB strip (red -1, white 0, blue +1), ``zoom`` screen pixels per pixel."""
    return tile_row([colour_map(c, limit=1.0) for c in view.channels], zoom)


def features_figure(sigmas=(1.0, 4.0, 16.0, 40.0), count: int = 5, size: tuple[int, int] = (64, 128),
                    seed: int = 0, zoom: int = 2, dpi: int = 80) -> Figure:
    """Rows: sigma; columns: the first ``count`` channels cos(2 pi b_k . v) of a Gaussian feature map (red -1,
    white 0, blue +1), each pixel a ``zoom`` x ``zoom`` square of screen pixels at ``dpi`` (the notebooks'
    display resolution): the figure is laid out in whole pixels, so no wave is resampled on the way to the
    screen. Waves beyond the grid's Nyquist limits are titled in red."""
    h, w = size
    gap, title = 8, 16  # screen pixels between panels, above each panel
    width = count * w * zoom + (count + 1) * gap
    height = len(sigmas) * (h * zoom + title + gap) + gap
    fig = Figure(figsize=(width / dpi, height / dpi), dpi=dpi)
    for row, sigma in enumerate(sigmas):
        view = feature_view(sigma, count, size, seed)
        top = gap + row * (h * zoom + title + gap) + title  # from the top, in screen pixels
        for j in range(count):
            left = gap + j * (w * zoom + gap)
            ax = fig.add_axes((left / width, 1 - (top + h * zoom) / height, w * zoom / width, h * zoom / height))
            ax.imshow(colour_map(view.channels[j], limit=1.0), interpolation="nearest", aspect="auto")
            ax.set_axis_off()
            bx, by = view.B[j].tolist()
            ax.set_title(f"sigma={sigma:g}: b=({bx:.1f}, {by:.1f})", fontsize=7, pad=2,
                         color="C3" if view.aliased[j] else "k")  # red: beyond the Nyquist limits
    return fig


def reconstructions_figure(image: torch.Tensor, results: list[FitResult], test_image: torch.Tensor | None = None,
                           crop: tuple[slice, slice] | None = None) -> Figure:
    """Top row: the target and each fit at the training size; bottom row (with ``test_image``):
    the same fits rendered at the test size, next to the test ground truth. ``crop`` zooms the
    bottom row into a region (slices of the test image)."""
    rows = 1 if test_image is None else 2
    cols = len(results) + 1
    fig = Figure(figsize=(1.66 * cols, 1.15 * rows + 0.3))
    axes = fig.subplots(rows, cols, squeeze=False)
    _show(axes[0, 0], image, f"target {image.shape[1]}x{image.shape[2]}")
    for k, r in enumerate(results, start=1):
        _show(axes[0, k], render(r.model, image.shape[-2:]), f"{r.label}\n{r.train_psnr[-1]:.1f} dB")
    if test_image is not None:
        crop = crop or (slice(None), slice(None))
        h, w = test_image.shape[-2:]
        _show(axes[1, 0], test_image[:, crop[0], crop[1]], f"ground truth {h}x{w}")
        for k, r in enumerate(results, start=1):
            _show(axes[1, k], render(r.model, (h, w))[:, crop[0], crop[1]],
                  f"at {h}x{w}: {r.test_psnr[-1]:.1f} dB")
    fig.tight_layout()
    return fig


def psnr_figure(results: list[FitResult]) -> Figure:
    """PSNR against step: training pixels (solid) and the test image (dashed, if recorded)."""
    fig = Figure(figsize=(9, 3.2))
    axes = fig.subplots(1, 2, sharey=True)
    for k, r in enumerate(results):
        axes[0].plot(r.steps, r.train_psnr, color=f"C{k}", marker="o", ms=2.5, label=r.label)
        if r.test_psnr:
            axes[1].plot(r.steps, r.test_psnr, color=f"C{k}", ls="--", marker="o", ms=2.5, label=r.label)
    axes[0].set_title("on the training pixels", fontsize=9)
    axes[1].set_title("between them (test image at a higher resolution)", fontsize=9)
    for ax in axes:
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("PSNR (dB)")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def feature_slider(size: tuple[int, int] = (64, 128), count: int = 5, sigma: float = 4.0, zoom: int = 1):
    """A log-scale sigma slider over :func:`feature_view` (static figure: :func:`features_figure`).

    Returns a ``VBox`` with ``.slider``, ``.image`` (PNG of :func:`feature_panel` at ``zoom`` times the
    true pixel size, by pixel repetition), ``.info`` (how many waves alias) and ``.update()``.
    """
    import ipywidgets as widgets

    slider = widgets.FloatLogSlider(value=sigma, base=10, min=-0.5, max=1.7, step=0.05,
                                    description="sigma", continuous_update=False)
    image = widgets.Image(format="png")  # shown at its own size: no smoothing by the browser
    info = widgets.Label()
    box = widgets.VBox([slider, info, image])

    def update(_=None) -> None:
        view = feature_view(slider.value, count, size)
        image.value = png_bytes(feature_panel(view, zoom))
        info.value = view.caption

    slider.observe(update, names="value")
    box.slider, box.image, box.info, box.update = slider, image, info, update
    update()
    return box
