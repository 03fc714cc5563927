"""Mirrors `torch.nn.DataParallel` as torch runs it without GPUs: the wrapped module is called as it is."""
from __future__ import annotations

from typing import Any, Sequence

from ..modules.module import Module

__all__ = ["DataParallel", "data_parallel"]


class DataParallel(Module):
    """Mirrors `torch.nn.DataParallel`. ndgrad has no GPUs, so (as torch on a CPU-only machine) `forward` calls
    `module` directly; `device_ids` is empty and the state_dict keys carry the `module.` prefix."""

    def __init__(self, module: Module, device_ids: Sequence[Any] | None = None, output_device: Any = None,
                 dim: int = 0) -> None:
        super().__init__()
        if device_ids:
            raise ValueError(f"ndgrad has no GPUs: DataParallel(device_ids={list(device_ids)}) cannot place "
                             "replicas; leave device_ids=None")
        self.module = module
        self.device_ids: list = []
        self.dim = dim
        self.output_device = None
        self.src_device_obj = None

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        return self.module(*inputs, **kwargs)


def data_parallel(module: Module, inputs: Any, device_ids: Sequence[Any] | None = None, output_device: Any = None,
                  dim: int = 0, module_kwargs: Any = None) -> Any:
    """Mirrors `torch.nn.parallel.data_parallel`, which needs an accelerator: on a CPU-only machine torch raises
    `RuntimeError: device type could not be determined`, and so does ndgrad (call the module, or use
    DataParallel, which falls back to calling it)."""
    raise RuntimeError("device type could not be determined")
