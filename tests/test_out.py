"""torch's `out=` keyword (ndgrad/_out.py): the result written into `out`, which the call returns; refused under
autograd, casts by torch's rule, resizing with torch's warning, views written through; against torch where it is
installed, else against the call without `out`."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import ndgrad

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None


def _x(lib):
    return lib.tensor([[1.5, -2.0, 0.25], [3.0, 4.0, -0.5]])


CASES = {  # name: (args from the input x, out shape, out dtype: None for float32, "long" for int64)
    "sin": (lambda L, x: (x,), (2, 3), None),
    "exp": (lambda L, x: (x,), (2, 3), None),
    "abs": (lambda L, x: (x,), (2, 3), None),
    "sqrt": (lambda L, x: (x.abs(),), (2, 3), None),
    "sigmoid": (lambda L, x: (x,), (2, 3), None),
    "neg": (lambda L, x: (x,), (2, 3), None),
    "add": (lambda L, x: (x, x), (2, 3), None),
    "sub": (lambda L, x: (x, 1.0), (2, 3), None),
    "mul": (lambda L, x: (x, 2.0), (2, 3), None),
    "div": (lambda L, x: (x, x + 10), (2, 3), None),
    "pow": (lambda L, x: (x, 2), (2, 3), None),
    "maximum": (lambda L, x: (x, x * 0), (2, 3), None),
    "clamp": (lambda L, x: (x, -1.0, 1.0), (2, 3), None),
    "where": (lambda L, x: (x > 0, x, x * 0), (2, 3), None),
    "matmul": (lambda L, x: (x, x.t()), (2, 2), None),
    "mm": (lambda L, x: (x, x.t()), (2, 2), None),
    "sum": (lambda L, x: (x, 1), (2,), None),
    "mean": (lambda L, x: (x, 0), (3,), None),
    "cumsum": (lambda L, x: (x, 1), (2, 3), None),
    "cat": (lambda L, x: ([x, x],), (4, 3), None),
    "stack": (lambda L, x: ([x, x],), (2, 2, 3), None),
    "argmax": (lambda L, x: (x, 1), (2,), "long"),
    "floor": (lambda L, x: (x,), (2, 3), None),
}


def _out(lib, shape, dt):
    return lib.zeros(shape, dtype=lib.int64 if dt == "long" else lib.float32)


@pytest.mark.parametrize("name", sorted(CASES))
def test_out_is_written_and_returned(name):
    make, shape, dt = CASES[name]
    x = _x(ndgrad)
    plain = getattr(ndgrad, name)(*make(ndgrad, x))
    out = _out(ndgrad, shape, dt)
    keep = out._data
    r = getattr(ndgrad, name)(*make(ndgrad, x), out=out)
    assert r is out and out._data is keep  # written in place, into the very tensor
    assert np.array_equal(out.numpy(), plain.numpy().astype(out.numpy().dtype))
    if torch is not None:
        tout = _out(torch, shape, dt)
        getattr(torch, name)(*make(torch, _x(torch)), out=tout)
        assert np.allclose(out.numpy(), tout.numpy(), rtol=1e-6, atol=0)


def test_several_results_and_their_type():
    x = _x(ndgrad)
    vals, idx = ndgrad.zeros(0), ndgrad.zeros(0, dtype=ndgrad.int64)
    r = ndgrad.max(x, 1, out=(vals, idx))
    assert r[0] is vals and r[1] is idx and vals.tolist() == [1.5, 4.0] and idx.tolist() == [0, 1]
    assert repr(r).startswith("torch.return_types.max_out(")
    r = ndgrad.sort(x, 1, out=[ndgrad.zeros(2, 3), ndgrad.zeros(2, 3, dtype=ndgrad.int64)])
    assert r.values.tolist() == [[-2.0, 0.25, 1.5], [-0.5, 3.0, 4.0]]
    if torch is not None:
        assert type(torch.max(_x(torch), 1, out=(torch.zeros(0), torch.zeros(0, dtype=torch.int64)))).__name__ == \
            type(ndgrad.max(x, 1, out=(ndgrad.zeros(0), ndgrad.zeros(0, dtype=ndgrad.int64)))).__name__


def _errors(lib):
    x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    d = x.detach()
    calls = [lambda: lib.sin(x, out=lib.zeros(2, 2)),
             lambda: lib.add(x, 1, out=lib.zeros(2, 2)),
             lambda: lib.cat([d, x], out=lib.zeros(4, 2)),
             lambda: lib.sin(d, out=lib.zeros(2, 2, requires_grad=True)),
             lambda: lib.sin(d, out=lib.zeros(2, 2, dtype=lib.int64)),
             lambda: lib.add(d, d, out=lib.zeros(2, 2, dtype=lib.bool)),
             lambda: lib.sin(d, out=[1]),
             lambda: lib.sin(d, out=(lib.zeros(2),)),
             lambda: lib.max(d, 0, out=lib.zeros(2))]
    out = []
    for c in calls:
        with pytest.raises((RuntimeError, TypeError)) as e:
            c()
        out.append((e.type, str(e.value).split("\n")[0]))
    return out


def test_out_errors_are_torchs():
    ours = _errors(ndgrad)
    assert ours[0] == (RuntimeError, "sin(): functions with out=... arguments don't support automatic "
                                     "differentiation, but one of the arguments requires grad.")
    assert ours[4] == (RuntimeError, "result type Float can't be cast to the desired output type Long")
    if torch is not None:
        assert ours == _errors(torch)


def test_out_no_grad_allows_inputs_that_require_grad_and_int_results_widen():
    x = ndgrad.tensor([1.0, 2.0], requires_grad=True)
    with ndgrad.no_grad():
        out = ndgrad.zeros(2)
        assert ndgrad.sin(x, out=out) is out
    r = ndgrad.add(ndgrad.tensor([1, 2]), 1, out=ndgrad.zeros(2, dtype=ndgrad.float64))
    assert r.dtype == ndgrad.float64 and r.tolist() == [2.0, 3.0]


def test_resize_warns_as_torch_and_views_write_through():
    x = _x(ndgrad)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = ndgrad.zeros(2, 2)
        ndgrad.cat([x, x], out=out)
        empty = ndgrad.zeros(0)
        ndgrad.cat([x, x], out=empty)
    assert out.shape == (4, 3) and empty.shape == (4, 3)
    assert len(w) == 1 and str(w[0].message).startswith(
        "An output with one or more elements was resized since it had shape [2, 2], which does not match the "
        "required output shape [4, 3].") and w[0].filename == __file__
    base = ndgrad.zeros(4)
    ndgrad.exp(ndgrad.zeros(2), out=base[1:3])
    assert base.tolist() == [0.0, 1.0, 1.0, 0.0]
    v0 = base._version
    ndgrad.exp(ndgrad.zeros(2), out=base[1:3])
    assert base._version > v0
