"""ndgrad.array_api, the Python array API namespace of tensors, checked function by function against
array-api-strict (the standard's reference implementation) on the same inputs: values, dtypes and
shapes. (The `array-api-tests` suite cannot be installed here, so these are our own conformance tests.)
Also: gradients flow through the namespace, and scikit-learn's array_api_dispatch runs on tensors."""
from __future__ import annotations

import math

import numpy as np
import pytest

import ndgrad
import ndgrad.array_api as xp

strict = pytest.importorskip("array_api_strict")

# names of the 2023.12 standard (array-api-strict's namespace at that version) that ndgrad lacks, and why
SKIPPED = {
    "uint16": "ndgrad (like torch's CPU kernels) has no uint16/uint32/uint64 dtype",
    "uint32": "ndgrad has no uint32 dtype", "uint64": "ndgrad has no uint64 dtype",
}


@pytest.fixture(autouse=True)
def _version():
    strict.set_array_api_strict_flags(api_version="2023.12")
    yield
    strict.reset_array_api_strict_flags()


def test_every_standard_name_is_there():
    names = {n for n in dir(strict) if not n.startswith("_") and n[0].islower()} - {
        "get_array_api_strict_flags", "set_array_api_strict_flags", "reset_array_api_strict_flags"}
    missing = sorted(names - set(dir(xp)) - set(SKIPPED))
    assert missing == []
    lin = {n for n in strict.linalg.__all__} if hasattr(strict.linalg, "__all__") else set()
    assert sorted(lin - set(dir(xp.linalg))) == []
    assert xp.__array_api_version__ == "2023.12"
    x = ndgrad.ones(2)
    assert x.__array_namespace__() is xp and x.__array_namespace__(api_version="2023.12") is xp
    with pytest.raises(ValueError, match="version"):
        x.__array_namespace__(api_version="1999.01")


RNG = np.random.default_rng(0)


def _arr(dtype, shape=(3, 4), low=-3, high=3):
    if dtype == "bool":
        return RNG.random(shape) > 0.5
    if dtype.startswith("complex"):
        return (RNG.uniform(low, high, shape) + 1j * RNG.uniform(low, high, shape)).astype(dtype)
    if dtype.startswith(("int", "uint")):
        lo = max(low, 0) if dtype.startswith("uint") else low
        return RNG.integers(lo, high + 1, shape).astype(dtype)
    return RNG.uniform(low, high, shape).astype(dtype)


def _to(lib, v):
    if isinstance(v, np.ndarray):
        return lib.asarray(v.copy()) if lib is strict else ndgrad.from_numpy(v.copy())
    if isinstance(v, (list, tuple)) and v and isinstance(v[0], np.ndarray):
        return [_to(lib, a) for a in v]
    return v


def _dtype_name(d):
    return str(d).replace("torch.", "").replace("array_api_strict.", "")


def _np(v):
    if isinstance(v, ndgrad.Tensor):
        return v.detach().numpy()
    return np.asarray(v._array) if hasattr(v, "_array") else np.asarray(v)


def _compare(got, want, rtol=1e-5):
    if isinstance(want, (tuple, list)):
        assert isinstance(got, (tuple, list)) and len(got) == len(want)
        if hasattr(want, "_fields"):
            assert got._fields == want._fields
        for g, w in zip(got, want):
            _compare(g, w, rtol)
        return
    if isinstance(want, (bool, int, float, complex)) or want is None:
        assert got == want or (isinstance(want, float) and math.isnan(want) and math.isnan(got))
        return
    assert _dtype_name(got.dtype) == _dtype_name(want.dtype), (got.dtype, want.dtype)
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(_np(got), _np(want), rtol=rtol, atol=1e-6, equal_nan=True)


FLOATS = ["float32", "float64"]
NUMERIC = ["int8", "int16", "int32", "int64", "uint8", "float32", "float64"]
UNARY_FLOAT = ["abs", "acos", "acosh", "asin", "asinh", "atan", "atanh", "ceil", "cos", "cosh", "exp", "expm1",
               "floor", "isfinite", "isinf", "isnan", "log", "log1p", "log2", "log10", "negative", "positive",
               "round", "sign", "signbit", "sin", "sinh", "square", "sqrt", "tan", "tanh", "trunc"]
UNARY_COMPLEX = ["abs", "conj", "exp", "imag", "real", "sign", "sqrt", "square", "negative", "isfinite"]
BINARY_FLOAT = ["add", "atan2", "copysign", "divide", "equal", "floor_divide", "greater", "greater_equal", "hypot",
                "less", "less_equal", "logaddexp", "maximum", "minimum", "multiply", "not_equal", "pow",
                "remainder", "subtract"]
BINARY_INT = ["add", "bitwise_and", "bitwise_or", "bitwise_xor", "equal", "floor_divide", "greater", "maximum",
              "minimum", "multiply", "remainder", "subtract", "bitwise_left_shift", "bitwise_right_shift"]


def _domain(name, a):
    if name in ("acosh",):
        return np.abs(a) + 1
    if name in ("acos", "asin", "atanh"):
        return np.clip(a / 3.5, -0.95, 0.95).astype(a.dtype)
    if name in ("log", "log2", "log10", "sqrt"):
        return np.abs(a) + 0.1
    if name == "log1p":
        return np.abs(a)
    return a


def _run(name, args, kwargs=None, ns=None, rtol=1e-5):
    kwargs = kwargs or {}
    f_nd = getattr(xp if ns is None else xp.linalg, name)
    f_st = getattr(strict if ns is None else strict.linalg, name)
    want = f_st(*[_to(strict, a) for a in args], **kwargs)
    got = f_nd(*[_to(ndgrad, a) for a in args], **kwargs)
    _compare(got, want, rtol)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", UNARY_FLOAT)
def test_unary_float(name, dtype):
    _run(name, [_domain(name, _arr(dtype))], rtol=1e-4 if dtype == "float32" else 1e-7)


@pytest.mark.parametrize("name", UNARY_COMPLEX)
def test_unary_complex(name):
    _run(name, [_arr("complex128")], rtol=1e-7)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", BINARY_FLOAT)
def test_binary_float(name, dtype):
    a, b = _arr(dtype), _arr(dtype)
    if name == "pow":
        a = np.abs(a) + 0.1
    if name in ("floor_divide", "remainder", "divide"):
        b = np.where(np.abs(b) < 0.1, 1.0, b).astype(dtype)
    _run(name, [a, b], rtol=1e-4 if dtype == "float32" else 1e-7)


@pytest.mark.parametrize("dtype", ["int8", "int32", "int64", "uint8"])
@pytest.mark.parametrize("name", BINARY_INT)
def test_binary_int(name, dtype):
    a, b = _arr(dtype, low=0 if "shift" in name else -9, high=9), _arr(dtype, low=1, high=5)
    _run(name, [a, b])


@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor"])
def test_logical(name):
    _run(name, [_arr("bool"), _arr("bool")])
    _run("logical_not", [_arr("bool")])
    _run("bitwise_invert", [_arr("int16")])


def test_scalars_mixed_with_arrays():
    strict.set_array_api_strict_flags(api_version="2024.12")     # (Python scalars as arguments: 2024.12)
    for name, args in (("add", [_arr("float32"), 2]), ("multiply", [3.5, _arr("float64")]),
                       ("greater", [_arr("int32"), 1]), ("where", [_arr("bool"), _arr("float64"), 0.0]),
                       ("subtract", [_arr("int64"), 2])):
        _run(name, args)


@pytest.mark.parametrize("dtype", NUMERIC)
@pytest.mark.parametrize("name, kwargs", [
    ("sum", {}), ("sum", {"axis": 0}), ("sum", {"axis": (0, 1), "keepdims": True}), ("prod", {"axis": 1}),
    ("max", {}), ("max", {"axis": 1, "keepdims": True}), ("min", {"axis": (0,)}),
    ("argmax", {}), ("argmax", {"axis": 0}), ("argmin", {"axis": 1, "keepdims": True}),
    ("cumulative_sum", {"axis": 1}), ("cumulative_sum", {"axis": 0, "include_initial": True}),
    ("all", {"axis": 0}), ("any", {}), ("sort", {"axis": 0}), ("sort", {"descending": True}),
    ("argsort", {"axis": 1}), ("unique_values", {}), ("unique_counts", {}), ("unique_inverse", {}),
    ("unique_all", {}), ("nonzero", {}), ("flip", {}), ("flip", {"axis": 1}), ("roll", {"shift": 2}),
    ("roll", {"shift": (1, -1), "axis": (0, 1)}), ("matrix_transpose", {}), ("expand_dims", {"axis": 1}),
    ("permute_dims", {"axes": (1, 0)}), ("reshape", {"shape": (2, 6)}), ("tile", {}), ("repeat", {}),
    ("unstack", {"axis": 1}), ("squeeze", {}), ("take", {}), ("tril", {"k": 1}), ("triu", {"k": -1}),
    ("astype", {}), ("zeros_like", {}), ("ones_like", {}), ("full_like", {"fill_value": 1}),
])
def test_statistics_manipulation_searching_sets(name, kwargs, dtype):
    a = _arr(dtype, low=0 if dtype == "uint8" else -3)
    if name == "unique_values" or name.startswith("unique"):
        a = _arr(dtype, low=0, high=3)
    args = [a]
    if name == "tile":
        args.append((2, 1))
    elif name == "repeat":
        args.append(2)
        kwargs = {"axis": 0}
    elif name == "squeeze":
        args = [a[:1]]
        kwargs = {"axis": 0}
    elif name == "take":
        args.append(np.array([2, 0, 2]))
        kwargs = {"axis": 1}
    elif name == "astype":
        args.append(None)
    if name == "astype":
        for target in ("float64", "int32", "bool"):
            want = strict.astype(_to(strict, a), getattr(strict, target))
            got = xp.astype(_to(ndgrad, a), getattr(xp, target))
            _compare(got, want)
        return
    if name == "take":
        want = strict.take(_to(strict, a), strict.asarray(args[1]), axis=1)
        got = xp.take(_to(ndgrad, a), ndgrad.from_numpy(args[1]), axis=1)
        _compare(got, want)
        return
    if name in ("prod", "cumulative_sum") and dtype in ("int8", "int16", "int32", "uint8"):
        pytest.skip("accumulating small integers: the standard's default integer dtype for uint8 is uint64, "
                    "which ndgrad lacks (torch gives int64)")
    if name == "sum" and dtype == "uint8":
        pytest.skip("sum of uint8 gives uint64 in the standard; ndgrad has no uint64 (int64, as torch)")
    _run(name, args, kwargs)


@pytest.mark.parametrize("dtype", FLOATS)
def test_mean_std_var(dtype):
    a = _arr(dtype)
    for name, kw in (("mean", {}), ("mean", {"axis": 1}), ("std", {"axis": 0}), ("std", {"correction": 1}),
                     ("var", {"axis": (0, 1), "keepdims": True}), ("var", {"axis": 1, "correction": 1.0})):
        _run(name, [a], kw, rtol=1e-5 if dtype == "float32" else 1e-10)


def test_creation():
    for name, args, kw in (("arange", [5], {}), ("arange", [1, 7, 2], {}), ("arange", [0.0, 1.0, 0.25], {"dtype": strict.float64}),
                           ("zeros", [(2, 3)], {"dtype": strict.float64}), ("ones", [4], {"dtype": strict.int8}),
                           ("full", [(2,), 7], {}), ("full", [(2,), True], {}), ("eye", [3], {"dtype": strict.float64}),
                           ("eye", [3, 4], {"k": 1, "dtype": strict.float64}),
                           ("linspace", [0.0, 1.0], {"num": 5, "dtype": strict.float64}),
                           ("linspace", [0.0, 1.0], {"num": 4, "endpoint": False, "dtype": strict.float64})):
        want = getattr(strict, name)(*args, **kw)
        kw2 = {k: (getattr(xp, _dtype_name(v)) if k == "dtype" else v) for k, v in kw.items()}
        _compare(getattr(xp, name)(*args, **kw2), want)
    # default floating dtype: torch's float32 (reported by the inspection API)
    assert xp.zeros(2).dtype is xp.__array_namespace_info__().default_dtypes()["real floating"]
    assert xp.asarray([1, 2]).dtype is xp.int64 and xp.asarray([True]).dtype is xp.bool
    a = np.arange(3.0)
    t = xp.asarray(a)
    t[0] = 7.0
    assert a[0] == 7.0                                 # shares memory unless copy=True
    assert xp.asarray(a, copy=True)._data is not a
    with pytest.raises(ValueError, match="copy=False"):
        xp.asarray(ndgrad.ones(2), dtype=xp.float64, copy=False)
    g = xp.meshgrid(ndgrad.arange(3), ndgrad.arange(2))
    want = strict.meshgrid(strict.arange(3), strict.arange(2))
    _compare(g, want)


def test_dtype_functions():
    for d in ("bool", "int8", "int64", "uint8", "float32", "float64", "complex64", "complex128"):
        for k in ("bool", "signed integer", "unsigned integer", "integral", "real floating", "complex floating",
                  "numeric", ("integral", "bool")):
            assert xp.isdtype(getattr(xp, d), k) == strict.isdtype(getattr(strict, d), k), (d, k)
        for d2 in ("bool", "int8", "int16", "int64", "uint8", "float32", "float64", "complex64"):
            assert xp.can_cast(getattr(xp, d), getattr(xp, d2)) == strict.can_cast(getattr(strict, d), getattr(strict, d2)), (d, d2)
            try:
                want = strict.result_type(getattr(strict, d), getattr(strict, d2))
            except TypeError:
                continue       # mixed kinds: not defined by the standard
            assert _dtype_name(xp.result_type(getattr(xp, d), getattr(xp, d2))) == _dtype_name(want)
    for d in ("float32", "float64"):
        f, g = xp.finfo(getattr(xp, d)), strict.finfo(getattr(strict, d))
        assert (f.bits, f.eps, f.max, f.min, f.smallest_normal) == (g.bits, g.eps, g.max, g.min, g.smallest_normal)
    for d in ("int8", "int32", "uint8", "int64"):
        f, g = xp.iinfo(getattr(xp, d)), strict.iinfo(getattr(strict, d))
        assert (f.bits, f.max, f.min) == (g.bits, g.max, g.min)
    info = xp.__array_namespace_info__()
    assert set(info.dtypes()) == set(strict.__array_namespace_info__().dtypes()) - {"uint16", "uint32", "uint64"}
    assert set(info.dtypes(kind="real floating")) == {"float32", "float64"}
    assert str(info.default_device()) == "cpu" and info.capabilities()["boolean indexing"]


def test_manipulation_of_several_arrays():
    a, b = _arr("float64"), _arr("float64")
    for name, args, kw in (("concat", [[a, b]], {}), ("concat", [[a, b]], {"axis": 1}), ("concat", [[a, b]], {"axis": None}),
                           ("stack", [[a, b]], {"axis": 2}), ("broadcast_arrays", [a, b[:1]], {}),
                           ("broadcast_to", [a[:1]], {"shape": (5, 4)}), ("moveaxis", [a[None], 0, 2], {}),
                           ("searchsorted", [np.sort(a[0]), b], {}), ("searchsorted", [np.sort(a[0]), b], {"side": "right"}),
                           ("matmul", [a, b.T.copy()], {}), ("tensordot", [a, b], {"axes": ([1], [1])}),
                           ("vecdot", [a, b], {}), ("clip", [a], {"min": -1.0, "max": 1.0}), ("clip", [a], {"max": 0.5})):
        _run(name, args, kw, rtol=1e-10)


def test_linalg_extension():
    m = _arr("float64", (3, 3))
    spd = m @ m.T + 3 * np.eye(3)
    v, w = _arr("float64", (4, 3)), _arr("float64", (4, 3))
    for name, args, kw in (("cholesky", [spd], {}), ("cholesky", [spd], {"upper": True}), ("det", [m], {}),
                           ("diagonal", [m], {"offset": 1}), ("eigvalsh", [spd], {}), ("inv", [m], {}),
                           ("matrix_norm", [m], {}), ("matrix_norm", [m], {"ord": 1, "keepdims": True}),
                           ("matrix_power", [m, 3], {}), ("matrix_power", [m, -2], {}), ("matrix_power", [m, 0], {}),
                           ("matrix_rank", [m], {}), ("outer", [v[0], w[0]], {}), ("pinv", [v], {}),
                           ("slogdet", [m], {}), ("solve", [spd, m], {}), ("svdvals", [v], {}), ("trace", [m], {"offset": -1}),
                           ("vector_norm", [v], {}), ("vector_norm", [v], {"axis": 1, "ord": 1}),
                           ("cross", [v, w], {}), ("vecdot", [v, w], {"axis": -2}), ("matrix_transpose", [v], {})):
        _run(name, args, kw, ns="linalg", rtol=1e-8)
    # decompositions are unique up to signs: check them by what they reconstruct
    q, r = xp.linalg.qr(ndgrad.from_numpy(v))
    np.testing.assert_allclose((q @ r).numpy(), v, atol=1e-12)
    u, s, vh = xp.linalg.svd(ndgrad.from_numpy(v), full_matrices=False)
    np.testing.assert_allclose((u * s[None]) @ vh, v, atol=1e-12)
    ev, evec = xp.linalg.eigh(ndgrad.from_numpy(spd))
    np.testing.assert_allclose((evec * ev[None]) @ evec.mT, spd, atol=1e-10)


def test_2024_additions():
    strict.set_array_api_strict_flags(api_version="2024.12")
    a = _arr("float64")
    for name, args, kw in (("reciprocal", [a], {}), ("count_nonzero", [a > 0], {"axis": 1}),
                           ("cumulative_prod", [a], {"axis": 0}), ("diff", [a], {"axis": 1, "n": 2}),
                           ("nextafter", [a, np.zeros_like(a)], {}),
                           ("take_along_axis", [a, np.argsort(a, axis=1)], {"axis": 1})):
        _run(name, args, kw, rtol=1e-12)


def test_errors_follow_the_standard():
    x = ndgrad.ones(2, 3)
    with pytest.raises(ValueError):
        xp.squeeze(x, axis=0)
    with pytest.raises(ValueError):
        xp.nonzero(ndgrad.tensor(1.0))
    with pytest.raises(ValueError):
        xp.take(x, ndgrad.tensor([0]))
    assert xp.asarray([1], device=ndgrad.device("cpu")).tolist() == [1]
    with pytest.raises((ValueError, RuntimeError), match="cpu"):
        xp.zeros(2, device="meta")


def test_gradients_flow_through_the_namespace():
    x = ndgrad.tensor([[0.5, -1.0], [2.0, 0.25]], dtype=ndgrad.float64, requires_grad=True)
    y = xp.sum(xp.sin(x) * xp.linalg.vector_norm(x, axis=1, keepdims=True)) + xp.mean(xp.asinh(x) ** 2)
    y.backward()
    g = x.grad.clone()
    x.grad = None
    z = ((ndgrad.sin(x) * ndgrad.linalg.vector_norm(x, dim=1, keepdim=True)).sum()
         + (ndgrad.log(x + ndgrad.sqrt(x * x + 1)) ** 2).mean())
    z.backward()
    np.testing.assert_allclose(g.numpy(), x.grad.numpy(), rtol=1e-12)
    assert ndgrad.autograd.gradcheck(lambda t: xp.atanh(t * 0.3) + xp.acosh(t * t + 1.5), (x,))


def test_scikit_learn_runs_on_tensors(monkeypatch):
    sklearn = pytest.importorskip("sklearn")
    pytest.importorskip("scipy")
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    from sklearn.decomposition import PCA
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 4))
    y = (X[:, 0] + 0.3 * X[:, 1] > 0).astype(np.int64)
    Xt, yt = ndgrad.from_numpy(X), ndgrad.from_numpy(y)
    try:
        with sklearn.config_context(array_api_dispatch=True):
            pca = PCA(n_components=2, svd_solver="full").fit(Xt)
            lda = LinearDiscriminantAnalysis(solver="svd").fit(Xt, yt)
            pred = lda.predict(Xt)
    except (ImportError, RuntimeError) as e:          # e.g. an sklearn without array API support
        pytest.skip(f"scikit-learn's array API dispatch is unavailable here: {e}")
    assert isinstance(pca.components_, ndgrad.Tensor) and isinstance(pred, ndgrad.Tensor)
    ref_pca = PCA(n_components=2, svd_solver="full").fit(X)
    ref_lda = LinearDiscriminantAnalysis(solver="svd").fit(X, y)
    np.testing.assert_allclose(pca.explained_variance_ratio_.numpy(), ref_pca.explained_variance_ratio_, rtol=1e-10)
    np.testing.assert_array_equal(pred.numpy(), ref_lda.predict(X))
