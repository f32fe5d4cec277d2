"""Tiny fabricated Cityscapes, COCO-Stuff and CamVid folders, for tests, docs and notebook 04.

The real datasets need a registration and gigabytes of downloads; their
*layouts* need neither. :func:`fabricate_tree` writes a miniature copy of each
layout (32x64 files, 3 examples over ``train`` and ``val``) that the loaders
(:class:`~posgen_lib.data.Cityscapes`, :class:`~posgen_lib.data.CocoStuff`) and
``posgen data check`` accept as the real thing::

    cityscapes/leftImg8bit/{split}/{city}/{name}_leftImg8bit.png      photo (the label colours)
    cityscapes/gtFine/{split}/{city}/{name}_gtFine_labelIds.png       label ids
    cityscapes/gtFine/{split}/{city}/{name}_gtFine_instanceIds.png    instance ids
    cityscapes/gtFine/{split}/{city}/{name}_gtFine_color.png          colour map (ignored by the loader)

    coco_stuff/{split}_img/{name}.jpg      photo (flat grey)
    coco_stuff/{split}_label/{name}.png    label ids, with a corner of 255 (unlabeled)
    coco_stuff/{split}_inst/{name}.png     instance ids (the person is 1)

    camvid/{split}/{name}.png              photo (the label colours), 480x360 like the SegNet copy
    camvid/{split}annot/{name}.png         label ids 0..10, 11 = void (a pole one pixel wide)
    camvid/train.txt                       the SegNet tutorial's list, with its absolute paths

Scenes are deliberately left-right asymmetric, so a flipped example can be
told from the original. :func:`damage_tree` plants two typical problems.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from ..config import preset
from .labels import get_label_set

H, W = 32, 64  # every fabricated file is W x H = 64 x 32
ROAD, SKY, CAR, BUILDING = 7, 23, 26, 11  # Cityscapes label ids
COCO_PERSON, COCO_GRASS, COCO_SKY, COCO_UNLABELED = 0, 123, 156, 255  # COCO-Stuff ids
CITY_SPLITS = {"train": ["aachen_000000_000019", "bremen_000001_000019"],
               "val": ["frankfurt_000000_000294"]}
COCO_SPLITS = {"train": ["000000000009", "000000000025"], "val": ["000000000139"]}


def save_image(array: np.ndarray, path: Path, **kwargs) -> Path:
    """Write a uint8/uint16 array as an image file, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, **kwargs)
    return path


# --- Cityscapes ------------------------------------------------------------------

def city_scene(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(label (H, W) uint8, instance (H, W) uint16): sky, road, a building on the left, two cars.

    Instance ids follow Cityscapes: ``id * 1000 + k`` for cars, the label id elsewhere.
    """
    label = np.full((H, W), SKY, np.uint8)
    label[H // 2:] = ROAD
    label[4:H // 2, : 12 + seed] = BUILDING
    instance = label.astype(np.uint16)
    for k, x in enumerate((20 + seed, 40)):
        label[18:26, x:x + 10] = CAR
        instance[18:26, x:x + 10] = CAR * 1000 + k
    return label, instance


def city_photo(label: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8: the Cityscapes colour of every label, standing in for the photo."""
    return get_label_set("cityscapes").palette()[label]


def city_paths(root: Path, split: str, name: str) -> dict[str, Path]:
    """The four files of example ``name`` (``{city}_{seq}_{frame}``) in ``split``."""
    city = name.split("_")[0]
    gt = Path(root) / "gtFine" / split / city
    return {"image": Path(root) / "leftImg8bit" / split / city / f"{name}_leftImg8bit.png",
            "label": gt / f"{name}_gtFine_labelIds.png",
            "instance": gt / f"{name}_gtFine_instanceIds.png",
            "color": gt / f"{name}_gtFine_color.png"}


def make_cityscapes(root: Path, upscale: int = 1) -> Path:
    """Write the Cityscapes tree of :data:`CITY_SPLITS` under ``root``; returns ``root``.

    ``upscale=32`` writes the files at Cityscapes' native 2048x1024 (each 64x32
    scene pixel a 32x32 block), for the high-resolution targets of
    any-resolution training.
    """
    root = Path(root)
    for split, names in CITY_SPLITS.items():
        for seed, name in enumerate(names):
            label, instance = (a.repeat(upscale, 0).repeat(upscale, 1) for a in city_scene(seed))
            paths = city_paths(root, split, name)
            save_image(city_photo(label), paths["image"])
            save_image(label, paths["label"])
            save_image(instance, paths["instance"])
            save_image(city_photo(label), paths["color"])
    return root


# --- COCO-Stuff --------------------------------------------------------------------

def coco_scene(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(label, instance) uint8: sky over grass, one person (instance 1), an unlabeled corner."""
    label = np.full((H, W), COCO_SKY, np.uint8)
    label[H // 2:] = COCO_GRASS
    label[10:30, 8 + seed:16 + seed] = COCO_PERSON
    label[0:2, 0:4] = COCO_UNLABELED
    instance = (label == COCO_PERSON).astype(np.uint8)
    return label, instance


def coco_paths(root: Path, split: str, stem: str) -> dict[str, Path]:
    """The photo, label and instance files of example ``stem`` in ``split``."""
    root = Path(root)
    return {"image": root / f"{split}_img" / f"{stem}.jpg",
            "label": root / f"{split}_label" / f"{stem}.png",
            "instance": root / f"{split}_inst" / f"{stem}.png"}


def make_coco_stuff(root: Path, instances: bool = True) -> Path:
    """Write the COCO-Stuff tree of :data:`COCO_SPLITS` (without ``*_inst`` if not ``instances``)."""
    root = Path(root)
    for split, stems in COCO_SPLITS.items():
        for seed, stem in enumerate(stems):
            paths, (label, instance) = coco_paths(root, split, stem), coco_scene(seed)
            save_image(np.full((H, W, 3), 90 + 40 * seed, np.uint8), paths["image"], quality=95)
            save_image(label, paths["label"])
            if instances:
                save_image(instance, paths["instance"])
    return root


# --- CamVid ------------------------------------------------------------------------

CAMVID_SPLITS = {"train": ["0001TP_006690", "0006R0_f00930", "0016E5_00390", "0016E5_00420"],  # a batch of 4
                 "val": ["0016E5_07959", "0016E5_07961"]}  # two: a Frechet distance needs two images
CAMVID_SIZE = (360, 480)  # (H, W): the SegNet copy's size, 4x the camvid preset's 90x120
CV_SKY, CV_BUILDING, CV_POLE, CV_ROAD, CV_CAR, CV_PEDESTRIAN, CV_VOID = 0, 1, 2, 3, 8, 9, 11


def camvid_scene(seed: int) -> np.ndarray:
    """(H, W) uint8 label ids: sky, a building, road, a car, a pedestrian, a pole one pixel wide, a void corner."""
    h, w = CAMVID_SIZE
    label = np.full((h, w), CV_SKY, np.uint8)
    label[60:210, : 150 + 30 * seed] = CV_BUILDING
    label[210:] = CV_ROAD
    label[225:300, 270:390] = CV_CAR
    label[150:260, 400:416] = CV_PEDESTRIAN
    label[45:330, 218] = CV_POLE
    label[330:, :45] = CV_VOID
    return label


def make_camvid(root: Path) -> Path:
    """Write the CamVid tree of :data:`CAMVID_SPLITS`: ``train`` listed in ``train.txt`` with the SegNet
    tutorial's absolute paths, ``val`` as folders alone."""
    root = Path(root)
    palette = get_label_set("camvid").palette()
    lines = []
    for split, names in CAMVID_SPLITS.items():
        for seed, name in enumerate(names):
            label = camvid_scene(seed)
            save_image(palette[label], root / split / f"{name}.png")
            save_image(label, root / f"{split}annot" / f"{name}.png")
            if split == "train":
                lines.append(f"/SegNet/CamVid/train/{name}.png /SegNet/CamVid/trainannot/{name}.png")
    (root / "train.txt").write_text("\n".join(lines) + "\n")
    return root


# --- entry points --------------------------------------------------------------------

_MAKERS = {"cityscapes": make_cityscapes, "coco_stuff": make_coco_stuff, "camvid": make_camvid}


def fabricate_tree(parent: str | Path, dataset: str) -> Path:
    """Write a miniature ``dataset`` folder (``cityscapes``, ``coco_stuff`` or ``camvid``) as ``parent/dataset``."""
    if dataset not in _MAKERS:
        raise ValueError(f"unknown dataset {dataset!r}: choose one of {', '.join(_MAKERS)}")
    return _MAKERS[dataset](Path(parent) / dataset)


def damage_tree(root: str | Path) -> list[Path]:
    """Plant two problems in a fabricated Cityscapes tree; returns the damaged files.

    The first train photo is cut in half (as an interrupted copy leaves it) and
    the val label map is replaced by its colour visualisation (a common mix-up).
    """
    train = city_paths(root, "train", CITY_SPLITS["train"][0])
    val = city_paths(root, "val", CITY_SPLITS["val"][0])
    data = train["image"].read_bytes()
    train["image"].write_bytes(data[: len(data) // 2])
    save_image(city_photo(city_scene(0)[0]), val["label"])
    return [train["image"], val["label"]]
