"""The options of issue 18: CLADE, noise inputs, the anti-aliased patch discriminator, OASIS's objective."""
from __future__ import annotations

import dataclasses

import pytest
import torch

import posgen_lib as pg
from posgen_lib.models.discriminator import Blur, MultiscaleDiscriminator, SegmentationDiscriminator
from posgen_lib.models.spade import CLADE, SPADE
from posgen_lib.train.objectives import build_objective, objective_name
from posgen_lib.train.oasis import FAKE, balancing_weights, class_targets, labelmix_mask


def tiny(**model):
    cfg = pg.preset("tiny")
    cfg.model = dataclasses.replace(cfg.model, **model)
    return cfg.validate()


def semantics(cfg, batch=2):
    h, w = cfg.model.image_size
    label = torch.randint(0, 4, (batch, h, w)) * 7  # a few Cityscapes ids: 0, 7, 14, 21
    return pg.data.to_semantics(label, label, "cityscapes")


def test_clade_is_a_per_class_lookup_of_scale_and_bias():
    norm = CLADE(norm_nc=5, label_nc=4, norm="instance")
    torch.nn.init.normal_(norm.mlp_gamma.weight)
    torch.nn.init.normal_(norm.mlp_beta.weight)
    x, label = torch.randn(1, 5, 6, 6), torch.randint(0, 4, (1, 6, 6))
    onehot = torch.nn.functional.one_hot(label, 4).permute(0, 3, 1, 2).float()
    out = norm(x, onehot)
    gamma = norm.mlp_gamma.weight[:, :, 0, 0].T[label[0]] + norm.mlp_gamma.bias  # (6, 6, 5): row of its class
    beta = norm.mlp_beta.weight[:, :, 0, 0].T[label[0]] + norm.mlp_beta.bias
    expected = norm.param_free_norm(x) * (1 + gamma.permute(2, 0, 1)) + beta.permute(2, 0, 1)
    assert torch.allclose(out, expected, atol=1e-5)


def test_clade_costs_a_fraction_of_spade_and_the_model_default_and_full_presets_keep_spade():
    model = pg.preset("synthetic").model  # the course preset chose CLADE (docs/training.md)
    spade, clade = (pg.PosGenGenerator(dataclasses.replace(model, modulation="spade")),
                    pg.PosGenGenerator(dataclasses.replace(model, modulation="clade")))
    assert model.modulation == "clade" and model.spade_baseline().modulation == "spade"
    assert pg.config.ModelConfig().modulation == "spade"
    assert all(pg.preset(name).model.modulation == "spade" for name in ("cityscapes", "coco_stuff", "camvid"))
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(clade) < 0.6 * count(spade)
    assert isinstance(spade.up_3.norm_0, SPADE) and isinstance(clade.up_3.norm_0, CLADE)
    with pytest.raises(ValueError, match="modulation"):
        tiny(modulation="batch")


def test_noise_inputs_are_deterministic_per_seed_and_fresh_while_training():
    cfg = tiny(noise=True)
    G = pg.PosGenGenerator(cfg.model)
    for strength in G.noise_strength:
        torch.nn.init.constant_(strength, 0.5)
    sem = semantics(cfg)
    G.eval()
    with torch.no_grad():
        a, b, c = G(sem), G(sem, noise_seed=0), G(sem, noise_seed=1)
        assert torch.equal(a, b) and not torch.allclose(a, c)
        big = pg.render(G, sem, scale=2, noise_seed=1)
        assert torch.allclose(pg.render(G, sem, scale=1, noise_seed=1), c, atol=1e-6)
        x0, y0 = torch.linspace(-1, 1, 128)[64].item(), torch.linspace(-1, 1, 64)[32].item()
        window = pg.render(G, sem, size=(32, 64), window=(x0, y0, 1, 1), noise_seed=1)
        assert torch.allclose(window, big[:, :, -32:, -64:], atol=1e-5)  # the same sample in every window
    G.train()
    assert not torch.equal(G(sem), G(sem))  # a new sample every training step
    assert len(G.noise_strength) == 7 and all(s.shape[1] == blk.conv_1.out_channels
                                              for s, blk in zip(G.noise_strength, G.blocks()))


def test_one_noise_seed_per_image_renders_each_image_as_if_alone():
    cfg = tiny(noise=True)
    G = pg.PosGenGenerator(cfg.model).eval()
    for strength in G.noise_strength:
        torch.nn.init.constant_(strength, 0.5)
    sem = semantics(cfg, batch=1).repeat(2, 1, 1, 1)  # one scene twice
    with torch.no_grad():
        both = G(sem, noise_seed=[4, 9])
        close = lambda a, b: torch.allclose(a, b, atol=1e-5)  # noqa: E731  (batched arithmetic, same values)
        assert close(both[:1], G(sem[:1], noise_seed=4)) and close(both[1:], G(sem[:1], noise_seed=9))
        assert not torch.allclose(both[0], both[1])  # the same scene, two samples: no map shared by the set
        assert torch.equal(G(sem, noise_seed=torch.tensor([4, 4])), G(sem, noise_seed=4))
        assert close(pg.render(G, sem, scale=2, noise_seed=[4, 9])[1:], pg.render(G, sem[:1], scale=2, noise_seed=9))
    with pytest.raises(ValueError, match="one seed per image"):
        G(sem, noise_seed=[1, 2, 3])


def test_noise_starts_silent_and_builds_nothing_where_there_is_no_trunk():
    cfg = tiny(noise=True)
    G, plain = pg.PosGenGenerator(cfg.model).eval(), tiny()
    torch.manual_seed(0)
    reference = pg.PosGenGenerator(plain.model).eval()
    G.load_state_dict({**reference.state_dict(), **{k: v for k, v in G.state_dict().items() if "noise" in k}})
    sem = semantics(cfg)
    with torch.no_grad():
        assert torch.equal(G(sem, noise_seed=3), reference(sem))
    # the pixelwise generator has no trunk: a preset's trunk options (noise, modulation) leave it as it is
    torch.manual_seed(0)
    trunkless = pg.models.registry.build_generator(tiny(generator="pixelwise", noise=True, modulation="clade").model)
    torch.manual_seed(0)
    plain_pixelwise = pg.models.registry.build_generator(tiny(generator="pixelwise").model)
    assert trunkless.state_dict().keys() == plain_pixelwise.state_dict().keys()
    assert all(torch.equal(v, plain_pixelwise.state_dict()[k]) for k, v in trunkless.state_dict().items())


def test_noise_can_start_audible():
    G = pg.PosGenGenerator(tiny(noise=True, noise_init=0.1).model)
    assert all(torch.equal(s, torch.full_like(s, 0.1)) for s in G.noise_strength)  # not touched by the init
    with pytest.raises(ValueError, match="needs noise=True"):
        tiny(noise_init=0.1)
    with pytest.raises(ValueError, match=">= 0"):
        tiny(noise=True, noise_init=-1.0)


def test_blur_is_a_normalised_low_pass_and_damps_a_checkerboard():
    blur = Blur(2)
    flat = torch.ones(1, 2, 8, 8)
    assert torch.allclose(blur(flat), flat)
    checker = (torch.arange(8)[:, None] + torch.arange(8)[None, :]) % 2 * 2.0 - 1
    assert blur(checker.expand(1, 2, 8, 8))[..., 2:-2, 2:-2].abs().max() < 1e-6


def test_the_blurred_discriminator_keeps_its_parameters_and_shapes():
    cfg = tiny()
    sharp, blurred = MultiscaleDiscriminator(cfg.model), MultiscaleDiscriminator(tiny(d_blur=True).model)
    assert [p.shape for p in sharp.parameters()] == [p.shape for p in blurred.parameters()]
    x = torch.randn(2, cfg.model.semantic_nc + 3, 32, 64)
    assert [[o.shape for o in scale] for scale in sharp(x)] == [[o.shape for o in scale] for scale in blurred(x)]


def test_the_segmentation_discriminator_labels_every_pixel():
    cfg = pg.preset("camvid").model
    D = SegmentationDiscriminator(cfg, classes=12)
    assert D(torch.randn(2, 3, 90, 120)).shape == (2, 13, 90, 120)


def test_balancing_weights_make_every_present_class_count_the_same():
    targets = torch.tensor([[[1, 1, 1], [1, 1, 2]]])  # class 1: 5 pixels, class 2: 1
    weights = balancing_weights(targets, classes=3)
    assert torch.allclose(weights[targets == 1].sum(), weights[targets == 2].sum())
    assert torch.isclose(weights.sum(), torch.tensor(6.0))  # the mean weight is 1


def test_labelmix_gives_each_class_wholly_to_one_photo():
    targets = torch.randint(1, 5, (3, 16, 16))
    mask = labelmix_mask(targets, torch.Generator().manual_seed(0))[:, 0]
    for b in range(3):
        for cls in targets[b].unique():
            assert mask[b][targets[b] == cls].unique().numel() == 1


def test_the_oasis_objective_trains_the_generator_kinds_of_spades_objective(tmp_path):
    cfg = tiny()
    cfg.train.objective = "oasis"
    assert objective_name(cfg) == "oasis" and isinstance(build_objective(cfg).discriminator(),
                                                         SegmentationDiscriminator)
    cfg.model.generator = "anyres"
    with pytest.raises(ValueError, match="replaces the gan objective"):
        objective_name(cfg)
    cfg = tiny()
    cfg.train.objective, cfg.train.steps = "oasis", 2
    result = pg.train.train(cfg, tmp_path / "run", progress=False)
    assert {"G_GAN", "D_real", "D_fake", "D_labelmix"} <= set(result.log[-1])
    sem = semantics(cfg)
    objective, D = build_objective(cfg), build_objective(cfg).discriminator()
    targets = class_targets(sem, objective.classes)
    assert targets.min() >= 1 and FAKE == 0
    losses = objective.discriminator_losses(D, sem, torch.zeros(2, 3, 32, 64), torch.zeros(2, 3, 32, 64))
    assert losses["D_labelmix"] < 1e-6  # identical photos: the mix's logits are the mix of the logits


def test_train_flags_set_the_options():
    from posgen_lib.cli import parse
    from posgen_lib.cli.train import config_from_args

    args = parse(["train", "--preset", "tiny", "--out", "x", "--norm", "clade", "--noise", "on", "--d-blur", "on",
                  "--objective", "oasis", "--labelmix", "5"])
    cfg = config_from_args(args)
    assert (cfg.model.modulation, cfg.model.noise, cfg.model.d_blur) == ("clade", True, True)
    assert (cfg.train.objective, cfg.train.lambda_labelmix) == ("oasis", 5)
