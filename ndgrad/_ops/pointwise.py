"""Elementwise ops and their derivatives.

Each formula's comment gives the mathematics; formulas use ndgrad ops (dual: Tensors or arrays),
never NumPy directly, so that they are themselves differentiable.
"""
from __future__ import annotations

import math

import numpy as np

from .._quiet import quiet
from .. import _dtype as D
from . import _registry as R
from ._registry import COMPARE, FLOAT, NONE, PROMOTE_FLOAT, SAME, Op, defop

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


# -- complex numbers -------------------------------------------------------------------------------------
def _cj(x):
    """Complex conjugate where it matters, for free on real values. Formulas multiply the incoming gradient
    by the conjugate of the derivative: torch's convention (x.grad is the conjugate Wirtinger derivative)."""
    if x.__class__ is np.ndarray:
        return np.conj(x) if x.dtype.kind == "c" else x
    d = getattr(x, "_data", None)
    if d is not None:
        return conj(x) if d.dtype.kind == "c" else x
    return x.conjugate() if isinstance(x, complex) else x


conj = Op("conj", lambda x: np.conj(x) if x.dtype.kind == "c" else x, ("self",), dtype=SAME)  # (bool stays bool)
conj.defvjp(self=lambda grad: conj(grad))  # conj is its own adjoint
# torch's real/imag are views of view_as_real: their nodes are SelectBackward0
real = Op("real", lambda x: np.real(x) if x.dtype.kind == "c" else x, ("self",), node="SelectBackward0", dtype=SAME)
real.defvjp(self=lambda grad: grad)  # the registry gives it the complex input's dtype (imaginary part 0)


def _imag(x):
    if x.dtype.kind != "c":
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return np.imag(x)


imag = Op("imag", _imag, ("self",), node="SelectBackward0", dtype=SAME)
imag.defvjp(self=lambda grad: grad * 1j)  # Im z = (z - z̄)/2i: the conjugate Wirtinger rule gives i·grad


def _sgn(x):
    if x.dtype.kind == "b":
        return x.copy()  # sign of a bool is itself
    if x.dtype.kind != "c":
        return np.sign(x)
    a = np.abs(x)
    return np.where(a == 0, 0, x / np.where(a == 0, 1, a)).astype(x.dtype)


def _sgn_grad(grad, self):
    if np.dtype(getattr(self, "_data", self).dtype).kind != "c":
        return zeros_like(grad)  # piecewise constant on the reals
    # s = z/|z|: ∂s/∂z = 1/(2|z|), ∂s/∂z̄ = -s²/(2|z|); torch's rule grad·conj(∂s/∂z) + conj(grad)·∂s/∂z̄
    r = abs(self)
    s = sgn(self)
    return where(r == 0, 0.0, (grad - conj(grad) * s * s) / where(r == 0, 1.0, r * 2))


sgn = Op("sgn", _sgn, ("self",), dtype=SAME)
sgn.defvjp(self=_sgn_grad)


def _angle(x):
    return np.angle(x).astype(x.real.dtype) if x.dtype.kind == "c" else \
        np.where(x < 0, np.pi, 0).astype(x.dtype if x.dtype.kind in "fV" else np.float32)


def _angle_grad(grad, self):
    if np.dtype(getattr(self, "_data", self).dtype).kind != "c":
        return zeros_like(grad)
    # θ = arg z: ∂θ/∂z̄ = i z / (2|z|²); a real output's gradient is 2·grad·∂θ/∂z̄ (0 at z = 0, as torch)
    a2 = real(self * conj(self))
    return where(a2 == 0, 0.0, grad * (self * 1j) / where(a2 == 0, 1.0, a2))


angle = Op("angle", _angle, ("self",), dtype=NONE)
angle.defvjp(self=_angle_grad)


# -- helpers that formulas use ----------------------------------------------------------------------
@defop("zeros_like", dtype=SAME)
def zeros_like(self: np.ndarray) -> np.ndarray:
    return np.zeros_like(self)


@defop("cast", params=("dtype",), node="ToCopyBackward0", dtype=SAME)
def cast(self: np.ndarray, dtype: np.dtype) -> np.ndarray:
    if self.dtype.kind == "c" and np.dtype(dtype).kind != "c":
        return self.real.astype(dtype)  # a complex gradient reaching a real input: its real part, as torch
    return self.astype(dtype)


cast.defvjp(self=lambda grad: grad)  # the registry casts grad back to the input's dtype


R.CAST = cast


@defop("clone", dtype=SAME)
def clone(self: np.ndarray) -> np.ndarray:
    return self.copy(order="K")  # (torch's preserve_format: a dense tensor's copy keeps its strides)


clone.defvjp(self=lambda grad: grad)  # d/dx x = 1

copy_grad = Op("copy_grad", lambda self: self.copy(), ("self",), node="CopyBackwards", dtype=SAME)
copy_grad.defvjp(self=lambda grad: grad)


# -- torch's fused multiply-adds ---------------------------------------------------------------------------
# torch's CPU kernels for `add(alpha=)`, `sub(alpha=)`, `addcmul`, `lerp` (and so the optimizers built on them)
# compute a + s*b with one rounding (a fused multiply-add), in float32 for float32, float16 and bfloat16 tensors.
# NumPy has no fused multiply-add: two float32 roundings give a different last bit for 2-20% of the elements,
# which a training loop accumulates into printed losses that differ from torch's. For those dtypes `fma` computes
# in float64, where the product of two float32 numbers is exact, and rounds once (to float32, then to the narrow
# dtype, as torch). float64 keeps the two roundings (emulating a float64 fused multiply-add would cost ~20 passes).
def _fused_dtype(dt: np.dtype) -> bool:
    return dt.kind == "V" or (dt.kind == "f" and dt.itemsize <= 4)


_F32 = np.dtype(np.float32)


def fma(a, s, b, out=None):
    """a + s*b rounded once as torch's fused kernels; `s` a number (cast to the result dtype first, as torch casts
    `alpha`/`value`; a NumPy float32 is taken as it is) or an array. Into `out` when given."""
    if a.__class__ is np.ndarray and b.__class__ is np.ndarray and a.dtype == _F32:
        from .. import _blas  # float32: BLAS's saxpy, where it is found and checked to round once
        r = _blas.fma(a, s, b, out)
        if r is not None:
            return r
    dt = out.dtype if out is not None else np.result_type(a, b)  # (a Python number weak, as in torch: ...)
    a = np.asarray(a, dt if a.__class__ is int or a.__class__ is float else None)  # (... it takes the tensor's
    b = np.asarray(b, dt if b.__class__ is int or b.__class__ is float else None)  # dtype, not float64)
    if not _fused_dtype(dt):
        r = np.multiply(s, b)
        return np.add(a, r, out=out) if out is not None else np.add(a, r)
    p = b.astype(np.float64)
    if isinstance(s, np.ndarray):
        p = np.multiply(p, s if s.dtype.kind == "f" else s.astype(np.float64),
                        out=p if p.shape == np.broadcast_shapes(p.shape, s.shape) else None)
    elif isinstance(s, np.float32):  # (a float32 compute-type value, as lerp's weight)
        p *= np.float64(s)
    else:
        p *= np.asarray(s, dtype=dt).astype(np.float64)  # torch casts alpha/value to the tensor's dtype
    wide = a if a.dtype.kind == "f" else a.astype(np.float64)
    if p.shape == np.broadcast_shapes(p.shape, a.shape):
        p += wide
    else:
        p = np.add(p, wide)
    if dt != np.float32:
        p = p.astype(np.float32)  # torch rounds its float32 result to the narrow dtype
    if out is not None:
        np.copyto(out, p, casting="unsafe")
        return out
    return p.astype(dt)


# -- arithmetic ---------------------------------------------------------------------------------------
add = Op("add", np.add, ("self", "other"))
add.defvjp(self=lambda grad: grad,    # d/dx (x + y) = 1
           other=lambda grad: grad)   # d/dy (x + y) = 1
def _axpy(a, s, b):
    """a + s*b for the alpha forms of add, sub and rsub: one rounding (fma) for float32 and narrower arrays, as
    torch's kernels; NumPy's own two for the other dtypes (and a and b Python numbers)."""
    if (isinstance(a, np.ndarray) or isinstance(b, np.ndarray)) and _fused_dtype(np.result_type(a, b)):
        return fma(a, s, b)
    if isinstance(a, np.ndarray) and a.dtype.kind == "b" and (b.__class__ is bool or getattr(b, "dtype", None) == np.bool_):
        return np.logical_or(a, np.logical_and(b, bool(s)))  # (a bool result: torch computes in bool)
    if s.__class__ is int and isinstance(b, np.ndarray) and b.dtype.kind in "iu":
        s = D.wrapped_int(s, b.dtype)  # (uint8 - 2 * t: -2 is 254 modulo 256, as torch computes it)
    sb = s * b
    if sb.__class__ is int and isinstance(a, np.ndarray) and a.dtype.kind in "iu":
        sb = D.wrapped_int(sb, a.dtype)  # (uint8 - 2 * 300: modulo 256, as torch computes it)
    return a + sb


add_alpha = Op("add", lambda self, other, alpha: _axpy(self, alpha, other), ("self", "other"), ("alpha",))
add_alpha.defvjp(self=lambda grad: grad,                   # d/dx (x + a*y) = 1
                 other=lambda grad, alpha: grad * alpha)   # d/dy (x + a*y) = a


def _is_bool(x):
    return type(x) is bool or getattr(x, "dtype", None) == np.bool_


def _check_bool_sub(self, other):
    if _is_bool(self) or _is_bool(other):
        if _is_bool(self) and _is_bool(other):
            raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. "
                               "Use the `^` or `logical_xor()` operator instead.")
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying "
                           "to invert a mask, use the `~` or `logical_not()` operator instead.")


def _promoted(a, b):
    """Cast array operands to torch's result type (for ops that must see the dtypes before promotion)."""
    if not isinstance(a, np.ndarray) or not isinstance(b, np.ndarray) or a.dtype != b.dtype:
        key = tuple((D.FROM_NP[x.dtype], 2 if x.ndim else 1) if isinstance(x, np.ndarray) else (D.scalar_dtype(x), 0)
                    for x in (a, b))
        t = D.result_type_of(key).np
        a = a.astype(t) if isinstance(a, np.ndarray) and a.dtype != t else a
        b = b.astype(t) if isinstance(b, np.ndarray) and b.dtype != t else b
    return a, b


def _sub(self, other, alpha):
    if _is_bool(self) or _is_bool(other):  # checked before promotion turns bools into numbers
        _check_bool_sub(self, other)
    self, other = _promoted(self, other)
    return self - other if alpha == 1 else _axpy(self, -alpha, other)


def _rsub(self, other, alpha):
    if _is_bool(self) or _is_bool(other):
        _check_bool_sub(self, other)
    self, other = _promoted(self, other)
    return other - self if alpha == 1 else _axpy(other, -alpha, self)


sub = Op("sub", _sub, ("self", "other"), ("alpha",), dtype=NONE)
sub.plain2 = np.subtract
sub.defvjp(self=lambda grad: grad,                                         # d/dx (x - a*y) = 1
           other=lambda grad, alpha: -grad if alpha == 1 else grad * -alpha)  # d/dy = -a

rsub = Op("rsub", _rsub, ("self", "other"), ("alpha",), node="RsubBackward1", dtype=NONE, edges=(0,))
rsub.defvjp(self=lambda grad, alpha: -grad if alpha == 1 else grad * -alpha)  # d/dx (c - x) = -1
# rsub(x, y) with a tensor y: torch names it RsubBackward0 and differentiates both
rsub_tt = Op("rsub", rsub.fwd, ("self", "other"), ("alpha",), node="RsubBackward0", dtype=NONE)
rsub_tt.defvjp(self=lambda grad, alpha: -grad if alpha == 1 else grad * -alpha,  # d/dx (y - a*x) = -a
               other=lambda grad: grad)                                          # d/dy = 1

mul = Op("mul", np.multiply, ("self", "other"))
mul.defvjp(self=lambda grad, other: grad * _cj(other),   # d/dx xy = y (conjugated for complex, as torch)
           other=lambda grad, self: grad * _cj(self))    # d/dy xy = x

div = Op("div", np.true_divide, ("self", "other"), dtype=PROMOTE_FLOAT)
div.defvjp(self=lambda grad, other: grad / _cj(other),                       # d/dx x/y = 1/y
           other=lambda grad, self, other: -grad * _cj(self / (other * other)))  # d/dy x/y = -x/y²


def _int_zero_division(self, other):
    """torch's error for an integer division (floor_divide, remainder, fmod) by zero, where NumPy gives 0."""
    if getattr(self, "dtype", np.dtype(float)).kind in "iub" and \
            getattr(np.asarray(other), "dtype", np.dtype(float)).kind in "iub" and np.any(np.asarray(other) == 0):
        raise RuntimeError("ZeroDivisionError")


def _floor_divide(self, other):
    _int_zero_division(self, other)
    return np.floor_divide(self, other)


def _no_derivative(name):
    def f(grad):
        raise RuntimeError(f"derivative for aten::{name} is not implemented")
    return f


floor_divide = Op("floor_divide", _floor_divide, ("self", "other"), node="NotImplemented")
floor_divide.defvjp(self=_no_derivative("floor_divide"), other=_no_derivative("floor_divide"))


def _div_rounding(self, other, rounding_mode):
    if rounding_mode == "floor":
        return _floor_divide(self, other)
    if getattr(self, "dtype", np.dtype(float)).kind in "fcV" or np.asarray(other).dtype.kind in "fcV":
        return np.trunc(np.true_divide(self, other))
    q = _floor_divide(self, other)  # integers: round toward zero without going through floats
    return q + ((np.remainder(self, other) != 0) & ((np.asarray(self) < 0) != (np.asarray(other) < 0)))


# div(rounding_mode="trunc"/"floor"): piecewise constant, so a zero derivative (torch's DivBackward2)
div_rounding = Op("div", _div_rounding, ("self", "other"), ("rounding_mode",), node="DivBackward2")
div_rounding.defvjp(self=lambda grad: zeros_like(grad), other=lambda grad: zeros_like(grad))


def _remainder(self, other):
    _int_zero_division(self, other)
    return np.remainder(self, other)


# torch's node names tell a Python-number divisor (...Backward0) from a tensor one (...Backward1)
remainder = Op("remainder", _remainder, ("self", "other"), node="RemainderBackward0")
remainder.defvjp(self=lambda grad: grad)                                         # d/dx (x mod c) = 1
remainder_tt = Op("remainder", _remainder, ("self", "other"), node="RemainderBackward1")
remainder_tt.defvjp(self=lambda grad: grad,                                      # d/dx (x mod y) = 1
                    other=lambda grad, self, other: -grad * div_rounding(self, other, "floor"))  # d/dy = -floor(x/y)
# remainder(number, tensor) has no derivative in torch
remainder_st = Op("remainder", _remainder, ("self", "other"), node="NotImplemented")
remainder_st.defvjp(other=_no_derivative("remainder"))

def _fmod(self, other):
    _int_zero_division(self, other)
    return np.fmod(self, other)


fmod = Op("fmod", _fmod, ("self", "other"), node="FmodBackward0")
fmod.defvjp(self=lambda grad: grad)                                              # d/dx fmod(x, c) = 1
fmod_tt = Op("fmod", _fmod, ("self", "other"), node="FmodBackward1")
fmod_tt.defvjp(self=lambda grad: grad,                                           # d/dx fmod(x, y) = 1
               other=lambda grad, self, other: -grad * div_rounding(self, other, "trunc"))  # d/dy = -trunc(x/y)


def _check_int_pow(self, exponent):
    dt = getattr(self, "dtype", None)
    if dt is not None and dt.kind in "iu" and isinstance(exponent, (int, np.integer)):
        if exponent < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        D.checked_fill(exponent, dt)  # (torch refuses an exponent the dtype cannot hold: uint8 ** 256)


def _number(x):
    """A number operand as a Python number (the fast path hands them over as 0-d arrays, whose `==` is slow)."""
    return x.item() if x.__class__ is np.ndarray else x


def _pow_ts(self, exponent):
    c = _number(exponent)
    if c == 2:
        return np.square(self)
    if c == 3 or c == -2 or c == -0.5:
        d = getattr(self, "dtype", None)
        if d is not None and (d == np.float32 or d == np.float64):
            # torch's CPU kernel computes these as products and quotients, not with pow (measured on torch 2.13:
            # every element equal, where NumPy's pow agrees on ~70%): x*x*x, 1/(x*x), 1/sqrt(x)
            if c == 3:
                return np.multiply(np.multiply(self, self), self)
            if c == -2:
                return np.reciprocal(np.multiply(self, self))
            return np.reciprocal(np.sqrt(self))
    _check_int_pow(self, exponent)
    return np.power(self, exponent)


def _pow_exp_grad(grad, self, exponent):
    # d/dx x^c = c x^(c-1); torch defines it as 0 for c == 0 (also at x = 0)
    c = _number(exponent)
    if c == 0:
        return zeros_like(grad)
    if c == 2:
        return grad * _cj(self * 2.0)
    return grad * _cj(exponent * pow(self, exponent - 1))


pow = Op("pow", _pow_ts, ("self", "exponent"), node="PowBackward0", edges=(0,))
pow.checks_ints = True
pow.defvjp(self=_pow_exp_grad)


def _int_power(base, exponent):
    """Integer powers as torch computes them: a negative exponent gives 1, ±1 or 0 (not NumPy's error)."""
    b, e = np.asarray(base), np.asarray(exponent)
    if not (b.dtype.kind in "iub" and e.dtype.kind in "iu" and np.any(e < 0)):
        return np.power(base, exponent)  # the originals: a Python number stays weak for NumPy's promotion
    base, exponent = b, e
    neg = exponent < 0
    r = np.power(base, np.where(neg, 0, exponent))
    odd = (np.abs(exponent) % 2).astype(bool)
    return np.where(neg, np.where(base == 1, 1, np.where(base == -1, np.where(odd, -1, 1), 0)), r).astype(r.dtype)


def _pow_tt(self, exponent):
    return _int_power(self, exponent)


pow_tt = Op("pow", _pow_tt, ("self", "exponent"), node="PowBackward1")
pow_tt.defvjp(
    # d/dx x^y = y x^(y-1), taken as 0 where y == 0
    self=lambda grad, self, exponent: where(exponent == 0, 0.0,
                                            grad * _cj(exponent * pow_tt(self, exponent - 1))),
    # d/dy x^y = x^y log x, taken as 0 where x == 0 and y >= 0
    exponent=lambda grad, self, exponent, result: where((self == 0) & (real(exponent) >= 0), 0.0,
                                                         grad * _cj(result * log(self))))

def _pow_st_grad(grad, self, exponent, result):
    # d/dy c^y = c^y ln c; torch takes it as 0 for c == 0 and y >= 0
    if self == 0:
        return where(real(exponent) >= 0, 0.0, grad * result * -math.inf)
    return grad * _cj(result * (math.log(self) if self > 0 else math.nan))


pow_st = Op("pow", _int_power, ("self", "exponent"), node="PowBackward2", edges=(1,))
pow_st.defvjp(exponent=_pow_st_grad)

def _neg(self):
    if self.dtype == np.bool_:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
                           "invert a mask, use the `~` or `logical_not()` operator instead.")
    return np.negative(self)


neg = Op("neg", _neg, ("self",), dtype=SAME)
neg.defvjp(self=lambda grad: -grad)  # d/dx -x = -1

reciprocal = Op("reciprocal", np.reciprocal, ("self",), dtype=FLOAT)
reciprocal.defvjp(self=lambda grad, result: -grad * _cj(result * result))  # d/dx 1/x = -1/x²

# -- unary math -----------------------------------------------------------------------------------------
def _no_bool(fn, kernel):
    def f(self):
        if self.dtype == np.bool_:
            raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')
        return fn(self)
    return f


abs = Op("abs", _no_bool(np.abs, "abs_cpu"), ("self",), dtype=SAME)
def _sign(self):
    if self.dtype.kind == "c":
        raise NotImplementedError("Unlike NumPy, torch.sign is not intended to support complex numbers. Please use "
                                  "torch.sgn instead.")
    return self.copy() if self.dtype == np.bool_ else np.sign(self)


sign = Op("sign", _sign, ("self",), dtype=SAME)
abs.defvjp(self=lambda grad, self: grad * sgn(self))  # d/dx |x| = sign(x) (0 at 0); z/|z| for complex
sign.defvjp(self=lambda grad: zeros_like(grad))         # d/dx sign(x) = 0

exp = Op("exp", np.exp, ("self",), dtype=FLOAT)
exp.defvjp(self=lambda grad, result: grad * _cj(result))  # d/dx e^x = e^x
exp2 = Op("exp2", np.exp2, ("self",), dtype=FLOAT)
exp2.defvjp(self=lambda grad, result: grad * _cj(result * _LN2))  # d/dx 2^x = 2^x ln 2
expm1 = Op("expm1", np.expm1, ("self",), dtype=FLOAT)
expm1.defvjp(self=lambda grad, result: grad * _cj(result + 1))  # d/dx (e^x - 1) = e^x
log = Op("log", np.log, ("self",), dtype=FLOAT)
log.defvjp(self=lambda grad, self: grad / _cj(self))  # d/dx ln x = 1/x
log2 = Op("log2", np.log2, ("self",), dtype=FLOAT)
log2.defvjp(self=lambda grad, self: grad / _cj(self * _LN2))  # d/dx log2 x = 1/(x ln 2)
log10 = Op("log10", np.log10, ("self",), dtype=FLOAT)
log10.defvjp(self=lambda grad, self: grad / _cj(self * _LN10))  # d/dx log10 x = 1/(x ln 10)
log1p = Op("log1p", np.log1p, ("self",), dtype=FLOAT, node="Log1PBackward0")
log1p.defvjp(self=lambda grad, self: grad / _cj(self + 1))  # d/dx ln(1+x) = 1/(1+x)
sqrt = Op("sqrt", np.sqrt, ("self",), dtype=FLOAT)
sqrt.defvjp(self=lambda grad, result: grad / _cj(result * 2))  # d/dx √x = 1/(2√x)
rsqrt = Op("rsqrt", lambda x: 1.0 / np.sqrt(x), ("self",), dtype=FLOAT)
rsqrt.defvjp(self=lambda grad, result: grad * _cj(result * result * result * -0.5))  # d/dx x^-½ = -½x^-3/2

sin = Op("sin", np.sin, ("self",), dtype=FLOAT)
cos = Op("cos", np.cos, ("self",), dtype=FLOAT)
sin.defvjp(self=lambda grad, self: grad * _cj(cos(self)))   # d/dx sin x = cos x
cos.defvjp(self=lambda grad, self: grad * -_cj(sin(self)))  # d/dx cos x = -sin x
tan = Op("tan", np.tan, ("self",), dtype=FLOAT)
tan.defvjp(self=lambda grad, result: grad * _cj(result * result + 1))  # d/dx tan x = 1 + tan² x
asin = Op("asin", np.arcsin, ("self",), dtype=FLOAT)
asin.defvjp(self=lambda grad, self: grad / _cj(sqrt(1 - self * self)))  # d/dx asin x = 1/√(1-x²)
acos = Op("acos", np.arccos, ("self",), dtype=FLOAT)
acos.defvjp(self=lambda grad, self: -grad / _cj(sqrt(1 - self * self)))  # d/dx acos x = -1/√(1-x²)
atan = Op("atan", np.arctan, ("self",), dtype=FLOAT)
atan.defvjp(self=lambda grad, self: grad / _cj(self * self + 1))  # d/dx atan x = 1/(1+x²)
sinh = Op("sinh", np.sinh, ("self",), dtype=FLOAT)
cosh = Op("cosh", np.cosh, ("self",), dtype=FLOAT)
sinh.defvjp(self=lambda grad, self: grad * _cj(cosh(self)))  # d/dx sinh x = cosh x
cosh.defvjp(self=lambda grad, self: grad * _cj(sinh(self)))  # d/dx cosh x = sinh x
tanh = Op("tanh", np.tanh, ("self",), dtype=FLOAT)
tanh.defvjp(self=lambda grad, result: grad * _cj(1 - result * result))  # d/dx tanh x = 1 - tanh² x


_ONES = {c: R.scalar_array(1, np.dtype(c)) for c in "fd"}  # (scalar_array's constants, by dtype character)


def _sigmoid(x):
    one = _ONES.get(x.dtype.char)
    if one is not None:  # float32/float64 (the common case; what the general code below does with them)
        with quiet():
            e = np.exp(np.negative(x))
        if e.size <= 1:
            return np.reciprocal(np.add(e, one))
        e += one
        return np.reciprocal(e, out=e)
    if x.dtype.kind == "c":
        return 1 / (1 + np.exp(-x))
    if x.dtype == np.float16:  # computed in float32 and rounded once, as torch's half kernels do
        return _sigmoid(x.astype(np.float32)).astype(np.float16)
    # 1/(1 + e^-x), as torch computes it; e^-x overflows to inf for very negative x, which gives the right 0
    with quiet():
        e = np.exp(np.negative(x))
    one = R.scalar_array(1, e.dtype)
    if e.size <= 1:  # (NumPy's in-place ufuncs on one element cost ~0.5 us more than a fresh result)
        return np.reciprocal(np.add(e, one))
    e += one
    return np.reciprocal(e, out=e)


sigmoid = Op("sigmoid", _sigmoid, ("self",), dtype=FLOAT)
sigmoid.defvjp(self=lambda grad, result: grad * _cj(result * (1 - result)))  # σ' = σ(1-σ)

def _relu(x):
    if x.dtype.kind == "c":
        raise NotImplementedError("clamp is not supported for complex types")
    return np.maximum(x, R.scalar_array(0, x.dtype))


relu = Op("relu", _relu, ("self",), dtype=SAME)
# relu'(x) = 0 where x <= 0 (0 at 0), else 1: a NaN input passes its gradient through, as torch's
relu.defvjp(self=lambda grad, result: where(result <= 0, 0.0, grad))

floor = Op("floor", _no_bool(np.floor, "floor_vml_cpu"), ("self",), dtype=SAME)
ceil = Op("ceil", _no_bool(np.ceil, "ceil_vml_cpu"), ("self",), dtype=SAME)
trunc = Op("trunc", _no_bool(np.trunc, "trunc_vml_cpu"), ("self",), dtype=SAME)
for _op in (floor, ceil, trunc):
    _op.defvjp(self=lambda grad: zeros_like(grad))  # piecewise constant: derivative 0


def _clamp(self, min, max):
    if self.dtype.kind == "c":
        raise NotImplementedError("clamp is not supported for complex types")
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


def _clamp_min_grad(grad, self, min, max):
    # the lower bound is what comes out where x < lo (and lo < hi: where lo > hi the result is hi)
    if max is None:
        return where(self < min, grad, 0.0)
    return where((self < min) & (min < max), grad, 0.0)


def _clamp_max_grad(grad, self, min, max):
    if min is None:
        return where(self > max, grad, 0.0)
    return where((self > max) | (max < min), grad, 0.0)


# clamp with tensor bounds: all three are inputs (None for a missing bound), as torch's ClampBackward0
clamp_t = Op("clamp", _clamp, ("self", "min", "max"), node="ClampBackward0")
clamp_t.defvjp(self=_clamp_grad, min=_clamp_min_grad, max=_clamp_max_grad)


_BITS = {1: np.int8, 2: np.int16, 4: np.int32, 8: np.int64}
_SELECT_MIN = 2048  # below this, np.where's own loop is faster than the four passes below


def select(condition, self, other):
    """np.where(condition, self, other), bit for bit, without a branch per element.

    NumPy's where takes a branch on every element: with a condition that looks random (ReLU's mask) that costs
    ~4 ns per element, 6-9x the arithmetic. Where the result's dtype has an integer twin, the choice is made on
    the bits instead: other ^ ((self ^ other) & mask), the mask all ones where the condition holds (one AND
    where one side is a zero)."""
    cond = condition if isinstance(condition, np.ndarray) else None
    if cond is None or cond.dtype != np.bool_ or cond.size < _SELECT_MIN:
        return np.where(condition, self, other)
    for x in (self, other):  # float arrays and Python numbers (which np.where casts to the result's dtype)
        if not (type(x) in (float, int) or isinstance(x, np.ndarray) and x.dtype.kind == "f"):
            return np.where(condition, self, other)
    dt = np.result_type(self, other)
    bits = _BITS.get(dt.itemsize)
    if bits is None or dt.kind != "f" or not dt.isnative:
        return np.where(condition, self, other)
    a = np.asarray(self, dt)
    b = np.asarray(other, dt)
    if not (a.flags.aligned and b.flags.aligned):
        return np.where(condition, self, other)
    ai, bi = a.view(bits), b.view(bits)
    # the result's layout, as np.where's iterator picks it: Fortran order when every operand of 2+ dims is
    # Fortran-ordered (a transpose), C order otherwise
    nd = [x for x in (cond, a, b) if x.ndim > 1]
    order = "F" if nd and all(x.flags.f_contiguous and not x.flags.c_contiguous for x in nd) else "C"
    m = cond.astype(bits)
    if a.ndim == 0 and not ai:  # self is +0: other's bits where the condition does not hold (1 - 1 = 0, 0 - 1 = ~0)
        np.subtract(m, 1, out=m)
        return np.bitwise_and(bi, m, order=order).view(dt)
    np.negative(m, out=m)  # all ones where the condition holds
    if b.ndim == 0 and not bi:  # other is +0: self's bits where the condition holds
        return np.bitwise_and(ai, m, order=order).view(dt)
    r = np.bitwise_xor(ai, bi, order=order)
    if r.shape == np.broadcast_shapes(r.shape, m.shape):
        np.bitwise_and(r, m, out=r)
    else:
        r = np.bitwise_and(r, m, order=order)
    np.bitwise_xor(r, bi, out=r)
    return r.view(dt)


where = Op("where", select, ("condition", "self", "other"), promote=(1, 2), edges=(1, 2))
where.defvjp(self=lambda grad, condition: where(condition, grad, 0.0),   # picks x where cond
             other=lambda grad, condition: where(condition, 0.0, grad))  # picks y elsewhere


def _real_only(fn, name, error):
    """Ordering does not exist for complex numbers: torch refuses them."""
    def f(self, other):
        for a in (self, other):
            k = getattr(a, "dtype", None)
            if (k is not None and k.kind == "c") or isinstance(a, complex):
                d = np.result_type(self, other)
                raise error(name.format("ComplexDouble" if d == np.complex128 else "ComplexFloat"))
        return fn(self, other)
    return f


maximum = Op("maximum", _real_only(np.maximum, "maximum not implemented for complex tensors.", RuntimeError),
             ("self", "other"))
minimum = Op("minimum", _real_only(np.minimum, "minimum not implemented for complex tensors.", RuntimeError),
             ("self", "other"))
# ties share the gradient equally, as torch; the losing side gets 0 and, where a NaN makes the comparison
# false both ways, both sides get the whole gradient (torch's masks)
maximum.defvjp(self=lambda grad, self, other: where(self == other, grad / 2, where(self < other, 0.0, grad)),
               other=lambda grad, self, other: where(self == other, grad / 2, where(other < self, 0.0, grad)))
minimum.defvjp(self=lambda grad, self, other: where(self == other, grad / 2, where(self > other, 0.0, grad)),
               other=lambda grad, self, other: where(self == other, grad / 2, where(other > self, 0.0, grad)))

# -- comparisons and logic (no derivative) -----------------------------------------------------------
eq = Op("eq", np.equal, ("self", "other"), dtype=COMPARE)
ne = Op("ne", np.not_equal, ("self", "other"), dtype=COMPARE)
lt = Op("lt", _real_only(np.less, '"lt_cpu" not implemented for \'{}\'', NotImplementedError),
         ("self", "other"), dtype=COMPARE)
le = Op("le", _real_only(np.less_equal, '"le_cpu" not implemented for \'{}\'', NotImplementedError),
         ("self", "other"), dtype=COMPARE)
gt = Op("gt", _real_only(np.greater, '"gt_cpu" not implemented for \'{}\'', NotImplementedError),
         ("self", "other"), dtype=COMPARE)
ge = Op("ge", _real_only(np.greater_equal, '"ge_cpu" not implemented for \'{}\'', NotImplementedError),
         ("self", "other"), dtype=COMPARE)
logical_not = Op("logical_not", np.logical_not, ("self",), dtype=SAME)
logical_and = Op("logical_and", np.logical_and, ("self", "other"), dtype=SAME)
logical_or = Op("logical_or", np.logical_or, ("self", "other"), dtype=SAME)
logical_xor = Op("logical_xor", np.logical_xor, ("self", "other"), dtype=SAME)


def _bitwise(name, fn):
    def f(self, other=None):
        for a in (self, other):
            k = getattr(a, "dtype", None)
            if k is not None and k.kind in "fcV":
                raise NotImplementedError(f'"{name}_cpu" not implemented for '
                                          f'\'{"Float" if k.itemsize == 4 else "Double"}\'')
        return fn(self) if other is None else fn(self, other)
    return f


bitwise_and = Op("bitwise_and", _bitwise("bitwise_and", np.bitwise_and), ("self", "other"))
bitwise_or = Op("bitwise_or", _bitwise("bitwise_or", np.bitwise_or), ("self", "other"))
bitwise_xor = Op("bitwise_xor", _bitwise("bitwise_xor", np.bitwise_xor), ("self", "other"))
bitwise_not = Op("bitwise_not", _bitwise("bitwise_not", np.invert), ("self",), dtype=SAME)


def _shift(left: bool):
    """x << n and x >> n as torch's CPU kernels compute them (both promoted to one integer dtype first): a left
    shift works on the unsigned bits (so it wraps), a right shift is arithmetic; a count below 0 or at least the
    bit width gives 0 (left, and right of an unsigned type) or the sign (right of a signed type)."""
    def f(self, other):
        a = np.asarray(self)
        n = np.asarray(other)
        dt = a.dtype
        if dt.kind == "b":
            raise NotImplementedError(f'"{"l" if left else "r"}shift_cpu" not implemented for \'Bool\'')
        bits = dt.itemsize * 8
        valid = (n >= 0) & (n < bits)
        if left:
            u = a.view(np.dtype(f"u{dt.itemsize}"))
            r = np.left_shift(u, np.where(valid, n, 0).astype(u.dtype)).view(dt)
            return np.where(valid, r, dt.type(0)).astype(dt, copy=False)
        if dt.kind == "u":
            r = np.right_shift(a, np.where(valid, n, 0).astype(dt))
            return np.where(valid, r, dt.type(0)).astype(dt, copy=False)
        return np.right_shift(a, np.where(valid, n, bits - 1).astype(dt))
    return _bitwise("lshift" if left else "rshift", f)


bitwise_left_shift = Op("bitwise_left_shift", _shift(True), ("self", "other"))
bitwise_right_shift = Op("bitwise_right_shift", _shift(False), ("self", "other"))


# -- forward mode (autograd/forward_ad.py): how each op's jvp is derived; ops not listed transpose their vjp
for _op in (conj, real, imag, cast, clone, copy_grad, neg, add, add_alpha, sub, rsub_tt, where):
    _op.defjvp(linear=True)
mul.defjvp(multilinear=True)
for _op in (sgn, angle, div, floor_divide, div_rounding, remainder, remainder_tt, remainder_st, fmod, fmod_tt, pow,
            pow_tt, pow_st, reciprocal, abs, sign, exp, exp2, expm1, log, log2, log10, log1p, sqrt, rsqrt, sin, cos,
            tan, asin, acos, atan, sinh, cosh, tanh, sigmoid, relu, floor, ceil, trunc, clamp, clamp_t, maximum,
            minimum, rsub):
    _op.defjvp(elementwise=True)
