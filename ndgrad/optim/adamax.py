"""Adamax. Mirrors `torch.optim.Adamax` (in-place NumPy updates per parameter)."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .adam import _check_common, _check_flags, _lerp_
from .optimizer import Optimizer, _count_step, _rv, _step_tensor, _zeros_like

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Adamax (Adam with the infinity norm), as torch's."""

    def __init__(self, params: Any, lr: float = 2e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        _check_common(lr, eps, betas, weight_decay)
        _check_flags(foreach, differentiable, None)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, capturable=capturable))

    def step(self, closure: Callable | None = None) -> Any:
        """One Adamax update of every parameter that has a gradient."""
        return self._step_each(closure)

    def _hparams(self, group: dict) -> tuple:
        lr = float(group["lr"])
        b1, b2 = (float(b) for b in group["betas"])
        return lr, b1, b2, group["eps"], group["weight_decay"]

    def _init_state(self, p: Any, state: dict, group: dict) -> None:
        state["step"] = _step_tensor()
        state["exp_avg"] = _zeros_like(p)
        state["exp_inf"] = _zeros_like(p)

    def _update(self, p: Any, g: np.ndarray, state: dict, lr: float, b1: float, b2: float, eps: float,
                wd: float) -> None:
        x = _rv(p._data)
        step = _count_step(state)
        if wd != 0:
            g = g + wd * x
        m, u = _rv(state["exp_avg"]._data), _rv(state["exp_inf"]._data)
        t = _lerp_(m, g, 1 - b1)
        u *= b2
        np.abs(g, out=t)
        t += eps
        np.maximum(u, t, out=u)
        clr = lr / (1 - b1 ** step)
        np.divide(m, u, out=t)
        t *= -clr
        x += t
