"""OpInfo entries of ndgrad/_ops/linalg_more.py: torch's top-level linear algebra (matrix_exp, det, logdet, slogdet,
inverse, pinverse, cholesky, cholesky_solve, cholesky_inverse, svd, qr, lu, lu_solve, lu_unpack, matrix_power,
triangular_solve) and ndgrad.linalg's lu_factor(_ex), lu, lu_solve, solve_triangular, matrix_power,
matrix_rank, cond, eig, eigvals, vecdot, multi_dot, diagonal, tensorinv, tensorsolve, inv_ex, cholesky_ex,
solve_ex. Samples are well conditioned (see opinfo_linalg.py); LU samples have distinct pivots.

Known deviations from torch:
- linalg.cond with p in ('fro', 1, -1, inf, -inf): torch 2.13's backward fails its own saved-tensor version
  check (an in-place nan_to_num_ on its inverse); ndgrad differentiates it. Marked xfail for "grad".
- LU without pivoting (pivot=False) raises NotImplementedError.
- eig's eigenvectors are LAPACK's, as torch's, but only their moduli and the eigenvalues are compared
  (eigenvector phases are arbitrary by definition).
- cholesky_ex on a matrix that is not positive-definite: info and the factor of the positive-definite
  leading block are torch's; the remaining entries are the input's lower triangle (LAPACK's potrf leaves
  its partial updates there).
"""
from __future__ import annotations

import warnings

import numpy as np
from opinfo import A, Arg, E, F, OpInfo, Sample, add, f32, f64, ints, make, samples_of
from opinfo_linalg import _fix_sign, spd, wc

from ndgrad._ops import linalg_ext as X
from ndgrad._ops import linalg_more as LM
from ndgrad._ops import shape as S

FLOATS = (f64, f32)
TOL32 = dict(rtol={f32: 1e-4}, atol={f32: 1e-4})
_COND_GRAD = {"grad": "torch 2.13's linalg.cond backward for this p fails its own version check (in-place "
                      "nan_to_num_); ndgrad's gradient is checked by gradcheck"}


def _quiet(fn):
    """Calls fn with torch's (and ndgrad's) deprecation warnings of the legacy spellings silenced."""
    def f(*a, **kw):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return fn(*a, **kw)
    return f


def tri(shape, d, r, upper=False) -> Arg:
    """A well-conditioned triangular factor (positive diagonal)."""
    a = wc(shape, f64, r).array
    a = np.triu(a) if upper else np.tril(a)
    return Arg(np.asarray(a, d))


def gen(shape, d, r) -> Arg:
    """A general (non-triangular, pivoting) matrix with distinct pivots."""
    return Arg(make(shape, d, r, -2.0, 2.0, distinct=True))


# -- aliases -------------------------------------------------------------------------------------------------------
def _sq(d, r):
    yield Sample((wc((3, 3), d, r),), desc="3x3")
    yield Sample((wc((2, 2, 2), d, r),), desc="batch")


add(OpInfo("matrix_exp", lambda lib, a: lib.matrix_exp(a), _sq, ops=(X.matrix_exp_op,), **TOL32),
    OpInfo("det", lambda lib, a: lib.det(a), _sq, ops=(X.det_op,), **TOL32, errors=lambda: [E(ints([[1, 2], [3, 4]]))]),
    OpInfo("inverse", lambda lib, a: lib.inverse(a), _sq, ops=(X.inv_op,), **TOL32,
           errors=lambda: [E(Arg(np.array([[1.0, 2.0], [2.0, 4.0]]), False)), E(F((2, 3)))]),
    OpInfo("slogdet", lambda lib, a: lib.slogdet(a), _sq, ops=(X.slogdet_op,), **TOL32),
    OpInfo("logdet", lambda lib, a: lib.logdet(a), samples_of(
        lambda d, r: Sample((wc((3, 3), d, r),), desc="positive det"),
        lambda d, r: Sample((Arg(np.ascontiguousarray(wc((3, 3), d, r).array[::-1])),), desc="negative det: nan",
                            gradcheck=False),
        lambda d, r: Sample((wc((2, 2, 2), d, r),), desc="batch")), ops=(X.slogdet_op,), **TOL32),
    OpInfo("Tensor.logdet", lambda lib, a: a.logdet(), _sq, ops=(X.slogdet_op,), **TOL32),
    OpInfo("pinverse", lambda lib, a, *rc: lib.pinverse(a, *rc), samples_of(
        lambda d, r: Sample((A((4, 3), d, r),), desc="tall"),
        lambda d, r: Sample((A((2, 3), d, r), 1e-10), desc="wide, rcond")), ops=(LM.pinv_rtol_op,), **TOL32,
        errors=lambda: [E(F((3,)))]),
    )


# -- Cholesky family -----------------------------------------------------------------------------------------------
def _tri_of(L, upper=False):
    """The factor's triangle as a function of the input: torch's (and ndgrad's) gradient with respect to the
    factor is the full matrix, while the value reads one triangle, so finite differences need this."""
    return L.triu() if upper else L.tril()


add(OpInfo("cholesky", _quiet(lambda lib, x, *up: lib.cholesky(spd(lib, x), *up)), samples_of(
    lambda d, r: Sample((A((3, 3), d, r),), desc="lower"),
    lambda d, r: Sample((A((3, 3), d, r), True), desc="upper"),
    lambda d, r: Sample((A((2, 2, 2), d, r),), desc="batch")), ops=(LM.cholesky_legacy_op,), **TOL32),
    OpInfo("cholesky_solve", lambda lib, b, L, *up: lib.cholesky_solve(b, _tri_of(L, *up), *up), samples_of(
        lambda d, r: Sample((A((3, 2), d, r), tri((3, 3), d, r)), desc="lower"),
        lambda d, r: Sample((A((3, 2), d, r), tri((3, 3), d, r, True), True), desc="upper"),
        lambda d, r: Sample((A((2, 2, 1), d, r), tri((2, 2, 2), d, r)), desc="batch")),
        ops=(LM.cholesky_solve_op,), **TOL32,
        errors=lambda: [E(F((3, 2)), F((2, 2))), E(F((3,)), F((3, 3))), E(F((2, 2)), F((2, 2), np.float32))]),
    OpInfo("cholesky_inverse", lambda lib, L, *up: lib.cholesky_inverse(_tri_of(L, *up), *up), samples_of(
        lambda d, r: Sample((tri((3, 3), d, r),), desc="lower"),
        lambda d, r: Sample((tri((3, 3), d, r, True), True), desc="upper"),
        lambda d, r: Sample((tri((2, 2, 2), d, r),), desc="batch")), ops=(LM.cholesky_inverse_op,), **TOL32,
        errors=lambda: [E(F((3,)))]),
    OpInfo("linalg.cholesky_ex", lambda lib, x, **kw: lib.linalg.cholesky_ex(spd(lib, x), **kw), samples_of(
        lambda d, r: Sample((A((3, 3), d, r),), desc="lower"),
        lambda d, r: Sample((A((3, 3), d, r),), dict(upper=True), desc="upper")), ops=(X.cholesky_op,), **TOL32),
    OpInfo("linalg.cholesky_ex(not positive-definite)", lambda lib, x: lib.linalg.cholesky_ex(x), samples_of(
        lambda d, r: Sample((Arg(np.array([[1.0, 2.0], [2.0, 1.0]], d), False),), desc="order 2"),
        lambda d, r: Sample((Arg(np.array([[[4.0, 0.0], [0.0, 1.0]], [[-1.0, 0.0], [0.0, 1.0]]], d), False),),
                            desc="batch, order 1")), differentiable=False),
    )


# -- svd, qr -------------------------------------------------------------------------------------------------------
def _svd_fixed(lib, a, *args):
    U, Sv, V = lib.svd(a, *args)
    if U.numel() and U.abs().sum() > 0:
        U, Vh = _fix_sign(lib, U[..., :Sv.shape[-1]], V[..., :Sv.shape[-1]].mT)
        return U, Sv, Vh.mT
    return U, Sv, V


add(OpInfo("svd", _svd_fixed, samples_of(
    lambda d, r: Sample((A((4, 3), d, r, distinct=True),), desc="tall"),
    lambda d, r: Sample((A((2, 3), d, r, distinct=True),), desc="wide"),
    lambda d, r: Sample((A((2, 3, 2), d, r, distinct=True),), desc="batch"),
    lambda d, r: Sample((A((4, 3), d, r, distinct=True), True, False), desc="compute_uv=False")),
    ops=(X.svd_op, X.svdvals_op, S.transpose), **TOL32, errors=lambda: [E(F((3,)))]),
    OpInfo("qr", _quiet(lambda lib, a, *s: lib.qr(a, *s)), samples_of(
        lambda d, r: Sample((A((4, 3), d, r),), desc="reduced"),
        lambda d, r: Sample((A((3, 3), d, r), False), desc="complete, square")), ops=(X.qr_op,), **TOL32),
    OpInfo("Tensor.svd", lambda lib, a: a.svd()[1], samples_of(lambda d, r: Sample((A((3, 2), d, r),))),
           ops=(X.svd_op,), **TOL32),
    )


# -- matrix_power --------------------------------------------------------------------------------------------------
def _mp_samples(d, r):
    for n in (0, 1, 2, 3, 5, -1, -2):
        yield Sample((A((3, 3), d, r, -0.7, 0.7) if n >= 0 else wc((3, 3), d, r), n), desc=f"n={n}")
    yield Sample((A((2, 2, 2), d, r, -0.7, 0.7), 4), desc="batch")


add(OpInfo("matrix_power", lambda lib, a, n: lib.matrix_power(a, n), _mp_samples, dtypes=FLOATS + (np.int64,),
           **TOL32, errors=lambda: [E(F((2, 3)), 2), E(ints([[1, 2], [3, 4]]), -1),
                                    E(Arg(np.array([[1.0, 2.0], [2.0, 4.0]]), False), -1), E(F((3,)), 2)]),
    OpInfo("linalg.matrix_power", lambda lib, a, n: lib.linalg.matrix_power(a, n), _mp_samples, **TOL32),
    OpInfo("Tensor.matrix_power", lambda lib, a: a.matrix_power(3),
           samples_of(lambda d, r: Sample((A((2, 2), d, r),))), **TOL32),
    )


# -- triangular solves ---------------------------------------------------------------------------------------------
def _tsolve_samples(d, r):
    yield Sample((A((3, 2), d, r), wc((3, 3), d, r)), desc="upper (reads the upper triangle)")
    yield Sample((A((3, 2), d, r), wc((3, 3), d, r), False), desc="lower")
    yield Sample((A((3, 2), d, r), wc((3, 3), d, r), True, True), desc="transpose")
    yield Sample((A((3, 2), d, r), wc((3, 3), d, r), False, True, True), desc="lower, transpose, unitriangular")
    yield Sample((A((2, 3, 1), d, r), wc((3, 3), d, r)), desc="broadcast A")


add(OpInfo("triangular_solve", _quiet(lambda lib, b, a, *f: lib.triangular_solve(b, a, *f)), _tsolve_samples,
           ops=(LM.triangular_solve_op,), **TOL32,
           errors=lambda: [E(F((3, 2)), F((2, 2))), E(F((3,)), F((3, 3))), E(F((2, 2)), F((2, 2), np.float32))]))


def _solve_tri_samples(d, r):
    yield Sample((wc((3, 3), d, r), A((3, 2), d, r)), dict(upper=True), desc="upper")
    yield Sample((wc((3, 3), d, r), A((3, 2), d, r)), dict(upper=False), desc="lower")
    yield Sample((wc((3, 3), d, r), A((2, 3), d, r)), dict(upper=True, left=False), desc="right")
    yield Sample((wc((3, 3), d, r), A((2, 3), d, r)), dict(upper=False, left=False, unitriangular=True),
                 desc="right, lower, unitriangular")
    yield Sample((wc((2, 3, 3), d, r), A((3, 1), d, r)), dict(upper=True), desc="batch A, broadcast B")


add(OpInfo("linalg.solve_triangular", lambda lib, a, b, **kw: lib.linalg.solve_triangular(a, b, **kw),
           _solve_tri_samples, ops=(LM.solve_triangular_op,), **TOL32,
           errors=lambda: [E(F((2, 2)), F((3, 2)), upper=True), E(ints([[1, 0], [0, 1]]), ints([[1], [1]]), upper=True),
                           E(F((2, 3)), F((2, 2)), upper=False), E(F((2, 2)), F((2,)), upper=True)]),
    OpInfo("linalg.solve_triangular(mixed dtypes)", lambda lib, a, b: lib.linalg.solve_triangular(a, b, upper=True),
           samples_of(lambda d, r: Sample((wc((2, 2), d, r), A((2, 1), np.float32, r)), desc="B float32",
                                          gradcheck=False),
                      lambda d, r: Sample((Arg(wc((2, 2), d, r).array.astype(np.float32)), A((2, 1), d, r)),
                                          desc="A float32", gradcheck=False)),
           dtypes=(f64,), ops=(LM.solve_triangular_op,), **TOL32))


# -- LU ------------------------------------------------------------------------------------------------------------
def _lu_samples(d, r):
    yield Sample((gen((3, 3), d, r),), desc="square")
    yield Sample((gen((2, 3, 3), d, r),), desc="batch")
    yield Sample((gen((3, 5), d, r),), desc="wide")
    yield Sample((gen((4, 2), d, r),), desc="tall")


_SING = lambda: [E(Arg(np.zeros((2, 2)), False)), E(F((3,))), E(ints([[1, 2], [3, 4]]))]  # noqa: E731
add(OpInfo("linalg.lu_factor", lambda lib, a: lib.linalg.lu_factor(a), _lu_samples, ops=(LM.lu_factor_op,), **TOL32,
           errors=_SING),
    OpInfo("linalg.lu_factor_ex", lambda lib, a, **kw: lib.linalg.lu_factor_ex(a, **kw), samples_of(
        lambda d, r: Sample((gen((3, 3), d, r),), desc="square"),
        lambda d, r: Sample((Arg(np.zeros((2, 3, 3), d), False),), desc="singular: info"),
        lambda d, r: Sample((Arg(np.array([[1.0, 2.0], [2.0, 4.0]], d), False),), desc="rank 1: info 2")),
        ops=(LM.lu_factor_op,), **TOL32,
        errors=lambda: [E(Arg(np.zeros((2, 2)), False), check_errors=True)]),
    OpInfo("lu", _quiet(lambda lib, a, *kw: lib.lu(a, *kw)), samples_of(
        lambda d, r: Sample((gen((3, 3), d, r),), desc="square"),
        lambda d, r: Sample((gen((3, 3), d, r), True, True), desc="get_infos")), ops=(LM.lu_factor_op,), **TOL32),
    OpInfo("linalg.lu", lambda lib, a: lib.linalg.lu(a), _lu_samples, ops=(LM.plu_op, LM.solve_triangular_op),
           **TOL32, errors=lambda: [E(F((3,))), E(ints([[1, 2], [3, 4]]))]),
    OpInfo("lu_unpack", lambda lib, a, *f: lib.lu_unpack(*lib.linalg.lu_factor(a), *f), samples_of(
        lambda d, r: Sample((gen((3, 3), d, r),), desc="square"),
        lambda d, r: Sample((gen((3, 5), d, r),), desc="wide"),
        lambda d, r: Sample((gen((4, 2), d, r),), desc="tall"),
        lambda d, r: Sample((gen((3, 3), d, r), True, False), desc="no pivots")), ops=(LM.lu_unpack_op,), **TOL32),
    OpInfo("lu_unpack(unpack_data=False)", lambda lib, a: lib.lu_unpack(*lib.linalg.lu_factor(a), False), samples_of(
        lambda d, r: Sample((gen((3, 3), d, r),), desc="empty L and U: backward fails, as torch's", gradcheck=False)),
        differentiable=False),
    )


def _lu_solve_samples(d, r):
    yield Sample((gen((3, 3), d, r), A((3, 2), d, r)), desc="left")
    yield Sample((gen((3, 3), d, r), A((3, 2), d, r)), dict(adjoint=True), desc="adjoint")
    yield Sample((gen((3, 3), d, r), A((2, 3), d, r)), dict(left=False), desc="right")
    yield Sample((gen((3, 3), d, r), A((2, 3), d, r)), dict(left=False, adjoint=True), desc="right adjoint")
    yield Sample((gen((2, 3, 3), d, r), A((3, 1), d, r)), desc="batch")


def _linalg_lu_solve(lib, a, b, **kw):
    LU, piv = lib.linalg.lu_factor(a)
    return lib.linalg.lu_solve(LU, piv, b, **kw)


add(OpInfo("linalg.lu_solve", _linalg_lu_solve, _lu_solve_samples, ops=(LM.lu_solve_op,), **TOL32,
           errors=lambda: [E(F((2, 2)), F((3, 2))), E(F((2, 2)), F((2, 2), np.float32))]),
    OpInfo("lu_solve", _quiet(lambda lib, a, b: lib.lu_solve(b, *lib.linalg.lu_factor(a))), samples_of(
        lambda d, r: Sample((gen((3, 3), d, r), A((3, 2), d, r)))), ops=(LM.lu_solve_op,), **TOL32),
    )


# -- *_ex ----------------------------------------------------------------------------------------------------------
_SING2 = lambda d: Arg(np.array([[1.0, 2.0], [2.0, 4.0]], d), False)  # noqa: E731
add(OpInfo("linalg.inv_ex", lambda lib, a, **kw: lib.linalg.inv_ex(a, **kw), samples_of(
    lambda d, r: Sample((wc((3, 3), d, r),), desc="invertible"),
    lambda d, r: Sample((wc((2, 2, 2), d, r),), desc="batch"),
    lambda d, r: Sample((_SING2(d),), desc="singular: inf and info")), ops=(LM.inv_ex_op,), **TOL32,
    errors=lambda: [E(_SING2(f64), check_errors=True)]),
    OpInfo("linalg.solve_ex", lambda lib, a, b, **kw: lib.linalg.solve_ex(a, b, **kw), samples_of(
        lambda d, r: Sample((wc((3, 3), d, r), A((3, 2), d, r)), desc="matrix"),
        lambda d, r: Sample((wc((3, 3), d, r), A((3,), d, r)), desc="vector"),
        lambda d, r: Sample((_SING2(d), Arg(np.ones(2, d), False)), desc="singular")), ops=(X.solve_op,), **TOL32,
        errors=lambda: [E(_SING2(f64), Arg(np.ones(2), False), check_errors=True)]),
    )


# -- rank, cond ----------------------------------------------------------------------------------------------------
def _rank_samples(d, r):
    b, c = make((3, 2), d, r), make((2, 4), d, r)
    yield Sample((Arg(np.asarray(b @ c, d), False),), desc="rank 2 of 3x4")
    yield Sample((wc((2, 3, 3), d, r),), desc="full rank, batch")
    yield Sample((Arg(np.asarray(b @ b.T, d), False),), dict(hermitian=True), desc="hermitian")
    yield Sample((wc((3, 3), d, r),), dict(atol=3.5), desc="atol")
    yield Sample((wc((3, 3), d, r),), dict(rtol=0.9), desc="rtol")


add(OpInfo("linalg.matrix_rank", lambda lib, a, **kw: lib.linalg.matrix_rank(a, **kw), _rank_samples,
           differentiable=False, errors=lambda: [E(F((3,)))]))


def _cond_samples(d, r):
    yield Sample((wc((3, 3), d, r),), desc="p=None")
    yield Sample((A((4, 3), d, r, distinct=True), 2), desc="p=2, rectangular")
    yield Sample((wc((3, 3), d, r), -2), desc="p=-2")
    yield Sample((wc((3, 3), d, r), "nuc"), desc="nuc")
    for p in ("fro", 1, -1, float("inf"), float("-inf")):
        yield Sample((wc((3, 3), d, r), p), desc=f"p={p}", xfail=_COND_GRAD)
    yield Sample((_SING2(d), "fro"), desc="singular: inf", gradcheck=False)


add(OpInfo("linalg.cond", lambda lib, a, *p: lib.linalg.cond(a, *p), _cond_samples, **TOL32,
           errors=lambda: [E(F((2, 3)), "fro"), E(F((2, 2)), 3), E(F((3,)))]))


# -- eig -----------------------------------------------------------------------------------------------------------
def _eig(lib, a):
    Lv, V = lib.linalg.eig(a)
    return Lv.real, Lv.imag, V.abs()


add(OpInfo("linalg.eig", _eig, samples_of(
    lambda d, r: Sample((A((3, 3), d, r, distinct=True),), desc="3x3"),
    lambda d, r: Sample((Arg(np.asarray([[1.0, -2.0], [1.5, 0.5]], d)),), desc="complex pair"),
    lambda d, r: Sample((A((2, 2, 2), d, r, distinct=True),), desc="batch")), ops=(LM.eig_op,), gradgrad=False,
    **TOL32, errors=lambda: [E(F((2, 3))), E(ints([[1, 2], [3, 4]]))]),
    OpInfo("linalg.eigvals", lambda lib, a: (lambda v: (v.real, v.imag))(lib.linalg.eigvals(a)), samples_of(
        lambda d, r: Sample((A((3, 3), d, r, distinct=True),), desc="3x3"),
        lambda d, r: Sample((Arg(np.asarray([[1.0, -2.0], [1.5, 0.5]], d)),), desc="complex pair")),
        ops=(LM.eigvals_op,), gradgrad=False, **TOL32),
    )


# -- vecdot, multi_dot, diagonal, tensorinv, tensorsolve -----------------------------------------------------------
add(OpInfo("linalg.vecdot", lambda lib, x, y, **kw: lib.linalg.vecdot(x, y, **kw), samples_of(
    lambda d, r: Sample((A((3, 4), d, r), A((3, 4), d, r)), desc="last dim"),
    lambda d, r: Sample((A((3, 4), d, r), A((4,), d, r)), desc="broadcast"),
    lambda d, r: Sample((A((3, 4), d, r), A((3, 1), d, r)), dict(dim=0), desc="dim 0")), dtypes=FLOATS + (np.int64,),
    errors=lambda: [E(F((3,)), F((4,)))]),
    OpInfo("linalg.multi_dot", lambda lib, *ts: lib.linalg.multi_dot(list(ts)), samples_of(
        lambda d, r: Sample((A((4, 3), d, r), A((3, 3), d, r), A((3, 2), d, r)), desc="three"),
        lambda d, r: Sample((A((2, 5), d, r), A((5, 1), d, r), A((1, 4), d, r), A((4, 3), d, r)), desc="four"),
        lambda d, r: Sample((A((3,), d, r), A((3, 2), d, r), A((2,), d, r)), desc="vectors at the ends"),
        lambda d, r: Sample((A((3, 2), d, r), A((2, 3), d, r)), desc="two")), **TOL32,
        errors=lambda: [E(F((3, 3))), E(F((3, 3)), F((2, 3, 3))), E(F((3, 3)), F((3, 3), np.float32)),
                        E(F((3, 2)), F((3, 2)))]),
    OpInfo("linalg.diagonal", lambda lib, a, **kw: lib.linalg.diagonal(a, **kw), samples_of(
        lambda d, r: Sample((A((3, 4), d, r),), desc="last two"),
        lambda d, r: Sample((A((2, 3, 4), d, r),), dict(offset=1, dim1=0, dim2=2), desc="offset, dims")),
        ops=(X.diagonal_op,)),
    OpInfo("linalg.tensorinv", lambda lib, a, **kw: lib.linalg.tensorinv(a, **kw), samples_of(
        lambda d, r: Sample((Arg(wc((6, 6), d, r).array.reshape(2, 3, 6)),), desc="ind=2"),
        lambda d, r: Sample((Arg(wc((4, 4), d, r).array.reshape(4, 2, 2)),), dict(ind=1), desc="ind=1")),
        ops=(LM.reshape_alias, X.inv_op), **TOL32,
        errors=lambda: [E(F((4, 2, 3))), E(F((4, 2, 8)), ind=0)]),
    OpInfo("linalg.tensorsolve", lambda lib, a, b: lib.linalg.tensorsolve(a, b), samples_of(
        lambda d, r: Sample((Arg(wc((6, 6), d, r).array.reshape(2, 3, 6)), A((2, 3), d, r)), desc="2x3 rhs")),
        ops=(X.solve_op,), **TOL32, errors=lambda: [E(F((2, 3, 5)), F((2, 3)))]),
    )


# -- householder_product / orgqr -----------------------------------------------------------------------------------
def _hh_samples(d, r):
    yield Sample((A((4, 3), d, r), A((2,), d, r, 0.2, 1.5)), desc="k < n")
    yield Sample((A((3, 3), d, r), A((3,), d, r, 0.2, 1.5)), desc="square, k = n")
    yield Sample((A((2, 4, 2), d, r), A((2, 2), d, r, 0.2, 1.5)), desc="batch")


add(OpInfo("linalg.householder_product", lambda lib, a, t: lib.linalg.householder_product(a, t), _hh_samples,
           ops=(LM.householder_op,), **TOL32,
           errors=lambda: [E(F((3,)), F((1,))), E(F((2, 3)), F((1,))), E(F((3, 2)), F((3,))), E(F((3, 2)), F((2, 1))),
                           E(F((3, 2), np.float32), F((1,))), E(ints([[1, 0], [0, 1], [1, 1]]), ints([1]))]),
    OpInfo("orgqr", lambda lib, a, t: lib.orgqr(a, t), _hh_samples, ops=(LM.householder_op,), **TOL32),
    OpInfo("Tensor.orgqr", lambda lib, a, t: a.orgqr(t), _hh_samples, ops=(LM.householder_op,), **TOL32))
