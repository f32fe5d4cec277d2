"""Label-guided upscaling for PosGen (an addition of this project, beyond the PosGen paper).

Coordinate upscaling (:func:`posgen_lib.render.render`) samples the trunk
feature map ``f`` (B, C, h, w) bilinearly at the output pixel centres. Across
a class boundary that blends the features of two classes, so the per-pixel
head paints a blend, and edges come out about as soft as bicubic upsampling
(DESIGN.md section 9). Here each output pixel ``p`` of class ``k_p`` (read from
a label map at the output resolution, the *guide*) interpolates only the 1x
features of its own class: normalized convolution with the class mask as the
certainty (Knutsson & Westin, "Normalized and Differential Convolution", CVPR
1993), i.e. joint bilateral upsampling (Kopf et al., SIGGRAPH 2007) with a
label range kernel::

    f~(p) = sum_i w_i(p) m_k(n_i) f(n_i) / sum_i w_i(p) m_k(n_i),   k = k_p

with ``n_i`` the bilinear neighbours of ``p`` in the 1x grid, ``w_i`` their
bilinear weights and ``m_k`` the 1x mask of class k. When no neighbour has
class ``k_p`` (a thin object the 1x grid barely resolves) the same ratio is
taken over wider windows (box filters of :data:`FALLBACK_RADII` 1x pixels),
then over the whole image, and finally plain bilinear sampling is used (class
absent at 1x). The head then runs on ``f~`` at the output coordinates.

Guide: by default the 1x labels upsampled with nearest neighbours (no
information beyond what the other methods get; boundaries follow the 1x
staircase). Pass ``guide=`` semantics at the output size when a finer label
map exists (the upscaling experiment passes the ground-truth labels, and its
table marks the rows that use them).

At the labels' own size the result equals ``G(sem)`` (to float rounding), and
for a one-class label map it equals coordinate upscaling.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .fourier import coordinate_grid, sample_at
from .render import DEFAULT_CHUNK_PIXELS

FALLBACK_RADII = (2, 6)  # 1x pixels
_MIN_WEIGHT = 1e-4  # certainty below which a level is not trusted


def label_channels(G, sem: torch.Tensor) -> torch.Tensor:
    """The class channel (argmax of the one-hot part, edges excluded) of semantics (B, C, H, W) -> (B, H, W)."""
    n_labels = G.cfg.label_nc + int(G.cfg.contain_dontcare_label)
    return sem[:, :n_labels].argmax(1)


def _neighbours(coords: torch.Tensor, h: int, w: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Flat indices (4, r, W) of the bilinear neighbours of ``coords`` (2, r, W) in an (h, w) grid,
    and their weights (4, r, W) (``align_corners=True``, border clamped, as :func:`sample_at`)."""
    def axis(c, n):
        pos = ((c + 1) / 2 * (n - 1)).clamp(0, n - 1)  # pixel position
        lo = pos.floor().clamp(max=max(n - 2, 0)).long()
        hi = (lo + 1).clamp(max=n - 1)
        return lo, hi, pos - lo
    x0, x1, wx = axis(coords[0], w)
    y0, y1, wy = axis(coords[1], h)
    index = torch.stack([y0 * w + x0, y0 * w + x1, y1 * w + x0, y1 * w + x1])
    weight = torch.stack([(1 - wy) * (1 - wx), (1 - wy) * wx, wy * (1 - wx), wy * wx])
    return index, weight


def _wide_fallback(feat, classes, guide, coords, pending) -> torch.Tensor:
    """f~ at the ``pending`` pixels (no same-class bilinear neighbour): the same ratio over box
    windows of :data:`FALLBACK_RADII`, then the image's class mean, else NaN (keep bilinear)."""
    pts = coords[:, pending][:, None]  # (2, 1, N)
    labels = guide[pending]  # (N,)
    values = torch.full((feat.shape[0], labels.numel()), float("nan"), dtype=feat.dtype, device=feat.device)
    for k in torch.unique(labels).tolist():
        mask = (classes == k).to(feat.dtype)[None]  # (1, h, w)
        if not bool(mask.any()):
            continue  # class absent at 1x
        todo = labels == k  # (N,)
        stack = torch.cat([feat * mask, mask])[None]  # (1, C + 1, h, w)
        for radius in FALLBACK_RADII:
            blurred = F.avg_pool2d(stack, 2 * radius + 1, stride=1, padding=radius)
            s = sample_at(blurred, pts[:, :, todo])[0, :, 0]  # (C + 1, n)
            ok = s[-1] > _MIN_WEIGHT
            idx = todo.nonzero(as_tuple=True)[0][ok]
            values[:, idx] = s[:-1, ok] / s[-1, ok]
            todo[idx] = False
        values[:, todo] = ((feat * mask).sum((1, 2)) / mask.sum())[:, None]
    return values


def _guided_sample(feat: torch.Tensor, classes: torch.Tensor, guide: torch.Tensor,
                   coords: torch.Tensor) -> torch.Tensor:
    """f~ for one image: feat (C, h, w), classes (h, w), guide (r, W) class per output pixel,
    coords (2, r, W) -> (C, r, W)."""
    index, weight = _neighbours(coords, *classes.shape)  # (4, r, W) each
    near = feat.flatten(1)[:, index]  # (C, 4, r, W)
    same = weight * (classes.flatten()[index] == guide)  # (4, r, W): weights of same-class neighbours
    certainty = same.sum(0)  # (r, W)
    ok = certainty > _MIN_WEIGHT
    out = torch.where(ok, (near * same).sum(1) / certainty.clamp(min=_MIN_WEIGHT),
                      (near * weight).sum(1))  # (C, r, W); plain bilinear where no class match
    pending = ~ok
    if bool(pending.any()):
        wide = _wide_fallback(feat, classes, guide, coords, pending)  # (C, N)
        found = ~wide.isnan().any(0)
        rows, cols = pending.nonzero(as_tuple=True)
        out[:, rows[found], cols[found]] = wide[:, found]
    return out


@torch.no_grad()
def render_label_guided(G, sem: torch.Tensor, size: tuple[int, int], guide: torch.Tensor | None = None,
                        z: torch.Tensor | None = None,
                        max_chunk_pixels: int = DEFAULT_CHUNK_PIXELS) -> torch.Tensor:
    """PosGen at ``size=(H, W)`` with label-guided feature sampling -> (B, 3, H, W) in [-1, 1].

    ``sem`` (B, C, h, w): the trunk's input. ``guide``: semantics (B, C, H, W) at the
    output size (e.g. ``to_semantics`` of a finer label map); default: ``sem``
    upsampled with nearest neighbours.
    """
    if not hasattr(G, "pixel_head"):
        raise TypeError(f"label-guided upscaling needs a PosGenGenerator, got {type(G).__name__}")
    height, width = size
    if guide is None:
        guide = F.interpolate(sem, size=(height, width), mode="nearest")
    if guide.shape[0] != sem.shape[0] or guide.shape[1] != sem.shape[1] or tuple(guide.shape[-2:]) != (height, width):
        raise ValueError(f"guide= must be semantics {(sem.shape[0], sem.shape[1], height, width)} "
                         f"(the labels at the output size, through to_semantics), got {tuple(guide.shape)}")
    feat = G.features(sem, z)  # (B, C, h, w)
    dtype = torch.promote_types(feat.dtype, torch.float32)
    feat = feat.to(dtype)
    classes, guide_classes = label_channels(G, sem), label_channels(G, guide)  # (B, h, w), (B, H, W)
    out = torch.empty(feat.shape[0], 3, height, width, device=feat.device, dtype=dtype)
    rows_per_band = max(1, max_chunk_pixels // (feat.shape[0] * width))
    for top in range(0, height, rows_per_band):
        rows = slice(top, min(top + rows_per_band, height))
        coords = coordinate_grid((height, width), device=feat.device, dtype=dtype, rows=rows)  # (2, r, W)
        band = torch.stack([_guided_sample(feat[b], classes[b], guide_classes[b, rows], coords)
                            for b in range(feat.shape[0])])  # (B, C, r, W)
        out[:, :, rows] = G.pixel_head(band, coords)
    return out
