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

import re
import sys
from math import copysign as _copysign
from operator import itemgetter
from typing import Any, Callable, Sequence

import numpy as np
from weakref import ref as _weakref

from .. import _dtype as D
from .._tensor import Tensor, _new, _wrap
from ..autograd.graph import FREED, FREED_MSG, AccumulateGrad, Node
from ..autograd.graph import _seq as _node_seq
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


def _scalar_key(a):
    return (D.scalar_dtype(a), 0)


class Op:
    """One primitive: forward, dtype rule, derivative formulas. See the module docstring."""

    _calls = 0  # calls before its code is generated (_fastcall.py: from the GENERATE_AFTER-th call)
    checks_ints = False  # an integer op's out-of-range number operand: wrapped as torch does (pow: refused, by fwd)
    # a ufunc that is the forward when the op's one parameter is the int 1 and both operands are arrays of one float
    # or complex dtype (sub with alpha 1: np.subtract), called without the forward function's checks
    plain2: Callable | None = None

    def __init__(self, name: str, fwd: Callable, inputs: Sequence[str], params: Sequence[str] = (),
                 node: str | None = None, dtype: int = PROMOTE, view: bool = False, n_out: int = 1,
                 diff_out: Sequence[bool] | None = None, variadic: bool = False,
                 promote: Sequence[int] | None = None, edges: Sequence[int] | None = None) -> None:
        self.name = name
        self.fwd = fwd
        self.inputs = tuple(inputs)
        self.params = tuple(params)
        self.nargs = len(self.inputs) + len(self.params)
        self.n_in = len(self.inputs)
        self.rule = dtype
        self.view = view
        self.n_out = n_out
        self.multi = n_out > 1
        self.diff_out = tuple(diff_out) if diff_out is not None else (True,) * n_out
        self.variadic = variadic
        self.promote = tuple(range(self.n_in)) if promote is None else tuple(promote)
        # the inputs that appear in next_functions (torch leaves out e.g. where's condition, pow's number)
        self.edge_inputs = None if edges is None else tuple(edges)
        self.edge2 = 3 if edges is None else sum(1 << i for i in edges)  # bitmask, for the two-input fast path
        self.vjps: list = [None] * self.n_in
        self.has_vjp = False
        self.uses_shapes = False
        self._needed_cache: dict = {}
        self._plans: dict = {}
        self.saves_result = False
        self._node_name = node or (name[0].upper() + name[1:] + "Backward0")
        if type(self) is Op and not variadic and not self.multi and self.n_in in (1, 2) and \
                (self.n_in == 1 or self.promote == (0, 1)):
            self.__class__ = _Op1 if self.n_in == 1 else _Op2

    def __repr__(self) -> str:
        return f"<op {self.name}>"

    class _NodeClass:
        """`op.node_cls`, the op's node class (torch's `MulBackward0`...), made when the op first records a
        node: creating a class per op at import would cost `import ndgrad` milliseconds. It is then stored on
        the op itself, so later lookups are plain attribute reads."""

        def __get__(self, op: "Op", owner: type) -> type:
            if op is None:
                return self  # type: ignore[return-value]
            name = op._node_name
            base = VariadicNode if op.variadic else OpNode
            ns = {"__slots__": (), "_op": op, "_name": name}
            fast = _gen_apply(op) if base is OpNode else None
            if fast is not None:
                ns["apply_grads"] = fast
            cls = op.__dict__["node_cls"] = type(name, (base,), ns)
            return cls

    node_cls = _NodeClass()

    # -- declaring derivatives -----------------------------------------------------------------
    def defvjp(self, /, **formulas: Callable) -> "Op":
        names = self.inputs + self.params + ("result",) + tuple(n + "_shape" for n in self.inputs)
        for inp, f in formulas.items():
            i = self.inputs.index(inp)
            code = f.__code__
            args = list(code.co_varnames[:code.co_argcount])
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
        self._plans.clear()
        self.__dict__.pop("_gen_cls", None)  # (generated from the old formulas, _fastcall.py: made again when hot)
        base = self.__class__.__dict__.get("_base_cls")
        if base is not None:
            self.__class__ = base
        cls = self.__dict__.get("node_cls")
        if cls is not None and "apply_grads" in cls.__dict__:  # (a node class made before: its unrolled apply too)
            fast = _gen_apply(self)
            if fast is None:
                del cls.apply_grads
            else:
                cls.apply_grads = fast
        return self

    # -- forward mode (autograd/forward_ad.py) --------------------------------------------------
    _fw_kind: str | None = None   # how forward mode derives this op's jvp; None: the double-vjp fallback
    _fw_fn: Callable | None = None

    def defjvp(self, fn: Callable | None = None, /, *, linear: bool = False, multilinear: bool = False,
               elementwise: bool = False) -> "Op":
        """Declare the forward-mode rule: `fn(tangents, *args, result=...)`, or how to derive it from the op.

        linear: the op is (jointly) linear in its differentiable inputs, so tangent = op(tangents, params)
        (a number in a differentiable position counts as 0). multilinear: linear in each input separately
        (mul, mm...): tangent = sum over inputs of op with that input replaced by its tangent.
        elementwise: a diagonal Jacobian, so the vjp formulas applied to the broadcast tangent give the jvp
        (real dtypes; complex values take the fallback). Without a rule, forward mode transposes the vjp."""
        kinds = [k for k, v in (("linear", linear), ("multilinear", multilinear), ("elementwise", elementwise))
                 if v]
        if len(kinds) + (fn is not None) != 1:
            raise TypeError(f"{self.name}: defjvp takes one rule")
        self._fw_kind = kinds[0] if kinds else "custom"
        self._fw_fn = fn
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

    def _plan(self, mask: int) -> tuple:
        """What to save when the inputs in bitmask `mask` need grad: (argument positions, input positions,
        whether the result is saved, whether only parameters are saved)."""
        needed = self._needed(tuple(bool(mask >> i & 1) for i in range(self.n_in)))
        n, nargs = self.n_in, self.nargs
        keep = bool(needed) and needed[0] >= n and needed[-1] < nargs
        keep_pos = tuple(j for j in needed if j < nargs)
        tensor_pos = tuple(j for j in keep_pos if j < n)
        r = self._plans[mask] = (keep_pos, tensor_pos, nargs in needed, keep)
        return r

    # -- running ---------------------------------------------------------------------------------
    def __call__(self, *args: Any) -> Any:
        if self.__class__ is Op and _hot(self):
            return _specialized(self, args)  # (its own code from now on, _fastcall.py)
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
        try:
            out = self.fwd(*arrs)
        except ValueError:
            shapes = [a._data.shape for a in args[:n] if isinstance(a, Tensor)]
            for k in range(1, len(shapes)):
                _check_broadcast(np.broadcast_shapes(*shapes[:k]) if k > 1 else shapes[0], shapes[k])
            raise
        except OverflowError:
            out = self.fwd(*_wrapped_ints(arrs, n))
        if self.multi:
            return _wrap_multi(self, args, out, req)
        if type(out) is not _ndarray:
            out = np.asarray(out)
        vc = args[0]._vc if self.view else None
        if req and self.has_vjp and _mode.enabled and out.dtype.kind in "fcV":
            return _record(self, args, n, out, vc)
        return _wrap(out, vc)


class _Op1(Op):
    """Fast path of one-input ops called on a Tensor (the common case)."""

    def __call__(self, *args: Any) -> Any:
        if self.__class__ is _Op1 and _hot(self):
            return _specialized(self, args)  # (its own code from now on, _fastcall.py)
        x = args[0]
        if not isinstance(x, Tensor):
            if x.__class__ is _ndarray:  # inside a formula during backward: just the forward
                return self.fwd(*args)
            return Op.__call__(self, *args)
        data = x._data
        if self.rule == FLOAT and data.dtype.kind not in "fcV":
            data = data.astype(D._DEFAULT[0].np)
        out = self.fwd(data, *args[1:]) if len(args) > 1 else self.fwd(data)
        if out.__class__ is not _ndarray:
            out = np.asarray(out)
        if self.view:
            if x._requires_grad and self.has_vjp and _mode.enabled and out.dtype.kind in "fcV":
                res = _record1(self, x, args, out, x._vc)
            else:
                res = _wrap(out, x._vc)
            # remember how to get from the base to this view, for in-place ops on it (CopySlices)
            base = x._base
            if base is None:
                res._base, res._view_chain = x, ((self, args[1:]),)
            else:
                res._base, res._view_chain = base, x._view_chain + ((self, args[1:]),)
            return res
        if x._requires_grad and self.has_vjp and _mode.enabled and out.dtype.kind in "fcV":
            return _record1(self, x, args, out, None)
        return _wrap(out)


def _record1(op: Op, x: Tensor, args: tuple, out, vc) -> Tensor:
    """`_record` for one-input ops, inlined for speed."""
    res = _new(Tensor)
    res._data = out
    res._vc = rvc = [0] if vc is None else vc
    res._output_nr = 0
    res._grad = None
    res._requires_grad = True
    fn = x.grad_fn
    edges = ((fn, x._output_nr) if fn is not None else _edge(x),)
    xd = x._data
    meta = _SAME1 if xd.shape == out.shape and xd.dtype is out.dtype else ((xd.shape, xd.dtype),)
    plan = op._plans.get(1)
    if plan is None:
        plan = op._plan(1)
    keep_pos, tensor_pos, save_res, keep = plan
    if keep_pos or save_res:
        nargs = op.nargs
        saved = [*args, None] if len(args) == nargs else [*args, *[None] * (nargs + 1 - len(args))]
        versions = []
        if tensor_pos:
            saved[0] = xd
            versions.append((0, x._vc, x._vc[0], x))
        else:
            saved[0] = None
        if save_res:
            saved[nargs] = out
            versions.append((nargs, rvc, rvc[0], None))
    else:
        saved = None
        versions = ()
        keep = False
    node = _new(op.node_cls)  # Node.__init__ inlined
    node.next_functions = edges
    node._saved = saved
    node._versions = versions
    node._meta = meta
    node._seq = next(_node_seq)
    if keep:
        node._keep = True
    res.grad_fn = node
    return res


_SAME = ()  # metadata of an input whose shape and dtype are the output's: no reduction or cast needed
_SAME1 = (_SAME,)
_SAME2 = (_SAME, _SAME)  # shared: one allocation fewer per node on the common two-input path
_SCALARS: dict = {}  # dtype -> {number: read-only-by-convention 0-d array}


def scalar_array(v: Any, dt: np.dtype) -> np.ndarray:
    """Number `v` as a 0-d array of dtype `dt`, made once (NumPy converts a Python number at every call that takes
    one); shared, so read-only."""
    cache = _SCALARS.get(dt)
    if cache is None:
        cache = _SCALARS[dt] = {}
    key = _number_key(v)
    a = cache.get(key)
    if a is None:
        if len(cache) > 4096:
            cache.clear()
        a = cache[key] = np.array(v, dt)
        a.flags.writeable = False
    return a


def _number_key(v: Any) -> Any:
    """scalar_array's cache key of number `v`: itself, but a zero by its sign (-0.0 == 0.0 == 0 as keys)."""
    if not v and v.__class__ is not complex:
        return (0, _copysign(1.0, v))
    return v


def is_scalar_array(a: Any) -> bool:
    """Whether `a` is one of scalar_array's shared constants (a traced program may keep it: it never changes)."""
    return a.__class__ is np.ndarray and a.ndim == 0 and not a.flags.writeable and \
        _SCALARS.get(a.dtype, {}).get(_number_key(a.item())) is a


class _Op2(Op):
    """Fast path of two-input ops when no dtype conversion is needed (same dtypes, or a float tensor and
    a Python int/float); everything else takes the general path."""

    def __call__(self, *args: Any) -> Any:
        if self.__class__ is _Op2 and not self.view and _hot(self):
            return _specialized(self, args)  # (its own code from now on, _fastcall.py)
        a = args[0]
        if not isinstance(a, Tensor):
            if a.__class__ is _ndarray and not isinstance(args[1], Tensor):
                return self.fwd(*args)  # inside a formula during backward: just the forward
            return Op.__call__(self, *args)
        b = args[1]
        da = a._data
        if isinstance(b, Tensor):
            db = b._data
            if da.dtype is not db.dtype or (self.rule == PROMOTE_FLOAT and da.dtype.kind not in "fcV"):
                return Op.__call__(self, *args)
            req = a._requires_grad or b._requires_grad
        elif (b.__class__ is float or b.__class__ is int) and da.dtype.kind in "fV":
            # a 0-d array of the tensor's dtype is much cheaper for NumPy than a Python scalar
            cache = _SCALARS.get(da.dtype)
            db = cache.get(b) if cache is not None else None
            if db is None or not b:  # (a zero: -0.0 == 0, so the dict cannot tell the two apart)
                db = scalar_array(b, da.dtype)
            req = a._requires_grad
        else:
            return Op.__call__(self, *args)
        try:
            if len(args) == 2:
                out = self.fwd(da, db)
            elif self.plain2 is not None and len(args) == 3 and args[2].__class__ is int and args[2] == 1 and \
                    da.dtype.kind in "fc":
                out = self.plain2(da, db)  # (x - y: its forward is one ufunc when alpha is 1)
            else:
                out = self.fwd(da, db, *args[2:])
        except ValueError:
            _check_broadcast(da.shape, getattr(db, "shape", ()))
            raise
        if out.__class__ is not _ndarray:
            out = np.asarray(out)
        vc = a._vc if self.view else None
        if req and self.has_vjp and _mode.enabled and out.dtype.kind in "fcV":
            return _record2(self, a, b, args, out, vc, da, db)
        return _wrap(out, vc)


class _OpGeneric(Op):
    """The class of an op whose call is not generated (several outputs, a sequence of inputs, more than three)."""


GENERATE_AFTER = 8  # an op's call is generated at its 8th call: an op called a few times never pays ~0.5 ms for it
_GENERATE = True  # False while anomaly mode or saved-tensor hooks instrument node creation (_fastcall.enable)
# each class whose ops get generated calls -> its own __call__ as defined (forward mode and the profiler replace it
# with a wrapper while they run; no op is given a class of its own then, since that class would escape the wrapper)
_CALLS: dict = {cls: cls.__dict__["__call__"] for cls in (Op, _Op1, _Op2)}


def _hot(op: Op) -> bool:
    """Whether `op` (of one of _CALLS's classes exactly) is to get its generated class now: counts its calls."""
    cls = op.__class__
    if not _GENERATE or cls.__dict__["__call__"] is not _CALLS[cls]:
        return False
    n = op._calls = op._calls + 1
    return n >= GENERATE_AFTER


def _specialized(op: Op, args: tuple) -> Any:
    """Give `op` its generated class, then make the call through it."""
    from . import _fastcall
    _fastcall.specialize(op)
    return op.__class__.__call__(op, *args)


def _record2(op: Op, a: Tensor, b: Any, args: tuple, out, vc, da, db) -> Tensor:
    """`_record` for two-input ops on the fast path, inlined for speed. A Python number operand is saved
    as the 0-d array `db` for the raw formulas, with the number itself kept for create_graph."""
    res = _new(Tensor)
    res._data = out
    res._vc = rvc = [0] if vc is None else vc
    res._output_nr = 0
    res._grad = None
    res._requires_grad = True
    vjps = op.vjps
    # _SAME (no reduction or cast needed) only when nothing broadcast: a number operand, or both inputs of the
    # output's shape and dtype (a reducing op like dist can give a 0-d output for a 0-d input and a 1-d other)
    if b.__class__ is float or b.__class__ is int:
        bt = False
        same = True
    else:
        bt = True
        so = out.shape
        same = da.shape == so and db.shape == so and da.dtype is out.dtype  # (the inputs share one dtype here)
    if a._requires_grad and vjps[0] is not None:
        mask = 1
        fn = a.grad_fn
        ea = (fn, a._output_nr) if fn is not None else _edge(a)
        ma = _SAME if same else (da.shape, da.dtype)
    else:
        mask = 0
        ea, ma = _NO_EDGE, None
    if bt and b._requires_grad and vjps[1] is not None:
        mask |= 2
        fn = b.grad_fn
        eb = (fn, b._output_nr) if fn is not None else _edge(b)
        mb = _SAME if same else (db.shape, db.dtype)
    else:
        eb, mb = _NO_EDGE, None
    plan = op._plans.get(mask)
    if plan is None:
        plan = op._plan(mask)
    keep_pos, tensor_pos, save_res, keep = plan
    if keep_pos or save_res:
        nargs = op.nargs
        saved = [None] * (nargs + 1)
        versions = []
        for j in keep_pos:
            if j == 0:
                saved[0] = da
                versions.append((0, a._vc, a._vc[0], a))
            elif j == 1:
                saved[1] = db  # a number operand is kept as its 0-d array; _unpack turns it back for create_graph
                if bt:
                    versions.append((1, b._vc, b._vc[0], b))
            else:
                saved[j] = args[j]
        if save_res:
            saved[nargs] = out
            versions.append((nargs, rvc, rvc[0], None))
    else:
        saved = None
        versions = ()
        keep = False
    node = _new(op.node_cls)  # Node.__init__ inlined: this is the hottest path of the forward pass
    e2 = op.edge2
    node.next_functions = (ea, eb) if e2 == 3 else (ea,) if e2 == 1 else (eb,)
    node._saved = saved
    node._versions = versions
    node._meta = _SAME2 if ma is _SAME and mb is _SAME else (ma, mb)
    node._seq = next(_node_seq)
    if keep:
        node._keep = True
    res.grad_fn = node
    return res


def _check_broadcast(a: tuple, b: tuple) -> None:
    """torch's error for shapes that do not broadcast (NumPy would raise a ValueError)."""
    nd = max(len(a), len(b))
    pa, pb = (1,) * (nd - len(a)) + tuple(a), (1,) * (nd - len(b)) + tuple(b)
    for i in range(nd - 1, -1, -1):
        if pa[i] != pb[i] and pa[i] != 1 and pb[i] != 1:
            raise RuntimeError(f"The size of tensor a ({pa[i]}) must match the size of tensor b ({pb[i]}) at "
                               f"non-singleton dimension {i}") from None  # (called in NumPy's except: not chained)


def _any_tensor(args, n) -> bool:
    for i in range(n):
        if isinstance(args[i], Tensor):
            return True
    return False


def _wrapped_ints(arrs: list, n: int) -> list:
    """The inputs with each Python int that NumPy refused as out of range for the integer arrays' dtype converted
    as torch converts it (D.wrapped_int); re-raises NumPy's OverflowError where no integer array is involved."""
    dt = np.result_type(*[a for a in arrs[:n] if isinstance(a, _ndarray)] or [np.float64])
    if dt.kind not in "iu":
        raise  # (NumPy's, being handled by the caller)
    return [D.wrapped_int(v, dt) if i < n and v.__class__ is int else v for i, v in enumerate(arrs)]


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
        elif a.__class__ is int and target.kind in "iu" and not op.checks_ints:
            arrs[i] = D.wrapped_int(a, target)  # (an out-of-range number operand wraps, as in torch)
    return arrs


def _edge(t: Tensor) -> tuple:
    fn = t.grad_fn
    if fn is not None:
        return (fn, t._output_nr)
    ref = t._accum
    acc = ref() if ref is not None else None
    if acc is None:
        acc = AccumulateGrad(t)
        t._accum = _weakref(acc)
    return (acc, 0)


_NO_EDGE = (None, 0)


def _make_node(op: Op, args: tuple, n: int, result: Any, result_boxes: list) -> Node:
    """The node of a general-path call: edges, input metadata, and exactly what the formulas of the inputs
    that require grad need. (_record1/_record2 are the same, unrolled for the common one- and two-input
    cases on the hot path.)"""
    vjps = op.vjps
    edges = []
    meta = []
    mask = 0
    for i in range(n):
        a = args[i]
        if a.__class__ is Tensor or isinstance(a, Tensor):
            if a._requires_grad and vjps[i] is not None:
                mask |= 1 << i
                fn = a.grad_fn
                edges.append((fn, a._output_nr) if fn is not None else _edge(a))
                d = a._data
                meta.append((d.shape, d.dtype))
                continue
        edges.append(_NO_EDGE)
        meta.append(None)
    plan = op._plans.get(mask)
    if plan is None:
        plan = op._plan(mask)
    keep_pos, tensor_pos, save_res, keep = plan
    edges = tuple(edges) if op.edge_inputs is None else tuple(edges[i] for i in op.edge_inputs)
    if not (keep_pos or save_res):
        return op.node_cls(edges, None, (), tuple(meta))
    nargs = op.nargs
    saved = [None] * (nargs + 1)
    versions = []
    for j in keep_pos:
        saved[j] = args[j]
    for j in tensor_pos:
        a = args[j]
        if isinstance(a, Tensor):
            saved[j] = a._data  # formulas run on arrays; the Tensor waits in `versions` for create_graph
            versions.append((j, a._vc, a._vc[0], a))
    if save_res:
        saved[nargs] = result
        versions.extend((nargs, box, box[0], None) for box in result_boxes)
    node = op.node_cls(edges, saved, versions, tuple(meta))
    if keep:
        node._keep = True
    return node


def _record(op: Op, args: tuple, n: int, out, vc) -> Tensor:
    """Build the node for one output and return the output tensor attached to it."""
    res = _wrap(out, vc)
    res.grad_fn = _make_node(op, args, n, out, [res._vc])
    res._requires_grad = True
    return res


def _wrap_multi(op: Op, args: tuple, outs: tuple, req: bool):
    """Ops with several outputs (max with dim, split, unbind...)."""
    outs = [o if type(o) is _ndarray else np.asarray(o) for o in outs]
    vc = args[0]._vc if op.view else None
    results = [_wrap(o, vc) for o in outs]
    if req and op.has_vjp and _mode.enabled:
        node = _make_node(op, args, op.n_in, tuple(outs), [r._vc for r in results])
        node._ctx = [(o.shape, o.dtype) for o in outs]
        # ops with as many outputs as pieces (split, unbind) declare n_out=2: all their outputs are differentiable
        diff = op.diff_out if len(op.diff_out) == len(results) else (True,) * len(results)
        for k, (r, d) in enumerate(zip(results, diff)):
            if d and r._data.dtype.kind in "fcV":
                r.grad_fn = node
                r._output_nr = k
                r._requires_grad = True
    return tuple(results)


def _variadic_not_tensors(op: Op, args: tuple):
    """cat/stack of a sequence that is not all Tensors: arrays (inside a formula) get the forward; anything else
    torch's TypeError."""
    seq = args[0]
    if not any(isinstance(t, Tensor) for t in seq):
        if not _raw_ok(args, 1):
            _raise_not_tensor(op, args)
        return op.fwd(seq, *args[1:])
    for t in seq:
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {list(seq).index(t)} in argument 0, "
                            f"but got {type(t).__name__}")


def _apply_variadic(op: Op, args: tuple):
    """Ops over a sequence of tensors (cat, stack): each element is an input with its own edge."""
    seq = args[0]
    params = args[1:]
    arrs = []
    req = False
    for t in seq:
        if t.__class__ is not Tensor and not isinstance(t, Tensor):
            return _variadic_not_tensors(op, args)
        arrs.append(t._data)
        if t._requires_grad:
            req = True
    if not arrs:
        return _variadic_not_tensors(op, args)
    if op.rule == PROMOTE:
        d = arrs[0].dtype
        for a in arrs:
            if a.dtype is not d and a.dtype != d:  # (several dtypes: promote them all)
                key = tuple((_FROM_NP[a.dtype], 2 if a.ndim else 1) for a in arrs)
                target = D.result_type_of(key).np
                arrs = [a.astype(target) if a.dtype != target else a for a in arrs]
                break
    out = op.fwd(arrs, *params)
    if out.__class__ is not _ndarray:
        out = np.asarray(out)
    res = _wrap(out)
    if req and _mode.enabled and out.dtype.kind in "fcV":
        edges = []
        meta = []
        for t in seq:
            if t._requires_grad:
                fn = t.grad_fn
                edges.append((fn, t._output_nr) if fn is not None else _edge(t))
                meta.append((t._data.shape, t._data.dtype))
            else:
                edges.append(_NO_EDGE)
                meta.append(None)
        node = op.node_cls(tuple(edges), [None, *params, None], (), tuple(meta))
        node._keep = True
        res.grad_fn = node
        res._requires_grad = True
    return res


# -- the backward side ------------------------------------------------------------------------------
_TYPE_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
               "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
               "complex64": "ComplexFloat", "complex128": "ComplexDouble"}


def version_error(arr: np.ndarray, box: list[int], ver: int, fn_name: str | None, nr: int = 0) -> RuntimeError:
    """torch's error for a saved tensor modified in place (`fn_name`: the node that produced it, if any)."""
    tname = f"torch.{_TYPE_NAMES.get(str(arr.dtype), 'Float')}Tensor"
    which = ""
    if fn_name:
        short = re.sub(r"Backward\d*$", "", fn_name)
        which = f", which is output {nr} of {short},"
    return RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace operation: "
        f"[{tname} [{', '.join(map(str, arr.shape))}]]{which} is at version {box[0]}; expected version "
        f"{ver} instead. Hint: enable anomaly detection to find the operation that failed to compute its "
        "gradient, with torch.autograd.set_detect_anomaly(True, check_nan=False).")


SUM_TO: Callable = None  # type: ignore[assignment]  # set by reduction.py: sum_to(x, shape)
CAST: Callable = None  # type: ignore[assignment]    # set by pointwise.py: cast(x, np dtype)
FW_RESULT: Callable = None  # type: ignore[assignment]  # set by autograd/forward_ad.py


class OpNode(Node):
    """Node of a registered op; the per-op subclass carries `_op` and `_name`."""

    __slots__ = ()
    _fw_res = None  # {output index: tangent} of the saved outputs while a forward-AD level is active

    def _unpack(self, graph: bool) -> list:
        """Saved values for the formulas: arrays, or Tensors (graph-recording) under create_graph."""
        saved = self._saved
        if saved is FREED:
            raise RuntimeError(FREED_MSG)
        nargs = self._op.nargs
        for j, box, ver, t in self._versions:
            if box[0] != ver:
                if t is None:
                    r = saved[j]
                    raise version_error(r[0] if isinstance(r, tuple) else r, box, ver, self._name)
                raise version_error(t._data, box, ver, t.grad_fn._name if t.grad_fn is not None else None,
                                    t._output_nr)
        if not graph:
            return saved
        vals = list(saved)
        tensors = set()
        for j, box, ver, t in self._versions:
            if t is not None:
                vals[j] = t
                tensors.add(j)
        for j in range(self._op.n_in):
            if j not in tensors and vals[j].__class__ is _ndarray:
                vals[j] = vals[j].item()  # a number operand, saved as a 0-d array by the fast path
        r = vals[nargs]
        if r is not None:
            if isinstance(r, tuple):
                vals[nargs] = tuple(_wrap(a, None, self, k) for k, a in enumerate(r))
            else:
                vals[nargs] = _wrap(r, None, self, 0)
            if self._fw_res is not None:
                FW_RESULT(self, vals, nargs)  # forward-over-reverse: the saved output keeps its tangent
        return vals

    def apply_grads(self, grads: list, graph: bool) -> list:
        op = self._op
        saved = self._saved
        if saved is None:
            vals = [None] * (op.nargs + 1) if op.uses_shapes else ()
        elif graph or saved is FREED:
            vals = self._unpack(graph)
        else:
            for j, box, ver, t in self._versions:
                if box[0] != ver:
                    self._unpack(graph)  # raises torch's error
            vals = saved
        g = grads[0] if self._ctx is None else _materialize(grads, self._ctx, graph)
        if op.uses_shapes:
            vals = [*vals, *[None if m is None else m[0] if m else g.shape for m in self._meta]]
        out = []
        vjps = op.vjps
        meta = self._meta
        inputs = op.edge_inputs
        k = 0
        for fn, _ in self.next_functions:
            if fn is None:
                out.append(None)
            else:
                i = k if inputs is None else inputs[k]
                f = vjps[i]
                get = f._get
                if get is not None:
                    r = f(g, *get(vals))
                elif f._idx:
                    r = f(g, vals[f._idx[0]])
                else:
                    r = f(g)
                m = meta[i]
                if m:
                    shape, dt = m
                    a = r._data if graph else r
                    if a.shape != shape:
                        r = SUM_TO(r, shape)
                        a = r._data if graph else r
                    if a.dtype != dt:
                        r = CAST(r, dt)
                out.append(r)
            k += 1
        return out


def _gen_apply(op: Op) -> Callable | None:
    """`OpNode.apply_grads` written out for one op: its formulas called with their saved values by position, the
    sum back to each input's shape and the cast inline, nothing looked up per call. It serves the common pass (arrays,
    no create_graph, one output, values saved and unchanged) and hands every other case to `OpNode.apply_grads`,
    which remains the one definition of what a node computes. None for ops it does not cover (several outputs)."""
    if op.multi or not op.has_vjp:
        return None
    nargs = op.nargs
    edges = op.edge_inputs if op.edge_inputs is not None else tuple(range(op.n_in))
    # (SUM_TO and CAST are read from the module at each call: reduction.py and pointwise.py set them after import)
    env: dict = {"_generic": OpNode.apply_grads, "FREED": FREED, "_reg": sys.modules[__name__]}
    lines = ["def apply_grads(self, grads, graph):",
             "    saved = self._saved",
             "    if graph or saved is FREED or self._ctx is not None:",
             "        return _generic(self, grads, graph)",
             "    for v in self._versions:",
             "        if v[1][0] != v[2]:",
             "            return _generic(self, grads, graph)  # (which raises torch's error)",
             "    g = grads[0]",
             "    nf = self.next_functions",
             "    meta = self._meta"]
    outs = []
    for k, i in enumerate(edges):
        f = op.vjps[i]
        if f is None:
            outs.append("None")
            continue
        env[f"f{i}"] = f
        # saved values by position; an input's shape (position nargs + 1 + input) from its metadata, as OpNode's
        args = "".join(f", saved[{j}]" if j <= nargs else
                       f", (None if meta[{j - nargs - 1}] is None else meta[{j - nargs - 1}][0] if meta[{j - nargs - 1}]"
                       f" else g.shape)" for j in f._idx)
        lines += [f"    if nf[{k}][0] is None:",
                  f"        r{k} = None",
                  "    else:",
                  f"        r{k} = f{i}(g{args})",
                  f"        m = meta[{i}]",
                  "        if m:",
                  f"            if r{k}.shape != m[0]:",
                  f"                r{k} = _reg.SUM_TO(r{k}, m[0])",
                  f"            if r{k}.dtype is not m[1] and r{k}.dtype != m[1]:",
                  f"                r{k} = _reg.CAST(r{k}, m[1])"]
        outs.append(f"r{k}")
    lines.append(f"    return [{', '.join(outs)}]")
    exec(compile("\n".join(lines), f"<{op._node_name}.apply_grads>", "exec"), env)  # noqa: S102 (from the op table)
    fn = env["apply_grads"]
    fn._opnode = True  # type: ignore[attr-defined]  # (it computes what OpNode.apply_grads does: _batched.py)
    return fn


class VariadicNode(OpNode):
    """Node of cat/stack: one formula returns the gradients of every element of the sequence."""

    __slots__ = ()

    def apply_grads(self, grads: list, graph: bool) -> list:
        vals = self._unpack(graph)
        f = self._op.vjps[0]
        return self.pieces(f(grads[0], *[vals[j] for j in f._idx]), graph)

    def pieces(self, rs: Any, graph: bool) -> list:
        """The gradient pieces of the sequence's elements, cast to each element's dtype (None where an
        element does not require grad)."""
        out = []
        for (fn, _), m, r in zip(self.next_functions, self._meta, rs):
            if fn is None:
                out.append(None)
                continue
            if (r._data if graph else r).dtype != m[1]:
                r = CAST(r, m[1])
            out.append(r)
        return out


def _materialize(grads: list, metas: list, graph: bool) -> list:
    """Zeros for the outputs of a multi-output node that received no gradient (the engine's buffer may
    be shorter than the node's outputs)."""
    grads = list(grads) + [None] * (len(metas) - len(grads))
    out = []
    for g, (shape, dt) in zip(grads, metas):
        if g is None and dt.kind in "fcV":
            z = np.zeros(shape, dt)
            g = _wrap(z) if graph else z
        out.append(g)
    return out


def defop(name: str, inputs: Sequence[str] = ("self",), params: Sequence[str] = (),
          **kw: Any) -> Callable[[Callable], Op]:
    """Decorator form: `@defop("exp", dtype=FLOAT) def exp(self): return np.exp(self)`."""
    def deco(fwd: Callable) -> Op:
        return Op(name, fwd, inputs, params, **kw)
    return deco
