"""The upscaling experiment (FAST mode), ``posgen eval``, the recipe comparison and the report logic."""
from __future__ import annotations

import dataclasses
import json

import pytest
import torch
from PIL import Image

from posgen_lib.cli import main
from posgen_lib.data.fabricate import fabricate_tree
from posgen_lib.errors import UserError
from posgen_lib.eval.experiment import (ARM_SCALE, ExperimentConfig, arms, arms_of_seed, at_amplitude, base_name,
                                        command_line, core_runs, front_runs, main_runs, operating_name,
                                        run_experiment, scored)
from posgen_lib.eval.report import aggregate, beats_on_both, better, targets
from posgen_lib.eval.recipes import run_recipes
from posgen_lib.eval.shipped import RECIPES
from posgen_lib.rendering import METHODS


# ----- the experiment, end to end (FAST mode) ---------------------------------------------------

@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    root = tmp_path_factory.mktemp("experiment")
    results = run_experiment(root / "docs", root / "cache", progress=False)
    return root, results


def test_experiment_scores_every_run_at_its_scales_and_writes_report_and_pictures(experiment):
    root, results = experiment
    exp = ExperimentConfig().resolved()
    assert exp.seeds == (0,) and exp.count == 2
    rows = results["rows"]
    keys = {(r["generator"], r["method"], r["scale"]) for r in rows}
    assert {(g, m, ARM_SCALE) for g, m in main_runs(exp) + front_runs(exp)} <= keys
    assert {(g, m, s) for g, m in core_runs(exp) for s in exp.scales} <= keys
    assert ("SPADE", "features_bilinear", 8.0) not in keys  # the costly 8x pass runs the core methods only
    assert {m for _, m, s in keys if s == ARM_SCALE} == set(METHODS)  # every method at 4x
    assert {at_amplitude(f"AnyRes GAN {w:g}", t) for w in exp.tradeoff for t in exp.knobs} <= {k[0] for k in keys}
    assert all({"miou", "segfd", "psnr", "psnr_band", "pattern_x", "boundary_f"} <= set(r) for r in rows)
    assert all({"patch_kid_boundary", "patch_kid_interior", "edge_energy", "texture_energy", "psnr_lowpass",
                "psnr_band_r8", "consistency"} <= set(r) for r in rows if r["scale"] != 1.0)
    assert json.loads((root / "docs" / "results.json").read_text())["meta"]["fast_mode"] is True
    text = (root / "docs" / "results.md").read_text()
    for heading in ("## Targets", "### 4x", "### 8x", "## The distortion-perception front at 4x", "## Ablations",
                    "## Band PSNR over the band", "## Cost at 4x", "img/anyres_front.png", "img/upscaling_4x.png",
                    "img/spectra.png", operating_name(exp), base_name(exp)):
        assert heading in text, heading
    for figure in results["meta"]["figures"].values():
        picture = Image.open(root / "docs" / figure)
        assert picture.size[0] > 600 and picture.size[1] > 200
    assert {c["method"] for c in results["costs"]} >= {"coordinates_hr", "trunk_hr", "bicubic"}


def test_experiment_reuses_trained_models_and_scores(experiment):
    root, results = experiment
    assert all(t["train_seconds"] is not None for t in results["meta"]["training"].values())
    again = run_experiment(root / "docs2", root / "cache", progress=False)
    assert all(t["train_seconds"] is None for t in again["meta"]["training"].values())
    assert again["rows"] == results["rows"]  # the scores came from the cache too
    assert again["meta"]["eval_seconds"] < results["meta"]["eval_seconds"]


def test_a_later_seed_merges_with_an_earlier_runs_report_without_training_it_again(experiment):
    root, results = experiment
    earlier = root / "docs" / "results.json"
    merged = run_experiment(root / "docs_merged", root / "cache", ExperimentConfig(seeds=(1,)), progress=False,
                            merge=earlier)
    assert list(merged["meta"]["experiment"]["seeds"]) == [0, 1] and "--seeds 0 1" in merged["meta"]["command"]
    assert [r for r in merged["rows"] if r["seed"] == 0] == results["rows"]  # seed 0 read, not scored again
    assert {r["seed"] for r in merged["rows"]} == {0, 1}
    assert merged["meta"]["training"]["PosGen s0"] == results["meta"]["training"]["PosGen s0"]
    assert merged["meta"]["training"]["PosGen s1"]["train_seconds"] is not None  # seed 1 trained here
    assert merged["meta"]["pictures_seed"] == 1
    text = (root / "docs_merged" / "results.md").read_text()
    assert "`--merge " in text and "seed 0 came from an earlier invocation" in text
    assert "Drawn by seed 1's models" in text
    with pytest.raises(UserError, match="count 2 there, 3 here"):
        run_experiment(root / "docs_x", root / "cache", ExperimentConfig(seeds=(1,), count=3), merge=earlier)
    with pytest.raises(UserError, match="already holds seeds 0, every seed"):
        run_experiment(root / "docs_x", root / "cache", ExperimentConfig(seeds=(0,)), merge=earlier)
    with pytest.raises(UserError, match="no such file"):
        run_experiment(root / "docs_x", root / "cache", ExperimentConfig(seeds=(1,)), merge=root / "missing.json")
    assert not (root / "docs_x").exists()  # refused before anything was trained or written


def test_the_camvid_experiment_runs_every_method_at_2x_and_4x_on_real_layout(tmp_path):
    data = fabricate_tree(tmp_path, "camvid")
    exp = ExperimentConfig(preset="camvid", data=str(data))
    results = run_experiment(tmp_path / "docs", tmp_path / "cache", exp, progress=False)
    keys = {(r["generator"], r["method"], r["scale"]) for r in results["rows"]}
    for scale in (2.0, 4.0):
        assert {m for _, m, s in keys if s == scale} == set(METHODS)
    assert not any(s == 8.0 for *_, s in keys)  # nothing scored beyond the ground truth ...
    text = (tmp_path / "docs" / "results_camvid.md").read_text()
    assert "CamVid" in text and "non-commercial" in text and "img/camvid_upscaling_4x.png" in text
    assert "img/camvid_upscaling_8x.png" in text  # ... but the crops are drawn at 8x too, beside the photo enlarged
    assert Image.open(tmp_path / "docs" / "img" / "camvid_upscaling_8x.png").size[1] > 400
    assert (tmp_path / "docs" / "results_camvid.json").is_file() and not (tmp_path / "docs" / "results.md").exists()
    picture = Image.open(tmp_path / "docs" / "img" / "camvid_upscaling_4x.png")
    assert picture.size[1] > 400  # four rows of crops: car edge, pole, pedestrian, road marking
    with pytest.raises(ValueError, match="needs data"):
        ExperimentConfig(preset="camvid").resolved()


def test_eval_command_prints_a_table(experiment, capsys):
    root, results = experiment
    model = f"{results['meta']['training']['PosGen s0']['folder']}/model.pt"
    assert main(["eval", model, "--scales", "1,2", "--count", "2", "--no-fid",
                 "--methods", "coordinates,joint_bilateral_hr"]) == 0
    out = capsys.readouterr().out
    assert "images" in out and "mIoU %" in out and "PSNR dB" in out and "band PSNR" in out
    assert out.count("joint_bilateral_hr") == 1 and " 2x " in out


def test_eval_command_scores_a_textured_model_at_each_amplitude(experiment, capsys):
    root, results = experiment
    arm = next(k for k in results["meta"]["training"] if k.startswith("AnyRes GAN"))
    model = f"{results['meta']['training'][arm]['folder']}/model.pt"
    assert main(["eval", model, "--scales", "4", "--count", "2", "--no-fid", "--methods", "coordinates_hr",
                 "--texture", "0", "0.5", "1"]) == 0
    lines = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert [words[1] for words in lines if words and words[0] == "4x"] == ["t=0", "t=0.5", "t=1"]
    posgen = f"{results['meta']['training']['PosGen s0']['folder']}/model.pt"
    assert main(["eval", posgen, "--count", "2", "--no-fid", "--texture", "0.5"]) == 2
    assert "has no texture branch" in capsys.readouterr().err


def test_eval_command_errors(experiment, capsys):
    root, results = experiment
    spade = f"{results['meta']['training']['SPADE s0']['folder']}/model.pt"
    assert main(["eval", spade, "--methods", "coordinates", "--count", "2", "--no-fid"]) == 2
    assert "does not apply to the spade generator" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["eval", spade, "--count", "1"])
    assert exit_.value.code == 2


# ----- the report's logic ----------------------------------------------------------------------------

def test_ablation_and_front_arms_train_on_the_first_seeds_and_the_rest_on_every_seed():
    exp = ExperimentConfig(seeds=(0, 1, 2), ablation_seeds=2, front_seeds=1, operating_point=0.1).resolved()
    exp = dataclasses.replace(exp, tradeoff=(0.03, 0.1, 0.3))  # the whole front (a FAST run keeps one weight)
    ablations = {a.name for a in arms(exp) if a.ablation}
    assert ablations == {"AnyRes without texture branch", "AnyRes no consistency"}
    others = {"AnyRes GAN 0.03", "AnyRes GAN 0.3"}  # the front beyond the operating point's weight
    assert {a.name for a in arms(exp) if a.explores} == others
    assert [a.name for a in arms_of_seed(exp, 0)] == [a.name for a in arms(exp)]
    assert {a.name for a in arms_of_seed(exp, 1)} == {a.name for a in arms(exp)} - others
    assert {a.name for a in arms_of_seed(exp, 2)} == {a.name for a in arms(exp)} - ablations - others
    assert "AnyRes GAN 0.1" in {a.name for a in arms_of_seed(exp, 2)}
    with pytest.raises(ValueError, match="front_seeds"):
        ExperimentConfig(front_seeds=0).resolved()
    assert not any(a.ablation for a in arms(ExperimentConfig(preset="camvid", data="x").resolved()))
    with pytest.raises(ValueError, match="ablation_seeds"):
        ExperimentConfig(ablation_seeds=0).resolved()
    with pytest.raises(ValueError, match="operating point"):
        ExperimentConfig(operating_texture=0.7).resolved()


def test_gan_weights_choose_the_textured_arms(tmp_path, monkeypatch):
    import posgen_lib.eval.experiment as experiment_module

    seen = {}

    def record(out, cache, exp, device, progress, jobs, merge):  # stands in for the hours of training
        seen["exp"], seen["jobs"], seen["merge"] = exp, jobs, merge
        return {"meta": {"figures": {}, "total_seconds": 0.0}}

    monkeypatch.setattr(experiment_module, "run_experiment", record)
    shipped = RECIPES["synthetic_anyres"]  # the operating point is the shipped model's weight and amplitude
    weight = f"{shipped.patch_gan:g}"
    earlier = tmp_path / "results.json"
    assert main(["experiment", "--out", str(tmp_path), "--gan-weights", weight, "--quiet", "--jobs", "2",
                 "--merge", str(earlier)]) == 0
    exp = seen["exp"].resolved()
    assert seen["jobs"] == 2 and seen["merge"] == earlier
    assert [a.name for a in arms(exp) if a.from_posgen and not a.ablation] == [f"AnyRes GAN {weight}"]
    assert (exp.operating_point, exp.operating_texture) == (shipped.patch_gan, shipped.texture)
    assert ExperimentConfig().tradeoff == (0.03, 0.1, 0.3)


def test_each_row_is_scored_once_and_again_only_when_its_model_changes(tmp_path, monkeypatch):
    import posgen_lib.eval.experiment as experiment_module

    scored_runs = []

    def fake_evaluate(generators, runs, scenes_at, scales, *args, **kwargs):  # one row per run, tagged
        scored_runs.extend(runs)
        return [{"generator": key, "method": method, "scale": scales[0]} for key, method in runs]

    monkeypatch.setattr(experiment_module, "evaluate", fake_evaluate)
    exp = ExperimentConfig().resolved()
    posgen, textured = ("PosGen", "coordinates"), (at_amplitude("AnyRes GAN 0.1", 0.5), "coordinates_hr")
    facts = {("PosGen", 0): {"folder": "cache/posgen-s0"}, ("AnyRes GAN 0.1", 0): {"folder": "cache/gan-0.1-s0"}}

    def score(runs, scales=(4.0,)):
        scored_runs.clear()
        rows = scored({}, facts, 0, scales, runs, exp, None, tmp_path, "cpu", None, None, False)
        return [(r["generator"], r["method"], r["scale"], r["seed"]) for r in rows], list(scored_runs)

    rows, work = score([posgen, textured])
    assert rows == [("PosGen", "coordinates", 4.0, 0), (*textured, 4.0, 0)] and work == [posgen, textured]
    facts["AnyRes GAN 0.3", 0] = {"folder": "cache/gan-0.3-s0"}  # a new arm joins: nothing is scored again
    assert score([posgen, textured]) == (rows, [])
    moved = (at_amplitude("AnyRes GAN 0.1", 0.25), "coordinates_hr")  # a new amplitude: only its own row
    rows, work = score([posgen, moved, textured])
    assert work == [moved] and [r[:2] for r in rows] == [posgen, moved, textured]
    one_x = score([posgen, ("PosGen", "bicubic"), textured], scales=(1.0,))  # 1x: one row per generator
    assert [key for key, _ in one_x[1]] == ["PosGen", textured[0]] and len(one_x[0]) == 2
    facts["AnyRes GAN 0.1", 0] = {"folder": "cache/gan-0.1-s0-retrained"}  # a model these rows render changed
    assert score([posgen, moved, textured])[1] == [moved, textured]
    facts["PosGen", 0] = {"folder": "elsewhere/posgen-s0"}  # the same run in a moved cache folder
    assert score([posgen])[1] == []


def test_the_report_names_the_command_that_reproduces_it(monkeypatch):
    monkeypatch.setenv("POSGEN_FAST", "0")  # the full plan: its defaults are what the command leaves out
    assert command_line(ExperimentConfig().resolved()) == "posgen experiment --out docs"
    weight = RECIPES["camvid_anyres"].patch_gan  # the operating point's weight alone
    camvid = ExperimentConfig(preset="camvid", data="x", tradeoff=(weight,), steps=1000, seeds=(0, 1)).resolved()
    assert command_line(camvid) == ("posgen experiment --out docs --preset camvid --data DIR --steps 1000 "
                                    f"--seeds 0 1 --gan-weights {weight:g}")


def test_the_1x_target_reads_posgen_against_the_photos(experiment):
    _, results = experiment
    rows = targets(aggregate(results["rows"]), results["costs"], results["meta"], results["ground_truth"])
    share = [r for r in rows if r[0].startswith("1x mIoU of PosGen")]
    assert len(share) == 1
    posgen = next(r["miou"] for r in results["rows"] if (r["generator"], r["method"]) == ("PosGen", "1x"))
    photos = next(g["miou"] for g in results["ground_truth"] if g["scale"] == 1.0)
    assert share[0][1] == (posgen / photos >= 0.9) and f"{posgen / photos:.0%}" in share[0][2]


def test_a_rerun_keeps_the_hand_written_reading_of_the_report(experiment):
    root, results = experiment
    report = root / "docs" / "results.md"
    report.write_text(report.read_text().replace("## Targets", "## Targets (stale)") + "\nwhy the target was missed\n")
    run_experiment(root / "docs", root / "cache", progress=False)
    text = report.read_text()
    assert "## Targets (stale)" not in text and "## Targets" in text  # the numbers were rewritten
    assert text.endswith("\nwhy the target was missed\n")  # the reading after them was kept


def test_aggregate_gives_mean_and_spread_over_seeds():
    rows = [{"generator": "A", "method": "m", "scale": 4.0, "seed": s, "psnr": p} for s, p in ((0, 18.0), (1, 20.0))]
    stats = aggregate(rows)[("A", "m", 4.0)]
    assert stats["seeds"] == (2, 0.0) and stats["psnr"] == (19.0, pytest.approx(2 ** 0.5))


def test_a_method_wins_only_by_more_than_the_spreads():
    assert better("psnr", (20.0, 0.1), (19.0, 0.2)) == 1
    assert better("psnr", (20.0, 0.6), (19.0, 0.5)) == 0  # within the spreads: a tie
    assert better("kid", (0.01, 0.0), (0.02, 0.0)) == 1  # lower is better
    assert better("sharpness", (0.9, 0.0), (1.3, 0.0)) == 1  # closer to the ground truth's 1.0
    assert better("texture_energy", (0.9, 0.0), (0.5, 0.0)) == 1 and better("pattern_x", (0.5, 0.1), (2.0, 0.1)) == 1
    assert better("boundary_f", (0.9, 0.01), (0.8, 0.01)) == 1


def test_a_point_beats_a_reference_only_on_band_psnr_and_both_patch_kids():
    agg = {("A", "m", 4.0): {"psnr_band": (18.0, 0.1), "patch_kid_boundary": (0.02, 0.001),
                             "patch_kid_interior": (0.01, 0.001)},
           ("J", "m", 4.0): {"psnr_band": (17.0, 0.1), "patch_kid_boundary": (0.03, 0.001),
                             "patch_kid_interior": (0.02, 0.001)},
           ("B", "m", 4.0): {"psnr_band": (18.0, 0.1), "patch_kid_boundary": (0.04, 0.001),
                             "patch_kid_interior": (0.01, 0.001)}}
    assert beats_on_both(agg, ("A", "m", 4.0), ("J", "m", 4.0))
    assert not beats_on_both(agg, ("B", "m", 4.0), ("J", "m", 4.0))  # worse patch-KID at the boundaries


# ----- the CPU recipe comparison ------------------------------------------------------------------

def test_recipe_comparison_writes_its_table_between_markers(tmp_path, capsys):
    page = tmp_path / "training.md"
    page.write_text("# Training\n\nprose before\n\n<!-- posgen recipes synthetic: begin -->\nTABLE BEFORE THE RUN\n"
                    "<!-- posgen recipes synthetic: end -->\n\nafter\n")
    assert main(["experiment", "--recipes", str(page), "--cache", str(tmp_path / "cache"), "--quiet"]) == 0
    text = page.read_text()
    assert "prose before" in text and "after" in text and "TABLE BEFORE THE RUN" not in text
    for arm in ("old recipe", "+ noise inputs", "+ noise inputs, strength 0.1 at start", "+ blurred discriminator",
                "OASIS objective", "CLADE trunk", "CLADE + noise inputs from 0.1", "the photos themselves"):
        assert f"| {arm} |" in text, arm
    assert "posgen experiment --recipes" in text and "pattern x / y (grey levels)" in text
    assert "its period x / y (px)" in text and "per-image peak x / y" in text
    figure = tmp_path / "img" / "recipes_synthetic.png"
    assert "](img/recipes_synthetic.png)" in text and Image.open(figure).text["Software"] == "posgen"
    assert len(list((tmp_path / "cache").glob("recipes-synthetic-*/scores.json"))) == 7  # a rerun scores nothing


def test_the_recipe_table_says_which_arms_beat_the_old_recipe_beyond_the_spreads():
    from posgen_lib.eval.recipes import recipe_table

    def row(miou, segfd, kid):
        return {"miou": miou, "segfd": segfd, "kid": kid, **{f"{k}_{a}": 1.0 for k in ("pattern", "pattern_period",
                                                                                         "spectral_peak") for a in "xy"}}

    scores = {"old recipe": [row(0.60, 0.50, 0.30), row(0.62, 0.52, 0.28)],
              "winner": [row(0.70, 0.30, 0.10), row(0.72, 0.32, 0.12)],  # higher mIoU, lower SegFD and KID
              "mixed": [row(0.50, 0.51, 0.45), row(0.80, 0.53, 0.47)]}  # mIoU within its spread; worse KID
    photos = {"miou": 0.735, **row(0, 0, 0)}
    table = recipe_table(scores, {"old recipe": 2000, "winner": 3000, "mixed": 1800}, photos, 100, "synthetic")
    lines = {line.split(" | ")[0][2:]: line for line in table.splitlines() if line.startswith("| ")}
    assert "| + + + |" in lines["winner"] and "| = = - |" in lines["mixed"]
    assert "| 2000 | 61.0 ± 1.4 | 0.51 ± 0.01 | 290.0 ± 14.1 |  |" in lines["old recipe"]


def test_recipe_comparison_refuses_to_replace_a_picture_it_did_not_draw(tmp_path):
    page, picture = tmp_path / "training.md", tmp_path / "img" / "recipes_synthetic.png"
    picture.parent.mkdir()
    Image.new("RGB", (4, 4)).save(picture)
    with pytest.raises(UserError, match="recipes_synthetic.png exists and was not drawn by posgen"):
        run_recipes(page, tmp_path / "cache")
    assert not page.exists() and not (tmp_path / "cache").exists()


def test_the_road_marking_crop_finds_painted_marks_not_a_lone_bright_pixel():
    from posgen_lib.eval.comparison import crop_finders

    road = 3  # CamVid's id of road
    label = torch.full((96, 128), road)
    label[:20] = 0  # sky above
    image = torch.full((3, 96, 128), -0.6)  # dark asphalt, as in CamVid's photos
    image[:, 70:80, 40:44] = -0.1  # a painted mark, darker than any procedural lane mark
    image[:, 30, 100] = 0.9  # one bright pixel (a reflection)
    image[:, :20] = 0.9  # bright sky is not road
    find, no_instances = crop_finders("camvid")["road marking"], torch.zeros_like(label)
    row, col = find(label, no_instances, image)
    assert 70 <= row < 80 and 40 <= col < 44
    assert find(label, no_instances, torch.full((3, 96, 128), -0.6)) is None  # unpainted road: no marking


def test_the_mean_detail_keeps_a_pattern_at_fixed_pixels_and_loses_one_that_moves():
    from posgen_lib.eval.recipes import mean_detail

    torch.manual_seed(0)
    stripes = torch.zeros(3, 32, 32)
    stripes[:, :, ::2] = 8 / 127.5  # 8 grey levels on every other column, at the same pixels in every image
    fixed = stripes + torch.zeros(200, 3, 32, 32)
    moving = torch.stack([stripes.roll(int(torch.randint(0, 2, ())), dims=-1) for _ in range(200)])
    assert mean_detail(fixed, 4.0)[8:24, 8:24].std() > 100  # +-4 grey levels about the blur: black and white
    assert mean_detail(moving, 4.0)[8:24, 8:24].std() < 20  # half the images shifted by a column: grey
