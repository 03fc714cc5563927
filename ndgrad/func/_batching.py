"""vmap that batches: trace one element, then run the traced NumPy calls once on the whole batch.

`vmap(f)` first runs `f` on the batch's first element under the tracer of `ndgrad.compile` (`_compile.py`):
every NumPy call that ndgrad makes is recorded, the op table's forward formulas and, when `f` takes a
gradient (`grad`, `vjp`, `jacrev`...), the derivative formulas as the engine runs them. The recorded program
is then run once on the whole batch, each call rewritten by a batching rule: the batch dimension is kept in
front, so elementwise calls only align ranks, reductions and shape-taking calls shift their axes, views
prepend the batch dimension to their shape, products become batched products. A call without a rule runs once
per element (its results stacked) with a one-time performance warning naming it, as torch does.

Where the program cannot be replayed (the tracer's breaks, a write of batched values into an array from
outside, or inputs that require grad under grad mode, whose graph vmap must keep), vmap runs `f` once per
element instead: the same semantics, at loop speed. A Python value taken from a batched value
(`if x.sum() > 0`, `.item()`) raises torch's vmap error.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import _compile as C
from .._warn import warn as _warn

DATA_DEPENDENT = ("vmap: It looks like you're attempting to use a Tensor in some data-dependent control flow. We "
                  "don't support that yet, please file an issue at https://github.com/pytorch/pytorch/issues .")
ITEM = ("vmap: It looks like you're calling .item() on a Tensor. We don't support vmap over calling .item() on a "
        "Tensor, please try to rewrite what you're doing with other operations. If error is occurring somewhere "
        "inside PyTorch internals, please file a bug report.")
INPLACE = "output with shape {} doesn't match the broadcast shape {}"
_WARNED: set = set()


class Unbatchable(Exception):
    """The batched replay cannot go on: vmap falls back to one call per element."""


# -- tracing one element ----------------------------------------------------------------------------------------------
def trace(func: Any, args: tuple, kwargs: dict, leaves: list, dims: list, spec: Any, unflatten: Any,
          flatten: Any) -> Any:
    """Run func on element 0 under the tracer. Returns (tracer, input names, output leaves, output spec) or None."""
    from .._tensor import Tensor, _wrap
    if C._TRACER is not None:
        return None  # inside another trace (nested vmap, or a compiled region): the loop is recorded instead
    tr = C._Tracer()
    tr.batching = True
    names: list = []
    sample = []
    swapped = []
    for x, d in zip(leaves, dims):
        if not isinstance(x, Tensor):
            sample.append(x)
            names.append(None)
            continue
        if d is None:  # copies: a write inside f happens once, in the replay
            tv = tr.var(x._data.copy(), "a")
            names.append(tr.ids[id(tv)])
            t = _wrap(tv)
        else:
            batch_first = np.moveaxis(x._data, d, 0)
            # (an empty batch: a stand-in element of zeros shows what the function does with one)
            elem = np.array(batch_first[0]) if len(batch_first) else np.zeros(batch_first.shape[1:], x._data.dtype)
            tv = tr.var(elem, "a")
            names.append(tr.ids[id(tv)])
            t = _wrap(tv)
        sample.append(t)
        swapped.append(t)
    patches = C._Patches()
    C._TRACER = tr
    patches.install()
    try:
        out = func(*unflatten(sample, spec), **kwargs)
        out_leaves, out_spec = flatten(out)
    except C._Break:
        return None
    finally:
        C._TRACER = None
        patches.remove()
    return tr, names, out_leaves, out_spec


# -- the batched replay ---------------------------------------------------------------------------------------------
class _Env:
    def __init__(self, n: int, randomness: str, inputs: set) -> None:
        self.n = n
        self.randomness = randomness
        self.vals: dict = {}       # var name -> array (batch first when batched) or value
        self.batched: set = set()  # names of batched vars
        self.inputs = inputs       # names of input vars (never promoted in place)
        self.viewed: set = set()   # vars some later view was taken from
        self.view_src: dict = {}   # unbatched var that is a view -> (fn, args, kwargs, the var it views), in order
        self.detached: set = set()  # batched results of the per-element loop where each element was a view
        self.last_detached = False
        self.subst: dict = {}      # while the replay is traced: NumPy's conversions and creations -> the recording ones


def _get(env: _Env, x: Any) -> Any:
    """A template with each var replaced by its value (batched values as they are, batch first)."""
    if isinstance(x, C._Var):
        return env.vals[x.name]
    if isinstance(x, C._Const):
        return env.consts[x.name]  # type: ignore[attr-defined]
    t = type(x)
    if t is tuple or t is list:
        return t(_get(env, v) for v in x)
    if t is dict:
        return {k: _get(env, v) for k, v in x.items()}
    if t is slice:
        return slice(_get(env, x.start), _get(env, x.stop), _get(env, x.step))
    return x


def _is_b(env: _Env, x: Any) -> bool:
    return isinstance(x, C._Var) and x.name in env.batched


def _any_b(env: _Env, x: Any) -> bool:
    if isinstance(x, C._Var):
        return x.name in env.batched
    t = type(x)
    if t is tuple or t is list:
        return any(_any_b(env, v) for v in x)
    if t is dict:
        return any(_any_b(env, v) for v in x.values())
    if t is slice:
        return _any_b(env, (x.start, x.stop, x.step))
    return False


def _element(env: _Env, x: Any, b: int) -> Any:
    """Element b of a template's values (unbatched values as they are)."""
    if isinstance(x, C._Var):
        v = env.vals[x.name]
        return v[b, ...] if x.name in env.batched else v  # (a 0-d view, not a NumPy scalar: writable, as eager's)
    t = type(x)
    if t is tuple or t is list:
        return t(_element(env, v, b) for v in x)
    if t is dict:
        return {k: _element(env, v, b) for k, v in x.items()}
    if t is slice:
        return slice(_element(env, x.start, b), _element(env, x.stop, b), _element(env, x.step, b))
    return _get(env, x)


def _fn_name(fn: Any) -> str:
    if isinstance(fn, C._Method):
        return "ndarray." + fn.name
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, np.ufunc):
        return f"{owner.__name__}.{fn.__name__}"
    return getattr(fn, "__name__", type(fn).__name__)


def _loop(env: _Env, fn: Any, a: tuple, k: dict) -> Any:
    """The fallback: the call once per element, results stacked (a one-time warning names it)."""
    name = _fn_name(fn)
    if name not in _WARNED:
        _WARNED.add(name)
        _warn(f"There is a performance drop because we have not yet implemented the batching rule for "
              f"{name}. Please file us an issue on GitHub so that we can prioritize its implementation.",
              UserWarning, stacklevel=4)
    call = env.subst.get(fn, fn)
    res = [call(*_element(env, a, b), **_element(env, k, b)) for b in range(env.n)]
    r0 = res[0]
    base0 = _element(env, a[0], 0) if a else None
    if isinstance(base0, np.ndarray) and any(isinstance(r, np.ndarray) and np.may_share_memory(r, base0)
                                             for r in (r0 if isinstance(r0, (tuple, list)) else (r0,))):
        env.last_detached = True  # (_step marks the stacked result's name)
    else:
        env.last_detached = False
    if any(np.shape(r) != np.shape(r0) if not isinstance(r, (tuple, list)) else
           [np.shape(x) for x in r] != [np.shape(x) for x in r0] for r in res[1:]):
        raise Unbatchable  # shapes that depend on each element's values: the whole function runs per element
    if isinstance(r0, tuple):
        return tuple(np.stack([np.asarray(r[i]) for r in res]) for i in range(len(r0)))
    if isinstance(r0, list):
        return [np.stack([np.asarray(r[i]) for r in res]) for i in range(len(r0))]
    return np.stack([np.asarray(r) for r in res])


def _lnd(env: _Env, x: Any) -> int:
    """Logical ndim of a template value."""
    v = _get(env, x)
    nd = np.ndim(v)
    return nd - 1 if _is_b(env, x) else nd


def _aligned(env: _Env, x: Any, rank: int) -> Any:
    """A batched value reshaped so that its logical dims broadcast like the element's: (B, 1.., *shape)."""
    v = _get(env, x)
    if not _is_b(env, x):
        return v
    lnd = v.ndim - 1
    if lnd < rank:
        v = v.reshape((v.shape[0],) + (1,) * (rank - lnd) + v.shape[1:])
    return v


def _axis(ax: Any, lnd: int) -> Any:
    """A logical axis (or tuple, or None = all) as the physical axis of a batch-first array."""
    if ax is None:
        return tuple(range(1, lnd + 1))
    if isinstance(ax, (tuple, list)):
        return tuple(_axis(a, lnd) for a in ax)
    a = int(ax)
    if a < -lnd or a >= max(lnd, 1):
        raise Unbatchable
    return a + 1 if a >= 0 else a


_REDUCING_METHODS = {"sum", "mean", "max", "min", "prod", "any", "all", "std", "var", "argmax", "argmin"}
_ELEMENTWISE_METHODS = {"astype", "copy", "conj", "conjugate", "round", "clip"}
_AXIS_FUNCS = {np.sum: "axis", np.mean: "axis", np.amax: "axis", np.amin: "axis", np.max: "axis", np.min: "axis",
               np.prod: "axis", np.any: "axis", np.all: "axis", np.std: "axis", np.var: "axis",
               np.argmax: "axis", np.argmin: "axis", np.cumsum: "axis", np.cumprod: "axis", np.flip: "axis",
               np.expand_dims: "axis", np.squeeze: "axis", np.sort: "axis", np.argsort: "axis"}
_COPIES = (np.array, np.ascontiguousarray, np.asfortranarray)  # (NumPy's own: tracing patches the names)
_ELEMENTWISE_FUNCS = {np.where, np.clip, np.copysign, np.zeros_like, np.ones_like, np.empty_like, np.full_like,
                      np.isnan, np.isinf, np.isfinite, np.real, np.imag, np.nan_to_num, np.round, np.around}


def _step(env: _Env, fn: Any, a: tuple, k: dict, outs: Any, side: bool) -> None:
    batched_in = _any_b(env, a) or _any_b(env, k)
    if fn is C._guard_shape:  # the element's data-dependent shape: the same in every element, as traced
        v = _get(env, a[0])
        if (v.shape[1:] if _is_b(env, a[0]) else v.shape) != a[1]:
            raise Unbatchable
        return
    if fn is C._guard or fn in (bool, int, float, complex, C._index, C._item, C._tolist):
        if batched_in and fn is not C._guard and outs.name in env.internal:
            # a check inside an op (torch's are in C++, invisible to vmap): fine when every element agrees
            v = _get(env, a[0]) if len(a) == 1 and not k else None
            if fn is bool and isinstance(v, np.ndarray) and v.dtype == bool and v.shape == (env.n,):
                first = bool(v[0])  # (two Python values for the whole batch, not one per element)
                if not (bool(v.all()) if first else not bool(v.any())):
                    raise Unbatchable  # the elements disagree
                _store(env, outs, first, False)
                return
            vals = [fn(*_element(env, a, b), **_element(env, k, b)) for b in range(env.n)]
            if any(not C._same(v, vals[0]) for v in vals[1:]):
                raise Unbatchable
            _store(env, outs, vals[0], False)
            return
        if batched_in:
            raise RuntimeError(DATA_DEPENDENT if fn is bool or fn is C._guard else ITEM)
        try:
            res = fn(*_get(env, a), **_get(env, k))
        except C._GuardFailed:
            raise Unbatchable from None
        if fn is C._guard:
            return
        _store(env, outs, res, False)
        return
    if getattr(fn, "__self__", None).__class__.__name__ == "Generator" and side:
        _draw(env, fn, a, k, outs)
        return
    if not batched_in:
        res = env.subst.get(fn, fn)(*_get(env, a), **_get(env, k))
        _mark_views(env, fn, a)
        if (isinstance(outs, C._Var) and isinstance(res, np.ndarray) and a and isinstance(a[0], C._Var) and
                isinstance(env.vals.get(a[0].name), np.ndarray) and np.may_share_memory(res, env.vals[a[0].name])):
            env.view_src[outs.name] = (fn, a, k, a[0].name)
        if outs is not None:
            _store(env, outs, res, False)
        return
    inplace = side or "out" in k or fn is C._set_shape or (isinstance(fn, C._Method) and fn.inplace)
    if inplace:
        _inplace(env, fn, a, k)
        return
    env.last_detached = False
    res = _batched_call(env, fn, a, k)
    _mark_views(env, fn, a)
    if env.last_detached:  # each element's result was a view, the stacked one is a copy: no write may follow
        env.detached.add(outs.name if isinstance(outs, C._Var) else None)
    _store(env, outs, res, True)


def _mark_views(env: _Env, fn: Any, a: tuple) -> None:
    if isinstance(fn, C._Method) and fn.name in ("__getitem__", "reshape", "transpose", "view", "swapaxes", "ravel",
                                                 "squeeze", "diagonal") and a and isinstance(a[0], C._Var):
        env.viewed.add(a[0].name)
    elif fn in (np.broadcast_to, np.swapaxes, np.transpose, np.moveaxis, np.reshape, np.squeeze,
                np.expand_dims) and a and isinstance(a[0], C._Var):
        env.viewed.add(a[0].name)


def _store(env: _Env, outs: Any, res: Any, batched: bool) -> None:
    if isinstance(outs, C._Var):
        env.vals[outs.name] = res
        (env.batched.add if batched else env.batched.discard)(outs.name)
    elif outs is not None:
        for o, r in zip(outs, res):
            _store(env, o, r, batched)


def _draw(env: _Env, fn: Any, a: tuple, k: dict, outs: Any) -> None:
    args, kwargs = _get(env, a), _get(env, k)
    if env.randomness == "same":
        _store(env, outs, fn(*args, **kwargs), False)
    else:  # 'different': each element draws anew, in the loop's order
        _store(env, outs, np.stack([fn(*args, **kwargs) for _ in range(env.n)]), True)


def _inplace(env: _Env, fn: Any, a: tuple, k: dict) -> None:
    """A write: into a batched target as a batched call; into an unbatched array made by the program itself,
    after making it batched; into an input that is not batched, torch's error."""
    target = k["out"][0] if "out" in k else a[0]
    if isinstance(target, tuple):
        target = target[0]
    if not isinstance(target, C._Var) or env.detached:
        raise Unbatchable  # (a copy where the element had a view: the write would not reach what it views)
    if target.name not in env.batched:
        root = target.name
        while root in env.view_src:
            root = env.view_src[root][3]
        if root in env.inputs:
            shape = list(np.shape(env.vals[target.name]))
            raise RuntimeError(INPLACE.format(shape, [env.n] + shape))
        if root in env.batched:
            raise Unbatchable
        _promote(env, root)
    if fn is C._set_shape:
        arr = env.vals[a[0].name]
        arr.shape = (env.n,) + tuple(_get(env, a[1]))
        return
    _batched_call(env, fn, a, k)


def _promote(env: _Env, root: str) -> None:
    """An unbatched array made by the program, written with batched values: made batched (each element a copy),
    and every view taken from it taken again from the batched array, in the order they were taken."""
    v = env.vals[root]
    new = np.array(np.broadcast_to(v, (env.n,) + np.shape(v)))
    env.vals[root] = new
    env.batched.add(root)
    redone = {root}
    for name, (fn, a, k, base) in list(env.view_src.items()):
        if base not in redone:
            continue
        del env.view_src[name]
        env.last_detached = False
        res = _batched_call(env, fn, a, k)
        if not (isinstance(res, np.ndarray) and np.may_share_memory(res, new)):
            raise Unbatchable  # the batched call copies where the element's made a view
        env.vals[name] = res
        env.batched.add(name)
        redone.add(name)


def _batched_call(env: _Env, fn: Any, a: tuple, k: dict) -> Any:
    n = env.n
    if fn is np.matmul:
        return _matmul(env, a, k)
    if isinstance(fn, np.ufunc):  # elementwise: align ranks (batched operands get size-1 dims after the batch)
        if fn.signature is not None:
            return _loop(env, fn, a, k)
        ops = list(a) + ([k["where"]] if "where" in k else [])
        rank = max(_lnd(env, x) for x in ops)
        args = [_aligned(env, x, rank) for x in a]
        kw = {key: (_aligned(env, v, rank) if key == "where" else _get(env, v)) for key, v in k.items()}
        if "out" in kw and not isinstance(kw["out"], tuple):
            kw["out"] = (kw["out"],)
        return fn(*args, **kw)
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, np.ufunc) and fn.__name__ in ("reduce", "accumulate"):
        if not _is_b(env, a[0]) or _any_b(env, (a[1:], {x: y for x, y in k.items() if x != "out"})):
            return _loop(env, fn, a, k)
        lnd = _lnd(env, a[0])
        kw = _get(env, k)
        args = list(_get(env, a))
        if len(args) > 1:
            args[1] = _axis(args[1], lnd)
        elif fn.__name__ == "reduce":
            kw["axis"] = _axis(kw.get("axis", 0), lnd)
        else:
            kw["axis"] = _axis(kw.get("axis", 0), lnd)
        return fn(*args, **kw)
    if isinstance(fn, C._Method):
        return _method(env, fn, a, k)
    if fn in C._AS_ARRAY or fn in _COPIES or fn in _ELEMENTWISE_FUNCS:
        if fn is np.where or fn is np.clip or fn is np.copysign:
            rank = max(_lnd(env, x) for x in a)
            return fn(*[_aligned(env, x, rank) for x in a], **_get(env, k))
        if _is_b(env, a[0]) and not _any_b(env, (a[1:], k)):
            return env.subst.get(fn, fn)(*_get(env, a), **_get(env, k))
        return _loop(env, fn, a, k)
    if fn is C._set_shape:
        raise Unbatchable
    if fn in _AXIS_FUNCS and _is_b(env, a[0]) and not _any_b(env, (a[1:], k)):
        lnd = _lnd(env, a[0]) + (1 if fn is np.expand_dims else 0)  # expand_dims' axis is of the result
        args, kw = list(_get(env, a)), _get(env, k)
        if len(args) > 1:
            args[1] = _axis(args[1], lnd)
        elif "axis" in kw:
            kw["axis"] = _axis(kw["axis"], lnd)
        elif fn in (np.cumsum, np.cumprod, np.argmax, np.argmin, np.sort, np.argsort):
            return _loop(env, fn, a, k)  # axis=None flattens the element
        elif fn is np.squeeze:
            kw["axis"] = tuple(i + 1 for i, s in enumerate(_get(env, a[0]).shape[1:]) if s == 1)
        else:
            kw["axis"] = _axis(None, lnd)
        return fn(*args, **kw)
    if fn in (np.concatenate, np.stack):
        seq = a[0]
        axis = _get(env, a[1]) if len(a) > 1 else _get(env, k.get("axis", 0))
        if axis is None or _any_b(env, (a[2:], {x: y for x, y in k.items() if x != "axis"})):
            return _loop(env, fn, a, k)
        lnd = max(_lnd(env, x) for x in seq) + (1 if fn is np.stack else 0)
        parts = [_get(env, x) if _is_b(env, x) else np.broadcast_to(_get(env, x), (n,) + np.shape(_get(env, x)))
                 for x in seq]
        return fn(parts, axis=_axis(axis, lnd))
    if fn is np.broadcast_to and _is_b(env, a[0]) and not _any_b(env, (a[1:], k)):
        shape = tuple(_get(env, a[1])) if len(a) > 1 else tuple(_get(env, k["shape"]))
        return np.broadcast_to(_aligned(env, a[0], len(shape)), (n,) + shape)
    if fn in (np.swapaxes, np.moveaxis) and _is_b(env, a[0]) and not _any_b(env, (a[1:], k)):
        lnd = _lnd(env, a[0])
        args = _get(env, a)
        return fn(args[0], _axis(args[1], lnd), _axis(args[2], lnd))
    if fn is np.transpose and _is_b(env, a[0]) and not _any_b(env, (a[1:], k)):
        lnd = _lnd(env, a[0])
        axes = _get(env, a[1]) if len(a) > 1 else _get(env, k.get("axes"))
        axes = tuple(range(lnd - 1, -1, -1)) if axes is None else tuple(axes)
        return np.transpose(_get(env, a[0]), (0,) + tuple(_axis(x, lnd) for x in axes))
    if fn is np.reshape and _is_b(env, a[0]) and not _any_b(env, (a[1:], k)) and len(a) == 2 and not k:
        shape = _get(env, a[1])
        shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
        return np.reshape(_get(env, a[0]), (n,) + shape)
    if fn is np.take_along_axis and len(a) + len(k) == 3:
        arr_t, idx_t = a[0], a[1]
        axis = _get(env, a[2]) if len(a) > 2 else _get(env, k["axis"])
        if axis is None:
            return _loop(env, fn, a, k)
        rank = max(_lnd(env, arr_t), _lnd(env, idx_t))
        av, iv = _get(env, arr_t), _get(env, idx_t)
        av = av if _is_b(env, arr_t) else np.broadcast_to(av, (n,) + np.shape(av))
        iv = iv if _is_b(env, idx_t) else np.broadcast_to(iv, (n,) + np.shape(iv))
        return np.take_along_axis(av, iv, axis=_axis(axis, rank))
    if fn is np.put_along_axis and len(a) + len(k) == 4 and _is_b(env, a[0]):
        # (an in-place call: the target is batched by now) indices and values batched or shared, axis shifted
        arr_t, idx_t, val_t = a[0], a[1], a[2]
        axis = _get(env, a[3]) if len(a) > 3 else _get(env, k["axis"])
        if axis is None or _any_b(env, axis):
            return _loop(env, fn, a, k)
        rank = _lnd(env, arr_t)
        iv = _get(env, idx_t)
        iv = iv if _is_b(env, idx_t) else iv[None]
        vv = _aligned(env, val_t, rank) if _is_b(env, val_t) else _get(env, val_t)
        return np.put_along_axis(_get(env, arr_t), iv, vv, axis=_axis(axis, rank))
    if fn is np.copyto and _is_b(env, a[0]) and not k.keys() - {"where", "casting"}:
        rank = _lnd(env, a[0])  # (in place: dst is batched by now) src and where broadcast as in the element
        kw = {key: (_aligned(env, v, rank) if key == "where" else _get(env, v)) for key, v in k.items()}
        return np.copyto(_get(env, a[0]), _aligned(env, a[1], rank), **kw)
    if fn is np.einsum:
        return _einsum(env, a, k)
    if fn is _AS_STRIDED:
        return _as_strided(env, a, k)
    if fn is np.pad and _is_b(env, a[0]) and not _any_b(env, (a[1:], k)):
        lnd = _lnd(env, a[0])
        width = np.broadcast_to(np.asarray(_get(env, a[1])), (lnd, 2))
        return np.pad(_get(env, a[0]), ((0, 0),) + tuple(map(tuple, width.tolist())), *_get(env, a[2:]),
                      **_get(env, k))
    return _loop(env, fn, a, k)


def _advanced_key(env: _Env, key_t: Any, arr_batched: bool) -> Any:
    """An element's index by integer arrays and ints alone (one array, `t[idx]`, or a tuple, as nll_loss's
    `logp[arange(n), target]`), some of them batched, for the batch: the batch positions first where the indexed
    array is batched, and each index array with a leading batch axis (1 where it is shared), its logical dims
    aligned to the others'. None for any other key, and where no index is batched."""
    if key_t.__class__ is not tuple:
        key_t = (key_t,)  # (t[idx])
    parts, rank, any_b = [], 0, False
    for x in key_t:
        v = _get(env, x)
        if isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)):
            parts.append((v, False, 0))
            continue
        b = _is_b(env, x)
        if not isinstance(v, np.ndarray) or v.dtype.kind not in "iu" or (b and v.ndim < 1):
            return None
        lnd = v.ndim - 1 if b else v.ndim
        rank = max(rank, lnd)
        any_b = any_b or b
        parts.append((v, b, lnd))
    if not any_b:
        return None
    full = [np.arange(env.n).reshape((env.n,) + (1,) * rank)] if arr_batched else []
    for v, b, lnd in parts:
        if isinstance(v, np.ndarray):
            v = v.reshape((v.shape[0],) + (1,) * (rank - lnd) + v.shape[1:]) if b else \
                v.reshape((1,) * (rank + 1 - lnd) + v.shape)
        full.append(v)
    return tuple(full)


def _method(env: _Env, fn: Any, a: tuple, k: dict) -> Any:
    name = fn.name
    if name in ("__getitem__", "__setitem__") and len(a) == (2 if name == "__getitem__" else 3) and not k:
        full = _advanced_key(env, a[1], _is_b(env, a[0]))  # (batched integer indices)
        if full is not None and (name == "__getitem__" or _is_b(env, a[0])):
            arr = _get(env, a[0])
            if name == "__getitem__":
                return arr[full]
            rank = arr[full].ndim - 1
            arr[full] = _aligned(env, a[2], rank) if _is_b(env, a[2]) else _get(env, a[2])
            return None
    if name == "__setitem__" and _is_b(env, a[0]) and len(a) == 3 and not k and not _any_b(env, a[1]):
        # t[key] = v on a batched t (an in-place call: the target is batched by now), v batched or shared
        arr = env.vals[a[0].name]
        key = _get(env, a[1])
        key = key if isinstance(key, tuple) else (key,)
        if _plain_key(key):
            full = (slice(None),) + key
            rank = arr[full].ndim - 1
            arr[full] = _aligned(env, a[2], rank) if _is_b(env, a[2]) else _get(env, a[2])
            return None
        return _loop(env, fn, a, k)
    if not _is_b(env, a[0]) or _any_b(env, (a[1:], k)):
        if name == "__getitem__" and _is_b(env, a[0]) is False:
            return _loop(env, fn, a, k)
        return _loop(env, fn, a, k)
    arr = env.vals[a[0].name]
    lnd = arr.ndim - 1
    args, kw = list(_get(env, a[1:])), _get(env, k)
    if name in _ELEMENTWISE_METHODS or (name == "view" and not args and not kw):
        return getattr(arr, name)(*args, **kw)
    if name == "view" and len(args) == 1 and not kw:
        t = args[0]
        if isinstance(t, type) and issubclass(t, np.ndarray):
            return arr.view(t)
        try:
            dt = np.dtype(t)
        except TypeError:
            return _loop(env, fn, a, k)
        if dt.itemsize == arr.dtype.itemsize or (lnd and arr.strides[-1] == arr.itemsize and arr.flags.c_contiguous):
            return arr.view(dt)  # (another itemsize rescales the last axis, the same in each element)
        return _loop(env, fn, a, k)
    if name == "view":
        return _loop(env, fn, a, k)
    if name == "reshape":
        shape = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else args
        shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
        return arr.reshape((env.n,) + shape, **kw)
    if name in ("ravel", "flatten"):
        return arr.reshape(env.n, -1)
    if name == "transpose":
        axes = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else args
        axes = tuple(range(lnd - 1, -1, -1)) if not axes or axes == [None] else tuple(axes)
        return arr.transpose((0,) + tuple(_axis(x, lnd) for x in axes))
    if name == "swapaxes":
        return arr.swapaxes(_axis(args[0], lnd), _axis(args[1], lnd))
    if name == "squeeze":
        ax = args[0] if args else kw.get("axis")
        if ax is None:
            ax = tuple(i for i, s in enumerate(arr.shape[1:]) if s == 1)
        return arr.squeeze(_axis(ax, lnd))
    if name == "diagonal":
        offset = args[0] if args else kw.get("offset", 0)
        a1 = args[1] if len(args) > 1 else kw.get("axis1", 0)
        a2 = args[2] if len(args) > 2 else kw.get("axis2", 1)
        return arr.diagonal(offset, _axis(a1, lnd), _axis(a2, lnd))
    if name in _REDUCING_METHODS:
        if args:
            args[0] = _axis(args[0], lnd)
        elif name in ("argmax", "argmin") and "axis" not in kw:
            return _loop(env, fn, a, k)
        else:
            kw["axis"] = _axis(kw.get("axis"), lnd)
        return getattr(arr, name)(*args, **kw)
    if name in ("cumsum", "cumprod"):
        ax = args[0] if args else kw.pop("axis", None)
        if ax is None:
            return _loop(env, fn, a, k)
        return getattr(arr, name)(_axis(ax, lnd), *args[1:], **kw)
    if name == "__getitem__":
        return _getitem(env, fn, a, k, arr, args[0])
    return _loop(env, fn, a, k)


def _plain_key(key: tuple) -> bool:
    """Whether an element's index means the same after a leading `:` for the batch: no boolean masks, advanced
    indices side by side (separated ones move their dims to the front) and no Ellipsis before them."""
    advanced = [i for i, x in enumerate(key) if isinstance(x, (np.ndarray, list))]
    if any(isinstance(x, np.ndarray) and x.dtype == bool for x in key):
        return False
    if advanced and advanced != list(range(advanced[0], advanced[-1] + 1)):
        return False
    return not (advanced and Ellipsis in key[:advanced[0]])


def _getitem(env: _Env, fn: Any, a: tuple, k: dict, arr: np.ndarray, key: Any) -> Any:
    key = key if isinstance(key, tuple) else (key,)
    if not _plain_key(key):
        return _loop(env, fn, a, k)
    return arr[(slice(None),) + key]


_AS_STRIDED = np.lib.stride_tricks.as_strided


def _as_strided(env: _Env, a: tuple, k: dict) -> Any:
    """A strided view of each element: the element's strides with the batch stride in front, provided each
    element of the batch is laid out as the traced one and the view stays inside the element's own memory
    (otherwise it would read a neighbour, where the traced element had its own slack: no rule)."""
    if not _is_b(env, a[0]) or _any_b(env, (a[1:], k)):
        raise Unbatchable
    arr = env.vals[a[0].name]
    ref_shape, ref_strides, ref_nbytes, ref_itemsize, ref_c, ref_f = env.meta[a[0].name]
    args, kw = _get(env, a), dict(_get(env, k))
    shape = args[1] if len(args) > 1 else kw.pop("shape")
    strides = args[2] if len(args) > 2 else kw.pop("strides")
    if len(args) > 3:
        raise Unbatchable
    shape, strides = tuple(shape), tuple(strides)
    inside = all(st >= 0 for st in strides) and (0 in shape or sum((n - 1) * st for n, st in zip(shape, strides))
                                                    + ref_itemsize <= ref_nbytes)
    if arr.strides[1:] != ref_strides and ref_c and kw.get("writeable", True) is False:
        arr = np.ascontiguousarray(arr)  # a read-only view may look at a copy laid out as the traced element
    if not (inside and arr.shape[1:] == ref_shape and arr.strides[1:] == ref_strides and (ref_c or ref_f)):
        raise Unbatchable
    return env.subst.get(_AS_STRIDED, _AS_STRIDED)(arr, (env.n,) + shape, (arr.strides[0],) + strides, **kw)


def _matmul(env: _Env, a: tuple, k: dict) -> Any:
    if k:
        return _loop(env, np.matmul, a, k)
    x, y = a[0], a[1]
    xb, yb = _is_b(env, x), _is_b(env, y)
    xv, yv = _get(env, x), _get(env, y)
    lx, ly = _lnd(env, x), _lnd(env, y)
    if lx == 0 or ly == 0:
        raise Unbatchable
    if xb and not yb:
        if lx == 1 or ly == 1:  # (B, k) @ (k, m) / (k,): rows of a matrix; (B, .., n, k) @ (k,) -> (B, .., n)
            return np.matmul(xv, yv)
        if ly == 2:  # (B, .., n, k) @ (k, m): one product of all the rows, as torch's batching rule makes it (and
            # F.linear of the whole batch); NumPy would take each element's (n, k) @ (k, m) apart, in another order
            return np.matmul(xv.reshape(-1, xv.shape[-1]), yv).reshape(xv.shape[:-1] + yv.shape[-1:])
        return np.matmul(_aligned(env, x, max(lx, ly)), yv)
    if yb and not xb:
        if ly == 1:  # y logical (k,), physical (B, k)
            if lx == 1:
                return np.matmul(yv, xv)  # (B, k) @ (k,) -> (B,)
            if lx == 2:
                return np.matmul(xv, yv.T).T  # (n, k) @ (k, B) -> (n, B) -> (B, n)
            return _loop(env, np.matmul, a, k)
        if lx == 1:  # (k,) @ (B, .., k, m) -> (B, .., m)
            return np.matmul(xv, yv)
        r = max(lx, ly)
        return np.matmul(xv, _aligned(env, y, r))
    # both batched
    xa = xv[:, None, :] if lx == 1 else xv
    ya = yv[:, :, None] if ly == 1 else yv
    r = max(xa.ndim, ya.ndim) - 1
    if xa.ndim - 1 < r:
        xa = xa.reshape((xa.shape[0],) + (1,) * (r - xa.ndim + 1) + xa.shape[1:])
    if ya.ndim - 1 < r:
        ya = ya.reshape((ya.shape[0],) + (1,) * (r - ya.ndim + 1) + ya.shape[1:])
    out = np.matmul(xa, ya)
    if ly == 1:
        out = out[..., 0]
    if lx == 1:
        out = out[..., 0, :] if ly != 1 else out[..., 0]
    return out


def _einsum(env: _Env, a: tuple, k: dict) -> Any:
    sub = _get(env, a[0])
    if not isinstance(sub, str) or "->" not in sub or k:
        return _loop(env, np.einsum, a, k)
    ins, out = sub.replace(" ", "").split("->")
    terms = ins.split(",")
    free = next(c for c in "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONMLKJIHGFEDCBA" if c not in sub)
    new_terms = [free + t if _is_b(env, x) else t for t, x in zip(terms, a[1:])]
    return np.einsum(",".join(new_terms) + "->" + free + out, *_get(env, a[1:]))


def replay(tr: Any, names: list, arrays: list, dims: list, n: int, randomness: str, subst: dict | None = None) -> _Env:
    """Run the traced program on the whole batch (`arrays`: each input's data, None for non-tensors)."""
    env = _Env(n, randomness, set(nm for nm in names if nm is not None))
    if subst:
        env.subst = subst
    env.consts = tr.consts  # type: ignore[attr-defined]
    env.internal = tr.internal  # type: ignore[attr-defined]
    env.meta = tr.meta  # type: ignore[attr-defined]
    for nm, x, d in zip(names, arrays, dims):
        if nm is None or x is None:
            continue
        if d is None:
            env.vals[nm] = x
        else:
            env.vals[nm] = np.moveaxis(x, d, 0)
            env.batched.add(nm)
    for _, fn, a, k, outs, side in tr.nodes:
        _step(env, fn, a, k, outs, side)
    return env


# -- the cache: the batched replay itself, traced and generated as straight-line code ----------------------------
# The replay's decisions (which rule, which axes, which reshapes) depend only on shapes, dtypes and which values are
# batched, so the replay is traced once more, with the compile tracer, and turned into one generated function over
# the inputs' arrays (compile's code generator). Later calls with the same guard key run that function: no trace
# of an element, no rule lookups. Only pure programs are cached: no writes, no random draws, no arrays read from
# outside the inputs (a captured tensor's data would be frozen into the code); Python values the function reads
# from globals, closures and attributes are guarded as compile guards them; values taken from data become guard
# lines, whose failure sends the call down the uncached path.
CACHE_LIMIT = 8


class _Cached:
    __slots__ = ("fn", "batched", "out_spec", "reads", "src")


def _spec_key(sp: Any) -> Any:
    if type(sp) is not tuple:
        return sp
    typ, ctx, children = sp
    return (typ, tuple(ctx) if ctx is not None else None, tuple(_spec_key(c) for c in children))


def _key(leaves: list, dims: list, spec: Any, kwargs: dict, randomness: str) -> Any:
    flat: list = []
    try:
        k = (tuple(C._scan(x, flat) for x in leaves), tuple(dims), _spec_key(spec),
             C._scan(kwargs, flat) if kwargs else None, randomness, C._MODE.enabled, C._ambient())
        hash(k)
    except TypeError:
        return None
    return k


def _pure(tr: Any) -> bool:
    """Whether the traced element program may be cached: no random draws, no arrays from outside the inputs (but
    the kernels' shared number constants, as relu's zero)."""
    from .._ops._registry import is_scalar_array
    for _, fn, a, k, outs, side in tr.nodes:
        if side and getattr(fn, "__self__", None).__class__.__name__ == "Generator" or fn is C._guard_shape:
            return False  # (random draws; shapes that depend on the data)
    return not any(isinstance(v, np.ndarray) and not is_scalar_array(v) for v in tr.consts.values())


def _writes_inputs(tr: Any, inputs: list) -> bool:
    """Whether the traced program may write into one of its inputs: each array's possible roots are followed
    through every call that may return a view (all but those known to make a new array)."""
    roots: dict = {n: {n} for n in inputs}

    def of(x: Any, acc: set) -> set:
        for n in C._names_in(x, set()):
            acc |= roots.get(n, set())
        return acc
    for _, fn, a, k, outs, side in tr.nodes:
        if side and fn is not C._guard:
            target = k["out"] if "out" in k else a[0] if a else None
            if of(target, set()):
                return True
        if outs is None:
            continue
        r = set() if C._new_array(fn, k) else of((a, k), set())
        for n in C._names_in(outs, set()):
            roots[n] = r
    return False


def _generate(tr: Any, names: list, arrays: list, dims: list, n: int, randomness: str, out_names: list) -> Any:
    """Replay under the compile tracer: (the outputs' values, a _Cached), or None where it cannot be generated."""
    import builtins
    tr2 = C._Tracer()
    traced: list = []
    in_names = []
    for x in arrays:
        if x is None:
            traced.append(None)
            continue
        tv = tr2.var(x, "a")
        in_names.append(tr2.ids[id(tv)])
        traced.append(tv)
    patches = C._Patches()
    C._TRACER = tr2
    patches.install()
    # the replay calls some NumPy functions it holds (the recorded ones): their recording versions instead
    subst = {old: getattr(owner, name) for owner, name, old in patches.saved
             if owner is np or owner is np.lib.stride_tricks}
    try:
        env = replay(tr, names, traced, dims, n, randomness, subst)
        outs = [np.asarray(env.vals[nm]) for nm in out_names]
        out_vars = [tr2.name_of(o) for o in outs]
        values = [C._plain_view(o, np.ndarray) if isinstance(o, C._Traced) else o for o in outs]
        batched = [nm in env.batched for nm in out_names]
    except C._Break:
        return None
    finally:
        C._TRACER = None
        patches.remove()
    if any(v is None for v in out_vars) or tr2.guards and _writes_inputs(tr2, in_names):
        return values, batched, None  # (a guard that fails after such a write could not start the call over)
    src, _, _, ns = C._generate(tr2, in_names, out_vars, [], [])
    exec(builtins.compile(src, "<ndgrad.func.vmap batched program>", "exec"), ns)
    e = _Cached()
    e.fn, e.batched, e.src = ns["forward"], batched, src
    return values, batched, e


def run(func: Any, kwargs: dict, leaves: list, dims: list, spec: Any, n: int, randomness: str, unflatten: Any,
        flatten: Any, cache: dict | None = None) -> Any:
    """The batched vmap: (output leaves as (array, batched) pairs, output spec), or None for the loop."""
    from .._creation import VMAP_RANDOMNESS, default_generator
    from .._tensor import Tensor
    from ..autograd.grad_mode import state as mode
    if mode.enabled and any(isinstance(x, Tensor) and x._requires_grad for x in leaves):
        return None  # the result must keep its graph to the inputs: the loop builds it
    key = _key(leaves, dims, spec, kwargs, randomness) if cache is not None else None
    arrays = [x._data if isinstance(x, Tensor) else None for x in leaves]
    if key is not None:
        e = cache.get(key)
        if e is not None and C._reads_hold(e.reads):
            try:
                res = e.fn(*[a for a in arrays if a is not None])
            except C._GuardFailed:
                del cache[key]
            else:
                return [(r if r.__class__ is np.ndarray else np.asarray(r), b) for r, b in zip(res, e.batched)], \
                    e.out_spec
        reads = C._reads(func)  # before the call, as compile takes them
    state = default_generator._state()
    VMAP_RANDOMNESS.append(randomness)
    try:
        traced = trace(func, (), kwargs, leaves, dims, spec, unflatten, flatten)
    finally:
        VMAP_RANDOMNESS.pop()
        default_generator._restore(state)
    if traced is None:
        return None
    tr, names, out_leaves, out_spec = traced
    if not all(isinstance(o, Tensor) and tr.name_of(o._data) is not None for o in out_leaves):
        return None
    if any(o._requires_grad for o in out_leaves):
        return None  # the outputs depend on a tensor that requires grad (captured by f): the loop keeps the graph
    out_names = [tr.name_of(o._data) for o in out_leaves]
    try:
        if key is not None and len(cache) < CACHE_LIMIT and _pure(tr):
            made = _generate(tr, names, arrays, dims, n, randomness, out_names)
            if made is not None:
                values, batched, e = made
                if e is not None:
                    e.out_spec, e.reads = out_spec, reads
                    cache[key] = e
                return [(np.asarray(v), b) for v, b in zip(values, batched)], out_spec
        env = replay(tr, names, arrays, dims, n, randomness)
    except Unbatchable:
        default_generator._restore(state)
        return None
    outs = []
    for name in out_names:
        outs.append((np.asarray(env.vals[name]), name in env.batched))
    return outs, out_spec
