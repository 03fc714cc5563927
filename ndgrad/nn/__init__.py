"""Mirrors `torch.nn`: Module and Parameter, layers, containers, losses, `functional`, `init`, `utils`."""
from __future__ import annotations

from . import functional, init, modules, utils
from .modules import *  # noqa: F401,F403
from .parameter import *  # noqa: F401,F403
from . import parameter as _parameter

__all__ = sorted({"functional", "init", "utils"} | set(modules.__all__) | set(_parameter.__all__))


def __getattr__(name: str) -> object:
    # `nn.parallel` (DistributedDataParallel, DataParallel) loads on first use
    import importlib
    if name == "parallel":
        return importlib.import_module("ndgrad.nn.parallel")
    if name == "DataParallel":
        return importlib.import_module("ndgrad.nn.parallel").DataParallel
    return importlib.import_module("ndgrad._unavailable").attribute(__name__, name)
