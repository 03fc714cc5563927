"""`torch.cpu`: the one device ndgrad computes on."""
from __future__ import annotations

from typing import Any


def is_available() -> bool:
    return True


def device_count() -> int:
    return 1


def current_device() -> str:
    return "cpu"


def synchronize(device: Any = None) -> None:
    return None


def set_device(device: Any) -> None:
    return None


class amp:
    """`torch.cpu.amp.autocast` (deprecated spelling of `torch.autocast("cpu")`)."""

    @staticmethod
    def autocast(enabled: bool = True, dtype: Any = None, cache_enabled: bool = True) -> Any:
        from . import amp as _amp
        return _amp.autocast("cpu", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)
