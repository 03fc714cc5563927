"""The public functions over the op table, with torch's signatures, and the Tensor methods.

Argument parsing (dims, keepdim, scalar vs tensor operands) happens here; computing and
differentiating happen in the ops.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .. import _dtype as D
from .. import _layouts
from .._tensor import Size, Tensor, _size_at, _wrap, _wrap_dim
from .._argcheck import _rename_keepdims
from ..autograd.grad_mode import state as _mode
from . import linalg as L
from . import pointwise as P
from . import reduction as Rd
from . import shape as S
from ._registry import Op

__all__ = ['conj', 'sgn', 'angle', 'real', 'imag', 'add', 'sub', 'subtract', 'rsub', 'mul', 'multiply', 'div', 'divide', 'true_divide', 'floor_divide', 'remainder', 'fmod', 'pow', 'neg', 'negative', 'abs', 'exp', 'exp2', 'expm1', 'log', 'log2', 'log10', 'log1p', 'sqrt', 'rsqrt', 'sin', 'cos', 'tan', 'asin', 'acos', 'atan', 'sinh', 'cosh', 'tanh', 'sigmoid', 'relu', 'reciprocal', 'sign', 'floor', 'ceil', 'trunc', 'logical_not', 'bitwise_not', 'absolute', 'arcsin', 'arccos', 'arctan', 'clamp', 'clip', 'where', 'maximum', 'minimum', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'greater', 'greater_equal', 'less', 'less_equal', 'not_equal', 'logical_and', 'logical_or', 'logical_xor', 'bitwise_and', 'bitwise_or', 'bitwise_xor', 'bitwise_left_shift', 'bitwise_right_shift', 'clone', 'detach', 'sum', 'mean', 'prod', 'max', 'min', 'amax', 'amin', 'argmax', 'argmin', 'matmul', 'mm', 'addmm', 'bmm', 'mv', 'dot', 'outer', 'ger', 'reshape', 'flatten', 'squeeze', 'unsqueeze', 'transpose', 'swapaxes', 'swapdims', 't', 'permute', 'cat', 'concat', 'concatenate', 'stack', 'unbind', 'narrow', 'split', 'broadcast_to']


def _t(x: Any, name: str, arg: str = "input", pos: int = 1) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be Tensor, not {type(x).__name__}")
    return x


# -- pointwise ----------------------------------------------------------------------------------------------
def add(input: Any, other: Any, *, alpha: Any = 1, out: Any = None) -> Tensor:
    """Mirrors `torch.add`."""
    if not isinstance(input, Tensor):
        return P.add(_t(other, "add", "other", 2), input) if alpha == 1 else P.add_alpha(input, other, alpha)
    if alpha == 1 and alpha.__class__ is not bool:
        return P.add(input, other)
    return P.add_alpha(input, other, _int_alpha(input, other, alpha))


def _int_alpha(input: Tensor, other: Any, alpha: Any) -> Any:
    """alpha of add/sub, checked as torch checks it against the result's dtype: a bool only for a bool result,
    no float for an integer or bool result, and an int the integer dtype can hold (D.checked_fill; the op then
    computes modulo 2^bits)."""
    dt = D.result_type_of(tuple((D.FROM_NP[t._data.dtype], 2 if t._data.ndim else 1) if isinstance(t, Tensor)
                                else (D.scalar_dtype(t), 0) for t in (input, other))).np
    if alpha.__class__ is bool or isinstance(alpha, np.bool_):
        if dt.kind != "b":
            raise RuntimeError("Boolean alpha only supported for Boolean results.")
    elif dt.kind in "iub":
        if isinstance(alpha, float):
            raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")
        if alpha.__class__ is int and dt.kind != "b":
            D.checked_fill(alpha, dt)
    return alpha


def sub(input: Any, other: Any, *, alpha: Any = 1, out: Any = None) -> Tensor:
    """Mirrors `torch.sub`."""
    if not isinstance(input, Tensor):
        return P.rsub(_t(other, "sub", "other", 2), input, alpha)
    return P.sub(input, other, alpha if alpha == 1 and alpha.__class__ is not bool else _int_alpha(input, other, alpha))


subtract = sub


def rsub(input: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
    """Mirrors `torch.rsub`: other - alpha * input."""
    if isinstance(other, Tensor):
        return P.rsub_tt(_t(input, "rsub"), other, alpha)
    return P.rsub(_t(input, "rsub"), other, alpha)


def mul(input: Any, other: Any, *, out: Any = None) -> Tensor:
    """Mirrors `torch.mul`."""
    if not isinstance(input, Tensor):
        return P.mul(_t(other, "mul", "other", 2), input)
    return P.mul(input, other)


multiply = mul


def div(input: Any, other: Any, *, rounding_mode: str | None = None, out: Any = None) -> Tensor:
    """Mirrors `torch.div` (rounding_mode None, 'trunc' or 'floor')."""
    if rounding_mode is None:
        if not isinstance(input, Tensor):
            return P.mul(P.reciprocal(_t(other, "div", "other", 2)), input)
        return P.div(input, other)
    if rounding_mode in ("floor", "trunc"):
        if not isinstance(input, Tensor):
            input = _number_as_tensor(input, _t(other, "div", "other", 2))
        return P.div_rounding(input, other, rounding_mode)
    raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                       f"'{rounding_mode}'")


divide = true_divide = div


def _number_as_tensor(x: Any, ref: Tensor) -> Tensor:
    """A Python number as a 0-d tensor of the dtype it gives with `ref` (a number is a weak operand)."""
    d = D.result_type_of(((ref.dtype, 2 if ref.ndim else 1), (D.scalar_dtype(x), 0)))
    return _wrap(np.asarray(x, dtype=d.np))


def floor_divide(input: Any, other: Any) -> Tensor:
    """Mirrors `torch.floor_divide` (rounds toward negative infinity, as torch ≥ 1.13)."""
    if not isinstance(input, Tensor):
        input = _number_as_tensor(input, _t(other, "floor_divide", "other", 2))
    return P.floor_divide(input, other)


def remainder(input: Any, other: Any) -> Tensor:
    """Mirrors `torch.remainder` (sign of the divisor, like Python's %)."""
    if not isinstance(input, Tensor):
        return P.remainder_st(_number_as_tensor(input, _t(other, "remainder", "other", 2)), other)
    return P.remainder_tt(input, other) if isinstance(other, Tensor) else P.remainder(input, other)


def fmod(input: Tensor, other: Any) -> Tensor:
    """Mirrors `torch.fmod` (sign of the dividend, like C's fmod)."""
    _t(input, "fmod")
    return P.fmod_tt(input, other) if isinstance(other, Tensor) else P.fmod(input, other)


def pow(input: Any, exponent: Any) -> Tensor:
    """Mirrors `torch.pow`."""
    if isinstance(input, Tensor):
        if isinstance(exponent, Tensor):
            return P.pow_tt(input, exponent)
        if isinstance(exponent, np.generic):
            exponent = exponent.item()
        return P.pow(input, exponent)
    _t(exponent, "pow", "exponent", 2)
    if exponent._data.dtype.kind in "iub" and isinstance(input, float):
        exponent = exponent.to(D.get_default_dtype())
    return P.pow_st(input, exponent)


def neg(input: Tensor) -> Tensor:
    return P.neg(_t(input, "neg"))


negative = neg


def _unary(op: Op, name: str):
    def f(input: Tensor, *, out: Any = None) -> Tensor:
        if out is not None:  # torch's out= (_out.py)
            from .._out import call_with_out
            return call_with_out(name, f, (input,), {}, out)
        return op(_t(input, name))
    f.__name__ = name
    f.__qualname__ = name
    f.__doc__ = f"Mirrors `torch.{name}`."
    f._checked = True  # its signature is torch's and `_t` checks the tensor: no argument checker (_argcheck.py)
    return f


_UNARY = {name: getattr(P, name) for name in (
    "abs", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "sin", "cos", "tan", "asin",
    "acos", "atan", "sinh", "cosh", "tanh", "sigmoid", "relu", "reciprocal", "sign", "floor", "ceil", "trunc",
    "logical_not", "bitwise_not", "conj", "sgn", "angle")}
globals().update({name: _unary(op, name) for name, op in _UNARY.items()})
absolute = _unary(P.abs, "absolute")
arcsin, arccos, arctan = _unary(P.asin, "arcsin"), _unary(P.acos, "arccos"), _unary(P.atan, "arctan")


def clamp(input: Tensor, min: Any = None, max: Any = None, *, out: Any = None) -> Tensor:
    """Mirrors `torch.clamp` (scalar or tensor bounds)."""
    _t(input, "clamp")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        lo = min if min is None or isinstance(min, Tensor) else _scalar_like(min, input)
        hi = max if max is None or isinstance(max, Tensor) else _scalar_like(max, input)
        return P.clamp_t(input, lo, hi)
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if input._data.dtype.kind in "iub" and (isinstance(min, float) or isinstance(max, float)):
        input = input.to(D.get_default_dtype())
    else:
        min = None if min is None else _number_into(input, min)
        max = None if max is None else _number_into(input, max)
    return P.clamp(input, min, max)


def _number_into(t: Tensor, v: Any) -> Any:
    """A number that takes integer tensor `t`'s dtype (clamp's bounds, where's number beside it): torch's overflow
    check (D.checked_fill: -1 is 255 for uint8). A float, which promotes instead, and any number beside a tensor
    that is not an integer one pass as they are."""
    dt = t._data.dtype
    return D.checked_fill(v, dt) if dt.kind in "iu" and v.__class__ is not float else v


clip = clamp


def real(input: Tensor) -> Tensor:
    """Mirrors `torch.real` (the tensor itself when it is not complex)."""
    _t(input, "real")
    return P.real(input) if input._data.dtype.kind == "c" else input


def imag(input: Tensor) -> Tensor:
    """Mirrors `torch.imag`."""
    return P.imag(_t(input, "imag"))


def _scalar_like(v: Any, ref: Tensor) -> Tensor:
    return _wrap(np.asarray(v, dtype=ref._data.dtype))


def where(condition: Tensor, input: Any = None, other: Any = None) -> Tensor:
    """Mirrors `torch.where(condition, input, other)`."""
    if input is None and other is None:
        return tuple(_wrap(a.astype(np.int64)) for a in np.nonzero(condition._data))
    if not isinstance(condition, Tensor) or condition._data.dtype != np.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                           f"{getattr(condition, 'dtype', type(condition).__name__)}")
    if isinstance(input, Tensor) and not isinstance(other, Tensor):
        other = _number_into(input, other)
    elif isinstance(other, Tensor) and not isinstance(input, Tensor):
        input = _number_into(other, input)
    return P.where(condition, input, other)


def maximum(input: Tensor, other: Tensor) -> Tensor:
    """Mirrors `torch.maximum`."""
    return P.maximum(_t(input, "maximum"), _t(other, "maximum", "other", 2))


def minimum(input: Tensor, other: Tensor) -> Tensor:
    """Mirrors `torch.minimum`."""
    return P.minimum(_t(input, "minimum"), _t(other, "minimum", "other", 2))


def eq(input: Tensor, other: Any) -> Tensor:
    return P.eq(_t(input, "eq"), other)


def ne(input: Tensor, other: Any) -> Tensor:
    return P.ne(_t(input, "ne"), other)


def lt(input: Tensor, other: Any) -> Tensor:
    return P.lt(_t(input, "lt"), other)


def le(input: Tensor, other: Any) -> Tensor:
    return P.le(_t(input, "le"), other)


def gt(input: Tensor, other: Any) -> Tensor:
    return P.gt(_t(input, "gt"), other)


def ge(input: Tensor, other: Any) -> Tensor:
    return P.ge(_t(input, "ge"), other)


greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def logical_and(input: Tensor, other: Tensor) -> Tensor:
    return P.logical_and(input, other)


def logical_or(input: Tensor, other: Tensor) -> Tensor:
    return P.logical_or(input, other)


def logical_xor(input: Tensor, other: Tensor) -> Tensor:
    return P.logical_xor(input, other)


def bitwise_and(input: Tensor, other: Any) -> Tensor:
    return P.bitwise_and(input, other)


def bitwise_left_shift(input: Any, other: Any, *, out: Any = None) -> Tensor:
    """Mirrors `torch.bitwise_left_shift` (the `<<` operator)."""
    return P.bitwise_left_shift(input, other)


def bitwise_right_shift(input: Any, other: Any, *, out: Any = None) -> Tensor:
    """Mirrors `torch.bitwise_right_shift` (`>>`, arithmetic on signed types)."""
    return P.bitwise_right_shift(input, other)


def bitwise_or(input: Tensor, other: Any) -> Tensor:
    return P.bitwise_or(input, other)


def bitwise_xor(input: Tensor, other: Any) -> Tensor:
    return P.bitwise_xor(input, other)


def clone(input: Tensor, *, memory_format: Any = None) -> Tensor:
    """Mirrors `torch.clone`."""
    r = P.clone(_t(input, "clone"))  # (keeps the input's memory order: torch's preserve_format)
    r._data = _layouts.laid_out(r._data, memory_format)
    return r


def detach(input: Tensor) -> Tensor:
    return input.detach()


# -- reductions -----------------------------------------------------------------------------------------------
def _norm_dims(dim: Any, ndim: int) -> tuple:
    return Rd._dims(dim, ndim)


def sum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Mirrors `torch.sum`."""
    if dim.__class__ is int and dtype is None and input.__class__ is Tensor and 0 <= dim < input._data.ndim:
        return Rd.sum_dim(input, (dim,), keepdim)  # (one axis: what the general steps below do with it)
    _t(input, "sum")
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:
        if keepdim:
            return Rd.sum_dim(input, tuple(range(input.ndim)), True)
        return Rd.sum_all(input)
    if isinstance(dim, (list, tuple)) and len(dim) == 0:
        return Rd.sum_dim(input, tuple(range(input.ndim)), keepdim)
    return Rd.sum_dim(input, _norm_dims(dim, input.ndim), keepdim)


def _float_only(input: Tensor, name: str) -> None:
    if input._data.dtype.kind not in "fcV":
        raise RuntimeError(f"{name}(): could not infer output dtype. Input dtype must be either a floating point "
                           f"or complex dtype. Got: {_PRETTY_NAME[input._data.dtype.name]}")


_PRETTY_NAME = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def mean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Mirrors `torch.mean`."""
    if dim.__class__ is int and dtype is None and input.__class__ is Tensor and 0 <= dim < input._data.ndim and \
            input._data.dtype.kind in "fcV":
        return Rd.mean_dim(input, (dim,), keepdim)  # (one axis of a float tensor: what the steps below do with it)
    _t(input, "mean")
    if dtype is not None:
        input = input.to(dtype)
    _float_only(input, "mean")
    if dim is None:
        if keepdim:
            return Rd.mean_dim(input, tuple(range(input.ndim)), True)
        return Rd.mean_all(input)
    if isinstance(dim, (list, tuple)) and len(dim) == 0:
        return Rd.mean_dim(input, tuple(range(input.ndim)), keepdim)
    return Rd.mean_dim(input, _norm_dims(dim, input.ndim), keepdim)


def prod(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Mirrors `torch.prod`."""
    _t(input, "prod")
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:
        return Rd.prod_all(input)
    return Rd.prod_dim(input, _wrap_dim(dim, input.ndim), keepdim)


def _maxmin(name: str, all_op: Op, dim_op: Op, result_cls: Any, binary: Any):
    def f(input: Tensor, dim: Any = None, keepdim: bool = False, *, out: Any = None) -> Any:
        _t(input, name)
        if isinstance(dim, Tensor):
            return binary(input, dim)
        if dim is None:
            return all_op(input)
        return result_cls(*dim_op(input, _wrap_dim(dim, input.ndim), keepdim))
    f.__name__ = name
    f.__doc__ = f"Mirrors `torch.{name}`: the whole tensor, along `dim` (values, indices), or elementwise."
    return f


max = _maxmin("max", Rd.max_all, Rd.max_dim, Rd.MaxResult, maximum)
min = _maxmin("min", Rd.min_all, Rd.min_dim, Rd.MinResult, minimum)


def _check_empty_reduction(input: Tensor, name: str, dims: Any) -> None:
    """torch's errors for reductions without an identity over empty tensors."""
    if input._data.size:
        return
    if dims is None:
        raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify the "
                           f"reduction dim with the 'dim' argument.")
    for d in dims:
        if input._data.shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


def amax(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    """Mirrors `torch.amax` (ties share the gradient evenly)."""
    dims = _norm_dims(None if dim == () or dim is None else dim, input.ndim)
    _check_empty_reduction(input, "amax", None if dim == () or dim is None else dims)
    return Rd.amax(input, dims, keepdim)


def amin(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    """Mirrors `torch.amin`."""
    dims = _norm_dims(None if dim == () or dim is None else dim, input.ndim)
    _check_empty_reduction(input, "amin", None if dim == () or dim is None else dims)
    return Rd.amin(input, dims, keepdim)


def argmax(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Mirrors `torch.argmax`."""
    return Rd.argmax(input, None if dim is None else _wrap_dim(dim, input.ndim), keepdim)


def argmin(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Mirrors `torch.argmin`."""
    return Rd.argmin(input, None if dim is None else _wrap_dim(dim, input.ndim), keepdim)


# -- matrix products -------------------------------------------------------------------------------------------
def matmul(input: Tensor, other: Tensor, *, out: Any = None) -> Tensor:
    """Mirrors `torch.matmul`."""
    return L.matmul(_t(input, "matmul"), _t(other, "matmul", "other", 2))


def mm(input: Tensor, mat2: Tensor, *, out: Any = None) -> Tensor:
    """Mirrors `torch.mm`."""
    return L.mm(_t(input, "mm"), _t(mat2, "mm", "mat2", 2))


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Any = 1, alpha: Any = 1, out: Any = None) -> Tensor:
    """Mirrors `torch.addmm`: beta * input + alpha * (mat1 @ mat2)."""
    _t(input, "addmm"), _t(mat1, "addmm", "mat1", 2), _t(mat2, "addmm", "mat2", 3)
    for m, arg in ((mat1, "mat1"), (mat2, "mat2")):
        if m.ndim != 2:
            raise RuntimeError(f"{arg} must be a matrix, got {m.ndim}-D tensor")
    return L.addmm(input, mat1, mat2, beta, alpha)


def bmm(input: Tensor, mat2: Tensor, *, out: Any = None) -> Tensor:
    """Mirrors `torch.bmm`."""
    return L.bmm(_t(input, "bmm"), _t(mat2, "bmm", "mat2", 2))


def mv(input: Tensor, vec: Tensor, *, out: Any = None) -> Tensor:
    """Mirrors `torch.mv`."""
    _size_at(_t(input, "mv"), 0)
    return L.mv(input, _t(vec, "mv", "vec", 2))


def dot(input: Tensor, tensor: Tensor, *, out: Any = None) -> Tensor:
    """Mirrors `torch.dot`."""
    return L.dot(_t(input, "dot"), _t(tensor, "dot", "tensor", 2))


def outer(input: Tensor, vec2: Tensor, *, out: Any = None) -> Tensor:
    """Mirrors `torch.outer` (two 1-d tensors)."""
    _t(input, "outer")
    _t(vec2, "outer", "vec2", 2)
    _vector_arg(input, "outer", "self")
    _vector_arg(vec2, "outer", "vec2")
    return L.outer(input, vec2)


def _vector_arg(x: Tensor, name: str, arg: str) -> None:
    if x.ndim != 1:
        raise RuntimeError(f"{name}: Expected 1-D argument {arg}, but got {x.ndim}-D")


ger = outer


# -- shapes ------------------------------------------------------------------------------------------------------
def _shape_arg(shape: tuple) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list, Size)):
        shape = tuple(shape[0])
    for s in shape:
        if s.__class__ is not int:
            return tuple(int(s) for s in shape)
    return shape if shape.__class__ is tuple else tuple(shape)


def reshape(input: Tensor, shape: Sequence[int]) -> Tensor:
    """Mirrors `torch.reshape` (a view when NumPy can make one)."""
    shape = _shape_arg((shape,))
    return S.reshape(input, shape)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Mirrors `torch.flatten`."""
    nd = input.ndim
    s, e = _wrap_dim(start_dim, nd), _wrap_dim(end_dim, nd)
    if nd == 0:
        return S.reshape(input, (1,))
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    shp = input._data.shape
    n = 1
    for k in shp[s:e + 1]:
        n *= k
    return S.reshape(input, shp[:s] + (n,) + shp[e + 1:])


def squeeze(input: Tensor, dim: Any = None) -> Tensor:
    """Mirrors `torch.squeeze`."""
    if dim is None:
        return S.squeeze_all(input, None)
    if isinstance(dim, (tuple, list)):
        dims = tuple(_wrap_dim(d, input.ndim) for d in dim)
        for k, d in enumerate(dims):
            if d in dims[:k]:
                raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
        return S.squeeze_dims(input, dims)
    return S.squeeze_dim(input, (_wrap_dim(dim, input.ndim),))


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Mirrors `torch.unsqueeze`."""
    return S.unsqueeze(input, _wrap_dim(dim, input.ndim + 1))


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Mirrors `torch.transpose`."""
    nd = input.ndim
    return S.transpose(input, _wrap_dim(dim0, nd), _wrap_dim(dim1, nd))


swapaxes = swapdims = transpose


def t(input: Tensor) -> Tensor:
    """Mirrors `torch.t` (0-d and 1-d come back unchanged)."""
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return S.t(input)


def permute(input: Tensor, dims: Sequence[int]) -> Tensor:
    """Mirrors `torch.permute`."""
    nd = input.ndim
    if len(dims) != nd:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not match the length "
                           f"of the desired ordering of dimensions i.e. input.dim() = {nd} is not equal to "
                           f"len(dims) = {len(dims)}")
    dims = tuple(_wrap_dim(d, nd) for d in dims)
    if len(set(dims)) != nd:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return S.permute(input, dims)


def cat(tensors: Sequence[Tensor], dim: int = 0, *, out: Any = None) -> Tensor:
    """Mirrors `torch.cat`."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    shapes = [x._data.shape for x in tensors]
    ref = shapes[0]
    if not ref or ref == (0,):
        # the first tensor that is neither 0-d nor a legacy empty 1-d one (torch skips those), else the first not 0-d
        ref = next((s for s in shapes if s and s != (0,)), None) or next((s for s in shapes if s), shapes[0])
    nd = len(ref)
    if nd == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = _wrap_dim(dim, nd)
    before, after = ref[:d], ref[d + 1:]
    sizes = []
    for i, s in enumerate(shapes):
        if len(s) == nd and s[:d] == before and s[d + 1:] == after:
            sizes.append(s[d])
            continue
        if len(s) == 1 and s[0] == 0 and nd > 1:
            # torch skips legacy empty 1-d tensors in the result, but they stay in the graph (size None)
            sizes.append(None)
            continue
        if not s:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
        if len(s) != nd:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {nd} and {len(s)}")
        k = next(k for k in range(nd) if k != d and s[k] != ref[k])
        raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. Expected size {ref[k]} but got "
                           f"size {s[k]} for tensor number {i} in the list.")
    return S.cat(tensors, d, sizes)


concat = concatenate = cat


def stack(tensors: Sequence[Tensor], dim: int = 0, *, out: Any = None) -> Tensor:
    """Mirrors `torch.stack`."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, x in enumerate(tensors):
        if not isinstance(x, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(x).__name__}")
    for i, x in enumerate(tensors):
        if x._data.shape != tensors[0]._data.shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(tensors[0].shape)} at entry "
                               f"0 and {list(x.shape)} at entry {i}")
    return S.stack(tensors, _wrap_dim(dim, tensors[0].ndim + 1))


def unbind(input: Tensor, dim: int = 0) -> tuple:
    """Mirrors `torch.unbind`."""
    return S.unbind(input, _wrap_dim(dim, input.ndim))


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """Mirrors `torch.narrow`."""
    if input.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = _wrap_dim(dim, input.ndim)
    size = input._data.shape[d]
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start < 0:
        start += size
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return S.narrow(input, d, start, length)


def split(tensor: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple:
    """Mirrors `torch.split`."""
    if tensor.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = _wrap_dim(dim, tensor.ndim)
    n = tensor._data.shape[d]
    if isinstance(split_size_or_sections, int):
        k = split_size_or_sections
        if k < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size={k}")
        if k == 0 and n:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
        sizes = [k] * (n // k) + ([n % k] if n % k else []) if k else [0]
    else:
        sizes = list(split_size_or_sections)
        if sum_py(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at "
                               f"dimension {d}), but got split_sizes={sizes}")
    op = S.split if isinstance(split_size_or_sections, int) else S.split_with_sizes
    return op(tensor, d, tuple(sizes))


def sum_py(xs: Sequence[int]) -> int:
    total = 0
    for x in xs:
        total += x
    return total


def expand(input: Tensor, *sizes: Any) -> Tensor:
    sizes = _shape_arg(sizes)
    shp = input._data.shape
    if len(sizes) < len(shp):
        raise RuntimeError(f"expand(torch.FloatTensor{{{list(shp)}}}, size={list(sizes)}): the number of sizes provided "
                           f"({len(sizes)}) must be greater or equal to the number of dimensions in the tensor "
                           f"({len(shp)})")
    lead = len(sizes) - len(shp)
    final = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"The expanded size of the tensor ({s}) isn't allowed in a leading, "
                                   "non-existing dimension 0")
            final.append(s)
            continue
        cur = shp[i - lead]
        if s == -1:
            final.append(cur)
        elif cur == 1 or cur == s:
            final.append(s)
        else:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing size ({cur}) at "
                               f"non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: {list(shp)}")
    return Rd.expand_to(input, tuple(final))


def broadcast_to(input: Tensor, size: Sequence[int]) -> Tensor:
    return expand(input, tuple(size))


# -- op families in their own modules ------------------------------------------------------------------------
from . import indexing as _indexing  # noqa: E402
from . import linalg_ext as _linalg_ext  # noqa: E402
from . import scan as _scan  # noqa: E402
from . import special as _special  # noqa: E402
from . import activation as _activation  # noqa: E402
from ._lazy import LazyFamily as _LazyFamily  # noqa: E402

# imported on first use (_lazy.py)
_misc, _linalg_more = _LazyFamily("misc"), _LazyFamily("linalg_more")
_specfun, _compat = _LazyFamily("specfun"), _LazyFamily("compat")
_conv = _LazyFamily("conv")

FAMILIES = (_special, _scan, _indexing, _linalg_ext, _activation, _conv, _compat, _specfun, _misc, _linalg_more)

# Functions whose formulas do not conjugate yet would give wrong gradients for complex inputs: until they do,
# they refuse complex tensors that require grad (their forward values on complex data are right).
_COMPLEX_GRAD_OK = {
    "trace", "diag", "diagonal", "tril", "triu", "cumsum",  # linear with real coefficients: nothing to conjugate
    "isnan", "isinf", "isfinite", "isposinf", "isneginf", "isreal", "isclose", "allclose", "equal", "all", "any",
    "signbit", "count_nonzero", "unique", "argsort", "heaviside",  # not differentiable
}
_COMPLEX_GRAD_FAMILIES = (_special, _scan, _linalg_ext, _activation, _conv, _misc, _linalg_more)


def _real_grads_only(fn: Any, name: str) -> Any:
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if _mode.enabled:
            for a in (*args, *kwargs.values()):
                for t in (a if isinstance(a, (list, tuple)) else (a,)):
                    if isinstance(t, Tensor) and t._requires_grad and t._data.dtype.kind == "c":
                        raise NotImplementedError(f"ndgrad: the derivative of {name} for complex tensors is not "
                                                  "implemented yet")
        return fn(*args, **kwargs)
    _wraps(guarded, fn)
    return guarded


def _wraps(wrapper: Any, fn: Any) -> None:
    """functools.wraps, less its cost (hundreds of these are made at import)."""
    wrapper.__name__, wrapper.__qualname__ = getattr(fn, "__name__", "?"), getattr(fn, "__qualname__", "?")
    wrapper.__doc__, wrapper.__module__ = fn.__doc__, getattr(fn, "__module__", None)
    wrapper.__wrapped__ = fn


def _guard(fam: Any, name: str, fn: Any) -> Any:
    if fam in _COMPLEX_GRAD_FAMILIES and name not in _COMPLEX_GRAD_OK and callable(fn):
        return _real_grads_only(fn, name)
    return fn


for _fam in FAMILIES:
    globals().update({_n: _guard(_fam, _n, getattr(_fam, _n)) for _n in _fam.__all__})
    __all__ += [_n for _n in _fam.__all__ if _n not in __all__]
    _fam.METHODS.update({_n: _guard(_fam, _n, _f) for _n, _f in _fam.METHODS.items()})
_linalg_ext.LINALG.update({_n: _real_grads_only(_f, f"linalg.{_n}") for _n, _f in _linalg_ext.LINALG.items()
                           if not isinstance(_f, type)})  # LinAlgError stays a class


# numpy's spelling `keepdims=` is accepted for `keepdim=` by torch's reductions
_KEEPDIMS = ("sum", "mean", "prod", "amax", "amin", "max", "min", "std", "var", "logsumexp", "all", "any", "argmax",
             "argmin", "median", "mode", "kthvalue", "std_mean", "var_mean")


def _accept_keepdims(fn: Any) -> Any:
    import functools

    @functools.wraps(fn)
    def f(*args: Any, **kwargs: Any) -> Any:
        if "keepdims" in kwargs:
            kwargs = _rename_keepdims(fn.__name__, kwargs)
        return fn(*args, **kwargs)
    f._keepdims_alias = True  # type: ignore[attr-defined]
    return f


for _n in _KEEPDIMS:
    if _n in globals() and not getattr(globals()[_n], "_keepdims_alias", False):
        globals()[_n] = _accept_keepdims(globals()[_n])
