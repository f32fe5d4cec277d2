"""The ``posgen`` command line.

    posgen demo                               train PosGen on synthetic streets (CPU) -> outputs/demo/
    posgen train --preset synthetic --out runs/x   train with SPADE's recipe (torchrun for many GPUs)
    posgen render MODEL LABEL.png --scale 4 --out out.png   any-resolution rendering
    posgen data check DIR --dataset cityscapes     validate a dataset folder
    posgen data prepare cityscapes --src DIR --out DIR   build the layout from downloaded archives

Every user error is printed as one line (``posgen: error: ...``), exit status 2.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


class UserError(Exception):
    """A problem with the user's input: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line (``posgen train: error: ...``) instead of usage + error."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def _size(text: str) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected HxW like 256x512, got {text!r}") from None
    if h <= 0 or w <= 0:
        raise argparse.ArgumentTypeError(f"size must be positive, got {text!r}")
    return h, w


def _window(text: str) -> tuple[float, float, float, float]:
    try:
        x0, y0, x1, y1 = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected x0,y0,x1,y1 like -1,-1,0,0, got {text!r}") from None
    return x0, y0, x1, y1


# ----- train -----------------------------------------------------------------
def add_train(sub) -> None:
    from .config import GENERATORS, PRESETS

    p = sub.add_parser(
        "train", help="train PosGen or the SPADE baseline",
        description="Train with SPADE's recipe (hinge loss, feature matching, TTUR Adam, spectral "
                    "norm). For several GPUs: torchrun --nproc-per-node N -m posgen_lib.cli train ...")
    p.add_argument("--preset", required=True, choices=list(PRESETS),
                   help="model/data/recipe settings: synthetic (CPU course), cityscapes, coco_stuff, tiny")
    p.add_argument("--out", required=True, type=Path, help="folder for checkpoints, logs and samples")
    p.add_argument("--data", type=Path, help="dataset folder (required for cityscapes / coco_stuff "
                   "unless POSGEN_DATA_DIR/<dataset> exists)")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--steps", type=_non_negative_int, help="number of training steps")
    budget.add_argument("--epochs", type=_positive_int, help="number of epochs (default: the preset's)")
    p.add_argument("--batch", type=_positive_int, help="global batch size (split across processes)")
    p.add_argument("--generator", choices=list(GENERATORS),
                   help="posgen (default), the spade baseline, or the fully pixel-wise generator")
    p.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: POSGEN_DEVICE, else CUDA if present)")
    p.add_argument("--resume", nargs="?", const=True, default=False, metavar="CKPT",
                   help="continue from the newest checkpoint in --out (or from CKPT)")
    p.add_argument("--lr", type=_positive_float, help="base learning rate (TTUR: G lr/2, D lr*2)")
    p.add_argument("--amp", choices=["auto", "off", "bf16", "fp16"], help="mixed precision")
    p.add_argument("--ema", type=float, metavar="DECAY", help="keep an EMA of G's weights, e.g. 0.999")
    p.add_argument("--l1", type=float, metavar="LAMBDA", help="weight of an L1 loss to the real photo")
    p.add_argument("--vgg-weights", type=Path, help="local VGG19 weights file enabling the VGG loss")
    p.add_argument("--seed", type=int, help="random seed")
    p.add_argument("--workers", type=_non_negative_int, help="data loader worker processes")
    p.add_argument("--keep", type=_positive_int, help="how many checkpoints to keep")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train)


def config_from_args(args):
    from .config import preset

    cfg = preset(args.preset)
    t, d = cfg.train, cfg.data
    if args.steps is not None:
        t.steps = args.steps
    if args.epochs is not None:
        t.epochs, t.steps = args.epochs, None
    for attr, value in (("batch_size", args.batch), ("generator", args.generator), ("lr", args.lr),
                        ("amp", args.amp), ("ema_decay", args.ema), ("lambda_l1", args.l1),
                        ("seed", args.seed), ("keep", args.keep)):
        if value is not None:
            setattr(t, attr, value)
    if args.vgg_weights is not None:
        if not args.vgg_weights.is_file():
            raise UserError(f"--vgg-weights {args.vgg_weights} does not exist")
        t.vgg_weights = str(args.vgg_weights)
    if args.workers is not None:
        d.num_workers = args.workers
    if args.data is not None:
        if not args.data.is_dir():
            raise UserError(f"--data {args.data} is not a folder; see data/README.md")
        d.root = str(args.data)
    return cfg.validate()


def cmd_train(args) -> int:
    from .train import TrainingInterrupted, train

    cfg = config_from_args(args)
    try:
        result = train(cfg, args.out, resume=args.resume, device=args.device, progress=not args.quiet)
    except TrainingInterrupted as stop:
        print(f"posgen: {stop}", file=sys.stderr)
        return 128 + int(stop.signum)
    print(f"trained {result.step} steps; model: {result.out_dir / 'model.pt'}; "
          f"samples: {result.out_dir / 'samples'}")
    return 0


# ----- demo ------------------------------------------------------------------
def add_demo(sub) -> None:
    p = sub.add_parser("demo", help="train PosGen on the synthetic streets on CPU (the README's first command)",
                       description="Train a small PosGen on procedural street scenes and write a sample "
                                   "grid, 1x/2x/4x renders, a loss curve and metrics to --out.")
    p.add_argument("--out", type=Path, default=Path("outputs/demo"), help="output folder")
    p.add_argument("--steps", type=_positive_int, help="training steps (default: the synthetic preset's)")
    p.add_argument("--device", help="cpu or cuda (default: POSGEN_DEVICE, else CUDA if present)")
    p.set_defaults(func=cmd_demo)


def cmd_demo(args) -> int:
    from .demo import run_demo

    run_demo(args.out, steps=args.steps, device=args.device)
    return 0


# ----- render ----------------------------------------------------------------
def add_render(sub) -> None:
    p = sub.add_parser("render", help="render a label map at any resolution",
                       description="Render a label-id PNG with a trained PosGen at any scale, size or window.")
    p.add_argument("model", type=Path, help="model.pt or a training checkpoint (or 'pretrained:synthetic')")
    p.add_argument("label", type=Path, help="label-id PNG (one id per pixel, e.g. *_labelIds.png)")
    p.add_argument("--instance", type=Path, help="instance-id PNG (adds instance edges)")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--scale", type=_positive_float, help="output scale, e.g. 4 or 3.3 (default 1)")
    size.add_argument("--size", type=_size, help="output size HxW, e.g. 512x1024")
    p.add_argument("--window", type=_window, help="x0,y0,x1,y1 in [-1, 1]: render only this region")
    p.add_argument("--out", type=Path, required=True, help="output PNG")
    p.add_argument("--device", help="cpu or cuda")
    p.set_defaults(func=cmd_render)


def cmd_render(args) -> int:
    from .data.io import read_id_png
    from .data.transforms import to_semantics
    from .fourier import FULL_WINDOW
    from .pretrained import load_any
    from .render import render, upscale
    from .runtime import default_device
    from .viz import save_png, to_uint8

    device = default_device(args.device)
    G, cfg, _ = load_any(args.model, device)
    label = read_id_png(args.label)
    instance = read_id_png(args.instance) if args.instance else None
    if instance is not None and instance.shape != label.shape:
        raise UserError(f"--instance {args.instance} is {tuple(instance.shape)}, label is {tuple(label.shape)}")
    sem = to_semantics(label, instance, cfg.data.label_set, cfg.model.use_instance).to(device)
    if hasattr(G, "pixel_head"):
        image = render(G, sem, scale=args.scale, size=args.size, window=args.window or FULL_WINDOW)
    else:
        if args.window:
            raise UserError("--window needs a PosGen model; the SPADE baseline renders whole images only")
        image = upscale(G, sem, scale=args.scale or (None if args.size else 1.0), size=args.size,
                        method="bicubic")
    save_png(to_uint8(image[0]), args.out)
    print(f"wrote {args.out} ({image.shape[-2]}x{image.shape[-1]})")
    return 0


# ----- entry point -------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="posgen",
        description="PosGen: semantic image synthesis with a per-pixel, any-resolution head. "
                    "Start with `posgen demo`.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                parser_class=_Parser)
    add_demo(sub)
    add_train(sub)
    add_render(sub)
    from . import bench
    from .data import prepare

    bench.add_subcommands(sub)

    prepare.add_subcommands(sub)
    from . import eval_cli, experiment, segmenter_train
    for module in (eval_cli, segmenter_train, experiment):
        module.add_subcommands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from .checkpoint import CheckpointError

    try:
        return int(args.func(args) or 0)
    except (UserError, CheckpointError, FileNotFoundError, ValueError) as err:
        print(f"posgen: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("posgen: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
