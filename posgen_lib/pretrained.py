"""Shipped models and ``load_or_train``.

``pg.pretrained("synthetic")`` returns the small PosGen that ships inside the
package (``posgen_lib/assets/posgen_synthetic.pt``, float16 weights);
``"synthetic_pixelwise"`` and ``"synthetic_pixelwise_nocontext"`` are the fully
pixel-wise generators of notebook 08. All are trained by the project's own
command (``make pretrained``, :mod:`posgen_lib.shipped`); their model cards
(command, seed, steps, metrics) are in ``docs/model_card_synthetic.md`` and
inside the files (``pg.pretrained(name, with_card=True)``).

``pg.load_or_train(cfg, folder)`` is the notebooks' "load the checkpoint if
present, else train with the budget" (the UvA DL course pattern).
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

from .checkpoint import CheckpointError, load_generator
from .config import Config, config_diff

PRETRAINED = {"synthetic": "posgen_synthetic.pt",  # PosGen
              "synthetic_pixelwise": "pixelwise_synthetic.pt",  # notebook 08
              "synthetic_pixelwise_nocontext": "pixelwise_nocontext_synthetic.pt"}


def asset_path(name: str) -> Path:
    """Where the shipped model ``name`` lives inside the package (whether or not it exists)."""
    if name not in PRETRAINED:
        raise ValueError(f"no pretrained model {name!r}: available: {', '.join(PRETRAINED)}")
    return Path(str(resources.files("posgen_lib") / "assets" / PRETRAINED[name]))


def pretrained_path(name: str) -> Path:
    path = asset_path(name)
    if not path.is_file():
        raise FileNotFoundError(f"the pretrained {name!r} model is missing from the package ({path}); "
                                "reinstall posgen-lib or run `make pretrained`")
    return path


def pretrained(name: str = "synthetic", device="cpu", with_card: bool = False):
    """The shipped generator (eval mode); ``with_card=True`` returns (G, cfg, card)."""
    G, cfg, card = load_generator(pretrained_path(name), device)
    return (G, cfg, card) if with_card else G


def load_any(spec: str | Path, device="cpu"):
    """(G, cfg, card) from ``pretrained:NAME``, a model file or a training checkpoint."""
    text = str(spec)
    if text.startswith("pretrained:"):
        return pretrained(text.split(":", 1)[1], device, with_card=True)
    return load_generator(spec, device)


def load_or_train(cfg: Config, folder: str | Path, device=None, progress: bool = True):
    """``folder/model.pt`` if it exists (and matches ``cfg.model``), else train into ``folder``.

    Returns the generator in eval mode. The step budget is ``cfg.train.steps``
    (notebooks set it with :func:`posgen_lib.config.budget`).
    """
    model_file = Path(folder) / "model.pt"
    if model_file.is_file():
        G, saved, _ = load_generator(model_file, device or "cpu")
        diff = config_diff(saved, cfg, ("model",))
        if diff:
            raise CheckpointError(f"{model_file} was trained with another model config ({'; '.join(diff)}); "
                                  "delete it or use another folder")
        return G
    from .train import train

    return train(cfg, folder, resume=True, device=device, progress=progress).generator
