"""ndgrad: PyTorch's automatic differentiation on NumPy. Use it as `import ndgrad as torch`."""
from __future__ import annotations

import warnings as _warnings

# NumPy's floating-point warnings (x/0, log(0)...) raised inside ndgrad are silenced: torch is silent
_warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"ndgrad(\.|$)")

from . import _memory

_memory.tune()  # freed arrays' memory kept for the next ones (see _memory.py; NDGRAD_MALLOC_TUNE=0 to skip)

from . import _dtype
from ._dtype import (bfloat16, bool, cdouble, cfloat, complex64, complex128, double, dtype, float, float16, float32,
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
from ._creation import range_ as range  # noqa: A004, F401  (torch.range; this module calls no builtin range)
from ._format import get_printoptions, set_printoptions
from . import autograd
from .autograd.anomaly_mode import is_anomaly_check_nan_enabled, is_anomaly_enabled
from .autograd.grad_mode import (enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled,
                                 no_grad, set_grad_enabled)

from .version import __version__  # noqa: E402  (torch's API level + ndgrad's release, comparable)


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


_SPECTRAL = ("view_as_real", "view_as_complex", "complex", "polar", "stft", "istft", "hann_window", "hamming_window",
             "blackman_window", "bartlett_window", "kaiser_window")

# names that load on first use (PEP 562), keeping `import ndgrad` fast: submodules, and (module, attribute)
_LAZY_MODULES = {"viz", "cli", "nn", "func", "utils", "cuda", "backends", "amp", "accelerator", "cpu", "version", "run",
                 "functorch", "profiler", "jit", "hub", "onnx", "testing",
                 "special", "fft", "distributions", "distributed", "multiprocessing", "library",
                 "serialization", "array_api", "_C", "optim", "linalg", "random"}
# torch's top-level functions that are its Tensor method of the same name applied to the first argument
# (ndgrad/_toplevel.py makes them, on first use)
_METHOD_FUNCTIONS = (
    "ravel", "adjoint", "resolve_conj", "resolve_neg", "is_conj", "is_neg", "conj_physical", "is_inference",
    # in-place spellings
    "abs_", "acos_", "acosh_", "addmv_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_", "arctanh_", "asin_",
    "asinh_", "atan_", "atanh_", "ceil_", "clamp_", "clamp_max_", "clamp_min_", "clip_", "cos_", "cosh_", "deg2rad_",
    "detach_", "erf_", "erfc_", "exp2_", "exp_", "expm1_", "fill_", "fix_", "floor_", "frac_", "i0_", "index_put_",
    "log10_", "log1p_", "log2_", "log_", "logit_", "nan_to_num_", "neg_", "negative_", "rad2deg_", "reciprocal_",
    "round_", "rsqrt_", "sigmoid_", "sin_", "sinc_", "sinh_", "sqrt_", "square_", "tan_", "tanh_", "trunc_", "xlogy_",
    "zero_",
)
_LAZY_ATTRS = {
    **{n: "_env" for n in ("pi", "e", "inf", "nan", "newaxis", "set_default_device", "get_default_device",
                           "get_device_module", "set_float32_matmul_precision", "get_float32_matmul_precision",
                           "use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
                           "is_deterministic_algorithms_warn_only_enabled", "set_deterministic_debug_mode",
                           "get_deterministic_debug_mode", "set_warn_always", "is_warn_always_enabled",
                           "set_flush_denormal", "set_num_threads", "get_num_threads", "set_num_interop_threads",
                           "get_num_interop_threads", "finfo", "iinfo", "typename", "get_rng_state",
                           "set_rng_state")},
    **{n: "_legacy" for n in ("FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor",
                              "CharTensor", "ByteTensor", "BoolTensor", "BFloat16Tensor", "set_default_tensor_type")},
    **{n: "amp" for n in ("autocast", "is_autocast_enabled", "get_autocast_dtype")},
    **{n: "_layouts" for n in ("layout", "memory_format", "strided", "sparse_coo", "sparse_csr", "sparse_csc",
                               "sparse_bsr", "sparse_bsc", "jagged", "contiguous_format", "channels_last",
                               "channels_last_3d", "preserve_format", "legacy_contiguous_format")},
    **{n: "_toplevel" for n in (*_METHOD_FUNCTIONS, "msort", "vmap")},
    "compile": "_compile",
    "save": "serialization", "load": "serialization",
    "from_dlpack": "utils.dlpack",
    **{n: "_ops.spectral" for n in _SPECTRAL},
    **{n: "_random_ops" for n in ("multinomial", "normal", "bernoulli", "poisson")},  # sampling ops  # complex views, polar/complex, windows, stft/istft
    **{n: "_tensor_compat" for n in ("eig", "symeig", "lstsq")},
}


def __getattr__(name: str) -> object:
    import importlib
    if name in _LAZY_MODULES:
        return importlib.import_module(f"ndgrad.{name}")
    mod = _LAZY_ATTRS.get(name)
    if mod is not None:
        m = importlib.import_module(f"ndgrad.{mod}")
        value = (m.TYPES[name] if mod == "_legacy" and name in m.TYPES else
                 m.removed(name) if mod == "_tensor_compat" else getattr(m, name))
        value = globals()[name] = _argcheck.checked(value, name, __name__)
        return value
    if name.startswith("__"):
        raise AttributeError(f"module 'ndgrad' has no attribute {name!r}")
    return importlib.import_module("ndgrad._unavailable").attribute(__name__, name)


import importlib as _importlib  # noqa: E402

_importlib.import_module("ndgrad._unavailable").install()

__all__ = sorted(set(_ops_all) | set(_SPECTRAL) | {
    "Tensor", "Size", "dtype", "bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64",
    "complex64", "complex128", "half", "float", "double", "short", "int", "long", "cfloat", "cdouble",
    "get_default_dtype", "set_default_dtype", "promote_types", "result_type", "can_cast", "tensor", "as_tensor",
    "from_numpy", "zeros", "ones", "full", "empty", "zeros_like", "ones_like", "full_like", "empty_like", "arange",
    "linspace", "logspace", "range", "eye", "rand", "randn", "randint", "rand_like", "randn_like", "randint_like", "randperm",
    "manual_seed", "seed", "initial_seed", "Generator", "default_generator", "device", "is_tensor", "numel",
    "scalar_tensor", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode",
    "is_inference_mode_enabled", "autograd", "linalg", "optim", "set_printoptions", "get_printoptions", "is_floating_point",
    "is_complex", "is_anomaly_enabled", "is_anomaly_check_nan_enabled", "save", "load", "from_dlpack",
    "multinomial", "normal", "bernoulli", "poisson"})

from . import _argcheck  # noqa: E402

_argcheck.install(globals(), __all__)  # torch's argument checks for every public function (ndgrad/_argcheck.py)
