"""The batched backward pass behind `autograd.grad(..., is_grads_batched=True)`.

Every gradient carries a leading batch dimension B (one vector-Jacobian product per row), and each node
runs once on the whole batch, so a full Jacobian costs one vectorized backward pass.

- Discovery and dependency counting are the ordinary engine's (`engine._discover`); only the execution loop
  differs, so the ordinary engine's hot loop knows nothing of batching.
- Elementwise ops (pointwise and special families, elementwise activations, broadcast matmul, casts) run
  their ordinary formula: broadcasting aligns shapes on the right, so the leading batch dimension rides
  along. The reduction to the input's shape keeps that dimension (`_bsum_to`).
- Shape-dependent ops have batch-aware formulas (`_RULES`): reshape/view/squeeze/unsqueeze,
  transpose/permute/t, expand and sum_to, sum/mean, mm/addmm/mv/dot/bmm, basic indexing, narrow, advanced indexing
  (when its array indices are adjacent), cat/stack, softmax/log_softmax.
- Ops parametrised by dimensions (dim-wise prod/amax/amin, var/std/norm/logsumexp, cumsum/cumprod,
  gather/scatter/index_select, and the multi-output max/min(dim), sort/topk, median/kthvalue/mode(dim),
  cummax/cummin, var_mean/std_mean, unbind/split) run their own formula on the problem with the batch as
  an extra leading dimension (`_shift_rule`).
- Every other node (full prod/max/min/median, linalg decompositions, convolutions and pooling, in-place
  writes, custom Functions, dim ops on 0-d inputs...) runs once per row and the rows are stacked: correct,
  slower.

Formulas are dual as everywhere else: on arrays in a plain pass, on Tensors under create_graph, so a
batched pass can itself be differentiated (a Hessian is the batched Jacobian of a gradient).
"""
from __future__ import annotations

import gc
import heapq
from typing import Any, Callable, Sequence

import numpy as np

from .._tensor import Tensor
from . import _instrument
from . import engine as _engine
from .anomaly_mode import run_checked
from .engine import _as_tensor, _discover, _node_hooks, _post_hooks, _run_hooks
from .graph import FREED, AccumulateGrad
from .grad_mode import state as _mode

__all__ = ["run_batched_backward"]

_SAFE: set = set()     # ops whose ordinary formulas are batch-safe (elementwise in the incoming gradient)
_RULES: dict = {}      # op -> {input index: batched formula}
_ready = False
_VARIADIC: set = set()
_OpNode_apply: Any = None
_Variadic_apply: Any = None
_CAST: Any = None
_expand_to: Any = None
_MULTI: set = set()    # multi-output ops with a batch rule
_ADV: dict = {}        # advanced-indexing ops: batched only when their array indices are adjacent


def _adjacent(idx: Any) -> bool:
    """Whether the advanced (array) entries of an index are adjacent, so that a leading slice keeps the batch
    dimension first in NumPy's result."""
    idx = idx if isinstance(idx, tuple) else (idx,)
    arr = [isinstance(i, (np.ndarray, list, Tensor)) for i in idx]
    if not any(arr):
        return True
    pos = [k for k, (i, a) in enumerate(zip(idx, arr)) if a or isinstance(i, (int, np.integer))]
    return pos == list(range(pos[0], pos[-1] + 1))


def _names(op: Any) -> tuple:
    return op.inputs + op.params + ("result",) + tuple(n + "_shape" for n in op.inputs)


def _rule(op: Any, **formulas: Callable) -> None:
    """Register batch-aware formulas for `op`, named like defvjp's (grad first, then what they need)."""
    names = _names(op)
    table = {}
    for inp, f in formulas.items():
        code = f.__code__
        args = code.co_varnames[1:code.co_argcount]
        table[op.inputs.index(inp)] = (f, tuple(names.index(a) for a in args))
    _RULES[op] = table


def _init() -> None:
    """Build the tables on first use (the op modules are imported by then)."""
    global _ready, _OpNode_apply, _Variadic_apply, _CAST, _expand_to
    from .._ops import _registry as R, linalg as L, pointwise as P, reduction as Rd, shape as S, special as Sp
    from .._ops._registry import Op
    for mod in (P, Sp):
        for v in vars(mod).values():
            if isinstance(v, Op) and not (v.uses_shapes or v.multi or v.variadic):
                _SAFE.add(v)
    _SAFE.update(o for o in (L.matmul_nd, S.copy_all, S.fill_value, S.fill_number, S.zero_all)
                 if isinstance(o, Op))
    _cj = P._cj
    reshape, transpose, permute, unsqueeze = S.reshape, S.transpose, S.permute, S.unsqueeze
    expand_to, matmul_nd = Rd.expand_to, L.matmul_nd

    def back_reshape(grad, self_shape):
        if grad.__class__ is np.ndarray:
            return grad.reshape((grad.shape[0],) + tuple(self_shape))
        return reshape(grad, (grad.shape[0],) + tuple(self_shape))

    for o in (S.reshape, S.unsafe_view, S.view, S.squeeze_all, S.squeeze_dim, S.squeeze_dims, S.squeeze_dim_,
              S.unsqueeze):
        _rule(o, self=back_reshape)

    def back_transpose(grad, dim0, dim1, self_shape):
        nd = len(self_shape)
        if nd == 0:
            return grad
        return transpose(grad, dim0 % nd + 1, dim1 % nd + 1)

    _rule(S.transpose, self=back_transpose)
    _rule(S.t, self=lambda grad: transpose(grad, 1, 2) if grad.ndim == 3 else grad)

    def back_permute(grad, dims, self_shape):
        nd = len(self_shape)
        inv = np.argsort([d % nd for d in dims]) if nd else ()
        return permute(grad, (0,) + tuple(int(d) + 1 for d in inv))

    _rule(S.permute, self=back_permute)
    _rule(Rd.expand_to, self=lambda grad, self_shape: _bsum_to(grad, tuple(self_shape)))

    def back_sum_to(grad, self_shape):
        b, tail = grad.shape[0], tuple(grad.shape[1:])
        full = (b,) + tuple(self_shape)
        return expand_to(reshape(grad, (b,) + (1,) * (len(self_shape) - len(tail)) + tail), full)

    _rule(Rd.sum_to, self=back_sum_to)

    def back_sum_all(grad, self_shape):
        b = grad.shape[0]
        return expand_to(reshape(grad, (b,) + (1,) * len(self_shape)), (b,) + tuple(self_shape))

    def back_sum_dim(grad, self_shape, dim, keepdim):
        b = grad.shape[0]
        s = list(self_shape)
        for d in Rd._dims(dim, len(s)):
            s[d] = 1
        return expand_to(reshape(grad, (b,) + tuple(s)), (b,) + tuple(self_shape))

    def back_mean_all(grad, self_shape):
        n = int(np.prod(self_shape))
        return back_sum_all(grad / n if n else grad, self_shape)

    def back_mean_dim(grad, self_shape, dim, keepdim):
        n = Rd._count(self_shape, Rd._dims(dim, len(self_shape)))
        return back_sum_dim(grad / max(n, 1), self_shape, dim, keepdim)

    _rule(Rd.sum_all, self=back_sum_all)
    _rule(Rd.sum_dim, self=back_sum_dim)
    _rule(Rd.mean_all, self=back_mean_all)
    _rule(Rd.mean_dim, self=back_mean_dim)
    mm = L.mm

    def back_mm_self(grad, mat2):  # G Bᴴ for every row: one folded matrix product
        b, n, p = grad.shape
        return reshape(mm(_dense(reshape(grad, (b * n, p))), _cj(transpose(mat2, 0, 1))), (b, n, mat2.shape[0]))

    def back_mm_mat2(grad, self):  # Aᴴ G for every row: the batch folded into the columns
        b, n, p = grad.shape
        folded = _dense(reshape(transpose(grad, 0, 1), (n, b * p)))
        return transpose(reshape(mm(_cj(transpose(self, 0, 1)), folded), (self.shape[1], b, p)), 0, 1)

    _rule(mm, self=back_mm_self, mat2=back_mm_mat2)
    # addmm (F.linear's node): beta * self + alpha * mat1 @ mat2, the products as mm's (self's sum to its shape
    # is the plan's reduction, as for any broadcast input)
    _rule(L.addmm, self=lambda grad, beta: grad if beta == 1 else grad * L._cj_number(beta),
          mat1=lambda grad, mat2, alpha: L._scaled(back_mm_self(grad, mat2), alpha),
          mat2=lambda grad, mat1, alpha: L._scaled(back_mm_mat2(grad, mat1), alpha))

    def back_index(grad, self_shape, idx):
        return S.index_basic_backward(grad, (grad.shape[0],) + tuple(self_shape), (slice(None),) + tuple(idx))

    for o in (S.select, S.slice_, S.index_basic, S.unsqueeze_index):
        _rule(o, self=back_index)
    _rule(S.index_basic_backward, grad=lambda grad, idx: S.index_basic(grad, (slice(None),) + tuple(idx)))
    _rule(S.narrow, self=lambda grad, self_shape, dim, start, length: S.pad_slice(
        grad, (grad.shape[0],) + tuple(self_shape), dim % len(self_shape) + 1, start, length))
    _rule(S.pad_slice, grad=lambda grad, dim, start, length: S.narrow(grad, dim % (grad.ndim - 1) + 1, start,
                                                                     length))
    _ADV.update({S.index_adv: lambda grad, self_shape, idx: S.index_put_backward(
        grad, (grad.shape[0],) + tuple(self_shape), (slice(None),) + tuple(idx)),
        S.index_put_backward: lambda grad, idx: S.index_adv(grad, (slice(None),) + tuple(idx))})
    for o, f in _ADV.items():
        _rule(o, **{o.inputs[0]: f})
    _rule(L.bmm, self=lambda grad, mat2: matmul_nd(grad, _cj(transpose(mat2, 1, 2))),
          mat2=lambda grad, self: matmul_nd(_cj(transpose(self, 1, 2)), grad))
    _rule(L.mv, self=lambda grad, vec: unsqueeze(grad, -1) * _cj(vec),
          vec=lambda grad, self: matmul_nd(grad, _cj(self)))
    _rule(L.dot, self=lambda grad, other: unsqueeze(grad, -1) * _cj(other),
          other=lambda grad, self: unsqueeze(grad, -1) * _cj(self))
    _activation_rules(Op)
    from .._ops import scan as Sc
    for mod, name in ((Rd, "prod_dim"), (Rd, "prod_others"), (Rd, "amax"), (Rd, "amin"), (Rd, "gather_dim"),
                      (Rd, "scatter_dim"), (Sc, "var_op"), (Sc, "std_op"), (Sc, "norm_op"), (Sc, "logsumexp_op"),
                      (Sc, "cumsum_op"), (Sc, "cumsum_rev"), (Sc, "cumprod_op"), (Sc, "scatter_add_dim")):
        o = getattr(mod, name, None)
        if isinstance(o, Op) and not (o.multi or o.variadic) and o not in _RULES:
            _shift_rule(o)
    for mod, name in ((Rd, "max_dim"), (Rd, "min_dim"), (Sc, "cummax_op"), (Sc, "cummin_op"), (Sc, "sort_op"),
                      (Sc, "sort_stable_op"), (Sc, "topk_op"), (Sc, "median_dim"), (Sc, "kthvalue_op"),
                      (Sc, "mode_op"), (Sc, "var_mean_op"), (Sc, "std_mean_op"), (S, "unbind"), (S, "split"),
                      (S, "split_with_sizes")):
        o = getattr(mod, name, None)
        if isinstance(o, Op) and o.multi and not o.variadic and o not in _RULES:
            _shift_rule(o)
            _MULTI.add(o)
    from .._ops import linalg_ext as Lx
    o = getattr(Lx, "vector_norm_op", None)
    if isinstance(o, Op) and not o.multi and o not in _RULES:
        _shift_rule(o)
    from .._ops import indexing as Ix
    for name in ("gather_op", "gather_backward", "scatter_src", "scatter_zero", "scatter_value", "scatter_add_op",
                 "index_select_op", "index_select_backward"):
        o = getattr(Ix, name, None)
        if isinstance(o, Op) and not (o.multi or o.variadic) and o not in _RULES:
            _shift_rule(o, keep=("index",) if name.startswith("index_select") else ())
    _VARIADIC.update((S.cat, S.stack))
    _OpNode_apply, _Variadic_apply = R.OpNode.apply_grads, R.VariadicNode.apply_grads
    _CAST, _expand_to = R.CAST, Rd.expand_to
    _ready = True


# elementwise activations (no dim, no reduction): their own formulas are batch-safe
_ACTIVATIONS = ("elu", "celu", "leaky_relu", "hardtanh", "threshold", "gelu", "silu", "mish", "hardsigmoid",
                "hardswish", "log_sigmoid", "hardshrink", "softshrink", "relu6")


class _Fallback(Exception):
    """Raised by a batch rule that cannot handle this node's parameters: run it row by row instead."""


def _shift_dims(d: Any) -> Any:
    if d is None:
        raise _Fallback
    if isinstance(d, (tuple, list)):
        return type(d)(_shift_dims(x) for x in d)
    d = int(d)
    return d + 1 if d >= 0 else d


def _bcast(v: Any, b: int) -> Any:
    if isinstance(v, tuple):  # the outputs of a multi-output op
        return tuple(_bcast(x, b) for x in v)
    if isinstance(v, Tensor):
        return _expand_to(v, (b,) + tuple(v.shape))
    if v.__class__ is np.ndarray:
        return np.broadcast_to(v, (b,) + v.shape)
    return v


def _shift_rule(op: Any, keep: tuple = ()) -> None:
    """Batch rule for ops parametrised by dimensions (dim-wise reductions, scans, gather/scatter): run the op's
    own formula on the problem with the batch as an extra leading dimension. Saved tensors are broadcast
    (free views), shapes get the batch size in front and non-negative dims move up by one; the rows are
    then independent copies of the original problem."""
    names = _names(op)
    table = {}
    for i, f in enumerate(op.vjps):
        if f is None:
            continue
        kinds = tuple(0 if names[j] in keep else
                      1 if names[j] in op.inputs or names[j] == "result" else
                      2 if names[j].endswith("_shape") or names[j] == "shape" else
                      3 if names[j] == "dim" else 0 for j in f._idx)

        def rule(grad: Any, *vals: Any, f: Callable = f, kinds: tuple = kinds) -> Any:
            *vals, in_shape = vals
            if in_shape is not None and len(in_shape) == 0:
                raise _Fallback  # a 0-d input: its dim 0 / -1 has no batched counterpart
            b = (next(g for g in grad if g is not None) if isinstance(grad, list) else grad).shape[0]
            new = [_bcast(v, b) if k == 1 else (b,) + tuple(v) if k == 2 else _shift_dims(v) if k == 3 else v
                   for v, k in zip(vals, kinds)]
            return f(grad, *new)
        # the differentiated input's shape comes last: a 0-d input falls back to the per-row loop
        table[i] = (rule, f._idx + (names.index(op.inputs[i] + "_shape"),))
    _RULES[op] = table


def _activation_rules(Op: type) -> None:
    try:
        from .._ops import activation as Ac
    except ImportError:  # pragma: no cover
        return
    from .._ops.pointwise import exp
    from .._ops.reduction import sum_dim
    for v in vars(Ac).values():
        if isinstance(v, Op) and v.name.rstrip("_") in _ACTIVATIONS and not (v.uses_shapes or v.multi or v.variadic):
            _SAFE.add(v)

    def bdim(dim: int, grad: Any) -> tuple:  # the softmax dimension, past the batch dimension
        return ((dim % (grad.ndim - 1)) + 1,) if grad.ndim > 1 else ()

    sm, lsm = getattr(Ac, "softmax_op", None), getattr(Ac, "log_softmax_op", None)
    if isinstance(sm, Op) and sm.params == ("dim",):
        _rule(sm, self=lambda grad, result, dim: result * (grad - sum_dim(grad * result, bdim(dim, grad), True)))
    if isinstance(lsm, Op) and lsm.params == ("dim",):
        _rule(lsm, self=lambda grad, result, dim: grad - exp(result) * sum_dim(grad, bdim(dim, grad), True))


def _dense(x: Any) -> Any:
    """x with strides BLAS can use (a broadcast gradient has zero strides, which sends NumPy's matmul to
    its slow generic loop)."""
    a = x._data if isinstance(x, Tensor) else x
    if a.flags.c_contiguous or a.flags.f_contiguous:
        return x
    return x.contiguous() if isinstance(x, Tensor) else np.ascontiguousarray(a)


def _bsum_to(r: Any, shape: tuple) -> Any:
    """Sum a batched gradient (B, *s) back to (B, *shape), keeping the batch dimension."""
    from .._ops.reduction import sum_dim
    from .._ops.shape import reshape
    rs = tuple(r.shape[1:])
    if rs == shape:
        return r
    lead = len(rs) - len(shape)
    if lead < 0:  # fewer dimensions than the input: broadcast up first
        from .._ops.reduction import expand_to
        r = expand_to(reshape(r, (r.shape[0],) + (1,) * -lead + rs), (r.shape[0],) + shape)
        return r
    axes = tuple(range(1, lead + 1)) + tuple(i + lead + 1 for i, s in enumerate(shape)
                                              if s == 1 and rs[i + lead] != 1)
    if r.__class__ is np.ndarray:
        return (r.sum(axis=axes, keepdims=True) if axes else r).reshape((r.shape[0],) + shape)
    if axes:
        r = sum_dim(r, axes, True)
    return reshape(r, (r.shape[0],) + shape)


def _plan(cls: type) -> Any:
    """How a node class runs batched: None (per-row loop), "variadic", or (formulas per input as
    (function, saved positions), whether shapes are needed, whether the formulas are elementwise)."""
    op = cls._op
    if op is None:
        return None
    if cls.apply_grads is _Variadic_apply:
        return "variadic" if op in _VARIADIC else None
    if cls.apply_grads is not _OpNode_apply and not getattr(cls.apply_grads, "_opnode", False):  # (or its unrolled form)
        return None
    if op in _SAFE:
        forms = tuple(None if f is None else (f, f._idx) for f in op.vjps)
        return forms, op.uses_shapes, True
    rule = _RULES.get(op)
    if rule is None:
        return None
    forms = tuple(rule.get(i) for i in range(op.n_in))
    return forms, True, False


_PLANS: dict = {}


def _apply_op(node: Any, plan: Any, g: Any, graph: bool, B: int) -> list:
    """OpNode.apply_grads on a batched gradient, with the plan's formulas (the op's own when they are
    elementwise, else its batch rule)."""
    forms, needs_shapes, elementwise = plan
    saved = node._saved
    if saved is None:
        vals: Any = [None] * (node._op.nargs + 1)
    elif graph or saved is FREED:
        vals = node._unpack(graph)
    else:
        for _j, box, ver, _t in node._versions:
            if box[0] != ver:
                node._unpack(graph)  # raises torch's error
        vals = saved
    meta = node._meta
    out_shape = () if g.__class__ is list else tuple(g.shape[1:])
    if needs_shapes:
        vals = [*vals, *[None if m is None else m[0] if m else out_shape for m in meta]]
    out_nd = len(out_shape)
    inputs = node._op.edge_inputs
    res = []
    k = 0
    for fn, _ in node.next_functions:
        if fn is None:
            res.append(None)
            k += 1
            continue
        i = k if inputs is None else inputs[k]
        k += 1
        f, idx = forms[i]
        r = f(g, *[vals[j] for j in idx])
        m = meta[i]
        a = r._data if graph else r
        if a.__class__ is not np.ndarray and not graph:
            r = a = np.asarray(a)
        if elementwise and a.ndim <= out_nd:  # a formula that ignores the gradient (zeros_like(self)...)
            r = _expand_to(r, (B,) + tuple(a.shape))
            a = r._data if graph else r
        if a.shape[1:] != (m[0] if m else out_shape):
            r = _bsum_to(r, tuple(m[0]) if m else out_shape)
            a = r._data if graph else r
        if m and a.dtype != m[1]:
            r = _CAST(r, m[1])
        res.append(r)
    return res


def _materialize_batched(buf: list, ctx: list, graph: bool, B: int) -> list:
    """Batched zeros for the floating outputs of a multi-output node that received no gradient."""
    from .._tensor import _wrap
    grads = list(buf) + [None] * (len(ctx) - len(buf))
    out = []
    for g, (shape, dt) in zip(grads, ctx):
        if g is None and dt.kind in "fcV":
            z = np.zeros((B,) + tuple(shape), dt)
            g = _wrap(z) if graph else z
        out.append(g)
    return out


def _apply_loop(node: Any, buf: list, graph: bool, B: int) -> list:
    """Fallback: run the node once per row of the batch and stack the rows."""
    rows = []
    for b in range(B):
        rows.append(node.apply_grads([None if g is None else g[b, ...] for g in buf], graph))
    out = []
    for j in range(len(node.next_functions)):
        col = [row[j] if j < len(row) else None for row in rows]
        ref = next((c for c in col if c is not None), None)
        if ref is None:
            out.append(None)
            continue
        if graph:
            from .._creation import zeros_like
            from .._ops.shape import stack
            col = [_as_tensor(c) if c is not None else zeros_like(_as_tensor(ref)) for c in col]
            out.append(stack(col, 0))
        else:
            col = [np.asarray(c._data if isinstance(c, Tensor) else c) if c is not None else
                   np.zeros(np.shape(ref), np.asarray(ref).dtype) for c in col]
            out.append(np.stack(col, 0))
    return out


def _apply_variadic(node: Any, g: Any, graph: bool) -> list:
    """cat and stack: their formulas with the dimension shifted past the batch dimension."""
    from .._ops import shape as S
    vals = node._unpack(graph)
    nd = g.ndim - 1
    if node._op is S.cat:
        rs = S._split_sizes(g, vals[1] % nd + 1, vals[2])
    else:
        rs = S.unbind(g, vals[1] % nd + 1)
    return node.pieces(rs, graph)


def _apply(node: Any, buf: list, graph: bool, B: int) -> list:
    cls = type(node)
    plan = _PLANS.get(cls, False)
    if plan is False:
        plan = _PLANS[cls] = _plan(cls)
    if plan is None:
        return _apply_loop(node, buf, graph, B)
    if node._ctx is not None:
        if node._op not in _MULTI:
            return _apply_loop(node, buf, graph, B)
        try:
            return _apply_op(node, plan, _materialize_batched(buf, node._ctx, graph, B), graph, B)
        except _Fallback:
            return _apply_loop(node, buf, graph, B)
    if plan == "variadic":
        return _apply_variadic(node, buf[0], graph)
    if node._op in _ADV and not _adjacent(node._saved_value("idx")):
        return _apply_loop(node, buf, graph, B)
    if plan[2]:
        return _apply_op(node, plan, buf[0], graph, B)
    try:
        return _apply_op(node, plan, buf[0], graph, B)
    except _Fallback:
        return _apply_loop(node, buf, graph, B)


def run_batched_backward(roots: Sequence[Tensor], grads: Sequence[Any], retain_graph: bool, create_graph: bool,
                         inputs: Sequence[Tensor], allow_unused: bool = False) -> list:
    """Batched autograd.grad: each gradient in `grads` has a leading batch dimension; returns the batched
    gradient of every input (None for an unused input when allowed)."""
    if not _ready:
        _init()
    graph = create_graph
    sizes = [(g._data if isinstance(g, Tensor) else g).shape[0] for g in grads]
    if len(set(sizes)) > 1:
        raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped dimension, got sizes "
                         f"{sizes} for the mapped dimension")
    B = sizes[0]
    start, targets, deps, needed = _discover(roots, grads, graph, inputs)
    captured: list = [None] * len(inputs)
    buffers: dict = dict(start)
    heap = [(-fn._seq, fn) for fn in start if deps.get(fn, 0) == 0 and fn in needed]
    heapq.heapify(heap)
    pop, push = heapq.heappop, heapq.heappush
    prev_mode = _mode.enabled
    _mode.enabled = graph
    anomaly = _instrument.state.anomaly
    prev_capturing = getattr(_engine, "_capturing", False)
    _engine._capturing = True  # as in the engine's autograd.grad: reentrant checkpoints refuse to run inside
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        while heap:
            node = pop(heap)[1]
            buf = buffers.pop(node, None) or [None]
            if node._hooked:
                _node_hooks(node, buf, graph)
            if node.__class__ is AccumulateGrad:
                g = buf[0]
                if g is None:
                    continue
                var = node.variable
                if var._hooks:
                    g = _run_hooks(var._hooks, g, graph)
                for _nr, k in targets.get(node, ()):
                    captured[k] = g
                continue
            if node in targets:
                for nr, k in targets[node]:
                    captured[k] = buf[nr] if nr < len(buf) else None
                if not any(c in needed for c, _ in node.next_functions if c is not None):
                    continue
            if all(g is None for g in buf):
                out = [None] * len(node.next_functions)
            else:
                out = _apply(node, buf, graph, B) if not anomaly else \
                    run_checked(node, buf, graph, lambda n, b, gr: _apply(n, b, gr, B))
            if node._post_hooks is not None:
                out = _post_hooks(node, out, buf, graph)
            del buf
            if not retain_graph and node._saved is not None and not node._keep:
                node._saved = FREED
                node._versions = ()
            for (child, nr), g in zip(node.next_functions, out):
                if child is None or child not in needed:
                    continue
                if g is not None:
                    cb = buffers.get(child)
                    if cb is None:
                        buffers[child] = [g] if nr == 0 else [None] * nr + [g]
                    else:
                        while len(cb) <= nr:
                            cb.append(None)
                        cb[nr] = g if cb[nr] is None else cb[nr] + g
                d = deps[child] - 1
                deps[child] = d
                if d == 0:
                    push(heap, (-child._seq, child))
    finally:
        _mode.enabled = prev_mode
        _engine._capturing = prev_capturing
        if gc_was_enabled:
            gc.enable()

    result = []
    for k, g in enumerate(captured):
        if g is None:
            if not allow_unused:
                raise RuntimeError(f"The differentiated Tensor at index {k} appears to not have been used in "
                                   "the graph. Set allow_unused=True if this is the desired behavior.")
            result.append(None)
        else:
            result.append(_as_tensor(g))
    return result
