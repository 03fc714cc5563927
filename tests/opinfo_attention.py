"""OpInfo entries of ndgrad/_ops/attention.py: F.scaled_dot_product_attention (one op, three node names).

Samples cover torch's flash path (4-d, node ScaledDotProductFlashAttentionForCpuBackward0) and its math path
(3-d/5-d, broadcast batch dims, a float mask that requires grad, a value head dim unlike the query's:
UnsafeViewBackward0; 2-d: MmBackward0), boolean and float masks with broadcasting and a fully masked row,
is_causal with L != S, scale, and grouped-query attention. The first samples are tiny so that gradgradcheck
runs through the double backward. Dropout draws from ndgrad's generator, so it is checked in
tests/test_transformer.py instead of against torch's values.
"""
from __future__ import annotations

import numpy as np
from opinfo import A, Arg, E, F, OpInfo, Sample, add, f32, make

from ndgrad._ops import attention as At


def _sdpa(lib, *a, **k):
    return lib.nn.functional.scaled_dot_product_attention(*a, **k)


def _bool_mask(shape, r, full_row=True):
    m = r.random(shape) > 0.4
    m[..., 0] = True
    if full_row:
        m[..., -1, :] = False  # a query that may attend nowhere: output 0, gradient 0
    return Arg(m, requires_grad=False)


def _fmask(shape, d, r, grad=False):
    return Arg(make(shape, d, r, -1.0, 1.0), requires_grad=grad)


def _samples(d, r):
    yield Sample((A((1, 1, 2, 3), d, r), A((1, 1, 2, 3), d, r), A((1, 1, 2, 3), d, r)), desc="tiny flash")
    yield Sample((A((2, 3), d, r), A((3, 3), d, r), A((3, 2), d, r)), dict(is_causal=True), desc="tiny 2-d causal")
    yield Sample((A((1, 2, 3), d, r), A((1, 2, 3), d, r), A((1, 2, 3), d, r), _fmask((2, 2), d, r, True)),
                 desc="tiny 3-d, float mask with grad")
    yield Sample((A((2, 3, 4, 8), d, r), A((2, 3, 6, 8), d, r), A((2, 3, 6, 8), d, r)), desc="flash L != S")
    yield Sample((A((2, 2, 4, 5), d, r), A((2, 2, 6, 5), d, r), A((2, 2, 6, 5), d, r)), dict(is_causal=True),
                 desc="flash causal L < S")
    yield Sample((A((2, 2, 6, 5), d, r), A((2, 2, 4, 5), d, r), A((2, 2, 4, 5), d, r)), dict(is_causal=True),
                 desc="flash causal L > S (rows with no key)")
    yield Sample((A((2, 2, 4, 5), d, r), A((2, 2, 6, 5), d, r), A((2, 2, 6, 5), d, r), _bool_mask((4, 6), r)),
                 desc="bool mask broadcast, a fully masked row")
    yield Sample((A((2, 2, 4, 5), d, r), A((2, 2, 6, 5), d, r), A((2, 2, 6, 5), d, r), _bool_mask((4, 6), r)),
                 dict(is_causal=True), desc="flash: bool mask and is_causal together")
    yield Sample((A((2, 2, 4, 5), d, r), A((2, 2, 6, 5), d, r), A((2, 2, 6, 5), d, r), _fmask((2, 1, 4, 6), d, r)),
                 dict(scale=0.3), desc="float mask, scale")
    yield Sample((A((2, 4, 3, 5), d, r), A((2, 2, 6, 5), d, r), A((2, 1, 6, 5), d, r)), dict(enable_gqa=True),
                 desc="grouped-query attention")
    yield Sample((A((3, 4, 5), d, r), A((3, 6, 5), d, r), A((3, 6, 7), d, r), _bool_mask((3, 4, 6), r, False)),
                 desc="3-d, bool mask, value head dim 7")
    yield Sample((A((2, 2, 3, 4), d, r), A((1, 2, 5, 4), d, r), A((2, 1, 5, 4), d, r), _fmask((3, 5), d, r, True)),
                 desc="broadcast batch dims, float mask with grad")
    yield Sample((A((2, 1, 2, 3, 4), d, r), A((2, 1, 2, 5, 4), d, r), A((2, 1, 2, 5, 3), d, r)), dict(is_causal=True),
                 desc="5-d causal")
    yield Sample((A((4, 6), d, r), A((3, 4, 6), d, r), A((3, 4, 6), d, r)), desc="2-d query, 3-d key")
    yield Sample((A((2, 2, 4, 5), d, r), A((2, 2, 6, 5), d, r), A((2, 2, 6, 5), d, r),
                  _fmask((4, 6), np.float32, r)), desc="float32 mask on any query")


def _errors():
    f = F((2, 3, 4, 8))
    return [E(F((8,)), F((6, 8)), F((6, 8))),                                  # 1-d query
            E(f, F((2, 3, 4, 8), f32), f),                                      # dtypes differ
            E(f, f, f, Arg(np.ones((4, 4), np.int64), False)),                 # integer mask
            E(F((2, 3, 4, 8), f32), F((2, 3, 4, 8), f32), F((2, 3, 4, 8), f32), F((4, 4))),  # f64 mask, f32 query
            E(F((3, 4, 8)), F((3, 4, 8)), F((3, 4, 8)), Arg(np.ones((4, 4), bool), False), is_causal=True),
            E(F((3, 4, 8)), F((3, 4, 8)), F((3, 4, 8)), dropout_p=1.5),
            E(F((3, 4, 8)), F((3, 6, 7)), F((3, 6, 8))),                       # q/k head dims
            E(F((4, 8)), F((6, 7)), F((6, 8))),
            E(F((3, 4, 8)), F((3, 6, 8)), F((3, 5, 8))),                       # k/v lengths
            E(F((4, 8)), F((6, 8)), F((5, 8))),
            E(F((3, 4, 8)), F((2, 6, 8)), F((2, 6, 8))),                       # batch dims
            E(F((2, 4, 4, 8)), F((2, 2, 6, 8)), F((2, 2, 6, 8))),              # heads without enable_gqa
            E(F((2, 4, 4, 8)), F((2, 3, 6, 8)), F((2, 3, 6, 8)), enable_gqa=True),
            E(f, F((2, 3, 6, 8)), F((2, 3, 6, 8)), F((5, 6))),                 # mask does not broadcast
            E(F((3, 4, 8)), F((3, 4, 8)), F((3, 4, 8)), F((2, 3, 4, 4))),      # mask larger than the scores
            E(Arg(np.ones((3, 4, 8), np.int64), False), Arg(np.ones((3, 4, 8), np.int64), False),
              Arg(np.ones((3, 4, 8), np.int64), False))]


add(OpInfo("nn.functional.scaled_dot_product_attention", _sdpa, _samples, errors=_errors,
           ops=(At.sdpa_flash, At.sdpa_math, At.sdpa_math_2d), rtol={f32: 1e-5}, atol={f32: 1e-5}))


def _rms_samples(d, r):
    yield Sample((A((2, 3), d, r), (3,), A((3,), d, r)), desc="tiny, weight")
    yield Sample((A((2, 3, 4), d, r), (3, 4)), dict(eps=1e-3), desc="two dims, no weight")
    yield Sample((A((2, 5), d, r), [5], A((5,), d, r)), desc="eps from the dtype")


add(OpInfo("nn.functional.rms_norm", lambda lib, *a, **k: lib.nn.functional.rms_norm(*a, **k), _rms_samples,
           errors=lambda: [E(F((2, 3, 4)), (5,)), E(F((2, 3, 4)), (4,), F((3,))), E(F((2, 3, 4)), (3, 5))],
           rtol={f32: 1e-5}, atol={f32: 1e-5}))
