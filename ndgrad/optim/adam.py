"""Adam and AdamW. Mirror `torch.optim.Adam` / `torch.optim.AdamW` (in-place NumPy updates per parameter)."""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from .._ops.pointwise import _fused_dtype, fma
from .optimizer import Optimizer, _check_ge0, _count_step, _rv, _step_tensor, _zeros_like

__all__ = ["Adam", "AdamW"]


def _check_common(lr: Any, eps: Any, betas: Any, weight_decay: Any) -> None:
    """torch's argument checks shared by the Adam family (same order, same texts; a None compares as in torch:
    TypeError)."""
    _check_ge0(("learning rate", lr), ("epsilon value", eps))
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
    _check_ge0(("weight_decay value", weight_decay))


def _check_flags(foreach: Any, differentiable: bool, fused: Any) -> None:
    """`fused`/`foreach` only pick a kernel in torch (same math here); `differentiable` is refused."""
    if fused:
        if differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")
        if foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
    if differentiable:
        raise NotImplementedError("ndgrad optimizers do not support differentiable=True (steps run under no_grad)")


def _lerp_(m: np.ndarray, g: np.ndarray, w: float, t: np.ndarray | None = None) -> np.ndarray:
    """m.lerp_(g, w) in place, with torch's two formulas (w < 0.5 from m, else from g), each a fused
    multiply-add as torch's kernel (pointwise.fma); returns a scratch array of m's shape."""
    t = np.subtract(g, m, out=np.empty_like(m) if t is None else t)  # an array even for 0-d parameters
    if _fused_dtype(m.dtype):
        w32 = np.float32(w)
        if abs(w32) < 0.5:
            fma(m, w32, t, out=m)
        else:
            fma(g, -(np.float32(1) - w32), t, out=m)
    elif w < 0.5:
        t *= w
        m += t
    else:
        t *= 1 - w
        np.subtract(g, t, out=m)
    return t


def _ema_sq_(v: np.ndarray, g: np.ndarray, beta: float, t: np.ndarray) -> None:
    """v = beta v + (1 - beta) g², in place (t is scratch): torch's `v.mul_(beta).addcmul_(g, g, value=1 - beta)`,
    whose addcmul is fma((1 - beta) g, g, v)."""
    if _fused_dtype(v.dtype):
        v *= np.float32(beta)
        np.multiply(g, np.float32(1 - beta), out=t)
        fma(v, t, g, out=v)
        return
    np.multiply(g, g, out=t)
    t *= 1 - beta
    v *= beta
    v += t


class Adam(Optimizer):
    """Adam (Kingma & Ba) with amsgrad, weight decay (L2 or decoupled) and maximize, as torch's."""

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None, decoupled_weight_decay: bool = False) -> None:
        _check_common(lr, eps, betas, weight_decay)
        _check_flags(foreach, differentiable, fused)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      differentiable=differentiable, fused=fused,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def step(self, closure: Callable | None = None) -> Any:
        """One Adam update of every parameter that has a gradient."""
        return self._step_each(closure)

    def _hparams(self, group: dict) -> tuple:
        lr = float(group["lr"])
        b1, b2 = (float(b) for b in group["betas"])
        return (lr, b1, b2, group["eps"], group["weight_decay"], group["amsgrad"],
                group.get("decoupled_weight_decay", False))

    def _init_state(self, p: Any, state: dict, group: dict) -> None:
        state["step"] = _step_tensor()
        state["exp_avg"] = _zeros_like(p)
        state["exp_avg_sq"] = _zeros_like(p)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = _zeros_like(p)

    def _update(self, p: Any, g: np.ndarray, state: dict, lr: float, b1: float, b2: float, eps: float, wd: float,
                amsgrad: bool, decoupled: bool) -> None:
        x = _rv(p._data)
        if wd != 0:
            if decoupled:
                x *= 1 - lr * wd
            else:
                g = fma(g, wd, x)  # torch: grad.add(param, alpha=weight_decay)
        step = _count_step(state)
        m, v = _rv(state["exp_avg"]._data), _rv(state["exp_avg_sq"]._data)
        t = _lerp_(m, g, 1 - b1)
        _ema_sq_(v, g, b2, t)
        bc1 = 1 - b1 ** step
        bc2_sqrt = math.sqrt(1 - b2 ** step)
        if amsgrad:
            mx = _rv(state["max_exp_avg_sq"]._data)
            np.maximum(mx, v, out=mx)
            v = mx
        np.sqrt(v, out=t)
        t /= bc2_sqrt
        t += eps
        # torch: param.addcdiv_(exp_avg, denom, value=-step_size), i.e. param + (-step_size * exp_avg) / denom
        np.divide(np.multiply(m, -(lr / bc1)), t, out=t)
        x += t


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), as torch's AdamW."""

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)
