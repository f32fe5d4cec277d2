"""Ground truth above the labels' resolution, for any-resolution training: patches at a random scale.

Any-resolution training (Chai et al., "Any-resolution Training for
High-resolution Image Synthesis", ECCV 2022, Sec. 3) supervises a generator at
many scales without ever rendering a whole image at the largest one: each
training image draws a scale ``s`` in [1, s_max], and a fixed number of output
pixels at that scale are compared with the ground truth there, so the cost of a
step does not grow with ``s``. Here the pixels come as ``count`` patches of
``patch`` x ``patch`` output pixels, a fraction of them centred on class
boundaries of the 1x labels (where upscaling is hard; the rest of an image is
mostly flat class interiors).

A patch is a window of the full ``s``-times image: its pixels are exactly the
pixels a full render at that scale would have there (the coordinate convention
of docs/architecture.md), so the patch's window and size are all a generator
needs to render the same pixels. The label and instance maps come with a
one-pixel halo, so that instance edges at the patch border are what they are in
the full map (the halo is cut off after :func:`~.transforms.to_semantics`).

Sources of ground truth:

* :class:`~.synthetic.SyntheticStreets` renders the same scene at any scale
  (exact ground truth, any ``s``);
* a real dataset item with ``image_hr`` / ``label_hr`` / ``instance_hr`` (the
  original photo and maps, warped by the same preprocessing as the input, at
  ``k`` times its size; Cityscapes: 4x) is resampled to ``s`` <= ``k`` (area
  averaging for the photo, nearest for the maps), see :func:`resample_hr`.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from ..grid import coordinate_grid, pixel_window, sample_at, scaled_index, scaled_size, with_halo

__all__ = ["ScaledPatches", "boundary_pixels", "patch_coords", "patch_windows", "resample_hr", "scaled_size",
           "with_halo"]


def boundary_pixels(label: torch.Tensor) -> torch.Tensor:
    """(N, 2) row/column indices of the pixels of an (H, W) label map with a 4-neighbour of another class."""
    edge = torch.zeros_like(label, dtype=torch.bool)
    dx = label[:, 1:] != label[:, :-1]
    dy = label[1:, :] != label[:-1, :]
    edge[:, 1:] |= dx
    edge[:, :-1] |= dx
    edge[1:, :] |= dy
    edge[:-1, :] |= dy
    return edge.nonzero()


def patch_windows(label: torch.Tensor, scale: float, patch: int, count: int, boundary: float,
                  rng: np.random.Generator) -> torch.Tensor:
    """(count, 4) windows ``(x0, y0, x1, y1)`` of ``patch`` x ``patch`` pixels of the ``scale``-times image.

    The first ``round(boundary * count)`` are centred (up to the image border) on
    random class-boundary pixels of the 1x ``label`` (H, W); the rest lie anywhere.
    """
    h, w = label.shape
    height, width = scaled_size((h, w), scale)
    if patch > min(height, width):
        raise ValueError(f"patch {patch} is larger than the image at scale {scale:g} ({height}x{width})")
    edges = boundary_pixels(label)
    windows = []
    for k in range(count):
        if k < round(boundary * count) and len(edges):
            i, j = edges[rng.integers(len(edges))].tolist()
            top = scaled_index(i, h, height) - patch // 2  # the 1x pixel's centre at this scale
            left = scaled_index(j, w, width) - patch // 2
        else:
            top, left = int(rng.integers(height - patch + 1)), int(rng.integers(width - patch + 1))
        top, left = min(max(top, 0), height - patch), min(max(left, 0), width - patch)
        windows.append(pixel_window((height, width), top, left, (patch, patch)))
    return torch.tensor(windows, dtype=torch.float32)


def patch_coords(windows: torch.Tensor, patch: int) -> torch.Tensor:
    """Pixel centres of each window: (K, 4) -> (K, 2, patch, patch)."""
    return torch.stack([coordinate_grid((patch, patch), tuple(w.tolist()), device=windows.device)
                        for w in windows])


def resample_hr(item: dict, scale: float, windows: torch.Tensor, patch: int) -> dict:
    """Patches of a real item's high-resolution ``image_hr``/``label_hr``/``instance_hr`` (at ``k`` times the
    input size) at ``scale`` <= k: image (K, 3, P, P), label and instance (K, P+2, P+2) with a halo."""
    coords = patch_coords(windows, patch + 2)  # (K, 2, P+2, P+2): every window with its halo
    h, w = item["label"].shape
    height, width = scaled_size((h, w), scale)
    image = F.interpolate(item["image_hr"][None], size=(height, width), mode="area")  # (1, 3, sh, sw)
    image = sample_at(image.expand(len(windows), -1, -1, -1), coords)[:, :, 1:-1, 1:-1]
    maps = torch.stack([item["label_hr"], item["instance_hr"]])[None].double()  # exact ids through grid_sample
    maps = sample_at(maps.expand(len(windows), -1, -1, -1), coords.double(), mode="nearest").round().long()
    return dict(patch_image=image, patch_label=maps[:, 0], patch_instance=maps[:, 1])


class ScaledPatches(Dataset):
    """A dataset whose items also carry ``count`` ground-truth patches at a random scale.

    Added keys: ``patch_scale`` () float, ``patch_window`` (K, 4), ``patch_image``
    (K, 3, P, P), ``patch_label`` and ``patch_instance`` (K, P+2, P+2). The draws
    are fixed per (seed, index), so a resumed run sees the same patches.
    """

    def __init__(self, base: Dataset, scale_max: float = 4.0, patch: int = 32, count: int = 4,
                 boundary: float = 0.5, seed: int = 0):
        self.base, self.scale_max, self.patch, self.count, self.boundary, self.seed = (
            base, scale_max, patch, count, boundary, seed)

    def __len__(self) -> int:
        return len(self.base)

    def max_scale(self, item: dict) -> float:
        """The largest scale with ground truth: ``scale_max``, or what a real item's original allows."""
        if "image_hr" not in item:
            return self.scale_max
        return min(self.scale_max, item["image_hr"].shape[-2] / item["label"].shape[-2])

    def __getitem__(self, index: int) -> dict:
        item = dict(self.base[index])
        rng = np.random.default_rng([self.seed, 11, int(index)])
        scale = float(rng.uniform(1.0, self.max_scale(item)))
        windows = patch_windows(item["label"], scale, self.patch, self.count, self.boundary, rng)
        if "image_hr" in item:
            patches = resample_hr(item, scale, windows, self.patch)
        else:
            truth = [self.base.render(index, size=(self.patch + 2,) * 2, window=with_halo(w, self.patch))
                     for w in windows]
            patches = dict(patch_image=torch.stack([t["image"][:, 1:-1, 1:-1] for t in truth]),
                           patch_label=torch.stack([t["label"] for t in truth]),
                           patch_instance=torch.stack([t["instance"] for t in truth]))
        for key in ("image_hr", "label_hr", "instance_hr"):
            item.pop(key, None)  # the patches carry what training needs; keep batches small
        return {**item, **patches, "patch_scale": torch.tensor(scale), "patch_window": windows}
