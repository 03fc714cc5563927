"""Mirrors the losses of `torch.nn.functional` (mse, l1, smooth_l1, huber, cross_entropy, nll, bce, kl_div, ...).

Losses with a node of their own in torch (MseLossBackward0, NllLossBackward0, BinaryCrossEntropyBackward0...)
run the ops of `ndgrad/_ops/activation.py`; the others are composed of ndgrad ops as torch composes them,
so their graphs look alike. Checks and messages follow torch's, in torch's order where it matters.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ... import _ops as _O
from ..._ops import activation as _A
from ..._creation import zeros_like as _zeros_like
from ..._tensor import Tensor, _wrap
from ...autograd.grad_mode import state as _mode
from ..._warn import warn as _warn

__all__: list[str] = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "cross_entropy", "nll_loss",
                      "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div", "cosine_embedding_loss",
                      "margin_ranking_loss", "soft_margin_loss", "poisson_nll_loss"]

_tname = _A._tname


def _t(x: Any, name: str, arg: str = "input", pos: int = 1) -> Tensor:
    return _A._t(x, name, arg, pos)


def _legacy(size_average: Any, reduce: Any, stacklevel: int = 3) -> str:
    """torch's translation of the deprecated size_average/reduce arguments (with its warning)."""
    sa = True if size_average is None else size_average
    rd = True if reduce is None else reduce
    ret = "mean" if sa and rd else "sum" if rd else "none"
    _warn(f"size_average and reduce args will be deprecated, please use reduction='{ret}' instead.",
          stacklevel=stacklevel)
    return ret


def _reduction(reduction: str, size_average: Any = None, reduce: Any = None, stacklevel: int = 3) -> str:
    if size_average is not None or reduce is not None:
        reduction = _legacy(size_average, reduce, stacklevel)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _begin(name: str, tensors: tuple, reduction: str, size_average: Any = None, reduce: Any = None,
           size_warning: bool = False) -> str:
    """The start every loss shares, in torch's order: argument types (`input`, `target`, or `input1`, `input2`,
    `target`), the broadcast warning when asked, then the reduction (the legacy arguments translated).

    Its warnings point where the loss's own would: the size warning at the loss's caller, the legacy one
    at the loss."""
    args = ("input", "target") if len(tensors) == 2 else ("input1", "input2", "target")
    for pos, (t, arg) in enumerate(zip(tensors, args), 1):
        _t(t, name, arg, pos)
    if size_warning:
        _size_warning(tensors[0], tensors[1], stacklevel=4)
    return _reduction(reduction, size_average, reduce, stacklevel=4)


def _apply_reduction(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _size_warning(input: Tensor, target: Tensor, stacklevel: int = 3) -> None:
    if tuple(target.shape) != tuple(input.shape):
        _warn(f"Using a target size ({target.size()!r}) that is different to the input size "
              f"({input.size()!r}). This will likely lead to incorrect results due to broadcasting. Please "
              "ensure they have the same size.", stacklevel=stacklevel)


def _check_weight_size(weight: Tensor, input: Tensor) -> None:
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")


def _weighted(loss: Tensor, input: Tensor, weight: Tensor, reduction: str) -> Tensor:
    """torch's elementwise `weight` of mse/l1/huber: weighted sum, or weighted mean (sum(w·l) / sum(w))."""
    _check_weight_size(weight, input)
    loss = loss * weight
    if reduction == "mean":
        return loss.sum() / weight.sum()
    if reduction == "sum":
        return loss.sum()
    return loss


def _not_diff(name: str, arg: str, t: Any) -> None:
    if isinstance(t, Tensor) and t.requires_grad and _mode.enabled:
        raise RuntimeError(f"The function '{name}' is not differentiable with respect to argument '{arg}'. This "
                           "input cannot have requires_grad True.")


# -- regression losses ------------------------------------------------------------------------------------------------
def mse_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None, reduction: str = "mean",
             weight: Tensor | None = None) -> Tensor:
    """Mirrors `torch.nn.functional.mse_loss`: mean/sum of (input - target)²."""
    reduction = _begin("mse_loss", (input, target), reduction, size_average, reduce, size_warning=True)
    if weight is not None:
        return _weighted(_A.mse_op(input, target, "none"), input, weight, reduction)
    return _A.mse_op(input, target, reduction)


def l1_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None, reduction: str = "mean",
            weight: Tensor | None = None) -> Tensor:
    """Mirrors `torch.nn.functional.l1_loss`: mean/sum of |input - target|."""
    reduction = _begin("l1_loss", (input, target), reduction, size_average, reduce, size_warning=True)
    loss = (input - target).abs()
    if weight is not None:
        return _weighted(loss, input, weight, reduction)
    return _apply_reduction(loss, reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """Mirrors `torch.nn.functional.smooth_l1_loss`: ½d²/beta where |d| < beta, |d| - ½beta elsewhere."""
    reduction = _begin("smooth_l1_loss", (input, target), reduction, size_average, reduce, size_warning=True)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0.0:
        return _apply_reduction((input - target).abs(), reduction)
    return _A.smooth_l1_op(input, target, float(beta), reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """Mirrors `torch.nn.functional.huber_loss`: ½d² where |d| < delta, delta·(|d| - ½delta) elsewhere."""
    reduction = _begin("huber_loss", (input, target), reduction, size_warning=True)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    if weight is not None:  # torch's weighted huber mean is mean(w·l), not sum(w·l) / sum(w) as mse's and l1's
        _check_weight_size(weight, input)
        return _apply_reduction(_A.huber_op(input, target, float(delta), "none") * weight, reduction)
    return _A.huber_op(input, target, float(delta), reduction)


# -- classification: nll_loss, cross_entropy -------------------------------------------------------------------------
def _check_weight(weight: Tensor | None, input: Tensor, C: int, name: str = "") -> np.ndarray | None:
    if weight is None:
        return None
    _not_diff("nll_loss_forward", "weight", weight)
    if weight._data.size != C or (name and weight.ndim != 1):
        prefix = f"{name}: " if name else ""
        raise RuntimeError(f"{prefix}weight tensor should be defined either for all {C} classes or no classes but "
                           f"got weight tensor of shape: {list(weight.shape)}")
    if weight._data.dtype != input._data.dtype:
        raise RuntimeError(f"expected scalar type {_tname(input._data.dtype)} but found "
                           f"{_tname(weight._data.dtype)}")
    return weight._data.reshape(-1)


def _nll(input: Tensor, target: Tensor, weight: Tensor | None, ignore_index: int, reduction: str) -> Tensor:
    """torch's nll_loss_nd: the checks, then nll_loss (1-d/2-d), nll_loss2d (4-d) or a view to 4-d."""
    nd = input.ndim
    if nd < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {nd})")
    t = target._data
    if nd != 1 and input.shape[0] != (t.shape[0] if t.ndim else 0):
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target batch_size "
                         f"({t.shape[0] if t.ndim else 0}).")
    C = input.shape[1] if nd >= 2 else input.shape[0]
    if nd <= 2 and t.ndim > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if t.dtype != np.int64 and t.dtype != np.uint8:
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {_tname(t.dtype)}")
    w = _check_weight(weight, input, C)
    if nd <= 2:
        if nd == 1 and t.ndim == 1:
            if t.shape[0] != 1:
                raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: {t.shape[0]}")
            t = t.reshape(())
        return _A.nll_op(input, t, w, reduction, ignore_index)
    if nd == 4:
        if t.ndim != 3:
            raise RuntimeError(f"only batches of spatial targets supported (3D tensors) but got targets of "
                               f"dimension: {t.ndim}")
        if t.shape != (input.shape[0],) + tuple(input.shape[2:]):
            raise RuntimeError(f"size mismatch (got input: {list(input.shape)} , target: {list(t.shape)}")
        return _A.nll2d_op(input, t, w, reduction, ignore_index)
    n, c = input.shape[0], input.shape[1]
    out_size = [n, *input.shape[2:]]
    if tuple(t.shape[1:]) != tuple(input.shape[2:]):
        raise RuntimeError(f"Expected target size {out_size}, got {list(t.shape)}")
    if input._data.size:
        x4, t3 = input.reshape(n, c, 1, -1), t.reshape(n, 1, -1)
    else:
        x4, t3 = input.reshape(n, c, 0, 0), t.reshape(n, 0, 0)
    out = _A.nll2d_op(x4, t3, w, reduction, ignore_index)
    return out.reshape(out_size) if reduction == "none" else out


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: Any = None,
             ignore_index: int = -100, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """Mirrors `torch.nn.functional.nll_loss`: -input[n, target[n]]·weight, with ignore_index and reductions."""
    reduction = _begin("nll_loss", (input, target), reduction, size_average, reduce)
    return _nll(input, target, weight, ignore_index, reduction)


def _bcast_weight(weight: Tensor, nd: int, class_dim: int) -> Tensor:
    if nd <= 1:
        return weight
    shape = [1] * nd
    shape[class_dim] = weight.shape[0]
    return weight.reshape(shape)


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: Any = None,
                  ignore_index: int = -100, reduce: Any = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Mirrors `torch.nn.functional.cross_entropy`: log_softmax then nll_loss (class indices), or
    -Σ target·log_softmax (class probabilities); weight, ignore_index, label_smoothing as torch."""
    reduction = _begin("cross_entropy", (input, target), reduction, size_average, reduce)
    class_dim = 0 if input.ndim == 1 else 1
    if tuple(input.shape) == tuple(target.shape):
        return _ce_probs(input, target, weight, reduction, ignore_index, label_smoothing, class_dim)
    logp = _A.log_softmax(input, class_dim)
    if label_smoothing > 0.0:
        _check_smoothing(label_smoothing)
        return _ce_smoothing(logp, target, weight, reduction, ignore_index, label_smoothing, class_dim)
    return _nll(logp, target, weight, ignore_index, reduction)


def _fmt(x: float) -> str:
    """A double as C++ streams print it (6 significant digits)."""
    return f"{x:.6g}"


def _check_smoothing(label_smoothing: float) -> None:
    if label_smoothing > 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {_fmt(label_smoothing)}")


def _ce_probs(input: Tensor, target: Tensor, weight: Tensor | None, reduction: str, ignore_index: int,
              label_smoothing: float, class_dim: int) -> Tensor:
    if target._data.dtype.kind not in "fV":
        raise RuntimeError(f"Expected floating point type for target with class probabilities, got "
                           f"{_tname(target._data.dtype)}")
    if ignore_index >= 0:
        raise RuntimeError("ignore_index is not supported for floating point target")
    C = input.shape[class_dim]
    if weight is not None and (weight.ndim != 1 or weight._data.size != C):
        raise RuntimeError(f"cross_entropy: weight tensor should be defined either for all {C} classes or no "
                           f"classes but got weight tensor of shape: {list(weight.shape)}")
    logp = _A.log_softmax(input, class_dim)
    if label_smoothing > 0.0:
        _check_smoothing(label_smoothing)
        target = target * (1 - label_smoothing) + label_smoothing / C
    prod = logp * target
    if weight is not None:
        prod = prod * _bcast_weight(weight, input.ndim, class_dim)
    if reduction == "none":
        return -prod.sum(class_dim)
    if reduction == "sum":
        return -prod.sum()
    n = input._data.size // C if C else 0
    if n == 0:
        return -prod.sum() * float("nan")
    return -prod.sum() / n


def _ce_smoothing(logp: Tensor, target: Tensor, weight: Tensor | None, reduction: str, ignore_index: int,
                  eps: float, class_dim: int) -> Tensor:
    C = logp.shape[class_dim]
    nll = _nll(logp, target, weight, ignore_index, reduction)
    t = target._data
    ignore = t == ignore_index
    if weight is not None:
        smooth = -(logp * _bcast_weight(weight, logp.ndim, class_dim)).sum(class_dim)
    else:
        smooth = -logp.sum(class_dim)
    if ignore.any():
        smooth = _O.where(_wrap(np.asarray(ignore)), 0.0, smooth)
    if reduction == "mean":
        if weight is not None:
            total = weight[_wrap(t[~ignore].reshape(-1).astype(np.int64))].sum()
            ret = smooth.sum() / total if total.item() != 0 else smooth.sum() * float("nan")
        else:
            n = int((~ignore).sum())
            ret = smooth.sum() / n if n else smooth.sum() * float("nan")
    elif reduction == "sum":
        ret = smooth.sum()
    else:
        ret = smooth
    return nll * (1 - eps) + ret * (eps / C)


# -- binary cross-entropy ------------------------------------------------------------------------------------------
def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: Any = None,
                         reduce: Any = None, reduction: str = "mean") -> Tensor:
    """Mirrors `torch.nn.functional.binary_cross_entropy`: -w·(y log x + (1 - y) log(1 - x)), logs clamped at -100."""
    reduction = _begin("binary_cross_entropy", (input, target), reduction, size_average, reduce)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Using a target size ({target.size()!r}) that is different to the input size "
                         f"({input.size()!r}) is deprecated. Please ensure they have the same size.")
    if target._data.dtype != input._data.dtype:
        raise RuntimeError(f"Found dtype {_tname(target._data.dtype)} but expected {_tname(input._data.dtype)}")
    w = None
    if weight is not None:
        _not_diff("binary_cross_entropy", "weight", weight)
        w = np.broadcast_to(weight._data, np.broadcast_shapes(weight._data.shape, target._data.shape))
        w = w.astype(input._data.dtype, copy=False)
    return _A.bce_op(input, target, w, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average: Any = None, reduce: Any = None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Mirrors `torch.nn.functional.binary_cross_entropy_with_logits`: BCE of σ(input), computed stably
    (log-sum-exp form), with `weight` and the positive-class `pos_weight`."""
    reduction = _begin("binary_cross_entropy_with_logits", (input, target), reduction, size_average, reduce)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({target.size()!r}) must be the same as input size ({input.size()!r})")
    dt = np.result_type(input._data.dtype, target._data.dtype)
    w = pw = None
    if weight is not None:
        _not_diff("binary_cross_entropy_with_logits", "weight", weight)
        w = weight._data.astype(dt, copy=False)
    if pos_weight is not None:
        _not_diff("binary_cross_entropy_with_logits", "pos_weight", pos_weight)
        pw = pos_weight._data.astype(dt, copy=False)
    for a in (w, pw):
        if a is not None:
            _check_broadcast(input._data.shape, a.shape)
    return _A.bce_logits_op(input, target, w, pw, reduction)


def _check_broadcast(a: tuple, b: tuple) -> None:
    n = max(len(a), len(b))
    pa, pb = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    for i in range(n - 1, -1, -1):
        if pa[i] != pb[i] and pa[i] != 1 and pb[i] != 1:
            raise RuntimeError(f"The size of tensor a ({pa[i]}) must match the size of tensor b ({pb[i]}) at "
                               f"non-singleton dimension {i}")


# -- divergences and margins ------------------------------------------------------------------------------------------
def kl_div(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """Mirrors `torch.nn.functional.kl_div`: target·(log target - input) (input holds log-probabilities);
    reductions include 'batchmean' (sum / batch size)."""
    _t(input, "kl_div")
    _t(target, "kl_div", "target", 2)
    if size_average is not None or reduce is not None:
        reduction = _legacy(size_average, reduce)
    elif reduction == "mean":
        _warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
              "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
              "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
              stacklevel=2)
    if reduction not in ("none", "mean", "sum", "batchmean"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = _O.xlogy(target, target) - target * input
    if reduction == "batchmean":
        return loss.sum() / input.shape[0] if input.ndim != 0 else loss.sum()
    return _apply_reduction(loss, reduction)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                          size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """Mirrors `torch.nn.functional.cosine_embedding_loss`: 1 - cos for target 1, max(0, cos - margin) for -1."""
    reduction = _begin("cosine_embedding_loss", (input1, input2, target), reduction, size_average, reduce)
    td = target.ndim
    if td > 1:
        raise RuntimeError("1D target tensor expected, multi-target not supported")
    if td == 1 and (input1.ndim != 2 or input2.ndim != 2):
        raise RuntimeError(f"1D target tensor expects 2D input tensors, but found inputs with sizes "
                           f"{list(input1.shape)} and {list(input2.shape)}.")
    if td == 0 and (input1.ndim != 1 or input2.ndim != 1):
        raise RuntimeError(f"0D target tensor expects 1D input tensors, but found inputs with sizes "
                           f"{list(input1.shape)} and {list(input2.shape)}.")
    dim = 1 if td == 1 else 0
    eps = 1e-12
    prod_sum = (input1 * input2).sum(dim)
    mag1 = (input1 * input1).sum(dim) + eps
    mag2 = (input2 * input2).sum(dim) + eps
    cos = prod_sum / (mag1 * mag2).sqrt()
    zeros = _zeros_like(cos)
    pos = 1 - cos
    neg = _A.clamp_min(cos - margin, 0)
    out = _O.where(target == 1, pos, zeros) + _O.where(target == -1, neg, zeros)
    return _apply_reduction(out, reduction)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                        size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """Mirrors `torch.nn.functional.margin_ranking_loss`: max(0, -target·(input1 - input2) + margin)."""
    reduction = _begin("margin_ranking_loss", (input1, input2, target), reduction, size_average, reduce)
    if not (input1.ndim == input2.ndim == target.ndim):
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
                           f"input1: {input1.size()!r}, input2: {input2.size()!r}, target: {target.size()!r} ")
    out = _A.clamp_min(-target * (input1 - input2) + margin, 0)
    return _apply_reduction(out, reduction)


def soft_margin_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
                     reduction: str = "mean") -> Tensor:
    """Mirrors `torch.nn.functional.soft_margin_loss`: log(1 + exp(-target·input))."""
    reduction = _begin("soft_margin_loss", (input, target), reduction, size_average, reduce, size_warning=True)
    _not_diff("soft_margin_loss", "target", target)
    from ..._ops._registry import _check_broadcast
    _check_broadcast(tuple(input.shape), tuple(target.shape))
    shape = np.broadcast_shapes(tuple(input.shape), tuple(target.shape))
    if tuple(shape) != tuple(input.shape):  # torch computes the loss into a tensor of the input's shape
        raise RuntimeError(f"output with shape {list(input.shape)} doesn't match the broadcast shape {list(shape)}")
    return _A.soft_margin_op(input, target, reduction)


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average: Any = None, eps: float = 1e-8, reduce: Any = None,
                     reduction: str = "mean") -> Tensor:
    """Mirrors `torch.nn.functional.poisson_nll_loss`: exp(input) - target·input (log_input), or
    input - target·log(input + eps); `full` adds Stirling's term where target > 1."""
    reduction = _begin("poisson_nll_loss", (input, target), reduction, size_average, reduce)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        stirling = target * target.log() - target + (target * (2 * math.pi)).log() * 0.5
        loss = loss + _O.where(target > 1, stirling, 0.0)
    return _apply_reduction(loss, reduction)
