"""Instrumented node creation, installed only while anomaly mode or saved-tensor hooks are on.

The forward hot path must not pay for debugging aids it does not use, so nothing there checks a flag.
Instead, while `detect_anomaly` or `saved_tensors_hooks` is active, the record functions of the op table
(`_registry._record1`, `_registry._record2`, looked up as module globals at each call) and `Node.__init__`
(used by every other node) are replaced by wrappers that, after the node is built,

- remember the user-code stack that created it (anomaly mode), for the backward error report, and
- hand each saved tensor to the innermost `pack_hook` and keep only what it returns; the engine calls
  `unpack_hook` just before the node runs (`unpack_saved`, through the node's `_hooked` flag).

Leaving the last such context puts the originals back.
"""
from __future__ import annotations

import os
import traceback
from typing import Any, Callable

from .._tensor import Tensor, _wrap
from . import graph as _graph

__all__: list[str] = []


class _State:
    anomaly = False
    check_nan = True
    hooks: list = []  # stack of (pack_hook, unpack_hook); the innermost is last


state = _State()
_ORIG: dict = {}
_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _user_stack() -> list:
    """The creation stack without ndgrad's own frames (what torch shows: the user's forward call)."""
    frames = traceback.extract_stack()[:-3]
    return [f for f in frames if not os.path.abspath(f.filename).startswith(_PKG_DIR + os.sep)]


def format_trace(node: Any) -> str:
    stack = node.__dict__.get("_anomaly_trace") if hasattr(node, "__dict__") else None
    if not stack:
        return ""
    return "".join(traceback.format_list(stack))


def _pack(node: Any) -> None:
    """Replace the node's saved tensors by what the innermost pack hook returns."""
    saved = node._saved
    if not isinstance(saved, list) or not node._versions:
        return
    pack, unpack = state.hooks[-1]
    packed = []
    for j, box, ver, t in sorted(node._versions, key=_declaration_order(node)):
        if t is None:  # a saved output: torch hands the output tensor itself to the hook
            r = saved[j]
            t = _wrap(r, box, node, 0) if not isinstance(r, tuple) else None
            if t is None:
                continue
        packed.append((j, t is not None and t.grad_fn is node, pack(t), unpack))
        saved[j] = None
    if packed:
        done = {p[0] for p in packed}
        node._versions = tuple(v for v in node._versions if v[0] not in done)
        node._packed = packed
        node._hooked = True


def _declaration_order(node: Any) -> Callable:
    """torch packs (and unpacks) an op's saved tensors in the order its formulas first mention them
    (mul: `other` for the first input's formula, then `self`)."""
    op = node._op
    order: list = []
    for f in getattr(op, "vjps", ()):
        for j in getattr(f, "_idx", ()):
            if j not in order:
                order.append(j)
    return lambda v: order.index(v[0]) if v[0] in order else len(order) + v[0]


def unpack_saved(node: Any, graph: bool) -> None:
    """Called by the engine before a node with packed saved tensors runs."""
    saved = node._saved
    if saved is _graph.FREED or saved is None:
        return
    versions = list(node._versions)
    for j, is_result, packed, unpack in node._packed:
        t = unpack(packed)
        if not isinstance(t, Tensor):
            raise TypeError(f"Output of saved tensor unpack_hook expected to be a Tensor but got result of type "
                            f"{type(t).__name__}")
        saved[j] = t._data
        if not is_result:
            versions = [v for v in versions if v[0] != j]
            versions.append((j, t._vc, t._vc[0], t))
    node._versions = tuple(versions)


def _instrument(node: Any) -> None:
    if state.anomaly:
        node._anomaly_trace = _user_stack()
    if state.hooks and node._saved is not None and node.__class__ is not _graph.AccumulateGrad:
        _pack(node)


def _wrap_record(orig: Callable) -> Callable:
    def record(*args: Any) -> Any:
        res = orig(*args)
        _instrument(res.grad_fn)
        return res
    return record


def _node_init(self: Any, *args: Any) -> None:
    _ORIG["Node.__init__"](self, *args)
    if self.__class__ is not _graph.AccumulateGrad:
        _instrument(self)


def refresh() -> None:
    """Install the wrappers when anomaly mode or a saved-tensor hook is on; remove them otherwise."""
    from .._ops import _registry as R
    on = state.anomaly or bool(state.hooks)
    if on == R._GENERATE:  # the ops' generated calls do not call the record functions: generic calls meanwhile
        from .._ops import _fastcall
        _fastcall.enable(not on)
    if on and not _ORIG:
        _ORIG.update({"_record1": R._record1, "_record2": R._record2, "Node.__init__": _graph.Node.__init__})
        R._record1 = _wrap_record(_ORIG["_record1"])
        R._record2 = _wrap_record(_ORIG["_record2"])
        _graph.Node.__init__ = _node_init  # type: ignore[method-assign]
    elif not on and _ORIG:
        R._record1 = _ORIG["_record1"]
        R._record2 = _ORIG["_record2"]
        _graph.Node.__init__ = _ORIG["Node.__init__"]  # type: ignore[method-assign]
        _ORIG.clear()
