"""The fabricated miniature dataset trees (posgen_lib/data/fabricate.py)."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from posgen_lib.data import Cityscapes, CocoStuff, fabricate, fabricate_tree
from posgen_lib.data.prepare import check_dataset


def test_cityscapes_tree_is_complete_and_loads(tmp_path):
    root = fabricate_tree(tmp_path, "cityscapes")
    assert root == tmp_path / "cityscapes"
    report = check_dataset(root, "cityscapes")
    assert report.ok, report.problems
    assert [s.examples for s in report.splits] == [2, 1]
    paths = fabricate.city_paths(root, "train", fabricate.CITY_SPLITS["train"][1])
    label, instance = fabricate.city_scene(1)
    assert np.array_equal(np.asarray(Image.open(paths["label"])), label)
    assert np.array_equal(np.asarray(Image.open(paths["instance"])), instance)
    assert len(Cityscapes(root, "train", transform=False)) == 2


def test_city_scene_is_asymmetric_with_two_car_instances():
    label, instance = fabricate.city_scene(0)
    assert label.shape == (fabricate.H, fabricate.W)
    assert not np.array_equal(label, label[:, ::-1])  # a flip can be detected
    cars = np.unique(instance[label == fabricate.CAR])
    assert cars.tolist() == [fabricate.CAR * 1000, fabricate.CAR * 1000 + 1]
    assert np.array_equal(instance[label != fabricate.CAR], label[label != fabricate.CAR])


def test_coco_stuff_tree_has_dontcare_and_optional_instances(tmp_path):
    root = fabricate_tree(tmp_path, "coco_stuff")
    assert check_dataset(root, "coco_stuff").ok
    item = CocoStuff(root, "val", transform=False)[0]
    assert set(item["label"].unique().tolist()) == {0, 123, 156, 255}
    assert item["instance"].max() == 1
    plain = fabricate.make_coco_stuff(tmp_path / "plain", instances=False)
    assert not (plain / "val_inst").exists() and check_dataset(plain, "coco_stuff").ok


def test_damage_tree_plants_two_reported_problems(tmp_path):
    root = fabricate_tree(tmp_path, "cityscapes")
    damaged = fabricate.damage_tree(root)
    report = check_dataset(root, "cityscapes")
    assert len(report.problems) == 2
    for path, words in zip(damaged, ("truncated", "colour map")):
        assert any(str(path) in p and words in p for p in report.problems), report.problems


def test_unknown_dataset_is_refused(tmp_path):
    with pytest.raises(ValueError, match="choose one of cityscapes, coco_stuff"):
        fabricate_tree(tmp_path, "ade20k")
