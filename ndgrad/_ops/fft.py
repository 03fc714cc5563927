"""The discrete Fourier transforms (`ndgrad.fft`): three primitives as torch has them, and the public functions.

The primitives mirror torch's internal ones, so nodes print as torch's:

- `fft_c2c(x, dim, normalization, forward)`  complex -> complex          FftC2CBackward0
- `fft_r2c(x, dim, normalization, onesided)` real -> complex (forward)   FftR2CBackward0
- `fft_c2r(x, dim, normalization, n)`        one-sided complex -> real   FftC2RBackward0

`normalization` is 0 (none), 1 (1/sqrt(N)) or 2 (1/N), N the number of points transformed. Each is linear
(c2r only over the reals), so each derivative is the adjoint transform, under torch's conjugate-Wirtinger
convention: the adjoint of c2c is c2c the other way with the same scaling; of r2c, the real part of the inverse
c2c of the gradient zero-padded to the full length; of c2r, the one-sided r2c of the gradient with the bins
that stand for two (conjugate) frequencies doubled. The imaginary parts of the DC and Nyquist bins that c2r
ignores get no gradient from the real part of a real r2c's DC/Nyquist, which is real.

The public functions resize (narrow / constant_pad_nd nodes), promote (integers to the default float, reals
to complex where torch does: ToCopyBackward0) and compose the primitives as torch does (hfft is c2r of the
conjugate, ihfft the conjugate of r2c), so the chain of nodes matches torch's.
"""
from __future__ import annotations

import builtins
import math
from typing import Any, Optional, Sequence

import numpy as np

from .._quiet import quiet
from .. import _dtype as D
from .._tensor import Tensor, _wrap, _wrap_dim
from . import indexing as I
from . import pointwise as P
from . import shape as S
from ._registry import SAME, Op

__all__ = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2", "ifft2", "rfft2", "irfft2", "hfft2", "ihfft2",
           "fftn", "ifftn", "rfftn", "irfftn", "hfftn", "ihfftn", "fftfreq", "rfftfreq", "fftshift", "ifftshift"]


# -- the primitives ---------------------------------------------------------------------------------------------
def _scale(out: np.ndarray, sizes: Sequence[int], normalization: int) -> np.ndarray:
    if normalization:
        n = 1
        for s in sizes:
            n *= s
        f = 1.0 / math.sqrt(n) if normalization == 1 else 1.0 / n
        out *= np.array(f, out.real.dtype)
    return out


def _complex_of(dt: np.dtype) -> np.dtype:
    return np.dtype(np.complex64) if dt in (np.float32, np.complex64) else np.dtype(np.complex128)


def _c2c(x: np.ndarray, dim: tuple, normalization: int, forward: bool) -> np.ndarray:
    if not dim:
        return x.copy()
    out = np.fft.fftn(x, axes=dim) if forward else np.fft.ifftn(x, axes=dim, norm="forward")
    out = np.asarray(out, dtype=x.dtype)
    return _scale(out, [x.shape[d] for d in dim], normalization)


def _r2c(x: np.ndarray, dim: tuple, normalization: int, onesided: bool) -> np.ndarray:
    out = np.fft.rfftn(x, axes=dim) if onesided else np.fft.fftn(x, axes=dim)
    out = np.asarray(out, dtype=_complex_of(x.dtype))
    return _scale(out, [x.shape[d] for d in dim], normalization)


def _c2r(x: np.ndarray, dim: tuple, normalization: int, last_dim_size: int) -> np.ndarray:
    sizes = [x.shape[d] for d in dim[:-1]] + [last_dim_size]
    out = np.fft.irfftn(x, s=sizes, axes=dim, norm="forward")  # unnormalized
    out = np.asarray(out, dtype=x.real.dtype)
    return _scale(out, sizes, normalization)


fft_c2c = Op("fft_c2c", _c2c, ("self",), ("dim", "normalization", "forward"), node="FftC2CBackward0", dtype=SAME)
fft_r2c = Op("fft_r2c", _r2c, ("self",), ("dim", "normalization", "onesided"), node="FftR2CBackward0", dtype=SAME)
fft_c2r = Op("fft_c2r", _c2r, ("self",), ("dim", "normalization", "last_dim_size"), node="FftC2RBackward0",
             dtype=SAME)


def _const(like: Any, arr: np.ndarray) -> Any:
    """A constant for a formula: an array in raw mode, a Tensor when the formula records a graph."""
    return _wrap(arr) if isinstance(like, Tensor) else arr


def _r2c_backward(grad, self_shape, dim, normalization, onesided):
    if onesided:
        last = dim[-1]
        full, have = self_shape[last], grad.shape[last]
        if full > have:  # the bins the one-sided spectrum left out get no gradient
            shape = list(grad.shape)
            shape[last] = full
            grad = S.pad_slice(grad, tuple(shape), last, 0, have)
    return P.real(fft_c2c(grad, dim, normalization, False))


def _c2r_backward(grad, dim, normalization, last_dim_size):
    g = fft_r2c(grad, dim, normalization, True)
    last = dim[-1]
    half = g.shape[last]
    double = last_dim_size - half  # bins 1..double stand for a frequency and its conjugate
    if double > 0:
        w = np.ones(half, g.real.dtype if isinstance(g, np.ndarray) else g._data.real.dtype)
        w[1:1 + double] = 2
        w = w.reshape((half,) + (1,) * (len(g.shape) - 1 - last))
        g = P.mul(g, _const(g, w))
    return g


fft_c2c.defvjp(self=lambda grad, dim, normalization, forward: fft_c2c(grad, dim, normalization, not forward))
fft_r2c.defvjp(self=_r2c_backward)
fft_c2r.defvjp(self=_c2r_backward)
# ihfftn conjugates a materialized copy (torch's conj_physical), not a lazy conjugate view
conj_physical = Op("conj_physical", np.conj, ("self",), node="ConjPhysicalBackward0", dtype=SAME)
conj_physical.defvjp(self=lambda grad: conj_physical(grad))
for _op in (fft_c2c, fft_r2c, fft_c2r, conj_physical):
    _op.defjvp(linear=True)


# -- argument handling ------------------------------------------------------------------------------------------
def _norm(norm: Optional[str], forward: bool) -> int:
    """torch's normalization for a transform in the given direction: 0 none, 1 by sqrt(n), 2 by n."""
    if norm is None or norm == "backward":
        return 0 if forward else 2
    if norm == "forward":
        return 2 if forward else 0
    if norm == "ortho":
        return 1
    raise RuntimeError(f'Invalid normalization mode: "{norm}"')


def _check_tensor(input: Any, name: str) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"fft_{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")


def _check_int(v: Any, fname: str, arg: str, optional: bool = True) -> None:
    if v is None and optional:
        return
    if isinstance(v, builtins.bool) or not isinstance(v, (builtins.int, np.integer)):
        raise TypeError(f"fft_{fname}(): argument '{arg}' must be int, not {type(v).__name__}")


def _dtype_check(x: Tensor) -> None:
    if x._data.dtype == np.float16:
        raise RuntimeError("Unsupported dtype Half")


def _promote_float(x: Tensor) -> Tensor:
    """Integers and bool become the default float dtype (complex inputs stay)."""
    _dtype_check(x)
    if x._data.dtype.kind in "fc":
        return x
    return P.cast(x, D._DEFAULT[0].np)


def _to_complex(x: Tensor) -> Tensor:
    x = _promote_float(x)
    if x._data.dtype.kind == "c":
        return x
    return P.cast(x, _complex_of(x._data.dtype))


def _to_real(x: Tensor, fname: str, msg: Optional[str] = None) -> Tensor:
    x = _promote_float(x)
    if x._data.dtype.kind == "c":
        raise RuntimeError(msg or f"{fname} expects a real input tensor, but got {_pretty(x)}")
    return x


def _pretty(x: Tensor) -> str:
    from .._tensor import _PRETTY
    d = x._data.dtype
    return _PRETTY[(d.kind, d.itemsize)]


def _check_n(n: int) -> None:
    if n < 1:
        raise RuntimeError(f"Invalid number of data points ({n}) specified")


def _resize(x: Tensor, dims: Sequence[int], sizes: Sequence[int]) -> Tensor:
    """Crop (narrow: SliceBackward0) or zero-pad (constant_pad_nd, one node) `x` to `sizes` along `dims`."""
    pads = [(0, 0)] * x.ndim
    need_pad = False
    for d, s in zip(dims, sizes):
        cur = x._data.shape[d]
        if s < cur:
            x = S.narrow(x, d, 0, s)
        elif s > cur:
            pads[d] = (0, s - cur)
            need_pad = True
    if need_pad:
        first = next(i for i, p in enumerate(pads) if p != (0, 0))
        x = I.constant_pad(x, tuple(pads[first:]), 0)
    return x


def _one_dim(input: Tensor, n: Any, dim: Any, name: str) -> tuple[int, Optional[int]]:
    _check_tensor(input, name)
    _check_int(n, name, "n")
    _check_int(dim, name, "dim", optional=False)
    if input.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    d = _wrap_dim(int(dim), input.ndim)
    if n is not None:
        _check_n(int(n))
    return d, None if n is None else int(n)


def _as_tuple(v: Any) -> Optional[tuple]:
    if v is None:
        return None
    if isinstance(v, (builtins.int, np.integer)):
        return (int(v),)
    return tuple(int(a) for a in v)


def _nd_args(input: Tensor, s: Any, dim: Any, name: str) -> tuple[list, list]:
    """torch's canonicalization of (s, dim): the transformed dims and their signal sizes."""
    _check_tensor(input, name)
    s, dim = _as_tuple(s), _as_tuple(dim)
    nd = input.ndim
    if dim is not None:
        dims = [_wrap_dim(d, nd) if nd else _wrap_dim_0d(d) for d in dim]
        if len(set(dims)) != len(dims):
            raise RuntimeError("FFT dims must be unique")
        if s is not None and len(s) != len(dims):
            raise RuntimeError("When given, dim and shape arguments must have the same length")
    elif s is not None:
        if len(s) > nd:
            raise RuntimeError(f"Got shape with {len(s)} values but input tensor only has {nd} dimensions.")
        dims = list(range(nd - len(s), nd))
    else:
        dims = list(range(nd))
    if s is None:
        sizes = [input._data.shape[d] for d in dims]
    else:
        sizes = [input._data.shape[d] if v == -1 else v for d, v in zip(dims, s)]
    for v in sizes:
        _check_n(v)
    return dims, sizes


def _wrap_dim_0d(d: int) -> int:
    raise IndexError(f"Dimension specified as {d} but tensor has no dimensions")


# -- the transforms ----------------------------------------------------------------------------------------------
def _not_empty(x: Tensor) -> None:
    """torch's CPU transforms (MKL) refuse an empty batch; an empty transformed dim fails `_check_n` before."""
    if x._data.size == 0:
        raise RuntimeError("MKL FFT error: Intel oneMKL DFTI ERROR: Inconsistent configuration parameters")


def _c2c_fn(input: Tensor, dims: list, sizes: list, norm: Optional[str], forward: bool) -> Tensor:
    x = _to_complex(input)
    x = _resize(x, dims, sizes)
    _not_empty(x)
    return fft_c2c(x, tuple(dims), _norm(norm, forward), forward)


def _r2c_fn(input: Tensor, dims: list, sizes: list, norm: Optional[str], forward: bool, onesided: bool,
            name: str) -> Tensor:
    x = _to_real(input, name)
    x = _resize(x, dims, sizes)
    _not_empty(x)
    out = fft_r2c(x, tuple(dims), _norm(norm, forward), onesided)
    return out if forward else P.conj(out)


def _c2r_fn(input: Tensor, dims: list, sizes: list, norm: Optional[str], forward: bool) -> Tensor:
    """`sizes[-1]` is the real output's length; the input's last transformed dim is resized to half of it."""
    x = _to_complex(input)
    last_size = sizes[-1]
    x = _resize(x, dims, sizes[:-1] + [last_size // 2 + 1])
    _not_empty(x)
    if forward:
        x = P.conj(x)
    return fft_c2r(x, tuple(dims), _norm(norm, forward), last_size)


def _fft1(input: Tensor, n: Any, dim: Any, norm: Optional[str], forward: bool, name: str) -> Tensor:
    d, n = _one_dim(input, n, dim, name)
    size = input._data.shape[d] if n is None else n
    _check_n(size)
    if _promote_float(input)._data.dtype.kind == "c":
        return _c2c_fn(input, [d], [size], norm, forward)
    return _r2c_fn(input, [d], [size], norm, forward, False, name)


def fft(input: Tensor, n: Optional[int] = None, dim: int = -1, norm: Optional[str] = None, *,
        out: Any = None) -> Tensor:
    """Mirrors `torch.fft.fft`."""
    return _fft1(input, n, dim, norm, True, "fft")


def ifft(input: Tensor, n: Optional[int] = None, dim: int = -1, norm: Optional[str] = None, *,
         out: Any = None) -> Tensor:
    """Mirrors `torch.fft.ifft`."""
    return _fft1(input, n, dim, norm, False, "ifft")


def rfft(input: Tensor, n: Optional[int] = None, dim: int = -1, norm: Optional[str] = None, *,
         out: Any = None) -> Tensor:
    """Mirrors `torch.fft.rfft`."""
    d, n = _one_dim(input, n, dim, "rfft")
    size = input._data.shape[d] if n is None else n
    _check_n(size)
    return _r2c_fn(input, [d], [size], norm, True, True, "rfft")


def ihfft(input: Tensor, n: Optional[int] = None, dim: int = -1, norm: Optional[str] = None, *,
          out: Any = None) -> Tensor:
    """Mirrors `torch.fft.ihfft`."""
    d, n = _one_dim(input, n, dim, "ihfft")
    size = input._data.shape[d] if n is None else n
    _check_n(size)
    return _r2c_fn(input, [d], [size], norm, False, True, "ihfft")


def _c2r_1d(input: Tensor, n: Any, dim: Any, norm: Optional[str], forward: bool, name: str) -> Tensor:
    d, n = _one_dim(input, n, dim, name)
    size = 2 * (input._data.shape[d] - 1) if n is None else n
    _check_n(size)
    return _c2r_fn(input, [d], [size], norm, forward)


def irfft(input: Tensor, n: Optional[int] = None, dim: int = -1, norm: Optional[str] = None, *,
          out: Any = None) -> Tensor:
    """Mirrors `torch.fft.irfft`."""
    return _c2r_1d(input, n, dim, norm, False, "irfft")


def hfft(input: Tensor, n: Optional[int] = None, dim: int = -1, norm: Optional[str] = None, *,
         out: Any = None) -> Tensor:
    """Mirrors `torch.fft.hfft`."""
    return _c2r_1d(input, n, dim, norm, True, "hfft")


def fftn(input: Tensor, s: Optional[Sequence[int]] = None, dim: Optional[Sequence[int]] = None,
         norm: Optional[str] = None, *, out: Any = None) -> Tensor:
    """Mirrors `torch.fft.fftn`."""
    dims, sizes = _nd_args(input, s, dim, "fftn")
    return _c2c_fn(input, dims, sizes, norm, True)


def ifftn(input: Tensor, s: Optional[Sequence[int]] = None, dim: Optional[Sequence[int]] = None,
          norm: Optional[str] = None, *, out: Any = None) -> Tensor:
    """Mirrors `torch.fft.ifftn`."""
    dims, sizes = _nd_args(input, s, dim, "ifftn")
    return _c2c_fn(input, dims, sizes, norm, False)


def rfftn(input: Tensor, s: Optional[Sequence[int]] = None, dim: Optional[Sequence[int]] = None,
          norm: Optional[str] = None, *, out: Any = None) -> Tensor:
    """Mirrors `torch.fft.rfftn`."""
    _check_tensor(input, "rfftn")
    x = _rfftn_real(input)
    dims, sizes = _nd_args(x, s, dim, "rfftn")
    if not dims:
        raise RuntimeError("rfftn must transform at least one axis")
    return _r2c_fn(x, dims, sizes, norm, True, True, "rfftn")


def _rfftn_real(input: Tensor) -> Tensor:
    x = _promote_float(input)
    if x._data.dtype.kind == "c":
        raise RuntimeError(f"rfftn expects a real-valued input tensor, but got {_pretty(x)}")
    return x


def ihfftn(input: Tensor, s: Optional[Sequence[int]] = None, dim: Optional[Sequence[int]] = None,
           norm: Optional[str] = None, *, out: Any = None) -> Tensor:
    """Mirrors `torch.fft.ihfftn`: the conjugate of the one-sided r2c of the last dim, then an inverse c2c of
    the others."""
    dims, sizes = _nd_args(input, s, dim, "ihfftn")
    if not dims:
        raise RuntimeError("ihfftn must transform at least one axis")
    x = _promote_float(input)
    if x._data.dtype.kind == "c":
        raise RuntimeError(f"Only supports floating-point dtypes, but found: {_pretty(x)}")
    x = _resize(x, dims, sizes)
    _not_empty(x)
    last = dims[-1:]
    y = fft_r2c(x, tuple(last), _norm(norm, False), True)
    if len(dims) == 1:
        return P.conj(y)
    y = conj_physical(y)
    return fft_c2c(y, tuple(dims[:-1]), _norm(norm, False), False)


def irfftn(input: Tensor, s: Optional[Sequence[int]] = None, dim: Optional[Sequence[int]] = None,
           norm: Optional[str] = None, *, out: Any = None) -> Tensor:
    """Mirrors `torch.fft.irfftn`."""
    dims, sizes = _nd_c2r_args(input, s, dim, "irfftn")
    return _c2r_fn(input, dims, sizes, norm, False)


def _nd_c2r_args(input: Tensor, s: Any, dim: Any, name: str) -> tuple[list, list]:
    dims, sizes = _nd_args(input, s, dim, name) if s is None else (None, None)
    if s is None:
        if not dims:
            raise RuntimeError(f"{name} must transform at least one axis")
        sizes[-1] = 2 * (input._data.shape[dims[-1]] - 1)
        _check_n(sizes[-1])
        return dims, sizes
    # with s, the last size -1 means the default 2*(m-1), not the input's size
    st = _as_tuple(s)
    dims, sizes = _nd_args(input, [1 if v == -1 else v for v in st], dim, name)
    if not dims:
        raise RuntimeError(f"{name} must transform at least one axis")
    sizes = [input._data.shape[d] if v == -1 else v for d, v in zip(dims, st)]
    if st[-1] == -1:
        sizes[-1] = 2 * (input._data.shape[dims[-1]] - 1)
    for v in sizes:
        _check_n(v)
    return dims, sizes


def hfftn(input: Tensor, s: Optional[Sequence[int]] = None, dim: Optional[Sequence[int]] = None,
          norm: Optional[str] = None, *, out: Any = None) -> Tensor:
    """Mirrors `torch.fft.hfftn`: a forward c2c of all but the last dim, the conjugate, then c2r of the last."""
    dims, sizes = _nd_c2r_args(input, s, dim, "hfftn")
    x = _to_complex(input)
    last_size = sizes[-1]
    x = _resize(x, dims, sizes[:-1] + [last_size // 2 + 1])
    _not_empty(x)
    if len(dims) > 1:
        x = fft_c2c(x, tuple(dims[:-1]), _norm(norm, True), True)
    x = P.conj(x)
    return fft_c2r(x, tuple(dims[-1:]), _norm(norm, True), last_size)


def _two(fn: Any, name: str) -> Any:
    def f(input: Tensor, s: Optional[Sequence[int]] = None, dim: Sequence[int] = (-2, -1),
          norm: Optional[str] = None, *, out: Any = None) -> Tensor:
        if dim is None:
            raise TypeError(f"fft_{name}(): argument 'dim' must be tuple of ints, not NoneType")
        return fn(input, s, dim, norm)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"Mirrors `torch.fft.{name}`."
    return f


fft2 = _two(fftn, "fft2")
ifft2 = _two(ifftn, "ifft2")
rfft2 = _two(rfftn, "rfft2")
irfft2 = _two(irfftn, "irfft2")
hfft2 = _two(hfftn, "hfft2")
ihfft2 = _two(ihfftn, "ihfft2")


# -- helpers ----------------------------------------------------------------------------------------------------
def _freq_dtype(dtype: Any, name: str) -> Any:
    d = D._DEFAULT[0] if dtype is None else dtype
    if not (d.is_floating_point or d.is_complex):
        raise RuntimeError(f"{name} requires a floating point or complex dtype")
    return d


def _freq_tensor(vals: np.ndarray, dtype: Any, requires_grad: bool, name: str) -> Tensor:
    d = _freq_dtype(dtype, name)
    if d.is_complex:
        raise NotImplementedError("\"arange_cpu\" not implemented for 'ComplexFloat'" if d.np == np.complex64
                                  else "\"arange_cpu\" not implemented for 'ComplexDouble'")
    t = _wrap(np.asarray(vals, dtype=d.np))
    if requires_grad:
        t.requires_grad_()
    return t


def _check_len(n: Any, name: str) -> int:
    if isinstance(n, builtins.bool) or not isinstance(n, (builtins.int, np.integer)):
        raise TypeError(f"{name}(): argument 'n' (position 1) must be int, not {type(n).__name__}")
    return int(n)


def _freq_values(k: np.ndarray, n: int, d: float, dtype: Any, name: str) -> np.ndarray:
    dd = _freq_dtype(dtype, name)
    if dd.is_complex:
        return k
    with quiet():
        scale = np.divide(1.0, np.float64(n) * d)  # n = 0: inf, and 0 * inf = nan, as torch
        return k.astype(dd.np) * np.array(scale, dd.np)


def _arange(m: int) -> np.ndarray:
    if m < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {m}: [{m}]")
    return np.arange(m, dtype=np.float64)


def fftfreq(n: int, d: float = 1.0, *, out: Any = None, dtype: Any = None, layout: Any = None, device: Any = None,
            requires_grad: bool = False) -> Tensor:
    """Mirrors `torch.fft.fftfreq`: [0, 1, ..., ceil(n/2)-1, -floor(n/2), ..., -1] / (d*n)."""
    n = _check_len(n, "fftfreq")
    k = _arange(n)
    k[(n + 1) // 2:] -= n
    return _freq_tensor(_freq_values(k, n, d, dtype, "fftfreq"), dtype, requires_grad, "fftfreq")


def rfftfreq(n: int, d: float = 1.0, *, out: Any = None, dtype: Any = None, layout: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """Mirrors `torch.fft.rfftfreq`: [0, 1, ..., n//2] / (d*n)."""
    n = _check_len(n, "rfftfreq")
    k = _arange((n // 2 if n >= 0 else -(-n // 2)) + 1)  # C++'s n / 2 truncates toward zero
    return _freq_tensor(_freq_values(k, n, d, dtype, "rfftfreq"), dtype, requires_grad, "rfftfreq")


def _shift(input: Tensor, dim: Any, inverse: bool) -> Tensor:
    from . import roll
    if dim is None:
        dims = list(range(input.ndim))
    else:
        dims = list(_as_tuple(dim))
    shifts = []
    for d in dims:
        n = input._data.shape[_wrap_dim(d, input.ndim)]
        shifts.append(-(n // 2) if inverse else n // 2)
    return roll(input, shifts, dims)


def fftshift(input: Tensor, dim: Optional[Any] = None) -> Tensor:
    """Mirrors `torch.fft.fftshift`: zero frequency to the centre (a roll by n//2 along each dim)."""
    return _shift(input, dim, False)


def ifftshift(input: Tensor, dim: Optional[Any] = None) -> Tensor:
    """Mirrors `torch.fft.ifftshift`: the inverse of fftshift (a roll by -(n//2))."""
    return _shift(input, dim, True)


def _refuse_out(f: Any) -> Any:
    """`out=` is not implemented: a clear error rather than an argument silently ignored."""
    import functools

    @functools.wraps(f)
    def g(*args: Any, out: Any = None, **kwargs: Any) -> Any:
        if out is not None:
            raise NotImplementedError(f"ndgrad: {f.__module__.replace('ndgrad._ops.', 'torch.')}.{f.__name__}"
                                      "(out=...) is not implemented")
        return f(*args, **kwargs)
    return g


for _n in __all__:
    if _n not in ("fftshift", "ifftshift"):
        globals()[_n] = _refuse_out(globals()[_n])
