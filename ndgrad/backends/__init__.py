"""`torch.backends`: what a CPU-only build reports, and the flags programs assign.

The flags (``cudnn.benchmark``, ``cudnn.deterministic``, ``cuda.matmul.allow_tf32``...) are stored and read
back as in torch; they change nothing, since ndgrad has no cuDNN or CUDA kernels to tune.
"""
from __future__ import annotations

import importlib
from typing import Any

__all__ = ["cpu", "cuda", "cudnn", "mkldnn", "mps", "openmp", "opt_einsum", "mha"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'torch.backends' has no attribute {name!r}")
