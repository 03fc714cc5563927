"""`torch.jit`: `script` and `trace` return the module or function itself, which then runs eagerly.

TorchScript needs a compiler; ndgrad keeps programs that script or trace a model running with the same
numbers. Saving and loading TorchScript archives is unavailable (see `ndgrad/_unavailable.py`).
"""
from __future__ import annotations

from typing import Any, Callable

from .. import _unavailable


def script(obj: Any, optimize: Any = None, _frames_up: int = 0, _rcb: Any = None,
           example_inputs: Any = None) -> Any:
    """Returns obj unchanged (it runs eagerly)."""
    return obj


def trace(func: Callable, example_inputs: Any = None, optimize: Any = None, check_trace: bool = True,
          check_inputs: Any = None, check_tolerance: float = 1e-5, strict: bool = True, **kwargs: Any) -> Any:
    """Runs func once on the example inputs (as torch does while tracing) and returns it unchanged."""
    if example_inputs is not None:
        args = example_inputs if isinstance(example_inputs, tuple) else (example_inputs,)
        func(*args)
    return func





def ignore(drop: Any = False, **kwargs: Any) -> Any:
    if callable(drop):
        return drop
    return lambda fn: fn


def unused(fn: Callable) -> Callable:
    return fn


def export(fn: Callable) -> Callable:
    return fn


def is_scripting() -> bool:
    return False


def is_tracing() -> bool:
    return False


def annotate(the_type: Any, the_value: Any) -> Any:
    return the_value


def interface(obj: Any) -> Any:
    return obj


def freeze(mod: Any, preserved_attrs: Any = None, optimize_numerics: bool = True) -> Any:
    return mod


def optimize_for_inference(mod: Any, other_methods: Any = None) -> Any:
    return mod


def wait(fut: Any) -> Any:
    return fut


Final = Any
Attribute = lambda value, type=None: value  # noqa: E731


def __getattr__(name: str) -> Any:
    return _unavailable.attribute(__name__, name)
