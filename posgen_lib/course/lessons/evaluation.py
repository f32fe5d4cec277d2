"""Figures and small experiments for notebook 07 (evaluation).

* :func:`segmentation_figure` -- what the mIoU protocol looks at: labels,
  photo, the segmenter's reading of the photo, a generated image and the
  segmenter's reading of it.
* :func:`frechet_bias_figure` -- the Frechet distance between two disjoint
  sets of *real* photos is not 0 and shrinks with the number of images (the
  estimate is biased, Binkowski et al. 2018, Sec. 3.2 / Chong & Forsyth 2020);
  KID's unbiased estimate hovers around 0 at every size. The notebook
  measures it in its own cell.
* :func:`gaussian_blur`, :func:`class_mean_painting`, :func:`candidates_figure`
  -- two images that win on PSNR without being realistic (a blurred photo, a
  flat "mean colour per class" painting), side by side with a generator's.
* :func:`corruption_explorer` (widget) and :func:`corruption_figure` (its static
  figure): pick a corruption of the photos (:func:`corrupt`: blur, noise, colour
  shift, class-mean painting), its strength and a metric, and watch the metric
  respond; :func:`corruption_table` scores every corruption at every strength
  once, :func:`explorer_view` is the widget's callback logic.
* :func:`blur_sweep_figure` -- PSNR and the band sharpness ratio against the
  strength of a blur (the experiment of exercise 3).
"""
from __future__ import annotations

import io

import numpy as np
import torch
from matplotlib.figure import Figure
from PIL import Image
from torchvision.transforms.v2.functional import gaussian_blur as gaussian_blur_tv

from ...data.labels import colorize
from ...eval.metrics import SegmentationScore, boundary_band, class_color_error, gradient_energy, psnr, ssim
from ...viz import to_uint8
from ...viz.figures import true_size_figure
from ...viz.images import tile


def predicted_labels(segmenter, images: torch.Tensor) -> torch.Tensor:
    """The segmenter's prediction as dataset label ids: (B, 3, H, W) -> (B, H, W) int64."""
    ids = torch.tensor(segmenter.label_ids)
    return ids[segmenter.predict(images).cpu()]


def grid_figure(rows: list[list[np.ndarray]], title: str, zoom: int = 1, dpi: int = 80) -> Figure:
    """uint8 images tiled in rows (2-pixel white gaps), each pixel drawn as ``zoom`` x ``zoom`` screen
    pixels at ``dpi`` (nearest neighbour: 1 is the true pixel size), with a one-line title above."""
    image = tile([[np.asarray(a) for a in row] for row in rows])
    return true_size_figure(image.repeat(zoom, axis=0).repeat(zoom, axis=1), title, dpi)


def segmentation_figure(segmenter, labels: torch.Tensor, photos: torch.Tensor, generated: torch.Tensor,
                        label_set: str = "synthetic", zoom: int = 1) -> Figure:
    """One row per scene: labels | photo | segmenter(photo) | generated | segmenter(generated),
    at ``zoom`` x the true pixel size."""
    seg_photo, seg_fake = predicted_labels(segmenter, photos), predicted_labels(segmenter, generated)
    rows = [[colorize(labels[i], label_set), to_uint8(photos[i]), colorize(seg_photo[i], label_set),
             to_uint8(generated[i]), colorize(seg_fake[i], label_set)] for i in range(labels.shape[0])]
    return grid_figure(rows, "labels | photo | segmenter on photo | generated | segmenter on generated", zoom)


def frechet_bias_figure(rows: list[dict], feature_name: str = "segmenter features") -> Figure:
    """FD and KID of real-vs-real sets against the set size (log x axis)."""
    sizes = [r["images"] for r in rows]
    fig = Figure(figsize=(8, 3))
    ax_fd, ax_kid = fig.subplots(1, 2)
    ax_fd.plot(sizes, [r["fd"] for r in rows], "o-")
    ax_fd.set_title(f"Frechet distance, real vs real ({feature_name})", fontsize=9)
    ax_kid.plot(sizes, [r["kid"] for r in rows], "o-", color="tab:orange")
    ax_kid.axhline(0, color="grey", lw=0.8)
    ax_kid.set_title("KID, real vs real (unbiased)", fontsize=9)
    for ax in (ax_fd, ax_kid):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("images per set")
    ax_fd.set_ylim(bottom=0)
    fig.tight_layout()
    return fig


def class_mean_painting(photos: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Each pixel painted with the mean colour of its class in its own photo: (B, 3, H, W)."""
    out = torch.empty_like(photos)
    for b in range(photos.shape[0]):
        for cls in torch.unique(labels[b]):
            mask = labels[b] == cls  # (H, W)
            out[b][:, mask] = photos[b][:, mask].mean(dim=1, keepdim=True)
    return out


def gaussian_blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """torchvision's Gaussian blur (reflect padding) with a kernel reaching 3 sigma each side."""
    radius = max(1, int(3 * sigma))
    return gaussian_blur_tv(images, kernel_size=2 * radius + 1, sigma=sigma)


def candidates_figure(candidates: dict[str, torch.Tensor], index: int = 0, zoom: int = 2) -> Figure:
    """Image ``index`` of every candidate set side by side, at ``zoom`` x its pixel size (nearest)."""
    return grid_figure([[to_uint8(images[index]) for images in candidates.values()]], " | ".join(candidates), zoom)


# --- the corruption explorer ------------------------------------------------------------------------

CORRUPTIONS = ("blur", "noise", "colour shift", "class-mean painting")
METRICS = ("PSNR (dB)", "SSIM", "band sharpness ratio", "mIoU", "class colour error")
STRENGTHS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
COLOUR_SHIFT = (0.6, -0.3, -0.6)  # added to (R, G, B) at strength 1, on the [-1, 1] scale


def corrupt(photos: torch.Tensor, labels: torch.Tensor, kind: str, strength: float, seed: int = 0) -> torch.Tensor:
    """``photos`` (B, 3, H, W) in [-1, 1] corrupted by ``kind`` at ``strength`` in [0, 1] (0: unchanged).

    blur: Gaussian of sigma = 4 * strength pixels; noise: Gaussian noise of std
    0.5 * strength (seeded); colour shift: ``strength * COLOUR_SHIFT`` added to
    the channels; class-mean painting: a blend of the photo and
    :func:`class_mean_painting` with weight ``strength``. Clamped to [-1, 1].
    """
    if kind not in CORRUPTIONS:
        raise ValueError(f"unknown corruption {kind!r}: choose one of {', '.join(CORRUPTIONS)}")
    if not 0 <= strength <= 1:
        raise ValueError(f"strength must be in [0, 1], got {strength}")
    if strength == 0:
        return photos.clone()
    if kind == "blur":
        out = gaussian_blur(photos, sigma=4 * strength)
    elif kind == "noise":
        noise = torch.randn(photos.shape, generator=torch.Generator().manual_seed(seed))
        out = photos + 0.5 * strength * noise.to(photos)
    elif kind == "colour shift":
        out = photos + strength * torch.tensor(COLOUR_SHIFT).view(1, 3, 1, 1).to(photos)
    else:
        out = torch.lerp(photos, class_mean_painting(photos, labels), strength)
    return out.clamp(-1, 1)


@torch.no_grad()
def scores(images: torch.Tensor, photos: torch.Tensor, labels: torch.Tensor, segmenter, radius: int = 2) -> dict:
    """Every metric of :data:`METRICS` for ``images`` against ``photos`` of the label maps ``labels``."""
    band = boundary_band(labels, radius)  # (B, H, W)
    seg = SegmentationScore(len(segmenter.label_ids))
    seg.update(segmenter.predict(images), segmenter.class_index(labels))
    return {"PSNR (dB)": psnr(images, photos), "SSIM": ssim(images, photos),
            "band sharpness ratio": float(gradient_energy(images, band).sum() / gradient_energy(photos, band).sum()),
            "mIoU": seg.miou(), "class colour error": class_color_error(images, photos, labels)}


def corruption_table(photos: torch.Tensor, labels: torch.Tensor, segmenter, strengths=STRENGTHS,
                     kinds=CORRUPTIONS) -> dict:
    """``{"strengths": [...], kind: [scores at each strength]}``: what the explorer and its figure show."""
    table = {"strengths": [float(s) for s in strengths]}
    for kind in kinds:
        table[kind] = [scores(corrupt(photos, labels, kind, s), photos, labels, segmenter) for s in strengths]
    return table


def _png(image: np.ndarray) -> bytes:
    """(H, W, 3) uint8 -> PNG file contents."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def _upscale(image: np.ndarray, factor: int) -> np.ndarray:
    return image.repeat(factor, axis=0).repeat(factor, axis=1)  # nearest neighbour


def explorer_view(table: dict, photos: torch.Tensor, labels: torch.Tensor, kind: str, metric: str,
                  strength: float, index: int = 0, zoom: int = 2) -> tuple[np.ndarray, float, list[float]]:
    """The widget's callback logic: (scene ``index`` corrupted, at ``zoom`` x its pixel size, nearest
    neighbour; the metric's value at ``strength``; the metric at every strength of the table)."""
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}: choose one of {', '.join(METRICS)}")
    strengths = table["strengths"]
    if strength not in strengths:
        raise ValueError(f"strength {strength} is not one of the table's {strengths}")
    curve = [row[metric] for row in table[kind]]
    image = to_uint8(corrupt(photos[index:index + 1], labels[index:index + 1], kind, strength)[0])
    return _upscale(np.asarray(image), zoom), curve[strengths.index(strength)], curve


def _curve_png(strengths, curve, value, strength, metric: str, kind: str) -> bytes:
    fig = Figure(figsize=(3.6, 2.6))
    ax = fig.subplots()
    finite = [(s, v) for s, v in zip(strengths, curve) if np.isfinite(v)]
    ax.plot(*zip(*finite), "o-", color="tab:blue")
    if np.isfinite(value):
        ax.plot([strength], [value], "o", ms=10, mfc="none", mec="tab:red", mew=2)
    ax.set_xlabel(f"strength of {kind}")
    ax.set_title(metric, fontsize=9)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)  # exactly 288 x 208 pixels, the widget's fixed size
    return buffer.getvalue()


def corruption_explorer(table: dict, photos: torch.Tensor, labels: torch.Tensor, index: int = 0):
    """Pick a corruption, its strength and a metric (static figure: :func:`corruption_figure`)."""
    import ipywidgets as W

    kind = W.Dropdown(options=[k for k in CORRUPTIONS if k in table], description="corruption")
    metric = W.Dropdown(options=METRICS, description="metric")
    strength = W.SelectionSlider(options=[(f"{s:g}", s) for s in table["strengths"]],
                                 value=table["strengths"][len(table["strengths"]) // 2],
                                 description="strength", continuous_update=False)
    h, w = photos.shape[-2:]

    def fixed(width: int, height: int) -> W.Image:  # a fixed on-screen size: the browser never rescales it
        return W.Image(format="png", layout=W.Layout(width=f"{width}px", height=f"{height}px", max_width="none",
                                                     object_fit="fill"))

    image, plot, info = fixed(2 * w, 2 * h), fixed(288, 208), W.Label()

    def update(_=None) -> None:
        picture, value, curve = explorer_view(table, photos, labels, kind.value, metric.value, strength.value, index)
        image.value = _png(picture)
        plot.value = _curve_png(table["strengths"], curve, value, strength.value, metric.value, kind.value)
        info.value = (f"{metric.value} = {value:.3f} for {kind.value} at strength {strength.value:g} "
                      f"({len(photos)} held-out scenes; image: scene {index}, twice its pixel size, nearest)")

    for control in (kind, metric, strength):
        control.observe(update, names="value")
    update()
    box = W.VBox([W.HBox([kind, metric, strength]), info, W.HBox([image, plot])])
    box.kind, box.metric, box.strength, box.image, box.plot, box.info = kind, metric, strength, image, plot, info
    return box


def corruption_figure(table: dict, photos: torch.Tensor, labels: torch.Tensor, strength: float = 0.6,
                      index: int = 0) -> Figure:
    """Top: scene ``index`` under each corruption at ``strength``; bottom: each metric against the
    strength, one line per corruption (what :func:`corruption_explorer` shows, all at once)."""
    kinds = [k for k in CORRUPTIONS if k in table]
    fig = Figure(figsize=(10, 4.6))
    grid = fig.add_gridspec(2, max(len(kinds) + 1, len(METRICS)), height_ratios=(1, 1.5))
    panels = [("photo", photos[index])] + [
        (f"{k}, {strength:g}", corrupt(photos[index:index + 1], labels[index:index + 1], k, strength)[0])
        for k in kinds]
    for column, (title, image) in enumerate(panels):
        ax = fig.add_subplot(grid[0, column])
        ax.imshow(np.asarray(to_uint8(image)), interpolation="nearest")
        ax.set_title(title, fontsize=8)
        ax.set_axis_off()
    for column, metric in enumerate(METRICS):
        ax = fig.add_subplot(grid[1, column])
        for kind in kinds:
            values = np.array([row[metric] for row in table[kind]], dtype=float)
            ax.plot(table["strengths"], np.where(np.isfinite(values), values, np.nan), "o-", ms=3, label=kind)
        if metric == "band sharpness ratio":
            ax.set_yscale("log")  # blur takes it towards 0, noise far above 1
        ax.set_title(metric + (" (inf at 0)" if metric.startswith("PSNR") else ""), fontsize=8)
        ax.set_xlabel("strength", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    fig.axes[-1].legend(fontsize=7, loc="best")
    fig.tight_layout()
    return fig


# --- the blur sweep (exercise 3) ----------------------------------------------------------------------

def blur_sweep_figure(results: dict[str, list[dict]]) -> Figure:
    """One PSNR panel per image set (the peak starred) and one panel of the band sharpness ratio,
    all against the blur sigma.

    ``results``: ``{name: rows}``, rows as returned by the notebook's ``blur_sweep``
    (dicts with ``sigma``, ``psnr``, ``sharpness``). Each set gets its own PSNR axis: a
    generator's and a photo's PSNR differ by far more than either changes with blur.
    """
    fig = Figure(figsize=(10, 3))
    axes = fig.subplots(1, len(results) + 1)
    colours = [f"C{i}" for i in range(len(results))]
    for ax, colour, (name, rows) in zip(axes, colours, results.items()):
        sigmas = [r["sigma"] for r in rows]
        values = np.array([r["psnr"] for r in rows], dtype=float)
        finite = np.isfinite(values)
        ax.plot(np.array(sigmas)[finite], values[finite], "o-", color=colour)
        best = int(np.argmax(np.where(finite, values, np.inf)))
        if finite[best]:
            ax.plot([sigmas[best]], [values[best]], "*", ms=14, color=colour)
            ax.set_title(f"PSNR (dB) of {name}; star: peak", fontsize=9)
        else:
            ax.set_title(f"PSNR (dB) of {name} (inf at sigma {sigmas[best]:g})", fontsize=9)
        axes[-1].plot(sigmas, [r["sharpness"] for r in rows], "o-", color=colour, label=name)
    axes[-1].set_title("band sharpness ratio (1 = the photos')", fontsize=9)
    axes[-1].axhline(1, color="grey", lw=0.8)
    axes[-1].legend(fontsize=8)
    for ax in axes:
        ax.set_xlabel("blur sigma (pixels)")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
