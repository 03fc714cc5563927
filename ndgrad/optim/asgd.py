"""Averaged SGD. Mirrors `torch.optim.ASGD` (in-place NumPy updates per parameter)."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .adam import _check_flags
from .optimizer import Optimizer, _check_ge0, _count_step, _rv, _step_tensor, _zeros_like

__all__ = ["ASGD"]


class ASGD(Optimizer):
    """Averaged stochastic gradient descent (Polyak-Juditsky), with the average kept in state['ax']."""

    def __init__(self, params: Any, lr: float = 1e-2, lambd: float = 1e-4, alpha: float = 0.75, t0: float = 1e6,
                 weight_decay: float = 0, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        _check_ge0(("learning rate", lr), ("weight_decay value", weight_decay))
        _check_flags(foreach, differentiable, None)
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))

    def step(self, closure: Callable | None = None) -> Any:
        """One ASGD update of every parameter that has a gradient."""
        return self._step_each(closure)

    def _hparams(self, group: dict) -> tuple:
        return float(group["lr"]), group["lambd"], group["alpha"], group["t0"], group["weight_decay"]

    def _init_state(self, p: Any, state: dict, group: dict) -> None:
        state["step"] = _step_tensor()
        state["eta"] = _step_tensor()
        state["eta"]._data[...] = float(group["lr"])
        state["mu"] = _step_tensor()
        state["mu"]._data[...] = 1.0
        state["ax"] = _zeros_like(p)

    def _update(self, p: Any, g: np.ndarray, state: dict, lr: float, lambd: float, alpha: float, t0: float,
                wd: float) -> None:
        x, ax = _rv(p._data), _rv(state["ax"]._data)
        eta, mu = state["eta"]._data, state["mu"]._data
        step = _count_step(state)
        if wd != 0:
            g = g + wd * x
        e = float(eta)
        x *= 1 - lambd * e
        x -= g * e
        m = float(mu)
        if m != 1:
            t = x - ax
            t *= m
            ax += t
        else:
            ax[...] = x
        eta[...] = lr / (1 + lambd * lr * step) ** alpha
        mu[...] = 1 / max(1, step - t0)
