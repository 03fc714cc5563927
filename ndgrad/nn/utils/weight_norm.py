"""Mirrors `torch.nn.utils.weight_norm` (the deprecated hook-based form): w = g · v / ‖v‖."""
from __future__ import annotations

from typing import Any, TypeVar

from ..._tensor import Tensor
from ..modules.module import Module
from ..parameter import Parameter
from ..._warn import warn as _warn

__all__ = ["WeightNorm", "weight_norm", "remove_weight_norm"]

T_module = TypeVar("T_module", bound=Module)


def _norm_except_dim(v: Tensor, dim: int) -> Tensor:
    """2-norm over every dim but `dim`, kept for broadcasting; dim=-1 means the norm of the whole tensor."""
    from ... import linalg
    if dim == -1:
        return linalg.vector_norm(v, 2)
    others = tuple(d for d in range(v.dim()) if d != dim)
    if not others:
        return v.abs()
    return linalg.vector_norm(v, 2, dim=others, keepdim=True)


class WeightNorm:
    """The forward pre-hook that recomputes `name` from `name_g` and `name_v`."""

    name: str
    dim: int

    def __init__(self, name: str, dim: int) -> None:
        if dim is None:
            dim = -1
        self.name = name
        self.dim = dim

    def compute_weight(self, module: Module) -> Tensor:
        """g · v / ‖v‖ (differentiable in g and v)."""
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return v * (g / _norm_except_dim(v, self.dim))

    @staticmethod
    def apply(module: Module, name: str, dim: int) -> "WeightNorm":
        """Replace parameter `name` by `name_g` and `name_v` and register the hook."""
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter {name}")
        if dim is None:
            dim = -1
        fn = WeightNorm(name, dim)
        weight = getattr(module, name)
        del module._parameters[name]
        module.register_parameter(name + "_g", Parameter(_norm_except_dim(weight, dim).data))
        module.register_parameter(name + "_v", Parameter(weight.data))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module: Module) -> None:
        """Fold g and v back into a plain parameter `name`."""
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.data))

    def __call__(self, module: Module, inputs: Any) -> None:
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module: T_module, name: str = "weight", dim: int = 0) -> T_module:
    """Reparametrize `module.<name>` as g · v / ‖v‖ (norm over every dim but `dim`). Mirrors the deprecated
    `nn.utils.weight_norm`, FutureWarning included."""
    _warn("`torch.nn.utils.weight_norm` is deprecated in favor of "
          "`torch.nn.utils.parametrizations.weight_norm`.", FutureWarning, stacklevel=2)
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module: T_module, name: str = "weight") -> T_module:
    """Undo `weight_norm`. Mirrors `nn.utils.remove_weight_norm`."""
    for k, hook in module._forward_pre_hooks.items():
        if isinstance(hook, WeightNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            return module
    raise ValueError(f"weight_norm of '{name}' not found in {module}")
