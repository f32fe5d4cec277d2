"""Pictures: image arrays and PNGs (:mod:`.images`: numpy and PIL) and matplotlib figures (:mod:`.figures`)."""
from . import figures, images
from .images import as_rgb, sample_grid, save_png, tile, to_uint8

__all__ = ["figures", "images", "as_rgb", "sample_grid", "save_png", "tile", "to_uint8"]
