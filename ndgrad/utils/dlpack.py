"""DLPack: exchanging tensors with other array libraries without copying. Mirrors `torch.utils.dlpack`.

`from_dlpack(x)` accepts any object with `__dlpack__` (NumPy arrays, torch tensors, CuPy...) or a
DLPack capsule made by `to_dlpack`, and returns a tensor sharing x's memory; only CPU memory can be
imported (ndgrad has no other device). Tensors export themselves through `Tensor.__dlpack__`.
"""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["to_dlpack", "from_dlpack"]


def to_dlpack(tensor: Any) -> Any:
    """A DLPack capsule of the tensor's memory (consumed once). Mirrors `torch.utils.dlpack.to_dlpack`."""
    return tensor.__dlpack__()


class _Capsule:
    """Lets NumPy import a bare capsule (it only accepts objects with `__dlpack__`)."""

    def __init__(self, capsule: Any) -> None:
        self.capsule = capsule

    def __dlpack__(self, *, stream: Any = None, **kw: Any) -> Any:
        if kw.get("max_version") is not None:
            raise TypeError("a legacy capsule")      # NumPy then asks again without a version
        return self.capsule

    def __dlpack_device__(self) -> tuple:
        return (1, 0)


def from_dlpack(ext_tensor: Any) -> Any:
    """A tensor sharing memory with `ext_tensor`. Mirrors `torch.from_dlpack`."""
    from .._creation import from_numpy
    from .._tensor import Tensor
    if isinstance(ext_tensor, Tensor):
        return ext_tensor
    if hasattr(ext_tensor, "__dlpack__"):
        src = ext_tensor
    elif type(ext_tensor).__name__ == "PyCapsule":
        src = _Capsule(ext_tensor)
    else:
        raise TypeError(f"from_dlpack expects an object with __dlpack__ or a DLPack capsule, got "
                        f"{type(ext_tensor).__name__}")
    if hasattr(ext_tensor, "__dlpack_device__"):
        dev = tuple(int(v) for v in ext_tensor.__dlpack_device__())
        if dev[0] not in (1, 3):   # kDLCPU, kDLCUDAHost (pinned host memory)
            raise RuntimeError(f"ndgrad can import only CPU memory through DLPack, got device type {dev[0]}")
    return from_numpy(np.from_dlpack(src))
