"""Mirrors `torch.nn`: Linear, Bilinear (and MultiheadAttention's NonDynamicallyQuantizableLinear)."""
from __future__ import annotations

import math
from typing import Any

from ..._creation import empty
from ..._tensor import Tensor
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["Linear", "Bilinear"]


def _uniform_(t: Tensor, bound: float) -> Tensor:
    """Fill `t` in place with U(-bound, bound) from ndgrad's generator (torch's default layer init)."""
    return init.uniform_(t, -bound, bound)


def _weight_and_bias(module: Module, weight_shape: tuple, bias: bool, bias_size: int, device: Any,
                     dtype: Any) -> None:
    """Register `module.weight` (uninitialised, `weight_shape`) and `module.bias` (`bias_size`, or None)."""
    module.weight = Parameter(empty(weight_shape, device=device, dtype=dtype))
    if bias:
        module.bias = Parameter(empty(bias_size, device=device, dtype=dtype))
    else:
        module.register_parameter("bias", None)


def _default_init_(module: Module, zero_bias_when_no_fan_in: bool) -> None:
    """torch's default layer init: kaiming_uniform_(a=√5) on the weight, U(±1/√fan_in) on the bias.

    With fan_in 0 the bias is drawn from U(0, 0) (Linear) or left as it is (convolutions), as torch does.
    """
    init.kaiming_uniform_(module.weight, a=math.sqrt(5))
    if module.bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(module.weight)
        if fan_in > 0:
            _uniform_(module.bias, 1 / math.sqrt(fan_in))
        elif zero_bias_when_no_fan_in:
            _uniform_(module.bias, 0.0)


class Linear(Module):
    """Mirrors `torch.nn.Linear`: y = x Wᵀ + b, W of shape (out_features, in_features)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        _weight_and_bias(self, (out_features, in_features), bias, out_features, device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """kaiming_uniform_(a=√5) on the weight, i.e. U(±1/√fan_in), and the same bound for the bias."""
        _default_init_(self, zero_bias_when_no_fan_in=True)

    def forward(self, input: Tensor) -> Tensor:
        """Apply the affine map."""
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        """Mirrors torch's `in_features=.., out_features=.., bias=..`."""
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class NonDynamicallyQuantizableLinear(Linear):
    """Mirrors `torch.nn.modules.linear.NonDynamicallyQuantizableLinear` (a Linear; the name shows in reprs)."""


class Bilinear(Module):
    """Mirrors `torch.nn.Bilinear`: y_k = x1ᵀ W_k x2 + b_k."""

    def __init__(self, in1_features: int, in2_features: int, out_features: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        _weight_and_bias(self, (out_features, in1_features, in2_features), bias, out_features, device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """U(±1/√in1_features) for weight and bias, as torch."""
        bound = 1 / math.sqrt(self.weight.shape[1]) if self.weight.shape[1] > 0 else 0.0
        _uniform_(self.weight, bound)
        if self.bias is not None:
            _uniform_(self.bias, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        """Apply the bilinear map."""
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        """Mirrors torch's repr fields."""
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
