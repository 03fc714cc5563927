"""pointwise.fma through BLAS's saxpy (ndgrad/_blas.py): one rounding per element, as torch's kernels, and the
float64 path whenever the library is missing, rounds twice, or the arrays do not suit it."""
from __future__ import annotations

import ctypes

import numpy as np
import pytest

import ndgrad
from ndgrad import _blas
from ndgrad._ops.pointwise import fma

# alpha * x = 2^-24 (1 + 2^-36): 1 + alpha * x lies just above the halfway point between 1 and the next float32,
# so one rounding gives 1 + 2^-23 and two (a product rounded first, or a float64 sum) give 1 (see _body_block)
ALPHA = float(np.float32(1 + 2.0 ** -12))
XV = np.float32(2.0 ** -24 * (1 - 2.0 ** -12 + 2.0 ** -24))
ONCE, TWICE = np.float32(1 + 2.0 ** -23), np.float32(1)


def _two_roundings(n, alpha, xp, incx, yp, incy):
    """A saxpy that rounds the product first (a kernel without FMA instructions)."""
    x = np.ctypeslib.as_array(ctypes.cast(xp, ctypes.POINTER(ctypes.c_float)), (n,))
    y = np.ctypeslib.as_array(ctypes.cast(yp, ctypes.POINTER(ctypes.c_float)), (n,))
    y += np.float32(alpha) * x


@pytest.fixture
def fresh_blas(monkeypatch):
    """_blas as before its first use, restored afterwards."""
    monkeypatch.setattr(_blas, "_saxpy", None)
    monkeypatch.setattr(_blas, "_block", _blas._block)
    return monkeypatch


def _saxpy_here() -> bool:
    return bool(_blas._get())


@pytest.mark.parametrize("n", [1, 5, 31, 32, 33, 100, 20000])
def test_fma_rounds_once_in_place_and_into_a_new_array(n):
    if not _saxpy_here():
        pytest.skip("no NumPy-bundled OpenBLAS saxpy that rounds once on this machine")
    x = np.full(n, XV, np.float32)
    y = np.ones(n, np.float32)
    assert fma(y, ALPHA, x, out=y) is y and (y == ONCE).all()
    z = np.ones(n, np.float32)
    r = fma(z, ALPHA, x)
    assert r is not z and (r == ONCE).all() and (z == 1).all()


def test_a_kernel_that_fuses_only_its_vector_body_is_used_on_that_body(fresh_blas):
    """OpenBLAS 0.3.31's Haswell saxpy fuses blocks of 32 elements and rounds the scalar tail twice: the self-test
    finds the block, and fma pads the tail to a block (here a kernel fusing blocks of 64, made from a fused one)."""
    real = _blas._load()
    if not real or _blas._body_block(real) not in (1, 2, 4, 8, 16, 32, 64):
        pytest.skip("no NumPy-bundled OpenBLAS saxpy that rounds once on this machine")
    calls = []

    def blocks_of_64(n, alpha, xp, incx, yp, incy):
        calls.append(n)
        m = n - n % 64
        if m:
            real(m, alpha, xp, incx, yp, incy)
        if m < n:
            _two_roundings(n - m, alpha, xp + 4 * m, incx, yp + 4 * m, incy)
    fresh_blas.setattr(_blas, "_load", lambda: blocks_of_64)
    assert _blas._get() is blocks_of_64 and _blas._block == 64
    calls.clear()
    for n in (63, 64, 100, 1000):
        y = np.ones(n, np.float32)
        fma(y, ALPHA, np.full(n, XV, np.float32), out=y)
        assert (y == ONCE).all()
    assert calls == [64, 64, 64, 64, 960, 64]  # (63: the padded tail alone; 64: the body alone; 100 and 1000: both)


def test_long_arrays_are_passed_in_pieces_that_openblas_does_not_split_between_threads(monkeypatch):
    """Over 10,000 elements OpenBLAS splits a saxpy between its threads, each share with a tail of its own."""
    f = _blas._get()
    if not f:
        pytest.skip("no NumPy-bundled OpenBLAS saxpy that rounds once on this machine")
    calls = []
    monkeypatch.setattr(_blas, "_saxpy", lambda *args: (calls.append(args[0]), f(*args)))
    n = 3 * _blas._CHUNK + 5 * _blas._block + (_blas._block - 1 if _blas._block > 1 else 0)
    y = np.ones(n, np.float32)
    fma(y, ALPHA, np.full(n, XV, np.float32), out=y)
    assert (y == ONCE).all() and max(calls) == _blas._CHUNK and len(calls) == 4 + (_blas._block > 1)


def test_sgd_on_such_values_matches_torch_bit_for_bit():
    torch = pytest.importorskip("torch")
    if not _saxpy_here():
        pytest.skip("no NumPy-bundled OpenBLAS saxpy that rounds once on this machine")
    rng = np.random.default_rng(0)
    for n in (3, 5000):
        g = np.full(n, XV, np.float32)
        g[::2] = rng.standard_normal(n)[::2]
        got, want = [], []
        for lib, out in ((ndgrad, got), (torch, want)):
            p = lib.nn.Parameter(lib.ones(n))
            p.grad = lib.tensor(g)
            opt = lib.optim.SGD([p], lr=ALPHA, maximize=True, momentum=0.5)
            opt.step()
            p.grad = lib.tensor(g[::-1].copy())
            opt.step()
            out.append(p.detach().numpy().copy())
        assert np.array_equal(got[0], want[0])
        assert (got[0][1::2] != 1).all()  # (the crafted elements moved)


def test_a_library_that_rounds_twice_is_refused(fresh_blas):
    fresh_blas.setattr(_blas, "_load", lambda: _two_roundings)
    assert _blas._get() is False
    y = np.ones(100, np.float32)
    fma(y, ALPHA, np.full(100, XV, np.float32), out=y)
    assert (y == TWICE).all()  # the float64 path: rounded twice, as documented


def test_no_library_leaves_the_float64_path(fresh_blas):
    fresh_blas.setattr(_blas, "_load", lambda: None)
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(1000).astype(np.float32), rng.standard_normal(1000).astype(np.float32)
    want = (a.astype(np.float64) + np.float64(np.float32(0.3)) * b.astype(np.float64)).astype(np.float32)
    assert np.array_equal(fma(a, 0.3, b), want) and _blas._saxpy is False


@pytest.mark.parametrize("case", ["suits", "strided", "overlap", "broadcast", "float64", "array alpha"])
def test_arrays_that_do_not_suit_saxpy_take_the_float64_path(case, monkeypatch):
    f = _blas._get()
    if not f:
        pytest.skip("no NumPy-bundled OpenBLAS saxpy that rounds once on this machine")
    calls = []
    monkeypatch.setattr(_blas, "_saxpy", lambda *args: (calls.append(args[0]), f(*args)))
    rng = np.random.default_rng(2)
    base = rng.standard_normal(64).astype(np.float32)
    a, b, s, out = base[:32].copy(), rng.standard_normal(32).astype(np.float32), 0.25, None
    if case == "strided":
        b = rng.standard_normal(64).astype(np.float32)[::2]
    elif case == "overlap":  # in place, b overlapping a: as if b were read before a is written, as NumPy does
        a, b = base[:40], base[8:48]
        want = (a.astype(np.float64) + 0.25 * b.astype(np.float64)).astype(np.float32)
        got = fma(a, 0.25, b, out=a)
        assert calls == [] and got is a and np.array_equal(a, want)
        return
    elif case == "broadcast":
        b = rng.standard_normal(1).astype(np.float32)
    elif case == "float64":
        a, b = a.astype(np.float64), b.astype(np.float64)
    elif case == "array alpha":
        s = np.full(32, 0.25, np.float32)
    want = a.astype(np.float64) + np.asarray(s, np.float32).astype(np.float64) * b.astype(np.float64)
    got = fma(a, s, b, out=out)
    assert np.array_equal(got, want.astype(a.dtype))
    assert calls == ([32] if case == "suits" else [])
