"""Notebook 07's helpers: figures, the corruption explorer (widget) and its logic."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

import posgen_lib as pg
from posgen_lib.course.lessons import evaluation as lessons


@pytest.fixture(scope="module")
def segmenter():
    return pg.eval.segmenter.load_segmenter()


@pytest.fixture(scope="module")
def scenes():
    return pg.eval.scenes.synthetic_scenes(pg.preset("synthetic"), 16, 1.0)


def test_class_mean_painting_is_flat_per_class_and_keeps_the_means(scenes):
    painted = lessons.class_mean_painting(scenes.image[:2], scenes.label[:2])
    for b in range(2):
        for cls in torch.unique(scenes.label[b]):
            mask = scenes.label[b] == cls
            colours = painted[b][:, mask]  # (3, n)
            assert torch.allclose(colours, colours[:, :1].expand_as(colours))
            assert torch.allclose(colours[:, 0], scenes.image[b][:, mask].mean(1), atol=1e-6)


def test_gaussian_blur_keeps_constants_and_smooths_an_impulse():
    flat = torch.full((1, 3, 16, 16), 0.3)
    assert torch.allclose(lessons.gaussian_blur(flat, 2.0), flat, atol=1e-6)
    impulse = torch.zeros(1, 1, 21, 21)
    impulse[..., 10, 10] = 1
    blurred = lessons.gaussian_blur(impulse, 1.5)
    assert blurred.shape == impulse.shape
    assert abs(blurred.sum().item() - 1) < 1e-5 and blurred.max() < 0.1


def test_frechet_bias_figure_plots_fd_and_kid_against_the_set_size():
    rows = [{"images": 4, "fd": 2.5, "kid": -0.001}, {"images": 8, "fd": 1.8, "kid": 0.0003}]
    fig = lessons.frechet_bias_figure(rows)
    fd_axis, kid_axis = fig.axes
    assert list(fd_axis.lines[0].get_xdata()) == [4, 8] and list(fd_axis.lines[0].get_ydata()) == [2.5, 1.8]
    assert list(kid_axis.lines[0].get_ydata()) == [-0.001, 0.0003] and fd_axis.get_xscale() == "log"


def test_candidates_figure_shows_each_candidate_at_twice_its_pixel_size(scenes):
    photos = scenes.image[:2]
    fig = lessons.candidates_figure({"photo": photos, "blurred": lessons.gaussian_blur(photos, 2.0)})
    image = fig.axes[0].images[0].get_array()
    assert image.shape[:2] == (2 * 64, 2 * (2 * 128 + 2))  # two 64x128 images, a 2-pixel gap, all doubled
    assert fig.texts[0].get_text() == "photo | blurred"
    assert fig.get_size_inches()[0] * 80 == pytest.approx(image.shape[1])


def test_segmentation_figure_has_a_row_per_scene_and_five_columns(segmenter, scenes):
    fig = lessons.segmentation_figure(segmenter, scenes.label[:2], scenes.image[:2], scenes.image[:2])
    image = fig.axes[0].images[0].get_array()
    assert image.shape[:2] == (2 * 64 + 2, 5 * 128 + 4 * 2)  # true pixel size, 2-pixel gaps
    predicted = lessons.predicted_labels(segmenter, scenes.image[:2])
    assert predicted.shape == scenes.label[:2].shape
    assert set(predicted.unique().tolist()) <= set(segmenter.label_ids)


# --- the corruption explorer -------------------------------------------------------------------------


def test_corrupt_is_the_identity_at_strength_zero_and_each_kind_does_its_thing(scenes):
    photos, labels = scenes.image[:2], scenes.label[:2]
    for kind in lessons.CORRUPTIONS:
        assert torch.equal(lessons.corrupt(photos, labels, kind, 0.0), photos)
        out = lessons.corrupt(photos, labels, kind, 0.5)
        assert out.shape == photos.shape and out.abs().max() <= 1 and not torch.equal(out, photos)
    assert torch.allclose(lessons.corrupt(photos, labels, "blur", 0.5), lessons.gaussian_blur(photos, 2.0))
    noisy = [lessons.corrupt(photos, labels, "noise", 0.5, seed=s) for s in (0, 0, 1)]
    assert torch.equal(noisy[0], noisy[1]) and not torch.equal(noisy[0], noisy[2])  # seeded
    painted = lessons.corrupt(photos, labels, "class-mean painting", 1.0)
    assert torch.allclose(painted, lessons.class_mean_painting(photos, labels).clamp(-1, 1))
    with pytest.raises(ValueError, match="unknown corruption"):
        lessons.corrupt(photos, labels, "jpeg", 0.5)
    with pytest.raises(ValueError, match="strength"):
        lessons.corrupt(photos, labels, "blur", 1.5)


def test_scores_of_the_photos_themselves_are_perfect(segmenter, scenes):
    photos, labels = scenes.image[:4], scenes.label[:4]
    s = lessons.scores(photos, photos, labels, segmenter)
    assert set(s) == set(lessons.METRICS)
    assert s["PSNR (dB)"] == float("inf") and s["SSIM"] == pytest.approx(1.0)
    assert s["band sharpness ratio"] == pytest.approx(1.0) and s["class colour error"] == 0.0
    assert 0 < s["mIoU"] <= 1


@pytest.fixture(scope="module")
def table(segmenter, scenes):
    return lessons.corruption_table(scenes.image[:4], scenes.label[:4], segmenter, strengths=(0.0, 0.4, 1.0))


def test_corruption_table_scores_every_kind_at_every_strength(table):
    assert table["strengths"] == [0.0, 0.4, 1.0]
    for kind in lessons.CORRUPTIONS:
        assert len(table[kind]) == 3 and all(set(row) == set(lessons.METRICS) for row in table[kind])
    sharp = [row["band sharpness ratio"] for row in table["blur"]]
    assert sharp[0] == pytest.approx(1.0) and sharp[0] > sharp[1] > sharp[2]  # blur removes band energy
    assert table["noise"][2]["band sharpness ratio"] > 1  # noise adds it
    assert all(row["class colour error"] < 1e-6 for row in table["class-mean painting"])  # class means kept


def test_explorer_view_moving_the_controls_changes_picture_and_value(table, scenes):
    photos, labels = scenes.image[:4], scenes.label[:4]
    image0, value0, curve = lessons.explorer_view(table, photos, labels, "noise", "PSNR (dB)", 0.0)
    assert image0.shape == (2 * 64, 2 * 128, 3) and image0.dtype == np.uint8  # twice the pixel size
    assert (image0[::2, ::2] == image0[1::2, 1::2]).all()  # nearest neighbour: 2x2 blocks
    assert value0 == float("inf") and curve == [row["PSNR (dB)"] for row in table["noise"]]
    image1, value1, _ = lessons.explorer_view(table, photos, labels, "noise", "PSNR (dB)", 1.0)
    assert not np.array_equal(image0, image1) and value1 < 20  # strong noise: low PSNR
    _, sharp_low, _ = lessons.explorer_view(table, photos, labels, "blur", "band sharpness ratio", 0.4)
    _, sharp_high, _ = lessons.explorer_view(table, photos, labels, "blur", "band sharpness ratio", 1.0)
    assert sharp_high < sharp_low < 1
    with pytest.raises(ValueError, match="not one of"):
        lessons.explorer_view(table, photos, labels, "blur", "SSIM", 0.5)
    with pytest.raises(ValueError, match="unknown metric"):
        lessons.explorer_view(table, photos, labels, "blur", "LPIPS", 0.4)


def test_corruption_explorer_widget_follows_its_controls(table, scenes):
    pytest.importorskip("ipywidgets")
    photos, labels = scenes.image[:4], scenes.label[:4]
    widget = lessons.corruption_explorer(table, photos, labels)
    assert widget.strength.value == 0.4
    before = (widget.image.value, widget.plot.value, widget.info.value)
    widget.strength.value = 1.0
    assert widget.image.value != before[0] and widget.plot.value != before[1]
    assert "strength 1" in widget.info.value
    widget.metric.value = "SSIM"
    assert widget.info.value.startswith("SSIM = ")
    widget.kind.value = "colour shift"
    assert "colour shift" in widget.info.value


def test_corruption_and_blur_sweep_figures(table, scenes):
    fig = lessons.corruption_figure(table, scenes.image[:4], scenes.label[:4], strength=0.4)
    assert isinstance(fig, Figure) and len(fig.axes) == 1 + len(lessons.CORRUPTIONS) + len(lessons.METRICS)
    rows = [{"sigma": s, "psnr": p, "sharpness": h} for s, p, h in ((0, 17.0, 0.9), (1, 18.0, 0.3), (2, 17.5, 0.1))]
    same = [{"sigma": 0, "psnr": float("inf"), "sharpness": 1.0}, {"sigma": 1, "psnr": 27.0, "sharpness": 0.2}]
    fig = lessons.blur_sweep_figure({"generator": rows, "photo": same})
    assert len(fig.axes) == 3 and "star: peak" in fig.axes[0].get_title() and "inf" in fig.axes[1].get_title()
    star = fig.axes[0].lines[1]
    assert list(star.get_xdata()) == [1] and list(star.get_ydata()) == [18.0]


def test_corruption_explorer_pictures_have_a_fixed_on_screen_size(table, scenes):
    pytest.importorskip("ipywidgets")
    from PIL import Image
    import io

    widget = lessons.corruption_explorer(table, scenes.image[:4], scenes.label[:4])
    assert (widget.image.layout.width, widget.image.layout.height) == ("256px", "128px")
    assert Image.open(io.BytesIO(widget.image.value)).size == (256, 128)  # no browser rescaling
    assert Image.open(io.BytesIO(widget.plot.value)).size == (288, 208)
    assert (widget.plot.layout.width, widget.plot.layout.height) == ("288px", "208px")
