"""Stochastic gradient descent. Mirrors `torch.optim.SGD`."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..autograd.grad_mode import no_grad
from .optimizer import Optimizer

__all__ = ["SGD"]


class SGD(Optimizer):
    """SGD with momentum, dampening, Nesterov, weight decay and maximize, as torch's."""

    def __init__(self, params: Any, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: Any = None, differentiable: bool = False, fused: Any = None) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize, foreach=foreach,
                                      differentiable=differentiable, fused=fused))

    def step(self, closure: Callable | None = None) -> Any:
        """One update of every parameter that has a gradient."""
        loss = None
        if closure is not None:
            from ..autograd.grad_mode import enable_grad
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                lr, mom, damp = group["lr"], group["momentum"], group["dampening"]
                wd, nest, maxi = group["weight_decay"], group["nesterov"], group["maximize"]
                for p in group["params"]:
                    if p._grad is None:
                        continue
                    d_p = p._grad._data
                    if maxi:
                        d_p = -d_p
                    if wd != 0:
                        d_p = d_p + wd * p._data
                    if mom != 0:
                        state = self.state.setdefault(p, {})
                        buf = state.get("momentum_buffer")
                        if buf is None:
                            from .._tensor import _wrap
                            buf = _wrap(np.array(d_p, copy=True))
                            state["momentum_buffer"] = buf
                        else:
                            b = buf._data
                            b *= mom
                            b += (1 - damp) * d_p
                        d_p = d_p + mom * buf._data if nest else buf._data
                    p._data -= (lr * d_p).astype(p._data.dtype, copy=False)
                    p._vc[0] += 1
        return loss
