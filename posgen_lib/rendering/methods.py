"""The one registry of upscaling methods: every way this project makes an image above the labels' resolution.

``pg.upscale(G, sem, scale, method=NAME)`` runs one; ``posgen eval``,
``posgen experiment``, ``posgen bench`` and the notebooks all take their
methods from :data:`METHODS`. Each method says what it needs: the 1x labels
only, or the label map at the output resolution (``needs_hr_labels``: the
procedural streets have it at any size; real datasets have their native
resolution), and which generators it applies to.

=======================  ===========================================================  ========
method                   what it does                                                 needs
=======================  ===========================================================  ========
``bicubic``              the generator's 1x output, bicubic                           1x
``lanczos``              the generator's 1x output, Lanczos-3 (PIL)                   1x
``joint_bilateral_hr``   the 1x output, joint bilateral upsampling within the         HR
                         classes of the high-resolution labels (:mod:`.guided`)
``features_bilinear``    SPADE: trunk features resampled bilinearly to the output     1x
                         size, then SPADE's own final 3x3 conv
``trunk_nearest``        the whole generator run at the output size on the            1x
                         nearest-upsampled labels (the trunk's cost grows with it)
``trunk_hr``             the whole generator run on the high-resolution labels        HR
``coordinates``          per-pixel generators: trunk at 1x, decoder on the            1x
                         enlarged pixel grid (:func:`~.render.render`)
``coordinates_hr``       the same, the decoder reading the high-resolution labels     HR
                         (any-resolution PosGen)
=======================  ===========================================================  ========

All of them share the coordinate convention of :func:`~.render.render`
(``align_corners=True``: the first and last output pixel centres sit on the
first and last label pixel centres), so each is compared with ground truth on
the same pixel grid. The trunk of the ``trunk_*`` methods runs at any size
(:func:`~posgen_lib.models.generator.trunk_sizes`).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ..models.interface import Generator, NoiseSeed
from .guided import joint_bilateral_upsample, label_channels
from .render import bands, check_output_pixels, check_semantics, output_size, render
from ..grid import coordinate_grid, sample_at


@dataclass(frozen=True)
class UpscaleMethod:
    name: str
    title: str
    run: Callable  # (G, sem, size, labels, z, noise_seed) -> (B, 3, H, W)
    needs_hr_labels: bool = False
    requires: str = ""  # a Generator flag ("any_size", "reads_labels", "conv_output"), or "" (any generator)

    def applies_to(self, G: Generator) -> bool:
        return not self.requires or bool(getattr(G, self.requires))

    @property
    def needs(self) -> str:
        return "high-resolution labels" if self.needs_hr_labels else "1x labels"


def _bicubic(G, sem, size, labels, z, noise_seed):
    return F.interpolate(G(sem, z, noise_seed), size=size, mode="bicubic", align_corners=True).clamp(-1, 1)


def lanczos_resize(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Lanczos-3 resize of (B, C, h, w) to ``size`` with PIL, on the ``align_corners=True`` pixel grid."""
    (h, w), (height, width) = image.shape[-2:], size
    kx = (w - 1) / max(width - 1, 1)  # source pixels per output pixel
    ky = (h - 1) / max(height - 1, 1)
    box = (0.5 * (1 - kx), 0.5 * (1 - ky), 0.5 * (1 - kx) + width * kx, 0.5 * (1 - ky) + height * ky)
    planes = image.detach().float().cpu().numpy()
    out = np.stack([[np.asarray(Image.fromarray(plane, mode="F").resize((width, height), Image.LANCZOS, box=box))
                     for plane in channels] for channels in planes])
    return torch.from_numpy(out).to(image.device, image.dtype).clamp(-1, 1)


def _lanczos(G, sem, size, labels, z, noise_seed):
    return lanczos_resize(G(sem, z, noise_seed), size)


def _joint_bilateral(G, sem, size, labels, z, noise_seed):
    return joint_bilateral_upsample(G(sem, z, noise_seed), label_channels(G.cfg, sem),
                                    label_channels(G.cfg, labels))


def _trunk_on(G, sem_at_size, size, z, noise_seed):
    """G on the semantics resized (nearest) to ``size``: its trunk runs at the output size."""
    return G(F.interpolate(sem_at_size, size=size, mode="nearest"), z, noise_seed)


def _trunk_nearest(G, sem, size, labels, z, noise_seed):
    return _trunk_on(G, sem, size, z, noise_seed)


def _trunk_hr(G, sem, size, labels, z, noise_seed):
    return _trunk_on(G, labels, size, z, noise_seed)


def _features_bilinear(G, sem, size, labels, z, noise_seed, max_chunk_pixels: int = 1 << 13):
    """SPADE's trunk features sampled bilinearly at the output pixels, then its own 3x3 conv + tanh.

    Banded like :func:`~.render.render`: each band samples one extra row above
    and below, so the 3x3 conv sees the same neighbours as on the whole map.
    """
    feat = G.features(sem, z, noise_seed)  # (B, C, h, w)
    height, width = size
    out = torch.empty(feat.shape[0], 3, height, width, device=feat.device, dtype=feat.dtype)
    for rows in bands(height, width, feat.shape[0], max_chunk_pixels):
        lo, hi = max(rows.start - 1, 0), min(rows.stop + 1, height)
        coords = coordinate_grid(size, device=feat.device, dtype=torch.float32, rows=slice(lo, hi))
        band = F.pad(sample_at(feat, coords), (0, 0, int(rows.start == 0), int(rows.stop == height)))
        out[:, :, rows] = torch.tanh(F.conv2d(band, G.conv_img.weight, G.conv_img.bias, padding=(0, 1)))
    return out


def _coordinates(G, sem, size, labels, z, noise_seed):
    return render(G, sem, size=size, z=z, noise_seed=noise_seed)


def _coordinates_hr(G, sem, size, labels, z, noise_seed):
    return render(G, sem, size=size, z=z, labels=labels, noise_seed=noise_seed)


METHODS: dict[str, UpscaleMethod] = {m.name: m for m in (
    UpscaleMethod("bicubic", "1x output, bicubic", _bicubic),
    UpscaleMethod("lanczos", "1x output, Lanczos-3", _lanczos),
    UpscaleMethod("joint_bilateral_hr", "1x output, joint bilateral within the high-res label classes",
                  _joint_bilateral, needs_hr_labels=True),
    UpscaleMethod("features_bilinear", "SPADE trunk features resampled bilinearly, then its final conv",
                  _features_bilinear, requires="conv_output"),
    UpscaleMethod("trunk_nearest", "whole generator at the output size on nearest-upsampled 1x labels",
                  _trunk_nearest),
    UpscaleMethod("trunk_hr", "whole generator at the output size on the high-res labels", _trunk_hr,
                  needs_hr_labels=True),
    UpscaleMethod("coordinates", "trunk at 1x, per-pixel decoder on the enlarged pixel grid", _coordinates,
                  requires="any_size"),
    UpscaleMethod("coordinates_hr", "trunk at 1x, per-pixel decoder reading the high-res labels",
                  _coordinates_hr, needs_hr_labels=True, requires="reads_labels"),
)}


def check_method(G: Generator, name: str, have_hr_labels: bool) -> UpscaleMethod:
    """The method called ``name``, or ValueError if it is unknown, does not apply to ``G``, or needs
    high-resolution labels that are not there."""
    if name not in METHODS:
        raise ValueError(f"unknown upscaling method {name!r}: choose one of {', '.join(METHODS)}")
    method = METHODS[name]
    if not method.applies_to(G):
        usable = ", ".join(m.name for m in METHODS.values() if m.applies_to(G))
        raise ValueError(f"method {name!r} does not apply to the {G.kind} generator; it can use: {usable}")
    if method.needs_hr_labels and not have_hr_labels:
        raise ValueError(f"method {name!r} needs the label map at the output resolution (labels=); only "
                         "the procedural street scenes and native-resolution datasets have one")
    return method


@torch.no_grad()
def upscale(G: Generator, sem: torch.Tensor, scale: float | None = None, size: tuple[int, int] | None = None,
            method: str = "coordinates", labels: torch.Tensor | None = None,
            z: torch.Tensor | None = None, noise_seed: NoiseSeed = None) -> torch.Tensor:
    """``G``'s image of ``sem`` (B, S, h, w) at ``scale`` or ``size`` by one method -> (B, 3, H, W) in [-1, 1].

    ``labels``: semantics (B, S, H, W) of the same scene at the output size, for
    the methods that need them; ``noise_seed``: as in :func:`~.render.render`.
    """
    sem = check_semantics(G, sem)
    height, width = output_size(tuple(sem.shape[-2:]), scale, size)
    check_output_pixels(height, width)
    chosen = check_method(G, method, labels is not None)
    if labels is not None and tuple(labels.shape[-2:]) != (height, width) and chosen.needs_hr_labels:
        raise ValueError(f"labels= are {tuple(labels.shape[-2:])}, the output is {(height, width)}: give the "
                         "label map at the output size")
    return chosen.run(G, sem, (height, width), labels, z, noise_seed)
