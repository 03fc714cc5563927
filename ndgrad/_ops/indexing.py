"""Gather/scatter, masked and index ops, repeat/flip/roll and other shape utilities, pad.

Public functions (with torch's signatures) are listed in `__all__` and exported as `ndgrad.X`;
`METHODS` maps Tensor method names to functions taking the tensor first. Both are wired in by
`ndgrad/_ops/__init__.py` and `ndgrad/_methods.py`.

Index arguments are non-differentiable inputs of the ops (saved as arrays, or as Tensors under
create_graph); every formula is written with ops of this file or of shape/reduction/pointwise, so
it runs on raw arrays and on Tensors alike.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._addat import add_at
from .. import _dtype as D
from .._tensor import Size, Tensor, _wrap, _wrap_dim
from . import pointwise as P
from . import reduction as Rd
from . import shape as S
from ._registry import SAME, Op

__all__: list[str] = [
    "argwhere",
    "broadcast_tensors",
    "chunk",
    "flip",
    "fliplr",
    "flipud",
    "gather",
    "index_add",
    "index_copy",
    "index_fill",
    "index_select",
    "masked_fill",
    "masked_scatter",
    "masked_select",
    "meshgrid",
    "moveaxis",
    "movedim",
    "nonzero",
    "repeat_interleave",
    "roll",
    "scatter",
    "scatter_add",
    "scatter_reduce",
    "select",
    "take",
    "take_along_dim",
    "tile",
    "unflatten",
]


def _np(x):
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def _grid(index, dim):
    """The advanced index addressing, for each element of `index`, position index[...] along `dim`."""
    nd = index.ndim
    out = []
    for d in range(nd):
        if d == dim:
            out.append(index)
        else:
            shp = [1] * nd
            shp[d] = index.shape[d]
            out.append(np.arange(index.shape[d]).reshape(shp))
    return tuple(out)


def _as1(a):
    return a.reshape(1) if a.ndim == 0 else a


# -- gather / scatter -------------------------------------------------------------------------------------------
def _gather(self, index, dim):
    if self.ndim == 0 or index.ndim == 0:
        return _as1(self)[_grid(_as1(index), 0)].reshape(index.shape)
    return self[_grid(index, dim)]


def _gather_backward(grad, index, dim, shape):
    out = np.zeros(shape, grad.dtype)
    if len(shape) == 0 or index.ndim == 0:
        o = out.reshape(1)
        np.add.at(o, _grid(_as1(index), 0), _as1(grad))
        return out
    add_at(out, _grid(index, dim), grad)
    return out


gather_op = Op("gather", _gather, ("self", "index"), ("dim",), dtype=SAME)
gather_backward = Op("gather_backward", _gather_backward, ("grad", "index"), ("dim", "shape"), dtype=SAME)
gather_op.defvjp(self=lambda grad, index, dim, self_shape: gather_backward(grad, index, dim, self_shape))
gather_backward.defvjp(grad=lambda grad, index, dim: gather_op(grad, index, dim))


def _scatter_put(out, index, dim, src):
    if out.ndim == 0 or index.ndim == 0:
        out.reshape(1)[_grid(_as1(index), 0)] = _as1(np.asarray(src))
    else:
        out[_grid(index, dim)] = src


def _scatter_zero(grad, index, dim):
    out = np.array(grad)
    _scatter_put(out, index, dim, 0)
    return out


scatter_zero = Op("scatter_zero", _scatter_zero, ("grad", "index"), ("dim",), dtype=SAME)
scatter_zero.defvjp(grad=lambda grad, index, dim: scatter_zero(grad, index, dim))


def _scatter_src(self, index, src, dim):
    out = np.array(self)
    _scatter_put(out, index, dim, src)
    return out


def _scatter_value(self, index, value, dim):
    out = np.array(self)
    _scatter_put(out, index, dim, value)
    return out


scatter_src = Op("scatter", _scatter_src, ("self", "index", "src"), ("dim",), node="ScatterBackward0", dtype=SAME)
scatter_src.defvjp(self=lambda grad, index, dim: scatter_zero(grad, index, dim),
                   src=lambda grad, index, dim: gather_op(grad, index, dim))
scatter_value = Op("scatter", _scatter_value, ("self", "index"), ("value", "dim"), node="ScatterBackward1",
                   dtype=SAME)
scatter_value.defvjp(self=lambda grad, index, dim: scatter_zero(grad, index, dim))


def _scatter_add(self, index, src, dim):
    out = np.array(self)
    if out.ndim == 0 or index.ndim == 0:
        np.add.at(out.reshape(1), _grid(_as1(index), 0), _as1(src))
    else:
        add_at(out, _grid(index, dim), src)
    return out


scatter_add_op = Op("scatter_add", _scatter_add, ("self", "index", "src"), ("dim",), node="ScatterAddBackward0",
                    dtype=SAME)
scatter_add_op.defvjp(self=lambda grad: grad, src=lambda grad, index, dim: gather_op(grad, index, dim))


def _scatter_legacy(self, index, src, dim, reduce):
    """scatter(..., reduce='add'|'multiply'): torch has no derivative for it (its node is NotImplemented)."""
    out = np.array(self)
    o = out.reshape(1) if out.ndim == 0 else out
    idx = _grid(_as1(index), 0) if out.ndim == 0 or index.ndim == 0 else _grid(index, dim)
    s = np.broadcast_to(src.astype(out.dtype, copy=False), idx[0].shape) if src.ndim == 0 else \
        (_as1(src) if out.ndim == 0 or index.ndim == 0 else src)
    (np.add if reduce == "add" else np.multiply).at(o, idx, s)
    return out


def _no_derivative(grad):
    raise RuntimeError("derivative for aten::scatter is not implemented")


scatter_legacy = Op("scatter", _scatter_legacy, ("self", "index", "src"), ("dim", "reduce"), node="NotImplemented",
                    dtype=SAME)
scatter_legacy.defvjp(self=_no_derivative, src=_no_derivative)


def _scatter_reduce(self, index, src, dim, reduce, include_self):
    out = np.array(self)
    o = out.reshape(1) if out.ndim == 0 else out
    idx = _grid(_as1(index), 0) if out.ndim == 0 or index.ndim == 0 else _grid(index, dim)
    s = _as1(src) if out.ndim == 0 or index.ndim == 0 else src
    if not include_self:
        init = {"sum": 0, "mean": 0, "prod": 1}.get(reduce)
        if init is None:
            kind = out.dtype.kind
            big = np.inf if kind in "fV" else np.iinfo(out.dtype).max
            init = -big if reduce == "amax" else big
        o[idx] = init
    if reduce in ("sum", "mean"):
        np.add.at(o, idx, s)
        if reduce == "mean":
            n = np.full(o.shape, 1 if include_self else 0, np.int64)
            np.add.at(n, idx, 1)
            n = np.maximum(n, 1)
            if o.dtype.kind in "fV":
                o[...] = o / n
            else:
                o[...] = np.floor_divide(o, n)
    elif reduce == "prod":
        np.multiply.at(o, idx, s)
    elif reduce == "amax":
        np.maximum.at(o, idx, s)
    else:
        np.minimum.at(o, idx, s)
    return out


def _scatter_counts(grad, index, dim, include_self):
    """grad divided by how many values each position averaged (scatter_reduce 'mean')."""
    n = np.full(grad.shape, 1 if include_self else 0, np.int64)
    o = n.reshape(1) if n.ndim == 0 else n
    idx = _grid(_as1(index), 0) if n.ndim == 0 or index.ndim == 0 else _grid(index, dim)
    np.add.at(o, idx, 1)
    return grad / np.maximum(n, 1).astype(grad.dtype)


scatter_mean_scale = Op("scatter_mean_scale", _scatter_counts, ("grad", "index"), ("dim", "include_self"),
                        dtype=SAME)
scatter_mean_scale.defvjp(grad=lambda grad, index, dim, include_self: scatter_mean_scale(grad, index, dim,
                                                                                         include_self))


def _sr_self(grad, self, index, src, result, dim, reduce, include_self):
    if reduce == "sum":
        g = grad
    elif reduce == "mean":
        g = scatter_mean_scale(grad, index, dim, include_self)
    elif reduce == "prod":  # torch's formula: exact where self holds zeros
        masked_self = masked_fill_op(self, P.eq(self, 0), 1)
        g = grad * scatter_reduce_op(masked_self, index, src, dim, "prod", include_self) / masked_self
    else:
        self_is = P.eq(self, result)
        src_is = P.eq(src, gather_op(result, index, dim))
        n = scatter_add_op(P.cast(self_is, grad.dtype if not isinstance(grad, Tensor) else grad._data.dtype),
                           index, P.cast(src_is, _dt(grad)), dim)
        g = grad / n * self_is
    return g if include_self else scatter_zero(g, index, dim)


def _dt(x):
    return x._data.dtype if isinstance(x, Tensor) else x.dtype


def _sr_src(grad, self, index, src, result, dim, reduce, include_self):
    if reduce == "sum":
        return gather_op(grad, index, dim)
    if reduce == "mean":
        return gather_op(scatter_mean_scale(grad, index, dim, include_self), index, dim)
    if reduce == "prod":  # torch's formula: exact where one zero of src meets a position
        src_zero = P.eq(src, 0)
        n_zeros = gather_op(scatter_add_op(P.zeros_like(grad), index, P.cast(src_zero, _dt(grad)), dim), index, dim)
        single = P.logical_and(src_zero, P.eq(n_zeros, 1))
        without = scatter_reduce_op(self, index, masked_fill_op(src, single, 1), dim, "prod", include_self)
        return P.where(single, gather_op(grad * without, index, dim),
                       gather_op(grad * result, index, dim) / masked_fill_op(src, src_zero, 1))
    self_is = P.eq(self, result)
    src_is = P.eq(src, gather_op(result, index, dim))
    if not include_self:
        self_is = P.cast(scatter_zero(P.cast(self_is, _dt(grad)), index, dim), np.bool_)
    n = scatter_add_op(P.cast(self_is, _dt(grad)), index, P.cast(src_is, _dt(grad)), dim)
    return gather_op(grad / n, index, dim) * src_is


scatter_reduce_op = Op("scatter_reduce", _scatter_reduce, ("self", "index", "src"),
                       ("dim", "reduce", "include_self"), node="ScatterReduceBackward0", dtype=SAME)
scatter_reduce_op.defvjp(self=_sr_self, src=_sr_src)

# -- index_select / index_add / index_copy / index_fill ----------------------------------------------------------


def _index_select(self, index, dim):
    if self.ndim == 0:
        return np.array(self)  # a 0-d input stays 0-d (its one index is checked by the caller)
    return np.take(self, index.reshape(-1), axis=dim)


def _index_add_at(out, index, dim, src):
    if out.ndim == 0:
        out[...] += np.sum(src)
        return
    add_at(np.moveaxis(out, dim, 0), index.reshape(-1), np.moveaxis(np.asarray(src), dim, 0))


def _index_select_backward(grad, index, dim, shape):
    out = np.zeros(shape, grad.dtype)
    _index_add_at(out, index, dim, grad)
    return out


index_select_op = Op("index_select", _index_select, ("self", "index"), ("dim",), node="IndexSelectBackward0",
                     dtype=SAME)
index_select_backward = Op("index_select_backward", _index_select_backward, ("grad", "index"), ("dim", "shape"),
                           dtype=SAME)
index_select_op.defvjp(self=lambda grad, index, dim, self_shape: index_select_backward(grad, index, dim,
                                                                                       self_shape))
index_select_backward.defvjp(grad=lambda grad, index, dim: index_select_op(grad, index, dim))


def _index_add(self, index, source, dim, alpha):
    out = np.array(self)
    _index_add_at(out, index, dim, source if alpha == 1 else source * alpha)
    return out


index_add_op = Op("index_add", _index_add, ("self", "index", "source"), ("dim", "alpha"), node="IndexAddBackward0",
                  dtype=SAME)
index_add_op.defvjp(self=lambda grad: grad,
                    source=lambda grad, index, dim, alpha: index_select_op(grad, index, dim) if alpha == 1
                    else index_select_op(grad, index, dim) * alpha)


def _index_put_dim(out, index, dim, value):
    if out.ndim == 0:
        if index.size:
            out[...] = value
        return
    idx = [slice(None)] * out.ndim
    idx[dim] = index.reshape(-1)
    if isinstance(value, np.ndarray) and value.ndim:
        out[tuple(idx)] = value
    else:
        out[tuple(idx)] = value


def _index_fill(self, index, dim, value):
    out = np.array(self)
    _index_put_dim(out, index, dim, value)
    return out


index_fill_op = Op("index_fill", _index_fill, ("self", "index"), ("dim", "value"), node="IndexFillBackward0",
                   dtype=SAME)
index_fill_op.defvjp(self=lambda grad, index, dim: index_fill_op(grad, index, dim, 0))


def _index_fill_t(self, index, value, dim):
    out = np.array(self)
    _index_put_dim(out, index, dim, value)
    return out


index_fill_t = Op("index_fill", _index_fill_t, ("self", "index", "value"), ("dim",), node="IndexFillBackward1",
                  dtype=SAME)
index_fill_t.defvjp(self=lambda grad, index, dim: index_fill_op(grad, index, dim, 0),
                    value=lambda grad, index, dim: Rd.sum_all(index_select_op(grad, index, dim)))


def _index_copy(self, index, source, dim):
    out = np.array(self)
    _index_put_dim(out, index, dim, source)
    return out


index_copy_op = Op("index_copy", _index_copy, ("self", "index", "source"), ("dim",), node="IndexCopyBackward0",
                   dtype=SAME)
index_copy_op.defvjp(self=lambda grad, index, dim: index_fill_op(grad, index, dim, 0),
                     source=lambda grad, index, dim: index_select_op(grad, index, dim))

# -- masked ------------------------------------------------------------------------------------------------------


def _masked_fill(self, mask, value):
    return np.where(mask, np.asarray(value).astype(self.dtype), self)


masked_fill_op = Op("masked_fill", _masked_fill, ("self", "mask"), ("value",), node="MaskedFillBackward0", dtype=SAME)
masked_fill_op.defvjp(self=lambda grad, mask: masked_fill_op(grad, mask, 0))


def _masked_fill_t(self, mask, value):
    return np.where(mask, value.astype(self.dtype), self)


masked_fill_t = Op("masked_fill", _masked_fill_t, ("self", "mask", "value"), node="MaskedFillBackward1", dtype=SAME)
masked_fill_t.defvjp(self=lambda grad, mask: masked_fill_op(grad, mask, 0),
                     value=lambda grad, mask: Rd.sum_all(masked_fill_op(grad, P.logical_not(mask), 0)))


def _masked_select(self, mask):
    a, m = np.broadcast_arrays(self, mask)
    return a[m]


def _masked_select_backward(grad, mask, shape):
    shp = np.broadcast_shapes(tuple(shape), mask.shape)
    out = np.zeros(shp, grad.dtype)
    out[np.broadcast_to(mask, shp)] = grad
    return out


masked_select_op = Op("masked_select", _masked_select, ("self", "mask"), node="MaskedSelectBackward0", dtype=SAME)
masked_select_backward = Op("masked_select_backward", _masked_select_backward, ("grad", "mask"), ("shape",),
                            dtype=SAME)
masked_select_op.defvjp(self=lambda grad, mask, self_shape: masked_select_backward(grad, mask, self_shape))
masked_select_backward.defvjp(grad=lambda grad, mask: masked_select_op(grad, mask))


def _masked_scatter(self, mask, source):
    shp = np.broadcast_shapes(self.shape, mask.shape)
    out = np.broadcast_to(self, shp).copy()
    m = np.broadcast_to(mask, shp)
    k = int(m.sum())
    out[m] = source.reshape(-1)[:k]
    return out


def _masked_scatter_src_backward(grad, mask, shape):
    """The gradient of masked_scatter's source: the selected gradient, zero-padded to the source's shape."""
    sel = grad[np.broadcast_to(mask, grad.shape)]
    out = np.zeros(int(np.prod(shape)), grad.dtype)
    out[:sel.size] = sel
    return out.reshape(shape)


masked_scatter_op = Op("masked_scatter", _masked_scatter, ("self", "mask", "source"), node="MaskedScatterBackward0",
                       dtype=SAME)
masked_scatter_src_backward = Op("masked_scatter_backward", _masked_scatter_src_backward, ("grad", "mask"),
                                 ("shape",), dtype=SAME)
masked_scatter_op.defvjp(self=lambda grad, mask: masked_fill_op(grad, mask, 0),
                         source=lambda grad, mask, source_shape: masked_scatter_src_backward(grad, mask,
                                                                                             source_shape))


def _masked_scatter_src_backward_vjp(grad, mask, grad_shape):
    """Adjoint of the source gradient: its first k elements placed where mask is set (k = mask count)."""
    k = int(np.broadcast_to(_np(mask), tuple(grad_shape)).sum())
    return masked_select_backward(S.narrow(S.reshape(grad, (-1,)), 0, 0, k), mask, tuple(grad_shape))


masked_scatter_src_backward.defvjp(grad=_masked_scatter_src_backward_vjp)

# -- take --------------------------------------------------------------------------------------------------------


def _take(self, index):
    return self.reshape(-1)[index]


def _take_backward(grad, index, shape):
    out = np.zeros(int(np.prod(shape)), grad.dtype)
    np.add.at(out, index, grad)
    return out.reshape(shape)


take_op = Op("take", _take, ("self", "index"), dtype=SAME)
take_backward = Op("take_backward", _take_backward, ("grad", "index"), ("shape",), dtype=SAME)
take_op.defvjp(self=lambda grad, index, self_shape: take_backward(grad, index, self_shape))
take_backward.defvjp(grad=lambda grad, index: take_op(grad, index))

# -- repeat / flip / roll ----------------------------------------------------------------------------------------


def _repeat(self, repeats):
    lead = len(repeats) - self.ndim
    return np.tile(self.reshape((1,) * lead + self.shape), repeats)


def _repeat_backward(grad, repeats, self_shape):
    lead = len(repeats) - len(self_shape)
    shp = (1,) * lead + tuple(self_shape)
    inter = []
    for r, s in zip(repeats, shp):
        inter += [r, s]
    g = S.reshape(grad, tuple(inter))
    g = Rd.sum_dim(g, tuple(range(0, 2 * len(shp), 2)), False)
    return S.reshape(g, tuple(self_shape))


repeat_op = Op("repeat", _repeat, ("self",), ("repeats",), dtype=SAME)
repeat_op.defvjp(self=_repeat_backward)


def _flip(self, dims):
    return np.flip(self, dims).copy() if self.ndim else self.copy()


flip_op = Op("flip", _flip, ("self",), ("dims",), dtype=SAME)
flip_op.defvjp(self=lambda grad, dims: flip_op(grad, dims))


def _roll(self, shifts, dims):
    if self.ndim == 0:
        return self.copy()
    return np.roll(self, shifts, axis=dims)


roll_op = Op("roll", _roll, ("self",), ("shifts", "dims"), dtype=SAME)
roll_op.defvjp(self=lambda grad, shifts, dims: roll_op(grad, tuple(-s for s in shifts), dims))

# -- argument checks ---------------------------------------------------------------------------------------------
_DT = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
       "float64": "Double", "float32": "Float", "float16": "Half"}


def _need_tensor(x, name, arg="input", pos=1):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be Tensor, not {type(x).__name__}")


def _check_long(index, name):
    if index._data.dtype not in (np.int64, np.int32):
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index")


def _check_gather_shapes(self, index, dim, name, src=None):
    nd = max(self.ndim, 1)
    if max(index.ndim, 1) != nd:
        raise RuntimeError("Index tensor must have the same number of dimensions as "
                           f"{'input' if name == 'gather' else 'self'} tensor")
    ishape = _as1(index._data).shape
    sshape = _as1(self._data).shape
    for d in range(nd):
        if d != dim and ishape[d] > sshape[d]:
            raise RuntimeError(f"Size does not match at dimension {d} expected index {list(index.shape)} to be no "
                               f"larger than self {list(self.shape)} apart from dimension {dim}")
        if src is not None and ishape[d] > _as1(src._data).shape[d]:
            raise RuntimeError(f"Size does not match at dimension {d} expected index {list(index.shape)} to be no "
                               f"larger than src {list(src.shape)}")
    size = sshape[dim]
    bad = _outside(index._data, 0, size)
    if bad is not None:
        raise RuntimeError(f"index {bad} is out of bounds for dimension {dim} with size {size}")


def _src_region(src, index):
    """torch reads only the index-shaped leading block of src."""
    if src._data.shape == index._data.shape or src.ndim == 0:
        return src
    return src[tuple(slice(0, k) for k in index._data.shape)]


def _check_same_dtype(self, src, name):
    if self._data.dtype != src._data.dtype:
        raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype")


# -- public functions --------------------------------------------------------------------------------------------
def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False, out: Any = None) -> Tensor:
    """Mirrors `torch.gather`."""
    _need_tensor(input, "gather")
    _need_tensor(index, "gather", "index", 3)
    d = _wrap_dim(dim, input.ndim)
    _check_long(index, "gather")
    _check_gather_shapes(input, index, d, "gather")
    return gather_op(input, index, d)


def scatter(input: Tensor, dim: int, index: Tensor, src: Any = None, *, value: Any = None,
            reduce: str | None = None) -> Tensor:
    """Mirrors `torch.scatter` (src tensor or scalar value; reduce 'add'/'multiply' without a derivative,
    as in torch)."""
    _need_tensor(input, "scatter")
    if src is None:
        src = value
    d = _wrap_dim(dim, input.ndim)
    _check_long(index, "scatter")
    if reduce is not None:  # the legacy reductions: no derivative, as in torch
        if reduce not in ("add", "multiply"):
            raise RuntimeError("reduce argument must be either add or multiply.")
        if isinstance(src, Tensor):
            _check_same_dtype(input, src, "scatter")
            _check_gather_shapes(input, index, d, "scatter", src)
            return scatter_legacy(input, index, _src_region(src, index), d, reduce)
        _check_gather_shapes(input, index, d, "scatter")
        return scatter_legacy(input, index, _wrap(np.asarray(src, dtype=input._data.dtype)), d, reduce)
    if isinstance(src, Tensor):
        _check_same_dtype(input, src, "scatter")
        _check_gather_shapes(input, index, d, "scatter", src)
        return scatter_src(input, index, _src_region(src, index), d)
    _check_gather_shapes(input, index, d, "scatter")
    return scatter_value(input, index, src, d)


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """Mirrors `torch.scatter_add` (repeated indices accumulate)."""
    _need_tensor(input, "scatter_add")
    d = _wrap_dim(dim, input.ndim)
    _check_long(index, "scatter_add")
    _check_same_dtype(input, src, "scatter_add")
    _check_gather_shapes(input, index, d, "scatter_add", src)
    return scatter_add_op(input, index, _src_region(src, index), d)


_REDUCES = ("sum", "prod", "mean", "amax", "amin")


def scatter_reduce(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """Mirrors `torch.scatter_reduce` (sum, prod, mean, amax, amin), with torch's gradients (prod: exact at
    zeros, except where two zeros of src meet at one position, as torch)."""
    _need_tensor(input, "scatter_reduce")
    if reduce not in _REDUCES:
        raise RuntimeError("reduce argument must be either sum, prod, mean, amax or amin, got " + str(reduce))
    d = _wrap_dim(dim, input.ndim)
    _check_long(index, "scatter_reduce")
    _check_same_dtype(input, src, "scatter_reduce")
    _check_gather_shapes(input, index, d, "scatter_reduce", src)
    return scatter_reduce_op(input, index, _src_region(src, index), d, reduce, bool(include_self))


def _check_index_vec(index, name):
    _need_tensor(index, name, "index", 3)
    if index.ndim > 1:
        raise IndexError(f"{name}(): Index is supposed to be a vector")
    if index._data.dtype not in (np.int64, np.int32):
        raise IndexError(f"{name}(): Expected dtype int32/int64 for index")


def _outside(a: np.ndarray, lo: int, hi: int) -> int | None:
    """None when every index lies in [lo, hi); else the one torch names (the smallest when one is below lo, else the
    largest). Asked as one yes/no question first: under vmap, each element of a batch must agree on it, where the
    smallest and largest index of each element need not."""
    if not a.size or not bool(((a < lo) | (a >= hi)).any()):
        return None
    m = int(a.min())
    return m if m < lo else int(a.max())


def _check_index_range(input, d, index, err=IndexError):
    size = input._data.shape[d] if input.ndim else 1
    bad = _outside(index._data, 0, size)
    if bad is not None:
        raise err(f"index {bad} is out of bounds for dimension {d} with size {size}")


def index_select(input: Tensor, dim: int, index: Tensor, *, out: Any = None) -> Tensor:
    """Mirrors `torch.index_select`."""
    _need_tensor(input, "index_select")
    d = _wrap_dim(dim, input.ndim)
    _check_index_vec(index, "index_select")
    size = input._data.shape[d] if input.ndim else 1
    a = index._data
    if input.ndim == 0 and a.size > 1:
        raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got {a.size} value(s)")
    if _outside(a, 0, size) is not None:
        raise IndexError("index out of range in self")
    return index_select_op(input, index, d)


def _check_source(input, d, index, source, name):
    err = RuntimeError if name == "index_add" else IndexError
    _need_tensor(source, name, "source", 4)
    if input._data.dtype != source._data.dtype:
        raise RuntimeError(f"{name}_(): self ({_DT.get(input._data.dtype.name)}) and source "
                           f"({_DT.get(source._data.dtype.name)}) must have the same scalar type")
    n = index._data.size
    if input.ndim == 0:
        if source.ndim:
            raise RuntimeError("source tensor shape must match self tensor shape, excluding the specified "
                               f"dimension. Got self.shape = [] source.shape = {list(source.shape)}")
        if n != 1:
            raise err(f"{name}_(): Number of indices ({n}) should be equal to source.size(dim) "
                  f"({source._data.size})")
        return
    exp = list(input._data.shape)
    exp[d] = n
    if source.ndim != input.ndim or (source.ndim and source._data.shape[d] != n):
        raise err(f"{name}_(): Number of indices ({n}) should be equal to source.size(dim) "
                  f"({source._data.shape[d] if source.ndim > d else source._data.size})")
    if list(source._data.shape) != exp:
        raise RuntimeError(f"{name}_(): Source/destination tensor must have same slice shapes. Destination slice "
                           f"shape: {exp} at dimension {d} and source slice shape: {list(source.shape)}")


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha: Any = 1) -> Tensor:
    """Mirrors `torch.index_add` (repeated indices accumulate)."""
    _need_tensor(input, "index_add")
    d = _wrap_dim(dim, input.ndim)
    _check_index_vec(index, "index_add")
    _check_source(input, d, index, source, "index_add")
    _check_index_range(input, d, index, RuntimeError)
    return index_add_op(input, index, source, d, alpha)


def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """Mirrors `torch.index_copy` (with repeated indices the result is unspecified, as in torch)."""
    _need_tensor(input, "index_copy")
    d = _wrap_dim(dim, input.ndim)
    _check_index_vec(index, "index_copy")
    if index._data.dtype != np.int64:
        raise RuntimeError("index_copy_(): Expected a long tensor for index")
    _check_source(input, d, index, source, "index_copy")
    _check_index_range(input, d, index)
    return index_copy_op(input, index, source, d)


def index_fill(input: Tensor, dim: int, index: Tensor, value: Any) -> Tensor:
    """Mirrors `torch.index_fill` (value a number or a 0-d tensor)."""
    _need_tensor(input, "index_fill")
    d = _wrap_dim(dim, input.ndim)
    _check_index_vec(index, "index_fill")
    if index._data.dtype != np.int64:
        raise RuntimeError("index_fill_(): Expected dtype int64 for index.")
    _check_index_range(input, d, index)
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value.ndim} dimension(s).")
        return index_fill_t(input, index, value, d)
    return index_fill_op(input, index, d, D.checked_fill(value, input._data.dtype))


def _check_mask(mask, name):
    _need_tensor(mask, name, "mask", 2)
    if mask._data.dtype != np.bool_:
        raise RuntimeError(f"{name} only supports boolean masks, but got mask with dtype "
                           f"{mask.dtype}".replace("ndgrad.", ""))


def masked_fill(input: Tensor, mask: Tensor, value: Any) -> Tensor:
    """Mirrors `torch.masked_fill` (value a number or a 0-d tensor)."""
    _need_tensor(input, "masked_fill")
    _check_mask(mask, "masked_fill_")
    _check_broadcast(input, mask)
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value.ndim} dimension(s).")
        return masked_fill_t(input, mask, value)
    return masked_fill_op(input, mask, D.checked_fill(value, input._data.dtype))


def _check_broadcast(a, b):
    try:
        np.broadcast_shapes(a._data.shape, b._data.shape)
    except ValueError:
        sa, sb = a._data.shape, b._data.shape
        n = max(len(sa), len(sb))
        pa, pb = (1,) * (n - len(sa)) + sa, (1,) * (n - len(sb)) + sb
        k = next(i for i in range(n - 1, -1, -1) if pa[i] != pb[i] and 1 not in (pa[i], pb[i]))
        raise RuntimeError(f"The size of tensor a ({pa[k]}) must match the size of tensor b ({pb[k]}) at "
                           f"non-singleton dimension {k}") from None


def masked_select(input: Tensor, mask: Tensor, *, out: Any = None) -> Tensor:
    """Mirrors `torch.masked_select` (input and mask broadcast)."""
    _need_tensor(input, "masked_select")
    _check_mask(mask, "masked_select:")
    _check_broadcast(input, mask)
    return masked_select_op(input, mask)


def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """Mirrors `torch.masked_scatter`."""
    _need_tensor(input, "masked_scatter")
    _check_mask(mask, "masked_scatter_")
    _check_broadcast(input, mask)
    if input._data.dtype != source._data.dtype:
        raise RuntimeError("masked_scatter_: expected self and source to have same dtypes but got "
                           f"{input.dtype} and {source.dtype}")
    k = int(np.broadcast_to(mask._data, np.broadcast_shapes(input._data.shape, mask._data.shape)).sum())
    if source._data.size < k:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    return masked_scatter_op(input, mask, source)


def take(input: Tensor, index: Tensor) -> Tensor:
    """Mirrors `torch.take` (indices into the flattened input; negative ones count from the end)."""
    _need_tensor(input, "take")
    _need_tensor(index, "take", "index", 2)
    if index._data.dtype != np.int64:
        raise RuntimeError("take(): Expected a long tensor for index, but got " + str(index.dtype).split(".")[-1])
    n = input._data.size
    a = index._data
    bad = _outside(a, -n, n)
    if bad is not None:
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} elements.")
    if a.size and n and bool((a < 0).any()):
        index = _wrap(np.where(a < 0, a + n, a))
    return take_op(input, index)


def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None, *, out: Any = None) -> Tensor:
    """Mirrors `torch.take_along_dim`."""
    _need_tensor(input, "take_along_dim")
    _need_tensor(indices, "take_along_dim", "indices", 2)
    if indices._data.dtype.kind not in "iu":
        raise RuntimeError("torch.take_along_dim(): dtype of indices should be int but got "
                           f"{str(indices.dtype).split('.')[-1]} instead")
    if dim is None:
        flat = S.reshape(input, (-1,))
        return gather(flat, 0, _long(S.reshape(indices, (-1,))))
    if input.ndim != indices.ndim:
        raise RuntimeError("torch.take_along_dim(): input and indices should have the same number of dimensions, "
                           f"but got {input.ndim} dimensions for input, and {indices.ndim} dimensions for indices")
    d = _wrap_dim(dim, input.ndim)
    si, sx = list(input._data.shape), list(indices._data.shape)
    si[d] = sx[d] = 1
    from ._registry import _check_broadcast
    _check_broadcast(tuple(si), tuple(sx))
    b = list(np.broadcast_shapes(tuple(si), tuple(sx)))
    bi, bx = list(b), list(b)
    bi[d] = input._data.shape[d]
    bx[d] = indices._data.shape[d]
    x = input if tuple(bi) == input._data.shape else Rd.expand_to(input, tuple(bi))
    idx = indices if tuple(bx) == indices._data.shape else Rd.expand_to(indices, tuple(bx))
    return gather(x, d, _long(idx))


def _long(t):
    return t if t._data.dtype == np.int64 else _wrap(t._data.astype(np.int64))


def select(input: Tensor, dim: int, index: int) -> Tensor:
    """Mirrors `torch.select` (a view)."""
    _need_tensor(input, "select")
    if input.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = _wrap_dim(dim, input.ndim)
    size = input._data.shape[d]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(input.shape)} at "
                         f"dimension {d}")
    return S.select(input, (slice(None),) * d + (index % size,))


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """Mirrors `torch.chunk` (pieces of ceil(size / chunks), the last possibly smaller)."""
    _need_tensor(input, "chunk")
    if input.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = _wrap_dim(dim, input.ndim)
    n = input._data.shape[d]
    k = (n + chunks - 1) // chunks
    if k == 0:
        sizes = [0] * chunks
        return S.split_with_sizes(input, d, tuple(sizes))
    sizes = [k] * (n // k) + ([n % k] if n % k else [])
    return S.split(input, d, tuple(sizes))


def _ints(args, name):
    if len(args) == 1 and isinstance(args[0], (tuple, list, Size)):
        args = tuple(args[0])
    return tuple(int(a) for a in args)


def repeat(input: Tensor, *repeats: Any) -> Tensor:
    """Mirrors `Tensor.repeat`."""
    reps = _ints(repeats, "repeat")
    if len(reps) < input.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of "
                           "tensor")
    if any(r < 0 for r in reps):
        lead = len(reps) - input.ndim
        shp = [r * s for r, s in zip(reps, (1,) * lead + input._data.shape)]
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(shp)}: {shp}")
    return repeat_op(input, reps)


def tile(input: Tensor, dims: Sequence[int]) -> Tensor:
    """Mirrors `torch.tile`."""
    _need_tensor(input, "tile")
    reps = tuple(int(r) for r in dims)
    if len(reps) < input.ndim:
        reps = (1,) * (input.ndim - len(reps)) + reps
    return repeat(input, reps)


def repeat_interleave(input: Tensor, repeats: Any = None, dim: int | None = None, *,
                      output_size: int | None = None) -> Tensor:
    """Mirrors `torch.repeat_interleave` (int or tensor repeats; with one int tensor, its index form)."""
    _need_tensor(input, "repeat_interleave")
    if repeats is None:  # repeat_interleave(repeats): indices repeated
        r = input._data
        if r.ndim > 1:
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
        if r.size and r.min() < 0:
            raise RuntimeError("repeats can not be negative")
        return _wrap(np.repeat(np.arange(r.size, dtype=np.int64), r.reshape(-1)))
    if dim is None:
        input = S.reshape(input, (-1,))
        d = 0
    else:
        d = _wrap_dim(dim, input.ndim)
    if input.ndim == 0:
        input = S.reshape(input, (1,))
    n = input._data.shape[d]
    if isinstance(repeats, Tensor):
        r = repeats._data
        if r.ndim > 1:
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
        if r.size == 1:
            r = np.broadcast_to(r.reshape(-1), (n,))
        if True:
            if r.size != n:
                raise RuntimeError(f"repeats must have the same size as input along dim, but got "
                                   f"repeats.size(0) = {r.size} and input.size({d}) = {n}")
            if r.size and r.min() < 0:
                raise RuntimeError("repeats can not be negative")
            idx = _wrap(np.repeat(np.arange(n, dtype=np.int64), r))
            return index_select_op(input, idx, d)
    repeats = int(repeats)
    if repeats < 0:
        raise RuntimeError("repeats can not be negative")
    shp = input._data.shape
    x = S.unsqueeze(input, d + 1)
    x = Rd.expand_to(x, shp[:d + 1] + (repeats,) + shp[d + 1:])
    x = P.clone(x)
    return S.reshape(x, shp[:d] + (shp[d] * repeats,) + shp[d + 1:])


def _dims_arg(dims, ndim, name):
    if isinstance(dims, (int, np.integer)):
        dims = (dims,)
    out = tuple(_wrap_dim(int(d), ndim) for d in dims)
    seen = set()
    for d in out:
        if d in seen:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
        seen.add(d)
    return out


def flip(input: Tensor, dims: Any) -> Tensor:
    """Mirrors `torch.flip` (a copy, as in torch)."""
    _need_tensor(input, "flip")
    if isinstance(dims, (int, np.integer)):
        raise TypeError("flip(): argument 'dims' (position 2) must be tuple of ints, not int")
    dims = _dims_arg(dims, input.ndim, "flip")
    return flip_op(input, dims if input.ndim else ())


def fliplr(input: Tensor) -> Tensor:
    """Mirrors `torch.fliplr`."""
    _need_tensor(input, "fliplr")
    if input.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip_op(input, (1,))


def flipud(input: Tensor) -> Tensor:
    """Mirrors `torch.flipud`."""
    _need_tensor(input, "flipud")
    if input.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip_op(input, (0,))


def roll(input: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    """Mirrors `torch.roll` (without dims: over the flattened tensor)."""
    _need_tensor(input, "roll")
    sh = (int(shifts),) if isinstance(shifts, (int, np.integer)) else tuple(int(s) for s in shifts)
    if not sh:
        raise RuntimeError("`shifts` required")
    if dims is None:
        if len(sh) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(sh)}, dims:0")
        return roll_op(input, sh, None)
    dm = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    if not dm and len(sh) == 1:
        return roll_op(input, sh, None)
    if input.ndim == 0 and dm:
        raise IndexError(f"Dimension specified as {dm[0]} but tensor has no dimensions")
    if len(sh) != len(dm):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(sh)}, dims:{len(dm)}")
    dm = tuple(_wrap_dim(int(d), input.ndim) for d in dm)
    return roll_op(input, sh, dm if input.ndim else None)


def broadcast_tensors(*tensors: Tensor) -> tuple:
    """Mirrors `torch.broadcast_tensors` (inputs already of the broadcast shape come back as they are)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    for t in tensors:
        _need_tensor(t, "broadcast_tensors", "tensors")
    shapes = [t._data.shape for t in tensors]
    try:
        shp = np.broadcast_shapes(*shapes)
    except ValueError:
        a = shapes[0]
        for b in shapes[1:]:
            try:
                a = np.broadcast_shapes(a, b)
            except ValueError:
                _check_broadcast(_wrap(np.empty(a)), _wrap(np.empty(b)))
        raise
    return tuple(t if t._data.shape == shp else Rd.expand_to(t, shp) for t in tensors)


def movedim(input: Tensor, source: Any, destination: Any) -> Tensor:
    """Mirrors `torch.movedim` (a permutation, as torch's)."""
    _need_tensor(input, "movedim")
    src = (source,) if isinstance(source, (int, np.integer)) else tuple(source)
    dst = (destination,) if isinstance(destination, (int, np.integer)) else tuple(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} dims) should contain "
                           f"the same number of dims as destination ({list(dst)} dims)")
    nd = input.ndim
    s = [_wrap_dim(int(d), nd) for d in src]
    t = [_wrap_dim(int(d), nd) for d in dst]
    if len(set(s)) != len(s):
        raise RuntimeError(f"movedim: repeated dim in `source` ({list(src)})")
    if len(set(t)) != len(t):
        raise RuntimeError(f"movedim: repeated dim in `destination` ({list(dst)})")
    if nd == 0:
        return S.index_basic(input, (Ellipsis,))
    perm = [-1] * nd
    for a, b in zip(s, t):
        perm[b] = a
    rest = iter(d for d in range(nd) if d not in s)
    perm = [next(rest) if p == -1 else p for p in perm]
    return S.permute(input, tuple(perm))


moveaxis = movedim


def unflatten(input: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    """Mirrors `torch.unflatten`."""
    _need_tensor(input, "unflatten")
    d = _wrap_dim(dim, input.ndim)
    sizes = [int(s) for s in sizes]
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    n = input._data.shape[d]
    if sizes.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = 1
    for s in sizes:
        if s != -1:
            known *= s
    if -1 in sizes:
        if known == 0 or n % known:
            raise RuntimeError(f"unflatten: Provided sizes {sizes} don't multiply up to the size of dim {dim} ({n}) "
                               "in the input tensor")
        sizes[sizes.index(-1)] = n // known
    elif known != n:
        raise RuntimeError(f"unflatten: Provided sizes {sizes} don't multiply up to the size of dim {dim} ({n}) in "
                           "the input tensor")
    shp = input._data.shape
    return S.reshape(input, shp[:d] + tuple(sizes) + shp[d + 1:])


def nonzero(input: Tensor, *, out: Any = None, as_tuple: bool = False) -> Any:
    """Mirrors `torch.nonzero` (int64 indices, never differentiable)."""
    _need_tensor(input, "nonzero")
    a = input._data
    if as_tuple:
        return tuple(_wrap(i.astype(np.int64)) for i in np.nonzero(np.atleast_1d(a)))
    if a.ndim == 0:
        return _wrap(np.zeros((int(bool(a)), 0), np.int64))
    return _wrap(np.argwhere(a).astype(np.int64))


def argwhere(input: Tensor) -> Tensor:
    """Mirrors `torch.argwhere`."""
    return nonzero(input)


def meshgrid(*tensors: Tensor, indexing: str | None = None) -> tuple:
    """Mirrors `torch.meshgrid` (indexing 'ij', the default, or 'xy')."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {indexing}")
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for t in tensors:
        _need_tensor(t, "meshgrid", "tensors")
        if t.ndim > 1:
            raise RuntimeError("torch.meshgrid: Expected 0D or 1D tensor in the input list")
    if any(t._data.dtype != tensors[0]._data.dtype for t in tensors):
        raise RuntimeError("torch.meshgrid: expects all tensors to have the same dtype")
    ts = list(tensors)
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(t._data.size for t in ts)
    out = []
    for i, t in enumerate(ts):
        v = [1] * len(ts)
        v[i] = -1
        out.append(Rd.expand_to(S.view(t, tuple(v)), shape))
    if swap:
        out[0], out[1] = out[1], out[0]
    return tuple(out)


# -- pad (exposed by the lead as ndgrad.nn.functional.pad) -------------------------------------------------------


def _pad_constant(self, pads, value):
    width = [(0, 0)] * (self.ndim - len(pads)) + list(pads)
    neg = any(a < 0 or b < 0 for a, b in width)
    if not neg:
        return np.pad(self, width, mode="constant", constant_values=value)
    # negative pads crop
    idx = tuple(slice(-a if a < 0 else 0, s + b if b < 0 else s) for (a, b), s in zip(width, self.shape))
    cropped = self[idx]
    width = [(max(a, 0), max(b, 0)) for a, b in width]
    return np.pad(cropped, width, mode="constant", constant_values=value)


def _pad_constant_backward(grad, pads):
    width = [(0, 0)] * (grad.ndim - len(pads)) + list(pads)
    return constant_pad(grad, tuple((-a, -b) for a, b in width[grad.ndim - len(pads):]), 0)


constant_pad = Op("constant_pad_nd", _pad_constant, ("self",), ("pads", "value"), node="ConstantPadNdBackward0",
                  dtype=SAME)
constant_pad.defvjp(self=lambda grad, pads: _pad_constant_backward(grad, pads))

def _pad_index(shape, pads, mode):
    """For each output position along each padded dim, the input position it reads."""
    out = []
    for (a, b), s in zip(pads, shape[len(shape) - len(pads):]):
        pos = np.arange(-a, s + b)
        if mode == "reflect":
            period = 2 * (s - 1) if s > 1 else 1
            p = np.mod(pos, period)
            pos = np.where(p >= s, period - p, p)
        elif mode == "replicate":
            pos = np.clip(pos, 0, s - 1)
        else:  # circular: torch crops first (negative pads), then wraps around the cropped range
            lo, hi = max(-a, 0), max(-b, 0)
            n = s - lo - hi
            pos = lo + np.mod(np.arange(-max(a, 0), n + max(b, 0)), max(n, 1))
        out.append(pos)
    return out


def _pad_mode(self, pads, mode):
    lead = self.ndim - len(pads)
    idx = _pad_index(self.shape, pads, mode)
    ix = np.ix_(*idx)
    return self[(slice(None),) * lead + ix] if idx else self.copy()


def _pad_mode_backward(grad, pads, mode, shape):
    out = np.zeros(shape, grad.dtype)
    lead = len(shape) - len(pads)
    idx = _pad_index(shape, pads, mode)
    ix = np.ix_(*idx)
    if lead:  # the leading (unpadded) dims as aranges broadcasting against the padded index grid
        sub = tuple(np.arange(n).reshape((n,) + (1,) * (len(shape) - 1 - k)) for k, n in enumerate(shape[:lead]))
        np.add.at(out, sub + tuple(ix), grad)
    else:
        np.add.at(out, ix, grad)
    return out


def _make_pad(node, mode):
    op = Op("pad_" + mode, lambda self, pads: _pad_mode(self, pads, mode), ("self",), ("pads",), node=node,
            dtype=SAME)
    bw = Op("pad_" + mode + "_backward", lambda grad, pads, shape: _pad_mode_backward(grad, pads, mode, shape),
            ("grad",), ("pads", "shape"), dtype=SAME)
    op.defvjp(self=lambda grad, pads, self_shape: bw(grad, pads, self_shape))
    bw.defvjp(grad=lambda grad, pads: op(grad, pads))
    return op, bw


reflection_pad = {k: _make_pad(f"ReflectionPad{k}DBackward0", "reflect") for k in (1, 2, 3)}
replication_pad = {k: _make_pad(f"ReplicationPad{k}DBackward0", "replicate") for k in (1, 2, 3)}
circular_pad = _make_pad("CopySlices", "circular")


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:
    """Mirrors `torch.nn.functional.pad` (constant, reflect, replicate, circular)."""
    _need_tensor(input, "pad")
    pad = [int(p) for p in pad]
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    k = len(pad) // 2
    if k > input.ndim:
        raise RuntimeError("Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pad)} and input of dimension {input.ndim}")
    pairs = tuple((pad[2 * i], pad[2 * i + 1]) for i in range(k))[::-1]  # first dim first
    shp = input._data.shape
    if mode == "constant":
        for (a, b), s in zip(pairs, shp[input.ndim - k:]):
            if s + a + b < 0:
                raise RuntimeError(f"The input size {s}, plus negative padding {a} and {b} resulted in a negative "
                                   f"output size, which is invalid. Check dimension of your input.")
        return constant_pad(input, pairs, 0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value not in (None, 0):
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    nd = input.ndim
    if not (k + 1 <= nd <= k + 2) or k > 3 or k == 0:
        raise NotImplementedError("Only 2D, 3D, 4D, 5D padding with non-constant padding are supported for now")
    for (a, b), s in zip(pairs, shp[nd - k:]):
        if mode == "reflect" and (a >= s or b >= s):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input dimension, "
                               f"but got: padding ({a}, {b}) at dimension {nd - k} of input {list(shp)}")
        if mode == "circular" and (a > s or b > s):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if mode == "replicate" and s == 0:
            raise RuntimeError("input tensor must not be empty")
        if s + a + b <= 0:
            raise RuntimeError(f"input (W: {s}) is too small. Calculated output W: {s + a + b}")
    if mode == "reflect":
        return reflection_pad[k][0](input, pairs)
    if mode == "replicate":
        return replication_pad[k][0](input, pairs)
    return circular_pad[0](input, pairs)


FUNCTIONAL = {"pad": pad}

# -- methods and in-place forms ----------------------------------------------------------------------------------


def _inplace(fn):
    def m(self, *args, **kwargs):
        self._check_inplace()
        return self._set_inplace(fn(self, *args, **kwargs))
    m.__name__ = fn.__name__ + "_"
    return m


def _flip_m(self, *dims):
    return flip(self, dims[0] if len(dims) == 1 and not isinstance(dims[0], int) else dims)


METHODS: dict = {
    "chunk": chunk, "repeat": repeat, "repeat_interleave": repeat_interleave, "tile": lambda self, *d: tile(
        self, _ints(d, "tile")), "flip": _flip_m, "fliplr": fliplr, "flipud": flipud, "roll": roll,
    "select": select, "gather": gather, "scatter": scatter, "scatter_add": scatter_add,
    "scatter_reduce": scatter_reduce, "index_select": index_select, "index_add": index_add,
    "index_copy": index_copy, "index_fill": index_fill, "masked_fill": masked_fill, "masked_select": masked_select,
    "masked_scatter": masked_scatter, "take": take, "take_along_dim": take_along_dim, "movedim": movedim,
    "moveaxis": movedim, "unflatten": unflatten, "nonzero": nonzero, "argwhere": argwhere,
    "scatter_": _inplace(scatter), "scatter_add_": _inplace(scatter_add), "index_add_": _inplace(index_add),
    "index_fill_": _inplace(index_fill), "index_copy_": _inplace(index_copy), "masked_fill_": _inplace(masked_fill),
    "masked_scatter_": _inplace(masked_scatter), "scatter_reduce_": _inplace(scatter_reduce),
}


# -- forward mode (autograd/forward_ad.py): how each op's jvp is derived; ops not listed transpose their vjp
for _op in (gather_op, gather_backward, scatter_zero, scatter_src, scatter_add_op, scatter_mean_scale, index_select_op,
            index_select_backward, index_add_op, index_fill_t, index_copy_op, masked_fill_t, masked_select_op,
            masked_select_backward, masked_scatter_op, masked_scatter_src_backward, take_op, take_backward, repeat_op,
            flip_op, roll_op):
    _op.defjvp(linear=True)
# affine in self, with a constant parameter: the tangent is the op with that constant 0
scatter_value.defjvp(lambda ts, self, index, value, dim, result: scatter_value(ts[0], index, 0, dim))
index_fill_op.defjvp(lambda ts, self, index, dim, value, result: index_fill_op(ts[0], index, dim, 0))
masked_fill_op.defjvp(lambda ts, self, mask, value, result: masked_fill_op(ts[0], mask, 0))
constant_pad.defjvp(lambda ts, self, pads, value, result: constant_pad(ts[0], pads, 0))
