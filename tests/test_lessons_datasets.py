"""Tables, figures and measurements of notebook 04 (posgen_lib/lessons_datasets.py)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from posgen_lib.course.lessons import datasets as lessons
from posgen_lib.data import SyntheticStreets, fabricate_tree


@pytest.fixture(scope="module")
def streets():
    return SyntheticStreets(size=(16, 32), length=2, seed=0)


def test_label_set_summary_gives_semantic_nc():
    lines = lessons.label_set_summary().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("cityscapes") and lines[0].endswith("= 36")
    assert lines[1].startswith("synthetic") and " 12 classes" in lines[1]
    assert lines[2].startswith("coco_stuff") and "channel 182" in lines[2] and lines[2].endswith("= 184")


def test_train_id_table_rows():
    rows = {line.split()[0]: line.split() for line in lessons.train_id_table(("road", "parking")).splitlines()[1:]}
    assert rows["road"][1:3] == ["7", "0"]
    assert rows["parking"][1:3] == ["9", "255"]


def test_preprocess_table_sizes():
    lines = lessons.preprocess_table((2048, 1024), load_size=512, crop_size=256).splitlines()
    outputs = {line.split()[0]: line.split()[-1] for line in lines[1:]}
    assert outputs == {"resize_and_crop": "256x256", "scale_width_and_crop": "256x256",
                       "scale_shortside_and_crop": "256x256", "fixed": "256x128",
                       "none": "2048x1024"}


def test_block_mode():
    label = np.array([[1, 1, 2, 2],
                      [1, 3, 2, 2],
                      [4, 4, 5, 6],
                      [4, 7, 6, 5]])
    assert np.array_equal(lessons.block_mode(label, 2), np.array([[1, 2], [4, 5]]))  # tie 5/6 -> 5


class _Blocks:
    """A dataset stub whose large render is the small label upsampled, optionally corrupted."""

    size = (4, 8)

    def __init__(self, corrupt: bool):
        self.corrupt = corrupt
        self.label = torch.arange(32).reshape(4, 8) % 5

    def __getitem__(self, index):
        return {"label": self.label}

    def render(self, index, size):
        large = self.label.repeat_interleave(4, 0).repeat_interleave(4, 1).clone()
        if self.corrupt:
            large[:4, :4] = 99  # one whole block wrong
        return {"label": large}


def test_label_agreement_counts_disagreeing_pixels():
    assert lessons.label_agreement(_Blocks(False), range(2), factor=4) == 1.0
    assert lessons.label_agreement(_Blocks(True), range(2), factor=4) == pytest.approx(31 / 32)


def test_label_agreement_of_synthetic_scenes(streets):
    assert lessons.label_agreement(streets, range(2), factor=2) > 0.9


def test_lane_marks_are_bright_road_pixels_only():
    label = torch.tensor([[7, 7, 8]])
    image = torch.tensor([[[0.9, -0.9, 0.9]]]).expand(3, 1, 3)  # bright, dark, bright
    item = {"label": label, "image": image}
    assert lessons.lane_marks(item).tolist() == [[True, False, False]]


def test_tree_listing_is_relative_and_sorted(tmp_path):
    lines = lessons.tree_listing(fabricate_tree(tmp_path, "coco_stuff")).splitlines()
    assert lines == sorted(lines) and len(lines) == 9
    assert lines[0] == "train_img/000000000009.jpg"


def test_figures(streets):
    item = streets[0]
    expected_axes = [
        (lessons.palette_figure("cityscapes", highlight="synthetic"), 1),
        (lessons.semantics_figure(item, classes=("road", "car")), 4),
        (lessons.preprocess_figure(streets.render(0, size=(32, 64)), load_size=32, crop_size=16), 6),
        (lessons.scene_gallery(streets, n=2), 4),
        (lessons.resolution_figure(streets, 0, factor=2), 6),
        (lessons.lane_marks_figure(streets, 0, factor=2), 3),
    ]
    for fig, axes in expected_axes:
        assert isinstance(fig, Figure) and len(fig.axes) == axes
