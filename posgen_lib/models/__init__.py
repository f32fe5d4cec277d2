"""The method: Fourier features, SPADE blocks, the per-pixel head, the generators and discriminator.

Every generator implements :class:`~posgen_lib.models.interface.Generator`;
:func:`~posgen_lib.models.registry.build_generator` builds one from a
:class:`~posgen_lib.config.ModelConfig` whose ``generator`` field names it.
"""
from .anyres import AnyResGenerator, AnyResHead
from .discriminator import ImageEncoder, MultiscaleDiscriminator
from .fourier import FULL_WINDOW, GaussianFourierFeatures, LearnedFourierFeatures, coordinate_grid, sample_at
from .generator import PosGenGenerator, SPADEGenerator, SPADETrunk
from .interface import Generator, PixelQuery
from .pixel_head import PixelHead
from .pixelwise import PixelwiseGenerator
from .registry import (GENERATOR_CLASSES, PRETRAINED, build_generator, count_parameters, load_any,
                       load_generator, pretrained)
from .spade import SPADE, SPADEResnetBlock

__all__ = ["AnyResGenerator", "AnyResHead", "ImageEncoder", "MultiscaleDiscriminator", "FULL_WINDOW", "GaussianFourierFeatures",
           "LearnedFourierFeatures", "coordinate_grid", "sample_at", "PosGenGenerator", "SPADEGenerator",
           "SPADETrunk", "Generator", "PixelQuery", "PixelHead", "PixelwiseGenerator", "GENERATOR_CLASSES",
           "PRETRAINED", "build_generator", "count_parameters", "load_any", "load_generator", "pretrained",
           "SPADE", "SPADEResnetBlock"]
