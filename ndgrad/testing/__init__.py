"""`torch.testing`: `assert_close` (torch's default tolerances and failure messages) and `make_tensor`."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor

__all__ = ["assert_close", "assert_allclose", "make_tensor"]

# torch's default (rtol, atol) per dtype
_TOLS = {"float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5), "float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7),
         "complex64": (1.3e-6, 1e-5), "complex128": (1e-7, 1e-7)}


def _tols(d: D.dtype) -> tuple:
    return _TOLS.get(d.name, (0.0, 0.0))


def _fmt_idx(idx: tuple) -> str:
    return "(" + ", ".join(str(int(i)) for i in idx) + ("," if len(idx) == 1 else "") + ")"


def _compare_tensors(actual: Tensor, expected: Tensor, rtol: Any, atol: Any, equal_nan: bool, check_dtype: bool,
                     check_device: bool, msg: Any, where: str) -> None:
    for attr in ("shape",) + (("dtype",) if check_dtype else ()):
        a, e = getattr(actual, attr), getattr(expected, attr)
        if a != e:
            _fail(msg, f"The values for attribute '{attr}' do not match: {a} != {e}.{where}")
    if rtol is None or atol is None:
        r1, a1 = _tols(actual.dtype)
        r2, a2 = _tols(expected.dtype)
        rtol, atol = (max(r1, r2), max(a1, a2)) if rtol is None else (rtol, atol)
    a = actual.detach()._data
    e = expected.detach()._data
    if a.dtype != e.dtype:
        common = np.promote_types(a.dtype, e.dtype)
        a, e = a.astype(common), e.astype(common)
    if a.dtype.kind == "b":
        a, e = a.astype(np.int64), e.astype(np.int64)
    exact = a.dtype.kind in "iub"
    if exact:
        ok = a == e
    else:
        with np.errstate(invalid="ignore", over="ignore"):
            ok = np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan)
            ok |= (a == e)
    if ok.all():
        return
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        ft = a.dtype if a.dtype.kind in "fcV" else np.dtype(np.float32)  # torch measures in the compared dtype
        ad = np.abs(a.astype(ft) - e.astype(ft))
        rd = ad / np.abs(e.astype(ft))
    bad = ~ok
    n_bad, n = int(bad.sum()), ok.size
    adm = np.where(bad, ad, -1.0)
    rdm = np.where(bad, rd, -1.0)
    ia = np.unravel_index(int(np.nanargmax(np.where(np.isnan(adm), np.inf, adm))), ok.shape) if ok.ndim else ()
    ir = np.unravel_index(int(np.nanargmax(np.where(np.isnan(rdm), np.inf, rdm))), ok.shape) if ok.ndim else ()
    kind = "equal" if exact else "close"
    lines = [f"Tensor-likes are not {kind}!", "", f"Mismatched elements: {n_bad} / {n} ({100 * n_bad / n:.1f}%)"]
    va = ad[ia] if ok.ndim else ad
    vr = rd[ir] if ok.ndim else rd
    fa = _num(va, exact)
    lines.append(f"Greatest absolute difference: {fa} at index {_fmt_idx(ia)}"
                 + ("" if exact else f" (up to {atol} allowed)"))
    lines.append(f"Greatest relative difference: {_num(float(vr), False)} at index {_fmt_idx(ir)}"
                 + ("" if exact else f" (up to {rtol} allowed)"))
    _fail(msg, "\n".join(lines) + where)


def _num(v: Any, exact: bool) -> str:
    if exact:
        return str(int(v))
    v = float(v)
    return "nan" if v != v else ("inf" if v == float("inf") else repr(v))


def _fail(msg: Any, text: str) -> None:
    if callable(msg):
        raise AssertionError(msg(text))
    raise AssertionError(text if msg is None else msg)


def _walk(actual: Any, expected: Any, path: list, kw: dict) -> None:
    where = "" if not path else "\n\nThe failure occurred for item " + "".join(f"[{p!r}]" for p in path)
    if isinstance(actual, Tensor) and isinstance(expected, Tensor):
        return _compare_tensors(actual, expected, where=where, **kw)
    if isinstance(actual, (np.ndarray,)) and isinstance(expected, np.ndarray):
        from .._creation import from_numpy
        return _compare_tensors(from_numpy(actual), from_numpy(expected), where=where, **kw)
    if isinstance(actual, dict) and isinstance(expected, dict):
        if set(actual) != set(expected):
            raise AssertionError(f"The keys of the mappings do not match:\nMissing keys in the actual mapping: "
                                 f"{sorted(set(expected) - set(actual))}\nAdditional keys in the actual mapping: "
                                 f"{sorted(set(actual) - set(expected))}")
        for k in expected:
            _walk(actual[k], expected[k], path + [k], kw)
        return None
    if isinstance(actual, (list, tuple)) and isinstance(expected, (list, tuple)) and not isinstance(actual, str):
        if len(actual) != len(expected):
            raise AssertionError(f"The length of the sequences mismatch: {len(actual)} != {len(expected)}")
        for i, (a, e) in enumerate(zip(actual, expected)):
            _walk(a, e, path + [i], kw)
        return None
    numbers = (int, float, complex, bool)
    if isinstance(actual, numbers) and isinstance(expected, numbers):
        if type(actual) is not type(expected) and kw["check_dtype"]:
            raise AssertionError(f"The values for attribute 'dtype' do not match: {type(actual)} != "
                                 f"{type(expected)}.")
        rtol, atol = kw["rtol"], kw["atol"]
        if rtol is None:
            rtol, atol = (0.0, 0.0) if isinstance(actual, (int, bool)) else (1e-7, 1e-7)
        if actual == expected or (kw["equal_nan"] and actual != actual and expected != expected):
            return None
        if abs(actual - expected) <= atol + rtol * abs(expected):
            return None
        d = abs(actual - expected)
        r = d / abs(expected) if expected else float("inf")
        kind = "equal" if isinstance(actual, int) else "close"
        _fail(kw["msg"], f"Scalars are not {kind}!\n\nExpected {expected} but got {actual}.\nAbsolute difference: "
                         f"{d} (up to {atol} allowed)\nRelative difference: {r} (up to {rtol} allowed){where}")
        return None
    if actual is None and expected is None:
        return None
    raise TypeError(f"No comparison pair was able to handle inputs of type {_tname(actual)} and "
                    f"{_tname(expected)}.")


def _tname(x: Any) -> str:
    return "<class 'torch.Tensor'>" if isinstance(x, Tensor) else str(type(x))


def assert_close(actual: Any, expected: Any, *, allow_subclasses: bool = True, rtol: float | None = None,
                 atol: float | None = None, equal_nan: bool = False, check_device: bool = True,
                 check_dtype: bool = True, check_layout: bool = True, check_stride: bool = False,
                 msg: str | Callable | None = None) -> None:
    """Mirrors `torch.testing.assert_close`: tensors, scalars and nested sequences/mappings of them, with
    torch's per-dtype default tolerances and failure messages."""
    if (rtol is None) != (atol is None):
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but got no {'rtol' if rtol is None else 'atol'}.")
    _walk(actual, expected, [], dict(rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=check_dtype,
                                     check_device=check_device, msg=msg))


def assert_allclose(actual: Any, expected: Any, rtol: float | None = None, atol: float | None = None,
                    equal_nan: bool = True, msg: str = "") -> None:
    """The deprecated `torch.testing.assert_allclose` (dtypes may differ)."""
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=False, msg=msg or None)


def make_tensor(*shape: Any, dtype: Any, device: Any = None, low: float | None = None, high: float | None = None,
                requires_grad: bool = False, noncontiguous: bool = False, exclude_zero: bool = False,
                memory_format: Any = None) -> Tensor:
    """Mirrors `torch.testing.make_tensor`: uniform values in [low, high) (defaults as torch's per kind)."""
    from .._creation import _check_device, default_generator, from_numpy
    _check_device(device)
    shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else tuple(shape)
    rng = default_generator._rng
    if dtype is D.bool:
        a = rng.integers(0, 2, shape).astype(bool)
    elif dtype.is_floating_point or dtype.is_complex:
        lo = -9.0 if low is None else low
        hi = 9.0 if high is None else high
        a = rng.uniform(lo, hi, shape)
        if dtype.is_complex:
            a = a + 1j * rng.uniform(lo, hi, shape)
        a = a.astype(dtype.np)
    else:
        lo = (-9 if dtype.is_signed else 0) if low is None else int(low)
        hi = 10 if high is None else int(high)
        a = rng.integers(lo, hi, shape).astype(dtype.np)
    if exclude_zero:
        a[a == 0] = 1 if dtype is not D.bool else True
    t = from_numpy(np.ascontiguousarray(a))
    return t.requires_grad_(requires_grad) if requires_grad else t
