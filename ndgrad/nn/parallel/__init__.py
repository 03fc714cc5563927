"""Mirrors `torch.nn.parallel`: DistributedDataParallel (gradient averaging across processes, on
`ndgrad.distributed`) and DataParallel (on a CPU-only machine: calls the module)."""
from __future__ import annotations

from .data_parallel import DataParallel, data_parallel
from .distributed import DistributedDataParallel

__all__ = ["DataParallel", "DistributedDataParallel", "data_parallel"]


def __getattr__(name: str) -> object:
    # torch names ndgrad does not provide (rpc, fsdp, ...) resolve to their clear error (ndgrad/_unavailable.py)
    import importlib
    return importlib.import_module("ndgrad._unavailable").attribute(__name__, name)
