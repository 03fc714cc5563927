"""Mirrors `torch.utils`: `data` (datasets and loaders) and `checkpoint` (recompute instead of saving)."""
from __future__ import annotations

import importlib
from typing import Any

__all__ = ["data", "checkpoint"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return importlib.import_module(f"ndgrad.utils.{name}")
    raise AttributeError(f"module 'ndgrad.utils' has no attribute {name!r}")
