"""Inside SPADE: modulation maps, why plain normalization loses labels, the upsampling schedule,
spectral norm (notebook 02).

Park et al., "Semantic Image Synthesis with Spatially-Adaptive Normalization"
(CVPR 2019):

* Eq. 1 -- SPADE: ``out = norm(x) * (1 + gamma(m)) + beta(m)`` with per-pixel,
  per-channel ``gamma``, ``beta`` predicted from the segmentation map ``m``.
  :func:`modulation_maps` returns the pieces of that formula for one layer.
* Sec. 3 ("Why does SPADE work better?") -- a convolution of a one-hot map
  that holds a single label is constant, and instance normalization of a
  constant is zero: the label is erased. :func:`washout` measures it.
* Appendix A / Fig. 5 -- the trunk: ``head_0``, ``G_middle_0``, ``G_middle_1``
  and ``up_0 .. up_3`` (+ ``up_4``), with 2x nearest upsampling in between;
  ``num_upsampling_layers`` ``normal`` / ``more`` / ``most`` gives 5 / 6 / 7
  upsamplings (Cityscapes uses ``more``). :func:`upsampling_schedule` lists it.
* Spectral normalization (Miyato et al. 2018): ``W / sigma(W)``, ``sigma`` the
  largest singular value estimated by one power iteration per training step.
  :func:`power_iteration_trace` shows the estimate converging.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from torch import nn

from ...config import ModelConfig
from ...models.spade import SPADE


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
    nearest upsampling; ``more`` adds one before ``G_middle_1``, ``most`` also
    adds ``up_4``.
    """
    nf, mode = cfg.ngf, cfg.num_upsampling_layers
    order = ["head_0", "up", "G_middle_0"] + (["up"] if mode in ("more", "most") else []) + ["G_middle_1"]
    order += ["up", "up_0", "up", "up_1", "up", "up_2", "up", "up_3"] + (["up", "up_4"] if mode == "most" else [])
    channels = {"head_0": (16 * nf, 16 * nf), "G_middle_0": (16 * nf, 16 * nf), "G_middle_1": (16 * nf, 16 * nf),
                "up_0": (16 * nf, 8 * nf), "up_1": (8 * nf, 4 * nf), "up_2": (4 * nf, 2 * nf),
                "up_3": (2 * nf, nf), "up_4": (nf, nf // 2)}
    (h, w), rows = cfg.latent_size, []
    for step in order:
        if step == "up":
            h, w = 2 * h, 2 * w
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

def modulation_figure(label_rgb, maps: dict[str, torch.Tensor], channels: list[int], index: int = 0,
                      images: dict[str, torch.Tensor] | None = None) -> Figure:
    """Top row: the label map and ``images`` (title -> (3, H, W) in [-1, 1], e.g. photo and output);
    then per channel: normalized x, gamma, beta and the SPADE output."""
    keys = ("normalized", "gamma", "beta", "out")
    fig = Figure(figsize=(2.6 * len(keys), 1.5 * (len(channels) + 1)))
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
            m = maps[key][index, c]  # (H, W)
            lim = m.abs().max().item() or 1.0
            ax = axes[row, col]
            image = ax.imshow(m.numpy(), cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
            fig.colorbar(image, ax=ax, fraction=0.03)
            ax.set_title(f"{key}, channel {c}", fontsize=8)
            ax.set_axis_off()
    fig.tight_layout()
    return fig


def power_iteration_figure(estimates: list[float], sigma: float) -> Figure:
    fig = Figure(figsize=(5, 2.8))
    ax = fig.subplots()
    ax.plot(range(1, len(estimates) + 1), estimates, "o-", label="estimate u^T W v")
    ax.axhline(sigma, color="k", ls="--", label=f"largest singular value {sigma:.3f}")
    ax.set_xlabel("power iterations")
    ax.set_ylabel("sigma")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
