"""Notebook 02's class explorer (widget callback), the residual-block diagram and the conv operator norm."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

import posgen_lib as pg
from posgen_lib.course.lessons import spade as sa

ROAD, SKY, CAR = 7, 23, 26


@pytest.fixture(scope="module")
def scene_maps():
    """A label map (16, 32) with road below, sky above and a car, and SPADE maps at 8 x 16."""
    label = torch.full((16, 32), SKY)
    label[8:] = ROAD
    label[9:12, 10:14] = CAR
    torch.manual_seed(0)
    layer = pg.SPADE(6, 35, hidden=8, norm="instance")
    onehot = torch.nn.functional.one_hot(label, 35).permute(2, 0, 1)[None].float()  # (1, 35, 16, 32)
    maps = sa.modulation_maps(layer, torch.randn(1, 6, 8, 16), onehot)
    return label, maps


def test_present_classes_largest_first():
    label = torch.full((4, 8), SKY)
    label[2:] = ROAD
    label[3, :5] = CAR
    assert sa.present_classes(label) == [("sky", SKY), ("road", ROAD), ("car", CAR)]


def test_class_modulation_region_and_channels(scene_maps):
    label, maps = scene_maps
    view = sa.class_modulation(maps, label, SKY, count=2)
    assert view.name == "sky" and view.mask.shape == (8, 16)
    assert view.mask[:4].all() and not view.mask[4:].any()  # labels resized (nearest) to the layer
    gamma = maps["gamma"][0]
    score = (gamma[:, view.mask].mean(1) - gamma[:, ~view.mask].mean(1)).abs() / gamma.flatten(1).std(1)
    assert view.channels == score.topk(2).indices.tolist()
    torch.testing.assert_close(view.gamma, gamma[view.channels])
    torch.testing.assert_close(view.beta, maps["beta"][0][view.channels])
    assert view.gamma_inside[0] == pytest.approx(gamma[view.channels[0], :4].mean().item(), abs=1e-6)
    assert "sky (id 23" in view.caption and f"channel {view.channels[0]}" in view.caption
    with pytest.raises(ValueError, match="no pixel"):
        sa.class_modulation(maps, label, 11)  # building: not in the scene


def test_class_panel_is_nearest_and_outlined(scene_maps):
    label, maps = scene_maps
    view = sa.class_modulation(maps, label, ROAD, count=2)
    panel = sa.class_panel(view, pg.data.colorize(label), zoom=2)
    assert panel.dtype == np.uint8 and panel.shape == (2 * 16 + 4, 3 * 32 + 2 * 4, 3)  # 2 rows of 3 maps
    region = panel[:16, :32]
    assert (region[0:2, 0:2] == region[0, 0]).all()  # one label pixel = a 2 x 2 block
    gamma_map = panel[:16, 36:68]
    assert (gamma_map == 0).all(axis=2).any()  # the region's outline is drawn in black


def test_explorer_redraws_when_the_class_changes(scene_maps):
    label, maps = scene_maps
    explorer = sa.class_explorer(maps, label)
    assert [o[1] for o in explorer.dropdown.options] == [SKY, ROAD, CAR]
    before_image, before_info = explorer.image.value, explorer.info.value
    assert before_image[:4] == b"\x89PNG" and before_info.startswith("sky")
    explorer.dropdown.value = CAR  # as picking "car" in the dropdown would
    assert explorer.image.value != before_image
    assert explorer.info.value.startswith("car") and explorer.info.value != before_info


def test_static_figures(scene_maps):
    label, maps = scene_maps
    assert isinstance(sa.class_modulation_figure(maps, label, [ROAD, CAR]), Figure)
    assert isinstance(sa.resblock_diagram(), Figure)


def test_conv_operator_norm_matches_the_dense_matrix():
    torch.manual_seed(0)
    weight = torch.randn(3, 2, 3, 3)
    size = (5, 6)
    basis = torch.eye(2 * 5 * 6).reshape(-1, 2, *size)  # every input pixel and channel
    dense = torch.nn.functional.conv2d(basis, weight, padding=1).flatten(1).T  # (out * H * W, in * H * W)
    exact = torch.linalg.matrix_norm(dense, ord=2).item()
    assert sa.conv_operator_norm(weight, size, iterations=500) == pytest.approx(exact, rel=1e-4)
    sigma_mat = torch.linalg.matrix_norm(weight.flatten(1), ord=2).item()
    assert exact <= 3 * sigma_mat  # sqrt(kh * kw) * sigma(W_mat) bounds it
    one_by_one = torch.randn(4, 3, 1, 1)
    assert sa.conv_operator_norm(one_by_one, (4, 4)) == pytest.approx(
        torch.linalg.matrix_norm(one_by_one.flatten(1), ord=2).item(), rel=1e-4)
    equal_taps = torch.ones(2, 2, 3, 3) / torch.linalg.matrix_norm(torch.ones(2, 18), ord=2)
    assert sa.conv_operator_norm(equal_taps, (48, 48)) > 2.9  # near the bound 3 on a constant input
