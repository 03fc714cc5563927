"""`ndgrad.compile`: trace a call once, then replay it as generated straight-line NumPy code.

How it works (ARCHITECTURE.md, "compile"):
1. Tracing. The first call for a new guard key runs the function eagerly, with the data of its input tensors
   (arguments, the module's parameters and buffers, tensors the function reads from its globals and
   closure) replaced by views of class `_Traced`, an ndarray subclass. Every NumPy computation on such an
   array reports itself (`__array_ufunc__`, `__array_function__`, the ndarray methods below, and `np.asarray`
   and its relatives, which are patched while tracing), so the tracer sees exactly the NumPy calls eager
   ndgrad makes, in order, including those of the op table's forward functions. Draws from a Generator are
   recorded as calls, so a replay draws fresh numbers from the same stream. Then the backward pass is traced
   the same way: the engine runs once with placeholder output gradients, capturing the inputs' gradients.
2. Code generation. The recorded calls become two Python functions over NumPy arrays: a forward that returns
   the outputs and the values the backward needs, and a backward from those values and the output gradients
   to the inputs' gradients. They are `exec`uted once and cached; `compiled.code` shows their source.
3. Replay. Later calls whose guards hold (input shapes, dtypes, requires_grad, grad mode, the modules'
   training flags, the identity of parameters, buffers and captured tensors, the non-tensor arguments) run the
   generated forward; outputs that require grad get one node, `CompiledFunctionBackward`, which runs the
   generated backward. The same NumPy functions run in the same order as in eager mode, so results are
   bitwise identical to eager's.
4. Graph breaks. Anything the tracer cannot replay exactly (a tensor turned into a Python value: `item()`,
   `bool()`, `tolist()`, `numpy()`; tensor hooks; module hooks; a captured tensor that requires grad but is
   not an input; an ndarray method without a recording) stops the trace: the function then runs eagerly from
   then on, with one warning, or raises `Unsupported` with `fullgraph=True`. Past 8 guard keys (torch's
   recompile limit) a function runs eagerly with one warning. A compiled region does not support double
   backward (torch's error), as torch's AOT autograd does not.
"""
from __future__ import annotations

import builtins
import functools
import operator
import os
import re
import sys
import weakref
from typing import Any, Callable

import numpy as np
from ._warn import warn as _warn

_BACKENDS = ("inductor", "eager", "aot_eager", "cudagraphs", "onnxrt", "openxla", "tvm")
_MODES = (None, "default", "lite", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")
RECOMPILE_LIMIT = 8


class Unsupported(RuntimeError):
    """Raised with `fullgraph=True` where the tracer cannot capture the whole call (torch: `Unsupported`)."""


class InvalidBackend(RuntimeError):
    """torch._dynamo's error for a backend name it does not know."""


class BackendCompilerFailed(RuntimeError):
    """torch._dynamo's error when the backend fails (here: a backend that is neither a name nor a callable)."""


class _Break(Exception):
    pass


_TRACER: "Any" = None  # the active _Tracer, or None
from ._tensor import Tensor as _TensorCls, _c_strides, _wrap  # noqa: E402
from ._ops._registry import _edge  # noqa: E402
from .autograd.grad_mode import state as _MODE  # noqa: E402
from ._dtype import get_default_dtype as _default_dtype  # noqa: E402
_plain_view = np.ndarray.view


# -- the traced array ------------------------------------------------------------------------------------------------
class _Traced(np.ndarray):
    """An ndarray that reports every computation on it to the active tracer (a view: the same memory)."""

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        fn = ufunc if method == "__call__" else getattr(ufunc, method)
        return _call(fn, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        return _call(func, args, kwargs)

    # Python values out of an array: the decision taken on them becomes a guard of the generated code
    def __bool__(self) -> bool:
        return _value(bool, self)

    def __float__(self) -> float:
        return _value(float, self)

    def __int__(self) -> int:
        return _value(int, self)

    def __index__(self) -> int:
        return _value(_index, self)

    def __complex__(self) -> complex:
        return _value(complex, self)

    def item(self, *args: Any) -> Any:
        return _value(_item, self, *args)

    def tolist(self) -> Any:
        return _value(_tolist, self)

    def _no(self, *a: Any, **k: Any) -> Any:
        raise _Break("an array was iterated or turned into bytes inside a compiled region")

    tobytes = __iter__ = _no

    def __getitem__(self, key: Any) -> Any:
        return _call(_METHODS["__getitem__"], (self, key), {})

    def __setitem__(self, key: Any, value: Any) -> None:
        _call(_METHODS["__setitem__"], (self, key, value), {}, inplace=True)

    @property
    def shape(self) -> tuple:  # type: ignore[override]
        return np.ndarray.shape.__get__(self)

    @shape.setter
    def shape(self, value: Any) -> None:  # `a.shape = ...` reshapes in place: a recorded statement too
        np.ndarray.shape.__set__(self, value)
        tr = _TRACER
        if tr is not None:
            tr.nodes.append((tr.phase, _set_shape, tr.encode((self, value)), {}, None, True))

    @property
    def strides(self) -> tuple:  # type: ignore[override]
        return np.ndarray.strides.__get__(self)

    @strides.setter
    def strides(self, value: Any) -> None:
        raise _Break("strides set by hand inside a compiled region")

    # the real and imaginary parts: views, and writes through them (`z.real = x`), recorded as np.real/np.imag
    # and np.copyto into those views
    @property
    def real(self) -> Any:  # type: ignore[override]
        return _call(np.real, (self,), {})

    @real.setter
    def real(self, value: Any) -> None:
        _call(np.copyto, (_call(np.real, (self,), {}), value), {}, inplace=True)

    @property
    def imag(self) -> Any:  # type: ignore[override]
        return _call(np.imag, (self,), {})

    @imag.setter
    def imag(self, value: Any) -> None:
        if not np.iscomplexobj(self):
            raise TypeError("array does not have imaginary part to set")
        _call(np.copyto, (_call(np.imag, (self,), {}), value), {}, inplace=True)

    @property
    def T(self) -> Any:  # type: ignore[override]
        return _call(_METHODS["transpose"], (self,), {})

    @property
    def mT(self) -> Any:  # type: ignore[override]
        return _call(_METHODS["swapaxes"], (self, -1, -2), {})


def _set_shape(a: Any, shape: Any) -> None:
    a.shape = shape


class _GuardFailed(Exception):
    pass


def _index(a: Any) -> int:
    return a.__index__()


def _item(a: Any, *args: Any) -> Any:
    return a.item(*args)


def _tolist(a: Any) -> Any:
    return a.tolist()


def _same(x: Any, y: Any) -> bool:
    return x == y or (x != x and y != y)  # NaN equals NaN here


def _guard(value: Any, expected: Any) -> None:
    """In generated code: a Python value the traced call depended on must come out the same."""
    if not (_same(value, expected) if type(expected) is not list else
            len(value) == len(expected) and all(map(_same, _flat_list(value), _flat_list(expected)))):
        raise _GuardFailed


def _guard_shape(a: Any, expected: tuple) -> None:
    """In generated code: the shape of a result that depends on the data (a boolean mask's selection, nonzero,
    unique) must come out as traced, or the lines after it, sized for the traced shape, would be wrong."""
    if np.shape(a) != expected:
        raise _GuardFailed


def _flat_list(x: Any) -> list:
    if type(x) is list:
        out = []
        for v in x:
            out.extend(_flat_list(v))
        return out
    return [x]


_PKG = os.path.dirname(os.path.abspath(__file__)) + os.sep
_SKIP = {os.path.abspath(__file__), os.path.join(_PKG, "_tensor.py")}


def _internal_caller() -> bool:
    """Whether the Python value is taken by ndgrad's own code (a check inside an op) rather than by the program
    (Tensor's conversions themselves do not count): vmap refuses only the program's decisions, as torch does."""
    f = sys._getframe(2)
    while f is not None and os.path.abspath(f.f_code.co_filename) in _SKIP:
        f = f.f_back
    return f is not None and os.path.abspath(f.f_code.co_filename).startswith(_PKG)


def _value(conv: Any, a: Any, *args: Any) -> Any:
    """A Python value from a traced array: computed, and recorded as a guard that later calls check."""
    v = conv(_plain_view(a, np.ndarray), *args)
    tr = _TRACER
    if tr is not None:
        name = tr.name_of(a)
        if name is None:
            raise _Break("a Python value was taken from an array the tracer did not record")
        tmp = f"p{tr.n}"
        tr.n += 1
        if _internal_caller():
            tr.internal.add(tmp)
        tr.nodes.append((tr.phase, conv, (_Var(name), *tr.encode(args)), {}, _Var(tmp), False))
        tr.nodes.append((tr.phase, _guard, (_Var(tmp), tr.encode(v)), {}, None, True))
        if tr.phase == "bwd":
            raise _Break("a backward formula took a Python value from a gradient")
        tr.guards += 1
    return v


class _Method:
    """An ndarray method as a recordable callable: `_Method("reshape")(a, 2, 3)` is `a.reshape(2, 3)`."""

    def __init__(self, name: str, inplace: bool = False) -> None:
        self.name = name
        self.inplace = inplace
        self.fn = getattr(np.ndarray, name)

    def __call__(self, a: Any, *args: Any, **kwargs: Any) -> Any:
        # by name, not the ndarray descriptor: a value may be a NumPy scalar (a full reduction's result)
        return getattr(a, self.name)(*args, **kwargs)


_METHOD_NAMES = ("__getitem__", "reshape", "transpose", "astype", "copy", "ravel", "flatten", "squeeze", "swapaxes",
                 "take", "repeat", "argmax", "argmin", "argsort", "cumsum", "cumprod", "dot", "nonzero", "clip",
                 "round", "conj", "conjugate", "diagonal", "trace", "view", "max", "min", "sum", "mean", "prod",
                 "any", "all", "std", "var", "searchsorted", "compress", "choose", "partition", "argpartition")
_INPLACE_METHODS = ("__setitem__", "fill", "put", "sort", "resize")
_METHODS = {n: _Method(n) for n in _METHOD_NAMES}
_METHODS.update({n: _Method(n, True) for n in _INPLACE_METHODS})


def _make_method(name: str) -> Callable:
    m = _METHODS[name]
    inplace = m.inplace

    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return _call(m, (self, *args), kwargs, inplace=inplace)
    method.__name__ = name
    return method


for _n in _METHOD_NAMES + _INPLACE_METHODS:
    if _n not in ("__getitem__", "__setitem__"):
        setattr(_Traced, _n, _make_method(_n))


# -- recording ------------------------------------------------------------------------------------------------------
class _Var:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


class _Const:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


def _unwrap(x: Any) -> Any:
    """The same structure with every traced array as a plain ndarray view (what the real call gets)."""
    if isinstance(x, _Traced):
        return _plain_view(x, np.ndarray)
    t = type(x)
    if t is tuple or t is list:
        return t(_unwrap(v) for v in x)
    if t is dict:
        return {k: _unwrap(v) for k, v in x.items()}
    return x


def _call(fn: Any, args: Any, kwargs: dict, inplace: bool = False) -> Any:
    """Run one NumPy call on plain arrays; when tracing, record it and wrap its results as traced arrays."""
    res = fn(*_unwrap(args), **_unwrap(kwargs))
    tr = _TRACER
    if tr is None:
        return res
    return tr.record(fn, args, kwargs, res, inplace)


_LITERALS = (int, float, bool, str, type(None), type(Ellipsis), complex)
# calls whose result's shape depends on the values of their arguments (not only on their shapes)
_DATA_SHAPED = {getattr(np, n) for n in (
    "nonzero", "flatnonzero", "argwhere", "unique", "compress", "extract", "bincount", "repeat", "delete",
    "trim_zeros", "setdiff1d", "intersect1d", "union1d", "setxor1d", "histogram", "unique_values", "unique_counts",
    "unique_inverse", "unique_all") if hasattr(np, n)}
_DATA_SHAPED_METHODS = {"nonzero", "compress", "repeat"}


def _data_shaped(fn: Any, args: Any, kwargs: dict) -> bool:
    if fn in _DATA_SHAPED:
        return fn is not np.repeat or any(isinstance(x, _Traced) for x in args[1:2]) or \
            isinstance(kwargs.get("repeats"), _Traced)
    if isinstance(fn, _Method):
        if fn.name == "__getitem__":  # a boolean mask selects as many as it has True
            key = args[1] if type(args[1]) is tuple else (args[1],)
            return any(isinstance(x, np.ndarray) and x.dtype == bool for x in key)
        if fn.name in _DATA_SHAPED_METHODS:
            return fn.name != "repeat" or any(isinstance(x, _Traced) for x in args[1:2])
    return fn is np.where and len(args) == 1
_AS_STRIDED_FN = np.lib.stride_tricks.as_strided
_META = {np.shape, np.ndim, np.size, np.result_type, np.iscomplexobj, np.isrealobj, np.min_scalar_type,
         np.may_share_memory, np.shares_memory}


class _Tracer:
    def __init__(self) -> None:
        self.ids: dict = {}        # id(traced array) -> var name
        # var name -> traced array, held weakly: a temporary dies as in eager mode (holding every array made
        # the trace of a large model slow and big); an id is trusted only while its array is alive
        self.values: Any = weakref.WeakValueDictionary()
        self.pinned: list = []     # arrays the backward pass reads (its saved values): kept for the first call
        self.bwd_made: set = set()  # names of the arrays the backward pass made
        self.meta: dict = {}       # var name -> (shape, strides, nbytes, itemsize, contiguous) of as_strided bases
        self.nodes: list = []      # (phase, fn, args template, kwargs template, out names, inplace)
        self.consts: dict = {}     # const name -> object
        self.const_ids: dict = {}  # id(object) -> const name
        self.phase = "fwd"
        self.n = 0
        self.scalars: set = set()  # vars that are NumPy scalars (not arrays) when the code runs
        self.guards = 0
        self.internal: set = set()  # values taken by ndgrad's own checks (not by the traced program)
        self.layout: dict = {}     # var name -> (shape, dtype, strides) when traced (what buffer reuse checks)
        self.bounds: dict = {}     # var name -> its memory's (first, last + 1) address when traced
        self.batching = False      # vmap's trace of one element (func/_batching.py), not compile's

    # -- names
    def var(self, arr: np.ndarray, prefix: str = "v") -> Any:
        t = arr if isinstance(arr, _Traced) else _plain_view(arr, _Traced)
        name = f"{prefix}{self.n}"
        self.n += 1
        self.ids[id(t)] = name
        self.values[name] = t
        self.layout[name] = (t.shape, t.dtype, t.strides)
        self.bounds[name] = _span(t)
        if self.phase == "bwd":
            self.bwd_made.add(name)
        return t

    def const(self, obj: Any) -> _Const:
        name = self.const_ids.get(id(obj))
        if name is None:
            name = f"c{len(self.consts)}"
            self.consts[name] = obj
            self.const_ids[id(obj)] = name
        return _Const(name)

    # -- templates
    def name_of(self, x: Any) -> str | None:
        name = self.ids.get(id(x))
        return name if name is not None and self.values.get(name) is x else None

    def encode(self, x: Any) -> Any:
        if isinstance(x, _Traced):
            name = self.name_of(x)
            if name is None:
                raise _Break("an array was derived by a NumPy call the tracer does not record")
            if self.phase == "bwd" and name not in self.bwd_made:
                self.pinned.append(x)  # (the backward's own temporaries die as they would in eager mode)
            return _Var(name)
        if isinstance(x, np.ndarray):
            b = x
            while b is not None:
                if isinstance(b, _Traced) or self.name_of(b) is not None:
                    raise _Break("an array escaped the trace (a view taken without a recording)")
                b = getattr(b, "base", None)
            return self.const(x)
        t = type(x)
        if t is tuple or t is list:
            return t(self.encode(v) for v in x)
        if t is dict:
            return {k: self.encode(v) for k, v in x.items()}
        if t is slice:
            return slice(self.encode(x.start), self.encode(x.stop), self.encode(x.step))
        if t in _LITERALS or isinstance(x, (np.generic, np.dtype)):
            if t is float and not np.isfinite(x):
                return self.const(x)
            return x
        return self.const(x)

    def wrap(self, res: Any) -> Any:
        """Results as traced arrays (a NumPy scalar becomes a 0-d one), and their template of names."""
        if isinstance(res, np.ndarray):
            t = self.var(res)
            return t, _Var(self.ids[id(t)])
        if isinstance(res, np.generic):
            t = self.var(np.asarray(res))
            return t, _Var(self.ids[id(t)])
        if type(res) in (tuple, list):
            pairs = [self.wrap(r) for r in res]
            return type(res)(p[0] for p in pairs), type(res)(p[1] for p in pairs)
        return res, None

    def record(self, fn: Any, args: Any, kwargs: dict, res: Any, inplace: bool) -> Any:
        if not inplace and fn in _META:
            return res  # a question about shape or dtype, not about values
        if fn in _TRANSPOSES and args and isinstance(args[0], _Traced):
            self.pinned.append(args[0])  # (_generate may name it instead of a transpose chain that undoes itself)
        a, k = self.encode(tuple(args)), self.encode(dict(kwargs))
        if fn is _AS_STRIDED_FN and a and isinstance(a[0], _Var):
            b = args[0]
            self.meta[a[0].name] = (b.shape, b.strides, b.nbytes, b.itemsize, b.flags.c_contiguous,
                                    b.flags.f_contiguous)
        out = kwargs.get("out")
        if out is not None:
            inplace = True
        if inplace:
            target = k["out"] if "out" in k else a[0] if a else None
            for t in (target if type(target) is tuple else (target,)):
                if isinstance(t, _Const):
                    raise _Break("an in-place write into an array made outside the trace")
            self.nodes.append((self.phase, fn, a, k, None, True))
            if out is not None:  # the result is the `out` array(s) themselves
                outs = out if isinstance(out, tuple) else (out,)
                return outs[0] if len(outs) == 1 else outs
            if fn is _METHODS["__setitem__"] or isinstance(fn, _Method):
                return res if res is None else self.wrap_inplace(fn, res, a, k)
            return res
        if isinstance(res, (np.dtype, type)):
            return res
        wrapped, names = self.wrap(res)
        if isinstance(res, np.generic):
            self.scalars.add(names.name)
        if names is None:
            if res is None:
                self.nodes.append((self.phase, fn, a, k, None, True))
                return res
            raise _Break(f"{getattr(fn, '__name__', fn)} returned {type(res).__name__}, which the tracer cannot follow")
        self.nodes.append((self.phase, fn, a, k, names, False))
        if fn in _OPAQUE_FNS and self.phase == "fwd":
            self.pinned.append(wrapped)  # (a backward that calls it again may be given this result: _generate)
        if _data_shaped(fn, args, kwargs):
            for n in _names_in(names, set()):
                if self.phase == "bwd":
                    raise _Break("a backward formula made an array whose shape depends on the data")
                self.nodes.append((self.phase, _guard_shape, (_Var(n), self.values[n].shape), {}, None, True))
                self.guards += 1
        return wrapped

    def wrap_inplace(self, fn: Any, res: Any, a: Any, k: Any) -> Any:
        raise _Break(f"in-place method {fn.name} returned a value")

    def record_call(self, fn: Any, args: tuple, kwargs: dict, res: Any) -> Any:
        """A side-effecting call (a random draw): always kept, its result traced."""
        a, k = self.encode(args), self.encode(kwargs)
        wrapped, names = self.wrap(res)
        if names is None:
            raise _Break("a random draw returned a value the tracer cannot follow")
        self.nodes.append((self.phase, fn, a, k, names, True))
        return wrapped


# -- patches active while tracing -----------------------------------------------------------------------------------
def _contains_traced(x: Any) -> bool:
    if isinstance(x, _Traced):
        return True
    if type(x) in (list, tuple):
        return any(_contains_traced(v) for v in x)
    return False


def _conversion(name: str) -> Callable:
    orig = getattr(np, name)

    def conv(*args: Any, **kwargs: Any) -> Any:
        if _TRACER is not None and (any(_contains_traced(a) for a in args) or
                                    any(_contains_traced(v) for v in kwargs.values())):
            return _call(orig, args, kwargs)
        return orig(*args, **kwargs)
    conv.__name__ = name
    conv._orig = orig  # type: ignore[attr-defined]
    return conv


_CONVERSIONS = ("asarray", "asanyarray", "array", "ascontiguousarray", "asfortranarray", "require", "frombuffer")
_CREATIONS = ("zeros", "ones", "empty", "full", "eye", "identity", "arange", "linspace", "tri")


def _creation(name: str) -> Callable:
    """A new array made while tracing is made again at every replay (it may be written into)."""
    orig = getattr(np, name)

    def make(*args: Any, **kwargs: Any) -> Any:
        if _TRACER is None:
            return orig(*args, **kwargs)
        return _call(orig, args, kwargs)
    make.__name__ = name
    make._orig = orig  # type: ignore[attr-defined]
    return make
_DRAWS = ("_torch_unit", "_torch_uniform", "_torch_normal", "_torch_random", "_torch_bernoulli", "_torch_randperm",
          "_raw32", "_raw64", "_normal_one")


_OPAQUE = (("ndgrad._ops.special", "_erf_low_precision"),)
_OPAQUE_FNS: set = set()  # their functions, once tracing has patched them (pure: a repeated call gives the same)


def _plan() -> list:
    """What tracing patches: (owner, name, replacement), built once (and again when modules were added)."""
    plan: list = []
    from ._creation import Generator
    from ._tensor import Tensor
    from .autograd.graph import Node
    for n in _CONVERSIONS:
        plan.append((np, n, _conversion(n)))
    for n in _CREATIONS:
        plan.append((np, n, _creation(n)))
    depth = [0]
    for n in _DRAWS:
        orig = getattr(Generator, n)

        def draw(self_: Any, *args: Any, _orig: Any = orig, _n: str = n, **kwargs: Any) -> Any:
            if depth[0] or _TRACER is None:
                return _orig(self_, *args, **kwargs)
            depth[0] += 1
            try:
                res = _orig(self_, *_unwrap(args), **_unwrap(kwargs))
            finally:
                depth[0] -= 1
            if _n == "_normal_one":
                raise _Break("a scalar random draw (the tracer replays array draws only)")
            return _TRACER.record_call(_orig.__get__(self_), args, kwargs, res)
        draw.__wrapped__ = orig  # type: ignore[attr-defined]
        draw.__name__ = n
        plan.append((Generator, n, draw))

    # as_strided and sliding_window_view make views from raw strides (invisible to the dispatch): one call each
    import sys
    from numpy.lib import stride_tricks
    for fname in ("as_strided", "sliding_window_view"):
        orig_f = getattr(stride_tricks, fname)

        def strided(*args: Any, _f: Any = orig_f, **kwargs: Any) -> Any:
            if _TRACER is not None and _contains_traced(args[0]):
                return _call(_f, args, kwargs)
            return _f(*args, **kwargs)
        strided.__name__ = fname
        plan.append((stride_tricks, fname, strided))
        for mname, mod in list(sys.modules.items()):
            if mname.startswith("ndgrad.") and mod is not None and getattr(mod, fname, None) is orig_f:
                plan.append((mod, fname, strided))
    # ndgrad's own array kernels whose inner steps the generated code cannot replay (a gather sized by the
    # data): recorded as one call each, which the generated code makes in turn
    import importlib
    for mname, fname in _OPAQUE:
        mod = importlib.import_module(mname)
        orig_k = getattr(mod, fname)

        def opaque(*args: Any, _f: Any = orig_k, **kwargs: Any) -> Any:
            if _TRACER is not None and any(_contains_traced(a) for a in args):
                return _call(_f, args, kwargs)
            return _f(*args, **kwargs)
        opaque.__name__ = fname
        _OPAQUE_FNS.add(orig_k)
        plan.append((mod, fname, opaque))
    vec_call = np.vectorize.__call__

    def vectorized(self_: Any, *args: Any, **kwargs: Any) -> Any:
        if _TRACER is not None and (any(_contains_traced(a) for a in args) or
                                    any(_contains_traced(v) for v in kwargs.values())):
            return _call(functools.partial(vec_call, self_), args, kwargs)
        return vec_call(self_, *args, **kwargs)
    plan.append((np.vectorize, "__call__", vectorized))

    def breaker(what: str) -> Callable:
        def f(*a: Any, **k: Any) -> Any:
            raise _Break(what)
        return f
    plan.append((Tensor, "numpy", breaker("Tensor.numpy() inside a compiled region")))
    plan.append((Tensor, "__array__", breaker("a tensor converted to a NumPy array inside a compiled region")))
    plan.append((Tensor, "register_hook", breaker("a tensor hook registered inside a compiled region")))
    plan.append((Node, "register_hook", breaker("a node hook registered inside a compiled region")))
    plan.append((Node, "register_prehook", breaker("a node hook registered inside a compiled region")))
    return plan


_PLAN: Any = None


class _Patches:
    """Install/remove what tracing needs outside this module (numpy conversions, generator draws, breaks)."""

    def __init__(self) -> None:
        self.saved: list = []

    def set(self, owner: Any, name: str, value: Any) -> None:
        self.saved.append((owner, name, owner.__dict__.get(name, _MISSING)))
        setattr(owner, name, value)

    def install(self) -> None:
        import sys
        global _PLAN
        if _PLAN is None or _PLAN[0] != len(sys.modules):
            _PLAN = (len(sys.modules), _plan())
        for owner, name, value in _PLAN[1]:
            self.set(owner, name, value)

    def remove(self) -> None:
        for owner, name, old in reversed(self.saved):
            if old is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, old)
        self.saved.clear()


_MISSING = object()


# -- code generation ------------------------------------------------------------------------------------------------
def _fn_text(fn: Any, consts: dict, const_ids: dict) -> str:
    if fn is _guard:
        return "_guard"
    if fn is _set_shape:
        return "_set_shape"
    if getattr(builtins, getattr(fn, "__name__", ""), None) is fn:
        return fn.__name__
    if isinstance(fn, np.ufunc):
        if getattr(np, fn.__name__, None) is fn:
            return f"np.{fn.__name__}"
    elif getattr(fn, "__self__", None) is not None and isinstance(fn.__self__, np.ufunc):
        u = fn.__self__
        if getattr(np, u.__name__, None) is u:
            return f"np.{u.__name__}.{fn.__name__}"
    elif isinstance(fn, _Method):
        return "." + fn.name
    else:
        name = getattr(fn, "__name__", None)
        if name and getattr(np, name, None) is fn:
            return f"np.{name}"
        orig = getattr(np, name, None) if name else None
        if orig is not None and getattr(orig, "_orig", None) is fn:
            return f"np.{name}"
    name = const_ids.get(id(fn))
    if name is None:
        name = f"f{len(consts)}"
        consts[name] = fn
        const_ids[id(fn)] = name
    return name


def _text(x: Any) -> str:
    if isinstance(x, (_Var, _Const)):
        return x.name
    t = type(x)
    if t is tuple:
        inner = ", ".join(_text(v) for v in x)
        return f"({inner},)" if len(x) == 1 else f"({inner})"
    if t is list:
        return "[" + ", ".join(_text(v) for v in x) + "]"
    if t is dict:
        return "{" + ", ".join(f"{k!r}: {_text(v)}" for k, v in x.items()) + "}"
    if t is slice:
        return f"slice({_text(x.start)}, {_text(x.stop)}, {_text(x.step)})"
    if isinstance(x, np.dtype):
        return f"np.dtype({str(x)!r})"
    if isinstance(x, np.generic):
        return f"np.{type(x).__name__}({x.item()!r})"
    return repr(x)


def _index_text(key: Any) -> str:
    if type(key) is tuple:
        return ", ".join(_index_text(k) for k in key) if key else "()"
    if type(key) is slice:
        parts = [("" if v is None else _text(v)) for v in (key.start, key.stop, key.step)]
        return ":".join(parts[:2]) + (f":{parts[2]}" if parts[2] else "")
    if key is Ellipsis:
        return "..."
    if key is None:
        return "None"
    return _text(key)


# NumPy functions that only forward to the ndarray method of the same name (numpy/_core/fromnumeric.py): the
# generated code calls the method directly, which skips a Python-level wrapper and computes the same thing
_AS_METHOD = {getattr(np, n): n for n in ("swapaxes", "transpose", "reshape", "squeeze", "ravel", "take", "repeat",
                                           "argmax", "argmin", "argsort", "cumsum", "cumprod", "diagonal", "nonzero",
                                           "searchsorted", "compress", "choose", "clip", "round")}


def _line(fn_txt: str, a: tuple, k: dict, outs: Any) -> str:
    if fn_txt == "_set_shape":
        return f"{a[0].name}.shape = {_text(a[1])}"
    if fn_txt == ".__getitem__":
        call = f"{a[0].name}[{_index_text(a[1])}]"
    elif fn_txt == ".__setitem__":
        return f"{a[0].name}[{_index_text(a[1])}] = {_text(a[2])}"
    else:
        if fn_txt.startswith("."):
            head, rest = f"{_text(a[0])}{fn_txt}", a[1:]
        else:
            head, rest = fn_txt, a
        parts = [_text(v) for v in rest] + [f"{key}={_text(v)}" for key, v in k.items()]
        call = f"{head}({', '.join(parts)})"
    if outs is None:
        return call
    return f"{_targets(outs)} = {call}"


def _targets(outs: Any) -> str:
    if isinstance(outs, _Var):
        return outs.name
    if outs is None:
        return "_"
    inner = ", ".join(_targets(o) for o in outs)
    return f"({inner},)" if len(outs) == 1 else f"({inner})"


def _names_in(x: Any, acc: set) -> set:
    if isinstance(x, _Var):
        acc.add(x.name)
    elif type(x) in (tuple, list):
        for v in x:
            _names_in(v, acc)
    elif type(x) is dict:
        for v in x.values():
            _names_in(v, acc)
    elif type(x) is slice:
        _names_in((x.start, x.stop, x.step), acc)
    return acc


_AS_ARRAY = {np.asarray, np.asanyarray}


def _rename(x: Any, alias: dict) -> Any:
    if not alias:
        return x
    if isinstance(x, _Var):
        n = alias.get(x.name)
        return x if n is None else _Var(n)
    t = type(x)
    if t in (tuple, list):
        return t(_rename(v, alias) for v in x)
    if t is dict:
        return {k: _rename(v, alias) for k, v in x.items()}
    if t is slice:
        return slice(_rename(x.start, alias), _rename(x.stop, alias), _rename(x.step, alias))
    return x


def _prune(nodes: list, needed: set) -> list:
    """The calls a result in `needed` depends on, and those with a side effect (dead code dropped); `needed`
    grows by what the kept calls read."""
    kept = []
    for node in reversed(nodes):
        _, fn, a, k, outs, side = node
        if side or (outs is not None and _names_in(outs, set()) & needed):
            kept.append(node)
            _names_in(a, needed)
            _names_in(k, needed)
    kept.reverse()
    return kept


_TRANSPOSES = {np.transpose: "transpose", np.swapaxes: "swapaxes", _METHODS["transpose"]: "transpose",
               _METHODS["swapaxes"]: "swapaxes"}


def _permutation(fn: Any, a: tuple, k: dict, layout: Any) -> tuple | None:
    """The axes of `a[0]` that a transpose or swapaxes call's result shows, in order (None: not such a call)."""
    name = _TRANSPOSES.get(fn) if not isinstance(fn, np.ufunc) else None
    if name is None or layout is None:
        return None
    n = len(layout[0])
    args = list(a[1:]) + list(k.values())
    try:
        if name == "swapaxes":
            i, j = (int(v) % n for v in args) if n else (None, None)
            p = list(range(n))
            p[i], p[j] = p[j], p[i]
            return tuple(p)
        if not args or args == [None]:
            return tuple(range(n))[::-1]
        axes = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else args
        perm = tuple(int(v) % n for v in axes)
        return perm if sorted(perm) == list(range(n)) else None
    except (TypeError, ValueError):
        return None


def _call_key(fn: Any, a: tuple, k: dict) -> Any:
    """A hashable key of a call's arguments (names, constants, literals with their types), or None."""
    def key(x: Any) -> Any:
        if isinstance(x, _Var):
            return ("v", x.name)
        if isinstance(x, _Const):
            return ("c", x.name)
        t = type(x)
        if t in (tuple, list):
            return (t, tuple(key(v) for v in x))
        if t is dict:
            return (t, tuple((n, key(v)) for n, v in x.items()))
        hash(x)
        return (t, x)
    try:
        return (fn, key(a), key(k))
    except TypeError:
        return None


# Lowering: recorded calls rewritten into cheaper NumPy calls that compute the same bits.
# - A Python number beside a floating-point array in a two-input ufunc (`np.subtract(1, v)`, `np.multiply(v, 2.0)`)
#   is converted to the array's dtype at every call (NEP 50: the number takes the array's dtype); a constant of that
#   dtype, made once, gives the same loop the same operands.
# - A NumPy scalar written in a call (`np.divide(g, np.float32(35.0))`) is made once, as a named constant.
# - `a.sum(...)` and `np.sum(a, ...)` call `np.add.reduce` through Python-level wrappers: called directly (eager's
#   hot reductions call it directly already, see _ops/reduction.py).
_LOWER_FLOATS = {np.dtype(n) for n in ("float16", "float32", "float64")}
_SUMS = {np.sum, _METHODS["sum"]}
# two-input ufuncs whose only floating loops take two operands of one dtype (not ldexp's (float, int))
_SAME_TYPED = {getattr(np, n) for n in (
    "add", "subtract", "multiply", "true_divide", "power", "maximum", "minimum", "fmax", "fmin",
    "greater", "greater_equal", "less", "less_equal", "equal", "not_equal", "arctan2", "hypot", "copysign",
    "floor_divide", "remainder", "fmod", "logaddexp", "logaddexp2", "heaviside")}


def _reduce_args(a: tuple, k: dict) -> tuple | None:
    """(axis, dtype, keepdims) of a recorded `sum` call with no other argument, else None."""
    if len(a) > 2 or not set(k) <= {"axis", "keepdims", "dtype"} or (len(a) == 2 and "axis" in k):
        return None
    axis = a[1] if len(a) == 2 else k.get("axis")
    keepdims = k.get("keepdims", False)
    ok = axis is None or type(axis) is int or (type(axis) is tuple and all(type(v) is int for v in axis))
    return (axis, k.get("dtype"), keepdims) if ok and type(keepdims) is bool else None


def _lower(nodes: list, tr: _Tracer, consts: dict) -> list:
    lits: dict = {}

    def literal(v: Any, dt: np.dtype) -> Any:
        key = (dt, type(v), v)
        c = lits.get(key)
        if c is None:
            name = f"c{len(consts)}"
            consts[name] = dt.type(v)
            c = lits[key] = _Const(name)
        return c

    def usable(x: Any) -> np.dtype | None:
        if isinstance(x, _Var) and x.name not in tr.scalars:
            lay = tr.layout.get(x.name)
            if lay is not None and lay[1] in _LOWER_FLOATS:
                return lay[1]
        return None

    out: list = []
    for node in nodes:
        phase, fn, a, k, outs, side = node
        if side or not isinstance(outs, _Var) or not a:
            out.append(node)
            continue
        if any(isinstance(v, np.generic) for v in a):
            a = tuple(literal(v, v.dtype) if isinstance(v, np.generic) else v for v in a)
            node = (phase, fn, a, k, outs, side)
        if fn in _SAME_TYPED and len(a) == 2 and set(k) <= {"out"}:
            for j in (0, 1):
                v, dt = a[j], usable(a[1 - j])
                if dt is not None and type(v) in (int, float) and (type(v) is float or abs(v) <= 2 ** 53):
                    with np.errstate(all="ignore"):
                        c = dt.type(v)
                    if np.isfinite(c) or not np.isfinite(v):
                        a = (literal(v, dt), a[1]) if j == 0 else (a[0], literal(v, dt))
                        break
            out.append((phase, fn, a, k, outs, side))
            continue
        red = _reduce_args(a, k) if fn in _SUMS else None
        if red is None or not isinstance(a[0], _Var) or a[0].name in tr.scalars:
            out.append(node)
            continue
        axis, dtype, keepdims = red
        args = (a[0], axis, dtype, None, True) if keepdims else (a[0], axis, dtype) if dtype is not None else (a[0], axis)
        out.append((phase, np.add.reduce, args, {}, outs, False))
    return out


def _span(a: np.ndarray) -> tuple:
    """(first, last + 1) address of an array's elements (an empty array: an empty span)."""
    lo = hi = a.__array_interface__["data"][0]
    if a.size:
        for n, st in zip(a.shape, a.strides):
            if st < 0:
                lo += (n - 1) * st
            else:
                hi += (n - 1) * st
        hi += a.itemsize
    return lo, hi


def _forget_written(seen: dict, same: dict, names: set, bounds: dict) -> None:
    """Drop the remembered calls and equalities that involve memory shared with an array a side-effecting call
    got (it may have written there). Memory is compared as traced: views share it by construction, and an
    address reused after an array died only makes this forget more than it must."""
    spans = [bounds[n] for n in names if n in bounds]
    if not spans:
        return

    def hit(lo2: int, hi2: int) -> bool:
        return any(lo < hi2 and lo2 < hi for lo, hi in spans)
    for key in [key for key, (_, _, used) in seen.items() if any(hit(*u) for u in used)]:
        del seen[key]
    for n in [n for n, m in same.items() if any(hit(*bounds[x]) for x in (n, m) if x in bounds)]:
        del same[n]


def _generate(tr: _Tracer, inputs: list, outputs: list, grad_ins: list, grad_outs: list) -> tuple:
    """Source of the forward and backward functions; returns (fwd source, bwd source, saved names, namespace)."""
    consts, const_ids = dict(tr.consts), dict(tr.const_ids)
    # Calls that become renamings instead of lines:
    # - np.asarray of an array is the array itself (the op table wraps every result with one);
    # - a chain of transposes that puts every axis back (a weight's gradient, `(g.T @ x).T`) shows its root array
    #   with the same shape and strides, so the root serves (not when either one's shape is set in place);
    # - a ufunc called again with the same arguments, with no write in between, gives what it gave before.
    alias: dict = {}
    nodes = []
    views: dict = {}  # name -> (root name, permutation of the root's axes)
    reshaped = {n[2][0].name for n in tr.nodes if n[1] is _set_shape and isinstance(n[2][0], _Var)}
    # (ufunc, arguments) -> (name of its result, its phase, memory it read or made), since a write there. A backward
    # call may find a forward one (GELU's backward computes the forward's erf again): its result is then saved for
    # the backward, if the trace still holds that array for the first call; if not, the backward's result is
    # only known to be equal (`same`), so that a call on it can find the forward's call on the other.
    seen: dict = {}
    same: dict = {}
    for node in tr.nodes:
        phase, fn, a, k, outs, side = node
        a, k = _rename(a, alias), _rename(k, alias)
        if side:
            if (seen or same) and fn is not _guard and fn is not _guard_shape:
                _forget_written(seen, same, _names_in((a, k), set()), tr.bounds)
        elif isinstance(outs, _Var) and a and isinstance(a[0], _Var) and a[0].name not in tr.scalars:
            if fn in _AS_ARRAY and not k and len(a) == 1:
                alias[outs.name] = a[0].name
                continue
            perm = None if a[0].name in reshaped else _permutation(fn, a, k, tr.layout.get(a[0].name))
            if perm is not None:
                root, before = views.get(a[0].name, (a[0].name, None))
                if before is not None:
                    perm = tuple(before[j] for j in perm) if len(before) == len(perm) else None
            if perm is not None:
                if perm == tuple(range(len(perm))) and not {root, outs.name} & reshaped:
                    alias[outs.name] = root
                    continue
                views[outs.name] = (root, perm)
            elif (isinstance(fn, np.ufunc) and fn.nout == 1 or fn in _OPAQUE_FNS) and not ({"out", "where"} & set(k)):
                key = _call_key(fn, _rename(a, same), _rename(k, same))
                if key is not None:
                    hit = seen.get(key)
                    if hit is not None:
                        if hit[1] == phase or hit[0] in tr.values or any(
                                m == hit[0] and n in tr.values for n, m in alias.items()):
                            alias[outs.name] = hit[0]
                            continue
                        same[outs.name] = hit[0]
                    else:
                        seen[key] = (outs.name, phase,
                                     [tr.bounds[n] for n in _names_in(a, {outs.name}) if n in tr.bounds])
        nodes.append((phase, fn, a, k, outs, side))
    inputs = list(inputs)
    outputs = [alias.get(o, o) for o in outputs]
    grad_outs = [alias.get(g, g) for g in grad_outs]
    nodes = _lower(nodes, tr, consts)
    fwd_nodes = [n for n in nodes if n[0] == "fwd"]
    bwd_nodes = [n for n in nodes if n[0] == "bwd"]
    # backward: drop calls nobody needs (no side effects there: the engine only computes)
    needed = set(g for g in grad_outs if g is not None)
    kept_b = _prune(bwd_nodes, needed)
    defined_b = set(grad_ins)
    for node in kept_b:
        if node[4] is not None:
            _names_in(node[4], defined_b)
    saved = sorted((needed - defined_b), key=lambda s: (s[0], int(s[1:])))
    # forward: keep what the outputs, the saved values or a side effect need
    kept_f = _prune(fwd_nodes, set(o for o in outputs if o is not None) | set(saved))

    def fn_txt(fn: Any, a: tuple, k: dict) -> str:
        m = _AS_METHOD.get(fn) if not isinstance(fn, (np.ufunc, _Method)) else None
        if (m is not None and a and isinstance(a[0], _Var) and a[0].name not in tr.scalars and
                (not k or m not in ("transpose", "reshape") and set(k) <= {"axis", "out", "dtype", "decimals"})):
            return "." + m
        return _fn_text(fn, consts, const_ids)

    def body(nodes: list, keep: set) -> list:
        """The lines, each followed by `del` of the arrays it used for the last time (as eager mode frees its
        temporaries: holding them all until the return would make every new array fresh memory)."""
        last: dict = {}
        for i, (_, fn, a, k, outs, _) in enumerate(nodes):
            for n in _names_in((a, k), set()):
                last[n] = i
        reuse = _reuse(nodes, last, keep, tr)
        lines = []
        for i, (_, fn, a, k, outs, _) in enumerate(nodes):
            if i in reuse:
                k = {**k, "out": (_Var(reuse[i]),)}
            lines.append("    " + _line(fn_txt(fn, a, k), a, k, outs))
            dead = sorted(n for n in _names_in((a, k), set()) if last.get(n) == i and n not in keep)
            if outs is not None:  # a result nobody reads (a call kept for its side effect)
                dead += sorted(n for n in _names_in(outs, set()) if n not in last and n not in keep)
            if dead:
                lines.append(f"    del {', '.join(dead)}")
        return lines

    # gradients that are arrays the backward makes itself and returns once (no input, saved value or other output
    # shares them): the engine may make them `.grad` without its reference-count test (`_one_node`)
    made = {n[4].name for n in kept_b if isinstance(n[4], _Var) and _new_array(n[1], n[3])}
    counts: dict = {}
    for g in grad_outs:
        counts[g] = counts.get(g, 0) + 1
    tr.fresh_grads = {g for g in grad_outs if g in made and counts[g] == 1 and g not in saved and g not in grad_ins}
    fwd_ret = [o if o is not None else "None" for o in outputs] + list(saved)
    fwd_src = (f"def forward({', '.join(inputs)}):\n" + "\n".join(body(kept_f, set(fwd_ret) | set(inputs)) + [""]) +
               f"    return ({', '.join(fwd_ret)}{',' if len(fwd_ret) == 1 else ''})\n")
    bwd_ret = [g if g is not None else "None" for g in grad_outs]
    bwd_src = (f"def backward({', '.join(saved + grad_ins)}):\n" + "\n".join(body(kept_b, set(bwd_ret)) + [""]) +
               f"    return ({', '.join(bwd_ret)}{',' if len(bwd_ret) == 1 else ''})\n")
    tr.alias = alias  # (the first call's values: an aliased name's array may survive only under its alias)
    ns = {"np": np, "_guard": _guard, **consts}
    used = set(re.findall(r"\b[cf]\d+\b", fwd_src + bwd_src))
    notes = [f"#   {n} = {_describe(consts[n])}" for n in sorted(used, key=lambda s: (s[0], int(s[1:]))) if n in consts]
    if notes:
        bwd_src += "\n# constants:\n" + "\n".join(notes) + "\n"
    return fwd_src, bwd_src, saved, ns


# Buffer reuse: an elementwise call whose argument dies with it may write its result into that argument
# (`np.maximum(v9, 0, out=(v9,))`): the same values, one allocation fewer. Only for arrays the generated function
# made itself (a ufunc's, matmul's or a creation's new result) that nothing else may see: not an input, an
# output or a saved value, and never passed to a call that could return a view of it.
# Calls whose result is always a new array, never a view of an argument (with `out=`, the result is `out`).
# Buffer reuse writes only into such arrays, and vmap's cache (func/_batching.py) follows writes through the
# other calls to find whether a program may write into its inputs.
_NEW_ARRAY = {getattr(np, n) for n in (
    "matmul", "where", "stack", "concatenate", "take_along_axis", "take", "dot", "tensordot", "outer", "kron", "copy",
    "pad", "sum", "mean", "prod", "cumsum", "cumprod", "max", "min", "amax", "amin", "any", "all", "std", "var",
    "argmax", "argmin") + _CREATIONS}
_NEW_ARRAY_METHODS = {"copy", "sum", "mean", "prod", "max", "min", "any", "all", "std", "var", "argmax", "argmin",
                      "dot", "cumsum", "cumprod", "take", "repeat", "round", "clip", "flatten"}


def _new_array(fn: Any, k: dict) -> bool:
    """Whether a recorded call's result is certainly a new array."""
    if "out" in k:
        return False
    if isinstance(fn, np.ufunc) or isinstance(getattr(fn, "__self__", None), np.ufunc):
        return True
    if isinstance(fn, _Method):
        return fn.name in _NEW_ARRAY_METHODS or fn.name == "astype" and k.get("copy", True) is not False
    if fn is np.array:
        return k.get("copy", True) is not False
    return fn in _NEW_ARRAY


_REUSE_MIN_BYTES = 32768  # below, passing `out=` costs more than the allocation it saves


def _nbytes(layout: Any) -> int:
    return 0 if layout is None else int(np.prod(layout[0])) * layout[1].itemsize


def _reuse(nodes: list, last: dict, keep: set, tr: _Tracer) -> dict:
    """{line: the dying argument its result is written into}."""
    fresh: set = set()
    seen_by_views: set = set()
    out: dict = {}
    for i, (_, fn, a, k, outs, side) in enumerate(nodes):
        new = outs is not None and not side and _new_array(fn, k)
        if outs is not None and not new:
            seen_by_views |= _names_in((a, k), set())  # (the call may return a view of its arguments)
        if (isinstance(fn, np.ufunc) and fn.nout == 1 and not side and isinstance(outs, _Var) and
                "out" not in k and "where" not in k and outs.name not in tr.scalars and
                _REUSE_MIN_BYTES <= _nbytes(tr.layout.get(outs.name))):
            want = tr.layout.get(outs.name)
            for x in a:
                if (isinstance(x, _Var) and x.name in fresh and last.get(x.name) == i and x.name not in keep and
                        x.name not in seen_by_views and x.name not in tr.scalars and tr.layout.get(x.name) == want):
                    out[i] = x.name
                    break
        if new and isinstance(outs, _Var):
            fresh.add(outs.name)
    return out


def _describe(obj: Any) -> str:
    """A constant of the generated code, for a reader."""
    if isinstance(obj, np.generic):
        return f"np.{type(obj).__name__}({obj.item()!r})"
    if isinstance(obj, np.ndarray):
        if obj.size <= 4:
            return f"np.{np.array_repr(obj)}"
        return f"an array of shape {obj.shape}, {obj.dtype}"
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    owner = getattr(obj, "__self__", None)
    if owner is not None and name:
        return f"{type(owner).__name__}.{name.split('.')[-1]} (bound to the {type(owner).__name__} in use)"
    mod = getattr(obj, "__module__", None)
    if name and mod and mod.startswith("ndgrad."):
        return f"{mod}.{name}"  # (one of ndgrad's array kernels, called whole)
    return name or type(obj).__name__


# -- the compiled node ----------------------------------------------------------------------------------------------
def _node_class() -> type:
    from .autograd.graph import FREED, FREED_MSG, Node

    class CompiledFunctionBackward(Node):
        """One node for a compiled region's outputs: runs the generated backward."""
        __slots__ = ()
        _name = "CompiledFunctionBackward"

        def apply_grads(self, grads: list, graph: bool) -> list:
            if graph:
                raise RuntimeError("torch.compile with aot_autograd does not currently support double backward")
            saved = self._saved
            if saved is FREED:
                raise RuntimeError(FREED_MSG)
            for _, box, ver, t in self._versions:
                if box[0] != ver:
                    from ._ops._registry import version_error
                    raise version_error(t._data, box, ver, None)
            entry = self.__dict__["_entry"]
            gs = []
            for k, (shape, dt) in enumerate(entry.out_meta):
                g = grads[k] if k < len(grads) else None
                gs.append(np.zeros(shape, dt) if g is None else g)
            return list(entry.bwd(*saved, *gs))
    return CompiledFunctionBackward


_NODE_CLS: Any = None


# -- one compiled entry (one guard key) -----------------------------------------------------------------------------
class _Entry:
    __slots__ = ("fresh", "fwd", "bwd", "fwd_src", "bwd_src", "n_out", "out_meta", "out_req", "diff_pos", "out_spec",
                 "rebind", "bumps", "n_saved", "fixed", "arg_new", "arg_dups", "sources", "module_leaves", "guarded",
                 "draws", "verified", "reads", "fixed_rg", "fixed_arrs", "fixed_meta", "fixed_edges", "fixed_vcs")


def _flatten(x: Any, out: list) -> Any:
    """Tensors of a pytree (tuples, lists, dicts) in order, and a spec to rebuild it."""
    from ._tensor import Tensor
    if isinstance(x, Tensor):
        out.append(x)
        return ("T", len(out) - 1)
    t = type(x)
    if t in (tuple, list):
        return (t, [_flatten(v, out) for v in x])
    if t is dict:
        return ("D", [(k, _flatten(v, out)) for k, v in x.items()])
    return ("V", x)


def _rebuild(spec: Any, vals: list) -> Any:
    kind = spec[0]
    if kind == "T":
        return vals[spec[1]]
    if kind == "V":
        return spec[1]
    if kind == "D":
        return {k: _rebuild(s, vals) for k, s in spec[1]}
    return kind(_rebuild(s, vals) for s in spec[1])


def _captured(fn: Any, modules: bool = False) -> list:
    """Tensors (or, with `modules`, nn modules) a function reads from its closure or globals (two levels into
    lists, tuples and dicts)."""
    wanted = _is_module if modules else (lambda v: isinstance(v, _TensorCls))
    code = getattr(fn, "__code__", None)
    found: list = []
    if code is None:
        return found
    pool = [c.cell_contents for c in (fn.__closure__ or ()) if _cell_ok(c)]
    g = getattr(fn, "__globals__", {})
    pool += [g[n] for n in code.co_names if n in g]

    def visit(v: Any, depth: int) -> None:
        if wanted(v):
            found.append(v)
        elif depth and type(v) in (list, tuple):
            for w in v:
                visit(w, depth - 1)
        elif depth and type(v) is dict:
            for w in v.values():
                visit(w, depth - 1)
    for v in pool:
        visit(v, 2)
    return found


def _is_module(v: Any) -> bool:
    mod = sys.modules.get("ndgrad.nn.modules.module")  # (no module exists before nn is imported)
    return mod is not None and isinstance(v, mod.Module)


def _has_tensor(v: Any, depth: int = 2) -> bool:
    from ._tensor import Tensor
    if isinstance(v, Tensor) or _is_module(v):
        return True
    if depth and type(v) in (list, tuple):
        return any(_has_tensor(w, depth - 1) for w in v)
    if depth and type(v) is dict:
        return any(_has_tensor(w, depth - 1) for w in v.values())
    return False


def _shallow(v: Any) -> Any:
    """The identities of a container's items (a list of parameters may be changed in place)."""
    if type(v) in (list, tuple):
        return tuple(id(w) for w in v)
    if type(v) is dict:
        return tuple((k, id(w)) for k, w in v.items())
    return None


def _scan(x: Any, flat: list) -> Any:
    """One pass over the arguments: the guard key (shapes, dtypes, requires_grad, values of the rest) and the
    tensors, in order."""
    if isinstance(x, _TensorCls):
        flat.append(x)
        d = x._data
        return (d.shape, d.strides, d.dtype, x._requires_grad)
    t = type(x)
    if t is tuple or t is list:
        return (t, tuple([_scan(v, flat) for v in x]))
    if t is dict:
        return (t, tuple([(k, _scan(v, flat)) for k, v in x.items()]))
    try:
        hash(x)
        return (t, x)
    except TypeError:
        return (t, id(x))


# -- Python values a call reads: guards on globals, closure cells and attributes ------------------------------------
# A number the traced function reads from outside its arguments (a global `scale`, a closure variable, a module's
# `p` or `eps`) is baked into the generated code as a literal. torch's dynamo guards on every such read; here the
# trace walks, once, what the function can reach by name: the globals and closure cells of each Python function
# (and of the functions and methods those name), and the attributes of the objects found there whose names appear
# in that code. Each becomes a probe: numbers, strings and tuples of them are compared by value, functions and
# other callables by identity. A probe that fails makes the call trace again.
_PROBE_LIMIT = 2000          # objects visited at most (a global dataset is not walked to its end)
_VALUE_TYPES = (int, float, bool, str, complex, bytes, type(None))


def _by_value(v: Any) -> bool:
    t = type(v)
    if t in _VALUE_TYPES:
        return True
    return t is tuple and len(v) <= 16 and all(_by_value(w) for w in v)


def _code_names(code: Any, acc: dict) -> None:
    acc.update(dict.fromkeys(code.co_names))
    for c in code.co_consts:
        if hasattr(c, "co_names"):
            _code_names(c, acc)


def _library(fn: Any) -> bool:
    m = getattr(fn, "__module__", None) or ""
    return m == "ndgrad" or m.startswith(("ndgrad.", "numpy", "builtins", "functools"))


def _reads(root: Any) -> tuple:
    """The probes of what `root` (a function, a bound method, a module) reads by name: ((kind, where, key,
    expected, by_value), ...)."""
    import types
    from ._tensor import Tensor
    names: dict = {"forward": None, "__call__": None}  # every name the code uses, in the order found
    probes: list = []
    objects: list = []
    seen: set = set()
    queue = [root]
    done: dict = {}  # class -> how many of `order`'s names were looked up on it

    def probe(kind: str, where: Any, key: Any, v: Any) -> None:
        if _by_value(v):
            probes.append((kind, where, key, v, True))
        elif callable(v) and not isinstance(v, (Tensor, types.ModuleType)):
            probes.append((kind, where, key, v, False))

    while True:
        while queue and len(seen) < _PROBE_LIMIT:
            v = queue.pop()
            if id(v) in seen or _by_value(v) or isinstance(v, (Tensor, np.ndarray, np.generic, types.ModuleType)):
                continue
            seen.add(id(v))
            t = type(v)
            if t is types.MethodType:
                queue += [v.__func__, v.__self__]
            elif t is functools.partial:
                queue += [v.func, *v.args, *v.keywords.values()]
            elif t is types.FunctionType:
                if _library(v):  # ndgrad's own code: its objects' options are all probed instead (below)
                    continue
                _code_names(v.__code__, names)
                for c in v.__closure__ or ():
                    if _cell_ok(c):
                        probe("cell", c, None, c.cell_contents)
                        queue.append(c.cell_contents)
                g = v.__globals__
                for n in v.__code__.co_names:
                    if n in g:
                        probe("dict", g, n, g[n])
                        queue.append(g[n])
            elif t in (list, tuple):
                queue += v[:100]
            elif t is dict:
                queue += list(v.values())[:100]
            elif isinstance(v, (type, CompiledFunction)) or callable(v) and not hasattr(v, "__dict__"):
                continue
            elif hasattr(v, "__dict__") and not isinstance(v.__dict__, types.MappingProxyType):
                objects.append(v)
                d = v.__dict__
                mods = d.get("_modules")
                if type(mods) is dict:  # a Module: its submodules by identity, then walked
                    for k, m in mods.items():
                        probes.append(("dict", mods, k, m, False))
                        queue.append(m)
                for k, w in d.items():  # (dicts and sets of an object are state, not code: hooks, caches)
                    if k[:2] != "__" and not isinstance(w, (dict, set, frozenset)) and not _by_value(w):
                        queue.append(w)
        # the methods the code names on the objects' classes (forward and what it calls), until nothing is new
        grew = False
        order = list(names)
        for tp in {type(o) for o in objects if not _library(type(o))}:
            start = done.get(tp, 0)
            for n in order[start:]:
                for klass in tp.__mro__:
                    f = klass.__dict__.get(n)
                    if f is not None:
                        if type(f) is types.FunctionType and id(f) not in seen:
                            queue.append(f)
                            grew = True
                        break
            done[tp] = len(order)
        if not grew or len(seen) >= _PROBE_LIMIT:
            break
    for o in objects:
        d = o.__dict__
        # ndgrad's own nn modules read their options through name lists (`_options`): all of them
        mine = "_parameters" in d and _library(type(o))
        for k, w in d.items():
            if k in names or mine and not k.startswith("_"):
                probe("dict", d, k, w)
    return tuple(probes)


def _reads_hold(probes: tuple) -> bool:
    for kind, where, key, expected, by_value in probes:
        if kind == "cell":
            try:
                cur = where.cell_contents
            except ValueError:
                return False
        else:
            cur = where.get(key, _MISSING)
        if by_value:
            if type(cur) is not type(expected) or not (cur == expected or cur != cur and expected != expected):
                return False
        elif cur is not expected:
            return False
    return True


def _ambient() -> tuple:
    """The global settings a traced program depends on beyond its arguments: the default dtype (`ones(3)` inside
    the function), inference mode, autocast's state (the dtypes of its ops)."""
    amp = sys.modules.get("ndgrad.amp")
    return (_default_dtype(), _MODE.inference,
            None if amp is None else tuple(tuple(v) for v in amp._STATE.values()))


def _cell_ok(c: Any) -> bool:
    try:
        c.cell_contents
        return True
    except ValueError:
        return False


class CompiledFunction:
    """What `ndgrad.compile(fn)` returns for a function (and what OptimizedModule calls)."""

    def __init__(self, fn: Callable, module: Any = None, fullgraph: bool = False, disable: bool = False) -> None:
        self.fn = fn
        self.module = module
        self.fullgraph = fullgraph
        self.disabled = disable
        self.cache: dict = {}
        self.traces = 0  # traces made (a new key, or a key whose guards failed)
        self.eager_reason: str | None = None
        self.last: _Entry | None = None
        self._mods: list | None = None
        self._find_modules()
        functools.update_wrapper(self, fn)  # type: ignore[arg-type]

    def _find_modules(self) -> None:
        """The modules whose parameters and buffers are inputs of the region: the compiled module's, and those of
        modules the function reads from its globals or closure (a training step's `model`), as dynamo lifts
        them."""
        mods: list = []
        seen: set = set()
        roots = [self.module] if self.module is not None else []
        roots += _captured(self.fn, modules=True)
        for r in roots:
            for m in r.modules():
                if id(m) not in seen:
                    seen.add(id(m))
                    mods.append(m)
        self._mods = mods or None

    # -- the source a reader can look at
    @property
    def code(self) -> str:
        """The generated forward and backward of the most recent trace (or why there is none)."""
        e = self.last
        if e is None:
            return f"# eager: {self.eager_reason}" if self.eager_reason else "# not traced yet"
        return e.fwd_src + "\n" + e.bwd_src

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        return self if obj is None else functools.partial(self.__call__, obj)

    # -- guards
    def _module_state(self) -> tuple:
        mods = self._mods
        return tuple(x.training for x in mods) if mods else ()

    def _module_leaves(self) -> tuple:
        """The module's parameters and buffers, read from each submodule's own dicts (cheap enough per call)."""
        out = []
        for m in self._mods:
            out.extend(m._parameters.values())
            out.extend(m._buffers.values())
        return tuple(t for t in out if t is not None)

    def _sources(self) -> tuple:
        """Where captured tensors come from: closure cells and global names, with the object found there."""
        fn = self.fn
        code = getattr(fn, "__code__", None)
        if code is None:
            return ()
        srcs = []
        for c in fn.__closure__ or ():
            if _cell_ok(c) and _has_tensor(c.cell_contents):
                srcs.append((c, None, c.cell_contents, _shallow(c.cell_contents)))
        g = getattr(fn, "__globals__", {})
        for n in code.co_names:
            v = g.get(n)
            if v is not None and _has_tensor(v):
                srcs.append((g, n, v, _shallow(v)))
        return tuple(srcs)

    def _fixed_leaves(self) -> list:
        leaves: list = []
        seen: set = set()
        pool = list(self._module_leaves()) if self._mods else []
        pool += _captured(self.fn)
        for t in pool:
            if id(t) not in seen:
                seen.add(id(t))
                leaves.append(t)
        return leaves

    def _guards_hold(self, e: "_Entry", flat: list) -> list | None:
        """The fixed leaves' arrays when every guard of `e` holds, else None."""
        for src, name, obj, snap in e.sources:
            cur = src.cell_contents if name is None else src.get(name)
            if cur is not obj or _shallow(cur) != snap:
                return None
        if self._mods and tuple(map(id, self._module_leaves())) != e.module_leaves:
            return None
        for i, j in e.arg_dups:
            if flat[i] is not e.fixed[j]:
                return None
        # the parameters' and captured tensors' own metadata: a flag flipped by requires_grad_(False), an array
        # swapped by `p.data = ...` (checked in full only when some array is not the one seen last time)
        fixed = e.fixed
        if [t._requires_grad for t in fixed] != e.fixed_rg:
            return None
        arrs = [t._data for t in fixed]
        if not all(map(operator.is_, arrs, e.fixed_arrs)):
            if [(d.shape, d.strides, d.dtype) for d in arrs] != e.fixed_meta:
                return None
            e.fixed_arrs = arrs
        return arrs if _reads_hold(e.reads) else None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.disabled or self.eager_reason is not None:
            return self.fn(*args, **kwargs)
        flat: list = []
        key = (_scan(args, flat), _scan(kwargs, flat) if kwargs else None, _MODE.enabled, self._module_state(),
               _ambient())
        entry = self.cache.get(key)
        if entry is not None:
            arrs = self._guards_hold(entry, flat)
            if arrs is not None:
                if not entry.verified:
                    return self._verify(entry, flat, args, kwargs)
                return self._replay(entry, flat, arrs, _MODE.enabled, args, kwargs)
        if self.traces >= RECOMPILE_LIMIT:
            self._go_eager(f"torch._dynamo hit config.recompile_limit ({RECOMPILE_LIMIT})")
            return self.fn(*args, **kwargs)
        return self._trace(key, args, kwargs, _MODE.enabled)

    def _go_eager(self, reason: str) -> None:
        self.eager_reason = reason
        _warn(f"ndgrad.compile: running {getattr(self.fn, '__qualname__', self.fn)} eagerly: {reason}",
              UserWarning, stacklevel=3)

    # -- tracing
    def _trace(self, key: Any, args: tuple, kwargs: dict, grad: bool) -> Any:
        global _TRACER, _NODE_CLS
        from ._creation import default_generator
        from ._tensor import _wrap
        from .autograd import engine
        self.traces += 1
        reads = _reads(self.fn)  # before the call: a value the call itself changes must fail the next call's guard
        self._find_modules()
        flat: list = []
        spec = _flatten((args, kwargs), flat)
        fixed = self._fixed_leaves()
        pos = {id(t): j for j, t in enumerate(fixed)}
        arg_new, arg_dups = [], []
        for i, t in enumerate(flat):
            j = pos.get(id(t))
            if j is None:
                pos[id(t)] = len(fixed) + len(arg_new)
                arg_new.append(i)
            elif j < len(fixed):
                arg_dups.append((i, j))
        leaves = fixed + [flat[i] for i in arg_new]
        if self._mods:
            for m in self._mods:
                if m._forward_hooks or m._forward_pre_hooks or m._backward_hooks or m._backward_pre_hooks:
                    return self._fail("module hooks inside a compiled region", args, kwargs)
        tr = _Tracer()
        originals = [t._data for t in leaves]
        versions = [t._vc[0] for t in leaves]
        # detached stand-ins for the argument tensors: the traced graph starts at the region's inputs
        stand: dict = {}
        for t in flat:
            if t.grad_fn is not None:
                s = _wrap(t._data)
                s._requires_grad = True
                stand[id(t)] = s
        leaf_stand = [stand.get(id(t), t) for t in leaves]
        for t, s in zip(leaves, leaf_stand):
            if s is not t:
                s._vc = t._vc
        rng_state = default_generator._state()
        snapshots = [(t, t._data.copy()) for t in leaves if not t._requires_grad]
        in_names = []
        for s, d in zip(leaf_stand, originals):
            tv = tr.var(d, "a")
            in_names.append(tr.ids[id(tv)])
            s._data = tv
        call_args = _rebuild(spec, [stand.get(id(t), t) for t in flat])
        patches = _Patches()
        seq0 = engine._node_count()
        _TRACER = tr
        patches.install()
        try:
            try:
                result = self.fn(*call_args[0], **call_args[1])
                out_flat: list = []
                out_spec = _flatten(result, out_flat)
                for o in out_flat:
                    if not isinstance(o._data, _Traced) or id(o._data) not in tr.ids:
                        if any(o is s for s in leaf_stand):
                            continue
                        raise _Break("an output was computed outside the trace")
                diff_out = [k for k, o in enumerate(out_flat) if o._requires_grad and grad]
                diff_leaf = [k for k, s in enumerate(leaf_stand) if s._requires_grad and grad]
                tr.phase = "bwd"
                g_names: list = []
                grads_b: list = [None] * len(diff_leaf)
                if diff_out:  # every path back from the outputs must end at an input of the region
                    self._check_graph([out_flat[k] for k in diff_out], [leaf_stand[k] for k in diff_leaf], seq0)
                if diff_out and diff_leaf:
                    gins = []
                    for k in diff_out:
                        o = out_flat[k]._data
                        gv = tr.var(np.ones(o.shape, o.dtype), "g")
                        g_names.append(tr.ids[id(gv)])
                        gins.append(gv)
                    res = engine.run_backward([out_flat[k] for k in diff_out], gins, False, False,
                                              inputs=[leaf_stand[k] for k in diff_leaf], capture=True,
                                              allow_unused=True)
                    for j, g in enumerate(res):
                        if g is not None:
                            name = tr.name_of(g._data)
                            if name is None:
                                raise _Break("a gradient was computed outside the trace")
                            grads_b[j] = name
            finally:
                _TRACER = None
                patches.remove()
                rebound = [k for k, (s, d) in enumerate(zip(leaf_stand, originals))
                           if s._data is not tr.values[in_names[k]]]
                rebind_vals = {k: leaf_stand[k]._data for k in rebound}
                for s, d in zip(leaf_stand, originals):
                    s._data = d
        except _Break as e:
            default_generator._restore(rng_state)
            for t, snap in snapshots:
                np.copyto(t._data, snap)
            for t, v in zip(leaves, versions):
                t._vc[0] = v
            return self._fail(str(e), args, kwargs)
        # -- generate
        out_names = [tr.name_of(o._data) if isinstance(o._data, _Traced) else None for o in out_flat]
        for k, o in enumerate(out_flat):
            if out_names[k] is None:  # an input returned as it is
                j = next(j for j, s in enumerate(leaf_stand) if s is o)
                out_names[k] = in_names[j]
        rebind_names = [tr.name_of(rebind_vals[k]) for k in rebound]
        if any(n is None for n in rebind_names):
            return self._fail("an input tensor's data was replaced by an untraced array", args, kwargs, ran=True)
        fwd_src, bwd_src, saved, ns = _generate(tr, in_names, out_names + rebind_names, g_names, grads_b)
        ns_f = dict(ns)
        exec(builtins.compile(fwd_src, f"<ndgrad.compile forward of {getattr(self.fn, '__qualname__', 'fn')}>", "exec"), ns_f)
        exec(builtins.compile(bwd_src, f"<ndgrad.compile backward of {getattr(self.fn, '__qualname__', 'fn')}>", "exec"), ns_f)
        e = _Entry()
        e.fwd, e.bwd, e.fwd_src, e.bwd_src = ns_f["forward"], ns_f["backward"], fwd_src, bwd_src
        e.n_out = len(out_flat)
        e.out_spec = out_spec
        e.out_req = [o._requires_grad for o in out_flat]
        e.diff_pos = (diff_out, diff_leaf)
        e.out_meta = [(out_flat[k]._data.shape, out_flat[k]._data.dtype) for k in diff_out]
        e.fixed, e.arg_new, e.arg_dups = fixed, arg_new, arg_dups
        e.fixed_rg = [t._requires_grad for t in fixed]
        e.fixed_arrs = [t._data for t in fixed]
        e.fixed_meta = [(d.shape, d.strides, d.dtype) for d in e.fixed_arrs]
        e.fixed_edges = None
        e.guarded = tr.guards > 0
        e.verified = False
        e.draws = any(n[5] and n[1].__class__.__name__ == "method" and n[1].__name__ in _DRAWS for n in tr.nodes)
        e.sources = self._sources()
        e.reads = reads
        e.module_leaves = tuple(map(id, self._module_leaves())) if self._mods else ()
        e.rebind = rebound
        e.bumps = [(k, t._vc[0] - v) for k, (t, v) in enumerate(zip(leaves, versions)) if t._vc[0] != v]
        e.n_saved = len(saved)
        # per gradient output: one the engine may take over as it is (a fresh C-contiguous array of the leaf's shape
        # and dtype, as traced; the guards keep the leaves' shapes and dtypes)
        fresh = []
        for j, name in enumerate(grads_b):
            name = tr.alias.get(name, name)
            lay = tr.layout.get(name) if name in tr.fresh_grads else None
            d = leaf_stand[diff_leaf[j]]._data if lay is not None else None
            fresh.append(lay is not None and lay[0] == d.shape and lay[1] == d.dtype and
                         lay[2] == _c_strides(lay[0], lay[1].itemsize))
        e.fresh = tuple(fresh) if any(fresh) else None
        self.cache[key] = e
        self.last = e
        # this call's results: the traced values (plain views), with the compiled node for their backward
        vals = {n: _plain_view(v, np.ndarray) for n, v in tr.values.items()}
        for src, dst in tr.alias.items():  # np.asarray's result is the same array as its argument
            if dst not in vals and src in vals:
                vals[dst] = vals[src]
        outs = [vals[n] for n in out_names]
        saved_vals = [vals[n] for n in saved]
        for k in rebound:
            leaves[k]._data = vals[rebind_names[rebound.index(k)]]
        return self._finish(e, leaves, outs, saved_vals, grad, bump=False)

    def _check_graph(self, outs: list, targets: list, seq0: int) -> None:
        """The traced graph may reach only the region's inputs: no captured tensor that requires grad, no
        graph from before the call."""
        from .autograd.graph import AccumulateGrad
        tset = set(id(t) for t in targets)
        seen: set = set()
        stack = [o.grad_fn for o in outs if o.grad_fn is not None]
        while stack:
            n = stack.pop()
            if id(n) in seen:
                continue
            seen.add(id(n))
            if isinstance(n, AccumulateGrad):
                if id(n.variable) not in tset:
                    raise _Break("a tensor that requires grad is used but is not an input of the compiled region "
                                 "(pass it as an argument, or make it a parameter of the module)")
                continue
            if n._seq < seq0:
                raise _Break("the traced graph reaches a graph built before the call")
            if n._hooked or n._post_hooks:
                raise _Break("hooks inside a compiled region")
            for c, _ in n.next_functions:
                if c is not None:
                    stack.append(c)

    def _fail(self, reason: str, args: tuple, kwargs: dict, ran: bool = False) -> Any:
        if self.fullgraph:
            raise Unsupported(reason)
        self._go_eager(reason)
        return self.fn(*args, **kwargs)

    # -- replay
    def _verify(self, e: _Entry, flat: list, args: tuple, kwargs: dict) -> Any:
        """The second call of an entry (new data, as a rule) runs both ways: the generated forward on copies of
        what it may change, then eager mode, whose results are returned. Unless the outputs and the updated
        buffers agree bit for bit, the function stays eager (a value the tracer missed would otherwise be
        replayed as a stale constant)."""
        from ._creation import default_generator
        leaves = e.fixed + [flat[i] for i in e.arg_new] if e.arg_new else e.fixed
        state = default_generator._state()
        snaps = [(t, t._data.copy()) for t in leaves if not t._requires_grad]
        try:
            res = e.fwd(*[t._data for t in leaves])
            outs = [np.array(r, copy=True) for r in res[:e.n_out]]
            after = [t._data.copy() for t, _ in snaps]
        except _GuardFailed:
            outs = None
        finally:
            default_generator._restore(state)
            for t, snap in snaps:
                np.copyto(t._data, snap)
        result = self.fn(*args, **kwargs)
        if outs is None:
            return result
        got: list = []
        _flatten(result, got)
        same = len(got) == len(outs) and all(
            a._data.shape == b.shape and a._data.dtype == b.dtype and np.array_equal(a._data, b, equal_nan=True)
            for a, b in zip(got, outs))
        same = same and all(np.array_equal(t._data, b, equal_nan=True) for (t, _), b in zip(snaps, after))
        if same:
            e.verified = True
        else:
            self._go_eager("the generated code did not reproduce eager mode on a second call (a value the tracer "
                           "could not see)")
        return result

    def _replay(self, e: _Entry, flat: list, arrs: list, grad: bool, args: tuple, kwargs: dict) -> Any:
        if e.arg_new:
            leaves = e.fixed + [flat[i] for i in e.arg_new]
            arrs = arrs + [flat[i]._data for i in e.arg_new]
        else:
            leaves = e.fixed
        if e.guarded:
            # a guard may fail halfway: keep what the replay could change so that eager mode can start over
            from ._creation import default_generator
            state = default_generator._state() if e.draws else None
            snaps = [(t, t._data.copy()) for t in leaves if not t._requires_grad]
            try:
                res = e.fwd(*arrs)
            except _GuardFailed:
                if state is not None:
                    default_generator._restore(state)
                for t, snap in snaps:
                    np.copyto(t._data, snap)
                return self.fn(*args, **kwargs)
        else:
            res = e.fwd(*arrs)
        n = e.n_out
        outs = res[:n]
        k0 = n
        rebind = e.rebind
        if rebind:
            for j, k in enumerate(rebind):
                leaves[k]._data = res[n + j]
            k0 = n + len(rebind)
        return self._finish(e, leaves, list(outs), list(res[k0:]), grad)

    def _finish(self, e: _Entry, leaves: list, outs: list, saved: list, grad: bool, bump: bool = True) -> Any:
        global _NODE_CLS
        if bump:
            for k, n in e.bumps:
                leaves[k]._vc[0] += n
        diff_out, diff_leaf = e.diff_pos
        tensors = []
        node = None
        if diff_out and diff_leaf:
            if _NODE_CLS is None:
                _NODE_CLS = _node_class()
            edges = e.fixed_edges
            if edges is None:
                # the fixed leaves' AccumulateGrad nodes and version counters, taken once and kept by the entry
                # (as DDP keeps the nodes)
                nf = len(e.fixed)
                edges = e.fixed_edges = tuple(_edge(leaves[k]) for k in diff_leaf if k < nf)
                e.fixed_vcs = [(j, leaves[k]._vc, leaves[k]) for j, k in enumerate(diff_leaf) if k < nf]
            versions = [(j, vc, vc[0], t) for j, vc, t in e.fixed_vcs]
            if len(edges) < len(diff_leaf):  # argument tensors: new ones at each call
                rest = diff_leaf[len(edges):]
                edges = edges + tuple(_edge(leaves[k]) for k in rest)
                versions += [(j, leaves[k]._vc, leaves[k]._vc[0], leaves[k]) for j, k in enumerate(rest, len(versions))]
            node = _NODE_CLS(edges, saved, versions, ())
            nd = node.__dict__
            nd["_entry"] = e
            if len(edges) == len(e.fixed_edges):
                nd["_distinct_leaves"] = True  # (the fixed leaves are distinct tensors: _fixed_leaves drops repeats)
            if e.fresh is not None:
                nd["_fresh_grads"] = e.fresh
        pos = {k: j for j, k in enumerate(diff_out)}
        for k, arr in enumerate(outs):
            if arr.__class__ is not np.ndarray:
                arr = np.asarray(arr)
            j = pos.get(k)
            if node is not None and j is not None:
                tensors.append(_wrap(arr, None, node, j))
            else:
                tensors.append(_wrap(arr))
        return _rebuild(e.out_spec, tensors)


# -- the public entry points ----------------------------------------------------------------------------------------
def _optimized_module_class() -> type:
    from .nn.modules.module import Module

    class OptimizedModule(Module):
        """What `ndgrad.compile(module)` returns (torch: torch._dynamo.eval_frame.OptimizedModule): the module
        as `_orig_mod` (so state_dict keys gain the `_orig_mod.` prefix, as in torch), called through the
        compiled forward."""

        def __init__(self, mod: Any, fullgraph: bool = False, disable: bool = False) -> None:
            super().__init__()
            self._orig_mod = mod
            self.__dict__["_compiled"] = CompiledFunction(mod.forward, mod, fullgraph, disable)

        def forward(self, *args: Any, **kwargs: Any) -> Any:
            return self.__dict__["_compiled"](*args, **kwargs)

        @property
        def code(self) -> str:
            return self.__dict__["_compiled"].code

        def __getattr__(self, name: str) -> Any:
            try:
                return super().__getattr__(name)
            except AttributeError:
                return getattr(self._modules["_orig_mod"], name)
    return OptimizedModule


_OPT_CLS: Any = None


def compile(model: Callable | None = None, *, fullgraph: bool = False, dynamic: bool | None = None,
            backend: str | Callable = "inductor", mode: str | None = None, options: dict | None = None,
            disable: bool = False) -> Any:
    """Mirrors `torch.compile`: returns the function (or, for a module, an OptimizedModule) compiled to
    straight-line NumPy code on its first call (see this module's docstring). Also a decorator."""
    global _OPT_CLS
    if model is None:   # a decorator: torch checks the arguments when it is applied
        def fn(model: Callable) -> Any:
            if model is None:
                raise RuntimeError("Model can't be None")
            return compile(model, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode, options=options,
                           disable=disable)
        return fn
    # torch's checks, in its order
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be specified at the same time.")
    if backend == "inductor":   # the mode and options are the inductor's
        if mode not in _MODES:
            raise RuntimeError(f"Unrecognized mode={mode}, should be one of: default, lite, reduce-overhead, "
                               "max-autotune-no-cudagraphs, max-autotune")
        if options is not None and not isinstance(options, dict):
            from ._argcheck import attribute_error
            raise attribute_error(options, "items")
    elif isinstance(backend, str) and backend not in _BACKENDS:
        raise InvalidBackend(f"Invalid backend: '{backend}', see `torch._dynamo.list_backends()` for available "
                             "backends.")
    if dynamic is not None and type(dynamic) is not bool:
        raise AssertionError(f"Expected enable to be a bool, got {type(dynamic)}")
    if not callable(model):
        raise AssertionError(f"A callable function is expected, but {type(model)} is provided.")
    from .nn.modules.module import Module
    if isinstance(model, Module):
        if _OPT_CLS is None:
            _OPT_CLS = _optimized_module_class()
        return _OPT_CLS(model, fullgraph, disable)
    if not isinstance(backend, str) and not callable(backend) and model is not MODULE_CHECK:
        # torch fails so on the first call (dynamo hands the graph to the backend); refused here, up front
        raise BackendCompilerFailed(f"backend='{backend}' raised:\nTypeError: '{type(backend).__name__}' object is "
                                    "not callable")
    return CompiledFunction(model, None, fullgraph, disable)


def MODULE_CHECK() -> None:
    """What `Module.compile` hands to compile() to check its arguments: a module's forward never reaches the
    backend in torch (dynamo skips nn.Module's call machinery), so a backend that is not callable passes there."""



