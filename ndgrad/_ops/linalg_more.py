"""torch's top-level spellings of linear algebra (torch.det, torch.svd, torch.lu...), and the rest of torch.linalg:
LU (lu_factor, lu, lu_solve, lu_unpack), triangular solves, Cholesky solves and inverses, matrix_power,
matrix_rank, cond, eig/eigvals, vecdot, multi_dot, diagonal, tensorinv/tensorsolve and the *_ex variants.

Decompositions reuse the ops of linalg_ext.py where torch records the same node (LinalgSvdBackward0,
LinalgQrBackward0, LinalgInvExBackward0...); where torch's legacy spelling has a node of its own
(CholeskyBackward0, TriangularSolveBackward0, CholeskySolveBackward0...) it is one `Op` here, with its
derivative written in ndgrad ops so that higher derivatives work. Failures raise `LinAlgError` with torch's
messages (ndgrad/_ops/_lapack.py finds the pivot or minor at fault).
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from .._tensor import Tensor, _wrap, _wrap_dim
from . import _lapack
from . import linalg_ext as X
from . import pointwise as P
from . import reduction as Rd
from . import shape as S
from ._lapack import LinAlgError
from ._registry import NONE, SAME, Op
from .linalg_ext import _c, _check_float, _check_square, _check_tensor, _mm, _mT, _raw, _square_float
from .._warn import warn as _warn

__all__: list[str] = ["matrix_exp", "det", "logdet", "slogdet", "inverse", "pinverse", "cholesky", "cholesky_solve",
                      "cholesky_inverse", "svd", "qr", "lu", "lu_solve", "lu_unpack", "matrix_power",
                      "triangular_solve", "orgqr"]
_TN = X._TN


def _nd() -> Any:
    import sys
    return sys.modules["ndgrad"]


_WARNED: set = set()


def _deprecated(text: str) -> None:
    """torch's deprecation warning of a legacy spelling, once per process (torch's TORCH_WARN_ONCE)."""
    if text not in _WARNED:
        _WARNED.add(text)
        _warn(text, UserWarning, stacklevel=3)


def _i32(a) -> Tensor:
    return _wrap(np.require(np.asarray(a, np.int32), requirements="C"))


# -- aliases of linalg_ext ------------------------------------------------------------------------------------
def matrix_exp(A: Tensor) -> Tensor:
    """Mirrors `torch.matrix_exp`."""
    return X.matrix_exp(A)


def det(A: Tensor) -> Tensor:
    """Mirrors `torch.det` (= linalg.det)."""
    return X.det(A)


def inverse(A: Tensor, *, out: Any = None) -> Tensor:
    """Mirrors `torch.inverse` (= linalg.inv)."""
    return X.inv(A)


SlogdetTop = Rd.return_type("slogdet", ("sign", "logabsdet"))


def slogdet(A: Tensor) -> tuple[Tensor, Tensor]:
    """Mirrors `torch.slogdet` (linalg.slogdet under the return type torch.return_types.slogdet)."""
    return SlogdetTop(*X.slogdet(A))


def logdet(A: Tensor) -> Tensor:
    """Mirrors `torch.logdet`: log det A; NaN for a negative determinant, -inf for a singular matrix."""
    _square_float(A, "linalg.slogdet")
    sign, lad = X.slogdet_op(A)
    if A.is_complex():
        return P.log(sign) + lad
    nan = _wrap(np.full((), np.nan, A._data.dtype))
    return _nd().where(sign < 0, nan, lad)


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """Mirrors `torch.pinverse`: linalg.pinv with singular values below rcond·σ_max treated as zero."""
    _check_tensor(input, "pinverse")
    if input.ndim < 2:
        raise RuntimeError("linalg.pinv(" + "{" + f"{input.ndim}" + "D}): expected a tensor with 2 or more "
                           "dimensions of float, double, cfloat or cdouble types")
    _check_float(input, "linalg.pinv")
    return pinv_rtol_op(input, float(rcond))


def _pinv_rtol(self, rtol):
    if self.size == 0:
        return np.zeros(self.shape[:-2] + self.shape[-2:][::-1], self.dtype)
    return np.linalg.pinv(self, rcond=rtol).astype(self.dtype, copy=False)


pinv_rtol_op = Op("linalg_pinv", _pinv_rtol, ("self",), ("rtol",), node="LinalgPinvBackward0", dtype=SAME)
pinv_rtol_op.defvjp(self=lambda grad, self, result: X._pinv_backward(grad, result, self))


# -- Cholesky family ------------------------------------------------------------------------------------------
cholesky_legacy_op = Op("cholesky", X._cholesky, ("self",), ("upper",), node="CholeskyBackward0", dtype=SAME)
cholesky_legacy_op.defvjp(self=X._cholesky_grad)


def cholesky(input: Tensor, upper: bool = False, *, out: Any = None) -> Tensor:
    """Mirrors `torch.cholesky` (deprecated in torch, which warns; node CholeskyBackward0)."""
    _check_tensor(input, "cholesky")
    _deprecated("torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be removed in a future "
                "PyTorch release.\nL = torch.cholesky(A)\nshould be replaced with\nL = torch.linalg.cholesky(A)\n"
                "and\nU = torch.cholesky(A, upper=True)\nshould be replaced with\nU = torch.linalg.cholesky(A).mH\n"
                "This transform will produce equivalent results for all valid (symmetric positive definite) inputs.")
    _check_square(input, "cholesky")
    _check_float(input, "cholesky")
    try:
        return cholesky_legacy_op(input, bool(upper))
    except LinAlgError as e:
        raise LinAlgError(str(e).replace("linalg.cholesky:", "cholesky:", 1)) from None


def _chol_full(Lf, upper):
    """A = L Lᴴ (lower) or Uᴴ U (upper), reading the factor's triangle only."""
    return _mm(_mT(Lf), Lf) if upper else _mm(Lf, _mT(Lf))


def _cholesky_solve_fwd(self, input2, upper):
    Lf = np.triu(input2) if upper else np.tril(input2)
    A = np.swapaxes(Lf, -1, -2) @ Lf if upper else Lf @ np.swapaxes(Lf, -1, -2)
    return np.linalg.solve(A, self).astype(np.result_type(self, input2), copy=False)


def _cholesky_solve_grad_L(grad, input2, result, upper):
    gB = cholesky_solve_op(grad, input2, upper)
    common = _mm(gB, _mT(result))
    common = common + _mT(common)
    return -_mm(input2, common) if upper else -_mm(common, input2)


cholesky_solve_op = Op("cholesky_solve", _cholesky_solve_fwd, ("self", "input2"), ("upper",),
                       node="CholeskySolveBackward0", dtype=SAME)
cholesky_solve_op.defvjp(self=lambda grad, input2, upper: cholesky_solve_op(grad, input2, upper),
                         input2=_cholesky_solve_grad_L)


def cholesky_solve(B: Tensor, L: Tensor, upper: bool = False, *, out: Any = None) -> Tensor:
    """Mirrors `torch.cholesky_solve`: solves A X = B given A's Cholesky factor (lower, or upper)."""
    _check_tensor(B, "cholesky_solve"), _check_tensor(L, "cholesky_solve", "input2")
    if B.ndim < 2:
        raise RuntimeError(f"b should have at least 2 dimensions, but has {B.ndim} dimensions instead")
    if L.ndim < 2:
        raise RuntimeError(f"u should have at least 2 dimensions, but has {L.ndim} dimensions instead")
    if B._data.dtype != L._data.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type "
                           f"{_TN.get(str(B._data.dtype))} and A of type {_TN.get(str(L._data.dtype))} instead.")
    _check_square(L, "cholesky_solve")
    if L.shape[-1] != B.shape[-2]:
        raise RuntimeError(f"Incompatible matrix sizes for cholesky_solve: each A matrix is {L.shape[-2]} by "
                           f"{L.shape[-1]} but each b matrix is {B.shape[-2]} by {B.shape[-1]}")
    _check_float(L, "cholesky_solve")
    return cholesky_solve_op(B, L, bool(upper))


def _cholesky_inverse_fwd(self, upper):
    Lf = np.triu(self) if upper else np.tril(self)
    A = np.swapaxes(Lf, -1, -2) @ Lf if upper else Lf @ np.swapaxes(Lf, -1, -2)
    try:
        return np.linalg.inv(A)
    except np.linalg.LinAlgError:
        raise _lapack.singular_error(A, "cholesky_inverse") from None


def _cholesky_inverse_grad(grad, self, result, upper):
    common = grad + _mT(grad)
    common = _mm(result, _mm(common, result))
    return -_mm(self, common) if upper else -_mm(common, self)


cholesky_inverse_op = Op("cholesky_inverse", _cholesky_inverse_fwd, ("self",), ("upper",),
                         node="CholeskyInverseBackward0", dtype=SAME)
cholesky_inverse_op.defvjp(self=_cholesky_inverse_grad)


def cholesky_inverse(L: Tensor, upper: bool = False, *, out: Any = None) -> Tensor:
    """Mirrors `torch.cholesky_inverse`: (L Lᴴ)⁻¹ (or (Uᴴ U)⁻¹) from a Cholesky factor."""
    _check_tensor(L, "cholesky_inverse")
    if L.ndim < 2:
        raise RuntimeError("cholesky_inverse: The input tensor A must have at least 2 dimensions.")
    _check_square(L, "cholesky_inverse")
    _check_float(L, "cholesky_inverse")
    return cholesky_inverse_op(L, bool(upper))


# -- SVD and QR (legacy spellings) ------------------------------------------------------------------------------
SVDTop = Rd.return_type("svd", ("U", "S", "V"))
QRTop = Rd.return_type("qr", ("Q", "R"))


def svd(input: Tensor, some: bool = True, compute_uv: bool = True, *, out: Any = None) -> tuple:
    """Mirrors `torch.svd`: (U, S, V) with V (not Vᴴ); some=False gives full U and V; compute_uv=False gives
    zero U and V (of full size) and only S differentiable."""
    _check_tensor(input, "svd")
    if input.ndim < 2:
        raise RuntimeError(f"linalg.svd: input should have at least 2 dimensions, but has {input.ndim} dimensions "
                           "instead")
    _check_float(input, "linalg.svd")
    if not compute_uv:
        m, n = input.shape[-2:]
        batch = tuple(input.shape[:-2])
        d = input._data.dtype
        return SVDTop(_wrap(np.zeros(batch + (m, m), d)), X.svdvals_op(input), _wrap(np.zeros(batch + (n, n), d)))
    U, Sv, Vh = X.svd_op(input, not some)
    return SVDTop(U, Sv, S.transpose(Vh, -2, -1))


def qr(input: Tensor, some: bool = True, *, out: Any = None) -> tuple:
    """Mirrors `torch.qr` (deprecated in torch, which warns): linalg.qr 'reduced' (some) or 'complete'."""
    _deprecated("torch.qr is deprecated in favor of torch.linalg.qr and will be removed in a future PyTorch "
                "release.\nThe boolean parameter 'some' has been replaced with a string parameter 'mode'.\n"
                "Q, R = torch.qr(A, some)\nshould be replaced with\n"
                "Q, R = torch.linalg.qr(A, 'reduced' if some else 'complete')")
    return QRTop(*X.qr(input, "reduced" if some else "complete"))


# -- matrix_power ----------------------------------------------------------------------------------------------
def matrix_power(A: Tensor, n: int) -> Tensor:
    """Mirrors `torch.matrix_power` / `linalg.matrix_power`: repeated squaring; n < 0 inverts first."""
    nd = _nd()
    _check_tensor(A, "matrix_power")
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_power: The input tensor A must have at least 2 dimensions.")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")
    if n == 0:
        eye = nd.eye(A.shape[-1], dtype=A.dtype).expand(tuple(A.shape))
        return A.clone().copy_(eye) if A.requires_grad else eye.clone()  # torch's node: CopyBackwards
    if n == 1:
        return A.clone()
    if n < 0:
        A = X.inv(A)
        n = -n
        if n == 1:
            return A
    mul = nd.matmul
    if n == 2:
        return mul(A, A)
    if n == 3:
        return mul(mul(A, A), A)
    z = result = None
    while n > 0:
        z = A if z is None else mul(z, z)
        if n & 1:
            result = z if result is None else mul(result, z)
        n >>= 1
    return result


# -- triangular solves ---------------------------------------------------------------------------------------------
def _tri(a, upper, unit):
    t = np.triu(a) if upper else np.tril(a)
    if unit:
        i = np.arange(a.shape[-1])
        t[..., i, i] = 1
    return t


def _solve_tri_fwd(self, B, upper, left, unitriangular):
    T = _tri(self, upper, unitriangular)
    if not left:  # X A = B  <=>  Aᵀ Xᵀ = Bᵀ
        Xt = _lapack.tri_solve(np.swapaxes(T, -1, -2), np.swapaxes(B, -1, -2), lower=upper, unit=unitriangular)
        return np.ascontiguousarray(np.swapaxes(Xt, -1, -2))
    return _lapack.tri_solve(T, B, lower=not upper, unit=unitriangular)


def _mask_tri(g, upper, unit):
    return X.triu_op(g, 1 if unit else 0) if upper else X.tril_op(g, -1 if unit else 0)


def _solve_tri_grad_B(grad, self, upper, left, unitriangular):
    # the adjoint system: Aᵀ (lower <-> upper) on the same side
    return solve_triangular_op(_mT(self), grad, not upper, left, unitriangular)


def _solve_tri_grad_A(grad, self, result, upper, left, unitriangular):
    gB = solve_triangular_op(_mT(self), grad, not upper, left, unitriangular)
    gA = -_mm(gB, _mT(result)) if left else -_mm(_mT(result), gB)
    return _mask_tri(gA, upper, unitriangular)


solve_triangular_op = Op("linalg_solve_triangular", _solve_tri_fwd, ("self", "B"),
                         ("upper", "left", "unitriangular"), node="LinalgSolveTriangularBackward0", dtype=NONE)
solve_triangular_op.defvjp(self=_solve_tri_grad_A, B=_solve_tri_grad_B)


def solve_triangular(A: Tensor, B: Tensor, *, upper: bool, left: bool = True, unitriangular: bool = False,
                     out: Any = None) -> Tensor:
    """Mirrors `torch.linalg.solve_triangular`: A X = B (or X A = B) reading one triangle of A."""
    _check_tensor(A, "linalg_solve_triangular"), _check_tensor(B, "linalg_solve_triangular", "B")
    for name, t in (("A", A), ("B", B)):
        if t.ndim < 2:
            raise RuntimeError(f"linalg.solve_triangular: The input tensor {name} must have at least 2 dimensions.")
    _check_square(A, "linalg.solve_triangular")
    if A._data.dtype.kind not in "fc":
        raise NotImplementedError(f"\"triangular_solve_cpu\" not implemented for '{_TN.get(str(A._data.dtype))}'")
    if B._data.dtype != A._data.dtype:  # torch computes in A's dtype
        B = P.cast(B, A._data.dtype)
    n = A.shape[-1]
    k = B.shape[-2] if left else B.shape[-1]
    if k != n:
        raise RuntimeError(f"linalg.solve_triangular: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({A.shape[-2]}x{A.shape[-1]} and "
                           f"{B.shape[-2]}x{B.shape[-1]})")
    return solve_triangular_op(A, B, bool(upper), bool(left), bool(unitriangular))


def _tsolve_fwd(self, A, upper, transpose, unitriangular):
    T = _tri(A, upper, unitriangular)
    if transpose:
        T, upper = np.swapaxes(T, -1, -2), not upper
    x = _lapack.tri_solve(T, self, lower=not upper, unit=unitriangular)
    return x, np.array(np.broadcast_to(A, x.shape[:-2] + A.shape[-2:]))


def _tsolve_grad_self(grads, A, upper, transpose, unitriangular):
    gX = grads[0]
    if gX is None:
        return None
    return triangular_solve_op(gX, A, upper, not transpose, unitriangular)[0]


def _tsolve_grad_A(grads, A, result, upper, transpose, unitriangular):
    gX, gM = grads
    gA = None
    if gX is not None:
        gB = triangular_solve_op(gX, A, upper, not transpose, unitriangular)[0]
        x = result[0]
        gA = -_mm(x, _mT(gB)) if transpose else -_mm(gB, _mT(x))
        gA = _mask_tri(gA, upper, unitriangular)
    if gM is not None:
        gA = gM if gA is None else gA + gM
    return gA


triangular_solve_op = Op("triangular_solve", _tsolve_fwd, ("self", "A"), ("upper", "transpose", "unitriangular"),
                         node="TriangularSolveBackward0", dtype=NONE, n_out=2)
triangular_solve_op.defvjp(self=_tsolve_grad_self, A=_tsolve_grad_A)
TriangularSolveResult = Rd.return_type("triangular_solve", ("solution", "cloned_coefficient"))


def triangular_solve(b: Tensor, A: Tensor, upper: bool = True, transpose: bool = False, unitriangular: bool = False,
                     *, out: Any = None) -> tuple:
    """Mirrors `torch.triangular_solve` (deprecated in torch, which warns): (solution, cloned_coefficient)."""
    _check_tensor(b, "triangular_solve"), _check_tensor(A, "triangular_solve", "A")
    _deprecated("torch.triangular_solve is deprecated in favor of torch.linalg.solve_triangularand will be removed "
                "in a future PyTorch release.\ntorch.linalg.solve_triangular has its arguments reversed and does not "
                "return a copy of one of the inputs.\nX = torch.triangular_solve(B, A).solution\nshould be "
                "replaced with\nX = torch.linalg.solve_triangular(A, B).")
    if b.ndim < 2:
        raise RuntimeError(f"torch.triangular_solve: Expected b to have at least 2 dimensions, but it has {b.ndim} "
                           "dimensions instead")
    if A.ndim < 2:
        raise RuntimeError(f"torch.triangular_solve: Expected A to have at least 2 dimensions, but it has {A.ndim} "
                           "dimensions instead")
    _check_square(A, "triangular_solve")
    if A.shape[-1] != b.shape[-2]:
        raise RuntimeError(f"Incompatible matrix sizes for triangular_solve: each A matrix is {A.shape[-2]} by "
                           f"{A.shape[-1]} but each b matrix is {b.shape[-2]} by {b.shape[-1]}")
    if A._data.dtype != b._data.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type "
                           f"{_TN.get(str(b._data.dtype))} and A of type {_TN.get(str(A._data.dtype))} instead.")
    _check_float(A, "triangular_solve")
    return TriangularSolveResult(*triangular_solve_op(b, A, bool(upper), bool(transpose), bool(unitriangular)))


# -- LU ---------------------------------------------------------------------------------------------------------
def _lu_fwd(self, pivot):
    LU, piv, info = _lapack.lu(self)
    return LU, piv, info


def _lu_unpacked(LU, m, n):
    k = min(m, n)
    L = X.tril_op(S.narrow(LU, -1, 0, k), -1) + _c(np.eye(m, k, dtype=_raw(LU).dtype), LU)
    U = X.triu_op(S.narrow(LU, -2, 0, k), 0)
    return L, U


def _lu_core_grad(gL, gU, L, U, m, n):
    """A = P L U: the gradient PᵀgA from gL (m×k, unit lower) and gU (k×n, upper), torch's formulas for square,
    wide and tall A (k = min(m, n))."""
    k = min(m, n)
    if m == n:
        g = None
        if gL is not None:
            g = X.tril_op(_mm(_mT(L), gL), -1)
        if gU is not None:
            t = X.triu_op(_mm(gU, _mT(U)), 0)
            g = t if g is None else g + t
        g = solve_triangular_op(_mT(U), g, False, False, False)       # g U⁻ᵀ
        return solve_triangular_op(_mT(L), g, True, True, True)       # L⁻ᵀ g
    if m < n:  # wide: U = [U1 | U2]
        U1 = S.narrow(U, -1, 0, k)
        g = None
        if gL is not None:
            g = _mm(_mT(L), gL)
        if gU is not None:
            t = _mm(gU, _mT(U))
            g = -t if g is None else g - t
        g = solve_triangular_op(_mT(U1), X.tril_op(g, -1), False, False, False)
        if gU is not None:
            g = S.cat([g + X.triu_op(S.narrow(gU, -1, 0, k), 0), S.narrow(gU, -1, k, n - k)], -1, [k, n - k])
        g = solve_triangular_op(_mT(L), g, True, True, True)
        if gU is None:
            g = S.cat([g, _c(np.zeros(_raw(U).shape[:-1] + (n - k,), _raw(U).dtype), g)], -1, [k, n - k])
        return g
    # tall: L = [L1 ; L2]
    L1 = S.narrow(L, -2, 0, k)
    g = None
    if gU is not None:
        g = _mm(gU, _mT(U))
    if gL is not None:
        t = _mm(_mT(L), gL)
        g = -t if g is None else g - t
    g = solve_triangular_op(_mT(L1), X.triu_op(g, 0), True, True, True)
    if gL is not None:
        g = S.cat([g + X.tril_op(S.narrow(gL, -2, 0, k), -1), S.narrow(gL, -2, k, m - k)], -2, [k, m - k])
    g = solve_triangular_op(_mT(U), g, False, False, False)
    if gL is None:
        g = S.cat([g, _c(np.zeros(_raw(L).shape[:-2] + (m - k, n), _raw(L).dtype), g)], -2, [k, m - k])
    return g


def _perm_matrix(piv, m, like):
    perm = _lapack.perm_from_pivots(_raw(piv), m)
    Pm = np.zeros(perm.shape[:-1] + (m, m), _raw(like).dtype)
    np.put_along_axis(Pm, perm[..., None], 1.0, axis=-1)   # Pm[i, perm[i]] = 1: Pm A = A[perm]
    return _c(np.swapaxes(Pm, -1, -2), like)               # P with A = P L U


def _lu_factor_grad(grads, self, result, pivot, self_shape):
    gLU = grads[0]
    m, n = self_shape[-2:]
    LU, piv = result[0], result[1]
    L, U = _lu_unpacked(LU, m, n)
    k = min(m, n)
    gL = X.tril_op(S.narrow(gLU, -1, 0, k), -1)
    gU = X.triu_op(S.narrow(gLU, -2, 0, k), 0)
    g = _lu_core_grad(gL, gU, L, U, m, n)
    return _mm(_perm_matrix(piv, m, LU), g)


lu_factor_op = Op("linalg_lu_factor_ex", _lu_fwd, ("self",), ("pivot",), node="LinalgLuFactorExBackward0", dtype=SAME,
                  n_out=3, diff_out=(True, False, False))
lu_factor_op.defvjp(self=_lu_factor_grad)
LuFactorResult = Rd.return_type("linalg_lu_factor", ("LU", "pivots"))
LuFactorExResult = Rd.return_type("linalg_lu_factor_ex", ("LU", "pivots", "info"))
LuWithInfo = Rd.return_type("_lu_with_info", ("LU", "pivots", "info"))


def _lu_check(A, name):
    _check_tensor(A, name, "A")
    if A.ndim < 2:
        raise RuntimeError(f"torch.{name}: Expected tensor with 2 or more dimensions. Got size: {list(A.shape)} "
                           "instead")
    if A._data.dtype.kind not in "fc":
        raise NotImplementedError(f"\"lu_cpu\" not implemented for '{_TN.get(str(A._data.dtype))}'")


def lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False, out: Any = None) -> tuple:
    """Mirrors `torch.linalg.lu_factor_ex`: (LU, pivots, info) of a partial-pivoting LU."""
    _lu_check(A, "linalg.lu_factor_ex")
    if not pivot:
        raise NotImplementedError("ndgrad: LU without pivoting (pivot=False) is not implemented")
    LU, piv, info = lu_factor_op(A, True)
    if check_errors and np.any(info._data):
        prefix, k = _lapack.batch_prefix(info._data)
        raise RuntimeError(f"torch.linalg.lu_factor_ex: {prefix}U[{k},{k}] is zero and using it on lu_solve would "
                          "result in a division by zero. If you still want to perform the factorization, consider "
                          "calling linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")
    return LuFactorExResult(LU, piv, info)


def lu_factor(A: Tensor, *, pivot: bool = True, out: Any = None) -> tuple:
    """Mirrors `torch.linalg.lu_factor`: (LU, pivots); a zero pivot is an error."""
    _lu_check(A, "linalg.lu_factor")
    if not pivot:
        raise NotImplementedError("ndgrad: LU without pivoting (pivot=False) is not implemented")
    LU, piv, info = lu_factor_op(A, True)
    if np.any(info._data):
        prefix, k = _lapack.batch_prefix(info._data)
        raise RuntimeError(f"torch.linalg.lu_factor: {prefix}U[{k},{k}] is zero and using it on lu_solve would "
                           "result in a division by zero. If you still want to perform the factorization, consider "
                           "calling linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")
    return LuFactorResult(LU, piv)


def lu(A: Tensor, pivot: bool = True, get_infos: bool = False, out: Any = None) -> tuple:
    """Mirrors `torch.lu` (deprecated in torch, which warns): (LU, pivots[, infos])."""
    _deprecated("torch.lu is deprecated in favor of torch.linalg.lu_factor / torch.linalg.lu_factor_ex and will be "
                "removed in a future PyTorch release.\nLU, pivots = torch.lu(A, compute_pivots)\nshould be replaced "
                "with\nLU, pivots = torch.linalg.lu_factor(A, compute_pivots)\nand\nLU, pivots, info = torch.lu(A, "
                "compute_pivots, get_infos=True)\nshould be replaced with\nLU, pivots, info = "
                "torch.linalg.lu_factor_ex(A, compute_pivots)")
    _lu_check(A, "lu")
    if not pivot:
        raise NotImplementedError("ndgrad: LU without pivoting (pivot=False) is not implemented")
    LU, piv, info = lu_factor_op(A, True)
    if get_infos:
        return LuWithInfo(LU, piv, info)
    if np.any(info._data):
        prefix, k = _lapack.batch_prefix(info._data)
        raise RuntimeError(f"torch.linalg.lu_factor: {prefix}U[{k},{k}] is zero and using it on lu_solve would "
                           "result in a division by zero. If you still want to perform the factorization, consider "
                           "calling linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")
    return (LU, piv)


def _plu_fwd(self, pivot):
    m, n = self.shape[-2:]
    k = min(m, n)
    LU, piv, _ = _lapack.lu(self)
    L = np.tril(LU[..., :, :k], -1) + np.eye(m, k, dtype=self.dtype)
    U = np.triu(LU[..., :k, :])
    perm = _lapack.perm_from_pivots(piv, m)
    Pm = np.zeros(perm.shape[:-1] + (m, m), self.dtype)
    np.put_along_axis(Pm, perm[..., None], 1.0, axis=-1)
    return np.ascontiguousarray(np.swapaxes(Pm, -1, -2)), L, U


def _plu_grad(grads, self, result, pivot, self_shape):
    _, gL, gU = grads
    Pm, L, U = result
    m, n = self_shape[-2:]
    # only L's strict lower part and U's upper part vary with A
    gL = None if gL is None else X.tril_op(gL, -1)
    gU = None if gU is None else X.triu_op(gU, 0)
    g = _lu_core_grad(gL, gU, L, U, m, n)
    return _mm(Pm, g)


plu_op = Op("linalg_lu", _plu_fwd, ("self",), ("pivot",), node="LinalgLuBackward0", dtype=SAME, n_out=3,
            diff_out=(False, True, True))
plu_op.defvjp(self=_plu_grad)
PLUResult = Rd.return_type("linalg_lu", ("P", "L", "U"))


def linalg_lu(A: Tensor, *, pivot: bool = True, out: Any = None) -> tuple:
    """Mirrors `torch.linalg.lu`: (P, L, U) with A = P L U."""
    _lu_check(A, "linalg.lu")
    if not pivot:
        raise NotImplementedError("ndgrad: LU without pivoting (pivot=False) is not implemented")
    return PLUResult(*plu_op(A, True))


def _lu_unpack_fwd(self, pivots, unpack_data, unpack_pivots):
    m, n = self.shape[-2:]
    k = min(m, n)
    if unpack_data:
        L = np.tril(self[..., :, :k], -1) + np.eye(m, k, dtype=self.dtype)
        U = np.triu(self[..., :k, :])
    else:
        L = U = np.zeros((0,), self.dtype)
    if unpack_pivots:
        perm = _lapack.perm_from_pivots(pivots, m)
        Pm = np.zeros(perm.shape[:-1] + (m, m), self.dtype)
        np.put_along_axis(Pm, perm[..., None], 1.0, axis=-1)
        Pm = np.ascontiguousarray(np.swapaxes(Pm, -1, -2))
    else:
        Pm = np.zeros((0,), self.dtype)
    return Pm, np.ascontiguousarray(L), np.ascontiguousarray(U)


def _lu_unpack_grad(grads, self_shape, unpack_data):
    if not unpack_data:  # L and U are empty placeholders (torch's backward fails the same way)
        raise RuntimeError("triu: input tensor must have at least 2 dimensions")
    _, gL, gU = grads
    m, n = self_shape[-2:]
    k = min(m, n)
    g = None
    if gL is not None:
        gl = X.tril_op(gL, -1)                         # (m, k)
        g = gl if n == k else S.cat([gl, _c(np.zeros(_raw(gl).shape[:-1] + (n - k,), _raw(gl).dtype), gl)], -1,
                                       [k, n - k])
    if gU is not None:
        gu = X.triu_op(gU, 0)                          # (k, n)
        if m > k:
            gu = S.cat([gu, _c(np.zeros(_raw(gu).shape[:-2] + (m - k, n), _raw(gu).dtype), gu)], -2, [k, m - k])
        g = gu if g is None else g + gu
    return g


lu_unpack_op = Op("lu_unpack", _lu_unpack_fwd, ("self", "pivots"), ("unpack_data", "unpack_pivots"),
                  node="LuUnpackBackward0", dtype=NONE, n_out=3, diff_out=(False, True, True), edges=(0,))
lu_unpack_op.defvjp(self=_lu_unpack_grad)
LuUnpackResult = Rd.return_type("lu_unpack", ("P", "L", "U"))


def lu_unpack(LU_data: Tensor, LU_pivots: Tensor, unpack_data: bool = True, unpack_pivots: bool = True, *,
              out: Any = None) -> tuple:
    """Mirrors `torch.lu_unpack`: (P, L, U) from a packed LU and its pivots."""
    _check_tensor(LU_data, "lu_unpack", "LU_data"), _check_tensor(LU_pivots, "lu_unpack", "LU_pivots", )
    if LU_pivots._data.dtype != np.int32:
        raise RuntimeError(f"torch.lu_unpack: LU_pivots is expected to be a contiguous tensor of torch.int32 dtype. "
                           f"Note: this function is intended to be used with the output produced by torch.linalg."
                           f"lu_factor")
    return LuUnpackResult(*lu_unpack_op(LU_data, LU_pivots, bool(unpack_data), bool(unpack_pivots)))


def _lu_solve_fwd(self, pivots, B, left, adjoint):
    if not left:  # X A = B  <=>  Aᵀ Xᵀ = Bᵀ
        return np.ascontiguousarray(np.swapaxes(_lu_solve_fwd(self, pivots, np.swapaxes(B, -1, -2), True,
                                                              not adjoint), -1, -2))
    if adjoint:  # Aᵀ X = B with A = P L U: X = P L⁻ᵀ U⁻ᵀ ... solved as Uᵀ Lᵀ Pᵀ X = B
        Y = _lapack.tri_solve(np.swapaxes(np.triu(self), -1, -2), B, lower=True, unit=False)
        Z = _lapack.tri_solve(np.swapaxes(np.tril(self, -1) + np.eye(self.shape[-1], dtype=self.dtype), -1, -2), Y,
                              lower=False, unit=True)
        perm = _lapack.perm_from_pivots(pivots, self.shape[-1])
        inv = np.argsort(perm, axis=-1)
        shape = np.broadcast_shapes(Z.shape[:-2], inv.shape[:-1])
        return np.take_along_axis(np.broadcast_to(Z, shape + Z.shape[-2:]),
                                  np.broadcast_to(inv, shape + inv.shape[-1:])[..., None], axis=-2)
    return _lapack.lu_solve(self, pivots, B)


def _lu_solve_grad_B(grad, self, pivots, left, adjoint):
    return lu_solve_op(self, pivots, grad, left, not adjoint)


def _lu_solve_grad_LU(grad, self, pivots, result, left, adjoint):
    """Gradient through the packed factors: with gA the gradient of A = P L U, gL = (Pᵀ gA Uᵀ) restricted to the
    strict lower part and gU = (Lᵀ Pᵀ gA) to the upper part."""
    gB = lu_solve_op(self, pivots, grad, left, not adjoint)
    if left:
        gA = -_mm(result, _mT(gB)) if adjoint else -_mm(gB, _mT(result))
    else:  # X A = B: gA = -Xᵀ gB;  X Aᵀ = B: gA = -gBᵀ X
        gA = -_mm(_mT(gB), result) if adjoint else -_mm(_mT(result), gB)
    n = _raw(self).shape[-1]
    L, U = _lu_unpacked(self, n, n)
    Pm = _perm_matrix(pivots, n, self)
    PtgA = _mm(_mT(Pm), gA)
    return X.tril_op(_mm(PtgA, _mT(U)), -1) + X.triu_op(_mm(_mT(L), PtgA), 0)


lu_solve_op = Op("linalg_lu_solve", _lu_solve_fwd, ("self", "pivots", "B"), ("left", "adjoint"),
                 node="LinalgLuSolveBackward0", dtype=NONE, edges=(0, 2))
lu_solve_op.defvjp(self=_lu_solve_grad_LU, B=_lu_solve_grad_B)


def linalg_lu_solve(LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True, adjoint: bool = False,
                    out: Any = None) -> Tensor:
    """Mirrors `torch.linalg.lu_solve`: solves A X = B (left) or X A = B from A's LU factorisation."""
    _check_tensor(LU, "linalg_lu_solve", "LU"), _check_tensor(B, "linalg_lu_solve", "B")
    if LU.ndim < 2 or B.ndim < 2:
        raise RuntimeError("linalg.lu_solve: The input tensor LU must have at least 2 dimensions." if LU.ndim < 2
                           else "linalg.lu_solve: The input tensor B must have at least 2 dimensions.")
    _check_square(LU, "linalg.lu_solve", "LU")
    n = LU.shape[-1]
    k = B.shape[-2] if left else B.shape[-1]
    if k != n:
        raise RuntimeError(f"linalg.lu_solve: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {B.shape[-2]}x{B.shape[-1]})")
    if LU._data.dtype != B._data.dtype:
        raise RuntimeError(f"linalg.lu_solve: Expected LU and B to have the same dtype, but found LU of type "
                           f"{_TN.get(str(LU._data.dtype))} and B of type {_TN.get(str(B._data.dtype))} instead")
    if pivots._data.dtype != np.int32:
        raise RuntimeError("linalg.lu_solve: pivots should be a Tensor of scalar type torch.int32")
    return lu_solve_op(LU, pivots, B, bool(left), bool(adjoint))


def lu_solve(b: Tensor, LU_data: Tensor, LU_pivots: Tensor, *, out: Any = None) -> Tensor:
    """Mirrors `torch.lu_solve(b, LU_data, LU_pivots)` (deprecated in torch, which warns)."""
    _deprecated("torch.lu_solve is deprecated in favor of torch.linalg.lu_solveand will be removed in a future "
                "PyTorch release.\nNote that torch.linalg.lu_solve has its arguments reversed.\n"
                "X = torch.lu_solve(B, LU, pivots)\nshould be replaced with\nX = torch.linalg.lu_solve(LU, pivots, B)")
    return linalg_lu_solve(LU_data, LU_pivots, b)


# -- the *_ex variants --------------------------------------------------------------------------------------------
def _inv_ex_fwd(self):
    LU, piv, info = _lapack.lu(self)
    if not np.any(info):
        return np.linalg.inv(self)
    n = self.shape[-1]
    return _lapack.lu_solve(LU, piv, np.broadcast_to(np.eye(n, dtype=self.dtype), self.shape))


inv_ex_op = Op("linalg_inv_ex", _inv_ex_fwd, ("self",), node="LinalgInvExBackward0", dtype=SAME)
inv_ex_op.defvjp(self=X.inv_op.vjps[0])
InvExResult = Rd.return_type("linalg_inv_ex", ("inverse", "info"))


def inv_ex(A: Tensor, *, check_errors: bool = False, out: Any = None) -> tuple:
    """Mirrors `torch.linalg.inv_ex`: (inverse, info); info is the first zero pivot (0: invertible)."""
    _square_float(A, "linalg.inv_ex")
    info = _lapack.lu(A._data)[2]
    if check_errors and np.any(info):
        raise _lapack.singular_error(A._data, "linalg.inv_ex")
    return InvExResult(inv_ex_op(A), _i32(info))


CholeskyExResult = Rd.return_type("linalg_cholesky_ex", ("L", "info"))
SolveExResult = Rd.return_type("linalg_solve_ex", ("result", "info"))


def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False, out: Any = None) -> tuple:
    """Mirrors `torch.linalg.cholesky_ex`: (L, info); info is the order of the first leading minor that is not
    positive-definite (0: success), where L holds what LAPACK leaves (see _lapack.cholesky)."""
    _square_float(A, "linalg.cholesky_ex")
    Lp, info = _lapack.cholesky(A._data)
    if check_errors and np.any(info):
        raise _lapack.not_pd_error(A._data, "linalg.cholesky_ex")
    if not np.any(info):
        return CholeskyExResult(X.cholesky_op(A, bool(upper)), _i32(info))
    Lt = _wrap(np.ascontiguousarray(np.swapaxes(Lp, -1, -2) if upper else Lp))
    return CholeskyExResult(Lt, _i32(info))


def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False, out: Any = None) -> tuple:
    """Mirrors `torch.linalg.solve_ex`: (result, info)."""
    _square_float(A, "linalg.solve_ex")
    info = _lapack.lu(A._data)[2]
    if np.any(info):
        if check_errors:
            raise _lapack.solve_error(A._data, "torch.linalg.solve_ex")
        vec = left and (B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1])))
        LU, piv, _ = _lapack.lu(A._data)
        b = B._data[..., None] if vec else B._data
        x = _lapack.lu_solve(LU, piv, b) if left else \
            np.swapaxes(_lapack.lu_solve(np.swapaxes(LU, -1, -2), piv, np.swapaxes(b, -1, -2)), -1, -2)
        return SolveExResult(_wrap(np.ascontiguousarray(x[..., 0] if vec else x)), _i32(info))
    return SolveExResult(X.solve(A, B, left=left), _i32(info))


# -- rank, condition number -----------------------------------------------------------------------------------
def matrix_rank(A: Tensor, tol: float | None = None, hermitian: bool = False, *, atol: Any = None,
                rtol: Any = None, out: Any = None) -> Tensor:
    """Mirrors `torch.linalg.matrix_rank`: singular values above max(atol, rtol·σ_max) (rtol defaults to
    eps·max(m, n) when neither is given)."""
    _check_tensor(A, "linalg_matrix_rank")
    if A.ndim < 2:
        raise RuntimeError("torch.linalg.matrix_rank: The input tensor input must have at least 2 dimensions.")
    _check_float(A, "torch.linalg.matrix_rank")
    a = A._data
    if tol is not None:
        atol = tol if atol is None else atol
        rtol = 0.0 if rtol is None else rtol
    if a.size == 0:
        return _wrap(np.zeros(a.shape[:-2], np.int64))
    sv = np.abs(np.linalg.eigvalsh(a)) if hermitian else np.linalg.svd(a, compute_uv=False)
    smax = sv.max(axis=-1, initial=0.0)
    at = np.asarray(_raw(atol) if atol is not None else 0.0, np.float64)
    if rtol is None:
        rt = np.asarray(np.finfo(a.dtype).eps * max(a.shape[-2:]) if atol is None or np.all(at == 0) else 0.0)
    else:
        rt = np.asarray(_raw(rtol), np.float64)
    cut = np.maximum(at, rt * smax)
    return _wrap(np.asarray(np.sum(sv > cut[..., None], axis=-1), np.int64))


def cond(A: Tensor, p: Any = None, *, out: Any = None) -> Tensor:
    """Mirrors `torch.linalg.cond`: σ_max/σ_min for p = None/2 (-2: the inverse), else ‖A‖_p ‖A⁻¹‖_p for
    'fro', 'nuc', ±inf, ±1 (square matrices; inf for a singular one)."""
    nd = _nd()
    _check_tensor(A, "linalg_cond")
    if A.ndim < 2:
        raise RuntimeError("linalg.cond: The input tensor A must have at least 2 dimensions.")
    if p is None or p in (2, -2):
        sv = X.svdvals(A)
        k = sv.shape[-1]
        hi, lo = sv.narrow(-1, 0, 1), sv.narrow(-1, k - 1, 1)
        r = hi / lo if p != -2 else lo / hi
        return S.squeeze_dim(r, (r.ndim - 1,))
    if p not in ("fro", "nuc", math.inf, -math.inf, 1, -1):
        raise RuntimeError(f"linalg.cond got an invalid norm type: {p}")
    _check_square(A, f"linalg.cond(ord={p})")
    _check_float(A, "linalg.cond")
    if p == "nuc":  # Σσ · Σ1/σ (torch's node: MulBackward0)
        sv = X.svdvals(A)
        return sv.sum(-1) * (1 / sv).sum(-1)
    info = _lapack.lu(A._data)[2]
    if np.any(info):
        inv = inv_ex_op(A.detach())
    else:
        inv = X.inv(A)
    r = X.matrix_norm(A, p) * X.matrix_norm(inv, p)
    if np.any(info):
        r = nd.where(_wrap(np.asarray(info != 0)), _wrap(np.full((), np.inf, A._data.dtype)), r)
    return nd.nan_to_num(r, nan=math.inf, posinf=math.inf)


# -- vecdot, multi_dot, diagonal, tensorinv, tensorsolve ------------------------------------------------------------
def vecdot(x: Tensor, y: Tensor, *, dim: int = -1, out: Any = None) -> Tensor:
    """Mirrors `torch.linalg.vecdot`: Σ conj(x)·y along dim (broadcasting)."""
    _check_tensor(x, "linalg_vecdot", "x"), _check_tensor(y, "linalg_vecdot", "y")
    if x.ndim and y.ndim and x.shape[dim] != y.shape[dim] and 1 not in (x.shape[dim], y.shape[dim]):
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{x.shape[dim]}] and src [{y.shape[dim]}] "
                           f"to have the same number of elements, but got {x.shape[dim]} and {y.shape[dim]} elements "
                           "respectively")
    for t in (x, y):
        _check_float(t, "linalg.vecdot")
    xc = P.conj(x) if x.is_complex() else x
    return (xc * y).sum(dim)


def multi_dot(tensors: Sequence[Tensor], *, out: Any = None) -> Tensor:
    """Mirrors `torch.linalg.multi_dot`: the chain product in the cheapest order; 1-d first/last operands are
    a row/column vector."""
    ts = list(tensors)
    if len(ts) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(ts)}")
    for i, t in enumerate(ts):
        _check_tensor(t, "linalg_multi_dot", "tensors")
        first, last = i == 0, i == len(ts) - 1
        if first and t.ndim not in (1, 2):
            raise RuntimeError(f"multi_dot(): the first tensor must be 1D or 2D but got {t.ndim}D")
        if last and not first and t.ndim not in (1, 2):
            raise RuntimeError(f"multi_dot(): the last tensor must be 1D or 2D but got {t.ndim}D")
        if not first and not last and t.ndim != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {t.ndim}D")
    d0 = ts[0]._data.dtype
    for i, t in enumerate(ts[1:], 1):
        if t._data.dtype != d0:
            raise RuntimeError(f"multi_dot(): all tensors must have be the same dtype but tensor 0 is "
                               f"{_TN.get(str(d0)).lower()} and tensor {i} {_TN.get(str(t._data.dtype)).lower()}")
    out_shape = []
    if ts[0].ndim == 1:
        ts[0] = ts[0].unsqueeze(0)
    else:
        out_shape.append(ts[0].shape[0])
    if ts[-1].ndim == 1:
        ts[-1] = ts[-1].unsqueeze(1)
    else:
        out_shape.append(ts[-1].shape[1])
    for i in range(len(ts) - 1):
        if ts[i].shape[1] != ts[i + 1].shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes {list(ts[i].shape)} and "
                               f"{list(ts[i + 1].shape)} cannot be multiplied")
    dims = [t.shape[0] for t in ts] + [ts[-1].shape[1]]
    n = len(ts)
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = None
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if cost[i][j] is None or c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k

    def prod(i, j):
        if i == j:
            return ts[i]
        k = split[i][j]
        return _nd().mm(prod(i, k), prod(k + 1, j))
    return prod(0, n - 1).reshape(out_shape)


def linalg_diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Mirrors `torch.linalg.diagonal` (diagonal over the last two dims by default)."""
    return X.diagonal(A, offset, dim1, dim2)


reshape_alias = Op("reshape_alias", lambda self, shape: np.reshape(self, shape), ("self",), ("shape",),
                   node="ReshapeAliasBackward0", dtype=SAME)
reshape_alias.defvjp(self=lambda grad, self_shape: S.reshape(grad, self_shape))


def tensorinv(A: Tensor, ind: int = 2, *, out: Any = None) -> Tensor:
    """Mirrors `torch.linalg.tensorinv`: the inverse of A seen as a matrix (prod(shape[:ind]) rows)."""
    _check_tensor(A, "linalg_tensorinv")
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    shp = tuple(A.shape)
    if ind > len(shp):
        raise RuntimeError(f"ArrayRef: invalid slice, N = {ind}; size = {len(shp)}")
    rows, cols = int(np.prod(shp[:ind])), int(np.prod(shp[ind:]))
    if rows != cols:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {cols} != {rows}")
    inv = X.inv(A.reshape(rows, cols))
    return reshape_alias(inv, shp[ind:] + shp[:ind])


def tensorsolve(A: Tensor, B: Tensor, dims: Sequence[int] | None = None, *, out: Any = None) -> Tensor:
    """Mirrors `torch.linalg.tensorsolve`: X with tensordot(A, X, X.ndim) = B."""
    _check_tensor(A, "linalg_tensorsolve"), _check_tensor(B, "linalg_tensorsolve", "other")
    if dims is not None:
        nd = A.ndim
        dd = [_wrap_dim(d, nd) for d in dims]
        rest = [i for i in range(nd) if i not in dd]
        A = A.permute(rest + dd)
    shp = tuple(A.shape)
    k = B.ndim
    rest = shp[k:]
    rows, cols = int(np.prod(shp[:k])), int(np.prod(rest))
    if rows != cols:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[other.ndim:]) == "
                           f"prod(self.shape[:other.ndim]), but got {cols} != {rows}")
    x = X.solve(A.reshape(rows, cols), B.reshape(rows))
    return x.view(rest)


# -- eig (general, complex results) ---------------------------------------------------------------------------------
def _complex_of(dt):
    return np.complex64 if dt in (np.float32, np.complex64) else np.complex128


def _eig_fwd(self):
    try:
        w, v = np.linalg.eig(self)
    except np.linalg.LinAlgError:
        raise LinAlgError("linalg.eig: The algorithm failed to converge because the input matrix is "
                          "ill-conditioned or has too many repeated eigenvalues (error code: 1).") from None
    c = _complex_of(self.dtype)
    return np.ascontiguousarray(w.astype(c)), np.ascontiguousarray(v.astype(c))


def _eig_grad(grads, self, result):
    """torch's linalg_eig_backward: gA = V⁻ᴴ (diag(gL) + (VᴴgV - Vᴴ V Re(diag(VᴴgV))) / conj(E)) Vᴴ, E_ij =
    λ_j - λ_i (real part for a real A)."""
    gL, gV = grads
    Lv, V = result
    n = _raw(Lv).shape[-1]
    Vh = P.conj(_mT(V))
    Lc = P.conj(Lv)
    E = S.unsqueeze(Lc, -2) - S.unsqueeze(Lc, -1) + _c(np.eye(n, dtype=_raw(Lv).dtype), Lv)
    g = None
    if gV is not None:
        VhgV = _mm(Vh, gV)
        d = X.diagonal_op(P.real(VhgV), 0, -2, -1)
        g = VhgV - _mm(Vh, V * S.unsqueeze(P.cast(d, _raw(V).dtype), -2))
        g = g / E
        g = g - X.diag_embed_op(X.diagonal_op(g, 0, -2, -1), 0)
    if gL is not None:
        dg = X.diag_embed_op(gL, 0)
        g = dg if g is None else g + dg
    gA = X.solve_op(Vh, _mm(g, Vh), False, True)
    return P.real(gA) if _raw(self).dtype.kind == "f" else gA


eig_op = Op("linalg_eig", _eig_fwd, ("self",), node="LinalgEigBackward0", dtype=SAME, n_out=2)
eig_op.defvjp(self=_eig_grad)
EigResult = Rd.return_type("linalg_eig", ("eigenvalues", "eigenvectors"))


def eig(A: Tensor, *, out: Any = None) -> tuple:
    """Mirrors `torch.linalg.eig`: complex eigenvalues and unit eigenvectors (LAPACK's geev, as torch), with
    torch's gradient (eigenvectors' phases are arbitrary: losses must not depend on them)."""
    _square_float(A, "linalg.eig")
    return EigResult(*eig_op(A))


def _eigvals_grad(grad, self):
    Lv, V = eig_op(self)
    return _eig_grad((grad, None), self, (Lv, V))


eigvals_op = Op("linalg_eigvals", lambda self: _eig_fwd(self)[0], ("self",), node="LinalgEigBackward0", dtype=SAME)
eigvals_op.defvjp(self=_eigvals_grad)


def eigvals(A: Tensor, *, out: Any = None) -> Tensor:
    """Mirrors `torch.linalg.eigvals`."""
    _square_float(A, "linalg.eigvals")
    return eigvals_op(A)


# -- householder_product ------------------------------------------------------------------------------------------
def _hh_fwd(self, tau):
    m, n = self.shape[-2:]
    k = tau.shape[-1]
    batch = np.broadcast_shapes(self.shape[:-2], tau.shape[:-1])
    Q = np.broadcast_to(np.eye(m, n, dtype=self.dtype), batch + (m, n)).copy()
    for i in range(k - 1, -1, -1):  # Q = H_0 ... H_{k-1} E, applied from the right end
        v = np.zeros(batch + (m,), self.dtype)
        v[..., i] = 1
        v[..., i + 1:] = self[..., i + 1:, i]
        t = tau[..., i][..., None]
        Q = Q - t[..., None] * v[..., :, None] * np.einsum("...i,...ij->...j", v, Q)[..., None, :]
    return Q


def _hh_parts(self, tau):
    """The reflectors' vectors v_i (..., m, 1), τ_i (..., 1, 1) and H_i = I - τ_i v_i v_iᵀ, in ndgrad ops."""
    m = _raw(self).shape[-2]
    k = _raw(tau).shape[-1]
    batch = _raw(self).shape[:-2]
    vs, ts, Hs = [], [], []
    for i in range(k):
        head = np.zeros(batch + (i + 1, 1), _raw(self).dtype)
        head[..., i, 0] = 1
        below = S.narrow(S.narrow(self, -1, i, 1), -2, i + 1, m - i - 1)
        v = S.cat([_c(head, self), below], -2, [i + 1, m - i - 1])
        t = S.unsqueeze(S.narrow(tau, -1, i, 1), -1)
        vs.append(v)
        ts.append(t)
        Hs.append(_c(np.eye(m, dtype=_raw(self).dtype), self) - t * _mm(v, _mT(v)))
    return vs, ts, Hs


def _hh_grads(grad, self, tau):
    """Q = H_0⋯H_{k-1} E: with P_i = H_0⋯H_{i-1} and R_i = H_{i+1}⋯H_{k-1} E, gH_i = P_iᵀ G R_iᵀ, so
    gτ_i = -v_iᵀ gH_i v_i and gv_i = -τ_i (gH_i + gH_iᵀ) v_i (its entries below the unit one go to A)."""
    m, n = _raw(self).shape[-2:]
    k = _raw(tau).shape[-1]
    vs, ts, Hs = _hh_parts(self, tau)
    E = _c(np.eye(m, n, dtype=_raw(self).dtype), self)
    prefix = [None] * k
    P_ = None
    for i in range(k):
        prefix[i] = P_
        P_ = Hs[i] if P_ is None else _mm(P_, Hs[i])
    R_ = E
    gcols, gtaus = [None] * n, [None] * k
    for i in range(k - 1, -1, -1):
        GR = _mm(grad, _mT(R_))
        gH = GR if prefix[i] is None else _mm(_mT(prefix[i]), GR)
        v, t = vs[i], ts[i]
        gtaus[i] = -S.squeeze_dim(_mm(_mT(v), _mm(gH, v)), (len(_raw(v).shape) - 2,))
        gv = -t * _mm(gH + _mT(gH), v)
        top = _c(np.zeros(_raw(gv).shape[:-2] + (i + 1, 1), _raw(gv).dtype), gv)
        gcols[i] = S.cat([top, S.narrow(gv, -2, i + 1, m - i - 1)], -2, [i + 1, m - i - 1])
        R_ = _mm(Hs[i], R_)
    for j in range(k, n):
        gcols[j] = _c(np.zeros(_raw(grad).shape[:-1] + (1,), _raw(grad).dtype), grad)
    gA = S.cat(gcols, -1, [1] * n)
    gtau = S.cat(gtaus, -1, [1] * k) if k else _c(np.zeros(_raw(tau).shape, _raw(tau).dtype), tau)
    return gA, gtau


householder_op = Op("linalg_householder_product", _hh_fwd, ("self", "tau"), node="LinalgHouseholderProductBackward0",
                    dtype=SAME)
householder_op.defvjp(self=lambda grad, self, tau: _hh_grads(grad, self, tau)[0],
                      tau=lambda grad, self, tau: _hh_grads(grad, self, tau)[1])


def householder_product(A: Tensor, tau: Tensor, *, out: Any = None) -> Tensor:
    """Mirrors `torch.linalg.householder_product`: the first n columns of H_1⋯H_k, H_i = I - τ_i v_i v_iᵀ with
    v_i = (0, …, 0, 1, A[i+1:, i])."""
    name = "torch.linalg.householder_product"
    _check_tensor(A, "linalg_householder_product"), _check_tensor(tau, "linalg_householder_product", "tau")
    if A.ndim < 2:
        raise RuntimeError(f"{name}: input must have at least 2 dimensions.")
    if A.shape[-2] < A.shape[-1]:
        raise RuntimeError(f"{name}: input.shape[-2] must be greater than or equal to input.shape[-1]")
    if A.shape[-1] < tau.shape[-1] if tau.ndim else False:
        raise RuntimeError(f"{name}: input.shape[-1] must be greater than or equal to tau.shape[-1]")
    if tau.ndim != A.ndim - 1:
        raise RuntimeError(f"{name}: Expected tau to have one dimension less than input, but got tau.ndim equal to "
                           f"{tau.ndim} and input.ndim is equal to {A.ndim}")
    if A._data.dtype.kind not in "fc":
        raise NotImplementedError(f"\"orgqr_cpu\" not implemented for '{_TN.get(str(A._data.dtype))}'")
    if tau._data.dtype != A._data.dtype:
        raise RuntimeError(f"{name}: tau dtype {_TN.get(str(tau._data.dtype))} does not match input dtype "
                           f"{_TN.get(str(A._data.dtype))}")
    return householder_op(A, tau)


def orgqr(input: Tensor, tau: Tensor) -> Tensor:
    """Mirrors `torch.orgqr` (= linalg.householder_product)."""
    return householder_product(input, tau)


LINALG_MORE = dict(householder_product=householder_product, lu_factor=lu_factor, lu_factor_ex=lu_factor_ex,
                   lu=linalg_lu, lu_solve=linalg_lu_solve,
                   solve_triangular=solve_triangular, matrix_power=matrix_power, matrix_rank=matrix_rank, cond=cond,
                   eig=eig, eigvals=eigvals, vecdot=vecdot, multi_dot=multi_dot, diagonal=linalg_diagonal,
                   tensorinv=tensorinv, tensorsolve=tensorsolve, inv_ex=inv_ex, cholesky_ex=cholesky_ex,
                   solve_ex=solve_ex)  # served as ndgrad.linalg.<name> by _lazy.linalg_attr

METHODS: dict = {n: globals()[n] for n in (
    "logdet", "slogdet", "pinverse", "cholesky", "cholesky_solve", "cholesky_inverse", "svd", "qr", "lu",
    "lu_solve", "matrix_power", "triangular_solve", "orgqr")}

# -- forward mode: ops not listed transpose their vjp
for _op in (reshape_alias,):
    _op.defjvp(linear=True)


def _eig_tangents(dA, A, Lv, V):
    """torch's linalg_eig_jvp: dP = V⁻¹ dA V, dL = diag(dP), dV = V (dP / E, zero diagonal) with the
    unit-norm correction dV -= V Re(diag(Vᴴ dV))."""
    c = _raw(V).dtype
    dAc = P.cast(dA, c) if _raw(dA).dtype != c else dA
    dP = X.solve_op(V, _mm(dAc, V), False, True)
    dL = X.diagonal_op(dP, 0, -2, -1)
    n = _raw(Lv).shape[-1]
    E = S.unsqueeze(Lv, -2) - S.unsqueeze(Lv, -1) + _c(np.eye(n, dtype=c), Lv)
    Q = dP / E
    Q = Q - X.diag_embed_op(X.diagonal_op(Q, 0, -2, -1), 0)
    dV = _mm(V, Q)
    corr = P.cast(P.real(X.diagonal_op(_mm(P.conj(_mT(V)), dV), 0, -2, -1)), c)
    return dL, dV - V * S.unsqueeze(corr, -2)


eig_op.defjvp(lambda ts, self, result: _eig_tangents(ts[0], self, result[0], result[1]))
eigvals_op.defjvp(lambda ts, self, result: _eig_tangents(ts[0], self, result, eig_op(self)[1])[0])
