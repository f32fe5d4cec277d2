"""What the real-dataset loaders share: a folder of (photo, label ids, instance ids) examples.

Subclasses (:class:`~posgen_lib.data.Cityscapes`, :class:`~posgen_lib.data.CocoStuff`)
say how to find the examples of a split in their layout (:meth:`find_examples`),
which label set the ids belong to, and what to tell a user who points them at
colour visualisations instead of label-id PNGs.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import torch
from torch.utils.data import Dataset

from ..config import DataConfig, preset
from .transforms import Example, check_preprocess, folder_error, load_example


def check_root(root: Path, dataset: str) -> None:
    """FileNotFoundError pointing to data/README.md when the dataset folder is missing."""
    if not root.is_dir():
        raise FileNotFoundError(f"{dataset} folder {root} does not exist; get the dataset and "
                                f"build it with `posgen data prepare {dataset} --src DIR --out "
                                f"{root}` as data/README.md describes")


class ExampleFolder(Dataset):
    """Label/instance/photo triples of one split with SPADE's preprocessing.

    Items: ``label`` (H, W) int64 label ids, ``instance`` (H, W) int64,
    ``image`` (3, H, W) float32 in [-1, 1], ``path`` (the photo). ``cfg``
    defaults to the data config of the preset named like the dataset;
    ``transform=False`` returns the files at their own size. Only the
    ``train`` split is flipped and randomly cropped. ``generator`` makes the
    random draws reproducible in one process (leave it None with DataLoader
    workers). ``high_res`` > 0 adds the same crop of the original files at up
    to that many times the size (``image_hr``, ``label_hr``, ``instance_hr``),
    for any-resolution training. Every problem in the folder is reported at
    once, with its file.
    """

    label_set: str  # also the preset's and `posgen data prepare`'s name for the dataset
    color_map_hint: str  # appended to the error for a colour (RGB) label PNG
    # find_examples(root, split) -> (examples, problems): the layout's pairing of files
    find_examples: Callable[[Path, str], tuple[list[Example], list[str]]]

    def __init__(self, root: str | Path, split: str, cfg: DataConfig | None = None,
                 transform: bool = True, generator: torch.Generator | None = None, high_res: float = 0.0):
        self.root, self.split, self.high_res = Path(root), split, high_res
        self.cfg = cfg if cfg is not None else preset(self.label_set).data
        self.transform, self.generator = transform, generator
        if transform:
            check_preprocess(self.cfg)
        check_root(self.root, self.label_set)
        self.examples, problems = self.find_examples(self.root, split)
        if problems:
            raise folder_error(problems, self.root, self.label_set)

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, index: int) -> dict:
        return load_example(self.examples[index], self.label_set,
                            self.cfg if self.transform else None, train=self.split == "train",
                            generator=self.generator, hint=self.color_map_hint, high_res=self.high_res)
