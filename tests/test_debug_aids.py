"""detect_anomaly / set_detect_anomaly, saved_tensors_hooks and utils.checkpoint, compared with torch."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import ndgrad
from ndgrad._ops import _registry as R
from ndgrad.autograd import graph as G

X = np.array([0.3, -1.2, 2.0])
W = np.array([0.5, -1.0, 2.0])


def _anomaly_case(lib):
    x = lib.tensor([0., 1.], requires_grad=True)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        with lib.autograd.detect_anomaly():
            y = x.sqrt() * 0
            z = (y / y).sum()  # the line the warning must point at
            with pytest.raises(RuntimeError) as e:
                z.backward()
    return str(e.value), [str(w.message) for w in rec]


def test_anomaly_names_the_node_and_the_forward_line(torch):
    msg, warns = _anomaly_case(ndgrad)
    tmsg, twarns = _anomaly_case(torch)
    assert msg == tmsg == "Function 'DivBackward0' returned nan values in its 1th output."
    assert warns[0] == twarns[0]  # "Anomaly Detection has been enabled..."
    ours = [w for w in warns if w.startswith("Error detected in DivBackward0")]
    theirs = [w for w in twarns if w.startswith("Error detected in DivBackward0")]
    assert ours and theirs
    # both show the user's line that created the division, and no ndgrad-internal frame
    assert "z = (y / y).sum()" in ours[0] and "z = (y / y).sum()" in theirs[0]
    assert "ndgrad/" not in ours[0].split("error:", 1)[1]


def test_anomaly_flags_and_restore(torch):
    for lib in (ndgrad, torch):
        assert not lib.is_anomaly_enabled()
        with lib.autograd.set_detect_anomaly(True, check_nan=False):
            assert lib.is_anomaly_enabled()
            assert not lib.is_anomaly_check_nan_enabled()
        assert not lib.is_anomaly_enabled()
        assert lib.is_anomaly_check_nan_enabled()
    # the instrumentation is gone again: the hot path is the plain one
    assert R._record1.__name__ == "_record1" and G.Node.__init__.__name__ == "__init__"


def test_anomaly_check_nan_false_lets_nan_through(torch):
    def f(lib):
        x = lib.tensor([0., 1.], requires_grad=True)
        with lib.autograd.set_detect_anomaly(True, check_nan=False):
            y = x.sqrt() * 0
            (y / y).sum().backward()
        return x.grad
    np.testing.assert_array_equal(f(ndgrad).numpy(), f(torch).numpy())


def test_anomaly_reports_other_backward_errors():
    x = ndgrad.tensor([1., 2.], requires_grad=True)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        with ndgrad.autograd.detect_anomaly():
            y = x.exp()
            y.add_(1)  # invalidates the output exp saved
            with pytest.raises(RuntimeError, match="modified by an inplace operation"):
                y.sum().backward()
    assert any(str(w.message).startswith("Error detected in ExpBackward0") for w in rec)


def test_anomaly_decorator_form():
    @ndgrad.autograd.detect_anomaly()
    def run():
        return ndgrad.is_anomaly_enabled()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert run()
    assert not ndgrad.is_anomaly_enabled()


# -- saved_tensors_hooks --------------------------------------------------------------------------------------
def _hooks_case(lib, fn):
    log = []

    def pack(t):
        log.append(("pack", tuple(t.shape)))
        return ("box", t.detach().clone())

    def unpack(p):
        log.append(("unpack",))
        return p[1]

    x = lib.tensor(X, requires_grad=True)
    w = lib.tensor(W, requires_grad=True)
    with lib.autograd.graph.saved_tensors_hooks(pack, unpack):
        y = fn(lib, x, w)
    n_packed = len(log)
    y.sum().backward()
    return n_packed, len(log) - n_packed, x.grad.numpy(), w.grad.numpy()


@pytest.mark.parametrize("name,fn", [
    ("exp_mul", lambda lib, x, w: x.exp() * w),
    ("sin_x_plus_w", lambda lib, x, w: (x + w).sin()),
    ("matmul_tanh", lambda lib, x, w: lib.tanh(x.unsqueeze(0) @ w.unsqueeze(1))),
    ("sigmoid_pow", lambda lib, x, w: x.sigmoid() ** 2 + w * 3),
    ("add_only", lambda lib, x, w: x + w),
])
def test_saved_tensors_hooks_like_torch(torch, name, fn):
    a, b = _hooks_case(ndgrad, fn), _hooks_case(torch, fn)
    assert a[:2] == b[:2]  # as many packs and unpacks as torch
    np.testing.assert_allclose(a[2], b[2], rtol=1e-12)
    np.testing.assert_allclose(a[3], b[3], rtol=1e-12)


def test_saved_tensors_hooks_custom_function(torch):
    def run(lib):
        class Sq(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            def backward(ctx, g):
                x, = ctx.saved_tensors
                return 2 * x * g
        log = []
        x = lib.tensor(X, requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: (log.append("p"), t * 10)[1],
                                                    lambda t: (log.append("u"), t / 10)[1]):
            y = Sq.apply(x)
        y.sum().backward()
        return log, x.grad.numpy()
    (la, ga), (lb, gb) = run(ndgrad), run(torch)
    assert la == lb
    np.testing.assert_allclose(ga, gb)


def test_saved_tensors_hooks_unpack_must_return_tensor():
    x = ndgrad.tensor(X, requires_grad=True)
    with ndgrad.autograd.graph.saved_tensors_hooks(lambda t: 1, lambda p: p):
        y = x.exp()
    with pytest.raises(TypeError, match="unpack_hook"):
        y.sum().backward()


def test_saved_tensors_hooks_release_the_tensor():
    # the graph keeps only what pack returns: the saved input itself is not referenced by the node
    x = ndgrad.tensor(X, requires_grad=True)
    with ndgrad.autograd.graph.saved_tensors_hooks(lambda t: None, lambda p: ndgrad.tensor(X)):
        y = x.sin()
    assert y.grad_fn._saved == [None, None] or all(v is None for v in y.grad_fn._saved)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.cos(X))


def test_saved_tensors_hooks_saved_accessor_unpacks(torch):
    def run(lib):
        log = []
        x = lib.tensor(X, requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: (log.append("u"), t)[1]):
            y = x.sin()
        s = y.grad_fn._saved_self
        return log, s.detach().numpy()
    (la, sa), (lb, sb) = run(ndgrad), run(torch)
    assert la == lb
    np.testing.assert_array_equal(sa, sb)


# -- checkpoint ----------------------------------------------------------------------------------------------
def _ckpt_case(lib, use_reentrant, grad_api=False):
    from importlib import import_module
    checkpoint = import_module(f"{lib.__name__}.utils.checkpoint").checkpoint
    w = lib.tensor(W, requires_grad=True)

    def f(x, scale):
        return ((x * w).sin() * x.exp()) * scale

    x = lib.tensor(X, requires_grad=True)
    y = checkpoint(f, x, 2.0, use_reentrant=use_reentrant)
    loss = (y * y).sum()
    if grad_api:
        gx, gw = lib.autograd.grad(loss, (x, w))
        return y.detach().numpy(), gx.numpy(), gw.numpy()
    loss.backward()
    return y.detach().numpy(), x.grad.numpy(), w.grad.numpy()


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_checkpoint_matches_torch(torch, use_reentrant):
    for a, b in zip(_ckpt_case(ndgrad, use_reentrant), _ckpt_case(torch, use_reentrant)):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_checkpoint_nonreentrant_with_autograd_grad(torch):
    for a, b in zip(_ckpt_case(ndgrad, False, True), _ckpt_case(torch, False, True)):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_checkpoint_reentrant_refuses_autograd_grad(torch):
    for lib in (ndgrad, torch):
        with pytest.raises(RuntimeError) as e:
            _ckpt_case(lib, True, True)
        assert "use_reentrant=True, torch.utils.checkpoint is incompatible with .grad()" in str(e.value)


def test_checkpoint_warns_without_use_reentrant(torch):
    import torch.utils.checkpoint  # noqa: F401
    from ndgrad.utils.checkpoint import checkpoint
    msgs = []
    for lib, ck in ((ndgrad, checkpoint), (torch, torch.utils.checkpoint.checkpoint)):
        x = lib.tensor(X, requires_grad=True)
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            ck(lambda a: a.sin(), x)
        msgs.append([str(w.message) for w in rec if "use_reentrant" in str(w.message)])
    assert msgs[0] and msgs[0] == msgs[1]


def test_checkpoint_recomputes_instead_of_saving():
    from ndgrad.utils.checkpoint import checkpoint
    calls = []

    def f(x):
        calls.append(1)
        return x.exp().sin()
    for ur in (True, False):
        calls.clear()
        x = ndgrad.tensor(X, requires_grad=True)
        y = checkpoint(f, x, use_reentrant=ur)
        assert len(calls) == 1
        y.sum().backward()
        assert len(calls) == 2  # ran again in backward
        np.testing.assert_allclose(x.grad.numpy(), np.cos(np.exp(X)) * np.exp(X))


def test_checkpoint_sequential(torch):
    import torch.utils.checkpoint  # noqa: F401

    def run(lib, ck):
        fns = [lambda t: t.sin(), lambda t: t * 3, lambda t: t.exp(), lambda t: t.tanh()]
        x = lib.tensor(X, requires_grad=True)
        y = ck(fns, 2, x, use_reentrant=False)
        y.sum().backward()
        return y.detach().numpy(), x.grad.numpy()
    from ndgrad.utils.checkpoint import checkpoint_sequential
    a = run(ndgrad, checkpoint_sequential)
    b = run(torch, torch.utils.checkpoint.checkpoint_sequential)
    for u, v in zip(a, b):
        np.testing.assert_allclose(u, v, rtol=1e-12)


def test_anomaly_checks_the_batched_pass_too():
    # (torch 2.13 cannot run this at all: "Batching rule not implemented for aten::item")
    def f(lib):
        x = lib.tensor([0., 1.], requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with lib.autograd.detect_anomaly():
                y = x.sqrt() * 0
                z = y / y
                return lib.autograd.grad(z, x, lib.eye(2), is_grads_batched=True)
    with pytest.raises(RuntimeError, match="Function 'DivBackward0' returned nan values in its 0th output"):
        f(ndgrad)
