"""Bad input gets torch's error: shapes that do not broadcast (never NumPy's ValueError), complex where torch refuses it."""
from __future__ import annotations

import pytest

from torchcmp import raises_like_torch

CASES = {
    "add 1-d": lambda L: L.ones(3) + L.ones(4),
    "mul 2-d with 1-d": lambda L: L.ones(2, 3) * L.ones(4),
    "sub 3-d with 2-d": lambda L: L.ones(5, 2, 3) - L.ones(4, 1),
    "int with float (promotion path)": lambda L: L.ones(3, dtype=L.int64) * L.ones(4),
    "where": lambda L: L.where(L.ones(3) > 0, L.ones(3), L.ones(4)),
    "maximum": lambda L: L.maximum(L.ones(2), L.ones(3)),
    "in-place": lambda L: L.ones(3).add_(L.ones(4)),
}


@pytest.mark.parametrize("case", CASES)
def test_broadcast_error_like_torch(case, torch):
    raises_like_torch(CASES[case], torch, RuntimeError)


COMPLEX_REFUSED = {
    "sign": lambda L: L.sign(L.tensor([1j])),
    "relu": lambda L: L.relu(L.tensor([1j])),
    "clamp": lambda L: L.tensor([1j]).clamp(0, 1),
    "max": lambda L: L.tensor([1j]).max(),
    "amax": lambda L: L.tensor([1j]).amax(),
    "lt": lambda L: L.tensor([1j]) < L.tensor([2j]),
}


@pytest.mark.parametrize("case", COMPLEX_REFUSED)
def test_complex_refused_like_torch(case, torch):
    raises_like_torch(COMPLEX_REFUSED[case], torch, NotImplementedError)


@pytest.mark.parametrize("fn", [lambda L, z: L.linalg.inv(z), lambda L, z: z.var(), lambda L, z: L.einsum("ij,jk->ik", z, z),
                                lambda L, z: L.addcmul(z, z, z)])
def test_complex_grads_without_a_rule_are_refused_not_wrong(fn):
    """ndgrad refuses (rather than miscompute) gradients its formulas cannot conjugate yet; values still work."""
    import ndgrad
    z = ndgrad.tensor([[2 + 1j, 0.5], [0.25j, 1 - 1j]])
    fn(ndgrad, z)  # no grad: the forward is fine
    with pytest.raises(NotImplementedError, match="complex tensors is not implemented yet"):
        fn(ndgrad, z.clone().requires_grad_())


def test_complex_max_with_dim_refused_like_torch(torch):
    raises_like_torch(lambda L: L.tensor([1j]).max(0), torch, RuntimeError)


# numpy's spelling `keepdims=`: accepted by torch's reductions (the checker renames it without a wrapper call,
# _argcheck._core), refused with torch's words when `keepdim=` is given too
KEEPDIMS = {
    "Tensor.sum": lambda L, x, **k: x.sum(1, **k),
    "sum": lambda L, x, **k: L.sum(x, 0, **k),
    "Tensor.mean": lambda L, x, **k: x.mean(0, **k),
    "amax": lambda L, x, **k: L.amax(x, 1, **k),
    "Tensor.std": lambda L, x, **k: x.std(1, **k),
    "logsumexp": lambda L, x, **k: L.logsumexp(x, 1, **k),
}


@pytest.mark.parametrize("case", KEEPDIMS)
def test_keepdims_spelling_like_torch(case, torch):
    import ndgrad
    import numpy as np
    f = KEEPDIMS[case]
    data = np.arange(6.0).reshape(2, 3)
    for L in (torch, ndgrad):
        x = L.tensor(data)
        assert tuple(f(L, x, keepdims=True).shape) == tuple(f(L, x, keepdim=True).shape)
        assert f(L, x, keepdims=True).ndim == 2 and f(L, x, keepdims=False).ndim == 1
        # the second call of each runs the compiled checker (the first builds it)
    np.testing.assert_allclose(f(ndgrad, ndgrad.tensor(data), keepdims=True).numpy(),
                               f(torch, torch.tensor(data), keepdims=True).numpy())
    both = lambda L: f(L, L.tensor(data), keepdims=True, keepdim=True)  # noqa: E731
    if case == "Tensor.std":  # several overloads: torch lists them all; ndgrad refuses it as the one-overload names
        with pytest.raises(TypeError, match="keepdims"):
            both(ndgrad)
    else:
        raises_like_torch(both, torch, TypeError)


def test_checker_calls_the_function_itself():
    """A method's checker calls the function under the forwarders (one call with *args less each, per call)."""
    import ndgrad
    x = ndgrad.ones(2, 3)
    for name in ("sum", "mean", "tanh"):
        getattr(x, name)()  # (the first call builds the checker)
        stub = getattr(ndgrad.Tensor, name)
        fn = stub.__closure__[stub.__code__.co_freevars.index("fn")].cell_contents
        assert not getattr(fn, "_keepdims_alias", False) and getattr(fn, "_forwarder", None) is not fn, name


CAT_REFUSED = {
    "0-d after 1-d": lambda L: L.cat([L.ones(2), L.ones(())]),
    "0-d after a legacy empty": lambda L: L.cat([L.ones(2, 2), L.ones(0), L.ones(())]),
    "0-d only": lambda L: L.cat([L.ones(()), L.ones(())]),
    "ranks differ": lambda L: L.cat([L.ones(2, 3), L.ones(3)]),
    "sizes differ": lambda L: L.cat([L.ones(2, 3, 4), L.ones(2, 5, 4)], 2),
    "not a tensor": lambda L: L.cat([L.ones(2), 3]),
}


def test_cat_skips_legacy_empty_tensors_like_torch(torch):
    import ndgrad
    for L in (torch, ndgrad):
        x = L.ones(2, 3, requires_grad=True)
        e = L.zeros(0, requires_grad=True)
        out = L.cat([e, x, e], 0)
        assert tuple(out.shape) == (2, 3)
        out.sum().backward()
        assert tuple(e.grad.shape) == (0,) and float(x.grad.sum()) == 6.0
    assert tuple(ndgrad.cat([ndgrad.zeros(0), ndgrad.zeros(0)]).shape) == (0,)


@pytest.mark.parametrize("case", CAT_REFUSED)
def test_cat_refused_like_torch(case, torch):
    raises_like_torch(CAT_REFUSED[case], torch, TypeError if case == "not a tensor" else RuntimeError)


INDEX_REFUSED = {
    "slice of a 0-d tensor": (lambda L: L.ones(())[1:], IndexError),
    "slice in a tuple, 0-d": (lambda L: L.ones(())[(slice(1, None),)], IndexError),
    "step 0": (lambda L: L.ones(3)[::0], ValueError),
    "negative step": (lambda L: L.ones(3, 3)[:, ::-2], ValueError),
}


@pytest.mark.parametrize("case", INDEX_REFUSED)
def test_slicing_refused_like_torch(case, torch):
    f, cls = INDEX_REFUSED[case]
    raises_like_torch(f, torch, cls)
