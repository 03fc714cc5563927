"""nn-related ops registered in the op table (activation family): softmax/log_softmax, the pointwise
activations with their own backward nodes (elu, gelu, silu, ...), and nll_loss.

`__all__` lists only names torch has at top level (`torch.softmax`, `torch.selu`...); the rest are used by
`ndgrad.nn.functional`. Forwards are NumPy (numerically stable: the max is subtracted before `exp`,
logsigmoid and friends never overflow); every formula is written with ndgrad ops, so double backward works.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor, _wrap_dim
from ._registry import SAME, Op
from .pointwise import exp, sigmoid, tanh, where
from .reduction import sum_dim

__all__: list[str] = ["softmax", "log_softmax"]

_TYPE = {"b": "Bool", "u1": "Byte", "i1": "Char", "i2": "Short", "i4": "Int", "i8": "Long",
         "f2": "Half", "f4": "Float", "f8": "Double", "c8": "ComplexFloat", "c16": "ComplexDouble"}


def _tname(dt: np.dtype) -> str:
    return _TYPE.get("b" if dt.kind == "b" else f"{dt.kind}{dt.itemsize}", str(dt))


def _t(x: Any, name: str, arg: str = "input", pos: int = 1) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be Tensor, not {type(x).__name__}")
    return x


def _float_only(fn, kernel):
    """Forward that refuses integer, bool and complex inputs as torch's float-only kernels do."""
    def f(self, *rest):
        if self.dtype.kind != "f":
            raise NotImplementedError(f'"{kernel}" not implemented for \'{_tname(self.dtype)}\'')
        return fn(self, *rest)
    return f


def _up(x):
    """float16 is computed in float32 (as torch's kernels accumulate), then cast back."""
    return x.astype(np.float32) if x.dtype == np.float16 else x


# -- softmax, log_softmax ----------------------------------------------------------------------------------------
def _check_kernel(x, dim, name):
    if x.dtype.kind != "f":
        kernel = f"{name}_lastdim_kernel_impl" if x.ndim == 0 or dim == x.ndim - 1 else f"{name}_kernel_impl"
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_tname(x.dtype)}\'')


def _softmax_fwd(self, dim):
    _check_kernel(self, dim, "softmax")
    if self.size == 0:
        return self.copy()
    a = _up(self)
    ax = dim if self.ndim else None
    with np.errstate(all="ignore"):
        e = np.exp(a - np.max(a, axis=ax, keepdims=True))
        r = e / np.sum(e, axis=ax, keepdims=True)
    return r.astype(self.dtype, copy=False)


def _log_softmax_fwd(self, dim):
    _check_kernel(self, dim, "log_softmax")
    if self.size == 0:
        return self.copy()
    a = _up(self)
    ax = dim if self.ndim else None
    with np.errstate(all="ignore"):
        s = a - np.max(a, axis=ax, keepdims=True)
        r = s - np.log(np.sum(np.exp(s), axis=ax, keepdims=True))
    return r.astype(self.dtype, copy=False)


def _red(dim, ndim):
    return (dim,) if ndim else ()


softmax_op = Op("softmax", _softmax_fwd, ("self",), ("dim",), node="SoftmaxBackward0", dtype=SAME)
# d softmax: J^T g = y * (g - <g, y>) along dim
softmax_op.defvjp(self=lambda grad, result, dim: result * (grad - sum_dim(grad * result, _red(dim, grad.ndim), True)))
log_softmax_op = Op("log_softmax", _log_softmax_fwd, ("self",), ("dim",), node="LogSoftmaxBackward0", dtype=SAME)
# d log_softmax: J^T g = g - softmax * sum(g) along dim
log_softmax_op.defvjp(self=lambda grad, result, dim:
                      grad - exp(result) * sum_dim(grad, _red(dim, grad.ndim), True))


def _dim_arg(dim: Any, name: str) -> int:
    if dim is None:
        raise TypeError(f"{name}(): argument 'dim' must be int, not NoneType")
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{name}(): argument 'dim' (position 2) must be int, not {type(dim).__name__}")
    return int(dim)


def _cast_for(input: Tensor, dtype: Any) -> Tensor:
    if dtype is None:
        return input
    return input.to(dtype)


def softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """Mirrors `torch.softmax`: exp(x) / sum(exp(x)) along `dim` (stable; `dtype` casts the input first)."""
    _t(input, "softmax")
    d = _wrap_dim(_dim_arg(dim, "softmax"), input.ndim)
    return softmax_op(_cast_for(input, dtype), d)


def log_softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """Mirrors `torch.log_softmax`: x - logsumexp(x) along `dim` (stable; `dtype` casts the input first)."""
    _t(input, "log_softmax")
    d = _wrap_dim(_dim_arg(dim, "log_softmax"), input.ndim)
    return log_softmax_op(_cast_for(input, dtype), d)


def _softmax_method(self: Tensor, dim: int, dtype: Any = None) -> Tensor:
    return softmax(self, dim, dtype)


def _log_softmax_method(self: Tensor, dim: int, dtype: Any = None) -> Tensor:
    return log_softmax(self, dim, dtype)


METHODS: dict = {"softmax": _softmax_method, "log_softmax": _log_softmax_method}
