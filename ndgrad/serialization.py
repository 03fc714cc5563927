"""`save` and `load`: tensors and nested containers in a file format that holds only data.

Mirrors `torch.save`/`torch.load` in use, not in format: the file is never a pickle, so loading can
never run code. Layout (docs/file-format.md is the specification):

    0   magic        8 bytes  b"NDGRAD\\x00\\x01"
    8   version      u32 LE   1
    12  flags        u32 LE   0
    16  header_len   u64 LE   bytes of JSON header
    24  data_len     u64 LE   bytes of the data section
    32  sha256       32 bytes of bytes 0..32 followed by everything from byte 64 to the end
    64  header       UTF-8 JSON, then zero padding to a multiple of 64
    ..  data         raw little-endian C-order tensor blocks, each at an offset that is a multiple of 64

The whole file is read and its checksum verified before the header is parsed; the header is then
validated completely, and the object tree built, before anything is returned.
"""
from __future__ import annotations

import collections
import io
import math
import os
import re
import struct
from typing import IO, Any, Union

import numpy as np

__all__ = ["save", "load", "LoadError", "add_safe_globals", "safe_globals", "get_safe_globals", "clear_safe_globals"]

MAGIC = b"NDGRAD\x00\x01"
VERSION = 1
ALIGN = 64
_PREFIX = struct.Struct("<8sIIQQ")      # magic, version, flags, header_len, data_len (32 bytes)
_PREFIX_LEN = 64                        # + 32 bytes of sha256
_CHUNK = 1 << 24                        # streams are read in chunks: a lying length costs no memory
_MAX_DEPTH = 200                        # nesting limit on save and load

FileLike = Union[str, "os.PathLike[str]", IO[bytes]]


class LoadError(RuntimeError):
    """A file that `ndgrad.load` refuses: not an ndgrad file, truncated, corrupted or malformed."""


def _pad(n: int) -> int:
    return -n % ALIGN


# -- the allow-list of user types (torch.serialization's safe globals) --------------------------------------
_SAFE: dict[str, Any] = {}


def _global_name(obj: Any) -> tuple[str, Any]:
    if isinstance(obj, tuple):
        if len(obj) != 2 or not isinstance(obj[1], str):
            raise TypeError("safe globals are objects or (object, 'module.name') pairs")
        return obj[1], obj[0]
    return f"{obj.__module__}.{obj.__qualname__}", obj


def _user_safe_globals() -> dict[str, Any]:
    return _SAFE


def add_safe_globals(safe_globals: list) -> None:
    """Let `load` (torch format) rebuild these classes and call these functions. Mirrors
    `torch.serialization.add_safe_globals`; only for types you trust."""
    for g in safe_globals:
        name, obj = _global_name(g)
        _SAFE[name] = obj


def get_safe_globals() -> list:
    """Mirrors `torch.serialization.get_safe_globals`."""
    return [obj if f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', '')}" == name else (obj, name)
            for name, obj in _SAFE.items()]


def clear_safe_globals() -> None:
    """Mirrors `torch.serialization.clear_safe_globals`."""
    _SAFE.clear()


class safe_globals:
    """Context manager: `add_safe_globals` for the duration of a `with` block. Mirrors
    `torch.serialization.safe_globals`."""

    def __init__(self, safe_globals: list) -> None:
        self.safe_globals = safe_globals

    def __enter__(self) -> None:
        self.saved = dict(_SAFE)
        add_safe_globals(self.safe_globals)

    def __exit__(self, *exc: Any) -> None:
        _SAFE.clear()
        _SAFE.update(self.saved)


# -- saving ------------------------------------------------------------------------------------------
class _Writer:
    def __init__(self) -> None:
        from ._creation import device
        from ._dtype import dtype
        from ._tensor import Size, Tensor
        self.device = device
        self.Tensor, self.dtype, self.containers = Tensor, dtype, (list, tuple, dict, collections.OrderedDict, Size)
        self.names = {list: "list", tuple: "tuple", Size: "size"}
        try:
            from .nn.parameter import Parameter
        except ImportError:  # pragma: no cover - nn.Parameter not available yet
            Parameter = None
        self.Parameter = Parameter
        self.tensors: list[dict] = []
        self.blocks: list[bytes] = []
        self.size = 0
        self.memo: dict[int, int] = {}     # id(tensor) -> index: the same tensor object is stored once
        self.keep: list[Any] = []          # keeps memoised objects alive so ids stay unique
        self.active: set[int] = set()      # containers being written (cycle detection)

    def block(self, raw: bytes) -> int:
        off = self.size
        self.blocks.append(raw)
        self.blocks.append(b"\x00" * _pad(len(raw)))
        self.size += len(raw) + _pad(len(raw))
        return off

    def tensor(self, t: Any) -> dict:
        k = self.memo.get(id(t))
        if k is None:
            from ._dtype import from_numpy_dtype
            arr = np.asarray(t._data)
            arr = arr if arr.flags.c_contiguous else arr.copy(order="C")   # (ascontiguousarray makes 0-d 1-d)
            d = from_numpy_dtype(arr.dtype)
            raw = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
            entry = {"dtype": d.name, "shape": list(arr.shape), "offset": self.block(raw), "nbytes": len(raw),
                     "requires_grad": bool(t.requires_grad),
                     "parameter": self.Parameter is not None and isinstance(t, self.Parameter)}
            k = self.memo[id(t)] = len(self.tensors)
            self.tensors.append(entry)
            self.keep.append(t)
        return {"t": "tensor", "i": k}

    def node(self, obj: Any, depth: int = 0) -> dict:
        if depth > _MAX_DEPTH:
            raise ValueError(f"cannot save objects nested more than {_MAX_DEPTH} levels deep")
        tp = type(obj)
        if obj is None:
            return {"t": "none"}
        if tp is bool:
            return {"t": "bool", "v": obj}
        if tp is int:
            return {"t": "int", "v": hex(obj)}
        if tp is float:
            return {"t": "float", "v": obj.hex()}
        if tp is complex:
            return {"t": "complex", "re": obj.real.hex(), "im": obj.imag.hex()}
        if tp is str:
            return {"t": "str", "v": obj}
        if tp is bytes:
            return {"t": "bytes", "offset": self.block(obj), "nbytes": len(obj)}
        if isinstance(obj, self.Tensor):
            return self.tensor(obj)
        if tp is self.dtype:
            return {"t": "dtype", "v": obj.name}
        if tp is np.ndarray or isinstance(obj, np.generic):
            arr = np.asarray(obj)
            if arr.dtype.kind not in "biufc":
                raise TypeError(f"ndgrad.save cannot save a NumPy array of dtype {arr.dtype}: only bool, integer, "
                                "float and complex arrays")
            arr = arr if arr.flags.c_contiguous else arr.copy(order="C")
            raw = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
            return {"t": "ndarray" if tp is np.ndarray else "npscalar", "dtype": arr.dtype.newbyteorder("<").str,
                    "shape": list(arr.shape), "offset": self.block(raw), "nbytes": len(raw)}
        if tp is self.device:
            return {"t": "device", "v": str(obj)}
        if tp in self.containers:
            if id(obj) in self.active:
                raise ValueError(f"cannot save a {tp.__name__} that contains itself")
            self.active.add(id(obj))
            try:
                if tp is dict or tp is collections.OrderedDict:
                    items = [[self.node(k, depth + 1), self.node(v, depth + 1)] for k, v in obj.items()]
                    return {"t": "dict" if tp is dict else "odict", "items": items}
                return {"t": self.names[tp], "items": [self.node(v, depth + 1) for v in obj]}
            finally:
                self.active.discard(id(obj))
        raise TypeError(f"ndgrad.save cannot save an object of type {tp.__module__}.{tp.__qualname__}: only "
                        "tensors, NumPy arrays, dict, OrderedDict, list, tuple, torch.Size, str, bytes, int, "
                        "float, complex, bool, None, dtypes and devices can be saved")


def _serialize(obj: Any) -> bytes:
    import hashlib   # (hashlib and json load on first use: `import ndgrad` stays fast)
    import json
    w = _Writer()
    root = w.node(obj)
    header = json.dumps({"format": "ndgrad", "byteorder": "little", "tensors": w.tensors, "root": root},
                        separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
    data = b"".join(w.blocks)
    prefix = _PREFIX.pack(MAGIC, VERSION, 0, len(header), len(data))
    body = header + b"\x00" * _pad(len(header)) + data
    digest = hashlib.sha256(prefix + body).digest()
    return prefix + digest + body


def save(obj: Any, f: FileLike, pickle_module: Any = None, pickle_protocol: int = 2,
         _use_new_zipfile_serialization: bool = True, _disable_byteorder_record: bool = False, *,
         format: str = "torch") -> None:
    """Save `obj` (tensors and nested containers) to a path or binary file. Mirrors `torch.save`.

    `format="torch"` (the default) writes PyTorch's zip format, which `torch.load` reads with
    `weights_only=True`; `format="ndgrad"` writes ndgrad's pickle-free format (docs/file-format.md)."""
    if format == "ndgrad":
        raw = _serialize(obj)               # TypeError/ValueError here leave `f` untouched
    elif format == "torch":
        if pickle_module is not None and getattr(pickle_module, "__name__", None) != "pickle":
            raise NotImplementedError("ndgrad.save writes its own restricted pickle: pickle_module is not supported")
        if not _use_new_zipfile_serialization:
            raise NotImplementedError("ndgrad.save does not write the legacy (pre-1.6) torch format; it writes "
                                      "the zip format (ndgrad.load reads both)")
        from ._torch_format import save_zip
        raw = save_zip(obj)
    else:
        raise ValueError(f"ndgrad.save: format must be 'torch' or 'ndgrad', got {format!r}")
    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        if os.path.isdir(path):
            raise IsADirectoryError(f"[Errno 21] Is a directory: {path!r}")
        d = os.path.dirname(os.path.abspath(path))
        tmp = os.path.join(d, f".{os.path.basename(path)}.{os.getpid()}.{os.urandom(6).hex()}.tmp")
        # os.open with 0o666 lets the umask decide the mode, as a plain open() would
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(raw)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
    else:
        if not hasattr(f, "write"):
            raise AttributeError(f"'{type(f).__name__}' object has no attribute 'write'")
        f.write(raw)


# -- loading -----------------------------------------------------------------------------------------
def _read_exact(f: Any, n: int) -> bytes:
    """Up to `n` bytes (fewer only at end of file), read in chunks."""
    parts = []
    while n > 0:
        b = f.read(min(n, _CHUNK))
        if not isinstance(b, (bytes, bytearray, memoryview)):
            raise LoadError("ndgrad.load needs a file opened in binary mode ('rb')")
        if not b:
            break
        parts.append(bytes(b))
        n -= len(b)
    return b"".join(parts)


def _foreign(head: bytes) -> str:
    if head[:4] == b"PK\x03\x04":
        return "it is a zip archive (torch.save writes these); ndgrad.load reads only files written by ndgrad.save"
    if head[:1] == b"\x80" or head[:1] in (b"(", b"]", b"}", b"c"):
        return "it looks like a pickle; ndgrad.load never unpickles (that could run code)"
    if head[:6] == b"\x93NUMPY":
        return "it is a NumPy .npy file; use numpy.load and ndgrad.from_numpy"
    return "it does not start with the ndgrad magic bytes"


def _read_file(f: Any, strict_end: bool) -> tuple[bytes, bytes]:
    """(header, data) of a verified file."""
    import hashlib
    head = _read_exact(f, _PREFIX_LEN)
    if not head:
        raise LoadError("not an ndgrad file: the file is empty")
    if not (head.startswith(MAGIC) or MAGIC.startswith(head)):
        raise LoadError(f"not an ndgrad file: {_foreign(head)}")
    if len(head) < _PREFIX_LEN:
        raise LoadError(f"the ndgrad file is truncated: {len(head)} bytes, shorter than its {_PREFIX_LEN}-byte prefix")
    _, version, flags, hlen, dlen = _PREFIX.unpack(head[:32])
    if version != VERSION:
        raise LoadError(f"unsupported ndgrad file version {version} (this ndgrad reads version {VERSION})")
    if flags != 0:
        raise LoadError(f"the ndgrad file is corrupted: unknown flags {flags:#x}")
    need = hlen + _pad(hlen) + dlen
    body = _read_exact(f, need)
    if len(body) < need:
        raise LoadError(f"the ndgrad file is truncated: {_PREFIX_LEN + len(body)} bytes, expected "
                        f"{_PREFIX_LEN + need}")
    if strict_end and f.read(1):
        raise LoadError("the ndgrad file is corrupted: extra bytes after its end")
    if hashlib.sha256(head[:32] + body).digest() != head[32:64]:
        raise LoadError("the ndgrad file is corrupted: checksum mismatch")
    return body[:hlen], body[hlen + _pad(hlen):]


class _Reader:
    def __init__(self, header: dict, data: bytes) -> None:
        self.data = data
        self.entries = header["tensors"]
        if not isinstance(self.entries, list):
            raise LoadError("malformed header: 'tensors' is not a list")
        self.made: dict[int, Any] = {}

    def tensor(self, k: Any) -> Any:
        if type(k) is not int or not 0 <= k < len(self.entries):
            raise LoadError(f"malformed header: bad tensor index {k!r}")
        if k in self.made:
            return self.made[k]
        from . import _dtype as D
        from ._creation import from_numpy
        e = self.entries[k]
        if not isinstance(e, dict):
            raise LoadError("malformed header: a tensor entry is not an object")
        dt = e.get("dtype")
        if not isinstance(dt, str) or dt not in D._NAMES:
            raise LoadError(f"malformed header: unknown dtype {dt!r}")
        d = D._NAMES[dt]
        shape = e.get("shape")
        if not isinstance(shape, list) or not all(type(s) is int and s >= 0 for s in shape) or len(shape) > 64:
            raise LoadError(f"malformed header: bad shape {shape!r}")
        n = math.prod(shape)
        off, nbytes = e.get("offset"), e.get("nbytes")
        if type(off) is not int or type(nbytes) is not int or off < 0 or off % ALIGN or \
                nbytes != n * d.itemsize or off + nbytes > len(self.data):
            raise LoadError("malformed header: a tensor's offset/nbytes do not fit its shape or the data section")
        rg, par = e.get("requires_grad"), e.get("parameter")
        if type(rg) is not bool or type(par) is not bool:
            raise LoadError("malformed header: requires_grad/parameter must be booleans")
        if rg and not (d.is_floating_point or d.is_complex):
            raise LoadError(f"malformed header: a {dt} tensor cannot require grad")
        if d.name == "bool":
            arr = np.frombuffer(self.data, np.uint8, n, off) != 0
        else:
            arr = np.frombuffer(self.data, d.np.newbyteorder("<"), n, off).astype(d.np)  # a native-order copy
        t = from_numpy(arr.reshape(shape))
        if par:
            try:
                from .nn.parameter import Parameter
            except ImportError as exc:  # pragma: no cover
                raise LoadError("the file holds nn.Parameter objects but ndgrad.nn.Parameter is unavailable") from exc
            t = Parameter(t, requires_grad=rg)
        elif rg:
            t.requires_grad_(True)
        self.made[k] = t
        return t

    def ndarray(self, n: dict, t: str) -> Any:
        code, shape, off, nb = _s(n["dtype"]), n["shape"], n["offset"], n["nbytes"]
        if not re.fullmatch(r"[<|][biufc][1-9][0-9]?", code):
            raise LoadError(f"malformed header: bad NumPy dtype {code!r}")
        d = np.dtype(code)
        if not isinstance(shape, list) or not all(type(s) is int and s >= 0 for s in shape) or len(shape) > 64 \
                or (t == "npscalar" and shape):
            raise LoadError(f"malformed header: bad shape {shape!r}")
        count = math.prod(shape)
        if type(off) is not int or type(nb) is not int or off < 0 or nb != count * d.itemsize \
                or off + nb > len(self.data):
            raise LoadError("malformed header: an array's offset/nbytes do not fit its shape or the data section")
        arr = np.frombuffer(self.data, d, count, off).astype(d.newbyteorder("="))
        return arr.reshape(shape) if t == "ndarray" else arr[0]

    def node(self, n: Any, depth: int = 0) -> Any:
        if depth > _MAX_DEPTH:
            raise LoadError(f"malformed header: nested more than {_MAX_DEPTH} levels deep")
        if not isinstance(n, dict) or not isinstance(n.get("t"), str):
            raise LoadError("malformed header: a node is not an object with a type tag")
        t = n["t"]
        try:
            if t == "none":
                return None
            if t == "bool":
                v = n["v"]
                if type(v) is not bool:
                    raise LoadError("malformed header: bad bool")
                return v
            if t == "int":
                return int(_s(n["v"]), 16)
            if t == "float":
                return float.fromhex(_s(n["v"]))
            if t == "complex":
                return complex(float.fromhex(_s(n["re"])), float.fromhex(_s(n["im"])))
            if t == "str":
                return _s(n["v"])
            if t == "bytes":
                off, nb = n["offset"], n["nbytes"]
                if type(off) is not int or type(nb) is not int or off < 0 or nb < 0 or off + nb > len(self.data):
                    raise LoadError("malformed header: bytes outside the data section")
                return self.data[off:off + nb]
            if t == "tensor":
                return self.tensor(n["i"])
            if t in ("ndarray", "npscalar"):
                return self.ndarray(n, t)
            if t == "device":
                from ._creation import device
                return device(_s(n["v"]))
            if t == "dtype":
                from . import _dtype as D
                name = _s(n["v"])
                if name not in D._NAMES:
                    raise LoadError(f"malformed header: unknown dtype {name!r}")
                return D._NAMES[name]
            if t in ("list", "tuple", "size"):
                items = n["items"]
                if not isinstance(items, list):
                    raise LoadError("malformed header: items is not a list")
                vals = [self.node(v, depth + 1) for v in items]
                if t == "list":
                    return vals
                if t == "tuple":
                    return tuple(vals)
                from ._tensor import Size
                if not all(type(v) is int for v in vals):
                    raise LoadError("malformed header: a Size holds non-integers")
                return Size(vals)
            if t in ("dict", "odict"):
                items = n["items"]
                if not isinstance(items, list) or not all(isinstance(p, list) and len(p) == 2 for p in items):
                    raise LoadError("malformed header: dict items are not pairs")
                out = {} if t == "dict" else collections.OrderedDict()
                for k, v in items:
                    out[self.node(k, depth + 1)] = self.node(v, depth + 1)
                return out
        except KeyError as e:
            raise LoadError(f"malformed header: a {t!r} node lacks {e}") from None
        except (ValueError, OverflowError) as e:
            raise LoadError(f"malformed header: bad {t!r} value ({e})") from None
        except TypeError as e:   # e.g. an unhashable dict key
            raise LoadError(f"malformed header: bad {t!r} node ({e})") from None
        raise LoadError(f"malformed header: unknown node type {t!r}")


def _s(v: Any) -> str:
    if not isinstance(v, str):
        raise LoadError(f"malformed header: expected a string, got {type(v).__name__}")
    return v


def _check_map_location(map_location: Any) -> None:
    if map_location is None or callable(map_location) or isinstance(map_location, dict):
        return   # every tensor is a CPU tensor: callables and dicts have nothing to remap
    from ._creation import device
    dev = map_location if isinstance(map_location, device) else device(map_location)
    if dev.type != "cpu":
        raise RuntimeError(f"Attempting to deserialize object on device {dev.type!r}, but ndgrad only has 'cpu'")


def load(f: FileLike, map_location: Any = None, pickle_module: Any = None, *, weights_only: bool | None = True,
         mmap: bool | None = None, **pickle_load_args: Any) -> Any:
    """Load an object saved by `save` or by `torch.save` (zip or legacy format); never runs code from the
    file. Mirrors `torch.load`: PyTorch files are read as with `weights_only=True`, whatever
    `weights_only` says (a file naming anything outside the allow-list is refused)."""
    if pickle_module is not None:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is specified")
    encoding = pickle_load_args.pop("encoding", "ASCII")
    if pickle_load_args:
        raise TypeError(f"load() got unexpected keyword arguments {sorted(pickle_load_args)}")
    is_path = isinstance(f, (str, os.PathLike))
    if mmap and not is_path:
        raise ValueError("f must be a file path in order to use the mmap argument")
    if is_path:
        with open(os.fspath(f), "rb") as fh:
            return _load_from(fh, map_location, mmap, os.fspath(f), encoding)
    if not hasattr(f, "read"):
        raise AttributeError(f"'{type(f).__name__}' object has no attribute 'read'")
    return _load_from(f, map_location, False, None, encoding)


def _load_from(fh: Any, map_location: Any, mmap: Any, path: str | None, encoding: str) -> Any:
    import json
    start = fh.tell() if _seekable(fh) else None
    head = _read_exact(fh, 4)
    if head[:4] == b"PK\x03\x04" or (head and not MAGIC.startswith(head[:4]) and head[:1] in _PICKLE_STARTS):
        from . import _torch_format
        if start is not None:
            fh.seek(start)
            src = fh
        else:
            src = io.BytesIO(head + fh.read())
        if head[:4] == b"PK\x03\x04":
            return _torch_format.load_zip(src, map_location, path if mmap else None, encoding)
        if mmap:
            raise RuntimeError("mmap can only be used with files saved with `torch.save(_use_new_zipfile_serialization"
                               "=True)`, please torch.save your checkpoint with this option in order to use mmap.")
        return _torch_format.load_legacy(src, map_location, encoding)
    if mmap:
        raise RuntimeError("mmap can only be used with files saved with `torch.save(_use_new_zipfile_serialization"
                           "=True)`; ndgrad.load does not memory-map ndgrad-format files")
    _check_map_location(map_location)
    header, data = _read_file(_Prefixed(head, fh), strict_end=path is not None)
    try:
        meta = json.loads(header.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise LoadError(f"malformed header: not valid JSON ({type(e).__name__})") from None
    if not isinstance(meta, dict) or meta.get("format") != "ndgrad" or meta.get("byteorder") != "little" \
            or "root" not in meta or "tensors" not in meta:
        raise LoadError("malformed header: missing format, byteorder, tensors or root")
    try:
        return _Reader(meta, data).node(meta["root"])
    except RecursionError:
        raise LoadError("malformed header: nested too deeply") from None


_PICKLE_STARTS = tuple(bytes([c]) for c in b"\x80(]}cKIJLNSVXFG)")   # first opcodes of pickles: read as torch's legacy format


def _seekable(fh: Any) -> bool:
    try:
        return bool(fh.seekable()) if hasattr(fh, "seekable") else False
    except (OSError, ValueError):
        return False


class _Prefixed:
    """A stream with some of its first bytes already read."""

    def __init__(self, head: bytes, fh: Any) -> None:
        self.head, self.fh = head, fh

    def read(self, n: int) -> bytes:
        if self.head:
            out, self.head = self.head[:n], self.head[n:]
            return out if len(out) == n else out + _read_exact(self.fh, n - len(out))
        return self.fh.read(n)
