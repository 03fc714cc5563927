"""`torch.cuda` on a CPU-only library: answers as a PyTorch build without CUDA does.

Queries (`is_available`, `device_count`, `memory_allocated`...) give the CPU-only answers; seeding,
synchronising and cache emptying do nothing, as in such a build; anything that needs a CUDA device raises
torch's own `AssertionError: Torch not compiled with CUDA enabled`.
"""
from __future__ import annotations

from typing import Any

from .._creation import NO_CUDA
from .. import _unavailable

__all__ = ["is_available", "device_count", "is_initialized", "init", "manual_seed", "manual_seed_all", "seed",
           "seed_all", "synchronize", "empty_cache", "ipc_collect", "is_bf16_supported", "memory_allocated",
           "max_memory_allocated", "memory_reserved", "max_memory_reserved", "memory_cached", "max_memory_cached",
           "current_device", "set_device", "get_device_name", "get_device_capability", "get_device_properties",
           "get_rng_state", "get_rng_state_all", "set_rng_state", "set_rng_state_all", "current_stream",
           "default_stream", "Stream", "Event", "device", "stream", "reset_peak_memory_stats",
           "reset_max_memory_allocated", "memory_stats", "memory_summary", "mem_get_info", "OutOfMemoryError",
           "get_arch_list", "is_tf32_supported", "amp", "set_per_process_memory_fraction", "utilization"]


class OutOfMemoryError(RuntimeError):
    """Mirrors `torch.cuda.OutOfMemoryError` (never raised: there is no CUDA memory)."""


def _no_cuda(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError(NO_CUDA)


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def is_initialized() -> bool:
    return False


def is_bf16_supported(including_emulation: bool = True) -> bool:
    return False


def is_tf32_supported() -> bool:
    return False


def get_arch_list() -> list:
    return []


def _nothing(*args: Any, **kwargs: Any) -> None:
    return None


# seeding, synchronising and freeing are silently ignored without CUDA, as torch does
manual_seed = manual_seed_all = seed = seed_all = synchronize = empty_cache = ipc_collect = _nothing
reset_peak_memory_stats = reset_max_memory_allocated = _nothing


def _zero(device: Any = None) -> int:
    return 0


memory_allocated = max_memory_allocated = memory_reserved = max_memory_reserved = _zero
memory_cached = max_memory_cached = _zero


def memory_stats(device: Any = None) -> dict:
    return {}


init = current_device = set_device = get_device_name = get_device_capability = get_device_properties = _no_cuda
get_rng_state = get_rng_state_all = set_rng_state = set_rng_state_all = _no_cuda
current_stream = default_stream = memory_summary = mem_get_info = set_per_process_memory_fraction = _no_cuda
utilization = _no_cuda


class Stream:
    """Mirrors `torch.cuda.Stream`: creating one needs CUDA."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError(NO_CUDA)


class Event:
    """Mirrors `torch.cuda.Event`: creating one needs CUDA."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("Tried to instantiate dummy base class Event")


class device:
    """Mirrors the `torch.cuda.device` context manager: entering it with a device needs CUDA."""

    def __init__(self, device: Any) -> None:
        self.idx = device

    def __enter__(self) -> None:
        if self.idx is not None and not (isinstance(self.idx, int) and self.idx < 0):
            _no_cuda()

    def __exit__(self, *exc: Any) -> bool:
        return False


class stream:
    """Mirrors `torch.cuda.stream(s)`: a no-op context for `None`, as torch."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def __enter__(self) -> None:
        if self.stream is not None:
            _no_cuda()

    def __exit__(self, *exc: Any) -> bool:
        return False


def __getattr__(name: str) -> Any:
    if name == "amp":
        import importlib
        return importlib.import_module("ndgrad.cuda.amp")
    from .._legacy import CUDA_TYPES
    if name in CUDA_TYPES:
        return CUDA_TYPES[name]
    return _unavailable.attribute(__name__, name)
