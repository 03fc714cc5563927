"""NAdam. Mirrors `torch.optim.NAdam` (in-place NumPy updates per parameter)."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .adam import _check_common, _check_flags, _ema_sq_, _lerp_
from .optimizer import Optimizer, _check_ge0, _count_step, _rv, _step_tensor, _zeros_like

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """NAdam (Adam with Nesterov momentum and momentum decay), as torch's."""

    def __init__(self, params: Any, lr: float = 2e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        _check_common(lr, eps, betas, weight_decay)
        _check_ge0(("momentum_decay value", momentum_decay))
        _check_flags(foreach, differentiable, None)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      differentiable=differentiable))

    def step(self, closure: Callable | None = None) -> Any:
        """One NAdam update of every parameter that has a gradient."""
        return self._step_each(closure)

    def _hparams(self, group: dict) -> tuple:
        lr = float(group["lr"])
        b1, b2 = (float(b) for b in group["betas"])
        return lr, b1, b2, group["eps"], group["weight_decay"], group["momentum_decay"], group

    def _init_state(self, p: Any, state: dict, group: dict) -> None:
        state["step"] = _step_tensor()
        mp = _step_tensor()
        mp._data[...] = 1.0
        state["mu_product"] = mp
        state["exp_avg"] = _zeros_like(p)
        state["exp_avg_sq"] = _zeros_like(p)

    def _update(self, p: Any, g: np.ndarray, state: dict, lr: float, b1: float, b2: float, eps: float, wd: float,
                psi: float, group: dict) -> None:
        x = _rv(p._data)
        step = _count_step(state)
        bc2 = 1 - b2 ** step
        if wd != 0:
            if group["decoupled_weight_decay"]:
                x *= 1 - lr * wd
            else:
                g = g + wd * x
        mu = b1 * (1.0 - 0.5 * 0.96 ** (step * psi))
        mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * psi))
        mpa = state["mu_product"]._data
        mpa *= mu                      # kept in the state's (scalar) dtype, as torch does
        mu_prod = float(mpa)
        m, v = _rv(state["exp_avg"]._data), _rv(state["exp_avg_sq"]._data)
        t = _lerp_(m, g, 1 - b1)
        _ema_sq_(v, g, b2, t)
        denom = np.divide(v, bc2, out=np.empty_like(v))
        np.sqrt(denom, out=denom)
        denom += eps
        np.divide(g, denom, out=t)
        t *= -lr * (1.0 - mu) / (1.0 - mu_prod)
        x += t
        np.divide(m, denom, out=t)
        t *= -lr * mu_next / (1.0 - mu_prod * mu_next)
        x += t
