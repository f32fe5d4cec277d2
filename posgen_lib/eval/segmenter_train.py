"""``posgen segmenter train|eval``: train and check the segmenters that score generated images.

One recipe, two datasets (:func:`segmenter_recipe`):

* ``synthetic``: ground-truth photos of the procedural streets' *train* split,
  scored on the *test* split, which no generator or segmenter ever trains on.
* ``camvid``: the real CamVid *train* photos (:class:`posgen_lib.data.CamVid`),
  scored on *val* at 1x, 2x and 4x (1x = 90x120; the native 360x480 photo is 4x).
  Void pixels are ignored by the loss and the scores.

A segmenter has to work at every scale a generator renders, so its training
examples are 1x-sized crops of scenes at random scales: a synthetic scene is
rendered directly in a window of the full image at that scale
(``SyntheticStreets.render(i, size, window)``); a CamVid photo is area-resized
from its native size (labels: nearest) and cropped. Loss: cross-entropy
weighted by 1/sqrt(class frequency) (small classes such as poles and signs
would otherwise be ignored); AdamW with a one-cycle (cosine) learning rate;
random flips and a colour gain.

``posgen segmenter train --out FILE`` (``--dataset camvid --data DIR``) is the
command behind each shipped file (docs/model_card_segmenter*.md).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from ..config import preset
from ..data.camvid import CamVid
from ..data.labels import get_label_set
from ..data.synthetic import SyntheticStreets
from .metrics import SegmentationScore
from .segmenter import IGNORE, SegmenterConfig, SmallSegmenter

EVAL_SCALES = {"synthetic": (1.0, 2.0, 3.3, 4.0), "camvid": (1.0, 2.0, 4.0)}
SEGMENTER_DATASETS = tuple(EVAL_SCALES)


@dataclass
class SegmenterTrainConfig:
    """Budget and recipe of ``posgen segmenter train`` (defaults: the shipped synthetic weights' run)."""

    dataset: str = "synthetic"  # synthetic | camvid
    data: str | None = None  # the CamVid folder
    steps: int = 2000
    crops: int = 3000  # size of the pre-rendered crop pool
    batch_size: int = 16
    lr: float = 3e-3
    weight_decay: float = 1e-4
    crop_size: tuple[int, int] = (64, 128)
    max_scale: float = 4.5  # crops come from scenes at 1x .. max_scale x
    full_image_fraction: float = 0.3  # share of crops that are whole 1x images
    net: SegmenterConfig = field(default_factory=SegmenterConfig)
    seed: int = 0


def segmenter_recipe(dataset: str = "synthetic", data: str | None = None, **changes) -> SegmenterTrainConfig:
    """The shipped recipe for ``dataset``: the synthetic one, or CamVid's (1x = 90x120 crops at scales up to
    4x, a wider network for real photos), with ``changes`` applied."""
    if dataset not in SEGMENTER_DATASETS:
        raise ValueError(f"no segmenter recipe for {dataset!r}: choose one of {', '.join(SEGMENTER_DATASETS)}")
    cfg = SegmenterTrainConfig(dataset=dataset, data=data)
    if dataset == "camvid":
        cfg = replace(cfg, steps=4000, crops=2400, crop_size=(90, 120), max_scale=4.0,
                      net=SegmenterConfig(widths=(32, 64, 128), dilations=(1, 2, 4), decoder_width=64))
    return replace(cfg, **changes)


def label_ids(dataset: str) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """The classes a segmenter of ``dataset`` predicts (void / dontcare is not one of them)."""
    ls = get_label_set(dataset)
    return ls.ids, ls.names


def _random_crop_window(size: tuple[int, int], crop: tuple[int, int], scale: float,
                        gen: torch.Generator) -> tuple[float, float, float, float]:
    """A crop-sized window with the pixel spacing of the whole image rendered at ``scale``."""
    full_h, full_w = max(crop[0], round(size[0] * scale)), max(crop[1], round(size[1] * scale))
    top = int(torch.randint(0, full_h - crop[0] + 1, (1,), generator=gen))
    left = int(torch.randint(0, full_w - crop[1] + 1, (1,), generator=gen))
    to_coord = lambda i, n: -1 + 2 * i / (n - 1)  # noqa: E731  pixel index -> coordinate
    return (to_coord(left, full_w), to_coord(top, full_h),
            to_coord(left + crop[1] - 1, full_w), to_coord(top + crop[0] - 1, full_h))


def _draw_scale(cfg: SegmenterTrainConfig, gen: torch.Generator) -> float:
    """1 for a share ``full_image_fraction`` of the crops, else log-uniform in [1, max_scale]."""
    if float(torch.rand(1, generator=gen)) < cfg.full_image_fraction:
        return 1.0
    return math.exp(float(torch.rand(1, generator=gen)) * math.log(cfg.max_scale))


def _synthetic_crop(cfg: SegmenterTrainConfig, ds: SyntheticStreets, i: int, gen: torch.Generator) -> dict:
    window = _random_crop_window(ds.size, cfg.crop_size, _draw_scale(cfg, gen), gen)
    return ds.render(i, size=cfg.crop_size, window=window)


def _camvid_crop(cfg: SegmenterTrainConfig, ds: CamVid, i: int, gen: torch.Generator) -> dict:
    """A 1x-sized crop of a train photo area-resized to a random scale (labels nearest from the native map)."""
    frame = ds.native(i % len(ds))
    scale = _draw_scale(cfg, gen)
    h, w = cfg.crop_size
    size = (max(h, round(h * scale)), max(w, round(w * scale)))
    image = F.interpolate(frame["image"][None], size=size, mode="area")[0]  # (3, sh, sw)
    label = F.interpolate(frame["label"][None, None].float(), size=size, mode="nearest")[0, 0].long()
    top = int(torch.randint(0, size[0] - h + 1, (1,), generator=gen))
    left = int(torch.randint(0, size[1] - w + 1, (1,), generator=gen))
    return {"image": image[:, top:top + h, left:left + w], "label": label[top:top + h, left:left + w]}


def crop_pool(cfg: SegmenterTrainConfig, model_classes: SmallSegmenter, progress: bool = True):
    """Pre-render ``cfg.crops`` training crops: images (N, 3, h, w) uint8, classes (N, h, w) uint8."""
    gen = torch.Generator().manual_seed(cfg.seed)
    if cfg.dataset == "camvid":
        ds, make = CamVid(cfg.data or "", "train", preset("camvid").data), _camvid_crop
    else:
        ds, make = SyntheticStreets(size=(64, 128), length=cfg.crops, seed=cfg.seed, split="train"), _synthetic_crop
    images = torch.empty(cfg.crops, 3, *cfg.crop_size, dtype=torch.uint8)
    classes = torch.empty(cfg.crops, *cfg.crop_size, dtype=torch.uint8)
    for i in tqdm(range(cfg.crops), desc="render crops", disable=not progress):
        item = make(cfg, ds, i, gen)
        images[i] = ((item["image"] + 1) * 127.5).round().clamp(0, 255).byte()
        classes[i] = model_classes.class_index(item["label"]).byte()
    return images, classes


def _class_weights(classes: torch.Tensor, num_classes: int) -> torch.Tensor:
    counts = torch.bincount(classes[classes != IGNORE].long().flatten(), minlength=num_classes).double()
    weights = (counts.clamp(min=1) / counts.sum()).rsqrt()
    return (weights / weights.mean()).float()  # (K,)


def train_segmenter(cfg: SegmenterTrainConfig, progress: bool = True) -> SmallSegmenter:
    """Train a :class:`SmallSegmenter` on ground-truth photos of ``cfg.dataset`` (CPU-friendly)."""
    torch.manual_seed(cfg.seed)
    ids, names = label_ids(cfg.dataset)
    model = SmallSegmenter(cfg.net, ids, names)
    images, classes = crop_pool(cfg, model, progress)
    loss_weights = _class_weights(classes, len(ids))
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


def held_out_frames(dataset: str, count: int, scale: float, data: str | None = None, seed: int = 0):
    """The first ``count`` held-out (image (3, H, W), label (H, W)) pairs at ``scale``: the synthetic test
    split rendered at that scale, or CamVid val photos at 1x, 2x or 4x."""
    if dataset == "camvid":
        ds = CamVid(data or "", "val", preset("camvid").data)
        for i in range(min(count, len(ds))):
            frame = ds.at_scale(i, int(scale))
            yield frame["image"], frame["label"]
        return
    ds = SyntheticStreets(size=(64, 128), length=count, seed=seed, split="test")
    size = (round(64 * scale), round(128 * scale))
    for i in range(count):
        item = ds.render(i, size=size)
        yield item["image"], item["label"]


@torch.no_grad()
def score_on_ground_truth(model, count: int, scales=None, seed: int = 0, noise: bool = False,
                          dataset: str = "synthetic", data: str | None = None) -> dict[float, dict]:
    """mIoU / pixel accuracy of ``model`` on ``count`` held-out photos of ``dataset`` at each scale.

    ``noise=True`` replaces the photos by uniform noise (the floor a metric must beat).
    """
    gen = torch.Generator().manual_seed(seed)
    out = {}
    for scale in scales or EVAL_SCALES[dataset]:
        score, images = SegmentationScore(len(model.label_ids)), 0
        for image, label in held_out_frames(dataset, count, scale, data, seed):
            if noise:
                image = torch.rand(image.shape, generator=gen) * 2 - 1
            score.update(model.predict(image[None]), model.class_index(label)[None])
            images += 1
        out[scale] = {"miou": score.miou(), "pixel_accuracy": score.pixel_accuracy(), "images": images}
    return out
