"""gradcheck and gradgradcheck: they pass on correct derivatives, fail (with torch's messages) on wrong
ones, and behave like torch's on the same functions."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import ndgrad
from ndgrad.autograd import gradcheck, gradgradcheck
from ndgrad.autograd.gradcheck import GradcheckError



def _x(lib, values, dtype="float64", requires_grad=True):
    return lib.tensor(values, dtype=getattr(lib, dtype), requires_grad=requires_grad)


def _functions(lib):
    """Custom Functions of each library: a right one, a wrong one, and some broken in other ways."""
    F = lib.autograd.Function

    class Cube(F):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad):
            x, = ctx.saved_tensors
            return grad * 3 * x ** 2

    class BadSquare(F):  # d/dx x² is 2x, not x
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            x, = ctx.saved_tensors
            return grad * x

    class FlatSquare(F):  # right first derivative, but written on detached values: wrong second one
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            x, = ctx.saved_tensors
            return grad * 2 * x.detach()

    class Noisy(F):  # a backward that differs between runs
        calls = [0]

        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            Noisy.calls[0] += 1
            return grad * (2 + 1e-3 * Noisy.calls[0])

    class IgnoresGrad(F):  # returns a constant, not grad times the derivative
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, grad):
            return lib.ones_like(grad)

    return dict(Cube=Cube, BadSquare=BadSquare, FlatSquare=FlatSquare, Noisy=Noisy, IgnoresGrad=IgnoresGrad)


# -- passing -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fast_mode", [False, True])
def test_passes_on_correct_functions(fast_mode):
    ndgrad.manual_seed(0)
    x = ndgrad.randn(3, 2, dtype=ndgrad.float64, requires_grad=True)
    y = ndgrad.randn(2, dtype=ndgrad.float64, requires_grad=True)
    kw = dict(fast_mode=fast_mode)
    assert gradcheck(lambda a, b: (a * b).exp().sum(1), (x, y), **kw)
    assert gradcheck(lambda a: a.sin() @ a.t(), x, **kw)                      # a single tensor, not a tuple
    assert gradcheck(lambda a, n: (a ** n).mean(), (x, 3), **kw)             # non-tensor arguments pass through
    assert gradcheck(lambda a: ndgrad.max(a, 1), (x,), **kw)                 # (values, int indices)
    assert gradcheck(lambda a, b: (a + b, a * b), (x, y), **kw)              # several outputs
    z = ndgrad.randn(2, dtype=ndgrad.float64)                                # an input that needs no grad
    assert gradcheck(lambda a, b: a * b, (x, z), **kw)
    assert gradcheck(_functions(ndgrad)["Cube"].apply, (x,), **kw)


def test_passes_on_custom_function_with_defaults():
    """A custom Function copes with undefined output grads (its gradients are materialized as zeros)."""
    x = _x(ndgrad, [0.5, -1.5, 2.0])
    assert gradcheck(_functions(ndgrad)["Cube"].apply, (x,))


def test_non_contiguous_and_empty_inputs():
    x = ndgrad.randn(4, 3, dtype=ndgrad.float64).t().requires_grad_()
    assert not x.is_contiguous()
    assert gradcheck(lambda a: a.tanh() * 2, (x,))
    e = ndgrad.zeros(0, 3, dtype=ndgrad.float64, requires_grad=True)
    assert gradcheck(lambda a: a.exp(), (e,))


def test_inputs_are_restored_after_perturbation():
    x = _x(ndgrad, [0.25, 0.5])
    before = x.detach().numpy().copy()
    assert gradcheck(lambda a: a.log(), (x,))
    np.testing.assert_array_equal(x.detach().numpy(), before)
    assert x._version == 0


# -- failing -------------------------------------------------------------------------------------------------
def test_wrong_backward_raises_torchs_message():
    x = _x(ndgrad, [1.0, 2.0])
    with pytest.raises(GradcheckError) as e:
        gradcheck(_functions(ndgrad)["BadSquare"].apply, (x,))
    msg = str(e.value)
    assert msg.startswith("Jacobian mismatch for output 0 with respect to input 0,\nnumerical:tensor(")
    assert "\nanalytical:tensor(" in msg
    assert msg == ("Jacobian mismatch for output 0 with respect to input 0,\n"
                   "numerical:tensor([[2.0000, 0.0000],\n        [0.0000, 4.0000]], dtype=torch.float64)\n"
                   "analytical:tensor([[1., 0.],\n        [0., 2.]], dtype=torch.float64)\n")
    assert isinstance(e.value, RuntimeError)


def test_message_is_torchs_exactly():
    torch = pytest.importorskip("torch")
    msgs = []
    from torch.autograd.gradcheck import GradcheckError as TorchGradcheckError
    for lib, err in ((ndgrad, GradcheckError), (torch, TorchGradcheckError)):
        x = _x(lib, [[1.0, -2.0, 0.5]])
        y = _x(lib, [3.0, 1.5, -1.0])
        bad = _functions(lib)["BadSquare"].apply
        with pytest.raises(err) as e:
            gradcheck_ = lib.autograd.gradcheck
            gradcheck_(lambda a, b: (a * b, bad(b)), (x, y))
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]
    assert msgs[0].startswith("Jacobian mismatch for output 1 with respect to input 1,\n")


def test_raise_exception_false_returns_false():
    x = _x(ndgrad, [1.0, 2.0])
    assert gradcheck(_functions(ndgrad)["BadSquare"].apply, (x,), raise_exception=False) is False
    assert gradcheck(_functions(ndgrad)["Cube"].apply, (x,), raise_exception=False) is True


def test_fast_mode_fails_on_wrong_backward():
    x = _x(ndgrad, [1.0, 2.0, 3.0])
    with pytest.raises(GradcheckError, match="^Jacobian mismatch for output 0 with respect to input 0,\nnumerical:"):
        gradcheck(_functions(ndgrad)["BadSquare"].apply, (x,), fast_mode=True)
    assert gradcheck(_functions(ndgrad)["BadSquare"].apply, (x,), fast_mode=True, raise_exception=False) is False


def test_non_reentrant_backward():
    x = _x(ndgrad, [1.0, 2.0])
    with pytest.raises(GradcheckError, match="^Backward is not reentrant"):
        gradcheck(_functions(ndgrad)["Noisy"].apply, (x,), atol=1.0)
    assert gradcheck(_functions(ndgrad)["Noisy"].apply, (x,), atol=1.0, nondet_tol=1.0)


def test_backward_not_multiplied_by_grad_output():
    x = _x(ndgrad, [1.0, 2.0])
    with pytest.raises(GradcheckError, match="backward not multiplied by grad_output"):
        # the Jacobian of x*1 is the identity, so only the zero-grad_output probe catches a constant backward
        gradcheck(_functions(ndgrad)["IgnoresGrad"].apply, (x[:1].detach().requires_grad_(),))


def test_non_differentiable_output_must_have_zero_numerical_gradient():
    x = _x(ndgrad, [0.5, 1.5])
    assert gradcheck(lambda a: (a > 0).double(), (x,))
    with pytest.raises(GradcheckError, match="Numerical gradient for function expected to be zero"):
        gradcheck(lambda a: a.detach() * 2, (x,))


def test_invalid_inputs():
    with pytest.raises(ValueError, match="gradcheck expects at least one input tensor to require gradient"):
        gradcheck(lambda a: a * 2, (_x(ndgrad, [1.0], requires_grad=False),))
    e = ndgrad.ones(1, dtype=ndgrad.float64).expand(3).detach().requires_grad_()
    with pytest.raises(RuntimeError, match="The 0th input has a dimension with stride 0"):
        gradcheck(lambda a: a * 2, (e,))
    x = _x(ndgrad, [1.0])
    with pytest.raises(AssertionError):
        gradcheck(lambda a: a, (x,), check_backward_ad=False)
    with pytest.raises(NotImplementedError):
        gradcheck(lambda a: a * 2, (x,), check_batched_grad=True)


def test_float32_warns_like_torch():
    text = ("Input #0 requires gradient and is not a double precision floating point or complex. This check will "
            "likely fail if all the inputs are not of double precision floating point or complex. ")
    x = _x(ndgrad, [1.0, 2.0], dtype="float32")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        gradcheck(lambda a: a * 2, (x,), raise_exception=False)
    assert [str(m.message) for m in w if issubclass(m.category, UserWarning)][0] == text


def test_float32_warning_text_is_torchs():
    torch = pytest.importorskip("torch")
    texts = []
    for lib in (ndgrad, torch):
        x = _x(lib, [1.0, 2.0], dtype="float32")
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            lib.autograd.gradcheck(lambda a: a * 2, (x,), raise_exception=False, check_undefined_grad=False)
        texts.append([str(m.message) for m in w if "double precision" in str(m.message)])
    assert texts[0] == texts[1] and len(texts[0]) == 1


def test_agrees_with_torch_on_pass_and_fail():
    torch = pytest.importorskip("torch")
    cases = [
        (lambda lib, a: a.abs(), [0.5, -1.5]),
        (lambda lib, a: lib.clamp(a, -1.0, 1.0), [0.5, -1.5]),
        (lambda lib, a: a.sqrt(), [0.25, 4.0]),
        (lambda lib, a: _functions(lib)["BadSquare"].apply(a), [1.0, 2.0]),
        (lambda lib, a: _functions(lib)["FlatSquare"].apply(a), [1.0, 2.0]),
        (lambda lib, a: lib.max(a), [1.0, 3.0, 3.0]),  # a tie: both report a mismatch
    ]
    for fn, vals in cases:
        got = [lib.autograd.gradcheck(lambda a, lib=lib: fn(lib, a), (_x(lib, vals),), raise_exception=False,
                                      check_undefined_grad=False) for lib in (ndgrad, torch)]
        assert got[0] == got[1], (vals, got)


def test_gradcheck_error_is_exported():
    import sys
    assert ndgrad.autograd.gradcheck.GradcheckError is GradcheckError
    assert sys.modules["ndgrad.autograd.gradcheck"].GradcheckError is GradcheckError
    assert issubclass(GradcheckError, RuntimeError)
    assert callable(ndgrad.autograd.gradcheck) and callable(ndgrad.autograd.gradgradcheck)
    assert {"gradcheck", "gradgradcheck"} <= set(ndgrad.autograd.__all__)


def test_forward_ad_option():
    x = _x(ndgrad, [1.0, 2.0])
    import importlib
    try:
        importlib.import_module("ndgrad.autograd.forward_ad")
    except ImportError:
        with pytest.raises(NotImplementedError):
            gradcheck(lambda a: a * a, (x,), check_forward_ad=True, check_backward_ad=False)
    else:
        assert gradcheck(lambda a: a * a, (x,), check_forward_ad=True, check_backward_ad=False)


# -- gradgradcheck -----------------------------------------------------------------------------------------------
def test_gradgradcheck_passes():
    ndgrad.manual_seed(1)
    x = ndgrad.randn(2, 3, dtype=ndgrad.float64, requires_grad=True)
    y = ndgrad.randn(3, dtype=ndgrad.float64, requires_grad=True)
    assert gradgradcheck(lambda a, b: (a * b).sin().sum(0) * b, (x, y))
    assert gradgradcheck(lambda a: a ** 3, (x,), gen_non_contig_grad_outputs=True)
    g = ndgrad.ones(2, 3, dtype=ndgrad.float64, requires_grad=True)
    assert gradgradcheck(lambda a: a.exp(), (x,), (g,))
    assert gradgradcheck(_functions(ndgrad)["Cube"].apply, (x,))
    assert gradgradcheck(lambda a: a.exp(), (x,), fast_mode=True)


def test_gradgradcheck_fails_on_wrong_second_derivative():
    x = _x(ndgrad, [1.0, 2.0])
    flat = _functions(ndgrad)["FlatSquare"].apply
    assert gradcheck(flat, (x,))  # the first derivative is right
    with pytest.raises(GradcheckError, match="^Jacobian mismatch for output 0 with respect to input 0,\n"):
        gradgradcheck(flat, (x,))
    assert gradgradcheck(flat, (x,), raise_exception=False) is False


def test_gradgradcheck_agrees_with_torch():
    torch = pytest.importorskip("torch")
    for name in ("Cube", "FlatSquare"):
        got = []
        for lib in (ndgrad, torch):
            fn = _functions(lib)[name].apply
            got.append(lib.autograd.gradgradcheck(fn, (_x(lib, [1.0, 2.0]),), raise_exception=False,
                                                  check_undefined_grad=False))
        assert got[0] == got[1], name


# -- undefined output gradients ------------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:Backwards compatibility")
def test_undefined_output_grads():
    x = _x(ndgrad, [0.5, 1.5])
    assert gradcheck(lambda a: a.exp(), (x,))  # check_undefined_grad=True is the default
