"""OpInfo entries of ndgrad/_ops/pool3d.py: max/avg/adaptive pooling over three spatial dims. Max pooling samples
use distinct values (no ties). Each has one tiny sample so that gradgradcheck runs through the backward ops."""
from __future__ import annotations

import numpy as np
from opinfo import A, Arg, E, F, OpInfo, Sample, add, make

from ndgrad._ops import conv as C
from ndgrad._ops import pool3d as P


def _f(name):
    return lambda lib, *a, **k: getattr(lib.nn.functional, name)(*a, **k)


def D(shape, d, r):
    return Arg(make(shape, d, r, distinct=True))


def _max_samples(d, r):
    yield Sample((D((1, 2, 3, 2), d, r), 2), desc="tiny unbatched")
    yield Sample((D((2, 2, 5, 6, 4), d, r), 3), dict(stride=2, padding=1, ceil_mode=True), desc="overlapping ceil")
    yield Sample((D((1, 2, 5, 4, 4), d, r), (2, 3, 2)), dict(stride=(1, 2, 1), dilation=(2, 1, 1),
                                                              return_indices=True), desc="dilated, indices")


def _avg_samples(d, r):
    yield Sample((A((1, 2, 3, 2), d, r), 2), dict(padding=1), desc="tiny unbatched padded")
    yield Sample((A((2, 2, 5, 6, 4), d, r), 3), dict(stride=2, padding=1, ceil_mode=True, count_include_pad=False),
                 desc="ceil, without padding")
    yield Sample((A((1, 1, 4, 5, 3), d, r), (2, 3, 2)), dict(stride=(1, 2, 1), divisor_override=5), desc="divisor")


def _adaptive_samples(d, r):
    yield Sample((A((1, 2, 3, 2), d, r), (2, 1, 2)), desc="tiny unbatched")
    yield Sample((A((2, 2, 5, 6, 4), d, r), (3, None, 3)), desc="uneven windows")


def _adaptive_max_samples(d, r):
    yield Sample((D((1, 2, 3, 2), d, r), (2, 1, 2)), desc="tiny unbatched")
    yield Sample((D((2, 2, 5, 6, 4), d, r), (3, 4, 3)), dict(return_indices=True), desc="overlapping windows")


_ERR = lambda: [E(F((3, 4, 4)), 2), E(F((1, 2, 4, 4, 4)), 2, padding=2), E(F((1, 2, 4, 4, 4)), 5)]  # noqa: E731
add(OpInfo("nn.functional.max_pool3d", _f("max_pool3d"), _max_samples, errors=_ERR,
           ops=(P.max_pool3d_with_indices, C.max_pool_scatter, C.max_pool_gather)),
    OpInfo("nn.functional.avg_pool3d", _f("avg_pool3d"), _avg_samples, errors=_ERR,
           ops=(P.avg_pool3d_op, P.avg_pool3d_backward)),
    OpInfo("nn.functional.adaptive_avg_pool3d", _f("adaptive_avg_pool3d"), _adaptive_samples,
           ops=(P.adaptive_avg_pool3d_op, P.adaptive_avg_pool3d_backward),
           errors=lambda: [E(F((4, 4, 4)), 2), E(F((1, 2, 4, 4, 4)), (2, 2))]),
    OpInfo("nn.functional.adaptive_max_pool3d", _f("adaptive_max_pool3d"), _adaptive_max_samples,
           ops=(P.adaptive_max_pool3d_op, C.max_pool_scatter, C.max_pool_gather),
           errors=lambda: [E(F((4, 4, 4)), 2)]))


# ---- max_unpool, fractional_max_pool2d (ndgrad/_ops/unpool.py)
from ndgrad._ops import unpool as U  # noqa: E402


def _unpool(nd, in_shape, **pool_kw):
    """max_unpool of the sample (the pooled values) at the indices a max pool finds in a fixed input of
    `in_shape` (distinct values, so the same indices under both libraries)."""
    def f(lib, x, **kw):
        F_ = lib.nn.functional
        pool = (F_.max_pool1d, F_.max_pool2d, F_.max_pool3d)[nd - 1]
        unpool = (F_.max_unpool1d, F_.max_unpool2d, F_.max_unpool3d)[nd - 1]
        base = np.random.default_rng(5).permutation(int(np.prod(in_shape))).reshape(in_shape).astype(np.float64)
        _, idx = pool(lib.from_numpy(base), return_indices=True, **pool_kw)
        return unpool(x, idx, **pool_kw, **kw)
    return f


def _unpool_samples(shape):
    def gen(d, r):
        yield Sample((A(shape, d, r),), desc="pooled values")
    return gen


def _frac(lib, x, samples, **kw):
    return lib.nn.functional.fractional_max_pool2d(x, _random_samples=samples, **kw)


def _frac_samples(d, r):
    yield Sample((D((1, 3, 4), d, r), Arg(r.random((1, 1, 2)).astype(d), requires_grad=False)),
                 dict(kernel_size=2, output_size=(2, 2)), desc="tiny unbatched")
    yield Sample((D((2, 2, 6, 7), d, r), Arg(r.random((2, 2, 2)).astype(d), requires_grad=False)),
                 dict(kernel_size=(2, 3), output_size=(4, 3), return_indices=True), desc="overlapping, indices")
    yield Sample((D((1, 2, 7, 6), d, r), Arg(r.random((1, 2, 2)).astype(d), requires_grad=False)),
                 dict(kernel_size=3, output_ratio=(0.5, 0.7)), desc="ratio")


add(OpInfo("nn.functional.max_unpool2d", _unpool(2, (1, 2, 4, 4), kernel_size=2), _unpool_samples((1, 2, 2, 2)),
           ops=(U.max_unpool2d_op, C.max_pool_gather)),
    OpInfo("nn.functional.max_unpool2d(output_size)", _unpool(2, (2, 5, 5), kernel_size=2, stride=2, padding=1),
           lambda d, r: iter([Sample((A((2, 3, 3), d, r),), dict(output_size=(5, 5)), desc="unbatched, padded")]),
           ops=(U.max_unpool2d_op,)),
    OpInfo("nn.functional.max_unpool1d", _unpool(1, (2, 2, 6), kernel_size=2), _unpool_samples((2, 2, 3)),
           ops=(U.max_unpool2d_op,)),
    OpInfo("nn.functional.max_unpool3d", _unpool(3, (1, 1, 2, 4, 2), kernel_size=2), _unpool_samples((1, 1, 1, 2, 1)),
           ops=(U.max_unpool3d_op,)),
    OpInfo("nn.functional.fractional_max_pool2d", _frac, _frac_samples,
           ops=(U.fractional_max_pool2d_op, C.max_pool_scatter, C.max_pool_gather),
           errors=lambda: [E(F((1, 2, 4, 4)), Arg(np.full((1, 2, 2), 0.5), requires_grad=False), kernel_size=3,
                             output_size=(3, 2)), E(F((1, 2, 4, 4)), None, kernel_size=2)]))


def _frac3(lib, x, samples, **kw):
    return lib.nn.functional.fractional_max_pool3d(x, _random_samples=samples, **kw)


def _frac3_samples(d, r):
    yield Sample((D((1, 3, 3, 2), d, r), Arg(r.random((1, 1, 3)).astype(d), requires_grad=False)),
                 dict(kernel_size=(2, 2, 1), output_size=(1, 1, 1)), desc="tiny unbatched")
    yield Sample((D((2, 2, 6, 7, 5), d, r), Arg(r.random((2, 2, 3)).astype(d), requires_grad=False)),
                 dict(kernel_size=(2, 3, 1), output_size=(4, 3, 3), return_indices=True), desc="indices")


add(OpInfo("nn.functional.fractional_max_pool3d", _frac3, _frac3_samples,
           ops=(U.fractional_max_pool3d_op, C.max_pool_scatter, C.max_pool_gather),
           errors=lambda: [E(F((1, 1, 4, 4, 4)), Arg(np.full((1, 1, 3), 0.5), requires_grad=False), kernel_size=2,
                             output_size=(2, 3, 2))]))
