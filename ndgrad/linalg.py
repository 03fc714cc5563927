"""Mirrors `torch.linalg`."""
from __future__ import annotations

from ._ops.linalg_ext import LINALG as _LINALG

__all__ = sorted(_LINALG)
globals().update(_LINALG)
