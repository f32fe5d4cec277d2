"""Inside SPADE: modulation maps, why plain normalization loses labels, the upsampling schedule,
spectral norm (notebook 02).

Park et al., "Semantic Image Synthesis with Spatially-Adaptive Normalization"
(CVPR 2019):

* Eq. 1 -- SPADE, in the official code's form: ``out = norm(x) * (1 + gamma(m)) + beta(m)``
  with per-pixel, per-channel ``gamma``, ``beta`` predicted from the segmentation map
  ``m`` (the paper writes ``gamma`` for the code's ``1 + gamma``).
  :func:`modulation_maps` returns the pieces of that formula for one layer.
* Sec. 3 ("Why does SPADE work better?") -- a convolution of a one-hot map
  that holds a single label is constant, and instance normalization of a
  constant is zero: the label is erased. :func:`washout` measures it.
* Appendix A / Fig. 5 -- the trunk: ``head_0``, ``G_middle_0``, ``G_middle_1``
  and ``up_0 .. up_3`` (+ ``up_4``), with 2x nearest upsampling in between;
  ``num_upsampling_layers`` ``normal`` / ``more`` / ``most`` gives 5 / 6 / 7
  upsamplings (Cityscapes uses ``more``). :func:`upsampling_schedule` lists it.
* CLADE (Tan et al. 2021, Eq. 4): the same form with ``gamma`` and ``beta`` looked up per class;
  :func:`gamma_comparison_figure` sets a SPADE layer's gamma beside a CLADE layer's.
* Spectral normalization (Miyato et al. 2018): ``W / sigma(W)``, ``sigma`` the
  largest singular value of the kernel reshaped to (out, in * k * k), estimated
  by one power iteration per training step. :func:`power_iteration_trace` shows
  the estimate converging; :func:`conv_operator_norm` measures what that matrix
  norm only bounds, the operator norm of the convolution itself.

The notebook's widget is :func:`class_explorer` (a class of the scene -> its
region and the gamma / beta maps of the channels where it stands out); its
callback is :func:`class_modulation` and its static figure
:func:`class_modulation_figure`. :func:`resblock_diagram` draws the residual
block and the inside of a SPADE layer.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from torch import nn

from ...config import ModelConfig
from ...data.labels import colorize, get_label_set
from ...models.generator import trunk_sizes
from ...models.spade import SPADE
from .fourier import colour_map, png_bytes, tile_row


def modulation_maps(layer: SPADE, x: torch.Tensor, segmap: torch.Tensor) -> dict[str, torch.Tensor]:
    """The terms of Eq. 1 for one SPADE ``layer``: normalized, gamma, beta, out (each (B, C, H, W))."""
    with torch.no_grad():
        seg = F.interpolate(segmap, size=x.shape[2:], mode="nearest")  # (B, semantic_nc, H, W)
        actv = layer.mlp_shared(seg)  # (B, hidden, H, W)
        maps = dict(normalized=layer.param_free_norm(x), gamma=layer.mlp_gamma(actv), beta=layer.mlp_beta(actv))
    maps["out"] = maps["normalized"] * (1 + maps["gamma"]) + maps["beta"]
    return maps


def layer_maps(G, name: str, sem: torch.Tensor) -> dict[str, torch.Tensor]:
    """:func:`modulation_maps` of the SPADE layer ``name`` (e.g. ``"up_3.norm_0"``) of generator ``G``
    on semantics ``sem``, with the input that layer receives in ``G.features(sem)``."""
    layer = G.get_submodule(name)
    seen = {}

    def keep_input(module, args):  # returns None: the layer's input is left unchanged
        seen["x"] = args[0]

    handle = layer.register_forward_pre_hook(keep_input)
    try:
        with torch.no_grad():
            G.features(sem)
    finally:
        handle.remove()
    return modulation_maps(layer, seen["x"], sem)


def most_varying_channels(maps: torch.Tensor, count: int = 3) -> list[int]:
    """Channels of (B, C, H, W) whose spatial std (averaged over the batch) is largest."""
    spread = maps.flatten(2).std(dim=2).mean(dim=0)  # (C,)
    return spread.argsort(descending=True)[:count].tolist()


def washout(label_ids: tuple[int, ...], semantic_nc: int, channels: int = 8, size: tuple[int, int] = (16, 32),
            seed: int = 0) -> dict[str, list[float]]:
    """Single-label maps through conv -> InstanceNorm (pix2pixHD-style input) and through SPADE.

    For each id in ``label_ids``: a one-hot map holding only that label, (1) a
    3x3 conv then InstanceNorm and (2) a SPADE layer applied to one fixed
    random ``x``. Returns the largest |output| of (1) per label (zero: the label
    is gone) and the largest difference of (2) from the first label's output
    (non-zero: SPADE's output still depends on the label).
    """
    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        conv = nn.Conv2d(semantic_nc, channels, 3, padding=1, padding_mode="replicate")
        spade = SPADE(channels, semantic_nc, hidden=16, norm="instance")
    norm = nn.InstanceNorm2d(channels)
    x = torch.randn(1, channels, *size, generator=gen)  # (1, C, H, W)
    conv_in, spade_out = [], []
    with torch.no_grad():
        for label in label_ids:
            onehot = torch.zeros(1, semantic_nc, *size)
            onehot[:, label] = 1.0  # (1, semantic_nc, H, W): a single label everywhere
            conv_in.append(norm(conv(onehot)).abs().max().item())
            spade_out.append(spade(x, onehot))
    return dict(conv_instance_norm=conv_in,
                spade_change=[(o - spade_out[0]).abs().max().item() for o in spade_out])


def upsampling_schedule(cfg: ModelConfig) -> list[tuple[str, int, int, tuple[int, int]]]:
    """(block, in channels, out channels, output (H, W)) of each SPADE block at the training size.

    Mirrors :meth:`posgen_lib.models.generator.SPADETrunk.features`: ``"up"`` is a 2x
    nearest upsampling (:func:`~posgen_lib.models.generator.trunk_sizes`); ``more`` adds one before ``G_middle_1``, ``most`` also
    adds ``up_4``.
    """
    nf, mode = cfg.ngf, cfg.num_upsampling_layers
    order = ["head_0", "up", "G_middle_0"] + (["up"] if mode in ("more", "most") else []) + ["G_middle_1"]
    order += ["up", "up_0", "up", "up_1", "up", "up_2", "up", "up_3"] + (["up", "up_4"] if mode == "most" else [])
    channels = {"head_0": (16 * nf, 16 * nf), "G_middle_0": (16 * nf, 16 * nf), "G_middle_1": (16 * nf, 16 * nf),
                "up_0": (16 * nf, 8 * nf), "up_1": (8 * nf, 4 * nf), "up_2": (4 * nf, 2 * nf),
                "up_3": (2 * nf, nf), "up_4": (nf, nf // 2)}
    sizes = iter(trunk_sizes(*cfg.image_size, cfg.num_up))
    (h, w), rows = next(sizes), []
    for step in order:
        if step == "up":
            h, w = next(sizes)
        else:
            rows.append((step, *channels[step], (h, w)))
    return rows


def schedule_text(cfg: ModelConfig) -> str:
    """:func:`upsampling_schedule` as lines 'block  fin -> fout  HxW'."""
    rows = [f"  latent grid {cfg.latent_size[0]}x{cfg.latent_size[1]} ({cfg.num_up} upsamplings)"]
    rows += [f"  {name:10s} {fin:5d} -> {fout:<5d} {h}x{w}" for name, fin, fout, (h, w) in upsampling_schedule(cfg)]
    return "\n".join(rows)


def power_iteration_trace(weight: torch.Tensor, iterations: int = 10, seed: int = 0) -> tuple[list[float], float]:
    """Spectral norm's sigma estimate u^T W v after each power iteration, and the true sigma.

    ``weight`` (out, in, kh, kw) is flattened to (out, in*kh*kw) as in
    ``torch.nn.utils.spectral_norm``; u starts random (as a fresh layer's does).
    """
    w = weight.detach().flatten(1)  # (out, in * kh * kw)
    u = F.normalize(torch.randn(w.shape[0], generator=torch.Generator().manual_seed(seed)), dim=0)
    estimates = []
    for _ in range(iterations):
        v = F.normalize(w.t() @ u, dim=0)  # (in * kh * kw,)
        u = F.normalize(w @ v, dim=0)  # (out,)
        estimates.append(torch.dot(u, w @ v).item())
    return estimates, torch.linalg.matrix_norm(w, ord=2).item()


# --------------------------------------------------------------------------- figures

def signed_map(fig: Figure, ax, m: torch.Tensor) -> None:
    """Draw the (H, W) map ``m`` on ``ax`` in RdBu_r, symmetric around 0 (white), with a colour bar."""
    lim = m.abs().max().item() or 1.0
    image = ax.imshow(m.numpy(), cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
    fig.colorbar(image, ax=ax, fraction=0.03)


def modulation_figure(label_rgb, maps: dict[str, torch.Tensor], channels: list[int], index: int = 0,
                      images: dict[str, torch.Tensor] | None = None) -> Figure:
    """Top row: the label map and ``images`` (title -> (3, H, W) in [-1, 1], e.g. photo and output);
    then per channel: normalized x, gamma, beta and the SPADE output."""
    keys = ("normalized", "gamma", "beta", "out")
    fig = Figure(figsize=(2.45 * len(keys), 1.45 * (len(channels) + 1)))
    axes = fig.subplots(len(channels) + 1, len(keys), squeeze=False)
    top = [("label map", label_rgb)] + [(t, ((im.clamp(-1, 1) + 1) / 2).permute(1, 2, 0).numpy())
                                        for t, im in (images or {}).items()]
    for ax, (title, picture) in zip(axes[0], top[: len(keys)]):
        ax.imshow(picture, interpolation="nearest")
        ax.set_title(title, fontsize=8)
    for ax in axes[0]:
        ax.set_axis_off()
    for row, c in enumerate(channels, start=1):
        for col, key in enumerate(keys):
            ax = axes[row, col]
            signed_map(fig, ax, maps[key][index, c])
            ax.set_title(f"{key}, channel {c}", fontsize=8)
            ax.set_axis_off()
    fig.tight_layout()
    return fig


def gamma_comparison_figure(label_rgb, gammas: dict[str, torch.Tensor], index: int = 0) -> Figure:
    """The label map, then for each model (``gammas``: title -> gamma (B, C, H, W) of one layer) its
    gamma in the channel that varies most over the image: SPADE's changes over a few pixels at
    label borders, CLADE's is one value per class with lines on the instance edges."""
    fig = Figure(figsize=(3.2 * (len(gammas) + 1), 2.1))
    axes = fig.subplots(1, len(gammas) + 1)
    axes[0].imshow(label_rgb, interpolation="nearest")
    axes[0].set_title("label map", fontsize=8)
    for ax, (title, gamma) in zip(axes[1:], gammas.items()):
        c = most_varying_channels(gamma, 1)[0]
        signed_map(fig, ax, gamma[index, c])
        ax.set_title(f"{title}\ngamma, channel {c}", fontsize=8)
    for ax in axes:
        ax.set_axis_off()
    fig.tight_layout()
    return fig


def power_iteration_figure(estimates: list[float], sigma: float, label: str = "estimate") -> Figure:
    """The sigma estimate after each power-iteration round against the largest singular value."""
    fig = Figure(figsize=(5, 2.8))
    ax = fig.subplots()
    ax.plot(range(1, len(estimates) + 1), estimates, "o-", label=label)
    ax.axhline(sigma, color="k", ls="--", label=f"largest singular value {sigma:.3f}")
    ax.set_xlabel("power iterations")
    ax.set_ylabel("sigma")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def conv_operator_norm(weight: torch.Tensor, size: tuple[int, int] = (32, 32), padding: int | None = None,
                       iterations: int = 100, seed: int = 0) -> float:
    """The operator 2-norm of the linear map x -> conv2d(x, weight) on (1, in, *size) inputs (stride 1,
    zero ``padding``, default kernel // 2): the largest factor by which the conv can stretch an input.

    Power iteration on the map and its adjoint (``conv_transpose2d`` with the same padding). The
    spectral norm of the reshaped kernel matrix W_mat (out, in * kh * kw) only bounds it: for stride 1,
    ``||conv|| <= sqrt(kh * kw) * sigma(W_mat)``, because the conv is W_mat applied to the unfolded
    input and every input pixel appears in at most kh * kw of its patches.
    """
    weight = weight.detach()
    pad = weight.shape[-1] // 2 if padding is None else padding
    x = torch.randn(1, weight.shape[1], *size, generator=torch.Generator().manual_seed(seed))  # (1, in, H, W)
    x = x / x.norm()
    for _ in range(iterations):
        y = F.conv2d(x, weight, padding=pad)  # (1, out, H, W)
        x = F.conv_transpose2d(y, weight, padding=pad)  # the adjoint map: (1, in, H, W)
        x = x / x.norm()
    return F.conv2d(x, weight, padding=pad).norm().item()


# --------------------------------------------------------------------------- the class explorer (widget)

@dataclass
class ClassModulation:
    """What the class explorer shows: one class's region at a SPADE layer's resolution and the
    gamma / beta maps of the channels in which that region stands out most (:func:`class_modulation`)."""

    class_id: int
    name: str
    mask: torch.Tensor  # (h, w) bool: the class's pixels, labels resized (nearest) to the layer
    channels: list[int]
    gamma: torch.Tensor  # (count, h, w)
    beta: torch.Tensor  # (count, h, w)
    gamma_inside: list[float]  # mean gamma of each channel over the region
    gamma_outside: list[float]  # ... and over the rest of the image

    @property
    def caption(self) -> str:
        parts = [f"channel {c}: mean gamma {i:+.2f} inside, {o:+.2f} outside"
                 for c, i, o in zip(self.channels, self.gamma_inside, self.gamma_outside)]
        return f"{self.name} (id {self.class_id}, {int(self.mask.sum())} pixels): " + "; ".join(parts)


def present_classes(label: torch.Tensor, label_set="synthetic") -> list[tuple[str, int]]:
    """(name, id) of the classes of ``label_set`` present in ``label`` (h, w), largest area first."""
    ls = get_label_set(label_set)
    ids, counts = torch.unique(label, return_counts=True)
    order = counts.argsort(descending=True)
    return [(ls.name_of(int(i)), int(i)) for i in ids[order] if int(i) in ls.ids]


def class_modulation(maps: dict[str, torch.Tensor], label: torch.Tensor, class_id: int, count: int = 2,
                     label_set="synthetic", index: int = 0) -> ClassModulation:
    """The widget's callback: the region of ``class_id`` in ``label`` (H, W) at the resolution of ``maps``
    (from :func:`modulation_maps` / :func:`layer_maps`) and the ``count`` channels in which the class stands
    out most: largest |mean gamma inside - mean gamma outside| in units of the channel's std over the image."""
    gamma, beta = maps["gamma"][index], maps["beta"][index]  # (C, h, w) each
    small = F.interpolate(label[None, None].float(), size=gamma.shape[-2:], mode="nearest")[0, 0]  # (h, w)
    mask = small.long() == class_id
    if not mask.any():
        raise ValueError(f"class {class_id} has no pixel at the layer's resolution {tuple(mask.shape)}")
    inside = gamma[:, mask].mean(dim=1)  # (C,)
    outside = gamma[:, ~mask].mean(dim=1) if (~mask).any() else torch.zeros_like(inside)
    spread = gamma.flatten(1).std(dim=1).clamp_min(1e-8)  # (C,): each channel's std over the image
    channels = ((inside - outside).abs() / spread).argsort(descending=True)[:count].tolist()
    return ClassModulation(class_id, get_label_set(label_set).name_of(class_id), mask, channels,
                           gamma[channels], beta[channels], inside[channels].tolist(), outside[channels].tolist())


def _outline(mask: np.ndarray) -> np.ndarray:
    """Pixels of ``mask`` (h, w) bool that touch a pixel outside it (4-neighbourhood)."""
    padded = np.pad(mask, 1, constant_values=False)
    interior = padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    return mask & ~interior


def class_panel(view: ClassModulation, label_rgb: np.ndarray, zoom: int = 2) -> np.ndarray:
    """One row per channel: the class region (elsewhere faded), gamma and beta of that channel
    (RdBu_r, symmetric around 0, region outlined in black); ``zoom`` screen pixels per map pixel."""
    h, w = view.mask.shape
    label_small = np.asarray(label_rgb)
    if label_small.shape[:2] != (h, w):  # labels at a finer resolution than the layer: nearest
        rows = (np.arange(h) * label_small.shape[0] // h)
        cols = (np.arange(w) * label_small.shape[1] // w)
        label_small = label_small[rows][:, cols]
    mask = view.mask.numpy()
    region = np.where(mask[..., None], label_small, (0.25 * label_small + 0.75 * 255).astype(np.uint8))
    big_outline = _outline(np.repeat(np.repeat(mask, zoom, 0), zoom, 1))
    strips = []
    for k in range(len(view.channels)):
        panels = [region] + [colour_map(m[k], cmap="RdBu_r") for m in (view.gamma, view.beta)]
        strip = tile_row(panels, zoom)
        for p in (1, 2):  # outline the region on the gamma and beta maps
            x0 = p * (w * zoom + 4)
            strip[:, x0:x0 + w * zoom][big_outline] = 0
        strips.append(strip)
    gap = np.full((4, strips[0].shape[1], 3), 255, np.uint8)
    return np.concatenate([s for k, strip in enumerate(strips) for s in ((gap, strip) if k else (strip,))])


def class_explorer(maps: dict[str, torch.Tensor], label: torch.Tensor, label_set="synthetic", count: int = 2,
                   zoom: int = 2):
    """A dropdown of the classes present in ``label`` over :func:`class_panel` (static figure:
    :func:`class_modulation_figure`). Returns a ``VBox`` with ``.dropdown``, ``.image``, ``.info``, ``.update()``."""
    import ipywidgets as widgets

    label_rgb = colorize(label, label_set)
    options = present_classes(label, label_set)
    dropdown = widgets.Dropdown(options=options, value=options[0][1], description="class")
    image, info = widgets.Image(format="png"), widgets.Label()  # shown at its own size, no smoothing
    box = widgets.VBox([dropdown, info, image])

    def update(_=None) -> None:
        view = class_modulation(maps, label, dropdown.value, count, label_set)
        image.value = png_bytes(class_panel(view, label_rgb, zoom))
        info.value = view.caption

    dropdown.observe(update, names="value")
    box.dropdown, box.image, box.info, box.update = dropdown, image, info, update
    update()
    return box


def class_modulation_figure(maps: dict[str, torch.Tensor], label: torch.Tensor, classes, label_set="synthetic",
                            count: int = 1) -> Figure:
    """Static view of the class explorer: a row per (class, channel): region, gamma, beta."""
    label_rgb = colorize(label, label_set)
    views = [class_modulation(maps, label, c, count, label_set) for c in classes]
    rows = sum(len(v.channels) for v in views)
    fig = Figure(figsize=(9.6, 1.75 * rows + 0.2))
    axes = fig.subplots(rows, 3, squeeze=False)
    row = 0
    for view in views:
        region = class_panel(view, label_rgb, zoom=1)
        w = view.mask.shape[1]
        for k, c in enumerate(view.channels):
            axes[row, 0].imshow(region[:, :w], interpolation="nearest")
            axes[row, 0].set_title(f"{view.name}: region", fontsize=8)
            for col, (key, m) in enumerate((("gamma", view.gamma[k]), ("beta", view.beta[k])), start=1):
                signed_map(fig, axes[row, col], m)
                axes[row, col].contour(view.mask.numpy(), levels=[0.5], colors="k", linewidths=0.6)
                extra = (f": mean {view.gamma_inside[k]:+.2f} in, {view.gamma_outside[k]:+.2f} out"
                         if key == "gamma" else "")
                axes[row, col].set_title(f"{key} ch. {c}{extra}", fontsize=7)
            row += 1
    for ax in axes.ravel():
        ax.set_axis_off()
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- the architecture diagram

def resblock_diagram() -> Figure:
    """The SPADE residual block (paper Fig. 4, the official ``SPADEResnetBlock``) and, below, the inside of
    one SPADE layer (Fig. 2), drawn with matplotlib. SN marks the spectrally normalised convs."""
    from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

    fig = Figure(figsize=(10, 5.6))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 20)
    ax.set_ylim(0, 11.2)
    ax.set_axis_off()
    spade_c, conv_c, act_c, io_c, seg_c = "#dbe8f6", "#fbe3c8", "#eeeeee", "#e6f2dd", "#efe1f5"

    def box(x, y, w, h, text, colour, size=7.5, ls="-"):
        ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.06", facecolor=colour,
                                    edgecolor="0.25", lw=0.9, ls=ls))
        ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=size)
        return x, y, w, h

    def arrow(a, b, text="", colour="0.2", ls="-", rad=0.0, offset=(0.0, 0.12)):
        ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=9, lw=1.0, color=colour, ls=ls,
                                     connectionstyle=f"arc3,rad={rad}", shrinkA=1, shrinkB=1))
        if text:
            ax.text((a[0] + b[0]) / 2 + offset[0], (a[1] + b[1]) / 2 + offset[1], text, fontsize=7,
                    color=colour, ha="center", va="bottom")

    def op(x, y, symbol):
        ax.add_patch(Circle((x, y), 0.32, facecolor="white", edgecolor="0.25", lw=0.9))
        ax.text(x, y, symbol, ha="center", va="center", fontsize=10)

    # -- the residual block
    ax.text(0.2, 10.75, "SPADE residual block (SPADEResnetBlock.forward)", fontsize=9.5, fontweight="bold")
    main_y, h = 6.4, 1.2
    mid = main_y + h / 2
    steps = [("x\n(B, fin, h, w)", 1.7, io_c), ("SPADE\nnorm_0", 1.6, spade_c), ("LReLU\n0.2", 1.1, act_c),
             ("conv_0 3x3\nfin -> fmid\nSN", 1.8, conv_c), ("SPADE\nnorm_1", 1.6, spade_c),
             ("LReLU\n0.2", 1.1, act_c), ("conv_1 3x3\nfmid -> fout\nSN", 1.8, conv_c)]
    x, boxes = 0.2, []
    for text, w, colour in steps:
        boxes.append(box(x, main_y, w, h, text, colour))
        x += w + 0.55
    for (x0, _, w0, _), (x1, _, _, _) in zip(boxes, boxes[1:]):
        arrow((x0 + w0 + 0.06, mid), (x1 - 0.06, mid))
    plus_x = x + 0.25
    op(plus_x, mid, "+")
    last = boxes[-1]
    arrow((last[0] + last[2] + 0.06, mid), (plus_x - 0.34, mid), "dx")
    out = box(plus_x + 0.75, main_y, 1.75, h, "out\n(B, fout, h, w)", io_c)
    arrow((plus_x + 0.33, mid), (out[0] - 0.06, mid))
    # the segmentation map feeds every SPADE layer
    seg = box(3.0, 9.05, 9.0, 0.95, "m: one-hot labels (+ instance edges), (B, S, H, W)\n"
              "each SPADE resizes it (nearest) to its input's h x w", seg_c)
    for b in (boxes[1], boxes[4]):
        arrow((b[0] + b[2] / 2, seg[1] - 0.04), (b[0] + b[2] / 2, main_y + h + 0.08), "m", colour="#7a3d91",
              offset=(0.22, -0.1))
    # the learned shortcut
    sc_y = 3.7
    sc_mid = sc_y + h / 2
    ax.add_patch(FancyBboxPatch((3.0, sc_y - 0.3), 11.0, h + 1.05, boxstyle="round,pad=0.05", fill=False,
                                edgecolor="0.5", lw=0.8, ls="--"))
    ax.text(3.2, sc_y + h + 0.62, "learned shortcut: only when fin != fout (the up_* blocks);\n"
            "otherwise x_s = x (head_0, G_middle_0/1)", fontsize=7, ha="left", va="top", style="italic")
    norm_s = box(4.0, sc_y, 1.6, h, "SPADE\nnorm_s", spade_c)
    conv_s = box(6.6, sc_y, 2.3, h, "conv_s 1x1\nfin -> fout\nno bias, SN", conv_c)
    xb = boxes[0]
    arrow((xb[0] + xb[2] / 2, main_y - 0.06), (norm_s[0] - 0.06, sc_mid), rad=0.25)
    arrow((norm_s[0] + norm_s[2] + 0.06, sc_mid), (conv_s[0] - 0.06, sc_mid))
    ax.text((norm_s[0] + norm_s[2] + conv_s[0]) / 2, sc_y - 0.22, "no activation", fontsize=6.5, ha="center",
            color="0.35")
    arrow((conv_s[0] + conv_s[2] + 0.06, sc_mid), (plus_x, mid - 0.34), "x_s", rad=0.15, offset=(0.6, -0.5))
    arrow((norm_s[0] + norm_s[2] / 2, sc_y - 0.55), (norm_s[0] + norm_s[2] / 2, sc_y - 0.06), colour="#7a3d91")
    ax.text(norm_s[0] + norm_s[2] / 2 + 0.2, sc_y - 0.7, "m", fontsize=7, color="#7a3d91")
    ax.text(15.2, 4.3, "fmid = min(fin, fout)\nSN: spectral norm on the\nconv weight (W / sigma(W))",
            fontsize=7, va="center")

    # -- inside one SPADE layer
    ax.plot([0.2, 19.8], [2.75, 2.75], color="0.7", lw=0.8, ls=":")
    ax.text(0.2, 2.3, "inside each SPADE layer (SPADE.forward)", fontsize=9.5, fontweight="bold")
    ax.text(0.2, 0.1, "its three convs (mlp_shared, mlp_gamma, mlp_beta)\nhave no spectral norm",
            fontsize=7, style="italic")
    y2, h2 = 0.95, 0.95
    m2 = y2 + h2 / 2
    xin = box(0.2, y2, 1.2, h2, "x", io_c)
    bn = box(1.9, y2, 2.4, h2, "BatchNorm2d\nno affine params", act_c, size=7)  # param_free_norm
    op(5.0, m2, "x")
    op(6.3, m2, "+")
    o2 = box(7.0, y2, 1.2, h2, "out", io_c)
    arrow((xin[0] + xin[2] + 0.06, m2), (bn[0] - 0.06, m2))
    arrow((bn[0] + bn[2] + 0.06, m2), (4.66, m2))
    arrow((5.34, m2), (5.96, m2))
    arrow((6.64, m2), (o2[0] - 0.06, m2))
    mm = box(8.9, y2, 1.2, h2, "m", seg_c)
    rs = box(10.5, y2, 2.1, h2, "resize to h x w\n(nearest)", act_c, size=7)
    sh = box(13.0, y2, 2.5, h2, "mlp_shared\nconv 3x3 + ReLU", conv_c, size=7)
    g = box(16.1, y2 + 0.6, 2.6, 0.75, "mlp_gamma conv 3x3 -> gamma", conv_c, size=6.5)
    b = box(16.1, y2 - 0.55, 2.6, 0.75, "mlp_beta conv 3x3 -> beta", conv_c, size=6.5)
    arrow((mm[0] + mm[2] + 0.06, m2), (rs[0] - 0.06, m2))
    arrow((rs[0] + rs[2] + 0.06, m2), (sh[0] - 0.06, m2))
    arrow((sh[0] + sh[2] + 0.06, m2 + 0.1), (g[0] - 0.06, g[1] + 0.37))
    arrow((sh[0] + sh[2] + 0.06, m2 - 0.1), (b[0] - 0.06, b[1] + 0.37))
    arrow((g[0] + 0.3, g[1] + 0.8), (5.0, m2 + 0.34), "1 + gamma", colour="#1f5fa8", rad=0.07, offset=(0, 0.05))
    arrow((b[0] + 0.3, b[1] - 0.05), (6.3, m2 - 0.34), "beta", colour="#1f5fa8", rad=-0.1, offset=(0, -0.42))
    return fig
