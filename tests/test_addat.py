"""`_ops/_addat.add_at`: np.add.at on NumPy's one-dimensional fast path, with the same bits and the same errors."""
import types

import numpy as np
import pytest

import ndgrad
from ndgrad._ops import _addat



def _case(rng):
    nd = int(rng.integers(1, 4))
    shape = tuple(int(s) for s in rng.integers(1, 9, nd))
    k = int(rng.integers(1, nd + 1))
    m = int(rng.integers(0, 40))
    idx = tuple(rng.integers(-shape[d], shape[d], m) for d in range(k))
    if k == 1 and rng.random() < 0.5:
        idx = idx[0]
    src = (rng.standard_normal((m,) + shape[k:]) * 10 ** rng.uniform(-3, 3, (m,) + (1,) * (nd - k)))
    src = src.astype(np.float32)
    if rng.random() < 0.3 and src.ndim > 1:
        src = src[:1]  # broadcast over the picked positions
    return shape, idx, src


@pytest.mark.parametrize("flat_min", [0, _addat.FLAT_MIN])
def test_same_bits_as_numpy(monkeypatch, flat_min):
    monkeypatch.setattr(_addat, "FLAT_MIN", flat_min)
    rng = np.random.default_rng(0)
    for _ in range(400):
        shape, idx, src = _case(rng)
        a = np.zeros(shape, np.float32)
        b = a.copy()
        np.add.at(a, idx, src)
        _addat.add_at(b, idx, src)
        assert np.array_equal(a.view(np.int32), b.view(np.int32)), (shape, idx, src.shape)


def test_large_row_index_takes_the_flat_path(monkeypatch):
    """An embedding-sized gradient is one 1-D np.add.at over element positions (NumPy's fast path)."""
    calls = []

    class _Ufunc:
        def at(self, out, index, src):
            calls.append((out.ndim, np.ndim(index)))
            np.add.at(out, index, src)

    spy = types.SimpleNamespace(**{k: getattr(np, k) for k in dir(np) if not k.startswith("__")})
    spy.add = _Ufunc()
    monkeypatch.setattr(_addat, "np", spy)
    rng = np.random.default_rng(1)
    idx = rng.integers(0, 28, 512)
    src = rng.standard_normal((512, 64)).astype(np.float32)
    out = np.zeros((28, 64), np.float32)
    _addat.add_at(out, idx, src)
    ref = np.zeros((28, 64), np.float32)
    np.add.at(ref, idx, src)
    assert calls == [(1, 1)]
    assert np.array_equal(out, ref)


@pytest.mark.parametrize("index, src", [(np.array([3]), 1.0), (np.array([-4]), 1.0),
                                        (np.array([0, 1]), np.ones((3, 4)))])
def test_numpy_errors(monkeypatch, index, src):
    monkeypatch.setattr(_addat, "FLAT_MIN", 0)
    errors = []
    for f in (np.add.at, _addat.add_at):
        with pytest.raises((IndexError, ValueError)) as e:
            f(np.zeros((3, 4)), index, src)
        errors.append((e.type, str(e.value)))
    assert errors[0] == errors[1]


@pytest.mark.parametrize("fn", ["embedding", "index_select", "gather", "getitem"])
def test_scatter_gradients_match_torch_bit_for_bit(fn):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    w = rng.standard_normal((28, 64)).astype(np.float32)
    idx = rng.integers(0, 28, 600)
    g = (rng.standard_normal((600, 64)) * 10 ** rng.uniform(-3, 3, (600, 1))).astype(np.float32)
    grads = []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # (torch's index backward splits the rows among threads, in another order, with more)
    try:
        _run(fn, w, idx, g, grads, torch)
    finally:
        torch.set_num_threads(threads)
    assert np.array_equal(grads[0].view(np.int32), grads[1].view(np.int32))


def _run(fn, w, idx, g, grads, torch):
    for lib in (ndgrad, torch):
        wt = lib.tensor(w, requires_grad=True)
        it = lib.tensor(idx)
        if fn == "embedding":
            y = lib.nn.functional.embedding(it, wt)
        elif fn == "index_select":
            y = lib.index_select(wt, 0, it)
        elif fn == "gather":
            y = lib.gather(wt, 0, it[:, None].expand(600, 64))
        else:
            y = wt[it]
        y.backward(lib.tensor(g))
        grads.append(np.asarray(wt.grad.detach().numpy() if lib is torch else wt.grad.numpy()))
