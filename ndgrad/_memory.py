"""Keeping freed memory for the next array (glibc's malloc, set once at import).

Every NumPy result is a fresh allocation. With glibc's default settings an array of a megabyte or more is
mapped from the kernel when it is made and handed back when it dies (or the heap is trimmed), so the next one
page-faults through its memory again, and zero-filled pages from the kernel are not free: three elementwise
operations on 2 MB float64 arrays took 4.2 ms instead of 0.19 ms on the reference machine. ndgrad's formulas
make such temporaries at every op, as eager mode must. Raising glibc's mmap and trim thresholds keeps freed
blocks in the heap, where the next array of the same size finds them.

This is a process-wide setting, made only on Linux with glibc, and only through `mallopt` (no allocator of
ndgrad's own). The cost is that freed memory stays with the process until it exits (its peak stays its
resident size). `NDGRAD_MALLOC_TUNE=0` in the environment leaves malloc as it is.
"""
from __future__ import annotations

import os
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 1024 * 1024   # glibc's largest (arrays above it are mapped, as before)
TRIM_THRESHOLD = 256 * 1024 * 1024  # the heap's free top is given back above this
tuned = False


def tune() -> bool:
    """Raise glibc's thresholds; whether they were set."""
    global tuned
    if tuned or sys.platform != "linux" or os.environ.get("NDGRAD_MALLOC_TUNE", "1") == "0":
        return tuned
    try:
        import ctypes
        libc = ctypes.CDLL(None)
        if not hasattr(libc, "gnu_get_libc_version"):  # musl and others: their malloc, their settings
            return False
        mallopt = libc.mallopt
        mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
        tuned = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    except (OSError, AttributeError):
        return False
    return tuned
