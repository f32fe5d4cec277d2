"""Measuring models: metrics, FID/KID/SegFD, the segmenter, evaluation at several scales, the
upscaling experiment and its report, the demo, and the builder of the shipped models."""
from . import evaluate, fid, metrics, scenes, segmenter

__all__ = ["evaluate", "fid", "metrics", "scenes", "segmenter"]
