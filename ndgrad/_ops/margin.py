"""Losses with a node of their own in torch: multi_margin_loss (MultiMarginLossBackward0), multilabel_margin_loss
(MultilabelMarginLossBackward0) and ctc (CtcLossBackward0). `nn/_functional/loss_extra.py` checks arguments.

- The margin losses are piecewise polynomial in the input: their formulas take the active pieces from the saved
  input's values and are written in ndgrad ops, so double backward works (torch does not implement it for these).
- ctc runs the forward-backward (alpha-beta) recursion in log space in NumPy. Its gradient is torch's,
  exp(lp) - posterior, not the derivative -posterior itself: the two agree once they go through a log_softmax
  (the posterior's rows sum to 1), which is how ctc is used. Double backward raises torch's error; forward mode
  (which torch lacks) uses the true derivative.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .._quiet import quiet
from .._tensor import Tensor, _wrap
from ._registry import NONE, Op
from .reduction import sum_dim
from .shape import unsafe_view

__all__: list = []
METHODS: dict = {}


def _arr(x) -> np.ndarray:
    return x._data if isinstance(x, Tensor) else x


def _const(a, like):
    return _wrap(np.asarray(a)) if isinstance(like, Tensor) else a


def _reduce_np(per: np.ndarray, reduction: str, shape_none: tuple, dtype) -> np.ndarray:
    if reduction == "none":
        return per.reshape(shape_none).astype(dtype, copy=False)
    if reduction == "sum":
        return np.asarray(per.sum(), dtype)
    return np.asarray(per.mean() if per.size else 0.0, dtype)


def _grad_factor(grad, n: int, reduction: str):
    """The incoming gradient as a (n, 1) column (or a scalar factor) for the per-sample losses."""
    if reduction == "none":
        return unsafe_view(grad, (n, 1))
    return grad * (1.0 / n) if reduction == "mean" and n else grad


# ----------------------------------------------------------------------------------------------- multi margin
def _mm_parts(x: np.ndarray, target: np.ndarray, margin: float):
    c = x.shape[-1] if x.ndim else 1
    x2 = x.reshape(-1, c)
    n = x2.shape[0]
    onehot = np.zeros((n, c), bool)
    onehot[np.arange(n), target] = True
    z = margin - x2[np.arange(n), target][:, None] + x2
    return x2, onehot, z, n, c


def _multi_margin_fwd(self, target, p, margin, weight, reduction, none_shape):
    x2, onehot, z, n, c = _mm_parts(self, target, margin)
    h = np.where(onehot, 0, np.maximum(z, 0))
    if p == 2:
        h = h * h
    if weight is not None:
        h = h * weight[target][:, None]
    return _reduce_np(h.sum(1) / c, reduction, none_shape, self.dtype)


def _multi_margin_grad(grad, self, target, p, margin, weight, reduction):
    xv = _arr(self)
    x2v, onehot, zv, n, c = _mm_parts(xv, target, margin)
    mask = ((zv > 0) & ~onehot).astype(xv.dtype)
    if weight is not None:
        mask = mask * weight[target][:, None]
    if p == 2:  # d/dx of z², with z = margin - x[y] + x[i] a function of the input
        x2 = unsafe_view(self, (n, c))
        oh = _const(onehot.astype(xv.dtype), self)
        zt = margin - sum_dim(x2 * oh, (1,), True) + x2
        d = zt * _const(mask * (2.0 / c), self)
    else:
        d = _const(mask / c, self)
    d = d * _grad_factor(grad, n, reduction)
    oh = _const(onehot.astype(xv.dtype), d)
    return unsafe_view(d - oh * sum_dim(d, (1,), True), tuple(xv.shape))


_multi_margin_op = Op("multi_margin_loss", _multi_margin_fwd, ("self",),
                      ("target", "p", "margin", "weight", "reduction", "none_shape"),
                      node="MultiMarginLossBackward0", dtype=NONE)
_multi_margin_op.defvjp(self=_multi_margin_grad)
multi_margin_op = _multi_margin_op


def multi_margin_loss(x: Tensor, target: np.ndarray, p: int, margin: float, weight, reduction: str,
                      none_shape: tuple | None = None) -> Tensor:
    if none_shape is None:
        none_shape = (x.shape[0],) if x.ndim == 2 else ()
    return _multi_margin_op(x, target, p, margin, weight, reduction, tuple(none_shape))


# ----------------------------------------------------------------------------------------------- multilabel margin
def _ml_active(x: np.ndarray, target: np.ndarray):
    """Per sample: the pairs (j a target, i not one) with a positive hinge 1 - x[j] + x[i], j counted as often as
    it is listed (before the first -1)."""
    c = x.shape[-1] if x.ndim else 1
    x2 = x.reshape(-1, c)
    n = x2.shape[0]
    listed = np.cumprod(target >= 0, axis=1).astype(bool)  # entries before the first -1
    counts = np.zeros((n, c))
    rows = np.repeat(np.arange(n), c).reshape(n, c)
    np.add.at(counts, (rows[listed], target[listed]), 1)
    not_target = (counts == 0).astype(x.dtype)
    z = 1 - x2[:, :, None] + x2[:, None, :]  # z[n, j, i]
    active = (z > 0) * counts[:, :, None] * not_target[:, None, :]
    return z, active, n, c


def _ml_fwd(self, target, reduction):
    z, active, n, c = _ml_active(self, target)
    per = (z * active).sum((1, 2)) / c
    return _reduce_np(per, reduction, (n,) if self.ndim == 2 else (), self.dtype)


def _ml_grad(grad, self, target, reduction):
    xv = _arr(self)
    _, active, n, c = _ml_active(xv, target)
    coef = ((active.sum(1) - active.sum(2)) / c).astype(xv.dtype)  # d/dx[i] and d/dx[j] of each active hinge
    g = _grad_factor(grad, n, reduction)
    return unsafe_view(_const(coef, g) * g, tuple(xv.shape))


multilabel_margin_op = Op("multilabel_margin_loss", _ml_fwd, ("self",), ("target", "reduction"),
                          node="MultilabelMarginLossBackward0", dtype=NONE)
multilabel_margin_op.defvjp(self=_ml_grad)


def multilabel_margin_loss(x: Tensor, target: np.ndarray, reduction: str) -> Tensor:
    return multilabel_margin_op(x, target, reduction)


# ----------------------------------------------------------------------------------------------- CTC
_NEG = -np.inf


def _ctc_tables(lp: np.ndarray, targets: np.ndarray, il: np.ndarray, tl: np.ndarray, blank: int):
    """log alpha, log beta (T, N, L), the extended labels (N, L) and the per-sample negative log-likelihood."""
    t_max, n, _ = lp.shape
    s_max = int(tl.max()) if n else 0
    length = 2 * s_max + 1
    ext = np.full((n, length), blank, np.int64)
    for b in range(n):
        ext[b, 1:2 * tl[b]:2] = targets[b, :tl[b]]
    skip = np.zeros((n, length), bool)
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    valid = np.arange(length)[None] < (2 * tl + 1)[:, None]
    lpe = np.take_along_axis(lp, np.broadcast_to(ext[None], (t_max, n, length)), axis=2)
    la = np.full((t_max, n, length), _NEG)
    lb = np.full((t_max, n, length), _NEG)
    if t_max == 0:
        return la, lb, ext, np.full(n, np.inf), lpe
    with quiet():
        la[0, :, 0] = lpe[0, :, 0]
        if length > 1:
            la[0, :, 1] = np.where(tl > 0, lpe[0, :, 1], _NEG)
        for t in range(1, t_max):
            prev = la[t - 1]
            a = prev.copy()
            a[:, 1:] = np.logaddexp(a[:, 1:], prev[:, :-1])
            a[:, 2:] = np.where(skip[:, 2:], np.logaddexp(a[:, 2:], prev[:, :-2]), a[:, 2:])
            la[t] = np.where(valid & (t < il)[:, None], a + lpe[t], _NEG)
        rows = np.arange(n)
        end = 2 * tl
        last = np.clip(il - 1, 0, None)
        nll = -np.logaddexp(la[last, rows, end], np.where(tl > 0, la[last, rows, np.maximum(end - 1, 0)], _NEG))
        nll = np.where(il > 0, nll, np.where(tl > 0, np.inf, 0.0))
        for t in range(t_max - 1, -1, -1):
            start = np.full((n, length), _NEG)
            start[rows, end] = lpe[t, rows, end]
            start[rows, np.maximum(end - 1, 0)] = np.where(tl > 0, lpe[t, rows, np.maximum(end - 1, 0)],
                                                           start[rows, np.maximum(end - 1, 0)])
            if t + 1 < t_max:
                nxt = lb[t + 1]
                b = nxt.copy()
                b[:, :-1] = np.logaddexp(b[:, :-1], nxt[:, 1:])
                b[:, :-2] = np.where(skip[:, 2:], np.logaddexp(b[:, :-2], nxt[:, 2:]), b[:, :-2])
                rec = np.where(valid, b + lpe[t], _NEG)
            else:
                rec = start
            lb[t] = np.where((t == il - 1)[:, None], start, np.where((t < il - 1)[:, None], rec, _NEG))
    return la, lb, ext, nll, lpe


def _ctc_fwd(log_probs, targets, il, tl, blank, zero_infinity):
    lp = log_probs.astype(np.float64)
    return _ctc_tables(lp, targets, il, tl, blank)[3].astype(log_probs.dtype)


def _ctc_post(lp, targets, il, tl, blank, zero_infinity):
    """The posterior occupation of each label at each time (T, N, C), zero past each input length, and exp(lp)."""
    t_max, n, c = lp.shape
    la, lb, ext, nll, lpe = _ctc_tables(lp, targets, il, tl, blank)
    with quiet():
        occ = np.exp(la + lb + nll[None, :, None] - lpe)
        occ = np.where(np.isnan(occ), 0.0, occ)
        post = np.zeros((t_max, n, c))
        tt, nn = np.meshgrid(np.arange(t_max), np.arange(n), indexing="ij")
        for s in range(ext.shape[1]):
            np.add.at(post, (tt, nn, np.broadcast_to(ext[None, :, s], (t_max, n))), occ[:, :, s])
        live = (np.arange(t_max)[:, None] < il[None, :])[:, :, None]
        if zero_infinity:
            live = live & ~np.isinf(nll)[None, :, None]
    return np.where(live, post, 0.0), np.where(live, np.exp(lp), 0.0)


def _ctc_grad_np(grad, log_probs, targets, il, tl, blank, zero_infinity):
    post, p = _ctc_post(log_probs.astype(np.float64), targets, il, tl, blank, zero_infinity)
    return ((p - post) * np.asarray(grad, np.float64)[None, :, None]).astype(log_probs.dtype)


def _ctc_jvp(ts, log_probs, targets, il, tl, blank, zero_infinity, result):
    """The true derivative (minus the posterior) against the tangent; torch's reverse formula adds exp(lp), which
    is orthogonal to the tangents of normalised log-probabilities, so the two agree there."""
    lp = log_probs._data if isinstance(log_probs, Tensor) else log_probs
    post, _ = _ctc_post(lp.astype(np.float64), targets, il, tl, blank, zero_infinity)
    return sum_dim(ts[0] * _const((-post).astype(lp.dtype), ts[0]), (0, 2), False)


def _ctc_backward_fwd(grad, log_probs, targets, il, tl, blank, zero_infinity):
    return _ctc_grad_np(grad, log_probs, targets, il, tl, blank, zero_infinity)


def _no_double(*_a: Any) -> Any:
    raise RuntimeError("derivative for aten::_ctc_loss_backward is not implemented")


ctc_op = Op("ctc_loss", _ctc_fwd, ("log_probs",), ("targets", "il", "tl", "blank", "zero_infinity"),
            node="CtcLossBackward0", dtype=NONE)
ctc_backward = Op("ctc_loss_backward", _ctc_backward_fwd, ("grad", "log_probs"),
                  ("targets", "il", "tl", "blank", "zero_infinity"), dtype=NONE)
ctc_op.defvjp(log_probs=lambda grad, log_probs, targets, il, tl, blank, zero_infinity:
              ctc_backward(grad, log_probs, targets, il, tl, blank, zero_infinity))
ctc_backward.defvjp(grad=lambda grad: _no_double(), log_probs=lambda grad: _no_double())
ctc_op.defjvp(_ctc_jvp)


def _lengths(v: Any, name: str) -> np.ndarray:
    if isinstance(v, Tensor):
        return np.asarray(v._data, np.int64).reshape(-1)
    vals = [v] if isinstance(v, (int, np.integer)) else list(v)
    if not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in vals):
        raise TypeError(_CTC_OVERLOADS)
    return np.asarray(vals, np.int64)


# torch.ctc_loss's two overloads: both lengths as int lists, or both as tensors
_CTC_OVERLOADS = ("ctc_loss() received an invalid combination of arguments, but expected one of:\n"
                  " * (Tensor log_probs, Tensor targets, tuple of ints input_lengths, tuple of ints target_lengths, "
                  "int blank = 0, int reduction = at::Reduction::Mean, bool zero_infinity = False)\n"
                  " * (Tensor log_probs, Tensor targets, Tensor input_lengths, Tensor target_lengths, int blank = 0, "
                  "int reduction = at::Reduction::Mean, bool zero_infinity = False)\n")


def ctc(log_probs: Tensor, targets: Tensor, input_lengths: Any, target_lengths: Any, blank: int, reduction: str,
        zero_infinity: bool) -> Tensor:
    """F.ctc_loss: checks, the per-sample op, then torch's reduction (each loss over its target length)."""
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    unbatched = log_probs.ndim == 2
    lp = log_probs.unsqueeze(1) if unbatched else log_probs
    if lp.ndim != 3:
        raise RuntimeError(f"ctc_loss: expected log_probs to be 2-D or 3-D, but got {log_probs.ndim}-D")
    t_max, n, c = lp.shape
    if isinstance(input_lengths, Tensor) != isinstance(target_lengths, Tensor):
        raise TypeError(_CTC_OVERLOADS)
    il = _lengths(input_lengths, "input_lengths")
    tl = _lengths(target_lengths, "target_lengths")
    for lengths, name in ((il, "input_lengths"), (tl, "target_lengths")):
        if lengths.size and lengths.min() < 0:
            raise RuntimeError(f"Expected {name} to have value at least 0, but got value {lengths.min()} (while "
                               "checking arguments for ctc_loss_allocate_outputs)")
    tg = np.asarray(targets._data, np.int64)
    if unbatched:
        tg = tg.reshape(1, -1)
    if il.size != n:
        raise RuntimeError(f"input_lengths must be of size batch_size, but got {il.size} != {n}")  # torch words it so
    if tl.size != n:
        raise RuntimeError(f"target_lengths must be of size batch_size, but got {tl.size} != {n}")
    if not 0 <= blank < c:
        raise RuntimeError("blank must be in label range")
    if tg.ndim == 1:  # concatenated targets: cut them into rows
        offs = np.concatenate([[0], np.cumsum(tl)])
        rows = np.zeros((n, int(tl.max()) if n else 0), np.int64)
        for b in range(n):
            rows[b, :tl[b]] = tg[offs[b]:offs[b + 1]]
        tg = rows
    for b in range(n):
        if il[b] > t_max:
            raise RuntimeError(f"Expected input_lengths to have value at most {t_max}, but got value {il[b]} "
                               f"(while checking arguments for ctc_loss_cpu)")
        if tl[b] > tg.shape[1]:
            raise RuntimeError(f"Expected tensor to have size at least {tl[b]} at dimension 1, but got size "
                               f"{tg.shape[1]} for argument #2 'targets' (while checking arguments for ctc_loss_cpu)")
    per = ctc_op(lp, tg, il, tl, int(blank), bool(zero_infinity))
    if zero_infinity:  # torch's where (the op's gradient is already zero there)
        from .pointwise import where
        per = where(per == np.inf, _wrap(np.zeros((), per._data.dtype)), per)
    if reduction == "mean":
        from .activation import clamp_min
        per = per / clamp_min(_wrap(tl.astype(np.int64)), 1).to(per.dtype)
        return per.mean()
    if reduction == "sum":
        return per.sum()
    return per.squeeze(0) if unbatched else per
