"""``posgen render``: a label map at any scale, size or window, with any trained generator."""
from __future__ import annotations

from pathlib import Path

from ..errors import UserError
from .args import in_range, size, window


def add(sub) -> None:
    p = sub.add_parser("render", help="render a label map at any resolution",
                       description="Render a label-id PNG with a trained generator at any scale, size or "
                                   "window. Per-pixel generators (posgen, anyres, pixelwise) render directly; "
                                   "the SPADE baseline is upscaled bicubically (--method picks another).")
    p.add_argument("model", help="model.pt, a training checkpoint, or pretrained:NAME (e.g. pretrained:synthetic)")
    p.add_argument("label", type=Path, help="label-id PNG (one id per pixel, e.g. *_labelIds.png)")
    p.add_argument("--instance", type=Path, help="instance-id PNG of the same size (adds instance edges)")
    p.add_argument("--labels-hr", type=Path, metavar="FILE",
                   help="the same scene's label-id PNG at a higher resolution, read by any-resolution "
                        "models at the output resolution (and by --method *_hr)")
    p.add_argument("--instance-hr", type=Path, metavar="FILE", help="instance-id PNG matching --labels-hr")
    scale = p.add_mutually_exclusive_group()
    scale.add_argument("--scale", type=in_range(0.01, 64), help="output scale, e.g. 4 or 3.3 (default 1)")
    scale.add_argument("--size", type=size, help="output size HxW, e.g. 512x1024")
    p.add_argument("--window", type=window, help="x0,y0,x1,y1 in [-1, 1]: render only this region")
    p.add_argument("--method", help="upscaling method from pg.rendering.METHODS (default: coordinates for "
                   "per-pixel generators, bicubic for SPADE)")
    p.add_argument("--out", type=Path, required=True, help="output PNG")
    p.add_argument("--device", help="cpu or cuda")
    p.set_defaults(func=run)


def read_semantics(label_path: Path, instance_path: Path | None, cfg, device):
    """Semantics (1, S, H, W) of a label-id PNG (and instance PNG), every problem named by file."""
    import torch

    from ..data.transforms import read_ids, to_semantics

    label = torch.from_numpy(read_ids(label_path).astype("int64"))
    instance = None
    if instance_path is not None:
        instance = torch.from_numpy(read_ids(instance_path, "instance map").astype("int64"))
        if instance.shape != label.shape:
            raise UserError(f"{instance_path} is {tuple(instance.shape)}, {label_path} is "
                            f"{tuple(label.shape)}; the instance map must have the label map's size")
    try:
        return to_semantics(label, instance, cfg.data.label_set, cfg.model.use_instance).to(device)
    except ValueError as err:
        raise UserError(f"{label_path}: {err}") from None


def run(args) -> int:
    from ..models.fourier import FULL_WINDOW
    from ..models.registry import load_any
    from ..rendering import check_method, render, upscale
    from ..runtime import default_device
    from ..viz.images import save_png, to_uint8

    device = default_device(args.device)
    G, cfg, _ = load_any(args.model, device)
    sem = read_semantics(args.label, args.instance, cfg, device)
    if args.instance_hr and not args.labels_hr:
        raise UserError("--instance-hr needs --labels-hr")
    sem_hr = read_semantics(args.labels_hr, args.instance_hr, cfg, device) if args.labels_hr else None
    method = args.method or ("coordinates" if G.any_size else "bicubic")
    if args.method is None and sem_hr is not None and G.reads_labels:
        method = "coordinates_hr"
    check_method(G, method, sem_hr is not None)
    scale = args.scale if args.scale or args.size else 1.0
    if method.startswith("coordinates"):
        image = render(G, sem, scale=None if args.size else scale, size=args.size,
                       window=args.window or FULL_WINDOW, labels=sem_hr if method == "coordinates_hr" else None)
    else:
        if args.window:
            raise UserError(f"--window needs a per-pixel method (coordinates); {method} renders whole images")
        image = upscale(G, sem, scale=None if args.size else scale, size=args.size, method=method,
                        labels=None if sem_hr is None else _at(sem_hr, sem, scale, args.size))
    save_png(to_uint8(image[0]), args.out)
    print(f"wrote {args.out} ({image.shape[-2]}x{image.shape[-1]}, {G.kind}, {method})")
    return 0


def _at(sem_hr, sem, scale, size):
    """The high-resolution semantics at the output size (nearest), for the image-space methods."""
    import torch.nn.functional as F

    from ..rendering.render import output_size

    return F.interpolate(sem_hr, size=output_size(tuple(sem.shape[-2:]), None if size else scale, size),
                         mode="nearest")
