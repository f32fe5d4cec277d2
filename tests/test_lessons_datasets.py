"""Figures and the scene browser of notebook 04 (posgen_lib/course/lessons/datasets.py)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

import posgen_lib as pg
from posgen_lib.course.lessons import datasets as lessons
from posgen_lib.data import SyntheticStreets, colorize, instance_edges
from posgen_lib.viz import to_uint8


@pytest.fixture(scope="module")
def streets():
    return SyntheticStreets(size=(16, 32), length=2, seed=0)


def test_nearest_rows_follow_align_corners():
    rows = lessons.nearest_rows(64, 4)
    assert rows[:4].tolist() == [0, 4, 8, 12] and rows[-2:].tolist() == [251, 255]
    centres = pg.coordinate_grid((1, 64))[0, 0].double()  # x of the 64 centres
    fine = pg.coordinate_grid((1, 256))[0, 0].double()
    gap = (fine[rows] - centres).abs()  # the chosen fine centre is within half a fine pixel
    assert gap.max() <= (fine[1] - fine[0]) / 2 + 1e-6
    assert (gap <= (fine[rows.clamp(max=254) + 1] - centres).abs() + 1e-9).all()
    assert lessons.nearest_rows(1, 4).tolist() == [0]


def test_resolution_figure_of_an_exact_copy_shows_no_disagreement():
    small = {"label": torch.randint(0, 3, (8, 16), generator=torch.Generator().manual_seed(0)) + 7,
             "image": torch.zeros(3, 8, 16)}
    near_r, near_c = torch.round(torch.arange(32) * 7 / 31).long(), torch.round(torch.arange(64) * 15 / 63).long()
    large = {"label": small["label"][near_r][:, near_c], "image": torch.zeros(3, 32, 64)}
    fig = lessons.resolution_figure(small, large)
    assert len(fig.axes) == 6 and "(0.0%)" in fig.axes[5].get_title()
    wrong = {"label": large["label"].roll(3, 1), "image": large["image"]}
    assert "(0.0%)" not in lessons.resolution_figure(small, wrong).axes[5].get_title()


def test_browse_panels_show_the_scene_its_photo_and_edges():
    size = (16, 32)
    panels = lessons.browse_panels("val", 1, 1, size=size, display_width=1)  # true pixels
    item = SyntheticStreets(size=size, length=2, seed=0, split="val")[1]
    np.testing.assert_array_equal(panels["labels"], colorize(item["label"], "synthetic"))
    np.testing.assert_array_equal(panels["photo"], to_uint8(item["image"]))
    edges = instance_edges(item["instance"][None, None])[0, 0].numpy() > 0
    np.testing.assert_array_equal(panels["edges"][..., 0] == 255, edges)
    assert "val scene 1 at 1x" in panels["info"]


def test_browse_panels_respond_to_each_control():
    size = (16, 32)
    base = lessons.browse_panels("train", 0, 1, size=size, display_width=1)
    assert not np.array_equal(lessons.browse_panels("train", 1, 1, size=size, display_width=1)["labels"],
                              base["labels"])
    assert not np.array_equal(lessons.browse_panels("test", 0, 1, size=size, display_width=1)["labels"],
                              base["labels"])
    double = lessons.browse_panels("train", 0, 2, size=size, display_width=1)
    assert double["photo"].shape == (32, 64, 3) and base["photo"].shape == (16, 32, 3)
    enlarged = lessons.browse_panels("train", 0, 1, size=size, display_width=128)  # 4x4 per pixel
    assert enlarged["labels"].shape == (64, 128, 3)
    np.testing.assert_array_equal(enlarged["labels"][::4, ::4], base["labels"])
    np.testing.assert_array_equal(enlarged["labels"][3::4, 3::4], base["labels"])


def test_item_browser_callback_redraws():
    pytest.importorskip("ipywidgets")
    browser = lessons.item_browser(length=3, size=(16, 32))
    first = {k: image.value for k, image in browser.images.items()}
    browser.index.value = 2  # what moving the slider does
    assert browser.images["labels"].value != first["labels"] and "train scene 2" in browser.info.value
    browser.split.value = "test"
    assert "test scene 2" in browser.info.value
    browser.scale.value = 2
    assert "at 2x (32x64" in browser.info.value
    for image in browser.images.values():  # 512 pixels wide at every scale, pixels repeated
        assert (image.layout.width, image.layout.height) == ("512px", "256px")
    browser.index.value, browser.split.value, browser.scale.value = 0, "train", 1
    assert {k: image.value for k, image in browser.images.items()} == first


def test_figures(streets):
    expected_axes = [
        (lessons.palette_figure("cityscapes", highlight="synthetic"), 1),
        (lessons.preprocess_figure(streets.render(0, size=(32, 64)), load_size=32, crop_size=16), 6),
        (lessons.resolution_figure(streets[0], streets.render(0, size=(32, 64))), 6),
        (lessons.browse_figure(items=(("train", 0, 1), ("val", 1, 2)), size=(16, 32)), 6),
    ]
    for fig, axes in expected_axes:
        assert isinstance(fig, Figure) and len(fig.axes) == axes
