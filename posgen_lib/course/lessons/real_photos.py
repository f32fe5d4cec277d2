"""Real photos in the course (notebooks 04-07): CamVid val frames, the rule that brings their labels to 1x,
renders of the shipped CamVid models, and what the CamVid segmenter sees in them.

CamVid is never shipped (non-commercial licence): :func:`camvid_val` finds a
copy on this machine (``$POSGEN_CAMVID_DIR``, or ``../shared/camvid`` beside
the checkout) and returns None with :data:`~posgen_lib.data.camvid.HOW_TO_GET`
printed when there is none, so a notebook cell can say how to get it and keep
its stored figure. Figures of photos are displayed as JPEG
(:func:`~posgen_lib.course.display.as_jpeg`): a street photo is several times
smaller that way than as PNG.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ...data.camvid import HOW_TO_GET, CamVid, find_camvid
from ...data.labels import colorize, get_label_set
from ...data.transforms import downsample_labels
from ...eval.metrics import SegmentationScore, psnr
from ...rendering import render, upscale
from ...viz.images import to_uint8
from ..views import semantics

LABEL_SET = "camvid"


def camvid_val() -> CamVid | None:
    """CamVid's val split (frames at 1x = 90x120, ground truth at 2x and 4x), or None, saying how to get it."""
    root = find_camvid()
    if root is None:
        print(HOW_TO_GET + "; the figures stored in this notebook show what the cells draw with it.")
        return None
    return CamVid(root, "val")


def semantics_at(G, ds: CamVid, index: int, scale: int = 1) -> torch.Tensor:
    """The generator input (1, C, h, w) of val frame ``index`` at ``scale`` (1, 2 or 4) for ``G``."""
    return semantics(G, ds.at_scale(index, scale), LABEL_SET)


def labels_at(G, ds: CamVid, index: int):
    """``scale -> semantics`` of val frame ``index`` (scales 1, 2, 4) for the resolution widget."""
    return lambda scale: semantics_at(G, ds, index, int(scale))


def _show(ax, image: np.ndarray, title: str) -> None:
    ax.imshow(image, interpolation="nearest")
    ax.set_title(title, fontsize=8)
    ax.set_axis_off()


# --- notebook 04: labels at 1x ---------------------------------------------------------------

def nearest_subsample(label: torch.Tensor, factor: int) -> torch.Tensor:
    """One pixel per ``factor x factor`` block (its top-left corner): what a plain resize to 1x keeps."""
    return label[..., ::factor, ::factor].clone()


def majority_vote(label: torch.Tensor, factor: int) -> torch.Tensor:
    """The class covering most of each block, thin classes not favoured (void still loses ties)."""
    ls = get_label_set(LABEL_SET)
    return downsample_labels(label, factor, ls.dontcare_id + 1, keep=(), last=ls.dontcare_id)


def thin_class_table(ds: CamVid, count: int) -> str:
    """For each thin class, over the first ``count`` val frames: of the 4x4 blocks it covers at least a quarter
    of, the % that keep its label at 1x under three rules ("kept"), and its share of all pixels natively and at
    1x ("share"). Keeping a pole costs area: a block it only crosses becomes pole."""
    ls = get_label_set(LABEL_SET)
    rules = {"nearest": nearest_subsample, "majority": majority_vote, "the rule": ds.downsample_labels}
    channels = ls.dontcare_id + 1
    covered = torch.zeros(channels)
    kept = {name: torch.zeros(channels) for name in rules}
    share = {name: torch.zeros(channels) for name in ("native", *rules)}
    for i in range(min(count, len(ds))):
        label = ds.native(i)["label"]  # (360, 480)
        factor = label.shape[0] // ds.size[0]
        onehot = F.one_hot(label, channels).permute(2, 0, 1).float()[None]  # (1, C, H, W)
        quarter = (F.avg_pool2d(onehot, factor)[0] >= 0.25 - 1e-6)  # (C, h, w): blocks a class covers 1/4 of
        covered += quarter.flatten(1).sum(1)
        share["native"] += torch.bincount(label.flatten(), minlength=channels) / label.numel()
        for name, rule in rules.items():
            small = rule(label, factor)  # (h, w)
            kept[name] += (quarter & (F.one_hot(small, channels).permute(2, 0, 1) > 0)).flatten(1).sum(1)
            share[name] += torch.bincount(small.flatten(), minlength=channels) / small.numel()
    frames = min(count, len(ds))
    lines = [f"{'':<12}" + f"{'kept % of covered blocks':^39}" + f"{'share % of pixels':^52}",
             f"{'class':<12}" + "".join(f"{name:>13}" for name in rules) + "".join(f"{name:>13}" for name in share)]
    for c in ls.thin_ids:
        lines.append(f"{ls.names[ls.ids.index(c)]:<12}"
                     + "".join(f"{100 * kept[name][c] / covered[c].clamp(min=1):>13.1f}" for name in rules)
                     + "".join(f"{100 * share[name][c] / frames:>13.2f}" for name in share))
    return "\n".join(lines)


def frame_figure(ds: CamVid, index: int, box: tuple[int, int, int, int] = (120, 140, 240, 300)) -> Figure:
    """A val frame: the native photo and labels (360x480), then a window ``box`` = (top, left, bottom, right)
    in native pixels of the labels at 1x by nearest subsampling and by the thin-class rule, and of the photo
    at 1x (area average)."""
    item, small = ds.native(index), ds.at_scale(index, 1)
    factor = item["label"].shape[0] // ds.size[0]
    top, left, bottom, right = box
    window = (slice(top // factor, bottom // factor), slice(left // factor, right // factor))
    panels = [
        (to_uint8(item["image"]), f"photo, native {item['label'].shape[1]}x{item['label'].shape[0]} (= 4x)"),
        (colorize(item["label"], LABEL_SET), "its labels, native"),
        (colorize(nearest_subsample(item["label"], factor)[window], LABEL_SET), "window at 1x: nearest"),
        (colorize(small["label"][window], LABEL_SET), "window at 1x: the thin-class rule"),
        (to_uint8(small["image"][:, window[0], window[1]]), "window at 1x: photo, area average"),
    ]
    fig = Figure(figsize=(13, 2.6))
    axes = fig.subplots(1, len(panels), gridspec_kw={"width_ratios": [4, 4, 2.4, 2.4, 2.4]})
    for ax, (image, title) in zip(axes, panels):
        _show(ax, image, title)
    for ax in axes[:2]:
        ax.add_patch(Rectangle((left, top), right - left, bottom - top, fill=False, ec="white", lw=1.2))
    fig.tight_layout()
    return fig


# --- notebook 05: the shipped CamVid model ---------------------------------------------------------

@torch.no_grad()
def renders_figure(G, ds: CamVid, indices=(0, 30, 60), noise_seed: int = 0) -> Figure:
    """Rows of (1x labels, real photo at 1x, ``G``'s render of those labels) for val frames ``indices``."""
    fig = Figure(figsize=(7.5, 1.9 * len(indices)))
    axes = fig.subplots(len(indices), 3, squeeze=False)
    for row, index in enumerate(indices):
        frame = ds.at_scale(index, 1)
        fake = render(G, semantics_at(G, ds, index), noise_seed=noise_seed)[0]
        for ax, image, title in zip(axes[row], (colorize(frame["label"], LABEL_SET), to_uint8(frame["image"]),
                                                 to_uint8(fake)), ("labels (1x, 90x120)", "real photo", "PosGen")):
            _show(ax, image, title if row == 0 else "")
    fig.tight_layout()
    return fig


# --- notebook 06: rendering above the labels, against the real native photo ---------------------

def amplitudes(A, textures=None) -> dict[float, str]:
    """{texture amplitude: its name} to show ``A`` at: ``textures``, or the base (0), the model's operating
    point (the amplitude its renders use by default) and full texture (1)."""
    default = A.cfg.anyres_texture
    chosen = textures if textures is not None else sorted({0.0, default, 1.0})
    return {t: f"texture {t:g}" + (" (the base)" if t == 0 else " (default)" if t == default else "")
            for t in chosen}


@torch.no_grad()
def upscaling_figure(G, A, ds: CamVid, index: int, box: tuple[int, int, int, int] = (140, 160, 300, 380),
                     textures=None) -> Figure:
    """At 4x (the native 360x480 photo), a window ``box`` (top, left, bottom, right; native pixels) of: the
    real photo, bicubic of PosGen's 1x render, and the any-resolution model ``A`` at each texture amplitude
    (:func:`amplitudes`)."""
    native = ds.at_scale(index, 4)
    size = tuple(native["label"].shape)
    top, left, bottom, right = box
    crop = lambda image: to_uint8(image[:, top:bottom, left:right])  # noqa: E731
    panels = [(colorize(native["label"][top:bottom, left:right], LABEL_SET), "labels at 4x"),
              (crop(native["image"]), "real photo (native)"),
              (crop(upscale(G, semantics_at(G, ds, index), size=size, method="bicubic")[0]),
               "bicubic of PosGen's 1x")]
    sem, hr = semantics_at(A, ds, index, 1), semantics_at(A, ds, index, 4)
    for t, name in amplitudes(A, textures).items():
        panels.append((crop(render(A, sem, size=size, labels=hr, texture=t)[0]), f"any-resolution,\n{name}"))
    fig = Figure(figsize=(2.3 * len(panels), 2.2))
    for ax, (image, title) in zip(fig.subplots(1, len(panels)), panels):
        _show(ax, image, title)
    fig.tight_layout()
    return fig


@torch.no_grad()
def upscaling_scores(G, A, ds: CamVid, count: int, textures=None) -> str:
    """Mean PSNR against the native photos at 4x over the first ``count`` val frames: bicubic of the photo's
    own 1x (what the photo itself loses), bicubic of PosGen's 1x, and ``A`` at each texture amplitude
    (:func:`amplitudes`)."""
    rows: dict[str, list[float]] = {}
    for index in range(min(count, len(ds))):
        native, small = ds.at_scale(index, 4), ds.at_scale(index, 1)
        size = tuple(native["label"].shape)
        photo = native["image"][None]
        images = {"bicubic of the real 1x photo": F.interpolate(small["image"][None], size=size, mode="bicubic",
                                                                 align_corners=False).clamp(-1, 1),
                  "bicubic of PosGen's 1x": upscale(G, semantics_at(G, ds, index), size=size, method="bicubic")}
        sem, hr = semantics_at(A, ds, index, 1), semantics_at(A, ds, index, 4)
        for t, name in amplitudes(A, textures).items():
            images[f"any-resolution, {name}"] = render(A, sem, size=size, labels=hr, texture=t)
        for name, image in images.items():
            rows.setdefault(name, []).append(psnr(image, photo))
    width = max(map(len, rows))
    return "\n".join([f"{'4x (360x480) against the real photo':<{width}}  PSNR dB"] +
                     [f"{name:<{width}}  {np.mean(v):7.2f}" for name, v in rows.items()])


# --- notebook 07: the CamVid segmenter as a judge ------------------------------------------------

@torch.no_grad()
def segmenter_table(segmenter, G, ds: CamVid, count: int) -> str:
    """Per-class IoU (%) of the CamVid segmenter on the first ``count`` val frames at 1x: on the real photos
    and on ``G``'s renders of their labels (void pixels are not scored)."""
    real, fake = SegmentationScore(len(segmenter.label_ids)), SegmentationScore(len(segmenter.label_ids))
    for index in range(min(count, len(ds))):
        frame = ds.at_scale(index, 1)
        target = segmenter.class_index(frame["label"])[None]
        real.update(segmenter.predict(frame["image"][None]), target)
        fake.update(segmenter.predict(render(G, semantics_at(G, ds, index))), target)
    real_iou, fake_iou = real.per_class_iou(), fake.per_class_iou()
    lines = [f"{'class':<12}{'photos':>8}{'PosGen':>8}"]
    for name, a, b in zip(segmenter.names, real_iou, fake_iou):
        lines.append(f"{name:<12}{100 * a:>8.1f}{100 * b:>8.1f}")
    lines.append(f"{'mIoU':<12}{100 * real.miou():>8.1f}{100 * fake.miou():>8.1f}")
    return "\n".join(lines)
