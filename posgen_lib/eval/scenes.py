"""Held-out scenes to score generators on: the synthetic test split at any scale, CamVid val at 1x, 2x and 4x
(its native photos are real 4x ground truth), or another real val split at 1x."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..data.build import build_dataset
from ..data.synthetic import SyntheticStreets
from ..grid import scaled_size


@dataclass
class Scenes:
    """Held-out examples at one scale: label/instance (N, H, W), image (N, 3, H, W) in [-1, 1]."""

    label: torch.Tensor
    instance: torch.Tensor
    image: torch.Tensor


def synthetic_scenes(cfg, count: int, scale: float) -> Scenes:
    """The first ``count`` test-split synthetic scenes rendered at ``scale`` x the training size."""
    h, w = cfg.model.image_size
    ds = SyntheticStreets(size=(h, w), length=count, seed=cfg.data.synthetic_seed, split="test")
    items = [ds.render(i, size=scaled_size((h, w), scale)) for i in range(count)]
    return Scenes(*(torch.stack([it[k] for it in items]) for k in ("label", "instance", "image")))


def camvid_scenes(cfg, count: int, scale: float) -> Scenes:
    """The first ``count`` CamVid val frames at ``scale`` x 1x (1, 2 or 4: area-averaged photos, label maps
    by the thin-class rule; 4x is the native photo)."""
    if scale != int(scale):
        raise ValueError(f"CamVid has ground truth at 1x, 2x and 4x only, not {scale:g}x")
    ds = build_dataset(cfg, "val")
    items = [ds.at_scale(i, int(scale)) for i in range(min(count, len(ds)))]
    return Scenes(*(torch.stack([it[k] for it in items]) for k in ("label", "instance", "image")))


def enlarged(scenes: Scenes, factor: int) -> Scenes:
    """``scenes`` ``factor`` times larger for a picture beyond the ground truth (CamVid at 8x): labels and
    instances by nearest neighbour (what a label map at that resolution would be), the photo bicubic. The
    enlarged photo is a reference to look at, not ground truth: nothing is scored against it."""
    if factor < 2 or factor != int(factor):
        raise ValueError(f"enlarge scenes by an integer factor >= 2, not {factor}")
    nearest = lambda t: t.repeat_interleave(int(factor), -2).repeat_interleave(int(factor), -1)  # noqa: E731
    photo = F.interpolate(scenes.image.float(), scale_factor=int(factor), mode="bicubic", align_corners=False)
    return Scenes(nearest(scenes.label), nearest(scenes.instance), photo.clamp(-1, 1))


SCALED_SCENES = {"synthetic": synthetic_scenes, "camvid": camvid_scenes}  # datasets with ground truth above 1x


def has_scaled_ground_truth(cfg) -> bool:
    """Whether held-out scenes of ``cfg.data.dataset`` exist above 1x (synthetic, CamVid)."""
    return cfg.data.dataset in SCALED_SCENES


def held_out_scenes_at(cfg, count: int):
    """``scenes_at(scale)`` for :func:`~posgen_lib.eval.evaluate.evaluate`, each scale made once: the synthetic
    test scenes at any scale, CamVid val at 1x/2x/4x, or another real val split at 1x."""
    cache: dict[float, Scenes] = {}
    make = SCALED_SCENES.get(cfg.data.dataset)

    def scenes_at(scale: float) -> Scenes:
        if scale not in cache:
            if make is not None:
                cache[scale] = make(cfg, count, scale)
            elif scale == 1:
                cache[scale] = dataset_scenes(cfg, count)
            else:
                raise ValueError(f"{cfg.data.dataset} has ground truth only at its own resolution: use scale 1")
        return cache[scale]

    return scenes_at


def dataset_scenes(cfg, count: int) -> Scenes:
    """The first ``count`` validation examples of a real dataset (at its training size)."""
    ds = build_dataset(cfg, "val")
    if len(ds) == 0:
        raise ValueError(f"the {cfg.data.dataset} validation split is empty")
    items = [ds[i] for i in range(min(count, len(ds)))]
    return Scenes(*(torch.stack([it[k] for it in items]) for k in ("label", "instance", "image")))
