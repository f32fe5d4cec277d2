"""Tables, figures and small experiments for notebook 05 (losses, discriminator, training).

The training itself is :mod:`posgen_lib.train` (and :func:`posgen_lib.train.load_or_train`);
this module only prepares inputs for it, runs tiny demonstrations and draws
what happened. Text results are deterministic (they feed checked notebook
cells); figures are ``matplotlib.figure.Figure`` objects.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn

from ... import checkpoint as ckpt
from ...config import Config, preset
from ...data.synthetic import SyntheticStreets
from ...data.transforms import to_semantics
from ...models.discriminator import MultiscaleDiscriminator
from ...train.objective import GANObjective
from ...models.registry import build_generator, count_parameters
from ...models.spade import converge_spectral_norm
from ...train.loop import base_learning_rates, train
from ...viz import sample_grid


# --- losses and spectral norm -------------------------------------------------------

def hinge_figure() -> Figure:
    """The three hinge terms as functions of one discriminator logit."""
    x = np.linspace(-3, 3, 301)
    fig = Figure(figsize=(6, 3.2))
    ax = fig.subplots()
    ax.plot(x, np.maximum(0, 1 - x), label=r"$D$ on real: $\max(0, 1 - x)$")
    ax.plot(x, np.maximum(0, 1 + x), label=r"$D$ on fake: $\max(0, 1 + x)$")
    ax.plot(x, -x, "--", label=r"$G$ on fake: $-x$")
    ax.axvspan(-1, 1, color="0.9", zorder=0)
    ax.set_xlabel("discriminator logit $x$ of one patch")
    ax.set_ylabel("loss")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    ax.set_title("hinge loss: D is pushed only inside the grey margin", fontsize=10)
    fig.tight_layout()
    return fig


def largest_singular_value(weight: torch.Tensor) -> float:
    """sigma_max of a conv/linear weight seen as a (out, in * k * k) matrix."""
    return float(torch.linalg.matrix_norm(weight.detach().flatten(1), ord=2))


def spectral_norm_table(scales=(0.1, 1.0, 10.0), seed: int = 0) -> str:
    """sigma_max of a conv weight scaled by ``scales``, as stored and as used under spectral norm."""
    lines = ["scale   sigma(W)   sigma(W / sigma) used in forward"]
    for scale in scales:
        torch.manual_seed(seed)
        conv = nn.utils.spectral_norm(nn.Conv2d(16, 32, 3, padding=1))
        with torch.no_grad():
            conv.weight_orig.mul_(scale)
        converge_spectral_norm(conv, iterations=200)
        conv.eval()  # use the converged u, v without another power iteration
        conv(torch.zeros(1, 16, 4, 4))  # the forward pre-hook sets conv.weight = W / sigma
        lines.append(f"{scale:5.1f}   {largest_singular_value(conv.weight_orig):8.3f}   "
                     f"{largest_singular_value(conv.weight):8.3f}")
    return "\n".join(lines)


# --- the discriminator ------------------------------------------------------------------

def discriminator_shapes(cfg: Config, batch: int = 1) -> str:
    """Output shape of every layer at every scale for an input of the model's training size."""
    D = MultiscaleDiscriminator(cfg.model).eval()
    h, w = cfg.model.image_size
    x = torch.zeros(batch, cfg.model.semantic_nc + 3, h, w)  # cat(semantics, image)
    with torch.no_grad():
        out = D(x)
    lines = [f"input {tuple(x.shape)}; {count_parameters(D):,} parameters"]
    for s, scale in enumerate(out):
        side = f"{h // 2**s}x{w // 2**s}"
        for k, t in enumerate(scale):
            role = "patch logits" if k == len(scale) - 1 else "features (for feature matching)"
            lines.append(f"scale {s} ({side:>6s} input) layer {k}: {str(tuple(t.shape)):18s} {role}")
    return "\n".join(lines)


# --- one training step, unrolled -----------------------------------------------------------

@dataclass
class StepParts:
    """What one training step needs: models, optimizers, objective and one batch."""

    G: nn.Module
    D: nn.Module
    objective: GANObjective
    opt_G: torch.optim.Optimizer
    opt_D: torch.optim.Optimizer
    sem: torch.Tensor  # (B, semantic_nc, H, W)
    real: torch.Tensor  # (B, 3, H, W)


def step_parts(cfg: Config, batch_size: int = 2) -> StepParts:
    """Fresh models, TTUR Adam optimizers and a batch of synthetic scenes, as the trainer builds them."""
    torch.manual_seed(cfg.train.seed)
    G = build_generator(cfg.model).train()
    D = MultiscaleDiscriminator(cfg.model).train()
    lr_g, lr_d = base_learning_rates(cfg)
    betas = (cfg.train.beta1, cfg.train.beta2)
    data = SyntheticStreets(size=cfg.model.image_size, length=batch_size, seed=cfg.data.synthetic_seed)
    items = [data[i] for i in range(batch_size)]
    label, instance = torch.stack([it["label"] for it in items]), torch.stack([it["instance"] for it in items])
    return StepParts(G, D, GANObjective(cfg.train),
                     torch.optim.Adam(G.parameters(), lr=lr_g, betas=betas),
                     torch.optim.Adam(D.parameters(), lr=lr_d, betas=betas),
                     to_semantics(label, instance, cfg.data.label_set, cfg.model.use_instance),
                     torch.stack([it["image"] for it in items]))


# --- a short real run ----------------------------------------------------------------------

def short_run_config(steps: int, name: str = "synthetic") -> Config:
    """Preset ``name`` trained for ``steps`` steps, logging ~30 times and sampling once at the end."""
    cfg = preset(name)
    cfg.train.steps = steps
    cfg.train.log_every = max(1, steps // 30)
    cfg.train.sample_every = max(1, steps)
    cfg.train.ckpt_every = max(1, steps // 3)
    return cfg


def run_folder(cfg: Config, notebook: str = "05") -> Path:
    """``$POSGEN_CKPT_DIR/<notebook>_<preset>_<steps>steps_<fingerprint>`` (default ``checkpoints/``).

    The step count and a fingerprint of the whole config are part of the name,
    so a quick run (``POSGEN_FAST=1``) is never mistaken for the full one, and
    a changed preset trains afresh instead of loading a stale model.
    """
    root = Path(os.environ.get("POSGEN_CKPT_DIR") or "checkpoints")
    text = json.dumps(cfg.to_dict(), sort_keys=True, default=str)
    fingerprint = hashlib.sha1(text.encode()).hexdigest()[:8]
    return root / f"{notebook}_{cfg.name}_{cfg.train.steps}steps_{fingerprint}"


@torch.no_grad()
def samples_figure(G: nn.Module, cfg: Config, n: int = 4, title: str = "") -> Figure:
    """Held-out (test split) scenes: label | real photo | generated, one row each."""
    data = SyntheticStreets(size=cfg.model.image_size, length=n, seed=cfg.data.synthetic_seed,
                            split="test")
    items = [data[i] for i in range(n)]
    label, instance = torch.stack([it["label"] for it in items]), torch.stack([it["instance"] for it in items])
    device = next(G.parameters()).device
    sem = to_semantics(label, instance, cfg.data.label_set, cfg.model.use_instance).to(device)
    fake = G.eval()(sem).cpu()
    grid = sample_grid(label, torch.stack([it["image"] for it in items]), [fake], cfg.data.label_set)
    fig = Figure(figsize=(10, 1.75 * n + 0.5))
    ax = fig.subplots()
    ax.imshow(grid)
    ax.set_axis_off()
    ax.set_title(title or "labels | real photo | generated", fontsize=10)
    fig.tight_layout()
    return fig


# --- checkpoints and resume --------------------------------------------------------------------

def _same_weights(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def resume_demo(folder: str | Path, steps: int = 4) -> str:
    """Train the ``tiny`` preset ``steps`` steps straight, and again resuming from its halfway checkpoint.

    The second run stands in for a run that was killed after the halfway
    checkpoint; on CPU it must end with bit-identical weights.
    """
    folder = Path(folder)
    shutil.rmtree(folder, ignore_errors=True)
    cfg = preset("tiny")
    cfg.train.steps, cfg.train.ckpt_every, cfg.train.keep = steps, steps // 2, 3
    train(cfg, folder / "straight", progress=False)
    halfway = ckpt.step_path(folder / "straight" / "checkpoints", steps // 2)
    train(cfg, folder / "resumed", resume=halfway, progress=False)
    ends = [ckpt.load_checkpoint(ckpt.step_path(folder / run / "checkpoints", steps))
            for run in ("straight", "resumed")]
    names = [p.name for p in ckpt.list_checkpoints(folder / "straight" / "checkpoints")]
    return "\n".join([
        f"straight run: {steps} steps, checkpoints {', '.join(names)}",
        f"second run: resumed from {halfway.name} (step {steps // 2}) and trained to step {ends[1]['step']}",
        f"identical generator weights:     {_same_weights(ends[0]['generator'], ends[1]['generator'])}",
        f"identical discriminator weights: {_same_weights(ends[0]['discriminator'], ends[1]['discriminator'])}",
    ])


def truncated_checkpoint_error(run_dir: str | Path) -> str:
    """Load a half-written copy of the newest checkpoint of ``run_dir``; the error that gives."""
    newest = ckpt.latest_checkpoint(Path(run_dir) / "checkpoints")
    if newest is None:
        raise FileNotFoundError(f"no checkpoint in {run_dir}/checkpoints")
    broken = Path(run_dir) / "truncated.pt"
    data = newest.read_bytes()
    broken.write_bytes(data[: len(data) // 2])  # what a crash in the middle of a plain write leaves
    try:
        ckpt.load_checkpoint(broken)
    except ckpt.CheckpointError as err:
        return str(err).replace(str(broken), broken.name)
    raise AssertionError("a truncated checkpoint loaded without an error")


# --- the GPU recipe ---------------------------------------------------------------------------

def recipe_table(name: str, only: tuple[str, ...] = ()) -> str:
    """The settings of preset ``name`` that define SPADE's recipe, one per line.

    ``only`` keeps the rows whose description starts with one of its strings.
    """
    cfg = preset(name)
    m, d, t = cfg.model, cfg.data, cfg.train
    lr_g, lr_d = base_learning_rates(cfg)
    budget = f"{t.steps} steps" if t.steps is not None else f"{t.epochs} epochs"
    rows = [
        ("output size (H, W)", m.image_size),
        ("label channels + dontcare + edges", f"{m.label_nc} + {int(m.contain_dontcare_label)} + "
                                              f"{int(m.use_instance)} = {m.semantic_nc}"),
        ("upsampling layers", f"{m.num_upsampling_layers} ({m.num_up}), ngf {m.ngf}"),
        ("discriminator", f"{m.num_D} scales x {m.n_layers_D} layers, ndf {m.ndf}"),
        ("spectral norm G / D", f"{m.spectral_norm_G} / {m.spectral_norm_D}"),
        ("preprocessing", f"{d.preprocess_mode}, load {d.load_size}, crop {d.crop_size}, "
                          f"aspect {d.aspect_ratio}, flip {d.flip}"),
        ("budget, global batch", f"{budget}, {t.batch_size}"),
        ("Adam lr G / D, betas", f"{lr_g:g} / {lr_d:g}, ({t.beta1:g}, {t.beta2:g})"),
        ("lr decay", f"linear to 0 after {t.decay_start:.0%} of training"),
        ("GAN loss, lambda_feat", f"{t.gan_mode}, {t.lambda_feat:g}"),
        ("lambda_vgg", f"{t.lambda_vgg:g} (only with --vgg-weights FILE)"),
    ]
    rows = [(k, v) for k, v in rows if not only or k.startswith(only)]
    return "\n".join([f"preset {name!r}"] + [f"  {k:34s} {v}" for k, v in rows])
