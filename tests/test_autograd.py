"""Core autograd semantics, compared with PyTorch (rows 1-20, 22, 23, 27, 30 of torch-semantics.md).

Most tests write a scenario once as `f(lib)` and run it with `lib = ndgrad` and `lib = torch`;
`_same` then compares values, dtypes, shapes, requires_grad and grad_fn names, and `_outcome`
compares the class and text of a raised error or warning.
"""
from __future__ import annotations

import re
import threading
import warnings

import numpy as np
import pytest

import ndgrad
from torchcmp import fn_name as _fn_name

TRIGGERED = "(Triggered internally"


# -- helpers ---------------------------------------------------------------------------------------------


def _arr(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


def _same(a, b, rtol=1e-6, atol=1e-7, grad_fn=True):
    """Compare an ndgrad result `a` with a torch result `b` (tensors, sequences, None, scalars)."""
    import torch
    if isinstance(b, torch.Tensor):
        assert isinstance(a, ndgrad.Tensor), (a, b)
        assert tuple(a.shape) == tuple(b.shape), (a.shape, b.shape)
        assert str(a.dtype) == str(b.dtype), (a.dtype, b.dtype)
        np.testing.assert_allclose(_arr(a), _arr(b), rtol=rtol, atol=atol, equal_nan=True)
        assert a.requires_grad == b.requires_grad, (a, b)
        if grad_fn:
            assert _fn_name(a.grad_fn) == _fn_name(b.grad_fn), (a.grad_fn, b.grad_fn)
    elif isinstance(b, (list, tuple)):
        assert isinstance(a, (list, tuple)) and len(a) == len(b), (a, b)
        for x, y in zip(a, b):
            _same(x, y, rtol, atol, grad_fn)
    elif isinstance(b, dict):
        assert a.keys() == b.keys()
        for k in b:
            _same(a[k], b[k], rtol, atol, grad_fn)
    elif b is None:
        assert a is None, a
    elif isinstance(b, float):
        assert a == pytest.approx(b, rel=rtol, nan_ok=True)
    else:
        assert a == b, (a, b)


def _both(f, torch, **kw):
    """Run `f(lib)` with both libraries and compare the results."""
    a, b = f(ndgrad), f(torch)
    _same(a, b, **kw)
    return a, b


def _strip(msg: str) -> str:
    return msg.split(TRIGGERED)[0].rstrip()


def _outcome(f, lib):
    """(exception class name, message) raised by f(lib), or None."""
    try:
        f(lib)
    except Exception as e:  # noqa: BLE001
        return type(e).__name__, _strip(str(e))
    return None


def _raises_like_torch(f, torch, cls=None, text=None):
    """f must raise in torch; ndgrad must raise the same class with the same text."""
    want = _outcome(f, torch)
    assert want is not None, "torch did not raise"
    if cls is not None:
        assert want[0] == cls.__name__
    if text is not None:
        assert want[1] == text, want[1]
    got = _outcome(f, ndgrad)
    assert got == want
    return want


def _warnings_of(f, lib):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        f(lib)
    return [(wi.category.__name__, _strip(str(wi.message))) for wi in w]


def _warns_like_torch(f, torch):
    want = _warnings_of(f, torch)
    got = _warnings_of(f, ndgrad)
    assert got == want
    return want


def _walk_names(t):
    """The graph below t as nested (name, [children]) in next_functions order, iteratively built."""
    out = []
    seen = {}
    stack = [(t.grad_fn, out)]
    while stack:
        fn, into = stack.pop()
        if fn is None:
            into.append(None)
            continue
        children: list = []
        into.append((_fn_name(fn), children))
        if id(fn) in seen:
            continue
        seen[id(fn)] = fn
        for nxt, nr in reversed(list(fn.next_functions)):
            stack.append((nxt, children))
    return out[0]


def _edges(t):
    """[(child name, output_nr)] of t.grad_fn.next_functions."""
    return [(_fn_name(f), nr) for f, nr in t.grad_fn.next_functions]


# -- row 1: saved tensors are freed after backward --------------------------------------------------------
FREED = ("Trying to backward through the graph a second time (or directly access saved tensors after they "
         "have already been freed). Saved intermediate values of the graph are freed when you call .backward() "
         "or autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time "
         "or if you need to access saved tensors after calling backward.")


def test_second_backward_after_free_raises(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        y = (x * x).sum()
        y.backward()
        y.backward()
    _raises_like_torch(f, torch, RuntimeError, FREED)


def test_second_autograd_grad_after_free_raises(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        y = lib.exp(x).sum()
        lib.autograd.grad(y, x)
        lib.autograd.grad(y, x)
    _raises_like_torch(f, torch, RuntimeError, FREED)


def test_freeing_is_lazy_when_nothing_is_saved(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        y = (x + x).sum()
        y.backward()
        y.backward()
        return x.grad
    a, _ = _both(f, torch)
    assert a.tolist() == [4., 4.]


def test_retain_graph_allows_second_backward(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        y = (x * x * x).sum()
        y.backward(retain_graph=True)
        g1 = x.grad.clone()
        y.backward()
        return g1, x.grad
    a, _ = _both(f, torch)
    assert a[1].tolist() == [6., 24.]


def test_saved_tensor_access_after_free(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        y = x * x
        y.sum().backward()
        return y.grad_fn._saved_self
    _raises_like_torch(f, torch, RuntimeError, FREED)


def test_saved_tensor_attributes(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        w = lib.tensor([3., 4.], requires_grad=True)
        y = x * w
        s = y.sigmoid()
        return y.grad_fn._saved_self, y.grad_fn._saved_other, s.grad_fn._saved_result
    a, b = _both(f, torch, grad_fn=False)


# -- row 2: accumulation -------------------------------------------------------------------------------------
def test_accumulation_into_leaves_only(torch):
    def f(lib):
        x = lib.tensor([1., 1.], requires_grad=True)
        before = x.grad
        (3 * x).sum().backward()
        first = x.grad.clone()
        (3 * x).sum().backward()
        return before, first, x.grad
    a, _ = _both(f, torch)
    assert a[1].tolist() == [3., 3.] and a[2].tolist() == [6., 6.]


def test_backward_inputs_fills_only_those(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        w = lib.tensor([3., 4.], requires_grad=True)
        (x * w).sum().backward(inputs=[w])
        return x.grad, w.grad
    a, _ = _both(f, torch)
    assert a[0] is None and a[1].tolist() == [1., 2.]


def test_backward_inputs_nonleaf_accumulates_into_it(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        h = x * 2
        (h * h).sum().backward(inputs=[h])
        return x.grad, h.grad
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, _ = _both(f, torch)
    assert a[1].tolist() == [4., 8.]


def test_backward_inputs_empty_raises(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        (x * 2).sum().backward(inputs=[])
    _raises_like_torch(f, torch, RuntimeError)


def test_leaf_backward_with_gradient(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        x.backward(lib.tensor([5., 7.]))
        return x.grad
    a, _ = _both(f, torch)
    assert a.tolist() == [5., 7.]


def test_grad_is_not_aliased_to_gradient_argument(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        g = lib.tensor([5., 7.])
        x.backward(g)
        x.backward(g)
        return x.grad, g
    a, _ = _both(f, torch)
    assert a[1].tolist() == [5., 7.]


def test_shared_leaf_grads_are_distinct_arrays():
    x = ndgrad.tensor([1., 2.], requires_grad=True)
    w = ndgrad.tensor([1., 2.], requires_grad=True)
    (x + w).sum().backward()
    x.grad.add_(1)
    assert w.grad.tolist() == [1., 1.]


def test_autograd_backward_function(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        y1 = x * 2
        y2 = (x * x).sum()
        lib.autograd.backward([y1, y2], [lib.tensor([1., 10.]), None])
        return x.grad
    a, _ = _both(f, torch)
    assert a.tolist() == [4., 24.]


def test_autograd_backward_tensor_and_none_grad(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        lib.autograd.backward((x ** 2).sum())
        return x.grad
    _both(f, torch)


def test_backward_gradient_dtype_is_cast(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        (x * 3).backward(lib.tensor([1., 1.], dtype=lib.float64))
        return x.grad
    _both(f, torch)


# -- row 3: non-leaf .grad ---------------------------------------------------------------------------------
NONLEAF_GRAD = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute "
    "won't be populated during autograd.backward(). If you indeed want the .grad field to be populated for "
    "a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you access the non-leaf Tensor by "
    "mistake, make sure you access the leaf Tensor instead. See github.com/pytorch/pytorch/pull/30531 for "
    "more information.")


def test_nonleaf_grad_warns_and_is_none(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        y = x * 2
        y.sum().backward()
        assert y.grad is None
    w = _warns_like_torch(f, torch)
    assert w == [("UserWarning", NONLEAF_GRAD)]


def test_retained_nonleaf_grad_does_not_warn(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        y = x * 2
        y.retain_grad()
        (y * y).sum().backward()
        return y.grad, y.retains_grad, x.retains_grad
    assert _warns_like_torch(f, torch) == []
    _both(f, torch)


def test_leaf_without_requires_grad_grad_is_none_silently(torch):
    def f(lib):
        x = lib.tensor([1., 2.])
        assert x.grad is None
    assert _warns_like_torch(f, torch) == []


# -- row 4: only float tensors require grad ---------------------------------------------------------------
def test_int_requires_grad_texts(torch):
    _raises_like_torch(lambda lib: lib.tensor([1, 2], requires_grad=True), torch, RuntimeError,
                       "Only Tensors of floating point and complex dtype can require gradients")
    _raises_like_torch(lambda lib: lib.tensor([1, 2]).requires_grad_(), torch, RuntimeError,
                       "only Tensors of floating point dtype can require gradients")

    def setter(lib):
        lib.tensor([1, 2]).requires_grad = True
    _raises_like_torch(setter, torch, RuntimeError)
    _raises_like_torch(lambda lib: lib.zeros(2, dtype=lib.int64, requires_grad=True), torch, RuntimeError)
    _raises_like_torch(lambda lib: lib.tensor([True], requires_grad=True), torch, RuntimeError)


def test_int_requires_grad_false_is_fine(torch):
    def f(lib):
        x = lib.tensor([1, 2])
        x.requires_grad_(False)
        x.requires_grad = False
        return x
    _both(f, torch)


# -- row 5, 6, 7: root errors ---------------------------------------------------------------------------------
def test_nonscalar_backward_without_gradient(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        (x * 2).backward()
    _raises_like_torch(f, torch, RuntimeError, "grad can be implicitly created only for scalar outputs")

    def g(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        lib.autograd.backward([x * 2], [None])
    _raises_like_torch(g, torch, RuntimeError, "grad can be implicitly created only for scalar outputs")

    def h(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        lib.autograd.grad(x * 2, x)
    _raises_like_torch(h, torch, RuntimeError, "grad can be implicitly created only for scalar outputs")


def test_one_element_nonscalar_backward_is_fine(torch):
    def f(lib):
        x = lib.tensor([[3.]], requires_grad=True)
        (x * x).backward()
        return x.grad
    _both(f, torch)


def test_backward_without_grad_fn(torch):
    msg = "element 0 of tensors does not require grad and does not have a grad_fn"
    _raises_like_torch(lambda lib: lib.tensor(2.).backward(), torch, RuntimeError, msg)

    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        with lib.no_grad():
            y = (x * 2).sum()
        y.backward()
    _raises_like_torch(f, torch, RuntimeError, msg)

    def second_order(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        (g,) = lib.autograd.grad((x ** 3).sum(), x)
        g.sum().backward()
    _raises_like_torch(second_order, torch, RuntimeError, msg)

    def second_index(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        lib.autograd.backward([(x * 2).sum(), lib.tensor(1.)])
    _raises_like_torch(second_index, torch, RuntimeError,
                       "element 1 of tensors does not require grad and does not have a grad_fn")


def test_gradient_shape_mismatch(torch):
    msg = ("Mismatch in shape: grad_output[0] has a shape of torch.Size([3]) and output[0] has a shape of "
           "torch.Size([2]).")

    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        (x * 2).backward(lib.ones(3))
    _raises_like_torch(f, torch, RuntimeError, msg)

    def g(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        lib.autograd.grad(x * 2, x, grad_outputs=lib.ones(3))
    _raises_like_torch(g, torch, RuntimeError, msg)


# -- row 8: autograd.grad ------------------------------------------------------------------------------------
UNUSED = ("The differentiated Tensor at index {} appears to not have been used in the graph. Set "
          "allow_unused=True if this is the desired behavior.")


def test_grad_unused_input(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        z = lib.tensor([1., 2.], requires_grad=True)
        lib.autograd.grad((x * 2).sum(), [x, z])
    _raises_like_torch(f, torch, RuntimeError, UNUSED.format(1))


def test_grad_allow_unused_and_materialize(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        z = lib.tensor([1., 2.], requires_grad=True)
        y = (x * 2).sum()
        a = lib.autograd.grad(y, [x, z], allow_unused=True, retain_graph=True)
        b = lib.autograd.grad(y, [x, z], allow_unused=True, materialize_grads=True, retain_graph=True)
        c = lib.autograd.grad(y, [z, x], materialize_grads=True)
        return a, b, c
    a, _ = _both(f, torch)
    assert a[0][1] is None and a[1][1].tolist() == [0., 0.]


def test_grad_materialize_with_allow_unused_false(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        lib.autograd.grad((x * 2).sum(), x, allow_unused=False, materialize_grads=True)
    _raises_like_torch(f, torch, ValueError)


def test_grad_empty_inputs(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        lib.autograd.grad((x * 2).sum(), [])
    _raises_like_torch(f, torch, RuntimeError, "`inputs` argument to `grad()` cannot be empty.")


def test_grad_input_not_requiring_grad(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        c = lib.tensor([1., 2.])
        lib.autograd.grad((x * c).sum(), [c])
    _raises_like_torch(f, torch, RuntimeError)


def test_grad_does_not_touch_dot_grad(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        w = lib.tensor([3., 4.], requires_grad=True)
        g = lib.autograd.grad((x * w).sum(), [w, x])
        return g, x.grad, w.grad
    a, _ = _both(f, torch)
    assert a[0][0].tolist() == [1., 2.] and a[1] is None


def test_grad_with_grad_outputs_and_multiple_outputs(torch):
    def f(lib):
        x = lib.tensor([1., 2., 3.], requires_grad=True)
        y1 = x * x
        y2 = x.sum() * 3
        return lib.autograd.grad([y1, y2], x, grad_outputs=[lib.tensor([1., 0., 2.]), lib.tensor(2.)])
    a, _ = _both(f, torch)
    assert a[0].tolist() == [8., 6., 18.]


def test_grad_with_respect_to_nonleaf(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        h = x * 3
        y = (h * h).sum()
        return lib.autograd.grad(y, [h, x])
    _both(f, torch)


def test_grad_nonleaf_input_stops_at_it(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        h = x.exp()
        y = (h * 2).sum()
        (g,) = lib.autograd.grad(y, h)
        return g, x.grad
    _both(f, torch)


def test_grad_same_input_twice(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        return lib.autograd.grad((x * x).sum(), [x, x])
    _both(f, torch)


def test_grad_with_create_graph_and_retain(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        y = (x ** 3).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        (g2,) = lib.autograd.grad(g.sum(), x)
        return g, g2
    a, _ = _both(f, torch)
    assert a[1].tolist() == [6., 12.]


def test_grad_outputs_requires_grad_with_create_graph(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        v = lib.tensor([1., 3.], requires_grad=True)
        (g,) = lib.autograd.grad(x * x, x, grad_outputs=v, create_graph=True)
        (gv,) = lib.autograd.grad(g.sum(), v)
        return g, gv
    _both(f, torch)


# -- row 9: in-place on a leaf ------------------------------------------------------------------------------
LEAF_INPLACE = "a leaf Variable that requires grad is being used in an in-place operation."


VIEW_LEAF_INPLACE = "a view of a leaf Variable that requires grad is being used in an in-place operation."


@pytest.mark.parametrize("op", ["add_", "mul_", "zero_", "fill_", "setitem_adv", "setitem_mask", "setitem_ellipsis",
                                "setitem_full_slice", "iadd", "copy_", "sigmoid_"])
def test_leaf_inplace_raises(torch, op):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        if op == "add_":
            x.add_(1)
        elif op == "mul_":
            x.mul_(2)
        elif op == "zero_":
            x.zero_()
        elif op == "fill_":
            x.fill_(3.)
        elif op == "setitem_adv":
            x[[0]] = 5.
        elif op == "setitem_mask":
            x[lib.tensor([True, False])] = 5.
        elif op == "setitem_ellipsis":
            x[...] = 5.
        elif op == "setitem_full_slice":
            x[0:2] = 5.
        elif op == "iadd":
            x += 1
        elif op == "copy_":
            x.copy_(lib.ones(2))
        else:
            x.sigmoid_()
    _raises_like_torch(f, torch, RuntimeError, LEAF_INPLACE)


@pytest.mark.parametrize("op", ["setitem_int", "setitem_slice", "setitem_none", "setitem_0d", "select_add_",
                                "view_mul_", "chained_views"])
def test_view_of_leaf_inplace_raises(torch, op):
    def f(lib):
        x = lib.tensor([[1., 2.], [3., 4.]], requires_grad=True)
        if op == "setitem_int":
            x[0] = 5.
        elif op == "setitem_slice":
            x[:, 1:] = 5.
        elif op == "setitem_none":
            x[None] = 5.
        elif op == "setitem_0d":
            x[lib.tensor(1)] = 5.
        elif op == "select_add_":
            x[0].add_(1)
        elif op == "view_mul_":
            x.view(4).mul_(2)
        else:
            x.t()[0].reshape(2).zero_()
    _raises_like_torch(f, torch, RuntimeError, VIEW_LEAF_INPLACE)


@pytest.mark.parametrize("case", ["split_leaf", "split_nonleaf", "unbind", "split_sizes"])
def test_inplace_on_multi_output_view_raises(torch, case):
    def f(lib):
        x = lib.tensor([1., 2., 3., 4.], requires_grad=True)
        if case == "split_leaf":
            x.split(2)[0].add_(1)
        elif case == "split_nonleaf":
            (x * 2).split(2)[1].mul_(2)
        elif case == "unbind":
            (x * 2).unbind()[0].add_(1)
        else:
            (x * 2).split([1, 3])[1].zero_()
    _raises_like_torch(f, torch, RuntimeError)


def test_inplace_on_multi_output_view_under_no_grad(torch):
    def f(lib):
        x = lib.tensor([1., 2., 3., 4.], requires_grad=True)
        y = x * 2
        with lib.no_grad():
            y.split(2)[0].add_(1)
        return y
    _both(f, torch)


def test_view_of_leaf_inplace_under_no_grad(torch):
    def f(lib):
        x = lib.tensor([[1., 2.], [3., 4.]], requires_grad=True)
        with lib.no_grad():
            x[0].add_(1)
            x[1] = 0.
        return x, x._version
    _both(f, torch)


def test_leaf_inplace_under_no_grad_bumps_version(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        v0 = x._version
        with lib.no_grad():
            x.add_(1)
            x.mul_(2)
            x[0] = 7.
        return x, v0, x._version, x.grad_fn, x.is_leaf
    a, _ = _both(f, torch)
    assert a[0].tolist() == [7., 6.] and a[2] == 3


def test_version_counter_bumps(torch):
    def f(lib):
        x = lib.tensor([1., 2.])
        vs = [x._version]
        x.add_(1)
        vs.append(x._version)
        x[0] = 2.
        vs.append(x._version)
        x.zero_()
        vs.append(x._version)
        x += 1
        vs.append(x._version)
        y = x + 1
        vs.append(y._version)
        return vs
    a, _ = _both(f, torch)
    assert a == [0, 1, 2, 3, 4, 0]


# -- row 10: modifying saved tensors ---------------------------------------------------------------------------
def _version_msg(tname, shape, out_of, version, expected):
    which = f", which is output 0 of {out_of}," if out_of else ""
    return ("one of the variables needed for gradient computation has been modified by an inplace operation: "
            f"[torch.{tname} [{shape}]]{which} is at version {version}; expected version {expected} instead. "
            "Hint: enable anomaly detection to find the operation that failed to compute its gradient, with "
            "torch.autograd.set_detect_anomaly(True, check_nan=False).")


def test_modified_saved_output_raises(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        h = x * 2
        y = h.sigmoid()   # saves its result y
        y.add_(1)
        y.sum().backward()
    _raises_like_torch(f, torch, RuntimeError, _version_msg("FloatTensor", "2", "SigmoidBackward0", 1, 0)
                       .replace("SigmoidBackward0", "Sigmoid"))


def test_modified_saved_input_raises(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        h = x * 2
        y = h * h
        h.mul_(3)
        y.sum().backward()
    _raises_like_torch(f, torch, RuntimeError, _version_msg("FloatTensor", "2", "Mul", 1, 0))


def test_modified_saved_leaf_raises(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        c = lib.tensor([3., 4.])
        y = x * c
        c.add_(1)
        c.add_(1)
        y.sum().backward()
    _raises_like_torch(f, torch, RuntimeError, _version_msg("FloatTensor", "2", None, 2, 0))


def test_modified_saved_double_tensor_text(torch):
    def f(lib):
        x = lib.tensor([[1., 2.]], dtype=lib.float64, requires_grad=True)
        h = x.exp()
        h.add_(1)
        h.sum().backward()
    _raises_like_torch(f, torch, RuntimeError, _version_msg("DoubleTensor", "1, 2", "Exp", 1, 0))


def test_modified_unsaved_tensor_is_fine(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        h = x * 1
        y = h.sigmoid()   # sigmoid saves its output, not its input
        h.add_(1)
        y.sum().backward()
        return x.grad, h._version
    _both(f, torch)


def test_detach_shares_version_counter(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        y = x * 1
        z = y * y
        d = y.detach()
        d.add_(1)
        return y._version, d._version
    a, _ = _both(f, torch)
    assert a == (1, 1)

    def g(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        y = x * 1
        z = (y * y).sum()
        y.detach().add_(1)
        z.backward()
    _raises_like_torch(g, torch, RuntimeError, _version_msg("FloatTensor", "2", "Mul", 1, 0))


def test_data_does_not_share_version_counter(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        y = x * 1
        z = (y * y).sum()
        y.data.add_(1)   # silent: the gradient is computed from the modified values
        z.backward()
        return x.grad, y._version
    a, _ = _both(f, torch)
    assert a[0].tolist() == [4., 6.] and a[1] == 0


# -- .data and detach -------------------------------------------------------------------------------------
def test_data_semantics(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        d = x.data
        d[0] = 10.
        info = (d.requires_grad, d.is_leaf, d.grad_fn, x, d)
        x.data = lib.tensor([5., 6.])
        return info, x, x.requires_grad, x._version
    _both(f, torch)


def test_data_of_nonleaf(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        y = x * 2
        return y.data, y.data.requires_grad
    _both(f, torch)


def test_detach_shares_memory(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        y = x * 2
        d = y.detach()
        d[1] = 9.
        return y, d, d.is_leaf, d.requires_grad, d.grad_fn
    _both(f, torch)


def test_detach_inplace(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        y = x * 2
        y.detach_()
        return y, y.is_leaf, y.requires_grad
    _both(f, torch)


# -- row 11, 12: requires_grad / retain_grad / hook errors -------------------------------------------------------
def test_requires_grad_on_nonleaf(torch):
    text = ("you can only change requires_grad flags of leaf variables. If you want to use a computed variable "
            "in a subgraph that doesn't require differentiation use var_no_grad = var.detach().")

    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        (x * 2).requires_grad = False
    _raises_like_torch(f, torch, RuntimeError, text)

    def g(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        (x * 2).requires_grad_(False)
    _raises_like_torch(g, torch, RuntimeError, text)

    def ok(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        y = x * 2
        y.requires_grad_(True)   # setting True on a non-leaf that requires grad is allowed
        return y
    _both(ok, torch)


def test_retain_grad_and_hook_errors(torch):
    _raises_like_torch(lambda lib: lib.tensor([1.]).retain_grad(), torch, RuntimeError,
                       "can't retain_grad on Tensor that has requires_grad=False")
    _raises_like_torch(lambda lib: lib.tensor([1.]).register_hook(lambda g: g), torch, RuntimeError,
                       "cannot register a hook on a tensor that doesn't require gradient")


def test_retain_grad_on_leaf_is_noop(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        x.retain_grad()
        (x * 2).sum().backward()
        return x.grad, x.retains_grad
    _both(f, torch)


# -- row 13: hooks -------------------------------------------------------------------------------------------
def test_hook_replaces_grad_and_retain_grad_sees_hooked(torch):
    for order in ("hook_first", "retain_first"):
        def f(lib):
            x = lib.tensor([1., 2.], requires_grad=True)
            y = x * 1
            if order == "hook_first":
                y.register_hook(lambda g: g * 10)
                y.retain_grad()
            else:
                y.retain_grad()
                y.register_hook(lambda g: g * 10)
            y.sum().backward()
            return y.grad, x.grad
        a, _ = _both(f, torch)
        assert a[0].tolist() == [10., 10.]


def test_leaf_hook_changes_accumulated(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        x.register_hook(lambda g: g * 100)
        x.sum().backward()
        return x.grad
    a, _ = _both(f, torch)
    assert a.tolist() == [100., 100.]


def test_hooks_chain_in_registration_order(torch):
    def f(lib):
        seen = []
        x = lib.tensor([1., 2.], requires_grad=True)
        y = x * 3
        y.register_hook(lambda g: seen.append(("a", g.tolist())) or g + 1)
        y.register_hook(lambda g: seen.append(("b", g.tolist())) or g * 2)
        y.register_hook(lambda g: seen.append(("c", g.tolist())))  # None keeps the gradient
        (y * y).sum().backward()
        return seen, x.grad
    _both(f, torch)


def test_hook_result_checks(torch):
    def size(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        y = x * 2
        y.register_hook(lambda g: g.sum())
        y.sum().backward()
    _raises_like_torch(size, torch, RuntimeError, "hook '<lambda>' has changed the size of value")

    def dtype(lib):
        x = lib.tensor([1., 2.], requires_grad=True)

        def to_double(g):
            return g.double()
        x.register_hook(to_double)
        x.sum().backward()
    _raises_like_torch(dtype, torch, RuntimeError, "hook 'to_double' has changed the type of value (was "
                       "torch.FloatTensor got torch.DoubleTensor)")

    def not_tensor(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        (x * 2).register_hook(lambda g: 3)
        y = x * 2
        y.register_hook(lambda g: 3)
        y.sum().backward()
    _raises_like_torch(not_tensor, torch, TypeError, "expected Variable, but hook returned 'int'")


def test_hook_removal(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        h = x.register_hook(lambda g: g * 100)
        h.remove()
        y = x * 2
        h2 = y.register_hook(lambda g: g * 5)
        h2.remove()
        y.sum().backward()
        return x.grad
    a, _ = _both(f, torch)
    assert a.tolist() == [2., 2.]


def test_hook_sees_grad_before_accumulation_and_with_autograd_grad(torch):
    def f(lib):
        seen = []
        x = lib.tensor([1., 2.], requires_grad=True)
        x.register_hook(lambda g: seen.append(g.clone()))
        y = x * x
        g = lib.autograd.grad(y.sum(), x)
        return seen, g, x.grad
    _both(f, torch)


def test_hook_on_intermediate_used_twice(torch):
    def f(lib):
        calls = []
        x = lib.tensor([1., 2.], requires_grad=True)
        h = x * 2
        h.register_hook(lambda g: calls.append(g.clone()))
        y = (h * 3 + h.exp()).sum()
        y.backward()
        return calls, x.grad
    _both(f, torch)


def test_hook_on_nonleaf_with_multiple_outputs(torch):
    def f(lib):
        x = lib.tensor([1., 2., 3., 4.], requires_grad=True)
        a, b = x.split(2)
        b.register_hook(lambda g: g * 10)
        (a * a + b * b).sum().backward()
        return x.grad
    _both(f, torch)


def test_retain_grad_accumulates_over_backwards(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        y = x * 2
        y.retain_grad()
        z = (y * y).sum()
        z.backward(retain_graph=True)
        z.backward()
        return y.grad, x.grad
    _both(f, torch)


def test_node_register_hook(torch):
    def f(lib):
        seen = []
        x = lib.tensor([1., 2.], requires_grad=True)
        y = x * 3
        y.grad_fn.register_hook(lambda gi, go: seen.append((tuple(gi), tuple(go))))
        y.sum().backward()
        return seen
    a, b = f(ndgrad), f(torch)
    assert len(a) == len(b) == 1
    _same(a[0][0], b[0][0])


# -- in-place ops rebase history ----------------------------------------------------------------------------
def test_inplace_rebases_history(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        y = x * 1
        names = [_fn_name(y.grad_fn)]
        y.add_(1)
        names.append(_fn_name(y.grad_fn))
        y.mul_(2)
        names.append(_fn_name(y.grad_fn))
        y.sum().backward()
        return names, x.grad, y, y._version, _walk_names(y)
    a, _ = _both(f, torch)
    assert a[1].tolist() == [2., 2.]


def test_inplace_with_tensor_other(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        w = lib.tensor([3., 5.], requires_grad=True)
        y = x * 1
        y.mul_(w)     # MulBackward0 needs the old y for w's gradient: torch saves a copy of it
        y.sub_(x)
        y.div_(w)     # and the old y again, for w
        y.pow_(w)
        y.sum().backward()
        return y, x.grad, w.grad, _walk_names(y)
    a, _ = _both(f, torch, rtol=1e-5)
    x, w = np.array([1., 2.]), np.array([3., 5.])
    b = x * (w - 1) / w
    np.testing.assert_allclose(a[1].numpy(), w * b ** (w - 1) * (w - 1) / w, rtol=1e-5)


def test_inplace_ops_double_backward(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        w = lib.tensor([3., 5.], requires_grad=True)
        y = x * 1
        y.mul_(w)      # the saved old value of y keeps its history for the second derivative
        y.mul_(x)
        y.pow_(2)
        gx, gw = lib.autograd.grad(y.sum(), (x, w), create_graph=True)
        hx, hw = lib.autograd.grad((gx * gw).sum(), (x, w))
        return gx, gw, hx, hw
    _both(f, torch, grad_fn=False)


def test_inplace_mul_of_plain_tensor_by_leaf(torch):
    def f(lib):
        w = lib.tensor([3., 5.], requires_grad=True)
        b = lib.tensor([2., 4.])
        b.mul_(w)
        b.mul_(w)
        b.sum().backward()
        return b, w.grad, b._version
    a, _ = _both(f, torch)
    assert a[1].tolist() == [12., 40.]


def test_inplace_saved_result_modified_later_raises(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        w = lib.tensor([3., 5.], requires_grad=True)
        y = x.exp()   # saves its result, which mul_ then overwrites
        y.mul_(w)
        y.sub_(x)
        y.sum().backward()
    _raises_like_torch(f, torch, RuntimeError, _version_msg("FloatTensor", "2", "Exp", 2, 0))


def test_inplace_augmented_assignment_nonleaf(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        w = lib.tensor([3., 5.], requires_grad=True)
        y = x * 2
        y += x
        y *= w
        y /= 2
        y -= 1
        y **= w
        y.sum().backward()
        return y, x.grad, w.grad, _walk_names(y)
    _both(f, torch)


def test_inplace_self_times_self_raises(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        y = x * 2
        y += x
        y *= y      # `other` is y itself: torch keeps it as a saved tensor, and the next op modifies it
        y /= 2
        y.sum().backward()
    _raises_like_torch(f, torch, RuntimeError, _version_msg("FloatTensor", "2", "Div", 3, 1))


def test_inplace_on_tensor_not_requiring_grad_gains_history(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        b = lib.zeros(2)
        b.add_(x * 3)
        b.sum().backward()
        return b, b.is_leaf, x.grad
    _both(f, torch)


def test_inplace_unary_nonleaf_grad(torch):
    def f(lib):
        x = lib.tensor([0.5, 1.5], requires_grad=True)
        y = x * 1
        y.sin_()
        y.cos_()
        y.abs_()
        y.exp_()
        y.sum().backward()
        return y, x.grad, _walk_names(y)
    _both(f, torch, rtol=1e-5)


def test_inplace_unary_saved_result_then_modified(torch):
    def f(lib):
        x = lib.tensor([0.5, 1.5], requires_grad=True)
        y = x * 1
        y.exp_()
        y.sigmoid_()   # saves its result; tanh_ then overwrites it
        y.tanh_()
        y.sum().backward()
    _raises_like_torch(f, torch, RuntimeError, _version_msg("FloatTensor", "2", "Sigmoid", 3, 2))


def test_inplace_result_saved_then_modified(torch):
    def f(lib):
        x = lib.tensor([0.5, 1.5], requires_grad=True)
        y = x * 1
        y.exp_()   # ExpBackward0 saves its result, now y's own buffer
        y.add_(1)  # modifying it must make backward fail
        y.sum().backward()
    _raises_like_torch(f, torch, RuntimeError)


def test_inplace_result_saved_then_used(torch):
    def f(lib):
        x = lib.tensor([0.5, 1.5], requires_grad=True)
        y = x * 1
        y.exp_()
        z = y * 2
        z.sum().backward()
        return x.grad, y._version
    _both(f, torch, rtol=1e-5)


def test_inplace_through_slice_view_reaches_base(torch):
    def f(lib):
        x = lib.tensor([1., 2., 3.])
        x[1:].mul_(3)
        x.view(3)[:1].sub_(5)
        return x, x._version
    _both(f, torch)


def test_inplace_through_0d_view_reaches_base(torch):
    def f(lib):
        x = lib.tensor([1., 2.])
        x[0].add_(1)
        m = lib.tensor([[1., 2.], [3., 4.]])
        m[1][0].zero_()
        return x, m
    _both(f, torch)


def test_inplace_on_view_of_nonleaf_rebases_base(torch):
    def f(lib):
        x = lib.tensor([1., 2., 3.], requires_grad=True)
        y = x * 2
        y[:2].mul_(3)
        y.sum().backward()
        return y, x.grad
    _both(f, torch)


# -- __setitem__ on a non-leaf -------------------------------------------------------------------------------
def test_setitem_nonleaf_slices(torch):
    def f(lib):
        x = lib.tensor([1., 2., 3., 4.], requires_grad=True)
        v = lib.tensor([10., 20.], requires_grad=True)
        y = x * 2
        y[1:3] = v
        (y * lib.tensor([1., 2., 3., 4.])).sum().backward()
        return y, x.grad, v.grad, _walk_names(y)
    a, _ = _both(f, torch)
    assert a[1].tolist() == [2., 0., 0., 8.]
    assert a[2].tolist() == [2., 3.]


def test_setitem_nonleaf_scalar_value(torch):
    def f(lib):
        x = lib.tensor([[1., 2.], [3., 4.]], requires_grad=True)
        y = x * 2
        y[0, 1] = 0.
        y[1] = 5.
        (y * y).sum().backward()
        return y, x.grad, _walk_names(y)
    _both(f, torch, rtol=1e-5)


def test_setitem_nonleaf_whose_result_was_saved_raises(torch):
    def f(lib):
        x = lib.tensor([[1., 2.], [3., 4.]], requires_grad=True)
        y = x.exp()
        y[0, 1] = 0.
        y.sum().backward()
    _raises_like_torch(f, torch, RuntimeError, _version_msg("FloatTensor", "2, 2", "Exp", 1, 0))


def test_setitem_nonleaf_advanced_index(torch):
    def f(lib):
        x = lib.tensor([1., 2., 3., 4.], requires_grad=True)
        v = lib.tensor([7., 8.], requires_grad=True)
        y = x * 3
        y[[0, 2]] = v
        (y * y).sum().backward()
        return y, x.grad, v.grad, _walk_names(y)
    _both(f, torch)


def test_setitem_nonleaf_bool_mask(torch):
    def f(lib):
        x = lib.tensor([1., -2., 3., -4.], requires_grad=True)
        y = x * 1
        y[y < 0] = 0.
        y.sum().backward()
        return y, x.grad, _walk_names(y)
    _both(f, torch)


def test_setitem_on_plain_tensor_with_grad_value(torch):
    def f(lib):
        v = lib.tensor([2., 3.], requires_grad=True)
        y = lib.zeros(3)
        y[1:] = v * 2
        (y * y).sum().backward()
        return y, v.grad, _walk_names(y)
    _both(f, torch)


def _setitem_from_own_views(lib):
    x = lib.tensor([1., 2., 3.], requires_grad=True)
    y = x * 1
    y[0] = y[1] * y[2]   # MulBackward0 saved the views y[1], y[2]; writing into y bumps their version
    y.sum().backward()


def test_setitem_from_own_views_raises(torch):
    want = _outcome(_setitem_from_own_views, torch)
    got = _outcome(_setitem_from_own_views, ndgrad)
    assert got[0] == want[0] == "RuntimeError"
    assert re.sub(r"output 0 of \w+", "", got[1]) == re.sub(r"output 0 of \w+", "", want[1])


@pytest.mark.xfail(strict=True, reason="torch regenerates the grad_fn of a view whose base was modified in place "
                   "(AsStridedBackward0) and names it in the error; ndgrad keeps SelectBackward0")
def test_setitem_from_own_views_names_asstrided(torch):
    _raises_like_torch(_setitem_from_own_views, torch, RuntimeError)


# -- higher order ---------------------------------------------------------------------------------------------
def test_third_order_derivative(torch):
    def f(lib):
        x = lib.tensor([1.5, -0.5], requires_grad=True)
        y = (x ** 4 + x.sin() * x).sum()
        (g1,) = lib.autograd.grad(y, x, create_graph=True)
        (g2,) = lib.autograd.grad(g1.sum(), x, create_graph=True)
        (g3,) = lib.autograd.grad(g2.sum(), x)
        return g1, g2, g3
    a, _ = _both(f, torch, rtol=1e-5, atol=1e-6)
    x = np.array([1.5, -0.5])
    np.testing.assert_allclose(a[2].numpy(), 24 * x - 3 * np.sin(x) - x * np.cos(x), rtol=1e-5)


def test_backward_create_graph_warns_and_gives_copybackwards(torch):
    CREATE = ("Using backward() with create_graph=True will create a reference cycle between the parameter and "
              "its gradient which can cause a memory leak. We recommend using autograd.grad when creating the "
              "graph to avoid this. If you have to use this function, make sure to reset the .grad fields of "
              "your parameters to None after use to break the cycle and avoid the leak.")

    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        (x ** 3).sum().backward(create_graph=True)
        g = x.grad
        name = _fn_name(g.grad_fn)
        g.sum().backward()  # accumulates the second derivative onto the first
        return name, g, x.grad
    # torch warns once per process (TORCH_WARN_ONCE): an earlier test may have used its one warning
    assert _warnings_of(f, ndgrad) == [("UserWarning", CREATE)]
    assert _warnings_of(f, torch) in ([("UserWarning", CREATE)], [])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, _ = _both(f, torch)
    assert a[0] == "CopyBackwards"


def test_double_backward_through_mixed_ops(torch):
    def f(lib):
        x = lib.tensor([[0.3, -1.2], [2.0, 0.7]], requires_grad=True)
        w = lib.tensor([[1.0, 0.5], [-0.5, 2.0]], requires_grad=True)
        y = (lib.tanh(x @ w) * x.exp() / (1 + x * x)).sum()
        gx, gw = lib.autograd.grad(y, (x, w), create_graph=True)
        hx, hw = lib.autograd.grad((gx * gx).sum() + gw.sum(), (x, w))
        return gx, gw, hx, hw
    _both(f, torch, rtol=1e-5, atol=1e-5, grad_fn=False)


def test_create_graph_grads_have_history(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        (g,) = lib.autograd.grad((x * x).sum(), x, create_graph=True)
        return g, g.requires_grad, _walk_names(g)
    _both(f, torch)


# -- requires_grad propagation (row 30) ------------------------------------------------------------------
def test_requires_grad_propagates_if_any_input_requires(torch):
    def f(lib):
        a = lib.tensor([1., 2.], requires_grad=True)
        b = lib.tensor([3., 4.])
        c = a * b
        d = b * 2
        e = lib.stack([b, a])
        m = lib.cat([b, b])
        return c, d, e, m, c.is_leaf, d.is_leaf
    _both(f, torch)


def test_int_output_of_float_input_has_no_grad(torch):
    def f(lib):
        a = lib.tensor([1., 2.], requires_grad=True)
        return a > 1, a.argmax(), (a > 1).requires_grad, a.long()
    _both(f, torch)


def test_tensor_of_tensor_warns(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        return lib.tensor(x)
    w = _warns_like_torch(f, torch)
    assert w == [("UserWarning", "To copy construct from a tensor, it is recommended to use "
                  "sourceTensor.detach().clone() or sourceTensor.detach().clone().requires_grad_(True), "
                  "rather than torch.tensor(sourceTensor).")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _both(f, torch)


# -- row 14: conversions ----------------------------------------------------------------------------------
def test_numpy_errors_and_ok(torch):
    _raises_like_torch(lambda lib: lib.tensor([1.], requires_grad=True).numpy(), torch, RuntimeError,
                       "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")

    def nonleaf(lib):
        x = lib.tensor([1.], requires_grad=True)
        (x * 2).numpy()
    _raises_like_torch(nonleaf, torch, RuntimeError)

    def ok(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        return x.detach().numpy().tolist(), x.tolist(), x[0].item(), x.numpy(force=True).tolist()
    _both(ok, torch)


def test_numpy_shares_memory(torch):
    def f(lib):
        x = lib.tensor([1., 2.])
        n = x.numpy()
        n[0] = 5.
        return x
    _both(f, torch)


def test_scalar_conversions(torch):
    def f(lib):
        x = lib.tensor([2.5])
        i = lib.tensor(3)
        b = lib.tensor([True])
        return float(x), int(x), bool(x), int(i), float(i), bool(b), complex(x), x.item(), i.item(), i.tolist()
    a, b = _both(f, torch)
    assert [type(v) for v in a] == [type(v) for v in b]


def test_float_of_requires_grad_warns(torch):
    text = ("Converting a tensor with requires_grad=True to a scalar may lead to unexpected behavior.\n"
            "Consider using tensor.detach() first.")

    def f(lib):
        return float(lib.tensor(2., requires_grad=True))
    import ndgrad._tensor
    ndgrad._tensor._WARNED_FLOAT = False  # torch warns once per process
    assert _warns_like_torch(f, torch) == [("UserWarning", text)]
    assert _warns_like_torch(f, torch) == []  # not twice

    def h(lib):
        with lib.no_grad():
            return float(lib.tensor(2., requires_grad=True))
    ndgrad._tensor._WARNED_FLOAT = False
    assert _warns_like_torch(h, torch) == []  # nor under no_grad

    def g(lib):
        x = lib.tensor(2., requires_grad=True)
        return x.item(), x.tolist(), int(x.detach())
    assert _warns_like_torch(g, torch) == []


def test_multi_element_conversion_errors(torch):
    _raises_like_torch(lambda lib: float(lib.tensor([1., 2.])), torch, ValueError,
                       "only one element tensors can be converted to Python scalars")
    _raises_like_torch(lambda lib: int(lib.tensor([1, 2])), torch, ValueError,
                       "only one element tensors can be converted to Python scalars")
    _raises_like_torch(lambda lib: bool(lib.tensor([1., 2.])), torch, RuntimeError,
                       "Boolean value of Tensor with more than one value is ambiguous")
    _raises_like_torch(lambda lib: lib.tensor([1., 2.]).item(), torch, RuntimeError)
    _raises_like_torch(lambda lib: bool(lib.tensor([])), torch, RuntimeError)
    _raises_like_torch(lambda lib: float(lib.tensor([])), torch, ValueError)


def test_index_conversion(torch):
    def f(lib):
        return [10, 20, 30][lib.tensor(1)], list(range(5))[lib.tensor(1):lib.tensor(3)]
    _both(f, torch)
    _raises_like_torch(lambda lib: [1, 2][lib.tensor(1.)], torch, TypeError)


# -- row 15: broadcasting gradients -------------------------------------------------------------------------
def test_broadcast_gradients_sum_back(torch):
    def f(lib):
        a = lib.ones(1, 3, requires_grad=True)
        b = lib.tensor([[2.], [4.]], requires_grad=True)
        s = lib.tensor(3., requires_grad=True)
        (a * b * s).sum().backward()
        return a.grad, b.grad, s.grad
    a, _ = _both(f, torch)
    assert a[0].tolist() == [[18., 18., 18.]] and a[1].tolist() == [[9.], [9.]]

    def g(lib):
        a = lib.ones(1, 3, requires_grad=True)
        b = lib.ones(2, 1, requires_grad=True) * 2
        b.retain_grad()
        (a * b).sum().backward()
        return a.grad, b.grad
    a, _ = _both(g, torch)
    assert a[0].tolist() == [[4., 4., 4.]] and a[1].tolist() == [[3.], [3.]]

    def zero_d(lib):
        a = lib.tensor(2., requires_grad=True)
        (a * lib.ones(2, 3)).sum().backward()
        return a.grad
    a, _ = _both(zero_d, torch)
    assert a.tolist() == 6.


def test_duplicate_index_accumulates(torch):
    def f(lib):
        x = lib.tensor([1., 2., 3.], requires_grad=True)
        x[[0, 0, 1]].sum().backward()
        return x.grad
    a, _ = _both(f, torch)
    assert a.tolist() == [2., 1., 0.]


# -- row 20: grad_fn names and next_functions -------------------------------------------------------------
GRAPH_CASES = {
    "add": lambda lib, x, w, m: x + w,
    "radd": lambda lib, x, w, m: 2 + x,
    "sub": lambda lib, x, w, m: x - w,
    "rsub": lambda lib, x, w, m: 1 - x,
    "mul": lambda lib, x, w, m: x * w,
    "rmul": lambda lib, x, w, m: 3 * x,
    "rdiv": lambda lib, x, w, m: 2 / x,
    "div": lambda lib, x, w, m: x / 2,
    "div_tt": lambda lib, x, w, m: x / w,
    "pow_s": lambda lib, x, w, m: x ** 2,
    "pow_t": lambda lib, x, w, m: x ** w,
    "rpow": lambda lib, x, w, m: 2 ** x,
    "neg": lambda lib, x, w, m: -x,
    "mm": lambda lib, x, w, m: m @ m,
    "dot": lambda lib, x, w, m: x @ w,
    "mv": lambda lib, x, w, m: m @ x[:2],
    "bmm3d": lambda lib, x, w, m: m.reshape(1, 2, 2) @ m.reshape(1, 2, 2),
    "sum": lambda lib, x, w, m: x.sum(),
    "sum_dim": lambda lib, x, w, m: m.sum(0),
    "mean": lambda lib, x, w, m: x.mean(),
    "mean_dim": lambda lib, x, w, m: m.mean(1),
    "max": lambda lib, x, w, m: x.max(),
    "max_dim": lambda lib, x, w, m: m.max(0)[0],
    "reshape": lambda lib, x, w, m: m.reshape(4),
    "view": lambda lib, x, w, m: m.view(4),
    "flatten": lambda lib, x, w, m: m.flatten(),
    "T": lambda lib, x, w, m: m.T,
    "permute": lambda lib, x, w, m: m.permute(1, 0),
    "transpose": lambda lib, x, w, m: m.transpose(0, 1),
    "select": lambda lib, x, w, m: x[0],
    "slice": lambda lib, x, w, m: x[0:1],
    "index": lambda lib, x, w, m: x[[0]],
    "unsqueeze": lambda lib, x, w, m: x.unsqueeze(0),
    "squeeze": lambda lib, x, w, m: x.unsqueeze(0).squeeze(0),
    "expand": lambda lib, x, w, m: x[:1].expand(3),
    "cat": lambda lib, x, w, m: lib.cat([x, w]),
    "stack": lambda lib, x, w, m: lib.stack([x, w]),
    "where": lambda lib, x, w, m: lib.where(x > 1, x, w),
    "clamp": lambda lib, x, w, m: x.clamp(0, 1),
    "clone": lambda lib, x, w, m: x.clone(),
    "exp_log": lambda lib, x, w, m: x.exp().log(),
    "sin_cos_tanh": lambda lib, x, w, m: x.sin().cos().tanh(),
    "sigmoid_relu_abs": lambda lib, x, w, m: x.sigmoid().relu().abs(),
    "sqrt_rsqrt": lambda lib, x, w, m: x.sqrt().rsqrt(),
    "to_double": lambda lib, x, w, m: x.double(),
    "mixed": lambda lib, x, w, m: ((x * w).sum() + (m @ m).mean() * x[1]) / w.sum(),
    "shared": lambda lib, x, w, m: (x * x) + x.exp() * x,
    "split": lambda lib, x, w, m: lib.split(x, 2)[1] * 2,
    "unbind": lambda lib, x, w, m: lib.unbind(m)[1] * 2,
    "amax": lambda lib, x, w, m: m.amax(0),
    "prod": lambda lib, x, w, m: x.prod(),
    "maximum": lambda lib, x, w, m: lib.maximum(x, w),
    "setitem": None,
}
GRAPH_XFAIL = {
    "bmm3d": "_ops/linalg.py: torch's 3-D matmul is UnsafeView <- Bmm <- View <- Expand; ndgrad's one "
             "UnsafeViewBackward0 node feeds the ViewBackward0 of its inputs directly",
}


@pytest.mark.parametrize("case", [pytest.param(c, marks=pytest.mark.xfail(strict=True, reason=GRAPH_XFAIL[c]))
                                  if c in GRAPH_XFAIL else c for c in GRAPH_CASES])
def test_grad_fn_names_and_graph_structure(torch, case):
    def f(lib):
        x = lib.tensor([1., 2., 3.], requires_grad=True)
        w = lib.tensor([0.5, 1.5, 2.5], requires_grad=True)
        m = lib.tensor([[1., 2.], [3., 4.]], requires_grad=True)
        if case == "setitem":
            y = x * 2
            y[0] = w[1]
        else:
            y = GRAPH_CASES[case](lib, x, w, m)
        g = y.sum() if y.ndim else y
        g.backward()
        return y, _walk_names(y), _edges(y), x.grad, w.grad, m.grad
    _both(f, torch, rtol=1e-5)


def test_next_functions_structure(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        c = lib.tensor([3., 4.])
        y = x * c
        acc = y.grad_fn.next_functions[0][0]
        return (len(y.grad_fn.next_functions), y.grad_fn.next_functions[1], _fn_name(acc),
                acc.variable is x, y.grad_fn.next_functions[0][1])
    _both(f, torch)


def test_output_nr_of_unbind(torch):
    def f(lib):
        x = lib.tensor([[1., 2.], [3., 4.]], requires_grad=True)
        a, b = x.unbind(0)
        y = a * b
        return [(_fn_name(fn), nr) for fn, nr in y.grad_fn.next_functions], a.output_nr, b.output_nr
    _both(f, torch)


def test_accumulate_grad_node_is_shared(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        a = x * 2
        b = x * 3
        return a.grad_fn.next_functions[0][0] is b.grad_fn.next_functions[0][0]
    assert _both(f, torch)[0] is True


def test_output_nr_of_multi_output(torch):
    def f(lib):
        x = lib.tensor([1., 2., 3., 4.], requires_grad=True)
        a, b = x.split(2)
        y = a * b
        return [(_fn_name(fn), nr) for fn, nr in y.grad_fn.next_functions], a.output_nr, b.output_nr
    _both(f, torch)


def test_is_leaf(torch):
    def f(lib):
        a = lib.tensor([1.], requires_grad=True)
        b = lib.tensor([1.])
        c = a * 2
        d = b * 2
        with lib.no_grad():
            e = a * 2
        return a.is_leaf, b.is_leaf, c.is_leaf, d.is_leaf, e.is_leaf, e.requires_grad
    _both(f, torch)


# -- row 23: grad modes -------------------------------------------------------------------------------------
def test_no_grad_context(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        with lib.no_grad():
            y = x * 2
            inner = lib.is_grad_enabled()
            with lib.enable_grad():
                z = x * 2
                inner2 = lib.is_grad_enabled()
        return y, y.requires_grad, y.grad_fn, z, inner, inner2, lib.is_grad_enabled()
    _both(f, torch)


def test_grad_mode_decorators(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)

        @lib.no_grad()
        def nog(t):
            return t * 2, lib.is_grad_enabled()

        @lib.enable_grad()
        def eg(t):
            return t * 2

        @lib.set_grad_enabled(False)
        def sge(t):
            return t * 2

        # torch.set_grad_enabled(False) as a decorator changes the mode on construction: restore it
        lib.set_grad_enabled(True)
        a = nog(x)
        with lib.no_grad():
            b = eg(x)
        c = sge(x)
        return a, b, c, lib.is_grad_enabled()
    _both(f, torch)


def test_no_grad_bare_decorator(torch):
    def f(lib):
        @lib.no_grad
        def nog(t):
            return t * 2
        return nog(lib.tensor([1.], requires_grad=True))
    _both(f, torch)


def test_grad_mode_generator_decorator(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)

        @lib.no_grad()
        def gen():
            for _ in range(2):
                yield x * 2, lib.is_grad_enabled()
        out = list(gen())
        return out, lib.is_grad_enabled()
    _both(f, torch)


def test_set_grad_enabled_forms(torch):
    def f(lib):
        x = lib.tensor([1.], requires_grad=True)
        states = []
        with lib.set_grad_enabled(False):
            states.append(lib.is_grad_enabled())
            y = x * 2
        states.append(lib.is_grad_enabled())
        lib.set_grad_enabled(False)
        states.append(lib.is_grad_enabled())
        z = x * 2
        lib.set_grad_enabled(True)
        states.append(lib.is_grad_enabled())
        with lib.set_grad_enabled(True):
            w = x * 2
        return states, y, z, w
    _both(f, torch)


def test_grad_mode_restored_after_exception(torch):
    def f(lib):
        try:
            with lib.no_grad():
                raise KeyError
        except KeyError:
            pass
        return lib.is_grad_enabled()
    assert _both(f, torch)[0] is True


def test_grad_mode_is_thread_local():
    seen = []

    def worker():
        seen.append(ndgrad.is_grad_enabled())
        x = ndgrad.tensor([1.], requires_grad=True)
        seen.append((x * 2).requires_grad)

    with ndgrad.no_grad():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
        assert not ndgrad.is_grad_enabled()
    assert seen == [True, True]


def test_grad_mode_thread_local_matches_torch(torch):
    def f(lib):
        seen = []

        def worker():
            seen.append(lib.is_grad_enabled())
        with lib.no_grad():
            t = threading.Thread(target=worker)
            t.start()
            t.join()
        return seen
    _both(f, torch)


_INFERENCE_XFAIL = ("ndgrad's inference_mode is no_grad plus a flag: tensors made inside are ordinary tensors, so "
                    "torch's inference-tensor errors are not raised")


@pytest.mark.xfail(strict=True, reason=_INFERENCE_XFAIL)
def test_inference_tensor_cannot_be_saved(torch):
    def f(lib):
        with lib.inference_mode():
            t = lib.ones(2)
        x = lib.tensor([1., 2.], requires_grad=True)
        return x * t
    _raises_like_torch(f, torch, RuntimeError)


@pytest.mark.xfail(strict=True, reason=_INFERENCE_XFAIL)
def test_inference_tensor_inplace_outside(torch):
    def f(lib):
        with lib.inference_mode():
            t = lib.ones(2)
        t.add_(1)
    _raises_like_torch(f, torch, RuntimeError)


def test_inference_mode(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        with lib.inference_mode():
            y = x * 2
            flags = (lib.is_grad_enabled(), lib.is_inference_mode_enabled())
        return y, flags, lib.is_inference_mode_enabled()
    _both(f, torch)


def test_backward_runs_with_grad_mode_off_unless_create_graph(torch):
    def f(lib):
        modes = []
        x = lib.tensor([1., 2.], requires_grad=True)
        y = x * 2
        y.register_hook(lambda g: modes.append(lib.is_grad_enabled()))
        y.sum().backward()
        z = x * 2
        z.register_hook(lambda g: modes.append(lib.is_grad_enabled()))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            z.sum().backward(create_graph=True)
        return modes
    _both(f, torch)


def test_backward_inside_no_grad(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        y = (x * x).sum()
        with lib.no_grad():
            y.backward()
        return x.grad
    _both(f, torch)


# -- row 27: subgradient conventions --------------------------------------------------------------------------
SUBGRADIENTS = {
    "relu": lambda lib, x: x.relu(),
    "abs": lambda lib, x: x.abs(),
    "sqrt": lambda lib, x: x.sqrt(),
    "clamp": lambda lib, x: x.clamp(0, 1),
    "clamp_min": lambda lib, x: x.clamp(min=0),
    "clamp_max": lambda lib, x: x.clamp(max=1),
    "pow0": lambda lib, x: x ** 0,
    "pow_half": lambda lib, x: x ** 0.5,
    "max_all": lambda lib, x: x.max(),
    "min_all": lambda lib, x: x.min(),
    "amax": lambda lib, x: x.amax(),
    "amin": lambda lib, x: x.amin(),
    "max_dim": lambda lib, x: x.max(0)[0],
    "min_dim": lambda lib, x: x.min(0)[0],
    "maximum_tie": lambda lib, x: lib.maximum(x, lib.tensor([0., 1., 1., 0.5])),
    "minimum_tie": lambda lib, x: lib.minimum(x, lib.tensor([0., 1., 1., 0.5])),
    "where_log": lambda lib, x: lib.where(x > 0, x.log(), lib.zeros(4)),
    "sign": lambda lib, x: x.sign(),
    "floor": lambda lib, x: x.floor(),
    "prod_zero": lambda lib, x: x.prod(),
}


@pytest.mark.parametrize("case", list(SUBGRADIENTS))
def test_subgradient_conventions(torch, case):
    def f(lib):
        x = lib.tensor([0., 1., 1., 0.], requires_grad=True)
        y = SUBGRADIENTS[case](lib, x)
        y.sum().backward()
        return y, x.grad
    _both(f, torch)


def test_pow_with_zero_base_exponent_gradient(torch):
    def f(lib):
        b = lib.tensor([0., 0., 2.], requires_grad=True)
        e = lib.tensor([2., 0., 0.], requires_grad=True)
        (b ** e).sum().backward()
        return b.grad, e.grad
    a, _ = _both(f, torch)
    assert a[1].tolist()[0] == 0.

    def g(lib):
        e = lib.tensor([1., 2.], requires_grad=True)
        (0 ** e).sum().backward()
        return e.grad
    _both(g, torch)


def test_max_ties_split_evenly(torch):
    def f(lib):
        x = lib.tensor([3., 1., 3.], requires_grad=True)
        x.max().backward()
        g1 = x.grad.clone()
        x.grad = None
        lib.tensor([[3., 3.]], requires_grad=True)
        y = lib.tensor([[3., 1., 3.]], requires_grad=True)
        y.max(1)[0].sum().backward()
        return g1, y.grad
    a, _ = _both(f, torch)
    assert a[0].tolist() == [0.5, 0., 0.5]


# -- misc engine behaviour -------------------------------------------------------------------------------
def test_diamond_graph_gradients(torch):
    def f(lib):
        x = lib.tensor([0.5, 1.5], requires_grad=True)
        a = x.exp()
        b = a * x
        c = a.sin() + b
        d = (c * b).sum()
        d.backward()
        return x.grad
    _both(f, torch, rtol=1e-5)


def test_unreachable_branch_not_run_with_inputs(torch):
    def f(lib):
        calls = []
        x = lib.tensor([1., 2.], requires_grad=True)
        w = lib.tensor([3., 4.], requires_grad=True)
        a = x * 2
        a.register_hook(lambda g: calls.append("a"))
        b = w * 3
        b.register_hook(lambda g: calls.append("b"))
        (a + b).sum().backward(inputs=[w])
        return calls, x.grad, w.grad
    _both(f, torch)


def test_grad_of_view_leaf_and_base(torch):
    def f(lib):
        x = lib.tensor([[1., 2.], [3., 4.]], requires_grad=True)
        v = x[0]
        y = (v * v).sum() + x.sum()
        y.backward()
        return x.grad
    _both(f, torch)


def test_grad_setter_checks(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        x.grad = lib.tensor([5., 5.])
        (x * 2).sum().backward()
        return x.grad
    _both(f, torch)
    _raises_like_torch(lambda lib: setattr(lib.tensor([1., 2.]), "grad", lib.tensor([1., 2., 3.])), torch,
                       RuntimeError)
    _raises_like_torch(lambda lib: setattr(lib.tensor([1., 2.]), "grad", lib.tensor([1, 2])), torch,
                       RuntimeError)


def test_backward_int_gradient_for_float_output(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        (x * 2).backward(lib.tensor([1, 1]))
        return x.grad
    _both(f, torch)


def test_float64_graph_keeps_dtype(torch):
    def f(lib):
        x = lib.tensor([1., 2.], dtype=lib.float64, requires_grad=True)
        w = lib.tensor([1., 2.], requires_grad=True)
        (x * w).sum().backward()
        return x.grad, w.grad
    _both(f, torch)


def test_zero_dim_and_empty_backward(torch):
    def f(lib):
        x = lib.tensor(3., requires_grad=True)
        (x * x).backward()
        e = lib.zeros(0, 3, requires_grad=True)
        e.sum().backward()
        return x.grad, e.grad
    _both(f, torch)


def test_grad_zero_inplace_and_none(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        (x * 2).sum().backward()
        x.grad.zero_()
        (x * 3).sum().backward()
        g = x.grad.clone()
        x.grad = None
        (x * 4).sum().backward()
        return g, x.grad
    _both(f, torch)


# -- the "(Triggered internally at ...)" suffix of torch's C++ warnings ----------------------------------------
_CPP_WARNINGS = """
import json, sys, warnings
import {lib} as lib
def cap(f):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        f()
    return [str(x.message) for x in w]
x = lib.ones(2, requires_grad=True)
y = x * 2
def create_graph():
    a = lib.ones(2, requires_grad=True)
    (a * a).sum().backward(create_graph=True)
print(json.dumps([cap(lambda: y.grad), cap(lambda: float(x.sum())), cap(lambda: lib.tensor(1.0).T),
                  cap(lambda: lib.ones(2, 3, 4).T), cap(create_graph)]))
"""


def test_cpp_warnings_carry_torchs_suffix():
    """The whole text, suffix included, as the reference wheel (torch 2.13.0 CPU for Linux, built under /__w/)
    prints it: a program's output then matches torch's line for line. Another build's paths differ: only the
    texts before the suffix are compared then. (Fresh processes: torch gives some of these once per process.)"""
    import json
    import subprocess
    import sys
    pytest.importorskip("torch")

    def run(lib):
        out = subprocess.run([sys.executable, "-c", _CPP_WARNINGS.format(lib=lib)], capture_output=True, text=True,
                             check=True).stdout
        return json.loads(out)
    got, want = run("ndgrad"), run("torch")
    assert all(len(w) == 1 for w in want), want
    if all("(Triggered internally at /__w/pytorch/pytorch/" in w[0] for w in want):
        assert got == want
    else:
        assert [[m.split(TRIGGERED)[0] for m in g] for g in got] == [[m.split(TRIGGERED)[0] for m in w] for w in want]


def test_prune_sweep_agrees_with_the_walk_from_the_targets():
    """autograd.grad's pruning (engine._prune: one sweep in creation order) keeps exactly the nodes from which an
    input is reached, as the walk up from the inputs does, with the same dependency counts; a graph whose order
    is broken takes the walk."""
    from ndgrad.autograd import engine as E
    rng = np.random.default_rng(3)
    for trial in range(30):
        leaves = [ndgrad.tensor(rng.standard_normal(2), requires_grad=True) for _ in range(4)]
        pool = list(leaves)
        for _ in range(25):
            a, b = (pool[int(i)] for i in rng.integers(0, len(pool), 2))
            pool.append([a * b, a + b, a.sin(), b - 1.0][int(rng.integers(0, 4))])
        out = sum(pool[-3:], pool[-4]).sum()
        picked = [leaves[int(i)] for i in rng.choice(4, 2, replace=False)] + [pool[int(rng.integers(4, 12))]]
        start, targets, deps, needed = E._discover([out], [np.ones(())], False, picked)
        deps2 = dict.fromkeys(start, 0)
        stack = list(start)
        while stack:  # the counts _discover made, again, for the walk
            node = stack.pop()
            for child, _ in node.next_functions:
                if child is not None:
                    if child not in deps2:
                        deps2[child] = 0
                        stack.append(child)
                    deps2[child] += 1
        walked = E._prune_walk(set(deps2), targets, deps2)
        assert needed == walked and deps == deps2
        grads = ndgrad.autograd.grad(out, picked, allow_unused=True, retain_graph=True)
        sweep, E._prune = E._prune, E._prune_walk
        try:
            again = ndgrad.autograd.grad(out, picked, allow_unused=True)
        finally:
            E._prune = sweep
        for g1, g2 in zip(grads, again):
            assert (g1 is None) == (g2 is None) and (g1 is None or np.array_equal(g1.numpy(), g2.numpy()))
    # a node whose input was made after it: the sweep cannot decide, the walk does
    x = ndgrad.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).sin()
    inner = y.grad_fn.next_functions[0][0]
    inner._seq, y.grad_fn._seq = y.grad_fn._seq, inner._seq
    try:
        g, = ndgrad.autograd.grad(y.sum(), x)
        assert np.allclose(g.numpy(), 2 * np.cos(np.array([2.0, 4.0])))
    finally:
        inner._seq, y.grad_fn._seq = y.grad_fn._seq, inner._seq
