"""Mirrors `torch.nn.functional`: the functions that exist so far, from the op table."""
from __future__ import annotations

from .._ops import relu, sigmoid, tanh
from .._ops.indexing import FUNCTIONAL as _INDEXING
from .._ops.special import softplus

pad = _INDEXING["pad"]

__all__ = ["pad", "relu", "sigmoid", "softplus", "tanh"]
