"""OpInfo entries of ndgrad/_ops/conv.py: convolutions (plain and transposed, 1-d and 2-d) and pooling.

Each sample set has one tiny sample (at most 24 elements in all) so that gradgradcheck runs through the
double-backward ops (convolution_weight, max_pool_scatter/gather, the pooling backwards).
Max pooling samples use distinct values, so that no window has a tie (where the derivative is a choice).
"""
from __future__ import annotations

from opinfo import A, Arg, E, F, OpInfo, Sample, add, f32, make

from ndgrad._ops import conv as C

TOL32 = dict(rtol={f32: 1e-4}, atol={f32: 1e-4})


def _f(name):
    return lambda lib, *a, **k: getattr(lib.nn.functional, name)(*a, **k)


def _conv2d_samples(d, r):
    yield Sample((A((1, 1, 4, 4), d, r), A((1, 1, 2, 2), d, r), A((1,), d, r)), desc="tiny")
    yield Sample((A((2, 4, 6, 5), d, r), A((6, 2, 3, 2), d, r), A((6,), d, r)),
                 dict(stride=(2, 1), padding=1, dilation=(1, 2), groups=2), desc="grouped strided dilated")
    yield Sample((A((2, 3, 5, 5), d, r), A((2, 3, 3, 3), d, r)), dict(padding="same"), desc="same")
    yield Sample((A((3, 5, 5), d, r), A((2, 3, 2, 2), d, r)), dict(stride=2), desc="unbatched")


def _conv1d_samples(d, r):
    yield Sample((A((1, 2, 5), d, r), A((2, 2, 2), d, r), A((2,), d, r)), desc="tiny")
    yield Sample((A((2, 4, 9), d, r), A((4, 2, 3), d, r)), dict(stride=2, padding=2, dilation=2, groups=2),
                 desc="grouped")
    yield Sample((A((2, 7), d, r), A((3, 2, 4), d, r), A((3,), d, r)), dict(padding="valid"), desc="unbatched")


def _conv_t2d_samples(d, r):
    yield Sample((A((1, 1, 3, 3), d, r), A((1, 1, 2, 2), d, r), A((1,), d, r)), dict(stride=2), desc="tiny")
    yield Sample((A((2, 4, 3, 4), d, r), A((4, 3, 3, 2), d, r), A((6,), d, r)),
                 dict(stride=2, padding=1, output_padding=1, groups=2, dilation=(1, 2)), desc="grouped")
    yield Sample((A((2, 3, 3), d, r), A((2, 3, 2, 2), d, r)), dict(stride=(1, 2), dilation=2, output_padding=1),
                 desc="unbatched, output padding below dilation")


def _conv_t1d_samples(d, r):
    yield Sample((A((1, 2, 4), d, r), A((2, 1, 3), d, r)), dict(stride=2, padding=1, output_padding=1), desc="tiny")
    yield Sample((A((2, 4, 5), d, r), A((4, 2, 3), d, r), A((4,), d, r)), dict(stride=3, groups=2, dilation=2),
                 desc="grouped")


def D(shape, d, r):
    return Arg(make(shape, d, r, distinct=True))


def _max_pool2d_samples(d, r):
    yield Sample((D((1, 4, 4), d, r), 2), desc="tiny unbatched")
    yield Sample((D((2, 3, 7, 6), d, r), 3), dict(stride=2, padding=1, ceil_mode=True), desc="overlapping ceil")
    yield Sample((D((2, 2, 8, 7), d, r), (2, 3)), dict(stride=(2, 1), padding=(1, 0), dilation=(2, 2)),
                 desc="dilated")


def _max_pool1d_samples(d, r):
    yield Sample((D((2, 2, 5), d, r), 2), desc="tiny")
    yield Sample((D((3, 9), d, r), 3), dict(stride=2, padding=1, dilation=2, ceil_mode=True), desc="unbatched")


def _avg_pool2d_samples(d, r):
    yield Sample((A((1, 4, 5), d, r), 2), desc="tiny unbatched")
    yield Sample((A((2, 3, 7, 6), d, r), 3), dict(stride=2, padding=1, ceil_mode=True, count_include_pad=False),
                 desc="ceil, without padding")
    yield Sample((A((2, 2, 6, 6), d, r), (2, 3)), dict(stride=(1, 2), padding=(1, 1), divisor_override=4),
                 desc="divisor override")


def _avg_pool1d_samples(d, r):
    yield Sample((A((2, 2, 5), d, r), 2), desc="tiny")
    yield Sample((A((3, 9), d, r), 3), dict(stride=2, padding=1, ceil_mode=True), desc="unbatched")


def _adaptive_avg2d_samples(d, r):
    yield Sample((A((1, 4, 5), d, r), (3, 2)), desc="tiny unbatched")
    yield Sample((A((2, 3, 7, 6), d, r), (4, None)), desc="uneven windows")
    yield Sample((A((2, 3, 6, 6), d, r), 1), desc="global (a mean in torch)")


def _adaptive_avg1d_samples(d, r):
    yield Sample((A((2, 2, 5), d, r), 3), desc="tiny")
    yield Sample((A((3, 9), d, r), 4), desc="unbatched")


def _adaptive_max2d_samples(d, r):
    yield Sample((D((1, 4, 5), d, r), (3, 2)), desc="tiny unbatched")
    yield Sample((D((2, 3, 7, 6), d, r), (4, 5)), dict(return_indices=True), desc="overlapping windows")


def _unfold_samples(d, r):
    yield Sample((A((1, 2, 3, 3), d, r), 2), desc="tiny")
    yield Sample((A((2, 3, 5, 6), d, r), (2, 3)), dict(dilation=(1, 2), padding=1, stride=2), desc="strided")
    yield Sample((A((3, 4, 4), d, r), 3), dict(padding=1), desc="unbatched")


def _fold_samples(d, r):
    yield Sample((A((1, 4, 4), d, r), (3, 3), 2), desc="tiny")
    yield Sample((A((2, 18, 6), d, r), (5, 6), (2, 3)), dict(dilation=(1, 2), padding=1, stride=2), desc="strided")
    yield Sample((A((12, 15), d, r), 4, 2), dict(padding=1, stride=(1, 2)), desc="unbatched, overlapping")


def _conv_errors():
    return [E(F((2, 6, 6)), F((4, 3, 3, 3))), E(F((6, 6)), F((4, 3, 3, 3))), E(F((2, 3, 6, 6)), F((4, 2, 3, 3))),
            E(F((2, 3, 6, 6)), F((4, 3, 3, 3)), F((3,))), E(F((2, 3, 6, 6)), F((4, 3, 7, 7))),
            E(F((2, 3, 6, 6)), F((4, 3, 3, 3)), stride=0), E(F((2, 3, 6, 6)), F((4, 3, 3, 3)), padding=-1),
            E(F((2, 3, 6, 6)), F((4, 3, 3, 3)), padding="same", stride=2),
            E(F((2, 3, 6, 6)), F((4, 3, 3, 3)), padding="foo"), E(F((2, 3, 6, 6)), F((4, 3, 3, 3), f32)),
            E(F((2, 3, 6, 6)), F((4, 1, 3, 3)), groups=3), E(F((2, 3, 6, 6)), F((4, 3, 3, 3)), groups=0)]


def _pool_errors():
    return [E(F((6, 6)), 2), E(F((2, 3, 6, 6)), 2, padding=2), E(F((2, 3, 6, 6)), 7), E(F((2, 3, 6, 6)), 2, stride=0)]


_CONV_OPS = (C.convolution, C.convolution_bb, C.convolution_weight)
add(OpInfo("conv2d", _f("conv2d"), _conv2d_samples, ops=_CONV_OPS, errors=_conv_errors, **TOL32),
    OpInfo("conv1d", _f("conv1d"), _conv1d_samples, ops=_CONV_OPS, **TOL32),
    OpInfo("conv_transpose2d", _f("conv_transpose2d"), _conv_t2d_samples, ops=_CONV_OPS, **TOL32,
           errors=lambda: [E(F((2, 3, 6, 6)), F((3, 4, 3, 3)), output_padding=1),
                           E(F((2, 3, 6, 6)), F((4, 4, 3, 3)))]),
    OpInfo("conv_transpose1d", _f("conv_transpose1d"), _conv_t1d_samples, ops=_CONV_OPS, **TOL32),
    OpInfo("max_pool2d", _f("max_pool2d"), _max_pool2d_samples, errors=_pool_errors,
           ops=(C.max_pool2d_with_indices, C.max_pool_scatter, C.max_pool_gather)),
    OpInfo("max_pool1d", _f("max_pool1d"), _max_pool1d_samples,
           ops=(C.max_pool2d_with_indices, C.max_pool_scatter, C.max_pool_gather)),
    OpInfo("nn.functional.avg_pool2d", _f("avg_pool2d"), _avg_pool2d_samples, errors=_pool_errors,
           ops=(C.avg_pool2d_op, C.avg_pool2d_backward)),
    OpInfo("avg_pool1d", _f("avg_pool1d"), _avg_pool1d_samples, ops=(C.avg_pool2d_op, C.avg_pool2d_backward)),
    OpInfo("nn.functional.adaptive_avg_pool2d", _f("adaptive_avg_pool2d"), _adaptive_avg2d_samples,
           ops=(C.adaptive_avg_pool2d_op, C.adaptive_avg_pool2d_backward),
           errors=lambda: [E(F((6, 6)), 2), E(F((2, 3, 6, 6)), (2, 2, 2))]),
    OpInfo("adaptive_avg_pool1d", _f("adaptive_avg_pool1d"), _adaptive_avg1d_samples,
           ops=(C.adaptive_avg_pool2d_op, C.adaptive_avg_pool2d_backward)),
    OpInfo("nn.functional.adaptive_max_pool2d", _f("adaptive_max_pool2d"), _adaptive_max2d_samples,
           ops=(C.adaptive_max_pool2d_op, C.max_pool_scatter, C.max_pool_gather)))
add(OpInfo("nn.functional.unfold", _f("unfold"), _unfold_samples, ops=(C.im2col, C.col2im),
           errors=lambda: [E(F((5, 6)), 2), E(F((2, 3, 5, 6)), 7), E(F((2, 3, 5, 6)), 2, stride=0)]),
    OpInfo("nn.functional.fold", _f("fold"), _fold_samples, ops=(C.im2col, C.col2im),
           errors=lambda: [E(F((2, 12, 5)), (5, 6), 2), E(F((2, 7, 20)), (5, 6), 2), E(F((2, 3, 4, 20)), (5, 6), 2)]))


def _conv3d_samples(d, r):
    yield Sample((A((1, 1, 2, 3, 2), d, r), A((1, 1, 2, 2, 1), d, r), A((1,), d, r)), desc="tiny")
    yield Sample((A((2, 4, 4, 5, 4), d, r), A((6, 2, 2, 3, 2), d, r), A((6,), d, r)),
                 dict(stride=(2, 1, 1), padding=(1, 0, 1), dilation=(1, 2, 1), groups=2), desc="grouped strided")
    yield Sample((A((2, 4, 3, 3), d, r), A((3, 2, 3, 1, 2), d, r)), dict(padding="same"), desc="unbatched same")


def _conv_t3d_samples(d, r):
    yield Sample((A((1, 1, 2, 2, 1), d, r), A((1, 1, 2, 1, 2), d, r), A((1,), d, r)), dict(stride=2), desc="tiny")
    yield Sample((A((2, 4, 3, 2, 3), d, r), A((4, 3, 2, 2, 2), d, r), A((6,), d, r)),
                 dict(stride=2, padding=1, output_padding=1, groups=2, dilation=(1, 2, 1)), desc="grouped")


add(OpInfo("conv3d", _f("conv3d"), _conv3d_samples, ops=_CONV_OPS, **TOL32,
           errors=lambda: [E(F((3, 4, 4)), F((2, 2, 2, 2, 2))), E(F((1, 2, 4, 4, 4)), F((2, 3, 2, 2, 2)))]),
    OpInfo("conv_transpose3d", _f("conv_transpose3d"), _conv_t3d_samples, ops=_CONV_OPS, **TOL32))
