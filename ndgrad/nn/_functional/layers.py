"""Mirrors part of `torch.nn.functional`: linear, bilinear, dropout, normalization, embedding, one_hot.

Everything is composed from ndgrad ops except `_addmm` (bias + mat1 @ mat2, torch's `AddmmBackward0`): the
2-D `linear` with a bias is on the hot path of every MLP, and one node instead of two (mm, add) pays there.
"""
from __future__ import annotations

import math
from typing import Sequence


import numpy as np

from ... import _ops as O
from ..._ops import normalization as _N
from ..._creation import arange, rand, zeros
from ..._ops.linalg import addmm as _addmm
from ..._ops.linalg import mm
from ..._ops.shape import t as _t_op
from ..._tensor import Tensor, _wrap
from ...autograd.grad_mode import no_grad
from ..._warn import warn as _warn

__all__ = ["linear", "bilinear", "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
           "feature_alpha_dropout", "batch_norm", "layer_norm", "group_norm", "embedding", "one_hot"]

_TN = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
       "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """Mirrors `torch.nn.functional.linear`: input @ weight.T + bias."""
    if bias is None:
        if input.ndim == 2 and weight.ndim == 2:
            return mm(input, _t_op(weight))
        return O.matmul(input, _t_op(weight) if weight.ndim == 2 else weight)
    if input.ndim == 2 and weight.ndim == 2:
        return _addmm(bias, input, _t_op(weight), 1, 1)
    if weight.ndim == 2 and input.ndim > 0 and bias.ndim <= 1:
        lead = tuple(input.shape[:-1])
        out = _addmm(bias, O.reshape(input, (-1, input.shape[-1])), _t_op(weight), 1, 1)
        return O.reshape(out, lead + (weight.shape[0],))
    return O.matmul(input, _t_op(weight) if weight.ndim == 2 else weight) + bias


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """Mirrors `torch.nn.functional.bilinear`: y_k = x1ᵀ W_k x2 + b_k."""
    from ..._tensor import _size_at
    _size_at(weight, 1)  # torch reads it first
    if input1.ndim != input2.ndim:
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {input1.ndim} and {input2.ndim}")
    for i in range(input1.ndim - 1):
        if input1.shape[i] != input2.shape[i]:
            raise RuntimeError(f"bilinear(): input batch dimensions do not match: got {tuple(input1.shape)} "
                               f"and {tuple(input2.shape)}")
    if weight.ndim != 3:
        raise RuntimeError(f"bilinear(): weight must be three-dimensional, got {weight.ndim}")
    if input1.shape[-1] != weight.shape[1]:
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got {input1.shape[-1]} but "
                           f"expected {weight.shape[1]}")
    if input2.shape[-1] != weight.shape[2]:
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got {input2.shape[-1]} but "
                           f"expected {weight.shape[2]}")
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != weight.shape[0]):
        raise RuntimeError(f"bilinear(): bias size does not match weight size: got "
                           f"{bias.shape[0] if bias.ndim else 0} but expected {weight.shape[0]}")
    out = O.einsum("...i,oij,...j->...o", input1, weight, input2)
    return out + bias if bias is not None else out


# -- dropout -------------------------------------------------------------------------------------------------
def _check_p(p: float) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if p != p:  # NaN passes torch's Python check and fails in its kernel
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")


def _dropout_mask(input: Tensor, p: float, shape: Sequence[int]) -> Tensor:
    """Keep-mask scaled by 1/(1-p) in the input's dtype: torch's bernoulli_(1 - p) on its stream."""
    if p == 1.0:
        return zeros(tuple(shape), dtype=input.dtype)
    from ..._creation import _gen, from_numpy
    keep = from_numpy(_gen(None)._torch_bernoulli(tuple(shape), 1.0 - p))
    return keep.to(input.dtype) * (1.0 / (1.0 - p))


def _apply_mask(input: Tensor, mask: Tensor, inplace: bool) -> Tensor:
    return input.mul_(mask) if inplace else input * mask


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Mirrors `torch.nn.functional.dropout` (the mask comes from ndgrad's generator, not torch's stream)."""
    _check_p(p)
    if not training or p == 0.0:
        return input
    return _apply_mask(input, _dropout_mask(input, p, tuple(input.shape)), inplace)


def _feature_dropout(input: Tensor, p: float, training: bool, inplace: bool, nd: int, name: str) -> Tensor:
    _check_p(p)
    if nd == 2 and input.ndim == 3:  # torch: (N, C, L), channel-wise 1-D dropout, with a warning
        _warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior is "
              "desired - input is interpreted as shape (N, C, L), where C is the channel dim. This behavior will "
              "change in a future release to interpret the input as one without a batch dimension, i.e. shape "
              "(C, H, W). To maintain the 1D channel-wise dropout behavior, please switch to using dropout1d "
              "instead.", stacklevel=3)
        if not training or p == 0.0:
            return input
        return _apply_mask(input, _dropout_mask(input, p, tuple(input.shape[:2]) + (1,)), inplace)
    if input.ndim not in (nd + 1, nd + 2) and nd > 1:  # torch warns (deprecated), then drops channels of dim 1
        _warn(f"{name}: Received a {input.ndim}-D input to {name}, which is deprecated and will result in an "
              f"error in a future release. To retain the behavior and silence this warning, please use dropout "
              f"instead. Note that {name} exists to provide channel-wise dropout on inputs with {nd} spatial "
              f"dimensions, a channel dimension, and an optional batch dimension (i.e. {nd + 1}D or {nd + 2}D "
              "inputs).", stacklevel=3)
        x = input.unsqueeze(0) if nd == 3 and input.ndim != nd + 2 else input
        if x.ndim < 2:
            raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
        if not training or p == 0.0:
            return input
        mask = _dropout_mask(x, p, tuple(x.shape[:2]) + (1,) * (x.ndim - 2))
        return _apply_mask(input, mask.reshape(tuple(mask.shape[1:])) if x is not input else mask, inplace)
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}: Expected {nd + 1}D or {nd + 2}D input, but received a {input.ndim}D input. "
                           f"Note that {name} exists to provide channel-wise dropout on inputs with {nd} spatial "
                           f"dimension{'s' if nd > 1 else ''}, a channel dimension, and an optional batch dimension "
                           f"(i.e. {nd + 1}D or {nd + 2}D inputs).")
    if not training or p == 0.0:
        return input
    batched = input.ndim == nd + 2
    lead = tuple(input.shape[:2]) if batched else tuple(input.shape[:1])
    shape = lead + (1,) * nd
    return _apply_mask(input, _dropout_mask(input, p, shape), inplace)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Mirrors `torch.nn.functional.dropout1d`: zeroes whole channels of (N, C, L) or (C, L) input."""
    return _feature_dropout(input, p, training, inplace, 1, "dropout1d")


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Mirrors `torch.nn.functional.dropout2d`: zeroes whole channels of (N, C, H, W) or (C, H, W) input."""
    return _feature_dropout(input, p, training, inplace, 2, "dropout2d")


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Mirrors `torch.nn.functional.dropout3d`: zeroes whole channels of (N, C, D, H, W) or (C, D, H, W) input."""
    return _feature_dropout(input, p, training, inplace, 3, "dropout3d")


_SELU_ALPHA = 1.7580993408473766  # SELU's scale * alpha: dropped units are set to SELU's negative saturation


def _alpha_dropout(input: Tensor, p: float, training: bool, inplace: bool, shape: Sequence[int],
                   feature: bool = False) -> Tensor:
    _check_p(p)
    if feature and training and input.ndim < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    if p == 0.0 or not training or input.numel() == 0:
        return input
    if p == 1.0:
        return _apply_mask(input, zeros(tuple(shape), dtype=input.dtype), inplace)
    a = 1.0 / math.sqrt((_SELU_ALPHA * _SELU_ALPHA * p + 1) * (1 - p))
    keep = (rand(*shape, dtype=input.dtype) >= p).to(input.dtype)
    b = (keep - 1) * (_SELU_ALPHA * a) + _SELU_ALPHA * a * p
    noise = keep * a
    return input.mul_(noise).add_(b) if inplace else input * noise + b


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Mirrors `torch.nn.functional.alpha_dropout` (keeps zero mean and unit variance for SELU networks)."""
    return _alpha_dropout(input, p, training, inplace, tuple(input.shape))


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Mirrors `torch.nn.functional.feature_alpha_dropout` (whole channels of (N, C, ...) input)."""
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    return _alpha_dropout(input, p, training, inplace, shape, feature=True)


# -- normalization -------------------------------------------------------------------------------------------
def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Mirrors `torch.nn.functional.batch_norm`; in training, running stats are updated in place (unbiased var)."""
    if input.ndim < 2:
        raise ValueError(f"Expected 2D or higher input (got {input.ndim}D input)")  # torch fails less clearly
    if training and (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must either both be None or neither be None")
    c = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        if t is not None and t.numel() != c:
            raise RuntimeError(f"{name} should contain {c} elements not {t.numel()}")
    if training:
        n = input.numel() // c if c else 0
        if n == 1:  # (an empty batch passes, as in torch)
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {input.shape}")
        if running_mean is not None or running_var is not None:
            dims = (0,) + tuple(range(2, input.ndim))
            x = input._data
            mean = x.mean(axis=dims)
            with no_grad():
                if running_mean is not None:
                    running_mean.mul_(1 - momentum).add_(_wrap(np.asarray(mean)).to(running_mean.dtype) * momentum)
                if running_var is not None:
                    unbiased = x.var(axis=dims) * (n / (n - 1))
                    running_var.mul_(1 - momentum).add_(_wrap(np.asarray(unbiased)).to(running_var.dtype) * momentum)
        return _N.native_batch_norm(input, weight, bias, None, None, True, eps)
    if running_mean is None:
        raise RuntimeError("running_mean must be defined in evaluation mode")
    if running_var is None:
        raise RuntimeError("running_var must be defined in evaluation mode")
    return _N.native_batch_norm(input, weight, bias, running_mean._data, running_var._data, False, eps)


def _shape_list(s: Sequence[int]) -> str:
    return "[" + ", ".join(str(int(v)) for v in s) + "]"


def layer_norm(input: Tensor, normalized_shape: Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Mirrors `torch.nn.functional.layer_norm` over the last len(normalized_shape) dims."""
    ns = (int(normalized_shape),) if isinstance(normalized_shape, int) else tuple(int(s) for s in normalized_shape)
    k = len(ns)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k:]) != ns:
        raise RuntimeError(f"Given normalized_shape={_shape_list(ns)}, expected input with shape "
                           f"[*, {', '.join(map(str, ns))}], but got input of size{_shape_list(input.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != ns:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got {name} of shape "
                               f"{_shape_list(t.shape)} and normalized_shape = {_shape_list(ns)}")
    return _N.native_layer_norm(input, weight, bias, k, eps)


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Mirrors `torch.nn.functional.group_norm`: normalise over groups of channels (and the spatial dims)."""
    if input.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.ndim}")
    n, c = input.shape[0], input.shape[1]
    if c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input of "
                           f"shape {_shape_list(input.shape)} and num_groups={num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t.ndim != 1 or t.numel() != c):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of channels in input, "
                               f"but got {name} of shape {_shape_list(t.shape)} and input of shape "
                               f"{_shape_list(input.shape)}")
    return _N.native_group_norm(input, weight, bias, num_groups, eps)


# -- embedding -----------------------------------------------------------------------------------------------
def _renorm_rows(weight: Tensor, idx: Tensor, max_norm: float, norm_type: float) -> None:
    """torch's embedding_renorm_: rows used by idx whose norm exceeds max_norm are scaled down in place."""
    with no_grad():
        rows = O.unique(idx.reshape(-1)).long()
        sel = O.index_select(weight, 0, rows)
        norms = O.norm(sel, norm_type, 1, keepdim=True)
        scale = O.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        weight.index_copy_(0, rows, sel * scale)


def _padding_index(padding_idx: int | None, num_embeddings: int) -> int | None:
    """`padding_idx` checked to lie within the table and made non-negative, as torch's Embedding does."""
    if padding_idx is not None:
        if padding_idx > 0:
            assert padding_idx < num_embeddings, "Padding_idx must be within num_embeddings"
        elif padding_idx < 0:
            assert padding_idx >= -num_embeddings, "Padding_idx must be within num_embeddings"
            padding_idx = num_embeddings + padding_idx
    return padding_idx


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Mirrors `torch.nn.functional.embedding` (rows of `weight`; no gradient reaches row `padding_idx`)."""
    if input.dtype.is_floating_point or input.dtype.is_complex or str(input.dtype) == "torch.bool":
        tn = _TN.get(str(input.dtype).replace("torch.", ""), "Float")
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got torch.{tn}Tensor instead (while checking arguments for embedding)")
    if weight.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    num = weight.shape[0]
    padding_idx = _padding_index(padding_idx, num)
    if num == 0:
        raise RuntimeError("index_select(): self indexing axis dim should be positive")
    flat = input.reshape(-1)
    if str(flat.dtype) != "torch.int64":
        flat = flat.long()
    from ..._ops.indexing import _outside
    if _outside(flat._data, 0, num) is not None:
        raise IndexError("index out of range in self")
    if max_norm is not None:
        _renorm_rows(weight, input, max_norm, norm_type)
    idx = input._data if input._data.dtype == np.int64 else input._data.astype(np.int64)
    return _N.embedding(weight, idx, padding_idx, bool(scale_grad_by_freq))


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Mirrors `torch.nn.functional.one_hot` (int64 result with a new last dim)."""
    if str(tensor.dtype) != "torch.int64":
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if tensor.numel() == 0:
        if num_classes <= 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        n = num_classes
    else:
        lo, hi = int(tensor.min()), int(tensor.max())
        if lo < 0:
            raise RuntimeError("Class values must be non-negative.")
        if num_classes == -1:
            n = hi + 1
        else:
            if hi >= num_classes:
                raise RuntimeError("Class values must be smaller than num_classes.")
            n = num_classes
    classes = arange(n)
    return (tensor.unsqueeze(-1) == classes).long()
