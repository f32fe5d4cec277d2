"""Model contract: parameter counts, state-dict layout, coordinates, pixel independence, presets."""
from __future__ import annotations

import dataclasses
import json

import pytest
import torch

import posgen_lib as pg
from posgen_lib.runtime import cpu_has_fast_bf16

GOLDEN_NAMES = {"cityscapes": "cityscapes", "coco_stuff": "coco"}


@pytest.fixture(scope="module", params=["cityscapes", "coco_stuff"])
def full(request):
    """The full-size SPADE generator, PosGen, D and E of a real-dataset preset, built on the meta device: the
    tests below read parameter counts and state-dict shapes, which need no memory and no initialisation."""
    cfg = pg.preset(request.param).model
    vae_cfg = dataclasses.replace(cfg, use_vae=True)
    with torch.device("meta"):
        return dict(name=request.param, cfg=cfg, G=pg.SPADEGenerator(cfg), P=pg.PosGenGenerator(cfg),
                    D=pg.MultiscaleDiscriminator(cfg), E=pg.ImageEncoder(cfg),
                    G_vae=pg.SPADEGenerator(vae_cfg))


def test_full_config_parameter_counts(full, golden_dir):
    official = json.loads((golden_dir / "full_configs.json").read_text())[GOLDEN_NAMES[full["name"]]]
    count = pg.count_parameters
    assert count(full["G"]) == official["G_params"]
    assert count(full["G_vae"]) == official["G_vae_params"]
    assert count(full["D"]) == official["D_params"]
    assert count(full["E"]) == official["E_params"]
    # PosGen = SPADE with conv_img (3 * ngf * 9 + 3) swapped for the small PixelHead.
    head = count(full["P"].pixel_head)
    conv_img = count(full["G"].conv_img)
    assert count(full["P"]) == official["G_params"] - conv_img + head
    assert head < 0.005 * official["G_params"]


def test_posgen_coco_is_about_97_5m():
    """The seed's "approximately 97.5M parameters": within 0.5%."""
    with torch.device("meta"):  # counting needs no memory
        posgen = pg.PosGenGenerator(pg.preset("coco_stuff").model)
    assert abs(pg.count_parameters(posgen) - 97.5e6) < 0.005 * 97.5e6


def test_full_config_state_dict_layout(full, golden_dir):
    """Every key and shape of the official full-size G, G(vae), D and E."""
    shapes = json.loads((golden_dir / f"shapes_{GOLDEN_NAMES[full['name']]}.json").read_text())
    for module, table in ((full["G"], "G_shapes"), (full["G_vae"], "G_vae_shapes"),
                          (full["D"], "D_shapes"), (full["E"], "E_shapes")):
        own = {k: list(v.shape) for k, v in module.state_dict().items()}
        assert own == shapes[table], table


def test_cityscapes_uses_one_more_upsampling_layer():
    city, coco = pg.preset("cityscapes").model, pg.preset("coco_stuff").model
    assert (city.num_up, coco.num_up) == (6, 5)
    assert city.latent_size == (4, 8) and coco.latent_size == (8, 8)


def test_coordinate_convention():
    grid = pg.coordinate_grid((3, 5))
    assert grid.shape == (2, 3, 5)
    assert grid[0, 0].tolist() == [-1.0, -0.5, 0.0, 0.5, 1.0]  # x in channel 0, along W
    assert grid[1, :, 0].tolist() == [-1.0, 0.0, 1.0]  # y in channel 1, along H
    big = pg.coordinate_grid((37, 101))
    assert big[:, 0, 0].tolist() == [-1.0, -1.0] and big[:, -1, -1].tolist() == [1.0, 1.0]
    window = pg.coordinate_grid((2, 3), window=(0.0, -0.5, 1.0, 0.5))
    assert window[0, 0].tolist() == [0.0, 0.5, 1.0] and window[1, :, 0].tolist() == [-0.5, 0.5]


def test_sample_at_identity_grid_reproduces_features():
    feat = torch.randn(2, 4, 6, 10)
    out = pg.sample_at(feat, pg.coordinate_grid((6, 10)))
    torch.testing.assert_close(out, feat, atol=1e-5, rtol=0)


def test_fourier_features_shapes_and_values():
    gauss = pg.GaussianFourierFeatures(2, 8, sigma=3.0)
    v = torch.rand(5, 2) * 2 - 1
    out = gauss(v)
    proj = 2 * torch.pi * v @ gauss.B.T
    torch.testing.assert_close(out, torch.cat([proj.cos(), proj.sin()], -1))
    learned = pg.LearnedFourierFeatures(2, 16, init_scale=4.0)
    assert learned(v).shape == (5, 16) and learned(v).abs().max() <= 1


def _tiny_posgen(**overrides):
    cfg = dataclasses.replace(pg.preset("tiny").model, **overrides)
    return pg.PosGenGenerator(cfg).eval(), cfg


def _tiny_semantics(cfg, batch=2, size=None):
    h, w = size or cfg.image_size
    label = torch.randint(0, cfg.label_nc, (batch, h, w))
    return pg.data.to_semantics(label, torch.randint(0, 3, (batch, h, w)), "cityscapes")


def test_pixel_independence_of_the_head():
    """The head on a random subset of pixels == those pixels of the full image."""
    G, cfg = _tiny_posgen()
    sem = _tiny_semantics(cfg)
    with torch.no_grad():
        image = G(sem)  # (B, 3, H, W)
        feat = G.features(sem)  # (B, C, H, W)
        coords = pg.coordinate_grid(cfg.image_size)  # (2, H, W)
        b, _, h, w = feat.shape
        idx = torch.randperm(h * w)[:37]
        feat_px = feat.flatten(2)[:, :, idx].permute(0, 2, 1).reshape(-1, feat.shape[1])  # (B*37, C)
        coord_px = coords.flatten(1)[:, idx].T.repeat(b, 1)  # (B*37, 2)
        alone = G.pixel_head.forward_pixels(feat_px, coord_px).reshape(b, -1, 3)
    expected = image.flatten(2)[:, :, idx].permute(0, 2, 1)
    torch.testing.assert_close(alone, expected, atol=1e-6, rtol=0)


def test_head_output_depends_on_position():
    """Same feature everywhere, different coordinates -> different colours."""
    G, cfg = _tiny_posgen()
    feat = torch.randn(1, cfg.trunk_channels, 1, 1).expand(1, -1, 4, 4)
    with torch.no_grad():
        out = G.pixel_head(feat, pg.coordinate_grid((4, 4)))
    assert out.std(dim=(2, 3)).min() > 1e-4


def test_bad_input_size_is_a_clear_error():
    G, cfg = _tiny_posgen()
    with pytest.raises(ValueError, match="semantics must be"):
        G(torch.zeros(1, 3, 32, 64))


def test_trunk_runs_at_other_sizes():
    G, cfg = _tiny_posgen()
    with torch.no_grad():
        assert G(_tiny_semantics(cfg, size=(64, 128))).shape == (2, 3, 64, 128)
        assert G(_tiny_semantics(cfg, size=(45, 61))).shape == (2, 3, 45, 61)  # not multiples of 2^5


def test_trunk_sizes_double_and_end_at_the_input_size():
    from posgen_lib.models.generator import trunk_sizes

    assert trunk_sizes(64, 128, 5) == [(2, 4), (4, 8), (8, 16), (16, 32), (32, 64), (64, 128)]  # SPADE's 2x
    assert trunk_sizes(90, 120, 5) == [(3, 4), (6, 8), (12, 15), (23, 30), (45, 60), (90, 120)]


def test_unknown_preset():
    with pytest.raises(ValueError, match="unknown preset 'citiscapes'.*cityscapes"):
        pg.preset("citiscapes")


# The smallest legal label maps for the real presets.
SMALL_INPUT = {"tiny": None, "synthetic": None, "cityscapes": (64, 64), "coco_stuff": (32, 32)}
# CPU bfloat16 convolutions fall back to a slow im2col kernel on CPUs without AVX512-BF16 or AMX (90 s for one
# step of the full-width Cityscapes PosGen on an AVX2 EPYC core, against 15 s in float32): there the bfloat16
# step runs the presets at a quarter of their widths (trunk, SPADE branches, discriminator), with the same
# layers and label maps. (posgen's amp=auto never picks bfloat16 on such a CPU.)
BF16_WIDTH = 1 if cpu_has_fast_bf16() else 4


@pytest.mark.parametrize("name", list(SMALL_INPUT))
@pytest.mark.parametrize("autocast", [False, True], ids=["fp32", "bf16"])
def test_presets_forward_backward(name, autocast):
    """Every preset builds and trains a step on CPU (real presets at full width, small labels; under bfloat16
    on a CPU without native bfloat16, at a quarter of the width)."""
    cfg = pg.preset(name).model
    if autocast and name != "tiny":
        cfg = dataclasses.replace(cfg, ngf=cfg.ngf // BF16_WIDTH, ndf=cfg.ndf // BF16_WIDTH,
                                  spade_hidden=cfg.spade_hidden // BF16_WIDTH)
    torch.manual_seed(0)
    h, w = SMALL_INPUT[name] or cfg.image_size
    sem = pg.data.to_semantics(torch.randint(0, cfg.label_nc, (1, h, w)), torch.zeros(1, h, w, dtype=torch.long),
                               pg.preset(name).data.label_set)
    sem = sem.expand(2, -1, -1, -1).contiguous()
    # Both generators share the trunk; under bfloat16 only PosGen is run (it is slow on CPU).
    generators = (pg.PosGenGenerator,) if autocast else (pg.PosGenGenerator, pg.SPADEGenerator)
    for G in (make(cfg) for make in generators):
        D = pg.MultiscaleDiscriminator(cfg)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            fake = G(sem)
            pred = D(torch.cat([sem, fake], 1))
            loss = pg.train.losses.gan_loss(pred, True, for_discriminator=False)
        assert fake.shape == (2, 3, h, w)
        loss.float().backward()
        grads = [p.grad for p in G.parameters() if p.grad is not None]
        assert grads and all(torch.isfinite(g).all() for g in grads)
        assert fake.float().abs().max() <= 1


# Every generator kind (config.GENERATORS) and the switches that change which parameters it has.
VARIANTS = [("posgen", {}), ("spade", {}), ("spade", {"use_vae": True}), ("pixelwise", {}),
            ("pixelwise", {"pixelwise_context": 0}), ("anyres", {}), ("anyres", {"anyres_residual": True}),
            ("anyres", {"anyres_offset": True}), ("anyres", {"anyres_sampling": "unfold"})]


def test_the_variants_cover_every_generator_kind():
    assert {kind for kind, _ in VARIANTS} == set(pg.config.GENERATORS)


@pytest.mark.parametrize("kind,switches", VARIANTS, ids=[f"{k}{''.join(f'-{s}' for s in v)}" for k, v in VARIANTS])
def test_every_parameter_is_read_in_forward(kind, switches):
    """A model carries only the parameters it uses: each one gets a gradient from the image G(sem)."""
    torch.manual_seed(0)
    cfg = dataclasses.replace(pg.preset("tiny").model, generator=kind, **switches)
    G = pg.build_generator(cfg)
    label = torch.randint(0, cfg.label_nc, (2, *cfg.image_size))
    sem = pg.data.to_semantics(label, torch.zeros_like(label), "synthetic")
    G(sem).square().sum().backward()
    unread = [name for name, p in G.named_parameters() if p.grad is None]
    assert not unread, f"{kind} {switches}: parameters its forward never reads: {unread}"
