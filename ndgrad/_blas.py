"""A fused multiply-add over float32 arrays through the BLAS that NumPy already ships: `saxpy` (y += alpha * x).

torch's CPU kernels update parameters with fused multiply-adds (`param.add_(grad, alpha=-lr)` rounds
`param - lr * grad` once). NumPy has no fused multiply-add, so `pointwise.fma` computes it in float64 and
rounds back, four passes over a float64 copy: for the 669k parameters of an MLP 784-512-512-10 that is a
tenth of a training step. OpenBLAS's saxpy kernels on CPUs with FMA instructions compute exactly
`fma(alpha, x, y)` per element, in one pass (6x faster on that MLP's parameters; and faster than the
float64 path down to ten elements). It is also torch's rounding where the float64 path is not: a float64 sum
rounded to float32 rounds twice, which differs from one rounding when the exact result lies just off a
float32 halfway point (see `_rounds_once`).

Nothing here is assumed: the library is looked up among NumPy's own bundled libraries (the `numpy.libs`
folder of the PyPI wheels, OpenBLAS built with 64-bit integers), and before it is first used a self-test
checks, on every length from 1 to 64 (a kernel's vector body and its scalar tail) and on values where one
rounding and two differ, that it rounds once. Anything else (another BLAS, a CPU whose kernel rounds twice,
no library found) leaves `pointwise.fma`'s float64 path in charge. Loaded on first use, never at import.
"""
from __future__ import annotations

import ctypes
import glob
import os
from typing import Any

import numpy as np

_F32 = np.dtype(np.float32)
_saxpy: Any = None   # the checked function; False once found missing or wrong


def _load() -> Any:
    libs = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs")
    for path in sorted(glob.glob(os.path.join(libs, "*openblas*"))):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in ("scipy_cblas_saxpy64_", "cblas_saxpy64_"):
            f = getattr(lib, name, None)
            if f is not None:
                f.argtypes = [ctypes.c_int64, ctypes.c_float, ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p,
                              ctypes.c_int64]
                f.restype = None
                return f
    return None


def _rounds_once(f: Any) -> bool:
    """Whether `f` gives y + alpha*x rounded once, for every length up to 64 and a long one, each at every
    alignment of a float32 within 32 bytes (a kernel may treat a misaligned head, the vector body and the tail
    differently; DDP's bucket slices start anywhere). With alpha = 1 + 2^-12 and x = 2^-24 (1 - 2^-12 + 2^-24),
    alpha*x = 2^-24 (1 + 2^-36): y = 1 plus that lies just above the halfway point between 1 and the next
    float32, so one rounding gives 1 + 2^-23; a product rounded first (to 2^-24) lands on the halfway point and
    rounds to even, 1 (and so does a float64 sum, which drops the 2^-60)."""
    alpha = float(np.float32(1 + 2.0 ** -12))
    xv = np.float32(2.0 ** -24 * (1 - 2.0 ** -12 + 2.0 ** -24))
    want = np.float32(1 + 2.0 ** -23)
    xs = np.full(1000 + 16, xv, np.float32)
    ys = np.empty(1000 + 16, np.float32)
    for n in list(range(1, 65)) + [1000]:
        for ox, oy in ((k, k) for k in range(8)):
            x = xs[ox:ox + n]
            y = ys[oy + 3:oy + 3 + n] if n % 2 else ys[oy:oy + n]  # (also x and y aligned differently)
            y.fill(1)
            f(n, alpha, x.ctypes.data, 1, y.ctypes.data, 1)
            if not (y == want).all():
                return False
    return True


def _get() -> Any:
    global _saxpy
    if _saxpy is None:
        f = None
        try:
            f = _load()
            if f is not None and not _rounds_once(f):
                f = None
        except Exception:  # an unexpected library: the float64 path serves
            f = None
        _saxpy = f if f is not None else False
    return _saxpy


def fma(a: np.ndarray, alpha: Any, x: np.ndarray, out: Any = None) -> np.ndarray | None:
    """a + alpha * x rounded once per element, into `a` itself when `out is a` (else a new array), for float32
    arrays of one shape, a number `alpha` (rounded to float32 first, as torch casts it) and a checked saxpy;
    None (nothing done) otherwise."""
    if not (a.dtype == _F32 and x.dtype == _F32 and a.shape == x.shape and (out is None or out is a)
            and (type(alpha) in (int, float) or isinstance(alpha, (np.float32, np.float64)))):
        return None
    if not x.flags.c_contiguous:
        return None
    if out is a:
        fa = a.flags
        if not (fa.c_contiguous and fa.writeable) or np.may_share_memory(a, x):
            return None
    f = _saxpy if _saxpy is not None else _get()
    if not f:
        return None
    y = a if out is a else np.array(a, order="C", copy=True)
    f(y.size, float(np.float32(alpha)), x.ctypes.data, 1, y.ctypes.data, 1)
    return y
