"""OpInfo entries of ndgrad/_ops/specfun.py and the `ndgrad.special` namespace (torch.special).

Accuracy against SciPy/mpmath on dense grids (tails, poles, large arguments) is in tests/test_special.py;
this file checks the ops as ops: gradcheck/gradgradcheck, forward mode, and torch's values, dtypes, node
names and errors. torch's own bessel_j0/j1/y0/y1 and airy_ai are only about 1e-6 accurate in float64 (see
test_special.py), so their entries compare with torch at that tolerance.
"""
from __future__ import annotations

import numpy as np
from opinfo import (
    FLOAT_ONLY,
    WITH_INT,
    WITH_INT_BOOL,
    A,
    Arg,
    E,
    F,
    OpInfo,
    Sample,
    add,
    binary,
    f32,
    f64,
    ints,
    samples_of,
    unary,
)

from ndgrad._ops import pointwise as P
from ndgrad._ops import special as SP
from ndgrad._ops import specfun as SF
from ndgrad.special import _POLYNOMIALS


def _sp(name):
    return lambda lib, *a, **k: getattr(lib.special, name)(*a, **k)


def _top(name):
    return lambda lib, *a, **k: getattr(lib, name)(*a, **k)


def _meth(name):
    return lambda lib, x, *a, **k: getattr(x, name)(*a, **k)


def _inplace(name):
    return lambda lib, x, *a, **k: getattr(x * 1 if x.dtype.is_floating_point else x.clone(), name)(*a, **k)


def _cplx():
    return Arg(np.array([1 + 1j, 2 - 1j], np.complex64), requires_grad=False)


def _half():
    return Arg(np.array([0.5, 1.5], np.float16), requires_grad=False)


def _fixed(values, grad=False):
    def f(d, r):
        with np.errstate(over="ignore"):  # 1e300 is inf in float32
            return Sample((Arg(np.array(values).astype(d), grad),), desc="edges", gradcheck=False)
    return f


# ---- differentiable unary functions: (domain, ops, edge values, whether torch refuses float16)
_UNARY = {
    "erfcx": (dict(low=-3.0, high=5.0), (SF.erfcx_op,), [-30.0, -1.0, 0.0, 1e-3, 12.0, 1e300, np.inf, -np.inf, np.nan],
              True),
    "ndtr": (dict(low=-4.0, high=4.0), (SF.ndtr_op, P.exp), [-40.0, -9.0, 0.0, 9.0, np.inf, -np.inf, np.nan], False),
    "log_ndtr": (dict(low=-6.0, high=3.0), (SF.log_ndtr_op, P.exp),
                 [-40.0, -5.0, 0.0, 6.0, np.inf, -np.inf, np.nan], True),
    "ndtri": (dict(low=0.05, high=0.95), (SF.ndtri_op, P.exp), [0.0, 1.0, 1e-300, 0.5, 1 - 1e-16, -0.1, 1.1, np.nan],
              True),
    "i0": (dict(low=-3.0, high=3.0), (SF.i0_op, SF.i1_op), [0.0, -1.0, 30.0, 700.0, -np.inf, np.inf, np.nan], False),
    "i0e": (dict(low=-3.0, high=3.0, away=(0,)), (SF.i0e_op, SF.i1e_op, P.sign),
            [0.0, -1.0, 30.0, 700.0, -np.inf, np.inf, np.nan], False),
    "i1": (dict(low=-3.0, high=3.0, away=(0,)), (SF.i1_op, SF.i0_op, P.where),
           [0.0, -0.0, 30.0, -700.0, -np.inf, np.inf, np.nan], False),
    "i1e": (dict(low=-3.0, high=3.0, away=(0,)), (SF.i1e_op, SF.i0e_op, P.where),
            [0.0, -0.0, 30.0, -700.0, -np.inf, np.inf, np.nan], False),
    "entr": (dict(low=0.1, high=3.0), (SF.entr_op, P.log), [0.0, -1.0, 1e-300, np.inf, np.nan], False),
}
for _name, (_dom, _ops, _edges, _no_half) in _UNARY.items():
    _errs = [E(_cplx()), E(2.0)] + ([E(_half())] if _no_half else [])
    add(OpInfo(f"special.{_name}", _sp(_name), unary(**_dom), dtypes=WITH_INT_BOOL, ops=_ops,
               errors=lambda e=_errs: e),
        OpInfo(f"special.{_name}(edges)", _sp(_name), samples_of(_fixed(_edges))))
add(OpInfo("special.ndtr(half)", _sp("ndtr"), unary(-2.0, 2.0), dtypes=(np.float16,), differentiable=False,
           atol={np.float16: 2e-3}, rtol={np.float16: 2e-3}),
    OpInfo("special.i0(half)", _sp("i0"), unary(-2.0, 2.0), dtypes=(np.float16,), differentiable=False))
# float32 with the gradient at x = 0 (torch's 1/2 for i1 and i1e, 0 for i0e)
add(OpInfo("special.i1(at 0)", _sp("i1"), samples_of(_fixed([0.0, 1.0, -1.0], True)), ops=(SF.i1_op,)),
    OpInfo("special.i1e(at 0)", _sp("i1e"), samples_of(_fixed([0.0, 1.0, -1.0], True)), ops=(SF.i1e_op,)),
    OpInfo("special.i0e(at 0)", _sp("i0e"), samples_of(_fixed([0.0, 1.0, -1.0], True)), ops=(SF.i0e_op,)),
    OpInfo("special.ndtri(tails)", _sp("ndtri"), samples_of(
        lambda d, r: Sample((Arg(np.array([1e-4, 1e-3, 0.3, 0.7, 0.999], d)),), desc="tails")),
        ops=(SF.ndtri_op,)),
    OpInfo("special.log_ndtr(tail)", _sp("log_ndtr"), samples_of(
        lambda d, r: Sample((Arg(np.array([-30.0, -12.0, -3.0, 2.0, 5.0], d)),), desc="tails")),
        ops=(SF.log_ndtr_op,)),
    OpInfo("special.erfcx(large)", _sp("erfcx"), unary(5.0, 60.0), ops=(SF.erfcx_op,)),
    )

# ---- i0: torch.i0 and the Tensor methods
add(OpInfo("i0", _top("i0"), unary(-3.0, 3.0), dtypes=WITH_INT_BOOL, ops=(SF.i0_op, SF.i1_op),
           errors=lambda: [E(_cplx()), E(2.0)]),
    OpInfo("Tensor.i0", _meth("i0"), unary(-3.0, 3.0), ops=(SF.i0_op,)),
    OpInfo("Tensor.i0_", _inplace("i0_"), unary(-3.0, 3.0), ops=(SF.i0_op,)),
    )


# ---- polygamma
def _polygamma_samples(d, r):
    yield Sample((1, A((3, 4), d, r, 0.2, 4.0)), desc="n = 1")
    yield Sample((2, A((5,), d, r, 0.2, 4.0)), desc="n = 2")
    yield Sample((3, A((), d, r, 0.5, 4.0)), desc="n = 3, 0-d")
    yield Sample((0, A((4,), d, r, 0.2, 4.0)), desc="n = 0 is digamma")
    yield Sample((2, A((3,), d, r, -2.8, -2.2)), desc="negative non-integer x")
    yield Sample((1, A((4, 3), d, r, 0.3, 3.0, layout="T")), desc="transposed")
    yield Sample((2, A((0, 3), d, r)), desc="empty")


def _polygamma_errors():
    return [E(-1, F((2,))), E(1.5, F((2,))), E(F((2,)), 1), E(1, _cplx()), E(2, _cplx())]


_PG_OPS = (SF.polygamma_pub, SP.polygamma_op)
add(OpInfo("polygamma", _top("polygamma"), _polygamma_samples, dtypes=WITH_INT, ops=_PG_OPS,
           errors=_polygamma_errors),
    OpInfo("special.polygamma", _sp("polygamma"), _polygamma_samples, dtypes=WITH_INT, ops=_PG_OPS,
           errors=_polygamma_errors),
    OpInfo("Tensor.polygamma", lambda lib, n, x: x.polygamma(n), _polygamma_samples, ops=_PG_OPS),
    OpInfo("Tensor.polygamma_", lambda lib, n, x: (x * 1).polygamma_(n), _polygamma_samples,
           ops=(SF.polygamma_inplace, SP.polygamma_op)),
    OpInfo("polygamma(edges)", lambda lib, x, n: lib.polygamma(n, x), samples_of(*[
        (lambda n: lambda d, r: Sample((Arg(np.array([0.0, -1.0, -2.5, 1e-300, np.inf, -np.inf, np.nan], d), False),
                                        n), desc=f"n = {n}"))(n) for n in (0, 2, 3, 4)])),
    OpInfo("polygamma(half)", _top("polygamma"), samples_of(lambda d, r: Sample((2, A((4,), d, r, 0.5, 3.0)))),
           dtypes=(np.float16,), differentiable=False, rtol={np.float16: 5e-3}, atol={np.float16: 5e-3}),
    )


# ---- mvlgamma / multigammaln
def _mvlgamma_samples(d, r):
    yield Sample((A((3, 4), d, r, 1.6, 5.0), 3), desc="p = 3")
    yield Sample((A((5,), d, r, 0.3, 4.0), 1), desc="p = 1")
    yield Sample((A((), d, r, 2.0, 4.0), 4), desc="p = 4, 0-d")
    yield Sample((A((4, 3), d, r, 1.2, 4.0, layout="T"), 2), desc="transposed")
    yield Sample((A((0, 2), d, r, 2.0, 4.0), 2), desc="empty")


def _mvlgamma_errors():
    return [E(F((2,), low=3, high=4), 0), E(F((2,), low=3, high=4), -1), E(F((2,)), 2.0),
            E(ints([True, False], np.bool_), 2), E(2.0, 2)]


_MV_OPS = (SF.mvlgamma_op, SP.digamma_op, SP.polygamma_op)
add(OpInfo("mvlgamma", _top("mvlgamma"), _mvlgamma_samples, dtypes=WITH_INT, ops=_MV_OPS, errors=_mvlgamma_errors),
    OpInfo("special.multigammaln", _sp("multigammaln"), _mvlgamma_samples, dtypes=WITH_INT, ops=_MV_OPS,
           errors=_mvlgamma_errors),
    OpInfo("Tensor.mvlgamma", _meth("mvlgamma"), _mvlgamma_samples, ops=_MV_OPS[:1]),
    OpInfo("Tensor.mvlgamma_", _inplace("mvlgamma_"), _mvlgamma_samples, ops=_MV_OPS[:1]),
    )

# ---- xlog1py
_X1P = binary(low=-2.0, high=2.0, other_low=-0.7, other_high=3.0, scalars=False)
add(OpInfo("special.xlog1py", _sp("xlog1py"), _X1P, dtypes=WITH_INT_BOOL, ops=(SF.xlog1py_op,),
           errors=lambda: [E(2, 3), E(_cplx(), _cplx()), E("a", F((2,)))]),
    OpInfo("special.xlog1py(tensor, scalar)", _sp("xlog1py"), samples_of(
        lambda d, r: Sample((A((3, 4), d, r), 2.5), desc="float"),
        lambda d, r: Sample((A((), d, r), 3), desc="int, 0-d"),
        lambda d, r: Sample((A((4, 3), d, r, layout="T"), 0.5), desc="transposed"),
    ), dtypes=WITH_INT, ops=(SF.xlog1py_ts, SF.xlog1py_op)),
    OpInfo("special.xlog1py(scalar, tensor)", _sp("xlog1py"), samples_of(
        lambda d, r: Sample((2.5, A((3, 4), d, r, -0.7, 3.0)), desc="float"),
        lambda d, r: Sample((3, A((), d, r, -0.7, 3.0)), desc="int, 0-d"),
    ), dtypes=WITH_INT, ops=(SF.xlog1py_st,)),
    OpInfo("special.xlog1py(zeros)", _sp("xlog1py"), samples_of(
        lambda d, r: Sample((Arg(np.array([0.0, 0.0, 1.0, 0.0, 2.0, -1.0], d)),
                             Arg(np.array([-1.0, 2.0, -0.5, np.nan, 1.5, -1.0], d))), desc="x = 0",
                            gradcheck=False),
    ), ops=(SF.xlog1py_op,)),
    OpInfo("special.xlog1py(half)", _sp("xlog1py"), binary(0.5, 2.0, scalars=False), dtypes=(np.float16,),
           differentiable=False),
    )


# ---- zeta: differentiable in q only (torch: NotImplementedError for s)
def _zeta_samples(d, r):
    s = lambda shape, lo=1.2, hi=6.0: Arg(make_s(shape, d, r, lo, hi), False)  # noqa: E731
    yield Sample((s((3, 4)), A((3, 4), d, r, 0.3, 4.0)), desc="same shape")
    yield Sample((s((4,)), A((3, 1), d, r, 0.3, 4.0)), desc="broadcast")
    yield Sample((s(()), A((5,), d, r, 0.3, 4.0)), desc="0-d s")
    yield Sample((s((2,), 1.001, 1.01), A((2,), d, r, 0.5, 2.0)), desc="s near 1")
    yield Sample((s((3,)), A((3,), d, r, 20.0, 200.0)), desc="large q")
    yield Sample((s((0,)), A((0,), d, r)), desc="empty")


def make_s(shape, d, r, lo, hi):
    return r.uniform(lo, hi, shape).astype(d)


def _zeta_errors():
    return [E(2, 3), E(_half(), _half()), E(_cplx(), _cplx()), E("a", F((2,)))]


add(OpInfo("special.zeta", _sp("zeta"), _zeta_samples, dtypes=WITH_INT, ops=(SF.zeta_op,), errors=_zeta_errors),
    OpInfo("special.zeta(scalar, tensor)", _sp("zeta"), samples_of(
        lambda d, r: Sample((2.5, A((3, 4), d, r, 0.3, 4.0)), desc="float"),
        lambda d, r: Sample((3, A((), d, r, 0.3, 4.0)), desc="int, 0-d"),
    ), dtypes=WITH_INT, ops=(SF.zeta_st, SF.zeta_op)),
    OpInfo("special.zeta(edges)", _sp("zeta"), samples_of(
        lambda d, r: Sample((Arg(np.array([1.0, 0.5, 2.0, 2.0, 2.0, 3.0, 2.5, 2.0, np.inf, np.nan, 1.0000001, 40.0],
                                          d), False),
                             Arg(np.array([1.0, 1.0, 0.0, -1.0, -1.5, -1.5, -1.5, np.inf, 2.0, 1.0, 1.0, 0.5], d),
                                 False)), desc="edges")), ops=()),
    # the derivative for s is refused at backward, with torch's node names
    OpInfo("special.zeta(s requires grad)", _sp("zeta"), samples_of(
        lambda d, r: Sample((A((3,), d, r, 1.5, 4.0), A((3,), d, r, 0.5, 2.0)), desc="both", gradcheck=False),
        lambda d, r: Sample((A((3,), d, r, 1.5, 4.0), 2.0), desc="tensor, number", gradcheck=False),
    ), differentiable=False, ops=(SF.zeta_op, SF.zeta_ts)),
    )


# ---- igamma / igammac and special.gammainc / gammaincc: differentiable in `other` only
def _igamma_samples(d, r):
    a = lambda shape, lo=0.3, hi=5.0: Arg(make_s(shape, d, r, lo, hi), False)  # noqa: E731
    yield Sample((a((3, 4)), A((3, 4), d, r, 0.2, 6.0)), desc="same shape")
    yield Sample((a((4,)), A((3, 1), d, r, 0.2, 6.0)), desc="broadcast")
    yield Sample((a(()), A((5,), d, r, 0.2, 6.0)), desc="0-d a")
    yield Sample((a((3,), 0.01, 0.5), A((3,), d, r, 0.05, 1.0)), desc="small a")
    yield Sample((a((3,), 200.0, 400.0), A((3,), d, r, 200.0, 400.0)), desc="large a")
    yield Sample((a((0,)), A((0,), d, r)), desc="empty")


def _igamma_edges(d, r):
    return Sample((Arg(np.array([0.0, 0.0, 1.0, -1.0, 1.0, np.inf, np.inf, 1.0, 2.0, np.nan, 1.0], d), False),
                   Arg(np.array([0.0, 1.0, 0.0, 1.0, -1.0, 1.0, np.inf, np.inf, np.inf, 1.0, np.nan], d), False)),
                  desc="edges")


def _igamma_errors(name):
    return lambda: [E(ints([1, 2]), ints([1, 2])), E(_cplx(), _cplx()), E(F((2,)), 2.0), E(2.0, F((2,)))]


for _name, _fn, _op in (("igamma", _top("igamma"), SF.igamma_op), ("igammac", _top("igammac"), SF.igammac_op),
                        ("special.gammainc", _sp("gammainc"), SF.igamma_op),
                        ("special.gammaincc", _sp("gammaincc"), SF.igammac_op)):
    add(OpInfo(_name, _fn, _igamma_samples, dtypes=FLOAT_ONLY, ops=(_op,), errors=_igamma_errors(_name)),
        OpInfo(f"{_name}(edges)", _fn, samples_of(_igamma_edges), ops=()),
        OpInfo(f"{_name}(input requires grad)", _fn, samples_of(
            lambda d, r: Sample((A((3,), d, r, 0.5, 3.0), A((3,), d, r, 0.5, 3.0)), gradcheck=False)),
            differentiable=False),
        OpInfo(f"{_name}(mixed dtypes)", _fn, samples_of(
            lambda d, r: Sample((Arg(make_s((3,), d, r, 0.5, 3.0), False), Arg(np.array([1, 2, 3]), False))),
            lambda d, r: Sample((Arg(np.array([1, 2, 3]), False), A((3,), d, r, 0.5, 3.0))),
            # float32 x: finite differences in float32 are meaningless, torch parity only
            lambda d, r: Sample((Arg(make_s((3,), d, r, 0.5, 3.0), False), Arg(np.array([1.5, 2.0, 0.7], f32))),
                                gradcheck=False),
        ), ops=(_op,)))
for _name in ("igamma", "igammac"):
    add(OpInfo(f"Tensor.{_name}", _meth(_name), _igamma_samples, ops=(getattr(SF, _name + "_op"),)),
        OpInfo(f"Tensor.{_name}_", lambda lib, a, x, n=_name: getattr(a.clone(), n + "_")(x), samples_of(
            lambda d, r: Sample((Arg(make_s((3, 4), d, r, 0.3, 5.0), False), A((3, 4), d, r, 0.2, 6.0))),
            lambda d, r: Sample((Arg(make_s((3, 4), d, r, 0.3, 5.0), False), A((4,), d, r, 0.2, 6.0)))),
               ops=(getattr(SF, _name + "_op"),)))
add(OpInfo("special.gammainc(half)", _sp("gammainc"), samples_of(
    lambda d, r: Sample((A((4,), d, r, 0.5, 3.0), A((4,), d, r, 0.5, 3.0)))), dtypes=(np.float16,),
    differentiable=False))

# ---- functions torch does not differentiate: their outputs never require grad
_J_TOL = dict(rtol={f64: 1e-5, f32: 1e-5}, atol={f64: 1e-6, f32: 1e-5})  # torch's own accuracy (see docstring)
_NONDIFF = {
    "bessel_j0": (dict(low=-30.0, high=30.0), [0.0, -0.0, 1e-300, 2.404825557695773, -np.inf, np.inf, np.nan], _J_TOL),
    "bessel_j1": (dict(low=-30.0, high=30.0), [0.0, -0.0, 1e-300, 3.83, -np.inf, np.inf, np.nan], _J_TOL),
    "bessel_y0": (dict(low=0.05, high=30.0), [0.0, -1.0, 1e-300, 0.89, np.inf, np.nan], _J_TOL),
    "bessel_y1": (dict(low=0.05, high=30.0), [0.0, -1.0, 1e-300, 2.2, np.inf, np.nan], _J_TOL),
    "airy_ai": (dict(low=-12.0, high=6.0), [0.0, -2.338107410459767, 1e-300, 110.0, -np.inf, np.inf, np.nan],
                dict(rtol={f64: 1e-4, f32: 1e-4}, atol={f64: 1e-5, f32: 1e-5})),
    "modified_bessel_i0": (dict(low=-30.0, high=30.0), [0.0, 700.0, -np.inf, np.inf, np.nan], {}),
    "modified_bessel_i1": (dict(low=-30.0, high=30.0), [0.0, -0.0, -700.0, -np.inf, np.inf, np.nan], {}),
    "modified_bessel_k0": (dict(low=0.01, high=30.0), [0.0, -1.0, 1e-300, 700.0, np.inf, np.nan], {}),
    "modified_bessel_k1": (dict(low=0.01, high=30.0), [0.0, -1.0, 1e-300, 700.0, np.inf, np.nan], {}),
    "scaled_modified_bessel_k0": (dict(low=0.01, high=30.0), [0.0, -1.0, 1e-300, 1e5, np.inf, np.nan], {}),
    "scaled_modified_bessel_k1": (dict(low=0.01, high=30.0), [0.0, -1.0, 1e-300, 1e5, np.inf, np.nan], {}),
    "spherical_bessel_j0": (dict(low=-20.0, high=20.0), [0.0, 1e-8, -np.inf, np.inf, np.nan], {}),
}
for _name, (_dom, _edges, _tol) in _NONDIFF.items():
    add(OpInfo(f"special.{_name}", _sp(_name), unary(**_dom), dtypes=WITH_INT_BOOL, differentiable=False,
               errors=lambda: [E(_cplx()), E(_half()), E(2.0)], **_tol),
        OpInfo(f"special.{_name}(edges)", _sp(_name), samples_of(_fixed(_edges)), differentiable=False, **_tol))


# ---- orthogonal polynomials (no derivatives)
def _poly_samples(low, high):
    def gen(d, r):
        x = lambda shape: A(shape, d, r, low, high)  # noqa: E731
        yield Sample((x((3, 4)), Arg(r.integers(0, 12, (3, 4)).astype(d), False)), desc="tensor n")
        yield Sample((x((5,)), 3), desc="int n")
        yield Sample((x((4,)), 2.7), desc="float n truncates")
        yield Sample((x((2, 3)), Arg(np.array([-1.0, 0.0, 1.0, 7.5, 12.0, 25.0], d).reshape(2, 3), False)),
                     desc="n < 0, fractional, large")
        yield Sample((0.3, Arg(np.array([0.0, 1.0, 4.0, 9.0], d), False)), desc="number x")
        yield Sample((Arg(np.array([-1.0, 1.0, 0.0, 0.5, -1.0, 1.0], d)), Arg(np.array([3.0, 4.0, 0.0, 2.0, 10.0,
                                                                                          11.0], d), False)),
                     desc="x = ±1, 0")
        yield Sample((x((3,)), Arg(np.array([2, 30, 5]), False)), desc="int64 n")
        yield Sample((x((0, 2)), 3), desc="empty")
    return gen


_POLY_DOMAIN = {"laguerre_polynomial_l": (0.0, 5.0), "hermite_polynomial_h": (-3.0, 3.0),
                "hermite_polynomial_he": (-3.0, 3.0), "legendre_polynomial_p": (-1.0, 1.0)}
for _name in _POLYNOMIALS:
    _lo, _hi = _POLY_DOMAIN.get(_name, (-1.0, 1.0) if "shifted" not in _name else (0.0, 1.0))
    add(OpInfo(f"special.{_name}", _sp(_name), _poly_samples(_lo, _hi), dtypes=FLOAT_ONLY, differentiable=False,
               rtol={f64: 1e-10, f32: 1e-4}, atol={f64: 1e-10, f32: 1e-4},
               errors=lambda: [E(2, 3), E(_cplx(), _cplx()), E(_half(), _half())]),
        OpInfo(f"special.{_name}(outside)", _sp(_name), _poly_samples(-3.0, 3.0), dtypes=FLOAT_ONLY,
               differentiable=False, rtol={f64: 1e-9, f32: 1e-4}, atol={f64: 1e-9, f32: 1e-4}),
        OpInfo(f"special.{_name}(int)", _sp(_name), samples_of(
            lambda d, r: Sample((ints([0, 1, 2, -1]), ints([3, 2, 1, 4])))), dtypes=(np.int64,),
            differentiable=False))

# ---- torch.special's spellings of main-namespace functions (same ops, same node names)
_ALIASES = {
    "erf": dict(), "erfc": dict(), "erfinv": dict(low=-0.9, high=0.9), "expit": dict(), "exp2": dict(),
    "expm1": dict(), "log1p": dict(low=-0.7, high=2.0), "gammaln": dict(low=0.2, high=5.0),
    "digamma": dict(low=0.2, high=5.0), "psi": dict(low=0.2, high=5.0), "sinc": dict(away=(0,)),
    "logit": dict(low=0.05, high=0.95),
}
_COMPLEX_OK = ("expit", "exp2", "expm1", "log1p", "sinc")  # torch takes complex input for these
for _name, _dom in _ALIASES.items():
    add(OpInfo(f"special.{_name}", _sp(_name), unary(**_dom), dtypes=WITH_INT_BOOL,
               errors=lambda n=_name: [E(2.0)] + ([] if n in _COMPLEX_OK else [E(_cplx())])))
add(OpInfo("special.logit(eps)", lambda lib, x: lib.special.logit(x, eps=0.2), unary(0.02, 0.98, away=(0.2, 0.8))),
    OpInfo("special.xlogy", _sp("xlogy"), binary(other_low=0.2, other_high=3.0), dtypes=WITH_INT,
           errors=lambda: [E(2, 3), E(_cplx(), _cplx())]),
    OpInfo("special.round", _sp("round"), unary(away=(-1.5, -0.5, 0.5, 1.5)), dtypes=(f64, f32),
           errors=lambda: [E(ints([1, 2])), E(ints([True], np.bool_)), E(_cplx())]),
    OpInfo("special.round(decimals)", lambda lib, x: lib.special.round(x, decimals=1), unary(away=(-0.05, 0.05))),
    OpInfo("special.softmax", lambda lib, x, **k: lib.special.softmax(x, 1, **k), samples_of(
        lambda d, r: Sample((A((3, 4), d, r),)),
        lambda d, r: Sample((A((2, 3), d, r),), dict(dtype=None)),
    ), errors=lambda: [E(F((2, 3)), 2)]),
    OpInfo("special.softmax(dtype)", lambda lib, x: lib.special.softmax(x, 0, dtype=lib.float64),
           unary(empty=False), dtypes=(f32,), differentiable=False),
    OpInfo("special.log_softmax", lambda lib, x: lib.special.log_softmax(x, -1), unary(empty=False)),
    OpInfo("special.logsumexp", lambda lib, x: lib.special.logsumexp(x, 0, keepdim=True), unary(empty=False),
           dtypes=WITH_INT),
    )
