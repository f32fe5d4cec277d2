"""The registry of training objectives (posgen_lib/train/objectives.py): every generator kind names its
objective, the trainer runs whatever the registry names, and a new objective takes one entry."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import posgen_lib as pg
from posgen_lib.config import GENERATORS
from posgen_lib.data.patches import ScaledPatches
from posgen_lib.models.discriminator import MultiscaleDiscriminator
from posgen_lib.models.interface import PixelQuery
from posgen_lib.train import objectives
from posgen_lib.train.anyres import AnyResObjective, ImageAndPixels
from posgen_lib.train.loop import Trainer, train
from posgen_lib.train.objective import GANObjective, Objective


def tiny(kind: str, steps: int = 2) -> pg.Config:
    cfg = pg.preset("tiny")
    cfg.model.generator = kind
    cfg.train.steps, cfg.train.sample_every, cfg.train.ckpt_every = steps, 1000, 1000
    return cfg


def test_every_generator_kind_names_a_registered_objective():
    assert set(objectives.KIND_OBJECTIVES) == set(GENERATORS)
    for kind in GENERATORS:
        cls = objectives.objective_class(tiny(kind))
        assert objectives.OBJECTIVES[cls.name] is cls
    assert objectives.objective_class(tiny("anyres")) is AnyResObjective
    assert objectives.objective_class(tiny("spade")) is GANObjective


def test_the_trainer_takes_data_discriminator_and_start_from_the_objective(tmp_path):
    trainer = Trainer(tiny("anyres"), tmp_path, progress=False)
    assert isinstance(trainer.objective, AnyResObjective) and isinstance(trainer.dataset, ScaledPatches)
    assert isinstance(trainer.objective.generator_step(trainer.G), ImageAndPixels)
    trainer = Trainer(tiny("pixelwise"), tmp_path / "p", progress=False)
    assert isinstance(trainer.D, MultiscaleDiscriminator) and trainer.objective.generator_step(trainer.G) is trainer.G


def test_the_any_resolution_step_is_the_generator_interface():
    """One trunk pass decoded at the labels' grid is G(sem); at a query it is G.decode(G.features(sem), query)."""
    torch.manual_seed(0)
    G = pg.build_generator(tiny("anyres").model).eval()
    label = torch.randint(0, 35, (2, 32, 64))
    sem = pg.data.to_semantics(label, torch.zeros_like(label), "synthetic")
    coords = pg.coordinate_grid((8, 8), (-0.5, -0.5, 0.0, 0.0))
    query = PixelQuery(coords, (0.25, 0.25), None, F.interpolate(sem, size=(8, 8), mode="nearest"))
    with torch.no_grad():
        image, (pixels,) = ImageAndPixels(G)(sem, None, [query])
        assert torch.equal(image, G(sem))
        assert torch.equal(pixels, G.decode(G.features(sem), query))


def test_a_recipe_leaves_out_the_fields_only_other_objectives_read():
    gan, anyres = objectives.recipe(tiny("posgen")), objectives.recipe(tiny("anyres"))
    assert "anyres_init" not in gan["train"] and "lambda_rec" not in gan["train"] and "patch_ndf" not in gan["model"]
    assert {"anyres_init", "lambda_rec", "lambda_feat"} <= set(anyres["train"]) and "patch_ndf" in anyres["model"]
    assert "num_workers" not in gan["data"] and "amp" not in anyres["train"]  # runtime fields: how, not what
    assert "anyres_texture" not in anyres["model"]  # the render's default amplitude, chosen after training
    other_default = tiny("anyres")
    other_default.model.anyres_texture = 0.0
    assert objectives.model_diff(tiny("anyres"), other_default) == []  # so a trained run takes any default
    assert objectives.kinds_reading("train.anyres_init") == ["anyres"]
    assert objectives.kinds_reading("train.lambda_feat") == []  # SPADE's fields: no objective owns them


class L1Only(Objective):
    """A minimal objective: L1 to the photo, a discriminator that never trains."""

    name = "l1_only"
    fields = ("train.lambda_l1",)

    def discriminator(self):
        return MultiscaleDiscriminator(self.cfg.model)

    def generator_losses(self, G, D, sem, real, E=None, extra=None):
        fake = G(sem)
        return {"G_l1": F.l1_loss(fake, real)}, fake

    def discriminator_losses(self, D, sem, real, fakes, extra=None):
        return {}


class NeedsLabels(L1Only):
    name = "needs_labels"
    requires = ("reads_labels",)


def test_a_new_objective_takes_one_registry_entry(tmp_path, monkeypatch):
    monkeypatch.setitem(objectives.OBJECTIVES, L1Only.name, L1Only)
    monkeypatch.setitem(objectives.KIND_OBJECTIVES, "pixelwise", L1Only.name)
    result = train(tiny("pixelwise"), tmp_path, progress=False)
    assert set(result.log[-1]) >= {"G_l1"} and "G_GAN" not in result.log[-1]
    assert "lambda_l1" in objectives.recipe(tiny("pixelwise"))["train"]
    assert "lambda_l1" not in objectives.recipe(tiny("posgen"))["train"]  # read only by another objective now
    monkeypatch.setitem(objectives.OBJECTIVES, NeedsLabels.name, NeedsLabels)
    monkeypatch.setitem(objectives.KIND_OBJECTIVES, "pixelwise", NeedsLabels.name)
    with pytest.raises(ValueError, match="needs a generator with reads_labels"):
        objectives.build_objective(tiny("pixelwise"))
