"""Mirrors `torch.nn`'s lazy modules: LazyLinear, LazyConv1d/2d/3d, LazyConvTranspose1d/2d/3d, LazyBatchNorm1d/2d/3d,
LazyInstanceNorm1d/2d/3d, and the uninitialised parameters and buffers they hold until the first call.

A lazy module's parameters are `UninitializedParameter`s: placeholders without a shape. The first forward call
infers the input size, materialises them in place (the same objects, so an optimizer built before keeps working),
runs the layer's own `reset_parameters`, and turns the module into its ordinary class (LazyLinear -> Linear), as
torch does. Loading a state dict into a lazy module materialises its placeholders to the loaded shapes.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ... import _dtype as D
from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from ..parameter import Parameter
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .linear import Linear
from .more import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from .normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d

__all__ = ["UninitializedParameter", "UninitializedBuffer", "LazyLinear", "LazyConv1d", "LazyConv2d", "LazyConv3d",
           "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConvTranspose3d", "LazyBatchNorm1d", "LazyBatchNorm2d",
           "LazyBatchNorm3d", "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d"]

_SHAPE_MSG = ("Can't access the shape of an uninitialized parameter or buffer. This error usually happens in "
              "`load_state_dict` when trying to load an uninitialized parameter into an initialized one. Call "
              "`forward` to initialize the parameters before accessing their attributes.")


def _use_msg(what: str) -> str:
    return (f"Attempted to use an uninitialized parameter in {what}. This error happens when you are using a "
            "`LazyModule` or explicitly manipulating `torch.nn.parameter.UninitializedParameter` objects. When "
            "using LazyModules Call `forward` with a dummy batch to initialize the parameters before calling torch "
            "functions")


class _UninitializedMixin:
    """Refuses shape queries and arithmetic until `materialize` gives the tensor its shape and class."""

    cls_to_become: type = Tensor

    def materialize(self, shape: Any, device: Any = None, dtype: Any = None) -> None:
        """Give the placeholder `shape` (uninitialised values) and turn it into `cls_to_become`."""
        dt = self._data.dtype if dtype is None else dtype.np  # type: ignore[attr-defined]
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        self._data = np.empty(shape, dt)  # type: ignore[attr-defined]
        self.__class__ = self.cls_to_become

    @property
    def shape(self) -> Any:
        raise RuntimeError(_SHAPE_MSG)

    def detach(self) -> Any:  # state_dict() keeps the placeholder itself, as torch's does
        return self

    def __repr__(self, *, tensor_contents: Any = None) -> str:
        return f"<{type(self).__name__}>"

    __str__ = __repr__


def _refuse(name: str) -> Any:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise ValueError(_use_msg(f"<method '{name}' of 'torch._C.TensorBase' objects>"))
    return method


for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__", "__rtruediv__",
              "__matmul__", "__rmatmul__", "__neg__", "__pow__", "__getitem__", "__setitem__", "numpy", "tolist",
              "item", "add", "sub", "mul", "div", "matmul", "sum", "mean", "copy_", "fill_", "zero_", "add_",
              "mul_", "uniform_", "normal_", "t", "view", "reshape"):
    setattr(_UninitializedMixin, _name, _refuse(_name.strip("_")))


class UninitializedParameter(_UninitializedMixin, Parameter):
    """Mirrors `torch.nn.UninitializedParameter`: a Parameter without a shape yet (becomes a Parameter)."""

    cls_to_become = Parameter
    __slots__ = ()

    def __new__(cls, requires_grad: bool = True, device: Any = None, dtype: Any = None) -> "UninitializedParameter":
        dt = D.get_default_dtype() if dtype is None else dtype
        p = Parameter.__new__(cls, None, requires_grad)
        p._data = np.empty((0,), dt.np)
        return p

    def __init__(self, requires_grad: bool = True, device: Any = None, dtype: Any = None) -> None:
        pass

    def __deepcopy__(self, memo: dict) -> "UninitializedParameter":
        if id(self) not in memo:
            memo[id(self)] = UninitializedParameter(self._requires_grad, None, D.FROM_NP[self._data.dtype.type])
        return memo[id(self)]


class UninitializedBuffer(_UninitializedMixin, Tensor):
    """Mirrors `torch.nn.UninitializedBuffer`: a buffer without a shape yet (becomes a Tensor)."""

    cls_to_become = Tensor
    __slots__ = ()

    def __new__(cls, requires_grad: bool = False, device: Any = None, dtype: Any = None) -> "UninitializedBuffer":
        dt = D.get_default_dtype() if dtype is None else dtype
        b = Tensor.__new__(cls)
        b._data = np.empty((0,), dt.np)
        b._vc = [0]
        b.grad_fn = None
        b._output_nr = 0
        b._requires_grad = False
        b._grad = None
        return b

    def __init__(self, requires_grad: bool = False, device: Any = None, dtype: Any = None) -> None:
        pass


def is_lazy(t: Any) -> bool:
    return isinstance(t, _UninitializedMixin)


class LazyModuleMixin:
    """Mirrors `torch.nn.modules.lazy.LazyModuleMixin`: infers parameter shapes at the first call."""

    cls_to_become: type | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        self._load_hook = self._register_load_state_dict_pre_hook(  # type: ignore[attr-defined]
            self._lazy_load_hook)
        self._initialize_hook = self.register_forward_pre_hook(  # type: ignore[attr-defined]
            LazyModuleMixin._infer_parameters, with_kwargs=True)

    def has_uninitialized_params(self) -> bool:
        """Whether a parameter or buffer is still a placeholder."""
        return any(is_lazy(t) for t in (*self._parameters.values(), *self._buffers.values()))  # type: ignore

    def initialize_parameters(self, *args: Any, **kwargs: Any) -> None:
        """Materialise the placeholders from the first input (each lazy layer defines it)."""
        raise NotImplementedError(f"initialize_parameters is not implemented for {type(self).__name__}")

    @staticmethod
    def _infer_parameters(module: Any, args: tuple, kwargs: dict) -> None:
        module.initialize_parameters(*args, **kwargs)
        if module.has_uninitialized_params():
            raise RuntimeError(f"module {module._get_name()} has not been fully initialized")
        module._initialize_hook.remove()
        module._load_hook.remove()
        delattr(module, "_initialize_hook")
        delattr(module, "_load_hook")
        if module.cls_to_become is not None:
            module.__class__ = module.cls_to_become

    def _lazy_load_hook(self, state_dict: dict, prefix: str, local_metadata: dict, strict: bool,
                        missing_keys: list, unexpected_keys: list, error_msgs: list) -> None:
        for name, t in (*self._parameters.items(), *self._buffers.items()):  # type: ignore[attr-defined]
            key = prefix + name
            if key in state_dict and t is not None and is_lazy(t):
                src = state_dict[key]
                if not is_lazy(src):
                    with no_grad():
                        t.materialize(tuple(src._data.shape))

    def _get_name(self) -> str:
        return type(self).__name__


def _placeholder(dtype: Any) -> UninitializedParameter:
    return UninitializedParameter(dtype=dtype)


class LazyLinear(LazyModuleMixin, Linear):
    """Mirrors `torch.nn.LazyLinear`: in_features inferred from the first input."""

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device: Any = None, dtype: Any = None) -> None:
        super().__init__(0, 0, False, device, dtype)
        self.weight = _placeholder(dtype)
        self.out_features = out_features
        if bias:
            self.bias = _placeholder(dtype)

    def reset_parameters(self) -> None:
        """Linear's initialisation once the shapes are known."""
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input: Tensor) -> None:
        """in_features = input.shape[-1]."""
        if self.has_uninitialized_params():
            with no_grad():
                self.in_features = int(input._data.shape[-1])
                self.weight.materialize((self.out_features, self.in_features))
                if self.bias is not None:
                    self.bias.materialize((self.out_features,))
                self.reset_parameters()


class _LazyConvMixin(LazyModuleMixin):
    _spatial = 2

    def reset_parameters(self) -> None:
        """The convolution's initialisation once the shapes are known."""
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()  # type: ignore[misc]

    def _get_in_channels(self, input: Tensor) -> int:
        nb = self._spatial + 1
        if input.ndim not in (nb, nb + 1):
            raise RuntimeError(f"Expected {nb}D (unbatched) or {nb + 1}D (batched) input to "
                               f"{type(self).__name__}, but got input of size: {input.size()!r}")
        return int(input._data.shape[1] if input.ndim == nb + 1 else input._data.shape[0])

    def initialize_parameters(self, input: Tensor, *args: Any, **kwargs: Any) -> None:
        """in_channels from the input's channel dimension."""
        if self.has_uninitialized_params():
            self.in_channels = self._get_in_channels(input)
            if self.in_channels % self.groups != 0:
                raise ValueError("in_channels must be divisible by groups")
            if self.transposed:
                shape = (self.in_channels, self.out_channels // self.groups)
            else:
                shape = (self.out_channels, self.in_channels // self.groups)
            with no_grad():
                self.weight.materialize(shape + tuple(self.kernel_size))
                if self.bias is not None:
                    self.bias.materialize((self.out_channels,))
                self.reset_parameters()


def _lazy_conv(name: str, base: type, spatial: int, transposed: bool) -> type:
    def __init__(self: Any, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0, *rest: Any,
                 device: Any = None, dtype: Any = None, **kw: Any) -> None:
        base.__init__(self, 0, 0, kernel_size, stride, padding, *rest, device=device, dtype=dtype, **kw)
        self.weight = _placeholder(dtype)
        self.out_channels = out_channels
        if self.bias is not None:
            self.bias = _placeholder(dtype)
        self._load_hook = self._register_load_state_dict_pre_hook(self._lazy_load_hook)
        self._initialize_hook = self.register_forward_pre_hook(LazyModuleMixin._infer_parameters, with_kwargs=True)

    return type(name, (_LazyConvMixin, base), {"cls_to_become": base, "_spatial": spatial, "__init__": __init__,
                                               "__doc__": f"Mirrors `torch.nn.{name}`.", "__module__": __name__})


LazyConv1d = _lazy_conv("LazyConv1d", Conv1d, 1, False)
LazyConv2d = _lazy_conv("LazyConv2d", Conv2d, 2, False)
LazyConvTranspose1d = _lazy_conv("LazyConvTranspose1d", ConvTranspose1d, 1, True)
LazyConvTranspose2d = _lazy_conv("LazyConvTranspose2d", ConvTranspose2d, 2, True)
LazyConv3d = _lazy_conv("LazyConv3d", Conv3d, 3, False)
LazyConvTranspose3d = _lazy_conv("LazyConvTranspose3d", ConvTranspose3d, 3, True)


class _LazyNormMixin(LazyModuleMixin):
    def reset_parameters(self) -> None:
        """The norm layer's initialisation once the shapes are known."""
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()  # type: ignore[misc]

    def initialize_parameters(self, input: Tensor) -> None:
        """num_features = input.shape[1]."""
        if self.has_uninitialized_params():
            self.num_features = int(input._data.shape[1])
            with no_grad():
                for name in ("weight", "bias", "running_mean", "running_var"):
                    t = getattr(self, name)
                    if t is not None and is_lazy(t):
                        t.materialize((self.num_features,))
                self.reset_parameters()


def _lazy_norm(name: str, base: type, affine_default: bool, track_default: bool) -> type:
    def __init__(self: Any, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = affine_default,
                 track_running_stats: bool = track_default, device: Any = None, dtype: Any = None) -> None:
        base.__init__(self, 0, eps, momentum, False, False, device, dtype)
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = _placeholder(dtype)
            self.bias = _placeholder(dtype)
        if track_running_stats:
            from ..._creation import tensor
            self.register_buffer("running_mean", UninitializedBuffer(dtype=dtype))
            self.register_buffer("running_var", UninitializedBuffer(dtype=dtype))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=D.int64))
        self._load_hook = self._register_load_state_dict_pre_hook(self._lazy_load_hook)
        self._initialize_hook = self.register_forward_pre_hook(LazyModuleMixin._infer_parameters, with_kwargs=True)

    return type(name, (_LazyNormMixin, base), {"cls_to_become": base, "__init__": __init__,
                                               "__doc__": f"Mirrors `torch.nn.{name}`.", "__module__": __name__})


LazyBatchNorm1d = _lazy_norm("LazyBatchNorm1d", BatchNorm1d, True, True)
LazyBatchNorm2d = _lazy_norm("LazyBatchNorm2d", BatchNorm2d, True, True)
LazyBatchNorm3d = _lazy_norm("LazyBatchNorm3d", BatchNorm3d, True, True)
LazyInstanceNorm1d = _lazy_norm("LazyInstanceNorm1d", InstanceNorm1d, True, True)
LazyInstanceNorm2d = _lazy_norm("LazyInstanceNorm2d", InstanceNorm2d, True, True)
LazyInstanceNorm3d = _lazy_norm("LazyInstanceNorm3d", InstanceNorm3d, True, True)

