"""pg.environment_report(): what notebook 00 shows."""
from __future__ import annotations

import platform
from pathlib import Path

import torch

from posgen_lib.course import envcheck


def make_cityscapes(root: Path, split: str, cities: dict[str, int]) -> None:
    """Empty files in the official layout (the report only pairs file names)."""
    for city, count in cities.items():
        for kind, suffixes in (("leftImg8bit", ["_leftImg8bit.png"]),
                               ("gtFine", ["_gtFine_labelIds.png", "_gtFine_instanceIds.png"])):
            folder = root / kind / split / city
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(count):
                for suffix in suffixes:
                    (folder / f"{city}_{i:06d}_000019{suffix}").touch()


def test_report_finds_real_data_under_posgen_data_dir(tmp_path, monkeypatch):
    make_cityscapes(tmp_path / "cityscapes", "train", {"aachen": 3, "bremen": 2})
    make_cityscapes(tmp_path / "cityscapes", "val", {"lindau": 1})
    lindau = tmp_path / "cityscapes" / "gtFine" / "val" / "lindau"
    (lindau / "lindau_000000_000019_gtFine_instanceIds.png").unlink()  # a label without its instances
    monkeypatch.setenv("POSGEN_DATA_DIR", str(tmp_path))
    report = envcheck.environment_report()
    city, coco = report.datasets
    assert city.found and city.examples == {"train": 5, "val": 0} and city.problems == 1
    assert "train 5, val 0; 1 problems" in city.describe()
    assert not coco.found and "synthetic street scenes are used instead" in coco.describe()


def test_report_versions_mode_and_table(monkeypatch, tmp_path):
    monkeypatch.setenv("POSGEN_DATA_DIR", str(tmp_path))
    report = envcheck.environment_report()
    assert report.python == platform.python_version()
    assert torch.__version__.startswith(report.versions["torch"].split("+")[0])
    assert report.fast is True  # tests/conftest.py sets POSGEN_FAST=1
    text = repr(report)
    assert "POSGEN_FAST" in text and "1: tiny budgets" in text and "data: cityscapes" in text


def test_missing_pretrained_model_and_bad_device_are_problems(monkeypatch, tmp_path):
    def missing(name):
        raise FileNotFoundError(f"the pretrained {name!r} model is missing from the package")

    monkeypatch.setattr(envcheck, "pretrained_path", missing)
    monkeypatch.setenv("POSGEN_DATA_DIR", str(tmp_path))
    if not torch.cuda.is_available():
        monkeypatch.setenv("POSGEN_DEVICE", "cuda:0")
    report = envcheck.environment_report()
    assert report.pretrained is None and not report.ok
    assert any("pretrained 'synthetic' model is missing" in p for p in report.problems)
    if not torch.cuda.is_available():
        assert report.device == "cpu" and any("POSGEN_DEVICE=cuda:0" in p for p in report.problems)
    assert "problems:" in repr(report)


def test_present_pretrained_model_is_reported(monkeypatch, tmp_path):
    model = tmp_path / "posgen_synthetic.pt"
    model.touch()
    monkeypatch.setattr(envcheck, "pretrained_path", lambda name: model)
    monkeypatch.delenv("POSGEN_DEVICE", raising=False)
    report = envcheck.environment_report()
    assert report.pretrained == model and str(model) in repr(report)
    assert report.ok, report.problems  # make test installs every extra the notebooks need
