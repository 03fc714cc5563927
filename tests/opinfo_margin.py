"""OpInfo entries of ndgrad/_ops/margin.py: multi_margin_loss, multilabel_margin_loss and ctc_loss, the losses with
nodes of their own in torch (MultiMarginLossBackward0, MultilabelMarginLossBackward0, CtcLossBackward0).

torch implements no double backward for any of them; ndgrad's margin losses have one (checked by gradgradcheck
only: no torch to compare with there), and ctc_loss raises torch's error."""
from __future__ import annotations

import numpy as np
from opinfo import A, Arg, E, F, OpInfo, Sample, add, f32, ints

from ndgrad._ops import margin as M


def _w(values):
    return Arg(np.array(values, dtype=np.float64), requires_grad=False)


def _mm_samples(d, r):
    yield Sample((A((3, 4), d, r), ints([1, 0, 3])), desc="p=1")
    yield Sample((A((3, 4), d, r), ints([2, 2, 0])), dict(p=2, margin=0.7, reduction="sum"), desc="p=2, sum")
    yield Sample((A((2, 3), d, r), ints([0, 1])), dict(reduction="none"), desc="none")
    yield Sample((A((4,), d, r), ints(3)), dict(p=2), desc="1-d input")


def _mm_weighted(lib, x, t, **kw):
    return lib.nn.functional.multi_margin_loss(x, t, weight=lib.linspace(0.5, 2.0, x.shape[-1], dtype=x.dtype), **kw)


def _ml_samples(d, r):
    yield Sample((A((3, 4), d, r), ints([[3, 0, -1, 1], [0, 1, 2, -1], [1, 1, 0, -1]])), desc="repeats, -1 ends")
    yield Sample((A((2, 3), d, r), ints([[2, -1, 0], [0, 1, 2]])), dict(reduction="none"), desc="none")
    yield Sample((A((4,), d, r), ints([1, 2, -1, 3])), dict(reduction="sum"), desc="1-d input")


def _ctc(lib, x, *a, **k):
    return lib.nn.functional.ctc_loss(x.log_softmax(-1), *a, **k)


def _ctc_samples(d, r):
    yield Sample((A((6, 3, 4), d, r), ints([[1, 2, 2], [3, 1, 0], [1, 1, 1]]), ints([6, 5, 4]), ints([3, 2, 1])),
                 desc="padded targets, mean")
    yield Sample((A((5, 2, 3), d, r), ints([1, 2, 2]), (5, 4), (2, 1)), dict(reduction="sum", blank=0),
                 desc="concatenated targets, sum")
    yield Sample((A((4, 2, 3), d, r), ints([[1, 1], [2, 0]]), ints([4, 3]), ints([2, 0])),
                 dict(reduction="none", blank=0), desc="repeated label, empty target, none")
    yield Sample((A((4, 3), d, r), ints([2, 0]), ints([4]), ints([2])), dict(blank=1, reduction="none"),
                 desc="unbatched, other blank")
    yield Sample((A((3, 2, 3), d, r), ints([[1, 1, 1], [1, 2, 2]]), ints([3, 3]), ints([3, 2])),
                 dict(zero_infinity=True, reduction="none"), desc="impossible alignment, zero_infinity")


def _ctc_errors():
    x = F((4, 2, 3))
    return [E(x, ints([[1, 1], [2, 0]]), ints([5, 3]), ints([2, 1])),
            E(x, ints([[1, 1], [2, 0]]), ints([4]), ints([2, 1])),
            E(x, ints([[1, 1], [2, 0]]), ints([4, 3]), ints([2, 1]), blank=3),
            E(x, ints([[1, 1], [2, 0]]), ints([4, 3]), ints([2, 1]), reduction="avg")]


_f = lambda name: lambda lib, *a, **k: getattr(lib.nn.functional, name)(*a, **k)  # noqa: E731
_TOL = dict(rtol={f32: 1e-4}, atol={f32: 1e-4})
add(OpInfo("nn.functional.multi_margin_loss", _f("multi_margin_loss"), _mm_samples, ops=(M.multi_margin_op,),
           **_TOL, errors=lambda: [E(F((3, 4)), ints([1, 2, 4])), E(F((3, 4)), ints([1, 2])),
                                   E(F((3, 4)), ints([1, 2, 3]), p=3), E(F((2, 3, 4)), ints([1, 2]))]),
    OpInfo("nn.functional.multi_margin_loss(weight)", _mm_weighted, _mm_samples, ops=(M.multi_margin_op,), **_TOL),
    OpInfo("nn.functional.multilabel_margin_loss", _f("multilabel_margin_loss"), _ml_samples,
           ops=(M.multilabel_margin_op,), **_TOL,
           errors=lambda: [E(F((3, 4)), ints([1, 2])), E(F((2, 3)), ints([[0, 3, -1], [0, 1, 2]]))]),
    OpInfo("nn.functional.ctc_loss", _ctc, _ctc_samples, ops=(M.ctc_op, M.ctc_backward), gradgrad=False,
           rtol={f32: 1e-4}, atol={f32: 1e-4}, errors=_ctc_errors))
