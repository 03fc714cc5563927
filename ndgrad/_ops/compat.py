"""Everyday names real programs use beyond the core: inverse hyperbolics, degree conversion, stacking and
splitting helpers, `isin`, `clamp_min/max`, `index_put`, `inner`, `addmv`/`addr`/`baddbmm`/`addbmm`, and the
in-place spellings torch has for them. Differentiable ones are either ops with their own formulas
(asinh, acosh, atanh) or compositions of ops, so every gradient comes from the op table.
"""
from __future__ import annotations

import builtins
import math
from typing import Any, Sequence

import numpy as np

from .. import _dtype as D
from .._tensor import Size, Tensor, _size_at, _wrap, _wrap_dim
from ._registry import FLOAT, Op
from .pointwise import sqrt
from .special import _inplace, _method  # the same method makers as the other families

def _conj(x: Any) -> Any:
    from .pointwise import _cj as cj
    return cj(x)


asinh_op = Op("asinh", np.arcsinh, ("self",), dtype=FLOAT)
asinh_op.defvjp(self=lambda grad, self: grad / _conj(sqrt(self * self + 1)))    # 1/√(x²+1)
acosh_op = Op("acosh", np.arccosh, ("self",), dtype=FLOAT)
acosh_op.defvjp(self=lambda grad, self: grad / _conj(sqrt(self * self - 1)))    # 1/√(x²-1)
atanh_op = Op("atanh", np.arctanh, ("self",), dtype=FLOAT)
atanh_op.defvjp(self=lambda grad, self: grad / _conj(1 - self * self))          # 1/(1-x²)
for _op in (asinh_op, acosh_op, atanh_op):
    _op.defjvp(elementwise=True)


def _no_inplace_derivative(name: str) -> Any:
    def f(grad: Any) -> Any:
        raise NotImplementedError(f"the derivative for 'inplace version of {name}' is not implemented.")
    return f


# torch 2.13 has no derivative for the in-place versions (their nodes are named ...Backward1)
asinh_inplace = Op("asinh", np.arcsinh, ("self",), node="AsinhBackward1", dtype=FLOAT)
asinh_inplace.defvjp(self=_no_inplace_derivative("asinh"))
acosh_inplace = Op("acosh", np.arccosh, ("self",), node="AcoshBackward1", dtype=FLOAT)
acosh_inplace.defvjp(self=_no_inplace_derivative("acosh"))
atanh_inplace = Op("atanh", np.arctanh, ("self",), node="AtanhBackward1", dtype=FLOAT)
atanh_inplace.defvjp(self=_no_inplace_derivative("atanh"))


_D2R, _R2D = math.pi / 180.0, 180.0 / math.pi
deg2rad_op = Op("deg2rad", lambda x: x * np.asarray(_D2R, dtype=x.dtype), ("self",), node="Deg2RadBackward0", dtype=FLOAT)
deg2rad_op.defvjp(self=lambda grad: grad * _D2R)
rad2deg_op = Op("rad2deg", lambda x: x * np.asarray(_R2D, dtype=x.dtype), ("self",), node="Rad2DegBackward0", dtype=FLOAT)
rad2deg_op.defvjp(self=lambda grad: grad * _R2D)
for _op in (deg2rad_op, rad2deg_op):
    _op.defjvp(linear=True)


def _clamp_min_fwd(self: np.ndarray, min: Any) -> np.ndarray:
    return np.maximum(self, np.asarray(min, dtype=self.dtype))


def _clamp_max_fwd(self: np.ndarray, max: Any) -> np.ndarray:
    return np.minimum(self, np.asarray(max, dtype=self.dtype))


clamp_min_op = Op("clamp_min", _clamp_min_fwd, ("self",), ("min",), node="ClampMinBackward0")
clamp_min_op.defvjp(self=lambda grad, self, min: grad * (self >= min))
clamp_max_op = Op("clamp_max", _clamp_max_fwd, ("self",), ("max",), node="ClampMaxBackward0")
clamp_max_op.defvjp(self=lambda grad, self, max: grad * (self <= max))
for _op in (clamp_min_op, clamp_max_op):
    _op.defjvp(elementwise=True)


def _tensor_arg(x: Any, name: str, arg: str = "input", pos: int = 1) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be Tensor, not {type(x).__name__}")
    return x


def asinh(input: Tensor, *, out: Any = None) -> Tensor:
    return asinh_op(_tensor_arg(input, "asinh"))


def acosh(input: Tensor, *, out: Any = None) -> Tensor:
    return acosh_op(_tensor_arg(input, "acosh"))


def atanh(input: Tensor, *, out: Any = None) -> Tensor:
    return atanh_op(_tensor_arg(input, "atanh"))


arcsinh, arccosh, arctanh = asinh, acosh, atanh


def _ops() -> Any:
    import ndgrad
    return ndgrad


def deg2rad(input: Tensor, *, out: Any = None) -> Tensor:
    """Mirrors `torch.deg2rad` (integers are refused, as torch)."""
    _tensor_arg(input, "deg2rad")
    return deg2rad_op(input)


def rad2deg(input: Tensor, *, out: Any = None) -> Tensor:
    """Mirrors `torch.rad2deg`."""
    _tensor_arg(input, "rad2deg")
    return rad2deg_op(input)


def float_power(input: Any, exponent: Any, *, out: Any = None) -> Tensor:
    """Mirrors `torch.float_power`: pow computed in double (complex double for complex operands)."""
    t = _ops()
    cplx = any(isinstance(a, Tensor) and a.is_complex() or isinstance(a, complex) for a in (input, exponent))
    dt = D.complex128 if cplx else D.float64
    a = input.to(dt) if isinstance(input, Tensor) else input
    b = exponent.to(dt) if isinstance(exponent, Tensor) else exponent
    return t.pow(a, b)


def positive(input: Tensor) -> Tensor:
    """Mirrors `torch.positive` (the input itself; bool is refused)."""
    if _tensor_arg(input, "positive").dtype is D.bool:
        raise TypeError("The `+` operator, on a bool tensor is not supported.")
    return input


def fix(input: Tensor, *, out: Any = None) -> Tensor:
    return _ops().trunc(input)


def clamp_min(input: Tensor, min: Any) -> Tensor:
    """Mirrors `torch.clamp_min` (a number bound: its own node; a tensor bound: clamp's)."""
    if isinstance(min, Tensor):
        return _ops().clamp(input, min=min)
    input = _tensor_arg(input, "clamp_min")
    if isinstance(min, float) and input._data.dtype.kind in "iub":
        return _ops().clamp(input, min=min)  # (a float bound: the default float dtype, as clamp)
    from . import _number_into
    return clamp_min_op(input, _number_into(input, min))


def clamp_max(input: Tensor, max: Any) -> Tensor:
    """Mirrors `torch.clamp_max`."""
    if isinstance(max, Tensor):
        return _ops().clamp(input, max=max)
    input = _tensor_arg(input, "clamp_max")
    if isinstance(max, float) and input._data.dtype.kind in "iub":
        return _ops().clamp(input, max=max)
    from . import _number_into
    return clamp_max_op(input, _number_into(input, max))


# -- stacking and splitting --------------------------------------------------------------------------------
def _seq(tensors: Any, name: str) -> list:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{name}(): argument 'tensors' (position 1) must be tuple of Tensors, not "
                        f"{type(tensors).__name__}")
    if not tensors:
        raise RuntimeError(f"{name} expects a non-empty TensorList")
    return list(tensors)


def atleast_1d(*tensors: Any) -> Any:
    ts = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors
    out = [t.reshape(1) if t.ndim == 0 else t for t in ts]
    return out[0] if len(tensors) == 1 and not isinstance(tensors[0], (list, tuple)) else tuple(out)


def atleast_2d(*tensors: Any) -> Any:
    ts = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors
    out = [t.reshape(1, 1) if t.ndim == 0 else (t.unsqueeze(0) if t.ndim == 1 else t) for t in ts]
    return out[0] if len(tensors) == 1 and not isinstance(tensors[0], (list, tuple)) else tuple(out)


def atleast_3d(*tensors: Any) -> Any:
    ts = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors

    def f(t: Tensor) -> Tensor:
        if t.ndim == 0:
            return t.reshape(1, 1, 1)
        if t.ndim == 1:
            return t.reshape(1, -1, 1)
        if t.ndim == 2:
            return t.unsqueeze(-1)
        return t
    out = [f(t) for t in ts]
    return out[0] if len(tensors) == 1 and not isinstance(tensors[0], (list, tuple)) else tuple(out)


def hstack(tensors: Sequence[Tensor], *, out: Any = None) -> Tensor:
    ts = atleast_1d(_seq(tensors, "hstack"))
    return _ops().cat(ts, 0 if ts[0].ndim == 1 else 1)


def vstack(tensors: Sequence[Tensor], *, out: Any = None) -> Tensor:
    return _ops().cat(atleast_2d(_seq(tensors, "vstack")), 0)


row_stack = vstack


def dstack(tensors: Sequence[Tensor], *, out: Any = None) -> Tensor:
    return _ops().cat(atleast_3d(_seq(tensors, "dstack")), 2)


def column_stack(tensors: Sequence[Tensor], *, out: Any = None) -> Tensor:
    ts = [t.reshape(-1, 1) if t.ndim <= 1 else t for t in _seq(tensors, "column_stack")]
    return _ops().cat(ts, 1)


def tensor_split(input: Tensor, indices_or_sections: Any, dim: int = 0) -> tuple:
    """Mirrors `torch.tensor_split` (a number of sections, or split indices)."""
    if input.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    dim = _wrap_dim(dim, input.ndim)
    n = input.shape[dim]
    if isinstance(indices_or_sections, Tensor):
        indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, int):
        k = indices_or_sections
        if k <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {k}")
        q, r = divmod(n, k)
        bounds, start = [], 0
        for i in range(k):
            start += q + (1 if i < r else 0)
            bounds.append(start)
        bounds = bounds[:-1]
    else:
        bounds = list(indices_or_sections)
    out, prev = [], 0
    for b in [*bounds, n]:
        b = builtins.min(builtins.max(b if b >= 0 else b + n, 0), n)
        out.append(input.narrow(dim, prev, builtins.max(b - prev, 0)))
        prev = builtins.max(prev, b)
    return tuple(out)


def _split_like(name: str, dim_of: Any, min_ndim: int) -> Any:
    def f(input: Tensor, indices_or_sections: Any) -> tuple:
        if input.ndim < min_ndim:
            raise RuntimeError(f"torch.{name} requires a tensor with at least {min_ndim} dimension, but got a tensor "
                               f"with {input.ndim} dimensions!")
        dim = dim_of(input)
        if isinstance(indices_or_sections, int) and (indices_or_sections == 0 or
                                                     input.shape[dim] % indices_or_sections):
            raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but the size of the "
                               f"dimension {input.shape[dim]} is not divisible by the split_size "
                               f"{indices_or_sections}!")
        return tensor_split(input, indices_or_sections, dim)
    f.__name__ = name
    return f


hsplit = _split_like("hsplit", lambda t: 0 if t.ndim == 1 else 1, 1)
vsplit = _split_like("vsplit", lambda t: 0, 2)
dsplit = _split_like("dsplit", lambda t: 2, 3)


def split_with_sizes(input: Tensor, split_sizes: Sequence[int], dim: int = 0) -> tuple:
    return _ops().split(input, list(split_sizes), dim)


# -- sets, shapes and indices ---------------------------------------------------------------------------------
def isin(elements: Any, test_elements: Any, *, assume_unique: bool = False, invert: bool = False) -> Tensor:
    """Mirrors `torch.isin` (not differentiable)."""
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin() received an invalid combination of arguments - got "
                        f"({type(elements).__name__}, {type(test_elements).__name__})")
    a = elements._data if isinstance(elements, Tensor) else np.asarray(elements)
    b = test_elements._data if isinstance(test_elements, Tensor) else np.asarray(test_elements)
    return _wrap(np.isin(a, b, invert=invert))


def broadcast_shapes(*shapes: Any) -> Size:
    """Mirrors `torch.broadcast_shapes`."""
    norm = [(s,) if isinstance(s, int) else tuple(s) for s in shapes]
    for s in norm:
        for v in s:
            if isinstance(v, float) and v != v:  # torch meets NaN in its broadcast comparisons
                raise RuntimeError(f"Attempting to broadcast a dimension of length nan at {s.index(v) - len(s)}! "
                                   f"Mismatching argument at index {norm.index(s)} had {s}")
            if not isinstance(v, (int, np.integer)):
                raise TypeError(f"torch.Size() takes an iterable of 'int' (item {s.index(v)} is "
                                f"'{type(v).__name__}')")
            if v < 0:
                raise ValueError("Attempting to broadcast a dimension with negative length!")
    try:
        return Size(np.broadcast_shapes(*norm))
    except ValueError:
        raise RuntimeError(f"Shape mismatch: objects cannot be broadcast to a single shape.  Mismatch is between "
                           f"{list(norm[0])} and {list(norm[-1])}.") from None


def unravel_index(indices: Any, shape: Any) -> tuple:
    """Mirrors `torch.unravel_index`."""
    if isinstance(indices, Tensor):
        if indices.is_floating_point() or indices.is_complex() or indices.dtype is D.bool:
            raise TypeError(f"expected 'indices' to be integer dtype, but got {indices.dtype}")
        idx = indices._data
    else:
        idx = np.asarray(indices)
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    for s in shape:
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"expected 'shape' sequence to only contain ints, but got {type(s)}")
    if any(s < 0 for s in shape):
        raise ValueError(f"'shape' cannot have negative values, but got {shape}")
    n = int(np.prod(shape))
    if np.any(idx < -n) or np.any(idx >= n):
        raise RuntimeError("index is out of bounds for shape")
    return tuple(_wrap(np.asarray(a, dtype=np.int64)) for a in np.unravel_index(idx % builtins.max(n, 1), shape))


def is_nonzero(input: Tensor) -> bool:
    """Mirrors `torch.is_nonzero`."""
    n = _tensor_arg(input, "is_nonzero").numel()
    if n == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if n > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(input._data.reshape(()))


def is_same_size(input: Tensor, other: Tensor) -> bool:
    return tuple(input.shape) == tuple(other.shape)


def is_signed(input: Tensor) -> bool:
    return input.dtype.is_signed


def asarray(obj: Any, *, dtype: Any = None, device: Any = None, copy: bool | None = None,
            requires_grad: bool = False) -> Tensor:
    """Mirrors `torch.asarray`: shares memory with tensors and arrays when it can, copies otherwise."""
    t = _ops()
    if isinstance(obj, Tensor):
        r = obj if dtype is None or obj.dtype is dtype else obj.to(dtype)
        if copy:
            r = r.clone() if r is obj else r
        return r.requires_grad_(True) if requires_grad and not r.requires_grad else r
    if isinstance(obj, np.ndarray) and not copy:
        r = t.as_tensor(obj, dtype=dtype)
    else:
        r = t.tensor(obj, dtype=dtype)
    return r.requires_grad_(True) if requires_grad else r


def inner(input: Tensor, other: Tensor, *, out: Any = None) -> Tensor:
    """Mirrors `torch.inner`: the sum product over the last dimensions."""
    t = _ops()
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    return t.tensordot(input, other, dims=([-1], [-1]))


def index_put(input: Tensor, indices: Sequence[Any], values: Tensor, accumulate: bool = False) -> Tensor:
    """Mirrors `torch.index_put` (out of place; `accumulate=True` adds, duplicates included)."""
    _no_empty_indices(indices)
    out = input.clone()
    idx = tuple(indices)
    if accumulate:
        return out.index_put_(idx, values, True)
    out[idx] = values
    return out


def _no_empty_indices(indices: Sequence[Any]) -> None:
    if len(indices) == 0:  # torch fails an internal assert on it
        raise RuntimeError("index_put_: expected at least one index tensor, got none")


def _index_put_(self: Tensor, indices: Sequence[Any], values: Tensor, accumulate: bool = False) -> Tensor:
    _no_empty_indices(indices)
    idx = tuple(indices)
    if not accumulate:
        self[idx] = values
        return self
    t = _ops()
    # accumulate: scatter-add into the flattened positions, so repeated indices add up as in torch
    pos = t.arange(self.numel()).reshape(self.shape)[idx]
    flat = pos.reshape(-1)
    vals = (values if isinstance(values, Tensor) else t.tensor(values, dtype=self.dtype))
    vals = vals.expand(pos.shape).reshape(-1).to(self.dtype)
    new = self.reshape(-1).index_add(0, flat, vals).reshape(self.shape)
    self._check_inplace()
    return self._set_inplace(new)


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta: Any = 1, alpha: Any = 1, out: Any = None) -> Tensor:
    t = _ops()
    return _affine(input, t.mv(mat, vec), beta, alpha)


def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta: Any = 1, alpha: Any = 1, out: Any = None) -> Tensor:
    for v, arg in ((vec1, "vec1"), (vec2, "vec2")):
        if v.ndim != 1:
            raise RuntimeError(f"addr: Expected 1-D argument {arg}, but got {v.ndim}-D")
    return _affine(input, _ops().outer(vec1, vec2), beta, alpha)


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1, alpha: Any = 1,
            out: Any = None) -> Tensor:
    _size_at(batch1, 0), _size_at(batch2, 2), _size_at(batch1, 1)  # torch reads these sizes first
    return _affine(input, _ops().bmm(batch1, batch2), beta, alpha)


def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1, alpha: Any = 1,
           out: Any = None) -> Tensor:
    _size_at(batch1, 1), _size_at(batch2, 2)  # torch reads these sizes first
    return _affine(input, _ops().bmm(batch1, batch2).sum(0), beta, alpha)


def _affine(input: Tensor, prod: Tensor, beta: Any, alpha: Any) -> Tensor:
    a = prod if alpha == 1 else prod * alpha
    if beta == 0:  # torch ignores input (NaN included) when beta is 0
        return a + _ops().zeros_like(input) if input.shape != a.shape else a
    return a + (input if beta == 1 else input * beta)


def vdot(input: Tensor, other: Tensor, *, out: Any = None) -> Tensor:
    """Mirrors `torch.vdot`: the dot product with the first argument conjugated (1-d tensors)."""
    t = _ops()
    _tensor_arg(input, "vdot")
    _tensor_arg(other, "vdot", "other", 2)
    return t.dot(input.conj() if input.is_complex() else input, other)


def _put_(self: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """Mirrors `Tensor.put_`: write (or add) source at flat positions of self."""
    if index.numel() != source.numel():
        raise IndexError(f"put_(): Expected source and index to have the same number of elements, but got "
                         f"source.numel() = {source.numel()}, index.numel() = {index.numel()}")
    new = self.reshape(-1).index_put((index.reshape(-1),), source.reshape(-1), accumulate).reshape(self.shape)
    self._check_inplace()
    return self._set_inplace(new)


def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """Mirrors `torch.put` (out of place)."""
    return _put_(input.clone(), index, source, accumulate)


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Mirrors `torch.diag_embed` (last dimension onto a diagonal of two new dimensions)."""
    t = _ops()
    d1, d2 = _wrap_dim(dim1, input.ndim + 1), _wrap_dim(dim2, input.ndim + 1)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    n = input.shape[-1] + builtins.abs(offset)
    r, c = (0, offset) if offset >= 0 else (-offset, 0)
    # place input[..., i] at (i + r, i + c): build with a one-hot matrix product
    rows = t.zeros(input.shape[-1], n, dtype=input.dtype)
    cols = t.zeros(input.shape[-1], n, dtype=input.dtype)
    idx = t.arange(input.shape[-1])
    rows[idx, idx + r] = 1
    cols[idx, idx + c] = 1
    out = (input.unsqueeze(-1) * rows).transpose(-1, -2) @ cols  # (..., n, n)
    nd = out.ndim
    d1, d2 = dim1 % nd, dim2 % nd
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    rest = [i for i in range(nd - 2)]
    order = [None] * nd
    order[d1], order[d2] = nd - 2, nd - 1
    it = iter(rest)
    order = [next(it) if o is None else o for o in order]
    return out.permute(*order)


def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    return _ops().diag(input.reshape(-1), offset)


def sum_to_size(self: Tensor, *size: Any) -> Tensor:
    """Mirrors `Tensor.sum_to_size`."""
    shape = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list, Size)) else tuple(size)
    if not _expandable(shape, tuple(self.shape)):
        raise RuntimeError(f"size {{{list(shape)}}} is not expandable to size {{{list(self.shape)}}}.")
    from .reduction import sum_to
    return sum_to(self, shape)


def _int_binary(name: str, ufunc: Any) -> Any:
    def f(input: Tensor, other: Tensor, *, out: Any = None) -> Tensor:
        # (both are Tensors: the checker in front, from the signature in _signatures.py, refused anything else)
        dt = D.promote_types(input.dtype, other.dtype)
        if dt.np.kind not in "iu":
            from ._registry import _TYPE_NAMES
            raise NotImplementedError(f'"{name}_cpu" not implemented for \'{_TYPE_NAMES.get(dt.np.name, dt)}\'')
        a, b = input._data.astype(dt.np, copy=False), other._data.astype(dt.np, copy=False)
        try:
            np.broadcast_shapes(a.shape, b.shape)
        except ValueError:
            from ._registry import _check_broadcast
            _check_broadcast(a.shape, b.shape)
        return _wrap(np.asarray(ufunc(a, b), dt.np))
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"Mirrors `torch.{name}` (integer tensors; not differentiable)."
    return f


gcd = _int_binary("gcd", np.gcd)
lcm = _int_binary("lcm", np.lcm)


def _int_binary_(fn: Any) -> Any:
    """The in-place form: torch checks that the result type casts to self's first."""
    def m(self: Tensor, other: Tensor) -> Tensor:
        from .._tensor import _check_cast
        _check_cast(D.promote_types(self.dtype, other.dtype).np, self._data.dtype)
        self._check_inplace()
        return self._set_inplace(fn(self, other))
    m.__name__ = fn.__name__ + "_"
    return m


def _expandable(shape: tuple, to: tuple) -> bool:
    if len(shape) > len(to):
        return False
    return all(s == t or s == 1 for s, t in zip(reversed(shape), reversed(to)))


__all__ = ["asinh", "acosh", "atanh", "arcsinh", "arccosh", "arctanh", "deg2rad", "rad2deg", "float_power",
           "positive", "fix", "clamp_min", "clamp_max", "atleast_1d", "atleast_2d", "atleast_3d", "hstack", "vstack",
           "row_stack", "dstack", "column_stack", "tensor_split", "hsplit", "vsplit", "dsplit", "split_with_sizes",
           "isin", "broadcast_shapes", "unravel_index", "is_nonzero", "is_same_size", "is_signed", "asarray",
           "inner", "index_put", "addmv", "addr", "baddbmm", "addbmm", "diag_embed", "diagflat", "vdot", "put",
           "gcd", "lcm"]

_METHOD_NAMES = ["asinh", "acosh", "atanh", "arcsinh", "arccosh", "arctanh", "deg2rad", "rad2deg", "float_power",
                 "positive", "fix", "clamp_min", "clamp_max", "tensor_split", "hsplit", "vsplit", "dsplit",
                 "split_with_sizes", "is_nonzero", "is_same_size", "is_signed", "inner", "index_put", "addmv",
                 "addr", "baddbmm", "addbmm", "diag_embed", "diagflat", "vdot", "put", "gcd", "lcm"]
_INPLACE_NAMES = ["deg2rad", "rad2deg", "float_power",
                  "fix", "clamp_min", "clamp_max", "addmv", "addr", "baddbmm", "addbmm"]


METHODS: dict = {n: _method(globals()[n]) for n in _METHOD_NAMES}
METHODS.update({n + "_": _inplace(globals()[n]) for n in _INPLACE_NAMES})
METHODS.update({"gcd_": _int_binary_(gcd), "lcm_": _int_binary_(lcm)})
METHODS["index_put_"] = _index_put_
for _n, _o in (("asinh", asinh_inplace), ("acosh", acosh_inplace), ("atanh", atanh_inplace)):
    METHODS[_n + "_"] = METHODS["arc" + _n[1:] + "_"] = _inplace(lambda self, _o=_o: _o(self))
    METHODS[_n + "_"].__name__ = _n + "_"
METHODS["sum_to_size"] = sum_to_size
METHODS["put_"] = _put_
