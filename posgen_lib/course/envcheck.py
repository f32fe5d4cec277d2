"""What notebook 00 checks: versions, device, budget mode, data and the shipped model.

``pg.environment_report()`` collects everything into an :class:`EnvironmentReport`,
which prints as a table (its ``repr``) and lists, in ``problems``, whatever
would stop the course notebooks from working, each with the fix.
"""
from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import torch

from ..config import fast_mode
from ..data import cityscapes, cocostuff
from ..data.build import default_root
from ..models.registry import pretrained_path
from ..runtime import default_device
from .cache import checkpoint_dir, shown

PACKAGES = ("torch", "torchvision", "numpy", "matplotlib", "ipywidgets", "jupyterlab", "nbgrader")
NEEDED = {"torch", "torchvision", "numpy", "matplotlib", "ipywidgets"}  # the notebooks import these
REAL_DATASETS = {"cityscapes": cityscapes, "coco_stuff": cocostuff}


@dataclass
class DatasetStatus:
    name: str
    root: Path
    examples: dict[str, int] = field(default_factory=dict)  # split -> examples found
    problems: int = 0  # files that do not pair up (see `posgen data check`)

    @property
    def found(self) -> bool:
        return sum(self.examples.values()) > 0

    def describe(self) -> str:
        if not self.root.is_dir():
            return f"not found at {shown(self.root)} (synthetic street scenes are used instead)"
        counts = ", ".join(f"{split} {n}" for split, n in self.examples.items())
        extra = f"; {self.problems} problems, run `posgen data check {self.name}`" if self.problems else ""
        return f"{shown(self.root)}: {counts}{extra}"


@dataclass
class EnvironmentReport:
    python: str
    versions: dict[str, str | None]  # package -> version, None when not installed
    device: str
    device_name: str  # the GPU's name, "" on CPU
    threads: int
    fast: bool
    datasets: list[DatasetStatus]
    pretrained: Path | None
    problems: list[str]
    checkpoints: Path = field(default_factory=checkpoint_dir)  # where notebooks train (POSGEN_CKPT_DIR)

    @property
    def ok(self) -> bool:
        return not self.problems

    def rows(self) -> list[tuple[str, str]]:
        rows = [("python", self.python)]
        rows += [(name, version or "not installed") for name, version in self.versions.items()]
        gpu = f" ({self.device_name})" if self.device_name else ""
        rows += [("device", f"{self.device}{gpu}, {self.threads} CPU threads for PyTorch"),
                 ("POSGEN_FAST", "1: tiny budgets (tests, CI)" if self.fast else "0: full budgets")]
        rows += [(f"data: {d.name}", d.describe()) for d in self.datasets]
        rows.append(("pretrained model", _package_relative(self.pretrained) if self.pretrained else "missing"))
        rows.append(("checkpoints", f"{shown(self.checkpoints)} (POSGEN_CKPT_DIR; notebooks train into it)"))
        return rows

    def __repr__(self) -> str:
        width = max(len(key) for key, _ in self.rows())
        lines = [f"{key:<{width}}  {value}" for key, value in self.rows()]
        lines += ["", "all good" if self.ok else "problems:"] + [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


def _package_relative(path: Path) -> str:
    """A file of the installed package as ``posgen_lib/...`` (no absolute path of this machine)."""
    package = Path(__file__).resolve().parents[1]
    try:
        return (Path(package.name) / Path(path).resolve().relative_to(package)).as_posix()
    except ValueError:
        return shown(path)


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def dataset_status(name: str, splits=("train", "val")) -> DatasetStatus:
    """How many examples of a real dataset are under ``$POSGEN_DATA_DIR/<name>`` (no file is read)."""
    status = DatasetStatus(name, default_root(name))
    if status.root.is_dir():
        for split in splits:
            examples, problems = REAL_DATASETS[name].find_examples(status.root, split)
            status.examples[split] = len(examples)
            status.problems += len(problems)
    return status


def environment_report() -> EnvironmentReport:
    """Check the environment the course notebooks run in (see the module docstring)."""
    versions = {name: _version(name) for name in PACKAGES}
    problems = [f"{name} is not installed: run `make lab` (or pip install -e '.[notebooks]')"
                for name in sorted(NEEDED) if versions[name] is None]
    try:
        device = default_device()
    except ValueError as err:  # POSGEN_DEVICE names a device that is not there
        problems.append(f"{err} (POSGEN_DEVICE={os.environ.get('POSGEN_DEVICE')})")
        device = torch.device("cpu")
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else ""
    try:
        pretrained = pretrained_path("synthetic")
    except FileNotFoundError as err:
        pretrained = None
        problems.append(str(err))
    return EnvironmentReport(
        python=platform.python_version(), versions=versions, device=str(device),
        device_name=name, threads=torch.get_num_threads(), fast=fast_mode(),
        datasets=[dataset_status(n) for n in REAL_DATASETS], pretrained=pretrained, problems=problems)
