"""Tensor: a NumPy array plus autograd state. Mirrors `torch.Tensor`.

Operators and methods forward to the op table in `_ops`; nothing here computes a derivative.
The version counter `_vc` is a one-element list shared by a tensor, its views and `detach()`.
"""
from __future__ import annotations

from typing import Any, Callable, Iterator

import numpy as np

from . import _dtype as D
from ._warn import warn as _warn

__all__ = ["Tensor", "Size"]

_ndarray = np.ndarray
_new = object.__new__


_WARNED_FLOAT = False


def _grad_enabled() -> bool:
    from .autograd.grad_mode import state
    return state.enabled


class Size(tuple):
    """Mirrors `torch.Size`: a tuple that prints as `torch.Size([2, 3])`."""

    def __repr__(self) -> str:
        return f"torch.Size({list(self)})"

    __str__ = __repr__

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n


NONLEAF_GRAD_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute "
    "won't be populated during autograd.backward(). If you indeed want the .grad field to be populated for "
    "a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you access the non-leaf Tensor by "
    "mistake, make sure you access the leaf Tensor instead. See github.com/pytorch/pytorch/pull/30531 for "
    "more information. (Triggered internally at /__w/pytorch/pytorch/build/aten/src/ATen/core/TensorBody.h:493.)"
)
INT_REQUIRES_GRAD = "only Tensors of floating point dtype can require gradients"
INT_REQUIRES_GRAD_SET = "only Tensors of floating point and complex dtype can require gradients"
NONLEAF_REQUIRES_GRAD = (
    "you can only change requires_grad flags of leaf variables. If you want to use a computed variable in "
    "a subgraph that doesn't require differentiation use var_no_grad = var.detach().")
LEAF_INPLACE = "a leaf Variable that requires grad is being used in an in-place operation."
VIEW_LEAF_INPLACE = "a view of a leaf Variable that requires grad is being used in an in-place operation."


_backward: Any = None  # autograd.backward, bound on first use (autograd imports this module)
_run_backward: Any = None  # autograd.engine.run_backward, bound with it


def _wrap(data: np.ndarray, vc: list | None = None, grad_fn: Any = None, nr: int = 0) -> "Tensor":
    """Make a Tensor around an ndarray without copying (internal constructor)."""
    t = _new(Tensor)
    t._data = data
    t._vc = [0] if vc is None else vc
    t.grad_fn = grad_fn
    t._output_nr = nr
    t._requires_grad = grad_fn is not None
    t._grad = None
    return t


class Tensor:
    """An n-dimensional array that records operations for automatic differentiation."""

    __slots__ = ("_data", "_vc", "grad_fn", "_output_nr", "_requires_grad", "_grad", "__weakref__", "__dict__")
    # rarely set, so class defaults rather than per-tensor slots (keeps tensor creation cheap)
    _accum = None          # weakref to this leaf's AccumulateGrad node
    _hooks = None          # {id: hook} on a leaf
    _post_acc_hooks = None  # {id: hook(tensor)} run after the engine accumulated into this leaf's .grad
    _retains_grad = False
    _base = None          # for a view: the tensor whose memory it shows (never itself a view)
    _view_chain = None    # for a view: ((op, params), ...) re-deriving it from _base
    _fw_grad = None       # forward-AD tangent, set only inside a dual level (autograd/forward_ad.py)
    __array_priority__ = 1000  # NumPy scalars and arrays defer to our reflected operators
    __hash__ = object.__hash__

    def __init__(self, *args: Any) -> None:
        # legacy `torch.Tensor(data)` / `torch.Tensor(2, 3)`: default dtype, no grad
        if len(args) == 1 and not isinstance(args[0], int):
            data = np.array(args[0], dtype=D.get_default_dtype().np)
            if isinstance(args[0], (list, tuple)):
                from ._creation import _warn_if_arrays
                _warn_if_arrays(args[0], data.size)
        else:
            data = np.empty(tuple(args), dtype=D.get_default_dtype().np)
        self._data = data
        self._vc = [0]
        self.grad_fn = None
        self._output_nr = 0
        self._requires_grad = False
        self._grad = None

    # -- autograd state -------------------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if self.grad_fn is not None:
            # torch's texts: short when asking for True, with the detach() advice when asking for False
            raise RuntimeError("you can only change requires_grad flags of leaf variables." if value
                               else NONLEAF_REQUIRES_GRAD)
        if value and self._data.dtype.kind not in "fcV":
            raise RuntimeError(INT_REQUIRES_GRAD_SET)
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Mirrors `Tensor.requires_grad_` (a no-op on a non-leaf when asked for True, as in torch)."""
        if self.grad_fn is not None:
            if requires_grad:
                return self
            raise RuntimeError(NONLEAF_REQUIRES_GRAD)
        if requires_grad and self._data.dtype.kind not in "fcV":
            raise RuntimeError(INT_REQUIRES_GRAD)
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def grad(self) -> "Tensor | None":
        if self.grad_fn is not None and not self._retains_grad:
            _warn(NONLEAF_GRAD_WARNING, UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value: "Tensor | None") -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                                f"{type(value).__name__}")
            if value._data.dtype != self._data.dtype:
                raise RuntimeError(
                    f"attempting to assign a gradient with dtype '{_CPP_NAME[value._data.dtype.name]}' to a tensor "
                    f"with grad_dtype '{_PRETTY[self._data.dtype.kind, self._data.dtype.itemsize]}'. The gradient "
                    "must match the tensor's grad_dtype (defaults to the tensor's dtype). You can set the tensor's "
                    "grad_dtype attribute with a specific dtype, or None to allow any dtype. Set grad_dtype with "
                    "caution. Diverging the dtypes of a tensor and its gradient may break downstream systems that "
                    "assume they match.")
            if value._data.shape != self._data.shape:
                raise RuntimeError(f"attempting to assign a gradient of size '{list(value._data.shape)}' to a tensor "
                                   f"of size '{list(self._data.shape)}'. Please ensure that the gradient and the "
                                   "tensor are the same size")
        self._grad = value

    @property
    def _version(self) -> int:
        return self._vc[0]

    @property
    def output_nr(self) -> int:
        return self._output_nr

    @property
    def data(self) -> "Tensor":
        return _wrap(self._data)

    @data.setter
    def data(self, value: "Tensor") -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, not {type(value).__name__}")
        self._data = value._data

    def retain_grad(self) -> None:
        """Mirrors `Tensor.retain_grad`: keep `.grad` of a non-leaf after backward."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None or self._retains_grad:
            return
        import weakref
        fn = self.grad_fn
        if fn._retain is None:
            fn._retain = {}
            fn._hooked = True
        fn._retain[self._output_nr] = weakref.ref(self)
        self._retains_grad = True

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def register_hook(self, hook: Callable) -> Any:
        """Mirrors `Tensor.register_hook`: hook(grad) may return a replacement gradient."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            return self.grad_fn._add_pre_hook(self._output_nr, hook)
        from .autograd.graph import RemovableHandle
        if self._hooks is None:
            self._hooks = {}
        h = RemovableHandle(self._hooks)
        self._hooks[h.id] = hook
        return h

    def register_post_accumulate_grad_hook(self, hook: Callable) -> Any:
        """Mirrors `Tensor.register_post_accumulate_grad_hook`: hook(tensor) runs after backward has accumulated
        into this leaf's `.grad` (its return value is ignored)."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        from .autograd.graph import RemovableHandle
        if self._post_acc_hooks is None:
            self._post_acc_hooks = {}
        h = RemovableHandle(self._post_acc_hooks)
        self._post_acc_hooks[h.id] = hook
        return h

    def backward(self, gradient: "Tensor | None" = None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs: Any = None) -> None:
        """Mirrors `Tensor.backward`."""
        global _backward, _run_backward
        if _backward is None:
            from .autograd import backward as _backward
            from .autograd.engine import run_backward as _run_backward
        d = self._data
        if (gradient is None and inputs is None and not create_graph and self._requires_grad and d.size == 1
                and d.dtype.kind in "fc"):
            # the common `loss.backward()`: what autograd.backward would check and make, directly
            _run_backward((self,), [np.array(1, d.dtype) if d.ndim == 0 else np.ones(d.shape, d.dtype)],
                          bool(retain_graph), False)
            return
        _backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self) -> "Tensor":
        """A tensor sharing data and version counter, cut from the graph. Mirrors `Tensor.detach`."""
        return _wrap(self._data, self._vc)

    def detach_(self) -> "Tensor":
        """Mirrors `Tensor.detach_`."""
        self.grad_fn = None
        self._requires_grad = False
        return self

    # -- metadata -----------------------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None) -> Any:
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    @property
    def dtype(self) -> D.dtype:
        return D.FROM_NP[self._data.dtype]

    @property
    def device(self) -> Any:
        from ._creation import device
        return device("cpu")

    is_cuda = False
    is_sparse = False
    is_quantized = False
    is_meta = False
    @property
    def layout(self) -> Any:
        from ._layouts import strided
        return strided

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    def numel(self) -> int:
        return self._data.size

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind in "fV"

    def is_complex(self) -> bool:
        return self._data.dtype.kind == "c"

    def stride(self, dim: int | None = None) -> Any:
        st = tuple(s // self._data.itemsize for s in self._data.strides)
        return st if dim is None else st[_wrap_dim(dim, self._data.ndim)]

    def is_contiguous(self, memory_format: Any = None) -> bool:
        if memory_format is None:
            return bool(self._data.flags.c_contiguous)
        from ._layouts import is_contiguous
        return is_contiguous(self._data, memory_format)

    def data_ptr(self) -> int:
        return self._data.__array_interface__["data"][0]

    def cpu(self) -> "Tensor":
        return self

    def get_device(self) -> int:
        return -1

    # -- conversions ----------------------------------------------------------------------------------
    def item(self) -> Any:
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self._data.reshape(()).item()

    def tolist(self) -> Any:
        return self._data.tolist()

    def numpy(self, *, force: bool = False) -> np.ndarray:
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        return self._data

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        # NumPy and matplotlib accept tensors that do not require grad, like torch's __array__;
        # np.asarray shares memory, np.array copies (NumPy 2 passes copy=True then)
        a = self.numpy()
        if dtype is not None and np.dtype(dtype) != a.dtype:
            if copy is False:
                raise ValueError(f"converting a {self.dtype} tensor to {np.dtype(dtype)} needs a copy")
            return a.astype(dtype)
        return a.copy() if copy else a

    def __array_wrap__(self, array: np.ndarray, context: Any = None, return_scalar: bool = False) -> "Tensor":
        # NumPy ufuncs on tensors (np.sin(t)) give tensors, as torch's; bool results become uint8 as in torch
        if array.dtype == np.bool_:
            array = array.astype(np.uint8)
        return _wrap(np.asarray(array))

    def __dlpack__(self, *, stream: Any = None, max_version: Any = None, dl_device: Any = None,
                   copy: Any = None) -> Any:
        """DLPack export (shares memory). Mirrors `torch.Tensor.__dlpack__`."""
        if self._requires_grad:
            raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
        kw = {k: v for k, v in (("max_version", max_version), ("dl_device", dl_device), ("copy", copy))
              if v is not None}
        return self._data.__dlpack__(stream=stream, **kw)

    def __dlpack_device__(self) -> tuple:
        return (1, 0)   # (kDLCPU, device 0)

    def __array_namespace__(self, *, api_version: str | None = None) -> Any:
        """The Python array API namespace for tensors: `ndgrad.array_api`."""
        from . import array_api
        if api_version is not None and api_version not in array_api.SUPPORTED_VERSIONS:
            raise ValueError(f"Unrecognized array API version: {api_version!r}")
        return array_api

    def _scalar(self, kind: str) -> Any:
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        global _WARNED_FLOAT
        # torch warns for float() only, once per process, and not under no_grad
        if self._requires_grad and kind == "float" and not _WARNED_FLOAT and _grad_enabled():
            _WARNED_FLOAT = True
            _warn("Converting a tensor with requires_grad=True to a scalar may lead to unexpected "
                  "behavior.\nConsider using tensor.detach() first. (Triggered internally at "
                  "/__w/pytorch/pytorch/torch/csrc/autograd/generated/python_variable_methods.cpp:822.)",
                  UserWarning, stacklevel=3)
        return self._data.reshape(()).item()

    def __float__(self) -> float:
        return float(self._scalar("float"))

    def __int__(self) -> int:
        return int(self._scalar("int"))

    def __complex__(self) -> complex:
        return complex(self._scalar("complex"))

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._data.reshape(()).item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            if self._data.size == 0:
                raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self._data.reshape(()))  # (not .item(): vmap tells a decision on a value from taking it)

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self) -> Iterator["Tensor"]:
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __repr__(self, *, tensor_contents: Any = None) -> str:
        from ._format import format_tensor
        extras = []
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        d = self.dtype
        show = d not in (D.get_default_dtype(), D.int64, D.bool) and not (
            d is D.default_complex())
        return format_tensor(self._data, dtype_name=d.name, show_dtype=show, extras=extras)

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0:
            return self._data.item().__format__(spec)
        return object.__format__(self, spec)

    def __reduce_ex__(self, proto: int) -> Any:
        return (_rebuild, (self._data, self._requires_grad))

    def __deepcopy__(self, memo: dict) -> "Tensor":
        if self.grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the "
                               "deepcopy protocol at the moment.  If you were attempting to deepcopy a "
                               "module, this may be because of a torch.nn.utils.weight_norm usage, see "
                               "https://github.com/pytorch/pytorch/pull/103001")
        t = type(self).__new__(type(self))
        Tensor.__init__(t, 0)
        t._data = self._data.copy()
        t._requires_grad = self._requires_grad
        if self._grad is not None:
            t._grad = self._grad.__deepcopy__(memo)
        memo[id(self)] = t
        return t

    # -- in-place machinery -------------------------------------------------------------------------
    def _check_inplace(self) -> None:
        if self._requires_grad and _mode.enabled:
            fn = self.grad_fn
            if fn is None:
                raise RuntimeError(LEAF_INPLACE)
            op = fn._op
            if op is not None and op.view and op.multi:
                import re
                raise RuntimeError(
                    f"Output {self._output_nr} of {re.sub(r'Backward[0-9]*$', '', fn._name)} is a view and is being "
                    "modified inplace. This view is the output of a function that returns multiple views. Such "
                    "functions do not allow the output views to be modified inplace. You should replace the inplace "
                    "operation by an out-of-place one.")
            # writing through a view of a leaf that requires grad would change the leaf behind autograd's back
            while fn._op is not None and fn._op.view:
                fn = fn.next_functions[0][0]
                if fn is None:
                    break
                if fn.__class__ is _AccumulateGrad:
                    if np.may_share_memory(self._data, fn.variable._data):
                        raise RuntimeError(VIEW_LEAF_INPLACE)
                    break

    def _set_inplace(self, result: "Tensor") -> "Tensor":
        """Write an out-of-place result into self's memory and take over its history."""
        src = result._data
        dst = self._data
        if src.dtype != dst.dtype:
            _check_cast(src.dtype, dst.dtype)
        if src.shape != dst.shape:
            if np.broadcast_shapes(src.shape, dst.shape) != dst.shape:
                raise RuntimeError(f"output with shape {list(dst.shape)} doesn't match the broadcast shape "
                                   f"{list(np.broadcast_shapes(src.shape, dst.shape))}")
        fn = result.grad_fn
        base = self._base
        if base is not None and _mode.enabled and (result._requires_grad or base._requires_grad):
            return self._set_inplace_through_view(result, base)
        if fn is not None and _mode.enabled and fn._versions:
            _snapshot_self(fn, self)
        if src.dtype is dst.dtype and src.shape == dst.shape:
            dst[...] = src  # (what copyto does here, at a quarter of its cost)
        else:
            np.copyto(dst, src, casting="unsafe")
        self._vc[0] += 1
        if fn is not None and _mode.enabled:
            # saved outputs of the new node now live in self's buffer: point them there
            saved = fn._saved
            if isinstance(saved, list) and fn._op is not None and fn._op.saves_result:
                j = len(saved) - 1
                if saved[j] is src:
                    saved[j] = dst
                    fn._versions = [(k, self._vc, self._vc[0], t) if k == j else (k, b, v, t)
                                    for k, b, v, t in fn._versions]
            self.grad_fn = fn
            self._output_nr = result._output_nr
            self._requires_grad = True
        return self


    def _set_inplace_through_view(self, result: "Tensor", base: "Tensor") -> "Tensor":
        """In-place op on a view under grad: the base's new history is CopySlices(old base, new values), and
        the view is re-derived from it, so gradients reach both the base's past and the new values."""
        from ._ops.pointwise import cast
        from ._ops.shape import apply_chain, copy_view
        fn = result.grad_fn
        if fn is not None and fn._versions:
            _snapshot_self(fn, self)  # the op's formulas may need the view's old values
        if result._data.dtype != self._data.dtype:
            _check_cast(result._data.dtype, self._data.dtype)
            result = cast(result, self._data.dtype)
        base._set_inplace(copy_view(base, result, self._view_chain))
        fresh = apply_chain(base, self._view_chain)
        self.grad_fn = fresh.grad_fn
        self._output_nr = fresh._output_nr
        self._requires_grad = fresh._requires_grad
        return self


def _snapshot_self(fn: Any, self: Tensor) -> None:
    """An in-place op's formulas that need `self` get a copy of its old value (torch's `original_self`),
    since the op is about to overwrite the buffer they saved."""
    vers = fn._versions
    for k, (j, box, ver, t) in enumerate(vers):
        if j == 0 and t is self:
            old = _wrap(fn._saved[0].copy(), None, self.grad_fn, self._output_nr)
            fn._saved[0] = old._data
            vers = list(vers)
            vers[k] = (0, old._vc, 0, old)
            fn._versions = vers
            return


def _rebuild(data: np.ndarray, requires_grad: bool) -> Tensor:
    t = _wrap(data)
    t._requires_grad = requires_grad
    return t


def _check_cast(src: np.dtype, dst: np.dtype) -> None:
    """torch's canCast: no complex->real, float->integer, or non-bool->bool in place."""
    order = "biufc"
    ks, kd = src.kind.replace("V", "f"), dst.kind.replace("V", "f")
    if order.index(ks if ks != "u" else "i") > order.index(kd if kd != "u" else "i"):
        raise RuntimeError(f"result type {_PRETTY[src.kind, src.itemsize]} can't be cast to the desired "
                           f"output type {_PRETTY[dst.kind, dst.itemsize]}")


_CPP_NAME = {"bool": "bool", "uint8": "unsigned char", "int8": "signed char", "int16": "short int", "int32": "int",
             "int64": "long int", "float16": "c10::Half", "float32": "float", "float64": "double",
             "complex64": "c10::complex<float>", "complex128": "c10::complex<double>",
             "bfloat16": "c10::BFloat16"}
_PRETTY = {("b", 1): "Bool", ("u", 1): "Byte", ("i", 1): "Char", ("i", 2): "Short", ("i", 4): "Int",
           ("i", 8): "Long", ("f", 2): "Half", ("f", 4): "Float", ("f", 8): "Double",
           ("c", 8): "ComplexFloat", ("c", 16): "ComplexDouble", ("V", 2): "BFloat16"}


def _c_strides(shape: tuple, itemsize: int = 1) -> tuple:
    """The strides of a C-contiguous array of this shape (in elements by default, as torch's `stride()`)."""
    st, acc = [], itemsize
    for n in reversed(shape):
        st.append(acc)
        acc *= max(n, 1)
    return tuple(reversed(st))


def _size_at(t: Any, d: int) -> int:
    """`t.size(d)` as torch reads it inside its kernels: a 0-d tensor has no dimension to read."""
    if t.ndim == 0:
        raise IndexError(f"Dimension specified as {d} but tensor has no dimensions")
    return t._data.shape[_wrap_dim(d, t.ndim)]


def _wrap_dim(dim: int, ndim: int) -> int:
    if dim.__class__ is int and 0 <= dim < ndim:
        return dim  # (the common call: nothing to wrap)
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n if ndim else 0


from .autograd.grad_mode import state as _mode  # noqa: E402  (autograd imports Tensor)
from .autograd.graph import AccumulateGrad as _AccumulateGrad  # noqa: E402
