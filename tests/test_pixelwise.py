"""The fully pixel-wise generator: no output-resolution convolutions, pixel independence, training."""
from __future__ import annotations

import dataclasses

import pytest
import torch

import posgen_lib as pg
from posgen_lib.checkpoint import save_model
from posgen_lib.models.registry import load_generator
from posgen_lib.models.fourier import coordinate_grid, sample_at
from posgen_lib.models.registry import build_generator
from posgen_lib.models.pixelwise import PixelwiseGenerator, output_resolution_convolutions
from posgen_lib.train import train


def tiny_model(**overrides):
    return dataclasses.replace(pg.preset("tiny").model, **overrides)


def semantics(cfg, batch=2, seed=0):
    gen = torch.Generator().manual_seed(seed)
    h, w = cfg.image_size
    label = torch.randint(0, cfg.label_nc, (batch, 1, h, w), generator=gen)
    one_hot = torch.zeros(batch, cfg.label_nc, h, w).scatter_(1, label, 1.0)
    edges = (torch.rand(batch, 1, h, w, generator=gen) > 0.9).float()
    return torch.cat([one_hot, edges], dim=1)  # (B, semantic_nc, H, W)


def test_no_spatial_convolution_runs_at_the_output_resolution():
    cfg = tiny_model()
    sem = semantics(cfg)
    assert output_resolution_convolutions(PixelwiseGenerator(cfg), sem) == []
    # The same probe does see PosGen's last SPADE block, so it can fail.
    posgen_convs = output_resolution_convolutions(build_generator(cfg.with_generator("posgen")), sem)
    assert "up_3.conv_0" in posgen_convs


def test_without_context_a_pixel_depends_only_on_its_own_semantics():
    torch.manual_seed(0)
    cfg = tiny_model(pixelwise_context=0)
    G = PixelwiseGenerator(cfg).eval()
    for p in G.pixel_head.modulation.parameters():  # leave the zero init, so labels matter
        torch.nn.init.normal_(p, std=0.5)
    sem = semantics(cfg, batch=1)
    edited = sem.clone()
    edited[0, :, 5, 7] = 0
    edited[0, 3, 5, 7] = 1  # another class at one pixel
    changed = (G(edited) - G(sem)).abs().amax(dim=1)[0] > 1e-6  # (H, W)
    assert changed[5, 7] and changed.sum() == 1


def test_head_on_a_subset_of_pixels_equals_the_full_image():
    torch.manual_seed(1)
    cfg = tiny_model()
    G = PixelwiseGenerator(cfg).eval()
    for p in G.pixel_head.modulation.parameters():
        torch.nn.init.normal_(p, std=0.5)
    sem = semantics(cfg)
    full = G(sem)  # (B, 3, H, W)
    feat = G.features(sem)  # (B, E, H, W)
    coords = coordinate_grid(feat.shape[-2:])  # (2, H, W)
    idx = torch.randperm(feat.shape[-2] * feat.shape[-1])[:50]
    pix_feat = feat.flatten(2)[1, :, idx].T  # (50, E)
    pix_coords = coords.flatten(1)[:, idx].T  # (50, 2)
    rgb = G.pixel_head.forward_pixels(pix_feat, pix_coords)  # (50, 3)
    torch.testing.assert_close(rgb, full.flatten(2)[1, :, idx].T, rtol=1e-5, atol=1e-6)


def test_render_works_at_any_scale_and_matches_forward_at_1x():
    cfg = tiny_model()
    G = PixelwiseGenerator(cfg).eval()
    sem = semantics(cfg)
    torch.testing.assert_close(pg.render(G, sem), G(sem))
    big = pg.render(G, sem, scale=3.3, max_chunk_pixels=500)
    assert big.shape == (2, 3, round(32 * 3.3), round(64 * 3.3))
    # The render samples the embedding, which is what the head sees at those coordinates.
    coords = coordinate_grid(big.shape[-2:])
    expected = G.pixel_head(sample_at(G.features(sem), coords), coords)
    torch.testing.assert_close(big, expected, rtol=1e-5, atol=1e-5)


def test_context_needs_divisible_sizes_and_no_style_input():
    cfg = tiny_model(pixelwise_context=16)
    G = PixelwiseGenerator(cfg)
    with pytest.raises(ValueError, match="pixelwise_context=16"):
        G(torch.zeros(1, cfg.semantic_nc, 24, 64))
    with pytest.raises(ValueError, match="z=None"):
        G(semantics(cfg), torch.zeros(2, 8))


def test_trains_and_round_trips_through_a_model_file(tmp_path):
    cfg = pg.preset("tiny")
    cfg.model.generator = "pixelwise"
    cfg.train.steps = 2
    result = train(cfg, tmp_path / "run", progress=False)
    assert isinstance(result.generator, PixelwiseGenerator)
    save_model(tmp_path / "pw.pt", result.generator, cfg, half=True)
    G, saved_cfg, _ = load_generator(tmp_path / "pw.pt")
    assert isinstance(G, PixelwiseGenerator) and saved_cfg.model.generator == "pixelwise"
    sem = semantics(cfg.model)
    torch.testing.assert_close(G(sem), result.generator.eval()(sem), rtol=1e-2, atol=1e-2)  # fp16 file
