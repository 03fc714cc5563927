"""Top-level spellings of Tensor methods (ndgrad/_toplevel.py), torch.vmap, and torch.random: as torch's."""
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
