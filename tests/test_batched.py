"""autograd.grad(..., is_grads_batched=True): the batched engine (autograd/_batched.py).

Every batched result must equal the per-row loop of ordinary backward passes, for op mixes that exercise
each kind of batch rule (elementwise, batch-aware shape/reduction/matmul formulas, indexing, cat/stack,
and the per-row fallback), with and without create_graph; errors are torch's.
"""
from __future__ import annotations

import numpy as np
import pytest

import ndgrad
from ndgrad.autograd import _batched
from torchcmp import raises_like_torch

B = 3


def _leaves(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [ndgrad.tensor(rng.standard_normal(s) + 0.5, requires_grad=True) for s in shapes]


def _check(f, shapes, seed=0, create_graph=False, vectorized=None):
    """Batched grad == loop of ordinary grads (and, under create_graph, their derivatives agree too)."""
    xs = _leaves(shapes, seed)
    ys = f(*xs)
    ys = ys if isinstance(ys, tuple) else (ys,)
    rng = np.random.default_rng(seed + 1)
    vs = [ndgrad.tensor(rng.standard_normal((B,) + tuple(y.shape))) for y in ys]
    calls = []
    orig = _batched._apply_loop

    def spy(node, buf, graph, b):
        calls.append(node.name())
        return orig(node, buf, graph, b)

    _batched._apply_loop = spy
    try:
        got = ndgrad.autograd.grad(ys, xs, vs, retain_graph=True, allow_unused=True, is_grads_batched=True,
                                   create_graph=create_graph)
    finally:
        _batched._apply_loop = orig
    for k, x in enumerate(xs):
        rows = [ndgrad.autograd.grad(ys, xs, [v[b] for v in vs], retain_graph=True, allow_unused=True,
                                     create_graph=create_graph)[k] for b in range(B)]
        if got[k] is None:
            assert all(r is None for r in rows)
            continue
        assert tuple(got[k].shape) == (B,) + tuple(x.shape)
        assert got[k].dtype == x.dtype
        want = np.stack([np.zeros(x.shape) if r is None else r.detach().numpy() for r in rows])
        np.testing.assert_allclose(got[k].detach().numpy(), want, rtol=1e-10, atol=1e-12)
        if create_graph and got[k].requires_grad:
            w = ndgrad.tensor(np.random.default_rng(seed + 2).standard_normal((B,) + tuple(x.shape)))
            d1 = ndgrad.autograd.grad((got[k] * w).sum(), xs, retain_graph=True, allow_unused=True)
            loop_sum = sum((r * w[b]).sum() for b, r in enumerate(rows) if r is not None and r.requires_grad)
            d2 = ndgrad.autograd.grad(loop_sum, xs, retain_graph=True, allow_unused=True)
            for a, c in zip(d1, d2):
                if a is None or c is None:
                    assert (a is None or not a.detach().numpy().any()) and (c is None or not c.detach().numpy().any())
                else:
                    np.testing.assert_allclose(a.numpy(), c.numpy(), rtol=1e-10, atol=1e-12)
    if vectorized is True:
        assert calls == [], calls
    elif vectorized is False:
        assert calls, "expected a per-row fallback"
    return got


A4 = np.random.default_rng(7).standard_normal((4, 4))

VECTORIZED = {
    "elementwise": (lambda x: ndgrad.sin(x) * x ** 2 + ndgrad.cos(x) - x.exp() / (1 + x * x), [(4,)]),
    "unary_mix": (lambda x: ndgrad.tanh(x).sigmoid().abs().sqrt() + x.clamp(-0.2, 0.8) - (-x).relu(), [(2, 3)]),
    "broadcast": (lambda a, b: a * b + a / (b * b + 1) - (b * b + 0.1) ** a, [(3, 1), (1, 4)]),
    "zero_d": (lambda a, b: a * b + b.sin(), [(), (3,)]),
    "where_max": (lambda a, b: ndgrad.where(a > 0.5, a * b, b) + ndgrad.maximum(a, b), [(3,), (3,)]),
    "sum_mean": (lambda x: x.sum() * x + x.sum(1, keepdim=True) * x.mean(0) + x.mean(), [(3, 4)]),
    "sum_dims": (lambda x: x.sum((0, 2)) + x.mean(-1).sum(0), [(2, 3, 3)]),
    "reshape_view": (lambda x: (x.reshape(6, 2) * 2).view(3, 4).flatten().unsqueeze(1).squeeze(), [(3, 4)]),
    "transpose": (lambda x: x.transpose(0, 2) * x.permute(2, 1, 0) + x.transpose(-1, 0) * 0, [(2, 3, 2)]),
    "t_T": (lambda x: x.t() @ x + x.T.sin(), [(3, 3)]),
    "expand": (lambda x: x.expand(3, 4) * ndgrad.arange(4.0, dtype=ndgrad.float64), [(3, 1)]),
    "mm": (lambda a, b: ndgrad.mm(a, b).sin(), [(2, 3), (3, 4)]),
    "linear_addmm": (lambda x, w, b: ndgrad.nn.functional.linear(x, w, b).tanh() +
                     ndgrad.addmm(b, x[None], w.t(), beta=0.5, alpha=-2.0), [(3,), (5, 3), (5,)]),
    "mv_dot": (lambda m, v: ndgrad.mv(m, v) * ndgrad.dot(v, v), [(4, 4), (4,)]),
    "matmul_1d2d": (lambda x: x @ ndgrad.tensor(A4) @ x, [(4,)]),
    "matmul_2d1d": (lambda m, v: m @ v + v @ m, [(4, 4), (4,)]),
    "bmm": (lambda a, b: ndgrad.bmm(a, b), [(2, 2, 3), (2, 3, 2)]),
    "matmul_nd": (lambda a, b: a @ b, [(2, 1, 3, 4), (3, 4, 2)]),
    "outer": (lambda a, b: ndgrad.outer(a, b), [(3,), (2,)]),
    "basic_index": (lambda x: x[0] * x[1:3].sum(0) + x[..., 1:2].sum() + x[None, 2, ::2].sum(), [(4, 3)]),
    "adv_index": (lambda x: x[[0, 2, 2]] * 2 + x[:, [1, 1, 0]].t(), [(3, 3)]),
    "narrow": (lambda x: x.narrow(1, 1, 2) * 3, [(3, 4)]),
    "cat_stack": (lambda a, b: ndgrad.cat([a, b * 2], 1).sum(0) + ndgrad.stack([a[0], b[1]], -1).sum(),
                  [(2, 3), (2, 3)]),
    "activations": (lambda x: ndgrad.nn.functional.gelu(x) * ndgrad.nn.functional.elu(x) +
                    ndgrad.nn.functional.leaky_relu(x, 0.1) + ndgrad.nn.functional.silu(x), [(2, 3)]),
    "softmax": (lambda x: ndgrad.softmax(x, 1) * ndgrad.log_softmax(x, 0) + ndgrad.softmax(x, -1), [(2, 3)]),
    "softmax_0d": (lambda x: ndgrad.softmax(x, 0) + ndgrad.log_softmax(x, -1), [()]),
    "tuple_out": (lambda a, b: (a * b, (a @ b.t()).sum()), [(2, 3), (2, 3)]),
    "unused": (lambda a, b: a * 2, [(2,), (2,)]),
}

VECTORIZED.update({
    "prod_dim": (lambda x: x.prod(1) * x.sum() + x.prod(-1, keepdim=True).sum(), [(2, 3)]),
    "amax_amin": (lambda x: x.amax(0) * x.amin(-1, keepdim=True), [(3, 3)]),
    "cumsum_lse": (lambda x: x.cumsum(0) * x.logsumexp(0) + x.cumsum(-1), [(3, 2)]),
    "cumprod": (lambda x: x.cumprod(1) + x.cumprod(0), [(2, 3)]),
    "var_std_dim": (lambda x: x.var(0) + x.std(1, keepdim=True) * x.var(-1, correction=0, keepdim=True), [(3, 2)]),
    "norm_dim": (lambda x: x.norm(dim=1) + ndgrad.linalg.vector_norm(x, 3, dim=0).sum(), [(3, 2)]),
    "var_norm_all": (lambda x: x.var() + x.norm() * x.std(), [(3, 2)]),
    "gather": (lambda x: x.gather(1, ndgrad.tensor([[0, 0], [1, 0]])) * x[:, :2], [(2, 3)]),
    "index_select": (lambda x: x.index_select(1, ndgrad.tensor([2, 0, 2])) * x.index_select(0, ndgrad.tensor([1])),
                     [(2, 3)]),
    "scatter": (lambda x, s: x.scatter(1, ndgrad.tensor([[2, 0]]), s) * x + x.scatter_add(0, ndgrad.tensor([[1, 0, 1]]),
                                                                                         s[:, :1].expand(1, 3)),
                [(2, 3), (1, 2)]),
})

VECTORIZED.update({
    "max_min_dim": (lambda x: x.max(1)[0] * x.min(0, keepdim=True)[0], [(3, 3)]),
    "sort_topk": (lambda x: x.sort(1)[0] * x.topk(3, 0)[0] + x.sort(-1, descending=True)[0], [(3, 3)]),
    "median_kth_mode": (lambda x: x.median(1)[0] + x.kthvalue(2, 0)[0] * x.mode(1)[0], [(3, 3)]),
    "cummax": (lambda x: x.cummax(1)[0] * x.cummin(0)[0], [(3, 3)]),
    "var_mean": (lambda x: ndgrad.var_mean(x, 1)[0] * ndgrad.std_mean(x, 0)[1], [(3, 3)]),
    "unbind_split": (lambda x: x.unbind(0)[1] * x.split(1, 0)[0].squeeze(0) + x.unbind(-1)[0], [(3, 3)]),
})

LOOPED = {
    "prod_all": (lambda x: x.prod() * x, [(2, 3)]),
    "max_all": (lambda x: x.max() * x.median(), [(3, 3)]),
    "zero_d_dim": (lambda x: x.cumsum(0) * x.logsumexp(0), [()]),
    "det": (lambda x: ndgrad.linalg.det(x) * x, [(3, 3)]),
    "adv_nonadjacent": (lambda x: x[[0, 1], :, [1, 0]] * 2, [(2, 3, 2)]),
}


@pytest.mark.parametrize("name", sorted(VECTORIZED))
def test_batched_equals_loop_vectorized(name):
    f, shapes = VECTORIZED[name]
    _check(f, shapes, vectorized=True)


@pytest.mark.parametrize("name", sorted(LOOPED))
def test_batched_equals_loop_fallback(name):
    f, shapes = LOOPED[name]
    _check(f, shapes, vectorized=False)


@pytest.mark.parametrize("name", ["elementwise", "sum_mean", "mm", "mv_dot", "matmul_1d2d", "basic_index",
                                  "transpose", "broadcast", "zero_d", "t_T", "prod_dim",
                                  "cumsum_lse", "cumprod", "var_std_dim", "norm_dim", "softmax", "activations",
                                  "gather", "index_select", "scatter", "amax_amin",
                                  "max_min_dim", "sort_topk", "unbind_split", "var_mean"])
def test_batched_create_graph(name):
    f, shapes = VECTORIZED[name]
    got = _check(f, shapes, create_graph=True)
    assert any(g is not None and g.requires_grad for g in got)


@pytest.mark.parametrize("name", ["prod_all", "max_all", "zero_d_dim", "det"])
def test_batched_create_graph_fallback(name):
    f, shapes = LOOPED[name]
    _check(f, shapes, create_graph=True)


def test_hessian_rows_are_vectorized():
    """The benchmark's Hessian: its outer batched pass runs over a first-order graph without a per-row loop."""
    x = _leaves([(5,)])[0]
    a = ndgrad.tensor(np.random.default_rng(3).standard_normal((5, 5)))
    y = (ndgrad.sin(x) * x ** 2).sum() + x @ a @ x
    g, = ndgrad.autograd.grad(y, x, create_graph=True)
    _check(lambda z: ndgrad.autograd.grad((ndgrad.sin(z) * z ** 2).sum() + z @ a @ z, z, create_graph=True)[0],
           [(5,)], vectorized=True)
    h, = ndgrad.autograd.grad(g, x, ndgrad.eye(5, dtype=ndgrad.float64), is_grads_batched=True)
    xn = x.detach().numpy()
    want = np.diag(4 * xn * np.cos(xn) + (2 - xn ** 2) * np.sin(xn)) + a.numpy() + a.numpy().T
    np.testing.assert_allclose(h.numpy(), want, rtol=1e-10, atol=1e-12)


def test_custom_function_falls_back():
    class Cube(ndgrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 3 * x * x * g

    _check(lambda x: Cube.apply(x).sin(), [(4,)], vectorized=False)


def test_batch_of_one_and_float32():
    x = ndgrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.sin() * x
    g, = ndgrad.autograd.grad(y, x, ndgrad.ones(1, 3), is_grads_batched=True, retain_graph=True)
    assert g.shape == (1, 3) and g.dtype == ndgrad.float32
    want, = ndgrad.autograd.grad(y.sum(), x)
    np.testing.assert_allclose(g[0].numpy(), want.numpy(), rtol=1e-6)


def test_matches_torch(torch):
    rng = np.random.default_rng(5)
    xn, an = rng.standard_normal((3, 4)), rng.standard_normal((4, 4))
    vn = rng.standard_normal((5, 3, 4))
    res = []
    for lib in (ndgrad, torch):
        x = lib.tensor(xn, requires_grad=True)
        a = lib.tensor(an)
        y = (x @ a).tanh() * x[:, [0, 1, 2, 3]] + x.sum(0)
        g, = lib.autograd.grad(y, x, lib.tensor(vn), is_grads_batched=True)
        res.append(g.detach().numpy())
    np.testing.assert_allclose(res[0], res[1], rtol=1e-10)


def test_materialize_and_unused(torch):
    def f(lib, **kw):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        z = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        return lib.autograd.grad(x * 2, (x, z), lib.eye(3)[:2], is_grads_batched=True, **kw)
    a, b = f(ndgrad, allow_unused=True), f(torch, allow_unused=True)
    assert a[1] is None and b[1] is None
    np.testing.assert_allclose(a[0].numpy(), b[0].numpy())
    a, b = f(ndgrad, materialize_grads=True), f(torch, materialize_grads=True)
    assert tuple(a[1].shape) == tuple(b[1].shape)  # torch materializes unbatched zeros
    raises_like_torch(lambda lib: f(lib), torch, RuntimeError)


@pytest.mark.parametrize("case", range(6))
def test_errors_like_torch(torch, case):
    def f(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 2
        grad = lib.autograd.grad
        if case == 0:
            return grad(y.sum(), x, is_grads_batched=True)
        if case == 1:
            return grad(y, x, lib.ones(3), is_grads_batched=True)
        if case == 2:
            return grad(y, x, lib.ones(2, 4), is_grads_batched=True)
        if case == 3:
            return grad((y, y), (x,), (lib.ones(2, 3), lib.ones(4, 3)), is_grads_batched=True)
        if case == 4:
            return grad(y.sum(), x, lib.ones(()), is_grads_batched=True)
        return grad(y, x, lib.ones(2, 3, dtype=lib.complex64), is_grads_batched=True)
    cls = {0: ValueError, 3: ValueError, 4: IndexError}.get(case, RuntimeError)
    raises_like_torch(f, torch, cls)


def test_complex_matches_loop_and_torch(torch):
    rng = np.random.default_rng(1)
    zn = rng.standard_normal(3) + 1j * rng.standard_normal(3)
    mn = rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3))
    vn = rng.standard_normal((4, 3))
    res = []
    for lib in (ndgrad, torch):
        z = lib.tensor(zn, requires_grad=True)
        y = (lib.mv(lib.tensor(mn), z) * z.sin()).abs()
        res.append(lib.autograd.grad(y, z, lib.tensor(vn), is_grads_batched=True, retain_graph=True)[0].numpy())
        if lib is ndgrad:
            rows = [ndgrad.autograd.grad(y, z, ndgrad.tensor(v), retain_graph=True)[0].numpy() for v in vn]
            np.testing.assert_allclose(res[0], np.stack(rows), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(res[0], res[1], rtol=1e-10, atol=1e-12)
