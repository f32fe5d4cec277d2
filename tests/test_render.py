"""Rendering equivalences: scale 1, chunking, windows, limits."""
from __future__ import annotations

import pytest
import torch

import posgen_lib as pg
from posgen_lib.perf.memory import PeakTensorMemory
from posgen_lib.rendering import render, upscale


@pytest.fixture(scope="module")
def model():
    cfg = pg.preset("tiny").model
    torch.manual_seed(0)
    G = pg.PosGenGenerator(cfg).eval()
    label = torch.randint(0, cfg.label_nc, (2, *cfg.image_size))
    instance = torch.randint(0, 3, (2, *cfg.image_size))
    sem = pg.data.to_semantics(label, instance, "cityscapes")
    return G, sem


def test_scale_one_is_the_forward_exactly(model):
    G, sem = model
    with torch.no_grad():
        assert torch.equal(render(G, sem), G(sem))
        assert torch.equal(render(G, sem, scale=1.0, max_chunk_pixels=100), G(sem))


@pytest.mark.parametrize("scale", [0.5, 2, 3.3])
def test_chunked_equals_unchunked(model, scale):
    G, sem = model
    whole = render(G, sem, scale=scale, max_chunk_pixels=10**9)
    banded = render(G, sem, scale=scale, max_chunk_pixels=257)
    assert whole.shape[-2:] == (round(32 * scale), round(64 * scale))
    torch.testing.assert_close(banded, whole, atol=1e-6, rtol=0)


def test_window_equals_region_of_full_render(model):
    G, sem = model
    full = render(G, sem, size=(97, 129))  # pixel spacing 2/96 in y, 2/128 in x
    ys, xs = torch.linspace(-1, 1, 97), torch.linspace(-1, 1, 129)
    r0, r1, c0, c1 = 10, 40, 70, 121
    window = (xs[c0].item(), ys[r0].item(), xs[c1].item(), ys[r1].item())
    part = render(G, sem, size=(r1 - r0 + 1, c1 - c0 + 1), window=window)
    torch.testing.assert_close(part, full[:, :, r0:r1 + 1, c0:c1 + 1], atol=1e-5, rtol=0)


def test_upscaled_render_agrees_with_1x_at_shared_pixels(model):
    """At 2x - 1 pixels per side, every other output pixel sits on a 1x pixel centre."""
    G, sem = model
    one = render(G, sem)
    two = render(G, sem, size=(2 * 32 - 1, 2 * 64 - 1))
    torch.testing.assert_close(two[:, :, ::2, ::2], one, atol=1e-5, rtol=0)


def _working_bytes(G, sem, **kwargs) -> tuple[int, torch.Tensor]:
    """Peak live tensor bytes of a render, minus its output buffer."""
    with PeakTensorMemory() as mem:
        out = render(G, sem, **kwargs)
    return mem.peak_bytes - out.numel() * out.element_size(), out


def test_chunked_working_memory_does_not_grow_with_output_size(model):
    G, sem = model
    at_4x, _ = _working_bytes(G, sem, scale=4, max_chunk_pixels=1 << 12)
    at_16x, out = _working_bytes(G, sem, scale=16, max_chunk_pixels=1 << 12)
    unchunked_16x, _ = _working_bytes(G, sem, scale=16, max_chunk_pixels=1 << 30)
    assert out.shape == (2, 3, 512, 1024) and torch.isfinite(out).all()
    assert at_16x <= 1.1 * at_4x
    assert unchunked_16x > 5 * at_16x  # the measurement can tell the difference


def test_request_above_limit_is_a_clear_error(model):
    G, sem = model
    with pytest.raises(ValueError, match="exceeds the limit of 1,000,000"):
        render(G, sem, scale=1000, max_output_pixels=10**6)
    with pytest.raises(ValueError, match="exactly one of"):
        render(G, sem, scale=2, size=(64, 128))
    with pytest.raises(TypeError, match="spade generator computes its output with a convolution"):
        render(pg.SPADEGenerator(pg.preset("tiny").model), sem)


def test_upscale_methods_shapes(model):
    G, sem = model
    B = pg.SPADEGenerator(pg.preset("tiny").model).eval()
    for gen, method in ((G, "coordinates"), (G, "bicubic"), (B, "bicubic"), (B, "trunk_nearest"), (G, "trunk_nearest"), (B, "features_bilinear"), (G, "lanczos")):
        out = upscale(gen, sem, scale=2, method=method)
        assert out.shape == (2, 3, 64, 128) and out.abs().max() <= 1
