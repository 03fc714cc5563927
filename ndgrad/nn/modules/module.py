"""Mirrors `torch.nn`: Module, the base class of every layer.

A Module keeps its state in three ordered dicts, `_parameters`, `_buffers` and `_modules`, filled by plain
attribute assignment (`__setattr__` routes a Parameter, a Module, or a tensor assigned to a registered buffer
name into the right dict) and read back through `__getattr__`. Every traversal (parameters, state_dict,
train, _apply...) walks these dicts in insertion order, which gives torch's key names and orders.
"""
from __future__ import annotations

import functools
import itertools
from collections import OrderedDict, namedtuple
from typing import Any, Callable, Iterator, Mapping

from ... import _dtype as D
from ..._tensor import Tensor
from ...autograd.function import Function
from ...autograd.grad_mode import no_grad, state as _grad_mode
from ...autograd.graph import RemovableHandle
from ..parameter import Buffer, Parameter
from ..._warn import warn as _warn

__all__ = ["Module"]


def _typename(obj: Any) -> str:
    """torch.typename: 'torch.FloatTensor' for tensors, else the qualified type name."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module = obj.__class__.__module__ or ""
        qualname = obj.__class__.__qualname__
    if module in ("", "builtins"):
        return qualname
    return f"{module}.{qualname}"


def _addindent(s: str, num_spaces: int) -> str:
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    first = lines.pop(0)
    return first + "\n" + "\n".join(num_spaces * " " + line for line in lines)


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What `load_state_dict` returns; prints `<All keys matched successfully>` when both lists are empty."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


class _ModuleHandle(RemovableHandle):
    """A RemovableHandle that also clears the hook's flags (with_kwargs, always_call) kept beside it."""

    def __init__(self, hooks: dict, *extra: dict) -> None:
        super().__init__(hooks)
        self._extra = extra

    def remove(self) -> None:
        """Unregister the hook and forget its flags."""
        super().remove()
        for d in self._extra:
            d.pop(self.id, None)


def _add_hook(hooks: dict, hook: Callable, prepend: bool, flags: tuple = ()) -> RemovableHandle:
    """Register `hook` (first when `prepend`); `flags` are (dict, bool) pairs recording its options by id."""
    handle = _ModuleHandle(hooks, *(d for d, _ in flags))
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    for d, on in flags:
        if on:
            d[handle.id] = True
    return handle


class BackwardHookFunction(Function):
    """Identity on tensors whose backward calls a module's backward hooks (torch's node name)."""

    @staticmethod
    def forward(ctx: Any, on_backward: Callable, *args: Tensor) -> tuple:
        """Pass the tensors through unchanged."""
        ctx.on_backward = on_backward
        ctx.set_materialize_grads(False)
        ctx.mark_non_differentiable(*[a for a in args if not a.requires_grad])
        return args

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> tuple:
        """Hand the gradients to the module's hooks; return what they leave."""
        return (None,) + tuple(ctx.on_backward(grads))


class _BackwardHookState:
    """One call's link between the output side (grad_output known) and the input side (grad_input known)."""

    def __init__(self, module: "Module", n_inputs: int) -> None:
        self.module = module
        self.n_inputs = n_inputs
        self.input_idx: list[int] | None = None
        self.grad_outputs: tuple | None = None

    @staticmethod
    def _apply(fn: Callable, values: Any) -> tuple[Any, list[int] | None]:
        """Run the tensors among `values` (a tensor or a tuple) through BackwardHookFunction."""
        single = isinstance(values, Tensor)
        items = (values,) if single else values
        if not isinstance(items, tuple):
            return values, None
        idx = [i for i, v in enumerate(items) if isinstance(v, Tensor)]
        if not any(items[i].requires_grad for i in idx):
            return values, None
        new = BackwardHookFunction.apply(fn, *[items[i] for i in idx])
        out = list(items)
        for i, t in zip(idx, new):
            out[i] = t
        return (out[0] if single else tuple(out)), idx

    def wrap_inputs(self, args: tuple) -> tuple:
        """Route the positional tensor inputs through a hook node."""
        self.input_meta = [(a.shape, a.dtype) if isinstance(a, Tensor) else None for a in args]
        args, self.input_idx = self._apply(self._on_inputs, args)
        if self.input_idx is None:
            _warn("Full backward hook is firing when gradients are computed with respect to module outputs "
                  "since no inputs require gradients. See https://docs.pytorch.org/docs/main/generated/"
                  "torch.nn.Module.html#torch.nn.Module.register_full_backward_hook for more details.",
                  stacklevel=3)
        return args

    def wrap_outputs(self, result: Any) -> Any:
        """Route the output tensor(s) through a hook node."""
        result, _ = self._apply(self._on_outputs, result)
        return result

    def _on_outputs(self, grads: tuple) -> tuple:
        m = self.module
        for hook in list(m._backward_pre_hooks.values()):
            res = hook(m, grads)
            if res is None:
                continue
            if not isinstance(res, tuple):
                res = (res,)
            if len(res) != len(grads):
                raise RuntimeError(f"Backward pre hook returned an invalid number of grad_output, got {len(res)}, "
                                   f"but expected {len(grads)}")
            grads = res
        self.grad_outputs = grads
        if self.input_idx is None and m._backward_hooks:
            grad_inputs = (None,) * self.n_inputs
            for hook in list(m._backward_hooks.values()):
                res = hook(m, grad_inputs, grads)
                if res is not None and not (isinstance(res, tuple) and all(r is None for r in res)):
                    raise RuntimeError("Backward hook for Modules where no input requires gradient should always "
                                       "return None or None for all gradients.")
        return grads

    def _on_inputs(self, grads: tuple) -> tuple:
        m = self.module
        idx = self.input_idx or []
        from ..._creation import zeros
        grads = tuple(zeros(self.input_meta[i][0], dtype=self.input_meta[i][1]) if g is None else g  # torch's zeros
                      for i, g in zip(idx, grads))
        grad_inputs: tuple = tuple(grads[idx.index(i)] if i in idx else None for i in range(self.n_inputs))
        for hook in list(m._backward_hooks.values()):
            res = hook(m, grad_inputs, self.grad_outputs)
            if res is None:
                continue
            if not isinstance(res, tuple):
                res = (res,)
            if len(res) != len(grad_inputs):
                raise RuntimeError(f"Backward hook returned an invalid number of grad_input, got {len(res)}, but "
                                   f"expected {len(grad_inputs)}")
            grad_inputs = res
        return tuple(grad_inputs[i] for i in idx)


def _forward_unimplemented(self: "Module", *input: Any) -> None:
    raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')


_HOOK_DICTS = ("_forward_pre_hooks", "_forward_pre_hooks_with_kwargs", "_forward_hooks", "_forward_hooks_with_kwargs",
               "_forward_hooks_always_called", "_backward_hooks", "_backward_pre_hooks", "_state_dict_hooks",
               "_state_dict_pre_hooks", "_load_state_dict_pre_hooks", "_load_state_dict_post_hooks")


def _fresh_like(t: Tensor) -> Tensor:
    """A tensor of t's shape and dtype with new (uninitialised) storage."""
    import numpy as _np
    from ..._tensor import _wrap
    return _wrap(_np.empty_like(t._data))


class Module:
    """Base class for all neural network modules. Mirrors `torch.nn.Module`."""

    dump_patches = False
    _version = 1
    training: bool
    call_super_init = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if not self.call_super_init and kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got an unexpected keyword argument "
                            f"'{next(iter(kwargs))}'")
        if not self.call_super_init and args:
            raise TypeError(f"{type(self).__name__}.__init__() takes 1 positional argument but {len(args) + 1} "
                            "were given")
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = {}
        d["_buffers"] = {}
        d["_non_persistent_buffers_set"] = set()
        d["_modules"] = {}
        for k in _HOOK_DICTS:
            d[k] = OrderedDict()
        if self.call_super_init:
            super().__init__(*args, **kwargs)

    forward: Callable[..., Any] = _forward_unimplemented

    # -- registration ---------------------------------------------------------------------------------------
    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or None) under `name`. Mirrors `Module.register_parameter`."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"parameter name should be a string. Got {_typename(name)}")
        if "." in name:
            raise KeyError('parameter name can\'t contain "."')
        if name == "":
            raise KeyError('parameter name can\'t be empty string ""')
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is None:
            self._parameters[name] = None
        elif not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{_typename(param)}' object to parameter '{name}' "
                            "(torch.nn.Parameter or None required)")
        elif param.grad_fn is not None:
            raise ValueError(f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must be "
                             f"created explicitly. To express '{name}' as a function of another Tensor, compute "
                             "the value in the forward() method.")
        else:
            self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a buffer (state that is not a parameter). Mirrors `Module.register_buffer`."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"buffer name should be a string. Got {_typename(name)}")
        if "." in name:
            raise KeyError('buffer name can\'t contain "."')
        if name == "":
            raise KeyError('buffer name can\'t be empty string ""')
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{_typename(tensor)}' object to buffer '{name}' "
                            "(torch Tensor or None required)")
        if isinstance(tensor, Buffer):
            persistent = tensor.__dict__.get("persistent", persistent)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: "Module | None") -> None:
        """Add a child module under `name`. Mirrors `Module.add_module`."""
        if not isinstance(module, Module) and module is not None:
            raise TypeError(f"{_typename(module)} is not a Module subclass")
        if not isinstance(name, str):
            raise TypeError(f"module name should be a string. Got {_typename(name)}")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        if "." in name:
            raise KeyError(f'module name can\'t contain ".", got: {name}')
        if name == "":
            raise KeyError('module name can\'t be empty string ""')
        self._modules[name] = module

    def register_module(self, name: str, module: "Module | None") -> None:
        """Alias for `add_module`."""
        self.add_module(name, module)

    def __getattr__(self, name: str) -> Any:
        d = self.__dict__
        if "_parameters" in d:
            p = d["_parameters"]
            if name in p:
                return p[name]
        if "_buffers" in d:
            b = d["_buffers"]
            if name in b:
                return b[name]
        if "_modules" in d:
            m = d["_modules"]
            if name in m:
                return m[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__

        def remove_from(*containers: Any) -> None:
            for c in containers:
                if name in c:
                    if isinstance(c, dict):
                        del c[name]
                    else:
                        c.discard(name)

        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            remove_from(d, self._buffers, self._modules, self._non_persistent_buffers_set)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as parameter '{name}' "
                                "(torch.nn.Parameter or None expected)")
            self.register_parameter(name, value)
        else:
            modules = d.get("_modules")
            if isinstance(value, Module):
                if modules is None:
                    raise AttributeError("cannot assign module before Module.__init__() call")
                remove_from(d, self._parameters, self._buffers, self._non_persistent_buffers_set)
                modules[name] = value
            elif modules is not None and name in modules:
                if value is not None:
                    raise TypeError(f"cannot assign '{_typename(value)}' as child module '{name}' "
                                    "(torch.nn.Module or None expected)")
                modules[name] = value
            else:
                buffers = d.get("_buffers")
                if isinstance(value, Buffer) or (buffers is not None and name in buffers):
                    if buffers is None:
                        raise AttributeError("cannot assign buffer before Module.__init__() call")
                    if value is not None and not isinstance(value, Tensor):
                        raise TypeError(f"cannot assign '{_typename(value)}' as buffer '{name}' "
                                        "(torch.nn.Buffer, torch.Tensor or None expected)")
                    if isinstance(value, Buffer):
                        persistent = value.__dict__.get("persistent", True)
                    else:
                        persistent = name not in self._non_persistent_buffers_set
                    remove_from(d, self._parameters, self._modules)
                    self.register_buffer(name, value, persistent)
                else:
                    object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        d = self.__dict__
        if name in d.get("_parameters", ()):
            del self._parameters[name]
        elif name in d.get("_buffers", ()):
            del self._buffers[name]
            self._non_persistent_buffers_set.discard(name)
        elif name in d.get("_modules", ()):
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        keys = (dir(self.__class__) + list(self.__dict__) + list(self._parameters) + list(self._modules)
                + list(self._buffers))
        return sorted(k for k in keys if not k[0].isdigit())

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        for k in _HOOK_DICTS:
            self.__dict__.setdefault(k, OrderedDict())
        self.__dict__.setdefault("_non_persistent_buffers_set", set())

    # -- lookup -----------------------------------------------------------------------------------------------
    def get_submodule(self, target: str) -> "Module":
        """The submodule at dotted path `target`. Mirrors `Module.get_submodule`."""
        if target == "":
            return self
        mod: Module = self
        for item in target.split("."):
            if not hasattr(mod, item):
                raise AttributeError(mod._get_name() + " has no attribute `" + item + "`")
            mod = getattr(mod, item)
            if not isinstance(mod, Module):
                raise AttributeError("`" + item + "` is not an nn.Module")
        return mod

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at dotted path `target`. Mirrors `Module.get_parameter`."""
        module_path, _, param_name = target.rpartition(".")
        mod = self.get_submodule(module_path)
        if not hasattr(mod, param_name):
            raise AttributeError(mod._get_name() + " has no attribute `" + param_name + "`")
        param = getattr(mod, param_name)
        if not isinstance(param, Parameter):
            raise AttributeError("`" + param_name + "` is not an nn.Parameter")
        return param

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at dotted path `target`. Mirrors `Module.get_buffer`."""
        module_path, _, buffer_name = target.rpartition(".")
        mod = self.get_submodule(module_path)
        if not hasattr(mod, buffer_name):
            raise AttributeError(mod._get_name() + " has no attribute `" + buffer_name + "`")
        buffer = getattr(mod, buffer_name)
        if buffer_name not in mod._buffers:
            raise AttributeError("`" + buffer_name + "` is not a buffer")
        return buffer

    # -- traversal -------------------------------------------------------------------------------------------
    def _named_members(self, get_members: Callable, prefix: str = "", recurse: bool = True,
                       remove_duplicate: bool = True) -> Iterator[tuple[str, Any]]:
        memo: set = set()
        modules = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse
                   else [(prefix, self)])
        for module_prefix, module in modules:
            for k, v in get_members(module):
                if v is None or v in memo:
                    continue
                if remove_duplicate:
                    memo.add(v)
                yield module_prefix + ("." if module_prefix else "") + k, v

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Iterate over parameters (each once). Mirrors `Module.parameters`."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """Iterate over (dotted name, parameter). Mirrors `Module.named_parameters`."""
        return self._named_members(lambda m: m._parameters.items(), prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Iterate over buffers. Mirrors `Module.buffers`."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        """Iterate over (dotted name, buffer). Mirrors `Module.named_buffers`."""
        return self._named_members(lambda m: m._buffers.items(), prefix, recurse, remove_duplicate)

    def children(self) -> Iterator["Module"]:
        """Iterate over immediate children. Mirrors `Module.children`."""
        for _, m in self.named_children():
            yield m

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        """Iterate over (name, immediate child). Mirrors `Module.named_children`."""
        memo: set = set()
        for name, module in self._modules.items():
            if module is not None and module not in memo:
                memo.add(module)
                yield name, module

    def modules(self) -> Iterator["Module"]:
        """Iterate over all modules in the tree, self first. Mirrors `Module.modules`."""
        for _, m in self.named_modules():
            yield m

    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, "Module"]]:
        """Iterate over (dotted name, module), self first with name `prefix`. Mirrors `Module.named_modules`."""
        if memo is None:
            memo = set()
        if self not in memo:
            if remove_duplicate:
                memo.add(self)
            yield prefix, self
            for name, module in self._modules.items():
                if module is None:
                    continue
                sub = prefix + ("." if prefix else "") + name
                yield from module.named_modules(memo, sub, remove_duplicate)

    # -- modes and gradients ---------------------------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        """Set training mode on self and all descendants. Mirrors `Module.train`."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self) -> "Module":
        """Set evaluation mode (`train(False)`). Mirrors `Module.eval`."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        """Set `requires_grad` of every parameter. Mirrors `Module.requires_grad_`."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters. Mirrors `Module.zero_grad`."""
        for p in self.parameters():
            g = p._grad
            if g is None:
                continue
            if set_to_none:
                p._grad = None
            else:
                if g.grad_fn is not None:
                    g.detach_()
                else:
                    g.requires_grad_(False)
                g.zero_()

    def share_memory(self) -> "Module":
        """No-op on CPU NumPy arrays. Mirrors `Module.share_memory`."""
        return self

    # -- applying functions ----------------------------------------------------------------------------------
    def apply(self, fn: Callable[["Module"], Any]) -> "Module":
        """Call `fn` on every descendant, then on self. Mirrors `Module.apply`."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    def _apply(self, fn: Callable[[Tensor], Tensor], recurse: bool = True) -> "Module":
        """Replace each parameter's and buffer's data by `fn(tensor)`, keeping the Parameter objects."""
        if recurse:
            for module in self.children():
                module._apply(fn)
        for key, param in self._parameters.items():
            if param is None:
                continue
            with no_grad():
                applied = fn(param)
            param.data = applied
            if param._grad is not None:
                with no_grad():
                    g = fn(param._grad)
                param._grad.data = g
        for key, buf in self._buffers.items():
            if buf is not None:
                self._buffers[key] = fn(buf)
        return self

    def to(self, *args: Any, **kwargs: Any) -> "Module":
        """Cast floating-point parameters and buffers to a dtype and/or check a device. Mirrors `Module.to`."""
        from ..._creation import device as _device
        dtype = kwargs.pop("dtype", None)
        dev = kwargs.pop("device", None)
        kwargs.pop("non_blocking", None)
        fmt = kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError(f"to() received an invalid combination of arguments - got unexpected keyword "
                            f"'{next(iter(kwargs))}'")
        for a in args:
            if isinstance(a, D.dtype):
                dtype = a
            elif isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, bool) or a is None:  # non_blocking / copy flags
                continue
            elif isinstance(a, (str, int, _device)):
                dev = a
            else:
                raise TypeError(f"to() received an invalid combination of arguments - got ({type(a).__name__})")
        if isinstance(dev, (str, _device)):
            from ..._creation import _check_device
            _check_device(dev)  # raises for anything but the cpu, as a CPU-only torch does
        elif isinstance(dev, int):
            from ..._creation import NO_CUDA
            raise AssertionError(NO_CUDA)  # an integer names a CUDA device in torch
        if dtype is not None and not (dtype.is_floating_point or dtype.is_complex):
            raise TypeError("nn.Module.to only accepts floating point or complex dtypes, but got desired "
                            f"dtype={dtype}")
        if dtype is None and fmt is None:
            return self

        def convert(t: Tensor) -> Tensor:
            d = dtype if dtype is not None and (t.is_floating_point() or t.is_complex()) else t.dtype
            if fmt is not None and t.dim() in (4, 5):  # (torch's test: 4-d and 5-d tensors take the format)
                return t.to(d, memory_format=fmt)
            return t.to(d)

        return self._apply(convert)

    def _cast_floats(self, dtype: D.dtype) -> "Module":
        return self._apply(lambda t: t.to(dtype) if t.is_floating_point() else t)

    def float(self) -> "Module":
        """Cast floating-point parameters and buffers to float32. Mirrors `Module.float`."""
        return self._cast_floats(D.float32)

    def double(self) -> "Module":
        """Cast floating-point parameters and buffers to float64. Mirrors `Module.double`."""
        return self._cast_floats(D.float64)

    def half(self) -> "Module":
        """Cast floating-point parameters and buffers to float16. Mirrors `Module.half`."""
        return self._cast_floats(D.float16)

    def type(self, dst_type: Any) -> "Module":
        """Cast all parameters and buffers to `dst_type`. Mirrors `Module.type`."""
        return self._apply(lambda t: t.type(dst_type))

    def cuda(self, device: Any = None) -> "Module":
        """Raises as in a CPU-only torch. Mirrors `Module.cuda`."""
        from ..._creation import NO_CUDA
        raise AssertionError(NO_CUDA)

    def to_empty(self, *, device: Any, recurse: bool = True) -> "Module":
        """Mirrors `Module.to_empty`: parameters and buffers get new, uninitialised storage on `device`
        (only the CPU here)."""
        from ..._creation import _check_device
        _check_device(device)
        return self._apply(_fresh_like)

    def compile(self, *args: Any, **kwargs: Any) -> None:
        """Mirrors `Module.compile`: compiles this module's forward in place (see ndgrad.compile)."""
        from ... import _compile
        _compile.compile(_compile.MODULE_CHECK, *args, **kwargs)  # torch's argument checks
        opts = {k: kwargs[k] for k in ("fullgraph", "disable") if k in kwargs}
        self.__dict__["forward"] = _compile.CompiledFunction(type(self).forward.__get__(self), self, **opts)

    def cpu(self) -> "Module":
        """Parameters already live on the CPU. Mirrors `Module.cpu`."""
        return self._apply(lambda t: t.cpu())

    # -- hooks and calling -----------------------------------------------------------------------------------
    def register_forward_pre_hook(self, hook: Callable, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """hook(module, args) [or (module, args, kwargs)] runs before forward and may replace the inputs."""
        return _add_hook(self._forward_pre_hooks, hook, prepend,
                         ((self._forward_pre_hooks_with_kwargs, with_kwargs),))

    def register_forward_hook(self, hook: Callable, *, prepend: bool = False, with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:
        """hook(module, args, output) [or (module, args, kwargs, output)] runs after forward and may replace
        the output."""
        return _add_hook(self._forward_hooks, hook, prepend, ((self._forward_hooks_with_kwargs, with_kwargs),
                                                             (self._forward_hooks_always_called, always_call)))

    def register_full_backward_pre_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """hook(module, grad_output) runs when the gradients of the module's outputs are known and may return
        replacement grad_output. Mirrors `Module.register_full_backward_pre_hook`."""
        return _add_hook(self._backward_pre_hooks, hook, prepend)

    def register_full_backward_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """hook(module, grad_input, grad_output) runs when the gradients of the module's positional inputs are
        known and may return replacement grad_input. Mirrors `Module.register_full_backward_hook`."""
        return _add_hook(self._backward_hooks, hook, prepend)

    def _call_impl(self, *args: Any, **kwargs: Any) -> Any:
        pre = self._forward_pre_hooks
        post = self._forward_hooks
        bw_pre = self._backward_pre_hooks
        bw = self._backward_hooks
        if not (pre or post or bw_pre or bw):
            return self.forward(*args, **kwargs)
        pre_kw = self._forward_pre_hooks_with_kwargs
        for hook_id, hook in list(pre.items()):
            if hook_id in pre_kw:
                res = hook(self, args, kwargs)
                if res is not None:
                    if isinstance(res, tuple) and len(res) == 2:
                        args, kwargs = res
                    else:
                        raise RuntimeError("forward pre-hook must return None or a tuple of (new_args, "
                                           f"new_kwargs), but got {res}.")
            else:
                res = hook(self, args)
                if res is not None:
                    args = res if isinstance(res, tuple) else (res,)
        state = None
        if (bw or bw_pre) and _grad_mode.enabled:
            state = _BackwardHookState(self, len(args))
            if bw:
                args = state.wrap_inputs(args)
        try:
            result = self.forward(*args, **kwargs)
        except Exception:
            for hook_id, hook in list(post.items()):
                if hook_id in self._forward_hooks_always_called:  # run even when forward fails, silenced
                    try:
                        if hook_id in self._forward_hooks_with_kwargs:
                            hook(self, args, kwargs, None)
                        else:
                            hook(self, args, None)
                    except Exception as e:  # noqa: BLE001
                        _warn("module forward hook with ``always_call=True`` raised an exception that was "
                              f"silenced as another error was raised in forward: {str(e)}", stacklevel=2)
            raise
        post_kw = self._forward_hooks_with_kwargs
        for hook_id, hook in list(post.items()):
            res = hook(self, args, kwargs, result) if hook_id in post_kw else hook(self, args, result)
            if res is not None:
                result = res
        if state is not None:
            result = state.wrap_outputs(result)
        return result

    __call__ = _call_impl

    # -- state dict ------------------------------------------------------------------------------------------
    def get_extra_state(self) -> Any:
        """Extra state saved under `_extra_state` when a subclass overrides this. Mirrors torch."""
        raise RuntimeError("Reached a code path in Module.get_extra_state() that should never be called. "
                           "Please file an issue at https://github.com/pytorch/pytorch/issues/new?template="
                           "bug-report.yml to report this bug.")

    def set_extra_state(self, state: Any) -> None:
        """Counterpart of `get_extra_state`. Mirrors torch."""
        raise RuntimeError("Reached a code path in Module.set_extra_state() that should never be called. "
                           "Please file an issue at https://github.com/pytorch/pytorch/issues/new?template="
                           "bug-report.yml to report this bug.")

    def _save_to_state_dict(self, destination: dict, prefix: str, keep_vars: bool) -> None:
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if keep_vars else buf.detach()
        if type(self).get_extra_state is not Module.get_extra_state:
            destination[prefix + "_extra_state"] = self.get_extra_state()

    def state_dict(self, *args: Any, destination: Any = None, prefix: str = "",
                   keep_vars: bool = False) -> "OrderedDict[str, Tensor]":
        """Parameters and persistent buffers by dotted name, detached. Mirrors `Module.state_dict`."""
        if args:  # torch's deprecated positional form (destination, prefix, keep_vars)
            destination = args[0]
            if len(args) > 1:
                prefix = args[1]
            if len(args) > 2:
                keep_vars = args[2]
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()  # type: ignore[attr-defined]
        meta = getattr(destination, "_metadata", None)
        local_metadata = {"version": self._version}
        if meta is not None:
            meta[prefix[:-1]] = local_metadata
        for hook in self._state_dict_pre_hooks.values():
            hook(self, prefix, keep_vars)
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)
        for hook in self._state_dict_hooks.values():
            res = hook(self, destination, prefix, local_metadata)
            if res is not None:
                destination = res
        return destination

    def _load_from_state_dict(self, state_dict: Mapping, prefix: str, local_metadata: dict, strict: bool,
                              missing_keys: list, unexpected_keys: list, error_msgs: list) -> None:
        for hook in self._load_state_dict_pre_hooks.values():
            hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs)
        persistent = {k: v for k, v in self._buffers.items() if k not in self._non_persistent_buffers_set}
        local_state = {k: v for k, v in itertools.chain(self._parameters.items(), persistent.items())
                       if v is not None}
        assign = local_metadata.get("assign_to_params_buffers", False)
        for name, param in local_state.items():
            key = prefix + name
            if key in state_dict:
                input_param = state_dict[key]
                if not isinstance(input_param, Tensor):
                    error_msgs.append(f'While copying the parameter named "{key}", expected torch.Tensor or '
                                      f"Tensor-like object from checkpoint but received {type(input_param)}")
                    continue
                if param.ndim == 0 and input_param.ndim == 1:
                    input_param = input_param[0]
                if input_param.shape != param.shape:
                    error_msgs.append(f"size mismatch for {key}: copying a param with shape {input_param.shape} "
                                      f"from checkpoint, the shape in current model is {param.shape}.")
                    continue
                try:
                    with no_grad():
                        if assign:
                            if isinstance(param, Parameter):
                                if not isinstance(input_param, Parameter):
                                    input_param = Parameter(input_param, requires_grad=param.requires_grad)
                                else:
                                    input_param.requires_grad_(param.requires_grad)
                            setattr(self, name, input_param)
                        else:
                            param.copy_(input_param)
                except Exception as ex:
                    error_msgs.append(f'While copying the parameter named "{key}", whose dimensions in the model '
                                      f"are {param.size()} and whose dimensions in the checkpoint are "
                                      f"{input_param.size()}, an exception occurred : {ex.args}.")
            elif strict:
                missing_keys.append(key)
        extra_key = prefix + "_extra_state"
        if type(self).set_extra_state is not Module.set_extra_state:
            if extra_key in state_dict:
                self.set_extra_state(state_dict[extra_key])
            elif strict:
                missing_keys.append(extra_key)
        elif strict and extra_key in state_dict:
            unexpected_keys.append(extra_key)
        if strict:
            for key in state_dict.keys():
                if key.startswith(prefix) and key != extra_key:
                    input_name = key[len(prefix):].split(".", 1)
                    if len(input_name) > 1:
                        if input_name[0] not in self._modules:
                            unexpected_keys.append(key)
                    elif input_name[0] not in local_state:
                        unexpected_keys.append(key)

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True,
                        assign: bool = False) -> _IncompatibleKeys:
        """Copy parameters and buffers from `state_dict` in place. Mirrors `Module.load_state_dict`."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        missing: list[str] = []
        unexpected: list[str] = []
        errors: list[str] = []
        metadata = getattr(state_dict, "_metadata", None)
        state_dict = OrderedDict(state_dict)
        if metadata is not None:
            state_dict._metadata = metadata  # type: ignore[attr-defined]

        def load(module: Module, local: Mapping, prefix: str = "") -> None:
            meta = {} if metadata is None else dict(metadata.get(prefix[:-1], {}))
            if assign:
                meta["assign_to_params_buffers"] = assign
            module._load_from_state_dict(local, prefix, meta, True, missing, unexpected, errors)
            for name, child in module._modules.items():
                if child is not None:
                    child_prefix = prefix + name + "."
                    load(child, {k: v for k, v in local.items() if k.startswith(child_prefix)}, child_prefix)
            keys = _IncompatibleKeys(missing, unexpected)
            for hook in module._load_state_dict_post_hooks.values():
                hook(module, keys)

        load(self, state_dict)
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in unexpected)))
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in missing)))
        if errors:
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
                self.__class__.__name__, "\n\t".join(errors)))
        return _IncompatibleKeys(missing, unexpected)

    def register_state_dict_pre_hook(self, hook: Callable) -> RemovableHandle:
        """hook(module, prefix, keep_vars) runs before `state_dict` collects this module. Mirrors torch."""
        h = RemovableHandle(self._state_dict_pre_hooks)
        self._state_dict_pre_hooks[h.id] = hook
        return h

    def register_state_dict_post_hook(self, hook: Callable) -> RemovableHandle:
        """hook(module, state_dict, prefix, local_metadata) runs after `state_dict` collected this module and
        may edit it in place. Mirrors torch."""
        h = RemovableHandle(self._state_dict_hooks)
        self._state_dict_hooks[h.id] = hook
        return h

    _register_state_dict_hook = register_state_dict_post_hook

    def register_load_state_dict_pre_hook(self, hook: Callable) -> RemovableHandle:
        """hook(module, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs)
        runs before this module loads its entries. Mirrors torch."""
        return self._register_load_state_dict_pre_hook(hook, with_module=True)

    def _register_load_state_dict_pre_hook(self, hook: Callable, with_module: bool = False) -> RemovableHandle:
        h = RemovableHandle(self._load_state_dict_pre_hooks)
        self._load_state_dict_pre_hooks[h.id] = functools.partial(hook, self) if with_module else hook
        return h

    def register_load_state_dict_post_hook(self, hook: Callable) -> RemovableHandle:
        """hook(module, incompatible_keys) runs after `load_state_dict`. Mirrors torch."""
        h = RemovableHandle(self._load_state_dict_post_hooks)
        self._load_state_dict_post_hooks[h.id] = hook
        return h

    # -- printing --------------------------------------------------------------------------------------------
    def _get_name(self) -> str:
        return self.__class__.__name__

    def extra_repr(self) -> str:
        """The text inside this module's parentheses; subclasses override it. Mirrors `Module.extra_repr`."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = ["(" + key + "): " + _addindent(repr(module), 2) for key, module in self._modules.items()]
        lines = extra_lines + child_lines
        main = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                main += extra_lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"
