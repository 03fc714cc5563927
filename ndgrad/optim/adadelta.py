"""Adadelta. Mirrors `torch.optim.Adadelta` (in-place NumPy updates per parameter)."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..autograd.grad_mode import no_grad
from .adam import _check_flags, _grad
from .optimizer import Optimizer, _run_closure, _rv, _step_tensor, _zeros_like

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta, as torch's."""

    def __init__(self, params: Any, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6, weight_decay: float = 0,
                 foreach: bool | None = None, *, capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        _check_flags(foreach, differentiable, None)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                                      capturable=capturable, foreach=foreach, differentiable=differentiable))

    def step(self, closure: Callable | None = None) -> Any:
        """One Adadelta update of every parameter that has a gradient."""
        loss = _run_closure(closure)
        with no_grad():
            for group in self.param_groups:
                lr, rho, eps, wd = float(group["lr"]), group["rho"], group["eps"], group["weight_decay"]
                for p in group["params"]:
                    g = _grad(p, group["maximize"])
                    if g is None:
                        continue
                    state = self.state[p]
                    if len(state) == 0:
                        state["step"] = _step_tensor()
                        state["square_avg"] = _zeros_like(p)
                        state["acc_delta"] = _zeros_like(p)
                    x = _rv(p._data)
                    st = state["step"]._data
                    st += 1
                    if wd != 0:
                        g = g + wd * x
                    sq, acc = _rv(state["square_avg"]._data), _rv(state["acc_delta"]._data)
                    t = np.multiply(g, g)
                    t *= 1 - rho
                    sq *= rho
                    sq += t
                    std = sq + eps
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
                    p._vc[0] += 1
        return loss
