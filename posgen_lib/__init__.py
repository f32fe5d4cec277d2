"""posgen_lib: the tested library behind the PosGen course (``import posgen_lib as pg``).

The public names below stay stable whatever moves inside. ``import posgen_lib``
loads the method (config, models, data, rendering) and nothing heavier: no
matplotlib, no IPython. The other folders load on first use::

    pg.preset, pg.Config ...            configs          (config.py)
    pg.coordinate_grid, pg.grid ...     the pixel grid   (grid.py)
    pg.PosGenGenerator, pg.render ...   the method       (models/, rendering/)
    pg.data.SyntheticStreets ...        data             (data/)
    pg.train, pg.load_or_train          training         (train/, on first use)
    pg.eval, pg.perf, pg.viz            measuring, speed, pictures (on first use)
    pg.course                           what only notebooks use (on first use)

docs/architecture.md describes each folder and what may import what.
"""
from importlib import import_module

from . import data, grid, models, rendering
from .config import Config, DataConfig, ModelConfig, TrainConfig, budget, fast_mode, preset
from .models import compat, pixelwise
from .models.anyres import AnyResGenerator
from .models.discriminator import ImageEncoder, MultiscaleDiscriminator
from .grid import coordinate_grid, sample_at
from .models.fourier import GaussianFourierFeatures, LearnedFourierFeatures
from .models.generator import PosGenGenerator, SPADEGenerator
from .models.interface import Generator, PixelQuery
from .models.pixel_head import PixelHead
from .models.registry import build_generator, count_parameters, load_any, load_generator, pretrained
from .models.spade import SPADE, SPADEResnetBlock
from .rendering import METHODS, render, upscale

__version__ = "0.2.0"

__all__ = [
    "Config", "DataConfig", "ModelConfig", "TrainConfig", "budget", "fast_mode", "preset",
    "ImageEncoder", "MultiscaleDiscriminator", "GaussianFourierFeatures", "LearnedFourierFeatures",
    "coordinate_grid", "sample_at", "AnyResGenerator", "Generator", "PixelQuery", "PosGenGenerator", "SPADEGenerator",
    "build_generator", "count_parameters", "load_any", "load_generator", "PixelHead", "SPADE",
    "SPADEResnetBlock", "compat", "pixelwise", "data", "grid", "models", "rendering", "render", "upscale",
    "METHODS", "pretrained", "load_or_train",
]

_SUBPACKAGES = ("train", "eval", "perf", "viz", "course", "cli")


def __getattr__(name: str):
    """Load the heavier subpackages, and ``load_or_train``, on first use (PEP 562)."""
    if name in _SUBPACKAGES:
        return import_module(f".{name}", __name__)
    if name == "load_or_train":
        return import_module(".train", __name__).load_or_train
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
