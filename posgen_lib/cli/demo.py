"""``posgen demo`` (``make demo``): train a small PosGen on the synthetic streets and show what it does."""
from __future__ import annotations

from pathlib import Path

from .args import positive_int


def add(sub) -> None:
    p = sub.add_parser("demo", help="train PosGen on the synthetic streets on CPU (the README's first command)",
                       description="Train a small PosGen on procedural street scenes and write a sample "
                                   "grid, 1x/2x/4x renders, a loss curve and metrics to --out. Each demo starts "
                                   "afresh: it deletes a previous demo's run in --out/train, and refuses to "
                                   "touch anything else there.")
    p.add_argument("--out", type=Path, default=Path("outputs/demo"), help="output folder (default outputs/demo)")
    p.add_argument("--steps", type=positive_int, help="training steps (default: the demo recipe's)")
    p.add_argument("--device", help="cpu or cuda (default: POSGEN_DEVICE, else CUDA if present)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..eval.demo import run_demo

    run_demo(args.out, steps=args.steps, device=args.device)
    return 0
