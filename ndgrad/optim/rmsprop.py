"""RMSprop. Mirrors `torch.optim.RMSprop` (in-place NumPy updates per parameter)."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .._ops.pointwise import fma
from .adam import _check_flags, _ema_sq_, _lerp_
from .optimizer import Optimizer, _check_ge0, _count_step, _rv, _step_tensor, _zeros_like

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop with momentum, centering, weight decay and maximize, as torch's."""

    def __init__(self, params: Any, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False, differentiable: bool = False) -> None:
        _check_ge0(("learning rate", lr), ("epsilon value", eps), ("momentum value", momentum),
                   ("weight_decay value", weight_decay), ("alpha value", alpha))
        _check_flags(foreach, differentiable, None)
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                                      weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable))

    def step(self, closure: Callable | None = None) -> Any:
        """One RMSprop update of every parameter that has a gradient."""
        return self._step_each(closure)

    def _hparams(self, group: dict) -> tuple:
        return (float(group["lr"]), group["alpha"], group["eps"], group["weight_decay"], group["momentum"],
                group["centered"])

    def _init_state(self, p: Any, state: dict, group: dict) -> None:
        state["step"] = _step_tensor()
        state["square_avg"] = _zeros_like(p)
        if group["momentum"] > 0:
            state["momentum_buffer"] = _zeros_like(p)
        if group["centered"]:
            state["grad_avg"] = _zeros_like(p)

    def _update(self, p: Any, g: np.ndarray, state: dict, lr: float, alpha: float, eps: float, wd: float,
                mom: float, centered: bool) -> None:
        x = _rv(p._data)
        _count_step(state)
        # torch's sequence (fused multiply-adds through pointwise.fma, as its kernels)
        if wd != 0:
            g = fma(g, wd, x)  # grad.add(param, alpha=weight_decay)
        sq = _rv(state["square_avg"]._data)
        t = np.empty_like(g)  # an array even for 0-d parameters
        _ema_sq_(sq, g, alpha, t)  # square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
        if centered:
            ga = _rv(state["grad_avg"]._data)
            _lerp_(ga, g, 1 - alpha, t)
            fma(sq, np.negative(ga), ga, out=t)  # square_avg.addcmul(grad_avg, grad_avg, value=-1)
            np.sqrt(t, out=t)
        else:
            np.sqrt(sq, out=t)
        t += eps
        if mom > 0:
            buf = _rv(state["momentum_buffer"]._data)
            buf *= mom
            np.divide(g, t, out=t)  # buf.mul_(momentum).addcdiv_(grad, avg)
            buf += t
            fma(x, -lr, buf, out=x)  # param.add_(buf, alpha=-lr)
        else:
            np.divide(np.multiply(g, -lr), t, out=t)  # param.addcdiv_(grad, avg, value=-lr)
            x += t
