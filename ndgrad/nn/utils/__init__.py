"""Mirrors `torch.nn.utils`: gradient clipping, parameters <-> vector, weight_norm and spectral_norm (hook and
parametrization forms), parametrize, rnn (PackedSequence and padding helpers)."""
from __future__ import annotations

from typing import Any

from . import clip_grad, convert_parameters, fusion, parametrizations, parametrize, rnn
from . import spectral_norm as _spectral_norm_mod, weight_norm as _weight_norm_mod  # noqa: F401
from .clip_grad import clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm
from .convert_parameters import parameters_to_vector, vector_to_parameters
from .fusion import fuse_conv_bn_eval, fuse_conv_bn_weights, fuse_linear_bn_eval, fuse_linear_bn_weights
from .spectral_norm import remove_spectral_norm, spectral_norm
from .weight_norm import remove_weight_norm, weight_norm
from ..._warn import warn as _warn

__all__ = ["parametrizations", "parametrize", "rnn", "clip_grad_norm", "clip_grad_norm_", "clip_grad_value_",
           "clip_grads_with_norm_", "get_total_norm", "parameters_to_vector", "vector_to_parameters", "weight_norm",
           "remove_weight_norm", "spectral_norm", "remove_spectral_norm", "fuse_conv_bn_eval", "fuse_conv_bn_weights",
           "fuse_linear_bn_eval", "fuse_linear_bn_weights"]


def clip_grad_norm(parameters: Any, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach: bool | None = None) -> Any:
    """Deprecated alias of `clip_grad_norm_` (warns FutureWarning, as torch)."""
    _warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of `torch.nn.utils.clip_grad_norm_`.",
          FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)
