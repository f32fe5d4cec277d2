"""Parity with the official SPADE implementation on the reference tensors.

The reference files come from NVlabs/SPADE run on CPU (see tests/golden/spade).
The small configuration: label_nc 12 + instance edge (semantic_nc 13), ngf 1,
SPADE hidden 128, param-free BatchNorm, spectral norm, output 64x128, batch 2;
discriminator ndf 8, 2 scales, 4 layers; encoder ngf 1 with six layers.
Tolerances: atol 1e-5 on tanh outputs and losses, rtol 1e-4 on activations.
"""
from __future__ import annotations

import copy
import json

import pytest
import torch

import posgen_lib as pg
from posgen_lib.models.discriminator import reparameterize
from posgen_lib.train.losses import feature_matching_loss, gan_loss, kl_divergence, split_pred

OUT_TOL = dict(atol=1e-5, rtol=0)
ACT_TOL = dict(atol=1e-5, rtol=1e-4)


def small_config(**overrides) -> pg.ModelConfig:
    cfg = pg.ModelConfig(label_nc=12, contain_dontcare_label=False, use_instance=True,
                         image_size=(64, 128), num_upsampling_layers="normal", ngf=1,
                         spade_hidden=128, spade_norm="batch", ndf=8, num_D=2, n_layers_D=4,
                         z_dim=256, encoder_crop_size=256)
    for k, v in overrides.items():
        setattr(cfg, k, v)
    return cfg


@pytest.fixture(scope="module")
def golden(golden_dir):
    def load(name):
        return torch.load(golden_dir / name, weights_only=True)
    return load


@pytest.fixture(scope="module")
def inputs(golden):
    return golden("inputs.pt")


@pytest.fixture(scope="module")
def semantics(inputs):
    return inputs["semantics"].float()


def assert_buffers(module, expected: dict, prefix: str = ""):
    own = dict(module.named_buffers())
    checked = 0
    for key, value in expected.items():
        key = key[len(prefix):] if prefix and key.startswith(prefix) else key
        if key not in own:
            continue
        torch.testing.assert_close(own[key].float(), value.float(), **ACT_TOL, msg=key)
        checked += 1
    assert checked == len(expected), f"only {checked} of {len(expected)} buffers found"


def test_semantics_rebuilt_from_labels(inputs):
    labels = pg.data.LabelSet("golden", 12, tuple(range(12)), tuple(map(str, range(12))),
                              ((0, 0, 0),) * 12)
    sem = pg.data.to_semantics(inputs["label"].long(), inputs["instance"].long(), labels)
    assert torch.equal(sem, inputs["semantics"].float())
    assert torch.equal(sem[:, -1:], inputs["edges"].float())


def test_instance_edges(golden):
    ref = golden("get_edges.pt")
    assert torch.equal(pg.data.instance_edges(ref["instance"]), ref["edges"].float())


@pytest.fixture(scope="module")
def generator(golden):
    G = pg.SPADEGenerator(small_config())
    pg.compat.load_official_spade(G, golden("generator_small.pt")["state_dict"])
    return G


def _record_acts(G):
    acts = {}
    hooks = [getattr(G, n).register_forward_hook(lambda m, i, o, n=n: acts.__setitem__(n, o))
             for n in ("fc", "head_0", "G_middle_1", "up_1", "up_3")]
    return acts, hooks


@pytest.mark.parametrize("mode", ["eval", "train"])
def test_generator(generator, golden, semantics, mode):
    ref = golden("generator_small.pt")
    G = copy.deepcopy(generator)
    G.train(mode == "train")
    acts, hooks = _record_acts(G)
    with torch.no_grad():
        out = G(semantics)
    for h in hooks:
        h.remove()
    torch.testing.assert_close(out, ref[f"out_{mode}"], **OUT_TOL)
    for name, value in ref[f"acts_{mode}"].items():
        torch.testing.assert_close(acts[name], value, **ACT_TOL, msg=name)
    if mode == "train":
        assert_buffers(G, ref["train_buffers_after"])


@pytest.mark.parametrize("mode", ["eval", "train"])
@pytest.mark.parametrize("block", ["head_0", "up_0"])
def test_single_block(generator, golden, semantics, mode, block):
    ref = golden("blocks_small.pt")
    module = copy.deepcopy(getattr(generator, block))
    module.train(mode == "train")
    with torch.no_grad():
        out = module(ref[f"{block}_in"].float(), semantics)
    torch.testing.assert_close(out, ref[f"{block}_out_{mode}"], **ACT_TOL)
    if mode == "train":
        assert_buffers(module, ref[f"{block}_train_buffers_after"], prefix=f"{block}.")
    if block == "head_0":
        spade = copy.deepcopy(generator.head_0.norm_0).train(mode == "train")
        with torch.no_grad():
            normed = spade(ref["head_0_in"].float(), semantics)
        torch.testing.assert_close(normed, ref[f"head_0.norm_0_out_{mode}"], **ACT_TOL)


@pytest.mark.parametrize("mode", ["eval", "train"])
def test_vae_encoder_and_generator(golden, inputs, semantics, mode):
    ref = golden("vae_small.pt")
    cfg = small_config(use_vae=True, z_dim=ref["z_dim"], encoder_crop_size=ref["encoder_crop_size"])
    E = pg.compat.load_official_spade(pg.ImageEncoder(cfg), ref["E_state_dict"]).train(mode == "train")
    state = dict(golden("generator_small.pt")["state_dict"])
    state.update(ref["G_fc_state"])
    G = pg.compat.load_official_spade(pg.SPADEGenerator(cfg), state).train(mode == "train")
    with torch.no_grad():
        mu, logvar = E(inputs["image"].float())
        torch.testing.assert_close(mu, ref[f"mu_{mode}"], **ACT_TOL)
        torch.testing.assert_close(logvar, ref[f"logvar_{mode}"], **ACT_TOL)
        out = G(semantics, ref["z"])
    torch.testing.assert_close(out, ref[f"G_out_{mode}"], **OUT_TOL)
    if mode == "train":
        z = reparameterize(mu, logvar, ref["eps"].float())
        torch.testing.assert_close(z, ref["z"], **ACT_TOL)
        kld = kl_divergence(mu, logvar)
        torch.testing.assert_close(kld, ref["kld_raw"].reshape(()), atol=1e-4, rtol=1e-5)
        torch.testing.assert_close(kld * ref["lambda_kld"], ref["kld_weighted"].reshape(()),
                                   atol=1e-5, rtol=1e-5)
        assert_buffers(G, ref["G_train_buffers_after"])


@pytest.fixture(scope="module")
def discriminator_input(golden, inputs, semantics):
    fake = golden("generator_small.pt")["out_eval"][:1]
    real = inputs["image"].float()[:1]
    return torch.cat([torch.cat([semantics[:1], fake], 1), torch.cat([semantics[:1], real], 1)], 0)


@pytest.mark.parametrize("mode", ["eval", "train"])
def test_discriminator_and_losses(golden, discriminator_input, mode):
    ref = golden("discriminator_small.pt")
    D = pg.compat.load_official_spade(pg.MultiscaleDiscriminator(small_config()), ref["state_dict"])
    D.train(mode == "train")
    with torch.no_grad():
        pred = D(discriminator_input)
    assert len(pred) == len(ref[f"out_{mode}"]) == 2
    for scale, ref_scale in zip(pred, ref[f"out_{mode}"]):
        assert len(scale) == len(ref_scale) == 5
        for out, expected in zip(scale, ref_scale):
            torch.testing.assert_close(out, expected, **ACT_TOL)
    if mode == "train":
        assert_buffers(D, ref["train_buffers_after"])
    fake, real = split_pred(pred)
    losses = ref["losses"][mode]
    torch.testing.assert_close(gan_loss(fake, True, "hinge", for_discriminator=False),
                               losses["G_GAN"].reshape(()), **OUT_TOL)
    torch.testing.assert_close(gan_loss(fake, False), losses["D_Fake"].reshape(()), **OUT_TOL)
    torch.testing.assert_close(gan_loss(real, True), losses["D_real"].reshape(()), **OUT_TOL)
    torch.testing.assert_close(feature_matching_loss(fake, real, losses["lambda_feat"]),
                               losses["GAN_Feat"].reshape(()), atol=1e-5, rtol=1e-5)


def test_hinge_unit(golden):
    ref = golden("discriminator_small.pt")["hinge_unit"]
    x = [[ref["input"]]]
    assert gan_loss(x, True).item() == pytest.approx(ref["D_real"].item())
    assert gan_loss(x, False).item() == pytest.approx(ref["D_fake"].item())
    assert gan_loss(x, True, for_discriminator=False).item() == pytest.approx(ref["G"].item())


def test_small_parameter_counts(golden_dir):
    counts = json.loads((golden_dir / "shapes_small.json").read_text())
    cfg = small_config()
    assert pg.count_parameters(pg.SPADEGenerator(cfg)) == counts["G_params"]
    assert pg.count_parameters(pg.MultiscaleDiscriminator(cfg)) == counts["D_params"]
    assert pg.count_parameters(pg.ImageEncoder(cfg)) == counts["E_params"]
    assert pg.count_parameters(pg.SPADEGenerator(small_config(use_vae=True))) == counts["G_vae_params"]


def test_loading_reports_shape_mismatch(golden):
    G = pg.SPADEGenerator(small_config(label_nc=11))
    with pytest.raises(ValueError, match="label_nc"):
        pg.compat.load_official_spade(G, golden("generator_small.pt")["state_dict"])


def test_loading_reports_missing_keys(golden):
    state = dict(golden("generator_small.pt")["state_dict"])
    del state["up_3.conv_0.weight_orig"]
    state["extra.weight"] = torch.zeros(1)
    with pytest.raises(KeyError, match=r"up_3\.conv_0\.weight_orig.*extra\.weight"):
        pg.compat.load_official_spade(pg.SPADEGenerator(small_config()), state)
    with pytest.warns(UserWarning, match="1 missing"):
        pg.compat.load_official_spade(pg.SPADEGenerator(small_config()), state, strict=False)


def test_official_generator_into_posgen(golden, semantics):
    """PosGen takes the whole official trunk; only the final conv is replaced."""
    state = golden("generator_small.pt")["state_dict"]
    P = pg.compat.load_official_spade(pg.PosGenGenerator(small_config()), state).eval()
    ref = golden("generator_small.pt")["acts_eval"]["up_3"]
    with torch.no_grad():
        feat = P.features(semantics)
    torch.testing.assert_close(feat, torch.nn.functional.leaky_relu(ref, 0.2), **ACT_TOL)


def test_parametrization_style_keys_load(golden, semantics):
    """State dicts saved with torch.nn.utils.parametrizations.spectral_norm load too."""
    ref = golden("generator_small.pt")
    renamed = {}
    for k, v in ref["state_dict"].items():
        for old, new in ((".weight_orig", ".parametrizations.weight.original"),
                         (".weight_u", ".parametrizations.weight.0._u"),
                         (".weight_v", ".parametrizations.weight.0._v")):
            if k.endswith(old):
                k = k[: -len(old)] + new
        renamed["module." + k] = v
    G = pg.compat.load_official_spade(pg.SPADEGenerator(small_config()), renamed).eval()
    with torch.no_grad():
        torch.testing.assert_close(G(semantics), ref["out_eval"], **OUT_TOL)
