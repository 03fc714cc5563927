"""Mirrors the rest of `torch.nn`'s layers that programs use: padding (Reflection/Replication/Zero/Constant/
Circular Pad1d-3d), PixelShuffle/PixelUnshuffle, Upsample/UpsamplingNearest2d/UpsamplingBilinear2d,
InstanceNorm1d-3d, LocalResponseNorm, RReLU, LPPool1d/2d, EmbeddingBag."""
from __future__ import annotations

from typing import Any

from ..._creation import empty
from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module
from .normalization import _BatchNorm
from ..._warn import warn as _warn

__all__ = ["ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
           "ReplicationPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "ConstantPad1d", "ConstantPad2d",
           "ConstantPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d", "PixelShuffle", "ChannelShuffle",
           "PixelUnshuffle", "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d", "InstanceNorm1d",
           "InstanceNorm2d", "InstanceNorm3d", "LocalResponseNorm", "RReLU", "LPPool1d", "LPPool2d",
           "LPPool3d", "EmbeddingBag", "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d", "FractionalMaxPool2d",
           "FractionalMaxPool3d"]


# ----------------------------------------------------------------------------------------------- padding
class _PadNd(Module):
    _mode = "constant"
    _n = 1

    def __init__(self, padding: Any) -> None:
        super().__init__()
        self.padding = tuple(padding) if isinstance(padding, (list, tuple)) else (padding,) * (2 * self._n)

    def forward(self, input: Tensor) -> Tensor:
        """Pad the last dims of `input`."""
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        """Mirrors torch's repr fields."""
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding: Any, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        """Pad the last dims of `input` with `value`."""
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        """Mirrors torch's repr fields."""
        return f"padding={self.padding}, value={self.value}"


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        """Mirrors torch's repr fields."""
        return f"{self.padding}"


def _pad_class(name: str, base: type, mode: str, n: int) -> type:
    doc = f"Mirrors `torch.nn.{name}`."
    return type(name, (base,), {"_mode": mode, "_n": n, "__doc__": doc, "__module__": __name__})


ReflectionPad1d = _pad_class("ReflectionPad1d", _PadNd, "reflect", 1)
ReflectionPad2d = _pad_class("ReflectionPad2d", _PadNd, "reflect", 2)
ReflectionPad3d = _pad_class("ReflectionPad3d", _PadNd, "reflect", 3)
ReplicationPad1d = _pad_class("ReplicationPad1d", _PadNd, "replicate", 1)
ReplicationPad2d = _pad_class("ReplicationPad2d", _PadNd, "replicate", 2)
ReplicationPad3d = _pad_class("ReplicationPad3d", _PadNd, "replicate", 3)
CircularPad1d = _pad_class("CircularPad1d", _PadNd, "circular", 1)
CircularPad2d = _pad_class("CircularPad2d", _PadNd, "circular", 2)
CircularPad3d = _pad_class("CircularPad3d", _PadNd, "circular", 3)
ZeroPad1d = _pad_class("ZeroPad1d", _ZeroPadNd, "constant", 1)
ZeroPad2d = _pad_class("ZeroPad2d", _ZeroPadNd, "constant", 2)
ZeroPad3d = _pad_class("ZeroPad3d", _ZeroPadNd, "constant", 3)
ConstantPad1d = _pad_class("ConstantPad1d", _ConstantPadNd, "constant", 1)
ConstantPad2d = _pad_class("ConstantPad2d", _ConstantPadNd, "constant", 2)
ConstantPad3d = _pad_class("ConstantPad3d", _ConstantPadNd, "constant", 3)


# ----------------------------------------------------------------------------------------------- resampling
class PixelShuffle(Module):
    """Mirrors `torch.nn.PixelShuffle`."""

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input: Tensor) -> Tensor:
        """(*, C·r², H, W) -> (*, C, H·r, W·r)."""
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        """Mirrors torch's repr fields."""
        return f"upscale_factor={self.upscale_factor}"


class ChannelShuffle(Module):
    """Mirrors `torch.nn.ChannelShuffle`."""

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, input: Tensor) -> Tensor:
        return F.channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        """Mirrors torch's repr fields."""
        return f"groups={self.groups}"


class PixelUnshuffle(Module):
    """Mirrors `torch.nn.PixelUnshuffle`."""

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input: Tensor) -> Tensor:
        """(*, C, H·r, W·r) -> (*, C·r², H, W)."""
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        """Mirrors torch's repr fields."""
        return f"downscale_factor={self.downscale_factor}"


class Upsample(Module):
    """Mirrors `torch.nn.Upsample`."""

    def __init__(self, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                 align_corners: bool | None = None, recompute_scale_factor: bool | None = None) -> None:
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:
        """F.interpolate with the stored settings."""
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self) -> str:
        """Mirrors torch's repr fields."""
        info = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        return info + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """Mirrors `torch.nn.UpsamplingNearest2d`."""

    def __init__(self, size: Any = None, scale_factor: Any = None) -> None:
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Mirrors `torch.nn.UpsamplingBilinear2d` (align_corners=True)."""

    def __init__(self, size: Any = None, scale_factor: Any = None) -> None:
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


# ----------------------------------------------------------------------------------------------- normalization
class _InstanceNorm(_BatchNorm):
    _no_batch_dim = 2

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = False,
                 track_running_stats: bool = False, device: Any = None, dtype: Any = None) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)

    def _check_input_dim(self, input: Tensor) -> None:
        dims = (self._no_batch_dim, self._no_batch_dim + 1)
        if input.ndim not in dims:
            raise ValueError(f"expected {dims[0]}D or {dims[1]}D input (got {input.ndim}D input)")

    def forward(self, input: Tensor) -> Tensor:
        """Normalise each (sample, channel) plane on its own."""
        self._check_input_dim(input)
        feature_dim = input.ndim - self._no_batch_dim
        if input.shape[feature_dim] != self.num_features:
            if self.affine:
                raise ValueError(f"expected input's size at dim={feature_dim} to match num_features "
                                 f"({self.num_features}), but got: {input.shape[feature_dim]}.")
            _warn(f"input's size at dim={feature_dim} does not match num_features. You can silence this "
                  "warning by not passing in num_features, which is not used because affine=False",
                  stacklevel=2)
        unbatched = input.ndim == self._no_batch_dim
        x = input.unsqueeze(0) if unbatched else input
        out = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                              self.training or not self.track_running_stats,
                              self.momentum if self.momentum is not None else 0.0, self.eps)
        return out.squeeze(0) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """Mirrors `torch.nn.InstanceNorm1d` over (N, C, L) or (C, L)."""

    _no_batch_dim = 2


class InstanceNorm2d(_InstanceNorm):
    """Mirrors `torch.nn.InstanceNorm2d` over (N, C, H, W) or (C, H, W)."""

    _no_batch_dim = 3


class InstanceNorm3d(_InstanceNorm):
    """Mirrors `torch.nn.InstanceNorm3d` over (N, C, D, H, W) or (C, D, H, W)."""

    _no_batch_dim = 4


class LocalResponseNorm(Module):
    """Mirrors `torch.nn.LocalResponseNorm`."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> None:
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input: Tensor) -> Tensor:
        """Normalise across neighbouring channels."""
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        """Mirrors torch's repr fields."""
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


# ----------------------------------------------------------------------------------------------- activation, pools
class RReLU(Module):
    """Mirrors `torch.nn.RReLU` (random slopes in training, their mean in evaluation)."""

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False) -> None:
        super().__init__()
        self.lower = lower
        self.upper = upper
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        """x for x > 0, slope·x otherwise."""
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self) -> str:
        """Mirrors torch's repr fields."""
        return f"lower={self.lower}, upper={self.upper}" + (", inplace=True" if self.inplace else "")


class _LPPoolNd(Module):
    def __init__(self, norm_type: float, kernel_size: Any, stride: Any = None, ceil_mode: bool = False) -> None:
        super().__init__()
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        """Mirrors torch's repr fields."""
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPoolNd):
    """Mirrors `torch.nn.LPPool1d`."""

    def forward(self, input: Tensor) -> Tensor:
        """The p-norm of each window."""
        return F.lp_pool1d(input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)


class LPPool2d(_LPPoolNd):
    """Mirrors `torch.nn.LPPool2d`."""

    def forward(self, input: Tensor) -> Tensor:
        """The p-norm of each window."""
        return F.lp_pool2d(input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)


class LPPool3d(_LPPoolNd):
    """Mirrors `torch.nn.LPPool3d`."""

    def forward(self, input: Tensor) -> Tensor:
        """The p-norm of each window."""
        return F.lp_pool3d(input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)


# ----------------------------------------------------------------------------------------------- embedding bag
class EmbeddingBag(Module):
    """Mirrors `torch.nn.EmbeddingBag`: sums, means or maxima of bags of embeddings, weight ~ N(0, 1)."""

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm: float | None = None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                 _weight: Tensor | None = None, include_last_offset: bool = False, padding_idx: int | None = None,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        if padding_idx is not None:
            if padding_idx > 0:
                assert padding_idx < num_embeddings, "padding_idx must be within num_embeddings"
            elif padding_idx < 0:
                assert padding_idx >= -num_embeddings, "padding_idx must be within num_embeddings"
                padding_idx = num_embeddings + padding_idx
        self.padding_idx = padding_idx
        if _weight is None:
            self.weight = Parameter(empty((num_embeddings, embedding_dim), dtype=dtype))
            self.reset_parameters()
        else:
            assert list(_weight.shape) == [num_embeddings, embedding_dim], \
                "Shape of weight does not match num_embeddings and embedding_dim"
            self.weight = Parameter(_weight)
        self.mode = mode
        self.sparse = sparse
        self.include_last_offset = include_last_offset

    def reset_parameters(self) -> None:
        """N(0, 1) with the padding row zeroed."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx].fill_(0)

    def forward(self, input: Tensor, offsets: Tensor | None = None,
                per_sample_weights: Tensor | None = None) -> Tensor:
        """One reduced embedding per bag."""
        return F.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type, self.scale_grad_by_freq,
                               self.mode, self.sparse, per_sample_weights, self.include_last_offset,
                               self.padding_idx)

    def extra_repr(self) -> str:
        """Mirrors torch's repr fields."""
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        s += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True, max_norm: float | None = None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                        sparse: bool = False, include_last_offset: bool = False,
                        padding_idx: int | None = None) -> "EmbeddingBag":
        """An EmbeddingBag whose weight is `embeddings` (frozen unless freeze=False)."""
        assert embeddings.dim() == 2, "Embeddings parameter is expected to be 2-dimensional"
        rows, cols = embeddings.shape
        bag = cls(num_embeddings=rows, embedding_dim=cols, _weight=embeddings, max_norm=max_norm,
                  norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq, mode=mode, sparse=sparse,
                  include_last_offset=include_last_offset, padding_idx=padding_idx)
        bag.weight.requires_grad = not freeze
        return bag


# ----------------------------------------------------------------------------------------------- unpooling
class _MaxUnpoolNd(Module):
    _n = 2

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        super().__init__()
        tup = lambda v: tuple(v) if isinstance(v, (list, tuple)) else (v,) * self._n  # noqa: E731
        self.kernel_size = tup(kernel_size)
        self.stride = tup(stride if stride is not None else kernel_size)
        self.padding = tup(padding)

    def forward(self, input: Tensor, indices: Tensor, output_size: Any = None) -> Tensor:
        """Values written back at the max pool's indices (zeros elsewhere)."""
        fn = (F.max_unpool1d, F.max_unpool2d, F.max_unpool3d)[self._n - 1]
        return fn(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        """Mirrors torch's repr fields."""
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """Mirrors `torch.nn.MaxUnpool1d`."""

    _n = 1


class MaxUnpool2d(_MaxUnpoolNd):
    """Mirrors `torch.nn.MaxUnpool2d`."""

    _n = 2


class MaxUnpool3d(_MaxUnpoolNd):
    """Mirrors `torch.nn.MaxUnpool3d`."""

    _n = 3


class _FractionalMaxPoolNd(Module):
    _n = 2

    def __init__(self, kernel_size: Any, output_size: Any = None, output_ratio: Any = None,
                 return_indices: bool = False, _random_samples: Tensor | None = None) -> None:
        super().__init__()
        tup = lambda v: tuple(v) if isinstance(v, (list, tuple)) else (v,) * self._n  # noqa: E731
        self.kernel_size = tup(kernel_size)
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)
        self.output_size = tup(output_size) if output_size is not None else None
        self.output_ratio = tup(output_ratio) if output_ratio is not None else None
        name = type(self).__name__
        if self._n == 3 and any(isinstance(k, int) and k <= 0 for k in self.kernel_size):
            raise ValueError(f"kernel_size must be greater than 0, but got {kernel_size}")
        if output_size is None and output_ratio is None:
            raise ValueError(f"{name} requires specifying either an output size, or a pooling ratio")
        if output_size is not None and output_ratio is not None:
            raise ValueError("only one of output_size and output_ratio may be specified")
        if self.output_ratio is not None and not all(0 < r < 1 for r in self.output_ratio):
            raise ValueError(f"output_ratio must be between 0 and 1 (got {output_ratio})")

    def forward(self, input: Tensor) -> Any:
        """Max over pseudo-randomly placed windows."""
        fn = F.fractional_max_pool2d if self._n == 2 else F.fractional_max_pool3d
        return fn(input, self.kernel_size, self.output_size, self.output_ratio, self.return_indices,
                  _random_samples=self._random_samples)


class FractionalMaxPool2d(_FractionalMaxPoolNd):
    """Mirrors `torch.nn.FractionalMaxPool2d` (pseudo-random window offsets from ndgrad's generator)."""

    _n = 2


class FractionalMaxPool3d(_FractionalMaxPoolNd):
    """Mirrors `torch.nn.FractionalMaxPool3d` (pseudo-random window offsets from ndgrad's generator)."""

    _n = 3
