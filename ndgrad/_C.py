"""Mirrors the parts of `torch._C` that user code names: `_LinAlgError` (= ndgrad.linalg.LinAlgError)."""
from __future__ import annotations

from ._ops._lapack import LinAlgError as _LinAlgError

__all__ = ["_LinAlgError"]
