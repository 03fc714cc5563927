"""Rprop. Mirrors `torch.optim.Rprop` (in-place NumPy updates per parameter)."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .adam import _check_flags
from .optimizer import Optimizer, _check_ge0, _count_step, _rv, _step_tensor, _zeros_like

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """Resilient backpropagation: per-element step sizes grown/shrunk by the sign agreement of gradients."""

    def __init__(self, params: Any, lr: float = 1e-2, etas: tuple = (0.5, 1.2), step_sizes: tuple = (1e-6, 50), *,
                 capturable: bool = False, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        _check_ge0(("learning rate", lr))
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        _check_flags(foreach, differentiable, None)
        super().__init__(params, dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, capturable=capturable))

    def step(self, closure: Callable | None = None) -> Any:
        """One Rprop update of every parameter that has a gradient."""
        return self._step_each(closure)

    def _hparams(self, group: dict) -> tuple:
        eta_minus, eta_plus = group["etas"]
        smin, smax = group["step_sizes"]
        return eta_minus, eta_plus, smin, smax

    def _init_state(self, p: Any, state: dict, group: dict) -> None:
        state["step"] = _step_tensor()
        state["prev"] = _zeros_like(p)
        lr = float(group["lr"])
        state["step_size"] = _zeros_like(p, complex(lr, lr) if p._data.dtype.kind == "c" else lr)

    def _update(self, p: Any, g: np.ndarray, state: dict, eta_minus: float, eta_plus: float, smin: float,
                smax: float) -> None:
        _count_step(state)
        x, prev, size = _rv(p._data), _rv(state["prev"]._data), _rv(state["step_size"]._data)
        agree = np.sign(g * prev)
        factor = np.where(agree > 0, eta_plus, np.where(agree < 0, eta_minus, 1.0)).astype(x.dtype)
        size *= factor
        np.clip(size, smin, smax, out=size)
        g = np.where(agree < 0, 0, g).astype(x.dtype, copy=False)   # no update after a sign change
        t = np.sign(g)
        t *= size
        x -= t
        prev[...] = g
