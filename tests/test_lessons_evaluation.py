"""Notebook 07's helpers: Frechet bias experiment, pixel-metric paradox, figures."""
from __future__ import annotations

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


def test_pixel_metric_paradox_scores_the_photos_as_perfect(segmenter, scenes):
    photos, labels = scenes.image[:8], scenes.label[:8]
    rows = lessons.pixel_metric_paradox(segmenter, labels, photos, {
        "photo": photos, "blurred": lessons.gaussian_blur(photos, 2.0)})
    photo, blurred = rows
    assert photo["ssim"] == pytest.approx(1.0) and abs(photo["segfd"]) < 1e-3
    assert blurred["psnr"] < 100 and blurred["ssim"] < 0.95 and blurred["segfd"] > 0.1
    assert blurred["miou"] < photo["miou"]
    assert "blurred" in lessons.format_rows(rows)


def test_frechet_bias_needs_enough_images_and_reports_each_size(segmenter, scenes):
    extractor = pg.eval.fid.SegmenterFeatures(segmenter)
    with pytest.raises(ValueError, match="at least 32"):
        lessons.frechet_bias(extractor, scenes.image, sizes=(4, 16))
    rows = lessons.frechet_bias(extractor, scenes.image, sizes=(4, 8))
    assert [r["images"] for r in rows] == [4, 8]
    assert all(r["fd"] > 0 for r in rows)  # two different real sets: the estimate is biased upwards
    assert isinstance(lessons.frechet_bias_figure(rows), Figure)


def test_segmentation_figure_has_a_row_per_scene_and_five_columns(segmenter, scenes):
    fig = lessons.segmentation_figure(segmenter, scenes.label[:2], scenes.image[:2], scenes.image[:2])
    assert len(fig.axes) == 10
    predicted = lessons.predicted_labels(segmenter, scenes.image[:2])
    assert predicted.shape == scenes.label[:2].shape
    assert set(predicted.unique().tolist()) <= set(segmenter.label_ids)
