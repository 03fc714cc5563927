"""Optimizer base class. Mirrors `torch.optim.Optimizer` (param groups, zero_grad, state)."""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable

import numpy as np

from .._tensor import Tensor, _wrap
from ..autograd.grad_mode import no_grad

__all__ = ["Optimizer", "register_optimizer_step_pre_hook", "register_optimizer_step_post_hook"]


class _Required:
    def __repr__(self) -> str:
        return "<required parameter>"


required = _Required()


_GLOBAL_PRE_HOOKS: dict = {}
_GLOBAL_POST_HOOKS: dict = {}


def register_optimizer_step_pre_hook(hook: Callable) -> Any:
    """A hook run before every optimizer's step: hook(optimizer, args, kwargs) -> None or (args, kwargs)."""
    from ..autograd.graph import RemovableHandle
    h = RemovableHandle(_GLOBAL_PRE_HOOKS)
    _GLOBAL_PRE_HOOKS[h.id] = hook
    return h


def register_optimizer_step_post_hook(hook: Callable) -> Any:
    """A hook run after every optimizer's step: hook(optimizer, args, kwargs)."""
    from ..autograd.graph import RemovableHandle
    h = RemovableHandle(_GLOBAL_POST_HOOKS)
    _GLOBAL_POST_HOOKS[h.id] = hook
    return h


def _hooked_step(func: Callable) -> Callable:
    """Wrap a subclass's step so the step pre/post hooks run around it (args include the optimizer)."""
    from functools import wraps

    @wraps(func)
    def step(self: Any, *args: Any, **kwargs: Any) -> Any:
        pre, post = self.__dict__.get("_step_pre_hooks"), self.__dict__.get("_step_post_hooks")
        if not (pre or post or _GLOBAL_PRE_HOOKS or _GLOBAL_POST_HOOKS):
            return func(self, *args, **kwargs)
        full = (self, *args)
        for hook in [*_GLOBAL_PRE_HOOKS.values(), *(pre or {}).values()]:
            res = hook(self, full, kwargs)
            if res is not None:
                if not (isinstance(res, tuple) and len(res) == 2):
                    raise RuntimeError(f"{hook} must return None or a tuple of (new_args, new_kwargs), but got {res}.")
                full, kwargs = res
        out = func(*full, **kwargs)
        for hook in [*(post or {}).values(), *_GLOBAL_POST_HOOKS.values()]:
            hook(self, full, kwargs)
        return out
    step._hooked = True  # type: ignore[attr-defined]
    return step


class Optimizer:
    """Holds param groups and per-parameter state; subclasses implement `step`."""

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        fn = cls.__dict__.get("step")
        if fn is not None and not getattr(fn, "_hooked", False):
            cls.step = _hooked_step(fn)

    def register_step_pre_hook(self, hook: Callable) -> Any:
        """Run hook(optimizer, args, kwargs) before each step (it may return new (args, kwargs))."""
        from ..autograd.graph import RemovableHandle
        hooks = self.__dict__.setdefault("_step_pre_hooks", {})
        h = RemovableHandle(hooks)
        hooks[h.id] = hook
        return h

    def register_step_post_hook(self, hook: Callable) -> Any:
        """Run hook(optimizer, args, kwargs) after each step."""
        from ..autograd.graph import RemovableHandle
        hooks = self.__dict__.setdefault("_step_post_hooks", {})
        h = RemovableHandle(hooks)
        hooks[h.id] = hook
        return h

    def __init__(self, params: Any, defaults: dict) -> None:
        self.defaults = defaults
        self.state: defaultdict = defaultdict(dict)
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
        """Mirrors `Optimizer.add_param_group`: missing options take the optimizer's defaults."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering of "
                            "tensors in sets will change between runs. Please use a list instead.")
        else:
            params = list(params)
        names = None
        if any(isinstance(p, tuple) for p in params):          # named parameters: (name, tensor) pairs
            if not all(isinstance(p, tuple) for p in params):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            names, params = [n for n, _ in params], [p for _, p in params]
        if self.param_groups and ("param_names" in self.param_groups[0]) != (names is not None):
            raise ValueError("all optimizer param groups should be with/without names. cannot add param group "
                             f"{'with' if names is not None else 'without'} names to the optimizer")
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is " + type(p).__name__)
            if not self.defaults.get("differentiable", None) and not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        group = dict(param_group)
        group["params"] = params
        if names is not None:
            group["param_names"] = names
        for k, v in self.defaults.items():
            if v is required and k not in group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {k}")
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

    # The per-parameter step skeleton the built-in optimizers share: `step` calls `_step_each(closure)`, which
    # runs the closure, then under no_grad walks the groups (reading `_hparams(group)` once per group) and the
    # parameters that have a gradient, fills an empty state with `_init_state`, calls `_update` and bumps the
    # parameter's version counter.
    _complex_as_real = True     # hand `_update` complex gradients as real (..., 2) views (torch's view_as_real)
    _keeps_state = True         # hand `_update` self.state[p] (False: None, the optimizer manages its state)
    _complex_error: str | None = None   # RuntimeError text for complex parameters (raised before their state)

    def _hparams(self, group: dict) -> tuple:
        """The group's options `_update` takes after (p, grad, state), read once per group per step."""
        return ()

    def _init_state(self, p: Tensor, state: dict, group: dict) -> None:
        """Fill the empty state of p before its first update."""

    def _update(self, p: Tensor, g: np.ndarray, state: Any, *hparams: Any) -> None:
        """Update p in place from its gradient array g (already negated for maximize)."""
        raise NotImplementedError

    def _step_each(self, closure: Callable | None) -> Any:
        """Run the closure, then `_update` every parameter that has a gradient (see above); returns the loss."""
        loss = _run_closure(closure)
        real, keep, complex_error = self._complex_as_real, self._keeps_state, self._complex_error
        update, states = self._update, self.state
        with no_grad():
            for group in self.param_groups:
                hp = self._hparams(group)
                maximize = group["maximize"]
                for p in group["params"]:
                    g = p._grad
                    if g is None:
                        continue
                    g = _rv(g._data) if real else g._data
                    if maximize:
                        g = np.negative(g)
                    if complex_error is not None and p._data.dtype.kind == "c":
                        raise RuntimeError(complex_error)
                    if keep:
                        state = states[p]
                        if len(state) == 0:
                            self._init_state(p, state, group)
                        update(p, g, state, *hp)
                    else:
                        update(p, g, None, *hp)
                    p._vc[0] += 1
        return loss

    def _add_hook(self, kind: str, hook: Callable, prepend: bool) -> Any:
        from ..autograd.graph import RemovableHandle
        hooks = self.__dict__.setdefault(kind, {})
        h = RemovableHandle(hooks)
        hooks[h.id] = hook
        if prepend:
            items = list(hooks.items())
            hooks.clear()
            hooks.update([items[-1], *items[:-1]])
        return h

    def register_state_dict_pre_hook(self, hook: Callable, prepend: bool = False) -> Any:
        """Run hook(optimizer) before `state_dict()` builds the dict."""
        return self._add_hook("_sd_pre_hooks", hook, prepend)

    def register_state_dict_post_hook(self, hook: Callable, prepend: bool = False) -> Any:
        """Run hook(optimizer, state_dict) after `state_dict()`; a returned dict replaces it."""
        return self._add_hook("_sd_post_hooks", hook, prepend)

    def register_load_state_dict_pre_hook(self, hook: Callable, prepend: bool = False) -> Any:
        """Run hook(optimizer, state_dict) before loading; a returned dict is loaded instead."""
        return self._add_hook("_load_pre_hooks", hook, prepend)

    def register_load_state_dict_post_hook(self, hook: Callable, prepend: bool = False) -> Any:
        """Run hook(optimizer) after `load_state_dict()`."""
        return self._add_hook("_load_post_hooks", hook, prepend)

    def state_dict(self) -> dict:
        """Mirrors `Optimizer.state_dict`: parameters replaced by their index across the groups."""
        for hook in list(self.__dict__.get("_sd_pre_hooks", {}).values()):
            hook(self)
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
        out = {"state": state, "param_groups": groups}
        for hook in list(self.__dict__.get("_sd_post_hooks", {}).values()):
            res = hook(self, out)
            if res is not None:
                out = res
        return out

    def load_state_dict(self, state_dict: dict) -> None:
        """Mirrors `Optimizer.load_state_dict` (floating state is cast to each parameter's dtype)."""
        for hook in list(self.__dict__.get("_load_pre_hooks", {}).values()):
            res = hook(self, state_dict)
            if res is not None:
                state_dict = res
        self._load(state_dict)
        for hook in list(self.__dict__.get("_load_post_hooks", {}).values()):
            hook(self)

    def _load(self, state_dict: dict) -> None:
        saved = state_dict["param_groups"]
        if len(self.param_groups) != len(saved):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(self.param_groups, saved)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")
        id_map = {i: p for g, s in zip(self.param_groups, saved) for i, p in zip(s["params"], g["params"])}

        def cast(p: Tensor, val: Any, key: Any = None) -> Any:
            if isinstance(val, Tensor):
                if key == "step" or not p.is_floating_point() or val.dtype == p.dtype:
                    return val
                return val.to(p.dtype)
            if isinstance(val, dict):
                return {k: cast(p, v, k) for k, v in val.items()}
            if isinstance(val, (list, tuple)):
                return type(val)(cast(p, v) for v in val)
            return val
        state: defaultdict = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                state[id_map[k]] = cast(id_map[k], v)
            else:
                state[k] = v
        self.state = state
        import copy
        groups = []
        for g, sg in zip(self.param_groups, saved):
            ng = copy.deepcopy({k: v for k, v in sg.items() if k != "params"})
            ng["params"] = g["params"]
            if "param_names" in g and "param_names" not in ng:
                ng["param_names"] = g["param_names"]
            groups.append(ng)
        self.param_groups = groups

    def __repr__(self) -> str:
        lines = [self.__class__.__name__ + " ("]
        for i, g in enumerate(self.param_groups):
            if i:
                lines.append("")
            lines.append(f"Parameter Group {i}")
            for k in sorted(g):
                if k != "params":
                    lines.append(f"    {k}: {g[k]}")
        lines.append(")")
        return "\n".join(lines)


def _step_tensor() -> Tensor:
    """The `step` counter torch keeps per parameter: a 0-d float tensor (float64 under a float64 default)."""
    from .._dtype import get_default_dtype
    return _wrap(np.array(0.0, dtype=np.float64 if get_default_dtype().np == np.float64 else np.float32))


def _zeros_like(p: Tensor, value: float = 0.0) -> Tensor:
    """A fresh state buffer shaped like the parameter."""
    return _wrap(np.full_like(p._data, value) if value else np.zeros_like(p._data))


_REAL = {np.complex64: np.float32, np.complex128: np.float64}


def _rv(a: np.ndarray) -> np.ndarray:
    """Complex arrays as real views with a trailing (re, im) axis (torch's view_as_real); others unchanged."""
    return a[..., None].view(_REAL[a.dtype.type]) if a.dtype.kind == "c" else a


def _count_step(state: dict) -> float:
    """Add one to the parameter's `step` counter in place; returns the new count."""
    st = state["step"]._data
    st += 1
    return float(st)


def _check_ge0(*checks: tuple) -> None:
    """torch's constructor checks: ValueError `Invalid <what>: <value>` for the first (what, value) not >= 0."""
    for what, value in checks:
        if not 0.0 <= value:
            raise ValueError(f"Invalid {what}: {value}")


def _run_closure(closure: Callable | None) -> Any:
    """Evaluate the closure with grad enabled (as torch's optimizers do)."""
    if closure is None:
        return None
    from ..autograd.grad_mode import enable_grad
    with enable_grad():
        return closure()


_TN = {"float32": "Float", "float64": "Double", "float16": "Half"}
