"""complex128 gradcheck of the core ops directly on complex inputs (the conjugate-Wirtinger convention), and
torch's example: d|z|²/dz at 1+2j is 2+4j."""
from __future__ import annotations

import pytest

import ndgrad
from ndgrad.autograd import gradcheck, gradgradcheck


def _c(values):
    return ndgrad.tensor(values, dtype=ndgrad.complex128, requires_grad=True)


CASES = {
    "mul exp div abs": (lambda a, b: (a * b).exp() / (a + 2) + a.abs(), 2),
    "sum": (lambda a: a.sum(), 1),
    "sin cos sqrt log": (lambda a, b: a.sin() * b.cos() + (a + 3).sqrt() * (b + 3).log(), 2),
    "tanh sigmoid reciprocal": (lambda a, b: a.tanh() + b.sigmoid() * (a + 2).reciprocal(), 2),
    "pow": (lambda a, b: (a + 2) ** 3 + (a + 2) ** (b * 0.5), 2),
    "real imag conj angle": (lambda a, b: ndgrad.real(a * b) + ndgrad.imag(a.conj() * b) + (a + 3).angle(), 2),
    "prod": (lambda a: (a + 2).prod(), 1),
}


@pytest.mark.parametrize("case", CASES)
def test_complex128_gradcheck(case):
    fn, n = CASES[case]
    args = (_c([1 + 2j, -0.5 + 0.25j]), _c([0.5 - 1j, 2 + 0.5j]))[:n]
    assert gradcheck(fn, args)
    assert gradgradcheck(fn, args)


def test_complex128_matmul_gradcheck():
    a = ndgrad.tensor([[1 + 1j, 2], [0.5j, 1]], dtype=ndgrad.complex128, requires_grad=True)
    v = ndgrad.tensor([1j, 2 + 0j], dtype=ndgrad.complex128, requires_grad=True)
    assert gradcheck(lambda m, x: m @ m @ x, (a, v))


def test_abs_squared_gradient_is_2z():
    z = ndgrad.tensor(1 + 2j, requires_grad=True)
    (z.abs() ** 2).backward()
    assert z.grad.item() == pytest.approx(2 + 4j)
