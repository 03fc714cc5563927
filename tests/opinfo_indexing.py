"""OpInfo entries of ndgrad/_ops/indexing.py: gather/scatter, index_*, masked_*, take, repeat/flip/roll,
movedim/unflatten, nonzero, meshgrid, pad. Index arguments are non-differentiable `ints(...)`."""
from __future__ import annotations

import numpy as np

from ndgrad._ops import indexing as I
from ndgrad._ops import pointwise as P
from ndgrad._ops import reduction as Rd
from ndgrad._ops import shape as S
from opinfo import FLOAT_ONLY, WITH_INT, WITH_INT_BOOL, A, Arg, E, F, OpInfo, Sample, add, ints


def _gen(*fns):
    def gen(d, r):
        for f in fns:
            yield f(d, r)
    return gen


def B(values):
    return Arg(np.array(values, dtype=np.bool_), requires_grad=False)


# ---- gather / scatter
add(OpInfo("gather", lambda lib, x, dim, i: lib.gather(x, dim, i), _gen(
    lambda d, r: Sample((A((4, 3), d, r), 0, ints([[0, 1, 2], [1, 0, 3], [3, 3, 0]])), desc="dim 0, repeated"),
    lambda d, r: Sample((A((4, 3), d, r), -1, ints([[0, 2], [1, 1], [2, 0], [0, 0]])), desc="dim -1"),
    lambda d, r: Sample((A((4, 3), d, r), 1, ints([[0], [2]])), desc="smaller index"),
    lambda d, r: Sample((A((3, 4), d, r, layout="T"), 0, ints([[0, 2, 1]])), desc="transposed"),
    lambda d, r: Sample((A((), d, r), 0, ints(0)), desc="0-d"),
    lambda d, r: Sample((A((4, 3), d, r), 0, ints(np.zeros((0, 3), np.int64))), desc="empty index"),
), dtypes=WITH_INT_BOOL, ops=(I.gather_op, I.gather_backward),
    errors=lambda: [E(F((4, 3)), 0, ints([[4, 0, 0]])), E(F((4, 3)), 2, ints([[0]])),
                    E(F((4, 3)), 0, ints([[0]], np.int16)), E(F((4, 3)), 0, ints([0])),
                    E(F((4, 3)), 0, ints([[-1, 0]]))]))

_SC_IDX = [[0, 1, 2], [3, 0, 1]]  # no position written twice along dim 0 (torch is nondeterministic then)
add(OpInfo("scatter", lambda lib, x, dim, i, src: lib.scatter(x, dim, i, src), _gen(
    lambda d, r: Sample((A((4, 3), d, r), 0, ints(_SC_IDX), A((2, 3), d, r)), desc="src"),
    lambda d, r: Sample((A((4, 3), d, r), -1, ints([[2], [0], [1], [1]]), A((4, 1), d, r)), desc="dim -1"),
    lambda d, r: Sample((A((3, 4), d, r, layout="T"), 1, ints([[0, 2], [1, 0]]), A((2, 2), d, r, layout="T")),
                        desc="non-contiguous"),
    lambda d, r: Sample((A((), d, r), 0, ints(0), A((), d, r)), desc="0-d"),
    lambda d, r: Sample((A((4, 3), d, r), 0, ints(np.zeros((0, 3), np.int64)), A((0, 3), d, r)), desc="empty"),
    lambda d, r: Sample((A((4, 3), d, r), 1, ints([[2, 0]]), 1.5), desc="value"),
), dtypes=WITH_INT, ops=(I.scatter_src, I.scatter_value, I.scatter_zero, I.gather_op),
    errors=lambda: [E(F((4, 3)), 0, ints([[4]]), F((1, 1))), E(F((4, 3)), 0, ints([[0]], np.int16), F((1, 1))),
                    E(F((4, 3)), 0, ints([[0]]), F((1, 1), np.float32)), E(F((4, 3)), 3, ints([[0]]), F((1, 1)))]))
add(OpInfo("scatter(value=)", lambda lib, x, dim, i, v: lib.scatter(x, dim, i, value=v), _gen(
    lambda d, r: Sample((A((4, 3), d, r), 0, ints(_SC_IDX), 2.0), desc="value kw"),
), dtypes=WITH_INT, ops=(I.scatter_value,)))
add(OpInfo("scatter(reduce)", lambda lib, x, dim, i, src, red: lib.scatter(x, dim, i, src, reduce=red), _gen(
    lambda d, r: Sample((A((4, 3), d, r), 0, ints([[0, 1, 2], [0, 1, 2]]), A((2, 3), d, r), "add"), desc="add"),
    lambda d, r: Sample((A((4, 3), d, r), -1, ints([[2, 2], [0, 1]]), A((2, 2), d, r), "multiply"), desc="multiply"),
    lambda d, r: Sample((A((4, 3), d, r), 0, ints([[0, 0]]), 2.0, "multiply"), desc="value"),
    lambda d, r: Sample((A((), d, r), 0, ints(0), A((), d, r), "add"), desc="0-d"),
), dtypes=WITH_INT, differentiable=False, ops=(I.scatter_legacy,),
    errors=lambda: [E(F((4, 3)), 0, ints([[0]]), F((1, 1)), "max")]))
add(OpInfo("scatter_add", lambda lib, x, dim, i, src: lib.scatter_add(x, dim, i, src), _gen(
    lambda d, r: Sample((A((4, 3), d, r), 0, ints([[0, 1, 2], [0, 1, 2], [3, 3, 0]]), A((3, 3), d, r)),
                        desc="duplicates accumulate"),
    lambda d, r: Sample((A((4, 3), d, r), -1, ints([[2, 2], [0, 1]]), A((2, 2), d, r)), desc="dim -1"),
    lambda d, r: Sample((A((3, 4), d, r, layout="T"), 1, ints([[0, 0], [1, 0]]), A((2, 2), d, r, layout="step")),
                        desc="non-contiguous"),
    lambda d, r: Sample((A((), d, r), 0, ints(0), A((), d, r)), desc="0-d"),
    lambda d, r: Sample((A((4, 3), d, r), 0, ints(np.zeros((0, 3), np.int64)), A((0, 3), d, r)), desc="empty"),
), dtypes=WITH_INT, ops=(I.scatter_add_op, I.gather_op),
    errors=lambda: [E(F((4, 3)), 0, ints([[4]]), F((1, 1))), E(F((4, 3)), 0, ints([[0]], np.int16), F((1, 1)))]))


def _sr(reduce, include_self=True):
    def gen(d, r):
        yield Sample((A((4, 3), d, r, 0.5, 2.0, distinct=True), 0, ints([[0, 1, 2], [0, 1, 2], [3, 3, 0]]),
                      A((3, 3), d, r, 0.5, 2.0, distinct=True), reduce), {"include_self": include_self},
                     desc="duplicates")
        yield Sample((A((3, 4), d, r, 0.5, 2.0, distinct=True, layout="T"), -1, ints([[2, 2], [0, 1]]),
                      A((2, 2), d, r, 0.5, 2.0, distinct=True), reduce), {"include_self": include_self},
                     desc="dim -1, transposed")
        yield Sample((A((), d, r, 0.5, 2.0), 0, ints(0), A((), d, r, 0.5, 2.0), reduce),
                     {"include_self": include_self}, desc="0-d")
        if reduce == "prod":
            x = Arg(np.array([[0.0, 1.5, 2.0], [1.2, 0.0, 0.7], [0.9, 1.1, 0.0]], d))
            src = Arg(np.array([[0.0, 1.3], [1.4, 0.8], [0.6, 0.0]], d))
            yield Sample((x, 1, ints([[0, 1], [2, 2], [1, 1]]), src, reduce), {"include_self": include_self},
                         desc="zeros")
    return gen


for _red in ("sum", "prod", "mean", "amax", "amin"):
    for _inc in (True, False):
        add(OpInfo(f"scatter_reduce({_red}, include_self={_inc})" if (_red, _inc) != ("sum", True)
                   else "scatter_reduce",
                   lambda lib, x, dim, i, src, red, **kw: lib.scatter_reduce(x, dim, i, src, red, **kw),
                   _sr(_red, _inc), dtypes=FLOAT_ONLY if _red == "mean" else WITH_INT,
                   ops=(I.scatter_reduce_op,) + ((I.scatter_mean_scale,) if _red == "mean" else ()),
                   errors=(lambda: [E(F((4, 3)), 0, ints([[0]]), F((1, 1)), "median"),
                                    E(F((4, 3)), 0, ints([[5]]), F((1, 1)), "sum")]) if _red == "sum" and _inc
                   else None))

# ---- index_*
add(OpInfo("index_select", lambda lib, x, dim, i: lib.index_select(x, dim, i), _gen(
    lambda d, r: Sample((A((4, 3), d, r), 0, ints([3, 0, 3])), desc="repeated"),
    lambda d, r: Sample((A((4, 3), d, r), -1, ints([2, 0])), desc="dim -1"),
    lambda d, r: Sample((A((3, 4), d, r, layout="T"), 1, ints([1], np.int32)), desc="transposed, int32 index"),
    lambda d, r: Sample((A((4, 3), d, r), 0, ints(2)), desc="0-d index"),
    lambda d, r: Sample((A((), d, r), 0, ints([0])), desc="0-d input"),
    lambda d, r: Sample((A((4, 3), d, r), 1, ints(np.zeros(0, np.int64))), desc="empty index"),
), dtypes=WITH_INT_BOOL, ops=(I.index_select_op, I.index_select_backward),
    errors=lambda: [E(F((4, 3)), 0, ints([4])), E(F((4, 3)), 0, ints([[0]])), E(F((4, 3)), 2, ints([0])),
                    E(F((4, 3)), 0, ints([-1])), E(F(()), 0, ints([0, 0]))]))
add(OpInfo("index_add", lambda lib, x, dim, i, s, **kw: lib.index_add(x, dim, i, s, **kw), _gen(
    lambda d, r: Sample((A((4, 3), d, r), 0, ints([3, 0, 3]), A((3, 3), d, r)), desc="repeated accumulate"),
    lambda d, r: Sample((A((4, 3), d, r), -1, ints([2, 0]), A((4, 2), d, r)), {"alpha": 2}, desc="alpha, dim -1"),
    lambda d, r: Sample((A((3, 4), d, r, layout="T"), 1, ints([1]), A((3, 1), d, r)), desc="transposed"),
    lambda d, r: Sample((A((4, 3), d, r), 1, ints(np.zeros(0, np.int64)), A((4, 0), d, r)), desc="empty index"),
), dtypes=WITH_INT, ops=(I.index_add_op, I.index_select_op),
    errors=lambda: [E(F((4, 3)), 0, ints([4]), F((1, 3))), E(F((4, 3)), 0, ints([0, 1]), F((1, 3))),
                    E(F((4, 3)), 0, ints([0]), F((1, 3), np.float32))]))
add(OpInfo("index_copy", lambda lib, x, dim, i, s: lib.index_copy(x, dim, i, s), _gen(
    lambda d, r: Sample((A((4, 3), d, r), 0, ints([3, 0]), A((2, 3), d, r)), desc="dim 0"),
    lambda d, r: Sample((A((4, 3), d, r), -1, ints([2, 0]), A((4, 2), d, r)), desc="dim -1"),
    lambda d, r: Sample((A((3, 4), d, r, layout="T"), 1, ints([1]), A((3, 1), d, r)), desc="transposed"),
), dtypes=WITH_INT, ops=(I.index_copy_op, I.index_fill_op, I.index_select_op),
    errors=lambda: [E(F((4, 3)), 0, ints([4]), F((1, 3))), E(F((4, 3)), 0, ints([0, 1]), F((1, 3)))]))
add(OpInfo("index_fill", lambda lib, x, dim, i, v: lib.index_fill(x, dim, i, v), _gen(
    lambda d, r: Sample((A((4, 3), d, r), 0, ints([3, 0, 3]), 1.5), desc="repeated"),
    lambda d, r: Sample((A((4, 3), d, r), -1, ints([2]), -2), desc="dim -1, int value"),
    lambda d, r: Sample((A((3, 4), d, r, layout="T"), 1, ints([1, 0]), A((), d, r)), desc="0-d tensor value"),
), dtypes=WITH_INT, ops=(I.index_fill_op, I.index_fill_t, I.index_select_op, Rd.sum_all),
    errors=lambda: [E(F((4, 3)), 0, ints([4]), 1.0), E(F((4, 3)), 0, ints([0]), F((1,)))]))

# ---- masked
_M = [[True, False, True], [False, False, True], [True, True, True], [False, False, False]]
add(OpInfo("masked_fill", lambda lib, x, m, v: lib.masked_fill(x, m, v), _gen(
    lambda d, r: Sample((A((4, 3), d, r), B(_M), 1.5), desc="float value"),
    lambda d, r: Sample((A((4, 3), d, r), B([True, False, True]), 2), desc="broadcast mask, int value"),
    lambda d, r: Sample((A((4, 3), d, r, layout="T"), B(_M), A((), d, r)), desc="0-d tensor value"),
    lambda d, r: Sample((A((), d, r), B(True), 0.5), desc="0-d"),
    lambda d, r: Sample((A((0, 3), d, r), B([True, False, True]), 0.5), desc="empty"),
), dtypes=WITH_INT_BOOL, ops=(I.masked_fill_op, I.masked_fill_t, Rd.sum_all),
    errors=lambda: [E(F((4, 3)), ints([1, 0, 1]), 1.0), E(F((4, 3)), B([True, False]), 1.0),
                    E(F((4, 3)), B(_M), F((1,)))]))
add(OpInfo("masked_select", lambda lib, x, m: lib.masked_select(x, m), _gen(
    lambda d, r: Sample((A((4, 3), d, r), B(_M)), desc="2-d"),
    lambda d, r: Sample((A((4, 3), d, r), B([True, False, True])), desc="broadcast mask"),
    lambda d, r: Sample((A((3,), d, r), B(_M)), desc="broadcast input"),
    lambda d, r: Sample((A((4, 3), d, r, layout="T"), B(_M)), desc="transposed"),
    lambda d, r: Sample((A((), d, r), B(True)), desc="0-d"),
    lambda d, r: Sample((A((0, 3), d, r), B([True, False, True])), desc="empty"),
), dtypes=WITH_INT_BOOL, ops=(I.masked_select_op, I.masked_select_backward),
    errors=lambda: [E(F((4, 3)), ints([1, 0, 1])), E(F((4, 3)), B([True, False]))]))
add(OpInfo("masked_scatter", lambda lib, x, m, s: lib.masked_scatter(x, m, s), _gen(
    lambda d, r: Sample((A((4, 3), d, r), B(_M), A((4, 3), d, r)), desc="same shape"),
    lambda d, r: Sample((A((4, 3), d, r), B([True, False, True]), A((9,), d, r)), desc="broadcast mask, longer"),
    lambda d, r: Sample((A((4, 3), d, r, layout="T"), B(_M), A((2, 4), d, r)), desc="transposed"),
    lambda d, r: Sample((A((), d, r), B(True), A((2,), d, r)), desc="0-d"),
), dtypes=WITH_INT, ops=(I.masked_scatter_op, I.masked_fill_op, I.masked_scatter_src_backward),
    errors=lambda: [E(F((4, 3)), B(_M), F((2,))), E(F((4, 3)), ints(_M), F((12,))),
                    E(F((4, 3)), B(_M), F((12,), np.float32))]))

# ---- take
add(OpInfo("take", lambda lib, x, i: lib.take(x, i), _gen(
    lambda d, r: Sample((A((4, 3), d, r), ints([[0, 11], [5, 5]])), desc="repeated"),
    lambda d, r: Sample((A((4, 3), d, r), ints([-1, -12, 3])), desc="negative"),
    lambda d, r: Sample((A((3, 4), d, r, layout="T"), ints([1, 7])), desc="transposed"),
    lambda d, r: Sample((A((), d, r), ints(0)), desc="0-d"),
    lambda d, r: Sample((A((4, 3), d, r), ints(np.zeros((0,), np.int64))), desc="empty"),
), dtypes=WITH_INT_BOOL, ops=(I.take_op, I.take_backward),
    errors=lambda: [E(F((4, 3)), ints([12])), E(F((4, 3)), ints([-13])), E(F((4, 3)), ints([0], np.int32))]))
add(OpInfo("take_along_dim", lambda lib, x, i, *a: lib.take_along_dim(x, i, *a), _gen(
    lambda d, r: Sample((A((4, 3), d, r), ints([[0, 1, 2], [3, 3, 0]]), 0), desc="dim 0"),
    lambda d, r: Sample((A((4, 3), d, r), ints([[0], [2], [1], [1]]), -1), desc="dim -1"),
    lambda d, r: Sample((A((4, 3), d, r), ints([[0, 1]]), 1), desc="broadcast index"),
    lambda d, r: Sample((A((4, 3), d, r), ints([5, 0, 5])), desc="flattened"),
    lambda d, r: Sample((A((3, 4), d, r, layout="T"), ints([[1, 0, 2, 1]]), 0), desc="transposed"),
), dtypes=WITH_INT, ops=(I.gather_op, I.gather_backward),
    errors=lambda: [E(F((4, 3)), ints([0]), 0), E(F((4, 3)), F((1, 1)), 0)]))

# ---- select / chunk
add(OpInfo("select", lambda lib, x, d_, i: lib.select(x, d_, i), _gen(
    lambda d, r: Sample((A((4, 3), d, r), 0, 2), desc="dim 0"),
    lambda d, r: Sample((A((4, 3), d, r), -1, -1), desc="negative"),
    lambda d, r: Sample((A((3, 4), d, r, layout="T"), 1, 0), desc="transposed"),
), dtypes=WITH_INT_BOOL, ops=(S.select,),
    errors=lambda: [E(F((4, 3)), 0, 4), E(F((4, 3)), 2, 0), E(F(()), 0, 0)]))
add(OpInfo("chunk", lambda lib, x, *a: lib.chunk(x, *a), _gen(
    lambda d, r: Sample((A((5, 3), d, r), 2), desc="uneven"),
    lambda d, r: Sample((A((4, 3), d, r), 3, -1), desc="dim -1"),
    lambda d, r: Sample((A((4, 6), d, r, layout="T"), 3, 1), desc="transposed"),
    lambda d, r: Sample((A((2, 3), d, r), 5), desc="more chunks than size"),
), dtypes=WITH_INT, ops=(S.split, S.cat),
    errors=lambda: [E(F((4, 3)), 0), E(F((4, 3)), 2, 2), E(F(()), 1)]))

# ---- repeat / tile / repeat_interleave
add(OpInfo("Tensor.repeat", lambda lib, x, *a: x.repeat(*a), _gen(
    lambda d, r: Sample((A((2, 3), d, r), 2, 1), desc="2-d"),
    lambda d, r: Sample((A((2, 3), d, r), (3, 1, 2)), desc="new dims"),
    lambda d, r: Sample((A((), d, r), 3), desc="0-d"),
    lambda d, r: Sample((A((3, 2), d, r, layout="T"), 1, 2), desc="transposed"),
    lambda d, r: Sample((A((0, 2), d, r), 2, 2), desc="empty"),
    lambda d, r: Sample((A((2, 3), d, r), 0, 1), desc="zero repeat"),
), dtypes=WITH_INT_BOOL, ops=(I.repeat_op, S.reshape, Rd.sum_dim),
    errors=lambda: [E(F((2, 3)), 2), E(F((2, 3)), -1, 1)]))
add(OpInfo("tile", lambda lib, x, r_: lib.tile(x, r_), _gen(
    lambda d, r: Sample((A((2, 3), d, r), (2,)), desc="fewer reps"),
    lambda d, r: Sample((A((2, 3), d, r), (2, 1, 2)), desc="more reps"),
    lambda d, r: Sample((A((), d, r), (2,)), desc="0-d"),
), dtypes=WITH_INT, ops=(I.repeat_op,)))
add(OpInfo("Tensor.tile", lambda lib, x, *a: x.tile(*a), _gen(
    lambda d, r: Sample((A((2, 3), d, r), 2, 2), desc="varargs"),
), ops=(I.repeat_op,)))
add(OpInfo("repeat_interleave", lambda lib, x, *a, **kw: lib.repeat_interleave(x, *a, **kw), _gen(
    lambda d, r: Sample((A((2, 3), d, r), 2), desc="int, flattened"),
    lambda d, r: Sample((A((2, 3), d, r), 3, 1), desc="int, dim 1"),
    lambda d, r: Sample((A((4, 3), d, r), ints([1, 0, 2, 1]), 0), desc="tensor"),
    lambda d, r: Sample((A((3, 4), d, r, layout="T"), ints([2]), -1), desc="1-element tensor, transposed"),
    lambda d, r: Sample((A((), d, r), 2), desc="0-d"),
), dtypes=WITH_INT, ops=(S.unsqueeze, Rd.expand_to, P.clone, S.reshape, I.index_select_op),
    errors=lambda: [E(F((4, 3)), ints([1, 2]), 0), E(F((4, 3)), -1, 0), E(F((4, 3)), ints([1, -1, 1, 1]), 0)]))
add(OpInfo("repeat_interleave(repeats)", lambda lib, r_: lib.repeat_interleave(r_), _gen(
    lambda d, r: Sample((ints([1, 0, 3]),), desc="indices"),
), dtypes=(np.int64,), differentiable=False))

# ---- flip / roll
_FLIP_ERR = lambda: [E(F((4, 3)), (0, 0)), E(F((4, 3)), (2,)), E(F((4, 3)), 0)]
add(OpInfo("flip", lambda lib, x, dims: lib.flip(x, dims), _gen(
    lambda d, r: Sample((A((4, 3), d, r), (0,)), desc="dim 0"),
    lambda d, r: Sample((A((2, 3, 4), d, r), (-1, 0)), desc="two dims, negative"),
    lambda d, r: Sample((A((3, 4), d, r, layout="T"), (1,)), desc="transposed"),
    lambda d, r: Sample((A((), d, r), ()), desc="0-d"),
    lambda d, r: Sample((A((0, 3), d, r), (0, 1)), desc="empty"),
), dtypes=WITH_INT_BOOL, ops=(I.flip_op,), errors=_FLIP_ERR))
add(OpInfo("Tensor.flip", lambda lib, x, *dims: x.flip(*dims), _gen(
    lambda d, r: Sample((A((4, 3), d, r), 0, 1), desc="varargs"),
    lambda d, r: Sample((A((4, 3), d, r), [1]), desc="list"),
), ops=(I.flip_op,)))
add(OpInfo("fliplr", lambda lib, x: lib.fliplr(x), _gen(lambda d, r: Sample((A((4, 3), d, r),))),
           dtypes=WITH_INT, ops=(I.flip_op,), errors=lambda: [E(F((3,)))]),
    OpInfo("flipud", lambda lib, x: lib.flipud(x), _gen(lambda d, r: Sample((A((4, 3), d, r, layout="T"),))),
           dtypes=WITH_INT, ops=(I.flip_op,), errors=lambda: [E(F(()))]))
add(OpInfo("roll", lambda lib, x, *a: lib.roll(x, *a), _gen(
    lambda d, r: Sample((A((4, 3), d, r), 1), desc="flattened"),
    lambda d, r: Sample((A((4, 3), d, r), -5, 0), desc="negative shift"),
    lambda d, r: Sample((A((2, 3, 4), d, r), (1, 2), (-1, 0)), desc="two dims"),
    lambda d, r: Sample((A((3, 4), d, r, layout="T"), 2, 1), desc="transposed"),
    lambda d, r: Sample((A((), d, r), 3), desc="0-d"),
    lambda d, r: Sample((A((0, 3), d, r), 1, 1), desc="empty"),
    lambda d, r: Sample((A((4, 3), d, r), 2, ()), desc="empty dims: flattened"),
), dtypes=WITH_INT_BOOL, ops=(I.roll_op,),
    errors=lambda: [E(F((4, 3)), (1, 2), 0), E(F((4, 3)), (1, 2)), E(F((4, 3)), 1, 2), E(F(()), 1, 0)]))

# ---- shapes
add(OpInfo("broadcast_tensors", lambda lib, *ts: lib.broadcast_tensors(*ts), _gen(
    lambda d, r: Sample((A((4, 3), d, r), A((3,), d, r)), desc="two"),
    lambda d, r: Sample((A((4, 1), d, r), A((), d, r), A((1, 3), d, r, layout="T")), desc="three"),
    lambda d, r: Sample((A((2, 2), d, r), A((2, 2), d, r)), desc="same shapes"),
), dtypes=WITH_INT_BOOL, ops=(Rd.expand_to, Rd.sum_to), errors=lambda: [E(F((4, 3)), F((2,)))]))
for _name in ("movedim", "moveaxis"):
    add(OpInfo(_name, (lambda n: lambda lib, x, s, t: getattr(lib, n)(x, s, t))(_name), _gen(
        lambda d, r: Sample((A((2, 3, 4), d, r), 0, -1), desc="int"),
        lambda d, r: Sample((A((2, 3, 4), d, r), (0, 1), (2, 0)), desc="tuple"),
        lambda d, r: Sample((A((3, 4), d, r, layout="T"), 1, 0), desc="transposed"),
        lambda d, r: Sample((A((), d, r), 0, 0), desc="0-d"),
    ), dtypes=WITH_INT, ops=(S.permute, S.index_basic),
        errors=lambda: [E(F((2, 3)), (0, 1), (0,)), E(F((2, 3)), (0, 0), (0, 1)), E(F((2, 3)), 2, 0)]))
add(OpInfo("unflatten", lambda lib, x, d_, s: lib.unflatten(x, d_, s), _gen(
    lambda d, r: Sample((A((2, 6), d, r), 1, (2, 3)), desc="dim 1"),
    lambda d, r: Sample((A((6, 2), d, r), 0, (-1, 2)), desc="-1"),
    lambda d, r: Sample((A((4, 6), d, r, layout="T"), -1, (2, 3)), desc="transposed"),
), dtypes=WITH_INT, ops=(S.reshape,),
    errors=lambda: [E(F((2, 6)), 1, (4, 2)), E(F((2, 6)), 2, (2, 1))]))
for _name in ("nonzero", "argwhere"):
    add(OpInfo(_name, (lambda n: lambda lib, x: getattr(lib, n)(x))(_name), _gen(
        lambda d, r: Sample((A((4, 3), d, r, -1, 1),), desc="2-d"),
        lambda d, r: Sample((Arg(np.array([0.0, 1.0, 0.0, 2.0], d), False),), desc="1-d with zeros"),
        lambda d, r: Sample((Arg(np.array(1.0, d), False),), desc="0-d"),
        lambda d, r: Sample((A((0, 3), d, r),), desc="empty"),
    ), dtypes=WITH_INT_BOOL, differentiable=False))
add(OpInfo("nonzero(as_tuple)", lambda lib, x: lib.nonzero(x, as_tuple=True), _gen(
    lambda d, r: Sample((A((4, 3), d, r, -1, 1),), desc="2-d"),
    lambda d, r: Sample((Arg(np.array(1.0, d), False),), desc="0-d"),
), dtypes=WITH_INT_BOOL, differentiable=False))
add(OpInfo("meshgrid", lambda lib, *ts, **kw: lib.meshgrid(*ts, **kw), _gen(
    lambda d, r: Sample((A((3,), d, r), A((2,), d, r)), {"indexing": "ij"}, desc="ij"),
    lambda d, r: Sample((A((3,), d, r), A((2,), d, r), A((4,), d, r)), {"indexing": "xy"}, desc="xy"),
    lambda d, r: Sample((A((), d, r), A((2,), d, r)), {"indexing": "ij"}, desc="0-d"),
), dtypes=WITH_INT, ops=(S.view, Rd.expand_to),
    errors=lambda: [E(F((2, 2)), F((2,)), indexing="ij"), E(F((2,)), indexing="xx")]))

# ---- in-place method forms
def _ip(name):
    def fn(lib, x, *a, **kw):
        y = x * 1 if x.dtype.is_floating_point else x.clone()
        getattr(y, name)(*a, **kw)
        return y
    return fn


add(OpInfo("Tensor.scatter_", _ip("scatter_"), _gen(
    lambda d, r: Sample((A((4, 3), d, r), 0, ints(_SC_IDX), A((2, 3), d, r)), desc="src"),
    lambda d, r: Sample((A((4, 3), d, r), 1, ints([[2, 0]]), 1.5), desc="value")),
    dtypes=WITH_INT, ops=(I.scatter_src, I.scatter_value)),
    OpInfo("Tensor.scatter_add_", _ip("scatter_add_"), _gen(
        lambda d, r: Sample((A((4, 3), d, r), 0, ints([[0, 1, 2], [0, 1, 2]]), A((2, 3), d, r)))),
        dtypes=WITH_INT, ops=(I.scatter_add_op,)),
    OpInfo("Tensor.scatter_reduce_", _ip("scatter_reduce_"), _gen(
        lambda d, r: Sample((A((4, 3), d, r, distinct=True), 0, ints([[0, 1, 2], [0, 1, 2]]),
                             A((2, 3), d, r, distinct=True), "amax"))),
        dtypes=WITH_INT, ops=(I.scatter_reduce_op,)),
    OpInfo("Tensor.index_add_", _ip("index_add_"), _gen(
        lambda d, r: Sample((A((4, 3), d, r), 0, ints([1, 1]), A((2, 3), d, r)), {"alpha": -1})),
        dtypes=WITH_INT, ops=(I.index_add_op,)),
    OpInfo("Tensor.index_fill_", _ip("index_fill_"), _gen(
        lambda d, r: Sample((A((4, 3), d, r), 1, ints([0, 2]), 3.0))), dtypes=WITH_INT, ops=(I.index_fill_op,)),
    OpInfo("Tensor.index_copy_", _ip("index_copy_"), _gen(
        lambda d, r: Sample((A((4, 3), d, r), 0, ints([2, 0]), A((2, 3), d, r)))),
        dtypes=WITH_INT, ops=(I.index_copy_op,)),
    OpInfo("Tensor.masked_fill_", _ip("masked_fill_"), _gen(
        lambda d, r: Sample((A((4, 3), d, r), B(_M), 2.0)),
        lambda d, r: Sample((A((4, 3), d, r), B([False, True, True]), A((), d, r)), desc="tensor value")),
        dtypes=WITH_INT_BOOL, ops=(I.masked_fill_op, I.masked_fill_t)),
    OpInfo("Tensor.masked_scatter_", _ip("masked_scatter_"), _gen(
        lambda d, r: Sample((A((4, 3), d, r), B(_M), A((3, 3), d, r)))), dtypes=WITH_INT, ops=(I.masked_scatter_op,)),
    )

# ---- methods
add(OpInfo("Tensor.gather", lambda lib, x, *a: x.gather(*a), _gen(
    lambda d, r: Sample((A((4, 3), d, r), 1, ints([[0, 0], [2, 1], [1, 1], [0, 2]])))), ops=(I.gather_op,)),
    OpInfo("Tensor.index_select", lambda lib, x, *a: x.index_select(*a), _gen(
        lambda d, r: Sample((A((4, 3), d, r), 1, ints([2, 2, 0])))), ops=(I.index_select_op,)),
    OpInfo("Tensor.masked_select", lambda lib, x, m: x.masked_select(m), _gen(
        lambda d, r: Sample((A((4, 3), d, r), B(_M)))), ops=(I.masked_select_op,)),
    OpInfo("Tensor.movedim", lambda lib, x, s, t: x.movedim(s, t), _gen(
        lambda d, r: Sample((A((2, 3, 4), d, r), 2, 0))), ops=(S.permute,)),
    OpInfo("Tensor.chunk", lambda lib, x, *a: x.chunk(*a), _gen(lambda d, r: Sample((A((5, 2), d, r), 3)))),
    OpInfo("Tensor.roll", lambda lib, x, *a: x.roll(*a), _gen(lambda d, r: Sample((A((5, 2), d, r), 1, 0))),
           ops=(I.roll_op,)),
    )


# ---- pad (ndgrad.nn.functional.pad once the lead exposes it; torch.nn.functional.pad)
def _pad(lib, x, p, *a, **kw):
    return lib.nn.functional.pad(x, p, *a, **kw)


def _pad_samples(d, r):
    yield Sample((A((2, 3), d, r), (1, 2)), desc="constant last dim")
    yield Sample((A((2, 3), d, r), (1, 0, 0, 2), "constant", 1.5), desc="constant two dims, value")
    yield Sample((A((2, 4), d, r), (-1, 1)), desc="constant negative (crop)")
    yield Sample((A((2, 3, 2), d, r, layout="T"), (0, 1, 1, 1, 1, 0)), desc="constant three dims, transposed")
    yield Sample((A((0, 3), d, r), (1, 1)), desc="constant empty")
    yield Sample((A((1, 2, 4), d, r), (2, 1), "reflect"), desc="reflect 1d")
    yield Sample((A((2, 4), d, r), (1, 3), "reflect"), desc="reflect 1d no batch")
    yield Sample((A((1, 2, 3, 4), d, r), (1, 2, 2, 1), "reflect"), desc="reflect 2d")
    yield Sample((A((1, 2, 3, 4), d, r), (1, 2, 2, 1), "replicate"), desc="replicate 2d")
    yield Sample((A((1, 2, 3), d, r, layout="T"), (2, 3), "replicate"), desc="replicate 1d transposed")
    yield Sample((A((1, 1, 2, 2, 3), d, r), (1, 1, 1, 0, 0, 1), "replicate"), desc="replicate 3d")
    yield Sample((A((1, 2, 4), d, r), (2, 1), "circular"), desc="circular 1d")
    yield Sample((A((1, 2, 3, 4), d, r), (1, 2, 3, 0), "circular"), desc="circular 2d")
    yield Sample((A((1, 2, 4), d, r), (-1, 2), "reflect"), desc="reflect negative")
    yield Sample((A((1, 2, 4), d, r), (-1, 2), "circular"), desc="circular negative")
    yield Sample((A((1, 1, 4, 4), d, r), (-2, -1, 1, -1), "replicate"), desc="replicate negative")


_PAD_OPS = (I.constant_pad, I.reflection_pad[1][0], I.reflection_pad[1][1], I.reflection_pad[2][0],
            I.reflection_pad[2][1], I.replication_pad[1][0], I.replication_pad[1][1], I.replication_pad[2][0],
            I.replication_pad[2][1], I.replication_pad[3][0], I.replication_pad[3][1], I.circular_pad[0],
            I.circular_pad[1])
add(OpInfo("nn.functional.pad", _pad, _pad_samples, dtypes=FLOAT_ONLY, ops=_PAD_OPS,
           errors=lambda: [E(F((2, 3)), (1,)), E(F((2, 3)), (1, 1, 1, 1, 1, 1)), E(F((1, 2, 3)), (3, 0), "reflect"),
                           E(F((1, 2, 3)), (4, 0), "circular"), E(F((2, 3)), (-2, -2)),
                           E(F((3,)), (1, 1), "reflect"), E(F((1, 2, 3)), (1, 1), "reflect", 2.0),
                           E(F((1, 2, 3)), (1, 1), "wrap")]))
add(OpInfo("nn.functional.pad(reflect 3d)", _pad, _gen(
    lambda d, r: Sample((A((1, 1, 2, 2, 3), d, r), (1, 1, 1, 0, 0, 1), "reflect"), desc="reflect 3d")),
    ops=(I.reflection_pad[3][0], I.reflection_pad[3][1])))
