"""The registry of upscaling methods: each method's defining property, checked on cases with a known answer."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import posgen_lib as pg
from posgen_lib.rendering import METHODS, check_method, lanczos_resize, upscale
from posgen_lib.rendering.guided import _guided_sample, joint_bilateral_upsample, label_channels
from posgen_lib.rendering.methods import _features_bilinear, _trunk_on


@pytest.fixture(scope="module")
def tiny():
    cfg = pg.preset("tiny").model
    torch.manual_seed(0)
    ids = torch.tensor(pg.data.get_label_set("synthetic").ids)
    blocks = ids[torch.randint(0, len(ids), (2, 4, 8))]
    label = blocks.repeat_interleave(8, 1).repeat_interleave(8, 2)  # (2, 32, 64), 8x8 blocks
    sem = pg.data.to_semantics(label, None, "synthetic")
    return cfg, sem, label


def test_every_method_says_what_it_needs_and_where_it_applies(tiny):
    cfg, sem, _ = tiny
    posgen, spade = pg.PosGenGenerator(cfg).eval(), pg.SPADEGenerator(cfg).eval()
    assert {m.needs for m in METHODS.values()} == {"1x labels", "high-resolution labels"}
    assert METHODS["features_bilinear"].applies_to(spade) and not METHODS["features_bilinear"].applies_to(posgen)
    assert METHODS["coordinates"].applies_to(posgen) and not METHODS["coordinates"].applies_to(spade)
    with pytest.raises(ValueError, match="does not apply to the spade generator; it can use: bicubic"):
        check_method(spade, "coordinates", False)
    with pytest.raises(ValueError, match="needs the label map at the output resolution"):
        check_method(spade, "trunk_hr", False)
    with pytest.raises(ValueError, match="unknown upscaling method 'labels'"):
        check_method(spade, "labels", False)
    hr = F.interpolate(sem, size=(64, 128), mode="nearest")
    for name, method in METHODS.items():
        for G in (posgen, spade):
            if method.applies_to(G):
                out = upscale(G, sem, scale=2, method=name, labels=hr)
                assert out.shape == (2, 3, 64, 128) and out.abs().max() <= 1, name


def test_joint_bilateral_is_the_identity_at_1x_and_bilinear_on_one_class(tiny):
    cfg, sem, label = tiny
    image = torch.rand(2, 3, 32, 64) * 2 - 1
    classes = label_channels(cfg, sem)
    torch.testing.assert_close(joint_bilateral_upsample(image, classes, classes), image, atol=1e-4, rtol=0)
    one = torch.zeros(2, 32, 64, dtype=torch.long)
    up = joint_bilateral_upsample(image, one, torch.zeros(2, 70, 133, dtype=torch.long))
    bilinear = F.interpolate(image, size=(70, 133), mode="bilinear", align_corners=True)
    torch.testing.assert_close(up, bilinear, atol=1e-5, rtol=0)


def test_joint_bilateral_bands_and_whole_agree(tiny):
    cfg, sem, label = tiny
    image = torch.rand(2, 3, 32, 64)
    guide = label_channels(cfg, F.interpolate(sem, size=(96, 192), mode="nearest"))
    classes = label_channels(cfg, sem)
    whole = joint_bilateral_upsample(image, classes, guide, max_chunk_pixels=10**9)
    banded = joint_bilateral_upsample(image, classes, guide, max_chunk_pixels=300)
    torch.testing.assert_close(banded, whole, atol=1e-6, rtol=0)


def test_guided_values_never_mix_classes():
    """Constant values per class stay exactly constant: no blending across a boundary."""
    classes = torch.zeros(4, 6, dtype=torch.long)
    classes[:, 3:] = 1
    values = torch.stack([classes.float() * 5 - 2, classes.float() * -3 + 1])  # class 0 -> (-2, 1), 1 -> (3, -2)
    coords = pg.coordinate_grid((13, 23))
    guide = (coords[0] > 0.05).long()  # a finer boundary than the 1x one
    guide[:, 0] = 1  # class-1 pixels far inside class 0's area: the wide fallback
    out = _guided_sample(values, classes, guide, coords)
    expected = torch.where(guide.bool(), torch.tensor([3.0, -2.0])[:, None, None],
                           torch.tensor([-2.0, 1.0])[:, None, None])
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=0)
    plain = pg.sample_at(values[None], coords)[0]
    assert not torch.allclose(plain, expected)  # plain bilinear does blend


def test_lanczos_uses_the_same_pixel_grid_as_the_other_methods():
    ramp = torch.linspace(-0.8, 0.8, 20).repeat(1, 3, 10, 1)  # (1, 3, 10, 20), linear in x
    up = lanczos_resize(ramp, (40, 77))
    expected = F.interpolate(ramp, size=(40, 77), mode="bilinear", align_corners=True)
    # Lanczos reproduces a linear function away from the borders, on the align_corners grid
    torch.testing.assert_close(up[..., 8:-8], expected[..., 8:-8], atol=2e-3, rtol=0)
    torch.testing.assert_close(lanczos_resize(ramp, (10, 20)), ramp, atol=1e-5, rtol=0)


def test_spade_features_resampled_is_the_forward_at_1x_and_bands_exactly(tiny):
    cfg, sem, _ = tiny
    B = pg.SPADEGenerator(cfg).eval()
    with torch.no_grad():
        torch.testing.assert_close(_features_bilinear(B, sem, (32, 64), None, None, None), B(sem), atol=1e-5, rtol=0)
        whole = _features_bilinear(B, sem, (70, 141), None, None, None, max_chunk_pixels=10**9)
        banded = _features_bilinear(B, sem, (70, 141), None, None, None, max_chunk_pixels=500)
    torch.testing.assert_close(banded, whole, atol=1e-6, rtol=0)


def test_trunk_methods_at_sizes_the_trunk_refuses(tiny):
    cfg, _, _ = tiny
    B = pg.SPADEGenerator(cfg).eval()
    sem = pg.data.to_semantics(torch.full((1, 32, 64), 7), None, "synthetic")
    with torch.no_grad():
        assert torch.equal(_trunk_on(B, sem, (106, 211), None, None), B(F.interpolate(sem, size=(106, 211))))  # 3.3x
        assert torch.equal(_trunk_on(B, sem, (64, 128), None, None), B(F.interpolate(sem, size=(64, 128))))
