"""Mirrors `torch.nn.parameter`: Parameter (a leaf Tensor a Module registers) and Buffer."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor, _wrap

__all__ = ["Parameter", "Buffer"]


def _empty_data() -> np.ndarray:
    return np.empty((0,), dtype=D.get_default_dtype().np)


class Parameter(Tensor):
    """A Tensor that a Module registers as a parameter when assigned as an attribute. Mirrors
    `torch.nn.Parameter`: it shares memory (and version counter) with `data`, is a leaf, and operations on
    it give plain Tensors."""

    __slots__ = ()

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True) -> "Parameter":
        if data is None:
            arr, vc = _empty_data(), [0]
        elif isinstance(data, Tensor):
            arr, vc = data._data, data._vc
        else:  # torch calls data.detach()
            raise AttributeError(f"'{type(data).__name__}' object has no attribute 'detach'")
        p = Tensor.__new__(cls)
        p._data = arr
        p._vc = vc
        p.grad_fn = None
        p._output_nr = 0
        p._requires_grad = False
        p._grad = None
        if requires_grad:
            if arr.dtype.kind not in "fcV":
                raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
            p._requires_grad = True
        return p

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        pass  # everything happens in __new__

    def __repr__(self, *, tensor_contents: Any = None) -> str:
        return "Parameter containing:\n" + Tensor.__repr__(self)

    __str__ = __repr__

    def __reduce_ex__(self, proto: int) -> Any:
        return (_rebuild_parameter, (self._data, self._requires_grad))

    def __deepcopy__(self, memo: dict) -> "Parameter":
        if id(self) in memo:
            return memo[id(self)]
        p = Parameter(_wrap(self._data.copy()), self._requires_grad)
        if self._grad is not None:
            p._grad = self._grad.__deepcopy__(memo)
        memo[id(self)] = p
        return p


def _rebuild_parameter(data: np.ndarray, requires_grad: bool) -> Parameter:
    return Parameter(_wrap(data), requires_grad)


class _BufferMeta(type):
    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, Tensor) and "_is_buffer" in getattr(obj, "__dict__", {})


class Buffer(Tensor, metaclass=_BufferMeta):
    """Marks a tensor to be registered as a buffer when assigned to a Module attribute. Mirrors
    `torch.nn.Buffer`: `Buffer(data, persistent=True)` gives a plain Tensor (sharing `data`'s memory) that
    a Module registers as a buffer."""

    __slots__ = ()

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True) -> Tensor:  # type: ignore[misc]
        if data is None:
            t = _wrap(_empty_data())
        else:
            t = data.detach()
            t._requires_grad = data._requires_grad and data.grad_fn is None
        t.__dict__["_is_buffer"] = True
        t.__dict__["persistent"] = persistent
        return t
