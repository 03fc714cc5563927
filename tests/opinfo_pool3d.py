"""OpInfo entries of ndgrad/_ops/pool3d.py: max/avg/adaptive pooling over three spatial dims. Max pooling samples
use distinct values (no ties). Each has one tiny sample so that gradgradcheck runs through the backward ops."""
from __future__ import annotations

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
