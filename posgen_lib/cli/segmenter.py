"""``posgen segmenter train | eval``: the synthetic-streets segmenter that scores mIoU (:mod:`posgen_lib.eval.segmenter_train`)."""
from __future__ import annotations

import sys
import time
from dataclasses import asdict
from pathlib import Path

from ..config import budget
from ..eval.segmenter_train import SegmenterTrainConfig, score_on_ground_truth, train_segmenter
from ..eval.segmenter import load_segmenter, save_segmenter
from .args import in_range, non_negative_int, positive_int


def add(sub) -> None:
    p = sub.add_parser("segmenter", help="train or check the synthetic-streets segmenter (for mIoU)",
                       description="The small segmenter that scores generated synthetic street scenes.")
    cmds = p.add_subparsers(dest="segmenter_command", required=True, metavar="ACTION",
                            parser_class=type(p))
    t = cmds.add_parser("train", help="train on ground-truth photos of the train split",
                        description="Train the segmenter and write float16 weights with a model card.")
    t.add_argument("--out", type=Path, required=True,
                   help="weights file, e.g. posgen_lib/assets/segmenter_synthetic.pt")
    t.add_argument("--steps", type=positive_int, help=f"training steps (default {SegmenterTrainConfig.steps})")
    t.add_argument("--crops", type=positive_int, help=f"pre-rendered crops (default {SegmenterTrainConfig.crops})")
    t.add_argument("--seed", type=non_negative_int, default=0, help="random seed (default 0)")
    t.add_argument("--count", type=in_range(2, 100_000, kind=int), help="test scenes for the model card's scores (default 100)")
    t.set_defaults(func=run_train)
    e = cmds.add_parser("eval", help="mIoU on ground-truth test photos at 1x, 2x, 3.3x, 4x")
    e.add_argument("weights", type=Path, nargs="?", help="weights file (default: the shipped one)")
    e.add_argument("--count", type=in_range(2, 100_000, kind=int), default=100, help="test scenes (default 100)")
    e.set_defaults(func=run_eval)


def run_train(args) -> int:
    cfg = SegmenterTrainConfig(seed=args.seed)
    cfg.steps = args.steps or budget(cfg.steps, 4)
    cfg.crops = args.crops or budget(cfg.crops, 8)
    start = time.perf_counter()
    model = train_segmenter(cfg)
    seconds = time.perf_counter() - start
    count = args.count or budget(100, 2)
    scores = score_on_ground_truth(model, count)
    noise = score_on_ground_truth(model, count, noise=True)
    argv = " ".join(sys.argv[1:]) if Path(sys.argv[0]).name == "posgen" else f"segmenter train --out {args.out}"
    card = {"command": f"posgen {argv}", "train_config": asdict(cfg), "train_seconds": round(seconds, 1),
            "parameters": sum(p.numel() for p in model.parameters()),
            "test_ground_truth": {str(k): v for k, v in scores.items()},
            "test_noise": {str(k): v for k, v in noise.items()}}
    save_segmenter(model, args.out, card)
    print(f"wrote {args.out} ({card['parameters']:,} parameters, trained in {seconds:.0f} s)")
    _print_scores(scores, noise)
    return 0


def run_eval(args) -> int:
    model = load_segmenter(args.weights)
    _print_scores(score_on_ground_truth(model, args.count),
                  score_on_ground_truth(model, args.count, noise=True))
    return 0


def _print_scores(scores: dict, noise: dict) -> None:
    count = next(iter(scores.values()))["images"]
    print(f"synthetic test split, {count} scenes per scale")
    print(f"{'scale':>6} {'mIoU GT':>8} {'acc GT':>7} {'mIoU noise':>11}")
    for scale, s in scores.items():
        print(f"{scale:>5g}x {100 * s['miou']:>8.1f} {100 * s['pixel_accuracy']:>7.1f} "
              f"{100 * noise[scale]['miou']:>11.1f}")
