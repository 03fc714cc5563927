"""autograd.functional.jacobian / hessian / vjp, compared with PyTorch (row 24 of torch-semantics.md)."""
from __future__ import annotations

import numpy as np
import pytest

import ndgrad
from torchcmp import outcome as _outcome, raises_like_torch as _raises_like_torch


def _name(fn):
    if fn is None:
        return None
    return fn.name() if isinstance(fn, ndgrad.autograd.graph.Node) else type(fn).__name__


def _same(a, b, rtol=1e-5):
    """Same nesting of tuples, same shapes, dtypes, values, requires_grad and grad_fn names."""
    import torch
    if isinstance(b, torch.Tensor):
        assert isinstance(a, ndgrad.Tensor), (type(a), b)
        assert tuple(a.shape) == tuple(b.shape) and str(a.dtype) == str(b.dtype), (a, b)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=1e-6)
        assert a.requires_grad == b.requires_grad, (a, b)
        assert _name(a.grad_fn) == _name(b.grad_fn), (a.grad_fn, b.grad_fn)
    elif isinstance(b, tuple):
        assert type(a) is tuple and len(a) == len(b), (a, b)
        for x, y in zip(a, b):
            _same(x, y, rtol)
    elif isinstance(b, list):
        assert isinstance(a, list) and len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y, rtol)
    else:
        assert a == b, (a, b)


def _both(f, torch):
    a, b = f(ndgrad), f(torch)
    _same(a, b)
    return a


# -- jacobian ---------------------------------------------------------------------------------------------
FUNCS = {
    "vec_to_vec": (lambda lib: lambda x: x ** 2 * x.sin(), lambda lib: lib.tensor([0.5, 1.0, -2.0])),
    "vec_to_scalar": (lambda lib: lambda x: (x ** 3).sum(), lambda lib: lib.tensor([0.5, 1.0, -2.0])),
    "scalar_to_scalar": (lambda lib: lambda x: x.exp() * 3, lambda lib: lib.tensor(0.7)),
    "scalar_to_vec": (lambda lib: lambda x: x * lib.tensor([1., 2., 3.]), lambda lib: lib.tensor(0.7)),
    "matrix_to_matrix": (lambda lib: lambda m: m @ m, lambda lib: lib.tensor([[1., 2.], [3., 4.]])),
    "matrix_to_vec": (lambda lib: lambda m: m.sum(0) * m[0], lambda lib: lib.tensor([[1., 2.], [3., 4.]])),
    "double": (lambda lib: lambda x: x.tanh(), lambda lib: lib.tensor([0.1, 0.2], dtype=lib.float64)),
    "one_element": (lambda lib: lambda x: x * 2, lambda lib: lib.tensor([3.])),
}


@pytest.mark.parametrize("case", list(FUNCS))
@pytest.mark.parametrize("create_graph", [False, True])
def test_jacobian_single_input_output(torch, case, create_graph):
    def f(lib):
        fn, x = FUNCS[case][0](lib), FUNCS[case][1](lib)
        return lib.autograd.functional.jacobian(fn, x, create_graph=create_graph)
    a = _both(f, torch)
    if not create_graph:
        assert not a.requires_grad and a.grad_fn is None


def test_jacobian_values_from_math():
    x = ndgrad.tensor([0.5, 1.0, -2.0])
    j = ndgrad.autograd.functional.jacobian(lambda t: t ** 2 * t.sin(), x)
    xs = x.numpy()
    np.testing.assert_allclose(j.numpy(), np.diag(2 * xs * np.sin(xs) + xs ** 2 * np.cos(xs)), rtol=1e-6)


def test_jacobian_scalar_to_scalar_is_0d(torch):
    a = _both(lambda lib: lib.autograd.functional.jacobian(lambda x: x * x, lib.tensor(3.)), torch)
    assert a.ndim == 0 and a.item() == 6.0


def test_jacobian_tuple_inputs_and_outputs(torch):
    def f(lib):
        def fn(a, b):
            return a * b, (a ** 2).sum() + b[0]
        ins = (lib.tensor([1., 2.]), lib.tensor([3., 4.]))
        return (lib.autograd.functional.jacobian(fn, ins),
                lib.autograd.functional.jacobian(lambda a, b: a * b, ins),
                lib.autograd.functional.jacobian(lambda a: (a, a.exp()), ins[0]),
                lib.autograd.functional.jacobian(lambda a: (a * 3,), (ins[0],)))
    a = _both(f, torch)
    # ((dy1/da, dy1/db), (dy2/da, dy2/db))
    assert a[0][0][0].tolist() == [[3., 0.], [0., 4.]] and a[0][1][1].tolist() == [1., 0.]


def test_jacobian_of_list_input_is_refused(torch):
    _raises_like_torch(
        lambda lib: lib.autograd.functional.jacobian(lambda a, b: a + 2 * b, [lib.tensor([1.]), lib.tensor([2.])]),
        torch, TypeError, "The inputs given to jacobian must be either a Tensor or a tuple of Tensors but the given "
        "inputs has type <class 'list'>.")
    _raises_like_torch(
        lambda lib: lib.autograd.functional.jacobian(lambda a, b: a, (lib.tensor([1.]), 2.0)), torch, TypeError,
        "The inputs given to jacobian must be either a Tensor or a tuple of Tensors but the value at index 1 has "
        "type <class 'float'>.")


def test_jacobian_vectorize_gives_same_result(torch):
    def f(lib):
        x = lib.tensor([0.5, 1.0, -2.0])
        return (lib.autograd.functional.jacobian(lambda t: (t ** 2, t.sum()), x, vectorize=True),
                lib.autograd.functional.hessian(lambda t: (t ** 3).sum(), x, vectorize=True))
    _both(f, torch)


def test_jacobian_create_graph_has_view_history(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        j = lib.autograd.functional.jacobian(lambda t: t ** 3, x, create_graph=True)
        (g,) = lib.autograd.grad(j.sum(), x)
        return j, g
    a = _both(f, torch)
    assert a[0].grad_fn.name() == "ViewBackward0" and a[1].tolist() == [6., 12.]


def test_jacobian_does_not_touch_input_or_grad(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        lib.autograd.functional.jacobian(lambda t: t ** 3, x)
        return x.grad, x.requires_grad, x.is_leaf
    _both(f, torch)


def test_jacobian_constant_output_nonstrict_gives_zeros(torch):
    def f(lib):
        return (lib.autograd.functional.jacobian(lambda x: lib.ones(3), lib.tensor([1., 2.])),
                lib.autograd.functional.jacobian(lambda x, y: x * 2, (lib.tensor([1., 2.]), lib.tensor([3.]))))
    a = _both(f, torch)
    assert a[0].tolist() == [[0., 0.]] * 3


def test_jacobian_strict_errors(torch):
    _raises_like_torch(
        lambda lib: lib.autograd.functional.jacobian(lambda x: lib.ones(3), lib.tensor([1., 2.]), strict=True),
        torch, RuntimeError,
        "Output 0 of the user-provided function does not require gradients. The outputs must be computed in a "
        "differentiable manner from the input when running in strict mode.")
    _raises_like_torch(
        lambda lib: lib.autograd.functional.jacobian(lambda x, y: x * 2, (lib.tensor([1.]), lib.tensor([3.])),
                                                     strict=True),
        torch, RuntimeError,
        "Output 0 of the user-provided function is independent of input 1. This is not allowed in strict mode.")


def test_jacobian_strict_with_create_graph_is_refused(torch):
    _raises_like_torch(
        lambda lib: lib.autograd.functional.jacobian(lambda x: x * 2, lib.tensor([1.]), strict=True,
                                                     create_graph=True), torch, RuntimeError)


def test_jacobian_forward_mode_needs_vectorize(torch):
    _raises_like_torch(
        lambda lib: lib.autograd.functional.jacobian(lambda x: x * 2, lib.tensor([1.]), strategy="forward-mode"),
        torch, NotImplementedError,
        "Computing Jacobian using forward-AD or forward-over-reverse Hessian isonly implemented for "
        "`vectorize=True`.")


def test_jacobian_non_tensor_output(torch):
    _raises_like_torch(
        lambda lib: lib.autograd.functional.jacobian(lambda x: 3.0, lib.tensor([1.])), torch, TypeError,
        "The outputs of the user-provided function given to jacobian must be either a Tensor or a tuple of Tensors "
        "but the given outputs of the user-provided function has type <class 'float'>.")


def test_jacobian_non_tensor_input(torch):
    _raises_like_torch(lambda lib: lib.autograd.functional.jacobian(lambda x: x, 3.0), torch, TypeError)


def test_jacobian_output_dtype_follows_output(torch):
    def f(lib):
        return lib.autograd.functional.jacobian(lambda x: x.double() * 2, lib.tensor([1., 2.]))
    _both(f, torch)


# -- hessian --------------------------------------------------------------------------------------------
def test_hessian_single_input(torch):
    def f(lib):
        x = lib.tensor([2.0, 3.0])
        return lib.autograd.functional.hessian(lambda t: t[0] ** 2 + 2 * t[1] ** 2 + t[0] * t[1] ** 3, x)
    a = _both(f, torch)
    assert a.tolist() == [[2., 27.], [27., 4. + 6 * 2 * 3]]


def test_hessian_scalar_input(torch):
    a = _both(lambda lib: lib.autograd.functional.hessian(lambda t: t ** 4, lib.tensor(2.)), torch)
    assert a.ndim == 0 and a.item() == 48.0


def test_hessian_matrix_input(torch):
    def f(lib):
        return lib.autograd.functional.hessian(lambda m: (m @ m).sum(), lib.tensor([[1., 2.], [3., 4.]]))
    a = _both(f, torch)
    assert tuple(a.shape) == (2, 2, 2, 2)


def test_hessian_tuple_inputs(torch):
    def f(lib):
        def fn(a, b):
            return (a * a * b).sum() + b.sin().sum()
        return lib.autograd.functional.hessian(fn, (lib.tensor([1., 2.]), lib.tensor([0.5, 1.5])))
    _both(f, torch)


def test_hessian_create_graph(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        h = lib.autograd.functional.hessian(lambda t: (t ** 4).sum(), x, create_graph=True)
        (g,) = lib.autograd.grad(h.sum(), x)
        return h, g
    a = _both(f, torch)
    assert a[1].tolist() == [24., 48.]


def test_hessian_of_linear_function_is_zero(torch):
    _both(lambda lib: lib.autograd.functional.hessian(lambda t: (t * 3).sum(), lib.tensor([1., 2.])), torch)


def test_hessian_errors(torch):
    _raises_like_torch(lambda lib: lib.autograd.functional.hessian(lambda t: t * 2, lib.tensor([1., 2.])),
                       torch, RuntimeError,
                       "The Tensor returned by the function given to hessian should contain a single element")
    _raises_like_torch(lambda lib: lib.autograd.functional.hessian(lambda t: 3.0, lib.tensor([1., 2.])),
                       torch, TypeError)
    _raises_like_torch(
        lambda lib: lib.autograd.functional.hessian(lambda t: (t * 3).sum(), lib.tensor([1., 2.]), strict=True),
        torch, RuntimeError)
    _raises_like_torch(
        lambda lib: lib.autograd.functional.hessian(lambda t: lib.tensor(1.), lib.tensor([1., 2.]), strict=True),
        torch, RuntimeError)


def test_hessian_one_element_non_scalar_output(torch):
    _both(lambda lib: lib.autograd.functional.hessian(lambda t: (t ** 3).sum().reshape(1, 1),
                                                      lib.tensor([1., 2.])), torch)


# -- vjp ------------------------------------------------------------------------------------------------
def test_vjp_basic(torch):
    def f(lib):
        x = lib.tensor([1., 2., 3.])
        v = lib.tensor([1., 0.5, 2.])
        return lib.autograd.functional.vjp(lambda t: t ** 2, x, v)
    a = _both(f, torch)
    assert a[1].tolist() == [2., 2., 12.]


def test_vjp_scalar_output_without_v(torch):
    def f(lib):
        return (lib.autograd.functional.vjp(lambda t: (t ** 2).sum(), lib.tensor([1., 2.])),
                lib.autograd.functional.vjp(lambda t: (t ** 2).sum().reshape(1), lib.tensor([1., 2.])))
    _both(f, torch)


def test_vjp_tuples(torch):
    def f(lib):
        def fn(a, b):
            return a * b, a.exp()
        ins = (lib.tensor([1., 2.]), lib.tensor([3., 4.]))
        vs = (lib.tensor([1., 1.]), lib.tensor([0.5, 2.]))
        return lib.autograd.functional.vjp(fn, ins, vs)
    _both(f, torch)


def test_vjp_create_graph(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        out, g = lib.autograd.functional.vjp(lambda t: t ** 3, x, lib.tensor([1., 1.]), create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), x)
        return out, g, gg
    _both(f, torch)


def test_vjp_constant_and_errors(torch):
    _both(lambda lib: lib.autograd.functional.vjp(lambda t: lib.ones(2), lib.tensor([1., 2.]), lib.ones(2)), torch)
    _raises_like_torch(lambda lib: lib.autograd.functional.vjp(lambda t: t * 2, lib.tensor([1., 2.])), torch,
                       RuntimeError, "The vector v can only be None if the user-provided function returns a single "
                       "Tensor with a single element.")
    _raises_like_torch(lambda lib: lib.autograd.functional.vjp(lambda t: lib.ones(2), lib.tensor([1., 2.]),
                                                               lib.ones(2), strict=True), torch, RuntimeError)
    _raises_like_torch(lambda lib: lib.autograd.functional.vjp(lambda t: t * 2, lib.tensor([1., 2.]),
                                                               lib.ones(3)), torch, RuntimeError)


# -- jvp, hvp, vhp ----------------------------------------------------------------------------------------
def test_jvp(torch):
    def f(lib):
        x = lib.tensor([1., 2., 3.])
        return (lib.autograd.functional.jvp(lambda t: t ** 2 * t.sin(), x, lib.tensor([1., 0., 2.])),
                lib.autograd.functional.jvp(lambda a, b: (a * b, a.sum()), (x, x * 2), (x, x)),
                lib.autograd.functional.jvp(lambda t: t.exp(), lib.tensor(0.5)))
    _both(f, torch)


def test_jvp_create_graph(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        out, j = lib.autograd.functional.jvp(lambda t: t ** 3, x, lib.tensor([1., 1.]), create_graph=True)
        (g,) = lib.autograd.grad(j.sum(), x)
        return out, j, g
    _both(f, torch)


@pytest.mark.parametrize("name", ["hvp", "vhp"])
def test_hvp_vhp(torch, name):
    def f(lib):
        fn = getattr(lib.autograd.functional, name)

        def g(a, b):
            return (a ** 2 * b).sum() + (a * b.exp()).sum()
        ins = (lib.tensor([1., 2.]), lib.tensor([0.5, -0.5]))
        vs = (lib.tensor([1., 0.]), lib.tensor([2., 1.]))
        return fn(g, ins, vs), fn(lambda t: (t ** 4).sum(), lib.tensor([1., 2.]), lib.tensor([1., 1.]))
    _both(f, torch)


def test_vector_product_errors(torch):
    _raises_like_torch(lambda lib: lib.autograd.functional.jvp(lambda t: t * 2, lib.tensor([1., 2.])), torch,
                       RuntimeError, "The vector v can only be None if the input to the user-provided function is a "
                       "single Tensor with a single element.")
    _raises_like_torch(lambda lib: lib.autograd.functional.vjp(lambda a, b: a * b, (lib.ones(2), lib.ones(2)),
                                                               (lib.ones(2), lib.ones(2))), torch, RuntimeError,
                       "The given v should contain a single Tensor.")
    _raises_like_torch(lambda lib: lib.autograd.functional.jvp(lambda a, b: a * b, (lib.ones(2), lib.ones(2)),
                                                               (lib.ones(2),)), torch, RuntimeError,
                       "v is a tuple of invalid length: should be 2 but got 1.")
    _raises_like_torch(lambda lib: lib.autograd.functional.hvp(lambda a: (a * a).sum(), lib.ones(2), lib.ones(3)),
                       torch, RuntimeError, "v has invalid size: should be torch.Size([2]) but got torch.Size([3]).")
    _raises_like_torch(lambda lib: lib.autograd.functional.vhp(lambda a: a * a, lib.ones(2), lib.ones(2)), torch,
                       RuntimeError, "The Tensor returned by the function given to vhp should contain a single "
                       "element")
    _raises_like_torch(lambda lib: lib.autograd.functional.hvp(lambda a: (a.sum(), a.sum()), lib.ones(2),
                                                               lib.ones(2)), torch, RuntimeError,
                       "The function given to hvp should return a single Tensor")
    _raises_like_torch(lambda lib: lib.autograd.functional.vhp(lambda a: (a * 2).sum(), lib.ones(2), lib.ones(2),
                                                               strict=True), torch, RuntimeError)


EINSUM_NAMES = ["bij,bjk->bik", "ij,j->i", "i,i->", "ij->ji", "ii->i", "ii", "ij->", "i,j->ij", "bij->bj", "ij,ij->ij",
                "ij,jk", "ij", "ij->ij", "ij,j->j", "ij,k->ijk", "iij->j", "ij,jk,kl->il", "ij,j,k->ik", "i,j,k->ijk",
                "ij,kl->", "ii,j->ij", "ij,jj->ij", "...i,...i->...", "b i d, b j d -> b i j"]


@pytest.mark.parametrize("eq", EINSUM_NAMES)
def test_einsum_grad_fn_named_as_torchs(torch, eq):
    # torch's grad_fn is its decomposition's last step (View/Mul/Sum/Permute); printed tensors show it
    sizes = {"i": 3, "j": 4, "k": 5, "l": 2, "b": 2, "d": 3}
    ins = eq.replace(" ", "").split("->")[0].split(",")
    names = []
    for lib in (ndgrad, torch):
        lib.manual_seed(0)
        ops = [lib.randn([3 if s.count(c) > 1 or any(c * 2 in x for x in ins) else sizes[c] for c in s.replace("...", "")]
                         if "..." not in s else [2] + [sizes[c] for c in s.replace("...", "")], requires_grad=True)
               for s in ins]
        r = lib.einsum(eq, *ops)
        names.append(repr(r).split("grad_fn=")[1])
    assert names[0] == names[1]


BOOL_AS_FLOAT = [
    lambda t: t.nn.functional.pad(t.ones(2).bool(), (1, 0), value=True),
    lambda t: t.nn.functional.pad(t.ones(2), (1, 0), value=True),
    lambda t: t.nn.functional.layer_norm(t.ones(2, 2), (2,), eps=True),
    lambda t: t.nn.functional.huber_loss(t.ones(2), t.ones(2), delta=True),
    lambda t: t.nn.functional.smooth_l1_loss(t.ones(2), t.zeros(2), beta=True),
    lambda t: t.nan_to_num(t.tensor([float("nan"), 1.0]), nan=True),
    lambda t: t.nn.functional.layer_norm(t.ones(2, 2), (2,), eps=__import__("numpy").bool_(True)),
]


@pytest.mark.parametrize("k", range(len(BOOL_AS_FLOAT)))
def test_bool_for_a_float_argument_as_torch(torch, k):
    # torch's parser takes a float argument when the value is a float or an int, and bool is an int
    a, b = BOOL_AS_FLOAT[k](ndgrad), BOOL_AS_FLOAT[k](torch)
    assert (a.tolist(), str(a.dtype)) == (b.tolist(), str(b.dtype))


@pytest.mark.parametrize("hard", [False, True])
def test_gumbel_softmax_draws_and_gradients_as_torchs(torch, hard):
    out = []
    for lib in (ndgrad, torch):
        lib.manual_seed(0)
        x = lib.tensor([[1.0, 2.0, 0.5], [0.1, 0.2, 3.0]], requires_grad=True)
        y = lib.nn.functional.gumbel_softmax(x, tau=0.5, hard=hard)
        (y * lib.tensor([[1.0, 2, 3], [4, 5, 6]])).sum().backward()
        out.append((np.round(y.detach().numpy(), 5).tolist(), repr(y).split("grad_fn=")[1],
                    np.round(x.grad.numpy(), 5).tolist()))
    assert out[0] == out[1]
    with pytest.warns(UserWarning, match="`eps` parameter is deprecated and has no effect."):
        ndgrad.nn.functional.gumbel_softmax(ndgrad.ones(2, 3), eps=1e-5)


def test_prelu_and_channel_shuffle_module_as_torch(torch):
    got = []
    for lib in (ndgrad, torch):
        x = lib.tensor([[-1.0, 2.0], [3.0, -4.0]])
        m = lib.nn.ChannelShuffle(2)
        got.append((lib.nn.functional.prelu(x, lib.tensor([0.25])).tolist(), repr(m),
                    m(lib.arange(8.0).reshape(1, 4, 2)).tolist(),
                    lib.nn.functional.channel_shuffle(lib.arange(8.0).reshape(1, 4, 2), 2).tolist()))
    assert got[0] == got[1]
