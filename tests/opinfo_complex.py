"""Complex numbers: conj, real, imag, angle, sgn, and the conjugate-Wirtinger gradients of the core ops.

Inputs are real (a, b) and combined into z = a + b·1j inside each function, whose output is real, so the
usual float64 gradcheck and the torch comparison apply unchanged: torch's gradient of a real loss with
respect to a and b is the real and imaginary part of its complex gradient.
"""
from __future__ import annotations

from ndgrad._ops import linalg as L
from ndgrad._ops import pointwise as P
from ndgrad._ops import reduction as Rd
from opinfo import FLOAT_ONLY, A, OpInfo, Sample, add, binary, samples_of


def _z(a, b):
    return a + b * 1j


def _w(lib, a, b):
    return lib.real(_z(a, b) * (0.5 - 1.5j)) + 0.25j * lib.imag(_z(b, a)) + 1.5


add(
    OpInfo("real(z)", lambda lib, a, b: lib.real(_z(a, b) * _z(b, a)), binary(scalars=False),
           dtypes=FLOAT_ONLY, ops=(P.real, P.mul, P.add)),
    OpInfo("imag(z)", lambda lib, a, b: lib.imag(_z(a, b) * _z(b, a)), binary(scalars=False),
           dtypes=FLOAT_ONLY, ops=(P.imag, P.mul)),
    OpInfo("conj(z)", lambda lib, a, b: lib.imag(lib.conj(_z(a, b)) * _z(a, b - 1)), binary(scalars=False),
           dtypes=FLOAT_ONLY, ops=(P.conj, P.imag, P.mul)),
    OpInfo("Tensor.real/imag", lambda lib, a, b: _z(a, b).exp().real + _z(b, a).sin().imag, binary(scalars=False),
           dtypes=FLOAT_ONLY, ops=(P.real, P.imag, P.exp, P.sin)),
    OpInfo("angle(z)", lambda lib, a, b: lib.angle(_z(a, b)), binary(0.3, 2.0, scalars=False),
           dtypes=FLOAT_ONLY, ops=(P.angle,)),
    OpInfo("angle(x)", lambda lib, a, b: lib.angle(a) * b, binary(away=(0,), scalars=False),
           dtypes=FLOAT_ONLY, ops=(P.angle,)),
    OpInfo("sgn(x)", lambda lib, a, b: lib.sgn(a) * b + a, binary(away=(0,), scalars=False),
           dtypes=FLOAT_ONLY, ops=(P.sgn,)),
    OpInfo("sgn(z)", lambda lib, a, b: lib.real(lib.sgn(_z(a, b)) * (2 - 1j)), binary(0.3, 2.0, scalars=False),
           dtypes=FLOAT_ONLY, ops=(P.sgn, P.real)),
    OpInfo("abs(z)", lambda lib, a, b: _z(a, b).abs(), binary(0.3, 2.0, scalars=False), dtypes=FLOAT_ONLY,
           ops=(P.abs, P.sgn)),
    OpInfo("complex pointwise chain",
           lambda lib, a, b: lib.real(lib.log(_z(a, b) + 3) * lib.sqrt(_z(b, a) + 3) / (_z(a, b).cos() + 2)
                                      + (_z(a, b) ** 2).exp() * lib.reciprocal(_z(b, a) + 3)),
           binary(-1.0, 1.0, scalars=False), dtypes=FLOAT_ONLY,
           ops=(P.log, P.sqrt, P.div, P.cos, P.pow, P.exp, P.reciprocal)),
    OpInfo("complex transcendental chain",
           lambda lib, a, b: lib.real(lib.tanh(_z(a, b)) * lib.sigmoid(_z(b, a)) + lib.sinh(_z(a, b)) * lib.cosh(
               _z(b, a)) + lib.tan(_z(a, b) * 0.5) + lib.atan(_z(b, a) * 0.5) + lib.asin(_z(a, b) * 0.3)
               + lib.acos(_z(b, a) * 0.3) + lib.exp2(_z(a, b)) + lib.expm1(_z(b, a)) + lib.log2(_z(a, b) + 3)
               + lib.log10(_z(b, a) + 3) + lib.log1p(_z(a, b) + 2) + lib.rsqrt(_z(b, a) + 3)),
           binary(-1.0, 1.0, scalars=False), dtypes=FLOAT_ONLY,
           ops=(P.tanh, P.sigmoid, P.sinh, P.cosh, P.tan, P.atan, P.asin, P.acos, P.exp2, P.expm1, P.log2, P.log10,
                P.log1p, P.rsqrt)),
    OpInfo("complex prod and powers",
           lambda lib, a, b: lib.real(lib.prod(_z(a, b) + 2) * (1 - 2j) + ((_z(a, b) + 2) ** (_z(b, a) * 0.5)).sum()
                                      + (2 ** _z(a, b)).sum() + lib.prod(_z(b, a) + 2, 0).sum()),
           binary(-1.0, 1.0, scalars=False), dtypes=FLOAT_ONLY,
           ops=(Rd.prod_all, Rd.prod_dim, P.pow_tt, P.pow_st)),
    OpInfo("complex matmul", lambda lib, a, b: lib.real((_z(a, b) @ _z(b, a).mT).sum(0) * (1 - 2j)),
           samples_of(lambda d, r: Sample((A((3, 4), d, r), A((3, 4), d, r)), desc="matrices"),
                      lambda d, r: Sample((A((2, 3, 4), d, r), A((2, 3, 4), d, r)), desc="batched")),
           dtypes=FLOAT_ONLY, ops=(L.mm, L.matmul_nd)),
)
