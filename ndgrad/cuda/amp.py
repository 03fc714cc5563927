"""`torch.cuda.amp`: the deprecated CUDA spellings of `torch.amp`; without CUDA they disable themselves."""
from __future__ import annotations

from typing import Any

from .. import amp as _amp
from .._warn import warn as _warn

__all__ = ["autocast", "GradScaler", "custom_fwd", "custom_bwd"]


class autocast(_amp.autocast):
    """Mirrors `torch.cuda.amp.autocast(...)` (deprecated: `torch.amp.autocast("cuda", ...)`)."""

    def __init__(self, enabled: bool = True, dtype: Any = None, cache_enabled: bool = True) -> None:
        _warn("`torch.cuda.amp.autocast(args...)` is deprecated. Please use "
              "`torch.amp.autocast('cuda', args...)` instead.", FutureWarning, stacklevel=2)
        from .. import float16
        super().__init__("cuda", dtype=float16 if dtype is None else dtype, enabled=enabled,
                         cache_enabled=cache_enabled)


class GradScaler(_amp.GradScaler):
    """Mirrors `torch.cuda.amp.GradScaler(...)` (deprecated: `torch.amp.GradScaler("cuda", ...)`)."""

    def __init__(self, init_scale: float = 2.0 ** 16, growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True) -> None:
        _warn("`torch.cuda.amp.GradScaler(args...)` is deprecated. Please use "
              "`torch.amp.GradScaler('cuda', args...)` instead.", FutureWarning, stacklevel=2)
        super().__init__("cuda", init_scale=init_scale, growth_factor=growth_factor,
                         backoff_factor=backoff_factor, growth_interval=growth_interval, enabled=enabled)


custom_fwd = _amp.custom_fwd
custom_bwd = _amp.custom_bwd
