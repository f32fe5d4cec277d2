"""What only the notebooks use: lessons (figures and small experiments per notebook), views and
widgets, the environment check, and grading (exercises, student copies, the notebook cleaner).

Nothing else in posgen_lib imports this package. Importing it makes returned
matplotlib figures draw themselves in IPython (:mod:`.display`)::

    import posgen_lib as pg
    from posgen_lib.course import views, widgets

Notebooks that train put their runs in ``pg.course.checkpoint_folder(name)``: a cache folder outside
the notebook's own folder (``POSGEN_CKPT_DIR``, :mod:`.cache`).
"""
from . import display, envcheck, lessons, views
from .cache import checkpoint_dir, checkpoint_folder
from .display import as_jpeg, register_notebook_display, show, source

register_notebook_display()

__all__ = ["as_jpeg", "checkpoint_dir", "checkpoint_folder", "display", "envcheck", "lessons", "views", "widgets",
           "register_notebook_display", "show", "source"]


def __getattr__(name: str):
    """``widgets`` loads on first use: it needs ipywidgets (the notebooks extra)."""
    if name == "widgets":
        from importlib import import_module

        return import_module(".widgets", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
