"""The differentiable ops behind `ndgrad.special` that the other families do not already have: erfcx,
ndtr/ndtri/log_ndtr, i0/i0e/i1/i1e, Hurwitz zeta, the regularized incomplete gamma functions, xlog1py, entr,
mvlgamma and polygamma's public entry point. The kernels (NumPy, float64-accurate) are in
`_specfun_kernels.py`; the functions torch does not differentiate (J/Y, I/K, Airy, the orthogonal polynomials)
are ops without formulas built in `ndgrad/special.py`, which loads lazily.

Differentiability, node names and errors are torch's: the Bessel/Airy/polynomial families give outputs that
do not require grad; `zeta` and `igamma(c)` have a node but refuse the derivative for their first argument
with NotImplementedError; the others have derivative formulas written in ndgrad ops (so gradgradcheck and
forward mode work), each with its torch node name (`SpecialI0EBackward0`, `SpecialXlog1PyBackward1`...).
`ndtr` is one op here (torch composes it, so its node is `MulBackward1`): its tails are then accurate.
"""
from __future__ import annotations

import builtins
import math
from typing import Any

import numpy as np

from .._quiet import quiet
from .._tensor import Tensor
from . import _specfun_kernels as K
from ._registry import FLOAT, PROMOTE, PROMOTE_FLOAT, Op
from .pointwise import cast, exp, log, sign, where
from .special import _digamma, _polygamma_fwd, digamma_op, lgamma_op, polygamma_op

_SQRT_2PI = math.sqrt(2 * math.pi)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_LOG_PI = math.log(math.pi)
_TNAME = {"b1": "Bool", "u1": "Byte", "i1": "Char", "i2": "Short", "i4": "Int", "i8": "Long", "f2": "Half",
          "f4": "Float", "f8": "Double", "c8": "ComplexFloat", "c16": "ComplexDouble"}


def _tname(dt: np.dtype) -> str:
    return _TNAME.get(f"{dt.kind}{dt.itemsize}", str(dt))


def _refuse(kernel: str, dt: np.dtype) -> None:
    raise NotImplementedError(f'"{kernel}" not implemented for \'{_tname(dt)}\'')


def _unary(fn, kernel: str, half: bool = False):
    """Forward of a float kernel: refuses complex (and float16 unless `half`), runs in float64."""
    def f(x):
        x = np.asarray(x)
        dt = x.dtype
        if dt.kind == "c" or (dt == np.float16 and not half) or dt.kind not in "fc":
            _refuse(kernel, dt)
        r = fn(x.astype(np.float64).reshape(-1)).reshape(x.shape)
        return r.astype(dt, copy=False)
    return f


def _binary(fn, kernel: str, half: bool = False, native: bool = False):
    """Forward of a two-argument float kernel; a Python number operand takes the tensor's dtype. `native`:
    the kernel computes in the operands' dtype (float32 stays float32) instead of float64."""
    def f(a, b):
        dt = a.dtype if isinstance(a, np.ndarray) else np.asarray(b).dtype
        if isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype != b.dtype:
            dt = np.promote_types(a.dtype, b.dtype)
        if dt.kind == "c" or (dt == np.float16 and not half) or dt.kind not in "fc":
            _refuse(kernel, dt)
        w = dt if native else np.float64
        a64, b64 = np.broadcast_arrays(np.asarray(a, w), np.asarray(b, w))
        shape = a64.shape
        r = fn(a64.reshape(-1), b64.reshape(-1)).reshape(shape)
        return r.astype(dt, copy=False)
    return f


def _not_implemented(what: str):
    def f(grad):
        raise NotImplementedError(f"the derivative for '{what}' is not implemented.")
    return f


# -- differentiable unary ops --------------------------------------------------------------------------------
erfcx_op = Op("special_erfcx", _unary(K.erfcx, "erfcx_cpu"), ("self",), dtype=FLOAT, node="SpecialErfcxBackward0")
# d/dx e^(x²) erfc(x) = 2x erfcx(x) - 2/√π
erfcx_op.defvjp(self=lambda grad, self, result: grad * (2.0 * self * result - _TWO_OVER_SQRT_PI))

ndtr_op = Op("special_ndtr", _unary(K.ndtr, "erf_vml_cpu", half=True), ("self",), dtype=FLOAT, node="MulBackward1")
ndtr_op.defvjp(self=lambda grad, self: grad * (exp(self * self * -0.5) / _SQRT_2PI))  # the normal density

log_ndtr_op = Op("special_log_ndtr", _unary(K.log_ndtr, "log_ndtr_cpu"), ("self",), dtype=FLOAT,
                 node="SpecialLogNdtrBackward0")
# φ(x)/Φ(x) = exp(-(log Φ(x) + x²/2)) / √(2π)
log_ndtr_op.defvjp(self=lambda grad, self, result: grad * (exp(-(result + self * self * 0.5)) / _SQRT_2PI))

ndtri_op = Op("special_ndtri", _unary(K.ndtri, "ndtri_cpu"), ("self",), dtype=FLOAT, node="SpecialNdtriBackward0")
ndtri_op.defvjp(self=lambda grad, result: grad * (exp(result * result * 0.5) * _SQRT_2PI))  # 1/φ(Φ⁻¹(p))

i0_op = Op("i0", _unary(K.i0, "i0_vml_cpu", half=True), ("self",), dtype=FLOAT, node="I0Backward0")
i0e_op = Op("special_i0e", _unary(K.i0e, "i0e_cpu", half=True), ("self",), dtype=FLOAT,
            node="SpecialI0EBackward0")
i1_op = Op("special_i1", _unary(K.i1, "i1_cpu", half=True), ("self",), dtype=FLOAT, node="SpecialI1Backward0")
i1e_op = Op("special_i1e", _unary(K.i1e, "i1e_cpu", half=True), ("self",), dtype=FLOAT,
            node="SpecialI1EBackward0")
i0_op.defvjp(self=lambda grad, self: grad * i1_op(self))                                  # I0' = I1
i0e_op.defvjp(self=lambda grad, self, result: grad * (i1e_op(self) - sign(self) * result))  # (e^-|x| I0)'
# I1' = I0 - I1/x, (e^-|x| I1)' = e^-|x| I0 - e^-|x| I1 (sgn x + 1/x); both 1/2 at 0
i1_op.defvjp(self=lambda grad, self, result: grad * where(self == 0, 0.5, i0_op(self) - result / self))
i1e_op.defvjp(self=lambda grad, self, result: grad * where(self == 0, 0.5, i0e_op(self) - result * (
    sign(self) + 1.0 / self)))

entr_op = Op("special_entr", _unary(K.entr, "entr_cpu", half=True), ("self",), dtype=FLOAT,
             node="SpecialEntrBackward0")
entr_op.defvjp(self=lambda grad, self: grad * -(1.0 + log(self)))  # d/dx -x ln x = -(1 + ln x)


def _mvlgamma_fwd(x, p):
    x = np.asarray(x)
    dt = x.dtype
    if dt.kind not in "f":
        _refuse("mvlgamma", dt)
    a = x.astype(np.float64).reshape(-1)
    r = np.full(a.shape, p * (p - 1) / 4.0 * _LOG_PI)
    for i in range(p):
        r = r + K.lgamma(a - i / 2.0)
    return r.reshape(x.shape).astype(dt, copy=False)


def _mvlgamma_grad(grad, self, p):
    s = digamma_op(self)
    for i in range(1, p):
        s = s + digamma_op(self - i / 2.0)
    return grad * s


mvlgamma_op = Op("mvlgamma", _mvlgamma_fwd, ("self",), ("p",), dtype=FLOAT, node="MvlgammaBackward0")
mvlgamma_op.defvjp(self=_mvlgamma_grad)  # Σ_i ψ(x - i/2)


def _polygamma_n(x, n):
    if x.dtype.kind not in "f":
        _refuse("digamma" if n == 0 else "trigamma" if n == 1 else "polygamma", x.dtype)
    if n < 2:
        return _digamma(x) if n == 0 else _polygamma_fwd(x, n)
    # torch computes n >= 2 as ±n! ζ(n+1, x): nan at +inf, and -inf counts as a pole
    r = _polygamma_fwd(x, n)
    return np.where(x == np.inf, np.nan, np.where(x == -np.inf, np.inf if n % 2 else -np.inf, r)).astype(
        r.dtype, copy=False)


# torch.polygamma(n, x) (n = 0 included) is PolygammaBackward0; Tensor.polygamma_(n) is PolygammaBackward1
polygamma_pub = Op("polygamma", _polygamma_n, ("self",), ("n",), dtype=FLOAT, node="PolygammaBackward0")
polygamma_pub.defvjp(self=lambda grad, self, n: grad * polygamma_op(self, n + 1))  # ψ⁽ⁿ⁾' = ψ⁽ⁿ⁺¹⁾
polygamma_inplace = Op("polygamma", _polygamma_n, ("self",), ("n",), dtype=FLOAT, node="PolygammaBackward1")
polygamma_inplace.defvjp(self=lambda grad, self, n: grad * polygamma_op(self, n + 1))


# -- differentiable binary ops -------------------------------------------------------------------------------
def _xlog1py(a, b):
    with quiet():
        r = a * np.log1p(b)
    return np.where((a == 0) & ~np.isnan(b), 0.0, r)


_xlog1py_fwd = _binary(_xlog1py, "xlog1py_cpu", half=True)


def _xlog1py_self(grad, self, other):
    # d/dx x log1p(y) = log1p(y); torch takes it as 0 where x = 0 and y <= -1
    return where((self == 0) & (other <= -1), 0.0, xlog1py_op(grad, other))


def _xlog1py_other(grad, self, other):
    return grad * self / (other + 1)  # d/dy x log1p(y) = x / (1 + y)


xlog1py_op = Op("special_xlog1py", _xlog1py_fwd, ("self", "other"), dtype=PROMOTE_FLOAT,
                node="SpecialXlog1PyBackward0")
xlog1py_op.defvjp(self=_xlog1py_self, other=_xlog1py_other)
xlog1py_st = Op("special_xlog1py", _xlog1py_fwd, ("self", "other"), dtype=PROMOTE_FLOAT,
                node="SpecialXlog1PyBackward1")
xlog1py_st.defvjp(other=_xlog1py_other)
xlog1py_ts = Op("special_xlog1py", _xlog1py_fwd, ("self", "other"), dtype=PROMOTE_FLOAT,
                node="SpecialXlog1PyBackward2")
xlog1py_ts.defvjp(self=_xlog1py_self)

_zeta_fwd = _binary(K.zeta, "zeta_cpu")


def _zeta_other(grad, self, other):
    return grad * -self * zeta_op(self + 1.0, other)  # ∂/∂q ζ(s, q) = -s ζ(s + 1, q)


zeta_op = Op("special_zeta", _zeta_fwd, ("self", "other"), dtype=PROMOTE_FLOAT, node="SpecialZetaBackward0")
zeta_op.defvjp(self=_not_implemented("zeta"), other=_zeta_other)
zeta_st = Op("special_zeta", _zeta_fwd, ("self", "other"), dtype=PROMOTE_FLOAT, node="SpecialZetaBackward1")
zeta_st.defvjp(other=_zeta_other)
zeta_ts = Op("special_zeta", _zeta_fwd, ("self", "other"), dtype=PROMOTE_FLOAT, node="SpecialZetaBackward2")
zeta_ts.defvjp(self=_not_implemented("zeta"))


def _igamma_density(self, other):
    # ∂P(a, x)/∂x = x^(a-1) e^-x / Γ(a); an integer `a` (saved as it was given) is cast to x's dtype first
    da, dx = getattr(self, "_data", self), getattr(other, "_data", other)
    if isinstance(da, np.ndarray) and da.dtype.kind != "f":
        self = cast(self, np.result_type(dx.dtype, np.float32) if isinstance(dx, np.ndarray) else np.float64)
    if isinstance(dx, np.ndarray) and dx.dtype.kind != "f":
        other = cast(other, np.result_type(da.dtype, np.float32))
    return exp((self - 1.0) * log(other) - other - lgamma_op(self))


igamma_op = Op("igamma", _binary(K.gammainc, "igamma_cpu", half=True), ("self", "other"), dtype=PROMOTE,
               node="IgammaBackward0")
igamma_op.defvjp(self=_not_implemented("igamma: input"),
                 other=lambda grad, self, other: grad * _igamma_density(self, other))
igammac_op = Op("igammac", _binary(K.gammaincc, "igammac_cpu", half=True), ("self", "other"), dtype=PROMOTE,
                node="IgammacBackward0")
igammac_op.defvjp(self=_not_implemented("igammac: input"),
                  other=lambda grad, self, other: grad * -_igamma_density(self, other))


# -- argument checking and `out=` ----------------------------------------------------------------------------
def _t(x: Any, fname: str, arg: str = "input", pos: int = 1) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fname}(): argument '{arg}' (position {pos}) must be Tensor, not {type(x).__name__}")
    return x


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating, np.bool_))


def _pair(fname: str, a: Any, b: Any, names=("input", "other")) -> None:
    ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
    if ta or tb:
        if (ta or _is_number(a)) and (tb or _is_number(b)):
            return
    ga, gb = type(a).__name__, type(b).__name__
    raise TypeError(f"{fname}() received an invalid combination of arguments - got ({ga}, {gb}), but expected "
                    f"one of:\n * (Tensor {names[0]}, Tensor {names[1]}, *, Tensor out = None)\n * (Number "
                    f"{'self' if names[0] == 'input' else names[0]}, Tensor {names[1]}, *, Tensor out = None)\n"
                    f" * (Tensor {names[0]}, Number {names[1]}, *, Tensor out = None)\n")


def _int_arg(v: Any, fname: str, arg: str, pos: int) -> int:
    if isinstance(v, (builtins.bool, np.bool_)) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{fname}(): argument '{arg}' (position {pos}) must be int, not {type(v).__name__}")
    return int(v)


# -- public functions (their `out=` is written by the argument checker in front of each: ndgrad/_out.py) ------
def _unary_fn(op: Op, name: str, fname: str):
    def f(input: Tensor, *, out: Any = None) -> Tensor:
        return op(_t(input, fname))
    f.__name__ = name
    f.__qualname__ = name
    f.__doc__ = f"Mirrors `torch.special.{name}`."
    return f


special_erfcx = _unary_fn(erfcx_op, "erfcx", "special_erfcx")
special_ndtr = _unary_fn(ndtr_op, "ndtr", "special_ndtr")
special_log_ndtr = _unary_fn(log_ndtr_op, "log_ndtr", "special_log_ndtr")
special_ndtri = _unary_fn(ndtri_op, "ndtri", "special_ndtri")
special_i0e = _unary_fn(i0e_op, "i0e", "special_i0e")
special_i1 = _unary_fn(i1_op, "i1", "special_i1")
special_i1e = _unary_fn(i1e_op, "i1e", "special_i1e")
special_entr = _unary_fn(entr_op, "entr", "special_entr")
special_i0 = _unary_fn(i0_op, "i0", "special_i0")


def i0(input: Tensor, *, out: Any = None) -> Tensor:
    """Mirrors `torch.i0`: the modified Bessel function of the first kind, order 0."""
    return i0_op(_t(input, "i0"))


def polygamma(n: int, input: Tensor, *, out: Any = None, _fname: str = "polygamma", _op: Op = polygamma_pub) -> Tensor:
    """Mirrors `torch.polygamma`: the n-th derivative of the digamma function."""
    n = _int_arg(n, _fname, "n", 1)
    _t(input, _fname, "input", 2)
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    return _op(input, n)


def mvlgamma(input: Tensor, p: int, *, out: Any = None, _fname: str = "mvlgamma") -> Tensor:
    """Mirrors `torch.mvlgamma`: the multivariate log-gamma function of dimension p."""
    _t(input, _fname)
    p = _int_arg(p, _fname, "p", 2)
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    if input._data.dtype == np.bool_:
        raise RuntimeError("The input tensor may not be a boolean tensor.")
    if input._data.dtype.kind == "c":
        _refuse("arange_cpu", input._data.dtype)
    return mvlgamma_op(input, p)


def igamma(input: Tensor, other: Tensor, *, out: Any = None, _fname: str = "igamma") -> Tensor:
    """Mirrors `torch.igamma`: the regularized lower incomplete gamma function P(input, other)."""
    return igamma_op(_t(input, _fname), _t(other, _fname, "other", 2))


def igammac(input: Tensor, other: Tensor, *, out: Any = None, _fname: str = "igammac") -> Tensor:
    """Mirrors `torch.igammac`: the regularized upper incomplete gamma function Q(input, other)."""
    return igammac_op(_t(input, _fname), _t(other, _fname, "other", 2))


def special_xlog1py(input: Any, other: Any, *, out: Any = None) -> Tensor:
    """Mirrors `torch.special.xlog1py`: input * log1p(other), 0 where input == 0."""
    _pair("special_xlog1py", input, other)
    if isinstance(input, Tensor):
        r = xlog1py_op(input, other) if isinstance(other, Tensor) else xlog1py_ts(input, other)
    else:
        r = xlog1py_st(input, other)
    return r


def special_zeta(input: Any, other: Any, *, out: Any = None) -> Tensor:
    """Mirrors `torch.special.zeta`: the Hurwitz zeta function ζ(input, other)."""
    _pair("special_zeta", input, other)
    if isinstance(input, Tensor):
        r = zeta_op(input, other) if isinstance(other, Tensor) else zeta_ts(input, other)
    else:
        r = zeta_st(input, other)
    return r



__all__ = ["i0", "polygamma", "mvlgamma", "igamma", "igammac"]


def _inplace(fn, name):
    def m(self, *args, **kwargs):
        self._check_inplace()
        return self._set_inplace(fn(self, *args, **kwargs))
    m.__name__ = name
    return m


def _method(fn, name):
    def m(self, *args, **kwargs):
        return fn(self, *args, **kwargs)
    m.__name__ = name
    m.__doc__ = fn.__doc__
    return m


def _polygamma_method(self: Tensor, n: int) -> Tensor:
    return polygamma(n, self)


METHODS: dict = {
    "i0": _method(i0, "i0"), "mvlgamma": _method(mvlgamma, "mvlgamma"), "igamma": _method(igamma, "igamma"),
    "igammac": _method(igammac, "igammac"), "polygamma": _method(_polygamma_method, "polygamma"),
}
METHODS.update({n + "_": _inplace(METHODS[n], n + "_") for n in list(METHODS)})
METHODS["polygamma_"] = _inplace(lambda self, n: polygamma(n, self, _op=polygamma_inplace), "polygamma_")

# -- forward mode: every differentiable op here is elementwise
for _op in (polygamma_pub, polygamma_inplace, erfcx_op, ndtr_op, log_ndtr_op, ndtri_op, i0_op, i0e_op, i1_op, i1e_op,
            entr_op, mvlgamma_op, xlog1py_op, xlog1py_st, xlog1py_ts, zeta_op, zeta_st, zeta_ts, igamma_op, igammac_op):
    _op.defjvp(elementwise=True)
