"""`torch.backends.opt_einsum`: ndgrad's einsum lets NumPy choose the contraction order (`optimize=True`)."""
from __future__ import annotations

enabled = True
strategy = "auto"


def is_available() -> bool:
    return False


def get_opt_einsum() -> None:
    return None
