"""Special pointwise functions (erf, lgamma, logaddexp, lerp, ...), predicates and their derivatives.

Public functions (with torch's signatures) are listed in `__all__` and exported as `ndgrad.X`;
`METHODS` maps Tensor method names to functions taking the tensor first. Both are wired in by
`ndgrad/_ops/__init__.py` and `ndgrad/_methods.py`.

No SciPy: erf/erfc/lgamma come from `math` (vectorised), digamma and polygamma from recurrence plus
the asymptotic series, erfinv from an initial approximation refined by Newton steps on erf.
"""
from __future__ import annotations

import builtins
import math
from typing import Any

import numpy as np

from .. import _dtype as D
from .._quiet import quiet
from .._tensor import Tensor, _wrap, _wrap_dim
from ._registry import FLOAT, NONE, PROMOTE_FLOAT, SAME, Op
from .pointwise import _fused_dtype, cos, exp, fma, pow, select, sigmoid, sign, sin, where, zeros_like

_PI = math.pi
_LN2 = math.log(2.0)
_SQRT_PI = math.sqrt(math.pi)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_TYPE = {"b": "Bool", "u1": "Byte", "i1": "Char", "i2": "Short", "i4": "Int", "i8": "Long",
         "f2": "Half", "f4": "Float", "f8": "Double"}


def _tname(dt: np.dtype) -> str:
    return _TYPE.get("b" if dt.kind == "b" else f"{dt.kind}{dt.itemsize}", str(dt))


def _float_only(fn, kernel):
    """Forward that refuses integer and bool inputs as torch's float-only kernels do."""
    def f(self, *rest):
        if self.dtype.kind not in "fcV":
            raise NotImplementedError(f'"{kernel}" not implemented for \'{_tname(self.dtype)}\'')
        return fn(self, *rest)
    return f


def _t(x: Any, name: str, arg: str = "input", pos: int = 1) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be Tensor, not {type(x).__name__}")
    return x


def _no_derivative(name):
    def f(grad):
        raise RuntimeError(f"the derivative for '{name}' is not implemented.")
    return f


# -- the special-function kernels (float64 accurate, cast back to the input's dtype) ------------------------
def _vec(f):
    v = np.vectorize(f, otypes=[np.float64])

    def run(x):
        x = np.asarray(x)
        if x.size == 0:
            return np.empty(x.shape, x.dtype)
        return np.asarray(v(x.astype(np.float64))).astype(x.dtype, copy=False)
    return run


def _lgamma1(v):
    try:
        return math.lgamma(v)
    except (ValueError, OverflowError):
        return math.inf


_erf_exact = _vec(math.erf)
# erf of float32 and narrower, in float64, by two fits made for ndgrad (weighted least squares iterated to
# near-minimax on Chebyshev nodes against math.erf): below |x| = 0.75, erf(x) = x S(x^2) (relative error below
# 1.5e-9); above it, erf(x) = 1 - t e^(-x^2) C(t) with t = 1 / (1 + |x|/2) (absolute error below 1.1e-9). Both are
# far inside half a float32 unit, so the rounded result is the correctly rounded one but for near-ties.
_ERF_SMALL = (-0.000674951255143883, 0.005114345451180257, -0.02683462451790766, 0.11283376573265894,
              -0.3761261875664628, 1.1283791654964386)
_ERFC_LARGE = (-0.02331151256998672, -0.13624959690585114, 0.47936820273801894, 0.0732589247210813,
               0.3297863442014148, 0.27690658463320084)


def _horner(coefs: tuple, v: np.ndarray) -> np.ndarray:
    """sum(c v^k) for coefficients from the highest power down, in place in one fresh array."""
    p = np.multiply(v, coefs[0])
    p += coefs[1]
    for c in coefs[2:]:
        p *= v
        p += c
    return p


def _erf_low_precision(x):
    """erf of float32/float16/bfloat16 values, vectorised (math.erf element by element, kept for float64, made
    GELU networks spend most of their time here). The small-|x| fit runs on every element, in place after its
    first pass; the large-|x| fit (with its exp) only on the elements at or above 0.75, gathered and put back,
    which costs less than computing it everywhere and selecting. One opaque call for `compile`'s tracer (the
    gather's size depends on the data)."""
    if x.ndim == 0:  # (ufuncs give 0-d results as scalars, which cannot be written in place)
        return _erf_low_precision(x.reshape(1)).reshape(())
    if not x.flags.c_contiguous:  # (the gather works on flat indices in C order; the result keeps x's layout)
        res = np.empty_like(x)
        res[...] = _erf_low_precision(np.ascontiguousarray(x))
        return res
    a = x.astype(np.float64)
    with quiet():
        out = _horner(_ERF_SMALL, np.multiply(a, a))
        out *= a
        big = np.flatnonzero(np.abs(a) >= 0.75)  # (NaN stays with the small fit, which keeps it)
        if big.size:
            al = a.ravel().take(big)
            t = np.abs(al)
            t *= 0.5
            t += 1.0
            np.reciprocal(t, out=t)
            large = _horner(_ERFC_LARGE, t)
            large *= t
            e = np.multiply(al, al)
            np.negative(e, out=e)
            np.exp(e, out=e)
            large *= e
            np.subtract(1.0, large, out=large)
            np.copysign(large, al, out=large)
            out.ravel()[big] = large  # (out is a fresh contiguous array: ravel is a view)
    return out.astype(x.dtype)


def _erf(x):
    x = np.asarray(x)
    if x.dtype.kind == "V" or x.dtype in (np.float32, np.float16):
        return _erf_low_precision(x)
    return _erf_exact(x)


_erfc = _vec(math.erfc)
_lgamma = _vec(_lgamma1)


def _erfinv(x):
    x = np.asarray(x)
    dt = x.dtype
    a = x.astype(np.float64)
    with quiet():
        # Giles' approximation (single precision) as the start ...
        w = -np.log((1.0 - a) * (1.0 + a))
        small = w < 5.0
        ws = w - 2.5
        p = 2.81022636e-08
        for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
                  -0.00417768164, 0.246640727, 1.50140941):
            p = c + p * ws
        wl = np.sqrt(w) - 3.0
        q = -0.000200214257
        for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
                  0.00943887047, 1.00167406, 2.83297682):
            q = c + q * wl
        y = np.where(small, p, q) * a
        # ... then Newton on erf(y) = x
        fin = np.isfinite(y)
        for _ in range(3):
            yy = np.where(fin, y, 0.0)
            e = _erf(yy) - a
            y = np.where(fin, yy - e / (_TWO_OVER_SQRT_PI * np.exp(-yy * yy)), y)
        y = np.where(a == 1.0, np.inf, np.where(a == -1.0, -np.inf, y))
        y = np.where(np.abs(a) > 1.0, np.nan, y)
    return np.asarray(y).astype(dt, copy=False)


def _digamma(x):
    x = np.asarray(x)
    dt = x.dtype
    a = x.astype(np.float64)
    with quiet():
        neg = a < 0
        # reflection: psi(x) = psi(1 - x) - pi / tan(pi x) for x < 0
        z = np.where(neg, 1.0 - a, a)
        acc = np.zeros_like(z)
        z = np.where(np.isfinite(z), z, 10.0) if z.size else z
        while z.size and np.any(z < 10.0):
            m = z < 10.0
            acc = acc - np.where(m, 1.0 / np.where(m, z, 1.0), 0.0)
            z = np.where(m, z + 1.0, z)
        z2 = 1.0 / (z * z)
        series = z2 * (1 / 12 - z2 * (1 / 120 - z2 * (1 / 252 - z2 * (1 / 240 - z2 * (1 / 132 - z2 * (
            691 / 32760 - z2 / 12))))))
        r = np.log(z) - 0.5 / z - series + acc
        # pi/tan(pi x), reduced so that tan sees an argument in [-pi/2, pi/2]
        frac = a - np.round(a)
        r = np.where(neg, r - _PI / np.tan(_PI * frac), r)
        r = np.where(a == 0, np.copysign(np.inf, -a), r)
        r = np.where(neg & (a == np.floor(a)), np.nan, r)
        r = np.where(np.isnan(a), np.nan, r)
        r = np.where(a == np.inf, np.inf, r)
        r = np.where(a == -np.inf, np.nan, r)
    return np.asarray(r).astype(dt, copy=False)


# Bernoulli numbers B2, B4, ... B14 for the asymptotic series of polygamma
_B2K = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6)


def _cot_derivative_poly(n):
    """Coefficients of P_n with d^n/dx^n cot(pi x) = pi^n P_n(cot(pi x)): P_0 = c, P_k+1 = -(1 + c^2) P_k'."""
    p = np.array([0.0, 1.0])
    P = np.polynomial.polynomial
    for _ in range(n):
        p = -P.polymul([1.0, 0.0, 1.0], P.polyder(p))
    return p


def _polygamma_pos(a, n):
    """polygamma(n, a) for finite a >= 0 (not a pole): recurrence up to a >= 20, then the asymptotic series."""
    fact = math.factorial(n)
    z = a
    acc = np.zeros_like(z)
    while z.size and np.any(z < 20.0):
        m = z < 20.0
        acc = acc + np.where(m, 1.0 / np.where(m, z, 1.0) ** (n + 1), 0.0)
        z = np.where(m, z + 1.0, z)
    s = math.factorial(n - 1) / z ** n + fact / (2.0 * z ** (n + 1))
    for k, b in enumerate(_B2K, start=1):
        s = s + b * math.factorial(2 * k + n - 1) / math.factorial(2 * k) / z ** (2 * k + n)
    return (1.0 if n % 2 == 1 else -1.0) * (s + fact * acc)


def _polygamma_fwd(x, n):
    """polygamma(n, x) for n >= 1; negative x through the reflection formula
    (-1)^n psi_n(1 - x) - psi_n(x) = pi d^n/dx^n cot(pi x)."""
    x = np.asarray(x)
    dt = x.dtype
    a = x.astype(np.float64)
    n = int(n)
    with quiet():
        pole = np.isfinite(a) & (a <= 0) & (a == np.floor(a))
        bad = ~np.isfinite(a) | pole
        neg = (a < 0) & ~bad
        z = np.where(bad, 30.0, np.where(neg, 1.0 - a, a))
        r = _polygamma_pos(z, n)
        if np.any(neg):
            frac = a - np.round(a)
            c = 1.0 / np.tan(_PI * np.where(neg, frac, 0.25))
            d = np.polynomial.polynomial.polyval(c, _cot_derivative_poly(n))
            r = np.where(neg, (-1.0) ** n * r - _PI ** (n + 1) * d, r)
        r = np.where(bad, np.where(a == np.inf, 0.0, np.nan), r)
        r = np.where(pole, np.inf if n % 2 == 1 else -np.inf, r)
    return np.asarray(r).astype(dt, copy=False)


# -- ops ---------------------------------------------------------------------------------------------------
def _sq(x):
    return x * x


atan2_op = Op("atan2", np.arctan2, ("self", "other"), dtype=PROMOTE_FLOAT)
atan2_op.defvjp(self=lambda grad, self, other: grad * other / (self * self + other * other),   # y/(x²+y²)
                other=lambda grad, self, other: -grad * self / (self * self + other * other))

hypot_op = Op("hypot", _float_only(np.hypot, "hypot_cpu"), ("self", "other"))
hypot_op.defvjp(self=lambda grad, self, result: grad * self / result,      # d/dx √(x²+y²) = x/r
                other=lambda grad, other, result: grad * other / result)

erf_op = Op("erf", _erf, ("self",), dtype=FLOAT)
erf_op.defvjp(self=lambda grad, self: grad * (exp(-(self * self)) * _TWO_OVER_SQRT_PI))  # 2/√π e^(-x²)
erfc_op = Op("erfc", _erfc, ("self",), dtype=FLOAT)
erfc_op.defvjp(self=lambda grad, self: grad * (exp(-(self * self)) * -_TWO_OVER_SQRT_PI))
erfinv_op = Op("erfinv", _erfinv, ("self",), dtype=FLOAT)
erfinv_op.defvjp(self=lambda grad, result: grad * (exp(result * result) * (_SQRT_PI / 2)))  # √π/2 e^(y²)

polygamma_op = Op("polygamma", _polygamma_fwd, ("self",), ("n",), dtype=FLOAT)
polygamma_op.defvjp(self=lambda grad, self, n: grad * polygamma_op(self, n + 1))  # ψ⁽ⁿ⁾' = ψ⁽ⁿ⁺¹⁾
digamma_op = Op("digamma", _digamma, ("self",), dtype=FLOAT)
digamma_op.defvjp(self=lambda grad, self: grad * polygamma_op(self, 1))  # ψ' = ψ⁽¹⁾
lgamma_op = Op("lgamma", _lgamma, ("self",), dtype=FLOAT)
lgamma_op.defvjp(self=lambda grad, self: grad * digamma_op(self))  # d/dx ln Γ(x) = ψ(x)


def _logaddexp(a, b):
    m = np.maximum(a, b)
    r = m + np.log1p(np.exp(-np.abs(a - b)))
    return np.where(np.isinf(a) & (a == b), a, r).astype(m.dtype, copy=False)


def _logaddexp2(a, b):
    m = np.maximum(a, b)
    r = m + np.log1p(np.exp2(-np.abs(a - b))) / _LN2
    return np.where(np.isinf(a) & (a == b), a, r).astype(m.dtype, copy=False)


logaddexp_op = Op("logaddexp", _float_only(_logaddexp, "logaddexp_cpu"), ("self", "other"))
logaddexp_op.defvjp(self=lambda grad, self, other: grad * sigmoid(self - other),   # e^x/(e^x+e^y)
                    other=lambda grad, self, other: grad * sigmoid(other - self))
logaddexp2_op = Op("logaddexp2", _float_only(_logaddexp2, "logaddexp2_cpu"), ("self", "other"),
                   node="Logaddexp2Backward0")
logaddexp2_op.defvjp(self=lambda grad, self, other: grad * sigmoid((self - other) * _LN2),
                     other=lambda grad, self, other: grad * sigmoid((other - self) * _LN2))


def _logit(x, eps):
    if eps is not None:
        x = np.clip(x, eps, 1 - eps).astype(x.dtype, copy=False)
    return np.log(x / (1 - x))


def _logit_grad(grad, self, eps):
    # d/dx ln(x/(1-x)) = 1/(x(1-x)); 0 outside [eps, 1-eps] where the input was clamped
    g = grad / (self * (1 - self))
    if eps is None:
        return g
    return where((self < eps) | (self > 1 - eps), 0.0, g)


logit_op = Op("logit", _logit, ("self",), ("eps",), dtype=FLOAT)
logit_op.defvjp(self=_logit_grad)


def _xlogy(self, other):
    # a Python-number operand takes the tensor's dtype (NumPy would widen with np.log's float64 scalar)
    if not isinstance(self, np.ndarray) and isinstance(other, np.ndarray):
        self = np.asarray(self, other.dtype)
    elif not isinstance(other, np.ndarray) and isinstance(self, np.ndarray) and self.dtype.kind in "fcV":
        other = np.asarray(other, self.dtype)
    with quiet():
        r = np.multiply(self, np.log(other))
    return np.where((np.asarray(self) == 0) & ~np.isnan(other), 0, r).astype(r.dtype, copy=False)


def _xlogy_self_grad(grad, self, other):
    # d/dx x ln y = ln y; torch takes it as 0 where x = 0 and y <= 0
    return where((self == 0) & (other <= 0), 0.0, xlogy_op(grad, other))


xlogy_op = Op("xlogy", _xlogy, ("self", "other"), dtype=PROMOTE_FLOAT)
xlogy_op.defvjp(self=_xlogy_self_grad,
                other=lambda grad, self, other: grad * self / other)  # d/dy x ln y = x/y
xlogy_ts = Op("xlogy", _xlogy, ("self", "other"), dtype=PROMOTE_FLOAT, node="XlogyBackward2")
xlogy_ts.defvjp(self=_xlogy_self_grad)
xlogy_st = Op("xlogy", _xlogy, ("self", "other"), dtype=PROMOTE_FLOAT, node="XlogyBackward1")
xlogy_st.defvjp(other=lambda grad, self, other: grad * self / other)


def _sinc(x):
    return np.sinc(x).astype(x.dtype, copy=False)


def _sinc_grad(grad, self):
    # d/dx sin(πx)/(πx) = (πx cos πx - sin πx)/(πx²), 0 at 0
    px = self * _PI
    return where(self == 0, 0.0, grad * ((px * cos(px) - sin(px)) / (px * self)))


sinc_op = Op("sinc", _sinc, ("self",), dtype=FLOAT)
sinc_op.defvjp(self=_sinc_grad)

frac_op = Op("frac", _float_only(lambda x: x - np.trunc(x), "frac_cpu"), ("self",), dtype=SAME)
frac_op.defvjp(self=lambda grad: grad)  # d/dx (x - trunc x) = 1


def _round0(x):
    if x.dtype == np.bool_:
        raise NotImplementedError('"round_vml_cpu" not implemented for \'Bool\'')
    return x.copy() if x.dtype.kind in "iu" else np.round(x)


def _round_dec(x, decimals):
    if x.dtype.kind not in "fcV":
        raise NotImplementedError(f'"round_cpu" not implemented for \'{_tname(x.dtype)}\'')
    if decimals == 0:
        return np.round(x)
    if decimals > 0:
        s = np.asarray(10.0 ** decimals, x.dtype)
        return (np.round(x * s) / s).astype(x.dtype, copy=False)
    s = np.asarray(10.0 ** -decimals, x.dtype)
    return (np.round(x / s) * s).astype(x.dtype, copy=False)


round_op = Op("round", _round0, ("self",), dtype=SAME)
round_op.defvjp(self=lambda grad: zeros_like(grad))  # piecewise constant
round_dec_op = Op("round", _round_dec, ("self",), ("decimals",), dtype=SAME, node="RoundBackward1")
round_dec_op.defvjp(self=lambda grad: zeros_like(grad))

isfinite_op = Op("isfinite", lambda x: np.isfinite(x) if x.dtype != np.bool_ else np.ones(x.shape, np.bool_),
                 ("self",), dtype=SAME)


def _nan_to_num(x, nan, posinf, neginf):
    if x.dtype.kind not in "fcV":
        return x.copy()
    return np.nan_to_num(x, nan=0.0 if nan is None else nan, posinf=posinf, neginf=neginf)


nan_to_num_op = Op("nan_to_num", _nan_to_num, ("self",), ("nan", "posinf", "neginf"), dtype=SAME,
                   node="NanToNumBackward0")
nan_to_num_op.defvjp(self=lambda grad, self: where(isfinite_op(self), grad, 0.0))  # 1 where x is finite

copysign_op = Op("copysign", np.copysign, ("self", "other"), dtype=PROMOTE_FLOAT)
copysign_op.defvjp(self=lambda grad, self, result: grad * (sign(self) * sign(result)),  # ±1, 0 at x = 0
                   other=lambda grad: zeros_like(grad))
copysign_ts = Op("copysign", np.copysign, ("self", "other"), dtype=PROMOTE_FLOAT, node="CopysignBackward1")
copysign_ts.defvjp(self=lambda grad, self, result: grad * (sign(self) * sign(result)))


def _softplus(x, beta, threshold):
    with quiet():
        bx = x * beta
        return np.where(bx > threshold, x, np.log1p(np.exp(bx)) / beta).astype(x.dtype, copy=False)


softplus_op = Op("softplus", _float_only(_softplus, "softplus_cpu"), ("self",), ("beta", "threshold"),
                 dtype=SAME)
# d/dx log(1 + e^(βx))/β = σ(βx); 1 above the threshold (where the result is x itself)
softplus_op.defvjp(self=lambda grad, self, beta, threshold: where(self * beta > threshold, grad,
                                                                 grad * sigmoid(self * beta)))


def _heaviside(self, values):
    return np.where(self == 0, values, self > 0).astype(self.dtype, copy=False)


heaviside_op = Op("heaviside", _heaviside, ("self", "values"), node="NotImplemented", dtype=NONE)
heaviside_op.defvjp(self=_no_derivative("heaviside"), values=_no_derivative("heaviside"))


def _lerp(self, end, weight):
    # torch's formula, exact at both ends: self + w (end - self) for |w| < 0.5, else end - (end - self)(1 - w),
    # each one fused multiply-add (see pointwise.fma)
    dt = np.result_type(self, end)
    if _fused_dtype(dt):
        # (end - self in float32, torch's compute type, also for half-precision tensors)
        d = np.asarray(end).astype(np.float32) - np.asarray(self).astype(np.float32)
        if isinstance(weight, np.ndarray) and weight.ndim:
            w = weight.astype(np.float32) if weight.dtype != np.float32 else weight
            one_minus = np.subtract(np.float32(1), w)
            r = select(np.abs(w) < 0.5, fma(self, w, d), fma(end, np.negative(one_minus), d))
            return np.asarray(r).astype(dt, copy=False)
        w = np.float32(weight)
        r = fma(self, w, d) if abs(w) < 0.5 else fma(end, -(np.float32(1) - w), d)
        return np.asarray(r).astype(dt, copy=False)
    d = end - self
    w = np.asarray(weight)
    r = np.where(np.abs(w) < 0.5, self + w * d, end - d * (1 - w))
    return r.astype(dt, copy=False)


lerp_s = Op("lerp", _lerp, ("self", "end"), ("weight",), node="LerpBackward0")
lerp_s.defvjp(self=lambda grad, weight: grad * (1 - weight),   # d/da (a + w(b - a)) = 1 - w
              end=lambda grad, weight: grad * weight)          # d/db = w
lerp_t = Op("lerp", _lerp, ("self", "end", "weight"), node="LerpBackward1")
lerp_t.defvjp(self=lambda grad, weight: grad * (1 - weight),
              end=lambda grad, weight: grad * weight,
              weight=lambda grad, self, end: grad * (end - self))  # d/dw = b - a

def _int_value(x, value):
    """torch casts `value` to the result dtype: an integer result truncates it."""
    k = np.asarray(x).dtype.kind
    return int(value) if k in "iu" else builtins.bool(value) if k == "b" else value


def _addcmul(self, t1, t2, value):
    # torch: fma(value * t1, t2, self) in float32 and narrower (see pointwise.fma)
    dt = np.result_type(self, t1, t2)
    if _fused_dtype(dt):
        # (value * t1 in float32, torch's compute type, also for half-precision tensors)
        vt1 = np.multiply(np.asarray(t1).astype(np.float32, copy=False), np.float32(value))
        return fma(self, vt1, t2).astype(dt, copy=False)
    return self + _int_value(self, value) * (t1 * t2)


def _addcdiv(self, t1, t2, value):
    # torch: self + (value * t1) / t2, each rounded, in float32 for half-precision tensors (rounded once at the end)
    dt = np.result_type(self, t1, t2)
    if dt.kind == "V" or (dt.kind == "f" and dt.itemsize < 4):
        f = np.float32
        r = np.asarray(self).astype(f) + (f(value) * np.asarray(t1).astype(f)) / np.asarray(t2).astype(f)
        return r.astype(dt)
    return self + (value * t1) / t2


addcmul_op = Op("addcmul", _addcmul, ("self", "tensor1", "tensor2"), ("value",))
addcmul_op.defvjp(self=lambda grad: grad,
                  tensor1=lambda grad, tensor2, value: grad * tensor2 * value,   # d/dt1 = v t2
                  tensor2=lambda grad, tensor1, value: grad * tensor1 * value)   # d/dt2 = v t1
addcdiv_op = Op("addcdiv", _addcdiv, ("self", "tensor1", "tensor2"), ("value",))
addcdiv_op.defvjp(self=lambda grad: grad,
                  tensor1=lambda grad, tensor2, value: grad * value / tensor2,                     # v/t2
                  tensor2=lambda grad, tensor1, tensor2, value: -grad * value * tensor1 / (tensor2 * tensor2))


# -- public functions ------------------------------------------------------------------------------------
def _same_dtype(name, a: Tensor, b: Tensor, what: str):
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"expected dtype {b.dtype} for `{what}` but got dtype {a.dtype}"
                           if name == "lerp" else f"{name} is not yet implemented for tensors with different dtypes.")


def atan2(input: Tensor, other: Tensor, *, out: Any = None) -> Tensor:
    """Mirrors `torch.atan2`."""
    return atan2_op(_t(input, "atan2"), _t(other, "atan2", "other", 2))


arctan2 = atan2


def hypot(input: Tensor, other: Tensor, *, out: Any = None) -> Tensor:
    """Mirrors `torch.hypot`."""
    return hypot_op(_t(input, "hypot"), _t(other, "hypot", "other", 2))


def erf(input: Tensor, *, out: Any = None) -> Tensor:
    """Mirrors `torch.erf`."""
    return erf_op(_t(input, "erf"))


def erfc(input: Tensor, *, out: Any = None) -> Tensor:
    """Mirrors `torch.erfc`."""
    return erfc_op(_t(input, "erfc"))


def erfinv(input: Tensor, *, out: Any = None) -> Tensor:
    """Mirrors `torch.erfinv`."""
    return erfinv_op(_t(input, "erfinv"))


def lgamma(input: Tensor, *, out: Any = None) -> Tensor:
    """Mirrors `torch.lgamma`."""
    return lgamma_op(_t(input, "lgamma"))


def digamma(input: Tensor, *, out: Any = None) -> Tensor:
    """Mirrors `torch.digamma`."""
    return digamma_op(_t(input, "digamma"))


def logaddexp(input: Tensor, other: Tensor, *, out: Any = None) -> Tensor:
    """Mirrors `torch.logaddexp`: log(e^x + e^y)."""
    return logaddexp_op(_t(input, "logaddexp"), _t(other, "logaddexp", "other", 2))


def logaddexp2(input: Tensor, other: Tensor, *, out: Any = None) -> Tensor:
    """Mirrors `torch.logaddexp2`: log2(2^x + 2^y)."""
    return logaddexp2_op(_t(input, "logaddexp2"), _t(other, "logaddexp2", "other", 2))


def logit(input: Tensor, eps: float | None = None, *, out: Any = None) -> Tensor:
    """Mirrors `torch.logit`."""
    return logit_op(_t(input, "logit"), None if eps is None else float(eps))


def xlogy(input: Any, other: Any, *, out: Any = None) -> Tensor:
    """Mirrors `torch.xlogy`: x * log(y), 0 where x == 0."""
    if isinstance(input, Tensor):
        return xlogy_op(input, other) if isinstance(other, Tensor) else xlogy_ts(input, other)
    if isinstance(other, Tensor):
        if isinstance(input, bool) or not isinstance(input, (int, float)):
            raise TypeError(f"xlogy(): argument 'self' must be Number, not {type(input).__name__}")
        return xlogy_st(input, other)
    raise TypeError(f"xlogy() received an invalid combination of arguments - got ({type(input).__name__}, "
                    f"{type(other).__name__})")


def sinc(input: Tensor, *, out: Any = None) -> Tensor:
    """Mirrors `torch.sinc`: sin(πx)/(πx)."""
    return sinc_op(_t(input, "sinc"))


def square(input: Tensor, *, out: Any = None) -> Tensor:
    """Mirrors `torch.square` (pow(x, 2), so its node is PowBackward0; bool gives int64)."""
    _t(input, "square")
    if input._data.dtype == np.bool_:
        input = _wrap(input._data.astype(np.int64))
    return pow(input, 2)


def frac(input: Tensor, *, out: Any = None) -> Tensor:
    """Mirrors `torch.frac`: x - trunc(x)."""
    return frac_op(_t(input, "frac"))


_UNSET = object()


def round(input: Tensor, *, decimals: Any = _UNSET, out: Any = None) -> Tensor:
    """Mirrors `torch.round` (half to even, as torch); an explicit `decimals` is torch's RoundBackward1."""
    _t(input, "round")
    if decimals is _UNSET:
        return round_op(input)
    if isinstance(decimals, builtins.bool) or not isinstance(decimals, (int, np.integer)):
        raise TypeError(f"round() received an invalid combination of arguments - got (Tensor, decimals="
                        f"{type(decimals).__name__})")
    return round_dec_op(input, int(decimals))


def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None, *,
               out: Any = None) -> Tensor:
    """Mirrors `torch.nan_to_num`."""
    return nan_to_num_op(_t(input, "nan_to_num"), nan, posinf, neginf)


def copysign(input: Tensor, other: Any, *, out: Any = None) -> Tensor:
    """Mirrors `torch.copysign`."""
    _t(input, "copysign")
    return copysign_op(input, other) if isinstance(other, Tensor) else copysign_ts(input, other)


def softplus(input: Tensor, beta: float = 1, threshold: float = 20) -> Tensor:
    """Mirrors `torch.nn.functional.softplus`: log(1 + e^(βx))/β, x itself where βx > threshold."""
    return softplus_op(_t(input, "softplus"), beta, threshold)


def heaviside(input: Tensor, values: Tensor, *, out: Any = None) -> Tensor:
    """Mirrors `torch.heaviside` (no derivative, as torch)."""
    _t(input, "heaviside")
    _t(values, "heaviside", "values", 2)
    _same_dtype("heaviside", input, values, "values")
    return heaviside_op(input, values)


def lerp(input: Tensor, end: Tensor, weight: Any, *, out: Any = None) -> Tensor:
    """Mirrors `torch.lerp`: input + weight * (end - input), weight a number or a tensor."""
    _t(input, "lerp")
    _t(end, "lerp", "end", 2)
    if input._data.dtype.kind not in "fcV":
        raise NotImplementedError(f'"lerp_kernel_{"tensor" if isinstance(weight, Tensor) else "scalar"}" not '
                                  f"implemented for '{_tname(input._data.dtype)}'")
    _same_dtype("lerp", end, input, "end")
    if isinstance(weight, Tensor):
        if weight._data.ndim:
            _same_dtype("lerp", weight, input, "weight")
        elif weight._data.dtype != input._data.dtype:  # a 0-d weight takes the input's dtype
            from .pointwise import cast
            weight = cast(weight, input._data.dtype)
        return lerp_t(input, end, weight)
    return lerp_s(input, end, weight)


def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1, out: Any = None) -> Tensor:
    """Mirrors `torch.addcmul`: input + value * tensor1 * tensor2."""
    _t(input, "addcmul")
    if input._data.dtype == np.bool_ and _t(tensor1, "addcmul", "tensor1", 2)._data.dtype == np.bool_ and \
            _t(tensor2, "addcmul", "tensor2", 3)._data.dtype == np.bool_:
        raise NotImplementedError('"addcmul_cpu_out" not implemented for \'Bool\'')
    if value.__class__ is int and input._data.dtype.kind in "iu":
        value = D.checked_fill(value, input._data.dtype)  # (torch's overflow check of an integer value)
    return addcmul_op(_t(input, "addcmul"), _t(tensor1, "addcmul", "tensor1", 2), _t(tensor2, "addcmul", "tensor2", 3),
                      value)


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1, out: Any = None) -> Tensor:
    """Mirrors `torch.addcdiv`: input + value * tensor1 / tensor2."""
    _t(input, "addcdiv")
    _t(tensor1, "addcdiv", "tensor1", 2)
    _t(tensor2, "addcdiv", "tensor2", 3)
    if tensor1._data.dtype.kind in "biu" and tensor2._data.dtype.kind in "biu":
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a future release addcdiv "
                           "will perform a true division of tensor1 and tensor2. The historic addcdiv behavior can "
                           "be implemented as (input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for "
                           "integer inputs and as (input + value * tensor1 / tensor2) for float inputs. The future "
                           "addcdiv behavior is just the latter implementation: (input + value * tensor1 / "
                           "tensor2), for all dtypes.")
    return addcdiv_op(input, tensor1, tensor2, value)


# -- predicates (bool results, no derivative) ------------------------------------------------------------
def _pred(name, fn):
    def f(input: Tensor) -> Tensor:
        a = _t(input, name)._data
        return _wrap(np.asarray(fn(a)))
    f.__name__ = name
    f.__doc__ = f"Mirrors `torch.{name}`."
    return f


def _real_only(fn, default):
    return lambda a: fn(a) if a.dtype.kind in "fcV" else np.full(a.shape, default, np.bool_)


isnan = _pred("isnan", _real_only(np.isnan, False))
isinf = _pred("isinf", _real_only(np.isinf, False))
isfinite = _pred("isfinite", _real_only(np.isfinite, True))
isposinf = _pred("isposinf", _real_only(np.isposinf, False))
isneginf = _pred("isneginf", _real_only(np.isneginf, False))
isreal = _pred("isreal", lambda a: np.isreal(a) if a.dtype.kind == "c" else np.ones(a.shape, np.bool_))
signbit = _pred("signbit", lambda a: np.signbit(a) if a.dtype != np.bool_ else np.zeros(a.shape, np.bool_))


def _promote_pair(a: np.ndarray, b: np.ndarray):
    if a.dtype != b.dtype:
        t = np.promote_types(a.dtype, b.dtype)
        return a.astype(t), b.astype(t)
    return a, b


def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
    """Mirrors `torch.isclose`: |x - y| <= atol + rtol |y|."""
    a, b = _t(input, "isclose")._data, _t(other, "isclose", "other", 2)._data
    if a.dtype != b.dtype:
        raise RuntimeError(f"{input.dtype} did not match {other.dtype}")
    from ._registry import _check_broadcast
    _check_broadcast(a.shape, b.shape)
    if a.dtype == np.bool_:
        return _wrap(np.asarray(np.broadcast_arrays(a, b)[0] == b))
    if a.dtype.kind in "iu" and (rtol != 0 or atol != 0):
        a, b = a.astype(np.float64), b.astype(np.float64)
    return _wrap(np.asarray(np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)))


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    """Mirrors `torch.allclose`."""
    return builtins.bool(np.all(isclose(input, other, rtol, atol, equal_nan)._data))


def equal(input: Tensor, other: Tensor) -> bool:
    """Mirrors `torch.equal`: same shape and same values."""
    a, b = _t(input, "equal")._data, _t(other, "equal", "other", 2)._data
    if a.shape != b.shape:
        return False
    a, b = _promote_pair(a, b)
    return builtins.bool(np.array_equal(a, b))


def _reduce_bool(name, fn):
    def f(input: Tensor, dim: Any = None, keepdim: bool = False, *, out: Any = None) -> Tensor:
        a = _t(input, name)._data
        if dim is None:
            axis = None
            if keepdim:
                axis = tuple(range(a.ndim))
        else:
            dims = (dim,) if isinstance(dim, int) else tuple(dim)
            axis = tuple(_wrap_dim(d, a.ndim) for d in dims)
            if a.ndim == 0:
                axis = ()
        r = np.asarray(fn(a, axis=axis, keepdims=keepdim) if axis != () else a.astype(np.bool_))
        return _wrap(r.astype(np.uint8 if a.dtype == np.uint8 else np.bool_))
    f.__name__ = name
    f.__doc__ = f"Mirrors `torch.{name}` (dim may be an int or a tuple; uint8 input gives uint8, as torch)."
    return f


all = _reduce_bool("all", np.all)
any = _reduce_bool("any", np.any)


__all__ = ["atan2", "arctan2", "hypot", "erf", "erfc", "erfinv", "lgamma", "digamma", "logaddexp", "logaddexp2",
           "logit", "xlogy", "sinc", "square", "frac", "round", "nan_to_num", "copysign", "heaviside",
           "lerp", "addcmul", "addcdiv", "isnan", "isinf", "isfinite", "isposinf", "isneginf", "isreal", "isclose",
           "allclose", "equal", "all", "any", "signbit"]


def _inplace(fn):
    def m(self, *args, **kwargs):
        self._check_inplace()
        return self._set_inplace(fn(self, *args, **kwargs))
    m.__name__ = fn.__name__ + "_"
    return m


def _method(fn):
    def m(self, *args, **kwargs):
        return fn(self, *args, **kwargs)
    m.__name__ = fn.__name__
    m.__doc__ = fn.__doc__
    return m


_METHOD_NAMES = [n for n in __all__ if n != "softplus"]
_INPLACE_NAMES = ["atan2", "arctan2", "hypot", "erf", "erfc", "erfinv", "lgamma", "digamma", "logit", "xlogy", "sinc",
                  "square", "frac", "round", "nan_to_num", "copysign", "heaviside", "lerp", "addcmul", "addcdiv"]
METHODS: dict = {n: _method(globals()[n]) for n in _METHOD_NAMES}
METHODS.update({n + "_": _inplace(globals()[n]) for n in _INPLACE_NAMES})


# -- forward mode (autograd/forward_ad.py): how each op's jvp is derived; ops not listed transpose their vjp
for _op in (atan2_op, hypot_op, erf_op, erfc_op, erfinv_op, polygamma_op, digamma_op, lgamma_op, logaddexp_op,
            logaddexp2_op, logit_op, xlogy_op, xlogy_ts, xlogy_st, sinc_op, frac_op, round_op, round_dec_op,
            nan_to_num_op, copysign_op, copysign_ts, softplus_op, heaviside_op, lerp_s, lerp_t, addcmul_op, addcdiv_op):
    _op.defjvp(elementwise=True)
