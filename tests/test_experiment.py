"""The upscaling experiment (FAST mode), ``posgen eval``, label-guided rendering and the report logic."""
from __future__ import annotations

import json

import pytest
import torch
from PIL import Image

import posgen_lib as pg
from posgen_lib.cli import main
from posgen_lib.evaluate import _run_trunk_at, generate
from posgen_lib.experiment import RUNS, TITLES, ExperimentConfig, run_experiment, trained_generator
from posgen_lib.guided import _guided_sample, render_label_guided
from posgen_lib.render import render, upscale
from posgen_lib.report import compare


# ----- label-guided rendering: equivalences ----------------------------------------------------

@pytest.fixture(scope="module")
def tiny():
    cfg = pg.preset("tiny").model
    torch.manual_seed(0)
    G = pg.PosGenGenerator(cfg).eval()
    ids = torch.tensor(pg.data.get_label_set("synthetic").ids)
    blocks = ids[torch.randint(0, len(ids), (2, 4, 8))]
    label = blocks.repeat_interleave(8, 1).repeat_interleave(8, 2)  # (2, 32, 64), 8x8 blocks
    return G, pg.data.to_semantics(label, None, "synthetic"), label


def test_label_guided_at_1x_is_the_forward(tiny):
    G, sem, _ = tiny
    with torch.no_grad():
        torch.testing.assert_close(upscale(G, sem, scale=1, method="label_guided"), G(sem), atol=1e-6, rtol=0)


def test_label_guided_on_one_class_equals_coordinates(tiny):
    G, _, _ = tiny
    one = pg.data.to_semantics(torch.full((1, 32, 64), 7), None, "synthetic")
    torch.testing.assert_close(upscale(G, one, scale=3.3, method="label_guided"), render(G, one, scale=3.3),
                               atol=1e-6, rtol=0)


def test_label_guided_chunking_and_default_guide(tiny):
    G, sem, _ = tiny
    whole = render_label_guided(G, sem, (64, 128), max_chunk_pixels=10**9)
    banded = render_label_guided(G, sem, (64, 128), max_chunk_pixels=300)
    torch.testing.assert_close(banded, whole, atol=1e-6, rtol=0)
    nearest = torch.nn.functional.interpolate(sem, size=(64, 128), mode="nearest")
    torch.testing.assert_close(render_label_guided(G, sem, (64, 128), guide=nearest), whole, atol=0, rtol=0)
    with pytest.raises(ValueError, match="guide="):
        render_label_guided(G, sem, (64, 128), guide=sem)


def test_guided_features_never_mix_classes():
    """Constant features per class stay exactly constant: no blending across a boundary."""
    classes = torch.zeros(4, 6, dtype=torch.long)
    classes[:, 3:] = 1
    feat = torch.stack([classes.float() * 5 - 2, classes.float() * -3 + 1])  # (2, 4, 6): class 0 -> (-2, 1), 1 -> (3, -2)
    coords = pg.coordinate_grid((13, 23))
    guide = (coords[0] > 0.05).long()  # a finer boundary than the 1x one
    guide[:, 0] = 1  # class-1 pixels far inside class 0's area: the wide fallback
    out = _guided_sample(feat, classes, guide, coords)
    expected = torch.where(guide.bool(), torch.tensor([3.0, -2.0])[:, None, None], torch.tensor([-2.0, 1.0])[:, None, None])
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=0)
    plain = pg.sample_at(feat[None], coords)[0]
    assert not torch.allclose(plain, expected)  # plain bilinear does blend


def test_trunk_methods_at_sizes_the_trunk_refuses():
    cfg = pg.preset("tiny").model
    B = pg.SPADEGenerator(cfg).eval()
    sem = pg.data.to_semantics(torch.full((1, 32, 64), 7), None, "synthetic")
    with torch.no_grad():
        assert _run_trunk_at(B, sem, (106, 211)).shape == (1, 3, 106, 211)  # 3.3x: trunk at 96x224
        assert torch.equal(_run_trunk_at(B, sem, (64, 128)), B(torch.nn.functional.interpolate(sem, size=(64, 128))))
        assert torch.equal(generate(B, "bicubic", sem, (32, 64), None), B(sem))


# ----- the experiment, end to end (FAST mode) ---------------------------------------------------

@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    root = tmp_path_factory.mktemp("experiment")
    results = run_experiment(root / "docs", root / "cache", progress=False)
    return root, results


def test_experiment_writes_report_json_and_picture(experiment):
    root, results = experiment
    rows = results["rows"]
    assert len(rows) == 2 + len(RUNS) * 3  # 1x: one row per generator; then every method at 2x, 3.3x, 4x
    assert {r["images"] for r in rows} == {2}
    assert all({"miou", "segfd", "psnr", "ssim"} <= set(r) for r in rows)
    assert json.loads((root / "docs" / "results.json").read_text())["meta"]["fast_mode"] is True
    text = (root / "docs" / "results.md").read_text()
    for title in TITLES.values():
        assert title in text
    for heading in ("### 1x", "### 3.3x", "### 4x", "## Findings", "img/upscaling_comparison.png",
                    "106x211): the trunk needs sides divisible by 32, so the `labels` methods run at 96x224"):
        assert heading in text
    picture = Image.open(root / "docs" / "img" / "upscaling_comparison.png")
    assert picture.size[0] > 800 and picture.size[1] > 400


def test_experiment_reuses_cached_models(experiment):
    root, results = experiment
    assert all(t["train_seconds"] is not None for t in results["meta"]["training"].values())
    exp = ExperimentConfig().resolved()
    assert exp.preset == "tiny" and exp.steps == 2
    G, folder, seconds = trained_generator("spade", exp, root / "cache", "cpu", progress=False)
    assert seconds is None and str(folder) == results["meta"]["training"]["SPADE"]["folder"]
    assert not hasattr(G, "pixel_head")


def test_eval_command_prints_a_table(experiment, capsys):
    root, results = experiment
    model = f"{results['meta']['training']['PosGen']['folder']}/model.pt"
    assert main(["eval", model, "--scales", "1,2", "--count", "2", "--no-fid",
                 "--methods", "coordinates,label_guided"]) == 0
    out = capsys.readouterr().out
    assert "images" in out and "mIoU %" in out and "PSNR dB" in out
    assert out.count("label_guided") == 1 and " 2x " in out


def test_eval_command_errors(experiment, capsys):
    root, results = experiment
    spade = f"{results['meta']['training']['SPADE']['folder']}/model.pt"
    assert main(["eval", spade, "--methods", "coordinates", "--count", "2", "--no-fid"]) == 2
    assert "needs a PosGen model" in capsys.readouterr().err
    assert main(["eval", spade, "--count", "1"]) == 2


# ----- findings logic ----------------------------------------------------------------------------

def test_compare_directions_and_ties():
    a = {"miou": 0.60, "psnr": 20.0, "fid": 50.0, "ssim": 0.500}
    b = {"miou": 0.55, "psnr": 20.2, "fid": 50.5, "ssim": 0.501}
    c = compare(a, b)
    assert [x.split()[0] for x in c[1]] == ["mIoU"]
    assert [x.split()[0] for x in c[-1]] == ["PSNR"]
    assert sorted(x.split()[0] for x in c[0]) == ["FID", "SSIM"]  # within 3% / 0.002
