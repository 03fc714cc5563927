"""Optimizer base class. Mirrors `torch.optim.Optimizer` (param groups, zero_grad, state)."""
from __future__ import annotations

from typing import Any

from .._tensor import Tensor

__all__ = ["Optimizer"]


class _Required:
    def __repr__(self) -> str:
        return "<required parameter>"


required = _Required()


class Optimizer:
    """Holds param groups and per-parameter state; subclasses implement `step`."""

    def __init__(self, params: Any, defaults: dict) -> None:
        self.defaults = defaults
        self.state: dict = {}
        self.param_groups: list = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            f"but got torch.{_TN.get(params.dtype.name, 'Float')}Tensor")
        groups = list(params)
        if len(groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    def add_param_group(self, param_group: dict) -> None:
        params = param_group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is " + type(p).__name__)
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        group = {"params": params}
        for k, v in self.defaults.items():
            if v is required and k not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {k}")
            group[k] = param_group.get(k, v)
        for k, v in param_group.items():
            group.setdefault(k, v)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Mirrors `Optimizer.zero_grad` (sets grads to None by default)."""
        for g in self.param_groups:
            for p in g["params"]:
                if p._grad is not None:
                    if set_to_none:
                        p._grad = None
                    else:
                        if p._grad.grad_fn is not None:
                            p._grad = p._grad.detach()
                        p._grad._data[...] = 0

    def step(self, closure: Any = None) -> Any:
        raise NotImplementedError

    def state_dict(self) -> dict:
        """Mirrors `Optimizer.state_dict`: parameters replaced by their index across the groups."""
        index: dict = {}
        groups = []
        start = 0
        for g in self.param_groups:
            packed = {k: v for k, v in g.items() if k != "params"}
            ids = list(range(start, start + len(g["params"])))
            for p, i in zip(g["params"], ids):
                index.setdefault(id(p), i)
            packed["params"] = ids
            start += len(ids)
            groups.append(packed)
        state = {index[id(p)]: s for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Mirrors `Optimizer.load_state_dict` (floating state is cast to each parameter's dtype)."""
        saved = state_dict["param_groups"]
        if len(self.param_groups) != len(saved):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(self.param_groups, saved)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")
        id_map = {i: p for g, s in zip(self.param_groups, saved) for i, p in zip(s["params"], g["params"])}
        state: dict = {}
        for k, v in state_dict["state"].items():
            if k in id_map:
                p = id_map[k]
                state[p] = {name: val.to(p.dtype) if isinstance(val, Tensor) and name != "step"
                            and val.is_floating_point() else val for name, val in v.items()}
        self.state = state
        self.param_groups = [{**{k: v for k, v in s.items() if k != "params"}, "params": g["params"]}
                             for g, s in zip(self.param_groups, saved)]

    def __repr__(self) -> str:
        lines = [self.__class__.__name__ + " ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(g):
                if k != "params":
                    lines.append(f"    {k}: {g[k]}")
        lines.append(")")
        return "\n".join(lines)


_TN = {"float32": "Float", "float64": "Double", "float16": "Half"}
