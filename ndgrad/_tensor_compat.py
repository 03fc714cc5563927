"""Tensor methods programs call that are not math: device moves, memory queries, legacy resizing, the
in-place spellings of ops that have no formula of their own. Bound onto Tensor by `_methods.bind`."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from . import _dtype as D
from ._creation import NO_CUDA
from ._tensor import Tensor
from ._warn import warn as _warn


def cuda(self: Tensor, device: Any = None, non_blocking: bool = False, memory_format: Any = None) -> Tensor:
    """`Tensor.cuda()` raises as in a CPU-only torch."""
    raise AssertionError(NO_CUDA)


def pin_memory(self: Tensor, device: Any = None) -> Tensor:
    raise RuntimeError("Cannot access accelerator device when none is available.")


def is_pinned(self: Tensor, device: Any = None) -> bool:
    return False


def share_memory_(self: Tensor) -> Tensor:
    """Mirrors `Tensor.share_memory_` (a no-op: ndgrad shares memory between processes only explicitly)."""
    return self


def is_shared(self: Tensor) -> bool:
    return False


def ravel(self: Tensor) -> Tensor:
    return self.reshape(-1)


def new(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """Mirrors the legacy `Tensor.new(...)`: a tensor of self's dtype from data or sizes."""
    from ._legacy import TYPES, _BY_DTYPE
    return TYPES[_BY_DTYPE[self.dtype.name]](*args, **kwargs)


def resize_(self: Tensor, *sizes: Any, memory_format: Any = None) -> Tensor:
    """Mirrors `Tensor.resize_`: keeps the leading elements in memory order, new ones uninitialised (zero)."""
    shape = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else tuple(sizes)
    if self._requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    n = int(np.prod(shape)) if shape else 1
    flat = np.ascontiguousarray(self._data).reshape(-1)
    if n <= flat.size:
        new = flat[:n].reshape(shape)
    else:
        new = np.zeros(n, dtype=self._data.dtype)
        new[:flat.size] = flat
        new = new.reshape(shape)
    self._data = new
    self._vc[0] += 1
    return self


def resize_as_(self: Tensor, other: Tensor, memory_format: Any = None) -> Tensor:
    return resize_(self, tuple(other.shape))


def storage_offset(self: Tensor) -> int:
    """Elements between the start of the base's memory and this view's first element."""
    base = self._data
    while isinstance(base.base, np.ndarray):
        base = base.base
    off = self._data.__array_interface__["data"][0] - base.__array_interface__["data"][0]
    return off // self._data.itemsize if self._data.itemsize else 0


def values(self: Tensor) -> Tensor:
    raise RuntimeError("values expected sparse tensor layout but got Strided")


def indices(self: Tensor) -> Tensor:
    raise RuntimeError("indices expected sparse coordinate tensor layout but got Strided")


def apply_(self: Tensor, callable: Callable) -> Tensor:
    """Mirrors `Tensor.apply_`: a Python function on every element, in place (no autograd)."""
    if self._requires_grad:
        raise TypeError("apply_ is only implemented on CPU tensors")  # torch refuses leaves needing grad too
    flat = self._data.reshape(-1)
    for i, v in enumerate(flat.tolist()):
        flat[i] = callable(v)
    self._data[...] = flat.reshape(self._data.shape)
    self._vc[0] += 1
    return self


def map_(self: Tensor, tensor: Tensor, callable: Callable) -> Tensor:
    """Mirrors `Tensor.map_`: callable(a, b) elementwise with a broadcast tensor, in place."""
    other = np.broadcast_to(tensor._data, self._data.shape).reshape(-1).tolist()
    flat = self._data.reshape(-1).copy()
    for i, (a, b) in enumerate(zip(flat.tolist(), other)):
        flat[i] = callable(a, b)
    self._data[...] = flat.reshape(self._data.shape)
    self._vc[0] += 1
    return self


def is_conj(self: Tensor) -> bool:
    return False


def is_neg(self: Tensor) -> bool:
    return False


def resolve_conj(self: Tensor) -> Tensor:
    return self


def resolve_neg(self: Tensor) -> Tensor:
    return self


def conj_physical(self: Tensor) -> Tensor:
    return self.conj() if self.is_complex() else self


def adjoint(self: Tensor) -> Tensor:
    if self.ndim == 0:
        return self  # torch gives a 0-d tensor back as it is
    if self.ndim == 1:
        raise RuntimeError("tensor.adjoint() is only supported on matrices or batches of matrices. Got 1-D tensor.")
    return self.transpose(-2, -1).conj() if self.is_complex() else self.transpose(-2, -1)


def _view_inplace(name: str) -> Callable:
    """`squeeze_`, `unsqueeze_`, `t_`, `transpose_`...: the view's shape taken over by self, in place."""
    def m(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        self._check_inplace()
        r = getattr(self, name)(*args, **kwargs)
        self._data = r._data  # a view of the same memory, with the new shape
        if r.grad_fn is not None:
            self.grad_fn, self._output_nr = r.grad_fn, r._output_nr
        return self
    m.__name__ = name + "_"
    return m


def _inplace_of(name: str) -> Callable:
    def m(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        self._check_inplace()
        return self._set_inplace(getattr(self, name)(*args, **kwargs))
    m.__name__ = name + "_"
    return m


# ops that have methods but whose in-place spelling was missing
INPLACE_OF = ("absolute", "acos", "arccos", "arcsin", "arctan", "asin", "atan", "bitwise_and", "bitwise_left_shift",
              "bitwise_not", "bitwise_right_shift",
              "bitwise_or", "bitwise_xor", "cosh", "cumprod", "cumsum", "eq", "exp2", "fmod", "ge", "greater",
              "greater_equal", "gt", "le", "less", "less_equal", "log10", "log2", "logical_and", "logical_not",
              "logical_or", "logical_xor", "lt", "ne", "negative", "not_equal", "sgn", "sinh", "tan", "tril", "triu")


def methods() -> dict:
    m = {"cuda": cuda, "pin_memory": pin_memory, "is_pinned": is_pinned, "share_memory_": share_memory_,
         "is_shared": is_shared, "ravel": ravel, "new": new, "resize_": resize_, "resize_as_": resize_as_,
         "storage_offset": storage_offset, "values": values, "indices": indices, "apply_": apply_, "map_": map_,
         "is_conj": is_conj, "is_neg": is_neg, "resolve_conj": resolve_conj, "resolve_neg": resolve_neg,
         "conj_physical": conj_physical, "adjoint": adjoint,
         "cfloat": lambda self, memory_format=None: self.to(D.complex64),
         "cdouble": lambda self, memory_format=None: self.to(D.complex128),
         "is_inference": lambda self: False,
         "bfloat16": lambda self, memory_format=None: self.to(D.bfloat16)}
    for n in ("squeeze", "unsqueeze", "t", "transpose", "swapaxes", "swapdims"):
        m[n + "_"] = _view_inplace(n)
    for n in INPLACE_OF:
        m[n + "_"] = _inplace_of(n)
    m.update(_more_methods())
    return m


PROPERTIES = {
    "nbytes": lambda self: self._data.nbytes,
    "itemsize": lambda self: self._data.itemsize,
    "is_cpu": lambda self: True,
    **{n: (lambda self: False) for n in ("is_xpu", "is_mps", "is_ipu", "is_vulkan", "is_mtia", "is_maia",
                                          "is_mkldnn", "is_nested")},
    "name": lambda self: None,
    "mH": adjoint,
}


_REMOVED = "This function was deprecated since version 1.9 and is now removed. "
REMOVED_MESSAGES = {
    "eig": _REMOVED + "`torch.linalg.eig` returns complex tensors of dtype `cfloat` or `cdouble` rather than real "
    "tensors mimicking complex tensors.\n\nL, _ = torch.eig(A) should be replaced with:\nL_complex = "
    "torch.linalg.eigvals(A)\n\nand\n\nL, V = torch.eig(A, eigenvectors=True) should be replaced with:\n"
    "L_complex, V_complex = torch.linalg.eig(A)",
    "symeig": _REMOVED + "The default behavior has changed from using the upper triangular portion of the matrix by "
    "default to using the lower triangular portion.\n\nL, _ = torch.symeig(A, upper=upper) should be replaced "
    "with:\nL = torch.linalg.eigvalsh(A, UPLO='U' if upper else 'L')\n\nand\n\nL, V = torch.symeig(A, "
    "eigenvectors=True) should be replaced with:\nL, V = torch.linalg.eigh(A, UPLO='U' if upper else 'L')",
    "lstsq": _REMOVED + "`torch.lstsq` is deprecated in favor of `torch.linalg.lstsq`.\n`torch.linalg.lstsq` has "
    "reversed arguments and does not return the QR decomposition in the returned tuple (although it returns other "
    "information about the problem).\n\nTo get the QR decomposition consider using `torch.linalg.qr`.\n\nThe "
    "returned solution in `torch.lstsq` stored the residuals of the solution in the last m - n columns of the "
    "returned value whenever m > n. In torch.linalg.lstsq, the residuals are in the field 'residuals' of the "
    "returned named tuple.\n\nThe unpacking of the solution, as in\nX, _ = torch.lstsq(B, A).solution[:A.size(1)]\n"
    "should be replaced with:\nX = torch.linalg.lstsq(A, B).solution",
}


def removed(name: str) -> Callable:
    """A function torch removed in 1.9, raising torch's RuntimeError that says what replaces it."""
    def f(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(REMOVED_MESSAGES[name])
    f.__name__ = name
    return f


def resize(self: Tensor, *sizes: Any) -> Tensor:
    """The deprecated out-of-place `Tensor.resize` (warns, as torch)."""
    _warn("non-inplace resize is deprecated", UserWarning, stacklevel=2)
    return resize_(self.detach().clone(), *sizes)


def unfold(self: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """Mirrors `Tensor.unfold`: every window of `size` elements `step` apart along `dimension`, as a new last
    dimension of a view (UnfoldBackward0)."""
    from ._ops import shape as S
    from ._tensor import _wrap_dim
    d = _wrap_dim(dimension, max(self.ndim, 1))
    n = self.shape[d] if self.ndim else 1
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    return S.unfold(self, d, int(size), int(step))


def fill_diagonal_(self: Tensor, fill_value: Any, wrap: bool = False) -> Tensor:
    """Mirrors `Tensor.fill_diagonal_`: the main diagonal (of a matrix, or of a tensor whose dimensions are all equal)
    filled in place, through a strided view of the flattened tensor as torch does (so CopySlices under autograd);
    `wrap`: a tall matrix's diagonal starts again below each square block."""
    if wrap.__class__ is not bool:
        raise TypeError(f"fill_diagonal_(): argument 'wrap' (position 2) must be bool, not {type(wrap).__name__}")
    shape = tuple(self.shape)
    if len(shape) < 2:
        raise RuntimeError("dimensions must larger than 1")
    if len(shape) > 2 and any(s != shape[0] for s in shape):
        raise RuntimeError("all dimensions of input must be of equal length")
    numel = self.numel()
    if not numel:
        return self
    if len(shape) == 2:
        step, k = shape[1] + 1, min(shape)
    else:
        step, k = sum(shape[0] ** i for i in range(len(shape))), shape[0]
    stop = numel if wrap and len(shape) == 2 else (k - 1) * step + 1
    if self._data.flags.c_contiguous:
        self.view(-1)[0:stop:step].fill_(fill_value)
    else:
        import numpy as np
        flat = np.arange(0, stop, step)
        self[np.unravel_index(flat, shape)] = fill_value
    return self


def to_dense(self: Tensor, dtype: Any = None, *, masked_grad: Any = None) -> Tensor:
    """Mirrors `Tensor.to_dense`: a strided tensor is already dense (itself, or cast to `dtype`)."""
    if dtype is None:
        return self
    if not isinstance(dtype, D.dtype):
        raise TypeError(f"to_dense(): argument 'dtype' (position 1) must be torch.dtype, not {type(dtype).__name__}")
    return self.to(dtype)


def _more_methods() -> dict:
    return {"resize": resize, "unfold": unfold, "fill_diagonal_": fill_diagonal_,
            "to_dense": to_dense,
            **{n: removed(n) for n in REMOVED_MESSAGES}}
