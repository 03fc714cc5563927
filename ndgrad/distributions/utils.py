"""Helpers shared by the distributions: broadcasting of parameters, probs/logits conversions, lazy
properties, and the private special functions and samplers the families need (standard-gamma sampling with
its implicit reparameterisation gradient, the scaled Bessel functions of VonMises)."""
from __future__ import annotations

import math
from numbers import Number
from typing import Any, Callable

import numpy as np

import ndgrad as _t
from .._creation import _rng
from .._ops._registry import FLOAT, SAME, Op
from .._tensor import Tensor

__all__ = ["broadcast_all", "logits_to_probs", "probs_to_logits", "clamp_probs", "lazy_property", "finfo",
           "tril_matrix_to_vec", "vec_to_tril_matrix"]


class finfo:
    """The few fields of `torch.finfo` the distributions use (eps, tiny, max, min) for an ndgrad dtype."""

    def __init__(self, dtype: Any = None) -> None:
        dtype = dtype or _t.get_default_dtype()
        i = np.finfo(dtype.np if hasattr(dtype, "np") else dtype)
        self.eps = float(i.eps)
        self.tiny = float(i.tiny)
        self.max = float(i.max)
        self.min = float(i.min)
        self.resolution = float(i.resolution)


def broadcast_all(*values: Any) -> tuple:
    """Broadcast tensors and numbers together; numbers become tensors of the first tensor's dtype (or the
    default dtype). Raises torch's ValueError for other types."""
    if not all(isinstance(v, (Tensor, Number)) for v in values):
        raise ValueError("Input arguments must all be instances of numbers.Number, "
                         "torch.Tensor or objects implementing __torch_function__.")
    if not all(isinstance(v, Tensor) for v in values):
        dtype = _t.get_default_dtype()
        for v in values:
            if isinstance(v, Tensor):
                dtype = v.dtype
                break
        values = tuple(v if isinstance(v, Tensor) else _t.tensor(v, dtype=dtype) for v in values)
    return tuple(_t.broadcast_tensors(*values))


def _standard_normal(shape: Any, dtype: Any) -> Tensor:
    with _t.no_grad():
        return _t.randn(*shape, dtype=dtype) if len(shape) else _t.randn((), dtype=dtype)


def _sum_rightmost(value: Tensor, dim: int) -> Tensor:
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:value.dim() - dim]) + (-1,)).sum(-1)


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """Logits to probabilities: sigmoid (binary) or softmax over the last dimension."""
    if is_binary:
        return _t.sigmoid(logits)
    return _t.softmax(logits, dim=-1)


def clamp_probs(probs: Tensor) -> Tensor:
    """Clamps probabilities into the open interval (0, 1) by the dtype's eps."""
    eps = finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """Probabilities to logits (log-odds when binary, log-probabilities otherwise)."""
    ps_clamped = clamp_probs(probs)
    if is_binary:
        return _t.log(ps_clamped) - _t.log1p(-ps_clamped)
    return _t.log(ps_clamped)


class lazy_property:
    """A property computed once per instance (with grad enabled) and cached in its __dict__."""

    def __init__(self, wrapped: Callable) -> None:
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__
        self.__name__ = wrapped.__name__

    def __get__(self, instance: Any, obj_type: Any = None) -> Any:
        if instance is None:
            return _lazy_property_and_property(self.wrapped)
        with _t.enable_grad():
            value = self.wrapped(instance)
        instance.__dict__[self.wrapped.__name__] = value
        return value


class _lazy_property_and_property(lazy_property, property):
    def __init__(self, wrapped: Callable) -> None:
        property.__init__(self, wrapped)
        lazy_property.__init__(self, wrapped)


def tril_matrix_to_vec(mat: Tensor, diag: int = 0) -> Tensor:
    """The lower triangle (from diagonal `diag`) of the last two dimensions, row by row."""
    n = mat.shape[-1]
    if not (-n <= diag < n):
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    rows, cols = np.tril_indices(n, k=diag)
    return mat[..., _t.from_numpy(rows), _t.from_numpy(cols)]


def vec_to_tril_matrix(vec: Tensor, diag: int = 0) -> Tensor:
    """Inverse of tril_matrix_to_vec."""
    n = (-(1 + 2 * diag) + ((1 + 2 * diag) ** 2 + 8 * vec.shape[-1] + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    eps = finfo(vec.dtype).eps
    if not round(n) - n < eps:
        raise ValueError(f"The size of last dimension is {vec.shape[-1]} which cannot be expressed as the lower "
                         "triangular part of a square D x D matrix.")
    n = round(n.item()) if isinstance(n, Tensor) else round(n)
    rows, cols = np.tril_indices(n, k=diag)
    pos = _t.from_numpy((rows * n + cols).astype(np.int64))
    flat = _t.zeros(tuple(vec.shape[:-1]) + (n * n,), dtype=vec.dtype)
    flat = flat.index_add(-1, pos, vec)
    return flat.reshape(tuple(vec.shape[:-1]) + (n, n))


# -- the standard gamma sampler and its implicit reparameterisation gradient --------------------------------
def _lgamma_np(x: np.ndarray) -> np.ndarray:
    return np.vectorize(math.lgamma, otypes=[np.float64])(x)


def _digamma_np(x: np.ndarray) -> np.ndarray:
    from .._ops.special import _digamma
    return np.asarray(_digamma(np.asarray(x, np.float64)), np.float64)


def _gamma_cdf_dalpha(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """d/da P(a, x) of the regularised lower incomplete gamma function, from its series
    P(a, x) = sum_n exp((a + n) log x - x - lgamma(a + n + 1)); each term differentiates to
    term_n * (log x - digamma(a + n + 1)), with the digamma built up by its recurrence."""
    a = np.asarray(a, np.float64)
    x = np.asarray(x, np.float64)
    logx = np.log(x)
    logterm = a * logx - x - _lgamma_np(a + 1.0)
    psi = _digamma_np(a + 1.0)
    term = np.exp(logterm)
    total = term * (logx - psi)
    n = 0
    active = np.ones(a.shape, bool)
    while active.any() and n < 20000:
        n += 1
        # next term: ratio x / (a + n)
        term = term * x / (a + n)
        psi = psi + 1.0 / (a + n)
        contrib = term * (logx - psi)
        total = total + np.where(active, contrib, 0.0)
        # stop once the terms decrease and are negligible
        active = active & ~((x < a + n) & (np.abs(contrib) <= 1e-17 * np.maximum(np.abs(total), 1e-300))
                            & (term <= 1e-17))
    return total


def _standard_gamma_grad_np(alpha: np.ndarray, x: np.ndarray) -> np.ndarray:
    """dx/dalpha of a standard-gamma sample x at fixed CDF value: -(dP/dalpha) / density."""
    a = np.asarray(alpha, np.float64)
    xx = np.maximum(np.asarray(x, np.float64), np.finfo(np.float64).tiny)
    logpdf = (a - 1.0) * np.log(xx) - xx - _lgamma_np(a)
    # for large alpha (at samples near the mode) a direct series costs ~sqrt(alpha) terms: still fine
    out = -_gamma_cdf_dalpha(a, xx) / np.exp(logpdf)
    return np.where(np.isfinite(out), out, 0.0).astype(np.asarray(x).dtype)


def _standard_gamma_fwd(alpha: np.ndarray) -> np.ndarray:
    rng = _rng(None)
    x = rng.standard_gamma(np.asarray(alpha, np.float64))
    tiny = np.finfo(alpha.dtype).tiny
    return np.maximum(np.asarray(x), tiny).astype(alpha.dtype)


def _sg_grad_no_derivative(grad: Any) -> Any:
    raise RuntimeError("the derivative for '_standard_gamma_grad' is not implemented.")


standard_gamma_grad = Op("_standard_gamma_grad", lambda a, x: _standard_gamma_grad_np(a, x), ("self", "output"),
                         node="StandardGammaGradBackward0", dtype=FLOAT)
standard_gamma_grad.defvjp(self=lambda grad: _sg_grad_no_derivative(grad),
                           output=lambda grad: _sg_grad_no_derivative(grad))
standard_gamma = Op("_standard_gamma", _standard_gamma_fwd, ("self",), node="StandardGammaBackward0", dtype=SAME)
standard_gamma.defvjp(self=lambda grad, self, result: grad * standard_gamma_grad(self, result))


# -- scaled modified Bessel functions I0, I1 (VonMises) -----------------------------------------------------
def _ive_np(nu: int, x: np.ndarray) -> np.ndarray:
    """exp(-|x|) I_nu(x) for nu in {0, 1}, x >= 0: power series below 30, asymptotic series above."""
    x = np.asarray(x, np.float64)
    out = np.empty_like(x)
    small = x <= 30.0
    xs = x[small]
    if xs.size:
        half = xs / 2.0
        term = np.exp(-xs) * (half if nu == 1 else np.ones_like(xs))
        s = term.copy()
        for k in range(1, 120):
            term = term * half * half / (k * (k + nu))
            s = s + term
        out[small] = s
    xl = x[~small]
    if xl.size:
        mu = 4.0 * nu * nu
        term = np.ones_like(xl)
        s = term.copy()
        for k in range(1, 30):
            term = -term * (mu - (2 * k - 1) ** 2) / (k * 8.0 * xl)
            s = s + term
        out[~small] = s / np.sqrt(2 * np.pi * xl)
    return out


def _log_i0_fwd(x: np.ndarray) -> np.ndarray:
    xf = np.asarray(x, np.float64)
    return (np.log(_ive_np(0, xf)) + xf).astype(x.dtype)


def _i1_over_i0_fwd(x: np.ndarray) -> np.ndarray:
    xf = np.asarray(x, np.float64)
    return (_ive_np(1, xf) / _ive_np(0, xf)).astype(x.dtype)


i1_over_i0 = Op("_i1_over_i0", _i1_over_i0_fwd, ("self",), node="I1OverI0Backward0", dtype=FLOAT)
# (I1/I0)' = 1 - (I1/I0)/x - (I1/I0)^2 (x > 0: the concentration is positive)
i1_over_i0.defvjp(self=lambda grad, self, result: grad * (1 - result / self - result * result))
log_i0 = Op("_log_i0", _log_i0_fwd, ("self",), node="LogI0Backward0", dtype=FLOAT)
log_i0.defvjp(self=lambda grad, self: grad * i1_over_i0(self))
