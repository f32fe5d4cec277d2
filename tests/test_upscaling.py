"""Notebook 06's experiments: the upscaling comparison and the memory of chunked renders."""
from __future__ import annotations

import pytest
import torch
from matplotlib.figure import Figure

import posgen_lib as pg
from posgen_lib.course.lessons import upscaling


@pytest.fixture(scope="module")
def models():
    cfg = pg.preset("tiny").model
    torch.manual_seed(0)
    return {"posgen": pg.PosGenGenerator(cfg).eval(), "spade": pg.SPADEGenerator(cfg).eval()}


@pytest.fixture(scope="module")
def dataset():
    return pg.data.SyntheticStreets(size=(32, 64), length=3, seed=0, split="test")


def test_every_method_gives_the_upscaled_size(models, dataset):
    images = upscaling.upscaled(models, dataset[0], scale=2)
    assert list(images) == list(upscaling.COMPARED)
    assert all(img.shape == (3, 64, 128) for img in images.values())
    assert not torch.equal(images["PosGen coords"], images["PosGen bicubic"])


def test_scores_and_figures(models, dataset):
    scores = upscaling.score_methods(models, dataset, [0], scale=2)
    assert set(scores) == set(upscaling.COMPARED)
    assert all(0 < s["psnr"] < 60 and -1 <= s["ssim"] <= 1 for s in scores.values())
    table = upscaling.format_scores(scores)
    assert table.splitlines()[0].split() == ["method", "PSNR", "dB", "SSIM"] and "SPADE labels" in table
    fig = upscaling.comparison_figure(models, dataset, 0, scale=2, crop=(slice(0, 32), slice(0, 64)))
    assert isinstance(fig, Figure) and len(fig.axes) == 6
    assert fig.axes[2].images[0].get_array().shape[:2] == (32, 64)  # cropped


def test_chunked_working_memory_stays_flat(models, dataset):
    G = models["posgen"]
    sem = pg.course.views.semantics(G, dataset[0])
    rows = upscaling.render_memory(G, sem, scales=(2, 4), chunks=(1 << 9, 1 << 30))
    banded = {r.scale: r for r in rows if r.chunk_pixels == 1 << 9}
    whole = {r.scale: r for r in rows if r.chunk_pixels == 1 << 30}
    assert whole[4].output_mb == pytest.approx(3 * 128 * 256 * 4 / 2**20)
    assert banded[4].working_mb < 1.2 * banded[2].working_mb  # bounded by the band, not the output
    assert whole[4].working_mb > 4 * banded[4].working_mb
    assert isinstance(upscaling.memory_figure(rows), Figure)
