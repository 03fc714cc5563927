"""OpInfo entries of ndgrad/_ops/normalization.py: layer/batch/group norm and embedding, one node each
(NativeLayerNormBackward0, NativeBatchNormBackward0, NativeGroupNormBackward0, EmbeddingBackward0)."""
from __future__ import annotations

import numpy as np
from opinfo import A, Arg, E, F, OpInfo, Sample, add, f32, ints

from ndgrad._ops import normalization as N

TOL32 = dict(rtol={f32: 1e-4}, atol={f32: 1e-4})


def _ln_samples(d, r):
    yield Sample((A((2, 3), d, r), (3,), A((3,), d, r), A((3,), d, r)), desc="tiny affine")
    yield Sample((A((2, 3, 4), d, r), (3, 4)), dict(eps=1e-3), desc="two dims, no affine")
    yield Sample((A((3, 5), d, r), [5], A((5,), d, r)), desc="weight only")


def _bn(training):
    def f(lib, x, w=None, b=None, rm=None, rv=None):
        if not training:
            rm = lib.linspace(-0.5, 0.5, x.shape[1], dtype=x.dtype)
            rv = lib.linspace(0.5, 2.0, x.shape[1], dtype=x.dtype)
        return lib.nn.functional.batch_norm(x, rm, rv, w, b, training=training, eps=1e-4)
    return f


def _bn_samples(d, r):
    yield Sample((A((3, 2), d, r), A((2,), d, r), A((2,), d, r)), desc="tiny affine")
    yield Sample((A((2, 3, 4), d, r),), desc="3-d, no affine")
    yield Sample((A((2, 2, 3, 2), d, r), A((2,), d, r)), desc="4-d, weight only")


def _gn_samples(d, r):
    yield Sample((A((2, 4), d, r), 2, A((4,), d, r), A((4,), d, r)), desc="tiny affine")
    yield Sample((A((2, 6, 3), d, r), 3), dict(eps=1e-3), desc="3-d, no affine")
    yield Sample((A((2, 4, 2, 3), d, r), 1, A((4,), d, r)), desc="4-d, one group, weight only")


def _emb_samples(d, r):
    yield Sample((ints([[1, 2], [0, 1]]), A((3, 2), d, r)), desc="tiny")
    yield Sample((ints([1, 3, 3, 0, 1]), A((4, 3), d, r)), dict(padding_idx=1), desc="padding_idx",
                 gradcheck=False)  # torch's gradient is not the derivative there (nor below)
    yield Sample((ints([[2, 3, 2], [2, 0, 1]]), A((4, 2), d, r)), dict(scale_grad_by_freq=True),
                 desc="scale_grad_by_freq", gradcheck=False)
    yield Sample((ints([2, 3, 2, 0]), A((5, 2), d, r)), dict(padding_idx=-3, scale_grad_by_freq=True),
                 desc="both, negative padding_idx", gradcheck=False)


def _f(name):
    return lambda lib, *a, **k: getattr(lib.nn.functional, name)(*a, **k)


add(OpInfo("nn.functional.layer_norm", _f("layer_norm"), _ln_samples, ops=(N.native_layer_norm,), **TOL32,
           errors=lambda: [E(F((2, 3)), (4,)), E(F((2, 3)), (3,), F((4,)))]),
    OpInfo("nn.functional.batch_norm(training)", _bn(True), _bn_samples, ops=(N.native_batch_norm,), **TOL32,
           errors=lambda: [E(F((1, 3)))]),
    OpInfo("nn.functional.batch_norm(eval)", _bn(False), _bn_samples, ops=(N.native_batch_norm,), **TOL32),
    OpInfo("nn.functional.group_norm", _f("group_norm"), _gn_samples, ops=(N.native_group_norm,), **TOL32,
           errors=lambda: [E(F((2, 5, 3)), 2), E(F((2, 4, 3)), 2, F((3,)))]),
    OpInfo("nn.functional.embedding", _f("embedding"), _emb_samples,
           ops=(N.embedding, N.embedding_backward),
           errors=lambda: [E(Arg(np.array([0.5, 1.0]), requires_grad=False), F((3, 2))),
                           E(ints([0, 3]), F((3, 2)))]))
