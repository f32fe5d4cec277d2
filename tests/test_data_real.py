"""Real-dataset loaders, preprocessing, `posgen data check` and `posgen data prepare`.

Every test builds a miniature Cityscapes or COCO-Stuff tree (32x64 PNG/JPEG
files) in tmp_path, so nothing here needs the real datasets.
"""
from __future__ import annotations

import json
import sys
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import posgen_lib as pg
from posgen_lib.cli import main
from posgen_lib.errors import UserError
from posgen_lib.config import DataConfig
from posgen_lib.data import Cityscapes, CocoStuff, build_dataset, fabricate
from posgen_lib.data.fabricate import (CITY_SPLITS, COCO_SPLITS, ROAD, H, W, city_paths, coco_paths,
                                       coco_scene, make_cityscapes, make_coco_stuff)
from posgen_lib.data.prepare import check_dataset, prepare_cityscapes, prepare_coco_stuff
from posgen_lib.data.transforms import plan_geometry, preprocess

# The miniature trees are shared with notebook 04 (posgen_lib/data/fabricate.py).
scene, photo, save = fabricate.city_scene, fabricate.city_photo, fabricate.save_image


@pytest.fixture
def city(tmp_path) -> Path:
    return make_cityscapes(tmp_path / "cityscapes")


@pytest.fixture
def coco(tmp_path) -> Path:
    return make_coco_stuff(tmp_path / "coco_stuff")


def data_cfg(mode: str = "fixed", load: int = 64, crop: int = 64, aspect: float = 2.0,
             flip: bool = True) -> DataConfig:
    return DataConfig(dataset="cityscapes", label_set="cityscapes", preprocess_mode=mode,
                      load_size=load, crop_size=crop, aspect_ratio=aspect, flip=flip)


def load_all(dataset) -> list[dict]:
    return [dataset[i] for i in range(len(dataset))]


# --- loaders and preprocessing ----------------------------------------------------

def test_cityscapes_items_at_file_size(city):
    ds = Cityscapes(city, "train", transform=False)
    assert len(ds) == 2
    item = ds[0]
    assert set(item) == {"label", "instance", "image", "path"}
    assert item["path"].endswith("aachen_000000_000019_leftImg8bit.png")
    assert item["label"].dtype == item["instance"].dtype == torch.int64
    assert item["image"].dtype == torch.float32 and item["image"].shape == (3, H, W)
    label, instance = scene(0)
    assert torch.equal(item["label"], torch.from_numpy(label.astype(np.int64)))
    assert torch.equal(item["instance"], torch.from_numpy(instance.astype(np.int64)))
    expected = torch.from_numpy(photo(label)).permute(2, 0, 1).float() / 127.5 - 1
    assert torch.allclose(item["image"], expected, atol=1e-6)
    assert item["image"].min() >= -1 and item["image"].max() <= 1


@pytest.mark.parametrize("cfg, resized, out_hw", [
    (data_cfg("fixed", crop=64, aspect=2.0), (64, 32), (32, 64)),
    (data_cfg("fixed", crop=32, aspect=1.0), (32, 32), (32, 32)),
    (data_cfg("resize_and_crop", load=40, crop=32), (40, 40), (32, 32)),
    (data_cfg("scale_width_and_crop", load=96, crop=32), (96, 48), (32, 32)),
    (data_cfg("scale_shortside_and_crop", load=40, crop=32), (80, 40), (32, 32)),
    (data_cfg("none"), (64, 32), (32, 64)),
])
def test_preprocess_modes(city, cfg, resized, out_hw):
    assert plan_geometry((W, H), cfg, train=True).resize == resized
    for split in ("train", "val"):
        item = Cityscapes(city, split, cfg, generator=torch.Generator().manual_seed(0))[0]
        assert item["label"].shape == item["instance"].shape == out_hw
        assert item["image"].shape == (3, *out_hw)
        assert item["label"].dtype == item["instance"].dtype == torch.int64
        assert item["image"].dtype == torch.float32
        assert_aligned(item)


def assert_aligned(item: dict) -> None:
    """The photo shows each label's colour away from class boundaries (label and photo aligned)."""
    label = item["label"]
    interior = torch.ones_like(label, dtype=torch.bool)
    for dy in range(-3, 4):
        for dx in range(-3, 4):
            interior &= torch.roll(label, (dy, dx), (0, 1)) == label
    interior[:3], interior[-3:], interior[:, :3], interior[:, -3:] = False, False, False, False
    colours = torch.from_numpy(photo(label.numpy().astype(np.uint8))).permute(2, 0, 1) / 127.5 - 1
    assert interior.any()
    assert (item["image"] - colours)[:, interior].abs().max() < 0.05


def test_preprocess_none_rounds_to_multiples_of_32():
    label = Image.fromarray(np.zeros((30, 70), np.int32))
    image = Image.fromarray(np.zeros((30, 70, 3), np.uint8))
    item = preprocess(label, None, image, data_cfg("none"))
    assert item["label"].shape == (32, 64) and item["image"].shape == (3, 32, 64)
    assert torch.equal(item["instance"], torch.zeros(32, 64, dtype=torch.int64))


def test_flip_is_applied_to_label_instance_and_image_alike(city):
    items = {}
    for seed in range(20):
        item = Cityscapes(city, "train", data_cfg(), generator=torch.Generator().manual_seed(seed))[0]
        flipped = not torch.equal(item["label"], torch.from_numpy(scene(0)[0].astype(np.int64)))
        items.setdefault(flipped, item)
    assert set(items) == {False, True}, "20 seeds should give both flip outcomes"
    for key in ("label", "instance", "image"):
        assert torch.equal(items[True][key], items[False][key].flip(-1))


def test_random_crops_are_seeded_and_eval_is_deterministic(city):
    cfg = data_cfg("resize_and_crop", load=48, crop=32)

    def first(split, seed):
        return Cityscapes(city, split, cfg, generator=torch.Generator().manual_seed(seed))[0]

    assert torch.equal(first("train", 3)["image"], first("train", 3)["image"])
    assert any(not torch.equal(first("train", 0)["label"], first("train", s)["label"])
               for s in range(1, 10))
    val = [first("val", s) for s in range(3)]
    assert all(torch.equal(v["image"], val[0]["image"]) for v in val)
    centre = preprocess(Image.fromarray(scene(0)[0].astype(np.int32)), None,
                        Image.fromarray(photo(scene(0)[0])), replace(cfg, flip=False))
    assert torch.equal(val[0]["label"], centre["label"])


def test_coco_stuff_items(coco, tmp_path):
    ds = CocoStuff(coco, "val", transform=False)
    item = ds[0]
    assert set(item) == {"label", "instance", "image", "path"}
    assert item["label"].shape == (H, W) and item["image"].shape == (3, H, W)
    assert 255 in item["label"].unique().tolist()
    assert item["instance"].max() == 1
    preset_item = CocoStuff(coco, "train", cfg=replace(pg.preset("coco_stuff").data, load_size=40,
                                                       crop_size=32))[0]
    assert preset_item["label"].shape == (32, 32) and preset_item["image"].shape == (3, 32, 32)
    no_inst = CocoStuff(make_coco_stuff(tmp_path / "plain", instances=False), "val")[0]
    assert not no_inst["instance"].any() and no_inst["instance"].dtype == torch.int64


def test_build_dataset(city, tmp_path, monkeypatch):
    cfg = pg.preset("tiny")
    cfg.data = replace(data_cfg(), root=str(city))
    ds = build_dataset(cfg, "train")
    assert isinstance(ds, Cityscapes) and ds[0]["image"].shape == (3, 32, 64)

    monkeypatch.setenv("POSGEN_DATA_DIR", str(city.parent))
    assert isinstance(build_dataset(replace(cfg, data=replace(cfg.data, root=None)), "val"),
                      Cityscapes)
    monkeypatch.setenv("POSGEN_DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="--data DIR.*POSGEN_DATA_DIR.*data/README.md"):
        build_dataset(replace(cfg, data=replace(cfg.data, root=None)))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        build_dataset(replace(cfg, data=replace(cfg.data, root=str(tmp_path / "missing"))))
    with pytest.raises(ValueError, match="choose one of synthetic, cityscapes, coco_stuff"):
        build_dataset(replace(cfg, data=replace(cfg.data, dataset="ade20k")))
    with pytest.raises(ValueError, match="model.image_size"):
        build_dataset(replace(cfg, data=replace(cfg.data, crop_size=128)))
    with pytest.raises(ValueError, match="preprocess_mode"):
        build_dataset(replace(cfg, data=replace(cfg.data, preprocess_mode="zoom")))


def test_build_dataset_synthetic():
    pytest.importorskip("posgen_lib.data.synthetic")
    cfg = pg.preset("tiny")
    item = build_dataset(cfg, "val")[0]
    assert item["image"].shape == (3, *cfg.model.image_size)


# --- bad input: the loaders and `check_dataset` name the file -------------------

def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


CITY_TRAIN0 = ("train", CITY_SPLITS["train"][0])

# name -> (plant(root) -> file the message must name, words the message must contain)
CITY_PROBLEMS = {
    "missing split folder": (lambda r: _rmtree(r / "leftImg8bit" / "val"), "missing folder"),
    "empty split": (lambda r: _empty_split(r), "is empty"),
    "image without label": (lambda r: _remove(city_paths(r, *CITY_TRAIN0), "label", "image"),
                            "image without label"),
    "label without image": (lambda r: _remove(city_paths(r, *CITY_TRAIN0), "image", "label"),
                            "label map without image"),
    "missing instance map": (lambda r: _remove(city_paths(r, *CITY_TRAIN0), "instance", "label"),
                             "no instance map"),
    "label size": (lambda r: save(np.full((16, 32), ROAD, np.uint8),
                                  city_paths(r, *CITY_TRAIN0)["label"]), "differs from"),
    "label values": (lambda r: save(np.full((H, W), 40, np.uint8),
                                    city_paths(r, *CITY_TRAIN0)["label"]), "not in the 'cityscapes'"),
    "truncated image": (lambda r: _truncated(city_paths(r, *CITY_TRAIN0)["image"]), "truncated"),
    "not an image": (lambda r: _text(city_paths(r, *CITY_TRAIN0)["label"]), "not an image"),
    "colour label": (lambda r: save(photo(scene(0)[0]), city_paths(r, *CITY_TRAIN0)["label"]),
                     "looks like a colour map; use the *_gtFine_labelIds.png"),
    "instance size": (lambda r: save(np.zeros((16, 32), np.uint16),
                                     city_paths(r, *CITY_TRAIN0)["instance"]), "differs from"),
}


def _rmtree(path: Path) -> Path:
    for p in sorted(path.rglob("*"), reverse=True):
        p.unlink() if p.is_file() else p.rmdir()
    path.rmdir()
    return path


def _empty_split(root: Path) -> Path:
    for top in ("leftImg8bit", "gtFine"):
        _rmtree(root / top / "val")
        (root / top / "val").mkdir()
    return root / "leftImg8bit" / "val"


def _remove(paths: dict[str, Path], kind: str, named: str) -> Path:
    """Delete one file of an example; the problem is reported on another one (``named``)."""
    paths[kind].unlink()
    return paths[named]


def _truncated(path: Path) -> Path:
    _truncate(path)
    return path


def _text(path: Path) -> Path:
    path.write_text("not a PNG")
    return path


@pytest.mark.parametrize("problem", list(CITY_PROBLEMS))
def test_bad_cityscapes_input_is_reported_with_its_file(city, problem):
    plant, words = CITY_PROBLEMS[problem]
    culprit = plant(city)
    report = check_dataset(city, "cityscapes")
    assert len(report.problems) == 1, report.problems
    assert culprit.name in report.problems[0] and words in report.problems[0]
    assert not report.ok and words in str(report)
    split = "val" if "split" in problem else "train"
    with pytest.raises((ValueError, FileNotFoundError), match=words.replace("*", r"\*")) as err:
        load_all(Cityscapes(city, split, data_cfg()))
    assert culprit.name in str(err.value)


COCO_VAL0 = ("val", COCO_SPLITS["val"][0])
COCO_PROBLEMS = {
    "label values": (lambda r: save(np.full((H, W), 200, np.uint8), coco_paths(r, *COCO_VAL0)["label"]),
                     "not in the 'coco_stuff'"),
    "truncated jpeg": (lambda r: _truncated(coco_paths(r, *COCO_VAL0)["image"]), "truncated"),
    "instance size": (lambda r: save(np.zeros((8, 8), np.uint8), coco_paths(r, *COCO_VAL0)["instance"]),
                      "differs from"),
    "missing instance map": (lambda r: _remove(coco_paths(r, *COCO_VAL0), "instance", "label"),
                             "no instance map"),
    "image without label": (lambda r: _remove(coco_paths(r, *COCO_VAL0), "label", "image"),
                            "image without label"),
    "colour label": (lambda r: save(np.zeros((H, W, 3), np.uint8), coco_paths(r, *COCO_VAL0)["label"]),
                     "looks like a colour map"),
}


@pytest.mark.parametrize("problem", list(COCO_PROBLEMS))
def test_bad_coco_stuff_input_is_reported_with_its_file(coco, problem):
    plant, words = COCO_PROBLEMS[problem]
    culprit = plant(coco)
    report = check_dataset(coco, "coco_stuff")
    assert len(report.problems) == 1, report.problems
    assert culprit.name in report.problems[0] and words in report.problems[0]
    with pytest.raises((ValueError, FileNotFoundError), match=words) as err:
        load_all(CocoStuff(coco, "val"))
    assert culprit.name in str(err.value)


def test_missing_root_and_unknown_dataset(tmp_path):
    missing = tmp_path / "nothing"
    report = check_dataset(missing, "cityscapes")
    assert not report.ok and "does not exist" in report.problems[0]
    for loader in (Cityscapes, CocoStuff):
        with pytest.raises(FileNotFoundError, match="does not exist.*data/README.md"):
            loader(missing)
    with pytest.raises(ValueError, match="choose one of cityscapes, coco_stuff"):
        check_dataset(tmp_path, "ade20k")


# --- `posgen data check` --------------------------------------------------------------

def test_cli_check_reports_every_problem(city, capsys):
    assert main(["data", "check", str(city), "--dataset", "cityscapes"]) == 0
    out = capsys.readouterr().out
    assert "no problems found" in out and "train: 2 examples" in out and "64x32 (2)" in out
    assert "label values 7..26" in out

    bad_values = city_paths(city, "train", CITY_SPLITS["train"][0])["label"]
    save(np.full((H, W), 99, np.uint8), bad_values)
    truncated = city_paths(city, "train", CITY_SPLITS["train"][1])["image"]
    _truncate(truncated)
    orphan = city_paths(city, "val", CITY_SPLITS["val"][0])
    orphan["label"].unlink()
    assert main(["data", "check", str(city), "--dataset", "cityscapes"]) == 1
    out = capsys.readouterr().out
    assert "3 problem(s)" in out
    for path in (bad_values, truncated, orphan["image"]):
        assert str(path) in out
    assert main(["data", "check", str(city), "--dataset", "cityscapes", "--split", "val"]) == 1
    assert "1 problem(s)" in capsys.readouterr().out


# --- `posgen data prepare` ------------------------------------------------------------

def _zip(tree: Path, zip_path: Path, top: str, extra: dict[str, str]) -> None:
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted((tree / top).rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(tree).as_posix())
        for name, text in extra.items():
            zf.writestr(name, text)


def test_prepare_cityscapes_from_zips_and_resume(tmp_path, capsys):
    tree = make_cityscapes(tmp_path / "tree")
    save(np.zeros((H, W), np.uint8), tree / "gtFine" / "test" / "berlin" / "berlin_000000_000019_gtFine_labelIds.png")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    _zip(tree, downloads / "gtFine_trainvaltest.zip", "gtFine", {"README": "x", "license.txt": "x"})
    _zip(tree, downloads / "leftImg8bit_trainvaltest.zip", "leftImg8bit", {"README": "x"})
    out = tmp_path / "cityscapes"

    result = prepare_cityscapes(downloads, out)
    assert (result.written, result.skipped) == (9, 0)  # 3 examples x (photo, labelIds, instanceIds)
    assert not list(out.rglob("*_color.png")) and not (out / "gtFine" / "test").exists()
    assert not list(out.rglob("*.tmp")) and not (out / "README").exists()
    assert check_dataset(out, "cityscapes").ok
    assert len(Cityscapes(out, "train")) == 2

    _truncate(city_paths(out, "val", CITY_SPLITS["val"][0])["label"])  # an interrupted copy
    result = prepare_cityscapes(downloads, out)
    assert (result.written, result.skipped) == (1, 8)
    assert check_dataset(out, "cityscapes").ok

    assert main(["data", "prepare", "cityscapes", "--src", str(downloads), "--out", str(out)]) == 0
    assert "0 files written, 9 already in place" in capsys.readouterr().out
    (downloads / "leftImg8bit_trainvaltest.zip").unlink()
    assert main(["data", "prepare", "cityscapes", "--src", str(downloads), "--out", str(out)]) == 2
    assert "leftImg8bit_trainvaltest.zip not found" in capsys.readouterr().err


def _polygon(x0, y0, x1, y1) -> list[list[float]]:
    return [[x0, y0, x1, y0, x1, y1, x0, y1]]


def make_coco_downloads(src: Path) -> None:
    """train2017.zip, val2017/, stuffthingmaps_trainval2017.zip, annotations/instances_*.json."""
    (src / "annotations").mkdir(parents=True)
    with zipfile.ZipFile(src / "stuffthingmaps_trainval2017.zip", "w") as stuff, \
         zipfile.ZipFile(src / "train2017.zip", "w") as train_zip:
        for split, stems in COCO_SPLITS.items():
            images, annotations = [], []
            for seed, stem in enumerate(stems):
                image_id = int(stem)
                label, _ = coco_scene(seed)
                stuff.writestr(f"{split}2017/{stem}.png", _png_bytes(label))
                jpg = save(np.full((H, W, 3), 100, np.uint8), src / f"{split}2017" / f"{stem}.jpg")
                if split == "train":
                    train_zip.write(jpg, f"train2017/{stem}.jpg")
                    jpg.unlink()
                images.append({"id": image_id, "file_name": f"{stem}.jpg", "height": H, "width": W})
                if seed == 0:  # two objects in the first image of each split, none in the others
                    for k, box in enumerate([(2, 2, 30, 30), (40, 10, 50, 20)]):
                        annotations.append({"id": 10 * image_id + k, "image_id": image_id,
                                            "category_id": 1, "iscrowd": 0,
                                            "segmentation": _polygon(*box), "bbox": list(box),
                                            "area": float((box[2] - box[0]) * (box[3] - box[1]))})
            (src / "annotations" / f"instances_{split}2017.json").write_text(json.dumps(
                {"images": images, "annotations": annotations,
                 "categories": [{"id": 1, "name": "person", "supercategory": "person"}]}))
    (src / "train2017").rmdir()


def _png_bytes(array: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.filterwarnings("ignore::DeprecationWarning:pycocotools")  # numpy 2 copy= warning
def test_prepare_coco_stuff(tmp_path):
    pytest.importorskip("pycocotools")
    src, out = tmp_path / "coco", tmp_path / "coco_stuff"
    make_coco_downloads(src)

    result = prepare_coco_stuff(src, out)
    assert (result.written, result.skipped) == (9, 0)
    for split, stems in COCO_SPLITS.items():
        for kind in ("img", "label", "inst"):
            assert sorted(p.stem for p in (out / f"{split}_{kind}").iterdir()) == stems
    inst = np.asarray(Image.open(out / "val_inst" / f"{COCO_SPLITS['val'][0]}.png"))
    assert inst.shape == (H, W) and sorted(np.unique(inst).tolist()) == [0, 1, 2]
    assert inst[5, 5] == 1 and inst[15, 45] == 2  # larger object first: id 1
    assert not np.asarray(Image.open(out / "train_inst" / f"{COCO_SPLITS['train'][1]}.png")).any()
    assert check_dataset(out, "coco_stuff").ok
    assert CocoStuff(out, "val")[0]["instance"].max() == 2

    result = prepare_coco_stuff(src, out)
    assert (result.written, result.skipped) == (0, 9)
    (src / "annotations" / "instances_val2017.json").unlink()
    with pytest.raises(FileNotFoundError, match="instances_val2017.json not found"):
        prepare_coco_stuff(src, out)


def test_prepare_refuses_broken_downloads(tmp_path, monkeypatch):
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    for name in ("gtFine_trainvaltest.zip", "leftImg8bit_trainvaltest.zip"):
        (downloads / name).write_text("an HTML error page, not a zip")
    with pytest.raises(ValueError, match="gtFine_trainvaltest.zip: not a zip archive"):
        prepare_cityscapes(downloads, tmp_path / "out")
    monkeypatch.setitem(sys.modules, "pycocotools.coco", None)  # as if not installed
    with pytest.raises(UserError, match=r"pip install posgen-lib\[coco\]"):
        prepare_coco_stuff(downloads, tmp_path / "out")
