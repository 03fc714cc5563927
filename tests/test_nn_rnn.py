"""RNN, LSTM, GRU, their cells and MultiheadAttention compared with PyTorch from identical weights: outputs,
final states, attention weights, input and parameter gradients, parameter names, reprs and errors."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import ndgrad
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
