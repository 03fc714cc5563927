"""Adagrad. Mirrors `torch.optim.Adagrad` (in-place NumPy updates per parameter)."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .adam import _check_flags
from .._ops.pointwise import fma
from .optimizer import Optimizer, _check_ge0, _count_step, _rv, _step_tensor, _zeros_like

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad with lr decay, weight decay, initial accumulator and maximize, as torch's."""

    def __init__(self, params: Any, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False, fused: bool | None = None) -> None:
        _check_ge0(("learning rate", lr), ("lr_decay value", lr_decay), ("weight_decay value", weight_decay),
                   ("initial_accumulator_value value", initial_accumulator_value), ("epsilon value", eps))
        _check_flags(foreach, differentiable, fused)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, fused=fused))
        for group in self.param_groups:       # torch creates Adagrad's state eagerly
            for p in group["params"]:
                self._init_state(p, self.state[p], group)

    def _init_state(self, p: Any, state: dict, group: dict) -> None:
        state["step"] = _step_tensor()
        state["sum"] = _zeros_like(p, group["initial_accumulator_value"])

    def step(self, closure: Callable | None = None) -> Any:
        """One Adagrad update of every parameter that has a gradient."""
        return self._step_each(closure)

    def _hparams(self, group: dict) -> tuple:
        return float(group["lr"]), group["lr_decay"], group["eps"], group["weight_decay"]

    def _update(self, p: Any, g: np.ndarray, state: dict, lr: float, lr_decay: float, eps: float,
                wd: float) -> None:
        x = _rv(p._data)
        step = _count_step(state)
        # torch's sequence (fused multiply-adds through pointwise.fma, as its kernels)
        if wd != 0:
            g = fma(g, wd, x)  # grad.add(param, alpha=weight_decay)
        clr = lr / (1 + (step - 1) * lr_decay)
        s = _rv(state["sum"]._data)
        fma(s, g, g, out=s)  # state_sum.addcmul_(grad, grad, value=1)
        t = np.sqrt(s, out=np.empty_like(g))  # an array even for 0-d parameters
        t += eps
        np.divide(np.multiply(g, -clr), t, out=t)  # param.addcdiv_(grad, std, value=-clr)
        x += t
