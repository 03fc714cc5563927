"""torch's `out=` keyword: the result written into the given tensor(s), which the call returns.

Every public function whose torch signature has `out` gets it here, in one place: the argument checker
(`_argcheck.py`) hands an accepted call with `out=` to `call_with_out`, and so do the unary math functions that
have no checker. What torch does, and so what this does:

- no autograd: a call where grad mode is on and an input or `out` requires grad is refused with torch's
  RuntimeError;
- the result is cast to `out`'s dtype where torch's cast rule allows it (no float to integer, complex to real or
  number to bool: torch's "result type Float can't be cast to the desired output type Long");
- `out` of another shape is resized, with torch's deprecation warning when it had elements; one of the right
  shape is written in place (a view passed as `out` writes through to its base);
- several results (max with dim, sort...) go into a tuple or list of tensors, returned as the function's own
  named tuple type.

Not matched: ops for which torch requires `out`'s dtype to be exactly the result's (mm: "Expected out tensor to
have dtype float, but got double instead") take the cast here; and ops that compute in `out`'s dtype (sum) compute
in their own and cast.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ._tensor import Tensor, _check_cast
from ._warn import warn_at_caller
from .autograd.grad_mode import state as _mode

_RESIZED = ("An output with one or more elements was resized since it had shape {old}, which does not match the "
            "required output shape {new}. This behavior is deprecated, and in a future PyTorch release outputs will "
            "not be resized unless they have zero elements. You can explicitly reuse an out tensor t by resizing it, "
            "inplace, to zero elements with t.resize_(0). (Triggered internally at "
            "/__w/pytorch/pytorch/aten/src/ATen/native/Resize.cpp:30.)")


def _requires_grad(values: Any) -> bool:
    for v in values:
        if isinstance(v, Tensor):
            if v._requires_grad:
                return True
        elif isinstance(v, (list, tuple)) and _requires_grad(v):
            return True
    return False


def call_with_out(name: str, fn: Callable, args: tuple, kwargs: dict, out: Any) -> Any:
    """`fn(*args, **kwargs)` (kwargs without `out`), written into `out`."""
    several = isinstance(out, (tuple, list))
    targets = list(out) if several else [out]
    for t in targets:
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if _mode.enabled and (any(t._requires_grad for t in targets) or _requires_grad(args)
                          or _requires_grad(kwargs.values())):
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic differentiation, but "
                           "one of the arguments requires grad.")
    res = fn(*args, **kwargs)
    results = list(res) if isinstance(res, tuple) else [res]
    if isinstance(res, tuple) != several or len(results) != len(targets):
        raise TypeError(f"{name}(): argument 'out' must be {'tuple of Tensors' if isinstance(res, tuple) else 'Tensor'}"
                        f", not {type(out).__name__}")
    for t, r in zip(targets, results):
        _write(t, r)
    if not several:
        return out
    return _out_type(type(res))(*targets) if hasattr(res, "_fields") else tuple(targets)


_OUT_TYPES: dict = {}


def _out_type(cls: type) -> type:
    """torch.return_types.max -> torch.return_types.max_out (what torch returns for out=)."""
    t = _OUT_TYPES.get(cls)
    if t is None:
        from ._ops.reduction import return_type
        t = _OUT_TYPES[cls] = return_type(cls.__name__ + "_out", cls._fields)
    return t


def _write(t: Tensor, r: Any) -> None:
    src = r._data if isinstance(r, Tensor) else np.asarray(r)
    dst = t._data
    if src.dtype != dst.dtype:
        _check_cast(src.dtype, dst.dtype)
    if src.shape != dst.shape:
        if dst.size:
            warn_at_caller(_RESIZED.format(old=list(dst.shape), new=list(src.shape)), UserWarning)
        t._data = src.astype(dst.dtype, copy=True)
    else:
        np.copyto(dst, src, casting="unsafe")
    t._vc[0] += 1
