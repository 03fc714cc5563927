"""The array API's linalg extension (2023.12) for ndgrad tensors: `xp.linalg`."""
from __future__ import annotations

from collections import namedtuple
from typing import Any

import ndgrad as _nd
from ndgrad._tensor import Tensor as _Tensor

__all__ = ["cholesky", "cross", "det", "diagonal", "eigh", "eigvalsh", "inv", "matmul", "matrix_norm",
           "matrix_power", "matrix_rank", "matrix_transpose", "outer", "pinv", "qr", "slogdet", "solve", "svd",
           "svdvals", "tensordot", "trace", "vecdot", "vector_norm"]

EighResult = namedtuple("EighResult", "eigenvalues eigenvectors")
QRResult = namedtuple("QRResult", "Q R")
SlogdetResult = namedtuple("SlogdetResult", "sign logabsdet")
SVDResult = namedtuple("SVDResult", "U S Vh")


def cholesky(x: _Tensor, /, *, upper: bool = False) -> _Tensor:
    return _nd.linalg.cholesky(x, upper=upper)


def cross(x1: _Tensor, x2: _Tensor, /, *, axis: int = -1) -> _Tensor:
    return _nd.linalg.cross(x1, x2, dim=axis)


def det(x: _Tensor, /) -> _Tensor:
    return _nd.linalg.det(x)


def diagonal(x: _Tensor, /, *, offset: int = 0) -> _Tensor:
    return _nd.diagonal(x, offset, -2, -1)


def eigh(x: _Tensor, /) -> Any:
    return EighResult(*_nd.linalg.eigh(x))


def eigvalsh(x: _Tensor, /) -> _Tensor:
    return _nd.linalg.eigvalsh(x)


def inv(x: _Tensor, /) -> _Tensor:
    return _nd.linalg.inv(x)


def matmul(x1: _Tensor, x2: _Tensor, /) -> _Tensor:
    return _nd.matmul(x1, x2)


def matrix_norm(x: _Tensor, /, *, keepdims: bool = False, ord: Any = "fro") -> _Tensor:
    return _nd.linalg.matrix_norm(x, ord, keepdim=keepdims)


def matrix_power(x: _Tensor, n: int, /) -> _Tensor:
    if x.shape[-1] != x.shape[-2]:
        raise ValueError("matrix_power needs square matrices")
    if n < 0:
        return matrix_power(inv(x), -n)
    out = _nd.eye(x.shape[-1], dtype=x.dtype).expand(*x.shape) if n == 0 else None
    base = x
    while n:
        if n & 1:
            out = base if out is None else out @ base
        n >>= 1
        if n:
            base = base @ base
    return out


def matrix_rank(x: _Tensor, /, *, rtol: Any = None) -> _Tensor:
    s = _nd.linalg.svdvals(x)
    if rtol is None:
        import numpy as np
        rtol = max(x.shape[-2:]) * float(np.finfo(s.dtype.np).eps)
    tol = _nd.amax(s, -1, keepdim=True) * rtol
    return _nd.sum(s > tol, -1)


def matrix_transpose(x: _Tensor, /) -> _Tensor:
    return x.mT


def outer(x1: _Tensor, x2: _Tensor, /) -> _Tensor:
    return _nd.outer(x1, x2)


def pinv(x: _Tensor, /, *, rtol: Any = None) -> _Tensor:
    return _nd.linalg.pinv(x, rtol=rtol)


def qr(x: _Tensor, /, *, mode: str = "reduced") -> Any:
    return QRResult(*_nd.linalg.qr(x, mode))


def slogdet(x: _Tensor, /) -> Any:
    return SlogdetResult(*_nd.linalg.slogdet(x))


def solve(x1: _Tensor, x2: _Tensor, /) -> _Tensor:
    return _nd.linalg.solve(x1, x2)


def svd(x: _Tensor, /, *, full_matrices: bool = True) -> Any:
    return SVDResult(*_nd.linalg.svd(x, full_matrices))


def svdvals(x: _Tensor, /) -> _Tensor:
    return _nd.linalg.svdvals(x)


def tensordot(x1: _Tensor, x2: _Tensor, /, *, axes: Any = 2) -> _Tensor:
    from . import tensordot as f
    return f(x1, x2, axes=axes)


def trace(x: _Tensor, /, *, offset: int = 0, dtype: Any = None) -> _Tensor:
    out = _nd.sum(_nd.diagonal(x, offset, -2, -1), -1)
    return out if dtype is None else out.to(dtype)


def vecdot(x1: _Tensor, x2: _Tensor, /, *, axis: int = -1) -> _Tensor:
    from . import vecdot as f
    return f(x1, x2, axis=axis)


def vector_norm(x: _Tensor, /, *, axis: Any = None, keepdims: bool = False, ord: Any = 2) -> _Tensor:
    return _nd.linalg.vector_norm(x, ord, tuple(axis) if isinstance(axis, list) else axis, keepdims)
