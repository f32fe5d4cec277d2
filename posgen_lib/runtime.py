"""Where and how code runs: device choice, mixed precision, torch.distributed.

* Device: ``POSGEN_DEVICE`` if set, else CUDA when available, else CPU.
* Mixed precision (``amp``): ``auto`` picks bfloat16 on GPUs that support it,
  float16 (with a gradient scaler) on older GPUs, and bfloat16 on CPUs with
  native bfloat16 kernels (oneDNN AVX512-BF16/AMX); elsewhere float32, because
  bfloat16 convolutions fall back to a slow reference kernel on such CPUs.
* Memory layout: ``channels_last`` (NHWC) lets oneDNN (CPU) and cuDNN (GPU) run
  the convolutions without layout conversions; measured 1.16x faster per
  synthetic training step in bfloat16 on a 2-core CPU (docs/training.md).
* Compilation: :func:`compile_module` wraps ``torch.compile`` and falls back to
  eager execution when no compiler is available (no C++ compiler for the CPU
  backend) or compilation fails.
* Distributed: ``torchrun`` sets ``WORLD_SIZE``/``RANK``/``LOCAL_RANK``;
  :func:`init_distributed` then joins the process group (NCCL on GPUs, gloo on CPU).
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import warnings
from dataclasses import dataclass

import torch
import torch.distributed as dist


def default_device(requested: str | None = None) -> torch.device:
    """``requested`` (e.g. "cpu", "cuda:1"), else ``POSGEN_DEVICE``, else CUDA if available, else CPU."""
    name = requested or os.environ.get("POSGEN_DEVICE")
    if name:
        source = "--device" if requested else "POSGEN_DEVICE"
        try:
            device = torch.device(name)
        except RuntimeError:
            raise ValueError(f"{source} {name!r} is not a device: use cpu, cuda or cuda:N") from None
        if device.type not in ("cpu", "cuda", "mps"):
            raise ValueError(f"{source} {name!r}: posgen runs on cpu or cuda (cuda:N)")
        if device.type == "mps" and not torch.backends.mps.is_available():
            raise ValueError(f"{source} {name!r}: Apple's MPS is not available here; use cpu or cuda")
        if device.type == "cuda":
            if not torch.cuda.is_available():
                raise ValueError(f"{source} {name!r}: CUDA is not available here; use cpu")
            if device.index is not None and device.index >= torch.cuda.device_count():
                raise ValueError(f"{source} {name!r}: only {torch.cuda.device_count()} CUDA device(s) here")
        return device
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def cpu_has_fast_bf16() -> bool:
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def autocast_dtype(device: torch.device, amp: str = "auto") -> torch.dtype | None:
    """The autocast dtype for ``amp`` in {auto, off, bf16, fp16} on ``device`` (None = float32)."""
    if amp == "off":
        return None
    if amp == "bf16":
        return torch.bfloat16
    if amp == "fp16":
        if device.type != "cuda":
            raise ValueError("amp='fp16' needs a CUDA device; use amp='bf16' or 'off' on CPU")
        return torch.float16
    if amp != "auto":
        raise ValueError(f"amp={amp!r}: choose auto, off, bf16 or fp16")
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if device.type == "cpu" and cpu_has_fast_bf16() else None


@dataclass
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def init_distributed(device: torch.device) -> tuple[DistInfo, torch.device]:
    """Join the torchrun process group when launched by torchrun; returns (info, this rank's device)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo(), device
    info = DistInfo(int(os.environ["RANK"]), world, int(os.environ.get("LOCAL_RANK", "0")))
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    if device.type == "cuda":
        torch.cuda.set_device(info.local_rank)
        device = torch.device("cuda", info.local_rank)
    return info, device


def any_rank(flag: bool, info: DistInfo, device: torch.device) -> bool:
    """True if ``flag`` is true on any process (a collective: every rank must call it)."""
    if not info.distributed:
        return flag
    t = torch.tensor([float(flag)], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def barrier(info: DistInfo) -> None:
    """Wait until every process gets here (a no-op on one process)."""
    if info.distributed:
        dist.barrier()


def memory_format(channels_last: bool) -> torch.memory_format:
    """The memory format for convolution modules and their 4-D inputs."""
    return torch.channels_last if channels_last else torch.contiguous_format


def compiler_available(device: torch.device) -> str | None:
    """None if ``torch.compile`` can generate code for ``device``, else the reason it cannot."""
    if device.type == "cpu":
        names = [os.environ.get("CXX", ""), "g++", "c++", "clang++"]
        if not any(name and shutil.which(name) for name in names):
            return "no C++ compiler (g++, c++ or clang++) on PATH for the CPU backend"
        return None
    if device.type == "cuda" and importlib.util.find_spec("triton") is None:
        return "triton (the GPU backend's code generator) is not installed"
    return None


def compile_module(module: torch.nn.Module, device: torch.device):
    """``torch.compile(module)``, or ``module`` itself (with a warning) when compiling cannot work here.

    Compilation errors that appear later, at the first call, also fall back to
    eager execution (``torch._dynamo.config.suppress_errors``).
    """
    reason = compiler_available(device)
    if reason is not None:
        warnings.warn(f"compile: {reason}; running eagerly", stacklevel=2)
        return module
    torch._dynamo.config.suppress_errors = True
    return torch.compile(module)
