"""PixelHead anatomy (notebook 03): parameter bookkeeping, cost formulas, independence, ablations."""
from __future__ import annotations

import pytest
import torch
from matplotlib.figure import Figure

import posgen_lib as pg
from posgen_lib.course.lessons import pixel_head as ha


@pytest.fixture(scope="module")
def tiny():
    cfg = pg.preset("tiny").model
    torch.manual_seed(0)
    G = pg.PosGenGenerator(cfg).eval()
    sem = torch.rand(2, cfg.semantic_nc, *cfg.image_size)
    return G, sem


@pytest.mark.parametrize("widths", [(16, 16, 16), (64, 32, 48), (256, 256, 256)])
def test_cost_formula_counts_the_real_head(widths):
    f, g, h = widths
    head = pg.PixelHead(64, f, g, h)
    assert ha.head_cost(64, f, g, h)["params"] == pg.count_parameters(head)
    assert ha.head_widths(head) == dict(feat_nc=64, feat_fourier=f, coord_fourier=g, hidden=h)
    parts = ha.head_breakdown(head)
    assert sum(n for _, n in parts) == pg.count_parameters(head) and len(parts) == 6


def test_cost_formula_per_pixel_work():
    cost = ha.head_cost(feat_nc=4, feat_fourier=5, coord_fourier=6, hidden=7)
    assert cost["macs_cached"] == 4 * 5 + 5 * 7 + 7 * 7 + 3 * 7
    assert cost["macs"] == cost["macs_cached"] + 2 * 6 + (2 + 6) * 7
    assert (cost["sines"], cost["sines_cached"]) == (11, 5)
    assert "conv_img: 1,731 params" in ha.width_table(64)


def test_model_counts_match_direct_counts():
    (row,) = ha.model_counts(("tiny",))
    cfg = pg.preset("tiny").model
    assert row["posgen"] == pg.count_parameters(pg.PosGenGenerator(cfg))
    assert row["posgen"] - row["head"] == row["spade"] - row["conv_img"]
    assert "tiny" in ha.counts_text([row])


@pytest.mark.parametrize("scale", [1.0, 2.5, 0.5])
def test_pixels_computed_alone_match_the_full_render(tiny, scale):
    G, sem = tiny
    assert ha.subset_check(G, sem, scale=scale, count=40) < 1e-5


def test_subset_check_detects_a_head_that_looks_at_neighbours(tiny, monkeypatch):
    G, sem = tiny
    original = type(G.pixel_head).forward

    def leaky(self, feat, coords):  # each pixel now shows its left neighbour's colour
        return torch.roll(original(self, feat, coords), 1, dims=-1)

    monkeypatch.setattr(type(G.pixel_head), "forward", leaky)
    assert ha.subset_check(G, sem, scale=1.0) > 1e-3


def test_coordinate_ablation(tiny):
    G, sem = tiny
    images = ha.coordinate_ablation(G, sem)
    assert list(images) == list(ha.ABLATIONS)
    with torch.no_grad():
        torch.testing.assert_close(images["as trained"], G(sem))
    for name in ha.ABLATIONS[1:]:
        assert (images[name] - images["as trained"]).abs().mean() > 1e-3, name
    assert "scrambled" in ha.ablation_text(images)


def test_ablation_has_no_effect_without_position_weights(tiny):
    G, sem = tiny
    n_feat = G.pixel_head.feat_fourier.out_features
    blind = type(G)(pg.preset("tiny").model).eval()
    blind.load_state_dict(G.state_dict())
    with torch.no_grad():
        blind.pixel_head.fc1.weight[:, n_feat:] = 0  # the head no longer reads c or sin(W c + b)
    images = ha.coordinate_ablation(blind, sem)
    for name in ha.ABLATIONS[1:]:
        torch.testing.assert_close(images[name], images["as trained"])


def test_figures(tiny):
    G, sem = tiny
    images = ha.coordinate_ablation(G, sem[:1])
    assert isinstance(ha.ablation_figure(torch.zeros(32, 64, 3).numpy(), images), Figure)
    assert isinstance(ha.position_term_figure(G.pixel_head, (8, 16), count=2), Figure)
