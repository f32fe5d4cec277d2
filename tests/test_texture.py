"""Any-resolution PosGen's texture branch: value noise, a zero-mean odd residual, the amplitude knob, training."""
from __future__ import annotations

import dataclasses

import pytest
import torch

import posgen_lib as pg
from posgen_lib.grid import FULL_WINDOW, coordinate_grid, pixel_spacing
from posgen_lib.models.interface import PixelQuery
from posgen_lib.models.registry import build_generator
from posgen_lib.models.texture import TextureHead, lattice_values, value_noise
from posgen_lib.train.anyres import faithful_and_judged


def textured(**model):
    cfg = pg.preset("tiny")
    cfg.model = dataclasses.replace(cfg.model, generator="anyres", anyres_texture_hidden=16, **model)
    G = build_generator(cfg.validate().model).eval()
    torch.nn.init.normal_(G.texture.fc2.weight)  # a visible texture (a fresh branch is faint)
    return G, cfg


def semantics(cfg, scale: int = 1):
    h, w = cfg.model.image_size
    label = torch.randint(0, 35, (1, h // 4, w // 4)).repeat_interleave(4 * scale, 1).repeat_interleave(4 * scale, 2)
    return pg.data.to_semantics(label, label, "cityscapes")


def test_value_noise_is_a_function_of_the_position_and_the_seed():
    pos = torch.tensor([[3.0, 5.0], [3.5, 5.0], [3.0, 5.0]])
    a, b = value_noise(pos, 0, 3), value_noise(pos, 1, 3)
    assert torch.equal(a[0], a[2]) and not torch.equal(a[0], b[0])
    # octave 0 at integer positions is the lattice value itself; between them, the blend
    corner = lattice_values(torch.tensor([3, 4]), torch.tensor([5, 5]), 0, 0)
    assert torch.allclose(a[0, 0].double(), corner[0]) and torch.allclose(a[1, 0].double(), corner.mean())
    many = value_noise(torch.rand(20000, 2) * 5000, 0, 4)
    assert many.abs().max() <= 1 and many.mean(0).abs().max() < 0.02  # symmetric around 0


def test_value_noise_hashes_a_lattice_table_or_each_corner_to_the_same_values():
    grid = torch.stack(torch.meshgrid(torch.arange(40.0), torch.arange(24.0), indexing="xy"), -1) / 3 + 0.1
    seeds = torch.tensor([4, 11]).view(2, 1, 1)
    dense = value_noise(grid.expand(2, -1, -1, -1), seeds, 4)  # (2, 24, 40, 4): one table per image
    # a far-away pixel makes the bounding box larger than twice the pixels: every corner is hashed directly
    scattered = torch.cat([grid.reshape(1, -1, 2), torch.tensor([[[9000.0, 9000.0]]])], 1).expand(2, -1, -1)
    direct = value_noise(scattered, seeds, 4)[:, :-1].reshape(dense.shape)
    assert torch.equal(dense, direct) and not torch.equal(dense[0], dense[1])


def test_the_texture_is_odd_in_the_noise_so_its_mean_is_zero():
    head = TextureHead(semantic_nc=5, octaves=4, embed=8, hidden=16)
    noise, sem = torch.randn(7, 4), torch.eye(5)[torch.randint(0, 5, (7,))]
    assert torch.allclose(head.forward_pixels(noise, sem), -head.forward_pixels(-noise, sem), atol=1e-6)


def test_the_knob_goes_from_the_faithful_base_to_the_full_texture():
    G, cfg = textured()
    sem, hr = semantics(cfg), semantics(cfg, 4)
    with torch.no_grad():
        feat = G.features(sem)
        coords = coordinate_grid(hr.shape[-2:])
        spacing = pixel_spacing(tuple(sem.shape[-2:]), tuple(hr.shape[-2:]), FULL_WINDOW)
        query = PixelQuery(coords, spacing, None, hr)
        base, tau = G.decode_parts(feat, query)
        assert torch.allclose(pg.render(G, sem, scale=4, labels=hr, texture=0), torch.tanh(base), atol=1e-5)
        full = pg.render(G, sem, scale=4, labels=hr, texture=1)
        assert torch.allclose(full, torch.tanh(base + tau), atol=1e-5)
        half = pg.render(G, sem, scale=4, labels=hr, texture=0.5)
        assert torch.allclose(half, torch.tanh(base + 0.5 * tau), atol=1e-5)
        assert torch.equal(pg.render(G, sem, scale=4, labels=hr), full)  # the default: cfg.anyres_texture = 1
        other = pg.render(G, sem, scale=4, labels=hr, texture=1, noise_seed=7)
        assert not torch.allclose(other, full) and torch.allclose(
            pg.render(G, sem, scale=4, labels=hr, texture=0, noise_seed=7), torch.tanh(base), atol=1e-5)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        pg.render(G, sem, scale=2, texture=1.5)
    plain = build_generator(dataclasses.replace(cfg.model, anyres_texture_hidden=0))
    with pytest.raises(ValueError, match="no texture branch"):
        pg.render(plain.eval(), sem, scale=2, texture=0.5)


def test_a_view_at_another_amplitude_renders_with_it_and_shares_the_weights():
    G, cfg = textured()
    sem, hr = semantics(cfg), semantics(cfg, 4)
    view = G.at_texture(0.25)
    assert view.cfg.anyres_texture == 0.25 and G.cfg.anyres_texture == 1.0  # the model itself unchanged
    assert view.texture.fc2.weight is G.texture.fc2.weight
    with torch.no_grad():
        quarter = pg.render(G, sem, scale=4, labels=hr, texture=0.25)
        assert torch.equal(pg.render(view, sem, scale=4, labels=hr), quarter)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        G.at_texture(1.5)


def test_textured_pixels_are_independent_and_windows_repeat_the_full_render():
    G, cfg = textured()
    sem, hr = semantics(cfg), semantics(cfg, 4)
    with torch.no_grad():
        full = pg.render(G, sem, scale=4, labels=hr, texture=1, noise_seed=3, max_chunk_pixels=1 << 20)
        banded = pg.render(G, sem, scale=4, labels=hr, texture=1, noise_seed=3, max_chunk_pixels=300)
        h, w = full.shape[-2:]
        xs, ys = torch.linspace(-1, 1, w), torch.linspace(-1, 1, h)
        window = pg.render(G, sem, size=(h - 40, w - 70), window=(xs[70].item(), ys[40].item(), 1, 1), labels=hr,
                           texture=1, noise_seed=3)
    assert torch.allclose(full, banded, atol=1e-6)
    assert torch.allclose(window, full[:, :, 40:, 70:], atol=1e-4)


def test_each_image_of_a_batch_can_have_its_own_texture_seed():
    G, cfg = textured()
    sem, hr = semantics(cfg).repeat(2, 1, 1, 1), semantics(cfg, 4).repeat(2, 1, 1, 1)  # one scene twice
    with torch.no_grad():
        both = pg.render(G, sem, scale=4, labels=hr, texture=1, noise_seed=[3, 7])
        alone = [pg.render(G, sem[:1], scale=4, labels=hr[:1], texture=1, noise_seed=s) for s in (3, 7)]
    assert torch.allclose(both[:1], alone[0], atol=1e-6) and torch.allclose(both[1:], alone[1], atol=1e-6)
    assert not torch.allclose(both[0], both[1])


def test_the_discriminator_trains_the_texture_and_l1_trains_the_base():
    G, cfg = textured()
    G.train()
    feat = G.features(semantics(cfg))
    hr = semantics(cfg, 2)
    query = PixelQuery(coordinate_grid(hr.shape[-2:]), (0.5, 0.5), None, hr, noise_seed=1)
    faithful, judged = faithful_and_judged(G.decode_parts(feat, query))
    judged.mean().backward(retain_graph=True)  # stands for the patch GAN's term
    assert all(p.grad is None or not p.grad.any() for p in G.detail.parameters())
    assert any(p.grad is not None and p.grad.any() for p in G.texture.parameters())
    G.zero_grad()
    faithful.mean().backward()  # stands for the reconstruction term
    assert all(p.grad is None or not p.grad.any() for p in G.texture.parameters())


def test_a_textured_model_trains_saves_and_loads(tmp_path):
    cfg = pg.preset("tiny")
    cfg.model = dataclasses.replace(cfg.model, generator="anyres", anyres_texture_hidden=8, anyres_texture=0.5)
    cfg.train.steps = 2
    result = pg.train.train(cfg, tmp_path / "run", progress=False)
    assert {"G_rec", "G_patch", "D_patch_fake"} <= set(result.log[-1])
    G, saved, _ = pg.models.registry.load_generator(tmp_path / "run" / "model.pt")
    assert G.textured and saved.model.anyres_texture == 0.5
    with pytest.raises(ValueError, match="amplitude"):
        dataclasses.replace(cfg.model, anyres_texture=2.0).validate()


def test_the_knob_from_the_command_line(tmp_path, capsys):
    import numpy as np
    from PIL import Image

    from posgen_lib.checkpoint import save_model
    from posgen_lib.cli import main

    G, cfg = textured()
    save_model(tmp_path / "textured.pt", G, cfg)
    plain = build_generator(dataclasses.replace(cfg.model, anyres_texture_hidden=0)).eval()
    save_model(tmp_path / "plain.pt", plain, dataclasses.replace(cfg, model=plain.cfg))
    Image.fromarray(np.full((32, 64), 7, np.uint8)).save(tmp_path / "labels.png")
    outs = {}
    for t in ("0", "1"):
        outs[t] = tmp_path / f"t{t}.png"
        assert main(["render", str(tmp_path / "textured.pt"), str(tmp_path / "labels.png"), "--scale", "2",
                     "--texture", t, "--out", str(outs[t])]) == 0
    flat, grain = (np.asarray(Image.open(outs[t])).astype(float) for t in ("0", "1"))
    assert grain.std() > flat.std()  # the texture adds grain to a road of one class
    assert main(["render", str(tmp_path / "plain.pt"), str(tmp_path / "labels.png"), "--scale", "2", "--texture",
                 "0.5", "--out", str(tmp_path / "x.png")]) == 2
    assert "no texture branch" in capsys.readouterr().err
    args = pg.cli.parse(["train", "--preset", "synthetic", "--generator", "anyres", "--texture", "0.25", "--out", "x"])
    assert pg.cli.train.config_from_args(args).model.anyres_texture == 0.25
