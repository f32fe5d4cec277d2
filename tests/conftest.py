"""Shared fixtures. Every test runs with POSGEN_FAST=1 (tiny budgets)."""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest
import torch

os.environ["POSGEN_FAST"] = "1"
os.environ.setdefault("MPLBACKEND", "Agg")
from posgen_lib.course.cache import ENV  # noqa: E402  (after POSGEN_FAST: the package reads it)
_WORKER = os.environ.get("PYTEST_XDIST_WORKER")  # "gw0", "gw1", ... under `make test` (pytest-xdist)
if _WORKER:  # one thread per worker (kernels and subprocesses inherit it)
    os.environ["OMP_NUM_THREADS"] = "1"
    torch.set_num_threads(1)
# The notebooks' checkpoint cache: a new folder for each test process, removed when it ends, so that two workers
# never train the same notebook model into one folder at once and no run of an earlier version of the package
# (another preset, another recipe) is found and refused.
os.environ[ENV] = tempfile.mkdtemp(prefix=f"posgen-checkpoints-{_WORKER or 'main'}-")
atexit.register(shutil.rmtree, os.environ[ENV], ignore_errors=True)

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
