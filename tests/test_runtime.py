"""Runtime options of training: the autocast dtype, the channels_last layout, compilation and its fallback."""
from __future__ import annotations

import warnings

import pytest
import torch

import posgen_lib as pg
from posgen_lib import runtime
from posgen_lib.train.loop import Trainer

CPU = torch.device("cpu")


@pytest.mark.parametrize("fast_bf16, expected", [(True, torch.bfloat16), (False, None)])
def test_auto_precision_on_cpu_follows_the_bf16_kernel_check(monkeypatch, fast_bf16, expected):
    monkeypatch.setattr(runtime, "cpu_has_fast_bf16", lambda: fast_bf16)
    assert runtime.autocast_dtype(CPU, "auto") is expected
    assert runtime.autocast_dtype(CPU, "bf16") is torch.bfloat16  # asked for explicitly: always
    assert runtime.autocast_dtype(CPU, "off") is None


def test_the_bf16_kernel_check_asks_onednn():
    assert runtime.cpu_has_fast_bf16() == bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


@pytest.mark.parametrize("bf16_supported, expected", [(True, torch.bfloat16), (False, torch.float16)])
def test_auto_precision_on_cuda_prefers_bf16_then_fp16(monkeypatch, bf16_supported, expected):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16_supported)
    assert runtime.autocast_dtype(torch.device("cuda"), "auto") is expected


def test_bad_precision_requests_name_the_fix():
    with pytest.raises(ValueError, match="fp16.*needs a CUDA device"):
        runtime.autocast_dtype(CPU, "fp16")
    with pytest.raises(ValueError, match="choose auto, off, bf16 or fp16"):
        runtime.autocast_dtype(CPU, "half")


def tiny_cfg(**train):
    cfg = pg.preset("tiny")
    cfg.train.amp = "off"
    for key, value in train.items():
        setattr(cfg.train, key, value)
    return cfg


def test_channels_last_generator_and_discriminator_match_contiguous():
    cfg = tiny_cfg()
    torch.manual_seed(0)
    G, D = pg.build_generator(cfg.model).eval(), pg.models.MultiscaleDiscriminator(cfg.model).eval()
    sem = torch.nn.functional.one_hot(torch.randint(0, cfg.model.label_nc, (2,) + cfg.model.image_size),
                                      cfg.model.semantic_nc).permute(0, 3, 1, 2).float()  # (2, C, H, W)
    with torch.no_grad():
        image, scores = G(sem), D(torch.cat([sem, G(sem)], 1))
        G_nhwc, D_nhwc = G.to(memory_format=torch.channels_last), D.to(memory_format=torch.channels_last)
        sem_nhwc = sem.contiguous(memory_format=torch.channels_last)
        image_nhwc = G_nhwc(sem_nhwc)
        scores_nhwc = D_nhwc(torch.cat([sem_nhwc, image_nhwc], 1))
    torch.testing.assert_close(image_nhwc, image, atol=1e-5, rtol=1e-4)
    for per_scale, per_scale_nhwc in zip(scores, scores_nhwc):
        torch.testing.assert_close(per_scale_nhwc[-1], per_scale[-1], atol=1e-4, rtol=1e-4)


def test_channels_last_training_steps_match_contiguous(tmp_path):
    losses = {}
    for layout in (True, False):
        trainer = Trainer(tiny_cfg(steps=2, channels_last=layout), tmp_path / str(layout), progress=False)
        result = trainer.fit()
        losses[layout] = [row[k] for row in result.log for k in ("G_GAN", "G_feat", "D_fake", "D_real")]
        conv = trainer.G.conv_img.weight if hasattr(trainer.G, "conv_img") else next(
            p for p in trainer.G.parameters() if p.dim() == 4)  # (out, in, kh, kw)
        assert conv.is_contiguous(memory_format=torch.channels_last) is layout
    assert losses[True] == pytest.approx(losses[False], rel=1e-3)


def test_compile_falls_back_to_eager_without_a_compiler(monkeypatch):
    monkeypatch.setattr(runtime.shutil, "which", lambda name: None)
    monkeypatch.delenv("CXX", raising=False)
    module = torch.nn.Linear(2, 2)
    assert "no C++ compiler" in runtime.compiler_available(CPU)
    with pytest.warns(UserWarning, match="compile: no C\\+\\+ compiler .* running eagerly"):
        assert runtime.compile_module(module, CPU) is module


def test_compile_is_used_when_a_compiler_exists(monkeypatch):
    compiled = []
    monkeypatch.setattr(runtime.shutil, "which", lambda name: "/usr/bin/g++")
    monkeypatch.setattr(torch, "compile", lambda module: compiled.append(module) or module)
    monkeypatch.setattr(torch._dynamo.config, "suppress_errors", False)
    module = torch.nn.Linear(2, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback warning
        runtime.compile_module(module, CPU)
    assert compiled == [module] and torch._dynamo.config.suppress_errors  # later failures fall back too


@pytest.mark.parametrize("mode, compiled_count", [("off", 0), ("generator", 1), ("all", 2)])
def test_trainer_compiles_what_the_config_asks(monkeypatch, tmp_path, mode, compiled_count):
    compiled = []
    monkeypatch.setattr("posgen_lib.train.loop.compile_module", lambda m, device: compiled.append(m) or m)
    Trainer(tiny_cfg(steps=1, compile=mode), tmp_path, progress=False).fit()
    assert len(compiled) == compiled_count
