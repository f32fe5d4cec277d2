"""Load state dicts saved by the official NVlabs/SPADE code.

The modules in this package use SPADE's own names (``head_0.norm_0.mlp_gamma``,
``discriminator_0.model1.0.0.weight_orig`` ...) and PyTorch's hook-based
spectral norm, so an official ``latest_net_G.pth`` / ``_D`` / ``_E`` loads key
for key. :func:`load_official_spade` adds what a user needs around that:

* accepts a path or a dict, strips a ``module.`` prefix (DataParallel/DDP saves);
* also accepts the newer parametrization-style spectral-norm keys
  (``parametrizations.weight.original`` / ``.0._u`` / ``.0._v``) and maps them
  to ``weight_orig`` / ``weight_u`` / ``weight_v``;
* loading an official *generator* into one whose last conv is replaced (PosGen,
  any-resolution PosGen) takes the whole trunk, skips SPADE's ``conv_img`` and
  leaves the module's own parts (``pixel_head``, ``detail``: the top-level
  modules SPADE's generator does not have) as initialized;
* shape mismatches, missing and unexpected keys are reported by name, with
  the config fields that usually cause them.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn

SPADE_GENERATOR_MODULES = {"fc", "head_0", "G_middle_0", "G_middle_1", "up_0", "up_1", "up_2", "up_3", "up_4",
                           "conv_img"}  # the top-level modules of NVlabs/SPADE's generator

_PARAM_STYLE = {
    ".parametrizations.weight.original": ".weight_orig",
    ".parametrizations.weight.0._u": ".weight_u",
    ".parametrizations.weight.0._v": ".weight_v",
}


def _normalize_keys(state_dict: dict) -> dict:
    out = {}
    for key, value in state_dict.items():
        if key.startswith("module."):
            key = key[len("module."):]
        for new, old in _PARAM_STYLE.items():
            if key.endswith(new):
                key = key[: -len(new)] + old
        out[key] = value
    return out


def _read(state_dict) -> dict:
    if isinstance(state_dict, (str, Path)):
        path = Path(state_dict)
        if not path.is_file():
            raise FileNotFoundError(f"no SPADE checkpoint at {path}")
        try:
            state_dict = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as err:  # not a torch file, pickled objects, a damaged file ...
            raise ValueError(f"{path} cannot be read as an official SPADE state dict ({type(err).__name__}); "
                             "pass the latest_net_G.pth / _D / _E file of a SPADE checkpoint folder") from None
    if not isinstance(state_dict, dict):
        raise TypeError(f"expected a state dict or a path, got {type(state_dict).__name__}")
    not_tensors = [key for key, value in state_dict.items() if not isinstance(value, torch.Tensor)]
    if not_tensors:
        first = not_tensors[0]
        raise ValueError(f"not a state dict of tensors: {first!r} holds a {type(state_dict[first]).__name__}; "
                         "pass the network's own state dict (latest_net_G.pth), not a whole training checkpoint")
    return state_dict


def load_official_spade(module: nn.Module, state_dict, strict: bool = True) -> nn.Module:
    """Load an official SPADE state dict (G, D or E) into ``module``; returns ``module``.

    With ``strict=True`` any missing or unexpected key is an error that lists
    them; with ``strict=False`` they are skipped with a warning. Values are cast
    to the module's dtype (the golden files store float16).
    """
    incoming = _normalize_keys(_read(state_dict))
    own = module.state_dict()
    expected_extra, expected_missing = set(), set()
    if "conv_img.weight" in incoming and "conv_img.weight" not in own:  # a generator that replaced SPADE's last conv
        expected_extra = {k for k in incoming if k.startswith("conv_img.")}
        expected_missing = {k for k in own if k.split(".")[0] not in SPADE_GENERATOR_MODULES}

    unexpected = sorted(set(incoming) - set(own) - expected_extra)
    missing = sorted(set(own) - set(incoming) - expected_missing)
    mismatched = [f"{k}: checkpoint {tuple(incoming[k].shape)} vs module {tuple(own[k].shape)}"
                  for k in sorted(set(incoming) & set(own)) if incoming[k].shape != own[k].shape]
    if mismatched:
        raise ValueError(
            f"{len(mismatched)} tensor(s) have the wrong shape for {type(module).__name__} "
            "(check label_nc / contain_dontcare_label / use_instance / ngf / ndf / "
            "num_upsampling_layers / use_vae in the ModelConfig):\n  " + "\n  ".join(mismatched[:20]))
    if missing or unexpected:
        msg = (f"state dict does not match {type(module).__name__}: "
               f"{len(missing)} missing key(s) {missing[:8]}, "
               f"{len(unexpected)} unexpected key(s) {unexpected[:8]}")
        if strict:
            raise KeyError(msg + " (pass strict=False to load the keys that match)")
        warnings.warn(msg, stacklevel=2)

    to_load = {k: v for k, v in incoming.items() if k in own}
    module.load_state_dict(to_load, strict=False)
    return module
