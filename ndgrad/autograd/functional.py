"""Jacobians, Hessians and vector products of Python functions. Mirrors `torch.autograd.functional`.

torch's argument checks, strict-mode errors and output structures. jvp and hvp use the double-backward
trick, as torch's do. `jacobian` and `hessian` compute every row in one batched backward pass
(`grad(..., is_grads_batched=True)`), whether or not `vectorize` is set (same numbers, faster); only
`strict=True` keeps the row-by-row loop, for its per-row checks (and `create_graph=True` without
`vectorize` takes one batched pass per output, so that which blocks require grad is torch's).
`strategy="forward-mode"` uses the double-backward trick, batched over all input elements (forward_ad is
not used); its results are lists, as torch's forward-mode ones are.
"""
from __future__ import annotations

from typing import Any, Callable

from .._tensor import Tensor
from .grad_mode import enable_grad, is_grad_enabled, set_grad_enabled

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


def _as_tuple(inp: Any, arg_name: str, fn_name: str) -> tuple[bool, tuple]:
    """(whether `inp` was a tuple, inp as a tuple of Tensors)."""
    is_tuple = isinstance(inp, tuple)
    if not is_tuple:
        inp = (inp,)
    for i, el in enumerate(inp):
        if not isinstance(el, Tensor):
            where = f"value at index {i}" if is_tuple else f"given {arg_name}"
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors but "
                            f"the {where} has type {type(el)}.")
    return is_tuple, inp


def _unpack(res: Any, to_unpack: Any) -> Any:
    """Undo `_as_tuple` on results (one flag, or (outputs flag, inputs flag) for nested results)."""
    if isinstance(to_unpack, tuple):
        if not to_unpack[1]:
            res = tuple(el[0] for el in res)
        if not to_unpack[0]:
            res = res[0]
    elif not to_unpack:
        res = res[0]
    return res


def _preprocess(inputs: tuple, create_graph: bool, need_graph: bool) -> tuple:
    # always new Tensor objects, so that inputs captured by the function are told apart from arguments
    return tuple(t.view_as(t) if create_graph and t.requires_grad else t.detach().requires_grad_(need_graph)
                 for t in inputs)


def _postprocess(res: tuple, create_graph: bool) -> tuple:
    if isinstance(res[0], Tensor):
        return res if create_graph else tuple(t.detach() for t in res)
    return tuple(_postprocess(r, create_graph) for r in res)


def _validate_v(v: tuple, other: tuple, is_other_tuple: bool) -> None:
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for idx, (el_v, el_other) in enumerate(zip(v, other)):
        if el_v.size() != el_other.size():
            prepend = f"Entry {idx} in " if is_other_tuple else ""
            raise RuntimeError(f"{prepend}v has invalid size: should be {el_other.size()} but got {el_v.size()}.")


_NOT_REQUIRING = {
    "hessian": ("The hessian of the user-provided function with respect to input {i} is independent of the input. "
                "This is not allowed in strict mode. You should ensure that your function is thrice differentiable "
                "and that the hessian depends on the inputs."),
    "jacobian": ("While computing the hessian, found that the jacobian of the user-provided function with respect "
                 "to input {i} is independent of the input. This is not allowed in strict mode. You should ensure "
                 "that your function is twice differentiable and that the jacobian depends on the inputs (this "
                 "would be violated by a linear function for example)."),
    "grad_inputs": ("The gradient with respect to input {i} is independent of the inputs of the user-provided "
                    "function. This is not allowed in strict mode."),
    "outputs": ("Output {i} of the user-provided function does not require gradients. The outputs must be "
                "computed in a differentiable manner from the input when running in strict mode."),
}


def _check_requires_grad(inputs: tuple, input_type: str, strict: bool) -> None:
    if not strict:
        return
    for i, t in enumerate(inputs):
        if t is None:
            raise RuntimeError(f"The output of the user-provided function is independent of input {i}. This is "
                               "not allowed in strict mode.")
        if not t.requires_grad:
            raise RuntimeError(_NOT_REQUIRING[input_type].format(i=i))


def _autograd_grad(outputs: tuple, inputs: tuple, grad_outputs: Any = None, create_graph: bool = False,
                   retain_graph: bool | None = None) -> tuple:
    """autograd.grad that skips outputs that are None or do not require grad (their gradients are None)."""
    from . import grad
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return grad(tuple(o for o, _ in pairs), inputs, tuple(g for _, g in pairs), allow_unused=True,
                create_graph=create_graph, retain_graph=retain_graph)


_FILL_ERRORS = {
    "back": "The output of the user-provided function is independent of input {i}. This is not allowed in strict "
            "mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the grad_outputs when "
                  "using the double backward trick to compute forward mode gradients. This is not allowed in "
                  "strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. This is not allowed "
                   "in strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry {i} in the "
                         "grad_jacobian. This is not allowed in strict mode as it prevents from using the double "
                         "backward trick to replace forward mode AD.",
}


def _fill_in_zeros(grads: tuple, refs: tuple, strict: bool, create_graph: bool, stage: str) -> tuple:
    from .._creation import zeros_like
    res = []
    for i, g in enumerate(grads):
        if g is None:
            if strict:
                raise RuntimeError(_FILL_ERRORS[stage].format(i=i))
            g = zeros_like(refs[i])
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(f"The {what} of the user-provided function is independent of input {i}. This is not "
                               "allowed in strict mode when create_graph=True.")
        res.append(g)
    return tuple(res)


def _prepare_v(v: Any, ref: tuple, is_ref_tuple: bool, create_graph: bool, fn_name: str, none_msg: str) -> Any:
    if v is not None:
        _, v = _as_tuple(v, "v", fn_name)
        v = _preprocess(v, create_graph=create_graph, need_graph=False)
        _validate_v(v, ref, is_ref_tuple)
    elif len(ref) != 1 or ref[0].numel() != 1:
        raise RuntimeError(none_msg)
    return v


_V_NONE_INPUT = ("The vector v can only be None if the input to the user-provided function is a single Tensor "
                 "with a single element.")


def vjp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """(func(inputs), vᵀ·J). Mirrors `torch.autograd.functional.vjp`."""
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _preprocess(inputs, create_graph=create_graph, need_graph=True)
        is_outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", "vjp")
        _check_requires_grad(outputs, "outputs", strict=strict)
        v = _prepare_v(v, outputs, is_outputs_tuple, create_graph, "vjp",
                       "The vector v can only be None if the user-provided function returns a single Tensor with "
                       "a single element.")
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        res = _fill_in_zeros(_autograd_grad(outputs, inputs, v, create_graph=create_graph), inputs, strict,
                             create_graph, "back")
    return (_unpack(_postprocess(outputs, create_graph), is_outputs_tuple),
            _unpack(_postprocess(res, create_graph), is_inputs_tuple))


def jvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """(func(inputs), J·v) by the double-backward trick. Mirrors `torch.autograd.functional.jvp`."""
    from .._creation import zeros_like
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _preprocess(inputs, create_graph=create_graph, need_graph=True)
        v = _prepare_v(v, inputs, is_inputs_tuple, create_graph, "jvp", _V_NONE_INPUT)
        is_outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", "jvp")
        _check_requires_grad(outputs, "outputs", strict=strict)
        # the backward is linear in grad_outputs: their values do not matter, only that they are finite
        grad_outputs = tuple(zeros_like(o, requires_grad=True) for o in outputs)
        grad_inputs = _autograd_grad(outputs, inputs, grad_outputs, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict=strict)
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        res = _fill_in_zeros(_autograd_grad(grad_inputs, grad_outputs, v, create_graph=create_graph), outputs,
                             strict, create_graph, "back_trick")
    return (_unpack(_postprocess(outputs, create_graph), is_outputs_tuple),
            _unpack(_postprocess(res, create_graph), is_outputs_tuple))


def jacobian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode") -> Any:
    """Jacobian of `func` at `inputs`, all rows in one batched reverse pass. Mirrors torch's."""
    from .._creation import zeros_like
    from .._ops import stack
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
                             'function has more outputs than inputs, "forward-mode" tends to be more performant. '
                             'Otherwise, prefer to use "reverse-mode".')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError('torch.autograd.functional.jacobian: `create_graph=True` and '
                                      '`strategy="forward-mode"` are not supported together (yet). Please either '
                                      'set `create_graph=False` or `strategy="reverse-mode"`.')
        if strict:
            raise RuntimeError('torch.autograd.functional.jacobian: `strict=True` and `strategy="forward-mode"` are '
                               'not supported together (yet). Please either set `strict=False` or '
                               '`strategy="reverse-mode"`.')
        if not vectorize:
            raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse Hessian is"
                                      "only implemented for `vectorize=True`.")
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _preprocess(inputs, create_graph=create_graph, need_graph=True)
        is_outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", "jacobian")
        _check_requires_grad(outputs, "outputs", strict=strict)
        if vectorize and strict:
            raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` are not "
                               "supported together. Please either set `strict=False` or `vectorize=False`.")
        if not strict:
            if strategy == "forward-mode":
                # torch's forward-mode path gives lists (outputs, then inputs) where the others give tuples
                res = [[t.detach() for t in row] for row in _jacobian_forward(outputs, inputs)]
            else:
                res = _postprocess(_jacobian_batched(outputs, inputs, create_graph, vectorize), create_graph)
            return _unpack(res, (is_outputs_tuple, is_inputs_tuple))
        jac = []
        for i, out in enumerate(outputs):
            rows: tuple = tuple([] for _ in inputs)
            flat = out.reshape(-1)
            for k in range(out.numel()):
                vj = _autograd_grad((flat[k],), inputs, retain_graph=True, create_graph=create_graph)
                for j, (row, g, x) in enumerate(zip(rows, vj, inputs)):
                    if g is not None:
                        if strict and create_graph and not g.requires_grad:
                            raise RuntimeError(f"The jacobian of the user-provided function is independent of "
                                               f"input {i}. This is not allowed in strict mode when "
                                               "create_graph=True.")
                        row.append(g)
                    else:
                        if strict:
                            raise RuntimeError(f"Output {i} of the user-provided function is independent of input "
                                               f"{j}. This is not allowed in strict mode.")
                        row.append(zeros_like(x))
            jac.append(tuple(_stack_rows(stack, row, x, out) for row, x in zip(rows, inputs)))
        res = _postprocess(tuple(jac), create_graph)
    return _unpack(res, (is_outputs_tuple, is_inputs_tuple))


def _identity_blocks(refs: tuple, dtype_of: Callable) -> tuple:
    """One batched grad_output per tensor in `refs`: together they are the identity over all their elements
    (rows ordered by tensor, then by element)."""
    import numpy as np

    from .._tensor import _wrap
    sizes = [int(np.prod(r.shape, dtype=np.int64)) for r in refs]
    n = sum(sizes)
    blocks, off = [], 0
    for r, k in zip(refs, sizes):
        b = np.zeros((n, k), dtype_of(r))
        b[np.arange(off, off + k), np.arange(k)] = 1
        blocks.append(_wrap(b.reshape((n,) + tuple(r.shape))))
        off += k
    return tuple(blocks), sizes


def _jacobian_batched(outputs: tuple, inputs: tuple, create_graph: bool, vectorize: bool = True) -> tuple:
    """Every row of the Jacobian in one batched backward pass (is_grads_batched).

    With create_graph and not vectorize, one batched pass per output instead: torch's row-by-row loop
    tells apart the outputs whose Jacobian depends on the inputs (requires grad) and those whose does not,
    and only separate passes can."""
    if create_graph and not vectorize and len(outputs) > 1:
        return tuple(_jacobian_batched((o,), inputs, True)[0] for o in outputs)
    from .._creation import ones_like, zeros
    from . import grad
    live = [i for i, o in enumerate(outputs) if o.requires_grad]
    outs = tuple(outputs[i] for i in live)
    grads: Any = (None,) * len(inputs)
    sizes: list = []
    if outs:
        sizes = [o.numel() for o in outs]
        if sum(sizes) == 1:  # one row (a scalar output): an ordinary backward pass
            out = outs[sizes.index(1)]
            grads = grad((out,), inputs, (ones_like(out),), retain_graph=True, create_graph=create_graph,
                         allow_unused=True)
            return tuple(tuple(zeros(tuple(o.shape) + tuple(x.shape), dtype=x.dtype) if g is None or o is not out
                               else g.reshape(tuple(o.shape) + tuple(x.shape)) for g, x in zip(grads, inputs))
                         for o in outputs)
        if sum(sizes):
            g_out, sizes = _identity_blocks(outs, lambda r: r._data.dtype)
            grads = grad(outs, inputs, g_out, retain_graph=True, create_graph=create_graph, allow_unused=True,
                         is_grads_batched=True)
    jac = []
    offsets = dict(zip(live, [sum(sizes[:k]) for k in range(len(sizes))]))
    for i, out in enumerate(outputs):
        row = []
        for x, g in zip(inputs, grads):
            shape = tuple(out.shape) + tuple(x.shape)
            if g is None or i not in offsets:
                row.append(zeros(shape, dtype=x.dtype))
            else:
                off = offsets[i]
                block = g if off == 0 and out.numel() == g.shape[0] else g[off:off + out.numel()]
                if create_graph and not block._data.flags.c_contiguous:
                    block = block.contiguous()  # so that the result is a view (ViewBackward0), as torch's
                row.append(block.reshape(shape))
        jac.append(tuple(row))
    return tuple(jac)


def _jacobian_forward(outputs: tuple, inputs: tuple) -> tuple:
    """Jacobian column by column (J·e_k for every input element k) with the double-backward trick, all
    columns in one batched pass: the gradient of the inputs is linear in dummy grad_outputs u, and
    differentiating it with respect to u gives forward-mode products."""
    from .._creation import zeros, zeros_like
    from . import grad
    live = [i for i, o in enumerate(outputs) if o.requires_grad]
    us = tuple(zeros_like(outputs[i], requires_grad=True) for i in live)
    cols: dict = {}
    if live:
        gi = grad(tuple(outputs[i] for i in live), inputs, us, create_graph=True, allow_unused=True)
        used = [j for j, g in enumerate(gi) if g is not None and g.requires_grad]
        if used:
            v, sizes = _identity_blocks(tuple(inputs[j] for j in used), lambda r: r._data.dtype)
            if sum(sizes):
                res = grad(tuple(gi[j] for j in used), us, v, retain_graph=True, allow_unused=True,
                           is_grads_batched=True)
                off = 0
                for j, k in zip(used, sizes):
                    for n, i in enumerate(live):
                        if res[n] is not None:
                            cols[i, j] = (res[n][off:off + k], k)
                    off += k
    jac = []
    for i, out in enumerate(outputs):
        row = []
        for j, x in enumerate(inputs):
            shape = tuple(out.shape) + tuple(x.shape)
            if (i, j) in cols:
                c, k = cols[i, j]
                row.append(c.reshape(k, out.numel()).t().reshape(shape))
            else:
                row.append(zeros(shape, dtype=x.dtype))
        jac.append(tuple(row))
    return tuple(jac)


def _stack_rows(stack: Callable, row: list, x: Tensor, out: Tensor) -> Tensor:
    if not row:  # an empty output: torch.stack of nothing would fail, the Jacobian is empty
        from .._creation import zeros
        return zeros(tuple(out.shape) + tuple(x.shape), dtype=x.dtype)
    return stack(row, 0).view(tuple(out.shape) + tuple(x.shape))


def hessian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """Hessian of a scalar function: the Jacobian of its gradient. Mirrors torch's."""
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')
    if not strict and outer_jacobian_strategy == "reverse-mode":
        # the gradient once (with its graph), then all its rows in one batched pass
        from .._creation import zeros_like
        from . import grad
        with enable_grad():
            inp = _preprocess(inputs, create_graph=create_graph, need_graph=True)
            out = func(*inp)
            is_out_tuple, _ = _as_tuple(out, "outputs of the user-provided function", "hessian")
            if is_out_tuple or not isinstance(out, Tensor):
                raise RuntimeError("The function given to hessian should return a single Tensor")
            if out.numel() != 1:
                raise RuntimeError("The Tensor returned by the function given to hessian should contain a single "
                                   "element")
            gs = grad(out, inp, create_graph=True, allow_unused=True) if out.requires_grad else (None,) * len(inp)
            gs = tuple(zeros_like(x) if g is None else g for g, x in zip(gs, inp))
            res = _postprocess(_jacobian_batched(gs, inp, create_graph, vectorize), create_graph)
        return _unpack(res, (is_inputs_tuple, is_inputs_tuple))

    def single_output(*inp: Tensor) -> Tensor:
        out = func(*inp)
        is_out_tuple, t_out = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_requires_grad(t_out, "outputs", strict=strict)
        if is_out_tuple or not isinstance(out, Tensor):
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.numel() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should contain a single element")
        return out.squeeze()

    def jac_func(*inp: Tensor) -> Any:
        jac = jacobian(single_output, inp, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict=strict)
        return jac

    res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict, vectorize=vectorize,
                   strategy=outer_jacobian_strategy)
    return _unpack(res, (is_inputs_tuple, is_inputs_tuple))


def _hessian_products(name: str, func: Callable, inputs: Any, v: Any, create_graph: bool, strict: bool) -> tuple:
    """vhp (vᵀ·H) and hvp (H·v, by the double-backward trick)."""
    from .._creation import zeros_like
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", name)
        inputs = _preprocess(inputs, create_graph=create_graph, need_graph=True)
        v = _prepare_v(v, inputs, is_inputs_tuple, create_graph, name, _V_NONE_INPUT)
        is_outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", name)
        _check_requires_grad(outputs, "outputs", strict=strict)
        if is_outputs_tuple or not isinstance(outputs[0], Tensor):
            raise RuntimeError(f"The function given to {name} should return a single Tensor")
        if outputs[0].numel() != 1:
            raise RuntimeError(f"The Tensor returned by the function given to {name} should contain a single element")
        jac = _autograd_grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict=strict)
        if name == "hvp":
            grad_jac = tuple(zeros_like(x, requires_grad=True) for x in inputs)
            double_back = _autograd_grad(jac, inputs, grad_jac, create_graph=True)
            _check_requires_grad(jac, "hessian", strict=strict)
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        if name == "hvp":
            res = _fill_in_zeros(_autograd_grad(double_back, grad_jac, v, create_graph=create_graph), inputs,
                                 strict, create_graph, "double_back_trick")
        else:
            res = _fill_in_zeros(_autograd_grad(jac, inputs, v, create_graph=create_graph), inputs, strict,
                                 create_graph, "double_back")
    return (_unpack(_postprocess(outputs, create_graph), is_outputs_tuple),
            _unpack(_postprocess(res, create_graph), is_inputs_tuple))


def vhp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """(func(inputs), vᵀ·H). Mirrors `torch.autograd.functional.vhp`."""
    return _hessian_products("vhp", func, inputs, v, create_graph, strict)


def hvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """(func(inputs), H·v). Mirrors `torch.autograd.functional.hvp`."""
    return _hessian_products("hvp", func, inputs, v, create_graph, strict)
