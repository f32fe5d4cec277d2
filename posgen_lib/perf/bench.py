"""``posgen bench``: speed and memory of PosGen measured side by side, as ratios.

Absolute timings depend on the machine and on whatever else it is doing; a
ratio of two things measured in the same run, interleaved, is much more
stable. Every row therefore times PosGen and its reference alternately
(A, B, A, B ...) and reports the median of each plus their ratio:

=======================  =================================================  ==========
row                      ratio                                              target
=======================  =================================================  ==========
train throughput         PosGen images/s, chosen settings / float32 eager   >= 1.7
train step               PosGen step / SPADE step, same trunk, chosen        <= 1.05
train step vs SPADE      PosGen step / SPADE as published (its own trunk)    -
threads                  one thread / all threads, chosen settings           -
compile                  eager / torch.compile, and steps to pay it back     within the demo
demo pace                demo steps per minute / pace its budget needs       >= 1
render 2x, 4x            SPADE on upsampled labels / PosGen (trunk at 1x)    >= 4 at 4x
render 4x, any-res       SPADE on the 4x labels / any-resolution PosGen      >= 4
  (Cityscapes widths)    the same with the Cityscapes model's layers         >= 4
render memory            chunked working memory at 8x / at 1x                <= 1.5
head efficiency          head GFLOPS / GFLOPS of its own matmuls alone       >= 0.5
data rate                synthetic scenes generated per s / consumed per s   >= 5
=======================  =================================================  ==========

The training rows time the trainer's own step (:meth:`posgen_lib.train.loop.Trainer.train_step`:
autocast, memory layout, optimizers) under the settings the config names, so
they measure exactly what ``posgen train`` and ``posgen demo`` run.

Working memory is measured with :class:`posgen_lib.perf.memory.PeakTensorMemory`
(live tensor bytes, output buffer excluded), so it is exact rather than timed.
"""
from __future__ import annotations

import copy
import platform
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import default_collate

from ..config import DEMO_TRAIN_MINUTES, Config, ModelConfig, budget, preset
from ..data.synthetic import SyntheticStreets
from ..data.transforms import to_semantics
from ..grid import coordinate_grid
from ..train.loop import Trainer
from ..models.registry import build_generator
from ..runtime import autocast_dtype, compile_module
from .memory import PeakTensorMemory
from ..rendering import DEFAULT_CHUNK_PIXELS, render, upscale


@dataclass
class Row:
    name: str
    posgen: str  # PosGen's absolute figure
    reference: str  # the reference's absolute figure
    ratio: float
    target: str
    met: bool


def interleaved(fn_a, fn_b, repeats: int, warmup: int = 1) -> tuple[float, float]:
    """Median seconds of ``fn_a`` and ``fn_b``, timed alternately."""
    for _ in range(warmup):
        fn_a(), fn_b()
    times_a, times_b = [], []
    for _ in range(repeats):
        for fn, times in ((fn_a, times_a), (fn_b, times_b)):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    return statistics.median(times_a), statistics.median(times_b)


def _synthetic_batch(cfg, batch: int, split: str = "test") -> tuple[dict, torch.Tensor]:
    ds = SyntheticStreets(size=cfg.model.image_size, length=batch, seed=0, split=split)
    items = [ds[i] for i in range(batch)]
    stacked = {k: torch.stack([it[k] for it in items]) for k in ("label", "instance", "image")}
    return stacked, to_semantics(stacked["label"], stacked["instance"], cfg.data.label_set)


def trainer_step(cfg: Config, model: ModelConfig, amp: str, channels_last: bool, compile: str = "off"):
    """A zero-argument function running one training step of the run ``cfg`` with generator ``model`` and
    these settings (``compile``: off, generator or all, as in :attr:`TrainConfig.compile`)."""
    cfg = copy.deepcopy(cfg)
    cfg.model, cfg.train.amp, cfg.train.channels_last = model, amp, channels_last
    return config_step(cfg, compile)


def config_step(cfg: Config, compile: str = "off"):
    """A zero-argument function running one training step of the run ``cfg`` on a fixed batch of its data."""
    torch.manual_seed(0)
    trainer = Trainer(cfg, "unused", device="cpu", progress=False)  # nothing is written before fit()
    items = [trainer.dataset[i] for i in range(cfg.train.batch_size)]
    batch = default_collate(items)
    G = compile_module(trainer.G, trainer.device) if compile in ("generator", "all") else trainer.G
    D = compile_module(trainer.D, trainer.device) if compile == "all" else trainer.D
    return lambda: trainer.train_step(batch, G, D, trainer.E)


def bench_train_steps(cfg: Config, repeats: int) -> tuple[list[Row], float]:
    """Throughput with the chosen settings vs float32 eager, PosGen vs SPADE with the chosen settings,
    and the demo's pace; also returns the chosen settings' seconds per step."""
    chosen = dict(amp=cfg.train.amp, channels_last=cfg.train.channels_last)
    fast = trainer_step(cfg, cfg.model, **chosen)
    plain = trainer_step(cfg, cfg.model, amp="off", channels_last=False)
    t_fast, t_plain = interleaved(fast, plain, repeats)
    twin = trainer_step(cfg, cfg.model.with_generator("spade"), **chosen)  # PosGen's trunk, SPADE's final conv
    t_pos, t_twin = interleaved(fast, twin, repeats)
    spade = trainer_step(cfg, cfg.model.spade_baseline(), **chosen)
    t_pos_again, t_spade = interleaved(fast, spade, repeats)
    batch = cfg.train.batch_size
    settings = f"amp {chosen['amp']}, {'channels_last' if chosen['channels_last'] else 'contiguous'}"
    pace = 60 / t_fast
    needed = cfg.train.steps / DEMO_TRAIN_MINUTES
    rows = [Row(f"train throughput ({settings} vs float32 eager)", f"{batch / t_fast:.1f} img/s",
                f"{batch / t_plain:.1f} img/s", t_plain / t_fast, ">= 1.7", t_plain / t_fast >= 1.7),
            Row(f"train step PosGen/SPADE, same trunk ({cfg.model.modulation}; batch {batch}, {settings})",
                f"{t_pos * 1e3:.0f} ms", f"{t_twin * 1e3:.0f} ms", t_pos / t_twin, "<= 1.05", t_pos / t_twin <= 1.05),
            Row(f"train step PosGen ({cfg.model.modulation} trunk)/SPADE as published", f"{t_pos_again * 1e3:.0f} ms",
                f"{t_spade * 1e3:.0f} ms", t_pos_again / t_spade, "-", True),
            Row(f"demo pace ({cfg.train.steps} steps in {DEMO_TRAIN_MINUTES} min of training)",
                f"{pace:.0f} steps/min", f"{needed:.0f} steps/min needed", pace / needed, ">= 1", pace >= needed)]
    return rows, t_fast


def with_threads(fn, threads: int):
    """``fn`` run with ``threads`` torch threads (the setting is restored afterwards)."""
    def run():
        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            fn()
        finally:
            torch.set_num_threads(before)
    return run


def bench_threads(cfg: Config, repeats: int) -> Row:
    """The chosen settings with all of the machine's torch threads vs one thread."""
    chosen = dict(amp=cfg.train.amp, channels_last=cfg.train.channels_last)
    threads = torch.get_num_threads()
    t_all, t_one = interleaved(trainer_step(cfg, cfg.model, **chosen),
                               with_threads(trainer_step(cfg, cfg.model, **chosen), 1), repeats)
    return Row(f"train step, {threads} threads vs 1", f"{t_all * 1e3:.0f} ms", f"{t_one * 1e3:.0f} ms",
               t_one / t_all, "-", True)


def bench_compile(cfg: Config, repeats: int, mode: str) -> Row:
    """torch.compile (``mode``: generator or all) vs eager, both with the chosen settings: the first
    compiled step's extra time, the speed-up after it, and whether it pays back within the demo."""
    chosen = dict(amp=cfg.train.amp, channels_last=cfg.train.channels_last)
    eager, compiled = trainer_step(cfg, cfg.model, **chosen), trainer_step(cfg, cfg.model, **chosen, compile=mode)
    start = time.perf_counter()
    compiled()  # compiles
    first = time.perf_counter() - start
    t_eager, t_compiled = interleaved(eager, compiled, repeats)
    overhead, saved = first - t_compiled, t_eager - t_compiled
    pays_after = overhead / saved if saved > 0 else float("inf")
    return Row(f"compile {mode} (first step {first:.0f} s; pays back after "
               f"{'never' if pays_after == float('inf') else f'{pays_after:,.0f} steps'})",
               f"{t_compiled * 1e3:.0f} ms", f"{t_eager * 1e3:.0f} ms eager", t_eager / t_compiled,
               f"pays within {cfg.train.steps} steps", pays_after <= cfg.train.steps)


@torch.no_grad()
def bench_render(cfg, scales, repeats: int) -> list[Row]:
    """PosGen coordinate upscaling vs the SPADE trunk run on nearest-upsampled labels."""
    _, sem = _synthetic_batch(cfg, 1)
    torch.manual_seed(0)
    posgen = build_generator(cfg.model.with_generator("posgen")).eval()
    spade = build_generator(cfg.model.spade_baseline()).eval()
    rows = []
    for scale in scales:
        t_pos, t_spade = interleaved(lambda: render(posgen, sem, scale=scale),
                                      lambda: upscale(spade, sem, scale=scale, method="trunk_nearest"), repeats)
        ratio = t_spade / t_pos
        target = ">= 4" if scale == 4 else "-"
        rows.append(Row(f"render {scale}x ({sem.shape[-2] * scale}x{sem.shape[-1] * scale})",
                        f"{t_pos * 1e3:.0f} ms", f"{t_spade * 1e3:.0f} ms", ratio, target,
                        ratio >= 4 if scale == 4 else True))
    return rows + [bench_render_anyres(cfg, "render 4x, any-resolution (labels at 4x)", repeats)]


@torch.no_grad()
def bench_render_anyres(cfg, name: str, repeats: int) -> Row:
    """Any-resolution PosGen given a 4x label map vs the SPADE trunk run on the same labels (both untrained)."""
    _, sem = _synthetic_batch(cfg, 1)  # (1, C, H, W) at the config's image size
    torch.manual_seed(0)
    anyres = build_generator(cfg.model.with_generator("anyres")).eval()
    spade = build_generator(cfg.model.spade_baseline()).eval()
    hr = F.interpolate(sem, scale_factor=4, mode="nearest")  # (1, C, 4H, 4W): stands in for a label map at 4x
    t_any, t_spade = interleaved(lambda: render(anyres, sem, scale=4, labels=hr),
                                  lambda: upscale(spade, sem, scale=4, method="trunk_hr", labels=hr), repeats)
    return Row(name, f"{t_any * 1e3:.0f} ms", f"{t_spade * 1e3:.0f} ms", t_spade / t_any, ">= 4", t_spade / t_any >= 4)


def cityscapes_widths(label_size: tuple[int, int]) -> Config:
    """The Cityscapes configuration (ngf 64, six upsamplings, the 256-wide head) on smaller label maps: every
    layer as the full model has it, for timing renders whose cost grows with the output's pixels on both sides."""
    cfg = preset("cityscapes")
    cfg.model.image_size = label_size
    cfg.data.label_set = "synthetic"  # the procedural scenes' 35 Cityscapes ids
    return cfg


@torch.no_grad()
def render_working_memory(G, sem, scale: float) -> int:
    """Peak live tensor bytes of a chunked render at ``scale``, output buffer excluded."""
    with PeakTensorMemory() as mem:
        out = render(G, sem, scale=scale)
    return mem.peak_bytes - out.numel() * out.element_size()


def bench_render_memory(cfg, scales=(1, 4, 8, 16)) -> list[Row]:
    _, sem = _synthetic_batch(cfg, 1)
    torch.manual_seed(0)
    G = build_generator(cfg.model.with_generator("posgen")).eval()
    base = render_working_memory(G, sem, 1)
    rows = []
    for scale in scales:
        used = render_working_memory(G, sem, scale)
        ratio = used / base
        rows.append(Row(f"render memory {scale}x", f"{used / 2**20:.1f} MiB",
                        f"{base / 2**20:.1f} MiB at 1x", ratio,
                        "<= 1.5" if scale == 8 else "-", ratio <= 1.5 if scale == 8 else True))
    return rows


def head_flops_per_pixel(head) -> int:
    """Multiply-adds x 2 of the head's Linear layers for one pixel (elementwise ops not counted)."""
    return 2 * sum(m.in_features * m.out_features for m in head.modules() if isinstance(m, torch.nn.Linear))


@torch.no_grad()
def bench_head(cfg, size: tuple[int, int], repeats: int) -> list[Row]:
    """The head's achieved GFLOPS over a ``size`` image, banded as in :func:`render`, vs its
    own Linear matmuls alone (same shapes, same bands), and vs one large square matmul."""
    torch.manual_seed(0)
    head = build_generator(cfg.model.with_generator("posgen")).eval().pixel_head
    feat = torch.randn(1, cfg.model.trunk_channels, *size)  # (1, C, H, W)
    coords = coordinate_grid(size)  # (2, H, W)
    rows_per_band = max(1, DEFAULT_CHUNK_PIXELS // size[1])
    bands = [slice(top, min(top + rows_per_band, size[0])) for top in range(0, size[0], rows_per_band)]
    linears = [m for m in head.modules() if isinstance(m, torch.nn.Linear)]
    band_inputs = [torch.randn(rows_per_band * size[1], m.in_features) for m in linears]

    def head_banded():
        for rows in bands:
            head(feat[:, :, rows], coords[:, rows])

    def matmuls_banded():
        for _ in bands:
            for x, m in zip(band_inputs, linears):
                torch.mm(x, m.weight.T)

    t_head, t_mm = interleaved(head_banded, matmuls_banded, repeats)
    flops = head_flops_per_pixel(head) * size[0] * size[1]
    gflops_head, gflops_mm = flops / t_head / 1e9, flops / t_mm / 1e9
    square = torch.randn(2048, 2048)
    t_square, _ = interleaved(lambda: square @ square, lambda: None, repeats)
    gflops_peak = 2 * 2048**3 / t_square / 1e9
    ratio = gflops_head / gflops_mm
    return [Row(f"head GFLOPS ({size[0]}x{size[1]} px)", f"{gflops_head:.1f} GFLOPS",
                f"{gflops_mm:.1f} GFLOPS, same matmuls alone", ratio, ">= 0.5", ratio >= 0.5),
            Row("head vs 2048^3 matmul", f"{gflops_head:.1f} GFLOPS", f"{gflops_peak:.1f} GFLOPS",
                gflops_head / gflops_peak, "-", True)]


def bench_data_rate(cfg, step_seconds: float, items: int) -> Row:
    ds = SyntheticStreets(size=cfg.model.image_size, length=items, seed=0)
    start = time.perf_counter()
    for i in range(items):
        ds[i]
    generated = items / (time.perf_counter() - start)
    consumed = cfg.train.batch_size / step_seconds
    ratio = generated / consumed
    return Row("synthetic data rate", f"{generated:.0f} scenes/s", f"{consumed:.1f} scenes/s trained",
               ratio, ">= 5", ratio >= 5)


def machine_description() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    bf16 = "on" if autocast_dtype(torch.device("cpu")) is not None else "off (no native bfloat16 on this CPU)"
    return (f"{cpu}, {torch.get_num_threads()} torch threads, CPU bfloat16 autocast {bf16}, torch "
            f"{torch.__version__}, Python {platform.python_version()}, {platform.system()}")


def format_table(rows: list[Row]) -> str:
    lines = ["| measurement | PosGen | reference | ratio | target | met |",
             "| --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append(f"| {r.name} | {r.posgen} | {r.reference} | {r.ratio:.2f} | {r.target} | "
                     f"{'yes' if r.met else 'NO'} |")
    return "\n".join(lines)


def run_bench(preset_name: str = "synthetic", repeats: int | None = None, compile_rows: bool = True) -> list[Row]:
    """Every row of the table; ``compile_rows=False`` skips the two torch.compile rows (minutes of compiling)."""
    cfg = preset(preset_name)
    repeats = repeats or budget(5, 1)
    rows, step_seconds = bench_train_steps(cfg, repeats)
    rows.append(bench_threads(cfg, repeats))
    if compile_rows:
        rows += [bench_compile(cfg, repeats, mode) for mode in ("generator", "all")]
    rows += bench_render(cfg, (2, 4), repeats)
    label_size = budget((64, 128), (16, 32))
    rows.append(bench_render_anyres(cityscapes_widths(label_size), "render 4x, any-resolution, Cityscapes widths "
                                    f"({label_size[0]}x{label_size[1]} labels)", max(1, repeats // 2)))
    rows += bench_render_memory(cfg)
    rows += bench_head(cfg, budget((256, 512), (32, 64)), repeats)
    rows.append(bench_data_rate(cfg, step_seconds, budget(200, 4)))
    return rows


BEGIN, END = "<!-- posgen bench: begin -->", "<!-- posgen bench: end -->"
