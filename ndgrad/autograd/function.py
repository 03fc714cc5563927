"""Custom differentiable functions: `Function`, its ctx, `once_differentiable`.

Mirrors `torch.autograd.Function`. `Function.apply` builds the same kind of graph node as the
built-in ops; the node *is* the ctx (as in torch), of a class named `<ClassName>Backward`.
"""
from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np

from .._tensor import Tensor, _wrap
from .graph import FREED, FREED_MSG, Node
from .grad_mode import state as _mode

__all__ = ["Function", "FunctionCtx", "once_differentiable", "BackwardCFunction"]

_fw_capture: list | None = None  # while a forward-AD level is active: each apply's ctx, for the jvp (forward_ad.py)

LEGACY_MSG = ("Legacy autograd function with non-static forward method is deprecated. Please use new-style "
              "autograd function with static forward method. (Example: "
              "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)")


class FunctionCtx:
    """What forward and backward share: saved tensors, flags. Mirrors `torch.autograd.function.FunctionCtx`."""

    def save_for_backward(self, *tensors: Any) -> None:
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save variables, but argument {i} is of type "
                                f"{type(t).__name__}")
        self._to_save = tensors

    def save_for_forward(self, *tensors: Any) -> None:
        self._for_forward = tensors

    def mark_dirty(self, *args: Tensor) -> None:
        self._dirty = args

    def mark_non_differentiable(self, *args: Tensor) -> None:
        self._non_diff = args

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = value


class _Packed:
    """A tensor saved by `save_for_backward` under saved_tensors_hooks: the packed value and its unpack hook."""

    __slots__ = ("value", "hook")

    def __init__(self, value: Any, hook: Callable) -> None:
        self.value, self.hook = value, hook

    def unpack(self) -> Any:
        t = self.hook(self.value)
        if not isinstance(t, Tensor):
            raise TypeError("Output of saved tensor unpack_hook expected to be a Tensor but got result of type "
                            f"{type(t).__name__}")
        return t


class BackwardCFunction(Node, FunctionCtx):
    """The node of a custom Function; its instances are the `ctx` passed to forward and backward."""

    _fn: Any = None
    _tensor_args: tuple = ()   # for each forward argument: whether it was a Tensor (one edge each)
    materialize_grads = True
    _to_save: tuple = ()
    _dirty: tuple = ()
    _non_diff: tuple = ()

    _in_jvp = False  # inside jvp, saved_tensors are those of save_for_forward (as torch)

    @property
    def saved_tensors(self) -> tuple:
        if self._in_jvp:
            return tuple(getattr(self, "_for_forward", ()))
        saved = self._saved
        if saved is FREED:
            raise RuntimeError(FREED_MSG)
        if saved is None:
            return ()
        from .._ops._registry import version_error
        out = []
        for t, box, ver, nr in saved:
            if t is None:
                out.append(None)
                continue
            if t.__class__ is _Packed:  # saved under saved_tensors_hooks: what unpack_hook gives back
                out.append(t.unpack())
                continue
            if nr is not None:  # an output, kept detached (the output itself would point back here)
                t = _wrap(t._data, box, self, nr)
            if box[0] != ver:
                raise version_error(t._data, box, ver, t.grad_fn._name if t.grad_fn is not None else None)
            out.append(t)
        return tuple(out)

    saved_variables = saved_tensors

    def apply(self, *grads: Any) -> Any:
        return self._fn.backward(self, *grads)

    def __repr__(self) -> str:
        return f"<{type(self).__module__}.{self._name} object at {hex(id(self))}>"

    def apply_grads(self, grads: list, graph: bool) -> list:
        fn = self._fn
        n_out = len(self._ctx)
        grads = list(grads) + [None] * (n_out - len(grads))
        tg = []
        for g, (shape, dt) in zip(grads, self._ctx):
            if g is None:
                if self.materialize_grads:
                    tg.append(_wrap(np.zeros(shape, dt)))
                else:
                    tg.append(None)
            else:
                tg.append(g if isinstance(g, Tensor) else _wrap(g))
        result = fn.backward(self, *tg)
        if not isinstance(result, tuple):
            result = (result,)
        n_in = len(self._tensor_args)
        if len(result) != n_in:
            if len(result) > n_in and all(r is None for r in result[n_in:]):
                result = result[:n_in]
            else:
                raise RuntimeError(f"function {self._name} returned an incorrect number of gradients (expected "
                                   f"{n_in}, got {len(result)})")
        out = []
        from .._ops._registry import CAST, SUM_TO
        k = -1
        for i, (is_tensor, r) in enumerate(zip(self._tensor_args, result)):
            if not is_tensor:
                if r is not None:
                    raise RuntimeError(f"function {self._name} returned a gradient different than None at position "
                                       f"{i + 1}, but the corresponding forward input was not a Variable")
                continue
            k += 1
            if self.next_functions[k][0] is None or r is None:
                out.append(None)
                continue
            if not isinstance(r, Tensor):
                raise TypeError(f"function {self._name} returned an invalid gradient at index {i} - expected a "
                                f"Tensor, got {type(r).__name__}")
            shape, dt = self._meta[k]
            if r._data.shape != shape:
                try:
                    ok = np.broadcast_shapes(shape, r._data.shape) == r._data.shape
                except ValueError:
                    ok = False
                if not ok or len(r._data.shape) < len(shape):
                    raise RuntimeError(f"Function {self._name} returned an invalid gradient at index {i} - got "
                                       f"{list(r._data.shape)} but expected shape compatible with {list(shape)}")
                r = SUM_TO(r, shape)
            if r._data.dtype != dt:
                r = CAST(r, dt)
            out.append(r if graph else r._data)
        return out


class _FunctionMeta(type):
    """Gives each Function subclass its node class, named `<Name>Backward`."""

    def __init__(cls, name: str, bases: tuple, attrs: dict) -> None:
        super().__init__(name, bases, attrs)
        cls._backward_cls = type(name + "Backward", (BackwardCFunction,), {"_fn": cls, "_name": name + "Backward"})


class Function(metaclass=_FunctionMeta):
    """Base class for custom differentiable operations. Mirrors `torch.autograd.Function`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError(LEGACY_MSG)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(LEGACY_MSG)

    @staticmethod
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> Any:
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    vjp = backward

    @staticmethod
    def jvp(ctx: Any, *grad_inputs: Any) -> Any:
        raise NotImplementedError("You must implement the jvp function for custom autograd.Function to use it "
                                  "with forward mode AD.")

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple, output: Any) -> Any:
        raise NotImplementedError("setup_context is not implemented.")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        node = Node.__new__(cls._backward_cls)
        edges = []
        meta = []
        needs = []
        for a in args:
            if isinstance(a, Tensor):
                if a._requires_grad:
                    from .._ops._registry import _edge
                    edges.append(_edge(a))
                    meta.append((a._data.shape, a._data.dtype))
                    needs.append(True)
                else:
                    edges.append((None, 0))  # torch: one edge per Tensor argument, none for other arguments
                    meta.append(None)
                    needs.append(False)
            else:
                needs.append(False)
        Node.__init__(node, tuple(edges), None, (), tuple(meta))
        if _fw_capture is not None:
            _fw_capture.append(node)
        node._tensor_args = tuple(isinstance(a, Tensor) for a in args)
        node.needs_input_grad = tuple(needs)  # as torch, whatever the grad mode
        uses_setup = cls.setup_context is not Function.setup_context
        prev = _mode.enabled
        _mode.enabled = False
        try:
            if uses_setup:
                outputs = cls.forward(*args, **kwargs)
                cls.setup_context(node, args, outputs)
            else:
                outputs = cls.forward(node, *args, **kwargs)
        finally:
            _mode.enabled = prev
        is_tuple = isinstance(outputs, tuple)
        outs = outputs if is_tuple else (outputs,)
        record = any(needs) and _mode.enabled
        non_diff = {id(t) for t in node._non_diff}
        dirty = {id(t) for t in node._dirty}
        result = []
        ctx_meta = []
        input_ids = {id(a) for a in args if isinstance(a, Tensor)}
        for i, o in enumerate(outs):
            if not isinstance(o, Tensor):
                result.append(o)
                ctx_meta.append(((), np.dtype(np.float32)))
                continue
            ctx_meta.append((o._data.shape, o._data.dtype))
            if id(o) in dirty:
                o._vc[0] += 1  # torch bumps the version of a tensor marked dirty once more
            elif id(o) in input_ids:
                o = _wrap(o._data, o._vc)  # returning an input gives a new tensor, as in torch
            if record and id(outs[i]) not in non_diff and o._data.dtype.kind in "fcV":
                o.grad_fn = node
                o._output_nr = i
                o._requires_grad = True
            result.append(o)
        node._ctx = ctx_meta
        to_save = node._to_save
        if to_save:
            node._saved = [(t, t._vc, t._vc[0], None) if t is not None else (None, None, None, None)
                           for t in to_save]
            # a saved output is kept detached, with its version counter: holding the output Tensor would
            # make a reference cycle (output -> node -> output) that only the garbage collector frees
            for k, t in enumerate(to_save):
                for j, o in enumerate(outs):
                    if t is o and isinstance(result[j], Tensor) and result[j].grad_fn is node:
                        r = result[j]
                        node._saved[k] = (_wrap(r._data, r._vc), r._vc, r._vc[0], j)
            node._to_save = ()
            from . import _instrument
            if _instrument.state.hooks and record:
                pack, unpack = _instrument.state.hooks[-1]
                node._saved = [(t if t is None else _Packed(pack(t), unpack), box, ver, nr)
                               for t, box, ver, nr in node._saved]
        if not record:
            node._saved = None
        return tuple(result) if is_tuple else result[0]


def once_differentiable(fn: Callable) -> Callable:
    """Run a backward with grad mode off, so its result cannot be differentiated again."""
    @functools.wraps(fn)
    def wrapper(ctx: Any, *args: Any) -> Any:
        prev = _mode.enabled
        _mode.enabled = False
        try:
            return fn(ctx, *args)
        finally:
            _mode.enabled = prev
    return wrapper
