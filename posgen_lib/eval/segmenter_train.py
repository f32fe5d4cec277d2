"""``posgen segmenter train|eval``: train and check the synthetic-streets segmenter.

The segmenter (:class:`posgen_lib.eval.segmenter.SmallSegmenter`) learns ground-truth
photo -> label map on the procedural street scenes' *train* split and is
scored on the *test* split, which no generator or segmenter ever trains on.
It has to work at 1x, 2x, 3.3x and 4x of the 64x128 training size, so its
training examples are 64x128 crops of scenes rendered at random scales: each
crop is a window of the scene (``SyntheticStreets.render(i, size, window)``)
with the pixel spacing of the full image at that scale, so object sizes in
pixels cover the range the upscaling experiment produces. Loss: cross-entropy
weighted by 1/sqrt(class frequency) (small classes such as poles and signs
would otherwise be ignored); AdamW with a cosine learning-rate decay.

``posgen segmenter train --out posgen_lib/assets/segmenter_synthetic.pt`` is the
command that produced the shipped weights (see docs/model_card_segmenter.md).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from ..data.labels import get_label_set
from ..data.synthetic import SyntheticStreets
from ..grid import pixel_window, scaled_size
from .metrics import SegmentationScore
from .segmenter import IGNORE, SegmenterConfig, SmallSegmenter

EVAL_SCALES = (1.0, 2.0, 3.3, 4.0)


@dataclass
class SegmenterTrainConfig:
    """Budget and recipe of ``posgen segmenter train`` (defaults: the shipped weights' run)."""

    steps: int = 2000
    crops: int = 3000  # size of the pre-rendered crop pool
    batch_size: int = 16
    lr: float = 3e-3
    weight_decay: float = 1e-4
    crop_size: tuple[int, int] = (64, 128)
    max_scale: float = 4.5  # crops come from scenes rendered at 1x .. max_scale x
    full_image_fraction: float = 0.3  # share of crops that are whole 1x images
    seed: int = 0


def _random_crop_window(size: tuple[int, int], crop: tuple[int, int], scale: float,
                        gen: torch.Generator) -> tuple[float, float, float, float]:
    """A crop-sized window with the pixel spacing of the whole image rendered at ``scale``."""
    full_h, full_w = (max(c, s) for c, s in zip(crop, scaled_size(size, scale)))
    top = int(torch.randint(0, full_h - crop[0] + 1, (1,), generator=gen))
    left = int(torch.randint(0, full_w - crop[1] + 1, (1,), generator=gen))
    return pixel_window((full_h, full_w), top, left, crop)


def crop_pool(cfg: SegmenterTrainConfig, model_classes: SmallSegmenter, progress: bool = True):
    """Pre-render ``cfg.crops`` training crops: images (N, 3, h, w) uint8, classes (N, h, w) uint8."""
    gen = torch.Generator().manual_seed(cfg.seed)
    ds = SyntheticStreets(size=(64, 128), length=cfg.crops, seed=cfg.seed, split="train")
    images = torch.empty(cfg.crops, 3, *cfg.crop_size, dtype=torch.uint8)
    classes = torch.empty(cfg.crops, *cfg.crop_size, dtype=torch.uint8)
    for i in tqdm(range(cfg.crops), desc="render crops", disable=not progress):
        if float(torch.rand(1, generator=gen)) < cfg.full_image_fraction:
            scale = 1.0
        else:
            scale = math.exp(float(torch.rand(1, generator=gen)) * math.log(cfg.max_scale))
        window = _random_crop_window(ds.size, cfg.crop_size, scale, gen)
        item = ds.render(i, size=cfg.crop_size, window=window)
        images[i] = ((item["image"] + 1) * 127.5).round().clamp(0, 255).byte()
        classes[i] = model_classes.class_index(item["label"]).byte()
    return images, classes


def _class_weights(classes: torch.Tensor, num_classes: int) -> torch.Tensor:
    counts = torch.bincount(classes[classes != IGNORE].long().flatten(), minlength=num_classes).double()
    weights = (counts.clamp(min=1) / counts.sum()).rsqrt()
    return (weights / weights.mean()).float()  # (K,)


def train_segmenter(cfg: SegmenterTrainConfig, progress: bool = True) -> SmallSegmenter:
    """Train a :class:`SmallSegmenter` on the synthetic streets' ground-truth photos (CPU-friendly)."""
    torch.manual_seed(cfg.seed)
    ls = get_label_set("synthetic")
    model = SmallSegmenter(SegmenterConfig(), ls.ids, ls.names)
    images, classes = crop_pool(cfg, model, progress)
    loss_weights = _class_weights(classes, len(ls.ids))
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=max(1, cfg.steps),
                                                pct_start=0.1)
    gen = torch.Generator().manual_seed(cfg.seed + 1)
    model.train()
    bar = tqdm(range(cfg.steps), desc="train segmenter", disable=not progress)
    for _ in bar:
        idx = torch.randint(0, cfg.crops, (cfg.batch_size,), generator=gen)
        x = images[idx].float() / 127.5 - 1  # (B, 3, h, w)
        y = classes[idx].long()  # (B, h, w)
        flip = torch.rand(cfg.batch_size, generator=gen) < 0.5
        x[flip], y[flip] = x[flip].flip(-1), y[flip].flip(-1)
        jitter = 1 + 0.1 * (torch.rand(cfg.batch_size, 3, 1, 1, generator=gen) * 2 - 1)  # colour gain
        x = ((x + 1) * jitter - 1).clamp(-1, 1)
        loss = F.cross_entropy(model(x), y, weight=loss_weights, ignore_index=IGNORE)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        bar.set_postfix(loss=f"{loss.item():.3f}")
    return model.eval()


@torch.no_grad()
def score_on_ground_truth(model, count: int, scales=EVAL_SCALES, seed: int = 0,
                          noise: bool = False) -> dict[float, dict]:
    """mIoU / pixel accuracy of ``model`` on the first ``count`` test scenes at each scale.

    ``noise=True`` replaces the photos by uniform noise (the floor a metric must beat).
    """
    ds = SyntheticStreets(size=(64, 128), length=count, seed=seed, split="test")
    gen = torch.Generator().manual_seed(seed)
    out = {}
    for scale in scales:
        score = SegmentationScore(len(model.label_ids))
        size = scaled_size((64, 128), scale)
        for i in range(count):
            item = ds.render(i, size=size)
            image = torch.rand(item["image"].shape, generator=gen) * 2 - 1 if noise else item["image"]
            score.update(model.predict(image[None]), model.class_index(item["label"])[None])
        out[scale] = {"miou": score.miou(), "pixel_accuracy": score.pixel_accuracy(), "images": count}
    return out


# ----- command line --------------------------------------------------------------------------
