"""Complex views and constructors, window functions, stft/istft (torch's names, loaded on first use).

- `view_as_real` / `view_as_complex`: true NumPy views sharing memory and the version counter, with torch's
  checks (stride and storage-offset rules) and nodes ViewAsRealBackward0 / ViewAsComplexBackward0, each the
  other's derivative (z = a + ib: the conjugate-Wirtinger gradient of z is g_a + i g_b).
- `complex(real, imag)` (ComplexBackward0) and `polar(abs, angle)` (PolarBackward0, torch's formula through
  sgn(result), so a zero or negative `abs` gets torch's gradient).
- `hann/hamming/blackman/bartlett/kaiser_window`: computed in the requested dtype as torch does.
- `stft` / `istft` composed as torch composes them: frames (AsStridedBackward0), window product, the fft
  primitives of fft.py, transpose/squeeze (TransposeBackward1 / SqueezeBackward4); istft overlap-adds
  (UnfoldBackwardBackward0, the adjoint of framing) and divides by the window envelope.
"""
from __future__ import annotations

import builtins
import math
from typing import Any, Optional

import numpy as np

from .._quiet import quiet
from .. import _dtype as D
from .._tensor import _PRETTY, Tensor, _wrap
from . import fft as Fo
from . import indexing as I
from . import pointwise as P
from . import reduction as Rd
from . import shape as S
from ._registry import SAME, Op
from .._warn import warn as _warn

__all__ = ["view_as_real", "view_as_complex", "complex", "polar", "stft", "istft", "hann_window", "hamming_window",
           "blackman_window", "bartlett_window", "kaiser_window"]

_REAL_OF = {np.dtype(np.complex64): np.dtype(np.float32), np.dtype(np.complex128): np.dtype(np.float64)}
_COMPLEX_OF = {np.dtype(np.float32): np.dtype(np.complex64), np.dtype(np.float64): np.dtype(np.complex128)}


# -- view_as_real / view_as_complex -----------------------------------------------------------------------------
def _as_real(z: np.ndarray) -> np.ndarray:
    z = np.asarray(z)  # a formula may pass a NumPy scalar: as_strided needs memory that stays alive
    r = z.real  # a float view with z's strides
    half = z.itemsize // 2
    return np.lib.stride_tricks.as_strided(r, z.shape + (2,), z.strides + (half,))


def _as_complex(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    c = _COMPLEX_OF[np.dtype(x.dtype)]
    if x.strides[-1] == x.itemsize and all(s % (2 * x.itemsize) == 0 for s in x.strides[:-1]):
        try:
            return x.view(c)[..., 0]
        except ValueError:
            pass
    out = np.empty(x.shape[:-1], c)  # formulas may hand a non-viewable gradient: a copy, not a view
    out.real = x[..., 0]
    out.imag = x[..., 1]
    return out


view_as_real_op = Op("view_as_real", _as_real, ("self",), node="ViewAsRealBackward0", dtype=SAME, view=True)
view_as_complex_op = Op("view_as_complex", _as_complex, ("self",), node="ViewAsComplexBackward0", dtype=SAME,
                        view=True)
view_as_real_op.defvjp(self=lambda grad: view_as_complex_op(grad))
view_as_complex_op.defvjp(self=lambda grad: view_as_real_op(grad))


def _storage_offset(a: np.ndarray) -> int:
    root = a
    while isinstance(root.base, np.ndarray):
        root = root.base
    return (a.__array_interface__["data"][0] - root.__array_interface__["data"][0]) // a.itemsize


def _need_tensor(x: Any, name: str, arg: str = "input", pos: int = 1) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be Tensor, not {type(x).__name__}")


def view_as_real(input: Tensor) -> Tensor:
    """Mirrors `torch.view_as_real`: a float view of shape (..., 2) sharing the complex tensor's memory."""
    _need_tensor(input, "view_as_real")
    if input._data.dtype.kind != "c":
        raise RuntimeError("view_as_real is only supported for complex tensors")
    return view_as_real_op(input)


def view_as_complex(input: Tensor) -> Tensor:
    """Mirrors `torch.view_as_complex`: a complex view of a (..., 2) float tensor (torch's layout rules)."""
    _need_tensor(input, "view_as_complex")
    a = input._data
    if a.dtype not in (np.float32, np.float64):
        if a.dtype == np.float16:
            raise NotImplementedError("ndgrad: view_as_complex of a float16 tensor (torch's complex32) is not "
                                      "implemented: NumPy has no complex32")
        raise RuntimeError("view_as_complex is only supported for half, float and double tensors, but got a tensor "
                           f"of scalar type: {_PRETTY[(a.dtype.kind, a.itemsize)]}")
    if a.ndim == 0:
        raise RuntimeError("Input tensor must have one or more dimensions")
    if a.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    if a.strides[-1] != a.itemsize:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    if any(s % (2 * a.itemsize) for n, s in zip(a.shape[:-1], a.strides[:-1]) if n != 1):
        raise RuntimeError("Tensor must have a stride divisible by 2 for all but last dimension")
    if _storage_offset(a) % 2:
        raise RuntimeError("Tensor must have a storage_offset divisible by 2")
    return view_as_complex_op(input)


# -- complex, polar ---------------------------------------------------------------------------------------------
def _complex(real: np.ndarray, imag: np.ndarray) -> np.ndarray:
    r, i = np.broadcast_arrays(real, imag)
    out = np.empty(r.shape, _COMPLEX_OF.get(np.dtype(r.dtype), np.dtype(np.complex64)))
    out.real = r  # assigned, not r + 1j*i, which would turn inf into nan
    out.imag = i
    return out


def _polar(abs: np.ndarray, angle: np.ndarray) -> np.ndarray:
    r, t = np.broadcast_arrays(abs, angle)
    out = np.empty(r.shape, _COMPLEX_OF.get(np.dtype(r.dtype), np.dtype(np.complex64)))
    with quiet():  # inf * 0 = nan, silently, as torch
        out.real = r * np.cos(t)
        out.imag = r * np.sin(t)
    return out


complex_op = Op("complex", _complex, ("real", "imag"), node="ComplexBackward0", dtype=SAME)
complex_op.defvjp(real=lambda grad: P.real(grad), imag=lambda grad: P.imag(grad))
complex_op.defjvp(linear=True)
polar_op = Op("polar", _polar, ("abs", "angle"), node="PolarBackward0", dtype=SAME)
# torch's formulas: d/d abs = Re(conj(g) sgn(result)), d/d angle = Re(conj(g) * result * i)
polar_op.defvjp(abs=lambda grad, result: P.real(P.mul(P.conj(grad), P.sgn(result))),
                angle=lambda grad, result: P.real(P.mul(P.conj(grad), P.mul(result, 1j))))


def _polar_jvp(ts: list, abs: Any, angle: Any, result: Any) -> Any:
    """torch's forward rule (the plain derivative, not through sgn): abs_t·e^{i angle} + i·result·angle_t."""
    out = None
    if ts[0] is not None:
        out = polar_op(ts[0], angle)
    if ts[1] is not None:
        t = P.mul(P.mul(result, 1j), ts[1])
        out = t if out is None else P.add(out, t)
    return out


polar_op.defjvp(_polar_jvp)


def _check_pair(a: Any, b: Any, name: str) -> None:
    _need_tensor(a, name, "real" if name == "complex" else "abs", 1)
    _need_tensor(b, name, "imag" if name == "complex" else "angle", 2)
    da, db = a._data.dtype, b._data.dtype
    if da.kind != "f" or db.kind != "f":
        raise RuntimeError("Expected both inputs to be Half, Float or Double tensors but got "
                           f"{_PRETTY[(da.kind, da.itemsize)]} and {_PRETTY[(db.kind, db.itemsize)]}")
    if da != db:
        raise RuntimeError(f"Expected object of scalar type {_PRETTY[(da.kind, da.itemsize)]} but got scalar type "
                           f"{_PRETTY[(db.kind, db.itemsize)]} for second argument")


def complex(real: Tensor, imag: Tensor, *, out: Any = None) -> Tensor:
    """Mirrors `torch.complex` (float16 gives complex64: NumPy has no complex32)."""
    if out is not None:
        raise NotImplementedError("ndgrad: torch.complex(out=...) is not implemented")
    _check_pair(real, imag, "complex")
    return complex_op(real, imag)


def polar(abs: Tensor, angle: Tensor, *, out: Any = None) -> Tensor:
    """Mirrors `torch.polar`: abs·(cos(angle) + i·sin(angle))."""
    if out is not None:
        raise NotImplementedError("ndgrad: torch.polar(out=...) is not implemented")
    _check_pair(abs, angle, "polar")
    return polar_op(abs, angle)


# -- window functions -------------------------------------------------------------------------------------------
_TORCH_CPP = {"float16": "c10::Half", "bfloat16": "c10::BFloat16", "float32": "float", "float64": "double",
              "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char",
              "uint8": "unsigned char", "bool": "bool", "complex64": "c10::complex<float>",
              "complex128": "c10::complex<double>"}


def _window_args(name: str, window_length: Any, dtype: Any) -> Any:
    if isinstance(window_length, builtins.bool) or not isinstance(window_length, (builtins.int, np.integer)):
        raise TypeError(f"{name}(): argument 'window_length' (position 1) must be int, not "
                        f"{type(window_length).__name__}")
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got window_length={window_length}")
    d = D._DEFAULT[0] if dtype is None else dtype
    if d.is_complex and window_length > 1:
        raise NotImplementedError(f"\"arange_cpu\" not implemented for '{_PRETTY[(d.np.kind, d.np.itemsize)]}'")
    if not (d.is_floating_point or d.is_complex):
        raise RuntimeError(f"{name} expects floating point dtypes, got: TensorOptions(dtype={_TORCH_CPP[d.np.name]}, "
                           "device=cpu, layout=Strided (default), requires_grad=false (default), pinned_memory=false, "
                           "memory_format=(nullopt))")
    return d


def _make_window(name: str, window_length: int, periodic: bool, dtype: Any, requires_grad: bool, body: Any) -> Tensor:
    d = _window_args(name, window_length, dtype)
    if window_length == 0:
        vals = np.zeros(0, d.np)
    elif window_length == 1:
        vals = np.ones(1, d.np)
    else:
        n = window_length + 1 if periodic else window_length
        vals = np.asarray(body(n, d.np), d.np)
        if periodic:
            vals = vals[:-1]
    t = _wrap(np.ascontiguousarray(vals))
    if requires_grad:
        t.requires_grad_()
    return t


def _cosine_sum(n: int, dt: Any, coeffs: tuple) -> np.ndarray:
    k = np.arange(n, dtype=dt)
    out = np.full(n, coeffs[0], dt)
    for j, c in enumerate(coeffs[1:], 1):
        out = out + np.asarray(c, dt) * np.cos(k * np.asarray(2 * math.pi * j / (n - 1), dt))
    return out


def hann_window(window_length: int, periodic: bool = True, *, dtype: Any = None, layout: Any = None,
                device: Any = None, requires_grad: bool = False) -> Tensor:
    """Mirrors `torch.hann_window`: 0.5 - 0.5 cos(2πk/(N-1)) (N = length + 1 when periodic, last point dropped)."""
    return _make_window("hann_window", window_length, periodic, dtype, requires_grad,
                        lambda n, dt: _cosine_sum(n, dt, (0.5, -0.5)))


def hamming_window(window_length: int, periodic: bool = True, alpha: float = 0.54, beta: float = 0.46, *,
                   dtype: Any = None, layout: Any = None, device: Any = None, pin_memory: bool = False,
                   requires_grad: bool = False) -> Tensor:
    """Mirrors `torch.hamming_window`: alpha - beta cos(2πk/(N-1))."""
    return _make_window("hamming_window", window_length, periodic, dtype, requires_grad,
                        lambda n, dt: _cosine_sum(n, dt, (alpha, -beta)))


def blackman_window(window_length: int, periodic: bool = True, *, dtype: Any = None, layout: Any = None,
                    device: Any = None, requires_grad: bool = False) -> Tensor:
    """Mirrors `torch.blackman_window`: 0.42 - 0.5 cos(2πk/(N-1)) + 0.08 cos(4πk/(N-1))."""
    return _make_window("blackman_window", window_length, periodic, dtype, requires_grad,
                        _blackman)


def _blackman(n: int, dt: Any) -> np.ndarray:
    w = np.arange(n, dtype=dt) * np.asarray(math.pi / (n - 1), dt)  # rounded in the dtype step by step, as torch
    return (np.cos(w * np.asarray(4, dt)) * np.asarray(0.08, dt) - np.cos(w * np.asarray(2, dt)) * np.asarray(0.5, dt)
            + np.asarray(0.42, dt))


def _bartlett(n: int, dt: Any) -> np.ndarray:
    w = np.arange(n, dtype=dt) * np.asarray(2.0 / (n - 1), dt)
    half = ((n - 1) >> 1) + 1
    w[half:] = np.asarray(2, dt) - w[half:]
    return w


def bartlett_window(window_length: int, periodic: bool = True, *, dtype: Any = None, layout: Any = None,
                    device: Any = None, requires_grad: bool = False) -> Tensor:
    """Mirrors `torch.bartlett_window`: the triangle 1 - |2k/(N-1) - 1|."""
    return _make_window("bartlett_window", window_length, periodic, dtype, requires_grad, _bartlett)


def kaiser_window(window_length: int, periodic: bool = True, beta: float = 12.0, *, dtype: Any = None,
                  layout: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Mirrors `torch.kaiser_window`: I0(beta·sqrt(1 - ((k - a)/a)²)) / I0(beta), a = (N-1)/2."""
    def body(n: int, dt: Any) -> np.ndarray:
        k = np.arange(n, dtype=np.float64)
        a = (n - 1) / 2.0
        return np.i0(beta * np.sqrt(np.clip(1 - ((k - a) / a) ** 2, 0, None))) / np.i0(beta)
    return _make_window("kaiser_window", window_length, periodic, dtype, requires_grad, body)


# -- framing and overlap-add: each the other's adjoint -----------------------------------------------------------
def _frames(x: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """(..., L) -> (..., n_frames, n_fft): frame t holds x[..., t*hop : t*hop + n_fft]."""
    n_frames = 1 + (x.shape[-1] - n_fft) // hop
    st = x.strides
    v = np.lib.stride_tricks.as_strided(x, x.shape[:-1] + (n_frames, n_fft), st[:-1] + (st[-1] * hop, st[-1]),
                                        writeable=False)
    return v.copy()


def _overlap_add(y: np.ndarray, hop: int, length: int) -> np.ndarray:
    """(..., n_frames, n_fft) -> (..., length): the sum of the frames placed at t*hop."""
    n_frames, n_fft = y.shape[-2:]
    out = np.zeros(y.shape[:-2] + (length,), y.dtype)
    if n_frames <= n_fft:
        for t in range(n_frames):
            out[..., t * hop:t * hop + n_fft] += y[..., t, :]
    else:  # for a fixed offset k the positions k + t*hop are distinct: one vectorized add per k
        pos = np.arange(n_frames) * hop
        for k in range(n_fft):
            out[..., pos + k] += y[..., :, k]
    return out


frames_op = Op("frames", _frames, ("self",), ("n_fft", "hop"), node="AsStridedBackward0", dtype=SAME)
overlap_add_op = Op("overlap_add", _overlap_add, ("self",), ("hop", "length"), node="UnfoldBackwardBackward0",
                    dtype=SAME)
frames_op.defvjp(self=lambda grad, self_shape, hop: overlap_add_op(grad, hop, self_shape[-1]))
overlap_add_op.defvjp(self=lambda grad, self_shape, hop: frames_op(grad, self_shape[-1], hop))
transpose_ = Op("transpose_", lambda self, dim0, dim1: np.swapaxes(self, dim0, dim1), ("self",), ("dim0", "dim1"),
                node="TransposeBackward1", dtype=SAME)
transpose_.defvjp(self=lambda grad, dim0, dim1: transpose_(grad, dim0, dim1))
for _op in (view_as_real_op, view_as_complex_op, frames_op, overlap_add_op, transpose_):
    _op.defjvp(linear=True)


# -- stft / istft -----------------------------------------------------------------------------------------------
_warned: set = set()


def _warn_once(key: str, msg: str) -> None:
    if key not in _warned:
        _warned.add(key)
        _warn(msg, UserWarning, stacklevel=3)


def _type_str(a: np.ndarray) -> str:
    if a.dtype.kind == "c":
        return f"CPU{_PRETTY[(a.dtype.kind, a.itemsize)]}Type"
    return f"torch.{_PRETTY[(a.dtype.kind, a.itemsize)]}Tensor"


def _win_str(window: Optional[Tensor]) -> str:
    if window is None:
        return "None"
    return f"{_type_str(window._data)}{{[{', '.join(map(str, window._data.shape))}]}}"


def _opt(v: Any) -> str:
    return "None" if v is None else str(int(v))


def _pad_window(window: Optional[Tensor], win_length: int, n_fft: int, like: np.dtype) -> Optional[Tensor]:
    if window is None:
        if win_length == n_fft:
            return None
        window = _wrap(np.ones(win_length, like))
    if win_length < n_fft:
        left = (n_fft - win_length) // 2
        window = I.constant_pad(window, ((left, n_fft - win_length - left),), 0)
    return window


def stft(input: Tensor, n_fft: int, hop_length: Optional[int] = None, win_length: Optional[int] = None,
         window: Optional[Tensor] = None, center: bool = True, pad_mode: str = "reflect", normalized: bool = False,
         onesided: Optional[bool] = None, return_complex: Optional[bool] = None,
         align_to_window: Optional[bool] = None) -> Tensor:
    """Mirrors `torch.stft`: frames of n_fft samples every hop_length, times the (centred, zero-padded) window,
    Fourier transformed: shape (freq, frames) or (batch, freq, frames)."""
    _need_tensor(input, "stft")
    if center and align_to_window is not None:
        raise RuntimeError("stft align_to_window should only be set when center = false")
    if window is None:
        _warn_once("stft window", "A window was not provided. A rectangular window will be applied,which is known to "
                   "cause spectral leakage. Other windows such as torch.hann_window or torch.hamming_window are "
                   "recommended to reduce spectral leakage.To suppress this warning and use a rectangular window, "
                   "explicitly set `window=torch.ones(n_fft, device=<device>)`.")
    cplx = input._data.dtype.kind == "c" or (window is not None and window._data.dtype.kind == "c")
    given_rc = return_complex
    if return_complex is None:
        if not cplx:
            raise RuntimeError("stft requires the return_complex parameter be given for real inputs, and will "
                               "further require that return_complex=True in a future PyTorch release.")
        return_complex = True
    if not return_complex:
        _warn_once("stft return_complex", "stft with return_complex=False is deprecated. In a future pytorch "
                   "release, stft will return complex tensors for all inputs, and return_complex=False will raise "
                   "an error.\nNote: you can still call torch.view_as_real on the complex output to recover the old "
                   "return format.")
    hop = n_fft // 4 if hop_length is None else hop_length
    wl = n_fft if win_length is None else win_length
    x = input
    if center:  # as torch: a 3-d view for F.pad, padded by n_fft//2 on both sides
        nd = x.ndim
        lead = max(3 - nd, 0)
        x = S.reshape(x, (1,) * lead + tuple(x._data.shape))
        p = n_fft // 2
        x = I.pad(x, [p, p], pad_mode)
        x = S.reshape(x, x._data.shape[lead:])
    a = x._data
    prefix = (f"stft({_type_str(a)}[{', '.join(map(str, a.shape))}], n_fft={n_fft}, hop_length={hop}, "
              f"win_length={wl}, window={_win_str(window)}, normalized={int(bool(normalized))}, "
              f"onesided={_opt(onesided)}, return_complex={_opt(given_rc)}, "
              f"align_to_window={_opt(align_to_window)}) : ")
    if a.ndim not in (1, 2):
        raise RuntimeError(prefix + "expected a 1D or 2D tensor")
    if a.dtype.kind not in "fc":
        raise RuntimeError(prefix + "expected a tensor of floating point or complex values")
    length = a.shape[-1]
    if n_fft <= 0 or n_fft > length:
        raise RuntimeError(prefix + f"expected 0 < n_fft < {length}, but got n_fft={n_fft}")
    if hop <= 0:
        raise RuntimeError(prefix + f"expected hop_length > 0, but got hop_length={hop}")
    if wl <= 0 or wl > n_fft:
        raise RuntimeError(prefix + f"expected 0 < win_length <= n_fft, but got win_length={wl}")
    if window is not None and (window.ndim != 1 or window._data.shape[0] != wl):
        raise RuntimeError(prefix + f"expected a 1D window tensor of size equal to win_length={wl}, but got window "
                           f"with size {list(window._data.shape)}")
    if onesided is None:
        onesided = not cplx
    elif onesided and cplx:
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    if a.dtype == np.float16:
        raise RuntimeError("MKL FFT doesn't support tensors of type: Half")
    batched = a.ndim == 2
    if not batched:
        x = S.unsqueeze(x, 0)
    if align_to_window and wl < n_fft:
        # frames start where their window starts: shift by the window's offset inside the n_fft frame (zeros
        # outside the signal meet zeros of the padded window)
        left = (n_fft - wl) // 2
        x = I.constant_pad(x, ((left, n_fft - wl - left),), 0)
    frames = frames_op(x, n_fft, hop)
    w = _pad_window(window, wl, n_fft, a.real.dtype)
    if w is not None:
        frames = P.mul(frames, w)
    norm = 1 if normalized else 0
    if frames._data.dtype.kind == "c":
        out = Fo.fft_c2c(frames, (2,), norm, True)
    else:
        out = Fo.fft_r2c(frames, (2,), norm, bool(onesided))
    out = transpose_(out, 1, 2)
    if not batched:
        out = S.squeeze_dim_(out, (0,))
    if not return_complex:
        return view_as_real(out)
    return out


def _cplx_type(a: np.ndarray) -> str:
    return "CPU" + _PRETTY[(a.dtype.kind, a.itemsize)] + "Type"


def istft(input: Tensor, n_fft: int, hop_length: Optional[int] = None, win_length: Optional[int] = None,
          window: Optional[Tensor] = None, center: bool = True, normalized: bool = False,
          onesided: Optional[bool] = None, length: Optional[int] = None, return_complex: bool = False) -> Tensor:
    """Mirrors `torch.istft`: the inverse transform of each frame, times the window, overlap-added and divided
    by the overlap-added squared window."""
    _need_tensor(input, "istft")
    if window is None:
        _warn_once("istft window", "A window was not provided. A rectangular window will be applied.Please provide "
                   "the same window used by stft to make the inversion lossless.To suppress this warning and use a "
                   "rectangular window, explicitly set `window=torch.ones(n_fft, device=<device>)`.")
    a = input._data
    if a.dtype.kind != "c":
        raise RuntimeError("istft requires a complex-valued input tensor matching the output from stft with "
                           "return_complex=True.")
    hop = n_fft // 4 if hop_length is None else hop_length
    wl = n_fft if win_length is None else win_length
    prefix = (f"istft({_cplx_type(a)}[{', '.join(map(str, a.shape))}], n_fft={n_fft}, hop_length={hop}, "
              f"win_length={wl}, window={_win_str(window)}, center={int(bool(center))}, "
              f"normalized={int(bool(normalized))}, onesided={_opt(onesided)}, length={_opt(length)}, "
              f"return_complex={int(bool(return_complex))}) ")
    if window is not None and window._data.dtype.kind == "c" and not return_complex:
        raise RuntimeError("Complex windows are incompatible with return_complex=False")
    if a.ndim not in (2, 3):
        raise RuntimeError(prefix + f": expected a tensor with 3 or 4 dimensions, but got {a.ndim + 1}")
    if a.size == 0:
        raise RuntimeError(prefix + ": input tensor cannot be empty.")
    if not (0 < hop <= wl):
        raise RuntimeError(prefix + ": expected 0 < hop_length <= win_length")
    if not (0 < wl <= n_fft):
        raise RuntimeError(prefix + ": expected 0 < win_length <= n_fft")
    if window is not None and (window.ndim != 1 or window._data.shape[0] != wl):
        raise RuntimeError(prefix + ": Invalid window shape. window has to be 1D and length of `win_length`")
    fft_size = a.shape[-2]
    if onesided is None:
        onesided = fft_size != n_fft
    if onesided:
        if n_fft // 2 + 1 != fft_size:
            raise RuntimeError(prefix + ": expected the frequency dimension (3rd to the last) of the input tensor to "
                               f"match n_fft / 2 + 1 when onesided=True, but got {fft_size}")
        if return_complex:
            raise RuntimeError("Cannot have onesided output if window or input is complex")
    elif n_fft != fft_size:
        raise RuntimeError(prefix + ": expected the frequency dimension (3rd to the last) of the input tensor to "
                           f"match n_fft when onesided=False, but got {fft_size}")
    batched = a.ndim == 3
    x = input if batched else S.unsqueeze(input, 0)
    x = S.transpose(x, 1, 2)  # (batch, frames, freq)
    norm = "ortho" if normalized else "backward"
    if return_complex:
        y = Fo.fft_c2c(x, (2,), Fo._norm(norm, False), False)
    else:
        if not onesided:
            x = S.narrow(x, 2, 0, n_fft // 2 + 1)
        y = Fo.fft_c2r(x, (2,), Fo._norm(norm, False), n_fft)
    rdt = y._data.real.dtype
    w = _pad_window(window, wl, n_fft, rdt)
    if w is not None:
        y = P.mul(y, w)
    n_frames = a.shape[-1]
    expected = n_fft + hop * (n_frames - 1)
    y = overlap_add_op(y, hop, expected)
    # the window envelope: the overlap-added squared window (differentiable in the window, as torch's)
    if w is None:
        env = _wrap(_overlap_add(np.ones((1, n_frames, n_fft), rdt), hop, expected))
    else:
        wsq = S.reshape(P.mul(w, w), (1, 1, n_fft))
        env = overlap_add_op(Rd.expand_to(wsq, (1, n_frames, n_fft)), hop, expected)
    start = n_fft // 2 if center else 0
    if length is not None:
        end = start + length
    elif center:
        end = expected - n_fft // 2
    else:
        end = expected
    stop = min(end, expected)
    y = S.narrow(y, 1, start, max(stop - start, 0))
    env = S.narrow(env, 1, start, max(stop - start, 0))
    if env._data.size and np.abs(env._data).min() < 1e-11:
        raise RuntimeError(prefix + "window overlap add min: 1\n[ CPUBoolType{} ]")
    y = P.div(y, env)
    if not batched:
        y = S.squeeze_dim(y, (0,))
    if end > expected:
        _warn_once("istft length", "The length of signal is shorter than the length parameter. Result is being "
                   "padded with zeros in the tail. Please check your center and hop_length settings.")
        y = I.constant_pad(y, ((0, end - expected),), 0)
    return y
