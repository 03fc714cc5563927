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
