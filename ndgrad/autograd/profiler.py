"""`torch.autograd.profiler`: the older spelling of the profiler (`profile(use_cuda=...)`, `record_function`)."""
from __future__ import annotations

from typing import Any

from ..profiler import EventList, FunctionEventAvg, record_function
from ..profiler import profile as _profile

__all__ = ["profile", "record_function", "EventList", "FunctionEventAvg", "emit_nvtx"]


class profile(_profile):
    """Mirrors `torch.autograd.profiler.profile(enabled=True, use_cuda=False, record_shapes=False, ...)`."""

    def __init__(self, enabled: bool = True, *, use_cuda: bool = False, use_device: Any = None,
                 record_shapes: bool = False, with_flops: bool = False, profile_memory: bool = False,
                 with_stack: bool = False, with_modules: bool = False, use_kineto: bool = False,
                 use_cpu: bool = True, experimental_config: Any = None, acc_events: bool = False,
                 custom_trace_id_callback: Any = None) -> None:
        super().__init__(record_shapes=record_shapes, enabled=enabled)

    def table(self, **kwargs: Any) -> str:
        return self.key_averages().table(**kwargs)


class emit_nvtx:
    """NVTX ranges need CUDA: a no-op context here, as torch without CUDA."""

    def __init__(self, enabled: bool = True, record_shapes: bool = False) -> None:
        pass

    def __enter__(self) -> "emit_nvtx":
        return self

    def __exit__(self, *exc: Any) -> bool:
        return False
