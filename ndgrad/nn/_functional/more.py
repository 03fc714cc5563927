"""Mirrors the rest of `torch.nn.functional` that programs use: instance_norm, local_response_norm, rrelu,
lp_pool1d/2d, pixel_shuffle/unshuffle, interpolate/upsample*, embedding_bag, grid_sample, affine_grid.

Composites follow torch's own composition (so grad_fn names agree): instance_norm is a batch norm over the
(1, N*C, ...) view, local_response_norm an average pool of squares, lp_pool an average pool of powers. Pixel
shuffles and upsampling are ops of `ndgrad/_ops/sampling.py`, rrelu and embedding_bag of `_ops/nn_extra.py`.
"""
from __future__ import annotations

import math
from typing import Any

from ..._ops import conv as _C
from ..._ops.grid import affine_grid, grid_sample
from ..._ops.unpool import fractional_max_pool2d, fractional_max_pool3d
from ..._ops.unpool import max_unpool as _unpool
from ..._ops import nn_extra as _X
from ..._ops import sampling as _S
from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from .activation import relu as _relu
from .layers import batch_norm
from ..._warn import warn as _warn

__all__: list[str] = ["instance_norm", "local_response_norm", "rrelu", "rrelu_", "lp_pool1d", "lp_pool2d", "lp_pool3d",
                      "pixel_shuffle", "pixel_unshuffle", "interpolate", "upsample", "upsample_nearest",
                      "upsample_bilinear", "embedding_bag", "grid_sample", "affine_grid", "max_unpool1d",
                      "max_unpool2d", "max_unpool3d", "fractional_max_pool2d",
                      "fractional_max_pool3d", "pdist", "channel_shuffle", "native_channel_shuffle", "prelu",
                      "gumbel_softmax"]


# ----------------------------------------------------------------------------------------------- normalization
def instance_norm(input: Tensor, running_mean: Tensor | None = None, running_var: Tensor | None = None,
                  weight: Tensor | None = None, bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Mirrors `torch.nn.functional.instance_norm`: each (sample, channel) plane normalised on its own; running
    statistics (when given) move towards the batch average of the per-instance ones."""
    if use_input_stats:
        shape = tuple(input.shape)
        size = 1
        for s in shape[2:]:
            size *= s
        if size == 1:
            raise ValueError(f"Expected more than 1 spatial element when training, got input size {input.size()!r}")
    n, c = input.shape[0], input.shape[1]
    x = input.reshape((1, n * c) + tuple(input.shape[2:]))
    w = weight.repeat(n) if weight is not None else None
    b = bias.repeat(n) if bias is not None else None
    rm = running_mean.repeat(n) if running_mean is not None else None
    rv = running_var.repeat(n) if running_var is not None else None
    out = batch_norm(x, rm, rv, w, b, use_input_stats, momentum, eps)
    with no_grad():
        if running_mean is not None:
            running_mean.copy_(rm.reshape(n, c).mean(0))
        if running_var is not None:
            running_var.copy_(rv.reshape(n, c).mean(0))
    return out.view(tuple(input.shape))


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> Tensor:
    """Mirrors `torch.nn.functional.local_response_norm`: input / (k + alpha·mean of squares over `size`
    neighbouring channels)^beta."""
    dim = input.ndim
    if dim < 3:
        raise ValueError("Expected 3D or higher dimensionality" + " " * 26 +  # torch's text has these spaces
                         f"input (got {dim} dimensions)")
    if input.numel() == 0:
        return input
    div = input.mul(input)
    from .. import functional as F
    if dim == 3:
        div = div.unsqueeze(1)
        div = F.pad(div, (0, 0, size // 2, (size - 1) // 2))
        div = F.avg_pool2d(div, (size, 1), stride=1).squeeze(1)
    else:
        sizes = tuple(input.shape)
        div = div.reshape(sizes[0], 1, sizes[1], -1)
        div = F.pad(div, (0, 0, size // 2, (size - 1) // 2))
        div = F.avg_pool2d(div, (size, 1), stride=1).squeeze(1)
        div = div.reshape(sizes)
    div = div.mul(alpha).add(k).pow(beta)
    return input / div


# ----------------------------------------------------------------------------------------------- rrelu
def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """Mirrors `torch.nn.functional.rrelu`: negative inputs scaled by a slope drawn from U(lower, upper) per
    element in training (ndgrad's generator, not torch's stream), by (lower + upper)/2 in evaluation."""
    return _X.rrelu(input, lower, upper, training, inplace)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False) -> Tensor:
    """Mirrors `torch.nn.functional.rrelu_` (in place)."""
    return rrelu(input, lower, upper, training, inplace=True)


# ----------------------------------------------------------------------------------------------- lp pooling
def _pair(v: Any) -> tuple:
    return tuple(v) if isinstance(v, (list, tuple)) else (v, v)


def lp_pool2d(input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """Mirrors `torch.nn.functional.lp_pool2d`: (sum over each window of x^p)^(1/p)."""
    kw, kh = _pair(kernel_size)
    if stride is not None:
        out = _C.avg_pool2d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    else:
        out = _C.avg_pool2d(input.pow(norm_type), kernel_size, padding=0, ceil_mode=ceil_mode)
    return (out.sign() * _relu(out.abs())).mul(kw * kh).pow(1.0 / norm_type)


def lp_pool1d(input: Tensor, norm_type: float, kernel_size: int, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """Mirrors `torch.nn.functional.lp_pool1d`."""
    if stride is not None:
        out = _C.avg_pool1d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    else:
        out = _C.avg_pool1d(input.pow(norm_type), kernel_size, padding=0, ceil_mode=ceil_mode)
    return (out.sign() * _relu(out.abs())).mul(kernel_size).pow(1.0 / norm_type)


def lp_pool3d(input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """Mirrors `torch.nn.functional.lp_pool3d`."""
    from ..._ops.pool3d import avg_pool3d
    kd, kh, kw = tuple(kernel_size) if isinstance(kernel_size, (list, tuple)) else (kernel_size,) * 3
    if stride is not None:
        out = avg_pool3d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    else:
        out = avg_pool3d(input.pow(norm_type), kernel_size, padding=0, ceil_mode=ceil_mode)
    return (out.sign() * _relu(out.abs())).mul(kd * kh * kw).pow(1.0 / norm_type)


# ----------------------------------------------------------------------------------------------- pixel shuffle
def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """Mirrors `torch.nn.functional.pixel_shuffle`: (*, C·r², H, W) -> (*, C, H·r, W·r)."""
    if input.ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.ndim} dimension(s)")
    r = int(upscale_factor)
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    c = input.shape[-3]
    if c % (r * r):
        raise RuntimeError("pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                           f"upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    return _S.pixel_shuffle_op(input, r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """Mirrors `torch.nn.functional.pixel_unshuffle`: (*, C, H·r, W·r) -> (*, C·r², H, W)."""
    if input.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.ndim} dimension(s)")
    r = int(downscale_factor)
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    h, w = input.shape[-2], input.shape[-1]
    if h % r:
        raise RuntimeError(f"pixel_unshuffle expects height to be divisible by downscale_factor, but "
                           f"input.size(-2)={h} is not divisible by {r}")
    if w % r:
        raise RuntimeError(f"pixel_unshuffle expects width to be divisible by downscale_factor, but "
                           f"input.size(-1)={w} is not divisible by {r}")
    return _S.pixel_unshuffle_op(input, r)


# ----------------------------------------------------------------------------------------------- interpolate
_NEEDS = {"linear": 3, "bilinear": 4, "trilinear": 5}


def interpolate(input: Tensor, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Mirrors `torch.nn.functional.interpolate` (modes nearest, nearest-exact, linear, bilinear, bicubic,
    trilinear, area; align_corners, scale_factor, recompute_scale_factor, antialias for bilinear/bicubic)."""
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    dim = input.ndim - 2
    spatial = list(input.shape[2:])
    output_size = None
    scale_factors = None
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError("Input and output must have the same number of spatial dimensions, but got input "
                                 f"with spatial dimensions of {spatial} and output size of {size}. Please provide "
                                 "input tensor in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) "
                                 "format.")
            output_size = [int(s) for s in size]
        else:
            output_size = [int(size)] * dim
    elif scale_factor is not None:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ValueError("Input and scale_factor must have the same number of spatial dimensions, but got "
                                 f"input with spatial dimensions of {spatial} and scale_factor of shape "
                                 f"{scale_factor}. Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                                 "scale_factor in (s1, s2, ...,sK) format.")
            scale_factors = [float(s) for s in scale_factor]
        else:
            scale_factors = [float(scale_factor)] * dim
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if mode == "area" and output_size is None:
        recompute_scale_factor = True
    if recompute_scale_factor:
        output_size = [math.floor(float(spatial[i]) * scale_factors[i]) for i in range(dim)]
        scale_factors = None
    if antialias and not (mode in ("bilinear", "bicubic") and input.ndim == 4):
        raise ValueError("Anti-alias option is restricted to bilinear and bicubic modes and requires a 4-D tensor "
                         "as input")
    ok_dims = {"nearest": (3, 4, 5), "nearest-exact": (3, 4, 5), "area": (3, 4, 5), "linear": (3,),
               "bilinear": (4,), "trilinear": (5,), "bicubic": (4,)}
    if mode not in ok_dims or input.ndim not in ok_dims[mode]:
        if mode in _NEEDS and input.ndim in (3, 4, 5):
            raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs {_NEEDS[mode]}D input")
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for "
                                  "the modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | area | "
                                  f"nearest-exact (got {mode})")
    if output_size is None:
        if not all(math.isfinite(spatial[i] * scale_factors[i]) for i in range(dim)):
            raise RuntimeError("value cannot be converted to type int64_t without overflow")
        output_size = [math.floor(spatial[i] * scale_factors[i]) for i in range(dim)]
    if any(s <= 0 for s in output_size) or any(s <= 0 for s in spatial):
        labels = ("D", "H", "W")[3 - dim:]
        fmt = lambda v: ", ".join(f"{a}: {b}" for a, b in zip(labels, v))  # noqa: E731
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input ({fmt(spatial)}) output "
                           f"({fmt(output_size)})")
    if mode == "area":
        if dim == 1:
            return _C.adaptive_avg_pool1d(input, output_size)
        if dim == 2:
            return _C.adaptive_avg_pool2d(input, output_size)
        from ..._ops.pool3d import adaptive_avg_pool3d
        return adaptive_avg_pool3d(input, output_size)
    scales = tuple(1.0 / s for s in scale_factors) if scale_factors is not None else (None,) * dim
    return _S.upsample(input, mode, tuple(output_size), scales, bool(align_corners), bool(antialias))


def upsample(input: Tensor, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
             align_corners: bool | None = None) -> Tensor:
    """Mirrors the deprecated `torch.nn.functional.upsample` (interpolate, with a warning)."""
    _warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    """Mirrors the deprecated `torch.nn.functional.upsample_nearest`."""
    _warn("`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.",
          stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    """Mirrors the deprecated `torch.nn.functional.upsample_bilinear` (align_corners=True)."""
    _warn("`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.",
          stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None, max_norm: float | None = None,
                  norm_type: float = 2, scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """Mirrors `torch.nn.functional.embedding_bag`: sums, means or maxima of bags of embedding rows."""
    return _X.embedding_bag_fn(input, weight, offsets, max_norm, norm_type, scale_grad_by_freq, mode, sparse,
                               per_sample_weights, include_last_offset, padding_idx)


# ----------------------------------------------------------------------------------------------- unpooling
def max_unpool1d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 output_size: Any = None) -> Tensor:
    """Mirrors `torch.nn.functional.max_unpool1d`: values written back at max_pool1d's indices."""
    return _unpool(input, indices, kernel_size, stride, padding, output_size, 1)


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 output_size: Any = None) -> Tensor:
    """Mirrors `torch.nn.functional.max_unpool2d`."""
    return _unpool(input, indices, kernel_size, stride, padding, output_size, 2)


def max_unpool3d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 output_size: Any = None) -> Tensor:
    """Mirrors `torch.nn.functional.max_unpool3d`."""
    return _unpool(input, indices, kernel_size, stride, padding, output_size, 3)



# ----------------------------------------------------------------------------------------------- torch's aliases
def pdist(input: Tensor, p: float = 2) -> Tensor:
    """Mirrors `torch.nn.functional.pdist` (torch.pdist)."""
    from ..._ops.misc import pdist as _pdist
    return _pdist(input, p)


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """Mirrors `torch.nn.functional.channel_shuffle` (torch.channel_shuffle)."""
    from ..._ops.misc import channel_shuffle as _shuffle
    return _shuffle(input, groups)


native_channel_shuffle = channel_shuffle


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """Mirrors `torch.nn.functional.prelu` (torch.prelu)."""
    from ... import prelu as _prelu
    return _prelu(input, weight)


def gumbel_softmax(logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10, dim: int = -1) -> Tensor:
    """Mirrors `torch.nn.functional.gumbel_softmax`, with torch's steps (so torch's draws and nodes): Gumbel noise
    -log(Exp(1)), softmax((logits + noise) / tau); `hard`: the one-hot of the largest, with the soft sample's
    gradient (straight-through)."""
    if eps != 1e-10:
        _warn("`eps` parameter is deprecated and has no effect.", UserWarning, stacklevel=2)
    from ... import empty_like, zeros_like
    gumbels = -empty_like(logits).exponential_().log()
    gumbels = (logits + gumbels) / tau
    y_soft = gumbels.softmax(dim)
    if not hard:
        return y_soft
    index = y_soft.max(dim, keepdim=True)[1]
    y_hard = zeros_like(logits).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft
