"""Label sets: which ids exist, what they are called, and their colours.

Every label set here uses *id-as-channel*: label id ``k`` becomes one-hot
channel ``k`` (as SPADE does), so ``num_classes`` is SPADE's ``label_nc``.

* ``cityscapes``: the 34 Cityscapes label ids 0..33 (``*_labelIds.png``) with
  names and colours from ``cityscapesscripts``; ``num_classes`` is 35 as in
  SPADE's Cityscapes option set.
* ``synthetic``: the subset of Cityscapes ids that the procedural street scenes
  draw. It keeps the Cityscapes id space (35 channels), so a model trained on
  synthetic scenes accepts Cityscapes label maps and vice versa.
* ``coco_stuff``: the 182 COCO-Stuff ids 0..181 (see :mod:`.coco_names`);
  "unlabeled" (255) is the dontcare channel 182.
* ``camvid``: the 11 classes of the SegNet tutorial's CamVid (Brostow et al. 2008/2009),
  ids 0..10 with the SegNet colours; "void" (id 11) is the dontcare channel 11.
  What void does everywhere: the generator sees it as a class of its own (its
  own input channel, so it paints *something* there, as the photo has something
  there); every loss treats its pixels like any other (the photo is real there);
  segmentation metrics ignore it (no class to score).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from .coco_names import COCO_STUFF_NAMES, COCO_THING_IDS, coco_stuff_colors


@dataclass(frozen=True)
class LabelSet:
    name: str
    num_classes: int  # one-hot channels for labels (SPADE's label_nc); channel == id
    ids: tuple[int, ...]  # the ids that carry a class
    names: tuple[str, ...]  # one per id
    colors: tuple[tuple[int, int, int], ...]  # one per id
    instance_ids: tuple[int, ...] = ()  # classes with instance ids (cars, people ...)
    dontcare_id: int | None = None  # mapped to channel num_classes when present
    dontcare_name: str = "unlabeled"
    # Classes a few pixels wide that keep their place when a label map of this set is brought down to a
    # lower resolution (data.transforms.reduce_labels); empty: the set has no such rule.
    thin_ids: tuple[int, ...] = ()

    @property
    def semantic_channels(self) -> int:
        """Label channels including the dontcare channel (without the instance edge)."""
        return self.num_classes + int(self.dontcare_id is not None)

    def name_of(self, label_id: int) -> str:
        if label_id == self.dontcare_id:
            return self.dontcare_name
        return self.names[self.ids.index(label_id)]

    def id_of(self, name: str) -> int:
        return self.ids[self.names.index(name)]

    def palette(self) -> np.ndarray:
        """(256, 3) uint8 lookup table id -> RGB (unknown ids black)."""
        lut = np.zeros((256, 3), np.uint8)
        for i, c in zip(self.ids, self.colors):
            lut[i] = c
        return lut

    def is_valid(self, values: torch.Tensor) -> torch.Tensor:
        """Boolean mask of label values that map to a channel of this set."""
        ok = (values >= 0) & (values < self.num_classes)
        if self.dontcare_id is not None:
            ok |= values == self.dontcare_id
        return ok


@lru_cache(maxsize=None)
def _cityscapes() -> LabelSet:
    from cityscapesscripts.helpers.labels import labels

    table = [lab for lab in labels if lab.id >= 0]
    return LabelSet(
        name="cityscapes", num_classes=35,
        ids=tuple(lab.id for lab in table), names=tuple(lab.name for lab in table),
        colors=tuple(tuple(lab.color) for lab in table),
        instance_ids=tuple(lab.id for lab in table if lab.hasInstances))


# Cityscapes classes drawn by the procedural street scenes (data/synthetic.py).
SYNTHETIC_CLASSES = ("road", "sidewalk", "building", "fence", "pole", "traffic light",
                     "traffic sign", "vegetation", "terrain", "sky", "person", "car")


@lru_cache(maxsize=None)
def _synthetic() -> LabelSet:
    city = _cityscapes()
    ids = tuple(city.id_of(n) for n in SYNTHETIC_CLASSES)
    return LabelSet(
        name="synthetic", num_classes=city.num_classes, ids=ids, names=SYNTHETIC_CLASSES,
        colors=tuple(city.colors[city.ids.index(i)] for i in ids),
        instance_ids=tuple(i for i in ids if i in city.instance_ids))


@lru_cache(maxsize=None)
def _coco_stuff() -> LabelSet:

    return LabelSet(
        name="coco_stuff", num_classes=182, ids=tuple(range(182)), names=COCO_STUFF_NAMES,
        colors=coco_stuff_colors(), instance_ids=COCO_THING_IDS, dontcare_id=255)


# CamVid, 11-class version of the SegNet tutorial: names and colours as it distributes them.
CAMVID_CLASSES = ("sky", "building", "pole", "road", "pavement", "tree", "sign/symbol", "fence", "car",
                  "pedestrian", "bicyclist")
CAMVID_COLORS = ((128, 128, 128), (128, 0, 0), (192, 192, 128), (128, 64, 128), (60, 40, 222), (128, 128, 0),
                 (192, 128, 128), (64, 64, 128), (64, 0, 128), (64, 64, 0), (0, 128, 192))
CAMVID_VOID = 11
CAMVID_THIN = (2, 6, 7, 9, 10)  # pole, sign/symbol, fence, pedestrian, bicyclist


@lru_cache(maxsize=None)
def _camvid() -> LabelSet:
    return LabelSet(name="camvid", num_classes=len(CAMVID_CLASSES), ids=tuple(range(len(CAMVID_CLASSES))),
                    names=CAMVID_CLASSES, colors=CAMVID_COLORS, dontcare_id=CAMVID_VOID, dontcare_name="void",
                    thin_ids=CAMVID_THIN)


_LABEL_SETS = {"cityscapes": _cityscapes, "synthetic": _synthetic, "coco_stuff": _coco_stuff, "camvid": _camvid}


def get_label_set(name: str | LabelSet) -> LabelSet:
    """The :class:`LabelSet` called ``name`` (``cityscapes``, ``synthetic``, ``coco_stuff``, ``camvid``)."""
    if isinstance(name, LabelSet):
        return name
    if name not in _LABEL_SETS:
        raise ValueError(f"unknown label set {name!r}: choose one of {', '.join(_LABEL_SETS)}")
    return _LABEL_SETS[name]()


def colorize(label, label_set: str | LabelSet = "synthetic") -> np.ndarray:
    """Label ids (H, W) -> RGB uint8 (H, W, 3) with the set's colours."""
    lut = get_label_set(label_set).palette()
    arr = label.detach().cpu().numpy() if isinstance(label, torch.Tensor) else np.asarray(label)
    return lut[np.clip(arr, 0, 255).astype(np.int64)]
