"""Mirrors `torch.func`: grad, grad_and_value, vjp, jvp, jacrev, jacfwd, hessian, vmap, functional_call.

Built on the tape rather than on functorch's levels:

- grad/vjp/jacrev make fresh differentiable copies of the chosen inputs, run the function, and call
  autograd.grad. Inside another transform (or when an input already requires grad) they keep the graph
  (create_graph), so transforms nest: grad(grad(f)), jacrev(jacrev(f)), vmap(grad(f))...
- jacrev and jacfwd compute every row in one batched backward pass (`is_grads_batched`); jvp uses the
  double-backward trick. jacfwd gives jacrev's numbers (forward mode is not used).
- vmap runs the function once per batch element and stacks the results: torch's semantics for in_dims,
  out_dims (None included), pytrees, kwargs and nesting, at loop speed. randomness as torch's: 'error'
  refuses random ops, 'same' gives every element the same draws from the default generator, 'different' not.
"""
from __future__ import annotations

import threading
from typing import Any, Callable

import numpy as np

from .._tensor import Tensor

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "vmap", "functional_call",
           "stack_module_state"]

_state = threading.local()


def _depth() -> int:
    return getattr(_state, "depth", 0)


class _Level:
    """Marks that a transform is running (nested transforms must keep the graph)."""

    def __enter__(self) -> None:
        _state.depth = _depth() + 1

    def __exit__(self, *exc: Any) -> None:
        _state.depth = _depth() - 1


# -- pytrees: tuples, lists, dicts (and namedtuples), and the types registered with
# utils._pytree.register_pytree_node; anything else is a leaf -------------------------------------------------------
_LEAF = None
# registered type -> (flatten_fn: obj -> (children, context), unflatten_fn: (children, context) -> obj)
_NODES: dict = {}


def _flatten(tree: Any) -> tuple[list, Any]:
    """(leaves, spec); spec is None for a leaf, else (type, context, child specs)."""
    node = _NODES.get(type(tree)) if _NODES else None
    if node is not None:
        children, ctx = node[0](tree)
        leaves, specs = [], []
        for c in children:
            lv, sp = _flatten(c)
            leaves.extend(lv)
            specs.append(sp)
        return leaves, (type(tree), ctx, specs)
    if isinstance(tree, (tuple, list)):
        leaves: list = []
        specs = []
        for c in tree:
            lv, sp = _flatten(c)
            leaves.extend(lv)
            specs.append(sp)
        return leaves, (type(tree), None, specs)
    if isinstance(tree, dict):
        leaves, specs = [], []
        keys = list(tree)
        for k in keys:
            lv, sp = _flatten(tree[k])
            leaves.extend(lv)
            specs.append(sp)
        return leaves, (type(tree), keys, specs)
    return [tree], _LEAF


def _unflatten(leaves: Any, spec: Any) -> Any:
    it = iter(leaves)

    def build(sp: Any) -> Any:
        if sp is _LEAF:
            return next(it)
        typ, ctx, children = sp
        vals = [build(c) for c in children]
        node = _NODES.get(typ) if _NODES else None
        if node is not None:
            return node[1](vals, ctx)
        if typ is dict or (ctx is not None and issubclass(typ, dict)):
            return typ(zip(ctx, vals))
        if typ is tuple or typ is list:
            return typ(vals)
        if issubclass(typ, tuple) and hasattr(typ, "_fields"):
            return typ(*vals)
        return typ(vals)
    return build(spec)


def _num_leaves(spec: Any) -> int:
    return 1 if spec is _LEAF else sum(_num_leaves(c) for c in spec[2])


def _spec_repr(spec: Any, indent: int = 0) -> str:
    """torch's TreeSpec repr."""
    if spec is _LEAF:
        return "*"
    typ, ctx, children = spec
    if ctx is None and issubclass(typ, tuple) and hasattr(typ, "_fields"):
        typ, ctx = type("namedtuple", (), {}), typ  # (torch's: the node type namedtuple, the class its context)
    s = f"TreeSpec({typ.__name__}, {ctx}, ["
    if children:
        indent += 2
        s += _spec_repr(children[0], indent) + ("," if len(children) > 1 else "")
        s += ",".join("\n" + " " * indent + _spec_repr(c, indent) for c in children[1:])
    return s + "])"


def _spec_pprint(spec: Any) -> str:
    """torch's treespec_pprint: (*, *), [*], {'a': *}."""
    if spec is _LEAF:
        return "*"
    typ, ctx, children = spec
    inner = [_spec_pprint(c) for c in children]
    if issubclass(typ, dict):
        return "{" + ", ".join(f"{k!r}: {v}" for k, v in zip(ctx, inner)) + "}"
    if issubclass(typ, list):
        return "[" + ", ".join(inner) + "]"
    return "(" + ", ".join(inner) + (",)" if len(inner) == 1 else ")")


def _broadcast_prefix(prefix: Any, tree: Any, is_leaf_prefix: Callable) -> list | None:
    """Expand `prefix` (a tree whose leaves apply to whole subtrees of `tree`) to one value per leaf of
    `tree`; None when the structures do not match."""
    if is_leaf_prefix(prefix):
        return [prefix] * len(_flatten(tree)[0])
    if isinstance(prefix, (tuple, list)) and isinstance(tree, (tuple, list)) and \
            type(prefix) is type(tree) and len(prefix) == len(tree):
        out: list = []
        for p, t in zip(prefix, tree):
            r = _broadcast_prefix(p, t, is_leaf_prefix)
            if r is None:
                return None
            out.extend(r)
        return out
    if isinstance(prefix, dict) and isinstance(tree, dict) and set(prefix) == set(tree):
        out = []
        for k in tree:
            r = _broadcast_prefix(prefix[k], tree[k], is_leaf_prefix)
            if r is None:
                return None
            out.extend(r)
        return out
    return None


# -- shared set-up -------------------------------------------------------------------------------------------
def _check_argnums(argnums: Any, n: int) -> tuple:
    """Normalised argnums as a tuple (torch's errors)."""
    def one(a: Any) -> int:
        if not isinstance(a, int) or isinstance(a, bool):
            raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(a)}")
        if not -n <= a < n:
            raise RuntimeError(f"Got argnum={a}, but only {n} positional inputs")
        return a % n
    if isinstance(argnums, int) and not isinstance(argnums, bool):
        return (one(argnums),)
    if not isinstance(argnums, tuple):
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    if len(argnums) == 0:
        raise RuntimeError("argnums must be non-empty")
    res = tuple(one(a) for a in argnums)
    if len(set(res)) != len(res):
        raise RuntimeError(f"argnums elements must be unique, got {argnums}")
    return res


def _prepare(x: Any) -> Tensor:
    """A fresh differentiable stand-in for an input (connected to it when it already requires grad)."""
    if not isinstance(x, Tensor):
        raise ValueError(f"Thing passed to transform API must be Tensor, got {type(x)}")
    if x.requires_grad:
        return x.view_as(x)
    return x.detach().requires_grad_()


def _keep_graph(leaves: list, outer: bool) -> bool:
    """Whether results must keep the graph: inside another transform, or when an input requires grad."""
    return outer or any(isinstance(t, Tensor) and t.requires_grad for t in leaves)


def _detach_tree(tree: Any, keep: bool) -> Any:
    if keep:
        return tree
    leaves, spec = _flatten(tree)
    return _unflatten([t.detach() if isinstance(t, Tensor) else t for t in leaves], spec)


def _grads(outs: list, ins: list, gouts: Any, keep: bool, retain: bool = True) -> list:
    """autograd.grad with zeros for unused inputs (and for outputs that do not require grad)."""
    from ..autograd import grad as _grad
    from .._creation import zeros_like
    pairs = [(o, g) for o, g in zip(outs, gouts) if o.requires_grad]
    if not pairs:
        return [zeros_like(x) for x in ins]
    res = _grad(tuple(o for o, _ in pairs), tuple(ins), tuple(g for _, g in pairs), retain_graph=retain,
                create_graph=keep, allow_unused=True)
    return [zeros_like(x) if g is None else g for g, x in zip(res, ins)]


def _diff_args(args: tuple, argnums: Any) -> tuple:
    """(new args with stand-ins, flat stand-ins, spec of the differentiated part, whether argnums is int,
    the original leaves)."""
    nums = _check_argnums(argnums, len(args))
    part = args[nums[0]] if isinstance(argnums, int) else tuple(args[i] for i in nums)
    leaves, spec = _flatten(part)
    new = [_prepare(t) for t in leaves]
    new_part = _unflatten(new, spec)
    args = list(args)
    if isinstance(argnums, int):
        args[nums[0]] = new_part
    else:
        for i, p in zip(nums, new_part):
            args[i] = p
    return tuple(args), new, spec, leaves


def _split_aux(out: Any, has_aux: bool, api: str) -> tuple:
    """(output, aux) of func's result: aux is None unless `has_aux`, when the result must be such a pair."""
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(f"{api}: output of function f should be a tuple: (output, aux) if has_aux is True")
    return out


def _call_diff(func: Callable, args: tuple, kwargs: dict, argnums: Any, has_aux: bool, outer: bool,
               api: str) -> tuple:
    """Run `func` on stand-ins for its `argnums` inputs (inside a transform level): (output, aux, flat
    stand-ins, their spec, whether results keep the graph)."""
    new_args, ins, spec, orig = _diff_args(args, argnums)
    keep = _keep_graph(orig, outer)
    out, aux = _split_aux(func(*new_args, **kwargs), has_aux, api)
    return out, aux, ins, spec, keep


# -- grad, grad_and_value -------------------------------------------------------------------------------------
def grad_and_value(func: Callable, argnums: Any = 0, has_aux: bool = False) -> Callable:
    """Function returning (gradient w.r.t. argnums, value). Mirrors `torch.func.grad_and_value`."""
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from ..autograd.grad_mode import enable_grad
        outer = _depth() > 0
        with enable_grad(), _Level():
            out, aux, ins, spec, keep = _call_diff(func, args, kwargs, argnums, has_aux, outer,
                                                   "grad_and_value(f)(*args)")
            if not isinstance(out, Tensor):
                raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a Tensor, got {type(out)}")
            if out.dim() != 0:
                raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got "
                                   f"tensor with {out.dim()} dims. Maybe you wanted to use the vjp or jacrev APIs "
                                   "instead?")
            if out.dtype.is_complex:
                raise RuntimeError(f"grad can be implicitly created only for real scalar outputs but got {out.dtype}")
            gs = _grads([out], ins, [None], keep, retain=keep)
        g = _detach_tree(_unflatten(gs, spec), keep)
        value = _detach_tree(out, keep)
        if has_aux:
            return g, (value, _detach_tree(aux, keep))
        return g, value
    return wrapper


def grad(func: Callable, argnums: Any = 0, has_aux: bool = False) -> Callable:
    """Function returning the gradient of a scalar function. Mirrors `torch.func.grad`."""
    gv = grad_and_value(func, argnums, has_aux)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g, value = gv(*args, **kwargs)
        if has_aux:
            return g, value[1]
        return g
    return wrapper


# -- vjp, jvp ------------------------------------------------------------------------------------------------
def _check_outputs(out: Any, api: str) -> tuple[list, Any]:
    leaves, spec = _flatten(out)
    for t in leaves:
        if not isinstance(t, Tensor):
            raise RuntimeError(f"{api}: expected f(*primals) to return only tensors, got unsupported type {type(t)}")
    return leaves, spec


def vjp(func: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """(func(*primals), vjp_fn[, aux]); vjp_fn(cotangents) gives one gradient per primal. Mirrors
    `torch.func.vjp`."""
    from ..autograd.grad_mode import enable_grad
    outer = _depth() > 0
    with enable_grad(), _Level():
        leaves, spec = _flatten(primals)
        ins = [_prepare(t) for t in leaves]
        keep = _keep_graph(leaves, outer)
        out, aux = _split_aux(func(*_unflatten(ins, spec)), has_aux, "vjp(f, *primals)")
        if has_aux:
            for t in _flatten(aux)[0]:
                if not isinstance(t, Tensor):
                    raise RuntimeError(f"Expected tensors, got unsupported type {type(t)}")
        outs, out_spec = _check_outputs(out, "vjp(f, *primals)")

    def vjp_fn(cotangents: Any) -> tuple:
        cots, cspec = _flatten(cotangents)
        if cspec != out_spec:
            raise RuntimeError("Expected pytree structure of cotangents to be the same as pytree structure of "
                               f"outputs to the function. cotangents: {_spec_pprint(cspec)}, primal output: "
                               f"{_spec_pprint(out_spec)}")
        from ..autograd import _make_grads
        for i, (o, c) in enumerate(zip(outs, cots)):
            if isinstance(c, Tensor) and (o.dtype.is_complex or c.dtype.is_complex) and o.dtype != c.dtype:
                raise RuntimeError("For complex Tensors, both grad_output and output are required to have the same "
                                   f"dtype. Mismatch in dtype: grad_output[{i}] has a dtype of {c.dtype} and "
                                   f"output[{i}] has a dtype of {o.dtype}")
        gouts = _make_grads(tuple(outs), tuple(cots))
        with enable_grad(), _Level():
            gs = _grads(outs, ins, gouts, keep or any(c.requires_grad for c in cots))
        return _detach_tree(_unflatten(gs, spec), keep or any(c.requires_grad for c in cots))

    res = (_detach_tree(out, keep), vjp_fn)
    if has_aux:
        return res + (_detach_tree(aux, keep),)
    return res


def jvp(func: Callable, primals: Any, tangents: Any, *, strict: bool = False, has_aux: bool = False) -> tuple:
    """(func(*primals), J·tangents[, aux]) by the double-backward trick. Mirrors `torch.func.jvp`."""
    from ..autograd.grad_mode import enable_grad
    from .._creation import zeros_like
    api = "jvp(f, primals, tangents)"
    if not isinstance(primals, tuple):
        raise RuntimeError(f"{api}: Expected primals to be a tuple. E.g. it should be valid to call f(*primals).")
    leaves, spec = _flatten(primals)
    tleaves, tspec = _flatten(tangents)
    if spec != tspec:
        raise RuntimeError(f"{api}: Expected primals and tangents to have the same python structure. For example, "
                           f"if primals is a tuple of 3 tensors, tangents also must be. Got primals with structure "
                           f"{_spec_repr(spec)} and tangents with structure {_spec_repr(tspec)}")
    for t in leaves:
        if not isinstance(t, Tensor):
            raise RuntimeError(f"{api}: Expected primals to only contain Tensors, got {type(t)}")
    for t, p in zip(tleaves, leaves):
        if not isinstance(t, Tensor):
            raise RuntimeError(f"{api}: Expected tangents to only contain Tensors, got {type(t)}")
        if tuple(t.shape) != tuple(p.shape):
            raise RuntimeError("Trying to set a forward gradient that has a different size than that of the original "
                               f"Tensor, this is not supported. Tensor is of size {list(p.shape)} while the given "
                               f"forward gradient is of size {list(t.shape)}.")
    outer = _depth() > 0
    with enable_grad(), _Level():
        ins = [_prepare(t) for t in leaves]
        keep = _keep_graph(leaves, outer) or any(t.requires_grad for t in tleaves)
        out, aux = _split_aux(func(*_unflatten(ins, spec)), has_aux, api)
        outs, out_spec = _check_outputs(out, api)
        us = [zeros_like(o, requires_grad=True) for o in outs]
        gi = _grads(outs, ins, us, True)
        live = [(g, t) for g, t in zip(gi, tleaves) if g.requires_grad]
        if live:
            res = _grads([g for g, _ in live], us, [t.to(g.dtype) for g, t in live], keep)
        else:
            res = [zeros_like(o) for o in outs]
    res = _unflatten([r.detach() if not keep else r for r in res], out_spec)
    r = (_detach_tree(out, keep), res)
    if has_aux:
        return r + (_detach_tree(aux, keep),)
    return r


# -- jacobians -----------------------------------------------------------------------------------------------
def _error_if_complex(api: str, tree: Any, what: str) -> None:
    """torch's jacrev/jacfwd refuse complex inputs (all of them, not only the differentiated ones) and outputs."""
    for i, t in enumerate(_flatten(tree)[0]):
        if isinstance(t, Tensor) and t.dtype.is_complex:
            raise RuntimeError(f"{api}: Expected all {what}s to be real but received complex tensor at flattened "
                               f"input idx: {i}")


def _check_jacfwd_primals(args: tuple, argnums: Any) -> None:
    """jacfwd's checks of the differentiated inputs, in torch's order: each must have a size (torch reads
    numel() of every one), then be of a floating point or complex dtype (forward mode's check)."""
    from .._argcheck import attribute_error
    nums = _check_argnums(argnums, len(args))
    part = args[nums[0]] if isinstance(argnums, int) else tuple(args[i] for i in nums)
    leaves = _flatten(part)[0]
    for t in leaves:
        if not isinstance(t, Tensor):
            raise attribute_error(t, "numel")
    for t in leaves:
        if not (t.dtype.is_floating_point or t.dtype.is_complex):
            raise ValueError(f"Expected primal to be floating point or complex, but got: {t.dtype}")


def _jacobian(func: Callable, argnums: Any, has_aux: bool, chunk_size: int | None, api: str,
              randomness: str = "different") -> Callable:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from ..autograd.grad_mode import enable_grad
        from ..autograd.functional import _identity_blocks
        from ..autograd import grad as _grad
        from .._creation import zeros, VMAP_RANDOMNESS
        nums = tuple(range(len(args))) if argnums is None and api == "jacfwd" else argnums  # jacfwd: None is all
        _error_if_complex(api, args, "input")
        if api == "jacfwd":
            _check_jacfwd_primals(args, nums)
        outer = _depth() > 0
        with enable_grad(), _Level():
            # jacfwd runs f under torch's vmap: random ops obey its `randomness` ('error' refuses them)
            if randomness == "error":
                VMAP_RANDOMNESS.append(randomness)
            try:
                out, aux, ins, spec, keep = _call_diff(func, args, kwargs, nums, has_aux, outer,
                                                       "vjp(f, *primals)")
            finally:
                if randomness == "error":
                    VMAP_RANDOMNESS.pop()
            outs, out_spec = _check_outputs(out, "vjp(f, *primals)")
            _error_if_complex(api, out, "output")
            live = [k for k, o in enumerate(outs) if o.requires_grad]
            rows: list = [[None] * len(ins) for _ in outs]  # per output leaf, per input leaf: (n_out, *in.shape)
            if len(live) == 1 and outs[live[0]].numel() == 1:  # one row: an ordinary backward pass
                from .._creation import ones_like
                k = live[0]
                res = _grad((outs[k],), tuple(ins), (ones_like(outs[k]),), retain_graph=True, create_graph=keep,
                            allow_unused=True)
                rows[k] = list(res)
            elif live:
                blocks, sizes = _identity_blocks(tuple(outs[k] for k in live), lambda r: r._data.dtype)
                total = sum(sizes)
                step = total if chunk_size is None or chunk_size >= total else chunk_size
                pieces: list = [[] for _ in ins]
                for s in range(0, total, max(step, 1)):
                    gout = tuple(b[s:s + step] for b in blocks)
                    if total == 1:
                        res = _grad(tuple(outs[k] for k in live), tuple(ins),
                                    tuple(g[0].reshape(tuple(outs[k].shape)) for g, k in zip(gout, live)),
                                    retain_graph=True, create_graph=keep, allow_unused=True)
                        res = tuple(None if r is None else r.unsqueeze(0) for r in res)
                    else:
                        res = _grad(tuple(outs[k] for k in live), tuple(ins), gout, retain_graph=True,
                                    create_graph=keep, allow_unused=True, is_grads_batched=True)
                    for j, r in enumerate(res):
                        pieces[j].append(r)
                from .._ops import cat
                off = 0
                for k, n in zip(live, sizes):
                    for j, x in enumerate(ins):
                        if all(p is None for p in pieces[j]):
                            continue
                        full = pieces[j][0] if len(pieces[j]) == 1 else cat(
                            [zeros((min(step, total - s),) + tuple(x.shape), dtype=x.dtype) if p is None else p
                             for p, s in zip(pieces[j], range(0, total, step))], 0)
                        rows[k][j] = full if n == total else full[off:off + n]
                    off += n
            jac_leaves = []
            for k, o in enumerate(outs):
                per_in = []
                for j, x in enumerate(ins):
                    shape = tuple(o.shape) + tuple(x.shape)
                    r = rows[k][j]
                    if r is None:
                        per_in.append(zeros(shape, dtype=x.dtype))
                    else:
                        per_in.append(r.reshape(shape))
                jac_leaves.append(_unflatten(per_in, spec))
        jac = _detach_tree(_unflatten(jac_leaves, out_spec), keep)
        if has_aux:
            return jac, _detach_tree(aux, keep)
        return jac
    return wrapper


def jacrev(func: Callable, argnums: Any = 0, *, has_aux: bool = False, chunk_size: int | None = None,
           _preallocate_and_copy: bool = False) -> Callable:
    """Jacobian by reverse mode, every row in one batched backward pass. Mirrors `torch.func.jacrev`."""
    if not (chunk_size is None or chunk_size > 0):
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")
    return _jacobian(func, argnums, has_aux, chunk_size, "jacrev")


def _check_randomness(randomness: str) -> None:
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. Got {randomness}")


def jacfwd(func: Callable, argnums: Any = 0, has_aux: bool = False, *, randomness: str = "error") -> Callable:
    """Jacobian of func (same numbers and structure as torch's forward-mode jacfwd, computed by the batched
    reverse pass). Mirrors `torch.func.jacfwd`."""
    _check_randomness(randomness)
    return _jacobian(func, argnums, has_aux, None, "jacfwd", randomness)


def hessian(func: Callable, argnums: Any = 0) -> Callable:
    """Hessian: the Jacobian of the Jacobian. Mirrors `torch.func.hessian`."""
    return jacfwd(jacrev(func, argnums), argnums)


# -- vmap ----------------------------------------------------------------------------------------------------
def _fname(func: Callable) -> str:
    return getattr(func, "__name__", repr(func))


def vmap(func: Callable, in_dims: Any = 0, out_dims: Any = 0, randomness: str = "error", *,
         chunk_size: int | None = None) -> Callable:
    """Map func over a dimension of its inputs (one call per batch element, results stacked). Mirrors
    `torch.func.vmap`."""
    _check_randomness(randomness)
    if not (chunk_size is None or chunk_size > 0):   # torch's test (a string fails it with a TypeError)
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")
    cache: dict = {}  # guard key -> the batched program, generated (func/_batching.py)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from .._ops import stack
        name = _fname(func)
        head = f"vmap({name}, in_dims={in_dims}, ...)(<inputs>)"
        if not args:
            raise ValueError(f"vmap({name})(<inputs>): got no inputs. Maybe you forgot to add inputs, or you are "
                             "trying to vmap over a function with no inputs. The latter is unsupported.")
        if not (isinstance(in_dims, tuple) or (isinstance(in_dims, int) and not isinstance(in_dims, bool))):
            raise ValueError(f"{head}: expected `in_dims` to be int or a (potentially nested) tuple matching the "
                             f"structure of inputs, got: {type(in_dims)}.")
        leaves, spec = _flatten(args)
        dims = _broadcast_prefix(in_dims, args, lambda p: p is None or not isinstance(p, (tuple, list, dict)))
        if dims is None:
            raise ValueError(f"{head}: in_dims is not compatible with the structure of `inputs`. in_dims has structure "
                             f"{_spec_repr(_flatten(in_dims)[1])} but inputs has structure {_spec_repr(spec)}.")
        sizes = []
        for x, d in zip(leaves, dims):
            if d is None:
                continue
            if not isinstance(d, int) or isinstance(d, bool):
                raise ValueError(f"{head}: Got in_dim={d} for an input but in_dim must be either an integer dimension "
                                 "or None.")
            if not isinstance(x, Tensor):
                raise ValueError(f"{head}: Got in_dim={d} for an input but the input is of type {type(x)}. We cannot "
                                 "vmap over non-Tensor arguments, please use None as the respective in_dim")
            nd = x.dim()
            if not -nd <= d < nd:
                raise ValueError(f"{head}: Got in_dim={d} for some input, but that input is a Tensor of dimensionality "
                                 f"{nd} so expected in_dim to satisfy -{nd} <= in_dim < {nd}.")
            sizes.append(x.shape[d])
        if not sizes:
            raise ValueError("vmap: Expected at least one Tensor to vmap over")
        if len(set(sizes)) > 1:
            raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped dimension, got sizes "
                             f"{sizes} for the mapped dimension")
        n = sizes[0]
        if n == 0 and chunk_size is not None:  # torch splits the batch into chunks first: no chunk, no result
            raise AssertionError("arg_spec must not be None")
        if chunk_size is not None and not isinstance(chunk_size, int):   # torch splits the batch by it
            raise TypeError(f"can't multiply sequence by non-int of type '{type(chunk_size).__name__}'")
        from . import _batching
        fast = _batching.run(func, kwargs, leaves, dims, spec, n, randomness, _unflatten, _flatten, cache)
        if fast is not None:
            return _batched_outputs(fast, out_dims, n, name)
        results = []
        from .. import _creation as C
        # randomness: 'error' refuses random ops, 'same' replays the default generator's state
        # for every element, 'different' lets each element draw anew
        start = C.default_generator._state() if randomness == "same" else None
        C.VMAP_RANDOMNESS.append(randomness)
        try:
            for b in range(n):
                if start is not None:
                    C.default_generator._restore(start)
                sl = [x if d is None else x.select(d, b) for x, d in zip(leaves, dims)]
                results.append(func(*_unflatten(sl, spec), **kwargs))
        finally:
            C.VMAP_RANDOMNESS.pop()
        flat = [_flatten(r) for r in results]
        out_spec = flat[0][1]
        per_leaf = list(zip(*[f[0] for f in flat])) if flat[0][0] else []
        odims = _broadcast_prefix(out_dims, results[0], lambda p: p is None or isinstance(p, int))
        if odims is None:
            raise ValueError(f"vmap({name}, ..., out_dims={out_dims})(<inputs>): out_dims is not compatible with the "
                             f"structure of `outputs`. out_dims has structure {_spec_repr(_flatten(out_dims)[1])} but "
                             f"outputs has structure {_spec_repr(out_spec)}.")
        outs = []
        for vals, od in zip(per_leaf, odims):
            if od is None:
                v0 = vals[0]
                if isinstance(v0, Tensor) and any(
                        not isinstance(v, Tensor) or v.shape != v0.shape or not np.array_equal(v._data, v0._data)
                        for v in vals[1:]):
                    raise ValueError(f"vmap({name}, ...): `{name}` can not return a BatchedTensor when out_dim is None")
                outs.append(v0)
                continue
            for v in vals:
                if not isinstance(v, Tensor):
                    raise ValueError(f"vmap({name}, ...): `{name}` must only return Tensors, got type {type(v)}. Did "
                                     "you mean to set out_dims= to None for output?")
            outs.append(stack(list(vals), od))
        return _unflatten(outs, out_spec)
    return wrapper


def _batched_outputs(fast: tuple, out_dims: Any, n: int, name: str) -> Any:
    """vmap's outputs from the batched replay: each (array, batched) moved to its out_dim."""
    from .._tensor import _wrap
    pairs, out_spec = fast
    probe = _unflatten([None] * len(pairs), out_spec)
    odims = _broadcast_prefix(out_dims, probe, lambda p: p is None or isinstance(p, int))
    if odims is None:
        raise ValueError(f"vmap({name}, ..., out_dims={out_dims})(<inputs>): out_dims is not compatible with the "
                         f"structure of `outputs`. out_dims has structure {_spec_repr(_flatten(out_dims)[1])} but "
                         f"outputs has structure {_spec_repr(out_spec)}.")
    outs = []
    for (arr, batched), od in zip(pairs, odims):
        if od is None:
            if batched:
                raise ValueError(f"vmap({name}, ...): `{name}` can not return a BatchedTensor when out_dim is None")
            outs.append(_wrap(np.array(arr)))
            continue
        if not batched:  # the same value for every element: stacked, as the loop stacks it
            arr = np.broadcast_to(arr, (n,) + arr.shape)
        nd = arr.ndim
        if not -nd <= od < nd:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}], but got {od})")
        r = np.moveaxis(arr, 0, od) if od else arr  # a view where torch's is one (the batch dim moved, a transpose)
        outs.append(_wrap(r if r.flags.writeable else np.array(r)))
    return _unflatten(outs, out_spec)


def stack_module_state(models: Any) -> tuple:
    """Mirrors `torch.func.stack_module_state`: the parameters and buffers of same-class modules stacked along a new
    first dimension (new leaves; parameters require grad where the originals did), for an ensemble under vmap."""
    from .._ops import stack
    from .._argcheck import attribute_error
    models = list(models)
    for m in models:   # torch reads each model's `training` first
        if not hasattr(m, "training"):
            raise attribute_error(m, "training")
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or all(not m.training for m in models)):
        raise RuntimeError("stack_module_state: Expected all models to have the same training/eval mode.")
    if any(type(m) is not type(models[0]) for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")
    names = [n for n, _ in models[0].named_parameters()]
    params = {}
    for n in names:
        ps = [dict(m.named_parameters())[n] for m in models]
        t = stack([p.detach() for p in ps])
        params[n] = t.requires_grad_(any(p.requires_grad for p in ps))
    buffers = {n: stack([dict(m.named_buffers())[n] for m in models]) for n, _ in models[0].named_buffers()}
    return params, buffers


# -- functional_call -------------------------------------------------------------------------------------------
def functional_call(module: Any, parameter_and_buffer_dicts: Any, args: Any = None, kwargs: Any = None, *,
                    tie_weights: bool = True, strict: bool = False) -> Any:
    """Call `module` with some parameters and buffers replaced for the call. Mirrors
    `torch.func.functional_call`."""
    if isinstance(parameter_and_buffer_dicts, dict):
        values = dict(parameter_and_buffer_dicts)
    elif isinstance(parameter_and_buffer_dicts, (list, tuple)) and \
            all(isinstance(d, dict) for d in parameter_and_buffer_dicts):
        seen: dict = {}
        dup = []
        for d in parameter_and_buffer_dicts:
            for k in d:
                if k in seen and k not in dup:
                    dup.append(k)
                seen[k] = d[k]
        if dup:
            raise ValueError(f"{dup} appeared in multiple dictionaries; behavior of functional call is ambiguous")
        values = seen
    else:
        raise ValueError("Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of dicts, but got "
                         f"{type(parameter_and_buffer_dicts)}")
    if not hasattr(module, "named_parameters"):   # torch reads it first
        from .._argcheck import attribute_error
        raise attribute_error(module, "named_parameters")
    if strict:
        names = [n for n, _ in module.named_parameters(remove_duplicate=False)] + \
                [n for n, _ in module.named_buffers(remove_duplicate=False)]
        missing = [n for n in names if n not in values]
        unexpected = [k for k in values if k not in names]
        if missing or unexpected:
            msg = f"Error(s) in reparametrizing for {type(module).__name__}:"
            if unexpected:
                msg += "\n\tUnexpected key(s): " + ", ".join(repr(k) for k in unexpected) + "."
            if missing:
                msg += "\n\tMissing key(s): " + ", ".join(repr(k) for k in missing) + "."
            raise RuntimeError(msg)
    if tie_weights:
        values = _tie(module, values)
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    saved = []
    try:
        for key, value in values.items():
            saved.append(_swap(module, key, value))
        return module(*args, **({} if kwargs is None else kwargs))
    finally:
        for sub, name, where, old in reversed(saved):
            if where == "attr_new":
                try:
                    delattr(sub, name)
                except AttributeError:
                    pass
            elif where == "attr":
                object.__setattr__(sub, name, old)
            elif where == "attr_class":
                object.__delattr__(sub, name)
            else:
                getattr(sub, where)[name] = old


def _tie(module: Any, values: dict) -> dict:
    """Parameters shared under several names get the value given for any one of them."""
    try:
        by_id: dict = {}
        for n, p in list(module.named_parameters(remove_duplicate=False)) + \
                list(module.named_buffers(remove_duplicate=False)):
            by_id.setdefault(id(p), []).append(n)
    except (AttributeError, TypeError):
        return values
    values = dict(values)
    for names in by_id.values():
        given = [n for n in names if n in values]
        if given:
            for n in names:
                values.setdefault(n, values[given[0]])
    return values


def _swap(module: Any, key: str, value: Any) -> tuple:
    *path, name = key.split(".")
    sub = module
    for p in path:
        sub = getattr(sub, p)
    d = getattr(sub, "__dict__", {})
    for where in ("_parameters", "_buffers"):
        table = d.get(where)
        if table is not None and name in table:
            old = table[name]
            table[name] = value
            return sub, name, where, old
    if name in d:
        old = d[name]
        object.__setattr__(sub, name, value)
        return sub, name, "attr", old
    if hasattr(sub, name):
        object.__setattr__(sub, name, value)
        return sub, name, "attr_class", None
    object.__setattr__(sub, name, value)
    return sub, name, "attr_new", None
