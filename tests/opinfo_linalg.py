"""OpInfo entries of ndgrad/_ops/linalg_ext.py: einsum, tensordot, kron, trace, diag, diagonal, tril/triu, cross,
and ndgrad.linalg (norms, inv, det, slogdet, solve, cholesky, qr, svd, svdvals, eigh, eigvalsh, pinv, matrix_exp).

Samples are well conditioned (diagonally dominant square matrices, SPD matrices built as X Xᵀ + n I inside
the tested function, symmetric matrices with well-separated eigenvalues), since the decompositions'
derivatives are ill-defined at repeated singular values / eigenvalues.

Singular vectors and eigenvectors are unique only up to sign: the tested functions fix the sign by the
first row, so that NumPy's and torch's LAPACK calls are compared, not their sign conventions.
Cholesky and eigh read one triangle only, so they are differentiated through a symmetric input.

Known deviations from torch:
- einsum is one op in ndgrad, registered under the names of torch's last decomposition step (ViewBackward0,
  MulBackward0, SumBackward1, PermuteBackward0), so grad_fn names agree.
- Singular inputs raise ndgrad.linalg.LinAlgError (a RuntimeError subclass) with torch's messages.
- det's gradient at exactly singular matrices uses torch's SVD formula, for every matrix of the batch then.
- diagonal returns a copy, not a view sharing the version counter.
"""
from __future__ import annotations

import numpy as np

from ndgrad._ops import linalg as L
from ndgrad._ops import linalg_ext as X
from ndgrad._ops import pointwise as P
from ndgrad._ops import reduction as Rd
from ndgrad._ops import shape as S
from opinfo import WITH_INT, A, Arg, E, F, OpInfo, Sample, add, f32, f64, ints, make, samples_of

FLOATS = (f64, f32)
TOL32 = dict(rtol={f32: 1e-4}, atol={f32: 1e-4})


def wc(shape, d, r) -> Arg:
    """A well-conditioned (diagonally dominant) square matrix, or a batch of them."""
    n = shape[-1]
    a = make(shape, f64, r, -1.0, 1.0) + np.eye(n) * (n + 1.0)
    return Arg(np.asarray(a, d))


def _neg_det(shape, d, r) -> Arg:
    a = wc(shape, d, r).array
    return Arg(np.ascontiguousarray(a[..., ::-1, :]))  # a row swap: negative determinant


def spd(lib, x):
    n = x.shape[-2]
    return x @ x.mT + lib.eye(n, dtype=x.dtype) * n


def sym(lib, x):
    return x + x.mT


def _fix_sign(lib, U, Vh=None):
    s = lib.sign(U[..., :1, :])
    return (U * s,) if Vh is None else (U * s, Vh * s.mT)


# -- einsum, tensordot, kron ---------------------------------------------------------------------------------
def _einsum_samples(d, r):
    a = lambda *s: A(s, d, r)  # noqa: E731
    yield Sample(("ij,jk->ik", a(3, 4), a(4, 2)), desc="matmul")
    yield Sample(("ij,jk", a(2, 3), a(3, 2)), desc="implicit output")
    yield Sample(("bij,bjk->bik", a(2, 2, 3), a(2, 3, 2)), desc="batched")
    yield Sample(("ii->i", a(3, 3)), desc="diagonal")
    yield Sample(("ii", a(3, 3)), desc="trace")
    yield Sample(("ij->ji", a(2, 3)), desc="transpose")
    yield Sample(("ij->", a(2, 3)), desc="sum")
    yield Sample(("i,j->ij", a(3), a(4)), desc="outer")
    yield Sample(("ij,k->j", a(2, 3), a(2)), desc="summed in one operand only")
    yield Sample(("ij,jk,k->i", a(2, 3), a(3, 2), a(2)), desc="three operands")
    yield Sample(("...ij,...j->...i", a(2, 2, 3), a(3)), desc="ellipsis broadcast")
    yield Sample(("iij->j", a(2, 2, 3)), desc="repeated in one operand")
    yield Sample(("...ij,...jk->...ik", a(1, 2, 3), a(2, 3, 2)), desc="ellipsis, size-1 batch")
    yield Sample(("ij,ij->i", a(3, 2), A((3, 2), d, r, layout="T")), desc="non-contiguous")


def _einsum_list(lib, eq, a, b):
    return lib.einsum(eq, [a, b])


add(OpInfo("einsum", lambda lib, eq, *ops: lib.einsum(eq, *ops), _einsum_samples, dtypes=FLOATS,
           ops=tuple(X._EINSUM_OPS.values()), **TOL32,
           errors=lambda: [E("ij,jk->ik", F((2, 3)), F((2, 3))), E("ij->ik", F((2, 3))), E("ij,jk", F((2, 3))),
                           E("ijk->", F((2, 3))), E("ij,jk->ik", F((2, 3)), F((3, 2), np.float32))]),
    OpInfo("einsum(int)", lambda lib, eq, *ops: lib.einsum(eq, *ops), samples_of(
        lambda d, r: Sample(("ij,jk->ik", A((3, 4), d, r), A((4, 2), d, r)), desc="matmul"),
        lambda d, r: Sample(("ii->i", A((3, 3), d, r)), desc="diagonal")), dtypes=(np.int64, np.int32),
        differentiable=False),
    OpInfo("einsum(list)", _einsum_list, samples_of(
        lambda d, r: Sample(("ij,jk->ik", A((3, 4), d, r), A((4, 2), d, r)), desc="list")),
        ops=(X._EINSUM_OPS["ViewBackward0"],)),
    )


def _tensordot_samples(d, r):
    a = lambda *s: A(s, d, r)  # noqa: E731
    yield Sample((a(3, 4), a(4, 2), 1), desc="dims=1")
    yield Sample((a(2, 3, 4), a(3, 4, 2)), desc="default dims=2")
    yield Sample((a(3, 4, 2), a(2, 3)), dict(dims=([0, 2], [1, 0])), desc="dim lists")
    yield Sample((a(3, 2), a(2)), dict(dims=([1], [0])), desc="to a vector")
    yield Sample((a(2), a(3)), dict(dims=0), desc="dims=0 (outer)")


add(OpInfo("tensordot", lambda lib, a, b, *dims, **kw: lib.tensordot(a, b, *dims, **kw), _tensordot_samples,
           dtypes=FLOATS, ops=(S.permute, S.reshape, L.mm), **TOL32,
           errors=lambda: [E(F((2, 3)), F((2, 3)), 1), E(F((2, 3)), F((3, 2)), dims=([0, 1], [0])),
                           E(F((2, 3)), F((3,)), 3)]),
    OpInfo("kron", lambda lib, a, b: lib.kron(a, b), samples_of(
        lambda d, r: Sample((A((2, 3), d, r), A((3, 2), d, r)), desc="2-d"),
        lambda d, r: Sample((A((3,), d, r), A((2,), d, r)), desc="1-d"),
        lambda d, r: Sample((A((2, 2), d, r), A((2, 1, 2), d, r)), desc="different ndim"),
        lambda d, r: Sample((A((2, 2), d, r, layout="T"), A((3, 2), d, r)), desc="transposed",
                            xfail={"error": "torch's kron raises on this non-contiguous input (its view), ndgrad computes"}),
    ), dtypes=FLOATS + (np.int64,), ops=(P.mul, S.reshape, S.unsafe_view)),
    )


# -- trace, diag, diagonal, tril/triu, cross ------------------------------------------------------------------
def _m(shape, extra=(), desc="", layout="", kw=None):
    return lambda d, r: Sample((A(shape, d, r, layout=layout), *extra), kw or {}, desc=desc)


add(OpInfo("trace", lambda lib, x: lib.trace(x), samples_of(
        _m((3, 3), desc="square"), _m((2, 4), desc="wide"), _m((4, 2), desc="tall, transposed", layout="T")),
        dtypes=WITH_INT, ops=(X.trace_op,), errors=lambda: [E(F((3,))), E(F((2, 2, 2)))]),
    OpInfo("Tensor.trace", lambda lib, x: x.trace(), samples_of(_m((3, 3), desc="square")), ops=(X.trace_op,)),
    OpInfo("diag", lambda lib, x, *k: lib.diag(x, *k), samples_of(
        _m((3,), desc="vector"), _m((3,), (1,), desc="vector, offset 1"), _m((2,), (-2,), desc="vector, offset -2"),
        _m((3, 4), desc="matrix"), _m((3, 4), (2,), desc="matrix, offset 2"), _m((4, 3), (-1,), desc="matrix, -1"),
        _m((3, 3), (5,), desc="offset past the end")),
        dtypes=WITH_INT, ops=(X.diag_embed_op, X.diag_copy_op, X.diagonal_op, X.diagonal_backward),
        errors=lambda: [E(F((2, 2, 2))), E(F(()))]),
    OpInfo("diagonal", lambda lib, x, *a, **kw: lib.diagonal(x, *a, **kw), samples_of(
        _m((3, 4), desc="main"), _m((3, 4), (1,), desc="offset 1"), _m((3, 4), (-2,), desc="offset -2"),
        _m((2, 3, 4), kw=dict(dim1=-1, dim2=0), desc="dims -1, 0"),
        _m((2, 3, 3), kw=dict(offset=1, dim1=1, dim2=2), desc="batched"),
        _m((4, 3), desc="transposed", layout="T")),
        dtypes=WITH_INT, ops=(X.diagonal_op, X.diagonal_backward),
        errors=lambda: [E(F((3, 3)), 0, 0, 0), E(F((3, 3)), 0, 0, 2)]),
    OpInfo("Tensor.diagonal", lambda lib, x: x.diagonal(1), samples_of(_m((3, 3), desc="offset 1")),
           ops=(X.diagonal_op,)),
    )
for _name in ("tril", "triu"):
    add(OpInfo(_name, (lambda n: lambda lib, x, *k: getattr(lib, n)(x, *k))(_name), samples_of(
        _m((3, 4), desc="main"), _m((3, 4), (1,), desc="+1"), _m((4, 3), (-1,), desc="-1"),
        _m((2, 3, 3), desc="batched"), _m((3, 3), desc="transposed", layout="T"), _m((0, 3), desc="empty")),
        dtypes=WITH_INT + (np.bool_,), ops=(getattr(X, _name + "_op"),), errors=lambda: [E(F((3,)))]))
    add(OpInfo(f"Tensor.{_name}", (lambda n: lambda lib, x: getattr(x, n)(-1))(_name),
               samples_of(_m((3, 3), desc="-1")), ops=(getattr(X, _name + "_op"),)))


def _cross_samples(d, r):
    a = lambda *s, **kw: A(s, d, r, **kw)  # noqa: E731
    yield Sample((a(4, 3), a(4, 3)), dict(dim=1), desc="dim 1")
    yield Sample((a(3, 2), a(3, 2)), dict(dim=0), desc="dim 0")
    yield Sample((a(2, 3), a(1, 3)), dict(dim=-1), desc="broadcast")
    yield Sample((a(4, 3, layout="T"), a(4, 3)), dict(dim=1), desc="transposed")
    yield Sample((a(2, 3), a(2, 3)), desc="default dim")


add(OpInfo("cross", lambda lib, a, b, **kw: lib.cross(a, b, **kw), _cross_samples, dtypes=FLOATS + (np.int64,),
           ops=(X.cross_op,), errors=lambda: [E(F((2, 2)), F((2, 2)), dim=1), E(F((3, 2)), F((2, 3)), dim=0)]),
    OpInfo("linalg.cross", lambda lib, a, b, **kw: lib.linalg.cross(a, b, **kw), samples_of(
        lambda d, r: Sample((A((2, 3), d, r), A((2, 3), d, r)), desc="dim -1"),
        lambda d, r: Sample((A((3, 2), d, r), A((3, 1), d, r)), dict(dim=0), desc="dim 0, broadcast")),
        ops=(X.cross_op,), errors=lambda: [E(F((2, 2)), F((2, 2))), E(F((3,)), F((2, 3)))]),
    OpInfo("Tensor.cross", lambda lib, a, b: a.cross(b, dim=0), samples_of(
        lambda d, r: Sample((A((3, 2), d, r), A((3, 2), d, r)), desc="dim 0")), ops=(X.cross_op,)),
    )


# -- norms -----------------------------------------------------------------------------------------------------
def _vnorm_samples(d, r):
    a = lambda *s, **kw: A(s, d, r, away=(0,), **kw)  # noqa: E731
    yield Sample((a(3, 4),), desc="2, all")
    yield Sample((a(3, 4), 1), dict(dim=1), desc="1, dim 1")
    yield Sample((a(3, 4), 3), dict(dim=0, keepdim=True), desc="3, keepdim")
    yield Sample((a(2, 3, 4), 1.5), dict(dim=(0, 2)), desc="1.5, dims (0, 2)")
    yield Sample((a(3, 4), 0.5), dict(dim=-1), desc="0.5")
    yield Sample((a(3, 4), float("inf")), dict(dim=1), desc="inf")
    yield Sample((a(3, 4), -float("inf")), desc="-inf")
    yield Sample((a(3, 4), 0), desc="0", xfail={"grad": "torch gives no gradient (None) for ord=0, ndgrad zeros"})
    yield Sample((a(3, 4), -1), dict(dim=0), desc="-1")
    yield Sample((a(5),), desc="1-d")
    yield Sample((a(4, 3, layout="T"),), dict(dim=0), desc="transposed")
    yield Sample((Arg(np.zeros((2, 3), d)),), dict(dim=1), desc="zero vectors", gradcheck=False)


def _mnorm_samples(d, r):
    a = lambda *s, **kw: A(s, d, r, **kw)  # noqa: E731
    for o in ("fro", "nuc", 2, -2, 1, -1, float("inf"), -float("inf")):
        yield Sample((a(3, 4), o), desc=f"ord {o}")
    yield Sample((a(2, 3, 3), "nuc"), desc="batched nuc")
    yield Sample((a(2, 3, 2), 1), dict(dim=(0, 2)), desc="dims (0, 2)")
    yield Sample((a(2, 3, 2),), dict(keepdim=True), desc="fro keepdim")
    yield Sample((a(2, 3, 2), "nuc"), dict(keepdim=True), desc="nuc keepdim")
    yield Sample((a(2, 3, 2), -1), dict(dim=(2, 0), keepdim=True), desc="-1, dims (2, 0), keepdim")
    yield Sample((a(4, 3, layout="T"), 2), desc="transposed")


def _norm_samples(d, r):
    a = lambda *s, **kw: A(s, d, r, away=(0,), **kw)  # noqa: E731
    yield Sample((a(3, 4),), desc="default")
    yield Sample((a(5), 3), desc="vector ord 3")
    yield Sample((a(3, 4), "nuc"), desc="nuc")
    yield Sample((a(3, 4), 2), desc="matrix ord 2")
    yield Sample((a(3, 4), float("inf")), desc="matrix inf")
    yield Sample((a(2, 3, 4), None, (1, 2)), desc="dims pair")
    yield Sample((a(2, 3, 4), 1, 2), desc="int dim")


NORM_OPS = (X.vector_norm_op, X.svdvals_op, X.svd_op, Rd.sum_dim, Rd.amax, Rd.amin, S.permute)
add(OpInfo("linalg.vector_norm", lambda lib, x, *a, **kw: lib.linalg.vector_norm(x, *a, **kw), _vnorm_samples,
           dtypes=FLOATS, ops=(X.vector_norm_op,), **TOL32,
           errors=lambda: [E(ints([1, 2])), E(F((2, 3)), dim=2)]),
    OpInfo("linalg.vector_norm(dtype)", lambda lib, x: lib.linalg.vector_norm(x, dtype=lib.float64), samples_of(
        lambda d, r: Sample((A((3, 2), d, r),), desc="to float64")), dtypes=FLOATS,
        ops=(X.vector_norm_op, P.cast)),
    OpInfo("linalg.matrix_norm", lambda lib, x, *a, **kw: lib.linalg.matrix_norm(x, *a, **kw), _mnorm_samples,
           dtypes=FLOATS, ops=NORM_OPS, **TOL32,
           errors=lambda: [E(F((3,))), E(F((2, 2)), 3), E(F((2, 2)), dim=(0, 0)), E(ints([[1, 2]]))]),
    OpInfo("linalg.norm", lambda lib, x, *a, **kw: lib.linalg.norm(x, *a, **kw), _norm_samples, dtypes=FLOATS,
           ops=(X.vector_norm_op, X.svdvals_op, Rd.amax, Rd.sum_dim), **TOL32,
           errors=lambda: [E(F((2, 2, 2)), 2), E(F((2, 2, 2)), "fro")]),
    )


# -- inverse, determinants, solve -----------------------------------------------------------------------------
def _square_samples(d, r):
    yield Sample((wc((3, 3), d, r),), desc="3x3")
    yield Sample((wc((2, 3, 3), d, r),), desc="batched")
    yield Sample((_neg_det((3, 3), d, r),), desc="negative determinant")
    yield Sample((Arg(np.ascontiguousarray(wc((3, 3), d, r).array.T).T),), desc="transposed")
    yield Sample((wc((1, 1), d, r),), desc="1x1")


def _det_samples(d, r):
    yield from _square_samples(d, r)
    b, c = make((3, 2), f64, r), make((2, 3), f64, r)
    yield Sample((Arg(np.asarray(b @ c, d)),), desc="singular (rank 2): torch's SVD formula")
    yield Sample((Arg(np.asarray(np.stack([b @ c, np.eye(3) * 2 + c.T @ b.T]), d)),), desc="batch with a singular")


def _square_errors():
    return [E(F((2, 3))), E(F((3,))), E(ints([[1, 2], [3, 4]]))]


add(OpInfo("linalg.inv", lambda lib, a: lib.linalg.inv(a), _square_samples, dtypes=FLOATS, ops=(X.inv_op, L.matmul_nd),
           errors=_square_errors, **TOL32),
    OpInfo("Tensor.inverse", lambda lib, a: a.inverse(), samples_of(lambda d, r: Sample((wc((3, 3), d, r),))),
           ops=(X.inv_op,)),
    OpInfo("linalg.det", lambda lib, a: lib.linalg.det(a), _det_samples, dtypes=FLOATS, ops=(X.det_op, X.svd_op, Rd.prod_others),
           errors=_square_errors, **TOL32),
    OpInfo("Tensor.det", lambda lib, a: a.det(), samples_of(lambda d, r: Sample((wc((3, 3), d, r),))),
           ops=(X.det_op,)),
    OpInfo("linalg.slogdet", lambda lib, a: tuple(lib.linalg.slogdet(a)), _square_samples, dtypes=FLOATS,
           ops=(X.slogdet_op, X.inv_op), errors=_square_errors, **TOL32),
    OpInfo("linalg.slogdet(logabsdet)", lambda lib, a: lib.linalg.slogdet(a).logabsdet, _square_samples,
           ops=(X.slogdet_op,)),
    OpInfo("linalg.matrix_exp", lambda lib, a: lib.linalg.matrix_exp(a), samples_of(
        lambda d, r: Sample((A((3, 3), d, r, -1.0, 1.0),), desc="3x3"),
        lambda d, r: Sample((A((2, 2, 2), d, r, -1.0, 1.0),), desc="batched"),
        lambda d, r: Sample((A((3, 3), d, r, -3.0, 3.0),), desc="large norm (squaring)"),
        lambda d, r: Sample((A((2, 2), d, r, -1.0, 1.0, layout="T"),), desc="transposed")),
        dtypes=FLOATS, ops=(X.matrix_exp_op, S.cat, S.narrow), rtol={f32: 1e-4, f64: 1e-6}, atol={f32: 1e-4},
        errors=_square_errors),
    )


def _solve_samples(d, r):
    yield Sample((wc((3, 3), d, r), A((3,), d, r)), desc="vector")
    yield Sample((wc((3, 3), d, r), A((3, 2), d, r)), desc="matrix")
    yield Sample((wc((2, 3, 3), d, r), A((2, 3), d, r)), desc="batched vector")
    yield Sample((wc((2, 3, 3), d, r), A((3, 2), d, r)), desc="broadcast B")
    yield Sample((wc((3, 3), d, r), A((2, 3, 1), d, r)), desc="broadcast A")
    yield Sample((wc((3, 3), d, r), A((2, 3), d, r)), dict(left=False), desc="left=False")


add(OpInfo("linalg.solve", lambda lib, a, b, **kw: lib.linalg.solve(a, b, **kw), _solve_samples, dtypes=FLOATS,
           ops=(X.solve_op,), **TOL32,
           errors=lambda: [E(F((2, 3)), F((2,))), E(F((3, 3)), F((2,))), E(F((3, 3)), F((3,), np.float32))]))


# -- decompositions --------------------------------------------------------------------------------------------
def _chol(lib, x, **kw):
    return lib.linalg.cholesky(spd(lib, x), **kw)


add(OpInfo("linalg.cholesky", _chol, samples_of(
        lambda d, r: Sample((A((3, 3), d, r),), desc="3x3"),
        lambda d, r: Sample((A((2, 3, 3), d, r),), desc="batched"),
        lambda d, r: Sample((A((3, 3), d, r),), dict(upper=True), desc="upper"),
        lambda d, r: Sample((A((3, 2), d, r),), desc="3x3 from a tall X")),
        dtypes=FLOATS, ops=(X.cholesky_op, X.tril_op, X.inv_op), **TOL32,
        errors=None),
    OpInfo("linalg.cholesky(errors)", lambda lib, a: lib.linalg.cholesky(a), samples_of(), differentiable=False,
           errors=lambda: [E(F((2, 3))), E(F((3,))), E(ints([[1, 0], [0, 1]]))]),
    )


def _qr_samples(d, r):
    yield Sample((A((4, 3), d, r),), desc="tall")
    yield Sample((A((3, 3), d, r),), desc="square")
    yield Sample((A((2, 4), d, r),), desc="wide")
    yield Sample((A((2, 3, 2), d, r),), desc="batched")
    yield Sample((A((2, 4), d, r), "complete"), desc="complete, wide")
    yield Sample((A((3, 3), d, r), "complete"), desc="complete, square")
    yield Sample((A((4, 3), d, r, layout="T"),), desc="transposed")


add(OpInfo("linalg.qr", lambda lib, a, *m: tuple(lib.linalg.qr(a, *m)), _qr_samples, dtypes=FLOATS,
           ops=(X.qr_op, X.tril_op, X.inv_op, S.cat, S.narrow), **TOL32,
           errors=lambda: [E(F((3,))), E(F((2, 2)), "full"), E(ints([[1, 2]]))]),
    OpInfo("linalg.qr(mode=r)", lambda lib, a: lib.linalg.qr(a, mode="r").R, samples_of(
        lambda d, r: Sample((A((4, 3), d, r),), desc="tall")), ops=(X.qr_op,),
        differentiable=False),  # backward refuses, as torch's: compared by test_against_torch
    OpInfo("linalg.qr(complete, tall)", lambda lib, a: lib.linalg.qr(a, mode="complete").R, samples_of(
        lambda d, r: Sample((A((4, 3), d, r),), desc="tall")), ops=(X.qr_op,),
        differentiable=False),  # backward refuses, as torch's
    )


def _svd_fn(lib, a, *args):
    U, S_, Vh = lib.linalg.svd(a, *args)
    return (*_fix_sign(lib, U, Vh), S_)


def _svd_samples(d, r):
    yield Sample((A((4, 3), d, r), False), desc="tall")
    yield Sample((A((2, 4), d, r), False), desc="wide")
    yield Sample((A((3, 3), d, r), False), desc="square")
    yield Sample((A((2, 3, 2), d, r), False), desc="batched")
    yield Sample((A((3, 3), d, r),), desc="full_matrices, square")
    yield Sample((A((3, 3), d, r, layout="T"), False), desc="transposed")


add(OpInfo("linalg.svd", _svd_fn, _svd_samples, dtypes=FLOATS,
           ops=(X.svd_op, X.diag_embed_op), **TOL32, errors=lambda: [E(F((3,))), E(ints([[1, 2]]))]),
    OpInfo("linalg.svd(S only)", lambda lib, a: lib.linalg.svd(a, full_matrices=True).S, samples_of(
        lambda d, r: Sample((A((4, 2), d, r),), desc="full_matrices, tall")), ops=(X.svd_op,)),
    OpInfo("linalg.svdvals", lambda lib, a: lib.linalg.svdvals(a), samples_of(
        lambda d, r: Sample((A((4, 3), d, r),), desc="tall"),
        lambda d, r: Sample((A((2, 4), d, r),), desc="wide"),
        lambda d, r: Sample((A((2, 3, 3), d, r),), desc="batched")), dtypes=FLOATS,
        ops=(X.svdvals_op, X.svd_op), **TOL32, errors=lambda: [E(F((3,)))]),
    )


def _eigh_fn(lib, a, *args):
    w, V = lib.linalg.eigh(sym(lib, a), *args)
    return (w, *_fix_sign(lib, V))


def _eigh_samples(d, r):
    yield Sample((A((3, 3), d, r),), desc="3x3")
    yield Sample((A((2, 3, 3), d, r),), desc="batched")
    yield Sample((A((3, 3), d, r), "U"), desc="UPLO=U")
    yield Sample((A((3, 3), d, r, layout="T"),), desc="transposed")


add(OpInfo("linalg.eigh", _eigh_fn, _eigh_samples, dtypes=FLOATS, ops=(X.eigh_op, X.diag_embed_op), **TOL32),
    OpInfo("linalg.eigh(errors)", lambda lib, a, *u: lib.linalg.eigh(a, *u), samples_of(), differentiable=False,
           errors=lambda: [E(F((2, 3))), E(F((2, 2)), "X"), E(F((3,))), E(ints([[1, 0], [0, 1]]))]),
    OpInfo("linalg.eigvalsh", lambda lib, a, *u: lib.linalg.eigvalsh(sym(lib, a), *u), _eigh_samples, dtypes=FLOATS,
           ops=(X.eigvalsh_op, X.eigh_op), **TOL32),
    OpInfo("linalg.eigvalsh(errors)", lambda lib, a, *u: lib.linalg.eigvalsh(a, *u), samples_of(),
           differentiable=False, errors=lambda: [E(F((2, 3))), E(F((2, 2)), "X"), E(ints([[1, 0], [0, 1]]))]),
    OpInfo("linalg.eigh(lower triangle only)", lambda lib, a: lib.linalg.eigh(a).eigenvalues, samples_of(
        lambda d, r: Sample((A((3, 3), d, r),), desc="non-symmetric input", gradcheck=False)), ops=(X.eigh_op,)),
    )

add(OpInfo("linalg.pinv", lambda lib, a, **kw: lib.linalg.pinv(a, **kw), samples_of(
        lambda d, r: Sample((A((4, 3), d, r),), desc="tall"),
        lambda d, r: Sample((A((2, 4), d, r),), desc="wide"),
        lambda d, r: Sample((wc((3, 3), d, r),), desc="square"),
        lambda d, r: Sample((A((2, 3, 2), d, r),), desc="batched"),
        lambda d, r: Sample((A((4, 3), d, r, layout="T"),), desc="transposed")),
        dtypes=FLOATS, ops=(X.pinv_op,), **TOL32, errors=lambda: [E(F((3,))), E(ints([[1, 2]]))]))


def _lstsq_samples(d, r):
    yield Sample((A((4, 3), d, r), A((4, 2), d, r)), desc="tall")
    yield Sample((A((4, 3), d, r), A((4,), d, r)), desc="vector B")
    yield Sample((wc((3, 3), d, r), A((3, 2), d, r)), desc="square")
    yield Sample((A((2, 4), d, r), A((2, 3), d, r)), desc="wide (minimum norm)")
    yield Sample((A((2, 4, 3), d, r), A((2, 4, 1), d, r)), desc="batched")
    yield Sample((A((4, 3), d, r), A((4, 2), d, r)), dict(driver="gels"), desc="gels: residuals")
    yield Sample((A((4, 3), d, r), A((4,), d, r)), dict(driver="gelsd"), desc="gelsd: vector residuals, singular values")
    yield Sample((A((2, 4, 3), d, r), A((2, 4, 2), d, r)), dict(driver="gelss"), desc="gelss, batched")


add(OpInfo("linalg.lstsq", lambda lib, a, b, **kw: tuple(lib.linalg.lstsq(a, b, **kw)), _lstsq_samples,
           dtypes=FLOATS, ops=(X.lstsq_op, X.pinv_op), **TOL32,
           errors=lambda: [E(F((3,)), F((3,))), E(F((4, 3)), F((3, 2))), E(F((4, 3)), F((4, 2), np.float32)),
                           E(F((4, 3)), F((4, 2)), driver="xyz")]),
    OpInfo("linalg.lstsq(solution)", lambda lib, a, b, **kw: lib.linalg.lstsq(a, b, **kw).solution, _lstsq_samples,
           ops=(X.lstsq_op,)),
    )
