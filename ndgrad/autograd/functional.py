"""Jacobians and Hessians of Python functions. Mirrors `torch.autograd.functional` (reverse mode)."""
from __future__ import annotations

from typing import Any, Callable

from .._tensor import Tensor
from .grad_mode import enable_grad

__all__ = ["jacobian", "hessian", "vjp"]


def _tuple(x: Any) -> tuple[tuple, bool]:
    if isinstance(x, Tensor):
        return (x,), False
    return tuple(x), True


def _prep(inputs: tuple, create_graph: bool) -> tuple:
    out = []
    for t in inputs:
        if not isinstance(t, Tensor):
            raise TypeError(f"The inputs given to jacobian must be either a Tensor or a tuple of Tensors but the "
                            f"value at index {len(out)} has type {type(t)}.")
        d = t if create_graph and t._requires_grad else t.detach()
        out.append(d.requires_grad_(True) if not d._requires_grad else d)
    return tuple(out)


def _check_outputs(outputs: Any, fname: str) -> tuple[tuple, bool]:
    if isinstance(outputs, Tensor):
        return (outputs,), False
    if isinstance(outputs, tuple) and all(isinstance(o, Tensor) for o in outputs):
        return outputs, True
    raise TypeError(f"The outputs of the user-provided function given to {fname} must be either a Tensor or a "
                    f"tuple of Tensors but the given outputs of the user-provided function has type "
                    f"{type(outputs)}.")


def jacobian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode") -> Any:
    """Jacobian of `func` at `inputs`, one reverse pass per output element. Mirrors torch's."""
    from .. import _creation as C
    from . import grad as _grad
    from .._ops import reshape, stack
    if strategy == "forward-mode" and not vectorize:
        raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse Hessian is"
                                  "only implemented for `vectorize=True`.")
    ins, in_tuple = _tuple(inputs)
    with enable_grad():
        ins = _prep(ins, create_graph)
        outs, out_tuple = _check_outputs(func(*ins), "jacobian")
        rows: list = []
        for i, out in enumerate(outs):
            if strict and not out._requires_grad:
                raise RuntimeError(f"Output {i} of the user-provided function does not require gradients. The "
                                   "outputs must be computed in a differentiable manner from the input when "
                                   "running in strict mode.")
            per_input: list = [[] for _ in ins]
            flat = reshape(out, (-1,))
            n = flat.numel()
            for k in range(n):
                if out._requires_grad:
                    gs = _grad(flat[k], ins, retain_graph=True, create_graph=create_graph, allow_unused=True)
                else:
                    gs = (None,) * len(ins)
                for j, (g, x) in enumerate(zip(gs, ins)):
                    if g is None:
                        if strict:
                            raise RuntimeError(f"Output {i} of the user-provided function is independent of "
                                               f"input {j}. This is not allowed in strict mode.")
                        g = C.zeros_like(x)
                    per_input[j].append(g)
            blocks = []
            for j, x in enumerate(ins):
                if n:
                    m = stack(per_input[j], 0)
                else:
                    m = C.zeros(0, *x.shape, dtype=x.dtype)
                m = reshape(m, tuple(out.shape) + tuple(x.shape))
                blocks.append(m if create_graph else m.detach())
            rows.append(tuple(blocks))
    if not out_tuple and not in_tuple:
        return rows[0][0]
    if not out_tuple:
        return rows[0]
    if not in_tuple:
        return tuple(r[0] for r in rows)
    return tuple(rows)


def hessian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """Hessian of a scalar function: the Jacobian of its gradient. Mirrors torch's."""
    from . import grad as _grad
    ins, in_tuple = _tuple(inputs)

    def grad_fn(*xs: Tensor) -> Any:
        out = func(*xs)
        outs, _ = _check_outputs(out, "hessian")
        if outs[0].numel() != 1 or len(outs) != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should contain a single "
                               "element")
        if strict and not outs[0]._requires_grad:
            raise RuntimeError("The function given in hessian should return a Tensor that requires gradients")
        gs = _grad(outs[0].reshape(()), xs, create_graph=True, allow_unused=True)
        from .. import _creation as C
        res = tuple(C.zeros_like(x) if g is None else g for g, x in zip(gs, xs))
        return res if in_tuple else res[0]

    return jacobian(grad_fn, inputs if in_tuple else ins[0], create_graph=create_graph, strict=False)


def vjp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """(func(inputs), vᵀJ). Mirrors `torch.autograd.functional.vjp`."""
    from . import grad as _grad
    ins, in_tuple = _tuple(inputs)
    with enable_grad():
        ins = _prep(ins, create_graph)
        outs, out_tuple = _check_outputs(func(*ins), "vjp")
        if v is None:
            if len(outs) != 1 or outs[0].numel() != 1:
                raise RuntimeError("The vector v can only be None if the user-provided function returns a single "
                                   "Tensor with a single element.")
            vs = None
        else:
            vs, _ = _tuple(v)
        diff = [o for o in outs if o._requires_grad]
        if diff:
            gs = _grad(tuple(diff), ins, grad_outputs=None if vs is None else tuple(
                vv for vv, o in zip(vs, outs) if o._requires_grad), create_graph=create_graph, allow_unused=True)
        else:
            gs = (None,) * len(ins)
    from .. import _creation as C
    gs = tuple(C.zeros_like(x) if g is None else (g if create_graph else g.detach()) for g, x in zip(gs, ins))
    outv = tuple(o if create_graph else o.detach() for o in outs)
    return (outv if out_tuple else outv[0], gs if in_tuple else gs[0])
