"""The texture of any-resolution PosGen: a zero-mean residual driven by per-pixel noise and modulated by the labels.

A head trained to reconstruct high-resolution photos with an L1 loss paints
their conditional median: sharp edges where the labels put them, and flat
region interiors, because the fine grain of asphalt or foliage is not
predictable from the labels (Blau and Michaeli, "The Perception-Distortion
Tradeoff", CVPR 2018). What is predictable is its *statistics* per class. So
the any-resolution generator keeps that faithful base and adds, on top, a
texture residual that a discriminator trains (the split of ESRGAN's network
interpolation, Wang et al. 2018, and of StyleGAN's noise inputs, Karras et al.
2019, Sec. 3.2), with an amplitude ``t`` chosen at render time::

    y_p = tanh(base_p + t * tau_p)                 t in [0, 1]: 0 is the faithful base

For output pixel p (``n`` octaves of noise, ``e_p`` the embedding of the
semantics at p)::

    z_p      = value noise of p at periods 1, 2, 4 ... 2^(n-1) output pixels (:func:`value_noise`)
    h(z, e)  = lrelu(W_1 [z, e] * (1 + gamma(e)) + beta(e))      SFTGAN / SPADE-style modulation by the class
    T(z, e)  = W_2 h(z, e)
    tau_p    = (T(z_p, e_p) - T(-z_p, e_p)) / 2                  odd in z: zero mean, as z is symmetric

``tau`` is an odd function of a symmetric noise, so its mean is exactly zero:
the texture changes the grain, never the colour the base gives a region.

**Value noise.** Every output pixel is still computed on its own. Its noise is
a function of its position in the output grid and the seed alone: at octave k
the grid of 2^k-pixel cells gets a hashed value in [-1, 1] at each corner, and a
pixel reads the bilinear blend of its cell's corners. A window of a render, or
the same pixels rendered in another band, get the same noise; a finer octave
adds finer grain, and the texture head mixes the octaves per class.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

MASK = 0xFFFFFFFF  # the hash works on 32-bit words held in int64
# The texture amplitudes a person is shown: the widget's knob and the experiment's front.
TEXTURE_STEPS = (0.0, 0.25, 0.5, 0.75, 1.0)


def _mix(h: torch.Tensor) -> torch.Tensor:
    """A 32-bit integer hash finalizer (xor-shift-multiply, as in MurmurHash3's): int64 words -> int64 words."""
    h = h & MASK
    h = ((h ^ (h >> 16)) * 0x45D9F3B) & MASK
    h = ((h ^ (h >> 16)) * 0x45D9F3B) & MASK
    return h ^ (h >> 16)


def lattice_values(ix: torch.Tensor, iy: torch.Tensor, seed: int | torch.Tensor, octave: int) -> torch.Tensor:
    """Uniform values in [-1, 1] at integer lattice points (ix, iy) of an octave, fixed by the seed (an int,
    or int64 seeds that broadcast against ``ix``, e.g. (B, 1, 1) for one per image)."""
    salt = _mix(torch.as_tensor(seed, dtype=torch.int64, device=ix.device) * 64 + octave)
    h = _mix(_mix(ix) ^ _mix(iy + 0x9E3779B) ^ salt)
    return h.double() / MASK * 2 - 1


def value_noise(position: torch.Tensor, seed: int | torch.Tensor, octaves: int) -> torch.Tensor:
    """Noise (..., octaves) at positions (..., 2) in output pixels (x, y), octave k with cells of 2^k pixels;
    ``seed`` an int, or B int64 seeds (e.g. of shape (B, 1, 1)), one per leading index of ``position``.

    Each lattice point the pixels' cells touch is hashed once, into a table over their bounding box, and the
    pixels read its corners from there (four reads instead of four hashes; the same values as
    :func:`lattice_values` at every corner). Scattered positions, whose box is larger than twice their
    number, hash their corners directly."""
    seeds = torch.as_tensor(seed, dtype=torch.int64, device=position.device).reshape(-1, 1, 1)  # (Bs, 1, 1)
    seed_per_index = seeds.view(-1, *[1] * (position.dim() - 2))  # (Bs, 1, ...): broadcasts against x or y
    out = []
    for k in range(octaves):
        p = position.double() / 2**k
        cell = torch.floor(p)
        fx, fy = (p - cell).unbind(-1)
        ix, iy = cell.long().unbind(-1)  # (...,) the cell's top-left lattice point
        x0, y0 = int(ix.min()), int(iy.min())
        width, height = int(ix.max()) - x0 + 2, int(iy.max()) - y0 + 2
        if width * height > 2 * ix.numel():
            corner = lambda dx, dy: lattice_values(ix + dx, iy + dy, seed_per_index, k)  # noqa: E731
        else:
            xs = torch.arange(x0, x0 + width, device=ix.device).view(1, 1, width)
            ys = torch.arange(y0, y0 + height, device=ix.device).view(1, height, 1)
            table = lattice_values(xs, ys, seeds, k).flatten(1)  # (Bs, height * width)
            at = ((iy - y0) * width + (ix - x0)).reshape(len(seeds), -1)  # (Bs, pixels per seed)
            corner = lambda dx, dy: table.gather(1, at + (dy * width + dx)).view(ix.shape)  # noqa: E731
        top = corner(0, 0) * (1 - fx) + corner(1, 0) * fx
        bottom = corner(0, 1) * (1 - fx) + corner(1, 1) * fx
        out.append(top * (1 - fy) + bottom * fy)
    return torch.stack(out, -1).to(position.dtype)


class TextureHead(nn.Module):
    """tau(z, e): the odd, class-modulated map from a pixel's noise octaves to an RGB texture residual."""

    def __init__(self, semantic_nc: int, octaves: int, embed: int, hidden: int):
        super().__init__()
        self.octaves = octaves
        self.embed = nn.Linear(semantic_nc, embed)
        self.fc1 = nn.Linear(octaves + embed, hidden)
        self.gamma = nn.Linear(embed, hidden)
        self.beta = nn.Linear(embed, hidden)
        self.fc2 = nn.Linear(hidden, 3)

    def forward_pixels(self, noise: torch.Tensor, semantics: torch.Tensor) -> torch.Tensor:
        """tau for N pixels: noise (N, octaves), semantics (N, S) -> (N, 3), odd in the noise.

        The two branches share their class terms: with W_1 = [W_z, W_e], the pre-activation of h(+-z, e) is
        a_+- = (W_e e + b_1) * (1 + gamma) + beta +- (W_z z) * (1 + gamma), and fc2's bias cancels in the
        difference, so tau = W_2 (lrelu(a_+) - lrelu(a_-)) / 2."""
        e = self.embed(semantics)  # (N, embed)
        scale = 1 + self.gamma(e)  # (N, hidden)
        w_noise, w_class = self.fc1.weight.split([self.octaves, e.shape[-1]], dim=1)
        class_term = F.linear(e, w_class, self.fc1.bias) * scale + self.beta(e)  # (N, hidden)
        noise_term = F.linear(noise, w_noise) * scale  # (N, hidden)
        odd = F.leaky_relu(class_term + noise_term, 0.2) - F.leaky_relu(class_term - noise_term, 0.2)
        return F.linear(odd, self.fc2.weight) / 2
