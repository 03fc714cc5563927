"""Mirrors `torch.nn`. So far only `nn.functional` (modules, losses and init belong to the training issue)."""
from . import functional

__all__ = ["functional"]
