"""The backward engine: iterative, dependency-counted, deterministic.

1. Walk the graph from the roots without recursion, counting for each node how many consumers
   feed it. `backward()` runs every reachable node, as torch does; with `inputs` (and in `grad`)
   only the nodes from which an input can be reached run.
2. Run ready nodes in reverse creation order (a heap on the sequence number, as torch does):
   tensor hooks and retain_grad first, then the node's formulas; each gradient is popped from its
   buffer as soon as it is consumed, and saved values are released unless `retain_graph`.

Gradients travel as plain NumPy arrays unless `create_graph=True`, when they are Tensors and the
formulas run with grad mode on, so the backward pass itself is recorded.
"""
from __future__ import annotations

import gc
import heapq
import operator
import os
import sys
from typing import Any, Sequence

import numpy as np

from .._tensor import Tensor, _wrap
from .graph import FREED, AccumulateGrad, Node, _seq
from . import _instrument
from .anomaly_mode import run_checked
from .grad_mode import state as _mode

__all__ = ["run_backward"]

_capturing = False  # a run of autograd.grad or backward(inputs=...) is in progress


def _as_tensor(g: Any) -> Tensor:
    if isinstance(g, Tensor):
        return g
    # raw formulas may leave a NumPy scalar (a 0-d result): a Tensor always holds an ndarray
    return _wrap(g if g.__class__ is np.ndarray else np.asarray(g))


def _run_hooks(hooks: dict, g: Any, graph: bool) -> Any:
    """Tensor hooks see and may replace the gradient (always as a Tensor)."""
    t = _as_tensor(g)
    for fn in list(hooks.values()):
        r = fn(t)
        if r is not None:
            _check_hook_result(fn, t, r)
            t = r
    return t if graph else t._data


def _check_hook_result(fn: Any, old: Tensor, new: Any) -> None:
    """torch refuses a hook result that is not a Tensor or changes the gradient's size or dtype."""
    if not isinstance(new, Tensor):
        raise TypeError(f"expected Variable, but hook returned '{type(new).__name__}'")
    name = getattr(fn, "__name__", type(fn).__name__)
    if new._data.shape != old._data.shape:
        raise RuntimeError(f"hook '{name}' has changed the size of value")
    if new._data.dtype != old._data.dtype:
        from .._tensor import _PRETTY
        a, b = old._data.dtype, new._data.dtype
        raise RuntimeError(f"hook '{name}' has changed the type of value (was torch.{_PRETTY[a.kind, a.itemsize]}Tensor "
                           f"got torch.{_PRETTY[b.kind, b.itemsize]}Tensor)")


# -- deep graphs and the cyclic garbage collector -------------------------------------------------------------
# Graph nodes and tensors are Python objects that CPython's cyclic collector tracks. A graph is acyclic and is
# freed by reference counting, but while it grows every full collection walks all of it again (one whenever the
# old generation has grown by a quarter), so building a 10^5-op graph costs several times per op what a
# 10^3-op one does. Once the graph built since the last backward pass passes FREEZE_AFTER nodes, the objects that
# survived a collection are moved to the collector's permanent generation (gc.freeze, which only splices lists)
# after every collection, young ones included, so that later collections only walk what is new and the middle
# generation stays empty (with its wider threshold, below, a middle collection of 70,000 survivors walked more
# memory than the cache holds); the backward pass, which frees the graph, gives
# them back (gc.unfreeze). Cyclic garbage made before a freeze waits until then; a graph that is never
# backpropagated is given back at every doubling of its size (so such garbage cannot pile up), and nothing is
# frozen when the program froze objects itself.
#
# Small graphs have the opposite problem: a training step's graph lives from its forward to its backward, long
# enough to survive the young generation's collections, so with CPython's default thresholds (700, 10, 10) each
# step's thousands of nodes and tensors were promoted to the old generation, where they counted toward the next
# full collection (one each time the promoted objects pass a quarter of the old generation) although reference
# counting freed them a moment later. A full collection walks every object of the process: ~5 ms with NumPy and
# ndgrad loaded, ~90 ms in a process that has also imported torch, so in repeated 2000-op chains they took 35% of
# the time. After the first backward pass the middle generation's threshold goes from 10 to GEN1_THRESHOLD young
# collections, and the young generation's from 700 allocations to GEN0_THRESHOLD (together about 100,000
# allocations): a graph built and freed in that window is never promoted. The young threshold matters by itself:
# each op makes about six tracked objects (tensor, node, edge tuples, saved lists), all alive until the backward
# pass, so with 700 a young collection ran every ~115 ops and walked the graph's newest objects again (0.4 us an
# op of a 2000-op chain's 3.5 us forward); with GEN0_THRESHOLD such a graph is built and freed between two. Only while
# the thresholds are the interpreter's defaults (a program's own settings are left alone; NDGRAD_GC_TUNE=0 in the
# environment leaves them too), and only on CPython's generational collectors (3.10-3.13; 3.14's incremental
# collector reads the thresholds differently).
FREEZE_AFTER = 4096
GEN0_THRESHOLD = 20000
GEN1_THRESHOLD = 5
_gc_state = {"base": 0, "frozen": False, "release_at": 1 << 20, "wait_full": False, "tuned": False}


def _tune_gc() -> None:
    _gc_state["tuned"] = True
    if sys.implementation.name == "cpython" and sys.version_info < (3, 14) and gc.get_threshold() == (700, 10, 10) \
            and os.environ.get("NDGRAD_GC_TUNE", "1") != "0":
        gc.set_threshold(GEN0_THRESHOLD, GEN1_THRESHOLD, 10)


def _node_count() -> int:
    return next(_seq)  # the sequence only needs to increase: taking a number is the cheapest way to read it


def _gc_callback(phase: str, info: dict) -> None:
    if phase != "stop":
        return
    st = _gc_state
    if st["wait_full"]:
        if info["generation"] < 2:
            return
        st["wait_full"] = False  # a full collection has seen what was given back
    grown = _node_count() - st["base"]
    if grown < FREEZE_AFTER:
        return
    if st["frozen"]:
        if grown >= st["release_at"]:  # a graph that keeps growing without a backward pass
            gc.unfreeze()
            st["frozen"] = False
            st["release_at"] *= 2
            st["wait_full"] = True  # (no freezing again before a full collection has looked for garbage)
            return
    elif gc.get_freeze_count():
        return  # the program's own frozen objects: leave the permanent generation alone
    gc.freeze()
    st["frozen"] = True


def _release_frozen() -> None:
    st = _gc_state
    st["base"] = _node_count()
    st["release_at"] = 1 << 20
    st["wait_full"] = False
    if st["frozen"]:
        st["frozen"] = False
        gc.unfreeze()


gc.callbacks.append(_gc_callback)

_getrefcount = sys.getrefcount
_OWN: tuple | None = None     # reference counts of an engine-only gradient (and of its base), measured once
_CALIBRATION: list | None = None


def _calibrate() -> None:
    """Measure, with tiny real backward passes, the reference counts that a gradient array held only by the
    engine has when it reaches `.grad`, plain and as a full view of a fresh base, on each path: inline (a leaf
    fed by one node, see run_backward) and through the ready queue (a leaf fed by several nodes, or one with a
    post-accumulate-grad hook, as DDP registers). Measuring instead of assuming keeps `_exclusive` right on any
    CPython version."""
    global _OWN, _CALIBRATION
    from .._creation import zeros
    from .grad_mode import enable_grad
    _CALIBRATION = []
    try:
        with enable_grad():  # it may run inside a backward pass, where grad mode is off
            _calibration_passes(zeros)
        got = {(path, view): (n, nb) for path, view, n, nb in _CALIBRATION}
        inline, inline_view = got[(INLINE, False)], got[(INLINE, True)]
        queued, queued_view = got[(QUEUED, False)], got[(QUEUED, True)]
        _OWN = (None, (queued[0], queued_view[0], queued_view[1]), (inline[0], inline_view[0], inline_view[1]))
    finally:
        _CALIBRATION = None


def _calibration_passes(zeros: Any) -> None:
    for view in (False, True):
        x = zeros((2, 2), requires_grad=True)
        y = x.t().t() if view else x
        (y * 2.0).sum().backward()  # one producer: the inline path
    x = zeros((2, 2), requires_grad=True)
    (x * 2.0 + x * 3.0).sum().backward()  # two producers: through the queue, a fresh sum
    x = zeros((2, 2), requires_grad=True)
    x.register_post_accumulate_grad_hook(_no_hook)   # a hooked leaf goes through the queue: a view of a fresh array
    (x.t().t() * 2.0).sum().backward()


def _no_hook(t: Any) -> None:
    return None


NOT_FRESH, QUEUED, INLINE = 0, 1, 2  # how a gradient reaches _accumulate_into (`fresh`)


def _exclusive(arr: np.ndarray, path: int, n: int) -> bool:
    """Whether a gradient array reaching `.grad` along `path` (QUEUED or INLINE) is referenced only by the
    engine (CPython reference counts, calibrated by `_calibrate`): then `.grad` takes it over instead of copying
    it, as torch steals such gradients. `n` is its reference count as `_first_grad` reads it. A view qualifies
    only when it covers all of its base and nothing else refers to that base."""
    flags = arr.flags
    if not (flags.c_contiguous and flags.writeable):
        return False
    base = arr.base
    nb = 0 if base is None else _getrefcount(base)
    if _OWN is None:
        if _CALIBRATION is not None:
            _CALIBRATION.append((path, base is not None, n, nb))
            return False
        _calibrate()
    own = _OWN[path]  # type: ignore[index]
    if base is None:
        return n <= own[0]
    return (own[1] is not None and n <= own[1] and type(base) is np.ndarray and base.base is None
            and base.size == arr.size and nb <= own[2])


def _accumulate_into(t: Tensor, g: Any, graph: bool, fresh: int = NOT_FRESH) -> None:
    """Add a gradient into `t.grad` (a leaf, or a non-leaf that retains its grad). `fresh`: the path by which a
    gradient no hook has seen arrives (QUEUED or INLINE), else NOT_FRESH."""
    old = t._grad
    if graph:
        from .._ops.pointwise import copy_grad
        gt = _as_tensor(g)
        t._grad = copy_grad(gt) if old is None else old + gt
        return
    arr = g._data if isinstance(g, Tensor) else g
    if old is None:
        _first_grad(t, arr, fresh)
    else:
        # in place, as torch does with grad mode off (even a grad that has a grad_fn keeps it)
        np.add(old._data, arr, out=old._data, casting="unsafe")
        old._vc[0] += 1


def _first_grad(t: Tensor, arr: Any, fresh: int) -> None:
    """`.grad` of a tensor that has none (graph mode off), from a gradient reaching it along path `fresh`: never
    alias a gradient anything else holds. The array itself when the engine's own references are the only ones
    (torch steals such gradients too, see _exclusive), else a copy of the tensor's dtype and shape."""
    d = t._data
    if arr.__class__ is np.ndarray and (arr.dtype is d.dtype or arr.dtype == d.dtype) and arr.shape == d.shape:
        if fresh:
            n = _getrefcount(arr)
            own = _OWN
            if own is not None and arr.base is None:  # (the common case, without a call)
                flags = arr.flags
                if n <= own[fresh][0] and flags.c_contiguous and flags.writeable:
                    t._grad = _wrap(arr)
                    return
            elif _exclusive(arr, fresh, n):
                t._grad = _wrap(arr)
                return
        t._grad = _wrap(np.array(arr, copy=True))
    else:  # a number, another dtype or a broadcastable shape
        t._grad = _wrap(np.array(np.broadcast_to(np.asarray(arr, dtype=d.dtype), d.shape), copy=True))


def _node_hooks(node: Node, buf: list, graph: bool) -> None:
    """Tensor hooks on the node's outputs, then retain_grad (which sees the hooked gradient); saved tensors
    packed by saved_tensors_hooks are unpacked here, just before the node runs."""
    if node._packed:
        from ._instrument import unpack_saved
        unpack_saved(node, graph)
    if node._pre_hooks:
        for nr, hooks in node._pre_hooks.items():
            if nr < len(buf) and buf[nr] is not None and hooks:
                buf[nr] = _run_hooks(hooks, buf[nr], graph)
    if node._retain:
        for nr, ref in node._retain.items():
            t = ref()
            if t is not None and nr < len(buf) and buf[nr] is not None:
                _accumulate_into(t, buf[nr], graph)
    if node._node_pre_hooks:
        for hook in list(node._node_pre_hooks.values()):
            r = hook(_tensors(buf))
            if r is not None:
                buf[:] = [g if g is None or graph else _as_tensor(g)._data for g in r]


def _tensors(grads: Any) -> tuple:
    return tuple(None if g is None else _as_tensor(g) for g in grads)


def _post_hooks(node: Node, out: list, buf: list, graph: bool) -> list:
    """Node hooks: hook(grad_inputs, grad_outputs) may return replacement grad_inputs."""
    for hook in list(node._post_hooks.values()):
        r = hook(_tensors(out), _tensors(buf))
        if r is not None:
            out = [g if g is None or graph else _as_tensor(g)._data for g in r]
    return out


_by_seq = operator.attrgetter("_seq")


def _prune(nodes: set, targets: dict, deps: dict) -> set:
    """Nodes from which a target can be reached; dependency counts restricted to them. One sweep in creation
    order: a node's inputs were made before it (lower `_seq`), so whether they reach a target is known when it
    comes; a leaf's AccumulateGrad (its `_seq` raised to run first) has no inputs. When every node reaches one,
    the counts stand as they are."""
    reach: dict = {}
    for node in sorted(nodes, key=_by_seq):
        r = node in targets
        for child, _ in node.next_functions:
            if child is not None:
                c = reach.get(child)
                if c is None:
                    if child.next_functions:  # (an input made later than its user: the general walk below)
                        return _prune_walk(nodes, targets, deps)
                    c = child in targets
                if c:
                    r = True
        reach[node] = r
    needed = {n for n, r in reach.items() if r}
    if len(needed) != len(nodes):
        _recount(needed, deps)
    return needed


def _recount(needed: set, deps: dict) -> None:
    deps.clear()
    for node in needed:
        for child, _ in node.next_functions:
            if child is not None and child in needed:
                deps[child] = deps.get(child, 0) + 1


def _prune_walk(nodes: set, targets: dict, deps: dict) -> set:
    """_prune by a walk up from the targets (for graphs whose nodes are not in creation order)."""
    parents: dict = {}
    for node in nodes:
        for child, _ in node.next_functions:
            if child is not None:
                parents.setdefault(child, []).append(node)
    needed = set()
    stack = [t for t in targets if t in nodes]
    needed.update(stack)
    while stack:
        n = stack.pop()
        for p in parents.get(n, ()):
            if p not in needed:
                needed.add(p)
                stack.append(p)
    _recount(needed, deps)
    return needed


_edge: Any = None  # _ops._registry._edge, bound on first use (the registry imports this module)


def _discover(roots: Sequence[Tensor], grads: Sequence[Any], graph: bool,
              inputs: Sequence[Tensor] | None) -> tuple:
    """Root buffers, targets (node -> [(output_nr, input position)]), dependency counts and the needed set
    (None: every reachable node). Shared by run_backward and the batched engine (_batched.py)."""
    # -- root edges and their gradients
    global _edge
    if _edge is None:
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
                raise RuntimeError("One of the differentiated Tensors does not require grad")
            fn, nr = _edge(t)
            targets.setdefault(fn, []).append((nr, k))

    # -- discovery and dependency counts in one iterative pass; a node is in `deps` once seen (the roots with 0)
    deps: dict = dict.fromkeys(start, 0)
    stack = list(start)
    while stack:
        node = stack.pop()
        for child, _ in node.next_functions:
            if child is not None:
                d = deps.get(child)
                if d is None:
                    deps[child] = 1
                    if child.next_functions:  # (a leaf's AccumulateGrad has none)
                        stack.append(child)
                else:
                    deps[child] = d + 1
    needed = None if inputs is None else _prune(set(deps), targets, deps)
    return start, targets, deps, needed


def _pass_begin(graph: bool, capturing: bool) -> tuple:
    """Enter a backward pass: grad mode as `graph`, the capturing flag, the cyclic collector paused (a pass
    allocates many short-lived containers and makes no reference cycles). Returns what `_pass_end` restores."""
    global _capturing
    state = (_mode.enabled, _capturing, gc.isenabled())
    _capturing = capturing
    _mode.enabled = graph
    gc.disable()
    return state


def _pass_end(state: tuple) -> None:
    global _capturing
    _mode.enabled, _capturing, gc_was_enabled = state
    if gc_was_enabled:
        gc.enable()
    _release_frozen()
    if not _gc_state["tuned"]:
        _tune_gc()


def _one_node(root: Tensor, g: Any, retain_graph: bool, graph: bool) -> bool:
    """backward() of a graph of one node whose inputs are leaves without hooks, each at most once (the graph a
    compiled function records: its node and the parameters): run the node and accumulate into the leaves as the
    inline path of run_backward would, without discovery, dependency counts or the ready queue. False, having
    done nothing, for any other graph."""
    node = root.grad_fn
    if node is None or node._hooked or node._post_hooks is not None or node.__class__ is AccumulateGrad:
        return False
    nf = node.next_functions
    k = 0
    for child, _ in nf:
        if child is not None:
            if child.__class__ is not AccumulateGrad or child._hooked:
                return False
            var = child.variable
            if var._hooks or var._post_acc_hooks:
                return False
            k += 1
    if k > 1 and not node._distinct_leaves and len({id(c) for c, _ in nf if c is not None}) != k:
        return False  # a leaf reached twice: gradients add up first
    nr = root._output_nr
    buf = [g] if nr == 0 else [None] * nr + [g]
    state = _pass_begin(graph, False)
    try:
        out = node.apply_grads(buf, graph)
        if node._post_hooks is not None:   # (added by a formula that ran)
            out = _post_hooks(node, out, buf, graph)
        del buf
        if not retain_graph and node._saved is not None and not node._keep:
            node._saved = FREED
            node._versions = ()
        fresh = node._fresh_grads
        i = -1
        for (child, nr), g in zip(nf, out):
            i += 1
            if child is None or g is None:
                continue
            var = child.variable
            out[i] = None   # (as in run_backward's inline path: the same references, see _exclusive)
            if graph or var._grad is not None or g.__class__ is not np.ndarray:
                _accumulate_into(var, g, graph, NOT_FRESH)
            elif fresh is not None and fresh[i]:
                var._grad = _wrap(g)   # (the node vouches that nothing else holds it, in the leaf's shape and dtype)
            else:
                _first_grad(var, g, INLINE)
            g = None
        out = g = None
    finally:
        _pass_end(state)
    return True


def run_backward(roots: Sequence[Tensor], grads: Sequence[Any], retain_graph: bool, create_graph: bool,
                 inputs: Sequence[Tensor] | None = None, capture: bool = False,
                 allow_unused: bool = False) -> list | None:
    """Backpropagate `grads` from `roots`. With `capture`, return gradients for `inputs` instead of
    accumulating them (autograd.grad); otherwise accumulate into leaves (or only into `inputs`)."""
    graph = create_graph
    if inputs is None and not capture and len(roots) == 1 and not _instrument.state.anomaly:
        g = grads[0]
        if g is not None and _one_node(roots[0], g if graph else (g._data if isinstance(g, Tensor) else g),
                                       retain_graph, graph):
            return None
    start, targets, deps, needed = _discover(roots, grads, graph, inputs)

    captured: list = [None] * (len(inputs) if inputs is not None else 0)
    buffers: dict = dict(start)
    heap = [(-fn._seq, fn) for fn in start if deps.get(fn, 0) == 0 and (needed is None or fn in needed)]
    heapq.heapify(heap)
    pop, push = heapq.heappop, heapq.heappush
    anomaly = _instrument.state.anomaly
    inline = not capture and inputs is None  # leaves fed by one node skip the ready queue
    # (capturing: reentrant checkpoints refuse to run inside such a pass)
    state = _pass_begin(graph, capture or inputs is not None)
    nxt = None  # the one node made ready by the last node while the queue was empty: it is next, without the heap
    try:
        while True:
            if nxt is not None:
                node, nxt = nxt, None
            elif heap:
                node = pop(heap)[1]
            else:
                break
            buf = buffers.pop(node, None) or [None]
            if node._hooked:
                _node_hooks(node, buf, graph)
            if node.__class__ is AccumulateGrad:
                var = node.variable
                g = buf[0]
                if g is None:
                    continue
                if var._hooks:
                    g = _run_hooks(var._hooks, g, graph)
                if node in targets:
                    for nr, k in targets[node]:
                        if capture:
                            captured[k] = g
                        else:
                            _accumulate_into(var, g, graph)
                elif not capture:
                    # no hook gave this gradient: it may be taken over rather than copied (see _exclusive)
                    _accumulate_into(var, g, graph, NOT_FRESH if node._hooked or var._hooks else QUEUED)
                if var._post_acc_hooks and not capture:
                    for h in tuple(var._post_acc_hooks.values()):
                        h(var)
                continue
            if targets and node in targets:
                for nr, k in targets[node]:
                    g = buf[nr] if nr < len(buf) else None
                    if capture:
                        captured[k] = g
                    elif g is not None:
                        _accumulate_into(inputs[k], g, graph)  # type: ignore[index]
                if not any(c in needed for c, _ in node.next_functions if c is not None):  # type: ignore
                    continue
            if node._ctx is None and (buf[0] is None if len(buf) == 1 else all(g is None for g in buf)):
                out = [None] * len(node.next_functions)  # undefined gradients pass on undefined, as in torch
            else:
                out = node.apply_grads(buf, graph) if not anomaly else run_checked(node, buf, graph)
            if node._post_hooks is not None:
                out = _post_hooks(node, out, buf, graph)
            del buf
            if not retain_graph and node._saved is not None and not node._keep:
                node._saved = FREED
                node._versions = ()  # it holds the saved Tensors too
            i = -1
            for (child, nr), g in zip(node.next_functions, out):
                i += 1
                if child is None or (needed is not None and child not in needed):
                    continue
                d = deps[child]
                if d == 1 and child.__class__ is AccumulateGrad and inline and not child._hooked:
                    var = child.variable
                    if not var._hooks and not var._post_acc_hooks and child not in buffers:
                        # the last gradient of a leaf with no hook, and no earlier one waits: accumulate it now,
                        # which is when the ready queue would run the leaf (AccumulateGrad goes first), without
                        # the queue
                        if g is not None:
                            out[i] = None  # (then zip's tuple and `g` are the engine's references: see _exclusive)
                            if graph or var._grad is not None or g.__class__ is not np.ndarray:
                                _accumulate_into(var, g, graph, NOT_FRESH)
                            else:
                                _first_grad(var, g, INLINE)
                            g = None
                        continue
                if g is not None:
                    cb = buffers.get(child)
                    if cb is None:
                        buffers[child] = [g] if nr == 0 else [None] * nr + [g]
                    else:
                        while len(cb) <= nr:
                            cb.append(None)
                        cb[nr] = g if cb[nr] is None else cb[nr] + g
                d -= 1
                deps[child] = d
                if d == 0:
                    if nxt is None and not heap:
                        nxt = child
                    else:
                        push(heap, (-child._seq, child))
            if nxt is not None and heap:  # another node became ready too: the queue orders them
                push(heap, (-nxt._seq, nxt))
                nxt = None
            out = g = None  # hold no gradient between nodes: buffers are their only owners (see _exclusive)
    finally:
        _pass_end(state)

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
