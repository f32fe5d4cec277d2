"""Dataclass configs and named presets.

A :class:`Config` bundles three plain dataclasses:

* :class:`ModelConfig` -- the generator, discriminator and encoder shapes. Field
  names follow the official SPADE option names where one exists (``ngf``,
  ``ndf``, ``label_nc``, ``num_upsampling_layers`` ...), so the presets can be
  checked against SPADE's option parser line by line.
* :class:`DataConfig` -- which dataset, where it lives, and SPADE's
  preprocessing (load size, crop size, flip).
* :class:`TrainConfig` -- the optimisation recipe (hinge loss, feature matching,
  TTUR Adam, linear decay) and the bookkeeping (logging, checkpoints).

Presets (``pg.preset(name)``):

=============  ==============================================================
``tiny``       unit tests: 32x64 output, a few thousand parameters
``synthetic``  the CPU course: 64x128 procedural street scenes, minutes to train
``cityscapes`` SPADE's Cityscapes setting: 256x512, ``more`` upsampling, 35 ids
``coco_stuff`` SPADE's COCO-Stuff setting: 256x256, 182 ids + dontcare
``camvid``     real CamVid street photos on a CPU: 90x120 labels (a quarter of 360x480)
=============  ==============================================================

``POSGEN_FAST=1`` (set by the test suite and inherited by notebook kernels)
turns step budgets into tiny ones; see :func:`fast_mode` and :func:`budget`.
"""
from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field

UPSAMPLING_LAYERS = {"normal": 5, "more": 6, "most": 7}
SPADE_NORMS = ("batch", "syncbatch", "instance")
MODULATIONS = ("spade", "clade")  # ModelConfig.modulation
# SPADE's own trunk as the official code builds it: its modulation, no noise inputs. A preset may choose other
# trunk options for PosGen (synthetic: CLADE); the SPADE baseline keeps these (ModelConfig.spade_baseline).
SPADE_TRUNK = {"modulation": "spade", "noise": False, "noise_init": 0.0}
GAN_MODES = ("hinge", "ls", "original")
AMP_MODES = ("auto", "off", "bf16", "fp16")
COMPILE_MODES = ("off", "generator", "all")
REMOVED_TRAIN_FIELDS = ("d_steps_per_g",)  # in configs of older checkpoints; never had an effect
GENERATORS = ("posgen", "spade", "pixelwise", "anyres")  # ModelConfig.generator
ANYRES_SAMPLING = ("bilinear", "unfold")


@dataclass
class ModelConfig:
    """Shapes of the generators, discriminator and encoder."""

    # Which generator (posgen_lib.models.registry): "posgen", "spade" (the
    # baseline), "pixelwise" (notebook 08) or "anyres" (any-resolution PosGen).
    generator: str = "posgen"
    # Input semantics: one-hot label channels (+ dontcare) (+ instance edges).
    label_nc: int = 35
    contain_dontcare_label: bool = False
    use_instance: bool = True
    # Output size at the training resolution, (height, width).
    image_size: tuple[int, int] = (256, 512)
    # SPADE trunk (posgen, spade, anyres; the pixelwise generator has none and ignores these).
    num_upsampling_layers: str = "more"
    ngf: int = 64
    spade_hidden: int = 128  # SPADE's hard-coded `nhidden`
    spade_norm: str = "syncbatch"  # parameter-free norm inside SPADE
    spade_kernel: int = 3
    # How the trunk's normalizations read the labels: "spade" (SPADE's convolutions over the label map) or
    # "clade" (one learned scale and bias per class, Tan et al. 2021: a fraction of SPADE's cost).
    modulation: str = "spade"
    # Per-pixel noise added to every trunk block's output, scaled per channel by learned strengths that
    # start at noise_init (StyleGAN's noise inputs start at 0); render with noise_seed= for a given sample.
    noise: bool = False
    noise_init: float = 0.0
    spectral_norm_G: bool = True
    use_vae: bool = False
    z_dim: int = 256
    init_type: str = "xavier"
    init_gain: float = 0.02
    # PixelHead (PosGen only): widths of the Fourier layers and hidden layers.
    head_feat_fourier: int = 256
    head_coord_fourier: int = 256
    head_hidden: int = 256
    # Std of the coordinate Fourier weights W_c at init. Large values start
    # the head with high spatial frequencies (axis-aligned stripe artifacts).
    head_coord_scale: float = 2.0
    # PixelwiseGenerator (posgen_lib.models.pixelwise; uses head_coord_fourier/scale too):
    # per-pixel embedding width, modulated layers, and the coarse context grid
    # (labels pooled pixelwise_context x pixelwise_context; 0 = no context).
    pixelwise_embed: int = 64
    pixelwise_hidden: int = 128
    pixelwise_layers: int = 4
    pixelwise_context: int = 16
    pixelwise_context_channels: int = 64
    # Any-resolution PosGen (posgen_lib.models.anyres): a residual per-pixel detail head on the
    # trunk feature of the pixel's cell, its offset in the cell, the output pixel size, an
    # embedding of the semantics at the output resolution, and coordinate Fourier features.
    anyres_hidden: int = 128
    anyres_embed: int = 32
    anyres_coord_fourier: int = 64
    anyres_coord_scale: float = 8.0  # std of its coordinate frequencies at init (finer than the head's)
    anyres_sampling: str = "bilinear"  # trunk feature at the pixel: "bilinear", or "unfold" (nearest cell's 3x3)
    anyres_residual: bool = False  # add to PosGen's head logits instead (last layer zero-initialised)
    anyres_offset: bool = False  # also read the offset in the trunk cell (LIIF); lets a GAN paint a cell grid
    # The texture branch (posgen_lib.models.texture): a zero-mean residual from per-pixel value noise of
    # anyres_noise_octaves octaves, modulated by the labels; 0 hidden units = no texture branch.
    anyres_texture_hidden: int = 0
    anyres_texture_embed: int = 16
    anyres_noise_octaves: int = 4
    anyres_texture: float = 1.0  # its amplitude t in [0, 1] when a render does not say (the operating point)
    # The discriminator of high-resolution patches in any-resolution training.
    patch_ndf: int = 32
    patch_n_layers: int = 3
    # Discriminator (multiscale patch GAN) and image encoder.
    ndf: int = 64
    num_D: int = 2
    n_layers_D: int = 4
    spectral_norm_D: bool = True
    d_blur: bool = False  # a [1, 2, 1]^2 blur before every strided conv of the patch discriminator (anti-aliasing)
    seg_ndf: int = 32  # width of OASIS's segmentation discriminator (train.objective "oasis")
    # Encoder input size; SPADE's encoder always resizes to 256x256 and has a
    # sixth layer when crop_size >= 256.
    encoder_crop_size: int = 256

    def with_generator(self, kind: str) -> "ModelConfig":
        """A copy of this config for another generator kind (e.g. the SPADE baseline of a PosGen config)."""
        return dataclasses.replace(self, generator=kind)

    def spade_baseline(self) -> "ModelConfig":
        """SPADE as published, at this config's sizes: the conv-output generator on SPADE's own trunk
        (:data:`SPADE_TRUNK`), whatever trunk options this config chose for PosGen."""
        return dataclasses.replace(self, generator="spade", **SPADE_TRUNK)

    @property
    def semantic_nc(self) -> int:
        """Channels of the generator input: labels (+ dontcare) (+ edges)."""
        return self.label_nc + int(self.contain_dontcare_label) + int(self.use_instance)

    @property
    def num_up(self) -> int:
        """Number of 2x upsamplings between the latent grid and the output."""
        return UPSAMPLING_LAYERS[self.num_upsampling_layers]

    @property
    def latent_size(self) -> tuple[int, int]:
        """(sh, sw): the trunk's starting grid at the training size."""
        h, w = self.image_size
        return -(-h // 2**self.num_up), -(-w // 2**self.num_up)  # ceil: sizes need not be multiples

    @property
    def trunk_channels(self) -> int:
        """Channels of the trunk feature that the final conv / PixelHead sees."""
        return self.ngf // 2 if self.num_upsampling_layers == "most" else self.ngf

    def validate(self) -> None:
        if self.generator not in GENERATORS:
            raise ValueError(f"model.generator={self.generator!r}: choose one of {', '.join(GENERATORS)}")
        if self.num_upsampling_layers not in UPSAMPLING_LAYERS:
            raise ValueError(
                f"num_upsampling_layers={self.num_upsampling_layers!r}: "
                f"choose one of {sorted(UPSAMPLING_LAYERS)}")
        if not 0 <= self.anyres_texture <= 1:
            raise ValueError(f"anyres_texture={self.anyres_texture!r}: the texture amplitude must be in [0, 1]")
        if self.anyres_sampling not in ANYRES_SAMPLING:
            raise ValueError(f"anyres_sampling={self.anyres_sampling!r}: choose one of {', '.join(ANYRES_SAMPLING)}")
        if self.modulation not in MODULATIONS:
            raise ValueError(f"modulation={self.modulation!r}: choose one of {', '.join(MODULATIONS)}")
        if self.noise_init < 0 or (self.noise_init and not self.noise):
            raise ValueError(f"noise_init={self.noise_init!r}: the noise inputs' starting strength must be >= 0, "
                             "and needs noise=True (posgen train --noise on)")
        if self.spade_norm not in SPADE_NORMS:
            raise ValueError(f"spade_norm={self.spade_norm!r}: choose one of {SPADE_NORMS}")
        h, w = self.image_size
        if min(h, w) < 1:
            raise ValueError(f"image_size={self.image_size} must be positive")


@dataclass
class DataConfig:
    """Which dataset and SPADE's preprocessing of it."""

    dataset: str = "synthetic"  # synthetic | cityscapes | coco_stuff | camvid
    root: str | None = None  # folder of a real dataset; see data/README.md
    label_set: str = "synthetic"  # synthetic | cityscapes | coco_stuff | camvid
    preprocess_mode: str = "fixed"  # resize_and_crop | scale_width_and_crop | fixed | none
    load_size: int = 512
    crop_size: int = 512
    aspect_ratio: float = 2.0
    flip: bool = True
    train_crop: tuple[int, int] | None = None  # (h, w): a random window of each training item (CamVid)
    num_workers: int = 0
    synthetic_length: int = 100_000  # scenes per "epoch" of the procedural set
    synthetic_seed: int = 0


@dataclass
class TrainConfig:
    """SPADE's training recipe plus bookkeeping."""

    batch_size: int = 32  # global batch, split across processes
    epochs: int = 50
    steps: int | None = None  # overrides epochs when set
    decay_start: float = 0.5  # fraction of training after which lr decays linearly to 0
    lr: float = 2e-4
    ttur: bool = True  # G lr = lr/2, D lr = lr*2, betas (0, 0.9); else lr, (0.5, 0.999)
    beta1: float = 0.0
    beta2: float = 0.9
    gan_mode: str = "hinge"
    lambda_feat: float = 10.0  # feature matching; 0 disables it
    lambda_vgg: float = 10.0  # used only when vgg_weights points to a file
    vgg_weights: str | None = None
    lambda_kld: float = 0.05
    lambda_l1: float = 0.0  # L1 to the real photo (not in SPADE; see the synthetic preset)
    # The objective, when not the generator kind's own (posgen_lib.train.objectives): "oasis" replaces SPADE's
    # patch discriminator and feature matching by OASIS's segmentation discriminator with LabelMix.
    objective: str | None = None
    lambda_labelmix: float = 10.0  # OASIS's LabelMix consistency weight
    ema_decay: float | None = None
    amp: str = "auto"  # auto | off | bf16 | fp16
    channels_last: bool = True  # NHWC convolutions (measured faster on CPU; see docs/training.md)
    compile: str = "off"  # off | generator | all (G and D): torch.compile, measured in docs/training.md
    seed: int = 0
    # Any-resolution training (posgen_lib.train.anyres; generator "anyres"): per image a scale
    # s in [1, anyres_scale_max], anyres_patches patches of anyres_patch^2 output pixels at s
    # (a fraction anyres_boundary centred on class boundaries), against ground truth at s.
    anyres_scale_max: float = 4.0
    anyres_patch: int = 32
    anyres_patches: int = 4
    anyres_boundary: float = 0.5
    lambda_rec: float = 1.0  # L1 on the patches
    lambda_patch_gan: float = 0.03  # hinge GAN of a conditional discriminator on the patches
    lambda_consistency: float = 1.0  # area average of a high-resolution render = the 1x output
    anyres_init: str | None = None  # model file or pretrained:NAME whose trunk and head start the run
    anyres_freeze: bool = True  # with anyres_init: keep that trunk and head fixed, train the new parts
    log_every: int = 10
    sample_every: int = 500
    ckpt_every: int = 1000
    keep: int = 2


    def validate(self) -> None:
        """Every numeric field finite and in its meaningful range (ValueError naming the field)."""
        def check(name: str, ok: bool, want: str) -> None:
            if not ok:
                raise ValueError(f"train.{name}={getattr(self, name)!r}: must be {want}")

        finite = lambda v: isinstance(v, (int, float)) and math.isfinite(v)  # noqa: E731
        check("batch_size", self.batch_size >= 1, "a positive integer")
        check("steps", self.steps is None or self.steps >= 0, "None or >= 0")
        check("epochs", self.epochs >= 1, "a positive integer")
        check("decay_start", finite(self.decay_start) and 0 <= self.decay_start <= 1, "in [0, 1]")
        check("lr", finite(self.lr) and 0 < self.lr <= 1, "finite and in (0, 1] (SPADE uses 2e-4)")
        for name in ("beta1", "beta2"):
            check(name, finite(getattr(self, name)) and 0 <= getattr(self, name) < 1, "in [0, 1)")
        check("gan_mode", self.gan_mode in GAN_MODES, f"one of {', '.join(GAN_MODES)}")
        check("anyres_scale_max", finite(self.anyres_scale_max) and 1 <= self.anyres_scale_max <= 16, "in [1, 16]")
        check("anyres_patch", 4 <= self.anyres_patch <= 256, "in [4, 256]")
        check("anyres_patches", self.anyres_patches >= 1, "a positive integer")
        check("anyres_boundary", finite(self.anyres_boundary) and 0 <= self.anyres_boundary <= 1, "in [0, 1]")
        for name in ("lambda_feat", "lambda_vgg", "lambda_kld", "lambda_l1", "lambda_rec", "lambda_patch_gan",
                     "lambda_consistency", "lambda_labelmix"):
            check(name, finite(getattr(self, name)) and getattr(self, name) >= 0, "finite and >= 0")
        check("ema_decay", self.ema_decay is None or (finite(self.ema_decay) and 0 <= self.ema_decay < 1),
              "None or in [0, 1) (e.g. 0.999)")
        check("amp", self.amp in AMP_MODES, f"one of {', '.join(AMP_MODES)}")
        check("compile", self.compile in COMPILE_MODES, f"one of {', '.join(COMPILE_MODES)}")
        for name in ("log_every", "sample_every", "ckpt_every", "keep"):
            check(name, getattr(self, name) >= 1, "a positive integer")


@dataclass
class Config:
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    name: str = "custom"

    def validate(self) -> "Config":
        self.model.validate()
        self.train.validate()
        return self

    def to_dict(self) -> dict:
        """Plain data (lists, numbers, strings) for checkpoints and logs."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict, source: str = "config") -> "Config":
        """The inverse of :meth:`to_dict`. Configs written before the generator kind moved into
        the model config (``train.generator``) still load. An unknown field is an error naming
        ``source`` (the file it came from)."""
        model, data, train = dict(d["model"]), dict(d["data"]), dict(d["train"])
        for name in REMOVED_TRAIN_FIELDS:
            train.pop(name, None)
        legacy_kind = train.pop("generator", None)
        if legacy_kind is not None:
            model.setdefault("generator", legacy_kind)
        model["image_size"] = tuple(model["image_size"])
        if data.get("train_crop") is not None:
            data["train_crop"] = tuple(data["train_crop"])
        for section, fields, values in (("model", ModelConfig, model), ("data", DataConfig, data),
                                        ("train", TrainConfig, train)):
            unknown = sorted(set(values) - {f.name for f in dataclasses.fields(fields)})
            if unknown:
                raise ValueError(f"{source}: unknown {section} field(s) {', '.join(unknown)}; it was "
                                 "written by another version of posgen_lib or edited by hand")
        return cls(model=ModelConfig(**model), data=DataConfig(**data), train=TrainConfig(**train),
                   name=d.get("name", "custom"))


def config_diff(a: Config, b: Config, sections: tuple[str, ...] = ("model",)) -> list[str]:
    """Human-readable list of fields that differ, e.g. ``['model.ngf: 64 != 32']``."""
    da, db = a.to_dict(), b.to_dict()
    out = []
    for s in sections:
        for k in sorted(set(da[s]) | set(db[s])):
            va, vb = da[s].get(k), db[s].get(k)
            if va != vb:
                out.append(f"{s}.{k}: {va!r} != {vb!r}")
    return out


def _tiny() -> Config:
    return Config(
        name="tiny",
        model=ModelConfig(
            label_nc=35, use_instance=True, image_size=(32, 64), num_upsampling_layers="normal",
            ngf=4, spade_hidden=8, spade_norm="batch", head_feat_fourier=16,
            head_coord_fourier=16, head_hidden=16, anyres_hidden=16, anyres_embed=8, anyres_coord_fourier=8,
            patch_ndf=8, patch_n_layers=2, ndf=4, num_D=2, n_layers_D=3,
            z_dim=8, encoder_crop_size=64),
        data=DataConfig(dataset="synthetic", label_set="synthetic", load_size=64,
                        crop_size=64, aspect_ratio=2.0, synthetic_length=64),
        train=TrainConfig(batch_size=2, steps=4, log_every=1, sample_every=2, ckpt_every=2, anyres_patch=8,
                          anyres_patches=2),
    )


DEMO_TRAIN_MINUTES = 7  # `make demo`'s training budget: 10 minutes from a fresh clone, less install and scoring


def _synthetic() -> Config:
    return Config(
        name="synthetic",
        model=ModelConfig(
            label_nc=35, use_instance=True, image_size=(64, 128), num_upsampling_layers="normal",
            ngf=12, spade_hidden=48, spade_norm="batch", head_feat_fourier=64,
            head_coord_fourier=32, head_hidden=64, head_coord_scale=2.0, pixelwise_embed=32,
            pixelwise_hidden=64, ndf=32, num_D=2, n_layers_D=3, anyres_texture_hidden=32,
            # CLADE: better than SPADE's modulation on mIoU and KID at equal CPU time (docs/training.md)
            modulation="clade"),
        data=DataConfig(dataset="synthetic", label_set="synthetic", load_size=128,
                        crop_size=128, aspect_ratio=2.0, synthetic_length=100_000),
        # the demo's recipe: 2979 CLADE steps (the CPU time of the 2000 steps SPADE's modulation took) with an
        # EMA of the weights (docs/training.md, "The CPU course run", has the measurements behind it)
        train=TrainConfig(batch_size=4, steps=2979, ema_decay=0.999, log_every=10, sample_every=250,
                          ckpt_every=250),
    )


def _cityscapes() -> Config:
    # SPADE: label_nc 35, no dontcare, instance edges, crop 512 aspect 2
    # ("fixed" preprocess), num_upsampling_layers "more", ngf 64.
    return Config(
        name="cityscapes",
        model=ModelConfig(label_nc=35, contain_dontcare_label=False, use_instance=True,
                          image_size=(256, 512), num_upsampling_layers="more",
                          spade_norm="syncbatch"),
        data=DataConfig(dataset="cityscapes", label_set="cityscapes", preprocess_mode="fixed",
                        load_size=512, crop_size=512, aspect_ratio=2.0, num_workers=4),
        train=TrainConfig(epochs=50, batch_size=32, sample_every=2000, ckpt_every=2000),
    )


def _coco_stuff() -> Config:
    # SPADE: label_nc 182 + dontcare (255), instance edges, load 286 crop 256
    # ("resize_and_crop"), aspect 1, num_upsampling_layers "normal", ngf 64.
    return Config(
        name="coco_stuff",
        model=ModelConfig(label_nc=182, contain_dontcare_label=True, use_instance=True,
                          image_size=(256, 256), num_upsampling_layers="normal",
                          spade_norm="syncbatch"),
        data=DataConfig(dataset="coco_stuff", label_set="coco_stuff",
                        preprocess_mode="resize_and_crop", load_size=286, crop_size=256,
                        aspect_ratio=1.0, num_workers=4),
        train=TrainConfig(epochs=25, batch_size=32, sample_every=2000, ckpt_every=2000),
    )


def _camvid() -> Config:
    # CamVid's 11 classes + void (a channel of its own), no instance maps (so no edge channel);
    # 1x = 120x90, a quarter of the 480x360 photos, which are real ground truth at 2x and 4x. SPADE's recipe:
    # no option of docs/training.md's comparison (noise, blurred D, OASIS, CLADE) beat it here at equal time.
    return Config(
        name="camvid",
        model=ModelConfig(
            label_nc=11, contain_dontcare_label=True, use_instance=False, image_size=(90, 120),
            num_upsampling_layers="normal", ngf=12, spade_hidden=48, spade_norm="batch", head_feat_fourier=64,
            head_coord_fourier=32, head_hidden=64, head_coord_scale=2.0, pixelwise_embed=32,
            pixelwise_hidden=64, ndf=32, num_D=2, n_layers_D=3, anyres_texture_hidden=32),
        data=DataConfig(dataset="camvid", label_set="camvid", preprocess_mode="fixed", load_size=120,
                        crop_size=120, aspect_ratio=4 / 3, train_crop=(80, 112)),
        train=TrainConfig(batch_size=4, steps=9000, ema_decay=0.999, lambda_l1=10.0, log_every=10,
                          sample_every=1000, ckpt_every=500),
    )


PRESETS = {"tiny": _tiny, "synthetic": _synthetic, "cityscapes": _cityscapes,
           "coco_stuff": _coco_stuff, "camvid": _camvid}


def preset(name: str) -> Config:
    """A fresh :class:`Config` for a named preset (``tiny``, ``synthetic``, ``cityscapes``, ``coco_stuff``,
    ``camvid``)."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}: choose one of {', '.join(PRESETS)}")
    return PRESETS[name]().validate()


FAST_VALUES = {"1": True, "true": True, "yes": True, "on": True,
               "": False, "0": False, "false": False, "no": False, "off": False}


def fast_mode() -> bool:
    """True when ``POSGEN_FAST`` is 1, true, yes or on (any case): tests and CI run every cell with tiny
    budgets. Unset, empty, 0, false, no and off mean full budgets; any other value is refused."""
    value = os.environ.get("POSGEN_FAST", "")
    if value.strip().lower() not in FAST_VALUES:
        raise ValueError(f"POSGEN_FAST={value!r} is neither true nor false: set it to 1/0, true/false, yes/no "
                         "or on/off, or unset it")
    return FAST_VALUES[value.strip().lower()]


def budget(full: int, fast: int) -> int:
    """A step/image budget: ``fast`` under ``POSGEN_FAST=1``, else ``full``."""
    return fast if fast_mode() else full


# Fields that change how a run executes, not what it computes (up to float rounding); a run's recipe
# (posgen_lib.train.objectives.recipe) leaves them out. The texture amplitude is the one a render uses when it
# does not say: training always draws base and full texture (train.anyres.faithful_and_judged), so it is chosen after.
RUNTIME_FIELDS = {"train": ("amp", "channels_last", "compile", "log_every", "sample_every", "ckpt_every", "keep"),
                  "data": ("num_workers", "root"), "model": ("anyres_texture",)}
