"""Property tests (hypothesis) against torch: broadcasting gradients, and x[idx] / x[idx] = v gradients for basic,
advanced, boolean and mixed indices. (Kept apart from test_ops.py so that a missing hypothesis skips only these.)"""
from __future__ import annotations

import numpy as np
import pytest

import ndgrad

pytest.importorskip("hypothesis")

# -- property tests ---------------------------------------------------------------------------------------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

_PROP = settings(max_examples=60, deadline=None, derandomize=True)
_BIN_FNS = {
    "add": lambda lib, a, b: a + b, "sub": lambda lib, a, b: a - b, "mul": lambda lib, a, b: a * b,
    "div": lambda lib, a, b: a / b, "maximum": lambda lib, a, b: lib.maximum(a, b),
    "pow": lambda lib, a, b: lib.pow(a.abs() + 0.5, b), "where": lambda lib, a, b: lib.where(a > 0, a, b),
}


def _grads_vs_torch(torch, fn, arrays, weight_seed=0):
    nd = [ndgrad.from_numpy(a.copy()).requires_grad_() for a in arrays]
    tt = [torch.from_numpy(a.copy()).requires_grad_() for a in arrays]
    out_n, out_t = fn(ndgrad, *nd), fn(torch, *tt)
    assert tuple(out_n.shape) == tuple(out_t.shape)
    np.testing.assert_allclose(out_n._data, out_t.detach().numpy(), rtol=1e-7, atol=1e-9)
    assert (out_n.grad_fn.name() if out_n.grad_fn else None) == \
        (type(out_t.grad_fn).__name__ if out_t.grad_fn else None)
    w = np.random.default_rng(weight_seed).uniform(0.5, 1.5, tuple(out_t.shape))
    (out_n * ndgrad.from_numpy(w.copy())).sum().backward()
    (out_t * torch.from_numpy(w.copy())).sum().backward()
    for a, b in zip(nd, tt):
        assert (a.grad is None) == (b.grad is None)
        if a.grad is not None:
            assert tuple(a.grad.shape) == tuple(b.grad.shape)
            np.testing.assert_allclose(a.grad._data, b.grad.numpy(), rtol=1e-7, atol=1e-9)


@_PROP
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
       op=st.sampled_from(sorted(_BIN_FNS)), seed=st.integers(0, 2 ** 16))
def test_broadcasting_gradients_property(shapes, op, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    sa, sb = shapes.input_shapes
    a = np.asarray(rng.uniform(-2, 2, sa))
    b = np.asarray(rng.uniform(0.5, 2, sb) * rng.choice([-1.0, 1.0], sb))
    _grads_vs_torch(torch, _BIN_FNS[op], [a, b], seed)


@st.composite
def _index(draw, shape):
    """A torch-valid index for `shape`: basic (ints, positive-step slices, None, Ellipsis) or advanced
    (integer arrays, boolean masks), possibly mixed with slices."""
    kind = draw(st.sampled_from(["basic", "int_array", "mask", "mixed"]))
    if kind == "basic":
        idx = draw(hnp.basic_indices(shape, min_dims=0, allow_newaxis=True, allow_ellipsis=True))
        parts = idx if isinstance(idx, tuple) else (idx,)
        fixed = []
        for p in parts:
            if isinstance(p, slice) and p.step is not None and p.step < 0:
                p = slice(None, None, -p.step)  # torch has no negative steps
            fixed.append(p)
        return tuple(fixed)
    if kind == "int_array":
        return draw(hnp.integer_array_indices(shape, result_shape=hnp.array_shapes(min_dims=1, max_dims=2,
                                                                                    max_side=3)))
    if kind == "mask":
        k = draw(st.integers(1, len(shape)))
        return (draw(hnp.arrays(np.bool_, shape[:k])),)
    dim = draw(st.integers(0, len(shape) - 1))
    arr = draw(hnp.arrays(np.int64, draw(st.integers(1, 3)),
                          elements=st.integers(-shape[dim], shape[dim] - 1)))
    return (slice(None),) * dim + (arr,)


def _lib_index(lib, idx):
    return tuple(lib.from_numpy(np.array(p)) if isinstance(p, np.ndarray) else p for p in idx)


@_PROP
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
def test_indexing_gradients_property(data, shape):
    torch = pytest.importorskip("torch")
    idx = data.draw(_index(shape))
    x = np.random.default_rng(0).uniform(-2, 2, shape)
    _grads_vs_torch(torch, lambda lib, t: t[_lib_index(lib, idx)], [x])


@_PROP
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
def test_setitem_gradients_property(data, shape):
    """y = x * 1; y[idx] = v: x gets no gradient where v was written, v gets what flowed to its places."""
    from hypothesis import assume
    torch = pytest.importorskip("torch")
    idx = data.draw(_index(shape))
    rng = np.random.default_rng(1)
    x = rng.uniform(-2, 2, shape)
    target = x[idx]
    writes = np.zeros(shape, np.int64)
    try:
        np.add.at(writes, idx, 1)  # counts repeated targets (plain `+=` would count them once)
    except (IndexError, TypeError, ValueError):
        writes[idx] += 1  # basic indices (None, Ellipsis) never repeat a position
    # a position written twice makes the stored value ambiguous (torch leaves the order unspecified)
    assume(writes.max() <= 1)
    v = rng.uniform(-2, 2, target.shape)

    def f(lib, xt, vt):
        y = xt * 1
        y[_lib_index(lib, idx)] = vt
        return y
    _grads_vs_torch(torch, f, [x, v])
