"""Mirrors `torch.utils`: `data` (datasets and loaders), `checkpoint` (recompute instead of saving), `dlpack`, and
`safetensors` (the safetensors file format, as the `safetensors` package's torch API)."""
from __future__ import annotations

import importlib
from typing import Any

__all__ = ["data", "checkpoint", "benchmark", "model_zoo", "safetensors", "dlpack", "tensorboard"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return importlib.import_module(f"ndgrad.utils.{name}")
    return importlib.import_module("ndgrad._unavailable").attribute(__name__, name)
