"""Mirrors `torch.nn.utils.fusion`: fold an eval-mode BatchNorm into the preceding Conv or Linear layer.

With s = γ / sqrt(running_var + eps): W' = W · s (per output channel), b' = (b − running_mean) · s + β.
"""
from __future__ import annotations

import copy
from typing import Any, TypeVar

from ..._tensor import Tensor
from ..parameter import Parameter

__all__ = ["fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval", "fuse_linear_bn_weights"]

M = TypeVar("M")


def fuse_conv_bn_weights(conv_w: Tensor, conv_b: Tensor | None, bn_rm: Tensor, bn_rv: Tensor, bn_eps: float,
                         bn_w: Tensor | None, bn_b: Tensor | None,
                         transpose: bool = False) -> tuple[Parameter, Parameter]:
    """Fused (weight, bias) of a convolution followed by batch norm. Mirrors `fuse_conv_bn_weights`."""
    from ... import ones_like, rsqrt, zeros_like
    w_dtype = conv_w.dtype
    b_dtype = conv_b.dtype if conv_b is not None else w_dtype
    conv_b = zeros_like(bn_rm) if conv_b is None else conv_b
    bn_w = ones_like(bn_rm) if bn_w is None else bn_w
    bn_b = zeros_like(bn_rm) if bn_b is None else bn_b
    inv_std = rsqrt(bn_rv + bn_eps)
    extra = [1] * (conv_w.dim() - 2)
    shape = [1, -1] + extra if transpose else [-1, 1] + extra
    w = (conv_w * (bn_w * inv_std).reshape(shape)).to(dtype=w_dtype)
    b = ((conv_b - bn_rm) * inv_std * bn_w + bn_b).to(dtype=b_dtype)
    return Parameter(w, conv_w.requires_grad), Parameter(b, conv_b.requires_grad)


def fuse_conv_bn_eval(conv: M, bn: Any, transpose: bool = False) -> M:
    """A copy of `conv` with `bn` folded in (both must be in eval mode). Mirrors `fuse_conv_bn_eval`."""
    assert not (conv.training or bn.training), "Fusion only for eval!"  # type: ignore[attr-defined]
    fused = copy.deepcopy(conv)
    assert bn.running_mean is not None and bn.running_var is not None
    fused.weight, fused.bias = fuse_conv_bn_weights(  # type: ignore[attr-defined]
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias,  # type: ignore
        transpose)
    return fused


def fuse_linear_bn_weights(linear_w: Tensor, linear_b: Tensor | None, bn_rm: Tensor, bn_rv: Tensor,
                           bn_eps: float, bn_w: Tensor, bn_b: Tensor) -> tuple[Parameter, Parameter]:
    """Fused (weight, bias) of a linear layer followed by batch norm. Mirrors `fuse_linear_bn_weights`."""
    from ... import rsqrt, zeros_like
    w_dtype = linear_w.dtype
    b_dtype = linear_b.dtype if linear_b is not None else w_dtype
    linear_b = zeros_like(bn_rm) if linear_b is None else linear_b
    scale = bn_w * rsqrt(bn_rv + bn_eps)
    w = linear_w * scale.unsqueeze(-1).to(dtype=w_dtype)
    b = ((linear_b - bn_rm) * scale + bn_b).to(dtype=b_dtype)
    return Parameter(w, linear_w.requires_grad), Parameter(b, linear_b.requires_grad)


def fuse_linear_bn_eval(linear: M, bn: Any) -> M:
    """A copy of `linear` with `bn` folded in (both must be in eval mode). Mirrors `fuse_linear_bn_eval`."""
    assert not (linear.training or bn.training), "Fusion only for eval!"  # type: ignore[attr-defined]
    fused = copy.deepcopy(linear)
    out_features = linear.out_features  # type: ignore[attr-defined]
    assert out_features == bn.num_features or bn.num_features == 1, (
        "To fuse, linear.out_features == bn.num_features or bn.num_features == 1, got "
        f"linear.out_features={out_features} and bn.num_features={bn.num_features}")
    assert bn.running_mean is not None and bn.running_var is not None
    fused.weight, fused.bias = fuse_linear_bn_weights(  # type: ignore[attr-defined]
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias)  # type: ignore
    return fused
