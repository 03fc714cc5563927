"""Reductions (sum, mean, prod, max/min, amax/amin, argmax/argmin) and broadcast reduction."""
from __future__ import annotations

import sys
from collections import namedtuple
from math import prod as _prod

import numpy as np

from . import _registry as R
from ._registry import SAME, Op
from .pointwise import _cj, where


# -- the sum of a whole array in torch's order ---------------------------------------------------------------
# Floating-point addition is not associative, so a sum's last bits depend on the order of its additions: NumPy adds
# pairwise, torch's CPU kernel (measured, torch 2.13 on x86: 20 random arrays per length matched bit for bit) in
# this order, for a contiguous float32 or float64 array of n elements:
# - n smaller than one 256-bit vector (8 float32, 4 float64): four scalar accumulators take the elements in turn
#   (element i into accumulator i % 4 while whole groups of four remain, the rest into the first), then the four
#   are added in order;
# - else the whole vectors are read in chunks of four, each vector of a chunk into its own vector accumulator; the
#   chunks are summed in blocks of 2^p (p = max(4, ceil(log2(chunks)) / 4)), each block's sum carried into a
#   second level, every 2^p of those into a third, and so on (a cascade that bounds the rounding error); then
#   the levels are added from the first up, the whole vectors past the last chunk go into the first accumulator,
#   the four accumulators are added in order, and the scalar sum of the elements past the last whole vector,
#   started from zero, takes the lanes one by one.
# Loss values (a mean over a batch) and the gradient of a one-element bias are such sums, so a training loop prints
# torch's digits with it. Up to 32768 elements (torch's grain size: beyond, torch may split the work among
# threads); larger arrays are summed by NumPy.
_LANES = {np.dtype(np.float32): 8, np.dtype(np.float64): 4}
_TORCH_ORDER_MAX = 32768


def _chunk_sums(ch: np.ndarray, step: int) -> np.ndarray:
    """The cascade over the chunks `ch` (m, 4, lanes): each level's sum of what is left past its last full block
    (the first level: chunks; the next: block sums; ...), added from the first level up."""
    total = np.zeros(ch.shape[1:], ch.dtype)
    while True:
        nb = ch.shape[0] // step
        total = np.add(total, np.add.reduce(ch[nb * step:], 0))  # (nothing left: a sum of zeros)
        if not nb:
            return total
        ch = np.add.reduce(ch[:nb * step].reshape((nb, step) + ch.shape[1:]), 1)


def full_sum(a: np.ndarray):
    """The sum of every element of `a`, added in torch's order (above) for a C-contiguous float32/float64 array of
    1 to 32768 elements, else by NumPy. (torch starts every accumulator from +0; here the last step adds +0, which
    gives the same bits: a zero's sign can only show in a sum that is zero, and one started from +0 is +0.)"""
    lanes = _LANES.get(a.dtype)
    n = a.size
    if lanes is None or not 0 < n <= _TORCH_ORDER_MAX or not a.flags.c_contiguous or _batching_trace():
        return np.add.reduce(a, None)
    x = a if a.ndim == 1 else a.reshape(-1)
    nv = n // lanes
    if not nv:  # four scalar accumulators
        k = n - n % 4
        if not k:
            return np.add.accumulate(x)[-1] + _ZERO[a.dtype]
        parts = np.add.reduce(x[:k].reshape(-1, 4), 0)
        return np.add.accumulate(np.concatenate((parts[:1], x[k:], parts[1:])))[-1] + _ZERO[a.dtype]
    m = nv // 4
    w = m * 4 * lanes
    if m:
        ch = (x if w == n else x[:w]).reshape(m, 4, lanes)
        acc = np.add.reduce(ch, 0) if m < 16 else _chunk_sums(ch, 1 << max(4, (m - 1).bit_length() // 4))
        if nv > m * 4:  # whole vectors past the last chunk: into the first accumulator
            acc = np.concatenate((acc[:1], x[w:nv * lanes].reshape(-1, lanes), acc[1:]))
    else:
        acc = x[:nv * lanes].reshape(-1, lanes)
    v = np.add.reduce(acc, 0)
    if nv * lanes < n:  # the scalar tail first, then the lanes
        v = np.concatenate((x[nv * lanes:], v))
    return np.add.accumulate(v)[-1] + _ZERO[a.dtype]


_ZERO = {dt: dt.type(0) for dt in _LANES}


def _tracer() -> object:
    """compile's or vmap's tracer while one runs, else None."""
    C = sys.modules.get("ndgrad._compile")
    return C._TRACER if C is not None else None


def _batching_trace() -> bool:
    """Whether vmap is tracing one element (its batching rules have no form for the steps above, so a batched
    program sums by NumPy; compile's tracer records them as they are)."""
    tr = _tracer()
    return tr is not None and tr.batching


# NumPy's mean and sum are Python functions around np.add.reduce (numpy/_core/_methods.py, fromnumeric.py): the
# hot reductions call it directly and compute the same bits
_MEAN_EXACT = {np.dtype(np.float32): 1 << 24, np.dtype(np.float64): 1 << 53}  # counts the dtype holds exactly


def mean_of(a, axis=None, keepdims=False):
    """`np.mean(a, axis, keepdims=keepdims)` of a nonempty array: for float32 and float64 (NumPy divides their sum
    by an intp count, in float64, which rounds to the quotient in the array's own dtype) the sum divided by the
    count in that dtype, without np.mean's Python-level steps. A whole-array mean sums in torch's order
    (`full_sum`)."""
    limit = _MEAN_EXACT.get(a.dtype)
    if limit is not None:
        if axis is None:
            n = a.size
        else:
            n = 1
            for d in ((axis,) if isinstance(axis, (int, np.integer)) else axis):
                n *= a.shape[d]
        if 0 < n <= limit:
            if axis is None:
                r = np.true_divide(full_sum(a), a.dtype.type(n))
                return r.reshape((1,) * a.ndim) if keepdims else r
            return np.true_divide(np.add.reduce(a, axis, None, None, keepdims), R.scalar_array(n, a.dtype))
    return np.mean(a, axis=axis, keepdims=keepdims)


def _dims(dim, ndim):
    """Normalise an int / sequence / None `dim` to a sorted tuple of non-negative axes."""
    if dim.__class__ is int and -ndim <= dim < ndim:  # (one axis: the common case)
        return (dim % ndim,)
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (int, np.integer)):
        dim = (dim,)
    n = max(ndim, 1)
    out = []
    for d in dim:
        if not -n <= d < n:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})")
        out.append(d % n)
    if ndim == 0:
        return ()
    return tuple(sorted(out))


# -- broadcast reduction (the registry's one place for it) --------------------------------------------
_SUM_TO_AXES: dict = {}  # (from shape, to shape) -> (axes summed, the result's size, whether only leading ones)


def _sum_to(self, shape):
    if shape.__class__ is not tuple:
        shape = tuple(shape)
    key = (self.shape, shape)
    plan = _SUM_TO_AXES.get(key)
    if plan is None:
        lead = self.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape)
                                          if s == 1 and self.shape[i + lead] != 1)
        if len(_SUM_TO_AXES) > 4096:
            _SUM_TO_AXES.clear()
        plan = _SUM_TO_AXES[key] = (axes, _prod(shape), bool(axes) and axes[-1] < lead)
    axes, size, leading = plan
    if not axes:
        return self.reshape(shape)
    if size == 1 and self.dtype.kind == "f":  # one element left: the whole sum, in torch's order
        return np.asarray(full_sum(self)).reshape(shape)
    if leading:  # only leading axes: their sum has the shape
        return np.add.reduce(self, axes)
    return np.add.reduce(self, axes, None, None, True).reshape(shape)


sum_to = Op("sum_to", _sum_to, ("self",), ("shape",), node="SumToSizeBackward0", dtype=SAME)
R.SUM_TO = sum_to


_NUMERIC = frozenset("biufc")


def _expand(self, size):
    """np.broadcast_to(self, size): a read-only view, made directly for a C-contiguous array of a NumPy number
    dtype (np.broadcast_to builds an iterator in Python: 2.4 us against 0.6)."""
    nd, shape = self.ndim, self.shape
    lead = len(size) - nd
    if self.__class__ is not np.ndarray or lead < 0 or self.dtype.kind not in _NUMERIC or \
            not self.flags.c_contiguous:
        return np.broadcast_to(self, size)
    strides = [0] * lead
    for k, st in enumerate(self.strides):
        n = shape[k]
        if n == size[lead + k]:
            strides.append(st)
        elif n == 1:
            strides.append(0)
        else:
            return np.broadcast_to(self, size)  # (which raises NumPy's error)
    v = np.ndarray(size, self.dtype, self, 0, strides)
    v.flags.writeable = False
    return v


expand_to = Op("expand", _expand, ("self",), ("size",), node="ExpandBackward0", dtype=SAME, view=True)
expand_to.defvjp(self=lambda grad, self_shape: sum_to(grad, self_shape))  # adjoint of broadcast = sum
sum_to.defvjp(self=lambda grad, self_shape: expand_to(grad, self_shape))  # adjoint of sum = broadcast


def _restore_dims(grad, shape, dims, keepdim):
    """Reinsert reduced axes (as size 1) so that `grad` broadcasts against the input shape."""
    if keepdim or not dims:
        return grad
    s = list(shape)
    for d in dims:
        s[d] = 1
    from .shape import reshape
    return reshape(grad, tuple(s))


# -- sum, mean --------------------------------------------------------------------------------------
def _sum_dtype(x):
    return np.int64 if x.dtype.kind in "biu" else None


def _sum_all(self):
    return full_sum(self) if self.dtype.kind == "f" else np.add.reduce(self, None, _sum_dtype(self))


sum_all = Op("sum", _sum_all, ("self",), node="SumBackward0", dtype=SAME)
sum_all.defvjp(self=lambda grad, self_shape: expand_to(grad, self_shape))  # d/dx_i Σx = 1


def _sum_dim(self, dim, keepdim):
    return np.add.reduce(self, dim, _sum_dtype(self), None, keepdim)


sum_dim = Op("sum", _sum_dim, ("self",), ("dim", "keepdim"), node="SumBackward1", dtype=SAME)
sum_dim.defvjp(self=lambda grad, self_shape, dim, keepdim:
               expand_to(_restore_dims(grad, self_shape, dim, keepdim), self_shape))


def _mean_all(self):
    if self.size == 0:  # nan, as torch, without NumPy's "Mean of empty slice" warning
        return np.full((), np.nan, self.dtype)
    if self.dtype == np.float16:  # (summed in float32, as torch)
        return np.mean(self, dtype=np.float32).astype(self.dtype)
    return np.asarray(mean_of(self), self.dtype)


mean_all = Op("mean", _mean_all, ("self",), node="MeanBackward0", dtype=SAME)
mean_all.defvjp(self=lambda grad, self_shape: expand_to(grad / max(int(np.prod(self_shape)), 1)
                                                         if np.prod(self_shape) else grad, self_shape))


def _mean_dim(self, dim, keepdim):
    if self.size == 0:
        return np.full(np.sum(self, axis=dim, keepdims=keepdim).shape, np.nan, self.dtype)
    r = mean_of(self, dim, keepdim)
    return r if r.dtype is self.dtype else r.astype(self.dtype, copy=False)


def _count(shape, dims):
    n = 1
    for d in dims:
        n *= shape[d]
    return n


mean_dim = Op("mean", _mean_dim, ("self",), ("dim", "keepdim"), node="MeanBackward1", dtype=SAME)
mean_dim.defvjp(self=lambda grad, self_shape, dim, keepdim: expand_to(
    _restore_dims(grad, self_shape, dim, keepdim) / max(_count(self_shape, dim), 1), self_shape))


# -- prod -----------------------------------------------------------------------------------------------
def _prod_others(self, dim):
    """Product of all other elements along `dim` (None: all), exact when the input has zeros."""
    if dim is None:
        flat = self.reshape(-1)
        r = _prod_others(flat, 0)
        return r.reshape(self.shape)
    ones_shape = list(self.shape)
    ones_shape[dim] = 1
    one = np.ones(ones_shape, self.dtype)
    left = np.cumprod(np.concatenate([one, self], axis=dim), axis=dim).take(range(self.shape[dim]), axis=dim)
    rev = np.flip(self, axis=dim)
    right = np.flip(np.cumprod(np.concatenate([one, rev], axis=dim), axis=dim).take(range(self.shape[dim]),
                                                                                  axis=dim), axis=dim)
    return left * right


prod_others = Op("prod_others", _prod_others, ("self",), ("dim",), dtype=SAME)


def _prod_others_backward(grad, self, dim):
    """vjp of prod_others: out_k = Σ_{i≠k} grad_i Π_{j∉{i,k}} x_j, exact with zeros (O(n²) along dim)."""
    if dim is None:
        return _prod_others_backward(grad.reshape(-1), self.reshape(-1), 0).reshape(self.shape)
    n = self.shape[dim]
    out = np.zeros(np.broadcast_shapes(grad.shape, self.shape), np.result_type(grad, self))
    for k in range(n):
        x = self.copy()
        idx = [slice(None)] * self.ndim
        idx[dim] = k
        x[tuple(idx)] = 1
        terms = grad * _prod_others(x, dim)
        terms[tuple(idx)] = 0
        out[tuple(idx)] = terms.sum(axis=dim)
    return out


# second derivatives of prod where the input has zeros; third ones are not implemented
prod_others_backward = Op("prod_others_backward", _prod_others_backward, ("grad", "self"), ("dim",), dtype=SAME)
prod_others.defvjp(self=lambda grad, self, dim: prod_others_backward(grad, self, dim))

prod_all = Op("prod", lambda self: np.prod(self, dtype=_sum_dtype(self)), ("self",), node="ProdBackward0",
              dtype=SAME)
# d/dx_i Πx = Π_{j≠i} x_j (x/x_i where x_i ≠ 0 keeps higher orders differentiable)
prod_all.defvjp(self=lambda grad, self, result: grad * _cj(where(self != 0, result / where(self != 0, self, 1.0),
                                                            prod_others(self, None))))


def _prod_dim(self, dim, keepdim):
    return np.prod(self, axis=dim, keepdims=keepdim, dtype=_sum_dtype(self))


def _prod_dim_grad(grad, self, result, dim, keepdim):
    g = _restore_dims(grad, self.shape, (dim,), keepdim)
    r = _restore_dims(result, self.shape, (dim,), keepdim)
    return g * _cj(where(self != 0, r / where(self != 0, self, 1.0), prod_others(self, dim)))


prod_dim = Op("prod", _prod_dim, ("self",), ("dim", "keepdim"), node="ProdBackward1", dtype=SAME)
prod_dim.defvjp(self=_prod_dim_grad)


# -- max / min ------------------------------------------------------------------------------------------
def _even_split(grad, self, result, dims, keepdim, self_shape, nan_ties=False):
    # ties share the gradient evenly (torch's rule for full max()/amax()); full max()/min() count a NaN
    # result as tied with every NaN of the input, amax/amin do not (their gradient is then NaN, as torch's)
    r = _restore_dims(result, self_shape, dims, keepdim)
    g = _restore_dims(grad, self_shape, dims, keepdim)
    mask = self == r
    if nan_ties:
        mask = mask | ((self != self) & (r != r))
    from .pointwise import cast
    m = cast(mask, getattr(grad.dtype, "np", grad.dtype)) if hasattr(grad, "dtype") else mask
    count = sum_dim(m, dims, True)
    return g * m / count


def _check_nonempty(x, name):
    if x.size == 0:
        raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                           "Specify the reduction dim with the 'dim' argument.")


def _no_complex(x, name):
    if x.dtype.kind == "c":
        raise NotImplementedError(f'"{name}" not implemented for \'{"ComplexDouble" if x.dtype == np.complex128 else "ComplexFloat"}\'')


def _max_all(self):
    _no_complex(self, "max_all")
    _check_nonempty(self, "max")
    return np.max(self)


def _min_all(self):
    _no_complex(self, "min_all")
    _check_nonempty(self, "min")
    return np.min(self)


max_all = Op("max", _max_all, ("self",), node="MaxBackward1", dtype=SAME)
min_all = Op("min", _min_all, ("self",), node="MinBackward1", dtype=SAME)
for _o in (max_all, min_all):
    _o.defvjp(self=lambda grad, self, result, self_shape:
              _even_split(grad, self, result, tuple(range(len(self_shape))), False, self_shape, True))

amax = Op("amax", lambda self, dim, keepdim: _no_complex(self, "max_values_cpu") or np.max(self, axis=dim, keepdims=keepdim), ("self",),
          ("dim", "keepdim"), dtype=SAME)
amin = Op("amin", lambda self, dim, keepdim: _no_complex(self, "min_values_cpu") or np.min(self, axis=dim, keepdims=keepdim), ("self",),
          ("dim", "keepdim"), dtype=SAME)
for _o in (amax, amin):
    _o.defvjp(self=lambda grad, self, result, dim, keepdim, self_shape:
              _even_split(grad, self, result, dim, keepdim, self_shape))


def _scatter_dim(grad, indices, dim, shape, keepdim):
    """Zeros of `shape` with `grad` placed at `indices` along `dim` (max/min with dim backward)."""
    g = grad if keepdim else np.expand_dims(grad, dim)
    i = indices if keepdim else np.expand_dims(indices, dim)
    out = np.zeros(shape, g.dtype)
    np.put_along_axis(out, i, g, axis=dim)
    return out


scatter_dim = Op("value_selecting_reduction_backward", _scatter_dim, ("grad", "indices"),
                 ("dim", "shape", "keepdim"), dtype=SAME)
scatter_dim.defvjp(grad=lambda grad, indices, dim, keepdim: _gather_dim(grad, indices, dim, keepdim))


def _gather_dim_fwd(self, indices, dim, keepdim):
    i = indices if keepdim else np.expand_dims(indices, dim)
    r = np.take_along_axis(self, i, axis=dim)
    return r if keepdim else np.squeeze(r, dim)


gather_dim = Op("gather_dim", _gather_dim_fwd, ("self", "indices"), ("dim", "keepdim"), dtype=SAME)
gather_dim.defvjp(self=lambda grad, indices, dim, self_shape, keepdim: scatter_dim(grad, indices, dim,
                                                                                    self_shape, keepdim))


def _gather_dim(g, indices, dim, keepdim):
    return gather_dim(g, indices, dim, keepdim)


def _max_dim(self, dim, keepdim):
    if self.dtype.kind == "c":
        raise RuntimeError("max(): does not support complex input")
    if self.ndim and self.shape[dim] == 0:
        raise IndexError(f"max(): Expected reduction dim {dim} to have non-zero size.")
    idx = np.argmax(self, axis=dim, keepdims=True) if self.ndim else np.zeros((), np.int64)
    vals = np.take_along_axis(self, idx, axis=dim) if self.ndim else self
    if not keepdim and self.ndim:
        idx, vals = np.squeeze(idx, dim), np.squeeze(vals, dim)
    return vals, idx.astype(np.int64)


def _min_dim(self, dim, keepdim):
    if self.dtype.kind == "c":
        raise RuntimeError("min(): does not support complex input")
    if self.ndim and self.shape[dim] == 0:
        raise IndexError(f"min(): Expected reduction dim {dim} to have non-zero size.")
    idx = np.argmin(self, axis=dim, keepdims=True) if self.ndim else np.zeros((), np.int64)
    vals = np.take_along_axis(self, idx, axis=dim) if self.ndim else self
    if not keepdim and self.ndim:
        idx, vals = np.squeeze(idx, dim), np.squeeze(vals, dim)
    return vals, idx.astype(np.int64)


max_dim = Op("max", _max_dim, ("self",), ("dim", "keepdim"), node="MaxBackward0", dtype=SAME, n_out=2,
             diff_out=(True, False))
min_dim = Op("min", _min_dim, ("self",), ("dim", "keepdim"), node="MinBackward0", dtype=SAME, n_out=2,
             diff_out=(True, False))
for _o in (max_dim, min_dim):
    # the whole gradient goes to the selected index
    _o.defvjp(self=lambda grads, result, dim, keepdim, self_shape:
              scatter_dim(grads[0], result[1], dim, self_shape, keepdim) if self_shape
              else grads[0])


def _arg(fn, name):
    def f(self, dim, keepdim):
        if self.size == 0:
            if dim is None:
                raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
            if self.ndim and self.shape[dim] == 0:
                raise IndexError(f"{name}(): Expected reduction dim {dim} to have non-zero size.")
        if dim is None:
            r = fn(self.reshape(-1))
            return np.asarray(r, np.int64).reshape((1,) * self.ndim if keepdim else ())
        return np.asarray(fn(self, axis=dim, keepdims=keepdim), np.int64)
    return f


argmax = Op("argmax", _arg(np.argmax, "argmax"), ("self",), ("dim", "keepdim"), dtype=SAME)
argmin = Op("argmin", _arg(np.argmin, "argmin"), ("self",), ("dim", "keepdim"), dtype=SAME)


def return_type(name: str, fields: tuple[str, ...] = ("values", "indices")) -> type:
    """A torch.return_types-like named tuple whose repr matches torch's."""
    base = namedtuple(name, fields)

    def __repr__(self):
        inner = ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self))
        return f"torch.return_types.{name}(\n{inner})"
    cls = type(name, (base,), {"__repr__": __repr__, "__str__": __repr__, "__slots__": ()})
    cls.__module__ = "torch.return_types"
    return cls


MaxResult = return_type("max")
MinResult = return_type("min")


# -- forward mode (autograd/forward_ad.py): how each op's jvp is derived; ops not listed transpose their vjp
for _op in (sum_to, expand_to, sum_all, sum_dim, mean_all, mean_dim, scatter_dim, gather_dim):
    _op.defjvp(linear=True)
# the Jacobian of prod_others is symmetric (∂out_k/∂x_i = Π_{j∉{i,k}} x_j), so its jvp is its vjp
prod_others.defjvp(lambda ts, self, dim, result: prod_others_backward(ts[0], self, dim))
