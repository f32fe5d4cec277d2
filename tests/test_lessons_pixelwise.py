"""Notebook 08's helpers: the architecture diagram, one-pixel influence maps and radii, the widget, figures."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import posgen_lib as pg
from posgen_lib.course.lessons import pixelwise as lessons

CAR = pg.data.get_label_set("synthetic").id_of("car")


def trained_like(context: int):
    """A tiny pixel-wise generator whose modulation is not zero (as after training)."""
    torch.manual_seed(0)
    model = pg.preset("tiny").model
    model.pixelwise_context = context
    G = pg.pixelwise.PixelwiseGenerator(model).eval()
    for p in G.pixel_head.modulation.parameters():
        torch.nn.init.normal_(p, std=0.5)
    return G


def tiny_posgen():
    torch.manual_seed(0)
    return pg.build_generator(pg.preset("tiny").model).eval()


def tiny_scene():
    streets = pg.data.SyntheticStreets(size=(32, 64), length=2, seed=0, split="test")
    return streets[0]


def test_influence_of_one_label_pixel_matches_each_architecture():
    scene = tiny_scene()
    pixel = (20, 30)
    assert scene["label"][pixel] != CAR
    strict = lessons.influence_map(trained_like(0), scene["label"], scene["instance"], pixel, CAR)
    assert strict.sum() == 1 and strict[pixel]
    context = lessons.influence_map(trained_like(16), scene["label"], scene["instance"], pixel, CAR)
    assert context[pixel] and context.sum() > 1  # the context code carries the edit to other pixels
    spread = lessons.influence_map(tiny_posgen(), scene["label"], scene["instance"], pixel, CAR, tolerance=0)
    assert spread.sum() > 1


def test_influence_radius_is_the_chebyshev_reach_of_the_changed_pixels():
    change = torch.zeros(6, 10)
    assert lessons.influence_radius(change, (2, 2), 1e-6) == -1
    change[2, 2] = 1.0
    assert lessons.influence_radius(change, (2, 2), 1e-6) == 0
    change[5, 6] = 0.01  # 3 rows, 4 columns away
    assert lessons.influence_radius(change, (2, 2), 0.01) == 4  # >= threshold counts
    assert lessons.influence_radius(change, (2, 2), 0.02) == 0
    assert lessons.influence_radius(change, (5, 9), 0.001) == 7


def test_posgen_reach_depends_on_the_pixel_grid_of_its_coarse_blocks():
    """SPADE resizes labels by nearest sampling: an edit on every block's grid reaches farther."""
    G = pg.pretrained("synthetic")
    scene = pg.data.SyntheticStreets(size=(64, 128), length=1, seed=0, split="test")[0]
    on_grid = lessons.change_magnitude(G, scene["label"], scene["instance"], (32, 32), CAR)
    off_grid = lessons.change_magnitude(G, scene["label"], scene["instance"], (33, 33), CAR)
    assert lessons.influence_radius(on_grid, (32, 32), 1e-6) > 4 * lessons.influence_radius(off_grid, (33, 33), 1e-6)


def test_influence_panel_marks_the_edit_and_counts_what_changes():
    scene = tiny_scene()
    image, stats = lessons.influence_panel(trained_like(0), scene["label"], scene["instance"], (10, 20), CAR, zoom=3)
    assert image.shape == (32 * 3, 64 * 3, 3) and image.dtype == np.uint8
    assert stats == {"changed": 1, "visible": stats["visible"], "radius": 0, "visible_radius": stats["visible_radius"]}
    assert stats["visible"] in (0, 1) and stats["visible_radius"] in (-1, 0)
    assert tuple(image[10 * 3, (20 + 2) * 3]) == (0, 230, 255)  # the crosshair, two pixels right of the edit
    assert tuple(image[10 * 3, 20 * 3]) != (0, 230, 255)  # the edited pixel itself stays visible
    assert lessons.describe("m", stats).startswith("m: 1 px change (radius 0)")


def test_influence_explorer_follows_the_sliders_and_the_class_menu():
    pytest.importorskip("ipywidgets", reason="needs ipywidgets (the notebooks extra)")
    scene = tiny_scene()
    models = {"strict": trained_like(0), "context": trained_like(16)}
    explorer = lessons.influence_explorer(models, scene["label"], scene["instance"], pixel=(10, 20))
    assert explorer.pixel == (10, 20) and explorer.stats["strict"]["changed"] == 1
    picture = explorer.images["strict"]
    assert (picture.layout.width, picture.layout.height) == ("192px", "96px")  # 3x, aspect kept
    assert picture.value[:8] == b"\x89PNG\r\n\x1a\n"
    first = explorer.images["strict"].value
    explorer.x.value = 40  # moving the slider re-renders
    assert explorer.pixel == (10, 40)
    assert explorer.images["strict"].value != first
    assert explorer.stats["strict"]["radius"] == 0 and explorer.stats["context"]["changed"] > 1
    assert "(row 10, col 40)" in explorer.titles["labels"].value
    explorer.y.value = 5
    assert explorer.pixel == (5, 40)
    current = scene["label"][5, 40].item()
    explorer.to_class.value = pg.data.get_label_set("synthetic").name_of(current)  # no edit at all
    assert explorer.stats["strict"]["changed"] == 0 and explorer.stats["strict"]["radius"] == -1
    assert "strict: 0 px change" in explorer.titles["strict"].value
    assert scene["label"][5, 40].item() == current  # the scene itself is never edited


def test_figures():
    scene = tiny_scene()
    models = {"a": trained_like(0), "b": trained_like(16)}
    fig = lessons.influence_figure(models, scene["label"], scene["instance"], (5, 5), CAR)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0].startswith("labels: pixel (row 5, col 5) -> car")
    assert titles[1].startswith("a: 1 px change (radius 0)") and len(fig.axes) == 4  # 3 panels + colour bar
    width, height = fig.get_size_inches()
    assert width < 10 and height < 6
    scenes = pg.eval.scenes.synthetic_scenes(pg.preset("tiny"), 2, 1.0)
    fig = lessons.side_by_side(models, scenes, range(2), scale=2)
    assert len(fig.axes) == 8
    arch = lessons.architecture_figure(pg.preset("synthetic").model)
    text = " ".join(t.get_text() for t in arch.axes[0].texts)
    assert "avg-pool 16x16" in text and "(B, 64, H/16, W/16)" in text and "4 modulated FC layers (64)" in text
