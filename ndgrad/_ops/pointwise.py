"""Elementwise ops and their derivatives.

Each formula's comment gives the mathematics; formulas use ndgrad ops (dual: Tensors or arrays),
never NumPy directly, so that they are themselves differentiable.
"""
from __future__ import annotations

import math

import numpy as np

from . import _registry as R
from ._registry import COMPARE, FLOAT, NONE, PROMOTE, PROMOTE_FLOAT, SAME, Op, defop

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


# -- helpers that formulas use ----------------------------------------------------------------------
@defop("zeros_like", dtype=SAME)
def zeros_like(self):
    return np.zeros_like(self)


@defop("cast", params=("dtype",), node="ToCopyBackward0", dtype=SAME)
def cast(self, dtype):
    return self.astype(dtype)


cast.defvjp(self=lambda grad: grad)  # the registry casts grad back to the input's dtype


R.CAST = cast


@defop("clone", dtype=SAME)
def clone(self):
    return self.copy()


clone.defvjp(self=lambda grad: grad)  # d/dx x = 1

copy_grad = Op("copy_grad", lambda self: self.copy(), ("self",), node="CopyBackwards", dtype=SAME)
copy_grad.defvjp(self=lambda grad: grad)


# -- arithmetic ---------------------------------------------------------------------------------------
def _add(self, other, alpha):
    return self + other if alpha == 1 else self + alpha * other


add = Op("add", _add, ("self", "other"), ("alpha",))
add.defvjp(self=lambda grad: grad,                                       # d/dx (x + a*y) = 1
           other=lambda grad, alpha: grad if alpha == 1 else grad * alpha)  # d/dy = a


def _sub(self, other, alpha):
    if getattr(self, "dtype", None) == np.bool_ and (type(other) is bool or getattr(other, "dtype", None) == np.bool_):
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. "
                           "Use the `^` or `logical_xor()` operator instead.")
    return self - other if alpha == 1 else self - alpha * other


sub = Op("sub", _sub, ("self", "other"), ("alpha",))
sub.defvjp(self=lambda grad: grad,                                         # d/dx (x - a*y) = 1
           other=lambda grad, alpha: -grad if alpha == 1 else grad * -alpha)  # d/dy = -a

rsub = Op("rsub", lambda self, other, alpha: other - alpha * self if alpha != 1 else other - self,
          ("self", "other"), ("alpha",), node="RsubBackward1")
rsub.defvjp(self=lambda grad, alpha: -grad if alpha == 1 else grad * -alpha)  # d/dx (c - x) = -1

mul = Op("mul", np.multiply, ("self", "other"))
mul.defvjp(self=lambda grad, other: grad * other,   # d/dx xy = y
           other=lambda grad, self: grad * self)    # d/dy xy = x

div = Op("div", np.true_divide, ("self", "other"), dtype=PROMOTE_FLOAT)
div.defvjp(self=lambda grad, other: grad / other,                       # d/dx x/y = 1/y
           other=lambda grad, self, other: -grad * self / (other * other))  # d/dy x/y = -x/y²


def _floor_divide(self, other):
    if getattr(self, "dtype", np.dtype(float)).kind in "iub" and np.any(np.asarray(other) == 0) and \
            getattr(np.asarray(other), "dtype", np.dtype(float)).kind in "iub":
        raise RuntimeError("ZeroDivisionError")
    return np.floor_divide(self, other)


def _no_derivative(name):
    def f(grad):
        raise RuntimeError(f"the derivative for '{name}' is not implemented.")
    return f


floor_divide = Op("floor_divide", _floor_divide, ("self", "other"), node="NotImplemented")
floor_divide.defvjp(self=_no_derivative("floor_divide"))


def _remainder(self, other):
    if getattr(self, "dtype", np.dtype(float)).kind in "iub" and \
            getattr(np.asarray(other), "dtype", np.dtype(float)).kind in "iub" and np.any(np.asarray(other) == 0):
        raise RuntimeError("ZeroDivisionError")
    return np.remainder(self, other)


remainder = Op("remainder", _remainder, ("self", "other"))
remainder.defvjp(self=lambda grad: grad,                                          # d/dx (x mod y) = 1
                 other=lambda grad, self, other: -grad * floor_divide(self, other))  # d/dy = -floor(x/y)

fmod = Op("fmod", np.fmod, ("self", "other"))
fmod.defvjp(self=lambda grad: grad,                                             # d/dx fmod(x, y) = 1
            other=lambda grad, self, other: -grad * trunc(div(self, other)))   # d/dy = -trunc(x/y)


def _check_int_pow(self, exponent):
    if getattr(self, "dtype", np.dtype(float)).kind in "iu" and isinstance(exponent, (int, np.integer)) \
            and exponent < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")


def _pow_ts(self, exponent):
    if exponent == 2:
        return np.square(self)
    _check_int_pow(self, exponent)
    return np.power(self, exponent)


def _pow_exp_grad(grad, self, exponent):
    # d/dx x^c = c x^(c-1); torch defines it as 0 for c == 0 (also at x = 0)
    # the exponent is a number here (a 0-d array when run on arrays)
    if exponent == 0:
        return zeros_like(grad)
    if exponent == 2:
        return grad * (self * 2.0)
    return grad * (exponent * pow(self, exponent - 1))


pow = Op("pow", _pow_ts, ("self", "exponent"), node="PowBackward0")
pow.defvjp(self=_pow_exp_grad)


def _pow_tt(self, exponent):
    if getattr(self, "dtype", np.dtype(float)).kind in "iu" and getattr(exponent, "dtype", None) is not None \
            and exponent.dtype.kind in "iu" and np.any(exponent < 0):
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    return np.power(self, exponent)


pow_tt = Op("pow", _pow_tt, ("self", "exponent"), node="PowBackward1")
pow_tt.defvjp(
    # d/dx x^y = y x^(y-1), taken as 0 where y == 0
    self=lambda grad, self, exponent: where(exponent == 0, 0.0, grad * exponent * pow_tt(self, exponent - 1)),
    # d/dy x^y = x^y log x, taken as 0 where x == 0 and y >= 0
    exponent=lambda grad, self, exponent, result: where((self == 0) & (exponent >= 0), 0.0,
                                                         grad * result * log(self)))

def _pow_st_grad(grad, self, exponent, result):
    # d/dy c^y = c^y ln c; torch takes it as 0 for c == 0 and y >= 0
    if self == 0:
        return where(exponent >= 0, 0.0, grad * result * -math.inf)
    return grad * result * (math.log(self) if self > 0 else math.nan)


pow_st = Op("pow", lambda self, exponent: np.power(self, exponent), ("self", "exponent"), node="PowBackward2")
pow_st.defvjp(exponent=_pow_st_grad)

neg = Op("neg", np.negative, ("self",), dtype=SAME)
neg.defvjp(self=lambda grad: -grad)  # d/dx -x = -1

reciprocal = Op("reciprocal", np.reciprocal, ("self",), dtype=FLOAT)
reciprocal.defvjp(self=lambda grad, result: -grad * (result * result))  # d/dx 1/x = -1/x²

# -- unary math -----------------------------------------------------------------------------------------
abs = Op("abs", np.abs, ("self",), dtype=SAME)
sign = Op("sign", np.sign, ("self",), dtype=SAME)
abs.defvjp(self=lambda grad, self: grad * sign(self))  # d/dx |x| = sign(x) (0 at 0)
sign.defvjp(self=lambda grad: zeros_like(grad))         # d/dx sign(x) = 0

exp = Op("exp", np.exp, ("self",), dtype=FLOAT)
exp.defvjp(self=lambda grad, result: grad * result)  # d/dx e^x = e^x
exp2 = Op("exp2", np.exp2, ("self",), dtype=FLOAT)
exp2.defvjp(self=lambda grad, result: grad * (result * _LN2))  # d/dx 2^x = 2^x ln 2
expm1 = Op("expm1", np.expm1, ("self",), dtype=FLOAT)
expm1.defvjp(self=lambda grad, result: grad * (result + 1))  # d/dx (e^x - 1) = e^x
log = Op("log", np.log, ("self",), dtype=FLOAT)
log.defvjp(self=lambda grad, self: grad / self)  # d/dx ln x = 1/x
log2 = Op("log2", np.log2, ("self",), dtype=FLOAT)
log2.defvjp(self=lambda grad, self: grad / (self * _LN2))  # d/dx log2 x = 1/(x ln 2)
log10 = Op("log10", np.log10, ("self",), dtype=FLOAT)
log10.defvjp(self=lambda grad, self: grad / (self * _LN10))  # d/dx log10 x = 1/(x ln 10)
log1p = Op("log1p", np.log1p, ("self",), dtype=FLOAT, node="Log1PBackward0")
log1p.defvjp(self=lambda grad, self: grad / (self + 1))  # d/dx ln(1+x) = 1/(1+x)
sqrt = Op("sqrt", np.sqrt, ("self",), dtype=FLOAT)
sqrt.defvjp(self=lambda grad, result: grad / (result * 2))  # d/dx √x = 1/(2√x)
rsqrt = Op("rsqrt", lambda x: 1.0 / np.sqrt(x), ("self",), dtype=FLOAT)
rsqrt.defvjp(self=lambda grad, result: grad * (result * result * result * -0.5))  # d/dx x^-½ = -½x^-3/2

sin = Op("sin", np.sin, ("self",), dtype=FLOAT)
cos = Op("cos", np.cos, ("self",), dtype=FLOAT)
sin.defvjp(self=lambda grad, self: grad * cos(self))   # d/dx sin x = cos x
cos.defvjp(self=lambda grad, self: grad * -sin(self))  # d/dx cos x = -sin x
tan = Op("tan", np.tan, ("self",), dtype=FLOAT)
tan.defvjp(self=lambda grad, result: grad * (result * result + 1))  # d/dx tan x = 1 + tan² x
asin = Op("asin", np.arcsin, ("self",), dtype=FLOAT)
asin.defvjp(self=lambda grad, self: grad / sqrt(1 - self * self))  # d/dx asin x = 1/√(1-x²)
acos = Op("acos", np.arccos, ("self",), dtype=FLOAT)
acos.defvjp(self=lambda grad, self: -grad / sqrt(1 - self * self))  # d/dx acos x = -1/√(1-x²)
atan = Op("atan", np.arctan, ("self",), dtype=FLOAT)
atan.defvjp(self=lambda grad, self: grad / (self * self + 1))  # d/dx atan x = 1/(1+x²)
sinh = Op("sinh", np.sinh, ("self",), dtype=FLOAT)
cosh = Op("cosh", np.cosh, ("self",), dtype=FLOAT)
sinh.defvjp(self=lambda grad, self: grad * cosh(self))  # d/dx sinh x = cosh x
cosh.defvjp(self=lambda grad, self: grad * sinh(self))  # d/dx cosh x = sinh x
tanh = Op("tanh", np.tanh, ("self",), dtype=FLOAT)
tanh.defvjp(self=lambda grad, result: grad * (1 - result * result))  # d/dx tanh x = 1 - tanh² x


def _sigmoid(x):
    # exp of a non-positive number never overflows: e/(1+e) for x < 0, 1/(1+e) otherwise
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


sigmoid = Op("sigmoid", _sigmoid, ("self",), dtype=FLOAT)
sigmoid.defvjp(self=lambda grad, result: grad * (result * (1 - result)))  # σ' = σ(1-σ)

relu = Op("relu", lambda x: np.maximum(x, 0).astype(x.dtype, copy=False), ("self",), dtype=SAME)
relu.defvjp(self=lambda grad, result: grad * (result > 0))  # relu'(x) = [x > 0] (0 at 0)

floor = Op("floor", np.floor, ("self",), dtype=SAME)
ceil = Op("ceil", np.ceil, ("self",), dtype=SAME)
trunc = Op("trunc", np.trunc, ("self",), dtype=SAME)
for _op in (floor, ceil, trunc):
    _op.defvjp(self=lambda grad: zeros_like(grad))  # piecewise constant: derivative 0


def _clamp(self, min, max):
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    r = self
    if min is not None:
        r = np.maximum(r, min)
    if max is not None:
        r = np.minimum(r, max)
    return r


def _clamp_grad(grad, self, min, max):
    # d/dx clamp(x, lo, hi) = 1 on [lo, hi], bounds included, as torch
    if min is not None and max is not None:
        return grad * ((self >= min) & (self <= max))
    if min is not None:
        return grad * (self >= min)
    return grad * (self <= max)


clamp = Op("clamp", _clamp, ("self",), ("min", "max"), node="ClampBackward1")
clamp.defvjp(self=_clamp_grad)


def _where(condition, self, other):
    return np.where(condition, self, other)


where = Op("where", _where, ("condition", "self", "other"), promote=(1, 2))
where.defvjp(self=lambda grad, condition: where(condition, grad, 0.0),   # picks x where cond
             other=lambda grad, condition: where(condition, 0.0, grad))  # picks y elsewhere


maximum = Op("maximum", np.maximum, ("self", "other"))
minimum = Op("minimum", np.minimum, ("self", "other"))
# ties share the gradient equally, as torch
maximum.defvjp(self=lambda grad, self, other: where(self == other, grad / 2, grad * (self > other)),
               other=lambda grad, self, other: where(self == other, grad / 2, grad * (other > self)))
minimum.defvjp(self=lambda grad, self, other: where(self == other, grad / 2, grad * (self < other)),
               other=lambda grad, self, other: where(self == other, grad / 2, grad * (other < self)))

# -- comparisons and logic (no derivative) -----------------------------------------------------------
eq = Op("eq", np.equal, ("self", "other"), dtype=COMPARE)
ne = Op("ne", np.not_equal, ("self", "other"), dtype=COMPARE)
lt = Op("lt", np.less, ("self", "other"), dtype=COMPARE)
le = Op("le", np.less_equal, ("self", "other"), dtype=COMPARE)
gt = Op("gt", np.greater, ("self", "other"), dtype=COMPARE)
ge = Op("ge", np.greater_equal, ("self", "other"), dtype=COMPARE)
logical_not = Op("logical_not", np.logical_not, ("self",), dtype=SAME)
logical_and = Op("logical_and", np.logical_and, ("self", "other"), dtype=SAME)
logical_or = Op("logical_or", np.logical_or, ("self", "other"), dtype=SAME)
logical_xor = Op("logical_xor", np.logical_xor, ("self", "other"), dtype=SAME)


def _bitwise(name, fn):
    def f(self, other=None):
        for a in (self, other):
            k = getattr(a, "dtype", None)
            if k is not None and k.kind in "fc":
                raise RuntimeError(f'"{name}_cpu" not implemented for \'{"Float" if k.itemsize == 4 else "Double"}\'')
        return fn(self) if other is None else fn(self, other)
    return f


bitwise_and = Op("bitwise_and", _bitwise("bitwise_and", np.bitwise_and), ("self", "other"))
bitwise_or = Op("bitwise_or", _bitwise("bitwise_or", np.bitwise_or), ("self", "other"))
bitwise_xor = Op("bitwise_xor", _bitwise("bitwise_xor", np.bitwise_xor), ("self", "other"))
bitwise_not = Op("bitwise_not", _bitwise("bitwise_not", np.invert), ("self",), dtype=SAME)
