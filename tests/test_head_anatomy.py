"""Notebook 03's lesson module: the parameter breakdown, the diagram and the frequency widget."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

import posgen_lib as pg
from posgen_lib.course.lessons import pixel_head as ha
from posgen_lib.viz import to_uint8


@pytest.fixture(scope="module")
def tiny():
    cfg = pg.preset("tiny").model
    torch.manual_seed(0)
    G = pg.PosGenGenerator(cfg).eval()
    sem = torch.rand(2, cfg.semantic_nc, *cfg.image_size)
    return G, sem


@pytest.mark.parametrize("widths", [(16, 16, 16), (64, 32, 48), (256, 256, 256)])
def test_breakdown_counts_the_real_head_and_the_notebook_formula(widths):
    f, g, h = widths
    head = pg.PixelHead(64, f, g, h)
    parts = ha.head_breakdown(head)
    assert sum(n for _, n in parts) == pg.count_parameters(head) and len(parts) == 6
    formula = (64 + 1) * f + 3 * g + (f + 2 + g + 1) * h + (h + 1) * h + 3 * (h + 1)  # as in notebook 03
    assert formula == pg.count_parameters(head)


def test_frequency_scaled_copies_and_scales_only_w_c(tiny):
    G, _ = tiny
    before = {k: v.clone() for k, v in G.state_dict().items()}
    H = ha.frequency_scaled(G, 3.0)
    key = "pixel_head.coord_fourier.linear.weight"
    for name, value in G.state_dict().items():  # G itself is untouched
        torch.testing.assert_close(value, before[name])
    for name, value in H.state_dict().items():
        torch.testing.assert_close(value, before[name] * 3.0 if name == key else before[name])


def test_aliased_frequencies_counts_against_each_axis_nyquist_limit():
    head = pg.PixelHead(4, 4, 3, 4)
    with torch.no_grad():
        # rad per coordinate unit; a 64x128 grid has 2/127 units per pixel in x, 2/63 in y
        head.coord_fourier.linear.weight.copy_(torch.tensor([[100.0, 0.0], [0.0, 50.0], [-1.0, -1.0]]))
    # x: 100 * 2/127 = 1.57 rad per pixel, y: 50 * 2/63 = 1.59: below pi
    assert ha.aliased_frequencies(head, (64, 128)) == 0
    assert ha.aliased_frequencies(head, (64, 128), factor=2.1) == 2  # 3.31 and 3.33 > pi
    assert ha.aliased_frequencies(head, (256, 512), factor=2.1) == 0  # 4x the pixels: 4x the limit
    assert ha.aliased_frequencies(head, (256, 512), factor=8.5) == 2


def _high_frequency_energy(image: np.ndarray) -> float:
    x = image.astype(np.float64)
    return float(np.abs(np.diff(x, axis=0)).mean() + np.abs(np.diff(x, axis=1)).mean())


def test_frequency_views_factor_one_is_the_model_and_more_frequency_means_finer_detail(tiny):
    G, sem = tiny
    h, w = sem.shape[-2:]
    views = ha.frequency_views(G, sem, 1.0, scale=4)
    assert views["4x"].shape == (4 * h, 4 * w, 3) and views["1x"].shape == (4 * h, 4 * w, 3)
    np.testing.assert_array_equal(views["4x"], to_uint8(pg.render(G, sem[:1], scale=4)[0]))
    small = to_uint8(pg.render(G, sem[:1])[0])
    np.testing.assert_array_equal(views["1x"][::4, ::4], small)  # each 1x pixel repeated 4x4 times
    np.testing.assert_array_equal(views["1x"][3::4, 3::4], small)
    assert "factor 1:" in views["info"] and "of 16" in views["info"]
    high = ha.frequency_views(G, sem, 64.0, scale=4)
    assert _high_frequency_energy(high["4x"]) > 2 * _high_frequency_energy(views["4x"])
    zero = ha.frequency_views(G, sem, 0.0, scale=4)
    assert not np.array_equal(zero["4x"], views["4x"])


def test_frequency_viewer_callback_rerenders(tiny):
    pytest.importorskip("ipywidgets")
    G, sem = tiny
    viewer = ha.frequency_viewer(G, sem, factors=(1, 8, 64))
    assert viewer.slider.value == 1
    h, w = sem.shape[-2:]
    for image in viewer.images.values():  # fixed on-screen size: the browser does not rescale
        assert (image.layout.width, image.layout.height) == (f"{4 * w}px", f"{4 * h}px")
    first = {k: image.value for k, image in viewer.images.items()}
    info = viewer.info.value
    viewer.slider.value = 64  # what dragging the slider does
    assert all(viewer.images[k].value != first[k] for k in first)
    assert viewer.info.value != info and viewer.info.value.startswith("factor 64")
    viewer.slider.value = 1
    assert {k: image.value for k, image in viewer.images.items()} == first


def test_figures(tiny):
    G, sem = tiny
    assert isinstance(ha.architecture_figure(), Figure)
    fig = ha.frequency_figure(G, sem, factors=(1, 64), crop=(slice(0, 64), slice(0, 128)))
    assert isinstance(fig, Figure) and len(fig.axes) == 4
    assert "aliased" in fig.axes[2].get_title()
    term = G.pixel_head.position_term(pg.coordinate_grid((8, 16)).permute(1, 2, 0))  # (8, 16, hidden)
    assert len(ha.position_term_figure(term, [0, 3]).axes) == 2
