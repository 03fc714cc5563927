"""Losses: ndgrad.nn.functional forms and the nn loss modules, compared with torch on identical inputs
(values, gradients of inputs and targets, grad_fn names, every reduction, errors and warnings, reprs)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from torchcmp import fn_name, outcome

import ndgrad
import ndgrad.nn as nn

RNG = np.random.default_rng(7)
X = RNG.standard_normal((5, 4))
T = np.array([0, 3, 1, 2, 3])
T_IGN = np.array([0, -100, 1, 2, -100])
W = RNG.uniform(0.5, 2.0, 4)
P = RNG.dirichlet(np.ones(4), 5)
X3, T3 = RNG.standard_normal((2, 4, 3)), np.array([[0, 1, -100], [3, 3, 2]])
X4, T4 = RNG.standard_normal((2, 4, 3, 2)), RNG.integers(0, 4, (2, 3, 2))
X5, T5 = RNG.standard_normal((2, 4, 2, 2, 2)), RNG.integers(0, 4, (2, 2, 2, 2))
U = RNG.uniform(0.05, 0.95, (3, 4))
V = RNG.uniform(0.0, 1.0, (3, 4))
UW = RNG.uniform(0.5, 1.5, (3, 4))
REDS = ("mean", "sum", "none")


class C:
    """A constant argument (a tensor that does not require grad)."""

    def __init__(self, a):
        self.a = np.asarray(a)


def _build(lib, args):
    out = []
    for a in args:
        if isinstance(a, C):
            out.append(lib.from_numpy(a.a.copy()))
        elif isinstance(a, np.ndarray):
            out.append(lib.from_numpy(a.copy()).requires_grad_())
        else:
            out.append(a)
    return out


def _run(lib, f, args):
    ts = _build(lib, args)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        y = f(lib, *ts)
    gw = lib.from_numpy(np.linspace(0.5, 1.5, max(y.numel(), 1))[: y.numel()].reshape(tuple(y.shape)))
    (y * gw.to(y.dtype)).sum().backward()
    grads = [t.grad.numpy() for t in ts if isinstance(t, lib.Tensor) and t.requires_grad]
    return y.detach().numpy(), grads, fn_name(y.grad_fn), [str(m.message) for m in w]


def _compare(torch, f, args, grad_fn=True):
    y, g, fn, w = _run(ndgrad, f, args)
    ty, tg, tfn, tw = _run(torch, f, args)
    assert y.shape == ty.shape and y.dtype == ty.dtype
    np.testing.assert_allclose(y, ty, rtol=1e-7, atol=1e-10, equal_nan=True)
    assert len(g) == len(tg)
    for a, b in zip(g, tg):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-10, equal_nan=True)
    if grad_fn:
        assert fn == tfn
    assert w == tw


def _F(name, **kw):
    return lambda lib, *a: getattr(lib.nn.functional, name)(*a, **kw)


CE_CASES = []
for _r in REDS:
    CE_CASES += [
        (f"indices {_r}", _F("cross_entropy", reduction=_r), (X, C(T))),
        (f"weight, ignored {_r}", _F("cross_entropy", reduction=_r), (X, C(T_IGN), C(W))),
        (f"ignore_index=3 {_r}", _F("cross_entropy", reduction=_r, ignore_index=3), (X, C(T))),
        (f"label smoothing {_r}", _F("cross_entropy", reduction=_r, label_smoothing=0.2), (X, C(T))),
        (f"label smoothing, weight, ignored {_r}", _F("cross_entropy", reduction=_r, label_smoothing=0.3),
         (X, C(T_IGN), C(W))),
        (f"3-d, weight {_r}", _F("cross_entropy", reduction=_r), (X3, C(T3), C(W))),
        (f"3-d label smoothing, weight {_r}", _F("cross_entropy", reduction=_r, label_smoothing=0.25),
         (X3, C(T3), C(W))),
        (f"4-d {_r}", _F("cross_entropy", reduction=_r), (X4, C(T4))),
        (f"5-d {_r}", _F("nll_loss", reduction=_r), (X5, C(T5))),
        (f"1-d {_r}", _F("cross_entropy", reduction=_r), (X[0], C(np.array(2)))),
        (f"nll weight {_r}", _F("nll_loss", reduction=_r), (X, C(T_IGN), C(W))),
        (f"nll uint8 {_r}", _F("nll_loss", reduction=_r), (X, C(T.astype(np.uint8)))),
        (f"probabilities {_r}", _F("cross_entropy", reduction=_r), (X, P)),
        (f"probabilities, weight, smoothing {_r}", _F("cross_entropy", reduction=_r, label_smoothing=0.1),
         (X, P, C(W))),
        (f"3-d probabilities {_r}", _F("cross_entropy", reduction=_r), (X3, RNG.uniform(0, 1, (2, 4, 3)))),
    ]
CE_CASES += [
    ("all ignored", _F("cross_entropy"), (X, C(np.full(5, -100)))),
    ("all ignored, smoothing", _F("cross_entropy", label_smoothing=0.1), (X, C(np.full(5, -100)))),
    ("empty", _F("cross_entropy"), (np.zeros((0, 4)), C(np.zeros(0, np.int64)))),
    ("empty sum", _F("cross_entropy", reduction="sum"), (np.zeros((0, 4)), C(np.zeros(0, np.int64)))),
    ("float32", _F("cross_entropy"), (X.astype(np.float32), C(T))),
    ("probabilities float64 target", _F("cross_entropy"), (X.astype(np.float32), P)),
    ("legacy size_average=False", lambda lib, x, t: lib.nn.functional.cross_entropy(x, t, None, False), (X, C(T))),
]


@pytest.mark.parametrize("desc,f,args", CE_CASES, ids=[c[0] for c in CE_CASES])
def test_cross_entropy_and_nll_match_torch(torch, desc, f, args):
    # probability targets: torch divides by a Python number (DivBackward1), ndgrad records DivBackward0
    _compare(torch, f, args, grad_fn="probabilities" not in desc or "none" in desc or "sum" in desc)


PAIR_CASES = []
for _r in REDS:
    PAIR_CASES += [
        (f"mse {_r}", _F("mse_loss", reduction=_r), (U, V)),
        (f"mse broadcast {_r}", _F("mse_loss", reduction=_r), (U, V[0])),
        (f"mse weight {_r}", _F("mse_loss", reduction=_r, weight=None), (U, V)),
        (f"l1 {_r}", _F("l1_loss", reduction=_r), (U, V)),
        (f"smooth_l1 {_r}", _F("smooth_l1_loss", reduction=_r, beta=0.3), (U * 2, V)),
        (f"smooth_l1 beta=0 {_r}", _F("smooth_l1_loss", reduction=_r, beta=0.0), (U * 2, V)),
        (f"huber {_r}", _F("huber_loss", reduction=_r, delta=0.4), (U * 2, V)),
        (f"bce {_r}", _F("binary_cross_entropy", reduction=_r), (U, V)),
        (f"bce weight {_r}", _F("binary_cross_entropy", reduction=_r), (U, V, C(UW[0]))),
        (f"bce with logits {_r}", _F("binary_cross_entropy_with_logits", reduction=_r), (U * 10 - 5, V)),
        (f"bce with logits weights {_r}",
         lambda lib, x, y, w, pw, r=_r: lib.nn.functional.binary_cross_entropy_with_logits(x, y, w, reduction=r,
                                                                                            pos_weight=pw),
         (U * 10 - 5, V, C(UW), C(W))),
        (f"soft_margin {_r}", _F("soft_margin_loss", reduction=_r), (U * 4 - 2, C(np.sign(V - 0.5)))),
        (f"kl_div {_r}", _F("kl_div", reduction=_r), (np.log(U), V)),
        (f"kl_div log_target {_r}", _F("kl_div", reduction=_r, log_target=True), (np.log(U), np.log(V))),
        (f"kl_div zero targets {_r}", _F("kl_div", reduction=_r), (np.log(U), C(V * (V > 0.5)))),
        (f"poisson {_r}", _F("poisson_nll_loss", reduction=_r), (U, V * 3)),
        (f"poisson full {_r}", _F("poisson_nll_loss", reduction=_r, full=True), (U, C(V * 3))),
        (f"poisson no log {_r}", _F("poisson_nll_loss", reduction=_r, log_input=False), (U, V * 3)),
        (f"cosine_embedding {_r}", _F("cosine_embedding_loss", reduction=_r, margin=0.1),
         (U - 0.5, V - 0.5, C(np.array([1, -1, 1])))),
        (f"margin_ranking {_r}", _F("margin_ranking_loss", reduction=_r, margin=0.1),
         (U, V, C(np.sign(UW - 1)))),
    ]
PAIR_CASES += [
    ("mse weighted mean", lambda lib, x, y, w: lib.nn.functional.mse_loss(x, y, weight=w), (U, V, C(UW))),
    ("l1 weighted sum", lambda lib, x, y, w: lib.nn.functional.l1_loss(x, y, reduction="sum", weight=w),
     (U, V, C(UW))),
    ("huber weighted mean", lambda lib, x, y, w: lib.nn.functional.huber_loss(x, y, delta=0.3, weight=w),
     (U * 2, V, C(UW))),
    ("kl_div batchmean", _F("kl_div", reduction="batchmean"), (np.log(U), V)),
    ("bce at 0 and 1 (log clamped to -100)", _F("binary_cross_entropy"), (np.array([0.0, 1.0, 0.5, 1e-60]),
                                                                           C(np.array([1.0, 0.0, 0.5, 1.0])))),
    ("bce with logits, extreme logits", _F("binary_cross_entropy_with_logits"),
     (np.array([-500.0, -30.0, 0.0, 30.0, 500.0]), np.array([0.0, 1.0, 0.5, 0.0, 1.0]))),
    ("bce with logits, extreme, pos_weight",
     lambda lib, x, y, pw: lib.nn.functional.binary_cross_entropy_with_logits(x, y, pos_weight=pw),
     (np.array([-500.0, -30.0, 0.0, 30.0, 500.0]), np.array([0.0, 1.0, 0.5, 0.0, 1.0]), C(np.array([2.0])))),
    ("cosine_embedding 1-d", _F("cosine_embedding_loss", margin=-0.5), (U[0], V[0], C(np.array(-1)))),
    ("mse float32 with float64", _F("mse_loss"), (U.astype(np.float32), V)),
    ("mse legacy reduce=False", lambda lib, x, y: lib.nn.functional.mse_loss(x, y, reduce=False), (U, V)),
]


@pytest.mark.parametrize("desc,f,args", PAIR_CASES, ids=[c[0] for c in PAIR_CASES])
def test_losses_match_torch(torch, desc, f, args):
    _compare(torch, f, args)


GRADCHECK = [
    (_F("cross_entropy"), (X, C(T))),
    (_F("cross_entropy", reduction="none", label_smoothing=0.2), (X3, C(T3), C(W))),
    (_F("cross_entropy", label_smoothing=0.2), (X, P, C(W))),
    (_F("nll_loss"), (X4, C(T4), C(W))),
    (_F("nll_loss", reduction="sum"), (X, C(T_IGN), C(W))),
    (_F("mse_loss"), (U, V)),
    (_F("mse_loss", reduction="none"), (U, V[0])),
    (_F("l1_loss"), (U, V)),
    (_F("smooth_l1_loss", beta=0.3), (U * 2, V)),
    (_F("huber_loss", delta=0.4, reduction="sum"), (U * 2, V)),
    (_F("binary_cross_entropy"), (U, V)),
    (_F("binary_cross_entropy", reduction="none"), (U, V, C(UW))),
    (_F("binary_cross_entropy_with_logits"), (U * 6 - 3, V)),
    (lambda lib, x, y, w, pw: lib.nn.functional.binary_cross_entropy_with_logits(x, y, w, pos_weight=pw),
     (U * 6 - 3, V, C(UW), C(W))),
    (_F("soft_margin_loss"), (U * 4 - 2, C(np.sign(V - 0.5)))),
    (_F("kl_div", reduction="batchmean"), (np.log(U), V)),
    (_F("kl_div", log_target=True, reduction="sum"), (np.log(U), np.log(V))),
    (_F("poisson_nll_loss", full=True), (U, C(V * 3))),
    (_F("cosine_embedding_loss", margin=-0.9), (U - 0.5, V - 0.5, C(np.array([1, -1, 1])))),
    (_F("margin_ranking_loss", margin=0.05), (U, V, C(np.where(np.abs(U - V) > 0.06, np.sign(UW - 1), 0.0)))),
]


@pytest.mark.parametrize("f,args", GRADCHECK, ids=[str(i) for i in range(len(GRADCHECK))])
def test_gradcheck(f, args):
    ts = _build(ndgrad, args)
    idx = [i for i, t in enumerate(ts) if isinstance(t, ndgrad.Tensor) and t.requires_grad]

    def fn(*diff):
        full = list(ts)
        for i, d in zip(idx, diff):
            full[i] = d
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return f(ndgrad, *full)
    diff = [ts[i] for i in idx]
    assert ndgrad.autograd.gradcheck(fn, diff)
    assert ndgrad.autograd.gradgradcheck(fn, diff)


ERRORS = [
    lambda lib: lib.nn.functional.cross_entropy(lib.randn(3, 4), lib.tensor([0, 5, 1])),
    lambda lib: lib.nn.functional.cross_entropy(lib.randn(3, 4), lib.tensor([0, -1, 1])),
    lambda lib: lib.nn.functional.cross_entropy(lib.randn(3, 4), lib.tensor([0, 5, 1]), label_smoothing=0.1),
    lambda lib: lib.nn.functional.cross_entropy(lib.randn(3, 4), lib.tensor([0, 1])),
    lambda lib: lib.nn.functional.cross_entropy(lib.randn(3, 4), lib.tensor([0.0, 1.0, 1.0])),
    lambda lib: lib.nn.functional.cross_entropy(lib.randn(3, 4), lib.tensor([0, 1, 1], dtype=lib.int32)),
    lambda lib: lib.nn.functional.cross_entropy(lib.randn(3, 4), lib.tensor([0, 1, 1]), reduction="foo"),
    lambda lib: lib.nn.functional.cross_entropy(lib.randn(3, 4), lib.tensor([0, 1, 1]), lib.ones(3)),
    lambda lib: lib.nn.functional.cross_entropy(lib.randn(3, 4), lib.rand(3, 4), lib.ones(3)),
    lambda lib: lib.nn.functional.cross_entropy(lib.randn(3, 4), lib.tensor([0, 1, 1]),
                                                lib.ones(4, dtype=lib.float64)),
    lambda lib: lib.nn.functional.cross_entropy(lib.randn(3, 4), lib.tensor([0, 1, 2]), label_smoothing=1.5),
    lambda lib: lib.nn.functional.cross_entropy(lib.randn(3, 4), lib.rand(3, 4), label_smoothing=1.5),
    lambda lib: lib.nn.functional.cross_entropy(lib.randn(3, 4), lib.rand(3, 4), ignore_index=1),
    lambda lib: lib.nn.functional.cross_entropy(lib.randn(3, 4), lib.rand(3, 5)),
    lambda lib: lib.nn.functional.cross_entropy(lib.randn(()), lib.tensor(1)),
    lambda lib: lib.nn.functional.cross_entropy(lib.tensor([[1, 2]]), lib.tensor([1])),
    lambda lib: lib.nn.functional.nll_loss(lib.randn(3, 4), lib.tensor([0, 1, 1]),
                                           lib.ones(4, requires_grad=True)),
    lambda lib: lib.nn.functional.nll_loss(lib.randn(4), lib.tensor([1, 2])),
    lambda lib: lib.nn.functional.nll_loss(lib.randn(3, 4), lib.tensor([[0, 1, 1]])),
    lambda lib: lib.nn.functional.nll_loss(lib.randn(2, 3, 4), lib.zeros(2, 5, dtype=lib.int64)),
    lambda lib: lib.nn.functional.nll_loss(lib.randn(2, 3, 4, 5), lib.zeros(2, 4, dtype=lib.int64)),
    lambda lib: lib.nn.functional.nll_loss(lib.randn(2, 3, 4, 5), lib.zeros(2, 4, 6, dtype=lib.int64)),
    lambda lib: lib.nn.functional.nll_loss(lib.randn(2, 3, 4, 5), lib.full((2, 4, 5), 7, dtype=lib.int64)),
    lambda lib: lib.nn.functional.mse_loss(lib.ones(2, 3), lib.ones(2, 2)),
    lambda lib: lib.nn.functional.mse_loss(lib.ones(2, 3), lib.ones(2, 3), weight=lib.ones(3)),
    lambda lib: lib.nn.functional.mse_loss(lib.tensor([1, 2]), lib.tensor([1, 3])),
    lambda lib: lib.nn.functional.smooth_l1_loss(lib.ones(2), lib.ones(2), beta=-1.0),
    lambda lib: lib.nn.functional.huber_loss(lib.ones(2), lib.ones(2), delta=0.0),
    lambda lib: lib.nn.functional.binary_cross_entropy(lib.rand(3, 4), lib.rand(4)),
    lambda lib: lib.nn.functional.binary_cross_entropy(lib.rand(3) + 1, lib.rand(3)),
    lambda lib: lib.nn.functional.binary_cross_entropy(lib.rand(3), lib.rand(3, dtype=lib.float64)),
    lambda lib: lib.nn.functional.binary_cross_entropy_with_logits(lib.rand(3, 4), lib.rand(4)),
    lambda lib: lib.nn.functional.binary_cross_entropy_with_logits(lib.rand(3), lib.rand(3),
                                                                   lib.ones(3, requires_grad=True)),
    lambda lib: lib.nn.functional.soft_margin_loss(lib.rand(3), lib.rand(3, requires_grad=True)),
    lambda lib: lib.nn.functional.kl_div(lib.rand(3), lib.rand(3), reduction="foo"),
    lambda lib: lib.nn.functional.cosine_embedding_loss(lib.rand(3, 4), lib.rand(3, 4), lib.tensor(1)),
    lambda lib: lib.nn.functional.cosine_embedding_loss(lib.rand(4), lib.rand(4), lib.tensor([1])),
]


@pytest.mark.filterwarnings("ignore:Using a target size")
@pytest.mark.parametrize("f", ERRORS, ids=[str(i) for i in range(len(ERRORS))])
def test_errors_like_torch(torch, f):
    want = outcome(f, torch)
    assert want is not None
    assert outcome(f, ndgrad) == want


def test_kl_div_mean_warns_like_torch(torch):
    msgs = []
    for lib in (ndgrad, torch):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            lib.nn.functional.kl_div(lib.rand(2, 3).log(), lib.rand(2, 3))
        msgs.append([str(m.message) for m in w])
    assert msgs[0] == msgs[1] and len(msgs[0]) == 1


def test_no_grad_weight_is_allowed(torch):
    for lib in (ndgrad, torch):
        with lib.no_grad():
            lib.nn.functional.nll_loss(lib.randn(3, 4), lib.tensor([0, 1, 1]), lib.ones(4, requires_grad=True))


def test_cross_entropy_double_backward(torch):
    res = []
    for lib in (ndgrad, torch):
        x = lib.from_numpy(X.copy()).requires_grad_()
        loss = lib.nn.functional.cross_entropy(x, lib.from_numpy(T_IGN.copy()), lib.from_numpy(W.copy()))
        (g,) = lib.autograd.grad(loss, x, create_graph=True)
        (gg,) = lib.autograd.grad((g * g).sum(), x)
        res.append((g.detach().numpy(), gg.numpy()))
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-6, atol=1e-12)


# -- modules ---------------------------------------------------------------------------------------------------------
MODULES = [
    ("MSELoss", {}, (U, V)), ("MSELoss", {"reduction": "sum"}, (U, V)), ("L1Loss", {}, (U, V)),
    ("SmoothL1Loss", {"beta": 0.5}, (U * 2, V)), ("HuberLoss", {"delta": 0.3}, (U * 2, V)),
    ("CrossEntropyLoss", {}, (X, C(T))), ("CrossEntropyLoss", {"label_smoothing": 0.1, "ignore_index": 3}, (X, C(T))),
    ("NLLLoss", {"reduction": "none"}, (X, C(T))), ("BCELoss", {}, (U, V)), ("BCEWithLogitsLoss", {}, (U, V)),
    ("KLDivLoss", {"reduction": "batchmean"}, (np.log(U), V)), ("KLDivLoss", {"log_target": True},
                                                                (np.log(U), np.log(V))),
    ("CosineEmbeddingLoss", {"margin": 0.2}, (U, V, C(np.array([1, -1, -1])))),
    ("MarginRankingLoss", {"margin": 0.1}, (U, V, C(np.sign(UW - 1)))),
    ("SoftMarginLoss", {}, (U, C(np.sign(V - 0.5)))), ("PoissonNLLLoss", {"full": True}, (U, V)),
]


@pytest.mark.parametrize("name,kw,args", MODULES, ids=[f"{m[0]}{m[1]}" for m in MODULES])
def test_modules_match_torch(torch, name, kw, args):
    m, tm = getattr(nn, name)(**kw), getattr(torch.nn, name)(**kw)
    assert repr(m) == repr(tm) == f"{name}()"
    assert vars(m).get("reduction") == vars(tm).get("reduction")
    _compare(torch, lambda lib, *a: (m if lib is ndgrad else tm)(*a), args,
             grad_fn=name not in ("KLDivLoss",) or kw.get("reduction") != "batchmean")


def test_weight_buffers_like_torch(torch):
    w = np.array([1.0, 2.0, 3.0, 0.5])
    for name, kw in (("CrossEntropyLoss", {}), ("NLLLoss", {}), ("BCELoss", {}),
                     ("BCEWithLogitsLoss", {"pos_weight": True})):
        mods = []
        for lib in (ndgrad, torch):
            extra = {"pos_weight": lib.from_numpy(w.copy())} if kw else {}
            mods.append(getattr(lib.nn, name)(weight=lib.from_numpy(w.copy()), **extra))
        sd, tsd = mods[0].state_dict(), mods[1].state_dict()
        assert list(sd) == list(tsd)
        for k in sd:
            np.testing.assert_array_equal(sd[k].numpy(), tsd[k].numpy())
        assert [n for n, _ in mods[0].named_buffers()] == [n for n, _ in mods[1].named_buffers()]
        assert list(mods[0].parameters()) == []
        assert repr(mods[0]) == repr(mods[1])
    assert list(nn.CrossEntropyLoss().state_dict()) == list(torch.nn.CrossEntropyLoss().state_dict()) == []
    out = nn.CrossEntropyLoss(weight=ndgrad.from_numpy(w.copy()))(ndgrad.from_numpy(X.copy()),
                                                                   ndgrad.from_numpy(T.copy()))
    tout = torch.nn.CrossEntropyLoss(weight=torch.from_numpy(w.copy()))(torch.from_numpy(X.copy()),
                                                                         torch.from_numpy(T.copy()))
    assert out.item() == pytest.approx(tout.item(), rel=1e-12)


def test_legacy_reduction_args_warn_like_torch(torch):
    res = []
    for lib in (ndgrad, torch):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            m = lib.nn.MSELoss(size_average=False)
        res.append((m.reduction, [str(x.message) for x in w]))
    assert res[0] == res[1]
    assert nn.MSELoss(reduction="foo").reduction == "foo"
    f = lambda lib: lib.nn.MSELoss(reduction="foo")(lib.ones(2), lib.ones(2))  # noqa: E731
    assert outcome(f, ndgrad) == outcome(f, torch) is not None


def test_mlp_training_matches_torch(torch):
    """A small ReLU MLP trained with cross_entropy: losses and weights agree with torch step by step."""
    rng = np.random.default_rng(3)
    ws = [rng.standard_normal((6, 8)) * 0.3, rng.standard_normal((3, 6)) * 0.3]
    x, t = rng.standard_normal((16, 8)), rng.integers(0, 3, 16)
    hist = []
    for lib in (ndgrad, torch):
        params = [lib.from_numpy(w.copy()).requires_grad_() for w in ws]
        xs, ts = lib.from_numpy(x.copy()), lib.from_numpy(t.copy())
        losses = []
        for _ in range(5):
            h = lib.nn.functional.relu(xs @ params[0].t())
            loss = lib.nn.functional.cross_entropy(h @ params[1].t(), ts, label_smoothing=0.05)
            for p in params:
                p.grad = None
            loss.backward()
            with lib.no_grad():
                for p in params:
                    p -= 0.5 * p.grad
            losses.append(loss.item())
        hist.append((losses, [p.detach().numpy() for p in params]))
    np.testing.assert_allclose(hist[0][0], hist[1][0], rtol=1e-10)
    for a, b in zip(hist[0][1], hist[1][1]):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    assert hist[0][0][-1] < hist[0][0][0]
