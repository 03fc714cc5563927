"""Stochastic gradient descent. Mirrors `torch.optim.SGD`."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .._tensor import _wrap
from .._ops.pointwise import fma
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

    _complex_as_real = False    # the momentum buffer keeps the parameter's (complex) dtype
    _keeps_state = False        # state (the momentum buffer) exists only with momentum, as in torch

    def step(self, closure: Callable | None = None) -> Any:
        """One update of every parameter that has a gradient."""
        return self._step_each(closure)

    def _hparams(self, group: dict) -> tuple:
        return group["lr"], group["momentum"], group["dampening"], group["weight_decay"], group["nesterov"]

    def _update(self, p: Any, d_p: np.ndarray, state: None, lr: Any, mom: float, damp: float, wd: float,
                nest: bool) -> None:
        # torch's sequence of alpha-forms, each one fused multiply-add (pointwise.fma)
        if wd != 0:
            d_p = fma(d_p, wd, p._data)  # grad.add(param, alpha=weight_decay)
        if mom != 0:
            state = self.state.setdefault(p, {})
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = _wrap(np.array(d_p, copy=True))
                state["momentum_buffer"] = buf
            else:
                b = buf._data
                b *= mom
                fma(b, 1 - damp, d_p, out=b)  # buf.mul_(momentum).add_(grad, alpha=1 - dampening)
            d_p = fma(d_p, mom, buf._data) if nest else buf._data  # grad.add(buf, alpha=momentum)
        x = p._data
        if x.dtype.kind in "fV":  # (fma rounds once for float32 and narrower, twice for float64)
            fma(x, -lr, d_p, out=x)  # param.add_(grad, alpha=-lr)
        else:
            x -= (lr * d_p).astype(x.dtype, copy=False)
