"""The pixel grid: where the pixels of an image are, in the one convention every part of the package uses.

docs/architecture.md, *Coordinates*. An image of ``size = (H, W)`` pixels covers
the square [-1, 1]^2 of the label map's coordinate frame with its pixel
*centres* (the ``align_corners=True`` convention)::

    x_j = linspace(-1, 1, W)[j]      the centre of column j      (channel 0)
    y_i = linspace(-1, 1, H)[i]      the centre of row i         (channel 1)

so (-1, -1) is the centre of the upper-left pixel and (1, 1) that of the
lower-right one, at every resolution. Neighbouring centres are 2 / (W - 1)
apart: an image ``s`` times larger has ``s`` times denser centres over the
same extent. A *window* ``(x0, y0, x1, y1)`` in the same units names the first
and last pixel centres of any sub-rectangle, which :func:`coordinate_grid`
samples at any pixel count. Positions *in label pixels* (``u = 0 .. w - 1``,
the units of a pixel size or an offset inside a trunk cell) are
``u = (x + 1) / 2 * (w - 1)``.

Everything here is plain arithmetic on that convention; nothing else in the
package derives it again:

* :func:`coordinate_grid`, :func:`sample_at`: the centres of a grid, and the
  values of a map at any centres (bilinear or nearest, ``align_corners=True``);
* :func:`scaled_size`, :func:`output_size`, :func:`pixel_spacing`,
  :func:`is_scaled_size`: the size of an image ``scale`` times the labels',
  the spacing of its pixels in label pixels, and whether a size is such a
  size (the same frame at another resolution);
* :func:`label_positions`, :func:`scaled_index`: centres in label pixels, and
  the pixel of another resolution nearest to a pixel centre;
* :func:`pixel_window`, :func:`subpixel_window`, :func:`with_halo`: the windows
  of a block of pixels, of k x k sub-pixels of a block, and a window one pixel
  larger on every side.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

FULL_WINDOW = (-1.0, -1.0, 1.0, 1.0)

Window = tuple[float, float, float, float]  # (x0, y0, x1, y1): the first and last pixel centres


def coordinate_grid(size: tuple[int, int], window=FULL_WINDOW, device=None,
                    dtype=torch.float32, rows: slice | None = None) -> torch.Tensor:
    """Pixel-centre coordinates of an ``size=(H, W)`` image covering ``window``.

    Returns a (2, H, W) tensor: ``grid[0]`` is x (varies along W), ``grid[1]`` is y.
    A 1-pixel axis sits at the window's start coordinate. ``rows`` returns only
    that band of rows, (2, r, W), with the same values as the full grid.
    Points outside [-1, 1] are allowed (they extrapolate).
    """
    height, width = size
    if height < 1 or width < 1:
        raise ValueError(f"size={size}: both sides must be at least 1 pixel")
    x0, y0, x1, y1 = (float(v) for v in window)
    xs = torch.linspace(x0, x1, width, device=device, dtype=dtype)  # (W,)
    ys = torch.linspace(y0, y1, height, device=device, dtype=dtype)  # (H,)
    if rows is not None:
        ys = ys[rows]  # (r,)
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")  # (H, W) each
    return torch.stack([grid_x, grid_y])  # (2, H, W)


def sample_at(feature: torch.Tensor, coords: torch.Tensor, mode: str = "bilinear") -> torch.Tensor:
    """Sample ``feature`` (B, C, h, w) at ``coords`` (2, H, W), or per image (B, 2, H, W) -> (B, C, H, W).

    Uses the same ``align_corners=True`` convention as :func:`coordinate_grid`,
    so sampling at ``coordinate_grid((h, w))`` reproduces ``feature`` (up to
    float rounding). Outside [-1, 1] the border value is repeated. ``mode``:
    ``"bilinear"`` (the trunk's features) or ``"nearest"`` (label maps).
    """
    if coords.dim() == 3:
        grid = coords.permute(1, 2, 0).unsqueeze(0).expand(feature.shape[0], -1, -1, -1)  # (B, H, W, 2)
    else:
        grid = coords.permute(0, 2, 3, 1)  # (B, H, W, 2)
    return F.grid_sample(feature, grid.to(feature.dtype), mode=mode, padding_mode="border", align_corners=True)


def scaled_size(label_size: tuple[int, int], scale: float) -> tuple[int, int]:
    """(H, W) of the image ``scale`` times the size of a ``label_size = (h, w)`` map: each side rounded."""
    return round(label_size[0] * scale), round(label_size[1] * scale)


def is_scaled_size(label_size: tuple[int, int], size: tuple[int, int], least: float = 1.0) -> bool:
    """Whether ``size`` is :func:`scaled_size` of ``label_size`` for one common scale s >= ``least``: both
    sides rounded from the same s (an image of the same frame, e.g. 128x256 for 32x64 labels, or 106x211
    at 3.3x), not a stretched one (256x256 for 32x64) nor a smaller one."""
    (h, w), (height, width) = label_size, size
    low = max(least, (height - 0.5) / h, (width - 0.5) / w)  # s in [(n - 0.5) / side, (n + 0.5) / side]
    high = min((height + 0.5) / h, (width + 0.5) / w)
    return low <= high


def output_size(label_size: tuple[int, int], scale: float | None = None,
                size: tuple[int, int] | None = None) -> tuple[int, int]:
    """The (H, W) of a render: ``size`` itself, or :func:`scaled_size` of the labels for ``scale``;
    ValueError for a bad scale or an empty result."""
    if (scale is None) == (size is None):
        raise ValueError("give exactly one of scale= or size=")
    if size is not None:
        h, w = (int(v) for v in size)
    else:
        if not (isinstance(scale, (int, float)) and math.isfinite(scale) and scale > 0):
            raise ValueError(f"scale={scale}: must be a finite positive number")
        h, w = scaled_size(label_size, scale)
    if h < 1 or w < 1:
        raise ValueError(f"output size {h}x{w} is empty; use a larger scale or size")
    return h, w


def pixel_spacing(label_size: tuple[int, int], size: tuple[int, int], window) -> tuple[float, float]:
    """(dx, dy): the distance between neighbouring pixel centres of a ``size`` render of ``window``, in
    pixels of a ``label_size`` map (1 at the labels' own size, 1/4 at 4x). The window's coordinates may
    be tensors (B,) (one window per image); a 1-pixel axis has spacing 1."""
    x0, y0, x1, y1 = window
    (h, w), (height, width) = label_size, size
    dx = (x1 - x0) / max(width - 1, 1) * (w - 1) / 2 if width > 1 else 1.0
    dy = (y1 - y0) / max(height - 1, 1) * (h - 1) / 2 if height > 1 else 1.0
    return dx, dy


def label_positions(coords: torch.Tensor, label_size: tuple[int, int]) -> torch.Tensor:
    """Pixel centres in label pixels, u = (x + 1) / 2 * (w - 1) (0 .. w-1, 0 .. h-1):
    coords (2, r, W) or (B, 2, r, W) -> the same shape."""
    h, w = label_size
    scale = torch.tensor([(w - 1) / 2, (h - 1) / 2], dtype=coords.dtype, device=coords.device)
    return (coords + 1) * scale.view((2, 1, 1) if coords.dim() == 3 else (1, 2, 1, 1))


def scaled_index(index: int, length: int, scaled_length: int) -> int:
    """The pixel of a ``scaled_length``-pixel axis whose centre is nearest the centre of pixel ``index`` of
    a ``length``-pixel axis over the same extent."""
    return round(index * (scaled_length - 1) / max(length - 1, 1))


def pixel_window(size: tuple[int, int], top: int, left: int, block: tuple[int, int]) -> Window:
    """The window of the ``block = (h, w)`` pixels at row ``top``, column ``left`` of a ``size = (H, W)``
    image: its first and last pixel centres, exactly those of ``coordinate_grid(size, dtype=float64)``
    (the centres between follow up to float rounding)."""
    xs = torch.linspace(-1, 1, size[1], dtype=torch.float64)  # (W,)
    ys = torch.linspace(-1, 1, size[0], dtype=torch.float64)  # (H,)
    return (float(xs[left]), float(ys[top]), float(xs[left + block[1] - 1]), float(ys[top + block[0] - 1]))


def subpixel_window(label_size: tuple[int, int], k: int, top: int, left: int, n: int) -> Window:
    """The window of the k x k sub-pixels of each 1x pixel of the n x n block at (top, left) of a
    ``label_size`` map: ``coordinate_grid((n*k, n*k), window)`` puts k x k centres evenly inside each
    1x pixel (the first at (1/k - 1) / 2 pixels from the pixel's centre), so that k x k averages of
    the result sit exactly on the 1x pixels. Their spacing is 1/k label pixels."""
    h, w = label_size
    step_x, step_y = 2 / max(w - 1, 1), 2 / max(h - 1, 1)  # one label pixel in coordinates
    first = (1 / k - 1) / 2  # the first sub-pixel centre, in 1x pixels from the pixel's centre
    return (-1 + (left + first) * step_x, -1 + (top + first) * step_y,
            -1 + (left + n - 1 - first) * step_x, -1 + (top + n - 1 - first) * step_y)


def with_halo(window: torch.Tensor, size: int) -> Window:
    """The window (4,) of ``size`` x ``size`` pixels one pixel larger on every side: ``size + 2`` pixels
    at the same spacing, whose inner ``size`` x ``size`` are the original pixels."""
    x0, y0, x1, y1 = window.tolist()
    dx, dy = (x1 - x0) / (size - 1), (y1 - y0) / (size - 1)
    return x0 - dx, y0 - dy, x1 + dx, y1 + dy
