"""Grad modes: no_grad, enable_grad, set_grad_enabled, inference_mode. Thread-local, as in torch."""
from __future__ import annotations

import functools
import inspect
import threading
from typing import Any, Callable, TypeVar

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode",
           "is_inference_mode_enabled"]

F = TypeVar("F", bound=Callable[..., Any])


class _State(threading.local):
    enabled = True       # class attributes are each thread's starting values
    inference = False


state = _State()


def is_grad_enabled() -> bool:
    """Mirrors `torch.is_grad_enabled`."""
    return state.enabled


def is_inference_mode_enabled() -> bool:
    """Mirrors `torch.is_inference_mode_enabled`."""
    return state.inference


class _Mode:
    """Base of the grad-mode context managers; each works as a decorator too."""

    _enter_value: bool = True

    def __call__(self, func: F) -> F:
        if inspect.isgeneratorfunction(func):
            @functools.wraps(func)
            def gen_wrapper(*args, **kwargs):
                gen = func(*args, **kwargs)
                with self.clone():
                    try:
                        value = next(gen)
                    except StopIteration as stop:
                        return stop.value
                while True:
                    try:
                        sent = yield value
                    except GeneratorExit:
                        gen.close()
                        raise
                    with self.clone():
                        try:
                            value = gen.send(sent)
                        except StopIteration as stop:
                            return stop.value
            return gen_wrapper  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.clone():
                return func(*args, **kwargs)
        return wrapper  # type: ignore[return-value]

    def clone(self) -> "_Mode":
        return self.__class__()

    def __enter__(self) -> None:
        self._prev = state.enabled
        state.enabled = self._enter_value

    def __exit__(self, *exc: Any) -> None:
        state.enabled = self._prev


class _NoParamMode(_Mode):
    """A mode usable as a bare decorator too (`@no_grad` as well as `@no_grad()`), as in torch."""

    def __new__(cls, orig_func: Callable | None = None) -> Any:
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class no_grad(_NoParamMode):
    """Context manager and decorator that disables gradient tracking. Mirrors `torch.no_grad`."""

    _enter_value = False


class enable_grad(_NoParamMode):
    """Context manager and decorator that enables gradient tracking. Mirrors `torch.enable_grad`."""

    _enter_value = True


class set_grad_enabled(_Mode):
    """Sets gradient tracking on or off; usable as a function, context manager or decorator.

    Mirrors `torch.set_grad_enabled`: the mode changes as soon as it is constructed.
    """

    def __init__(self, mode: bool) -> None:
        self._prev = state.enabled
        self.mode = bool(mode)
        state.enabled = self.mode

    def clone(self) -> "set_grad_enabled":
        return self.__class__(self.mode)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: Any) -> None:
        state.enabled = self._prev


class inference_mode(_Mode):
    """Like no_grad; tensors made inside are inference tensors. Mirrors `torch.inference_mode`."""

    def __new__(cls, mode: Any = True) -> Any:
        if callable(mode):  # bare `@inference_mode`
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode: bool = True) -> None:
        self.mode = mode

    def clone(self) -> "inference_mode":
        return self.__class__(self.mode)

    def __enter__(self) -> None:
        self._prev = (state.enabled, state.inference)
        if self.mode:
            state.enabled = False
            state.inference = True
        else:
            state.inference = False

    def __exit__(self, *exc: Any) -> None:
        state.enabled, state.inference = self._prev
