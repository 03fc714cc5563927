"""Utility ops: fmax/fmin, cdist, diff/gradient/trapezoid, rot90, vander, NaN-aware reductions, quantiles,
logcumsumexp, renorm, cov/corrcoef, aminmax, frexp/ldexp, cartesian_prod/combinations/block_diag, and the
non-differentiable counting and searching ops (bucketize, searchsorted, histc, histogram, bincount,
tril_indices/triu_indices).

Public functions (with torch's signatures) are listed in `__all__` and exported as `ndgrad.X`; `METHODS` maps
Tensor method names to functions taking the tensor first. Both are wired in by `ndgrad/_ops/__init__.py`.

Ops with a node of their own in torch (CdistBackward0, Rot90Backward0, NansumBackward0, ...) are one `Op` here
with derivative formulas in ndgrad ops; the others are composed from existing ops in the order torch composes
them, so their grad_fn is torch's (diff ends in SubBackward0, cov in SqueezeBackward0, corrcoef in
ClampBackward1...). The random sampling functions live in `ndgrad/_random_ops.py`.
"""
from __future__ import annotations

import math
import sys
from typing import Any, Sequence

import numpy as np

from .._tensor import Tensor, _wrap, _wrap_dim
from . import pointwise as P
from . import reduction as Rd
from . import shape as S
from ._registry import SAME, Op
from .._warn import warn as _warn

__all__: list[str] = [
    "fmax", "fmin", "cdist", "pdist", "channel_shuffle", "diff", "gradient", "trapezoid", "trapz",
    "cumulative_trapezoid", "vander", "rot90", "nansum", "nanmean", "nanmedian", "quantile", "nanquantile",
    "logcumsumexp", "renorm", "cov", "corrcoef",
    "aminmax", "frexp", "ldexp", "cartesian_prod", "combinations", "block_diag", "bucketize", "searchsorted",
    "histc", "histogram", "bincount", "tril_indices", "triu_indices"]

_TN = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
       "float16": "Half", "float32": "Float", "float64": "Double", "complex64": "ComplexFloat",
       "complex128": "ComplexDouble"}


def _nd() -> Any:
    return sys.modules["ndgrad"]


def _tn(x) -> str:
    return _TN.get(str(x.dtype if isinstance(x, np.ndarray) else x._data.dtype), str(x.dtype))


def _t(x: Any, name: str, arg: str = "input", pos: int = 1) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be Tensor, not {type(x).__name__}")
    return x


def _raw(x):
    return x._data if isinstance(x, Tensor) else x


def _c(arr, like):
    """A constant array, as a Tensor when the formula runs on Tensors."""
    return _wrap(np.require(arr, requirements="C")) if isinstance(like, Tensor) else arr


def _isnan(x):
    return x != x


# -- fmax / fmin: NaN-ignoring maximum/minimum ---------------------------------------------------------------
def _fm(np_fn, name):
    def f(self, other):
        if self.dtype.kind == "c" or other.dtype.kind == "c":
            raise RuntimeError(f"{name} not implemented for complex tensors.")
        return np_fn(self, other)
    return f


fmax_op = Op("fmax", _fm(np.fmax, "fmax"), ("self", "other"), node="FmaxBackward0")
fmin_op = Op("fmin", _fm(np.fmin, "fmin"), ("self", "other"), node="FminBackward0")
# torch's masks: the input that wins (ties to self) or the non-NaN one gets the whole gradient
fmax_op.defvjp(self=lambda grad, self, other: P.where((self >= other) | _isnan(other), grad, 0.0),
               other=lambda grad, self, other: P.where((self >= other) | _isnan(other), 0.0, grad))
fmin_op.defvjp(self=lambda grad, self, other: P.where((self <= other) | _isnan(other), grad, 0.0),
               other=lambda grad, self, other: P.where((self <= other) | _isnan(other), 0.0, grad))


def fmax(input: Tensor, other: Tensor, *, out: Any = None) -> Tensor:
    """Mirrors `torch.fmax`: the maximum, ignoring a NaN on one side."""
    return fmax_op(_t(input, "fmax"), _t(other, "fmax", "other", 2))


def fmin(input: Tensor, other: Tensor, *, out: Any = None) -> Tensor:
    """Mirrors `torch.fmin`: the minimum, ignoring a NaN on one side."""
    return fmin_op(_t(input, "fmin"), _t(other, "fmin", "other", 2))


# -- small scalar ops with torch's Scalar-overload node names (MulBackward1, DivBackward1) -------------------
mul_scalar = Op("mul", lambda self, other: self * np.asarray(other, self.dtype), ("self",), ("other",),
                node="MulBackward1", dtype=SAME)
mul_scalar.defvjp(self=lambda grad, other: grad * other)
div_scalar = Op("div", lambda self, other: self / np.asarray(other, self.dtype), ("self",), ("other",),
                node="DivBackward1", dtype=SAME)
div_scalar.defvjp(self=lambda grad, other: grad / other)


def _float_of(x: Tensor) -> Tensor:
    """Integers and bool become the default float dtype (as torch's Scalar overloads on an integer tensor)."""
    if x._data.dtype.kind in "fc":
        return x
    return P.cast(x, _nd().get_default_dtype().np)


# -- cdist ---------------------------------------------------------------------------------------------------
def _cdist_fwd(x1, x2, p):
    d = x1[..., :, None, :] - x2[..., None, :, :]
    a = np.abs(d)
    if p == 0:
        r = np.sum(a != 0, axis=-1).astype(x1.dtype)
    elif p == 1:
        r = np.sum(a, axis=-1)
    elif p == 2:
        r = np.sqrt(np.sum(a * a, axis=-1))
    elif math.isinf(p):
        r = np.max(a, axis=-1, initial=0.0)
    else:
        r = np.sum(a ** p, axis=-1) ** (1.0 / p)
    return np.asarray(r, x1.dtype)


def _cdist_grad_x1(grad, x1, x2, result, p):
    """Σ_j g_ij ∂d_ij/∂x1_i with ∂d/∂x = sign(δ)|δ|^(p-1)/d^(p-1) (0 where d = 0), torch's rule for each p."""
    d = S.unsqueeze(x1, -2) - S.unsqueeze(x2, -3)          # (..., P, R, M)
    w = _norm_weight(d, S.unsqueeze(result, -1), p)
    return Rd.sum_dim(S.unsqueeze(grad, -1) * w, (len(_raw(d).shape) - 2,), False)


def _norm_weight(d, r, p):
    """∂‖δ‖_p/∂δ for differences `d` whose norms are `r` (broadcast over the last axis): sign(δ)|δ|^(p-1)/r^(p-1),
    0 where r = 0, torch's rule for each p (p = 0: no gradient)."""
    if p == 0:
        return d * 0.0
    if p == 1:
        return P.sign(d)
    if p == 2:
        return P.where(r == 0, 0.0, d / P.where(r == 0, 1.0, r))
    if math.isinf(p):
        return P.sign(d) * (P.abs(d) == r)
    w = P.sign(d) * P.pow(P.abs(d), p - 1) / P.where(r == 0, 1.0, P.pow(r, p - 1))
    return P.where(r == 0, 0.0, w)


def _cdist_grad_x2(grad, x1, x2, result, p):
    g = _cdist_grad_x1(S.transpose(grad, -1, -2), x2, x1, S.transpose(result, -1, -2), p)
    return g


cdist_op = Op("cdist", _cdist_fwd, ("x1", "x2"), ("p",), node="CdistBackward0", dtype=SAME)
cdist_op.defvjp(x1=_cdist_grad_x1, x2=_cdist_grad_x2)

_CDIST_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist")


# -- pdist: cdist of the rows with themselves, the upper triangle ---------------------------------------------------
def _pdist_fwd(self, p):
    i, j = np.triu_indices(self.shape[0], 1)
    return np.ascontiguousarray(_cdist_fwd(self, self, p)[i, j])


def _pdist_grad(grad, self, p, result):
    """Each pair's gradient g ∂d/∂δ (δ = row i - row j), added to row i and taken from row j."""
    from .indexing import index_add_op
    x = _raw(self)
    i, j = np.triu_indices(x.shape[0], 1)
    ii, jj = _c(i, grad), _c(j, grad)
    gw = S.unsqueeze(grad, -1) * _norm_weight(self[ii] - self[jj], S.unsqueeze(result, -1), p)
    out = index_add_op(_c(np.zeros(x.shape, x.dtype), grad), ii, gw, 0, 1)
    return index_add_op(out, jj, gw, 0, -1)


pdist_op = Op("pdist", _pdist_fwd, ("self",), ("p",), node="PdistBackward0", dtype=SAME)
pdist_op.defvjp(self=_pdist_grad)


def pdist(input: Tensor, p: float = 2) -> Tensor:
    """Mirrors `torch.pdist`: the p-norm distance of each pair of rows i < j, in row-major order of the pairs."""
    _t(input, "pdist")
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if input._data.dtype.kind != "f":
        raise RuntimeError("pdist only supports floating-point dtypes")
    if not p >= 0:  # (nan too)
        raise RuntimeError("pdist only supports non-negative p values")
    return pdist_op(input, float(p))


# -- channel_shuffle ------------------------------------------------------------------------------------------------
def _shuffle(self, groups):
    n, c = self.shape[:2]
    rest = self.shape[2:]
    return np.ascontiguousarray(self.reshape((n, groups, c // groups) + rest).swapaxes(1, 2)).reshape(self.shape)


channel_shuffle_op = Op("channel_shuffle", _shuffle, ("self",), ("groups",), node="ChannelShuffleBackward0",
                        dtype=SAME)
# (the inverse permutation: shuffling with C/groups groups)
channel_shuffle_op.defvjp(self=lambda grad, groups: channel_shuffle_op(grad, _raw(grad).shape[1] // groups))


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """Mirrors `torch.channel_shuffle`: the channels, in `groups` groups, interleaved."""
    _t(input, "channel_shuffle")
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of groups:{groups}")
    if input.ndim <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with sizes {list(input.shape)}")
    if input.shape[1] % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {input.shape[1]} channels and "
                           f"{groups} groups.")
    return channel_shuffle_op(input, int(groups))


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """Mirrors `torch.cdist`: p-norm distances between the rows of x1 (..., P, M) and x2 (..., R, M).

    Every compute_mode computes the distances directly (torch's matrix-product shortcut for p = 2 changes only
    rounding), so the node is always CdistBackward0."""
    _t(x1, "cdist", "x1"), _t(x2, "cdist", "x2", 2)
    if compute_mode not in _CDIST_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    for name, x in (("X1", x1), ("X2", x2)):
        if x.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {x.ndim}D")
    for name, x in (("X1", x1), ("X2", x2)):
        if x._data.dtype.kind != "f":
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: {_tn(x)}")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    if x1._data.dtype != x2._data.dtype:
        raise RuntimeError(f"expected scalar type {_tn(x1)} but found {_tn(x2)}")
    r1, r2 = x1.shape[-2], x2.shape[-2]
    if p == 2 and (compute_mode == "use_mm_for_euclid_dist" or
                   (compute_mode == "use_mm_for_euclid_dist_if_necessary" and (r1 > 25 or r2 > 25))):
        return _euclid_mm(x1, x2)
    return cdist_op(x1, x2, float(p))


def _euclid_mm(x1: Tensor, x2: Tensor) -> Tensor:
    """torch's matrix-product route for p = 2: |a|² - 2a·b + |b|² clamped at 1e-30, square-rooted (its nodes, a
    final ViewBackward0; finite gradients at zero distance, unlike CdistBackward0's 0)."""
    nd = _nd()
    batch = tuple(np.broadcast_shapes(tuple(x1.shape[:-2]), tuple(x2.shape[:-2])))
    a = x1.expand(batch + tuple(x1.shape[-2:])).reshape(-1, x1.shape[-2], x1.shape[-1])
    b = x2.expand(batch + tuple(x2.shape[-2:])).reshape(-1, x2.shape[-2], x2.shape[-1])
    an = a.pow(2).sum(-1, keepdim=True)
    bn = b.pow(2).sum(-1, keepdim=True)
    a_ = nd.cat([a * -2, an, nd.ones_like(an)], -1)
    b_ = nd.cat([b, nd.ones_like(bn), bn], -1)
    r = nd.matmul(a_, b_.mT).clamp(min=1e-30).sqrt()
    return r.view(batch + (x1.shape[-2], x2.shape[-2]))


# -- differences, gradients, integrals --------------------------------------------------------------------------
def diff(input: Tensor, n: int = 1, dim: int = -1, prepend: Tensor | None = None,
         append: Tensor | None = None) -> Tensor:
    """Mirrors `torch.diff`: the n-th forward difference along dim (after prepend/append)."""
    nd = _nd()
    _t(input, "diff")
    if input.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    dim = _wrap_dim(dim, input.ndim)
    parts = []
    for extra in (prepend, append):
        if extra is not None and extra.ndim != input.ndim:
            raise RuntimeError("diff expects prepend or append to be the same dimension as input")
        if extra is not None:
            for i in range(input.ndim):
                if i != dim and extra.shape[i] != input.shape[i]:
                    raise RuntimeError(f"diff expects the shape of tensor to prepend or append to match that of "
                                       f"input except along the differencing dimension; input.size({i}) = "
                                       f"{input.shape[i]}, but got tensor.size({i}) = {extra.shape[i]}")
    if prepend is not None:
        parts.append(prepend)
    parts.append(input)
    if append is not None:
        parts.append(append)
    x = nd.cat(parts, dim) if len(parts) > 1 else input
    if n == 0:  # torch returns a copy (CopyBackwards)
        return nd.empty_like(x).copy_(x)
    for _ in range(n):
        m = x.shape[dim]
        if m == 0:
            break
        a = x.narrow(dim, 1, m - 1)
        b = x.narrow(dim, 0, m - 1)
        x = nd.logical_xor(a, b) if x._data.dtype == np.bool_ else a - b
    return x


def _spacing_list(input, spacing, dims, name="torch.gradient"):
    if spacing is None:
        return [None] * len(dims)
    if isinstance(spacing, (int, float)):
        return [float(spacing)] * len(dims)
    if isinstance(spacing, Tensor) and spacing.ndim == 0:
        return [spacing.item()] * len(dims)
    sp = list(spacing)
    if len(sp) != len(dims):
        raise RuntimeError(f"{name} expected spacing to be unspecified, a scalar, or a list of length equal to "
                           f"'self.dim() = {input.ndim}', since dim argument was not given, but got a list of "
                           f"length {len(sp)}")
    out = []
    for s in sp:
        if isinstance(s, Tensor) and s.ndim == 0:
            out.append(s.item())
        elif isinstance(s, Tensor):
            out.append(s)
        else:
            out.append(float(s))
    return out


def _grad_uniform(x, d, h, edge_order):
    n = x.shape[d]
    nar = x.narrow
    interior = (nar(d, 2, n - 2) - nar(d, 0, n - 2)) / (2 * h)
    if edge_order == 1:
        first = (nar(d, 1, 1) - nar(d, 0, 1)) / h
        last = (nar(d, n - 1, 1) - nar(d, n - 2, 1)) / h
    else:
        first = (-1.5 * nar(d, 0, 1) + 2 * nar(d, 1, 1) - 0.5 * nar(d, 2, 1)) / h
        last = (0.5 * nar(d, n - 3, 1) - 2 * nar(d, n - 2, 1) + 1.5 * nar(d, n - 1, 1)) / h
    return _nd().cat([first, interior, last], d)


def _grad_coords(x, d, c, edge_order):
    """Second-order accurate interior differences on non-uniform coordinates `c` (1-d), NumPy's scheme."""
    nd = _nd()
    n = x.shape[d]
    cd = c._data.astype(x._data.dtype if x._data.dtype.kind == "f" else np.float64)
    h = np.diff(cd)
    hl, hr = h[:-1], h[1:]
    shape = [1] * x.ndim
    shape[d] = n - 2

    def k(v):
        return nd.from_numpy(np.ascontiguousarray(v.reshape(shape)))
    a = -(hr) / (hl * (hl + hr))
    b = (hr - hl) / (hl * hr)
    cc = hl / (hr * (hl + hr))
    nar = x.narrow
    interior = k(a) * nar(d, 0, n - 2) + k(b) * nar(d, 1, n - 2) + k(cc) * nar(d, 2, n - 2)
    if edge_order == 1:
        first = (nar(d, 1, 1) - nar(d, 0, 1)) / float(h[0])
        last = (nar(d, n - 1, 1) - nar(d, n - 2, 1)) / float(h[-1])
    else:
        h1, h2 = float(h[0]), float(h[1])
        first = (-(2 * h1 + h2) / (h1 * (h1 + h2)) * nar(d, 0, 1) + (h1 + h2) / (h1 * h2) * nar(d, 1, 1)
                 - h1 / (h2 * (h1 + h2)) * nar(d, 2, 1))
        h1, h2 = float(h[-2]), float(h[-1])
        last = (h2 / (h1 * (h1 + h2)) * nar(d, n - 3, 1) - (h2 + h1) / (h1 * h2) * nar(d, n - 2, 1)
                + (2 * h2 + h1) / (h2 * (h1 + h2)) * nar(d, n - 1, 1))
    return nd.cat([first, interior, last], d)


def gradient(input: Tensor, *, spacing: Any = None, dim: Any = None, edge_order: int = 1) -> tuple[Tensor, ...]:
    """Mirrors `torch.gradient`: central differences inside, one-sided (edge_order 1 or 2) at the ends."""
    _t(input, "gradient")
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    if dim is None:
        dims = list(range(input.ndim))
    elif isinstance(dim, int):
        dims = [_wrap_dim(dim, input.ndim)]
    else:
        dims = [_wrap_dim(d, input.ndim) for d in dim]
    if isinstance(spacing, (list, tuple)) and dim is not None and len(spacing) != len(dims):
        raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar or it's spacing and dim "
                           f"arguments to have the same length, but got a spacing argument of length {len(spacing)} "
                           f"and a dim argument of length {len(dims)}.")
    sp = _spacing_list(input, spacing, dims)
    for d in dims:
        if input.shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least edge_order+1")
    x = input if input._data.dtype.kind in "fc" else _float_of(input)
    out = []
    for d, s in zip(dims, sp):
        if isinstance(s, Tensor):
            if s.ndim != 1 or s.shape[0] != input.shape[d]:
                raise RuntimeError("torch.gradient expected each tensor to be on the same device and have the "
                                   "same size as the input along its dimension")
            out.append(_grad_coords(x, d, s, edge_order))
        else:
            out.append(_grad_uniform(x, d, 1.0 if s is None else s, edge_order))
    return tuple(out)


def _trap_args(y, x, dx, dim, name):
    _t(y, name, "y")
    if x is not None and dx is not None:
        raise TypeError(f"{name}() received an invalid combination of arguments - got (Tensor, Tensor, dx=float), "
                        "but expected one of:\n * (Tensor y, Tensor x, *, int dim = -1)\n"
                        " * (Tensor y, *, Number dx = 1, int dim = -1)\n")
    return _wrap_dim(dim, max(y.ndim, 1))


def _x_diffs(y, x, dim, name):
    """The spacing of x along y's dim, broadcastable against y's narrowed differences."""
    if x.ndim == 1:
        if x.shape[0] != y.shape[dim]:
            raise RuntimeError(f"{name}: There must be one `x` value for each sample point")
        dxs = diff(x)
        shape = [1] * y.ndim
        shape[dim] = dxs.shape[0]
        return dxs.reshape(shape)
    return diff(x, dim=dim - y.ndim + x.ndim if x.ndim < y.ndim else dim)


def trapezoid(y: Tensor, x: Tensor | None = None, *, dx: float | None = None, dim: int = -1) -> Tensor:
    """Mirrors `torch.trapezoid`: the trapezoidal rule along dim, with sample points x or uniform spacing dx."""
    d = _trap_args(y, x, dx, dim, "trapezoid")
    n = y.shape[d]
    if n == 0:  # torch returns plain zeros (no graph)
        shape = tuple(s for i, s in enumerate(y.shape) if i != d)
        return _nd().zeros(shape, dtype=_float_of(y.detach()).dtype)
    if x is not None:
        dxs = _x_diffs(y, x, d, "trapezoid")
        return div_scalar(((y.narrow(d, 1, n - 1) + y.narrow(d, 0, n - 1)) * dxs).sum(d), 2)
    h = 1 if dx is None else dx
    ys = _float_of(y)
    return mul_scalar(ys.sum(d) - (ys.narrow(d, 0, 1).squeeze(d) + ys.narrow(d, n - 1, 1).squeeze(d)) * 0.5, h)


def trapz(y: Tensor, x: Tensor | None = None, *, dx: float | None = None, dim: int = -1) -> Tensor:
    """Mirrors `torch.trapz` (the older name of trapezoid)."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y: Tensor, x: Tensor | None = None, *, dx: float | None = None, dim: int = -1) -> Tensor:
    """Mirrors `torch.cumulative_trapezoid`: running trapezoidal integrals (one fewer than samples)."""
    nd = _nd()
    d = _trap_args(y, x, dx, dim, "cumulative_trapezoid")
    n = y.shape[d]
    ys = _float_of(y)
    if n == 0:
        return ys.narrow(d, 0, 0)
    pairs = ys.narrow(d, 1, n - 1) + ys.narrow(d, 0, n - 1)
    if x is not None:
        dxs = _x_diffs(y, x, d, "cumulative_trapezoid")
        return div_scalar(nd.cumsum(pairs * dxs, d), 2)
    h = 1 if dx is None else dx
    return nd.cumsum(mul_scalar(pairs, h / 2), d)


def vander(x: Tensor, N: int | None = None, increasing: bool = False) -> Tensor:
    """Mirrors `torch.vander`: columns x^0..x^(N-1) (reversed unless increasing)."""
    nd = _nd()
    _t(x, "vander", "x")
    if x.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    if N is None:
        N = x.shape[0]
    if N < 0:
        raise RuntimeError("N must be non-negative.")
    dt = x._data.dtype
    if dt.kind == "b" or (dt.kind in "iu" and dt != np.int64):
        x = P.cast(x, np.int64)
    res = nd.ones((x.shape[0], N), dtype=x.dtype)
    if N > 1:
        res = res.clone() if res.requires_grad else res
        res[:, 1:] = nd.cumprod(x.unsqueeze(1).expand(x.shape[0], N - 1), 1)
    return res if increasing else res.flip(1)


# -- rot90 ---------------------------------------------------------------------------------------------------
rot90_op = Op("rot90", lambda self, k, dims: np.ascontiguousarray(np.rot90(self, k, dims)), ("self",),
              ("k", "dims"), node="Rot90Backward0", dtype=SAME)
rot90_op.defvjp(self=lambda grad, k, dims: rot90_op(grad, -k, dims))


def rot90(input: Tensor, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:
    """Mirrors `torch.rot90`: rotate by 90° k times in the plane of dims (from the first towards the second)."""
    _t(input, "rot90")
    dims = list(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.ndim}")
    d0, d1 = _wrap_dim(dims[0], input.ndim), _wrap_dim(dims[1], input.ndim)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}")
    return rot90_op(input, int(k) % 4, (d0, d1))


# -- NaN-aware reductions ---------------------------------------------------------------------------------------
def _red_dims(dim, ndim):
    if dim is None or (isinstance(dim, (list, tuple)) and len(dim) == 0):
        return tuple(range(ndim))
    return Rd._dims(dim, ndim)


def _nansum_fwd(self, dim, keepdim):
    if self.dtype.kind in "fc":
        return np.asarray(np.nansum(self, axis=dim, keepdims=keepdim), self.dtype)
    return np.asarray(np.sum(self, axis=dim, keepdims=keepdim), np.int64 if self.dtype.kind in "biu" else
                      self.dtype)


nansum_op = Op("nansum", _nansum_fwd, ("self",), ("dim", "keepdim"), node="NansumBackward0", dtype=SAME)
# grad · [x is not NaN] as a product, as torch (an infinite incoming gradient gives NaN at NaN inputs)
nansum_op.defvjp(self=lambda grad, self, dim, keepdim, self_shape:
                 Rd._restore_dims(grad, self_shape, dim, keepdim) * (self == self))


def nansum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Mirrors `torch.nansum`: the sum with NaNs counted as zero."""
    _t(input, "nansum")
    if input._data.dtype.kind == "c":
        raise RuntimeError("nansum does not support complex inputs")
    x = input
    if dtype is not None:
        from .._creation import _resolve
        x = P.cast(input, _resolve(dtype).np)
    return nansum_op(x, _red_dims(dim, input.ndim), bool(keepdim))


def nanmean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Mirrors `torch.nanmean`: nansum / (number of non-NaN values)."""
    _t(input, "nanmean")
    if input._data.dtype.kind not in "fc":
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype but got {_tn(input)}")
    dims = _red_dims(dim, input.ndim)
    cnt = _wrap(np.asarray(np.sum(~np.isnan(input._data), axis=dims, keepdims=bool(keepdim)), np.int64))
    return nansum(input, dim, keepdim, dtype=dtype) / cnt


def _nanmedian_all_fwd(self):
    flat = self.reshape(-1)
    ok = flat[~np.isnan(flat)] if flat.dtype.kind == "f" else flat
    if ok.size == 0:
        return np.full((), np.nan, self.dtype)
    return np.sort(ok)[(ok.size - 1) // 2].copy()


def _nanmedian_all_grad(grad, self, result, self_shape):
    r = _raw(result)
    data = _raw(self)
    mask = np.isnan(data) if np.isnan(r) else (data == r)
    m = _c(mask.astype(data.dtype), self)
    return Rd.expand_to(grad, self_shape) * m / float(max(mask.sum(), 1))


nanmedian_all = Op("nanmedian", _nanmedian_all_fwd, ("self",), node="NanmedianBackward0", dtype=SAME)
nanmedian_all.defvjp(self=_nanmedian_all_grad)


def _nanmedian_dim_fwd(self, dim, keepdim):
    if self.ndim == 0:
        return self.copy(), np.zeros((), np.int64)
    if self.shape[dim] == 0:
        raise IndexError(f"median(): Expected reduction dim {dim} to have non-zero size.")
    order = np.argsort(self, axis=dim, kind="stable")  # NaNs sort last
    cnt = np.sum(~np.isnan(self), axis=dim, keepdims=True) if self.dtype.kind == "f" else \
        np.full_like(np.take(self, [0], axis=dim), self.shape[dim], dtype=np.int64)
    k = np.where(cnt > 0, (cnt - 1) // 2, 0)
    idx = np.take_along_axis(order, k, axis=dim)
    vals = np.take_along_axis(self, idx, axis=dim)
    if not keepdim:
        idx, vals = np.squeeze(idx, dim), np.squeeze(vals, dim)
    return np.require(vals, requirements="C"), np.require(idx.astype(np.int64), requirements="C")


nanmedian_dim = Op("nanmedian", _nanmedian_dim_fwd, ("self",), ("dim", "keepdim"), node="NanmedianBackward1",
                   dtype=SAME, n_out=2, diff_out=(True, False))
nanmedian_dim.defvjp(self=lambda grads, result, dim, keepdim, self_shape:
                     Rd.scatter_dim(grads[0], result[1], dim, self_shape, keepdim) if self_shape else grads[0])
NanmedianResult = Rd.return_type("nanmedian")


def nanmedian(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """Mirrors `torch.nanmedian`: the lower median of the non-NaN values (NaN only when all are NaN)."""
    _t(input, "nanmedian")
    if dim is None:
        return nanmedian_all(input)
    return NanmedianResult(*nanmedian_dim(input, _wrap_dim(dim, input.ndim), bool(keepdim)))


# -- quantile ---------------------------------------------------------------------------------------------------
_INTERP = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan, name):
    nd = _nd()
    _t(input, name)
    if input._data.dtype not in (np.float32, np.float64):
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    if interpolation not in _INTERP:
        raise RuntimeError(f"{name}() interpolation must be one of linear, lower, higher, midpoint or nearest, "
                           f"but got {interpolation}")
    if input.numel() == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    scalar_q = not isinstance(q, Tensor) or q.ndim == 0
    if not isinstance(q, Tensor):
        qa = np.asarray([float(q)], input._data.dtype)
    else:
        if q.ndim > 1:
            raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
        if q._data.dtype != input._data.dtype:
            raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor")
        qa = q._data.reshape(-1)
    if np.any((qa < 0) | (qa > 1)):
        if not isinstance(q, Tensor):
            raise RuntimeError(f"{name}() q must be in the range [0, 1] but got {float(q)}")
        raise RuntimeError(f"{name}() q values must be in the range [0, 1]")
    if dim is None:
        x = input.reshape(-1)
        d = 0
    else:
        d = _wrap_dim(dim, input.ndim)
        x = input if input.ndim else input.reshape(1)
        d = d if input.ndim else 0
    sorted_x = nd.sort(x, d).values                       # NaNs last
    n = x.shape[d]
    raw = x._data
    if ignore_nan:
        cnt = np.sum(~np.isnan(raw), axis=d, keepdims=True)
    else:
        cnt = np.where(np.isnan(raw).any(axis=d, keepdims=True), 0, n)  # 0 marks "result is NaN"
    last = np.maximum(cnt - 1, 0).astype(np.float64)
    # positions q·(count-1) for each q: shape (Q, *keepdim shape)
    pos = qa.astype(np.float64).reshape((-1,) + (1,) * raw.ndim) * last[None]
    if interpolation == "lower":
        pos = np.floor(pos)
    elif interpolation == "higher":
        pos = np.ceil(pos)
    elif interpolation == "nearest":
        pos = np.round(pos)  # round half to even, as torch
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, np.maximum(cnt - 1, 0)[None]).astype(np.int64)
    frac = (pos - lo).astype(raw.dtype)
    if interpolation == "midpoint":
        pos0 = qa.astype(np.float64).reshape((-1,) + (1,) * raw.ndim) * last[None]
        lo = np.floor(pos0).astype(np.int64)
        hi = np.ceil(pos0).astype(np.int64)
        frac = np.where(hi > lo, 0.5, 0.0).astype(raw.dtype)
    # a slice whose result is NaN reads the last sorted value (a NaN), as torch: the gradient goes there
    nan_rows = np.broadcast_to(cnt == 0, lo.shape)
    lo = np.where(nan_rows, n - 1, lo)
    hi = np.where(nan_rows, n - 1, hi)
    frac = np.where(nan_rows, 0, frac).astype(raw.dtype)
    nq = qa.size
    outs = []
    for i in range(nq):
        vlo = nd.gather(sorted_x, d, _wrap(np.ascontiguousarray(lo[i])))
        if interpolation in ("lower", "higher", "nearest"):
            v = vlo
        else:
            vhi = nd.gather(sorted_x, d, _wrap(np.ascontiguousarray(hi[i])))
            v = nd.lerp(vlo, vhi, _wrap(np.ascontiguousarray(frac[i])))
        outs.append(v)
    r = nd.stack(outs, 0)  # (Q, ..., 1 at d, ...)
    if dim is None:
        shape = (nq,) + ((1,) * input.ndim if keepdim else ())
    elif keepdim or not input.ndim:
        shape = (nq,) + tuple(input.shape)[:d] + (1,) * bool(input.ndim) + tuple(input.shape)[d + 1:]
    else:
        shape = (nq,) + tuple(input.shape)[:d] + tuple(input.shape)[d + 1:]
    if scalar_q:
        shape = shape[1:]
    # torch computes with a trailing unit dim that it squeezes in place last (its node: SqueezeBackward4)
    return S.squeeze_dim_(r.reshape(shape + (1,)), (len(shape),))


def quantile(input: Tensor, q: float | Tensor, dim: int | None = None, keepdim: bool = False, *,
             interpolation: str = "linear", out: Any = None) -> Tensor:
    """Mirrors `torch.quantile` (a NaN in a reduced slice makes its result NaN)."""
    return _quantile(input, q, dim, keepdim, interpolation, False, "quantile")


def nanquantile(input: Tensor, q: float | Tensor, dim: int | None = None, keepdim: bool = False, *,
                interpolation: str = "linear", out: Any = None) -> Tensor:
    """Mirrors `torch.nanquantile`: quantiles of the non-NaN values."""
    return _quantile(input, q, dim, keepdim, interpolation, True, "nanquantile")


# -- logcumsumexp -------------------------------------------------------------------------------------------------
def _lcse_fwd(self, dim):
    if self.dtype.kind not in "fc":
        raise NotImplementedError(f"\"logcumsumexp_out_cpu\" not implemented for '{_tn(self)}'")
    if self.ndim == 0:
        return self.copy()
    return np.ascontiguousarray(np.logaddexp.accumulate(self, axis=dim))


def _lcse_grad(grad, self, result, dim):
    """∂/∂x_i Σ_j g_j y_j = Σ_{j≥i} g_j exp(x_i - y_j); computed relative to a constant shift for range."""
    from .scan import cumsum_rev
    if _raw(self).ndim == 0:
        return grad
    shift = np.max(np.where(np.isfinite(_raw(result)), _raw(result), 0.0), axis=dim, keepdims=True)
    c = _c(shift, self)
    w = cumsum_rev(grad * P.exp(c - result), dim)
    return w * P.exp(self - c)


logcumsumexp_op = Op("logcumsumexp", _lcse_fwd, ("self",), ("dim",), node="LogcumsumexpBackward0", dtype=SAME)
logcumsumexp_op.defvjp(self=_lcse_grad)


def logcumsumexp(input: Tensor, dim: int) -> Tensor:
    """Mirrors `torch.logcumsumexp`: log(cumsum(exp(x))) computed stably."""
    _t(input, "logcumsumexp")
    d = _wrap_dim(dim, input.ndim)
    return logcumsumexp_op(input, d if input.ndim else 0)


# -- renorm ------------------------------------------------------------------------------------------------------
def _renorm_norm(x, p, dims):
    a = np.abs(x)
    if math.isinf(p):
        return np.max(a, axis=dims, keepdims=True, initial=0.0)
    return np.sum(a ** p, axis=dims, keepdims=True) ** (1.0 / p)


def _renorm_fwd(self, p, dim, maxnorm):
    dims = tuple(i for i in range(self.ndim) if i != dim)
    n = _renorm_norm(self, p, dims)
    s = np.where(n > maxnorm, maxnorm / (n + 1e-7), 1.0)
    return (self * s).astype(self.dtype, copy=False)


def _renorm_grad(grad, self, p, dim, maxnorm):
    """y = x·s(‖x‖): g_x = g s + s'(n) (Σ g x) ∂n/∂x, with s = maxnorm/(n + 1e-7) above maxnorm."""
    dims = tuple(i for i in range(_raw(self).ndim) if i != dim)
    a = P.abs(self)
    if math.isinf(p):
        n = Rd.amax(a, dims, True)
        dn = P.sign(self) * (a == n)
        cnt = Rd.sum_dim(a == n, dims, True) if not isinstance(self, Tensor) else \
            _c(np.sum(_raw(a) == _raw(n), axis=dims, keepdims=True), self)
        dn = dn / cnt
    else:
        n = P.pow(Rd.sum_dim(P.pow(a, p), dims, True), 1.0 / p)
        dn = P.sign(self) * P.pow(a, p - 1) / P.pow(n, p - 1)
    over = n > maxnorm
    s = P.where(over, maxnorm / (n + 1e-7), 1.0)
    ds = P.where(over, -maxnorm / ((n + 1e-7) * (n + 1e-7)), 0.0)
    return grad * s + ds * Rd.sum_dim(grad * self, dims, True) * dn


renorm_op = Op("renorm", _renorm_fwd, ("self",), ("p", "dim", "maxnorm"), node="RenormBackward0", dtype=SAME)
renorm_op.defvjp(self=_renorm_grad)


def renorm(input: Tensor, p: float, dim: int, maxnorm: float) -> Tensor:
    """Mirrors `torch.renorm`: each slice along dim whose p-norm exceeds maxnorm is scaled down to maxnorm."""
    _t(input, "renorm")
    if not p > 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if not maxnorm >= 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm:g}")
    if input.ndim <= 1:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input.ndim} dimensions")
    if input._data.dtype.kind not in "fc":
        raise RuntimeError(f"renorm: expected a floating point or complex tensor but got {_tn(input)}")
    return renorm_op(input, float(p), _wrap_dim(dim, input.ndim), float(maxnorm))


# -- covariance and correlation -----------------------------------------------------------------------------------
def cov(input: Tensor, *, correction: int = 1, fweights: Tensor | None = None,
        aweights: Tensor | None = None) -> Tensor:
    """Mirrors `torch.cov`: rows are variables, columns observations; optional frequency/analytic weights."""
    nd = _nd()
    _t(input, "cov")
    if input.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an input with "
                           f"{input.ndim} dimensions")
    x = input.reshape(1, -1) if input.ndim < 2 else input
    n_obs = x.shape[1]
    w = None
    if fweights is not None:
        if fweights.ndim > 1:
            raise RuntimeError(f"cov(): expected fweights to have one or fewer dimensions but got fweights with "
                               f"{fweights.ndim} dimensions")
        if fweights._data.dtype.kind not in "iu":
            raise RuntimeError(f"cov(): expected fweights to have integral dtype but got fweights with "
                               f"{_tn(fweights)} dtype")
        if fweights.numel() != n_obs:
            raise RuntimeError(f"cov(): expected fweights to have the same numel as there are observations in the "
                               f"input but got {fweights.numel()} != {n_obs}")
        if np.any(fweights._data < 0):
            raise RuntimeError("cov(): fweights cannot be negative")
        w = fweights
    if aweights is not None:
        if aweights.ndim > 1:
            raise RuntimeError(f"cov(): expected aweights to have one or fewer dimensions but got aweights with "
                               f"{aweights.ndim} dimensions")
        if aweights._data.dtype.kind not in "fc":
            raise RuntimeError(f"cov(): expected aweights to have floating point dtype but got aweights with "
                               f"{_tn(aweights)} dtype")
        if aweights.numel() != n_obs:
            raise RuntimeError(f"cov(): expected aweights to have the same numel as there are observations in the "
                               f"input but got {aweights.numel()} != {n_obs}")
        if np.any(aweights._data < 0):
            raise RuntimeError("cov(): aweights cannot be negative")
        w = aweights if w is None else w * aweights
    if x._data.dtype.kind not in "fc":
        x = _float_of(x)
    if w is None:
        w_sum = nd.tensor(float(n_obs), dtype=x.dtype)
        avg = x.mean(1)
    else:
        w_sum = w.sum()
        avg = (x * w).sum(1) / w_sum
    if w is None:
        norm_factor = w_sum - correction
    elif correction == 0:
        norm_factor = w_sum
    elif aweights is None:
        norm_factor = w_sum - correction
    else:
        norm_factor = w_sum - correction * (w * aweights).sum() / w_sum
    if bool((norm_factor <= 0).item()):
        _warn("cov(): degrees of freedom is <= 0. Correction should be strictly less than the number of "
              "observations.", UserWarning, stacklevel=2)
        norm_factor = nd.zeros((), dtype=norm_factor.dtype)
    xm = x - avg.unsqueeze(1)
    xw = xm if w is None else xm * w
    c = nd.mm(xw, xm.t().conj())
    return (c / norm_factor).squeeze()


def corrcoef(input: Tensor) -> Tensor:
    """Mirrors `torch.corrcoef`: Pearson correlation coefficients of the rows, clipped to [-1, 1]."""
    nd = _nd()
    _t(input, "corrcoef")
    if input.ndim > 2:
        raise RuntimeError(f"corrcoef(): expected input to have two or fewer dimensions but got an input with "
                           f"{input.ndim} dimensions")
    c = cov(input)
    if c.ndim == 0:
        return c / c
    if c.is_complex():
        raise NotImplementedError("ndgrad: corrcoef of complex tensors is not implemented")
    d = nd.diagonal(c)
    sd = nd.sqrt(d)
    c = c / sd.reshape(-1, 1)
    c = c / sd.reshape(1, -1)
    return nd.clip(c, -1, 1)


# -- aminmax ------------------------------------------------------------------------------------------------------
def _aminmax_fwd(self, dim, keepdim):
    ax = tuple(range(self.ndim)) if dim is None else dim
    kd = keepdim if dim is not None else False
    mn = np.asarray(np.min(self, axis=ax, keepdims=kd))
    mx = np.asarray(np.max(self, axis=ax, keepdims=kd))
    if dim is None and keepdim:
        mn, mx = mn.reshape((1,) * self.ndim), mx.reshape((1,) * self.ndim)
    return mn, mx


def _aminmax_grad(grads, self, result, dim, keepdim, self_shape):
    dims = tuple(range(len(self_shape))) if dim is None else (dim,)
    kd = keepdim if dim is not None else keepdim
    g = None
    for k in (0, 1):
        if grads[k] is None:
            continue
        part = Rd._even_split(grads[k], self, result[k], dims, kd, self_shape)
        g = part if g is None else g + part
    return g


aminmax_op = Op("aminmax", _aminmax_fwd, ("self",), ("dim", "keepdim"), node="AminmaxBackward0", dtype=SAME,
                n_out=2)
aminmax_op.defvjp(self=_aminmax_grad)
AminmaxResult = Rd.return_type("aminmax", ("min", "max"))


def aminmax(input: Tensor, *, dim: int | None = None, keepdim: bool = False) -> Any:
    """Mirrors `torch.aminmax`: (min, max), over everything or along dim; ties share the gradient."""
    _t(input, "aminmax")
    if input._data.dtype.kind == "c":
        raise NotImplementedError(f"\"aminmax_cpu\" not implemented for '{_tn(input)}'")
    if dim is not None:
        dim = _wrap_dim(dim, max(input.ndim, 1))
        if input.ndim == 0:
            dim = None
        elif input.shape[dim] == 0:
            raise IndexError(f"aminmax(): Expected reduction dim {dim} to have non-zero size.")
    elif input.numel() == 0:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation has no "
                           "identity.")
    return AminmaxResult(*aminmax_op(input, dim, bool(keepdim)))


# -- frexp / ldexp ------------------------------------------------------------------------------------------------
def _frexp_fwd(self):
    m, e = np.frexp(self)
    return m.astype(self.dtype, copy=False), e.astype(np.int32)


frexp_op = Op("frexp", _frexp_fwd, ("self",), node="FrexpBackward0", dtype=SAME, n_out=2, diff_out=(True, False))
frexp_op.defvjp(self=lambda grads, result: grads[0] * P.exp2(-P.cast(result[1], _raw(grads[0]).dtype)))
FrexpResult = Rd.return_type("frexp", ("mantissa", "exponent"))


def frexp(input: Tensor, *, out: Any = None) -> Any:
    """Mirrors `torch.frexp`: (mantissa, exponent) with input = mantissa · 2**exponent, |mantissa| in [0.5, 1)."""
    _t(input, "frexp")
    if input._data.dtype.kind != "f":
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    return FrexpResult(*frexp_op(input))


def _ldexp_fwd(self, other):
    return self * np.exp2(other.astype(self.dtype, copy=False))


def _ldexp_grad_self(grad, other):
    if _raw(other).dtype.kind in "iub":  # torch computes 2**other in integers here: 0 for negative exponents
        return grad * P.where(other < 0, 0.0, P.exp2(P.cast(other, _raw(grad).dtype)))
    return grad * P.exp2(other)


ldexp_op = Op("ldexp", _ldexp_fwd, ("self", "other"), node="LdexpBackward0", dtype=SAME)
ldexp_op.defvjp(self=_ldexp_grad_self,
                other=lambda grad, result: grad * result * math.log(2.0))


def ldexp(input: Tensor, other: Tensor, *, out: Any = None) -> Tensor:
    """Mirrors `torch.ldexp`: input · 2**other (a floating result)."""
    from .. import _dtype as D
    _t(input, "ldexp"), _t(other, "ldexp", "other", 2)
    rt = D.result_type_of(((input.dtype, 2 if input.ndim else 1), (other.dtype, 2 if other.ndim else 1)))
    if not (rt.is_floating_point or rt.is_complex):
        rt = D.get_default_dtype()
    try:
        np.broadcast_shapes(tuple(input.shape), tuple(other.shape))
    except ValueError:
        a, b = tuple(input.shape), tuple(other.shape)
        n = max(len(a), len(b))
        a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
        for i in range(n - 1, -1, -1):
            if a[i] != b[i] and a[i] != 1 and b[i] != 1:
                raise RuntimeError(f"The size of tensor a ({a[i]}) must match the size of tensor b ({b[i]}) at "
                                   f"non-singleton dimension {i}") from None
    x = input if input.dtype == rt else P.cast(input, rt.np)
    e = other if other._data.dtype.kind in "iub" or other.dtype == rt else P.cast(other, rt.np)
    return ldexp_op(x, e)


# -- products of index sets --------------------------------------------------------------------------------------
def cartesian_prod(*tensors: Tensor) -> Tensor:
    """Mirrors `torch.cartesian_prod`: every combination of one element from each 1-d tensor (rows)."""
    nd = _nd()
    for t in tensors:
        if t.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    grids = nd.meshgrid(*tensors, indexing="ij")
    return nd.stack([g.flatten() for g in grids], 1)


def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """Mirrors `torch.combinations`: the r-length combinations of a 1-d tensor's elements, in order."""
    import itertools
    nd = _nd()
    _t(input, "combinations")
    if input.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return nd.empty(0, dtype=input.dtype)
    n = input.shape[0]
    gen = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    idx = np.array(list(gen(range(n), r)), dtype=np.int64).reshape(-1, r)
    return nd.stack([input[_wrap(np.ascontiguousarray(idx[:, k]))] for k in range(r)], 1)


def _block_diag_fwd(tensors, shapes):
    rows = sum(s[0] for s in shapes)
    cols = sum(s[1] for s in shapes)
    dt = np.result_type(*[t.dtype for t in tensors]) if tensors else np.float32
    out = np.zeros((rows, cols), dt)
    i = j = 0
    for t, s in zip(tensors, shapes):
        out[i:i + s[0], j:j + s[1]] = t.reshape(s)
        i += s[0]
        j += s[1]
    return out


def _block_diag_grad(grad, shapes):
    out = []
    i = j = 0
    for s, orig in ((s[:2], s[2]) for s in shapes):
        blk = S.narrow(S.narrow(grad, 0, i, s[0]), 1, j, s[1])
        out.append(S.reshape(blk, orig))
        i += s[0]
        j += s[1]
    return out


block_diag_op = Op("block_diag", lambda tensors, shapes: _block_diag_fwd(tensors, [s[:2] for s in shapes]),
                   ("tensors",), ("shapes",), node="BlockDiagBackward0", variadic=True)
block_diag_op.defvjp(tensors=_block_diag_grad)


def block_diag(*tensors: Tensor) -> Tensor:
    """Mirrors `torch.block_diag`: the tensors (0-, 1- or 2-d) as blocks along the diagonal."""
    from .. import _dtype as D
    shapes = []
    for k, t in enumerate(tensors):
        _t(t, "block_diag", "tensors")
        if t.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {k} has "
                               f"{t.ndim} dimensions")
        s = tuple(t.shape)
        two = (1, 1) if t.ndim == 0 else ((1, s[0]) if t.ndim == 1 else s)
        shapes.append((two[0], two[1], s))
    if not tensors:
        return _nd().empty(1, 0)
    rt = tensors[0].dtype
    for t in tensors[1:]:
        rt = D.promote_types(rt, t.dtype)
    ts = [t if t.dtype == rt else P.cast(t, rt.np) for t in tensors]
    return block_diag_op(ts, tuple(shapes))


# -- counting and searching (not differentiable) ----------------------------------------------------------------
def _int_out(arr, out_int32):
    return _wrap(np.require(arr.astype(np.int32 if out_int32 else np.int64), requirements="C"))


def _ss(seq, vals, right):
    """searchsorted of `vals` in each row of `seq` (..., M) -> (..., N); NaN sorts last, as torch."""
    side = "right" if right else "left"
    if seq.ndim == 1:
        return np.searchsorted(seq, vals, side=side)
    flat_s = seq.reshape(-1, seq.shape[-1])
    flat_v = vals.reshape(-1, vals.shape[-1])
    out = np.stack([np.searchsorted(s, v, side=side) for s, v in zip(flat_s, flat_v)]) if flat_s.shape[0] else \
        np.zeros(flat_v.shape, np.int64)
    return out.reshape(vals.shape)


def searchsorted(sorted_sequence: Tensor, input: Any, *, out_int32: bool = False, right: bool = False,
                 side: str | None = None, sorter: Tensor | None = None, out: Any = None) -> Tensor:
    """Mirrors `torch.searchsorted`: for each value, the index where it would be inserted to keep order."""
    from .. import _dtype as D
    _t(sorted_sequence, "searchsorted", "sorted_sequence")
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got side of left "
                               "while right was True")
        right = side == "right"
    scalar = not isinstance(input, Tensor)
    seq = sorted_sequence._data
    vals = np.asarray(input) if scalar else input._data
    if scalar and seq.ndim != 1:
        raise RuntimeError(f"torch.searchsorted(): input value can be a scalar only when boundaries tensor "
                           f"dimension is 1, but we got boundaries tensor dim({seq.ndim}) and input value's dim(0) "
                           "numel(1)")
    if seq.ndim == 0:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should have positive dimension, but got 0 "
                           "dimension")
    if seq.ndim > 1 and (vals.ndim != seq.ndim or vals.shape[:-1] != seq.shape[:-1]):
        raise RuntimeError(f"torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                           f"dimensions of boundaries tensor and input value tensor must match, but we got "
                           f"boundaries tensor {list(seq.shape)} and input value tensor {list(vals.shape)}")
    if sorter is not None:
        if sorter._data.dtype != np.int64:
            raise RuntimeError(f"torch.searchsorted(): sorter must be a tensor of long dtype but got dtype "
                               f"{_tn(sorter)}")
        if sorter.shape != sorted_sequence.shape:
            raise RuntimeError(f"torch.searchsorted(): boundary and sorter must have the same size, but got "
                               f"boundary tensor {list(seq.shape)}and got sorter tensor {list(sorter.shape)}")
        if np.any((sorter._data < 0) | (sorter._data >= seq.shape[-1])):
            raise RuntimeError("torch.searchsorted(): sorter index out of range")
        seq = np.take_along_axis(seq, sorter._data, axis=-1)
    if not scalar:
        rt = D.promote_types(sorted_sequence.dtype, input.dtype)
        seq, vals = seq.astype(rt.np, copy=False), vals.astype(rt.np, copy=False)
    r = _ss(seq, vals, right)
    return _int_out(np.asarray(r), out_int32)


def bucketize(input: Any, boundaries: Tensor, *, out_int32: bool = False, right: bool = False,
              out: Any = None) -> Tensor:
    """Mirrors `torch.bucketize`: the bucket of each value given 1-d sorted boundaries."""
    _t(boundaries, "bucketize", "boundaries", 2)
    if boundaries.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def _hist_not_impl(name, multi=False):
    def f(grad):
        raise RuntimeError(f"the derivative for '{name}' is not implemented.")

    def g(grads):
        raise RuntimeError(f"the derivative for '{name}' is not implemented.")
    return g if multi else f


def _histc_fwd(self, bins, lo, hi):
    data = self.astype(np.float64)
    h = np.zeros(bins, np.float64)
    ok = (data >= lo) & (data <= hi)
    d = data[ok]
    if d.size:
        idx = np.floor((d - lo) * bins / (hi - lo)).astype(np.int64) if hi > lo else np.zeros(d.size, np.int64)
        idx = np.clip(idx, 0, bins - 1)
        h = np.bincount(idx, minlength=bins).astype(np.float64)
    return h.astype(self.dtype)


def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0, *, out: Any = None) -> Tensor:
    """Mirrors `torch.histc`: counts in `bins` equal bins over [min, max] (the data's range when both are 0)."""
    _t(input, "histc")
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for '{_tn(input)}'")
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    if min > max:
        raise RuntimeError("torch.histc: max must be larger than min")
    lo, hi = float(min), float(max)
    data = input._data
    if lo == hi and data.size:
        lo, hi = float(np.min(data)), float(np.max(data))
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise RuntimeError(f"torch.histc: range of [{lo:g}, {hi:g}] is not finite")
    return _wrap(_histc_fwd(data, int(bins), lo, hi))


def _histogram_fwd(self, weight, edges, density):
    data = self.reshape(-1).astype(np.float64)
    e = edges.astype(np.float64)
    nb = e.size - 1
    w = None if weight is None else weight.reshape(-1).astype(np.float64)
    ok = (data >= e[0]) & (data <= e[-1])
    idx = np.searchsorted(e, data[ok], side="right") - 1
    idx = np.clip(idx, 0, nb - 1)
    h = np.bincount(idx, weights=None if w is None else w[ok], minlength=nb).astype(np.float64)
    if density:
        total = h.sum()
        h = h / (total * np.diff(e))
    return h.astype(self.dtype), edges.copy()


histogram_op = Op("histogram", lambda self, weight, edges, density: _histogram_fwd(self, weight, edges, density),
                  ("self", "weight"), ("edges", "density"), node="NotImplemented", dtype=SAME, n_out=2)
histogram_op.defvjp(self=_hist_not_impl("histogram", True), weight=_hist_not_impl("histogram", True))
HistogramResult = Rd.return_type("histogram", ("hist", "bin_edges"))


def histogram(input: Tensor, bins: int | Tensor = 100, *, range: Sequence[float] | None = None,
              weight: Tensor | None = None, density: bool = False, out: Any = None) -> Any:
    """Mirrors `torch.histogram`: (hist, bin_edges) with bins a count (over range or the data's) or the edges."""
    _t(input, "histogram")
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for '{_tn(input)}'")
    data = input._data
    if isinstance(bins, Tensor):
        if bins.ndim != 1:
            raise RuntimeError(f"torch.histogram(): bins tensor should have one dimension, but got {bins.ndim} "
                               "dimensions in the bins tensor")
        if bins._data.dtype != data.dtype:
            raise RuntimeError(f"torch.histogram: input tensor and bins tensors should have the same dtype, but got "
                               f"input {input.dtype} and bins {bins.dtype}")
        if bins.shape[0] < 1:
            raise RuntimeError("torch.histogram(): bins tensor should have at least 1 element, but got 0 elements")
        edges = bins._data.copy()
    else:
        if bins <= 0:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
        if range is not None:
            lo, hi = float(range[0]), float(range[1])
            if lo > hi:
                raise RuntimeError(f"torch.histogram(): min should not exceed max, but got min {lo:g} max {hi:g} "
                                   "for dimension 0")
        elif data.size:
            lo, hi = float(np.min(data)), float(np.max(data))
        else:
            lo, hi = 0.0, 0.0
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        edges = np.linspace(lo, hi, int(bins) + 1).astype(data.dtype)
    if weight is not None:
        if tuple(weight.shape) != tuple(input.shape):
            raise RuntimeError(f"torch.histogram(): if weight tensor is provided it should have the same shape as "
                               f"the input tensor excluding its innermost dimension, but got input with shape "
                               f"{list(input.shape)} and weight with shape {list(weight.shape)}")
        if weight._data.dtype != data.dtype:
            raise RuntimeError(f"torch.histogram(): if weight tensor is provided, it should have the same dtype "
                               f"as the input tensor, but got input {input.dtype} and weight {weight.dtype}")
    return HistogramResult(*histogram_op(input, weight, edges, bool(density)))


def _bincount_fwd(self, weights, minlength):
    n = int(max(self.max() + 1 if self.size else 0, minlength))
    if weights is None:
        return np.bincount(self, minlength=n).astype(np.int64)
    dt = weights.dtype if weights.dtype.kind == "f" else np.float64
    return np.bincount(self, weights=weights.astype(np.float64), minlength=n).astype(dt)


bincount_op = Op("bincount", _bincount_fwd, ("self", "weights"), ("minlength",), node="NotImplemented", dtype=SAME)
bincount_op.defvjp(weights=_hist_not_impl("bincount"))


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """Mirrors `torch.bincount`: occurrences of each value of a 1-d non-negative integer tensor (or weight sums)."""
    _t(input, "bincount")
    d = input._data
    if d.dtype.kind not in "iub":
        raise NotImplementedError(f"\"bincount_cpu\" not implemented for '{_tn(input)}'")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if input.ndim != 1 or (d.size and d.min() < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is not None and (weights.ndim != 1 or weights.shape[0] != input.shape[0]):
        raise RuntimeError("weights should be 1-d and have the same length as input")
    if weights is None:
        return _wrap(_bincount_fwd(d.astype(np.int64), None, int(minlength)))
    return bincount_op(P.cast(input, np.int64) if d.dtype != np.int64 else input, weights, int(minlength))


def _tri_indices(row, col, offset, dtype, lower, name):
    from .._creation import _resolve
    if row < 0:
        raise RuntimeError(f"row must be non-negative, got{row}")
    if col < 0:
        raise RuntimeError(f"col must be non-negative, got{col}")
    r, c = (np.tril_indices if lower else np.triu_indices)(row, offset, col)
    d = _resolve(dtype) if dtype is not None else None
    npd = d.np if d is not None else np.int64
    if np.dtype(npd).kind not in "iu":
        raise RuntimeError(f"\"{name}\" not implemented for '{_TN.get(np.dtype(npd).name)}'")
    return _wrap(np.ascontiguousarray(np.stack([r, c]).astype(npd)).reshape(2, -1))


def tril_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None, device: Any = None,
                 layout: Any = None) -> Tensor:
    """Mirrors `torch.tril_indices`: (2, N) coordinates of the lower triangle of a row × col matrix."""
    return _tri_indices(row, col, offset, dtype, True, "tril_indices")


def triu_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None, device: Any = None,
                 layout: Any = None) -> Tensor:
    """Mirrors `torch.triu_indices`: (2, N) coordinates of the upper triangle of a row × col matrix."""
    return _tri_indices(row, col, offset, dtype, False, "triu_indices")


METHODS: dict = {n: globals()[n] for n in (
    "fmax", "fmin", "diff", "rot90", "nansum", "nanmean", "nanmedian", "quantile", "nanquantile", "logcumsumexp",
    "renorm", "cov", "corrcoef", "aminmax", "frexp", "ldexp", "bincount", "histc", "histogram")}


def _random_method(name: str) -> Any:
    """A Tensor method of ndgrad/_random_ops.py, which loads on the first call (keeping `import ndgrad` fast)."""
    def method(self: Tensor, *args: Any, **kwargs: Any) -> Any:
        from .. import _random_ops
        return _random_ops.METHODS[name](self, *args, **kwargs)
    method.__name__ = method.__qualname__ = name
    return method


METHODS.update({n: _random_method(n) for n in (
    "normal_", "uniform_", "exponential_", "geometric_", "log_normal_", "cauchy_", "random_", "bernoulli_",
    "bernoulli", "multinomial")})


# -- forward mode (autograd/forward_ad.py): how each op's jvp is derived; ops not listed transpose their vjp
for _op in (rot90_op, mul_scalar, div_scalar, block_diag_op):
    _op.defjvp(linear=True)
fmin_op.defjvp(elementwise=True)


def _tangent_or_zero(t, like):
    return P.zeros_like(like) if t is None else t


def _fmax_jvp(ts, self, other, result):
    """torch's rule: other_t + [self > other or other is NaN] (self_t - other_t); at ties it takes other's
    tangent (its backward gives self the gradient there)."""
    st, ot = _tangent_or_zero(ts[0], result), _tangent_or_zero(ts[1], result)
    pick = (self > other) | _isnan(other)
    return P.where(pick, st + P.zeros_like(result), ot + P.zeros_like(result))


fmax_op.defjvp(_fmax_jvp)


def _lcse_jvp(ts, self, dim, result):
    """torch's logcumsumexp_jvp: cumsum(e·t) / cumsum(e), e = exp(x - max x), a cumsum below 1e-13 counting as 1
    (so leading -inf values get a zero tangent)."""
    from .scan import cumsum_op
    if self.ndim == 0:
        return ts[0]
    shift = np.max(np.where(np.isfinite(self._data), self._data, -np.inf), axis=dim, keepdims=True)
    shift = np.where(np.isfinite(shift), shift, 0.0)
    e = P.exp(self - _c(shift, self))
    cs = cumsum_op(e, dim)
    return cumsum_op(e * ts[0], dim) / P.where(cs < 1e-13, 1.0, cs)


logcumsumexp_op.defjvp(_lcse_jvp)


def _nanmedian_all_jvp(ts, self, result):
    """torch's evenly_read_jvp: the mean tangent over the entries equal to the result (NaN when none is)."""
    mask = _raw(self) == _raw(result)
    if mask.size == 0:
        return P.zeros_like(result)
    return Rd.sum_dim(ts[0] * _c(mask.astype(_raw(self).dtype), self), tuple(range(self.ndim)), False) / \
        _c(np.asarray(mask.sum(), _raw(self).dtype), self)


nanmedian_all.defjvp(_nanmedian_all_jvp)
