"""``posgen train``: train any generator with SPADE's recipe, on one process or many (torchrun)."""
from __future__ import annotations

from pathlib import Path

from ..config import COMPILE_MODES, GENERATORS, PRESETS
from ..errors import UserError
from .args import in_range, non_negative_int, positive_int


def _resume(text: str):
    return "auto" if text == "auto" else Path(text)


def add(sub) -> None:
    p = sub.add_parser(
        "train", help="train PosGen, any-resolution PosGen, the SPADE baseline or the pixel-wise generator",
        description="Train with SPADE's recipe (hinge loss, feature matching, TTUR Adam, spectral norm). "
                    "An output folder belongs to one run: a second run into it is refused unless "
                    "--resume or --overwrite. For several GPUs: torchrun --nproc-per-node N -m "
                    "posgen_lib.cli train ...")
    p.add_argument("--preset", required=True, choices=list(PRESETS),
                   help="model/data/recipe settings: synthetic (CPU course), cityscapes, coco_stuff, tiny")
    p.add_argument("--out", required=True, type=Path, help="folder for checkpoints, logs and samples")
    p.add_argument("--data", type=Path, help="dataset folder (required for cityscapes / coco_stuff "
                   "unless POSGEN_DATA_DIR/<dataset> exists)")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--steps", type=non_negative_int, help="number of training steps")
    budget.add_argument("--epochs", type=positive_int, help="number of epochs (default: the preset's)")
    p.add_argument("--batch", type=positive_int, help="global batch size (split across processes)")
    p.add_argument("--generator", choices=list(GENERATORS),
                   help="posgen (default), spade (the baseline), pixelwise, or anyres")
    p.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: POSGEN_DEVICE, else CUDA if present)")
    resume = p.add_mutually_exclusive_group()
    resume.add_argument("--resume", nargs="?", const=True, default=False, type=_resume, metavar="CKPT|auto",
                        help="continue the run in --out from its newest checkpoint (an error if there is "
                             "none), or from CKPT; 'auto': resume when there is a checkpoint, else start")
    resume.add_argument("--overwrite", action="store_true",
                        help="start a new run even if --out holds one (the old run is moved aside, "
                             "not deleted)")
    p.add_argument("--allow-change", action="store_true",
                   help="resume although batch, seed, learning rate or loss weights differ from the run's")
    p.add_argument("--lr", type=in_range(0, 1, low_open=True), help="base learning rate in (0, 1] "
                   "(TTUR: G lr/2, D lr*2; SPADE: 2e-4)")
    p.add_argument("--amp", choices=["auto", "off", "bf16", "fp16"], help="mixed precision")
    p.add_argument("--channels-last", choices=["on", "off"],
                   help="NHWC memory format for the convolutions (default on; docs/training.md)")
    p.add_argument("--compile", choices=list(COMPILE_MODES),
                   help="torch.compile the generator or G and D (default off: on a 2-core CPU the compile "
                        "time exceeds what it saves in a 10-minute run; falls back to eager without a compiler)")
    p.add_argument("--ema", type=in_range(0, 1, high_open=True), metavar="DECAY",
                   help="keep an EMA of G's weights with this decay in [0, 1), e.g. 0.999")
    p.add_argument("--l1", type=in_range(0, 1e4), metavar="LAMBDA", help="weight (>= 0) of an L1 loss to the photo")
    p.add_argument("--vgg-weights", type=Path, help="local VGG19 weights file enabling the VGG loss")
    quality = p.add_argument_group("generator and discriminator options (docs/training.md, 'Better images per "
                                   "CPU-minute')")
    quality.add_argument("--norm", choices=["spade", "clade"],
                         help="trunk modulation: spade (default) or clade (a scale and bias per class: cheaper)")
    quality.add_argument("--noise", choices=["on", "off"],
                         help="per-pixel noise inputs in the trunk (StyleGAN), learned strength per channel")
    quality.add_argument("--noise-init", type=in_range(0, 10), metavar="S",
                         help="the noise inputs' strength at the start (default 0, as StyleGAN; with --noise on)")
    quality.add_argument("--d-blur", choices=["on", "off"],
                         help="blur before every stride of the patch discriminator (anti-aliasing)")
    quality.add_argument("--objective", choices=["spade", "oasis"],
                         help="spade: SPADE's patch discriminator and feature matching (default); oasis: a "
                              "segmentation discriminator with LabelMix (OASIS)")
    quality.add_argument("--labelmix", type=in_range(0, 1e4), metavar="LAMBDA",
                         help="weight of OASIS's LabelMix term (default 10; with --objective oasis)")
    anyres = p.add_argument_group("any-resolution training (--generator anyres; docs/training.md)")
    anyres.add_argument("--init", metavar="MODEL", help="start from this PosGen (model.pt, checkpoint or "
                        "pretrained:NAME) and train only the detail head (with --no-freeze: everything)")
    anyres.add_argument("--no-freeze", action="store_true", help="with --init: train the trunk and head too")
    anyres.add_argument("--scale-max", type=in_range(1, 16), help="largest training scale (default 4)")
    anyres.add_argument("--patch-gan", type=in_range(0, 100), metavar="LAMBDA",
                        help="weight of the discriminator on high-resolution patches (default 0.03; the shipped "
                             "models' weights were chosen on the front of docs/results.md and docs/results_camvid.md)")
    anyres.add_argument("--rec", type=in_range(0, 100), metavar="LAMBDA",
                        help="weight of the L1 reconstruction of the patches (default 1)")
    anyres.add_argument("--texture", type=in_range(0, 1), metavar="T",
                        help="texture amplitude renders use by default, in [0, 1] (0: the faithful base; default 1)")
    anyres.add_argument("--consistency", type=in_range(0, 100), metavar="LAMBDA",
                        help="weight of the consistency term (area average of a render = the 1x output; default 1)")
    p.add_argument("--seed", type=non_negative_int, help="random seed")
    p.add_argument("--workers", type=non_negative_int, help="data loader worker processes")
    p.add_argument("--keep", type=positive_int, help="how many checkpoints to keep")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def config_from_args(args):
    from ..config import preset
    from ..train.objectives import kinds_reading, objective_class

    cfg = preset(args.preset)
    t, d = cfg.train, cfg.data
    if args.steps is not None:
        t.steps = args.steps
    if args.epochs is not None:
        t.epochs, t.steps = args.epochs, None
    if args.generator is not None:
        cfg.model.generator = args.generator
    for attr, value in (("batch_size", args.batch), ("lr", args.lr), ("amp", args.amp),
                        ("ema_decay", args.ema), ("lambda_l1", args.l1), ("seed", args.seed),
                        ("keep", args.keep), ("compile", args.compile)):
        if value is not None:
            setattr(t, attr, value)
    if args.channels_last is not None:
        t.channels_last = args.channels_last == "on"
    model = cfg.model
    if args.norm is not None:
        model.modulation = args.norm
    if args.noise is not None:
        model.noise = args.noise == "on"
    if args.noise_init is not None:
        model.noise_init = args.noise_init
    if args.d_blur is not None:
        model.d_blur = args.d_blur == "on"
    if args.objective is not None:
        t.objective = None if args.objective == "spade" else args.objective
    if args.labelmix is not None:
        if not objective_class(cfg).reads("train.lambda_labelmix"):
            raise UserError("--labelmix needs --objective oasis")
        t.lambda_labelmix = args.labelmix
    anyres_flags = {"anyres_init": args.init, "anyres_scale_max": args.scale_max,
                    "lambda_patch_gan": args.patch_gan, "lambda_rec": args.rec,
                    "lambda_consistency": args.consistency}
    given = [f"train.{k}" for k, v in anyres_flags.items() if v is not None]
    if args.no_freeze:
        given.append("train.anyres_freeze")
    if args.texture is not None:
        given.append("model.anyres_texture")
    if any(not objective_class(cfg).reads(field) for field in given):  # only another kind's objective reads them
        raise UserError("--init, --no-freeze, --scale-max, --patch-gan, --rec, --texture and --consistency need "
                        f"--generator {' or '.join(kinds_reading('train.anyres_init'))}")
    for attr, value in anyres_flags.items():
        if value is not None:
            setattr(t, attr, value)
    if args.texture is not None:
        cfg.model.anyres_texture = args.texture
    if args.no_freeze:
        if args.init is None:
            raise UserError("--no-freeze needs --init (without it everything trains anyway)")
        t.anyres_freeze = False
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


def run(args) -> int:
    from ..train.loop import train

    cfg = config_from_args(args)
    if isinstance(args.resume, Path) and not args.resume.is_file():
        raise UserError(f"--resume {args.resume}: no such checkpoint file")
    result = train(cfg, args.out, resume=args.resume, device=args.device, progress=not args.quiet,
                   overwrite=args.overwrite, allow_change=args.allow_change)
    print(f"trained {result.step} steps; model: {result.out_dir / 'model.pt'}; "
          f"samples: {result.out_dir / 'samples'}")
    return 0
