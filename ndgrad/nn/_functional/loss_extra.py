"""Mirrors the rest of `torch.nn.functional`'s losses: gaussian_nll, multilabel_soft_margin, hinge_embedding,
triplet_margin(_with_distance), multi_margin, multilabel_margin, ctc.

torch composes the first five from ordinary ops, and so does this file (the graphs look alike); multi_margin,
multilabel_margin and ctc have nodes of their own in torch (MultiMarginLossBackward0...), which are ops of
`ndgrad/_ops/margin.py` here.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from ... import _ops as _O
from ..._ops import activation as _A
from ..._ops import margin as _M
from ..._creation import full_like as _full_like
from ..._creation import zeros_like as _zeros_like
from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from .activation import logsigmoid, pairwise_distance
from .loss import _apply_reduction, _begin, _not_diff, _reduction, _t

__all__: list[str] = ["gaussian_nll_loss", "multilabel_soft_margin_loss", "hinge_embedding_loss",
                      "triplet_margin_loss", "triplet_margin_with_distance_loss", "multi_margin_loss",
                      "multilabel_margin_loss", "ctc_loss"]


def gaussian_nll_loss(input: Tensor, target: Tensor, var: Tensor | float, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    """Mirrors `torch.nn.functional.gaussian_nll_loss`: ½(log var + (input - target)²/var) (+ ½ log 2π)."""
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = _full_like(input, float(var))
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif tuple(input.shape[:-1]) == tuple(var.shape[:-1]) and var.shape[-1] == 1:
            pass
        else:
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    if bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    var = var.clone()
    with no_grad():
        var.clamp_(min=eps)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _apply_reduction(loss, reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """Mirrors `torch.nn.functional.multilabel_soft_margin_loss`: the mean over classes of the binary
    cross-entropy of sigmoid(input) against `target`."""
    if size_average is not None or reduce is not None:
        reduction = _reduction(reduction, size_average, reduce)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.ndim - 1
    loss = loss.sum(dim=class_dim) / input.shape[class_dim]
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return _apply_reduction(loss, reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average: Any = None,
                         reduce: Any = None, reduction: str = "mean") -> Tensor:
    """Mirrors `torch.nn.functional.hinge_embedding_loss`: input where target is 1, max(0, margin - input)
    where it is -1."""
    reduction = _begin("hinge_embedding_loss", (input, target), reduction, size_average, reduce)
    zeros = _zeros_like(input)
    margin_clamp = _A.clamp_min(margin - input, 0)
    out = _O.where(target != 1, margin_clamp, zeros) + _O.where(target != -1, input, zeros)
    return _apply_reduction(out, reduction)


def _triplet_dims(a: Tensor, p: Tensor, n: Tensor) -> None:
    if not (a.ndim == p.ndim == n.ndim):
        raise RuntimeError("The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {a.ndim}D, positive {p.ndim}D, and negative {n.ndim}D inputs")


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, size_average: Any = None, reduce: Any = None,
                        reduction: str = "mean") -> Tensor:
    """Mirrors `torch.nn.functional.triplet_margin_loss`: max(0, margin + d(a, p) - d(a, n)), d the p-norm
    distance (with `swap`, d(a, n) is min(d(a, n), d(p, n)))."""
    for i, (t, name) in enumerate(((anchor, "anchor"), (positive, "positive"), (negative, "negative")), 1):
        _t(t, "triplet_margin_loss", name, i)
    reduction = _reduction(reduction, size_average, reduce)
    _triplet_dims(anchor, positive, negative)
    return _triplet(anchor, positive, negative, lambda x, y: pairwise_distance(x, y, p, eps), margin, swap,
                    reduction)


def _triplet(anchor, positive, negative, dist, margin, swap, reduction):
    d_pos = dist(anchor, positive)
    d_neg = dist(anchor, negative)
    if swap:
        d_neg = _O.minimum(d_neg, dist(positive, negative))
    return _apply_reduction(_A.clamp_min(margin + d_pos - d_neg, 0), reduction)


def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, *,
                                      distance_function: Callable[[Tensor, Tensor], Tensor] | None = None,
                                      margin: float = 1.0, swap: bool = False, reduction: str = "mean") -> Tensor:
    """Mirrors `torch.nn.functional.triplet_margin_with_distance_loss` (pairwise_distance by default)."""
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    _triplet_dims(anchor, positive, negative)
    return _triplet(anchor, positive, negative, distance_function or pairwise_distance, margin, swap, reduction)


def _size(s: tuple) -> str:
    return "[" + ", ".join(str(int(v)) for v in s) + "]"


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0, weight: Tensor | None = None,
                      size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """Mirrors `torch.nn.functional.multi_margin_loss`: Σ_{i≠y} max(0, margin - x[y] + x[i])^p / C per sample
    (one MultiMarginLossBackward0 node)."""
    reduction = _reduction(reduction, size_average, reduce)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.ndim != 1:
        raise ValueError("weight must be one-dimensional")
    x = _t(input, "multi_margin_loss")
    _not_diff("multi_margin_loss", "weight", weight)
    nd = x.ndim
    c = x.shape[-1] if nd else 1
    n = x.shape[0] if nd == 2 else 1
    if nd > 2 or (nd == 2 and x.shape[1] == 0):
        raise RuntimeError("Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
                           f"{_size(x.shape)}")
    if target.ndim > 1 or target.numel() != n:
        raise RuntimeError("multi_margin_loss: target tensor should be 1-D with size equal to the number of input "
                           f"samples (batch size). Expected target size [{n}], but got {_size(target.shape)}. Input "
                           f"has shape {_size(x.shape)}.")
    if weight is not None and weight.numel() != c:
        raise RuntimeError(f"inconsistent weight size, expected {c} but got {_size(weight.shape)}")
    tgt = np.asarray(target._data, dtype=np.int64).reshape(-1)
    if tgt.size and (tgt.min() < 0 or tgt.max() >= c):
        raise RuntimeError("target out of range")
    w = None if weight is None else np.asarray(weight._data, dtype=x._data.dtype)
    return _M.multi_margin_loss(x, tgt, int(p), float(margin), w, reduction,
                               (n,) if nd == 2 else tuple(target.shape))


def multilabel_margin_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
                           reduction: str = "mean") -> Tensor:
    """Mirrors `torch.nn.functional.multilabel_margin_loss`: Σ_{j in targets, i not} max(0, 1 - (x[j] - x[i])) / C
    (targets listed until the first -1; one MultilabelMarginLossBackward0 node)."""
    reduction = _reduction(reduction, size_average, reduce)
    x = _t(input, "multilabel_margin_loss")
    nd = x.ndim
    if nd > 2 or (nd == 2 and x.shape[1] == 0):
        raise RuntimeError("Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
                           f"{_size(x.shape)}")
    if tuple(target.shape) != tuple(x.shape) if nd else target.numel() != 1:
        raise RuntimeError(f"inconsistent target size: {_size(target.shape)} for input of size: {_size(x.shape)}")
    c = x.shape[-1] if nd else 1
    tgt = np.asarray(target._data, dtype=np.int64).reshape(-1, c)
    if ((tgt < -1) | (tgt >= c)).any():
        raise RuntimeError(f"multilabel_margin_loss: target values must be in [-1, {c - 1}]")
    return _M.multilabel_margin_loss(x, tgt, reduction)


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths: Any, target_lengths: Any, blank: int = 0,
             reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """Mirrors `torch.nn.functional.ctc_loss`: the negative log-likelihood of the target sequences summed over
    their alignments (forward-backward recursion; one CtcLossBackward0 node). 'mean' divides each loss by its
    target length, then averages over the batch."""
    return _M.ctc(log_probs, targets, input_lengths, target_lengths, blank, reduction, zero_infinity)
