"""`torch.nn.attention`: `SDPBackend` and `sdpa_kernel`, which choose the kernels scaled_dot_product_attention may
use. ndgrad has one kernel; the choice decides which of torch's CPU paths it stands for (flash: node
ScaledDotProductFlashAttentionForCpuBackward0; math: the decomposition's last node), and a call that none of the
allowed paths takes fails as torch's does. The efficient, cuDNN and overrideable backends are GPU kernels: never
taken on the CPU."""
from __future__ import annotations

import contextlib
import enum
from typing import Any, Iterator

__all__ = ["SDPBackend", "sdpa_kernel", "WARN_FOR_UNFUSED_KERNELS"]

WARN_FOR_UNFUSED_KERNELS = False


class SDPBackend(enum.IntEnum):
    """The kernels of scaled_dot_product_attention (torch's enum values)."""
    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4

    __str__ = enum.Enum.__str__  # ("SDPBackend.MATH", as torch's enum prints)


_ALL = frozenset(b for b in SDPBackend if b is not SDPBackend.ERROR)
_state = {"enabled": _ALL}


def enabled() -> frozenset:
    """The backends scaled_dot_product_attention may use now."""
    return _state["enabled"]


@contextlib.contextmanager
def sdpa_kernel(backends: Any, set_priority: bool = False) -> Iterator[None]:
    """Mirrors `torch.nn.attention.sdpa_kernel`: within the block only `backends` (one or a list) are used."""
    if isinstance(backends, SDPBackend):
        items = [backends]
    elif isinstance(backends, list):
        items = backends  # (torch looks no further into the list)
    else:
        raise AssertionError("Backend must be an instance of SDPBackend or a list of SDPBackend instances, got "
                             f"{type(backends).__name__}")
    old = _state["enabled"]
    _state["enabled"] = frozenset(items)
    try:
        yield
    finally:
        _state["enabled"] = old
