"""Mirrors the `torch.optim.adamw` module (AdamW lives with Adam in adam.py)."""
from .adam import AdamW

__all__ = ["AdamW"]
