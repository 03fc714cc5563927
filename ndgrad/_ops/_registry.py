"""The op definition form and `Op.__call__`: forward, dtype rules, graph node, derivative formulas.

Every differentiable primitive is one `Op`: a NumPy forward and one derivative formula per
differentiable input (`op.defvjp(self=..., other=...)`). A formula's parameter names say what it
needs: `grad` (or `grads` for several outputs), the op's input and parameter names, and `result`.
Exactly those values are saved, and only for inputs that require grad, as torch does.

Formulas are written in ndgrad ops and operators, and every op is *dual*: called with Tensors it
records the graph; called with plain NumPy arrays (no Tensor among its inputs) it just runs its
forward. The engine runs formulas on arrays (fast) unless `create_graph=True`, when it runs them
on Tensors so that derivatives of any order come from the same one formula.

Broadcast reduction and the cast of a gradient to its input's dtype happen here, in one place.
"""
from __future__ import annotations

import inspect
import re
from operator import itemgetter
from typing import Any, Callable, Sequence

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor, _wrap
from ..autograd.graph import FREED, FREED_MSG, AccumulateGrad, Node
from ..autograd.grad_mode import state as _mode

__all__ = ["Op", "defop", "PROMOTE", "PROMOTE_FLOAT", "FLOAT", "SAME", "COMPARE", "NONE"]

# dtype rules
PROMOTE = 1        # result dtype = torch.result_type of the inputs; inputs are cast to it
PROMOTE_FLOAT = 2  # as PROMOTE, then integers and bool become the default float dtype
FLOAT = 3          # one input; integers and bool become the default float dtype
SAME = 4           # no cast: NumPy's forward gives the dtype (shape ops, neg, abs, sum...)
COMPARE = 5        # inputs are promoted for the comparison; the result is bool
NONE = 0           # the forward handles dtypes itself

_ndarray = np.ndarray
_generic = np.generic
_FROM_NP = D.FROM_NP
_scalar_types = (int, float, bool, complex)
_SCALAR_KIND = {}


def _scalar_key(a):
    return (D.scalar_dtype(a), 0)


class Op:
    """One primitive: forward, dtype rule, derivative formulas. See the module docstring."""

    def __init__(self, name: str, fwd: Callable, inputs: Sequence[str], params: Sequence[str] = (),
                 node: str | None = None, dtype: int = PROMOTE, view: bool = False, n_out: int = 1,
                 diff_out: Sequence[bool] | None = None, variadic: bool = False,
                 promote: Sequence[int] | None = None) -> None:
        self.name = name
        self.fwd = fwd
        self.inputs = tuple(inputs)
        self.params = tuple(params)
        self.n_in = len(self.inputs)
        self.rule = dtype
        self.view = view
        self.n_out = n_out
        self.multi = n_out > 1
        self.diff_out = tuple(diff_out) if diff_out is not None else (True,) * n_out
        self.variadic = variadic
        self.promote = tuple(range(self.n_in)) if promote is None else tuple(promote)
        self.vjps: list = [None] * self.n_in
        self.has_vjp = False
        self.uses_shapes = False
        self._needed_cache: dict = {}
        self.saves_result = False
        node_name = node or (name[0].upper() + name[1:] + "Backward0")
        base = VariadicNode if variadic else OpNode
        self.node_cls = type(node_name, (base,), {"__slots__": (), "_op": self, "_name": node_name})

    def __repr__(self) -> str:
        return f"<op {self.name}>"

    # -- declaring derivatives -----------------------------------------------------------------
    def defvjp(self, /, **formulas: Callable) -> "Op":
        names = self.inputs + self.params + ("result",) + tuple(n + "_shape" for n in self.inputs)
        for inp, f in formulas.items():
            i = self.inputs.index(inp)
            args = list(inspect.signature(f).parameters)
            head = "grads" if self.multi else "grad"
            if not args or args[0] != head:
                raise TypeError(f"{self.name}: formula for {inp} must take '{head}' first")
            idx = tuple(names.index(a) for a in args[1:])
            nargs = len(self.inputs) + len(self.params)
            if nargs in idx:
                self.saves_result = True
            if any(j > nargs for j in idx):
                self.uses_shapes = True
            f._idx = idx  # type: ignore[attr-defined]
            f._get = itemgetter(*idx) if len(idx) > 1 else None  # type: ignore[attr-defined]
            self.vjps[i] = f
            self.has_vjp = True
        self._needed_cache.clear()
        return self

    def _needed(self, mask: tuple) -> tuple:
        """Positions (inputs, params, result) to save when the inputs in `mask` need grad."""
        r = self._needed_cache.get(mask)
        if r is None:
            s = set()
            nargs = self.n_in + len(self.params)
            for m, f in zip(mask, self.vjps):
                if m and f is not None:
                    s.update(j for j in f._idx if j <= nargs)
            r = self._needed_cache[mask] = tuple(sorted(s))
        return r

    # -- running ---------------------------------------------------------------------------------
    def __call__(self, *args: Any) -> Any:
        n = self.n_in
        if self.variadic:
            return _apply_variadic(self, args)
        arrs = list(args)
        tensor_seen = False
        req = False
        for i in range(n):
            a = args[i]
            if isinstance(a, Tensor):
                tensor_seen = True
                arrs[i] = a._data
                if a._requires_grad:
                    req = True
            elif isinstance(a, _generic):
                arrs[i] = a.item() if tensor_seen or _any_tensor(args, n) else a
        if not tensor_seen:
            if not _raw_ok(args, n):
                _raise_not_tensor(self, args)
            return self.fwd(*arrs)
        rule = self.rule
        if rule:
            arrs = _cast_inputs(self, rule, args, arrs, n)
        out = self.fwd(*arrs)
        if self.multi:
            return _wrap_multi(self, args, out, req)
        if type(out) is not _ndarray:
            out = np.asarray(out)
        vc = args[0]._vc if self.view else None
        if req and self.has_vjp and _mode.enabled and out.dtype.kind in "fc":
            return _record(self, args, n, out, vc)
        return _wrap(out, vc)


def _any_tensor(args, n) -> bool:
    for i in range(n):
        if isinstance(args[i], Tensor):
            return True
    return False


def _raw_ok(args, n) -> bool:
    for i in range(n):
        a = args[i]
        if isinstance(a, (_ndarray, _generic)):
            return True
        if isinstance(a, (list, tuple)) and a and isinstance(a[0], (_ndarray, _generic)):
            return True
    return False


def _raise_not_tensor(op: Op, args) -> None:
    a = args[0]
    raise TypeError(f"{op.name}(): argument '{'input' if op.inputs[0] == 'self' else op.inputs[0]}' "
                    f"(position 1) must be Tensor, not {type(a).__name__}")


def _cast_inputs(op: Op, rule: int, args, arrs: list, n: int) -> list:
    if rule == SAME:
        return arrs
    key = []
    idx = op.promote
    for i in idx:
        a = args[i]
        if isinstance(a, Tensor):
            key.append((_FROM_NP[a._data.dtype], 2 if a._data.ndim else 1))
        elif a is not None:
            key.append(_scalar_key(arrs[i]))
    key = tuple(key)
    d = D.result_type_of(key)
    if rule == PROMOTE_FLOAT or rule == FLOAT:
        if d._cat < 2:
            d = D._DEFAULT[0]
    target = d.np
    for i in idx:
        a = args[i]
        if isinstance(a, Tensor) and arrs[i].dtype != target:
            arrs[i] = arrs[i].astype(target)
    return arrs


def _edge(t: Tensor) -> tuple:
    fn = t.grad_fn
    if fn is not None:
        return (fn, t._output_nr)
    ref = t._accum
    acc = ref() if ref is not None else None
    if acc is None:
        import weakref
        acc = AccumulateGrad(t)
        t._accum = weakref.ref(acc)
    return (acc, 0)


_NO_EDGE = (None, 0)


def _record(op: Op, args: tuple, n: int, out, vc) -> Tensor:
    """Build the node for one output and return the output tensor attached to it."""
    mask = []
    edges = []
    meta = []
    for i in range(n):
        a = args[i]
        if isinstance(a, Tensor) and a._requires_grad and op.vjps[i] is not None:
            mask.append(True)
            edges.append(_edge(a))
            meta.append((a._data.shape, a._data.dtype))
        else:
            mask.append(False)
            edges.append(_NO_EDGE)
            meta.append(None)
    needed = op._needed(tuple(mask))
    res = _wrap(out, vc)
    if needed:
        nargs = n + len(op.params)
        saved = [None] * (nargs + 1)
        versions = []
        for j in needed:
            if j == nargs:
                saved[j] = out
                versions.append((j, res._vc, res._vc[0]))
            else:
                a = args[j]
                saved[j] = a
                if isinstance(a, Tensor):
                    versions.append((j, a._vc, a._vc[0]))
        node = op.node_cls(tuple(edges), saved, tuple(versions), tuple(meta))
        if needed[0] >= n and needed[-1] < nargs:
            node._keep = True
    else:
        node = op.node_cls(tuple(edges), None, (), tuple(meta))
    res.grad_fn = node
    res._requires_grad = True
    return res


def _wrap_multi(op: Op, args: tuple, outs: tuple, req: bool):
    """Ops with several outputs (max with dim, split, unbind...)."""
    outs = [o if type(o) is _ndarray else np.asarray(o) for o in outs]
    n = op.n_in
    vc = args[0]._vc if op.view else None
    results = [_wrap(o, vc) for o in outs]
    if req and op.has_vjp and _mode.enabled:
        mask = []
        edges = []
        meta = []
        for i in range(n):
            a = args[i]
            if isinstance(a, Tensor) and a._requires_grad and op.vjps[i] is not None:
                mask.append(True)
                edges.append(_edge(a))
                meta.append((a._data.shape, a._data.dtype))
            else:
                mask.append(False)
                edges.append(_NO_EDGE)
                meta.append(None)
        needed = op._needed(tuple(mask))
        nargs = n + len(op.params)
        saved = None
        versions = []
        if needed:
            saved = [None] * (nargs + 1)
            for j in needed:
                if j == nargs:
                    saved[j] = tuple(outs)
                    for r in results:
                        versions.append((j, r._vc, r._vc[0]))
                else:
                    saved[j] = args[j]
                    if isinstance(args[j], Tensor):
                        versions.append((j, args[j]._vc, args[j]._vc[0]))
        node = op.node_cls(tuple(edges), saved, tuple(versions), tuple(meta))
        node._ctx = [(o.shape, o.dtype) for o in outs]
        for k, (r, d) in enumerate(zip(results, op.diff_out)):
            if d and r._data.dtype.kind in "fc":
                r.grad_fn = node
                r._output_nr = k
                r._requires_grad = True
    return tuple(results)


def _apply_variadic(op: Op, args: tuple):
    """Ops over a sequence of tensors (cat, stack): each element is an input with its own edge."""
    seq = args[0]
    params = args[1:]
    if not any(isinstance(t, Tensor) for t in seq):
        if not _raw_ok(args, 1):
            _raise_not_tensor(op, args)
        return op.fwd(seq, *params)
    for t in seq:
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {list(seq).index(t)} in argument 0, "
                            f"but got {type(t).__name__}")
    arrs = [t._data for t in seq]
    if op.rule == PROMOTE and arrs:
        d = arrs[0].dtype
        if any(a.dtype != d for a in arrs):
            key = tuple((_FROM_NP[a.dtype], 2 if a.ndim else 1) for a in arrs)
            target = D.result_type_of(key).np
            arrs = [a.astype(target) if a.dtype != target else a for a in arrs]
    out = np.asarray(op.fwd(arrs, *params))
    res = _wrap(out)
    if _mode.enabled and any(t._requires_grad for t in seq) and out.dtype.kind in "fc":
        edges = tuple(_edge(t) if t._requires_grad else _NO_EDGE for t in seq)
        meta = tuple((t._data.shape, t._data.dtype) if t._requires_grad else None for t in seq)
        node = op.node_cls(edges, [None, *params, None], (), meta)
        node._keep = True
        res.grad_fn = node
        res._requires_grad = True
    return res


# -- the backward side ------------------------------------------------------------------------------
_TYPE_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
               "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
               "complex64": "ComplexFloat", "complex128": "ComplexDouble"}


def version_error(arr, box, ver, fn_name: str | None) -> RuntimeError:
    tname = f"torch.{_TYPE_NAMES.get(str(arr.dtype), 'Float')}Tensor"
    which = ""
    if fn_name:
        short = re.sub(r"Backward\d*$", "", fn_name)
        which = f", which is output 0 of {short}"
    return RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace operation: "
        f"[{tname} [{', '.join(map(str, arr.shape))}]]{which}, is at version {box[0]}; expected version "
        f"{ver} instead. Hint: enable anomaly detection to find the operation that failed to compute its "
        "gradient, with torch.autograd.set_detect_anomaly(True, check_nan=False).")


SUM_TO: Callable = None  # type: ignore[assignment]  # set by reduction.py: sum_to(x, shape)
CAST: Callable = None  # type: ignore[assignment]    # set by pointwise.py: cast(x, np dtype)


class OpNode(Node):
    """Node of a registered op; the per-op subclass carries `_op` and `_name`."""

    __slots__ = ()

    def _unpack(self, graph: bool) -> list:
        saved = self._saved
        if saved is FREED:
            raise RuntimeError(FREED_MSG)
        op = self._op
        nargs = op.n_in + len(op.params)
        for j, box, ver in self._versions:
            if box[0] != ver:
                if j == nargs:
                    r = saved[j]
                    raise version_error(r[0] if isinstance(r, tuple) else r, box, ver, self._name)
                t = saved[j]
                raise version_error(t._data, box, ver, t.grad_fn._name if t.grad_fn is not None else None)
        vals = list(saved)
        if graph:
            if op.saves_result and vals[nargs] is not None:
                r = vals[nargs]
                if isinstance(r, tuple):
                    vals[nargs] = tuple(_wrap(a, None, self, k) for k, a in enumerate(r))
                else:
                    vals[nargs] = _wrap(r, None, self, 0)
        else:
            for j in range(op.n_in):
                a = vals[j]
                if isinstance(a, Tensor):
                    vals[j] = a._data
        return vals

    def apply_grads(self, grads: list, graph: bool) -> list:
        op = self._op
        if self._saved is None:
            vals = [None] * (op.n_in + len(op.params) + 1) if op.uses_shapes else ()
        else:
            vals = self._unpack(graph)
        if op.uses_shapes:
            vals.extend(m[0] if m is not None else None for m in self._meta)
        if self._ctx is not None:
            g = _materialize(grads, self._ctx, graph)
        else:
            g = grads[0]
        out = []
        meta = self._meta
        for i, (fn, _) in enumerate(self.next_functions):
            if fn is None:
                out.append(None)
                continue
            f = op.vjps[i]
            idx = f._idx
            if not idx:
                r = f(g)
            elif f._get is None:
                r = f(g, vals[idx[0]])
            else:
                r = f(g, *f._get(vals))
            shape, dt = meta[i]
            if r is not None:
                if r.shape != shape:
                    r = SUM_TO(r, shape)
                if r.dtype != dt:
                    r = CAST(r, dt)
            out.append(r)
        return out


class VariadicNode(OpNode):
    """Node of cat/stack: one formula returns the gradients of every element of the sequence."""

    __slots__ = ()

    def apply_grads(self, grads: list, graph: bool) -> list:
        vals = self._unpack(graph)
        f = self._op.vjps[0]
        rs = f(grads[0], *[vals[j] for j in f._idx])
        out = []
        for (fn, _), m, r in zip(self.next_functions, self._meta, rs):
            if fn is None:
                out.append(None)
                continue
            if r.dtype != m[1]:
                r = CAST(r, m[1])
            out.append(r)
        return out


def _materialize(grads: list, metas: list, graph: bool) -> list:
    out = []
    for g, (shape, dt) in zip(grads, metas):
        if g is None and dt.kind in "fc":
            z = np.zeros(shape, dt)
            g = _wrap(z) if graph else z
        out.append(g)
    return out


def defop(name: str, inputs: Sequence[str] = ("self",), params: Sequence[str] = (), **kw: Any):
    """Decorator form: `@defop("exp", dtype=FLOAT) def exp(self): return np.exp(self)`."""
    def deco(fwd: Callable) -> Op:
        return Op(name, fwd, inputs, params, **kw)
    return deco
