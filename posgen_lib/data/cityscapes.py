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
from torch.utils.data import Dataset

from ..config import DataConfig, preset
from .transforms import Example, check_preprocess, folder_error, load_example

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


def check_root(root: Path, dataset: str) -> None:
    """FileNotFoundError pointing to data/README.md when the dataset folder is missing."""
    if not root.is_dir():
        raise FileNotFoundError(f"{dataset} folder {root} does not exist; get the dataset and "
                                f"build it with `posgen data prepare {dataset} --src DIR --out "
                                f"{root}` as data/README.md describes")


class Cityscapes(Dataset):
    """Cityscapes label/instance/photo triples with SPADE's preprocessing.

    Items: ``label`` (H, W) int64 label ids, ``instance`` (H, W) int64,
    ``image`` (3, H, W) float32 in [-1, 1], ``path`` (the photo). ``cfg``
    defaults to the ``cityscapes`` preset's data config; ``transform=False``
    returns the files at their own size. Only the ``train`` split is flipped
    and randomly cropped. ``generator`` makes the random draws reproducible
    in one process (leave it None with DataLoader workers).
    """

    label_set = "cityscapes"

    def __init__(self, root: str | Path, split: str = "train", cfg: DataConfig | None = None,
                 transform: bool = True, generator: torch.Generator | None = None):
        self.root, self.split = Path(root), split
        self.cfg = cfg if cfg is not None else preset("cityscapes").data
        self.transform, self.generator = transform, generator
        if transform:
            check_preprocess(self.cfg)
        check_root(self.root, "cityscapes")
        self.examples, problems = find_examples(self.root, split)
        if problems:
            raise folder_error(problems, self.root, "cityscapes")

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, index: int) -> dict:
        return load_example(self.examples[index], self.label_set,
                            self.cfg if self.transform else None, train=self.split == "train",
                            generator=self.generator, hint=COLOR_MAP_HINT)
