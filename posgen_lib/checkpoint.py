"""Checkpoints that lose nothing.

A checkpoint is one file holding plain data only (tensors, numbers, strings,
lists, dicts), so it loads with ``torch.load(..., weights_only=True)``:

    format       "posgen-checkpoint-v1"
    config       Config.to_dict()
    generator    state dict            discriminator, encoder, ema   state dicts (or None)
    opt_G, opt_D optimizer state dicts
    step, epoch, position              position = batches already consumed in this epoch
    rng          torch (and CUDA) generator states, Python's random state
    log          the last logged losses

Writes are atomic: the bytes go to a temporary file in the same folder, are
flushed to disk, and only then renamed over the target (``os.replace`` is
atomic on POSIX and Windows). A kill -9 in the middle of a write leaves the
previous checkpoint untouched; the stray temporary file is ignored and removed
by the next save. Old checkpoints beyond ``keep`` are deleted only after the
new one is safely on disk.
"""
from __future__ import annotations

import os
import pickle
import re
from pathlib import Path

import torch

from .errors import CheckpointError
from .records import atomic_write

FORMAT = "posgen-checkpoint-v1"
MODEL_FORMAT = "posgen-model-v1"  # a generator for inference: config + weights + model card
_STEP_FILE = re.compile(r"^step_(\d+)\.pt$")


def save_checkpoint(path: str | Path, state: dict) -> Path:
    """Atomically write ``state`` to ``path`` (temp file + fsync + rename, :func:`~posgen_lib.records.atomic_write`).

    A full or read-only disk raises :class:`~posgen_lib.errors.DiskError` (one
    line saying so); the file at ``path`` is then exactly what it was before.
    """
    path = atomic_write(path, lambda f: torch.save(state, f))
    _fsync_dir(path.parent)
    return path


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open directories
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# How the files a user may pass by mistake begin; torch.save writes a zip archive (legacy: a pickle).
OTHER_FILES = {b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image", b"GIF8": "a GIF image",
               b"%PDF": "a PDF document", b"{": "a JSON or text file", b"\x1f\x8b": "a gzip archive"}
TORCH_FILE_STARTS = (b"PK\x03\x04", b"\x80")


def _other_kind(path: Path) -> str | None:
    """What ``path`` is when its first bytes show it is not a torch file (an image, a text ...), else None."""
    with open(path, "rb") as f:
        head = f.read(8)
    if not head or head.startswith(TORCH_FILE_STARTS):
        return None
    return next((kind for start, kind in OTHER_FILES.items() if head.startswith(start)), "not a PyTorch file")


def _why_unreadable(err: Exception) -> str:
    """A one-line reason for a failed ``torch.load(weights_only=True)``."""
    if isinstance(err, pickle.UnpicklingError):
        found = re.search(r"Unsupported global: GLOBAL ([\w.]+)", str(err))
        what = f" ({found.group(1)})" if found else ""
        return (f"it holds Python objects{what} that a weights-only load refuses to run; PosGen "
                "never writes such files, so it is not a PosGen checkpoint")
    if isinstance(err, EOFError) or not str(err).strip():
        return "it is empty or cut short (an interrupted copy?)"
    first = next((line.strip() for line in str(err).splitlines() if line.strip()), "")
    if len(first) > 160:  # cut at a word, never inside a name
        first = first[: first.rfind(" ", 0, 160)] + " ..."
    return f"it is truncated or damaged ({type(err).__name__}: {first})"


def weights_mismatch(err: RuntimeError, shown: int = 3) -> str:
    """One line from ``load_state_dict``'s error: which keys are missing, unexpected or of another shape,
    each name whole (the first ``shown`` of each kind, then how many more)."""
    text = str(err)
    parts = []
    for kind in ("Missing", "Unexpected"):
        found = re.search(rf"{kind} key\(s\) in state_dict: (.*?)\.\s*$", text, flags=re.M)
        if found:
            keys = re.findall(r'"([^"]+)"', found.group(1))
            more = f" and {len(keys) - shown} more" if len(keys) > shown else ""
            parts.append(f"{kind.lower()} {', '.join(keys[:shown])}{more}")
    shapes = re.findall(r"size mismatch for ([^:]+):", text)
    if shapes:
        more = f" and {len(shapes) - shown} more" if len(shapes) > shown else ""
        parts.append(f"other shape {', '.join(shapes[:shown])}{more}")
    return "; ".join(parts) or next((line.strip() for line in text.splitlines() if line.strip()), "")


def load_checkpoint(path: str | Path, map_location="cpu", formats=(FORMAT,)) -> dict:
    """Load a checkpoint with ``weights_only=True``; a one-line CheckpointError if it is not usable."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    other = _other_kind(path)
    if other is not None:
        raise CheckpointError(f"{path} is {other}, not a PosGen checkpoint; give a model.pt, a training "
                              "checkpoint (checkpoints/step_*.pt) or pretrained:NAME")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # truncated zip, empty file, pickled objects ...
        raise CheckpointError(f"cannot read checkpoint {path}: {_why_unreadable(err)}") from None
    if not isinstance(state, dict) or state.get("format") not in formats:
        raise CheckpointError(f"{path} is not a PosGen checkpoint (expected format {' or '.join(formats)})")
    return state


def save_model(path: str | Path, generator, cfg, card: dict | None = None, half: bool = False) -> Path:
    """Write a generator for inference (``half=True`` stores float16 weights, loaded back as float32).

    The config says which generator it is (``cfg.model.generator``);
    :func:`posgen_lib.models.registry.load_generator` reads it back.
    """
    weights = {k: v.detach().cpu() for k, v in generator.state_dict().items()}
    if half:
        weights = {k: v.half() if v.is_floating_point() else v for k, v in weights.items()}
    return save_checkpoint(path, {"format": MODEL_FORMAT, "config": cfg.to_dict(),
                                  "generator": weights, "card": card or {}})


def step_path(folder: str | Path, step: int) -> Path:
    return Path(folder) / f"step_{step:07d}.pt"


def list_checkpoints(folder: str | Path) -> list[Path]:
    """``step_*.pt`` files in ``folder``, oldest step first (temporary files excluded)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _STEP_FILE.match(p.name))]
    return [p for _, p in sorted(found)]


def latest_checkpoint(folder: str | Path) -> Path | None:
    found = list_checkpoints(folder)
    return found[-1] if found else None


def prune_checkpoints(folder: str | Path, keep: int) -> None:
    """Delete all but the newest ``keep`` step checkpoints and stray temporary files."""
    folder = Path(folder)
    for old in list_checkpoints(folder)[:-keep] if keep > 0 else []:
        old.unlink()
    for stray in folder.glob(".step_*.pt.*.tmp"):
        stray.unlink(missing_ok=True)
