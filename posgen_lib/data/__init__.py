"""Datasets, label sets and the transforms that turn them into generator input."""
from .labels import LabelSet, colorize, get_label_set
from .transforms import instance_edges, to_semantics

__all__ = ["LabelSet", "colorize", "get_label_set", "instance_edges", "to_semantics"]
