"""dtype objects and PyTorch's type-promotion rules.

Mirrors `torch.dtype`, `torch.promote_types`, `torch.result_type`. Promotion follows torch's
categories (bool < integer < floating < complex) and its weak treatment of 0-d tensors and Python
scalars, not NumPy's rules (NumPy would turn `int64 * 2.5` into float64; torch gives float32).
"""
from __future__ import annotations

import threading
from typing import Any

import numpy as np

__all__ = [
    "dtype", "bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64",
    "complex64", "complex128", "half", "float", "double", "short", "int", "long", "cfloat", "cdouble", "bfloat16",
    "get_default_dtype", "set_default_dtype", "promote_types",
]

_builtin_bool, _builtin_int, _builtin_float = bool, int, float


class dtype:
    """A tensor element type. Mirrors `torch.dtype`."""

    __slots__ = ("name", "np", "is_floating_point", "is_complex", "is_signed", "itemsize", "_cat", "_rank")

    def __init__(self, name: str, np_dtype: np.dtype, cat: _builtin_int, rank: _builtin_int) -> None:
        self.name = name
        self.np = np.dtype(np_dtype)
        self._cat = cat  # 0 bool, 1 integer, 2 floating, 3 complex
        self._rank = rank
        self.is_floating_point = cat == 2
        self.is_complex = cat == 3
        self.is_signed = name not in ("bool", "uint8")
        self.itemsize = self.np.itemsize

    def __repr__(self) -> str:
        return "torch." + self.name

    def __reduce__(self):
        return (_by_name, (self.name,))

    def to_real(self) -> "dtype":
        return {complex64: float32, complex128: float64}.get(self, self)

    def to_complex(self) -> "dtype":
        if self.name == "bfloat16":
            return complex64
        return {float16: complex64, float32: complex64, float64: complex128}.get(self, self)


class _LazyDtype(dtype):
    """A dtype whose NumPy type comes from an optional package, imported when an array is first needed
    (`torch.bfloat16` exists without ml_dtypes; making a bfloat16 tensor needs it)."""

    __slots__ = ("_loader",)

    def __init__(self, name: str, loader: Any, cat: _builtin_int, rank: _builtin_int, itemsize: _builtin_int) -> None:
        self.name = name
        self._loader = loader
        self._cat = cat
        self._rank = rank
        self.is_floating_point = cat == 2
        self.is_complex = cat == 3
        self.is_signed = True
        self.itemsize = itemsize

    @property  # type: ignore[override]
    def np(self) -> np.dtype:
        d = self._loader()
        FROM_NP[d] = self
        return d


def _bfloat16_np() -> np.dtype:
    try:
        import ml_dtypes
    except ImportError:
        raise ModuleNotFoundError("bfloat16 tensors need the ml_dtypes package (pip install ml_dtypes, or "
                                  "pip install ndgrad[bfloat16])") from None
    return np.dtype(ml_dtypes.bfloat16)


bool = dtype("bool", np.bool_, 0, 0)
uint8 = dtype("uint8", np.uint8, 1, 1)
int8 = dtype("int8", np.int8, 1, 1)
int16 = dtype("int16", np.int16, 1, 2)
int32 = dtype("int32", np.int32, 1, 3)
int64 = dtype("int64", np.int64, 1, 4)
float16 = dtype("float16", np.float16, 2, 1)
float32 = dtype("float32", np.float32, 2, 2)
float64 = dtype("float64", np.float64, 2, 3)
complex64 = dtype("complex64", np.complex64, 3, 2)
complex128 = dtype("complex128", np.complex128, 3, 3)
half, float, double = float16, float32, float64
short, int, long = int16, int32, int64
cfloat, cdouble = complex64, complex128

bfloat16 = _LazyDtype("bfloat16", _bfloat16_np, 2, 1, 2)

ALL = (bool, uint8, int8, int16, int32, int64, float16, float32, float64, complex64, complex128)
_NAMES = {d.name: d for d in ALL}
_NAMES["bfloat16"] = bfloat16
FROM_NP = {d.np: d for d in ALL}
# NumPy's other types land on the nearest torch type
FROM_NP[np.dtype(np.uint16)] = int32
FROM_NP[np.dtype(np.uint32)] = int64
FROM_NP[np.dtype(np.uint64)] = int64
FROM_NP[np.dtype(np.longdouble)] = float64


def _by_name(name: str) -> dtype:
    return _NAMES[name]


def from_numpy_dtype(d: np.dtype) -> dtype:
    try:
        return FROM_NP[d]
    except KeyError:
        if getattr(d, "name", None) == "bfloat16":
            bfloat16.np  # registers it
            return bfloat16
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{np.dtype(d).type.__name__}. The only supported types are: "
            "float64, float32, float16, complex64, complex128, int64, int32, int16, int8, uint64, uint32, uint16, "
            "uint8, and bool."
        ) from None


_state = threading.local()
_DEFAULT = [float32]  # process-wide, like torch


def get_default_dtype() -> dtype:
    """Mirrors `torch.get_default_dtype`."""
    return _DEFAULT[0]


def set_default_dtype(d: dtype) -> None:
    """Mirrors `torch.set_default_dtype` (float32 or float64 or float16)."""
    if not isinstance(d, dtype) or not d.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    _DEFAULT[0] = d
    _cache.clear()


def default_complex() -> dtype:
    return complex128 if _DEFAULT[0] is float64 else complex64


_INTS = (uint8, int8, int16, int32, int64)


def promote_types(a: dtype, b: dtype) -> dtype:
    """Mirrors `torch.promote_types`."""
    if a is b:
        return a
    ca, cb = a._cat, b._cat
    if ca == 3 or cb == 3:
        # complex wins; its precision is the larger of the two floating widths
        ra = a._rank if ca >= 2 else 0
        rb = b._rank if cb >= 2 else 0
        return complex128 if max(ra, rb) == 3 else complex64
    if ca == 2 and cb == 2:
        if a._rank == b._rank:  # float16 with bfloat16
            return float32
        return a if a._rank > b._rank else b
    if ca == 2:
        return a
    if cb == 2:
        return b
    if ca == 0:
        return b
    if cb == 0:
        return a
    return FROM_NP[np.promote_types(a.np, b.np)]


# kinds of operands: 2 = tensor with dims, 1 = 0-d tensor, 0 = Python/NumPy scalar ("wrapped number")
def _combine(higher, lower):
    if higher is None:
        return lower
    if lower is None:
        return higher
    if higher._cat == 3:
        return higher
    if lower._cat == 3:
        if higher._cat == 2:
            return higher.to_complex()
        return lower
    if higher._cat == 2:
        return higher
    if higher._cat == 0 or lower._cat == 2:
        return promote_types(higher, lower)
    return higher


def scalar_dtype(x: Any) -> dtype:
    """The dtype a Python or NumPy scalar takes when it stands alone (a wrapped number)."""
    t = type(x)
    if t is _builtin_bool:
        return bool
    if t is np.bool_:  # torch reads a NumPy bool scalar as a Python float (torch.full((2,), np.True_) is float32)
        return _DEFAULT[0]
    if t is _builtin_int or isinstance(x, np.integer):
        return int64
    if t is _builtin_float or isinstance(x, np.floating):
        return _DEFAULT[0]
    if isinstance(x, (complex, np.complexfloating)):
        return default_complex()
    raise TypeError(f"unsupported scalar type {t.__name__}")


_cache: dict = {}


def result_type_of(dtypes_kinds: tuple) -> dtype:
    """Result dtype of operands given as ((dtype, kind), ...). Mirrors `torch.result_type`."""
    r = _cache.get(dtypes_kinds)
    if r is not None:
        return r
    groups = [None, None, None]
    for d, kind in dtypes_kinds:
        g = groups[kind]
        groups[kind] = d if g is None else promote_types(g, d)
    r = _combine(groups[2], _combine(groups[1], groups[0]))
    _cache[dtypes_kinds] = r
    return r


# -- a number stored into a tensor (fill_, full, masked_fill, index_fill, x[i] = v) -------------------------------
_C_NAMES = {"uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int", "int64": "int64_t",
            "float16": "c10::Half", "bfloat16": "c10::BFloat16", "float32": "float", "float64": "double"}
_FLOAT_MAX = {"float16": 65504.0, "bfloat16": 3.3895313892515355e38, "float32": 3.4028234663852886e38}
_RANGE: dict = {}


def _range(np_dtype: np.dtype) -> tuple:
    """(min, max) of an integer dtype as Python ints (np.iinfo's properties cost a microsecond a read)."""
    r = _RANGE.get(np_dtype)
    if r is None:
        info = np.iinfo(np_dtype)
        r = _RANGE[np_dtype] = (_builtin_int(info.min), _builtin_int(info.max))
    return r


def int_fits(lo: Any, hi: Any, np_dtype: np.dtype, from_float: bool) -> bool:
    """Whether numbers from `lo` to `hi` fit integer dtype `np_dtype` as torch converts them: an integer may reach an
    unsigned type from as low as -max (two's complement: -1 is 255 in uint8); a float must lie within the type's
    range (NaN never does: it compares false)."""
    a, b = _range(np_dtype)
    if np_dtype.kind == "u" and not from_float:
        a = -b
    return a <= lo and hi <= b


def _overflow(np_dtype: np.dtype) -> RuntimeError:
    name = np_dtype.name
    return RuntimeError(f"value cannot be converted to type {_C_NAMES.get(name, name)} without overflow")


def checked_fill(value: Any, np_dtype: np.dtype, narrow_floats: bool = True) -> Any:
    """`value` (a Python or NumPy number) as torch converts a fill value to a tensor's dtype, in a form NumPy stores
    without complaint: torch's RuntimeError ("value cannot be converted to type uint8_t without overflow") when it
    does not fit. An integer may reach an unsigned type from as low as -max, wrapping (two's complement: -1 is
    255 in uint8); a float must lie within the type's range (NaN and inf never fit an integer type) and is cut
    toward zero. float16 and bfloat16 are checked only with `narrow_floats` (`x[i] = v` stores into them
    unchecked in torch, as inf). Booleans and complex values, and complex dtypes, pass as they are."""
    t = type(value)
    if t is _builtin_bool or t is np.bool_ or t is _builtin_int and 0 <= value <= 127:  # (fits every dtype)
        return value
    kind = np_dtype.kind
    if kind == "b":
        return value if t is not _builtin_int else value != 0  # (NumPy refuses ints beyond 64 bits for bool)
    if kind == "c":
        return value
    if t is _builtin_int or isinstance(value, np.integer):
        v = _builtin_int(value)
        if kind in "iu":
            if not int_fits(v, v, np_dtype, False):
                raise _overflow(np_dtype)
            return v % (_range(np_dtype)[1] + 1) if kind == "u" else v
        try:
            f = _builtin_float(v)
        except OverflowError:
            raise _overflow(np_dtype) from None
    elif t is _builtin_float or isinstance(value, np.floating):
        f = _builtin_float(value)
        if kind in "iu":
            if not int_fits(f, f, np_dtype, True):
                raise _overflow(np_dtype)
            return f
    else:
        return value
    top = _FLOAT_MAX.get(np_dtype.name) if kind != "f" or np_dtype.itemsize < 8 else None
    if top is not None and (narrow_floats or np_dtype.itemsize == 4) and abs(f) > top and f - f == 0:  # (finite)
        raise _overflow(np_dtype)
    return value


def wrapped_int(v: int, np_dtype: np.dtype) -> int:
    """A Python int as torch converts a number operand of an integer tensor op to the tensor's dtype: modulo 2^bits
    (uint8 + 300 is uint8 + 44; uint8 < -1 compares with 255). Python's OverflowError, as torch's, for an int that
    64 bits cannot hold."""
    lo, hi = _range(np_dtype)
    if lo <= v <= hi:
        return v
    if v >= 1 << 64:
        raise OverflowError("int too big to convert")
    if v < -(1 << 63):
        raise OverflowError("can't convert negative int to unsigned")  # (torch's last try reads it as uint64)
    bits = np_dtype.itemsize * 8
    v %= 1 << bits
    return v - (1 << bits) if np_dtype.kind == "i" and v >= 1 << (bits - 1) else v
