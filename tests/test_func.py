"""ndgrad.func (grad, grad_and_value, vjp, jvp, jacrev, jacfwd, hessian, vmap, functional_call) and the
batched autograd.functional.jacobian / hessian (default, vectorize=True, forward-mode), against torch."""
from __future__ import annotations

import numpy as np
import pytest

import ndgrad
import ndgrad.func as NF
from torchcmp import outcome
from torchcmp import raises_like_torch as _raises_like_torch

RNG = np.random.default_rng(0)
XN, YN, MN = RNG.standard_normal(3), RNG.standard_normal(3), RNG.standard_normal((3, 3))


def _same(a, b, path="", grad_fn=False):
    """Same pytree structure, shapes, dtypes, values and requires_grad (and grad_fn names if asked)."""
    import torch
    if isinstance(b, torch.Tensor):
        assert isinstance(a, ndgrad.Tensor), (path, type(a))
        assert tuple(a.shape) == tuple(b.shape), (path, a.shape, b.shape)
        assert str(a.dtype) == str(b.dtype), (path, a.dtype, b.dtype)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-9, atol=1e-12, err_msg=path)
        assert a.requires_grad == b.requires_grad, (path, a.requires_grad, b.requires_grad)
        if grad_fn:
            na = None if a.grad_fn is None else a.grad_fn.name()
            nb = None if b.grad_fn is None else type(b.grad_fn).__name__
            assert na == nb, (path, na, nb)
    elif isinstance(b, (tuple, list)):
        assert type(a) is type(b) and len(a) == len(b), (path, type(a), type(b))
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{path}[{i}]", grad_fn)
    elif isinstance(b, dict):
        assert type(a) is type(b) and list(a) == list(b), (path, a, b)
        for k in b:
            _same(a[k], b[k], f"{path}[{k!r}]", grad_fn)
    else:
        assert a == b, (path, a, b)


def _both(make, torch, grad_fn=False):
    import torch.func as TF
    res = []
    for lib, fl in ((ndgrad, NF), (torch, TF)):
        res.append(make(lib, fl, lib.tensor(XN), lib.tensor(YN), lib.tensor(MN)))
    _same(*res, grad_fn=grad_fn)


def _errors_alike(make, torch):
    import torch.func as TF
    got = outcome(lambda _: make(ndgrad, NF, ndgrad.tensor(XN)), None)
    want = outcome(lambda _: make(torch, TF, torch.tensor(XN)), None)
    assert want is not None
    assert got == want, (got, want)


# -- torch.func: results ---------------------------------------------------------------------------------------
FUNC_CASES = {
    "grad": lambda L, fl, x, y, M: fl.grad(lambda x: (x.sin() * x).sum())(x),
    "grad_argnums": lambda L, fl, x, y, M: fl.grad(lambda x, y: (x * y).sum(), argnums=(0, 1))(x, y),
    "grad_argnum_neg": lambda L, fl, x, y, M: fl.grad(lambda x, y: (x * y * y).sum(), argnums=-1)(x, y),
    "grad_aux": lambda L, fl, x, y, M: fl.grad(lambda x, y: ((x * y).sum(), {"d": x * 2}), has_aux=True)(x, y),
    "grad_and_value": lambda L, fl, x, y, M: fl.grad_and_value(lambda x: (x ** 3).sum())(x),
    "grad_and_value_aux": lambda L, fl, x, y, M: fl.grad_and_value(lambda x: ((x ** 2).sum(), x), has_aux=True)(x),
    "grad_nested": lambda L, fl, x, y, M: fl.grad(lambda x: fl.grad(lambda z: (z ** 3).sum())(x).sin().sum())(x),
    "grad_closure": lambda L, fl, x, y, M: fl.grad(lambda a: fl.grad(lambda b: (a * b * b).sum())(y).sum())(x),
    "grad_pytree": lambda L, fl, x, y, M: fl.grad(lambda d: (d["a"] * d["b"][0]).sum())({"a": x, "b": [y]}),
    "grad_kwargs": lambda L, fl, x, y, M: fl.grad(lambda x, scale=1.0: (x * scale).sum())(x, scale=y),
    "grad_requires_grad_input": lambda L, fl, x, y, M: fl.grad(lambda x: (x * x).sum())(x.requires_grad_()),
    "vjp": lambda L, fl, x, y, M: fl.vjp(lambda x, y: (x * y, x.sum()), x, y)[1]((x, L.tensor(2.0, dtype=L.float64))),
    "vjp_out": lambda L, fl, x, y, M: fl.vjp(lambda x: M @ x, x)[0],
    "vjp_aux": lambda L, fl, x, y, M: fl.vjp(lambda x: (x * 2, {"a": x}), x, has_aux=True)[::2],
    "jvp": lambda L, fl, x, y, M: fl.jvp(lambda x, y: (x * y, (M @ x).sum()), (x, y), (y, x)),
    "jvp_aux": lambda L, fl, x, y, M: fl.jvp(lambda x: (x.sin(), x), (x,), (y,), has_aux=True),
    "jvp_linear": lambda L, fl, x, y, M: fl.jvp(lambda x: x * 3, (x,), (y,)),
    "jacrev": lambda L, fl, x, y, M: fl.jacrev(lambda x: (M @ x).tanh() * x)(x),
    "jacrev_argnums": lambda L, fl, x, y, M: fl.jacrev(lambda x, y: (x * y, (M @ x).sum()), argnums=(0, 1))(x, y),
    "jacrev_dict": lambda L, fl, x, y, M: fl.jacrev(lambda d: {"a": d["x"].sin(), "b": d["x"].sum()})({"x": x}),
    "jacrev_aux": lambda L, fl, x, y, M: fl.jacrev(lambda x: (x.sin(), x.cos().sum()), has_aux=True)(x),
    "jacrev_chunk": lambda L, fl, x, y, M: fl.jacrev(lambda x: M @ x.sin(), chunk_size=2)(x),
    "jacrev_matrix": lambda L, fl, x, y, M: fl.jacrev(lambda m: (m @ m)[:, 1:])(M),
    "jacfwd": lambda L, fl, x, y, M: fl.jacfwd(lambda x, y: (x * y, (M @ x).sum()), argnums=(0, 1))(x, y),
    "jacfwd_aux": lambda L, fl, x, y, M: fl.jacfwd(lambda x: (x.exp(), x * 2), has_aux=True)(x),
    "hessian": lambda L, fl, x, y, M: fl.hessian(lambda x: (x.sin() * x ** 2).sum() + x @ M @ x)(x),
    "hessian_argnums": lambda L, fl, x, y, M: fl.hessian(lambda x, y: (x * y * y).sum(), argnums=(0, 1))(x, y),
    "jacrev_jacrev": lambda L, fl, x, y, M: fl.jacrev(fl.jacrev(lambda x: x.sin() * x.sum()))(x),
    "vmap": lambda L, fl, x, y, M: fl.vmap(lambda a: a.sum())(M),
    "vmap_in_dims": lambda L, fl, x, y, M: fl.vmap(lambda a, b: a * b, in_dims=(1, None))(M, x),
    "vmap_out_dims": lambda L, fl, x, y, M: fl.vmap(lambda a, b: (a * b, a.sum()), in_dims=(1, None),
                                                     out_dims=(1, 0))(M, x),
    "vmap_nested": lambda L, fl, x, y, M: fl.vmap(fl.vmap(lambda a, b: a * b, in_dims=(0, None)),
                                                   in_dims=(None, 0))(x, M),
    "vmap_dict": lambda L, fl, x, y, M: fl.vmap(lambda d: {"s": d["a"] @ d["b"]},
                                                 in_dims=({"a": 0, "b": None},))({"a": M, "b": x}),
    "vmap_list_prefix": lambda L, fl, x, y, M: fl.vmap(lambda p: p[0] * p[1], in_dims=([0, 1],))([M, M]),
    "vmap_neg_dim": lambda L, fl, x, y, M: fl.vmap(lambda a: a * 2, in_dims=-1, out_dims=-1)(M[:2]),
    "vmap_out_none": lambda L, fl, x, y, M: fl.vmap(lambda a: (a * 2, 3.0), out_dims=(0, None))(M),
    "vmap_kwargs": lambda L, fl, x, y, M: fl.vmap(lambda a, s=None: a * s)(M, s=x),
    "vmap_grad": lambda L, fl, x, y, M: fl.vmap(fl.grad(lambda a: (a.sin() * a).sum()))(M),
    "vmap_jacrev": lambda L, fl, x, y, M: fl.vmap(fl.jacrev(lambda a: a.sin() * a.sum()))(M),
    "grad_vmap": lambda L, fl, x, y, M: fl.grad(lambda x: fl.vmap(lambda r: (r * x).sin().sum())(M).sum())(x),
}


@pytest.mark.parametrize("name", sorted(FUNC_CASES))
def test_func_matches_torch(torch, name):
    _both(FUNC_CASES[name], torch)


# -- torch.func: errors ----------------------------------------------------------------------------------------
ERROR_CASES = {
    "grad_nonscalar": lambda L, fl, x: fl.grad(lambda x: x * 2)(x),
    "grad_nontensor": lambda L, fl, x: fl.grad(lambda x: 2.0)(x),
    "grad_aux_not_tuple": lambda L, fl, x: fl.grad(lambda x: x.sum(), has_aux=True)(x),
    "grad_argnum_range": lambda L, fl, x: fl.grad(lambda x: x.sum(), argnums=1)(x),
    "grad_argnum_type": lambda L, fl, x: fl.grad(lambda x: x.sum(), argnums="a")(x),
    "grad_argnums_empty": lambda L, fl, x: fl.grad(lambda x: x.sum(), argnums=())(x),
    "grad_argnums_dup": lambda L, fl, x: fl.grad(lambda x, y: x.sum(), argnums=(0, 0))(x, x),
    "grad_int_input": lambda L, fl, x: fl.grad(lambda x: x.sum())(L.tensor([1, 2])),
    "grad_number_input": lambda L, fl, x: fl.grad(lambda x: x)(3.0),
    "vjp_aux_bad": lambda L, fl, x: fl.vjp(lambda x: x * 2, x, has_aux=True),
    "vjp_nontensor": lambda L, fl, x: fl.vjp(lambda x: 2.0, x),
    "vjp_fn_shape": lambda L, fl, x: fl.vjp(lambda x: x * 2, x)[1](L.ones(2)),
    "vjp_fn_structure": lambda L, fl, x: fl.vjp(lambda x: x * 2, x)[1]((L.ones(3),)),
    "jvp_primals_not_tuple": lambda L, fl, x: fl.jvp(lambda x: x * 2, x, (L.ones(3),)),
    "jvp_structure": lambda L, fl, x: fl.jvp(lambda x: x * 2, (x,), (L.ones(3), L.ones(3))),
    "jvp_tangent_shape": lambda L, fl, x: fl.jvp(lambda x: x * 2, (x,), (L.ones(2),)),
    "jvp_tangent_type": lambda L, fl, x: fl.jvp(lambda x: x, (x,), (1.0,)),
    "jvp_out_type": lambda L, fl, x: fl.jvp(lambda x: 1.0, (x,), (x,)),
    "jvp_aux_bad": lambda L, fl, x: fl.jvp(lambda x: x, (x,), (x,), has_aux=True),
    "jacrev_nontensor": lambda L, fl, x: fl.jacrev(lambda x: 1.0)(x),
    "jacrev_aux_bad": lambda L, fl, x: fl.jacrev(lambda x: x, has_aux=True)(x),
    "jacrev_chunk": lambda L, fl, x: fl.jacrev(lambda x: x, chunk_size=0)(x),
    "jacfwd_randomness": lambda L, fl, x: fl.jacfwd(lambda x: x, randomness="bad")(x),
    "vmap_size_mismatch": lambda L, fl, x: fl.vmap(lambda a, b: a * b)(L.ones(2, 3), L.ones(3, 3)),
    "vmap_in_dims_structure": lambda L, fl, x: fl.vmap(lambda a, b: a * b, in_dims=(0,))(L.ones(2), L.ones(2)),
    "vmap_in_dim_range": lambda L, fl, x: fl.vmap(lambda a: a, in_dims=2)(L.ones(2, 3)),
    "vmap_in_dims_none": lambda L, fl, x: fl.vmap(lambda a: a, in_dims=None)(L.ones(2, 3)),
    "vmap_in_dims_str": lambda L, fl, x: fl.vmap(lambda a: a, in_dims="a")(L.ones(2, 3)),
    "vmap_in_dim_float": lambda L, fl, x: fl.vmap(lambda a: a, in_dims=(1.5,))(L.ones(2, 3)),
    "vmap_all_none": lambda L, fl, x: fl.vmap(lambda a: a, in_dims=(None,))(L.ones(2, 3)),
    "vmap_zero_d": lambda L, fl, x: fl.vmap(lambda a: a)(L.tensor(1.0)),
    "vmap_number": lambda L, fl, x: fl.vmap(lambda a: a)(1.0),
    "vmap_no_inputs": lambda L, fl, x: fl.vmap(lambda: 1)(),
    "vmap_out_nontensor": lambda L, fl, x: fl.vmap(lambda a: 1.0)(L.ones(2, 3)),
    "vmap_out_dims_structure": lambda L, fl, x: fl.vmap(lambda a: (a, a), out_dims=(0,))(L.ones(2, 3)),
    "vmap_out_dim_range": lambda L, fl, x: fl.vmap(lambda a: a, out_dims=3)(L.ones(2, 3)),
    "vmap_out_none_batched": lambda L, fl, x: fl.vmap(lambda a: (a, a.sum()), out_dims=(0, None))(
        L.ones(2, 3) * x[:, None][:2]),
    "vmap_randomness": lambda L, fl, x: fl.vmap(lambda a: a, randomness="bad"),
    "vmap_chunk": lambda L, fl, x: fl.vmap(lambda a: a, chunk_size=0),
}


@pytest.mark.parametrize("name", sorted(ERROR_CASES))
def test_func_errors_like_torch(torch, name):
    _errors_alike(ERROR_CASES[name], torch)


def test_func_gradcheck():
    """Derivatives of transformed functions are themselves correct (float64 gradcheck)."""
    m = ndgrad.tensor(MN)
    x = ndgrad.tensor(XN, requires_grad=True)
    assert ndgrad.autograd.gradcheck(lambda x: NF.grad(lambda z: (z.sin() * z ** 2).sum())(x), (x,))
    assert ndgrad.autograd.gradcheck(lambda x: NF.jacrev(lambda z: (m @ z).tanh() * z)(x), (x,))
    assert ndgrad.autograd.gradcheck(lambda x: NF.vmap(lambda r: (r * x).sin())(m), (x,))
    assert ndgrad.autograd.gradcheck(
        lambda x: ndgrad.autograd.functional.jacobian(lambda z: z.sin() * z.sum(), x, create_graph=True), (x,))


def test_top_level_results_have_no_graph():
    x = ndgrad.tensor(XN)
    assert not NF.grad(lambda z: (z ** 2).sum())(x).requires_grad
    assert not NF.jacrev(lambda z: z.sin())(x).requires_grad
    assert not NF.vmap(NF.grad(lambda z: (z ** 2).sum()))(ndgrad.tensor(MN)).requires_grad
    h = NF.hessian(lambda z: (z ** 3).sum())(x)
    assert not h.requires_grad
    np.testing.assert_allclose(h.numpy(), np.diag(6 * XN))


# -- functional_call -------------------------------------------------------------------------------------------
def _linear(lib):
    lin = lib.nn.Linear(2, 2).double()
    with lib.no_grad():
        lin.weight.copy_(lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64))
        lin.bias.copy_(lib.tensor([0.5, -0.5], dtype=lib.float64))
    return lin


def test_functional_call(torch):
    if not hasattr(ndgrad, "nn") or not hasattr(ndgrad.nn, "Linear"):
        pytest.skip("ndgrad.nn.Linear is not available yet")
    import torch.func as TF
    res = []
    for lib, fl in ((ndgrad, NF), (torch, TF)):
        lin = _linear(lib)
        x = lib.tensor([[1.0, -1.0]], dtype=lib.float64)
        w = lib.tensor([[0.0, 1.0], [1.0, 0.0]], dtype=lib.float64, requires_grad=True)
        out = fl.functional_call(lin, {"weight": w}, (x,))
        out.sum().backward()
        out2 = fl.functional_call(lin, ({"weight": w}, {"bias": lib.zeros(2, dtype=lib.float64)}), x)
        params = {k: v.detach() for k, v in lin.named_parameters()}
        g = fl.grad(lambda p: fl.functional_call(lin, p, (x,)).pow(2).sum())(params)
        res.append((out.detach(), w.grad, out2.detach(), g, lin.weight.detach(), lin.weight.grad))
    _same(*res)


@pytest.mark.parametrize("case", range(3))
def test_functional_call_errors(torch, case):
    if not hasattr(ndgrad, "nn") or not hasattr(ndgrad.nn, "Linear"):
        pytest.skip("ndgrad.nn.Linear is not available yet")
    import torch.func as TF

    def f(lib, fl):
        lin = _linear(lib)
        x = lib.ones(1, 2, dtype=lib.float64)
        w = lib.zeros(2, 2, dtype=lib.float64)
        if case == 0:
            return fl.functional_call(lin, {"weight": w, "foo": lib.ones(1)}, (x,), strict=True)
        if case == 1:
            return fl.functional_call(lin, ({"weight": w}, {"weight": w}), (x,))
        return fl.functional_call(lin, 3, (x,))
    got = outcome(lambda _: f(ndgrad, NF), None)
    want = outcome(lambda _: f(torch, TF), None)
    assert want is not None and got == want, (got, want)


# -- autograd.functional.jacobian / hessian on the batched engine --------------------------------------------
def _fun_case(lib, name):
    m = lib.tensor(MN)
    x, y = lib.tensor(XN), lib.tensor(YN)
    F = lib.autograd.functional
    cases = {
        "jac": lambda **kw: F.jacobian(lambda x: (m @ x).tanh() * x, x, **kw),
        "jac_tuple": lambda **kw: F.jacobian(lambda x, y: (x * y, (m @ x).sum(), y[:2] * 2), (x, y), **kw),
        "jac_matrix": lambda **kw: F.jacobian(lambda a: (a @ a.t())[1:], m, **kw),
        "jac_scalar": lambda **kw: F.jacobian(lambda x: (x ** 2).sum(), x, **kw),
        "jac_unused": lambda **kw: F.jacobian(lambda x, y: x.exp(), (x, y), **kw),
        "jac_constant_out": lambda **kw: F.jacobian(lambda x, y: (x * 2, lib.ones(2, dtype=lib.float64)), (x, y), **kw),
        "hess": lambda **kw: F.hessian(lambda x: (x.sin() * x ** 2).sum() + x @ m @ x, x, **kw),
        "hess_tuple": lambda **kw: F.hessian(lambda x, y: (x * y.exp()).sum() + (x ** 3).sum(), (x, y), **kw),
        "hess_linear": lambda **kw: F.hessian(lambda x, y: (x * 2).sum() + y.sum(), (x, y), **kw),
        "hess_shape_1": lambda **kw: F.hessian(lambda a: (a ** 3).sum().reshape(1, 1), m, **kw),
    }
    return cases[name]


FUN_NAMES = ["jac", "jac_tuple", "jac_matrix", "jac_scalar", "jac_unused", "jac_constant_out", "hess", "hess_tuple",
             "hess_linear", "hess_shape_1"]


@pytest.mark.parametrize("kw", [{}, {"vectorize": True}, {"create_graph": True},
                                {"create_graph": True, "vectorize": True}, {"strict": False}])
@pytest.mark.parametrize("name", FUN_NAMES)
def test_functional_matches_torch(torch, name, kw):
    _same(_fun_case(ndgrad, name)(**kw), _fun_case(torch, name)(**kw), grad_fn=True)


@pytest.mark.parametrize("name", ["jac", "jac_tuple", "jac_matrix", "jac_unused", "hess_tuple"])
def test_functional_forward_mode(torch, name):
    key = "strategy" if name.startswith("jac") else "outer_jacobian_strategy"
    kw = {key: "forward-mode", "vectorize": True}
    want = _fun_case(torch, name)(**kw)
    if name.startswith("hess"):  # torch leaves its forward-over-reverse Hessian attached to a graph; ndgrad does not
        want = [[t.detach() for t in row] for row in want]
    _same(_fun_case(ndgrad, name)(**kw), want, grad_fn=True)


@pytest.mark.parametrize("kw", [{"strategy": "forward-mode"}, {"strategy": "forward-mode", "vectorize": True,
                                                                "create_graph": True},
                                {"strategy": "forward-mode", "vectorize": True, "strict": True},
                                {"vectorize": True, "strict": True}, {"strict": True}])
@pytest.mark.parametrize("name", ["jac", "jac_unused", "jac_constant_out"])
def test_functional_errors_and_strict(torch, name, kw):
    got = outcome(lambda _: _fun_case(ndgrad, name)(**kw), None)
    want = outcome(lambda _: _fun_case(torch, name)(**kw), None)
    assert got == want, (got, want)
    if want is None:
        _same(_fun_case(ndgrad, name)(**kw), _fun_case(torch, name)(**kw))


def test_hessian_forward_mode_needs_vectorize(torch):
    f = lambda lib: lib.autograd.functional.hessian(lambda x: (x ** 3).sum(), lib.tensor(XN),  # noqa: E731
                                                    outer_jacobian_strategy="forward-mode")
    assert outcome(f, ndgrad) == outcome(f, torch) is not None


def test_functional_uses_one_batched_pass():
    """The default jacobian runs one batched backward pass, not one pass per output element."""
    from ndgrad.autograd import _batched
    calls = []
    orig = _batched.run_batched_backward

    def spy(*a, **k):
        calls.append(1)
        return orig(*a, **k)
    _batched.run_batched_backward = spy
    try:
        m = ndgrad.tensor(MN)
        ndgrad.autograd.functional.jacobian(lambda x: (m @ x).tanh() * x, ndgrad.tensor(XN))
        ndgrad.autograd.functional.hessian(lambda x: (x.sin() * x ** 2).sum(), ndgrad.tensor(XN))
    finally:
        _batched.run_batched_backward = orig
    assert len(calls) == 2


# -- vmap randomness ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("body", ["rand", "dropout", "rand_generator"])
def test_vmap_randomness_error_mode(torch, body):
    def f(lib):
        gen = lib.Generator()
        fns = {"rand": lambda x: x + lib.rand(3), "dropout": lambda x: lib.nn.functional.dropout(x, 0.5),
               "rand_generator": lambda x: x + lib.rand(3, generator=gen)}
        return lib.func.vmap(fns[body])(lib.zeros(2, 3))
    _raises_like_torch(f, torch, RuntimeError, ndgrad._creation.RANDOM_IN_VMAP_MSG)


def test_vmap_randomness_same_and_different():
    ndgrad.manual_seed(0)
    same = ndgrad.func.vmap(lambda x: x + ndgrad.rand(3), randomness="same")(ndgrad.zeros(4, 3))
    assert all(same[i].tolist() == same[0].tolist() for i in range(4))
    diff = ndgrad.func.vmap(lambda x: x + ndgrad.rand(3), randomness="different")(ndgrad.zeros(4, 3))
    assert len({tuple(r) for r in diff.tolist()}) == 4
    # outside vmap, random ops work again
    assert ndgrad.rand(2).shape == (2,)
