"""Rendering at any size, window and band; the registry of upscaling methods."""
from .methods import METHODS, UpscaleMethod, check_method, lanczos_resize, upscale
from .render import DEFAULT_CHUNK_PIXELS, MAX_OUTPUT_PIXELS, LabelMap, bands, check_window, output_size, render

__all__ = ["METHODS", "UpscaleMethod", "check_method", "lanczos_resize", "upscale", "DEFAULT_CHUNK_PIXELS",
           "MAX_OUTPUT_PIXELS", "LabelMap", "bands", "check_window", "output_size", "render"]
