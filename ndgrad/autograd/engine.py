"""The backward engine: iterative, dependency-counted, deterministic.

1. Walk the graph from the roots without recursion, recording each node's children.
2. Mark the nodes that lead to a target (a leaf's AccumulateGrad for `backward`, the requested
   inputs for `grad`); count, for each marked node, how many marked consumers feed it.
3. Run ready nodes in reverse creation order (a heap on the sequence number, as torch does):
   tensor hooks and retain_grad first, then the node's formulas; each gradient is popped from its
   buffer as soon as it is consumed, and saved values are released unless `retain_graph`.

Gradients travel as plain NumPy arrays unless `create_graph=True`, when they are Tensors and the
formulas run with grad mode on, so the backward pass itself is recorded.
"""
from __future__ import annotations

import heapq
import warnings
from typing import Any, Sequence

import numpy as np

from .._tensor import Tensor, _wrap
from .graph import AccumulateGrad, Node
from .grad_mode import state as _mode

__all__ = ["run_backward"]


def _as_tensor(g: Any) -> Tensor:
    return g if isinstance(g, Tensor) else _wrap(g)


def _run_hooks(hooks: dict, g: Any, graph: bool) -> Any:
    """Tensor hooks see and may replace the gradient (always as a Tensor)."""
    t = _as_tensor(g)
    for fn in list(hooks.values()):
        r = fn(t)
        if r is not None:
            t = r
    return t if graph else t._data


def _accumulate_into(t: Tensor, g: Any, graph: bool) -> None:
    """Add a gradient into `t.grad` (a leaf, or a non-leaf that retains its grad)."""
    old = t._grad
    if graph:
        from .._ops.pointwise import copy_grad
        gt = _as_tensor(g)
        t._grad = copy_grad(gt) if old is None else old + gt
        return
    arr = g._data if isinstance(g, Tensor) else g
    if old is None:
        if type(arr) is not np.ndarray or arr.dtype != t._data.dtype or arr.shape != t._data.shape:
            arr = np.broadcast_to(np.asarray(arr, dtype=t._data.dtype), t._data.shape)
        t._grad = _wrap(np.array(arr, copy=True))  # never alias a gradient another leaf also holds
    elif old.grad_fn is not None:
        t._grad = _wrap(old._data + arr)
    else:
        np.add(old._data, arr, out=old._data, casting="unsafe")


def run_backward(roots: Sequence[Tensor], grads: Sequence[Any], retain_graph: bool, create_graph: bool,
                 inputs: Sequence[Tensor] | None = None, capture: bool = False,
                 allow_unused: bool = False) -> list | None:
    """Backpropagate `grads` from `roots`. With `capture`, return gradients for `inputs` instead of
    accumulating them (autograd.grad); otherwise accumulate into leaves (or only into `inputs`)."""
    graph = create_graph
    # -- root edges and their gradients
    from .._ops._registry import _edge
    start: dict = {}
    for t, g in zip(roots, grads):
        fn, nr = _edge(t)
        buf = start.setdefault(fn, [])
        while len(buf) <= nr:
            buf.append(None)
        g = g if graph else (g._data if isinstance(g, Tensor) else g)
        buf[nr] = g if buf[nr] is None else buf[nr] + g

    # -- targets: node -> [(output_nr, position in inputs)]
    targets: dict = {}
    if inputs is not None:
        for k, t in enumerate(inputs):
            if t.grad_fn is None and not t._requires_grad:
                if capture:
                    raise RuntimeError("One of the differentiated Tensors does not require grad")
                raise RuntimeError("One of the differentiated Tensors does not require grad")
            fn, nr = _edge(t)
            targets.setdefault(fn, []).append((nr, k))

    # -- discovery: children of every reachable node, in post-order (children before parents)
    children: dict = {}
    order: list = []
    stack = [(fn, 0) for fn in start]
    for fn in start:
        children[fn] = [e[0] for e in fn.next_functions if e[0] is not None]
    seen = set(id(fn) for fn in start)
    while stack:
        node, i = stack[-1]
        kids = children[node]
        if i < len(kids):
            stack[-1] = (node, i + 1)
            c = kids[i]
            if id(c) not in seen:
                seen.add(id(c))
                children[c] = [e[0] for e in c.next_functions if e[0] is not None]
                stack.append((c, 0))
        else:
            stack.pop()
            order.append(node)

    # -- which nodes must run, and how many consumers each waits for
    run: dict = {}
    for node in order:
        if inputs is None:
            need = type(node) is AccumulateGrad or any(run.get(c, False) for c in children[node])
        else:
            need = node in targets or any(run.get(c, False) for c in children[node])
        run[node] = need
    deps: dict = {}
    for node in order:
        if run[node]:
            for c in children[node]:
                if run[c]:
                    deps[c] = deps.get(c, 0) + 1

    captured: list = [None] * (len(inputs) if inputs is not None else 0)
    buffers: dict = {fn: buf for fn, buf in start.items()}
    heap = [(-fn._seq, fn._seq, fn) for fn in start if run.get(fn) and deps.get(fn, 0) == 0]
    heapq.heapify(heap)
    prev_mode = _mode.enabled
    _mode.enabled = graph
    try:
        while heap:
            node = heapq.heappop(heap)[2]
            buf = buffers.pop(node, None) or [None]
            # tensor hooks and retained grads of this node's outputs
            if node._pre_hooks:
                for nr, hooks in node._pre_hooks.items():
                    if nr < len(buf) and buf[nr] is not None and hooks:
                        buf[nr] = _run_hooks(hooks, buf[nr], graph)
            if node._retain:
                for nr, ref in node._retain.items():
                    t = ref()
                    if t is not None and nr < len(buf) and buf[nr] is not None:
                        _accumulate_into(t, buf[nr], graph)
            if type(node) is AccumulateGrad:
                var = node.variable
                g = buf[0]
                if var._hooks:
                    g = _run_hooks(var._hooks, g, graph)
                if node in targets and inputs is not None:
                    for nr, k in targets[node]:
                        if capture:
                            captured[k] = g
                        else:
                            _accumulate_into(var, g, graph)
                elif not capture:
                    _accumulate_into(var, g, graph)
                continue
            if node in targets:
                for nr, k in targets[node]:
                    g = buf[nr] if nr < len(buf) else None
                    if capture:
                        captured[k] = g
                    else:
                        tensor = inputs[k]  # type: ignore[index]
                        if g is not None:
                            _accumulate_into(tensor, g, graph)
                if not any(run.get(c, False) for c in children[node]):
                    continue
            out = node.apply_grads(buf, graph)
            del buf
            if node._post_hooks:
                for hook in list(node._post_hooks.values()):
                    hook(out, None)
            if not retain_graph:
                node._release()
            for (child, nr), g in zip(node.next_functions, out):
                if child is None or not run.get(child, False):
                    continue
                if g is not None:
                    cb = buffers.get(child)
                    if cb is None:
                        cb = buffers[child] = []
                    while len(cb) <= nr:
                        cb.append(None)
                    cb[nr] = g if cb[nr] is None else cb[nr] + g
                d = deps[child] - 1
                deps[child] = d
                if d == 0:
                    heapq.heappush(heap, (-child._seq, child._seq, child))
    finally:
        _mode.enabled = prev_mode

    if not capture:
        return None
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
