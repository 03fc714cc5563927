"""Shared memory among the ranks of a process group that all run on one machine: MPI-3 shared windows
(`MPI_Win_allocate_shared` on the group's node-local communicator). DDP uses it to average gradients without
moving them through MPI's transport: each rank writes its (pre-scaled) gradients into its own segment, one
barrier, then every rank reads all segments and adds them, in rank order, straight into its `.grad` tensors.

On one machine that is one write and one read of the gradients per rank, where an all_reduce through MPICH's
shared-memory transport copies each chunk into and out of its cells, reduces it and copies it again (and DDP then
needs a pass of its own to write the averages back). Groups that span machines, or a /dev/shm without room,
get None from `segments` and DDP keeps its all_reduce path. NDGRAD_DISTRIBUTED_SHM=0 turns this off.
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from . import _mpi

ALIGN = 64   # every bucket's slice starts on a cache line


def enabled() -> bool:
    return os.environ.get("NDGRAD_DISTRIBUTED_SHM", "1") != "0"


def _room(nbytes: int) -> bool:
    """Whether /dev/shm (where MPICH maps shared windows on Linux) has room for `nbytes` with a wide margin: a
    tmpfs that runs out does not fail the allocation, it kills the process (SIGBUS) when the page is touched."""
    try:
        st = os.statvfs("/dev/shm")
    except (AttributeError, OSError):
        return False
    return nbytes * 2 <= st.f_bavail * st.f_frsize


def _layout(sizes: list[int]) -> tuple[list[int], int]:
    """Where each slice of one set starts (on a cache line), and the bytes of one set."""
    offsets, o = [], 0
    for s in sizes:
        offsets.append(o)
        o += -(-s // ALIGN) * ALIGN
    return offsets, o


class Segments:
    """`copies` sets of per-rank segments, each set laid out as `sizes` (bytes, one slice per bucket).
    `view(c, r, k, dtype)` is rank r's slice k of set c as a flat array of `dtype`."""

    def __init__(self, win: Any, node: Any, sizes: list[int], copies: int, n: int) -> None:
        self.win, self.node = win, node
        self.copies, self.n = copies, n
        self.offsets, self.stride = _layout(sizes)   # stride: bytes of one set in one rank's segment
        self.sizes = sizes
        self.bases = [np.frombuffer(win.Shared_query(r)[0], np.uint8) for r in range(n)]

    def view(self, c: int, r: int, k: int, dtype: np.dtype) -> np.ndarray:
        lo = c * self.stride + self.offsets[k]
        return self.bases[r][lo:lo + self.sizes[k]].view(dtype)

    def fence(self) -> None:
        """Make this rank's writes visible before a barrier, and the others' after it (MPI_Win_sync)."""
        self.win.Sync()

    def free(self) -> None:
        self.bases = []
        try:
            self.win.Unlock_all()
            self.win.Free()
            self.node.Free()
        except Exception:  # noqa: BLE001 - a broken communicator (a peer died) cannot be freed cleanly
            pass


def segments(pg: Any, sizes: list[int], copies: int = 2) -> Segments | None:
    """Collective over `pg`: shared segments for `sizes` when every rank of the group is on this machine and there
    is room, else None (the same answer on every rank)."""
    M = _mpi.MPI()
    node = pg._comm.Split_type(M.COMM_TYPE_SHARED, key=pg.rank())
    n = pg.size()
    stride = _layout(sizes)[1]
    mine = np.array([1 if node.Get_size() == n and enabled() and _room(stride * copies * node.Get_size()) else 0],
                    np.int32)
    every = np.zeros(1, np.int32)
    _mpi.iallreduce_size(mine.nbytes)
    _mpi.wait(pg._comm.Iallreduce(mine, every, op=M.MIN), pg._timeout, "DistributedDataParallel", pg._desc)
    if not every[0]:
        node.Free()
        return None
    win = M.Win.Allocate_shared(max(stride * copies, 1), 1, comm=node)
    win.Lock_all(M.MODE_NOCHECK)
    seg = Segments(win, node, sizes, copies, n)
    seg.bases[pg.rank()][:] = 0   # touch this rank's pages now (first touch places them near its core)
    pg._shared.append(seg)         # freed by destroy_process_group (collective, as freeing a window is)
    return seg
