"""Top-level spellings of Tensor methods that torch also has as functions (`torch.ravel(x)`, `torch.sigmoid_(x)`,
`torch.zero_(x)`...) and `torch.vmap`; loaded on first use (`ndgrad.__getattr__`). Each calls the method, so the
computation, its node and its errors are the method's."""
from __future__ import annotations

from typing import Any, Callable

from . import _METHOD_FUNCTIONS as METHOD_FUNCTIONS  # (the names, listed where ndgrad.__getattr__ finds them)
from ._tensor import Tensor


def _function(name: str) -> Callable:
    def f(input: Tensor, *args: Any, **kwargs: Any) -> Any:
        return getattr(input, name)(*args, **kwargs)  # (the checker in front refused a non-Tensor input)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"Mirrors `torch.{name}`: `input.{name}(...)` (behind the method's signature: _signatures.py)."
    return f


globals().update({_n: _function(_n) for _n in METHOD_FUNCTIONS})


def msort(input: Tensor, *, out: Any = None) -> Tensor:
    """Mirrors `torch.msort`: sorted along the first dimension."""
    return input.sort(0)[0]


def vmap(*args: Any, **kwargs: Any) -> Any:
    """`torch.vmap` is `torch.func.vmap`."""
    from .func import vmap as _vmap
    return _vmap(*args, **kwargs)


__all__ = [*METHOD_FUNCTIONS, "msort", "vmap"]
