"""`posgen demo` end to end with a tiny budget: every promised file, and metrics next to an untrained model."""
from __future__ import annotations

import json

from PIL import Image

from posgen_lib.eval.demo import run_demo


def test_demo_writes_samples_renders_curve_and_metrics(tmp_path, capsys):
    metrics = run_demo(tmp_path / "demo", steps=2)
    out = tmp_path / "demo"
    for name in ("samples.png", "renders.png", "loss_curve.png"):
        with Image.open(out / name) as image:
            assert image.format == "PNG" and image.width > 200
    saved = json.loads((out / "metrics.json").read_text())
    assert saved == metrics and saved["steps"] == 2
    assert saved["recipe"]["ema_decay"] == 0.999 and saved["recipe"]["preset"] == "synthetic"
    assert set(saved["scores"]) == {"demo", "untrained", "shipped"}
    for card in saved["scores"].values():
        for scale in ("1x", "4x"):
            assert {"miou", "segfd", "psnr", "ssim", "sharpness"} <= set(card[scale])
    printed = capsys.readouterr().out
    assert str(out / "samples.png") in printed and "   shipped    4x" in printed
