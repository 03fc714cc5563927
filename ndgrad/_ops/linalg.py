"""Matrix products: mm, mv, dot, bmm, and N-d matmul, with derivatives."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .pointwise import _cj
from .reduction import _batching_trace
from ._registry import NONE, Op
from .shape import transpose, unsqueeze, reshape

if TYPE_CHECKING:
    from .._tensor import Tensor

_TN = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
       "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool", "complex64": "ComplexFloat",
       "complex128": "ComplexDouble", "bfloat16": "BFloat16"}


def _same_dtype(a, b, fmt):
    if a.dtype != b.dtype:
        raise RuntimeError(fmt.format(_TN.get(str(a.dtype)), _TN.get(str(b.dtype))))


def _keep(out, like):
    """Products of bfloat16 operands come back from NumPy in float32: round them to the operands' dtype."""
    return out if out.dtype == like.dtype else out.astype(like.dtype)


def _blas(a):
    """NumPy's matmul leaves BLAS for a slow loop when an operand has a zero stride (a broadcast view, as
    sum's gradient is): such operands are made contiguous first."""
    return np.ascontiguousarray(a) if 0 in a.strides and a.size > 1 else a


# One row times a matrix, (1, K) @ (K, N), is computed by torch's CPU kernel one output at a time: the products,
# each rounded, added in order to zero (mm) or to the bias (addmm with beta = alpha = 1), measured bit for bit on
# torch 2.13 (BLAS adds in its own order). It is a linear regression's weight gradient (g.T @ x with one output)
# and a one-sample product with a row-major matrix; for float32/float64, a C-contiguous right matrix (F.linear's
# transposed weight takes yet another order in torch) and up to 8192 products the same order is taken here.
_ROW_MM_MAX = 8192  # (beyond, BLAS: this order costs a pass per product row)


def _row_mm(a, b, c=None):
    """(1, K) @ (K, N) [+ c] in torch's order, or None where it does not apply."""
    k, n = b.shape
    if not (a.dtype == b.dtype and a.dtype.kind == "f" and a.dtype.itemsize in (4, 8) and 0 < k * n <= _ROW_MM_MAX
            and b.flags.c_contiguous) or _batching_trace():
        return None  # (a transposed matrix, as F.linear's weight, takes another order in torch, not this one)
    start = np.zeros((1, n), a.dtype) if c is None else np.broadcast_to(c, (1, n)).astype(a.dtype)
    terms = np.concatenate((start, np.multiply(a.reshape(k, 1), b)))
    return np.add.accumulate(terms, 0)[k:]


_ndarray = np.ndarray


def _gemm(a, b):
    """a @ b of two matrices of one dtype, a with more than one row (what mm and addmm's F.linear path compute),
    before `_keep`'s rounding."""
    if a.shape[1] > 1 and b.shape[1] > 1 and a.dtype.char in "fd" and a.__class__ is _ndarray and \
            b.__class__ is _ndarray:
        fa, fb = a.flags, b.flags
        if (fa.c_contiguous or fa.f_contiguous) and (fb.c_contiguous or fb.f_contiguous):
            # np.dot: the same gemm call as `@` for contiguous real matrices, bit for bit (tests/test_ops.py
            # compares them), without matmul's generalised-ufunc steps (4x4: 0.85 us instead of 1.3)
            return np.dot(a, b)
    return _blas(a) @ _blas(b)


def _mm(self, mat2):
    s, m = self.shape, mat2.shape
    if len(s) == 2 and len(m) == 2 and s[1] == m[0] and s[0] != 1 and self.dtype is mat2.dtype:  # (the checks below)
        return _keep(_gemm(self, mat2), self)
    if self.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    if self.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({self.shape[0]}x{self.shape[1]} and "
                           f"{mat2.shape[0]}x{mat2.shape[1]})")
    _same_dtype(self, mat2, "expected m1 and m2 to have the same dtype, but got: {} != {}")
    if self.shape[0] == 1:
        r = _row_mm(self, mat2)
        if r is not None:
            return r
    return _keep(_blas(self) @ _blas(mat2), self)


mm = Op("mm", _mm, ("self", "mat2"), dtype=NONE)
mm.defvjp(self=lambda grad, mat2: mm(grad, _cj(transpose(mat2, 0, 1))),   # d(AB)/dA: G Bᴴ
          mat2=lambda grad, self: mm(_cj(transpose(self, 0, 1)), grad))    # d(AB)/dB: Aᴴ G


def _dot(self, other):
    if self.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {self.ndim}D and {other.ndim}D tensors")
    if self.shape[0] != other.shape[0]:
        raise RuntimeError("inconsistent tensor size, expected tensor [{}] and src [{}] to have the same number of "
                           "elements, but got {} and {} elements respectively".format(
                               self.shape[0], other.shape[0], self.shape[0], other.shape[0]))
    _same_dtype(self, other, "dot : expected both vectors to have same dtype, but found {} and {}")
    return _keep(np.dot(self, other), self)


dot = Op("dot", _dot, ("self", "other"), dtype=NONE)
dot.defvjp(self=lambda grad, other: grad * _cj(other),  # d(x·y)/dx = y
           other=lambda grad, self: grad * _cj(self))


def _mv(self, vec):
    if self.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {self.ndim}, {vec.ndim}")
    if self.shape[1] != vec.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({self.shape[0]}), mat ({self.shape[0]}x{self.shape[1]}), "
                           f"vec ({vec.shape[0]})")
    _same_dtype(self, vec, "expected m1 and m2 to have the same dtype, but got: {} != {}")
    return _keep(_blas(self) @ _blas(vec), self)


mv = Op("mv", _mv, ("self", "vec"), dtype=NONE)
mv.defvjp(self=lambda grad, vec: unsqueeze(grad, 1) * _cj(unsqueeze(vec, 0)),  # d(Av)/dA = g vᵀ
          vec=lambda grad, self: mv(_cj(transpose(self, 0, 1)), grad))           # d(Av)/dv = Aᵀ g


def _bmm(self, mat2):
    if self.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if self.shape[0] != mat2.shape[0] or self.shape[2] != mat2.shape[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{self.shape[0]}, {self.shape[2]}] but got: [{mat2.shape[0]}, {mat2.shape[1]}].")
    _same_dtype(self, mat2, "expected scalar type {} but found {}")
    return _keep(np.matmul(_blas(self), _blas(mat2)), self)


bmm = Op("bmm", _bmm, ("self", "mat2"), dtype=NONE)
bmm.defvjp(self=lambda grad, mat2: bmm(grad, _cj(transpose(mat2, 1, 2))),
           mat2=lambda grad, self: bmm(_cj(transpose(self, 1, 2)), grad))


def _matmul_nd(self, other):
    _same_dtype(self, other, "expected m1 and m2 to have the same dtype, but got: {} != {}")
    try:
        return _keep(np.matmul(_blas(self), _blas(other)), self)
    except ValueError:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{self.shape[-3] if self.ndim > 2 else 1}, {self.shape[-1]}] but got: "
                           f"[{other.shape[-3] if other.ndim > 2 else 1}, {other.shape[-2]}].") from None


def _addmm_fwd(self, mat1, mat2, beta, alpha):
    s1, s2, dt = mat1.shape, mat2.shape, mat1.dtype
    if beta == 1 and alpha == 1 and s1[1] == s2[0] and s1[0] != 1 and mat2.dtype is dt and self.dtype is dt and \
            self.shape == s2[1:]:  # F.linear's call (the checks below pass): product plus the bias row
        out = _gemm(mat1, mat2)
        out += self
        return _keep(out, mat1)
    if mat1.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({mat1.shape[0]}x{mat1.shape[1]} and "
                           f"{mat2.shape[0]}x{mat2.shape[1]})")
    if mat1.dtype != mat2.dtype:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {_TN.get(str(mat1.dtype))} and "
                           f"{_TN.get(str(mat2.dtype))}")
    if self.dtype != mat2.dtype:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got {_TN.get(str(self.dtype))} and "
                           f"{_TN.get(str(mat2.dtype))}")
    if self.ndim > 2:
        shape = ", ".join(map(str, self.shape))
        raise RuntimeError(f"expand(torch.{_TN.get(str(self.dtype), '')}Tensor{{[{shape}]}}, size=[{mat1.shape[0]}, "
                           f"{mat2.shape[1]}]): the number of sizes provided (2) must be greater or equal to the "
                           f"number of dimensions in the tensor ({self.ndim})")
    if mat1.shape[0] == 1 and alpha == 1 and beta == 1 and self.ndim <= 2 and self.size in (1, mat2.shape[1]):
        r = _row_mm(mat1, mat2, self)
        if r is not None:
            return r
    out = _blas(mat1) @ _blas(mat2)
    if alpha != 1:
        out *= alpha
    if beta == 0:  # torch ignores self then (nan and inf included)
        return _keep(out, mat1)
    try:
        out += self if beta == 1 else beta * self  # self broadcast over the rows
    except ValueError:
        for i in range(1, self.ndim + 1):
            if self.shape[-i] != 1 and self.shape[-i] != out.shape[-i]:
                raise RuntimeError(
                    f"The expanded size of the tensor ({out.shape[-i]}) must match the existing size "
                    f"({self.shape[-i]}) at non-singleton dimension {2 - i}.  Target sizes: "
                    f"[{out.shape[0]}, {out.shape[1]}].  Tensor sizes: [{', '.join(map(str, self.shape))}]"
                ) from None
        raise
    return _keep(out, mat1)


# beta * self + alpha * (mat1 @ mat2), one node (F.linear's); the registry sums self's gradient back to its shape
addmm = Op("addmm", _addmm_fwd, ("self", "mat1", "mat2"), ("beta", "alpha"), node="AddmmBackward0", dtype=NONE)
addmm.defvjp(self=lambda grad, beta: grad if beta == 1 else grad * _cj_number(beta),             # β
             mat1=lambda grad, mat2, alpha: _scaled(mm(grad, _cj(transpose(mat2, 0, 1))), alpha),  # α G Bᴴ
             # α Aᴴ G, computed as (Gᵀ A)ᵀ: for F.linear mat2 is the transposed weight, so the weight's
             # gradient (after TBackward0) comes out C-contiguous, as torch's
             mat2=lambda grad, mat1, alpha: _scaled(_cj(transpose(mm(transpose(grad, 0, 1), _cj(mat1)), 0, 1)),
                                                    alpha))


def _cj_number(v):
    return v.conjugate() if isinstance(v, complex) else v


def _scaled(x, alpha):
    return x if alpha == 1 else x * _cj_number(alpha)


# batched matmul with broadcasting: torch names its node after the final reshape
matmul_nd = Op("matmul", _matmul_nd, ("self", "other"), node="UnsafeViewBackward0", dtype=NONE)
matmul_nd.defvjp(self=lambda grad, other: matmul_nd(grad, _cj(transpose(other, -1, -2))),
                 other=lambda grad, self: matmul_nd(_cj(transpose(self, -1, -2)), grad))


def _should_fold(a, b) -> bool:
    """torch's should_fold: fold the larger operand into a matrix (mm/mv) instead of a batched product."""
    a_larger = a.ndim >= b.ndim
    t1 = a._data if a_larger else np.swapaxes(b._data, -1, -2)
    small = b if a_larger else a
    if not (t1.ndim >= 3 and small.ndim <= 2):
        return False
    if small.requires_grad:
        return True
    if a.ndim == 2:
        return False
    if t1.size == 0:
        return True
    st, sh = t1.strides, t1.shape
    return all(st[i] == st[i + 1] * sh[i + 1] for i in range(t1.ndim - 2))


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Mirrors `torch.matmul`: dot, mv, mm, a folded mm/mv, or a broadcast batched product, following
    torch's own case analysis so that results carry the same grad_fn."""
    from .shape import reshape, squeeze_dim_, unsafe_view
    a, b = input.ndim, other.ndim
    if a == 0 or b == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {a}D and {b}D")
    if a == 1 and b == 1:
        return dot(input, other)
    if a == 2 and b == 1:
        return mv(input, other)
    if a == 1 and b == 2:
        return squeeze_dim_(mm(unsqueeze(input, 0), other), (0,))
    if a == 2 and b == 2:
        return mm(input, other)
    if _should_fold(input, other):
        trans = b > a
        t1 = transpose(other, -1, -2) if trans else input
        t2 = (transpose(input, 0, 1) if a == 2 else input) if trans else other
        shape1 = tuple(t1.shape)
        if t2.ndim == 2 and shape1[-1] != t2.shape[0] or t2.ndim == 1 and shape1[-1] != t2.shape[0]:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({int(np.prod(shape1[:-1]))}x{shape1[-1]} "
                               f"and {'x'.join(map(str, t2.shape))})")
        folded = reshape(t1, (-1, shape1[-1]))
        if t2.ndim == 2:
            out = unsafe_view(mm(folded, t2), shape1[:-1] + (t2.shape[1],))
            if trans:
                out = transpose(out, -1, -2)
                if not out._data.flags.c_contiguous:
                    from .pointwise import clone
                    out = clone(out)  # torch's .contiguous()
            return out
        return unsafe_view(mv(folded, t2), shape1[:-1])
    if a == 1 or b == 1:
        x = unsqueeze(input, 0) if a == 1 else input
        y = unsqueeze(other, 1) if b == 1 else other
        r = matmul_nd(x, y)
        shape = r.shape[:-2] + ((r.shape[-2],) if a > 1 else ()) + ((r.shape[-1],) if b > 1 else ())
        return unsafe_view(r, tuple(shape))
    return matmul_nd(input, other)


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """Mirrors `torch.outer` (composed: x[:, None] * y, as torch's MulBackward0 shows)."""
    return reshape(input, (-1, 1)) * vec2


# -- forward mode (autograd/forward_ad.py): how each op's jvp is derived; ops not listed transpose their vjp
for _op in (mm, dot, mv, bmm, matmul_nd):
    _op.defjvp(multilinear=True)
