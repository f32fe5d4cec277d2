"""Notebook 08's helpers: one-pixel influence maps, side-by-side figures, cost table."""
from __future__ import annotations

import torch

import posgen_lib as pg
from posgen_lib.course.lessons import pixelwise as lessons


def trained_like(cfg, context: int):
    """A pixel-wise generator whose modulation is not zero (as after training)."""
    torch.manual_seed(0)
    model = pg.preset("tiny").model
    model.pixelwise_context = context
    G = pg.pixelwise.PixelwiseGenerator(model).eval()
    for p in G.pixel_head.modulation.parameters():
        torch.nn.init.normal_(p, std=0.5)
    return G


def tiny_scene():
    streets = pg.data.SyntheticStreets(size=(32, 64), length=2, seed=0, split="test")
    return streets[0]


def test_influence_of_one_label_pixel_matches_each_architecture():
    scene = tiny_scene()
    car = pg.data.get_label_set("synthetic").id_of("car")
    pixel = (20, 30)
    assert scene["label"][pixel] != car
    strict = lessons.influence_map(trained_like(None, 0), scene["label"], scene["instance"], pixel, car)
    assert strict.sum() == 1 and strict[pixel]
    context = lessons.influence_map(trained_like(None, 16), scene["label"], scene["instance"], pixel, car)
    assert context[pixel] and context.sum() > 1  # the context code carries the edit to other pixels
    torch.manual_seed(0)
    posgen = pg.build_generator(pg.preset("tiny").model).eval()
    spread = lessons.influence_map(posgen, scene["label"], scene["instance"], pixel, car, tolerance=0)
    assert spread.sum() > 1


def test_figures_and_cost_table():
    scene = tiny_scene()
    models = {"a": trained_like(None, 0), "b": trained_like(None, 16)}
    fig = lessons.influence_figure(models, scene["label"], scene["instance"], (5, 5), 26)
    assert len(fig.axes) == 3 and fig.axes[0].get_title().startswith("a: 1 change")  # 2 panels + colour bar
    scenes = pg.eval.scenes.synthetic_scenes(pg.preset("tiny"), 2, 1.0)
    assert len(lessons.side_by_side(models, scenes, range(2), scale=2).axes) == 8
    sem = pg.course.views.semantics(models["a"], scene)
    rows = lessons.cost_rows(models, sem, scales=(1, 2))
    assert rows[0]["output_res_convs"] == 0 and rows[0]["parameters"] == pg.count_parameters(models["a"])
    assert all(r["render_2x_s"] > 0 for r in rows)
    assert "render_2x_s" in lessons.format_costs(rows)
