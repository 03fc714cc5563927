"""`torch.backends.openmp`: ndgrad has no OpenMP parallel loops of its own (NumPy's BLAS may use threads)."""
from __future__ import annotations


def is_available() -> bool:
    return False
