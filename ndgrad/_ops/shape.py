"""Shape ops (reshape, permute, squeeze, expand, cat, stack...) and indexing, with derivatives.

Views (reshape of contiguous data, permute, transpose, basic indexing, expand) return NumPy views
and share the version counter of their base, as torch's views do.
"""
from __future__ import annotations

import numpy as np

from ._addat import add_at
from .._tensor import Tensor
from . import _registry as R
from ._registry import NONE, SAME, Op, _Op1
from .pointwise import zeros_like


def _infer_shape(shape, numel):
    if shape.__class__ is tuple:  # the common case, a full shape of the right size: no list, no search
        known = 1
        for s in shape:
            if s < 0:
                break
            known *= s
        else:
            if known == numel:
                return shape
    shape = list(shape)
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"invalid shape dimension {s}")
            known *= s
    if neg:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape[neg[0]] = numel // known
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return tuple(shape)


def _reshape(self, shape):
    return self.reshape(_infer_shape(shape, self.size))


def _needs_copy(a, shape) -> bool:
    """Whether NumPy must copy to reshape `a` (then torch's reshape is a copy, not a view)."""
    try:
        shape = _infer_shape(shape, a.size)
    except RuntimeError:
        return False  # let the op raise
    r = a.view()
    try:
        r.shape = shape
    except AttributeError:
        return True
    return False


class _Reshape(_Op1):
    """reshape is a view (ViewBackward0) when the strides allow one, else a copy (UnsafeViewBackward0)."""

    # the same test at the head of the generated call (_fastcall.py), after `data = x._data`
    _prelude = ("    if not data.flags.c_contiguous and needs_copy(data, args[1]):",
                "        return unsafe_view(*args)")

    @staticmethod
    def _prelude_env() -> dict:
        return {"needs_copy": _needs_copy, "unsafe_view": unsafe_view}

    def __call__(self, *args):
        if self.__class__ is _Reshape and R._hot(self):
            return R._specialized(self, args)  # (its own code from now on)
        x = args[0]
        if isinstance(x, Tensor) and not x._data.flags.c_contiguous and _needs_copy(x._data, args[1]):
            return unsafe_view(*args)
        return _Op1.__call__(self, *args)


R._CALLS[_Reshape] = _Reshape.__dict__["__call__"]


reshape = _Reshape("reshape", _reshape, ("self",), ("shape",), node="ViewBackward0", dtype=SAME, view=True)
reshape.defvjp(self=lambda grad, self_shape: reshape(grad, self_shape))  # reshape back
# a reshape that owns its result (no shared version counter), as torch's _unsafe_view
unsafe_view = Op("reshape", _reshape, ("self",), ("shape",), node="UnsafeViewBackward0", dtype=SAME)
unsafe_view.defvjp(self=lambda grad, self_shape: reshape(grad, self_shape))


def _view(self, shape):
    shape = _infer_shape(shape, self.size)
    r = self.view()
    try:
        r.shape = shape  # raises rather than copy when the strides can't express the view
    except AttributeError:
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at least one "
                           "dimension spans across two contiguous subspaces). Use .reshape(...) instead.") from None
    return r


view = Op("view", _view, ("self",), ("shape",), node="ViewBackward0", dtype=SAME, view=True)
view.defvjp(self=lambda grad, self_shape: reshape(grad, self_shape))


def _squeeze(self, dim):
    if dim is None:
        return self.squeeze()
    dims = tuple(d for d in dim if self.shape[d] == 1)
    return self.squeeze(dims) if dims else self.view()


squeeze_all = Op("squeeze", _squeeze, ("self",), ("dim",), node="SqueezeBackward0", dtype=SAME, view=True)
squeeze_dim = Op("squeeze", _squeeze, ("self",), ("dim",), node="SqueezeBackward1", dtype=SAME, view=True)
squeeze_dims = Op("squeeze", _squeeze, ("self",), ("dim",), node="SqueezeBackward2", dtype=SAME, view=True)
# the in-place squeeze_(dim) that torch's matmul applies to its own result (1-d @ 2-d)
squeeze_dim_ = Op("squeeze", _squeeze, ("self",), ("dim",), node="SqueezeBackward4", dtype=SAME)
for _o in (squeeze_all, squeeze_dim, squeeze_dims, squeeze_dim_):
    _o.defvjp(self=lambda grad, self_shape: reshape(grad, self_shape))

def _unsqueeze(self, dim):
    n = self.ndim + 1
    if not -n <= dim < n:
        return np.expand_dims(self, dim)  # (which raises NumPy's error, as before)
    d = dim % n
    shape = self.shape
    return self.reshape(shape[:d] + (1,) + shape[d:])  # what np.expand_dims does, without its Python steps


unsqueeze = Op("unsqueeze", _unsqueeze, ("self",), ("dim",), dtype=SAME, view=True)
unsqueeze.defvjp(self=lambda grad, self_shape: reshape(grad, self_shape))


def _transpose(self, dim0, dim1):
    return self.swapaxes(dim0, dim1) if self.ndim else self.view()  # 0-d: dims 0 and -1 are allowed


transpose = Op("transpose", _transpose, ("self",), ("dim0", "dim1"), dtype=SAME, view=True)
transpose.defvjp(self=lambda grad, dim0, dim1: transpose(grad, dim0, dim1))  # its own inverse
t = Op("t", lambda self: self.T, ("self",), node="TBackward0", dtype=SAME, view=True)
t.defvjp(self=lambda grad: t(grad))

permute = Op("permute", lambda self, dims: self.transpose(dims), ("self",), ("dims",), dtype=SAME,
             view=True)
permute.defvjp(self=lambda grad, dims: permute(grad, tuple(np.argsort(dims))))  # inverse permutation

def _copy_all(self, values):
    return np.broadcast_to(values, self.shape).astype(self.dtype)


# copy_, fill_, zero_ and x[...] = v over the whole tensor: every element is overwritten, so the old values
# get no gradient and the new ones get all of it (summed back to their shape by the registry)
copy_all = Op("copy_", _copy_all, ("self", "values"), node="CopyBackwards", dtype=NONE)
copy_all.defvjp(self=lambda grad: zeros_like(grad), values=lambda grad: grad)
fill_value = Op("fill_", _copy_all, ("self", "values"), node="FillBackward3", dtype=NONE)
fill_value.defvjp(self=lambda grad: zeros_like(grad), values=lambda grad: grad)
fill_number = Op("fill_", lambda self, value: np.full_like(self, value), ("self",), ("value",),
                 node="FillBackward2", dtype=SAME)
fill_number.defvjp(self=lambda grad: zeros_like(grad))
zero_all = Op("zero_", np.zeros_like, ("self",), node="ZeroBackward0", dtype=SAME)
zero_all.defvjp(self=lambda grad: zeros_like(grad))

# -- in-place writes through a view (torch's CopySlices on the base) --------------------------------------------
def apply_chain(x: Tensor, chain: tuple[tuple[Op, tuple], ...]) -> Tensor:
    """Re-derive a view from its base: the recorded view ops applied in turn (dual, so differentiable)."""
    for op, params in chain:
        x = op(x, *params)
    return x


def _chain_np(a, chain):
    for op, params in chain:
        a = op.fwd(a, *params)
    return a


def _zero_view(grad, chain):
    out = grad.copy()
    _chain_np(out, chain)[...] = 0  # the chain yields a view of `out`: this zeroes the viewed region
    return out


zero_view = Op("zero_view", _zero_view, ("grad",), ("chain",), dtype=SAME)
zero_view.defvjp(grad=lambda grad, chain: zero_view(grad, chain))


def _copy_view(self, values, chain):
    out = self.copy()
    _chain_np(out, chain)[...] = values
    return out


copy_view = Op("copy_view", _copy_view, ("self", "values"), ("chain",), node="CopySlices", dtype=NONE)
copy_view.defvjp(self=lambda grad, chain: zero_view(grad, chain),       # the overwritten region gets nothing
                 values=lambda grad, chain: apply_chain(grad, chain))   # the written values get what flowed there

# -- joining and splitting --------------------------------------------------------------------------------


def _cat(tensors, dim, sizes=None):
    if sizes is not None and None in sizes:  # a legacy empty 1-d tensor: skipped, but kept in the graph
        tensors = [t for t, s in zip(tensors, sizes) if s is not None]
    return np.concatenate(tensors, axis=dim)


def _split_sizes(grad, dim, sizes):
    out = []
    start = 0
    for s in sizes:
        if s is None:
            out.append(reshape(narrow(grad, dim, 0, 0), (0,)))
            continue
        out.append(narrow(grad, dim, start, s))
        start += s
    return out


cat = Op("cat", _cat, ("tensors",), ("dim", "sizes"), variadic=True)
cat.defvjp(tensors=lambda grad, dim, sizes: _split_sizes(grad, dim, sizes))  # each piece gets its slice

stack = Op("stack", lambda tensors, dim: np.stack(tensors, axis=dim), ("tensors",), ("dim",), variadic=True)
stack.defvjp(tensors=lambda grad, dim: unbind(grad, dim))


def _narrow(self, dim, start, length):
    idx = [slice(None)] * self.ndim
    idx[dim] = slice(start, start + length)
    return self[tuple(idx)]


def _narrow_backward(grad, self_shape, dim, start, length):
    return pad_slice(grad, self_shape, dim, start, length)


narrow = Op("narrow", _narrow, ("self",), ("dim", "start", "length"), node="SliceBackward0", dtype=SAME,
            view=True)
narrow.defvjp(self=lambda grad, self_shape, dim, start, length: pad_slice(grad, self_shape, dim, start, length))


def _unfold(self, dim, size, step):
    """Windows of `size` every `step` along `dim`, as a new last dimension: a strided view (windows may overlap)."""
    if self.ndim == 0:
        return self.reshape(1)
    shape, strides = self.shape, self.strides
    count = (shape[dim] - size) // step + 1
    return np.lib.stride_tricks.as_strided(
        self, shape[:dim] + (count,) + shape[dim + 1:] + (size,),
        strides[:dim] + (strides[dim] * step,) + strides[dim + 1:] + (strides[dim],), writeable=self.flags.writeable)


def _unfold_backward(grad, shape, dim, size, step):
    """unfold's adjoint: each window's gradient added back where the window lies."""
    out = np.zeros(shape, grad.dtype)
    if not shape:
        out[()] = grad[0]
        return out
    count = grad.shape[dim]
    idx = [slice(None)] * len(shape)
    for k in range(size):
        idx[dim] = slice(k, k + step * (count - 1) + 1, step)
        out[tuple(idx)] += grad[..., k]
    return out


unfold = Op("unfold", _unfold, ("self",), ("dimension", "size", "step"), node="UnfoldBackward0", dtype=SAME,
            view=True)
unfold_backward = Op("unfold_backward", _unfold_backward, ("grad",), ("shape", "dim", "size", "step"),
                     node="UnfoldBackwardBackward0", dtype=SAME)
unfold.defvjp(self=lambda grad, self_shape, dimension, size, step:
              unfold_backward(grad, self_shape, dimension, size, step))
unfold_backward.defvjp(grad=lambda grad, dim, size, step: unfold(grad, dim, size, step))


def _pad_slice(grad, shape, dim, start, length):
    out = np.zeros(shape, grad.dtype)
    idx = [slice(None)] * len(shape)
    idx[dim] = slice(start, start + length)
    out[tuple(idx)] = grad
    return out


pad_slice = Op("slice_backward", _pad_slice, ("grad",), ("shape", "dim", "start", "length"), dtype=SAME)
pad_slice.defvjp(grad=lambda grad, dim, start, length: narrow(grad, dim, start, length))


def _unbind(self, dim):
    return tuple(np.take(self, i, axis=dim) for i in range(self.shape[dim]))


unbind = Op("unbind", _unbind, ("self",), ("dim",), dtype=SAME, view=True, n_out=2)


# the registry materializes zeros for unused outputs, so every piece has a gradient here
unbind.defvjp(self=lambda grads, dim: stack(list(grads), dim))  # each slice's gradient back to its place


def _split(self, dim, sizes):
    out, start = [], 0
    idx = [slice(None)] * self.ndim
    for s in sizes:
        idx[dim] = slice(start, start + s)
        out.append(self[tuple(idx)])
        start += s
    return tuple(out)


split = Op("split", _split, ("self",), ("dim", "sizes"), node="SplitBackward0", dtype=SAME, view=True,
                n_out=2)
split_with_sizes = Op("split_with_sizes", _split, ("self",), ("dim", "sizes"),
                      node="SplitWithSizesBackward0", dtype=SAME, view=True, n_out=2)
for _o in (split, split_with_sizes):
    _o.defvjp(self=lambda grads, dim, sizes: cat(list(grads), dim, list(sizes)))  # pieces back in place

# -- indexing -----------------------------------------------------------------------------------------------


def _getitem(self, idx):
    try:
        r = self[idx]
    except IndexError as e:
        msg = str(e)
        if msg.startswith("shape mismatch"):  # torch's wording, with its shape lists
            shapes = [list(a.shape) for a in idx if isinstance(a, np.ndarray)]
            raise IndexError("shape mismatch: indexing tensors could not be broadcast together with shapes "
                             + ", ".join(str(sh) for sh in shapes)) from None
        raise
    if not isinstance(r, np.ndarray):
        r = self[(*idx, Ellipsis)]  # every dim taken by an int: a 0-d view, not a scalar copy
    return r


def _basic_backward(grad, shape, idx):
    out = np.zeros(shape, grad.dtype)
    out[idx] = grad
    return out


def _advanced_backward(grad, shape, idx):
    out = np.zeros(shape, grad.dtype)
    add_at(out, idx, grad)  # repeated indices accumulate
    return out


index_basic_backward = Op("index_basic_backward", _basic_backward, ("grad",), ("shape", "idx"), dtype=SAME)
index_basic_backward.defvjp(grad=lambda grad, idx: index_basic(grad, idx))
index_put_backward = Op("index_put_backward", _advanced_backward, ("grad",), ("shape", "idx"), dtype=SAME)
index_put_backward.defvjp(grad=lambda grad, idx: index_adv(grad, idx))


def _make_index_op(node):
    op = Op("index", _getitem, ("self",), ("idx",), node=node, dtype=SAME, view=True)
    op.defvjp(self=lambda grad, self_shape, idx: index_basic_backward(grad, self_shape, idx))
    return op


select = _make_index_op("SelectBackward0")
slice_ = _make_index_op("SliceBackward0")
index_basic = _make_index_op("AliasBackward0")
unsqueeze_index = _make_index_op("UnsqueezeBackward0")
index_adv = Op("index", _getitem, ("self",), ("idx",), node="IndexBackward0", dtype=SAME)
index_adv.defvjp(self=lambda grad, self_shape, idx: index_put_backward(grad, self_shape, idx))


def _setitem(self, values, idx):
    out = self.copy()
    out[idx] = values
    return out


def _zero_at(grad, idx):
    out = grad.copy()
    out[idx] = 0
    return out


zero_at = Op("zero_at", _zero_at, ("grad",), ("idx",), dtype=SAME)
zero_at.defvjp(grad=lambda grad, idx: zero_at(grad, idx))


def _make_setitem(node, gather):
    op = Op("index_put", _setitem, ("self", "values"), ("idx",), node=node, dtype=NONE)
    op.defvjp(self=lambda grad, idx: zero_at(grad, idx),       # overwritten positions get no gradient
              values=lambda grad, idx: gather(grad, idx))      # the values get what flowed there
    return op


copy_slices = _make_setitem("CopySlices", lambda g, idx: index_basic(g, idx))
index_put = _make_setitem("IndexPutBackward0", lambda g, idx: index_adv(g, idx))


# -- forward mode (autograd/forward_ad.py): how each op's jvp is derived; ops not listed transpose their vjp
for _op in (reshape, unsafe_view, view, squeeze_all, squeeze_dim, squeeze_dims, squeeze_dim_, unsqueeze, transpose, t,
            permute, copy_all, fill_value, zero_all, zero_view, copy_view, cat, stack, narrow, pad_slice, unbind, split,
            split_with_sizes, index_basic_backward, index_put_backward, select, slice_, index_basic, unsqueeze_index,
            index_adv, zero_at, copy_slices, index_put):
    _op.defjvp(linear=True)
fill_number.defjvp(lambda ts, self, value, result: zero_all(ts[0]))  # constant output
