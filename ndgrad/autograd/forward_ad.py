"""Forward-mode automatic differentiation. Mirrors `torch.autograd.forward_ad`.

A dual tensor is an ordinary Tensor carrying a tangent (`_fw_grad`). While a dual level is active, the op
classes' `__call__` (and the in-place machinery, and `Function.apply`) are swapped for versions that, after
computing an op as usual, give its output the tangent J·t of the inputs' tangents; leaving the level puts
the originals back, so forward mode costs nothing when unused. Tangents are computed with ndgrad ops, so
they are differentiable themselves (forward-over-reverse: the jvp of a gradient taken with
`create_graph=True` is a Hessian-vector product).

The rule of each op comes from its declaration (`Op.defjvp`): linear ops apply themselves to the tangents,
multilinear ones sum over inputs, elementwise ones apply their vjp formulas to the broadcast tangent (the
Jacobian is diagonal), and every other op transposes its vjp: u ↦ vjp(u) is linear, so J·t is the gradient
of <vjp(u), t> with respect to u, which the reverse engine computes from the op's own formulas.

As in torch, a view without a tangent of its own shows its base's (re-derived through its view chain), and
an in-place op writes the new tangent into the tensor's tangent where it can, so views taken before see it.
"""
from __future__ import annotations

import functools
import weakref
from typing import Any, Callable, NamedTuple

import numpy as np

from .._tensor import Tensor

__all__ = ["UnpackedDualTensor", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual", "dual_level"]

NO_LEVEL_MSG = ("Trying to create a dual Tensor for forward AD but no level exists, make sure to "
                "enter_dual_level() first.")


class _State:
    level = -1      # the active level (only one, as torch supports)
    on = False      # propagate tangents now (off inside rules, custom Function forwards...)
    dual: list = []  # weak references to the tensors and nodes given tangents in this level


_S = _State()


class UnpackedDualTensor(NamedTuple):
    """Namedtuple returned by `unpack_dual` containing the primal and tangent components of the dual tensor."""

    primal: Tensor
    tangent: Tensor | None


# -- the public API ----------------------------------------------------------------------------------------------
def enter_dual_level() -> int:
    """Enter a new forward grad level (only one at a time, as in torch); returns it."""
    if _S.level >= 0:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _install()
    _S.level = 0
    _S.on = True
    _S.dual = []
    return 0


def exit_dual_level(*, level: int | None = None) -> None:
    """Exit the forward grad level: every tangent of the level is dropped."""
    if level is None:
        level = _S.level
    if level < 0:
        raise RuntimeError("Dual level must be a positive number.")
    if level != _S.level:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that was created. "
                           "This is not supported.")
    _S.on = False
    _S.level = -1
    _uninstall()
    for r in _S.dual:
        obj = r()
        if obj is not None:
            d = obj.__dict__
            d.pop("_fw_grad", None)
            d.pop("_fw_res", None)
    _S.dual = []


class dual_level:
    """Context manager (and decorator) for forward AD: `with dual_level(): ...`. Mirrors torch's."""

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc: Any) -> None:
        exit_dual_level()

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.__class__():
                return fn(*args, **kwargs)
        return wrapper


def make_dual(tensor: Tensor, tangent: Tensor, *, level: int | None = None) -> Tensor:
    """A view of `tensor` carrying `tangent` as its forward gradient at the current level."""
    if level is None:
        level = _S.level
    if level < 0:
        raise RuntimeError(NO_LEVEL_MSG)
    if not (tensor.is_floating_point() or tensor.is_complex()):
        raise ValueError(f"Expected primal to be floating point or complex, but got: {tensor.dtype}")
    if not (tangent.is_floating_point() or tangent.is_complex()):
        raise ValueError(f"Expected tangent to be floating point or complex, but got: {tangent.dtype}")
    if level != _S.level:
        raise RuntimeError("Invalid level given to _make_dual")
    if _tangent_of(tensor) is not None:
        raise RuntimeError(f"Making a dual Tensor based on a Tensor that already has a forward gradient at the "
                           f"same level {level} is not supported.")
    if tangent._data.shape != tensor._data.shape:
        raise RuntimeError("Trying to set a forward gradient that has a different size than that of the original "
                           f"Tensor, this is not supported. Tensor is of size {list(tensor._data.shape)} while the "
                           f"given forward gradient is of size {list(tangent._data.shape)}.")
    dual = _alias(tensor)
    _set(dual, tangent)
    return dual


def unpack_dual(tensor: Tensor, *, level: int | None = None) -> UnpackedDualTensor:
    """(primal, tangent) of a dual tensor: the primal shares its memory and history without the tangent."""
    if level is None:
        level = _S.level
    if level < 0:
        return UnpackedDualTensor(tensor, None)
    if not isinstance(tensor, Tensor):
        raise TypeError(f"_unpack_dual(): argument 'dual' (position 1) must be Tensor, not {type(tensor).__name__}")
    t = _tangent_of(tensor) if level == _S.level else None
    return UnpackedDualTensor(_primal(tensor), t)


# -- machinery ---------------------------------------------------------------------------------------------------
def _alias(t: Tensor) -> Tensor:
    """A view of the whole of t (ViewBackward0 under grad), made without propagating t's tangent."""
    from .._ops.shape import view
    prev = _S.on
    _S.on = False
    try:
        return view(t, t._data.shape)
    finally:
        _S.on = prev


def _primal(t: Tensor) -> Tensor:
    """unpack_dual's primal: t's memory and history without the tangent (and no view of it, so that it never
    takes its base's tangent)."""
    from .._tensor import _wrap
    p = _wrap(t._data, t._vc, t.grad_fn, t._output_nr)
    p._requires_grad = t._requires_grad
    return p


def _tangent_of(t: Tensor) -> Any:
    """t's tangent; a view without one of its own shows its base's (as torch: the tangent of a view is the view
    of its base's tangent), so writes into a base reach the views taken before."""
    tan = t._fw_grad
    if tan is None:
        base = t._base
        if base is not None and base._fw_grad is not None:
            from .._ops.shape import apply_chain
            prev = _S.on
            _S.on = False
            try:
                tan = apply_chain(base._fw_grad, t._view_chain)
            finally:
                _S.on = prev
            _set(t, tan)
    return tan


def _assign(x: Tensor, new: Any) -> None:
    """An in-place op's new tangent for x: written into x's tangent where possible (as torch), so the tangents of
    views of x follow; else x just takes the new tangent."""
    old = x._fw_grad
    if new is not None and old is not None and old is not new and not old._requires_grad and \
            not new._requires_grad and old._data.shape == new._data.shape and old._data.flags.writeable:
        np.copyto(old._data, new._data, casting="unsafe")
        old._vc[0] += 1
        return
    _set(x, new)


def _set(t: Any, tangent: Any) -> None:
    """Give t a tangent (None removes it) for the rest of the level."""
    if tangent is None:
        t.__dict__.pop("_fw_grad", None)
        return
    if "_fw_grad" not in t.__dict__:
        _S.dual.append(weakref.ref(t))
    t._fw_grad = tangent


def _tangent_for(out: Tensor, tangent: Any) -> Any:
    """The tangent shaped and typed as its primal (complex -> real keeps the real part, as torch)."""
    from .._ops.pointwise import cast
    from .._ops.reduction import expand_to
    if not isinstance(tangent, Tensor):
        tangent = _as_tensor(tangent, out)
    od = out._data
    if tangent._data.shape != od.shape:
        tangent = expand_to(tangent, od.shape)
    if tangent._data.dtype != od.dtype:
        tangent = cast(tangent, od.dtype)
    return tangent


def _as_tensor(v: Any, like: Tensor) -> Tensor:
    from .._tensor import _wrap
    return _wrap(np.broadcast_to(np.asarray(v, like._data.dtype), like._data.shape).copy())


def _is_float(a: Any) -> bool:
    return isinstance(a, Tensor) and a._data.dtype.kind in "fcV"


def _input_tangents(op: Any, args: tuple) -> list | None:
    if op.variadic:
        seq = args[0]
        ts = [_tangent_of(t) if isinstance(t, Tensor) else None for t in seq] if isinstance(seq, (list, tuple)) \
            else []
    else:
        ts = [_tangent_of(args[i]) if i < len(args) and isinstance(args[i], Tensor) else None
              for i in range(op.n_in)]
    for t in ts:
        if t is not None:
            return ts
    return None


def _op_call(orig: Callable) -> Callable:
    """The dual-level version of an op class's __call__."""
    def __call__(self: Any, *args: Any) -> Any:
        if not _S.on:
            return orig(self, *args)
        _S.on = False
        try:
            out = orig(self, *args)
            if self.has_vjp or self._fw_kind is not None:
                ts = _input_tangents(self, args)
                if ts is not None:
                    _attach(self, args, ts, out)
        finally:
            _S.on = True
        return out
    __call__.__wrapped__ = orig  # type: ignore[attr-defined]
    return __call__


def _attach(op: Any, args: tuple, ts: list, out: Any) -> None:
    outs = out if isinstance(out, tuple) else (out,)
    if not any(_is_float(o) for o in outs):
        return
    kind = op._fw_kind
    if kind == "elementwise" and _any_complex(args, ts, outs):
        kind = None
    if kind == "linear":
        r = _linear(op, args, ts)
    elif kind == "multilinear":
        r = _multilinear(op, args, ts)
    elif kind == "elementwise":
        r = _elementwise(op, args, ts, outs[0])
    elif kind == "custom":
        r = op._fw_fn(ts, *args, result=out)
    else:
        r = _transpose_vjp(op, args, ts, outs)
    rs = r if isinstance(r, (tuple, list)) else (r,)
    diff = op.diff_out if len(op.diff_out) == len(outs) else (True,) * len(outs)
    for k, (o, t, d) in enumerate(zip(outs, rs, diff)):
        if t is None or not d or not _is_float(o):
            continue
        t = _tangent_for(o, t)
        _set(o, t)
        fn = o.grad_fn
        if fn is not None and getattr(fn, "_op", None) is op and op.saves_result:
            if "_fw_res" not in fn.__dict__:
                fn._fw_res = {}
                _S.dual.append(weakref.ref(fn))
            fn._fw_res[k] = t


def _any_complex(args: tuple, ts: list, outs: tuple) -> bool:
    for a in (*args, *ts, *outs):
        if isinstance(a, Tensor):
            if a._data.dtype.kind == "c":
                return True
        elif isinstance(a, complex):
            return True
    return False


def _zero_for(a: Any) -> Any:
    from .._ops.pointwise import zeros_like
    if isinstance(a, Tensor):
        return zeros_like(a)
    if isinstance(a, (bool, np.bool_)) or a is None:
        return a
    if isinstance(a, (int, float, complex, np.number)):
        return 0
    return a


def _linear(op: Any, args: tuple, ts: list) -> Any:
    if op.variadic:
        seq = [t if t is not None else _zero_for(x) for x, t in zip(args[0], ts)]
        return op(seq, *args[1:])
    new = list(args)
    for i in range(min(op.n_in, len(args))):
        if op.vjps[i] is None:
            continue  # an index, mask or condition: kept as is
        new[i] = ts[i] if ts[i] is not None else _zero_for(args[i])
    return op(*new)


def _multilinear(op: Any, args: tuple, ts: list) -> Any:
    total = None
    for i, t in enumerate(ts):
        if t is None or op.vjps[i] is None:
            continue
        new = list(args)
        new[i] = t
        r = op(*new)
        total = r if total is None else total + r
    return total


def _formula_vals(op: Any, args: tuple, out: Any) -> list:
    """What a node would hand the formulas under create_graph: arguments, result, input shapes."""
    nargs = op.nargs
    vals = [a.item() if isinstance(a, np.generic) else a for a in args[:nargs]]
    vals += [None] * (nargs - len(vals))
    vals.append(out)
    if op.uses_shapes:
        for i in range(op.n_in):
            a = args[i] if i < len(args) else None
            vals.append(tuple(a._data.shape) if isinstance(a, Tensor) else ())
    return vals


def _call_formula(f: Callable, g: Any, vals: list) -> Any:
    return f(g, *[vals[j] for j in f._idx])


def _elementwise(op: Any, args: tuple, ts: list, out: Tensor) -> Any:
    from .._ops.reduction import expand_to
    vals = _formula_vals(op, args, out)
    shape = out._data.shape
    total = None
    for i, t in enumerate(ts):
        f = op.vjps[i]
        if t is None or f is None:
            continue
        g = t if t._data.shape == shape else expand_to(t, shape)
        r = _call_formula(f, g, vals)
        total = r if total is None else total + r
    return total


def _transpose_vjp(op: Any, args: tuple, ts: list, outs: tuple) -> list:
    """J·t as the vjp of the (linear) vjp: with u a zero cotangent requiring grad, J·t = grad(vjp(u), u, t)."""
    from .._creation import zeros
    from .._ops.pointwise import cast
    from .._ops.reduction import sum_to
    from . import grad as _grad
    from .grad_mode import enable_grad, state
    graph = state.enabled and (any(t is not None and t._requires_grad for t in ts) or
                               any(isinstance(a, Tensor) and a._requires_grad for a in args[:op.n_in]))
    diff = op.diff_out if len(op.diff_out) == len(outs) else (True,) * len(outs)
    us = []
    gs = []
    for o, d in zip(outs, diff):
        if _is_float(o):
            u = zeros(o._data.shape, dtype=o.dtype, requires_grad=d)
            gs.append(u)
            if d:
                us.append(u)
        else:
            gs.append(None)
    if not us:
        return [None] * len(outs)
    with enable_grad():
        vals = _formula_vals(op, args, outs if op.multi else outs[0])
        g = gs if op.multi else gs[0]
        vs, tv = [], []
        for i, t in enumerate(ts):
            f = op.vjps[i]
            if t is None or f is None:
                continue
            v = _call_formula(f, g, vals)
            if not isinstance(v, Tensor) or not v._requires_grad:
                _check_constant(op, f, gs, vals)  # independent of u (no contribution), unless not differentiable
                continue
            a = args[i]
            if v._data.shape != a._data.shape:
                v = sum_to(v, a._data.shape)
            if v._data.dtype != a._data.dtype:
                v = cast(v, a._data.dtype)
            vs.append(v)
            tv.append(t if t._data.dtype == v._data.dtype else cast(t, v._data.dtype))
    if not vs:
        res: tuple = (None,) * len(us)
    else:
        res = _grad(vs, us, tv, create_graph=graph, allow_unused=True)
    out = []
    k = 0
    for o, d in zip(outs, diff):
        if _is_float(o) and d:
            r = res[k]
            k += 1
            out.append(r if r is not None else zeros(o._data.shape, dtype=o.dtype))
        else:
            out.append(None)
    return out


def _check_constant(op: Any, f: Callable, gs: list, vals: list) -> None:
    """A vjp that did not record u may just not depend on it (0) or use a helper op without a derivative: then
    the jvp cannot be derived from it, and a silent 0 would be wrong."""
    from .._creation import ones_like
    from .grad_mode import no_grad
    with no_grad():
        ones = [None if g is None else ones_like(g) for g in gs]
        v = _call_formula(f, ones if op.multi else ones[0], vals)
    if v is not None and np.any(np.asarray(getattr(v, "_data", v))):
        raise RuntimeError(f"forward-mode AD: the derivative formula of {op.name} uses an operation that is not "
                           f"differentiable, so its jvp cannot be derived from it; declare one with defjvp")


def _fw_result(node: Any, vals: list, nargs: int) -> None:
    """_unpack's hook: the saved output(s) of a node get the tangent their tensor had (forward-over-reverse)."""
    res = node._fw_res
    r = vals[nargs]
    if isinstance(r, tuple):
        for k, t in res.items():
            if k < len(r):
                _set(r[k], t)
    elif 0 in res and _S.level >= 0:
        _set(r, res[0])


# -- in-place ops and custom Functions ---------------------------------------------------------------------------
def _to_base(view: Tensor, t: Any) -> None:
    """An in-place write into a view changes its base: the base's tangent takes the view's new tangent."""
    base = view._base
    if base is None or (t is None and base._fw_grad is None):
        return
    from .._ops.shape import copy_view
    bt = base._fw_grad if base._fw_grad is not None else _zeros_tangent(base)
    _assign(base, copy_view(bt, t if t is not None else _zeros_tangent(view), view._view_chain))


def _set_inplace(orig: Callable) -> Callable:
    def method(self: Tensor, result: Tensor) -> Tensor:
        old = _tangent_of(self) if _S.on else None
        r = orig(self, result)
        if _S.on:
            t = result._fw_grad
            if t is None and old is None and (self._base is None or self._base._fw_grad is None):
                return r
            _S.on = False
            try:
                fn = result.grad_fn
                if old is not None and fn is not None:
                    # the op's formulas now see a snapshot of self's old value (torch's original_self): it keeps
                    # self's old tangent (a copy, as that tangent is about to be overwritten), for
                    # forward-over-reverse
                    for j, _, _, saved in fn._versions:
                        if j == 0 and saved is not None and saved is not self and saved._fw_grad is None:
                            _set(saved, old if old._requires_grad else old.clone())
                if t is not None:
                    t = _tangent_for(self, t)
                _to_base(self, t)
                _assign(self, t)
            finally:
                _S.on = True
        return r
    return method


def _zeros_tangent(self: Tensor) -> Tensor:
    from .._creation import zeros
    return zeros(self._data.shape, dtype=self.dtype)


def _overwrite_method(orig: Callable, which: str) -> Callable:
    """copy_, fill_, zero_: they may write memory directly (nothing requires grad); the tangent follows."""
    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        if not _S.on:
            return orig(self, *args, **kwargs)
        value = args[0] if args else kwargs.get("src", kwargs.get("value"))
        tv = _tangent_of(value) if isinstance(value, Tensor) else None
        if tv is None and _tangent_of(self) is None:
            return orig(self, *args, **kwargs)
        _S.on = False
        try:
            r = orig(self, *args, **kwargs)
            t = _tangent_for(self, tv).clone() if tv is not None else _zeros_tangent(self)
            _to_base(self, t)
            _assign(self, t)
        finally:
            _S.on = True
        return r
    method.__name__ = which
    return method


def _setitem(orig: Callable) -> Callable:
    def __setitem__(self: Tensor, idx: Any, value: Any) -> None:
        if not _S.on:
            return orig(self, idx, value)
        tv = _tangent_of(value) if isinstance(value, Tensor) else None
        ts = _tangent_of(self)
        if tv is None and ts is None:
            return orig(self, idx, value)
        _S.on = False
        try:
            orig(self, idx, value)
            t = ts.clone() if ts is not None else _zeros_tangent(self)
            t[idx] = tv if tv is not None else 0
            _to_base(self, t)
            _assign(self, t)
        finally:
            _S.on = True
    return __setitem__


def _function_apply(orig: Callable) -> Callable:
    """Function.apply in a dual level: the forward runs without tangents, then `jvp(ctx, *tangents)`."""
    from . import function as F

    def apply(cls: Any, *args: Any, **kwargs: Any) -> Any:
        cap = F._fw_capture
        start = len(cap)
        ts = [_tangent_of(a) if isinstance(a, Tensor) else None for a in args] if _S.on else ()
        if all(t is None for t in ts):
            try:
                return orig.__func__(cls, *args, **kwargs)
            finally:
                del cap[start:]  # the ctx is not needed: no tangent in
        _S.on = False
        try:
            out = orig.__func__(cls, *args, **kwargs)
            ctx = cap[start]
            del cap[start:]
            ctx._in_jvp = True
            try:
                touts = cls.jvp(ctx, *ts)
            finally:
                ctx._in_jvp = False
            outs = out if isinstance(out, tuple) else (out,)
            touts = touts if isinstance(touts, tuple) else (touts,)
            pairs = []
            for o, t in zip(outs, touts):
                if t is not None and _is_float(o):
                    pairs.append((o, _tangent_for(o, t)))
        finally:
            _S.on = True
        for o, t in pairs:
            _set(o, t)
        return out
    return classmethod(apply)


def _repr(orig: Callable) -> Callable:
    def __repr__(self: Tensor, *, tensor_contents: Any = None) -> str:
        t = _tangent_of(self)
        if t is None:
            return orig(self, tensor_contents=tensor_contents)
        from .. import _dtype as D
        from .._format import format_tensor
        extras = []
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        extras.append(f"tangent={t.item() if t._data.ndim == 0 else orig(t)}")
        d = self.dtype
        show = d not in (D.get_default_dtype(), D.int64, D.bool) and d is not D.default_complex()
        return format_tensor(self._data, dtype_name=d.name, show_dtype=show, extras=extras)
    return __repr__


_SAVED: list = []  # (owner, name, original) while a level is active


def _subclasses(root: type) -> list:
    """root and every class below it (the classes whose methods forward mode and the profiler swap)."""
    out, stack = [], [root]
    while stack:
        c = stack.pop()
        out.append(c)
        stack.extend(c.__subclasses__())
    return out


def _op_classes() -> list:
    from .._ops._registry import Op
    return _subclasses(Op)


def _patch(owner: Any, name: str, new: Any) -> None:
    _SAVED.append((owner, name, owner.__dict__[name]))
    setattr(owner, name, new)


def _install() -> None:
    from .._ops import _registry as R
    from . import function as F
    for cls in _op_classes():
        if "__call__" in cls.__dict__:
            _patch(cls, "__call__", _op_call(cls.__dict__["__call__"]))
    _patch(Tensor, "_set_inplace", _set_inplace(Tensor.__dict__["_set_inplace"]))
    for name in ("copy_", "fill_", "zero_"):
        if name in Tensor.__dict__:
            _patch(Tensor, name, _overwrite_method(Tensor.__dict__[name], name))
    _patch(Tensor, "__setitem__", _setitem(Tensor.__dict__["__setitem__"]))
    _patch(Tensor, "__repr__", _repr(Tensor.__dict__["__repr__"]))
    _patch(Tensor, "__str__", Tensor.__dict__["__repr__"])
    _patch(F.Function, "apply", _function_apply(F.Function.__dict__["apply"]))
    F._fw_capture = []
    R.FW_RESULT = _fw_result


def _uninstall() -> None:
    from . import function as F
    while _SAVED:
        owner, name, orig = _SAVED.pop()
        setattr(owner, name, orig)
    F._fw_capture = None
