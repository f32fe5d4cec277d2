"""Coordinate MLPs (notebook 01): encodings, rendering on any grid, spectral bias, too-large sigma."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

import posgen_lib as pg
from posgen_lib.course.lessons import fourier as cm

SMALL = dict(num_frequencies=32, hidden=64, depth=3)


def test_psnr_of_a_known_error():
    a = torch.zeros(3, 4, 4)
    assert cm.psnr(a, a + 0.2) == pytest.approx(20.0, abs=1e-4)  # 0.1 on the [0, 1] scale
    assert cm.psnr(a, a) > 100


def test_encodings_give_rgb_per_coordinate():
    v = torch.rand(5, 7, 2) * 2 - 1
    for enc in cm.ENCODINGS:
        assert cm.CoordinateMLP(enc, 3.0, **SMALL)(v).shape == (5, 7, 3)
    with pytest.raises(ValueError, match="encoding"):
        cm.CoordinateMLP("polar")


def test_learned_encoding_starts_at_the_gaussian_bandwidth():
    """sin(W v + b) with W ~ N(0, (2 pi sigma)^2) has the angular frequencies of cos(2 pi B v), B ~ N(0, sigma^2)."""
    model = cm.CoordinateMLP("learned", sigma=5.0, num_frequencies=2048)
    assert model.encode.linear.weight.std().item() == pytest.approx(2 * math.pi * 5.0, rel=0.05)


def test_same_seed_same_model_and_no_global_rng_side_effect():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a, b = cm.CoordinateMLP("learned", 2.0, seed=4), cm.CoordinateMLP("learned", 2.0, seed=4)
    assert torch.rand(1) == before
    v = torch.rand(10, 2)
    assert torch.equal(a(v), b(v))


def test_window_render_reproduces_a_crop_of_the_full_render():
    model = cm.CoordinateMLP("gaussian", 4.0, **SMALL)
    full = cm.render(model, (9, 9))  # pixel spacing 0.25 in x and y
    crop = cm.render(model, (3, 5), window=(-0.5, -0.25, 0.5, 0.25))
    torch.testing.assert_close(crop, full[:, 3:6, 2:7])


def test_stripes_pattern():
    img = cm.stripes((8, 16), cycles=(1, 2, 3))
    x, _ = pg.coordinate_grid((8, 16))
    assert img.shape == (3, 8, 16) and img.abs().max() <= 1
    torch.testing.assert_close(img[0], torch.cos(math.pi * x))


def test_fourier_features_beat_raw_coordinates_within_the_same_budget():
    """Spectral bias: on a high-frequency pattern raw (x, y) stays blurry, Fourier features do not."""
    image = cm.stripes((32, 32), cycles=(2, 4, 6))
    raw, fourier = cm.fit_many(image, [("raw", 0.0), ("gaussian", 2.0)], steps=100, **SMALL)
    assert fourier.train_psnr[-1] > raw.train_psnr[-1] + 8  # measured: 23.7 vs 9.4 dB
    assert raw.train_psnr[-1] < 12  # raw coordinates really are stuck on this budget
    assert len(raw.steps) == len(raw.train_psnr) == 10 and raw.steps[-1] == 100


def test_too_large_sigma_fits_the_pixels_but_not_between_them():
    """A huge sigma memorises the training pixels and puts noise in between (seen at 4x)."""
    image, test = cm.stripes((12, 12), (1, 2, 3)), cm.stripes((48, 48), (1, 2, 3))
    good, wild = cm.fit_many(image, [("gaussian", 1.0), ("gaussian", 40.0)], steps=100,
                             test_image=test, **SMALL)
    assert wild.train_psnr[-1] > 30  # fits the 144 training pixels (measured 38 dB) ...
    assert wild.test_psnr[-1] < good.test_psnr[-1] - 10  # ... but not between them (7.5 vs 29.5 dB)
    assert good.test_psnr[-1] > 25


def test_figures():
    image = cm.stripes((8, 16))
    results = cm.fit_many(image, [("raw", 0.0), ("learned", 2.0)], steps=2, log_every=1,
                          test_image=cm.stripes((16, 32)), **SMALL)
    for fig in (cm.grid_figure(), cm.features_figure(count=2, size=(8, 16)),
                cm.reconstructions_figure(image, results, cm.stripes((16, 32)), crop=(slice(0, 8), slice(0, 16))),
                cm.psnr_figure(results)):
        assert isinstance(fig, Figure)


def test_nyquist_limits_of_a_grid():
    assert cm.nyquist((64, 128)) == (31.75, 15.75)  # (W - 1) / 4 along x, (H - 1) / 4 along y
    # a wave at the limit alternates sign from pixel to pixel along x: cos(2 pi nu_x x_j) = (-1)^j * const
    nu_x, _ = cm.nyquist((4, 9))
    x = pg.coordinate_grid((4, 9))[0, 0]
    wave = torch.cos(2 * math.pi * nu_x * x)
    torch.testing.assert_close(wave[1:], -wave[:-1], atol=1e-5, rtol=0)


def test_feature_view_is_the_gaussian_map_and_counts_aliased_waves():
    view = cm.feature_view(4.0, count=3, size=(8, 16))
    enc = pg.GaussianFourierFeatures(2, 3, 4.0, seed=0)
    coords = pg.coordinate_grid((8, 16)).permute(1, 2, 0)
    torch.testing.assert_close(view.channels, enc(coords)[..., :3].permute(2, 0, 1))
    nu_x, nu_y = view.nyquist
    assert view.aliased == [bool(abs(bx) > nu_x or abs(by) > nu_y) for bx, by in enc.B.tolist()]
    counts = [sum(cm.feature_view(s, count=64).aliased) for s in (1.0, 6.0, 16.0, 40.0)]
    assert counts == sorted(counts) and counts[0] == 0 and counts[-1] > 40
    assert f"{counts[-1]} of 64" in cm.feature_view(40.0, count=64).caption


def test_feature_panel_keeps_pixels_and_aspect():
    view = cm.feature_view(2.0, count=2, size=(4, 6))
    panel = cm.feature_panel(view, zoom=3)
    assert panel.shape == (12, 2 * 18 + 4, 3) and panel.dtype == np.uint8
    block = panel[:3, :3]  # pixel (0, 0) of channel 0: a 3 x 3 square of one colour
    assert (block == block[0, 0]).all()
    white = cm.colour_map(torch.zeros(2, 2), limit=1.0)
    assert (white > 240).all()  # 0 is the white middle of RdBu


def test_feature_slider_redraws_when_sigma_moves():
    slider = cm.feature_slider(size=(8, 16), count=3, sigma=1.0)
    before_image, before_info = slider.image.value, slider.info.value
    assert before_image[:4] == b"\x89PNG" and "sigma = 1 " in before_info
    slider.slider.value = 40.0  # as dragging the slider would
    assert slider.image.value != before_image
    assert "sigma = 40" in slider.info.value
    assert slider.info.value != before_info
