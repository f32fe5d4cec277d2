"""posgen_lib: the tested library behind the PosGen course (``import posgen_lib as pg``)."""
from . import compat, data, losses
from .config import Config, DataConfig, ModelConfig, TrainConfig, budget, fast_mode, preset
from .discriminator import ImageEncoder, MultiscaleDiscriminator
from .fourier import GaussianFourierFeatures, LearnedFourierFeatures, coordinate_grid, sample_at
from .generator import PosGenGenerator, SPADEGenerator, build_generator, count_parameters
from .pixel_head import PixelHead
from .spade import SPADE, SPADEResnetBlock

__version__ = "0.1.0"

__all__ = [
    "Config", "DataConfig", "ModelConfig", "TrainConfig", "budget", "fast_mode", "preset",
    "ImageEncoder", "MultiscaleDiscriminator", "GaussianFourierFeatures", "LearnedFourierFeatures",
    "coordinate_grid", "sample_at", "PosGenGenerator", "SPADEGenerator", "build_generator",
    "count_parameters", "PixelHead", "SPADE", "SPADEResnetBlock", "compat", "data", "losses",
]
