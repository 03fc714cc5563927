"""Graph nodes: one Node type (subclassed per op only for its name) and AccumulateGrad.

A node holds its edges (`next_functions`), what its derivative formulas need (`_saved`, released
after backward unless `retain_graph`), the version of each saved tensor, and tensor hooks
registered on its outputs. Nodes never point back at the tensors they produced, so a graph is
freed by reference counting as soon as its outputs go out of scope.
"""
from __future__ import annotations

import itertools
from typing import Any, Callable

__all__ = ["Node", "AccumulateGrad", "saved_tensors_hooks", "save_on_cpu"]

FREED_MSG = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they "
    "have already been freed). Saved intermediate values of the graph are freed when you call .backward() "
    "or autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time "
    "or if you need to access saved tensors after calling backward."
)

_seq = itertools.count()
_ACC_FIRST = 1 << 62   # added to AccumulateGrad sequence numbers: the engines' heaps run them first


class _Freed:
    """Marks released saved values."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<freed>"


FREED = _Freed()


class RemovableHandle:
    """Returned by `register_hook`; `remove()` unregisters. Mirrors torch.utils.hooks.RemovableHandle."""

    _ids = itertools.count()

    def __init__(self, hooks: dict) -> None:
        self._hooks = hooks
        self.id = next(RemovableHandle._ids)

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self) -> "RemovableHandle":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


class Node:
    """A backward function in the graph. Mirrors `torch.autograd.graph.Node`."""

    __slots__ = ("next_functions", "_saved", "_versions", "_meta", "_seq", "__dict__", "__weakref__")
    _op: Any = None
    _name: str = "Node"
    # rarely set, so class defaults instead of per-node slots (keeps node creation cheap)
    _pre_hooks = None     # {output_nr: {id: hook}} from Tensor.register_hook on outputs
    _retain = None        # {output_nr: weakref to the tensor that retains its grad}
    _post_hooks = None
    _fresh_grads = None   # per output: the gradient is an array no one else holds (set by compile's node)
    _distinct_leaves = False  # its edges are leaves' nodes, none twice (set by compile's node: no check needed)
    _node_pre_hooks = None  # {id: hook} from Node.register_prehook
    _ctx = None           # (shape, dtype) of each output, for nodes with several outputs
    _keep = False         # saved values are only parameters (dim, shape...): never freed
    _hooked = False       # any of _pre_hooks, _retain, _node_pre_hooks, _packed set: one check for the engine
    _packed = None        # [(position, is_output, packed, unpack_hook)] under saved_tensors_hooks
    metadata: dict

    def __init__(self, next_functions: tuple, saved: Any, versions: tuple, meta: tuple) -> None:
        self.next_functions = next_functions
        self._saved = saved
        self._versions = versions
        self._meta = meta          # (shape, dtype) of each differentiable input
        self._seq = next(_seq)

    def name(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"<{self._name} object at {hex(id(self))}>"

    @property
    def metadata(self) -> dict:  # type: ignore[no-redef]
        d = self.__dict__.get("_metadata")
        if d is None:
            d = self.__dict__["_metadata"] = {}
        return d

    def register_hook(self, fn: Callable) -> RemovableHandle:
        """Hook called as fn(grad_inputs, grad_outputs) after this node runs."""
        if self._post_hooks is None:
            self._post_hooks = {}
        h = RemovableHandle(self._post_hooks)
        self._post_hooks[h.id] = fn
        return h

    def register_prehook(self, fn: Callable) -> RemovableHandle:
        """Hook called as fn(grad_outputs) before this node runs; may return replacement grad_outputs."""
        if self._node_pre_hooks is None:
            self._node_pre_hooks = {}
            self._hooked = True
        h = RemovableHandle(self._node_pre_hooks)
        self._node_pre_hooks[h.id] = fn
        return h

    def _add_pre_hook(self, nr: int, fn: Callable) -> RemovableHandle:
        if self._pre_hooks is None:
            self._pre_hooks = {}
            self._hooked = True
        hooks = self._pre_hooks.setdefault(nr, {})
        h = RemovableHandle(hooks)
        hooks[h.id] = fn
        return h

    def __getattr__(self, name: str) -> Any:
        # `_saved_self`, `_saved_other`, `_saved_result`...: what the node saved, as torch exposes it
        if name.startswith("_saved_") and self._op is not None:
            return self._saved_value(name[7:])
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def _saved_value(self, key: str) -> Any:
        op = self._op
        names = op.inputs + op.params + ("result",)
        if key not in names:
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '_saved_{key}'")
        saved = self._saved
        if saved is FREED:
            raise RuntimeError(FREED_MSG)
        if self._packed:
            from ._instrument import unpack_saved
            unpack_saved(self, True)
        j = names.index(key)
        if saved is None or saved[j] is None:
            return None
        for k, box, ver, t in self._versions:
            if k == j:
                if box[0] != ver:
                    from .._ops._registry import version_error
                    r = saved[j][0] if isinstance(saved[j], tuple) else saved[j]
                    raise version_error(r if t is None else t._data, box, ver,
                                        self._name if t is None else t.grad_fn._name if t.grad_fn else None)
                if t is not None:
                    return t
        if key == "result":
            from .._tensor import _wrap
            r = saved[j]
            return tuple(_wrap(a, None, self, i) for i, a in enumerate(r)) if isinstance(r, tuple) \
                else _wrap(r, None, self, 0)
        return saved[j]

    def _release(self) -> None:
        if self._saved is not None and not self._keep:
            self._saved = FREED
            self._versions = ()

    def apply_grads(self, grads: list, graph: bool) -> list:  # pragma: no cover - overridden
        raise NotImplementedError


class AccumulateGrad(Node):
    """Sink node of a leaf tensor: runs the leaf's hooks and adds into `.grad`."""

    __slots__ = ("variable",)
    _name = "AccumulateGrad"

    def __init__(self, variable: Any) -> None:
        Node.__init__(self, (), None, (), ())
        self.variable = variable
        # run as soon as ready, before any other ready node, as torch's AccumulateGrad (sequence number
        # UINT64_MAX): a leaf's node may outlive its graph (the previous iteration's loss still alive during
        # the next forward) and would otherwise run last, delaying post-accumulate hooks (DDP's buckets)
        self._seq += _ACC_FIRST


class saved_tensors_hooks:
    """Context manager: tensors saved for backward while it is active are replaced by `pack_hook(tensor)`,
    and `unpack_hook(packed)` gives them back when backward needs them. Mirrors
    `torch.autograd.graph.saved_tensors_hooks` (the hooks are process-wide here, not per thread)."""

    def __init__(self, pack_hook: Callable[[Any], Any], unpack_hook: Callable[[Any], Any]) -> None:
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self) -> "saved_tensors_hooks":
        from . import _instrument
        _instrument.state.hooks = [*_instrument.state.hooks, (self.pack_hook, self.unpack_hook)]
        _instrument.refresh()
        return self

    def __exit__(self, *args: Any) -> None:
        from . import _instrument
        _instrument.state.hooks = _instrument.state.hooks[:-1]
        _instrument.refresh()


class save_on_cpu(saved_tensors_hooks):
    """Mirrors `torch.autograd.graph.save_on_cpu`: ndgrad tensors always live in host memory, so saved tensors
    are kept as they are (copied when `pin_memory` is asked, which has no other meaning here)."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        def pack(t: Any) -> Any:
            return t.detach().clone() if pin_memory else t
        super().__init__(pack, lambda t: t)
