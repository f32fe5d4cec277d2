"""Helpers of notebook 05 (posgen_lib/lessons_training.py)."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from matplotlib.figure import Figure

import posgen_lib as pg
from posgen_lib import checkpoint as ckpt
from posgen_lib.course.lessons import training as lessons
from posgen_lib.models.registry import build_generator


def test_hinge_figure_draws_three_terms():
    fig = lessons.hinge_figure()
    assert isinstance(fig, Figure) and len(fig.axes[0].lines) == 3


def test_largest_singular_value():
    w = torch.diag(torch.tensor([0.5, -3.0, 2.0]))
    assert abs(lessons.largest_singular_value(w) - 3.0) < 1e-6


def test_spectral_norm_table_normalizes_every_scale():
    rows = [line.split() for line in lessons.spectral_norm_table((0.5, 4.0)).splitlines()[1:]]
    assert [float(r[0]) for r in rows] == [0.5, 4.0]
    assert float(rows[1][1]) / float(rows[0][1]) == pytest.approx(8.0, rel=1e-3)
    assert [r[2] for r in rows] == ["1.000", "1.000"]


def test_discriminator_shapes_lists_every_layer():
    cfg = pg.preset("tiny")
    lines = lessons.discriminator_shapes(cfg).splitlines()
    m = cfg.model
    assert lines[0].startswith(f"input (1, {m.semantic_nc + 3}, 32, 64)")
    assert len(lines) == 1 + m.num_D * (m.n_layers_D + 1)
    logits = [line for line in lines if line.endswith("patch logits")]
    assert len(logits) == m.num_D and all("(1, 1, " in line for line in logits)


def test_step_parts_uses_ttur_and_a_real_batch():
    cfg = pg.preset("tiny")
    parts = lessons.step_parts(cfg, batch_size=2)
    assert parts.sem.shape == (2, cfg.model.semantic_nc, 32, 64)
    assert parts.real.shape == (2, 3, 32, 64) and parts.real.abs().max() <= 1
    assert parts.opt_G.param_groups[0]["lr"] == cfg.train.lr / 2
    assert parts.opt_D.param_groups[0]["lr"] == cfg.train.lr * 2
    d_before = [p.detach().clone() for p in parts.D.parameters()]
    g_before = [p.detach().clone() for p in parts.G.parameters()]
    g_losses, _ = parts.objective.generator_losses(parts.G, parts.D, parts.sem, parts.real)
    parts.opt_G.zero_grad()
    sum(g_losses.values()).backward()
    parts.opt_G.step()
    assert any(not torch.equal(a, b) for a, b in zip(g_before, parts.G.parameters()))
    assert all(torch.equal(a, b) for a, b in zip(d_before, parts.D.parameters()))


def test_short_run_config_and_folder(monkeypatch, tmp_path):
    cfg = lessons.short_run_config(3)
    assert (cfg.train.steps, cfg.train.log_every, cfg.train.sample_every) == (3, 1, 3)
    assert lessons.short_run_config(300).train.log_every == 10
    monkeypatch.setenv("POSGEN_CKPT_DIR", str(tmp_path))
    folder = lessons.run_folder(cfg)
    assert folder.parent == tmp_path and folder.name.startswith("05_synthetic_3steps_")
    assert lessons.run_folder(lessons.short_run_config(3)) == folder  # deterministic
    cfg.model.ngf += 4  # another model: another folder
    assert lessons.run_folder(cfg) != folder
    monkeypatch.delenv("POSGEN_CKPT_DIR")
    assert lessons.run_folder(cfg, "06").parent == Path("checkpoints")


def test_samples_figure_with_an_untrained_generator():
    cfg = pg.preset("tiny")
    fig = lessons.samples_figure(build_generator(cfg.model), cfg, n=2, title="x")
    image = fig.axes[0].images[0].get_array()
    assert image.shape[0] == 2 * 32 + 2  # two rows of 32 pixels, one gap


def test_resume_demo_reports_identical_weights(tmp_path):
    report = lessons.resume_demo(tmp_path / "demo", steps=2)
    assert "resumed from step_0000001.pt (step 1)" in report
    assert report.count("True") == 2 and "False" not in report


def test_truncated_checkpoint_error_names_the_file(tmp_path):
    ckpt.save_checkpoint(ckpt.step_path(tmp_path / "checkpoints", 3),
                         {"format": ckpt.FORMAT, "weights": torch.zeros(1000)})
    message = lessons.truncated_checkpoint_error(tmp_path)
    assert message.startswith("cannot read checkpoint truncated.pt") and str(tmp_path) not in message


def test_recipe_table_can_keep_some_rows():
    lines = lessons.recipe_table("synthetic", only=("Adam", "lr decay")).splitlines()
    assert len(lines) == 3 and lines[1].split()[0] == "Adam" and lines[2].split()[0] == "lr"


def test_recipe_tables():
    coco = lessons.recipe_table("coco_stuff")
    assert "182 + 1 + 1 = 184" in coco and "resize_and_crop, load 286, crop 256" in coco
    city = lessons.recipe_table("cityscapes")
    assert "0.0001 / 0.0004" in city and "50 epochs, 32" in city and "more (6)" in city
