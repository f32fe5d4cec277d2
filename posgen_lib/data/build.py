"""``build_dataset``: the dataset a :class:`~posgen_lib.config.Config` names.

Real datasets live in ``cfg.data.root``; when it is not set, in
``$POSGEN_DATA_DIR/<dataset>`` (``POSGEN_DATA_DIR`` defaults to ``data``),
which is where ``posgen data prepare`` writes by default.
"""
from __future__ import annotations

import os
from pathlib import Path

from torch.utils.data import Dataset

from ..config import Config
from .camvid import CamVid
from .cityscapes import Cityscapes
from .cocostuff import CocoStuff
from .synthetic import SyntheticStreets
from .transforms import output_size

REAL_DATASETS = {"cityscapes": Cityscapes, "coco_stuff": CocoStuff, "camvid": CamVid}
DATASETS = ("synthetic", *REAL_DATASETS)


def default_root(dataset: str) -> Path:
    """``$POSGEN_DATA_DIR/<dataset>`` (``POSGEN_DATA_DIR`` defaults to ``data``)."""
    return Path(os.environ.get("POSGEN_DATA_DIR") or "data") / dataset


def _dataset_root(cfg: Config) -> Path:
    """The real dataset's folder; FileNotFoundError saying how to point to it."""
    name = cfg.data.dataset
    how = ("pass --data DIR (cfg.data.root) or set POSGEN_DATA_DIR to the folder that holds "
           f"{name}/; data/README.md says how to get and prepare {name}")
    if cfg.data.root:
        root = Path(cfg.data.root)
        if not root.is_dir():
            raise FileNotFoundError(f"{name} folder {root} (cfg.data.root) does not exist; {how}")
        return root
    root = default_root(name)
    if not root.is_dir():
        raise FileNotFoundError(f"no {name} folder: cfg.data.root is not set and {root} does "
                                f"not exist; {how}")
    return root


def _check_output_size(cfg: Config) -> None:
    """The preprocessed examples must have the model's training size."""
    size = output_size(cfg.data)
    if size is not None and size != tuple(cfg.model.image_size):
        raise ValueError(
            f"preprocessing (data.preprocess_mode {cfg.data.preprocess_mode!r}, crop_size "
            f"{cfg.data.crop_size}, aspect_ratio {cfg.data.aspect_ratio}) gives {size[0]}x{size[1]} "
            f"examples but model.image_size is {tuple(cfg.model.image_size)}; make them agree")


def build_dataset(cfg: Config, split: str = "train", high_res: float = 0.0) -> Dataset:
    """The dataset named by ``cfg.data.dataset`` (synthetic, cityscapes, coco_stuff, camvid) for ``split``.

    With ``high_res`` > 0 the items of a real dataset also carry their originals at up to that many
    times the size (``image_hr``, ``label_hr``, ``instance_hr``): ground truth above 1x, which
    any-resolution training asks for (:meth:`posgen_lib.train.anyres.AnyResObjective.training_set`).
    """
    name = cfg.data.dataset
    if name == "synthetic":
        return SyntheticStreets(size=cfg.model.image_size, length=cfg.data.synthetic_length,
                                seed=cfg.data.synthetic_seed, split=split,
                                flip=cfg.data.flip and split == "train")
    if name not in REAL_DATASETS:
        raise ValueError(f"unknown dataset {name!r} (cfg.data.dataset): choose one of "
                         f"{', '.join(DATASETS)}")
    _check_output_size(cfg)
    return REAL_DATASETS[name](_dataset_root(cfg), split=split, cfg=cfg.data, high_res=high_res)
