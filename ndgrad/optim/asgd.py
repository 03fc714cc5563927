"""Averaged SGD. Mirrors `torch.optim.ASGD` (in-place NumPy updates per parameter)."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..autograd.grad_mode import no_grad
from .adam import _check_flags, _grad
from .optimizer import Optimizer, _run_closure, _rv, _step_tensor, _zeros_like

__all__ = ["ASGD"]


class ASGD(Optimizer):
    """Averaged stochastic gradient descent (Polyak-Juditsky), with the average kept in state['ax']."""

    def __init__(self, params: Any, lr: float = 1e-2, lambd: float = 1e-4, alpha: float = 0.75, t0: float = 1e6,
                 weight_decay: float = 0, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        _check_flags(foreach, differentiable, None)
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))

    def step(self, closure: Callable | None = None) -> Any:
        """One ASGD update of every parameter that has a gradient."""
        loss = _run_closure(closure)
        with no_grad():
            for group in self.param_groups:
                lr, lambd, alpha, t0, wd = (float(group["lr"]), group["lambd"], group["alpha"], group["t0"],
                                            group["weight_decay"])
                for p in group["params"]:
                    g = _grad(p, group["maximize"])
                    if g is None:
                        continue
                    state = self.state[p]
                    if len(state) == 0:
                        state["step"] = _step_tensor()
                        state["eta"] = _step_tensor()
                        state["eta"]._data[...] = lr
                        state["mu"] = _step_tensor()
                        state["mu"]._data[...] = 1.0
                        state["ax"] = _zeros_like(p)
                    x, ax = _rv(p._data), _rv(state["ax"]._data)
                    st, eta, mu = state["step"]._data, state["eta"]._data, state["mu"]._data
                    st += 1
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
                    step = float(st)
                    eta[...] = lr / (1 + lambd * lr * step) ** alpha
                    mu[...] = 1 / max(1, step - t0)
                    p._vc[0] += 1
        return loss
