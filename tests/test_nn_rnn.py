"""RNN, LSTM, GRU, their cells and MultiheadAttention compared with PyTorch from identical weights: outputs,
final states, attention weights, input and parameter gradients, parameter names, reprs and errors."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import ndgrad
from ndgrad.nn.modules._rnn_fused import _RNNScan
from torchcmp import raises_like_torch

RNG = np.random.default_rng(99)


def _pair(torch, cls, *args, **kw):
    """The same module in torch and ndgrad (float64), ndgrad's parameters copied from torch's."""
    tm = getattr(torch.nn, cls)(*args, dtype=torch.float64, **kw)
    nm = getattr(ndgrad.nn, cls)(*args, dtype=ndgrad.float64, **kw)
    tp, np_ = dict(tm.named_parameters()), dict(nm.named_parameters())
    assert list(tp) == list(np_)
    for k in tp:
        assert tuple(tp[k].shape) == tuple(np_[k].shape), k
        with ndgrad.no_grad():
            np_[k].copy_(ndgrad.tensor(tp[k].detach().numpy()))
    return tm, nm


def _leaf(lib, a):
    return lib.tensor(a, requires_grad=True)


def _compare(a, b, atol=1e-10):
    if a is None:
        assert b is None
        return
    if isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b)
        for x, y in zip(a, b):
            _compare(x, y, atol)
        return
    assert tuple(a.shape) == tuple(b.shape)
    np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-8, atol=atol)


def _loss(out, lib):
    flat = []

    def walk(x):
        if isinstance(x, tuple):
            for v in x:
                walk(v)
        elif x is not None:
            flat.append(x)
    walk(out)
    return sum((f.sin() * (i + 1)).sum() for i, f in enumerate(flat))


def _check_grads(tm, nm, tins, nins):
    for a, b in zip(tins, nins):
        if a is not None and a.requires_grad:
            np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=1e-8, atol=1e-10)
    for (k, a), (_, b) in zip(tm.named_parameters(), nm.named_parameters()):
        np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=1e-8, atol=1e-10, err_msg=k)


RNN_CONFIGS = [
    ("RNN", {}),
    ("RNN", {"nonlinearity": "relu", "num_layers": 2}),
    ("RNN", {"bidirectional": True, "batch_first": True}),
    ("LSTM", {}),
    ("LSTM", {"num_layers": 2, "bidirectional": True}),
    ("LSTM", {"batch_first": True, "bias": False}),
    ("LSTM", {"proj_size": 2, "num_layers": 2}),
    ("GRU", {}),
    ("GRU", {"num_layers": 3, "bidirectional": True, "batch_first": True}),
    ("GRU", {"bias": False}),
]


@pytest.mark.parametrize("cls,kw", RNN_CONFIGS, ids=lambda v: str(v))
@pytest.mark.parametrize("with_hx", [False, True])
def test_rnn_matches_torch(torch, cls, kw, with_hx):
    tm, nm = _pair(torch, cls, 3, 4, **kw)
    assert repr(nm) == repr(tm)
    d = 2 if kw.get("bidirectional") else 1
    layers = kw.get("num_layers", 1)
    x = RNG.standard_normal((2, 5, 3) if kw.get("batch_first") else (5, 2, 3))
    tins, nins = [_leaf(torch, x)], [_leaf(ndgrad, x)]
    if with_hx:
        hsize = kw.get("proj_size", 0) or 4
        h = RNG.standard_normal((layers * d, 2, hsize))
        if cls == "LSTM":
            c = RNG.standard_normal((layers * d, 2, 4))
            tins += [_leaf(torch, h), _leaf(torch, c)]
            nins += [_leaf(ndgrad, h), _leaf(ndgrad, c)]
            targs, nargs = (tins[0], (tins[1], tins[2])), (nins[0], (nins[1], nins[2]))
        else:
            tins.append(_leaf(torch, h))
            nins.append(_leaf(ndgrad, h))
            targs, nargs = tins, nins
    else:
        targs, nargs = tins, nins
    to, no = tm(*targs), nm(*nargs)
    _compare(to, no)
    _loss(to, torch).backward()
    _loss(no, ndgrad).backward()
    _check_grads(tm, nm, tins, nins)


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_rnn_unbatched_input(torch, cls):
    tm, nm = _pair(torch, cls, 3, 4, num_layers=2)
    x = RNG.standard_normal((6, 3))
    tx, nx = _leaf(torch, x), _leaf(ndgrad, x)
    to, no = tm(tx), nm(nx)
    _compare(to, no)
    assert tuple(no[0].shape) == (6, 4)
    _loss(to, torch).backward()
    _loss(no, ndgrad).backward()
    _check_grads(tm, nm, [tx], [nx])
    h = RNG.standard_normal((2, 4))
    hx_t = (torch.tensor(h), torch.tensor(h)) if cls == "LSTM" else torch.tensor(h)
    hx_n = (ndgrad.tensor(h), ndgrad.tensor(h)) if cls == "LSTM" else ndgrad.tensor(h)
    _compare(tm(torch.tensor(x), hx_t), nm(ndgrad.tensor(x), hx_n))


def test_rnn_parameter_names_shapes_and_init(torch):
    for cls, kw in RNN_CONFIGS:
        t = getattr(torch.nn, cls)(3, 4, **kw)
        n = getattr(ndgrad.nn, cls)(3, 4, **kw)
        assert [(k, tuple(p.shape), str(p.dtype)) for k, p in t.named_parameters()] == \
            [(k, tuple(p.shape), str(p.dtype)) for k, p in n.named_parameters()]
    ndgrad.manual_seed(0)
    m = ndgrad.nn.LSTM(30, 100)
    bound = 1 / math.sqrt(100)
    for p in m.parameters():
        v = p.detach().numpy()
        assert np.abs(v).max() <= bound
    w = m.weight_hh_l0.detach().numpy()
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound


def test_rnn_reprs_and_warnings(torch):
    for args, kw in (((10, 20, 2), {"batch_first": True, "bidirectional": True, "dropout": 0.3, "bias": False}),
                     ((3, 4), {"nonlinearity": "relu"}), ((3, 4), {})):
        assert repr(ndgrad.nn.RNN(*args, **kw)) == repr(torch.nn.RNN(*args, **kw))
    assert repr(ndgrad.nn.LSTM(3, 4, proj_size=2)) == repr(torch.nn.LSTM(3, 4, proj_size=2))
    assert repr(ndgrad.nn.GRU(3, 4, 2)) == repr(torch.nn.GRU(3, 4, 2))
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        ndgrad.nn.GRU(3, 4, dropout=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ndgrad.nn.GRU(3, 4, 2, dropout=0.5)


def test_rnn_errors_like_torch(torch):
    raises_like_torch(lambda lib: lib.nn.RNN(3, 4, nonlinearity="foo"), torch, ValueError,
                      "Unknown nonlinearity 'foo'. Select from 'tanh' or 'relu'.")
    lstm = lambda *a: lambda lib: lib.nn.LSTM(3, 4, 2)(*[lib.zeros(*s) if not isinstance(s, list) else  # noqa
                                                      tuple(lib.zeros(*t) for t in s) for s in a])
    raises_like_torch(lstm((2, 3, 3, 3)), torch, ValueError, "LSTM: Expected input to be 2D or 3D, got 4D instead")
    raises_like_torch(lstm((5, 2, 4)), torch, RuntimeError,
                      "input.size(-1) must be equal to input_size. Expected 3, got 4")
    raises_like_torch(lstm((5, 2, 3), [(1, 2, 4), (2, 2, 4)]), torch, RuntimeError,
                      "Expected hidden[0] size (2, 2, 4), got [1, 2, 4]")
    raises_like_torch(lstm((5, 2, 3), [(2, 2, 4), (1, 2, 4)]), torch, RuntimeError,
                      "Expected hidden[1] size (2, 2, 4), got [1, 2, 4]")
    raises_like_torch(lstm((5, 3), [(2, 2, 4), (2, 2, 4)]), torch, RuntimeError,
                      "For unbatched 2-D input, hx and cx should also be 2-D but got (3-D, 3-D) tensors")
    raises_like_torch(lambda lib: lib.nn.GRU(3, 4)(lib.zeros(5, 2, 3), lib.zeros(1, 3, 4)), torch, RuntimeError,
                      "Expected hidden size (1, 2, 4), got [1, 3, 4]")
    raises_like_torch(lambda lib: lib.nn.GRU(3, 4)(lib.zeros(5, 3), lib.zeros(1, 3, 4)), torch, RuntimeError,
                      "For unbatched 2-D input, hx should also be 2-D but got 3-D tensor")


def test_rnn_inter_layer_dropout_train_and_eval(torch):
    tm, nm = _pair(torch, "LSTM", 3, 4, num_layers=2, dropout=0.5)
    x = RNG.standard_normal((5, 2, 3))
    tm.eval()
    nm.eval()
    _compare(tm(torch.tensor(x)), nm(ndgrad.tensor(x)))  # eval: no dropout, same as torch
    nm.train()
    ndgrad.manual_seed(1)
    a = nm(ndgrad.tensor(x))[0].detach().numpy()
    ndgrad.manual_seed(1)
    b = nm(ndgrad.tensor(x))[0].detach().numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, tm(torch.tensor(x))[0].detach().numpy())


@pytest.mark.parametrize("cls", ["RNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("batched", [True, False])
def test_cells_match_torch(torch, cls, batched):
    tm, nm = _pair(torch, cls, 3, 4)
    assert repr(nm) == repr(tm)
    shape = (2, 3) if batched else (3,)
    hshape = (2, 4) if batched else (4,)
    x, h, c = RNG.standard_normal(shape), RNG.standard_normal(hshape), RNG.standard_normal(hshape)
    tins = [_leaf(torch, x), _leaf(torch, h), _leaf(torch, c)]
    nins = [_leaf(ndgrad, x), _leaf(ndgrad, h), _leaf(ndgrad, c)]
    if cls == "LSTMCell":
        to, no = tm(tins[0], (tins[1], tins[2])), nm(nins[0], (nins[1], nins[2]))
    else:
        to, no = tm(tins[0], tins[1]), nm(nins[0], nins[1])
        tins, nins = tins[:2], nins[:2]
    _compare(to, no)
    _loss(to, torch).backward()
    _loss(no, ndgrad).backward()
    _check_grads(tm, nm, tins, nins)
    _compare(tm(torch.tensor(x)), nm(ndgrad.tensor(x)))  # default zero state


# -- MultiheadAttention -----------------------------------------------------------------------------------------------
KPM = np.array([[False, False, True], [False, True, True]])
CAUSAL = np.triu(np.ones((3, 3), bool), 1)

MHA_CONFIGS = [
    ({}, {}, "self"),
    ({"batch_first": True}, {}, "self"),
    ({"kdim": 3, "vdim": 5, "add_bias_kv": True, "add_zero_attn": True}, {"average_attn_weights": False}, "kv"),
    ({}, {"key_padding_mask": KPM, "attn_mask": CAUSAL}, "cross"),
    ({}, {"attn_mask": CAUSAL, "is_causal": True}, "self"),
    ({}, {"need_weights": False, "attn_mask": RNG.standard_normal((3, 3))}, "cross"),
    ({}, {"key_padding_mask": KPM.astype(np.float64) * -2.0}, "cross"),
    ({"bias": False}, {}, "cross"),
    ({}, {}, "unbatched"),
    ({"add_bias_kv": True}, {"key_padding_mask": KPM, "attn_mask": CAUSAL}, "self"),
]


@pytest.mark.parametrize("kw,fkw,kind", MHA_CONFIGS)
def test_multihead_attention_matches_torch(torch, kw, fkw, kind):
    tm, nm = _pair(torch, "MultiheadAttention", 4, 2, **kw)
    assert repr(nm) == repr(tm)
    if kind == "kv":
        arrays = [RNG.standard_normal((3, 2, 4)), RNG.standard_normal((5, 2, 3)), RNG.standard_normal((5, 2, 5))]
    elif kind == "unbatched":
        arrays = [RNG.standard_normal((3, 4)) for _ in range(3)]
    else:
        shape = (2, 3, 4) if kw.get("batch_first") else (3, 2, 4)
        arrays = [RNG.standard_normal(shape) for _ in range(3)]
    tins = [_leaf(torch, a) for a in arrays]
    nins = [_leaf(ndgrad, a) for a in arrays]
    if kind == "self":
        tins, nins = [tins[0]] * 3, [nins[0]] * 3
    tf = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in fkw.items()}
    nf = {k: ndgrad.tensor(v) if isinstance(v, np.ndarray) else v for k, v in fkw.items()}
    to, no = tm(*tins, **tf), nm(*nins, **nf)
    _compare(to, no)
    _loss(to[0], torch).backward()
    _loss(no[0], ndgrad).backward()
    _check_grads(tm, nm, tins[:1] if kind == "self" else tins, nins[:1] if kind == "self" else nins)


def test_multihead_attention_parameters_repr_and_init(torch):
    for kw in ({}, {"kdim": 3, "vdim": 5, "add_bias_kv": True}, {"bias": False}):
        t, n = torch.nn.MultiheadAttention(4, 2, **kw), ndgrad.nn.MultiheadAttention(4, 2, **kw)
        assert [(k, tuple(p.shape)) for k, p in t.named_parameters()] == \
            [(k, tuple(p.shape)) for k, p in n.named_parameters()]
        assert repr(n) == repr(t)
    assert type(ndgrad.nn.MultiheadAttention(4, 2).out_proj).__name__ == "NonDynamicallyQuantizableLinear"
    m = ndgrad.nn.MultiheadAttention(8, 2)
    assert not m.in_proj_bias.detach().numpy().any() and not m.out_proj.bias.detach().numpy().any()
    assert np.abs(m.in_proj_weight.detach().numpy()).max() <= math.sqrt(6 / (8 + 24))


def test_multihead_attention_errors_and_dropout(torch):
    raises_like_torch(lambda lib: lib.nn.MultiheadAttention(5, 2), torch, AssertionError,
                      "embed_dim must be divisible by num_heads")
    x = lambda lib: lib.zeros(3, 2, 4)  # noqa: E731
    raises_like_torch(lambda lib: lib.nn.MultiheadAttention(4, 2)(x(lib), x(lib), x(lib), is_causal=True), torch,
                      RuntimeError)
    raises_like_torch(lambda lib: lib.nn.MultiheadAttention(4, 2)(x(lib), x(lib), lib.zeros(3, 2, 5)), torch,
                      AssertionError,
                      "key shape torch.Size([3, 2, 4]) does not match value shape torch.Size([3, 2, 5])")
    raises_like_torch(lambda lib: lib.nn.MultiheadAttention(4, 2)(x(lib), x(lib), x(lib),
                                                                  attn_mask=lib.zeros(2, 2)), torch, RuntimeError,
                      "The shape of the 2D attn_mask is torch.Size([2, 2]), but should be (3, 3).")
    # dropout on the attention weights: active in training only, rows still sum to 1 in eval
    ndgrad.manual_seed(0)
    m = ndgrad.nn.MultiheadAttention(4, 1, dropout=0.5)
    q = ndgrad.randn(6, 1, 4)
    w_train = m(q, q, q)[1].detach().numpy()
    assert (w_train == 0).any()
    m.eval()
    w_eval = m(q, q, q)[1].detach().numpy()
    np.testing.assert_allclose(w_eval.sum(-1), 1.0, rtol=1e-6)
    assert (w_eval > 0).all()


def test_gradcheck_through_recurrent_and_attention_layers():
    ndgrad.manual_seed(0)
    for cls in ("RNN", "LSTM", "GRU"):
        m = getattr(ndgrad.nn, cls)(2, 3, num_layers=2, bidirectional=True, dtype=ndgrad.float64)
        x = ndgrad.randn(3, 1, 2, dtype=ndgrad.float64, requires_grad=True)
        assert ndgrad.autograd.gradcheck(lambda x: m(x)[0], (x,))
    mha = ndgrad.nn.MultiheadAttention(4, 2, dtype=ndgrad.float64)
    q = ndgrad.randn(3, 1, 4, dtype=ndgrad.float64, requires_grad=True)
    kv = ndgrad.randn(2, 1, 4, dtype=ndgrad.float64, requires_grad=True)
    assert ndgrad.autograd.gradcheck(lambda q, kv: mha(q, kv, kv), (q, kv))


# -- the fused layer scan (nn/modules/_rnn_fused.py) against the per-step path ---------------------------------------
def _graph_names(t):
    """The names of the autograd nodes reachable from t."""
    seen, stack, names = set(), [t.grad_fn], []
    while stack:
        n = stack.pop()
        if n is None or id(n) in seen:
            continue
        seen.add(id(n))
        # (the fused scan's node is named as torch's node for that output: MkldnnRnnLayerBackward0, StackBackward0)
        names.append("_RNNScanBackward" if isinstance(n, _RNNScan._backward_cls) else type(n).__name__)
        stack.extend(f for f, _ in n.next_functions)
    return names


def _run_rnn(cls, kw, with_hx, fused, monkeypatch, dtype=np.float64, which=None, seed=5):
    """Outputs and gradients (input, states, parameters) of one forward/backward, fused or per-step."""
    from ndgrad.nn.modules import rnn
    monkeypatch.setattr(rnn, "USE_FUSED", fused)
    ndgrad.manual_seed(seed)
    nd = ndgrad.float64 if dtype == np.float64 else ndgrad.float32
    m = getattr(ndgrad.nn, cls)(3, 4, dtype=nd, **kw)
    rng = np.random.default_rng(seed)
    d = (2 if kw.get("bidirectional") else 1) * kw.get("num_layers", 1)
    x = _leaf(ndgrad, rng.standard_normal((2, 5, 3) if kw.get("batch_first") else (5, 2, 3)).astype(dtype))
    ins, args = [x], [x]
    if with_hx:
        h = _leaf(ndgrad, rng.standard_normal((d, 2, 4)).astype(dtype))
        ins.append(h)
        if cls == "LSTM":
            c = _leaf(ndgrad, rng.standard_normal((d, 2, 4)).astype(dtype))
            ins.append(c)
            args.append((h, c))
        else:
            args.append(h)
    out, state = m(*args)
    flat = [out] + (list(state) if isinstance(state, tuple) else [state])
    names = _graph_names(out)
    picked = flat if which is None else [flat[which]]
    _loss(tuple(picked), ndgrad).backward()
    values = [f.detach().numpy() for f in flat] + [t.grad.numpy() for t in ins]
    values += [p.grad.numpy() if p.grad is not None else np.zeros(p.shape) for p in m.parameters()]
    return values, names


FUSED_CONFIGS = [{}, {"num_layers": 2, "bidirectional": True}, {"batch_first": True, "bias": False},
                 {"num_layers": 2, "batch_first": True}, {"bidirectional": True}]


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN", "RNN-relu"])
@pytest.mark.parametrize("kw", FUSED_CONFIGS, ids=str)
@pytest.mark.parametrize("with_hx", [False, True])
def test_fused_scan_matches_per_step_path(monkeypatch, cls, kw, with_hx):
    if cls == "RNN-relu":
        cls, kw = "RNN", {**kw, "nonlinearity": "relu"}
    fused, names = _run_rnn(cls, kw, with_hx, True, monkeypatch)
    plain, plain_names = _run_rnn(cls, kw, with_hx, False, monkeypatch)
    for a, b in zip(fused, plain):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)
    # the fused path is the one taken: one scan node per layer and direction, far fewer nodes in all
    layers = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
    assert names.count("_RNNScanBackward") == layers
    assert "_RNNScanBackward" not in plain_names and len(names) * 2 < len(plain_names)


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("which", [0, 1, 2])
def test_fused_scan_partial_outputs_and_float32(monkeypatch, cls, which):
    if cls != "LSTM" and which == 2:
        which = 1
    for dtype, tol in ((np.float64, 1e-12), (np.float32, 2e-5)):
        kw = {"num_layers": 2, "bidirectional": True}
        fused, _ = _run_rnn(cls, kw, True, True, monkeypatch, dtype=dtype, which=which)
        plain, _ = _run_rnn(cls, kw, True, False, monkeypatch, dtype=dtype, which=which)
        for a, b in zip(fused, plain):
            assert a.dtype == b.dtype
            np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN"])
def test_fused_scan_gradcheck_and_gradgradcheck(cls):
    from ndgrad.func import functional_call
    ndgrad.manual_seed(3)
    m = getattr(ndgrad.nn, cls)(2, 3, num_layers=2, bidirectional=True, dtype=ndgrad.float64)
    x = ndgrad.randn(3, 2, 2, dtype=ndgrad.float64, requires_grad=True)
    h = ndgrad.randn(4, 2, 3, dtype=ndgrad.float64, requires_grad=True)
    w = m.weight_hh_l1_reverse.detach().clone().requires_grad_()

    def f(x, h, w):
        params = {**dict(m.named_parameters()), "weight_hh_l1_reverse": w}
        hx = (h, h.cos()) if cls == "LSTM" else h
        out, state = functional_call(m, params, (x, hx))
        states = state if isinstance(state, tuple) else (state,)
        return (out.tanh().sum(),) + tuple((s * s).sum() for s in states)
    assert "_RNNScanBackward" in _graph_names(f(x, h, w)[0])
    assert ndgrad.autograd.gradcheck(f, (x, h, w))
    assert ndgrad.autograd.gradgradcheck(f, (x, h, w))


def test_fused_scan_falls_back_where_not_exact(monkeypatch):
    """proj_size, packed input and forward-mode AD take the per-step path; results as before."""
    import ndgrad.autograd.forward_ad as fwAD
    from ndgrad.nn.modules import rnn
    ndgrad.manual_seed(0)
    x = ndgrad.randn(4, 2, 3, dtype=ndgrad.float64, requires_grad=True)
    proj = ndgrad.nn.LSTM(3, 4, proj_size=2, dtype=ndgrad.float64)
    assert "_RNNScanBackward" not in _graph_names(proj(x)[0])
    packed = ndgrad.nn.utils.rnn.pack_padded_sequence(x, [4, 2])
    m = ndgrad.nn.LSTM(3, 4, dtype=ndgrad.float64)
    assert "_RNNScanBackward" not in _graph_names(m(packed)[0].data)
    assert "_RNNScanBackward" in _graph_names(m(x)[0])
    t = ndgrad.randn(4, 2, 3, dtype=ndgrad.float64)
    with fwAD.dual_level():
        out = m(fwAD.make_dual(x.detach(), t))[0]
        tangent = fwAD.unpack_dual(out).tangent
        assert "_RNNScanBackward" not in _graph_names(out)
    # the tangent is J·t: compare with the fused path's reverse-mode Jacobian
    y = m(x)[0]
    jac = np.stack([ndgrad.autograd.grad(y.reshape(-1)[k], x, retain_graph=True)[0].numpy().reshape(-1)
                    for k in range(y.numel())])
    np.testing.assert_allclose(tangent.detach().numpy().reshape(-1), jac @ t.numpy().reshape(-1), rtol=1e-10,
                               atol=1e-12)


def test_fused_scan_retain_graph_and_inplace_error():
    ndgrad.manual_seed(0)
    m = ndgrad.nn.GRU(3, 4, dtype=ndgrad.float64)
    x = ndgrad.randn(4, 2, 3, dtype=ndgrad.float64, requires_grad=True)
    out = m(x)[0].sum()
    out.backward(retain_graph=True)
    g = x.grad.numpy().copy()
    x.grad = None
    out.backward()
    np.testing.assert_array_equal(x.grad.numpy(), g)
    for cls in ("LSTM", "GRU", "RNN"):  # outputs changed in place: the gradients are still right
        r = getattr(ndgrad.nn, cls)(3, 4, dtype=ndgrad.float64)
        grads = []
        for change in (False, True):
            x.grad = None
            r.zero_grad()
            out, state = r(x)
            hn = state[0] if cls == "LSTM" else state
            if change:
                out.add_(3)
                hn.add_(1)
            (out.sum() + hn.sum()).backward()
            grads.append([x.grad.numpy().copy()] + [p.grad.numpy().copy() for p in r.parameters()])
        for a, b in zip(*grads):
            np.testing.assert_allclose(b, a, rtol=1e-13)
    # the saved activations go with the other saved values after a backward without retain_graph
    for cls in ("LSTM", "GRU"):
        out = getattr(ndgrad.nn, cls)(3, 4, dtype=ndgrad.float64)(x)[0]
        node = out.grad_fn
        assert isinstance(node, _RNNScan._backward_cls) and len(node.saved_tensors) > 5
        out.sum().backward()
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            node.saved_tensors
    y = m(x)[0].sum()
    with ndgrad.no_grad():
        m.weight_hh_l0.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-13), (np.float32, 1e-5)])
@pytest.mark.parametrize("reverse", [False, True])
def test_fused_lstm_array_kernels_match_generic_formulas(dtype, tol, reverse):
    """_lstm_fwd_np/_lstm_bwd_np (the fast array versions) against the generic formulas run on arrays."""
    from ndgrad.nn.modules import _rnn_fused as R
    rng = np.random.default_rng(7)
    T, N, H = 6, 3, 5
    a = lambda *s: rng.standard_normal(s).astype(dtype)  # noqa: E731
    xw, h0, c0, w, b = a(T, N, 4 * H), a(N, H), a(N, H), a(4 * H, H), a(4 * H)
    xw[0, 0, :H] = -200  # a saturated gate
    dys, dh, dc = a(T, N, H), a(N, H), a(N, H)
    order = range(T - 1, -1, -1) if reverse else range(T)
    for bias in (b, None):
        outs, tape = R._lstm_fwd(R._NP, xw, h0, c0, w, bias, order)
        outs_np, tape_np = R._lstm_fwd_np(xw, h0, c0, w, bias, order)
        grads = R._lstm_bwd(R._NP, tape, w, dys, dh, dc, order)
        grads_np = R._lstm_bwd_np(tape_np, w, dys, dh, dc, order)
        for x, y in zip(outs + grads[:4] + (grads[4].sum(0),), outs_np + grads_np[:4] + (grads_np[4].sum(0),)):
            assert x.dtype == y.dtype == dtype and x.shape == y.shape
            np.testing.assert_allclose(y, x, rtol=tol, atol=tol)


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN"])
def test_fused_scan_node_is_named_as_torchs(cls, torch):
    """torch's CPU LSTM layer gives its output MkldnnRnnLayerBackward0; GRU and RNN stack their steps."""
    names = []
    for lib in (ndgrad, torch):
        lib.manual_seed(0)
        out, _ = getattr(lib.nn, cls)(4, 6)(lib.randn(5, 3, 4, requires_grad=True))
        names.append((type(out.grad_fn).__name__, out.grad_fn.name(), repr(out.grad_fn).split(" object")[0]))
    assert names[0] == names[1]
