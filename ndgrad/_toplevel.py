"""Top-level spellings of Tensor methods that torch also has as functions (`torch.ravel(x)`, `torch.sigmoid_(x)`,
`torch.zero_(x)`...) and `torch.vmap`; loaded on first use (`ndgrad.__getattr__`). Each calls the method, so the
computation, its node and its errors are the method's."""
from __future__ import annotations

from typing import Any, Callable

from ._tensor import Tensor

# torch's top-level functions that are its Tensor method of the same name applied to the first argument
METHOD_FUNCTIONS = (
    "ravel", "adjoint", "resolve_conj", "resolve_neg", "is_conj", "is_neg", "conj_physical", "is_inference",
    # in-place spellings
    "abs_", "acos_", "acosh_", "addmv_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_", "arctanh_", "asin_",
    "asinh_", "atan_", "atanh_", "ceil_", "clamp_", "clamp_max_", "clamp_min_", "clip_", "cos_", "cosh_", "deg2rad_",
    "detach_", "erf_", "erfc_", "exp2_", "exp_", "expm1_", "fill_", "fix_", "floor_", "frac_", "i0_", "index_put_",
    "log10_", "log1p_", "log2_", "log_", "logit_", "nan_to_num_", "neg_", "negative_", "rad2deg_", "reciprocal_",
    "round_", "rsqrt_", "sigmoid_", "sin_", "sinc_", "sinh_", "sqrt_", "square_", "tan_", "tanh_", "trunc_", "xlogy_",
    "zero_",
)


def _function(name: str) -> Callable:
    def f(input: Tensor, *args: Any, **kwargs: Any) -> Any:
        return getattr(input, name)(*args, **kwargs)  # (the checker in front refused a non-Tensor input)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"Mirrors `torch.{name}`: `input.{name}(...)` (behind the method's signature: _signatures.py)."
    return f


globals().update({_n: _function(_n) for _n in METHOD_FUNCTIONS})


def msort(input: Tensor, *, out: Any = None) -> Tensor:
    """Mirrors `torch.msort`: sorted along the first dimension."""
    return input.sort(0)[0]


def vmap(*args: Any, **kwargs: Any) -> Any:
    """`torch.vmap` is `torch.func.vmap`."""
    from .func import vmap as _vmap
    return _vmap(*args, **kwargs)


__all__ = [*METHOD_FUNCTIONS, "msort", "vmap"]
