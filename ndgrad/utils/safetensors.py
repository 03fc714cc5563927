"""The safetensors file format, written and read by ndgrad itself (no package needed).

Mirrors `safetensors.torch`: `save_file`/`load_file`, `save`/`load` (bytes) and `safe_open`. A file is
an 8-byte little-endian header length N, N bytes of JSON (`{"__metadata__": {...}, name: {"dtype":
"F32", "shape": [...], "data_offsets": [begin, end]}, ...}`, padded with spaces to a multiple of 8),
then the raw little-endian, C-ordered tensor bytes. ndgrad writes exactly the bytes the `safetensors`
package writes for the same tensors (tensors ordered by element size, largest first, then by name), and
validates a file completely (header, dtypes, shapes, offsets covering the data without holes or overlap)
before building anything. The format holds only data, so loading one never runs code.
"""
from __future__ import annotations

import json
import math
import os
import struct
from typing import Any, Iterator, Union

import numpy as np

__all__ = ["save", "save_file", "load", "load_file", "safe_open", "SafetensorError"]

PathLike = Union[str, "os.PathLike[str]"]
_MAX_HEADER = 100_000_000          # as the safetensors package: a larger header is refused unread

# safetensors dtype code <-> torch dtype name
_CODES = {"BOOL": "bool", "U8": "uint8", "I8": "int8", "I16": "int16", "I32": "int32", "I64": "int64",
          "F16": "float16", "BF16": "bfloat16", "F32": "float32", "F64": "float64", "C64": "complex64", "U16": "uint16", "U32": "uint32", "U64": "uint64", "F8_E4M3": "float8_e4m3fn",
          "F8_E5M2": "float8_e5m2"}
_CODE_OF = {v: k for k, v in _CODES.items()}
# the package lays tensors out by dtype in this order (then by name), so ndgrad writes the same bytes
_ORDER = ["U64", "I64", "F64", "C64", "F32", "U32", "I32", "BF16", "F16", "U16", "I16", "F8_E4M3", "F8_E5M2", "I8",
          "U8", "BOOL"]


class SafetensorError(Exception):
    """A file or buffer that is not valid safetensors. Mirrors `safetensors.SafetensorError`."""


def _dtype(code: Any) -> Any:
    from .. import _dtype as D
    if not isinstance(code, str) or code not in _CODES:
        raise SafetensorError(f"Error while deserializing header: unknown dtype {code!r}")
    d = D._NAMES.get(_CODES[code])
    if d is None:
        raise SafetensorError(f"the file holds a {code} tensor: ndgrad has no dtype torch.{_CODES[code]}")
    return d


# -- writing ---------------------------------------------------------------------------------------------
def _check(tensors: Any) -> list[tuple[str, np.ndarray, str]]:
    from .._tensor import Tensor
    if not isinstance(tensors, dict):
        raise ValueError(f"Expected a dict of [str, torch.Tensor] but received {type(tensors)}")
    items, roots = [], {}
    for name, t in tensors.items():
        if not isinstance(name, str):
            raise ValueError(f"Expected a dict of [str, torch.Tensor] but received a key of type {type(name)}")
        if not isinstance(t, Tensor):
            raise ValueError(f"Key `{name}` is invalid, expected torch.Tensor but received {type(t)}")
        arr = t._data
        if not arr.flags.c_contiguous:
            raise ValueError(f"You are trying to save a non contiguous tensor: `{name}` which is not allowed. It "
                             "either means you are trying to save tensors which are reference of each other in "
                             "which case it's recommended to save only the full tensors, and reslice at load "
                             "time, or simply call `.contiguous()` on your tensor to pack it before saving.")
        code = _CODE_OF.get(t.dtype.name)
        if code is None:
            raise ValueError(f"safetensors cannot store dtype {t.dtype}")
        if arr.size:
            root = arr
            while isinstance(root.base, np.ndarray):
                root = root.base
            roots.setdefault(id(root), []).append(name)
        items.append((name, arr, code))
    shared = [set(names) for names in roots.values() if len(names) > 1]
    if shared:
        raise RuntimeError(f"""
            Some tensors share memory, this will lead to duplicate memory on disk and potential differences when loading them again: {shared}.
            A potential way to correctly save your model is to use `save_model`.
            More information at https://huggingface.co/docs/safetensors/torch_shared_tensors
            """)
    return items


def _serialize(tensors: dict, metadata: dict[str, str] | None) -> list:
    items = _check(tensors)
    if metadata is not None and (not isinstance(metadata, dict)
                                 or not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())):
        raise ValueError("metadata must be a dict of str to str")
    items.sort(key=lambda it: (_ORDER.index(it[2]), it[0]))
    header: dict[str, Any] = {}
    if metadata:
        header["__metadata__"] = metadata
    blocks, off = [], 0
    for name, arr, code in items:
        raw = memoryview(np.ascontiguousarray(arr.astype(arr.dtype.newbyteorder("<"), copy=False)).reshape(-1)
                         .view(np.uint8))
        header[name] = {"dtype": code, "shape": list(arr.shape), "data_offsets": [off, off + raw.nbytes]}
        blocks.append(raw)
        off += raw.nbytes
    h = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    h += b" " * (-len(h) % 8)
    return [struct.pack("<Q", len(h)), h] + blocks


def save(tensors: dict[str, Any], metadata: dict[str, str] | None = None) -> bytes:
    """The safetensors bytes of a dict of tensors. Mirrors `safetensors.torch.save`."""
    return b"".join(bytes(b) for b in _serialize(tensors, metadata))


def save_file(tensors: dict[str, Any], filename: PathLike, metadata: dict[str, str] | None = None) -> None:
    """Write a dict of tensors to a .safetensors file. Mirrors `safetensors.torch.save_file`."""
    parts = _serialize(tensors, metadata)
    with open(os.fspath(filename), "wb") as f:
        for p in parts:
            f.write(p)


# -- reading ---------------------------------------------------------------------------------------------
def _parse_header(head8: bytes, read_header: Any, data_len: int) -> tuple[dict, dict, int]:
    """(entries, metadata, header length) after checking everything."""
    if len(head8) < 8:
        raise SafetensorError("Error while deserializing header: HeaderTooSmall")
    (n,) = struct.unpack("<Q", head8)
    if n > _MAX_HEADER:
        raise SafetensorError("Error while deserializing header: HeaderTooLarge")
    if n > data_len - 8:
        raise SafetensorError("Error while deserializing header: InvalidHeaderLength")
    raw = read_header(n)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise SafetensorError(f"Error while deserializing header: InvalidHeaderDeserialization ({e})") from None
    if not isinstance(header, dict):
        raise SafetensorError("Error while deserializing header: the header is not a JSON object")
    meta = header.pop("__metadata__", None) or {}
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise SafetensorError("Error while deserializing header: __metadata__ must map strings to strings")
    buffer_len = data_len - 8 - n
    entries, spans = {}, []
    for name, e in header.items():
        if not isinstance(e, dict) or set(e) != {"dtype", "shape", "data_offsets"}:
            raise SafetensorError(f"Error while deserializing header: malformed entry for tensor {name!r}")
        d = _dtype(e["dtype"])
        shape, offs = e["shape"], e["data_offsets"]
        if not isinstance(shape, list) or len(shape) > 64 or not all(type(s) is int and s >= 0 for s in shape):
            raise SafetensorError(f"Error while deserializing header: bad shape for tensor {name!r}")
        if not (isinstance(offs, list) and len(offs) == 2 and all(type(o) is int for o in offs)
                and 0 <= offs[0] <= offs[1]):
            raise SafetensorError(f"Error while deserializing header: bad data_offsets for tensor {name!r}")
        if offs[1] - offs[0] != math.prod(shape) * d.itemsize:
            raise SafetensorError(f"Error while deserializing header: TensorInvalidInfo (tensor {name!r}: its "
                                  "shape and dtype do not match its data_offsets)")
        entries[name] = (d, tuple(shape), offs[0], offs[1])
        spans.append((offs[0], offs[1], name))
    end = 0
    for b, e, name in sorted(spans):
        if b != end:
            raise SafetensorError(f"Error while deserializing header: InvalidOffset({name!r}): the tensors' data "
                                  "must follow each other without holes or overlap")
        end = e
    if end != buffer_len:
        raise SafetensorError(f"Error while deserializing header: MetadataIncompleteBuffer (the data section holds "
                              f"{buffer_len} bytes, the header describes {end})")
    return entries, meta, n


def _tensor(buf: Any, d: Any, shape: tuple, begin: int, end: int) -> Any:
    from .._tensor import _wrap
    count = math.prod(shape)
    if d.name == "bool":
        arr = np.frombuffer(buf, np.uint8, count, begin)
        if arr.size and arr.max() > 1:
            raise SafetensorError("a bool tensor holds bytes other than 0 and 1")
        arr = arr.view(np.bool_)
    else:
        arr = np.frombuffer(buf, d.np.newbyteorder("<"), count, begin)
        if not arr.dtype.isnative:
            arr = arr.astype(d.np)
    return _wrap(arr.reshape(shape))


def load(data: bytes) -> dict[str, Any]:
    """Tensors from safetensors bytes. Mirrors `safetensors.torch.load`."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"expected bytes, got {type(data).__name__}")
    buf = bytearray(data)      # writable: the tensors are views of this one private copy
    entries, _, n = _parse_header(bytes(buf[:8]), lambda k: bytes(buf[8:8 + k]), len(buf))
    return {name: _tensor(buf, d, shape, 8 + n + b, 8 + n + e) for name, (d, shape, b, e) in entries.items()}


def load_file(filename: PathLike, device: Any = "cpu") -> dict[str, Any]:
    """Tensors from a .safetensors file, in the file's order. Mirrors `safetensors.torch.load_file`."""
    _check_device(device)
    with safe_open(filename, framework="pt", device=device) as f:
        return {k: f.get_tensor(k) for k in f.keys()}


def _check_device(device: Any) -> None:
    if str(device) not in ("cpu", "cpu:0"):
        from .._creation import device as dev
        dev(device)                          # ndgrad's own error for devices it does not have
        raise RuntimeError(f"ndgrad loads tensors on the cpu only, got device {device!r}")


class safe_open:
    """Open a .safetensors file and read tensors from it one at a time. Mirrors `safetensors.safe_open`
    (frameworks "pt"/"torch" give ndgrad tensors, "np"/"numpy" NumPy arrays)."""

    def __init__(self, filename: PathLike, framework: str = "pt", device: Any = "cpu") -> None:
        if framework not in ("pt", "torch", "np", "numpy"):
            raise ValueError(f"ndgrad's safe_open gives ndgrad tensors ('pt') or NumPy arrays ('numpy'), not "
                             f"{framework!r}")
        _check_device(device)
        self._numpy = framework in ("np", "numpy")
        self._f = open(os.fspath(filename), "rb")
        try:
            size = os.fstat(self._f.fileno()).st_size
            entries, self._meta, n = _parse_header(self._f.read(8), self._f.read, size)
        except BaseException:
            self._f.close()
            raise
        self._entries = dict(sorted(entries.items(), key=lambda kv: kv[1][2]))
        self._start = 8 + n

    def __enter__(self) -> "safe_open":
        return self

    def __exit__(self, *exc: Any) -> None:
        self._f.close()

    def keys(self) -> list[str]:
        return list(self._entries)

    def offset_keys(self) -> list[str]:
        return list(self._entries)

    def metadata(self) -> dict[str, str] | None:
        return dict(self._meta) if self._meta else None

    def get_tensor(self, name: str) -> Any:
        if name not in self._entries:
            raise SafetensorError(f"File does not contain tensor {name}")
        d, shape, b, e = self._entries[name]
        self._f.seek(self._start + b)
        raw = bytearray(self._f.read(e - b))
        if len(raw) != e - b:
            raise SafetensorError(f"the file is truncated: tensor {name}")
        t = _tensor(raw, d, shape, 0, e - b)
        return t._data if self._numpy else t

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)
