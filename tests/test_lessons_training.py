"""Figures and the sample-grid widget of notebook 05 (posgen_lib/course/lessons/training.py)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from PIL import Image

import posgen_lib as pg
from posgen_lib.course.lessons import training as lessons
from posgen_lib.models.registry import build_generator
from posgen_lib.viz.images import tile


def test_hinge_figure_draws_three_terms():
    fig = lessons.hinge_figure()
    assert isinstance(fig, Figure) and len(fig.axes[0].lines) == 3


def test_training_step_diagram_has_a_g_step_and_a_d_step():
    fig = lessons.training_step_diagram()
    assert len(fig.axes) == 2
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0].startswith("1. G step") and titles[1].startswith("2. D step")
    texts = [" ".join(t.get_text() for t in ax.texts) for ax in fig.axes]
    assert "opt_G" in texts[0] and "opt_D" not in texts[0]
    assert "opt_D" in texts[1] and "fake.detach()" in texts[1]
    assert "G_feat" in texts[0] and "D_real" in texts[1] and "D_fake" in texts[1]


def test_samples_figure_draws_one_column_per_generator_at_true_size():
    cfg = pg.preset("tiny")
    torch.manual_seed(0)
    generators = {"a": build_generator(cfg.model), "b": build_generator(cfg.model)}
    fig = lessons.samples_figure(generators, cfg, n=2, title="x")
    image = fig.axes[0].images[0].get_array()
    assert image.shape[:2] == (2 * 32 + 2, 4 * 64 + 3 * 2)  # labels | photo | a | b, 2-pixel gaps
    width, height = fig.get_size_inches()
    assert width * 80 == pytest.approx(image.shape[1])  # one image pixel per screen pixel at 80 dpi
    single = lessons.samples_figure(generators["a"], cfg, n=1)
    assert single.axes[0].images[0].get_array().shape[:2] == (32, 3 * 64 + 2 * 2)


def _fake_run(folder, steps, size=(8, 16), rows=2):
    """A run folder whose samples/step_*.png are sample grids with a flat colour per step."""
    h, w = size
    (folder / "samples").mkdir(parents=True)
    for k, step in enumerate(steps):
        label = np.full((h, w, 3), 10, np.uint8)
        photo = np.full((h, w, 3), 20, np.uint8)
        fake = np.full((h, w, 3), 100 + k, np.uint8)
        Image.fromarray(tile([[label, photo, fake]] * rows)).save(folder / "samples" / f"step_{step:07d}.png")
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(folder / "samples" / "final.png")  # not a step
    return folder


def test_sample_frames_are_sorted_by_step_and_skip_other_files(tmp_path):
    run = _fake_run(tmp_path / "run", [100, 20, 5])
    assert [s for s, _ in lessons.sample_frames(run)] == [5, 20, 100]
    assert lessons.sample_frames(tmp_path / "empty") == []


def test_frame_at_returns_that_steps_png_and_says_which(tmp_path):
    run = _fake_run(tmp_path / "run", [5, 20])
    frames = lessons.sample_frames(run)
    data, caption = lessons.frame_at(frames, 20)
    assert data == (run / "samples" / "step_0000020.png").read_bytes()
    assert caption.startswith("step 20 of 20") and "true size" in caption
    with pytest.raises(ValueError, match="no sample grid at step 7"):
        lessons.frame_at(frames, 7)


def test_sample_stepper_slider_changes_the_picture(tmp_path):
    pytest.importorskip("ipywidgets")
    run = _fake_run(tmp_path / "run", [5, 20, 40])
    widget = lessons.sample_stepper(run)
    assert widget.slider.value == 40  # starts at the last grid
    last = widget.image.value
    widget.slider.value = 5  # what dragging the slider does
    assert widget.image.value == (run / "samples" / "step_0000005.png").read_bytes() != last
    assert widget.caption.value.startswith("step 5 of 40")
    width, height = Image.open(run / "samples" / "step_0000005.png").size
    assert (widget.image.layout.width, widget.image.layout.height) == (f"{width}px", f"{height}px")  # true size
    with pytest.raises(FileNotFoundError):
        lessons.sample_stepper(tmp_path / "nothing")


def test_generated_column_cuts_exact_images():
    h, w = 4, 6
    cells = [[np.full((h, w, 3), 10 * (3 * r + c), np.uint8) for c in range(3)] for r in range(2)]
    grid = tile(cells)
    for column in range(3):
        pieces = lessons.generated_column(grid, (h, w), column)
        assert [int(p[0, 0, 0]) for p in pieces] == [10 * column, 10 * (3 + column)]
        assert all(p.shape == (h, w, 3) and (p == p[0, 0]).all() for p in pieces)


def test_training_progress_figure_shows_the_generated_column_of_picked_steps(tmp_path):
    run = _fake_run(tmp_path / "run", [10, 20, 30, 40, 50], size=(8, 16), rows=3)
    fig = lessons.training_progress_figure(run, (8, 16), count=3, scenes=2)
    image = np.asarray(fig.axes[0].images[0].get_array())
    assert image.shape[:2] == (2 * 8 + 2, 5 * 16 + 4 * 2)  # 2 scenes; labels | photo | 3 steps
    columns = [int(image[0, c * 18, 0]) for c in range(5)]
    assert columns == [10, 20, 100, 102, 104]  # first, middle and last step
    title = fig.texts[0].get_text()
    assert title.endswith("step 10 | step 30 | step 50")


def test_recipe_table_can_keep_some_rows():
    lines = lessons.recipe_table("synthetic", only=("Adam", "lr decay")).splitlines()
    assert len(lines) == 3 and lines[1].split()[0] == "Adam" and lines[2].split()[0] == "lr"


def test_recipe_tables():
    coco = lessons.recipe_table("coco_stuff")
    assert "182 + 1 + 1 = 184" in coco and "resize_and_crop, load 286, crop 256" in coco
    city = lessons.recipe_table("cityscapes")
    assert "0.0001 / 0.0004" in city and "50 epochs, 32" in city and "more (6)" in city
