"""torch's layouts (`torch.strided`...) and memory formats (`torch.channels_last`...).

Every ndgrad tensor is strided. A memory format says in which order a tensor's elements lie in memory; NumPy
arrays have strides too, so `channels_last` is a real layout here: the NCHW tensor's data is an NHWC C-contiguous
array seen through a transpose, and `stride()` reports torch's numbers. NumPy's element-wise operations and
`empty_like`/`copy` keep an input's memory order (their order "K"), as torch's keep channels_last.
"""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["layout", "memory_format", "strided", "sparse_coo", "sparse_csr", "sparse_csc", "sparse_bsr", "sparse_bsc",
           "jagged", "contiguous_format", "channels_last", "channels_last_3d", "preserve_format",
           "legacy_contiguous_format"]


class _Named:
    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return f"torch.{self._name}"

    def __reduce__(self) -> tuple:
        return (_by_name, (self._name,))  # (unpickled as the very object)


class layout(_Named):
    """`torch.layout`: how a tensor's elements are stored (ndgrad's are all `torch.strided`)."""
    __slots__ = ()


class memory_format(_Named):
    """`torch.memory_format`: the order of a strided tensor's elements in memory."""
    __slots__ = ()


strided = layout("strided")
sparse_coo = layout("sparse_coo")
sparse_csr = layout("sparse_csr")
sparse_csc = layout("sparse_csc")
sparse_bsr = layout("sparse_bsr")
sparse_bsc = layout("sparse_bsc")
jagged = layout("jagged")
contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")
legacy_contiguous_format = contiguous_format  # (torch's is the same object)


def _by_name(name: str) -> _Named:
    return globals()[name]


# channel-last orders: the axes of the C-contiguous array behind the tensor, and the rank they need
_ORDERS = {"channels_last": ((0, 2, 3, 1), 4), "channels_last_3d": ((0, 2, 3, 4, 1), 5)}


def _order(fmt: Any, ndim: int) -> tuple | None:
    """The axis order of a channel-last `fmt` (None for the others), checking the tensor's rank as torch does."""
    if fmt is channels_last or fmt is channels_last_3d:
        order, rank = _ORDERS[fmt._name]
        if ndim != rank:
            raise RuntimeError(f"required rank {rank} tensor to use {fmt._name} format")
        return order
    return None


def is_contiguous(a: np.ndarray, fmt: Any) -> bool:
    """Whether `a` lies in memory in `fmt`'s order (dimensions of size 1 have any stride, as in torch)."""
    if fmt is not channels_last and fmt is not channels_last_3d:
        return bool(a.flags.c_contiguous)
    order, rank = _ORDERS[fmt._name]
    if a.ndim != rank:
        return False
    expected = a.itemsize
    for d in reversed(order):
        if a.shape[d] != 1:
            if a.strides[d] != expected:
                return False
            expected *= a.shape[d]
    return True


def laid_out(a: np.ndarray, fmt: Any) -> np.ndarray:
    """`a`'s values in memory format `fmt`: `a` itself when they already are (and for no format or
    preserve_format), else a new array, C-ordered for contiguous_format. A channel-last format checks the rank
    as torch does."""
    if fmt is None or fmt is preserve_format:
        return a
    order = _order(fmt, a.ndim)
    if order is None:
        return a if a.flags.c_contiguous else np.ascontiguousarray(a)
    if is_contiguous(a, fmt):
        return a
    inverse = tuple(int(i) for i in np.argsort(order))
    return np.ascontiguousarray(a.transpose(order)).transpose(inverse)
