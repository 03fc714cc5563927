"""Activations: ndgrad.nn.functional forms, the top-level softmax/log_softmax/selu/..., and the nn modules,
each compared with torch on identical inputs (values, gradients, grad_fn names, errors, reprs)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from torchcmp import fn_name, outcome

import ndgrad
import ndgrad.nn as nn
import ndgrad.nn.functional as F

RNG = np.random.default_rng(1234)
X = RNG.uniform(-4, 4, (4, 5))
X = np.where(np.abs(X) < 0.1, 0.5, X)  # away from the kinks at 0
GRAD_W = RNG.uniform(0.5, 1.5, (4, 5))

# name, positional args, keyword args (the input comes first)
CASES = [
    ("relu", (), {}), ("relu6", (), {}), ("leaky_relu", (0.2,), {}), ("elu", (0.7,), {}), ("selu", (), {}),
    ("celu", (0.6,), {}), ("gelu", (), {}), ("gelu", (), {"approximate": "tanh"}), ("silu", (), {}),
    ("mish", (), {}), ("sigmoid", (), {}), ("tanh", (), {}), ("hardtanh", (-0.5, 1.5), {}),
    ("hardsigmoid", (), {}), ("hardswish", (), {}), ("threshold", (0.3, -2.0), {}), ("softmax", (1,), {}),
    ("log_softmax", (0,), {}), ("softmin", (1,), {}), ("softmax", (1,), {"dtype": "float32"}),
    ("softsign", (), {}), ("tanhshrink", (), {}), ("logsigmoid", (), {}), ("glu", (), {"dim": 0}),
    ("hardshrink", (0.7,), {}), ("softshrink", (0.4,), {}), ("softplus", (2.0, 5.0), {}),
    ("normalize", (), {}), ("normalize", (1.0, 0), {}),
]


def _kw(lib, kw):
    return {k: getattr(lib, v) if k == "dtype" else v for k, v in kw.items()}


def _run(lib, name, args, kw, x=X, inplace=False):
    t = lib.from_numpy(x.copy()).requires_grad_()
    inp = t.clone() if inplace else t
    y = getattr(lib.nn.functional, name)(inp, *args, **_kw(lib, kw), **({"inplace": True} if inplace else {}))
    w = lib.from_numpy(np.ones(tuple(y.shape)) * GRAD_W.reshape(-1)[0] if y.shape != x.shape else GRAD_W.copy())
    (y * w.to(y.dtype)).sum().backward()
    return y.detach().numpy(), t.grad.numpy(), fn_name(y.grad_fn)


@pytest.mark.parametrize("name,args,kw", CASES, ids=[f"{c[0]}{c[1]}{c[2]}" for c in CASES])
def test_functional_matches_torch(torch, name, args, kw):
    y, g, fn = _run(ndgrad, name, args, kw)
    ty, tg, tfn = _run(torch, name, args, kw)
    rtol = 1e-7 if y.dtype == np.float64 else 1e-5
    np.testing.assert_allclose(y, ty, rtol=rtol, atol=1e-9)
    np.testing.assert_allclose(g, tg, rtol=rtol * 10, atol=1e-9)
    assert y.dtype == ty.dtype and fn == tfn


INPLACE = ["relu", "relu6", "leaky_relu", "elu", "selu", "celu", "silu", "mish", "hardtanh", "hardsigmoid",
           "hardswish", "threshold"]


@pytest.mark.parametrize("name", INPLACE)
def test_inplace_matches_torch(torch, name):
    args = (0.3, -2.0) if name == "threshold" else ()
    y, g, fn = _run(ndgrad, name, args, {}, inplace=True)
    ty, tg, tfn = _run(torch, name, args, {}, inplace=True)
    np.testing.assert_allclose(y, ty, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(g, tg, rtol=1e-6, atol=1e-9)
    assert fn == tfn


def test_inplace_writes_input_and_refuses_leaves(torch):
    for lib in (ndgrad, torch):
        x = lib.tensor([-1.0, 2.0])
        out = lib.nn.functional.relu(x, inplace=True)
        assert out is x and x.tolist() == [0.0, 2.0] and x._version == 1
    f = lambda lib: lib.nn.functional.elu(lib.tensor([1.0, -2.0], requires_grad=True), inplace=True)  # noqa: E731
    assert outcome(f, ndgrad) == outcome(f, torch) is not None


@pytest.mark.parametrize("name,args,kw", [c for c in CASES if c[0] not in ("softmax", "log_softmax", "softmin",
                                                                            "normalize") or c[1]],
                         ids=[f"{c[0]}{c[1]}{c[2]}" for c in CASES if c[0] not in ("softmax", "log_softmax",
                                                                                      "softmin", "normalize") or c[1]])
def test_gradcheck(name, args, kw):
    if kw.get("dtype"):
        kw = dict(kw, dtype="float64")
    x = ndgrad.from_numpy(X[:, :3].copy()).requires_grad_()
    f = lambda t: getattr(F, name)(t, *args, **_kw(ndgrad, kw))  # noqa: E731
    assert ndgrad.autograd.gradcheck(f, (x,))
    assert ndgrad.autograd.gradgradcheck(f, (x,))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_numerics_and_top_level(torch, name):
    big = np.array([[1000.0, 0.0, -1000.0], [-np.inf, 0.0, 1.0], [np.inf, 1.0, 0.0]])
    a = getattr(ndgrad, name)(ndgrad.from_numpy(big), 1).numpy()
    b = getattr(torch, name)(torch.from_numpy(big), 1).numpy()
    np.testing.assert_allclose(a, b, equal_nan=True)
    x = ndgrad.randn(2, 3, requires_grad=True)
    assert getattr(x, name)(-1).grad_fn.name() == ("SoftmaxBackward0" if name == "softmax" else "LogSoftmaxBackward0")
    # dtype casts first: an integer input works
    r = getattr(ndgrad, name)(ndgrad.tensor([1, 2, 3]), 0, dtype=ndgrad.float64)
    t = getattr(torch, name)(torch.tensor([1, 2, 3]), 0, dtype=torch.float64)
    assert str(r.dtype) == str(t.dtype)
    np.testing.assert_allclose(r.numpy(), t.numpy())
    for f in (lambda lib: getattr(lib, name)(lib.tensor([1, 2]), 0),
              lambda lib: getattr(lib, name)(lib.tensor([[1, 2]]), 0),
              lambda lib: getattr(lib, name)(lib.ones(2, 3), 2),
              lambda lib: getattr(lib, name)(lib.ones(2, 3), None),
              lambda lib: getattr(lib, name)(lib.ones(2), 0.5)):
        assert outcome(f, ndgrad) == outcome(f, torch) is not None


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 3, 4), (2, 2, 2, 2)])
def test_implicit_dim_warns_like_torch(torch, name, shape):
    x = RNG.standard_normal(shape)
    res = []
    for lib in (ndgrad, torch):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            y = getattr(lib.nn.functional, name)(lib.from_numpy(x.copy()))
        res.append((y.numpy(), [str(m.message) for m in w]))
    np.testing.assert_allclose(res[0][0], res[1][0])
    assert res[0][1] == res[1][1] and len(res[0][1]) == 1


def test_top_level_ops(torch):
    x = X[:3, :4]
    w = np.array([0.1, 0.2, 0.3])
    for f in (lambda lib, t: lib.selu(t), lambda lib, t: lib.celu(t, 0.5), lambda lib, t: lib.threshold(t, 0.2, 9.0),
              lambda lib, t: lib.hardshrink(t, 1.0), lambda lib, t: t.hardshrink(),
              lambda lib, t: lib.prelu(t, lib.from_numpy(np.array([0.3]))),
              lambda lib, t: lib.prelu(t.reshape(2, 3, 2), lib.from_numpy(w))):
        outs = []
        for lib in (ndgrad, torch):
            t = lib.from_numpy(x.copy()).requires_grad_()
            y = f(lib, t)
            y.sum().backward()
            outs.append((y.detach().numpy(), t.grad.numpy(), fn_name(y.grad_fn)))
        np.testing.assert_allclose(outs[0][0], outs[1][0], rtol=1e-7)
        np.testing.assert_allclose(outs[0][1], outs[1][1], rtol=1e-6, atol=1e-12)
        assert outs[0][2] == outs[1][2]


def test_prelu_weight_gradient(torch):
    x = X[:2, :3].reshape(2, 3, 1)
    w = np.array([0.1, 0.2, 0.3])
    grads = []
    for lib in (ndgrad, torch):
        t, wt = lib.from_numpy(x.copy()).requires_grad_(), lib.from_numpy(w.copy()).requires_grad_()
        (lib.prelu(t, wt) * lib.from_numpy(GRAD_W[:2, :3].reshape(2, 3, 1).copy())).sum().backward()
        grads.append((t.grad.numpy(), wt.grad.numpy()))
    np.testing.assert_allclose(grads[0][0], grads[1][0])
    np.testing.assert_allclose(grads[0][1], grads[1][1])
    xt = ndgrad.from_numpy(x.copy()).requires_grad_()
    wt = ndgrad.from_numpy(w.copy()).requires_grad_()
    assert ndgrad.autograd.gradcheck(ndgrad.prelu, (xt, wt))
    assert ndgrad.autograd.gradgradcheck(ndgrad.prelu, (xt, wt))


@pytest.mark.parametrize("f", [
    lambda lib: lib.nn.functional.elu(lib.tensor([1, 2])),
    lambda lib: lib.nn.functional.gelu(lib.tensor([1, 2])),
    lambda lib: lib.nn.functional.gelu(lib.ones(2), approximate="foo"),
    lambda lib: lib.nn.functional.gelu(lib.ones(2), "tanh"),
    lambda lib: lib.relu_(lib.ones(2, requires_grad=True)),
    lambda lib: lib.selu_(lib.ones(2, requires_grad=True)),
    lambda lib: lib.nn.functional.silu(lib.tensor([1, 2])),
    lambda lib: lib.nn.functional.leaky_relu(lib.tensor([1, 2])),
    lambda lib: lib.nn.functional.hardswish(lib.tensor([1, 2])),
    lambda lib: lib.nn.functional.logsigmoid(lib.tensor([1, 2])),
    lambda lib: lib.nn.functional.hardtanh(lib.ones(2), 2.0, 1.0),
    lambda lib: lib.nn.functional.glu(lib.ones(3)),
    lambda lib: lib.nn.functional.glu(lib.ones(())),
    lambda lib: lib.nn.functional.glu(lib.ones(4, 3), 2),
    lambda lib: lib.nn.functional.softshrink(lib.ones(2), -1.0),
    lambda lib: lib.nn.functional.softshrink(lib.ones(2, dtype=lib.float64), -1.5),
    lambda lib: lib.prelu(lib.ones(2, 3), lib.ones(2)),
    lambda lib: lib.prelu(lib.ones(2, 3), lib.ones(3, dtype=lib.float64)),
    lambda lib: lib.nn.functional.cosine_similarity(lib.ones(2), lib.ones(3)),
    lambda lib: lib.nn.functional.cosine_similarity(lib.tensor([1, 2]), lib.tensor([2, 3]), dim=0),
    lambda lib: lib.nn.functional.softmax([1.0], 0),
])
def test_errors_like_torch(torch, f):
    want = outcome(f, torch)
    assert want is not None
    assert outcome(f, ndgrad) == want


def test_int_inputs_that_work(torch):
    for f in (lambda lib: lib.nn.functional.relu6(lib.tensor([-1, 3, 9])),
              lambda lib: lib.nn.functional.hardtanh(lib.tensor([-3, 0, 3])),
              lambda lib: lib.nn.functional.threshold(lib.tensor([1, 2, 3]), 1, 0),
              lambda lib: lib.nn.functional.softsign(lib.tensor([1, 2])),
              lambda lib: lib.nn.functional.elu(lib.tensor([-1.0, 2.0], dtype=lib.float16))):
        a, b = f(ndgrad), f(torch)
        assert str(a.dtype) == str(b.dtype)
        np.testing.assert_allclose(a.numpy().astype(float), b.numpy().astype(float), rtol=1e-3)


def test_cosine_similarity_and_pairwise_distance(torch):
    x1, x2 = RNG.standard_normal((3, 4)), RNG.standard_normal((1, 4))
    for f in (lambda lib, a, b: lib.nn.functional.cosine_similarity(a, b),
              lambda lib, a, b: lib.nn.functional.cosine_similarity(a, b, dim=0, eps=0.5),
              lambda lib, a, b: lib.cosine_similarity(a, b, 1) if hasattr(lib, "cosine_similarity") and lib is torch
              else lib.nn.functional.cosine_similarity(a, b, 1),
              lambda lib, a, b: lib.nn.functional.pairwise_distance(a, b),
              lambda lib, a, b: lib.nn.functional.pairwise_distance(a, b, p=1.0, keepdim=True),
              lambda lib, a, b: lib.nn.functional.cosine_similarity(a * 0, b)):
        outs = []
        for lib in (ndgrad, torch):
            a, b = lib.from_numpy(x1.copy()).requires_grad_(), lib.from_numpy(x2.copy()).requires_grad_()
            y = f(lib, a, b)
            y.sum().backward()
            outs.append((y.detach().numpy(), a.grad.numpy(), b.grad.numpy()))
        for u, v in zip(*outs):
            np.testing.assert_allclose(u, v, rtol=1e-6, atol=1e-12)
    a = ndgrad.from_numpy(x1.copy()).requires_grad_()
    b = ndgrad.from_numpy(RNG.standard_normal((3, 4))).requires_grad_()
    assert ndgrad.autograd.gradcheck(lambda u, v: F.cosine_similarity(u, v), (a, b))
    assert ndgrad.autograd.gradcheck(lambda u, v: F.pairwise_distance(u, v), (a, b))


# -- modules ---------------------------------------------------------------------------------------------------------
MODULES = [
    ("ReLU", (), {}), ("ReLU", (True,), {}), ("LeakyReLU", (), {}), ("LeakyReLU", (0.2, True), {}),
    ("ELU", (), {"alpha": 0.5}), ("ELU", (), {"inplace": True}), ("SELU", (), {}), ("CELU", (0.5,), {}),
    ("GELU", (), {}), ("GELU", ("tanh",), {}), ("SiLU", (), {}), ("Mish", (True,), {}), ("Sigmoid", (), {}),
    ("Tanh", (), {}), ("Softmax", (), {"dim": 1}), ("Softmax", (), {}), ("LogSoftmax", (0,), {}),
    ("Softmin", (1,), {}), ("Softplus", (), {}), ("Softplus", (2, 10), {}), ("Hardtanh", (), {}),
    ("Hardtanh", (-2, 3, True), {}), ("ReLU6", (), {}), ("ReLU6", (True,), {}), ("Hardsigmoid", (), {}),
    ("Hardswish", (), {}), ("Threshold", (0.1, 20), {}), ("Softsign", (), {}), ("Tanhshrink", (), {}),
    ("LogSigmoid", (), {}), ("GLU", (), {}), ("Hardshrink", (), {}), ("Softshrink", (0.3,), {}),
    ("PReLU", (), {}), ("PReLU", (3, 0.1), {}), ("Softmax2d", (), {}),
]


@pytest.mark.parametrize("name,args,kw", MODULES, ids=[f"{m[0]}{m[1]}{m[2]}" for m in MODULES])
def test_module_repr_and_forward(torch, name, args, kw):
    m, tm = getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    assert repr(m) == repr(tm)
    x = RNG.standard_normal((2, 3, 4, 2))
    xs = x if name in ("Softmax2d",) else x.reshape(2, 3, 8) if name in ("PReLU",) else x.reshape(4, 12)
    outs = []
    for lib, mod in ((ndgrad, m), (torch, tm)):
        t = lib.from_numpy(xs.copy()).requires_grad_()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y = mod(t.to(lib.float32).clone() if getattr(mod, "inplace", False) else t.to(lib.float32))
        y.sum().backward()
        outs.append((y.detach().numpy(), t.grad.numpy(), fn_name(y.grad_fn)))
    np.testing.assert_allclose(outs[0][0], outs[1][0], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(outs[0][1], outs[1][1], rtol=1e-4, atol=1e-6)
    assert outs[0][2] == outs[1][2]


def test_prelu_module_parameters(torch):
    m, tm = nn.PReLU(3, 0.1), torch.nn.PReLU(3, 0.1)
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in tm.named_parameters()] == ["weight"]
    assert m.weight.tolist() == pytest.approx(tm.weight.tolist())
    assert list(m.state_dict()) == list(tm.state_dict())


def test_softmax2d_error(torch):
    f = lambda lib: lib.nn.Softmax2d()(lib.ones(2, 3))  # noqa: E731
    assert outcome(f, ndgrad) == outcome(f, torch) is not None


@pytest.mark.parametrize("name,args", [("relu_", ()), ("selu_", ()), ("celu_", (0.7,)), ("threshold_", (0.2, 4.0))])
def test_top_level_inplace(torch, name, args):
    outs = []
    for lib in (ndgrad, torch):
        leaf = lib.from_numpy(X.copy()).requires_grad_()
        x = leaf * 1.0
        y = getattr(lib, name)(x, *args)
        assert y is x and x._version == 1
        (y * lib.from_numpy(GRAD_W.copy())).sum().backward()
        outs.append((y.detach().numpy(), leaf.grad.numpy(), fn_name(y.grad_fn)))
    np.testing.assert_allclose(outs[0][0], outs[1][0], rtol=1e-7)
    np.testing.assert_allclose(outs[0][1], outs[1][1], rtol=1e-6)
    assert outs[0][2] == outs[1][2]


def test_gelu_backward_takes_the_forwards_erf(monkeypatch):
    """The float32 GELU backward uses the erf its forward computed: erf runs once per forward and backward, and the
    gradients are the bits of computing it again (with retain_graph, a second backward computes it again)."""
    from ndgrad._ops import activation as A
    from ndgrad._ops import special as SP
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((4, 33, 17)) * 2).astype(np.float32)
    x.flat[:4] = [0.0, -0.0, 0.75, -9.0]
    g = rng.standard_normal(x.shape).astype(np.float32)
    calls = []
    inner = SP._erf_low_precision
    monkeypatch.setattr(SP, "_erf_low_precision", lambda a: calls.append(a.shape) or inner(a))

    def grads():
        t = ndgrad.tensor(x, requires_grad=True)
        y = F.gelu(t)
        y.backward(ndgrad.tensor(g), retain_graph=True)
        first = t.grad.numpy().copy()
        t.grad = None
        y.backward(ndgrad.tensor(g))
        return first, t.grad.numpy().copy()

    with_keep = grads()
    assert len(calls) == 2  # the forward's, none for the first backward, one for the second
    assert not A._GELU_ERF.table
    monkeypatch.setattr(A._GELU_ERF, "keep", lambda x, key, e: None)
    calls.clear()
    without = grads()
    assert len(calls) == 3  # (computed again by each backward)
    for a, b in zip(with_keep, without):
        assert np.array_equal(a, b)


def test_gelu_kept_erf_goes_with_its_graph():
    from ndgrad._ops import activation as A
    A._GELU_ERF.table.clear()
    t = ndgrad.tensor(np.random.default_rng(1).standard_normal((5, 7)).astype(np.float32), requires_grad=True)
    y = F.gelu(t * 2)
    assert len(A._GELU_ERF.table) == 1
    del y  # the graph (and the input array it saved) freed without a backward
    assert not A._GELU_ERF.table
    with ndgrad.no_grad():
        F.gelu(t)
    F.gelu(t.double())  # float64: computed exactly, nothing kept
    assert not A._GELU_ERF.table
    u = t * 2
    y = F.gelu(u)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        u.add_(1.0)
        y.sum().backward()


def test_gelu_kept_erf_is_not_used_while_tracing(monkeypatch):
    """compile's and vmap's tracers must see erf computed (an array from outside the trace would be replayed as a
    constant): no entry is kept or taken while one traces."""
    from ndgrad._ops import _kept, activation as A
    rng = np.random.default_rng(0)
    x = ndgrad.tensor(rng.standard_normal((4, 8)).astype(np.float32), requires_grad=True)
    keep = F.gelu(x)  # an eager forward keeps erf for x's array
    assert A._GELU_ERF.take(x._data, None, pop=True) is not None
    keep = F.gelu(x)
    monkeypatch.setattr(_kept, "tracing", lambda: True)
    assert A._GELU_ERF.take(x._data, None, pop=True) is None
    A._GELU_ERF.table.clear()
    F.gelu(x)
    assert not A._GELU_ERF.table
    monkeypatch.undo()
    cf = ndgrad.compile(lambda t: F.gelu(t).sum())  # with an eager entry for x alive, traced and replayed
    keep = F.gelu(x)
    cf(x).backward()
    x2 = ndgrad.tensor(rng.standard_normal((4, 8)).astype(np.float32), requires_grad=True)
    cf(x2).backward()
    ref = ndgrad.tensor(x2.detach().numpy(), requires_grad=True)
    F.gelu(ref).sum().backward()
    assert np.array_equal(x2.grad.numpy(), ref.grad.numpy()) and keep is not None


def test_kernels_neither_warn_nor_raise_on_overflow_and_leave_numpy_error_state_as_it_was():
    # torch never warns or raises on inf/nan; ndgrad's kernels run such NumPy calls inside _quiet.quiet()
    import warnings
    from ndgrad._quiet import quiet
    old = np.seterr(all="raise")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            x = ndgrad.tensor([-1000.0, 0.0, 1000.0], requires_grad=True)
            y = ndgrad.sigmoid(x)
            assert y.tolist() == [0.0, 0.5, 1.0]
            y.sum().backward()
            assert x.grad.tolist() == [0.0, 0.25, 0.0]
            assert ndgrad.sigmoid(ndgrad.tensor(-1000.0)).item() == 0.0  # one element: the fresh-array path
            assert ndgrad.softmax(ndgrad.tensor([1e30, -np.inf]), 0).tolist() == [1.0, 0.0]
        assert np.geterr()["over"] == "raise"
        with quiet():
            with quiet():  # nested uses restore in turn
                assert np.geterr() == {"divide": "ignore", "over": "ignore", "under": "ignore", "invalid": "ignore"}
            assert np.geterr()["over"] == "ignore"
        assert np.geterr()["over"] == "raise"
        with pytest.raises(FloatingPointError):
            np.exp(np.float32(1000.0))
    finally:
        np.seterr(**old)
