"""Names that old tutorials still use: the typed tensor classes, `Variable`, `set_default_tensor_type`.

`torch.FloatTensor` and friends are not subclasses: each is an instance of `tensortype` that builds
tensors of its dtype (from data, from sizes, or empty) and answers `isinstance` by dtype, as torch's do.
The `torch.cuda.*Tensor` spellings exist and refuse to build, as in a CPU-only torch.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import _dtype as D
from ._tensor import Tensor, _wrap
from ._warn import warn as _warn

_NAMES = {"FloatTensor": "float32", "DoubleTensor": "float64", "HalfTensor": "float16", "LongTensor": "int64",
          "IntTensor": "int32", "ShortTensor": "int16", "CharTensor": "int8", "ByteTensor": "uint8",
          "BoolTensor": "bool", "BFloat16Tensor": "bfloat16", "ComplexFloatTensor": "complex64",
          "ComplexDoubleTensor": "complex128"}
_BY_DTYPE = {v: k for k, v in _NAMES.items()}


def type_string(d: D.dtype) -> str:
    """'torch.FloatTensor' for float32, as `Tensor.type()` prints."""
    return f"torch.{_BY_DTYPE[d.name]}"


def dtype_of_type_string(s: str) -> D.dtype:
    name = s[len("torch."):] if s.startswith("torch.") else s
    if name.startswith("cuda."):
        raise TypeError(f"type torch.{name} not available. Torch not compiled with CUDA enabled.")
    if name not in _NAMES:
        raise ValueError(f"invalid type: '{s}'")
    return getattr(D, _NAMES[name])


def _size_args(args: tuple) -> bool:
    return all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args)


class tensortype:
    """The type of `torch.FloatTensor` & co: a constructor with a dtype, and an isinstance check."""

    def __init__(self, name: str, cuda: bool = False) -> None:
        self.__name__ = self.__qualname__ = name
        self._cuda = cuda
        self.__module__ = "torch.cuda" if cuda else "torch"

    @property
    def dtype(self) -> D.dtype:
        return getattr(D, _NAMES[self.__name__])

    is_cuda = property(lambda self: self._cuda)
    is_sparse = False

    def __repr__(self) -> str:
        return f"<class '{self.__module__}.{self.__name__}'>"

    def __instancecheck__(self, obj: Any) -> bool:
        return not self._cuda and isinstance(obj, Tensor) and obj.dtype is self.dtype

    def __call__(self, *args: Any, device: Any = None) -> Tensor:
        if self._cuda:
            raise TypeError(f"type torch.cuda.{self.__name__} not available. Torch not compiled with CUDA enabled.")
        from ._creation import _check_device
        _check_device(device)
        d = self.dtype
        if not args:
            return _wrap(np.empty((0,), dtype=d.np))
        if _size_args(args):
            from ._creation import _size
            return _wrap(np.zeros(_size(args), dtype=d.np))
        if len(args) == 1:
            a = args[0]
            if isinstance(a, Tensor):
                if a.dtype is not d:
                    raise TypeError(f"expected TensorOptions(dtype={_opt(d)}, device=cpu, layout=Strided, "
                                    "requires_grad=false (default), pinned_memory=false (default), "
                                    f"memory_format=(nullopt)) (got TensorOptions(dtype={_opt(a.dtype)}, "
                                    "device=cpu, layout=Strided, requires_grad=false (default), "
                                    "pinned_memory=false (default), memory_format=(nullopt)))")
                return a.detach()
            if isinstance(a, str):
                raise TypeError("new(): invalid data type 'str'")
            from ._creation import tensor
            return tensor(a, dtype=d)
        raise TypeError(f"new() received an invalid combination of arguments - got "
                        f"({', '.join(type(x).__name__ for x in args)}), but expected one of:\n"
                        " * (*, torch.device device = None)\n * (torch.Storage storage)\n * (Tensor other)\n"
                        " * (tuple of ints size, *, torch.device device = None)\n"
                        " * (object data, *, torch.device device = None)\n")


def _opt(d: D.dtype) -> str:
    return {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int",
            "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
            "bool": "bool", "bfloat16": "c10::BFloat16", "complex64": "c10::complex<float>",
            "complex128": "c10::complex<double>"}[d.name]


TYPES = {n: tensortype(n) for n in _NAMES}
CUDA_TYPES = {n: tensortype(n, cuda=True) for n in _NAMES}


def set_default_tensor_type(t: Any) -> None:
    """Mirrors the deprecated `torch.set_default_tensor_type` (a floating typed tensor class or its name)."""
    _warn("torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use "
          "torch.set_default_dtype() and torch.set_default_device() as alternatives.", UserWarning,
          stacklevel=2)
    d = dtype_of_type_string(t) if isinstance(t, str) else (t.dtype if isinstance(t, tensortype) else None)
    if isinstance(t, tensortype) and t._cuda:
        raise TypeError(f"type torch.cuda.{t.__name__} not available. Torch not compiled with CUDA enabled.")
    if d is None:
        raise TypeError(f"invalid type object: only floating-point types are supported as the default type")
    if not d.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    D.set_default_dtype(d)


class _VariableMeta(type):
    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, Tensor)

    def __call__(cls, data: Any, requires_grad: bool = False, volatile: bool = False) -> Tensor:
        if volatile:
            _warn("volatile was removed and now has no effect. Use `with torch.no_grad():` instead.",
                  UserWarning, stacklevel=2)
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        t = _wrap(data._data, data._vc)
        if requires_grad:
            t.requires_grad_(True)
        return t


class Variable(metaclass=_VariableMeta):
    """`torch.autograd.Variable` (merged into Tensor since torch 0.4): `Variable(t)` returns a tensor sharing
    t's memory, which requires grad when asked; `volatile` has no effect and warns, as in torch; every tensor
    is an instance."""
