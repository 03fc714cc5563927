"""vmap's batched path (func/_batching.py) against the per-element loop, and against torch.func.

Each case runs twice: through the batching rules (asserting that they were used, not the loop) and through the
loop the rules replace; the results must agree to float rounding. Where torch is installed, per-sample gradients,
ensembles and the error texts are compared with torch.func too."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import ndgrad
from ndgrad.func import _batching, functional_call, grad, jacrev, stack_module_state, vmap

RNG = np.random.default_rng(0)


def _t(*shape):
    return ndgrad.tensor(RNG.standard_normal(shape))


def _loop(f, in_dims, out_dims, args, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(_batching, "run", lambda *a, **k: None)
        return vmap(f, in_dims, out_dims)(*args)


def _batched(f, in_dims, out_dims, args, monkeypatch):
    used = []
    real = _batching.run

    def spy(*a, **k):
        r = real(*a, **k)
        used.append(r is not None)
        return r
    with monkeypatch.context() as m:
        m.setattr(_batching, "run", spy)
        v = vmap(f, in_dims, out_dims)
        out = v(*args)
        again = v(*args)  # the generated program, where the first call could cache one
    assert used and used[-1], "the batched path was not taken"  # (an inner vmap, traced by the outer, loops)
    fa, fb = ndgrad.func._flatten(out)[0], ndgrad.func._flatten(again)[0]
    assert all(x.shape == y.shape and np.array_equal(x.numpy(), y.numpy(), equal_nan=True) for x, y in zip(fa, fb))
    return out


def _close(a, b):
    fa, fb = ndgrad.func._flatten(a)[0], ndgrad.func._flatten(b)[0]
    assert len(fa) == len(fb)
    for x, y in zip(fa, fb):
        assert x.shape == y.shape and x.dtype == y.dtype
        np.testing.assert_allclose(x.numpy(), y.numpy(), rtol=1e-12, atol=1e-12)


M = _t(4, 3, 5)
CASES = {
    # name: (f, in_dims, out_dims, args)
    "pointwise": (lambda a: (a.sin() * 2 + a.exp()).tanh(), 0, 0, (M,)),
    "broadcast with unbatched": (lambda a, b: a * b - b.mean(), (0, None), 0, (_t(4, 5), _t(3, 5))),
    "in_dim 1, out_dim 1": (lambda a: a.cos() / 3, 1, 1, (M,)),
    "negative in_dim": (lambda a: a.abs().sqrt(), -1, 0, (M,)),
    "reductions": (lambda a: a.sum(0) + a.mean(-1, keepdim=True).sum() + a.amax(1).sum(), 0, 0, (M,)),
    "softmax / log_softmax": (lambda a: a.softmax(-1) + a.log_softmax(0), 0, 0, (M,)),
    "views": (lambda a: a.transpose(0, 1).reshape(-1)[2:9].view(7, 1).expand(7, 3), 0, 0, (M,)),
    "permute + flatten": (lambda a: a.permute(1, 0).flatten(), 0, 0, (M,)),
    "indexing": (lambda a: a[1:, ::2].sum() + a[0] * a[..., -1:], 0, 0, (M,)),
    "cat / stack": (lambda a, b: ndgrad.cat([a, b], 0).sum(1) + ndgrad.stack([a[0], b[0]]).sum(), (0, None), 0,
                    (_t(4, 3, 2), _t(5, 2))),
    "matmul batched @ unbatched": (lambda a, w: a @ w, (0, None), 0, (M, _t(5, 2))),
    "matmul unbatched @ batched": (lambda a, w: w @ a, (0, None), 0, (_t(4, 5, 2), _t(3, 5))),
    "matmul both batched": (lambda a, b: a @ b, (0, 0), 0, (M, _t(4, 5, 2))),
    "vector @ matrix": (lambda v, w: v @ w, (0, None), 0, (_t(4, 5), _t(5, 3))),
    "matrix @ vector (batched vector)": (lambda v, w: w @ v, (0, None), 0, (_t(4, 5), _t(3, 5))),
    "dot": (lambda u, v: ndgrad.dot(u, v), (0, 0), 0, (_t(4, 5), _t(4, 5))),
    "linear + layer_norm": (lambda a, w, b: ndgrad.nn.functional.layer_norm(ndgrad.nn.functional.linear(a, w, b), (2,)),
                            (0, None, None), 0, (M, _t(2, 5), _t(2))),
    "einsum": (lambda a, b: ndgrad.einsum("ij,jk->ik", a, b), (0, None), 0, (M, _t(5, 2))),
    "where / clamp": (lambda a: ndgrad.where(a > 0, a, a * 0.1).clamp(-0.5, 0.5), 0, 0, (M,)),
    "several outputs": (lambda a: (a.max(-1).values, a.argmax(-1), a.sum()), 0, 0, (M,)),
    "unbatched output is stacked": (lambda a, b: (a * 2, b * 3), (0, None), 0, (M, _t(2))),
    "kwargs and pytrees": (lambda d: d["x"] * d["y"][0], ({"x": 0, "y": [None]},), 0,
                           ({"x": M, "y": [_t(5)]},)),
    "grad inside (per-sample gradients)": (grad(lambda w, x: ((x @ w).tanh() ** 2).sum()), (None, 0), 0,
                                           (_t(5, 3), _t(4, 2, 5))),
    "jacrev inside": (jacrev(lambda x: x.sin() * x.sum()), 0, 0, (_t(4, 3),)),
    "nested vmap": (vmap(lambda r: (r * r.sum()).exp()), 1, 0, (M,)),
    "gather / scatter with batched indices": (
        lambda a, i: a.gather(0, i) + a.scatter(0, i, a.gather(0, i) * 2).sum(),
        (0, 0), 0, (_t(4, 5), ndgrad.tensor(RNG.integers(0, 5, (4, 3))))),
    "index by a batched index tensor": (lambda a, i: a[i] * 2, (0, 0), 0, (_t(4, 5, 2), ndgrad.tensor(
        RNG.integers(0, 5, (4, 3))))),
    "index put with batched values": (lambda a, v: a.index_put((ndgrad.tensor([0, 2]),), v), (0, 0), 0,
                                      (_t(4, 5), _t(4, 2))),
    "max pool backward": (grad(lambda x: ndgrad.nn.functional.max_pool2d(x[None], 2).sum()), 0, 0,
                          (_t(4, 2, 4, 4),)),
}


@pytest.mark.parametrize("name", CASES)
def test_batched_equals_the_loop(name, monkeypatch):
    f, ind, outd, args = CASES[name]
    _close(_batched(f, ind, outd, args, monkeypatch), _loop(f, ind, outd, args, monkeypatch))


def test_random_in_dims_over_the_pointwise_and_reduction_ops(monkeypatch):
    """Like the OpInfo tests for gradients: every rule against the loop with each possible in_dim."""
    fns = [lambda a: a.exp(), lambda a: a.sum(-1), lambda a: a.mean(0), lambda a: a.transpose(0, 1),
           lambda a: a.reshape(-1), lambda a: a.cumsum(1), lambda a: a.softmax(1), lambda a: a @ a.T,
           lambda a: a.unsqueeze(1).squeeze(1), lambda a: a.flip(0), lambda a: a.var(1), lambda a: a.norm()]
    x = _t(3, 4, 5)
    for f in fns:
        for d in (0, 1, 2, -1):
            _close(_batched(f, d, 0, (x,), monkeypatch), _loop(f, d, 0, (x,), monkeypatch))


def test_a_call_without_a_rule_runs_per_element_with_one_warning(monkeypatch):
    _batching._WARNED.discard("det")
    f = lambda a: ndgrad.linalg.det(a) * 2  # noqa: E731
    x = _t(4, 3, 3)
    with pytest.warns(UserWarning, match="batching rule for det"):
        out = _batched(f, 0, 0, (x,), monkeypatch)
    _close(out, _loop(f, 0, 0, (x,), monkeypatch))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _batched(f, 0, 0, (x,), monkeypatch)  # warned once


def test_randomness_modes():
    x = ndgrad.zeros(4, 3)
    ndgrad.manual_seed(0)
    same = vmap(lambda a: a + ndgrad.rand(3), randomness="same")(x)
    assert all(ndgrad.equal(same[0], same[i]) for i in range(4))
    different = vmap(lambda a: a + ndgrad.rand(3), randomness="different")(x)
    assert not ndgrad.equal(different[0], different[1])
    with pytest.raises(RuntimeError, match="randomness error mode"):
        vmap(lambda a: a + ndgrad.rand(3))(x)


def test_randomness_different_draws_what_the_loop_draws(monkeypatch):
    f = lambda a: ndgrad.nn.functional.dropout(a, 0.5) + ndgrad.randn(3)  # noqa: E731
    x = _t(4, 3)
    ndgrad.manual_seed(1)
    a = vmap(f, randomness="different")(x)
    ndgrad.manual_seed(1)
    with monkeypatch.context() as m:
        m.setattr(_batching, "run", lambda *a, **k: None)
        b = vmap(f, randomness="different")(x)
    _close(a, b)


def test_inputs_that_require_grad_keep_their_graph():
    w = _t(3).requires_grad_()
    out = vmap(lambda r: (r * w).sin())(_t(4, 3))
    out.sum().backward()
    assert w.grad is not None and w.grad.shape == (3,)


# -- torch's errors --------------------------------------------------------------------------------------------------
ERRORS = {
    "data-dependent control flow": lambda L, F: F.vmap(lambda a: a * 2 if a.sum() > 0 else a)(L.ones(3, 2)),
    ".item()": lambda L, F: F.vmap(lambda a: a * a.sum().item())(L.ones(3, 2)),
    "float()": lambda L, F: F.vmap(lambda a: a * float(a.sum()))(L.ones(3, 2)),
    "in-place into an unbatched input": lambda L, F: F.vmap(lambda a, b: b.add_(a), in_dims=(0, None))(
        L.ones(3, 2), L.zeros(2)),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors_are_torch_s(name, torch):
    with pytest.raises(RuntimeError) as ours:
        ERRORS[name](ndgrad, ndgrad.func)
    with pytest.raises(RuntimeError) as theirs:
        ERRORS[name](torch, torch.func)
    assert str(ours.value) == str(theirs.value)


# -- against torch.func ----------------------------------------------------------------------------------------------
def _mlp_loss(lib):
    def loss(p, x, y):
        w1, b1, w2, b2 = p
        h = lib.tanh(x @ w1.T + b1)
        return ((h @ w2.T + b2 - y) ** 2).mean()
    return loss


def test_per_sample_gradients_match_torch_func(torch):
    p = [RNG.standard_normal(s) for s in ((32, 16), (32,), (4, 32), (4,))]
    x, y = RNG.standard_normal((64, 16)), RNG.standard_normal((64, 4))
    ours = vmap(grad(_mlp_loss(ndgrad)), in_dims=(None, 0, 0))([ndgrad.tensor(a) for a in p], ndgrad.tensor(x),
                                                             ndgrad.tensor(y))
    theirs = torch.func.vmap(torch.func.grad(_mlp_loss(torch)), in_dims=(None, 0, 0))(
        [torch.tensor(a) for a in p], torch.tensor(x), torch.tensor(y))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)


def test_ensemble_with_functional_call_matches_torch(torch):
    ndgrad.manual_seed(0)
    torch.manual_seed(0)
    t_models = [torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2)).double()
                for _ in range(10)]
    n_models = [ndgrad.nn.Sequential(ndgrad.nn.Linear(5, 8), ndgrad.nn.ReLU(), ndgrad.nn.Linear(8, 2)).double()
                for _ in range(10)]
    for a, b in zip(n_models, t_models):
        a.load_state_dict({k: ndgrad.tensor(v.detach().numpy()) for k, v in b.state_dict().items()})
    x = RNG.standard_normal((6, 5))
    results = []
    for lib, models in ((ndgrad, n_models), (torch, t_models)):
        params, buffers = lib.func.stack_module_state(models)
        base = models[0]

        def call(p, b, inp, base=base, lib=lib):
            return lib.func.functional_call(base, (p, b), (inp,))
        results.append(lib.func.vmap(call, in_dims=(0, 0, None))(params, buffers, lib.tensor(x)).detach().numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-10, atol=1e-12)
    assert stack_module_state and functional_call  # the names ndgrad.func exports


def test_per_sample_gradients_of_a_small_cnn(monkeypatch):
    conv = ndgrad.nn.Conv2d(1, 4, 3).double()
    lin = ndgrad.nn.Linear(4 * 3 * 3, 3).double()
    params = {k: v.detach() for k, v in {**{"c." + n: p for n, p in conv.named_parameters()},
                                        **{"l." + n: p for n, p in lin.named_parameters()}}.items()}

    def loss(p, x, y):
        h = ndgrad.nn.functional.conv2d(x[None], p["c.weight"], p["c.bias"]).relu()
        h = ndgrad.nn.functional.max_pool2d(h, 2).flatten(1)
        return ndgrad.nn.functional.cross_entropy(ndgrad.nn.functional.linear(h, p["l.weight"], p["l.bias"]),
                                                  y[None])
    x, y = ndgrad.tensor(RNG.standard_normal((6, 1, 8, 8))), ndgrad.tensor(RNG.integers(0, 3, 6))
    f = grad(loss)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # calls without a rule run per element
        a = _batched(f, (None, 0, 0), 0, (params, x, y), monkeypatch)
    _close(a, _loop(f, (None, 0, 0), 0, (params, x, y), monkeypatch))


# -- the cache: later calls run the generated batched program -------------------------------------------------------
def _cache_of(v):
    import inspect
    return inspect.getclosurevars(v).nonlocals["cache"]


def test_later_calls_run_the_generated_program_and_see_new_data():
    v = vmap(grad(lambda w, x: ((x @ w).tanh() ** 2).sum()), in_dims=(None, 0))
    w, x = _t(5, 3), _t(4, 2, 5)
    first = v(w, x)
    assert len(_cache_of(v)) == 1
    w2, x2 = _t(5, 3), _t(4, 2, 5)
    with pytest.MonkeyPatch.context() as m:  # the cached program runs: no element is traced
        m.setattr(_batching, "trace", lambda *a, **k: pytest.fail("traced again"))
        second = v(w2, x2)
    ref = [grad(lambda w, x: ((x @ w).tanh() ** 2).sum())(w2, x2[b]) for b in range(4)]
    _close(second, ndgrad.stack(ref))
    assert not ndgrad.equal(first, second)
    v(w, _t(6, 2, 5))  # another batch size: another entry
    assert len(_cache_of(v)) == 2


SCALE = 2.0


def test_a_changed_global_or_closure_value_is_not_replayed():
    global SCALE
    k = [3.0]

    def make(c):
        return lambda a: a * SCALE + c
    v = vmap(make(k[0]))
    x = _t(4, 3)
    try:
        _close(v(x), x * 2.0 + 3.0)
        SCALE = 5.0
        _close(v(x), x * 5.0 + 3.0)
    finally:
        SCALE = 2.0


def test_a_failing_internal_check_leaves_the_cached_program():
    f = lambda logits, y: ndgrad.nn.functional.cross_entropy(logits[None], y[None])  # noqa: E731
    v = vmap(f)
    x = _t(4, 3)
    v(x, ndgrad.tensor([0, 1, 2, 1]))
    v(x, ndgrad.tensor([0, 1, 2, 1]))
    with pytest.raises(IndexError) as ours:
        v(x, ndgrad.tensor([0, 1, 7, 1]))  # a target out of range: eager mode's error, not a stale answer
    with pytest.raises(IndexError) as eager:
        f(x[2], ndgrad.tensor(7))
    assert str(ours.value) == str(eager.value)


def test_in_place_writes_into_batched_inputs_repeat_on_every_call():
    v = vmap(lambda a: a.mul_(2).sum())
    x = _t(4, 3)
    ref = x.clone()
    v(x)
    v(x)
    v(x)
    _close(x, ref * 8)


def test_captured_tensors_are_read_at_every_call():
    w = _t(3)
    v = vmap(lambda a: a * w)
    x = _t(4, 3)
    _close(v(x), x * w)
    w.mul_(3)
    _close(v(x), x * w)
    w.data = _t(3)
    _close(v(x), x * w)


def test_an_empty_batch_gives_empty_results_as_torch(torch):
    for lib in (ndgrad, torch):
        x = lib.ones(0, 3)
        r = lib.func.vmap(lambda a: (a.sin().sum(), a * 2, a.sum(0)))(x)
        if lib is ndgrad:
            ours = [(tuple(t.shape), str(t.dtype)) for t in r]
        else:
            assert ours == [(tuple(t.shape), str(t.dtype)) for t in r]


def test_the_default_dtype_is_part_of_the_cache_key():
    v = vmap(lambda x: x * 2 + ndgrad.ones(3))
    xi = ndgrad.ones(2, 3, dtype=ndgrad.int64)
    assert v(xi).dtype == v(xi).dtype == ndgrad.float32
    try:
        ndgrad.set_default_dtype(ndgrad.float64)
        assert v(xi).dtype == ndgrad.float64
    finally:
        ndgrad.set_default_dtype(ndgrad.float32)


def test_per_sample_gradients_of_a_small_cnn_run_the_cached_program(monkeypatch):
    """Two things once made every call of this vmap trace again, at ten times the cost: relu's shared 0-d zero
    (taken for an array from outside the inputs) and nll_loss's `logp[arange(n), target]` with a batched target
    (looped per element, with a performance warning)."""
    F = ndgrad.nn.functional
    p = {"cw": _t(4, 1, 3, 3), "cb": _t(4), "lw": _t(3, 4 * 3 * 3), "lb": _t(3)}
    x, y = _t(5, 1, 8, 8), ndgrad.tensor([0, 2, 1, 1, 0])

    def loss(params, xb, yb):
        h = F.max_pool2d(F.conv2d(xb[None], params["cw"], params["cb"]).relu(), 2).flatten(1)
        return F.cross_entropy(F.linear(h, params["lw"], params["lb"]), yb[None])
    traces, looped = [], []
    real, real_loop = _batching.trace, _batching._loop
    monkeypatch.setattr(_batching, "trace", lambda *a, **k: (traces.append(1), real(*a, **k))[1])
    monkeypatch.setattr(_batching, "_loop", lambda env, fn, a, k: (looped.append(fn), real_loop(env, fn, a, k))[1])
    f = vmap(grad(loss), in_dims=(None, 0, 0))
    first, second = f(p, x, y), f(p, x, y)
    assert len(traces) == 1 and looped == []
    want = _loop(grad(loss), (None, 0, 0), 0, (p, x, y), monkeypatch)
    for k in p:
        _close(first[k], want[k])
        _close(second[k], want[k])


def test_advanced_index_tuples_with_batched_indices(monkeypatch):
    """t[i, j] and t[i, j] = v with integer index arrays, some batched, some shared, on batched and shared t: the
    batching rule, not the per-element loop."""
    shared = _t(3, 4)
    cols = ndgrad.tensor([0, 3])

    def pick(t, i):
        return t[ndgrad.arange(2), i], shared[i, cols], t[1, i]

    def put(t, i, val):
        t = t.clone()
        t[ndgrad.arange(2), i] = val
        return t
    t, i, val = _t(5, 2, 4), ndgrad.tensor(RNG.integers(0, 3, (5, 2))), _t(5, 2)
    looped = []
    real = _batching._loop
    monkeypatch.setattr(_batching, "_loop", lambda env, fn, a, k: (looped.append(fn), real(env, fn, a, k))[1])
    picked, written = vmap(pick)(t, i), vmap(put)(t, i, val)
    assert looped == []
    for k, got in enumerate(picked):
        _close(got, ndgrad.stack([pick(t[b], i[b])[k] for b in range(5)]))
    _close(written, ndgrad.stack([put(t[b], i[b], val[b]) for b in range(5)]))


def test_a_batched_matrix_times_a_shared_one_is_one_product_as_in_torch(torch):
    """pytorch/tutorials' jacobians_hessians asserts allclose(vmap(jacrev(f))(x), jacrev(f summed)(x).movedim):
    torch's batching rule makes the elements' F.linear one product of all rows, the summed version's own, so the
    two agree bit for bit (the per-element loop does not). Each element's (1, k) @ (k, m) taken apart by NumPy
    differed from the summed version by up to 5e-6 at saturated tanh, which failed the assertion."""
    same = []
    for lib in (ndgrad, torch):
        fn = lib.func
        lib.manual_seed(0)
        w, b, x = lib.randn(33, 31), lib.randn(33), lib.randn(64, 31)

        def predict(w, b, x):
            return lib.nn.functional.linear(x, w, b).tanh()
        j0 = fn.vmap(fn.jacrev(predict, argnums=2), in_dims=(None, None, 0))(w, b, x)
        j1 = fn.jacrev(lambda w, b, x: predict(w, b, x).sum(0), argnums=2)(w, b, x).movedim(1, 0)
        same.append(bool(lib.equal(j0, j1)))
    assert same == [True, True]
