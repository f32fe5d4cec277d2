"""One module per notebook: the figures, tables and small experiments it shows.

=====================  ========================================
module                 notebook
=====================  ========================================
``fourier``            01 Fourier features (coordinate MLPs)
``spade``, ``parity``  02 SPADE blocks, parity with the official code
``pixel_head``         03 the per-pixel head
``datasets``           04 datasets
``training``           05 training
``upscaling``          06 resolution upscaling
``evaluation``         07 evaluation
``pixelwise``          08 the fully pixel-wise generator
``real_photos``        04-07 real photos: CamVid labels, renders, upscaling, the segmenter
=====================  ========================================
"""
from importlib import import_module

LESSONS = ("fourier", "spade", "parity", "pixel_head", "datasets", "training", "upscaling", "evaluation",
           "pixelwise", "real_photos")


def __getattr__(name: str):
    """``pg.course.lessons.NAME`` imports that lesson on first use."""
    if name in LESSONS:
        return import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
