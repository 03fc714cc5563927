"""Statistics, norms, scans and sorting (var, std, norm, logsumexp, cumsum, sort, topk, ...).

Public functions (with torch's signatures) are listed in `__all__` and exported as `ndgrad.X`;
`METHODS` maps Tensor method names to functions taking the tensor first. Both are wired in by
`ndgrad/_ops/__init__.py` and `ndgrad/_methods.py`.

Every differentiable op here is one `Op` with a NumPy forward and derivative formulas written with ndgrad
ops, so they run on raw arrays in an ordinary backward and on Tensors under create_graph.
Value-selecting ops (median/kthvalue/mode with dim, sort, topk, cummax/cummin) send the gradient to the
selected indices (`scatter_dim`, or `_scatter_add_dim` where an index repeats).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._quiet import quiet
from .._tensor import Tensor, _wrap, _wrap_dim
from ._registry import FLOAT, SAME, Op
from .pointwise import abs as _abs
from .pointwise import exp, sign, where
from .reduction import (
    _dims,
    _even_split,
    _restore_dims,
    expand_to,
    gather_dim,
    mean_dim,
    mean_of,
    return_type,
    scatter_dim,
    sum_dim,
)

__all__: list[str] = ["var", "std", "var_mean", "std_mean", "norm", "logsumexp", "cumsum", "cumprod", "cummax",
                      "cummin", "median", "mode", "sort", "argsort", "topk", "kthvalue", "count_nonzero",
                      "unique", "unique_consecutive", "dist"]

_PRETTY = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
           "float16": "Half", "float32": "Float", "float64": "Double"}


def _c(arr, like):
    """A constant array usable next to `like` (a Tensor under create_graph, an ndarray otherwise)."""
    return _wrap(np.asarray(arr)) if isinstance(like, Tensor) else arr


def _count(shape, dims) -> int:
    n = 1
    for d in dims:
        n *= shape[d]
    return n


def _check_tensor(x, name):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(x).__name__}")


def _reduce_dims(dim, ndim):
    """`dim` of var/std/norm/logsumexp: None or an empty sequence reduce everything."""
    if dim is None or (isinstance(dim, (list, tuple)) and len(dim) == 0):
        return tuple(range(ndim))
    return _dims(dim, ndim)


# -- var, std, var_mean, std_mean --------------------------------------------------------------------------------
def _var_fwd(self, dim, correction, keepdim):
    n = _count(self.shape, dim)
    with quiet():
        if self.size == 0 or n == 0:
            return np.full(np.sum(self, axis=dim, keepdims=keepdim).shape, np.nan, self.dtype)
        m = mean_of(self, dim, True)
        s = np.sum(np.square(self - m), axis=dim, keepdims=keepdim)
        return (s / np.asarray(max(0, n - correction), self.dtype)).astype(self.dtype, copy=False)


def _var_backward(grad, self, dim, correction, keepdim, self_shape):
    d = _count(self_shape, dim) - correction
    scale = 2.0 / d if d else math.inf
    g = _restore_dims(grad, self_shape, dim, keepdim)
    return (self - mean_dim(self, dim, True)) * (g * scale)


def _std_backward(grad, self, result, dim, correction, keepdim, self_shape):
    zero = result == 0
    gv = where(zero, 0.0, grad / (where(zero, 1.0, result) * 2))  # torch: 0 where the std is 0
    return _var_backward(gv, self, dim, correction, keepdim, self_shape)


def _mean_backward(grad, dim, keepdim, self_shape):
    return expand_to(_restore_dims(grad, self_shape, dim, keepdim) / max(_count(self_shape, dim), 1), self_shape)


var_op = Op("var", _var_fwd, ("self",), ("dim", "correction", "keepdim"), node="VarBackward0", dtype=SAME)
var_op.defvjp(self=_var_backward)

std_op = Op("std", lambda self, dim, correction, keepdim: np.sqrt(_var_fwd(self, dim, correction, keepdim)),
            ("self",), ("dim", "correction", "keepdim"), node="StdBackward0", dtype=SAME)
std_op.defvjp(self=_std_backward)


def _var_mean_fwd(self, dim, correction, keepdim):
    v = _var_fwd(self, dim, correction, keepdim)
    with quiet():
        m = np.full(v.shape, np.nan, self.dtype) if self.size == 0 else \
            mean_of(self, dim, keepdim).astype(self.dtype, copy=False)
    return v, m


var_mean_op = Op("var_mean", _var_mean_fwd, ("self",), ("dim", "correction", "keepdim"), node="VarMeanBackward0",
                 dtype=SAME, n_out=2)
var_mean_op.defvjp(self=lambda grads, self, dim, correction, keepdim, self_shape:
                   _var_backward(grads[0], self, dim, correction, keepdim, self_shape)
                   + _mean_backward(grads[1], dim, keepdim, self_shape))


def _std_mean_fwd(self, dim, correction, keepdim):
    v, m = _var_mean_fwd(self, dim, correction, keepdim)
    return np.sqrt(v), m


std_mean_op = Op("std_mean", _std_mean_fwd, ("self",), ("dim", "correction", "keepdim"), node="StdMeanBackward0",
                 dtype=SAME, n_out=2)
std_mean_op.defvjp(self=lambda grads, self, result, dim, correction, keepdim, self_shape:
                   _std_backward(grads[0], self, result[0], dim, correction, keepdim, self_shape)
                   + _mean_backward(grads[1], dim, keepdim, self_shape))


def _var_args(name, input, dim, unbiased, keepdim, correction):
    _check_tensor(input, name)
    if isinstance(dim, bool):  # var(input, unbiased)
        dim, unbiased = None, dim
    if correction is not None and unbiased is not None:
        raise RuntimeError(f"{name}: can't specify both unbiased and correction")
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    if input._data.dtype.kind not in "fcV":
        raise RuntimeError("std and var only support floating point and complex dtypes")
    return _reduce_dims(dim, input.ndim), correction, bool(keepdim)


def var(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
        correction: Any = None) -> Tensor:
    """Mirrors `torch.var` (`var(x, unbiased)`, `var(x, dim, unbiased, keepdim)`, `correction=`)."""
    dims, c, keepdim = _var_args("var", input, dim, unbiased, keepdim, correction)
    return var_op(input, dims, c, keepdim)


def std(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
        correction: Any = None) -> Tensor:
    """Mirrors `torch.std` (the gradient is 0 where the result is 0, as torch)."""
    dims, c, keepdim = _var_args("std", input, dim, unbiased, keepdim, correction)
    return std_op(input, dims, c, keepdim)


def var_mean(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
             correction: Any = None) -> tuple:
    """Mirrors `torch.var_mean`: a plain tuple (var, mean)."""
    dims, c, keepdim = _var_args("var_mean", input, dim, unbiased, keepdim, correction)
    return tuple(var_mean_op(input, dims, c, keepdim))


def std_mean(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
             correction: Any = None) -> tuple:
    """Mirrors `torch.std_mean`: a plain tuple (std, mean)."""
    dims, c, keepdim = _var_args("std_mean", input, dim, unbiased, keepdim, correction)
    return tuple(std_mean_op(input, dims, c, keepdim))


# -- norm, dist ------------------------------------------------------------------------------------------------
def _vnorm(x, p, dim, keepdim):
    a = np.abs(x)
    with quiet():
        if p == 0:
            r = np.sum(a != 0, axis=dim, keepdims=keepdim).astype(a.dtype)
        elif p == math.inf:
            r = np.max(a, axis=dim, keepdims=keepdim)
        elif p == -math.inf:
            r = np.min(a, axis=dim, keepdims=keepdim)
        elif p == 1:
            r = np.sum(a, axis=dim, keepdims=keepdim)
        elif p == 2:
            r = np.sqrt(np.sum(a * a, axis=dim, keepdims=keepdim))
        else:
            r = np.sum(a ** p, axis=dim, keepdims=keepdim) ** (1.0 / p)
    return np.asarray(r).astype(a.dtype, copy=False)  # real, also for complex x


def _norm_backward(grad, self, result, p, dim, keepdim, self_shape):
    """torch's norm_backward: the gradient is 0 where the norm is 0; inf-norms split ties evenly."""
    if p == 0:
        return self * 0.0
    g = _restore_dims(grad, self_shape, dim, keepdim)
    n = _restore_dims(result, self_shape, dim, keepdim)
    if p == 1:
        return sign(self) * g
    if p in (math.inf, -math.inf):
        mask = _abs(self) == n
        raw = mask._data if isinstance(mask, Tensor) else mask
        m = _c(raw.astype((self._data if isinstance(self, Tensor) else self).dtype), self)
        count = sum_dim(m, dim, True)
        return sign(self) * m * (g / count)
    zero = n == 0
    safe = where(zero, 1.0, n)
    if p == 2:
        return self * where(zero, 0.0, g / safe)
    if p < 2:
        scaled = sign(self) * _abs(self) ** (p - 1)
    else:
        scaled = self * _abs(self) ** (p - 2)
    return scaled * where(zero, 0.0, g / safe ** (p - 1))


norm_op = Op("linalg_vector_norm", _vnorm, ("self",), ("p", "dim", "keepdim"), node="LinalgVectorNormBackward0",
             dtype=SAME)
norm_op.defvjp(self=lambda grad, self, result, p, dim, keepdim, self_shape:
               _norm_backward(grad, self, result, p, dim, keepdim, self_shape))


def _check_empty_inf(x, p, dims, name):
    if p < 0 or p == math.inf:
        shape = x.shape
        if x._data.size == 0 and any(shape[d] == 0 for d in dims) or (x._data.size == 0 and not dims):
            raise RuntimeError(f"{name} cannot compute the {p} norm on an empty tensor because the operation "
                               "does not have an identity")


def norm(input: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False, out: Any = None,
         dtype: Any = None) -> Tensor:
    """Mirrors `torch.norm` / `Tensor.norm` for vector norms ('fro' and numbers incl. inf, -inf, 0)."""
    _check_tensor(input, "norm")
    if dtype is not None:
        input = input.to(dtype)
    if p is None or p == "fro":
        p = 2.0
    elif isinstance(p, str):
        if p != "nuc":
            raise RuntimeError(f"linalg.matrix_norm: Order {p} not supported.")
        raise NotImplementedError(f"norm: p={p!r} is not supported by ndgrad")
    if input._data.dtype.kind not in "fcV":
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
                           f"{_PRETTY.get(input._data.dtype.name, input._data.dtype.name)}")
    dims = _reduce_dims(dim, input.ndim)
    _check_empty_inf(input, float(p), dims, "linalg.vector_norm")
    return norm_op(input, float(p), dims, bool(keepdim))


def _dist_fwd(self, other, p):
    d = self - other
    return _vnorm(d, p, tuple(range(d.ndim)), False)


def _dist_self(grad, self, other, result, p):
    d = self - other
    return _norm_backward(grad, d, result, p, tuple(range(len(d.shape))), False, tuple(d.shape))


dist_op = Op("dist", _dist_fwd, ("self", "other"), ("p",), node="DistBackward0")
dist_op.defvjp(self=_dist_self,
               other=lambda grad, self, other, result, p: -_dist_self(grad, self, other, result, p))


def dist(input: Tensor, other: Tensor, p: Any = 2) -> Tensor:
    """Mirrors `torch.dist`: the p-norm of `input - other` (broadcast)."""
    _check_tensor(input, "dist")
    _check_tensor(other, "dist")
    if input._data.dtype.kind == "b" or other._data.dtype.kind == "b":
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to "
                           "invert a mask, use the `~` or `logical_not()` operator instead.")
    from .. import _dtype as D, _ops as O
    common = D.result_type_of(((input.dtype, 2 if input.ndim else 1), (other.dtype, 2 if other.ndim else 1)))
    if np.dtype(common.np).kind not in "fcV":
        raise RuntimeError("norm(): input dtype should be either floating point or complex. Got "
                           f"{_PRETTY.get(np.dtype(common.np).name)} instead.")
    input, other = input.to(common), other.to(common)
    if np.dtype(common.np).kind == "c":  # the norm of a complex difference is real
        return O.norm((input - other).abs(), p)
    a, b = input.shape, other.shape
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        n = max(len(a), len(b))
        a1, b1 = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
        k = next(i for i in range(n) if a1[i] != b1[i] and 1 not in (a1[i], b1[i]))
        raise RuntimeError(f"The size of tensor a ({a1[k]}) must match the size of tensor b ({b1[k]}) at "
                           f"non-singleton dimension {k}") from None
    return dist_op(input, other, float(p))


# -- logsumexp -------------------------------------------------------------------------------------------------
def _lse_fwd(self, dim, keepdim):
    with quiet():
        if self.size == 0:
            m = np.zeros(np.sum(self, axis=dim, keepdims=True).shape, self.dtype)
        else:
            m = np.max(self, axis=dim, keepdims=True)
            m = np.where(np.isfinite(m), m, 0).astype(self.dtype)
        r = np.log(np.sum(np.exp(self - m), axis=dim, keepdims=True)) + m
    if not keepdim:
        r = np.squeeze(r, dim)
    return np.asarray(r).astype(self.dtype, copy=False)


logsumexp_op = Op("logsumexp", _lse_fwd, ("self",), ("dim", "keepdim"), node="LogsumexpBackward0", dtype=FLOAT)
logsumexp_op.defvjp(self=lambda grad, self, result, dim, keepdim, self_shape:
                    _restore_dims(grad, self_shape, dim, keepdim)
                    * exp(self - _restore_dims(result, self_shape, dim, keepdim)))


def logsumexp(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """Mirrors `torch.logsumexp` (stable: the max is subtracted first; integers give float)."""
    _check_tensor(input, "logsumexp")
    return logsumexp_op(input, _reduce_dims(dim, input.ndim), bool(keepdim))


# -- cumsum, cumprod -------------------------------------------------------------------------------------------
def _acc_dtype(x):
    return np.int64 if x.dtype.kind in "biu" else x.dtype


def _cumsum_fwd(self, dim):
    if self.ndim == 0:
        return self.astype(_acc_dtype(self))
    return np.cumsum(self, axis=dim, dtype=_acc_dtype(self))


def _cumsum_rev_fwd(self, dim):
    if self.ndim == 0:
        return self.copy()
    return np.flip(np.cumsum(np.flip(self, dim), axis=dim), dim).copy()


cumsum_op = Op("cumsum", _cumsum_fwd, ("self",), ("dim",), node="CumsumBackward0", dtype=SAME)
cumsum_rev = Op("reversed_cumsum", _cumsum_rev_fwd, ("self",), ("dim",), dtype=SAME)
cumsum_op.defvjp(self=lambda grad, dim: cumsum_rev(grad, dim))   # adjoint of a prefix sum: a suffix sum
cumsum_rev.defvjp(self=lambda grad, dim: cumsum_op(grad, dim))


def _cumprod_fwd(self, dim):
    if self.ndim == 0:
        return self.astype(_acc_dtype(self))
    return np.cumprod(self, axis=dim, dtype=_acc_dtype(self))


def _cumprod_backward(grad, self, result, dim):
    """d out_i / d x_k = Π_{j≤i, j≠k} x_j for i ≥ k. Without zeros: suffix sums of grad·out, over x;
    with zeros: one cumprod per position with x_k replaced by 1 (exact, O(n²) along dim)."""
    data = self._data if isinstance(self, Tensor) else self
    if data.ndim == 0:
        return grad
    if not (data == 0).any():
        return cumsum_rev(grad * result, dim) / self
    n = data.shape[dim]
    shape = [1] * data.ndim
    shape[dim] = n
    pos = np.arange(n).reshape(shape)
    out = None
    for k in range(n):
        onehot = pos == k
        ck = cumprod_op(where(_c(onehot, self), 1.0, self), dim)
        term = sum_dim(grad * ck * _c((pos >= k).astype(data.dtype), self), (dim,), True)
        contrib = term * _c(onehot.astype(data.dtype), self)
        out = contrib if out is None else out + contrib
    return out


cumprod_op = Op("cumprod", _cumprod_fwd, ("self",), ("dim",), node="CumprodBackward0", dtype=SAME)
cumprod_op.defvjp(self=_cumprod_backward)


def _cum_args(name, input, dim, dtype):
    _check_tensor(input, name)
    if dtype is not None:
        input = input.to(dtype)
    return input, _wrap_dim(dim, input.ndim)


def cumsum(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Mirrors `torch.cumsum` (integers and bool accumulate in int64)."""
    input, d = _cum_args("cumsum", input, dim, dtype)
    return cumsum_op(input, d)


def cumprod(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Mirrors `torch.cumprod` (the gradient is exact where the input has zeros)."""
    input, d = _cum_args("cumprod", input, dim, dtype)
    return cumprod_op(input, d)


# -- value-selecting ops: gradients go to indices ----------------------------------------------------------------
def _scatter_add_fwd(grad, indices, dim, shape):
    out = np.zeros(shape, grad.dtype)
    if grad.ndim == 0:
        return out + grad
    idx = [np.indices(indices.shape, sparse=True)[i] for i in range(indices.ndim)]
    idx[dim] = indices
    np.add.at(out, tuple(idx), grad)
    return out


# the gradient of cummax/cummin (indices repeat): a scatter-add; its own gradient is a gather
scatter_add_dim = Op("scatter_add_dim", _scatter_add_fwd, ("grad", "indices"), ("dim", "shape"), dtype=SAME)
scatter_add_dim.defvjp(grad=lambda grad, indices, dim: gather_dim(grad, indices, dim, True)
                       if len(grad.shape) else grad)


def _to_front(x, dim):
    """Move `dim` last and flatten the rest: (rows, n)."""
    m = np.moveaxis(x, dim, -1)
    return m.reshape(-1, m.shape[-1]) if m.size or m.ndim > 1 else m.reshape(0, m.shape[-1]), m.shape


def _cumext(better):
    def fwd(self, dim):
        if self.ndim == 0:
            return self.copy(), np.zeros((), np.int64)
        x = np.moveaxis(self, dim, 0)
        vals = np.empty_like(x)
        idx = np.zeros(x.shape, np.int64)
        if x.shape[0]:
            best = x[0].copy()
            bi = np.zeros(x.shape[1:], np.int64)
            nan = np.isnan(best) if x.dtype.kind in "fV" else np.zeros(best.shape, bool)
            for i in range(x.shape[0]):
                xi = x[i]
                xnan = np.isnan(xi) if x.dtype.kind in "fV" else np.zeros(xi.shape, bool)
                upd = (better(xi, best) | (xi == best) | xnan) & ~(nan & ~xnan)
                if i == 0:
                    upd = np.ones(xi.shape, bool)
                best = np.where(upd, xi, best)
                bi = np.where(upd, i, bi)
                nan = nan | xnan
                vals[i] = best
                idx[i] = bi
        return np.moveaxis(vals, 0, dim), np.moveaxis(idx, 0, dim)
    return fwd


cummax_op = Op("cummax", _cumext(np.greater), ("self",), ("dim",), node="CummaxBackward0", dtype=SAME, n_out=2,
               diff_out=(True, False))
cummin_op = Op("cummin", _cumext(np.less), ("self",), ("dim",), node="CumminBackward0", dtype=SAME, n_out=2,
               diff_out=(True, False))
for _o in (cummax_op, cummin_op):
    _o.defvjp(self=lambda grads, result, dim, self_shape: scatter_add_dim(grads[0], result[1], dim, self_shape))

CummaxResult = return_type("cummax")
CumminResult = return_type("cummin")


def cummax(input: Tensor, dim: int) -> Any:
    """Mirrors `torch.cummax`: (values, indices); on ties the latest index, as torch."""
    _check_tensor(input, "cummax")
    return CummaxResult(*cummax_op(input, _wrap_dim(dim, input.ndim)))


def cummin(input: Tensor, dim: int) -> Any:
    """Mirrors `torch.cummin`: (values, indices); on ties the latest index, as torch."""
    _check_tensor(input, "cummin")
    return CumminResult(*cummin_op(input, _wrap_dim(dim, input.ndim)))


def _select_vjp(grads, result, dim, keepdim, self_shape):
    return scatter_dim(grads[0], result[1], dim, self_shape, keepdim) if self_shape else grads[0]


def _argsort_np(x, dim, descending):
    """Stable argsort along `dim`; descending keeps equal elements in their original order (NaN largest)."""
    if not descending:
        return np.argsort(x, axis=dim, kind="stable")
    n = x.shape[dim]
    r = np.argsort(np.flip(x, dim), axis=dim, kind="stable")
    return np.flip(n - 1 - r, dim)


def _pick(self, dim, keepdim, k, name):
    """Value and index of the k-th smallest (0-based) along dim."""
    if self.ndim == 0:
        return self.copy(), np.zeros((), np.int64)
    idx = np.take(_argsort_np(self, dim, False), [k], axis=dim)
    vals = np.take_along_axis(self, idx, axis=dim)
    if not keepdim:
        idx, vals = np.squeeze(idx, dim), np.squeeze(vals, dim)
    return vals, idx.astype(np.int64)


def _median_dim_fwd(self, dim, keepdim):
    if self.ndim and self.shape[dim] == 0:
        raise IndexError(f"median(): Expected reduction dim {dim} to have non-zero size.")
    if self.ndim == 0:
        return _pick(self, dim, keepdim, 0, "median")
    if self.dtype.kind in "fV" and np.isnan(self).any():  # NaN propagates: its first index
        v, i = _pick(self, dim, keepdim, (self.shape[dim] - 1) // 2, "median")
        nanidx = np.argmax(np.isnan(self), axis=dim, keepdims=keepdim)
        has = np.isnan(self).any(axis=dim, keepdims=keepdim)
        return np.where(has, np.nan, v).astype(self.dtype), np.where(has, nanidx, i).astype(np.int64)
    return _pick(self, dim, keepdim, (self.shape[dim] - 1) // 2, "median")


def _median_all_fwd(self):
    if self.size == 0:
        return np.full((), np.nan, self.dtype)
    flat = self.reshape(-1)
    if flat.dtype.kind in "fV" and np.isnan(flat).any():
        return np.full((), np.nan, self.dtype)
    return np.sort(flat)[(flat.size - 1) // 2].copy()


median_all = Op("median", _median_all_fwd, ("self",), node="MedianBackward0", dtype=SAME)
def _median_all_backward(grad, self, result, self_shape):
    """torch's evenly_distribute_backward: ties share the gradient; a NaN result sends it to the NaNs."""
    data = self._data if isinstance(self, Tensor) else self
    r = result._data if isinstance(result, Tensor) else result
    if np.isnan(r):
        mask = np.isnan(data)
        m = _c(mask.astype(data.dtype), self)
        return expand_to(grad, self_shape) * m / float(mask.sum())
    return _even_split(grad, self, result, tuple(range(len(self_shape))), False, self_shape)


median_all.defvjp(self=_median_all_backward)
median_dim = Op("median", _median_dim_fwd, ("self",), ("dim", "keepdim"), node="MedianBackward1", dtype=SAME,
                n_out=2, diff_out=(True, False))


def _kth_fwd(self, k, dim, keepdim):
    n = self.shape[dim] if self.ndim else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {dim}")
    return _pick(self, dim, keepdim, k - 1, "kthvalue")


kthvalue_op = Op("kthvalue", _kth_fwd, ("self",), ("k", "dim", "keepdim"), node="KthvalueBackward0", dtype=SAME,
                 n_out=2, diff_out=(True, False))


def _mode_fwd(self, dim, keepdim):
    if self.ndim == 0:
        return self.copy(), np.zeros((), np.int64)
    if self.shape[dim] == 0:
        raise IndexError(f"mode(): Expected reduction dim {dim} to have non-zero size.")
    rows, mshape = _to_front(self, dim)
    vals = np.empty(rows.shape[0], self.dtype)
    idx = np.empty(rows.shape[0], np.int64)
    for r, row in enumerate(rows):
        u, counts = np.unique(row, return_counts=True)
        v = u[np.argmax(counts)]  # the smallest of the most frequent values
        vals[r] = v
        idx[r] = np.nonzero(row == v)[0][-1]  # torch: its last occurrence
    vals, idx = vals.reshape(mshape[:-1]), idx.reshape(mshape[:-1])
    if keepdim:
        vals, idx = np.expand_dims(vals, dim), np.expand_dims(idx, dim)
    return vals, idx


mode_op = Op("mode", _mode_fwd, ("self",), ("dim", "keepdim"), node="ModeBackward0", dtype=SAME, n_out=2,
             diff_out=(True, False))
for _o in (median_dim, mode_op):
    _o.defvjp(self=lambda grads, result, dim, keepdim, self_shape: _select_vjp(grads, result, dim, keepdim,
                                                                                self_shape))
kthvalue_op.defvjp(self=lambda grads, result, dim, keepdim, self_shape: _select_vjp(grads, result, dim, keepdim,
                                                                                     self_shape))

MedianResult = return_type("median")
ModeResult = return_type("mode")
KthvalueResult = return_type("kthvalue")
SortResult = return_type("sort")
TopkResult = return_type("topk")


def median(input: Tensor, dim: Any = None, keepdim: Any = None) -> Any:
    """Mirrors `torch.median`: the lower median; with `dim`, (values, indices)."""
    _check_tensor(input, "median")
    if dim is None:
        if keepdim is not None:
            raise TypeError('median() missing 1 required positional arguments: "dim"')
        return median_all(input)
    return MedianResult(*median_dim(input, _wrap_dim(dim, input.ndim), bool(keepdim)))


def mode(input: Tensor, dim: int = -1, keepdim: bool = False) -> Any:
    """Mirrors `torch.mode`: the smallest most frequent value along dim, at its last index."""
    _check_tensor(input, "mode")
    return ModeResult(*mode_op(input, _wrap_dim(dim, input.ndim), bool(keepdim)))


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> Any:
    """Mirrors `torch.kthvalue`: the k-th smallest along dim (1-based), (values, indices)."""
    _check_tensor(input, "kthvalue")
    return KthvalueResult(*kthvalue_op(input, int(k), _wrap_dim(dim, input.ndim), bool(keepdim)))


# -- sort, argsort, topk -------------------------------------------------------------------------------------------
def _sort_fwd(self, dim, descending):
    if self.ndim == 0:
        return self.copy(), np.zeros((), np.int64)
    idx = _argsort_np(self, dim, descending).astype(np.int64)
    return np.take_along_axis(self, idx, axis=dim), idx


sort_op = Op("sort", _sort_fwd, ("self",), ("dim", "descending"), node="SortBackward0", dtype=SAME, n_out=2,
             diff_out=(True, False))
# torch's overload with the `stable` keyword records SortBackward1
sort_stable_op = Op("sort", _sort_fwd, ("self",), ("dim", "descending"), node="SortBackward1", dtype=SAME, n_out=2,
                    diff_out=(True, False))
for _o in (sort_op, sort_stable_op):
    _o.defvjp(self=lambda grads, result, dim, self_shape: _select_vjp(grads, result, dim, True, self_shape))

_ABSENT = object()


def sort(input: Tensor, dim: int = -1, descending: bool = False, *, stable: Any = _ABSENT) -> Any:
    """Mirrors `torch.sort` (always stable: equal elements keep their order, also descending)."""
    _check_tensor(input, "sort")
    op = sort_op if stable is _ABSENT else sort_stable_op
    return SortResult(*op(input, _wrap_dim(dim, input.ndim), bool(descending)))


def argsort(input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Tensor:
    """Mirrors `torch.argsort` (stable)."""
    _check_tensor(input, "argsort")
    x = input._data
    d = _wrap_dim(dim, input.ndim)
    if x.ndim == 0:
        return _wrap(np.zeros((), np.int64))
    return _wrap(_argsort_np(x, d, bool(descending)).astype(np.int64))


def _topk_fwd(self, k, dim, largest):
    n = self.shape[dim] if self.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError("selected index k out of range")
    if self.ndim == 0:
        return self.copy(), np.zeros((), np.int64)
    idx = np.take(_argsort_np(self, dim, largest), range(k), axis=dim).astype(np.int64)
    return np.take_along_axis(self, idx, axis=dim), idx


topk_op = Op("topk", _topk_fwd, ("self",), ("k", "dim", "largest"), node="TopkBackward0", dtype=SAME, n_out=2,
             diff_out=(True, False))
topk_op.defvjp(self=lambda grads, result, dim, self_shape: _select_vjp(grads, result, dim, True, self_shape))


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:
    """Mirrors `torch.topk` (the results are always sorted)."""
    _check_tensor(input, "topk")
    return TopkResult(*topk_op(input, int(k), _wrap_dim(dim, input.ndim), bool(largest)))


# -- count_nonzero, unique -----------------------------------------------------------------------------------------
def count_nonzero(input: Tensor, dim: Any = None) -> Tensor:
    """Mirrors `torch.count_nonzero` (int64)."""
    _check_tensor(input, "count_nonzero")
    x = input._data
    if dim is None or isinstance(dim, (list, tuple)) and len(dim) == 0:  # () counts over every dim
        return _wrap(np.asarray(np.count_nonzero(x), np.int64))
    dims = _dims(dim, x.ndim)
    if isinstance(dim, (list, tuple)) and len(set(dims)) != len(dims):
        raise RuntimeError("dim appears multiple times in the list of dims")
    return _wrap(np.asarray(np.count_nonzero(x, axis=dims) if x.ndim else np.count_nonzero(x), np.int64))


def _unique_fwd(self, dim):
    if dim is None:
        u, inv, cnt = np.unique(self.reshape(-1), return_inverse=True, return_counts=True)
        return u, inv.reshape(self.shape).astype(np.int64), cnt.astype(np.int64)
    u, inv, cnt = np.unique(self, return_inverse=True, return_counts=True, axis=dim)
    return u, inv.reshape(-1).astype(np.int64), cnt.astype(np.int64)


def _unique_not_implemented(grads):
    raise NotImplementedError("the derivative for '_unique2' is not implemented.")


def _unique_dim_not_implemented(grads):
    raise NotImplementedError("the derivative for 'unique_dim' is not implemented.")


# not differentiable, but its output is attached to a node that refuses backward, as torch's
unique_op = Op("_unique2", _unique_fwd, ("self",), ("dim",), node="Unique2Backward0", dtype=SAME, n_out=3,
               diff_out=(True, False, False))
unique_op.defvjp(self=_unique_not_implemented)
unique_dim_op = Op("unique_dim", _unique_fwd, ("self",), ("dim",), node="UniqueDimBackward0", dtype=SAME,
                   n_out=3, diff_out=(True, False, False))
unique_dim_op.defvjp(self=_unique_dim_not_implemented)


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False,
           dim: Any = None) -> Any:
    """Mirrors `torch.unique` (always sorted, as torch on CPU)."""
    _check_tensor(input, "unique")
    if dim is None:
        u, inv, cnt = unique_op(input, None)
    else:
        u, inv, cnt = unique_dim_op(input, _wrap_dim(dim, input.ndim))
    return _unique_outputs(u, inv, cnt, return_inverse, return_counts)


def _unique_outputs(u: Tensor, inv: Tensor, cnt: Tensor, return_inverse: bool, return_counts: bool) -> Any:
    """The values, then the inverse and the counts when asked for: torch's unique* return one tensor or a tuple."""
    out = [u]
    if return_inverse:
        out.append(inv)
    if return_counts:
        out.append(cnt)
    return out[0] if len(out) == 1 else tuple(out)


def _unique_consecutive_fwd(self, dim):
    """The first of each run of equal elements (of equal slices along `dim`), each element's run, the runs'
    lengths."""
    x = self.reshape(-1) if dim is None else np.moveaxis(self, dim, 0)
    n = x.shape[0]
    if n == 0:
        starts = np.zeros(0, np.int64)
    else:
        same = x[1:] == x[:-1]
        if same.ndim > 1:
            same = same.reshape(n - 1, -1).all(axis=1)
        starts = np.concatenate(([0], np.flatnonzero(~same) + 1)).astype(np.int64)
    run = np.zeros(n, np.int64)
    run[starts[1:]] = 1
    inv = np.cumsum(run)
    cnt = np.diff(np.append(starts, n)).astype(np.int64)
    u = x[starts]
    if dim is None:
        return u, inv.reshape(self.shape), cnt
    return np.ascontiguousarray(np.moveaxis(u, 0, dim)), inv, cnt


def _unique_consecutive_not_implemented(grads):
    raise NotImplementedError("the derivative for 'unique_consecutive' is not implemented.")


unique_consecutive_op = Op("unique_consecutive", _unique_consecutive_fwd, ("self",), ("dim",),
                           node="UniqueConsecutiveBackward0", dtype=SAME, n_out=3, diff_out=(True, False, False))
unique_consecutive_op.defvjp(self=_unique_consecutive_not_implemented)


def unique_consecutive(input: Tensor, return_inverse: bool = False, return_counts: bool = False,
                       dim: Any = None) -> Any:
    """Mirrors `torch.unique_consecutive`: removes every element (or slice along `dim`) equal to the one before."""
    _check_tensor(input, "unique_consecutive")
    if input._data.dtype.kind == "c":
        from ._registry import _TYPE_NAMES
        raise NotImplementedError(f"\"unique\" not implemented for '{_TYPE_NAMES[input._data.dtype.name]}'")
    return_inverse, return_counts = bool(return_inverse), bool(return_counts)
    u, inv, cnt = unique_consecutive_op(input, None if dim is None else _wrap_dim(dim, input.ndim))
    return _unique_outputs(u, inv, cnt, return_inverse, return_counts)


def _norm_method(self: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
    """`Tensor.norm`: torch.norm without `out`."""
    return norm(self, p, dim, keepdim, dtype=dtype)


_norm_method.__name__ = _norm_method.__qualname__ = "norm"

METHODS: dict = {n: globals()[n] for n in (
    "var", "std", "logsumexp", "cumsum", "cumprod", "cummax", "cummin", "median", "mode", "sort",
    "argsort", "topk", "kthvalue", "count_nonzero", "unique", "unique_consecutive", "dist")}
METHODS["norm"] = _norm_method


# -- forward mode (autograd/forward_ad.py): how each op's jvp is derived; ops not listed transpose their vjp
for _op in (cumsum_op, cumsum_rev, scatter_add_dim):
    _op.defjvp(linear=True)
