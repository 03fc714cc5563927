"""Mirrors `torch.nn.init`: fill tensors in place (outside autograd) and return them.

Random fills draw from ndgrad's generator (`ndgrad.manual_seed`, or `generator=`), so the values differ from
torch's for the same seed while following the same distributions and bounds.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._creation import Generator, _gen, _rng
from .._tensor import _CPP_NAME, _PRETTY, Tensor
from .._warn import warn as _warn

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_",
           "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_",
           "sparse_", "uniform", "normal", "constant", "eye", "dirac", "xavier_uniform", "xavier_normal",
           "kaiming_uniform", "kaiming_normal", "orthogonal", "sparse"]

_LINEAR_FNS = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")


def _write(tensor: Tensor, values: Any) -> Tensor:
    """Copy `values` into the tensor's buffer (casting like torch's in-place fills) and bump its version."""
    np.copyto(tensor._data, values, casting="unsafe")
    tensor._vc[0] += 1
    return tensor


def _kind(tensor: Tensor) -> str:
    d = tensor._data.dtype
    return _PRETTY[d.kind, d.itemsize]


def _sample_uniform(tensor: Tensor, a: float, b: float, generator: Generator | None) -> np.ndarray:
    if tensor._data.dtype.kind not in "fcV":
        raise NotImplementedError(f"\"check_uniform_bounds\" not implemented for '{_kind(tensor)}'")
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a:g} > to={b:g}")
    if math.isnan(a) or math.isnan(b) or math.isinf(a) or math.isinf(b):
        raise RuntimeError(f"{'from' if not math.isfinite(a) else 'to'} is out of bounds for "
                           f"{_CPP_NAME[tensor._data.dtype.name]}")
    return _gen(generator)._torch_uniform(tensor._data.shape, tensor._data.dtype, a, b)


def _sample_normal(tensor: Tensor, mean: float, std: float, generator: Generator | None) -> np.ndarray:
    if tensor._data.dtype.kind not in "fcV":
        raise NotImplementedError(f"\"normal_kernel_cpu\" not implemented for '{_kind(tensor)}'")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    return _gen(generator)._torch_normal(tensor._data.shape, tensor._data.dtype, mean, std)


def calculate_gain(nonlinearity: str, param: int | float | None = None) -> float:
    """The recommended gain for a nonlinearity. Mirrors `nn.init.calculate_gain`."""
    if nonlinearity in _LINEAR_FNS or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif (not isinstance(param, bool) and isinstance(param, int)) or isinstance(param, float):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Fill with values drawn from U(a, b). Mirrors `nn.init.uniform_`."""
    return _write(tensor, _sample_uniform(tensor, a, b, generator))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Fill with values drawn from N(mean, std²). Mirrors `nn.init.normal_`."""
    return _write(tensor, _sample_normal(tensor, mean, std, generator))


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0,
                  generator: Generator | None = None) -> Tensor:
    """Fill with N(mean, std²) truncated to [a, b], by rejection sampling as torch 2.13 does. Mirrors
    `nn.init.trunc_normal_`."""
    if (mean < a - 2 * std) or (mean > b + 2 * std):
        _warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The distribution of values "
              "may be incorrect.", stacklevel=2)

    def norm_cdf(x: float) -> float:
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    mass = norm_cdf((b - mean) / std) - norm_cdf((a - mean) / std)
    rng = _rng(generator)
    if mass > 0.3:
        # most normal draws land in [a, b]: redraw the ones outside (bounds taken in the tensor's dtype)
        lo, hi = np.array([a, b]).astype(tensor._data.dtype).astype(np.float64)
        x = _sample_normal(tensor, mean, std, generator).astype(tensor._data.dtype).astype(np.float64)
        bad = (x < lo) | (x > hi)
        while bad.any():
            x[bad] = (mean + std * rng.standard_normal(int(bad.sum()))).astype(tensor._data.dtype)
            bad = (x < lo) | (x > hi)
        return _write(tensor, x)
    # a thin slice of the normal: uniform proposals on [a, b], accepted with the density relative to its peak
    x = np.real(_sample_uniform(tensor, a, b, generator))
    mode = max(a, min(mean, b))
    log_peak = -0.5 * ((mode - mean) / std) ** 2
    pending = np.log(rng.random(x.shape)) > (-0.5 * ((x - mean) / std) ** 2 - log_peak)
    while pending.any():
        n = int(pending.sum())
        cand = a + (b - a) * rng.random(n)
        keep = np.log(rng.random(n)) <= (-0.5 * ((cand - mean) / std) ** 2 - log_peak)
        idx = np.flatnonzero(pending)
        x.flat[idx[keep]] = cand[keep]
        pending.flat[idx[keep]] = False
    return _write(tensor, x)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with `val`. Mirrors `nn.init.constant_`."""
    if isinstance(val, Tensor):
        val = val._data
    elif not isinstance(val, (bool, int, float, complex, np.number)):
        raise TypeError("fill_() received an invalid combination of arguments - got "
                        f"({type(val).__name__}), but expected one of:\n * (Tensor value)\n      didn't match "
                        f"because some of the arguments have invalid types: (!{type(val).__name__}!)\n * (Number "
                        f"value)\n      didn't match because some of the arguments have invalid types: "
                        f"(!{type(val).__name__}!)\n")
    return _write(tensor, val)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with 1. Mirrors `nn.init.ones_`."""
    return _write(tensor, 1)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with 0. Mirrors `nn.init.zeros_`."""
    return _write(tensor, 0)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity matrix. Mirrors `nn.init.eye_`."""
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _write(tensor, np.eye(*tensor._data.shape))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill a 3/4/5-D tensor with the Dirac delta (identity convolution), per group. Mirrors `nn.init.dirac_`."""
    dims = tensor.ndim
    if dims not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    sizes = tensor._data.shape
    if sizes[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    out_per_group = sizes[0] // groups
    min_dim = min(out_per_group, sizes[1])
    values = np.zeros(sizes, dtype=tensor._data.dtype)
    centre = tuple(s // 2 for s in sizes[2:])
    for g in range(groups):
        for d in range(min_dim):
            values[(g * out_per_group + d, d) + centre] = 1
    return _write(tensor, values)


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out): dim 1 and dim 0 times the product of the remaining (receptive field) dims."""
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    shape = tensor.shape
    receptive = 1
    for s in shape[2:]:
        receptive *= s
    return shape[1] * receptive, shape[0] * receptive


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower()
    valid_modes = ["fan_in", "fan_out"]
    if mode not in valid_modes:
        raise ValueError(f"Mode {mode} not supported, please use one of {valid_modes}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Glorot uniform: U(-a, a), a = gain·sqrt(6 / (fan_in + fan_out)). Mirrors `nn.init.xavier_uniform_`."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Glorot normal: N(0, gain²·2 / (fan_in + fan_out)). Mirrors `nn.init.xavier_normal_`."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str) -> float | None:
    """He's std gain / sqrt(fan); None (after torch's warning, aimed at the caller's caller) for empty tensors."""
    if 0 in tensor.shape:
        _warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return None
    fan = _calculate_correct_fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     generator: Generator | None = None) -> Tensor:
    """He uniform: U(-b, b), b = gain·sqrt(3 / fan). Mirrors `nn.init.kaiming_uniform_`."""
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    generator: Generator | None = None) -> Tensor:
    """He normal: N(0, gain² / fan). Mirrors `nn.init.kaiming_normal_`."""
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor: Tensor, gain: float = 1, generator: Generator | None = None) -> Tensor:
    """Fill with a (semi-)orthogonal matrix from the QR of a Gaussian matrix, times `gain`. Mirrors
    `nn.init.orthogonal_` (dims after the first are flattened)."""
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    if tensor._data.dtype.kind not in "fcV":
        raise NotImplementedError(f"\"normal_kernel_cpu\" not implemented for '{_kind(tensor)}'")
    rows = tensor._data.shape[0]
    cols = tensor.numel() // rows
    flat = _rng(generator).standard_normal((rows, cols)).astype(tensor._data.dtype)
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diagonal(r))  # make the decomposition unique, as torch does
    if rows < cols:
        q = q.T
    return _write(tensor, (q * gain).reshape(tensor._data.shape))


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01, generator: Generator | None = None) -> Tensor:
    """Fill a 2-D tensor with N(0, std²) and zero a `sparsity` fraction of each column. Mirrors
    `nn.init.sparse_`."""
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor._data.shape
    num_zeros = int(math.ceil(sparsity * rows))
    values = _sample_normal(tensor, 0.0, std, generator)
    rng = _rng(generator)
    for col in range(cols):
        values[rng.permutation(rows)[:num_zeros], col] = 0
    return _write(tensor, values)


def _deprecated(new: Any) -> Any:
    old_name = new.__name__[:-1]

    def deprecated_init(*args: Any, **kwargs: Any) -> Any:
        _warn(f"`nn.init.{old_name}` is now deprecated in favor of `nn.init.{new.__name__}`.",
              FutureWarning, stacklevel=2)
        return new(*args, **kwargs)

    deprecated_init.__name__ = old_name
    deprecated_init.__doc__ = f"Deprecated alias of `{new.__name__}` (warns FutureWarning)."
    return deprecated_init


uniform = _deprecated(uniform_)
normal = _deprecated(normal_)
constant = _deprecated(constant_)
eye = _deprecated(eye_)
dirac = _deprecated(dirac_)
xavier_uniform = _deprecated(xavier_uniform_)
xavier_normal = _deprecated(xavier_normal_)
kaiming_uniform = _deprecated(kaiming_uniform_)
kaiming_normal = _deprecated(kaiming_normal_)
orthogonal = _deprecated(orthogonal_)
sparse = _deprecated(sparse_)
