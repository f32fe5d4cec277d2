"""Shared fixtures. Every test runs with POSGEN_FAST=1 (tiny budgets)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

os.environ["POSGEN_FAST"] = "1"
os.environ.setdefault("MPLBACKEND", "Agg")
_WORKER = os.environ.get("PYTEST_XDIST_WORKER")  # "gw0", "gw1", ... under `make test` (pytest-xdist)
if _WORKER:
    # One thread per worker (kernels and subprocesses inherit it), and a checkpoint cache of its own, so two
    # workers never train the same notebook model into one folder at once (the second would be refused).
    os.environ["OMP_NUM_THREADS"] = "1"
    torch.set_num_threads(1)
    from posgen_lib.course.cache import ENV, checkpoint_dir
    os.environ[ENV] = str(checkpoint_dir() / f"pytest-{_WORKER}")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def golden_dir() -> Path:
    path = Path(os.environ.get("POSGEN_GOLDEN_DIR", ROOT / "tests" / "golden" / "spade"))
    if not (path / "inputs.pt").is_file():
        pytest.fail(f"SPADE reference tensors not found in {path}; set POSGEN_GOLDEN_DIR")
    return path


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
    yield


@pytest.fixture(scope="session")
def camvid_dir() -> Path:
    """The real CamVid train/val copy (``../shared/camvid`` beside the repository, or POSGEN_CAMVID_DIR);
    tests that need it are skipped, saying why, on a clone without it."""
    path = Path(os.environ.get("POSGEN_CAMVID_DIR", ROOT.parent / "shared" / "camvid"))
    if not (path / "train").is_dir():
        pytest.skip(f"no CamVid copy at {path} (set POSGEN_CAMVID_DIR to a folder in the SegNet tutorial's layout)")
    return path
