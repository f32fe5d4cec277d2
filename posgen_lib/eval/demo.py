"""``posgen demo`` / ``make demo``: the package's main job on a laptop CPU.

Trains PosGen on the procedural street scenes with the ``synthetic`` preset,
then writes to the output folder:

    samples.png      held-out scenes: label | real photo | PosGen
    renders.png      one held-out scene at 1x, 2x and 4x (head on an enlarged
                     coordinate grid, trunk at 1x), the shipped any-resolution
                     PosGen at 4x (pg.pretrained("synthetic_anyres"), given the
                     4x labels) and the 4x ground truth
    loss_curve.png   generator and discriminator losses
    metrics.json     steps, time, recipe, and at 1x and 4x the segmenter's mIoU,
                     SegFD, PSNR/SSIM and sharpness against ground truth, for the
                     demo's model next to the same model untrained and the
                     shipped one (pg.pretrained("synthetic"))
    train/           the run itself: checkpoints, log.jsonl, model.pt, samples/

A demo starts afresh: it deletes ``train/`` first, but only when that is a run
a demo started (run.json names ``posgen demo`` as its owner); anything else
there, or the files above without a demo run next to them, is refused
(:func:`clear_previous_demo`).

With ``POSGEN_FAST=1`` everything runs with a tiny budget (for CI).
"""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import torch

from ..config import budget, preset
from ..data.transforms import to_semantics
from ..models.registry import build_generator, pretrained
from ..rendering.render import render
from ..errors import UserError
from ..records import atomic_write_text, check_output, save_figure
from ..train import rundir
from ..train.loop import train
from ..viz import sample_grid, save_png
from ..viz.figures import row_figure
from .evaluate import scene_seeds, scorecard
from .scenes import held_out_scenes_at, synthetic_scenes

OWNER = "posgen demo"  # recorded in run.json: the demo deletes a previous run only when it is its own
DEMO_FILES = ("samples.png", "renders.png", "loss_curve.png", "metrics.json")  # what it writes next to train/
SCALES = (1, 2, 4)
SCORED_SCENES = 32  # held-out scenes scored at 1x and 4x (a minute on 2 cores for the three models)


@torch.no_grad()
def resolution_figure(G, anyres, cfg, index: int, device):
    """labels | PosGen at 1x, 2x, 4x (head on the enlarged grid) | the shipped any-resolution PosGen at 4x
    (given the 4x labels) | 4x ground truth, for one held-out scene."""
    scenes_at = held_out_scenes_at(cfg, index + 1)
    base, top = scenes_at(1), scenes_at(4)
    part = slice(index, index + 1)
    sem = to_semantics(base.label[part], base.instance[part], cfg.data.label_set, cfg.model.use_instance)
    sem_4x = to_semantics(top.label[part], top.instance[part], cfg.data.label_set, cfg.model.use_instance)
    images = {"labels (1x)": base.label[index]}
    images.update({f"PosGen {s}x": render(G, sem.to(device), scale=s).cpu() for s in SCALES})
    images["shipped any-res 4x"] = render(anyres, sem.to(device), scale=4, labels=sem_4x.to(device)).cpu()
    images["ground truth 4x"] = top.image[index]
    return row_figure(images, cfg.data.label_set, height=2.4)


def clear_previous_demo(out: Path) -> None:
    """Delete the previous demo's training run in ``out/train``, and nothing else.

    Refused (one line, before any work): ``out/train`` holding anything but a run
    that ``posgen demo`` started (its run.json names it as owner), and the
    demo's pictures or metrics in ``out`` without such a run next to them (then
    they are not known to be a demo's, and the demo would replace them).
    """
    check_output(out, "--out", folder=True)
    run = out / "train"
    if not run.exists():
        found = [name for name in DEMO_FILES if (out / name).exists()]
        if found:
            raise UserError(f"{out} holds {', '.join(found)} but no demo run in {run}, so they are not known to "
                            "be a demo's and the demo would replace them; move them, or give the demo another --out")
        return
    if not run.is_dir() or not rundir.is_run_of(run, OWNER):
        raise UserError(f"{run} holds files that are not a run posgen demo started; the demo deletes only its "
                        "own previous run: move them away, or give the demo another --out")
    shutil.rmtree(run)


def run_demo(out_dir: str | Path = "outputs/demo", steps: int | None = None, device=None) -> dict:
    out = Path(out_dir)
    start = time.perf_counter()
    cfg = preset("synthetic")
    cfg.train.steps = steps or budget(cfg.train.steps, 3)
    if cfg.train.steps < 50:
        cfg.train.log_every = cfg.train.sample_every = cfg.train.ckpt_every = 1
    clear_previous_demo(out)  # a demo always starts fresh
    result = train(cfg, out / "train", device=device, owner=OWNER)
    train_seconds = time.perf_counter() - start
    G, dev = result.generator, next(result.generator.parameters()).device

    held = synthetic_scenes(cfg, budget(6, 2), 1)
    sem = to_semantics(held.label, held.instance, cfg.data.label_set, cfg.model.use_instance).to(dev)
    with torch.no_grad():
        fake = G(sem, None, scene_seeds(0, len(sem))).cpu()
    save_png(sample_grid(held.label, held.image, [fake], cfg.data.label_set), out / "samples.png")
    save_figure(resolution_figure(G, pretrained("synthetic_anyres", dev), cfg, 0, dev), out / "renders.png", dpi=150)
    shutil.copy(out / "train" / "loss_curve.png", out / "loss_curve.png")

    torch.manual_seed(cfg.train.seed)
    untrained = build_generator(cfg.model).to(dev).eval()
    cards = scorecard({"demo": G, "untrained": untrained, "shipped": pretrained("synthetic", dev)}, cfg,
                      budget(SCORED_SCENES, 2), (1.0, 4.0), dev)
    metrics = {
        "steps": result.step, "train_seconds": round(train_seconds, 1),
        "sec_per_step": round(train_seconds / max(1, result.step), 3),
        "recipe": {"preset": "synthetic", "batch_size": cfg.train.batch_size, "ema_decay": cfg.train.ema_decay,
                   "amp": cfg.train.amp, "channels_last": cfg.train.channels_last},
        "scores": cards,  # the segmenter's mIoU, SegFD, PSNR/SSIM, sharpness at 1x and 4x
        "final_losses": {k: round(v, 4) for k, v in (result.log[-1] if result.log else {}).items()
                         if k.startswith(("G_", "D_"))},
    }
    atomic_write_text(out / "metrics.json", json.dumps(metrics, indent=2))
    print(f"\nPosGen demo finished in {time.perf_counter() - start:.0f} s ({result.step} steps).")
    print(score_table(cards))
    for name in ("samples.png", "renders.png", "loss_curve.png", "metrics.json"):
        print(f"  {out / name}")
    return metrics


def score_table(cards: dict) -> str:
    """The demo's scores as text: one row per model and scale."""
    lines = [f"{'model':>10} {'scale':>5} {'mIoU %':>7} {'SegFD':>6} {'PSNR dB':>8} {'sharpness':>9}"]
    for name, card in cards.items():
        for scale in ("1x", "4x"):
            s = card.get(scale, {})
            lines.append(f"{name:>10} {scale:>5} {100 * s.get('miou', float('nan')):7.1f} "
                         f"{s.get('segfd', float('nan')):6.2f} {s.get('psnr', float('nan')):8.2f} "
                         f"{s.get('sharpness', float('nan')):9.3f}")
    return "\n".join(lines)
