"""Notebook 06's figures and tables: the methods, the comparison, training patches, measured results, memory."""
from __future__ import annotations

import pytest
import torch
from matplotlib.figure import Figure

import posgen_lib as pg
from posgen_lib.course.lessons import upscaling
from posgen_lib.perf.memory import PeakTensorMemory


@pytest.fixture(scope="module")
def models():
    cfg = pg.preset("tiny").model
    torch.manual_seed(0)
    return {"posgen": pg.PosGenGenerator(cfg).eval(), "spade": pg.SPADEGenerator(cfg).eval()}


@pytest.fixture(scope="module")
def dataset():
    return pg.data.SyntheticStreets(size=(32, 64), length=3, seed=0, split="test")


def test_methods_table_names_every_method_and_where_it_applies(models):
    table = upscaling.methods_table({"PosGen": models["posgen"], "SPADE": models["spade"]})
    lines = {line.split()[0]: line.split()[-2:] for line in table.splitlines()[1:]}
    assert set(lines) == set(pg.METHODS)
    assert lines["features_bilinear"] == ["-", "yes"] and lines["coordinates"] == ["yes", "-"]
    assert "high-resolution labels" in table


def test_comparison_figure_crops_every_method(models, dataset):
    runs = {"PosGen coordinates": (models["posgen"], "coordinates"), "SPADE on HR labels": (models["spade"], "trunk_hr")}
    fig = upscaling.comparison_figure(runs, dataset, 0, scale=2, crop=(slice(0, 32), slice(0, 64)), columns=2)
    assert isinstance(fig, Figure) and len(fig.axes) == 4
    assert fig.axes[0].images[0].get_array().shape[:2] == (32, 64)  # the 1x labels, uncropped
    assert fig.axes[3].images[0].get_array().shape[:2] == (32, 64)  # a 2x render, cropped


def test_patches_figure_draws_each_window_and_patch():
    from posgen_lib.data.patches import ScaledPatches

    base = pg.data.SyntheticStreets(size=(32, 64), length=2, split="train")
    item = ScaledPatches(base, 4.0, 16, 3, 0.5, 0)[0]
    fig = upscaling.patches_figure(item, (32, 64))
    assert len(fig.axes) == 5 and len(fig.axes[0].patches) == 3


def test_results_and_targets_tables_read_the_experiment(tmp_path):
    rows = [{"generator": g, "method": m, "scale": 4.0, "seed": s, "psnr_band": b + s * 0.1, "edge_energy": 0.95}
            for s in (0, 1) for g, m, b in (("A", "coordinates_hr", 18.5), ("A", "bicubic", 16.0))]
    rows += [{"generator": "A", "method": "1x", "scale": 1.0, "seed": s, "miou": 0.6} for s in (0, 1)]
    results = {"rows": rows, "costs": [], "ground_truth": [],
               "meta": {"operating_point": "A", "base": "A t=0", "front": ["A"],
                        "experiment": {"scales": [4.0], "seeds": [0, 1]}}}
    (tmp_path / "results.json").write_text(__import__("json").dumps(results))
    loaded = upscaling.load_results(tmp_path / "results.json")
    table = upscaling.results_table(loaded, 4.0)
    first, second = table.splitlines()[1:3]
    assert first.startswith("A, coordinates_hr") and "18.55 ± 0.07" in first and second.startswith("A, bicubic")
    assert "[met] 4x edge energy >= 0.9 of the photo's" in upscaling.targets_table(loaded)
    with pytest.raises(FileNotFoundError, match="posgen experiment"):
        upscaling.load_results(tmp_path / "missing.json")


def test_the_front_figure_draws_each_weight_over_the_knob_and_the_references():
    point = {"psnr_band": 17.0, "patch_kid_boundary": 0.2, "patch_kid_interior": 0.1}
    rows = [{"generator": f"AnyRes GAN 0.1 t={t:g}", "method": "coordinates_hr", "scale": 4.0, "seed": s,
             **point, "psnr_band": 17.0 - t} for t in (0.0, 1.0) for s in (0, 1)]
    rows += [{"generator": "AnyRes GAN 0.1 t=1", "method": "joint_bilateral_hr", "scale": 4.0, "seed": 0, **point}]
    results = {"rows": rows, "meta": {"operating_point": "AnyRes GAN 0.1 t=1",
                                      "experiment": {"tradeoff": [0.1], "knobs": [0.0, 1.0]}}}
    ax = upscaling.front_figure(results).axes[0]
    (curve,) = ax.lines[:1]
    assert list(curve.get_ydata()) == [17.0, 16.0] and list(curve.get_xdata()) == pytest.approx([150.0, 150.0])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["any-res, GAN 0.1", "joint bilateral (HR labels)"]


def test_the_front_labels_each_place_once_where_weights_coincide():
    """Two weights on the same points: one "t=..." label per place, not two stacked."""
    point = {"psnr_band": 17.0, "patch_kid_boundary": 0.2, "patch_kid_interior": 0.1}
    rows = [{"generator": f"AnyRes GAN {w:g} t={t:g}", "method": "coordinates_hr", "scale": 4.0, "seed": 0,
             **point, "psnr_band": 17.0 - t, "patch_kid_boundary": 0.2 - 0.1 * t} for t in (0.0, 1.0)
            for w in (0.1, 0.3)]
    results = {"rows": rows, "meta": {"operating_point": "AnyRes GAN 0.1 t=1",
                                      "experiment": {"tradeoff": [0.1, 0.3], "knobs": [0.0, 1.0]}}}
    ax = upscaling.front_figure(results).axes[0]
    assert sorted(t.get_text() for t in ax.texts) == ["t=0", "t=1"]


def test_chunked_working_memory_stays_flat(models, dataset):
    G = models["posgen"]
    sem = pg.course.views.semantics(G, dataset[0])
    rows = []
    for scale in (2, 4):
        for chunk in (1 << 9, 1 << 30):
            with PeakTensorMemory() as mem:
                out = pg.render(G, sem, scale=scale, max_chunk_pixels=chunk)
            rows.append(upscaling.MemoryRow(scale, chunk, out.numel() * out.element_size() / 2**20,
                                            mem.peak_bytes / 2**20))
            del out
    banded = {r.scale: r for r in rows if r.chunk_pixels == 1 << 9}
    whole = {r.scale: r for r in rows if r.chunk_pixels == 1 << 30}
    assert whole[4].output_mb == pytest.approx(3 * 128 * 256 * 4 / 2**20)
    assert banded[4].working_mb < 1.2 * banded[2].working_mb  # bounded by the band, not the output
    assert whole[4].working_mb > 4 * banded[4].working_mb
    assert isinstance(upscaling.memory_figure(rows), Figure)


def test_the_mean_spectrum_in_batches_is_the_spectrum_of_all_at_once():
    from posgen_lib.eval.comparison import mean_power_spectrum
    from posgen_lib.eval.metrics import power_spectrum
    images = torch.randn(11, 3, 8, 16, generator=torch.Generator().manual_seed(0))
    batches = []
    batched = mean_power_spectrum(lambda batch: batches.append(batch) or images[batch], len(images), batch_size=4)
    assert [b.stop - b.start for b in batches] == [4, 4, 3]
    assert torch.allclose(batched, power_spectrum(images), rtol=1e-5)


def test_enlarged_scenes_keep_the_labels_and_say_nothing_new():
    from posgen_lib.eval.scenes import Scenes, enlarged
    label = torch.tensor([[[0, 1], [2, 3]]])
    scenes = Scenes(label, torch.zeros_like(label), torch.rand(1, 3, 2, 2) * 2 - 1)
    big = enlarged(scenes, 2)
    assert big.label.shape == (1, 4, 4) and big.image.shape == (1, 3, 4, 4)
    assert big.label[0, :2, :2].eq(0).all() and big.label[0, 2:, 2:].eq(3).all()  # nearest: no new classes
    assert big.image.abs().max() <= 1
    with pytest.raises(ValueError, match="integer factor"):
        enlarged(scenes, 1)
