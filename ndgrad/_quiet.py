"""`with quiet():` NumPy's floating-point error handling set to "ignore" for a block, as `np.errstate(all="ignore")`
but cheap enough for the per-op hot path.

torch never warns or raises on an overflow, a division by zero or an invalid value; ndgrad's kernels run their
NumPy calls inside `quiet()` where such values are expected. `np.errstate` costs ~1.8 us per use (it builds its
settings object at each entry), which was a third of a small `sigmoid`. On NumPy 2, whose error state lives in a
context variable, `quiet` sets that variable to a settings object made once (~0.3 us); older NumPy falls back to
`np.errstate`.
"""
from __future__ import annotations

from typing import Any

import numpy as np

try:
    from numpy._core._ufunc_config import _extobj_contextvar as _STATE
    from numpy._core.umath import _make_extobj

    _IGNORE = _make_extobj(all="ignore")
except (ImportError, AttributeError, TypeError):  # NumPy 1.x
    _STATE = None


if _STATE is not None:
    class quiet:
        """Floating-point errors ignored inside the block (re-entrant and thread-safe: the setting is a
        context variable, and each use keeps its own token)."""

        __slots__ = ("_token",)

        def __enter__(self) -> None:
            self._token = _STATE.set(_IGNORE)

        def __exit__(self, *exc: Any) -> None:
            _STATE.reset(self._token)
else:  # pragma: no cover - NumPy 1.x
    def quiet() -> Any:  # type: ignore[no-redef]
        return np.errstate(all="ignore")
