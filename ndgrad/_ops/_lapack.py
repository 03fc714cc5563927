"""LAPACK-like kernels in NumPy that report where they fail, and torch's LinAlgError.

NumPy's `linalg` raises one generic error for a whole batch; torch reports the batch element and the pivot or
leading minor at fault ("The diagonal element 2 is zero..."). These kernels compute that information the way
LAPACK's getrf/potrf do (partial-pivoting LU, column Cholesky), vectorised over the batch.
"""
from __future__ import annotations

import numpy as np

from .._quiet import quiet


class LinAlgError(RuntimeError):
    """Mirrors `torch.linalg.LinAlgError` (torch._C._LinAlgError): a RuntimeError raised by linalg functions
    on singular or non positive-definite input."""


LinAlgError.__name__ = LinAlgError.__qualname__ = "_LinAlgError"


def batch_prefix(info: np.ndarray) -> tuple[str, int]:
    """("(Batch element k): " or "", value) for the first failing element of a batch of LAPACK infos."""
    flat = np.asarray(info).reshape(-1)
    k = int(np.flatnonzero(flat)[0])
    return ("" if np.asarray(info).ndim == 0 else f"(Batch element {k}): "), int(flat[k])


def lu(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Partial-pivoting LU of (..., m, n): packed LU (unit L below the diagonal, U on and above), LAPACK's
    1-based int32 pivots (..., min(m, n)) and info (0, or the first zero pivot's 1-based index)."""
    m, n = a.shape[-2:]
    k = min(m, n)
    batch = a.shape[:-2]
    A = np.array(a, copy=True).reshape((-1, m, n))
    B = A.shape[0]
    piv = np.zeros((B, k), np.int32)
    info = np.zeros(B, np.int32)
    rows = np.arange(B)
    for j in range(k):
        p = j + np.argmax(np.abs(A[:, j:, j]), axis=1) if m > j else np.full(B, j)
        piv[:, j] = p + 1
        top = A[rows, j].copy()
        A[rows, j] = A[rows, p]
        A[rows, p] = top
        d = A[:, j, j]
        zero = d == 0
        info = np.where((info == 0) & zero, j + 1, info).astype(np.int32)
        col = A[:, j + 1:, j] / np.where(zero, 1, d)[:, None]
        A[:, j + 1:, j] = col
        A[:, j + 1:, j + 1:] -= col[:, :, None] * A[:, j, None, j + 1:]
    return A.reshape(a.shape), piv.reshape(batch + (k,)), info.reshape(batch)


def perm_from_pivots(piv: np.ndarray, m: int) -> np.ndarray:
    """The row order (..., m) that the LAPACK pivots apply: A[perm] = L U."""
    batch = piv.shape[:-1]
    P = np.broadcast_to(np.arange(m), batch + (m,)).copy().reshape(-1, m)
    pv = piv.reshape(-1, piv.shape[-1]).astype(np.int64) - 1
    rows = np.arange(P.shape[0])
    for j in range(pv.shape[1]):
        p = pv[:, j]
        t = P[rows, j].copy()
        P[rows, j] = P[rows, p]
        P[rows, p] = t
    return P.reshape(batch + (m,))


def tri_solve(T: np.ndarray, Bm: np.ndarray, lower: bool, unit: bool) -> np.ndarray:
    """Solve T X = B for triangular T (..., n, n) by substitution (a zero pivot gives inf/nan, as LAPACK)."""
    n = T.shape[-1]
    X = np.array(np.broadcast_to(Bm, np.broadcast_shapes(T.shape[:-2], Bm.shape[:-2]) + Bm.shape[-2:]),
                 dtype=np.result_type(T, Bm), copy=True)
    order = range(n) if lower else range(n - 1, -1, -1)
    with quiet():
        for i in order:
            if lower:
                s = np.einsum("...j,...jk->...k", T[..., i, :i], X[..., :i, :]) if i else 0
            else:
                s = np.einsum("...j,...jk->...k", T[..., i, i + 1:], X[..., i + 1:, :]) if i < n - 1 else 0
            X[..., i, :] = X[..., i, :] - s
            if not unit:
                X[..., i, :] = X[..., i, :] / T[..., i, i, None]
    return X


def lu_solve(LU: np.ndarray, piv: np.ndarray, Bm: np.ndarray) -> np.ndarray:
    """Solve A X = B from A's packed LU and pivots."""
    n = LU.shape[-1]
    perm = perm_from_pivots(piv, n)
    shape = np.broadcast_shapes(LU.shape[:-2], Bm.shape[:-2])
    Bb = np.broadcast_to(Bm, shape + Bm.shape[-2:])
    pb = np.broadcast_to(perm, shape + (n,))
    PB = np.take_along_axis(Bb, pb[..., None], axis=-2)
    Y = tri_solve(LU, PB, lower=True, unit=True)
    return tri_solve(LU, Y, lower=False, unit=False)


def cholesky(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column Cholesky of (..., n, n) reading the lower triangle: (L, info) with info the order of the first
    leading minor that is not positive-definite; there L holds the failing value on the diagonal and the
    input's lower triangle beyond it (what LAPACK's potrf leaves)."""
    n = a.shape[-1]
    batch = a.shape[:-2]
    A = np.tril(np.array(a, copy=True)).reshape((-1, n, n))
    info = np.zeros(A.shape[0], np.int32)
    for j in range(n):
        live = info == 0
        d = A[:, j, j] - np.sum(A[:, j, :j] * A[:, j, :j].conj(), axis=-1).real
        bad = live & ~(d > 0)
        info = np.where(bad, j + 1, info).astype(np.int32)
        ok = live & ~bad
        A[bad, j, j] = d[bad]
        if not ok.any():
            continue
        r = np.sqrt(np.where(ok, d, 1.0))
        A[ok, j, j] = r[ok]
        below = (A[:, j + 1:, j] - np.einsum("bik,bk->bi", A[:, j + 1:, :j], A[:, j, :j].conj())) / r[:, None]
        A[ok, j + 1:, j] = below[ok]
    return A.reshape(a.shape), info.reshape(batch)


def singular_error(a: np.ndarray, name: str) -> LinAlgError:
    """torch's error for a singular input of an inversion (the first zero pivot of getrf)."""
    info = lu(a)[2]
    prefix, k = batch_prefix(info) if np.any(info) else ("", a.shape[-1])
    return LinAlgError(f"{name}: {prefix}The diagonal element {k} is zero, the inversion could not be completed "
                       "because the input matrix is singular.")


def solve_error(a: np.ndarray, name: str = "torch.linalg.solve") -> LinAlgError:
    info = lu(a)[2]
    prefix = batch_prefix(info)[0] if np.any(info) else ""
    return LinAlgError(f"{name}: {prefix}The solver failed because the input matrix is singular.")


def not_pd_error(a: np.ndarray, name: str) -> LinAlgError:
    info = cholesky(a)[1]
    prefix, k = batch_prefix(info) if np.any(info) else ("", a.shape[-1])
    return LinAlgError(f"{name}: {prefix}The factorization could not be completed because the input is not "
                       f"positive-definite (the leading minor of order {k} is not positive-definite).")
