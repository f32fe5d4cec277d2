"""Any-resolution PosGen: the model's contract, its training data at random scales, two training steps, the CLI."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PIL import Image

import posgen_lib as pg
from posgen_lib.cli import main
from posgen_lib.data.fabricate import make_cityscapes
from posgen_lib.data.patches import ScaledPatches, boundary_pixels, patch_coords, patch_windows, scaled_size
from posgen_lib.models.anyres import cell_phase
from posgen_lib.models.interface import PixelQuery
from posgen_lib.models.registry import build_generator, count_parameters
from posgen_lib.train.anyres import AnyResObjective, one_by_one, side_by_side, subpixel_block
from posgen_lib.train.loop import Trainer, train


def scenes(n: int = 2, size=(32, 64), scale: float = 1.0):
    ds = pg.data.SyntheticStreets(size=size, length=n, split="test")
    items = [ds.render(i, size=tuple(round(s * scale) for s in size)) for i in range(n)]
    return {k: torch.stack([it[k] for it in items]) for k in ("label", "instance", "image")}


def semantics(batch) -> torch.Tensor:
    return pg.data.to_semantics(batch["label"], batch["instance"], "synthetic")


@pytest.fixture(scope="module")
def model():
    """A tiny any-resolution model whose detail head is not zero (as after training)."""
    torch.manual_seed(0)
    return pg.build_generator(pg.preset("tiny").model.with_generator("anyres")).eval()


def test_the_residual_form_starts_exactly_at_posgen_at_every_scale():
    torch.manual_seed(0)
    cfg = pg.preset("tiny").model.with_generator("anyres")
    cfg.anyres_residual = True
    G = pg.build_generator(cfg).eval()
    P = pg.PosGenGenerator(pg.preset("tiny").model).eval()
    P.load_state_dict({k: v for k, v in G.state_dict().items() if not k.startswith("detail.")})
    sem = semantics(scenes())
    with torch.no_grad():
        assert torch.equal(G(sem), P(sem))
        assert torch.equal(pg.render(G, sem, scale=2.7), pg.render(P, sem, scale=2.7))


def test_the_offset_phase_is_zero_on_the_label_grid_and_continuous_across_cells():
    on_grid = cell_phase(pg.coordinate_grid((32, 64)), (32, 64))  # (4, 32, 64): sin x, sin y, cos x, cos y
    assert on_grid[:2].abs().max() < 1e-4 and (on_grid[2:] - 1).abs().max() < 1e-4
    fine = cell_phase(pg.coordinate_grid((320, 640)), (32, 64))
    steps = (fine[:, :, 1:] - fine[:, :, :-1]).abs().max()
    assert steps <= 2 * math.pi * 63 / 639 + 1e-3  # smooth: no jump where a pixel passes into the next cell
    half = cell_phase(torch.tensor([[[-1 + 0.5 * 2 / 63]], [[-1.0]]]), (32, 64))  # half-way between two cells
    torch.testing.assert_close(half[[0, 2], 0, 0], torch.tensor([0.0, -1.0]), atol=1e-5, rtol=0)


def test_pixel_independence_given_the_feature_map_and_the_label_map(model):
    """Any set of output pixels decoded alone equals the same pixels of the full render."""
    sem = semantics(scenes())
    hr = semantics(scenes(scale=3.3))  # (2, S, 106, 211)
    with torch.no_grad():
        full = pg.render(model, sem, size=(106, 211), labels=hr)
        feat = model.features(sem)
        gen = torch.Generator().manual_seed(1)
        rows, cols = torch.randint(0, 106, (40,), generator=gen), torch.randint(0, 211, (40,), generator=gen)
        grid = pg.coordinate_grid((106, 211))
        coords = grid[:, rows, cols][:, None]  # (2, 1, 40): 40 scattered pixels as one band
        query = PixelQuery(coords, (63 / 210, 31 / 105), None, hr[:, :, rows, cols][:, :, None])
        alone = model.decode(feat, query)[:, :, 0]  # (2, 3, 40)
    torch.testing.assert_close(alone, full[:, :, rows, cols], atol=2e-5, rtol=0)


def test_windows_and_odd_sizes(model):
    sem = semantics(scenes())
    hr = semantics(scenes(scale=3.3))
    with torch.no_grad():
        full = pg.render(model, sem, size=(106, 211), labels=hr)
        xs, ys = torch.linspace(-1, 1, 211), torch.linspace(-1, 1, 106)
        window = (float(xs[20]), float(ys[10]), float(xs[80]), float(ys[50]))
        part = pg.render(model, sem, size=(41, 61), window=window, labels=hr)
        torch.testing.assert_close(part, full[:, :, 10:51, 20:81], atol=2e-5, rtol=0)
        for scale in (0.5, 1.7, 4.0, 8.0):
            out = pg.render(model, sem, scale=scale)  # without labels: nearest-upsampled sem
            assert out.shape == (2, 3, round(32 * scale), round(64 * scale)) and out.abs().max() <= 1
        assert pg.render(model, sem, size=(37, 91), max_chunk_pixels=100).shape == (2, 3, 37, 91)
    with pytest.raises(ValueError, match="labels="):
        pg.render(pg.PosGenGenerator(pg.preset("tiny").model), sem, scale=2, labels=hr)


def test_upscale_methods_for_the_anyres_model(model):
    sem = semantics(scenes())
    hr = semantics(scenes(scale=2))
    with torch.no_grad():
        with_labels = pg.upscale(model, sem, scale=2, method="coordinates_hr", labels=hr)
        nearest = pg.upscale(model, sem, scale=2, method="coordinates")
    assert with_labels.shape == nearest.shape == (2, 3, 64, 128)
    assert not torch.equal(with_labels, nearest)  # the finer labels change the picture


# ----- ground truth at random scales ---------------------------------------------------------------

def test_patch_windows_cover_whole_pixels_of_the_scaled_image_and_favour_boundaries():
    label = scenes(1)["label"][0]
    rng = np.random.default_rng(0)
    windows = patch_windows(label, 2.5, 16, 8, 0.5, rng)
    h, w = scaled_size((32, 64), 2.5)
    xs, ys = torch.linspace(-1, 1, w), torch.linspace(-1, 1, h)
    for x0, y0, x1, y1 in windows.tolist():
        assert -1 <= x0 < x1 <= 1 and -1 <= y0 < y1 <= 1
        assert (xs - x0).abs().min() < 1e-5 and (ys - y1).abs().min() < 1e-5  # on the full image's pixel grid
    edges = boundary_pixels(label).float()
    centres = (windows[:4, :2] + windows[:4, 2:]) / 2  # the boundary-centred half
    near = [((edges / torch.tensor([31, 63]) * 2 - 1).flip(1) - c).abs().max(1).values.min() for c in centres]
    assert max(near) < 0.3


def test_scaled_patches_are_the_ground_truth_at_that_scale():
    base = pg.data.SyntheticStreets(size=(32, 64), length=4, split="train")
    data = ScaledPatches(base, scale_max=4.0, patch=16, count=3, boundary=0.5, seed=0)
    item = data[1]
    scale = float(item["patch_scale"])
    assert 1 <= scale <= 4 and item["patch_image"].shape == (3, 3, 16, 16)
    assert item["patch_label"].shape == (3, 18, 18)  # with a one-pixel halo
    full = base.render(1, size=scaled_size((32, 64), scale))
    xs = torch.linspace(-1, 1, full["image"].shape[-1])
    ys = torch.linspace(-1, 1, full["image"].shape[-2])
    x0, y0 = item["patch_window"][0, :2].tolist()
    left, top = int((xs - x0).abs().argmin()), int((ys - y0).abs().argmin())
    torch.testing.assert_close(item["patch_image"][0], full["image"][:, top:top + 16, left:left + 16], atol=2e-4, rtol=0)
    assert torch.equal(item["patch_label"][0, 1:-1, 1:-1], full["label"][top:top + 16, left:left + 16])
    again = data[1]
    assert torch.equal(again["patch_window"], item["patch_window"])  # fixed per index: exact resume


def test_patches_side_by_side_round_trip_and_subpixel_blocks_average_onto_1x_pixels():
    x = torch.randn(6, 3, 5, 5)
    assert torch.equal(one_by_one(side_by_side(x, 3), 3), x)
    coords, spacing = subpixel_block((32, 64), 4, top=2, left=3, n=2)
    assert coords.shape == (2, 8, 8) and spacing == (0.25, 0.25)
    averaged = torch.nn.functional.avg_pool2d(coords[None], 4)[0]  # the 4x4 sub-pixel centres average ...
    grid = pg.coordinate_grid((32, 64))[:, 2:4, 3:5]  # ... onto the 1x pixel centres
    torch.testing.assert_close(averaged, grid, atol=1e-6, rtol=0)


# ----- training -----------------------------------------------------------------------------------------

def tiny_anyres(steps: int = 2, **train_overrides) -> pg.Config:
    cfg = pg.preset("tiny")
    cfg.model.generator = "anyres"
    cfg.train.steps, cfg.train.sample_every, cfg.train.ckpt_every = steps, 1000, 1000
    for k, v in train_overrides.items():
        setattr(cfg.train, k, v)
    return cfg


def test_two_steps_from_scratch_use_every_loss_term(tmp_path):
    result = train(tiny_anyres(), tmp_path, progress=False)
    row = result.log[-1]
    for term in ("G_GAN", "G_feat", "G_rec", "G_patch", "G_consistency", "D_fake", "D_patch_fake"):
        assert term in row and np.isfinite(row[term]), term


def test_fine_tuning_keeps_the_initial_trunk_fixed(tmp_path):
    base = pg.preset("tiny")
    base.train.steps = 2
    train(base, tmp_path / "posgen", progress=False)
    source, _, _ = pg.load_generator(tmp_path / "posgen" / "model.pt")
    trainer = Trainer(tiny_anyres(3, anyres_init=str(tmp_path / "posgen" / "model.pt")), tmp_path / "a",
                      progress=False)
    detail = {k: v.clone() for k, v in trainer.G.detail.state_dict().items()}
    trainer.fit()
    after = trainer.G.state_dict()
    trunk = {k: v for k, v in source.state_dict().items() if not k.startswith("pixel_head.")}
    assert trunk.keys() <= after.keys() and not any(k.startswith("pixel_head.") for k in after)  # a head it never reads
    for name, value in trunk.items():  # trunk and BatchNorm statistics unchanged
        assert torch.equal(after[name], value), name
    assert any(not torch.equal(v, detail[k]) for k, v in trainer.G.detail.state_dict().items())  # it trained
    assert "G_GAN" not in trainer.log_rows[-1]  # no 1x GAN: the frozen parts need none


def test_anyres_init_must_be_a_posgen_of_the_same_shape(tmp_path):
    other = pg.preset("tiny")
    other.model.ngf, other.train.steps = 8, 1
    train(other, tmp_path / "wide", progress=False)
    with pytest.raises(pg.models.registry.CheckpointError, match="model.ngf"):
        Trainer(tiny_anyres(anyres_init=str(tmp_path / "wide" / "model.pt")), tmp_path / "a", progress=False)


def test_cli_trains_renders_with_high_res_labels_and_checks_its_flags(tmp_path, capsys):
    assert main(["train", "--preset", "tiny", "--steps", "2", "--out", str(tmp_path / "p"), "--quiet"]) == 0
    assert main(["train", "--preset", "tiny", "--generator", "anyres", "--init", str(tmp_path / "p" / "model.pt"),
                 "--patch-gan", "0.3", "--scale-max", "3", "--consistency", "0", "--channels-last", "off",
                 "--steps", "2", "--out", str(tmp_path / "a"), "--quiet"]) == 0
    run = pg.load_generator(tmp_path / "a" / "model.pt")[1].train
    assert (run.lambda_patch_gan, run.anyres_scale_max, run.anyres_freeze) == (0.3, 3.0, True)
    assert (run.lambda_consistency, run.channels_last) == (0.0, False)
    low, high = scenes(1), scenes(1, scale=4)
    Image.fromarray(low["label"][0].numpy().astype(np.uint8)).save(tmp_path / "low.png")
    Image.fromarray(high["label"][0].numpy().astype(np.uint8)).save(tmp_path / "high.png")
    assert main(["render", str(tmp_path / "a" / "model.pt"), str(tmp_path / "low.png"), "--labels-hr",
                 str(tmp_path / "high.png"), "--scale", "4", "--out", str(tmp_path / "o.png")]) == 0
    assert "coordinates_hr" in capsys.readouterr().out and Image.open(tmp_path / "o.png").size == (256, 128)
    for argv, message in ((["--patch-gan", "0.1"], "need --generator anyres"),
                          (["--consistency", "2"], "need --generator anyres"),
                          (["--generator", "anyres", "--no-freeze"], "--no-freeze needs --init")):
        code = main(["train", "--preset", "tiny", "--steps", "1", "--out", str(tmp_path / "x"), *argv])
        assert code == 2 and message in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse names the choices
        main(["train", "--preset", "tiny", "--out", str(tmp_path / "x"), "--compile", "everything"])
    assert "--compile: invalid choice: 'everything'" in capsys.readouterr().err


def test_patch_query_spacing_is_the_scale():
    cfg = tiny_anyres()
    base = pg.data.SyntheticStreets(size=(32, 64), length=2, split="train")
    data = ScaledPatches(base, 4.0, 8, 2, 0.5, 0)
    batch = torch.utils.data.default_collate([data[0], data[1]])
    query, sem = AnyResObjective(cfg).patch_query({k: v for k, v in batch.items() if k.startswith("patch_")},
                                                  (32, 64))
    assert query.coords.shape == (2, 2, 8, 16) and sem.shape == (4, 36, 8, 8)
    expected = 1 / batch["patch_scale"]
    torch.testing.assert_close(query.spacing[:, 0], expected, atol=0.02, rtol=0.02)
    coords = patch_coords(batch["patch_window"][0], 8)
    assert torch.equal(query.coords[0, :, :, :8], coords[0])


def test_cityscapes_at_native_size_gives_4x_targets_beside_spades_input(tmp_path):
    root = make_cityscapes(tmp_path / "cityscapes", upscale=32)  # 2048x1024 files, as downloaded
    data = pg.data.Cityscapes(root, "train", cfg=pg.preset("cityscapes").data, high_res=4.0)
    item = data[0]
    assert item["label"].shape == (256, 512) and item["image_hr"].shape == (3, 1024, 2048)
    assert item["label_hr"].shape == item["instance_hr"].shape == (1024, 2048)
    nearest = item["label_hr"][1::4, 1::4]  # the native map, sampled at the input's pixels
    assert (nearest == item["label"]).float().mean() > 0.98
    patches = ScaledPatches(data, scale_max=4.0, patch=16, count=2, boundary=0.5, seed=0)[0]
    assert 1 <= float(patches["patch_scale"]) <= 4 and patches["patch_image"].shape == (2, 3, 16, 16)
    assert "image_hr" not in patches  # the originals do not travel into the batch
    ids = set(torch.unique(patches["patch_label"]).tolist())
    assert ids <= set(torch.unique(item["label_hr"]).tolist())
    without = pg.data.Cityscapes(root, "train", cfg=pg.preset("cityscapes").data)[0]
    assert "image_hr" not in without


@pytest.mark.parametrize("name,detail,total", [("synthetic", 32_739, 2_596_566), ("cityscapes", 39_395, 93_085_667),
                                               ("coco_stuff", 44_131, 97_523_299)])
def test_the_detail_head_is_small_next_to_the_trunk(name, detail, total):
    """The counts docs/architecture.md states."""
    G = build_generator(pg.preset(name).model.with_generator("anyres"))
    assert (count_parameters(G.detail), count_parameters(G)) == (detail, total)
    assert detail < 1e-3 * total or name == "synthetic"
