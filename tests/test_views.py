"""Pure view functions (zoom windows, label editing, cached renders) and the widgets over them."""
from __future__ import annotations

import dataclasses
import io

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from PIL import Image

import posgen_lib as pg
from posgen_lib.course import views
from posgen_lib.data.synthetic import CAR, ROAD, SIDEWALK, TERRAIN
from posgen_lib.rendering import render
from posgen_lib.viz.figures import row_figure
from posgen_lib.viz.images import to_uint8


@pytest.fixture(scope="module")
def G():
    torch.manual_seed(0)
    return pg.PosGenGenerator(pg.preset("tiny").model).eval()


@pytest.fixture(scope="module")
def scene():
    return pg.data.SyntheticStreets(size=(32, 64), length=1, seed=0)[0]


def decode(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


# --- pure functions ----------------------------------------------------------

def test_edit_labels_repaints_one_class_inside_the_box_only():
    label = torch.full((4, 6), SIDEWALK)
    label[2:, :] = ROAD
    box = (-1.0, -1.0, 0.0, 1.0)  # the left half of the pixel centres (x <= 0)
    out = views.edit_labels(label, box, "road", "terrain")
    expected = label.clone()
    expected[2:, :3] = TERRAIN
    assert torch.equal(out, expected)
    assert torch.equal(label[2:], torch.full((2, 6), ROAD))  # the input is not modified
    painted = views.edit_labels(label, (-1, -1, 1, 1), None, CAR)  # ids work too; None = any class
    assert torch.equal(painted, torch.full((4, 6), CAR))


def test_edit_labels_names_unknown_classes():
    with pytest.raises(ValueError, match="unknown class 'lava'.*road"):
        views.edit_labels(torch.zeros(2, 2, dtype=torch.long), (-1, -1, 1, 1), None, "lava")


def test_edit_instances_gives_repainted_things_one_new_instance():
    before = torch.tensor([[ROAD, ROAD], [CAR, CAR]])
    after = torch.tensor([[CAR, ROAD], [ROAD, CAR]])
    instance = torch.tensor([[0, 0], [CAR * 1000 + 1, CAR * 1000 + 1]])
    out = views.edit_instances(instance, before, after)
    assert out.tolist() == [[CAR * 1000 + 999, 0], [0, CAR * 1000 + 1]]


@pytest.mark.parametrize("centre, zoom, expected", [
    ((0.0, 0.0), 1, (-1.0, -1.0, 1.0, 1.0)),
    ((0.5, -0.25), 4, (0.25, -0.5, 0.75, 0.0)),
    ((1.0, -1.0), 2, (0.0, -1.0, 1.0, 0.0)),  # pushed back inside the image
])
def test_zoom_window(centre, zoom, expected):
    assert views.zoom_window(*centre, zoom) == pytest.approx(expected)


def test_label_window_is_nearest_sampling_in_the_align_corners_frame():
    label = torch.arange(12).view(3, 4)
    assert torch.equal(views.label_window(label), label)  # the full window at 1x is the identity
    doubled = views.label_window(label, size=(5, 7))
    assert doubled[0, 0] == 0 and doubled[-1, -1] == 11 and doubled[2, 3] == label[1, 1:3].max()
    right_column = views.label_window(label, (1.0, -1.0, 1.0, 1.0), size=(3, 1))
    assert right_column.flatten().tolist() == [3, 7, 11]


def test_scale_cache_renders_once_per_scale(G, scene):
    cache = views.ScaleCache(G, views.semantics(G, scene), maxsize=2)
    a = cache(1.5)
    assert a.shape == (48, 96, 3) and a.dtype == np.uint8
    assert cache(1.5) is a and cache.info().hits == 1
    cache(2), cache(3)  # evicts 1.5
    assert cache(1.5) is not a and cache.info().misses == 4


def test_static_figures(G, scene):
    figures = [views.resolution_figure(G, scene, scales=(0.5, 2)),
               views.zoom_figure(G, scene, zooms=(1, 4), size=(16, 32)),
               views.edit_figure(G, scene, (-1, 0, 1, 1), "road", "terrain")]
    assert all(isinstance(f, Figure) for f in figures)
    assert [len(f.axes) for f in figures] == [4, 4, 4]
    assert [ax.get_title() for ax in figures[0].axes] == ["0.5x: 16x32 px", "2x: 64x128 px",
                                                          "detail: 4x8 px", "detail: 16x32 px"]


def test_row_figure_accepts_labels_tensors_and_arrays(scene):
    fig = row_figure({"labels": scene["label"], "photo": scene["image"],
                            "batch": scene["image"][None], "array": np.zeros((4, 8, 3), np.uint8)})
    assert [ax.get_title() for ax in fig.axes] == ["labels", "photo", "batch", "array"]
    assert np.array_equal(fig.axes[0].images[0].get_array(), pg.data.colorize(scene["label"]))
    assert np.array_equal(fig.axes[2].images[0].get_array(), to_uint8(scene["image"]))


def test_figures_display_as_png_in_ipython(monkeypatch):
    from IPython.core.formatters import DisplayFormatter

    shell = type("Shell", (), {"display_formatter": DisplayFormatter()})()
    monkeypatch.setattr("IPython.get_ipython", lambda: shell)
    assert pg.course.display.register_notebook_display()
    data, _ = shell.display_formatter.format(Figure(figsize=(1, 1)))
    assert data["image/png"][:8] == b"\x89PNG\r\n\x1a\n"


def test_library_source_is_shown_as_compact_markdown():
    from IPython.core.formatters import DisplayFormatter

    from posgen_lib.eval.metrics import boundary_band

    shown_source = pg.course.source(boundary_band, lines=(1, 2))
    data, _ = DisplayFormatter().format(shown_source)
    assert set(data) == {"text/plain", "text/markdown"}  # no HTML or LaTeX copies
    markdown = data["text/markdown"]
    assert markdown.startswith("`posgen_lib/eval/metrics.py`\n```python\ndef boundary_band(")
    assert markdown.endswith("```") and markdown.count("\n") == 4  # path, fence, 2 lines, fence
    assert "eval/metrics.py, 2 lines" in data["text/plain"]


# --- widgets, driven by setting .value ------------------------------------------

widgets = pytest.importorskip("posgen_lib.course.widgets", reason="needs ipywidgets (the notebooks extra)")


def shown(image: np.ndarray, width: int = widgets.DISPLAY_WIDTH) -> np.ndarray:
    """What a widget shows of ``image``: nearest-neighbour resampled to its display size."""
    return decode(widgets.png_bytes(image, width))


def test_pictures_are_shown_at_a_fixed_size_with_their_pixels_visible():
    coarse = np.zeros((4, 8, 3), np.uint8)
    coarse[:, 4:] = 255
    big = shown(coarse)
    assert big.shape == (256, 512, 3)  # the aspect ratio is kept
    assert big[:, :255].max() == 0 and big[:, 257:].min() == 255  # nearest neighbour: no smoothing at the edge


def test_resolution_slider_renders_the_chosen_scale(G, scene):
    viewer = widgets.resolution_slider(G, scene, scales=(0.5, 1, 3.3))
    assert viewer.slider.continuous_update is False
    start = to_uint8(render(G, views.semantics(G, scene), scale=1)[0])
    assert np.array_equal(decode(viewer.image.value), shown(start))  # starts at 1x
    viewer.slider.value = 3.3
    expected = to_uint8(render(G, views.semantics(G, scene), scale=3.3)[0])
    assert np.array_equal(decode(viewer.image.value), shown(expected))
    assert (viewer.image.layout.width, viewer.image.layout.height) == ("512px", f"{round(512 * 106 / 211)}px")
    assert "106 x 211 pixels" in viewer.info.value
    viewer.slider.value = 1
    viewer.slider.value = 3.3
    assert viewer.cache.info().hits == 2 and viewer.cache.info().misses == 2


def test_zoom_explorer_renders_the_window_beside_its_labels(G, scene):
    viewer = widgets.zoom_explorer(G, scene, size=(24, 48))
    viewer.zoom.value, viewer.cx.value, viewer.cy.value = 4, 0.5, 0.5
    window = views.zoom_window(0.5, 0.5, 4)
    labels, image = decode(viewer.labels.value), decode(viewer.image.value)
    assert labels.shape == image.shape == (180, 360, 3)
    render_ = views.render_rgb(G, views.semantics(G, scene), size=(24, 48), window=window)
    assert np.array_equal(image, shown(render_, 360))
    assert np.array_equal(labels, shown(pg.data.colorize(views.label_window(scene["label"], window, (24, 48))), 360))
    assert "3.0 output pixels per label pixel" in viewer.info.value  # 47 / (63 / 4)


def test_label_editor_repaints_and_rerenders(G, scene):
    editor = widgets.label_editor(G, scene, scale=1)
    road = int((scene["label"] == ROAD).sum())
    assert editor.from_class.value == "road" and editor.to_class.value == "terrain"
    assert f"{road} label pixels repainted" in editor.info.value
    assert (editor.edited["label"] == ROAD).sum() == 0
    editor.from_class.value, editor.to_class.value = None, "car"
    editor.x.value, editor.y.value = (-0.2, 0.2), (0.5, 1.0)
    box = views.box_mask((32, 64), editor.box)
    assert bool((editor.edited["label"][box] == CAR).all())
    assert bool((editor.edited["instance"][box] == CAR * 1000 + 999).all())
    expected = views.render_rgb(G, views.semantics(G, editor.edited), scale=1)
    assert np.array_equal(decode(editor.image.value), shown(expected, 360))
    assert decode(editor.labels.value).shape == (180, 360, 3)  # the 2:1 label map is not squared
    assert editor.x.layout.width == "380px"  # room for the "-1.00 - 1.00" readout



def test_resolution_slider_toggles_models_and_gives_anyres_the_labels_at_each_scale(G):
    torch.manual_seed(0)
    A = pg.build_generator(pg.preset("tiny").model.with_generator("anyres")).eval()
    dataset = pg.data.SyntheticStreets(size=(32, 64), length=2, split="test")
    scene = dataset[1]
    viewer = widgets.resolution_slider({"PosGen": G, "AnyRes": A}, scene, scales=(1, 2),
                                       labels_at=views.labels_at(A, dataset, 1))
    viewer.slider.value = 2
    first = viewer.image.value
    viewer.model.value = "AnyRes"
    hr = pg.data.to_semantics(dataset.render(1, size=(64, 128))["label"], dataset.render(1, size=(64, 128))["instance"])
    expected = to_uint8(render(A, views.semantics(A, scene), size=(64, 128), labels=hr)[0])
    assert viewer.image.value != first and np.array_equal(decode(viewer.image.value), shown(expected))


def test_figure_png_is_compact_and_keeps_every_pixel():
    import io

    import numpy as np
    from matplotlib.figure import Figure
    from PIL import Image

    from posgen_lib.viz.figures import compact_png, figure_png

    fig = Figure(figsize=(3, 2))
    fig.subplots().imshow(np.random.default_rng(0).random((32, 48, 3)))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    plain = buffer.getvalue()
    compact = figure_png(fig, 80)
    assert Image.open(io.BytesIO(compact)).mode == "RGB" and len(compact) < len(plain)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(compact))),
                          np.asarray(Image.open(io.BytesIO(plain)).convert("RGB")))
    see_through = io.BytesIO()
    Image.new("RGBA", (4, 4), (0, 0, 0, 0)).save(see_through, format="png")
    assert Image.open(io.BytesIO(compact_png(see_through.getvalue()))).mode == "RGBA"  # alpha kept when used


def test_resolution_slider_has_a_texture_knob_for_a_textured_model(G):
    torch.manual_seed(0)
    cfg = dataclasses.replace(pg.preset("tiny").model.with_generator("anyres"), anyres_texture_hidden=8)
    A = pg.build_generator(cfg).eval()
    with torch.no_grad():  # a texture branch that is not zero (its output layer starts at zero)
        for name, p in A.named_parameters():
            if name.startswith("texture."):
                p.add_(0.5 * torch.randn_like(p))
    dataset = pg.data.SyntheticStreets(size=(32, 64), length=2, split="test")
    scene = dataset[1]
    viewer = widgets.resolution_slider({"PosGen": G, "AnyRes": A}, scene, scales=(1, 2),
                                       labels_at=views.labels_at(A, dataset, 1))
    assert viewer.texture.disabled  # PosGen has no texture branch
    viewer.model.value, viewer.slider.value = "AnyRes", 2
    hr = views.labels_at(A, dataset, 1)(2)
    for t in (0.0, 1.0):
        viewer.texture.value = t
        expected = to_uint8(render(A, views.semantics(A, scene), size=(64, 128), labels=hr, texture=t)[0])
        assert np.array_equal(decode(viewer.image.value), shown(expected)), t
    assert not viewer.texture.disabled and "texture amplitude 1" in viewer.info.value
    viewer.texture.value = 0.0
    assert not np.array_equal(decode(viewer.image.value), shown(expected))  # the knob changes the picture
