"""`add_at`: NumPy's unbuffered scatter-add (`np.add.at`) on its fast path.

Every scatter-add of ndgrad (the gradients of embedding, indexing, gather, index_select, embedding_bag, and
scatter_add itself) adds each source element to its position in index order, as torch's CPU kernels do, which
`np.add.at` does too. NumPy runs `ufunc.at` fast only for a one-dimensional operand indexed by one integer array;
an index that picks rows (an embedding's gradient: rows of 64 floats) takes its general loop, about 10 ns per
element. `add_at` turns such an index into flat positions of the elements and makes one one-dimensional call:
the same additions in the same order, so the same bits (tests/test_addat.py), 5x faster for rows of 64.
"""
from __future__ import annotations

from math import prod
from typing import Any

import numpy as np

__all__ = ["add_at"]

FLAT_MIN = 4096  # elements added; below, the flat path's own steps (~15 us) cost more than they save


def add_at(out: np.ndarray, index: Any, src: Any) -> None:
    """`np.add.at(out, index, src)`. `index`: an integer array over out's first axis or a tuple of integer arrays
    over its first axes takes the flat path; anything else (slices, booleans, a non-contiguous `out`, out-of-range
    positions, which NumPy refuses) is NumPy's own call."""
    idx = index if isinstance(index, tuple) else (index,)
    k = len(idx)
    tail = out.shape[k:]
    inner = prod(tail)  # (the elements each position adds: a row of an embedding's gradient)
    if not (out.flags.c_contiguous and out.flags.writeable and 0 < k <= out.ndim and (k > 1 or out.ndim > 1)
            and all(i.__class__ is np.ndarray and i.dtype.kind in "iu" for i in idx)
            and max(i.size for i in idx) * inner >= FLAT_MIN):
        np.add.at(out, index, src)
        return
    lead = out.shape[:k]
    try:
        arrs = np.broadcast_arrays(*idx) if k > 1 else idx
        if arrs[0].size:
            fixed = []
            for a, n in zip(arrs, lead):
                lo, hi = a.min(), a.max()
                if lo < -n or hi >= n:
                    raise IndexError  # (NumPy's own call gives its message)
                fixed.append(a + n * (a < 0) if lo < 0 else a)
            pos = np.ravel_multi_index(fixed, lead) if k > 1 else fixed[0].astype(np.intp, copy=False)
        else:
            pos = np.zeros(arrs[0].shape, np.intp)
        vals = np.broadcast_to(src, pos.shape + tail)
    except (IndexError, ValueError):
        np.add.at(out, index, src)
        return
    if inner > 1:
        pos = pos[..., None] * inner + np.arange(inner)
    np.add.at(out.reshape(-1), pos.reshape(-1), vals.reshape(-1))
