"""The Python array API standard (2023.12) for ndgrad tensors: `Tensor.__array_namespace__()` returns
this module, so libraries written against the standard (scikit-learn's `array_api_dispatch`, SciPy's
array-API paths, array-api-extra...) run on tensors and return tensors.

Functions take the standard's argument names (`axis`, `keepdims`, `correction`...) and forward to
ndgrad's torch-shaped ops, so results keep their autograd history where an op is differentiable.
Where the standard and torch differ, the standard wins here (e.g. `sum` of a float32 array is float32,
`clip` keeps the dtype, `squeeze` needs its axis). Known gaps: ndgrad has no uint16/uint32/uint64 dtypes,
so they are not offered (`__array_namespace_info__().dtypes()` lists what is there); the default
floating dtype is torch's float32 (reported by `default_dtypes()`), and `Tensor.size` is torch's method,
not the standard's attribute (`math.prod(x.shape)` works for both).
"""
from __future__ import annotations

import builtins
import math
from collections import namedtuple
from typing import Any, Sequence

import numpy as np

import ndgrad as _nd
from ndgrad import _dtype as _D
from ndgrad._tensor import Tensor as _Tensor
from ndgrad._tensor import _wrap

from . import linalg  # noqa: F401  (the linalg extension: xp.linalg)

__array_api_version__ = "2023.12"
SUPPORTED_VERSIONS = ("2021.12", "2022.12", "2023.12")

e, inf, nan, pi = math.e, math.inf, math.nan, math.pi
newaxis = None

bool = _D.bool
int8, int16, int32, int64, uint8 = _D.int8, _D.int16, _D.int32, _D.int64, _D.uint8
float32, float64, complex64, complex128 = _D.float32, _D.float64, _D.complex64, _D.complex128

_builtin_bool, _builtin_int, _builtin_float, _builtin_complex = builtins.bool, builtins.int, builtins.float, builtins.complex


def _t(x: Any) -> _Tensor:
    return x if isinstance(x, _Tensor) else asarray(x)


def _axes(axis: Any) -> Any:
    return tuple(axis) if isinstance(axis, (list, tuple)) else axis


def _pair(x1: Any, x2: Any) -> tuple:
    # the standard lets one operand be a Python scalar: it takes the other operand's dtype
    if not isinstance(x1, _Tensor) and not isinstance(x2, _Tensor):
        raise TypeError("at least one argument must be an array")
    if not isinstance(x1, _Tensor):
        x1 = _scalar_like(x1, x2)
    if not isinstance(x2, _Tensor):
        x2 = _scalar_like(x2, x1)
    return x1, x2


def _scalar_like(s: Any, other: _Tensor) -> _Tensor:
    d = other.dtype
    if isinstance(s, _builtin_complex) and not d.is_complex:
        d = _D.complex128 if d is _D.float64 else _D.complex64
    elif isinstance(s, _builtin_float) and not (d.is_floating_point or d.is_complex):
        d = _D.get_default_dtype()
    elif isinstance(s, _builtin_int) and not isinstance(s, _builtin_bool) and d is _D.bool:
        d = _D.int64
    return _nd.tensor(s, dtype=d)


# -- creation ---------------------------------------------------------------------------------------------
def _check_device(device: Any) -> None:
    if device is not None and str(device) not in ("cpu", "cpu:0"):
        _nd.device(device)
        raise ValueError(f"ndgrad has only the cpu device, got {device!r}")


def asarray(obj: Any, /, *, dtype: Any = None, device: Any = None, copy: Any = None) -> _Tensor:
    _check_device(device)
    if isinstance(obj, _Tensor):
        if dtype is None or dtype is obj.dtype:
            return obj.clone() if copy else obj
        if copy is False:
            raise ValueError("asarray: a dtype conversion needs a copy, but copy=False")
        return obj.to(dtype)
    if isinstance(obj, np.ndarray) or hasattr(obj, "__dlpack__") and not isinstance(obj, (list, tuple)):
        arr = np.asarray(obj) if not hasattr(obj, "__dlpack__") else np.from_dlpack(obj)
        if arr.dtype.kind not in "biufc" or arr.dtype not in _D.FROM_NP or _D.FROM_NP[arr.dtype].np != arr.dtype:
            raise TypeError(f"asarray: ndgrad has no dtype for NumPy {arr.dtype}")
        t = _nd.from_numpy(arr if not copy else arr.copy())
        return asarray(t, dtype=dtype, copy=False if copy is None else None) if dtype is not None else t
    if copy is False and not isinstance(obj, (memoryview, bytearray)):
        raise ValueError("asarray: copy=False needs an object whose memory can be shared")
    if isinstance(obj, (memoryview, bytearray, bytes)):
        t = _nd.from_numpy(np.frombuffer(obj, np.uint8) if not copy else np.frombuffer(obj, np.uint8).copy())
        return t if dtype is None else t.to(dtype)
    if dtype is None and isinstance(obj, _builtin_complex):
        dtype = _D.complex128 if _D.get_default_dtype() is _D.float64 else _D.complex64
    if dtype is None and _has_tensors(obj):
        return _nd.stack([asarray(o) for o in obj]) if len(obj) else _nd.tensor([])
    return _nd.tensor(obj, dtype=dtype)


def _has_tensors(obj: Any) -> _builtin_bool:
    return isinstance(obj, (list, tuple)) and builtins.any(isinstance(o, _Tensor) for o in obj)


def _shape(shape: Any) -> tuple:
    return (shape,) if isinstance(shape, _builtin_int) else tuple(shape)


def arange(start: Any, /, stop: Any = None, step: Any = 1, *, dtype: Any = None, device: Any = None) -> _Tensor:
    _check_device(device)
    if stop is None:
        start, stop = 0, start
    if step == 0:
        raise ValueError("arange: step must not be 0")
    if dtype is not None and (dtype.is_floating_point or dtype.is_complex) or builtins.any(
            isinstance(v, _builtin_float) for v in (start, stop, step)):
        n = builtins.max(0, math.ceil((stop - start) / step))
        d = dtype or _D.get_default_dtype()
        return _wrap(np.asarray(start + step * np.arange(n, dtype=np.float64)).astype(d.np))
    return _nd.arange(start, stop, step, dtype=dtype)


def empty(shape: Any, *, dtype: Any = None, device: Any = None) -> _Tensor:
    _check_device(device)
    return _nd.empty(_shape(shape), dtype=dtype)


def empty_like(x: _Tensor, /, *, dtype: Any = None, device: Any = None) -> _Tensor:
    _check_device(device)
    return _nd.empty(tuple(x.shape), dtype=dtype or x.dtype)


def zeros(shape: Any, *, dtype: Any = None, device: Any = None) -> _Tensor:
    _check_device(device)
    return _nd.zeros(_shape(shape), dtype=dtype)


def zeros_like(x: _Tensor, /, *, dtype: Any = None, device: Any = None) -> _Tensor:
    _check_device(device)
    return _nd.zeros(tuple(x.shape), dtype=dtype or x.dtype)


def ones(shape: Any, *, dtype: Any = None, device: Any = None) -> _Tensor:
    _check_device(device)
    return _nd.ones(_shape(shape), dtype=dtype)


def ones_like(x: _Tensor, /, *, dtype: Any = None, device: Any = None) -> _Tensor:
    _check_device(device)
    return _nd.ones(tuple(x.shape), dtype=dtype or x.dtype)


def _fill_dtype(fill_value: Any) -> Any:
    if isinstance(fill_value, _builtin_bool):
        return _D.bool
    if isinstance(fill_value, _builtin_int):
        return _D.int64
    if isinstance(fill_value, _builtin_float):
        return _D.get_default_dtype()
    if isinstance(fill_value, _builtin_complex):
        return _D.default_complex()
    raise TypeError(f"full: fill_value must be a Python scalar, got {type(fill_value).__name__}")


def full(shape: Any, fill_value: Any, *, dtype: Any = None, device: Any = None) -> _Tensor:
    _check_device(device)
    return _nd.full(_shape(shape), fill_value, dtype=dtype or _fill_dtype(fill_value))


def full_like(x: _Tensor, /, fill_value: Any, *, dtype: Any = None, device: Any = None) -> _Tensor:
    _check_device(device)
    return _nd.full(tuple(x.shape), fill_value, dtype=dtype or x.dtype)


def eye(n_rows: int, n_cols: int | None = None, /, *, k: int = 0, dtype: Any = None, device: Any = None) -> _Tensor:
    _check_device(device)
    d = dtype or _D.get_default_dtype()
    return _wrap(np.eye(n_rows, n_cols, k, dtype=d.np))


def linspace(start: Any, stop: Any, /, num: int, *, dtype: Any = None, device: Any = None,
             endpoint: _builtin_bool = True) -> _Tensor:
    _check_device(device)
    cplx = builtins.any(isinstance(v, _builtin_complex) for v in (start, stop))
    d = dtype or (_D.default_complex() if cplx else _D.get_default_dtype())
    return _wrap(np.linspace(start, stop, num, endpoint=endpoint, dtype=np.complex128 if cplx else np.float64)
                 .astype(d.np))


def meshgrid(*arrays: _Tensor, indexing: str = "xy") -> list:
    if indexing not in ("xy", "ij"):
        raise ValueError("meshgrid: indexing must be 'xy' or 'ij'")
    return list(_nd.meshgrid(*arrays, indexing=indexing)) if arrays else []


def tril(x: _Tensor, /, *, k: int = 0) -> _Tensor:
    return _nd.tril(x, k)


def triu(x: _Tensor, /, *, k: int = 0) -> _Tensor:
    return _nd.triu(x, k)


def from_dlpack(x: Any, /, *, device: Any = None, copy: Any = None) -> _Tensor:
    _check_device(device)
    from ..utils.dlpack import from_dlpack as f
    t = f(x)
    return t.clone() if copy else t


# -- data types ---------------------------------------------------------------------------------------------
def astype(x: _Tensor, dtype: Any, /, *, copy: _builtin_bool = True, device: Any = None) -> _Tensor:
    _check_device(device)
    if dtype is x.dtype:
        return x.clone() if copy else x
    return x.to(dtype)


_CASTS = {"bool": {"bool"}, "int8": {"int8", "int16", "int32", "int64"}, "int16": {"int16", "int32", "int64"},
          "int32": {"int32", "int64"}, "int64": {"int64"}, "uint8": {"uint8", "int16", "int32", "int64"},
          "float32": {"float32", "float64", "complex64", "complex128"}, "float64": {"float64", "complex128"},
          "complex64": {"complex64", "complex128"}, "complex128": {"complex128"}}


def can_cast(from_: Any, to: Any, /) -> _builtin_bool:
    """Whether the standard's promotion lattice allows `from_` -> `to` (no cross-kind casts but float -> complex)."""
    f = from_.dtype if isinstance(from_, _Tensor) else from_
    return to.name in _CASTS.get(f.name, ())


_finfo = namedtuple("finfo_object", "bits eps max min smallest_normal dtype")
_iinfo = namedtuple("iinfo_object", "bits max min dtype")


def finfo(type: Any, /) -> Any:
    d = type.dtype if isinstance(type, _Tensor) else type
    if not (d.is_floating_point or d.is_complex):
        raise ValueError(f"finfo needs a floating-point dtype, got {d}")
    i = np.finfo(d.np)
    real = d.to_real()
    return _finfo(int(i.bits), float(i.eps), float(i.max), float(i.min), float(i.smallest_normal), real)


def iinfo(type: Any, /) -> Any:
    d = type.dtype if isinstance(type, _Tensor) else type
    if d.is_floating_point or d.is_complex or d is _D.bool:
        raise ValueError(f"iinfo needs an integer dtype, got {d}")
    i = np.iinfo(d.np)
    return _iinfo(int(i.bits), int(i.max), int(i.min), d)


_KINDS = {"bool": lambda d: d is _D.bool, "signed integer": lambda d: d._cat == 1 and d.is_signed,
          "unsigned integer": lambda d: d._cat == 1 and not d.is_signed, "integral": lambda d: d._cat == 1,
          "real floating": lambda d: d.is_floating_point, "complex floating": lambda d: d.is_complex,
          "numeric": lambda d: d is not _D.bool}


def isdtype(dtype: Any, kind: Any) -> _builtin_bool:
    if isinstance(kind, tuple):
        return builtins.any(isdtype(dtype, k) for k in kind)
    if isinstance(kind, str):
        if kind not in _KINDS:
            raise ValueError(f"isdtype: unknown kind {kind!r}")
        return _KINDS[kind](dtype)
    return dtype is kind


def result_type(*arrays_and_dtypes: Any) -> Any:
    out = None
    scalars = []
    for a in arrays_and_dtypes:
        if isinstance(a, _Tensor):
            d = a.dtype
        elif isinstance(a, _D.dtype):
            d = a
        else:
            scalars.append(a)
            continue
        out = d if out is None else _D.promote_types(out, d)
    if out is None:
        raise ValueError("result_type needs at least one array or dtype")
    for s in scalars:
        out = _scalar_like(s, _nd.empty(0, dtype=out)).dtype if not isinstance(s, _builtin_bool) or out is _D.bool \
            else out
    return out


# -- elementwise --------------------------------------------------------------------------------------------
def _unary(name: str, torch_name: str | None = None) -> Any:
    f = getattr(_nd, torch_name or name)

    def op(x: _Tensor, /) -> _Tensor:
        return f(_t(x))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Array API `{name}`."
    return op


def _binary(name: str, torch_name: str | None = None) -> Any:
    f = getattr(_nd, torch_name or name)

    def op(x1: Any, x2: Any, /) -> _Tensor:
        return f(*_pair(x1, x2))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Array API `{name}`."
    return op


for _n in ("abs", "acos", "asin", "atan", "ceil", "conj", "cos", "cosh", "exp", "expm1", "floor", "imag",
           "isfinite", "isinf", "isnan", "log", "log1p", "log2", "log10", "logical_not", "negative", "real",
           "signbit", "sin", "sinh", "square", "sqrt", "tan", "tanh", "trunc"):
    globals()[_n] = _unary(_n)
bitwise_invert = _unary("bitwise_invert", "bitwise_not")
equal = _binary("equal", "eq")       # (torch.equal compares whole tensors)
for _n in ("add", "atan2", "bitwise_and", "bitwise_or", "bitwise_xor", "copysign", "divide", "floor_divide",
           "greater", "greater_equal", "hypot", "less", "less_equal", "logaddexp", "logical_and", "logical_or",
           "logical_xor", "maximum", "minimum", "multiply", "not_equal", "pow", "remainder", "subtract"):
    globals()[_n] = _binary(_n)
del _n


def acosh(x: _Tensor, /) -> _Tensor:
    f = getattr(_nd, "acosh", None)
    return f(x) if f is not None else _nd.log(x + _nd.sqrt(x * x - 1))


def asinh(x: _Tensor, /) -> _Tensor:
    f = getattr(_nd, "asinh", None)
    if f is not None:
        return f(x)
    if x.is_complex():
        return _nd.log(x + _nd.sqrt(x * x + 1))
    a = _nd.abs(x)
    return _nd.sign(x) * _nd.log1p(a + a * a / (1 + _nd.sqrt(a * a + 1)))


def atanh(x: _Tensor, /) -> _Tensor:
    f = getattr(_nd, "atanh", None)
    return f(x) if f is not None else 0.5 * _nd.log1p(2 * x / (1 - x))


def positive(x: _Tensor, /) -> _Tensor:
    return +x


def round(x: _Tensor, /) -> _Tensor:
    return _nd.round(x) if x.dtype._cat >= 2 else x.clone()


def sign(x: _Tensor, /) -> _Tensor:
    return _nd.sgn(x) if x.is_complex() else _nd.sign(x)


def _shift(np_op: Any, name: str) -> Any:
    def op(x1: Any, x2: Any, /) -> _Tensor:
        x1, x2 = _pair(x1, x2)
        if x1.dtype._cat != 1 or x2.dtype._cat != 1:
            raise TypeError(f"{name} needs integer arrays")
        d = _D.promote_types(x1.dtype, x2.dtype)
        a, b = np.broadcast_arrays(x1._data.astype(d.np), x2._data.astype(d.np))
        if (b < 0).any():
            raise ValueError(f"{name}: negative shift")
        bits = d.itemsize * 8
        # shifting by the width or more: zeros (or -1 for negative numbers shifted right), as the standard says
        full = np.where(a < 0, -1, 0).astype(d.np) if np_op is np.right_shift else np.zeros_like(a)
        return _wrap(np.where(b >= bits, full, np_op(a, np.minimum(b, bits - 1))).astype(d.np))
    op.__name__ = op.__qualname__ = name
    return op


bitwise_left_shift = _shift(np.left_shift, "bitwise_left_shift")
bitwise_right_shift = _shift(np.right_shift, "bitwise_right_shift")


def clip(x: _Tensor, /, min: Any = None, max: Any = None) -> _Tensor:
    if min is None and max is None:
        return x.clone()
    out = _nd.clamp(x, min, max)
    return out if out.dtype is x.dtype else out.to(x.dtype)


# -- indexing, linear algebra, manipulation ------------------------------------------------------------------
def take(x: _Tensor, indices: _Tensor, /, *, axis: int | None = None) -> _Tensor:
    if axis is None:
        if x.ndim != 1:
            raise ValueError("take: axis is required for arrays with more than one dimension")
        axis = 0
    return _nd.index_select(x, axis, indices)


def matmul(x1: _Tensor, x2: _Tensor, /) -> _Tensor:
    return _nd.matmul(x1, x2)


def matrix_transpose(x: _Tensor, /) -> _Tensor:
    if x.ndim < 2:
        raise ValueError("matrix_transpose needs at least two dimensions")
    return x.mT


def tensordot(x1: _Tensor, x2: _Tensor, /, *, axes: Any = 2) -> _Tensor:
    return _nd.tensordot(x1, x2, axes if isinstance(axes, _builtin_int) else [list(axes[0]), list(axes[1])])


def vecdot(x1: _Tensor, x2: _Tensor, /, *, axis: int = -1) -> _Tensor:
    if x1.shape[axis] != x2.shape[axis]:
        raise ValueError("vecdot: the contracted axes differ in size")
    return _nd.sum(_nd.conj(x1) * x2 if x1.is_complex() else x1 * x2, dim=axis)


def broadcast_arrays(*arrays: _Tensor) -> list:
    return list(_nd.broadcast_tensors(*arrays))


def broadcast_to(x: _Tensor, /, shape: Sequence[int]) -> _Tensor:
    return _nd.broadcast_to(x, tuple(shape))


def concat(arrays: Any, /, *, axis: int | None = 0) -> _Tensor:
    if axis is None:
        return _nd.cat([a.reshape(-1) for a in arrays])
    return _nd.cat(list(arrays), dim=axis)


def expand_dims(x: _Tensor, /, *, axis: int = 0) -> _Tensor:
    if not -x.ndim - 1 <= axis <= x.ndim:
        raise IndexError(f"expand_dims: axis {axis} is out of range")
    return _nd.unsqueeze(x, axis)


def flip(x: _Tensor, /, *, axis: Any = None) -> _Tensor:
    dims = list(range(x.ndim)) if axis is None else ([axis] if isinstance(axis, _builtin_int) else list(axis))
    return _nd.flip(x, dims)


def moveaxis(x: _Tensor, source: Any, destination: Any, /) -> _Tensor:
    return _nd.movedim(x, source, destination)


def permute_dims(x: _Tensor, /, axes: Sequence[int]) -> _Tensor:
    return _nd.permute(x, tuple(axes))


def repeat(x: _Tensor, repeats: Any, /, *, axis: int | None = None) -> _Tensor:
    return _nd.repeat_interleave(x, repeats, dim=axis)


def reshape(x: _Tensor, /, shape: Sequence[int], *, copy: Any = None) -> _Tensor:
    out = _nd.reshape(x, tuple(shape))
    if copy:
        return out.clone()
    if copy is False and not np.shares_memory(out._data, x._data) and out.numel():
        raise ValueError("reshape: the array cannot be reshaped without a copy, but copy=False")
    return out


def roll(x: _Tensor, /, shift: Any, *, axis: Any = None) -> _Tensor:
    if axis is None:
        return _nd.roll(x.reshape(-1), shift).reshape(tuple(x.shape))
    return _nd.roll(x, shift, axis)


def squeeze(x: _Tensor, /, axis: Any) -> _Tensor:
    axes = (axis,) if isinstance(axis, _builtin_int) else tuple(axis)
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(f"squeeze: axis {a} has size {x.shape[a]}, not 1")
    return _nd.squeeze(x, axes) if axes else x


def stack(arrays: Any, /, *, axis: int = 0) -> _Tensor:
    return _nd.stack(list(arrays), dim=axis)


def tile(x: _Tensor, repetitions: Sequence[int], /) -> _Tensor:
    return _nd.tile(x, tuple(repetitions))


def unstack(x: _Tensor, /, *, axis: int = 0) -> tuple:
    return tuple(_nd.unbind(x, axis))


# -- searching, sets, sorting ------------------------------------------------------------------------------
def argmax(x: _Tensor, /, *, axis: int | None = None, keepdims: _builtin_bool = False) -> _Tensor:
    if axis is None and keepdims:
        return _nd.argmax(x).reshape((1,) * x.ndim)
    return _nd.argmax(x, axis, keepdims) if axis is not None else _nd.argmax(x)


def argmin(x: _Tensor, /, *, axis: int | None = None, keepdims: _builtin_bool = False) -> _Tensor:
    if axis is None and keepdims:
        return _nd.argmin(x).reshape((1,) * x.ndim)
    return _nd.argmin(x, axis, keepdims) if axis is not None else _nd.argmin(x)


def nonzero(x: _Tensor, /) -> tuple:
    if x.ndim == 0:
        raise ValueError("nonzero is not defined for zero-dimensional arrays")
    return tuple(_wrap(i.astype(np.int64)) for i in np.nonzero(x._data))


def searchsorted(x1: _Tensor, x2: _Tensor, /, *, side: str = "left", sorter: Any = None) -> _Tensor:
    if x1.ndim != 1:
        raise ValueError("searchsorted needs a one-dimensional x1")
    s = None if sorter is None else sorter._data
    return _wrap(np.searchsorted(x1._data, x2._data, side=side, sorter=s).astype(np.int64))


def where(condition: _Tensor, x1: Any, x2: Any, /) -> _Tensor:
    x1, x2 = _pair(x1, x2)
    return _nd.where(condition, x1, x2)


UniqueAllResult = namedtuple("UniqueAllResult", "values indices inverse_indices counts")
UniqueCountsResult = namedtuple("UniqueCountsResult", "values counts")
UniqueInverseResult = namedtuple("UniqueInverseResult", "values inverse_indices")


def _unique(x: _Tensor) -> tuple:
    flat = x._data.reshape(-1)
    vals, idx, inv, cnt = np.unique(flat, return_index=True, return_inverse=True, return_counts=True,
                                    equal_nan=False)
    i64 = np.int64
    return (_wrap(vals.astype(x.dtype.np)), _wrap(idx.astype(i64)), _wrap(inv.astype(i64).reshape(x.shape)),
            _wrap(cnt.astype(i64)))


def unique_all(x: _Tensor, /) -> Any:
    return UniqueAllResult(*_unique(x))


def unique_counts(x: _Tensor, /) -> Any:
    v, _, _, c = _unique(x)
    return UniqueCountsResult(v, c)


def unique_inverse(x: _Tensor, /) -> Any:
    v, _, inv, _ = _unique(x)
    return UniqueInverseResult(v, inv)


def unique_values(x: _Tensor, /) -> _Tensor:
    return _unique(x)[0]


def sort(x: _Tensor, /, *, axis: int = -1, descending: _builtin_bool = False, stable: _builtin_bool = True) -> _Tensor:
    return _nd.sort(x, dim=axis, descending=descending, stable=True)[0]


def argsort(x: _Tensor, /, *, axis: int = -1, descending: _builtin_bool = False,
            stable: _builtin_bool = True) -> _Tensor:
    return _nd.argsort(x, dim=axis, descending=descending, stable=True)


# -- statistics and utilities ------------------------------------------------------------------------------
def _reduce_axes(x: _Tensor, axis: Any) -> Any:
    if axis is None:
        return tuple(range(x.ndim))
    return (axis,) if isinstance(axis, _builtin_int) else tuple(axis)


def max(x: _Tensor, /, *, axis: Any = None, keepdims: _builtin_bool = False) -> _Tensor:
    return _nd.amax(x, _reduce_axes(x, axis), keepdims)


def min(x: _Tensor, /, *, axis: Any = None, keepdims: _builtin_bool = False) -> _Tensor:
    return _nd.amin(x, _reduce_axes(x, axis), keepdims)


def mean(x: _Tensor, /, *, axis: Any = None, keepdims: _builtin_bool = False) -> _Tensor:
    return _nd.mean(x, _reduce_axes(x, axis), keepdims)


def _acc_dtype(x: _Tensor, dtype: Any) -> Any:
    if dtype is not None:
        return dtype
    if x.dtype is _D.bool or x.dtype._cat == 1:
        return _D.int64 if x.dtype.is_signed or x.dtype is _D.bool else _D.int64
    return x.dtype


def sum(x: _Tensor, /, *, axis: Any = None, dtype: Any = None, keepdims: _builtin_bool = False) -> _Tensor:
    return _nd.sum(x, _reduce_axes(x, axis), keepdims, dtype=_acc_dtype(x, dtype))


def prod(x: _Tensor, /, *, axis: Any = None, dtype: Any = None, keepdims: _builtin_bool = False) -> _Tensor:
    d = _acc_dtype(x, dtype)
    axes = _reduce_axes(x, axis)
    out = x.to(d) if d is not x.dtype else x
    for a in sorted((a % builtins.max(x.ndim, 1) for a in axes), reverse=True):
        out = _nd.prod(out, a, keepdims)
    return out


def std(x: _Tensor, /, *, axis: Any = None, correction: Any = 0.0, keepdims: _builtin_bool = False) -> _Tensor:
    return _nd.std(x, _reduce_axes(x, axis), correction=correction, keepdim=keepdims)


def var(x: _Tensor, /, *, axis: Any = None, correction: Any = 0.0, keepdims: _builtin_bool = False) -> _Tensor:
    return _nd.var(x, _reduce_axes(x, axis), correction=correction, keepdim=keepdims)


def cumulative_sum(x: _Tensor, /, *, axis: int | None = None, dtype: Any = None,
                   include_initial: _builtin_bool = False) -> _Tensor:
    if axis is None:
        if x.ndim > 1:
            raise ValueError("cumulative_sum: axis is required for arrays with more than one dimension")
        axis = 0
    out = _nd.cumsum(x, axis, dtype=_acc_dtype(x, dtype))
    if include_initial:
        shape = list(out.shape)
        shape[axis] = 1
        out = _nd.cat([_nd.zeros(tuple(shape), dtype=out.dtype), out], dim=axis)
    return out


def all(x: _Tensor, /, *, axis: Any = None, keepdims: _builtin_bool = False) -> _Tensor:
    out = x != 0
    for a in sorted((a % builtins.max(x.ndim, 1) for a in _reduce_axes(x, axis)), reverse=True):
        out = _nd.all(out, a, keepdims)
    return out


def any(x: _Tensor, /, *, axis: Any = None, keepdims: _builtin_bool = False) -> _Tensor:
    out = x != 0
    for a in sorted((a % builtins.max(x.ndim, 1) for a in _reduce_axes(x, axis)), reverse=True):
        out = _nd.any(out, a, keepdims)
    return out


# -- from the 2024.12 revision (cheap to offer, used by libraries that probe for them) ---------------------
def reciprocal(x: _Tensor, /) -> _Tensor:
    return _nd.reciprocal(x)


def count_nonzero(x: _Tensor, /, *, axis: Any = None, keepdims: _builtin_bool = False) -> _Tensor:
    return sum(x != 0, axis=axis, keepdims=keepdims)


def cumulative_prod(x: _Tensor, /, *, axis: int | None = None, dtype: Any = None,
                    include_initial: _builtin_bool = False) -> _Tensor:
    if axis is None:
        if x.ndim > 1:
            raise ValueError("cumulative_prod: axis is required for arrays with more than one dimension")
        axis = 0
    out = _nd.cumprod(x, axis, dtype=_acc_dtype(x, dtype))
    if include_initial:
        shape = list(out.shape)
        shape[axis] = 1
        out = _nd.cat([_nd.ones(tuple(shape), dtype=out.dtype), out], dim=axis)
    return out


def diff(x: _Tensor, /, *, axis: int = -1, n: int = 1, prepend: Any = None, append: Any = None) -> _Tensor:
    parts = [p for p in (prepend, x, append) if p is not None]
    out = _nd.cat(parts, dim=axis) if len(parts) > 1 else x
    for _ in range(n):
        length = out.shape[axis]
        out = _nd.narrow(out, axis, 1, length - 1) - _nd.narrow(out, axis, 0, length - 1)
    return out


def nextafter(x1: Any, x2: Any, /) -> _Tensor:
    x1, x2 = _pair(x1, x2)
    d = _D.promote_types(x1.dtype, x2.dtype)
    return _wrap(np.nextafter(x1._data.astype(d.np), x2._data.astype(d.np)))


def take_along_axis(x: _Tensor, indices: _Tensor, /, *, axis: int = -1) -> _Tensor:
    return _nd.take_along_dim(x, indices, axis)


def broadcast_shapes(*shapes: Sequence[int]) -> tuple:
    return tuple(np.broadcast_shapes(*(tuple(s) for s in shapes)))


def isin(x1: Any, x2: Any, /, *, invert: _builtin_bool = False) -> _Tensor:
    x1, x2 = _pair(x1, x2)
    return _wrap(np.isin(x1._data, x2._data, invert=invert))


# -- inspection --------------------------------------------------------------------------------------------
class _Info:
    """What `__array_namespace_info__()` returns."""

    def capabilities(self) -> dict:
        return {"boolean indexing": True, "data-dependent shapes": True, "max dimensions": 64}

    def default_device(self) -> Any:
        return _nd.device("cpu")

    def devices(self) -> list:
        return [_nd.device("cpu")]

    def default_dtypes(self, *, device: Any = None) -> dict:
        return {"real floating": _D.get_default_dtype(), "complex floating": _D.default_complex(),
                "integral": _D.int64, "indexing": _D.int64}

    def dtypes(self, *, device: Any = None, kind: Any = None) -> dict:
        every = {"bool": bool, "int8": int8, "int16": int16, "int32": int32, "int64": int64, "uint8": uint8,
                 "float32": float32, "float64": float64, "complex64": complex64, "complex128": complex128}
        return every if kind is None else {k: v for k, v in every.items() if isdtype(v, kind)}


def __array_namespace_info__() -> _Info:
    return _Info()


__all__ = [n for n in dir() if not n.startswith("_") and n not in (
    "annotations", "builtins", "math", "namedtuple", "np", "Any", "Sequence", "SUPPORTED_VERSIONS")] + [
    "__array_namespace_info__", "__array_api_version__"]
