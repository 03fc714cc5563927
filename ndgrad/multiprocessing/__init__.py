"""Mirrors `torch.multiprocessing`: Python's `multiprocessing` (Process, Queue, get_context, set_start_method,
cpu_count...) plus `spawn`/`start_processes`, which start `nprocs` workers running `fn(i, *args)` as one MPI world
(through mpiexec), so that workers calling `ndgrad.distributed.init_process_group` find each other. Tensors sent
through a Queue or Pipe are pickled (copied); ndgrad has no shared-memory tensors."""
from __future__ import annotations

import multiprocessing
from multiprocessing import *  # noqa: F401,F403

from .spawn import (ProcessContext, ProcessExitedException, ProcessRaisedException, spawn,  # noqa: F401
                    start_processes)

_STRATEGIES = {"file_system"}
_strategy = "file_system"


def get_sharing_strategy() -> str:
    """Mirrors `torch.multiprocessing.get_sharing_strategy` (tensors are pickled: 'file_system' is the only one)."""
    return _strategy


def set_sharing_strategy(new_strategy: str) -> None:
    if new_strategy not in _STRATEGIES:
        raise ValueError(f"ndgrad.multiprocessing: unknown sharing strategy {new_strategy!r}; ndgrad pickles "
                         "tensors and has only 'file_system'")


def get_all_sharing_strategies() -> set:
    return set(_STRATEGIES)


__all__ = sorted(set(multiprocessing.__all__) | {
    "spawn", "start_processes", "ProcessContext", "ProcessRaisedException", "ProcessExitedException",
    "get_sharing_strategy", "set_sharing_strategy", "get_all_sharing_strategies"})
