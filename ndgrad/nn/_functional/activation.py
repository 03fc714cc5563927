"""Mirrors the activations of `torch.nn.functional` (relu, elu, gelu, softmax, ..., normalize, cosine_similarity).

The pointwise ones run the ops of `ndgrad/_ops/activation.py` (their own backward nodes, named as torch's);
`inplace=True` writes the result into the input (torch's in-place semantics: version bump, new history).
"""
from __future__ import annotations


import numpy as _np
from typing import Any, Callable

from ... import _ops as _O
from ..._ops import activation as _A
from ..._tensor import Tensor
from ..._warn import warn as _warn

__all__: list[str] = ["relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "elu", "elu_", "selu", "selu_", "celu",
                      "celu_", "gelu", "silu", "mish", "sigmoid", "tanh", "hardtanh", "hardtanh_", "hardsigmoid",
                      "hardswish", "threshold", "threshold_", "softmax", "log_softmax", "softmin", "softsign",
                      "tanhshrink", "logsigmoid", "glu", "hardshrink", "softshrink", "normalize",
                      "cosine_similarity", "pairwise_distance"]


def _t(x: Any, name: str, arg: str = "input", pos: int = 1) -> Tensor:
    return _A._t(x, name, arg, pos)


def _apply(input: Tensor, inplace: bool, fn: Callable, *args: Any, inplace_fn: Callable | None = None) -> Tensor:
    """`fn(input, *args)`, written into `input` when `inplace` (with `inplace_fn`, the op whose node has the
    name torch gives the in-place form, where it differs)."""
    if inplace:
        input._check_inplace()
        return input._set_inplace((inplace_fn or fn)(input, *args))
    return fn(input, *args)


# -- rectifiers and friends ----------------------------------------------------------------------------------------
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """Mirrors `torch.nn.functional.relu`: max(0, x)."""
    return _apply(_t(input, "relu"), inplace, _O.relu)


def relu_(input: Tensor) -> Tensor:
    """Mirrors `torch.nn.functional.relu_` (in place)."""
    return relu(input, True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """Mirrors `torch.nn.functional.relu6`: min(max(0, x), 6) (a hardtanh, as torch's node says)."""
    return _apply(_t(input, "relu6"), inplace, _A.hardtanh_op, 0.0, 6.0)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """Mirrors `torch.nn.functional.leaky_relu`: x for x > 0, negative_slope·x otherwise."""
    return _apply(_t(input, "leaky_relu"), inplace, _A.leaky_relu_op, float(negative_slope),
                  inplace_fn=_A.leaky_relu_inplace_op)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """Mirrors `torch.nn.functional.leaky_relu_` (in place)."""
    return leaky_relu(input, negative_slope, True)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """Mirrors `torch.nn.functional.elu`: x for x > 0, alpha·(exp(x) - 1) otherwise."""
    return _apply(_t(input, "elu"), inplace, _A.elu_op, float(alpha), 1.0, 1.0, inplace_fn=_A.elu_inplace_op)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """Mirrors `torch.nn.functional.elu_` (in place)."""
    return elu(input, alpha, True)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """Mirrors `torch.nn.functional.selu`: scale·elu(x, alpha) with the self-normalising constants."""
    _t(input, "selu")
    return _apply(input, inplace, _A.elu_op, _A._SELU_ALPHA, _A._SELU_SCALE, 1.0, inplace_fn=_A.elu_inplace_op)


def selu_(input: Tensor) -> Tensor:
    """Mirrors `torch.nn.functional.selu_` (in place)."""
    return selu(input, True)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """Mirrors `torch.nn.functional.celu`: max(0, x) + min(0, alpha·(exp(x/alpha) - 1))."""
    _t(input, "celu")
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return _apply(input, inplace, _A.celu_op, float(alpha), 1.0, 1.0 / alpha, inplace_fn=_A.celu_inplace_op)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """Mirrors `torch.nn.functional.celu_` (in place)."""
    return celu(input, alpha, True)


def gelu(input: Tensor, *, approximate: str = "none") -> Tensor:
    """Mirrors `torch.nn.functional.gelu`: x·Φ(x), or its tanh approximation."""
    _t(input, "gelu")
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return _A.gelu_op(input, approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """Mirrors `torch.nn.functional.silu`: x·σ(x)."""
    return _apply(_t(input, "silu"), inplace, _A.silu_op)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """Mirrors `torch.nn.functional.mish`: x·tanh(softplus(x))."""
    return _apply(_t(input, "mish"), inplace, _A.mish_op)


def sigmoid(input: Tensor) -> Tensor:
    """Mirrors `torch.nn.functional.sigmoid`: 1 / (1 + exp(-x))."""
    return _O.sigmoid(input)


def tanh(input: Tensor) -> Tensor:
    """Mirrors `torch.nn.functional.tanh`."""
    return _O.tanh(input)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """Mirrors `torch.nn.functional.hardtanh`: x clamped to [min_val, max_val]."""
    _t(input, "hardtanh")
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _apply(input, inplace, _A.hardtanh_op, min_val, max_val)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """Mirrors `torch.nn.functional.hardtanh_` (in place; torch's kernel does not compare the bounds)."""
    _t(input, "hardtanh_")
    return _apply(input, True, _A.hardtanh_op, min_val, max_val)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """Mirrors `torch.nn.functional.hardsigmoid`: relu6(x + 3) / 6."""
    return _apply(_t(input, "hardsigmoid"), inplace, _A.hardsigmoid_op)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """Mirrors `torch.nn.functional.hardswish`: x·relu6(x + 3) / 6."""
    return _apply(_t(input, "hardswish"), inplace, _A.hardswish_op)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """Mirrors `torch.nn.functional.threshold`: x where x > threshold, else value."""
    return _apply(_t(input, "threshold"), inplace, _A.threshold_op, threshold, value,
                  inplace_fn=_A.threshold_inplace_op)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """Mirrors `torch.nn.functional.threshold_` (in place)."""
    return _apply(_t(input, "threshold"), True, _A.threshold_op, threshold, value,
                  inplace_fn=_A.threshold_inplace_op)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """Mirrors `torch.nn.functional.hardshrink`: x where |x| > lambd, else 0."""
    return _A.hardshrink(input, lambd)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """Mirrors `torch.nn.functional.softshrink`: x ∓ lambd beyond ±lambd, else 0."""
    _t(input, "softshrink")
    dt = input._data.dtype
    hi = float(_np.finfo(dt).max) if dt.kind in "fV" else 0.0
    if dt.kind in "fV" and not 0 <= lambd <= hi or lambd < 0:
        raise RuntimeError(f"lambda must be in range [0, {hi:g}] for input dtype {_A._tname(dt)}, but found "
                           f"{float(lambd):g}")
    return _A.softshrink_op(input, lambd)


def softsign(input: Tensor) -> Tensor:
    """Mirrors `torch.nn.functional.softsign`: x / (1 + |x|)."""
    return input / (input.abs() + 1)


def tanhshrink(input: Tensor) -> Tensor:
    """Mirrors `torch.nn.functional.tanhshrink`: x - tanh(x)."""
    return input - input.tanh()


def logsigmoid(input: Tensor) -> Tensor:
    """Mirrors `torch.nn.functional.logsigmoid`: log σ(x), computed without overflow."""
    return _A.logsigmoid_op(_t(input, "log_sigmoid"))


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """Mirrors `torch.nn.functional.glu`: a·σ(b), a and b the halves of the input along `dim`."""
    _t(input, "glu")
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = _A._wrap_dim(dim, input.ndim)
    if input.shape[d] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {input.shape[d]}")
    return _A.glu_op(input, d)


# -- softmax family --------------------------------------------------------------------------------------------------
def _method_of(input: Any, name: str) -> None:
    """torch's functional form calls `input.<name>(...)`: a non-tensor raises AttributeError."""
    if not isinstance(input, Tensor):
        raise AttributeError(f"'{type(input).__name__}' object has no attribute '{name}'")


def _implicit_dim(name: str, ndim: int, stacklevel: int) -> int:
    _warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X "
          "as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """Mirrors `torch.nn.functional.softmax` (no `dim`: torch's deprecated implicit choice, with its warning)."""
    _method_of(input, "softmax")
    if dim is None:
        dim = _implicit_dim("softmax", _t(input, "softmax").ndim, _stacklevel)
    return _A.softmax(input, dim, dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """Mirrors `torch.nn.functional.log_softmax` (no `dim`: the implicit choice, with torch's warning)."""
    _method_of(input, "log_softmax")
    if dim is None:
        dim = _implicit_dim("log_softmax", _t(input, "log_softmax").ndim, _stacklevel)
    return _A.log_softmax(input, dim, dtype)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """Mirrors `torch.nn.functional.softmin`: softmax(-input)."""
    if dim is None:
        dim = _implicit_dim("softmin", _t(input, "softmin").ndim, _stacklevel)
    return _A.softmax(-input, dim, dtype)


# -- normalisation and distances ---------------------------------------------------------------------------------
def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out: Any = None) -> Tensor:
    """Mirrors `torch.nn.functional.normalize`: x / max(‖x‖_p, eps) along `dim`."""
    _t(input, "normalize")
    denom = _O.clamp(_O.norm(input, p, dim, keepdim=True), min=eps).expand_as(input)
    return input / denom


cosine_similarity = _A.cosine_similarity
pairwise_distance = _A.pairwise_distance
