"""Mirrors `torch.linalg`."""
from __future__ import annotations

from ._ops.linalg_ext import LINALG as _LINALG
from . import _argcheck
from ._ops import _lazy

__all__ = sorted(set(_LINALG).union(*_lazy.LINALG_LAZY.values()))
globals().update(_LINALG)
_argcheck.install(globals(), list(_LINALG), "linalg.")


def __getattr__(name: str) -> object:
    # names whose op family loads on first use (ndgrad/_ops/_lazy.py)
    from ._ops import _real_grads_only
    value = _argcheck.checked(_lazy.linalg_attr(name, _real_grads_only), "linalg." + name)
    globals()[name] = value
    return value
