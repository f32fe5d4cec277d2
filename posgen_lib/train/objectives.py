"""The registry of training objectives: which objective trains each generator kind.

This module is the one place that maps a generator kind (``ModelConfig.generator``)
to what training it means (docs/architecture.md, *Objectives*). The trainer,
the CLI and the experiment ask it, never the kind::

    objective = build_objective(cfg)       the run's objective (an Objective, posgen_lib.train.objective)
    recipe(cfg)                            the config fields that define what the run trains

An objective (:class:`~posgen_lib.train.objective.Objective`) names its losses
(generator and discriminator steps), its discriminator(s), its data wrapper, its
initialisation and the config fields only it reads. To add one:

1. write ``class MyObjective(Objective)`` in its own module of ``train/``, with a
   ``name``, its ``fields`` and ``requires``, and the methods it changes;
2. list it in :data:`OBJECTIVES`;
3. point a kind at it in :data:`KIND_OBJECTIVES`, or, for an objective chosen per
   run (a ``TrainConfig`` field), read that field in :func:`objective_name`.
"""
from __future__ import annotations

from ..config import GENERATORS, RUNTIME_FIELDS, Config, config_diff
from ..models.registry import GENERATOR_CLASSES
from .anyres import AnyResObjective
from .oasis import OASISObjective
from .objective import GANObjective, Objective

OBJECTIVES: dict[str, type[Objective]] = {cls.name: cls for cls in (GANObjective, AnyResObjective, OASISObjective)}
# Objectives a run may choose instead of its kind's own (train.objective), and the objective they replace.
REPLACEMENTS: dict[str, str] = {OASISObjective.name: GANObjective.name}

KIND_OBJECTIVES: dict[str, str] = {  # every generator kind (config.GENERATORS) names its objective
    "posgen": GANObjective.name,
    "spade": GANObjective.name,
    "pixelwise": GANObjective.name,
    "anyres": AnyResObjective.name,
}


def objective_name(cfg: Config) -> str:
    """The name of the objective that trains ``cfg``: ``train.objective`` when set, else its generator kind's."""
    kind = cfg.model.generator
    if kind not in KIND_OBJECTIVES:
        raise ValueError(f"unknown generator {kind!r} (model.generator): choose one of {', '.join(GENERATORS)}")
    chosen = cfg.train.objective
    if chosen is None or chosen == KIND_OBJECTIVES[kind]:
        return KIND_OBJECTIVES[kind]
    if chosen not in REPLACEMENTS:
        raise ValueError(f"train.objective={chosen!r}: choose one of {', '.join(REPLACEMENTS)} (or leave it unset "
                         "for the generator's own)")
    if REPLACEMENTS[chosen] != KIND_OBJECTIVES[kind]:
        raise ValueError(f"train.objective={chosen!r} replaces the {REPLACEMENTS[chosen]} objective, but the {kind} "
                         f"generator trains with the {KIND_OBJECTIVES[kind]} objective")
    return chosen


def objective_class(cfg: Config) -> type[Objective]:
    """The objective class that trains ``cfg``, checked against the generator it trains."""
    cls = OBJECTIVES[objective_name(cfg)]
    generator = GENERATOR_CLASSES[cfg.model.generator]
    lacking = [flag for flag in cls.requires if not getattr(generator, flag)]
    if lacking:
        raise ValueError(f"the {cls.name} objective needs a generator with {', '.join(lacking)}; "
                         f"model.generator={cfg.model.generator!r} has not")
    return cls


def build_objective(cfg: Config) -> Objective:
    """The objective of the run ``cfg`` (no data read, no model built yet)."""
    return objective_class(cfg)(cfg)


def kinds_reading(field: str) -> list[str]:
    """The generator kinds whose objective reads the config ``field`` ("train.anyres_init")."""
    return [kind for kind, name in KIND_OBJECTIVES.items() if OBJECTIVES[name].reads(field)]


def recipe(cfg: Config) -> dict:
    """The config fields that define what a run trains: :meth:`Config.to_dict` without the runtime fields
    (:data:`~posgen_lib.config.RUNTIME_FIELDS`) and without the fields that only other objectives read.
    Two runs with equal recipes train the same model (the experiment's cache is keyed by it)."""
    mine = objective_class(cfg)
    others = [cls for cls in OBJECTIVES.values() if cls is not mine]

    def belongs(field: str) -> bool:
        return mine.reads(field) or not any(cls.reads(field) for cls in others)

    d = cfg.to_dict()
    for section, names in RUNTIME_FIELDS.items():
        for name in names:
            d[section].pop(name, None)
    for section in ("model", "data", "train"):
        d[section] = {k: v for k, v in d[section].items() if belongs(f"{section}.{k}")}
    return d


def model_diff(saved: Config, current: Config) -> list[str]:
    """The model fields of the two configs' recipes that differ (``['model.ngf: 64 != 32']``): a field that only
    other generator kinds read (a detail head's width on a PosGen run) cannot make a checkpoint incompatible."""
    read = {f"model.{k}" for k in (*recipe(saved)["model"], *recipe(current)["model"])}
    return [d for d in config_diff(saved, current, ("model",)) if d.split(":")[0] in read]
