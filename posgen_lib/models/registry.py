"""Building, saving and loading generators by kind, and the models shipped with the package.

``build_generator(cfg)`` builds the generator that ``cfg.generator`` names
(:data:`GENERATOR_CLASSES`). A saved generator (``model.pt``, written by
:func:`posgen_lib.checkpoint.save_model`) or a training checkpoint carries its
config, and so its kind; :func:`load_generator` rebuilds it from that alone.
Files written before the kind moved into the model config (it was
``train.generator``) load too (:meth:`posgen_lib.config.Config.from_dict`).

``pg.pretrained("synthetic")`` returns the small PosGen that ships inside the
package (``posgen_lib/assets/posgen_synthetic.pt``, float16 weights);
:data:`PRETRAINED` lists every shipped model. All are trained by the project's
own command (``posgen pretrained build``, :mod:`posgen_lib.eval.shipped`); their
model cards (command, seed, steps, metrics) are in ``docs/model_card_*.md``
and inside the files (``pg.pretrained(name, with_card=True)``).
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

from torch import nn

from ..checkpoint import FORMAT, MODEL_FORMAT, load_checkpoint, weights_mismatch
from ..config import Config, ModelConfig
from ..errors import CheckpointError
from .anyres import AnyResGenerator
from .generator import PosGenGenerator, SPADEGenerator
from .interface import Generator
from .pixelwise import PixelwiseGenerator

GENERATOR_CLASSES: dict[str, type[Generator]] = {
    cls.kind: cls for cls in (PosGenGenerator, SPADEGenerator, PixelwiseGenerator, AnyResGenerator)}

PRETRAINED = {"synthetic": "posgen_synthetic.pt",  # PosGen
              "synthetic_spade": "posgen_spade_synthetic.pt",  # PosGen with SPADE's trunk, notebook 02
              "synthetic_anyres": "anyres_synthetic.pt",  # any-resolution PosGen, notebook 06
              "synthetic_pixelwise": "pixelwise_synthetic.pt",  # notebook 08
              "synthetic_pixelwise_nocontext": "pixelwise_nocontext_synthetic.pt",
              "camvid": "posgen_camvid.pt",  # PosGen on real CamVid photos (non-commercial licence)
              "camvid_anyres": "anyres_camvid.pt"}  # any-resolution PosGen on CamVid


def build_generator(cfg: ModelConfig) -> Generator:
    """A freshly initialised generator of the kind ``cfg.generator`` names."""
    if cfg.generator not in GENERATOR_CLASSES:
        raise ValueError(f"unknown generator {cfg.generator!r} (model.generator): choose one of "
                         f"{', '.join(GENERATOR_CLASSES)}")
    return GENERATOR_CLASSES[cfg.generator](cfg)


def count_parameters(module: nn.Module) -> int:
    """Number of trainable values in ``module`` (nn.Parameters only, as SPADE counts)."""
    return sum(p.numel() for p in module.parameters())


def load_generator(path: str | Path, device="cpu") -> tuple[Generator, Config, dict]:
    """(generator in eval mode, Config, model card) from a model file or a training checkpoint.

    From a training checkpoint the EMA weights are used when present.
    """
    state = load_checkpoint(path, formats=(MODEL_FORMAT, FORMAT))
    try:
        cfg = Config.from_dict(state["config"], source=str(path)).validate()
        if "kind" in state:  # model files before the kind moved into the config
            cfg.model.generator = state["kind"]
        generator = build_generator(cfg.model)
        weights = state.get("ema") or state["generator"]
    except (KeyError, TypeError, ValueError) as err:
        raise CheckpointError(f"{path}: its config or contents are damaged ({err}); use another "
                              "checkpoint (training keeps the previous ones) or retrain") from None
    try:
        generator.load_state_dict(weights)
    except RuntimeError as err:
        raise CheckpointError(f"{path}: weights do not fit the model its config describes "
                              f"({weights_mismatch(err)})") from None
    return generator.to(device).eval(), cfg, state.get("card", {})


def asset_path(name: str) -> Path:
    """Where the shipped model ``name`` lives inside the package (whether or not it exists)."""
    if name not in PRETRAINED:
        raise ValueError(f"no pretrained model {name!r}: available: {', '.join(PRETRAINED)}")
    return Path(str(resources.files("posgen_lib") / "assets" / PRETRAINED[name]))


def pretrained_path(name: str) -> Path:
    path = asset_path(name)
    if not path.is_file():
        raise FileNotFoundError(f"the pretrained {name!r} model is missing from the package ({path}); "
                                "reinstall posgen-lib or run `posgen pretrained build`")
    return path


def pretrained(name: str = "synthetic", device="cpu", with_card: bool = False):
    """The shipped generator (eval mode); ``with_card=True`` returns (G, cfg, card)."""
    G, cfg, card = load_generator(pretrained_path(name), device)
    return (G, cfg, card) if with_card else G


def load_any(spec: str | Path, device="cpu") -> tuple[Generator, Config, dict]:
    """(G, cfg, card) from ``pretrained:NAME``, a model file or a training checkpoint."""
    text = str(spec)
    if text.startswith("pretrained:"):
        return pretrained(text.split(":", 1)[1], device, with_card=True)
    return load_generator(spec, device)
