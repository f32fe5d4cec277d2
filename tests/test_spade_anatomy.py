"""SPADE anatomy helpers (notebook 02): Eq. 1 terms, label wash-out, upsampling schedule, power iteration."""
from __future__ import annotations

import pytest
import torch
from matplotlib.figure import Figure

import posgen_lib as pg
from posgen_lib.course.lessons import spade as sa


def test_modulation_maps_recompose_the_layer_output():
    layer = pg.SPADE(6, 5, hidden=8, norm="batch").eval()
    with torch.no_grad():  # non-trivial running statistics and gamma
        layer.param_free_norm.running_mean.uniform_(-1, 1)
        layer.param_free_norm.running_var.uniform_(0.5, 2)
    x, seg = torch.randn(2, 6, 8, 8), torch.rand(2, 5, 16, 16)
    maps = sa.modulation_maps(layer, x, seg)
    assert {k: tuple(v.shape) for k, v in maps.items()} == {k: (2, 6, 8, 8) for k in ("normalized", "gamma",
                                                                                      "beta", "out")}
    with torch.no_grad():
        torch.testing.assert_close(maps["out"], layer(x, seg))
    assert maps["gamma"].std() > 0.01
    assert sa.most_varying_channels(maps["gamma"], 2) == maps["gamma"].flatten(2).std(2).mean(0).topk(2).indices.tolist()


def test_instance_norm_washes_out_a_single_label_but_spade_does_not():
    result = sa.washout((7, 23, 21), semantic_nc=36)
    assert max(result["conv_instance_norm"]) < 1e-4
    assert result["spade_change"][0] == 0 and min(result["spade_change"][1:]) > 0.05


@pytest.mark.parametrize("mode", ["normal", "more", "most"])
def test_schedule_matches_the_trunk(mode):
    cfg = pg.ModelConfig(label_nc=3, use_instance=False, image_size=(128, 256), num_upsampling_layers=mode,
                         ngf=2, spade_hidden=4, spade_norm="batch", spectral_norm_G=False)
    G = pg.SPADEGenerator(cfg).eval()
    seen = []
    for name, module in G.named_children():
        if isinstance(module, pg.SPADEResnetBlock):
            module.register_forward_hook(
                lambda m, i, o, name=name: seen.append((name, i[0].shape[1], o.shape[1], tuple(o.shape[2:]))))
    with torch.no_grad():
        G(torch.rand(1, 3, 128, 256))
    assert sa.upsampling_schedule(cfg) == seen
    assert seen[-1][3] == (128, 256)
    assert f"latent grid {cfg.latent_size[0]}x{cfg.latent_size[1]}" in sa.schedule_text(cfg)


def test_power_iteration_converges_to_the_largest_singular_value():
    weight = torch.randn(16, 8, 3, 3, generator=torch.Generator().manual_seed(1))
    estimates, sigma = sa.power_iteration_trace(weight, iterations=30)
    assert sigma == pytest.approx(torch.linalg.svdvals(weight.flatten(1))[0].item(), rel=1e-5)
    assert estimates[-1] == pytest.approx(sigma, rel=1e-3)
    assert estimates[0] < sigma


def test_figures():
    layer = pg.SPADE(4, 3, hidden=4)
    maps = sa.modulation_maps(layer, torch.randn(1, 4, 6, 6), torch.rand(1, 3, 6, 6))
    assert isinstance(sa.modulation_figure(torch.zeros(6, 6, 3).numpy(), maps, [0, 1],
                                           images={"x": torch.zeros(3, 6, 6)}), Figure)
    assert isinstance(sa.power_iteration_figure([1.0, 2.0], 2.0), Figure)


def test_layer_maps_use_the_input_the_layer_sees():
    cfg = pg.preset("tiny").model
    G = pg.PosGenGenerator(cfg).eval()
    sem = torch.rand(1, cfg.semantic_nc, *cfg.image_size)
    seen = {}
    G.up_2.norm_1.register_forward_hook(lambda m, i, o: seen.setdefault("out", o))
    maps = sa.layer_maps(G, "up_2.norm_1", sem)
    with torch.no_grad():
        G.features(sem)
    torch.testing.assert_close(maps["out"], seen["out"])
    assert maps["gamma"].shape == seen["out"].shape
