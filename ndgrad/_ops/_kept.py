"""Values an op's forward computed that its array-path backward would compute again from the same input array
(GELU's erf, a normalisation's x-hat and 1/std): kept per input array, weakly, and taken by the backward.

The backward's saved input is the very array the forward read (the registry saves `x._data`), and an in-place
change in between bumps its version and the engine refuses the backward, so a kept value is what computing it
again would give, bit for bit (each user checks that its forward and backward compute it with the same NumPy
steps). Nothing is kept or taken while compile's or vmap's tracer runs: a tracer must see the value computed (an
array from outside the trace would be replayed as a constant). The create_graph backward computes the value with
ndgrad ops, as it must to differentiate it. An entry goes when its array dies (or, with `pop`, when a backward
takes it); a table past 256 entries (graphs kept without a backward) is emptied rather than grown.
"""
from __future__ import annotations

from typing import Any
from weakref import ref as _weakref

import numpy as np

from ..autograd.grad_mode import state as _mode
from .reduction import _tracer


def tracing() -> bool:
    return _tracer() is not None


class Kept:
    """One op's table: id(input array) -> (weak reference to the array, key, value)."""

    def __init__(self) -> None:
        self.table: dict = {}

    def keep(self, x: np.ndarray, key: Any, value: Any) -> None:
        """Keep `value` for input `x` (computed under `key`: the op's parameters), in grad mode only."""
        if not _mode.enabled or tracing():
            self.drop(x)  # (an entry for x from before would be stale: x may have changed since)
            return
        table = self.table
        ident = id(x)

        def on_death(r: Any, ident: int = ident) -> None:
            ent = table.get(ident)
            if ent is not None and ent[0] is r:
                del table[ident]
        if len(table) >= 256:
            table.clear()
        table[ident] = (_weakref(x, on_death), key, value)

    def drop(self, x: np.ndarray) -> None:
        """Forget what was kept for `x` (a forward that keeps nothing for it this time)."""
        if self.table:
            self.table.pop(id(x), None)

    def take(self, x: Any, key: Any, pop: bool) -> Any:
        """The value kept for `x` under `key`, or None (not an array, nothing kept, or a tracer running)."""
        if x.__class__ is not np.ndarray or not self.table or tracing():
            return None
        ent = (self.table.pop if pop else self.table.get)(id(x), None)
        if ent is None or ent[0]() is not x or ent[1] != key:
            return None
        return ent[2]
