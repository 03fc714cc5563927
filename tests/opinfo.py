"""One table of every public op: sample inputs, domain, tolerances, dtypes and its torch twin.

Each `OpInfo` holds one function `fn(lib, *args, **kwargs)` that is called with `lib = ndgrad` and with
`lib = torch` (the twin), so both run the same code; `torch_fn` overrides it where the APIs differ.
Samples are generated from NumPy with a seeded generator, so each library gets identical (but separate)
arrays. `ops` lists the registered `Op`s an entry exercises (forward, or backward under gradgradcheck);
tests/test_ops.py checks that every registered op is claimed by some entry, and that the claims are true.

Marking a known deviation: `xfail={"check": "reason"}` on a sample or an entry, where check is one of
"forward", "dtype", "grad", "grad_fn", "gradcheck", "gradgradcheck", "error". Tests fail if a marked
check passes (strict), so stale marks get removed.

Known deviations from torch, not covered by a mark:
- prod: third and higher derivatives at inputs with zeros are not implemented (the second ones are).
- NumPy and torch may round float16 and float32 results differently in the last place: values are compared
  with torch.testing's default tolerances, gradients with ten times those.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np

from ndgrad._ops import linalg as L
from ndgrad._ops import pointwise as P
from ndgrad._ops import reduction as Rd
from ndgrad._ops import shape as S

f16, f32, f64 = np.float16, np.float32, np.float64
INTS = (np.uint8, np.int8, np.int16, np.int32, np.int64)
ALL_DTYPES = (np.bool_, *INTS, f16, f32, f64)
FLOAT_ONLY = (f64, f32)
WITH_INT = (f64, f32, np.int64)
WITH_INT_BOOL = (f64, f32, np.int64, np.int32, np.bool_)
HALF = (f64, f32, f16, np.int64)  # ops whose float16 results NumPy and torch round alike


# -- sample inputs -------------------------------------------------------------------------------------------
class Arg:
    """A tensor argument: its array (possibly a non-contiguous view) and whether it requires grad."""

    __slots__ = ("array", "requires_grad")

    def __init__(self, array: np.ndarray, requires_grad: bool | None = None) -> None:
        self.array = array
        self.requires_grad = array.dtype.kind == "f" if requires_grad is None else requires_grad


@dataclass
class Sample:
    args: tuple
    kwargs: dict = field(default_factory=dict)
    desc: str = ""
    gradcheck: bool = True       # False at points where finite differences are meaningless (ties, kinks)
    xfail: dict = field(default_factory=dict)


@dataclass
class ErrorInput:
    args: tuple
    kwargs: dict = field(default_factory=dict)
    desc: str = ""


@dataclass
class OpInfo:
    name: str
    fn: Callable
    samples: Callable[[Any, np.random.Generator], Iterator[Sample]]
    dtypes: tuple = FLOAT_ONLY
    ops: tuple = ()
    torch_fn: Callable | None = None
    differentiable: bool = True
    gradgrad: bool = True
    errors: Callable[[], list] | None = None
    rtol: dict = field(default_factory=dict)     # per dtype, for the comparison with torch
    atol: dict = field(default_factory=dict)
    gc_atol: float = 1e-5
    gc_rtol: float = 1e-3
    gc_eps: float = 1e-6
    xfail: dict = field(default_factory=dict)

    def twin(self) -> Callable:
        return self.torch_fn or self.fn

    def tolerances(self, dtype: Any) -> tuple:
        d = np.dtype(dtype)
        base = {np.dtype(f64): (1e-7, 1e-7), np.dtype(f32): (1.3e-6, 1e-5), np.dtype(f16): (1e-3, 1e-3)}
        rtol, atol = base.get(d, (0.0, 0.0))
        return self.rtol.get(d.type, rtol), self.atol.get(d.type, atol)


def make(shape: tuple, dtype: Any, rng: np.random.Generator, low: float = -2.0, high: float = 2.0, *,
         away: tuple = (), layout: str = "", distinct: bool = False) -> np.ndarray:
    """Random array of `dtype`; floats drawn in [low, high) at least 0.1 from each point in `away`.
    layout "T": a transposed view; "step": every other element of the last dim (both non-contiguous)."""
    shape = tuple(shape)
    base_shape = shape
    if layout == "T":
        base_shape = shape[::-1]
    elif layout == "step":
        base_shape = shape[:-1] + (shape[-1] * 2,)
    d = np.dtype(dtype)
    if d.kind == "f":
        if distinct:
            n = int(np.prod(base_shape))
            a = (rng.permutation(n) * (high - low) / max(n, 1) + low + rng.uniform(0.01, 0.03, n))
            a = a.reshape(base_shape)
        else:
            a = rng.uniform(low, high, base_shape)
        for p in away:
            a = np.where(np.abs(a - p) < 0.1, p + np.where(a >= p, 0.15, -0.15), a)
        a = a.astype(d)
    elif d.kind == "b":
        a = rng.random(base_shape) > 0.5
    else:  # integers inside [low, high]
        lo = max(int(np.ceil(low)), 0 if d.kind == "u" else -128)
        a = rng.integers(lo, max(int(np.floor(high)), lo) + 1, base_shape).astype(d)
    a = np.asarray(a)  # a 0-d comparison gives a NumPy scalar
    if layout == "T":
        a = a.T
    elif layout == "step":
        a = a[..., ::2]
    return a


def build(arg: Any, lib: Any, grad: bool = True) -> Any:
    """Turn nested Args into `lib` tensors (leaves requiring grad where asked)."""
    if isinstance(arg, Arg):
        t = lib.from_numpy(arg.array)
        if grad and arg.requires_grad and arg.array.dtype.kind == "f":
            t.requires_grad_()
        return t
    if isinstance(arg, list):
        return [build(a, lib, grad) for a in arg]
    if isinstance(arg, tuple):
        return tuple(build(a, lib, grad) for a in arg)
    return arg


def _unary(dtype, rng, low=-2.0, high=2.0, away=(), empty=True):
    m = lambda shape, **kw: Arg(make(shape, dtype, rng, low, high, away=away, **kw))  # noqa: E731
    yield Sample((m(()),), desc="0-d")
    yield Sample((m((5,)),), desc="1-d")
    yield Sample((m((3, 4)),), desc="2-d")
    yield Sample((m((4, 3), layout="T"),), desc="transposed")
    yield Sample((m((2, 3), layout="step"),), desc="strided")
    if empty:
        yield Sample((m((0, 3)),), desc="empty")


def unary(low=-2.0, high=2.0, away=(), empty=True):
    return lambda dtype, rng: _unary(dtype, rng, low, high, away, empty)


def binary(low=-2.0, high=2.0, away=(), other_low=None, other_high=None, other_away=None, scalar=1.5,
           scalars=True, int_scalar=2):
    """Pairs: same shape, broadcasting both ways, 0-d with n-d, non-contiguous, empty, Python scalars."""
    ol = low if other_low is None else other_low
    oh = high if other_high is None else other_high
    oa = away if other_away is None else other_away

    def gen(dtype, rng):
        a = lambda shape, **kw: Arg(make(shape, dtype, rng, low, high, away=away, **kw))  # noqa: E731
        b = lambda shape, **kw: Arg(make(shape, dtype, rng, ol, oh, away=oa, **kw))  # noqa: E731
        yield Sample((a((3, 4)), b((3, 4))), desc="same shape")
        yield Sample((a((3, 4)), b((4,))), desc="broadcast rhs")
        yield Sample((a((3, 1)), b((1, 4))), desc="broadcast both")
        yield Sample((a(()), b((3,))), desc="0-d lhs")
        yield Sample((a((2, 3)), b(())), desc="0-d rhs")
        yield Sample((a((4, 3), layout="T"), b((4, 3), layout="step")), desc="non-contiguous")
        yield Sample((a((0, 3)), b((3,))), desc="empty")
        if scalars:
            yield Sample((a((2, 3)), scalar), desc="float scalar")
            if int_scalar is not None:
                yield Sample((a((3,)), int_scalar), desc="int scalar")
    return gen


def samples_of(*fixed: Callable) -> Callable:
    """Samples from functions of (dtype, rng) returning Sample."""
    def gen(dtype, rng):
        for f in fixed:
            yield f(dtype, rng)
    return gen


def A(shape, dtype, rng, low=-2.0, high=2.0, **kw) -> Arg:
    return Arg(make(shape, dtype, rng, low, high, **kw))


def ints(values, dtype=np.int64) -> Arg:
    return Arg(np.array(values, dtype=dtype), requires_grad=False)


def E(*args, **kwargs) -> ErrorInput:
    return ErrorInput(args, kwargs)


def F(shape, dtype=f64, low=-2.0, high=2.0) -> Arg:
    """A fixed float argument for error inputs."""
    return Arg(make(shape, dtype, np.random.default_rng(0), low, high), requires_grad=False)


# -- the table ------------------------------------------------------------------------------------------------
OPS: list[OpInfo] = []


def add(*infos: OpInfo) -> None:
    OPS.extend(infos)


def alias(info: OpInfo, name: str, fn: Callable, **kw: Any) -> OpInfo:
    d = dict(info.__dict__)
    d.update(name=name, fn=fn, torch_fn=kw.pop("torch_fn", None), **kw)
    return OpInfo(**d)


# ---- arithmetic
_add = OpInfo("add", lambda lib, x, y: lib.add(x, y), binary(), dtypes=HALF, ops=(P.add, Rd.sum_to))
_add_alpha = OpInfo("add(alpha)", lambda lib, x, y: lib.add(x, y, alpha=2.5), binary(scalars=False),
                    ops=(P.add_alpha,))
_sub = OpInfo("sub", lambda lib, x, y: lib.sub(x, y), binary(), dtypes=HALF, ops=(P.sub,),
              errors=lambda: [E(ints([True], np.bool_), ints([False], np.bool_))])
_sub_alpha = OpInfo("sub(alpha)", lambda lib, x, y: lib.sub(x, y, alpha=2), binary(scalars=False), ops=(P.sub,))
_rsub = OpInfo("rsub", lambda lib, x, y: lib.rsub(x, y), binary(), dtypes=WITH_INT, ops=(P.rsub, P.rsub_tt))
_mul = OpInfo("mul", lambda lib, x, y: lib.mul(x, y), binary(), dtypes=WITH_INT_BOOL + (f16,), ops=(P.mul,))
_div = OpInfo("div", lambda lib, x, y: lib.div(x, y), binary(other_away=(0,), scalar=2.5), dtypes=HALF,
              ops=(P.div,))
add(_add, _add_alpha, _sub, _sub_alpha, _rsub, _mul, _div,
    alias(_sub, "subtract", lambda lib, x, y: lib.subtract(x, y)),
    alias(_mul, "multiply", lambda lib, x, y: lib.multiply(x, y)),
    alias(_div, "divide", lambda lib, x, y: lib.divide(x, y)),
    alias(_div, "true_divide", lambda lib, x, y: lib.true_divide(x, y)),
    OpInfo("div(rounding_mode=trunc)", lambda lib, x, y: lib.div(x, y, rounding_mode="trunc"),
           binary(away=(0,), other_low=0.3, other_high=2.0, scalar=0.7), dtypes=WITH_INT, ops=(P.div_rounding,),
           errors=lambda: [E(F((2,)), F((2,)), rounding_mode="round")]),
    OpInfo("div(rounding_mode=floor)", lambda lib, x, y: lib.div(x, y, rounding_mode="floor"),
           binary(away=(0,), other_low=0.3, other_high=2.0, scalar=0.7), dtypes=WITH_INT, ops=(P.div_rounding,),
           errors=lambda: [E(ints([3, 4]), ints([1, 0]), rounding_mode="floor")]),
    OpInfo("floor_divide", lambda lib, x, y: lib.floor_divide(x, y),
           binary(other_low=0.3, other_high=2.0, scalar=0.7), dtypes=WITH_INT, ops=(P.floor_divide,),
           differentiable=False,
           errors=lambda: [E(ints([3, 4]), ints([1, 0]))]),
    OpInfo("remainder", lambda lib, x, y: lib.remainder(x, y),
           binary(other_low=0.3, other_high=2.0, scalar=0.7), dtypes=WITH_INT, ops=(P.remainder, P.remainder_tt, P.div_rounding),
           errors=lambda: [E(ints([3, 4]), ints([1, 0]))]),
    OpInfo("fmod", lambda lib, x, y: lib.fmod(x, y), binary(other_low=0.3, other_high=2.0, scalar=0.7),
           dtypes=WITH_INT, ops=(P.fmod, P.fmod_tt, P.div_rounding)),
    OpInfo("pow(tensor, scalar)", lambda lib, x, e: lib.pow(x, e), samples_of(
        lambda d, r: Sample((A((3, 4), d, r, 0.5, 2.0), 2), desc="square"),
        lambda d, r: Sample((A((3, 4), d, r, 0.5, 2.0), 3), desc="cube"),
        lambda d, r: Sample((A((5,), d, r, 0.5, 2.0), 0.5), desc="sqrt"),
        lambda d, r: Sample((A((), d, r, 0.5, 2.0), -1.5), desc="0-d negative"),
        lambda d, r: Sample((A((4, 3), d, r, -2.0, 2.0, layout="T"), 0), desc="zero exponent"),
        lambda d, r: Sample((A((0, 2), d, r), 2.0), desc="empty"),
    ), dtypes=WITH_INT, ops=(P.pow,),
        errors=lambda: [E(ints([1, 2]), -1)]),
    OpInfo("pow(tensor, tensor)", lambda lib, x, e: lib.pow(x, e), binary(0.5, 2.0, other_low=-2.0, other_high=2.0,
                                                                         scalars=False), ops=(P.pow_tt, P.log)),
    OpInfo("pow(scalar, tensor)", lambda lib, b, e: lib.pow(b, e), samples_of(
        lambda d, r: Sample((2.5, A((3, 4), d, r)), desc="float base"),
        lambda d, r: Sample((3, A((), d, r)), desc="int base, 0-d"),
        lambda d, r: Sample((0.5, A((4, 3), d, r, layout="T")), desc="transposed"),
    ), dtypes=WITH_INT, ops=(P.pow_st,)),
    OpInfo("neg", lambda lib, x: lib.neg(x), unary(), dtypes=HALF, ops=(P.neg,),
           errors=lambda: [E(ints([True], np.bool_))]),
    OpInfo("negative", lambda lib, x: lib.negative(x), unary(), dtypes=WITH_INT, ops=(P.neg,)),
    OpInfo("reciprocal", lambda lib, x: lib.reciprocal(x), unary(0.5, 2.0), dtypes=WITH_INT, ops=(P.reciprocal,)),
    )

# ---- unary math
_UNARY_DOMAINS = {
    "abs": dict(away=(0,)), "exp": {}, "exp2": {}, "expm1": {}, "log": dict(low=0.2, high=3.0),
    "log2": dict(low=0.2, high=3.0), "log10": dict(low=0.2, high=3.0), "log1p": dict(low=-0.7, high=2.0),
    "sqrt": dict(low=0.2, high=3.0), "rsqrt": dict(low=0.2, high=3.0), "sin": {}, "cos": {},
    "tan": dict(low=-1.2, high=1.2), "asin": dict(low=-0.9, high=0.9), "acos": dict(low=-0.9, high=0.9),
    "atan": {}, "sinh": {}, "cosh": {}, "tanh": {}, "sigmoid": {}, "relu": dict(away=(0,)),
    "sign": dict(away=(0,)), "floor": dict(away=(-2, -1, 0, 1, 2)), "ceil": dict(away=(-2, -1, 0, 1, 2)),
    "trunc": dict(away=(-2, -1, 0, 1, 2)),
}
_UNARY_OPS = {"abs": (P.abs, P.sgn), "absolute": (P.abs,), "arcsin": (P.asin,), "arccos": (P.acos,),
              "arctan": (P.atan,)}
for _name, _dom in _UNARY_DOMAINS.items():
    _op = getattr(P, _name)
    _dt = (WITH_INT_BOOL if _name not in ("relu",) else WITH_INT) + (f16,)
    add(OpInfo(_name, (lambda n: lambda lib, x: getattr(lib, n)(x))(_name), unary(**_dom), dtypes=_dt,
               ops=_UNARY_OPS.get(_name, (_op,))))
for _name, _src in (("absolute", "abs"), ("arcsin", "asin"), ("arccos", "acos"), ("arctan", "atan")):
    add(OpInfo(_name, (lambda n: lambda lib, x: getattr(lib, n)(x))(_name), unary(**_UNARY_DOMAINS[_src]),
               dtypes=WITH_INT, ops=_UNARY_OPS[_name]))

# ---- clamp, where, maximum/minimum, clone, detach, cast
add(OpInfo("clamp", lambda lib, x, lo, hi: lib.clamp(x, lo, hi), samples_of(
        lambda d, r: Sample((A((3, 4), d, r, away=(-0.5, 0.5)), -0.5, 0.5), desc="both"),
        lambda d, r: Sample((A((5,), d, r, away=(0.2,)), 0.2, None), desc="min"),
        lambda d, r: Sample((A((), d, r, away=(0.3,)), None, 0.3), desc="0-d max"),
        lambda d, r: Sample((A((4, 3), d, r, away=(-1, 1), layout="T"), -1, 1), desc="int bounds, transposed"),
        lambda d, r: Sample((A((0, 2), d, r), -1.0, 1.0), desc="empty"),
        lambda d, r: Sample((Arg(np.array([-1.0, 0.0, 0.5, 1.0, 2.0], d)), 0.0, 1.0), desc="at the bounds",
                            gradcheck=False),
    ), dtypes=WITH_INT, ops=(P.clamp,),
        errors=lambda: [E(F((2,)), None, None)]),
    OpInfo("clamp(tensor bounds)", lambda lib, x, lo, hi: lib.clamp(x, lo, hi), samples_of(
        lambda d, r: Sample((A((3, 4), d, r, 0, 1, distinct=True), A((4,), d, r, -1, -0.1),
                             A((3, 1), d, r, 1.1, 2)), desc="broadcast"),
        lambda d, r: Sample((A((3,), d, r, -2, 2), A((3,), d, r, -3, -2.2), None), desc="min only"),
        lambda d, r: Sample((A((3,), d, r, -2, 2), None, A((), d, r, 2.2, 3)), desc="max only, 0-d"),
        lambda d, r: Sample((Arg(np.array([0.0, 1.0, 2.0], d)), Arg(np.array([0.0, 1.5, 1.0], d)),
                             Arg(np.array([1.0, 1.0, 0.5], d))), desc="at the bounds, min > max", gradcheck=False),
    ), ops=(P.clamp_t,)),
    OpInfo("clip", lambda lib, x: lib.clip(x, -0.5, 0.5), unary(away=(-0.5, 0.5)), ops=(P.clamp,)),
    OpInfo("where", lambda lib, c, x, y: lib.where(c, x, y), samples_of(
        lambda d, r: Sample((A((3, 4), np.bool_, r), A((3, 4), d, r), A((3, 4), d, r)), desc="same shape"),
        lambda d, r: Sample((A((3, 1), np.bool_, r), A((4,), d, r), A((3, 4), d, r)), desc="broadcast"),
        lambda d, r: Sample((A((3,), np.bool_, r), A((), d, r), 1.5), desc="scalar other"),
        lambda d, r: Sample((A((4, 3), np.bool_, r, layout="T"), A((4, 3), d, r, layout="T"),
                             A((4, 3), d, r)), desc="transposed"),
    ), dtypes=WITH_INT, ops=(P.where,),
        errors=lambda: [E(F((2,)), F((2,)), F((2,)))]),
    OpInfo("maximum", lambda lib, x, y: lib.maximum(x, y), binary(scalars=False), dtypes=WITH_INT_BOOL + (f16,),
           ops=(P.maximum,)),
    OpInfo("minimum", lambda lib, x, y: lib.minimum(x, y), binary(scalars=False), dtypes=WITH_INT_BOOL,
           ops=(P.minimum,)),
    OpInfo("maximum(ties)", lambda lib, x, y: lib.maximum(x, y), samples_of(
        lambda d, r: Sample((Arg(np.array([1.0, 2.0, 3.0], d)), Arg(np.array([1.0, 0.0, 3.0], d))),
                            gradcheck=False, desc="ties share the gradient")), ops=(P.maximum,)),
    OpInfo("clone", lambda lib, x: lib.clone(x), unary(), dtypes=WITH_INT_BOOL, ops=(P.clone,)),
    OpInfo("Tensor.contiguous", lambda lib, x: x.contiguous(), unary(), dtypes=WITH_INT, ops=(P.clone,)),
    OpInfo("detach", lambda lib, x: lib.detach(x), unary(), dtypes=WITH_INT, differentiable=False),
    # float64 -> float32 quantizes: a larger eps keeps finite differences meaningful
    OpInfo("Tensor.to(dtype)", lambda lib, x: x.to(lib.float32 if x.dtype == lib.float64 else lib.float64),
           unary(), dtypes=(f64, f32, np.int64), ops=(P.cast,), gc_eps=1e-3, gc_atol=1e-3, gradgrad=False),
    )

# ---- comparisons and logic (no derivatives)
for _name in ("eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal"):
    add(OpInfo(_name, (lambda n: lambda lib, x, y: getattr(lib, n)(x, y))(_name), binary(), dtypes=ALL_DTYPES,
               differentiable=False))
for _name in ("logical_and", "logical_or", "logical_xor"):
    add(OpInfo(_name, (lambda n: lambda lib, x, y: getattr(lib, n)(x, y))(_name), binary(scalars=False),
               dtypes=(np.bool_, np.int64, f64), differentiable=False))
for _name in ("bitwise_and", "bitwise_or", "bitwise_xor"):
    add(OpInfo(_name, (lambda n: lambda lib, x, y: getattr(lib, n)(x, y))(_name), binary(scalar=True),
               dtypes=(np.bool_, np.int64, np.int32, np.uint8), differentiable=False,
               errors=lambda: [E(F((2,)), F((2,)))]))
for _name in ("bitwise_left_shift", "bitwise_right_shift"):  # (counts out of [0, bits) included: 0 or the sign)
    add(OpInfo(_name, (lambda n: lambda lib, x, y: getattr(lib, n)(x, y))(_name), binary(scalar=True),
               dtypes=(np.int64, np.int32, np.int8, np.uint8), differentiable=False,
               errors=lambda: [E(F((2,)), F((2,)))]))
add(OpInfo("logical_not", lambda lib, x: lib.logical_not(x), unary(), dtypes=(np.bool_, np.int64, f64),
           differentiable=False),
    OpInfo("bitwise_not", lambda lib, x: lib.bitwise_not(x), unary(), dtypes=(np.bool_, np.int64, np.uint8),
           differentiable=False, errors=lambda: [E(F((2,)))]))


# ---- reductions
def _reduce_samples(distinct=False, low=-2.0, high=2.0, empty=True, zero_d=True):
    def gen(d, r):
        a = lambda shape, **kw: A(shape, d, r, low, high, distinct=distinct, **kw)  # noqa: E731
        yield Sample((a((3, 4)),), desc="all")
        yield Sample((a((3, 4)),), dict(dim=1), desc="dim 1")
        yield Sample((a((2, 3, 4)),), dict(dim=-1, keepdim=True), desc="dim -1 keepdim")
        yield Sample((a((4, 3), layout="T"),), dict(dim=0), desc="transposed dim 0")
        if zero_d:
            yield Sample((a(()),), desc="0-d")
            yield Sample((a(()),), dict(dim=0), desc="0-d dim 0")
        if empty:
            yield Sample((a((0, 3)),), dict(dim=1), desc="empty")
    return gen


def _multi_dim_samples(d, r):
    yield from _reduce_samples()(d, r)
    yield Sample((A((2, 3, 4), d, r),), dict(dim=(0, 2)), desc="dims (0, 2)")
    yield Sample((A((2, 3, 4), d, r),), dict(dim=(-1, 0), keepdim=True), desc="dims keepdim")
    yield Sample((A((0, 3), d, r),), desc="empty all")


_DIM_ERRORS = lambda: [E(F((2, 3)), dim=2), E(F((2, 3)), dim=-3)]  # noqa: E731
add(OpInfo("sum", lambda lib, x, **kw: lib.sum(x, **kw), _multi_dim_samples, dtypes=WITH_INT_BOOL + (f16,),
           ops=(Rd.sum_all, Rd.sum_dim, Rd.expand_to), errors=_DIM_ERRORS),
    OpInfo("sum(dtype)", lambda lib, x: lib.sum(x, dtype=lib.float64), unary(), dtypes=(f32, f64, np.int64),
           ops=(Rd.sum_all, P.cast)),
    OpInfo("mean", lambda lib, x, **kw: lib.mean(x, **kw), _multi_dim_samples, dtypes=(f64, f32, f16),
           ops=(Rd.mean_all, Rd.mean_dim),
           errors=lambda: [E(ints([1, 2])), E(F((2, 3)), dim=2)]),
    OpInfo("prod", lambda lib, x, **kw: lib.prod(x, **kw), samples_of(
        lambda d, r: Sample((A((3, 4), d, r, 0.5, 1.5),), desc="all"),
        lambda d, r: Sample((A((3, 4), d, r, 0.5, 1.5),), dict(dim=1), desc="dim"),
        lambda d, r: Sample((A((2, 3), d, r, 0.5, 1.5),), dict(dim=-1, keepdim=True), desc="keepdim"),
        lambda d, r: Sample((Arg(np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 1.5]], d)),), desc="zeros"),
        lambda d, r: Sample((Arg(np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 1.5]], d)),), dict(dim=1), desc="zeros dim"),
        lambda d, r: Sample((A((), d, r),), desc="0-d"),
        lambda d, r: Sample((A((4, 3), d, r, 0.5, 1.5, layout="T"),), dict(dim=0), desc="transposed"),
        lambda d, r: Sample((A((0, 3), d, r),), dict(dim=1), desc="empty"),
    ), dtypes=WITH_INT_BOOL, ops=(Rd.prod_all, Rd.prod_dim, Rd.prod_others), errors=_DIM_ERRORS),
    )


def _maxmin_samples(d, r):
    yield Sample((A((3, 4), d, r, distinct=True),), desc="all")
    yield Sample((A((3, 4), d, r, distinct=True), 1), desc="dim 1")
    yield Sample((A((2, 3, 4), d, r, distinct=True), -1, True), desc="dim -1 keepdim")
    yield Sample((A((4, 3), d, r, distinct=True, layout="T"), 0), desc="transposed")
    yield Sample((A((), d, r),), desc="0-d")
    yield Sample((A((), d, r), 0), desc="0-d dim 0")
    yield Sample((Arg(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]], d)),), desc="ties", gradcheck=False)


for _name, _all, _dim in (("max", Rd.max_all, Rd.max_dim), ("min", Rd.min_all, Rd.min_dim)):
    add(OpInfo(_name, (lambda n: lambda lib, x, *a: getattr(lib, n)(x, *a))(_name), _maxmin_samples,
               dtypes=WITH_INT_BOOL, ops=(_all, _dim, Rd.scatter_dim, Rd.gather_dim),
               errors=(lambda n: lambda: [E(F((2, 3)), 2), E(F((0, 3))), E(F((0, 3)), 0)])(_name)))
    add(OpInfo(_name + "(binary)", (lambda n: lambda lib, x, y: getattr(lib, n)(x, y))(_name),
               binary(scalars=False), dtypes=WITH_INT, ops=(P.maximum if _name == "max" else P.minimum,)))
for _name, _op in (("amax", Rd.amax), ("amin", Rd.amin)):
    add(OpInfo(_name, (lambda n: lambda lib, x, **kw: getattr(lib, n)(x, **kw))(_name), samples_of(
        lambda d, r: Sample((A((3, 4), d, r, distinct=True),), desc="all"),
        lambda d, r: Sample((A((3, 4), d, r, distinct=True),), dict(dim=1), desc="dim"),
        lambda d, r: Sample((A((2, 3, 4), d, r, distinct=True),), dict(dim=(0, 2), keepdim=True), desc="dims"),
        lambda d, r: Sample((A((), d, r),), desc="0-d"),
        lambda d, r: Sample((Arg(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]], d)),), dict(dim=1), desc="ties",
                            gradcheck=False),
        lambda d, r: Sample((Arg(np.array([[1.0, 3.0, 3.0], [3.0, 2.0, 0.0]], d)),), desc="ties all",
                            gradcheck=False),
    ), dtypes=WITH_INT, ops=(_op,), errors=lambda: [E(F((2, 3)), dim=2), E(F((0, 3)))]))
for _name in ("argmax", "argmin"):
    add(OpInfo(_name, (lambda n: lambda lib, x, **kw: getattr(lib, n)(x, **kw))(_name),
               _reduce_samples(distinct=True, empty=False), dtypes=WITH_INT, differentiable=False,
               errors=lambda: [E(F((2, 3)), dim=2), E(F((0, 3)))]))


# ---- matrix products
def _mm_pairs(*pairs):
    def gen(d, r):
        for sa, sb, desc in pairs:
            yield Sample((A(sa, d, r), A(sb, d, r)), desc=desc)
    return gen


_MATMUL_PAIRS = [((4,), (4,), "1-d @ 1-d"), ((3, 4), (4,), "2-d @ 1-d"), ((4,), (4, 2), "1-d @ 2-d"),
                 ((3, 4), (4, 2), "2-d @ 2-d"), ((2, 3, 4), (4,), "3-d @ 1-d"), ((4,), (2, 4, 3), "1-d @ 3-d"),
                 ((2, 3, 4), (4, 2), "3-d @ 2-d"), ((3, 4), (2, 4, 2), "2-d @ 3-d"),
                 ((2, 1, 3, 4), (3, 4, 2), "batch broadcast"), ((0, 4), (4, 2), "empty")]


def _matmul_samples(d, r):
    yield from _mm_pairs(*_MATMUL_PAIRS)(d, r)
    yield Sample((A((3, 4), d, r, layout="T"), A((4, 2), d, r, layout="step")), desc="non-contiguous")


def _addmm_samples(d, r):
    yield Sample((A((3,), d, r), A((2, 4), d, r), A((4, 3), d, r)), desc="bias row")
    yield Sample((A((2, 3), d, r), A((2, 4), d, r), A((4, 3), d, r)), desc="full self")
    yield Sample((A((1, 3), d, r), A((2, 4), d, r), A((4, 3), d, r)), dict(beta=0.5, alpha=2.0), desc="beta, alpha")
    yield Sample((A((2, 1), d, r), A((2, 4), d, r), A((4, 3), d, r)), dict(beta=0), desc="beta 0")
    yield Sample((A((3,), d, r), A((2, 4), d, r, layout="T"), A((4, 3), d, r)), desc="transposed mat1")


_linalg_ops = (L.dot, L.mv, L.mm, L.matmul_nd, S.unsqueeze, S.squeeze_dim_, S.transpose, S.unsafe_view, P.clone)
add(OpInfo("matmul", lambda lib, x, y: lib.matmul(x, y), _matmul_samples, dtypes=WITH_INT, ops=_linalg_ops,
           errors=lambda: [E(F((3, 4)), F((3, 4))), E(F(()), F((3,))), E(F((2,)), F((3,))),
                           E(F((2, 3, 4)), F((3, 4, 2)))]),
    OpInfo("mm", lambda lib, x, y: lib.mm(x, y), _mm_pairs(((3, 4), (4, 2), "2x2"), ((0, 4), (4, 2), "empty"),
                                                         ((1, 1), (1, 3), "ones")),
           dtypes=WITH_INT, ops=(L.mm, S.transpose),
           errors=lambda: [E(F((3, 4)), F((3, 4))), E(F((3,)), F((3, 4))), E(F((2, 3)), F((3, 4), np.float32))]),
    OpInfo("addmm", lambda lib, x, y, z, **kw: lib.addmm(x, y, z, **kw), _addmm_samples, dtypes=FLOAT_ONLY,
           ops=(L.addmm, L.mm, S.transpose, P.mul),
           errors=lambda: [E(F((3,)), F((2, 3)), F((4, 3))), E(F((3,)), F((2, 4)), F((4, 3), np.float32)),
                           E(F((5,)), F((2, 4)), F((4, 3)))]),
    OpInfo("bmm", lambda lib, x, y: lib.bmm(x, y), _mm_pairs(((2, 3, 4), (2, 4, 2), "batch 2"),
                                                           ((1, 2, 2), (1, 2, 3), "batch 1")),
           dtypes=WITH_INT, ops=(L.bmm,),
           errors=lambda: [E(F((2, 3, 4)), F((3, 4, 2))), E(F((3, 4)), F((4, 2)))]),
    OpInfo("mv", lambda lib, x, y: lib.mv(x, y), _mm_pairs(((3, 4), (4,), "mv"), ((0, 4), (4,), "empty")),
           dtypes=WITH_INT, ops=(L.mv,),
           errors=lambda: [E(F((3, 4)), F((3,))), E(F((3,)), F((3,)))]),
    OpInfo("dot", lambda lib, x, y: lib.dot(x, y), _mm_pairs(((4,), (4,), "dot"), ((0,), (0,), "empty")),
           dtypes=WITH_INT, ops=(L.dot,),
           errors=lambda: [E(F((3,)), F((4,))), E(F((2, 2)), F((2, 2))), E(F((3,)), F((3,), np.float32))]),
    OpInfo("outer", lambda lib, x, y: lib.outer(x, y), _mm_pairs(((3,), (4,), "outer"), ((0,), (2,), "empty")),
           dtypes=WITH_INT, ops=(P.mul, S.reshape)),
    OpInfo("ger", lambda lib, x, y: lib.ger(x, y), _mm_pairs(((3,), (4,), "ger")), ops=(P.mul,)),
    )


# ---- shapes
def _s(*fixed):
    """Samples for single-tensor shape ops: (shape, extra args, desc[, layout])."""
    def gen(d, r):
        for item in fixed:
            shape, extra, desc = item[:3]
            layout = item[3] if len(item) > 3 else ""
            yield Sample((A(shape, d, r, layout=layout), *extra), desc=desc)
    return gen


add(OpInfo("reshape", lambda lib, x, s: lib.reshape(x, s), _s(((3, 4), ((2, 6),), "2-d"), ((3, 4), ((-1,),), "-1"),
                                                             ((), ((1, 1),), "0-d"), ((4, 3), ((12,),), "transposed", "T"),
                                                             ((0, 3), ((3, 0),), "empty")),
           dtypes=WITH_INT_BOOL, ops=(S.reshape, S.unsafe_view),
           errors=lambda: [E(F((3, 4)), (5,)), E(F((3, 4)), (-1, -1))]),
    OpInfo("Tensor.view", lambda lib, x, *s: x.view(*s), _s(((3, 4), (2, 6), "2-d"), ((3, 4), (-1,), "-1"),
                                                           ((2, 3, 4), (6, 4), "3-d")),
           dtypes=WITH_INT, ops=(S.view,),
           errors=lambda: [E(Arg(make((4, 3), f64, np.random.default_rng(0), layout="T"), False), 12)]),
    OpInfo("flatten", lambda lib, x, *a: lib.flatten(x, *a), _s(((2, 3, 4), (), "all"), ((2, 3, 4), (1,), "from 1"),
                                                               ((2, 3, 4), (0, 1), "0..1"), ((), (), "0-d"),
                                                               ((4, 3), (), "transposed", "T")),
           dtypes=WITH_INT, ops=(S.reshape,), errors=lambda: [E(F((2, 3)), 1, 0), E(F((2, 3)), 3)]),
    OpInfo("squeeze", lambda lib, x, *a: lib.squeeze(x, *a), _s(((3, 1, 4, 1), (), "all"), ((3, 1, 4), (1,), "dim"),
                                                               ((3, 1, 4), (0,), "non-1 dim"),
                                                               ((1, 3, 1), ((0, 2),), "dims"), ((), (), "0-d"),
                                                               ((1, 4, 1), (-1,), "negative")),
           dtypes=WITH_INT, ops=(S.squeeze_all, S.squeeze_dim, S.squeeze_dims),
           errors=lambda: [E(F((2, 3)), 2)]),
    OpInfo("unsqueeze", lambda lib, x, d_: lib.unsqueeze(x, d_), _s(((3, 4), (0,), "front"), ((3, 4), (-1,), "back"),
                                                                   ((), (0,), "0-d"), ((4, 3), (1,), "transposed", "T")),
           dtypes=WITH_INT, ops=(S.unsqueeze,), errors=lambda: [E(F((2, 3)), 3), E(F((2, 3)), -4)]),
    OpInfo("transpose", lambda lib, x, a, b: lib.transpose(x, a, b), _s(((3, 4), (0, 1), "2-d"),
                                                                       ((2, 3, 4), (-1, 0), "3-d"),
                                                                       ((), (0, -1), "0-d")),
           dtypes=WITH_INT, ops=(S.transpose,), errors=lambda: [E(F((2, 3)), 0, 2)]),
    OpInfo("swapaxes", lambda lib, x, a, b: lib.swapaxes(x, a, b), _s(((3, 4), (0, 1), "2-d")), ops=(S.transpose,)),
    OpInfo("swapdims", lambda lib, x, a, b: lib.swapdims(x, a, b), _s(((2, 3, 4), (2, 0), "3-d")),
           ops=(S.transpose,)),
    OpInfo("t", lambda lib, x: lib.t(x), _s(((3, 4), (), "2-d"), ((4,), (), "1-d"), ((), (), "0-d")),
           dtypes=WITH_INT, ops=(S.t,), errors=lambda: [E(F((2, 3, 4)))]),
    OpInfo("Tensor.T", lambda lib, x: x.T, _s(((3, 4), (), "2-d"), ((2, 3, 4), (), "3-d")), ops=(S.permute,)),
    OpInfo("Tensor.mT", lambda lib, x: x.mT, _s(((3, 4), (), "2-d"), ((2, 3, 4), (), "3-d")), ops=(S.transpose,)),
    OpInfo("permute", lambda lib, x, p: lib.permute(x, p), _s(((2, 3, 4), ((2, 0, 1),), "3-d"),
                                                              ((2, 3, 4), ((-1, 0, 1),), "negative"),
                                                              ((), ((),), "0-d")),
           dtypes=WITH_INT, ops=(S.permute,),
           errors=lambda: [E(F((2, 3)), (0,)), E(F((2, 3)), (0, 0)), E(F((2, 3)), (0, 2))]),
    OpInfo("Tensor.expand", lambda lib, x, *s: x.expand(*s), _s(((3, 1), (3, 4), "expand"), ((4,), (2, 3, 4), "new dims"),
                                                               ((), (2,), "0-d"), ((3, 1), (-1, 2), "-1")),
           dtypes=WITH_INT, ops=(Rd.expand_to, Rd.sum_to),
           errors=lambda: [E(F((3, 2)), 3, 4), E(F((3, 2)), 2)]),
    OpInfo("broadcast_to", lambda lib, x, s: lib.broadcast_to(x, s), _s(((3, 1), ((3, 4),), "expand"),
                                                                        ((), ((2, 2),), "0-d")),
           dtypes=WITH_INT, ops=(Rd.expand_to,)),
    OpInfo("narrow", lambda lib, x, *a: lib.narrow(x, *a), _s(((4, 3), (0, 1, 2), "dim 0"), ((4, 3), (-1, 0, 3), "whole"),
                                                             ((4, 3), (1, 2, 0), "empty")),
           dtypes=WITH_INT, ops=(S.narrow, S.pad_slice), errors=lambda: [E(F((4, 3)), 0, 3, 2), E(F((4, 3)), 2, 0, 1)]),
    OpInfo("Tensor.unfold", lambda lib, x, *a: x.unfold(*a),
           _s(((10,), (0, 3, 2), "1-d, overlapping"), ((2, 3, 7), (2, 2, 3), "last dim, gaps"),
              ((4, 3), (-2, 4, 1), "whole dim"), ((5, 4), (0, 2, 1), "transposed", "T"), ((), (0, 1, 1), "0-d")),
           dtypes=WITH_INT, ops=(S.unfold, S.unfold_backward),
           errors=lambda: [E(F((5,)), 0, 6, 1), E(F((5,)), 0, 2, 0), E(F((5,)), 1, 2, 1)]),
    OpInfo("split", lambda lib, x, *a: lib.split(x, *a), _s(((5, 3), (2,), "int"), ((5, 3), ([1, 4],), "sizes"),
                                                           ((2, 6), (3, 1), "dim 1"), ((4, 3), (2, -1), "transposed", "T")),
           dtypes=WITH_INT, ops=(S.split, S.split_with_sizes, S.cat), errors=lambda: [E(F((4, 3)), [1, 2])]),
    OpInfo("split(first piece used)", lambda lib, x, *a: lib.split(x, *a)[0], _s(((5, 3), (2,), "int"),
                                                                               ((5, 3), ([1, 4],), "sizes")),
           ops=(S.split, S.cat)),
    OpInfo("unbind", lambda lib, x, *a: lib.unbind(x, *a), _s(((3, 2), (), "dim 0"), ((2, 3), (1,), "dim 1")),
           dtypes=WITH_INT, ops=(S.unbind, S.stack), errors=lambda: [E(F((2, 3)), 2)]),
    )


def _cat_samples(d, r):
    yield Sample(([A((2, 3), d, r), A((1, 3), d, r)],), desc="dim 0")
    yield Sample(([A((2, 3), d, r), A((2, 1), d, r), A((2, 2), d, r, layout="T")], 1), desc="dim 1, transposed")
    yield Sample(([A((2, 3), d, r), A((2, 3), d, r)], -1), desc="dim -1")
    yield Sample(([A((0, 3), d, r), A((2, 3), d, r)],), desc="empty piece")
    yield Sample(([A((2, 3), d, r), A((0,), d, r)],), desc="legacy empty 1-d")
    yield Sample(([A((3,), d, r)],), desc="single")


def _stack_samples(d, r):
    yield Sample(([A((2, 3), d, r), A((2, 3), d, r)],), desc="dim 0")
    yield Sample(([A((2, 3), d, r), A((2, 3), d, r, layout="T")], 2), desc="dim 2")
    yield Sample(([A((), d, r), A((), d, r), A((), d, r)], -1), desc="0-d")


_CAT_ERRORS = lambda: [E([F((2, 3)), F((2, 4))]), E([F((2, 3)), F((3,))]), E([F((2, 3)), F((2, 3))], 2),  # noqa
                       E([]), E([F(())])]
for _name in ("cat", "concat", "concatenate"):
    add(OpInfo(_name, (lambda n: lambda lib, ts, *a: getattr(lib, n)(ts, *a))(_name), _cat_samples,
               dtypes=WITH_INT_BOOL + (f16,), ops=(S.cat, S.narrow), errors=_CAT_ERRORS))
add(OpInfo("stack", lambda lib, ts, *a: lib.stack(ts, *a), _stack_samples, dtypes=WITH_INT_BOOL,
           ops=(S.stack, S.unbind), errors=lambda: [E([F((2, 3)), F((3, 2))]), E([F((2,)), F((2,))], 3), E([])]))
add(alias(OPS[-1], "stack(mixed dtypes)", lambda lib, a, b: lib.stack([a, b]), samples=samples_of(
    # a float32 input makes finite differences too coarse: compared with torch only
    lambda d, r: Sample((A((2,), d, r), A((2,), np.float32, r)), gradcheck=False)), dtypes=(f64,), errors=None))
add(OpInfo("cat(mixed dtypes)", lambda lib, a, b: lib.cat([a, b]), samples_of(
    lambda d, r: Sample((A((2,), d, r), A((3,), np.int64, r)), desc="float + int"),
    lambda d, r: Sample((A((2,), d, r), A((3,), np.float32, r)), desc="f64 + f32", gradcheck=False),
), dtypes=(f64, f32), ops=(S.cat,)))


# ---- indexing
def _getitem_samples(d, r):
    x = lambda *s, **kw: A(s, d, r, **kw)  # noqa: E731
    yield Sample((x(4, 3), 1), desc="int")
    yield Sample((x(4, 3), -1), desc="negative int")
    yield Sample((x(4, 3), (slice(1, 3),)), desc="slice")
    yield Sample((x(4, 3), (slice(None), slice(0, 3, 2))), desc="stepped slice")
    yield Sample((x(4, 3), (slice(None),)), desc="full slice")
    yield Sample((x(4, 3), (Ellipsis,)), desc="ellipsis")
    yield Sample((x(2, 3, 4), (Ellipsis, 1)), desc="ellipsis int")
    yield Sample((x(4, 3), (None,)), desc="None")
    yield Sample((x(4, 3), (0, None)), desc="int None")
    yield Sample((x(4, 3), (slice(1, None), 0)), desc="slice int")
    yield Sample((x(4, 3), ([0, 2, 2],)), desc="int list (repeated)")
    yield Sample((x(4, 3), (ints([3, 0]),)), desc="int tensor")
    yield Sample((x(4, 3), (slice(None), ints([[0, 1], [2, 2]]))), desc="2-d int tensor, second dim")
    yield Sample((x(4, 3), (ints([0, 1]), ints([2, 0]))), desc="two int tensors")
    yield Sample((x(4, 3), (Arg(np.array([True, False, True, True]), False),)), desc="bool mask")
    yield Sample((x(2, 3), (Arg(np.array([[True, False, True], [False, False, True]]), False),)), desc="2-d mask")
    yield Sample((x(4, 3, layout="T"), (slice(None), 1)), desc="transposed")
    yield Sample((x(5), ints(2)), desc="0-d int tensor")


def _getitem_errors():
    return [E(F((4, 3)), 4), E(F((4, 3)), (0, 0, 0)), E(F((4, 3)), ([5],)), E(F((4, 3)), (F((2,)),))]


def _setitem(lib, x, idx, v):
    y = x * 1.0 if x.dtype.is_floating_point else x.clone()
    y[idx] = v
    return y


def _setitem_samples(d, r):
    x = lambda *s, **kw: A(s, d, r, **kw)  # noqa: E731
    yield Sample((x(4, 3), 1, x(3)), desc="int")
    yield Sample((x(4, 3), (slice(1, 3),), x(2, 3)), desc="slice")
    yield Sample((x(4, 3), (slice(None), 0), x(1)), desc="broadcast value")
    yield Sample((x(4, 3), (Ellipsis, 1), 2.5), desc="scalar value")
    yield Sample((x(4, 3), (ints([0, 2]),), x(2, 3)), desc="int tensor")
    yield Sample((x(4, 3), (Arg(np.array([True, False, True, False]), False),), x(3)), desc="bool mask")
    yield Sample((x(4, 3, layout="T"), (0,), x(3)), desc="transposed")
    yield Sample((x(4, 3), (1,), A((3,), np.float32, r)), desc="float32 value", gradcheck=False)


add(OpInfo("getitem", lambda lib, x, idx: x[idx], _getitem_samples, dtypes=WITH_INT_BOOL + (f16,),
           ops=(S.select, S.slice_, S.index_basic, S.unsqueeze_index, S.index_adv, S.index_basic_backward,
                S.index_put_backward), errors=_getitem_errors),
    OpInfo("setitem", _setitem, _setitem_samples, dtypes=WITH_INT,
           ops=(S.copy_slices, S.index_put, S.zero_at, P.cast)),
    )

def _overwrite(lib, x, w, how):
    y = x * 1.0
    if how == "copy_":
        y.copy_(w)
    elif how == "fill_ tensor":
        y.fill_(w.sum())
    elif how == "fill_ number":
        y.fill_(2.5)
    elif how == "zero_":
        y.zero_()
    elif how == "setitem all":
        y[...] = w
    else:
        y[:] = 1.5
    return y * w


def _overwrite_samples(d, r):
    for how in ("copy_", "fill_ tensor", "fill_ number", "zero_", "setitem all", "setitem all number"):
        yield Sample((A((3, 4), d, r), A((4,), d, r), how), desc=how)


def _inplace_through_view(lib, x, w, how):
    y = x * 1.0
    if how == "slice":
        y[:, 1:].mul_(w)
    elif how == "view of view":
        y.view(2, 6)[1][2:5].add_(w)
    else:
        y.t()[0] = w
    return y


def _view_inplace_samples(d, r):
    yield Sample((A((4, 3), d, r), A((4, 2), d, r), "slice"), desc="mul_ on a slice")
    yield Sample((A((4, 3), d, r), A((1, 2), d, r), "slice"), desc="broadcast value")
    yield Sample((A((4, 3), d, r), A((3,), d, r), "view of view"), desc="add_ on a view of a view")
    yield Sample((A((4, 3), d, r), A((4,), d, r), "setitem on transposed view"), desc="setitem through .t()")


add(OpInfo("overwrite every element (copy_, fill_, zero_, x[...] = v)", _overwrite, _overwrite_samples,
           ops=(S.copy_all, S.fill_value, S.fill_number, S.zero_all)))
add(OpInfo("in-place through a view (CopySlices)", _inplace_through_view, _view_inplace_samples,
           ops=(S.copy_view, S.zero_view, S.select, S.slice_, S.copy_slices)))

# ---- operators (the Tensor dunder methods)
add(OpInfo("x + y", lambda lib, x, y: x + y, binary(), dtypes=WITH_INT_BOOL, ops=(P.add,)),
    OpInfo("scalar + x", lambda lib, x, y: y + x, binary(), dtypes=WITH_INT, ops=(P.add,)),
    OpInfo("x - y", lambda lib, x, y: x - y, binary(), dtypes=WITH_INT, ops=(P.sub,)),
    OpInfo("scalar - x", lambda lib, x: 2 - x, unary(), dtypes=WITH_INT, ops=(P.rsub,)),
    OpInfo("x * y", lambda lib, x, y: x * y, binary(), dtypes=WITH_INT_BOOL, ops=(P.mul,)),
    OpInfo("scalar * x", lambda lib, x: 2.5 * x, unary(), dtypes=WITH_INT, ops=(P.mul,)),
    OpInfo("x / y", lambda lib, x, y: x / y, binary(other_away=(0,)), dtypes=WITH_INT, ops=(P.div,)),
    OpInfo("scalar / x", lambda lib, x: 2 / x, unary(away=(0,)), dtypes=WITH_INT, ops=(P.reciprocal, P.mul)),
    OpInfo("x // y", lambda lib, x, y: x // y, binary(other_low=0.3, other_high=2.0, scalar=0.7), dtypes=WITH_INT,
           differentiable=False),
    OpInfo("scalar // x", lambda lib, x: 7 // x, unary(0.3, 2.0), dtypes=WITH_INT, differentiable=False),
    OpInfo("x % y", lambda lib, x, y: x % y, binary(other_low=0.3, other_high=2.0, scalar=0.7), dtypes=WITH_INT,
           ops=(P.remainder,)),
    OpInfo("scalar % x", lambda lib, x: 5.5 % x, unary(0.3, 2.0), dtypes=WITH_INT, differentiable=False),
    OpInfo("remainder(scalar, tensor)", lambda lib, c, x: lib.remainder(c, x), samples_of(
        lambda d, r: Sample((5.5, A((3, 4), d, r, 0.3, 2.0)), desc="float"),
        lambda d, r: Sample((7, A((), d, r, 0.3, 2.0)), desc="int, 0-d")), dtypes=WITH_INT, differentiable=False,
        ops=(P.remainder_st,)),
    OpInfo("x ** scalar", lambda lib, x: x ** 2, unary(), dtypes=WITH_INT, ops=(P.pow,)),
    OpInfo("x ** y", lambda lib, x, y: x ** y, binary(0.5, 2.0, other_low=-2.0, other_high=2.0),
           ops=(P.pow_tt, P.pow)),
    OpInfo("scalar ** x", lambda lib, x: 2 ** x, unary(), dtypes=WITH_INT, ops=(P.pow_st,)),
    OpInfo("x @ y", lambda lib, x, y: x @ y, _matmul_samples, dtypes=WITH_INT, ops=_linalg_ops),
    OpInfo("-x", lambda lib, x: -x, unary(), dtypes=WITH_INT, ops=(P.neg,)),
    OpInfo("abs(x)", lambda lib, x: abs(x), unary(away=(0,)), dtypes=WITH_INT, ops=(P.abs,)),
    )
for _sym in ("==", "!=", "<", "<=", ">", ">="):
    add(OpInfo(f"x {_sym} y", eval(f"lambda lib, x, y: x {_sym} y"), binary(), dtypes=WITH_INT_BOOL,
               differentiable=False))


# ---- the gradient of a gradient: `.grad` of a leaf after backward(create_graph=True) is a CopyBackwards
def _grad_after_backward(lib, x):
    import warnings
    w = lib.ones(x.shape, dtype=x.dtype, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (w * x).sum().backward(create_graph=True)
    return w.grad


add(OpInfo("Tensor.grad(create_graph)", _grad_after_backward, unary(empty=False), ops=(P.copy_grad,)))

# entries of the op families, one file each (tests/opinfo_<family>.py), each calling add(...)
import importlib as _importlib  # noqa: E402
import pathlib as _pathlib  # noqa: E402

for _f in sorted(_pathlib.Path(__file__).parent.glob("opinfo_*.py")):
    _importlib.import_module(_f.stem)

BY_NAME = {op.name: op for op in OPS}
assert len(BY_NAME) == len(OPS), "duplicate OpInfo names"
