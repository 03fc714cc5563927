"""`functorch`, the library that became `torch.func`: the same transforms, plus the old functional-module API
(`make_functional`, `make_functional_with_buffers`, `combine_state_for_ensemble`), each with torch's deprecation
warning (a FutureWarning naming its replacement) at every call."""
from __future__ import annotations

import copy
import functools
from typing import Any, Callable

from . import func as _func
from ._warn import warn as _warn
from .func import functional_call

_DEPRECATED = ("We've integrated functorch into PyTorch. As the final step of the integration, `functorch.{}` is "
               "deprecated as of PyTorch 2.0 and will be deleted in a future version of PyTorch >= 2.3. Please use "
               "`{}` instead; see the PyTorch 2.0 release notes and/or the `torch.func` migration guide for more "
               "details https://pytorch.org/docs/main/func.migrating.html")


def _deprecated(fn: Callable, name: str, instead: str) -> Callable:
    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        _warn(_DEPRECATED.format(name, instead), FutureWarning, stacklevel=2)
        return fn(*args, **kwargs)
    call.__module__ = __name__
    return call


vmap = _deprecated(_func.vmap, "vmap", "torch.vmap")
grad, grad_and_value, hessian, jacfwd, jacrev, jvp, vjp = (
    _deprecated(getattr(_func, n), n, f"torch.func.{n}")
    for n in ("grad", "grad_and_value", "hessian", "jacfwd", "jacrev", "jvp", "vjp"))

__all__ = ["grad", "grad_and_value", "vmap", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "make_functional",
           "make_functional_with_buffers", "combine_state_for_ensemble", "functional_call"]


class FunctionalModule:
    """What `make_functional` returns: call it as fmodel(params, *args)."""

    def __init__(self, module: Any, param_names: list, buffer_names: list, buffers: tuple | None) -> None:
        self.stateless_model = module
        self.param_names = param_names
        self.buffer_names = buffer_names
        self._buffers = buffers

    def __call__(self, params: Any, *args: Any, **kwargs: Any) -> Any:
        state = dict(zip(self.param_names, params))
        if self._buffers is not None:
            state.update(zip(self.buffer_names, self._buffers))
        return functional_call(self.stateless_model, state, args, kwargs)


class FunctionalModuleWithBuffers(FunctionalModule):
    """What `make_functional_with_buffers` returns: call it as fmodel(params, buffers, *args)."""

    def __call__(self, params: Any, buffers: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        state = dict(zip(self.param_names, params))
        state.update(zip(self.buffer_names, buffers))
        return functional_call(self.stateless_model, state, args, kwargs)


def _make_functional(model: Any, disable_autograd_tracking: bool = False) -> tuple:
    """Mirrors `functorch.make_functional`: (fmodel, params); buffers stay inside the model."""
    if any(True for _ in model.buffers()):
        raise RuntimeError("make_functional(module): we only support models without buffers. Please use "
                           "make_functional_with_buffers(module) instead.")
    names = [n for n, _ in model.named_parameters()]
    params = tuple(p.detach() if disable_autograd_tracking else p for _, p in model.named_parameters())
    return FunctionalModule(copy.deepcopy(model), names, [], ()), params


def _make_functional_with_buffers(model: Any, disable_autograd_tracking: bool = False) -> tuple:
    """Mirrors `functorch.make_functional_with_buffers`: (fmodel, params, buffers)."""
    names = [n for n, _ in model.named_parameters()]
    bnames = [n for n, _ in model.named_buffers()]
    params = tuple(p.detach() if disable_autograd_tracking else p for _, p in model.named_parameters())
    buffers = tuple(b for _, b in model.named_buffers())
    return FunctionalModuleWithBuffers(copy.deepcopy(model), names, bnames, None), params, buffers


def _combine_state_for_ensemble(models: Any) -> tuple:
    """Mirrors `functorch.combine_state_for_ensemble`: (fmodel, stacked params, stacked buffers)."""
    from . import stack
    models = list(models)
    if not models:
        raise RuntimeError("combine_state_for_ensemble: Expected at least one model, got 0.")
    if not all(m.training == models[0].training for m in models):
        raise RuntimeError("combine_state_for_ensemble: Expected all models to have the same training/eval mode.")
    if not all(type(m) is type(models[0]) for m in models):
        raise RuntimeError("combine_state_for_ensemble: Expected all models to be of the same class.")
    fmodel, _, _ = _make_functional_with_buffers(models[0])
    params = tuple(stack([p.detach() for p in ps]).requires_grad_(True)
                   for ps in zip(*[list(m.parameters()) for m in models]))
    buffers = tuple(stack(bs) for bs in zip(*[list(m.buffers()) for m in models]))
    return fmodel, params, buffers


make_functional = _deprecated(_make_functional, "make_functional", "torch.func.functional_call")
make_functional_with_buffers = _deprecated(_make_functional_with_buffers, "make_functional_with_buffers",
                                           "torch.func.functional_call")
combine_state_for_ensemble = _deprecated(_combine_state_for_ensemble, "combine_state_for_ensemble",
                                         "torch.func.stack_module_state")
