"""RAdam. Mirrors `torch.optim.RAdam` (in-place NumPy updates per parameter)."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .adam import _check_common, _check_flags, _ema_sq_, _lerp_
from .optimizer import Optimizer, _count_step, _rv, _step_tensor, _zeros_like

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """RAdam (rectified Adam), as torch's."""

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False) -> None:
        _check_common(lr, eps, betas, weight_decay)
        _check_flags(foreach, differentiable, None)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize,
                                      foreach=foreach, capturable=capturable,
                                      decoupled_weight_decay=decoupled_weight_decay, differentiable=differentiable))

    def step(self, closure: Callable | None = None) -> Any:
        """One RAdam update of every parameter that has a gradient."""
        return self._step_each(closure)

    def _hparams(self, group: dict) -> tuple:
        lr = float(group["lr"])
        b1, b2 = (float(b) for b in group["betas"])
        return lr, b1, b2, group["eps"], group["weight_decay"], group

    def _init_state(self, p: Any, state: dict, group: dict) -> None:
        state["step"] = _step_tensor()
        state["exp_avg"] = _zeros_like(p)
        state["exp_avg_sq"] = _zeros_like(p)

    def _update(self, p: Any, g: np.ndarray, state: dict, lr: float, b1: float, b2: float, eps: float, wd: float,
                group: dict) -> None:
        x = _rv(p._data)
        step = _count_step(state)
        if wd != 0:
            if group["decoupled_weight_decay"]:
                x *= 1 - lr * wd
            else:
                g = g + wd * x
        m, v = _rv(state["exp_avg"]._data), _rv(state["exp_avg_sq"]._data)
        t = _lerp_(m, g, 1 - b1)
        _ema_sq_(v, g, b2, t)
        bc1 = 1 - b1 ** step
        bc2 = 1 - b2 ** step
        rho_inf = 2 / (1 - b2) - 1
        rho_t = rho_inf - 2 * step * b2 ** step / bc2
        upd = m / bc1
        upd *= lr
        if rho_t > 5.0:
            np.sqrt(v, out=t)
            t += eps
            np.divide(bc2 ** 0.5, t, out=t)     # adaptive lr
            upd *= t
            upd *= ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
        x -= upd
