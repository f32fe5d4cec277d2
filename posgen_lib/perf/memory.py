"""Peak working memory of PyTorch code, measured by counting live tensor storage.

``torch.cuda.max_memory_allocated`` has no CPU counterpart, and process RSS is
noisy (allocator caches, other threads). :class:`PeakTensorMemory` instead
intercepts every ATen op (``TorchDispatchMode``) and keeps the sum of the bytes
of the tensor storages created inside the block that are still alive, and its
maximum. It is deterministic, works on any device, and is what
``posgen bench`` and the rendering tests use for "peak working memory".
"""
from __future__ import annotations

import weakref

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten


class PeakTensorMemory(TorchDispatchMode):
    """``with PeakTensorMemory() as m: ...`` then ``m.peak_bytes``.

    Storages that existed before the block are not counted; a storage shared by
    several views is counted once, until the last tensor using it is freed.
    """

    def __init__(self):
        super().__init__()
        self.live_bytes = 0
        self.peak_bytes = 0
        self._refs: dict[int, int] = {}  # storage data_ptr -> tensors alive that use it
        self._sizes: dict[int, int] = {}

    def _release(self, ptr: int) -> None:
        self._refs[ptr] -= 1
        if self._refs[ptr] == 0:
            del self._refs[ptr]
            self.live_bytes -= self._sizes.pop(ptr)

    def _track(self, t: torch.Tensor, inputs: set[int]) -> None:
        storage = t.untyped_storage()
        ptr = storage.data_ptr()
        if ptr in inputs and ptr not in self._refs:
            return  # a view of, or in-place result on, memory allocated before the block
        if ptr not in self._refs:
            self._refs[ptr] = 0
            self._sizes[ptr] = storage.nbytes()
            self.live_bytes += storage.nbytes()
            self.peak_bytes = max(self.peak_bytes, self.live_bytes)
        self._refs[ptr] += 1
        weakref.finalize(t, self._release, ptr)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        inputs = {a.untyped_storage().data_ptr() for a in tree_flatten((args, kwargs))[0]
                  if isinstance(a, torch.Tensor)}
        for t in tree_flatten(out)[0]:
            if isinstance(t, torch.Tensor) and t.device.type != "meta":
                self._track(t, inputs)
        return out
