"""`torch.backends.cudnn`: no cuDNN here; its flags are kept as torch keeps them."""
from __future__ import annotations

from typing import Any

enabled = True
benchmark = False
benchmark_limit = 10
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    return False


def version() -> None:
    return None


def is_acceptable(tensor: Any) -> bool:
    return False


class flags:
    """Mirrors `torch.backends.cudnn.flags(...)`: a context that sets the flags and restores them."""

    def __init__(self, enabled: bool = False, benchmark: bool = False, benchmark_limit: int = 10,
                 deterministic: bool = False, allow_tf32: bool = True) -> None:
        self.new = dict(enabled=enabled, benchmark=benchmark, benchmark_limit=benchmark_limit,
                        deterministic=deterministic, allow_tf32=allow_tf32)

    def __enter__(self) -> None:
        g = globals()
        self.old = {k: g[k] for k in self.new}
        g.update(self.new)

    def __exit__(self, *exc: Any) -> bool:
        globals().update(self.old)
        return False
