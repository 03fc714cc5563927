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
checks, on every length from 1 to 129 and two long ones (a kernel's vector body and its scalar tail) and on
values where one rounding and two differ, on which whole blocks it rounds once (every element for older
OpenBLAS builds; blocks of 32 for 0.3.31's Haswell kernel, whose scalar tail rounds twice: `fma` pads a tail
to one block). Anything else (another BLAS, a CPU whose kernel rounds twice, no library found) leaves
`pointwise.fma`'s float64 path in charge. Loaded on first use, never at import.
"""
from __future__ import annotations

import ctypes
import glob
import os
import threading
from typing import Any

import numpy as np

_F32 = np.dtype(np.float32)
_saxpy: Any = None   # the checked function; False once found missing or wrong
_block = 1           # it rounds once on the first n - n % _block elements (see _body_block)


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


_BLOCKS = (1, 2, 4, 8, 16, 32, 64)  # the vector-body widths a saxpy kernel may have, elements
# saxpy is called on at most this many elements at a time: OpenBLAS splits longer calls (over 10,000 elements)
# between its threads, and each thread's share has a tail of its own, rounded twice by a kernel that fuses blocks
_CHUNK = 8192


def _body_block(f: Any) -> int | None:
    """The smallest block `b` such that `f` gives y + alpha*x rounded once on the first n - n % b elements of
    every length n (its vector body: OpenBLAS 0.3.31's Haswell saxpy fuses blocks of 32 and rounds its scalar
    tail twice; older builds fused every element, b = 1); None when no such block is found. Checked for every
    length up to 129, 1000 and the longest call (_CHUNK), each at every alignment of x and y within 32 bytes (a kernel may treat a
    misaligned head differently; DDP's bucket slices start anywhere). With alpha = 1 + 2^-12 and
    x = 2^-24 (1 - 2^-12 + 2^-24), alpha*x = 2^-24 (1 + 2^-36): y = 1 plus that lies just above the halfway
    point between 1 and the next float32, so one rounding gives 1 + 2^-23; a product rounded first (to 2^-24)
    lands on the halfway point and rounds to even, 1 (and so does a float64 sum, which drops the 2^-60)."""
    alpha = float(np.float32(1 + 2.0 ** -12))
    xv = np.float32(2.0 ** -24 * (1 - 2.0 ** -12 + 2.0 ** -24))
    want = np.float32(1 + 2.0 ** -23)
    xs = np.full(_CHUNK + 16, xv, np.float32)
    ys = np.empty(_CHUNK + 16, np.float32)
    good = list(_BLOCKS)
    for n in list(range(1, 130)) + [1000, _CHUNK]:
        for ox, oy in ((k, j) for k in range(8) for j in (k, (k + 3) % 8)):
            x = xs[ox:ox + n]
            y = ys[oy:oy + n]
            y.fill(1)
            f(n, alpha, x.ctypes.data, 1, y.ctypes.data, 1)
            ok = y == want
            good = [b for b in good if ok[:n - n % b].all()]
            if not good:
                return None
    return good[0]


def _get() -> Any:
    global _saxpy, _block
    if _saxpy is None:
        f, b = None, None
        try:
            f = _load()
            if f is not None:
                b = _body_block(f)
        except Exception:  # an unexpected library: the float64 path serves
            f = None
        if f is None or b is None:
            _saxpy = False
        else:
            _saxpy, _block = f, b
    return _saxpy


_scratch = threading.local()  # per thread: the two blocks a tail is computed in, and their addresses
_from_buffer, _addressof = ctypes.c_char.from_buffer, ctypes.addressof


def _address(arr: np.ndarray) -> int:
    """The address of a C-contiguous array's first element (ctypes' view of a writable buffer: 0.3 us, against 1.3
    for `arr.ctypes.data`, which a read-only array needs)."""
    try:
        return _addressof(_from_buffer(arr))
    except (TypeError, ValueError):
        return arr.ctypes.data


def fma(a: np.ndarray, alpha: Any, x: np.ndarray, out: Any = None) -> np.ndarray | None:
    """a + alpha * x rounded once per element, into `a` itself when `out is a` (else a new array), for float32
    arrays of one shape, a number `alpha` (rounded to float32 first, as torch casts it) and a checked saxpy (on
    blocks of `_block` elements, the tail padded to one); None (nothing done) otherwise."""
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
    n = a.size
    y = a if out is a else np.array(a, order="C", copy=True)
    fa = float(np.float32(alpha))
    m = n - n % _block  # saxpy's body, which rounds once
    if m:
        xp, yp = _address(x), _address(y)
        for i in range(0, m, _CHUNK):
            f(min(_CHUNK, m - i), fa, xp + 4 * i, 1, yp + 4 * i, 1)
    if m < n:  # the tail, shorter than a block: copied into one block, where the kernel fuses every element
        sc = getattr(_scratch, "pair", None)
        if sc is None or sc[0].size != _block:
            xs, ys = np.zeros(_block, _F32), np.zeros(_block, _F32)
            sc = _scratch.pair = (xs, ys, _address(xs), _address(ys))
        xs, ys, xsp, ysp = sc
        r = n - m
        xs[:r] = x.reshape(-1)[m:]
        yt = y.reshape(-1)[m:]
        ys[:r] = yt
        f(_block, fa, xsp, 1, ysp, 1)  # (the rest of the block holds earlier values: finite, and not read)
        yt[...] = ys[:r]
    return y
