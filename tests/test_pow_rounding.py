"""pow(tensor, number) rounds as torch's CPU kernel: exponents 3, -2 and -0.5 are products and quotients there
(x*x*x, 1/(x*x), 1/sqrt(x)), not a call to pow, so their last bits differ from NumPy's `power` in about a third of
the elements. GELU's tanh form (`x + 0.044715 * torch.pow(x, 3.0)`, minGPT, nanoGPT's ancestors) depends on it."""
from __future__ import annotations

import numpy as np
import pytest

import ndgrad

SPECIAL = {3: lambda x: (x * x) * x, -2: lambda x: 1 / (x * x), -0.5: lambda x: 1 / np.sqrt(x)}


def _inputs(dtype) -> np.ndarray:
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(20000) * 3).astype(dtype)
    x[:5] = [0.0, -0.0, np.inf, -np.inf, np.nan]
    return x


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("exponent", [3, 3.0, -2, -2.0, -0.5])
def test_special_exponents_are_products(dtype, exponent):
    x = _inputs(dtype)
    with np.errstate(all="ignore"):
        want = SPECIAL[exponent](x).astype(dtype)
        other = np.power(x, dtype(exponent))
    for got in (ndgrad.pow(ndgrad.from_numpy(x), exponent), ndgrad.from_numpy(x) ** exponent):
        assert got.dtype == ndgrad.from_numpy(x).dtype
        assert _same(got.numpy(), want)
    assert not _same(other, want)   # NumPy's pow rounds differently: the test can tell them apart


@pytest.mark.parametrize("exponent", [3, -2, -0.5])
def test_gradients(exponent):
    x = ndgrad.tensor([0.7, 1.3, 2.1], dtype=ndgrad.float64, requires_grad=True)
    f = lambda t: t ** exponent  # noqa: E731
    assert ndgrad.autograd.gradcheck(f, (x,))
    assert ndgrad.autograd.gradgradcheck(f, (x,))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("exponent", [3, 3.0, -2.0, -0.5, 2, -1, 0.5, 1.5, 4])
def test_pow_matches_torch_bit_for_bit(dtype, exponent):
    torch = pytest.importorskip("torch")
    x = _inputs(np.dtype(dtype).type)
    with np.errstate(all="ignore"):
        want = torch.pow(torch.from_numpy(x), exponent).numpy()
    got = ndgrad.pow(ndgrad.from_numpy(x), exponent).numpy()
    if exponent in (3, 3.0, -2.0, -0.5, 2, -1):
        assert _same(got, want)
    else:   # torch calls a vectorised pow of its own (SLEEF, 1 ulp): most elements agree, the rest by one ulp
        close = np.isclose(got, want, rtol=4 * np.finfo(dtype).eps, atol=0, equal_nan=True)
        assert close.all()


def test_the_backward_of_a_square_root_power_is_torchs():
    # d/dx x^0.5 = 0.5 * x^-0.5, and x^-0.5 is 1/sqrt(x) in torch: the gradients agree bit for bit
    torch = pytest.importorskip("torch")
    x = _inputs(np.float32)[5:]
    x = np.abs(x) + np.float32(0.01)
    a = torch.from_numpy(x.copy()).requires_grad_()
    (a ** 0.5).sum().backward()
    b = ndgrad.from_numpy(x.copy()).requires_grad_()
    (b ** 0.5).sum().backward()
    assert np.array_equal(a.grad.numpy(), b.grad.numpy())
