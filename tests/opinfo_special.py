"""OpInfo entries of ndgrad/_ops/special.py: special functions, lerp/addcmul/addcdiv, predicates."""
from __future__ import annotations

import numpy as np
from opinfo import (
    FLOAT_ONLY,
    HALF,
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


def _m(name):
    return lambda lib, *a, **k: getattr(lib, name)(*a, **k)


def _meth(name):
    return lambda lib, x, *a, **k: getattr(x, name)(*a, **k)


def _self_shaped(gen):
    """Samples whose first argument already has the broadcast shape (what an in-place op needs)."""
    def g(d, r):
        for smp in gen(d, r):
            shapes = [a.array.shape for a in smp.args if isinstance(a, Arg)]
            if shapes and np.broadcast_shapes(*shapes) == shapes[0]:
                yield smp
    return g


def _inplace(name):
    # in place on a non-leaf copy, so leaves that require grad can be used
    return lambda lib, x, *a, **k: getattr(x * 1 if x.dtype.is_floating_point else x.clone(), name)(*a, **k)


_TT = binary(scalars=False)
_NOT_TENSOR = lambda: [E(F((2,)), 2.0)]  # noqa: E731

# ---- two-tensor functions
_atan2 = OpInfo("atan2", _m("atan2"), binary(away=(0,), other_away=(0,), scalars=False), dtypes=WITH_INT_BOOL,
                ops=(SP.atan2_op,), errors=_NOT_TENSOR)
_hypot = OpInfo("hypot", _m("hypot"), binary(away=(0,), other_away=(0,), scalars=False), dtypes=WITH_INT,
                ops=(SP.hypot_op,), errors=lambda: [E(ints([1, 2]), ints([3, 4])), E(F((2,)), 2.0)])
_logaddexp = OpInfo("logaddexp", _m("logaddexp"), _TT, dtypes=WITH_INT, ops=(SP.logaddexp_op, P.sigmoid),
                    errors=lambda: [E(ints([1, 2]), ints([3, 4]))])
_logaddexp2 = OpInfo("logaddexp2", _m("logaddexp2"), _TT, dtypes=WITH_INT, ops=(SP.logaddexp2_op, P.sigmoid),
                     errors=lambda: [E(ints([1, 2]), ints([3, 4]))])
add(_atan2, _hypot, _logaddexp, _logaddexp2,
    OpInfo("arctan2", _m("arctan2"), _atan2.samples, dtypes=WITH_INT, ops=(SP.atan2_op,)),
    OpInfo("Tensor.atan2", _meth("atan2"), _atan2.samples, ops=(SP.atan2_op,)),
    OpInfo("Tensor.atan2_", _inplace("atan2_"), _self_shaped(_atan2.samples), ops=(SP.atan2_op,)),
    OpInfo("Tensor.hypot", _meth("hypot"), _hypot.samples, ops=(SP.hypot_op,)),
    OpInfo("Tensor.logaddexp", _meth("logaddexp"), _TT, ops=(SP.logaddexp_op,)),
    OpInfo("logaddexp(large)", _m("logaddexp"), samples_of(
        lambda d, r: Sample((Arg(np.array([800.0, -800.0, 1.0, np.inf, -np.inf], d)),
                             Arg(np.array([799.0, -801.0, 1.0, np.inf, -np.inf], d), False)), desc="large", gradcheck=False),
    ), dtypes=FLOAT_ONLY, ops=(SP.logaddexp_op,)),
    )

# ---- unary special functions
_UN = {
    "erf": (dict(), (SP.erf_op, P.exp)),
    "erfc": (dict(), (SP.erfc_op, P.exp)),
    "erfinv": (dict(low=-0.9, high=0.9), (SP.erfinv_op, P.exp)),
    "lgamma": (dict(low=0.2, high=5.0), (SP.lgamma_op, SP.digamma_op)),
    "digamma": (dict(low=0.2, high=5.0), (SP.digamma_op, SP.polygamma_op)),
    "sinc": (dict(away=(0,)), (SP.sinc_op, P.sin, P.cos)),
}
for _name, (_dom, _ops) in _UN.items():
    add(OpInfo(_name, _m(_name), unary(**_dom), dtypes=WITH_INT_BOOL, ops=_ops,
               errors=lambda n=_name: [E(2.0)]),
        OpInfo(f"Tensor.{_name}", _meth(_name), unary(**_dom), ops=_ops[:1]),
        OpInfo(f"Tensor.{_name}_", _inplace(_name + "_"), unary(**_dom), ops=_ops[:1]))
add(OpInfo("lgamma(negative)", _m("lgamma"), unary(-4.8, -0.2, away=(-4, -3, -2, -1)), ops=(SP.lgamma_op,)),
    OpInfo("digamma(negative)", _m("digamma"), unary(-4.8, -0.2, away=(-4, -3, -2, -1)),
           ops=(SP.digamma_op, SP.polygamma_op)),
    OpInfo("digamma(large)", _m("digamma"), unary(5.0, 60.0), ops=(SP.digamma_op, SP.polygamma_op)),
    OpInfo("lgamma(poles)", _m("lgamma"), samples_of(
        lambda d, r: Sample((Arg(np.array([0.0, -1.0, -2.0, 1.0, 2.0, np.inf, -np.inf, np.nan], d), False),)),
    )),
    OpInfo("digamma(poles)", _m("digamma"), samples_of(
        lambda d, r: Sample((Arg(np.array([0.0, -0.0, -1.0, -2.0, 1.0, np.inf, -np.inf, np.nan], d), False),)),
    )),
    OpInfo("erfinv(edges)", _m("erfinv"), samples_of(
        lambda d, r: Sample((Arg(np.array([-1.0, 1.0, 0.0, 1.5, -2.0, np.nan, 0.999, -0.9999], d), False),)),
    )),
    OpInfo("erf(wide)", _m("erf"), unary(-6.0, 6.0), ops=(SP.erf_op,)),
    OpInfo("erfc(wide)", _m("erfc"), unary(-6.0, 27.0), ops=(SP.erfc_op,)),
    )

# ---- logit
add(OpInfo("logit", _m("logit"), unary(0.05, 0.95), dtypes=WITH_INT_BOOL, ops=(SP.logit_op,), errors=lambda: [E(2.0)]),
    OpInfo("logit(eps)", lambda lib, x: lib.logit(x, 0.2), unary(0.02, 0.98, away=(0.2, 0.8)), dtypes=WITH_INT,
           ops=(SP.logit_op, P.where)),
    OpInfo("Tensor.logit", lambda lib, x: x.logit(eps=0.1), unary(0.02, 0.98, away=(0.1, 0.9)), ops=(SP.logit_op,)),
    OpInfo("Tensor.logit_", _inplace("logit_"), unary(0.05, 0.95), ops=(SP.logit_op,)),
    )

# ---- xlogy
_xlogy_tt = binary(low=-2.0, high=2.0, other_low=0.2, other_high=3.0, scalars=False)
add(OpInfo("xlogy", _m("xlogy"), _xlogy_tt, dtypes=WITH_INT_BOOL, ops=(SP.xlogy_op,),
           errors=lambda: [E("a", F((2,)))]),
    OpInfo("xlogy(tensor, scalar)", _m("xlogy"), samples_of(
        lambda d, r: Sample((A((3, 4), d, r), 2.5), desc="float"),
        lambda d, r: Sample((A((), d, r), 3), desc="int, 0-d"),
        lambda d, r: Sample((A((4, 3), d, r, layout="T"), 0.5), desc="transposed"),
    ), dtypes=WITH_INT, ops=(SP.xlogy_ts, SP.xlogy_op)),
    OpInfo("xlogy(scalar, tensor)", _m("xlogy"), samples_of(
        lambda d, r: Sample((2.5, A((3, 4), d, r, 0.2, 3.0)), desc="float"),
        lambda d, r: Sample((3, A((), d, r, 0.2, 3.0)), desc="int, 0-d"),
    ), dtypes=WITH_INT, ops=(SP.xlogy_st,)),
    OpInfo("xlogy(zeros)", _m("xlogy"), samples_of(
        lambda d, r: Sample((Arg(np.array([0.0, 0.0, 1.0, 0.0, 2.0], d)),
                             Arg(np.array([0.0, 2.0, 0.5, np.nan, 1.5], d))), desc="x = 0", gradcheck=False),
    ), ops=(SP.xlogy_op,)),
    OpInfo("Tensor.xlogy", _meth("xlogy"), _xlogy_tt, ops=(SP.xlogy_op,)),
    OpInfo("Tensor.xlogy_", _inplace("xlogy_"), _self_shaped(_xlogy_tt), ops=(SP.xlogy_op,)),
    )

# ---- square, frac, round, nan_to_num
def _nonfinite(values, d):
    a = np.array(values)
    return Arg(a.astype(d) if np.dtype(d).kind == "f" else np.nan_to_num(a, posinf=5, neginf=-5).astype(d))



add(OpInfo("square", _m("square"), unary(), dtypes=WITH_INT_BOOL + (f32,), ops=(P.pow,), errors=lambda: [E(2.0)]),
    OpInfo("Tensor.square", _meth("square"), unary(), dtypes=WITH_INT, ops=(P.pow,)),
    OpInfo("Tensor.square_", _inplace("square_"), unary(), dtypes=WITH_INT, ops=(P.pow,)),
    OpInfo("frac", _m("frac"), unary(-3.0, 3.0, away=(-3, -2, -1, 0, 1, 2, 3)), dtypes=HALF, ops=(SP.frac_op,),
           errors=lambda: [E(ints([1, 2])), E(ints([True], np.bool_))]),
    OpInfo("Tensor.frac_", _inplace("frac_"), unary(-3.0, 3.0, away=(-3, -2, -1, 0, 1, 2, 3)), ops=(SP.frac_op,)),
    OpInfo("round", _m("round"), unary(-3.0, 3.0), dtypes=WITH_INT + (np.float16,), ops=(SP.round_op,),
           errors=lambda: [E(ints([True], np.bool_)), E(ints([1, 2]), decimals=1)]),
    OpInfo("round(half to even)", _m("round"), samples_of(
        lambda d, r: Sample((Arg(np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49], d)),), gradcheck=False)),
        ops=(SP.round_op,)),
    OpInfo("round(decimals)", lambda lib, x, d: lib.round(x, decimals=d), samples_of(
        lambda d, r: Sample((A((3, 4), d, r, -30.0, 30.0), 2), desc="2"),
        lambda d, r: Sample((A((5,), d, r, -300.0, 300.0), -1), desc="-1"),
        lambda d, r: Sample((A((), d, r), 0), desc="0, 0-d"),
        lambda d, r: Sample((A((4, 3), d, r, layout="T"), 1), desc="transposed"),
    ), ops=(SP.round_dec_op,), errors=lambda: [E(F((3,)), None), E(F((3,)), 1.5)]),
    OpInfo("Tensor.round", lambda lib, x: x.round(decimals=1), unary(), ops=(SP.round_dec_op,)),
    OpInfo("Tensor.round_", _inplace("round_"), unary(), ops=(SP.round_op,)),
    OpInfo("nan_to_num", lambda lib, x, *a: lib.nan_to_num(x, *a), samples_of(
        lambda d, r: Sample((_nonfinite([1.0, np.nan, np.inf, -np.inf, -2.0], d),), desc="defaults"),
        lambda d, r: Sample((_nonfinite([[1.0, np.nan], [np.inf, -np.inf]], d), 1.5, 100.0, -100.0), desc="values"),
        lambda d, r: Sample((A((3, 4), d, r),), desc="finite"),
        lambda d, r: Sample((A((), d, r),), desc="0-d"),
        lambda d, r: Sample((A((0, 2), d, r),), desc="empty"),
    ), dtypes=WITH_INT_BOOL + (np.float16,), ops=(SP.nan_to_num_op, P.where)),
    OpInfo("Tensor.nan_to_num_", lambda lib, x: (x * 1).nan_to_num_(nan=2.0), samples_of(
        lambda d, r: Sample((Arg(np.array([1.0, np.nan, np.inf, -np.inf, -2.0], d)),)),
    ), ops=(SP.nan_to_num_op,)),
    )

# ---- copysign, softplus, heaviside
add(OpInfo("copysign", _m("copysign"), binary(away=(0,), other_away=(0,), scalar=-1.5, int_scalar=-2),
           dtypes=WITH_INT_BOOL, ops=(SP.copysign_op, SP.copysign_ts, P.sign)),
    OpInfo("copysign(zeros)", _m("copysign"), samples_of(
        lambda d, r: Sample((Arg(np.array([0.0, -0.0, 1.0, -2.0], d)), Arg(np.array([-1.0, 1.0, -0.0, 0.0], d))),
                            gradcheck=False)), ops=(SP.copysign_op,)),
    OpInfo("Tensor.copysign", _meth("copysign"), binary(away=(0,), other_away=(0,)), ops=(SP.copysign_op,)),
    OpInfo("Tensor.copysign_", _inplace("copysign_"), _self_shaped(binary(away=(0,), other_away=(0,))), ops=(SP.copysign_op,)),
    OpInfo("nn.functional.softplus", lambda lib, x, *a: lib.nn.functional.softplus(x, *a), samples_of(
        lambda d, r: Sample((A((3, 4), d, r, -5.0, 5.0),), desc="default"),
        lambda d, r: Sample((A((5,), d, r, -5.0, 5.0, away=(2.0,)), 2.0, 4.0), desc="beta, threshold"),
        lambda d, r: Sample((A((), d, r),), desc="0-d"),
        lambda d, r: Sample((A((4, 3), d, r, -30.0, 30.0, away=(20.0,), layout="T"),), desc="above threshold"),
        lambda d, r: Sample((A((0, 3), d, r),), desc="empty"),
    ), dtypes=WITH_INT, ops=(SP.softplus_op, P.sigmoid, P.where),
        errors=lambda: [E(ints([1, 2]))]),
    OpInfo("heaviside", _m("heaviside"), samples_of(
        lambda d, r: Sample((Arg(np.array([-1.5, 0.0, 2.0, 0.0], d)), Arg(np.array([0.5, 0.25, 0.5, 1.0], d))),
                            desc="same shape"),
        lambda d, r: Sample((A((3, 4), d, r), A((), d, r)), desc="0-d values"),
        lambda d, r: Sample((Arg(np.array([-1, 0, 3], np.int64)), ints([7, 8, 9])), desc="int"),
    ), ops=(SP.heaviside_op,), differentiable=False,
        errors=lambda: [E(ints([1, 0]), F((2,))), E(F((2,)), 0.5)]),
    OpInfo("Tensor.heaviside", _meth("heaviside"), samples_of(
        lambda d, r: Sample((A((3,), d, r), A((3,), d, r)),)), differentiable=False),
    )

# ---- lerp, addcmul, addcdiv
_lerp_s = samples_of(
    lambda d, r: Sample((A((3, 4), d, r), A((3, 4), d, r), 0.3), desc="same shape"),
    lambda d, r: Sample((A((3, 4), d, r), A((4,), d, r), 0.7), desc="broadcast, w >= 0.5"),
    lambda d, r: Sample((A((), d, r), A((3,), d, r), -0.5), desc="0-d, negative weight"),
    lambda d, r: Sample((A((4, 3), d, r, layout="T"), A((4, 3), d, r, layout="step"), 1.5), desc="non-contiguous"),
    lambda d, r: Sample((A((0, 3), d, r), A((3,), d, r), 2), desc="empty, int weight"),
)
_lerp_t = samples_of(
    lambda d, r: Sample((A((3, 4), d, r), A((3, 4), d, r), A((3, 4), d, r, 0.0, 1.0)), desc="same shape"),
    lambda d, r: Sample((A((3, 1), d, r), A((4,), d, r), A((3, 4), d, r, -1.0, 2.0)), desc="broadcast"),
    lambda d, r: Sample((A((2, 3), d, r), A((2, 3), d, r), A((), d, r)), desc="0-d weight"),
    lambda d, r: Sample((A((2, 3), d, r), A((2, 3), d, r), A((), f64, r)), desc="0-d float64 weight"),
    lambda d, r: Sample((A((4, 3), d, r, layout="T"), A((4, 3), d, r), A((4, 3), d, r, layout="step")),
                        desc="non-contiguous"),
)
_lerp_errors = lambda: [E(ints([1, 2]), ints([3, 4]), 0.5), E(F((2,)), F((2,), f32), 0.5),  # noqa: E731
                        E(F((2,)), F((2,)), F((2,), f32)), E(F((2,)), 2.0, 0.5)]
_addc = samples_of(
    lambda d, r: Sample((A((3, 4), d, r), A((3, 4), d, r), A((3, 4), d, r, away=(0,))), desc="same shape"),
    lambda d, r: Sample((A((3, 4), d, r), A((3, 1), d, r), A((4,), d, r, away=(0,))), {"value": 0.5}, desc="broadcast"),
    lambda d, r: Sample((A((), d, r), A((2, 3), d, r), A((), d, r, away=(0,))), {"value": 2}, desc="0-d"),
    lambda d, r: Sample((A((4, 3), d, r, layout="T"), A((4, 3), d, r, layout="step"), A((4, 3), d, r, away=(0,))),
                        {"value": -1.5}, desc="non-contiguous"),
    lambda d, r: Sample((A((0, 3), d, r), A((3,), d, r), A((3,), d, r, away=(0,))), desc="empty"),
)
add(OpInfo("lerp", _m("lerp"), _lerp_s, dtypes=(f64, f32, np.float16), ops=(SP.lerp_s,), errors=_lerp_errors),
    OpInfo("lerp(tensor weight)", _m("lerp"), _lerp_t, ops=(SP.lerp_t,)),
    OpInfo("Tensor.lerp", _meth("lerp"), _lerp_t, ops=(SP.lerp_t,)),
    OpInfo("Tensor.lerp_", _inplace("lerp_"), _self_shaped(_lerp_s), ops=(SP.lerp_s,)),
    OpInfo("Tensor.lerp_(tensor weight)", _inplace("lerp_"), _self_shaped(_lerp_t), ops=(SP.lerp_t,)),
    OpInfo("addcmul", _m("addcmul"), _addc, dtypes=WITH_INT, ops=(SP.addcmul_op,),
           errors=lambda: [E(ints([True], np.bool_), ints([True], np.bool_), ints([True], np.bool_)),
                           E(F((2,)), 2.0, F((2,)))]),
    OpInfo("addcmul(mixed)", _m("addcmul"), samples_of(
        lambda d, r: Sample((A((3,), d, r), A((3,), np.int64, r), A((3,), d, r))),
        lambda d, r: Sample((A((3,), np.int64, r), A((3,), d, r), A((3,), d, r)), {"value": 0.5}),
        lambda d, r: Sample((ints([True, False], np.bool_), ints([1, 2]), ints([3, 4])), {"value": 2}),
    ), dtypes=FLOAT_ONLY, ops=(SP.addcmul_op,)),
    OpInfo("addcdiv", _m("addcdiv"), _addc, dtypes=FLOAT_ONLY, ops=(SP.addcdiv_op,),
           errors=lambda: [E(F((2,)), ints([1, 2]), ints([3, 4])), E(F((2,)), 2.0, F((2,)))]),
    OpInfo("addcdiv(mixed)", _m("addcdiv"), samples_of(
        lambda d, r: Sample((A((3,), d, r), A((3,), np.int64, r), A((3,), d, r, 0.5, 2.0))),
        lambda d, r: Sample((A((3,), np.int64, r), A((3,), d, r), A((3,), d, r, 0.5, 2.0))),
    ), dtypes=FLOAT_ONLY, ops=(SP.addcdiv_op,)),
    OpInfo("Tensor.addcmul", _meth("addcmul"), _addc, ops=(SP.addcmul_op,)),
    OpInfo("Tensor.addcmul_", _inplace("addcmul_"), _self_shaped(_addc), ops=(SP.addcmul_op,)),
    OpInfo("Tensor.addcdiv", _meth("addcdiv"), _addc, ops=(SP.addcdiv_op,)),
    OpInfo("Tensor.addcdiv_", _inplace("addcdiv_"), _self_shaped(_addc), ops=(SP.addcdiv_op,)),
    )


# ---- predicates
def _special_values(d, r):
    if np.dtype(d).kind == "f":
        yield Sample((Arg(np.array([1.0, np.nan, np.inf, -np.inf, -0.0, 0.0, -2.5], d)),), desc="special values")
    yield Sample((A((3, 4), d, r),), desc="2-d")
    yield Sample((A((), d, r),), desc="0-d")
    yield Sample((A((4, 3), d, r, layout="T"),), desc="transposed")
    yield Sample((A((0, 2), d, r),), desc="empty")


for _name in ("isnan", "isinf", "isfinite", "isposinf", "isneginf", "isreal", "signbit"):
    add(OpInfo(_name, _m(_name), _special_values, dtypes=WITH_INT_BOOL + (np.float16, np.uint8), differentiable=False,
               errors=lambda: [E(2.0)]),
        OpInfo(f"Tensor.{_name}", _meth(_name), _special_values, differentiable=False))


def _close_samples(d, r):
    a = A((3, 4), d, r)
    yield Sample((a, a), desc="equal")
    yield Sample((A((3, 4), d, r), A((3, 4), d, r)), desc="different")
    yield Sample((A((3, 4), d, r), A((4,), d, r)), desc="broadcast")
    if np.dtype(d).kind == "f":
        yield Sample((Arg(np.array([1.0, np.nan, np.inf, 1.0], d)), Arg(np.array([1.0 + 1e-7, np.nan, np.inf, 1.1], d))),
                     desc="special")
        yield Sample((Arg(np.array([1.0, np.nan, 2.0], d)), Arg(np.array([1.05, np.nan, 2.3], d))),
                     {"rtol": 0.1, "atol": 0.0, "equal_nan": True}, desc="tolerances")


add(OpInfo("isclose", _m("isclose"), _close_samples, dtypes=WITH_INT_BOOL, differentiable=False,
           errors=lambda: [E(F((2,)), F((2,), f32))]),
    OpInfo("Tensor.isclose", _meth("isclose"), _close_samples, differentiable=False),
    OpInfo("allclose", _m("allclose"), _close_samples, dtypes=WITH_INT_BOOL, differentiable=False),
    OpInfo("Tensor.allclose", _meth("allclose"), _close_samples, differentiable=False),
    OpInfo("equal", _m("equal"), samples_of(
        lambda d, r: (lambda a: Sample((a, a), desc="same"))(A((3, 4), d, r)),
        lambda d, r: Sample((A((3, 4), d, r), A((3, 4), d, r)), desc="different"),
        lambda d, r: Sample((A((3, 4), d, r), A((4,), d, r)), desc="shapes"),
        lambda d, r: Sample((ints([1, 2]), Arg(np.array([1.0, 2.0]), False)), desc="dtypes"),
        lambda d, r: Sample((A((0,), d, r), A((0,), d, r)), desc="empty"),
    ), dtypes=WITH_INT_BOOL, differentiable=False),
    OpInfo("Tensor.equal", _meth("equal"), samples_of(
        lambda d, r: (lambda a: Sample((a, a), desc="same"))(A((3, 4), d, r))), differentiable=False),
    )


def _reduce_samples(d, r):
    lo, hi = (-1.0, 1.0)
    m = lambda *s, **kw: A(s, d, r, lo, hi, **kw)  # noqa: E731
    yield Sample((m(3, 4),), desc="all")
    yield Sample((m(3, 4), 1), desc="dim")
    yield Sample((m(3, 4), -2, True), desc="dim keepdim")
    yield Sample((m(2, 3, 4), (0, 2)), desc="dims")
    yield Sample((m(),), desc="0-d")
    yield Sample((m(), 0), desc="0-d dim")
    yield Sample((m(0, 3),), desc="empty")
    yield Sample((m(0, 3), 0), desc="empty dim")
    yield Sample((m(4, 3, layout="T"), 0), desc="transposed")
    yield Sample((Arg(np.ones((2, 3), d)), 1), desc="ones")


for _name in ("all", "any"):
    add(OpInfo(_name, _m(_name), _reduce_samples, dtypes=WITH_INT_BOOL + (np.uint8,), differentiable=False,
               errors=lambda: [E(F((2, 3)), 2), E(F((2,)), -3)]),
        OpInfo(f"Tensor.{_name}", _meth(_name), _reduce_samples, differentiable=False))
