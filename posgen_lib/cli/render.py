"""``posgen render``: a label map at any scale, size or window, with any trained generator."""
from __future__ import annotations

from pathlib import Path

from ..errors import UserError
from .args import in_range, non_negative_int, size, window


def add(sub) -> None:
    p = sub.add_parser("render", help="render a label map at any resolution",
                       description="Render a label-id PNG with a trained generator at any scale, size or "
                                   "window. Per-pixel generators (posgen, anyres, pixelwise) render directly; "
                                   "the SPADE baseline is upscaled bicubically (--method picks another).")
    p.add_argument("model", help="model.pt, a training checkpoint, or pretrained:NAME (e.g. pretrained:synthetic)")
    p.add_argument("label", type=Path, help="label-id PNG (one id per pixel, e.g. *_labelIds.png; lossless: "
                   "a JPEG is refused)")
    p.add_argument("--instance", type=Path, help="instance-id PNG of the same size (adds instance edges)")
    p.add_argument("--labels-hr", type=Path, metavar="FILE",
                   help="the same scene's label-id PNG at a higher resolution (the same frame at one scale "
                        ">= 1, e.g. 4x), read by any-resolution models at the output resolution and by "
                        "--method *_hr; refused by other models and methods")
    p.add_argument("--instance-hr", type=Path, metavar="FILE", help="instance-id PNG matching --labels-hr")
    scale = p.add_mutually_exclusive_group()
    scale.add_argument("--scale", type=in_range(0.01, 64), help="output scale, e.g. 4 or 3.3 (default 1)")
    scale.add_argument("--size", type=size, help="output size HxW, e.g. 512x1024")
    p.add_argument("--window", type=window, help="x0,y0,x1,y1 in [-1, 1]: render only this region")
    p.add_argument("--method", help="upscaling method from pg.rendering.METHODS (default: coordinates for "
                   "per-pixel generators, bicubic for SPADE)")
    p.add_argument("--texture", type=in_range(0, 1), metavar="T",
                   help="texture amplitude of an any-resolution model with a texture branch, in [0, 1] (0: its "
                        "faithful base; default: the model's operating point)")
    p.add_argument("--noise-seed", type=non_negative_int, metavar="SEED",
                   help="which sample of the texture and noise inputs (default 0; the same seed renders the same "
                        "image)")
    p.add_argument("--out", type=Path, required=True, help="output PNG (written whole or not at all; never "
                   "one of the inputs)")
    p.add_argument("--device", help="cpu or cuda")
    p.set_defaults(func=run)


LOSSY_FORMATS = ("JPEG", "MPO", "JPEG2000", "WEBP")  # compression that changes ids along region borders


def check_lossless(path: Path, option: str) -> None:
    """Refuse a label or instance map saved with lossy compression (JPEG): its ids are no longer the scene's."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            kind = img.format
    except OSError:
        return  # missing or unreadable: read_ids names the problem
    if kind in LOSSY_FORMATS:
        raise UserError(f"{option} {path} is a {kind} image: lossy compression changes ids along region "
                        "borders, so label maps must be lossless PNG files of ids; save the ids as PNG")


def read_ids(path: Path, option: str, what: str = "label map"):
    """The (H, W) int32 ids of a lossless label or instance PNG, every problem named by file."""
    import torch

    from ..data.transforms import read_ids as read_id_png

    check_lossless(path, option)
    return torch.from_numpy(read_id_png(path, what).astype("int32"))


def check_instance(instance, instance_path: Path, label, label_path: Path) -> None:
    if instance.shape != label.shape:
        raise UserError(f"{instance_path} is {tuple(instance.shape)}, {label_path} is "
                        f"{tuple(label.shape)}; the instance map must have the label map's size")


def reduction(shape: tuple[int, int], cfg) -> int:
    """How many times larger than the model's 1x size a label map is, when its label set has a rule for
    bringing maps down (CamVid: the native 480x360 maps of a 120x90 model give 4); 1 otherwise."""
    from ..data.labels import get_label_set

    (height, width), (h, w) = shape, cfg.model.image_size
    if not get_label_set(cfg.data.label_set).thin_ids or (height, width) == (h, w):
        return 1
    if height % h or width % w or height // h != width // w:
        return 1
    return height // h


def read_semantics(label_path: Path, instance_path: Path | None, cfg, device):
    """(semantics (1, S, h, w), the ids as read when they were brought down to the model's size, else None)
    of a label-id PNG (and instance PNG), every problem named by file. A label map that is an integer multiple
    of the model's 1x size, of a set with a rule for it (CamVid's native maps), is brought down by that rule."""
    from ..data.transforms import reduce_labels, to_semantics

    label = read_ids(label_path, "LABEL")
    native, factor = None, reduction(tuple(label.shape), cfg)
    instance = None
    if instance_path is not None:
        instance = read_ids(instance_path, "--instance", "instance map")
        check_instance(instance, instance_path, label, label_path)
        if factor > 1:
            raise UserError(f"--instance: the {cfg.data.label_set} model reads no instance maps; drop --instance")
    try:
        if factor > 1:
            native, label = label, reduce_labels(label.long(), factor, cfg.data.label_set)
        sem = to_semantics(label.long(), None if instance is None else instance.long(), cfg.data.label_set,
                           cfg.model.use_instance).to(device)
    except ValueError as err:
        raise UserError(f"{label_path}: {err}") from None
    return sem, native


def read_label_map(label_path: Path, instance_path: Path | None, cfg, device):
    """The high-resolution label map of ``--labels-hr`` as ids (a :class:`~posgen_lib.rendering.LabelMap`):
    its semantics are built band by band, so a large map costs its ids, not a one-hot plane per class."""
    from ..data.transforms import check_label_values
    from ..rendering import LabelMap

    label = read_ids(label_path, "--labels-hr")
    instance = None
    if instance_path is not None:
        instance = read_ids(instance_path, "--instance-hr", "instance map")
        check_instance(instance, instance_path, label, label_path)
    check_label_values(label.numpy(), cfg.data.label_set, label_path)
    return LabelMap.from_ids(label.to(device), None if instance is None else instance.to(device),
                             cfg.data.label_set, cfg.model.use_instance)


def check_out(args) -> None:
    """Refuse, before any work, an --out that cannot be written or that is one of the command's inputs."""
    from ..records import check_output
    from ..viz.images import image_format

    check_output(args.out, "--out")
    image_format(args.out)
    inputs = {"LABEL": args.label, "--instance": args.instance, "--labels-hr": args.labels_hr,
              "--instance-hr": args.instance_hr, "MODEL": Path(args.model)}
    for option, path in inputs.items():
        if path is not None and path.exists() and args.out.exists() and args.out.samefile(path):
            raise UserError(f"--out {args.out} is the input {option}; the render would replace it: write the "
                            "image to another file")


def choose_method(G, args, have_hr: bool) -> str:
    """The upscaling method: --method, else the model's own; refuses --labels-hr that it would not read."""
    from ..rendering import METHODS, check_method

    method = args.method or ("coordinates" if G.any_size else "bicubic")
    if args.method is None and have_hr and G.reads_labels:
        method = "coordinates_hr"
    check_method(G, method, have_hr)
    if have_hr and not METHODS[method].needs_hr_labels:
        readers = ", ".join(m.name for m in METHODS.values() if m.needs_hr_labels and m.applies_to(G))
        whose = (f"the {G.kind} model cannot read a high-resolution label map" if args.method is None
                 else f"--method {method} does not use it")
        raise UserError(f"--labels-hr: {whose}; drop --labels-hr, or pick a method that reads it "
                        f"(--method {readers})")
    return method


def run(args) -> int:
    from ..grid import FULL_WINDOW, coordinate_grid, output_size
    from ..models.registry import load_any
    from ..rendering import LabelMap, render, upscale
    from ..rendering.render import check_labels, check_output_pixels
    from ..runtime import default_device
    from ..viz.images import save_png, to_uint8

    check_out(args)
    if args.instance_hr and not args.labels_hr:
        raise UserError("--instance-hr needs --labels-hr")
    device = default_device(args.device)
    G, cfg, _ = load_any(args.model, device)
    sem, native = read_semantics(args.label, args.instance, cfg, device)
    labels = read_label_map(args.labels_hr, args.instance_hr, cfg, device) if args.labels_hr else None
    notes = []
    if native is not None:
        notes.append(f"LABEL {native.shape[1]}x{native.shape[0]} brought down to the model's {sem.shape[-1]}x"
                     f"{sem.shape[-2]} by the {cfg.data.label_set} rule")
        if labels is None and G.reads_labels and args.method in (None, "coordinates_hr"):
            labels = LabelMap.from_ids(native.to(device), None, cfg.data.label_set, cfg.model.use_instance)
            notes.append("and read at its own size as the high-resolution labels")
    method = choose_method(G, args, labels is not None)
    if labels is not None:
        check_labels(labels, sem, f"--labels-hr {args.labels_hr}")
    scale = None if args.size else (args.scale or 1.0)
    if method.startswith("coordinates"):
        image = render(G, sem, scale=scale, size=args.size, window=args.window or FULL_WINDOW,
                       labels=labels if method == "coordinates_hr" else None, texture=args.texture,
                       noise_seed=args.noise_seed)
    else:
        if args.window:
            raise UserError(f"--window needs a per-pixel method (coordinates); {method} renders whole images")
        if args.texture is not None:
            raise UserError(f"--texture is the amplitude of a textured model's own renders; {method} does not use "
                            "it (drop --method, or --texture)")
        size = output_size(tuple(sem.shape[-2:]), scale, args.size)
        check_output_pixels(*size)
        at_size = None if labels is None else labels.at(coordinate_grid(size, device=device))
        image = upscale(G, sem, scale=scale, size=args.size, method=method, labels=at_size)
    save_png(to_uint8(image[0]), args.out)
    print(f"wrote {args.out} ({image.shape[-2]}x{image.shape[-1]}, {G.kind}, {method})"
          + (f"; {' '.join(notes)}" if notes else ""))
    return 0
