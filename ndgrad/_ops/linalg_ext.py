"""Linear algebra beyond products: einsum, tensordot, triangular parts, and torch.linalg ops.

Public functions (with torch's signatures) are listed in `__all__` and exported as `ndgrad.X`;
`METHODS` maps Tensor method names to functions taking the tensor first. Both are wired in by
`ndgrad/_ops/__init__.py` and `ndgrad/_methods.py`. `LINALG` feeds `ndgrad.linalg`.

Every derivative formula is written with ndgrad ops (mostly the ops of this file: inv, solve, svd,
eigh, matrix_exp, tril, diagonal...), so the same formula runs on arrays in backward and on Tensors
under create_graph (higher derivatives). Decompositions follow torch's documented backward formulas,
which are ill-defined at repeated singular values / eigenvalues.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from .._tensor import Tensor, _wrap
from . import linalg as L
from . import pointwise as P
from . import reduction as Rd
from . import shape as S
from . import _lapack
from ._lapack import LinAlgError  # noqa: F401  (ndgrad.linalg.LinAlgError)
from ._registry import NONE, PROMOTE, SAME, Op
from .._warn import warn as _warn

__all__: list[str] = ["einsum", "tensordot", "kron", "trace", "diag", "diagonal", "tril", "triu", "cross"]
METHODS: dict = {}
LINALG: dict = {}  # name -> function, exported as ndgrad.linalg.<name>

_TN = L._TN
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


# -- helpers usable in formulas (arrays or Tensors) ------------------------------------------------------------
def _raw(x):
    return x._data if isinstance(x, Tensor) else x


def _c(arr, like):
    """A constant array, as a Tensor when the formula runs on Tensors."""
    return _wrap(np.ascontiguousarray(arr)) if isinstance(like, Tensor) else arr


def _mT(x):
    return S.transpose(x, -2, -1)


def _mm(a, b):
    return L.matmul_nd(a, b)


def _eye_like(x, n):
    return _c(np.eye(n, dtype=_raw(x).dtype), x)


def _check_tensor(x, name, arg="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' (position 1) must be Tensor, not {type(x).__name__}")


def _check_float(x, name):
    if x._data.dtype.kind not in "fcV":
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. "
                           f"Got {_TN.get(str(x._data.dtype))}")


def _check_square(x, name, arg="A"):
    if x.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor {arg} must have at least 2 dimensions.")
    if x.shape[-1] != x.shape[-2]:
        raise RuntimeError(f"{name}: {arg} must be batches of square matrices, but they are "
                           f"{x.shape[-2]} by {x.shape[-1]} matrices")


def _square_float(x, name):
    _check_tensor(x, name, "A")
    _check_square(x, name)
    _check_float(x, name)


# -- triangular parts ---------------------------------------------------------------------------------------
tril_op = Op("tril", lambda self, diagonal: np.tril(self, diagonal), ("self",), ("diagonal",), dtype=SAME)
triu_op = Op("triu", lambda self, diagonal: np.triu(self, diagonal), ("self",), ("diagonal",), dtype=SAME)
tril_op.defvjp(self=lambda grad, diagonal: tril_op(grad, diagonal))
triu_op.defvjp(self=lambda grad, diagonal: triu_op(grad, diagonal))


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    _check_tensor(input, "tril")
    if input.ndim < 2:
        raise RuntimeError("tril: input tensor must have at least 2 dimensions")
    return tril_op(input, int(diagonal))


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    _check_tensor(input, "triu")
    if input.ndim < 2:
        raise RuntimeError("triu: input tensor must have at least 2 dimensions")
    return triu_op(input, int(diagonal))


# -- diagonals ----------------------------------------------------------------------------------------------
def _diag_idx(length, offset):
    i = np.arange(length)
    return (i, i + offset) if offset >= 0 else (i - offset, i)


def _diagonal_backward(grad, shape, offset, dim1, dim2):
    out = np.zeros(shape, grad.dtype)
    v = np.moveaxis(out, (dim1, dim2), (-2, -1))
    r, c = _diag_idx(grad.shape[-1], offset)
    v[..., r, c] = grad
    return out


def _diagonal(self, offset, dim1, dim2):
    return np.diagonal(self, offset, dim1, dim2).copy()


diagonal_op = Op("diagonal", _diagonal, ("self",), ("offset", "dim1", "dim2"), node="DiagonalBackward0",
                 dtype=SAME)
diag_copy_op = Op("diagonal", _diagonal, ("self",), ("offset", "dim1", "dim2"), node="DiagonalBackward0_copy",
                  dtype=SAME)
diagonal_backward = Op("diagonal_backward", _diagonal_backward, ("grad",), ("shape", "offset", "dim1", "dim2"),
                       node="DiagonalBackwardBackward0", dtype=SAME)
for _o in (diagonal_op, diag_copy_op):
    _o.defvjp(self=lambda grad, self_shape, offset, dim1, dim2:
              diagonal_backward(grad, self_shape, offset, dim1, dim2))
diagonal_backward.defvjp(grad=lambda grad, offset, dim1, dim2: diagonal_op(grad, offset, dim1, dim2))


def _diag_embed(self, offset):
    n = self.shape[-1] + abs(offset)
    return _diagonal_backward(self, self.shape[:-1] + (n, n), offset, -2, -1)


diag_embed_op = Op("diag_embed", _diag_embed, ("self",), ("offset",), node="DiagEmbedBackward0", dtype=SAME)
diag_embed_op.defvjp(self=lambda grad, offset: diagonal_op(grad, offset, -2, -1))


def _wrapdim(d, n, name="dim"):
    if not -max(n, 1) <= d < max(n, 1):
        raise IndexError(f"Dimension out of range (expected to be in range of [{-max(n, 1)}, {max(n, 1) - 1}], "
                         f"but got {d})")
    return d % max(n, 1)


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    _check_tensor(input, "diagonal")
    d1, d2 = _wrapdim(dim1, input.ndim), _wrapdim(dim2, input.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return diagonal_op(input, int(offset), d1, d2)


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    _check_tensor(input, "diag")
    if input.ndim == 1:
        return diag_embed_op(input, int(diagonal))
    if input.ndim == 2:
        return diag_copy_op(input, int(diagonal), 0, 1)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")


def _trace(self):
    if self.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {self.ndim}")
    return np.asarray(np.trace(self, dtype=np.int64 if self.dtype.kind in "biu" else None))


trace_op = Op("trace", _trace, ("self",), node="TraceBackward0", dtype=SAME)
trace_op.defvjp(self=lambda grad, self_shape: grad * _c(np.eye(*self_shape, dtype=_raw(grad).dtype), grad))


def trace(input: Tensor) -> Tensor:
    _check_tensor(input, "trace")
    return trace_op(input)


# -- cross ---------------------------------------------------------------------------------------------------
def _cross(self, other, dim):
    a, b = np.broadcast_arrays(self, other) if self.shape != other.shape else (self, other)
    return np.cross(a, b, axis=dim)


cross_op = Op("linalg_cross", _cross, ("self", "other"), ("dim",), node="LinalgCrossBackward0", dtype=PROMOTE)
cross_op.defvjp(self=lambda grad, other, dim: cross_op(other, grad, dim),
                other=lambda grad, self, dim: cross_op(grad, self, dim))


def _linalg_cross(input, other, *, dim=-1):
    return _cross_impl(input, other, dim)


def _cross_impl(input, other, dim):
    _check_tensor(input, "linalg_cross")
    if input.ndim != other.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    try:
        shape = np.broadcast_shapes(tuple(input.shape), tuple(other.shape))
    except ValueError:
        raise RuntimeError("The size of tensor a must match the size of tensor b at a non-singleton "
                           "dimension") from None
    d = _wrapdim(dim, len(shape))
    if input.shape[d] != 3 or other.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. "
                           f"Got {input.shape[d]} and {other.shape[d]}")
    return cross_op(input, other, d)


def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:
    _check_tensor(input, "cross")
    if dim is None:
        try:
            shape = np.broadcast_shapes(tuple(input.shape), tuple(other.shape))
        except ValueError:
            raise RuntimeError("The size of tensor a must match the size of tensor b at a non-singleton "
                               "dimension") from None
        dims = [i for i, s in enumerate(shape) if s == 3]
        if not dims:
            raise RuntimeError("no dimension of size 3 in input")
        dim = dims[0]
        _warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the dim "
              "explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to agree "
              "with that of linalg.cross in a future release.", UserWarning, stacklevel=2)
    return _cross_impl(input, other, dim)


# -- kron, tensordot ---------------------------------------------------------------------------------------
def kron(input: Tensor, other: Tensor) -> Tensor:
    _check_tensor(input, "kron")
    n = max(input.ndim, other.ndim)
    sa = (1,) * (n - input.ndim) + tuple(input.shape)
    sb = (1,) * (n - other.ndim) + tuple(other.shape)
    a = S.reshape(input, tuple(x for s in sa for x in (s, 1)))
    b = S.reshape(other, tuple(x for s in sb for x in (1, s)))
    return S.unsafe_view(a * b, tuple(x * y for x, y in zip(sa, sb)))


def tensordot(a: Tensor, b: Tensor, dims: Any = 2, out: Any = None) -> Tensor:
    _check_tensor(a, "tensordot", "a")
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > a.ndim or dims > b.ndim:
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    elif isinstance(dims, Tensor):
        v = dims._data.tolist()
        da, db = ([v[0]], [v[1]]) if dims.ndim == 1 else (list(v[0]), list(v[1]))
    elif not isinstance(dims, (list, tuple)) or len(dims) != 2:
        raise RuntimeError("tensordot expects dims to be int or tuple[list[int], list[int]] or list[list[int]] "
                           f"containing two lists, but got dims={dims}")
    else:
        da, db = dims
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
    if len(da) != len(db):
        raise RuntimeError("both dimension lists should have same length")
    da = [_wrapdim(d, a.ndim) for d in da]
    db = [_wrapdim(d, b.ndim) for d in db]
    for x, y in zip(da, db):
        if a.shape[x] != b.shape[y]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {a.shape[x]} in dim {x} "
                               f"and second has size {b.shape[y]} in dim {y}")
    fa = [i for i in range(a.ndim) if i not in da]
    fb = [i for i in range(b.ndim) if i not in db]
    k = int(np.prod([a.shape[i] for i in da]))
    m = int(np.prod([a.shape[i] for i in fa]))
    n = int(np.prod([b.shape[i] for i in fb]))
    am = S.reshape(S.permute(a, tuple(fa + da)), (m, k))
    bm = S.reshape(S.permute(b, tuple(db + fb)), (k, n))
    return S.reshape(L.mm(am, bm), tuple(a.shape[i] for i in fa) + tuple(b.shape[i] for i in fb))


# -- einsum ------------------------------------------------------------------------------------------------
def _einsum_fwd(self, other, eq, consts):
    subs, out = eq
    ops = [self] + ([] if other is None else [other]) + list(consts)
    return np.asarray(np.einsum(",".join(subs) + "->" + out, *ops, optimize=len(ops) > 2))


# torch has no einsum node: its grad_fn is the last op of its decomposition, which (measured on torch 2.13) is
# ViewBackward0 (the bmm's result viewed) when two or more operands have an index summed, MulBackward0 when none
# is, SumBackward1 for one operand with an index summed, PermuteBackward0 for one operand without (a transpose or
# a diagonal). ndgrad's einsum is one op: the same op, registered under each of these names.
_EINSUM_NODES = ("ViewBackward0", "MulBackward0", "SumBackward1", "PermuteBackward0")
_EINSUM_OPS = {n: Op("einsum", _einsum_fwd, ("self", "other"), ("eq", "consts"), node=n, dtype=NONE)
               for n in _EINSUM_NODES}
einsum_op = _EINSUM_OPS["ViewBackward0"]


def _einsum_for(subs, out: str, n_operands: int) -> Op:
    """The einsum op named as torch's last node for an equation of `n_operands` operands (`subs`: all of their
    subscripts, which decide whether an index is summed)."""
    summed = any(ch not in out for s in subs for ch in s)
    if n_operands > 1:
        return _EINSUM_OPS["ViewBackward0" if summed else "MulBackward0"]
    return _EINSUM_OPS["SumBackward1" if summed else "PermuteBackward0"]


def _fresh(used):
    for ch in _LETTERS:
        if ch not in used:
            used.add(ch)
            return ch
    raise RuntimeError("einsum(): too many subscripts")


def _einsum_grad(grad, pos, other, eq, consts, shapes):
    """Gradient for the tensor operand at `pos` (0 or 1) of an einsum: itself one einsum of the gradient,
    the other tensor operand and constants (identity matrices for repeated subscripts, ones for subscripts
    summed only in this operand)."""
    subs, out = eq
    n_t = 2 if len(subs) - len(consts) == 2 else 1
    target = subs[pos]
    shape = shapes[pos]
    other_sub = [subs[1 - pos]] if n_t == 2 else []
    const_subs = list(subs[n_t:])
    new_consts = list(consts)
    used = set("".join(subs) + out)
    present = set(out + "".join(other_sub) + "".join(const_subs))
    dt = _raw(grad).dtype
    seen = set()
    new_target = []
    for ch, size in zip(target, shape):
        if ch in seen:
            f = _fresh(used)
            const_subs.append(ch + f)
            new_consts.append(np.eye(size, dtype=dt))
            new_target.append(f)
            continue
        seen.add(ch)
        if ch not in present:
            const_subs.append(ch)
            new_consts.append(np.ones(size, dtype=dt))
            present.add(ch)
        new_target.append(ch)
    new_eq = ([out] + other_sub + const_subs, "".join(new_target))
    op = _einsum_for(new_eq[0][:1 + len(other_sub)], new_eq[1], 1 + len(other_sub))
    return op(grad, other if n_t == 2 else None, new_eq, tuple(new_consts))


for _op in _EINSUM_OPS.values():
    _op.defvjp(
        self=lambda grad, other, eq, consts, self_shape, other_shape:
            _einsum_grad(grad, 0, other, eq, consts, (self_shape, other_shape)),
        other=lambda grad, self, eq, consts, self_shape, other_shape:
            _einsum_grad(grad, 1, self, eq, consts, (self_shape, other_shape)))


def _parse_einsum(equation, operands):
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, out = eq.split("->")
        explicit = True
    else:
        lhs, out, explicit = eq, "", False
    subs = lhs.split(",")
    if len(subs) != len(operands):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation"
                           if len(operands) > len(subs) else
                           "einsum(): fewer operands were provided than specified in the equation")
    used = set(ch for ch in eq if ch.isalpha())
    for s in subs + [out]:
        for ch in s.replace("...", ""):
            if not ch.isalpha():
                raise RuntimeError(f"einsum(): invalid subscript given at index {eq.index(ch)} in the equation "
                                   f"string, subscripts must be in [a-zA-Z]")
    n_ell = 0
    for s, t in zip(subs, operands):
        k = len(s.replace("...", ""))
        if "..." in s:
            n_ell = max(n_ell, t.ndim - k)
        elif t.ndim != k:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({k}) does not match the "
                               f"number of dimensions ({t.ndim}) for operand {subs.index(s)}"
                               f"{' and no ellipsis was given' if '...' not in s else ''}")
    ell = "".join(_fresh(used) for _ in range(n_ell))
    new_subs = []
    for s, t in zip(subs, operands):
        if "..." in s:
            k = t.ndim - len(s.replace("...", ""))
            s = s.replace("...", ell[n_ell - k:])
        new_subs.append(s)
    if explicit:
        out = out.replace("...", ell)
    else:
        allch = "".join(s for s in subs).replace("...", "")
        out = ell + "".join(sorted(ch for ch in set(allch) if allch.count(ch) == 1))
    sizes = {}
    for s, t in zip(new_subs, operands):
        for ch, size in zip(s, t.shape):
            if sizes.setdefault(ch, size) != size:
                if size != 1 and sizes[ch] != 1:
                    raise RuntimeError("einsum(): operands do not broadcast with remapped shapes "
                                       "(original->remapped)")
    for ch in out:
        if ch not in sizes:
            raise RuntimeError(f"einsum(): output subscript {ch} does not appear in the equation for any input "
                               "operand")
    return new_subs, out


def einsum(equation: str, *operands: Any) -> Tensor:
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    for t in operands:
        _check_tensor(t, "einsum", "operands")
    subs, out = _parse_einsum(equation, operands)
    dts = {t._data.dtype for t in operands}
    if len(dts) > 1:
        a, b = [t._data.dtype for t in operands][:2]
        raise RuntimeError(f"expected scalar type {_TN.get(str(a))} but found {_TN.get(str(b))}")
    if len(operands) == 1:
        return _einsum_for(subs, out, 1)(operands[0], None, ([subs[0]], out), ())
    cur, cur_sub = operands[0], subs[0]
    for i in range(1, len(operands)):
        if i == len(operands) - 1:
            keep = out
            op = _einsum_for(subs, out, len(operands))  # (the last node: named after the whole equation)
        else:
            later = set("".join(subs[i + 1:]) + out)
            keep = "".join(dict.fromkeys(ch for ch in cur_sub + subs[i] if ch in later))
            op = _einsum_for((cur_sub, subs[i]), keep, 2)
        cur = op(cur, operands[i], ([cur_sub, subs[i]], keep), ())
        cur_sub = keep
    return cur


# -- norms ---------------------------------------------------------------------------------------------------
def _vnorm_fwd(self, ord, dim, keepdim):
    a = np.abs(self)
    if ord == math.inf:
        r = np.max(a, axis=dim, keepdims=keepdim) if a.size else np.zeros(())
    elif ord == -math.inf:
        r = np.min(a, axis=dim, keepdims=keepdim)
    elif ord == 0:
        r = np.sum(a != 0, axis=dim, keepdims=keepdim).astype(self.dtype)
    elif ord == 1:
        r = np.sum(a, axis=dim, keepdims=keepdim)
    elif ord == 2:
        r = np.sqrt(np.sum(a * a, axis=dim, keepdims=keepdim))
    else:
        r = np.sum(a ** ord, axis=dim, keepdims=keepdim) ** (1.0 / ord)
    return np.asarray(r, self.dtype)


def _vnorm_grad(grad, self, result, ord, dim, keepdim, self_shape):
    if not keepdim:
        kshape = tuple(1 if i in dim else s for i, s in enumerate(self_shape))
        grad = S.reshape(grad, kshape)
        result = S.reshape(result, kshape)
    if ord == 0:
        return self * 0.0 * grad
    if ord == 1:
        return P.sign(self) * grad
    if ord == 2:
        return self * P.where(result == 0, 0.0, grad / result)
    if math.isinf(ord):
        mask = P.abs(self) == result
        count = np.sum(_raw(mask), axis=dim, keepdims=True).astype(_raw(self).dtype)
        return P.sign(self) * P.where(mask, grad / _c(count, grad), 0.0)
    if ord < 1:
        scaled = P.where(self == 0, 0.0, P.sign(self) * P.abs(self) ** (ord - 1))
        return scaled * grad * result ** (1 - ord)
    if ord < 2:
        return P.sign(self) * P.abs(self) ** (ord - 1) * P.where(result == 0, 0.0, grad / result ** (ord - 1))
    return self * P.abs(self) ** (ord - 2) * P.where(result == 0, 0.0, grad / result ** (ord - 1))


vector_norm_op = Op("linalg_vector_norm", _vnorm_fwd, ("self",), ("ord", "dim", "keepdim"),
                    node="LinalgVectorNormBackward0", dtype=SAME)
vector_norm_op.defvjp(self=_vnorm_grad)


def vector_norm(x: Tensor, ord: float = 2, dim: int | Sequence[int] | None = None, keepdim: bool = False, *,
                dtype: Any = None, out: Any = None) -> Tensor:
    _check_tensor(x, "linalg_vector_norm", "input")
    _check_float(x, "linalg.vector_norm")
    if dtype is not None:
        from .pointwise import cast
        x = cast(x, dtype.np if hasattr(dtype, "np") else np.dtype(dtype))
    if dim is None:
        dims = tuple(range(x.ndim))
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        dims = tuple(sorted(_wrapdim(d, x.ndim) for d in dims))
    if x.numel() == 0 and (ord < 0 or math.isinf(ord)) and \
            any(x.shape[d] == 0 for d in (dims or range(x.ndim))):
        raise RuntimeError(f"linalg.vector_norm cannot compute the {ord} norm on an empty tensor because the "
                           "operation does not have an identity")
    return vector_norm_op(x, float(ord), dims, bool(keepdim))


def _svdvals_raw_free(A):
    return svdvals(A)


def matrix_norm(A: Tensor, ord: str | float = "fro", dim: Sequence[int] = (-2, -1), keepdim: bool = False, *,
                dtype: Any = None, out: Any = None) -> Tensor:
    _check_tensor(A, "linalg_matrix_norm", "input")
    _check_float(A, "linalg.matrix_norm")
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    d0, d1 = (_wrapdim(d, A.ndim) for d in dim)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, {dim[1]})")
    if ord in ("fro", "nuc") or ord in (2, -2, 1, -1, math.inf, -math.inf):
        pass
    else:
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim, dtype=dtype)
    if ord in (1, -1, math.inf, -math.inf):  # torch's: max/min(vector_norm(A, 1, dim0), dim1)
        if abs(ord) == math.inf:
            d0, d1 = d1, d0
        inner = vector_norm(A, 1, d0, keepdim, dtype=dtype)
        if not keepdim and d0 < d1:
            d1 -= 1
        return (Rd.amax if ord > 0 else Rd.amin)(inner, (d1,), keepdim)
    if dtype is not None:
        from .pointwise import cast
        A = cast(A, dtype.np if hasattr(dtype, "np") else np.dtype(dtype))
    perm = [i for i in range(A.ndim) if i not in (d0, d1)] + [d0, d1]
    if perm != list(range(A.ndim)):
        A = S.permute(A, tuple(perm))
    s = svdvals(A)
    last = (s.ndim - 1,)
    r = Rd.sum_dim(s, last, keepdim) if ord == "nuc" else (Rd.amax if ord == 2 else Rd.amin)(s, last, keepdim)
    if keepdim:
        inverse = [0] * len(perm)
        for i, p in enumerate(perm):
            inverse[p] = i
        r = S.permute(S.unsqueeze(r, -1), tuple(inverse))
    return r


def norm(A: Tensor, ord: str | float | None = None, dim: int | Sequence[int] | None = None, keepdim: bool = False,
         *, out: Any = None, dtype: Any = None) -> Tensor:
    _check_tensor(A, "linalg_norm", "input")
    if dim is not None and not isinstance(dim, int):
        dim = tuple(dim)
    if isinstance(ord, str):
        if dim is None and A.ndim != 2:
            raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. "
                               f"Got {A.ndim}D.")
        return matrix_norm(A, ord, (-2, -1) if dim is None else dim, keepdim, dtype=dtype)
    if ord is None:
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if dim is None:
        if A.ndim == 2:
            return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
        if A.ndim != 1:
            raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. "
                               f"Got {A.ndim}D.")
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    if isinstance(dim, tuple) and len(dim) == 2:
        return matrix_norm(A, ord, dim, keepdim, dtype=dtype)
    return vector_norm(A, ord, dim, keepdim, dtype=dtype)


# -- inverse, determinants, solve ----------------------------------------------------------------------------
def _lin(fn, name, a=None):
    try:
        return fn()
    except np.linalg.LinAlgError:
        raise _lapack.singular_error(a, name) from None


def _unsq2(x):
    return S.unsqueeze(S.unsqueeze(x, -1), -1)


inv_op = Op("linalg_inv", lambda self: _lin(lambda: np.linalg.inv(self), "linalg.inv", self), ("self",),
            node="LinalgInvExBackward0", dtype=SAME)
inv_op.defvjp(self=lambda grad, result: -_mm(_mm(_mT(result), grad), _mT(result)))  # -A⁻ᵀ G A⁻ᵀ


def inv(A: Tensor, *, out: Any = None) -> Tensor:
    _square_float(A, "linalg.inv")
    return inv_op(A)


det_op = Op("linalg_det", lambda self: np.asarray(np.linalg.det(self)), ("self",), node="LinalgDetBackward0",
            dtype=SAME)


def _invertible(a) -> bool:
    try:
        return bool(np.all(np.isfinite(np.linalg.inv(a))))
    except np.linalg.LinAlgError:
        return False


def _det_grad(grad, self, result):
    if not isinstance(grad, Tensor) and _invertible(self):
        return _unsq2(grad * result) * _mT(inv_op(self))  # det·A⁻ᵀ
    # torch's formula for singular matrices, and for every matrix under create_graph (as torch):
    # U diag(det(U)det(Vh) Π_{j≠i} s_j) Vh, the adjugate's transpose
    U, Sv, Vh = svd_op(self, False)
    alpha = det_op(U) * det_op(Vh)
    D = Rd.prod_others(Sv, _raw(Sv).ndim - 1) * S.unsqueeze(grad * alpha, -1)
    return _mm(U * S.unsqueeze(D, -2), Vh)


det_op.defvjp(self=_det_grad)


def det(A: Tensor, *, out: Any = None) -> Tensor:
    _square_float(A, "linalg.det")
    return det_op(A)


def _slogdet(self):
    s, l = np.linalg.slogdet(self)
    return np.asarray(s, self.dtype), np.asarray(l, self.dtype)


slogdet_op = Op("linalg_slogdet", _slogdet, ("self",), node="LinalgSlogdetBackward0", dtype=SAME, n_out=2)
slogdet_op.defvjp(self=lambda grads, self: _unsq2(grads[1]) * _mT(inv_op(self)))
SlogdetResult = Rd.return_type("linalg_slogdet", ("sign", "logabsdet"))


def slogdet(A: Tensor, *, out: Any = None) -> tuple[Tensor, Tensor]:
    _square_float(A, "linalg.slogdet")
    return SlogdetResult(*slogdet_op(A))


def _solve(self, B, vec, left):
    if not left:
        return np.ascontiguousarray(np.swapaxes(_solve(np.swapaxes(self, -1, -2), np.swapaxes(B, -1, -2), False,
                                                       True), -1, -2))
    b = B[..., None] if vec else B
    try:
        x = np.linalg.solve(self, b)
    except np.linalg.LinAlgError:
        raise _lapack.solve_error(self) from None
    except ValueError as e:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation AX = B ({e})") from None
    return x[..., 0] if vec else x


solve_op = Op("linalg_solve", _solve, ("self", "B"), ("vec", "left"), node="LinalgSolveExBackward0", dtype=PROMOTE)


def _solve_grad_A(grad, self, result, vec, left):
    gB = solve_op(_mT(self), grad, vec, left)
    if not left:  # X A = B: gA = -Xᵀ gB
        return -_mm(_mT(result), gB)
    if vec:
        return -(S.unsqueeze(gB, -1) * S.unsqueeze(result, -2))
    return -_mm(gB, _mT(result))  # A X = B: gA = -gB Xᵀ


solve_op.defvjp(self=_solve_grad_A, B=lambda grad, self, vec, left: solve_op(_mT(self), grad, vec, left))


def solve(A: Tensor, B: Tensor, *, left: bool = True, out: Any = None) -> Tensor:
    _square_float(A, "linalg.solve")
    _check_tensor(B, "linalg_solve", "B")
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type "
                           f"{_TN.get(str(A._data.dtype))} and B of type {_TN.get(str(B._data.dtype))} instead")
    vec = left and (B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1])))
    n = A.shape[-1]
    if vec:
        k = B.shape[-1]
    elif B.ndim < 2:
        k = -1
    else:
        k = B.shape[-2] if left else B.shape[-1]
    if k != n:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({A.shape[-2]}x{A.shape[-1]} and "
                           f"{'x'.join(map(str, B.shape))})")
    return solve_op(A, B, vec, bool(left))


# -- Cholesky ----------------------------------------------------------------------------------------------
def _cholesky(self, upper):
    try:
        r = np.linalg.cholesky(self)
    except np.linalg.LinAlgError:
        raise _lapack.not_pd_error(self, "linalg.cholesky") from None
    return np.ascontiguousarray(np.swapaxes(r, -1, -2)) if upper else r


def _cholesky_grad(grad, result, upper):
    Lm, gL = (_mT(result), _mT(grad)) if upper else (result, grad)
    gA = tril_op(_mm(_mT(Lm), gL), 0)
    gA = (gA + _mT(tril_op(gA, -1))) * 0.5
    Linv = inv_op(Lm)
    return _mm(_mm(_mT(Linv), gA), Linv)  # L⁻ᴴ Φ(Lᴴ gL) L⁻¹


cholesky_op = Op("linalg_cholesky", _cholesky, ("self",), ("upper",), node="LinalgCholeskyExBackward0", dtype=SAME)
cholesky_op.defvjp(self=_cholesky_grad)


def cholesky(A: Tensor, *, upper: bool = False, out: Any = None) -> Tensor:
    _square_float(A, "linalg.cholesky")
    return cholesky_op(A, bool(upper))


# -- QR ---------------------------------------------------------------------------------------------------------
def _qr(self, mode):
    if mode == "r":
        r = np.linalg.qr(self, mode="r")
        return np.zeros((0,), self.dtype), np.asarray(r)
    q, r = np.linalg.qr(self, mode=mode)
    return q, r


def _qr_grad_tall(gQ, gR, Q, R):
    # m >= n: gA = (gQ + Q copyltu(M)) R⁻ᵀ with M = R gRᵀ - gQᵀ Q
    M = _mm(R, _mT(gR)) - _mm(_mT(gQ), Q)
    sym = tril_op(M, 0) + _mT(tril_op(M, -1))
    return _mm(gQ + _mm(Q, sym), _mT(inv_op(R)))


def _qr_grad(grads, self, result, mode, self_shape):
    if mode == "r":
        raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                           "Please use linalg.qr(A, mode='reduced') if you are going to differentiate through "
                           "linalg.qr.")
    m, n = self_shape[-2], self_shape[-1]
    if mode == "complete" and m > n:
        raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
    gQ, gR = grads
    Q, R = result
    if m >= n:
        return _qr_grad_tall(gQ, gR, Q, R)
    # m < n: A = [X | Y], R = [U | V] with X = QU, V = QᵀY
    U = S.narrow(R, -1, 0, m)  # R = [U | V]
    gU, gV = S.narrow(gR, -1, 0, m), S.narrow(gR, -1, m, n - m)
    Y = S.narrow(self, -1, m, n - m)
    gY = _mm(Q, gV)
    gX = _qr_grad_tall(gQ + _mm(Y, _mT(gV)), gU, Q, U)
    return S.cat([gX, gY], -1, [m, n - m])


qr_op = Op("linalg_qr", _qr, ("self",), ("mode",), node="LinalgQrBackward0", dtype=SAME, n_out=2)
qr_op.defvjp(self=_qr_grad)
QRResult = Rd.return_type("linalg_qr", ("Q", "R"))


def qr(A: Tensor, mode: str = "reduced", *, out: Any = None) -> tuple[Tensor, Tensor]:
    _check_tensor(A, "linalg_qr", "A")
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), "
                           "'r', or 'complete'")
    if A.ndim < 2:
        raise RuntimeError("linalg.qr: The input tensor A must have at least 2 dimensions.")
    _check_float(A, "linalg.qr")
    return QRResult(*qr_op(A, mode))


# -- SVD --------------------------------------------------------------------------------------------------------
def _svd(self, full_matrices):
    u, s, vh = np.linalg.svd(self, full_matrices=full_matrices)
    return u, s.astype(self.dtype, copy=False), vh


def _svd_backward(gU, gS, gVh, U, Sv, Vh, m, n):
    Sr = S.unsqueeze(Sv, -2)  # S along columns
    Sc = S.unsqueeze(Sv, -1)  # S along rows
    S2 = Sv * Sv
    k = _raw(Sv).shape[-1]
    E = S.unsqueeze(S2, -2) - S.unsqueeze(S2, -1) + _eye_like(Sv, k)
    UhgU = _mm(_mT(U), gU)
    UhgU = UhgU - _mT(UhgU)
    VhgV = _mm(Vh, _mT(gVh))
    VhgV = VhgV - _mT(VhgV)
    ret = (UhgU * Sr + Sc * VhgV) / E + diag_embed_op(gS, 0)
    if m > n:
        gA = _mm(U, ret)
        gUSinv = gU / Sr
        gA = gA + gUSinv - _mm(U, _mm(_mT(U), gUSinv))
        return _mm(gA, Vh)
    if m < n:
        gA = _mm(ret, Vh)
        SinvgVh = gVh / Sc
        gA = gA + SinvgVh - _mm(_mm(SinvgVh, _mT(Vh)), Vh)
        return _mm(U, gA)
    return _mm(U, _mm(ret, Vh))


def _svd_grad(grads, result, full_matrices, self_shape):
    gU, gS, gVh = grads
    U, Sv, Vh = result
    m, n = self_shape[-2], self_shape[-1]
    k = min(m, n)
    if full_matrices:
        U, gU = S.narrow(U, -1, 0, k), S.narrow(gU, -1, 0, k)
        Vh, gVh = S.narrow(Vh, -2, 0, k), S.narrow(gVh, -2, 0, k)
    return _svd_backward(gU, gS, gVh, U, Sv, Vh, m, n)


svd_op = Op("linalg_svd", _svd, ("self",), ("full_matrices",), node="LinalgSvdBackward0", dtype=SAME, n_out=3)
svd_op.defvjp(self=_svd_grad)
SVDResult = Rd.return_type("linalg_svd", ("U", "S", "Vh"))


def svd(A: Tensor, full_matrices: bool = True, *, driver: str | None = None,
        out: Any = None) -> tuple[Tensor, Tensor, Tensor]:
    _check_tensor(A, "linalg_svd", "A")
    if A.ndim < 2:
        raise RuntimeError("linalg.svd: The input tensor A must have at least 2 dimensions.")
    _check_float(A, "linalg.svd")
    return SVDResult(*svd_op(A, bool(full_matrices)))


def _svdvals_grad(grad, self):
    U, _, Vh = svd_op(self, False)
    m, n = _raw(self).shape[-2:]
    if m >= n:
        return _mm(U, S.unsqueeze(grad, -1) * Vh)
    return _mm(U * S.unsqueeze(grad, -2), Vh)


svdvals_op = Op("linalg_svdvals", lambda self: np.linalg.svd(self, compute_uv=False).astype(self.dtype, copy=False),
                ("self",), node="LinalgSvdBackward0", dtype=SAME)
svdvals_op.defvjp(self=_svdvals_grad)


def svdvals(A: Tensor, *, driver: str | None = None, out: Any = None) -> Tensor:
    _check_tensor(A, "linalg_svdvals", "A")
    if A.ndim < 2:
        raise RuntimeError("linalg.svdvals: The input tensor A must have at least 2 dimensions.")
    _check_float(A, "linalg.svdvals")
    return svdvals_op(A)


# -- symmetric eigendecomposition ---------------------------------------------------------------------------------
def _eigh(self, UPLO):
    try:
        w, v = np.linalg.eigh(self, UPLO)
    except np.linalg.LinAlgError:
        raise RuntimeError("linalg.eigh: The algorithm failed to converge") from None
    return w.astype(self.dtype, copy=False), v


def _eigh_grad(grads, result):
    gL, gV = grads
    Lv, V = result
    n = _raw(Lv).shape[-1]
    VhgV = _mm(_mT(V), gV)
    VhgV = (VhgV - _mT(VhgV)) * 0.5
    E = S.unsqueeze(Lv, -2) - S.unsqueeze(Lv, -1) + _eye_like(Lv, n)
    ret = VhgV / E + diag_embed_op(gL, 0)
    return _mm(V, _mm(ret, _mT(V)))


eigh_op = Op("linalg_eigh", _eigh, ("self",), ("UPLO",), node="LinalgEighBackward0", dtype=SAME, n_out=2)
eigh_op.defvjp(self=_eigh_grad)
EighResult = Rd.return_type("linalg_eigh", ("eigenvalues", "eigenvectors"))


def _check_uplo(UPLO, name):
    if UPLO not in ("L", "U", "l", "u"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return UPLO.upper()


def _eigh_check(A, name):
    _check_tensor(A, name.replace(".", "_"), "A")
    _check_square(A, name)
    if A._data.dtype.kind not in "fcV":
        raise NotImplementedError(f"\"linalg_eigh_cpu\" not implemented for '{_TN.get(str(A._data.dtype))}'")


def eigh(A: Tensor, UPLO: str = "L", *, out: Any = None) -> tuple[Tensor, Tensor]:
    _eigh_check(A, "linalg.eigh")
    return EighResult(*eigh_op(A, _check_uplo(UPLO, "linalg.eigh")))


def _eigvalsh_grad(grad, self, UPLO):
    _, V = eigh_op(self, UPLO)
    return _mm(V, S.unsqueeze(grad, -1) * _mT(V))


eigvalsh_op = Op("linalg_eigvalsh", lambda self, UPLO: _eigh(self, UPLO)[0], ("self",), ("UPLO",),
                 node="LinalgEighBackward0", dtype=SAME)
eigvalsh_op.defvjp(self=_eigvalsh_grad)


def eigvalsh(A: Tensor, UPLO: str = "L", *, out: Any = None) -> Tensor:
    _eigh_check(A, "linalg.eigvalsh")
    return eigvalsh_op(A, _check_uplo(UPLO, "linalg.eigvalsh"))


# -- pseudo-inverse, least squares ------------------------------------------------------------------------------
def _pinv(self, hermitian):
    m, n = self.shape[-2:]
    return np.linalg.pinv(self, rcond=max(m, n) * np.finfo(self.dtype).eps, hermitian=hermitian)


def _pinv_backward(grad, pinvA, A):
    m, n = _raw(A).shape[-2:]
    pinvAh = _mT(pinvA)
    gradh = _mT(grad)
    if m <= n:
        K = _mm(gradh, pinvA)
        KpinvAh = _mm(K, pinvAh)
        return (-_mT(_mm(pinvA, K)) + KpinvAh - _mm(_mm(A, pinvA), KpinvAh)
                + _mm(_mm(pinvAh, pinvA), gradh - _mm(K, A)))
    K = _mm(pinvA, gradh)
    pinvAhK = _mm(pinvAh, K)
    return (-_mT(_mm(K, pinvA)) + _mm(_mm(gradh - _mm(A, K), pinvA), pinvAh) + pinvAhK
            - _mm(_mm(pinvAhK, pinvA), A))


pinv_op = Op("linalg_pinv", _pinv, ("self",), ("hermitian",), node="LinalgPinvBackward0", dtype=SAME)
pinv_op.defvjp(self=lambda grad, self, result: _pinv_backward(grad, result, self))


def pinv(A: Tensor, *, atol: float | Tensor | None = None, rtol: float | Tensor | None = None,
         hermitian: bool = False, out: Any = None) -> Tensor:
    _check_tensor(A, "linalg_pinv", "input")
    if A.ndim < 2:
        raise RuntimeError("linalg.pinv(" + "{" + f"{A.ndim}" + "D}): expected a tensor with 2 or more dimensions "
                           "of float, double, cfloat or cdouble types")
    _check_float(A, "linalg.pinv")
    if atol is not None or rtol is not None:
        raise NotImplementedError("ndgrad: linalg.pinv with atol/rtol is not implemented")
    return pinv_op(A, bool(hermitian))


def _lstsq(self, B, vec, driver):
    m, n = self.shape[-2:]
    b = B[..., None] if vec else B
    x = np.matmul(_pinv(self, False), b)
    if m > n and driver != "gelsy" and np.all(np.linalg.matrix_rank(self) == n):
        res = np.sum((np.matmul(self, x) - b) ** 2, axis=-2)  # (..., k); (..., 1) for a vector B, as torch
    else:
        res = np.zeros((0,), self.dtype)
    return (x[..., 0] if vec else x), np.asarray(res, self.dtype)


def _lstsq_res_grad(grads, self, B, result, vec):
    """Gradient of the residuals ‖AX - B‖² (column-wise) with respect to AX - B, or None if not computed:
    at the least-squares solution the term through X vanishes (Aᵀ(AX - B) = 0)."""
    gR = grads[1]
    if _raw(gR).size == 0 or _raw(result[1]).size == 0:
        return None, None
    X = S.unsqueeze(result[0], -1) if vec else result[0]
    b = S.unsqueeze(B, -1) if vec else B
    R = _mm(self, X) - b
    return R * S.unsqueeze(gR, -2) * 2.0, X


def _lstsq_grad_A(grads, self, B, result, vec):
    gX = S.unsqueeze(grads[0], -1) if vec else grads[0]
    b = S.unsqueeze(B, -1) if vec else B
    gA = _pinv_backward(_mm(gX, _mT(b)), pinv_op(self, False), self)
    gRes, X = _lstsq_res_grad(grads, self, B, result, vec)
    return gA if gRes is None else gA + _mm(gRes, _mT(X))


def _lstsq_grad_B(grads, self, B, result, vec):
    gX = S.unsqueeze(grads[0], -1) if vec else grads[0]
    gB = _mm(_mT(pinv_op(self, False)), gX)
    gRes, _ = _lstsq_res_grad(grads, self, B, result, vec)
    if gRes is not None:
        gB = gB - gRes
    return S.squeeze_dim_(gB, (gB.ndim - 1,)) if vec else gB


lstsq_op = Op("linalg_lstsq", _lstsq, ("self", "B"), ("vec", "driver"), node="LinalgLstsqBackward0", dtype=NONE,
              n_out=2)
lstsq_op.defvjp(self=_lstsq_grad_A, B=_lstsq_grad_B)
LstsqResult = Rd.return_type("linalg_lstsq", ("solution", "residuals", "rank", "singular_values"))


def lstsq(A: Tensor, B: Tensor, rcond: float | None = None, *,
          driver: str | None = None) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    _check_tensor(A, "linalg_lstsq", "self")
    _check_tensor(B, "linalg_lstsq", "b")
    if A.ndim < 2:
        raise RuntimeError("torch.linalg.lstsq: input must have at least 2 dimensions.")
    _check_float(A, "torch.linalg.lstsq")
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same dtype, but got "
                           f"input's dtype {_TN.get(str(A._data.dtype))} and other's dtype "
                           f"{_TN.get(str(B._data.dtype))}")
    driver = "gelsy" if driver is None else driver
    if driver not in ("gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")
    if rcond is not None:
        raise NotImplementedError("ndgrad: linalg.lstsq with rcond is not implemented")
    if not (A.ndim >= B.ndim and A.ndim - B.ndim <= 1):
        raise RuntimeError("torch.linalg.lstsq: input.dim() must be greater or equal to other.dim() and "
                           "(input.dim() - other.dim()) <= 1")
    vec = B.ndim == A.ndim - 1
    from ._registry import _check_broadcast
    _check_broadcast(tuple(A.shape[:-2]), tuple(B.shape[:-1] if vec else B.shape[:-2]))
    rows = B.shape[-1] if vec else (B.shape[-2] if B.ndim >= 2 else -1)
    if rows != A.shape[-2]:
        raise RuntimeError("torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    sol, res = lstsq_op(A, B, vec, driver)
    a = A._data
    batch = a.shape[:-2]
    if driver == "gels":
        rank = _wrap(np.zeros((0,), np.int64))
    else:
        rank = _wrap(np.asarray(np.linalg.matrix_rank(a), np.int64).reshape(batch))
    if driver in ("gelsd", "gelss"):
        sv = _wrap(np.linalg.svd(a, compute_uv=False).astype(a.dtype, copy=False))
    else:
        sv = _wrap(np.zeros((0,), a.dtype))
    return LstsqResult(sol, res, rank, sv)


# -- matrix exponential -------------------------------------------------------------------------------------
def _expm(self):
    a = self.astype(np.float64)
    if a.size == 0:
        return self.copy()
    nrm = np.max(np.sum(np.abs(a), axis=-1)) if a.size else 0.0
    s = max(0, int(math.ceil(math.log2(nrm / 0.25)))) if nrm > 0.25 else 0
    x = a / (2.0 ** s)
    n = a.shape[-1]
    eye = np.broadcast_to(np.eye(n), a.shape)
    r = eye.copy()
    term = eye.copy()
    for k in range(1, 20):
        term = term @ x / k
        r = r + term
    for _ in range(s):
        r = r @ r
    return r.astype(self.dtype)


def _matrix_exp_grad(grad, self):
    n = _raw(self).shape[-1]
    At = _mT(self)
    zeros = _c(np.zeros(_raw(self).shape, _raw(grad).dtype), grad)
    top = S.cat([At, grad], -1, [n, n])
    bottom = S.cat([zeros, At], -1, [n, n])
    big = matrix_exp_op(S.cat([top, bottom], -2, [n, n]))
    return S.narrow(S.narrow(big, -2, 0, n), -1, n, n)


matrix_exp_op = Op("linalg_matrix_exp", _expm, ("self",), node="LinalgMatrixExpBackward0", dtype=SAME)
matrix_exp_op.defvjp(self=_matrix_exp_grad)


def matrix_exp(A: Tensor) -> Tensor:
    _square_float(A, "linalg.matrix_exp")
    return matrix_exp_op(A)


LINALG.update(norm=norm, vector_norm=vector_norm, matrix_norm=matrix_norm, inv=inv, det=det, slogdet=slogdet,
              solve=solve, cholesky=cholesky, qr=qr, svd=svd, svdvals=svdvals, eigh=eigh, eigvalsh=eigvalsh,
              pinv=pinv, lstsq=lstsq, matrix_exp=matrix_exp, cross=_linalg_cross, diagonal=None)
del LINALG["diagonal"]
LINALG["LinAlgError"] = LinAlgError
METHODS.update(trace=trace, diag=diag, diagonal=diagonal, tril=tril, triu=triu, cross=cross, kron=kron,
               det=det, inverse=inv, matrix_exp=matrix_exp)


# -- forward mode (autograd/forward_ad.py): how each op's jvp is derived; ops not listed transpose their vjp
for _op in (tril_op, triu_op, diagonal_op, diag_copy_op, diagonal_backward, diag_embed_op, trace_op):
    _op.defjvp(linear=True)
for _op in (cross_op, einsum_op):
    _op.defjvp(multilinear=True)


def _vnorm_jvp(ts, self, ord, dim, keepdim, result):
    """Σ over the reduced dims of vjp(1)·t: exact where the norm is 0 (transposing the vjp would give 0/0)."""
    from .._creation import ones_like
    shape = tuple(self.shape)
    w = _vnorm_grad(ones_like(result), self, result, ord, dim, keepdim, shape)
    t = ts[0]
    prod = P.real(P.conj(w) * t) if w.dtype.is_complex else w * t
    kshape = tuple(1 if i in dim else s for i, s in enumerate(shape))
    return S.reshape(Rd.sum_to(prod, kshape), tuple(result.shape))


vector_norm_op.defjvp(_vnorm_jvp)
