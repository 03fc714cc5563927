"""Tensor creation, attributes, conversions and printing, compared with PyTorch."""
from __future__ import annotations

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import ndgrad
from torchcmp import outcome as _outcome


def _name(fn):
    if fn is None:
        return None
    return fn.name() if isinstance(fn, ndgrad.autograd.graph.Node) else type(fn).__name__


def _same(a, b, exact=True):
    import torch
    if isinstance(b, torch.Tensor):
        assert isinstance(a, ndgrad.Tensor), (a, b)
        assert tuple(a.shape) == tuple(b.shape) and str(a.dtype) == str(b.dtype), (a, b)
        x, y = a.detach().numpy(), b.detach().numpy()
        if exact:
            np.testing.assert_array_equal(x, y)
        else:
            np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-6)
        assert a.requires_grad == b.requires_grad and _name(a.grad_fn) == _name(b.grad_fn), (a, b)
    elif isinstance(b, (list, tuple)):
        assert isinstance(a, (list, tuple)) and len(a) == len(b), (a, b)
        for x, y in zip(a, b):
            _same(x, y, exact)
    else:
        assert a == b and type(a) is type(b), (a, b)


def _both(f, torch, exact=True):
    a, b = f(ndgrad), f(torch)
    _same(a, b, exact)
    return a


def _raises_like_torch(f, torch, cls=None, text=None):
    want = _outcome(f, torch)
    assert want is not None, "torch did not raise"
    if cls is not None:
        assert want[0] == cls.__name__, want
    if text is not None:
        assert want[1] == text, want
    assert _outcome(f, ndgrad) == want


# -- tensor() and its dtypes --------------------------------------------------------------------------------
TENSOR_DATA = {
    "floats": lambda lib: [1., 2.5],
    "ints": lambda lib: [1, 2],
    "bools": lambda lib: [True, False],
    "mixed_int_float": lambda lib: [1, 2.5],
    "mixed_bool_int": lambda lib: [True, 2],
    "nested": lambda lib: [[1., 2.], [3., 4.]],
    "scalar_float": lambda lib: 3.5,
    "scalar_int": lambda lib: 7,
    "scalar_bool": lambda lib: True,
    "complex": lambda lib: [1 + 2j, 3],
    "empty": lambda lib: [],
    "empty_nested": lambda lib: [[], []],
    "np_float64": lambda lib: np.array([1., 2.]),
    "np_float32": lambda lib: np.array([1., 2.], np.float32),
    "np_int32": lambda lib: np.array([1, 2], np.int32),
    "np_uint8": lambda lib: np.array([1, 2], np.uint8),
    "np_scalar_f64": lambda lib: np.float64(2.5),
    "np_scalar_i32": lambda lib: np.int32(4),
    "list_of_np_f64": lambda lib: [np.float64(1.5), np.float64(2.)],
    "tuple": lambda lib: (1., 2.),
    "list_of_0d_tensors": lambda lib: [lib.tensor(1.), lib.tensor(2.)],
    "list_of_1elem_tensors": lambda lib: [lib.tensor([1]), lib.tensor([2.])],
    "list_of_np_arrays": lambda lib: [np.array([1., 2.]), np.array([3., 4.])],
    "list_of_np_int_arrays": lambda lib: [np.array([1, 2], np.int32), np.array([3, 4], np.int32)],
}


@pytest.mark.parametrize("case", list(TENSOR_DATA))
def test_tensor_infers_dtype_like_torch(torch, case):
    def f(lib):
        t = lib.tensor(TENSOR_DATA[case](lib))
        return t, t.dtype is lib.get_default_dtype()
    _both(f, torch)


def test_tensor_with_dtype_and_requires_grad(torch):
    def f(lib):
        return (lib.tensor([1, 2], dtype=lib.float32), lib.tensor([1.7, -2.7], dtype=lib.int64),
                lib.tensor([1., 2.], dtype=lib.float64, requires_grad=True), lib.tensor([0, 3], dtype=lib.bool),
                lib.tensor(2, dtype=lib.float16))
    _both(f, torch)


def test_tensor_copies_its_data(torch):
    def f(lib):
        a = np.array([1., 2.])
        t = lib.tensor(a)
        a[0] = 9.
        return t
    _both(f, torch)


def test_tensor_errors(torch):
    _raises_like_torch(lambda lib: lib.tensor([[1, 2], [3]]), torch, ValueError,
                       "expected sequence of length 2 at dim 1 (got 1)")
    _raises_like_torch(lambda lib: lib.tensor([[[1], [2]], [[3], [4, 5]]]), torch, ValueError,
                       "expected sequence of length 1 at dim 2 (got 2)")
    _raises_like_torch(lambda lib: lib.tensor([[1, 2], 3]), torch, TypeError, "not a sequence")
    _raises_like_torch(lambda lib: lib.tensor([1, [2, 3]]), torch, TypeError)
    _raises_like_torch(lambda lib: lib.tensor("abc"), torch, TypeError, "new(): invalid data type 'str'")
    _raises_like_torch(lambda lib: lib.tensor(None), torch, RuntimeError, "Could not infer dtype of NoneType")
    _raises_like_torch(lambda lib: lib.tensor([lib.tensor([1., 2.]), lib.tensor([3., 4.])]), torch, ValueError,
                       "only one element tensors can be converted to Python scalars")
    _raises_like_torch(lambda lib: lib.tensor(np.array(["a"])), torch, TypeError)


def test_as_tensor_and_from_numpy_share_memory(torch):
    def f(lib):
        a = np.array([1., 2., 3.])
        t = lib.as_tensor(a)
        u = lib.from_numpy(a)
        c = lib.as_tensor(a, dtype=lib.float32)  # a different dtype copies
        a[0] = 10.
        u[1] = 20.
        i = np.arange(3)
        ti = lib.from_numpy(i)
        return t, u, c, ti, lib.as_tensor([1, 2]), lib.as_tensor(t) is t
    a = _both(f, torch)
    assert a[0].tolist() == [10., 20., 3.] and a[2].tolist() == [1., 2., 3.]


def test_from_numpy_errors(torch):
    _raises_like_torch(lambda lib: lib.from_numpy([1, 2]), torch, TypeError)


def test_from_numpy_non_contiguous_and_0d(torch):
    def f(lib):
        a = np.arange(12.).reshape(3, 4)
        t = lib.from_numpy(a[:, ::2])
        a[0, 0] = -1.
        return t, t.stride(), lib.from_numpy(np.array(3.5)), t.is_contiguous()
    _both(f, torch)


# -- filled tensors ---------------------------------------------------------------------------------------
def test_filled_creation(torch):
    def f(lib):
        base = lib.tensor([[1, 2, 3]], dtype=lib.int32)
        return (lib.zeros(2, 3), lib.zeros((2, 3)), lib.zeros([2]), lib.ones(2, dtype=lib.int64), lib.zeros(()),
                lib.zeros(0, 2), lib.full((2, 2), 7), lib.full((2,), 1.5), lib.full((2,), True),
                lib.full((1,), 2, dtype=lib.float64), lib.zeros_like(base), lib.ones_like(base, dtype=lib.float32),
                lib.full_like(base, 4), lib.full_like(base, 4.7), lib.empty(2, 3).shape, str(lib.empty_like(base).dtype),
                lib.zeros(2, requires_grad=True), lib.ones(lib.Size([2, 1])), lib.eye(3), lib.eye(2, 3),
                lib.eye(2, dtype=lib.int64), lib.scalar_tensor(3), lib.zeros(2, dtype=lib.bool))
    _both(f, torch)


def test_filled_creation_errors(torch):
    _raises_like_torch(lambda lib: lib.zeros(-1), torch, RuntimeError, "zeros: Dimension size must be non-negative.")
    _raises_like_torch(lambda lib: lib.zeros((2, -1)), torch, RuntimeError,
                       "zeros: Dimension size must be non-negative.")
    _raises_like_torch(lambda lib: lib.ones(2, -1), torch, RuntimeError,
                       "Trying to create tensor with negative dimension -1: [2, -1]")
    _raises_like_torch(lambda lib: lib.full((-1,), 2.), torch, RuntimeError)
    _raises_like_torch(lambda lib: lib.ones(2, dtype=lib.int64, requires_grad=True), torch, RuntimeError)


# -- ranges -------------------------------------------------------------------------------------------------
def test_arange(torch):
    def f(lib):
        return (lib.arange(5), lib.arange(2, 7), lib.arange(0, 10, 3), lib.arange(5, 0, -1), lib.arange(3.),
                lib.arange(0, 1, 0.25), lib.arange(1, 4, dtype=lib.float64), lib.arange(0.5, 3),
                lib.arange(lib.tensor(4)), lib.arange(-3, 3, 2, dtype=lib.int32), lib.arange(0))
    _both(f, torch)


def test_arange_fractional_steps(torch):
    # torch's SIMD kernel computes lanes as base + i*step, so the last bits depend on the CPU's vector width:
    # compared with a tolerance of one float32 ulp
    def f(lib):
        return [lib.arange(s, e, st) for s in (0, 0.1, -2.5) for e in (3.3, 10.) for st in (0.1, 0.3, 0.7)]
    _both(f, torch, exact=False)


def test_arange_errors(torch):
    _raises_like_torch(lambda lib: lib.arange(0, 5, 0), torch, RuntimeError)
    _raises_like_torch(lambda lib: lib.arange(5, 0, 1), torch, RuntimeError,
                       "upper bound and lower bound inconsistent with step sign")


LINSPACE_CASES = [(s, e, n) for s in (-10, 0, 0.1, 1, 3.7, -2.5, 100) for e in (1, 10, -3.3, 0.7, 1e3)
                  for n in (0, 1, 2, 3, 5, 7, 10, 16, 17, 31, 33, 50, 100, 101, 1000)]


def test_linspace_float32_is_bitwise_torch(torch):
    rng = np.random.default_rng(7)
    cases = LINSPACE_CASES + [(float(rng.uniform(-100, 100)), float(rng.uniform(-1e3, 1e3)), int(rng.integers(2, 5000)))
                              for _ in range(200)]
    bad = [(s, e, n) for s, e, n in cases
           if not np.array_equal(ndgrad.linspace(s, e, n).numpy(), torch.linspace(s, e, n).numpy())]
    assert not bad, bad[:5]


@pytest.mark.parametrize("dtype", ["float64", "float16", "int64", "int32", "uint8", "complex64"])
def test_linspace_other_dtypes_are_bitwise_torch(torch, dtype):
    cases = [c for c in LINSPACE_CASES if dtype != "uint8" or (0 <= c[0] < 256 and 0 <= c[1] < 256)]
    if dtype == "float16":
        cases = [c for c in cases if c[2] <= 1000]
    bad = [(s, e, n) for s, e, n in cases
           if not np.array_equal(ndgrad.linspace(s, e, n, dtype=getattr(ndgrad, dtype)).numpy(),
                                 torch.linspace(s, e, n, dtype=getattr(torch, dtype)).numpy())]
    assert not bad, bad[:5]


def test_linspace_misc(torch):
    def f(lib):
        return (lib.linspace(-10, 10, 10, requires_grad=True), lib.linspace(0, 1, 1), lib.linspace(1j, 3, 4),
                lib.linspace(lib.tensor(0.), lib.tensor(1.), 3))
    _both(f, torch)
    _raises_like_torch(lambda lib: lib.linspace(0, 1, -1), torch, RuntimeError)


# -- random ----------------------------------------------------------------------------------------------
def test_random_shapes_and_dtypes(torch):
    def f(lib):
        lib.manual_seed(0)
        ts = (lib.rand(2, 3), lib.randn(4), lib.rand((2, 2), dtype=lib.float64), lib.randint(0, 10, (3, 2)),
              lib.randint(5, (4,)), lib.randint(0, 3, (2,), dtype=lib.int32), lib.randn(2, requires_grad=True),
              lib.rand_like(lib.zeros(2, dtype=lib.float64)), lib.randn_like(lib.zeros(3)), lib.randperm(5),
              lib.randint_like(lib.zeros(3), 4))
        return [(tuple(t.shape), str(t.dtype), t.requires_grad) for t in ts]
    assert f(ndgrad) == f(torch)


def test_random_dtype_errors(torch):
    _raises_like_torch(lambda lib: lib.rand(2, dtype=lib.int64), torch, NotImplementedError,
                       "\"check_uniform_bounds\" not implemented for 'Long'")
    _raises_like_torch(lambda lib: lib.randn(2, dtype=lib.int32), torch, NotImplementedError,
                       "\"normal_kernel_cpu\" not implemented for 'Int'")
    _raises_like_torch(lambda lib: lib.randint(0, 3), torch, TypeError,
                       "randint(): argument 'size' (position 2) must be tuple of ints, not int")


def test_complex_random_numbers():
    ndgrad.manual_seed(0)
    z = ndgrad.randn(200_000, dtype=ndgrad.complex64).numpy()
    assert abs(z.real.var() - 0.5) < 0.01 and abs(z.imag.var() - 0.5) < 0.01  # torch: variance 1 in all
    u = ndgrad.rand(1000, dtype=ndgrad.complex128).numpy()
    assert 0 <= u.real.min() and u.real.max() < 1 and 0 <= u.imag.min() and u.imag.max() < 1 and u.imag.std() > 0.2


def test_random_value_ranges():
    ndgrad.manual_seed(3)
    r = ndgrad.rand(10000)
    assert 0 <= r.min().item() and r.max().item() < 1 and abs(r.mean().item() - 0.5) < 0.02
    n = ndgrad.randn(10000)
    assert abs(n.mean().item()) < 0.05 and abs(n.numpy().std() - 1) < 0.05
    i = ndgrad.randint(2, 5, (10000,))
    assert set(np.unique(i.numpy())) == {2, 3, 4}
    assert sorted(ndgrad.randperm(6).tolist()) == list(range(6))


def test_manual_seed_reproducibility():
    ndgrad.manual_seed(123)
    a = (ndgrad.rand(5), ndgrad.randn(3), ndgrad.randint(0, 100, (4,)))
    ndgrad.manual_seed(123)
    b = (ndgrad.rand(5), ndgrad.randn(3), ndgrad.randint(0, 100, (4,)))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.numpy(), y.numpy())
    ndgrad.manual_seed(124)
    assert not np.array_equal(ndgrad.rand(5).numpy(), a[0].numpy())
    assert ndgrad.initial_seed() == 124


def test_generator_objects():
    g1 = ndgrad.Generator().manual_seed(5)
    g2 = ndgrad.Generator().manual_seed(5)
    np.testing.assert_array_equal(ndgrad.rand(4, generator=g1).numpy(), ndgrad.rand(4, generator=g2).numpy())
    state = g1.get_state()
    x = ndgrad.randn(3, generator=g1)
    g1.set_state(state)
    np.testing.assert_array_equal(ndgrad.randn(3, generator=g1).numpy(), x.numpy())


def test_default_generator_seeded_per_process_as_torchs(torch):
    """torch seeds its default generator from the system's entropy in each process; a new Generator starts from
    67280421310721. Unseeded programs draw differently from run to run in both."""
    import subprocess
    import sys
    code = "import {0}; print({0}.initial_seed(), {0}.rand(1).item(), {0}.Generator().initial_seed())"
    for lib in ("ndgrad", "torch"):
        runs = [subprocess.run([sys.executable, "-c", code.format(lib)], capture_output=True, text=True, check=True,
                               timeout=120).stdout.split() for _ in range(2)]
        assert runs[0][0] != runs[1][0] and runs[0][1] != runs[1][1], lib
        assert runs[0][2] == runs[1][2] == "67280421310721", lib
    assert 0 <= ndgrad.initial_seed() < 2 ** 64


def test_generator_repr_as_torchs(torch):
    """A notebook cell ending in `g = torch.Generator().manual_seed(...)` prints torch's text (but the address)."""
    def text(g):
        return repr(g).replace(hex(id(g)), "ADDR")
    assert text(ndgrad.Generator().manual_seed(3)) == text(torch.Generator().manual_seed(3))
    assert text(ndgrad.default_generator) == text(torch.default_generator)


# -- attributes ---------------------------------------------------------------------------------------------
def test_attributes(torch):
    def f(lib):
        t = lib.tensor([[1., 2., 3.], [4., 5., 6.]])
        return (t.shape, tuple(t.shape), t.size(), t.size(1), t.size(-1), t.dim(), t.ndim, t.numel(), str(t.dtype),
                str(t.device), t.T, t.is_leaf, t.requires_grad, t.grad, t.is_floating_point(), t.element_size(),
                t.nelement(), len(t), t.stride(), t.is_contiguous(), t.T.is_contiguous(), repr(t.shape),
                t.shape == (2, 3), t.size() == lib.Size([2, 3]), t.shape.numel(), t.device.type)
    _both(f, torch)


def test_size_errors(torch):
    _raises_like_torch(lambda lib: lib.zeros(2, 3).size(2), torch, IndexError)
    _raises_like_torch(lambda lib: len(lib.tensor(1.)), torch, TypeError)
    _raises_like_torch(lambda lib: iter(lib.tensor(1.)), torch, TypeError)


def test_item_tolist_iteration(torch):
    def f(lib):
        t = lib.tensor([[1, 2], [3, 4]])
        rows = list(t)
        return (t[0, 1].item(), t.tolist(), lib.tensor(2.5).item(), lib.tensor(2.5).tolist(), rows,
                [type(v) for v in (t[0, 0].item(), lib.tensor(1.).item(), lib.tensor(True).item())],
                lib.tensor([1.]).item(), [r.tolist() for r in lib.zeros(2, 0)])
    _both(f, torch)


def test_iteration_of_requires_grad_tensor(torch):
    def f(lib):
        x = lib.tensor([1., 2., 3.], requires_grad=True)
        parts = list(x)
        sum(parts).backward()
        return parts, x.grad
    _both(f, torch)


def test_clone_detach_zero(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        c = x.clone()
        d = x.detach()
        z = lib.tensor([1., 2.])
        z.zero_()
        w = lib.tensor([3., 4.])
        w.requires_grad_()
        v = (x * 2).detach_()
        return c, d, z, w, v, d.requires_grad, z._version
    _both(f, torch)


def test_type_conversions(torch):
    def f(lib):
        t = lib.tensor([1.7, -2.2, 0.])
        i = lib.tensor([1, 0, 3])
        return (t.float(), t.double(), t.half(), t.long(), t.int(), t.bool(), i.float(), i.bool(), t.short(),
                t.to(lib.float64), t.to(dtype=lib.int64), t.to("cpu"), t.to(i), t.type(), i.type(),
                t.type(lib.float64), t.to(lib.float32) is t, t.float() is t, t.char(), t.abs().byte())
    _both(f, torch)


def test_to_preserves_graph(torch):
    def f(lib):
        x = lib.tensor([1., 2.], requires_grad=True)
        y = x.double() * 3
        y.sum().backward()
        return y, x.grad
    _both(f, torch)


# -- printing ------------------------------------------------------------------------------------------------
REPR_CASES = {
    "leaf": lambda lib: lib.tensor([15.], requires_grad=True),
    "add": lambda lib: lib.tensor([5.], requires_grad=True) + 10,
    "mean0d": lambda lib: (lib.tensor([3., 4.], requires_grad=True)).mean(),
    "decimals": lambda lib: lib.tensor([0.1, 0.25]),
    "sci": lambda lib: lib.tensor([1e-5, 1.]),
    "big": lambda lib: lib.tensor(123456789.),
    "double_grad": lambda lib: lib.tensor(2.5, dtype=lib.float64, requires_grad=True),
    "double_fn": lambda lib: lib.tensor([2.5], dtype=lib.float64, requires_grad=True) * 2,
    "matrix": lambda lib: lib.tensor([[1., 2.], [3., 4.]]),
    "bools": lambda lib: lib.tensor([True, False]),
    "empty": lambda lib: lib.tensor([]),
    "nan_inf": lambda lib: lib.tensor([float("nan"), float("inf"), -1.]),
    "int32": lambda lib: lib.tensor([1, 2], dtype=lib.int32),
    "int64": lambda lib: lib.tensor([1, -20]),
    "half": lambda lib: lib.tensor([1.5], dtype=lib.float16),
    "custom_fn_names": lambda lib: (lib.tensor([[1., 2.]], requires_grad=True) @ lib.ones(2, 2)).sum(1),
    "select": lambda lib: lib.tensor([1., 2.], requires_grad=True)[0],
    "complex": lambda lib: lib.tensor([1 + 2j]),
    "neg_zero": lambda lib: lib.tensor([-0., 1.5]),
}


@pytest.mark.parametrize("case", list(REPR_CASES))
def test_repr_matches_torch(torch, case):
    assert repr(REPR_CASES[case](ndgrad)) == repr(REPR_CASES[case](torch))
    assert str(REPR_CASES[case](ndgrad)) == str(REPR_CASES[case](torch))


def test_repr_with_float64_default(torch):
    def f(lib):
        old = lib.get_default_dtype()
        lib.set_default_dtype(lib.float64)
        try:
            return repr(lib.tensor([1.5])), repr(lib.tensor([1.5], dtype=lib.float32)), repr(lib.tensor([1 + 1j]))
        finally:
            lib.set_default_dtype(old)
    assert f(ndgrad) == f(torch)


# -- NumPy interop ------------------------------------------------------------------------------------------
def test_array_protocol(torch):
    def f(lib):
        t = lib.tensor([1., 2.])
        a = np.asarray(t)
        a[0] = 5.
        x = lib.tensor([1., 2.], requires_grad=True)
        return t, np.asarray(x.detach()).tolist(), np.asarray(t, dtype=np.float64).dtype.name, \
            np.asarray(lib.tensor(3)).ndim
    _both(f, torch)


def test_array_protocol_refuses_requires_grad(torch):
    _raises_like_torch(lambda lib: np.asarray(lib.tensor([1.], requires_grad=True)), torch, RuntimeError)


def test_numpy_scalars_mix_with_tensors(torch):
    def f(lib):
        t = lib.tensor([1., 2.])
        return t * np.float64(2), np.float64(2) * t, t + np.int64(1), t / np.float32(2)
    _both(f, torch)


# -- import time ---------------------------------------------------------------------------------------------
def test_import_time_under_100ms(tmp_path):
    """`import ndgrad` in a fresh interpreter, best of 5, with bytecode cached as an installed package has
    it (the cache goes to tmp_path; PYTHONDONTWRITEBYTECODE would recompile every module each time).
    NumPy is imported (and timed) first: its own import (~50 ms, far more on a loaded CI machine) is not
    ndgrad's to shorten. ndgrad's share must leave the total under 0.1 s next to NumPy's 50 ms, and
    importing it must not pull in numpy.random or anything heavy."""
    code = ("import time, sys; t0 = time.perf_counter(); import numpy; t1 = time.perf_counter(); import ndgrad; "
            "t2 = time.perf_counter(); print(t1 - t0, t2 - t1, 'numpy.random' in sys.modules)")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(tmp_path)
    subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True, env=env)
    runs = []
    for _ in range(5):
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True,
                           env=env)
        np_s, nd_s, rnd = r.stdout.split()
        runs.append((float(nd_s), float(np_s), rnd))
    assert min(t for t, _, _ in runs) < 0.05, runs
    assert all(rnd == "False" for _, _, rnd in runs), runs


def test_import_does_not_import_torch():
    code = "import sys, ndgrad, ndgrad.autograd, ndgrad.optim; print('torch' in sys.modules)"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True)
    assert r.stdout.strip() == "False"


def test_no_warnings_on_basic_use():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = ndgrad.tensor([1., 2.], requires_grad=True)
        (x * x).sum().backward()
        repr(x)


def test_T_of_non_matrix_warns_like_torch(torch):
    """torch warns once per process (so its warning may already be spent here): ndgrad's text is checked
    against the message torch 2.13 prints, and both give a PermuteBackward0 view."""
    import ndgrad._methods as M
    M._T_WARNED.clear()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        y = ndgrad.ones(3, requires_grad=True).T
        ndgrad.ones(3).T  # once only, as torch
    assert [str(m.message).split(" (Triggered")[0] for m in w] == [
        "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated and it will "
        "throw an error in a future release. Consider `x.mT` to transpose batches of matrices or "
        "`x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a tensor."]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        z = torch.ones(3, requires_grad=True).T
    assert y.grad_fn.name() == type(z.grad_fn).__name__ == "PermuteBackward0"
