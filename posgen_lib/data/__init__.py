"""Datasets, label sets and the transforms that turn them into generator input."""
from .build import build_dataset
from .camvid import CamVid, find_camvid
from .cityscapes import Cityscapes
from .cocostuff import CocoStuff
from .fabricate import fabricate_tree
from .labels import LabelSet, colorize, get_label_set
from .synthetic import SyntheticStreets
from .transforms import instance_edges, to_semantics

__all__ = ["CamVid", "Cityscapes", "CocoStuff", "SyntheticStreets", "build_dataset", "fabricate_tree", "find_camvid",
           "LabelSet", "colorize", "get_label_set", "instance_edges", "to_semantics"]
