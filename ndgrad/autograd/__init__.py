"""Reverse-mode automatic differentiation. Mirrors `torch.autograd`."""
from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor, _wrap
from . import graph
from .engine import run_backward
from .function import Function, FunctionCtx, once_differentiable
from .grad_mode import (enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad,
                        set_grad_enabled)
from .._warn import warn as _warn

__all__ = ["backward", "grad", "Function", "FunctionCtx", "once_differentiable", "no_grad", "enable_grad",
           "set_grad_enabled", "is_grad_enabled", "inference_mode", "is_inference_mode_enabled", "functional",
           "graph", "gradcheck", "gradgradcheck"]

CREATE_GRAPH_WARNING = (
    "Using backward() with create_graph=True will create a reference cycle between the parameter and its "
    "gradient which can cause a memory leak. We recommend using autograd.grad when creating the graph to "
    "avoid this. If you have to use this function, make sure to reset the .grad fields of your parameters "
    "to None after use to break the cycle and avoid the leak. (Triggered internally at "
    "/__w/pytorch/pytorch/torch/csrc/autograd/engine.cpp:1307.)")


def _as_tuple(x: Any) -> tuple:
    if x is None:
        return ()
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def _make_grads(outputs: tuple, grads: tuple, is_grads_batched: bool = False) -> list:
    """Check or create the gradient of each output (ones for a scalar). Mirrors torch's _make_grads."""
    if is_grads_batched:
        return _make_batched_grads(outputs, grads)
    res = []
    for i, (out, g) in enumerate(zip(outputs, grads)):
        if g is None:
            if out._requires_grad and out._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if out._data.dtype.kind not in "fcV":
                raise RuntimeError(f"grad can be implicitly created only for real scalar outputs but got "
                                   f"{out.dtype}")
            res.append(_wrap(np.ones(out._data.shape, out._data.dtype)))
        else:
            if not isinstance(g, Tensor):
                raise TypeError("gradients can be either Tensors or None, but got " + type(g).__name__)
            if g._data.shape != out._data.shape:
                from .._tensor import Size
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {Size(g._data.shape)} "
                                   f"and output[{i}] has a shape of {Size(out._data.shape)}.")
            if g._data.dtype != out._data.dtype:
                g = g.to(out.dtype)
            res.append(g)
    return res


def _make_batched_grads(outputs: tuple, grads: tuple) -> list:
    """_make_grads for is_grads_batched: each gradient has a leading batch dimension."""
    from .._tensor import Size
    res = []
    for i, (out, g) in enumerate(zip(outputs, grads)):
        if g is None:
            if out._data.ndim == 0:
                raise ValueError("vmap(vjp, in_dims=0, ...)(<inputs>): Got in_dim=0 for some input, but that input "
                                 "is a Tensor of dimensionality 0 so expected in_dim to satisfy 0 <= in_dim < 0.")
            g = _make_grads((out,), (None,))[0]
        if not isinstance(g, Tensor):
            raise TypeError("gradients can be either Tensors or None, but got " + type(g).__name__)
        if g._data.ndim == 0:
            raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` "
                             "in C++ to convert a 0-dim tensor to a number")
        if g._data.shape[0] == 0:
            raise IndexError("index 0 is out of bounds for dimension 0 with size 0")
        if g._data.shape[1:] != out._data.shape:
            # torch reports the shape of grad[0] without its first dimension
            raise RuntimeError(
                "If `is_grads_batched=True`, we interpret the first dimension of each grad_output as the batch "
                "dimension. The sizes of the remaining dimensions are expected to match the shape of corresponding "
                f"output, but a mismatch was detected: grad_output[{i}] has a shape of {Size(g._data.shape[2:])} "
                f"and output[{i}] has a shape of {Size(out._data.shape)}. If you only want some tensors in "
                "`grad_output` to be considered batched, consider using vmap.")
        if (out._data.dtype.kind == "c") != (g._data.dtype.kind == "c"):
            raise RuntimeError("For complex Tensors, both grad_output and output are required to have the same "
                               f"dtype. Mismatch in dtype: grad_output[{i}] has a dtype of {g.dtype} and output[{i}] "
                               f"has a dtype of {out.dtype}.")
        if g._data.dtype != out._data.dtype:
            g = g.to(out.dtype)
        res.append(g)
    return res


def _check_roots(outputs: tuple) -> None:
    for i, t in enumerate(outputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"backward(): argument 'tensors' must be tuple of Tensors, not {type(t).__name__}")
        if not t._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")


def backward(tensors: Any, grad_tensors: Any = None, retain_graph: bool | None = None,
             create_graph: bool = False, grad_variables: Any = None, inputs: Any = None) -> None:
    """Accumulate gradients of `tensors` into the leaves. Mirrors `torch.autograd.backward`."""
    outputs = _as_tuple(tensors)
    grads = _as_tuple(grad_tensors) if grad_tensors is not None else (None,) * len(outputs)
    if len(grads) != len(outputs):
        raise RuntimeError(f"got {len(grads)} tensors and {len(outputs)} gradients")
    if inputs is not None:
        inputs = _as_tuple(inputs)
        if len(inputs) == 0:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    _check_roots(outputs)
    if create_graph:
        _warn(CREATE_GRAPH_WARNING, UserWarning, stacklevel=3)
    if retain_graph is None:
        retain_graph = create_graph
    gs = _make_grads(outputs, grads)
    run_backward(outputs, gs, retain_graph, create_graph, inputs=inputs, capture=False)


def grad(outputs: Any, inputs: Any, grad_outputs: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, only_inputs: bool = True, allow_unused: bool | None = None,
         is_grads_batched: bool = False, materialize_grads: bool = False) -> tuple:
    """Gradients of `outputs` with respect to `inputs`, without touching `.grad`.

    Mirrors `torch.autograd.grad`.
    """
    outs = _as_tuple(outputs)
    ins = _as_tuple(inputs)
    if len(ins) == 0:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    if allow_unused is None:
        allow_unused = materialize_grads
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True, "
                         "but got: allow_unused=False.")
    grads = _as_tuple(grad_outputs) if grad_outputs is not None else (None,) * len(outs)
    if len(grads) != len(outs):
        raise RuntimeError(f"grad requires one grad_output per output: got {len(grads)} grad_outputs and "
                           f"{len(outs)} outputs")
    _check_roots(outs)
    if retain_graph is None:
        retain_graph = create_graph
    gs = _make_grads(outs, grads, is_grads_batched)
    if is_grads_batched:
        from ._batched import run_batched_backward
        res = run_batched_backward(outs, gs, retain_graph, create_graph, ins, allow_unused=allow_unused)
    else:
        res = run_backward(outs, gs, retain_graph, create_graph, inputs=ins, capture=True,
                           allow_unused=allow_unused)
    if materialize_grads:
        from .._creation import zeros_like
        res = [zeros_like(t) if g is None else g for g, t in zip(res, ins)]
    return tuple(res)


from . import functional  # noqa: E402
from .gradcheck import gradcheck, gradgradcheck  # noqa: E402
from . import anomaly_mode, forward_ad  # noqa: E402
from .anomaly_mode import detect_anomaly, set_detect_anomaly  # noqa: E402

__all__ += ["anomaly_mode", "detect_anomaly", "set_detect_anomaly", "forward_ad"]


def __getattr__(name: str) -> Any:
    # legacy and helper names load on first use
    if name == "Variable":
        from .._legacy import Variable
        return Variable
    if name == "profiler":
        import importlib
        return importlib.import_module("ndgrad.autograd.profiler")
    raise AttributeError(f"module 'torch.autograd' has no attribute {name!r}")
