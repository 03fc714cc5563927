"""`torch.accelerator`: there is no accelerator in ndgrad."""
from __future__ import annotations

from typing import Any

_NONE = "Cannot access accelerator device when none is available."


def is_available() -> bool:
    return False


def current_accelerator(check_available: bool = False) -> None:
    return None


def device_count() -> int:
    return 0


def _none(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError(_NONE)


current_device_index = current_device_idx = set_device_index = set_device_idx = synchronize = _none
current_stream = set_stream = _none
