"""Notebook display: a returned ``matplotlib.figure.Figure`` draws itself as a PNG.

A bare ``Figure`` (no pyplot) has no image representation of its own (pyplot's
inline backend normally adds one). Importing :mod:`posgen_lib.course`
registers a PNG formatter for it in the running IPython, so a figure returned
as a cell's result, or passed to :func:`show`, is drawn.
"""
from __future__ import annotations

from matplotlib.figure import Figure

from ..viz.figures import figure_png


def register_notebook_display() -> bool:
    """Make IPython draw ``Figure`` results as PNG; False outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    shell.display_formatter.formatters["image/png"].for_type(Figure, figure_png)
    return True


def show(*figures: Figure) -> None:
    """Display figures in a notebook (or do nothing outside IPython)."""
    if register_notebook_display():
        from IPython.display import display

        display(*figures)
