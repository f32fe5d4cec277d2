"""Held-out scenes to score generators on: the synthetic test split at any scale, or a real val split."""
from __future__ import annotations

from dataclasses import dataclass

import torch

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


def synthetic_scenes_at(cfg, count: int):
    """``scenes_at(scale)`` for :func:`evaluate`: :func:`synthetic_scenes`, each scale rendered once."""
    cache: dict[float, Scenes] = {}

    def scenes_at(scale: float) -> Scenes:
        if scale not in cache:
            cache[scale] = synthetic_scenes(cfg, count, scale)
        return cache[scale]

    return scenes_at


def dataset_scenes(cfg, count: int) -> Scenes:
    """The first ``count`` validation examples of a real dataset (at its training size)."""
    ds = build_dataset(cfg, "val")
    if len(ds) == 0:
        raise ValueError(f"the {cfg.data.dataset} validation split is empty")
    items = [ds[i] for i in range(min(count, len(ds)))]
    return Scenes(*(torch.stack([it[k] for it in items]) for k in ("label", "instance", "image")))
