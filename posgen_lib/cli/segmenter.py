"""``posgen segmenter train | eval``: the segmenters that score mIoU (:mod:`posgen_lib.eval.segmenter_train`)."""
from __future__ import annotations

import sys
import time
from dataclasses import asdict
from pathlib import Path

from ..config import budget
from ..eval.segmenter_train import (EVAL_SCALES, SEGMENTER_DATASETS, score_on_ground_truth,
                                    segmenter_recipe, train_segmenter)
from ..eval.segmenter import load_segmenter, save_segmenter
from ..errors import UserError
from .args import in_range, non_negative_int, positive_int

HELD_OUT = {"synthetic": "synthetic test split", "camvid": "CamVid val photos"}


def add(sub) -> None:
    p = sub.add_parser("segmenter", help="train or check a segmenter that scores generated images (mIoU)",
                       description="The small segmenters that score generated images: synthetic streets, CamVid.")
    cmds = p.add_subparsers(dest="segmenter_command", required=True, metavar="ACTION",
                            parser_class=type(p))
    t = cmds.add_parser("train", help="train on ground-truth photos of the train split",
                        description="Train a segmenter and write float16 weights with a model card.")
    t.add_argument("--out", type=Path, required=True, help="weights file to write, e.g. outputs/segmenter.pt")
    t.add_argument("--steps", type=positive_int, help="training steps (default: the dataset's recipe)")
    t.add_argument("--crops", type=positive_int, help="pre-rendered crops (default: the dataset's recipe)")
    t.add_argument("--seed", type=non_negative_int, default=0, help="random seed (default 0)")
    t.add_argument("--count", type=in_range(2, 100_000, kind=int),
                   help="held-out photos for the model card's scores (default 100; CamVid: all of val)")
    _dataset_arguments(t)
    t.set_defaults(func=run_train)
    e = cmds.add_parser("eval", help="mIoU on held-out ground-truth photos at each scale")
    e.add_argument("weights", type=Path, nargs="?", help="weights file (default: the shipped one)")
    e.add_argument("--count", type=in_range(2, 100_000, kind=int), default=None,
                   help="held-out photos (default 100; CamVid: all of val)")
    _dataset_arguments(e)
    e.set_defaults(func=run_eval)


def _dataset_arguments(parser) -> None:
    parser.add_argument("--dataset", choices=SEGMENTER_DATASETS, default="synthetic",
                        help="synthetic (default; procedural streets) or camvid (real photos, needs --data)")
    parser.add_argument("--data", help="the CamVid folder (SegNet tutorial layout), e.g. ../shared/camvid")


def _data(args) -> str | None:
    if args.dataset == "camvid" and not args.data:
        raise UserError("--dataset camvid needs --data DIR, the CamVid folder (train/, trainannot/, val/, valannot/)")
    return args.data


def _count(args) -> int:
    return args.count or budget(100 if args.dataset == "synthetic" else 10_000, 2)


def run_train(args) -> int:
    from ..records import check_output

    check_output(args.out, "--out")  # before the training, not after it
    cfg = segmenter_recipe(args.dataset, _data(args), seed=args.seed)
    cfg.steps = args.steps or budget(cfg.steps, 4)
    cfg.crops = args.crops or budget(cfg.crops, 8)
    start = time.perf_counter()
    model = train_segmenter(cfg)
    seconds = time.perf_counter() - start
    scores, noise = _scores(model, args, _count(args))
    argv = " ".join(sys.argv[1:]) if Path(sys.argv[0]).name == "posgen" else f"segmenter train --out {args.out}"
    card = {"command": f"posgen {argv}", "train_config": asdict(cfg), "train_seconds": round(seconds, 1),
            "parameters": sum(p.numel() for p in model.parameters()),
            "held_out": HELD_OUT[args.dataset],
            "test_ground_truth": {str(k): v for k, v in scores.items()},
            "test_noise": {str(k): v for k, v in noise.items()}}
    save_segmenter(model, args.out, card)
    print(f"wrote {args.out} ({card['parameters']:,} parameters, trained in {seconds:.0f} s)")
    _print_scores(scores, noise, args.dataset)
    return 0


def run_eval(args) -> int:
    model = load_segmenter(args.weights, dataset=args.dataset)
    _print_scores(*_scores(model, args, _count(args)), args.dataset)
    return 0


def _scores(model, args, count: int) -> tuple[dict, dict]:
    kwargs = dict(scales=EVAL_SCALES[args.dataset], dataset=args.dataset, data=_data(args))
    return (score_on_ground_truth(model, count, **kwargs),
            score_on_ground_truth(model, count, noise=True, **kwargs))


def _print_scores(scores: dict, noise: dict, dataset: str) -> None:
    count = next(iter(scores.values()))["images"]
    print(f"{HELD_OUT[dataset]}, {count} per scale")
    print(f"{'scale':>6} {'mIoU GT':>8} {'acc GT':>7} {'mIoU noise':>11}")
    for scale, s in scores.items():
        print(f"{scale:>5g}x {100 * s['miou']:>8.1f} {100 * s['pixel_accuracy']:>7.1f} "
              f"{100 * noise[scale]['miou']:>11.1f}")
