"""Normalization and embedding ops: one node each, as torch records them.

- `native_layer_norm(input, weight, bias, k, eps)` -> NativeLayerNormBackward0 (normalised over the last k dims)
- `native_batch_norm(input, weight, bias, running_mean, running_var, training, eps)` -> NativeBatchNormBackward0
  (batch statistics in training, the running ones in evaluation; the running statistics are constants, updated
  by `nn.functional.batch_norm` itself)
- `native_group_norm(input, weight, bias, groups, eps)` -> NativeGroupNormBackward0
- `embedding(weight, indices, padding_idx, scale_grad_by_freq)` -> EmbeddingBackward0, whose derivative is
  `embedding_backward` (a scatter-add of rows), whose derivative is again `embedding` scaled per position.

The forwards are NumPy. The derivative formulas recompute the normalised input from the saved input with ndgrad
ops (dual: plain arrays in an ordinary backward, recorded under create_graph), so any order of derivative works.
"""
from __future__ import annotations

import numpy as np

from ._addat import add_at
from .._tensor import Tensor, _wrap
from ._kept import Kept
from ._registry import NONE, Op
from .pointwise import rsqrt
from .reduction import mean_dim, sum_dim
from .shape import unsafe_view

__all__: list = []
METHODS: dict = {}


def _np_dtype(x) -> np.dtype:
    return x._data.dtype if isinstance(x, Tensor) else x.dtype


def _const(a, like):
    """A constant array usable beside `like` in a formula (wrapped when the formula runs on Tensors)."""
    return _wrap(np.asarray(a)) if isinstance(like, Tensor) else a


# A layer or batch norm's x-hat and 1/std, kept by its forward for its backward's two formulas (_kept.py): `_xhat`
# computes them with the same NumPy steps as `_np_norm`, bit for bit (float32 and float64; float16 is normalised
# in float32 here and in float16 there). Kept only when the forward's output is another array (an affine norm):
# without weight and bias the output is x-hat itself, which the caller may change in place.
_NORM = Kept()


def _np_norm(x: np.ndarray, dims: tuple, eps: float, keep: bool = False):
    """(x - mean) / sqrt(var + eps) over `dims`, in NumPy, with float16 computed in float32."""
    xc = x.astype(np.float32) if x.dtype == np.float16 else x
    m = xc.mean(axis=dims, keepdims=True)
    d = xc - m
    v = (d * d).mean(axis=dims, keepdims=True)
    r = 1.0 / np.sqrt(v + eps)
    xhat = d * r
    if keep and (x.dtype == np.float32 or x.dtype == np.float64):
        _NORM.keep(x, (dims, eps), (xhat, r))
    else:
        _NORM.drop(x)
    return xhat, m, v


def _xhat(x, dims: tuple, eps: float):
    """The normalised input and 1/std over `dims`, as dual ops (for the formulas)."""
    kept = _NORM.take(x, (dims, eps), pop=False)
    if kept is not None:
        return kept
    m = mean_dim(x, dims, True)
    d = x - m
    r = rsqrt(mean_dim(d * d, dims, True) + eps)
    return d * r, r


def _norm_input_grad(g, xhat, r, dims):
    """d/dx of xhat = (x - mean) * r, applied to the gradient g of xhat."""
    return r * (g - mean_dim(g, dims, True) - xhat * mean_dim(g * xhat, dims, True))


def _sum_over(x, dims: tuple):
    return sum_dim(x, dims, False) if dims else x


# ----------------------------------------------------------------------------------------------- layer norm
def _layer_norm_fwd(input, weight, bias, k, eps):
    dims = tuple(range(input.ndim - k, input.ndim))
    if input.size == 0:
        out = np.empty(input.shape, input.dtype)
    else:
        out, _, _ = _np_norm(input, dims, eps, weight is not None or bias is not None)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out.astype(input.dtype, copy=False)


def _ln_dims(shape, k):
    n = len(shape)
    return tuple(range(n - k, n)), tuple(range(n - k))


def _ln_input(grad, input, weight, k, eps):
    dims, _ = _ln_dims(input.shape, k)
    xhat, r = _xhat(input, dims, eps)
    g = grad * weight if weight is not None else grad
    return _norm_input_grad(g, xhat, r, dims)


def _ln_weight(grad, input, k, eps):
    dims, lead = _ln_dims(input.shape, k)
    xhat, _ = _xhat(input, dims, eps)
    return _sum_over(grad * xhat, lead)


native_layer_norm = Op("native_layer_norm", _layer_norm_fwd, ("input", "weight", "bias"), ("k", "eps"),
                       node="NativeLayerNormBackward0", dtype=NONE)
native_layer_norm.defvjp(input=_ln_input, weight=_ln_weight,
                         bias=lambda grad, k: _sum_over(grad, tuple(range(grad.ndim - k))))


# ----------------------------------------------------------------------------------------------- batch norm
def _chan(shape):
    return (1, shape[1]) + (1,) * (len(shape) - 2)


def _bn_dims(shape):
    return (0,) + tuple(range(2, len(shape)))


def _batch_norm_fwd(input, weight, bias, running_mean, running_var, training, eps):
    cs = _chan(input.shape)
    if training:
        out, _, _ = _np_norm(input, _bn_dims(input.shape), eps, weight is not None or bias is not None)
    else:
        out = (input - running_mean.reshape(cs)) * (1.0 / np.sqrt(running_var.reshape(cs) + eps))
    if weight is not None:
        out = out * weight.reshape(cs)
    if bias is not None:
        out = out + bias.reshape(cs)
    return out.astype(input.dtype, copy=False)


def _bn_eval_xhat(input, running_mean, running_var, eps):
    cs = _chan(input.shape)
    dt = _np_dtype(input)
    rm = np.asarray(running_mean, dtype=dt).reshape(cs)
    r = (1.0 / np.sqrt(np.asarray(running_var, dtype=dt).reshape(cs) + eps)).astype(dt)
    return (input - _const(rm, input)) * _const(r, input), _const(r, input)


def _bn_input(grad, input, weight, running_mean, running_var, training, eps):
    cs = _chan(input.shape)
    g = grad * unsafe_view(weight, cs) if weight is not None else grad
    if not training:
        _, r = _bn_eval_xhat(input, running_mean, running_var, eps)
        return g * r
    dims = _bn_dims(input.shape)
    xhat, r = _xhat(input, dims, eps)
    return _norm_input_grad(g, xhat, r, dims)


def _bn_weight(grad, input, running_mean, running_var, training, eps):
    if training:
        xhat, _ = _xhat(input, _bn_dims(input.shape), eps)
    else:
        xhat, _ = _bn_eval_xhat(input, running_mean, running_var, eps)
    return sum_dim(grad * xhat, _bn_dims(input.shape), False)


native_batch_norm = Op("native_batch_norm", _batch_norm_fwd, ("input", "weight", "bias"),
                       ("running_mean", "running_var", "training", "eps"), node="NativeBatchNormBackward0", dtype=NONE)
native_batch_norm.defvjp(input=_bn_input, weight=_bn_weight,
                         bias=lambda grad: sum_dim(grad, _bn_dims(grad.shape), False))


# ----------------------------------------------------------------------------------------------- group norm
def _group_norm_fwd(input, weight, bias, groups, eps):
    n = input.shape[0]
    cs = _chan(input.shape)
    if input.size == 0:
        out = np.empty(input.shape, input.dtype)
    else:
        out = _np_norm(input.reshape(n, groups, -1), (2,), eps)[0].reshape(input.shape)
    if weight is not None:
        out = out * weight.reshape(cs)
    if bias is not None:
        out = out + bias.reshape(cs)
    return out.astype(input.dtype, copy=False)


def _gn_shape(shape, groups):
    n = 1
    for s in shape[1:]:
        n *= s
    return (shape[0], groups, n // groups)


def _gn_input(grad, input, weight, groups, eps):
    shape = tuple(input.shape)
    gs = _gn_shape(shape, groups)
    xhat, r = _xhat(unsafe_view(input, gs), (2,), eps)
    g = grad * unsafe_view(weight, _chan(shape)) if weight is not None else grad
    return unsafe_view(_norm_input_grad(unsafe_view(g, gs), xhat, r, (2,)), shape)


def _gn_weight(grad, input, groups, eps):
    shape = tuple(input.shape)
    xhat, _ = _xhat(unsafe_view(input, _gn_shape(shape, groups)), (2,), eps)
    return sum_dim(grad * unsafe_view(xhat, shape), _bn_dims(shape), False)


native_group_norm = Op("native_group_norm", _group_norm_fwd, ("input", "weight", "bias"), ("groups", "eps"),
                       node="NativeGroupNormBackward0", dtype=NONE)
native_group_norm.defvjp(input=_gn_input, weight=_gn_weight,
                         bias=lambda grad: sum_dim(grad, _bn_dims(grad.shape), False))


# ----------------------------------------------------------------------------------------------- embedding
def _coef(indices: np.ndarray, num: int, padding_idx, scale_grad_by_freq: bool, dtype) -> np.ndarray | None:
    """Per-position factor of the embedding's gradient: 0 at padding_idx, 1/count with scale_grad_by_freq."""
    if padding_idx is None and not scale_grad_by_freq:
        return None
    c = np.ones(indices.shape, dtype)
    if scale_grad_by_freq:
        counts = np.bincount(indices.reshape(-1), minlength=num)
        c = c / counts[indices]
    if padding_idx is not None:
        c = np.where(indices == padding_idx, 0, c).astype(dtype)
    return c[..., None].astype(dtype)


def _embedding_fwd(weight, indices, padding_idx, scale_grad_by_freq):
    return weight[indices]


def _embedding_backward_fwd(grad, indices, num, padding_idx, scale_grad_by_freq):
    c = _coef(indices, num, padding_idx, scale_grad_by_freq, grad.dtype)
    g = grad * c if c is not None else grad
    out = np.zeros((num, grad.shape[-1]), grad.dtype)
    add_at(out, indices.reshape(-1), g.reshape(-1, grad.shape[-1]))
    return out


embedding = Op("embedding", _embedding_fwd, ("weight",), ("indices", "padding_idx", "scale_grad_by_freq"),
               node="EmbeddingBackward0", dtype=NONE)
embedding_backward = Op("embedding_backward", _embedding_backward_fwd, ("grad",),
                        ("indices", "num", "padding_idx", "scale_grad_by_freq"), node="EmbeddingBackwardBackward0",
                        dtype=NONE)
embedding.defvjp(weight=lambda grad, weight_shape, indices, padding_idx, scale_grad_by_freq:
                 embedding_backward(grad, indices, weight_shape[0], padding_idx, scale_grad_by_freq))


def _embedding_bb(grad, grad_shape, indices, num, padding_idx, scale_grad_by_freq):
    out = embedding(grad, indices, None, False)
    c = _coef(indices, num, padding_idx, scale_grad_by_freq, _np_dtype(grad))
    return out * _const(c, out) if c is not None else out


embedding_backward.defvjp(grad=_embedding_bb)
embedding.defjvp(linear=True)
embedding_backward.defjvp(linear=True)
