"""Parity with the official SPADE code, as a table (notebook 02).

The reference tensors in ``tests/golden/spade/`` were produced by running the
official NVlabs/SPADE implementation on CPU (see the README there). Their
small configuration -- 12 labels + an instance-edge channel, ngf 1, SPADE
hidden width 128, parameter-free BatchNorm, spectral norm, 64x128 output,
batch 2 -- exercises every code path of the generator: identity shortcuts in
``head_0``/``G_middle_*``, learned shortcuts in ``up_*``, eval mode (running
BatchNorm statistics) and train mode (batch statistics, one power iteration).

:func:`golden_check` loads the official state dict into this package's modules
with :func:`posgen_lib.models.compat.load_official_spade`, re-runs each stored case
and returns one :class:`ParityRow` per tensor: its shape, the largest absolute
difference from the official output, and the tolerance it must meet.
"""
from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from ...models.compat import load_official_spade
from ...config import ModelConfig
from ...data.transforms import instance_edges
from ...models.generator import SPADEGenerator

OUTPUT_ATOL = 1e-5  # tanh outputs
ACTIVATION_RTOL, ACTIVATION_ATOL = 1e-4, 1e-5  # intermediate activations: |d| <= atol + rtol |ref|


def default_golden_dir() -> Path:
    """``$POSGEN_GOLDEN_DIR``, else ``tests/golden/spade`` of the source checkout."""
    env = os.environ.get("POSGEN_GOLDEN_DIR")
    path = Path(env) if env else Path(__file__).resolve().parents[3] / "tests" / "golden" / "spade"
    if not (path / "inputs.pt").is_file():
        raise FileNotFoundError(f"SPADE reference tensors not found in {path}: run from a source "
                                "checkout or set POSGEN_GOLDEN_DIR to a copy of tests/golden/spade")
    return path


def golden_config() -> ModelConfig:
    """The small configuration the reference tensors were produced with."""
    return ModelConfig(label_nc=12, contain_dontcare_label=False, use_instance=True,
                       image_size=(64, 128), num_upsampling_layers="normal", ngf=1, spade_hidden=128,
                       spade_norm="batch", ndf=8, num_D=2, n_layers_D=4)


@dataclass
class ParityRow:
    name: str
    shape: tuple[int, ...]
    max_abs_diff: float
    rtol: float
    atol: float
    ok: bool  # every element within atol + rtol * |official| (torch.testing.assert_close's rule)


def _row(name: str, ours: torch.Tensor, ref: torch.Tensor, rtol: float, atol: float) -> ParityRow:
    ours, ref = ours.float(), ref.float()
    if ours.shape != ref.shape:
        raise ValueError(f"{name}: shape {tuple(ours.shape)} differs from the reference {tuple(ref.shape)}")
    diff = (ours - ref).abs()  # same shape
    ok = bool((diff <= atol + rtol * ref.abs()).all())
    return ParityRow(name, tuple(ref.shape), diff.max().item(), rtol, atol, ok)


def _run(module: torch.nn.Module, mode: str, *args) -> torch.Tensor:
    """A fresh copy in ``mode`` (train updates buffers), called without gradients."""
    module = copy.deepcopy(module).train(mode == "train")
    with torch.no_grad():
        return module(*args)


def golden_check(golden_dir: str | Path | None = None) -> list[ParityRow]:
    """Re-run the stored official cases with this package; one row per compared tensor."""
    folder = Path(golden_dir) if golden_dir is not None else default_golden_dir()

    def load(name: str) -> dict:
        return torch.load(folder / name, weights_only=True)

    inputs, gen, blocks, edges = (load(f) for f in ("inputs.pt", "generator_small.pt",
                                                   "blocks_small.pt", "get_edges.pt"))
    act = dict(rtol=ACTIVATION_RTOL, atol=ACTIVATION_ATOL)
    rows = [_row("instance edges (get_edges)", instance_edges(edges["instance"]), edges["edges"], 0, 0)]
    G = load_official_spade(SPADEGenerator(golden_config()), gen["state_dict"])
    seg = inputs["semantics"].float()  # (2, 13, 64, 128)
    for mode in ("eval", "train"):
        x = blocks["head_0_in"].float()  # (2, 16, 2, 4)
        rows.append(_row(f"SPADE layer head_0.norm_0 [{mode}]", _run(G.head_0.norm_0, mode, x, seg),
                         blocks[f"head_0.norm_0_out_{mode}"], **act))
        for name in ("head_0", "up_0"):
            rows.append(_row(f"res block {name} [{mode}]", _run(getattr(G, name), mode,
                                                               blocks[f"{name}_in"].float(), seg),
                             blocks[f"{name}_out_{mode}"], **act))
        trunk = _run(G, mode, seg)  # (2, 3, 64, 128)
        rows.append(_row(f"generator output [{mode}]", trunk, gen[f"out_{mode}"], 0, OUTPUT_ATOL))
    # PosGen's head reads lrelu(up_3 output): what the official final conv reads.
    official_feature = F.leaky_relu(gen["acts_eval"]["up_3"].float(), 0.2)  # (2, 1, 64, 128)
    with torch.no_grad():
        rows.append(_row("trunk feature f (PixelHead input) [eval]", G.eval().features(seg),
                         official_feature, **act))
    return rows


def parity_table(rows: list[ParityRow]) -> str:
    """Plain-text table: name, shape, max |ours - official|, tolerance, ok/FAIL."""
    lines = [f"{'compared tensor':42s} {'shape':16s} {'max |diff|':>10s}  tolerance"]
    for r in rows:
        tol = f"{r.atol:.0e}" + (f" + {r.rtol:.0e}|ref|" if r.rtol else "")
        lines.append(f"{r.name:42s} {str(list(r.shape)):16s} {r.max_abs_diff:10.1e}  {tol:17s} "
                     f"{'ok' if r.ok else 'FAIL'}")
    return "\n".join(lines)
