"""affine_grid (AffineGridGeneratorBackward0) and 2-d grid_sample (GridSampler2DBackward0).

grid_sample is separable: along x and y each output point reads a few taps (1 nearest, 2 bilinear, 4 bicubic) at
integer positions with weights that are polynomials of the fractional coordinate t. The tap positions (and the
padding mode's effect on them) are piecewise constant in the grid, and inside each piece the sampling coordinate is
an affine function of the grid value: ix = A·gx + B with constants A (the unnormalising scale times the padding's
slope: 1, 0 where clamped, -1 where reflected) and B. The formulas are written in ndgrad ops from these pieces
(a gather op and its scatter adjoint for the taps, polynomials in t for the weights), so they are differentiable
again and double backward works, as in torch.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor, _wrap
from ._registry import NONE, SAME, Op
from .reduction import sum_dim
from .shape import narrow, unsafe_view
from .._warn import warn as _warn

__all__: list = []
METHODS: dict = {}


def _const(a, like):
    return _wrap(np.asarray(a)) if isinstance(like, Tensor) else a


def _arr(x):
    return x._data if isinstance(x, Tensor) else x


# ----------------------------------------------------------------------------------------------- affine grid
def _base_grid(size: tuple, align_corners: bool, dtype) -> np.ndarray:
    """(prod(spatial), nd + 1) rows [x, y(, z), 1] of the normalised output positions, x fastest."""
    spatial = size[2:]
    axes = []
    for s in spatial:
        v = np.linspace(-1, 1, s) if s > 1 else np.zeros(1)
        axes.append(v if align_corners else v * (s - 1) / s)
    mesh = np.meshgrid(*axes, indexing="ij")  # (D,) H, W
    cols = [m.reshape(-1) for m in reversed(mesh)]  # x, y(, z)
    return np.stack(cols + [np.ones(cols[0].size)], axis=1).astype(dtype)


def _affine_grid_fwd(theta, size, align_corners):
    base = _base_grid(size, align_corners, theta.dtype)
    out = np.matmul(base[None], np.swapaxes(theta, 1, 2))  # (N, P, nd)
    return out.reshape((theta.shape[0],) + tuple(size[2:]) + (len(size) - 2,))


def _affine_grid_bwd(grad, size, align_corners):
    base = _base_grid(size, align_corners, grad.dtype)
    g = grad.reshape(grad.shape[0], -1, grad.shape[-1])
    return np.matmul(np.swapaxes(g, 1, 2), base[None])  # (N, nd, nd + 1)


affine_grid_op = Op("affine_grid_generator", _affine_grid_fwd, ("theta",), ("size", "align_corners"),
                    node="AffineGridGeneratorBackward0", dtype=SAME)
affine_grid_backward = Op("affine_grid_generator_backward", _affine_grid_bwd, ("grad",), ("size", "align_corners"),
                          dtype=SAME)
affine_grid_op.defvjp(theta=lambda grad, size, align_corners: affine_grid_backward(grad, size, align_corners))
affine_grid_backward.defvjp(grad=lambda grad, size, align_corners: affine_grid_op(grad, size, align_corners))
affine_grid_op.defjvp(linear=True)
affine_grid_backward.defjvp(linear=True)


# ----------------------------------------------------------------------------------------------- grid sample
_MODES = {"bilinear": 0, "nearest": 1, "bicubic": 2}
_PADS = {"zeros": 0, "border": 1, "reflection": 2}


def _reflect(x: np.ndarray, lo: float, hi: float):
    """x reflected into [lo, hi], and the slope (+1 or -1) of the reflection at x."""
    span = hi - lo
    if span <= 0:
        return np.zeros_like(x), np.zeros_like(x)
    y = np.abs(x - lo)
    flips = np.floor(y / span)
    extra = y - flips * span
    even = (flips % 2) == 0
    out = np.where(even, lo + extra, hi - extra)
    slope = np.sign(x - lo) * np.where(even, 1.0, -1.0)
    slope = np.where(x == lo, 1.0, slope)
    return out, slope


def _axis(g: np.ndarray, size: int, mode: int, padding: int, align: bool):
    """For one axis: the tap positions (list of (index, in-bounds mask)), the fractional coordinate t, and the
    slope A of the sampling coordinate in the grid value (ix = A·g + B within the piece)."""
    scale = (size - 1) / 2 if align else size / 2
    ix = (g + 1) * scale if align else ((g + 1) * size - 1) / 2
    slope = np.full(g.shape, scale)
    if mode != 2:  # bicubic pads each tap instead of the coordinate
        if padding == 1:
            inside = (ix > 0) & (ix < size - 1)
            ix = np.clip(ix, 0, size - 1)
            slope = np.where(inside, slope, 0.0)
        elif padding == 2:
            if align:
                ix, s = _reflect(ix, 0, size - 1)
            else:
                ix, s = _reflect(ix, -0.5, size - 0.5)
            inside = (ix > 0) & (ix < size - 1)
            ix = np.clip(ix, 0, size - 1)
            slope = slope * s * inside
    if mode == 1:
        i0 = np.rint(ix).astype(np.int64)
        return [i0], ix - ix, slope, ix
    i0 = np.floor(ix).astype(np.int64)
    offs = (0, 1) if mode == 0 else (-1, 0, 1, 2)
    return [i0 + o for o in offs], ix - i0, slope, ix


def _tap(idx: np.ndarray, size: int, padding: int, mode: int, align: bool):
    """A tap index made valid: (index clipped into range, mask of taps that read a real value)."""
    if mode == 2 and padding:  # bicubic: the padding mode applied to the tap's integer position
        if padding == 1:
            idx = np.clip(idx, 0, size - 1)
        else:
            f = idx.astype(np.float64)
            r, _ = _reflect(f, 0, size - 1) if align else _reflect(f, -0.5, size - 0.5)
            idx = np.clip(np.floor(r + 0.5 if not align else r).astype(np.int64), 0, size - 1)
        return idx, np.ones(idx.shape, bool)
    ok = (idx >= 0) & (idx < size)
    return np.clip(idx, 0, size - 1), ok


def _cubic_w(t, a=-0.75):
    """Weights of the taps at -1, 0, 1, 2 for fractional position t (works on arrays and Tensors)."""
    def c1(x):
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def c2(x):
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return [c2(t + 1), c1(t), c1(1 - t), c2(2 - t)]


def _cubic_dw(t, a=-0.75):
    def d1(x):
        return (3 * (a + 2) * x - 2 * (a + 3)) * x

    def d2(x):
        return (3 * a * x - 10 * a) * x + 8 * a
    return [d2(t + 1), d1(t), -d1(1 - t), -d2(2 - t)]


def _weights(t, mode):
    if mode == 1:
        return [t * 0 + 1]
    if mode == 0:
        return [1 - t, t]
    return _cubic_w(t)


def _dweights(t, mode):
    if mode == 1:
        return [t * 0]
    if mode == 0:
        return [t * 0 - 1, t * 0 + 1]
    return _cubic_dw(t)


def _plan(input_shape, grid: np.ndarray, mode: int, padding: int, align: bool):
    """Everything piecewise constant: per axis the taps (flat index parts, masks), t, slope A and offset B."""
    h, w = input_shape[-2:]
    gx, gy = grid[..., 0], grid[..., 1]
    xs, tx, ax, _ = _axis(gx, w, mode, padding, align)
    ys, ty, ay, _ = _axis(gy, h, mode, padding, align)
    xt = [_tap(i, w, padding, mode, align) for i in xs]
    yt = [_tap(i, h, padding, mode, align) for i in ys]
    taps = [[(yi * w + xi, ym & xm) for xi, xm in xt] for yi, ym in yt]  # taps[b][a]
    return taps, tx, ty, ax, ay, tx - ax * gx, ty - ay * gy


def _gather(input, flat, mask):
    """input (N, C, H, W) read at flat H*W positions (N, P...) -> (N, C, P...), zero where not mask."""
    n, c = input.shape[:2]
    x = input.reshape(n, c, -1)
    fl = flat.reshape(n, 1, -1)
    out = np.take_along_axis(x, np.broadcast_to(fl, (n, c, fl.shape[-1])), 2)
    out = out * mask.reshape(n, 1, -1)
    return out.reshape((n, c) + flat.shape[1:])


def _scatter(grad, flat, mask, shape):
    n, c = grad.shape[:2]
    out = np.zeros((n, c, int(shape[-2]) * int(shape[-1])), grad.dtype)
    g = (grad.reshape(n, c, -1) * mask.reshape(n, 1, -1))
    idx = np.broadcast_to(flat.reshape(n, 1, -1), g.shape)
    rows = np.broadcast_to(np.arange(n)[:, None, None], g.shape)
    chans = np.broadcast_to(np.arange(c)[None, :, None], g.shape)
    np.add.at(out, (rows, chans, idx), g)
    return out.reshape(tuple(shape))


gs_gather = Op("grid_sampler_gather", _gather, ("input",), ("flat", "mask"), dtype=SAME)
gs_scatter = Op("grid_sampler_scatter", _scatter, ("grad",), ("flat", "mask", "shape"), dtype=SAME)
gs_gather.defvjp(input=lambda grad, input_shape, flat, mask: gs_scatter(grad, flat, mask, tuple(input_shape)))
gs_scatter.defvjp(grad=lambda grad, flat, mask: gs_gather(grad, flat, mask))
gs_gather.defjvp(linear=True)
gs_scatter.defjvp(linear=True)


def _grid_sample_fwd(input, grid, mode, padding, align):
    taps, tx, ty, _, _, _, _ = _plan(input.shape, grid, mode, padding, align)
    wx, wy = _weights(tx, mode), _weights(ty, mode)
    out = None
    for b, row in enumerate(taps):
        for a, (flat, mask) in enumerate(row):
            term = _gather(input, flat, mask) * (wx[a] * wy[b])[:, None]
            out = term if out is None else out + term
    return out.astype(input.dtype, copy=False)


def _t_of(grid, ax, bx, axis):
    """The fractional coordinate as a function of the grid (dual): A·g + B."""
    n, ho, wo = grid.shape[:3]
    g = unsafe_view(narrow(grid, 3, axis, 1), (n, ho, wo))
    return g * _const(ax, g) + _const(bx, g)


def _gs_input_grad(grad, input_shape, grid, mode, padding, align):
    gv = _arr(grid)
    taps, _, _, ax, ay, bx, by = _plan(tuple(input_shape), gv, mode, padding, align)
    tx, ty = _t_of(grid, ax, bx, 0), _t_of(grid, ay, by, 1)
    wx, wy = _weights(tx, mode), _weights(ty, mode)
    out = None
    n = int(input_shape[0])
    for b, row in enumerate(taps):
        for a, (flat, mask) in enumerate(row):
            wgt = unsafe_view(wx[a] * wy[b], (n, 1) + tuple(gv.shape[1:3]))
            term = gs_scatter(grad * wgt, flat, mask, tuple(input_shape))
            out = term if out is None else out + term
    return out


def _gs_grid_grad(grad, input, grid, mode, padding, align):
    gv = _arr(grid)
    n, ho, wo = gv.shape[:3]
    if mode == 1:  # nearest: piecewise constant in the grid
        z = grad * 0
        return unsafe_view(sum_dim(z, (1,), False), (n, ho, wo, 1)) * _const(np.zeros(2, gv.dtype), z)
    taps, _, _, ax, ay, bx, by = _plan(tuple(input.shape), gv, mode, padding, align)
    tx, ty = _t_of(grid, ax, bx, 0), _t_of(grid, ay, by, 1)
    wx, wy, dx, dy = _weights(tx, mode), _weights(ty, mode), _dweights(tx, mode), _dweights(ty, mode)
    gix = giy = None
    for b, row in enumerate(taps):
        for a, (flat, mask) in enumerate(row):
            val = sum_dim(grad * gs_gather(input, flat, mask), (1,), False)  # (N, Ho, Wo)
            px, py = val * (dx[a] * wy[b]), val * (wx[a] * dy[b])
            gix = px if gix is None else gix + px
            giy = py if giy is None else giy + py
    gx = unsafe_view(gix * _const(ax, gix), (n, ho, wo, 1))
    gy = unsafe_view(giy * _const(ay, giy), (n, ho, wo, 1))
    return gx * _const(np.array([1.0, 0.0], gv.dtype), gx) + gy * _const(np.array([0.0, 1.0], gv.dtype), gy)


grid_sampler_2d = Op("grid_sampler_2d", _grid_sample_fwd, ("input", "grid"), ("mode", "padding", "align"),
                     node="GridSampler2DBackward0", dtype=NONE)
grid_sampler_2d.defvjp(input=_gs_input_grad, grid=_gs_grid_grad)


# ----------------------------------------------------------------------------------------------- public functions
_DEFAULT_WARN = ("Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. Please "
                 "specify align_corners=True if the old behavior is desired. See the documentation of grid_sample for "
                 "details.")


def affine_grid(theta: Tensor, size: Any, align_corners: bool | None = None) -> Tensor:
    """Mirrors `torch.nn.functional.affine_grid`: the sampling grid (N, H, W, 2) of a batch of 2x3 affine
    matrices (or (N, D, H, W, 3) of 3x4 ones)."""
    if align_corners is None:
        _warn(_DEFAULT_WARN, stacklevel=2)
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = tuple(int(s) for s in size)
    if len(size) == 4:
        if theta.ndim != 3 or tuple(theta.shape[-2:]) != (2, 3):
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {_tsize(size)}. Got "
                             f"{_tsize(theta.shape)}.")
    elif len(size) == 5:
        if theta.ndim != 3 or tuple(theta.shape[-2:]) != (3, 4):
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size {_tsize(size)}. Got "
                             f"{_tsize(theta.shape)}.")
    else:
        raise NotImplementedError("affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
                                  f"respectively. Got size {_tsize(size)}.")
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {_tsize(size)}")
    rows = 2 if len(size) == 4 else 3
    if theta.shape[0] != size[0]:  # torch's batched product of the base grid and theta
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{size[0]}, {rows + 1}] "
                           f"but got: [{theta.shape[0]}, {rows + 1}].")
    return affine_grid_op(theta, size, bool(align_corners))


def _tsize(s) -> str:
    return "torch.Size([" + ", ".join(str(int(v)) for v in s) + "])"


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners: bool | None = None) -> Tensor:
    """Mirrors `torch.nn.functional.grid_sample` for 4-D input (modes bilinear, nearest, bicubic; padding zeros,
    border, reflection)."""
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', but "
                         f"got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        _warn(_DEFAULT_WARN, stacklevel=2)
        align_corners = False
    from .._tensor import _size_at
    _size_at(input, 0), _size_at(grid, 0)  # torch compares the batch sizes first
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, but got input "
                           f"with sizes {_lsize(input.shape)} and grid with sizes {_lsize(grid.shape)}")
    if input.ndim == 5:
        raise NotImplementedError("ndgrad: grid_sample of 5-D input (volumetric sampling) is not implemented")
    if input.ndim != 4:
        raise RuntimeError(f"grid_sampler(): expected 4D or 5D input and grid with same number of dimensions, but "
                           f"got input with sizes {_lsize(input.shape)} and grid with sizes {_lsize(grid.shape)}")
    if grid.ndim != 4:
        raise RuntimeError(f"grid_sampler(): expected grid to have same number of dimensions as input, but got input "
                           f"with sizes {_lsize(input.shape)} and grid with sizes {_lsize(grid.shape)}")
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, but got input with "
                           f"sizes {_lsize(input.shape)} and grid with sizes {_lsize(grid.shape)}")
    if grid.shape[-1] != 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size 2 in last dimension, but got grid with sizes "
                           f"{_lsize(grid.shape)}")
    if input.dtype != grid.dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid to have same dtype, but input has "
                           f"{input.dtype} and grid has {grid.dtype}")
    return grid_sampler_2d(input, grid, _MODES[mode], _PADS[padding_mode], bool(align_corners))


def _lsize(s) -> str:
    return "[" + ", ".join(str(int(v)) for v in s) + "]"
