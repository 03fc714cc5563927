"""Activation checkpointing: trade compute for memory. Mirrors `torch.utils.checkpoint`.

`checkpoint(fn, *args, use_reentrant=...)` runs `fn` without keeping what its backward would need, and
runs it again during backward to get those values back.

- `use_reentrant=True` (torch's old default): `fn` runs under no_grad inside a custom Function; its
  backward recomputes `fn` with grad on and backpropagates through the recomputed graph (a nested
  engine call). Like torch's, this variant refuses `autograd.grad` and `backward(inputs=...)`.
- `use_reentrant=False` (recommended): `fn` runs with grad on under saved_tensors_hooks whose pack hook
  keeps only a counter; the first unpack during backward recomputes `fn` and hands back the recomputed
  tensors in the same order. Works with `autograd.grad`. Gradients of the recomputed saved values
  are not tracked again, so double backward through a checkpoint is not supported.

`preserve_rng_state` restores ndgrad's default generator before recomputing, so dropout draws the same mask.
"""
from __future__ import annotations

import itertools
from typing import Any, Callable

from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import enable_grad
from .._warn import warn as _warn

__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError"]

REENTRANT_WARNING = (
    "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. Starting in PyTorch 2.9, "
    "calling checkpoint without use_reentrant will raise an exception. use_reentrant=False is recommended, but if "
    "you need to preserve the current default behavior, you can pass use_reentrant=True. Refer to docs for more "
    "details on the differences between the two variants.")

REENTRANT_GRAD_ERROR = (
    "When use_reentrant=True, torch.utils.checkpoint is incompatible with .grad() or passing an `inputs` parameter "
    "to .backward(). To resolve this error, you can either set use_reentrant=False, or call .backward() without "
    "passing the `inputs` argument.")


class CheckpointError(RuntimeError):
    """Raised when the recomputation does not match the original forward pass."""


def _rng_state(preserve: bool) -> Any:
    if not preserve:
        return None
    from .._creation import default_generator
    return default_generator._state()


def _restore_rng(state: Any) -> None:
    if state is not None:
        from .._creation import default_generator
        default_generator._restore(state)



class CheckpointFunction(Function):
    @staticmethod
    def forward(ctx: Any, run_function: Callable, preserve_rng_state: bool, *args: Any) -> Any:
        ctx.run_function = run_function
        ctx.rng = _rng_state(preserve_rng_state)
        ctx.inputs = [None if isinstance(a, Tensor) else a for a in args]
        ctx.tensor_indices = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx.save_for_backward(*[a for a in args if isinstance(a, Tensor)])
        return run_function(*args)

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> Any:
        from .. import autograd
        from ..autograd import engine
        if engine._capturing:
            raise RuntimeError(REENTRANT_GRAD_ERROR)
        inputs = list(ctx.inputs)
        for i, t in zip(ctx.tensor_indices, ctx.saved_tensors):
            inputs[i] = t.detach().requires_grad_(t.requires_grad)
        rng = _rng_state(ctx.rng is not None)
        _restore_rng(ctx.rng)
        try:
            with enable_grad():
                outputs = ctx.run_function(*inputs)
        finally:
            _restore_rng(rng)
        outs = outputs if isinstance(outputs, tuple) else (outputs,)
        pairs = [(o, g) for o, g in zip(outs, grads)
                 if isinstance(o, Tensor) and o.requires_grad and g is not None]
        if not pairs:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not necessary")
        autograd.backward([o for o, _ in pairs], [g for _, g in pairs])
        grads_in = [d.grad if isinstance(d, Tensor) else None for d in inputs]
        return (None, None, *grads_in)


def _checkpoint_reentrant(function: Callable, args: tuple, preserve_rng_state: bool) -> Any:
    return CheckpointFunction.apply(function, preserve_rng_state, *args)


def _checkpoint_nonreentrant(function: Callable, args: tuple, kwargs: dict, preserve_rng_state: bool) -> Any:
    from ..autograd.graph import saved_tensors_hooks
    rng = _rng_state(preserve_rng_state)
    counter = itertools.count()
    recomputed: dict = {}

    def recompute() -> None:
        order = itertools.count()

        def keep(t: Tensor) -> int:
            k = next(order)
            recomputed[k] = t.detach()
            return k

        current = _rng_state(rng is not None)
        _restore_rng(rng)
        try:
            with enable_grad(), saved_tensors_hooks(keep, lambda k: recomputed[k]):
                function(*args, **kwargs)
        finally:
            _restore_rng(current)

    def pack(t: Tensor) -> int:
        return next(counter)

    def unpack(k: int) -> Tensor:
        if k not in recomputed:
            recompute()
        if k not in recomputed:
            raise CheckpointError("torch.utils.checkpoint: Recomputed values for the following tensors have "
                                  "different metadata than during the forward pass.")
        return recomputed[k]

    with saved_tensors_hooks(pack, unpack):
        return function(*args, **kwargs)


def checkpoint(function: Callable, *args: Any, use_reentrant: bool | None = None, context_fn: Any = None,
               determinism_check: str = "default", debug: bool = False, early_stop: bool = True,
               preserve_rng_state: bool = True, **kwargs: Any) -> Any:
    """Run `function(*args, **kwargs)` without saving its intermediate values; recompute them in backward."""
    if use_reentrant is None:
        _warn(REENTRANT_WARNING, stacklevel=2)
        use_reentrant = True
    if use_reentrant:
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
        return _checkpoint_reentrant(function, args, preserve_rng_state)
    return _checkpoint_nonreentrant(function, args, kwargs, preserve_rng_state)


def checkpoint_sequential(functions: Any, segments: int, input: Any, use_reentrant: bool | None = None,
                          **kwargs: Any) -> Any:
    """Run a sequence of modules/functions in `segments` checkpointed chunks (the last chunk runs normally)."""
    if use_reentrant is None:
        _warn(REENTRANT_WARNING, stacklevel=2)
        use_reentrant = True
    fns: list = list(functions.children()) if hasattr(functions, "children") else list(functions)
    size = len(fns) // segments

    def run(start: int, end: int) -> Callable:
        def forward(x: Any) -> Any:
            for f in fns[start:end + 1]:
                x = f(x)
            return x
        return forward

    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run(start, end), input, use_reentrant=use_reentrant, **kwargs)
    return run(end + 1, len(fns) - 1)(input)

