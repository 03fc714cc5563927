"""`torch.nn.utils.prune`: pruning by masks, with torch's names and mechanics.

Pruning `name` of a module moves the parameter to `<name>_orig`, adds the buffer `<name>_mask`, sets the
attribute `<name>` to `orig * mask` (so gradients reach `<name>_orig` through the mask) and registers a
forward pre-hook that recomputes it before every call. Pruning again combines the new mask with the old
one through a `PruningContainer`, computing the new mask on the entries still unpruned. `remove` makes
the pruning permanent.
"""
from __future__ import annotations

import numbers
from abc import ABC, abstractmethod
from typing import Any, Iterable

import numpy as np

from ... import _creation as C
from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from ..parameter import Parameter

__all__ = ["BasePruningMethod", "PruningContainer", "Identity", "RandomUnstructured", "L1Unstructured",
           "RandomStructured", "LnStructured", "CustomFromMask", "identity", "random_unstructured",
           "l1_unstructured", "random_structured", "ln_structured", "global_unstructured", "custom_from_mask",
           "remove", "is_pruned"]


def _validate_amount(amount: Any) -> None:
    if not isinstance(amount, numbers.Real):
        raise TypeError(f"Invalid type for amount: {amount}. Must be int or float.")
    if (isinstance(amount, numbers.Integral) and amount < 0) or \
            (not isinstance(amount, numbers.Integral) and (float(amount) > 1.0 or float(amount) < 0.0)):
        raise ValueError(f"amount={amount} should either be a float in the range [0, 1] or a non-negative integer")


def _validate_amount_vs_size(amount: Any, size: int) -> None:
    if isinstance(amount, numbers.Integral) and amount > size:
        raise ValueError(f"amount={amount} should be smaller than the number of parameters to prune={size}")


def _n_to_prune(amount: Any, size: int) -> int:
    if isinstance(amount, numbers.Integral):
        return int(amount)
    return int(round(amount * size))


def _smallest(values: np.ndarray, k: int) -> np.ndarray:
    """Flat indices of the k smallest values (stable for ties: the first ones in memory order)."""
    return np.argsort(values.reshape(-1), kind="stable")[:k]


class BasePruningMethod(ABC):
    """Mirrors `torch.nn.utils.prune.BasePruningMethod`."""

    _tensor_name: str
    PRUNING_TYPE = "unstructured"

    def __call__(self, module: Any, inputs: Any) -> None:
        setattr(module, self._tensor_name, self.apply_mask(module))

    @abstractmethod
    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """The new mask for t, given the mask already applied."""

    def apply_mask(self, module: Any) -> Tensor:
        if self._tensor_name is None:
            raise AssertionError(f"Module {module} has to be pruned")
        mask = getattr(module, self._tensor_name + "_mask")
        orig = getattr(module, self._tensor_name + "_orig")
        return orig * mask

    @classmethod
    def apply(cls, module: Any, name: str, *args: Any, importance_scores: Tensor | None = None,
              **kwargs: Any) -> "BasePruningMethod":
        old_method = None
        found = 0
        hooks_to_remove = []
        for k, hook in module._forward_pre_hooks.items():
            if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
                old_method = hook
                hooks_to_remove.append(k)
                found += 1
        if found > 1:
            raise AssertionError(f"Avoid adding multiple pruning hooks to the same tensor {name} of module "
                                 f"{module}. Use a PruningContainer.")
        for k in hooks_to_remove:
            del module._forward_pre_hooks[k]

        method = cls(*args, **kwargs)
        method._tensor_name = name
        if old_method is not None:
            if isinstance(old_method, PruningContainer):
                old_method.add_pruning_method(method)
                method = old_method
            else:
                container = PruningContainer(old_method)
                container.add_pruning_method(method)
                method = container

        orig = getattr(module, name)
        if importance_scores is not None and importance_scores.shape != orig.shape:
            raise AssertionError(f"importance_scores should have the same shape as parameter {name} of {module}")
        if old_method is None:
            module.register_parameter(name + "_orig", orig)
            del module._parameters[name]
            default_mask = C.ones_like(orig)
        else:
            default_mask = getattr(module, name + "_mask").detach().clone()
        scores = importance_scores if importance_scores is not None else orig
        try:
            mask = method.compute_mask(scores, default_mask=default_mask)
            module.register_buffer(name + "_mask", mask)
            setattr(module, name, method.apply_mask(module))
            module.register_forward_pre_hook(method)
        except Exception:
            if old_method is None:
                orig = getattr(module, name + "_orig")
                module.register_parameter(name, orig)
                del module._parameters[name + "_orig"]
            raise
        return method

    def prune(self, t: Tensor, default_mask: Tensor | None = None,
              importance_scores: Tensor | None = None) -> Tensor:
        scores = importance_scores if importance_scores is not None else t
        default_mask = default_mask if default_mask is not None else C.ones_like(t)
        return t * self.compute_mask(scores, default_mask=default_mask)

    def remove(self, module: Any) -> None:
        if self._tensor_name is None:
            raise AssertionError(f"Module {module} has to be pruned before pruning can be removed")
        weight = self.apply_mask(module)
        if hasattr(module, self._tensor_name):
            delattr(module, self._tensor_name)
        orig = module._parameters[self._tensor_name + "_orig"]
        with no_grad():
            orig._data[...] = weight._data
        del module._parameters[self._tensor_name + "_orig"]
        del module._buffers[self._tensor_name + "_mask"]
        setattr(module, self._tensor_name, orig)


class PruningContainer(BasePruningMethod):
    """A sequence of pruning methods applied one after the other to the same parameter."""

    def __init__(self, *args: Any) -> None:
        self._pruning_methods: tuple = ()
        if len(args) == 1 and not isinstance(args[0], Iterable):
            self._tensor_name = args[0]._tensor_name
            self.add_pruning_method(args[0])
        elif len(args) == 1 and isinstance(args[0], Iterable):
            for method in args[0]:
                self.add_pruning_method(method)
        else:
            for method in args:
                self.add_pruning_method(method)

    def add_pruning_method(self, method: BasePruningMethod) -> None:
        if not isinstance(method, BasePruningMethod) and method is not None:
            raise TypeError(f"{type(method)} is not a BasePruningMethod subclass")
        if method is not None and getattr(self, "_tensor_name", method._tensor_name) != method._tensor_name:
            raise ValueError("Can only add pruning methods acting on the parameter named "
                             f"'{self._tensor_name}' to PruningContainer. Found '{method._tensor_name}'")
        self._pruning_methods += (method,)
        self._tensor_name = method._tensor_name

    def __len__(self) -> int:
        return len(self._pruning_methods)

    def __iter__(self) -> Any:
        return iter(self._pruning_methods)

    def __getitem__(self, idx: int) -> BasePruningMethod:
        return self._pruning_methods[idx]

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        method = self._pruning_methods[-1]
        mask = default_mask._data.copy()
        live = mask == 1
        if method.PRUNING_TYPE == "unstructured":
            sub = t._data[live]
            new = method.compute_mask(C.from_numpy(np.ascontiguousarray(sub)),
                                      default_mask=C.from_numpy(mask[live].copy()))
            mask[live] = new._data
        elif method.PRUNING_TYPE == "structured":
            if not hasattr(method, "dim"):
                raise AttributeError("Pruning methods of PRUNING_TYPE 'structured' need to have the attribute `dim` "
                                     "defined.")
            dim = method.dim if method.dim >= 0 else method.dim + t.ndim
            axes = tuple(i for i in range(t.ndim) if i != dim)
            keep = live.any(axis=axes) if axes else live
            idx = [slice(None)] * t.ndim
            idx[dim] = np.nonzero(keep)[0]
            sub = t._data[tuple(idx)]
            new = method.compute_mask(C.from_numpy(np.ascontiguousarray(sub)),
                                      default_mask=C.from_numpy(mask[tuple(idx)].copy()))
            mask[tuple(idx)] = new._data
        elif method.PRUNING_TYPE == "global":
            mask = method.compute_mask(t, default_mask=default_mask)._data
        else:
            raise ValueError(f"Unrecognized PRUNING_TYPE {method.PRUNING_TYPE}")
        return C.from_numpy(mask.astype(default_mask._data.dtype))


class Identity(BasePruningMethod):
    """Mirrors `prune.Identity`: a mask of ones."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        return default_mask

    @classmethod
    def apply(cls, module: Any, name: str) -> "BasePruningMethod":  # type: ignore[override]
        return super().apply(module, name)


class _Unstructured(BasePruningMethod):
    """Zero the `amount` entries that `_drop` picks (flat indices), keeping what earlier masks removed."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount: Any) -> None:
        _validate_amount(amount)
        self.amount = amount

    def _drop(self, t: Tensor, k: int) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        n = t.numel()
        _validate_amount_vs_size(self.amount, n)
        k = _n_to_prune(self.amount, n)
        mask = default_mask._data.copy()
        if k:
            mask.reshape(-1)[self._drop(t, k)] = 0
        return C.from_numpy(mask)


class RandomUnstructured(_Unstructured):
    """Mirrors `prune.RandomUnstructured`: zero the `amount` entries with the largest of uniform draws (torch's
    rand_like, so a seeded program prunes the entries torch prunes)."""

    def _drop(self, t: Tensor, k: int) -> np.ndarray:
        r = C.rand(*t.shape, dtype=t.dtype if t.is_floating_point() else None)._data
        return np.argsort(-r.reshape(-1), kind="stable")[:k]

    @classmethod
    def apply(cls, module: Any, name: str, amount: Any) -> "BasePruningMethod":  # type: ignore[override]
        return super().apply(module, name, amount=amount)


class L1Unstructured(_Unstructured):
    """Mirrors `prune.L1Unstructured`: zero the `amount` entries of smallest absolute value."""

    def _drop(self, t: Tensor, k: int) -> np.ndarray:
        return _smallest(np.abs(t.detach()._data), k)

    @classmethod
    def apply(cls, module: Any, name: str, amount: Any,  # type: ignore[override]
              importance_scores: Tensor | None = None) -> "BasePruningMethod":
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


def _structured_mask(t: Tensor, default_mask: Tensor, amount: Any, dim: int, scores: np.ndarray) -> Tensor:
    if t.ndim <= 1:
        raise ValueError(f"Structured pruning can only be applied to multidimensional tensors. Found tensor of "
                         f"shape {tuple(t.shape)} with {t.ndim} dims")
    size = t.shape[dim]
    _validate_amount_vs_size(amount, size)
    k = _n_to_prune(amount, size)
    keep = size - k
    mask = np.zeros(tuple(t.shape), dtype=default_mask._data.dtype)
    if keep:
        kept = np.argsort(-scores, kind="stable")[:keep]
        idx = [slice(None)] * t.ndim
        idx[dim] = kept
        mask[tuple(idx)] = 1
    return C.from_numpy(mask * default_mask._data)


class RandomStructured(BasePruningMethod):
    """Mirrors `prune.RandomStructured`: zero `amount` whole channels along `dim`, chosen at random."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount: Any, dim: int = -1) -> None:
        _validate_amount(amount)
        self.amount = amount
        self.dim = dim

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        dim = self.dim % t.ndim if t.ndim else 0
        scores = C.default_generator._rng.random(t.shape[dim]) if t.ndim > 1 else np.zeros(0)
        return _structured_mask(t, default_mask, self.amount, dim, scores)

    @classmethod
    def apply(cls, module: Any, name: str, amount: Any, dim: int = -1) -> "BasePruningMethod":  # type: ignore[override]
        return super().apply(module, name, amount=amount, dim=dim)


class LnStructured(BasePruningMethod):
    """Mirrors `prune.LnStructured`: zero the `amount` channels along `dim` of smallest L`n` norm."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount: Any, n: Any, dim: int = -1) -> None:
        _validate_amount(amount)
        self.amount = amount
        self.n = n
        self.dim = dim

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        if t.ndim <= 1:
            return _structured_mask(t, default_mask, self.amount, 0, np.zeros(0))
        dim = self.dim % t.ndim
        a = t.detach()._data.astype(np.float64)
        axes = tuple(i for i in range(t.ndim) if i != dim)
        moved = np.moveaxis(a, dim, 0).reshape(a.shape[dim], -1)
        p = self.n
        if p in ("fro",):
            p = 2
        if p == "nuc":
            raise ValueError("nuc norm is not supported by LnStructured")
        scores = np.linalg.norm(moved, ord=p, axis=1) if not (isinstance(p, float) and np.isinf(p)) else \
            np.abs(moved).max(axis=1)
        del axes
        return _structured_mask(t, default_mask, self.amount, dim, scores)

    @classmethod
    def apply(cls, module: Any, name: str, amount: Any, n: Any, dim: int,  # type: ignore[override]
              importance_scores: Tensor | None = None) -> "BasePruningMethod":
        return super().apply(module, name, amount=amount, n=n, dim=dim, importance_scores=importance_scores)


class CustomFromMask(BasePruningMethod):
    """Mirrors `prune.CustomFromMask`: a mask given by the user."""

    PRUNING_TYPE = "global"

    def __init__(self, mask: Tensor) -> None:
        self.mask = mask

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        if default_mask.shape != self.mask.shape:
            raise AssertionError("default_mask and mask must have the same shape")
        return C.from_numpy((default_mask._data * self.mask._data).astype(default_mask._data.dtype))

    @classmethod
    def apply(cls, module: Any, name: str, mask: Tensor) -> "BasePruningMethod":  # type: ignore[override]
        return super().apply(module, name, mask=mask)


def identity(module: Any, name: str) -> Any:
    Identity.apply(module, name)
    return module


def random_unstructured(module: Any, name: str, amount: Any) -> Any:
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module: Any, name: str, amount: Any, importance_scores: Tensor | None = None) -> Any:
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module: Any, name: str, amount: Any, dim: int) -> Any:
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module: Any, name: str, amount: Any, n: Any, dim: int,
                  importance_scores: Tensor | None = None) -> Any:
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def custom_from_mask(module: Any, name: str, mask: Tensor) -> Any:
    CustomFromMask.apply(module, name, mask)
    return module


def global_unstructured(parameters: Iterable, pruning_method: type, importance_scores: dict | None = None,
                        **kwargs: Any) -> None:
    """Mirrors `prune.global_unstructured`: one threshold over all the given (module, name) pairs."""
    if not isinstance(parameters, Iterable):
        raise TypeError("global_unstructured(): parameters is not an Iterable")
    parameters = tuple(parameters)
    importance_scores = importance_scores if importance_scores is not None else {}
    if not isinstance(importance_scores, dict):
        raise TypeError("global_unstructured(): importance_scores must be of type dict")
    scores, masks = [], []
    for module, name in parameters:
        s = importance_scores.get((module, name), getattr(module, name))
        scores.append(s.detach()._data.reshape(-1))
        m = getattr(module, name + "_mask", None)
        masks.append(m._data.reshape(-1) if m is not None else np.ones(s.numel(), dtype=s._data.dtype))
    flat = C.from_numpy(np.concatenate(scores))
    default = C.from_numpy(np.concatenate(masks))
    container = PruningContainer()
    container._tensor_name = "temp"
    method = pruning_method(**kwargs)
    method._tensor_name = "temp"
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError('Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. Found method '
                        f"{pruning_method} of type {method.PRUNING_TYPE}")
    container.add_pruning_method(method)
    final = container.compute_mask(flat, default)._data
    pointer = 0
    for module, name in parameters:
        p = getattr(module, name)
        n = p.numel()
        custom_from_mask(module, name, mask=C.from_numpy(final[pointer:pointer + n].reshape(tuple(p.shape)).copy()))
        pointer += n


def remove(module: Any, name: str) -> Any:
    """Make the pruning of `name` permanent: the masked values become the parameter again."""
    for k, hook in module._forward_pre_hooks.items():
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            return module
    raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before pruning can be removed")


def is_pruned(module: Any) -> bool:
    """Whether any submodule has a pruning pre-hook."""
    for _, sub in module.named_modules():
        for hook in sub._forward_pre_hooks.values():
            if isinstance(hook, BasePruningMethod):
                return True
    return False


del Parameter
