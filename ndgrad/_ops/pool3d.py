"""3-d pooling: max_pool3d (MaxPool3DWithIndicesBackward0), avg_pool3d (AvgPool3DBackward0), adaptive_avg_pool3d
(AdaptiveAvgPool3DBackward0) and adaptive_max_pool3d (AdaptiveMaxPool3DBackward0).

The kernels loop over the kernel offsets only (each step a whole-array NumPy operation), like the 2-d ones of
`conv.py`. Max pools return flat D*H*W indices, as torch's; their derivative is conv.py's `max_pool_scatter` on
the (N, C, D, H*W) view of the input (whose H*W planes are then the flat index space), and its derivative the
matching gather, so every order works. The average pools and their backward ops are mutual adjoints.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor
from ._registry import SAME, Op
from .conv import (_TN, _adaptive_matrix, _adaptive_windows, _check_tensor, _first_max, _pool_out_len, _size,
                   _tuple, max_pool_gather, max_pool_scatter)
from .shape import unsafe_view

__all__: list = []
METHODS: dict = {}


def _pad3(x: np.ndarray, pads: tuple, value: float = 0) -> np.ndarray:
    if not any(p for pr in pads for p in pr):
        return x
    shape = x.shape[:2] + tuple(x.shape[2 + i] + pads[i][0] + pads[i][1] for i in range(3))
    out = np.full(shape, value, x.dtype)
    out[(slice(None), slice(None)) + tuple(slice(pads[i][0], pads[i][0] + x.shape[2 + i]) for i in range(3))] = x
    return out


def _offsets3(xp, ks, st, dl, outs):
    for a in range(ks[0]):
        for b in range(ks[1]):
            for c in range(ks[2]):
                off = (a, b, c)
                yield off, xp[(Ellipsis,) + tuple(slice(off[i] * dl[i], off[i] * dl[i] + (outs[i] - 1) * st[i] + 1,
                                                        st[i]) for i in range(3))]


def _outs(shape, ks, st, pd, dl, ceil_mode):
    return tuple(_pool_out_len(shape[2 + i], ks[i], st[i], pd[i], dl[i], ceil_mode) for i in range(3))


def _flat_view_shape(shape) -> tuple:
    return tuple(shape[:-3]) + (int(shape[-3]), int(shape[-2]) * int(shape[-1]))


# ----------------------------------------------------------------------------------------------- max pool
def _max_pool3d(self, kernel_size, stride, padding, dilation, ceil_mode):
    if self.ndim == 4:  # unbatched, one node as in torch
        m, i = _max_pool3d(self[None], kernel_size, stride, padding, dilation, ceil_mode)
        return m[0], i[0]
    x = self
    n, c, d, h, w = x.shape
    ks, st, pd, dl = kernel_size, stride, padding, dilation
    outs = _outs(x.shape, ks, st, pd, dl, ceil_mode)
    extra = [max((outs[i] - 1) * st[i] + dl[i] * (ks[i] - 1) + 1 - (x.shape[2 + i] + 2 * pd[i]), 0) for i in range(3)]
    low = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    xp = _pad3(x, tuple((pd[i], pd[i] + extra[i]) for i in range(3)), low)
    offs, views = zip(*_offsets3(xp, ks, st, dl, outs))
    m, k = _first_max(np.stack(views))
    table = np.array([o[0] * dl[0] * h * w + o[1] * dl[1] * w + o[2] * dl[2] for o in offs], np.int64)
    base = ((np.arange(outs[0]) * st[0] - pd[0])[:, None, None] * h * w
            + (np.arange(outs[1]) * st[1] - pd[1])[None, :, None] * w
            + (np.arange(outs[2]) * st[2] - pd[2])[None, None, :])
    return m, table.take(k) + base


max_pool3d_with_indices = Op("max_pool3d_with_indices", _max_pool3d, ("self",),
                             ("kernel_size", "stride", "padding", "dilation", "ceil_mode"),
                             node="MaxPool3DWithIndicesBackward0", dtype=SAME, n_out=2, diff_out=(True, False))


def _scatter3(grad, indices, self_shape, overlap):
    return unsafe_view(max_pool_scatter(grad, indices, _flat_view_shape(self_shape), overlap), tuple(self_shape))


def _gather3(x, indices):
    return max_pool_gather(unsafe_view(x, _flat_view_shape(tuple(x.shape))), indices)


max_pool3d_with_indices.defvjp(
    self=lambda grads, result, self_shape, kernel_size, stride, dilation: _scatter3(
        grads[0], result[1], tuple(self_shape), any(stride[i] < dilation[i] * (kernel_size[i] - 1) + 1
                                                     for i in range(3))))
max_pool3d_with_indices.defjvp(lambda ts, self, *rest, result: (_gather3(ts[0], result[1]), None))


# ----------------------------------------------------------------------------------------------- avg pool
def _divisor3(shape, outs, ks, st, pd, count_include_pad, divisor_override):
    if divisor_override:
        return np.asarray(float(divisor_override))
    parts = []
    for i in range(3):
        start = np.arange(outs[i]) * st[i] - pd[i]
        end = np.minimum(start + ks[i], shape[2 + i] + pd[i])
        parts.append(end - start if count_include_pad else np.minimum(end, shape[2 + i]) - np.maximum(start, 0))
    return parts[0][:, None, None] * parts[1][None, :, None] * parts[2][None, None, :]


def _avg_pool3d(self, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    if self.ndim == 4:
        return _avg_pool3d(self[None], kernel_size, stride, padding, ceil_mode, count_include_pad,
                           divisor_override)[0]
    ks, st, pd = kernel_size, stride, padding
    outs = _outs(self.shape, ks, st, pd, (1, 1, 1), ceil_mode)
    extra = [max((outs[i] - 1) * st[i] + ks[i] - (self.shape[2 + i] + 2 * pd[i]), 0) for i in range(3)]
    xp = _pad3(self, tuple((pd[i], pd[i] + extra[i]) for i in range(3)))
    s = None
    for _, v in _offsets3(xp, ks, st, (1, 1, 1), outs):
        s = v.astype(self.dtype) if s is None else np.add(s, v, out=s)
    div = _divisor3(self.shape, outs, ks, st, pd, count_include_pad, divisor_override)
    return (s * (1 / div).astype(self.dtype)).astype(self.dtype, copy=False)


def _avg_pool3d_backward(grad_output, self_shape, kernel_size, stride, padding, ceil_mode, count_include_pad,
                         divisor_override):
    if grad_output.ndim == 4:
        return _avg_pool3d_backward(grad_output[None], (1,) + tuple(self_shape), kernel_size, stride, padding,
                                    ceil_mode, count_include_pad, divisor_override)[0]
    ks, st, pd = kernel_size, stride, padding
    outs = tuple(grad_output.shape[2:])
    div = _divisor3(self_shape, outs, ks, st, pd, count_include_pad, divisor_override)
    gs = grad_output * (1 / div).astype(grad_output.dtype)
    big = tuple(max((outs[i] - 1) * st[i] + ks[i], self_shape[2 + i] + 2 * pd[i]) for i in range(3))
    out = np.zeros(tuple(grad_output.shape[:2]) + big, grad_output.dtype)
    for off, v in _offsets3(out, ks, st, (1, 1, 1), outs):
        v += gs
    return np.ascontiguousarray(out[(slice(None), slice(None)) + tuple(slice(pd[i], pd[i] + self_shape[2 + i])
                                                                       for i in range(3))])


avg_pool3d_op = Op("avg_pool3d", _avg_pool3d, ("self",),
                   ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"),
                   node="AvgPool3DBackward0", dtype=SAME)
avg_pool3d_backward = Op("avg_pool3d_backward", _avg_pool3d_backward, ("grad_output",),
                         ("self_shape", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
                          "divisor_override"), node="AvgPool3DBackwardBackward0", dtype=SAME)
avg_pool3d_op.defvjp(self=lambda grad, self_shape, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override: avg_pool3d_backward(grad, tuple(self_shape), kernel_size, stride, padding,
                                                           ceil_mode, count_include_pad, divisor_override))
avg_pool3d_backward.defvjp(grad_output=lambda grad, kernel_size, stride, padding, ceil_mode, count_include_pad,
                           divisor_override: avg_pool3d_op(grad, kernel_size, stride, padding, ceil_mode,
                                                           count_include_pad, divisor_override))


# ----------------------------------------------------------------------------------------------- adaptive
def _adaptive_avg3d(self, output_size):
    if self.dtype.kind not in "fc":
        raise NotImplementedError(f'"adaptive_avg_pool3d_cpu" not implemented for \'{_TN.get(str(self.dtype))}\'')
    m = [_adaptive_matrix(self.shape[-3 + i], output_size[i], self.dtype) for i in range(3)]
    return np.ascontiguousarray(np.einsum("...dhw,ad,bh,cw->...abc", self, *m, optimize=True))


def _adaptive_avg3d_backward(grad_output, self_shape):
    m = [_adaptive_matrix(self_shape[-3 + i], grad_output.shape[-3 + i], grad_output.dtype) for i in range(3)]
    return np.ascontiguousarray(np.einsum("...abc,ad,bh,cw->...dhw", grad_output, *m, optimize=True))


adaptive_avg_pool3d_op = Op("adaptive_avg_pool3d", _adaptive_avg3d, ("self",), ("output_size",),
                            node="AdaptiveAvgPool3DBackward0", dtype=SAME)
adaptive_avg_pool3d_backward = Op("adaptive_avg_pool3d_backward", _adaptive_avg3d_backward, ("grad_output",),
                                  ("self_shape",), node="AdaptiveAvgPool3DBackwardBackward0", dtype=SAME)
adaptive_avg_pool3d_op.defvjp(self=lambda grad, self_shape: adaptive_avg_pool3d_backward(grad, tuple(self_shape)))
adaptive_avg_pool3d_backward.defvjp(grad_output=lambda grad, grad_output_shape:
                                    adaptive_avg_pool3d_op(grad, tuple(grad_output_shape[-3:])))


def _adaptive_max3d(self, output_size):
    d, h, w = self.shape[-3:]
    (pd_, vd, kd), (ph, vh, kh), (pw, vw, kw) = (_adaptive_windows(s, o) for s, o in zip((d, h, w), output_size))
    low = -np.inf if self.dtype.kind == "f" else np.iinfo(self.dtype).min
    views, flats = [], []
    for a in range(kd):
        for b in range(kh):
            for c in range(kw):
                v = self[..., pd_[:, a][:, None, None], ph[:, b][None, :, None], pw[:, c][None, None, :]]
                ok = vd[:, a][:, None, None] & vh[:, b][None, :, None] & vw[:, c][None, None, :]
                views.append(np.where(ok, v, low))
                flats.append((pd_[:, a][:, None, None] * h + ph[:, b][None, :, None]) * w + pw[:, c][None, None, :])
    m, k = _first_max(np.stack(views))
    flat = np.stack([np.broadcast_to(f, m.shape[-3:]) for f in flats])  # (K, Do, Ho, Wo)
    idx = np.take_along_axis(np.broadcast_to(flat.reshape((len(flats),) + (1,) * (m.ndim - 3) + m.shape[-3:]),
                                             (len(flats),) + m.shape), k.astype(np.int64)[None], 0)[0]
    return m, np.ascontiguousarray(idx)


adaptive_max_pool3d_op = Op("adaptive_max_pool3d", _adaptive_max3d, ("self",), ("output_size",),
                            node="AdaptiveMaxPool3DBackward0", dtype=SAME, n_out=2, diff_out=(True, False))
adaptive_max_pool3d_op.defvjp(self=lambda grads, result, self_shape: _scatter3(grads[0], result[1],
                                                                              tuple(self_shape), True))
adaptive_max_pool3d_op.defjvp(lambda ts, self, *rest, result: (_gather3(ts[0], result[1]), None))
for _op in (avg_pool3d_op, avg_pool3d_backward, adaptive_avg_pool3d_op, adaptive_avg_pool3d_backward):
    _op.defjvp(linear=True)


# ----------------------------------------------------------------------------------------------- public functions
def _batch5(x: Tensor, msg: str) -> Tensor:
    if x.ndim not in (4, 5) or any(s == 0 for s in x.shape[-4:]):
        raise RuntimeError(msg)
    return x


def _check3(x: Tensor, ks, st, pd, dl, ceil_mode, kind: str) -> None:
    if any(s == 0 for s in st):
        raise RuntimeError("stride should not be zero")
    for i in range(3):
        eff = dl[i] * (ks[i] - 1) + 1
        if pd[i] > (eff // 2 if kind == "max" else ks[i] // 2):
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={pd[i]}, "
                               f"kernel_size={ks[i]} and dilation={dl[i]}")
    d, h, w = x.shape[-3:]
    if kind == "avg" and any(x.shape[-3 + i] + 2 * pd[i] < ks[i] for i in range(3)):
        raise RuntimeError(f"input image (T: {d} H: {h} W: {w}) smaller than kernel size (kT: {ks[0]} kH: {ks[1]} "
                           f"kW: {ks[2]})")
    outs = tuple(_pool_out_len(x.shape[-3 + i], ks[i], st[i], pd[i], dl[i], ceil_mode) for i in range(3))
    if any(o < 1 for o in outs):
        c = x.shape[-4]
        raise RuntimeError(f"Given input size: ({c}x{d}x{h}x{w}). Calculated output size: "
                           f"({c}x{outs[0]}x{outs[1]}x{outs[2]}). Output size is too small")


def _params3(kernel_size, stride, padding, dilation=1):
    ks = _tuple(kernel_size, 3, "kernel_size")
    st = ks if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) else \
        _tuple(stride, 3, "stride")
    return ks, st, _tuple(padding, 3, "padding"), _tuple(dilation, 3, "dilation")


def max_pool3d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """Mirrors `torch.nn.functional.max_pool3d` (flat D*H*W indices with return_indices)."""
    _check_tensor(input, "max_pool3d")
    x = _batch5(input, "non-empty 4D or 5D (batch mode) tensor expected for input")
    ks, st, pd, dl = _params3(kernel_size, stride, padding, dilation)
    _check3(x, ks, st, pd, dl, ceil_mode, "max")
    out, idx = max_pool3d_with_indices(x, ks, st, pd, dl, bool(ceil_mode))
    return (out, idx) if return_indices else out


def avg_pool3d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """Mirrors `torch.nn.functional.avg_pool3d`."""
    _check_tensor(input, "avg_pool3d")
    x = _batch5(input, "non-empty 4D or 5D (batch mode) tensor expected for input")
    ks, st, pd, _ = _params3(kernel_size, stride, padding)
    _check3(x, ks, st, pd, (1, 1, 1), ceil_mode, "avg")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    return avg_pool3d_op(x, ks, st, pd, bool(ceil_mode), bool(count_include_pad), divisor_override)


def _adaptive3(output_size: Any, x: Tensor, name: str) -> tuple:
    if isinstance(output_size, (list, tuple)):
        if len(output_size) != 3:
            raise RuntimeError(f"{name}: output_size must be 3")
        for j, s in enumerate(output_size):
            if s is not None and not isinstance(s, (int, np.integer)):
                raise TypeError(f"{name}(): argument 'output_size' (position 2) must be tuple of ints, but found "
                                f"element of type {type(s).__name__} at pos {j}")
        size = tuple(x.shape[-3 + i] if s is None else int(s) for i, s in enumerate(output_size))
    else:
        size = (int(output_size),) * 3
    if "avg" in name and any(s < 0 for s in size):
        raise RuntimeError(f"{name}: elements of output_size must be greater than or equal to 0 but received "
                           f"{{{size[0]}, {size[1]},{size[2]}}}")
    return size


def adaptive_avg_pool3d(input: Tensor, output_size: Any) -> Tensor:
    """Mirrors `torch.nn.functional.adaptive_avg_pool3d`."""
    _check_tensor(input, "adaptive_avg_pool3d")
    from .conv import _max_pool_size_rank
    _max_pool_size_rank(input, output_size, 3)
    if input.ndim not in (4, 5):
        raise RuntimeError(f"adaptive_avg_pool3d(): Expected 4D or 5D tensor, but got {_size(input.shape)}")
    size = _adaptive3(output_size, input, "adaptive_avg_pool3d")
    if size == (1, 1, 1):
        return input.mean((-1, -2, -3), keepdim=True)  # torch's shortcut (MeanBackward1)
    return adaptive_avg_pool3d_op(input, size)


def adaptive_max_pool3d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Mirrors `torch.nn.functional.adaptive_max_pool3d`."""
    _check_tensor(input, "adaptive_max_pool3d")
    from .conv import _max_pool_size_rank, _negative_output
    _max_pool_size_rank(input, output_size, 3)
    if input.ndim not in (4, 5):
        raise RuntimeError(f"adaptive_max_pool3d(): Expected 4D or 5D tensor, but got: {_size(input.shape)}")
    size = _adaptive3(output_size, input, "adaptive_max_pool3d")
    _negative_output(input, size)
    out, idx = adaptive_max_pool3d_op(input, size)
    return (out, idx) if return_indices else out
