"""Check and prepare real dataset folders (``posgen data check`` / ``posgen data prepare``).

* :func:`check_dataset` reads every file of every split and reports the
  counts, image sizes and label-value ranges per split, and every problem
  with the file it is in (it does not stop at the first).
* :func:`prepare_cityscapes` and :func:`prepare_coco_stuff` build the layouts
  that :class:`~posgen_lib.data.Cityscapes` and :class:`~posgen_lib.data.CocoStuff`
  read, from the user's own downloads (data/README.md says where to get them).
  Both can be interrupted and rerun: files already in place with the right
  size are skipped, and every file is written under a temporary name and
  renamed, so no half-written file is ever left behind.
"""
from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import zipfile
import zlib
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import BinaryIO, Callable

import numpy as np
from PIL import Image
from tqdm import tqdm  # text bars on a terminal only (disable=None); none in notebooks or logs

from ..errors import UserError
from . import camvid, cityscapes, cocostuff
from .transforms import (Example, check_label_values, check_same_size, read_ids,
                         unreadable)

DATASETS = {"cityscapes": cityscapes, "coco_stuff": cocostuff, "camvid": camvid}  # name -> module with find_examples
DEFAULT_SPLITS = ("train", "val")
CITYSCAPES_URL = "https://www.cityscapes-dataset.com/downloads/"
COCO_URL = "https://cocodataset.org/#download"
COCO_STUFF_URL = "https://github.com/nightrome/cocostuff"
CHECK_THREADS = min(8, os.cpu_count() or 1)  # PIL decodes without holding the GIL


# --- check -----------------------------------------------------------------

@dataclass
class SplitSummary:
    """What one split holds."""

    name: str
    examples: int = 0
    image_sizes: Counter = field(default_factory=Counter)  # (width, height) -> count
    label_values: set[int] = field(default_factory=set)
    instance_maps: int = 0

    def __str__(self) -> str:
        if not self.examples:
            return f"{self.name}: 0 examples"
        sizes = ", ".join(f"{w}x{h} ({n})" for (w, h), n in self.image_sizes.most_common(3))
        if len(self.image_sizes) > 3:
            sizes += f", ... ({len(self.image_sizes)} sizes)"
        values = self.label_values
        ids = (f"label values {min(values)}..{max(values)} ({len(values)} distinct)" if values
               else "no readable label maps")
        return (f"{self.name}: {self.examples} examples; image sizes {sizes or 'none readable'}; "
                f"{ids}; {self.instance_maps} instance maps")


@dataclass
class CheckReport:
    """Result of :func:`check_dataset`; ``print`` it for the full report."""

    root: Path
    dataset: str
    splits: list[SplitSummary] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def __str__(self) -> str:
        lines = [f"{self.dataset} at {self.root}"] + [f"  {s}" for s in self.splits]
        if self.ok:
            return "\n".join(lines + ["no problems found"])
        return "\n".join(lines + [f"{len(self.problems)} problem(s):"]
                         + [f"  - {p}" for p in self.problems])


@dataclass
class _ExampleCheck:
    image_size: tuple[int, int] | None = None  # (width, height)
    label_values: tuple[int, ...] = ()
    has_instance: bool = False
    problems: list[str] = field(default_factory=list)

    def attempt(self, check: Callable, *args):
        """Run ``check``; record its ValueError as a problem and return None."""
        try:
            return check(*args)
        except ValueError as err:
            self.problems.append(str(err))
            return None


def _image_shape(path: Path) -> tuple[int, int]:
    """(H, W) of a photo after decoding all of it (JPEGs at 1/8 scale: still every byte)."""
    try:
        with Image.open(path) as img:
            width, height = img.size
            if img.format == "JPEG":
                img.draft("RGB", (width // 8, height // 8))
            img.load()
        return height, width
    except FileNotFoundError:
        raise
    except (OSError, SyntaxError, ValueError) as err:
        raise unreadable(path, "image", err) from err


def _distinct(ids: np.ndarray) -> np.ndarray:
    """Sorted distinct values of an id map (bincount for 8-bit maps: faster than unique)."""
    if ids.dtype == np.uint8:
        return np.flatnonzero(np.bincount(ids.ravel(), minlength=256))
    return np.unique(ids)


def _check_example(example: Example, label_set: str, hint: str) -> _ExampleCheck:
    check = _ExampleCheck()
    shape = check.attempt(_image_shape, example.image)
    if shape is not None:
        check.image_size = shape[::-1]
    label = check.attempt(read_ids, example.label, "label map", hint)
    if label is not None:
        values = _distinct(label)
        check.label_values = tuple(values.tolist())
        check.attempt(check_label_values, values, label_set, example.label)
        if shape is not None:
            check.attempt(check_same_size, example.label, label.shape, example.image, shape)
    if example.instance is not None:
        instance = check.attempt(read_ids, example.instance, "instance map", hint)
        check.has_instance = instance is not None
        if instance is not None and shape is not None:
            check.attempt(check_same_size, example.instance, instance.shape, example.image, shape)
    return check


def _check_split(name: str, examples: list[Example], dataset: str,
                 problems: list[str]) -> SplitSummary:
    summary = SplitSummary(name, examples=len(examples))
    check = partial(_check_example, label_set=dataset, hint=DATASETS[dataset].COLOR_MAP_HINT)
    with ThreadPoolExecutor(CHECK_THREADS) as pool:
        results = pool.map(check, examples)
        for result in tqdm(results, total=len(examples), desc=f"check {name}", unit="example",
                           disable=None):
            if result.image_size is not None:
                summary.image_sizes[result.image_size] += 1
            summary.label_values.update(result.label_values)
            summary.instance_maps += result.has_instance
            problems.extend(result.problems)
    return summary


def default_splits(root: Path, dataset: str) -> tuple[str, ...]:
    """Train and val; for CamVid also test, when the folder has it (the SegNet copy's held-out split)."""
    has_test = dataset == "camvid" and ((root / "test.txt").is_file() or (root / "test").is_dir())
    return DEFAULT_SPLITS + ("test",) * has_test


def check_dataset(root: str | Path, dataset: str,
                  splits: tuple[str, ...] | list[str] | None = None) -> CheckReport:
    """Validate a Cityscapes, COCO-Stuff or CamVid folder; ``splits`` defaults to :func:`default_splits`."""
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}: choose one of {', '.join(DATASETS)}")
    report = CheckReport(Path(root), dataset)
    if not report.root.is_dir():
        report.problems.append(f"{report.root}: the dataset folder does not exist; "
                               "data/README.md says how to get and prepare it")
        return report
    for split in splits or default_splits(report.root, dataset):
        examples, problems = DATASETS[dataset].find_examples(report.root, split)
        report.problems.extend(problems)
        report.splits.append(_check_split(split, examples, dataset, report.problems))
    return report


# --- shared by both preparations --------------------------------------------

@dataclass
class PrepareResult:
    """How many files a preparation wrote and how many were already in place."""

    out_root: Path
    written: int = 0
    skipped: int = 0

    def count(self, wrote: bool) -> None:
        if wrote:
            self.written += 1
        else:
            self.skipped += 1

    def __str__(self) -> str:
        return f"{self.out_root}: {self.written} files written, {self.skipped} already in place"


def _write_atomic(dest: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write ``dest`` through ``write(file)`` under a temporary name, then rename it."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    try:
        with open(tmp, "wb") as f:
            write(f)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


class _Files:
    """The files of a zip archive (under ``prefix``) or of a folder, by relative name."""

    def __init__(self, path: Path, prefix: str = ""):
        self.path, self.prefix = path, prefix
        self._zip = None
        if path.is_dir():
            self.sizes = {p.relative_to(path).as_posix(): p.stat().st_size
                          for p in path.rglob("*") if p.is_file()}
            return
        try:
            self._zip = zipfile.ZipFile(path)
        except zipfile.BadZipFile as err:
            raise ValueError(f"{path}: not a zip archive ({err}); download it again") from err
        self.sizes = {i.filename[len(prefix):]: i.file_size for i in self._zip.infolist()
                      if i.filename.startswith(prefix) and not i.is_dir()}

    def open(self, name: str) -> BinaryIO:
        if self._zip is None:
            return open(self.path / name, "rb")
        return self._zip.open(self.prefix + name)

    def copy(self, name: str, dest: Path) -> bool:
        """Copy one file to ``dest`` unless it is there with the right size; True when written."""
        if dest.is_file() and dest.stat().st_size == self.sizes[name]:
            return False
        try:
            with self.open(name) as src:
                _write_atomic(dest, partial(shutil.copyfileobj, src))
        except (zipfile.BadZipFile, zlib.error) as err:
            raise ValueError(f"{self.path}: {self.prefix}{name} is corrupt ({err}); "
                             "download the archive again") from err
        return True

    def __enter__(self) -> "_Files":
        return self

    def __exit__(self, *exc) -> None:
        if self._zip is not None:
            self._zip.close()


# --- Cityscapes ----------------------------------------------------------------

CITYSCAPES_ARCHIVES = {  # archive -> the members the loader needs ({split} filled in)
    "gtFine_trainvaltest.zip": r"gtFine/{split}/[\w-]+/[\w-]+_gtFine_(?:labelIds|instanceIds)\.png",
    "leftImg8bit_trainvaltest.zip": r"leftImg8bit/{split}/[\w-]+/[\w-]+_leftImg8bit\.png",
}


def prepare_cityscapes(zip_dir: str | Path, out_root: str | Path,
                       splits: tuple[str, ...] = DEFAULT_SPLITS) -> PrepareResult:
    """Extract the label-id, instance-id and photo PNGs of ``splits`` from the official zips."""
    zip_dir, result = Path(zip_dir), PrepareResult(Path(out_root))
    missing = [str(zip_dir / name) for name in CITYSCAPES_ARCHIVES if not (zip_dir / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{', '.join(missing)} not found; download the archives (after "
                                f"registering) from {CITYSCAPES_URL} into {zip_dir}, see "
                                "data/README.md")
    split_pattern = "(?:" + "|".join(re.escape(s) for s in splits) + ")"
    for name, pattern in CITYSCAPES_ARCHIVES.items():
        wanted = re.compile(pattern.format(split=split_pattern))
        with _Files(zip_dir / name) as archive:
            members = [m for m in sorted(archive.sizes) if wanted.fullmatch(m)]
            if not members:
                raise ValueError(f"{archive.path}: holds no files of the splits {list(splits)}; "
                                 f"is it the official {name}?")
            for member in tqdm(members, desc=name, unit="file", disable=None):
                result.count(archive.copy(member, result.out_root / member))
    return result


# --- COCO-Stuff ------------------------------------------------------------------

def _coco_api():
    """pycocotools' COCO class, imported only when instance maps are drawn."""
    try:
        from pycocotools.coco import COCO
    except ImportError as err:
        raise UserError("drawing COCO instance maps needs pycocotools: "
                        "pip install posgen-lib[coco]") from err
    return COCO


def _first_existing(candidates: list[tuple[Path, str]], what: str) -> _Files:
    for path, prefix in candidates:
        if path.exists():
            return _Files(path, prefix)
    raise FileNotFoundError(f"{what} not found: expected one of "
                            f"{', '.join(str(p) for p, _ in candidates)}; see data/README.md")


def _load_annotations(coco_class, path: Path):
    """A pycocotools COCO index of ``path`` (its loading chatter silenced)."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found; unzip annotations_trainval2017.zip from "
                                f"{COCO_URL} into {path.parent.parent}")
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            return coco_class(str(path))
    except (ValueError, KeyError, AssertionError) as err:
        raise ValueError(f"{path}: not a COCO instance annotation file ({err!r})") from err


def instance_map(coco, image_id: int | None, height: int, width: int) -> np.ndarray:
    """(H, W) ids 1..N, one per annotated object, 0 elsewhere (uint8, or uint16 past 255).

    Larger objects are drawn first so that small ones stay visible on top.
    (SPADE's own script draws the polygons over a copy of the label map
    instead, so its maps also change id at stuff boundaries.)
    """
    anns = [] if image_id is None else coco.loadAnns(coco.getAnnIds(imgIds=[image_id]))
    anns = sorted(anns, key=lambda ann: ann["area"], reverse=True)
    ids = np.zeros((height, width), np.uint8 if len(anns) < 256 else np.uint16)
    for k, ann in enumerate(anns, start=1):
        ids[coco.annToMask(ann) > 0] = k
    return ids


def _write_instance_map(coco, image_id: int | None, label_path: Path, dest: Path) -> bool:
    """Draw one instance map unless it exists (it was written atomically); True when written."""
    if dest.is_file():
        return False
    with Image.open(label_path) as label:
        width, height = label.size
    if image_id is not None:
        info = coco.imgs[image_id]
        if (info["height"], info["width"]) != (height, width):
            raise ValueError(f"{label_path}: size {width}x{height} differs from the "
                             f"{info['width']}x{info['height']} of image id {image_id} in the "
                             "instance annotations; are the label maps from COCO 2017?")
    ids = instance_map(coco, image_id, height, width)
    _write_atomic(dest, lambda f: Image.fromarray(ids).save(f, format="PNG"))
    return True


def _label_stems(images: _Files, labels: _Files, split: str) -> list[str]:
    """Names of the label maps of ``split``; FileNotFoundError if a photo is missing."""
    stems = sorted(n[:-4] for n in labels.sizes if n.endswith(".png") and "/" not in n)
    if not stems:
        raise ValueError(f"{labels.path}: holds no {split} label maps ({labels.prefix}*.png)")
    missing = [s for s in stems if f"{s}.jpg" not in images.sizes]
    if missing:
        raise FileNotFoundError(f"{images.path}: no photo for {len(missing)} of the {len(stems)} "
                                f"{split} label maps (e.g. {missing[0]}.jpg); is it complete?")
    return stems


def prepare_coco_stuff(coco_dir: str | Path, out_root: str | Path,
                       splits: tuple[str, ...] = DEFAULT_SPLITS) -> PrepareResult:
    """Build ``{split}_img/``, ``{split}_label/``, ``{split}_inst/`` from the COCO downloads.

    ``coco_dir`` holds ``{split}2017/`` (or ``{split}2017.zip``),
    ``stuffthingmaps_trainval2017.zip`` (or its ``{split}2017/`` folders under
    ``stuffthingmaps_trainval2017/``) and ``annotations/instances_{split}2017.json``.
    """
    coco_dir, result = Path(coco_dir), PrepareResult(Path(out_root))
    coco_class = _coco_api()  # fail before copying anything
    for split in splits:
        tag = f"{split}2017"
        with _first_existing([(coco_dir / tag, ""), (coco_dir / f"{tag}.zip", f"{tag}/")],
                             f"COCO {split} photos ({COCO_URL})") as images, \
             _first_existing([(coco_dir / "stuffthingmaps_trainval2017.zip", f"{tag}/"),
                              (coco_dir / "stuffthingmaps_trainval2017" / tag, "")],
                             f"COCO-Stuff {split} label maps ({COCO_STUFF_URL})") as labels:
            stems = _label_stems(images, labels, split)
            coco = _load_annotations(coco_class, coco_dir / "annotations" / f"instances_{tag}.json")
            image_ids = {Path(info["file_name"]).stem: i for i, info in coco.imgs.items()}
            img_dir, label_dir, inst_dir = (result.out_root / f"{split}_{kind}"
                                            for kind in ("img", "label", "inst"))
            for stem in tqdm(stems, desc=f"coco_stuff {split}", unit="example", disable=None):
                result.count(images.copy(f"{stem}.jpg", img_dir / f"{stem}.jpg"))
                result.count(labels.copy(f"{stem}.png", label_dir / f"{stem}.png"))
                result.count(_write_instance_map(coco, image_ids.get(stem), label_dir / f"{stem}.png",
                                                 inst_dir / f"{stem}.png"))
    return result
