"""OpInfo entries of ndgrad/_ops/scan.py: var/std(+_mean), norm, dist, logsumexp, cumsum/cumprod, cummax/cummin,
median, mode, sort/argsort, topk, kthvalue, count_nonzero, unique, unique_consecutive.

Known deviations from torch:
- norm/dist with p=0: the gradient is zeros; torch's is undefined (norm: `.grad` stays None, dist: backward
  raises RuntimeError). Marked xfail.
- sort/argsort are always stable and topk always sorted; where torch's unstable order differs on ties,
  the indices (and so the gradients) may differ. Samples avoid ties where indices matter.
- median/kthvalue with dim on ties may return a different index of the same value.
"""
from __future__ import annotations

import numpy as np
from opinfo import (
    WITH_INT,
    WITH_INT_BOOL,
    A,
    Arg,
    E,
    F,
    OpInfo,
    Sample,
    add,
    f32,
    f64,
    ints,
    samples_of,
)

from ndgrad._ops import reduction as Rd
from ndgrad._ops import scan as Sc

FLOATS = (f64, f32)


def _stat_samples(d, r):
    a = lambda *s, **kw: A(s, d, r, **kw)  # noqa: E731
    yield Sample((a(3, 4),), desc="all")
    yield Sample((a(3, 4), 1), desc="dim 1")
    yield Sample((a(2, 3, 4),), dict(dim=-1, keepdim=True), desc="dim -1 keepdim")
    yield Sample((a(2, 3, 4),), dict(dim=(0, 2)), desc="dims (0, 2)")
    yield Sample((a(4, 3, layout="T"),), dict(dim=0), desc="transposed")
    yield Sample((a(2, 3, layout="step"), 1, False), desc="strided, unbiased=False")
    yield Sample((a(3, 4), False), desc="unbiased positional")
    yield Sample((a(3, 4),), dict(dim=1, correction=0), desc="correction 0")
    yield Sample((a(3, 4),), dict(dim=1, correction=2), desc="correction 2")
    yield Sample((a(),), dict(correction=0), desc="0-d correction 0")
    yield Sample((a(0, 3),), dict(dim=1), desc="empty")
    yield Sample((a(0, 3),), dict(dim=0), desc="empty reduced", gradcheck=False)
    yield Sample((Arg(np.array([[1.5, 1.5, 1.5], [1.0, 2.0, 3.0]], d)),), dict(dim=1), desc="constant row",
                 gradcheck=False)
    yield Sample((a(2, 3),), dict(dim=1, correction=4), desc="correction > N", gradcheck=False)
    yield Sample((a(2, 3),), dict(dim=1, correction=3), desc="correction = N", gradcheck=False)


_STAT_ERRORS = lambda: [E(ints([1, 2])), E(F((2, 3)), 2), E(F((2, 3)), dim=-3)]  # noqa: E731

add(OpInfo("var", lambda lib, x, *a, **kw: lib.var(x, *a, **kw), _stat_samples, dtypes=FLOATS,
           ops=(Sc.var_op, Rd.mean_dim, Rd.expand_to), errors=_STAT_ERRORS),
    OpInfo("std", lambda lib, x, *a, **kw: lib.std(x, *a, **kw), _stat_samples, dtypes=FLOATS,
           ops=(Sc.std_op,), errors=_STAT_ERRORS),
    OpInfo("var_mean", lambda lib, x, *a, **kw: lib.var_mean(x, *a, **kw), _stat_samples, dtypes=FLOATS,
           ops=(Sc.var_mean_op,), errors=_STAT_ERRORS),
    OpInfo("std_mean", lambda lib, x, *a, **kw: lib.std_mean(x, *a, **kw), _stat_samples, dtypes=FLOATS,
           ops=(Sc.std_mean_op,), errors=_STAT_ERRORS),
    OpInfo("Tensor.var", lambda lib, x, *a, **kw: x.var(*a, **kw), _stat_samples, dtypes=FLOATS,
           ops=(Sc.var_op,)),
    OpInfo("Tensor.std", lambda lib, x, *a, **kw: x.std(*a, **kw), _stat_samples, dtypes=FLOATS,
           ops=(Sc.std_op,)))


_P0 = "p=0: ndgrad's gradient is zeros, torch's undefined"


def _distinct(shape, d, r, layout=""):
    """Distinct values (floats and integers), so that sorting and selection have no ties."""
    if np.dtype(d).kind == "f":
        return A(shape, d, r, distinct=True, layout=layout)
    base = shape[::-1] if layout == "T" else shape[:-1] + (shape[-1] * 2,) if layout == "step" else shape
    a = r.permutation(int(np.prod(base))).reshape(base).astype(d)
    a = a.T if layout == "T" else a[..., ::2] if layout == "step" else a
    return Arg(np.asarray(a))


def _norm_samples(d, r):
    a = lambda *s, **kw: A(s, d, r, away=(0,), **kw)  # noqa: E731
    yield Sample((a(3, 4),), desc="fro")
    yield Sample((a(3, 4), 1), desc="p=1")
    yield Sample((a(3, 4), 3, 1), desc="p=3 dim 1")
    yield Sample((a(3, 4), 1.5, -1, True), desc="p=1.5 dim -1 keepdim")
    yield Sample((a(3, 4), 0.5), desc="p=0.5")
    yield Sample((A((3, 4), d, r, distinct=True), float("inf"), 1), desc="inf dim")
    yield Sample((A((3, 4), d, r, distinct=True), float("-inf")), desc="-inf")
    yield Sample((a(3, 4), 0, 0), desc="p=0", xfail={"grad": _P0})
    yield Sample((a(2, 3, 4),), dict(dim=(0, 2)), desc="fro dims")
    yield Sample((a(4, 3, layout="T"), 2, 0), desc="transposed")
    yield Sample((a(2, 3, layout="step"),), dict(p="fro", dim=1, keepdim=True), desc="strided")
    yield Sample((a(),), desc="0-d")
    yield Sample((a(0, 3),), desc="empty")
    yield Sample((a(0, 3), 2, 0), desc="empty dim")
    yield Sample((a(3, 4), 2), dict(dtype=np.float64 if False else None), desc="dtype None")
    yield Sample((Arg(np.array([[0.0, 0.0], [1.0, -2.0]], d)), 2, 1), desc="zero row", gradcheck=False)
    yield Sample((Arg(np.array([[0.0, 0.0], [1.0, -2.0]], d)), 3, 1), desc="zero row p=3", gradcheck=False)
    yield Sample((Arg(np.array([[1.0, -3.0, 3.0], [2.0, 0.5, 0.0]], d)), float("inf"), 1), desc="inf ties",
                 gradcheck=False)


add(OpInfo("norm", lambda lib, x, *a, **kw: lib.norm(x, *a, **kw), _norm_samples, dtypes=FLOATS,
           ops=(Sc.norm_op,), errors=lambda: [E(ints([1, 2])), E(F((0, 3)), float("inf")), E(F((2, 3)), 2, 2)]),
    OpInfo("Tensor.norm", lambda lib, x, *a, **kw: x.norm(*a, **kw), _norm_samples, dtypes=FLOATS,
           ops=(Sc.norm_op,)))


def _dist_samples(d, r):
    a = lambda *s, **kw: A(s, d, r, **kw)  # noqa: E731
    yield Sample((a(3, 4), a(3, 4)), desc="p=2")
    yield Sample((a(3, 4), a(4)), dict(p=1), desc="broadcast p=1")
    yield Sample((a(3, 1), a(1, 4), 3), desc="broadcast both p=3")
    yield Sample((A((3,), d, r, 0, 1), A((3,), d, r, 2, 3, distinct=True), float("inf")), desc="inf")
    yield Sample((a(2, 3), a(), 0), desc="p=0", xfail={"grad": _P0})
    yield Sample((a(4, 3, layout="T"), a(4, 3, layout="step")), desc="non-contiguous")
    yield Sample((a(), a()), desc="0-d")
    yield Sample((a(0, 3), a(3)), desc="empty")


add(OpInfo("dist", lambda lib, x, y, *a, **kw: lib.dist(x, y, *a, **kw), _dist_samples, dtypes=FLOATS,
           ops=(Sc.dist_op,), errors=lambda: [E(ints([1, 2]), ints([1, 2])), E(F((2,)), F((3,)))]),
    OpInfo("Tensor.dist", lambda lib, x, y, *a, **kw: x.dist(y, *a, **kw), _dist_samples, dtypes=FLOATS,
           ops=(Sc.dist_op,)))


def _lse_samples(d, r):
    a = lambda *s, **kw: A(s, d, r, **kw)  # noqa: E731
    yield Sample((a(3, 4), 1), desc="dim 1")
    yield Sample((a(2, 3, 4), -1, True), desc="dim -1 keepdim")
    yield Sample((a(2, 3, 4), (0, 2)), desc="dims")
    yield Sample((a(4, 3, layout="T"), 0), desc="transposed")
    yield Sample((a(), 0), desc="0-d")
    yield Sample((a(0, 3), 1), desc="empty")
    yield Sample((a(0, 3), 0), desc="empty reduced", gradcheck=False)
    if np.dtype(d).kind == "f":
        yield Sample((Arg(np.array([[1000.0, 1000.5], [-1000.0, -1001.0]], d)), 1), desc="large (stable)")
        yield Sample((Arg(np.array([[-np.inf, -np.inf], [1.0, -np.inf]], d)), 1), desc="-inf", gradcheck=False)


add(OpInfo("logsumexp", lambda lib, x, *a: lib.logsumexp(x, *a), _lse_samples, dtypes=WITH_INT,
           ops=(Sc.logsumexp_op,), errors=lambda: [E(F((2, 3)), 2)]),
    OpInfo("Tensor.logsumexp", lambda lib, x, *a: x.logsumexp(*a), _lse_samples, dtypes=FLOATS,
           ops=(Sc.logsumexp_op,)))


def _cum_samples(low=-2.0, high=2.0, zeros=False):
    def gen(d, r):
        a = lambda *s, **kw: A(s, d, r, low, high, **kw)  # noqa: E731
        yield Sample((a(5), 0), desc="1-d")
        yield Sample((a(3, 4), 1), desc="dim 1")
        yield Sample((a(2, 3, 4), -2), desc="dim -2")
        yield Sample((a(4, 3, layout="T"), 0), desc="transposed")
        yield Sample((a(2, 3, layout="step"), -1), desc="strided")
        yield Sample((a(), 0), desc="0-d")
        yield Sample((a(0, 3), 0), desc="empty")
        if zeros:
            yield Sample((Arg(np.array([[2.0, 0.0, 3.0, 0.5], [0.0, 0.0, 1.5, 2.0]], d)), 1), desc="zeros")
            yield Sample((Arg(np.array([0.5, 1.5, 0.0, -2.0], d)), 0), desc="one zero")
    return gen


add(OpInfo("cumsum", lambda lib, x, d: lib.cumsum(x, d), _cum_samples(), dtypes=WITH_INT_BOOL,
           ops=(Sc.cumsum_op, Sc.cumsum_rev), errors=lambda: [E(F((2, 3)), 2)]),
    OpInfo("cumsum(dtype)", lambda lib, x, d: lib.cumsum(x, d, dtype=lib.float64), _cum_samples(),
           dtypes=(f32, np.int64), ops=(Sc.cumsum_op,)),
    OpInfo("Tensor.cumsum", lambda lib, x, d: x.cumsum(d), _cum_samples(), dtypes=FLOATS, ops=(Sc.cumsum_op,)),
    OpInfo("cumprod", lambda lib, x, d: lib.cumprod(x, d), _cum_samples(0.5, 1.5, zeros=True),
           dtypes=WITH_INT_BOOL, ops=(Sc.cumprod_op, Sc.cumsum_rev), errors=lambda: [E(F((2, 3)), -3)]),
    OpInfo("Tensor.cumprod", lambda lib, x, d: x.cumprod(d), _cum_samples(0.5, 1.5, zeros=True), dtypes=FLOATS,
           ops=(Sc.cumprod_op,)))


def _cumext_samples(d, r):
    a = lambda *s, **kw: _distinct(s, d, r, **kw)  # noqa: E731
    yield Sample((a(5), 0), desc="1-d")
    yield Sample((a(3, 4), 1), desc="dim 1")
    yield Sample((a(2, 3, 4), -2), desc="dim -2")
    yield Sample((a(4, 3, layout="T"), 0), desc="transposed")
    yield Sample((A((), d, r), 0), desc="0-d")
    yield Sample((A((0, 3), d, r), 0), desc="empty")
    yield Sample((Arg(np.array([1.0, 3.0, 3.0, 2.0, 3.0, 0.5], d)), 0), desc="ties: latest index", gradcheck=False)
    if np.dtype(d).kind == "f":
        yield Sample((Arg(np.array([[1.0, np.nan, 0.5], [2.0, -1.0, 3.0]], d)), 1), desc="nan propagates", gradcheck=False)


for _name, _op in (("cummax", Sc.cummax_op), ("cummin", Sc.cummin_op)):
    add(OpInfo(_name, (lambda n: lambda lib, x, d: getattr(lib, n)(x, d))(_name), _cumext_samples,
               dtypes=WITH_INT_BOOL, ops=(_op, Sc.scatter_add_dim, Rd.gather_dim),
               errors=lambda: [E(F((2, 3)), 2)]),
        OpInfo("Tensor." + _name, (lambda n: lambda lib, x, d: getattr(x, n)(d))(_name), _cumext_samples,
               dtypes=FLOATS, ops=(_op,)))


def _select_samples(with_k=False):
    def gen(d, r):
        a = lambda *s, **kw: _distinct(s, d, r, **kw)  # noqa: E731
        k = (2,) if with_k else ()
        yield Sample((a(5), *k), desc="1-d")
        yield Sample((a(3, 4), *k, 1), desc="dim 1")
        yield Sample((a(3, 4), *k, 0, True), desc="dim 0 keepdim")
        yield Sample((a(2, 3, 4), *k), dict(dim=-2), desc="dim -2")
        yield Sample((a(4, 3, layout="T"), *k, 0), desc="transposed")
        yield Sample((a(2, 6, layout="step"), *k, -1), desc="strided")
        yield Sample((A((), d, r), *((1,) if with_k else ()), 0), desc="0-d")
        yield Sample((A((0, 3), d, r), *k, 1), desc="empty")
        if np.dtype(d).kind == "f":
            yield Sample((Arg(np.array([[1.0, np.nan, 0.5, 2.0], [3.0, 1.0, 2.0, 0.0]], d)), *k, 1), desc="nan",
                         gradcheck=False)
    return gen


add(OpInfo("median", lambda lib, x, *a, **kw: lib.median(x, *a, **kw), samples_of(
        lambda d, r: Sample((A((3, 4), d, r, distinct=True),), desc="all (even count: lower median)"),
        lambda d, r: Sample((A((5,), d, r, distinct=True),), desc="all, odd"),
        lambda d, r: Sample((A((), d, r),), desc="0-d"),
        lambda d, r: Sample((A((0, 3), d, r),), desc="empty: nan"),
        lambda d, r: Sample((Arg(np.array([[1.0, np.nan], [0.5, 2.0]], d) if np.dtype(d).kind == "f"
                                 else np.array([[1, 2], [0, 3]], d)),), desc="nan", gradcheck=False),
        lambda d, r: Sample((Arg(np.array([[1.0, 2.0, 2.0], [3.0, 2.0, 0.0]], d)),), desc="ties share",
                            gradcheck=False),
        lambda d, r: Sample((A((4, 3), d, r, distinct=True, layout="T"),), desc="transposed")),
        dtypes=WITH_INT, ops=(Sc.median_all,)),
    OpInfo("median(dim)", lambda lib, x, *a, **kw: lib.median(x, *a, **kw), _select_samples(), dtypes=WITH_INT,
           ops=(Sc.median_dim, Rd.scatter_dim, Rd.gather_dim),
           errors=lambda: [E(F((0, 3)), 0), E(F((2, 3)), 2), E(F((2, 3)), keepdim=True)]),
    OpInfo("Tensor.median", lambda lib, x, *a, **kw: x.median(*a, **kw), _select_samples(), dtypes=FLOATS,
           ops=(Sc.median_dim,)),
    OpInfo("kthvalue", lambda lib, x, *a, **kw: lib.kthvalue(x, *a, **kw), _select_samples(True), dtypes=WITH_INT,
           ops=(Sc.kthvalue_op, Rd.scatter_dim),
           errors=lambda: [E(F((2, 3)), 4), E(F((2, 3)), 0), E(F((2, 3)), 1, 2)]),
    OpInfo("Tensor.kthvalue", lambda lib, x, *a, **kw: x.kthvalue(*a, **kw), _select_samples(True),
           dtypes=FLOATS, ops=(Sc.kthvalue_op,)),
    )


def _mode_samples(d, r):
    yield from (s for s in _select_samples()(d, r) if s.desc not in ("empty", "nan"))
    yield Sample((A((0, 3), d, r), 1), desc="empty rows")
    yield Sample((Arg(np.array([[3.0, 1.0, 3.0, 1.0, 2.0], [0.5, 2.5, 2.5, 1.0, 0.0]], d)), 1),
                 desc="repeats: smallest most frequent, last index", gradcheck=False)


add(OpInfo("mode", lambda lib, x, *a, **kw: lib.mode(x, *a, **kw), _mode_samples, dtypes=WITH_INT_BOOL,
           ops=(Sc.mode_op, Rd.scatter_dim), errors=lambda: [E(F((0, 3)), 0), E(F((2, 3)), 2)]),
    OpInfo("Tensor.mode", lambda lib, x, *a, **kw: x.mode(*a, **kw), _mode_samples, dtypes=FLOATS,
           ops=(Sc.mode_op,)))


def _sort_samples(d, r):
    a = lambda *s, **kw: _distinct(s, d, r, **kw)  # noqa: E731
    yield Sample((a(5),), desc="1-d")
    yield Sample((a(3, 4), 0), desc="dim 0")
    yield Sample((a(3, 4),), dict(descending=True), desc="descending")
    yield Sample((a(2, 3, 4), -2, True), desc="dim -2 descending")
    yield Sample((a(4, 3, layout="T"),), desc="transposed")
    yield Sample((a(2, 6, layout="step"),), dict(dim=1, stable=True), desc="strided stable")
    yield Sample((A((), d, r),), desc="0-d")
    yield Sample((A((0, 3), d, r), 0), desc="empty")
    if np.dtype(d).kind == "f":
        yield Sample((Arg(np.array([[1.0, np.nan, 0.5], [2.0, -1.0, 3.0]], d)),), desc="nan sorts last", gradcheck=False)
        yield Sample((Arg(np.array([[1.0, np.nan, 0.5], [2.0, -1.0, 3.0]], d)), -1, True), desc="nan first descending", gradcheck=False)
    yield Sample((Arg(np.array([2.0, 1.0, 2.0, 0.0, 1.0, 2.0], d)),), dict(stable=True), desc="ties stable",
                 gradcheck=False)
    yield Sample((Arg(np.array([2.0, 1.0, 2.0, 0.0, 1.0, 2.0], d)),), dict(stable=True, descending=True),
                 desc="ties stable descending", gradcheck=False)


add(OpInfo("sort", lambda lib, x, *a, **kw: lib.sort(x, *a, **kw), _sort_samples, dtypes=WITH_INT_BOOL,
           ops=(Sc.sort_op, Sc.sort_stable_op, Rd.scatter_dim), errors=lambda: [E(F((2, 3)), 2)]),
    OpInfo("Tensor.sort", lambda lib, x, *a, **kw: x.sort(*a, **kw), _sort_samples, dtypes=FLOATS,
           ops=(Sc.sort_op,)),
    OpInfo("argsort", lambda lib, x, *a, **kw: lib.argsort(x, *a, **kw), _sort_samples, dtypes=WITH_INT_BOOL,
           differentiable=False, errors=lambda: [E(F((2, 3)), 2)]),
    OpInfo("Tensor.argsort", lambda lib, x, *a, **kw: x.argsort(*a, **kw), _sort_samples, dtypes=FLOATS,
           differentiable=False))


def _topk_samples(d, r):
    a = lambda *s, **kw: _distinct(s, d, r, **kw)  # noqa: E731
    yield Sample((a(5), 2), desc="1-d")
    yield Sample((a(3, 4), 2, 0), desc="dim 0")
    yield Sample((a(3, 4), 3), dict(largest=False), desc="smallest")
    yield Sample((a(2, 3, 4), 1, -2), desc="dim -2")
    yield Sample((a(4, 3, layout="T"), 3), desc="transposed, k = n")
    yield Sample((a(2, 6, layout="step"), 0), desc="k = 0")
    yield Sample((A((), d, r), 1), desc="0-d")
    yield Sample((A((0, 3), d, r), 2), desc="empty")
    if np.dtype(d).kind == "f":
        yield Sample((Arg(np.array([[1.0, np.nan, 0.5], [2.0, -1.0, 3.0]], d)), 2), desc="nan is largest", gradcheck=False)


add(OpInfo("topk", lambda lib, x, *a, **kw: lib.topk(x, *a, **kw), _topk_samples, dtypes=WITH_INT,
           ops=(Sc.topk_op, Rd.scatter_dim), errors=lambda: [E(F((2, 3)), 4), E(F((2, 3)), 1, 2)]),
    OpInfo("Tensor.topk", lambda lib, x, *a, **kw: x.topk(*a, **kw), _topk_samples, dtypes=FLOATS,
           ops=(Sc.topk_op,)))


def _cnz_samples(d, r):
    z = lambda *s: Arg(np.where(make_mask(s, r), 0, A(s, d, r).array).astype(d))  # noqa: E731
    yield Sample((z(3, 4),), desc="all")
    yield Sample((z(3, 4), 1), desc="dim 1")
    yield Sample((z(2, 3, 4),), dict(dim=(0, -1)), desc="dims")
    yield Sample((z(),), desc="0-d")
    yield Sample((z(0, 3), 0), desc="empty")


def make_mask(shape, r):
    return r.random(shape) < 0.4


add(OpInfo("count_nonzero", lambda lib, x, *a, **kw: lib.count_nonzero(x, *a, **kw), _cnz_samples,
           dtypes=WITH_INT_BOOL, differentiable=False, errors=lambda: [E(F((2, 3)), 2)]),
    OpInfo("Tensor.count_nonzero", lambda lib, x, *a, **kw: x.count_nonzero(*a, **kw), _cnz_samples,
           dtypes=FLOATS, differentiable=False))


def _unique_samples(d, r):
    v = lambda *s: Arg(np.asarray(np.round(A(s, d, r, 0, 4).array)).astype(d))  # noqa: E731
    yield Sample((v(3, 4),), desc="values")
    yield Sample((v(3, 4),), dict(return_inverse=True), desc="inverse")
    yield Sample((v(2, 5),), dict(return_counts=True), desc="counts")
    yield Sample((v(4, 3),), dict(sorted=True, return_inverse=True, return_counts=True), desc="all three")
    yield Sample((v(),), dict(return_inverse=True), desc="0-d")
    yield Sample((v(0, 3),), dict(return_counts=True), desc="empty")
    yield Sample((v(4, 3),), dict(dim=0, return_inverse=True, return_counts=True), desc="dim 0")


add(OpInfo("unique", lambda lib, x, **kw: lib.unique(x, **kw), _unique_samples, dtypes=WITH_INT_BOOL,
           differentiable=False, ops=(Sc.unique_op, Sc.unique_dim_op)),
    OpInfo("Tensor.unique", lambda lib, x, **kw: x.unique(**kw), _unique_samples, dtypes=FLOATS,
           differentiable=False))


def _unique_consecutive_samples(d, r):
    v = lambda *s: Arg(np.asarray(np.round(A(s, d, r, 0, 1.4).array)).astype(d))  # noqa: E731  (few values: runs)
    yield Sample((v(12),), desc="values")
    yield Sample((v(3, 4),), dict(return_inverse=True, return_counts=True), desc="flattened, inverse in its shape")
    yield Sample((v(6, 2),), dict(dim=0, return_inverse=True, return_counts=True), desc="rows")
    yield Sample((v(2, 6),), dict(dim=-1, return_counts=True), desc="columns")
    yield Sample((v(),), dict(return_inverse=True), desc="0-d")
    yield Sample((v(0, 3),), dict(dim=0, return_inverse=True, return_counts=True), desc="empty")


add(OpInfo("unique_consecutive", lambda lib, x, **kw: lib.unique_consecutive(x, **kw), _unique_consecutive_samples,
           dtypes=WITH_INT_BOOL, differentiable=False, ops=(Sc.unique_consecutive_op,)),
    OpInfo("Tensor.unique_consecutive", lambda lib, x, **kw: x.unique_consecutive(**kw), _unique_consecutive_samples,
           dtypes=FLOATS, differentiable=False))
