"""CamVid: the label rule, the loader on a fabricated tree and on the real copy, `posgen data check camvid`."""
from __future__ import annotations

import dataclasses
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

import posgen_lib as pg
from posgen_lib.cli import main
from posgen_lib.data.camvid import CamVid, find_examples
from posgen_lib.data.fabricate import (CAMVID_SIZE, CAMVID_SPLITS, CV_POLE, CV_ROAD, CV_VOID, fabricate_tree,
                                       save_image)
from posgen_lib.data.prepare import check_dataset
from posgen_lib.data.transforms import downsample_image, downsample_labels


@pytest.fixture
def camvid(tmp_path):
    return fabricate_tree(tmp_path, "camvid")


# --- the downsampling rules ---------------------------------------------------------------

def test_a_pole_one_pixel_wide_survives_where_majority_and_nearest_drop_it():
    label = torch.full((16, 16), CV_ROAD)
    label[:, 5] = CV_POLE  # one native pixel wide: 4 of the 16 pixels of each 4x4 block in column 1
    kept = downsample_labels(label, 4, 12, keep=(CV_POLE,))
    assert (kept[:, 1] == CV_POLE).all() and (kept[:, [0, 2, 3]] == CV_ROAD).all()
    assert (downsample_labels(label, 4, 12) == CV_ROAD).all()  # plain majority drops it
    assert (label[2::4, 2::4] == CV_ROAD).all()  # nearest (block centres) drops it too


def test_thin_classes_need_a_quarter_of_the_block_and_void_loses_ties():
    label = torch.full((4, 4), CV_ROAD)
    label[0, :3] = CV_POLE  # 3 of 16: below a quarter
    assert downsample_labels(label, 4, 12, keep=(CV_POLE,)).item() == CV_ROAD
    tie = torch.tensor([[CV_VOID, CV_VOID], [CV_ROAD, CV_ROAD]])
    assert downsample_labels(tie, 2, 12, last=CV_VOID).item() == CV_ROAD
    assert downsample_labels(torch.full((2, 2), CV_VOID), 2, 12, last=CV_VOID).item() == CV_VOID
    with pytest.raises(ValueError, match="not a multiple"):
        downsample_labels(torch.zeros(6, 8, dtype=torch.long), 4, 12)


def test_photos_go_down_by_area_averaging():
    image = torch.rand(3, 8, 12) * 2 - 1
    small = downsample_image(image, 4)
    assert small.shape == (3, 2, 3)
    assert torch.allclose(small[:, 1, 2], image[:, 4:8, 8:12].mean((1, 2)))


# --- the loader --------------------------------------------------------------------------

def test_items_at_1x_and_ground_truth_at_2x_and_4x(camvid):
    val = CamVid(camvid, "val")
    item = val[0]
    assert item["label"].shape == (90, 120) and item["image"].shape == (3, 90, 120)
    assert (item["instance"] == 0).all() and item["path"].endswith(f"{CAMVID_SPLITS['val'][0]}.png")
    native = val.native(0)
    assert torch.equal(val.at_scale(0, 4)["label"], native["label"])
    assert torch.allclose(val.at_scale(0, 4)["image"], native["image"], atol=1e-6)
    assert val.at_scale(0, 2)["label"].shape == (180, 240)
    assert torch.equal(val.at_scale(0, 1)["label"], item["label"])
    with pytest.raises(ValueError, match="1x to 4x"):
        val.at_scale(0, 3)


def test_train_items_are_seeded_crops_and_flips_with_their_native_window(camvid):
    cfg = pg.preset("camvid").data
    first = [CamVid(camvid, "train", cfg, generator=torch.Generator().manual_seed(3), high_res=4.0)[1]
             for _ in range(2)]
    assert torch.equal(first[0]["label"], first[1]["label"])
    ds = CamVid(camvid, "train", cfg, generator=torch.Generator().manual_seed(0), high_res=4.0)
    flips = 0
    for _ in range(12):
        item = ds[1]
        assert item["label"].shape == cfg.train_crop and item["label_hr"].shape == (320, 448)
        # the 1x item is exactly the native window brought down by the two rules
        assert torch.equal(CamVid.downsample_labels(item["label_hr"], 4), item["label"])
        assert torch.allclose(downsample_image(item["image_hr"], 4), item["image"], atol=1e-5)
        flips += int((item["label"] == 1).nonzero()[:, 1].float().mean() > 56)  # the building is on the left
    assert 0 < flips < 12


def test_lists_with_segnet_paths_folders_alone_and_a_test_split(camvid):
    examples, problems = find_examples(camvid, "train")  # train.txt holds /SegNet/CamVid/... paths
    assert not problems and [e.image.parent for e in examples] == [camvid / "train"] * len(CAMVID_SPLITS["train"])
    examples, problems = find_examples(camvid, "val")  # no val.txt: the folders are paired
    assert not problems and len(examples) == len(CAMVID_SPLITS["val"])
    assert not (camvid / "test").exists()
    shutil.copytree(camvid / "val", camvid / "test")
    shutil.copytree(camvid / "valannot", camvid / "testannot")
    assert len(CamVid(camvid, "test")) == len(CAMVID_SPLITS["val"])
    assert [s.name for s in check_dataset(camvid, "camvid").splits] == ["train", "val", "test"]


def _missing_pair(root):
    path = root / "valannot" / f"{CAMVID_SPLITS['val'][0]}.png"
    path.unlink()
    return root / "val" / path.name, "without label map"


def _size_mismatch(root):
    path = root / "trainannot" / f"{CAMVID_SPLITS['train'][0]}.png"
    save_image(np.zeros((24, 32), np.uint8), path)
    return path, "differs from"


def _unknown_id(root):
    path = root / "trainannot" / f"{CAMVID_SPLITS['train'][1]}.png"
    save_image(np.full(CAMVID_SIZE, 12, np.uint8), path)
    return path, "not in the 'camvid' label set"


def _rgb_label(root):
    path = root / "valannot" / f"{CAMVID_SPLITS['val'][0]}.png"
    Image.open(root / "val" / path.name).save(path)
    return path, "colour image"


def _empty_list(root):
    (root / "train.txt").write_text("\n")
    return root / "train.txt", "the list is empty"


def _bad_line(root):
    with open(root / "train.txt", "a") as f:
        f.write("train/only_a_photo.png\n")
    return root / "train.txt", f"line {len(CAMVID_SPLITS['train']) + 1}: expected 'photo label'"


def _listed_file_missing(root):
    (root / "train" / f"{CAMVID_SPLITS['train'][2]}.png").unlink()
    return root / "train" / f"{CAMVID_SPLITS['train'][2]}.png", "not found"


@pytest.mark.parametrize("damage", [_missing_pair, _size_mismatch, _unknown_id, _rgb_label, _empty_list,
                                    _bad_line, _listed_file_missing])
def test_data_check_names_the_file_of_every_problem(camvid, damage, capsys):
    assert main(["data", "check", "camvid", str(camvid)]) == 0
    capsys.readouterr()
    path, words = damage(camvid)
    assert main(["data", "check", "camvid", str(camvid)]) == 1
    problems = [line for line in capsys.readouterr().out.splitlines() if line.startswith("  - ")]
    assert len(problems) == 1 and str(path) in problems[0] and words in problems[0], problems


def test_data_check_takes_the_dataset_first_or_as_an_option(camvid, capsys):
    assert main(["data", "check", str(camvid), "--dataset", "camvid"]) == 0
    assert main(["data", "check", str(camvid)]) == 2
    assert "name the dataset" in capsys.readouterr().err


def test_a_camvid_generator_trains_on_the_fabricated_tree(camvid, tmp_path):
    cfg = pg.preset("camvid")
    cfg.data.root = str(camvid)
    cfg.model.ngf, cfg.model.spade_hidden, cfg.model.ndf = 4, 8, 8
    cfg.train.steps, cfg.train.batch_size, cfg.train.ckpt_every = 2, 2, 1
    G = pg.train.train(cfg, tmp_path / "run", progress=False).generator
    sem = pg.data.to_semantics(torch.full((1, 90, 120), CV_VOID), None, "camvid", use_instance=False)
    assert sem.shape == (1, 12, 90, 120)  # 11 classes + void, no edge channel
    with torch.no_grad():
        assert G(sem).shape == (1, 3, 90, 120) and pg.render(G, sem, scale=4).shape == (1, 3, 360, 480)


# --- the real copy -----------------------------------------------------------------------

def test_the_real_camvid_copy_checks_clean_and_loads_at_90x120(camvid_dir):
    report = check_dataset(camvid_dir, "camvid")
    assert report.ok, report.problems
    assert [(s.name, s.examples) for s in report.splits][:2] == [("train", 367), ("val", 101)]
    val = CamVid(camvid_dir, "val")
    item = val[0]
    assert item["label"].shape == (90, 120) and item["image"].shape == (3, 90, 120)
    assert val.at_scale(0, 4)["image"].shape == (3, 360, 480)


def test_the_rule_keeps_the_thin_classes_of_real_labels(camvid_dir):
    val = CamVid(camvid_dir, "val")
    thin, kept, nearest = torch.zeros(12), torch.zeros(12), torch.zeros(12)
    for i in range(0, len(val), 10):
        native = val.native(i)["label"]
        thin += torch.bincount(native.flatten(), minlength=12) / 16
        kept += torch.bincount(val.at_scale(i, 1)["label"].flatten(), minlength=12)
        nearest += torch.bincount(native[2::4, 2::4].flatten(), minlength=12)
    for cls in (2, 6, 9):  # pole, sign, pedestrian: about their native share, where nearest loses some
        assert kept[cls] >= 0.9 * thin[cls], (cls, kept[cls], thin[cls])


def test_render_takes_camvid_label_pngs_as_they_are(camvid, tmp_path, capsys):
    from posgen_lib.checkpoint import save_model

    cfg = pg.preset("camvid")
    cfg.model.ngf, cfg.model.spade_hidden = 4, 8
    for kind in ("posgen", "anyres"):
        cfg.model.generator = kind
        save_model(tmp_path / f"{kind}.pt", pg.build_generator(cfg.model).eval(), cfg)
    native = camvid / "valannot" / f"{CAMVID_SPLITS['val'][0]}.png"  # 480x360, the SegNet copy's size
    out = tmp_path / "big.png"
    assert main(["render", str(tmp_path / "posgen.pt"), str(native), "--scale", "4", "--out", str(out)]) == 0
    assert Image.open(out).size == (480, 360)
    said = capsys.readouterr().out
    assert "brought down to the model's 120x90 by the camvid rule" in said and "high-resolution" not in said
    assert main(["render", str(tmp_path / "anyres.pt"), str(native), "--scale", "4", "--out", str(out)]) == 0
    assert "coordinates_hr" in (said := capsys.readouterr().out) and "as the high-resolution labels" in said
    assert main(["render", str(tmp_path / "posgen.pt"), str(camvid / "val" / native.name), "--out", str(out)]) == 2
    assert "colour image" in capsys.readouterr().err  # the photo given where the label map belongs


# --- the course's real-photo lessons (notebooks 04-07) -------------------------------------

def test_find_camvid_reads_the_environment_and_says_none_without_a_copy(camvid, tmp_path, monkeypatch):
    from posgen_lib.data.camvid import find_camvid

    monkeypatch.setenv("POSGEN_CAMVID_DIR", str(camvid))
    assert find_camvid() == camvid
    monkeypatch.setenv("POSGEN_CAMVID_DIR", str(tmp_path / "nowhere"))
    assert find_camvid() is None


def test_the_lessons_thin_class_table_counts_kept_blocks(camvid, monkeypatch, capsys):
    from posgen_lib.course.lessons import real_photos

    monkeypatch.setenv("POSGEN_CAMVID_DIR", str(camvid))
    val = real_photos.camvid_val()
    label = torch.full((8, 8), CV_ROAD)
    label[:, 1] = CV_POLE  # one pixel wide in the first column of blocks
    assert (real_photos.nearest_subsample(label, 4) == CV_ROAD).all()
    assert (real_photos.majority_vote(label, 4) == CV_ROAD).all()
    assert (val.downsample_labels(label, 4)[:, 0] == CV_POLE).all()
    table = real_photos.thin_class_table(val, count=len(val)).splitlines()
    pole = next(line for line in table if line.startswith("pole")).split()
    assert float(pole[3]) == 100.0  # the rule keeps every block a pole covers a quarter of
    monkeypatch.setenv("POSGEN_CAMVID_DIR", str(camvid.parent / "none"))
    assert real_photos.camvid_val() is None and "POSGEN_CAMVID_DIR" in capsys.readouterr().out


def test_the_lessons_figures_and_tables_run_on_a_tiny_camvid_model(camvid):
    from posgen_lib.course import as_jpeg
    from posgen_lib.course.lessons import real_photos
    from posgen_lib.eval.segmenter import load_segmenter

    val = CamVid(camvid, "val")
    cfg = pg.preset("camvid").model
    torch.manual_seed(0)
    G = pg.build_generator(cfg).eval()
    A = pg.build_generator(cfg.with_generator("anyres")).eval()
    jpeg = as_jpeg(real_photos.renders_figure(G, val, indices=(0,)))
    assert jpeg._repr_jpeg_()[:2] == b"\xff\xd8"  # a JPEG file
    real_photos.upscaling_figure(G, A, val, 0)
    scores = real_photos.upscaling_scores(G, A, val, count=1).splitlines()
    assert len(scores) == 5 and "texture 0 (the base)" in scores[3] and "texture 1 (default)" in scores[4]
    A.cfg = dataclasses.replace(A.cfg, anyres_texture=0.875)  # an operating point inside [0, 1] is shown too
    assert list(real_photos.amplitudes(A).values()) == ["texture 0 (the base)", "texture 0.875 (default)", "texture 1"]
    assert list(real_photos.amplitudes(A, (0.5,))) == [0.5]
    assert real_photos.labels_at(A, val, 0)(4).shape[-2:] == (360, 480)
    judge = load_segmenter(dataset="camvid")
    table = real_photos.segmenter_table(judge, G, val, count=1).splitlines()
    assert table[-1].startswith("mIoU") and len(table) == 2 + len(judge.names)
