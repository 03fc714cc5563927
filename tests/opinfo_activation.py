"""OpInfo entries of ndgrad/_ops/activation.py: softmax/log_softmax, the activations with their own backward
nodes (elu, selu, celu, gelu, silu, mish, hardtanh, ...), and nll_loss."""
from __future__ import annotations

import numpy as np
from opinfo import (
    WITH_INT,
    A,
    Arg,
    E,
    F,
    OpInfo,
    Sample,
    add,
    f16,
    f32,
    f64,
    ints,
)

from ndgrad._ops import activation as AC

FLOATS = (f64, f32)


def _m(name):
    return lambda lib, *a, **k: getattr(lib, name)(*a, **k)


def _meth(name):
    return lambda lib, x, *a, **k: getattr(x, name)(*a, **k)


def _F(name):
    return lambda lib, *a, **k: getattr(lib.nn.functional, name)(*a, **k)


# ---- softmax, log_softmax
def _softmax_samples(d, r):
    a = lambda *s, **kw: A(s, d, r, -3.0, 3.0, **kw)  # noqa: E731
    yield Sample((a(3, 4), 1), desc="dim 1")
    yield Sample((a(3, 4), 0), desc="dim 0")
    yield Sample((a(2, 3, 4), -1), desc="3-d, dim -1")
    yield Sample((a(2, 3, 4), 1), desc="3-d, dim 1")
    yield Sample((a(5), 0), desc="1-d")
    yield Sample((a(), 0), desc="0-d")
    yield Sample((a(4, 3, layout="T"), 1), desc="transposed")
    yield Sample((a(2, 3, layout="step"), -1), desc="strided")
    yield Sample((a(0, 3), 1), desc="empty")
    yield Sample((Arg(np.array([[1000.0, 0.0, -1000.0], [1.0, 1.0, 1.0]], d)), 1), desc="large values")


def _softmax_dtype_samples(d, r):
    yield Sample((A((3, 4), d, r), 1), dict(dtype=np.float64), desc="dtype float64")
    yield Sample((ints([[1, 2, 3], [0, 0, 1]]), 0), dict(dtype=np.float32), desc="int input, dtype float32")


def _dt(lib, kw):
    if "dtype" in kw:
        kw = dict(kw, dtype={np.float64: lib.float64, np.float32: lib.float32}[kw["dtype"]])
    return kw


_SOFTMAX_ERRORS = lambda: [E(ints([1, 2]), 0), E(ints([[1, 2]]), 0), E(F((2, 3)), 2),  # noqa: E731
                           E(F((2, 3)), None), E(F((2,)), 0.5)]

for _n, _op in (("softmax", AC.softmax_op), ("log_softmax", AC.log_softmax_op)):
    add(OpInfo(_n, _m(_n), _softmax_samples, dtypes=(f64, f32, f16), ops=(_op,), errors=_SOFTMAX_ERRORS,
               atol={f16: 2e-3}),
        OpInfo(f"Tensor.{_n}", _meth(_n), _softmax_samples, ops=(_op,)),
        OpInfo(f"{_n}(dtype)", (lambda n: lambda lib, x, dim, **kw: getattr(lib, n)(x, dim, **_dt(lib, kw)))(_n),
               _softmax_dtype_samples, dtypes=(f32,), ops=(_op,)),
        OpInfo(f"nn.functional.{_n}", (lambda n: lambda lib, x, dim: getattr(lib.nn.functional, n)(x, dim))(_n),
               _softmax_samples, ops=(_op,)))


# ---- pointwise activations (nn.functional and the top-level names torch has)
def _act_samples(low=-3.0, high=3.0, away=(), args=(), kwargs=None):
    kw = kwargs or {}

    def gen(d, r):
        a = lambda *s, **k: A(s, d, r, low, high, away=away, **k)  # noqa: E731
        yield Sample((a(3, 4), *args), dict(kw), desc="2-d")
        yield Sample((a(5), *args), dict(kw), desc="1-d")
        yield Sample((a(), *args), dict(kw), desc="0-d")
        yield Sample((a(4, 3, layout="T"), *args), dict(kw), desc="transposed")
        yield Sample((a(2, 3, layout="step"), *args), dict(kw), desc="strided")
        yield Sample((a(0, 3), *args), dict(kw), desc="empty")
    return gen


_ACT = [
    # name, fn (lib, x, ...), samples, ops, dtypes, errors
    ("nn.functional.elu", _F("elu"), _act_samples(away=(0,), args=(0.7,)), (AC.elu_op,), WITH_INT, True),
    ("nn.functional.selu", _F("selu"), _act_samples(away=(0,)), (AC.elu_op,), WITH_INT, True),
    ("selu", _m("selu"), _act_samples(away=(0,)), (AC.elu_op,), WITH_INT, True),
    ("nn.functional.celu", _F("celu"), _act_samples(away=(0,), args=(0.6,)), (AC.celu_op,), WITH_INT, True),
    ("celu", _m("celu"), _act_samples(away=(0,), args=(1.5,)), (AC.celu_op,), WITH_INT, True),
    ("nn.functional.leaky_relu", _F("leaky_relu"), _act_samples(away=(0,), args=(0.2,)), (AC.leaky_relu_op,),
     WITH_INT, True),
    ("nn.functional.hardtanh", _F("hardtanh"), _act_samples(away=(-0.5, 1.2), args=(-0.5, 1.2)),
     (AC.hardtanh_op,), WITH_INT, False),
    ("nn.functional.relu6", _F("relu6"), _act_samples(-8, 8, away=(0, 6)), (AC.hardtanh_op,), WITH_INT, False),
    ("nn.functional.threshold", _F("threshold"), _act_samples(away=(0.3,), args=(0.3, -2.0)), (AC.threshold_op,),
     WITH_INT, False),
    ("threshold", _m("threshold"), _act_samples(away=(0.3,), args=(0.3, -2.0)), (AC.threshold_op,), WITH_INT,
     False),
    ("nn.functional.gelu", _F("gelu"), _act_samples(), (AC.gelu_op,), WITH_INT, True),
    ("nn.functional.gelu(tanh)", _F("gelu"), _act_samples(kwargs=dict(approximate="tanh")), (AC.gelu_op,),
     FLOATS, False),
    ("nn.functional.silu", _F("silu"), _act_samples(), (AC.silu_op,), WITH_INT, True),
    ("nn.functional.mish", _F("mish"), _act_samples(), (AC.mish_op,), WITH_INT, True),
    ("nn.functional.hardsigmoid", _F("hardsigmoid"), _act_samples(-5, 5, away=(-3, 3)), (AC.hardsigmoid_op,),
     WITH_INT, True),
    ("nn.functional.hardswish", _F("hardswish"), _act_samples(-5, 5, away=(-3, 3)), (AC.hardswish_op,), WITH_INT,
     True),
    ("nn.functional.logsigmoid", _F("logsigmoid"), _act_samples(-30, 30), (AC.logsigmoid_op,), WITH_INT, True),
    ("nn.functional.hardshrink", _F("hardshrink"), _act_samples(away=(-0.5, 0.5)), (AC.hardshrink_op,), WITH_INT,
     True),
    ("hardshrink", _m("hardshrink"), _act_samples(away=(-0.7, 0.7), args=(0.7,)), (AC.hardshrink_op,), WITH_INT,
     True),
    ("Tensor.hardshrink", _meth("hardshrink"), _act_samples(away=(-0.5, 0.5)), (AC.hardshrink_op,), FLOATS, False),
    ("nn.functional.softshrink", _F("softshrink"), _act_samples(away=(-0.4, 0.4), args=(0.4,)),
     (AC.softshrink_op,), WITH_INT, True),
]
for _name, _fn, _gen, _ops, _dts, _int_err in _ACT:
    add(OpInfo(_name, _fn, _gen, dtypes=_dts, ops=_ops,
               errors=(lambda: [E(ints([1, 2]))]) if _int_err else None))


def _glu_samples(d, r):
    yield Sample((A((3, 4), d, r),), desc="last dim")
    yield Sample((A((4, 3), d, r), 0), desc="dim 0")
    yield Sample((A((2, 6, 2), d, r, layout="T"), 1), desc="transposed")
    yield Sample((A((6,), d, r),), desc="1-d")


add(OpInfo("nn.functional.glu", _F("glu"), _glu_samples, ops=(AC.glu_op,),
           errors=lambda: [E(F((3,))), E(F((4, 3)), 1), E(F((4, 3)), 2), E(F(())), E(ints([1, 2]))]))


def _prelu_samples(d, r):
    yield Sample((A((3, 4), d, r, away=(0,)), A((4,), d, r, 0.05, 0.5)), desc="per channel")
    yield Sample((A((2, 3, 4), d, r, away=(0,)), A((3,), d, r, 0.05, 0.5)), desc="3-d per channel")
    yield Sample((A((2, 3, 2, 2), d, r, away=(0,)), A((1,), d, r, 0.05, 0.5)), desc="shared")
    yield Sample((A((5,), d, r, away=(0,)), A((1,), d, r, 0.05, 0.5)), desc="1-d")
    yield Sample((A((3, 4), d, r, away=(0,)), A((), d, r, 0.05, 0.5)), desc="0-d weight")
    yield Sample((A((), d, r, away=(0,)), A((1,), d, r, 0.05, 0.5)), desc="0-d input")


add(OpInfo("prelu", _m("prelu"), _prelu_samples, ops=(AC.prelu_op,),
           errors=lambda: [E(F((3, 4)), F((3,))), E(F((3, 4)), F((2, 2))), E(F(()), F((2,))),
                           E(ints([1, 2]), ints([1]))]),
    OpInfo("Tensor.prelu", _meth("prelu"), _prelu_samples, ops=(AC.prelu_op,)))


# ---- losses with their own nodes
def _pair_samples(low=-2.0, high=2.0, tlow=-2.0, thigh=2.0, args=(), target_grad=True):
    def gen(d, r):
        for red in ("mean", "sum", "none"):
            t = A((3, 4), d, r, tlow, thigh)
            t.requires_grad = target_grad and t.requires_grad
            yield Sample((A((3, 4), d, r, low, high), t, *args), dict(reduction=red), desc=red)
        t = A((5,), d, r, tlow, thigh)
        t.requires_grad = target_grad and t.requires_grad
        yield Sample((A((5,), d, r, low, high, layout="step"), t, *args), desc="strided")
        t = A((), d, r, tlow, thigh)
        t.requires_grad = target_grad and t.requires_grad
        yield Sample((A((), d, r, low, high), t, *args), desc="0-d")
        t = A((0, 2), d, r, tlow, thigh)
        t.requires_grad = target_grad and t.requires_grad
        yield Sample((A((0, 2), d, r, low, high), t, *args), dict(reduction="sum"), desc="empty")
    return gen


add(OpInfo("nn.functional.mse_loss", _F("mse_loss"), _pair_samples(), ops=(AC.mse_op,),
           errors=lambda: [E(F((2, 3)), F((2, 2))), E(F((2,)), F((2,)), reduction="foo"), E(ints([1]), ints([2]))]),
    OpInfo("nn.functional.smooth_l1_loss", _F("smooth_l1_loss"), _pair_samples(),
           ops=(AC.smooth_l1_op, AC.sign), errors=lambda: [E(F((2,)), F((2,)), beta=-1.0)]),
    OpInfo("nn.functional.smooth_l1_loss(beta)", lambda lib, x, y, **kw: lib.nn.functional.smooth_l1_loss(
        x, y, beta=0.3, **kw), _pair_samples(), ops=(AC.smooth_l1_op,)),
    OpInfo("nn.functional.huber_loss", lambda lib, x, y, **kw: lib.nn.functional.huber_loss(x, y, delta=0.6, **kw),
           _pair_samples(), ops=(AC.huber_op,), errors=lambda: [E(F((2,)), F((2,)), delta=0.0)]),
    OpInfo("nn.functional.soft_margin_loss", _F("soft_margin_loss"), _pair_samples(target_grad=False),
           ops=(AC.soft_margin_op,)),
    OpInfo("nn.functional.binary_cross_entropy", _F("binary_cross_entropy"),
           _pair_samples(0.05, 0.95, 0.0, 1.0), ops=(AC.bce_op,),
           errors=lambda: [E(F((2,), f64, 0.1, 0.9), F((1, 2), f64, 0.1, 0.9)), E(F((2,), f64, 1.1, 2.0), F((2,))),
                           E(F((2,), f32, 0.1, 0.9), F((2,), f64, 0.1, 0.9))]),
    OpInfo("nn.functional.binary_cross_entropy_with_logits", _F("binary_cross_entropy_with_logits"),
           _pair_samples(-4.0, 4.0, 0.0, 1.0), ops=(AC.bce_logits_op,),
           errors=lambda: [E(F((2,)), F((1, 2)))]))


def _bce_weighted(d, r):
    for red in ("mean", "sum", "none"):
        yield Sample((A((3, 4), d, r, 0.05, 0.95), A((3, 4), d, r, 0.0, 1.0), A((4,), d, r, 0.5, 2.0, ))
                     , dict(reduction=red), desc=f"weight {red}")


def _bcel_weighted(d, r):
    for red in ("mean", "sum", "none"):
        w, pw = A((3, 4), d, r, 0.5, 2.0), A((4,), d, r, 0.5, 3.0)
        w.requires_grad = pw.requires_grad = False
        yield Sample((A((3, 4), d, r, -5.0, 5.0), A((3, 4), d, r, 0.0, 1.0), w, pw), dict(reduction=red),
                     desc=f"weight, pos_weight {red}")
    yield Sample((Arg(np.array([-200.0, -30.0, 0.0, 30.0, 200.0], d)), Arg(np.array([0.0, 1.0, 0.5, 0.0, 1.0], d)),
                  None, None), desc="large logits", gradcheck=False)


def _no_grad_arg(a):
    a.requires_grad = False
    return a


def _bce_w_samples(d, r):
    for s in _bce_weighted(d, r):
        s.args = (s.args[0], s.args[1], _no_grad_arg(s.args[2]))
        yield s


add(OpInfo("nn.functional.binary_cross_entropy(weight)", _F("binary_cross_entropy"), _bce_w_samples, ops=(AC.bce_op,)),
    OpInfo("nn.functional.binary_cross_entropy_with_logits(weights)",
           lambda lib, x, y, w, pw, **kw: lib.nn.functional.binary_cross_entropy_with_logits(x, y, w, pos_weight=pw,
                                                                                             **kw),
           _bcel_weighted, ops=(AC.bce_logits_op,)))


# ---- nll_loss (and cross_entropy, which ends in it)
def _nll_samples(d, r):
    w = lambda: _no_grad_arg(A((4,), d, r, 0.5, 2.0))  # noqa: E731
    for red in ("mean", "sum", "none"):
        yield Sample((A((5, 4), d, r), ints([0, 3, 1, 2, 3]), None), dict(reduction=red), desc=red)
        yield Sample((A((5, 4), d, r), ints([0, -100, 1, 2, -100]), w()), dict(reduction=red),
                     desc=f"weight, ignored {red}")
        yield Sample((A((2, 4, 3, 2), d, r), ints(r.integers(0, 4, (2, 3, 2))), None), dict(reduction=red),
                     desc=f"4-d {red}")
        yield Sample((A((2, 4, 3), d, r), ints([[0, 1, -100], [3, 3, 2]]), w()), dict(reduction=red),
                     desc=f"3-d {red}")
    yield Sample((A((2, 4, 2, 2, 2), d, r), ints(r.integers(0, 4, (2, 2, 2, 2))), None), desc="5-d")
    yield Sample((A((4,), d, r), ints(2), None), desc="1-d input, 0-d target")
    yield Sample((A((5, 4), d, r), ints([0, 3, 1, 2, 3]), None), dict(ignore_index=3), desc="ignore_index 3")
    yield Sample((A((3, 4), d, r), ints([-100, -100, -100]), None), desc="all ignored", gradcheck=False)
    yield Sample((A((0, 4), d, r), ints(np.zeros(0, np.int64)), None), dict(reduction="sum"), desc="empty")
    yield Sample((A((3, 4), d, r, layout="T"), ints([1, 0, 3], np.uint8), None), desc="uint8 target, transposed")


def _nll_errors():
    return [E(F((3, 4)), ints([0, 4, 1])), E(F((3, 4)), ints([0, -1, 1])), E(F((3, 4)), ints([0, 1])),
            E(F((3, 4)), Arg(np.array([0.0, 1.0, 1.0]), requires_grad=False)),
            E(F((3, 4)), ints([0, 1, 1], np.int32)), E(F((3, 4)), ints([0, 1, 1]), reduction="foo"),
            E(F((3, 4)), ints([0, 1, 1]), F((3,))), E(F((4,)), ints([1, 2])), E(F(()), ints(1)),
            E(F((3, 4)), ints([[0, 1, 1]])), E(F((2, 3, 4)), ints(np.zeros((2, 5), np.int64))),
            E(F((2, 3, 4, 5)), ints(np.zeros((2, 4), np.int64))),
            E(F((2, 3, 4, 5)), ints(np.zeros((2, 4, 6), np.int64))),
            E(F((3, 4)), ints([0, 1, 1]), F((4,), f32)), E(ints([[1, 2]]), ints([1]))]


def _ce_samples(d, r):
    yield from _nll_samples(d, r)
    w = lambda: _no_grad_arg(A((4,), d, r, 0.5, 2.0))  # noqa: E731
    for red in ("mean", "sum", "none"):
        yield Sample((A((5, 4), d, r), ints([0, -100, 1, 2, 3]), w()), dict(reduction=red, label_smoothing=0.2),
                     desc=f"label smoothing, weight {red}")
        yield Sample((A((2, 4, 3), d, r), ints([[0, 1, -100], [3, 3, 2]]), None),
                     dict(reduction=red, label_smoothing=0.3), desc=f"3-d label smoothing {red}")


def _ce_prob_samples(d, r):
    w = lambda: _no_grad_arg(A((4,), d, r, 0.5, 2.0))  # noqa: E731
    p = lambda *s: A(s, d, r, 0.0, 1.0)  # noqa: E731
    for red in ("mean", "sum", "none"):
        yield Sample((A((5, 4), d, r), p(5, 4), None), dict(reduction=red), desc=f"probabilities {red}")
        yield Sample((A((2, 4, 3), d, r), p(2, 4, 3), w()), dict(reduction=red, label_smoothing=0.1),
                     desc=f"3-d, weight, smoothing {red}")
    yield Sample((A((4,), d, r), p(4), None), desc="1-d")


_CE_PROB_GRAD_FN = "torch divides by a Python number (DivBackward1); ndgrad's node is DivBackward0"
_nll_fn = _F("nll_loss")
add(OpInfo("nn.functional.nll_loss", _nll_fn, _nll_samples, ops=(AC.nll_op, AC.nll2d_op, AC.nll_backward_op),
           errors=_nll_errors),
    OpInfo("nn.functional.cross_entropy", _F("cross_entropy"), _ce_samples,
           ops=(AC.nll_op, AC.nll2d_op, AC.log_softmax_op, AC.nll_backward_op),
           errors=lambda: _nll_errors()[:-1] + [E(F((3, 4)), ints([0, 1, 2]), label_smoothing=1.5),
                                                 E(F(()), ints(1)), E(F((3, 4)), F((3, 4)), ignore_index=1),
                                                 E(F((3, 4)), F((3, 5)))]),
    OpInfo("nn.functional.cross_entropy(probabilities)", _F("cross_entropy"), _ce_prob_samples,
           ops=(AC.log_softmax_op,), xfail={"grad_fn": _CE_PROB_GRAD_FN}))


# ---- in-place forms (their nodes carry torch's in-place names: EluBackward1, ...)
def _inplace_fn(name, *args):
    return lambda lib, x: getattr(lib.nn.functional, name)(x.clone(), *args, inplace=True)


add(OpInfo("nn.functional.elu(inplace)", _inplace_fn("elu", 0.8), _act_samples(away=(0,)), ops=(AC.elu_inplace_op,)),
    OpInfo("nn.functional.selu(inplace)", _inplace_fn("selu"), _act_samples(away=(0,)), ops=(AC.elu_inplace_op,)),
    OpInfo("nn.functional.celu(inplace)", _inplace_fn("celu", 0.7), _act_samples(away=(0,)),
           ops=(AC.celu_inplace_op,)),
    OpInfo("nn.functional.leaky_relu(inplace)", _inplace_fn("leaky_relu", 0.3), _act_samples(away=(0,)),
           ops=(AC.leaky_relu_inplace_op,)),
    OpInfo("nn.functional.threshold(inplace)", _inplace_fn("threshold", 0.2, 5.0), _act_samples(away=(0.2,)),
           ops=(AC.threshold_inplace_op,)))


# ---- margin losses (their clamp is torch's ClampMinBackward0)
def _margin_samples(d, r):
    for red in ("mean", "sum", "none"):
        a, b = A((3, 4), d, r, 0.0, 1.0), A((3, 4), d, r, 0.0, 1.0)
        a.array = np.where(np.abs(a.array - b.array + 0.05) < 0.02, a.array + 0.1, a.array).astype(d)
        yield Sample((a, b, _no_grad_arg(Arg(np.sign(r.uniform(-1, 1, (3, 4))).astype(d)))), dict(reduction=red),
                     desc=red)


def _cos_emb_samples(d, r):
    for red in ("mean", "sum", "none"):
        yield Sample((A((3, 4), d, r), A((3, 4), d, r), ints([1, -1, -1])), dict(reduction=red), desc=red)
    yield Sample((A((4,), d, r), A((4,), d, r), ints(-1)), desc="1-d")


add(OpInfo("nn.functional.margin_ranking_loss",
           lambda lib, a, b, t, **kw: lib.nn.functional.margin_ranking_loss(a, b, t, margin=0.05, **kw),
           _margin_samples, ops=(AC.clamp_min_op,)),
    OpInfo("nn.functional.cosine_embedding_loss",
           lambda lib, a, b, t, **kw: lib.nn.functional.cosine_embedding_loss(a, b, t, margin=-0.9, **kw),
           _cos_emb_samples, ops=(AC.clamp_min_op,)))


# ---- top-level in-place forms and distances
def _top_inplace(name, *args):
    return lambda lib, x: getattr(lib, name)(x.clone(), *args)


add(OpInfo("relu_", _top_inplace("relu_"), _act_samples(away=(0,)), dtypes=FLOATS),
    OpInfo("selu_", _top_inplace("selu_"), _act_samples(away=(0,)), ops=(AC.elu_inplace_op,)),
    OpInfo("celu_", _top_inplace("celu_", 0.8), _act_samples(away=(0,)), ops=(AC.celu_inplace_op,)),
    OpInfo("threshold_", _top_inplace("threshold_", 0.2, 5.0), _act_samples(away=(0.2,)),
           ops=(AC.threshold_inplace_op,)))


def _pair_dist_samples(d, r):
    yield Sample((A((3, 4), d, r), A((3, 4), d, r)), desc="same shape")
    yield Sample((A((3, 4), d, r), A((1, 4), d, r)), desc="broadcast")
    yield Sample((A((5,), d, r), A((5,), d, r)), desc="1-d")
    yield Sample((A((2, 3, 4), d, r, layout="T"), A((4,), d, r)), dict(keepdim=True), desc="3-d transposed, keepdim")


def _cos_samples(d, r):
    yield Sample((A((3, 4), d, r), A((3, 4), d, r)), desc="same shape")
    yield Sample((A((3, 4), d, r), A((1, 4), d, r), 0), desc="broadcast, dim 0")
    yield Sample((A((2, 3, 4), d, r), A((2, 3, 4), d, r), -1, 0.5), desc="3-d, eps")
    yield Sample((Arg(np.zeros((2, 3), d)), A((2, 3), d, r)), desc="zero vector", gradcheck=False)


_PD_GRAD_FN = "torch records NormBackward1 (at::norm); ndgrad's norm records LinalgVectorNormBackward0"
add(OpInfo("pairwise_distance", _m("pairwise_distance"), _pair_dist_samples, xfail={"grad_fn": _PD_GRAD_FN},
           errors=lambda: [E(F((2,)), F((3,)))]),
    OpInfo("nn.functional.pairwise_distance", _F("pairwise_distance"), _pair_dist_samples,
           xfail={"grad_fn": _PD_GRAD_FN}),
    OpInfo("cosine_similarity", _m("cosine_similarity"), _cos_samples,
           errors=lambda: [E(F((2,)), F((3,))), E(ints([1, 2]), ints([2, 3]), 0)]),
    OpInfo("nn.functional.cosine_similarity", _F("cosine_similarity"), _cos_samples))
