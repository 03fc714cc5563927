"""Process-wide settings and small top-level names programs touch before any math.

Loaded on first use (``ndgrad.__getattr__``), so ``import ndgrad`` does not pay for it.
"""
from __future__ import annotations

import math as _math
import os
from typing import Any

import numpy as np

from . import _dtype as D
from ._creation import _DEFAULT_DEVICE, device
from ._tensor import Tensor
from ._warn import warn as _warn

pi = _math.pi
e = _math.e
inf = _math.inf
nan = _math.nan
newaxis = None


# -- devices -----------------------------------------------------------------------------------------------
def set_default_device(dev: Any) -> None:
    """Mirrors `torch.set_default_device`: later factory calls without `device=` use it (so a non-CPU
    default makes them raise the error a CPU-only torch raises)."""
    _DEFAULT_DEVICE[0] = None if dev is None else device(dev)
    if _DEFAULT_DEVICE[0] is not None and _DEFAULT_DEVICE[0].type == "cpu":
        _DEFAULT_DEVICE[0] = None


def get_default_device() -> device:
    """Mirrors `torch.get_default_device`."""
    return _DEFAULT_DEVICE[0] or device("cpu")


def get_device_module(dev: Any = None) -> Any:
    """Mirrors `torch.get_device_module`: the module of a device type (`torch.cuda`, `torch.cpu`)."""
    import importlib
    t = (dev if isinstance(dev, device) else device(dev or "cpu")).type
    if t in ("cpu", "cuda"):
        return importlib.import_module(f"ndgrad.{t}")
    raise RuntimeError(f"Device '{t}' does not have a corresponding module registered as 'torch.{t}'.")


# -- numerics and determinism --------------------------------------------------------------------------------
_settings: dict = {"matmul_precision": "highest", "deterministic": False, "warn_only": False, "warn_always": False,
                   "threads": None, "interop_threads": None}


def set_float32_matmul_precision(precision: str) -> None:
    """Mirrors `torch.set_float32_matmul_precision` (kept and reported; NumPy's float32 matmul is exact
    float32 whatever it says)."""
    if precision not in ("highest", "high", "medium"):
        _warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current"
              "setFloat32MatmulPrecision call has no effect.", UserWarning, stacklevel=2)
        return
    _settings["matmul_precision"] = precision


def get_float32_matmul_precision() -> str:
    return _settings["matmul_precision"]


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Mirrors `torch.use_deterministic_algorithms`. Every ndgrad kernel is deterministic already."""
    if not isinstance(mode, bool):
        raise TypeError(f"use_deterministic_algorithms(): argument 'mode' (position 1) must be bool, not "
                        f"{type(mode).__name__}")
    _settings["deterministic"] = mode
    _settings["warn_only"] = warn_only


def are_deterministic_algorithms_enabled() -> bool:
    return _settings["deterministic"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return _settings["warn_only"]


def set_deterministic_debug_mode(debug_mode: Any) -> None:
    modes = {"default": 0, "warn": 1, "error": 2}
    mode = modes[debug_mode] if isinstance(debug_mode, str) else int(debug_mode)
    use_deterministic_algorithms(mode > 0, warn_only=mode == 1)


def get_deterministic_debug_mode() -> int:
    return 0 if not _settings["deterministic"] else (1 if _settings["warn_only"] else 2)


def set_warn_always(b: bool) -> None:
    _settings["warn_always"] = bool(b)


def is_warn_always_enabled() -> bool:
    return _settings["warn_always"]


def set_flush_denormal(mode: bool) -> bool:
    """Mirrors `torch.set_flush_denormal`: NumPy cannot flush denormals, so this reports False (as torch
    does on CPUs without the feature)."""
    return False


# -- threads ---------------------------------------------------------------------------------------------------
_limiter: list = [None]


def set_num_threads(n: int) -> None:
    """Mirrors `torch.set_num_threads`: limits the threads of NumPy's BLAS (through threadpoolctl when it is
    installed; otherwise the setting is only recorded)."""
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"set_num_threads(): argument 'int' (position 1) must be int, not {type(n).__name__}")
    if n <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    _settings["threads"] = n
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    _limiter[0] = threadpool_limits(limits=n, user_api="blas")


def get_num_threads() -> int:
    """Mirrors `torch.get_num_threads`: the BLAS thread count (threadpoolctl), else what was set, else the
    number of usable cores."""
    if _settings["threads"] is not None:
        return _settings["threads"]
    try:
        from threadpoolctl import threadpool_info
        blas = [i["num_threads"] for i in threadpool_info() if i.get("user_api") == "blas"]
        if blas:
            return int(max(blas))
    except ImportError:
        pass
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def set_num_interop_threads(n: int) -> None:
    if _settings["interop_threads"] is not None:
        raise RuntimeError("Error: cannot set number of interop threads after parallel work has started or "
                           "set_num_interop_threads called")
    _settings["interop_threads"] = int(n)


def get_num_interop_threads() -> int:
    return _settings["interop_threads"] or (os.cpu_count() or 1)


# -- type information ---------------------------------------------------------------------------------------------
class finfo:
    """Mirrors `torch.finfo`."""

    def __init__(self, type: Any = None) -> None:
        d = D.get_default_dtype() if type is None else type
        if not isinstance(d, D.dtype) or not (d.is_floating_point or d.is_complex):
            raise TypeError(f"finfo(): argument 'type' (position 1) must be torch.dtype, not "
                            f"{d.__class__.__name__}" if not isinstance(d, D.dtype) else
                            "torch.finfo() requires a floating point input type. Use torch.iinfo to handle "
                            "'torch.finfo'")
        d = d.to_real()
        f = np.finfo(d.np)
        self.bits = int(f.bits)
        self.eps = float(f.eps)
        self.max = float(f.max)
        self.min = float(f.min)
        self.tiny = self.smallest_normal = float(f.smallest_normal)
        self.resolution = 10.0 ** -int(f.precision)
        self.dtype = d.name

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """Mirrors `torch.iinfo`."""

    def __init__(self, type: Any) -> None:
        if not isinstance(type, D.dtype) or type.is_floating_point or type.is_complex:
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to handle "
                            "'torch.iinfo'" if isinstance(type, D.dtype) else
                            f"iinfo(): argument 'type' (position 1) must be torch.dtype, not "
                            f"{type.__class__.__name__}")
        i = np.iinfo(type.np) if type is not D.bool else None
        self.bits = type.itemsize * 8 if type is not D.bool else 8
        self.max = int(i.max) if i is not None else 1
        self.min = int(i.min) if i is not None else 0
        self.dtype = type.name

    def __repr__(self) -> str:
        return f"iinfo(min={float(self.min):g}, max={float(self.max):g}, dtype={self.dtype})"


def typename(obj: Any) -> str:
    """Mirrors `torch.typename`."""
    if isinstance(obj, Tensor):
        from ._legacy import type_string
        return type_string(obj.dtype)
    module = getattr(type(obj), "__module__", "") or ""
    qual = type(obj).__qualname__
    if module in ("builtins", "__builtin__", None, ""):
        return qual
    if module.startswith("ndgrad"):
        module = "torch" + module[len("ndgrad"):]
    return f"{module}.{qual}"


# -- random state ---------------------------------------------------------------------------------------------------
def get_rng_state() -> Tensor:
    """Mirrors `torch.get_rng_state`: the default generator's state, in torch's layout (Generator.get_state)."""
    from ._creation import default_generator
    return default_generator.get_state()


def set_rng_state(new_state: Tensor) -> None:
    """Mirrors `torch.set_rng_state`: a state from get_rng_state, ndgrad's or torch's."""
    from ._creation import default_generator
    default_generator.set_state(new_state)  # (which checks it, with torch's messages)
