"""Resampling ops: pixel_shuffle/pixel_unshuffle and the upsampling behind `nn.functional.interpolate`.

Upsampling is separable and linear in the input: along each spatial axis the output is `W @ x` for an
(out, in) interpolation matrix W that depends only on the sizes and the mode (nearest, nearest-exact, linear,
cubic, and their antialiased forms), so one op (`upsample`, with torch's node name per mode and dimension) applies
the matrices, and its derivative (`upsample_backward`) applies their transposes; each is the other's derivative,
so every order works. Nearest modes gather rows instead of multiplying (exact, and inf-safe).
"""
from __future__ import annotations

import numpy as np

from ._registry import SAME, Op

__all__: list = []
METHODS: dict = {}


# ----------------------------------------------------------------------------------------------- pixel shuffle
def _shuffle(x: np.ndarray, r: int) -> np.ndarray:
    *lead, c, h, w = x.shape
    y = x.reshape(*lead, c // (r * r), r, r, h, w)
    n = len(lead)
    y = y.transpose(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return np.ascontiguousarray(y).reshape(*lead, c // (r * r), h * r, w * r)


def _unshuffle(x: np.ndarray, r: int) -> np.ndarray:
    *lead, c, h, w = x.shape
    y = x.reshape(*lead, c, h // r, r, w // r, r)
    n = len(lead)
    y = y.transpose(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return np.ascontiguousarray(y).reshape(*lead, c * r * r, h // r, w // r)


pixel_shuffle_op = Op("pixel_shuffle", _shuffle, ("self",), ("upscale_factor",), node="PixelShuffleBackward0",
                      dtype=SAME)
pixel_unshuffle_op = Op("pixel_unshuffle", _unshuffle, ("self",), ("downscale_factor",),
                        node="PixelUnshuffleBackward0", dtype=SAME)
pixel_shuffle_op.defvjp(self=lambda grad, upscale_factor: pixel_unshuffle_op(grad, upscale_factor))
pixel_unshuffle_op.defvjp(self=lambda grad, downscale_factor: pixel_shuffle_op(grad, downscale_factor))
pixel_shuffle_op.defjvp(linear=True)
pixel_unshuffle_op.defjvp(linear=True)


# ----------------------------------------------------------------------------------------------- interpolation
def _cubic(x: np.ndarray, a: float) -> np.ndarray:
    x = np.abs(x)
    return np.where(x < 1, ((a + 2) * x - (a + 3)) * x * x + 1,
                    np.where(x < 2, ((a * x - 5 * a) * x + 8 * a) * x - 4 * a, 0.0))


def axis_matrix(mode: str, n_in: int, n_out: int, scale: float | None, align_corners: bool,
                antialias: bool = False) -> np.ndarray:
    """The (n_out, n_in) matrix of one axis. `scale` is torch's: 1/scale_factor when one was given (and not
    recomputed), else None (then n_in/n_out)."""
    out = np.arange(n_out)
    w = np.zeros((n_out, n_in))
    if mode in ("nearest", "nearest-exact"):
        s = np.float32(scale if scale is not None else n_in / n_out)
        o = out.astype(np.float32) + (np.float32(0.5) if mode == "nearest-exact" else np.float32(0))
        src = np.minimum(np.floor(o * s).astype(np.int64), n_in - 1)
        w[out, src] = 1.0
        return w
    if align_corners:
        ratio = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    else:
        ratio = scale if scale is not None else n_in / n_out
    if antialias and (ratio > 1 or mode == "cubic"):
        interp = 2 if mode == "linear" else 4
        support = interp / 2 * ratio if ratio >= 1 else interp / 2
        inv = 1 / ratio if ratio >= 1 else 1.0
        for i in range(n_out):
            center = ratio * (i + 0.5)
            lo = max(int(center - support + 0.5), 0)
            hi = min(int(center + support + 0.5), n_in)
            xs = (np.arange(lo, hi) - center + 0.5) * inv
            f = np.maximum(0.0, 1 - np.abs(xs)) if mode == "linear" else _cubic(xs, -0.5)
            tot = f.sum()
            w[i, lo:hi] = f / tot if tot != 0 else f
        return w
    if mode == "linear":
        src = out * ratio if align_corners else np.maximum((out + 0.5) * ratio - 0.5, 0.0)
        i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
        i1 = np.minimum(i0 + 1, n_in - 1)
        lam = src - i0
        np.add.at(w, (out, i0), 1 - lam)
        np.add.at(w, (out, i1), lam)
        return w
    # cubic (A = -0.75), neighbours clamped to the border
    src = out * ratio if align_corners else (out + 0.5) * ratio - 0.5
    i0 = np.floor(src).astype(np.int64)
    t = src - i0
    for k, wk in zip(range(-1, 3), (_cubic(t + 1, -0.75), _cubic(t, -0.75), _cubic(1 - t, -0.75),
                                     _cubic(2 - t, -0.75))):
        np.add.at(w, (out, np.clip(i0 + k, 0, n_in - 1)), wk)
    return w


def _apply(x: np.ndarray, mats: tuple, transpose: bool, nearest: bool) -> np.ndarray:
    nd = len(mats)
    for i, w in enumerate(mats):
        axis = x.ndim - nd + i
        if nearest and not transpose:
            x = np.take(x, np.argmax(w, axis=1), axis=axis)
            continue
        m = (w if transpose else w.T).astype(x.dtype)
        x = np.moveaxis(np.matmul(np.moveaxis(x, axis, -1), m), -1, axis)
    return np.ascontiguousarray(x)


def _upsample_fwd(self, mats, nearest):
    return _apply(self, mats, False, nearest)


def _upsample_bwd(grad, mats, nearest):
    return _apply(grad, mats, True, nearest)


upsample_backward = Op("upsample_backward", _upsample_bwd, ("grad",), ("mats", "nearest"), dtype=SAME)
_NAMES = {("nearest", 1): "UpsampleNearest1DBackward0", ("nearest", 2): "UpsampleNearest2DBackward0",
          ("nearest", 3): "UpsampleNearest3DBackward0", ("nearest-exact", 1): "UpsampleNearestExact1DBackward0",
          ("nearest-exact", 2): "UpsampleNearestExact2DBackward0",
          ("nearest-exact", 3): "UpsampleNearestExact3DBackward0", ("linear", 1): "UpsampleLinear1DBackward0",
          ("bilinear", 2): "UpsampleBilinear2DBackward0", ("trilinear", 3): "UpsampleTrilinear3DBackward0",
          ("bicubic", 2): "UpsampleBicubic2DBackward0", ("bilinear-aa", 2): "UpsampleBilinear2DAaBackward0",
          ("bicubic-aa", 2): "UpsampleBicubic2DAaBackward0"}
UPSAMPLE = {}
for _key, _node in _NAMES.items():
    _op = Op("upsample_" + _key[0].replace("-", "_") + f"{_key[1]}d", _upsample_fwd, ("self",), ("mats", "nearest"),
             node=_node, dtype=SAME)
    _op.defvjp(self=lambda grad, mats, nearest: upsample_backward(grad, mats, False))
    _op.defjvp(linear=True)
    UPSAMPLE[_key] = globals()[_op.name] = _op  # module-level names, so that the op table's meta-test sees each
del _op, _key, _node
upsample_backward.defvjp(grad=lambda grad, mats: UPSAMPLE[("linear", 1)](grad, mats, False))
upsample_backward.defjvp(linear=True)


def upsample(x, mode: str, sizes: tuple, scales: tuple, align_corners: bool, antialias: bool):
    """x resampled to `sizes` (its last len(sizes) dims) with one op named as torch's."""
    nd = len(sizes)
    kind = {"nearest": "nearest", "nearest-exact": "nearest-exact", "linear": "linear", "bilinear": "linear",
            "trilinear": "linear", "bicubic": "cubic"}[mode]
    mats = tuple(axis_matrix(kind, int(x.shape[x.ndim - nd + i]), int(sizes[i]), scales[i], align_corners,
                             antialias) for i in range(nd))
    key = (mode + ("-aa" if antialias else ""), nd)
    return UPSAMPLE[key](x, mats, kind.startswith("nearest"))
