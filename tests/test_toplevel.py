"""Top-level spellings of Tensor methods (ndgrad/_toplevel.py), torch.vmap, torch.random, and Tensor methods programs
use beyond the core (fill_diagonal_, to_dense): as torch's."""
from __future__ import annotations

import numpy as np
import pytest

import ndgrad
from ndgrad._toplevel import METHOD_FUNCTIONS

ARGS = {"clamp_": ((), {"min": 0.3}), "clamp_max_": ((0.5,), {}), "clamp_min_": ((0.5,), {}), "clip_": ((0.2, 0.6), {}),
        "fill_": ((3.0,), {}), "xlogy_": ((lambda t: t.full((2, 3), 2.0),), {}),
        "addmv_": ((lambda t: t.ones(6, 4), lambda t: t.ones(4)), {}),
        "index_put_": (((lambda t: t.tensor([0, 1]),), lambda t: t.tensor([7.0, 8.0, 9.0])), {})}


def _materialize(v, lib):
    if callable(v):
        return v(lib)
    if isinstance(v, tuple):
        return tuple(_materialize(e, lib) for e in v)
    return v


@pytest.mark.parametrize("name", [n for n in METHOD_FUNCTIONS if n.endswith("_")])
def test_inplace_function_as_torch(torch, name):
    out = []
    for lib in (ndgrad, torch):
        x = lib.tensor(np.linspace(0.1, 0.9, 6, dtype=np.float32).reshape((6,) if name == "addmv_" else (2, 3)))
        args, kwargs = ARGS.get(name, ((), {}))
        r = getattr(lib, name)(x, *_materialize(args, lib), **kwargs)
        out.append((r is x, x.numpy().copy(), str(x.dtype)))
    assert (out[0][0], out[0][2]) == (out[1][0], out[1][2])
    np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-6, equal_nan=True)  # (float32 kernels' last bit)


@pytest.mark.parametrize("name", ["ravel", "adjoint", "resolve_conj", "resolve_neg", "is_conj", "is_neg",
                                  "conj_physical", "is_inference", "msort"])
def test_function_as_torch(torch, name):
    out = []
    for lib in (ndgrad, torch):
        x = lib.tensor([[3.0, -1.0, 2.0], [0.5, 4.0, -2.0]], requires_grad=True)
        r = getattr(lib, name)(x)
        if isinstance(r, bool):
            out.append(r)
            continue
        r.sum().backward()
        out.append((r.tolist(), repr(r).split("grad_fn=")[-1], x.grad.tolist()))
    assert out[0] == out[1]
    with pytest.raises(TypeError, match="must be Tensor, not int"):
        getattr(ndgrad, name)(3)


def test_vmap_and_random_module(torch):
    x = ndgrad.arange(6.0).reshape(3, 2)
    assert ndgrad.vmap(lambda r: (r * r).sum())(x).tolist() == torch.vmap(lambda r: (r * r).sum())(
        torch.arange(6.0).reshape(3, 2)).tolist()
    got = []
    for lib in (ndgrad, torch):
        lib.random.manual_seed(0)
        with lib.random.fork_rng():
            a = lib.rand(2).tolist()
        b = lib.rand(2).tolist()
        with lib.random.fork_rng(enabled=False):
            lib.rand(1)
        got.append((a, b, lib.rand(2).tolist(), lib.random.initial_seed()))
    assert got[0] == got[1]
    assert ndgrad.random.default_generator is ndgrad.default_generator


FILL_DIAGONAL = [
    lambda t: t.ones(5, 3).fill_diagonal_(2, wrap=True),
    lambda t: t.ones(5, 3).fill_diagonal_(2),
    lambda t: t.ones(3, 5).fill_diagonal_(2, wrap=True),
    lambda t: t.zeros(2, 2, 2).fill_diagonal_(1),
    lambda t: t.zeros(4, 3).t().fill_diagonal_(5),  # (not contiguous)
    lambda t: t.zeros(0, 3).fill_diagonal_(5),
    lambda t: t.arange(9.0).reshape(3, 3).fill_diagonal_(float("-inf")),
]


@pytest.mark.parametrize("k", range(len(FILL_DIAGONAL)))
def test_fill_diagonal_as_torch(torch, k):
    a, b = FILL_DIAGONAL[k](ndgrad), FILL_DIAGONAL[k](torch)
    assert (a.tolist(), a.shape, str(a.dtype)) == (b.tolist(), b.shape, str(b.dtype))


def test_fill_diagonal_gradient_and_errors_as_torch(torch):
    got = []
    for lib in (ndgrad, torch):
        w = lib.arange(9.0).reshape(3, 3).requires_grad_()
        x = w * 1
        r = x.fill_diagonal_(0)
        (r * lib.arange(9.0).reshape(3, 3)).sum().backward()
        errs = []
        for bad in (lambda: lib.zeros(3).fill_diagonal_(1), lambda: lib.zeros(2, 3, 2).fill_diagonal_(1)):
            with pytest.raises(RuntimeError) as e:
                bad()
            errs.append(str(e.value))
        got.append((r is x, repr(r).split("grad_fn=")[1], w.grad.tolist(), errs, lib.ones(2).to_dense().tolist()))
    assert got[0] == got[1]
