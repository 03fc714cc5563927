"""RMSprop. Mirrors `torch.optim.RMSprop` (in-place NumPy updates per parameter)."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..autograd.grad_mode import no_grad
from .adam import _check_flags, _grad, _lerp_
from .optimizer import Optimizer, _run_closure, _rv, _step_tensor, _zeros_like

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop with momentum, centering, weight decay and maximize, as torch's."""

    def __init__(self, params: Any, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False, differentiable: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        _check_flags(foreach, differentiable, None)
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                                      weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable))

    def step(self, closure: Callable | None = None) -> Any:
        """One RMSprop update of every parameter that has a gradient."""
        loss = _run_closure(closure)
        with no_grad():
            for group in self.param_groups:
                lr, alpha, eps = float(group["lr"]), group["alpha"], group["eps"]
                wd, mom, centered = group["weight_decay"], group["momentum"], group["centered"]
                for p in group["params"]:
                    g = _grad(p, group["maximize"])
                    if g is None:
                        continue
                    state = self.state[p]
                    if len(state) == 0:
                        state["step"] = _step_tensor()
                        state["square_avg"] = _zeros_like(p)
                        if mom > 0:
                            state["momentum_buffer"] = _zeros_like(p)
                        if centered:
                            state["grad_avg"] = _zeros_like(p)
                    x = _rv(p._data)
                    st = state["step"]._data
                    st += 1
                    if wd != 0:
                        g = g + wd * x
                    sq = _rv(state["square_avg"]._data)
                    t = np.multiply(g, g)
                    t *= 1 - alpha
                    sq *= alpha
                    sq += t
                    if centered:
                        ga = _rv(state["grad_avg"]._data)
                        _lerp_(ga, g, 1 - alpha, t)
                        np.multiply(ga, ga, out=t)
                        np.subtract(sq, t, out=t)
                        np.sqrt(t, out=t)
                    else:
                        np.sqrt(sq, out=t)
                    t += eps
                    if mom > 0:
                        buf = _rv(state["momentum_buffer"]._data)
                        buf *= mom
                        np.divide(g, t, out=t)
                        buf += t
                        np.multiply(buf, -lr, out=t)
                    else:
                        np.divide(g, t, out=t)
                        t *= -lr
                    x += t
                    p._vc[0] += 1
        return loss
