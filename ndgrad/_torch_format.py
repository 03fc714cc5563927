"""PyTorch's own checkpoint format, read and written without ever running code from a file.

`torch.save` writes a zip archive: `<name>/data.pkl` (a protocol-2 pickle of the object in which every
tensor is a call of `torch._utils._rebuild_tensor_v2` on a *persistent id* naming a storage),
`<name>/data/<key>` (the raw bytes of each storage), `<name>/byteorder`, `<name>/version` and a few
bookkeeping records. Before 1.6 it wrote the "legacy" format: several pickles and the storages one
after the other in one stream. Both are read here.

The pickle is read by `_Unpickler`, a subclass of the pure-Python `pickle._Unpickler` whose
`find_class` only hands out ndgrad's own stand-ins for the names that torch's `weights_only=True`
loader accepts (tensor rebuild functions, storage classes, `OrderedDict`, `torch.Size`, dtypes,
devices...) plus the types a user registered with `add_safe_globals`. Before any opcode runs, the
whole pickle is scanned (`_scan_globals`) and every global it names is checked against that list, so a
file naming `os.system` is refused before a single object is built. The opcodes that call or build
things (REDUCE, NEWOBJ, BUILD) are also checked one by one, as torch's loader does, and the opcodes
that could reach arbitrary classes some other way (INST, OBJ, EXT*) are refused.

Writing goes through a subclass of the pure-Python `pickle._Pickler` that emits exactly what
`torch.save` emits for tensors, Parameters, `torch.Size`, dtypes and devices, keeps tensors that share
memory in one storage, and writes anything else as pickle does (like torch.save: writing runs no file's code;
reading such a file needs its classes in `safe_globals`).
"""
from __future__ import annotations

import _compat_pickle
import collections
import importlib
import io
import math
import os
import pickle
import pickletools
import re
import struct
import zipfile
from typing import Any, Callable

import numpy as np

from .serialization import LoadError, _user_safe_globals

# torch's storage classes for the dtypes with a typed storage; the others use UntypedStorage
_STORAGE_OF = {"float32": "FloatStorage", "float64": "DoubleStorage", "float16": "HalfStorage",
               "bfloat16": "BFloat16Storage", "int64": "LongStorage", "int32": "IntStorage",
               "int16": "ShortStorage", "int8": "CharStorage", "uint8": "ByteStorage", "bool": "BoolStorage",
               "complex64": "ComplexFloatStorage", "complex128": "ComplexDoubleStorage",
               "complex32": "ComplexHalfStorage"}
_DTYPE_OF_STORAGE = {v: k for k, v in _STORAGE_OF.items()}
# every dtype name torch has (so that a file mentioning one is readable even if ndgrad lacks it)
_TORCH_DTYPES = (list(_STORAGE_OF) + ["uint16", "uint32", "uint64", "float8_e4m3fn", "float8_e5m2",
                 "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu", "float4_e2m1fn_x2", "bits8", "bits16",
                 "bits1x8", "bits2x4", "bits4x2", "quint8", "qint8", "qint32", "quint4x2", "quint2x4"]
                 + [f"uint{i}" for i in range(1, 8)] + [f"int{i}" for i in range(1, 8)])
_LEGACY_MAGIC = 0x1950a86a20f9469cfc6c
_LEGACY_PROTOCOL = 1001
_MAX_PICKLE = 1 << 28          # data.pkl larger than this is refused (a real one is a few MB at most)
_NAME_OK = re.compile(r"[A-Za-z0-9_.\-]+")


# -- ndgrad's stand-ins for torch's globals ----------------------------------------------------------------
class _Marker:
    """A torch name that a file may mention but that is not itself callable (a class used as a tag)."""

    def __init__(self, path: str, **kw: Any) -> None:
        self.path = path
        self.__dict__.update(kw)

    def __repr__(self) -> str:
        return f"<{self.path}>"


class _MissingDtype(_Marker):
    """A torch dtype that ndgrad does not have: readable in a file, an error once a tensor needs it."""


class _Storage:
    """One storage of a file: a flat, writable NumPy array of its element type (uint8 when untyped).

    Also what a `map_location` callable receives; `.cpu()` returns it, like torch's CPU storage."""

    def __init__(self, arr: np.ndarray, location: str) -> None:
        self.arr = arr
        self.location = location
        self.device = "cpu"

    def cpu(self) -> "_Storage":
        return self

    def cuda(self, *args: Any, **kwargs: Any) -> "_Storage":
        raise RuntimeError(_CUDA_ERROR)

    def nbytes(self) -> int:
        return int(self.arr.nbytes)

    def size(self) -> int:
        return int(self.arr.size)

    def __len__(self) -> int:
        return int(self.arr.size)


_CUDA_ERROR = ("Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is False. If you "
               "are running on a CPU-only machine, please use torch.load with map_location=torch.device('cpu') "
               "to map your storages to the CPU.")


def _dtype(name: str) -> Any:
    """ndgrad's dtype of that name, looked up at each use (a dtype such as bfloat16 may be registered
    after import), or a stand-in that is an error only once a tensor needs it."""
    import ndgrad
    from . import _dtype as D
    d = D._NAMES.get(name)
    if d is None and isinstance(getattr(ndgrad, name, None), D.dtype):
        d = getattr(ndgrad, name)
    return d if d is not None else _MissingDtype(f"torch.{name}", name=name)


class _DtypeName:
    """A dtype global in the allow-list: resolved when the file names it."""

    def __init__(self, name: str) -> None:
        self.name = name


def _need_dtype(d: Any) -> Any:
    if isinstance(d, _MissingDtype):
        raise LoadError(f"the file holds a tensor of dtype torch.{d.name}, which ndgrad does not have")
    return d


def _ints(v: Any, what: str) -> tuple:
    if not isinstance(v, (tuple, list)) or not all(type(i) is int and i >= 0 for i in v) or len(v) > 64:
        raise LoadError(f"malformed tensor in the file: bad {what} {v!r}")
    return tuple(v)


def _strided(storage: Any, offset: Any, size: Any, stride: Any, dt: Any) -> np.ndarray:
    """A view of `storage` (a _Storage) with torch's element offset/size/stride, checked to lie inside it."""
    if not isinstance(storage, _Storage):
        raise LoadError(f"malformed tensor in the file: its storage is a {type(storage).__name__}")
    size, stride = _ints(size, "size"), _ints(stride, "stride")
    if len(size) != len(stride) or type(offset) is not int or offset < 0:
        raise LoadError("malformed tensor in the file: bad storage offset, size or stride")
    npd = _need_dtype(dt).np
    flat = storage.arr
    if flat.dtype != npd:   # an untyped (byte) storage, or one read with another dtype
        if flat.nbytes % npd.itemsize:
            raise LoadError(f"malformed tensor in the file: a storage of {flat.nbytes} bytes cannot hold "
                            f"{npd.itemsize}-byte elements")
        flat = flat.view(np.uint8).view(npd)
    n = math.prod(size)
    if n == 0:
        return np.empty(size, npd)
    last = offset + sum((s - 1) * st for s, st in zip(size, stride))
    if last >= flat.size:
        raise LoadError(f"malformed tensor in the file: a tensor of size {list(size)}, stride {list(stride)} and "
                        f"storage offset {offset} reaches element {last} of a storage of {flat.size} elements")
    return np.lib.stride_tricks.as_strided(flat[offset:], size, tuple(s * npd.itemsize for s in stride))


def _tensor(arr: np.ndarray, requires_grad: Any) -> Any:
    from ._creation import from_numpy
    t = from_numpy(arr)
    if requires_grad is True:
        if not (t.is_floating_point() or t.is_complex()):
            raise LoadError("malformed tensor in the file: only floating point and complex tensors can "
                            "require gradients")
        t.requires_grad_(True)
    elif requires_grad is not False:
        raise LoadError(f"malformed tensor in the file: requires_grad is {requires_grad!r}")
    return t


def _hooks_ok(hooks: Any) -> None:
    if hooks is not None and (not isinstance(hooks, dict) or hooks):
        raise LoadError("the file holds backward hooks on a tensor; ndgrad does not load hooks")


def _rebuild_tensor_v2(storage: Any, storage_offset: Any, size: Any, stride: Any, requires_grad: Any,
                       backward_hooks: Any, metadata: Any = None) -> Any:
    _hooks_ok(backward_hooks)
    if not isinstance(storage, _Storage) or storage.dtype is None:
        raise LoadError("malformed tensor in the file: _rebuild_tensor_v2 needs a typed storage")
    return _tensor(_strided(storage, storage_offset, size, stride, storage.dtype), requires_grad)


def _rebuild_tensor_v3(storage: Any, storage_offset: Any, size: Any, stride: Any, requires_grad: Any,
                       backward_hooks: Any, dtype: Any, metadata: Any = None) -> Any:
    _hooks_ok(backward_hooks)
    from ._dtype import dtype as dtype_cls
    if not isinstance(dtype, (dtype_cls, _MissingDtype)):
        raise LoadError(f"malformed tensor in the file: dtype is {dtype!r}")
    return _tensor(_strided(storage, storage_offset, size, stride, dtype), requires_grad)


def _rebuild_tensor(storage: Any, storage_offset: Any, size: Any, stride: Any) -> Any:
    return _rebuild_tensor_v2(storage, storage_offset, size, stride, False, None)


def _parameter(data: Any, requires_grad: Any) -> Any:
    from ._tensor import Tensor
    from .nn.parameter import Parameter
    if not isinstance(data, Tensor) or type(requires_grad) is not bool:
        raise LoadError("malformed Parameter in the file")
    if requires_grad and not (data.is_floating_point() or data.is_complex()):
        raise LoadError("malformed Parameter in the file: only floating point and complex tensors can require "
                        "gradients")
    return Parameter(data.detach(), requires_grad=requires_grad)


def _rebuild_parameter(data: Any, requires_grad: Any, backward_hooks: Any) -> Any:
    _hooks_ok(backward_hooks)
    return _parameter(data, requires_grad)


def _rebuild_parameter_with_state(data: Any, requires_grad: Any, backward_hooks: Any, state: Any) -> Any:
    _hooks_ok(backward_hooks)
    _no_state(state)
    return _parameter(data, requires_grad)


def _no_state(state: Any) -> None:
    if state is None or state == {} or state == (None, None) or state == ({}, None):
        return
    raise LoadError("the file holds a tensor with Python attributes; ndgrad tensors cannot carry attributes, "
                    "so it cannot load them")


def _rebuild_from_type_v2(func: Any, new_type: Any, args: Any, state: Any) -> Any:
    if func not in _REBUILDERS or not isinstance(args, tuple):
        raise LoadError(f"malformed tensor in the file: _rebuild_from_type_v2 of {func!r}")
    t = func(*args)
    _no_state(state)
    if new_type is _TENSOR_CLASS:
        return t
    from .nn.parameter import Parameter
    if new_type is Parameter:
        return t if isinstance(t, Parameter) else Parameter(t, requires_grad=t.requires_grad)
    raise LoadError(f"the file holds a tensor subclass {new_type!r}, which ndgrad does not have")


def _unsupported(kind: str) -> Callable:
    def f(*args: Any) -> Any:
        raise NotImplementedError(f"ndgrad.load: the file holds a {kind}, which ndgrad does not support")
    f.__name__ = f"_rebuild_{kind.replace(' ', '_')}"
    return f


def _codecs_encode(obj: Any, encoding: str = "utf-8", errors: str = "strict") -> bytes:
    # protocol 2 stores bytes as _codecs.encode(text, 'latin1'): only text encodings are honoured
    if not isinstance(obj, str) or encoding not in ("latin1", "latin-1", "utf-8", "utf8", "ascii") \
            or errors != "strict":
        raise LoadError("malformed pickle: _codecs.encode is allowed only to rebuild bytes")
    return obj.encode(encoding)


def _get_layout(name: Any) -> Any:
    if name != "torch.strided":
        raise NotImplementedError(f"ndgrad.load: the file holds a tensor with layout {name!r}; ndgrad has only "
                                  "torch.strided")
    return _STRIDED


def _size(*args: Any) -> Any:
    from ._tensor import Size
    if len(args) > 1 or (args and (not isinstance(args[0], (tuple, list))
                                   or not all(type(i) is int for i in args[0]))):
        raise LoadError(f"malformed torch.Size in the file: {args!r}")
    return Size(args[0] if args else ())


def _device(*args: Any) -> Any:
    from ._creation import device
    if not 1 <= len(args) <= 2 or not isinstance(args[0], str) or (len(args) == 2 and type(args[1]) not in (int, type(None))):
        raise LoadError(f"malformed torch.device in the file: {args!r}")
    return device(*args)


_TENSOR_CLASS = _Marker("torch.Tensor")
_STRIDED = _Marker("torch.strided")
_REBUILDERS = {_rebuild_tensor, _rebuild_tensor_v2, _rebuild_tensor_v3, _rebuild_parameter,
               _rebuild_parameter_with_state}


def _parameter_class() -> Any:
    from .nn.parameter import Parameter
    return Parameter


def _builtin_allowed() -> dict[str, Any]:
    """What torch's `weights_only=True` accepts, as ndgrad objects; built on first use, then cached."""
    global _ALLOWED
    if _ALLOWED is not None:
        return _ALLOWED
    rc: dict[str, Any] = {
        "collections.OrderedDict": collections.OrderedDict, "collections.Counter": collections.Counter,
        "torch.nn.parameter.Parameter": _parameter_class(), "torch.serialization._get_layout": _get_layout,
        "torch.Size": _size, "torch.Tensor": _TENSOR_CLASS, "torch.device": _device,
        "_codecs.encode": _codecs_encode, "builtins.bytearray": bytearray, "builtins.set": set,
        "builtins.complex": complex, "torch._tensor._rebuild_from_type_v2": _rebuild_from_type_v2,
    }
    for name in _TORCH_DTYPES:
        rc[f"torch.{name}"] = _DtypeName(name)
    for dname, sname in _STORAGE_OF.items():
        rc[f"torch.{sname}"] = _Marker(f"torch.{sname}", dtype=dname)
    rc["torch.storage.UntypedStorage"] = _Marker("torch.storage.UntypedStorage", dtype=None)
    rc["torch.storage.TypedStorage"] = _Marker("torch.storage.TypedStorage", dtype=None)
    for tname in ("DoubleTensor", "FloatTensor", "BFloat16Tensor", "LongTensor", "IntTensor", "ShortTensor",
                  "HalfTensor", "CharTensor", "ByteTensor", "BoolTensor"):
        rc[f"torch.{tname}"] = _Marker(f"torch.{tname}")
    for q in ("per_tensor_affine", "per_tensor_symmetric", "per_channel_affine", "per_channel_symmetric",
              "per_channel_affine_float_qparams"):
        rc[f"torch.{q}"] = _Marker(f"torch.{q}")
    for f in (_rebuild_tensor, _rebuild_tensor_v2, _rebuild_tensor_v3, _rebuild_parameter,
              _rebuild_parameter_with_state):
        rc[f"torch._utils.{f.__name__}"] = f
    for name, kind in (("_rebuild_sparse_tensor", "sparse tensor"), ("_rebuild_nested_tensor", "nested tensor"),
                       ("_rebuild_meta_tensor_no_storage", "meta tensor"), ("_rebuild_qtensor", "quantized tensor"),
                       ("_rebuild_wrapper_subclass", "tensor subclass"),
                       ("_rebuild_device_tensor_from_cpu_tensor", "device tensor"),
                       ("_rebuild_device_tensor_from_numpy", "device tensor")):
        rc[f"torch._utils.{name}"] = _unsupported(kind)
    _ALLOWED = rc
    return rc


_ALLOWED: dict[str, Any] | None = None


_TORCH_PATH = re.compile(r"torch(\.[A-Za-z_][A-Za-z0-9_]*)+")


def _user_global(full: str) -> Any:
    """The object `add_safe_globals`/`safe_globals` registered under `full`, else None. A torch name
    (`torch.nn.modules.linear.Linear`, as a file that torch.save wrote names it) also finds the ndgrad object
    at the same path when that object is registered: under `import ndgrad as torch`, a program lists
    `torch.nn.Linear` meaning ndgrad's. Only ndgrad's own modules are imported to look it up."""
    user = _user_safe_globals()
    obj = user.get(full)
    if obj is not None or not user or not _TORCH_PATH.fullmatch(full):
        return obj
    mod, _, attr = full.rpartition(".")
    try:
        cand = getattr(importlib.import_module("ndgrad" + mod[len("torch"):]), attr, None)
    except ImportError:
        return None
    return cand if cand is not None and any(cand is v for v in user.values()) else None


def _allowed_values() -> list:
    return list(_builtin_allowed().values()) + list(_user_safe_globals().values())


def _in(obj: Any, values: list) -> bool:
    return any(obj is v for v in values)


def _display(full_path: str) -> str:
    # torch names builtins without their module: GLOBAL eval, not GLOBAL builtins.eval
    if full_path.startswith("builtins."):
        return full_path[len("builtins."):]
    return full_path


_BLOCKED_MODULES = ("sys", "os", "posix", "nt")     # refused even when registered, as torch does


def _refuse_global(full_path: str) -> pickle.UnpicklingError:
    module = full_path.rpartition(".")[0]
    if module in _BLOCKED_MODULES:
        return _weights_only_error(f"Trying to load unsupported GLOBAL {full_path} whose module {module} is blocked.")
    p = _display(full_path)
    return _weights_only_error(
        f"Unsupported global: GLOBAL {p} was not an allowed global by default. Please use "
        f"`torch.serialization.add_safe_globals([{p}])` or the `torch.serialization.safe_globals([{p}])` context "
        "manager to allowlist this global if you trust this class/function.")


def _weights_only_error(detail: str) -> pickle.UnpicklingError:
    return pickle.UnpicklingError(
        "Weights only load failed. ndgrad never runs code from a file: it loads only what "
        "torch.load(weights_only=True) accepts, plus the types registered with "
        "torch.serialization.add_safe_globals.\n\tWeightsUnpickler error: " + detail)


def _map_name(module: str, name: str) -> tuple[str, str]:
    # Python 2 names in protocol-2 pickles (`__builtin__ set`), as pickle's fix_imports maps them
    if (module, name) in _compat_pickle.NAME_MAPPING:
        return _compat_pickle.NAME_MAPPING[(module, name)]
    return _compat_pickle.IMPORT_MAPPING.get(module, module), name


_STRING_OPS = {"STRING", "BINSTRING", "SHORT_BINSTRING", "UNICODE", "BINUNICODE", "SHORT_BINUNICODE",
               "BINUNICODE8", "BINBYTES", "SHORT_BINBYTES", "BINBYTES8"}
_FORBIDDEN_OPS = {"INST", "OBJ", "EXT1", "EXT2", "EXT4", "PERSID", "NEXT_BUFFER", "READONLY_BUFFER"}


def _scan_globals(data: bytes) -> None:
    """Check every global the pickle names, and refuse opcodes that reach classes some other way, before
    a single opcode runs. STACK_GLOBAL's operands must be strings pushed right before it (as pickle
    writes them), so its name is known statically too."""
    allowed = _builtin_allowed()
    memo: dict[int, Any] = {}
    recent: list[Any] = []
    try:
        for op, arg, _pos in pickletools.genops(data):
            name = op.name
            if name in _FORBIDDEN_OPS:
                raise _weights_only_error(f"Unsupported operand {op.code.encode('latin1')[0]}")
            if name == "GLOBAL":
                module, _, attr = arg.partition(" ")
                full = "%s.%s" % _map_name(module, attr)
            elif name == "STACK_GLOBAL":
                if len(recent) < 2 or not all(isinstance(v, str) for v in recent[-2:]):
                    raise _weights_only_error("Unsupported operand: STACK_GLOBAL with operands that are not "
                                              "plain strings")
                full = "%s.%s" % tuple(recent[-2:])
            elif name in ("MEMOIZE", "PUT", "BINPUT", "LONG_BINPUT"):
                memo[len(memo) if name == "MEMOIZE" else arg] = recent[-1] if recent else None
                continue
            elif name in ("GET", "BINGET", "LONG_BINGET"):
                recent.append(memo.get(arg))
                continue
            elif name in _STRING_OPS:
                recent.append(arg if isinstance(arg, str) else None)
                continue
            else:
                recent.append(None)
                continue
            if (full not in allowed and _user_global(full) is None) or full.rpartition(".")[0] in _BLOCKED_MODULES:
                raise _refuse_global(full)
            recent.append(None)
            del recent[:-2]
    except (ValueError, EOFError, UnicodeDecodeError) as e:
        raise pickle.UnpicklingError(f"malformed pickle in the file: {e}") from None


class _Unpickler(pickle._Unpickler):  # type: ignore[name-defined]
    """pickle's pure-Python unpickler, with find_class, persistent_load and the opcodes that call or
    build objects restricted to the allow-list."""

    dispatch = dict(pickle._Unpickler.dispatch)  # type: ignore[attr-defined]

    def __init__(self, file: Any, persistent_load: Callable, encoding: str = "ASCII") -> None:
        super().__init__(file, encoding=encoding)
        self._pload = persistent_load
        self._values = _allowed_values()

    def find_class(self, module: str, name: str) -> Any:
        module, name = _map_name(module, name)
        full = f"{module}.{name}"
        if module in _BLOCKED_MODULES:
            raise _refuse_global(full)
        found_user = _user_global(full)
        if found_user is not None:
            return found_user
        allowed = _builtin_allowed()
        if full in allowed:
            found = allowed[full]
            return _dtype(found.name) if type(found) is _DtypeName else found
        raise _refuse_global(full)

    def persistent_load(self, pid: Any) -> Any:
        return self._pload(pid)

    def _load_reduce(self) -> None:
        args = self.stack.pop()
        func = self.stack[-1]
        if not _in(func, self._values) or isinstance(func, _Marker):
            raise _weights_only_error(f"Trying to call reduce for unrecognized function {func!r}")
        if not isinstance(args, tuple):
            raise _weights_only_error("malformed pickle: REDUCE arguments are not a tuple")
        self.stack[-1] = func(*args)

    def _load_newobj(self) -> None:
        args = self.stack.pop()
        cls = self.stack.pop()
        if cls is _parameter_class():
            self.append(cls(*args))
        elif isinstance(cls, type) and _in(cls, self._values) and isinstance(args, tuple):
            self.append(cls.__new__(cls, *args))
        else:
            raise _weights_only_error("Can only create new object for nn.Parameter or classes allowlisted via "
                                      f"`add_safe_globals` but got {cls!r}")

    def _load_newobj_ex(self) -> None:
        kwargs = self.stack.pop()
        if kwargs:
            raise _weights_only_error("Unsupported operand: NEWOBJ_EX with keyword arguments")
        self._load_newobj()

    def _load_build(self) -> None:
        state = self.stack.pop()
        inst = self.stack[-1]
        tp = type(inst)
        if tp is collections.OrderedDict:
            if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
                raise _weights_only_error("malformed pickle: OrderedDict state is not a dict")
            inst.__dict__.update(state)
        elif tp is _parameter_class():
            _no_state(state)
        elif _in(tp, list(_user_safe_globals().values())):
            setstate = getattr(inst, "__setstate__", None)
            if setstate is not None:
                setstate(state)
            else:
                slotstate = None
                if isinstance(state, tuple) and len(state) == 2:
                    state, slotstate = state
                if state:
                    inst.__dict__.update(state)
                if slotstate:
                    for k, v in slotstate.items():
                        setattr(inst, k, v)
        else:
            raise _weights_only_error("Can only build Tensor, Parameter, OrderedDict or types allowlisted via "
                                      f"`add_safe_globals`, but got {tp}")

    def _load_append(self) -> None:
        if type(self.stack[-2]) is not list:
            raise _weights_only_error(f"Can only append to lists, but got {type(self.stack[-2])}")
        super().load_append()

    def _load_appends(self) -> None:
        items = self.pop_mark()
        target = self.stack[-1]
        if type(target) is not list:
            raise _weights_only_error(f"Can only extend lists, but got {type(target)}")
        target.extend(items)

    def _load_additems(self) -> None:
        items = self.pop_mark()
        target = self.stack[-1]
        if type(target) is not set:
            raise _weights_only_error(f"Can only add items to a set, but got {type(target)}")
        target.update(items)

    def _check_setitem(self, obj: Any) -> None:
        if type(obj) not in (dict, collections.OrderedDict, collections.Counter):
            raise _weights_only_error("Can only SETITEM for dict, collections.OrderedDict, collections.Counter, "
                                      f"but got {type(obj)}")

    def _load_setitem(self) -> None:
        self._check_setitem(self.stack[-3])
        super().load_setitem()

    def _load_setitems(self) -> None:
        items = self.pop_mark()
        target = self.stack[-1]
        self._check_setitem(target)
        for i in range(0, len(items) - 1, 2):
            target[items[i]] = items[i + 1]

    def _refuse(self) -> None:
        raise _weights_only_error("Unsupported operand")

    dispatch[pickle.REDUCE[0]] = _load_reduce
    dispatch[pickle.NEWOBJ[0]] = _load_newobj
    dispatch[pickle.NEWOBJ_EX[0]] = _load_newobj_ex
    dispatch[pickle.BUILD[0]] = _load_build
    dispatch[pickle.APPEND[0]] = _load_append
    dispatch[pickle.APPENDS[0]] = _load_appends
    dispatch[pickle.ADDITEMS[0]] = _load_additems
    dispatch[pickle.SETITEM[0]] = _load_setitem
    dispatch[pickle.SETITEMS[0]] = _load_setitems
    for _op in (pickle.INST, pickle.OBJ, pickle.EXT1, pickle.EXT2, pickle.EXT4, pickle.PERSID,
                pickle.NEXT_BUFFER, pickle.READONLY_BUFFER):
        dispatch[_op[0]] = _refuse
    del _op


def _unpickle(data: bytes, persistent_load: Callable, encoding: str = "ASCII") -> Any:
    _scan_globals(data)
    up = _Unpickler(io.BytesIO(data), persistent_load, encoding=encoding)
    try:
        return up.load()
    except (pickle.UnpicklingError, LoadError, NotImplementedError):
        raise
    except RecursionError:
        raise pickle.UnpicklingError("malformed pickle in the file: nested too deeply") from None
    except (IndexError, KeyError, EOFError, TypeError, ValueError, AttributeError, struct.error) as e:
        raise pickle.UnpicklingError(f"malformed pickle in the file: {type(e).__name__}: {e}") from None


# -- locations --------------------------------------------------------------------------------------------
def _location_is_cpu(loc: Any) -> None:
    from ._creation import device
    if isinstance(loc, device):
        loc = str(loc)
    if not isinstance(loc, str):
        raise LoadError(f"malformed storage location {loc!r}")
    if loc == "cpu" or loc.startswith("cpu:"):
        return
    if loc == "cuda" or loc.startswith("cuda:"):
        raise RuntimeError(_CUDA_ERROR)
    raise RuntimeError(f"Attempting to deserialize object on device {loc!r}, but ndgrad only has the 'cpu' device; "
                       "use map_location='cpu'")


def _restore(storage: _Storage, location: str, map_location: Any) -> _Storage:
    """Apply torch's map_location rules; every storage ends on the CPU or the load fails."""
    from ._creation import device
    if map_location is None:
        _location_is_cpu(location)
        return storage
    if isinstance(map_location, dict):
        _location_is_cpu(map_location.get(location, location))
        return storage
    if isinstance(map_location, (str, device)):
        _location_is_cpu(map_location)
        return storage
    if callable(map_location):
        out = map_location(storage, location)
        if out is None:
            _location_is_cpu(location)
            return storage
        if not isinstance(out, _Storage):
            raise TypeError(f"map_location should return a storage or None, got {type(out).__name__}")
        return out
    raise ValueError(f"map_location should be a string, a torch.device, a dict or a callable, got "
                     f"{type(map_location).__name__}")


def _storage_dtype(tp: Any) -> Any:
    """(dtype or None for untyped, np dtype of the storage's elements)."""
    if not isinstance(tp, _Marker) or not hasattr(tp, "dtype"):
        raise pickle.UnpicklingError(f"malformed storage in the file: its type is {tp!r}")
    if tp.dtype is None:
        return None, np.dtype(np.uint8)
    d = _need_dtype(_dtype(tp.dtype))
    return d, d.np


# -- the zip format ---------------------------------------------------------------------------------------
def _safe_member(name: str) -> bool:
    parts = name.split("/")
    return not (name.startswith("/") or "\\" in name or ".." in parts or "" in parts[:-1] or ":" in parts[0]
                or "\x00" in name)


def load_zip(f: Any, map_location: Any = None, mmap_path: str | None = None, encoding: str = "ASCII") -> Any:
    try:
        zf = zipfile.ZipFile(f)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        raise LoadError(f"not a valid torch.save zip archive: {e}") from None
    with zf:
        infos = zf.infolist()
        names = [i.filename for i in infos]
        for n in names:
            if not _safe_member(n):
                raise LoadError(f"refusing the zip archive: member name {n!r} is not a plain relative path")
        if len(set(names)) != len(names):
            dup = next(n for n in names if names.count(n) > 1)
            raise LoadError(f"refusing the zip archive: member {dup!r} appears twice")
        pkls = [n for n in names if n.count("/") == 1 and n.endswith("/data.pkl")]
        if len(pkls) != 1:
            raise LoadError("not a torch.save zip archive: expected exactly one '<name>/data.pkl' record, found "
                            f"{len(pkls)}")
        prefix = pkls[0][:-len("data.pkl")]
        by_name = {i.filename: i for i in infos}

        def read(name: str, limit: int) -> bytes:
            info = by_name[name]
            if info.file_size > limit:
                raise LoadError(f"refusing the zip archive: record {name!r} claims {info.file_size} bytes, more "
                                f"than the {limit} expected")
            try:
                with zf.open(info) as fh:
                    raw = fh.read(limit + 1)
            except (zipfile.BadZipFile, OSError, EOFError, zlib_error(), NotImplementedError) as e:
                raise LoadError(f"the zip archive is corrupted: record {name!r}: {e}") from None
            if len(raw) > limit:
                raise LoadError(f"refusing the zip archive: record {name!r} expands past {limit} bytes")
            return raw

        byteorder = "little"
        if prefix + "byteorder" in by_name:
            byteorder = read(prefix + "byteorder", 16).decode("ascii", "replace")
            if byteorder not in ("little", "big"):
                raise LoadError(f"the zip archive has an unknown byteorder {byteorder!r}")
        if prefix + "version" in by_name:
            v = read(prefix + "version", 32).strip()
            if not v.isdigit() or not 1 <= int(v) <= 20:
                raise LoadError(f"unsupported torch.save file version {v!r}")
        mm = None
        if mmap_path is not None:
            mm = np.memmap(mmap_path, dtype=np.uint8, mode="c")   # copy-on-write, as torch's MAP_PRIVATE
        storages: dict[str, np.ndarray] = {}

        def persistent_load(pid: Any) -> Any:
            if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
                raise pickle.UnpicklingError(f"unsupported persistent id in the file: {pid!r}"[:200])
            _, tp, key, location, numel = pid
            dt, npd = _storage_dtype(tp)
            if not isinstance(key, str) or not _NAME_OK.fullmatch(key) or ".." in key:
                raise LoadError(f"malformed storage key {key!r} in the file")
            if type(numel) is not int or numel < 0 or not isinstance(location, str):
                raise LoadError("malformed storage reference in the file")
            nbytes = numel * npd.itemsize
            name = f"{prefix}data/{key}"
            if name not in by_name:
                raise LoadError(f"the zip archive lacks the storage record {name!r}")
            info = by_name[name]
            if info.file_size != nbytes:
                raise LoadError(f"storage {key} in the zip archive is truncated or malformed: it holds "
                                f"{info.file_size} bytes, the file says {nbytes}")
            raw = storages.get(key)
            if raw is None:
                if mm is not None and info.compress_type == zipfile.ZIP_STORED:
                    raw = mm[_data_offset(f, info):][:nbytes]
                else:
                    raw = np.frombuffer(bytearray(read(name, nbytes)), np.uint8)
                if len(raw) != nbytes:
                    raise LoadError(f"storage {key} in the zip archive is truncated")
                storages[key] = raw
            arr = raw.view(npd.newbyteorder("<" if byteorder == "little" else ">")) if nbytes else np.empty(0, npd)
            if not arr.dtype.isnative:
                arr = arr.astype(npd)
                storages[key] = arr.view(np.uint8)
            st = _Storage(arr, location)
            st.dtype = dt
            out = _restore(st, location, map_location)
            out.dtype = dt
            return out

        data = read(pkls[0], min(by_name[pkls[0]].file_size, _MAX_PICKLE))
        return _unpickle(data, persistent_load, encoding)


def zlib_error() -> type:
    import zlib
    return zlib.error


def _data_offset(f: Any, info: zipfile.ZipInfo) -> int:
    """Where a stored record's bytes start: after its local header (whose extra field may differ from the
    central directory's)."""
    pos = f.tell()
    try:
        f.seek(info.header_offset)
        head = f.read(30)
        if len(head) != 30 or head[:4] != b"PK\x03\x04":
            raise LoadError("the zip archive is corrupted: bad local header")
        nlen, xlen = struct.unpack("<HH", head[26:30])
        return info.header_offset + 30 + nlen + xlen
    finally:
        f.seek(pos)


# -- the legacy (pre-1.6) format ------------------------------------------------------------------------
def load_legacy(f: Any, map_location: Any = None, encoding: str = "ASCII") -> Any:
    """magic number, protocol version and system info (three small pickles), the object's pickle, the
    sorted list of storage keys (a pickle), then each storage: an int64 element count and its bytes."""
    raw = f.read()
    pos = 0

    def next_pickle() -> bytes:
        nonlocal pos
        try:
            n = _pickle_length(raw[pos:])
        except (ValueError, EOFError) as e:
            raise LoadError(f"the legacy torch.save file is malformed or truncated: {e}") from None
        pos += n
        return raw[pos - n:pos]

    def no_pid(pid: Any) -> Any:
        raise pickle.UnpicklingError("unsupported persistent id in the file")

    if _unpickle(next_pickle(), no_pid, encoding) != _LEGACY_MAGIC:
        raise LoadError("not a torch.save file: bad legacy magic number")
    if _unpickle(next_pickle(), no_pid, encoding) != _LEGACY_PROTOCOL:
        raise LoadError("unsupported legacy torch.save protocol version")
    info = _unpickle(next_pickle(), no_pid, encoding)
    if not isinstance(info, dict):
        raise LoadError("the legacy torch.save file is malformed: bad system info")
    little = info.get("little_endian", True) is not False
    main = next_pickle()
    keys = _unpickle(next_pickle(), no_pid, encoding)
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise LoadError("the legacy torch.save file is malformed: bad storage key list")
    refs: dict[str, tuple] = {}

    def parse(pid: Any) -> tuple:
        if not (isinstance(pid, tuple) and len(pid) == 6 and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unsupported persistent id in the file: {pid!r}"[:200])
        _, tp, key, location, numel, view = pid
        if view is not None:
            raise NotImplementedError("ndgrad.load: storage views of the legacy format are not supported")
        dt, npd = _storage_dtype(tp)
        if type(numel) is not int or numel < 0 or not isinstance(key, str) or not isinstance(location, str):
            raise LoadError("malformed storage reference in the file")
        if refs.setdefault(key, (dt, npd, location, numel)) != (dt, npd, location, numel):
            raise LoadError(f"storage {key} is described twice, differently")
        return dt, npd, key, location, numel

    def learn(pid: Any) -> Any:
        # first pass: a zero-cost stand-in of the right length (a zero-stride view), to learn each storage's
        # type and size, which the bytes after the pickle need
        dt, npd, key, location, numel = parse(pid)
        st = _Storage(np.lib.stride_tricks.as_strided(np.zeros(1, npd), (numel,), (0,)), location)
        st.dtype = dt
        return st

    _unpickle(main, learn, encoding)
    storages: dict[str, np.ndarray] = {}
    for key in keys:
        if key not in refs:
            raise LoadError(f"the legacy torch.save file lists storage {key!r}, which its pickle never uses")
        dt, npd, location, numel = refs[key]
        if pos + 8 > len(raw):
            raise LoadError(f"the legacy torch.save file is truncated: storage {key}")
        (n,) = struct.unpack("<q" if little else ">q", raw[pos:pos + 8])
        pos += 8
        if n != numel:
            raise LoadError(f"storage {key} in the legacy file holds {n} elements, the file says {numel}")
        nb = n * npd.itemsize
        if pos + nb > len(raw):
            raise LoadError(f"the legacy torch.save file is truncated: storage {key}")
        arr = np.frombuffer(bytearray(raw[pos:pos + nb]), npd.newbyteorder("<" if little else ">"))
        storages[key] = arr if arr.dtype.isnative else arr.astype(npd)
        pos += nb
    if set(refs) - set(storages):
        raise LoadError("the legacy torch.save file lacks storages its pickle uses")

    def pload(pid: Any) -> Any:
        dt, npd, key, location, numel = parse(pid)
        st = _Storage(storages[key], location)
        st.dtype = dt
        out = _restore(st, location, map_location)
        out.dtype = dt
        return out

    return _unpickle(main, pload, encoding)


def _pickle_length(b: bytes) -> int:
    end = 0
    for op, _arg, pos in pickletools.genops(b):
        end = pos
        if op.name == "STOP":
            return pos + 1
    raise EOFError("a pickle without STOP")


# -- saving -----------------------------------------------------------------------------------------------
class _Global:
    """A torch name written into the pickle as a GLOBAL."""

    __slots__ = ("module", "name")

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name

    def __call__(self, *args: Any) -> Any:   # (pickle requires a reduce function to be callable)
        raise TypeError(f"{self.module}.{self.name} is a name written into a file, not a function")


class _PlainTensor:
    """The plain tensor inside a Parameter's rebuild call."""

    __slots__ = ("t",)

    def __init__(self, t: Any) -> None:
        self.t = t


_G_V2 = _Global("torch._utils", "_rebuild_tensor_v2")
_G_V3 = _Global("torch._utils", "_rebuild_tensor_v3")
_G_PARAM = _Global("torch._utils", "_rebuild_parameter")
_G_SIZE = _Global("torch", "Size")
_G_DEVICE = _Global("torch", "device")
_G_ODICT = _Global("collections", "OrderedDict")
_G_UNTYPED = _Global("torch.storage", "UntypedStorage")
# the NumPy names numpy's own pickling writes: torch.save writes them too; loading them needs safe_globals
_NUMPY_OK = re.compile(r"numpy(\._core|\.core)?\.(multiarray\.(_reconstruct|scalar)|ndarray|dtype|dtypes\.\w+)")


class _Pickler(pickle._Pickler):  # type: ignore[name-defined]
    dispatch = dict(pickle._Pickler.dispatch)  # type: ignore[attr-defined]

    def __init__(self, file: Any) -> None:
        super().__init__(file, protocol=2)
        from ._creation import device
        from ._dtype import dtype
        from ._tensor import Size, Tensor
        from .nn.parameter import Parameter
        self.Tensor, self.Parameter, self.Size, self.device, self.dtype = Tensor, Parameter, Size, device, dtype
        self.storages: list[np.ndarray] = []          # key -> flat little-endian array
        self.by_root: dict[int, tuple[int, np.ndarray]] = {}
        self.keep: list[Any] = []

    def persistent_id(self, obj: Any) -> Any:
        if type(obj) is _StorageRef:
            return obj.pid
        return None

    def save_global_marker(self, obj: _Global) -> None:
        self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode("utf-8"))
        self.memoize(obj)

    dispatch[_Global] = save_global_marker

    def save_dtype(self, obj: Any) -> None:
        self.save_global_marker(_Global("torch", obj.name))

    def save_global(self, obj: Any, name: str | None = None) -> None:
        """Classes and functions by name, as torch.save writes them: saving is unrestricted, as in torch; it is
        loading that accepts only torch's weights-only set and the types given to `add_safe_globals` or
        `safe_globals` (so a whole model saved with `save(model)` loads inside `safe_globals([...its classes])`,
        as pytorch/examples' word_language_model does).

        ndgrad's own classes and functions are written under torch's names (`ndgrad.nn.modules.linear.Linear` as
        `torch.nn.modules.linear.Linear`): `import ndgrad as torch` makes them the same names in a program, torch
        can load such a file (inside its own `safe_globals`) where the state matches, and `load` finds them
        again by the same path (`_user_global`)."""
        module = getattr(obj, "__module__", None)
        qual = name or getattr(obj, "__qualname__", None)
        if isinstance(module, str) and (module == "ndgrad" or module.startswith("ndgrad.")) and qual:
            try:
                found = getattr(importlib.import_module(module), qual, None)
            except ImportError:
                found = None
            if found is obj:
                self.write(pickle.GLOBAL + f"torch{module[len('ndgrad'):]}\n{qual}\n".encode("utf-8"))
                self.memoize(obj)
                return
        super().save_global(obj, name)

    dispatch[type] = save_global
    dispatch[type(len)] = save_global
    dispatch[type(lambda: 0)] = save_global

    def reducer_override(self, obj: Any) -> Any:
        tp = type(obj)
        if tp is _PlainTensor:
            return self.tensor_reduce(obj.t)
        if isinstance(obj, self.Tensor):
            if isinstance(obj, self.Parameter):
                return (_G_PARAM, (_PlainTensor(obj), obj.requires_grad, collections.OrderedDict()))
            if tp is not self.Tensor:
                raise TypeError(f"ndgrad.save cannot save a {tp.__qualname__} (a Tensor subclass)")
            return self.tensor_reduce(obj)
        if tp is self.Size:
            return (_G_SIZE, (tuple(obj),))
        if tp is self.device:
            return (_G_DEVICE, (obj.type,) if obj.index is None else (obj.type, obj.index))
        if tp is self.dtype or isinstance(obj, type) or tp in (type(len), type(lambda: 0)):
            return NotImplemented       # written as GLOBALs, each checked in save_global
        if tp in (type(None), bool, int, float, str, bytes, list, tuple, dict, complex, set, bytearray,
                  collections.OrderedDict, collections.Counter, _Global, _StorageRef):
            return NotImplemented
        return NotImplemented   # anything else as pickle writes it (a module: its class, then its __dict__)

    def tensor_reduce(self, t: Any) -> tuple:
        arr = t._data
        key, offset, stride, numel = self.storage_of(arr)
        d = t.dtype
        sname = _STORAGE_OF.get(d.name)
        rg = bool(t.requires_grad)
        if sname is not None:
            ref = _StorageRef(("storage", _Global("torch", sname), str(key), "cpu", numel))
            return (_G_V2, (ref, offset, tuple(arr.shape), stride, rg, collections.OrderedDict()))
        ref = _StorageRef(("storage", _G_UNTYPED, str(key), "cpu", numel * arr.dtype.itemsize))
        return (_G_V3, (ref, offset, tuple(arr.shape), stride, rg, collections.OrderedDict(),
                        _Global("torch", d.name)))

    def storage_of(self, arr: np.ndarray) -> tuple[int, int, tuple, int]:
        """(storage key, element offset, element strides, storage numel); tensors sharing memory share
        a storage when their layout can be expressed in torch's terms, else a tensor gets its own copy."""
        root = arr
        while isinstance(root.base, np.ndarray):
            root = root.base
        isz = arr.dtype.itemsize
        shareable = (root.dtype == arr.dtype and root.flags.c_contiguous and arr.size > 0 and root.ndim >= 0
                     and all(s >= 0 and s % isz == 0 for s in arr.strides))
        if shareable:
            off = arr.__array_interface__["data"][0] - root.__array_interface__["data"][0]
            last = off + sum((n - 1) * s for n, s in zip(arr.shape, arr.strides)) + isz
            shareable = off >= 0 and off % isz == 0 and last <= root.nbytes
        if shareable:
            entry = self.by_root.get(id(root))
            if entry is None or entry[1] is not root:
                flat = root.reshape(-1)
                entry = self.by_root[id(root)] = (len(self.storages), root)
                self.storages.append(flat)
                self.keep.append(root)
            return entry[0], off // isz, tuple(s // isz for s in arr.strides), root.size
        from ._tensor import _c_strides
        flat = np.array(arr, order="C").reshape(-1)
        self.storages.append(flat)
        return len(self.storages) - 1, 0, _c_strides(arr.shape), flat.size


class _StorageRef:
    __slots__ = ("pid",)

    def __init__(self, pid: tuple) -> None:
        self.pid = pid


def _register_dtype_dispatch() -> None:
    from ._dtype import dtype
    _Pickler.dispatch[dtype] = _Pickler.save_dtype


def save_zip(obj: Any) -> bytes:
    """The bytes of a torch.save zip archive holding `obj` (built in memory: an object ndgrad cannot save
    raises before anything is written)."""
    _register_dtype_dispatch()
    pk = io.BytesIO()
    p = _Pickler(pk)
    p.dump(obj)
    records: list[tuple[str, Any]] = [("data.pkl", pk.getvalue()), (".format_version", b"1"),
                                      (".storage_alignment", b"64"), ("byteorder", b"little")]
    for k, flat in enumerate(p.storages):
        le = flat.astype(flat.dtype.newbyteorder("<"), copy=False)
        records.append((f"data/{k}", memoryview(np.ascontiguousarray(le).view(np.uint8))))
    records.append(("version", b"3\n"))
    records.append((".data/serialization_id", ("%040d" % int.from_bytes(os.urandom(16), "little"))[:40].encode()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, data in records:
            full = "archive/" + name
            zi = zipfile.ZipInfo(full, date_time=(1980, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_STORED
            # pad the local header's extra field so that every record's bytes start at a multiple of 64
            start = out.tell() + 30 + len(full.encode()) + 4
            pad = -start % 64
            zi.extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad
            zf.writestr(zi, bytes(data) if isinstance(data, memoryview) else data)
    return out.getvalue()
