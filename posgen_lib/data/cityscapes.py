"""Cityscapes (Cordts et al., CVPR 2016) in its official folder layout.

    root/leftImg8bit/{split}/{city}/{name}_leftImg8bit.png      photos
    root/gtFine/{split}/{city}/{name}_gtFine_labelIds.png       label ids 0..33
    root/gtFine/{split}/{city}/{name}_gtFine_instanceIds.png    instance ids

``posgen data prepare cityscapes`` builds this layout from the two official
archives; data/README.md says where to get them.
"""
from __future__ import annotations

from pathlib import Path

import torch

from ..config import DataConfig
from .folder import ExampleFolder
from .transforms import Example

IMAGE_SUFFIX = "_leftImg8bit.png"
LABEL_SUFFIX = "_gtFine_labelIds.png"
INSTANCE_SUFFIX = "_gtFine_instanceIds.png"
COLOR_MAP_HINT = f"; use the *{LABEL_SUFFIX} files (label ids), not *_gtFine_color.png"


def _by_key(folder: Path, suffix: str) -> dict[str, Path]:
    """``{city}/{name}`` -> path for the files ``folder/{city}/{name}{suffix}``."""
    return {p.relative_to(folder).as_posix()[:-len(suffix)]: p for p in folder.glob(f"*/*{suffix}")}


def find_examples(root: Path, split: str) -> tuple[list[Example], list[str]]:
    """The examples of one split, and every problem met while pairing the files."""
    image_dir, gt_dir = root / "leftImg8bit" / split, root / "gtFine" / split
    problems = [f"{d}: missing folder for split {split!r}" for d in (image_dir, gt_dir)
                if not d.is_dir()]
    if problems:  # pairing the files of the other folder would only repeat this
        return [], problems
    images, labels = _by_key(image_dir, IMAGE_SUFFIX), _by_key(gt_dir, LABEL_SUFFIX)
    examples = []
    for key in sorted(images.keys() | labels.keys()):
        image, label = image_dir / f"{key}{IMAGE_SUFFIX}", gt_dir / f"{key}{LABEL_SUFFIX}"
        instance = gt_dir / f"{key}{INSTANCE_SUFFIX}"
        if key not in labels:
            problems.append(f"{image}: image without label map (expected {label})")
        elif key not in images:
            problems.append(f"{label}: label map without image (expected {image})")
        elif not instance.is_file():
            problems.append(f"{label}: no instance map next to it (expected {instance})")
        else:
            examples.append(Example(image, label, instance))
    if not images and not labels:
        problems.append(f"{image_dir}: split {split!r} is empty (no *{IMAGE_SUFFIX} files "
                        "in city folders)")
    return examples, problems


class Cityscapes(ExampleFolder):
    """Cityscapes label/instance/photo triples with SPADE's preprocessing (see :class:`ExampleFolder`)."""

    label_set = "cityscapes"
    color_map_hint = COLOR_MAP_HINT
    find_examples = staticmethod(find_examples)

    def __init__(self, root: str | Path, split: str = "train", cfg: DataConfig | None = None,
                 transform: bool = True, generator: torch.Generator | None = None, high_res: float = 0.0):
        super().__init__(root, split, cfg, transform, generator, high_res)
