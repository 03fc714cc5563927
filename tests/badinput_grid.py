"""The bad-input grid: every public callable ndgrad shares with torch, crossed with hostile argument patterns.

Each callable gets one valid *baseline* call (built from specs, so that the same call can be made with
torch and with ndgrad); each *cell* replaces one argument of the baseline by a hostile value chosen by the
kind of value it replaces (a tensor by None, a string, a list of strings, a ragged list, a list of numbers,
another dtype, an empty or 0-d tensor, another shape; an int (dim or size) by values out of range of both
signs, -1, a float, NaN, inf, a string, None; a float (probability, rate...) by NaN, inf, -1, 2, a string,
None; ...), or adds an unknown keyword, one argument too many, or drops the last one. A function handed to a
transform (torch.func, compile) is replaced by None, a string, or a function that returns a float, a non-scalar,
a tuple or None, branches on a tensor's value, calls .item() or draws random numbers; the transforms are entries
that compose the transform and the call of its result. torch.distributed is called before any process group
exists, and no cell starts one.

A cell agrees when both libraries succeed with results of the same shapes and dtypes, or both raise the same
exception class (and, where torch's message belongs to a stable family such as "argument 'input'
(position 1) must be Tensor, not str" or "Dimension out of range...", the same message).

    python tests/badinput_grid.py            # the figure, and every disagreeing cell grouped by callable
    python tests/badinput_grid.py add sum    # only callables whose name contains one of the words
"""
from __future__ import annotations

import inspect
import itertools
import math
import numbers
import re
import signal
import sys
import time
import warnings
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

# ---------------------------------------------------------------------------------------------------------
# specs: descriptions of arguments, materialised for one library at a time (each call gets fresh tensors)


class Spec:
    def make(self, lib):  # pragma: no cover - abstract
        raise NotImplementedError


def _seed(shape, fill) -> int:
    return sum(map(ord, fill)) * 131 + len(shape) * 17 + int(np.prod(shape))


def _data(shape: tuple, dtype: str, fill: str) -> np.ndarray:
    rng = np.random.default_rng(_seed(shape, fill))
    if fill == "idx":
        a = rng.integers(0, 3, size=shape)
    elif fill == "label":
        a = rng.integers(0, 4, size=shape)
    elif fill == "bool":
        a = rng.random(shape) < 0.5
    elif fill == "spd":
        a = rng.uniform(-1, 1, size=shape)
        if len(shape) >= 2 and shape[-1] == shape[-2] and shape[-1]:
            a = a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])
    elif fill == "prob":
        a = rng.uniform(0.1, 0.9, size=shape)
        if len(shape) and shape[-1]:
            a = a / a.sum(-1, keepdims=True)
    else:  # "rand"
        a = rng.uniform(0.1, 0.9, size=shape)
    if dtype.startswith("complex"):
        a = a + 0.5j
    return np.asarray(a).astype(dtype)


class T(Spec):
    """A tensor: shape, dtype name, fill ("rand" in (0.1, 0.9), "idx" ints in [0, 3), "label" in [0, 4),
    "bool", "spd" symmetric positive definite, "prob" rows summing to 1); rg: requires grad, param: nn.Parameter."""

    def __init__(self, shape=(3, 4), dtype="float32", fill="rand", rg=False, param=False):
        self.shape, self.dtype, self.fill, self.rg, self.param = tuple(shape), dtype, fill, rg, param

    def like(self, **kw) -> "T":
        d = dict(shape=self.shape, dtype=self.dtype, fill=self.fill, rg=self.rg, param=self.param)
        d.update(kw)
        return T(**d)

    def make(self, lib):
        t = lib.tensor(_data(self.shape, self.dtype, self.fill))
        if self.param:
            return lib.nn.Parameter(t)
        if self.rg:
            t.requires_grad_()
        return t

    def __repr__(self):
        extra = "" if self.dtype == "float32" else f",{self.dtype}"
        return f"T{list(self.shape)}{extra}"


class Dt(Spec):
    """A dtype by name."""

    def __init__(self, name):
        self.name = name

    def make(self, lib):
        return getattr(lib, self.name)

    def __repr__(self):
        return self.name


class Obj(Spec):
    """Anything else, built by `fn(lib)`; `tag` says which hostile values apply ("params", "dataset", ...)."""

    def __init__(self, label, fn, tag="obj"):
        self.label, self.fn, self.tag = label, fn, tag

    def make(self, lib):
        return self.fn(lib)

    def __repr__(self):
        return self.label


class Fn(Obj):
    """A Python function handed to a transform (torch.func, compile), built for one library by `fn(lib)`: hostile
    values for it are other functions (returning a float, a non-scalar, a tuple; data-dependent control flow,
    `.item()`, random draws inside) besides None and a string."""

    def __init__(self, label, fn):
        super().__init__(label, fn, "fn")


FN_SUM = Fn("lambda x: x.sin().sum()", lambda L: lambda x: x.sin().sum())
FN_VEC = Fn("lambda x: x.sin()", lambda L: lambda x: x.sin())
HOSTILE_FNS = [
    ("fn_float", Fn("lambda x: 1.5", lambda L: lambda x: 1.5)),
    ("fn_vector", Fn("lambda x: x.sin()", lambda L: lambda x: x.sin())),
    ("fn_tuple", Fn("lambda x: (x.sin().sum(), x.cos())", lambda L: lambda x: (x.sin().sum(), x.cos()))),
    ("fn_none", Fn("lambda x: None", lambda L: lambda x: None)),
    ("fn_control_flow", Fn("lambda x: x.sin().sum() if x.sum() > 0 else x.cos().sum()",
                           lambda L: lambda x: x.sin().sum() if x.sum() > 0 else x.cos().sum())),
    ("fn_item", Fn("lambda x: x.sin().sum() * x.sum().item()", lambda L: lambda x: x.sin().sum() * x.sum().item())),
    ("fn_random", Fn("lambda x: (x * rand_like(x)).sum()", lambda L: lambda x: (x * L.rand_like(x)).sum())),
    ("fn_two_args", Fn("lambda x, y: x.sum()", lambda L: lambda x, y: x.sum())),
]


def materialize(v, lib):
    if isinstance(v, Spec):
        return v.make(lib)
    if type(v) is list:
        return [materialize(e, lib) for e in v]
    if type(v) is tuple:
        return tuple(materialize(e, lib) for e in v)
    if type(v) is dict:
        return {k: materialize(e, lib) for k, e in v.items()}
    return v


# ---------------------------------------------------------------------------------------------------------
# the callables

# names left out of the grid, with the reason
EXCLUDE = {
    # global state, files, processes: a hostile call would change what later cells see
    **{n: "changes global state" for n in (
        "manual_seed", "seed", "set_default_device", "set_default_dtype", "set_default_tensor_type",
        "set_deterministic_debug_mode", "set_float32_matmul_precision", "set_flush_denormal",
        "set_num_interop_threads", "set_num_threads", "set_printoptions", "set_rng_state", "set_warn_always",
        "use_deterministic_algorithms", "get_rng_state", "initial_seed")},
    "save": "writes files", "load": "reads files", "compile": "in the grid as compile-then-call (_transform_entries)",
    "from_dlpack": "interop protocol",
    "get_device_module": "device registry", "get_autocast_dtype": "device registry",
    "is_autocast_enabled": "device registry",
    # legacy typed-tensor classes (types in torch)
    **{n: "a type in torch" for n in ("BFloat16Tensor", "BoolTensor", "ByteTensor", "CharTensor", "DoubleTensor",
                                      "FloatTensor", "HalfTensor", "IntTensor", "LongTensor", "ShortTensor")},
    # Tensor methods that are not math
    **{f"Tensor.{n}": "not math: memory, devices, hooks or autograd bookkeeping" for n in (
        "backward", "cuda", "cpu", "pin_memory", "share_memory_", "data_ptr", "register_hook",
        "register_post_accumulate_grad_hook", "retain_grad", "apply_", "map_", "is_pinned", "is_shared",
        "get_device", "storage_offset", "element_size", "numpy", "resize", "resize_", "resize_as_", "detach_",
        "requires_grad_", "is_inference", "type")},
    "nn.Module": "abstract base", "nn.RNNBase": "abstract base", "nn.RNNCellBase": "abstract base",
    "nn.DataParallel": "wraps a module for devices", "optim.Optimizer": "abstract base",
    "utils.data.Dataset": "abstract base", "utils.data.IterableDataset": "abstract base",
    "utils.data.Sampler": "abstract base", "utils.data.DistributedSampler": "needs a process group",
    "utils.data.get_worker_info": "worker state", "utils.data.ChainDataset": "iterable datasets only",
}


@dataclass
class Entry:
    qual: str      # "add", "Tensor.add", "nn.functional.relu", "nn.Linear", "optim.SGD", "utils.data.DataLoader"
    kind: str      # "fn", "method", "module", "optim", "data"
    get: Callable  # lib -> the callable (methods: a function of (self, *args))


def _method(name):
    def get(lib):
        def call(self, *a, **k):
            return getattr(self, name)(*a, **k)
        return call
    return get


def _attr(path):
    def get(lib):
        o = lib
        for p in path.split("."):
            o = getattr(o, p)
        return o
    return get


def _names(mod):
    """A namespace's public names: torch's dir(); for ndgrad (no torch), its declared names, since dir() of a
    module that resolves names lazily grows as they are used."""
    if mod.__name__.split(".")[0] != "ndgrad":
        return sorted(dir(mod))
    names = set(getattr(mod, "__all__", ()))
    names |= set(getattr(mod, "_LAZY_ATTRS", ()))
    return sorted(names)


def _public_fns(nd_mod, t_mod, prefix, unavailable):
    out = []
    for n in _names(t_mod):
        if n.startswith("_") or (prefix + n) in EXCLUDE or (prefix + n) in unavailable:
            continue
        try:
            to = getattr(t_mod, n)
        except Exception:  # noqa: BLE001
            continue
        if not callable(to) or inspect.isclass(to) or inspect.ismodule(to):
            continue
        try:
            o = getattr(nd_mod, n)
        except Exception:  # noqa: BLE001
            continue
        if callable(o) and not inspect.isclass(o) and not inspect.ismodule(o) and not _is_placeholder(o):
            out.append(Entry(prefix + n, "fn", _attr(prefix + n)))
    return out


def _is_placeholder(o) -> bool:
    return type(o).__module__ == "ndgrad._unavailable"


def callables(torch=None):
    """Every callable of the grid. The names come from torch when it is given, else from a list of torch's
    namespaces kept with ndgrad's (the names both provide)."""
    import ndgrad
    import ndgrad.fft  # noqa: F401
    import ndgrad.linalg  # noqa: F401
    import ndgrad.nn.functional  # noqa: F401
    import ndgrad.optim  # noqa: F401
    import ndgrad.special  # noqa: F401
    import ndgrad.utils.data  # noqa: F401
    import ndgrad.distributed  # noqa: F401
    from ndgrad._unavailable import UNAVAILABLE
    ref = torch if torch is not None else ndgrad
    entries = []
    for prefix, path in (("", ""), ("nn.functional.", "nn.functional"), ("linalg.", "linalg"),
                         ("special.", "special"), ("fft.", "fft")):
        nd_mod = _attr(path)(ndgrad) if path else ndgrad
        t_mod = _attr(path)(ref) if path else ref
        entries += _public_fns(nd_mod, t_mod, prefix, UNAVAILABLE)
    for n in sorted(dir(ref.Tensor)):
        q = "Tensor." + n
        if n.startswith("_") or q in EXCLUDE or q in UNAVAILABLE:
            continue
        try:
            a = inspect.getattr_static(ndgrad.Tensor, n)
            ta = inspect.getattr_static(ref.Tensor, n)
        except AttributeError:
            continue
        if isinstance(a, property) or isinstance(ta, property) or type(ta).__name__ == "getset_descriptor":
            continue
        if callable(getattr(ndgrad.Tensor, n)) and not _is_placeholder(getattr(ndgrad.Tensor, n)):
            entries.append(Entry(q, "method", _method(n)))
    for prefix, path, base, kind in (("nn.", "nn", "Module", "module"), ("optim.", "optim", "Optimizer", "optim")):
        t_mod = _attr(path)(ref)
        b = getattr(_attr(path)(ref), base) if kind == "module" else _attr("optim.Optimizer")(ref)
        for n in sorted(dir(t_mod)):
            o = getattr(t_mod, n, None)
            if not inspect.isclass(o) or not issubclass(o, b) or (prefix + n) in EXCLUDE or (prefix + n) in UNAVAILABLE:
                continue
            if hasattr(_attr(path)(ndgrad), n):
                entries.append(Entry(prefix + n, kind, _attr(prefix + n)))
    for n in ("TensorDataset", "DataLoader", "random_split", "Subset", "ConcatDataset", "StackDataset",
              "RandomSampler", "SequentialSampler", "BatchSampler", "SubsetRandomSampler", "WeightedRandomSampler",
              "default_collate", "default_convert"):
        if hasattr(ref.utils.data, n) and hasattr(ndgrad.utils.data, n):
            entries.append(Entry("utils.data." + n, "data", _attr("utils.data." + n)))
    entries += _transform_entries(ref)
    entries += _public_fns(ndgrad.distributed, ref.distributed, "distributed.", UNAVAILABLE)
    for n in ("Backend", "ReduceOp"):
        entries.append(Entry("distributed." + n, "fn", _attr("distributed." + n)))
    return entries


# torch.func's transforms take a function and give a function: each entry composes the transform and the call of
# its result, so that hostile values reach the transform's arguments (argnums, in_dims, chunk_size, randomness...),
# the function itself and the inputs. An entry's call is call(func, *inputs, **kwargs): the kwargs named in
# `_TRANSFORM_KW` go to the transform, the others to the transformed function.
_TRANSFORM_KW = {
    "vmap": ("in_dims", "out_dims", "randomness", "chunk_size"), "grad": ("argnums", "has_aux"),
    "grad_and_value": ("argnums", "has_aux"), "jacrev": ("argnums", "has_aux", "chunk_size"),
    "jacfwd": ("argnums", "has_aux", "randomness"), "hessian": ("argnums",),
}


def _transform(name):
    def get(lib):
        tr = getattr(lib.func, name)

        def call(func, *inputs, **kw):
            tkw = {k: kw.pop(k) for k in list(kw) if k in _TRANSFORM_KW[name]}
            return tr(func, **tkw)(*inputs, **kw)
        return call
    return get


def _vjp_call(lib):
    def call(func, primal, cotangent, **kw):
        out, vjp_fn = lib.func.vjp(func, primal, **kw)[:2]
        return out, vjp_fn(cotangent)
    return call


def _reset_dynamo(lib):
    """A fresh dynamo for each torch cell: its caches (per code object, recompile limits) would make a cell's
    outcome depend on the cells before it."""
    if lib.__name__ == "torch":
        lib._dynamo.reset()


class _DynamoSideEffects:
    """Dynamo turns off torch.distributions' argument validation for the whole process when it compiles
    (Distribution._validate_args = False): put it back, or later tests see torch without its checks."""

    def __init__(self, lib):
        self.dist = lib.distributions.Distribution if lib.__name__ == "torch" else None

    def __enter__(self):
        if self.dist is not None:
            self.saved = self.dist._validate_args

    def __exit__(self, *exc):
        if self.dist is not None:
            self.dist._validate_args = self.saved


def _compile_call(lib):
    def call(func, *inputs, **kw):
        _reset_dynamo(lib)
        with _DynamoSideEffects(lib):
            return lib.compile(func, **kw)(*inputs)
    return call


def _module_compile_call(lib):
    def call(x, *args, **kw):
        _reset_dynamo(lib)
        with _DynamoSideEffects(lib):
            m = lib.nn.Linear(4, 2)
            m.compile(*args, **kw)
            return m(x)
    return call


def _transform_entries(ref):
    import ndgrad
    import ndgrad.func  # noqa: F401
    out = []
    for n in sorted(_TRANSFORM_KW):
        if hasattr(ref.func, n) and hasattr(ndgrad.func, n):
            out.append(Entry("func." + n, "fn", _transform(n)))
    out.append(Entry("func.vjp", "fn", _vjp_call))
    for n in ("jvp", "functional_call", "stack_module_state"):
        if hasattr(ref.func, n) and hasattr(ndgrad.func, n):
            out.append(Entry("func." + n, "fn", _attr("func." + n)))
    out.append(Entry("compile", "fn", _compile_call))
    out.append(Entry("nn.Module.compile", "fn", _module_compile_call))
    return out


# ---------------------------------------------------------------------------------------------------------
# baselines

X = T()                                   # (3, 4) float32 in (0.1, 0.9)
X2 = T((4, 5))
V = T((5,))
V3 = T((3,))
S = T((3, 3), fill="spd")
S3 = T((2, 3, 3), fill="spd")
B3 = T((2, 3, 4))
I = T((3, 4), "int64", "idx")
IV = T((2,), "int64", "idx")
BL = T((3, 4), "bool", "bool")
LBL = T((3,), "int64", "label")
P = T((3, 4), fill="prob")
IMG1 = T((2, 3, 6))
IMG2 = T((2, 3, 6, 6))
IMG3 = T((1, 2, 4, 4, 4))
W1, W2, W3 = T((4, 3, 3)), T((4, 3, 3, 3)), T((3, 2, 2, 2, 2))
Q = T((2, 2, 3, 4))                       # (batch, heads, seq, embed) for attention

GENERIC = [  # in order of preference: the first one torch accepts is the baseline
    (X, X, X), (X, X, 0.5), (X, X), (X, 1, True), (X, 1, I), (X, 0, IV), (X, 2, 1), (X, 0, 1), (X, (1,)), (X, 1),
    (X, 0.5), (X, 2), (X, LBL), (X, X2), (X, X2.like(shape=(4, 4))), (X, V.like(shape=(4,))), (X,),
    (BL, X, X), (X, BL, X), (X, BL, 0.5),
    (S, S, S), (S, S), (S,), (S3,), (V, V, V), (V, V), (V, 2), (V,),
    (B3, B3.like(shape=(2, 4, 3))), (B3, B3), (B3, 1, 2), (B3,),
    (I, I), (I, 1), (I,), (BL, BL), (BL,), (P, P), (P, 2), (P,),
    ([X, X], 1), ([X, X], 0), ([X, X],), ((X, X),), ((3, 4),), (3, 4), (3,), (0.5,), (X.like(shape=(4,)),),
    (IMG2, W2), (IMG1, W1), (IMG3, W3), (IMG2, (3, 3)), (IMG2, 2), (IMG1, 2), (IMG3, 2), (IMG2,),
    (T((4,), "int64", "idx"),), (),
]


def _kw(args=(), **kwargs):
    return (tuple(args), kwargs)


# explicit baselines, tried in order before the generic candidates (the first that torch accepts is used)
BASE: dict = {
    "narrow": [_kw((X, 1, 1, 2))], "Tensor.narrow": [_kw((X, 1, 1, 2))],
    "select": [_kw((X, 1, 2))], "Tensor.select": [_kw((X, 1, 2))],
    "gather": [_kw((X, 1, I))], "Tensor.gather": [_kw((X, 1, I))],
    "scatter": [_kw((X, 1, I, X))], "Tensor.scatter": [_kw((X, 1, I, X))], "Tensor.scatter_": [_kw((X, 1, I, X))],
    "scatter_add": [_kw((X, 1, I, X))], "Tensor.scatter_add": [_kw((X, 1, I, X))],
    "Tensor.scatter_add_": [_kw((X, 1, I, X))],
    "scatter_reduce": [_kw((X, 1, I, X, "sum"))], "Tensor.scatter_reduce": [_kw((X, 1, I, X, "sum"))],
    "Tensor.scatter_reduce_": [_kw((X, 1, I, X, "sum"))],
    "index_add": [_kw((X, 0, IV, T((2, 4))))], "Tensor.index_add": [_kw((X, 0, IV, T((2, 4))))],
    "Tensor.index_add_": [_kw((X, 0, IV, T((2, 4))))],
    "index_copy": [_kw((X, 0, IV.like(fill="label", shape=(1,)), T((1, 4))))],
    "Tensor.index_copy": [_kw((X, 0, IV.like(fill="label", shape=(1,)), T((1, 4))))],
    "Tensor.index_copy_": [_kw((X, 0, IV.like(fill="label", shape=(1,)), T((1, 4))))],
    "index_fill": [_kw((X, 0, IV, 0.5))], "Tensor.index_fill": [_kw((X, 0, IV, 0.5))],
    "Tensor.index_fill_": [_kw((X, 0, IV, 0.5))],
    "index_select": [_kw((X, 0, IV))], "Tensor.index_select": [_kw((X, 0, IV))],
    "index_put": [_kw((X, (IV,), T((4,))))], "Tensor.index_put": [_kw((X, (IV,), T((4,))))],
    "Tensor.index_put_": [_kw((X, (IV,), T((4,))))],
    "masked_fill": [_kw((X, BL, 0.5))], "Tensor.masked_fill": [_kw((X, BL, 0.5))],
    "Tensor.masked_fill_": [_kw((X, BL, 0.5))],
    "masked_scatter": [_kw((X, BL, X))], "Tensor.masked_scatter": [_kw((X, BL, X))],
    "Tensor.masked_scatter_": [_kw((X, BL, X))],
    "masked_select": [_kw((X, BL))], "Tensor.masked_select": [_kw((X, BL))],
    "take": [_kw((X, IV))], "Tensor.take": [_kw((X, IV))],
    "put": [_kw((X, IV, T((2,))))], "Tensor.put": [_kw((X, IV, T((2,))))], "Tensor.put_": [_kw((X, IV, T((2,))))],
    "take_along_dim": [_kw((X, I, 1))], "Tensor.take_along_dim": [_kw((X, I, 1))],
    "where": [_kw((BL, X, X))], "Tensor.where": [_kw((X, BL, X))],
    "addmm": [_kw((X, X, X2.like(shape=(4, 4))))],
    "Tensor.addmm": [_kw((X, X, X2.like(shape=(4, 4))))],
    "addmv": [_kw((V3, X, T((4,))))], "Tensor.addmv": [_kw((V3, X, T((4,))))], "Tensor.addmv_": [_kw((V3, X, T((4,))))],
    "addr": [_kw((X, V3, T((4,))))], "Tensor.addr": [_kw((X, V3, T((4,))))], "Tensor.addr_": [_kw((X, V3, T((4,))))],
    "addbmm": [_kw((X, B3.like(shape=(2, 3, 5)), B3.like(shape=(2, 5, 4))))],
    "Tensor.addbmm": [_kw((X, B3.like(shape=(2, 3, 5)), B3.like(shape=(2, 5, 4))))],
    "Tensor.addbmm_": [_kw((X, B3.like(shape=(2, 3, 5)), B3.like(shape=(2, 5, 4))))],
    "baddbmm": [_kw((B3, B3.like(shape=(2, 3, 5)), B3.like(shape=(2, 5, 4))))],
    "Tensor.baddbmm": [_kw((B3, B3.like(shape=(2, 3, 5)), B3.like(shape=(2, 5, 4))))],
    "Tensor.baddbmm_": [_kw((B3, B3.like(shape=(2, 3, 5)), B3.like(shape=(2, 5, 4))))],
    "addcmul": [_kw((X, X, X), value=0.5)], "Tensor.addcmul": [_kw((X, X, X), value=0.5)],
    "Tensor.addcmul_": [_kw((X, X, X), value=0.5)],
    "addcdiv": [_kw((X, X, X), value=0.5)], "Tensor.addcdiv": [_kw((X, X, X), value=0.5)],
    "Tensor.addcdiv_": [_kw((X, X, X), value=0.5)],
    "full": [_kw(((3, 4), 0.5))], "full_like": [_kw((X, 0.5))], "Tensor.new_full": [_kw((X, (3, 4), 0.5))],
    "Tensor.new_empty": [_kw((X, (3, 4)))], "Tensor.new_zeros": [_kw((X, (3, 4)))],
    "Tensor.new_ones": [_kw((X, (3, 4)))],
    "arange": [_kw((0, 5, 1))], "linspace": [_kw((0.0, 1.0, 5))], "logspace": [_kw((0.0, 1.0, 5))],
    "eye": [_kw((3, 4))], "randint": [_kw((0, 5, (3, 4)))], "randint_like": [_kw((X, 0, 5))],
    "randperm": [_kw((5,))], "tril_indices": [_kw((3, 4, 0))], "triu_indices": [_kw((3, 4, 0))],
    "normal": [_kw((X, X))], "multinomial": [_kw((P, 2))], "Tensor.multinomial": [_kw((P, 2))],
    "poisson": [_kw((X,))], "bernoulli": [_kw((X,))],
    "split": [_kw((X, 2, 1))], "Tensor.split": [_kw((X, 2, 1))],
    "split_with_sizes": [_kw((X, [1, 3], 1))], "Tensor.split_with_sizes": [_kw((X, [1, 3], 1))],
    "tensor_split": [_kw((X, 2, 1))], "Tensor.tensor_split": [_kw((X, 2, 1))],
    "chunk": [_kw((X, 2, 1))], "Tensor.chunk": [_kw((X, 2, 1))],
    **{f"{m}{n}": [_kw((B3 if n == "dsplit" else X, 2 if n != "vsplit" else [1]))]
       for m in ("", "Tensor.") for n in ("hsplit", "vsplit", "dsplit")},
    "unflatten": [_kw((X, 1, (2, 2)))], "Tensor.unflatten": [_kw((X, 1, (2, 2)))],
    "reshape": [_kw((X, (4, 3)))], "Tensor.reshape": [_kw((X, 4, 3))], "Tensor.view": [_kw((X, 4, 3))],
    "Tensor.expand": [_kw((T((3, 1)), 3, 4))], "broadcast_to": [_kw((T((3, 1)), (3, 4)))],
    "Tensor.broadcast_to": [_kw((T((3, 1)), (3, 4)))],
    "permute": [_kw((X, (1, 0)))], "Tensor.permute": [_kw((X, 1, 0))],
    "movedim": [_kw((B3, 0, 2))], "moveaxis": [_kw((B3, 0, 2))], "Tensor.movedim": [_kw((B3, 0, 2))],
    "Tensor.moveaxis": [_kw((B3, 0, 2))],
    "repeat_interleave": [_kw((X, 2, 1))], "Tensor.repeat_interleave": [_kw((X, 2, 1))],
    "Tensor.repeat": [_kw((X, 2, 1))], "tile": [_kw((X, (2, 1)))], "Tensor.tile": [_kw((X, (2, 1)))],
    "roll": [_kw((X, 1, 1))], "Tensor.roll": [_kw((X, 1, 1))], "flip": [_kw((X, (0, 1)))],
    "Tensor.flip": [_kw((X, 0, 1))], "rot90": [_kw((X, 1, (0, 1)))], "Tensor.rot90": [_kw((X, 1, (0, 1)))],
    "diagonal": [_kw((B3, 0, 1, 2))], "Tensor.diagonal": [_kw((B3, 0, 1, 2))],
    "diag_embed": [_kw((X, 0, 0, 1))], "Tensor.diag_embed": [_kw((X, 0, 0, 1))],
    "einsum": [_kw(("ij,kj->ik", X, X))], "tensordot": [_kw((X, X2, 1))],
    "kthvalue": [_kw((X, 2, 1))], "Tensor.kthvalue": [_kw((X, 2, 1))],
    "topk": [_kw((X, 2, 1))], "Tensor.topk": [_kw((X, 2, 1))],
    "quantile": [_kw((X, 0.5, 1))], "Tensor.quantile": [_kw((X, 0.5, 1))],
    "nanquantile": [_kw((X, 0.5, 1))], "Tensor.nanquantile": [_kw((X, 0.5, 1))],
    "histc": [_kw((X, 5, 0.0, 1.0))], "Tensor.histc": [_kw((X, 5, 0.0, 1.0))],
    "histogram": [_kw((X, 5))], "Tensor.histogram": [_kw((X, 5))],
    "bincount": [_kw((T((4,), "int64", "idx"),))], "Tensor.bincount": [_kw((T((4,), "int64", "idx"),))],
    "bucketize": [_kw((X, T((4,)).like(fill="rand")))], "searchsorted": [_kw((T((4,)), X))],
    "clamp": [_kw((X, 0.2, 0.8))], "clip": [_kw((X, 0.2, 0.8))], "Tensor.clamp": [_kw((X, 0.2, 0.8))],
    "Tensor.clip": [_kw((X, 0.2, 0.8))], "Tensor.clamp_": [_kw((X, 0.2, 0.8))], "Tensor.clip_": [_kw((X, 0.2, 0.8))],
    "lerp": [_kw((X, X, 0.5))], "Tensor.lerp": [_kw((X, X, 0.5))], "Tensor.lerp_": [_kw((X, X, 0.5))],
    "threshold": [_kw((X, 0.5, 0.0))], "threshold_": [_kw((X, 0.5, 0.0))],
    "nn.functional.threshold": [_kw((X, 0.5, 0.0))], "nn.functional.threshold_": [_kw((X, 0.5, 0.0))],
    "cdist": [_kw((X, X2.like(shape=(2, 4))))], "dist": [_kw((X, X, 2))], "Tensor.dist": [_kw((X, X, 2))],
    "renorm": [_kw((X, 2, 0, 1.0))], "Tensor.renorm": [_kw((X, 2, 0, 1.0))],
    "cross": [_kw((V3, V3.like(fill="idx", dtype="float32")))], "Tensor.cross": [_kw((V3, V3))],
    "cholesky_solve": [_kw((X.like(shape=(3, 2)), S))], "Tensor.cholesky_solve": [_kw((X.like(shape=(3, 2)), S))],
    "triangular_solve": [_kw((X.like(shape=(3, 2)), S))],
    "Tensor.triangular_solve": [_kw((X.like(shape=(3, 2)), S))],
    "lu_solve": [], "lu_unpack": [],
    "lstsq": [_kw((S, X.like(shape=(3, 2))))],
    "polygamma": [_kw((1, X))], "Tensor.polygamma": [_kw((X, 1))], "Tensor.polygamma_": [_kw((X, 1))],
    "mvlgamma": [_kw((X.like(fill="spd", shape=(3, 4)), 1))], "Tensor.mvlgamma": [_kw((X, 1))],
    "stft": [_kw((T((16,)), 8), return_complex=True)], "Tensor.stft": [_kw((T((16,)), 8), return_complex=True)],
    "istft": [], "Tensor.istft": [],
    "unravel_index": [_kw((T((3,), "int64", "idx"), (3, 4)))],
    "combinations": [_kw((V, 2))], "vander": [_kw((V, 3))],
    "block_diag": [_kw((X, X))], "cartesian_prod": [_kw((V, V))], "meshgrid": [_kw((V, V), indexing="ij")],
    "broadcast_tensors": [_kw((X, V.like(shape=(4,))))], "broadcast_shapes": [_kw(((3, 1), (4,)))],
    "atleast_1d": [_kw((X,))], "complex": [_kw((X, X))], "polar": [_kw((X, X))],
    "view_as_complex": [_kw((T((3, 2)),))], "view_as_real": [_kw((T((3,), "complex64"),))],
    "Tensor.view_as": [_kw((X, X2.like(shape=(4, 3))))], "Tensor.reshape_as": [_kw((X, X2.like(shape=(4, 3))))],
    "Tensor.expand_as": [_kw((T((3, 1)), X))], "Tensor.type_as": [_kw((X, I))],
    "Tensor.sum_to_size": [_kw((X, 1, 4))], "Tensor.to": [_kw((X, Dt("float64")))],
    "Tensor.new_tensor": [_kw((X, [1.0, 2.0]))], "Tensor.new": [_kw((X, 2, 3))],
    "Tensor.fill_": [_kw((X, 0.5))], "Tensor.copy_": [_kw((X, X))],
    "Tensor.uniform_": [_kw((X, 0.0, 1.0))], "Tensor.normal_": [_kw((X, 0.0, 1.0))],
    "Tensor.random_": [_kw((X, 0, 5))], "Tensor.exponential_": [_kw((X, 1.0))], "Tensor.geometric_": [_kw((X, 0.5))],
    "Tensor.cauchy_": [_kw((X, 0.0, 1.0))], "Tensor.log_normal_": [_kw((X, 0.0, 1.0))],
    "Tensor.bernoulli_": [_kw((X, 0.5))], "Tensor.bernoulli": [_kw((X,))],
    "Tensor.index_put": [_kw((X, (IV,), T((4,))))],
    "Tensor.size": [_kw((X, 1))], "Tensor.stride": [_kw((X, 1))],
    "Tensor.unique": [_kw((X,), sorted=True)], "unique": [_kw((X,), sorted=True)],
    "nan_to_num": [_kw((X, 0.0, 1.0, -1.0))], "Tensor.nan_to_num": [_kw((X, 0.0, 1.0, -1.0))],
    "Tensor.nan_to_num_": [_kw((X, 0.0, 1.0, -1.0))],
    "sort": [_kw((X, 1, True))], "Tensor.sort": [_kw((X, 1, True))], "argsort": [_kw((X, 1, True))],
    "Tensor.argsort": [_kw((X, 1, True))],
    "gradient": [_kw((X,), dim=1)], "trapezoid": [_kw((X,), dim=1)], "trapz": [_kw((X,), dim=1)],
    "cumulative_trapezoid": [_kw((X,), dim=1)], "diff": [_kw((X, 1, 1))], "Tensor.diff": [_kw((X, 1, 1))],
    "kron": [_kw((X, X))], "inner": [_kw((X, X))], "outer": [_kw((V, V3))], "ger": [_kw((V, V3))],
    "Tensor.outer": [_kw((V, V3))], "Tensor.ger": [_kw((V, V3))], "vdot": [_kw((V, V))], "dot": [_kw((V, V))],
    "mv": [_kw((X, T((4,))))], "Tensor.mv": [_kw((X, T((4,))))], "mm": [_kw((X, X2))], "Tensor.mm": [_kw((X, X2))],
    "matmul": [_kw((X, X2))], "Tensor.matmul": [_kw((X, X2))],
    "bmm": [_kw((B3, B3.like(shape=(2, 4, 3))))], "Tensor.bmm": [_kw((B3, B3.like(shape=(2, 4, 3))))],
    "prelu": [_kw((X, T((1,))))], "Tensor.prelu": [_kw((X, T((1,))))],
    "is_same_size": [_kw((X, X))], "Tensor.is_same_size": [_kw((X, X))],
    "isin": [_kw((X, V))], "isclose": [_kw((X, X))], "allclose": [_kw((X, X))], "equal": [_kw((X, X))],
    "frexp": [_kw((X,))], "ldexp": [_kw((X, I))], "Tensor.ldexp": [_kw((X, I))],
    "float_power": [_kw((X, 2))], "Tensor.float_power": [_kw((X, 2))],
    "result_type": [_kw((X, 1.0))], "can_cast": [_kw((Dt("float32"), Dt("int64")))],
    "promote_types": [_kw((Dt("float32"), Dt("int64")))],
    "scalar_tensor": [_kw((1.5,))], "tensor": [_kw(([1.0, 2.0],))], "as_tensor": [_kw(([1.0, 2.0],))],
    "asarray": [_kw(([1.0, 2.0],))], "from_numpy": [],
    "empty": [_kw((3, 4))], "zeros": [_kw((3, 4))], "ones": [_kw((3, 4))], "rand": [_kw((3, 4))],
    "randn": [_kw((3, 4))],
    "hann_window": [_kw((8,))], "hamming_window": [_kw((8,))], "bartlett_window": [_kw((8,))],
    "blackman_window": [_kw((8,))], "kaiser_window": [_kw((8,))],
    "numel": [_kw((X,))], "is_tensor": [_kw((X,))], "typename": [_kw((X,))],
    "cov": [_kw((X,), correction=1)], "corrcoef": [_kw((X,))],
    "logit": [_kw((X, 0.1))], "Tensor.logit": [_kw((X, 0.1))],
    "round": [_kw((X,), decimals=1)], "Tensor.round": [_kw((X,), decimals=1)],
    "norm": [_kw((X, 2, 1))], "Tensor.norm": [_kw((X, 2, 1))],
    "std": [_kw((X, 1), correction=1, keepdim=True)], "var": [_kw((X, 1), correction=1, keepdim=True)],
    "std_mean": [_kw((X, 1), correction=1, keepdim=True)], "var_mean": [_kw((X, 1), correction=1, keepdim=True)],
    "Tensor.std": [_kw((X, 1), correction=1, keepdim=True)], "Tensor.var": [_kw((X, 1), correction=1, keepdim=True)],
    "logsumexp": [_kw((X, 1, True))], "Tensor.logsumexp": [_kw((X, 1, True))],
    "softmax": [_kw((X, 1))], "log_softmax": [_kw((X, 1))], "Tensor.softmax": [_kw((X, 1))],
    "Tensor.log_softmax": [_kw((X, 1))],
    "aminmax": [_kw((X,), dim=1, keepdim=True)], "Tensor.aminmax": [_kw((X,), dim=1, keepdim=True)],
    "matrix_power": [_kw((S, 2))], "Tensor.matrix_power": [_kw((S, 2))],
    "pinverse": [_kw((X,))], "orgqr": [], "Tensor.orgqr": [],
    "lu": [_kw((S,))], "qr": [_kw((X,))], "svd": [_kw((X,))], "eig": [], "symeig": [], "Tensor.eig": [],
    "Tensor.symeig": [],
    "cosine_similarity": [_kw((X, X, 1))], "pairwise_distance": [_kw((X, X))],
    "conv1d": [_kw((IMG1, W1))], "conv2d": [_kw((IMG2, W2))], "conv3d": [_kw((IMG3, W3))],
    "conv_transpose1d": [_kw((IMG1, W1.like(shape=(3, 4, 3))))],
    "conv_transpose2d": [_kw((IMG2, W2.like(shape=(3, 4, 3, 3))))],
    "conv_transpose3d": [_kw((IMG3, W3.like(shape=(2, 3, 2, 2, 2))))],
    "avg_pool1d": [_kw((IMG1, 2))], "max_pool1d": [_kw((IMG1, 2))], "max_pool2d": [_kw((IMG2, 2))],
    "adaptive_avg_pool1d": [_kw((IMG1, 2))],
    "istft": [], "Tensor.item": [_kw((T((1,)),))],
    "Tensor.index_fill": [_kw((X, 0, IV, 0.5))],
}

_F = "nn.functional."
BASE.update({_F + k: v for k, v in {
    "adaptive_avg_pool1d": [_kw((IMG1, 2))], "adaptive_avg_pool2d": [_kw((IMG2, (2, 2)))],
    "adaptive_avg_pool3d": [_kw((IMG3, (2, 2, 2)))], "adaptive_max_pool1d": [_kw((IMG1, 2))],
    "adaptive_max_pool2d": [_kw((IMG2, (2, 2)))], "adaptive_max_pool3d": [_kw((IMG3, (2, 2, 2)))],
    "affine_grid": [_kw((T((2, 2, 3)), [2, 3, 4, 4]), align_corners=False)],
    "alpha_dropout": [_kw((X, 0.5, True))], "dropout": [_kw((X, 0.5, True))], "dropout1d": [_kw((IMG1, 0.5, True))],
    "dropout2d": [_kw((IMG2, 0.5, True))], "dropout3d": [_kw((IMG3, 0.5, True))],
    "feature_alpha_dropout": [_kw((IMG2, 0.5, True))],
    "avg_pool1d": [_kw((IMG1, 2, 2))], "avg_pool2d": [_kw((IMG2, 2, 2))], "avg_pool3d": [_kw((IMG3, 2, 2))],
    "max_pool1d": [_kw((IMG1, 2, 2))], "max_pool2d": [_kw((IMG2, 2, 2))], "max_pool3d": [_kw((IMG3, 2, 2))],
    "max_pool2d_with_indices": [_kw((IMG2, 2, 2))],
    "lp_pool1d": [_kw((IMG1, 2.0, 2))], "lp_pool2d": [_kw((IMG2, 2.0, 2))], "lp_pool3d": [_kw((IMG3, 2.0, 2))],
    "batch_norm": [_kw((IMG2, T((3,)), T((3,)).like(fill="spd")), training=True)],
    "instance_norm": [_kw((IMG2,))],
    "layer_norm": [_kw((X, (4,)))], "group_norm": [_kw((IMG2, 3))], "rms_norm": [_kw((X, (4,)))],
    "local_response_norm": [_kw((IMG2, 2))],
    "bilinear": [_kw((X, T((3, 5)), T((2, 4, 5))))], "linear": [_kw((X, T((2, 4)), T((2,))))],
    "binary_cross_entropy": [_kw((X, X))], "binary_cross_entropy_with_logits": [_kw((X, X))],
    "cosine_embedding_loss": [_kw((X, X, T((3,)).like(fill="rand")))],
    "cross_entropy": [_kw((X, LBL))], "nll_loss": [_kw((X, LBL))], "multi_margin_loss": [_kw((X, LBL))],
    "multilabel_margin_loss": [_kw((X, T((3, 4), "int64", "idx")))],
    "multilabel_soft_margin_loss": [_kw((X, X))], "soft_margin_loss": [_kw((X, X))],
    "ctc_loss": [_kw((T((5, 2, 4)).like(fill="prob"), T((2, 3), "int64", "idx").like(fill="label"),
                      (5, 5), (3, 2)))],
    "gaussian_nll_loss": [_kw((X, X, X))], "hinge_embedding_loss": [_kw((X, X))], "huber_loss": [_kw((X, X))],
    "kl_div": [_kw((X, X), reduction="batchmean")], "l1_loss": [_kw((X, X))], "mse_loss": [_kw((X, X))],
    "smooth_l1_loss": [_kw((X, X))], "poisson_nll_loss": [_kw((X, X))],
    "margin_ranking_loss": [_kw((V, V, V))], "triplet_margin_loss": [_kw((X, X, X))],
    "triplet_margin_with_distance_loss": [_kw((X, X, X))],
    "conv1d": [_kw((IMG1, W1))], "conv2d": [_kw((IMG2, W2))], "conv3d": [_kw((IMG3, W3))],
    "conv_transpose1d": [_kw((IMG1, W1.like(shape=(3, 4, 3))))],
    "conv_transpose2d": [_kw((IMG2, W2.like(shape=(3, 4, 3, 3))))],
    "conv_transpose3d": [_kw((IMG3, W3.like(shape=(2, 3, 2, 2, 2))))],
    "embedding": [_kw((I, T((5, 3))))], "embedding_bag": [_kw((I, T((5, 3))))],
    "one_hot": [_kw((I, 4))], "fold": [_kw((T((2, 12, 9)), (4, 4), 2))], "unfold": [_kw((IMG2, 2))],
    "fractional_max_pool2d": [_kw((IMG2, 2), output_size=(3, 3))],
    "fractional_max_pool3d": [_kw((IMG3, 2), output_size=(2, 2, 2))],
    **{n: [_kw((X,))] for n in ("relu", "relu6", "selu", "silu", "mish", "hardswish", "hardsigmoid", "sigmoid", "tanh",
                                 "logsigmoid", "softsign", "tanhshrink", "relu_", "selu_")},
    "glu": [_kw((X, 1))], "gelu": [_kw((X,), approximate="tanh")], "elu": [_kw((X, 1.0))],
    "celu": [_kw((X, 1.0))], "leaky_relu": [_kw((X, 0.1))], "hardtanh": [_kw((X, -0.5, 0.5))],
    "hardshrink": [_kw((X, 0.5))], "softshrink": [_kw((X, 0.5))], "softplus": [_kw((X, 1.0, 20.0))],
    "rrelu": [_kw((X, 0.1, 0.3, True))], "softmax": [_kw((X, 1))], "softmin": [_kw((X, 1))],
    "log_softmax": [_kw((X, 1))], "normalize": [_kw((X, 2.0, 1))],
    "grid_sample": [_kw((IMG2, T((2, 3, 3, 2))), align_corners=False)],
    "interpolate": [_kw((IMG2,), scale_factor=2.0, mode="bilinear")], "upsample": [_kw((IMG2,), scale_factor=2.0)],
    "upsample_bilinear": [_kw((IMG2,), scale_factor=2)], "upsample_nearest": [_kw((IMG2,), scale_factor=2)],
    "max_unpool1d": [], "max_unpool2d": [], "max_unpool3d": [],
    "pad": [_kw((X, (1, 1)))], "pixel_shuffle": [_kw((T((1, 4, 2, 2)), 2))],
    "pixel_unshuffle": [_kw((T((1, 1, 4, 4)), 2))],
    "scaled_dot_product_attention": [_kw((Q, Q, Q))],
    "multi_head_attention_forward": [],
    "pairwise_distance": [_kw((X, X))], "cosine_similarity": [_kw((X, X, 1))],
    "prelu": [_kw((X, T((1,))))],
}.items()})

_L = "linalg."
BASE.update({_L + k: v for k, v in {
    "cross": [_kw((V3.like(shape=(2, 3)), V3.like(shape=(2, 3))))], "vecdot": [_kw((X, X))],
    "matrix_power": [_kw((S, 2))], "matrix_norm": [_kw((X,))], "vector_norm": [_kw((X, 2), dim=1)],
    "norm": [_kw((X,))], "solve": [_kw((S, X.like(shape=(3, 2))))], "solve_ex": [_kw((S, X.like(shape=(3, 2))))],
    "lstsq": [_kw((S, X.like(shape=(3, 2))))], "tensorsolve": [], "tensorinv": [_kw((T((4, 2, 2), fill="spd").like(
        fill="rand"),), ind=1)],
    "solve_triangular": [_kw((S, X.like(shape=(3, 2))), upper=True)],
    "lu_solve": [], "ldl_solve": [], "householder_product": [], "multi_dot": [_kw(([X, X2],))],
    "diagonal": [_kw((X,))], "vander": [_kw((V,))],
}.items()})

_S = "special."
BASE.update({_S + k: v for k, v in {
    "polygamma": [_kw((1, X))], "multigammaln": [_kw((X.like(fill="spd"), 1))], "zeta": [_kw((X.like(fill="spd"), X))],
    "softmax": [_kw((X, 1))], "log_softmax": [_kw((X, 1))], "logsumexp": [_kw((X, 1))],
    "logit": [_kw((X, 0.1))], "round": [_kw((X,))],
}.items()})

# torch.func (entries compose the transform and its call: see _transform), compile
LIN = Obj("Linear(4, 2)", lambda L: L.nn.Linear(4, 2), "module")
LIN_PARAMS = Obj("{'weight': T[2, 4], 'bias': T[2]}", lambda L: {"weight": T((2, 4)).make(L), "bias": T((2,)).make(L)},
                 "obj")
BASE.update({
    "func.vmap": [_kw((FN_SUM, X), in_dims=0, out_dims=0, randomness="error", chunk_size=2)],
    "func.grad": [_kw((FN_SUM, X), argnums=0, has_aux=False)],
    "func.grad_and_value": [_kw((FN_SUM, X), argnums=0, has_aux=False)],
    "func.jacrev": [_kw((FN_VEC, V), argnums=0, has_aux=False, chunk_size=2)],
    "func.jacfwd": [_kw((FN_VEC, V), argnums=0, has_aux=False, randomness="error")],
    "func.hessian": [_kw((FN_SUM, V), argnums=0)],
    "func.vjp": [_kw((FN_VEC, X, X), has_aux=False)],
    "func.jvp": [_kw((FN_VEC, (X,), (X,)), strict=False, has_aux=False)],
    "func.functional_call": [_kw((LIN, LIN_PARAMS, (X,)), tie_weights=True, strict=False)],
    "func.stack_module_state": [_kw(([LIN, LIN],))],
    # backend="eager": torch's default (inductor) compiles C++ for seconds a cell
    "compile": [_kw((FN_SUM, X), backend="eager", fullgraph=False, dynamic=False, mode="default", disable=False)],
    "nn.Module.compile": [_kw((X,), backend="eager", fullgraph=False, dynamic=False, mode="default")],
})

# torch.distributed before any process group: torch refuses nearly every call (ValueError "Default process group
# has not been initialized...", or a TypeError about the arguments it checks first), so these baselines are used
# whatever torch does with them (REFUSAL_BASELINES). No cell starts a group: init_process_group's baseline names
# a rendezvous scheme that does not exist, which both libraries refuse after their argument checks.
OP_SUM = Obj("ReduceOp.SUM", lambda L: L.distributed.ReduceOp.SUM, "obj")
TD = Obj("timedelta(seconds=5)", lambda L: __import__("datetime").timedelta(seconds=5), "obj")
_D = "distributed."
BASE.update({_D + k: v for k, v in {
    "all_reduce": [_kw((X,), op=OP_SUM, async_op=False)], "broadcast": [_kw((X, 0), async_op=False)],
    "reduce": [_kw((X, 0), op=OP_SUM, async_op=False)], "all_gather": [_kw(([X, X], X), async_op=False)],
    "all_gather_into_tensor": [_kw((T((6, 4)), X), async_op=False)],
    "reduce_scatter": [_kw((X, [X, X]), op=OP_SUM, async_op=False)],
    "reduce_scatter_tensor": [_kw((X, T((6, 4))), op=OP_SUM, async_op=False)],
    "gather": [_kw((X, [X, X], 0), async_op=False)], "scatter": [_kw((X, [X, X], 0), async_op=False)],
    "all_to_all": [_kw(([X, X], [X, X]), async_op=False)],
    "all_to_all_single": [_kw((T((4, 4)), T((4, 4)), [2, 2], [2, 2]), async_op=False)],
    "barrier": [_kw((), async_op=False)],
    "send": [_kw((X, 1), tag=0)], "recv": [_kw((X, 1), tag=0)], "isend": [_kw((X, 1), tag=0)],
    "irecv": [_kw((X, 1), tag=0)],
    "get_rank": [_kw(())], "get_world_size": [_kw(())], "get_backend": [_kw(())], "is_initialized": [_kw(())],
    "destroy_process_group": [_kw(())], "new_group": [_kw(([0, 1],))],
    "get_process_group_ranks": [_kw((None,))], "get_global_rank": [_kw((None, 1))],
    "broadcast_object_list": [_kw(([1, 2], 0))], "all_gather_object": [_kw(([None, None], 1))],
    "gather_object": [_kw((1, [None, None], 0))], "scatter_object_list": [_kw(([None], [1, 2], 0))],
    "get_default_backend_for_device": [_kw(("cpu",))],
    "init_process_group": [_kw(("gloo",), init_method="bogus://", world_size=1, rank=0, timeout=TD)],
    "Backend": [_kw(("gloo",))], "ReduceOp": [_kw((OP_SUM,))],
    **{n: [_kw(())] for n in ("is_available", "is_mpi_available", "is_gloo_available", "is_nccl_available",
                              "is_torchelastic_launched")},
}.items()})
REFUSAL_BASELINES = ("distributed.",)

# cells left out, with the reason
SKIP_CELLS = {
    # env:// would read MASTER_ADDR/RANK/WORLD_SIZE from the environment and start a rendezvous (torch) or MPI
    # (ndgrad): neither deterministic nor free of global state
    "distributed.init_process_group": {"none@init_method"},
    # backend=None is torch's inductor: seconds of C++ compilation a cell
    "compile": {"none@backend"},
    # torch 2.13's Module.compile(fullgraph=<true>) fails on every module ("found no compiled frames": nn.Module's
    # call machinery is in dynamo's skip list), a defect of torch's that ndgrad does not copy
    "nn.Module.compile": {"none@backend", "str@fullgraph"},
}

# module constructors: (args, kwargs)
MODULE_BASE: dict = {
    "Transformer": [_kw((), d_model=4, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=8)],
    "TransformerEncoderLayer": [_kw((4, 2, 8))], "TransformerDecoderLayer": [_kw((4, 2, 8))],
    "TransformerEncoder": [_kw((Obj("EncLayer", lambda L: L.nn.TransformerEncoderLayer(4, 2, 8), "module"), 2))],
    "TransformerDecoder": [_kw((Obj("DecLayer", lambda L: L.nn.TransformerDecoderLayer(4, 2, 8), "module"), 2))],
    "MultiheadAttention": [_kw((4, 2))], "Sequential": [_kw((Obj("Linear", lambda L: L.nn.Linear(3, 4), "module"),))],
    "ModuleList": [_kw(([Obj("Linear", lambda L: L.nn.Linear(3, 4), "module")],))],
    "ModuleDict": [_kw(({"a": Obj("Linear", lambda L: L.nn.Linear(3, 4), "module")},))],
    "ParameterList": [_kw(([T((2,), param=True)],))], "ParameterDict": [_kw(({"a": T((2,), param=True)},))],
    "Bilinear": [_kw((3, 4, 5))], "Embedding": [_kw((5, 3))], "EmbeddingBag": [_kw((5, 3))],
    "Fold": [_kw(((4, 4), 2))], "Unfold": [_kw((2,))], "Unflatten": [_kw((1, (2, 2)))],
    "Upsample": [_kw((), scale_factor=2.0)], "UpsamplingBilinear2d": [_kw((), scale_factor=2.0)],
    "UpsamplingNearest2d": [_kw((), scale_factor=2.0)],
    "FractionalMaxPool2d": [_kw((2,), output_size=(3, 3))], "FractionalMaxPool3d": [_kw((2,), output_size=(2, 2, 2))],
    "GroupNorm": [_kw((2, 4))], "LocalResponseNorm": [_kw((2,))], "LayerNorm": [_kw(((4,),))],
    "RMSNorm": [_kw(((4,),))], "Threshold": [_kw((0.5, 0.0))], "Softmax": [_kw((1,))], "LogSoftmax": [_kw((1,))],
    "Softmin": [_kw((1,))], "GLU": [_kw((1,))], "Flatten": [_kw((0, -1))], "CosineSimilarity": [_kw((1,))],
    "LPPool1d": [_kw((2.0, 2))], "LPPool2d": [_kw((2.0, 2))], "LPPool3d": [_kw((2.0, 2))],
    "RNN": [_kw((3, 4, 1))], "LSTM": [_kw((3, 4, 1))], "GRU": [_kw((3, 4, 1))], "RNNCell": [_kw((3, 4))],
    "LSTMCell": [_kw((3, 4))], "GRUCell": [_kw((3, 4))], "PixelShuffle": [_kw((2,))], "PixelUnshuffle": [_kw((2,))],
    "Hardtanh": [_kw((-0.5, 0.5))], "LeakyReLU": [_kw((0.1,))], "ELU": [_kw((1.0,))], "CELU": [_kw((1.0,))],
    "Softplus": [_kw((1.0, 20.0))], "Hardshrink": [_kw((0.5,))], "Softshrink": [_kw((0.5,))],
    "RReLU": [_kw((0.1, 0.3))], "PReLU": [_kw((1, 0.25))], "Dropout": [_kw((0.5,))], "Dropout1d": [_kw((0.5,))],
    "Dropout2d": [_kw((0.5,))], "Dropout3d": [_kw((0.5,))], "AlphaDropout": [_kw((0.5,))],
    "FeatureAlphaDropout": [_kw((0.5,))], "GELU": [_kw((), approximate="tanh")],
    "CrossEntropyLoss": [_kw((), reduction="mean", label_smoothing=0.1)], "NLLLoss": [_kw((), reduction="mean")],
    "ConstantPad1d": [_kw((1, 0.5))], "ConstantPad2d": [_kw((1, 0.5))], "ConstantPad3d": [_kw((1, 0.5))],
}
MODULE_CANDIDATES = [(3, 4, 3), (3, 4), (3,), (2,), ()]


def _params(lib):
    return [lib.nn.Parameter(lib.tensor(_data((3, 4), "float32", "rand"))),
            lib.nn.Parameter(lib.tensor(_data((4,), "float32", "rand")))]


PARAMS = Obj("params", _params, "params")
DS = Obj("TensorDataset", lambda L: L.utils.data.TensorDataset(L.tensor(_data((6, 2), "float32", "rand")),
                                                                L.tensor(_data((6,), "int64", "idx"))), "dataset")
SEQ = Obj("SequentialSampler", lambda L: L.utils.data.SequentialSampler(range(6)), "obj")
DATA_BASE = {
    "TensorDataset": [_kw((T((6, 2)), T((6,), "int64", "idx")))],
    "DataLoader": [_kw((DS,), batch_size=2, shuffle=False, drop_last=False)],
    "random_split": [_kw((DS, [2, 4]))], "Subset": [_kw((DS, [0, 2]))], "ConcatDataset": [_kw(([DS, DS],))],
    "StackDataset": [_kw((DS, DS))], "RandomSampler": [_kw((DS,), replacement=False)],
    "SequentialSampler": [_kw((DS,))], "BatchSampler": [_kw((SEQ, 2, False))],
    "SubsetRandomSampler": [_kw(([0, 2, 4],))], "WeightedRandomSampler": [_kw(([0.1, 0.9, 0.5], 2, True))],
    "default_collate": [_kw(([X, X],))], "default_convert": [_kw(([X, X],))],
}


def _optim_base(nd_cls):
    """The documented signature: the parameters, then every hyperparameter with a number/tuple/bool default."""
    kw = {}
    for name, p in inspect.signature(nd_cls.__init__).parameters.items():
        if name in ("self", "params") or p.default is inspect.Parameter.empty:
            continue
        d = p.default
        if isinstance(d, (bool, int, float)) or (isinstance(d, tuple) and all(isinstance(e, (int, float)) for e in d)):
            kw[name] = d
    return [((PARAMS,), kw)]


def candidates(entry):
    """Baselines to try, explicit ones first; (args, kwargs, explicit)."""
    q = entry.qual
    if entry.kind == "module":
        n = q.split(".", 1)[1]
        if n in MODULE_BASE:
            return [(a, k, True) for a, k in MODULE_BASE[n]]
        return [(c, {}, False) for c in MODULE_CANDIDATES]
    if entry.kind == "optim":
        import ndgrad
        return [(a, k, True) for a, k in _optim_base(_attr(q)(ndgrad))]
    if entry.kind == "data":
        return [(a, k, True) for a, k in DATA_BASE.get(q.rsplit(".", 1)[1], [])]
    out = [(a, k, True) for a, k in BASE.get(q, [])]
    if entry.kind == "method" and not out:
        out = [(a, k, True) for a, k in BASE.get(q.split(".", 1)[1], []) if a and isinstance(a[0], T)]
    if q in BASE or (entry.kind == "method" and out):
        return out
    gen = GENERIC if entry.kind == "fn" else [c for c in GENERIC if c and isinstance(c[0], T)]
    return out + [(c, {}, False) for c in gen]


# ---------------------------------------------------------------------------------------------------------
# hostile values, by the kind of value they replace

NAN, INF = float("nan"), float("inf")


def _hostile(v, *, self_pos=False, n_tensors=1):
    """(pattern name, replacement) pairs for one argument value."""
    out = []
    if isinstance(v, T):
        if not self_pos:
            out += [("none", None), ("str", "abc"), ("list_of_str", ["a", "b"]), ("ragged", [[1.0, 2.0], [3.0]]),
                    ("list_of_numbers", [0.5, 0.25, 0.75])]
        if v.dtype != "int64":
            out.append(("int_dtype", v.like(dtype="int64", fill="idx")))
        if v.dtype != "bool":
            out.append(("bool_dtype", v.like(dtype="bool", fill="bool")))
        if not v.dtype.startswith("complex"):
            out.append(("complex_dtype", v.like(dtype="complex64", fill="rand" if v.fill in ("idx", "bool", "label")
                                                else v.fill)))
        out.append(("empty", v.like(shape=(0,) + v.shape[1:] if v.shape else (0,))))
        if v.shape:
            out.append(("zero_d", v.like(shape=())))
        out.append(("other_shape", v.like(shape=(5,) if v.shape != (5,) else (2,))))
        if len(v.shape) != 3:
            out.append(("rank3", v.like(shape=(2, 3, 2))))
        return out
    if isinstance(v, bool):
        return [("str", "abc"), ("none", None)]
    if isinstance(v, int):
        return [("big_int", 7), ("neg_int", -8), ("minus_one", -1), ("float", 1.5), ("nan", NAN), ("inf", INF),
                ("str", "a"), ("none", None)]
    if isinstance(v, float):
        return [("nan", NAN), ("inf", INF), ("negative", -1.0), ("above_one", 2.0), ("str", "a"), ("none", None)]
    if isinstance(v, str):
        return [("bad_str", "bogus"), ("none", None), ("int", 1)]
    if isinstance(v, Dt):
        return [("str", v.name), ("int", 1)]
    if isinstance(v, Obj):
        out = [("none", None), ("str", "abc")]
        if v.tag == "fn":
            out += [(n, f) for n, f in HOSTILE_FNS if f.label != v.label]
        if v.tag == "params":
            out += [("empty_params", []), ("bare_tensor", T((3,), param=True)), ("list_of_str", ["a"]),
                    ("plain_tensors", [T((3,))])]
        return out
    if isinstance(v, (list, tuple)):
        seq = type(v)
        if v and all(isinstance(e, T) for e in v):
            return [("empty_seq", seq()), ("seq_with_str", seq(v[:-1]) + seq(["abc"])),
                    ("seq_with_none", seq(v[:-1]) + seq([None])),
                    ("seq_mismatched", seq(v[:-1]) + seq([v[-1].like(shape=(5,))])),
                    ("seq_nested", seq([list(v)]))]
        if v and all(isinstance(e, int) and not isinstance(e, bool) for e in v):
            rest = seq(v[1:])
            return [("empty_seq", seq())] + [(f"seq_{n}", seq([r]) + rest) for n, r in (
                ("big_int", 7), ("neg_int", -8), ("minus_one", -1), ("float", 1.5), ("nan", NAN), ("str", "a"),
                ("none", None))]
        if v and all(isinstance(e, float) for e in v):
            rest = seq(v[1:])
            return [("empty_seq", seq()), ("seq_too_long", v + seq(v[:1]))] + [
                (f"seq_{n}", seq([r]) + rest) for n, r in (("nan", NAN), ("inf", INF), ("negative", -1.0),
                                                             ("above_one", 2.0), ("str", "a"))]
        return [("none", None), ("str", "abc")]
    if isinstance(v, dict):
        return [("none", None), ("str", "abc")]
    return []


def cells(entry, args, kwargs):
    """Every cell of one callable: (pattern, args, kwargs)."""
    out = [("valid", args, kwargs)]
    n_t = sum(isinstance(a, T) for a in args)
    for i, v in enumerate(args):
        for name, h in _hostile(v, self_pos=(i == 0 and entry.kind == "method"), n_tensors=n_t):
            out.append((f"{name}@{i}", args[:i] + (h,) + args[i + 1:], kwargs))
    for k, v in kwargs.items():
        for name, h in _hostile(v):
            out.append((f"{name}@{k}", args, {**kwargs, k: h}))
    out.append(("unknown_kw", args, {**kwargs, "bogus_kw": 1}))
    if entry.kind != "module" or args:
        out.append(("too_many", args + (X,), kwargs))
    if len(args) > (1 if entry.kind == "method" else 0):
        out.append(("too_few", args[:-1], kwargs))
    skip = SKIP_CELLS.get(entry.qual, ())
    return [c for c in out if c[0] not in skip]


# ---------------------------------------------------------------------------------------------------------
# running one call


class _Timeout(BaseException):
    pass


def _alarm(signum, frame):
    raise _Timeout()


CELL_SECONDS = 3.0


def summary(r, lib, depth=0):
    """What must agree between the libraries when both succeed: shapes and dtypes, kinds of values."""
    if depth > 3:
        return "..."
    if isinstance(r, lib.Tensor):
        return ("T", tuple(r.shape), str(r.dtype))
    if r is None or isinstance(r, bool):
        return r if r is None else "bool"
    if isinstance(r, numbers.Integral):
        return "int"
    if isinstance(r, numbers.Real):
        return "float"
    if isinstance(r, numbers.Complex):
        return "complex"
    if isinstance(r, str):
        return "str"
    if isinstance(r, lib.dtype):
        return str(r)
    if isinstance(r, np.ndarray):
        return ("ndarray", r.shape, str(r.dtype))
    if isinstance(r, (tuple, list)):
        return ("seq", len(r), tuple(summary(e, lib, depth + 1) for e in r[:6]))
    if isinstance(r, dict):
        return ("dict", tuple(sorted(map(str, r))))
    if isinstance(r, lib.nn.Module):
        return ("Module", type(r).__name__, tuple((n, tuple(p.shape)) for n, p in r.named_parameters()))
    if isinstance(r, lib.optim.Optimizer):
        return ("Optimizer", type(r).__name__, len(r.param_groups), sum(len(g["params"]) for g in r.param_groups))
    data = lib.utils.data
    if isinstance(r, (data.DataLoader, data.Sampler)):
        return (type(r).__name__, tuple(summary(e, lib, depth + 1) for e in itertools.islice(iter(r), 6)))
    if isinstance(r, data.Dataset):
        return (type(r).__name__, len(r), summary(r[0], lib, depth + 1))
    if isinstance(r, lib.device):
        return str(r)
    if callable(r):
        return "callable"
    return type(r).__name__


def run(entry, lib, args, kwargs):
    """("ok", summary) or ("raise", exception class, message) or ("timeout",)."""
    try:
        f = entry.get(lib)
        a = materialize(args, lib)
        k = materialize(kwargs, lib)
    except Exception as e:  # noqa: BLE001  (the spec itself cannot be built: a bug of the grid)
        return ("setup", type(e), str(e))
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, CELL_SECONDS)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lib.default_generator.manual_seed(0)  # random results (samplers' orders) are the same each run (not
            # torch.manual_seed, whose lazy CUDA seeding formats the whole call stack each time: 40 s of the grid)
            r = f(*a, **k)
            s = summary(r, lib)
    except _Timeout:
        return ("timeout",)
    except Exception as e:  # noqa: BLE001
        return ("raise", type(e), str(e), getattr(e, "_mirrors_torch", False) or _raised_by_fn(e), _chained(e))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        _restore(lib)
    return ("ok", s)


def _chained(e):
    """The exception a traceback of `e` would print before it ("During handling of the above exception..." or
    "The above exception was the direct cause..."), or None."""
    c = e.__cause__
    if c is None and not e.__suppress_context__:
        c = e.__context__
    return c


def _raised_by_fn(e) -> bool:
    """Whether the exception was raised inside one of the grid's functions handed to a transform (an Fn's
    lambda, e.g. `x.sin()` of a string): the caller's own error, not the library's."""
    tb = e.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    code = tb.tb_frame.f_code
    return code.co_filename == __file__ and code.co_name == "<lambda>"


def _restore(lib):
    if lib.get_default_dtype() is not lib.float32:
        lib.set_default_dtype(lib.float32)
    if not lib.is_grad_enabled():
        lib.set_grad_enabled(True)


# ---------------------------------------------------------------------------------------------------------
# judging a cell

# torch's messages that are stable and informative: where torch's message is in one of these families,
# ndgrad's must be the same text
STABLE_MESSAGES = [  # (not the names of torch's private functions or methods: _lu_no_infos(), Softmax.__init__())
    re.compile(r"^Dimension out of range \(expected to be in range of \[-?\d+, -?\d+\], but got -?\d+\)$"),
    re.compile(r"^[a-z]\w*\(\): argument '\w+' \(position \d+\) must be [\w. ]+, not \w+$"),
    re.compile(r"^[a-z]\w*\(\) got an unexpected keyword argument '\w+'$"),
]


def internal(exc) -> bool:
    """An exception type that means ndgrad's own code (or NumPy's) failed rather than refused the call."""
    return issubclass(exc, (AttributeError, KeyError, UnboundLocalError, NameError, ZeroDivisionError)) or \
        (exc.__module__ or "").startswith("numpy")


def judge(t, n):
    """'agree', or why not: 'silent' (torch refuses, ndgrad answers), 'internal' (ndgrad fails with an internal
    exception), 'class' (other exception classes), 'refused' (torch answers, ndgrad refuses), 'result'
    (both answer, different shapes or dtypes), 'message' (same class, torch's stable message differs),
    'timeout'."""
    if n[0] in ("timeout", "setup") or t[0] in ("timeout", "setup"):
        return "agree" if n[0] == t[0] == "timeout" else "timeout" if "timeout" in (n[0], t[0]) else "setup"
    if t[0] == "ok":
        if n[0] == "ok":
            return "agree" if t[1] == n[1] else "result"
        return "internal" if internal(n[1]) else "refused"
    if n[0] == "ok":
        return "silent"
    if t[1].__name__ != n[1].__name__:
        return "internal" if internal(n[1]) and not internal(t[1]) else "class"
    if any(p.match(t[2]) for p in STABLE_MESSAGES) and t[2] != n[2]:
        return "message"
    return "agree"


@dataclass
class Cell:
    qual: str
    pattern: str
    args: tuple
    kwargs: dict
    torch: Any = None
    ndgrad: Any = None
    verdict: str = ""

    def call(self):
        a = ", ".join([repr(x) for x in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()])
        return f"{self.qual}({a})"

    def describe(self):
        def o(x):
            if x is None:
                return "-"
            if x[0] == "ok":
                return f"ok {x[1]}"
            if x[0] == "timeout":
                return "timeout"
            return f"{x[1].__name__}: {x[2][:160]}"
        return (f"[{self.verdict}] {self.pattern}: {self.call()}\n    torch:  {o(self.torch)}\n"
                f"    ndgrad: {o(self.ndgrad)}")


def choose_baseline(entry, oracle):
    """The baseline call: the first candidate the oracle accepts (explicit ones first); for REFUSAL_BASELINES,
    the first explicit one, whatever the oracle does with it."""
    if entry.qual.startswith(REFUSAL_BASELINES):
        for args, kwargs, explicit in candidates(entry):
            if explicit and run(entry, oracle, args, kwargs)[0] in ("ok", "raise"):
                return args, kwargs
        return None
    for args, kwargs, explicit in candidates(entry):
        if run(entry, oracle, args, kwargs)[0] == "ok":
            return args, kwargs
    return None


def _warm_dynamo(torch):
    """Dynamo's first compilation imports and sets up for a second or two: done once here, not in a cell (each
    cell has CELL_SECONDS)."""
    with warnings.catch_warnings(), _DynamoSideEffects(torch):
        warnings.simplefilter("ignore")
        torch.compile(lambda x: x.sin().sum(), backend="eager")(torch.ones(2))
        torch._dynamo.reset()


def build(torch=None, only=None):
    """(cells, entries without a baseline). With torch the baseline is what torch accepts; without it, what
    ndgrad accepts."""
    import ndgrad
    oracle = torch if torch is not None else ndgrad
    grid, skipped = [], []
    entries = [e for e in callables(torch) if not only or any(w in e.qual for w in only)]
    if torch is not None and any(e.qual.endswith("compile") for e in entries):
        _warm_dynamo(torch)
    for e in entries:
        base = choose_baseline(e, oracle)
        if base is None:
            skipped.append(e.qual)
            continue
        for pattern, a, k in cells(e, *base):
            grid.append((e, Cell(e.qual, pattern, a, k)))
    return grid, skipped


def run_grid(torch=None, only=None):
    """Run every cell with ndgrad (and torch, when given); returns (cells, skipped callables, seconds)."""
    import ndgrad
    t0 = time.perf_counter()
    grid, skipped = build(torch, only)
    out = []
    for e, c in grid:
        c.ndgrad = run(e, ndgrad, c.args, c.kwargs)
        if torch is not None:
            c.torch = run(e, torch, c.args, c.kwargs)
            c.verdict = judge(c.torch, c.ndgrad)
        out.append(c)
    return out, skipped, time.perf_counter() - t0


def report(cells_, skipped, seconds, limit=None):
    n = len(cells_)
    bad = [c for c in cells_ if c.verdict != "agree"]
    n_callables = len({c.qual for c in cells_})
    patterns = {re.sub(r"@.*", "", c.pattern) for c in cells_}
    lines = [f"bad-input grid: {n_callables} callables, {len(patterns)} patterns, {n} cells, "
             f"{100 * (n - len(bad)) / max(n, 1):.2f}% agree with torch ({seconds:.1f} s)"]
    counts: dict = {}
    for c in bad:
        counts[c.verdict] = counts.get(c.verdict, 0) + 1
    lines.append("disagreements: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    if skipped:
        lines.append(f"no baseline ({len(skipped)}): " + " ".join(skipped))
    for c in bad[:limit]:
        lines.append(c.describe())
    return "\n".join(lines)


if __name__ == "__main__":
    import torch as _torch
    only = sys.argv[1:] or None
    cs, sk, secs = run_grid(_torch, only)
    print(report(cs, sk, secs))
