"""Mirrors the rest of `torch.nn`'s layers that programs use."""
from __future__ import annotations

__all__: list[str] = []
