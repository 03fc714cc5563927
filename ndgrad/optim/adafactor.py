"""Adafactor. Mirrors `torch.optim.Adafactor` (factored second moments for matrices; NumPy updates)."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .._tensor import _wrap
from .adam import _lerp_
from .optimizer import Optimizer, _count_step, _step_tensor, _zeros_like

__all__ = ["Adafactor"]


class Adafactor(Optimizer):
    """Adafactor (Shazeer & Stern) as torch implements it: lr caps the relative step, decoupled weight decay."""

    _complex_error = "Adafactor does not support complex parameters"

    def __init__(self, params: Any, lr: float = 1e-2, beta2_decay: float = -0.8, eps: tuple = (None, 1e-3),
                 d: float = 1.0, weight_decay: float = 0.0, *, foreach: bool | None = None,
                 maximize: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        super().__init__(params, dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize))

    def step(self, closure: Callable | None = None) -> Any:
        """One Adafactor update of every parameter that has a gradient."""
        return self._step_each(closure)

    def _hparams(self, group: dict) -> tuple:
        lr, decay, d, wd = float(group["lr"]), group["beta2_decay"], group["d"], group["weight_decay"]
        eps1, eps2 = group["eps"]
        return lr, decay, d, wd, eps1, eps2

    def _init_state(self, p: Any, state: dict, group: dict) -> None:
        g = p._grad._data
        state["step"] = _step_tensor()
        if g.ndim > 1:
            state["row_var"] = _wrap(np.zeros(g.shape[:-1] + (1,), g.dtype))
            state["col_var"] = _wrap(np.zeros(g.shape[:-2] + (1,) + g.shape[-1:], g.dtype))
        else:
            state["variance"] = _zeros_like(p)

    def _update(self, p: Any, g: np.ndarray, state: dict, lr: float, decay: float, d: float, wd: float,
                eps1: float | None, eps2: float) -> None:
        x = p._data
        e1 = float(np.finfo(x.dtype).eps) if eps1 is None else eps1
        step = _count_step(state)
        w = step ** decay
        rho = min(lr, 1 / step ** 0.5)
        alpha = max(eps2, float(np.sqrt(np.vdot(x, x).real)) / x.size ** 0.5) * rho
        if wd != 0:
            x *= 1 - lr * wd
        gg = g * g
        if g.ndim > 1:
            r, c = state["row_var"]._data, state["col_var"]._data
            row = np.sqrt(gg.sum(axis=-1, keepdims=True))
            np.square(row, out=row)
            row /= g.shape[-1]
            _lerp_(r, row, w)
            col = np.sqrt(gg.sum(axis=-2, keepdims=True))
            np.square(col, out=col)
            col /= g.shape[-2]
            _lerp_(c, col, w)
            v = r @ c
            v /= np.maximum(r.mean(axis=-2, keepdims=True), e1)
        else:
            var = state["variance"]._data
            _lerp_(var, gg, w)
            v = var.copy()
        np.maximum(v, e1 * e1, out=v)
        np.sqrt(v, out=v)
        np.divide(1, v, out=v)
        v *= g
        denom = max(1.0, float(np.sqrt(np.vdot(v, v).real)) / (v.size ** 0.5 * d))
        v *= -alpha / denom
        x += v.astype(x.dtype, copy=False)
