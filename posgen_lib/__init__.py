"""posgen_lib: the tested library behind the PosGen course (``import posgen_lib as pg``).

``pg.render(G, sem, scale=2)`` and ``pg.upscale(G, sem, 4, method=...)`` come from
:mod:`posgen_lib.render`.
Heavier or optional submodules (``pg.widgets`` needs the notebooks extra;
``pg.upscaling``, ``pg.evaluate``, ``pg.metrics``, ``pg.fid``, ``pg.segmenter``
need torchmetrics) are imported on first use, as is ``pg.pixelwise``.
"""
from . import compat, data, losses, views, viz
from .config import Config, DataConfig, ModelConfig, TrainConfig, budget, fast_mode, preset
from .discriminator import ImageEncoder, MultiscaleDiscriminator
from .envcheck import environment_report
from .fourier import GaussianFourierFeatures, LearnedFourierFeatures, coordinate_grid, sample_at
from .generator import PosGenGenerator, SPADEGenerator, build_generator, count_parameters
from .pixel_head import PixelHead
from .pretrained import load_or_train, pretrained
from .render import render, upscale
from .spade import SPADE, SPADEResnetBlock

__version__ = "0.1.0"

__all__ = [
    "Config", "DataConfig", "ModelConfig", "TrainConfig", "budget", "fast_mode", "preset",
    "ImageEncoder", "MultiscaleDiscriminator", "GaussianFourierFeatures", "LearnedFourierFeatures",
    "coordinate_grid", "sample_at", "PosGenGenerator", "SPADEGenerator", "build_generator",
    "count_parameters", "PixelHead", "SPADE", "SPADEResnetBlock", "compat", "data", "losses",
    "render", "upscale", "views", "viz", "environment_report", "load_or_train", "pretrained",
]

viz.register_notebook_display()  # figures returned by cells are drawn (no pyplot needed)


_LAZY = ("widgets", "upscaling", "evaluate", "metrics", "fid", "segmenter", "pixelwise")


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
