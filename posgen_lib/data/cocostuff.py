"""COCO-Stuff (Caesar et al., CVPR 2018) in the folder layout SPADE uses.

    root/{split}_img/{name}.jpg      COCO 2017 photos
    root/{split}_label/{name}.png    label ids 0..181, 255 = unlabeled
    root/{split}_inst/{name}.png     instance ids (optional: zeros when the folder is absent)

``posgen data prepare coco_stuff`` builds this layout from the COCO 2017
images, ``stuffthingmaps_trainval2017.zip`` and the instance annotations;
data/README.md says where to get them.
"""
from __future__ import annotations

from pathlib import Path

import torch

from ..config import DataConfig
from .folder import ExampleFolder
from .transforms import Example

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
COLOR_MAP_HINT = ("; use the label-id PNGs of stuffthingmaps_trainval2017.zip, not a colour "
                  "visualisation")


def find_examples(root: Path, split: str) -> tuple[list[Example], list[str]]:
    """The examples of one split, and every problem met while pairing the files."""
    image_dir, label_dir, inst_dir = (root / f"{split}_{kind}" for kind in ("img", "label", "inst"))
    problems = [f"{d}: missing folder for split {split!r}" for d in (image_dir, label_dir)
                if not d.is_dir()]
    if problems:  # pairing the files of the other folder would only repeat this
        return [], problems
    images = {p.stem: p for p in sorted(image_dir.glob("*")) if p.suffix.lower() in IMAGE_SUFFIXES}
    labels = {p.stem: p for p in label_dir.glob("*.png")}
    has_instances = inst_dir.is_dir()
    examples = []
    for stem in sorted(images.keys() | labels.keys()):
        label, instance = label_dir / f"{stem}.png", inst_dir / f"{stem}.png"
        if stem not in labels:
            problems.append(f"{images[stem]}: image without label map (expected {label})")
        elif stem not in images:
            problems.append(f"{label}: label map without image (expected {image_dir / stem}.jpg)")
        elif has_instances and not instance.is_file():
            problems.append(f"{label}: no instance map (expected {instance}; the folder "
                            f"{inst_dir.name} exists, so every label needs one)")
        else:
            examples.append(Example(images[stem], label, instance if has_instances else None))
    if not images and not labels:
        problems.append(f"{image_dir}: split {split!r} is empty (no .jpg/.png images)")
    return examples, problems


class CocoStuff(ExampleFolder):
    """COCO-Stuff label/instance/photo triples with SPADE's preprocessing (see :class:`ExampleFolder`).

    ``label`` holds ids 0..181 or 255 (unlabeled; ``to_semantics`` maps it to
    the dontcare channel); ``instance`` is zeros without a ``{split}_inst`` folder.
    """

    label_set = "coco_stuff"
    color_map_hint = COLOR_MAP_HINT
    find_examples = staticmethod(find_examples)

    def __init__(self, root: str | Path, split: str = "val", cfg: DataConfig | None = None,
                 transform: bool = True, generator: torch.Generator | None = None, high_res: float = 0.0):
        super().__init__(root, split, cfg, transform, generator, high_res)
