"""rrelu (RreluWithNoiseBackward0/1) and embedding_bag (EmbeddingBagBackward0).

- `rrelu_with_noise(self, noise)`: x·noise, with `noise` the per-element slope (1 where x > 0) drawn by
  `nn.functional.rrelu` in training, (lower + upper)/2 in evaluation; its derivative multiplies by the same noise.
- `embedding_bag(weight, per_sample_weights, ...)`: sums, means or maxima of bags of rows. Its formulas are
  written with the embedding ops of `normalization.py` and indexing's gather, so they are differentiable again.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._addat import add_at
from .._creation import rand
from .._tensor import Tensor, _wrap
from ._registry import NONE, SAME, Op
from .indexing import gather_backward
from .normalization import embedding as _emb
from .normalization import embedding_backward as _emb_back
from .reduction import sum_dim

__all__: list = []
METHODS: dict = {}

_TN = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
       "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _const(a, like):
    return _wrap(np.asarray(a)) if isinstance(like, Tensor) else a


# ----------------------------------------------------------------------------------------------- rrelu
def _rrelu_fwd(self, noise):
    return (self * noise).astype(self.dtype, copy=False)


def _rrelu_grad(grad, noise):
    return grad * _const(noise, grad)


rrelu_op = Op("rrelu_with_noise", _rrelu_fwd, ("self",), ("noise",), node="RreluWithNoiseBackward0", dtype=SAME)
rrelu_op.defvjp(self=_rrelu_grad)
rrelu_op.defjvp(linear=True)
rrelu_inplace_op = Op("rrelu_with_noise_", _rrelu_fwd, ("self",), ("noise",), node="RreluWithNoiseBackward1",
                      dtype=SAME)
rrelu_inplace_op.defvjp(self=_rrelu_grad)
rrelu_inplace_op.defjvp(linear=True)


def rrelu(input: Tensor, lower: float, upper: float, training: bool, inplace: bool = False) -> Tensor:
    x = input._data
    if not math.isfinite(lower):
        raise RuntimeError(f"rrelu: lower bound must be finite, got {lower}")
    if not math.isfinite(upper):
        raise RuntimeError(f"rrelu: upper bound must be finite, got {upper}")
    if not lower <= upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    if x.dtype.kind != "f":
        raise NotImplementedError(f'"rrelu_with_noise_cpu" not implemented for \'{_TN.get(str(x.dtype))}\'')
    if training:
        slopes = rand(*x.shape, dtype=input.dtype)._data * (upper - lower) + lower
    else:
        slopes = np.full(x.shape, (lower + upper) / 2, x.dtype)
    noise = np.where(x > 0, 1, slopes).astype(x.dtype)
    if inplace:
        input._check_inplace()
        return input._set_inplace(rrelu_inplace_op(input, noise))
    return rrelu_op(input, noise)


# ----------------------------------------------------------------------------------------------- embedding bag
def _bag_parts(indices, bags, nbags, padding_idx):
    keep = indices != padding_idx if padding_idx is not None else np.ones(indices.shape, bool)
    counts = np.bincount(bags[keep], minlength=nbags)
    return keep, counts


def _max_arg(weight, indices, bags, nbags, keep):
    """Per (bag, column): the row of the maximum (the first one in the bag), and whether the bag is empty."""
    d = weight.shape[1]
    best = np.full((nbags, d), -np.inf)
    arg = np.zeros((nbags, d), np.int64)
    for pos in np.nonzero(keep)[0]:  # bags are short: one vector step per position
        row = weight[indices[pos]]
        b = bags[pos]
        better = row > best[b]
        best[b] = np.where(better, row, best[b])
        arg[b] = np.where(better, indices[pos], arg[b])
    return arg


def _bag_fwd(weight, per_sample_weights, indices, bags, nbags, mode, padding_idx, scale_grad_by_freq):
    d = weight.shape[1]
    keep, counts = _bag_parts(indices, bags, nbags, padding_idx)
    if mode == "max":
        arg = _max_arg(weight, indices, bags, nbags, keep)
        out = np.take_along_axis(weight, arg, axis=0) if weight.shape[0] else np.zeros((nbags, d), weight.dtype)
        return np.where(counts[:, None] > 0, out, 0).astype(weight.dtype)
    rows = weight[indices[keep]]
    if per_sample_weights is not None:
        rows = rows * per_sample_weights[keep][:, None]
    out = np.zeros((nbags, d), weight.dtype)
    add_at(out, bags[keep], rows)
    if mode == "mean":
        out = out / np.maximum(counts, 1)[:, None]
    return out.astype(weight.dtype, copy=False)


def _dt(x):
    return x._data.dtype if isinstance(x, Tensor) else x.dtype


def _bag_weight_grad(grad, weight, per_sample_weights, weight_shape, indices, bags, nbags, mode, padding_idx,
                     scale_grad_by_freq):
    keep, counts = _bag_parts(indices, bags, nbags, padding_idx)
    if mode == "max":
        wv = weight._data if isinstance(weight, Tensor) else weight
        arg = _max_arg(wv, indices, bags, nbags, keep)
        g = grad * _const((counts > 0)[:, None].astype(_dt(grad)), grad)
        return gather_backward(g, _const(arg, g), 0, tuple(weight_shape))
    coef = keep.astype(_dt(grad))
    if mode == "mean":
        coef = coef / np.maximum(counts, 1)[bags]
    rows = _emb(grad, bags, None, False) * _const(coef[:, None].astype(_dt(grad)), grad)
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.reshape(-1, 1) if isinstance(per_sample_weights, Tensor) else \
            rows * per_sample_weights[:, None]
    return _emb_back(rows, indices, weight_shape[0], None, scale_grad_by_freq)


def _bag_psw_grad(grad, weight, indices, bags, nbags, mode, padding_idx):
    keep, _ = _bag_parts(indices, bags, nbags, padding_idx)
    prod = _emb(grad, bags, None, False) * _emb(weight, indices, None, False)
    return sum_dim(prod, (1,), False) * _const(keep.astype(_dt(grad)), grad)


embedding_bag_op = Op("embedding_bag", _bag_fwd, ("weight", "per_sample_weights"),
                      ("indices", "bags", "nbags", "mode", "padding_idx", "scale_grad_by_freq"),
                      node="EmbeddingBagBackward0", dtype=NONE, promote=(0,))
embedding_bag_op.defvjp(weight=_bag_weight_grad, per_sample_weights=_bag_psw_grad)


def _size(shape) -> str:
    return "torch.Size([" + ", ".join(str(int(s)) for s in shape) + "])"


def embedding_bag_fn(input: Tensor, weight: Tensor, offsets: Tensor | None, max_norm: float | None,
                     norm_type: float, scale_grad_by_freq: bool, mode: str, sparse: bool,
                     per_sample_weights: Tensor | None, include_last_offset: bool, padding_idx: Any) -> Tensor:
    """Argument checks in torch's order, bag ids from offsets, then the op."""
    if weight.dtype == input.dtype and not input.dtype.is_floating_point:
        weight, input = input, weight  # torch's backward-compatibility swap of (weight, input)
    if per_sample_weights is not None and tuple(input.shape) != tuple(per_sample_weights.shape):
        raise ValueError(f"embedding_bag: If per_sample_weights ({_size(per_sample_weights.shape)}) is not None, "
                         f"then it must have the same shape as the input ({_size(input.shape)})")
    if weight.ndim != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.ndim}")
    if input.dtype.is_floating_point or input.dtype.is_complex or str(input.dtype) == "torch.bool":
        tn = _TN.get(str(input.dtype).replace("torch.", ""), "Float")
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got torch.{tn}Tensor instead (while checking arguments for embedding_bag)")
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
                             f"fixed length sequences. However, found offsets of type {type(offsets)}")
        b, length = input.shape
        idx = np.asarray(input._data, np.int64).reshape(-1)
        bags = np.repeat(np.arange(b), length)
        nbags = b
        psw = per_sample_weights.reshape(-1) if per_sample_weights is not None else None
    elif input.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.ndim != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        idx = np.asarray(input._data, np.int64)
        off = np.asarray(offsets._data, np.int64)
        if off.size and off[0] != 0:
            raise RuntimeError("offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from "
                               f"position 0. However, got {off[0]}")
        nbags = max(off.size - 1, 0) if include_last_offset else off.size  # the last bag runs to the end
        bags = np.searchsorted(off[:nbags], np.arange(idx.size), side="right") - 1
        psw = per_sample_weights
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.ndim}")
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if max_norm is not None:
        from ..nn._functional.layers import _renorm_rows
        _renorm_rows(weight, input, max_norm, norm_type)
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError("embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                  f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
                                  "GitHub.")
    num = weight.shape[0]
    for i, v in enumerate(idx):
        if v < 0 or v >= num:
            raise RuntimeError(f"Index {i} of input takes value {v} which is not in the valid range [0, {num})")
    if padding_idx is not None:
        if padding_idx > 0:
            assert padding_idx < num, "padding_idx must be within num_embeddings"
        elif padding_idx < 0:
            assert padding_idx >= -num, "padding_idx must be within num_embeddings"
            padding_idx = num + padding_idx
    return embedding_bag_op(weight, psw, idx, bags, int(nbags), mode, padding_idx, bool(scale_grad_by_freq))


