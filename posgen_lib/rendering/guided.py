"""Label-guided joint bilateral upsampling of a generator's 1x output.

Bicubic or bilinear upsampling of a 1x image blends the colours of two
classes across every class boundary, so edges come out soft and in the 1x
staircase. Given the label map at the output resolution (the *guide*), each
output pixel ``p`` of class ``k_p`` can instead interpolate only the 1x pixels
of its own class: joint bilateral upsampling (Kopf et al., "Joint Bilateral
Upsampling", SIGGRAPH 2007) with a label range kernel, i.e. normalized
convolution with the class mask as the certainty (Knutsson & Westin,
"Normalized and Differential Convolution", CVPR 1993)::

    y(p) = sum_i w_i(p) m_k(n_i) x(n_i) / sum_i w_i(p) m_k(n_i),   k = k_p

with ``x`` the 1x image, ``n_i`` the bilinear neighbours of ``p`` in the 1x
grid, ``w_i`` their bilinear weights and ``m_k`` the 1x mask of class k. When
no neighbour has class ``k_p`` (a thin object the 1x grid barely resolves)
the same ratio is taken over wider windows (box filters of
:data:`FALLBACK_RADII` 1x pixels), then over the whole image, and finally
plain bilinear sampling is used (class absent at 1x).

It needs no training and applies to any generator's 1x output; the upscaling
registry (:mod:`posgen_lib.rendering.methods`) offers it as
``joint_bilateral_hr``. At the labels' own size it returns the input (to float
rounding); for a one-class label map it equals bilinear upsampling.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..grid import coordinate_grid, label_positions, sample_at
from .render import DEFAULT_CHUNK_PIXELS, bands

FALLBACK_RADII = (2, 6)  # 1x pixels
_MIN_WEIGHT = 1e-4  # certainty below which a level is not trusted


def label_channels(cfg, sem: torch.Tensor) -> torch.Tensor:
    """The class index (argmax of the one-hot part, edges excluded) of semantics (B, S, H, W) -> (B, H, W)."""
    n_labels = cfg.label_nc + int(cfg.contain_dontcare_label)
    return sem[:, :n_labels].argmax(1)


def _neighbours(coords: torch.Tensor, h: int, w: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Flat indices (4, r, W) of the bilinear neighbours of ``coords`` (2, r, W) in an (h, w) grid,
    and their weights (4, r, W) (``align_corners=True``, border clamped, as :func:`sample_at`)."""
    def axis(pos, n):
        pos = pos.clamp(0, n - 1)  # pixel position
        lo = pos.floor().clamp(max=max(n - 2, 0)).long()
        hi = (lo + 1).clamp(max=n - 1)
        return lo, hi, pos - lo
    positions = label_positions(coords, (h, w))  # (2, r, W): in pixels of the (h, w) grid
    x0, x1, wx = axis(positions[0], w)
    y0, y1, wy = axis(positions[1], h)
    index = torch.stack([y0 * w + x0, y0 * w + x1, y1 * w + x0, y1 * w + x1])
    weight = torch.stack([(1 - wy) * (1 - wx), (1 - wy) * wx, wy * (1 - wx), wy * wx])
    return index, weight


def _wide_fallback(image, classes, guide, coords, pending) -> torch.Tensor:
    """y at the ``pending`` pixels (no same-class bilinear neighbour): the same ratio over box
    windows of :data:`FALLBACK_RADII`, then the image's class mean, else NaN (keep bilinear)."""
    pts = coords[:, pending][:, None]  # (2, 1, N)
    labels = guide[pending]  # (N,)
    values = torch.full((image.shape[0], labels.numel()), float("nan"), dtype=image.dtype, device=image.device)
    for k in torch.unique(labels).tolist():
        mask = (classes == k).to(image.dtype)[None]  # (1, h, w)
        if not bool(mask.any()):
            continue  # class absent at 1x
        todo = labels == k  # (N,)
        stack = torch.cat([image * mask, mask])[None]  # (1, C + 1, h, w)
        for radius in FALLBACK_RADII:
            blurred = F.avg_pool2d(stack, 2 * radius + 1, stride=1, padding=radius)
            s = sample_at(blurred, pts[:, :, todo])[0, :, 0]  # (C + 1, n)
            ok = s[-1] > _MIN_WEIGHT
            idx = todo.nonzero(as_tuple=True)[0][ok]
            values[:, idx] = s[:-1, ok] / s[-1, ok]
            todo[idx] = False
        values[:, todo] = ((image * mask).sum((1, 2)) / mask.sum())[:, None]
    return values


def _guided_sample(image: torch.Tensor, classes: torch.Tensor, guide: torch.Tensor,
                   coords: torch.Tensor) -> torch.Tensor:
    """y for one image: x (C, h, w), classes (h, w), guide (r, W) class per output pixel,
    coords (2, r, W) -> (C, r, W)."""
    index, weight = _neighbours(coords, *classes.shape)  # (4, r, W) each
    near = image.flatten(1)[:, index]  # (C, 4, r, W)
    same = weight * (classes.flatten()[index] == guide)  # (4, r, W): weights of same-class neighbours
    certainty = same.sum(0)  # (r, W)
    ok = certainty > _MIN_WEIGHT
    out = torch.where(ok, (near * same).sum(1) / certainty.clamp(min=_MIN_WEIGHT),
                      (near * weight).sum(1))  # (C, r, W); plain bilinear where no class match
    pending = ~ok
    if bool(pending.any()):
        wide = _wide_fallback(image, classes, guide, coords, pending)  # (C, N)
        found = ~wide.isnan().any(0)
        rows, cols = pending.nonzero(as_tuple=True)
        out[:, rows[found], cols[found]] = wide[:, found]
    return out


@torch.no_grad()
def joint_bilateral_upsample(image: torch.Tensor, classes: torch.Tensor, guide: torch.Tensor,
                             max_chunk_pixels: int = DEFAULT_CHUNK_PIXELS) -> torch.Tensor:
    """Upsample ``image`` (B, C, h, w) to the guide's size, within classes -> (B, C, H, W).

    ``classes`` (B, h, w): class index of each 1x pixel; ``guide`` (B, H, W): class
    index of each output pixel (:func:`label_channels` of the semantics at each size).
    """
    if guide.shape[0] != image.shape[0] or classes.shape != (image.shape[0], *image.shape[-2:]):
        raise ValueError(f"classes {tuple(classes.shape)} must be (B, h, w) of image {tuple(image.shape)} "
                         f"and guide {tuple(guide.shape)} (B, H, W)")
    height, width = guide.shape[-2:]
    x = image.float()
    out = torch.empty(x.shape[0], x.shape[1], height, width, device=x.device)
    for rows in bands(height, width, x.shape[0], max_chunk_pixels):
        coords = coordinate_grid((height, width), device=x.device, rows=rows)  # (2, r, W)
        out[:, :, rows] = torch.stack([_guided_sample(x[b], classes[b], guide[b, rows], coords)
                                       for b in range(x.shape[0])])  # (B, C, r, W)
    return out.to(image.dtype)
