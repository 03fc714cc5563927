"""Adadelta. Mirrors `torch.optim.Adadelta` (in-place NumPy updates per parameter)."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .adam import _check_flags
from .optimizer import Optimizer, _check_ge0, _count_step, _rv, _step_tensor, _zeros_like

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta, as torch's."""

    def __init__(self, params: Any, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6, weight_decay: float = 0,
                 foreach: bool | None = None, *, capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:
        _check_ge0(("learning rate", lr))
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _check_ge0(("epsilon value", eps), ("weight_decay value", weight_decay))
        _check_flags(foreach, differentiable, None)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                                      capturable=capturable, foreach=foreach, differentiable=differentiable))

    def step(self, closure: Callable | None = None) -> Any:
        """One Adadelta update of every parameter that has a gradient."""
        return self._step_each(closure)

    def _hparams(self, group: dict) -> tuple:
        return float(group["lr"]), group["rho"], group["eps"], group["weight_decay"]

    def _init_state(self, p: Any, state: dict, group: dict) -> None:
        state["step"] = _step_tensor()
        state["square_avg"] = _zeros_like(p)
        state["acc_delta"] = _zeros_like(p)

    def _update(self, p: Any, g: np.ndarray, state: dict, lr: float, rho: float, eps: float, wd: float) -> None:
        x = _rv(p._data)
        _count_step(state)
        if wd != 0:
            g = g + wd * x
        sq, acc = _rv(state["square_avg"]._data), _rv(state["acc_delta"]._data)
        t = np.multiply(g, g, out=np.empty_like(g))  # an array even for 0-d parameters
        t *= 1 - rho
        sq *= rho
        sq += t
        std = np.add(sq, eps, out=np.empty_like(sq))
        np.sqrt(std, out=std)
        np.add(acc, eps, out=t)
        np.sqrt(t, out=t)               # delta
        t /= std
        t *= g
        acc *= rho
        np.multiply(t, t, out=std)
        std *= 1 - rho
        acc += std
        t *= -lr
        x += t
