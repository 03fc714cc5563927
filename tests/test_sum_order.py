"""Whole-array float sums in torch's order (`_ops/reduction.full_sum`): the last bits of a loss as torch prints them.

Floating-point addition is not associative; NumPy adds pairwise, torch's CPU kernel in its own order. The
hand-made cases below need no torch: each has an answer that only torch's order gives (worked out in the
comments). The oracle tests compare random arrays of many lengths with torch bit for bit."""
from __future__ import annotations

import numpy as np
import pytest

import ndgrad

F32, F64 = np.float32, np.float64


def _spread(rng, shape, dtype, decades: int) -> np.ndarray:
    """Normal values scaled over 10^-decades .. 10^decades: sums whose order shows in the last bits."""
    return (rng.standard_normal(shape) * 10 ** rng.uniform(-decades, decades, shape)).astype(dtype)


def _bits(t) -> np.ndarray:
    return np.asarray(t.detach().numpy() if hasattr(t, "detach") else t)


def test_five_elements_use_four_scalar_accumulators():
    # accumulators (1e8 + 1, 1, -1e8, 1): 1e8 + 1 rounds to 1e8 in float32; then 1e8 + 1 -> 1e8, + -1e8 -> 0, + 1 -> 1.
    # NumPy's order (1e8 + 1 + -1e8 + 1 + 1) gives 2
    x = ndgrad.tensor([1e8, 1, -1e8, 1, 1])
    assert x.sum().item() == 1.0
    assert x.mean().item() == np.float32(1) / np.float32(5)
    assert np.add.reduce(x.numpy()) == 2.0  # (the pairwise sum differs: the case can tell the orders apart)


def test_the_tail_is_summed_first_then_the_lanes():
    # one 8-lane vector (1e8, -1e8, 0...) and a tail of four ones: tail 4, + 1e8 -> 1e8 (float32), + -1e8 -> 0
    x = ndgrad.tensor([1e8, -1e8, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1])
    assert x.sum().item() == 0.0
    assert float(np.add.reduce(x.numpy())) == 4.0


def test_losses_and_a_one_element_bias_gradient_sum_in_that_order():
    pred = ndgrad.tensor([[1e4], [1.0], [-1e4], [1.0], [1.0]], requires_grad=True)
    target = ndgrad.zeros(5, 1)
    # squares (1e8, 1, 1e8, 1, 1): accumulators (1e8 + 1, 1, 1e8, 1) -> 1e8, 1e8 + 1e8 = 2e8, + 1 -> 2e8
    loss = ndgrad.nn.functional.mse_loss(pred, target, reduction="sum")
    assert loss.item() == 2e8
    lin = ndgrad.nn.Linear(1, 1)
    with ndgrad.no_grad():
        lin.weight.fill_(1.0)
        lin.bias.fill_(0.0)
    lin(ndgrad.tensor([[1e8], [1.0], [-1e8], [1.0], [1.0]])).sum().backward()
    assert lin.bias.grad.item() == 5.0  # (ones: every order agrees) ...
    lin.zero_grad()
    out = lin(ndgrad.zeros(5, 1))
    out.backward(ndgrad.tensor([[1e8], [1.0], [-1e8], [1.0], [1.0]]))
    assert lin.bias.grad.item() == 1.0  # ... the gradient's sum over the batch, in torch's order


def test_compiled_code_keeps_the_order():
    f = ndgrad.compile(lambda x: (x * 1.0).sum())
    x = ndgrad.tensor([1e8, 1, -1e8, 1, 1])
    assert [f(x).item() for _ in range(3)] == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("dtype", [F32, F64])
def test_random_sums_and_means_are_torch_s_bit_for_bit(dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    lengths = list(range(1, 70)) + [100, 255, 256, 511, 512, 513, 1000, 4095, 4096, 16384, 32768]
    for n in lengths:
        x = _spread(rng, n, dtype, 3)
        t, nd = torch.from_numpy(x), ndgrad.from_numpy(x)
        assert _bits(nd.sum()) == _bits(t.sum()), n
        assert _bits(nd.mean()) == _bits(t.mean()), n
        xx = x.reshape(n, 1)
        assert _bits(ndgrad.from_numpy(xx).sum()) == _bits(torch.from_numpy(xx).sum()), n


def _line_data(seed: int, slope: float) -> tuple:
    """A one-feature linear regression's data, as the tutorials make it: 100 points about a line, noisy."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((100, 1)).astype(F32)
    return x, (slope * x + rng.standard_normal((100, 1)) * 20).astype(F32)


def test_a_linear_regression_loss_is_torch_s_bit_for_bit():
    torch = pytest.importorskip("torch")
    x, y = _line_data(1, 3)
    got = []
    for lib in (ndgrad, torch):
        pred = lib.from_numpy(x) * 0.7 - 0.2
        pred.requires_grad_(True)
        loss = lib.nn.MSELoss()(pred, lib.from_numpy(y))
        loss.backward()
        got.append((_bits(loss), _bits(pred.grad)))
    assert got[0][0] == got[1][0]
    np.testing.assert_array_equal(got[0][1], got[1][1])


# -- one row times a matrix: torch adds the rounded products in order, to zero or to the bias ----------------------
def test_one_row_times_a_matrix_adds_the_products_in_order():
    # products (1e8, 1, -1e8, 1, 1): in order 1e8 + 1 -> 1e8, + -1e8 -> 0, + 1 + 1 -> 2 (BLAS may give another)
    a = ndgrad.tensor([[1e8, 1, -1e8, 1, 1]])
    b = ndgrad.ones(5, 2)
    assert ndgrad.mm(a, b).tolist() == [[2.0, 2.0]]
    # with a bias, the sum starts from it: 4 + 1e8 -> 1e8 (float32), + 1 -> 1e8, + -1e8 -> 0, + 1 + 1 -> 2
    assert ndgrad.addmm(ndgrad.tensor([4.0, 4.0]), a, b).tolist() == [[2.0, 2.0]]


@pytest.mark.parametrize("dtype", [F32, F64])
def test_one_row_products_are_torch_s_bit_for_bit(dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    for k, n in [(1, 1), (3, 1), (7, 3), (100, 1), (100, 30), (512, 16), (4000, 2)]:
        a = _spread(rng, (1, k), dtype, 2)
        b = _spread(rng, (k, n), dtype, 2)
        c = (rng.standard_normal(n) * 10).astype(dtype)
        np.testing.assert_array_equal(ndgrad.mm(ndgrad.from_numpy(a), ndgrad.from_numpy(b)).numpy(),
                                      torch.mm(torch.from_numpy(a), torch.from_numpy(b)).numpy())
        np.testing.assert_array_equal(
            ndgrad.addmm(ndgrad.from_numpy(c), ndgrad.from_numpy(a), ndgrad.from_numpy(b)).numpy(),
            torch.addmm(torch.from_numpy(c), torch.from_numpy(a), torch.from_numpy(b)).numpy())


def _line_model(lib, lr: float) -> tuple:
    """The tutorial's nn.Linear(1, 1), from weight 0.3 and bias -0.2, with its SGD optimizer."""
    model = lib.nn.Linear(1, 1)
    with lib.no_grad():
        model.weight.fill_(0.3)
        model.bias.fill_(-0.2)
    return model, lib.optim.SGD(model.parameters(), lr=lr)


def test_a_one_feature_linear_regression_trains_as_torch_bit_for_bit():
    # the tutorial model: nn.Linear(1, 1), MSE over 100 samples, SGD; every printed loss is torch's
    torch = pytest.importorskip("torch")
    x, y = _line_data(4, 40)
    runs = []
    for lib in (ndgrad, torch):
        model, opt = _line_model(lib, 0.01)
        losses = []
        for _ in range(60):
            loss = lib.nn.MSELoss()(model(lib.from_numpy(x)), lib.from_numpy(y))
            loss.backward()
            opt.step()
            opt.zero_grad()
            losses.append(loss.item())
        runs.append((losses, model.weight.item(), model.bias.item()))
    assert runs[0] == runs[1]


def test_compiled_regression_keeps_both_orders():
    # the generated code records the same calls: bitwise eager, and no fallback
    x = ndgrad.tensor(np.random.default_rng(5).standard_normal((50, 1)).astype(F32))
    y = 3 * x + 1
    runs = []
    for compiled in (False, True):
        model, opt = _line_model(ndgrad, 0.05)
        run = ndgrad.compile(model) if compiled else model
        losses = []
        for step in range(5):
            out = run(x)
            if compiled and step >= 2:  # (after the tracing and the checking call: the generated code runs)
                assert type(out.grad_fn).__name__ == "CompiledFunctionBackward"
            loss = ((out - y) ** 2).mean()
            loss.backward()
            opt.step()
            opt.zero_grad()
            losses.append(loss.item())
        runs.append(losses)
        if compiled:
            assert run._compiled.eager_reason is None
    assert runs[0] == runs[1]
