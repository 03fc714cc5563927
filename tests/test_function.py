"""Custom `autograd.Function`s, compared with PyTorch (row 21 and scenarios 9 and 13).

Each Function is defined once by `_make(lib)` for either library, so the same source runs under
ndgrad and torch and the results (values, grad_fn names, errors) are compared.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import ndgrad
from torchcmp import fn_name as _name


def _same(a, b, rtol=1e-6):
    import torch
    if isinstance(b, torch.Tensor):
        assert isinstance(a, ndgrad.Tensor), (a, b)
        assert tuple(a.shape) == tuple(b.shape) and str(a.dtype) == str(b.dtype), (a, b)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=1e-7)
        assert a.requires_grad == b.requires_grad, (a, b)
        assert _name(a.grad_fn) == _name(b.grad_fn), (a.grad_fn, b.grad_fn)
    elif isinstance(b, (list, tuple)):
        assert isinstance(a, (list, tuple)) and len(a) == len(b), (a, b)
        for x, y in zip(a, b):
            _same(x, y, rtol)
    else:
        assert a == b, (a, b)


def _both(f, torch, **kw):
    a, b = f(ndgrad), f(torch)
    _same(a, b, **kw)
    return a


def _outcome(f, lib):
    try:
        f(lib)
    except Exception as e:  # noqa: BLE001
        return type(e).__name__, str(e).split("(Triggered internally")[0].rstrip()
    return None


def _raises_like_torch(f, torch, text=None):
    want = _outcome(f, torch)
    assert want is not None, "torch did not raise"
    if text is not None:
        assert want[1] == text, want
    assert _outcome(f, ndgrad) == want
    return want


# -- the tutorial scenarios -------------------------------------------------------------------------------
def _custom_relu(lib):
    class CustomReLU(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return lib.max(input, lib.tensor([0.0]))

        @staticmethod
        def backward(ctx, grad_output):
            (input,) = ctx.saved_tensors
            grad_input = grad_output.clone()
            grad_input[input < 0] = 0
            return grad_input
    return CustomReLU


def test_scenario_9_custom_relu(torch):
    def f(lib):
        x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        y = _custom_relu(lib).apply(x)
        y.backward(lib.tensor([1., 1., 1.]))
        return y, x.grad, repr(y)
    a = _both(f, torch)
    assert a[2] == "tensor([1., 0., 3.], grad_fn=<CustomReLUBackward>)"
    assert a[1].tolist() == [1., 0., 1.]


def _sq(lib):
    class SQ(lib.autograd.Function):
        @staticmethod
        def forward(ctx, i):
            ctx.save_for_backward(i)
            return i ** 2

        @staticmethod
        def backward(ctx, grad_output):
            (i,) = ctx.saved_tensors
            return grad_output * 2 * i
    return SQ


def test_scenario_13_sq(torch):
    def f(lib):
        x = lib.tensor(2.0, requires_grad=True)
        y = _sq(lib).apply(x)
        r = repr(y)
        node = repr(y.grad_fn).split(" object at ")[0].replace(lib.__name__ + ".", "LIB.")
        y.backward()
        return y, r, node, x.grad, x.is_leaf, y.is_leaf
    a = _both(f, torch)
    assert a[1] == "tensor(4., grad_fn=<SQBackward>)"
    assert a[3].tolist() == 4.0


# -- saving, needs_input_grad, non-tensor arguments --------------------------------------------------------
def _scaled_mul(lib, log):
    class ScaledMul(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, b, scale, tag="x"):
            log.append(("forward", tuple(ctx.needs_input_grad), tag))
            ctx.save_for_backward(a, b)
            ctx.scale = scale
            return a * b * scale

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            log.append(("backward", tuple(ctx.needs_input_grad)))
            ga = g * b * ctx.scale if ctx.needs_input_grad[0] else None
            gb = g * a * ctx.scale if ctx.needs_input_grad[1] else None
            return ga, gb, None, None
    return ScaledMul


@pytest.mark.parametrize("which", ["both", "a", "b"])
def test_needs_input_grad_and_non_tensor_args(torch, which):
    def f(lib):
        log = []
        a = lib.tensor([1., 2.], requires_grad=which in ("both", "a"))
        b = lib.tensor([3., 4.], requires_grad=which in ("both", "b"))
        y = _scaled_mul(lib, log).apply(a, b, 2.0, "t")
        y.sum().backward()
        return log, y, a.grad, b.grad
    a = _both(f, torch)
    assert a[0][0][1] == {"both": (True, True, False, False), "a": (True, False, False, False),
                          "b": (False, True, False, False)}[which]


def test_no_input_requires_grad_gives_plain_output(torch):
    def f(lib):
        log = []
        y = _scaled_mul(lib, log).apply(lib.tensor([1., 2.]), lib.tensor([3., 4.]), 2.0)
        return log, y, y.requires_grad, y.grad_fn
    _both(f, torch)


def test_apply_under_no_grad(torch):
    def f(lib):
        log = []
        a = lib.tensor([1., 2.], requires_grad=True)
        with lib.no_grad():
            y = _scaled_mul(lib, log).apply(a, a, 3.0)
        return log, y
    _both(f, torch)


def test_forward_runs_with_grad_mode_off(torch):
    def f(lib):
        seen = []

        class Probe(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                seen.append(lib.is_grad_enabled())
                y = x * 2
                seen.append(y.requires_grad)
                return y

            @staticmethod
            def backward(ctx, g):
                seen.append(lib.is_grad_enabled())
                return g * 2
        x = lib.tensor([1.], requires_grad=True)
        Probe.apply(x).sum().backward()
        return seen
    _both(f, torch)


def test_saved_tensors_none_and_keyword_free(torch):
    def f(lib):
        class SaveNone(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(None, x)
                return x * 3

            @staticmethod
            def backward(ctx, g):
                none, x = ctx.saved_tensors
                assert none is None
                return g * 3
        x = lib.tensor([1., 2.], requires_grad=True)
        SaveNone.apply(x).sum().backward()
        return x.grad
    _both(f, torch)


def test_save_for_backward_rejects_non_tensors(torch):
    def f(lib):
        class Bad(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x, 3)
                return x * 1

            @staticmethod
            def backward(ctx, g):
                return g
        Bad.apply(lib.tensor([1.], requires_grad=True))
    _raises_like_torch(f, torch)


def test_saved_tensors_freed_after_backward(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        y = _sq(lib).apply(x)
        y.sum().backward()
        y.grad_fn.saved_tensors
    _raises_like_torch(f, torch)

    def g(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        y = _sq(lib).apply(x)
        y.sum().backward()
        y.sum().backward()
    _raises_like_torch(g, torch)

    def h(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        y = _sq(lib).apply(x)
        y.sum().backward(retain_graph=True)
        n = len(y.grad_fn.saved_tensors)
        y.sum().backward()
        return x.grad, n
    _both(h, torch)


# -- several outputs, non-differentiable outputs, materialize_grads ---------------------------------------
def _sort_like(lib, materialize=True, log=None):
    class TwoOut(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(materialize)
            idx = (x > 0).long()
            ctx.mark_non_differentiable(idx)
            ctx.save_for_backward(x)
            return x * 2, x.exp(), idx

        @staticmethod
        def backward(ctx, g1, g2, gidx):
            (x,) = ctx.saved_tensors
            if log is not None:
                log.append((g1 is None, g2 is None, gidx is None if gidx is None else gidx.tolist()))
            out = None
            if g1 is not None:
                out = g1 * 2
            if g2 is not None:
                out = g2 * x.exp() if out is None else out + g2 * x.exp()
            return out
    return TwoOut


def test_several_outputs_and_non_differentiable(torch):
    def f(lib):
        x = lib.tensor([-1., 2.], requires_grad=True)
        a, b, idx = _sort_like(lib).apply(x)
        (a.sum() + b.sum()).backward()
        return a, b, idx, idx.requires_grad, x.grad, a.output_nr, b.output_nr, a.grad_fn is b.grad_fn
    _both(f, torch, rtol=1e-5)


@pytest.mark.parametrize("materialize", [True, False])
def test_set_materialize_grads(torch, materialize):
    def f(lib):
        log = []
        x = lib.tensor([-1., 2.], requires_grad=True)
        a, b, idx = _sort_like(lib, materialize, log).apply(x)
        a.sum().backward()  # b gets no gradient: zeros, or None when not materialized
        return log, x.grad
    _both(f, torch)


def test_float_output_marked_non_differentiable(torch):
    def f(lib):
        class Nd(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                y = x * 2
                z = x * 3
                ctx.mark_non_differentiable(z)
                return y, z

            @staticmethod
            def backward(ctx, gy, gz):
                return gy * 2
        x = lib.tensor([1., 2.], requires_grad=True)
        y, z = Nd.apply(x)
        y.sum().backward()
        return y, z, z.requires_grad, z.grad_fn, x.grad
    _both(f, torch)


def test_non_tensor_outputs_pass_through(torch):
    def f(lib):
        class Mixed(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2, 7, "label"

            @staticmethod
            def backward(ctx, g, g2, g3):
                return g * 2
        x = lib.tensor([1., 2.], requires_grad=True)
        y, n, s = Mixed.apply(x)
        y.sum().backward()
        return y, n, s, x.grad
    _both(f, torch)


def test_returning_input_gives_new_tensor(torch):
    def f(lib):
        class Ident(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x

            @staticmethod
            def backward(ctx, g):
                return g * 5
        x = lib.tensor([1., 2.], requires_grad=True)
        y = Ident.apply(x)
        same = y is x
        y.sum().backward()
        return same, y, x.grad, x.is_leaf
    a = _both(f, torch)
    assert a[0] is False


def test_mark_dirty(torch):
    def f(lib):
        class AddOneInplace(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                x.add_(1)
                ctx.mark_dirty(x)
                return x

            @staticmethod
            def backward(ctx, g):
                return g * 1
        x = lib.tensor([1., 2.], requires_grad=True)
        h = x * 2
        y = AddOneInplace.apply(h)
        same = y is h
        (y * y).sum().backward()
        return same, y, h._version, x.grad
    _both(f, torch)


def test_setup_context_style(torch):
    def f(lib):
        class Cube(lib.autograd.Function):
            @staticmethod
            def forward(x, k):
                return x ** 3 * k

            @staticmethod
            def setup_context(ctx, inputs, output):
                x, k = inputs
                ctx.save_for_backward(x)
                ctx.k = k

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return g * 3 * x ** 2 * ctx.k, None
        x = lib.tensor([1., 2.], requires_grad=True)
        y = Cube.apply(x, 2.0)
        y.sum().backward()
        return y, x.grad
    a = _both(f, torch)
    assert a[0].grad_fn.name() == "CubeBackward"


# -- once_differentiable and double backward ------------------------------------------------------------------
def _cube(lib, once=False):
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x ** 2

    class Cube(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

    Cube.backward = staticmethod(lib.autograd.function.once_differentiable(backward) if once else backward)
    return Cube


def test_double_backward_through_custom_backward(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        y = _cube(lib).apply(x).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        (h,) = lib.autograd.grad(g.sum(), x)
        return g, h
    a = _both(f, torch)
    assert a[1].tolist() == [6., 12.]


def test_once_differentiable(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        y = _cube(lib, once=True).apply(x).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        return g, g.requires_grad
    _both(f, torch)

    def second(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        y = _cube(lib, once=True).apply(x).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        g.sum().backward()
    _raises_like_torch(second, torch, "element 0 of tensors does not require grad and does not have a grad_fn")


def test_custom_function_in_a_larger_graph(torch):
    def f(lib):
        x = lib.tensor([0.5, -1.5, 2.0], requires_grad=True)
        w = lib.tensor([1., 2., 3.], requires_grad=True)
        h = _cube(lib).apply(x * w)
        y = (_custom_relu(lib).apply(h - 1) * w).sum()
        y.backward()
        names = [_name(fn) for fn, _ in y.grad_fn.next_functions]
        return y, x.grad, w.grad, names
    _both(f, torch, rtol=1e-5)


def test_custom_function_receives_broadcast_gradient_of_right_shape(torch):
    def f(lib):
        class RowSum(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.shape = x.shape
                return x.sum(1)

            @staticmethod
            def backward(ctx, g):
                return g.unsqueeze(1).expand(*ctx.shape)
        x = lib.tensor([[1., 2.], [3., 4.]], requires_grad=True)
        y = RowSum.apply(x)
        (y * lib.tensor([1., 10.])).sum().backward()
        return y, x.grad
    _both(f, torch)


def test_backward_returning_broadcastable_gradient_is_summed(torch):
    def f(lib):
        class Scale(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return (g * 2).expand(3, 2)   # expandable to [2]: torch sums it back
        x = lib.tensor([1., 2.], requires_grad=True)
        Scale.apply(x).sum().backward()
        return x.grad
    _both(f, torch)


def test_backward_gradient_dtype_cast_to_input(torch):
    def f(lib):
        class ToDouble(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return (g * 2).double()
        x = lib.tensor([1., 2.], requires_grad=True)
        ToDouble.apply(x).sum().backward()
        return x.grad
    _both(f, torch)


# -- errors ---------------------------------------------------------------------------------------------
def test_wrong_number_of_gradients(torch):
    def f(lib):
        class Bad(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, y):
                return x * y

            @staticmethod
            def backward(ctx, g):
                return g
        x = lib.tensor([1., 2.], requires_grad=True)
        Bad.apply(x, x).sum().backward()
    _raises_like_torch(f, torch, "function BadBackward returned an incorrect number of gradients (expected 2, got 1)")


def test_too_many_gradients(torch):
    def f(lib):
        class TooMany(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g, g
        TooMany.apply(lib.tensor([1.], requires_grad=True)).sum().backward()
    _raises_like_torch(f, torch)

    def extra_nones_ok(lib):
        class ExtraNone(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g * 2, None, None
        x = lib.tensor([1.], requires_grad=True)
        ExtraNone.apply(x).sum().backward()
        return x.grad
    _both(extra_nones_ok, torch)


def test_wrong_gradient_shape(torch):
    def f(lib):
        class BadShape(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return lib.ones(3)
        BadShape.apply(lib.tensor([1., 2.], requires_grad=True)).sum().backward()
    _raises_like_torch(f, torch, "Function BadShapeBackward returned an invalid gradient at index 0 - got [3] but "
                       "expected shape compatible with [2]")


def test_gradient_for_non_tensor_input(torch):
    def f(lib):
        class GradForScalar(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, k):
                return x * k

            @staticmethod
            def backward(ctx, g):
                return g, g
        GradForScalar.apply(lib.tensor([1.], requires_grad=True), 2.0).sum().backward()
    _raises_like_torch(f, torch)


def test_instantiating_a_function_is_legacy(torch):
    text = ("Legacy autograd function with non-static forward method is deprecated. Please use new-style autograd "
            "function with static forward method. (Example: "
            "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)")

    def f(lib):
        _sq(lib)()(lib.tensor([1.], requires_grad=True))
    _raises_like_torch(f, torch, text)


def _save_out(lib):
    """exp as a Function that saves its output."""
    class SaveOut(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * y
    return SaveOut


def test_saved_output_modified_in_place(torch):
    def f(lib):
        SaveOut = _save_out(lib)
        x = lib.tensor([1., 2.], requires_grad=True)
        y = SaveOut.apply(x)
        y.add_(1)
        y.sum().backward()
    _raises_like_torch(
        f, torch, "one of the variables needed for gradient computation has been modified by an inplace operation: "
        "[torch.FloatTensor [2]], which is output 0 of SaveOut, is at version 1; expected version 0 instead. Hint: "
        "enable anomaly detection to find the operation that failed to compute its gradient, with "
        "torch.autograd.set_detect_anomaly(True, check_nan=False).")


def test_saved_input_modified_in_place(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        h = x * 2
        y = _sq(lib).apply(h)
        h.mul_(3)
        y.sum().backward()
    _raises_like_torch(f, torch)


def test_saved_output_is_usable_and_has_history(torch):
    def f(lib):
        SaveOut = _save_out(lib)
        x = lib.tensor([0.5, 1.0], requires_grad=True)
        y = SaveOut.apply(x)
        (saved,) = y.grad_fn.saved_tensors
        info = (_name(saved.grad_fn), saved.requires_grad, saved is y)
        (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        (h,) = lib.autograd.grad(g.sum(), x)
        return info, g, h
    _both(f, torch, rtol=1e-5)


def test_function_without_backward(torch):
    def f(lib):
        class NoBackward(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2
        NoBackward.apply(lib.tensor([1.], requires_grad=True)).sum().backward()
    _raises_like_torch(f, torch)


def test_function_node_structure(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        c = lib.tensor([1., 2.])
        log = []
        y = _scaled_mul(lib, log).apply(x * 1, c, 2.0)
        return [(_name(fn), nr) for fn, nr in y.grad_fn.next_functions], _name(y.grad_fn)
    _both(f, torch)


def test_hooks_on_custom_function_output(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        y = _sq(lib).apply(x)
        y.register_hook(lambda g: g * 10)
        y.retain_grad()
        y.sum().backward()
        return y.grad, x.grad
    _both(f, torch)


def test_warning_free_basic_use(torch):
    def f(lib):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            x = lib.tensor([1., 2.], requires_grad=True)
            _sq(lib).apply(x).sum().backward()
        return [str(i.message) for i in w]
    assert _both(f, torch) == []
