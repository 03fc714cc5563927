"""`torch.backends.mha`: the fast-path switch of MultiheadAttention (ndgrad has one path)."""
from __future__ import annotations

_fastpath = True


def get_fastpath_enabled() -> bool:
    return _fastpath


def set_fastpath_enabled(value: bool) -> None:
    global _fastpath
    _fastpath = bool(value)
