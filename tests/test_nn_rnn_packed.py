"""RNN, LSTM and GRU on PackedSequence input compared with PyTorch from identical weights: packed output, the
padded result of pad_packed_sequence, h_n (and c_n), gradients w.r.t. the inputs, initial states and every
parameter, plus torch's errors for a wrong hx with packed input."""
from __future__ import annotations

import numpy as np
import pytest

import ndgrad
from torchcmp import raises_like_torch

RNG = np.random.default_rng(1234)
STEPS, BATCH, IN, HID = 5, 4, 3, 4
LENGTHS_SORTED = [5, 4, 2, 1]
LENGTHS_UNSORTED = [2, 5, 1, 4]


def _pair(torch, cls, **kw):
    """The same float64 module in torch and ndgrad, ndgrad's state copied from torch's state_dict."""
    tm = getattr(torch.nn, cls)(IN, HID, dtype=torch.float64, **kw)
    nm = getattr(ndgrad.nn, cls)(IN, HID, dtype=ndgrad.float64, **kw)
    nm.load_state_dict({k: ndgrad.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    return tm, nm


def _np(t):
    return t.detach().numpy()


def _close(a, b, msg=""):
    assert tuple(a.shape) == tuple(b.shape), msg
    np.testing.assert_allclose(_np(b), _np(a), rtol=1e-8, atol=1e-10, err_msg=msg)


def _states(h):
    return h if isinstance(h, tuple) else (h,)


def _run_both(torch, cls, kw, enforce_sorted, with_state, batch_first=False):
    """Forward + backward of the same packed batch in both libraries; returns everything to compare."""
    tm, nm = _pair(torch, cls, batch_first=batch_first, **kw)
    d = 2 if kw.get("bidirectional") else 1
    layers = kw.get("num_layers", 1)
    proj = kw.get("proj_size", 0)
    lengths = LENGTHS_SORTED if enforce_sorted else LENGTHS_UNSORTED
    shape = (BATCH, STEPS, IN) if batch_first else (STEPS, BATCH, IN)
    x = RNG.standard_normal(shape)
    hx = []
    if with_state:
        hx.append(RNG.standard_normal((layers * d, BATCH, proj or HID)))
        if cls == "LSTM":
            hx.append(RNG.standard_normal((layers * d, BATCH, HID)))
    res = {}
    for lib, m in (("torch", tm), ("ndgrad", nm)):
        L = torch if lib == "torch" else ndgrad
        xs = L.tensor(x, requires_grad=True)
        hs = [L.tensor(h, requires_grad=True) for h in hx]
        packed = L.nn.utils.rnn.pack_padded_sequence(xs, lengths, batch_first=batch_first,
                                                     enforce_sorted=enforce_sorted)
        state = None if not hs else (tuple(hs) if cls == "LSTM" else hs[0])
        out, hn = m(packed, state)
        padded, lens = L.nn.utils.rnn.pad_packed_sequence(out, batch_first=batch_first)
        loss = (padded.sin() * 1.5).sum() + (out.data.cos()).sum()
        for i, s in enumerate(_states(hn)):
            loss = loss + (s.sin() * (i + 2)).sum()
        loss.backward()
        res[lib] = dict(out=out, hn=_states(hn), padded=padded, lens=lens, x=xs, hx=hs, model=m)
    return res


CONFIGS = [(cls, layers, bidir) for cls in ("RNN", "LSTM", "GRU") for layers in (1, 2) for bidir in (False, True)]


@pytest.mark.parametrize("with_state", [False, True], ids=["no_hx", "hx"])
@pytest.mark.parametrize("enforce_sorted", [True, False], ids=["sorted", "unsorted"])
@pytest.mark.parametrize("cls,layers,bidir", CONFIGS, ids=[f"{c}-{n}l-{'bi' if b else 'uni'}" for c, n, b in CONFIGS])
def test_packed_matches_torch(torch, cls, layers, bidir, enforce_sorted, with_state):
    res = _run_both(torch, cls, {"num_layers": layers, "bidirectional": bidir}, enforce_sorted, with_state)
    t, n = res["torch"], res["ndgrad"]
    assert isinstance(n["out"], ndgrad.nn.utils.rnn.PackedSequence)
    assert n["out"].batch_sizes.tolist() == t["out"].batch_sizes.tolist()
    for key in ("sorted_indices", "unsorted_indices"):
        a, b = getattr(t["out"], key), getattr(n["out"], key)
        assert (a is None) == (b is None)
        if a is not None:
            assert b.tolist() == a.tolist()
    _close(t["out"].data, n["out"].data, "packed data")
    _close(t["padded"], n["padded"], "padded output")
    assert n["lens"].tolist() == t["lens"].tolist()
    assert len(n["hn"]) == len(t["hn"]) == (2 if cls == "LSTM" else 1)
    for a, b in zip(t["hn"], n["hn"]):
        _close(a, b, "final state")
    _close(t["x"].grad, n["x"].grad, "input grad")
    for a, b in zip(t["hx"], n["hx"]):
        _close(a.grad, b.grad, "initial state grad")
    tp, np_ = dict(t["model"].named_parameters()), dict(n["model"].named_parameters())
    assert list(tp) == list(np_)
    for k in tp:
        _close(tp[k].grad, np_[k].grad, k)


EXTRA = [
    ("LSTM", {"proj_size": 2}, True),
    ("LSTM", {"proj_size": 3, "num_layers": 2, "bidirectional": True}, False),
    ("RNN", {"nonlinearity": "relu", "num_layers": 2, "bidirectional": True}, False),
    ("GRU", {"bias": False, "bidirectional": True}, False),
    ("LSTM", {"bias": False, "num_layers": 2}, True),
]


@pytest.mark.parametrize("cls,kw,enforce_sorted", EXTRA)
@pytest.mark.parametrize("batch_first", [False, True])
def test_packed_variants(torch, cls, kw, enforce_sorted, batch_first):
    """proj_size, relu, no bias; batch_first only changes how the padded tensor is packed, not the RNN."""
    res = _run_both(torch, cls, kw, enforce_sorted, True, batch_first=batch_first)
    t, n = res["torch"], res["ndgrad"]
    _close(t["out"].data, n["out"].data)
    _close(t["padded"], n["padded"])
    for a, b in zip(t["hn"], n["hn"]):
        _close(a, b)
    _close(t["x"].grad, n["x"].grad)
    for a, b in zip(t["hx"], n["hx"]):
        _close(a.grad, b.grad)
    for (k, a), (_, b) in zip(t["model"].named_parameters(), n["model"].named_parameters()):
        _close(a.grad, b.grad, k)


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_packed_dropout_between_layers(torch, cls):
    """dropout=1 in training zeroes the input of layer 2 (deterministic); eval mode ignores dropout."""
    for train in (True, False):
        tm, nm = _pair(torch, cls, num_layers=2, dropout=1.0, bidirectional=True)
        tm.train(train)
        nm.train(train)
        seqs = [RNG.standard_normal((k, IN)) for k in (4, 3, 3, 1)]
        to, th = tm(torch.nn.utils.rnn.pack_sequence([torch.tensor(s) for s in seqs]))
        no, nh = nm(ndgrad.nn.utils.rnn.pack_sequence([ndgrad.tensor(s) for s in seqs]))
        _close(to.data, no.data)
        for a, b in zip(_states(th), _states(nh)):
            _close(a, b)


def test_packed_sequence_list_input(torch):
    """pack_sequence of unsorted sequences, unpack_sequence of the output."""
    tm, nm = _pair(torch, "GRU", bidirectional=True)
    seqs = [RNG.standard_normal((k, IN)) for k in (2, 6, 3)]
    to, th = tm(torch.nn.utils.rnn.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False))
    no, nh = nm(ndgrad.nn.utils.rnn.pack_sequence([ndgrad.tensor(s) for s in seqs], enforce_sorted=False))
    _close(th, nh)
    for a, b in zip(torch.nn.utils.rnn.unpack_sequence(to), ndgrad.nn.utils.rnn.unpack_sequence(no)):
        _close(a, b)


def test_packed_gradcheck():
    """float64 gradcheck through a packed bidirectional LSTM w.r.t. input and initial states."""
    nm = ndgrad.nn.LSTM(2, 3, bidirectional=True, dtype=ndgrad.float64)
    x = ndgrad.tensor(RNG.standard_normal((3, 2, 2)), requires_grad=True)
    h = ndgrad.tensor(RNG.standard_normal((2, 2, 3)), requires_grad=True)
    c = ndgrad.tensor(RNG.standard_normal((2, 2, 3)), requires_grad=True)

    def f(x, h, c):
        p = ndgrad.nn.utils.rnn.pack_padded_sequence(x, [2, 3], enforce_sorted=False)
        out, (hn, cn) = nm(p, (h, c))
        return out.data, hn, cn

    assert ndgrad.autograd.gradcheck(f, (x, h, c))


# -- errors ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", ["RNN", "GRU"])
@pytest.mark.parametrize("enforce_sorted", [True, False])
@pytest.mark.parametrize("shape", [(2, 3, 4), (1, 3, 5), (1, 2, 4), (3, 4), (1, 3, 2)])
def test_wrong_hx_packed(torch, cls, enforce_sorted, shape):
    if not enforce_sorted and shape == (1, 2, 4):
        pytest.skip("torch's index_select error text is backend specific")
    h = RNG.standard_normal(shape)
    x = RNG.standard_normal((3, 3, 2))
    lengths = [3, 2, 1] if enforce_sorted else [2, 3, 1]

    def f(lib):
        m = getattr(lib.nn, cls)(2, 4, dtype=lib.float64)
        p = lib.nn.utils.rnn.pack_padded_sequence(lib.tensor(x), lengths, enforce_sorted=enforce_sorted)
        m(p, lib.tensor(h))

    raises_like_torch(f, torch, RuntimeError)


@pytest.mark.parametrize("cls", ["RNN", "GRU"])
def test_packed_input_dims(torch, cls):
    def f(lib):
        m = getattr(lib.nn, cls)(2, 4, dtype=lib.float64)
        m(lib.nn.utils.rnn.PackedSequence(lib.zeros(3, 1, 2, dtype=lib.float64), lib.tensor([2, 1])))

    raises_like_torch(f, torch, RuntimeError, "input must have 2 dimensions, got 3")

    def g(lib):
        m = getattr(lib.nn, cls)(2, 4, dtype=lib.float64)
        m(lib.nn.utils.rnn.PackedSequence(lib.zeros(3, 5, dtype=lib.float64), lib.tensor([2, 1])))

    raises_like_torch(g, torch, RuntimeError, "input.size(-1) must be equal to input_size. Expected 2, got 5")


@pytest.mark.parametrize("which", [0, 1])
def test_wrong_hx_packed_lstm(which):
    """torch checks an LSTM's packed hx only inside its kernel (messages vary, it can even crash), so ndgrad
    raises the RuntimeError torch gives for padded input."""
    m = ndgrad.nn.LSTM(2, 4, dtype=ndgrad.float64)
    p = ndgrad.nn.utils.rnn.pack_sequence([ndgrad.zeros(3, 2, dtype=ndgrad.float64),
                                           ndgrad.zeros(1, 2, dtype=ndgrad.float64)])
    good = ndgrad.zeros(1, 2, 4, dtype=ndgrad.float64)
    bad = ndgrad.zeros(1, 3, 4, dtype=ndgrad.float64)
    hx = (bad, good) if which == 0 else (good, bad)
    with pytest.raises(RuntimeError, match=rf"Expected hidden\[{which}\] size \(1, 2, 4\), got \[1, 3, 4\]"):
        m(p, hx)
