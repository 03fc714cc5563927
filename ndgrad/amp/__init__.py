"""`torch.amp`: autocast and GradScaler.

CPU autocast is real: inside ``autocast("cpu")`` the matrix products and convolutions (torch's CPU
lower-precision list: mm, addmm (so `F.linear`), bmm, N-d matmul, convolutions) cast their floating
inputs to the autocast dtype (bfloat16 by default, or float16), recorded as ``ToCopyBackward0`` nodes as in
torch, and return that dtype. It works by swapping the class of those few op objects while a context is
active, so the ordinary op path pays nothing. CUDA autocast and a CUDA GradScaler disable themselves with
torch's warnings, as a CPU-only torch does; a CPU GradScaler scales, unscales, skips steps with inf/NaN
gradients and updates its scale as torch's.
"""
from __future__ import annotations

import functools
import math
from typing import Any, Callable

import numpy as np

from .. import _dtype as D
from .._creation import device as _device
from .._tensor import Tensor
from .._warn import warn as _warn

__all__ = ["autocast", "GradScaler", "custom_fwd", "custom_bwd", "is_autocast_available"]

_STATE: dict = {"cpu": [False, None], "cuda": [False, None]}  # enabled, dtype
_DEFAULTS = {"cpu": "bfloat16", "cuda": "float16"}


def _lower_ops() -> list:
    from .._ops import conv as C
    from .._ops import linalg as L
    return [L.mm, L.addmm, L.bmm, L.matmul_nd, C.convolution]


_swapped: dict = {}


def _autocast_class(cls: type) -> type:
    sub = _swapped.get(cls)
    if sub is None:
        def __call__(self: Any, *args: Any) -> Any:
            target = _STATE["cpu"][1]
            if _STATE["cpu"][0] and target is not None:
                args = tuple(a.to(target) if isinstance(a, Tensor) and a.dtype.is_floating_point
                             and a.dtype is not target and a.dtype is not D.float64 else a for a in args)
            return cls.__call__(self, *args)
        sub = type(cls.__name__, (cls,), {"__call__": __call__, "__slots__": ()} if hasattr(cls, "__slots__")
                   else {"__call__": __call__})
        _swapped[cls] = sub
    return sub


def _install(on: bool) -> None:
    for op in _lower_ops():
        cls = type(op)
        if on and cls not in _swapped.values():
            op.__class__ = _autocast_class(cls)
        elif not on and cls in _swapped.values():
            op.__class__ = cls.__mro__[1]


def is_autocast_available(device_type: str) -> bool:
    """Mirrors `torch.amp.is_autocast_available`."""
    return device_type in ("cpu", "cuda", "xpu", "mps", "hpu", "xla", "mtia", "maia", "ipu")


class autocast:
    """Mirrors `torch.autocast` / `torch.amp.autocast` (context manager and decorator)."""

    def __init__(self, device_type: str, dtype: Any = None, enabled: bool = True,
                 cache_enabled: bool | None = None) -> None:
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        _device(device_type)
        self.device = device_type
        self.fast_dtype = dtype if dtype is not None else getattr(D, _DEFAULTS.get(device_type, "float16"))
        self._enabled = enabled
        self._cache_enabled = cache_enabled
        if device_type == "cpu":
            if enabled and self.fast_dtype not in (D.float16, getattr(D, "bfloat16", None)):
                _warn("In CPU autocast, but the target dtype is not supported. Disabling autocast.\n"
                      "CPU Autocast only supports dtypes of torch.bfloat16, torch.float16 currently.",
                      UserWarning, stacklevel=2)
                self._enabled = False
        elif device_type == "cuda":
            if enabled:
                _warn("CUDA is not available or torch_xla is imported. Disabling autocast.", UserWarning,
                      stacklevel=2)
            self._enabled = False
        else:
            self._enabled = False
        self._prev: list = []

    def __enter__(self) -> "autocast":
        st = _STATE.setdefault(self.device, [False, None])
        self._prev.append(list(st))
        if self.device == "cpu":
            st[0] = self._enabled
            st[1] = self.fast_dtype
            _install(bool(st[0]))
        return self

    def __exit__(self, *exc: Any) -> bool:
        st = _STATE[self.device]
        st[:] = self._prev.pop()
        if self.device == "cpu":
            _install(bool(st[0]))
        return False

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with autocast(self.device, dtype=self.fast_dtype, enabled=self._enabled,
                          cache_enabled=self._cache_enabled):
                return fn(*args, **kwargs)
        return wrapper


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """Mirrors `torch.is_autocast_enabled` (no argument: CUDA's, always False here)."""
    return bool(_STATE.get(device_type or "cuda", [False])[0])


def get_autocast_dtype(device_type: str) -> Any:
    """Mirrors `torch.get_autocast_dtype`."""
    st = _STATE.get(device_type)
    if st is not None and st[1] is not None:
        return st[1]
    return getattr(D, _DEFAULTS.get(device_type, "float16"))


def custom_fwd(fwd: Callable | None = None, *, device_type: str = "cuda", cast_inputs: Any = None) -> Callable:
    """Mirrors `torch.amp.custom_fwd`: runs the Function's forward as is (autocast state unchanged)."""
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)
    return fwd


def custom_bwd(bwd: Callable | None = None, *, device_type: str = "cuda") -> Callable:
    """Mirrors `torch.amp.custom_bwd`."""
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)
    return bwd


class GradScaler:
    """Mirrors `torch.amp.GradScaler`: dynamic loss scaling on the CPU; for CUDA it disables itself."""

    def __init__(self, device: str = "cuda", init_scale: float = 2.0 ** 16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000, enabled: bool = True) -> None:
        self._device = device
        self._enabled = enabled
        if enabled and device == "cuda":
            _warn("torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  Disabling.",
                  UserWarning, stacklevel=2)
            self._enabled = False
        if self._enabled:
            if growth_factor <= 1.0:
                raise AssertionError("The growth factor must be > 1.0.")
            if backoff_factor >= 1.0:
                raise AssertionError("The backoff factor must be < 1.0.")
        self._init_scale = init_scale
        self._scale: float | None = None
        self._growth_factor = growth_factor
        self._backoff_factor = backoff_factor
        self._growth_interval = growth_interval
        self._init_growth_tracker = 0
        self._growth_tracker: int | None = None
        self._per_optimizer: dict = {}

    def is_enabled(self) -> bool:
        return self._enabled

    def _lazy_init(self) -> None:
        if self._scale is None:
            self._scale = float(self._init_scale)
            self._growth_tracker = self._init_growth_tracker

    def scale(self, outputs: Any) -> Any:
        """Multiply outputs (a tensor or nested sequences of tensors) by the scale factor."""
        if not self._enabled:
            return outputs
        self._lazy_init()
        if isinstance(outputs, Tensor):
            return outputs * _scalar_like(self._scale, outputs)
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        raise ValueError("outputs must be a Tensor or an iterable of Tensors")

    def _state(self, optimizer: Any) -> dict:
        return self._per_optimizer.setdefault(id(optimizer), {"stage": "ready", "found_inf": 0.0})

    def unscale_(self, optimizer: Any) -> None:
        """Divide the optimizer's gradients by the scale factor in place and note any inf/NaN."""
        if not self._enabled:
            return
        st = self._state(optimizer)
        if st["stage"] == "unscaled":
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update().")
        if st["stage"] == "stepped":
            raise RuntimeError("unscale_() is being called after step().")
        self._lazy_init()
        inv = 1.0 / self._scale
        found = False
        for group in optimizer.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad._data
                g *= np.asarray(inv, dtype=g.dtype)
                if not np.isfinite(g).all():
                    found = True
        st["found_inf"] = 1.0 if found else 0.0
        st["stage"] = "unscaled"

    def step(self, optimizer: Any, *args: Any, **kwargs: Any) -> Any:
        """Unscale (if not done yet) and step the optimizer unless a gradient was inf or NaN."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        st = self._state(optimizer)
        if st["stage"] == "stepped":
            raise RuntimeError("step() has already been called since the last update().")
        if st["stage"] == "ready":
            self.unscale_(optimizer)
        if not st["found_inf"]:
            ret = optimizer.step(*args, **kwargs)
        else:
            ret = None
        st["stage"] = "stepped"
        return ret

    def update(self, new_scale: float | Tensor | None = None) -> None:
        """Update the scale: back off after a step with inf/NaN, grow after growth_interval clean steps."""
        if not self._enabled:
            return
        self._lazy_init()
        if new_scale is not None:
            self._scale = float(new_scale.item() if isinstance(new_scale, Tensor) else new_scale)
        else:
            found = any(s["found_inf"] for s in self._per_optimizer.values())
            if not self._per_optimizer:
                raise AssertionError("No inf checks were recorded prior to update.")
            if found:
                self._scale *= self._backoff_factor
                self._growth_tracker = 0
            else:
                self._growth_tracker += 1
                if self._growth_tracker == self._growth_interval:
                    self._scale *= self._growth_factor
                    self._growth_tracker = 0
        self._per_optimizer = {}

    def get_scale(self) -> float:
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else self._scale

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        self._growth_factor = new_factor

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        self._backoff_factor = new_factor

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        self._growth_interval = new_interval

    def state_dict(self) -> dict:
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor, "growth_interval": self._growth_interval,
                "_growth_tracker": self._init_growth_tracker if self._growth_tracker is None
                else self._growth_tracker}

    def load_state_dict(self, state_dict: dict) -> None:
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved from a disabled "
                               "instance of GradScaler.")
        self._init_scale = state_dict["scale"]
        self._scale = float(state_dict["scale"])
        self._growth_factor = state_dict["growth_factor"]
        self._backoff_factor = state_dict["backoff_factor"]
        self._growth_interval = state_dict["growth_interval"]
        self._init_growth_tracker = state_dict["_growth_tracker"]
        self._growth_tracker = state_dict["_growth_tracker"]


def _scalar_like(value: float, t: Tensor) -> Tensor:
    from .._creation import tensor
    return tensor(value, dtype=t.dtype)
