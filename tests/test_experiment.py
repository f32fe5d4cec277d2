"""The upscaling experiment (FAST mode), ``posgen eval`` and the report logic."""
from __future__ import annotations

import json

import pytest
from PIL import Image

from posgen_lib.cli import main
from posgen_lib.eval.experiment import RUNS, TITLES, ExperimentConfig, run_experiment, trained_generator
from posgen_lib.eval.report import compare


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
                    "106x211): the trunk needs sides divisible by 32, so the `trunk_*` methods run at 96x224"):
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
    assert G.kind == "spade" and not G.any_size


def test_eval_command_prints_a_table(experiment, capsys):
    root, results = experiment
    model = f"{results['meta']['training']['PosGen']['folder']}/model.pt"
    assert main(["eval", model, "--scales", "1,2", "--count", "2", "--no-fid",
                 "--methods", "coordinates,joint_bilateral_hr"]) == 0
    out = capsys.readouterr().out
    assert "images" in out and "mIoU %" in out and "PSNR dB" in out
    assert out.count("joint_bilateral_hr") == 1 and " 2x " in out


def test_eval_command_errors(experiment, capsys):
    root, results = experiment
    spade = f"{results['meta']['training']['SPADE']['folder']}/model.pt"
    assert main(["eval", spade, "--methods", "coordinates", "--count", "2", "--no-fid"]) == 2
    assert "does not apply to the spade generator" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["eval", spade, "--count", "1"])
    assert exit_.value.code == 2


# ----- findings logic ----------------------------------------------------------------------------

def test_compare_directions_and_ties():
    a = {"miou": 0.60, "psnr": 20.0, "fid": 50.0, "ssim": 0.500}
    b = {"miou": 0.55, "psnr": 20.2, "fid": 50.5, "ssim": 0.501}
    c = compare(a, b)
    assert [x.split()[0] for x in c[1]] == ["mIoU"]
    assert [x.split()[0] for x in c[-1]] == ["PSNR"]
    assert sorted(x.split()[0] for x in c[0]) == ["FID", "SSIM"]  # within 3% / 0.002
