"""ipywidgets views of PosGen: a resolution slider, a zoom window, a label editor.

Each builder returns a widget (display it as a cell's last expression) whose
controls are attributes, so code and tests can drive it by setting ``.value``::

    viewer = pg.widgets.resolution_slider(G, scene)   # viewer.slider, viewer.image, viewer.info
    viewer.slider.value = 3.3                          # re-renders, as dragging the slider would

All sliders use ``continuous_update=False``: a render runs when the slider is
released, not for every pixel it is dragged. Every picture is shown at a fixed
size on screen (:data:`DISPLAY_WIDTH` pixels wide, its own aspect ratio),
enlarged or reduced with nearest-neighbour resampling before it is sent, so a
1x render looks coarse (its pixels are visible) and a 4x render shows its
detail; the browser does not smooth or stretch it. The rendering is done by the
pure functions of :mod:`posgen_lib.course.views`, whose figures are the static
fallbacks:

======================  ==============================
widget                  static figure
======================  ==============================
:func:`resolution_slider`  :func:`~posgen_lib.course.views.resolution_figure`
:func:`zoom_explorer`      :func:`~posgen_lib.course.views.zoom_figure`
:func:`label_editor`       :func:`~posgen_lib.course.views.edit_figure`
======================  ==============================
"""
from __future__ import annotations

import io

import numpy as np
from PIL import Image

from . import views
from ..data.labels import colorize, get_label_set
from ..models.texture import TEXTURE_STEPS

try:
    import ipywidgets as W
except ImportError:  # pragma: no cover - depends on the installed extras
    raise ImportError("posgen_lib.course.widgets needs ipywidgets: pip install -e '.[notebooks]' "
                      "(or use the static figures in posgen_lib.course.views)") from None


DISPLAY_WIDTH = 512  # screen pixels of every picture; the height follows its aspect ratio


def display_size(image: np.ndarray, width: int = DISPLAY_WIDTH) -> tuple[int, int]:
    """(width, height) on screen of an (H, W, 3) picture shown ``width`` pixels wide."""
    return width, max(1, round(width * image.shape[0] / image.shape[1]))


def png_bytes(image: np.ndarray, width: int = DISPLAY_WIDTH) -> bytes:
    """(H, W, 3) uint8 -> PNG file contents, resampled (nearest neighbour) to its display size."""
    picture = Image.fromarray(image)
    size = display_size(image, width)
    if picture.size != size:
        picture = picture.resize(size, Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def _image(aspect: float = 0.5, width: int = DISPLAY_WIDTH) -> W.Image:
    """An image widget of a fixed on-screen size (``aspect`` = height / width)."""
    return W.Image(format="png", layout=W.Layout(width=f"{width}px", height=f"{round(width * aspect)}px",
                                                 max_width="none", object_fit="fill"))


def _set(widget: W.Image, image: np.ndarray, width: int = DISPLAY_WIDTH) -> None:
    """Show ``image`` in ``widget`` at its display size."""
    w, h = display_size(image, width)
    widget.layout.width, widget.layout.height = f"{w}px", f"{h}px"
    widget.value = png_bytes(image, width)


def _size_text(image: np.ndarray) -> str:
    return f"{image.shape[0]} x {image.shape[1]} pixels"


class ResolutionViewer(W.VBox):
    """A scale slider over cached renders of one scene by one or more generators (a toggle picks one);
    a texture slider (0: the faithful base, 1: full texture) when a generator has a texture branch."""

    def __init__(self, G, scene: dict, scales=views.SCALES, label_set="synthetic", labels_at=None):
        models = G if isinstance(G, dict) else {"PosGen": G}
        self.textured = {name: bool(m.textured) for name, m in models.items()}
        self.caches = {name: views.ScaleCache(m, views.semantics(m, scene, label_set),
                                              maxsize=len(scales) * (len(TEXTURE_STEPS) if self.textured[name] else 1),
                                              labels_at=labels_at) for name, m in models.items()}
        self.model = W.ToggleButtons(options=list(models), description="model",
                                     style={"button_width": "auto"})
        self.slider = W.SelectionSlider(options=[(f"{s:g}x", s) for s in scales],
                                        value=1 if 1 in scales else scales[0],
                                        description="scale", continuous_update=False)
        operating_point = max((m.cfg.anyres_texture for name, m in models.items() if self.textured[name]),
                              default=1.0)
        self.texture = W.SelectionSlider(options=[(f"{t:g}", t) for t in TEXTURE_STEPS],
                                         value=min(TEXTURE_STEPS, key=lambda t: abs(t - operating_point)),
                                         description="texture", continuous_update=False)
        self.info, self.image = W.Label(), _image()
        controls = [self.model] if len(models) > 1 else []
        knobs = [self.slider, self.texture] if any(self.textured.values()) else [self.slider]
        super().__init__(controls + [W.HBox(knobs + [self.info]), self.image])
        for control in (self.slider, self.model, self.texture):
            control.observe(lambda _: self.update(), names="value")
        self.update()

    @property
    def cache(self) -> views.ScaleCache:
        return self.caches[self.model.value]

    def update(self) -> None:
        textured = self.textured[self.model.value]
        self.texture.disabled = not textured
        image = self.cache(self.slider.value, self.texture.value if textured else None)
        _set(self.image, image)
        self.info.value = (f"{_size_text(image)}, shown {DISPLAY_WIDTH} pixels wide with nearest-neighbour "
                           "resampling: the trunk ran once on the 1x labels, the head once per output pixel"
                           + (f"; texture amplitude {self.texture.value:g} (0 = the faithful base)" if textured
                              else ""))


def resolution_slider(G, scene: dict, scales=views.SCALES, label_set="synthetic",
                      labels_at=None) -> ResolutionViewer:
    """Renders of ``scene`` at the chosen scale (static: :func:`views.resolution_figure`). ``G`` may be a
    dict ``{name: generator}`` (a toggle picks one); ``labels_at`` (:func:`views.labels_at`) gives the
    any-resolution PosGen the label map at each scale; a generator with a texture branch gets the texture
    knob (``viewer.texture``, as ``pg.render(..., texture=t)``)."""
    return ResolutionViewer(G, scene, scales, label_set, labels_at)


class ZoomViewer(W.VBox):
    """Centre and zoom sliders; the window's labels (nearest) next to PosGen's render of it."""

    def __init__(self, G, scene: dict, size=(128, 256), centre=(0.0, 0.0), zoom: float = 2,
                 label_set="synthetic"):
        self.G, self.scene, self.size, self.label_set = G, scene, tuple(size), label_set
        slider = dict(continuous_update=False, readout_format=".2f")
        self.cx = W.FloatSlider(value=centre[0], min=-1, max=1, step=0.01, description="centre x", **slider)
        self.cy = W.FloatSlider(value=centre[1], min=-1, max=1, step=0.01, description="centre y", **slider)
        self.zoom = W.FloatLogSlider(value=zoom, base=2, min=0, max=4, step=0.25, description="zoom",
                                     continuous_update=False)
        aspect = self.size[0] / self.size[1]
        self.info, self.labels, self.image = W.Label(), _image(aspect, 360), _image(aspect, 360)
        super().__init__([W.HBox([self.cx, self.cy, self.zoom]), self.info,
                          W.HBox([self.labels, self.image])])
        for control in (self.cx, self.cy, self.zoom):
            control.observe(lambda _: self.update(), names="value")
        self.update()

    def update(self) -> None:
        window = views.zoom_window(self.cx.value, self.cy.value, self.zoom.value)
        labels, image = views.zoom_pair(self.G, self.scene, window, self.size, self.label_set)
        _set(self.labels, labels, 360)
        _set(self.image, image, 360)
        h, w = self.scene["label"].shape[-2:]
        density = (self.size[1] - 1) / ((w - 1) * (window[2] - window[0]) / 2)  # ratio of pixel spacings
        self.info.value = (f"window x {window[0]:.2f}..{window[2]:.2f}, y {window[1]:.2f}..{window[3]:.2f}: "
                           f"{_size_text(image)}, {density:.1f} output pixels per label pixel")


def zoom_explorer(G, scene: dict, size=(128, 256), centre=(0.0, 0.0), zoom: float = 2,
                  label_set="synthetic") -> ZoomViewer:
    """Zoom into ``scene``: labels vs PosGen at ``size`` (static: :func:`views.zoom_figure`)."""
    return ZoomViewer(G, scene, size, centre, zoom, label_set)


class LabelEditor(W.VBox):
    """Repaint a box of the label map (all pixels, or one class) and re-render."""

    def __init__(self, G, scene: dict, scale: float = 2, label_set="synthetic"):
        self.G, self.scene, self.scale, self.label_set = G, scene, scale, label_set
        names = list(get_label_set(label_set).names)
        self.from_class = W.Dropdown(options=[("any class", None)] + [(n, n) for n in names],
                                     value="road", description="repaint")
        self.to_class = W.Dropdown(options=names, value="terrain", description="as")
        ranges = dict(min=-1, max=1, step=0.05, continuous_update=False, readout_format=".2f",
                      layout=W.Layout(width="380px"), style={"description_width": "50px"})
        self.x = W.FloatRangeSlider(value=(-1, 1), description="box x", **ranges)
        self.y = W.FloatRangeSlider(value=(-1, 1), description="box y", **ranges)
        h, w = scene["label"].shape[-2:]
        self.info, self.labels, self.image = W.Label(), _image(h / w, 360), _image(h / w, 360)
        super().__init__([W.HBox([self.from_class, self.to_class]), W.HBox([self.x, self.y]),
                          self.info, W.HBox([self.labels, self.image])])
        for control in (self.from_class, self.to_class, self.x, self.y):
            control.observe(lambda _: self.update(), names="value")
        self.update()

    @property
    def box(self) -> tuple[float, float, float, float]:
        return (self.x.value[0], self.y.value[0], self.x.value[1], self.y.value[1])

    def update(self) -> None:
        self.edited = views.edited_scene(self.scene, self.box, self.from_class.value,
                                         self.to_class.value, self.label_set)
        changed = int((self.edited["label"] != self.scene["label"]).sum())
        image = views.render_rgb(self.G, views.semantics(self.G, self.edited, self.label_set),
                                 scale=self.scale)
        _set(self.labels, colorize(self.edited["label"], self.label_set), 360)
        _set(self.image, image, 360)
        self.info.value = f"{changed} label pixels repainted; PosGen at {self.scale:g}x: {_size_text(image)}"


def label_editor(G, scene: dict, scale: float = 2, label_set="synthetic") -> LabelEditor:
    """Edit ``scene``'s labels and watch PosGen follow (static: :func:`views.edit_figure`)."""
    return LabelEditor(G, scene, scale, label_set)
