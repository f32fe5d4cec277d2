"""From label and instance maps to the generator's input semantics.

``to_semantics`` builds SPADE's input (Park et al. 2019, Sec. 3, "semantic
mask m"): a one-hot map with one channel per label id, an optional dontcare
channel, and an optional instance-edge channel (pix2pixHD, Wang et al. 2018,
Sec. 3.3: a pixel is an edge when its instance id differs from one of its four
neighbours; both pixels of a differing pair are marked).

``preprocess`` is SPADE's data preprocessing (``data/base_dataset.py`` of the
official code): one random draw of resize / crop / flip per example, applied
to the label and instance maps with nearest-neighbour resampling and to the
photo with bicubic resampling, so the three stay aligned pixel for pixel.
``read_rgb`` / ``read_ids`` / ``load_example`` read one example from files and
name the file in every error.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ..config import DataConfig
from .labels import LabelSet, get_label_set

MAX_LABEL_PIXELS = 1 << 24  # 16.8M pixels (e.g. 4096x4096); Cityscapes' native maps have 2.1M


def check_label_pixels(height: int, width: int, what: str = "label map") -> None:
    """Refuse a map above :data:`MAX_LABEL_PIXELS` before its one-hot semantics are allocated."""
    if height * width > MAX_LABEL_PIXELS:
        raise ValueError(f"{what} of {width}x{height} = {height * width:,} pixels exceeds the limit of "
                         f"{MAX_LABEL_PIXELS:,} pixels (its one-hot semantics would not fit comfortably in "
                         "memory); downscale or crop it first")


def _as_batch(t: torch.Tensor, what: str) -> torch.Tensor:
    """(H, W), (B, H, W) or (B, 1, H, W) -> (B, 1, H, W) int64."""
    if t.dim() == 2:
        t = t[None, None]
    elif t.dim() == 3:
        t = t[:, None]
    elif t.dim() != 4 or t.shape[1] != 1:
        raise ValueError(f"{what} must be (H, W), (B, H, W) or (B, 1, H, W), got {tuple(t.shape)}")
    if t.is_floating_point():
        raise TypeError(f"{what} must hold integer ids, got {t.dtype}")
    return t.long()


def instance_edges(instance: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W) instance ids -> (B, 1, H, W) float, 1 where a 4-neighbour differs."""
    edge = torch.zeros_like(instance, dtype=torch.bool)
    dx = instance[..., :, 1:] != instance[..., :, :-1]  # (B, 1, H, W-1)
    dy = instance[..., 1:, :] != instance[..., :-1, :]  # (B, 1, H-1, W)
    edge[..., :, 1:] |= dx
    edge[..., :, :-1] |= dx
    edge[..., 1:, :] |= dy
    edge[..., :-1, :] |= dy
    return edge.float()


def to_semantics(label: torch.Tensor, instance: torch.Tensor | None = None,
                 label_set: str | LabelSet = "synthetic", use_instance: bool = True) -> torch.Tensor:
    """Label ids (+ instance ids) -> float semantics (B, num_classes [+1 dontcare] [+1 edge], H, W).

    ``label`` and ``instance`` are (H, W), (B, H, W) or (B, 1, H, W) integer
    maps. Without an ``instance`` map the edge channel is zero.
    """
    ls = get_label_set(label_set)
    label = _as_batch(label, "label")
    check_label_pixels(*label.shape[-2:])
    valid = ls.is_valid(label)
    if not bool(valid.all()):
        bad = torch.unique(label[~valid]).tolist()
        dontcare = f" or {ls.dontcare_id}" if ls.dontcare_id is not None else ""
        allowed = f"0..{ls.num_classes - 1}{dontcare}"
        raise ValueError(f"label values {bad[:10]} are not in the {ls.name!r} label set (ids {allowed}); "
                         "check that the map holds label ids, not colours or train ids")
    if ls.dontcare_id is not None:
        label = torch.where(label == ls.dontcare_id, torch.full_like(label, ls.num_classes), label)
    b, _, h, w = label.shape
    onehot = torch.zeros(b, ls.semantic_channels, h, w, device=label.device)
    onehot.scatter_(1, label, 1.0)  # (B, label channels, H, W)
    if not use_instance:
        return onehot
    if instance is None:
        edges = torch.zeros(b, 1, h, w, device=label.device)
    else:
        instance = _as_batch(instance, "instance")
        if instance.shape != label.shape:
            raise ValueError(f"instance map {tuple(instance.shape[-2:])} and label map "
                             f"{tuple(label.shape[-2:])} differ in size")
        edges = instance_edges(instance)
    return torch.cat([onehot, edges], dim=1)  # (B, C + 1, H, W)


# --- downsampling label maps and photos by an integer factor ----------------

def downsample_labels(label: torch.Tensor, factor: int, channels: int, keep: tuple[int, ...] = (),
                      keep_fraction: float = 0.25, last: int | None = None) -> torch.Tensor:
    """Label ids (H, W) or (B, H, W) -> (.., H/f, W/f): each ``f x f`` block becomes one id.

    Nearest-neighbour subsampling keeps one pixel of 16 at 4x and drops a pole one
    pixel wide three times in four; a plain majority vote drops it always. The rule:

    1. a class of ``keep`` (thin classes: poles, signs, people) that covers at
       least ``keep_fraction`` of the block wins (the one covering most, if several);
    2. otherwise the class covering most of the block wins;
    3. ``last`` (void) loses every tie; other ties go to the lower id.

    At ``f = 4`` and ``keep_fraction = 1/4`` a vertical pole one pixel wide covers
    4 of the 16 pixels of every block it crosses, so it survives as a line of
    1x pixels. ``channels``: ids are ``0 .. channels - 1``.
    """
    if factor == 1:
        return label.clone()
    batched = label.dim() == 3
    label = label if batched else label[None]
    h, w = label.shape[-2:]
    if h % factor or w % factor:
        raise ValueError(f"label map {w}x{h} is not a multiple of the factor {factor}")
    onehot = F.one_hot(label.long(), channels).permute(0, 3, 1, 2).float()  # (B, C, H, W)
    fraction = F.avg_pool2d(onehot, factor)  # (B, C, H/f, W/f): share of each class in each block
    score = fraction.clone()
    if keep:
        thin = list(keep)
        score[:, thin] += (fraction[:, thin] >= keep_fraction - 1e-6).float()  # any qualifying thin class wins
    if last is not None:
        score[:, last] -= 1e-3
    out = score.argmax(1)  # first maximum on ties: the lower id
    return out if batched else out[0]


def reduce_labels(label: torch.Tensor, factor: int, label_set: str | LabelSet) -> torch.Tensor:
    """A label map of ``label_set`` brought down by ``factor`` with the set's rule: :func:`downsample_labels`
    keeping its thin classes, its dontcare id losing every tie (CamVid's rule; data/README.md)."""
    ls = get_label_set(label_set)
    if not ls.thin_ids:
        raise ValueError(f"the {ls.name!r} label set has no rule for bringing label maps down; resize them yourself")
    channels = (ls.dontcare_id if ls.dontcare_id is not None else ls.num_classes - 1) + 1
    return downsample_labels(label, factor, channels, keep=ls.thin_ids, last=ls.dontcare_id)


def downsample_image(image: torch.Tensor, factor: int) -> torch.Tensor:
    """Photo (3, H, W) or (B, 3, H, W) -> (.., H/f, W/f) by area averaging (each output pixel is the
    mean of its ``f x f`` block: what a camera with f times larger pixels would record)."""
    if factor == 1:
        return image.clone()
    batched = image.dim() == 4
    out = F.avg_pool2d(image if batched else image[None], factor)
    return out if batched else out[0]


# --- SPADE's preprocessing -------------------------------------------------

PREPROCESS_MODES = ("resize_and_crop", "scale_width_and_crop", "scale_shortside_and_crop",
                    "fixed", "none")
NONE_MODE_BASE = 32  # preprocess "none" rounds each side to a multiple of this


@dataclass(frozen=True)
class Geometry:
    """One draw of the random preprocessing, shared by label, instance and image."""

    resize: tuple[int, int]  # (width, height) after the resize step
    crop: tuple[int, int, int, int] | None  # PIL box (left, top, right, bottom)
    flip: bool


def check_preprocess(cfg: DataConfig) -> None:
    """Reject an unknown ``preprocess_mode`` or non-positive sizes."""
    if cfg.preprocess_mode not in PREPROCESS_MODES:
        raise ValueError(f"data.preprocess_mode={cfg.preprocess_mode!r}: choose one of "
                         f"{', '.join(PREPROCESS_MODES)}")
    if min(cfg.load_size, cfg.crop_size) <= 0 or cfg.aspect_ratio <= 0:
        raise ValueError(f"data.load_size={cfg.load_size}, data.crop_size={cfg.crop_size} and "
                         f"data.aspect_ratio={cfg.aspect_ratio} must be positive")


def output_size(cfg: DataConfig) -> tuple[int, int] | None:
    """(height, width) of every preprocessed example, or None when it follows the file ("none")."""
    check_preprocess(cfg)
    if cfg.preprocess_mode == "fixed":
        return round(cfg.crop_size / cfg.aspect_ratio), cfg.crop_size
    if cfg.preprocess_mode == "none":
        return None
    return cfg.crop_size, cfg.crop_size


def _resized_size(width: int, height: int, cfg: DataConfig) -> tuple[int, int]:
    """(width, height) after SPADE's resize step, rounding as SPADE does."""
    mode, load = cfg.preprocess_mode, cfg.load_size
    if mode == "resize_and_crop":
        return load, load
    if mode == "scale_width_and_crop":
        return load, int(load * height / width)
    if mode == "scale_shortside_and_crop":
        short, long = min(width, height), max(width, height)
        long = int(load * long / short)
        return (load, long) if width == short else (long, load)
    if mode == "fixed":
        return cfg.crop_size, round(cfg.crop_size / cfg.aspect_ratio)
    base = NONE_MODE_BASE  # "none": nearest multiple of 32 (at least 32)
    return max(base, round(width / base) * base), max(base, round(height / base) * base)


def _randint(high: int, generator: torch.Generator | None) -> int:
    """Uniform integer in [0, high]."""
    return int(torch.randint(high + 1, (1,), generator=generator))


def _crop_box(width: int, height: int, cfg: DataConfig, train: bool,
              generator: torch.Generator | None) -> tuple[int, int, int, int]:
    """A square crop_size box: random when training, centred otherwise."""
    size = cfg.crop_size
    if size > width or size > height:
        raise ValueError(f"crop_size {size} is larger than the resized image {width}x{height} "
                         f"(preprocess_mode {cfg.preprocess_mode!r}, load_size {cfg.load_size}); "
                         "lower data.crop_size or raise data.load_size")
    if train:
        x, y = _randint(width - size, generator), _randint(height - size, generator)
    else:
        x, y = (width - size) // 2, (height - size) // 2
    return x, y, x + size, y + size


def plan_geometry(size: tuple[int, int], cfg: DataConfig, train: bool,
                  generator: torch.Generator | None = None) -> Geometry:
    """Draw SPADE's resize / crop / flip for an image of ``size`` = (width, height).

    Differences from the official code, all deliberate: evaluation (``train``
    False) centre-crops where SPADE crops at random; the crop position is drawn
    from the resized size (SPADE's ``scale_shortside_and_crop`` draws it from a
    wrongly computed size); a crop larger than the resized image is an error
    (SPADE silently pads with zeros, i.e. with a real class id). Random numbers
    come from ``generator`` (torch's global generator when None, which
    DataLoader seeds per worker).
    """
    check_preprocess(cfg)
    width, height = _resized_size(*size, cfg)
    crop = None
    if cfg.preprocess_mode.endswith("_and_crop"):
        crop = _crop_box(width, height, cfg, train, generator)
    flip = train and cfg.flip and bool(torch.rand((), generator=generator) > 0.5)
    return Geometry(resize=(width, height), crop=crop, flip=flip)


def apply_geometry(img: Image.Image, geometry: Geometry, resample: int) -> Image.Image:
    """Resize, crop and flip one PIL image as ``geometry`` says."""
    if img.size != geometry.resize:
        img = img.resize(geometry.resize, resample)
    if geometry.crop is not None:
        img = img.crop(geometry.crop)
    if geometry.flip:
        img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return img


def image_to_tensor(img: Image.Image) -> torch.Tensor:
    """RGB PIL image -> (3, H, W) float32 in [-1, 1] (SPADE: ToTensor, Normalize(0.5, 0.5))."""
    x = torch.from_numpy(np.asarray(img, dtype=np.float32).copy()) / 255.0  # (H, W, 3)
    return ((x - 0.5) / 0.5).permute(2, 0, 1).contiguous()


def ids_to_tensor(img: Image.Image) -> torch.Tensor:
    """Id map PIL image -> (H, W) int64."""
    return torch.from_numpy(np.asarray(img).astype(np.int64))


def high_res_geometry(original: tuple[int, int], geometry: Geometry, max_scale: float) -> Geometry | None:
    """The same resize / crop / flip at ``k`` times the size, with ``k`` as large as the ``original``
    (width, height) supports, at most ``max_scale``; None when the original is not larger than the
    resized image (k < 1)."""
    k = min(max_scale, original[0] / geometry.resize[0], original[1] / geometry.resize[1])
    if k < 1:
        return None
    crop = None if geometry.crop is None else tuple(round(k * v) for v in geometry.crop)
    return Geometry(resize=(round(k * geometry.resize[0]), round(k * geometry.resize[1])), crop=crop,
                    flip=geometry.flip)


def preprocess(label: Image.Image, instance: Image.Image | None, image: Image.Image,
               cfg: DataConfig | None, train: bool = False,
               generator: torch.Generator | None = None, high_res: float = 0.0) -> dict[str, torch.Tensor]:
    """Label, instance and photo (PIL, same size) -> item tensors.

    ``cfg`` None keeps the file's size. Returns ``label`` and ``instance``
    (H, W) int64 (instance zeros when None) and ``image`` (3, H, W) float32
    in [-1, 1]. With ``high_res`` > 0 it also returns ``label_hr``,
    ``instance_hr`` and ``image_hr``: the same crop and flip of the original
    files at up to ``high_res`` times the size (as large as the originals allow;
    Cityscapes' 2048x1024 files are 4x SPADE's 512x256), the ground truth of
    any-resolution training (:mod:`posgen_lib.data.patches`).
    """
    geometry = Geometry(image.size, None, False)
    if cfg is not None:
        geometry = plan_geometry(image.size, cfg, train, generator)
    out = _apply(label, instance, image, geometry)
    hr_geometry = high_res_geometry(image.size, geometry, high_res) if high_res > 0 else None
    if hr_geometry is not None:
        out.update({f"{k}_hr": v for k, v in _apply(label, instance, image, hr_geometry).items()})
    return out


def _apply(label: Image.Image, instance: Image.Image | None, image: Image.Image, geometry: Geometry) -> dict:
    label_t = ids_to_tensor(apply_geometry(label, geometry, Image.Resampling.NEAREST))
    if instance is None:
        instance_t = torch.zeros_like(label_t)
    else:
        instance_t = ids_to_tensor(apply_geometry(instance, geometry, Image.Resampling.NEAREST))
    image_t = image_to_tensor(apply_geometry(image, geometry, Image.Resampling.BICUBIC))
    return {"label": label_t, "instance": instance_t, "image": image_t}


ID_MODES = ("L", "P", "I", "I;16", "I;16B")  # single-channel PIL modes that can hold ids


@dataclass(frozen=True)
class Example:
    """Files of one example; ``instance`` is None when the dataset has no instance maps."""

    image: Path
    label: Path
    instance: Path | None = None


def _open(path: Path, what: str) -> Image.Image:
    """Fully decoded PIL image; ValueError naming the file when it is too large or cannot be decoded."""
    try:
        img = Image.open(path)
    except FileNotFoundError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        raise unreadable(path, what, err) from err
    with img:
        check_label_pixels(img.height, img.width, f"{path}: the {what}")  # from the header, before decoding
        try:
            img.load()
        except (OSError, SyntaxError, ValueError) as err:
            raise unreadable(path, what, err) from err
        return img


def unreadable(path: Path, what: str, err: Exception) -> ValueError:
    """The error for a file that PIL cannot decode."""
    return ValueError(f"{path}: cannot read the {what} ({err}); the file is truncated or not "
                      "an image, replace it (re-extract or re-download)")


def read_rgb(path: Path) -> Image.Image:
    """The photo at ``path`` as an RGB PIL image."""
    return _open(path, "image").convert("RGB")


def read_ids(path: Path, what: str = "label map", hint: str = "") -> np.ndarray:
    """A single-channel id map (label or instance ids) as an (H, W) integer array.

    A colour (RGB) PNG is refused: it is almost always a colour visualisation
    saved where the id map belongs. ``hint`` names the right files.
    """
    img = _open(path, what)
    if img.mode not in ID_MODES:
        raise ValueError(f"{path}: the {what} is a {img.mode} colour image, but one channel of "
                         f"ids is expected; it looks like a colour map{hint}")
    return np.asarray(img)


def check_label_values(values: np.ndarray, label_set: str | LabelSet, path: Path) -> None:
    """ValueError naming ``path`` when ``values`` hold ids outside the label set."""
    ls = get_label_set(label_set)
    valid = ls.is_valid(torch.from_numpy(values.astype(np.int64))).numpy()
    if not valid.all():
        bad = np.unique(values[~valid])[:10].tolist()
        dontcare = f" or {ls.dontcare_id}" if ls.dontcare_id is not None else ""
        allowed = f"0..{ls.num_classes - 1}{dontcare}"
        raise ValueError(f"{path}: label values {bad} are not in the {ls.name!r} label set "
                         f"(ids {allowed}); check that it holds label ids, not train ids or colours")


def check_same_size(path: Path, shape: tuple[int, ...], ref_path: Path,
                    ref_shape: tuple[int, ...]) -> None:
    """ValueError when the map at ``path`` and the file at ``ref_path`` differ in (H, W)."""
    if tuple(shape[:2]) != tuple(ref_shape[:2]):
        (h, w), (rh, rw) = shape[:2], ref_shape[:2]
        raise ValueError(f"{path}: size {w}x{h} differs from {ref_path} ({rw}x{rh}); "
                         "they must have the same size")


def load_example(example: Example, label_set: str | LabelSet, cfg: DataConfig | None,
                 train: bool = False, generator: torch.Generator | None = None,
                 hint: str = "", high_res: float = 0.0) -> dict:
    """Read, check and preprocess one example: dict(label, instance, image, path)."""
    image = read_rgb(example.image)
    image_shape = (image.height, image.width)
    label = read_ids(example.label, "label map", hint)
    check_label_values(label, label_set, example.label)
    check_same_size(example.label, label.shape, example.image, image_shape)
    instance_img = None
    if example.instance is not None:
        instance = read_ids(example.instance, "instance map", hint)
        check_same_size(example.instance, instance.shape, example.image, image_shape)
        instance_img = Image.fromarray(instance.astype(np.int32))
    try:
        item = preprocess(Image.fromarray(label.astype(np.int32)), instance_img, image, cfg,
                          train, generator, high_res)
    except ValueError as err:
        raise ValueError(f"{example.image}: {err}") from err
    item["path"] = str(example.image)
    return item


def folder_error(problems: list[str], root: Path, dataset: str) -> FileNotFoundError:
    """One error (one line) for the problems found while listing a dataset folder."""
    more = f"; ... and {len(problems) - 3} more" if len(problems) > 3 else ""
    return FileNotFoundError(f"{dataset} folder {root} is incomplete: "
                             f"{'; '.join(problems[:3])}{more} (`posgen data check {root} --dataset {dataset}` lists every "
                             "problem; data/README.md describes the layout)")
