"""ndgrad: PyTorch's automatic differentiation on NumPy. Use it as `import ndgrad as torch`."""
from __future__ import annotations

import warnings as _warnings

# NumPy's floating-point warnings (x/0, log(0)...) raised inside ndgrad are silenced: torch is silent
_warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"ndgrad(\.|$)")

from . import _dtype
from ._dtype import (bool, cdouble, cfloat, complex64, complex128, double, dtype, float, float16, float32,
                     float64, get_default_dtype, half, int, int8, int16, int32, int64, long, promote_types,
                     set_default_dtype, short, uint8)
from ._tensor import Size, Tensor
from ._ops import *  # noqa: F401,F403  (the public functions)
from ._ops import __all__ as _ops_all
from . import _methods

_methods.bind()

from ._creation import (Generator, arange, as_tensor, default_generator, device, empty, empty_like, eye,
                        from_numpy, full, full_like, initial_seed, is_tensor, linspace, logspace, manual_seed,
                        numel, ones, ones_like, rand, rand_like, randint, randint_like, randn, randn_like,
                        randperm, scalar_tensor, seed, tensor, zeros, zeros_like)
from ._format import get_printoptions, set_printoptions
from . import autograd, linalg, optim
from .serialization import load, save
from .autograd.anomaly_mode import is_anomaly_check_nan_enabled, is_anomaly_enabled
from .autograd.grad_mode import (enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled,
                                 no_grad, set_grad_enabled)

__version__ = "0.1.0"


def is_floating_point(input: Tensor) -> "builtins.bool":
    return input.is_floating_point()


def is_complex(input: Tensor) -> "builtins.bool":
    return input.is_complex()


def result_type(tensor1: object, tensor2: object) -> dtype:
    """Mirrors `torch.result_type`."""
    key = []
    for a in (tensor1, tensor2):
        if isinstance(a, Tensor):
            key.append((a.dtype, 2 if a.ndim else 1))
        else:
            key.append((_dtype.scalar_dtype(a), 0))
    return _dtype.result_type_of(tuple(key))


def can_cast(from_: dtype, to: dtype) -> "builtins.bool":
    """Mirrors `torch.can_cast`."""
    return not (from_._cat > to._cat)


import builtins  # noqa: E402  (after the dtype names that shadow bool/int/float)


def __getattr__(name: str) -> object:
    # optional parts load on first use, keeping `import ndgrad` fast
    if name in ("viz", "cli", "nn", "func", "utils", "distributed", "multiprocessing"):
        import importlib
        return importlib.import_module(f"ndgrad.{name}")
    raise AttributeError(f"module 'ndgrad' has no attribute {name!r}")

__all__ = sorted(set(_ops_all) | {
    "Tensor", "Size", "dtype", "bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64",
    "complex64", "complex128", "half", "float", "double", "short", "int", "long", "cfloat", "cdouble",
    "get_default_dtype", "set_default_dtype", "promote_types", "result_type", "can_cast", "tensor", "as_tensor",
    "from_numpy", "zeros", "ones", "full", "empty", "zeros_like", "ones_like", "full_like", "empty_like", "arange",
    "linspace", "logspace", "eye", "rand", "randn", "randint", "rand_like", "randn_like", "randint_like", "randperm",
    "manual_seed", "seed", "initial_seed", "Generator", "default_generator", "device", "is_tensor", "numel",
    "scalar_tensor", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode",
    "is_inference_mode_enabled", "autograd", "linalg", "optim", "set_printoptions", "get_printoptions", "is_floating_point",
    "is_complex", "is_anomaly_enabled", "is_anomaly_check_nan_enabled", "save", "load"})
