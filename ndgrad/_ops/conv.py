"""Convolutions and pooling: the ops behind `ndgrad.conv2d`, `ndgrad.nn.functional.conv2d`, `max_pool2d`...

Kernels are vectorised NumPy: im2col through `as_strided` windows and one `matmul` per call for the
convolutions; pooling and col2im (the adjoint of im2col) loop over the kh*kw kernel offsets only, each step
a whole-array operation. 1-d ops run as 2-d ones with a height of one.

Ops and their derivatives (each formula is itself one of these ops, so derivatives of any order work):
- `convolution(input, weight, bias)` (node ConvolutionBackward0, plain or transposed): the input gradient
  is the transposed (or plain) convolution of the gradient with the same weight; the weight gradient is
  `convolution_weight(input, grad)`; the bias gradient a sum.
- `convolution_weight(input, grad_output)`: bilinear; its derivatives are the two convolutions.
- `max_pool2d_with_indices` -> `max_pool_scatter` <-> `max_pool_gather` (mutual adjoints).
- `avg_pool2d` <-> `avg_pool2d_backward`, `adaptive_avg_pool2d` <-> `adaptive_avg_pool2d_backward`,
  `im2col` (unfold) <-> `col2im` (fold): linear ops whose derivative is their adjoint.
- `adaptive_max_pool2d` shares the max pools' scatter/gather pair.
Forward-mode rules: the convolution is bilinear plus its bias, the max pools gather the tangent at their
indices, every other op here is linear.

Speed: stride-1 convolutions use a "wide grid" (see `_wide_plane`) so that im2col/col2im copy long contiguous
runs; a stride-1 transposed convolution (the input gradient) with float32/64 data and at most about 3x as
many input as output channels is the correlation of its input with the flipped kernel (`_corr_wide`, the
forward's kernel) rather than a product and a col2im. im2col and its product (or the product and col2im) run
a cache-sized chunk of samples at a time (`_chunk`), so that the columns are still in cache when used; the
weight gradient multiplies the columns by the gradient laid out channels-last (the product shape BLAS runs
fastest), or, for few kernel rows against long planes (a first layer), takes one product per sample and sums
them. Depthwise convolutions (one input channel per group) use a multiply-add per kernel offset instead of
thousands of tiny matmuls. Max pooling compares the kernel offsets' contiguous copies and turns the winning
offset into a flat index by a table lookup.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .._tensor import Tensor, _size_at
from ._registry import NONE, SAME, Op
from .reduction import sum_dim
from .._warn import warn as _warn

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "max_pool1d",
           "max_pool2d",
           "avg_pool1d", "adaptive_avg_pool1d"]
METHODS: dict = {}

_TN = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
       "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}
_LOWER = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int", "int32": "int"}


# ============================================================================ NumPy kernels (2-d, NCHW)
_BLAS = (np.dtype(np.float32), np.dtype(np.float64))  # dtypes whose matmul is BLAS (the reordered fast paths)


def _pad(x: np.ndarray, top: int, bottom: int, left: int, right: int, value: float = 0) -> np.ndarray:
    if not (top or bottom or left or right):
        return x
    n, c, h, w = x.shape
    out = (np.zeros if value == 0 else np.full)((n, c, h + top + bottom, w + left + right),
                                                  *(() if value == 0 else (value,)), dtype=x.dtype)
    out[:, :, top:top + h, left:left + w] = x
    return out


def _windows(xp: np.ndarray, kh: int, kw: int, sh: int, sw: int, dh: int, dw: int, ho: int, wo: int,
             order: str = "nckl") -> np.ndarray:
    """Read-only view of the sliding windows of padded `xp`: (N, C, kh, kw, Ho, Wo), or with
    order "cknl" (C, kh, kw, N, Ho, Wo)."""
    n, c = xp.shape[:2]
    a, b, s_h, s_w = xp.strides
    if order == "nckl":
        return as_strided(xp, (n, c, kh, kw, ho, wo), (a, b, s_h * dh, s_w * dw, s_h * sh, s_w * sw), writeable=False)
    return as_strided(xp, (c, kh, kw, n, ho, wo), (b, s_h * dh, s_w * dw, a, s_h * sh, s_w * sw), writeable=False)


def _out_len(size: int, k: int, s: int, p: int, d: int) -> int:
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


# Stride-1 fast paths work on a "wide" grid: with rows of the padded width Wp laid end to end, the window at
# kernel offset (i, j) is one contiguous run of the flat plane starting at i*dh*Wp + j*dw, so im2col and col2im
# move long contiguous runs instead of rows of Wo elements; the Wp - Wo columns past each row are junk (or
# zeros on the way back) and are cut off.
def _wide_plane(x, top, bottom, left, right):
    """x padded, plus one spare row so that the last flat window stays inside the buffer."""
    n, c, h, w = x.shape
    out = np.zeros((n, c, h + top + bottom + 1, w + left + right), dtype=x.dtype)
    out[:, :, top:top + h, left:left + w] = x
    return out


def _wide_cols(xp, kh, kw, dh, dw, ho, order="nckl"):
    n, c, _, wp = xp.shape
    a, b, s_h, s_w = xp.strides
    if order == "nckl":
        return as_strided(xp, (n, c, kh, kw, ho * wp), (a, b, s_h * dh, s_w * dw, s_w), writeable=False)
    return as_strided(xp, (c, kh, kw, n, ho * wp), (b, s_h * dh, s_w * dw, a, s_w), writeable=False)


def _corr_wide(x, w, top, bottom, left, right, dh, dw, groups):
    """Stride-1 correlation (a forward convolution) of `x` zero-padded by (top, bottom, left, right) with `w`
    (O, C/groups, kh, kw) on the wide grid: im2col and product a cache-sized chunk of samples at a time, each
    chunk's junk columns cut off as it is stored. Returns (N, O, Ho, Wo), contiguous."""
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    xp = _wide_plane(x, top, bottom, left, right)
    hp, wp = xp.shape[2] - 1, xp.shape[3]
    ho, wo = hp - dh * (kh - 1), wp - dw * (kw - 1)
    k = cg * kh * kw
    out = np.empty((n, o, ho, wo), np.result_type(x, w))
    wm = w.reshape(o, k) if groups == 1 else w.reshape(groups, o // groups, k)
    nb = _chunk(n, c * kh * kw * ho * wp)
    for s in range(0, n, nb):
        cols = _wide_cols(xp[s:s + nb], kh, kw, dh, dw, ho)
        m = cols.shape[0]
        if groups == 1:
            part = np.matmul(wm, cols.reshape(m, k, ho * wp))
        else:
            part = np.matmul(wm, cols.reshape(m, groups, k, ho * wp))
        out[s:s + nb] = part.reshape(m, o, ho, wp)[:, :, :, :wo]
    return out


def _conv2d_np(x, w, stride, padding, dilation, groups):
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    ho, wo = _out_len(h, kh, sh, ph, dh), _out_len(wd, kw, sw, pw, dw)
    if groups > 1 and cg == 1:  # depthwise: a multiply-add per kernel offset beats thousands of tiny matmuls
        m = o // groups
        wr = w.reshape(groups, m, kh, kw)
        win = _windows(_pad(x, ph, ph, pw, pw), kh, kw, sh, sw, dh, dw, ho, wo)
        out = np.zeros((n, groups, m, ho, wo), np.result_type(x, w))
        tmp = np.empty_like(out)
        for i in range(kh):
            for j in range(kw):
                np.multiply(wr[None, :, :, i, j, None, None], win[:, :, None, i, j], out=tmp)
                out += tmp
        return out.reshape(n, o, ho, wo)
    if sh == sw == 1 and n and cg * kh * kw > o // groups:  # worth it when the output (cropped) is smaller
        return _corr_wide(x, w, ph, ph, pw, pw, dh, dw, groups)
    xp = _pad(x, ph, ph, pw, pw)
    k = cg * kh * kw
    win = _windows(xp, kh, kw, sh, sw, dh, dw, ho, wo)
    wm = w.reshape(o, k) if groups == 1 else w.reshape(groups, o // groups, k)
    nb = _chunk(n, groups * k * ho * wo)  # im2col (a copy) and product a cache-sized chunk of samples at a time
    if nb >= n:  # one chunk: the product is the result
        cols = win.reshape(n, groups, k, ho * wo)
        out = np.matmul(wm, cols[:, 0]) if groups == 1 else np.matmul(wm, cols)
        return out.reshape(n, o, ho, wo)
    out = np.empty((n, groups, o // groups, ho * wo), np.result_type(x, w))
    for s in range(0, n, nb):
        cols = win[s:s + nb]
        m = cols.shape[0]
        if groups == 1:
            out[s:s + nb, 0] = np.matmul(wm, cols.reshape(m, k, ho * wo))
        else:
            out[s:s + nb] = np.matmul(wm, cols.reshape(m, groups, k, ho * wo))
    return out.reshape(n, o, ho, wo)


def _col2im_add(out, cols, kh, kw, sh, sw, dh, dw, ho, wo):
    """out[:, :, i*dh + y*sh, j*dw + x*sw] += cols[:, i, j, :, y, x] (loop over the kernel offsets only)."""
    for i in range(kh):
        for j in range(kw):
            out[:, :, i * dh:i * dh + (ho - 1) * sh + 1:sh, j * dw:j * dw + (wo - 1) * sw + 1:sw] += cols[:, i, j]


def _conv_t2d_np(x, w, stride, padding, dilation, groups, out_hw):
    """Transposed convolution (the adjoint of `_conv2d_np` with respect to its input), output size `out_hw`."""
    n, cin, h, wd = x.shape
    _, coutg, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    cing = cin // groups
    hout, wout = out_hw
    hb = max((h - 1) * sh + dh * (kh - 1) + 1, ph + hout)
    wb = max((wd - 1) * sw + dw * (kw - 1) + 1, pw + wout)
    if groups > 1 and coutg == 1:  # adjoint of a depthwise convolution: a multiply-add per kernel offset
        wr = w.reshape(groups, cing, kh, kw)
        xr = x.reshape(n, groups, cing, h, wd)
        out = np.zeros((n, groups, hb, wb), np.result_type(x, w))
        for i in range(kh):
            for j in range(kw):
                part = wr[None, :, :, i, j, None, None] * xr
                part = part[:, :, 0] if cing == 1 else part.sum(2)
                out[:, :, i * dh:i * dh + (h - 1) * sh + 1:sh, j * dw:j * dw + (wd - 1) * sw + 1:sw] += part
        return np.ascontiguousarray(out[:, :, ph:ph + hout, pw:pw + wout])
    top, left = dh * (kh - 1) - ph, dw * (kw - 1) - pw
    bottom, right = hout - h + ph, wout - wd + pw
    if (sh == sw == 1 and n and min(top, left, bottom, right) >= 0 and x.dtype in _BLAS and w.dtype == x.dtype
            and cing <= 3 * coutg):
        # stride 1: the correlation of x, padded by the kernel's reach less the padding, with the kernel flipped
        # and its channel axes swapped (per group): one long product per chunk instead of a product and kh*kw
        # col2im additions. Measured faster while the input has at most about 3x the output's channels (its
        # im2col copy grows with the input channels, col2im's additions with the output's)
        wf = w.reshape(groups, cing, coutg, kh, kw).transpose(0, 2, 1, 3, 4)[:, :, :, ::-1, ::-1]
        wf = np.ascontiguousarray(wf).reshape(groups * coutg, cing, kh, kw)
        return _corr_wide(x, wf, top, bottom, left, right, dh, dw, groups)
    wide = sh == sw == 1 and n > 0
    if wide:  # x padded with zeros to the buffer's width: each offset's block is then one flat run
        if wd != wb:
            xw = np.zeros((n, cin, h, wb), x.dtype)
            xw[:, :, :, :wd] = x
            x, wd = xw, wb
        out = np.zeros((n, groups * coutg, (hb + 1) * wb), np.result_type(x, w))
    else:
        out = np.zeros((n, groups * coutg, hb, wb), np.result_type(x, w))
    # rows ordered (kh, kw, group, Cout/group) so that each kernel offset's slice is one contiguous block
    wm = np.ascontiguousarray(w.reshape(groups, cing, coutg, kh, kw).transpose(3, 4, 0, 2, 1))  # (kh, kw, g, .)
    hw = h * wd
    # a few samples at a time, so that the product's columns are still in cache when col2im adds them up
    nb = _chunk(n, kh * kw * groups * coutg * hw)
    for s in range(0, n, nb):
        xs = x[s:s + nb]
        m = xs.shape[0]
        if groups == 1:
            cols = np.matmul(wm.reshape(kh * kw * coutg, cin), xs.reshape(m, cin, hw)).reshape(m, kh, kw, coutg, hw)
        else:
            cols = np.matmul(wm.reshape(kh * kw, groups, coutg, cing)[:, None],
                             xs.reshape(1, m, groups, cing, hw))  # (kh*kw, m, g, coutg, hw)
            cols = cols.reshape(kh, kw, m, groups * coutg, hw).transpose(2, 0, 1, 3, 4)
        part = out[s:s + nb]
        if wide:
            for i in range(kh):
                for j in range(kw):
                    off = i * dh * wb + j * dw
                    part[:, :, off:off + hw] += cols[:, i, j]
        else:
            _col2im_add(part, cols.reshape(m, kh, kw, groups * coutg, h, wd), kh, kw, sh, sw, dh, dw, h, wd)
    if wide:
        out = out[:, :, :hb * wb].reshape(n, groups * coutg, hb, wb)
    return np.ascontiguousarray(out[:, :, ph:ph + hout, pw:pw + wout])


def _chunk(n: int, per_sample: int) -> int:
    """Samples per step of a loop over the batch whose temporaries take `per_sample` elements each: about
    half a million elements (2 MB of float32) at a time, the size that measured best for col2im."""
    return max(1, min(n, (1 << 19) // max(per_sample, 1)))


def _conv_weight_np(x, gy, stride, padding, dilation, groups, kernel):
    """Gradient of the convolution with respect to its weight: (O, C/groups, kh, kw)."""
    n, c, h, wd = x.shape
    o, ho, wo = gy.shape[1], gy.shape[2], gy.shape[3]
    kh, kw = kernel
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    cg = c // groups
    if groups > 1 and cg == 1:  # depthwise: one contraction per kernel offset
        m = o // groups
        win = _windows(_pad(x, ph, ph, pw, pw), kh, kw, sh, sw, dh, dw, ho, wo)
        g5 = gy.reshape(n, groups, m, ho, wo)
        gw = np.empty((groups, m, kh, kw), np.result_type(x, gy))
        for i in range(kh):
            for j in range(kw):
                gw[:, :, i, j] = np.einsum("ngmhw,nghw->gm", g5, win[:, :, i, j])
        return gw.reshape(o, 1, kh, kw)
    k = cg * kh * kw
    blas = x.dtype in _BLAS and gy.dtype == x.dtype
    if groups == 1 and blas and n and k <= 32 and 4 * k <= ho * wo:
        # few kernel rows against long planes (a first layer): one product per sample, summed; no transposed
        # copy of the (large) gradient (measured: faster up to about 32 rows, slower from about 72)
        cols = _windows(_pad(x, ph, ph, pw, pw), kh, kw, sh, sw, dh, dw, ho, wo).reshape(n, k, ho * wo)
        gw = np.matmul(gy.reshape(n, o, ho * wo), cols.transpose(0, 2, 1)).sum(0)
        return gw.reshape(o, cg, kh, kw)
    if sh == sw == 1 and n and k > o // groups:
        xp = _wide_plane(x, ph, ph, pw, pw)
        wp = xp.shape[3]
        if groups == 1 and blas:
            # the gradient channels-last on the wide grid (zero in the junk columns): (N, Ho*Wp, O), and the
            # product taken as cols @ gradient, the shape BLAS runs fastest (long contraction, narrow result);
            # a few samples at a time, so that each chunk's im2col copy is still in cache for the product
            gt = np.zeros((n, ho, wp, o), gy.dtype)
            gt[:, :, :wo] = gy.transpose(0, 2, 3, 1)
            gt = gt.reshape(n, ho * wp, o)
            nb = _chunk(n, k * ho * wp)
            gw = None
            for s in range(0, n, nb):
                cols = _wide_cols(xp[s:s + nb], kh, kw, dh, dw, ho, "cknl").reshape(k, -1)
                part = np.matmul(cols, gt[s:s + nb].reshape(-1, o))
                gw = part if gw is None else np.add(gw, part, out=gw)
            return np.ascontiguousarray(gw.T).reshape(o, cg, kh, kw)
        cols = _wide_cols(xp, kh, kw, dh, dw, ho, "cknl").reshape(groups, k, n * ho * wp)
        gw = np.zeros((n, o, ho, wp), gy.dtype)  # the gradient on the wide grid, zero in the junk columns
        gw[:, :, :, :wo] = gy
        gy, wo = gw, wp
    else:
        xp = _pad(x, ph, ph, pw, pw)
        cols = _windows(xp, kh, kw, sh, sw, dh, dw, ho, wo, "cknl").reshape(groups, k, n * ho * wo)
    if groups == 1:
        gm = gy.reshape(n, o, ho * wo).transpose(1, 0, 2).reshape(o, n * ho * wo)
        return np.matmul(gm, cols[0].T).reshape(o, cg, kh, kw)
    gm = gy.reshape(n, groups, o // groups, ho * wo).transpose(1, 2, 0, 3).reshape(groups, o // groups, n * ho * wo)
    return np.matmul(gm, cols.transpose(0, 2, 1)).reshape(o, cg, kh, kw)


# ---- 3-d as a sum of 2-d ones: the depth axis folded into the batch, one 2-d kernel call per depth offset
def _depth_fold(x: np.ndarray) -> np.ndarray:
    """(N, C, D, H, W) -> (N*D, C, H, W)."""
    n, c, d, h, w = x.shape
    return np.ascontiguousarray(x.transpose(0, 2, 1, 3, 4)).reshape(n * d, c, h, w)


def _depth_unfold(y: np.ndarray, n: int, d: int) -> np.ndarray:
    """(N*D, C, H, W) -> (N, C, D, H, W)."""
    _, c, h, w = y.shape
    return y.reshape(n, d, c, h, w).transpose(0, 2, 1, 3, 4)


def _depth_pad(x: np.ndarray, p: int) -> np.ndarray:
    if not p:
        return x
    out = np.zeros(x.shape[:2] + (x.shape[2] + 2 * p,) + x.shape[3:], x.dtype)
    out[:, :, p:p + x.shape[2]] = x
    return out


def _conv3d_np(x, w, stride, padding, dilation, groups):
    n = x.shape[0]
    kd = w.shape[2]
    (sd, *s2), (pd, *p2), (dd, *d2) = stride, padding, dilation
    do = _out_len(x.shape[2], kd, sd, pd, dd)
    xp = _depth_pad(x, pd)
    out = None
    for k in range(kd):
        xb = _depth_fold(xp[:, :, k * dd:k * dd + (do - 1) * sd + 1:sd])
        y = _conv2d_np(xb, w[:, :, k], tuple(s2), tuple(p2), tuple(d2), groups)
        out = y if out is None else np.add(out, y, out=out)
    return np.ascontiguousarray(_depth_unfold(out, n, do))


def _conv_t3d_np(x, w, stride, padding, dilation, groups, out_dhw):
    n, _, di = x.shape[:3]
    kd = w.shape[2]
    (sd, *s2), (pd, *p2), (dd, *d2) = stride, padding, dilation
    dout = out_dhw[0]
    db = max((di - 1) * sd + dd * (kd - 1) + 1, pd + dout)
    xb = _depth_fold(x)
    out = None
    for k in range(kd):
        y = _depth_unfold(_conv_t2d_np(xb, w[:, :, k], tuple(s2), tuple(p2), tuple(d2), groups, tuple(out_dhw[1:])),
                          n, di)
        if out is None:
            out = np.zeros(y.shape[:2] + (db,) + y.shape[3:], y.dtype)
        out[:, :, k * dd:k * dd + (di - 1) * sd + 1:sd] += y
    return np.ascontiguousarray(out[:, :, pd:pd + dout])


def _conv_weight3d_np(x, gy, stride, padding, dilation, groups, kernel):
    kd = kernel[0]
    (sd, *s2), (pd, *p2), (dd, *d2) = stride, padding, dilation
    do = gy.shape[2]
    xp = _depth_pad(x, pd)
    gyb = _depth_fold(gy)
    parts = [_conv_weight_np(_depth_fold(xp[:, :, k * dd:k * dd + (do - 1) * sd + 1:sd]), gyb, tuple(s2), tuple(p2),
                             tuple(d2), groups, tuple(kernel[1:])) for k in range(kd)]
    return np.stack(parts, axis=2)


# ---- 1-d as 2-d
def _to2d(params: tuple, fill: int) -> tuple:
    return (fill, *params) if len(params) == 1 else tuple(params)


def _as4d(a: np.ndarray) -> np.ndarray:
    return a[:, :, None, :] if a.ndim == 3 else a


# ============================================================================ convolution ops
def _check_dtypes(input, weight, bias):
    if input.dtype != weight.dtype:
        raise RuntimeError(f"expected scalar type {_TN.get(str(input.dtype))} but found {_TN.get(str(weight.dtype))}")
    if bias is not None and bias.dtype != input.dtype:
        raise RuntimeError(f"Input type ({_LOWER.get(str(input.dtype), input.dtype)}) and bias type "
                           f"({_LOWER.get(str(bias.dtype), bias.dtype)}) should be the same")
    if input.dtype.kind not in "fiuV":
        raise NotImplementedError(f'"slow_conv2d_cpu" not implemented for \'{_TN.get(str(input.dtype))}\'')


def _convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups):
    _check_dtypes(input, weight, bias)
    if input.ndim == 5:
        if transposed:
            out_dhw = tuple((input.shape[2 + i] - 1) * stride[i] - 2 * padding[i]
                            + dilation[i] * (weight.shape[2 + i] - 1) + 1 + output_padding[i] for i in range(3))
            out = _conv_t3d_np(input, weight, stride, padding, dilation, groups, out_dhw)
        else:
            out = _conv3d_np(input, weight, stride, padding, dilation, groups)
        if bias is not None:
            out += bias.reshape(1, -1, 1, 1, 1)
        return out
    one_d = input.ndim == 3
    x, w = _as4d(input), _as4d(weight)
    st, pd, dl = _to2d(stride, 1), _to2d(padding, 0), _to2d(dilation, 1)
    if transposed:
        op = _to2d(output_padding, 0)
        kh, kw = w.shape[2:]
        out_hw = tuple((x.shape[2 + i] - 1) * st[i] - 2 * pd[i] + dl[i] * ((kh, kw)[i] - 1) + 1 + op[i]
                       for i in range(2))
        out = _conv_t2d_np(x, w, st, pd, dl, groups, out_hw)
    else:
        out = _conv2d_np(x, w, st, pd, dl, groups)
    if bias is not None:
        out += bias.reshape(1, -1, 1, 1)
    return out[:, :, 0, :] if one_d else out


_CONV_ARGS = (("input", "weight", "bias"), ("stride", "padding", "dilation", "transposed", "output_padding", "groups"))
convolution = Op("convolution", _convolution, *_CONV_ARGS, node="ConvolutionBackward0", dtype=NONE)
# the same op when a derivative formula calls it (torch's node name for a convolution inside a backward pass)
convolution_bb = Op("convolution", _convolution, *_CONV_ARGS, node="ConvolutionBackwardBackward0", dtype=NONE)


def _output_padding(input_shape, grad_shape, kernel, stride, padding, dilation) -> tuple:
    """The output padding that makes the transposed convolution of `grad_shape` come back to `input_shape`."""
    return tuple(input_shape[2 + i] + 2 * padding[i] - dilation[i] * (kernel[i] - 1) - 1
                 - (grad_shape[2 + i] - 1) * stride[i] for i in range(len(kernel)))


def _crop(x, shape):
    """x cut to the spatial size of `shape` (a plain convolution may see rows a transposed one padded on)."""
    if tuple(x.shape[2:]) == tuple(shape[2:]):
        return x
    return x[(slice(None), slice(None), *(slice(0, s) for s in shape[2:]))]


def _conv_input_grad(grad, weight, input_shape, stride, padding, dilation, transposed, groups):
    if transposed:
        return _crop(convolution_bb(grad, weight, None, stride, padding, dilation, False, (0,) * len(stride),
                                    groups), input_shape)
    op = _output_padding(input_shape, tuple(grad.shape), tuple(weight.shape[2:]), stride, padding, dilation)
    return convolution_bb(grad, weight, None, stride, padding, dilation, True, op, groups)


def _conv_weight_grad(grad, input, weight_shape, stride, padding, dilation, transposed, groups):
    kernel = tuple(weight_shape[2:])
    if transposed:
        return convolution_weight(grad, input, stride, padding, dilation, groups, kernel)
    return convolution_weight(input, grad, stride, padding, dilation, groups, kernel)


for _op in (convolution, convolution_bb):
    _op.defvjp(
        input=lambda grad, weight, input_shape, stride, padding, dilation, transposed, groups:
            _conv_input_grad(grad, weight, input_shape, stride, padding, dilation, transposed, groups),
        weight=lambda grad, input, weight_shape, stride, padding, dilation, transposed, groups:
            _conv_weight_grad(grad, input, weight_shape, stride, padding, dilation, transposed, groups),
        bias=lambda grad: sum_dim(grad, (0, *range(2, grad.ndim)), False))


def _convolution_weight(input, grad_output, stride, padding, dilation, groups, kernel_size):
    if input.ndim == 5:
        return _conv_weight3d_np(input, grad_output, stride, padding, dilation, groups, kernel_size)
    one_d = input.ndim == 3
    gw = _conv_weight_np(_as4d(input), _as4d(grad_output), _to2d(stride, 1), _to2d(padding, 0),
                         _to2d(dilation, 1), groups, _to2d(kernel_size, 1))
    return gw[:, :, 0, :] if one_d else gw


# weight gradient of a convolution, bilinear in (input, grad_output)
convolution_weight = Op("convolution_weight", _convolution_weight, ("input", "grad_output"),
                        ("stride", "padding", "dilation", "groups", "kernel_size"),
                        node="ConvolutionBackwardBackward0", dtype=NONE)
convolution_weight.defvjp(
    input=lambda grad, grad_output, input_shape, stride, padding, dilation, groups, kernel_size:
        convolution_bb(grad_output, grad, None, stride, padding, dilation, True,
                    _output_padding(input_shape, tuple(grad_output.shape), kernel_size, stride, padding, dilation),
                    groups),
    grad_output=lambda grad, input, grad_output_shape, stride, padding, dilation, groups:
        _crop(convolution_bb(input, grad, None, stride, padding, dilation, False, (0,) * len(stride), groups),
              grad_output_shape))


# ============================================================================ pooling kernels
def _pool_out_len(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    num = size + 2 * p - d * (k - 1) - 1
    out = (-(-num // s) if ceil_mode else num // s) + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _offsets(xp, kh, kw, sh, sw, dh, dw, ho, wo):
    """The strided views xp[..., i*dh + y*sh, j*dw + x*sw] for each kernel offset (i, j)."""
    for i in range(kh):
        for j in range(kw):
            yield i, j, xp[..., i * dh:i * dh + (ho - 1) * sh + 1:sh, j * dw:j * dw + (wo - 1) * sw + 1:sw]


def _first_max(st):
    """Max over the kernel offsets (the first axis of `st`, or a list of equally shaped views, one per offset)
    and the offset holding it, in torch's order: the first maximum, or the last NaN of the window."""
    kk = len(st)
    if isinstance(st, np.ndarray) and kk > 8:
        m = st.max(0)  # (many offsets: the reduction measured a little faster than the running maximum)
    else:
        m = np.maximum(st[0], st[1]) if kk > 1 else np.array(st[0])  # a running maximum (NaN propagates, as max)
        for q in range(2, kk):
            np.maximum(m, st[q], out=m)
    k = np.zeros(m.shape, np.uint8 if kk < 256 else np.int64)
    if kk > 1:  # count the leading non-maxima
        run = np.not_equal(st[0], m).view(np.uint8)
        k += run
        if kk > 2:
            neq = np.empty(m.shape, np.bool_)
            for q in range(1, kk - 1):
                np.not_equal(st[q], m, out=neq)
                run &= neq.view(np.uint8)
                k += run
    if m.dtype.kind in "fV" and np.isnan(m).any():
        for q in range(kk):
            k[np.isnan(st[q])] = q
    return m, k


def _max_pool2d(self, kernel_size, stride, padding, dilation, ceil_mode):
    x = self if self.ndim == 4 else self[None]
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel_size, stride, padding, dilation
    ho, wo = _pool_out_len(h, kh, sh, ph, dh, ceil_mode), _pool_out_len(w, kw, sw, pw, dw, ceil_mode)
    eh = max((ho - 1) * sh + dh * (kh - 1) + 1 - (h + 2 * ph), 0)
    ew = max((wo - 1) * sw + dw * (kw - 1) + 1 - (w + 2 * pw), 0)
    low = -np.inf if x.dtype.kind in "fV" else np.iinfo(x.dtype).min
    xp = _pad(x, ph, ph + eh, pw, pw + ew, low)
    # one contiguous copy of the windows, offsets first: (kh*kw, N, C, Ho, Wo); the comparisons then read
    # contiguous blocks (faster, measured, than running them on the strided views of each offset)
    st = np.stack([v for _, _, v in _offsets(xp, kh, kw, sh, sw, dh, dw, ho, wo)])
    m, k = _first_max(st)
    del st
    base = (np.arange(ho) * sh - ph)[:, None] * w + (np.arange(wo) * sw - pw)[None, :]
    # flat offset of window position k = (i, j) from the window's corner, looked up in a kh*kw table
    table = (np.arange(kh * kw) // kw) * (dh * w) + (np.arange(kh * kw) % kw) * dw
    idx = table[k.astype(np.intp)]
    idx += base
    if (ph or pw or eh or ew) and (x.dtype.kind not in "fV" or np.isneginf(m).any()):
        # a window whose maximum is the padding value: torch points at its first real position
        k = k.astype(np.int64)
        hh = (np.arange(ho) * sh - ph)[:, None] + (k // kw) * dh
        ww = (np.arange(wo) * sw - pw)[None, :] + (k % kw) * dw
        bad = (hh < 0) | (hh >= h) | (ww < 0) | (ww >= w)
        if bad.any():
            hs, ws = np.arange(ho) * sh - ph, np.arange(wo) * sw - pw
            h0 = np.where(hs < 0, hs + (-(hs // dh)) * dh, hs)[:, None]
            w0 = np.where(ws < 0, ws + (-(ws // dw)) * dw, ws)[None, :]
            hh = np.where(bad, h0, hh)
            ww = np.where(bad, w0, ww)
            idx = hh * w + ww
    if self.ndim == 3:
        return m[0], idx[0]
    return m, idx


max_pool2d_with_indices = Op("max_pool2d_with_indices", _max_pool2d, ("self",),
                             ("kernel_size", "stride", "padding", "dilation", "ceil_mode"),
                             node="MaxPool2DWithIndicesBackward0", dtype=SAME, n_out=2, diff_out=(True, False))


def _pool_scatter(grad_output, indices, self_shape, overlap):
    """Gradient of a max pool: each output's gradient added at its input position (flat H*W index).
    Without `overlap` (windows that cannot share a position) a plain assignment does it."""
    hw = int(self_shape[-1]) * int(self_shape[-2])
    planes = int(np.prod(self_shape[:-2], dtype=np.int64))
    flat = indices.reshape(planes, -1) + (np.arange(planes, dtype=np.int64) * hw)[:, None]
    if overlap:
        out = np.bincount(flat.ravel(), weights=grad_output.ravel(), minlength=planes * hw)
        return out.astype(grad_output.dtype, copy=False).reshape(self_shape)
    out = np.zeros(planes * hw, grad_output.dtype)
    out[flat.ravel()] = grad_output.ravel()
    return out.reshape(self_shape)


def _pool_gather(self, indices):
    planes = int(np.prod(self.shape[:-2], dtype=np.int64))
    x = self.reshape(planes, -1)
    return np.take_along_axis(x, indices.reshape(planes, -1), 1).reshape(indices.shape)


max_pool_scatter = Op("max_pool_scatter", _pool_scatter, ("grad_output", "indices"), ("self_shape", "overlap"),
                      node="MaxPool2DWithIndicesBackwardBackward0", dtype=SAME)
max_pool_gather = Op("max_pool_gather", _pool_gather, ("self", "indices"), node="MaxPoolGatherBackward0", dtype=SAME)
max_pool_scatter.defvjp(grad_output=lambda grad, indices: max_pool_gather(grad, indices))
max_pool_gather.defvjp(self=lambda grad, indices, self_shape: max_pool_scatter(grad, indices, tuple(self_shape),
                                                                              True))
max_pool2d_with_indices.defvjp(
    self=lambda grads, result, self_shape, kernel_size, stride, dilation: max_pool_scatter(
        grads[0], result[1], tuple(self_shape),
        any(stride[i] < dilation[i] * (kernel_size[i] - 1) + 1 for i in range(2))))


def _avg_divisor(h, w, ho, wo, kernel_size, stride, padding, count_include_pad, divisor_override, dtype):
    if divisor_override:
        return np.asarray(divisor_override, dtype)
    (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding

    def sizes(size, k, s, p, n):
        start = np.arange(n) * s - p
        end = np.minimum(start + k, size + p)
        full = end - start
        real = np.minimum(end, size) - np.maximum(start, 0)
        return full, real
    fh, rh = sizes(h, kh, sh, ph, ho)
    fw, rw = sizes(w, kw, sw, pw, wo)
    div = (fh[:, None] * fw[None, :]) if count_include_pad else (rh[:, None] * rw[None, :])
    return div.astype(dtype)


def _avg_pool2d(self, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    x = self if self.ndim == 4 else self[None]
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
    ho, wo = _pool_out_len(h, kh, sh, ph, 1, ceil_mode), _pool_out_len(w, kw, sw, pw, 1, ceil_mode)
    eh = max((ho - 1) * sh + kh - (h + 2 * ph), 0)
    ew = max((wo - 1) * sw + kw - (w + 2 * pw), 0)
    xp = _pad(x, ph, ph + eh, pw, pw + ew)
    acc_t = x.dtype if x.dtype.kind in "fV" else np.int64
    s = None
    for _, _, v in _offsets(xp, kh, kw, sh, sw, 1, 1, ho, wo):
        s = v.astype(acc_t) if s is None else np.add(s, v, out=s, casting="unsafe")
    if x.dtype.kind in "fV":
        out = s * (1 / _avg_divisor(h, w, ho, wo, kernel_size, stride, padding, count_include_pad,
                                    divisor_override, np.float64)).astype(x.dtype)
    else:
        div = divisor_override or _avg_divisor(h, w, ho, wo, kernel_size, stride, padding, count_include_pad,
                                               None, np.int64)
        out = (np.trunc(s / div)).astype(x.dtype)
    return out if self.ndim == 4 else out[0]


def _avg_pool2d_backward(grad_output, self_shape, kernel_size, stride, padding, ceil_mode, count_include_pad,
                         divisor_override):
    g = grad_output if grad_output.ndim == 4 else grad_output[None]
    h, w = self_shape[-2:]
    ho, wo = g.shape[2:]
    (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
    div = _avg_divisor(h, w, ho, wo, kernel_size, stride, padding, count_include_pad, divisor_override, np.float64)
    gs = g * (1 / div).astype(g.dtype)
    hb = max((ho - 1) * sh + kh, h + 2 * ph)
    wb = max((wo - 1) * sw + kw, w + 2 * pw)
    out = np.zeros(g.shape[:2] + (hb, wb), g.dtype)
    for i in range(kh):
        for j in range(kw):
            out[:, :, i:i + (ho - 1) * sh + 1:sh, j:j + (wo - 1) * sw + 1:sw] += gs
    out = np.ascontiguousarray(out[:, :, ph:ph + h, pw:pw + w])
    return out.reshape(self_shape)


avg_pool2d_op = Op("avg_pool2d", _avg_pool2d, ("self",),
                   ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"),
                   node="AvgPool2DBackward0", dtype=SAME)
avg_pool2d_backward = Op("avg_pool2d_backward", _avg_pool2d_backward, ("grad_output",),
                         ("self_shape", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
                          "divisor_override"), node="AvgPool2DBackwardBackward0", dtype=SAME)
avg_pool2d_op.defvjp(self=lambda grad, self_shape, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override: avg_pool2d_backward(grad, tuple(self_shape), kernel_size, stride, padding,
                                                           ceil_mode, count_include_pad, divisor_override))
avg_pool2d_backward.defvjp(grad_output=lambda grad, kernel_size, stride, padding, ceil_mode, count_include_pad,
                           divisor_override: avg_pool2d_op(grad, kernel_size, stride, padding, ceil_mode,
                                                           count_include_pad, divisor_override))


def _adaptive_matrix(size: int, out: int, dtype) -> np.ndarray:
    """(out, size) averaging matrix: row i averages [floor(i*size/out), ceil((i+1)*size/out))."""
    i = np.arange(out)
    start = (i * size) // out
    end = -(-((i + 1) * size) // out)
    pos = np.arange(size)
    m = (pos[None, :] >= start[:, None]) & (pos[None, :] < end[:, None])
    return (m / (end - start)[:, None]).astype(dtype)


def _adaptive_avg_pool2d(self, output_size):
    if self.dtype.kind not in "fcV":
        raise NotImplementedError(f'"adaptive_avg_pool2d" not implemented for \'{_TN.get(str(self.dtype))}\'')
    h, w = self.shape[-2:]
    ah = _adaptive_matrix(h, output_size[0], self.dtype)
    aw = _adaptive_matrix(w, output_size[1], self.dtype)
    return np.matmul(ah, np.matmul(self, aw.T))


def _adaptive_avg_pool2d_backward(grad_output, self_shape):
    oh, ow = grad_output.shape[-2:]
    h, w = self_shape[-2:]
    ah = _adaptive_matrix(h, oh, grad_output.dtype)
    aw = _adaptive_matrix(w, ow, grad_output.dtype)
    return np.ascontiguousarray(np.matmul(ah.T, np.matmul(grad_output, aw)))


adaptive_avg_pool2d_op = Op("adaptive_avg_pool2d", _adaptive_avg_pool2d, ("self",), ("output_size",),
                            node="AdaptiveAvgPool2DBackward0", dtype=SAME)
adaptive_avg_pool2d_backward = Op("adaptive_avg_pool2d_backward", _adaptive_avg_pool2d_backward, ("grad_output",),
                                  ("self_shape",), node="AdaptiveAvgPool2DBackwardBackward0", dtype=SAME)
adaptive_avg_pool2d_op.defvjp(self=lambda grad, self_shape: adaptive_avg_pool2d_backward(grad, tuple(self_shape)))
adaptive_avg_pool2d_backward.defvjp(grad_output=lambda grad, grad_output_shape:
                                    adaptive_avg_pool2d_op(grad, tuple(grad_output_shape[-2:])))


def _adaptive_windows(size: int, out: int):
    """Adaptive windows [floor(i*size/out), ceil((i+1)*size/out)) as (out, kmax) positions and their validity."""
    i = np.arange(out)
    start = (i * size) // out
    end = -(-((i + 1) * size) // out)
    kmax = int((end - start).max()) if out else 1
    pos = start[:, None] + np.arange(kmax)[None, :]
    return np.minimum(pos, size - 1), pos < end[:, None], kmax


def _adaptive_max_pool2d(self, output_size):
    x = self if self.ndim == 4 else self[None]
    n, c, h, w = x.shape
    oh, ow = output_size
    rows, rvalid, kh = _adaptive_windows(h, oh)
    cols, cvalid, kw = _adaptive_windows(w, ow)
    st = np.empty((kh * kw, n, c, oh, ow), x.dtype)
    for a in range(kh):  # a loop over kernel offsets; windows shorter than kmax are padded with -inf
        xr = x[:, :, rows[:, a], :]
        for b in range(kw):
            np.copyto(st[a * kw + b], xr[:, :, :, cols[:, b]])
            st[a * kw + b][:, :, ~(rvalid[:, a][:, None] & cvalid[:, b][None, :])] = -np.inf
    m, k = _first_max(st)
    table = (rows[:, None, :, None] * w + cols[None, :, None, :]).reshape(oh, ow, kh * kw)
    idx = table[np.arange(oh)[:, None], np.arange(ow)[None, :], k]
    if self.ndim == 3:
        return m[0], idx[0]
    return m, idx


adaptive_max_pool2d_op = Op("adaptive_max_pool2d", _adaptive_max_pool2d, ("self",), ("output_size",),
                            node="AdaptiveMaxPool2DBackward0", dtype=SAME, n_out=2, diff_out=(True, False))
adaptive_max_pool2d_op.defvjp(
    self=lambda grads, result, self_shape: max_pool_scatter(grads[0], result[1], tuple(self_shape), True))


# ============================================================================ unfold / fold (im2col, col2im)
def _im2col(self, kernel_size, dilation, padding, stride):
    if self.dtype.kind not in "fcV":
        raise NotImplementedError(f'"im2col_out_cpu" not implemented for \'{_TN.get(str(self.dtype))}\'')
    x = self if self.ndim == 4 else self[None]
    n, c, h, w = x.shape
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = kernel_size, dilation, padding, stride
    ho, wo = _out_len(h, kh, sh, ph, dh), _out_len(w, kw, sw, pw, dw)
    cols = _windows(_pad(x, ph, ph, pw, pw), kh, kw, sh, sw, dh, dw, ho, wo).reshape(n, c * kh * kw, ho * wo)
    if np.may_share_memory(cols, self):  # a 1x1 kernel can make the reshape a view of the input
        cols = cols.copy()
    return cols if self.ndim == 4 else cols[0]


def _col2im(self, output_size, kernel_size, dilation, padding, stride):
    if self.dtype.kind not in "fcV":
        raise NotImplementedError(f'"col2im_out_cpu" not implemented for \'{_TN.get(str(self.dtype))}\'')
    cols = self if self.ndim == 3 else self[None]
    (h, w), (kh, kw), (dh, dw), (ph, pw), (sh, sw) = output_size, kernel_size, dilation, padding, stride
    ho, wo = _out_len(h, kh, sh, ph, dh), _out_len(w, kw, sw, pw, dw)
    n = cols.shape[0]
    c = cols.shape[1] // (kh * kw)
    cols = cols.reshape(n, c, kh, kw, ho, wo).transpose(0, 2, 3, 1, 4, 5)
    hb = max(h + 2 * ph, (ho - 1) * sh + dh * (kh - 1) + 1)
    wb = max(w + 2 * pw, (wo - 1) * sw + dw * (kw - 1) + 1)
    out = np.zeros((n, c, hb, wb), cols.dtype)
    _col2im_add(out, cols, kh, kw, sh, sw, dh, dw, ho, wo)
    out = np.ascontiguousarray(out[:, :, ph:ph + h, pw:pw + w])
    return out if self.ndim == 3 else out[0]


im2col = Op("im2col", _im2col, ("self",), ("kernel_size", "dilation", "padding", "stride"), node="Im2ColBackward0",
            dtype=SAME)
col2im = Op("col2im", _col2im, ("self",), ("output_size", "kernel_size", "dilation", "padding", "stride"),
            node="Col2ImBackward0", dtype=SAME)
im2col.defvjp(self=lambda grad, self_shape, kernel_size, dilation, padding, stride:
              col2im(grad, tuple(self_shape[-2:]), kernel_size, dilation, padding, stride))
col2im.defvjp(self=lambda grad, kernel_size, dilation, padding, stride:
              im2col(grad, kernel_size, dilation, padding, stride))


# ============================================================================ forward-mode rules
def _conv_jvp(ts, input, weight, bias, stride, padding, dilation, transposed, output_padding, groups, result):
    """Bilinear in (input, weight) plus the bias: each tangent through the same convolution."""
    r = None
    if ts[0] is not None:
        r = convolution(ts[0], weight, None, stride, padding, dilation, transposed, output_padding, groups)
    if ts[1] is not None:
        t = convolution(input, ts[1], None, stride, padding, dilation, transposed, output_padding, groups)
        r = t if r is None else r + t
    if ts[2] is not None:
        tb = ts[2].reshape((1, -1) + (1,) * (result.ndim - 2))
        r = tb.expand(tuple(result.shape)) if r is None else r + tb
    return r


def _max_pool_jvp(ts, self, *rest, result):
    return max_pool_gather(ts[0], result[1]), None


convolution.defjvp(_conv_jvp)
convolution_bb.defjvp(_conv_jvp)
convolution_weight.defjvp(multilinear=True)
max_pool2d_with_indices.defjvp(_max_pool_jvp)
adaptive_max_pool2d_op.defjvp(_max_pool_jvp)
for _op in (max_pool_scatter, max_pool_gather, avg_pool2d_op, avg_pool2d_backward, adaptive_avg_pool2d_op,
            adaptive_avg_pool2d_backward, im2col, col2im):
    _op.defjvp(linear=True)


# ============================================================================ public functions
def _tuple(v: Any, n: int, name: str) -> tuple:
    if isinstance(v, (list, tuple)):
        t = tuple(int(a) for a in v)
        if len(t) == 1 and n > 1:
            t = t * n
        if len(t) != n:
            raise RuntimeError(f"expected {name} to be a single integer value or a list of {n} values to match "
                               f"the convolution dimensions, but got {name}={list(t)}")
        return t
    return (int(v),) * n


def _size(shape) -> str:
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _check_tensor(x: Any, fname: str, arg: str = "input", pos: int = 1) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fname}(): argument '{arg}' (position {pos}) must be Tensor, not {type(x).__name__}")


def _conv_nd(nd: int, fname: str, input: Tensor, weight: Tensor, bias: Tensor | None, stride: Any, padding: Any,
             dilation: Any, groups: int, transposed: bool = False, output_padding: Any = 0) -> Tensor:
    _check_tensor(input, fname)
    _check_tensor(weight, fname, "weight", 2)
    if bias is not None:
        _check_tensor(bias, fname, "bias", 3)
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {fname}, but got input "
                           f"of size: {_size(input.shape)}")
    batched = input.ndim == nd + 2
    if not batched:
        input = input.unsqueeze(0)
    if weight.ndim != nd + 2 and weight.ndim >= 3:
        k = weight.ndim - 2
        raise RuntimeError(f"expected stride to be a single integer value or a list of {k} values to match the "
                           f"convolution dimensions, but got stride={list(_tuple(stride, nd, 'stride'))}")
    st = _tuple(stride, nd, "stride")
    dl = _tuple(dilation, nd, "dilation")
    ks = tuple(weight.shape[2:])
    if isinstance(padding, str):
        if transposed:
            raise TypeError(f"{fname}() received an invalid combination of arguments - got padding={padding!r}")
        if padding == "valid":
            padding = 0
        elif padding == "same":
            if any(s != 1 for s in st):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            if weight.ndim != nd + 2:
                pass  # the weight check below reports it
            else:
                total = [dl[i] * (ks[i] - 1) for i in range(nd)]
                left = [t // 2 for t in total]
                if any(t % 2 for t in total):
                    _warn("Using padding='same' with even kernel lengths and odd dilation may require a "
                          "zero-padded copy of the input be created", UserWarning, stacklevel=3)
                    from .indexing import pad as _pad_fn
                    pads: list = []
                    for i in reversed(range(nd)):
                        pads += [0, total[i] - 2 * left[i]]
                    input = _pad_fn(input, pads)
                padding = tuple(left)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    pd = _tuple(padding, nd, "padding")
    opd = _tuple(output_padding, nd, "output_padding")
    if any(s <= 0 for s in st):
        raise RuntimeError("non-positive stride is not supported")
    if any(p < 0 for p in pd):
        raise RuntimeError("negative padding is not supported")
    if any(p < 0 for p in opd):
        raise RuntimeError("negative output_padding is not supported")
    if any(d < 0 for d in dl):
        raise RuntimeError("dilation should be greater than zero")
    if any(d == 0 for d in dl):
        raise RuntimeError("non-positive dilation is not supported")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if weight.ndim < 3:
        raise RuntimeError("weight should have at least three dimensions")
    w0 = weight.shape[0]
    c = input.shape[1]
    if not transposed:
        if w0 < groups:
            raise RuntimeError(f"Given groups={groups}, expected weight to be at least {groups} at dimension 0, but "
                               f"got weight of size {_size(weight.shape)} instead")
        if w0 % groups:
            raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
                               f"but got weight of size [{_size(weight.shape)}] instead")  # (torch's double brackets)
        if c != weight.shape[1] * groups:
            raise RuntimeError(f"Given groups={groups}, weight of size {_size(weight.shape)}, expected input"
                               f"{_size(input.shape)} to have {weight.shape[1] * groups} channels, but got {c} "
                               "channels instead")
        out_ch = w0
    else:
        if c != w0:
            raise RuntimeError(f"Given transposed=1, weight of size {_size(weight.shape)}, expected input"
                               f"{_size(input.shape)} to have {w0} channels, but got {c} channels instead")
        if w0 % groups:
            raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
                               f"but got weight of size [{_size(weight.shape)}] instead")  # (torch's double brackets)
        out_ch = weight.shape[1] * groups
        if any(opd[i] >= st[i] and opd[i] >= dl[i] for i in range(nd)):
            names = ("height", "width") if nd == 2 else ("width",) if nd == 1 else ("depth", "height", "width")
            raise RuntimeError("output padding must be smaller than either stride or dilation, but got "
                               + " ".join(f"output_padding_{n}: {opd[i]}" for i, n in enumerate(names)) + " "
                               + " ".join(f"stride_{n}: {st[i]}" for i, n in enumerate(names)) + " "
                               + " ".join(f"dilation_{n}: {dl[i]}" for i, n in enumerate(names)))
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != out_ch):
        raise RuntimeError(f"Given weight of size {_size(weight.shape)}, expected bias to be 1-dimensional with "
                           f"{out_ch} elements, but got bias of size {_size(bias.shape)} instead")
    if not transposed:
        padded = [input.shape[2 + i] + 2 * pd[i] for i in range(nd)]
        eff = [dl[i] * (ks[i] - 1) + 1 for i in range(nd)]
        if any(padded[i] < eff[i] for i in range(nd)):
            raise RuntimeError(f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). "
                               f"Kernel size: ({' x '.join(map(str, eff))}). Kernel size can't be greater than "
                               "actual input size")
    out = convolution(input, weight, bias, st, pd, dl, transposed, opd, groups)
    return out if batched else out.squeeze(0)


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """Mirrors `torch.nn.functional.conv1d`."""
    return _conv_nd(1, "conv1d", input, weight, bias, stride, padding, dilation, groups)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """Mirrors `torch.nn.functional.conv2d`."""
    return _conv_nd(2, "conv2d", input, weight, bias, stride, padding, dilation, groups)


def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """Mirrors `torch.nn.functional.conv3d`."""
    return _conv_nd(3, "conv3d", input, weight, bias, stride, padding, dilation, groups)


def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:
    """Mirrors `torch.nn.functional.conv_transpose3d`."""
    return _conv_nd(3, "conv_transpose3d", input, weight, bias, stride, padding, dilation, groups, True,
                    output_padding)


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:
    """Mirrors `torch.nn.functional.conv_transpose1d`."""
    return _conv_nd(1, "conv_transpose1d", input, weight, bias, stride, padding, dilation, groups, True,
                    output_padding)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:
    """Mirrors `torch.nn.functional.conv_transpose2d`."""
    return _conv_nd(2, "conv_transpose2d", input, weight, bias, stride, padding, dilation, groups, True,
                    output_padding)


def _pool_params(nd, kernel_size, stride, padding, dilation=1):
    ks = _tuple(kernel_size, nd, "kernel_size")
    st = ks if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) else \
        _tuple(stride, nd, "stride")
    return ks, st, _tuple(padding, nd, "padding"), _tuple(dilation, nd, "dilation")


def _check_pool(x, ks, st, pd, dl, ceil_mode, name):
    if x.ndim not in (3, 4):
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    if any(s == 0 for s in x.shape[-3:]):
        raise RuntimeError("Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but "
                           f"got:{_size(x.shape)}")
    if any(s == 0 for s in st):
        raise RuntimeError("stride should not be zero")
    if any(k <= 0 for k in ks):
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {ks[0]} kW: {ks[1]}")
    if any(d <= 0 for d in dl):
        raise RuntimeError(f"dilation should be greater than zero, but got dilationH: {dl[0]} dilationW: {dl[1]}")
    for i in range(2):
        if pd[i] > (dl[i] * (ks[i] - 1) + 1) // 2 if name == "max" else pd[i] > ks[i] // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={pd[i]}, "
                               f"kernel_size={ks[i]} and dilation={dl[i]}")
    h, w = x.shape[-2:]
    ho = _pool_out_len(h, ks[0], st[0], pd[0], dl[0], ceil_mode)
    wo = _pool_out_len(w, ks[1], st[1], pd[1], dl[1], ceil_mode)
    if ho < 1 or wo < 1:
        c = x.shape[-3]
        raise RuntimeError(f"Given input size: ({c}x{h}x{w}). Calculated output size: ({c}x{ho}x{wo}). "
                           "Output size is too small")


def max_pool2d_with_indices_fn(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                               dilation: Any = 1, ceil_mode: bool = False) -> tuple:
    """Mirrors `torch.nn.functional.max_pool2d_with_indices`: (output, indices)."""
    _check_tensor(input, "max_pool2d")
    ks, st, pd, dl = _pool_params(2, kernel_size, stride, padding, dilation)
    _check_pool(input, ks, st, pd, dl, ceil_mode, "max")
    return max_pool2d_with_indices(input, ks, st, pd, dl, bool(ceil_mode))


def max_pool2d_fn(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                  ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """Mirrors `torch.nn.functional.max_pool2d`."""
    out, idx = max_pool2d_with_indices_fn(input, kernel_size, stride, padding, dilation, ceil_mode)
    return (out, idx) if return_indices else out


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False) -> Tensor:
    """Mirrors `torch.max_pool2d` (no return_indices, unlike the functional form)."""
    return max_pool2d_with_indices_fn(input, kernel_size, stride, padding, dilation, ceil_mode)[0]


def _check_1d(input: Tensor, name: str) -> None:
    if input.ndim not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.ndim}-dimensional tensor for argument #1 "
                           f"'self' (while checking arguments for {name})")


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False) -> Tensor:
    """Mirrors `torch.max_pool1d` (no return_indices, unlike the functional form)."""
    return max_pool1d_fn(input, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool1d_fn(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                  ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """Mirrors `torch.nn.functional.max_pool1d`."""
    _check_tensor(input, "max_pool1d")
    if input.ndim not in (2, 3) or any(s == 0 for s in input.shape[-2:]):
        raise RuntimeError("max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for "
                           f"input, but got:{_size(input.shape)}")
    ks, st, pd, dl = _pool_params(1, kernel_size, stride, padding, dilation)
    x = input.unsqueeze(-2)
    out, idx = max_pool2d_with_indices_fn(x, (1, ks[0]), (1, st[0]), (0, pd[0]), (1, dl[0]), ceil_mode)
    out = out.squeeze(-2)
    return (out, idx.squeeze(-2)) if return_indices else out


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """Mirrors `torch.nn.functional.avg_pool2d`."""
    _check_tensor(input, "avg_pool2d")
    ks, st, pd, _ = _pool_params(2, kernel_size, stride, padding)
    if input.ndim not in (3, 4):
        raise IndexError(f"Dimension out of range (expected to be in range of [{-max(input.ndim, 1)}, "
                         f"{max(input.ndim, 1) - 1}], but got -3)")
    _check_pool(input, ks, st, pd, (1, 1), ceil_mode, "avg")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    return avg_pool2d_op(input, ks, st, pd, bool(ceil_mode), bool(count_include_pad), divisor_override)


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """Mirrors `torch.nn.functional.avg_pool1d`."""
    _check_tensor(input, "avg_pool1d")
    _check_1d(input, "avg_pool1d")
    ks, st, pd, _ = _pool_params(1, kernel_size, stride, padding)
    x = input.unsqueeze(-2)
    return avg_pool2d(x, (1, ks[0]), (1, st[0]), (0, pd[0]), ceil_mode, count_include_pad).squeeze(-2)


def _adaptive_size(output_size: Any, x: Tensor, nd: int, name: str) -> tuple:
    if isinstance(output_size, (list, tuple)):
        if len(output_size) != nd:
            raise RuntimeError(f"{name}: output_size must be {nd}")
        for j, s in enumerate(output_size):
            if s is not None and not isinstance(s, (int, np.integer)):
                raise TypeError(f"{name}(): argument 'output_size' (position 2) must be tuple of ints, but found "
                                f"element of type {type(s).__name__} at pos {j}")
        size = tuple(x.shape[-nd + i] if s is None else int(s) for i, s in enumerate(output_size))
    else:
        size = (int(output_size),) * nd
    return _nonnegative_output_size(size, name)


def _nonnegative_output_size(size: tuple, name: str) -> tuple:
    """torch's check of an adaptive average pool's output size (1-d pools report the 2-d pool's {1, n})."""
    if "avg" in name and any(s < 0 for s in size):
        kernel = name.replace("1d", "2d")
        shown = ", ".join(str(s) for s in ((1,) + size if len(size) == 1 else size))
        raise RuntimeError(f"{kernel}: elements of output_size must be greater than or equal to 0 but received "
                           f"{{{shown}}}")
    return size


def _max_pool_size_rank(x: Tensor, output_size: Any, nd: int) -> None:
    """torch's Python code reads an output size with None entries against the input's last dims first."""
    if isinstance(output_size, (list, tuple)) and x.ndim < nd + 1:
        raise ValueError(f"Input dimension should be at least {nd + 1}")


def _negative_output(x: Tensor, size: tuple) -> None:
    if any(s < 0 for s in size):
        shape = list(x.shape[:-len(size)]) + list(size)
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(size)}: {shape}")


def _check_adaptive(x: Tensor, name: str) -> None:
    for d in range(x.ndim - 3, x.ndim):
        if x.shape[d] == 0:
            raise RuntimeError(f"{name}(): Expected input to have non-zero size for non-batch dimensions, but input "
                               f"has sizes {_size(x.shape)} with dimension {d} being empty")


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """Mirrors `torch.nn.functional.adaptive_avg_pool2d`."""
    _check_tensor(input, "adaptive_avg_pool2d")
    _max_pool_size_rank(input, output_size, 2)
    if input.ndim not in (3, 4):
        raise RuntimeError(f"adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got {_size(input.shape)}")
    size = _adaptive_size(output_size, input, 2, "adaptive_avg_pool2d")
    _check_adaptive(input, "adaptive_avg_pool2d")
    if size == (1, 1):
        return input.mean((-1, -2), keepdim=True)  # torch's shortcut (MeanBackward1)
    return adaptive_avg_pool2d_op(input, size)


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:
    """Mirrors `torch.nn.functional.adaptive_avg_pool1d`."""
    _check_tensor(input, "adaptive_avg_pool1d")
    _check_1d(input, "adaptive_avg_pool1d")
    size = _adaptive_size(output_size, input, 1, "adaptive_avg_pool1d")
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1, size[0])).squeeze(-2)


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Mirrors `torch.nn.functional.adaptive_max_pool2d`."""
    _check_tensor(input, "adaptive_max_pool2d")
    _max_pool_size_rank(input, output_size, 2)
    if input.ndim not in (3, 4):
        raise RuntimeError(f"adaptive_max_pool2d(): Expected 3D or 4D tensor, but got: {_size(input.shape)}")
    size = _adaptive_size(output_size, input, 2, "adaptive_max_pool2d")
    _negative_output(input, size)
    _check_adaptive(input, "adaptive_max_pool2d")
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f'"adaptive_max_pool2d" not implemented for \'{_TN.get(str(input._data.dtype))}\'')
    out, idx = adaptive_max_pool2d_op(input, size)
    return (out, idx) if return_indices else out


def adaptive_max_pool1d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Mirrors `torch.nn.functional.adaptive_max_pool1d`."""
    _check_tensor(input, "adaptive_max_pool1d")
    _check_1d(input, "adaptive_max_pool1d")
    size = _adaptive_size(output_size, input, 1, "adaptive_max_pool1d")
    out, idx = adaptive_max_pool2d(input.unsqueeze(-2), (1, size[0]), True)
    out = out.squeeze(-2)
    return (out, idx.squeeze(-2)) if return_indices else out


def _fold_params(kernel_size, dilation, padding, stride):
    ks, dl = _tuple(kernel_size, 2, "kernel_size"), _tuple(dilation, 2, "dilation")
    pd, st = _tuple(padding, 2, "padding"), _tuple(stride, 2, "stride")
    if any(k <= 0 for k in ks):
        raise RuntimeError(f"kernel size should be greater than zero, but got kernel_height: {ks[0]} kernel_width: "
                           f"{ks[1]}")
    if any(d <= 0 for d in dl):
        raise RuntimeError(f"dilation should be greater than zero, but got dilation_height: {dl[0]} dilation_width: "
                           f"{dl[1]}")
    if any(p < 0 for p in pd):
        raise RuntimeError(f"padding should be non-negative, but got pad_height: {pd[0]} pad_width: {pd[1]}")
    if any(s <= 0 for s in st):
        raise RuntimeError(f"stride should be greater than zero, but got stride_height: {st[0]} stride_width: {st[1]}")
    return ks, dl, pd, st


def unfold(input: Tensor, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> Tensor:
    """Mirrors `torch.nn.functional.unfold` (im2col): (N, C*kh*kw, L) sliding blocks."""
    _check_tensor(input, "unfold")
    if input.ndim < 3:  # torch reads the channel count (dim 1), then the spatial size
        _size_at(input, 1), _size_at(input, 2)
    if input.ndim > 4:
        raise RuntimeError("Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero "
                           f"dimensions for input, but got: {_size(input.shape)}")
    ks, dl, pd, st = _fold_params(kernel_size, dilation, padding, stride)
    h, w = input.shape[-2:]
    ho, wo = _out_len(h, ks[0], st[0], pd[0], dl[0]), _out_len(w, ks[1], st[1], pd[1], dl[1])
    if ho < 1 or wo < 1:
        raise RuntimeError(f"Given input with spatial size ({h}, {w}), kernel_size=({ks[0]}, {ks[1]}), dilation="
                           f"({dl[0]}, {dl[1]}), padding=({pd[0]}, {pd[1]}), calculated shape of the array of sliding "
                           f"blocks as ({ho}, {wo}), but its components must be at least one.")
    return im2col(input, ks, dl, pd, st)


def fold(input: Tensor, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
         stride: Any = 1) -> Tensor:
    """Mirrors `torch.nn.functional.fold` (col2im): sums sliding blocks back into (N, C, H, W)."""
    _check_tensor(input, "fold")
    if input.ndim not in (2, 3) or any(s == 0 for s in input.shape[-2:]):
        raise RuntimeError("Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and non-zero "
                           f"dimensions for input, but got: {_size(input.shape)}")
    size = _tuple(output_size, 2, "output_size")
    ks, dl, pd, st = _fold_params(kernel_size, dilation, padding, stride)
    c_k = input.shape[-2]
    if c_k % (ks[0] * ks[1]):
        raise RuntimeError("Expected size of input's dimension 1 to be divisible by the product of kernel_size, but "
                           f"got input.size(1)={c_k} and kernel_size=({ks[0]}, {ks[1]}).")
    ho = _out_len(size[0], ks[0], st[0], pd[0], dl[0])
    wo = _out_len(size[1], ks[1], st[1], pd[1], dl[1])
    if ho * wo != input.shape[-1] or ho < 1 or wo < 1:
        raise RuntimeError(f"Given output_size=({size[0]}, {size[1]}), kernel_size=({ks[0]}, {ks[1]}), dilation="
                           f"({dl[0]}, {dl[1]}), padding=({pd[0]}, {pd[1]}), stride=({st[0]}, {st[1]}), expected size "
                           f"of input's dimension 2 to match the calculated number of sliding blocks {ho} * {wo} = "
                           f"{ho * wo}, but got input.size(2)={input.shape[-1]}.")
    return col2im(input, size, ks, dl, pd, st)
