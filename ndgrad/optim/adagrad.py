"""Adagrad. Mirrors `torch.optim.Adagrad` (in-place NumPy updates per parameter)."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..autograd.grad_mode import no_grad
from .adam import _check_flags, _grad
from .optimizer import Optimizer, _run_closure, _rv, _step_tensor, _zeros_like

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad with lr decay, weight decay, initial accumulator and maximize, as torch's."""

    def __init__(self, params: Any, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False, fused: bool | None = None) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _check_flags(foreach, differentiable, fused)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, fused=fused))
        for group in self.param_groups:       # torch creates Adagrad's state eagerly
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p: Any, group: dict) -> dict:
        state = self.state[p]
        state["step"] = _step_tensor()
        state["sum"] = _zeros_like(p, group["initial_accumulator_value"])
        return state

    def step(self, closure: Callable | None = None) -> Any:
        """One Adagrad update of every parameter that has a gradient."""
        loss = _run_closure(closure)
        with no_grad():
            for group in self.param_groups:
                lr, lr_decay, eps, wd = float(group["lr"]), group["lr_decay"], group["eps"], group["weight_decay"]
                for p in group["params"]:
                    g = _grad(p, group["maximize"])
                    if g is None:
                        continue
                    state = self.state[p]
                    if len(state) == 0:
                        state = self._init_state(p, group)
                    x = _rv(p._data)
                    st = state["step"]._data
                    st += 1
                    if wd != 0:
                        g = g + wd * x
                    clr = lr / (1 + (float(st) - 1) * lr_decay)
                    s = _rv(state["sum"]._data)
                    t = np.multiply(g, g)
                    s += t
                    np.sqrt(s, out=t)
                    t += eps
                    np.divide(g, t, out=t)
                    t *= -clr
                    x += t
                    p._vc[0] += 1
        return loss
