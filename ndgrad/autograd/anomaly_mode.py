"""Anomaly detection. Mirrors `torch.autograd.anomaly_mode`.

While it is on, every node remembers the user code that created it; in backward, a node whose
gradients contain NaN raises torch's "Function 'XBackward0' returned nan values in its 0th output."
and any error raised while a node runs is preceded by a warning showing the forward call that created
that node. It slows the forward pass down (a stack capture per op), as in torch.
"""
from __future__ import annotations

from typing import Any

from . import _instrument
from .._warn import warn as _warn

__all__ = ["detect_anomaly", "set_detect_anomaly"]  # is_anomaly_enabled & co. are ndgrad.X, as in torch

_state = _instrument.state


def is_anomaly_enabled() -> bool:
    return _state.anomaly


def is_anomaly_check_nan_enabled() -> bool:
    return _state.check_nan


def _set(mode: bool, check_nan: bool) -> None:
    _state.anomaly = bool(mode)
    _state.check_nan = bool(check_nan)
    _instrument.refresh()


class detect_anomaly:
    """Context manager (and decorator) that turns anomaly detection on."""

    def __init__(self, check_nan: bool = True) -> None:
        self.prev = _state.anomaly
        self.check_nan = check_nan
        self.prev_check_nan = _state.check_nan
        _warn("Anomaly Detection has been enabled. This mode will increase the runtime and should only "
              "be enabled for debugging.", stacklevel=2)

    def __enter__(self) -> None:
        _set(True, self.check_nan)

    def __exit__(self, *args: Any) -> None:
        _set(self.prev, self.prev_check_nan)

    def __call__(self, fn: Any) -> Any:
        import functools

        @functools.wraps(fn)
        def wrapper(*a: Any, **k: Any) -> Any:
            with detect_anomaly(self.check_nan):
                return fn(*a, **k)
        return wrapper


class set_detect_anomaly:
    """Turn anomaly detection on or off; also usable as a context manager that restores the old setting."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.prev = _state.anomaly
        self.prev_check_nan = _state.check_nan
        _set(mode, check_nan)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *args: Any) -> None:
        _set(self.prev, self.prev_check_nan)


def run_checked(node: Any, buf: list, graph: bool, apply: Any = None) -> list:
    """`node.apply_grads` (or `apply(node, buf, graph)`, the batched pass's) in anomaly mode: NaN check of the
    results, and the forward trace on any error."""
    import numpy as np
    try:
        out = node.apply_grads(buf, graph) if apply is None else apply(node, buf, graph)
        if _state.check_nan:
            for i, g in enumerate(out):
                if g is None:
                    continue
                a = getattr(g, "_data", g)
                if np.asarray(a).dtype.kind in "fcV" and np.isnan(a).any():
                    raise RuntimeError(f"Function '{node._name}' returned nan values in its {i}th output.")
        return out
    except Exception:
        trace = _instrument.format_trace(node)
        if trace:
            _warn(f"Error detected in {node._name}. Traceback of forward call that caused the error:\n"
                  f"{trace}", stacklevel=2)
        raise
