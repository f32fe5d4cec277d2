"""What a training step costs, counted rather than timed: FLOPs and tensor memory.

Used to estimate GPU time per epoch and memory per GPU for the full-size
presets when no GPU is at hand (docs/training.md):

* FLOPs come from ``torch.utils.flop_counter.FlopCounterMode`` (convolutions,
  matmuls and their backward passes; elementwise work is not counted, so the
  figure is a lower bound of the work).
* Memory is the peak of live tensor storage during one step at batch 1
  (:class:`posgen_lib.perf.memory.PeakTensorMemory`), split into what is fixed
  (weights, gradients, Adam state) and what scales with the batch (activations).

``posgen bench --costs cityscapes coco_stuff`` prints both for each preset.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.utils.flop_counter import FlopCounterMode

from ..config import preset
from ..data.transforms import to_semantics
from ..models.registry import build_generator
from ..train.objectives import build_objective
from .memory import PeakTensorMemory


@dataclass
class StepCost:
    preset: str
    generator: str
    flops_per_image: float  # counted FLOPs of one G step + one D step, per image
    fixed_bytes: int  # weights + gradients + Adam moments of G and D
    activation_bytes_per_image: int  # peak live tensors of a step at batch 1, minus the fixed part

    def memory_gib(self, batch_per_gpu: int) -> float:
        return (self.fixed_bytes + batch_per_gpu * self.activation_bytes_per_image) / 2**30


def training_step_cost(preset_name: str, generator: str = "posgen") -> StepCost:
    """Count one training step at batch 1 on CPU (slow for the full presets: about a minute)."""
    cfg = preset(preset_name)
    torch.manual_seed(0)
    cfg.model.generator = generator
    G = build_generator(cfg.model)
    objective = build_objective(cfg)  # the generator kind's (SPADE's for spade and posgen)
    D = objective.discriminator()
    params = sum(p.numel() for p in G.parameters()) + sum(p.numel() for p in D.parameters())
    fixed = 4 * params * 4  # float32 weights, gradients, Adam exp_avg and exp_avg_sq
    h, w = cfg.model.image_size
    label = torch.randint(0, cfg.model.label_nc, (2, h, w))
    sem = to_semantics(label, None, cfg.data.label_set, cfg.model.use_instance)[:1]
    real = torch.rand(1, 3, h, w) * 2 - 1
    with FlopCounterMode(display=False) as flops, PeakTensorMemory() as mem:
        g_losses, fake = objective.generator_losses(G, D, sem, real)
        sum(g_losses.values()).backward()
        sum(objective.discriminator_losses(D, sem, real, fake).values()).backward()
    activations = max(0, mem.peak_bytes - 4 * params)  # the gradients were allocated inside the block
    return StepCost(preset_name, generator, float(flops.get_total_flops()), fixed, activations)


def print_costs(presets: list[str]) -> None:
    """One line per preset and generator: FLOPs per image, fixed memory, activation memory per image."""
    for name in presets:
        for generator in ("spade", "posgen"):
            cost = training_step_cost(name, generator)
            print(f"{name:11s} {generator:7s} {cost.flops_per_image / 1e12:6.2f} TFLOP/image  "
                  f"fixed {cost.fixed_bytes / 2**30:5.2f} GiB  "
                  f"activations {cost.activation_bytes_per_image / 2**30:5.2f} GiB/image", flush=True)
