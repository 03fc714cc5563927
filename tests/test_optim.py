"""optim.SGD and the Optimizer base, compared with PyTorch from identical starting values (row 29)."""
from __future__ import annotations

import numpy as np
import pytest

import ndgrad
from torchcmp import outcome as _outcome, raises_like_torch as _raises_like_torch


RNG = np.random.default_rng(0)
X = RNG.standard_normal((8, 3)).astype(np.float32)
Y = (X @ np.array([1.5, -2.0, 0.5], np.float32) + 0.3 + 0.1 * RNG.standard_normal(8)).astype(np.float32)
W0 = np.array([0.1, 0.2, -0.3], np.float32)
B0 = np.array([0.05], np.float32)


def _train(lib, steps=10, groups=None, **kw):
    """Linear regression trained by SGD; returns the parameters after every step and the losses."""
    w = lib.tensor(W0.copy(), requires_grad=True)
    b = lib.tensor(B0.copy(), requires_grad=True)
    x, y = lib.tensor(X), lib.tensor(Y)
    params = groups(w, b) if groups else [w, b]
    opt = lib.optim.SGD(params, **kw)
    trace = []
    for _ in range(steps):
        opt.zero_grad()
        loss = ((x @ w + b - y) ** 2).mean()
        loss.backward()
        opt.step()
        trace.append((loss.item(), w.detach().numpy().copy(), b.detach().numpy().copy()))
    return trace


def _compare(a, b, rtol=2e-5):
    assert len(a) == len(b)
    for (la, wa, ba), (lb, wb, bb) in zip(a, b):
        assert la == pytest.approx(lb, rel=rtol)
        np.testing.assert_allclose(wa, wb, rtol=rtol, atol=1e-6)
        np.testing.assert_allclose(ba, bb, rtol=rtol, atol=1e-6)


CONFIGS = {
    "plain": dict(lr=0.1),
    "momentum": dict(lr=0.05, momentum=0.9),
    "dampening": dict(lr=0.05, momentum=0.9, dampening=0.5),
    "nesterov": dict(lr=0.05, momentum=0.8, nesterov=True),
    "weight_decay": dict(lr=0.1, weight_decay=0.1),
    "all": dict(lr=0.03, momentum=0.7, weight_decay=0.01, nesterov=True),
    "maximize": dict(lr=0.01, maximize=True),
    "maximize_momentum": dict(lr=0.01, momentum=0.5, maximize=True, weight_decay=0.05),
    "lr_zero": dict(lr=0.0, momentum=0.9),
}


@pytest.mark.parametrize("config", list(CONFIGS))
def test_sgd_matches_torch_over_10_steps(torch, config):
    a = _train(ndgrad, **CONFIGS[config])
    b = _train(torch, **CONFIGS[config])
    _compare(a, b)
    if config == "plain":
        assert a[-1][0] < a[0][0]  # it learns
    if config == "lr_zero":
        np.testing.assert_array_equal(a[-1][1], W0)


def test_sgd_plain_step_is_p_minus_lr_grad():
    w = ndgrad.tensor([1.0, -2.0], requires_grad=True)
    opt = ndgrad.optim.SGD([w], lr=0.25)
    (w ** 2).sum().backward()
    opt.step()
    assert w.tolist() == [1.0 - 0.25 * 2.0, -2.0 + 0.25 * 4.0]
    assert w.is_leaf and w.requires_grad and w.grad_fn is None


def test_sgd_param_groups(torch):
    def groups(w, b):
        return [{"params": [w], "lr": 0.05, "momentum": 0.9}, {"params": b}]
    _compare(_train(ndgrad, groups=groups, lr=0.2), _train(torch, groups=groups, lr=0.2))


def test_param_groups_structure(torch):
    def f(lib):
        w = lib.tensor([1.], requires_grad=True)
        b = lib.tensor([1.], requires_grad=True)
        opt = lib.optim.SGD([{"params": [w], "lr": 0.5}, {"params": [b]}], lr=0.1, momentum=0.9)
        return [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups], \
            [len(g["params"]) for g in opt.param_groups], sorted(opt.defaults)
    assert f(ndgrad) == f(torch)


def test_add_param_group_and_lr_change(torch):
    def f(lib):
        w = lib.tensor([1., 2.], requires_grad=True)
        b = lib.tensor([3.], requires_grad=True)
        opt = lib.optim.SGD([w], lr=0.1)
        opt.add_param_group({"params": [b], "lr": 0.01})
        for g in opt.param_groups:
            g["lr"] *= 2
        (w.sum() * b.sum()).backward()
        opt.step()
        return w.tolist() + b.tolist()
    assert f(ndgrad) == pytest.approx(f(torch))


def test_params_without_grad_are_skipped(torch):
    def f(lib):
        w = lib.tensor([1., 2.], requires_grad=True)
        unused = lib.tensor([5., 6.], requires_grad=True)
        opt = lib.optim.SGD([w, unused], lr=0.1, momentum=0.9, weight_decay=0.5)
        for _ in range(3):
            opt.zero_grad()
            (w ** 2).sum().backward()
            opt.step()
        return w.tolist(), unused.tolist(), unused.grad, unused._version, len(opt.state)
    a, b = f(ndgrad), f(torch)
    np.testing.assert_allclose(a[0], b[0], rtol=1e-6)
    assert a[1] == b[1] == [5., 6.] and a[2] is None and b[2] is None
    assert a[3] == b[3] == 0
    assert a[4] == b[4]


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(torch, set_to_none):
    def f(lib):
        w = lib.tensor([1., 2.], requires_grad=True)
        opt = lib.optim.SGD([w], lr=0.1)
        before = w.grad
        (w * 3).sum().backward()
        g = w.grad
        opt.zero_grad(set_to_none=set_to_none)
        after = w.grad
        return before, after is None, None if after is None else (after.tolist(), after is g), g.tolist()
    assert f(ndgrad) == f(torch)


def test_zero_grad_default_sets_none(torch):
    def f(lib):
        w = lib.tensor([1., 2.], requires_grad=True)
        opt = lib.optim.SGD([w], lr=0.1)
        (w * 3).sum().backward()
        opt.zero_grad()
        return w.grad
    assert f(ndgrad) is None and f(torch) is None


def test_step_bumps_version_and_keeps_leaf(torch):
    def f(lib):
        w = lib.tensor([1., 2.], requires_grad=True)
        opt = lib.optim.SGD([w], lr=0.1)
        (w * 3).sum().backward()
        v0 = w._version
        opt.step()
        return w._version > v0, w.is_leaf, w.requires_grad, w.grad_fn
    assert f(ndgrad) == f(torch)


def test_step_with_closure(torch):
    def f(lib):
        w = lib.tensor([1., -1.], requires_grad=True)
        opt = lib.optim.SGD([w], lr=0.1, momentum=0.5)
        losses = []

        def closure():
            opt.zero_grad()
            loss = ((w - 3) ** 2).sum()
            loss.backward()
            return loss
        for _ in range(5):
            losses.append(opt.step(closure).item())
        return losses, w.tolist()
    a, b = f(ndgrad), f(torch)
    assert a[0] == pytest.approx(b[0], rel=1e-6) and a[1] == pytest.approx(b[1], rel=1e-6)


def test_closure_runs_with_grad_enabled(torch):
    def f(lib):
        w = lib.tensor([1.], requires_grad=True)
        opt = lib.optim.SGD([w], lr=0.1)
        seen = []

        def closure():
            seen.append(lib.is_grad_enabled())
            loss = (w * 2).sum()
            loss.backward()
            return loss
        with lib.no_grad():
            opt.step(closure)
        return seen
    assert f(ndgrad) == f(torch) == [True]


def test_momentum_buffer_state(torch):
    def f(lib):
        w = lib.tensor([1., 2.], requires_grad=True)
        opt = lib.optim.SGD([w], lr=0.1, momentum=0.9)
        for _ in range(3):
            opt.zero_grad()
            (w ** 2).sum().backward()
            opt.step()
        st = opt.state[w]
        return sorted(st), st["momentum_buffer"].tolist()
    a, b = f(ndgrad), f(torch)
    assert a[0] == b[0] and a[1] == pytest.approx(b[1], rel=1e-6)


def test_float64_params(torch):
    def f(lib):
        w = lib.tensor([1., 2.], dtype=lib.float64, requires_grad=True)
        opt = lib.optim.SGD([w], lr=0.1, momentum=0.9, nesterov=True)
        for _ in range(4):
            opt.zero_grad()
            (w ** 3).sum().backward()
            opt.step()
        return w.tolist(), str(w.dtype)
    a, b = f(ndgrad), f(torch)
    assert a[1] == b[1] and a[0] == pytest.approx(b[0], rel=1e-12)


# -- state_dict -------------------------------------------------------------------------------------------
def test_state_dict_structure(torch):
    def f(lib):
        w = lib.tensor([1., 2.], requires_grad=True)
        b = lib.tensor([1.], requires_grad=True)
        opt = lib.optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.9)
        empty = repr(opt.state_dict())
        (w.sum() * 2 + b.sum()).backward()
        opt.step()
        return empty, repr(opt.state_dict())
    assert f(ndgrad) == f(torch)


def test_state_dict_resume_matches_uninterrupted_torch(torch):
    want = _train(torch, steps=6, lr=0.05, momentum=0.9, nesterov=True)
    # ndgrad: 3 steps, save, a fresh optimizer loads the state, 3 more steps
    w = ndgrad.tensor(W0.copy(), requires_grad=True)
    b = ndgrad.tensor(B0.copy(), requires_grad=True)
    x, y = ndgrad.tensor(X), ndgrad.tensor(Y)
    opt = ndgrad.optim.SGD([w, b], lr=0.05, momentum=0.9, nesterov=True)
    trace = []
    for k in range(6):
        if k == 3:
            sd = opt.state_dict()
            opt = ndgrad.optim.SGD([w, b], lr=1.0)   # different hyper-parameters: the state dict restores them
            opt.load_state_dict(sd)
        opt.zero_grad()
        loss = ((x @ w + b - y) ** 2).mean()
        loss.backward()
        opt.step()
        trace.append((loss.item(), w.detach().numpy().copy(), b.detach().numpy().copy()))
    _compare(trace, want)


def test_load_state_dict_errors(torch):
    def groups(lib):
        w = lib.tensor([1.], requires_grad=True)
        opt = lib.optim.SGD([w], lr=0.1)
        opt.load_state_dict({"state": {}, "param_groups": []})
    _raises_like_torch(groups, torch, ValueError, "loaded state dict has a different number of parameter groups")

    def sizes(lib):
        w = lib.tensor([1.], requires_grad=True)
        opt = lib.optim.SGD([w], lr=0.1)
        sd = opt.state_dict()
        sd["param_groups"][0]["params"] = [0, 1]
        opt.load_state_dict(sd)
    _raises_like_torch(sizes, torch, ValueError, "loaded state dict contains a parameter group that doesn't match "
                       "the size of optimizer's group")


# -- errors -----------------------------------------------------------------------------------------------
def test_optimizer_errors(torch):
    _raises_like_torch(lambda lib: lib.optim.SGD([(lib.tensor([1.], requires_grad=True) * 2)], lr=0.1), torch,
                       ValueError, "can't optimize a non-leaf Tensor")
    _raises_like_torch(lambda lib: lib.optim.SGD([], lr=0.1), torch, ValueError,
                       "optimizer got an empty parameter list")
    _raises_like_torch(lambda lib: lib.optim.SGD(lib.tensor([1.], requires_grad=True), lr=0.1), torch, TypeError,
                       "params argument given to the optimizer should be an iterable of Tensors or dicts, but got "
                       "torch.FloatTensor")
    _raises_like_torch(lambda lib: lib.optim.SGD(lib.tensor([1.], dtype=lib.float64, requires_grad=True)), torch,
                       TypeError)


def test_sgd_argument_errors(torch):
    def p(lib):
        return [lib.tensor([1.], requires_grad=True)]
    _raises_like_torch(lambda lib: lib.optim.SGD(p(lib), lr=-0.1), torch, ValueError, "Invalid learning rate: -0.1")
    _raises_like_torch(lambda lib: lib.optim.SGD(p(lib), lr=0.1, momentum=-1), torch, ValueError,
                       "Invalid momentum value: -1")
    _raises_like_torch(lambda lib: lib.optim.SGD(p(lib), lr=0.1, weight_decay=-1), torch, ValueError,
                       "Invalid weight_decay value: -1")
    _raises_like_torch(lambda lib: lib.optim.SGD(p(lib), lr=0.1, nesterov=True), torch, ValueError,
                       "Nesterov momentum requires a momentum and zero dampening")
    _raises_like_torch(lambda lib: lib.optim.SGD(p(lib), lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), torch,
                       ValueError, "Nesterov momentum requires a momentum and zero dampening")


def test_param_group_errors(torch):
    def dup(lib):
        w = lib.tensor([1.], requires_grad=True)
        lib.optim.SGD([{"params": [w]}, {"params": [w]}], lr=0.1)
    _raises_like_torch(dup, torch, ValueError, "some parameters appear in more than one parameter group")

    def not_tensor(lib):
        lib.optim.SGD([1.0], lr=0.1)
    _raises_like_torch(not_tensor, torch, TypeError)


def test_sgd_repr(torch):
    def f(lib):
        w = lib.tensor([1.], requires_grad=True)
        return repr(lib.optim.SGD([w], lr=0.1, momentum=0.9))
    assert f(ndgrad) == f(torch)


# -- torch's fused multiply-adds: float32 results bit for bit ------------------------------------------------------
def _f32(seed, n=4099, positive=False):
    x = np.random.default_rng(seed).standard_normal(n).astype(np.float32)
    return np.abs(x) + np.float32(0.5) if positive else x


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_alpha_value_and_lerp_forms_round_once_as_torch(dtype):
    torch = pytest.importorskip("torch")
    if dtype == "bfloat16":
        pytest.importorskip("ml_dtypes")
    # (4096 elements: torch's scalar loop for the last elements of a half-precision tensor rounds to half after
    # each operation, unlike its vector loop, which ndgrad follows)
    a, b, c = _f32(0, 4096), _f32(1, 4096), _f32(2, 4096, positive=True)
    forms = {
        "add": lambda L, x, y, z: L.add(x, y, alpha=0.3),
        "sub": lambda L, x, y, z: L.sub(x, y, alpha=-1.7),
        "rsub": lambda L, x, y, z: L.rsub(x, y, alpha=0.3),
        "add_": lambda L, x, y, z: x.clone().add_(y, alpha=-0.01),
        "addcmul": lambda L, x, y, z: L.addcmul(x, y, z, value=0.3),
        "addcmul broadcast": lambda L, x, y, z: L.addcmul(x.reshape(1, -1), y.reshape(-1, 1)[:7], z, value=-2.1),
        "addcdiv": lambda L, x, y, z: L.addcdiv(x, y, z, value=0.3),
        "lerp small": lambda L, x, y, z: L.lerp(x, y, 0.1),
        "lerp large": lambda L, x, y, z: L.lerp(x, y, 0.7),
        "lerp tensor": lambda L, x, y, z: L.lerp(x, y, z - 1.0),
    }
    for name, f in forms.items():
        want = f(torch, *(torch.tensor(v).to(getattr(torch, dtype)) for v in (a, b, c))).float().numpy()
        got = f(ndgrad, *(ndgrad.tensor(v).to(getattr(ndgrad, dtype)) for v in (a, b, c))).float().numpy()
        assert np.array_equal(got, want), (name, np.mean(got != want))


@pytest.mark.parametrize("kw", [dict(lr=0.01), dict(lr=0.01, momentum=0.9), dict(lr=0.05, momentum=0.9, dampening=0.2),
                                dict(lr=0.01, momentum=0.9, nesterov=True, weight_decay=1e-3)])
def test_sgd_steps_are_torch_s_bit_for_bit(kw):
    torch = pytest.importorskip("torch")
    p0, gs = _f32(3), [_f32(4 + i) * np.float32(1.1) for i in range(5)]
    out = []
    for lib in (torch, ndgrad):
        w = lib.tensor(p0, requires_grad=True)
        opt = lib.optim.SGD([w], **kw)
        for g in gs:
            w.grad = lib.tensor(g)
            opt.step()
        out.append(w.detach().numpy().copy())
    assert np.array_equal(out[0], out[1])


def test_adam_moments_are_torch_s_bit_for_bit():
    # (the parameter itself may differ in the last bit: torch's float32 sqrt is not the correctly rounded one
    # on every CPU, NumPy's is)
    torch = pytest.importorskip("torch")
    p0, gs = _f32(3), [_f32(4 + i) for i in range(4)]
    states = []
    for lib in (torch, ndgrad):
        w = lib.tensor(p0, requires_grad=True)
        opt = lib.optim.AdamW([w], lr=0.01)
        for g in gs:
            w.grad = lib.tensor(g)
            opt.step()
        s = opt.state[w]
        states.append((s["exp_avg"].numpy().copy(), s["exp_avg_sq"].numpy().copy(), w.detach().numpy().copy()))
    assert np.array_equal(states[0][0], states[1][0]) and np.array_equal(states[0][1], states[1][1])
    np.testing.assert_allclose(states[1][2], states[0][2], rtol=2e-6)
