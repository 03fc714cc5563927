"""max_unpool2d/3d (MaxUnpool2DBackward0, MaxUnpool3DBackward0) and fractional_max_pool2d/3d
(FractionalMaxPool2DBackward0, FractionalMaxPool3DBackward0).

Unpooling writes each value at its flat index in a zero output: the max pools' scatter, whose adjoint is their
gather (conv.py), so derivatives of any order work. Fractional max pooling takes the maximum over kh x kw windows
starting at pseudo-random offsets (torch's interval formula, from `_random_samples`); its derivative is the max
pools' scatter.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .._creation import rand
from .._tensor import Tensor
from ._registry import NONE, SAME, Op
from .conv import _first_max, _pool_scatter, max_pool_gather, max_pool_scatter
from .shape import unsafe_view

__all__: list = []
METHODS: dict = {}


def _flat_shape(shape: tuple, nd: int) -> tuple:
    """The (..., X, H*W)-style view in which the flat index runs over the last two axes (conv.py's scatter)."""
    if nd == 2:
        return tuple(shape)
    return tuple(shape[:-3]) + (int(shape[-3]), int(shape[-2]) * int(shape[-1]))


def _unpool_fwd(self, indices, out_shape, nd):
    shape = tuple(self.shape[:-nd]) + tuple(out_shape)
    return _pool_scatter(self, indices, _flat_shape(shape, nd), False).reshape(shape)


def _unpool_grad(grad, indices, nd):
    return max_pool_gather(unsafe_view(grad, _flat_shape(tuple(grad.shape), nd)), indices)


max_unpool2d_op = Op("max_unpool2d", _unpool_fwd, ("self", "indices"), ("out_shape", "nd"),
                     node="MaxUnpool2DBackward0", dtype=NONE, promote=(0,), edges=(0,))
max_unpool3d_op = Op("max_unpool3d", _unpool_fwd, ("self", "indices"), ("out_shape", "nd"),
                     node="MaxUnpool3DBackward0", dtype=NONE, promote=(0,), edges=(0,))
for _op in (max_unpool2d_op, max_unpool3d_op):
    _op.defvjp(self=_unpool_grad)
    _op.defjvp(lambda ts, self, indices, out_shape, nd, result: max_pool_scatter(
        ts[0], indices, _flat_shape(tuple(result.shape), nd), False).reshape(tuple(result.shape)))
del _op


def _tuple(v: Any, n: int) -> tuple:
    return tuple(int(a) for a in v) if isinstance(v, (list, tuple)) else (int(v),) * n


def max_unpool(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any, padding: Any, output_size: Any,
               nd: int) -> Tensor:
    """F.max_unpool{1,2,3}d: output size checks as torch's, then the op (1-d runs as 2-d)."""
    if nd == 1:
        ks, st, pd = _tuple(kernel_size, 1), _tuple(stride if stride is not None else kernel_size, 1), \
            _tuple(padding, 1)
        osz = None if output_size is None else list(output_size) + [1]
        out = max_unpool(input.unsqueeze(-1), indices.unsqueeze(-1), ks + (1,), st + (1,), pd + (0,), osz, 2)
        return out.squeeze(-1)
    ks = _tuple(kernel_size, nd)
    st = _tuple(stride if stride is not None else kernel_size, nd)
    pd = _tuple(padding, nd)
    default = [(input.shape[input.ndim - nd + d] - 1) * st[d] + ks[d] - 2 * pd[d] for d in range(nd)]
    if output_size is None:
        size = default
    else:
        osz = list(output_size)
        if len(osz) == nd + 2:
            osz = osz[2:]
        if len(osz) != nd:
            raise ValueError(f"output_size should be a sequence containing {nd} or {nd + 2} elements, but it has a "
                             f"length of '{len(osz)}'")
        for d in range(nd):
            lo, hi = default[d] - st[d], default[d] + st[d]
            if not lo < osz[d] < hi:
                raise ValueError(f'invalid output_size "{output_size}" (dim {d} must be between {lo} and {hi})')
        size = [int(s) for s in osz]
    idx = np.asarray(indices._data, np.int64)
    total = int(np.prod(size))
    if idx.size:
        bad = idx[(idx < 0) | (idx >= total)]
        if bad.size:
            raise RuntimeError(f"Found an invalid max index: {int(bad.flat[0])} (output volumes are of size "
                               f"{'x'.join(map(str, size))})")
    op = max_unpool2d_op if nd == 2 else max_unpool3d_op
    return op(input, indices, tuple(size), nd)


# ----------------------------------------------------------------------------------------------- fractional
def _intervals(u: np.ndarray, size: int, k: int, out: int, dtype) -> np.ndarray:
    """Window starts (..., out) for samples u (...), torch's formula in the input's precision."""
    dt = np.dtype(dtype) if np.dtype(dtype).kind == "f" else np.dtype(np.float64)
    starts = np.empty(u.shape + (out,), np.int64)
    if out > 1:
        alpha = dt.type((size - k) / (out - 1))
        uu = u.astype(dt)
        i = np.arange(out - 1, dtype=dt)
        starts[..., :-1] = ((i + uu[..., None]) * alpha).astype(np.int64) - (uu * alpha).astype(np.int64)[..., None]
    starts[..., -1] = size - k
    return starts


def _frac_fwd(self, kernel_size, output_size, samples):
    x = self if self.ndim == 4 else self[None]
    n, c, h, w = x.shape
    kh, kw = kernel_size
    oh, ow = output_size
    sw = _intervals(samples[..., 0], w, kw, ow, x.dtype)  # (N, C, ow)
    sh = _intervals(samples[..., 1], h, kh, oh, x.dtype)  # (N, C, oh)
    rows = sh[:, :, :, None, None, None] + np.arange(kh)[:, None]  # (N, C, oh, 1, kh, 1)
    cols = sw[:, :, None, :, None, None] + np.arange(kw)  # (N, C, 1, ow, 1, kw)
    flat = (rows * w + cols).reshape(n, c, oh, ow, kh * kw)
    vals = np.take_along_axis(x.reshape(n, c, h * w), flat.reshape(n, c, oh * ow * kh * kw), 2).reshape(
        n, c, oh, ow, kh * kw)
    m, k = _first_max(np.moveaxis(vals, -1, 0))
    idx = np.take_along_axis(flat, k.astype(np.int64)[..., None], -1)[..., 0]
    if self.ndim == 3:
        return m[0], idx[0]
    return m, idx


fractional_max_pool2d_op = Op("fractional_max_pool2d", _frac_fwd, ("self",), ("kernel_size", "output_size",
                                                                              "samples"),
                              node="FractionalMaxPool2DBackward0", dtype=SAME, n_out=2, diff_out=(True, False))
fractional_max_pool2d_op.defvjp(self=lambda grads, result, self_shape: max_pool_scatter(
    grads[0], result[1], tuple(self_shape), True))
fractional_max_pool2d_op.defjvp(lambda ts, self, *rest, result: (max_pool_gather(ts[0], result[1]), None))


def fractional_max_pool2d(input: Tensor, kernel_size: Any, output_size: Any = None, output_ratio: Any = None,
                          return_indices: bool = False, _random_samples: Tensor | None = None) -> Any:
    """Mirrors `torch.nn.functional.fractional_max_pool2d` (samples from ndgrad's generator unless given)."""
    if output_size is None and output_ratio is None:
        raise ValueError("fractional_max_pool2d requires specifying either an output_size or an output_ratio")
    ks = _tuple(kernel_size, 2)
    if output_size is None:
        ratio = output_ratio if isinstance(output_ratio, (list, tuple)) else (output_ratio, output_ratio)
        output_size = (int(input.shape[-2] * ratio[0]), int(input.shape[-1] * ratio[1]))
    osz = _tuple(output_size, 2)
    if input.ndim < 3 and _random_samples is None:  # torch fails reading the channel count first
        if input.ndim == 0:
            raise IndexError("Dimension specified as 0 but tensor has no dimensions")
        raise IndexError(f"Dimension out of range (expected to be in range of [{-input.ndim}, {input.ndim - 1}], "
                         "but got -3)")
    if input.ndim not in (3, 4):
        raise RuntimeError(f"fractional_max_pool2d(): Expected 3D or 4D tensor, but got: {list(input.shape)}")
    h, w = input.shape[-2:]
    if osz[0] + ks[0] - 1 > h:
        raise RuntimeError(f"fractional_max_pool2d(): pool height {ks[0]} too large relative to input height {h}")
    if osz[1] + ks[1] - 1 > w:
        raise RuntimeError(f"fractional_max_pool2d(): pool width {ks[1]} too large relative to input width {w}")
    n = 1 if input.ndim == 3 else input.shape[0]
    if _random_samples is None:
        samples = rand(n, input.shape[-3], 2, dtype=input.dtype)._data
    else:
        samples = np.asarray(_random_samples._data)
    out, idx = fractional_max_pool2d_op(input, ks, osz, samples.reshape(n, input.shape[-3], 2))
    return (out, idx) if return_indices else out


def _frac3_fwd(self, kernel_size, output_size, samples):
    x = self if self.ndim == 5 else self[None]
    n, c, d, h, w = x.shape
    kt, kh, kw = kernel_size
    ot, oh, ow = output_size
    st = _intervals(samples[..., 0], d, kt, ot, x.dtype)  # torch's order: (T, H, W) here, (W, H) in 2-d
    sh = _intervals(samples[..., 1], h, kh, oh, x.dtype)
    sw = _intervals(samples[..., 2], w, kw, ow, x.dtype)
    e = (slice(None), slice(None))
    dd = st[e + (slice(None), None, None, None, None, None)] + np.arange(kt)[:, None, None]
    hh = sh[e + (None, slice(None), None, None, None, None)] + np.arange(kh)[:, None]
    ww = sw[e + (None, None, slice(None), None, None, None)] + np.arange(kw)
    flat = ((dd * h + hh) * w + ww).reshape(n, c, ot, oh, ow, kt * kh * kw)
    vals = np.take_along_axis(x.reshape(n, c, d * h * w), flat.reshape(n, c, flat[0, 0].size if n * c else 0),
                              2).reshape(flat.shape)
    m, k = _first_max(np.moveaxis(vals, -1, 0))
    idx = np.take_along_axis(flat, k.astype(np.int64)[..., None], -1)[..., 0]
    if self.ndim == 4:
        return m[0], idx[0]
    return m, idx


def _scatter_flat3(grad, indices, self_shape):
    shape = tuple(self_shape)
    return unsafe_view(max_pool_scatter(grad, indices, _flat_shape(shape, 3), True), shape)


fractional_max_pool3d_op = Op("fractional_max_pool3d", _frac3_fwd, ("self",), ("kernel_size", "output_size",
                                                                              "samples"),
                              node="FractionalMaxPool3DBackward0", dtype=SAME, n_out=2, diff_out=(True, False))
fractional_max_pool3d_op.defvjp(self=lambda grads, result, self_shape: _scatter_flat3(grads[0], result[1],
                                                                                     self_shape))
fractional_max_pool3d_op.defjvp(lambda ts, self, *rest, result: (max_pool_gather(
    unsafe_view(ts[0], _flat_shape(tuple(ts[0].shape), 3)), result[1]), None))


def fractional_max_pool3d(input: Tensor, kernel_size: Any, output_size: Any = None, output_ratio: Any = None,
                          return_indices: bool = False, _random_samples: Tensor | None = None) -> Any:
    """Mirrors `torch.nn.functional.fractional_max_pool3d` (samples from ndgrad's generator unless given)."""
    if output_size is None and output_ratio is None:
        raise ValueError("fractional_max_pool3d requires specifying either an output_size or an output_ratio")
    ks = _tuple(kernel_size, 3)
    if output_size is None:
        ratio = output_ratio if isinstance(output_ratio, (list, tuple)) else (output_ratio,) * 3
        output_size = tuple(int(input.shape[-3 + i] * ratio[i]) for i in range(3))
    osz = _tuple(output_size, 3)
    if input.ndim < 4 and _random_samples is None:  # torch fails reading the channel count first
        raise IndexError(f"Dimension out of range (expected to be in range of [{-max(input.ndim, 1)}, "
                         f"{max(input.ndim, 1) - 1}], but got -4)")
    if input.ndim not in (4, 5):
        raise RuntimeError(f"fractional_max_pool3d_out(): Expected 4D or 5D tensor, but got: {list(input.shape)}")
    for i, name in enumerate(("time", "height", "width")):
        size = input.shape[-3 + i]
        if osz[i] + ks[i] - 1 >= size:  # torch's 3-d check is strict (the 2-d one is not)
            raise RuntimeError(f"fractional_max_pool3d_out(): pool {name} {ks[i]} too large relative to input "
                               f"{name} {size}")
    n = 1 if input.ndim == 4 else input.shape[0]
    if _random_samples is None:
        samples = rand(n, input.shape[-4], 3, dtype=input.dtype)._data
    else:
        samples = np.asarray(_random_samples._data)
    out, idx = fractional_max_pool3d_op(input, ks, osz, samples.reshape(n, input.shape[-4], 3))
    return (out, idx) if return_indices else out

