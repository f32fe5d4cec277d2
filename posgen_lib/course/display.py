"""Notebook display: figures draw themselves, and library source shows on the page.

* A bare ``matplotlib.figure.Figure`` (no pyplot) has no image representation
  of its own (pyplot's inline backend normally adds one). Importing
  :mod:`posgen_lib.course` registers a PNG formatter for it in the running
  IPython, so a figure returned as a cell's result, or passed to :func:`show`,
  is drawn. PNGs are written at :data:`NOTEBOOK_DPI`, which keeps the committed
  notebooks small; :func:`as_jpeg` shows a figure of photographs as JPEG,
  several times smaller again.
* :func:`source` shows the code of a library function or class, syntax
  highlighted, so a notebook can put the mechanism it teaches on the page and
  then run that very code.
"""
from __future__ import annotations

import inspect
import io
from dataclasses import dataclass

from matplotlib.figure import Figure
from PIL import Image

from ..viz.figures import figure_png

NOTEBOOK_DPI = 80


def register_notebook_display() -> bool:
    """Make IPython draw ``Figure`` results as PNG; False outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    shell.display_formatter.formatters["image/png"].for_type(Figure, lambda fig: figure_png(fig, NOTEBOOK_DPI))
    return True


def show(*figures: Figure) -> None:
    """Display figures in a notebook (or do nothing outside IPython)."""
    if register_notebook_display():
        from IPython.display import display

        display(*figures)


@dataclass(frozen=True)
class JpegFigure:
    """A figure of photographs as a cell output in JPEG (quality :data:`JPEG_QUALITY`): a street photo
    takes several times fewer bytes than as PNG, which keeps the committed notebooks within their budget."""

    data: bytes

    def _repr_jpeg_(self) -> bytes:
        return self.data

    def __repr__(self) -> str:
        return f"<JPEG figure, {len(self.data):,} bytes>"


JPEG_QUALITY = 85


def as_jpeg(fig: Figure, dpi: int = NOTEBOOK_DPI) -> JpegFigure:
    """``fig`` as a JPEG cell output (for photographs; label maps and line plots stay PNG)."""
    image = Image.open(io.BytesIO(figure_png(fig, dpi))).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="jpeg", quality=JPEG_QUALITY, optimize=True)
    return JpegFigure(buffer.getvalue())


@dataclass(frozen=True)
class SourceCode:
    """Library source as a cell output: a fenced Python block in Markdown, which
    JupyterLab and GitHub both highlight. Markdown (no inline HTML styles or
    LaTeX copies) keeps the committed notebooks small."""

    path: str  # relative to posgen_lib/
    text: str

    def _repr_markdown_(self) -> str:
        return f"`posgen_lib/{self.path}`\n```python\n{self.text.rstrip()}\n```"

    def __repr__(self) -> str:
        return f"<source from posgen_lib/{self.path}, {len(self.text.splitlines())} lines>"


def source(obj, lines: tuple[int, int] | None = None) -> SourceCode:
    """The source code of ``obj`` (a function, class or method of the library) as a
    highlighted cell output; ``lines=(first, last)`` shows only those lines
    (1-based, inclusive) of it."""
    text = inspect.getsource(inspect.unwrap(obj))
    if lines is not None:
        text = "".join(text.splitlines(keepends=True)[lines[0] - 1:lines[1]])
    path = inspect.getsourcefile(inspect.unwrap(obj))  # a decorated function's own file
    return SourceCode(path.split("posgen_lib", 1)[-1].lstrip("/"), text)
