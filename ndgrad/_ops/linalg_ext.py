"""Linear algebra beyond products: einsum, tensordot, triangular parts, and torch.linalg ops.

Public functions (with torch's signatures) are listed in `__all__` and exported as `ndgrad.X`;
`METHODS` maps Tensor method names to functions taking the tensor first. Both are wired in by
`ndgrad/_ops/__init__.py` and `ndgrad/_methods.py`.
"""
from __future__ import annotations

__all__: list[str] = []
METHODS: dict = {}
LINALG: dict = {}  # name -> function, exported as ndgrad.linalg.<name>
