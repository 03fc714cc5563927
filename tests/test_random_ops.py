"""Random sampling ops (ndgrad/_random_ops.py): distributions checked by moments and chi-square statistics with
fixed seeds (never torch's bit stream); reproducibility under manual_seed and generator=; shapes, dtypes, errors
(class and message) and grad_fn names against torch."""
from __future__ import annotations

import math
import sys

import numpy as np
import pytest

import ndgrad

N = 20000


def _chi2_ok(counts: np.ndarray, probs: np.ndarray) -> bool:
    """Pearson's chi-square below a conservative bound (mean df + 6 standard deviations)."""
    expected = probs * counts.sum()
    keep = expected > 0
    stat = float((((counts - expected) ** 2)[keep] / expected[keep]).sum())
    df = int(keep.sum()) - 1
    return stat < df + 6 * math.sqrt(2 * df)


def _moments(x: np.ndarray, mean: float, var: float, tol: float = 6.0) -> None:
    n = x.size
    assert abs(x.mean() - mean) < tol * math.sqrt(var / n), (x.mean(), mean)
    assert abs(x.var() - var) < tol * var * math.sqrt(2.0 / n) * 1.5, (x.var(), var)


def test_lazy_loading():
    import subprocess
    code = ("import sys, ndgrad; assert 'ndgrad._random_ops' not in sys.modules; ndgrad.zeros(2).normal_(); "
            "assert 'ndgrad._random_ops' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_normal_overloads_and_moments():
    ndgrad.manual_seed(0)
    _moments(ndgrad.normal(2.0, 3.0, (N,)).numpy(), 2.0, 9.0)
    m = ndgrad.full((N,), -1.0, dtype=ndgrad.float64)
    s = ndgrad.full((N,), 0.5, dtype=ndgrad.float64)
    _moments(ndgrad.normal(m, s).numpy(), -1.0, 0.25)
    _moments(ndgrad.normal(m, 2.0).numpy(), -1.0, 4.0)
    _moments(ndgrad.normal(1.5, s).numpy(), 1.5, 0.25)
    assert ndgrad.normal(0.0, 1.0, size=(2, 3), dtype=ndgrad.float64).dtype == ndgrad.float64


def test_reproducible():
    ndgrad.manual_seed(7)
    a = [ndgrad.normal(0.0, 1.0, (5,)), ndgrad.multinomial(ndgrad.ones(6), 3), ndgrad.zeros(4).uniform_(),
         ndgrad.bernoulli(ndgrad.full((5,), 0.5)), ndgrad.poisson(ndgrad.full((4,), 3.0))]
    ndgrad.manual_seed(7)
    b = [ndgrad.normal(0.0, 1.0, (5,)), ndgrad.multinomial(ndgrad.ones(6), 3), ndgrad.zeros(4).uniform_(),
         ndgrad.bernoulli(ndgrad.full((5,), 0.5)), ndgrad.poisson(ndgrad.full((4,), 3.0))]
    for x, y in zip(a, b):
        assert np.array_equal(x.numpy(), y.numpy())
    g1, g2 = ndgrad.Generator().manual_seed(3), ndgrad.Generator().manual_seed(3)
    assert np.array_equal(ndgrad.normal(0.0, 1.0, (4,), generator=g1).numpy(),
                          ndgrad.normal(0.0, 1.0, (4,), generator=g2).numpy())
    assert np.array_equal(ndgrad.zeros(4).exponential_(generator=g1).numpy(),
                          ndgrad.zeros(4).exponential_(generator=g2).numpy())


def test_multinomial_frequencies():
    ndgrad.manual_seed(1)
    p = np.array([0.1, 0.2, 0.0, 0.7])
    s = ndgrad.multinomial(ndgrad.tensor(p * 3), N, replacement=True).numpy()
    assert s.dtype == np.int64 and s.shape == (N,)
    assert _chi2_ok(np.bincount(s, minlength=4), p)
    assert (s != 2).all()
    # without replacement: distinct indices; the first draw follows p, the second the renormalised rest
    rows = ndgrad.multinomial(ndgrad.tensor(np.tile(p, (N // 4, 1))), 2).numpy()
    assert rows.shape == (N // 4, 2) and (rows[:, 0] != rows[:, 1]).all()
    assert _chi2_ok(np.bincount(rows[:, 0], minlength=4), p)
    # zero-weight categories come last, in index order (as torch)
    assert ndgrad.multinomial(ndgrad.tensor([0.0, 0.0, 3.0]), 2).tolist() == [2, 0]


def test_bernoulli_poisson_and_fills():
    ndgrad.manual_seed(2)
    p = ndgrad.tensor(np.linspace(0.1, 0.9, 5)).repeat(N // 5)
    b = ndgrad.bernoulli(p).numpy().reshape(-1, 5)
    assert np.all(np.abs(b.mean(0) - np.linspace(0.1, 0.9, 5)) < 0.03)
    assert abs(ndgrad.bernoulli(ndgrad.zeros(N), 0.3).numpy().mean() - 0.3) < 0.02
    assert abs(ndgrad.zeros(N).bernoulli_(0.8).numpy().mean() - 0.8) < 0.02
    assert abs(ndgrad.zeros(N).bernoulli_(ndgrad.full((N,), 0.25)).numpy().mean() - 0.25) < 0.02
    _moments(ndgrad.poisson(ndgrad.full((N,), 4.0)).numpy(), 4.0, 4.0)
    _moments(ndgrad.zeros(N, dtype=ndgrad.float64).normal_(3.0, 0.5).numpy(), 3.0, 0.25)
    _moments(ndgrad.zeros(N, dtype=ndgrad.float64).uniform_(-1.0, 3.0).numpy(), 1.0, 16.0 / 12)
    _moments(ndgrad.zeros(N, dtype=ndgrad.float64).exponential_(2.0).numpy(), 0.5, 0.25)
    _moments(ndgrad.zeros(N, dtype=ndgrad.float64).geometric_(0.25).numpy(), 4.0, 0.75 / 0.0625)
    ln = np.log(ndgrad.zeros(N, dtype=ndgrad.float64).log_normal_(1.0, 0.5).numpy())
    _moments(ln, 1.0, 0.25)
    c = ndgrad.zeros(N, dtype=ndgrad.float64).cauchy_(2.0, 0.5).numpy()
    assert abs(np.median(c) - 2.0) < 0.05 and abs(np.percentile(c, 75) - 2.5) < 0.06
    r = ndgrad.zeros(N, dtype=ndgrad.int64).random_(3, 8).numpy()
    assert r.min() == 3 and r.max() == 7 and _chi2_ok(np.bincount(r - 3, minlength=5), np.full(5, 0.2))
    assert set(ndgrad.zeros(100).random_(4).tolist()) == {0.0, 1.0, 2.0, 3.0}
    assert ndgrad.zeros(50, dtype=ndgrad.bool).random_().numpy().any()
    u = ndgrad.zeros(N, dtype=ndgrad.uint8).random_().numpy()
    assert u.max() > 240 and u.min() < 15


def test_against_torch(torch):
    """Shapes, dtypes, grad_fn names, requires_grad and (zero) gradients as torch's."""
    cases = [
        lambda lib, m, s: lib.normal(m, s), lambda lib, m, s: lib.normal(m, 2.0), lambda lib, m, s: lib.normal(1.0, s),
        lambda lib, m, s: lib.bernoulli(s * 0.5), lambda lib, m, s: lib.poisson(s), lambda lib, m, s: (m * 1).normal_(),
        lambda lib, m, s: (m * 1).uniform_(), lambda lib, m, s: (m * 1).exponential_(),
        lambda lib, m, s: (m * 1).geometric_(0.5), lambda lib, m, s: (m * 1).log_normal_(),
        lambda lib, m, s: (m * 1).cauchy_(), lambda lib, m, s: (m * 1).random_(), lambda lib, m, s: (m * 1).random_(3),
        lambda lib, m, s: (m * 1).random_(1, 3), lambda lib, m, s: (m * 1).bernoulli_(0.5),
        lambda lib, m, s: (m * 1).bernoulli_(s * 0.5), lambda lib, m, s: lib.normal(m.float(), s),
    ]
    for k, f in enumerate(cases):
        outs = []
        for lib in (torch, ndgrad):
            m = lib.zeros(3, dtype=lib.float64, requires_grad=True)
            s = lib.ones(3, dtype=lib.float64, requires_grad=True)
            y = f(lib, m, s)
            (y * 1.0).sum().backward()
            outs.append((str(y.dtype), tuple(y.shape), y.requires_grad,
                         type(y.grad_fn).__name__ if lib is torch else y.grad_fn.name(),
                         None if m.grad is None else m.grad.tolist(), None if s.grad is None else s.grad.tolist()))
        assert outs[0] == outs[1], (k, outs)
    for lib in (torch, ndgrad):  # bernoulli(x, p) records a node without a derivative
        m = lib.zeros(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="derivative for aten::bernoulli is not implemented"):
            lib.bernoulli(m, 0.3).sum().backward()
    for shape, n, repl in [((2, 3), 2, False), ((4,), 3, True), ((2, 2), 5, True)]:
        a = ndgrad.ones(shape).multinomial(n, repl)
        b = torch.ones(shape).multinomial(n, repl)
        assert (str(a.dtype), tuple(a.shape)) == (str(b.dtype), tuple(b.shape))


def _errors():
    z = lambda lib, *s, **kw: lib.zeros(*s, **kw)  # noqa: E731
    return [
        lambda lib: lib.multinomial(lib.tensor([1, 2, 3]), 2),
        lambda lib: lib.multinomial(lib.ones(2, 2, 2), 1),
        lambda lib: lib.multinomial(lib.tensor([1.0, 2.0, 3.0]), 4),
        lambda lib: lib.multinomial(lib.tensor([0.0, 0.0]), 1),
        lambda lib: lib.multinomial(lib.tensor([-1.0, 2.0]), 1),
        lambda lib: lib.multinomial(lib.tensor([float("nan"), 2.0]), 1),
        lambda lib: lib.multinomial(lib.tensor([1.0, 2.0]), 0),
        lambda lib: lib.normal(z(lib, 3), -1.0),
        lambda lib: lib.normal(z(lib, 3), -lib.ones(3)),
        lambda lib: lib.normal(z(lib, 3, dtype=lib.long), 1.0),
        lambda lib: lib.normal(z(lib, 3), lib.ones(2)),
        lambda lib: lib.normal(1.0, 2.0),
        lambda lib: lib.bernoulli(z(lib, 3) + 2),
        lambda lib: lib.bernoulli(z(lib, 3, dtype=lib.long)),
        lambda lib: z(lib, 3).bernoulli_(1.5),
        lambda lib: lib.poisson(z(lib, 3) - 1),
        lambda lib: lib.poisson(z(lib, 3, dtype=lib.long)),
        lambda lib: z(lib, 3).normal_(0, -1),
        lambda lib: z(lib, 3).uniform_(2, 1),
        lambda lib: z(lib, 3, dtype=lib.long).uniform_(),
        lambda lib: z(lib, 3).exponential_(0),
        lambda lib: z(lib, 3).geometric_(1.5),
        lambda lib: z(lib, 3).log_normal_(1, 0),
        lambda lib: z(lib, 3).cauchy_(0, -1),
        lambda lib: z(lib, 3).random_(5, 2),
        lambda lib: lib.ones(3, requires_grad=True).normal_(),
    ]


@pytest.mark.parametrize("k", range(len(_errors())))
def test_errors_match_torch(torch, k):
    f = _errors()[k]
    with pytest.raises(Exception) as t_err:
        f(torch)
    with pytest.raises(Exception) as n_err:
        f(ndgrad)
    assert isinstance(n_err.value, type(t_err.value))
    first = str(t_err.value).split("\n")[0]
    assert str(n_err.value).split("\n")[0] == first


@pytest.mark.parametrize("seed,n", [(0, 2560), (1, 16 * 4000 + 7), (12345, 100_003)])
def test_float32_normals_are_torchs_bits(torch, seed, n):
    # torch's 16-wide float32 normal fill: avx_mathfun's log and sincos with the multiply-adds its compiler fuses
    # (_avx_mathfun.py); every element equal on torch's AVX2 kernel
    torch.manual_seed(seed)
    ndgrad.manual_seed(seed)
    a = torch.randn(n).numpy()
    b = ndgrad.randn(n).numpy()
    c = torch.nn.Embedding(7, 512).weight.detach().numpy()
    d = ndgrad.nn.Embedding(7, 512).weight.detach().numpy()
    if torch.backends.cpu.get_cpu_capability() == "AVX2":
        np.testing.assert_array_equal(b, a)
        np.testing.assert_array_equal(d, c)
    else:  # (another kernel of torch's: the last bit may differ in a few elements)
        assert (a != b).mean() < 0.01


@pytest.mark.parametrize("seed,draws", [(0, 0), (0, 1), (5, 700), (3, "randn1"), (7, 623), (7, 624)])
def test_rng_state_is_torchs_layout_and_moves_between_them(torch, seed, draws):
    # torch's CPUGeneratorImplState: the same bytes (but at a block's end, where torch's `next` may read 624 or 0:
    # the same state), and each library continues the other's stream
    states = []
    for lib in (ndgrad, torch):
        lib.manual_seed(seed)
        if draws == "randn1":
            lib.randn(1)
        elif draws:
            lib.rand(draws)
        states.append(lib.get_rng_state().numpy())
    a, b = states
    assert a.shape == b.shape == (5056,) and a.dtype == b.dtype
    if draws != 624:
        np.testing.assert_array_equal(a, b)
    ndgrad.manual_seed(99)
    ndgrad.set_rng_state(ndgrad.tensor(b))
    torch.manual_seed(99)
    torch.set_rng_state(torch.tensor(a))
    assert ndgrad.randn(3).tolist() + ndgrad.rand(2).tolist() == torch.randn(3).tolist() + torch.rand(2).tolist()
    assert ndgrad.initial_seed() == torch.initial_seed() == seed


def test_rng_state_errors_and_generators_as_torch(torch):
    for bad in (lambda t: t.zeros(3, dtype=t.uint8), lambda t: t.zeros(5056), lambda t: [1, 2]):
        for call in (lambda t, s: t.set_rng_state(s), lambda t, s: t.Generator().set_state(s)):
            got = []
            for lib in (ndgrad, torch):
                with pytest.raises((RuntimeError, TypeError)) as e:
                    call(lib, bad(lib))
                got.append((e.type, str(e.value)))
            assert got[0] == got[1]
    g = ndgrad.Generator().manual_seed(4)
    s = g.get_state()
    a = ndgrad.rand(3, generator=g)
    g.set_state(s)
    assert ndgrad.rand(3, generator=g).tolist() == a.tolist()
    t = torch.Generator().manual_seed(4)
    assert s.numpy().tobytes() == t.get_state().numpy().tobytes()
