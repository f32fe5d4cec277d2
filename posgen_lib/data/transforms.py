"""From label and instance maps to the generator's input semantics.

``to_semantics`` builds SPADE's input (Park et al. 2019, Sec. 3, "semantic
mask m"): a one-hot map with one channel per label id, an optional dontcare
channel, and an optional instance-edge channel (pix2pixHD, Wang et al. 2018,
Sec. 3.3: a pixel is an edge when its instance id differs from one of its four
neighbours; both pixels of a differing pair are marked).
"""
from __future__ import annotations

import torch

from .labels import LabelSet, get_label_set


def _as_batch(t: torch.Tensor, what: str) -> torch.Tensor:
    """(H, W), (B, H, W) or (B, 1, H, W) -> (B, 1, H, W) int64."""
    if t.dim() == 2:
        t = t[None, None]
    elif t.dim() == 3:
        t = t[:, None]
    elif t.dim() != 4 or t.shape[1] != 1:
        raise ValueError(f"{what} must be (H, W), (B, H, W) or (B, 1, H, W), got {tuple(t.shape)}")
    if t.is_floating_point():
        raise TypeError(f"{what} must hold integer ids, got {t.dtype}")
    return t.long()


def instance_edges(instance: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W) instance ids -> (B, 1, H, W) float, 1 where a 4-neighbour differs."""
    edge = torch.zeros_like(instance, dtype=torch.bool)
    dx = instance[..., :, 1:] != instance[..., :, :-1]  # (B, 1, H, W-1)
    dy = instance[..., 1:, :] != instance[..., :-1, :]  # (B, 1, H-1, W)
    edge[..., :, 1:] |= dx
    edge[..., :, :-1] |= dx
    edge[..., 1:, :] |= dy
    edge[..., :-1, :] |= dy
    return edge.float()


def to_semantics(label: torch.Tensor, instance: torch.Tensor | None = None,
                 label_set: str | LabelSet = "synthetic", use_instance: bool = True) -> torch.Tensor:
    """Label ids (+ instance ids) -> float semantics (B, num_classes [+1 dontcare] [+1 edge], H, W).

    ``label`` and ``instance`` are (H, W), (B, H, W) or (B, 1, H, W) integer
    maps. Without an ``instance`` map the edge channel is zero.
    """
    ls = get_label_set(label_set)
    label = _as_batch(label, "label")
    valid = ls.is_valid(label)
    if not bool(valid.all()):
        bad = torch.unique(label[~valid]).tolist()
        allowed = f"0..{ls.num_classes - 1}" + (f" or {ls.dontcare_id}" if ls.dontcare_id is not None else "")
        raise ValueError(f"label values {bad[:10]} are not in the {ls.name!r} label set (ids {allowed}); "
                         "check that the map holds label ids, not colours or train ids")
    if ls.dontcare_id is not None:
        label = torch.where(label == ls.dontcare_id, torch.full_like(label, ls.num_classes), label)
    b, _, h, w = label.shape
    onehot = torch.zeros(b, ls.semantic_channels, h, w, device=label.device)
    onehot.scatter_(1, label, 1.0)  # (B, label channels, H, W)
    if not use_instance:
        return onehot
    if instance is None:
        edges = torch.zeros(b, 1, h, w, device=label.device)
    else:
        instance = _as_batch(instance, "instance")
        if instance.shape != label.shape:
            raise ValueError(f"instance map {tuple(instance.shape[-2:])} and label map "
                             f"{tuple(label.shape[-2:])} differ in size")
        edges = instance_edges(instance)
    return torch.cat([onehot, edges], dim=1)  # (B, C + 1, H, W)
