"""Segmenters that score generated images: the shipped synthetic one and user-supplied ones.

Semantic image synthesis is evaluated by segmenting the generated images and
comparing the prediction with the input label map (Park et al., SPADE, CVPR
2019, Sec. 4 "Evaluation metrics": mIoU and pixel accuracy with DRN-D-105 on
Cityscapes and DeepLab-v2 on COCO-Stuff). Those networks' weights cannot be
downloaded here, so:

* :class:`SmallSegmenter` -- a small fully convolutional network trained by
  ``posgen segmenter train`` (:mod:`posgen_lib.eval.segmenter_train`) and shipped
  for two datasets (float16 weights): ``segmenter_synthetic.pt`` (0.3M
  parameters, the procedural streets' ground-truth photos,
  ``docs/model_card_segmenter.md``) and ``segmenter_camvid.pt`` (1.2M, the real
  CamVid train photos, ``docs/model_card_segmenter_camvid.md``). Encoder to 1/8 resolution with dilated
  residual blocks (Yu et al., "Dilated Residual Networks", CVPR 2017), a
  two-skip decoder, logits at the input size; any input size works.
* :func:`load_user_segmenter` -- a TorchScript file supplied by the user (e.g.
  DRN-D-105 for Cityscapes or DeepLab-v2 for COCO-Stuff, exported with
  ``torch.jit.save``), wrapped so it takes the same input.

Every segmenter here is called as ``seg(images)`` with images (B, 3, H, W) in
[-1, 1] and returns class scores (B, K, H, W); ``seg.label_ids[k]`` is the
dataset label id of class index k, and :meth:`class_index` maps label-id maps
to class indices (255 = ignored).
"""
from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..checkpoint import load_checkpoint, save_checkpoint
from ..data.labels import get_label_set
from ..errors import CheckpointError

FORMAT = "posgen-segmenter-v1"
IGNORE = 255
SHIPPED = {"synthetic": "segmenter_synthetic.pt", "camvid": "segmenter_camvid.pt"}  # dataset -> asset


@dataclass
class SegmenterConfig:
    """Widths of :class:`SmallSegmenter` (encoder at 1/2, 1/4, 1/8) and its dilations at 1/8."""

    widths: tuple[int, int, int] = (16, 32, 64)
    dilations: tuple[int, ...] = (1, 2, 4)
    decoder_width: int = 32


def _conv_bn(cin: int, cout: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, padding=dilation, dilation=dilation, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class _Residual(nn.Module):
    """x + BN(conv(ReLU(BN(conv(x))))), both 3x3 convs dilated by ``dilation``; then ReLU."""

    def __init__(self, width: int, dilation: int):
        super().__init__()
        self.body = nn.Sequential(
            _conv_bn(width, width, dilation=dilation),
            nn.Conv2d(width, width, 3, padding=dilation, dilation=dilation, bias=False),
            nn.BatchNorm2d(width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.body(x))


class _ClassMap:
    """Class index <-> dataset label id bookkeeping shared by all segmenters."""

    label_ids: tuple[int, ...]
    names: tuple[str, ...]

    def class_index(self, label: torch.Tensor) -> torch.Tensor:
        """Label-id map (any shape, int) -> class-index map, :data:`IGNORE` where no class."""
        lut = torch.full((max(256, max(self.label_ids) + 1),), IGNORE, dtype=torch.long)
        lut[list(self.label_ids)] = torch.arange(len(self.label_ids))
        label = label.long()
        inside = (label >= 0) & (label < lut.numel())
        return torch.where(inside, lut.to(label.device)[label.clamp(0, lut.numel() - 1)], IGNORE)

    @torch.no_grad()
    def predict(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) in [-1, 1] -> class-index map (B, H, W)."""
        return self(images).argmax(1)


class SmallSegmenter(nn.Module, _ClassMap):
    """Fully convolutional segmenter: images (B, 3, H, W) in [-1, 1] -> logits (B, K, H, W), any H, W."""

    def __init__(self, cfg: SegmenterConfig, label_ids: tuple[int, ...], names: tuple[str, ...]):
        super().__init__()
        if len(label_ids) != len(names):
            raise ValueError(f"{len(label_ids)} label ids but {len(names)} class names")
        self.cfg, self.label_ids, self.names = cfg, tuple(label_ids), tuple(names)
        w2, w4, w8 = cfg.widths
        self.stem = _conv_bn(3, w2, stride=2)  # 1/2
        self.down4 = nn.Sequential(_conv_bn(w2, w4, stride=2), _Residual(w4, 1))  # 1/4
        self.down8 = nn.Sequential(_conv_bn(w4, w8, stride=2),
                                   *[_Residual(w8, d) for d in cfg.dilations])  # 1/8
        d = cfg.decoder_width
        self.fuse4 = _conv_bn(w8 + w4, d)  # 3x3 at 1/4
        self.fuse2 = nn.Sequential(nn.Conv2d(d + w2, d, 1, bias=False), nn.BatchNorm2d(d),
                                   nn.ReLU(inplace=True))  # 1x1 at 1/2: cheap, keeps thin objects
        self.classifier = nn.Conv2d(d, len(label_ids), 1)
        self.num_features = w8  # for torchmetrics: width of :meth:`pooled_features`

    def encode(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Feature maps at 1/2, 1/4 and 1/8 of the input size."""
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"segmenter input must be (B, 3, H, W) images in [-1, 1], got {tuple(images.shape)}")
        f2 = self.stem(images)  # (B, w2, H/2, W/2)
        f4 = self.down4(f2)  # (B, w4, H/4, W/4)
        return f2, f4, self.down8(f4)  # (B, w8, H/8, W/8)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        f2, f4, f8 = self.encode(images)
        up = lambda x, ref: F.interpolate(x, size=ref.shape[-2:], mode="bilinear", align_corners=False)  # noqa: E731
        x = self.fuse4(torch.cat([up(f8, f4), f4], 1))  # (B, d, H/4, W/4)
        x = self.fuse2(torch.cat([up(x, f2), f2], 1))  # (B, d, H/2, W/2)
        return up(self.classifier(x), images)  # (B, K, H, W)

    def pooled_features(self, images: torch.Tensor) -> torch.Tensor:
        """Spatial mean of the 1/8-resolution features: (B, 3, H, W) -> (B, num_features)."""
        return self.encode(images)[2].mean(dim=(2, 3))


def save_segmenter(model: SmallSegmenter, path: str | Path, card: dict | None = None) -> Path:
    """Atomically write ``model`` with float16 weights (loaded back as float32) and a model card."""
    weights = {k: v.detach().cpu().half() if v.is_floating_point() else v.detach().cpu()
               for k, v in model.state_dict().items()}
    return save_checkpoint(path, {"format": FORMAT, "config": asdict(model.cfg), "weights": weights,
                                  "label_ids": list(model.label_ids), "names": list(model.names),
                                  "card": card or {}})


def shipped_segmenter_path(dataset: str = "synthetic") -> Path:
    """Where the shipped segmenter of ``dataset`` lives inside the package (whether or not it exists)."""
    if dataset not in SHIPPED:
        raise ValueError(f"no shipped segmenter for {dataset!r} (shipped: {', '.join(SHIPPED)}); pass a "
                         "TorchScript one with --segmenter FILE")
    return Path(str(resources.files("posgen_lib") / "assets" / SHIPPED[dataset]))


def load_segmenter(path: str | Path | None = None, device="cpu", dataset: str = "synthetic") -> SmallSegmenter:
    """The shipped segmenter of ``dataset`` (``path=None``) or one written by :func:`save_segmenter`."""
    path = Path(path) if path is not None else shipped_segmenter_path(dataset)
    if not path.is_file():
        hint = (f"reinstall posgen-lib, or train it: posgen segmenter train --dataset {dataset} --out {path}"
                if path == shipped_segmenter_path(dataset) else "train one with `posgen segmenter train --out FILE`")
        raise FileNotFoundError(f"no segmenter weights at {path}; {hint}")
    state = load_checkpoint(path, formats=(FORMAT,))
    cfg = SegmenterConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in state["config"].items()})
    model = SmallSegmenter(cfg, tuple(state["label_ids"]), tuple(state["names"]))
    try:
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state["weights"].items()})
    except RuntimeError as err:
        raise CheckpointError(f"{path}: weights do not fit the segmenter its config describes "
                              f"({str(err).splitlines()[0]})") from None
    model.card = state.get("card", {})
    return model.to(device).eval()


# ----- user-supplied segmenters (Cityscapes, COCO-Stuff) ---------------------------------------

class UserSegmenter(nn.Module, _ClassMap):
    """A TorchScript segmenter taking RGB in [0, 1] (its own normalisation inside), wrapped to take [-1, 1]."""

    def __init__(self, scripted: nn.Module, label_ids: tuple[int, ...], names: tuple[str, ...]):
        super().__init__()
        self.net, self.label_ids, self.names = scripted, tuple(label_ids), tuple(names)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        scores = self.net((images.float() + 1) / 2)  # (B, K, h, w)
        if scores.dim() != 4 or scores.shape[1] != len(self.label_ids):
            raise ValueError(f"the user segmenter returned {tuple(scores.shape)}; expected (B, "
                             f"{len(self.label_ids)}, h, w) class scores for this label set")
        return F.interpolate(scores, size=images.shape[-2:], mode="bilinear", align_corners=False)


def _user_classes(label_set: str) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """Output channel -> label id: Cityscapes' 19 train ids; COCO-Stuff's 182 ids; synthetic's 12 classes."""
    if label_set == "cityscapes":
        from cityscapesscripts.helpers.labels import labels

        train = sorted((lab.trainId, lab.id, lab.name) for lab in labels if 0 <= lab.trainId < 255)
        return tuple(i for _, i, _ in train), tuple(n for _, _, n in train)

    ls = get_label_set(label_set)
    return ls.ids, ls.names


def load_user_segmenter(path: str | Path | None, label_set: str, device="cpu") -> UserSegmenter:
    """Load a user's TorchScript segmenter for ``label_set``; a clear message when there is none.

    Contract: ``torch.jit.load(path)(x)`` with x (B, 3, H, W) RGB in [0, 1] returns (B, K, h, w)
    scores; K = 19 (Cityscapes train ids 0..18), 182 (COCO-Stuff ids 0..181) or 12 (synthetic).
    """
    if path is None or not Path(path).is_file():
        what = f"--segmenter {path} does not exist" if path is not None else "no --segmenter given"
        raise FileNotFoundError(
            f"{what}: mIoU on {label_set} needs a segmentation network for real photos, e.g. DRN-D-105 "
            "(Cityscapes) or DeepLab-v2 (COCO-Stuff) as SPADE used. Their published weights cannot be "
            "downloaded by this package; export yours with torch.jit.save (input RGB in [0, 1], output "
            "(B, K, h, w) scores) and pass --segmenter FILE. See docs/metrics.md")
    try:
        with warnings.catch_warnings():  # torch.jit.load's deprecation notice means nothing to users here
            warnings.simplefilter("ignore", FutureWarning)
            scripted = torch.jit.load(str(path), map_location="cpu")
    except Exception as err:  # not a TorchScript archive
        raise ValueError(f"--segmenter {path} is not a TorchScript file ({type(err).__name__}); "
                         "save the model with torch.jit.save(torch.jit.script(model), path)") from None
    ids, names = _user_classes(label_set)
    return UserSegmenter(scripted, ids, names).to(device).eval()
