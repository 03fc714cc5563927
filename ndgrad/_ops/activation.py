"""nn-related ops registered in the op table (activation family): softmax/log_softmax, the pointwise
activations with their own backward nodes (elu, gelu, silu, ...; in-place forms get torch's *Backward1 names),
and the losses torch gives a node of their own (nll_loss/nll_loss2d, mse, smooth_l1, huber, bce, bce with
logits, soft_margin), with clamp_min for the margin losses.

`__all__` lists only names torch has at top level (`torch.softmax`, `torch.selu`, `torch.prelu`...); the rest
are used by `ndgrad.nn.functional`. Forwards are NumPy (numerically stable: the max is subtracted before `exp`,
logsigmoid and friends never overflow); every formula is written with ndgrad ops, so double backward works.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._quiet import quiet
from .._tensor import Tensor, _wrap_dim
from ._kept import Kept
from ._registry import SAME, Op
from . import shape as S
from .pointwise import exp, select, sigmoid, sign, tanh, where
from .reduction import full_sum, mean_of, sum_dim
from .special import _erf, erf_op, softplus_op

__all__: list[str] = ["softmax", "log_softmax", "selu", "celu", "threshold", "hardshrink", "prelu", "relu_", "selu_",
                       "celu_", "threshold_", "cosine_similarity", "pairwise_distance"]

_TYPE = {"b": "Bool", "u1": "Byte", "i1": "Char", "i2": "Short", "i4": "Int", "i8": "Long",
         "f2": "Half", "f4": "Float", "f8": "Double", "c8": "ComplexFloat", "c16": "ComplexDouble"}


def _tname(dt: np.dtype) -> str:
    return _TYPE.get("b" if dt.kind == "b" else f"{dt.kind}{dt.itemsize}", str(dt))


def _t(x: Any, name: str, arg: str = "input", pos: int = 1) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be Tensor, not {type(x).__name__}")
    return x


def _float_only(fn, kernel):
    """Forward that refuses integer, bool and complex inputs as torch's float-only kernels do."""
    def f(self, *rest):
        if self.dtype.kind not in "fV":
            raise NotImplementedError(f'"{kernel}" not implemented for \'{_tname(self.dtype)}\'')
        return fn(self, *rest)
    return f


def _up(x):
    """float16 is computed in float32 (as torch's kernels accumulate), then cast back."""
    return x.astype(np.float32) if x.dtype == np.float16 else x


# -- softmax, log_softmax ----------------------------------------------------------------------------------------
def _check_kernel(x, dim, name):
    if x.dtype.kind not in "fV":
        kernel = f"{name}_lastdim_kernel_impl" if x.ndim == 0 or dim == x.ndim - 1 else f"{name}_kernel_impl"
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_tname(x.dtype)}\'')


def _softmax_fwd(self, dim):
    _check_kernel(self, dim, "softmax")
    if self.size == 0:
        return self.copy()
    a = _up(self)
    ax = dim if self.ndim else None
    with quiet():
        e = np.exp(a - np.max(a, axis=ax, keepdims=True))
        r = e / np.sum(e, axis=ax, keepdims=True)
    return r.astype(self.dtype, copy=False)


def _log_softmax_fwd(self, dim):
    _check_kernel(self, dim, "log_softmax")
    if self.size == 0:
        return self.copy()
    a = _up(self)
    ax = dim if self.ndim else None
    with quiet():
        s = a - np.max(a, axis=ax, keepdims=True)
        r = s - np.log(np.sum(np.exp(s), axis=ax, keepdims=True))
    return r.astype(self.dtype, copy=False)


def _red(dim, ndim):
    return (dim,) if ndim else ()


softmax_op = Op("softmax", _softmax_fwd, ("self",), ("dim",), node="SoftmaxBackward0", dtype=SAME)
# d softmax: J^T g = y * (g - <g, y>) along dim
softmax_op.defvjp(self=lambda grad, result, dim: result * (grad - sum_dim(grad * result, _red(dim, grad.ndim), True)))
log_softmax_op = Op("log_softmax", _log_softmax_fwd, ("self",), ("dim",), node="LogSoftmaxBackward0", dtype=SAME)
# d log_softmax: J^T g = g - softmax * sum(g) along dim
log_softmax_op.defvjp(self=lambda grad, result, dim:
                      grad - exp(result) * sum_dim(grad, _red(dim, grad.ndim), True))


def _dim_arg(dim: Any, name: str) -> int:
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{name}(): argument 'dim' (position 2) must be int, not {type(dim).__name__}")
    return int(dim)


def _cast_for(input: Tensor, dtype: Any) -> Tensor:
    if dtype is None:
        return input
    return input.to(dtype)


def softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """Mirrors `torch.softmax`: exp(x) / sum(exp(x)) along `dim` (stable; `dtype` casts the input first)."""
    _t(input, "softmax")
    d = _wrap_dim(_dim_arg(dim, "softmax"), input.ndim)
    return softmax_op(_cast_for(input, dtype), d)


def log_softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """Mirrors `torch.log_softmax`: x - logsumexp(x) along `dim` (stable; `dtype` casts the input first)."""
    _t(input, "log_softmax")
    d = _wrap_dim(_dim_arg(dim, "log_softmax"), input.ndim)
    return log_softmax_op(_cast_for(input, dtype), d)


def _softmax_method(self: Tensor, dim: int, dtype: Any = None) -> Tensor:
    return softmax(self, dim, dtype)


def _log_softmax_method(self: Tensor, dim: int, dtype: Any = None) -> Tensor:
    return log_softmax(self, dim, dtype)


# -- pointwise activations with their own nodes ---------------------------------------------------------------
def _elu_fwd(self, alpha, scale, input_scale):
    a = _up(self)
    with quiet():
        r = select(a > 0, a * scale, np.expm1(a * input_scale) * (alpha * scale))
    return r.astype(self.dtype, copy=False)


def _elu_grad(grad, self, alpha, scale, input_scale):
    # d/dx: scale for x > 0, scale·alpha·input_scale·e^(x·input_scale) otherwise (torch takes x = 0 as negative)
    return where(self > 0, grad * scale, grad * (exp(self * input_scale) * (alpha * scale * input_scale)))


elu_op = Op("elu", _float_only(_elu_fwd, "elu_cpu"), ("self",), ("alpha", "scale", "input_scale"),
            node="EluBackward0", dtype=SAME)
elu_op.defvjp(self=_elu_grad)
celu_op = Op("celu", _float_only(_elu_fwd, "elu_cpu"), ("self",), ("alpha", "scale", "input_scale"),
             node="CeluBackward0", dtype=SAME)
celu_op.defvjp(self=_elu_grad)


def _leaky_fwd(self, negative_slope):
    return select(self > 0, self, self * negative_slope).astype(self.dtype, copy=False)


leaky_relu_op = Op("leaky_relu", _float_only(_leaky_fwd, "leaky_relu_cpu"), ("self",), ("negative_slope",),
                   node="LeakyReluBackward0", dtype=SAME)
leaky_relu_op.defvjp(self=lambda grad, self, negative_slope: where(self > 0, grad, grad * negative_slope))


def _hardtanh_fwd(self, min_val, max_val):
    if self.dtype.kind == "b":
        raise NotImplementedError("\"clamp_scalar_cpu\" not implemented for 'Bool'")
    return np.clip(self, min_val, max_val).astype(self.dtype, copy=False)


hardtanh_op = Op("hardtanh", _hardtanh_fwd, ("self",), ("min_val", "max_val"), node="HardtanhBackward0", dtype=SAME)
# 1 strictly inside (min, max), 0 at and beyond the bounds (torch's convention)
hardtanh_op.defvjp(self=lambda grad, self, min_val, max_val: where((self > min_val) & (self < max_val), grad, 0.0))


def _threshold_fwd(self, threshold, value):
    return select(self <= threshold, value, self).astype(self.dtype, copy=False)  # NaN stays NaN


threshold_op = Op("threshold", _threshold_fwd, ("self",), ("threshold", "value"), node="ThresholdBackward0",
                  dtype=SAME)
threshold_op.defvjp(self=lambda grad, self, threshold: where(self <= threshold, 0.0, grad))

def _inplace_twin(op, node, **formulas):
    """The same op under the node name torch gives its in-place form (e.g. `elu_` records EluBackward1)."""
    twin = Op(op.name + "_", op.fwd, op.inputs, op.params, node=node, dtype=op.rule)
    twin.defvjp(**formulas)
    return twin


elu_inplace_op = _inplace_twin(elu_op, "EluBackward1", self=_elu_grad)
celu_inplace_op = _inplace_twin(celu_op, "CeluBackward1", self=_elu_grad)
leaky_relu_inplace_op = _inplace_twin(leaky_relu_op, "LeakyReluBackward1", self=lambda grad, self, negative_slope:
                                      where(self > 0, grad, grad * negative_slope))
threshold_inplace_op = _inplace_twin(threshold_op, "ThresholdBackward1", self=lambda grad, self, threshold:
                                     where(self <= threshold, 0.0, grad))

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_K = math.sqrt(2.0 / math.pi)
_C = 0.044715


# GELU's backward needs erf(x/√2) again, which its forward computed (float32 erf costs ~5 ns an element, the
# largest step of a transformer layer that is not a matrix product): the float32 forward keeps it (_kept.py)
_GELU_ERF = Kept()


def _gelu_fwd(self, approximate):
    a = _up(self)
    with quiet():
        if approximate == "tanh":
            r = 0.5 * a * (1.0 + np.tanh(_K * (a + _C * a * a * a)))
        else:
            e = _erf(a * _SQRT_HALF)
            r = 0.5 * a * (1.0 + e)
            if a is self and self.dtype == np.float32:
                _GELU_ERF.keep(self, None, e)
    return np.asarray(r).astype(self.dtype, copy=False)


def _gelu_grad(grad, self, approximate):
    if approximate == "tanh":
        # d/dx ½x(1 + tanh u), u = k(x + c x³): ½(1 + tanh u) + ½x(1 - tanh² u)·k(1 + 3c x²)
        x2 = self * self
        t = tanh((self + x2 * self * _C) * _K)
        return grad * ((t + 1.0) * 0.5 + self * 0.5 * (1.0 - t * t) * ((x2 * (3.0 * _C) + 1.0) * _K))
    # d/dx xΦ(x) = Φ(x) + xφ(x)
    e = _GELU_ERF.take(self, None, pop=True)
    if e is None:
        e = erf_op(self * _SQRT_HALF)
    return grad * ((e + 1.0) * 0.5 + self * exp(self * self * -0.5) * _INV_SQRT_2PI)


gelu_op = Op("gelu", _float_only(_gelu_fwd, "GeluKernelImpl"), ("self",), ("approximate",), node="GeluBackward0",
             dtype=SAME)
gelu_op.defvjp(self=_gelu_grad)


def _stable_sigmoid(a):
    e = np.exp(-np.abs(a))
    return select(a >= 0, 1 / (1 + e), e / (1 + e))


def _silu_fwd(self):
    a = _up(self)
    return (a * _stable_sigmoid(a)).astype(self.dtype, copy=False)


silu_op = Op("silu", _float_only(_silu_fwd, "silu_cpu"), ("self",), node="SiluBackward0", dtype=SAME)


def _silu_grad(grad, self):
    s = sigmoid(self)  # d/dx xσ(x) = σ(1 + x(1 - σ))
    return grad * (s * (self * (1.0 - s) + 1.0))


silu_op.defvjp(self=_silu_grad)


def _mish_fwd(self):
    a = _up(self)
    with quiet():
        r = a * np.tanh(np.logaddexp(0.0, a))
    return r.astype(self.dtype, copy=False)


def _mish_grad(grad, self):
    t = tanh(softplus_op(self, 1, 20))  # d/dx x tanh(sp(x)) = tanh(sp) + x σ(x) (1 - tanh²(sp))
    return grad * (t + self * sigmoid(self) * (1.0 - t * t))


mish_op = Op("mish", _float_only(_mish_fwd, "mish_cpu"), ("self",), node="MishBackward0", dtype=SAME)
mish_op.defvjp(self=_mish_grad)


def _hardsigmoid_fwd(self):
    return np.clip(self / 6.0 + 0.5, 0.0, 1.0).astype(self.dtype, copy=False)


hardsigmoid_op = Op("hardsigmoid", _float_only(_hardsigmoid_fwd, "hardsigmoid_cpu"), ("self",),
                    node="HardsigmoidBackward0", dtype=SAME)
hardsigmoid_op.defvjp(self=lambda grad, self: where((self > -3.0) & (self < 3.0), grad / 6.0, 0.0))


def _hardswish_fwd(self):
    return (self * np.clip(self + 3.0, 0.0, 6.0) / 6.0).astype(self.dtype, copy=False)


hardswish_op = Op("hardswish", _float_only(_hardswish_fwd, "hardswish_cpu"), ("self",), node="HardswishBackward0",
                  dtype=SAME)
# torch: 0 below -3, x/3 + 1/2 on [-3, 3], 1 above
hardswish_op.defvjp(self=lambda grad, self: where(self < -3.0, 0.0, where(self <= 3.0, grad * (self / 3.0 + 0.5),
                                                                            grad)))


def _logsigmoid_fwd(self):
    a = _up(self)
    with quiet():
        r = np.minimum(a, 0) - np.log1p(np.exp(-np.abs(a)))
    return r.astype(self.dtype, copy=False)


logsigmoid_op = Op("log_sigmoid", _float_only(_logsigmoid_fwd, "log_sigmoid_cpu"), ("self",),
                   node="LogSigmoidBackward0", dtype=SAME)
logsigmoid_op.defvjp(self=lambda grad, self: grad * sigmoid(-self))  # d/dx log σ(x) = σ(-x)


def _hardshrink_fwd(self, lambd):
    return select((self >= -lambd) & (self <= lambd), 0, self).astype(self.dtype, copy=False)


hardshrink_op = Op("hardshrink", _float_only(_hardshrink_fwd, "hardshrink_cpu"), ("self",), ("lambd",),
                   node="HardshrinkBackward0", dtype=SAME)
hardshrink_op.defvjp(self=lambda grad, self, lambd: where((self >= -lambd) & (self <= lambd), 0.0, grad))


def _softshrink_fwd(self, lambd):
    r = np.where(self > lambd, self - lambd, np.where(self < -lambd, self + lambd, 0))
    return r.astype(self.dtype, copy=False)


softshrink_op = Op("softshrink", _float_only(_softshrink_fwd, "softshrink_check"), ("self",), ("lambd",),
                   node="SoftshrinkBackward0", dtype=SAME)
softshrink_op.defvjp(self=lambda grad, self, lambd: where((self >= -lambd) & (self <= lambd), 0.0, grad))


def _glu_fwd(self, dim):
    if self.dtype.kind not in "fV":
        raise NotImplementedError(f"\"glu_cpu\" not implemented for '{_tname(self.dtype)}'")
    h = self.shape[dim] // 2
    a, b = np.split(_up(self), [h], axis=dim)
    return (a * _stable_sigmoid(b)).astype(self.dtype, copy=False)


def _glu_grad(grad, self, dim):
    h = self.shape[dim] // 2
    a, b = S.narrow(self, dim, 0, h), S.narrow(self, dim, h, h)
    s = sigmoid(b)  # d/da aσ(b) = σ(b); d/db = aσ(b)(1 - σ(b))
    return S.cat([grad * s, grad * a * s * (1.0 - s)], dim, [h, h])


glu_op = Op("glu", _glu_fwd, ("self",), ("dim",), node="GluBackward0", dtype=SAME)
glu_op.defvjp(self=_glu_grad)


def _prelu_fwd(self, weight):
    if self.dtype.kind not in "fV":
        raise NotImplementedError(f"\"prelu_cpu\" not implemented for '{_tname(self.dtype)}'")
    w = _prelu_shape(weight, self.ndim)
    return select(self > 0, self, self * w).astype(self.dtype, copy=False)


def _prelu_shape(weight, ndim):
    """The weight (one value, or one per channel = dim 1) shaped to broadcast against the input."""
    if weight.ndim == 0 or ndim < 2 or weight.shape[0] == 1:
        return S.reshape(weight, ()) if weight.ndim else weight
    return S.reshape(weight, (weight.shape[0],) + (1,) * (ndim - 2))


def _prelu_grad_weight(grad, self, weight):
    g = where(self > 0, 0.0, grad * self)
    if weight.ndim == 0:
        return sum_dim(g, tuple(range(g.ndim)), False)
    if self.ndim < 2 or weight.shape[0] == 1:
        return S.reshape(sum_dim(g, tuple(range(g.ndim)), False), weight.shape)
    return sum_dim(g, (0,) + tuple(range(2, g.ndim)), False)


prelu_op = Op("prelu", _prelu_fwd, ("self", "weight"), node="PreluKernelBackward0", dtype=SAME)
prelu_op.defvjp(self=lambda grad, self, weight: where(self > 0, grad, grad * _prelu_shape(weight, self.ndim)),
                weight=_prelu_grad_weight)


def _clamp_min_fwd(self, min):
    return np.maximum(self, min).astype(self.dtype, copy=False)


clamp_min_op = Op("clamp_min", _clamp_min_fwd, ("self",), ("min",), node="ClampMinBackward0", dtype=SAME)
clamp_min_op.defvjp(self=lambda grad, self, min: where(self >= min, grad, 0.0))  # 1 at the bound, as torch


def clamp_min(input: Tensor, min: float) -> Tensor:
    """max(input, min) with torch's ClampMinBackward0 node (used by the margin losses)."""
    return clamp_min_op(input, min)


# -- nll_loss ---------------------------------------------------------------------------------------------------
def _nll_pick(self, target, weight, ignore_index):
    """The class dim is 1 (0 for a 1-d input). Returns (input values at the targets, their weights)."""
    C = self.shape[1] if self.ndim >= 2 else self.shape[0]
    if self.ndim == 2 and target.dtype == np.int64 and weight is None and self.size and \
            not 0 <= ignore_index < C and not (target.view(np.uint64) >= C).any():
        # (the common case: every target a class index, none ignored; the same values as below)
        n = target.shape[0]
        return target, self[np.arange(n), target], np.ones(n, self.dtype)
    valid = target != ignore_index
    bad = valid & ((target < 0) | (target >= C))
    if bad.any():
        raise IndexError(f"Target {int(target[bad].flat[0])} is out of bounds.")
    tt = np.where(valid, target, 0)
    if self.ndim == 1:
        picked = self[tt]
    else:
        picked = np.take_along_axis(self, np.expand_dims(tt, 1), axis=1).squeeze(1) if self.size else \
            np.zeros(tt.shape, self.dtype)
    w = (weight[tt] if weight is not None else np.ones(tt.shape, self.dtype)) * valid
    return tt, picked, w.astype(self.dtype, copy=False)


def _nll_fwd(self, target, weight, reduction, ignore_index):
    if self.dtype.kind not in "fV":
        raise NotImplementedError(f"\"nll_loss_out_frame\" not implemented for '{_tname(self.dtype)}'")
    _, picked, w = _nll_pick(self, target, weight, ignore_index)
    loss = -(picked * w)
    if reduction == "none":
        return loss.astype(self.dtype, copy=False)
    if reduction == "sum":
        return np.asarray(np.sum(loss), self.dtype)
    with quiet():
        return np.asarray(np.sum(loss) / np.sum(w), self.dtype)


def _nll_backward_fwd(grad, target, weight, reduction, ignore_index, shape):
    """The gradient of nll_loss: -w·grad at each target position (divided by the total weight for mean)."""
    out = np.zeros(shape, grad.dtype)
    tt = np.where(target != ignore_index, target, 0)
    w = (weight[tt] if weight is not None else np.ones(tt.shape, grad.dtype)) * (target != ignore_index)
    w = w.astype(grad.dtype, copy=False)
    if reduction == "mean":
        total = np.sum(w)
        # all targets ignored: torch's gradient is 0 (written without a Python branch on the data, which
        # ndgrad.compile could not replay)
        g = np.divide(grad, total, out=np.zeros_like(grad), where=total != 0)
    else:
        g = grad
    vals = -(w * g)
    if len(shape) == 1:
        out[tt] = vals
    elif len(shape) == 2 and out.size:
        out[np.arange(shape[0]), tt] = vals  # (put_along_axis on dim 1, without its Python steps)
    elif out.size:
        np.put_along_axis(out, np.expand_dims(tt, 1), np.expand_dims(vals, 1), axis=1)
    return out


nll_backward_op = Op("nll_loss_backward", _nll_backward_fwd, ("grad",),
                     ("target", "weight", "reduction", "ignore_index", "shape"), node="NllLossBackwardBackward0",
                     dtype=SAME)


def _make_nll(node):
    op = Op("nll_loss", _nll_fwd, ("self",), ("target", "weight", "reduction", "ignore_index"), node=node,
            dtype=SAME)
    op.defvjp(self=lambda grad, self_shape, target, weight, reduction, ignore_index:
              nll_backward_op(grad, target, weight, reduction, ignore_index, tuple(self_shape)))
    return op


nll_op = _make_nll("NllLossBackward0")
nll2d_op = _make_nll("NllLoss2DBackward0")
# nll_loss is linear in its input: the derivative of its backward (in grad) is nll_loss itself
nll_backward_op.defvjp(grad=lambda grad, target, weight, reduction, ignore_index:
                       nll_op(grad, target, weight, reduction, ignore_index))


# -- pointwise losses with their own nodes: (input, target) -> elementwise loss -> reduction ----------------------
def _reduce(l, reduction):
    if reduction == "none":
        return l
    if reduction == "sum":
        return np.asarray(full_sum(l), l.dtype)
    if l.size == 0:
        return np.asarray(np.nan, l.dtype)
    return np.asarray(mean_of(l), l.dtype)


def _scale(grad, reduction, self, target):
    """The incoming gradient of a reduced loss, per element (mean: divided by the element count)."""
    if reduction == "mean":
        n = math.prod(np.broadcast_shapes(tuple(self.shape), tuple(target.shape)))
        return grad / n if n else grad
    return grad


def _loss_op(name, node, fwd, d_self, d_target=None, params=("reduction",), kernel=None):
    """An op of (self, target) whose formulas are `g * d_self(...)`, g the per-element incoming gradient."""
    def forward(self, target, *ps):
        if self.dtype.kind not in "fV":
            raise NotImplementedError(f"\"{kernel or name}\" not implemented for '{_tname(self.dtype)}'")
        with quiet():
            l = fwd(_up(self), _up(target), *ps[:-1])
        return _reduce(np.asarray(l).astype(self.dtype, copy=False), ps[-1])

    op = Op(name, forward, ("self", "target"), params, node=node)
    extra = params[:-1]
    ns: dict = {"_scale": _scale, "d_self": d_self, "d_target": d_target}
    args = ", ".join(extra)
    sep = ", " if extra else ""
    src = (f"def fs(grad, self, target, {args}{sep}reduction):\n"
           f"    return _scale(grad, reduction, self, target) * d_self(self, target{sep}{args})\n")
    if d_target is not None:
        src += (f"def ft(grad, self, target, {args}{sep}reduction):\n"
                f"    return _scale(grad, reduction, self, target) * d_target(self, target{sep}{args})\n")
    exec(src, ns)  # formulas need named parameters: they say what the node saves
    if d_target is not None:
        op.defvjp(self=ns["fs"], target=ns["ft"])
    else:
        op.defvjp(self=ns["fs"], target=_not_differentiable(name, "target"))
    return op


def _not_differentiable(name, arg):
    def f(grad):
        raise RuntimeError(f"The function '{name}' is not differentiable with respect to argument '{arg}'. This "
                           "input cannot have requires_grad True.")
    return f


mse_op = _loss_op("mse_loss", "MseLossBackward0", lambda x, y: (x - y) * (x - y),
                  lambda self, target: (self - target) * 2.0, lambda self, target: (target - self) * 2.0,
                  kernel="mse_cpu")


def _smooth_l1_fwd(x, y, beta):
    z = np.abs(x - y)
    return select(z < beta, 0.5 * z * z / beta, z - 0.5 * beta)


def _smooth_l1_d(self, target, beta):
    d = self - target
    return where((d < beta) & (d > -beta), d / beta, sign(d))


smooth_l1_op = _loss_op("smooth_l1_loss", "SmoothL1LossBackward0", _smooth_l1_fwd, _smooth_l1_d,
                        lambda self, target, beta: -_smooth_l1_d(self, target, beta), ("beta", "reduction"),
                        kernel="smooth_l1_cpu")


def _huber_fwd(x, y, delta):
    z = np.abs(x - y)
    return select(z < delta, 0.5 * z * z, delta * (z - 0.5 * delta))


def _huber_d(self, target, delta):
    d = self - target
    return where((d < delta) & (d > -delta), d, sign(d) * delta)


huber_op = _loss_op("huber_loss", "HuberLossBackward0", _huber_fwd, _huber_d,
                    lambda self, target, delta: -_huber_d(self, target, delta), ("delta", "reduction"),
                    kernel="huber_cpu")


def _soft_margin_fwd(x, y):
    z = -y * x  # log(1 + e^z), stable
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


soft_margin_op = _loss_op("soft_margin_loss", "SoftMarginLossBackward0", _soft_margin_fwd,
                          lambda self, target: -target * sigmoid(-target * self), kernel="soft_margin_loss")


def _bce_fwd(x, y, weight):
    if np.any((x < 0) | (x > 1)) or np.any(np.isnan(x)):
        raise RuntimeError("all elements of input should be between 0 and 1")
    l = -(y * np.maximum(np.log(x), -100.0) + (1 - y) * np.maximum(np.log1p(-x), -100.0))
    return l * weight if weight is not None else l


def _bce_d(self, target, weight):
    # d/dx: (x - y) / max(x (1 - x), 1e-12) (torch's guard)
    r = (self - target) / _clamp_min(self * (1.0 - self), 1e-12)
    return r * _const(weight, self) if weight is not None else r


def _bce_dt(self, target, weight):
    r = _log(1.0 - self) - _log(self)  # d/dy, unclamped as torch's
    return r * _const(weight, self) if weight is not None else r


bce_op = _loss_op("binary_cross_entropy", "BinaryCrossEntropyBackward0", _bce_fwd, _bce_d, _bce_dt,
                  ("weight", "reduction"))


def _bcel_fwd(x, y, weight, pos_weight):
    sp = np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x)))  # softplus(-x) = -log σ(x), stable
    if pos_weight is not None:
        l = (1 - y) * x + (1 + (pos_weight - 1) * y) * sp
    else:
        l = (1 - y) * x + sp
    return l * weight if weight is not None else l


def _bcel_d(self, target, weight, pos_weight):
    if pos_weight is not None:  # (1 - y) - (1 + (pw - 1) y) σ(-x)
        r = (1.0 - target) - (1.0 + (_const(pos_weight, self) - 1.0) * target) * sigmoid(-self)
    else:
        r = sigmoid(self) - target
    return r * _const(weight, self) if weight is not None else r


def _bcel_dt(self, target, weight, pos_weight):
    if pos_weight is not None:  # -x + (pw - 1) softplus(-x)
        r = (_const(pos_weight, self) - 1.0) * softplus_op(-self, 1, 20) - self
    else:
        r = -self
    return r * _const(weight, self) if weight is not None else r


bce_logits_op = _loss_op("binary_cross_entropy_with_logits", "BinaryCrossEntropyWithLogitsBackward0", _bcel_fwd,
                         _bcel_d, _bcel_dt, ("weight", "pos_weight", "reduction"), kernel="log_sigmoid_cpu")


def _const(w, like):
    """A weight saved as an array, as a constant Tensor when the formula runs on Tensors (create_graph)."""
    if w is not None and isinstance(like, Tensor) and not isinstance(w, Tensor):
        from .._tensor import _wrap
        return _wrap(w)
    return w


def _clamp_min(x, lo):
    from .pointwise import clamp
    return clamp(x, lo, None)


def _log(x):
    from .pointwise import log
    return log(x)


# -- top-level functions torch has --------------------------------------------------------------------------------
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input: Tensor) -> Tensor:
    """Mirrors `torch.selu`: scale·elu(x, alpha) with the self-normalising constants."""
    return elu_op(_t(input, "selu"), _SELU_ALPHA, _SELU_SCALE, 1.0)


def celu(input: Tensor, alpha: float = 1.0) -> Tensor:
    """Mirrors `torch.celu`: max(0, x) + min(0, alpha·(exp(x/alpha) - 1))."""
    _t(input, "celu")
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return celu_op(input, alpha, 1.0, 1.0 / alpha)


def threshold(input: Tensor, threshold: float, value: float) -> Tensor:
    """Mirrors `torch.threshold`: x where x > threshold, else value."""
    return threshold_op(_t(input, "threshold"), threshold, value)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """Mirrors `torch.hardshrink`: x where |x| > lambd, else 0."""
    return hardshrink_op(_t(input, "hardshrink"), lambd)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """Mirrors `torch.prelu`: max(0, x) + weight·min(0, x), weight one value or one per channel (dim 1)."""
    _t(input, "prelu")
    _t(weight, "prelu", "weight", 2)
    if weight.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.ndim}")
    n = weight._data.size
    if input.ndim == 0:
        if n != 1:
            raise RuntimeError("Not allow zero-dim input tensor.")
    elif n != 1:
        channels = input.shape[1] if input.ndim >= 2 else 1
        if n != channels:
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                               f"{n} and channel size = {channels}.")
    if weight.dtype != input.dtype:
        raise RuntimeError(f"prelu: Type promoting not supported. Got {_tname(input._data.dtype)} and "
                           f"{_tname(weight._data.dtype)}")
    return prelu_op(input, weight)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Mirrors `torch.nn.functional.cosine_similarity`: Σ x1·x2 / (max(‖x1‖, eps)·max(‖x2‖, eps)) along dim."""
    _t(x1, "cosine_similarity", "x1")
    _t(x2, "cosine_similarity", "x2", 2)
    shape = _broadcast_shape(x1.shape, x2.shape)
    nd = len(shape)
    d = _wrap_dim(dim, nd)
    from .. import _ops as O
    from .. import _dtype as D
    dt = D.result_type_of(((x1.dtype, 2 if x1.ndim else 1), (x2.dtype, 2 if x2.ndim else 1)))
    common = np.dtype(dt.np)
    if common.kind not in "fV":
        raise RuntimeError(f"expected common dtype to be floating point, yet common dtype is {_tname(common)}")
    x1, x2 = x1.to(dt), x2.to(dt)
    if tuple(x1.shape) != shape:
        x1 = x1.expand(shape)
    if tuple(x2.shape) != shape:
        x2 = x2.expand(shape)
    if nd == 0:
        n1, n2 = x1.abs(), x2.abs()
    else:
        n1, n2 = O.norm(x1, 2, d, keepdim=True), O.norm(x2, 2, d, keepdim=True)
    # torch clamps the norms in place under no_grad: the values are clamped, the gradient is the norm's own
    n1 = n1 + (O.clamp(n1.detach(), min=eps) - n1.detach())
    n2 = n2 + (O.clamp(n2.detach(), min=eps) - n2.detach())
    return ((x1 / n1) * (x2 / n2)).sum(d)


def _broadcast_shape(a: tuple, b: tuple) -> tuple:
    n = max(len(a), len(b))
    pa, pb = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    out = []
    for i in range(n):
        if pa[i] != pb[i] and pa[i] != 1 and pb[i] != 1:
            raise RuntimeError(f"The size of tensor a ({pa[i]}) must match the size of tensor b ({pb[i]}) at "
                               f"non-singleton dimension {i}")
        out.append(max(pa[i], pb[i]) if 0 not in (pa[i], pb[i]) else 0)
    return tuple(out)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """Mirrors `torch.nn.functional.pairwise_distance`: ‖x1 - x2 + eps‖_p over the last dim."""
    _t(x1, "pairwise_distance", "x1")
    _t(x2, "pairwise_distance", "x2", 2)
    from .. import _ops as O
    diff = x1 - x2 + eps
    if diff.ndim == 0:
        return diff.abs()
    return O.norm(diff, p, -1, keepdim=keepdim)


def _inplace(input: Tensor, fn: Any, *args: Any) -> Tensor:
    input._check_inplace()
    return input._set_inplace(fn(input, *args))


def relu_(input: Tensor) -> Tensor:
    """Mirrors `torch.relu_` (in place)."""
    from .pointwise import relu
    return _inplace(_t(input, "relu_"), relu)


def selu_(input: Tensor) -> Tensor:
    """Mirrors `torch.selu_` (in place; node EluBackward1 as torch's)."""
    return _inplace(_t(input, "selu_"), elu_inplace_op, _SELU_ALPHA, _SELU_SCALE, 1.0)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """Mirrors `torch.celu_` (in place; node CeluBackward1 as torch's)."""
    _t(input, "celu_")
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return _inplace(input, celu_inplace_op, float(alpha), 1.0, 1.0 / alpha)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """Mirrors `torch.threshold_` (in place; node ThresholdBackward1 as torch's)."""
    return _inplace(_t(input, "threshold_"), threshold_inplace_op, threshold, value)


def _hardshrink_method(self: Tensor, lambd: float = 0.5) -> Tensor:
    return hardshrink(self, lambd)


def _prelu_method(self: Tensor, weight: Tensor) -> Tensor:
    return prelu(self, weight)


METHODS: dict = {"softmax": _softmax_method, "log_softmax": _log_softmax_method, "hardshrink": _hardshrink_method,
                 "prelu": _prelu_method}


# -- forward mode (autograd/forward_ad.py): the pointwise activations have diagonal Jacobians, so their vjp
# formulas applied to the tangent give the jvp; the other ops here transpose their vjp
for _op in (elu_op, celu_op, leaky_relu_op, hardtanh_op, threshold_op, elu_inplace_op, celu_inplace_op,
            leaky_relu_inplace_op, threshold_inplace_op, gelu_op, silu_op, mish_op, hardsigmoid_op, hardswish_op,
            logsigmoid_op, hardshrink_op, softshrink_op, clamp_min_op):
    _op.defjvp(elementwise=True)
