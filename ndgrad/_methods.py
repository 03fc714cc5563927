"""Tensor operators and methods, bound onto Tensor from the public functions in `_ops`.

Kept apart from `_tensor.py` so that Tensor's core (state, conversions, printing) stays small; every
method here forwards to the op table.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from . import _dtype as D
from . import _ops as O
from ._ops import pointwise as P
from ._ops import shape as S
from ._tensor import Tensor, _wrap
from .autograd.grad_mode import state as _mode
from ._warn import warn as _warn

_add, _sub, _mul, _div, _rsub, _pow = P.add, P.sub, P.mul, P.div, P.rsub, P.pow
_mm = O.L.mm


_OPERANDS = (Tensor, int, float, bool, complex, np.generic)


def _is_operand(x: Any) -> bool:
    return x.__class__ is float or x.__class__ is int or isinstance(x, _OPERANDS)


# -- arithmetic operators -----------------------------------------------------------------------------------
def __add__(self, other):
    if other.__class__ is not Tensor and not _is_operand(other):  # (a Tensor first: the common operand)
        return NotImplemented
    return _add(self, other)


def __sub__(self, other):
    if other.__class__ is not Tensor and not _is_operand(other):  # (a Tensor first: the common operand)
        return NotImplemented
    return _sub(self, other, 1)


def __rsub__(self, other):
    if not _is_operand(other):
        return NotImplemented
    return _rsub(self, other, 1)


def __mul__(self, other):
    if other.__class__ is not Tensor and not _is_operand(other):  # (a Tensor first: the common operand)
        return NotImplemented
    return _mul(self, other)


def __truediv__(self, other):
    if other.__class__ is not Tensor and not _is_operand(other):  # (a Tensor first: the common operand)
        return NotImplemented
    return _div(self, other)


def __rtruediv__(self, other):
    if not _is_operand(other):
        return NotImplemented
    return _mul(P.reciprocal(self), other)  # torch computes c/x as reciprocal(x) * c (MulBackward0)


def __floordiv__(self, other):
    return O.floor_divide(self, other)


def __rfloordiv__(self, other):
    return O.floor_divide(_wrap(np.asarray(other, dtype=D.result_type_of(
        ((self.dtype, 2), (D.scalar_dtype(other), 0))).np)), self)


def __mod__(self, other):
    return O.remainder(self, other)


def __rmod__(self, other):
    return O.remainder(other, self)


def __pow__(self, other):
    if other.__class__ is int or other.__class__ is float:
        return _pow(self, other)
    if not _is_operand(other):
        return NotImplemented
    return O.pow(self, other)


def __rpow__(self, other):
    if not _is_operand(other):
        return NotImplemented
    return O.pow(other, self)


def __matmul__(self, other):
    if not isinstance(other, Tensor):
        return NotImplemented
    if self._data.ndim == 2 and other._data.ndim == 2:
        return _mm(self, other)  # (matmul's case analysis, for two matrices)
    return O.matmul(self, other)


def __rmatmul__(self, other):
    return O.matmul(other, self)


def __neg__(self):
    return P.neg(self)


def __pos__(self):
    return self


def __abs__(self):
    return P.abs(self)


def __invert__(self):
    if self._data.dtype == np.bool_:
        return P.logical_not(self)
    return P.bitwise_not(self)


def __and__(self, other):
    return P.bitwise_and(self, other)


def __or__(self, other):
    return P.bitwise_or(self, other)


def _shift(op, reflected):
    """`x << n`, `x >> n` and their reflected forms (`2 << t`)."""
    def f(self, other):
        if not _is_operand(other):
            return NotImplemented
        return op(other, self) if reflected else op(self, other)
    f.__name__ = f"__{'r' if reflected else ''}{'l' if op is P.bitwise_left_shift else 'r'}shift__"
    return f


def __xor__(self, other):
    return P.bitwise_xor(self, other)


def _cmp(op):
    def f(self, other):
        if not _is_operand(other):
            return NotImplemented if op not in (P.eq, P.ne) else (op is P.ne)
        return op(self, other)
    return f


_BINDINGS = {
    "__add__": __add__, "__radd__": __add__, "__sub__": __sub__, "__rsub__": __rsub__, "__mul__": __mul__,
    "__rmul__": __mul__, "__truediv__": __truediv__, "__rtruediv__": __rtruediv__, "__floordiv__": __floordiv__,
    "__rfloordiv__": __rfloordiv__, "__mod__": __mod__, "__rmod__": __rmod__, "__pow__": __pow__,
    "__rpow__": __rpow__, "__matmul__": __matmul__, "__rmatmul__": __rmatmul__, "__neg__": __neg__,
    "__pos__": __pos__, "__abs__": __abs__, "__invert__": __invert__, "__and__": __and__, "__rand__": __and__,
    "__or__": __or__, "__ror__": __or__, "__xor__": __xor__, "__rxor__": __xor__, "__lshift__": _shift(P.bitwise_left_shift, False),
    "__rlshift__": _shift(P.bitwise_left_shift, True), "__rshift__": _shift(P.bitwise_right_shift, False),
    "__rrshift__": _shift(P.bitwise_right_shift, True),
    "__eq__": _cmp(P.eq), "__ne__": _cmp(P.ne), "__lt__": _cmp(P.lt), "__le__": _cmp(P.le), "__gt__": _cmp(P.gt),
    "__ge__": _cmp(P.ge),
}


# -- in-place ------------------------------------------------------------------------------------------------
def _inplace(fn):
    """`x.op_(...)`: compute out of place, write into x's memory, bump its version, rebase its history."""
    def method(self, *args, **kwargs):
        self._check_inplace()
        return self._set_inplace(fn(self, *args, **kwargs))
    method.__name__ = fn.__name__ + "_"
    return method


_INPLACE = {
    "add_": O.add, "sub_": O.sub, "mul_": O.mul, "div_": O.div, "pow_": O.pow, "neg_": O.neg, "abs_": O.abs,
    "exp_": O.exp, "log_": O.log, "sqrt_": O.sqrt, "sin_": O.sin, "cos_": O.cos, "tanh_": O.tanh,
    "sigmoid_": O.sigmoid, "relu_": O.relu, "clamp_": O.clamp, "clip_": O.clamp, "reciprocal_": O.reciprocal,
    "floor_": O.floor, "ceil_": O.ceil, "trunc_": O.trunc, "sign_": O.sign, "remainder_": O.remainder,
    "floor_divide_": O.floor_divide, "log1p_": O.log1p, "expm1_": O.expm1, "rsqrt_": O.rsqrt,
    "subtract_": O.sub, "multiply_": O.mul, "divide_": O.div, "true_divide_": O.div,
}


def _iop(fn):
    def method(self, other):
        self._check_inplace()
        return self._set_inplace(fn(self, other))
    return method


_IOPS = {"__iadd__": O.add, "__isub__": O.sub, "__imul__": O.mul, "__itruediv__": O.div,
         "__ifloordiv__": O.floor_divide, "__imod__": O.remainder, "__ipow__": O.pow,
         "__iand__": O.bitwise_and, "__ior__": O.bitwise_or, "__ixor__": O.bitwise_xor,
         "__ilshift__": O.bitwise_left_shift, "__irshift__": O.bitwise_right_shift}


def zero_(self: Tensor) -> Tensor:
    """Mirrors `Tensor.zero_`."""
    return _overwrite(self, S.zero_all, None)


def fill_(self: Tensor, value: Any) -> Tensor:
    """Mirrors `Tensor.fill_` (a number, or a 0-d tensor that then gets the gradient)."""
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                           f"{value.ndim} dimensions.")
    if isinstance(value, Tensor):
        return _overwrite(self, S.fill_value, value)
    value = D.checked_fill(value, self._data.dtype)
    if not self._requires_grad and value.__class__ in _NUMBERS:  # (outside autograd: what _overwrite ends with)
        self._data.fill(value)
        self._vc[0] += 1
        return self
    return _overwrite(self, S.fill_number, value)


def copy_(self: Tensor, src: Tensor, non_blocking: bool = False) -> Tensor:
    """Mirrors `Tensor.copy_` (broadcasts src; gradient flows to src)."""
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'other' (position 1) must be Tensor, not {type(src).__name__}")
    from ._ops._registry import _check_broadcast
    _check_broadcast(self._data.shape, src._data.shape)
    shape = np.broadcast_shapes(self._data.shape, src._data.shape)
    if shape != self._data.shape:
        raise RuntimeError(f"output with shape {list(self._data.shape)} doesn't match the broadcast shape "
                           f"{list(shape)}")
    return _overwrite(self, S.copy_all, src)


def _overwrite(self, op, value):
    """Overwrite every element: as an op (CopyBackwards, Fill..., Zero...) under grad, else straight into memory."""
    self._check_inplace()
    vt = isinstance(value, Tensor)
    if _mode.enabled and (self._requires_grad or vt and value._requires_grad):
        if vt and value._data.dtype != self._data.dtype:
            value = P.cast(value, self._data.dtype)
        return self._set_inplace(op(self) if value is None else op(self, value))
    if value is None:
        self._data[...] = 0
    else:
        np.copyto(self._data, np.broadcast_to(value._data if vt else value, self._data.shape), casting="unsafe")
    self._vc[0] += 1
    return self


# -- indexing ---------------------------------------------------------------------------------------------------
def _convert_index(idx):
    """Index tuple for NumPy, and whether it uses advanced (array) indexing."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    out = []
    advanced = False
    for i in idx:
        if isinstance(i, Tensor):
            a = i._data
            if a.dtype.kind not in "iub":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            if a.ndim == 0 and a.dtype.kind in "iu":
                out.append(int(a))
                continue
            advanced = True
            out.append(a)
        elif isinstance(i, (list, np.ndarray, range)):
            a = np.asarray(i)
            if a.dtype.kind in "fV":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            advanced = True
            out.append(a)
        elif isinstance(i, bool):
            advanced = True
            out.append(i)
        elif i is None or i is Ellipsis or isinstance(i, (int, np.integer)):
            out.append(i)
        elif isinstance(i, slice):
            if i.step is not None and i.step <= 0:
                raise ValueError("slice step cannot be zero" if i.step == 0 else "step must be greater than zero")
            out.append(i)
        else:
            raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are "
                             "valid indices (got " + type(i).__name__ + ")")
    return tuple(out), advanced


def _check_bounds(shape, idx):
    dim = 0
    nd_used = sum(1 for i in idx if i is not None and i is not Ellipsis and not isinstance(i, bool))
    for i in idx:
        if i is Ellipsis:
            dim += len(shape) - nd_used + sum(1 for k in idx if isinstance(k, np.ndarray) and k.dtype == np.bool_
                                              and k.ndim > 1) * 0
            continue
        if i is None:
            continue
        if isinstance(i, (int, np.integer)) and not isinstance(i, bool):
            if dim >= len(shape):
                raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
            if not -shape[dim] <= i < shape[dim]:
                raise IndexError(f"index {i} is out of bounds for dimension {dim} with size {shape[dim]}")
        elif isinstance(i, np.ndarray) and i.dtype.kind in "iu" and i.size and dim < len(shape):
            if i.max() >= shape[dim] or i.min() < -shape[dim]:
                bad = i.max() if i.max() >= shape[dim] else i.min()
                raise IndexError(f"index {bad} is out of bounds for dimension {dim} with size {shape[dim]}")
        dim += i.ndim if isinstance(i, np.ndarray) and i.dtype == np.bool_ else 1
    if dim > len(shape):
        raise IndexError(f"too many indices for tensor of dimension {len(shape)}")


def _noop_slice(s: slice, length: int) -> bool:
    """torch skips a slice that starts at 0 (as written: `-3:` is not skipped), steps by 1 and stops at or past
    the end; a tuple index of such slices only gives an alias (AliasBackward0)."""
    return (s.start is None or s.start == 0) and (s.step is None or s.step == 1) and \
        (s.stop is None or s.stop >= length)


def _basic_node(idx, shape, bare):
    """The node torch's indexing ends with: the last entry that does something (select, slice, unsqueeze), or
    an alias when nothing does. A single slice (not in a tuple) is always sliced, even `x[:]`."""
    if bare:
        return S.slice_
    kind = S.index_basic
    n_used = sum(1 for i in idx if i is not None and i is not Ellipsis)
    dim = 0
    for i in idx:
        if i is Ellipsis:
            dim += len(shape) - n_used
        elif i is None:
            kind = S.unsqueeze_index
        elif isinstance(i, (int, np.integer)):
            kind = S.select
            dim += 1
        elif isinstance(i, slice):
            if dim >= len(shape) or not _noop_slice(i, shape[dim]):
                kind = S.slice_
            dim += 1
    return kind


def __getitem__(self, idx):
    if idx.__class__ is int:
        shape = self._data.shape
        if shape and -shape[0] <= idx < shape[0]:
            return S.select(self, (idx,))  # x[i]: what the general path below does with it
    elif idx.__class__ is slice:
        if not self._data.ndim:
            raise IndexError("slice() cannot be applied to a 0-dim tensor.")
        if idx.step is None or idx.step.__class__ is int and idx.step > 0:
            return S.slice_(self, (idx,))  # x[a:b]: what the general path below does with it
    np_idx, advanced = _convert_index(idx)
    _check_bounds(self._data.shape, np_idx)
    if advanced:
        return S.index_adv(self, np_idx)
    return _basic_node(np_idx, self._data.shape, isinstance(idx, slice))(self, np_idx)


def _is_view_index(idx, shape):
    """Whether basic indexing makes a proper view (torch then names the leaf error 'a view of a leaf')."""
    dim = 0
    n_used = sum(1 for i in idx if i is not None and i is not Ellipsis)
    for i in idx:
        if i is Ellipsis:
            dim += len(shape) - n_used
        elif i is None or isinstance(i, (int, np.integer)):
            return True
        elif isinstance(i, slice):
            if dim < len(shape) and i.indices(shape[dim]) != (0, shape[dim], 1):
                return True
            dim += 1
    return False


_NUMBERS = (int, float, bool)


def _covers_all(idx, shape):
    """Whether a basic index (no ints, arrays or None) selects every element: only full slices and `...`."""
    if any(not (i is Ellipsis or isinstance(i, slice)) for i in idx):
        return False
    k = idx.index(Ellipsis) if Ellipsis in idx else len(idx)
    dims = list(range(k)) + list(range(len(shape) - (len(idx) - k - 1), len(shape)))
    slices = [i for i in idx if i is not Ellipsis]
    return all(s.indices(shape[d]) == (0, shape[d], 1) for s, d in zip(slices, dims))


def __setitem__(self, idx, value):
    if not isinstance(value, Tensor):  # a number: torch's overflow check (float16/bfloat16 store it unchecked)
        if value.__class__ is int and not -(1 << 63) <= value < 1 << 63:
            raise ValueError("Overflow when unpacking long long")  # (torch reads the int as int64 first)
        value = D.checked_fill(value, self._data.dtype, False)
        if not self._requires_grad and value.__class__ in _NUMBERS and self._data.ndim:
            # a number into a tensor outside autograd at x[i] or x[a:b] (a data pipeline's common case): what the
            # general path below ends with, without its index analysis
            k = idx.__class__
            if k is slice and (idx.step is None or idx.step.__class__ is int and idx.step > 0) or \
                    k is int and -self._data.shape[0] <= idx < self._data.shape[0]:
                self._data[idx] = value
                self._vc[0] += 1
                return
    np_idx, advanced = _convert_index(idx)
    _check_bounds(self._data.shape, np_idx)
    if self._requires_grad and self.grad_fn is None and _mode.enabled and not advanced \
            and _is_view_index(np_idx, self._data.shape):
        from ._tensor import VIEW_LEAF_INPLACE
        raise RuntimeError(VIEW_LEAF_INPLACE)
    if not advanced and _covers_all(np_idx, self._data.shape):
        # torch writes the whole tensor in place: CopyBackwards for a tensor, FillBackward3 for a number
        return _overwrite(self, S.copy_all if isinstance(value, Tensor) else S.fill_value, value)
    self._check_inplace()
    op = S.index_put if advanced else S.copy_slices
    if isinstance(value, Tensor):
        val = value if value._data.dtype == self._data.dtype else P.cast(value, self._data.dtype)
    else:
        val = value
    try:
        if _mode.enabled and (self._requires_grad or (isinstance(value, Tensor) and value._requires_grad)):
            self._set_inplace(op(self, val, np_idx))
        else:
            self._data[np_idx] = val._data if isinstance(val, Tensor) else val
            self._vc[0] += 1
    except ValueError:  # NumPy's broadcast failure: torch's message (worked out only on this path)
        target = self._data[np_idx].shape
        vshape = np.shape(val._data if isinstance(val, Tensor) else val)
        if len(vshape) > len(target) or any(v != 1 and v != t for v, t in zip(vshape[::-1], target[::-1])):
            raise RuntimeError(f"shape mismatch: value tensor of shape {list(vshape)} cannot be broadcast to "
                               f"indexing result of shape {list(target)}") from None
        raise


# -- conversions and shape methods ----------------------------------------------------------------------------
def to(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """Mirrors `Tensor.to(dtype)` / `to(device)` / `to(other)`; returns self when nothing changes."""
    dtype = kwargs.get("dtype")
    copy = kwargs.get("copy", False)
    for a in args:
        if isinstance(a, D.dtype):
            dtype = a
        elif isinstance(a, Tensor):
            dtype = a.dtype
        elif isinstance(a, str) or a.__class__.__name__ == "device":
            from ._creation import _check_device
            _check_device(a)
        elif isinstance(a, int) and not isinstance(a, bool):
            # an integer names an accelerator's device (torch 2.13's message on a CPU-only build)
            if a < 0:
                raise RuntimeError("Device index must not be negative")
            raise RuntimeError("Cannot access accelerator device when none is available.")
    if kwargs.get("device") is not None:
        from ._creation import _check_device
        _check_device(kwargs["device"])
    if dtype is None or dtype.np == self._data.dtype:
        r = P.clone(self) if copy else self
    else:
        r = P.cast(self, dtype.np)
    fmt = kwargs.get("memory_format")
    return r if fmt is None else _in_format(r, fmt)


def _caster(d):
    def f(self, memory_format=None):
        return to(self, d)
    return f


def type_(self: Tensor, dtype: Any = None, non_blocking: bool = False, **kwargs: Any) -> str | Tensor:
    from . import _legacy
    if dtype is None:
        return _legacy.type_string(self.dtype)
    if isinstance(dtype, str):
        dtype = _legacy.dtype_of_type_string(dtype)
    elif isinstance(dtype, _legacy.tensortype):
        dtype = _legacy.dtype_of_type_string(f"{dtype.__module__}.{dtype.__name__}")
    return to(self, dtype)



def view(self: Tensor, *shape: Any) -> Tensor:
    if len(shape) == 1 and isinstance(shape[0], D.dtype):
        raise RuntimeError("view(dtype) is not supported by ndgrad")
    return S.view(self, O._shape_arg(shape))


def reshape(self: Tensor, *shape: Any) -> Tensor:
    return S.reshape(self, O._shape_arg(shape))


def contiguous(self: Tensor, memory_format: Any = None) -> Tensor:
    from ._layouts import contiguous_format, preserve_format
    if memory_format is preserve_format and not self._data.flags.c_contiguous:
        raise RuntimeError("preserve memory format is unsupported by the contiguous operator")
    return _in_format(self, contiguous_format if memory_format is None else memory_format)


def _in_format(t: Tensor, fmt: Any) -> Tensor:
    """`t` in memory format `fmt`: itself when it already is, else a copy (CloneBackward0, as torch's) laid out
    so (`_layouts.laid_out`)."""
    from ._layouts import laid_out
    arr = laid_out(t._data, fmt)
    if arr is t._data:
        return t
    r = P.clone(t)
    r._data = arr
    return r


def _new(fill):
    def f(self, *size, dtype=None, device=None, requires_grad=False, **kw):
        from ._creation import _filled
        return _filled(fill, size, dtype or self.dtype, requires_grad)
    return f


def new_full(self: Tensor, size: Sequence[int], fill_value: Any, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    from ._creation import _filled
    return _filled(fill_value, (tuple(size),), dtype or self.dtype, requires_grad)


def new_tensor(self: Tensor, data: Any, *, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    from ._creation import tensor
    return tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad)


def _method(fn):
    def m(self, *args, **kwargs):
        return fn(self, *args, **kwargs)
    m.__name__ = fn.__name__
    m.__doc__ = fn.__doc__
    m.__wrapped__ = fn
    m._forwarder = m  # a checker calls fn itself (_argcheck._core)
    return m


_METHODS = {name: _method(getattr(O, name)) for name in (
    "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "floor_divide", "remainder",
    "fmod", "pow", "neg", "negative", "abs", "absolute", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p",
    "sqrt", "rsqrt", "sin", "cos", "tan", "asin", "acos", "atan", "arcsin", "arccos", "arctan", "sinh", "cosh",
    "tanh", "sigmoid", "relu", "reciprocal", "sign", "floor", "ceil", "trunc", "clamp", "clip", "maximum",
    "minimum", "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal",
    "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor",
    "bitwise_not", "bitwise_left_shift", "bitwise_right_shift", "conj", "sgn", "angle", "clone", "sum", "mean", "prod", "max", "min", "amax", "amin", "argmax", "argmin", "matmul", "mm", "addmm",
    "bmm", "mv", "dot", "outer", "ger", "flatten", "squeeze", "unsqueeze", "transpose", "swapaxes", "swapdims", "t",
    "unbind", "narrow", "split", "expand", "broadcast_to")}


def permute(self: Tensor, *dims: Any) -> Tensor:
    return O.permute(self, O._shape_arg(dims) if dims and not isinstance(dims[0], int) else dims)


def where(self: Tensor, condition: Tensor, other: Any) -> Tensor:
    return O.where(condition, self, other)


def expand(self: Tensor, *sizes: Any) -> Tensor:
    return O.expand(self, *sizes)


def expand_as(self: Tensor, other: Tensor) -> Tensor:
    return O.expand(self, other.shape)


def view_as(self: Tensor, other: Tensor) -> Tensor:
    return view(self, other.shape)


def reshape_as(self: Tensor, other: Tensor) -> Tensor:
    return S.reshape(self, other._data.shape)


def type_as(self: Tensor, other: Tensor) -> Tensor:
    return to(self, other.dtype)


_T_WARNED: set = set()
_T_WARNINGS = {
    0: "Tensor.T is deprecated on 0-D tensors. This function is the identity in these cases. (Triggered internally "
       "at /__w/pytorch/pytorch/aten/src/ATen/native/TensorShape.cpp:4321.)",
    1: "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated and it will throw "
       "an error in a future release. Consider `x.mT` to transpose batches of matrices or "
       "`x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a tensor. (Triggered internally "
       "at /__w/pytorch/pytorch/aten/src/ATen/native/TensorShape.cpp:4314.)",
}


def _T(self):
    """Mirrors `Tensor.T`: reverses the dims (a PermuteBackward0 view), warning once, as torch does, when the
    tensor is not 2-D."""
    nd = self.ndim
    if nd != 2:
        kind = 0 if nd == 0 else 1
        if kind not in _T_WARNED:
            _T_WARNED.add(kind)
            _warn(_T_WARNINGS[kind], UserWarning, stacklevel=2)
    return S.permute(self, tuple(range(nd - 1, -1, -1)))


def _mT(self):
    return O.transpose(self, -2, -1)


def stft(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    from ._ops.spectral import stft as f  # loaded on first use (import ndgrad stays fast)
    return f(self, *args, **kwargs)


def istft(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    from ._ops.spectral import istft as f
    return f(self, *args, **kwargs)


def bind() -> None:
    for name, fn in {**_BINDINGS, **_METHODS}.items():
        setattr(Tensor, name, fn)
    for fam in O.FAMILIES:
        for name, fn in fam.METHODS.items():
            setattr(Tensor, name, fn)
    for name, fn in _INPLACE.items():
        setattr(Tensor, name, _inplace(fn))
    for name, fn in _IOPS.items():
        setattr(Tensor, name, _iop(fn))
    extra = {
        "zero_": zero_, "fill_": fill_, "copy_": copy_, "__getitem__": __getitem__, "__setitem__": __setitem__,
        "to": to, "type": type_, "view": view, "reshape": reshape, "contiguous": contiguous, "permute": permute,
        "where": where, "expand": expand, "expand_as": expand_as, "view_as": view_as, "reshape_as": reshape_as,
        "type_as": type_as, "new_zeros": _new(0), "new_ones": _new(1), "new_empty": _new(0), "new_full": new_full,
        "new_tensor": new_tensor, "float": _caster(D.float32), "double": _caster(D.float64),
        "half": _caster(D.float16), "long": _caster(D.int64), "int": _caster(D.int32), "short": _caster(D.int16),
        "char": _caster(D.int8), "byte": _caster(D.uint8), "bool": _caster(D.bool),
        "stft": stft, "istft": istft,
    }
    for name, fn in extra.items():
        setattr(Tensor, name, fn)
    for name in O._KEEPDIMS:
        if name in Tensor.__dict__ and not getattr(Tensor.__dict__[name], "_keepdims_alias", False):
            setattr(Tensor, name, O._accept_keepdims(Tensor.__dict__[name]))
    from . import _tensor_compat
    for name, fn in _tensor_compat.methods().items():
        if name not in Tensor.__dict__:
            setattr(Tensor, name, fn)
    for name, fn in _tensor_compat.PROPERTIES.items():
        setattr(Tensor, name, property(fn))
    Tensor.T = property(_T)
    Tensor.real = property(O.real)
    Tensor.imag = property(O.imag)
    Tensor.mT = property(_mT)
    Tensor.H = property(_T)
    Tensor.__hash__ = object.__hash__
    from . import _argcheck
    _argcheck.install_methods(Tensor, [n for n in list(Tensor.__dict__) if not n.startswith("_")])
